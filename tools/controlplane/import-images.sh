#!/usr/bin/env bash
# Imports OCI image archives (e.g. from tools/images/oci-archive.py) into the containerd of the
# running real node (namespace k8s.io, where the kubelet looks), so pods can use them with
# imagePullPolicy Never or IfNotPresent.
#   KUBEDL_CLUSTER_DIR=... tools/controlplane/import-images.sh FILE.tar...
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/paths.sh"
[ $# -gt 0 ] || { echo "usage: import-images.sh FILE.tar..." >&2; exit 2; }
[ -f "$dir/env" ] || { echo "no cluster at $dir (start one with KUBEDL_REAL_NODES=1 tools/controlplane/up.sh)" >&2; exit 1; }
# shellcheck disable=SC1091
source "$dir/env"
[ -n "${CONTAINERD_ADDRESS:-}" ] || { echo "the cluster at $dir has no real node (start it with KUBEDL_REAL_NODES=1)" >&2; exit 1; }
for f in "$@"; do
  "$CTR" -a "$CONTAINERD_ADDRESS" -n k8s.io images import "$f" >&2
done
