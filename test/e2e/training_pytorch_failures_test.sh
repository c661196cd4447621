#!/usr/bin/env bash
# PyTorchDdpOnARealNodeRecreatesAKilledWorkerAndFailsOnAPythonError (SPEC section 5 "Failed pods",
# issue 17), with real containers: a control plane of its own with one real node
# (KUBEDL_REAL_NODES=1), the PyTorchJob CRD, kubedl-reconciler for PyTorchJob as a process on this
# machine, the train-pytorch image, and examples/training/pytorch/pytorchjob.yaml (Master + 2
# Workers, restartPolicy ExitCode) under other names. Two jobs, one after the other:
#   - killed: each step lasts 0.5 s (TRAIN_STEP_DELAY). Once rank 2 (worker 1) has logged step 5,
#     the test kills its training process from this machine with SIGKILL, through the node's
#     containerd (`ctr tasks kill`), as the kernel's OOM killer would. Its container ends with
#     exit code 137, a retryable code under ExitCode: the reconciler deletes the pod and makes a
#     new one (another uid; event ExitedWithCode "... exited with code 137"; the job's condition
#     Restarting=True, recorded by the event PyTorchJobRestarting "... is restarting because 1
#     Worker replica(s) failed."). The other two processes lose their peer and wait (train.py's
#     "lost a peer"); the new process learns from rank 0's store that it is incarnation 2, the three
#     form a new process group, DDP copies rank 0's model to it, and training goes on from rank 0's
#     step to the end. The job ends Succeeded, every rank's loss went down (the new worker 1
#     starts where the others were, not at step 0) and every pod that is left exited 0;
#   - failed: rank 2 raises a Python ValueError at step 5 (TRAIN_FAIL_RANK/TRAIN_FAIL_STEP), its
#     container exits 1, which ExitCode does not retry: the pod is kept (same uid), the job ends
#     Failed with the reconciler's message "PyTorchJob <ns>/<job> has failed because 1 Worker
#     replica(s) failed.", the event ExitedWithCode names the pod, code 1 and the exception
#     ("Pod: <ns>.<pod> exited with code 1: ValueError: rank 2: bad batch at step 5 ..."; the
#     manifest's terminationMessagePolicy is FallbackToLogsOnError), the pod's log holds the traceback, and cleanPodPolicy Running removes
#     the master and worker 0 that were still waiting for their peer;
#   - tear-down leaves the machine as it was (real_node_lib.sh's e2e_down).
# It prints the seconds from `kubectl apply` to all containers started, from the kill to the new
# pod's container started and to Succeeded, and from `kubectl apply` to Failed; and the final losses.
# A machine that cannot run a real node (tools/real-node/can-run.sh says why), or one where another
# real node keeps running, skips the test with exit code 77; so does CI when the image is not
# cached (real_node_lib.sh's e2e_training_image).
# shellcheck source=real_node_lib.sh
source "$(dirname "$0")/real_node_lib.sh"
# shellcheck source=training_pytorch_lib.sh
source "$(dirname "$0")/training_pytorch_lib.sh"
ns=training-pytorch-failures

pt_up training-pytorch-failures "$ns"

# event_messages JOB REASON: the messages of the job's events with that reason.
event_messages() {
  k -n "$ns" get events --field-selector "involvedObject.name=$1,reason=$2" \
    -o jsonpath='{range .items[*]}{.message}{"\n"}{end}'
}

step "killed: SIGKILL to worker 1's process mid-training; its pod is recreated and the job goes on"
job=ddp-killed victim=ddp-killed-worker-1
t0=$(now)
pt_manifest "$pt_examples/pytorchjob.yaml" "$job" TRAIN_STEP_DELAY=0.5 | k -n "$ns" apply -f - >/dev/null
pt_wait_started "$job" 3 300
echo "  all 3 pods' containers started $(since "$t0") s after kubectl apply"
deadline=$((SECONDS + 120))
until k -n "$ns" logs "$victim" -c pytorch 2>/dev/null | grep -q '^rank=2 step=5 '; do
  [ $SECONDS -lt $deadline ] || fail "$victim did not reach step 5 in 120 s"
  sleep 0.3
