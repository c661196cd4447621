#!/usr/bin/env bash
# PyTorchJob, XGBoostJob and XDLJob, code sync and --workloads, against the real local API server
# (tools/controlplane) with a real kubedl-reconciler process per test. KWOK runs the pods: a test
# ends a training process by annotating its Running pod with kwok.kubedl.io/exit-code.
#   frameworks_test.sh SCENARIO RECONCILER_BINARY REPO [WEBHOOK_BINARY]
# Scenarios: pytorch-shape pytorch-failures xgboost-shape xgboost-failures xdl-shape xdl-failures
#            code-sync workloads-auto workloads-list workloads-unknown examples
set -euo pipefail
scenario=$1 reconciler=$2 repo=$3 webhook=${4:-}
: "${KUBECTL:?KUBECTL must point at kubectl}" "${KUBECONFIG:?KUBECONFIG must be set}"
k() { "$KUBECTL" "$@"; }

id="kdl-fw-$scenario-$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')"
ns=$id
work=$(mktemp -d)
pids=()
disposable=()  # the private etcd and kube-apiserver: SIGKILLed, nothing of theirs is kept
failures=0
cleanup() {
  local rc=$?
  for p in "${disposable[@]}"; do { kill -9 "$p" && wait "$p"; } 2>/dev/null || true; done
  for p in "${pids[@]}"; do { kill "$p" && wait "$p"; } 2>/dev/null || true; done
  k delete mutatingwebhookconfiguration "$id" --ignore-not-found >/dev/null 2>&1 || true
  k delete validatingwebhookconfiguration "$id" --ignore-not-found >/dev/null 2>&1 || true
  k delete namespace "$ns" --ignore-not-found --wait=false >/dev/null 2>&1 || true
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
ok() { echo "  ok  $*"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# --- the reconciler process -------------------------------------------------------------------
# start_reconciler LOG_NAME ARGS...: a kubedl-reconciler for this namespace on free ports, ready.
start_reconciler() {
  local log=$work/$1.log; shift
  local health; health=$(free_port)
  wait_for_binary
  "$reconciler" --kubeconfig="$KUBECONFIG" --namespace="$ns" --leader-elect=false \
    --health-port="$health" --metrics-port=0 "$@" >"$log" 2>&1 &
  pids+=($!)
  for _ in $(seq 300); do
    curl -sf "http://127.0.0.1:$health/readyz" >/dev/null && return 0
    kill -0 "${pids[-1]}" 2>/dev/null || break
    sleep 0.1
  done
  tail -30 "$log" >&2
  echo "FAIL: kubedl-reconciler $* did not become ready" >&2
  exit 1
}

# A build of the shared build directory may be relinking the binary right now: wait for it.
wait_for_binary() {
  for _ in $(seq 240); do
    [ -x "$reconciler" ] && [ -s "$reconciler" ] && return 0
    sleep 0.5
  done
}

# --- waiting and reading back -----------------------------------------------------------------
# eventually SECONDS DESCRIPTION COMMAND...: true once COMMAND succeeds, else a FAIL line.
eventually() {
  local seconds=$1 what=$2; shift 2
  local deadline=$((SECONDS + seconds))
  while [ $SECONDS -lt $deadline ]; do
    if "$@" >/dev/null 2>&1; then ok "$what"; return 0; fi
    sleep 0.3
  done
  fail "$what (not within ${seconds}s)"
  finish_test  # later steps build on this one
}
jp() { k get -n "$ns" "$1" "$2" -o "jsonpath=$3" 2>/dev/null; }  # jp RESOURCE NAME JSONPATH
expect() {  # expect RESOURCE NAME JSONPATH WANT
  local got; got=$(jp "$1" "$2" "$3")
  if [ "$got" = "$4" ]; then ok "$1/$2 $3 = $got"; else fail "$1/$2 $3 = '$got', want '$4'"; fi
}
is() { [ "$(jp "$1" "$2" "$3")" = "$4" ]; }
condition() { jp "$1" "$2" "{.status.conditions[?(@.type==\"$3\")].status}"; }
has_condition() { [ "$(condition "$1" "$2" "$3")" = True ]; }
# env_is POD CONTAINER NAME WANT
env_is() {
  expect pod "$1" "{.spec.containers[?(@.name==\"$2\")].env[?(@.name==\"$3\")].value}" "$4"
}
# finish POD EXIT_CODE: the KWOK stage ends the Running pod with that code on every container.
finish() {
  k annotate -n "$ns" pod "$1" kwok.kubedl.io/exit-code="$2" kwok.kubedl.io/run-for=200ms >/dev/null
}
pods_running() {  # pods_running NAME...
  for p in "$@"; do is pod "$p" '{.status.phase}' Running || return 1; done
}
pods_exist() {  # pods_exist NAME... (a NAME may be kind/name)
  for p in "$@"; do
    case "$p" in */*) exists "${p%/*}" "${p#*/}" ;; *) exists pod "$p" ;; esac || return 1
  done
}
pod_recreated() {  # pod_recreated POD OLD_UID: a new pod of that name, Running
  local uid; uid=$(jp pod "$1" '{.metadata.uid}')
  [ -n "$uid" ] && [ "$uid" != "$2" ] && is pod "$1" '{.status.phase}' Running
}
exists() { k get -n "$ns" "$1" "$2" >/dev/null 2>&1; }

# job KIND NAME PY_EXPR: a job manifest (JSON) built from a base by a python statement on `j`
# (r = the replica map, s = spec, t(c) = a pod template with one container named c).
job() {
  KWOK_NODE=$node python3 - "$@" <<'PY'
import json, os, sys
kind, name, expr = sys.argv[1], sys.argv[2], sys.argv[3]
node = os.environ.get("KWOK_NODE")
def t(c):
    spec = {"containers": [{"name": c, "image": "busybox:1.36"}]}
    if node: spec["nodeName"] = node
    return {"spec": spec}
bases = {
 "TFJob": ("kubeflow.org/v1", "tfReplicaSpecs", {"Worker": {"replicas": 1, "template": t("tensorflow")}}),
 "PyTorchJob": ("kubeflow.org/v1", "pytorchReplicaSpecs", {"Master": {"replicas": 1, "template": t("pytorch")}, "Worker": {"replicas": 2, "template": t("pytorch")}}),
 "XGBoostJob": ("kubeflow.org/v1", "xgbReplicaSpecs", {"Master": {"replicas": 1, "template": t("xgboost")}, "Worker": {"replicas": 2, "template": t("xgboost")}}),
 "XDLJob": ("xdl.kubedl.io/v1alpha1", "xdlReplicaSpecs", {"PS": {"replicas": 1, "template": t("xdl")}, "Scheduler": {"replicas": 1, "template": t("xdl")}, "Worker": {"replicas": 2, "template": t("xdl")}}),
}
api, key, replicas = bases[kind]
j = {"apiVersion": api, "kind": kind, "metadata": {"name": name}, "spec": {key: replicas}}
s, r = j["spec"], j["spec"][key]
exec(expr)
print(json.dumps(j))
PY
}
submit() { job "$@" | k apply -n "$ns" -f - >/dev/null || fail "apply $1 $2"; }

# labels_are POD_OR_SVC NAME OPERATOR JOB TYPE INDEX MASTER(yes|no): new and legacy label keys.
labels_are() {
  local res=$1 name=$2 op=$3 jobname=$4 type=$5 index=$6 master=$7 role=""
  [ "$master" = yes ] && role=master
  expect "$res" "$name" '{.metadata.labels.training\.kubeflow\.org/operator-name}' "$op"
  expect "$res" "$name" '{.metadata.labels.training\.kubeflow\.org/job-name}' "$jobname"
  expect "$res" "$name" '{.metadata.labels.training\.kubeflow\.org/replica-type}' "$type"
  expect "$res" "$name" '{.metadata.labels.training\.kubeflow\.org/replica-index}' "$index"
  expect "$res" "$name" '{.metadata.labels.training\.kubeflow\.org/job-role}' "$role"
  expect "$res" "$name" '{.metadata.labels.job-name}' "$jobname"
  expect "$res" "$name" '{.metadata.labels.replica-type}' "$type"
  expect "$res" "$name" '{.metadata.labels.replica-index}' "$index"
  expect "$res" "$name" '{.metadata.labels.job-role}' "$role"
}

# headless_service NAME PORT_NAME PORT: a clusterIP None service selecting exactly its pod.
headless_service() {
  expect svc "$1" '{.spec.clusterIP}' None
  expect svc "$1" "{.spec.ports[?(@.name==\"$2\")].port}" "$3"
  local selected
  selected=$(k get pods -n "$ns" -o name -l "$(k get svc -n "$ns" "$1" -o json |
    python3 -c 'import json,sys; print(",".join(f"{k}={v}" for k,v in json.load(sys.stdin)["spec"]["selector"].items()))')")
  [ "$selected" = "pod/$1" ] && ok "service $1 selects exactly pod/$1" ||
    fail "service $1 selects '$selected', want pod/$1"
}

owned_by() {  # owned_by RESOURCE NAME KIND JOB
  expect "$1" "$2" '{.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}/{.metadata.ownerReferences[0].controller}/{.metadata.ownerReferences[0].blockOwnerDeletion}' \
    "$3/$4/true/true"
}

# permanent_and_retryable KIND CONTAINER REPLICA_TYPE: exit 1 under ExitCode fails the job;
# exit 137 under ExitCode recreates the pod, the job goes Restarting and then Running again.
permanent_and_retryable() {
  local kind=$1 c=$2 type=$3 lower; lower=$(echo "$3" | tr 'A-Z' 'a-z')
  local plural; plural=$(echo "$kind" | tr 'A-Z' 'a-z')
  submit "$kind" perm "r['$type']['restartPolicy'] = 'ExitCode'"
  submit "$kind" retry "r['$type']['restartPolicy'] = 'ExitCode'"
  local perm_pods retry_pods
  perm_pods="perm-$lower-0"
  retry_pods="retry-$lower-0"
  eventually 150 "$perm_pods and $retry_pods Running" pods_running "$perm_pods" "$retry_pods"
  expect pod "$perm_pods" '{.spec.restartPolicy}' Never
  finish "$perm_pods" 1
  local old_uid; old_uid=$(jp pod "$retry_pods" '{.metadata.uid}')
  finish "$retry_pods" 137
  eventually 150 "exit 1 under ExitCode: $kind perm Failed" has_condition "$plural" perm Failed
  expect "$plural" perm '{.status.conditions[?(@.type=="Failed")].reason}' "${kind}Failed"
  expect "$plural" perm '{.status.conditions[?(@.type=="Failed")].message}' \
    "$kind $ns/perm has failed because 1 $type replica(s) failed."
  expect "$plural" perm '{.status.conditions[?(@.type=="Running")].status}' False
  expect "$plural" perm "{.status.replicaStatuses.$type.failed}" 1
  eventually 150 "exit 137 under ExitCode: $retry_pods recreated and Running" \
    pod_recreated "$retry_pods" "$old_uid"
  eventually 90 "$kind retry Running again" has_condition "$plural" retry Running
  # Restarting gave way to Running (they replace each other); its event stays.
  expect "$plural" retry '{.status.conditions[?(@.type=="Restarting")].status}' ""
  eventually 90 "${kind}Restarting event: is restarting because 1 $type replica(s) failed" sh -c \
    "'$KUBECTL' get events -n '$ns' --field-selector involvedObject.name=retry,reason=${kind}Restarting -o jsonpath='{.items[*].message}' | grep -q 'is restarting because 1 $type replica(s) failed'"
  expect "$plural" retry '{.status.conditions[?(@.type=="Failed")].status}' ""
  eventually 90 "ExitedWithCode 137 event" sh -c \
    "'$KUBECTL' get events -n '$ns' --field-selector involvedObject.name=retry,reason=ExitedWithCode -o jsonpath='{.items[*].message}' | grep -q 'exited with code 137'"
}

# --- scenarios --------------------------------------------------------------------------------
scenario_pytorch-shape() {
  start_reconciler rec --workloads=pytorchjob --master-wait-image=registry.local/wait:2 \
    --master-wait-retries=7 --master-wait-interval-seconds=3
  submit PyTorchJob pt 's["nprocPerNode"] = "2"'
  local pods=(pt-master-0 pt-worker-0 pt-worker-1)
  eventually 150 "pods ${pods[*]} created" pods_exist "${pods[@]}"
  for p in "${pods[@]}"; do eventually 60 "service $p" exists svc "$p"; done
  [ "$(k get pods -n "$ns" -o name | wc -l)" = 3 ] && ok "exactly 3 pods" || fail "pod count"
  labels_are pod pt-master-0 pytorchjob-controller pt master 0 yes
  labels_are pod pt-worker-1 pytorchjob-controller pt worker 1 no
  labels_are svc pt-worker-0 pytorchjob-controller pt worker 0 no
  expect pod pt-master-0 '{.metadata.labels.group-name}' kubeflow.org
  owned_by pod pt-worker-0 PyTorchJob pt
  owned_by svc pt-master-0 PyTorchJob pt
  for p in "${pods[@]}"; do headless_service "$p" pytorchjob-port 23456; done
  expect pod pt-master-0 '{.spec.restartPolicy}' OnFailure
  # 3 nodes x nprocPerNode 2; ranks: master 0, workers index + 1
  for p in "${pods[@]}"; do
    env_is "$p" pytorch MASTER_ADDR pt-master-0
    env_is "$p" pytorch PET_MASTER_ADDR pt-master-0
    env_is "$p" pytorch MASTER_PORT 23456
    env_is "$p" pytorch PET_MASTER_PORT 23456
    env_is "$p" pytorch WORLD_SIZE 6
    env_is "$p" pytorch PET_NPROC_PER_NODE 2
    env_is "$p" pytorch PET_NNODES 3
    env_is "$p" pytorch PYTHONUNBUFFERED 1
  done
  env_is pt-master-0 pytorch RANK 0
  env_is pt-master-0 pytorch PET_NODE_RANK 0
  env_is pt-worker-0 pytorch RANK 1
  env_is pt-worker-1 pytorch RANK 2
  env_is pt-worker-1 pytorch PET_NODE_RANK 2
  # Workers wait for the master's DNS name with the image, retries and interval of the flags.
  expect pod pt-master-0 '{.spec.initContainers[*].name}' ""
  expect pod pt-worker-1 '{.spec.initContainers[*].name}' init-pytorch
  expect pod pt-worker-1 '{.spec.initContainers[0].image}' registry.local/wait:2
  local script; script=$(jp pod pt-worker-1 '{.spec.initContainers[0].command[2]}')
  case "$script" in *'seq 7'*'nslookup pt-master-0'*'sleep 3'*) ok "init script: $script" ;;
    *) fail "init-pytorch script: $script" ;; esac
  eventually 150 "pods ${pods[*]} Running" pods_running "${pods[@]}"
  eventually 90 "PyTorchJob pt Running" has_condition pytorchjob pt Running
  expect pytorchjob pt '{.status.conditions[?(@.type=="Running")].reason}' PyTorchJobRunning
  expect pytorchjob pt '{.status.replicaStatuses.Worker.active}' 2
  # The scale subresource (spec.pytorchReplicaSpecs.Worker.replicas).
  k scale -n "$ns" pytorchjob pt --replicas=3 >/dev/null || fail "kubectl scale pytorchjob"
  eventually 150 "scaled up: pt-worker-2 Running" pods_running pt-worker-2
  env_is pt-worker-2 pytorch RANK 3
  env_is pt-worker-2 pytorch WORLD_SIZE 8
  # Master-driven: a finished worker does not end the job, the master does.
  finish pt-worker-0 0
  eventually 90 "pt-worker-0 Succeeded" is pod pt-worker-0 '{.status.phase}' Succeeded
  sleep 2
  expect pytorchjob pt '{.status.conditions[?(@.type=="Succeeded")].status}' ""
  finish pt-master-0 0
  eventually 150 "PyTorchJob pt Succeeded once the Master exits 0" has_condition pytorchjob pt Succeeded
  expect pytorchjob pt '{.status.conditions[?(@.type=="Running")].status}' False
  [ -n "$(jp pytorchjob pt '{.status.completionTime}')" ] && ok "completionTime set" ||
    fail "no completionTime"

  echo "--- PyTorchJob without a Master succeeds when all workers do"
  submit PyTorchJob nomaster 'del r["Master"]'
  eventually 150 "nomaster workers Running" pods_running nomaster-worker-0 nomaster-worker-1
  expect pod nomaster-worker-0 '{.spec.initContainers[*].name}' ""
  env_is nomaster-worker-1 pytorch RANK 1
  env_is nomaster-worker-1 pytorch MASTER_ADDR ""
  finish nomaster-worker-0 0
  eventually 90 "nomaster-worker-0 Succeeded" is pod nomaster-worker-0 '{.status.phase}' Succeeded
  sleep 2
  expect pytorchjob nomaster '{.status.conditions[?(@.type=="Succeeded")].status}' ""
  finish nomaster-worker-1 0
  eventually 150 "nomaster Succeeded" has_condition pytorchjob nomaster Succeeded

  echo "--- elastic PyTorchJob: rendezvous env, any worker finishing ends it"
  submit PyTorchJob elastic 'del r["Master"]; s["elasticPolicy"] = {"minReplicas": 1, "maxReplicas": 4, "rdzvBackend": "c10d", "maxRestarts": 3, "rdzvId": "run-1", "rdzvConf": [{"key": "timeout", "value": "60"}]}'
  eventually 150 "elastic workers Running" pods_running elastic-worker-0 elastic-worker-1
  env_is elastic-worker-1 pytorch PET_RDZV_ENDPOINT elastic-worker-0:23456
  env_is elastic-worker-1 pytorch PET_RDZV_BACKEND c10d
  env_is elastic-worker-1 pytorch PET_NNODES 1:4
  env_is elastic-worker-1 pytorch PET_MAX_RESTARTS 3
  env_is elastic-worker-1 pytorch PET_RDZV_ID run-1
  env_is elastic-worker-1 pytorch PET_RDZV_CONF timeout=60
  finish elastic-worker-1 0
  eventually 150 "elastic Succeeded after one worker" has_condition pytorchjob elastic Succeeded
}

