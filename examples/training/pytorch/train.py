#!/usr/bin/env python3
"""Data-parallel training with PyTorch DDP over gloo (CPU), the way a PyTorchJob runs it.

Two ways to start it, both with the environment KubeDL's reconciler sets (SPEC section 4):

  plain      python3 train.py
             every pod runs one process with MASTER_ADDR, MASTER_PORT, RANK and WORLD_SIZE
             (examples/training/pytorch/pytorchjob.yaml: Master + Workers);
  elastic    torchrun --nproc_per_node=1 train.py
             torchrun reads PET_RDZV_ENDPOINT, PET_RDZV_BACKEND, PET_NNODES, PET_MAX_RESTARTS
             (pytorchjob-elastic.yaml: Workers and an elasticPolicy); it rendezvouses, then sets
             RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT for this process.

The task: a small MLP learns to imitate a fixed random "teacher" network on inputs generated per
rank and step (same seed on every rank for the teacher, no data read from anywhere). Every step
each rank prints `rank=R step=S loss=L` (its own batch's mean squared error); at the end
`rank=R done final_loss=L steps=N`.

Losing a peer (plain mode). A rank whose process dies (e.g. killed, exit 137) is recreated by the
reconciler under restartPolicy ExitCode. The others do not fail with it: their collective raises,
they leave the broken process group and wait in the next "generation"; the new process of the
lost rank joins that generation, DDP copies rank 0's model to every rank, and training goes on
from rank 0's step. The generations are kept in a TCPStore that rank 0 serves on MASTER_PORT and
that outlives the process groups; a rank learns it is a new incarnation from a counter in that
store (the recreated pod keeps nothing of its predecessor). Under torchrun, restarts are
torchrun's job (PET_MAX_RESTARTS), so a lost peer is an error there.

--fail-rank R --fail-step S makes rank R raise a real Python exception at step S (exit code 1):
a permanent failure under ExitCode or Never.
"""
import argparse
import datetime
import os
import socket
import sys
import time

import torch
import torch.distributed as dist
import torch.nn as nn
from torch.nn.parallel import DistributedDataParallel as DDP


def log(rank, msg):
    print(f"rank={rank} {msg}", flush=True)


def arguments():
    env = os.environ.get
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=int(env("TRAIN_STEPS", "40")))
    p.add_argument("--batch", type=int, default=int(env("TRAIN_BATCH", "128")))
    p.add_argument("--lr", type=float, default=float(env("TRAIN_LR", "0.05")))
    p.add_argument("--step-delay", type=float, default=float(env("TRAIN_STEP_DELAY", "0")),
                   help="seconds to sleep after each step (makes a run last long enough to be "
                        "interrupted without using more CPU)")
    p.add_argument("--fail-rank", type=int, default=int(env("TRAIN_FAIL_RANK", "-1")))
    p.add_argument("--fail-step", type=int, default=int(env("TRAIN_FAIL_STEP", "-1")))
    p.add_argument("--max-generations", type=int, default=4,
                   help="process groups formed at most (plain mode), i.e. peers lost + 1")
    p.add_argument("--timeout", type=float, default=float(env("TRAIN_TIMEOUT", "300")),
                   help="seconds to wait for peers (store, process group, collectives)")
    return p.parse_args()


class Model(nn.Module):
    def __init__(self, width=64):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(16, width), nn.Tanh(), nn.Linear(width, 1))

    def forward(self, x):
        return self.net(x)


def teacher():
    g = torch.Generator().manual_seed(1234)
    w1 = torch.randn(16, 32, generator=g) / 4
    w2 = torch.randn(32, 1, generator=g) / 4
    return lambda x: torch.tanh(x @ w1) @ w2


def batch(rank, step, size, target):
    g = torch.Generator().manual_seed(100_000 * (rank + 1) + step)
    x = torch.randn(size, 16, generator=g)
    return x, target(x) + 0.01 * torch.randn(size, 1, generator=g)


def train(args, rank, world, model, opt, start_step, on_step):
    """Runs steps start_step.. on the current process group; returns the last loss."""
    ddp = DDP(model)  # copies rank 0's parameters to every rank
    target = teacher()
    loss_fn = nn.MSELoss()
    loss = None
    for step in range(start_step, args.steps):
        if rank == args.fail_rank and step == args.fail_step:
            raise ValueError(f"rank {rank}: bad batch at step {step} (injected with --fail-step)")
        x, y = batch(rank, step, args.batch, target)
        opt.zero_grad()
        out = loss_fn(ddp(x), y)
        out.backward()  # all-reduces the gradients over gloo
        opt.step()
        loss = out.item()
        log(rank, f"step={step} loss={loss:.6f}")
        on_step(step + 1)
        if args.step_delay:
            time.sleep(args.step_delay)
    return loss


