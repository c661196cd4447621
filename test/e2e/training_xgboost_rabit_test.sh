#!/usr/bin/env bash
# XGBoostJobOnARealNodeTrainsOneModelOverRabitAndSucceeds (SPEC sections 4 and 5, issue 17), with
# real containers: a control plane of its own with one real node (KUBEDL_REAL_NODES=1), the
# XGBoostJob CRD, kubedl-reconciler for XGBoostJob as a process on this machine, and the
# train-xgboost image (tools/images/training.sh xgboost: Debian's XGBoost 1.7). It applies
# examples/training/xgboost/xgboostjob.yaml as a user would (kubectl -n NS apply -f) and shows that:
#   - the Master and both Workers run on the real node and got the env the Kubeflow XGBoost
#     examples read: MASTER_ADDR=<job>-master-0, MASTER_PORT=9999, WORLD_SIZE=3, RANK (0, 1, 2),
#     WORKER_ADDRS naming both workers, WORKER_PORT;
#   - the Master's rabit tracker listens on MASTER_PORT; every replica reaches it through the
#     Master's headless Service and joins rabit with the rank its RANK says (3 in all);
#   - they train one model together: every replica prints the same evaluation log loss at every
#     boosting round (allreduced over every replica's held-out data), it goes down from the first
#     round to the last, and every replica ends with the same model (the hash of its JSON dump);
#   - every pod exits 0 and the XGBoostJob ends Succeeded;
#   - tear-down leaves the machine as it was (real_node_lib.sh's e2e_down).
# It prints the seconds from `kubectl apply` to every pod Running and to Succeeded, the final
# loss, and the image's size.
# A machine that cannot run a real node (tools/real-node/can-run.sh says why), or one where another
# real node keeps running, skips the test with exit code 77; so does CI when the image is not
# cached (real_node_lib.sh's e2e_training_image).
# shellcheck source=real_node_lib.sh
source "$(dirname "$0")/real_node_lib.sh"
ns=training-xgboost job=xgb-dist kind=xgboostjob world=3 rounds=20
manifest=$repo/examples/training/xgboost/xgboostjob.yaml
pods=("$job-master-0" "$job-worker-0" "$job-worker-1")

e2e_extra_diagnostics() { k -n "$ns" get "$kind" "$job" -o jsonpath='{.status}' 2>/dev/null || true; echo; }

e2e_training_setup training-xgboost xgboost XGBoostJob "$ns"

e2e_apply_job "$manifest" "$job" "$world"
e2e_wait_succeeded "$kind" "$job"

step "every replica joined rabit with its RANK, and they trained one model"
for rank in $(seq 0 $((world - 1))); do
  pod=${pods[$rank]}
  for _ in $(seq 60); do
    [ -n "$(k -n "$ns" get pod "$pod" -o jsonpath='{.status.containerStatuses[0].state.terminated}')" ] && break
    sleep 0.5
  done
  [ "$(k -n "$ns" get pod "$pod" -o jsonpath='{.status.containerStatuses[0].state.terminated.exitCode}')" = 0 ] \
    || fail "$pod did not exit 0"
  k -n "$ns" logs "$pod" -c xgboost >"$work/$pod.log" || fail "kubectl logs $pod failed"
  { grep -E "^rank=$rank " "$work/$pod.log" | grep -v ' step=' | sed "s/^/  $pod: /"; } || true
  grep -q "^rank=$rank world_size=$world master=$job-master-0:9999 workers=$job-worker-0,$job-worker-1 worker_port=9999 host=$pod " \
    "$work/$pod.log" || fail "$pod did not get MASTER_ADDR/MASTER_PORT/WORLD_SIZE/RANK/WORKER_ADDRS/WORKER_PORT right"
  grep -q "^rank=$rank joined rabit as rank $rank of $world on $pod$" "$work/$pod.log" \
    || fail "$pod did not join rabit as rank $rank of $world"
  python3 - "$work/$pod.log" "$rank" "$rounds" <<'PY' || fail "$pod: the loss did not go down (log: $work/$pod.log)"
import re, sys
text, rank, rounds = open(sys.argv[1]).read(), sys.argv[2], int(sys.argv[3])
losses = [float(m.group(1)) for m in re.finditer(r"^rank=%s step=\d+ loss=([0-9.e+-]+)$" % rank, text, re.M)]
final = re.search(r"^rank=%s done final_loss=([0-9.e+-]+) " % rank, text, re.M)
print("  rank %s: %d rounds, eval loss %.6f -> %.6f" % (rank, len(losses), losses[0], losses[-1]))
assert len(losses) == rounds and final and losses[-1] < losses[0] * 0.7, losses
PY
done
grep -q "^rank=0 tracker listening on :9999 for $world workers$" "$work/${pods[0]}.log" \
  || fail "the Master did not start the tracker on MASTER_PORT"
grep -q "^rank=0 tracker: every worker shut down$" "$work/${pods[0]}.log" \
  || fail "the Master's tracker did not see every worker shut down"
for rank in $(seq 1 $((world - 1))); do
  diff <(grep -oE "^rank=0 step=[0-9]+ loss=.*" "$work/${pods[0]}.log" | cut -d' ' -f2-) \
       <(grep -oE "^rank=$rank step=[0-9]+ loss=.*" "$work/${pods[$rank]}.log" | cut -d' ' -f2-) >/dev/null \
    || fail "rank $rank's losses differ from rank 0's: the replicas did not train together"
done
hashes=$(for pod in "${pods[@]}"; do sed -n 's/.* model_sha256=//p' "$work/$pod.log"; done | sort -u)
[ "$(wc -l <<<"$hashes")" = 1 ] || fail "the replicas ended with different models: $hashes"
final=$(sed -nE 's/^rank=0 done final_loss=([^ ]+) .*/\1/p' "$work/${pods[0]}.log")
echo "  final loss $final (every replica), one model $hashes;" \
  "apply -> all Running ${t_running}s, -> Succeeded ${t_succeeded}s"

e2e_down
