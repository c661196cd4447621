"""Asynchronous training of a TFJob with ParameterServerStrategy (CPU).

Every task reads the TF_CONFIG the reconciler writes. The PS and Worker tasks start a TensorFlow
server on their port and serve until the job ends; the Chief is the coordinator: it places the
variables on the PS, sends training steps to the workers through a ClusterCoordinator and prints
the loss. A worker logs each step it ran (`worker=I ran step`) so a test can tell that every
worker took part; each step also returns the host name of the worker that ran it (read on that
worker: a pod's /etc/hostname is its pod name), and the chief prints the set.
Data is generated on the workers; nothing is downloaded.
Chief output: `rank=0 step=S loss=L` per round, `rank=0 workers_seen=a,b` and
`rank=0 done final_loss=L`.
"""
import json
import os
import sys

import numpy as np
import tensorflow as tf

ROUNDS = int(os.environ.get("TRAIN_STEPS", "20"))
LR = float(os.environ.get("TRAIN_LR", "0.05"))
FEATURES = 8
BATCH = 64


def serve(task):
    resolver = tf.distribute.cluster_resolver.TFConfigClusterResolver()
    print("task=%s:%d serving at %s (tensorflow=%s)" % (
        task["type"], task["index"], resolver.cluster_spec().task_address(
            task["type"], task["index"]), tf.__version__), flush=True)
    server = tf.distribute.Server(resolver.cluster_spec(), job_name=task["type"],
                                  task_index=task["index"], protocol="grpc", start=True)
    server.join()


def coordinate(config):
    resolver = tf.distribute.cluster_resolver.TFConfigClusterResolver()
    workers = len(config["cluster"].get("worker", []))
    print("rank=0 coordinator workers=%d ps=%d tensorflow=%s" % (
        workers, len(config["cluster"].get("ps", [])), tf.__version__), flush=True)
    strategy = tf.distribute.ParameterServerStrategy(resolver)
    coordinator = tf.distribute.coordinator.ClusterCoordinator(strategy)

    with strategy.scope():
        w = tf.Variable(tf.zeros([FEATURES, 1]), name="w")
        b = tf.Variable(tf.zeros([1]), name="b")
    print("rank=0 variables on %s" % w.device, flush=True)

    w_true = np.linspace(-1.0, 1.0, FEATURES).astype(np.float32).reshape(FEATURES, 1)

    def dataset_fn():
        # Runs on each worker: an endless stream of generated batches.
        def gen(seed):
            x = tf.random.stateless_normal([BATCH, FEATURES], seed=tf.stack([seed, 7]))
            noise = 0.01 * tf.random.stateless_normal([BATCH, 1], seed=tf.stack([seed, 8]))
            y = tf.matmul(x, w_true) + 0.3 + noise
            return x, y
        return tf.data.Dataset.range(1 << 30).map(gen)

    per_worker = coordinator.create_per_worker_dataset(dataset_fn)
    iterator = iter(per_worker)

    @tf.function
    def step(it):
        def replica_fn(x, y):
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(tf.square(tf.matmul(x, w) + b - y))
            gw, gb = tape.gradient(loss, [w, b])
            w.assign_sub(LR * gw)
            b.assign_sub(LR * gb)
            # Printed by the worker that ran this step, in its own log.
            tf.print("ran step loss=", loss, sep="", output_stream=sys.stdout)
            return loss, tf.strings.strip(tf.io.read_file("/etc/hostname"))
        x, y = next(it)
        return strategy.run(replica_fn, args=(x, y))

    loss = None
    seen = set()
    steps_per_round = 2 * workers
    for r in range(ROUNDS):
        results = [coordinator.schedule(step, args=(iterator,)) for _ in range(steps_per_round)]
        coordinator.join()
        fetched = [v.fetch() for v in results]
        seen.update(host.decode() for _, host in fetched)
        loss = float(np.mean([l for l, _ in fetched]))
        print("rank=0 step=%d loss=%.6f" % (r, loss), flush=True)
    print("rank=0 workers_seen=%s" % ",".join(sorted(seen)), flush=True)
    print("rank=0 done final_loss=%.6f" % loss, flush=True)


def main():
    config = json.loads(os.environ["TF_CONFIG"])
    task = config["task"]
    if task["type"] in ("ps", "worker"):
        serve(task)
    else:
        coordinate(config)


if __name__ == "__main__":
    main()
