#!/usr/bin/env bash
# Operators side by side (issue 19): the same JOBS (500) TFJobs of 1 PS + WORKERS (4) Workers
# submitted at once, to each operator alone, one after the other on one control plane:
#   to-defaults      training-operator at its defaults (--controller-threads 1, client QPS 20)
#   to-tuned-4       training-operator, --controller-threads 4, --kube-api-qps 1000, --kube-api-burst 2000
#   to-tuned-16      the same with 16 threads
#   kubedl-defaults  kubedl-reconciler with no tuning flag at all
#   kubedl-reconciles-N[-batch-D]  (not in the default list) KubeDL with --max-concurrent-reconciles N
#                    and --owned-event-batch-period D, e.g. kubedl-reconciles-4-batch-0; a name
#                    with -json in it adds --kube-api-content-type=json (e.g. kubedl-json)
#   floor            no operator: lib/kube alone creates the same pods and services, FLOOR_CONCURRENCY
#                    (32) in flight, as the reconciler writes them (CreateStatusOnly: protobuf)
#                    (bench/reconciler/reconciler_bench floor)
# Each run gets a fresh namespace; the driver (reconciler_bench submit) times, from the first
# submission, when all pods and services exist and when every job is Running (KWOK runs the pods;
# for the floor, when every pod is Running: the limit the scheduler's own client rate sets). Peak
# RSS and CPU seconds are the operator's, from /proc. Between runs the namespace is deleted, the
# garbage collector is waited for, and then the scheduler (nothing pending, no attempt for 10 s)
# and the machine (bench/measure.sh): a run started while the scheduler still retries the last run's pods
# would pay for them.
#
#   KUBEDL_CLUSTER_DIR=/tmp/compare-cluster bash bench/compare/run.sh [BUILD_DIR]
# needs a control plane of its own (tools/controlplane/up.sh) and the targets kubedl-reconciler and
# reconciler_bench in BUILD_DIR (default build/). Environment: JOBS, WORKERS, REPEAT (1: rounds;
# each cell is the median, with the range), RUNS (the list above, in that order), FLOOR_CONCURRENCY,
# RECONCILER_BENCH_TIMEOUT_S (900: the limit of each wait). training-operator runs with its own
# CRDs (run-training-operator.sh), KubeDL and the floor with ours. Both operators run out of
# cluster on loopback with leader election off and TFJob only (--enable-scheme=tfjob,
# --workloads=TFJob); no admission webhook is registered. Prints a Markdown table.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${1:-$repo/build}
jobs=${JOBS:-500} workers=${WORKERS:-4} repeat=${REPEAT:-1} floor_c=${FLOOR_CONCURRENCY:-32}
runs=${RUNS:-"to-defaults to-tuned-4 to-tuned-16 kubedl-defaults floor"}
export RECONCILER_BENCH_TIMEOUT_S=${RECONCILER_BENCH_TIMEOUT_S:-900}
export KUBEDL_CLUSTER_DIR=${KUBEDL_CLUSTER_DIR:-$repo/.local/cluster}
# shellcheck disable=SC1091
source "$KUBEDL_CLUSTER_DIR/env"
export KUBECONFIG KUBECTL
# shellcheck source=run-training-operator.sh
source "$here/run-training-operator.sh"
# shellcheck source=../measure.sh
source "$here/../measure.sh"
bench=$build/bench/reconciler/reconciler_bench
reconciler=$build/services/reconciler/kubedl-reconciler
for b in "$bench" "$reconciler"; do
  [ -x "$b" ] || { echo "$b is missing: build the targets reconciler_bench and kubedl-reconciler" >&2; exit 1; }
done
say() { printf '[compare] %s\n' "$*" >&2; }

run_id=$(date +%s)
work=$(mktemp -d /tmp/compare-operators.XXXXXX)
op_pid= ns= to_crds=0 kubedl_port=
cleanup() {
  [ -z "$op_pid" ] || { kill "$op_pid" 2>/dev/null; wait "$op_pid" 2>/dev/null || true; }
  to_stop
  [ -z "$ns" ] || "$KUBECTL" delete namespace "$ns" --wait=false >/dev/null 2>&1 || true
  [ "$to_crds" = 0 ] || to_restore_crds
}
trap cleanup EXIT

