#!/usr/bin/env bash
# lib/kube benchmarks against the local control plane:
#  1. create 2,000 pods with `kubectl create -f` of one multi-document file, and with our
#     client at several concurrencies, in the same run; prints the wall times and the ratio;
#  2. sync an informer over 10,000 pods (managedFields dropped): time, RSS, RSS per pod.
# Usage: bench/kube/run.sh [build-dir]   (default: build). Deletes its namespaces at the end.
set -euo pipefail
# shellcheck source=../cluster_env.sh
source "$(dirname "$0")/../cluster_env.sh" "$@"
bench=$build/bench/kube/kube_bench
CREATE_COUNT=${CREATE_COUNT:-2000}
INFORMER_COUNT=${INFORMER_COUNT:-10000}
CONCURRENCIES=${CONCURRENCIES:-"8 16 32 64"}
run_id=$(date +%s)-$$
namespaces=()
cleanup() {
  for ns in "${namespaces[@]}"; do
    "$KUBECTL" delete namespace "$ns" --wait=false >/dev/null 2>&1 || true
  done
}
trap cleanup EXIT
new_ns() {
  local ns="kube-bench-$1-$run_id"
  "$KUBECTL" create namespace "$ns" >/dev/null
  namespaces+=("$ns")
  echo "$ns"
}
seconds() { python3 -c "import sys; print(f'{float(sys.argv[1]):.3f}')" "$1"; }

manifest=$(mktemp)
"$bench" manifest "$CREATE_COUNT" bench > "$manifest"

ns=$(new_ns kubectl)
start=$(date +%s.%N)
"$KUBECTL" create -n "$ns" -f "$manifest" >/dev/null
end=$(date +%s.%N)
kubectl_s=$(python3 -c "print($end - $start)")
rm -f "$manifest"
echo "kubectl create -f (${CREATE_COUNT} pods): $(seconds "$kubectl_s") s"

best=""
for c in $CONCURRENCIES; do
  ns=$(new_ns "c$c")
  line=$("$bench" create "$ns" "$CREATE_COUNT" "$c" bench)
  s=$(sed -E 's/.*seconds=([0-9.]+).*/\1/' <<<"$line")
  echo "kubedl client, concurrency $c: $(seconds "$s") s  ($(python3 -c "print(f'{$kubectl_s/$s:.1f}')")x kubectl)"
  if [ -z "$best" ] || python3 -c "import sys; sys.exit(0 if $s < $best else 1)"; then best=$s; best_c=$c; fi
done
echo "best: concurrency $best_c, $(seconds "$best") s; kubectl/kubedl = $(python3 -c "print(f'{$kubectl_s/$best:.1f}')")x"
# Free the API server before the informer run.
cleanup
namespaces=()

ns=$(new_ns informer)
"$bench" create "$ns" "$INFORMER_COUNT" 32 inf >/dev/null
for i in 1 2 3; do
  "$bench" informer "$ns" "$INFORMER_COUNT"
done
