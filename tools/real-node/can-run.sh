#!/usr/bin/env bash
# Exits 0 when this machine can run the local real node; otherwise prints why and exits 1.
# A real node needs root (kubelet, containerd, bridges, iptables), iptables, and writable cgroups.
set -uo pipefail
why() { echo "$*"; exit 1; }
[ "$(id -u)" = 0 ] || why "a real node needs root (kubelet, containerd, bridges and iptables)"
command -v iptables >/dev/null 2>&1 || why "iptables is missing (tools/install-deps.sh installs it)"
iptables -S FORWARD >/dev/null 2>&1 || why "iptables cannot read the FORWARD chain here"
[ -w /sys/fs/cgroup/cpu ] || [ -w /sys/fs/cgroup/cgroup.procs ] || why "cgroups are not writable here"
[ "${KUBEDL_REAL_NODES:-auto}" != 0 ] || why "KUBEDL_REAL_NODES=0 turns the real node off"
exit 0
