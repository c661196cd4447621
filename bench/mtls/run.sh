#!/usr/bin/env bash
# Mutual TLS on versus plaintext, same load, modes alternating, ROUNDS runs each (medians):
#   1. kubedl-gang-scheduler (volcano backend, PodGroup cache on) against the local control
#      plane: bench/gang/gang_driver with JOBS jobs by CALLERS callers over long-lived channels;
#      the figure is the EnsureGang(exists) pass (answered from the cache: the service and its
#      transport, not the API server) and the BindPod calls.
#   2. kubedl-metrics: metrics_mtls_driver (one Report stream of EVENTS events).
# Certificates: the chart's (helm template, test/integration/mtls/chart_certificates.sh).
# Usage: bench/mtls/run.sh [build-dir]. Env: ROUNDS (3), JOBS (400), CALLERS (16), PODS (4),
# EVENTS (100000). Needs the local control plane (KUBEDL_CLUSTER_DIR) for part 1.
set -euo pipefail
# shellcheck source=../cluster_env.sh
source "$(dirname "$0")/../cluster_env.sh" "$@"
ROUNDS=${ROUNDS:-3} JOBS=${JOBS:-400} CALLERS=${CALLERS:-16} PODS=${PODS:-4} EVENTS=${EVENTS:-100000}
work=$(mktemp -d)
pid= namespaces=()
cleanup() {
  [[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  for ns in "${namespaces[@]}"; do "$KUBECTL" delete namespace "$ns" --wait=false >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
trap cleanup EXIT
bash "$repo/test/integration/mtls/chart_certificates.sh" "$repo/charts/kubedl" "$work/certs"
certs=$work/certs
"$KUBECTL" apply --server-side --force-conflicts -f "$repo/charts/kubedl/crds/" -f "$repo/test/integration/gang/crds/" >/dev/null
"$KUBECTL" wait --for=condition=Established --timeout=60s crd/tfjobs.kubeflow.org >/dev/null
"$KUBECTL" wait --for=condition=Established --timeout=60s -f "$repo/test/integration/gang/crds/" >/dev/null

gang_round() {  # gang_round MODE ROUND -> appends "MODE ensure_exists_rate bind_rate" to $work/gang.txt
  local mode=$1 round=$2 port health ns flags=() driver_tls=()
  port=$(free_port) health=$(free_port) ns=mtls-bench-$mode-$round-$$
  namespaces+=("$ns")
  "$KUBECTL" create namespace "$ns" >/dev/null
  if [ "$mode" = mtls ]; then
    flags=(--tls-cert-file="$certs/gang-scheduler/tls.crt" --tls-key-file="$certs/gang-scheduler/tls.key"
           --tls-client-ca-file="$certs/gang-scheduler/ca.crt")
    driver_tls=("$certs/reconciler" kt-kubedl-gang-scheduler.kubedl-system.svc)
  else
    flags=(--insecure-plaintext)
  fi
  "$build/services/gang-scheduler/kubedl-gang-scheduler" --backend=volcano \
    --listen-address=127.0.0.1 --grpc-port="$port" --health-port="$health" \
    --kubeconfig="$KUBECONFIG" --minloglevel=1 "${flags[@]}" >"$work/gang-$mode-$round.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$health/readyz" >/dev/null && break; sleep 0.1; done
  "$build/bench/gang/gang_driver" "127.0.0.1:$port" "$ns" "$JOBS" "$CALLERS" "$PODS" "${driver_tls[@]}" \
    > "$work/driver-$mode-$round.txt"
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
  local exists bind errors
  exists=$(awk '/^EnsureGang\(exists\) +calls/ {sub("rate=", "", $4); sub("/s", "", $4); print $4}' "$work/driver-$mode-$round.txt")
  bind=$(awk '/^BindPod +calls/ {print $0}' "$work/driver-$mode-$round.txt" | sed -E 's/.*p50=([0-9.]+)ms.*/\1/')
  errors=$(grep -o 'errors=[0-9]*' "$work/driver-$mode-$round.txt" | awk -F= '{s+=$2} END {print s+0}')
  echo "$mode $exists $bind $errors" >> "$work/gang.txt"
  echo "  gang $mode round $round: EnsureGang(exists) $exists calls/s, BindPod p50 ${bind} ms, errors $errors"
}

echo "--- gang scheduler: $JOBS jobs x $PODS pods, $CALLERS callers, $ROUNDS rounds per mode"
for round in $(seq 1 "$ROUNDS"); do
  gang_round plaintext "$round"
  gang_round mtls "$round"
done
python3 - "$work/gang.txt" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
def median(mode, col): return statistics.median(float(r[col]) for r in rows if r[0] == mode)
p, m = median("plaintext", 1), median("mtls", 1)
pb, mb = median("plaintext", 2), median("mtls", 2)
print(f"gang EnsureGang(exists) median: plaintext {p:.0f} calls/s, mutual TLS {m:.0f} calls/s, "
      f"mTLS/plaintext {m / p:.3f}")
print(f"gang BindPod p50 median: plaintext {pb:.2f} ms, mutual TLS {mb:.2f} ms")
PY

echo "--- metrics service: $EVENTS events per run, $ROUNDS rounds per mode"
"$build/bench/mtls/metrics_mtls_driver" "$build/services/metrics/kubedl-metrics" "$certs" "$ROUNDS" "$EVENTS"
