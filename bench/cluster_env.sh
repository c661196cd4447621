# Sourced by the benchmark scripts that run against the local control plane (tools/controlplane),
# with the script's arguments: sets `repo`, `build` (the first argument, else the repository's
# build/), the cluster's env (KUBECONFIG, exported, and KUBECTL), and free_port.
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$repo/build}
dir=${KUBEDL_CLUSTER_DIR:-$repo/.local/cluster}
# shellcheck disable=SC1091
source "$dir/env"
export KUBECONFIG
# A loopback port free at the time of asking.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
