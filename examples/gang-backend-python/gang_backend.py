#!/usr/bin/env python3
"""An external gang scheduler backend for KubeDL, in Python.

It serves KubeDL's gRPC contract (proto/kubedl/v1/gang_scheduler.proto) and keeps its gangs in
memory: enough to show that a gang scheduler written by someone else, in another language,
plugs into KubeDL with no change to KubeDL. Point the reconciler's --gang-scheduler-address at
it. See README.md.

The Python code for the contract is generated at start-up from the .proto file, with
grpc_tools when it is installed, else with protoc and grpc_python_plugin.
"""

import argparse
import importlib
import logging
import os
import re
import subprocess
import sys
import tempfile
import threading
from concurrent import futures
from fractions import Fraction

import grpc

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_PROTO_ROOT = os.path.join(HERE, "..", "..", "proto")
PROTO_FILE = "kubedl/v1/gang_scheduler.proto"


def generate_stubs(proto_root, out_dir):
    """Writes gang_scheduler_pb2.py and gang_scheduler_pb2_grpc.py under out_dir/kubedl/v1."""
    try:
        from grpc_tools import protoc  # python3-grpc-tools, when installed

        argv = ["protoc", f"--proto_path={proto_root}", f"--python_out={out_dir}",
                f"--grpc_python_out={out_dir}", PROTO_FILE]
        if protoc.main(argv) == 0:
            return
        logging.warning("grpc_tools could not compile %s; trying protoc", PROTO_FILE)
    except ImportError:
        pass
    plugin = "/usr/bin/grpc_python_plugin"
    subprocess.run(["protoc", f"--proto_path={proto_root}", f"--python_out={out_dir}",
                    f"--grpc_out={out_dir}", f"--plugin=protoc-gen-grpc={plugin}", PROTO_FILE],
                   check=True)


def load_stubs(proto_root):
    out_dir = tempfile.mkdtemp(prefix="kubedl-gang-stubs-")
    generate_stubs(proto_root, out_dir)
    sys.path.insert(0, out_dir)
    pb2 = importlib.import_module("kubedl.v1.gang_scheduler_pb2")
    pb2_grpc = importlib.import_module("kubedl.v1.gang_scheduler_pb2_grpc")
    return pb2, pb2_grpc


# A Kubernetes quantity: sign, digits, then a binary or decimal suffix or a decimal exponent.
QUANTITY = re.compile(r"^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))"
                      r"(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?$")
BINARY = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
DECIMAL = {"n": -9, "u": -6, "m": -3, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}


def parse_quantity(text):
    """The exact value of a quantity, or ValueError."""
    match = QUANTITY.match(text)
    if not match:
        raise ValueError(f'quantity "{text}" is not a Kubernetes quantity')
    number, suffix = Fraction(match.group(1)), match.group(2) or ""
    if suffix in BINARY:
        return number * 1024 ** BINARY[suffix]
    if suffix in DECIMAL:
        return number * Fraction(10) ** DECIMAL[suffix]
    if suffix:
        return number * Fraction(10) ** int(suffix[1:])
    return number


def format_quantity(value):
    """An exact value as a quantity string: whole units, else milli-units, else nano-units."""
    for scale, suffix in ((1, ""), (1000, "m")):
        if (value * scale).denominator == 1:
            return f"{value * scale}{suffix}"
    return f"{-((-value * 10**9) // 1)}n"  # rounded up to a nano-unit


class InvalidRequest(Exception):
    pass


def require_job(job, owner_fields):
    missing = [field for field in ("name", "namespace") if not getattr(job, field)]
    if owner_fields:
        missing += [f for f in ("uid", "api_version", "kind") if not getattr(job, f)]
    if missing:
        raise InvalidRequest("required fields are empty: " + ", ".join("job." + f for f in missing))


def min_resources(request):
    """The policy's minResources, else the requests of the first min_member pods."""
    if request.min_resources:
        return {name: parse_quantity(text) for name, text in request.min_resources.items()}
    total, remaining = {}, request.min_member
    for replica in request.replicas:
        pods = min(remaining, replica.replicas)
        remaining -= max(pods, 0)
        for name, text in replica.requests.items():
            value = parse_quantity(text)  # every request is checked, counted or not
            if pods > 0:
                total[name] = total.get(name, 0) + value * pods
    return total


