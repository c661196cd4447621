#!/usr/bin/env bash
# `make demo`: the local control plane plus KubeDL's four services as local processes, the
# examples run to completion on fake nodes, a live table of the jobs, and the key metrics; then,
# when the machine can run a real node, the Helm chart installed on one (tools/demo/real-node.sh).
#   tools/demo.sh [BUILD_DIR]      (make demo has already built everything)
# The services keep running afterwards; `make demo-down` stops them and the control plane.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$repo/build}
[[ $build = /* ]] || build=$repo/$build
state=$repo/.local/demo
ns=kubedl-demo
run_for=${KUBEDL_DEMO_RUN_FOR:-15s}
say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
die() { printf '\033[31mdemo: %s\033[0m\n' "$*" >&2; exit 1; }

for b in webhook/kubedl-webhook reconciler/kubedl-reconciler gang-scheduler/kubedl-gang-scheduler \
         metrics/kubedl-metrics; do
  [ -x "$build/services/$b" ] || die "missing $build/services/$b: run 'make demo' (it builds first)"
done

say "Starting the local control plane (etcd, kube-apiserver, controller manager, scheduler, KWOK)"
bash "$repo/tools/controlplane/up.sh"
# shellcheck disable=SC1091
source "${KUBEDL_CLUSTER_DIR:-$repo/.local/cluster}/env"
export KUBECONFIG KUBECTL
k() { "$KUBECTL" "$@"; }
k get nodes

# A previous demo's services are stopped first so ports and leases are fresh.
bash "$repo/tools/demo/stop-services.sh" "$state" >/dev/null 2>&1 || true
mkdir -p "$state/logs" "$state/pki"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
webhook_port=$(free_port) webhook_health=$(free_port) metrics_grpc=$(free_port) metrics_http=$(free_port)
gang_grpc=$(free_port) gang_health=$(free_port) rec_health=$(free_port) rec_metrics=$(free_port)

start() {  # start NAME BINARY ARGS...: background process, log and pid under $state
  local name=$1; shift
  "$@" >"$state/logs/$name.log" 2>&1 &
  echo $! >"$state/$name.pid"
}
wait_ready() {  # wait_ready NAME URL [curl args]
  local name=$1 url=$2; shift 2
  for _ in $(seq 100); do curl -sf "$@" "$url" >/dev/null && return 0; sleep 0.1; done
  tail -20 "$state/logs/$name.log" >&2; die "$name did not become ready ($url)"
}

say "Applying the CRDs (charts/kubedl/crds) and the scheduler-plugins PodGroup CRD"
k apply --server-side --force-conflicts -f "$repo/charts/kubedl/crds/" >/dev/null
k apply --server-side --force-conflicts -f "$repo/test/integration/gang/crds/scheduler-plugins-podgroup.yaml" >/dev/null
# The job kinds: the chart's list (tools/chart-kinds.sh).
mapfile -t job_crds < <(bash "$repo/tools/chart-kinds.sh" | awk '{print "crd/" $4 "." $2}')
job_plurals=$(bash "$repo/tools/chart-kinds.sh" | awk '{print $4}' | paste -sd,)
k wait --for=condition=Established --timeout=60s "${job_crds[@]}" \
  crd/podgroups.scheduling.x-k8s.io >/dev/null

say "Starting the four services (logs in .local/demo/logs)"
bash "$repo/tools/certs/gen.sh" ca "$state/pki" ca >/dev/null
bash "$repo/tools/certs/gen.sh" server "$state/pki" webhook "$state/pki/ca" 127.0.0.1,localhost >/dev/null
# Mutual TLS: only callers with the client certificate the API server presents to webhooks
# (tools/controlplane/up.sh) get past the handshake.
start webhook "$build/services/webhook/kubedl-webhook" --bind-address=127.0.0.1 \
  --port="$webhook_port" --health-port="$webhook_health" \
  --cert-file="$state/pki/webhook.crt" --key-file="$state/pki/webhook.key" \
  --client-ca-file="$WEBHOOK_CLIENT_CA"
wait_ready webhook "http://127.0.0.1:$webhook_health/readyz"
echo "  kubedl-webhook         https://127.0.0.1:$webhook_port  (mutual TLS: the API server's client certificate only)"
start metrics "$build/services/metrics/kubedl-metrics" --listen-address=127.0.0.1 \
  --grpc-port="$metrics_grpc" --http-port="$metrics_http" --insecure-plaintext
wait_ready metrics "http://127.0.0.1:$metrics_http/readyz"
echo "  kubedl-metrics         gRPC 127.0.0.1:$metrics_grpc, http://127.0.0.1:$metrics_http/metrics"
# No scheduler-plugins scheduler runs here, so its pods name the default scheduler: the PodGroup
# and the pod binding are real, the admission is the default scheduler's.
start gang-scheduler "$build/services/gang-scheduler/kubedl-gang-scheduler" \
  --kubeconfig="$KUBECONFIG" --listen-address=127.0.0.1 --backend=scheduler-plugins \
  --scheduler-plugins-scheduler-name=default-scheduler \
  --grpc-port="$gang_grpc" --health-port="$gang_health" --insecure-plaintext
wait_ready gang-scheduler "http://127.0.0.1:$gang_health/readyz"
echo "  kubedl-gang-scheduler  gRPC 127.0.0.1:$gang_grpc (backend scheduler-plugins)"
start reconciler "$build/services/reconciler/kubedl-reconciler" --kubeconfig="$KUBECONFIG" \
  --workloads=auto --leader-elect=false --health-port="$rec_health" --metrics-port="$rec_metrics" \
  --gang-scheduler-address="127.0.0.1:$gang_grpc" --metrics-sink-address="127.0.0.1:$metrics_grpc" \
  --insecure-plaintext-grpc
wait_ready reconciler "http://127.0.0.1:$rec_health/readyz"
echo "  kubedl-reconciler      all workloads, http://127.0.0.1:$rec_metrics/metrics"
cat >"$state/env" <<ENV
WEBHOOK_URL=https://127.0.0.1:$webhook_port
METRICS_URL=http://127.0.0.1:$metrics_http/metrics
RECONCILER_METRICS_URL=http://127.0.0.1:$rec_metrics/metrics
GANG_SCHEDULER_ADDRESS=127.0.0.1:$gang_grpc
ENV

say "Registering the webhook with the API server (namespace $ns)"
k delete namespace "$ns" --ignore-not-found --wait=true >/dev/null
k create namespace "$ns" >/dev/null
k label namespace "$ns" kubedl.io/webhook=kubedl-demo >/dev/null
KUBECTL=$KUBECTL bash "$repo/tools/register-webhooks.sh" kubedl-demo \
  "https://127.0.0.1:$webhook_port" "$state/pki/ca.crt"
# The API server picks registrations up asynchronously: wait until it refuses a bad job.
probe='{"apiVersion":"kubeflow.org/v1","kind":"TFJob","metadata":{"name":"probe"},"spec":{"tfReplicaSpecs":{}}}'
for _ in $(seq 100); do
  if ! k create -n "$ns" --dry-run=server -f - <<<"$probe" >/dev/null 2>&1; then break; fi
  sleep 0.2
done

say "Submitting the examples (their training containers 'run' for $run_for on the fake nodes)"
for f in "$repo"/examples/*.yaml; do
  python3 "$repo/tools/demo/simulate.py" "$run_for" <"$f" | k apply -n "$ns" -f - | sed 's/^/  /'
done

say "PodGroups the gang scheduler made before the first pods (and the pods' binding)"
for _ in $(seq 50); do
  [ "$(k get podgroups.scheduling.x-k8s.io -n "$ns" -o name | wc -l)" -ge 5 ] && break
  sleep 0.2
done
k get podgroups.scheduling.x-k8s.io -n "$ns" \
  -o custom-columns=PODGROUP:.metadata.name,MIN-MEMBER:.spec.minMember,MIN-RESOURCES:.spec.minResources,OWNER:.metadata.ownerReferences[0].kind
k get pods -n "$ns" -l training.kubeflow.org/job-name=gang-tf \
  -o custom-columns='POD:.metadata.name,POD-GROUP:.metadata.labels.scheduling\.x-k8s\.io/pod-group,SCHEDULER:.spec.schedulerName'

say "Submitting a job the webhook must refuse (a Worker with replicas: -1 and no containers)"
if out=$(k apply -n "$ns" -f "$repo/tools/demo/invalid-tfjob.yaml" 2>&1); then
  die "the invalid job was accepted: $out"
fi
printf '  %s\n' "$out"

say "The jobs, live, until all have finished"
python3 "$repo/tools/demo/jobs_table.py" "$ns" "${KUBEDL_DEMO_TIMEOUT:-300}" || true

say "PodGroups left (each is deleted when its job finishes)"
k get podgroups.scheduling.x-k8s.io -n "$ns" 2>&1 | sed 's/^/  /'

say "Key metrics from kubedl-metrics (http://127.0.0.1:$metrics_http/metrics)"
curl -sf "http://127.0.0.1:$metrics_http/metrics" |
  grep -E '^kubedl_(jobs_(created|successful|failed|restarted)_total|jobs_(running|pending)|jobs_first_pod_launch_delay_seconds_(count|sum)|jobs_all_pods_launch_delay_seconds_count)' |
  sed 's/^/  /' || echo "  (no job metrics yet)"

# The same chart, installed for real on a real node, when this machine can run one.
bash "$repo/tools/demo/real-node.sh" "$build"

say "Done. Everything is still running; keep exploring:"
cat <<TXT
  source ${KUBEDL_CLUSTER_DIR:-.local/cluster}/env && export KUBECONFIG
  \$KUBECTL get $job_plurals,pods -n $ns
  \$KUBECTL logs -n $ns mnist-tf-worker-0            # answered by KWOK on 127.0.0.1
  \$KUBECTL apply -n $ns -f examples/tfjob.yaml      # the webhook defaults it; see -o yaml
  curl -s $(sed -n 's/^METRICS_URL=//p' "$state/env")
  logs: .local/demo/logs/   addresses: .local/demo/env
Stop the services and the control plane with:
  make demo-down
TXT
