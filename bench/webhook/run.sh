#!/usr/bin/env bash
# Whole-process benchmark of kubedl-webhook: AdmissionReview (realistic TFJob, CREATE) over TLS
# keep-alive on loopback with wrk, at fixed concurrencies, both webhooks. Prints throughput,
# p50/p99 and the webhook's peak RSS.   bench/webhook/run.sh BUILD_DIR [DURATION_S]
set -euo pipefail
build=$1 duration=${2:-10}
here=$(cd "$(dirname "$0")" && pwd) repo=$(cd "$here/../.." && pwd)
work=$(mktemp -d); trap 'kill $pid 2>/dev/null; rm -rf $work' EXIT
bash "$repo/tools/certs/gen.sh" ca "$work" ca
bash "$repo/tools/certs/gen.sh" server "$work" server "$work/ca" 127.0.0.1
python3 "$here/make_body.py" "$work/body.json"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$build/services/webhook/kubedl-webhook" --bind-address=127.0.0.1 --port="$port" --health-port=0 \
  --cert-file="$work/server.crt" --key-file="$work/server.key" --threads="${THREADS:-2}" 2>"$work/log" &
pid=$!
sleep 0.5
echo "body: $(wc -c <"$work/body.json") bytes; webhook threads: ${THREADS:-2}; wrk threads: 1"
export KUBEDL_BENCH_BODY=$work/body.json
for path in validate mutate; do
  for c in ${CONNECTIONS:-1 4 16 64}; do
    out=$(wrk -t1 -c"$c" -d"${duration}s" --latency -s "$here/admission.lua" \
          "https://127.0.0.1:$port/$path-kubeflow-org-v1-tfjob?timeout=10s")
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    p50=$(awk '$1=="50%" {print $2}' <<<"$out"); p99=$(awk '$1=="99%" {print $2}' <<<"$out")
    non2xx=$(awk '/Non-2xx/ {print $4}' <<<"$out")
    printf '%-8s conns=%-3s req/s=%-10s p50=%-8s p99=%-8s %s\n' "$path" "$c" "$rps" "$p50" "$p99" "${non2xx:+non-2xx=$non2xx}"
  done
done
echo "peak RSS: $(awk '/VmHWM/ {print $2, $3}' /proc/$pid/status)"
