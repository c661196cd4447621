#!/usr/bin/env bash
# TfJobParameterServerOnARealNodeTrainsOnEveryWorkerAndSucceeds (SPEC sections 4 and 5, issue 17),
# with real containers: a control plane of its own with one real node (KUBEDL_REAL_NODES=1), the
# TFJob CRD, kubedl-reconciler for TFJob as a process on this machine, and the train-tensorflow
# image (tools/images/training.sh tensorflow: PyPI tensorflow-cpu). It applies
# examples/training/tensorflow/tfjob-parameter-server.yaml as a user would (kubectl -n NS apply -f)
# and shows that:
#   - the Chief, the PS and both Workers start on the real node; the PS and Workers serve at the
#     addresses TF_CONFIG gives them; the Chief (ParameterServerStrategy's coordinator, reading the
#     same TF_CONFIG) places the variables on the PS (`/job:ps/...`);
#   - steps ran on both workers: each worker's log has steps it ran, and the host names the steps
#     returned (each worker's /etc/hostname, its pod name) name both worker pods;
#   - the loss the Chief prints goes down; the Chief exits 0 and the TFJob ends Succeeded, and
#     cleanPodPolicy Running then deletes the PS and Worker pods (servers that never exit);
#   - tear-down leaves the machine as it was (real_node_lib.sh's e2e_down).
# The servers' logs are followed from the time they run (`kubectl logs -f`), since the job's
# cleanPodPolicy deletes those pods as soon as it succeeds.
# It prints the seconds from `kubectl apply` to every pod Running and to Succeeded, the final
# loss, and the image's size.
# A machine that cannot run a real node (tools/real-node/can-run.sh says why), or one where another
# real node keeps running, skips the test with exit code 77; so does CI when the image is not
# cached (real_node_lib.sh's e2e_training_image).
# shellcheck source=real_node_lib.sh
source "$(dirname "$0")/real_node_lib.sh"
ns=training-tf-ps job=tf-parameter-server kind=tfjob
chief=$job-chief-0
servers=("$job-ps-0" "$job-worker-0" "$job-worker-1")
manifest=$repo/examples/training/tensorflow/tfjob-parameter-server.yaml
follow_pids=()

e2e_extra_diagnostics() {
  local p
  k -n "$ns" get "$kind" "$job" -o jsonpath='{.status}' 2>/dev/null || true; echo
  for p in "${servers[@]}"; do echo "--- $p (followed)"; tail -n 20 "$work/$p.log" 2>/dev/null || true; done
}
e2e_extra_cleanup() {
  local pid
  for pid in "${follow_pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  follow_pids=()
}

e2e_training_setup training-tf-ps tensorflow TFJob "$ns"

e2e_apply_job "$manifest" "$job" $((1 + ${#servers[@]}))
for p in "${servers[@]}"; do
  k -n "$ns" logs -f "$p" -c tensorflow >"$work/$p.log" 2>&1 &
  follow_pids+=($!)
done
e2e_wait_succeeded "$kind" "$job"

step "cleanPodPolicy Running deletes the servers; the chief stays"
for _ in $(seq 120); do
  [ "$(k -n "$ns" get pods -l "training.kubeflow.org/job-name=$job" -o name | wc -l)" = 1 ] && break; sleep 0.5
done
[ "$(k -n "$ns" get pods -l "training.kubeflow.org/job-name=$job" -o name)" = "pod/$chief" ] \
  || fail "the servers were not deleted: $(k -n "$ns" get pods -o name | tr '\n' ' ')"
# The followed streams end with their pods.
for pid in "${follow_pids[@]}"; do
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
done
follow_pids=()
echo "  left: $(k -n "$ns" get pods -o jsonpath='{range .items[*]}{.metadata.name}={.status.phase} {end}')"

step "the variables lived on the PS, both workers ran steps, the loss went down"
[ "$(k -n "$ns" get pod "$chief" -o jsonpath='{.status.containerStatuses[0].state.terminated.exitCode}')" = 0 ] \
  || fail "$chief did not exit 0"
k -n "$ns" logs "$chief" -c tensorflow >"$work/$chief.log" || fail "kubectl logs $chief failed"
{ grep -E '^rank=0 ' "$work/$chief.log" | grep -v ' step=' | sed "s/^/  $chief: /"; } || true
grep -q '^rank=0 coordinator workers=2 ps=1 ' "$work/$chief.log" || fail "the chief's TF_CONFIG does not list 2 workers and 1 PS"
grep -q '^rank=0 variables on /job:ps/replica:0/task:0/' "$work/$chief.log" || fail "the variables are not on the PS"
grep -q "^rank=0 workers_seen=$job-worker-0,$job-worker-1$" "$work/$chief.log" \
  || fail "the steps did not run on both worker pods"
grep -q "^task=ps:0 serving at $job-ps-0.$ns.svc:2222 " "$work/$job-ps-0.log" \
  || fail "the PS did not serve at its TF_CONFIG address $job-ps-0.$ns.svc:2222"
for i in 0 1; do
  p=$job-worker-$i
  grep -q "^task=worker:$i serving at $p.$ns.svc:2222 " "$work/$p.log" \
    || fail "$p did not serve at its TF_CONFIG address $p.$ns.svc:2222"
  n=$(grep -c '^ran step loss=' "$work/$p.log" || true)
  echo "  $p ran $n steps"
  [ "$n" -gt 0 ] || fail "$p ran no step"
done
python3 - "$work/$chief.log" <<'PY' || fail "the loss did not go down (log: $work/$chief.log)"
import re, sys
text = open(sys.argv[1]).read()
losses = [float(m.group(1)) for m in re.finditer(r"^rank=0 step=\d+ loss=([0-9.e+-]+)$", text, re.M)]
final = re.search(r"^rank=0 done final_loss=([0-9.e+-]+)$", text, re.M)
print("  chief: %d rounds, loss %.6f -> %.6f" % (len(losses), losses[0], losses[-1]))
assert len(losses) >= 10 and final and losses[-1] < losses[0] / 10, losses
PY
final=$(sed -n 's/^rank=0 done final_loss=//p' "$work/$chief.log")
echo "  final loss $final; apply -> all Running ${t_running}s, -> Succeeded ${t_succeeded}s"

e2e_down
