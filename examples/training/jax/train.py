"""Data-parallel linear regression across the processes of a JAXJob (CPU, one device each).

The reconciler gives every Worker COORDINATOR_ADDRESS (worker 0's pod name), COORDINATOR_PORT,
NUM_PROCESSES and PROCESS_ID; jax.distributed.initialize joins them and the CPU backend's
cross-process collectives (gloo) carry a lax.psum of the gradients each step. Every process
makes its own slice of the data (seeded by its PROCESS_ID), so nothing is downloaded.
Prints `rank=R step=S loss=L` per step and `rank=R done final_loss=L` at the end.
"""
import os
import sys

import numpy as np

import jax
import jax.numpy as jnp
from jax import lax
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

STEPS = int(os.environ.get("TRAIN_STEPS", "30"))
LR = float(os.environ.get("TRAIN_LR", "0.1"))
FEATURES = 8
ROWS_PER_PROCESS = 256


def main():
    address = "%s:%s" % (os.environ["COORDINATOR_ADDRESS"], os.environ["COORDINATOR_PORT"])
    world = int(os.environ["NUM_PROCESSES"])
    rank = int(os.environ["PROCESS_ID"])
    print("rank=%d world=%d coordinator=%s jax=%s" % (rank, world, address, jax.__version__),
          flush=True)
    # All three parameters come from the env; no cluster auto-detection (inside a pod JAX would
    # otherwise try its Kubernetes detection, which needs API access the pod does not have).
    jax.distributed.initialize(coordinator_address=address, num_processes=world,
                               process_id=rank, cluster_detection_method="deactivate",
                               initialization_timeout=120)
    assert jax.process_count() == world, (jax.process_count(), world)
    devices = jax.devices()
    print("rank=%d process_index=%d devices=%d local=%d backend=%s" % (
        rank, jax.process_index(), len(devices), jax.local_device_count(),
        jax.default_backend()), flush=True)

    mesh = Mesh(np.array(devices), ("dp",))
    sharded = NamedSharding(mesh, P("dp"))
    local = jax.local_device_count()

    # The true model is the same everywhere; each process draws its own rows.
    w_true = np.linspace(-1.0, 1.0, FEATURES).astype(np.float32)
    rng = np.random.default_rng(1000 + rank)
    x = rng.normal(size=(ROWS_PER_PROCESS * local, FEATURES)).astype(np.float32)
    y = (x @ w_true + 0.3 + 0.01 * rng.normal(size=x.shape[0])).astype(np.float32)
    gx = jax.make_array_from_process_local_data(sharded, x)
    gy = jax.make_array_from_process_local_data(sharded, y)
    gid = jax.make_array_from_process_local_data(
        sharded, np.full((local,), rank, dtype=np.int32))

    def shard_step(w, b, x, y):
        def loss_fn(params):
            w, b = params
            return jnp.mean((x @ w + b - y) ** 2)
        loss, (gw, gb) = jax.value_and_grad(loss_fn)((w, b))
        n = lax.psum(1, "dp")
        # The allreduce: every shard's gradient and loss summed over all processes.
        gw = lax.psum(gw, "dp") / n
        gb = lax.psum(gb, "dp") / n
        loss = lax.psum(loss, "dp") / n
        return w - LR * gw, b - LR * gb, loss

    step = jax.jit(jax.shard_map(shard_step, mesh=mesh,
                                 in_specs=(P(), P(), P("dp"), P("dp")),
                                 out_specs=(P(), P(), P())))
    # Which processes answer an allreduce: each adds its own bit (1 << PROCESS_ID).
    ranks = jax.jit(jax.shard_map(lambda i: lax.psum(jnp.left_shift(1, i), "dp"), mesh=mesh,
                                  in_specs=P("dp"), out_specs=P()))
    mask = int(np.asarray(ranks(gid).addressable_data(0))[0])
    seen = [r for r in range(31) if mask >> r & 1]
    print("rank=%d ranks_seen=%s" % (rank, ",".join(map(str, seen))), flush=True)
    if seen != list(range(world)):
        sys.exit("rank=%d expected ranks 0..%d, saw %s" % (rank, world - 1, seen))

    replicated = NamedSharding(mesh, P())
    w = jax.jit(lambda: jnp.zeros((FEATURES,), jnp.float32), out_shardings=replicated)()
    b = jax.jit(lambda: jnp.zeros((), jnp.float32), out_shardings=replicated)()
    loss = None
    for s in range(STEPS):
        w, b, l = step(w, b, gx, gy)
        loss = float(np.asarray(l.addressable_data(0)))
        print("rank=%d step=%d loss=%.6f" % (rank, s, loss), flush=True)
    print("rank=%d done final_loss=%.6f" % (rank, loss), flush=True)
    jax.distributed.shutdown()


if __name__ == "__main__":
    main()
