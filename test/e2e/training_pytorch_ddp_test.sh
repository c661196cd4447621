#!/usr/bin/env bash
# PyTorchDdpOnARealNodeTrainsWithEveryRankAndSucceeds (SPEC sections 4 and 5, issue 17), with real
# containers: a control plane of its own with one real node (KUBEDL_REAL_NODES=1), the PyTorchJob
# CRD, kubedl-reconciler for PyTorchJob as a process on this machine, and the train-pytorch image
# (tools/images/training.sh pytorch: Debian's python3-torch 1.13, CPU). It applies
# examples/training/pytorch/pytorchjob.yaml (Master + 2 Workers, each `python3 pytorch/train.py`)
# as a user would and shows that:
#   - the three processes find each other only through the env the reconciler set
#     (MASTER_ADDR=<job>-master-0 resolved through the master's headless Service, MASTER_PORT,
#     RANK, WORLD_SIZE=3) and train one model with DDP over gloo: every rank 0, 1, 2 logs all 40
#     steps, its loss going down (the last below half the first), and a final loss;
#   - each worker's init container init-pytorch (nslookup of the master's name, in busybox 1.35) exited 0;
#   - every pod exits 0 and the PyTorchJob ends Succeeded;
#   - tear-down leaves the machine as it was (real_node_lib.sh's e2e_down).
# It prints the seconds from `kubectl apply` to every pod's container started and to Succeeded,
# each rank's final loss, and the image's size.
# A machine that cannot run a real node (tools/real-node/can-run.sh says why), or one where another
# real node keeps running, skips the test with exit code 77; so does CI when the image is not
# cached (real_node_lib.sh's e2e_training_image).
# shellcheck source=real_node_lib.sh
source "$(dirname "$0")/real_node_lib.sh"
# shellcheck source=training_pytorch_lib.sh
source "$(dirname "$0")/training_pytorch_lib.sh"
ns=training-pytorch job=ddp

pt_up training-pytorch-ddp "$ns"

step "kubectl apply -f examples/training/pytorch/pytorchjob.yaml"
t0=$(now)
k -n "$ns" apply -f "$pt_examples/pytorchjob.yaml" >/dev/null
pt_wait_started "$job" 3 300
t_running=$(since "$t0")
echo "  all 3 pods' containers started $t_running s after kubectl apply"
wait_job pytorchjob "$job" Succeeded 300
t_succeeded=$(since "$t0")
echo "  Succeeded $t_succeeded s after kubectl apply"
job_conditions pytorchjob "$job" | sed 's/^/  /'

step "every rank trained the same model to the end, its loss going down"
mapfile -t pods < <(pt_pods "$job")
[ "${pods[*]}" = "$job-master-0 $job-worker-0 $job-worker-1" ] || fail "unexpected pods: ${pods[*]}"
logs=()
for pod in "${pods[@]}"; do
  code=$(pt_wait_exited "$pod" 60)
  [ "$code" = 0 ] || fail "$pod exited with $code"
  k -n "$ns" logs "$pod" -c pytorch >"$work/$pod.log" || fail "kubectl logs $pod failed"
  logs+=("$work/$pod.log")
done
for pod in "$job-worker-0" "$job-worker-1"; do
  [ "$(k -n "$ns" get pod "$pod" -o jsonpath='{.status.initContainerStatuses[?(@.name=="init-pytorch")].state.terminated.exitCode}')" = 0 ] \
    || fail "$pod's init container init-pytorch did not exit 0"
done
# Rank, world and master of each process: from the env the reconciler set, seen by train.py.
for i in 0 1 2; do
  pod=${pods[$i]}
  grep -q "^rank=$i start mode=plain world=3 host=$pod master=$job-master-0:23456 incarnation=1$" "$work/$pod.log" \
    || fail "$pod is not rank $i of 3 with master $job-master-0:23456: $(grep -m1 start "$work/$pod.log")"
done
pt_check_logs 3 "${logs[@]}"

echo "  kubectl apply -> all containers started: $t_running s, -> Succeeded: $t_succeeded s; final loss per rank: $pt_final_losses"
e2e_down
