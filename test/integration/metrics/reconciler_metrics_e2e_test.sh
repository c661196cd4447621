#!/usr/bin/env bash
# Issue 8 end to end: a real kubedl-reconciler (this run's namespace only) sends job events to a
# real kubedl-metrics over gRPC while TFJobs run on the local control plane's KWOK nodes; the
# scraped /metrics must match the job mix exactly. Then kubedl-metrics is killed with SIGKILL while
# jobs run, reconciling goes on, and the restarted service (same port) counts what happened while it
# was down and has the right gauges after the next snapshot.
#   reconciler_metrics_e2e_test.sh METRICS_BINARY RECONCILER_BINARY REPO
set -euo pipefail
metrics_bin=$1 reconciler_bin=$2 repo=$3
: "${KUBECTL:?KUBECTL must point at kubectl}" "${KUBECONFIG:?KUBECONFIG must be set}"
k() { "$KUBECTL" "$@"; }

ns="kdl-metrics-e2e-$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')"
work=$(mktemp -d)
metrics_pid="" reconciler_pid=""
failures=0
cleanup() {
  for pid in $metrics_pid $reconciler_pid; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
  k delete namespace "$ns" --ignore-not-found --wait=false >/dev/null 2>&1 || true
  if [ "$failures" != 0 ]; then
    echo "--- kubedl-reconciler log (tail)"; tail -40 "$work/reconciler.log" || true
    echo "--- kubedl-metrics logs (tail)"; for f in "$work"/metrics-*.log; do tail -n 20 "$f"; done || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# until SECONDS COMMAND...: runs COMMAND every half second until it succeeds.
until_ok() {
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -ge "$deadline" ] && return 1
    sleep 0.5
  done
}

metrics_grpc=$(free_port) metrics_http=$(free_port) rec_health=$(free_port) rec_metrics=$(free_port)
runs=0
start_metrics() {
  runs=$((runs + 1))
  "$metrics_bin" --listen-address=127.0.0.1 --grpc-port="$metrics_grpc" --http-port="$metrics_http" \
    --insecure-plaintext --housekeeping-interval=1s >"$work/metrics-$runs.log" 2>&1 &
  metrics_pid=$!
  until_ok 30 curl -sf "http://127.0.0.1:$metrics_http/readyz" ||
    { cat "$work/metrics-$runs.log"; echo "kubedl-metrics did not start" >&2; exit 1; }
}

k apply --server-side --force-conflicts -f "$repo/charts/kubedl/crds/" >/dev/null
k wait --for=condition=Established --timeout=60s crd/tfjobs.kubeflow.org >/dev/null
k create namespace "$ns" >/dev/null

start_metrics
"$reconciler_bin" --kubeconfig="$KUBECONFIG" --namespace="$ns" --workloads=TFJob \
  --leader-elect=false --bind-address=127.0.0.1 --health-port="$rec_health" \
  --metrics-port="$rec_metrics" --metrics-sink-address="127.0.0.1:$metrics_grpc" --insecure-plaintext-grpc \
  --metrics-snapshot-interval=2s >"$work/reconciler.log" 2>&1 &
reconciler_pid=$!
until_ok 60 curl -sf "http://127.0.0.1:$rec_health/readyz" ||
  { cat "$work/reconciler.log"; echo "kubedl-reconciler did not become ready" >&2; exit 1; }

