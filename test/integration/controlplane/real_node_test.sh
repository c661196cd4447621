#!/usr/bin/env bash
# RealNodeRunsAPodAndTheUplinkGuardHoldsUntilTearDown: a cluster with the real node (in its own
# cluster dir) guards the uplink while forwarding is on, runs a pod from a locally imported
# busybox image that resolves the API server's name through CoreDNS and calls it with its
# service-account token through the `kubernetes` Service, and leaves nothing behind when it stops.
# Exits 77 (ctest's skip) with the reason when this machine cannot run a real node.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../../.." && pwd)
cp=$repo/tools/controlplane
skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }

why=$(bash "$cp/real-node.sh" why-not)
[ -z "$why" ] || skip "this machine cannot run a real node: $why"
[ -x /bin/busybox ] || skip "no /bin/busybox for the test image (busybox-static; tools/install-deps.sh installs it)"
# One real node per machine: another live one (e.g. another e2e test's) makes this one wait its turn.
other=$(bash "$cp/real-node.sh" wait-turn)
[ -z "$other" ] || skip "another real node runs on this machine (cluster dir $other)"

bash "$cp/build.sh" --node
uplinks=$({ ip -4 route show default; ip -6 route show default 2>/dev/null; } |
  awk '{for (i=1;i<NF;i++) if ($i=="dev") print $(i+1)}' | sort -u)
forward_before=$(cat /proc/sys/net/ipv4/ip_forward)
had_shim_dir=0; [ -d /run/containerd/s ] && had_shim_dir=1

work=$(mktemp -d /tmp/kubedl-real-node-test.XXXXXX)
export KUBEDL_CLUSTER_DIR=$work/cluster
cleanup() { bash "$cp/down.sh" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT

KUBEDL_REAL_NODES=1 bash "$cp/up.sh"
# shellcheck disable=SC1091
source "$KUBEDL_CLUSTER_DIR/env"
k() { "$KUBECTL" --kubeconfig "$KUBECONFIG" "$@"; }
[ "${REAL_NODE:-}" = kubedl-node-0 ] || fail "env has no REAL_NODE"
[ "$(k get node kubedl-node-0 -o jsonpath='{.metadata.labels.kubedl\.io/real-node}')" = true ] \
  || fail "kubedl-node-0 is not labelled kubedl.io/real-node=true"

# While the node runs: forwarding is on, and every uplink is guarded both ways.
[ "$(cat /proc/sys/net/ipv4/ip_forward)" = 1 ] || fail "ip_forward is not 1 while the node runs"
for ifc in $uplinks; do
  for table in filter mangle; do
    for dirn in -i -o; do
      iptables -t "$table" -S FORWARD | grep -qE -- "^-A FORWARD $dirn $ifc .*--comment kubedl-guard -j DROP" \
        || fail "no guard rule in $table FORWARD for $dirn $ifc"
    done
  done
done

# The image: Debian's static busybox (with its applet links) plus the static kubectl this
# cluster uses, as an OCI archive imported into the node's containerd.
root=$work/rootfs
mkdir -p "$root/bin" "$root/tmp" "$root/etc"
cp /bin/busybox "$root/bin/busybox"
for applet in $("$root/bin/busybox" --list); do
  [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
done
cp "$KUBECTL" "$root/bin/kubectl"
python3 "$repo/tools/images/oci-archive.py" --rootfs "$root" --name localhost/kubedl/busybox:local \
  --out "$work/busybox.tar" --entrypoint /bin/sh --env HOME=/tmp >/dev/null
bash "$cp/import-images.sh" "$work/busybox.tar" 2>/dev/null

ns=real-node-$$
k create namespace "$ns" >/dev/null
for _ in $(seq 150); do k -n "$ns" get serviceaccount default >/dev/null 2>&1 && break; sleep 0.2; done
# busybox's own TLS cannot talk to the API server's ECDSA certificate, so kubectl (static Go)
# makes the HTTPS calls: once by name through CoreDNS with the token, once with in-cluster config.
k -n "$ns" apply -f - >/dev/null <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: probe}
spec:
  nodeSelector: {kubedl.io/real-node: "true"}
  restartPolicy: Never
  containers:
  - name: probe
    image: localhost/kubedl/busybox:local
    imagePullPolicy: Never
    command: [/bin/sh, -c]
    args:
    - |
      set -e
      nslookup kubernetes.default.svc.cluster.local
      sa=/var/run/secrets/kubernetes.io/serviceaccount
      kubectl --server https://kubernetes.default.svc.cluster.local --certificate-authority $sa/ca.crt \
        --token "$(cat $sa/token)" get --raw /version
      echo
      echo "service $KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT"
      echo "whoami $(kubectl auth whoami -o jsonpath='{.status.userInfo.username}')"
YAML
if ! k -n "$ns" wait --for=jsonpath='{.status.phase}'=Succeeded pod/probe --timeout=120s >/dev/null; then
  k get nodes -o wide >&2 || true
  k -n "$ns" describe pod probe >&2 || true
  tail -20 "$KUBEDL_CLUSTER_DIR/logs/kube-scheduler.log" "$KUBEDL_CLUSTER_DIR/logs/kubelet.log" >&2 || true
  k -n "$ns" logs probe >&2 || true
  fail "the probe pod did not succeed on the real node"
fi
[ "$(k -n "$ns" get pod probe -o jsonpath='{.spec.nodeName}')" = kubedl-node-0 ] || fail "probe ran elsewhere"
logs=$(k -n "$ns" logs probe)
echo "$logs"
grep -q 'Address: 10.0.0.1$' <<<"$logs" || fail "CoreDNS did not resolve kubernetes.default.svc.cluster.local to 10.0.0.1"
grep -q '"gitVersion": "v1.37.2"' <<<"$logs" || fail "no /version from the API server through its Service"
grep -q '^service 10.0.0.1:443$' <<<"$logs" || fail "the pod's in-cluster environment is not the kubernetes Service"
grep -q "^whoami system:serviceaccount:$ns:default$" <<<"$logs" || fail "the service-account token was not accepted"

# Tear-down: remember what ran, stop, and check that nothing is left.
# shellcheck source=../../../tools/controlplane/down-and-check.sh
source "$cp/down-and-check.sh"
down_and_check "$KUBEDL_CLUSTER_DIR" "$forward_before" "$work"
trap 'rm -rf "$work"' EXIT
[ "$had_shim_dir" = 1 ] || [ ! -d /run/containerd/s ] || fail "/run/containerd/s left behind"
[ ! -e "$KUBEDL_CLUSTER_DIR" ] || fail "cluster dir left behind"
echo PASS
