"""The Kubeflow Training Python SDK against our operator: MPIJob, PaddleJob, JAXJob.

Run by sdk_test.sh inside the SDK's virtualenv, with KUBECONFIG set and our webhook and reconciler
serving the namespace. KWOK ends each pod 2 s after it runs (kwok.kubedl.io/exit-code annotations
in the templates), so each job runs to Succeeded.
    python kubeflow_sdk_test.py NAMESPACE KWOK_NODE SDK_VERSION
"""
import json
import os
import sys
import time
from importlib import metadata

from kubernetes import client as k8s
from kubernetes.client.rest import ApiException

from kubeflow.training import TrainingClient, models
from kubeflow.training.constants import constants

NS, NODE, SDK_VERSION = sys.argv[1], sys.argv[2], sys.argv[3]
GROUP, VERSION = "kubeflow.org", "v1"
FINISH = {"kwok.kubedl.io/exit-code": "0", "kwok.kubedl.io/run-for": "2s"}
failures = 0


def ok(msg):
    print(f"  ok  {msg}", flush=True)


def fail(msg):
    global failures
    failures += 1
    print(f"FAIL: {msg}", file=sys.stderr, flush=True)


def check(what, got, want):
    if got == want:
        ok(f"{what} = {json.dumps(got)}")
    else:
        fail(f"{what} = {json.dumps(got)}, want {json.dumps(want)}")


def template(container, image, command=None):
    return k8s.V1PodTemplateSpec(
        metadata=k8s.V1ObjectMeta(annotations=dict(FINISH)),
        spec=k8s.V1PodSpec(
            node_name=NODE,
            containers=[k8s.V1Container(name=container, image=image, command=command)],
        ),
    )


def mpijob():
    image = "horovod/horovod:0.28.1"
    return models.KubeflowOrgV1MPIJob(
        api_version="kubeflow.org/v1",
        kind="MPIJob",
        metadata=k8s.V1ObjectMeta(name="sdk-mpi", namespace=NS),
        spec=models.KubeflowOrgV1MPIJobSpec(
            slots_per_worker=1,
            run_policy=models.KubeflowOrgV1RunPolicy(clean_pod_policy="None"),
            mpi_replica_specs={
                "Launcher": models.KubeflowOrgV1ReplicaSpec(
                    replicas=1,
                    template=template("mpi", image, ["mpirun", "-np", "2", "python", "/train.py"]),
                ),
                "Worker": models.KubeflowOrgV1ReplicaSpec(replicas=2, template=template("mpi", image)),
            },
        ),
    )


def paddlejob():
    image = "registry.baidubce.com/paddlepaddle/paddle:2.4.0rc0-cpu"
    command = ["python", "-m", "paddle.distributed.launch", "run_check"]
    return models.KubeflowOrgV1PaddleJob(
        api_version="kubeflow.org/v1",
        kind="PaddleJob",
        metadata=k8s.V1ObjectMeta(name="sdk-paddle", namespace=NS),
        spec=models.KubeflowOrgV1PaddleJobSpec(
            run_policy=models.KubeflowOrgV1RunPolicy(clean_pod_policy="None"),
            paddle_replica_specs={
                "Worker": models.KubeflowOrgV1ReplicaSpec(
                    replicas=2, template=template("paddle", image, command)
                ),
            },
        ),
    )


def jaxjob():
    image = "docker.io/kubeflow/jaxjob-dist-spmd-mnist:latest"
    return models.KubeflowOrgV1JAXJob(
        api_version="kubeflow.org/v1",
        kind="JAXJob",
        metadata=k8s.V1ObjectMeta(name="sdk-jax", namespace=NS),
        spec=models.KubeflowOrgV1JAXJobSpec(
            run_policy=models.KubeflowOrgV1RunPolicy(clean_pod_policy="None"),
            jax_replica_specs={
                "Worker": models.KubeflowOrgV1ReplicaSpec(
                    replicas=2, template=template("jax", image, ["python3", "train.py"])
                ),
            },
        ),
    )


def kept(sent, stored, path="spec"):
    """Paths of what the SDK sent that the stored object lacks or changed (pruned or rewritten).
    Defaults the webhook adds are extra keys or list items and do not count."""
    if isinstance(sent, dict):
        if not isinstance(stored, dict):
            return [path]
        out = []
        for key, value in sent.items():
            if key not in stored:
                out.append(f"{path}.{key}")
            else:
                out += kept(value, stored[key], f"{path}.{key}")
        return out
    if isinstance(sent, list):
        if not isinstance(stored, list) or len(stored) < len(sent):
            return [path]
        return sum((kept(v, stored[i], f"{path}[{i}]") for i, v in enumerate(sent)), [])
    return [] if sent == stored else [f"{path} ({sent!r} -> {stored!r})"]


# kind -> (job factory, plural, replica map key, pods, master pods, container,
#          {replica type: defaulted restartPolicy}, defaulted port [name, number] or None)
CASES = [
    ("MPIJob", mpijob, "mpijobs", "mpiReplicaSpecs",
     ["sdk-mpi-launcher", "sdk-mpi-worker-0", "sdk-mpi-worker-1"], ["sdk-mpi-launcher"], "mpi",
     {"Launcher": "Never", "Worker": "Never"}, None),
    ("PaddleJob", paddlejob, "paddlejobs", "paddleReplicaSpecs",
     ["sdk-paddle-worker-0", "sdk-paddle-worker-1"], ["sdk-paddle-worker-0"], "paddle",
     {"Worker": "OnFailure"}, ["master", 36543]),
    ("JAXJob", jaxjob, "jaxjobs", "jaxReplicaSpecs",
     ["sdk-jax-worker-0", "sdk-jax-worker-1"], ["sdk-jax-worker-0"], "jax",
     {"Worker": "Never"}, ["jaxjob-port", 6666]),
]


