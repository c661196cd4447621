"""A training script that lives outside the image (docs/code-sync.md).

test/e2e/code_sync_on_real_node_test.sh commits this file, with a marker.txt of its own, to a git
repository served on the real node's address (and packs both into a .tar.gz served over HTTP);
the job's `kubedl.io/git-sync-config` annotation makes the reconciler add an init container that
fetches them into the pod, and the training container runs them from the mounted checkout:

    python3 models/train.py --steps 30          (workingDir /workspace, destPath models)

It needs nothing but Python's standard library, so any image with python3 runs it. It prints
where its code came from (the marker and, for a git checkout, the commit in .git/HEAD), then
fits y = 3x + 2 by stochastic gradient descent on data generated from its rank, one line a step:

    code-sync: rank=0 revision=<commit or -> marker=<marker.txt>
    rank=0 step=1 loss=12.345678
    ...
    rank=0 done final_loss=0.001234

The rank is RANK (PyTorchJob, XGBoostJob) or TF_CONFIG's task index (TFJob), else 0. With
MASTER_ADDR, MASTER_PORT and WORLD_SIZE > 1 (an XGBoostJob or a PyTorchJob with a Master) the
ranks meet over TCP: every other rank sends its final loss to rank 0, which listens on
MASTER_PORT and prints

    rank=0 gathered world_size=2 final_losses=0:0.001234,1:0.002345

So the Master stays up until every worker ran, as in real distributed training.
"""
import argparse
import json
import os
import random
import socket
import time


def rank() -> str:
    if os.environ.get("RANK"):
        return os.environ["RANK"]
    tf_config = os.environ.get("TF_CONFIG")
    if tf_config:
        task = json.loads(tf_config).get("task", {})
        return str(task.get("index", 0))
    return "0"


def read(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read().strip()
    except OSError:
        return "-"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--gather-timeout", type=float, default=300.0)
    args = parser.parse_args()
    r = rank()
    here = os.path.dirname(os.path.abspath(__file__))
    # A detached checkout (what the git-sync init container leaves) has the commit in .git/HEAD.
    print(f"code-sync: rank={r} revision={read(os.path.join(here, '.git', 'HEAD'))} "
          f"marker={read(os.path.join(here, 'marker.txt'))}", flush=True)

    rng = random.Random(int(r) if r.isdigit() else 0)
    data = [(x, 3.0 * x + 2.0 + rng.gauss(0.0, 0.05))
            for x in (rng.uniform(-1.0, 1.0) for _ in range(256))]
    w, b = 0.0, 0.0
    loss = 0.0
    for step in range(1, args.steps + 1):
        rng.shuffle(data)
        for i in range(0, len(data), 32):
            batch = data[i:i + 32]
            gw = sum(2.0 * (w * x + b - y) * x for x, y in batch) / len(batch)
            gb = sum(2.0 * (w * x + b - y) for x, y in batch) / len(batch)
            w -= args.lr * gw
            b -= args.lr * gb
        loss = sum((w * x + b - y) ** 2 for x, y in data) / len(data)
        print(f"rank={r} step={step} loss={loss:.6f}", flush=True)
    print(f"rank={r} done final_loss={loss:.6f} w={w:.4f} b={b:.4f}", flush=True)
    gather(r, loss, args.gather_timeout)


def gather(r: str, loss: float, timeout: float) -> None:
    addr, port = os.environ.get("MASTER_ADDR"), int(os.environ.get("MASTER_PORT") or 0)
    world = int(os.environ.get("WORLD_SIZE") or 1)
    if not addr or not port or world < 2:
        return
    deadline = time.monotonic() + timeout
    if r == "0":
        losses = {"0": f"{loss:.6f}"}
        with socket.create_server(("", port)) as server:
            while len(losses) < world:
                server.settimeout(max(0.1, deadline - time.monotonic()))
                try:
                    conn, _ = server.accept()
                except TimeoutError:
                    raise SystemExit(f"rank=0 heard from ranks {sorted(losses)} of {world} "
                                     f"in {timeout:.0f} s")
                with conn, conn.makefile("rw", encoding="utf-8") as f:
                    peer, peer_loss = f.readline().split()
                    losses[peer] = peer_loss
                    f.write("ok\n")
        joined = ",".join(f"{k}:{losses[k]}" for k in sorted(losses, key=int))
        print(f"rank=0 gathered world_size={world} final_losses={joined}", flush=True)
        return
    while True:
        try:
            with socket.create_connection((addr, port), timeout=5) as conn, \
                    conn.makefile("rw", encoding="utf-8") as f:
                f.write(f"{r} {loss:.6f}\n")
                f.flush()
                if f.readline().strip() == "ok":
                    print(f"rank={r} sent final_loss to {addr}:{port}", flush=True)
                    return
        except OSError as e:
            if time.monotonic() > deadline:
                raise SystemExit(f"rank={r} could not reach {addr}:{port}: {e}")
        time.sleep(1)


if __name__ == "__main__":
    main()
