# Helpers shared by frameworks_test.sh and new_kinds_test.sh: a real kubedl-reconciler process
# per test on the local control plane (tools/controlplane), its own namespace, KWOK runs the pods.
# The sourcing script sets `scenario`, `reconciler`, `repo` and `webhook`, defines
# scenario_<name> functions and ends with `run_scenario`.
# shellcheck shell=bash disable=SC2034
: "${KUBECTL:?KUBECTL must point at kubectl}" "${KUBECONFIG:?KUBECONFIG must be set}"
k() { "$KUBECTL" "$@"; }

id="${test_prefix:-kdl-fw}-$scenario-$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')"
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

# start_webhook: a kubedl-webhook on a free port with its own CA, registered for this namespace
# only (label kubedl.io/webhook=<id>); returns once the API server calls it.
start_webhook() {
  [ -x "$webhook" ] || { echo "FAIL: $scenario needs the kubedl-webhook binary" >&2; exit 1; }
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

# json_matches RESOURCE NAME PY_EXPR WANT_JSON: prints PY_EXPR evaluated on the object `o` (null
# when a key is missing) and succeeds when it equals WANT_JSON exactly. In PY_EXPR,
# env(c) is a container's env as [name, value] pairs ("fieldRef:<path>" for a downward-API
# value) and container(name) / init(name) find a container of a pod by name.
json_matches() {
  local f; f=$(mktemp "$work/obj.XXXXXX")
  k get -n "$ns" "$1" "$2" -o json >"$f" 2>/dev/null || echo null >"$f"
  python3 -c '
import json, sys
o = json.load(open(sys.argv[1]))
def env(c):
    out = []
    for e in c.get("env") or []:
        if "valueFrom" in e:
            out.append([e["name"], "fieldRef:" + e["valueFrom"]["fieldRef"]["fieldPath"]])
        else:
            out.append([e["name"], e.get("value", "")])
    return out
def _find(key, name):
    return next(c for c in o["spec"].get(key) or [] if c["name"] == name)
container = lambda name: _find("containers", name)
init = lambda name: _find("initContainers", name)
def pick(d, *keys):
    return {k: d[k] for k in keys if k in d}
try:
    got = eval(sys.argv[2])
except (KeyError, IndexError, TypeError, StopIteration):
    got = None
print(json.dumps(got, sort_keys=True))
sys.exit(0 if got == json.loads(sys.argv[3]) else 1)' "$f" "$3" "$4"
  local rc=$?
  rm -f "$f"
  return $rc
}
json_is() {  # json_is RESOURCE NAME PY_EXPR WANT_JSON: an ok or FAIL line
  local got
  if got=$(json_matches "$@"); then ok "$1/$2 $3 = $got"; else fail "$1/$2 $3 = $got, want $4"; fi
}
# json_eventually SECONDS RESOURCE NAME PY_EXPR WANT_JSON: json_is once it holds, or the last value.
json_eventually() {
  local seconds=$1 got; shift
  local deadline=$((SECONDS + seconds))
  while [ $SECONDS -lt $deadline ]; do
    if got=$(json_matches "$@"); then ok "$1/$2 $3 = $got"; return 0; fi
    sleep 0.3
  done
  fail "$1/$2 $3 = $got, want $4 (not within ${seconds}s)"
  finish_test
}

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
 "MPIJob": ("kubeflow.org/v1", "mpiReplicaSpecs", {"Launcher": {"replicas": 1, "template": t("mpi")}, "Worker": {"replicas": 2, "template": t("mpi")}}),
 "PaddleJob": ("kubeflow.org/v1", "paddleReplicaSpecs", {"Worker": {"replicas": 2, "template": t("paddle")}}),
 "JAXJob": ("kubeflow.org/v1", "jaxReplicaSpecs", {"Worker": {"replicas": 2, "template": t("jax")}}),
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

# permanent_and_retryable KIND CONTAINER REPLICA_TYPE [POD_SUFFIX [PERM_POLICY [OTHER_SUFFIX...]]]:
# exit 1 under PERM_POLICY (default ExitCode) of the pod <job>-POD_SUFFIX (default
# <lower type>-0) fails the job; exit 137 under ExitCode recreates the pod, the job goes
# Restarting and then Running again. OTHER_SUFFIX: further pods that must run first.
permanent_and_retryable() {
  local kind=$1 c=$2 type=$3 lower; lower=$(echo "$3" | tr 'A-Z' 'a-z')
  local suffix=${4:-$lower-0} perm_policy=${5:-ExitCode}
  local others=("${@:6}")
  local plural; plural=$(echo "$kind" | tr 'A-Z' 'a-z')
  submit "$kind" perm "r['$type']['restartPolicy'] = '$perm_policy'"
  submit "$kind" retry "r['$type']['restartPolicy'] = 'ExitCode'"
  local perm_pods retry_pods o all=()
  perm_pods="perm-$suffix"
  retry_pods="retry-$suffix"
  for o in "${others[@]}"; do all+=("perm-$o" "retry-$o"); done
  eventually 150 "$perm_pods and $retry_pods Running" pods_running "$perm_pods" "$retry_pods" "${all[@]}"
  expect pod "$perm_pods" '{.spec.restartPolicy}' Never
  finish "$perm_pods" 1
  local old_uid; old_uid=$(jp pod "$retry_pods" '{.metadata.uid}')
  finish "$retry_pods" 137
  eventually 150 "exit 1 under $perm_policy: $kind perm Failed" has_condition "$plural" perm Failed
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


pods_succeeded() { for p in "$@"; do is pod "$p" '{.status.phase}' Succeeded || return 1; done; }

# A private etcd and kube-apiserver (own PKI, loopback, free ports) with no CRDs at all, so a
# CRD can be installed "later" without touching the shared cluster's CRDs.
# A private API server without CRDs and a --workloads=auto reconciler on it (log
# $work/private.log): after a discovery period no controller may have started.
private_reconciler_without_crds() {
  private_control_plane
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
}

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

run_scenario() {
  declare -F "scenario_$scenario" >/dev/null || { echo "FAIL: unknown scenario $scenario" >&2; exit 2; }
  k apply --server-side --force-conflicts -f "$repo/charts/kubedl/crds/" >/dev/null
  k wait --for=condition=Established --timeout=60s -f "$repo/charts/kubedl/crds/" >/dev/null
  k create namespace "$ns" >/dev/null
  # Pods name a KWOK node themselves: the shared scheduler may carry a backlog of other tests' and
  # benchmarks' pods, and what is under test here is the reconciler, not the scheduler.
  node=$(k get nodes -o name | sed -n 's|^node/\(kwok-node-.*\)|\1|p' | head -1)
  [ -n "$node" ] || { echo "FAIL: no KWOK node" >&2; exit 1; }
  echo "=== $scenario (namespace $ns)"
  wait_for_binary
  "scenario_$scenario"
  finish_test
}