scenario_pytorch-failures() {
  start_reconciler rec --workloads=pytorchjob
  permanent_and_retryable PyTorchJob pytorch Worker
}

scenario_xgboost-shape() {
  start_reconciler rec --workloads=xgboostjob
  submit XGBoostJob xg 'pass'
  local pods=(xg-master-0 xg-worker-0 xg-worker-1)
  eventually 150 "pods ${pods[*]} created" pods_exist "${pods[@]}"
  for p in "${pods[@]}"; do eventually 60 "service $p" exists svc "$p"; done
  labels_are pod xg-master-0 xgboostjob-controller xg master 0 yes
  labels_are pod xg-worker-1 xgboostjob-controller xg worker 1 no
  labels_are svc xg-master-0 xgboostjob-controller xg master 0 yes
  owned_by pod xg-master-0 XGBoostJob xg
  for p in "${pods[@]}"; do headless_service "$p" xgboostjob-port 9999; done
  expect pod xg-worker-0 '{.spec.restartPolicy}' Never
  for p in "${pods[@]}"; do
    env_is "$p" xgboost MASTER_ADDR xg-master-0
    env_is "$p" xgboost MASTER_PORT 9999
    env_is "$p" xgboost WORLD_SIZE 3
    env_is "$p" xgboost WORKER_PORT 9999
    env_is "$p" xgboost WORKER_ADDRS xg-worker-0,xg-worker-1
    env_is "$p" xgboost PYTHONUNBUFFERED 1
  done
  env_is xg-master-0 xgboost RANK 0
  env_is xg-worker-0 xgboost RANK 1
  env_is xg-worker-1 xgboost RANK 2
  eventually 150 "pods ${pods[*]} Running" pods_running "${pods[@]}"
  eventually 90 "XGBoostJob xg Running" has_condition xgboostjob xg Running
  expect xgboostjob xg '{.status.conditions[?(@.type=="Running")].reason}' XGBoostJobRunning
  finish xg-worker-0 0
  finish xg-worker-1 0
  eventually 90 "workers Succeeded" pods_succeeded xg-worker-0 xg-worker-1
  sleep 2
  expect xgboostjob xg '{.status.conditions[?(@.type=="Succeeded")].status}' ""
  finish xg-master-0 0
  eventually 150 "XGBoostJob xg Succeeded once the Master exits 0" has_condition xgboostjob xg Succeeded
  expect xgboostjob xg '{.status.conditions[?(@.type=="Succeeded")].reason}' XGBoostJobSucceeded

  echo "--- a single-replica XGBoostJob has no WORKER_* env"
  submit XGBoostJob solo 'del r["Worker"]'
  eventually 150 "solo-master-0 Running" pods_running solo-master-0
  env_is solo-master-0 xgboost WORLD_SIZE 1
  env_is solo-master-0 xgboost WORKER_ADDRS ""
}
pods_succeeded() { for p in "$@"; do is pod "$p" '{.status.phase}' Succeeded || return 1; done; }

