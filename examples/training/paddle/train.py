"""Data-parallel linear regression of a PaddleJob in collective mode (CPU, gloo).

Run as `python -m paddle.distributed.launch train.py`: the launcher reads the env the reconciler
writes (PADDLE_MASTER: worker 0's address and port, PADDLE_NNODES, PADDLE_JOB_ID), worker 0
serves the rendezvous, and every node's launcher starts this script with its trainer rank and
the endpoints of all trainers. The script joins them (init_parallel_env) and allreduces the
gradients every step. Each trainer makes its own slice of the data, seeded by its rank.
Prints `rank=R step=S loss=L` per step (the loss averaged over all trainers) and
`rank=R done final_loss=L`.
"""
import os
import sys

import numpy as np
import paddle
import paddle.distributed as dist

STEPS = int(os.environ.get("TRAIN_STEPS", "30"))
LR = float(os.environ.get("TRAIN_LR", "0.1"))
FEATURES = 8
ROWS_PER_RANK = 256


def main():
    paddle.set_device("cpu")
    dist.init_parallel_env()
    rank, world = dist.get_rank(), dist.get_world_size()
    print("rank=%d world=%d paddle=%s endpoint=%s" % (
        rank, world, paddle.__version__, os.environ.get("PADDLE_CURRENT_ENDPOINT", "?")),
        flush=True)

    # Which trainers answer an allreduce: each adds its own bit.
    mask = paddle.to_tensor([1 << rank], dtype="int64")
    dist.all_reduce(mask)
    seen = [r for r in range(63) if int(mask.numpy()[0]) >> r & 1]
    print("rank=%d ranks_seen=%s" % (rank, ",".join(map(str, seen))), flush=True)
    expected = world
    if seen != list(range(expected)):
        sys.exit("rank=%d expected ranks 0..%d, saw %s" % (rank, expected - 1, seen))

    w_true = np.linspace(-1.0, 1.0, FEATURES).astype(np.float32).reshape(FEATURES, 1)
    rng = np.random.default_rng(1000 + rank)
    x = rng.normal(size=(ROWS_PER_RANK, FEATURES)).astype(np.float32)
    y = (x @ w_true + 0.3 + 0.01 * rng.normal(size=(ROWS_PER_RANK, 1))).astype(np.float32)
    x, y = paddle.to_tensor(x), paddle.to_tensor(y)

    paddle.seed(1)
    model = paddle.nn.Linear(FEATURES, 1)
    # Every trainer starts from rank 0's weights.
    for p in model.parameters():
        dist.broadcast(p, src=0)
    opt = paddle.optimizer.SGD(learning_rate=LR, parameters=model.parameters())

    loss_value = None
    for s in range(STEPS):
        loss = paddle.mean(paddle.square(model(x) - y))
        loss.backward()
        # The allreduce: every gradient averaged over all trainers.
        for p in model.parameters():
            dist.all_reduce(p.grad)
            p.grad.set_value(p.grad / world)
        opt.step()
        opt.clear_grad()
        total = loss.detach().clone()
        dist.all_reduce(total)
        loss_value = float(total.numpy()) / world
        print("rank=%d step=%d loss=%.6f" % (rank, s, loss_value), flush=True)
    print("rank=%d done final_loss=%.6f" % (rank, loss_value), flush=True)


if __name__ == "__main__":
    main()
