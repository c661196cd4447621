#!/usr/bin/env bash
# MPIJob, PaddleJob, JAXJob (SPEC sections 9-13, /work/shared/reference/kubeflow-mpi-paddle-jax.md)
# and PyTorchJob elastic autoscaling, against the real local API server (tools/controlplane) with
# a real kubedl-reconciler process per test. KWOK runs the pods: a test ends a training process by
# annotating its Running pod with kwok.kubedl.io/exit-code. Helpers: helpers.sh.
#   new_kinds_test.sh SCENARIO RECONCILER_BINARY REPO [WEBHOOK_BINARY]
# Scenarios: mpi-shape mpi-scale mpi-failures paddle-collective paddle-ps paddle-failures
#            jax-shape jax-failures scale-subresource pytorch-autoscale workloads-auto-new-kinds
set -euo pipefail
scenario=$1 reconciler=$2 repo=$3 webhook=${4:-}
# shellcheck source=helpers.sh
source "$(dirname "${BASH_SOURCE[0]}")/helpers.sh"

no_services() {  # no_services: the namespace holds no Service at all
  local svcs; svcs=$(k get svc -n "$ns" -o name)
  [ -z "$svcs" ] && ok "no Services" || fail "Services exist: $svcs"
}
app_labelled_and_owned() {  # app_labelled_and_owned RESOURCE NAME KIND JOB
  expect "$1" "$2" '{.metadata.labels.app}' "$4"
  owned_by "$1" "$2" "$3" "$4"
}

# --- MPIJob -----------------------------------------------------------------------------------
# The reference's tensorflow-mnist: a Horovod launcher and 2 workers.
MNIST='c = r["Launcher"]["template"]["spec"]["containers"][0]
c.update({"image": "horovod/horovod:0.28.1", "command": ["mpirun"], "args": ["-np", "2", "--allow-run-as-root", "-bind-to", "none", "-map-by", "slot", "-x", "LD_LIBRARY_PATH", "-x", "PATH", "-mca", "pml", "ob1", "-mca", "btl", "^openib", "python", "/horovod/examples/tensorflow2/tensorflow2_mnist.py"], "resources": {"limits": {"cpu": "1", "memory": "2Gi"}}})
r["Worker"]["template"]["spec"]["containers"][0].update({"image": "horovod/horovod:0.28.1", "resources": {"limits": {"cpu": "2", "memory": "4Gi"}}})
s["slotsPerWorker"] = 1
s["runPolicy"] = {"cleanPodPolicy": "Running"}'