done
uid_before=$(k -n "$ns" get pod "$victim" -o jsonpath='{.metadata.uid}')
container=$(k -n "$ns" get pod "$victim" -o jsonpath='{.status.containerStatuses[?(@.name=="pytorch")].containerID}')
container=${container#containerd://}
[ -n "$container" ] || fail "no container id for $victim"
k -n "$ns" logs "$victim" -c pytorch >"$work/$victim.first.log"
t_kill=$(now)
"$CTR" -a "$CONTAINERD_ADDRESS" -n k8s.io tasks kill --signal SIGKILL "$container" 2>"$work/ctr.err" \
  || fail "ctr tasks kill $container failed: $(cat "$work/ctr.err")"
echo "  killed $victim's process (container ${container:0:12}) after step $(grep -c '^rank=2 step=' "$work/$victim.first.log" | awk '{print $1-1}')"
saw_restarting=""
deadline=$((SECONDS + 120))
while :; do
  uid=$(k -n "$ns" get pod "$victim" -o jsonpath='{.metadata.uid}' 2>/dev/null || true)
  job_conditions pytorchjob "$job" | grep -q '^Restarting=True' && saw_restarting=1
  [ -n "$uid" ] && [ "$uid" != "$uid_before" ] && break
  [ $SECONDS -lt $deadline ] || fail "$victim was not recreated in 120 s: $(job_conditions pytorchjob "$job" | tr '\n' ';')"
  sleep 0.2
done
until [ -n "$(k -n "$ns" get pod "$victim" -o jsonpath='{.status.containerStatuses[?(@.name=="pytorch")].state.running.startedAt}{.status.containerStatuses[?(@.name=="pytorch")].state.terminated.startedAt}')" ]; do
  job_conditions pytorchjob "$job" | grep -q '^Restarting=True' && saw_restarting=1
  [ $SECONDS -lt $deadline ] || fail "the new $victim did not start in 120 s"
  sleep 0.2
done
t_restarted=$(since "$t_kill")
echo "  a new $victim (uid ${uid:0:8}, was ${uid_before:0:8}) started $t_restarted s after the kill"
wait_job pytorchjob "$job" Succeeded 300
t_succeeded=$(since "$t_kill")
echo "  Succeeded $t_succeeded s after the kill, $(since "$t0") s after kubectl apply"
job_conditions pytorchjob "$job" | sed 's/^/  /'
# Restarting=True lasts one pass (the next one sets Running again): the condition's event is the
# record the test can count on; the polls above may or may not have caught the condition itself.
restarting=$(event_messages "$job" PyTorchJobRestarting | head -1)
[ "$restarting" = "PyTorchJob $ns/$job is restarting because 1 Worker replica(s) failed." ] \
  || fail "no PyTorchJobRestarting event for the recreation: '$restarting'"
echo "  event PyTorchJobRestarting: $restarting (condition Restarting=True seen while polling: ${saw_restarting:-no})"
# shellcheck disable=SC2016
event_messages "$job" ExitedWithCode | grep -q "^Pod: $ns.$victim exited with code 137" \
  || fail "no ExitedWithCode event for $victim with code 137: $(event_messages "$job" ExitedWithCode | tr '\n' ';')"
logs=()
for pod in "$job-master-0" "$job-worker-0" "$victim"; do
  code=$(pt_wait_exited "$pod" 60)
  [ "$code" = 0 ] || fail "$pod exited with $code"
  k -n "$ns" logs "$pod" -c pytorch >"$work/$pod.log" || fail "kubectl logs $pod failed"
  logs+=("$work/$pod.log")
done
grep -q '^rank=2 start mode=plain .* incarnation=2$' "$work/$victim.log" \
  || fail "the new $victim is not rank 2's second incarnation: $(grep -m1 start "$work/$victim.log")"
for pod in "$job-master-0" "$job-worker-0"; do
  grep -q 'lost a peer in generation 0' "$work/$pod.log" || fail "$pod did not notice the lost peer"
  grep -q 'group generation=1 from_step=' "$work/$pod.log" || fail "$pod did not join generation 1"
done
resumed=$(sed -n 's/^rank=2 group generation=1 from_step=\([0-9]*\)$/\1/p' "$work/$victim.log")
[ -n "$resumed" ] && [ "$resumed" -gt 5 ] || fail "the new $victim did not resume after step 5: '$resumed'"
grep -h -E 'lost a peer|group generation=1|incarnation=2' "$work/$job-master-0.log" "$work/$job-worker-0.log" "$work/$victim.log" \
  | sed 's/^/  /'
pt_check_logs 3 "${logs[@]}"
killed_losses=$pt_final_losses

step "failed: a Python exception (exit 1) on worker 1 fails the job, and says which replica"
job=ddp-error victim=ddp-error-worker-1
t0=$(now)
pt_manifest "$pt_examples/pytorchjob.yaml" "$job" TRAIN_FAIL_RANK=2 TRAIN_FAIL_STEP=5 runPolicy.cleanPodPolicy=Running \
  | k -n "$ns" apply -f - >/dev/null
pt_wait_started "$job" 3 300
uid_before=$(k -n "$ns" get pod "$victim" -o jsonpath='{.metadata.uid}')
wait_job pytorchjob "$job" Failed 300
t_failed=$(since "$t0")
echo "  Failed $t_failed s after kubectl apply"
job_conditions pytorchjob "$job" | sed 's/^/  /'
message=$(k -n "$ns" get pytorchjob "$job" -o jsonpath='{.status.conditions[?(@.type=="Failed")].message}')
[ "$message" = "PyTorchJob $ns/$job has failed because 1 Worker replica(s) failed." ] \
  || fail "Failed message: '$message'"
reason=$(k -n "$ns" get pytorchjob "$job" -o jsonpath='{.status.conditions[?(@.type=="Failed")].reason}')
[ "$reason" = PyTorchJobFailed ] || fail "Failed reason: '$reason'"
[ "$(k -n "$ns" get pod "$victim" -o jsonpath='{.metadata.uid}')" = "$uid_before" ] \
  || fail "$victim was recreated after exit code 1"
code=$(pt_wait_exited "$victim" 30)
[ "$code" = 1 ] || fail "$victim exited with $code, not 1"
event_messages "$job" ExitedWithCode \
  | grep -qx "Pod: $ns.$victim exited with code 1: ValueError: rank 2: bad batch at step 5 (injected with --fail-step)" \
  || fail "no ExitedWithCode event for $victim with code 1: $(event_messages "$job" ExitedWithCode | tr '\n' ';')"
k -n "$ns" logs "$victim" -c pytorch >"$work/$victim.log"
grep -q '^ValueError: rank 2: bad batch at step 5' "$work/$victim.log" || fail "$victim's log has no ValueError"
grep -q '^rank=2 step=4 ' "$work/$victim.log" || fail "$victim did not train up to step 4"
echo "  $victim: exit code $code; $(grep -m1 '^ValueError' "$work/$victim.log")"
echo "  event: $(event_messages "$job" ExitedWithCode | head -1)"
# cleanPodPolicy Running: the master and worker 0, still waiting for their peer, are deleted.
deadline=$((SECONDS + 60))
while k -n "$ns" get pod "$job-master-0" "$job-worker-0" >/dev/null 2>&1; do
  [ $SECONDS -lt $deadline ] || fail "cleanPodPolicy Running left $job-master-0 or $job-worker-0"
  sleep 0.5
done

echo "  killed: kill -> new pod started: $t_restarted s, kill -> Succeeded: $t_succeeded s; final loss per rank: $killed_losses"
echo "  failed: kubectl apply -> Failed: $t_failed s"
e2e_down
