"""A STAND-IN FOR XDL, not XDL: XDL (Alibaba's X-DeepLearning) cannot be installed here, so this
program checks, end to end, the contract an XDLJob's pods get from the reconciler (SPEC section 4)
and that every peer it names answers, then does a small parameter-server computation of its own so
the job has a loss to show. It uses Python's standard library only.

What the reconciler sets on every container of an XDLJob, and what is checked here:
  TASK_NAME   the replica type in lower case (ps, worker, scheduler, extendrole);
  TASK_INDEX  the replica index;
  XDL_CONFIG  {"cluster": {"<type>": ["<job>-<type>-<i>.<ns>.svc:<port>", ...], ...},
               "task": {"type": TASK_NAME, "index": TASK_INDEX}}  (TF_CONFIG's shape);
  ZK_ADDR     the user's ZooKeeper address with "/<job uid>" appended (jobs sharing one ZooKeeper
              do not share a path). With --zk-base (the value the manifest gave), ZK_ADDR must be
              exactly that plus "/<uuid>"; the uuid is printed so a test can compare it with the
              job's uid. No ZooKeeper is contacted: there is none.
Every replica serves a small line-of-JSON TCP service on its own port from XDL_CONFIG, connects to
every other address XDL_CONFIG lists and checks the answer comes from that very replica (type and
index), then waits at a barrier (held by scheduler 0, else ps 0, else worker 0) until every
replica has reached every peer. Then the workers fit a linear model by asynchronous SGD against the
PS replicas (each PS holds a slice of the weights: pull, compute the gradient on the worker's own
generated data, push), printing their loss; the PS replicas exit once every worker is done.

    xdl-standin: THIS IS A STAND-IN FOR XDL ...
    xdl-standin: task=worker index=0 ... zk_uid=<uuid>
    xdl-standin: peer ps-0 at xdl-ps-0.ns.svc:2222 answered as ps-0
    rank=worker-0 step=1 loss=4.123456
    ...
    rank=worker-0 done final_loss=0.012345
"""
import argparse
import json
import os
import random
import re
import socket
import sys
import threading
import time

FEATURES = 8
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def say(line: str) -> None:
    print(line, flush=True)


def die(msg: str) -> None:
    say(f"xdl-standin: FAIL {msg}")
    sys.exit(1)


def call(addr: str, msg: dict, timeout: float = 30.0) -> dict:
    """One request, one reply, each a JSON line."""
    host, port = addr.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=timeout) as s:
        s.sendall((json.dumps(msg) + "\n").encode())
        with s.makefile("r", encoding="utf-8") as f:
            line = f.readline()
    if not line:
        raise ConnectionError(f"{addr} closed the connection without answering {msg['op']}")
    return json.loads(line)


def call_retrying(addr: str, msg: dict, deadline: float, timeout: float = 30.0) -> dict:
    """Peers come up in any order and their Service names resolve only once their pods have an
    address: retry until the deadline."""
    last = None
    while time.monotonic() < deadline:
        try:
            return call(addr, msg, timeout)
        except OSError as e:  # includes socket.gaierror, ConnectionRefusedError, timeouts
            last = e
            time.sleep(1)
    raise TimeoutError(f"{addr} did not answer {msg['op']}: {last}")