scenario_mpi-shape() {
  start_reconciler rec --workloads=mpijob
  submit MPIJob tensorflow-mnist "$MNIST"
  local j=tensorflow-mnist L=tensorflow-mnist-launcher W0=tensorflow-mnist-worker-0 W1=tensorflow-mnist-worker-1
  eventually 150 "ServiceAccount, ConfigMap, Role, RoleBinding and pods created" pods_exist \
    serviceaccount/$L configmap/$j-config role/$L rolebinding/$L $L $W0 $W1
  for o in serviceaccount/$L configmap/$j-config role/$L rolebinding/$L; do
    app_labelled_and_owned "${o%/*}" "${o#*/}" MPIJob $j
  done
  # ConfigMap: exact bytes. discover_hosts.sh lists only Running workers (checked below).
  json_is configmap $j-config 'o["data"]["hostfile"]' \
    '"tensorflow-mnist-worker-0 slots=1\ntensorflow-mnist-worker-1 slots=1\n"'
  json_is configmap $j-config 'o["data"]["kubexec.sh"]' \
    '"#!/bin/sh\nset -x\nPOD_NAME=$1\nshift\n/opt/kube/kubectl exec ${POD_NAME} -- /bin/sh -c \"$*\""'
  json_is configmap $j-config 'sorted(o["data"])' '["discover_hosts.sh", "hostfile", "kubexec.sh"]'
  json_is role $L 'o["rules"]' '[{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create"], "resourceNames": ["tensorflow-mnist-worker-0", "tensorflow-mnist-worker-1"]}]'
  json_is rolebinding $L 'o["subjects"]' "[{\"kind\": \"ServiceAccount\", \"name\": \"$L\", \"namespace\": \"$ns\"}]"
  json_is rolebinding $L 'o["roleRef"]' '{"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "tensorflow-mnist-launcher"}'

  echo "--- launcher pod"
  labels_are pod $L mpijob-controller $j launcher 0 yes
  owned_by pod $L MPIJob $j
  expect pod $L '{.spec.restartPolicy}' Never
  expect pod $L '{.spec.serviceAccountName}' $L
  json_is pod $L '[c["name"] for c in o["spec"]["initContainers"]]' '["kubectl-delivery"]'
  json_is pod $L 'pick(init("kubectl-delivery"), "image", "imagePullPolicy", "env", "resources", "volumeMounts")' \
    "{\"image\": \"ghcr.io/kubeflow/training-v1/kubectl-delivery:latest\", \"imagePullPolicy\": \"IfNotPresent\",
      \"env\": [{\"name\": \"TARGET_DIR\", \"value\": \"/opt/kube\"}, {\"name\": \"NAMESPACE\", \"value\": \"$ns\"}],
      \"resources\": {\"limits\": {\"cpu\": \"100m\", \"memory\": \"512Mi\", \"ephemeral-storage\": \"5Gi\"},
                    \"requests\": {\"cpu\": \"100m\", \"memory\": \"512Mi\", \"ephemeral-storage\": \"5Gi\"}},
      \"volumeMounts\": [{\"name\": \"mpi-job-kubectl\", \"mountPath\": \"/opt/kube\"}, {\"name\": \"mpi-job-config\", \"mountPath\": \"/etc/mpi\"}]}"
  json_is pod $L 'init("kubectl-delivery")["command"]' \
    '["/bin/sh", "-c", "cp /bin/kubectl /opt/kube/kubectl && for h in tensorflow-mnist-worker-0 tensorflow-mnist-worker-1; do until [ \"$(/opt/kube/kubectl get pod $h -n $NAMESPACE -o jsonpath='"'"'{.status.phase}'"'"')\" = Running ]; do sleep 2; done; done"]'
  json_is pod $L 'env(container("mpi"))' '[["OMPI_MCA_plm_rsh_agent", "/etc/mpi/kubexec.sh"],
    ["OMPI_MCA_orte_default_hostfile", "/etc/mpi/hostfile"], ["NVIDIA_VISIBLE_DEVICES", ""],
    ["NVIDIA_DRIVER_CAPABILITIES", ""], ["I_MPI_HYDRA_BOOTSTRAP", "rsh"],
    ["I_MPI_HYDRA_BOOTSTRAP_EXEC", "/etc/mpi/kubexec.sh"]]'
  json_is pod $L 'container("mpi")["volumeMounts"]' \
    '[{"name": "mpi-job-kubectl", "mountPath": "/opt/kube"}, {"name": "mpi-job-config", "mountPath": "/etc/mpi"}]'
  json_is pod $L '[container("mpi")["command"], container("mpi")["args"][:2], container("mpi")["resources"]]' \
    '[["mpirun"], ["-np", "2"], {"limits": {"cpu": "1", "memory": "2Gi"}, "requests": {"cpu": "1", "memory": "2Gi"}}]'
  json_is pod $L '[pick(v, "name", "emptyDir") if "emptyDir" in v else {"name": v["name"], "configMap": pick(v["configMap"], "name", "items")} for v in o["spec"]["volumes"]]' \
    '[{"name": "mpi-job-kubectl", "emptyDir": {}}, {"name": "mpi-job-config", "configMap": {"name": "tensorflow-mnist-config", "items": [
      {"key": "kubexec.sh", "path": "kubexec.sh", "mode": 365}, {"key": "hostfile", "path": "hostfile", "mode": 292},
      {"key": "discover_hosts.sh", "path": "discover_hosts.sh", "mode": 365}]}}]'

  echo "--- worker pods"
  labels_are pod $W0 mpijob-controller $j worker 0 no
  labels_are pod $W1 mpijob-controller $j worker 1 no
  owned_by pod $W1 MPIJob $j
  for p in $W0 $W1; do
    expect pod $p '{.spec.restartPolicy}' Never
    json_is pod $p '[container("mpi")["command"], container("mpi")["args"]]' '[["sleep"], ["365d"]]'
    json_is pod $p 'env(container("mpi"))' '[]'
    json_is pod $p 'container("mpi")["volumeMounts"]' '[{"name": "mpi-job-config", "mountPath": "/etc/mpi"}]'
    json_is pod $p '[{"name": v["name"], "configMap": pick(v["configMap"], "name", "items")} for v in o["spec"]["volumes"]]' \
      '[{"name": "mpi-job-config", "configMap": {"name": "tensorflow-mnist-config", "items": [{"key": "kubexec.sh", "path": "kubexec.sh", "mode": 365}]}}]'
    expect pod $p '{.spec.initContainers[*].name}' ""
  done
  no_services

  eventually 150 "launcher and workers Running" pods_running $L $W0 $W1
  eventually 90 "MPIJob Running" has_condition mpijob $j Running
  expect mpijob $j '{.status.conditions[?(@.type=="Running")].reason}' MPIJobRunning
  expect mpijob $j '{.status.replicaStatuses.Worker.active}/{.status.replicaStatuses.Launcher.active}' 2/1
  json_eventually 60 configmap $j-config 'o["data"]["discover_hosts.sh"]' \
    '"#!/bin/sh\necho tensorflow-mnist-worker-0:1\necho tensorflow-mnist-worker-1:1"'
  no_services
  # The workers finishing does not end the job: the launcher decides.
  finish $L 0
  eventually 150 "MPIJob Succeeded once the launcher exits 0" has_condition mpijob $j Succeeded
  expect mpijob $j '{.status.conditions[?(@.type=="Succeeded")].reason}' MPIJobSucceeded
  expect mpijob $j '{.status.conditions[?(@.type=="Running")].status}' False
  [ -n "$(jp mpijob $j '{.status.completionTime}')" ] && ok "completionTime set" || fail "no completionTime"
  # cleanPodPolicy Running: the workers still running are deleted, the launcher is kept.
  eventually 90 "cleanPodPolicy Running deleted the running workers" sh -c \
    "! '$KUBECTL' get pod -n '$ns' $W0 && ! '$KUBECTL' get pod -n '$ns' $W1"
  exists pod $L && ok "finished launcher kept" || fail "finished launcher deleted"

  echo "--- the job is not Running while a worker is Pending (SPEC 13.5)"
  submit MPIJob gate 'w = r["Worker"]["template"]["spec"]; del w["nodeName"]; w["nodeSelector"] = {"kubedl.io/no-such-node": "x"}'
  eventually 150 "gate-launcher Running, gate workers created" pods_running gate-launcher
  pods_exist gate-worker-0 gate-worker-1 && ok "gate workers exist" || fail "gate workers missing"
  expect pod gate-worker-0 '{.status.phase}' Pending
  eventually 60 "gate Created" has_condition mpijob gate Created
  sleep 3
  expect mpijob gate '{.status.conditions[?(@.type=="Running")].status}' ""
  json_is configmap gate-config 'o["data"]["discover_hosts.sh"]' '"#!/bin/sh"'
}