# The CRDs the next run needs: training-operator's for its runs, ours for the others.
crds_for() {
  case $1 in
    to-*) [ "$to_crds" = 1 ] || { to_apply_crds; to_crds=1; } ;;
    *) [ "$to_crds" = 0 ] || { to_restore_crds; to_crds=0; } ;;
  esac
}

# The flags a KubeDL variant's name asks for: kubedl-reconciles-N[-batch-D], e.g.
# kubedl-reconciles-16-batch-0 (--max-concurrent-reconciles 16, --owned-event-batch-period 0).
kubedl_flags() {
  local rest=${1#kubedl-}
  [[ $rest =~ reconciles-([0-9]+) ]] && printf -- '--max-concurrent-reconciles=%s ' "${BASH_REMATCH[1]}"
  [[ $rest =~ batch-([0-9a-z.]+) ]] && printf -- '--owned-event-batch-period=%s ' "${BASH_REMATCH[1]}"
  [[ $rest =~ (^|-)json($|-) ]] && printf -- '--kube-api-content-type=json '
  return 0
}

start_kubedl() {  # NAME [FLAG...]
  local health name=$1; shift; health=$(to_free_port); kubedl_port=$health
  "$reconciler" --kubeconfig="$KUBECONFIG" --workloads=TFJob --leader-elect=false \
    --bind-address=127.0.0.1 --health-port="$health" --metrics-port="$health" "$@" >"$work/$name.log" 2>&1 &
  op_pid=$!
  local i
  for i in $(seq 1 300); do
    curl -sf "http://127.0.0.1:$health/readyz" >/dev/null 2>&1 && return 0
    kill -0 "$op_pid" 2>/dev/null || { tail -20 "$work/$1.log" >&2; return 1; }
    sleep 0.1
  done
  say "kubedl-reconciler not ready after 30 s"; return 1
}

stop_operator() {
  case $1 in
    to-*) cp "$TO_LOG" "$work/$1.log" 2>/dev/null || true; to_stop ;;
    kubedl-*) kill "$op_pid" 2>/dev/null || true; wait "$op_pid" 2>/dev/null || true ;;
  esac
  op_pid=
}

field() { sed -nE "s/.*(^| )$1=([^ ]*).*/\\2/p" <<<"$2"; }   # field NAME LINE
declare -A EXIST RUNNING RSS RSS0 RSS1 CPU APICPU RECONCILES BUSY LOAD NOTE

