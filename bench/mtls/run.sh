#!/usr/bin/env bash
# Mutual TLS on versus plaintext, same load, modes alternating, ROUNDS runs each (medians):
#   1. kubedl-gang-scheduler (volcano backend, PodGroup cache on) against the local control
#      plane: bench/gang/gang_driver with JOBS jobs by CALLERS callers over long-lived channels;
#      the figure is the EnsureGang(exists) pass (answered from the cache: the service and its
#      transport, not the API server) and the BindPod calls.
#   2. kubedl-metrics: metrics_mtls_driver (one Report stream of EVENTS events).
#   3. kubedl-webhook, TLS (no client certificate asked) versus mutual TLS (--client-ca-file):
#      bench/webhook/webhook_review_load (build that target), closed loop, CONNECTIONS keep-alive
#      connections for WEBHOOK_SECONDS after a 1 s warm-up, the make_body.py TFJob review POSTed
#      to /mutate-kubeflow-org-v1-tfjob; each mTLS round first checks that a caller without a
#      client certificate is refused (the script stops if it is answered).
# Certificates: the chart's (helm template, test/integration/mtls/chart_certificates.sh) for
# parts 1-2; for part 3, tools/certs/gen.sh (a server CA and a separate client CA).
# Usage: bench/mtls/run.sh [build-dir]. Env: ROUNDS (3), JOBS (400), CALLERS (16), PODS (4),
# EVENTS (100000), CONNECTIONS (16), WEBHOOK_SECONDS (5). Needs the local control plane
# (KUBEDL_CLUSTER_DIR) for part 1.
set -euo pipefail
# shellcheck source=../cluster_env.sh
source "$(dirname "$0")/../cluster_env.sh" "$@"
ROUNDS=${ROUNDS:-3} JOBS=${JOBS:-400} CALLERS=${CALLERS:-16} PODS=${PODS:-4} EVENTS=${EVENTS:-100000}
CONNECTIONS=${CONNECTIONS:-16} WEBHOOK_SECONDS=${WEBHOOK_SECONDS:-5}
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
  # Deleted before the next round, so that its garbage collection does not load that round.
  "$KUBECTL" delete namespace "$ns" --wait=true --timeout=300s >/dev/null
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
python3 "$repo/bench/mtls/compare_modes.py" "$work/gang.txt" gang EnsureGang-exists-calls/s BindPod-p50-ms errors

echo "--- metrics service: $EVENTS events per run, $ROUNDS rounds per mode"
"$build/bench/mtls/metrics_mtls_driver" "$build/services/metrics/kubedl-metrics" "$certs" "$ROUNDS" "$EVENTS"

# Part 3: kubedl-webhook, server-side TLS (as the API server calls it without client
# certificates) against mutual TLS (--client-ca-file), with bench/webhook/webhook_review_load.
webhook_certs=$work/webhook-certs
# A server CA and a separate client CA, as in the chart: a serving certificate is no client's.
bash "$repo/tools/certs/gen.sh" ca "$webhook_certs" server-ca
bash "$repo/tools/certs/gen.sh" server "$webhook_certs" server "$webhook_certs/server-ca" 127.0.0.1
bash "$repo/tools/certs/gen.sh" ca "$webhook_certs" client-ca
bash "$repo/tools/certs/gen.sh" client "$webhook_certs" client "$webhook_certs/client-ca" kube-apiserver
python3 "$repo/bench/webhook/make_body.py" "$work/review.json"

webhook_round() {  # webhook_round MODE ROUND -> appends "MODE rate p50 p99 errors non2xx" to $work/webhook.txt
  local mode=$1 round=$2 port flags=() load out
  port=$(free_port)
  [ "$mode" = mtls ] && flags=(--client-ca-file="$webhook_certs/client-ca.crt")
  # No KUBECONFIG: the built-in Pod schema, so the API server is no part of the figure.
  env -u KUBECONFIG "$build/services/webhook/kubedl-webhook" --bind-address=127.0.0.1 \
    --port="$port" --health-port=0 --cert-file="$webhook_certs/server.crt" \
    --key-file="$webhook_certs/server.key" "${flags[@]}" >"$work/webhook-$mode-$round.log" 2>&1 &
  pid=$!
  local ready=
  for _ in $(seq 1 100); do
    curl -sf --cacert "$webhook_certs/server-ca.crt" --cert "$webhook_certs/client.crt" \
      --key "$webhook_certs/client.key" "https://127.0.0.1:$port/healthz" >/dev/null && ready=1 && break
    sleep 0.1
  done
  [ -n "$ready" ] || { echo "kubedl-webhook did not start:" >&2; cat "$work/webhook-$mode-$round.log" >&2; exit 1; }
  load=("$build/bench/webhook/webhook_review_load" --body="$work/review.json"
        --url="https://127.0.0.1:$port/mutate-kubeflow-org-v1-tfjob" --ca-file="$webhook_certs/server-ca.crt")
  if [ "$mode" = mtls ]; then
    # Measuring a path that also answers unauthenticated callers would measure the wrong thing.
    if "${load[@]}" --connections=1 --duration=0.5 --warmup=0 >"$work/anonymous-$round.txt" 2>&1; then
      echo "  webhook mtls round $round: a caller WITHOUT a client certificate was answered:" >&2
      cat "$work/anonymous-$round.txt" >&2
      exit 1
    fi
    echo "  webhook mtls round $round: a caller without a client certificate is refused" \
         "($(grep -m1 -o 'webhook_review_load: [^(]*' "$work/anonymous-$round.txt" | cut -d' ' -f2-))"
    load+=(--cert-file="$webhook_certs/client.crt" --key-file="$webhook_certs/client.key")
  fi
  if ! "${load[@]}" --connections="$CONNECTIONS" --duration="$WEBHOOK_SECONDS" --warmup=1 \
       >"$work/load-$mode-$round.txt" 2>"$work/load-$mode-$round.err"; then
    cat "$work/load-$mode-$round.err" >&2; exit 1
  fi
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
  out=$(cat "$work/load-$mode-$round.txt")
  python3 - "$mode" "$out" >> "$work/webhook.txt" <<'PY'
import sys
f = dict(kv.split("=", 1) for kv in sys.argv[2].split())
print(sys.argv[1], f["rate"].removesuffix("/s"), f["p50"].removesuffix("ms"), f["p99"].removesuffix("ms"),
      f["errors"], f["non2xx"])
PY
  echo "  webhook $mode round $round: $out"
}

echo "--- webhook: mutate, $CONNECTIONS connections closed loop, ${WEBHOOK_SECONDS}s (+1 s warm-up), $ROUNDS rounds per mode"
for round in $(seq 1 "$ROUNDS"); do
  webhook_round tls "$round"
  webhook_round mtls "$round"
done
python3 "$repo/bench/mtls/compare_modes.py" "$work/webhook.txt" "webhook mutate" reviews/s p50-ms p99-ms errors non2xx