scenario_xgboost-failures() {
  start_reconciler rec --workloads=xgboostjob
  permanent_and_retryable XGBoostJob xgboost Worker
}

scenario_xdl-shape() {
  start_reconciler rec --workloads=xdljob
  submit XDLJob xd 'r["Worker"]["template"]["spec"]["containers"][0]["env"] = [{"name": "ZK_ADDR", "value": "zk://zk-0.zk:2181/xdl/"}]'
  local pods=(xd-ps-0 xd-scheduler-0 xd-worker-0 xd-worker-1)
  eventually 150 "pods ${pods[*]} created" pods_exist "${pods[@]}"
  for p in "${pods[@]}"; do eventually 60 "service $p" exists svc "$p"; done
  labels_are pod xd-ps-0 xdljob-controller xd ps 0 no
  labels_are pod xd-worker-1 xdljob-controller xd worker 1 no
  labels_are svc xd-scheduler-0 xdljob-controller xd scheduler 0 no
  expect pod xd-ps-0 '{.metadata.labels.group-name}' xdl.kubedl.io
  owned_by pod xd-worker-0 XDLJob xd
  for p in "${pods[@]}"; do headless_service "$p" xdljob-port 2222; done
  local uid; uid=$(jp xdljob xd '{.metadata.uid}')
  env_is xd-ps-0 xdl TASK_NAME ps
  env_is xd-ps-0 xdl TASK_INDEX 0
  env_is xd-scheduler-0 xdl TASK_NAME scheduler
  env_is xd-worker-1 xdl TASK_NAME worker
  env_is xd-worker-1 xdl TASK_INDEX 1
  env_is xd-worker-1 xdl ZK_ADDR "zk://zk-0.zk:2181/xdl/$uid"
  env_is xd-ps-0 xdl ZK_ADDR ""
  local config; config=$(jp pod xd-worker-1 '{.spec.containers[0].env[?(@.name=="XDL_CONFIG")].value}')
  local want
  want=$(python3 -c 'import json,sys; ns=sys.argv[1]; a=lambda t,i: f"xd-{t}-{i}.{ns}.svc:2222"
print(json.dumps({"cluster": {"ps": [a("ps",0)], "scheduler": [a("scheduler",0)], "worker": [a("worker",0), a("worker",1)]}, "task": {"type": "worker", "index": 1}}, sort_keys=True))' "$ns")
  local got; got=$(python3 -c 'import json,sys; print(json.dumps(json.loads(sys.argv[1]), sort_keys=True))' "$config" 2>/dev/null || true)
  [ "$got" = "$want" ] && ok "XDL_CONFIG $got" || fail "XDL_CONFIG = $config, want $want"
  eventually 150 "pods ${pods[*]} Running" pods_running "${pods[@]}"
  eventually 90 "XDLJob xd Running" has_condition xdljob xd Running
  expect xdljob xd '{.status.conditions[?(@.type=="Running")].reason}' XDLJobRunning
  # Default minFinishWorkRate 90: ceil(2 x 0.9) = 2 workers must succeed.
  finish xd-worker-0 0
  eventually 90 "xd-worker-0 Succeeded" pods_succeeded xd-worker-0
  sleep 2
  expect xdljob xd '{.status.conditions[?(@.type=="Succeeded")].status}' ""
  finish xd-worker-1 0
  eventually 150 "XDLJob xd Succeeded when 2 of 2 workers did (rate 90)" has_condition xdljob xd Succeeded
  # cleanPodPolicy defaults to Running for XDL: the PS and Scheduler still running are deleted.
  eventually 150 "cleanPodPolicy Running deleted xd-ps-0" sh -c "! '$KUBECTL' get pod -n '$ns' xd-ps-0"
  exists pod xd-worker-0 && ok "finished worker kept" || fail "finished worker deleted"

  echo "--- minFinishWorkNum 2 of 3 workers + 1 ExtendRole (ExtendRole counts too)"
  submit XDLJob num 's["minFinishWorkNum"] = 2; r["Worker"]["replicas"] = 3; r["ExtendRole"] = {"replicas": 1, "template": t("xdl")}'
  eventually 150 "num pods Running" pods_running num-worker-0 num-worker-2 num-extendrole-0
  env_is num-extendrole-0 xdl TASK_NAME extendrole
  finish num-worker-2 0
  eventually 90 "num-worker-2 Succeeded" pods_succeeded num-worker-2
  sleep 2
  expect xdljob num '{.status.conditions[?(@.type=="Succeeded")].status}' ""
  finish num-extendrole-0 0
  eventually 150 "XDLJob num Succeeded at 2 finished (worker + extendrole)" has_condition xdljob num Succeeded
}

scenario_xdl-failures() {
  start_reconciler rec --workloads=xdljob
  permanent_and_retryable XDLJob xdl Worker
}

scenario_code-sync() {
  start_reconciler rec --workloads=pytorchjob
  local git='{"source": "https://git.example.com/team/trainer.git", "branch": "dev", "depth": 1, "envs": [{"name": "HTTPS_PROXY", "value": "http://proxy:3128"}]}'
  submit PyTorchJob gs "j['metadata']['annotations'] = {'kubedl.io/git-sync-config': '''$git'''}; r['Worker']['template']['spec']['containers'][0]['workingDir'] = '/workspace'"
  eventually 150 "gs pods created" pods_exist gs-master-0 gs-worker-0 gs-worker-1
  for p in gs-master-0 gs-worker-1; do
    expect pod "$p" '{.spec.initContainers[?(@.name=="git-sync-code")].image}' kubedl/git-sync:v1
    local c="{.spec.initContainers[?(@.name==\"git-sync-code\")]"
    expect pod "$p" "$c.env[?(@.name==\"GIT_SYNC_REPO\")].value}" https://git.example.com/team/trainer.git
    expect pod "$p" "$c.env[?(@.name==\"GIT_SYNC_ONE_TIME\")].value}" true
    expect pod "$p" "$c.env[?(@.name==\"GIT_SYNC_MAX_SYNC_FAILURES\")].value}" 3
    expect pod "$p" "$c.env[?(@.name==\"GIT_SYNC_BRANCH\")].value}" dev
    expect pod "$p" "$c.env[?(@.name==\"GIT_SYNC_DEPTH\")].value}" 1
    expect pod "$p" "$c.env[?(@.name==\"GIT_SYNC_ROOT\")].value}" /code
    expect pod "$p" "$c.env[?(@.name==\"GIT_SYNC_DEST\")].value}" trainer
    expect pod "$p" "$c.env[?(@.name==\"HTTPS_PROXY\")].value}" http://proxy:3128
    expect pod "$p" "$c.volumeMounts[0].name}:$c.volumeMounts[0].mountPath}" git-sync:/code
    expect pod "$p" '{.spec.volumes[?(@.name=="git-sync")].emptyDir}' '{}'
    expect pod "$p" '{.spec.containers[0].volumeMounts[?(@.name=="git-sync")].subPath}' trainer
  done
  # Mounted at <workingDir>/<destPath>; a container without workingDir finds it under rootPath.
  expect pod gs-worker-1 '{.spec.containers[0].volumeMounts[?(@.name=="git-sync")].mountPath}' /workspace/trainer
  expect pod gs-master-0 '{.spec.containers[0].volumeMounts[?(@.name=="git-sync")].mountPath}' /code/trainer
  # The PyTorch master-wait container and the code sync both run before the worker.
  expect pod gs-worker-0 '{.spec.initContainers[*].name}' "init-pytorch git-sync-code"

  echo "--- an HTTP(S) archive source: downloaded and unpacked by its own init container"
  local http='{"sourceType": "http", "source": "https://files.example.com/code/model-v2.tar.gz", "image": "busybox:1.36", "rootPath": "/src", "maxFailures": 5}'
  submit PyTorchJob arch "del r['Worker']; j['metadata']['annotations'] = {'kubedl.io/git-sync-config': '''$http'''}"
  eventually 150 "arch-master-0 created" pods_exist arch-master-0
  local c='{.spec.initContainers[?(@.name=="code-sync-http")]'
  expect pod arch-master-0 "$c.image}" busybox:1.36
  expect pod arch-master-0 "$c.env[?(@.name==\"CODE_SOURCE\")].value}" https://files.example.com/code/model-v2.tar.gz
  expect pod arch-master-0 "$c.env[?(@.name==\"CODE_DEST\")].value}" model-v2
  expect pod arch-master-0 "$c.env[?(@.name==\"CODE_SYNC_MAX_FAILURES\")].value}" 5
  local script; script=$(jp pod arch-master-0 "$c.command[2]}")
  case "$script" in *'a="${TMPDIR:-/tmp}/code.archive"'*'wget -q -O "$a" "$CODE_SOURCE"'*'tar -xzf "$a"'*) ok "http fetch script" ;;
    *) fail "code-sync-http script: $script" ;; esac
  expect pod arch-master-0 '{.spec.containers[0].volumeMounts[?(@.name=="git-sync")].mountPath}' /src/model-v2

  echo "--- a malformed annotation (no webhook here) never crashes the reconciler"
  submit PyTorchJob broken "del r['Worker']; j['metadata']['annotations'] = {'kubedl.io/git-sync-config': '{\"branch\": 1'}"
  # The reconciler validates as the webhook does: the job fails with InvalidSpec naming the
  # annotation, and a Warning event says the same.
  eventually 90 "InvalidSpec event names the annotation" sh -c \
    "'$KUBECTL' get events -n '$ns' --field-selector involvedObject.name=broken,reason=InvalidSpec -o jsonpath='{.items[*].message}' | grep -q 'kubedl.io/git-sync-config'"
  expect pytorchjob broken '{.status.conditions[?(@.type=="Failed")].reason}' InvalidSpec
  exists pod broken-master-0 && fail "a pod was created for the malformed annotation" ||
    ok "no pod for the malformed annotation"
  kill -0 "${pids[0]}" && ok "reconciler still running" || fail "reconciler died"
  submit PyTorchJob after "del r['Worker']"
  eventually 150 "a job after the malformed one still gets its pod" pods_exist after-master-0
}