def run_torchrun(args):
    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    restart = os.environ.get("TORCHELASTIC_RESTART_COUNT", "0")
    dist.init_process_group("gloo", init_method="env://",
                            timeout=datetime.timedelta(seconds=args.timeout))
    log(rank, f"start mode=torchrun world={world} host={socket.gethostname()} "
              f"master={os.environ['MASTER_ADDR']}:{os.environ['MASTER_PORT']} "
              f"node_rank={os.environ.get('GROUP_RANK', '?')} restart={restart}")
    torch.manual_seed(0)
    model = Model()
    opt = torch.optim.SGD(model.parameters(), lr=args.lr)
    loss = train(args, rank, world, model, opt, 0, lambda s: None)
    dist.barrier()
    dist.destroy_process_group()
    log(rank, f"done final_loss={loss:.6f} steps={args.steps}")


def run_plain(args):
    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    addr, port = os.environ["MASTER_ADDR"], int(os.environ["MASTER_PORT"])
    timeout = datetime.timedelta(seconds=args.timeout)
    # Rank 0 serves the store on every interface; its own client needs no DNS.
    store = dist.TCPStore("127.0.0.1" if rank == 0 else addr, port, world, rank == 0,
                          timeout=timeout, wait_for_workers=False)
    incarnation = store.add(f"incarnation/{rank}", 1)
    log(rank, f"start mode=plain world={world} host={socket.gethostname()} master={addr}:{port} "
              f"incarnation={incarnation}")

    def generation():
        return store.add("generation", 0)

    def leave(gen):  # the first rank to see generation `gen` broken opens the next one
        if store.add(f"gen{gen}/broken", 1) == 1:
            store.add("generation", 1)

    def join():
        while True:
            gen = generation()
            if store.add(f"gen{gen}/joined", 0) < world:
                break
            # Formed already, with a previous process of this rank: that group is broken.
            leave(gen)
            deadline = time.time() + args.timeout
            while generation() == gen and time.time() < deadline:
                time.sleep(0.2)
        store.add(f"gen{gen}/joined", 1)
        dist.init_process_group("gloo", store=dist.PrefixStore(f"gen{gen}/", store),
                                rank=rank, world_size=world, timeout=timeout)
        return gen

    torch.manual_seed(0)
    model = Model()
    opt = torch.optim.SGD(model.parameters(), lr=args.lr)
    progress = {"step": 0}
    loss = None
    for _ in range(args.max_generations):
        gen = join()
        # Where to go on: rank 0's step (it never lost its state unless the job restarts).
        step = torch.tensor([progress["step"]])
        dist.broadcast(step, 0)
        log(rank, f"group generation={gen} from_step={int(step)}")
        try:
            loss = train(args, rank, world, model, opt, int(step),
                         lambda s: progress.__setitem__("step", s))
            dist.barrier()
            break
        except RuntimeError as e:  # a peer went away: gloo reports the broken connection
            log(rank, f"lost a peer in generation {gen}: {str(e).splitlines()[0][:160]}")
            leave(gen)
            try:
                dist.destroy_process_group()
            except Exception:  # the group is broken anyway
                pass
    else:
        raise SystemExit(f"rank {rank}: gave up after {args.max_generations} process groups")
    dist.destroy_process_group()
    log(rank, f"done final_loss={loss:.6f} steps={args.steps}")
    # Rank 0 serves the store: it stays until every rank is through with it.
    store.add("finished", 1)
    if rank == 0:
        deadline = time.time() + 60
        while store.add("finished", 0) < world and time.time() < deadline:
            time.sleep(0.1)


def main():
    # Progress and errors on one stream: the container runtime reads stdout and stderr through
    # two pipes, so a progress line printed just before a traceback can land after it in the
    # pod's log, whose last line is what FallbackToLogsOnError reports as the exit message.
    os.dup2(sys.stdout.fileno(), sys.stderr.fileno())
    args = arguments()
    torch.set_num_threads(1)  # several ranks share a small node
    if "TORCHELASTIC_RUN_ID" in os.environ or "LOCAL_RANK" in os.environ:
        run_torchrun(args)
    else:
        for key in ("MASTER_ADDR", "MASTER_PORT", "RANK", "WORLD_SIZE"):
            if key not in os.environ:
                sys.exit(f"{key} is not set: run me in a PyTorchJob with a Master, or with torchrun")
        run_plain(args)


if __name__ == "__main__":
    main()
