#!/usr/bin/env bash
# Runs Kubeflow's training-operator (built by build-training-operator.sh) out of cluster against the
# local control plane named by KUBECONFIG, on loopback only, for the side-by-side benchmarks.
#
# As a library (bench/compare/run.sh and webhooks.sh source it under set -euo pipefail, with
# KUBECONFIG and KUBECTL set):
#   to_apply_crds          install training-operator's own CRDs (manifests/base/crds of the module;
#                          same kubeflow.org names as charts/kubedl/crds), remembering what was there
#   to_start [FLAG...]     start it (extra flags appended, e.g. --controller-threads=16) and wait
#                          until it is ready; sets TO_PID, TO_LOG, TO_WEBHOOK_PORT, TO_CA (PEM file)
#   to_check_loopback      fail unless every socket of TO_PID is on loopback
#   to_stop                stop it (SIGTERM, then wait) and remove what to_start put in place
#   to_restore_crds        put KubeDL's CRDs back (server-side apply of charts/kubedl/crds, then
#                          drop fields only training-operator's set) and delete training-operator
#                          CRDs that were neither there before to_apply_crds nor among ours
# Run directly, it is a smoke test on the control plane of KUBEDL_CLUSTER_DIR (default the
# repository's .local/cluster; start your own with tools/controlplane/up.sh):
#   KUBEDL_CLUSTER_DIR=/tmp/compare-cluster bash bench/compare/run-training-operator.sh
# which installs the CRDs, starts the operator, submits one TFJob (1 PS + 2 Workers whose pods
# KWOK runs, the workers ending with exit code 0), waits for Running then Succeeded, stops it
# and restores KubeDL's CRDs.
#
# How it runs: flags --enable-scheme=tfjob --leader-elect=false, metrics and health probes on
# 127.0.0.1 ports, the webhook server on 127.0.0.1 (--webhook-bind-host, the one flag our build
# adds). Upstream mounts its webhook certificate from the Secret kubeflow/training-operator-
# webhook-cert that its cert rotator manages; out of cluster the rotator only checks that
# /tmp/k8s-webhook-server/serving-certs/tls.crt exists (a fixed path in pkg/cert) and that the
# Secret holds a valid CA and server certificate, else it generates its own; and it is not ready
# until it has read the CA back from the Secret. So to_start writes one local PKI both ways: a CA
# (RSA, PKCS#1, subjectAltName training-operator-ca: what the rotator parses and verifies) and a
# server certificate from tools/certs/gen.sh for training-operator.kubeflow.svc and 127.0.0.1,
# in the Secret and in that folder. No ValidatingWebhookConfiguration is created:
# like KubeDL's reconciler in bench/reconciler, the operator is measured without admission calls;
# webhooks.sh measures the webhook by itself.

to_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
to_repo=$(cd "$to_here/../.." && pwd)
# shellcheck source=../../tools/controlplane/versions.env
source "$to_repo/tools/controlplane/versions.env"
TO_NAMESPACE=${TO_NAMESPACE:-kubeflow}   # upstream's; the rotator's Secret lives there
to_certdir=/tmp/k8s-webhook-server/serving-certs
to_log() { printf '[training-operator] %s\n' "$*" >&2; }
to_free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

to_crd_folder() {
  bash "$to_repo/tools/controlplane/go-module-files.sh" github.com/kubeflow/training-operator \
    "$TRAINING_OPERATOR_VERSION" manifests/base/crds
}

to_wait_established() {  # CRD names from the YAML files given
  local f
  for f in "$@"; do
    "$KUBECTL" wait --for=condition=Established --timeout=60s \
      "crd/$(awk '/^metadata:/{m=1;next} m&&/^  name:/{print $2; exit}' "$f")" >/dev/null
  done
}

to_apply_crds() {
  local folder; folder=$(to_crd_folder)
  TO_CRDS_BEFORE=$("$KUBECTL" get crd -o name | sed 's#.*/##' | sort)
  "$KUBECTL" apply --server-side --force-conflicts --field-manager=training-operator-bench \
    $(printf -- '-f %s ' "$folder"/kubeflow.org_*.yaml) >/dev/null
  to_wait_established "$folder"/kubeflow.org_*.yaml
  to_log "installed training-operator $TRAINING_OPERATOR_VERSION's CRDs"
}

