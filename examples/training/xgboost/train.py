"""Distributed XGBoost (rabit) for an XGBoostJob, the way the Kubeflow XGBoost operator's examples
run it: the Master (RANK 0) starts the rabit tracker on MASTER_PORT and trains as rank 0 too; every
replica joins the tracker at MASTER_ADDR:MASTER_PORT with its RANK as the task id, so rabit gives
it that rank, and then trains on its own shard. XGBoost's histogram building and the evaluation
metric go through rabit's allreduce, so every rank grows the same trees and sees the same loss.

The reconciler (SPEC section 4) sets, on every container of the job:
    MASTER_ADDR=<job>-master-0   MASTER_PORT=<the Master's xgboostjob-port>
    WORLD_SIZE=<Master + Workers>  RANK=<0 for the Master, 1 + index for a Worker>
    WORKER_ADDRS=<job>-worker-0,<job>-worker-1,...  WORKER_PORT=<the Workers' port>
It prints, per boosting round, the evaluation log loss over every rank's held-out data:

    rank=1 world_size=3 master=xgb-dist-master-0:9999 workers=xgb-dist-worker-0,xgb-dist-worker-1
    rank=1 step=1 loss=0.612345
    ...
    rank=1 done final_loss=0.201234 model_sha256=0123abcd...

The model's hash must be the same on every rank (one model, trained together).
It needs Debian's python3-xgboost (1.7) and python3-numpy; the data is generated.
"""
import argparse
import hashlib
import os
import socket
import sys
import time

import numpy as np
import xgboost as xgb
from xgboost import collective
from xgboost.tracker import RabitTracker

FEATURES = 10


def say(line: str) -> None:
    print(line, flush=True)


def env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        sys.exit(f"xgboost: env {name} is not set (the reconciler sets it on every XGBoostJob pod)")
    return value


def wait_for_name(host: str, timeout: float) -> str:
    """The Master's headless Service resolves once its pod has an address; rabit does not retry a
    name that does not resolve, so wait here."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return socket.getaddrinfo(host, None, socket.AF_INET)[0][4][0]
        except socket.gaierror as e:
            if time.monotonic() > deadline:
                sys.exit(f"xgboost: {host} did not resolve in {timeout:.0f} s: {e}")
            time.sleep(1)


def shard(rank: int, samples: int) -> tuple[np.ndarray, np.ndarray]:
    """This rank's data: a nonlinear rule shared by every rank, labels flipped with noise."""
    rng = np.random.default_rng(2000 + rank)
    x = rng.uniform(-1.0, 1.0, size=(samples, FEATURES))
    score = np.sin(3 * x[:, 0]) + x[:, 1] * x[:, 2] + 0.5 * x[:, 3] ** 2 - 0.2
    score += rng.normal(scale=0.3, size=samples)
    return x, (score > 0).astype(np.float32)


class PrintLoss(xgb.callback.TrainingCallback):
    def __init__(self, rank: int) -> None:
        super().__init__()
        self.rank = rank
        self.last = float("nan")

    def after_iteration(self, model, epoch, evals_log) -> bool:
        self.last = evals_log["eval"]["logloss"][-1]
        say(f"rank={self.rank} step={epoch + 1} loss={self.last:.6f}")
        return False


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--samples", type=int, default=4000, help="training samples per rank")
    parser.add_argument("--connect-timeout", type=float, default=180)
    args = parser.parse_args()

    master_addr, master_port = env("MASTER_ADDR"), int(env("MASTER_PORT"))
    world_size, rank = int(env("WORLD_SIZE")), int(env("RANK"))
    workers = [w for w in os.environ.get("WORKER_ADDRS", "").split(",") if w]
    say(f"rank={rank} world_size={world_size} master={master_addr}:{master_port} "
        f"workers={','.join(workers) or '-'} worker_port={os.environ.get('WORKER_PORT', '-')} "
        f"host={socket.gethostname()} xgboost={xgb.__version__}")
    if world_size > 1 and len(workers) + 1 != world_size:
        sys.exit(f"xgboost: WORKER_ADDRS names {len(workers)} workers, WORLD_SIZE {world_size} "
                 "wants one master and WORLD_SIZE - 1 workers")
    if not 0 <= rank < world_size:
        sys.exit(f"xgboost: RANK {rank} is outside 0..{world_size - 1}")

    tracker = None
    if rank == 0:
        # The tracker listens on the Master's port on every address of the pod; sortby "task"
        # gives each replica the rank it asked for (its task id is its RANK).
        tracker = RabitTracker(host_ip="0.0.0.0", n_workers=world_size, port=master_port,
                               sortby="task")
        tracker.start(world_size)
        say(f"rank=0 tracker listening on :{master_port} for {world_size} workers")

    master_ip = wait_for_name(master_addr, args.connect_timeout)
    say(f"rank={rank} tracker {master_addr} resolves to {master_ip}")
    rabit_env = {
        "DMLC_TRACKER_URI": master_addr,
        "DMLC_TRACKER_PORT": master_port,
        # The tracker sorts the task ids as strings: zero-padded, that is the order of RANK.
        "DMLC_TASK_ID": f"{rank:06d}",
        # Backs off 2, 4, 6, ... s between tries: the Master may start after the Workers.
        "DMLC_WORKER_CONNECT_RETRY": 10,
    }
    x, y = shard(rank, args.samples + args.samples // 4)
    dtrain = xgb.DMatrix(x[:args.samples], label=y[:args.samples])
    dvalid = xgb.DMatrix(x[args.samples:], label=y[args.samples:])
    with collective.CommunicatorContext(**rabit_env):
        got_rank, got_size = collective.get_rank(), collective.get_world_size()
        say(f"rank={rank} joined rabit as rank {got_rank} of {got_size} on {socket.gethostname()}")
        if (got_rank, got_size) != (rank, world_size):
            sys.exit(f"xgboost: rabit made this rank {got_rank} of {got_size}, "
                     f"want {rank} of {world_size}")
        params = {
            "objective": "binary:logistic",
            "eval_metric": "logloss",
            "tree_method": "hist",
            "max_depth": 4,
            "eta": 0.3,
            "nthread": 1,
        }
        printer = PrintLoss(rank)
        booster = xgb.train(params, dtrain, num_boost_round=args.rounds,
                            evals=[(dvalid, "eval")], verbose_eval=False, callbacks=[printer])
        digest = hashlib.sha256(bytes(booster.save_raw("json"))).hexdigest()[:16]
        say(f"rank={rank} done final_loss={printer.last:.6f} model_sha256={digest}")
    if tracker is not None:
        tracker.join()
        say("rank=0 tracker: every worker shut down")


if __name__ == "__main__":
    main()
