#!/usr/bin/env python3
"""Helpers of tools/images/build.sh that assemble a root file system from this Debian machine.

    rootfs.py libs BINARY...          absolute paths of the shared libraries BINARY loads
                                      (its whole closure, as ldd resolves it, incl. the loader)
    rootfs.py copy ROOT PATH...       copies each host PATH into ROOT at the same path, keeping
                                      every symbolic link on the way (so /lib -> usr/lib, the
                                      loader's /lib64 link and libfoo.so.1 -> libfoo.so.1.2.3 are
                                      the same inside the image as on the host)
    rootfs.py packages PATH...        the Debian packages owning the files behind each PATH, one
                                      `name=version` a line, sorted; a PATH no package owns fails

Copying each library out of its installed Debian package is what a root file system builder
(mmdebstrap, debootstrap) would do by unpacking those packages, minus everything the binary never
loads (documentation, maintainer scripts, dpkg's database, a shell).
"""
import os
import re
import shutil
import subprocess
import sys


def libs(binaries: list) -> list:
    out = set()
    for binary in binaries:
        res = subprocess.run(["ldd", binary], capture_output=True, text=True)
        if res.returncode != 0:
            raise SystemExit(f"rootfs: ldd {binary} failed: {res.stderr.strip()}")
        for line in res.stdout.splitlines():
            line = line.strip()
            if "not found" in line:
                raise SystemExit(f"rootfs: {binary}: {line}")
            m = re.match(r"\S+ => (/\S+) \(0x", line) or re.match(r"(/\S+) \(0x", line)
            if m:
                out.add(m.group(1))
    return sorted(out)


def copy(root: str, path: str) -> None:
    """Copies host `path` to root+path, recreating each symlink met on the way."""
    parts = [p for p in path.split("/") if p]
    cur = "/"
    for i, part in enumerate(parts):
        host = os.path.join(cur, part)
        dst = root + host
        rest = parts[i + 1:]
        if os.path.islink(host):
            target = os.readlink(host)
            if not os.path.lexists(dst):
                os.makedirs(os.path.dirname(dst), mode=0o755, exist_ok=True)
                os.symlink(target, dst)
            # `cur` holds no symlink, so joining and normalising the target is exact.
            resolved = os.path.normpath(os.path.join(cur, target))
            copy(root, os.path.join(resolved, *rest))
            return
        if rest:
            if not os.path.isdir(host):
                raise SystemExit(f"rootfs: {host} is not a directory")
            os.makedirs(dst, mode=0o755, exist_ok=True)
            os.chmod(dst, 0o755)
        else:
            if os.path.isdir(host):
                raise SystemExit(f"rootfs: {host} is a directory; copy files")
            shutil.copyfile(host, dst)
            os.chmod(dst, os.stat(host).st_mode & 0o755 | 0o444)
        cur = host


def candidates(path: str) -> list:
    """The spellings dpkg may have recorded a file under (merged /usr: /lib/x vs /usr/lib/x)."""
    out = []
    for p in (path, os.path.realpath(path)):
        out.append(p)
        out.append(p[len("/usr"):] if p.startswith("/usr/") else "/usr" + p)
    return list(dict.fromkeys(out))


def packages(paths: list) -> list:
    queries = sorted({c for p in paths for c in candidates(p)})
    res = subprocess.run(["dpkg", "-S", *queries], capture_output=True, text=True)
    owner = {}
    for line in res.stdout.splitlines():
        if line.startswith("diversion ") or ": " not in line:
            continue
        pkgs, file = line.split(": ", 1)
        owner[file] = [p.strip().split(":")[0] for p in pkgs.split(",")]
    names = set()
    for p in paths:
        found = next((owner[c] for c in candidates(p) if c in owner), None)
        if found is None:
            raise SystemExit(f"rootfs: no Debian package owns {p}")
        names.update(found)
    res = subprocess.run(["dpkg-query", "-W", "-f=${Package}=${Version}\\n", *sorted(names)],
                         capture_output=True, text=True, check=True)
    return sorted(res.stdout.split())


def main() -> int:
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "libs":
        print("\n".join(libs(args)))
    elif cmd == "copy":
        for path in args[1:]:
            copy(args[0], path)
    elif cmd == "packages":
        print("\n".join(packages(args)))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
