#!/usr/bin/env bash
# MpiJobOnARealNodeAllreducesThroughMpirunInTheWorkersAndSucceeds (SPEC sections 9, 10, 13,
# issue 17), with real containers: a control plane of its own with one real node
# (KUBEDL_REAL_NODES=1), the MPIJob CRD, kubedl-reconciler for MPIJob as a process on this machine
# with --mpi-kubectl-delivery-image=localhost/kubedl/kubectl-delivery:local (tools/images/
# kubectl-delivery.sh), and the train-mpi image (tools/images/training.sh mpi: Debian's Open MPI,
# mpi4py and NumPy). It applies examples/training/mpi/mpijob.yaml as a user would
# (kubectl -n NS apply -f) and shows that:
#   - the launcher and both workers run on the real node; the launcher's mpirun reads the
#     reconciler's hostfile and starts orted in each worker pod through /etc/mpi/kubexec.sh
#     (`kubectl exec`, its `set -x` trace in the launcher's log names both workers);
#   - both ranks run inside the worker pods (each prints its host name: <job>-worker-0 and -1,
#     never the launcher), pass an allreduce check, and train together: both print the same
#     allreduced loss at every step, and it goes down from the first step to the last;
#   - the launcher exits 0, the MPIJob ends Succeeded, and cleanPodPolicy Running removes the
#     idle workers;
#   - tear-down leaves the machine as it was (real_node_lib.sh's e2e_down).
# It prints the seconds from `kubectl apply` to every pod Running and to Succeeded, the final
# loss, and the image's size.
# A machine that cannot run a real node (tools/real-node/can-run.sh says why), or one where another
# real node keeps running, skips the test with exit code 77; so does CI when the image is not
# cached (real_node_lib.sh's e2e_training_image).
# shellcheck source=real_node_lib.sh
source "$(dirname "$0")/real_node_lib.sh"
ns=training-mpi job=mpi-allreduce kind=mpijob workers=2 steps=30
manifest=$repo/examples/training/mpi/mpijob.yaml
delivery_image=localhost/kubedl/kubectl-delivery:local

e2e_extra_diagnostics() {
  k -n "$ns" get "$kind" "$job" -o jsonpath='{.status}' 2>/dev/null || true; echo
  k -n "$ns" logs "$job-launcher" --all-containers --prefix 2>/dev/null | tail -60 || true
}

bash "$repo/tools/images/kubectl-delivery.sh" "$build/images" local
e2e_image "$build/images/kubectl-delivery.tar"
e2e_training_setup training-mpi mpi MPIJob "$ns" --mpi-kubectl-delivery-image="$delivery_image"

e2e_apply_job "$manifest" "$job" $((workers + 1))
e2e_wait_succeeded "$kind" "$job"

step "mpirun ran one rank in each worker pod, and the allreduced loss went down"
launcher=$job-launcher
[ "$(k -n "$ns" get pod "$launcher" -o jsonpath='{.status.containerStatuses[0].state.terminated.exitCode}')" = 0 ] \
  || fail "the launcher did not exit 0"
k -n "$ns" logs "$launcher" -c mpi >"$work/launcher.log" || fail "kubectl logs $launcher failed"
{ grep -E '^rank=[0-9]+ ' "$work/launcher.log" | grep -v ' step=' | sed 's/^/  launcher: /'; } || true
# kubexec.sh runs with set -x, and dash writes its trace one word per write(): mpirun starts
# both workers' kubexec.sh at once, so their trace lines interleave word by word. Look for
# the words, each of which reaches the log whole, not for whole lines.
for i in $(seq 0 $((workers - 1))); do
  grep -qF "POD_NAME=$job-worker-$i" "$work/launcher.log" \
    || fail "mpirun did not run kubexec.sh for $job-worker-$i"
done
execs=$({ grep -oF "/opt/kube/kubectl" "$work/launcher.log" || true; } | wc -l)
orteds=$({ grep -oF "orted -mca ess" "$work/launcher.log" || true; } | wc -l)
[ "$execs" -ge "$workers" ] && [ "$orteds" -ge "$workers" ] \
  || fail "kubexec.sh ran kubectl exec $execs time(s) with an orted command $orteds time(s), want $workers"
echo "  kubexec.sh: kubectl exec of orted $orteds time(s), once per worker pod"
hosts=$(sed -nE 's/^rank=[0-9]+ size=2 host=([^ ]+) .*/\1/p' "$work/launcher.log" | sort | tr '\n' ' ')
[ "$hosts" = "$(for i in $(seq 0 $((workers - 1))); do printf '%s ' "$job-worker-$i"; done)" ] \
  || fail "the ranks ran on '$hosts', want one in each worker pod"
for r in $(seq 0 $((workers - 1))); do
  grep -q "^rank=$r allreduce ok hosts=" "$work/launcher.log" || fail "rank $r: the allreduce check failed"
  python3 - "$work/launcher.log" "$r" "$steps" <<'PY' || fail "rank $r: the loss did not go down (log: $work/launcher.log)"
import re, sys
text, rank, steps = open(sys.argv[1]).read(), sys.argv[2], int(sys.argv[3])
losses = [float(m.group(1)) for m in re.finditer(r"^rank=%s step=\d+ loss=([0-9.e+-]+)$" % rank, text, re.M)]
final = re.search(r"^rank=%s done final_loss=([0-9.e+-]+) " % rank, text, re.M)
print("  rank %s: %d steps, loss %.6f -> %.6f" % (rank, len(losses), losses[0], losses[-1]))
assert len(losses) == steps and final and losses[-1] < losses[0] * 0.6, losses
PY
done
# One allreduced loss per step: every rank prints the same sequence.
for r in $(seq 1 $((workers - 1))); do
  diff <(grep -oE "^rank=0 step=[0-9]+ loss=.*" "$work/launcher.log" | cut -d' ' -f2-) \
       <(grep -oE "^rank=$r step=[0-9]+ loss=.*" "$work/launcher.log" | cut -d' ' -f2-) >/dev/null \
    || fail "rank $r's losses differ from rank 0's: the ranks did not share their gradients"
done
# cleanPodPolicy Running: the idle workers go once the job is done.
for _ in $(seq 120); do
  [ -z "$(k -n "$ns" get pods -l training.kubeflow.org/replica-type=worker -o name)" ] && break; sleep 0.5
done
[ -z "$(k -n "$ns" get pods -l training.kubeflow.org/replica-type=worker -o name)" ] \
  || fail "cleanPodPolicy Running left the workers"
final=$(sed -nE 's/^rank=0 done final_loss=([^ ]+) .*/\1/p' "$work/launcher.log")
echo "  final loss $final (every rank); apply -> all Running ${t_running}s, -> Succeeded ${t_succeeded}s"

e2e_down