to_restore_crds() {
  local folder name ours; folder=$(to_crd_folder)
  ours=$(awk '/^metadata:/{m=1;next} m&&/^  name:/{print $2; m=0}' "$to_repo"/charts/kubedl/crds/*.yaml | sort)
  for f in "$folder"/kubeflow.org_*.yaml; do
    name=$(awk '/^metadata:/{m=1;next} m&&/^  name:/{print $2; exit}' "$f")
    if ! grep -qx "$name" <<<"${TO_CRDS_BEFORE:-}" && ! grep -qx "$name" <<<"$ours"; then
      "$KUBECTL" delete crd "$name" --wait=true >/dev/null
    fi
  done
  "$KUBECTL" apply --server-side --force-conflicts -f "$to_repo/charts/kubedl/crds/" >/dev/null
  # Fields only training-operator's CRDs set (e.g. the controller-gen annotation) are still owned
  # by our field manager: applying nothing as that manager removes them.
  for name in $ours; do
    printf 'apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: %s\n' "$name" |
      "$KUBECTL" apply --server-side --field-manager=training-operator-bench -f - >/dev/null
  done
  to_wait_established "$to_repo"/charts/kubedl/crds/*.yaml
  to_log "restored KubeDL's CRDs"
}

# One PKI for both places the operator looks (see the header).
to_make_certs() {
  local pki=$1
  mkdir -p "$pki"
  # The rotator parses the CA key as PKCS#1 RSA and verifies the CA certificate as one for the
  # name training-operator-ca, so this CA is made here rather than by gen.sh (EC, no name).
  openssl genrsa -traditional -out "$pki/ca.key" 2048 2>/dev/null
  openssl req -x509 -new -key "$pki/ca.key" -sha256 -days 3650 -subj /CN=training-operator-ca \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
    -addext subjectAltName=DNS:training-operator-ca -out "$pki/ca.crt" 2>/dev/null
  bash "$to_repo/tools/certs/gen.sh" server "$pki" server "$pki/ca" "training-operator.$TO_NAMESPACE.svc,127.0.0.1"
}

to_start() {
  local bin; bin=$(bash "$to_here/build-training-operator.sh")
  TO_WORK=$(mktemp -d /tmp/training-operator-run.XXXXXX) TO_PID= TO_CREATED_NS=0
  to_make_certs "$TO_WORK/pki"
  TO_CA=$TO_WORK/pki/ca.crt
  # The folder is machine-wide: keep whatever was there and put it back in to_stop.
  if [ -e "$to_certdir" ]; then mv "$to_certdir" "$TO_WORK/certdir-before"; fi
  mkdir -p "$to_certdir"
  cp "$TO_WORK/pki/server.crt" "$to_certdir/tls.crt"; cp "$TO_WORK/pki/server.key" "$to_certdir/tls.key"
  "$KUBECTL" get namespace "$TO_NAMESPACE" >/dev/null 2>&1 || {
    "$KUBECTL" create namespace "$TO_NAMESPACE" >/dev/null; TO_CREATED_NS=1; }
  "$KUBECTL" -n "$TO_NAMESPACE" delete secret training-operator-webhook-cert --ignore-not-found >/dev/null
  "$KUBECTL" -n "$TO_NAMESPACE" create secret generic training-operator-webhook-cert \
    --from-file=ca.crt="$TO_WORK/pki/ca.crt" --from-file=ca.key="$TO_WORK/pki/ca.key" \
    --from-file=tls.crt="$TO_WORK/pki/server.crt" --from-file=tls.key="$TO_WORK/pki/server.key" >/dev/null
  TO_WEBHOOK_PORT=$(to_free_port); TO_HEALTH_PORT=$(to_free_port); TO_METRICS_PORT=$(to_free_port)
  TO_FLAGS=(--kubeconfig="$KUBECONFIG" --enable-scheme=tfjob --leader-elect=false
    --metrics-bind-address="127.0.0.1:$TO_METRICS_PORT"
    --health-probe-bind-address="127.0.0.1:$TO_HEALTH_PORT"
    --webhook-bind-host=127.0.0.1 --webhook-server-port="$TO_WEBHOOK_PORT" "$@")
  TO_LOG=$TO_WORK/operator.log
  MY_POD_NAMESPACE=$TO_NAMESPACE KUBEFLOW_NAMESPACE= "$bin" "${TO_FLAGS[@]}" >"$TO_LOG" 2>&1 &
  TO_PID=$!
  to_log "started pid $TO_PID: $bin ${TO_FLAGS[*]}"
  local i
  for i in $(seq 1 300); do   # 30 s; /readyz turns 200 once certificates and webhook server are up
    if curl -sf "http://127.0.0.1:$TO_HEALTH_PORT/readyz" >/dev/null 2>&1; then
      to_log "ready after $((i / 10)).$((i % 10)) s"; return 0
    fi
    kill -0 "$TO_PID" 2>/dev/null || { tail -20 "$TO_LOG" >&2; to_log "it exited"; return 1; }
    sleep 0.1
  done
  tail -20 "$TO_LOG" >&2; to_log "not ready after 30 s"; return 1
}

# Every listening socket bound to loopback and every connection's peer on loopback.
to_check_loopback() {
  local bad
  bad=$(ss -Htanp 2>/dev/null | grep "pid=$TO_PID," | awk '
    function lo(a) { return a ~ /^127\./ || a ~ /^\[::1\]/ || a ~ /^\[::ffff:127\./ }
    $1 == "LISTEN" { if (!lo($4)) print "listens on " $4; next }
    { if (!lo($5)) print "connected to " $5 }')
  if [ -n "$bad" ]; then to_log "not loopback only: $bad"; return 1; fi
  to_log "loopback only: $(ss -Htanp 2>/dev/null | grep -c "pid=$TO_PID,") sockets, listening on $(ss -Htlnp 2>/dev/null | grep "pid=$TO_PID," | awk '{printf "%s ", $4}')"
}

to_stop() {
  [ -n "${TO_WORK:-}" ] || return 0
  if [ -n "${TO_PID:-}" ]; then
    kill "$TO_PID" 2>/dev/null || true
    local i
    for i in $(seq 1 100); do kill -0 "$TO_PID" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$TO_PID" 2>/dev/null; then to_log "still running after 10 s: SIGKILL"; kill -9 "$TO_PID"; fi
    wait "$TO_PID" 2>/dev/null || true
    TO_PID=
  fi
  rm -rf "$to_certdir" "$TO_WORK/pki"   # the log stays, for reading after
  if [ -e "$TO_WORK/certdir-before" ]; then mv "$TO_WORK/certdir-before" "$to_certdir"; fi
  rmdir /tmp/k8s-webhook-server 2>/dev/null || true
  "$KUBECTL" -n "$TO_NAMESPACE" delete secret training-operator-webhook-cert --ignore-not-found >/dev/null || true
  [ "${TO_CREATED_NS:-0}" = 0 ] || "$KUBECTL" delete namespace "$TO_NAMESPACE" --wait=false >/dev/null || true
  to_log "stopped (log kept in ${TO_LOG:-$TO_WORK})"
  TO_WORK=
}

# --- smoke test when run directly --------------------------------------------------------------
to_smoke() {
  local cluster=${KUBEDL_CLUSTER_DIR:-$to_repo/.local/cluster}
  # shellcheck disable=SC1091
  source "$cluster/env"
  export KUBECONFIG KUBECTL
  local ns=compare-smoke job=smoke
  trap 'to_stop; "$KUBECTL" delete namespace '"$ns"' --wait=false >/dev/null 2>&1 || true; to_restore_crds' EXIT
  to_apply_crds
  to_start
  to_check_loopback
  "$KUBECTL" create namespace "$ns" >/dev/null
  "$KUBECTL" apply -f - >/dev/null <<YAML
apiVersion: kubeflow.org/v1
kind: TFJob
metadata: {name: $job, namespace: $ns}
spec:
  tfReplicaSpecs:
    PS:
      replicas: 1
      template:
        spec:
          containers: [{name: tensorflow, image: example.invalid/tf:1}]
    Worker:
      replicas: 2
      template:
        metadata:
          annotations: {kwok.kubedl.io/exit-code: "0", kwok.kubedl.io/run-for: 4s}
        spec:
          containers: [{name: tensorflow, image: example.invalid/tf:1}]
YAML
  local t0 cond i; t0=$(date +%s.%N)
  for want in Running Succeeded; do
    for i in $(seq 1 600); do
      cond=$("$KUBECTL" -n "$ns" get tfjob "$job" \
        -o jsonpath="{.status.conditions[?(@.type==\"$want\")].status}" 2>/dev/null || true)
      [ "$cond" = True ] && break
      sleep 0.1
    done
    [ "$cond" = True ] || { "$KUBECTL" -n "$ns" get tfjob,pods,svc -o wide >&2; tail -30 "$TO_LOG" >&2
      to_log "the TFJob never reached $want"; return 1; }
    to_log "TFJob $want after $(python3 -c "import time; print(round(time.time() - $t0, 1))") s"
    [ "$want" = Running ] && "$KUBECTL" -n "$ns" get pods,services -o wide >&2
  done
  to_check_loopback
  to_log "peak RSS $(awk '/VmHWM/ {print $2, $3}' "/proc/$TO_PID/status"), CPU $(awk '{printf "%.2f s", ($14+$15)/100}' "/proc/$TO_PID/stat")"
  to_log "smoke test passed"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then set -euo pipefail; to_smoke; fi
