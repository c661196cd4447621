#!/usr/bin/env bash
# PyTorchElasticTorchrunOnARealNodeRendezvousesEveryWorkerAndSucceeds (SPEC sections 4 and 5, issue
# 17), with real containers: a control plane of its own with one real node (KUBEDL_REAL_NODES=1),
# the PyTorchJob CRD, kubedl-reconciler for PyTorchJob as a process on this machine, and the
# train-pytorch image (tools/images/training.sh pytorch: Debian's python3-torch 1.13, CPU). It
# applies examples/training/pytorch/pytorchjob-elastic.yaml (3 Workers, no Master, elasticPolicy
# c10d 3:3, nprocPerNode 1, each `torchrun ... pytorch/train.py`) as a user would and shows that:
#   - each pod got the elastic env (PET_RDZV_ENDPOINT=<job>-worker-0:23456, PET_RDZV_BACKEND=c10d,
#     PET_NNODES=3:3, PET_MAX_RESTARTS=3, PET_NPROC_PER_NODE=1) and no MASTER_ADDR/RANK/WORLD_SIZE;
#   - torchrun reads them: its c10d rendezvous on worker 0 gathers the three agents, which start
#     one train.py each with ranks 0, 1, 2 of a world of 3 (torchrun chose the ranks and the
#     master); DDP over gloo trains one model: every rank logs all 40 steps, its loss going down
#     (the last below half the first), and a final loss;
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
ns=training-pytorch-elastic job=ddp-elastic

pt_up training-pytorch-elastic "$ns"

step "kubectl apply -f examples/training/pytorch/pytorchjob-elastic.yaml"
t0=$(now)
k -n "$ns" apply -f "$pt_examples/pytorchjob-elastic.yaml" >/dev/null
pt_wait_started "$job" 3 300
t_running=$(since "$t0")
echo "  all 3 pods' containers started $t_running s after kubectl apply"
wait_job pytorchjob "$job" Succeeded 300
t_succeeded=$(since "$t0")
echo "  Succeeded $t_succeeded s after kubectl apply"
job_conditions pytorchjob "$job" | sed 's/^/  /'

step "torchrun's env came from the reconciler; the rendezvous ranked every worker; all trained"
mapfile -t pods < <(pt_pods "$job")
[ "${pods[*]}" = "$job-worker-0 $job-worker-1 $job-worker-2" ] || fail "unexpected pods: ${pods[*]}"
want="PET_MAX_RESTARTS=3 PET_NNODES=3:3 PET_NPROC_PER_NODE=1 PET_RDZV_BACKEND=c10d PET_RDZV_ENDPOINT=$job-worker-0:23456"
for pod in "${pods[@]}"; do
  env=$(k -n "$ns" get pod "$pod" -o jsonpath='{range .spec.containers[?(@.name=="pytorch")].env[*]}{.name}={.value}{"\n"}{end}')
  got=$(grep -E '^PET_' <<<"$env" | sort | paste -sd' ')
  [ "$got" = "$want" ] || fail "$pod's PET_ env: '$got', want '$want'"
  ! grep -qE '^(MASTER_ADDR|MASTER_PORT|RANK|WORLD_SIZE)=' <<<"$env" || fail "$pod has a fixed rank or master without a Master"
done
logs=() ranks=""
for pod in "${pods[@]}"; do
  code=$(pt_wait_exited "$pod" 60)
  [ "$code" = 0 ] || fail "$pod exited with $code"
  k -n "$ns" logs "$pod" -c pytorch >"$work/$pod.log" || fail "kubectl logs $pod failed"
  logs+=("$work/$pod.log")
  # torchrun tees the process's stdout with the prefix [default0]: (local rank 0).
  start_line=$(grep -m1 -E '^\[default0\]:rank=[0-9] start mode=torchrun ' "$work/$pod.log") \
    || fail "$pod: no process started by torchrun"
  grep -q " world=3 host=$pod " <<<"$start_line" || fail "$pod: not in a world of 3 on its own host: $start_line"
  echo "  $pod: ${start_line#\[default0\]:}"
  ranks+=" $(sed -E 's/^\[default0\]:rank=([0-9]).*/\1/' <<<"$start_line")"
done
[ "$(tr ' ' '\n' <<<"$ranks" | grep . | sort | paste -sd' ')" = "0 1 2" ] || fail "ranks given by torchrun:$ranks"
pt_check_logs 3 "${logs[@]}"

echo "  kubectl apply -> all containers started: $t_running s, -> Succeeded: $t_succeeded s; final loss per rank: $pt_final_losses"
e2e_down
