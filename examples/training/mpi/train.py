"""Data-parallel logistic regression over Open MPI: every rank holds its own shard of generated
data, computes the gradient on it, and MPI_Allreduce sums the gradients (and the loss) of all
ranks, so every rank takes the same step and prints the same global loss.

The MPIJob's launcher starts it with mpirun (examples/training/mpi/mpijob.yaml):

    mpirun -np 2 ... python3 /opt/kubedl/training/mpi/train.py --steps 30

mpirun reads the hostfile the reconciler wrote (OMPI_MCA_orte_default_hostfile=/etc/mpi/hostfile,
one line per worker pod) and starts its daemon, orted, in each worker pod through the rsh agent
OMPI_MCA_plm_rsh_agent=/etc/mpi/kubexec.sh (`kubectl exec <pod> -- /bin/sh -c "orted ..."`); the
ranks run under those daemons, one per worker, and talk to each other over TCP. Their output goes
back to mpirun, so the launcher's log holds every rank's lines:

    rank=0 size=2 host=mpi-allreduce-worker-0 samples=2048 mpi="Open MPI v4.1.4"
    rank=0 step=1 loss=0.693147
    ...
    rank=0 done final_loss=0.123456 accuracy=0.97

Each rank also checks the allreduce itself (the sum of the ranks' numbers) before training, and
the loss it prints is the allreduced one, which differs from its own shard's.
It needs Debian's python3-mpi4py and python3-numpy, nothing else; no data is downloaded.
"""
import argparse
import os
import socket

import numpy as np
from mpi4py import MPI

FEATURES = 16


def say(line: str) -> None:
    """One write per line: mpirun forwards each rank's output as it reads it, so a line written in
    two pieces could be cut by another rank's line in the launcher's log."""
    os.write(1, (line + "\n").encode())


def shard(rank: int, samples: int) -> tuple[np.ndarray, np.ndarray]:
    """This rank's data: points labelled by a fixed hyperplane plus noise (all ranks share it)."""
    truth = np.random.default_rng(1234).normal(size=FEATURES)
    rng = np.random.default_rng(1000 + rank)
    x = rng.normal(size=(samples, FEATURES))
    logits = x @ truth + rng.normal(scale=0.5, size=samples)
    return x, (logits > 0).astype(np.float64)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--samples", type=int, default=2048, help="samples per rank")
    parser.add_argument("--lr", type=float, default=0.5)
    args = parser.parse_args()

    comm = MPI.COMM_WORLD
    rank, size = comm.Get_rank(), comm.Get_size()
    version = MPI.Get_library_version().split(",")[0].strip("\x00 \n")
    say(f"rank={rank} size={size} host={socket.gethostname()} samples={args.samples} "
          f"mpi=\"{version}\"")

    # The allreduce itself: every rank contributes rank + 1, everyone must see 1 + 2 + ... + size.
    total = comm.allreduce(rank + 1, op=MPI.SUM)
    if total != size * (size + 1) // 2:
        raise SystemExit(f"rank={rank} allreduce gave {total}, want {size * (size + 1) // 2}")
    hosts = comm.allgather(socket.gethostname())
    say(f"rank={rank} allreduce ok hosts={','.join(hosts)}")

    x, y = shard(rank, args.samples)
    w = np.zeros(FEATURES)
    n_total = comm.allreduce(len(y), op=MPI.SUM)
    loss = float("nan")
    for step in range(1, args.steps + 1):
        p = 1.0 / (1.0 + np.exp(-(x @ w)))
        eps = 1e-12
        local = np.empty(FEATURES + 1)
        local[:FEATURES] = x.T @ (p - y)                      # this shard's gradient (summed)
        local[FEATURES] = -np.sum(y * np.log(p + eps) + (1 - y) * np.log(1 - p + eps))
        summed = np.empty_like(local)
        comm.Allreduce(local, summed, op=MPI.SUM)             # gradient and loss of every rank
        loss = summed[FEATURES] / n_total                     # loss before this step's update
        w -= args.lr * summed[:FEATURES] / n_total
        say(f"rank={rank} step={step} loss={loss:.6f}")

    correct = comm.allreduce(int(np.sum(((x @ w) > 0) == (y > 0.5))), op=MPI.SUM)
    say(f"rank={rank} done final_loss={loss:.6f} accuracy={correct / n_total:.4f}")


if __name__ == "__main__":
    main()