# A private etcd and kube-apiserver (own PKI, loopback, free ports) with no CRDs at all, so the
# XDL CRD can be installed "later" without touching the shared cluster's CRDs.
private_control_plane() {
  local dir=$work/cp etcd_port peer_port api_port
  etcd_port=$(free_port) peer_port=$(free_port) api_port=$(free_port)
  mkdir -p "$dir/pki" && mkdir -m 700 "$dir/etcd"
  local gen=$repo/tools/certs/gen.sh
  bash "$gen" ca "$dir/pki" ca
  bash "$gen" server "$dir/pki" apiserver "$dir/pki/ca" localhost,127.0.0.1
  bash "$gen" client "$dir/pki" admin "$dir/pki/ca" fw-admin system:masters
  openssl genrsa -out "$dir/pki/sa.key" 2048 2>/dev/null
  openssl rsa -in "$dir/pki/sa.key" -pubout -out "$dir/pki/sa.pub" 2>/dev/null
  source "$repo/tools/controlplane/versions.env"
  local etcd_bin=${KUBEDL_CACHE:-$HOME/.cache/kubedl}/bin/etcd-$ETCD_VERSION/etcd
  "$etcd_bin" --name fw --data-dir "$dir/etcd" \
    --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$peer_port" --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
    --initial-cluster "fw=http://127.0.0.1:$peer_port" --unsafe-no-fsync --log-level warn \
    >"$work/etcd.log" 2>&1 &
  disposable+=($!)
  "$K8S_BIN/kube-apiserver" --etcd-servers "http://127.0.0.1:$etcd_port" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$api_port" \
    --tls-cert-file "$dir/pki/apiserver.crt" --tls-private-key-file "$dir/pki/apiserver.key" \
    --client-ca-file "$dir/pki/ca.crt" --service-account-issuer "https://127.0.0.1:$api_port" \
    --service-account-key-file "$dir/pki/sa.pub" --service-account-signing-key-file "$dir/pki/sa.key" \
    --service-cluster-ip-range 10.0.0.0/16 --endpoint-reconciler-type none \
    --kubelet-preferred-address-types=InternalIP \
    --authorization-mode RBAC --disable-admission-plugins ServiceAccount \
    --enable-priority-and-fairness=false --profiling=false --v 0 >"$work/apiserver.log" 2>&1 &
  disposable+=($!)
  cat >"$dir/kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters:
- name: private
  cluster: {server: "https://127.0.0.1:$api_port", certificate-authority: $dir/pki/ca.crt}
users:
- name: admin
  user: {client-certificate: $dir/pki/admin.crt, client-key: $dir/pki/admin.key}
contexts:
- name: private
  context: {cluster: private, user: admin}
current-context: private
KC
  for _ in $(seq 240); do
    "$KUBECTL" --kubeconfig "$dir/kubeconfig" get --raw /readyz >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  tail -20 "$work/apiserver.log" >&2
  echo "FAIL: the private kube-apiserver did not become ready" >&2
  exit 1
}