# --- jobs ---------------------------------------------------------------------------------------
# tfjob NAME WORKERS RESTART_POLICY [EXIT_CODE RUN_FOR | unschedulable]
# Without an exit code the workers run until the test annotates them (or forever).
tfjob() {
  local name=$1 workers=$2 policy=$3 code=${4:-} run_for=${5:-} annotations="{}" selector="{}"
  if [ "$code" = unschedulable ]; then
    selector='{"kubedl.io/no-such-node": "true"}'
  elif [ -n "$code" ]; then
    annotations="{\"kwok.kubedl.io/exit-code\": \"$code\", \"kwok.kubedl.io/run-for\": \"$run_for\"}"
  fi
  k apply -n "$ns" -f - >/dev/null <<EOF
{"apiVersion": "kubeflow.org/v1", "kind": "TFJob", "metadata": {"name": "$name"},
 "spec": {"tfReplicaSpecs": {"Worker": {"replicas": $workers, "restartPolicy": "$policy",
   "template": {"metadata": {"annotations": $annotations},
     "spec": {"nodeSelector": $selector,
              "containers": [{"name": "tensorflow", "image": "tensorflow/tensorflow:2.15.0"}]}}}}}}
EOF
}
condition() {  # condition JOB TYPE: the job has condition TYPE=True
  [ "$(k get tfjob -n "$ns" "$1" -o jsonpath="{.status.conditions[?(@.type==\"$2\")].status}")" = True ]
}
wait_condition() {  # wait_condition SECONDS TYPE JOB...
  local timeout=$1 type=$2; shift 2
  for job in "$@"; do
    until_ok "$timeout" condition "$job" "$type" || fail "$job never had condition $type"
  done
}
# Uid of the job's worker pod that is Running (empty if none).
running_pod() {
  k get pods -n "$ns" -l "training.kubeflow.org/job-name=$1" \
    -o jsonpath='{range .items[?(@.status.phase=="Running")]}{.metadata.name}{" "}{.metadata.uid}{"\n"}{end}' |
    head -1
}
has_running_pod() { [ -n "$(running_pod "$1")" ]; }
finish_pod() {  # finish_pod POD CODE
  k annotate pod -n "$ns" "$1" "kwok.kubedl.io/exit-code=$2" kwok.kubedl.io/run-for=1s >/dev/null
}

# --- scraping -------------------------------------------------------------------------------------
scrape() { curl -sf "http://127.0.0.1:$1/metrics"; }
# value PORT NAME [LABEL=VALUE...]: sum of the samples of NAME with these labels (0 if none).
value() {
  local port=$1; shift
  scrape "$port" | python3 -c '
import re, sys
name, want = sys.argv[1], dict(a.split("=", 1) for a in sys.argv[2:])
total = 0.0
for line in sys.stdin:
    m = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$", line.strip())
    if not m or m.group(1) != name:
        continue
    labels = dict(re.findall(r"(\w+)=\"((?:[^\"\\]|\\.)*)\"", m.group(3) or ""))
    same = lambda k, v: labels.get(k) == v or (k == "le" and k in labels and float(labels[k]) == float(v))
    if all(same(k, v) for k, v in want.items()):
        total += float(m.group(4))
print(int(total) if total == int(total) else total)' "$@"
}
metric_is() {  # metric_is EXPECTED NAME [LABEL=VALUE...]
  [ "$(value "$metrics_http" "${@:2}")" = "$1" ]
}
expect() {  # expect WHAT EXPECTED NAME [LABEL=VALUE...] (job families get kind and namespace)
  local what=$1 want=$2 name=$3; shift 3
  local got
  got=$(value "$metrics_http" "$name" "$@")
  [ "$got" = "$want" ] || fail "$what: $name $* = $got, want $want"
}
expect_job_counts() {  # created successful failed restarted deleted
  local labels=(kind=TFJob "namespace=$ns")
  expect "$phase" "$1" kubedl_jobs_created_total "${labels[@]}"
  expect "$phase" "$2" kubedl_jobs_successful_total "${labels[@]}"
  expect "$phase" "$3" kubedl_jobs_failed_total "${labels[@]}"
  expect "$phase" "$4" kubedl_jobs_restarted_total "${labels[@]}"
  expect "$phase" "$5" kubedl_jobs_deleted_total "${labels[@]}"
}
# One observation per started job, every delay in [0, 60 s).
expect_histogram() {  # expect_histogram NAME COUNT
  local count sum
  count=$(value "$metrics_http" "$1_count" kind=TFJob "namespace=$ns")
  sum=$(value "$metrics_http" "$1_sum" kind=TFJob "namespace=$ns")
  [ "$count" = "$2" ] || fail "$phase: $1_count = $count, want $2"
  python3 -c 'import sys; s, n = float(sys.argv[1]), int(sys.argv[2]); sys.exit(0 if 0 <= s < 60 * max(n, 1) else 1)' "$sum" "$2" ||
    fail "$phase: $1_sum = $sum is not a plausible sum of $2 delays"
  local over
  over=$(value "$metrics_http" "$1_bucket" kind=TFJob "namespace=$ns" le=60)
  [ "$over" = "$2" ] || fail "$phase: $1 has $over observations at or below 60 s, want all $2"
}
gauges_are() {  # gauges_are RUNNING PENDING
  [ "$(value "$metrics_http" kubedl_jobs_running kind=TFJob "namespace=$ns")" = "$1" ] &&
    [ "$(value "$metrics_http" kubedl_jobs_pending kind=TFJob "namespace=$ns")" = "$2" ]
}

# --- phase 1: a mix of jobs with the service up -----------------------------------------------
phase="phase 1"
tfjob ok-a 1 ExitCode 0 6s
tfjob ok-b 2 ExitCode 0 6s
tfjob ok-c 1 Never 0 6s
tfjob bad-a 1 ExitCode 1 6s
tfjob bad-b 1 ExitCode 1 6s
tfjob restart 1 ExitCode          # exits 137 once (recreated), then 0
tfjob del-a 1 ExitCode            # deleted while running
tfjob del-b 1 ExitCode
tfjob long 1 ExitCode             # still running at the end: the running gauge
tfjob stuck 1 ExitCode unschedulable  # no node fits: the pending gauge

until_ok 180 has_running_pod restart || { fail "restart: no pod ever ran"; exit 1; }
read -r first_pod first_uid <<<"$(running_pod restart)"
finish_pod "$first_pod" 137
for _ in $(seq 180); do
  read -r pod uid <<<"$(running_pod restart)" || true
  [ -n "${uid:-}" ] && [ "$uid" != "$first_uid" ] && break
  sleep 0.5
done
[ -n "${uid:-}" ] && [ "$uid" != "$first_uid" ] || fail "restart: the pod was not recreated after exit 137"
finish_pod "$pod" 0

wait_condition 90 Running del-a del-b long
k delete tfjob -n "$ns" del-a del-b --wait=true >/dev/null
wait_condition 90 Succeeded ok-a ok-b ok-c restart
wait_condition 90 Failed bad-a bad-b
condition stuck Running && fail "stuck ran on no node"

# Events are sent asynchronously; the last snapshot (every 2 s) sets the gauges.
until_ok 30 metric_is 4 kubedl_jobs_successful_total kind=TFJob "namespace=$ns" || true
until_ok 30 gauges_are 1 1 || fail "$phase: gauges running/pending not 1/1"
sleep 3  # one more snapshot and any late event
expect_job_counts 10 4 2 1 2
# Exit codes of pods: 0 for ok-a (1), ok-b (2), ok-c (1), restart's second pod (1); 1 for the
# failed jobs; 137 for restart's first pod. The deleted jobs' pods never exited.
expect "$phase" 5 kubedl_pods_exit_code_total kind=TFJob code=0
expect "$phase" 2 kubedl_pods_exit_code_total kind=TFJob code=1
expect "$phase" 1 kubedl_pods_exit_code_total kind=TFJob code=137
expect "$phase" 8 kubedl_pods_exit_code_total kind=TFJob
# Every job whose pods started has one observation (all but stuck); finished jobs a duration.
expect_histogram kubedl_jobs_first_pod_launch_delay_seconds 9
expect_histogram kubedl_jobs_all_pods_launch_delay_seconds 9
expect "$phase" 6 kubedl_jobs_duration_seconds_count kind=TFJob "namespace=$ns"
gauges_are 1 1 || fail "$phase: gauges running/pending not 1/1"

# --- phase 2: kubedl-metrics killed while jobs run ----------------------------------------------
phase="phase 2 (service down)"
kill -KILL "$metrics_pid"
wait "$metrics_pid" 2>/dev/null || true
metrics_pid=""
down_at=$SECONDS
tfjob late-a 1 ExitCode 0 3s
tfjob late-b 2 ExitCode 0 3s
tfjob late-long 1 ExitCode
k delete tfjob -n "$ns" stuck --wait=true >/dev/null
# Reconciling goes on: the new jobs get pods and finish while nobody receives their events.
wait_condition 60 Succeeded late-a late-b
wait_condition 60 Running late-long
echo "jobs created and finished within $((SECONDS - down_at)) s while kubedl-metrics was down"
curl -sf "http://127.0.0.1:$rec_health/healthz" >/dev/null || fail "$phase: reconciler unhealthy"
dropped=$(value "$rec_metrics" kubedl_reconciler_metrics_events_dropped_total)
[ "$dropped" = 0 ] || fail "$phase: $dropped events dropped; the buffer (10000) should hold them"

# --- phase 3: restarted on the same port ---------------------------------------------------------
phase="phase 3 (restarted)"
start_metrics
# The new process counts from zero: only what it receives now. The client replays its buffer
# (late-a, late-b, late-long, the deletion of stuck) and sends a snapshot on reconnecting; the
# reconnect backoff may have grown while the service was down.
until_ok 90 gauges_are 2 0 || fail "$phase: gauges running/pending not 2/0 (long, late-long)"
sleep 3
expect_job_counts 3 2 0 0 1
expect "$phase" 3 kubedl_pods_exit_code_total kind=TFJob code=0
expect "$phase" 3 kubedl_pods_exit_code_total kind=TFJob
expect_histogram kubedl_jobs_first_pod_launch_delay_seconds 3
expect_histogram kubedl_jobs_all_pods_launch_delay_seconds 3
expect "$phase" 2 kubedl_jobs_duration_seconds_count kind=TFJob "namespace=$ns"
gauges_are 2 0 || fail "$phase: gauges running/pending not 2/0"
dropped=$(value "$rec_metrics" kubedl_reconciler_metrics_events_dropped_total)
[ "$dropped" = 0 ] || fail "$phase: $dropped events dropped"

# A job finishing now moves the gauges at once (its Succeeded event), not at the next snapshot.
read -r pod _ <<<"$(running_pod late-long)"
finish_pod "$pod" 0
wait_condition 60 Succeeded late-long
until_ok 30 gauges_are 1 0 || fail "after late-long finished: gauges running/pending not 1/0"
expect "after late-long finished" 3 kubedl_jobs_successful_total kind=TFJob "namespace=$ns"

if [ "$failures" != 0 ]; then
  echo "$failures check(s) failed" >&2
  exit 1
fi
echo "PASS"
