#!/usr/bin/env bash
# Stops the local control plane started by up.sh and removes its state.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/paths.sh"
# The real node first (if this dir has one, or a stale one is left on the machine): its pods and
# agents go before the API server they report to.
KUBEDL_CLUSTER_DIR=$dir bash "$here/real-node.sh" down || true
[ -d "$dir" ] || { echo "[control-plane] nothing running at $dir" >&2; exit 0; }
for name in kwok kube-scheduler kube-controller-manager kube-apiserver etcd; do
  pidfile=$dir/$name.pid
  [ -f "$pidfile" ] || continue
  pid=$(cat "$pidfile")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
done
rm -rf "$dir"
echo "[control-plane] stopped" >&2
