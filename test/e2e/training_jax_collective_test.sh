#!/usr/bin/env bash
# JaxJobOnARealNodeTrainsAcrossEveryProcessAndSucceeds (SPEC section 12, issue 17), with real
# containers: a control plane of its own with one real node (KUBEDL_REAL_NODES=1), the JAXJob CRD,
# kubedl-reconciler for JAXJob as a process on this machine, and the train-jax image
# (tools/images/training.sh jax: PyPI jax/jaxlib for CPU). It applies
# examples/training/jax/jaxjob.yaml as a user would (kubectl -n NS apply -f) and shows that:
#   - both worker pods start on the real node; jax.distributed.initialize in each joins the
#     coordinator named by COORDINATOR_ADDRESS/COORDINATOR_PORT (worker 0's headless Service) with
#     NUM_PROCESSES=2 and its own PROCESS_ID, and JAX sees 2 processes and 2 devices;
#   - an allreduce (lax.psum over the CPU backend's gloo collectives) answers from every process
#     (`ranks_seen=0,1` in both logs), and every step's loss, averaged over both processes, is the
#     same in both logs and goes down from the first step to the last;
#   - every pod exits 0 and the JAXJob ends Succeeded;
#   - tear-down leaves the machine as it was (real_node_lib.sh's e2e_down).
# It prints the seconds from `kubectl apply` to every pod Running and to Succeeded, the final
# loss, and the image's size.
# A machine that cannot run a real node (tools/real-node/can-run.sh says why), or one where another
# real node keeps running, skips the test with exit code 77; so does CI when the image is not
# cached (real_node_lib.sh's e2e_training_image).
# shellcheck source=real_node_lib.sh
source "$(dirname "$0")/real_node_lib.sh"
ns=training-jax job=jax-data-parallel kind=jaxjob workers=2
manifest=$repo/examples/training/jax/jaxjob.yaml

e2e_extra_diagnostics() { k -n "$ns" get "$kind" "$job" -o jsonpath='{.status}' 2>/dev/null || true; echo; }

e2e_training_setup training-jax jax JAXJob "$ns"

e2e_apply_job "$manifest" "$job" "$workers"
e2e_wait_succeeded "$kind" "$job"

step "every process took part and the loss went down"
for i in $(seq 0 $((workers - 1))); do
  pod=$job-worker-$i
  [ "$(k -n "$ns" get pod "$pod" -o jsonpath='{.status.containerStatuses[0].state.terminated.exitCode}')" = 0 ] \
    || fail "$pod did not exit 0"
  k -n "$ns" logs "$pod" -c jax >"$work/$pod.log" || fail "kubectl logs $pod failed"
  { grep -E "^rank=$i " "$work/$pod.log" | grep -v ' step=' | sed "s/^/  $pod: /"; } || true
  grep -q "^rank=$i world=$workers coordinator=$job-worker-0:6666 " "$work/$pod.log" \
    || fail "$pod did not get the coordinator $job-worker-0:6666 and NUM_PROCESSES=$workers"
  grep -q "^rank=$i process_index=$i devices=$workers " "$work/$pod.log" \
    || fail "$pod: JAX does not see $workers processes with this one as $i"
  grep -q "^rank=$i ranks_seen=$(seq -s, 0 $((workers - 1)))$" "$work/$pod.log" \
    || fail "$pod: the allreduce did not answer from every process"
  python3 - "$work/$pod.log" "$i" <<'PY' || fail "$pod: the loss did not go down (log: $work/$pod.log)"
import re, sys
rank = sys.argv[2]
losses = [float(m.group(1)) for m in re.finditer(r"^rank=%s step=\d+ loss=([0-9.e+-]+)$" % rank,
                                                   open(sys.argv[1]).read(), re.M)]
final = re.search(r"^rank=%s done final_loss=([0-9.e+-]+)$" % rank, open(sys.argv[1]).read(), re.M)
print("  rank %s: %d steps, loss %.6f -> %.6f" % (rank, len(losses), losses[0], losses[-1]))
assert len(losses) >= 10 and final and losses[-1] < losses[0] / 10, losses
PY
done
# A data-parallel step makes one global loss: every process prints the same sequence.
for i in $(seq 1 $((workers - 1))); do
  diff <(grep -oE 'step=[0-9]+ loss=.*' "$work/$job-worker-0.log") \
       <(grep -oE 'step=[0-9]+ loss=.*' "$work/$job-worker-$i.log") >/dev/null \
    || fail "worker $i's losses differ from worker 0's: the processes did not share their gradients"
done
final=$(sed -n 's/^rank=0 done final_loss=//p' "$work/$job-worker-0.log")
echo "  final loss $final (every process); apply -> all Running ${t_running}s, -> Succeeded ${t_succeeded}s"

e2e_down