class Replica:
    def __init__(self, task: str, index: int, cluster: dict, barrier: tuple[str, int]) -> None:
        self.task, self.index, self.cluster = task, index, cluster
        self.name = f"{task}-{index}"
        self.members = [f"{t}-{i}" for t, addrs in cluster.items() for i in range(len(addrs))]
        self.is_barrier = (task, index) == barrier
        self.lock = threading.Condition()
        self.ready: set[str] = set()          # barrier: members that reached every peer
        self.released = 0                      # barrier: replies sent
        n_ps = len(cluster.get("ps", []))
        self.slice = [j for j in range(FEATURES) if n_ps and j % n_ps == index] if task == "ps" else []
        self.weights = {j: 0.0 for j in self.slice}
        self.updates = 0
        self.workers = [m for m in self.members if m.startswith(("worker-", "extendrole-"))]
        self.done: set[str] = set()

    def handle(self, msg: dict) -> dict:
        op = msg.get("op")
        if op == "hello":
            return {"task": self.task, "index": self.index, "host": socket.gethostname()}
        if op == "ready" and self.is_barrier:
            with self.lock:
                self.ready.add(msg["from"])
                self.lock.notify_all()
                ok = self.lock.wait_for(lambda: self.ready >= set(self.members), timeout=300)
                self.released += 1
                self.lock.notify_all()
            return {"go": ok, "ready": sorted(self.ready)}
        if op == "pull" and self.task == "ps":
            with self.lock:
                return {"weights": {str(j): w for j, w in self.weights.items()}}
        if op == "push" and self.task == "ps":
            with self.lock:
                for j, g in msg["grad"].items():
                    self.weights[int(j)] -= msg["lr"] * g
                self.updates += 1
            return {"ok": True}
        if op == "done" and self.task == "ps":
            with self.lock:
                self.done.add(msg["from"])
                self.lock.notify_all()
            return {"ok": True}
        return {"error": f"{self.name} does not serve {op!r}"}

    def serve(self, port: int) -> None:
        srv = socket.create_server(("0.0.0.0", port), backlog=64)

        def one(conn: socket.socket) -> None:
            with conn, conn.makefile("rw", encoding="utf-8") as f:
                line = f.readline()
                if line:
                    f.write(json.dumps(self.handle(json.loads(line))) + "\n")
                    f.flush()

        def loop() -> None:
            while True:
                conn, _ = srv.accept()
                threading.Thread(target=one, args=(conn,), daemon=True).start()

        threading.Thread(target=loop, daemon=True).start()


def generated_data(rank: int, samples: int) -> list[tuple[list[float], float]]:
    """y = x . truth + noise; the truth is shared, the samples are this worker's own."""
    truth = [((j * 7) % 5) - 2.0 for j in range(FEATURES)]
    rng = random.Random(3000 + rank)
    data = []
    for _ in range(samples):
        x = [rng.uniform(-1, 1) for _ in range(FEATURES)]
        data.append((x, sum(a * b for a, b in zip(x, truth)) + rng.gauss(0, 0.05)))
    return data