scenario_mpi-scale() {
  start_reconciler rec --workloads=mpijob
  submit MPIJob sc 's["slotsPerWorker"] = 2; s["mainContainer"] = "mpi"'
  eventually 150 "sc launcher and workers Running" pods_running sc-launcher sc-worker-0 sc-worker-1
  eventually 90 "sc Running" has_condition mpijob sc Running
  json_is configmap sc-config 'o["data"]["hostfile"]' '"sc-worker-0 slots=2\nsc-worker-1 slots=2\n"'
  json_is configmap sc-config 'o["data"]["kubexec.sh"]' \
    '"#!/bin/sh\nset -x\nPOD_NAME=$1\nshift\n/opt/kube/kubectl exec ${POD_NAME} --container mpi -- /bin/sh -c \"$*\""'
  json_eventually 60 configmap sc-config 'o["data"]["discover_hosts.sh"]' '"#!/bin/sh\necho sc-worker-0:2\necho sc-worker-1:2"'
  # MPIJob has no scale subresource (SPEC 9).
  if k scale -n "$ns" mpijob sc --replicas=3 >/dev/null 2>&1; then fail "kubectl scale mpijob succeeded"
  else ok "kubectl scale mpijob refused (no scale subresource)"; fi

  echo "--- Worker replicas 2 -> 3"
  k patch -n "$ns" mpijob sc --type=merge -p '{"spec":{"mpiReplicaSpecs":{"Worker":{"replicas":3}}}}' >/dev/null ||
    fail "patch Worker replicas 3"
  eventually 150 "sc-worker-2 created and Running" pods_running sc-worker-2
  json_eventually 60 configmap sc-config 'o["data"]["hostfile"]' '"sc-worker-0 slots=2\nsc-worker-1 slots=2\nsc-worker-2 slots=2\n"'
  json_eventually 60 role sc-launcher 'o["rules"][1]["resourceNames"]' '["sc-worker-0", "sc-worker-1", "sc-worker-2"]'
  json_eventually 60 configmap sc-config 'o["data"]["discover_hosts.sh"]' \
    '"#!/bin/sh\necho sc-worker-0:2\necho sc-worker-1:2\necho sc-worker-2:2"'
  labels_are pod sc-worker-2 mpijob-controller sc worker 2 no
  json_is pod sc-worker-2 '[container("mpi")["command"], container("mpi")["args"]]' '[["sleep"], ["365d"]]'
  expect mpijob sc '{.status.replicaStatuses.Worker.active}' 3

  echo "--- Worker replicas 3 -> 1"
  k patch -n "$ns" mpijob sc --type=merge -p '{"spec":{"mpiReplicaSpecs":{"Worker":{"replicas":1}}}}' >/dev/null ||
    fail "patch Worker replicas 1"
  eventually 90 "sc-worker-1 and sc-worker-2 deleted" sh -c \
    "! '$KUBECTL' get pod -n '$ns' sc-worker-1 && ! '$KUBECTL' get pod -n '$ns' sc-worker-2"
  json_eventually 60 configmap sc-config 'o["data"]["hostfile"]' '"sc-worker-0 slots=2\n"'
  json_eventually 60 role sc-launcher 'o["rules"][1]["resourceNames"]' '["sc-worker-0"]'
  json_eventually 60 configmap sc-config 'o["data"]["discover_hosts.sh"]' '"#!/bin/sh\necho sc-worker-0:2"'
  expect pod sc-worker-0 '{.status.phase}' Running
}

