#!/usr/bin/env bash
# GangSchedulingOnARealNodeHoldsTheSecondJobWhole (SPEC section 6, docs/gang-scheduling.md), with
# real containers: a control plane of its own with one real node (KUBEDL_REAL_NODES=1), the TFJob
# CRD and the PodGroup CRD of sigs.k8s.io/scheduler-plugins (from the Go module cache), the
# scheduler-plugins scheduler (tools/controlplane/scheduler-plugins.sh: kube-scheduler with the
# Coscheduling plugin, profile `scheduler-plugins-scheduler`, examples/training/gang/
# scheduler-config.yaml) as a second scheduler beside the default one, kubedl-gang-scheduler
# --backend=scheduler-plugins, and kubedl-reconciler. Every pod of the two TFJobs (3 workers each,
# busybox sleep, examples/training/gang/tfjob-sleep.yaml) requests a CPU share sized against the
# real node's free allocatable CPU so that 4 pods fit and 5 do not: one job fits, two do not, and
# while one job runs there is room for exactly one more pod. Job b is submitted once job a's
# three pods run (b's pods sleep 30 s, a's 25 s). Then:
#   - with gang scheduling (reconciler --gang-scheduler-address): each job has a PodGroup
#     (minMember 3, minResources 3 × the request) and its pods name scheduler-plugins-scheduler;
#     while 2 or 3 pods of job a run, NO pod of job b is placed (no nodeName; checked every
#     second), though one of them would fit; once b fits whole (a's second pod finished), b's
#     three pods are placed within 2 s of each other (after at most ~30 s: the scheduler runs with
#     --pod-max-in-unschedulable-pods-duration=10s, see below); both jobs Succeed and their
#     PodGroups are deleted;
#   - without gang scheduling (the default scheduler, no gang service): the same pair half-starts:
#     exactly one pod of job b is placed and runs while a's 3 pods run, the other two stay Pending
#     (Unschedulable: Insufficient cpu) until a's pods finish; both jobs Succeed anyway;
#   - tear-down leaves the machine as it was.
# It prints the placements (PodScheduled times, container start/finish) and, per job, the seconds
# from `kubectl apply` to all pods started and to Succeeded.
# The scheduler-plugins binary is built once (~/.cache/kubedl/bin/scheduler-plugins-<version>/);
# under CI a cold build is left out (exit 77) unless KUBEDL_E2E_BUILD_IMAGES=1. A machine that
# cannot run a real node, or one where another real node keeps running, skips with exit code 77.
# shellcheck source=real_node_lib.sh
source "$(dirname "$0")/real_node_lib.sh"
gang_bin=${KUBEDL_GANG_SCHEDULER_BIN:-$build/services/gang-scheduler/kubedl-gang-scheduler}
example=$repo/examples/training/gang
sp_name=scheduler-plugins-scheduler
sp_pid="" gang_pid=""

e2e_init gang
[ -x "$gang_bin" ] || fail "$gang_bin is not built (cmake --build build --target kubedl-gang-scheduler)"

step "the scheduler-plugins scheduler, the busybox image, a control plane with a real node"
if ! sp_bin=$(bash "$cp/scheduler-plugins.sh" --path); then
  if [ "${CI:-}" = true ] && [ "${KUBEDL_E2E_BUILD_IMAGES:-}" != 1 ]; then
    skip "the scheduler-plugins scheduler is not built; its cold build (the Go modules of scheduler-plugins and Kubernetes 1.34, then kube-scheduler compiled: about 9 minutes on 2 cores from empty Go caches) is left out of CI: run tools/controlplane/scheduler-plugins.sh or set KUBEDL_E2E_BUILD_IMAGES=1"
  fi
  t0=$SECONDS
  sp_bin=$(bash "$cp/scheduler-plugins.sh")
  echo "  scheduler-plugins scheduler built in $((SECONDS - t0)) s (cold)"
