#!/usr/bin/env bash
# Runs the gang conformance suite against one backend started as a real process on loopback.
#   run_conformance.sh BACKEND SUITE_BINARY [GANG_SCHEDULER_BINARY [EXTRA_FLAGS...]]
# BACKEND: volcano | scheduler-plugins | kube-batch (kubedl-gang-scheduler against the local API
# server, PodGroup CRDs from test/integration/gang/crds applied first) or python (the example
# external backend in examples/gang-backend-python). Needs KUBECONFIG (tools/run-tests.sh).
set -euo pipefail
backend=$1 suite=$2 gang_scheduler=${3:-}
extra_flags=("${@:4}")
repo=$(cd "$(dirname "$0")/../../.." && pwd)
: "${KUBECONFIG:?run through tools/run-tests.sh or export KUBECONFIG}"
kubectl=${KUBECTL:-kubectl}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
grpc_port=$(free_port)
health_port=$(free_port)
log=$(mktemp -t gang-conformance-XXXX.log)
pid=
cleanup() {
  if [[ -n $pid ]]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -f "$log"
}
trap cleanup EXIT

case $backend in
  volcano|scheduler-plugins|kube-batch)
    "$kubectl" apply -f "$repo/test/integration/gang/crds/" >/dev/null
    "$kubectl" wait --for=condition=Established --timeout=60s -f "$repo/test/integration/gang/crds/" >/dev/null
    "$gang_scheduler" --backend="$backend" --listen-address=127.0.0.1 --grpc-port="$grpc_port" \
      --health-port="$health_port" --kubeconfig="$KUBECONFIG" --insecure-plaintext \
      "${extra_flags[@]}" >"$log" 2>&1 &
    pid=$!
    ready() { curl -sf "http://127.0.0.1:$health_port/readyz" >/dev/null; }
    case $backend in
      volcano) export KUBEDL_GANG_PODGROUP=scheduling.volcano.sh/v1beta1/podgroups ;;
      scheduler-plugins) export KUBEDL_GANG_PODGROUP=scheduling.x-k8s.io/v1alpha1/podgroups ;;
      kube-batch) export KUBEDL_GANG_PODGROUP=scheduling.incubator.k8s.io/v1alpha1/podgroups ;;
    esac
    ;;
  python)
    python=python3
    python3 -c 'import grpc' 2>/dev/null || python=/usr/bin/python3  # Debian's, with python3-grpcio
    "$python" "$repo/examples/gang-backend-python/gang_backend.py" --port="$grpc_port" \
      --scheduler-name=example-gang-scheduler >"$log" 2>&1 &
    pid=$!
    ready() { (exec 3<>"/dev/tcp/127.0.0.1/$grpc_port") 2>/dev/null; }
    ;;
  *) echo "unknown backend $backend" >&2; exit 2 ;;
esac

for _ in $(seq 1 300); do
  ready && break
  if ! kill -0 "$pid" 2>/dev/null; then echo "the $backend backend exited:" >&2; cat "$log" >&2; exit 1; fi
  sleep 0.1
done
ready || { echo "the $backend backend did not become ready:" >&2; cat "$log" >&2; exit 1; }

export KUBEDL_GANG_ADDRESS=127.0.0.1:$grpc_port
status=0
"$suite" || status=$?
if [[ $status -ne 0 ]]; then echo "--- $backend backend log ---" >&2; tail -50 "$log" >&2; fi
exit $status