scenario_workloads-auto() {
  echo "--- the shared cluster serves every CRD: auto starts all four, XDLJob included"
  start_reconciler shared --workloads=auto
  eventually 60 "log: started the XDLJob controller" grep -q "started the XDLJob controller" "$work/shared.log"
  submit XDLJob auto 'del r["PS"]; del r["Scheduler"]; r["Worker"]["replicas"] = 1'
  eventually 150 "XDLJob reconciled under auto (pod created)" pods_exist auto-worker-0

  echo "--- a private API server without CRDs: XDLJob starts only once its CRD is applied"
  private_control_plane
  local pk=(--kubeconfig "$work/cp/kubeconfig")
  local health; health=$(free_port)
  "$reconciler" --kubeconfig="$work/cp/kubeconfig" --leader-elect=false --workloads=auto \
    --health-port="$health" --metrics-port=0 >"$work/private.log" 2>&1 &
  pids+=($!)
  eventually 150 "reconciler ready against the private API server" curl -sf "http://127.0.0.1:$health/readyz"
  sleep 12  # longer than one discovery period (10s): nothing is served, nothing may start
  if grep -q "started the .* controller" "$work/private.log"; then
    fail "a controller started although no CRD is served: $(grep 'started the' "$work/private.log")"
  else
    ok "no controller started while no CRD is served"
  fi
  "$KUBECTL" "${pk[@]}" apply --server-side -f "$repo/charts/kubedl/crds/xdl.kubedl.io_xdljobs.yaml" >/dev/null
  "$KUBECTL" "${pk[@]}" wait --for=condition=Established --timeout=60s crd/xdljobs.xdl.kubedl.io >/dev/null
  local applied_at=$SECONDS
  eventually 40 "log: started the XDLJob controller after the CRD was applied, without a restart" \
    grep -q "started the XDLJob controller" "$work/private.log"
  echo "  (picked up $((SECONDS - applied_at))s after the CRD was Established)"
  grep -q "started the TFJob controller" "$work/private.log" &&
    fail "TFJob controller started without its CRD" || ok "TFJob controller not started (no CRD)"
  kill -0 "${pids[-1]}" && ok "same reconciler process" || fail "reconciler exited"
  "$KUBECTL" "${pk[@]}" create namespace late >/dev/null
  job XDLJob late 'del r["PS"]; del r["Scheduler"]; r["Worker"]["replicas"] = 1' |
    "$KUBECTL" "${pk[@]}" apply -n late -f - >/dev/null || fail "apply XDLJob on the private server"
  # No scheduler runs there: the pod stays Pending, but it and its service exist.
  eventually 150 "late XDLJob got its pod and service" "$KUBECTL" "${pk[@]}" get -n late pod/late-worker-0 svc/late-worker-0
  eventually 90 "late XDLJob Created condition" sh -c \
    "'$KUBECTL' --kubeconfig '$work/cp/kubeconfig' get xdljob -n late late -o jsonpath='{.status.conditions[0].reason}' | grep -q XDLJobCreated"
}

