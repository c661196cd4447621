#!/usr/bin/env bash
# `kubectl logs` of a pod on a fake node is answered on this machine: the API server prefers the
# node's InternalIP, the node reports a loopback InternalIP and KWOK's own port as its kubelet
# port, and KWOK serves the container's log from the file the control plane wrote. Checked for a
# pod shaped like the demo's (a TFJob worker whose container "runs" for a while and exits 0),
# both while it runs and after it has finished, through kubectl and the raw pods/log API that
# SDKs call.
set -euo pipefail
: "${KUBECONFIG:?run through tools/run-tests.sh (make test)}"
: "${KUBEDL_CLUSTER_DIR:?run through tools/run-tests.sh (make test)}"
k() { "${KUBECTL:-kubectl}" "$@"; }
dir=$KUBEDL_CLUSTER_DIR
ns=logs-$$-$RANDOM
pod=logs-demo-worker-0
fail() { echo "FAIL: $*" >&2; k -n "$ns" get pods -o wide >&2 || true; exit 1; }
ok() { echo "ok: $*"; }
trap 'k delete namespace "$ns" --wait=false >/dev/null 2>&1 || true' EXIT

kwok_port=$(sed -n 's/^KWOK_PORT=//p' "$dir/env")
[ -n "$kwok_port" ] || fail "$dir/env has no KWOK_PORT (a control plane from before loopback nodes: restart it)"

# 1. The API server dials nodes by InternalIP only (never a Hostname it would have to resolve).
apiserver_pid=$(cat "$dir/kube-apiserver.pid")
mapfile -d '' args < "/proc/$apiserver_pid/cmdline"
types=""
for i in "${!args[@]}"; do
  case "${args[$i]}" in
    --kubelet-preferred-address-types=*) types=${args[$i]#*=} ;;
    --kubelet-preferred-address-types) types=${args[$((i + 1))]} ;;
  esac
done
[ "$types" = InternalIP ] || fail "kube-apiserver runs with --kubelet-preferred-address-types='$types', want InternalIP"
ok "kube-apiserver runs with --kubelet-preferred-address-types=InternalIP"

# 2. A demo-like pod goes Running on a fake node.
k create namespace "$ns" >/dev/null
k -n "$ns" apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: $pod
  labels: {training.kubeflow.org/job-name: logs-demo, training.kubeflow.org/replica-type: worker}
  annotations: {kwok.kubedl.io/exit-code: "0", kwok.kubedl.io/run-for: "4s"}
spec:
  restartPolicy: Never
  containers: [{name: tensorflow, image: kubedl/tf-mnist-estimator-api:v0.1}]
YAML
k -n "$ns" wait --for=jsonpath='{.status.phase}'=Running "pod/$pod" --timeout=60s >/dev/null \
  || fail "pod did not go Running"

# 3. Its node reports a loopback InternalIP and KWOK's port as the kubelet port.
node=$(k -n "$ns" get pod "$pod" -o jsonpath='{.spec.nodeName}')
ip=$(k get node "$node" -o jsonpath='{.status.addresses[?(@.type=="InternalIP")].address}')
python3 -c 'import ipaddress, sys; sys.exit(0 if ipaddress.ip_address(sys.argv[1]).is_loopback else 1)' "$ip" \
  || fail "node $node reports InternalIP '$ip', not in 127.0.0.0/8"
ok "node $node reports InternalIP $ip (loopback)"
port=$(k get node "$node" -o jsonpath='{.status.daemonEndpoints.kubeletEndpoint.Port}')
[ "$port" = "$kwok_port" ] || fail "node $node reports kubelet port '$port', KWOK listens on $kwok_port"
# The socket listening on $ip:$port belongs to the KWOK process of this control plane.
kwok_pid=$(cat "$dir/kwok.pid")
python3 - "$ip" "$port" "$kwok_pid" <<'PY' || fail "no socket of KWOK (pid $kwok_pid) listens on $ip:$port"
import ipaddress, os, sys
ip, port, pid = ipaddress.ip_address(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
want = "%s:%04X" % (ip.packed[::-1].hex().upper(), port)   # /proc/net/tcp: little-endian IPv4
inodes = {line.split()[9] for line in open("/proc/net/tcp").readlines()[1:]
          if line.split()[1] == want and line.split()[3] == "0A"}      # 0A: LISTEN
fds = {os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")}
sys.exit(0 if any(f"socket:[{i}]" in fds for i in inodes) else 1)
PY
ok "node $node reports kubelet port $port, where KWOK (pid $kwok_pid) listens"

# 4. `kubectl logs` returns the log KWOK serves from the file the control plane wrote.
logs_file=$dir/logs/pods/fake-container.log
want=$(sed -E 's/^[^ ]+ (stdout|stderr) [FP] //' "$logs_file")
[ -n "$want" ] || fail "$logs_file is empty"
check_logs() {  # check_logs WHEN
  local got
  got=$(k -n "$ns" logs "$pod" -c tensorflow 2>&1) || fail "kubectl logs ($1) failed: $got"
  [ "$got" = "$want" ] || fail "kubectl logs ($1) returned:
$got
want:
$want"
  grep -q "https://127.0.0.1:$kwok_port" <<<"$got" || fail "the log does not name KWOK's address"
  got=$(k get --raw "/api/v1/namespaces/$ns/pods/$pod/log?container=tensorflow" 2>&1) \
    || fail "GET pods/log ($1) failed: $got"
  [ "$got" = "$want" ] || fail "GET pods/log ($1) returned: $got"
  ok "kubectl logs and GET pods/log of the $1 pod return KWOK's log"
}
check_logs running

# 5. ... and still after the container has finished, as the demo's pods have.
k -n "$ns" wait --for=jsonpath='{.status.phase}'=Succeeded "pod/$pod" --timeout=60s >/dev/null \
  || fail "pod did not finish Succeeded"
check_logs finished
echo PASS
