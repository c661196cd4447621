#!/usr/bin/env bash
# One real Kubernetes node (kubelet, kube-proxy, containerd, CoreDNS) beside the KWOK fake nodes.
# up.sh and down.sh drive it; every path keys off $KUBEDL_CLUSTER_DIR, so any cluster dir works.
#   real-node.sh prepare   checks the machine, picks free private addresses, makes the node bridge,
#                          adds the uplink guard, turns on forwarding; writes $dir/node/net.env
#   real-node.sh certs     makes the node's certificates (after up.sh made the cluster CA)
#   real-node.sh start     starts containerd, CoreDNS, the kubelet and kube-proxy; waits for Ready
#   real-node.sh down      undoes all of it (also for a stale node whose cluster dir is gone)
# Only one real node per machine: the node bridge's alias names the cluster dir that owns it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/paths.sh"
node_dir=$dir/node
# Machine-wide record of the one real node: owner dir and the sysctl values to restore. It lives
# outside the cluster dir so a stale node can be undone even after its dir was deleted.
machine=/run/kubedl-real-node
node_name=kubedl-node-0
node_br=kubedl-node   # no ports; holds the node's /32 address
cni_br=kubedl-cni     # the pods' bridge (made by the CNI bridge plugin)
cni_net=kubedl-node   # CNI network name: its results in /var/lib/cni are removed at tear-down
guard=kubedl-guard    # comment on every uplink guard rule
dns_ip=10.0.0.10      # kube-dns ClusterIP (the service range is 10.0.0.0/16)
k8s=$cache/bin/kubernetes-$K8S_VERSION
node_bin=$cache/bin/kubernetes-node-$K8S_VERSION
ctd_bin=$cache/bin/containerd-$CONTAINERD_VERSION
coredns_bin=$cache/bin/coredns-$COREDNS_VERSION/coredns
# Same digest as build.sh: the pause program built from this very source.
pause_bin=$cache/bin/pause-$(cat "$here/node/pause/go.mod" "$here/node/pause/main.go" | sha256sum | cut -c1-12)/pause
pause_image=localhost/kubedl/pause:local
# Sysctls the node's parts may change (forwarding; the kubelet's kernel defaults; kube-proxy's
# conntrack and route_localnet): saved before, restored after.
sysctls=(net/ipv4/ip_forward vm/overcommit_memory vm/panic_on_oom kernel/panic kernel/panic_on_oops
  kernel/keys/root_maxkeys kernel/keys/root_maxbytes net/ipv4/conf/all/route_localnet
  net/netfilter/nf_conntrack_max net/netfilter/nf_conntrack_tcp_timeout_established
  net/netfilter/nf_conntrack_tcp_timeout_close_wait net/bridge/bridge-nf-call-iptables)