def train(rep: Replica, steps: int, lr: float, deadline: float) -> None:
    ps = rep.cluster.get("ps", [])
    if not ps:
        die("XDL_CONFIG has no ps: the workers have nowhere to keep the weights")
    rank = rep.workers.index(rep.name)
    data = generated_data(rank, 256)
    rng = random.Random(rank)
    loss = float("nan")
    for step in range(1, steps + 1):
        w = [0.0] * FEATURES
        for addr in ps:
            for j, v in call_retrying(addr, {"op": "pull"}, deadline)["weights"].items():
                w[int(j)] = v
        batch = rng.sample(data, 64)
        loss = sum((sum(a * b for a, b in zip(x, w)) - y) ** 2 for x, y in data) / len(data)
        grad = [0.0] * FEATURES
        for x, y in batch:
            err = sum(a * b for a, b in zip(x, w)) - y
            for j in range(FEATURES):
                grad[j] += 2 * err * x[j] / len(batch)
        for i, addr in enumerate(ps):
            part = {str(j): grad[j] for j in range(FEATURES) if j % len(ps) == i}
            call_retrying(addr, {"op": "push", "grad": part, "lr": lr}, deadline)
        say(f"rank={rep.name} step={step} loss={loss:.6f}")
    for addr in ps:
        call_retrying(addr, {"op": "done", "from": rep.name}, deadline)
    say(f"rank={rep.name} done final_loss={loss:.6f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--zk-base", default="", help="ZK_ADDR as the manifest wrote it")
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--lr", type=float, default=0.2)
    parser.add_argument("--timeout", type=float, default=240)
    parser.add_argument("--local", action="store_true",
                        help="every replica on this machine (a try-out): no host-name check")
    args = parser.parse_args()
    deadline = time.monotonic() + args.timeout
    say("xdl-standin: THIS IS A STAND-IN FOR XDL (XDL cannot be installed here): it checks the "
        "XDLJob env contract and peer reachability, then trains a toy model by PS/worker SGD")

    task, index_s = os.environ.get("TASK_NAME", ""), os.environ.get("TASK_INDEX", "")
    raw = os.environ.get("XDL_CONFIG", "")
    if not task or not index_s.isdigit() or not raw:
        die(f"TASK_NAME={task!r} TASK_INDEX={index_s!r} XDL_CONFIG set={bool(raw)}: all three are required")
    index = int(index_s)
    config = json.loads(raw)
    cluster = config.get("cluster", {})
    if config.get("task") != {"type": task, "index": index}:
        die(f"XDL_CONFIG task {config.get('task')} is not TASK_NAME/TASK_INDEX {task}/{index}")
    if "environment" in config:
        die("XDL_CONFIG has 'environment' (that is TF_CONFIG's; XDL's has none)")
    if task not in cluster or index >= len(cluster[task]):
        die(f"XDL_CONFIG's cluster has no {task} {index}: {cluster}")
    own = cluster[task][index]
    host = socket.gethostname()
    if not args.local and own.rsplit(":", 1)[0].split(".")[0] != host:
        die(f"XDL_CONFIG gives this replica the address {own}, but the pod's host name is {host}")

    zk = os.environ.get("ZK_ADDR", "")
    zk_uid = "-"
    if args.zk_base:
        base = args.zk_base.rstrip("/")
        if not zk.startswith(base + "/") or not UUID.fullmatch(zk[len(base) + 1:]):
            die(f"ZK_ADDR={zk!r} is not {base!r} + '/<job uid>'")
        zk_uid = zk[len(base) + 1:]
    say(f"xdl-standin: task={task} index={index} host={host} address={own} zk_addr={zk or '-'} "
        f"zk_uid={zk_uid} (no ZooKeeper is contacted)")
    say(f"xdl-standin: cluster {json.dumps(cluster, sort_keys=True)}")

    barrier = next(((t, 0) for t in ("scheduler", "ps", "worker") if cluster.get(t)), None)
    rep = Replica(task, index, cluster, barrier)
    rep.serve(int(own.rsplit(":", 1)[1]))

    for t, addrs in cluster.items():
        for i, addr in enumerate(addrs):
            if (t, i) == (task, index):
                continue
            try:
                reply = call_retrying(addr, {"op": "hello"}, deadline)
            except TimeoutError as e:
                die(f"peer {t}-{i}: {e}")
            if (reply.get("task"), reply.get("index")) != (t, i):
                die(f"peer {t}-{i} at {addr} answered as {reply}")
            say(f"xdl-standin: peer {t}-{i} at {addr} answered as {reply['task']}-{reply['index']} "
                f"(host {reply['host']})")
    say(f"xdl-standin: {rep.name} reached all {len(rep.members) - 1} peers")

    # Nobody leaves before everybody reached everybody (a finished worker stops answering).
    addr = cluster[barrier[0]][barrier[1]]
    reply = call_retrying(addr, {"op": "ready", "from": rep.name}, deadline,
                          timeout=max(30.0, deadline - time.monotonic()))
    if not reply.get("go"):
        die(f"barrier at {barrier[0]}-{barrier[1]} timed out; ready: {reply.get('ready')}")
    say(f"xdl-standin: barrier passed: {','.join(reply['ready'])}")

    if task in ("worker", "extendrole"):
        train(rep, args.steps, args.lr, deadline)
    if task == "ps":
        with rep.lock:
            if not rep.lock.wait_for(lambda: rep.done >= set(rep.workers),
                                     timeout=max(1.0, deadline - time.monotonic())):
                die(f"workers done: {sorted(rep.done)} of {rep.workers}")
            weights = " ".join(f"w{j}={w:.3f}" for j, w in sorted(rep.weights.items()))
        say(f"rank={rep.name} done updates={rep.updates} {weights}")
    if rep.is_barrier:
        # Let the others read their "go" before this process (and its server) goes away.
        with rep.lock:
            rep.lock.wait_for(lambda: rep.released >= len(rep.members), timeout=30)
    say(f"xdl-standin: {rep.name} exits 0")


if __name__ == "__main__":
    main()
