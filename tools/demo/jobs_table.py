#!/usr/bin/env python3
"""Live table of the demo's jobs: kind, name, state, pods running/total, age.

Polls the API server through kubectl until every job has finished (Succeeded or Failed) or the
timeout passes. On a terminal it redraws in place; otherwise it prints a table when one changes.
Exit status: 0 when all jobs finished, 1 on timeout.
    jobs_table.py NAMESPACE TIMEOUT_SECONDS
"""
import datetime
import json
import os
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# "tfjobs.kubeflow.org,...": the chart's list of kinds (tools/chart-kinds.sh: Kind group version
# plural), equal to lib/api's kind table.
KINDS = ",".join(
    f"{plural}.{group}"
    for _, group, _, plural in (line.split() for line in subprocess.run(
        ["bash", os.path.join(REPO, "tools", "chart-kinds.sh")], check=True, capture_output=True,
        text=True).stdout.splitlines()))
JOB_NAME_LABEL = "training.kubeflow.org/job-name"


def kubectl_json(*args):
    out = subprocess.run([os.environ["KUBECTL"], *args, "-o", "json"], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)["items"]


def state_of(job):
    conditions = job.get("status", {}).get("conditions") or []
    true = [c for c in conditions if c.get("status") == "True"]
    return true[-1]["type"] if true else "Pending"


def desired_pods(job):
    spec = job.get("spec", {})
    for key, replicas in spec.items():
        if key.endswith("ReplicaSpecs") and isinstance(replicas, dict):  # tfReplicaSpecs, ...
            return sum(int(r.get("replicas", 1)) for r in replicas.values())
    return 0


def age(created, now):
    seconds = int((now - datetime.datetime.fromisoformat(created.replace("Z", "+00:00"))).total_seconds())
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


def render(namespace):
    jobs = kubectl_json("get", KINDS, "-n", namespace)
    pods = kubectl_json("get", "pods", "-n", namespace)
    running = {}
    for pod in pods:
        owner = pod["metadata"].get("labels", {}).get(JOB_NAME_LABEL)
        if owner and pod.get("status", {}).get("phase") == "Running":
            running[owner] = running.get(owner, 0) + 1
    now = datetime.datetime.now(datetime.timezone.utc)
    rows = [("KIND", "NAME", "STATE", "PODS RUNNING/TOTAL", "AGE")]
    finished = True
    for job in sorted(jobs, key=lambda j: (j["kind"], j["metadata"]["name"])):
        name = job["metadata"]["name"]
        state = state_of(job)
        finished &= state in ("Succeeded", "Failed")
        rows.append((job["kind"], name, state, f"{running.get(name, 0)}/{desired_pods(job)}",
                     age(job["metadata"]["creationTimestamp"], now)))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    return lines, finished and len(jobs) > 0


def main():
    namespace, timeout = sys.argv[1], float(sys.argv[2])
    tty = sys.stdout.isatty()
    deadline = time.monotonic() + timeout
    last = None
    while True:
        lines, finished = render(namespace)
        # The age column changes every second; off a terminal print only when the rest changed.
        key = [line.rsplit("  ", 1)[0] for line in lines]
        if tty:
            if last is not None:
                sys.stdout.write(f"\033[{len(last)}F\033[J")
            sys.stdout.write("\n".join(lines) + "\n")
            last = lines
        elif key != last:
            print(time.strftime("%H:%M:%S"))
            print("\n".join(lines) + "\n", flush=True)
            last = key
        sys.stdout.flush()
        if finished:
            return 0
        if time.monotonic() > deadline:
            print(f"timed out after {timeout:.0f} s; the jobs keep running", file=sys.stderr)
            return 1
        time.sleep(1)


if __name__ == "__main__":
    sys.exit(main())
