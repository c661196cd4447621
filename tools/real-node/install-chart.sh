#!/usr/bin/env bash
# Installs the Helm chart for real on the local control plane's real node:
#   tools/real-node/install-chart.sh BUILD_DIR [helm args...]
# builds the images (cached), starts a control plane with one real node
# in $KUBEDL_CLUSTER_DIR (KUBEDL_REAL_NODES=1), imports the images into the node's containerd and
# runs `helm install kubedl charts/kubedl -n kubedl-system` with tools/real-node/values.yaml,
# waiting until every service is Ready. Used by `make demo` and the e2e test.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:?usage: install-chart.sh BUILD_DIR [helm args...]}; shift
[[ $build = /* ]] || build=$repo/$build
: "${KUBEDL_CLUSTER_DIR:?set KUBEDL_CLUSTER_DIR to the folder of the real-node cluster}"
export KUBEDL_REAL_NODES=1
log() { printf '[real node] %s\n' "$*" >&2; }

bash "$repo/tools/images/build.sh" "$build" "$build/images" local
# With KUBEDL_REAL_NODES=1, up.sh builds the node's parts (cached) before starting it.
bash "$repo/tools/controlplane/up.sh"
# The MPI launcher's kubectl-delivery image holds the control plane's kubectl, built by up.sh.
bash "$repo/tools/images/kubectl-delivery.sh" "$build/images" local
# shellcheck disable=SC1091
source "$KUBEDL_CLUSTER_DIR/env"
export KUBECONFIG
bash "$repo/tools/controlplane/import-images.sh" "$build"/images/*.tar

"$KUBECTL" apply --server-side -f "$repo/test/integration/gang/crds/scheduler-plugins-podgroup.yaml" >/dev/null
"$KUBECTL" create namespace kubedl-system --dry-run=client -o yaml | "$KUBECTL" apply -f - >/dev/null
# values.yaml has the webhook require the client certificate the API server presents to webhooks.
"$KUBECTL" -n kubedl-system create configmap kubedl-apiserver-webhook-client-ca \
  --from-file=ca.crt="$WEBHOOK_CLIENT_CA" --dry-run=client -o yaml | "$KUBECTL" apply -f - >/dev/null
start=$SECONDS
"$HELM" upgrade --install kubedl "$repo/charts/kubedl" -n kubedl-system \
  -f "$repo/tools/real-node/values.yaml" "$@" --wait --timeout 300s >/dev/null
log "chart installed, every service Ready in $((SECONDS - start)) s"

# A Ready webhook pod is not yet a reachable webhook: the API server calls it through its
# Service, whose endpoints reach kube-proxy a moment later (until then: connection refused).
# Wait until the webhook itself denies a malformed job (a server-side dry run, nothing stored).
malformed='{"apiVersion":"kubeflow.org/v1","kind":"TFJob","metadata":{"name":"kubedl-webhook-probe"},
  "spec":{"tfReplicaSpecs":{"Launcher":{"replicas":1,"template":{"spec":{"containers":[{"name":"tensorflow","image":"x"}]}}}}}}'
start=$SECONDS
while :; do
  answer=$("$KUBECTL" -n default create --dry-run=server -o name -f - 2>&1 <<< "$malformed" || true)
  grep -q "failed calling webhook" <<< "$answer" || break
  (( SECONDS - start < 120 )) || { log "the API server cannot reach the webhook after 120 s: $answer"; exit 1; }
  sleep 0.5
done
log "the API server reaches the webhook ($((SECONDS - start)) s after Ready)"
