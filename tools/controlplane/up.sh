#!/usr/bin/env bash
# Starts the local control plane on loopback (etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler, kwok) and a few fake nodes, or reuses the one already running.
# Writes $KUBEDL_CLUSTER_DIR/kubeconfig and $KUBEDL_CLUSTER_DIR/env (ports, paths). The API
# server presents a client certificate to admission webhooks; env's WEBHOOK_CLIENT_CA is its CA.
# KUBEDL_REAL_NODES=1 adds one real node (kubelet, kube-proxy, containerd, CoreDNS; see
# real-node.sh); the API server then listens on the node's address so pods can reach it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/paths.sh"
nodes=${KUBEDL_FAKE_NODES:-4}
k8s=$cache/bin/kubernetes-$K8S_VERSION
etcd_bin=$cache/bin/etcd-$ETCD_VERSION/etcd
kwok_bin=$cache/bin/kwok-$KWOK_VERSION/kwok
real=0
[ "${KUBEDL_REAL_NODES:-0}" = 0 ] || real=1

log() { printf '[control-plane] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

for b in "$k8s/kube-apiserver" "$etcd_bin" "$kwok_bin"; do
  [ -x "$b" ] || die "$b is missing: run tools/controlplane/build.sh (make controlplane) first"
done

healthy() {
  [ -f "$dir/env" ] || return 1
  # One started before the fake nodes moved to loopback (no KWOK_PORT) is replaced.
  grep -q '^KWOK_PORT=' "$dir/env" || return 1
  # And one started before the API server presented a client certificate to webhooks.
  grep -q '^WEBHOOK_CLIENT_CA=' "$dir/env" || return 1
  # Only a cluster of the kind asked for: with or without the real node.
  if [ "$real" = 1 ]; then grep -q '^REAL_NODE=' "$dir/env" || return 1
  else ! grep -q '^REAL_NODE=' "$dir/env" || return 1; fi
  # shellcheck disable=SC1091
  source "$dir/env"
  "$k8s/kubectl" --kubeconfig "$dir/kubeconfig" get --raw /readyz >/dev/null 2>&1 || return 1
  [ "$real" = 0 ] && return 0
  [ "$("$k8s/kubectl" --kubeconfig "$dir/kubeconfig" get node "$REAL_NODE" \
      -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ]
}

if healthy; then
  log "reusing the control plane at https://${NODE_IP:-127.0.0.1}:$APISERVER_PORT ($dir)"
  exit 0
fi
[ -d "$dir" ] && bash "$here/down.sh" >/dev/null 2>&1 || true
rm -rf "$dir"; mkdir -p "$dir/pki" "$dir/logs/pods"; mkdir -m 700 "$dir/etcd"

# The real node's machine-level part comes first: the API server binds to its address.
api_ip=127.0.0.1
if [ "$real" = 1 ]; then
  bash "$here/build.sh" --node
  # A failed start must not leave forwarding on, the guard, bridges or node processes behind.
  trap 'rc=$?; [ $rc = 0 ] || { log "the start failed: undoing its real-node changes (logs stay in $dir/logs)"; bash "$here/real-node.sh" down || true; }' EXIT
  bash "$here/real-node.sh" prepare
  api_ip=$(sed -n 's/^NODE_IP=//p' "$dir/node/net.env")
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
ETCD_PORT=$(free_port); ETCD_PEER_PORT=$(free_port); APISERVER_PORT=$(free_port)
KCM_PORT=$(free_port); SCHED_PORT=$(free_port); KWOK_PORT=$(free_port)

log "generating certificates"
gen=$repo/tools/certs/gen.sh
node_san=""; [ "$real" = 0 ] || node_san="$api_ip,"
bash "$gen" ca "$dir/pki" ca
bash "$gen" server "$dir/pki" apiserver "$dir/pki/ca" \
  "localhost,127.0.0.1,${node_san}kubernetes,kubernetes.default,kubernetes.default.svc,kubernetes.default.svc.cluster.local,10.0.0.1"
bash "$gen" client "$dir/pki" admin "$dir/pki/ca" kubedl-admin system:masters
# KWOK serves the kubelet API of every fake node; the API server verifies it against our CA.
bash "$gen" server "$dir/pki" kwok "$dir/pki/ca" 127.0.0.1
# The scheduler's metrics are read by the benchmarks (bench/measure.sh), verified against our CA.
bash "$gen" server "$dir/pki" scheduler "$dir/pki/ca" 127.0.0.1
[ "$real" = 0 ] || bash "$here/real-node.sh" certs
# The API server presents this certificate to every admission webhook it calls (user "*" of the
# admission kubeconfig), so a webhook can require mutual TLS (kubedl-webhook --client-ca-file).
bash "$gen" ca "$dir/pki" webhook-client-ca
bash "$gen" client "$dir/pki" apiserver-webhook-client "$dir/pki/webhook-client-ca" kube-apiserver-webhook-client
cat > "$dir/admission-kubeconfig.yaml" <<KC
apiVersion: v1
kind: Config
users:
- name: "*"
  user:
    client-certificate: $dir/pki/apiserver-webhook-client.crt
    client-key: $dir/pki/apiserver-webhook-client.key
KC
cat > "$dir/admission.yaml" <<ADM
apiVersion: apiserver.config.k8s.io/v1
kind: AdmissionConfiguration
plugins:
- name: MutatingAdmissionWebhook
  configuration:
    apiVersion: apiserver.config.k8s.io/v1
    kind: WebhookAdmissionConfiguration
    kubeConfigFile: $dir/admission-kubeconfig.yaml
- name: ValidatingAdmissionWebhook
  configuration:
    apiVersion: apiserver.config.k8s.io/v1
    kind: WebhookAdmissionConfiguration
    kubeConfigFile: $dir/admission-kubeconfig.yaml
ADM
openssl genrsa -out "$dir/pki/sa.key" 2048 2>/dev/null
openssl rsa -in "$dir/pki/sa.key" -pubout -out "$dir/pki/sa.pub" 2>/dev/null

kubeconfig=$dir/kubeconfig
cat > "$kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters:
- name: kubedl-local
  cluster:
    server: https://$api_ip:$APISERVER_PORT
    certificate-authority: pki/ca.crt
users:
- name: kubedl-admin
  user:
    client-certificate: pki/admin.crt
    client-key: pki/admin.key
contexts:
- name: kubedl-local
  context: {cluster: kubedl-local, user: kubedl-admin, namespace: default}
current-context: kubedl-local
KC

start() {  # start NAME CMD...: runs in the background, logs to logs/NAME.log, pid in NAME.pid
  local name=$1; shift
  setsid "$@" > "$dir/logs/$name.log" 2>&1 < /dev/null &
  echo $! > "$dir/$name.pid"
}
wait_for() {  # wait_for SECONDS NAME CMD...: NAME's process must stay alive while we wait
  local limit=$1 name=$2; shift 2
  for _ in $(seq $((limit * 5))); do
    "$@" >/dev/null 2>&1 && return 0
    if [ -f "$dir/$name.pid" ] && ! kill -0 "$(cat "$dir/$name.pid")" 2>/dev/null; then
      tail -5 "$dir/logs/$name.log" >&2
      die "$name exited; its log is $dir/logs/$name.log"
    fi
    sleep 0.2
  done
  die "$name did not come up in ${limit}s; see $dir/logs/"
}

log "starting etcd $ETCD_VERSION"
start etcd "$etcd_bin" --name kubedl --data-dir "$dir/etcd" \
  --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
  --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-cluster "kubedl=http://127.0.0.1:$ETCD_PEER_PORT" \
  --unsafe-no-fsync --quota-backend-bytes 8589934592 --log-level warn
wait_for 30 etcd curl -sf "http://127.0.0.1:$ETCD_PORT/health"

# KWOK only: no ServiceAccount admission (tests create pods right after their namespace, before
# its default ServiceAccount exists) and no endpoints for the `kubernetes` Service. With the real
# node, pods use in-cluster config: tokens are mounted, and the lease reconciler points the
# `kubernetes` Service at the API server on the node address.
if [ "$real" = 1 ]; then
  api_mode=(--kubelet-client-certificate "$dir/pki/apiserver-kubelet-client.crt"
            --kubelet-client-key "$dir/pki/apiserver-kubelet-client.key")
else
  api_mode=(--endpoint-reconciler-type none --disable-admission-plugins ServiceAccount)
fi
log "starting kube-apiserver $K8S_VERSION"
start kube-apiserver "$k8s/kube-apiserver" \
  --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
  --bind-address "$api_ip" --advertise-address "$api_ip" --secure-port "$APISERVER_PORT" \
  --tls-cert-file "$dir/pki/apiserver.crt" --tls-private-key-file "$dir/pki/apiserver.key" \
  --client-ca-file "$dir/pki/ca.crt" --admission-control-config-file "$dir/admission.yaml" \
  --service-account-issuer "https://$api_ip:$APISERVER_PORT" \
  --service-account-key-file "$dir/pki/sa.pub" --service-account-signing-key-file "$dir/pki/sa.key" \
  --service-cluster-ip-range 10.0.0.0/16 --allow-privileged=true "${api_mode[@]}" \
  --kubelet-preferred-address-types=InternalIP --kubelet-certificate-authority "$dir/pki/ca.crt" \
  --authorization-mode RBAC \
  --max-requests-inflight 2000 --max-mutating-requests-inflight 1000 \
  --enable-priority-and-fairness=false --profiling=false --v 1
wait_for 90 kube-apiserver "$k8s/kubectl" --kubeconfig "$kubeconfig" get --raw /readyz

log "starting kube-controller-manager and kube-scheduler"
start kube-controller-manager "$k8s/kube-controller-manager" --kubeconfig "$kubeconfig" \
  --authentication-kubeconfig "$kubeconfig" --authorization-kubeconfig "$kubeconfig" \
  --bind-address 127.0.0.1 --secure-port "$KCM_PORT" --leader-elect=false \
  --service-account-private-key-file "$dir/pki/sa.key" --root-ca-file "$dir/pki/ca.crt" \
  --use-service-account-credentials=false \
  --kube-api-qps 1000 --kube-api-burst 2000 --concurrent-gc-syncs 10 --v 1
start kube-scheduler "$k8s/kube-scheduler" --kubeconfig "$kubeconfig" \
  --authentication-kubeconfig "$kubeconfig" --authorization-kubeconfig "$kubeconfig" \
  --bind-address 127.0.0.1 --secure-port "$SCHED_PORT" --leader-elect=false --v 1 \
  --tls-cert-file "$dir/pki/scheduler.crt" --tls-private-key-file "$dir/pki/scheduler.key"

# The output `kubectl logs` shows for every container of a fake pod: KWOK's ClusterLogs points at
# this file (CRI log format). KWOK cannot template the path per pod, so there is one file.
logs_file=$dir/logs/pods/fake-container.log
now=$(date -u +%Y-%m-%dT%H:%M:%S.000000000Z)
cat > "$logs_file" <<LOG
$now stdout F This container runs on a KWOK fake node of the KubeDL local control plane: no process runs, so it has no output of its own.
$now stdout F Its phase and exit code come from the KWOK stages (annotation kwok.kubedl.io/exit-code, see tools/controlplane/kwok-stages.yaml).
$now stdout F These lines are served by KWOK's kubelet API at https://127.0.0.1:$KWOK_PORT from $logs_file.
LOG
cat > "$dir/kwok-logs.yaml" <<YAML
apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterLogs
metadata: {name: kubedl-fake-containers}
spec:
  logs:
  - logsFile: $logs_file
    previousLogsFile: $logs_file
YAML

# Every fake node reports InternalIP 127.0.0.1 and KWOK's port as its kubelet port, so the API
# server's node proxy (pods/log, exec, port-forward) reaches KWOK on loopback. Pod IPs stay in
# 10.244.0.0/16 (Endpoints refuse loopback addresses); nothing ever dials them.
log "starting kwok $KWOK_VERSION with the KubeDL pod stages"
start kwok "$kwok_bin" --kubeconfig "$kubeconfig" \
  --config "$here/kwok-stages.yaml" --config "$dir/kwok-logs.yaml" \
  --manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake \
  --node-lease-duration-seconds 40 --server-address "127.0.0.1:$KWOK_PORT" \
  --tls-cert-file "$dir/pki/kwok.crt" --tls-private-key-file "$dir/pki/kwok.key" \
  --cidr 10.244.0.0/16 --node-ip 127.0.0.1 --node-port "$KWOK_PORT"
wait_for 30 kwok curl -sf --cacert "$dir/pki/ca.crt" "https://127.0.0.1:$KWOK_PORT/healthz"

cat > "$dir/env" <<ENV
KUBECONFIG=$kubeconfig
APISERVER_PORT=$APISERVER_PORT
ETCD_PORT=$ETCD_PORT
KWOK_PORT=$KWOK_PORT
SCHEDULER_PORT=$SCHED_PORT
KUBECTL=$k8s/kubectl
HELM=$cache/bin/helm-$HELM_VERSION-k8s$K8S_VERSION/helm
K8S_BIN=$k8s
KUBEDL_CLUSTER_DIR=$dir
WEBHOOK_CLIENT_CA=$dir/pki/webhook-client-ca.crt
ENV

log "creating $nodes fake nodes"
for i in $(seq 0 $((nodes - 1))); do
  cat <<NODE
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-$i
  annotations: {kwok.x-k8s.io/node: fake, node.alpha.kubernetes.io/ttl: "0"}
  labels: {type: kwok, kubernetes.io/hostname: kwok-node-$i, kubernetes.io/os: linux, kubernetes.io/arch: amd64}
---
NODE
done | "$k8s/kubectl" --kubeconfig "$kubeconfig" apply -f - >/dev/null
"$k8s/kubectl" --kubeconfig "$kubeconfig" wait --for=condition=Ready node --all --timeout=60s >/dev/null \
  || die "fake nodes did not become Ready; see $dir/logs/kwok.log"
# The default ServiceAccount is made by the controller manager; pods need it to exist.
wait_for 60 kube-controller-manager "$k8s/kubectl" --kubeconfig "$kubeconfig" get serviceaccount default

if [ "$real" = 1 ]; then
  bash "$here/real-node.sh" start
  trap - EXIT
fi

log "ready: export KUBECONFIG=$kubeconfig   (stop it with: make cluster-down)"
