#!/usr/bin/env bash
# Added time per job with gang scheduling on versus off: the reconciler benchmark's driver
# (bench/reconciler: JOBS TFJobs of 1 PS + WORKERS Workers submitted at once, time until all pods
# and services exist and until every job is Running) run twice, first with kubedl-reconciler
# alone, then with --gang-scheduler-address pointing at kubedl-gang-scheduler (backend
# scheduler-plugins with the default scheduler's name, so KWOK runs the pods the same way).
# Usage: bench/gang/reconciler_gang.sh [build-dir]. Env: JOBS (500), WORKERS (4).
set -euo pipefail
# shellcheck source=../cluster_env.sh
source "$(dirname "$0")/../cluster_env.sh" "$@"
JOBS=${JOBS:-500} WORKERS=${WORKERS:-4}
run_id=$(date +%s)-$$
pids=() namespaces=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for ns in "${namespaces[@]}"; do "$KUBECTL" delete namespace "$ns" --wait=false >/dev/null 2>&1 || true; done
}
trap cleanup EXIT
"$KUBECTL" apply --server-side --force-conflicts --field-manager=kubedl-bench \
  -f "$repo/charts/kubedl/crds/" -f "$repo/test/integration/gang/crds/" >/dev/null
"$KUBECTL" wait --for=condition=Established crd/tfjobs.kubeflow.org \
  crd/podgroups.scheduling.x-k8s.io --timeout=60s >/dev/null

gang_port=$(free_port) gang_health=$(free_port)
"$build/services/gang-scheduler/kubedl-gang-scheduler" --backend=scheduler-plugins \
  --scheduler-plugins-scheduler-name=default-scheduler --listen-address=127.0.0.1 \
  --grpc-port="$gang_port" --health-port="$gang_health" --kubeconfig="$KUBECONFIG" \
  --insecure-plaintext --minloglevel=1 >/dev/null 2>&1 &
pids+=($!)
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$gang_health/readyz" >/dev/null && break; sleep 0.1; done

run() {  # run LABEL [reconciler flags...]
  local label=$1; shift
  local ns="gang-rec-bench-$label-$run_id" health
  "$KUBECTL" create namespace "$ns" >/dev/null
  namespaces+=("$ns")
  health=$(free_port)
  "$build/services/reconciler/kubedl-reconciler" --kubeconfig="$KUBECONFIG" --namespace="$ns" \
    --workloads=TFJob --leader-elect=false --max-concurrent-reconciles=16 \
    --bind-address=127.0.0.1 --health-port="$health" --metrics-port=0 --minloglevel=1 "$@" \
    >/dev/null 2>&1 &
  local pid=$!
  pids+=("$pid")
  for _ in $(seq 300); do curl -sf "http://127.0.0.1:$health/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
  echo "gang $label: $("$build/bench/reconciler/reconciler_bench" submit "$ns" "$JOBS" "$WORKERS")"
  kill "$pid" 2>/dev/null || true
  # Wait until the garbage collector is done with this run's pods, so the next run does not pay
  # for their deletion.
  "$KUBECTL" delete namespace "$ns" --wait=true --timeout=300s >/dev/null 2>&1 || true
}
run off
run on --gang-scheduler-address="127.0.0.1:$gang_port" --insecure-plaintext-grpc