scenario_mpi-failures() {
  start_reconciler rec --workloads=mpijob
  # Launcher exit 1 under Never (the default) fails the job; exit 137 under ExitCode recreates it.
  permanent_and_retryable MPIJob mpi Launcher launcher Never worker-0 worker-1
  expect mpijob perm '{.status.conditions[?(@.type=="Failed")].reason}' MPIJobFailed
  echo "--- a worker failing under Never fails the job too"
  submit MPIJob wfail 'pass'
  eventually 150 "wfail pods Running" pods_running wfail-launcher wfail-worker-0 wfail-worker-1
  finish wfail-worker-1 2
  eventually 150 "worker exit 2 under Never: wfail Failed" has_condition mpijob wfail Failed
  expect mpijob wfail '{.status.conditions[?(@.type=="Failed")].message}' \
    "MPIJob $ns/wfail has failed because 1 Worker replica(s) failed."
  expect mpijob wfail '{.status.conditions[?(@.type=="Failed")].reason}' MPIJobFailed
}

# --- PaddleJob --------------------------------------------------------------------------------
scenario_paddle-collective() {
  start_reconciler rec --workloads=paddlejob
  local j=paddle-simple-cpu
  submit PaddleJob $j 'w = r["Worker"]; w["restartPolicy"] = "OnFailure"
w["template"]["spec"]["containers"][0].update({"image": "registry.baidubce.com/paddlepaddle/paddle:2.4.0rc0-cpu", "command": ["python"], "args": ["-m", "paddle.distributed.launch", "run_check"], "ports": [{"name": "master", "containerPort": 37777}]})'
  local pods=($j-worker-0 $j-worker-1)
  eventually 150 "pods ${pods[*]} created" pods_exist "${pods[@]}"
  for p in "${pods[@]}"; do eventually 60 "service $p" exists svc "$p"; done
  [ "$(k get pods -n "$ns" -o name | wc -l)" = 2 ] && ok "exactly 2 pods" || fail "pod count"
  labels_are pod $j-worker-0 paddlejob-controller $j worker 0 yes
  labels_are pod $j-worker-1 paddlejob-controller $j worker 1 no
  labels_are svc $j-worker-1 paddlejob-controller $j worker 1 no
  owned_by pod $j-worker-0 PaddleJob $j
  owned_by svc $j-worker-1 PaddleJob $j
  for p in "${pods[@]}"; do
    headless_service "$p" master 37777
    json_is svc "$p" '[[p["name"], p["port"]] for p in o["spec"]["ports"]]' '[["master", 37777]]'
    json_is pod "$p" '[[p["name"], p["containerPort"]] for p in container("paddle")["ports"]]' '[["master", 37777]]'
    expect pod "$p" '{.spec.restartPolicy}' OnFailure
    expect pod "$p" '{.spec.initContainers[*].name}' ""
  done
  json_is pod $j-worker-0 'env(container("paddle"))' '[["PYTHONUNBUFFERED", "1"], ["PADDLE_JOB_ID", "paddle-simple-cpu"],
    ["PADDLE_NNODES", "2"], ["POD_IP_DUMMY", "fieldRef:status.podIP"], ["PADDLE_MASTER", "$(POD_IP_DUMMY):37777"]]'
  json_is pod $j-worker-1 'env(container("paddle"))' '[["PYTHONUNBUFFERED", "1"], ["PADDLE_JOB_ID", "paddle-simple-cpu"],
    ["PADDLE_NNODES", "2"], ["PADDLE_MASTER", "paddle-simple-cpu-worker-0:37777"]]'
  eventually 150 "pods Running" pods_running "${pods[@]}"
  eventually 90 "PaddleJob Running" has_condition paddlejob $j Running
  expect paddlejob $j '{.status.conditions[?(@.type=="Running")].reason}' PaddleJobRunning
  expect paddlejob $j '{.status.replicaStatuses.Worker.active}' 2
  # Collective: every worker must succeed.
  finish $j-worker-1 0
  eventually 90 "$j-worker-1 Succeeded" pods_succeeded $j-worker-1
  sleep 2
  expect paddlejob $j '{.status.conditions[?(@.type=="Succeeded")].status}' ""
  expect paddlejob $j '{.status.conditions[?(@.type=="Running")].status}' True
  finish $j-worker-0 0
  eventually 150 "PaddleJob Succeeded once both workers did" has_condition paddlejob $j Succeeded
  expect paddlejob $j '{.status.conditions[?(@.type=="Succeeded")].reason}' PaddleJobSucceeded
  expect paddlejob $j '{.status.replicaStatuses.Worker.succeeded}' 2
  expect paddlejob $j '{.status.conditions[?(@.type=="Running")].status}' False
}

