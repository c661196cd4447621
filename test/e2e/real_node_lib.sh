# Sourced by the end-to-end tests that run real containers: each test gets a control plane of its
# own with one real node (KUBEDL_REAL_NODES=1, tools/controlplane), kubedl-reconciler as a process
# on this machine, and leaves the machine as it found it. A test reads:
#   source "$(dirname "$0")/real_node_lib.sh"
#   e2e_init training-pytorch            # skip (77) when no real node can run here
#   e2e_training_image pytorch           # build or reuse the image, skip when cold under CI
#   e2e_up                               # control plane + node, imports the images named so far
#   e2e_crds PyTorchJob; e2e_namespace ns; e2e_reconciler PyTorchJob [FLAG...]
#   ... the test, using k (kubectl), fail, step ...
#   e2e_down                             # stops everything and checks nothing was left behind
# On failure the EXIT trap prints the namespace's pods, events, job status, every pod's log and
# the reconciler's log, then tears down. A test may define e2e_extra_diagnostics to add more.
set -euo pipefail
repo=${KUBEDL_REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
build=${KUBEDL_BUILD_DIR:-$repo/build}
cp=$repo/tools/controlplane
reconciler_bin=${KUBEDL_RECONCILER_BIN:-$build/services/reconciler/kubedl-reconciler}
skip() { echo "SKIPPED: $*" >&2; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
step() { printf -- '--- %s (%ss)\n' "$*" "$SECONDS"; }
k() { "$KUBECTL" "$@"; }

e2e_ns=""
e2e_images=()
reconciler_pid=""

# e2e_init NAME: checks the machine, waits for any other real node to go, makes the scratch dirs
# ($base, the cluster dir $dir, $work) and sets the EXIT trap.
e2e_init() {
  local reason other
  reason=$(bash "$repo/tools/real-node/can-run.sh") || skip "$reason"
  [ -x "$reconciler_bin" ] || fail "$reconciler_bin is not built (cmake --build build --target kubedl-reconciler)"
  # One real node per machine: another live one (a demo, another test) makes this one wait its turn.
  other=$(bash "$cp/real-node.sh" wait-turn)
  [ -z "$other" ] || skip "another real node runs on this machine (cluster dir $other)"
  # up.sh owns the cluster folder (it empties it); the test's own files live beside it.
  base=$(mktemp -d "/tmp/kubedl-e2e-$1-XXXXXX")
  dir=$base/cluster work=$base/work
  mkdir -p "$work"
  export KUBEDL_CLUSTER_DIR=$dir KUBEDL_REAL_NODES=1
  forward_before=$(cat /proc/sys/net/ipv4/ip_forward)
  trap e2e_cleanup EXIT
}

# e2e_training_image NAME: the training image NAME (tools/images/training.sh), built when missing.
# Under CI a cold image is not built (its package base downloads and unpacks hundreds of MiB):
# the test is skipped saying so, unless KUBEDL_E2E_BUILD_IMAGES=1 (`make test-e2e` sets it). With
# the base cached, a changed program or manifest only redoes the last layer, so it is built.
e2e_training_image() {
  local path base
  path=$(bash "$repo/tools/images/training.sh" --path "$1")
  base=$(bash "$repo/tools/images/training.sh" --base-path "$1")
  if [ ! -f "$path" ] && [ ! -f "$base/.complete" ] && [ "${CI:-}" = true ] \
      && [ "${KUBEDL_E2E_BUILD_IMAGES:-}" != 1 ]; then
    skip "training image '$1' is not cached ($path); its cold build is left out of CI: run \`make test-e2e\` or tools/images/training.sh $1"
  fi
  bash "$repo/tools/images/training.sh" "$1" >&2
  e2e_images+=("$path")
}

# e2e_image FILE.tar: another archive to import once the node is up.
e2e_image() { e2e_images+=("$1"); }

e2e_up() {
  local start=$SECONDS
  bash "$cp/up.sh"
  # shellcheck disable=SC1091
  source "$dir/env"
  export KUBECONFIG
  if [ ${#e2e_images[@]} -gt 0 ]; then
    bash "$cp/import-images.sh" "${e2e_images[@]}" 2>/dev/null
  fi
  echo "  control plane and node $REAL_NODE ($NODE_IP) up in $((SECONDS - start)) s"
}

# e2e_crds KIND...: applies the CRDs of the chart for these kinds and waits until they are served.
e2e_crds() {
  local kind plural group
  for kind in "$@"; do
    plural=$(tr '[:upper:]' '[:lower:]' <<<"$kind")s
    group=kubeflow.org
    [ "$kind" != XDLJob ] || group=xdl.kubedl.io
    k apply --server-side -f "$repo/charts/kubedl/crds/${group}_$plural.yaml" >/dev/null
    k wait --for=condition=Established --timeout=60s "crd/$plural.$group" >/dev/null
  done
}

# e2e_namespace NS: creates it and waits for its default ServiceAccount (pods need it).
e2e_namespace() {
  e2e_ns=$1
  k create namespace "$1" >/dev/null
  for _ in $(seq 150); do k -n "$1" get serviceaccount default >/dev/null 2>&1 && return; sleep 0.2; done
  fail "namespace $1 has no default ServiceAccount"
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# e2e_reconciler WORKLOADS [FLAG...]: kubedl-reconciler for the test's namespace, waits until ready.
e2e_reconciler() {
  local workloads=$1 health; shift
  health=$(free_port)
  "$reconciler_bin" --kubeconfig="$KUBECONFIG" --namespace="$e2e_ns" --workloads="$workloads" \
    --leader-elect=false --bind-address=127.0.0.1 --health-port="$health" --metrics-port=0 \
    "$@" >"$work/reconciler.log" 2>&1 &
  reconciler_pid=$!
  for _ in $(seq 120); do curl -sf "http://127.0.0.1:$health/readyz" >/dev/null 2>&1 && return; sleep 0.5; done
  fail "kubedl-reconciler did not become ready: $(tail -5 "$work/reconciler.log")"
}

stop_reconciler() {
  [ -n "$reconciler_pid" ] || return 0
  kill "$reconciler_pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$reconciler_pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$reconciler_pid" 2>/dev/null || true
  wait "$reconciler_pid" 2>/dev/null || true
  reconciler_pid=""
}

# job_condition KIND NAME: "Type=Status (reason: message)" of each condition, one a line.
job_conditions() {
  k -n "$e2e_ns" get "$1" "$2" \
    -o jsonpath='{range .status.conditions[*]}{.type}={.status} ({.reason}: {.message}){"\n"}{end}'
}

# wait_job KIND NAME CONDITION TIMEOUT: waits for the job's condition (Succeeded, Failed, Running).
wait_job() {
  k -n "$e2e_ns" wait "$1/$2" --for="condition=$3" --timeout="$4s" >/dev/null \
    || fail "$1 $2 did not reach $3 in $4 s: $(job_conditions "$1" "$2" | tr '\n' ';')"
}

# e2e_training_setup NAME IMAGE KIND NS [RECONCILER FLAG...]: e2e_init NAME, the training image
# IMAGE, the control plane with its node, KIND's CRD, the namespace NS and the reconciler for
# KIND; prints the image's size and how long it all took.
e2e_training_setup() {
  local name=$1 image=$2 kind=$3 ns=$4 start archive; shift 4
  e2e_init "$name"
  step "the train-$image image, a control plane with a real node, the $kind CRD, the reconciler"
  start=$SECONDS
  e2e_training_image "$image"
  archive=$(bash "$repo/tools/images/training.sh" --path "$image")
  e2e_up
  e2e_crds "$kind"
  e2e_namespace "$ns"
  e2e_reconciler "$kind" "$@"
  echo "  train-$image image: $(awk -v b="$(stat -c %s "$archive")" 'BEGIN{printf "%.1f", b/1048576}') MiB archive," \
    "$(awk -v b="$(sed -n 2p "$archive.inputs")" 'BEGIN{printf "%.1f", b/1048576}') MiB unpacked"
  echo "  ready in $((SECONDS - start)) s (node $REAL_NODE at $NODE_IP)"
}

# e2e_apply_job MANIFEST JOB PODS: `kubectl apply -f MANIFEST` in the test's namespace, then waits
# (300 s at most) until the job's PODS pods all started; sets t0 (the apply) and t_running.
e2e_apply_job() {
  step "kubectl apply -f ${1#"$repo/"}"
  t0=$SECONDS
  k -n "$e2e_ns" apply -f "$1" >/dev/null
  until pods_started "$2" "$3"; do
    [ $((SECONDS - t0)) -lt 300 ] || fail "the job's pods did not all start in 300 s"
    sleep 0.5
  done
  t_running=$((SECONDS - t0))
  echo "  all $3 pods Running $t_running s after kubectl apply"
}

# e2e_wait_succeeded KIND JOB: waits (300 s at most, failing at once on Failed) until the job
# applied by e2e_apply_job Succeeded; sets t_succeeded and prints the conditions.
e2e_wait_succeeded() {
  wait_finished "$1" "$2" 300
  t_succeeded=$((SECONDS - t0))
  echo "  Succeeded $t_succeeded s after kubectl apply"
  job_conditions "$1" "$2" | sed 's/^/  /'
}

# wait_finished KIND NAME TIMEOUT: waits until the job is Succeeded; fails at once when it Failed.
wait_finished() {
  local until=$((SECONDS + $3)) conditions
  while :; do
    conditions=$(job_conditions "$1" "$2")
    grep -q '^Succeeded=True ' <<<"$conditions" && return 0
    grep -q '^Failed=True ' <<<"$conditions" && fail "$1 $2 failed: $(tr '\n' ';' <<<"$conditions")"
    [ $SECONDS -lt $until ] || fail "$1 $2 did not succeed in $3 s: $(tr '\n' ';' <<<"$conditions")"
    sleep 0.5
  done
}

# pods_started JOB N: every one of the job's N pods has left Pending (Running, or already done,
# so a fast job is still measured).
pods_started() {
  local phases
  phases=$(k -n "$e2e_ns" get pods -l "training.kubeflow.org/job-name=$1" \
    -o jsonpath='{range .items[*]}{.status.phase}{"\n"}{end}')
  [ "$(grep -cE '^(Running|Succeeded|Failed)$' <<<"$phases")" = "$2" ]
}

e2e_diagnostics() {
  local p
  echo "--- diagnostics" >&2
  [ -n "$e2e_ns" ] || return 0
  k -n "$e2e_ns" get pods -o wide >&2 2>/dev/null || true
  k get nodes -o wide >&2 2>/dev/null || true
  k -n "$e2e_ns" get events --sort-by=.lastTimestamp 2>/dev/null | tail -40 >&2 || true
  for p in $(k -n "$e2e_ns" get pods -o name 2>/dev/null); do
    echo "--- $p" >&2
    k -n "$e2e_ns" get "$p" -o jsonpath='{.status.containerStatuses}' >&2 2>/dev/null || true; echo >&2
    k -n "$e2e_ns" logs "$p" --all-containers --prefix --tail=40 >&2 2>/dev/null || true
  done
  if declare -F e2e_extra_diagnostics >/dev/null; then e2e_extra_diagnostics >&2 || true; fi
  echo "--- kubedl-reconciler log (tail)" >&2
  tail -40 "$work/reconciler.log" >&2 2>/dev/null || true
}

e2e_cleanup() {
  local rc=$?
  if [ "$rc" != 0 ] && [ "$rc" != 77 ] && [ -f "$dir/env" ]; then
    # shellcheck disable=SC1091
    source "$dir/env"; export KUBECONFIG
    e2e_diagnostics
  fi
  stop_reconciler
  if declare -F e2e_extra_cleanup >/dev/null; then e2e_extra_cleanup || true; fi
  bash "$cp/down.sh" >/dev/null 2>&1 || true
  rm -rf "$base"
  exit "$rc"
}

# e2e_down: the end of a passing test: tear-down leaves nothing of the cluster on the machine.
e2e_down() {
  step "tear-down"
  stop_reconciler
  if declare -F e2e_extra_cleanup >/dev/null; then e2e_extra_cleanup; fi
  iptables -S FORWARD | grep -q kubedl-guard || fail "the uplink guard is not in place while the node runs"
  # shellcheck source=../../tools/controlplane/down-and-check.sh
  source "$cp/down-and-check.sh"
  down_and_check "$dir" "$forward_before" "$work"
  echo "PASS ($SECONDS s)"
}
