#!/usr/bin/env bash
# The Kubeflow Training Python SDK (kubeflow-training from PyPI) creates, waits on and deletes an
# MPIJob, a PaddleJob and a JAXJob through our webhook and reconciler on the local control plane.
# The SDK lives in a virtualenv under ~/.cache/kubedl/python/ (keyed by the SDK's and the
# Kubernetes client's versions), made here on first use: needs python3-venv and PyPI.
#   sdk_test.sh RECONCILER_BINARY REPO WEBHOOK_BINARY
set -euo pipefail
scenario=sdk reconciler=$1 repo=$2 webhook=$3 test_prefix=kdl-sdk
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../frameworks/helpers.sh
source "$repo/test/integration/frameworks/helpers.sh"

sdk_version=1.9.0
# kubeflow-training 1.9.0 asks for kubernetes>=27.2.0 with no upper bound, and the newest
# kubernetes clients break it: their CustomObjectsApi validates `body` with pydantic and refuses
# the SDK's model objects ("Input should be a valid dictionary"), so create_job always fails.
# Pin the client the SDK was released with.
k8s_client_version=31.0.0
venv=${KUBEDL_CACHE:-$HOME/.cache/kubedl}/python/kubeflow-training-$sdk_version-kubernetes-$k8s_client_version

# The virtualenv, keyed by the SDK version; `.complete` marks a finished install (a broken one is
# made again). Concurrent runs wait on the lock.
ensure_sdk() {
  mkdir -p "$(dirname "$venv")"
  exec 9>"$venv.lock"
  flock 9
  if [ ! -f "$venv/.complete" ]; then
    echo "--- installing kubeflow-training==$sdk_version kubernetes==$k8s_client_version into $venv"
    rm -rf "$venv"
    if ! python3 -m venv "$venv" >"$work/venv.log" 2>&1; then
      cat "$work/venv.log" >&2
      echo "FAIL: python3 -m venv failed (Debian/Ubuntu: apt-get install python3-venv)" >&2
      exit 1
    fi
    if ! "$venv/bin/python" -m pip install --disable-pip-version-check -q \
         "kubeflow-training==$sdk_version" "kubernetes==$k8s_client_version" >"$work/pip.log" 2>&1; then
      tail -30 "$work/pip.log" >&2
      echo "FAIL: pip install kubeflow-training==$sdk_version failed" >&2
      exit 1
    fi
    touch "$venv/.complete"
  fi
  flock -u 9
  ok "kubeflow-training $sdk_version, kubernetes $k8s_client_version in $venv"
}

scenario_sdk() {
  ensure_sdk
  start_webhook
  start_reconciler rec --workloads=mpijob,paddlejob,jaxjob
  "$venv/bin/python" "$here/kubeflow_sdk_test.py" "$ns" "$node" "$sdk_version" ||
    fail "the Kubeflow SDK test (lines above)"
}

run_scenario
