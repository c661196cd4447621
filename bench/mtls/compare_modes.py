"""Medians of alternating benchmark rounds, and the second mode's rate over the first's.

    compare_modes.py FILE NAME COLUMN...

FILE holds one line per round, "MODE VALUE...", the two modes alternating (first mode, then the
second, round after round). COLUMN names each value: the first is the rate compared (e.g.
"calls/s"); a name ending in "ms" is a latency; "errors" and "non2xx" are summed over all rounds.
"""
import statistics
import sys


def main(path, name, columns):
    rows = [line.split() for line in open(path) if line.strip()]
    modes = list(dict.fromkeys(r[0] for r in rows))
    if len(modes) != 2:
        sys.exit(f"{path}: want rounds of two modes, found {modes}")
    base, other = modes

    def median(mode, col):
        return statistics.median(float(r[col]) for r in rows if r[0] == mode)

    for col, column in enumerate(columns, start=1):
        if column in ("errors", "non2xx"):
            print(f"{name} {column}: {sum(int(float(r[col])) for r in rows)} over all rounds")
            continue
        fmt = ".2f" if column.endswith("ms") else ".0f"
        line = (f"{name} {column} median: {base} {median(base, col):{fmt}}, "
                f"{other} {median(other, col):{fmt}}")
        if col == 1:
            line += f", {other}/{base} {median(other, col) / median(base, col):.3f}"
        print(line)
    # Each round of the second mode ran right after one of the first: their ratio, round by round.
    paired = [float(o[1]) / float(b[1]) for b, o in zip(rows[0::2], rows[1::2])]
    print(f"{name} {other}/{base} per round: {' '.join(f'{r:.3f}' for r in paired)}, "
          f"median {statistics.median(paired):.3f}")


if __name__ == "__main__":
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