log() { printf '[real-node] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# --- checks ---------------------------------------------------------------------------------------
# Prints why this machine cannot run a real node, or nothing. The e2e test skips on it.
why_not() {
  [ "$(id -u)" -eq 0 ] || { echo "not root (a real node needs root)"; return; }
  command -v iptables >/dev/null || { echo "no iptables (tools/install-deps.sh installs it)"; return; }
  iptables -S FORWARD >/dev/null 2>&1 || { echo "iptables does not work here"; return; }
  command -v runc >/dev/null || { echo "no runc (tools/install-deps.sh installs it)"; return; }
  [ -x /usr/lib/cni/bridge ] && [ -x /usr/lib/cni/host-local ] && [ -x /usr/lib/cni/loopback ] \
    || { echo "no CNI plugins in /usr/lib/cni (containernetworking-plugins)"; return; }
  [ -d /sys/fs/cgroup/memory ] || { echo "no cgroup v1 memory hierarchy at /sys/fs/cgroup/memory"; return; }
  mkdir /sys/fs/cgroup/memory/kubedl-probe.$$ 2>/dev/null \
    || { echo "cannot write /sys/fs/cgroup"; return; }
  rmdir /sys/fs/cgroup/memory/kubedl-probe.$$
  ip link add kubedl-probe type bridge 2>/dev/null || { echo "cannot create a bridge"; return; }
  ip link del kubedl-probe
}

need_binaries() {
  for b in "$node_bin/kubelet" "$node_bin/kube-proxy" "$ctd_bin/containerd" "$ctd_bin/ctr" \
      "$ctd_bin/containerd-shim-runc-v2" "$coredns_bin" "$pause_bin"; do
    [ -x "$b" ] || die "$b is missing: run tools/controlplane/build.sh --node"
  done
}

# --- the owner of the machine's real node -----------------------------------------------------------
owner_of_machine() {  # prints the cluster dir that made the node bridge, or nothing
  if [ -f "$machine/owner" ]; then cat "$machine/owner"; return; fi
  ip -d link show "$node_br" 2>/dev/null | sed -n 's/^ *alias kubedl-real-node:\(.*\)$/\1/p' || true
}
alive() {  # alive DIR: does a process of that cluster still run?
  local d=$1 f pid
  for f in "$d/kube-apiserver.pid" "$d/node/kubelet.pid" "$d/node/containerd.pid"; do
    [ -f "$f" ] || continue
    pid=$(cat "$f")
    [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' < "/proc/$pid/cmdline" | grep -qF -- "$d" && return 0
  done
  return 1
}

busy() {  # busy OWNER: is the machine's real node being started, or is its cluster running?
  local pid
  if [ -f "$machine/starting" ]; then
    pid=$(cat "$machine/starting")
    kill -0 "$pid" 2>/dev/null && return 0
  fi
  [ -n "$1" ] && alive "$1"
}

# --- addresses -------------------------------------------------------------------------------------
# The first 172.16.0.0/12 /16 that overlaps no address or route of this machine, nor the cluster's
# service (10.0.0.0/16) and KWOK pod (10.244.0.0/16) ranges: node IP .0.1/32, pods .1.0/24.
pick_range() {
  { ip -4 -o addr show; ip -4 route show table all; } | python3 -c '
import ipaddress, sys
used = [ipaddress.ip_network("10.0.0.0/16"), ipaddress.ip_network("10.244.0.0/16")]
for word in sys.stdin.read().split():  # every address or prefix on any line
    try:
        net = ipaddress.ip_network(word, strict=False)
    except ValueError:
        continue
    if net.prefixlen > 0:  # a default route overlaps everything; it is not a collision
        used.append(net)
for second in range(30, 15, -1):
    cand = ipaddress.ip_network(f"172.{second}.0.0/16")
    if not any(cand.overlaps(n) for n in used):
        print(cand)
        break
else:
    sys.exit("no free 172.16-31.0.0/16 range")
'
}

uplinks() {  # the interfaces of the default routes (IPv4 and IPv6)
  { ip -4 route show default; ip -6 route show default 2>/dev/null; } |
    awk '{for (i=1;i<NF;i++) if ($i=="dev") print $(i+1)}' | sort -u
}

add_guard() {
  local ifc t
  for ifc in $(uplinks); do
    # filter FORWARD is the rule of record; mangle FORWARD runs before it, so the drop holds even
    # though kube-proxy later inserts its own ACCEPTing jumps at the top of filter FORWARD.
    for t in filter mangle; do
      iptables -t "$t" -I FORWARD 1 -o "$ifc" -m comment --comment "$guard" -j DROP
      iptables -t "$t" -I FORWARD 1 -i "$ifc" -m comment --comment "$guard" -j DROP
    done
  done
}
remove_guard() {
  local t rule
  for t in filter mangle; do
    while rule=$(iptables -t "$t" -S FORWARD 2>/dev/null | grep -m1 -- "--comment $guard"); do
      eval "iptables -t $t ${rule/-A FORWARD/-D FORWARD}"
    done
  done
}

# iptables-nft makes its tables (ip/ip6 filter, nat, mangle) on first use and never deletes them:
# remember which existed, and at tear-down delete the ones we caused if they are empty again.
save_nft_tables() {
  command -v nft >/dev/null && nft list tables > "$machine/nft-tables" 2>/dev/null || true
}
remove_new_nft_tables() {
  command -v nft >/dev/null && [ -f "$machine/nft-tables" ] || return 0
  local fam name
  nft list tables 2>/dev/null | while read -r _ fam name; do
    grep -qx "table $fam $name" "$machine/nft-tables" && continue
    [[ $name == filter || $name == nat || $name == mangle || $name == raw ]] || continue
    # Only built-in chains with an accept policy and no rule left: nothing of anyone's.
    nft list table "$fam" "$name" | grep -vqE '^\s*(table |chain |type .*policy accept;|\}|$)' \
      || nft delete table "$fam" "$name"
  done
}

save_sysctls() {
  local s
  for s in "${sysctls[@]}"; do
    [ -r "/proc/sys/$s" ] && printf '%s %s\n' "$s" "$(tr '\t' ' ' < "/proc/sys/$s")"
  done > "$machine/sysctls"
}
restore_sysctls() {
  local s v
  [ -f "$machine/sysctls" ] || return 0
  while read -r s v; do
    [ "$(tr '\t' ' ' < "/proc/sys/$s" 2>/dev/null)" = "$v" ] || echo "$v" > "/proc/sys/$s" 2>/dev/null \
      || log "could not restore $s to $v"
  done < "$machine/sysctls"
}

# --- prepare -------------------------------------------------------------------------------------------
prepare() {
  local why; why=$(why_not)
  [ -z "$why" ] || die "this machine cannot run a real node: $why"
  need_binaries
  local owner; owner=$(owner_of_machine)
  if [ -n "$owner" ] || ip link show "$node_br" >/dev/null 2>&1; then
    if [ "$owner" != "$dir" ] && busy "$owner"; then
      die "a real node already runs on this machine for the cluster at ${owner:-?} (one per machine);" \
        "stop it with: KUBEDL_CLUSTER_DIR=$owner tools/controlplane/down.sh"
    fi
    log "removing the leftovers of a stale real node (${owner:-unknown cluster dir})"
    KUBEDL_CLUSTER_DIR=${owner:-$dir} teardown
  fi
  # Making the bridge is the claim on the machine: it fails if another start got there first.
  ip link add "$node_br" type bridge 2>/dev/null \
    || die "another real node is being set up on this machine right now"
  mkdir -p "$node_dir" "$machine"
  echo "$dir" > "$machine/owner"
  echo "$PPID" > "$machine/starting"  # up.sh: the node counts as in use while it starts
  save_sysctls
  save_nft_tables
  local range; range=$(pick_range)
  local base=${range%.0.0/16}
  NODE_IP=$base.0.1 POD_CIDR=$base.1.0/24 POD_GW=$base.1.1
  ip link set "$node_br" alias "kubedl-real-node:$dir"
  ip addr add "$NODE_IP/32" dev "$node_br"
  ip link set "$node_br" up
  add_guard
  # Pod -> ClusterIP needs forwarding; the guard above is already in place.
  echo 1 > /proc/sys/net/ipv4/ip_forward
  cat > "$node_dir/net.env" <<ENV
NODE_IP=$NODE_IP
POD_CIDR=$POD_CIDR
POD_GW=$POD_GW
NODE_RANGE=$range
ENV
  log "node address $NODE_IP/32 on $node_br, pods $POD_CIDR on $cni_br, uplink guard on: $(uplinks | tr '\n' ' ')"
}

# --- certificates -------------------------------------------------------------------------------------
certs() {
  source "$node_dir/net.env"
  local gen=$repo/tools/certs/gen.sh pki=$dir/pki
  bash "$gen" client "$pki" kubelet-client "$pki/ca" "system:node:$node_name" system:nodes
  bash "$gen" server "$pki" kubelet "$pki/ca" "$NODE_IP,$node_name"
  bash "$gen" client "$pki" kube-proxy "$pki/ca" system:kube-proxy
  bash "$gen" client "$pki" coredns "$pki/ca" kubedl:coredns
  # The API server's client certificate for the kubelet API (logs, exec, port-forward, stats).
  bash "$gen" client "$pki" apiserver-kubelet-client "$pki/ca" kube-apiserver-kubelet-client system:masters
}

kubeconfig_for() {  # kubeconfig_for NAME: a kubeconfig with pki/NAME.{crt,key}
  local name=$1
  cat > "$node_dir/$name.kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters:
- name: kubedl-local
  cluster: {server: "https://$NODE_IP:$APISERVER_PORT", certificate-authority: $dir/pki/ca.crt}
users:
- name: $name
  user: {client-certificate: $dir/pki/$name.crt, client-key: $dir/pki/$name.key}
contexts:
- name: kubedl-local
  context: {cluster: kubedl-local, user: $name}
current-context: kubedl-local
KC
}

run() {  # run NAME CMD...: in the background, log in logs/NAME.log, pid in node/NAME.pid
  local name=$1; shift
  setsid "$@" > "$dir/logs/$name.log" 2>&1 < /dev/null &
  echo $! > "$node_dir/$name.pid"
}
wait_up() {  # wait_up SECONDS NAME CMD...
  local limit=$1 name=$2; shift 2
  for _ in $(seq $((limit * 5))); do
    "$@" >/dev/null 2>&1 && return 0
    kill -0 "$(cat "$node_dir/$name.pid")" 2>/dev/null || {
      tail -5 "$dir/logs/$name.log" >&2; die "$name exited; its log is $dir/logs/$name.log"; }
    sleep 0.2
  done
  die "$name did not come up in ${limit}s; see $dir/logs/$name.log"
}

# --- start ---------------------------------------------------------------------------------------------
start() {
  need_binaries
  source "$dir/env"
  source "$node_dir/net.env"
  local kc="$KUBECTL --kubeconfig $KUBECONFIG" t0
  t0=$(date +%s)
  [ -d /var/lib/cni ] || touch "$machine/made-var-lib-cni"
  [ -d /var/log/containers ] || touch "$machine/made-var-log-containers"
  [ -d /run/containerd ] || touch "$machine/made-run-containerd"
  # The kubelet's device-plugin socket has a fixed path, whatever its root dir.
  [ -d /var/lib/kubelet ] || touch "$machine/made-var-lib-kubelet"
  mkdir -p "$node_dir"/{cni/net.d,cni/ipam,containerd,kubelet,pod-logs,runc,certs.d/_default}

  # Pods: one bridge with host-local addresses; no masquerade (nothing is meant to leave).
  cat > "$node_dir/cni/net.d/10-kubedl.conflist" <<JSON
{"cniVersion": "1.0.0", "name": "$cni_net", "plugins": [
  {"type": "bridge", "bridge": "$cni_br", "isGateway": true, "ipMasq": false, "hairpinMode": true,
   "ipam": {"type": "host-local", "dataDir": "$node_dir/cni/ipam",
            "ranges": [[{"subnet": "$POD_CIDR", "gateway": "$POD_GW"}]],
            "routes": [{"dst": "0.0.0.0/0"}]}}]}
JSON
  # Every registry is redirected to a closed local port: a pod naming an image that was not
  # imported fails to pull instead of making containerd resolve a registry's name.
  cat > "$node_dir/certs.d/_default/hosts.toml" <<'TOML'
server = "https://127.0.0.1:1"
[host."https://127.0.0.1:1"]
  capabilities = ["pull", "resolve"]
TOML
  # restrict_oom_score_adj and disable_apparmor: this sandbox lacks CAP_SYS_RESOURCE and AppArmor.
  # Shim, runc and network-namespace state stays under the cluster dir (apart from the shims'
  # sockets, which containerd always puts in /run/containerd/s).
  local sock=$node_dir/containerd/containerd.sock
  cat > "$node_dir/containerd.toml" <<TOML
version = 3
root = "$node_dir/containerd/root"
state = "$node_dir/containerd/state"
disabled_plugins = ["io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]
[grpc]
  address = "$sock"
[ttrpc]
  address = "$sock.ttrpc"
[metrics]
  address = ""
[plugins.'io.containerd.cri.v1.runtime']
  enable_selinux = false
  restrict_oom_score_adj = true
  disable_apparmor = true
  netns_mounts_under_state_dir = true
  [plugins.'io.containerd.cri.v1.runtime'.containerd]
    default_runtime_name = "runc"
    [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
        SystemdCgroup = false
        BinaryName = "$(command -v runc)"
        Root = "$node_dir/runc"
  [plugins.'io.containerd.cri.v1.runtime'.cni]
    bin_dirs = ["/usr/lib/cni"]
    conf_dir = "$node_dir/cni/net.d"
    max_conf_num = 1
# NRI would put its socket in /run/nri; nothing here uses it.
[plugins.'io.containerd.nri.v1.nri']
  disable = true
[plugins.'io.containerd.cri.v1.images']
  snapshotter = "overlayfs"
  [plugins.'io.containerd.cri.v1.images'.pinned_images]
    sandbox = "$pause_image"
  [plugins.'io.containerd.cri.v1.images'.registry]
    config_path = "$node_dir/certs.d"
[plugins.'io.containerd.grpc.v1.cri']
  disable_tcp_service = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
TOML
  log "starting containerd $CONTAINERD_VERSION"
  PATH=$ctd_bin:$PATH run containerd "$ctd_bin/containerd" --config "$node_dir/containerd.toml"
  wait_up 30 containerd "$ctd_bin/ctr" -a "$sock" version

  # The sandbox image: our pause program alone in a single-layer OCI image.
  mkdir -p "$node_dir/pause-rootfs"
  cp "$pause_bin" "$node_dir/pause-rootfs/pause"
  local out
  out=$(python3 "$repo/tools/images/oci-archive.py" --rootfs "$node_dir/pause-rootfs" \
        --name "$pause_image" --out "$node_dir/pause.tar" --entrypoint /pause 2>&1 &&
        "$ctd_bin/ctr" -a "$sock" -n k8s.io images import "$node_dir/pause.tar" 2>&1) \
    || { echo "$out" >&2; die "could not make or import the pause image"; }

  # RBAC: the local API server has no Node authorizer, so kubelets get ClusterRole system:node;
  # CoreDNS reads Services, EndpointSlices, namespaces and pods.
  $kc apply -f - >/dev/null <<YAML
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "kubedl:nodes"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:node"}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: Group, name: "system:nodes"}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: "kubedl:coredns"}
rules:
- {apiGroups: [""], resources: [services, namespaces, pods], verbs: [list, watch]}
- {apiGroups: [discovery.k8s.io], resources: [endpointslices], verbs: [list, watch]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "kubedl:coredns"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "kubedl:coredns"}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: "kubedl:coredns"}]
---
# Selector-less: its one endpoint is CoreDNS on the node address.
apiVersion: v1
kind: Service
metadata:
  name: kube-dns
  namespace: kube-system
  labels: {k8s-app: kube-dns, kubernetes.io/name: CoreDNS}
spec:
  clusterIP: $dns_ip
  ports:
  - {name: dns, port: 53, protocol: UDP, targetPort: 53}
  - {name: dns-tcp, port: 53, protocol: TCP, targetPort: 53}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: kube-dns-host
  namespace: kube-system
  labels: {kubernetes.io/service-name: kube-dns, endpointslice.kubernetes.io/managed-by: kubedl.io-controlplane}
addressType: IPv4
endpoints:
- addresses: ["$NODE_IP"]
  conditions: {ready: true}
ports:
- {name: dns, port: 53, protocol: UDP}
- {name: dns-tcp, port: 53, protocol: TCP}
YAML

  # CoreDNS: the cluster's names only. No forward plugin: nothing is ever asked upstream.
  local ready_port; ready_port=$(python3 -c 'import socket,sys; s=socket.socket(); s.bind((sys.argv[1],0)); print(s.getsockname()[1])' "$NODE_IP")
  kubeconfig_for coredns
  cat > "$node_dir/Corefile" <<CORE
.:53 {
    bind $NODE_IP
    errors
    ready $NODE_IP:$ready_port
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig $node_dir/coredns.kubeconfig kubedl-local
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }
    cache 30
}
CORE
  log "starting coredns $COREDNS_VERSION on $NODE_IP:53"
  run coredns "$coredns_bin" -conf "$node_dir/Corefile"
  wait_up 30 coredns curl -sf "http://$NODE_IP:$ready_port/ready"

  # The kubelet: cgroupfs on the v1 hierarchy, swap tolerated; everything it writes under node/.
  # Image GC thresholds at 100%: imported images cannot be pulled back, so never collect them.
  echo "nameserver 127.0.0.1" > "$node_dir/resolv.conf"
  kubeconfig_for kubelet-client
  cat > "$node_dir/kubelet.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
port: 10250
readOnlyPort: 0
healthzBindAddress: $NODE_IP
healthzPort: 10248
tlsCertFile: $dir/pki/kubelet.crt
tlsPrivateKeyFile: $dir/pki/kubelet.key
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $dir/pki/ca.crt}
authorization: {mode: Webhook}
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
containerRuntimeEndpoint: unix://$sock
clusterDNS: [$dns_ip]
clusterDomain: cluster.local
resolvConf: $node_dir/resolv.conf
podLogsDir: $node_dir/pod-logs
rotateCertificates: false
serverTLSBootstrap: false
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: 50Mi, nodefs.available: 1%, imagefs.available: 1%, nodefs.inodesFree: 1%}
YAML
  log "starting kubelet $K8S_VERSION as $node_name"
  local k0; k0=$(date +%s)
  run kubelet "$node_bin/kubelet" --config "$node_dir/kubelet.yaml" \
    --kubeconfig "$node_dir/kubelet-client.kubeconfig" --root-dir "$node_dir/kubelet" \
    --hostname-override "$node_name" --node-ip "$NODE_IP" \
    --node-labels kubedl.io/real-node=true --v 1

  # kube-proxy in iptables mode; it touches no conntrack sysctl and no route_localnet.
  kubeconfig_for kube-proxy
  cat > "$node_dir/kube-proxy.yaml" <<YAML
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: $node_dir/kube-proxy.kubeconfig}
mode: iptables
hostnameOverride: $node_name
bindAddress: $NODE_IP
healthzBindAddress: $NODE_IP:10256
metricsBindAddress: $NODE_IP:10249
clusterCIDR: $POD_CIDR
iptables: {localhostNodePorts: false, masqueradeAll: true}
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
YAML
  log "starting kube-proxy $K8S_VERSION"
  run kube-proxy "$node_bin/kube-proxy" --config "$node_dir/kube-proxy.yaml" --v 1

  for _ in $(seq 600); do
    [ "$($kc get node "$node_name" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ] && break
    kill -0 "$(cat "$node_dir/kubelet.pid")" 2>/dev/null || {
      tail -5 "$dir/logs/kubelet.log" >&2; die "the kubelet exited; its log is $dir/logs/kubelet.log"; }
    sleep 0.2
  done
  [ "$($kc get node "$node_name" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" = True ] \
    || die "$node_name did not become Ready in 120s; see $dir/logs/kubelet.log"
  wait_up 30 kube-proxy curl -sf "http://$NODE_IP:10256/healthz"
  cat >> "$dir/env" <<ENV
REAL_NODE=$node_name
NODE_IP=$NODE_IP
POD_CIDR=$POD_CIDR
CONTAINERD_ADDRESS=$sock
CTR=$ctd_bin/ctr
ENV
  rm -f "$machine/starting"
  log "$node_name Ready $(( $(date +%s) - k0 ))s after the kubelet started ($(( $(date +%s) - t0 ))s for the whole node)"
}

