#!/usr/bin/env bash
# EnsureGang + BindPod against kubedl-gang-scheduler backed by the local API server.
# Usage: bench/gang/run.sh [build-dir]  (default: build). Env: BACKEND (volcano), JOBS (2000),
# CALLERS (64), PODS (4). Deletes its namespace at the end.
set -euo pipefail
# shellcheck source=../cluster_env.sh
source "$(dirname "$0")/../cluster_env.sh" "$@"
BACKEND=${BACKEND:-volcano} JOBS=${JOBS:-2000} CALLERS=${CALLERS:-64} PODS=${PODS:-4}
ns=gang-bench-$(date +%s)-$$
port=$(free_port) health=$(free_port)
pid=
cleanup() {
  [[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  "$KUBECTL" delete namespace "$ns" --wait=false >/dev/null 2>&1 || true
}
trap cleanup EXIT
# The gangs' owners are TFJobs: the service reads each live job before it makes its PodGroup.
"$KUBECTL" apply --server-side --force-conflicts -f "$repo/charts/kubedl/crds/" \
  -f "$repo/test/integration/gang/crds/" >/dev/null
"$KUBECTL" wait --for=condition=Established --timeout=60s crd/tfjobs.kubeflow.org >/dev/null
"$KUBECTL" wait --for=condition=Established --timeout=60s -f "$repo/test/integration/gang/crds/" >/dev/null
"$KUBECTL" create namespace "$ns" >/dev/null
"$build/services/gang-scheduler/kubedl-gang-scheduler" --backend="$BACKEND" \
  --listen-address=127.0.0.1 --grpc-port="$port" --health-port="$health" \
  --kubeconfig="$KUBECONFIG" --minloglevel=1 --insecure-plaintext ${GANG_FLAGS:-} >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$health/readyz" >/dev/null && break; sleep 0.1; done
echo "backend $BACKEND, $(nproc) cores"
"$build/bench/gang/gang_driver" "127.0.0.1:$port" "$ns" "$JOBS" "$CALLERS" "$PODS"
echo "gang scheduler RSS after the run: $(awk '/VmRSS/ {print $2, $3}' /proc/$pid/status)"