fi
bash "$repo/tools/images/kubectl-delivery.sh" "$build/images" local
e2e_image "$build/images/busybox-static.tar"
e2e_up
e2e_crds TFJob
k apply --server-side -f "$(bash "$cp/scheduler-plugins.sh" --crd)" >/dev/null
k wait --for=condition=Established --timeout=60s crd/podgroups.scheduling.x-k8s.io >/dev/null

e2e_extra_cleanup() {
  local pid
  for pid in $gang_pid $sp_pid; do
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  gang_pid="" sp_pid=""
}
e2e_extra_diagnostics() {
  echo "--- podgroups"
  k get podgroups.scheduling.x-k8s.io -A -o wide 2>/dev/null || true
  echo "--- scheduler-plugins scheduler log (tail)"
  tail -40 "$work/scheduler-plugins.log" 2>/dev/null || true
  echo "--- kubedl-gang-scheduler log (tail)"
  tail -20 "$work/gang-scheduler.log" 2>/dev/null || true
}

sed "s#KUBECONFIG_PATH#$KUBECONFIG#" "$example/scheduler-config.yaml" > "$work/scheduler-config.yaml"
sp_port=$(free_port)
# Coscheduling (v0.34.7) asks to be woken for pods that it rejected only on Pod adds and PodGroup
# adds/updates, not when pods finish: a gang whose last attempt ended in Coscheduling's rejection
# ("optimistic rejection in PostFilter", "rejection in Unreserve") just before room came free
# stays in the unschedulable pool until the scheduler's periodic flush (every 30 s) finds it
# older than this duration (default 5 min). 10 s bounds that wait to about 30 s.
"$sp_bin" --config="$work/scheduler-config.yaml" --bind-address=127.0.0.1 --secure-port="$sp_port" \
  --authentication-kubeconfig="$KUBECONFIG" --authorization-kubeconfig="$KUBECONFIG" --v=2 \
  --pod-max-in-unschedulable-pods-duration=10s \
  >"$work/scheduler-plugins.log" 2>&1 &
sp_pid=$!
for _ in $(seq 120); do curl -skf "https://127.0.0.1:$sp_port/readyz" >/dev/null 2>&1 && break; sleep 0.5; done
curl -skf "https://127.0.0.1:$sp_port/readyz" >/dev/null \
  || fail "the scheduler-plugins scheduler did not become ready: $(tail -5 "$work/scheduler-plugins.log")"
echo "  $("$sp_bin" --version 2>/dev/null) with Coscheduling, profile $sp_name, on 127.0.0.1:$sp_port"

gang_grpc=$(free_port) gang_health=$(free_port)
"$gang_bin" --backend=scheduler-plugins --scheduler-plugins-scheduler-name="$sp_name" \
  --listen-address=127.0.0.1 --grpc-port="$gang_grpc" --health-port="$gang_health" \
  --insecure-plaintext --kubeconfig="$KUBECONFIG" >"$work/gang-scheduler.log" 2>&1 &
gang_pid=$!
for _ in $(seq 120); do curl -sf "http://127.0.0.1:$gang_health/readyz" >/dev/null 2>&1 && break; sleep 0.5; done
curl -sf "http://127.0.0.1:$gang_health/readyz" >/dev/null \
  || fail "kubedl-gang-scheduler did not become ready: $(tail -5 "$work/gang-scheduler.log")"