class Gangs:
    """The gangs, by (namespace, name); a gang is admitted as soon as it exists."""

    def __init__(self):
        self._lock = threading.Lock()
        self._gangs = {}

    def ensure(self, request):
        key = (request.job.namespace, request.job.name)
        wanted = {"uid": request.job.uid, "min_member": request.min_member,
                  "queue": request.queue, "min_resources": min_resources(request)}
        with self._lock:
            # A gang left by an earlier job of the same name (another UID) is replaced.
            self._gangs[key] = wanted
            return dict(wanted)

    def get(self, job):
        with self._lock:
            gang = self._gangs.get((job.namespace, job.name))
            if gang is None or (job.uid and gang["uid"] != job.uid):
                return None
            return dict(gang)

    def delete(self, job):
        with self._lock:
            gang = self._gangs.get((job.namespace, job.name))
            if gang is not None and (not job.uid or gang["uid"] == job.uid):
                del self._gangs[(job.namespace, job.name)]


def make_servicer(pb2, pb2_grpc, scheduler_name):
    Gang = pb2.Gang

    class ExampleGangScheduler(pb2_grpc.GangSchedulerServicer):
        def __init__(self):
            self.gangs = Gangs()

        def _answer(self, job, gang):
            if gang is None:
                return Gang(name=job.name, namespace=job.namespace, phase=Gang.NOT_FOUND)
            return Gang(name=job.name, namespace=job.namespace, phase=Gang.ADMITTED,
                        backend_phase="Admitted", min_member=gang["min_member"])

        def EnsureGang(self, request, context):
            try:
                require_job(request.job, owner_fields=True)
                if request.min_member < 1:
                    raise InvalidRequest("min_member must be at least 1")
                gang = self.gangs.ensure(request)
            except (InvalidRequest, ValueError) as error:
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(error))
            logging.info("gang %s/%s: minMember %d, minResources %s", request.job.namespace,
                         request.job.name, gang["min_member"],
                         {k: format_quantity(v) for k, v in gang["min_resources"].items()})
            return pb2.EnsureGangResponse(gang=self._answer(request.job, gang))

        def BindPod(self, request, context):
            try:
                require_job(request.job, owner_fields=False)
                if not request.replica_type or request.index < 0:
                    raise InvalidRequest("replica_type is required and index must not be negative")
            except InvalidRequest as error:
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(error))
            response = pb2.BindPodResponse()
            response.labels["example.kubedl.io/gang"] = request.job.name
            response.annotations["example.kubedl.io/member"] = (
                f"{request.replica_type.lower()}-{request.index}")
            current = request.current_scheduler_name
            if scheduler_name and not current:
                response.scheduler_name = scheduler_name
            elif scheduler_name and current != scheduler_name:
                response.warning = (f'the pod names scheduler "{current}", not "{scheduler_name}":'
                                    " it may start outside its gang")
            return response

        def GetGang(self, request, context):
            try:
                require_job(request.job, owner_fields=False)
            except InvalidRequest as error:
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(error))
            return self._answer(request.job, self.gangs.get(request.job))

        def DeleteGang(self, request, context):
            try:
                require_job(request.job, owner_fields=False)
            except InvalidRequest as error:
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(error))
            self.gangs.delete(request.job)
            return pb2.DeleteGangResponse()

    return ExampleGangScheduler()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--address", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=9095, help="gRPC port")
    parser.add_argument("--proto-root", default=DEFAULT_PROTO_ROOT,
                        help="folder holding kubedl/v1/gang_scheduler.proto")
    parser.add_argument("--scheduler-name", default="",
                        help="schedulerName to put on pods that name none (empty: leave it)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")

    pb2, pb2_grpc = load_stubs(os.path.abspath(args.proto_root))
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    pb2_grpc.add_GangSchedulerServicer_to_server(
        make_servicer(pb2, pb2_grpc, args.scheduler_name), server)
    server.add_insecure_port(f"{args.address}:{args.port}")
    server.start()
    logging.info("example gang backend serving kubedl.v1.GangScheduler on %s:%d",
                 args.address, args.port)
    server.wait_for_termination()


if __name__ == "__main__":
    main()