def run(kind, factory, plural, key, pods, masters, container, restart, port):
    print(f"--- {kind} through TrainingClient(job_kind={kind!r})", flush=True)
    training = TrainingClient(config_file=os.environ["KUBECONFIG"], namespace=NS, job_kind=kind)
    custom = training.custom_api
    job = factory()
    name = job.metadata.name
    body = k8s.ApiClient().sanitize_for_serialization(job)
    print(f"  the SDK sends: {json.dumps(body, sort_keys=True)}", flush=True)
    # Accepted by our CRD as it is: no unknown field (strict field validation, dry run).
    try:
        custom.create_namespaced_custom_object(
            GROUP, VERSION, NS, plural, body, dry_run="All", field_validation="Strict")
        ok(f"{kind}: the SDK's body passes strict field validation (dry run)")
    except ApiException as e:
        fail(f"{kind}: strict dry-run create refused: {e.status} {e.body}")

    training.create_job(job=job, namespace=NS)
    ok(f"{kind}: create_job")
    stored = custom.get_namespaced_custom_object(GROUP, VERSION, NS, plural, name)
    check(f"{kind}: fields the SDK sent that the API server dropped or changed",
          kept(body["spec"], stored["spec"]), [])
    for rtype, policy in restart.items():
        check(f"{kind}: defaulted {key}.{rtype}.restartPolicy",
              stored["spec"][key][rtype].get("restartPolicy"), policy)
    if port is not None:
        ports = stored["spec"][key]["Worker"]["template"]["spec"]["containers"][0].get("ports", [])
        check(f"{kind}: defaulted Worker port", [[p.get("name"), p.get("containerPort")] for p in ports], [port])

    started = time.monotonic()
    try:
        done = training.wait_for_job_conditions(
            name, namespace=NS, job_kind=kind, expected_conditions={"Succeeded"},
            wait_timeout=120, polling_interval=1)
        ok(f"{kind}: wait_for_job_conditions returned Succeeded after {time.monotonic() - started:.1f}s")
        check(f"{kind}: the model wait_for_job_conditions returned",
              type(done).__name__, type(job).__name__)
    except (RuntimeError, TimeoutError) as e:
        fail(f"{kind}: wait_for_job_conditions: {e}")
        return
    conditions = training.get_job_conditions(name=name, namespace=NS, job_kind=kind)
    by_type = {c.type: c for c in conditions}
    check(f"{kind}: get_job_conditions Succeeded status/reason",
          [by_type["Succeeded"].status, by_type["Succeeded"].reason] if "Succeeded" in by_type else None,
          ["True", f"{kind}Succeeded"])
    check(f"{kind}: Created condition reason",
          by_type["Created"].reason if "Created" in by_type else None, f"{kind}Created")
    check(f"{kind}: no Failed condition", "Failed" in by_type, False)
    check(f"{kind}: is_job_succeeded", training.is_job_succeeded(name, NS, job_kind=kind), True)
    check(f"{kind}: get_job_pod_names", sorted(training.get_job_pod_names(name, NS)), sorted(pods))
    check(f"{kind}: get_job_pod_names(is_master=True)",
          training.get_job_pod_names(name, NS, is_master=True), masters)
    try:
        logs, _ = training.get_job_logs(name, NS, job_kind=kind)
        check(f"{kind}: get_job_logs pods", sorted(logs), sorted(masters))
        if all(logs.get(p) for p in masters):
            ok(f"{kind}: master log text: {logs[masters[0]].splitlines()[0]!r}")
        else:
            fail(f"{kind}: empty master log: {logs}")
    except Exception as e:  # noqa: BLE001 - report whatever the SDK raised
        fail(f"{kind}: get_job_logs: {type(e).__name__}: {e}")
    check(f"{kind}: the SDK's container name (it reads logs from it) is the pods' container",
          constants.JOB_PARAMETERS[kind]["container"],
          training.core_api.read_namespaced_pod(masters[0], NS).spec.containers[0].name)

    training.delete_job(name, NS, job_kind=kind)
    ok(f"{kind}: delete_job")
    deadline = time.monotonic() + 60
    gone = False
    while time.monotonic() < deadline:
        try:
            training.get_job(name, NS, job_kind=kind)
        except RuntimeError:
            left = training.core_api.list_namespaced_pod(
                NS, label_selector=f"training.kubeflow.org/job-name={name}").items
            if not left:
                gone = True
                break
        time.sleep(0.5)
    if gone:
        ok(f"{kind}: job and its pods gone after delete_job")
    else:
        fail(f"{kind}: job or pods still there 60s after delete_job")


def main():
    installed = metadata.version("kubeflow-training")
    check("kubeflow-training version", installed, SDK_VERSION)
    for case in CASES:
        run(*case)
    if failures:
        print(f"{failures} failure(s)", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
