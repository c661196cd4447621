#!/usr/bin/env bash
# Exits 0 when this machine can run the local real node; otherwise prints why and exits 1.
# The checks themselves are tools/controlplane/real-node.sh's (`why-not`); KUBEDL_REAL_NODES=0
# turns the real node off on a machine that could run one.
set -uo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
[ "${KUBEDL_REAL_NODES:-auto}" != 0 ] || { echo "KUBEDL_REAL_NODES=0 turns the real node off"; exit 1; }
reason=$(bash "$repo/tools/controlplane/real-node.sh" why-not)
[ -z "$reason" ] || { echo "$reason"; exit 1; }