scenario_workloads-list() {
  start_reconciler rec --workloads=pytorchjob,-tfjob
  grep -q "reconciling PyTorchJob$" "$work/rec.log" && ok "log: reconciling PyTorchJob" ||
    fail "log lacks 'reconciling PyTorchJob': $(grep reconciling "$work/rec.log")"
  submit TFJob tf 'pass'
  submit PyTorchJob pt 'del r["Worker"]'
  eventually 150 "the PyTorchJob is reconciled" pods_exist pt-master-0 svc/pt-master-0
  eventually 90 "PyTorchJob Created" has_condition pytorchjob pt Created
  sleep 3
  [ -z "$(k get pods -n "$ns" -l training.kubeflow.org/job-name=tf -o name)" ] &&
    ok "the TFJob got no pods" || fail "the TFJob got pods under -tfjob"
  expect tfjob tf '{.status.conditions}' ""
  grep -q "started the TFJob controller" "$work/rec.log" && fail "TFJob controller started" ||
    ok "no TFJob controller"

  echo "--- case-insensitive names, WORKLOADS_ENABLE when the flag is absent"
  local health; health=$(free_port)
  WORKLOADS_ENABLE="TFJOB" "$reconciler" --kubeconfig="$KUBECONFIG" --namespace="$ns" \
    --leader-elect=false --health-port="$health" --metrics-port=0 >"$work/env.log" 2>&1 &
  pids+=($!)
  eventually 150 "WORKLOADS_ENABLE=TFJOB reconciler ready" curl -sf "http://127.0.0.1:$health/readyz"
  eventually 150 "the TFJob is reconciled by the WORKLOADS_ENABLE=TFJOB process" pods_exist tf-worker-0
  grep -q "started the PyTorchJob controller" "$work/env.log" &&
    fail "WORKLOADS_ENABLE=TFJOB started PyTorchJob" || ok "only TFJob under WORKLOADS_ENABLE=TFJOB"
}

