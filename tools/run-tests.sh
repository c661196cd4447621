#!/usr/bin/env bash
# Runs every test: unit tests, then (with the local control plane up) integration and e2e tests.
# Starts the control plane if none is running and stops it again at the end if it started it.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
[[ $build = /* ]] || build=$repo/$build
dir=${KUBEDL_CLUSTER_DIR:-$repo/.local/cluster}
# Absolute: the path is written into configs and matched against mounts and pid files.
dir=$(realpath -m "$dir")
export KUBEDL_CLUSTER_DIR=$dir KUBEDL_REPO=$repo KUBEDL_BUILD_DIR=$build

started=0
if ! [ -f "$dir/env" ]; then started=1; fi
bash "$repo/tools/controlplane/up.sh"
# shellcheck disable=SC1091
source "$dir/env"
export KUBECONFIG KUBECTL HELM K8S_BIN WEBHOOK_CLIENT_CA
cleanup() { [ "$started" = 1 ] && [ -z "${KUBEDL_KEEP_CLUSTER:-}" ] && bash "$repo/tools/controlplane/down.sh" >/dev/null 2>&1 || true; }
trap cleanup EXIT

cd "$build"
# Unit tests are independent and run in parallel; tests against the API server use their own
# namespaces, so they may run in parallel too, but the machine has two cores: keep it modest.
ctest --output-on-failure -j "${KUBEDL_TEST_JOBS:-2}" ${CTEST_ARGS:-}
