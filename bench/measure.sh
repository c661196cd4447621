# Sourced by the benchmark scripts (bench/compare, bench/reconciler): what they measure with, and how
# they wait for a quiet machine and a quiet scheduler.
# Needs KUBEDL_CLUSTER_DIR's env sourced (KUBECTL, KUBECONFIG) for the scheduler's part.

cmp_tick=$(getconf CLK_TCK)
cpu_seconds() { awk -v t="$cmp_tick" '{printf "%.2f", ($14 + $15) / t}' "/proc/$1/stat"; }   # PID
rss_mib() { awk '/VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }                   # PID
peak_rss_mib() { awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }              # PID
median() { tr ' ' '\n' | grep . | sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }

# Share of all cores busy over one second (everything on the machine).
busy_share() {
  local a b
  a=$(awk '/^cpu / {print $2+$3+$4+$7+$8+$9, $5+$6}' /proc/stat); sleep 1
  b=$(awk '/^cpu / {print $2+$3+$4+$7+$8+$9, $5+$6}' /proc/stat)
  python3 -c "a = '$a'.split(); b = '$b'.split(); u = int(b[0]) - int(a[0]); i = int(b[1]) - int(a[1]); print(round(u / max(u + i, 1), 2))"
}

# Waits up to QUIET_WAIT (120) s for the machine to be below QUIET (0.25) of its cores busy and
# prints the share seen last (measuring goes on either way: the tables show it).
wait_quiet_machine() {
  local deadline=$(( $(date +%s) + ${QUIET_WAIT:-120} )) share
  while :; do
    share=$(busy_share)
    python3 -c "import sys; sys.exit(0 if $share < ${QUIET:-0.25} else 1)" && break
    [ "$(date +%s)" -lt "$deadline" ] || { echo "  machine still $share busy: measuring anyway" >&2; break; }
  done
  echo "$share"
}

# kube-scheduler's own figures, from its metrics endpoint (the local control plane's admin
# certificate is in system:masters): "PENDING ATTEMPTS", pods in any of its queues and schedule
# attempts so far.
scheduler_figures() {
  local dir=${KUBEDL_CLUSTER_DIR:?} port
  port=$(sed -n 's/^SCHEDULER_PORT=//p' "$dir/env")
  curl -sf --cacert "$dir/pki/ca.crt" --cert "$dir/pki/admin.crt" --key "$dir/pki/admin.key" \
    "https://127.0.0.1:$port/metrics" | awk '
      /^scheduler_pending_pods\{/ { pending += $2 }
      /^scheduler_schedule_attempts_total\{/ { attempts += $2 }
      END { printf "%d %d\n", pending, attempts }'
}

# After a run's namespace is gone, the scheduler goes on retrying binds of pods it still holds
# (for minutes after a mass delete): a run started then would pay for them. Waits up to
# SCHEDULER_QUIET_WAIT (600) s until nothing is pending and no attempt was made for 10 s.
wait_quiet_scheduler() {
  local deadline=$(( $(date +%s) + ${SCHEDULER_QUIET_WAIT:-600} )) start=$(date +%s) now last
  last=$(scheduler_figures)
  while :; do
    sleep 10
    now=$(scheduler_figures)
    if [ "${now%% *}" = 0 ] && [ "$now" = "$last" ]; then
      echo "  scheduler quiet after $(( $(date +%s) - start )) s" >&2; return 0
    fi
    last=$now
    [ "$(date +%s)" -lt "$deadline" ] || { echo "  scheduler still busy ($now pending, attempts): going on" >&2; return 0; }
  done
}

# The API server's request counts so far, one "VERB RESOURCE[/SUBRESOURCE] COUNT" line each
# (apiserver_request_total summed over codes, scopes and groups).
apiserver_requests() {
  "$KUBECTL" get --raw /metrics | awk '
    /^apiserver_request_total\{/ {
      verb = ""; res = ""; sub_ = ""
      if (match($0, /verb="[^"]*"/)) verb = substr($0, RSTART + 6, RLENGTH - 7)
      if (match($0, /resource="[^"]*"/)) res = substr($0, RSTART + 10, RLENGTH - 11)
      if (match($0, /subresource="[^"]*"/)) sub_ = substr($0, RSTART + 13, RLENGTH - 14)
      key = verb " " res (sub_ != "" ? "/" sub_ : "")
      n[key] += $NF
    }
    END { for (k in n) printf "%s %d\n", k, n[k] }' | sort
}

# The requests made between two apiserver_requests snapshots (files), the busiest first, as
# "VERB RESOURCE COUNT" lines, those under MIN (50) left out.
apiserver_requests_between() {  # BEFORE AFTER [MIN]
  awk -v min="${3:-50}" 'NR == FNR { before[$1 " " $2] = $3; next }
    { d = $3 - before[$1 " " $2]; if (d >= min) printf "%s %s %d\n", $1, $2, d }' "$1" "$2" | sort -k3,3nr
}
