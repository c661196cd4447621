#!/usr/bin/env bash
# The reconciler benchmark (not a test) on the local control plane:
#  1. kubedl-reconciler watching a fresh namespace; JOBS TFJobs of 1 PS + WORKERS Workers
#     submitted at once: time until all pods and services exist, time until every job is
#     Running (KWOK runs the pods), the reconciler's peak RSS (VmHWM) and CPU seconds;
#  2. in the same run, lib/kube alone creating the same objects at several concurrencies: the
#     floor (best of them).
# Usage: bench/reconciler/run.sh [build-dir]   (default: build). Deletes its namespaces at the end.
set -euo pipefail
# shellcheck source=../cluster_env.sh
source "$(dirname "$0")/../cluster_env.sh" "$@"
# shellcheck source=../measure.sh
source "$(dirname "$0")/../measure.sh"
export KUBEDL_CLUSTER_DIR=$dir KUBECTL
bench=$build/bench/reconciler/reconciler_bench
reconciler=$build/services/reconciler/kubedl-reconciler
JOBS=${JOBS:-500}
WORKERS=${WORKERS:-4}
RECONCILES=${RECONCILES:-16}
CONCURRENCIES=${CONCURRENCIES:-"16 32 64"}
run_id=$(date +%s)-$$
namespaces=()
pid=""
cleanup() {
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
  for ns in "${namespaces[@]}"; do
    "$KUBECTL" delete namespace "$ns" --wait=false >/dev/null 2>&1 || true
  done
}
trap cleanup EXIT
# Sets $ns to a fresh namespace, remembered for the cleanup (not called in a subshell, which would
# lose the record).
new_ns() {
  ns="rec-bench-$1-$run_id"
  "$KUBECTL" create namespace "$ns" >/dev/null
  namespaces+=("$ns")
}
# Deletes a namespace and waits until the garbage collector is done with its pods and the
# scheduler has stopped retrying them, so what is measured next does not pay for them.
drop_ns() {
  "$KUBECTL" delete namespace "$1" --wait=true --timeout=600s >/dev/null 2>&1 || true
  wait_quiet_scheduler
}

"$KUBECTL" apply --server-side --force-conflicts --field-manager=kubedl-bench \
  -f "$repo/charts/kubedl/crds/" >/dev/null
"$KUBECTL" wait --for=condition=Established crd/tfjobs.kubeflow.org --timeout=60s >/dev/null

wait_quiet_scheduler
new_ns jobs
health_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
log=$(mktemp /tmp/kubedl-reconciler-bench.XXXXXX.log)
"$reconciler" --kubeconfig="$KUBECONFIG" --namespace="$ns" --workloads=TFJob \
  --leader-elect=false --max-concurrent-reconciles="$RECONCILES" --bind-address=127.0.0.1 \
  --health-port="$health_port" --metrics-port=0 --minloglevel=1 >"$log" 2>&1 &
pid=$!
for _ in $(seq 300); do
  curl -sf "http://127.0.0.1:$health_port/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
ticks=$(getconf CLK_TCK)
cpu_before=$(awk '{print $14+$15}' "/proc/$pid/stat")
"$bench" submit "$ns" "$JOBS" "$WORKERS" || echo "submit: not everything existed or ran within the time limit"
cpu_after=$(awk '{print $14+$15}' "/proc/$pid/stat")
peak_kib=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
rss_kib=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
python3 -c "import sys; print(f'reconciler cpu_seconds={(int(sys.argv[2])-int(sys.argv[1]))/int(sys.argv[3]):.2f} peak_rss_mib={int(sys.argv[4])/1024:.1f} rss_mib={int(sys.argv[5])/1024:.1f}')" \
  "$cpu_before" "$cpu_after" "$ticks" "$peak_kib" "$rss_kib"
kill -TERM "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
pid=""

drop_ns "$ns"

for c in $CONCURRENCIES; do
  new_ns "floor-$c"
  "$bench" floor "$ns" "$JOBS" "$WORKERS" "$c"
  drop_ns "$ns"
done