scenario_paddle-ps() {
  start_reconciler rec --workloads=paddlejob
  local j=paddle-ps
  submit PaddleJob $j 'r["Master"] = {"replicas": 1, "template": t("paddle")}'
  local pods=($j-master-0 $j-worker-0 $j-worker-1)
  eventually 150 "pods ${pods[*]} created" pods_exist "${pods[@]}"
  for p in "${pods[@]}"; do eventually 60 "service $p" exists svc "$p"; done
  labels_are pod $j-master-0 paddlejob-controller $j master 0 yes
  labels_are pod $j-worker-0 paddlejob-controller $j worker 0 no
  labels_are svc $j-master-0 paddlejob-controller $j master 0 yes
  for p in "${pods[@]}"; do
    headless_service "$p" master 36543
    json_is pod "$p" '[[p["name"], p["containerPort"]] for p in container("paddle")["ports"]]' '[["master", 36543]]'
    expect pod "$p" '{.spec.restartPolicy}' OnFailure
  done
  json_is pod $j-master-0 'env(container("paddle"))' '[["PYTHONUNBUFFERED", "1"], ["PADDLE_JOB_ID", "paddle-ps"],
    ["PADDLE_NNODES", "3"], ["POD_IP_DUMMY", "fieldRef:status.podIP"], ["PADDLE_MASTER", "$(POD_IP_DUMMY):36543"],
    ["PADDLE_SERVER_NUM", "1"]]'
  for p in $j-worker-0 $j-worker-1; do
    json_is pod "$p" 'env(container("paddle"))' '[["PYTHONUNBUFFERED", "1"], ["PADDLE_JOB_ID", "paddle-ps"],
      ["PADDLE_NNODES", "3"], ["PADDLE_MASTER", "paddle-ps-master-0:36543"], ["PADDLE_TRAINER_NUM", "1"]]'
  done
  eventually 150 "pods Running" pods_running "${pods[@]}"
  eventually 90 "PaddleJob Running" has_condition paddlejob $j Running
  # PS mode: the Master decides; workers finishing do not end it, workers still running do not
  # hold it back.
  finish $j-worker-0 0
  eventually 90 "$j-worker-0 Succeeded" pods_succeeded $j-worker-0
  sleep 2
  expect paddlejob $j '{.status.conditions[?(@.type=="Succeeded")].status}' ""
  finish $j-master-0 0
  eventually 150 "PaddleJob Succeeded once the Master exits 0" has_condition paddlejob $j Succeeded
  expect paddlejob $j '{.status.conditions[?(@.type=="Succeeded")].reason}' PaddleJobSucceeded
  expect pod $j-worker-1 '{.status.phase}' Running
}

scenario_paddle-failures() {
  start_reconciler rec --workloads=paddlejob
  permanent_and_retryable PaddleJob paddle Worker worker-0 ExitCode worker-1
  echo "--- PS mode: the Master failing under the default OnFailure is retried"
  submit PaddleJob psr 'r["Master"] = {"replicas": 1, "template": t("paddle")}; r["Worker"]["replicas"] = 1'
  eventually 150 "psr pods Running" pods_running psr-master-0 psr-worker-0
  local uid; uid=$(jp pod psr-master-0 '{.metadata.uid}')
  finish psr-master-0 1
  eventually 150 "exit 1 under OnFailure: psr-master-0 recreated and Running" pod_recreated psr-master-0 "$uid"
  expect paddlejob psr '{.status.conditions[?(@.type=="Failed")].status}' ""
  eventually 90 "PaddleJobRestarting event" sh -c \
    "'$KUBECTL' get events -n '$ns' --field-selector involvedObject.name=psr,reason=PaddleJobRestarting -o name | grep -q ."
}