# One run: NAME ROUND. Appends its figures to the lists of NAME.
one_run() {
  local name=$1 round=$2 out cpu0 cpu1 busy load
  crds_for "$name"
  busy=$(wait_quiet_machine)
  ns=compare-$name-$round-$run_id
  "$KUBECTL" create namespace "$ns" >/dev/null
  case $name in
    to-defaults) to_start; op_pid=$TO_PID ;;
    to-tuned-*) to_start --controller-threads="${name#to-tuned-}" --kube-api-qps=1000 --kube-api-burst=2000
                op_pid=$TO_PID ;;
    kubedl-defaults) start_kubedl "$name" ;;
    kubedl-*) local variant; read -ra variant <<<"$(kubedl_flags "$name")"
              start_kubedl "$name" "${variant[@]}" ;;
    floor) ;;
    *) say "unknown run $name"; return 1 ;;
  esac
  [ -z "$op_pid" ] || case $name in to-*) to_check_loopback ;; esac
  say "$name, round $round: $jobs jobs of 1 PS + $workers Workers into $ns (machine $busy busy before)"
  if [ -n "$op_pid" ]; then
    cpu0=$(cpu_seconds "$op_pid")
    RSS0[$name]+=" $(rss_mib "$op_pid")"
  fi
  apiserver_requests >"$work/requests-before"
  local api_pid api0
  api_pid=$(cat "$KUBEDL_CLUSTER_DIR/kube-apiserver.pid")
  api0=$(cpu_seconds "$api_pid")
  if [ "$name" = floor ]; then
    out=$("$bench" floor "$ns" "$jobs" "$workers" "$floor_c") || NOTE[$name]+=" round $round failed or timed out;"
    EXIST[$name]+=" $(field seconds "$out")"
  else
    out=$("$bench" submit "$ns" "$jobs" "$workers") || NOTE[$name]+=" round $round failed or timed out;"
    EXIST[$name]+=" $(field all_exist_s "$out")"
    cpu1=$(cpu_seconds "$op_pid")
    CPU[$name]+=" $(python3 -c "print(round($cpu1 - $cpu0, 1))")"
    RSS[$name]+=" $(peak_rss_mib "$op_pid")"
    RSS1[$name]+=" $(rss_mib "$op_pid")"
    case $name in kubedl-*)  # the reconciler's own count of the reconciles it ran
      RECONCILES[$name]+=" $(curl -sf "http://127.0.0.1:$kubedl_port/metrics" |
        awk '/^kubedl_reconciler_reconciles_total/ {n += $NF} END {print n + 0}')" ;;
    esac
  fi
  RUNNING[$name]+=" $(field all_running_s "$out")"
  APICPU[$name]+=" $(python3 -c "print(round($(cpu_seconds "$api_pid") - $api0, 1))")"
  apiserver_requests >"$work/requests-after"
  # What the API server served while it ran: the operator's requests beside the scheduler's and
  # KWOK's (watches count when they start).
  apiserver_requests_between "$work/requests-before" "$work/requests-after" >"$work/$name-$round.requests"
  say "  API requests during the run: $(awk '{printf "%s%s %s %s", (NR > 1 ? ", " : ""), $1, $2, $3}' "$work/$name-$round.requests")"
  load=$(cut -d' ' -f1 /proc/loadavg)
  BUSY[$name]+=" $busy" LOAD[$name]+=" $load"
  say "  $out (load average $load)"
  [ -z "$op_pid" ] || stop_operator "$name"
  "$KUBECTL" delete namespace "$ns" --wait=true --timeout=900s >/dev/null || say "namespace $ns not gone after 900 s"
  ns=
  wait_quiet_scheduler
}

