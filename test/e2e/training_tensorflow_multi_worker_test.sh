#!/usr/bin/env bash
# TfJobMultiWorkerMirroredOnARealNodeTrainsWithEveryTaskAndSucceeds (SPEC sections 4 and 5,
# issue 17), with real containers: a control plane of its own with one real node
# (KUBEDL_REAL_NODES=1), the TFJob CRD, kubedl-reconciler for TFJob as a process on this machine,
# and the train-tensorflow image (tools/images/training.sh tensorflow: PyPI tensorflow-cpu). It
# applies examples/training/tensorflow/tfjob-multi-worker.yaml as a user would
# (kubectl -n NS apply -f) and shows that:
#   - the Chief and both Workers start on the real node, and TensorFlow's
#     MultiWorkerMirroredStrategy, reading the TF_CONFIG the reconciler wrote (each task at its
#     headless Service name), forms one group of 3 replicas;
#   - an allreduce answers from every task (`ranks_seen=0,1,2` in each log) and each step's loss,
#     averaged over the three tasks, is the same in every log and goes down;
#   - every pod exits 0 and the TFJob ends Succeeded;
#   - tear-down leaves the machine as it was (real_node_lib.sh's e2e_down).
# It prints the seconds from `kubectl apply` to every pod Running and to Succeeded, the final
# loss, and the image's size.
# A machine that cannot run a real node (tools/real-node/can-run.sh says why), or one where another
# real node keeps running, skips the test with exit code 77; so does CI when the image is not
# cached (real_node_lib.sh's e2e_training_image).
# shellcheck source=real_node_lib.sh
source "$(dirname "$0")/real_node_lib.sh"
ns=training-tf job=tf-multi-worker kind=tfjob
pods=("$job-chief-0" "$job-worker-0" "$job-worker-1")   # ranks 0, 1, 2
manifest=$repo/examples/training/tensorflow/tfjob-multi-worker.yaml

e2e_extra_diagnostics() { k -n "$ns" get "$kind" "$job" -o jsonpath='{.status}' 2>/dev/null || true; echo; }

e2e_training_setup training-tf tensorflow TFJob "$ns"

e2e_apply_job "$manifest" "$job" "${#pods[@]}"
e2e_wait_succeeded "$kind" "$job"

step "every task took part and the loss went down"
world=${#pods[@]}
for rank in $(seq 0 $((world - 1))); do
  pod=${pods[$rank]}
  [ "$(k -n "$ns" get pod "$pod" -o jsonpath='{.status.containerStatuses[0].state.terminated.exitCode}')" = 0 ] \
    || fail "$pod did not exit 0"
  k -n "$ns" logs "$pod" -c tensorflow >"$work/$pod.log" || fail "kubectl logs $pod failed"
  { grep -E "^rank=$rank " "$work/$pod.log" | grep -v ' step=' | sed "s/^/  $pod: /"; } || true
  type_index=$(sed -E 's/^.*-(chief|worker)-([0-9]+)$/\1:\2/' <<<"$pod")
  grep -q "^rank=$rank task=$type_index world=$world " "$work/$pod.log" \
    || fail "$pod: TF_CONFIG does not name it task $type_index of $world"
  grep -q "^rank=$rank replicas_in_sync=$world$" "$work/$pod.log" \
    || fail "$pod: the strategy does not have $world replicas in sync"
  grep -q "^rank=$rank ranks_seen=$(seq -s, 0 $((world - 1)))$" "$work/$pod.log" \
    || fail "$pod: the allreduce did not answer from every task"
  python3 - "$work/$pod.log" "$rank" <<'PY' || fail "$pod: the loss did not go down (log: $work/$pod.log)"
import re, sys
rank, text = sys.argv[2], open(sys.argv[1]).read()
losses = [float(m.group(1)) for m in re.finditer(r"^rank=%s step=\d+ loss=([0-9.e+-]+)$" % rank, text, re.M)]
final = re.search(r"^rank=%s done final_loss=([0-9.e+-]+)$" % rank, text, re.M)
print("  rank %s: %d steps, loss %.6f -> %.6f" % (rank, len(losses), losses[0], losses[-1]))
assert len(losses) >= 10 and final and losses[-1] < losses[0] / 10, losses
PY
done
for rank in $(seq 1 $((world - 1))); do
  diff <(grep -oE 'step=[0-9]+ loss=.*' "$work/${pods[0]}.log") \
       <(grep -oE 'step=[0-9]+ loss=.*' "$work/${pods[$rank]}.log") >/dev/null \
    || fail "${pods[$rank]}'s losses differ from the chief's: the tasks did not share their gradients"
done
final=$(sed -n 's/^rank=0 done final_loss=//p' "$work/${pods[0]}.log")
echo "  final loss $final (every task); apply -> all Running ${t_running}s, -> Succeeded ${t_succeeded}s"

e2e_down