# --- JAXJob -----------------------------------------------------------------------------------
scenario_jax-shape() {
  start_reconciler rec --workloads=jaxjob
  local j=jaxjob-simple
  submit JAXJob $j 'w = r["Worker"]; w["restartPolicy"] = "OnFailure"
w["template"]["spec"]["containers"][0].update({"image": "ghcr.io/kubeflow/training-v1/jaxjob-simple:latest", "command": ["python3", "train.py"]})'
  local pods=($j-worker-0 $j-worker-1)
  eventually 150 "pods ${pods[*]} created" pods_exist "${pods[@]}"
  for p in "${pods[@]}"; do eventually 60 "service $p" exists svc "$p"; done
  [ "$(k get pods -n "$ns" -o name | wc -l)" = 2 ] && ok "exactly 2 pods" || fail "pod count"
  labels_are pod $j-worker-0 jaxjob-controller $j worker 0 yes
  labels_are pod $j-worker-1 jaxjob-controller $j worker 1 no
  labels_are svc $j-worker-0 jaxjob-controller $j worker 0 yes
  owned_by pod $j-worker-1 JAXJob $j
  owned_by svc $j-worker-0 JAXJob $j
  for p in "${pods[@]}"; do
    headless_service "$p" jaxjob-port 6666
    json_is pod "$p" '[[p["name"], p["containerPort"]] for p in container("jax")["ports"]]' '[["jaxjob-port", 6666]]'
    expect pod "$p" '{.spec.restartPolicy}' OnFailure
    expect pod "$p" '{.spec.initContainers[*].name}' ""
  done
  for i in 0 1; do
    json_is pod $j-worker-$i 'env(container("jax"))' "[[\"PYTHONUNBUFFERED\", \"1\"], [\"COORDINATOR_PORT\", \"6666\"],
      [\"COORDINATOR_ADDRESS\", \"jaxjob-simple-worker-0\"], [\"NUM_PROCESSES\", \"2\"], [\"PROCESS_ID\", \"$i\"]]"
  done
  eventually 150 "pods Running" pods_running "${pods[@]}"
  eventually 90 "JAXJob Running" has_condition jaxjob $j Running
  expect jaxjob $j '{.status.conditions[?(@.type=="Running")].reason}' JAXJobRunning
  expect jaxjob $j '{.status.replicaStatuses.Worker.selector}' \
    "training.kubeflow.org/job-name=jaxjob-simple,training.kubeflow.org/operator-name=jaxjob-controller,training.kubeflow.org/replica-type=worker"
  finish $j-worker-0 0
  eventually 90 "$j-worker-0 Succeeded" pods_succeeded $j-worker-0
  sleep 2
  expect jaxjob $j '{.status.conditions[?(@.type=="Succeeded")].status}' ""
  finish $j-worker-1 0
  eventually 150 "JAXJob Succeeded once both workers did" has_condition jaxjob $j Succeeded
  expect jaxjob $j '{.status.conditions[?(@.type=="Succeeded")].reason}' JAXJobSucceeded
  expect jaxjob $j '{.status.replicaStatuses.Worker.succeeded}' 2
}

scenario_jax-failures() {
  start_reconciler rec --workloads=jaxjob
  permanent_and_retryable JAXJob jax Worker worker-0 ExitCode worker-1
}

# --- the scale subresource of PaddleJob and JAXJob --------------------------------------------
# scale_is PLURAL NAME SPEC_REPLICAS SELECTOR: GET .../scale answers these.
scale_is() {
  local got
  got=$(k get --raw "/apis/kubeflow.org/v1/namespaces/$ns/$1/$2/scale" |
    python3 -c 'import json,sys; s=json.load(sys.stdin); print(s["spec"]["replicas"], s["status"].get("selector", ""))') || got="(no scale)"
  [ "$got" = "$3 $4" ] && ok "$1/$2/scale: $got" || fail "$1/$2/scale: '$got', want '$3 $4'"
}

scenario_scale-subresource() {
  start_reconciler rec --workloads=paddlejob,jaxjob
  submit PaddleJob pd 'pass'
  submit JAXJob jx 'pass'
  eventually 150 "pd and jx workers Running" pods_running pd-worker-0 pd-worker-1 jx-worker-0 jx-worker-1
  eventually 60 "jx Running" has_condition jaxjob jx Running
  scale_is jaxjobs jx 2 "training.kubeflow.org/job-name=jx,training.kubeflow.org/operator-name=jaxjob-controller,training.kubeflow.org/replica-type=worker"
  scale_is paddlejobs pd 2 "training.kubeflow.org/job-name=pd,training.kubeflow.org/operator-name=paddlejob-controller,training.kubeflow.org/replica-type=worker"
  k scale -n "$ns" paddlejob pd --replicas=3 >/dev/null || fail "kubectl scale paddlejob"
  k scale -n "$ns" jaxjob jx --replicas=3 >/dev/null || fail "kubectl scale jaxjob"
  expect paddlejob pd '{.spec.paddleReplicaSpecs.Worker.replicas}' 3
  expect jaxjob jx '{.spec.jaxReplicaSpecs.Worker.replicas}' 3
  eventually 150 "scaled up: pd-worker-2 and jx-worker-2 Running" pods_running pd-worker-2 jx-worker-2
  eventually 60 "services pd-worker-2 and jx-worker-2" pods_exist svc/pd-worker-2 svc/jx-worker-2
  json_is pod jx-worker-2 'env(container("jax"))' '[["PYTHONUNBUFFERED", "1"], ["COORDINATOR_PORT", "6666"],
    ["COORDINATOR_ADDRESS", "jx-worker-0"], ["NUM_PROCESSES", "3"], ["PROCESS_ID", "2"]]'
  json_is pod pd-worker-2 'env(container("paddle"))' '[["PYTHONUNBUFFERED", "1"], ["PADDLE_JOB_ID", "pd"],
    ["PADDLE_NNODES", "3"], ["PADDLE_MASTER", "pd-worker-0:36543"]]'
  eventually 60 "jaxjob jx Worker.active 3" is jaxjob jx '{.status.replicaStatuses.Worker.active}' 3
  scale_is jaxjobs jx 3 "training.kubeflow.org/job-name=jx,training.kubeflow.org/operator-name=jaxjob-controller,training.kubeflow.org/replica-type=worker"
  local st; st=$(k get --raw "/apis/kubeflow.org/v1/namespaces/$ns/jaxjobs/jx/scale" | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"]["replicas"])')
  [ "$st" = 3 ] && ok "jaxjobs/jx/scale status.replicas 3" || fail "jaxjobs/jx/scale status.replicas $st, want 3"
  k scale -n "$ns" jaxjob jx --replicas=1 >/dev/null || fail "kubectl scale jaxjob to 1"
  eventually 90 "scaled down: jx-worker-1 and jx-worker-2 deleted" sh -c \
    "! '$KUBECTL' get pod -n '$ns' jx-worker-1 && ! '$KUBECTL' get pod -n '$ns' jx-worker-2"
}