# A fresh control plane has no CRDs yet: ours are the starting point (crds_for swaps them).
"$KUBECTL" apply --server-side --force-conflicts -f "$repo/charts/kubedl/crds/" >/dev/null
to_wait_established "$repo"/charts/kubedl/crds/*.yaml
loadavg_before=$(cut -d' ' -f1-3 /proc/loadavg)
say "waiting for a quiet scheduler before the first run"
wait_quiet_scheduler
for round in $(seq 1 "$repeat"); do
  for name in $runs; do one_run "$name" "$round"; done
done
crds_for floor

# --- the table ---------------------------------------------------------------------------------
cell() {  # LIST [UNIT]: median, and the range when there were several rounds
  local list=$1 unit=${2:-} m lo hi
  [ -n "${list// }" ] || { echo "-"; return; }
  m=$(median <<<"$list"); lo=$(tr ' ' '\n' | grep . | sort -g | head -1 <<<"$list"); hi=$(tr ' ' '\n' | grep . | sort -g | tail -1 <<<"$list")
  if [ "$lo" = "$hi" ]; then echo "$m$unit"; else echo "$m$unit ($lo-$hi)"; fi
}
med() { local l=${1:-}; [ -n "${l// }" ] && median <<<"$l" || echo ""; }
ratio() { [ -n "$1" ] && [ -n "$2" ] && python3 -c "print(f'{$1 / $2:.2f}x')" || echo -; }
label() {
  case $1 in
    to-defaults) echo "training-operator $TRAINING_OPERATOR_VERSION defaults (1 thread, QPS 20)" ;;
    to-tuned-*) echo "training-operator tuned (${1#to-tuned-} threads, QPS 1000, burst 2000)" ;;
    kubedl-defaults) echo "KubeDL defaults" ;;
    kubedl-*) echo "KubeDL $(kubedl_flags "$1")" ;;
    floor) echo "lib/kube floor ($floor_c in flight)" ;;
  esac
}
header="| |" sep="|---|"
for name in $runs; do header+=" $(label "$name") |"; sep+="---|"; done
row() {  # TITLE ARRAY UNIT
  local title=$1 unit=$3 line="| $1 |" name
  local -n arr=$2
  for name in $runs; do line+=" $(cell "${arr[$name]:-}" "$unit") |"; done
  echo "$line"
}
echo
echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), local control plane (KWOK nodes), load average before: $loadavg_before"
echo "$jobs TFJobs of 1 PS + $workers Workers ($((jobs * (workers + 1))) pods, as many services) submitted at once by 16 clients; median of $repeat round(s), range in brackets"
echo
echo "$header"
echo "$sep"
row "all pods + services exist" EXIST " s"
row "every job Running (floor: every pod)" RUNNING " s"
row "operator peak RSS" RSS " MiB"
row "operator RSS when ready, before the jobs" RSS0 " MiB"
row "operator RSS at the end (every object cached)" RSS1 " MiB"
row "operator CPU" CPU " s"
row "API server CPU, until every job Running" APICPU " s"
row "reconciles (KubeDL)" RECONCILES ""
row "machine busy before (share of cores)" BUSY ""
row "load average (1 min) at the end" LOAD ""
echo
best_tuned=
for name in $runs; do
  case $name in to-tuned-*)
    v=$(med "${EXIST[$name]:-}")
    if [ -n "$v" ] && { [ -z "$best_tuned" ] || python3 -c "import sys; sys.exit(0 if $v < $(med "${EXIST[$best_tuned]}") else 1)"; }; then best_tuned=$name; fi ;;
  esac
done
k=kubedl-defaults
if [[ " $runs " == *" $k "* ]]; then
  [[ " $runs " != *" to-defaults "* ]] || echo "- all objects, training-operator defaults / KubeDL defaults: $(ratio "$(med "${EXIST[to-defaults]:-}")" "$(med "${EXIST[$k]:-}")")"
  if [ -n "$best_tuned" ]; then
    echo "- all objects, fastest tuned training-operator ($best_tuned) / KubeDL defaults: $(ratio "$(med "${EXIST[$best_tuned]}")" "$(med "${EXIST[$k]:-}")") (goal ≥ 2x)"
    echo "- every job Running, $best_tuned / KubeDL defaults: $(ratio "$(med "${RUNNING[$best_tuned]}")" "$(med "${RUNNING[$k]:-}")")"
    echo "- peak RSS, KubeDL / $best_tuned: $(ratio "$(med "${RSS[$k]:-}")" "$(med "${RSS[$best_tuned]}")") (goal ≤ 0.33x); CPU: $(ratio "$(med "${CPU[$k]:-}")" "$(med "${CPU[$best_tuned]}")") (goal ≤ 0.5x)"
    echo "- API server CPU until every job Running, KubeDL defaults / $best_tuned: $(ratio "$(med "${APICPU[$k]:-}")" "$(med "${APICPU[$best_tuned]}")")"
  fi
  if [[ " $runs " == *" floor "* ]]; then
    echo "- all objects, KubeDL defaults / floor: $(ratio "$(med "${EXIST[$k]:-}")" "$(med "${EXIST[floor]:-}")") (goal ≤ 1.25x)"
    echo "- every job Running, KubeDL defaults / every floor pod Running: $(ratio "$(med "${RUNNING[$k]:-}")" "$(med "${RUNNING[floor]:-}")")"
  fi
fi
for name in $runs; do [ -z "${NOTE[$name]:-}" ] || echo "- $name:${NOTE[$name]}"; done
objects=$((jobs * (workers + 1) * 2 + jobs))
for name in $runs; do
  [ -n "${RSS1[$name]:-}" ] || continue
  echo "- $name: RSS grew by $(python3 -c "print(round(($(med "${RSS1[$name]}") - $(med "${RSS0[$name]}")) * 1048576 / $objects))") bytes per cached object ($objects pods, services and jobs; RSS at the end less RSS when ready, over the objects)"
done
echo
echo "API requests the API server served during each run (round 1; every client: the operator, the scheduler, KWOK, the driver; 50 or more):"
for name in $runs; do
  [ -f "$work/$name-1.requests" ] && echo "- $name: $(awk '{printf "%s%s %s %s", (NR > 1 ? ", " : ""), $1, $2, $3}' "$work/$name-1.requests")"
done
echo "- logs: $work"
