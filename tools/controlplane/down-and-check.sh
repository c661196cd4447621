# Sourced by the tests that start a real node: stops the cluster of DIR with down.sh and fails
# (through the caller's `fail`) on anything the node left on the machine: processes, guard
# rules, KUBE- chains, ip_forward not back to FORWARD_BEFORE, bridges, kubepods cgroups, mounts,
# the node's lock. WORK is a scratch folder.
#   source tools/controlplane/down-and-check.sh; down_and_check "$dir" "$forward_before" "$work"
down_and_check() {
  local dir=$1 forward_before=$2 work=$3 here pids pid table ipt link h t0
  here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  pids=$(cat "$dir"/*.pid "$dir"/node/*.pid)
  pids+=" $(cat "$dir"/node/containerd/state/io.containerd.runtime.v2.task/*/*/shim.pid 2>/dev/null || true)"
  t0=$SECONDS
  bash "$here/down.sh" >/dev/null
  echo "  down.sh took $((SECONDS - t0)) s"
  for pid in $pids; do
    [ -r "/proc/$pid/cmdline" ] && fail "process $pid ($(tr '\0' ' ' < "/proc/$pid/cmdline" | cut -c1-80)) outlived down.sh"
  done
  # The pattern comes from a file so that grep's own command line does not match it.
  echo "$dir" > "$work/pattern"
  grep -lsF -f "$work/pattern" /proc/[0-9]*/cmdline | grep -v "^/proc/$$/" \
    && fail "processes naming the cluster dir outlived down.sh"
  for table in filter mangle; do
    ! iptables -t "$table" -S FORWARD | grep -q kubedl-guard || fail "guard rules left in $table FORWARD"
  done
  for ipt in iptables ip6tables; do
    command -v "$ipt" >/dev/null || continue
    for table in filter nat mangle; do
      ! "$ipt" -t "$table" -S 2>/dev/null | grep -q -- '-N KUBE-' || fail "$ipt $table still has KUBE- chains"
    done
  done
  [ "$(cat /proc/sys/net/ipv4/ip_forward)" = "$forward_before" ] || fail "ip_forward is not back to $forward_before"
  for link in kubedl-node kubedl-cni; do
    ! ip link show "$link" >/dev/null 2>&1 || fail "bridge $link left behind"
  done
  for h in $(awk '$3 == "cgroup" || $3 == "cgroup2" {print $2}' /proc/mounts); do
    [ ! -d "$h/kubepods" ] || fail "cgroup $h/kubepods left behind"
  done
  ! grep -qF -- " $dir/" /proc/mounts || fail "mounts left under $dir"
  [ ! -e /run/kubedl-real-node ] || fail "/run/kubedl-real-node left behind"
}
