#!/usr/bin/env python3
"""Makes example jobs finish on the local control plane's fake nodes.

KWOK runs no containers: a pod ends when it carries the annotations of
tools/controlplane/kwok-stages.yaml. This adds them to every replica template of the jobs read
from stdin (multi-document YAML) and writes the result to stdout: training replicas exit 0 after
RUN_FOR; servers (PS, Scheduler) keep running, as real ones do until the job is cleaned up.
    simulate.py RUN_FOR < job.yaml > job-for-kwok.yaml
"""
import sys

import yaml

SERVERS = {"ps", "scheduler"}


def main():
    run_for = sys.argv[1]
    docs = [d for d in yaml.safe_load_all(sys.stdin) if d]
    for doc in docs:
        for key, replicas in doc.get("spec", {}).items():
            if not key.endswith("ReplicaSpecs"):
                continue
            for replica_type, replica in replicas.items():
                if replica_type.lower() in SERVERS:
                    continue
                meta = replica.setdefault("template", {}).setdefault("metadata", {})
                annotations = meta.setdefault("annotations", {})
                annotations["kwok.kubedl.io/exit-code"] = "0"
                annotations["kwok.kubedl.io/run-for"] = run_for
    yaml.safe_dump_all(docs, sys.stdout, sort_keys=False)


if __name__ == "__main__":
    main()