# --- PyTorchJob elastic autoscaling -----------------------------------------------------------
scenario_pytorch-autoscale() {
  start_reconciler rec --workloads=pytorchjob
  local metrics='[{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}]'
  submit PyTorchJob el "del r['Master']; s['elasticPolicy'] = {'minReplicas': 1, 'maxReplicas': 4, 'rdzvBackend': 'c10d', 'metrics': $metrics}"
  eventually 150 "el workers Running" pods_running el-worker-0 el-worker-1
  eventually 60 "HorizontalPodAutoscaler el created" exists horizontalpodautoscalers.v2.autoscaling el
  local hpa=horizontalpodautoscalers.v2.autoscaling
  json_is $hpa el 'o["apiVersion"]' '"autoscaling/v2"'
  json_is $hpa el 'o["spec"]["scaleTargetRef"]' '{"apiVersion": "kubeflow.org/v1", "kind": "PyTorchJob", "name": "el"}'
  json_is $hpa el '[o["spec"]["minReplicas"], o["spec"]["maxReplicas"]]' '[1, 4]'
  json_is $hpa el 'o["spec"]["metrics"]' "$metrics"
  owned_by $hpa el PyTorchJob el
  # No Master: torchrun assigns ranks; worker 0 is the master.
  for p in el-worker-0 el-worker-1; do
    json_is pod $p '[e[0] for e in env(container("pytorch")) if e[0] in ("RANK", "WORLD_SIZE", "PET_NODE_RANK", "MASTER_ADDR")]' '[]'
    env_is $p pytorch PET_NNODES 1:4
    env_is $p pytorch PET_RDZV_ENDPOINT el-worker-0:23456
  done
  labels_are pod el-worker-0 pytorchjob-controller el worker 0 yes
  labels_are pod el-worker-1 pytorchjob-controller el worker 1 no

  echo "--- maxReplicas 4 -> 5 updates the HPA"
  k patch -n "$ns" pytorchjob el --type=merge -p '{"spec":{"elasticPolicy":{"maxReplicas":5}}}' >/dev/null ||
    fail "patch maxReplicas"
  json_eventually 60 $hpa el '[o["spec"]["minReplicas"], o["spec"]["maxReplicas"]]' '[1, 5]'

  echo "--- kubectl scale through the scale subresource"
  k scale -n "$ns" pytorchjob el --replicas=3 >/dev/null || fail "kubectl scale pytorchjob"
  eventually 150 "scaled up: el-worker-2 Running" pods_running el-worker-2
  env_is el-worker-2 pytorch PET_NNODES 1:5
  json_is pod el-worker-2 '[e[0] for e in env(container("pytorch")) if e[0] in ("RANK", "WORLD_SIZE", "PET_NODE_RANK")]' '[]'
  expect pytorchjob el '{.spec.pytorchReplicaSpecs.Worker.replicas}' 3

  echo "--- suspend deletes the HPA, resume brings it back"
  k patch -n "$ns" pytorchjob el --type=merge -p '{"spec":{"runPolicy":{"suspend":true}}}' >/dev/null || fail "suspend"
  eventually 90 "suspended: HPA el deleted" sh -c "! '$KUBECTL' get -n '$ns' $hpa el"
  eventually 90 "el Suspended" has_condition pytorchjob el Suspended
  eventually 90 "suspended: pods deleted" sh -c "[ -z \"\$('$KUBECTL' get pods -n '$ns' -l training.kubeflow.org/job-name=el -o name)\" ]"
  sleep 2
  exists $hpa el && fail "HPA el came back while suspended" || ok "HPA el stays absent while suspended"
  k patch -n "$ns" pytorchjob el --type=merge -p '{"spec":{"runPolicy":{"suspend":false}}}' >/dev/null || fail "resume"
  eventually 90 "resumed: HPA el recreated" exists $hpa el
  json_is $hpa el '[o["spec"]["minReplicas"], o["spec"]["maxReplicas"]]' '[1, 5]'
  eventually 150 "resumed: workers Running" pods_running el-worker-0 el-worker-1 el-worker-2

  echo "--- an elastic job without metrics owns no HPA"
  submit PyTorchJob plain "del r['Master']; s['elasticPolicy'] = {'minReplicas': 1, 'maxReplicas': 4}"
  eventually 150 "plain workers Running" pods_running plain-worker-0 plain-worker-1
  sleep 2
  exists $hpa plain && fail "HPA for an elastic job without metrics" || ok "no HPA without metrics"
}

