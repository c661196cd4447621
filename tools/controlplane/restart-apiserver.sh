#!/usr/bin/env bash
# Restarts the local kube-apiserver with the very command line it runs with, and waits until it
# answers again. Other users of the control plane see it go away for a few seconds: tests that
# call this carry the ctest label "disruptive" and are run serially.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/paths.sh"
pidfile=$dir/kube-apiserver.pid
log=$dir/logs/kube-apiserver.log
pid=$(cat "$pidfile")
[ -r "/proc/$pid/cmdline" ] || { echo "kube-apiserver (pid $pid) is not running" >&2; exit 1; }
mapfile -d '' cmd < "/proc/$pid/cmdline"

kill "$pid"
for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$pid" 2>/dev/null && kill -9 "$pid"

setsid "${cmd[@]}" >>"$log" 2>&1 < /dev/null &
echo $! > "$pidfile"

# shellcheck disable=SC1091
source "$dir/env"
for _ in $(seq 1 300); do
  if "$KUBECTL" --kubeconfig "$KUBECONFIG" get --raw /readyz >/dev/null 2>&1; then exit 0; fi
  sleep 0.2
done
echo "kube-apiserver did not become ready; see $log" >&2
exit 1
