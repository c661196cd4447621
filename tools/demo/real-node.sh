#!/usr/bin/env bash
# The real-node part of `make demo`: KubeDL installed with its Helm chart on a control plane of its
# own with one real node (containers really run), one TFJob run to Succeeded by the in-cluster
# services, and `kubectl logs` of one of its pods. On a machine that cannot run a real node it
# says why and returns 0: the fake-node demo before it has already run.
#   tools/demo/real-node.sh BUILD_DIR
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$repo/build}
say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
if ! reason=$(bash "$repo/tools/real-node/can-run.sh"); then
  say "Real node: skipped ($reason); the demo above ran on fake nodes only"
  exit 0
fi
export KUBEDL_CLUSTER_DIR=$repo/.local/real-node-cluster
ns=kubedl-demo

say "A second control plane with one real node, KubeDL installed on it with its Helm chart"
bash "$repo/tools/real-node/install-chart.sh" "$build"
# shellcheck disable=SC1091
source "$KUBEDL_CLUSTER_DIR/env"
export KUBECONFIG
k() { "$KUBECTL" "$@"; }
k get nodes -o wide
k -n kubedl-system get pods -o wide

say "A TFJob whose containers really run (examples/real-node/tfjob-tfconfig-check.yaml)"
k create namespace "$ns" --dry-run=client -o yaml | k apply -f - >/dev/null
for _ in $(seq 100); do k -n "$ns" get serviceaccount default >/dev/null 2>&1 && break; sleep 0.2; done
k -n "$ns" delete tfjob tfconfig-check --ignore-not-found --wait=true >/dev/null
k -n "$ns" apply -f "$repo/examples/real-node/tfjob-tfconfig-check.yaml"
k -n "$ns" wait tfjob/tfconfig-check --for=condition=Succeeded --timeout=180s
k -n "$ns" get tfjob,pods -o wide

say "kubectl logs tfconfig-check-worker-1 (a real container's output)"
k -n "$ns" logs tfconfig-check-worker-1

say "Real node: KUBECONFIG=$KUBECONFIG (stop everything with: make demo-down)"