# --- --workloads=auto and the new kinds' CRDs --------------------------------------------------
scenario_workloads-auto-new-kinds() {
  echo "--- the shared cluster serves every CRD: auto starts MPIJob, PaddleJob and JAXJob"
  start_reconciler shared --workloads=auto
  local kind
  for kind in MPIJob PaddleJob JAXJob; do
    eventually 60 "log: started the $kind controller" grep -q "started the $kind controller" "$work/shared.log"
  done
  submit MPIJob am 'r["Worker"]["replicas"] = 1'
  submit PaddleJob ap 'r["Worker"]["replicas"] = 1'
  submit JAXJob aj 'r["Worker"]["replicas"] = 1'
  eventually 150 "each reconciled under auto" pods_exist am-launcher am-worker-0 configmap/am-config \
    ap-worker-0 svc/ap-worker-0 aj-worker-0 svc/aj-worker-0

  echo "--- a private API server without CRDs: each kind starts only once its CRD is applied"
  private_reconciler_without_crds
  local pk=(--kubeconfig "$work/cp/kubeconfig")
  "$KUBECTL" "${pk[@]}" create namespace late >/dev/null
  local started=() crd plural
  for kind in MPIJob PaddleJob JAXJob; do
    plural=$(echo "$kind" | tr 'A-Z' 'a-z')s
    crd=$repo/charts/kubedl/crds/kubeflow.org_$plural.yaml
    "$KUBECTL" "${pk[@]}" apply --server-side -f "$crd" >/dev/null
    "$KUBECTL" "${pk[@]}" wait --for=condition=Established --timeout=60s "crd/$plural.kubeflow.org" >/dev/null
    local applied_at=$SECONDS
    eventually 40 "log: started the $kind controller after its CRD was applied, without a restart" \
      grep -q "started the $kind controller" "$work/private.log"
    echo "  (picked up $((SECONDS - applied_at))s after the CRD was Established)"
    started+=("$kind")
    local other
    for other in MPIJob PaddleJob JAXJob TFJob PyTorchJob XGBoostJob XDLJob; do
      [[ " ${started[*]} " = *" $other "* ]] && continue
      grep -q "started the $other controller" "$work/private.log" &&
        fail "$other controller started without its CRD" || ok "$other controller not started (no CRD)"
    done
  done
  kill -0 "${pids[-1]}" && ok "same reconciler process" || fail "reconciler exited"
  # No scheduler runs there: pods stay Pending, but they and the other objects exist.
  job MPIJob lm 'r["Worker"]["replicas"] = 1' | "$KUBECTL" "${pk[@]}" apply -n late -f - >/dev/null || fail "apply MPIJob"
  job PaddleJob lp 'r["Worker"]["replicas"] = 1' | "$KUBECTL" "${pk[@]}" apply -n late -f - >/dev/null || fail "apply PaddleJob"
  job JAXJob lj 'r["Worker"]["replicas"] = 1' | "$KUBECTL" "${pk[@]}" apply -n late -f - >/dev/null || fail "apply JAXJob"
  eventually 150 "late MPIJob got its launcher, worker, ConfigMap, Role" "$KUBECTL" "${pk[@]}" get -n late \
    pod/lm-launcher pod/lm-worker-0 configmap/lm-config role/lm-launcher rolebinding/lm-launcher serviceaccount/lm-launcher
  eventually 150 "late PaddleJob got its pod and service" "$KUBECTL" "${pk[@]}" get -n late pod/lp-worker-0 svc/lp-worker-0
  eventually 150 "late JAXJob got its pod and service" "$KUBECTL" "${pk[@]}" get -n late pod/lj-worker-0 svc/lj-worker-0
}

run_scenario