step "the real node's free CPU and the request per pod (4 pods fit, 5 do not)"
read -r alloc used < <(k get pods -A -o json | python3 -c '
import json, sys
node = sys.argv[1]
def milli(q):
    q = str(q)
    return int(q[:-1]) if q.endswith("m") else int(float(q) * 1000)
used = 0
for p in json.load(sys.stdin)["items"]:
    if p["spec"].get("nodeName") != node or p["status"].get("phase") in ("Succeeded", "Failed"):
        continue
    for c in p["spec"]["containers"]:
        used += milli(c.get("resources", {}).get("requests", {}).get("cpu", "0"))
print(milli(sys.argv[2]), used)' "$REAL_NODE" "$(k get node "$REAL_NODE" -o jsonpath='{.status.allocatable.cpu}')")
free=$((alloc - used))
cpu=$((free * 2 / 9))   # free / 4.5: 4 × cpu <= free < 5 × cpu
[ $((4 * cpu)) -le "$free" ] && [ $((5 * cpu)) -gt "$free" ] || fail "no request fits 4 but not 5 pods in ${free}m"
echo "  node $REAL_NODE: allocatable cpu ${alloc}m, requested ${used}m, free ${free}m;" \
  "each pod requests ${cpu}m: a job needs $((3 * cpu))m, both $((6 * cpu))m;" \
  "left while one job runs: $((free - 3 * cpu))m (one more pod)"

# submit NAME SLEEP: job NAME from the example (3 workers, each requesting $cpu, sleeping SLEEP s);
# sets applied_NAME to the UTC epoch of the apply.
submit() {
  sed -e "s/^  name: sleep-a$/  name: $1/" -e "s/cpu: 400m/cpu: ${cpu}m/" \
      -e "s/value: \"25\"/value: \"$2\"/" "$example/tfjob-sleep.yaml" > "$work/$1.yaml"
  grep -q "name: $1$" "$work/$1.yaml" && grep -q "cpu: ${cpu}m" "$work/$1.yaml" \
    || fail "the example tfjob-sleep.yaml no longer has the fields the test sets"
  printf -v "applied_$1" '%s' "$(date +%s.%N)"
  k -n "$e2e_ns" apply -f "$work/$1.yaml" >/dev/null
}

# pods_state JOB...: one line per pod of these jobs: "job pod phase node|- scheduledAt|-
# startedAt|- finishedAt|- schedulerName podGroupLabel|- unschedulableMessage|-", from one list.
pods_state() {
  k -n "$e2e_ns" get pods -l "training.kubeflow.org/job-name in ($(IFS=,; echo "$*"))" -o json \
    | python3 -c '
import json, sys
for p in sorted(json.load(sys.stdin)["items"], key=lambda p: p["metadata"]["name"]):
    m, s, st = p["metadata"], p["spec"], p.get("status", {})
    sched = next((c for c in st.get("conditions", []) if c["type"] == "PodScheduled"), {})
    cs = (st.get("containerStatuses") or [{}])[0].get("state", {})
    run = cs.get("running") or cs.get("terminated") or {}
    msg = sched.get("message", "-") if sched.get("status") == "False" else "-"
    print(m["labels"]["training.kubeflow.org/job-name"], m["name"], st.get("phase", "-"),
          s.get("nodeName") or "-", sched.get("lastTransitionTime", "-") if sched.get("status") == "True" else "-",
          run.get("startedAt", "-"), (cs.get("terminated") or {}).get("finishedAt", "-"),
          s.get("schedulerName", "-"), m.get("labels", {}).get("scheduling.x-k8s.io/pod-group", "-"),
          msg.replace(" ", "_"))'
}
count() { awk -v j="$1" -v c="$2" -v v="$3" '$1 == j && $c == v' <<<"$state" | wc -l; }
placed() { awk -v j="$1" '$1 == j && $4 != "-"' <<<"$state" | wc -l; }

# report JOB: every pod's placement and run, the seconds from apply to all started / Succeeded.
report() {
  local job=$1 applied succeeded
  applied=applied_$job
  succeeded=$(k -n "$e2e_ns" get tfjob "$job" \
    -o jsonpath='{.status.conditions[?(@.type=="Succeeded")].lastTransitionTime}')
  pods_state "$job" | python3 -c '
import sys, datetime
applied, succeeded, job = float(sys.argv[1]), sys.argv[2], sys.argv[3]
ts = lambda t: datetime.datetime.strptime(t, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc).timestamp()
starts = []
for line in sys.stdin:
    f = line.split()
    print(f"  {f[1]}: placed {f[4]} on {f[3]}, started {f[5]}, finished {f[6]} ({f[2]})")
    starts.append(ts(f[5]))
print(f"  {job}: all pods started {max(0, max(starts) - applied):.0f} s after kubectl apply, "
      f"Succeeded after {ts(succeeded) - applied:.0f} s")' "${!applied}" "$succeeded" "$job"
}

# wait_running JOB TIMEOUT: until the 3 pods of JOB are Running.
wait_running() {
  for _ in $(seq "$2"); do
    state=$(pods_state "$1")
    [ "$(count "$1" 3 Running)" = 3 ] && return
    sleep 1
  done
  fail "the 3 pods of $1 are not Running: $state"
}

# run_pair MODE: jobs a and b in a namespace of their own, MODE gang or default.
run_pair() {
  local mode=$1 checks=0 t0 first last msg="" m active b_running=0 a_ends spread
  if [ "$mode" = gang ]; then
    e2e_namespace gang-e2e
    e2e_reconciler TFJob --gang-scheduler-address="127.0.0.1:$gang_grpc" --insecure-plaintext-grpc
  else
    e2e_namespace nogang-e2e
    e2e_reconciler TFJob
  fi
  submit a 25
  wait_running a 90
  echo "  job a: its 3 pods run"
  # b's pods sleep longer than a's: the one pod of b that may start early (without gang
  # scheduling) still holds its place when a's pods finish.
  submit b 30
  for _ in $(seq 60); do
    state=$(pods_state a b)
    [ "$(awk '$1 == "b"' <<<"$state" | wc -l)" = 3 ] && break; sleep 0.5
  done
  [ "$(awk '$1 == "b"' <<<"$state" | wc -l)" = 3 ] || fail "job b does not have its 3 pods: $state"

  if [ "$mode" = gang ]; then
    [ "$(awk '$8 == "'"$sp_name"'" && $9 == $1' <<<"$state" | wc -l)" = 6 ] \
      || fail "not every pod names $sp_name and its job's PodGroup: $state"
    for job in a b; do
      k -n "$e2e_ns" get podgroups.scheduling.x-k8s.io "$job" \
        -o jsonpath='  PodGroup {.metadata.name}: minMember {.spec.minMember}, minResources {.spec.minResources}{"\n"}'
      [ "$(k -n "$e2e_ns" get podgroups.scheduling.x-k8s.io "$job" -o jsonpath='{.spec.minMember}')" = 3 ] \
        || fail "PodGroup $job does not have minMember 3"
    done
  else
    [ "$(awk '$8 == "default-scheduler" && $9 == "-"' <<<"$state" | wc -l)" = 6 ] \
      || fail "without gang scheduling the pods should name default-scheduler and no PodGroup: $state"
    [ -z "$(k -n "$e2e_ns" get podgroups.scheduling.x-k8s.io -o name)" ] || fail "PodGroups without gang scheduling"
  fi

  # Until job a's pods have all finished, each second, from one list of the pods: with gang
  # scheduling, while 2 or 3 of a's pods are active (room for one pod of b, not three) no pod of
  # b is placed; once only one is active b fits whole and may be placed. Without gang scheduling,
  # while all 3 of a's pods are active, exactly one pod of b is placed (once the default
  # scheduler got to it) and runs, the other two are Unschedulable. A pod's phase only moves on
  # to Succeeded, so a list that shows 2 active pods of a shows no more room than the scheduler
  # had when it placed anything listed.
  t0=$SECONDS
  while :; do
    state=$(pods_state a b)
    active=$((3 - $(count a 3 Succeeded)))
    [ "$active" = 0 ] && break
    [ $((SECONDS - t0)) -lt 90 ] || fail "job a's pods did not finish: $state"
    if [ "$mode" = gang ] && [ "$active" -ge 2 ]; then
      [ "$(placed b)" = 0 ] || fail "a pod of job b was placed while $active pods of job a run: $state"
      checks=$((checks + 1))
    elif [ "$mode" = default ] && [ "$active" = 3 ]; then
      checks=$((checks + 1))
      case "$(placed b)" in
        0) [ "$checks" -lt 20 ] || fail "no pod of job b was placed while a runs: $state" ;;
        1) [ "$(count b 3 Running)" = 1 ] && b_running=$((b_running + 1)) ;;
        *) fail "more than one pod of job b placed while the 3 pods of job a run: $state" ;;
      esac
    fi
    m=$(awk '$1 == "b" && $10 != "-" {print $10; exit}' <<<"$state")
    [ -z "$m" ] || msg=$m
    sleep 1
  done
  # The containers' finish times of a, in order: b fits whole from the second one on.
  mapfile -t a_ends < <(awk '$1 == "a" {print $7}' <<<"$state" | sort)
  echo "  job a's pods finished at ${a_ends[*]}"
  echo "  b's Unschedulable message: ${msg//_/ }"
  if [ "$mode" = gang ]; then
    [ "$checks" -ge 10 ] || fail "only $checks checks while a ran"
    echo "  while 2 or 3 of a's pods ran (room for one more pod): $checks checks 1 s apart, each with none of b's 3 pods placed (all Pending)"
  else
    [ "$b_running" -ge 3 ] || fail "job b's one placed pod was not seen Running while a ran ($b_running checks): $state"
    grep -q "Insufficient_cpu" <<<"$msg" || fail "b's Pending pods should lack cpu: $msg"
    echo "  while the 3 pods of a ran: $checks checks 1 s apart; in the last $b_running one pod of b placed and Running, two Pending"
  fi

  for _ in $(seq 90); do
    state=$(pods_state b); [ "$(placed b)" = 3 ] && break; sleep 1
  done
  [ "$(placed b)" = 3 ] || fail "job b's pods were not all placed after a finished: $state"
  first=$(awk '{print $5}' <<<"$state" | sort | head -1) last=$(awk '{print $5}' <<<"$state" | sort | tail -1)
  spread=$(( $(date -d "$last" +%s) - $(date -d "$first" +%s) ))
  # RFC 3339 UTC timestamps of one clock compare as strings.
  if [ "$mode" = gang ]; then
    [[ ! $first < ${a_ends[1]} ]] || fail "job b's first pod was placed ($first) before 2 of a's pods had finished (${a_ends[1]})"
    [ "$spread" -le 2 ] || fail "job b's pods were placed $spread s apart ($first .. $last)"
    echo "  job b placed whole: its 3 pods between $first and $last ($spread s apart)," \
      "$(( $(date -d "$first" +%s) - $(date -d "${a_ends[1]}" +%s) )) s after b fitted whole (a's second pod finished ${a_ends[1]})"
  else
    [[ $first < ${a_ends[0]} ]] || fail "job b's first pod was not placed ($first) before a's pods finished (${a_ends[0]})"
    echo "  job b half-started: its first pod placed $first while a ran, the last $last ($spread s later)"
  fi
  wait_job TFJob a Succeeded 60
  wait_job TFJob b Succeeded 120
  report a
  report b
  if [ "$mode" = gang ]; then
    for _ in $(seq 60); do
      [ -z "$(k -n "$e2e_ns" get podgroups.scheduling.x-k8s.io -o name)" ] && break; sleep 0.5
    done
    [ -z "$(k -n "$e2e_ns" get podgroups.scheduling.x-k8s.io -o name)" ] \
      || fail "PodGroups left after both jobs succeeded: $(k -n "$e2e_ns" get podgroups.scheduling.x-k8s.io -o name)"
    echo "  both PodGroups deleted once the jobs succeeded"
  fi
  stop_reconciler
  cp "$work/reconciler.log" "$work/reconciler-$mode.log"
}

step "with gang scheduling: job b waits whole while job a runs"
run_pair gang
step "without gang scheduling: job b half-starts while job a runs"
run_pair default

e2e_down
