"""Synchronous data-parallel training of a TFJob with MultiWorkerMirroredStrategy (CPU).

TensorFlow reads the TF_CONFIG the reconciler writes (cluster: the chief and every worker at
their headless Service names, task: this pod's type and index) and runs an allreduce of the
gradients across all tasks each step (gRPC ring collectives). Each task makes its own slice of
the data, seeded by its place in the cluster; nothing is downloaded.
Prints `rank=R step=S loss=L` per step (the loss averaged over every task) and
`rank=R done final_loss=L`; rank 0 is the chief, the workers follow in index order.
"""
import json
import os
import sys

import numpy as np
import tensorflow as tf

STEPS = int(os.environ.get("TRAIN_STEPS", "30"))
LR = float(os.environ.get("TRAIN_LR", "0.1"))
FEATURES = 8
ROWS_PER_TASK = 256


def main():
    config = json.loads(os.environ["TF_CONFIG"])
    task = config["task"]
    cluster = config["cluster"]
    chiefs = len(cluster.get("chief", [])) + len(cluster.get("master", []))
    rank = task["index"] if task["type"] in ("chief", "master") else chiefs + task["index"]
    world = chiefs + len(cluster.get("worker", []))
    print("rank=%d task=%s:%d world=%d tensorflow=%s" % (
        rank, task["type"], task["index"], world, tf.__version__), flush=True)

    strategy = tf.distribute.MultiWorkerMirroredStrategy(
        communication_options=tf.distribute.experimental.CommunicationOptions(
            implementation=tf.distribute.experimental.CommunicationImplementation.RING))
    print("rank=%d replicas_in_sync=%d" % (rank, strategy.num_replicas_in_sync), flush=True)
    if strategy.num_replicas_in_sync != world:
        sys.exit("rank=%d expected %d replicas, the strategy has %d" % (
            rank, world, strategy.num_replicas_in_sync))

    w_true = np.linspace(-1.0, 1.0, FEATURES).astype(np.float32).reshape(FEATURES, 1)
    rng = np.random.default_rng(1000 + rank)
    x = rng.normal(size=(ROWS_PER_TASK, FEATURES)).astype(np.float32)
    y = (x @ w_true + 0.3 + 0.01 * rng.normal(size=(ROWS_PER_TASK, 1))).astype(np.float32)
    x, y = tf.constant(x), tf.constant(y)

    with strategy.scope():
        w = tf.Variable(tf.zeros([FEATURES, 1]), name="w")
        b = tf.Variable(tf.zeros([1]), name="b")

    def replica_step(x, y):
        ctx = tf.distribute.get_replica_context()
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(tf.matmul(x, w) + b - y))
        grads = tape.gradient(loss, [w, b])
        # The allreduce: gradients and loss averaged over every task.
        grads = ctx.all_reduce(tf.distribute.ReduceOp.MEAN, grads)
        loss = ctx.all_reduce(tf.distribute.ReduceOp.MEAN, loss)
        # Same value on every replica, so the update is applied once (ONLY_FIRST_REPLICA).
        ctx.merge_call(lambda strat, gs: [strat.extended.update(
            v, lambda var, g: var.assign_sub(LR * g), args=(g,))
            for v, g in zip([w, b], gs)], args=(grads,))
        return loss

    @tf.function
    def train_step(x, y):
        per_replica = strategy.run(replica_step, args=(x, y))
        return strategy.reduce(tf.distribute.ReduceOp.MEAN, per_replica, axis=None)

    @tf.function
    def ranks_seen():
        def fn():
            ctx = tf.distribute.get_replica_context()
            return ctx.all_reduce(tf.distribute.ReduceOp.SUM,
                                  tf.bitwise.left_shift(tf.constant(1, tf.int64),
                                                        tf.constant(rank, tf.int64)))
        return strategy.reduce(tf.distribute.ReduceOp.MEAN, strategy.run(fn), axis=None)

    mask = int(ranks_seen().numpy())
    seen = [r for r in range(63) if mask >> r & 1]
    print("rank=%d ranks_seen=%s" % (rank, ",".join(map(str, seen))), flush=True)
    if seen != list(range(world)):
        sys.exit("rank=%d expected ranks 0..%d, saw %s" % (rank, world - 1, seen))

    loss = None
    for s in range(STEPS):
        loss = float(train_step(x, y).numpy())
        print("rank=%d step=%d loss=%.6f" % (rank, s, loss), flush=True)
    print("rank=%d done final_loss=%.6f" % (rank, loss), flush=True)


if __name__ == "__main__":
    main()
