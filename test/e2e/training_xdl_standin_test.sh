#!/usr/bin/env bash
# XdlJobOnARealNodeGivesEveryReplicaTheXdlContractAndReachablePeers (SPEC sections 4 and 5, issue
# 17), with real containers. XDL itself cannot be installed, so the job runs a STAND-IN FOR XDL
# (examples/training/xdl/standin.py), which says so in its output. A control plane of its own with
# one real node (KUBEDL_REAL_NODES=1), the XDLJob CRD, kubedl-reconciler for XDLJob as a process on
# this machine, and the train-xdl image (tools/images/training.sh xdl: Debian's python3). It applies
# examples/training/xdl/xdljob.yaml (1 PS, 1 Scheduler, 2 Workers) as a user would
# (kubectl -n NS apply -f) and shows that:
#   - every replica runs on the real node with TASK_NAME/TASK_INDEX naming its own type and index,
#     XDL_CONFIG listing every replica at <job>-<type>-<i>.<ns>.svc:2222 with its own task (and no
#     "environment"), and ZK_ADDR = the manifest's value + "/<the job's uid>";
#   - every replica answers on its port through its headless Service, and each reached all 3 others
#     and checked the answer came from that very replica; all 4 met at the Scheduler's barrier;
#   - the workers trained against the PS (every push reached it: updates = workers x steps), and
#     each worker's loss went down from the first step to the last;
#   - every pod exits 0 and the XDLJob ends Succeeded;
#   - tear-down leaves the machine as it was (real_node_lib.sh's e2e_down).
# It prints the seconds from `kubectl apply` to every pod Running and to Succeeded, the final
# loss, and the image's size.
# A machine that cannot run a real node (tools/real-node/can-run.sh says why), or one where another
# real node keeps running, skips the test with exit code 77; so does CI when the image is not
# cached (real_node_lib.sh's e2e_training_image).
# shellcheck source=real_node_lib.sh
source "$(dirname "$0")/real_node_lib.sh"
ns=training-xdl job=xdl-standin kind=xdljob steps=40 zk_base=zfs://zookeeper:2181/xdl-standin
manifest=$repo/examples/training/xdl/xdljob.yaml
replicas=(ps-0 scheduler-0 worker-0 worker-1)
workers=(worker-0 worker-1)

e2e_extra_diagnostics() { k -n "$ns" get "$kind" "$job" -o jsonpath='{.status}' 2>/dev/null || true; echo; }

e2e_training_setup training-xdl xdl XDLJob "$ns"

e2e_apply_job "$manifest" "$job" ${#replicas[@]}
e2e_wait_succeeded "$kind" "$job"

step "every replica got the XDL contract and reached every peer; the workers trained against the PS"
uid=$(k -n "$ns" get "$kind" "$job" -o jsonpath='{.metadata.uid}')
for r in "${replicas[@]}"; do
  pod=$job-$r type=${r%-*} index=${r##*-}
  for _ in $(seq 60); do
    [ -n "$(k -n "$ns" get pod "$pod" -o jsonpath='{.status.containerStatuses[0].state.terminated}')" ] && break
    sleep 0.5
  done
  [ "$(k -n "$ns" get pod "$pod" -o jsonpath='{.status.containerStatuses[0].state.terminated.exitCode}')" = 0 ] \
    || fail "$pod did not exit 0"
  k -n "$ns" logs "$pod" -c xdl >"$work/$pod.log" || fail "kubectl logs $pod failed"
  { grep -v -E '^(rank=[a-z]+-[0-9]+ step=|xdl-standin: (THIS|cluster|peer) )' "$work/$pod.log" | sed "s/^/  $pod: /"; } || true
  grep -q '^xdl-standin: THIS IS A STAND-IN FOR XDL' "$work/$pod.log" || fail "$pod does not say it is a stand-in"
  grep -q "^xdl-standin: task=$type index=$index host=$pod address=$pod.$ns.svc:2222 zk_addr=$zk_base/$uid zk_uid=$uid " \
    "$work/$pod.log" || fail "$pod: TASK_NAME/TASK_INDEX/XDL_CONFIG/ZK_ADDR are not $type/$index/$pod.$ns.svc:2222/$zk_base/$uid"
  for peer in "${replicas[@]}"; do
    [ "$peer" = "$r" ] && continue
    grep -q "^xdl-standin: peer $peer at $job-$peer.$ns.svc:2222 answered as $peer (host $job-$peer)$" "$work/$pod.log" \
      || fail "$pod did not reach $peer at $job-$peer.$ns.svc:2222"
  done
  grep -q "^xdl-standin: barrier passed: $(IFS=,; echo "${replicas[*]}")$" "$work/$pod.log" \
    || fail "$pod did not pass the barrier with every replica"
done
for r in "${workers[@]}"; do
  python3 - "$work/$job-$r.log" "$r" "$steps" <<'PY' || fail "$r: the loss did not go down (log: $work/$job-$r.log)"
import re, sys
text, rank, steps = open(sys.argv[1]).read(), sys.argv[2], int(sys.argv[3])
losses = [float(m.group(1)) for m in re.finditer(r"^rank=%s step=\d+ loss=([0-9.e+-]+)$" % rank, text, re.M)]
final = re.search(r"^rank=%s done final_loss=([0-9.e+-]+)$" % rank, text, re.M)
print("  %s: %d steps, loss %.6f -> %.6f" % (rank, len(losses), losses[0], losses[-1]))
assert len(losses) == steps and final and losses[-1] < losses[0] / 10, losses
PY
done
grep -q "^rank=ps-0 done updates=$((${#workers[@]} * steps)) " "$work/$job-ps-0.log" \
  || fail "the PS did not get $((${#workers[@]} * steps)) updates"
final=$(for r in "${workers[@]}"; do sed -n "s/^rank=$r done final_loss=//p" "$work/$job-$r.log"; done | tr '\n' ' ')
echo "  final loss (worker-0 worker-1) $final; apply -> all Running ${t_running}s, -> Succeeded ${t_succeeded}s"

e2e_down