scenario_workloads-unknown() {
  local out code=0
  out=$("$reconciler" --kubeconfig="$KUBECONFIG" --leader-elect=false --health-port=0 \
        --metrics-port=0 --workloads=pytorchjob,mxjob 2>&1) || code=$?
  [ "$code" -ne 0 ] && ok "exit code $code" || fail "exited 0 on an unknown workload"
  echo "  $out"
  for want in '"mxjob"' TFJob PyTorchJob XGBoostJob XDLJob auto; do
    case "$out" in *"$want"*) ok "message names $want" ;; *) fail "message lacks $want: $out" ;; esac
  done
  code=0
  out=$(WORKLOADS_ENABLE=mpijob "$reconciler" --kubeconfig="$KUBECONFIG" --leader-elect=false \
        --health-port=0 --metrics-port=0 2>&1) || code=$?
  [ "$code" -ne 0 ] && ok "WORKLOADS_ENABLE=mpijob refused (exit $code)" ||
    fail "WORKLOADS_ENABLE=mpijob accepted"
  case "$out" in *'"mpijob"'*XDLJob*) ok "$out" ;; *) fail "message: $out" ;; esac
}

# Every replica template of the jobs on stdin (YAML) names the KWOK node (see `node` below).
on_node() {
  python3 -c 'import sys, yaml
docs = [d for d in yaml.safe_load_all(sys.stdin) if d]
for d in docs:
    for key, replicas in d["spec"].items():
        if key.endswith("ReplicaSpecs"):
            for r in replicas.values():
                r["template"].setdefault("spec", {})["nodeName"] = sys.argv[1]
yaml.safe_dump_all(docs, sys.stdout)' "$node"
}