# --- tear-down -----------------------------------------------------------------------------------------
stop_pids() {  # stop_pids PID...: TERM to all, wait up to 5 s for them together, then KILL
  local pid left
  [ $# -gt 0 ] || return 0
  kill "$@" 2>/dev/null
  for _ in $(seq 50); do
    left=0
    for pid in "$@"; do kill -0 "$pid" 2>/dev/null && left=1; done
    [ $left = 0 ] && return 0
    sleep 0.1
  done
  kill -9 "$@" 2>/dev/null
  return 0
}
named_pids() {  # named_pids NAME...: the pids in node/NAME.pid that are still that cluster's
  local name f pid
  for name in "$@"; do
    f=$node_dir/$name.pid
    [ -f "$f" ] || continue
    pid=$(cat "$f")
    [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' < "/proc/$pid/cmdline" | grep -qF -- "$dir" && echo "$pid"
    rm -f "$f"
  done
}
# Every v1 hierarchy, and the unified one of a hybrid layout (the kubelet makes /kubepods there too).
v1_hierarchies() { awk '$3 == "cgroup" || $3 == "cgroup2" {print $2}' /proc/mounts; }
kill_kubepods() {  # every process left in /kubepods, by pid
  local h pid
  for h in $(v1_hierarchies); do
    [ -d "$h/kubepods" ] || continue
    find "$h/kubepods" -name cgroup.procs -exec cat {} + 2>/dev/null | while read -r pid; do
      kill -9 "$pid" 2>/dev/null || true
    done
  done
}
remove_kubepods() {
  local h
  for _ in $(seq 50); do
    for h in $(v1_hierarchies); do
      [ -d "$h/kubepods" ] && find "$h/kubepods" -depth -type d -exec rmdir {} \; 2>/dev/null
    done
    local left=0
    for h in $(v1_hierarchies); do [ -d "$h/kubepods" ] && left=1; done
    [ $left = 0 ] && return 0
    kill_kubepods; sleep 0.2
  done
  log "could not remove every /kubepods cgroup"
}
unmount_under() {  # unmount_under DIR: every mount below DIR, deepest first
  local root=$1 m
  for _ in 1 2 3; do
    awk -v r="$root/" 'index($2, r) == 1 {print $2}' /proc/mounts | sort -r | while read -r m; do
      m=$(printf '%b' "$m")  # /proc/mounts escapes spaces as \040
      umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
    done
  done
}
remove_kube_chains() {  # kube-proxy's and the kubelet's chains, in every table, IPv4 and IPv6
  local ipt t rule chain
  for ipt in iptables ip6tables; do
    command -v "$ipt" >/dev/null || continue
    for t in filter nat mangle raw; do
      $ipt -t "$t" -S >/dev/null 2>&1 || continue
      $ipt -t "$t" -S | grep -E '^-A [A-Z]+ .*-j KUBE-' | grep -vE '^-A KUBE-' | while read -r rule; do
        eval "$ipt -t $t ${rule/-A /-D }" 2>/dev/null || true
      done
      for chain in $($ipt -t "$t" -S | awk '$1 == "-N" && $2 ~ /^KUBE-/ {print $2}'); do
        $ipt -t "$t" -F "$chain" 2>/dev/null || true
      done
      for chain in $($ipt -t "$t" -S | awk '$1 == "-N" && $2 ~ /^KUBE-/ {print $2}'); do
        $ipt -t "$t" -X "$chain" 2>/dev/null || true
      done
    done
  done
}

teardown() {
  # Best effort: every step runs even when an earlier one found nothing to undo.
  local -; set +e
  local dir=${KUBEDL_CLUSTER_DIR:-$dir}; local node_dir=$dir/node
  local sock=$node_dir/containerd/containerd.sock ctr=$ctd_bin/ctr id
  # Node agents first, so nothing restarts pods while they are removed.
  # shellcheck disable=SC2046
  stop_pids $(named_pids kube-proxy kubelet coredns)
  # Containers: through containerd while it runs (it unmounts their root file systems).
  if [ -S "$sock" ] && [ -x "$ctr" ]; then
    for id in $("$ctr" -a "$sock" -n k8s.io tasks ls -q 2>/dev/null); do
      timeout 10 "$ctr" -a "$sock" -n k8s.io tasks kill -a -s SIGKILL "$id" >/dev/null 2>&1 || true
    done
    kill_kubepods
    for id in $("$ctr" -a "$sock" -n k8s.io tasks ls -q 2>/dev/null); do
      timeout 10 "$ctr" -a "$sock" -n k8s.io tasks delete -f "$id" >/dev/null 2>&1 || true
    done
    for id in $("$ctr" -a "$sock" -n k8s.io containers ls -q 2>/dev/null); do
      timeout 10 "$ctr" -a "$sock" -n k8s.io containers delete "$id" >/dev/null 2>&1 || true
    done
  fi
  kill_kubepods
  # shellcheck disable=SC2046
  stop_pids $(named_pids containerd)
  # Shims outlive containerd: each bundle records its shim's pid.
  local f pid pids=()
  for f in "$node_dir"/containerd/state/io.containerd.runtime.v2.task/*/*/shim.pid; do
    [ -f "$f" ] || continue
    pid=$(cat "$f")
    [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$ctd_bin/containerd-shim-runc-v2" ] && pids+=("$pid")
  done
  # A stale node whose pid files are gone: its processes are our binaries naming its cluster dir.
  for pid in $(grep -lsF -- "$node_dir/" /proc/[0-9]*/cmdline 2>/dev/null | cut -d/ -f3); do
    [[ $(readlink "/proc/$pid/exe" 2>/dev/null) == "$cache/bin/"* ]] && pids+=("$pid")
  done
  stop_pids "${pids[@]}"
  remove_kubepods
  unmount_under "$node_dir"
  # kube-proxy's own clean-up, then whatever it or the kubelet left.
  [ -x "$node_bin/kube-proxy" ] && timeout 30 "$node_bin/kube-proxy" --cleanup >/dev/null 2>&1 || true
  remove_kube_chains
  ip link del "$cni_br" 2>/dev/null || true
  # libcni caches each attachment's result in /var/lib/cni/results whatever the config says.
  rm -f /var/lib/cni/results/"$cni_net"-* 2>/dev/null
  for id in $(ls "$node_dir/containerd/state/io.containerd.grpc.v1.cri/sandboxes" 2>/dev/null); do
    rm -f /var/lib/cni/results/*-"$id"-* 2>/dev/null
  done
  if [ -f "$machine/made-var-lib-cni" ]; then
    rmdir /var/lib/cni/results /var/lib/cni/networks /var/lib/cni 2>/dev/null || true
  fi
  for f in /var/log/containers/*.log; do
    [ -L "$f" ] && [[ $(readlink "$f") == "$node_dir/"* ]] && rm -f "$f"
  done
  [ -f "$machine/made-var-log-containers" ] && { rmdir /var/log/containers 2>/dev/null || true; }
  if [ -f "$machine/made-var-lib-kubelet" ]; then
    rm -f /var/lib/kubelet/device-plugins/kubelet.sock
    rmdir /var/lib/kubelet/device-plugins /var/lib/kubelet 2>/dev/null
  fi
  rm -rf /run/containerd/s
  [ -f "$machine/made-run-containerd" ] && { rmdir /run/containerd 2>/dev/null || true; }
  # Forwarding back off (to its earlier value) before the guard goes.
  restore_sysctls
  remove_guard
  remove_new_nft_tables
  ip link del "$node_br" 2>/dev/null || true
  rm -rf "$machine"
  # Never delete through a mount that would not go away.
  if grep -qF -- " $node_dir/" /proc/mounts; then
    log "mounts remain under $node_dir; it is left in place"
  else
    rm -rf "$node_dir"
  fi
  return 0
}

case "${1:-}" in
  why-not) why_not ;;
  owner-alive)  # prints the cluster dir of a live real node on this machine, if any
    owner=$(owner_of_machine)
    if [ -n "$owner" ] && busy "$owner"; then echo "$owner"; fi ;;
  wait-turn)  # waits up to 10 minutes for a live real node to go; prints its cluster dir if it stays
    for _ in $(seq 120); do
      owner=$(owner_of_machine)
      { [ -n "$owner" ] && busy "$owner"; } || exit 0
      sleep 5
    done
    echo "$owner" ;;
  prepare) prepare ;;
  certs) certs ;;
  start) start ;;
  down)
    # Only the node this cluster dir owns (or a stale one nobody owns any more).
    owner=$(owner_of_machine)
    if [ -n "$owner" ] && [ "$owner" != "$dir" ] && busy "$owner"; then
      # Another live cluster's node: leave it; only this dir's own leftovers go.
      rm -rf "$node_dir"
    elif [ -n "$owner" ] || [ -d "$node_dir" ] || ip link show "$node_br" >/dev/null 2>&1; then
      KUBEDL_CLUSTER_DIR=${owner:-$dir} teardown
      [ -z "$owner" ] || [ "$owner" = "$dir" ] || KUBEDL_CLUSTER_DIR=$dir teardown
      log "stopped"
    fi ;;
  *) echo "usage: real-node.sh why-not|owner-alive|wait-turn|prepare|certs|start|down" >&2; exit 2 ;;
esac
