#!/usr/bin/env bash
# PaddleJobCollectiveOnARealNodeTrainsWithEveryTrainerAndSucceeds (SPEC section 11, issue 17),
# with real containers: a control plane of its own with one real node (KUBEDL_REAL_NODES=1), the
# PaddleJob CRD, kubedl-reconciler for PaddleJob as a process on this machine, and the
# train-paddle image (tools/images/training.sh paddle: PyPI paddlepaddle for CPU). It applies
# examples/training/paddle/paddlejob-collective.yaml as a user would (kubectl -n NS apply -f) and
# shows that:
#   - both worker pods start on the real node; in each, `python3 -m paddle.distributed.launch`
#     takes PADDLE_MASTER, PADDLE_NNODES and PADDLE_JOB_ID from the reconciler's env (it says it
#     overrides its arguments with them), worker 0 serves the rendezvous at its own pod IP
#     (POD_IP_DUMMY) and worker 1 reaches it through worker 0's headless Service;
#   - the two trainers get ranks 0 and 1 (one per pod), join over gloo, an allreduce answers from
#     both (`ranks_seen=0,1`), and the loss, averaged over both, is the same in both logs and goes
#     down from the first step to the last;
#   - every pod exits 0 and the PaddleJob ends Succeeded;
#   - tear-down leaves the machine as it was (real_node_lib.sh's e2e_down).
# It prints the seconds from `kubectl apply` to every pod Running and to Succeeded, the final
# loss, and the image's size.
# A machine that cannot run a real node (tools/real-node/can-run.sh says why), or one where another
# real node keeps running, skips the test with exit code 77; so does CI when the image is not
# cached (real_node_lib.sh's e2e_training_image).
# shellcheck source=real_node_lib.sh
source "$(dirname "$0")/real_node_lib.sh"
ns=training-paddle job=paddle-collective kind=paddlejob workers=2
manifest=$repo/examples/training/paddle/paddlejob-collective.yaml

e2e_extra_diagnostics() {
  local i
  k -n "$ns" get "$kind" "$job" -o jsonpath='{.status}' 2>/dev/null || true; echo
  for i in $(seq 0 $((workers - 1))); do
    echo "--- $job-worker-$i: /tmp/paddle-log"
    k -n "$ns" exec "$job-worker-$i" -- sh -c 'tail -n 30 /tmp/paddle-log/*' 2>/dev/null || true
  done
}

e2e_training_setup training-paddle paddle PaddleJob "$ns"

e2e_apply_job "$manifest" "$job" "$workers"
e2e_wait_succeeded "$kind" "$job"

step "every trainer took part and the loss went down"
ranks=()
for i in $(seq 0 $((workers - 1))); do
  pod=$job-worker-$i
  [ "$(k -n "$ns" get pod "$pod" -o jsonpath='{.status.containerStatuses[0].state.terminated.exitCode}')" = 0 ] \
    || fail "$pod did not exit 0"
  k -n "$ns" logs "$pod" -c paddle >"$work/$pod.log" || fail "kubectl logs $pod failed"
  { grep -E '^LAUNCH WARNING args .* overridden by env' "$work/$pod.log" | sed "s/^/  $pod: /"; } || true
  for v in "master will be overridden by env: PADDLE_MASTER" "nnodes will be overridden by env: PADDLE_NNODES value: $workers" \
           "job_id will be overridden by env: PADDLE_JOB_ID value: $job"; do
    grep -q "$v" "$work/$pod.log" || fail "$pod: paddle.distributed.launch did not take '$v'"
  done
  rank=$(sed -n 's/^rank=\([0-9]*\) world=.*/\1/p' "$work/$pod.log" | head -1)
  [ -n "$rank" ] || fail "$pod: no trainer output in its log ($work/$pod.log)"
  ranks+=("$rank")
  { grep -E "^rank=$rank " "$work/$pod.log" | grep -v ' step=' | sed "s/^/  $pod: /"; } || true
  grep -q "^rank=$rank world=$workers " "$work/$pod.log" || fail "$pod: the trainer's world is not $workers"
  grep -q "^rank=$rank ranks_seen=$(seq -s, 0 $((workers - 1)))$" "$work/$pod.log" \
    || fail "$pod: the allreduce did not answer from every trainer"
  python3 - "$work/$pod.log" "$rank" <<'PY' || fail "$pod: the loss did not go down (log: $work/$pod.log)"
import re, sys
rank, text = sys.argv[2], open(sys.argv[1]).read()
losses = [float(m.group(1)) for m in re.finditer(r"^rank=%s step=\d+ loss=([0-9.e+-]+)$" % rank, text, re.M)]
final = re.search(r"^rank=%s done final_loss=([0-9.e+-]+)$" % rank, text, re.M)
print("  rank %s: %d steps, loss %.6f -> %.6f" % (rank, len(losses), losses[0], losses[-1]))
assert len(losses) >= 10 and final and losses[-1] < losses[0] / 10, losses
PY
done
[ "$(printf '%s\n' "${ranks[@]}" | sort -n | paste -sd,)" = "$(seq -s, 0 $((workers - 1)))" ] \
  || fail "the pods' trainer ranks are ${ranks[*]}, want one each of 0..$((workers - 1))"
master_ip=$(k -n "$ns" get pod "$job-worker-0" -o jsonpath='{.status.podIP}')
grep -q "master: $master_ip:36543" "$work/$job-worker-0.log" \
  || fail "worker 0's launcher did not take PADDLE_MASTER=\$(POD_IP_DUMMY):36543 = $master_ip:36543"
grep -q "master: $job-worker-0:36543" "$work/$job-worker-1.log" \
  || fail "worker 1's launcher did not take PADDLE_MASTER=$job-worker-0:36543"
for i in $(seq 1 $((workers - 1))); do
  diff <(grep -oE 'step=[0-9]+ loss=.*' "$work/$job-worker-0.log") \
       <(grep -oE 'step=[0-9]+ loss=.*' "$work/$job-worker-$i.log") >/dev/null \
    || fail "worker $i's losses differ from worker 0's: the trainers did not share their gradients"
done
final=$(sed -n 's/^rank=[0-9]* done final_loss=//p' "$work/$job-worker-0.log")
echo "  final loss $final (every trainer); apply -> all Running ${t_running}s, -> Succeeded ${t_succeeded}s"

e2e_down