scenario_examples() {
  [ -x "$webhook" ] || { echo "FAIL: examples needs the kubedl-webhook binary" >&2; exit 1; }
  bash "$repo/tools/certs/gen.sh" ca "$work" ca
  bash "$repo/tools/certs/gen.sh" server "$work" server "$work/ca" 127.0.0.1,localhost
  local port; port=$(free_port)
  "$webhook" --bind-address=127.0.0.1 --port="$port" --health-port=0 \
    --cert-file="$work/server.crt" --key-file="$work/server.key" >"$work/webhook.log" 2>&1 &
  pids+=($!)
  eventually 90 "webhook ready" curl -sf --cacert "$work/ca.crt" "https://127.0.0.1:$port/readyz"
  k label namespace "$ns" "kubedl.io/webhook=$id" >/dev/null
  KUBECTL=$KUBECTL bash "$repo/tools/register-webhooks.sh" "$id" "https://127.0.0.1:$port" "$work/ca.crt"
  local probe='{"apiVersion":"kubeflow.org/v1","kind":"TFJob","metadata":{"name":"probe"},"spec":{"tfReplicaSpecs":{}}}'
  refuses_probe() { ! k create -n "$ns" --dry-run=server -f - <<<"$probe"; }
  eventually 90 "webhook registration in effect" refuses_probe
  start_reconciler rec --workloads=auto
  local f
  for f in "$repo"/examples/*.yaml; do
    python3 "$repo/tools/demo/simulate.py" 2s <"$f" | on_node | k apply -n "$ns" -f - >/dev/null ||
      fail "apply examples/$(basename "$f")"
  done
  # Every example's job (kind/name) from the files themselves.
  local jobs
  jobs=$(cat "$repo"/examples/*.yaml | python3 -c 'import sys, yaml
for d in yaml.safe_load_all(sys.stdin):
    if d: print(d["kind"].lower() + "/" + d["metadata"]["name"])')
  [ -n "$jobs" ] || fail "no example jobs found"
  local j
  for j in $jobs; do
    eventually 120 "examples: $j Succeeded" has_condition "${j%/*}" "${j#*/}" Succeeded
  done
  # The webhook defaulted what the files leave out; the reconciler used it.
  expect pod mnist-tf-worker-0 '{.spec.containers[0].ports[0].name}' tfjob-port
  expect xdljob deepctr-xdl '{.spec.minFinishWorkRate}' 90
  expect pod iris-xgboost-worker-0 '{.spec.initContainers[?(@.name=="git-sync-code")].env[?(@.name=="GIT_SYNC_BRANCH")].value}' master
}

finish_test() {
  for p in "${pids[@]}"; do
    kill -0 "$p" 2>/dev/null || fail "a process this test started (pid $p) died"
  done
  if [ "$failures" -gt 0 ]; then
    k get -n "$ns" pods,svc -o wide 2>&1 | head -30
    for log in "$work"/*.log; do echo "--- $(basename "$log") (tail)"; tail -25 "$log"; done
    echo "$failures failure(s)" >&2
    exit 1
  fi
  echo "PASS $scenario"
  exit 0
}

k apply --server-side --force-conflicts -f "$repo/charts/kubedl/crds/" >/dev/null
k wait --for=condition=Established --timeout=60s crd/tfjobs.kubeflow.org crd/pytorchjobs.kubeflow.org \
  crd/xgboostjobs.kubeflow.org crd/xdljobs.xdl.kubedl.io >/dev/null
k create namespace "$ns" >/dev/null
# Pods name a KWOK node themselves: the shared scheduler may carry a backlog of other tests' and
# benchmarks' pods, and what is under test here is the reconciler, not the scheduler.
node=$(k get nodes -o name | sed -n 's|^node/\(kwok-node-.*\)|\1|p' | head -1)
[ -n "$node" ] || { echo "FAIL: no KWOK node" >&2; exit 1; }
echo "=== $scenario (namespace $ns)"
wait_for_binary
"scenario_$scenario"
finish_test
