#!/usr/bin/env bash
# MpiLauncherWaitsOnARealNodeUntilEveryWorkerRuns (SPEC section 10, decision 13.4), with real
# containers: a control plane of its own with one real node (KUBEDL_REAL_NODES=1), the MPIJob CRD,
# kubedl-reconciler as a process on this machine with
# --mpi-kubectl-delivery-image=localhost/kubedl/kubectl-delivery:local (tools/images/
# kubectl-delivery.sh, imported into the node's containerd), and an MPIJob whose launcher has
# restartPolicy Never and whose two workers are held back by an init container of their own that
# waits for a file the test writes with `kubectl exec`. Then:
#   - while no worker, and then while only worker 0, runs, the launcher stays Pending in its init
#     container kubectl-delivery (running) and its main container has not started;
#   - once both workers run, the launcher's main container starts (not before the last worker's
#     container started), sees every worker Running, and `/etc/mpi/kubexec.sh <job>-worker-0
#     hostname` (kubectl, copied by the init container, exec through the job's Role) prints the
#     worker's host name;
#   - the launcher exits 0 and the MPIJob becomes Succeeded;
#   - tear-down leaves the machine as it was: no process, guard rule, KUBE- chain, bridge, cgroup or
#     mount of the cluster, ip_forward back to its value.
#   mpi_launcher_on_real_node_test.sh RECONCILER_BINARY
# A machine that cannot run a real node (tools/real-node/can-run.sh says why), or one where another
# real node keeps running, skips the test with exit code 77.
# shellcheck source=real_node_lib.sh
source "$(dirname "$0")/real_node_lib.sh"
[ -z "${1:-}" ] || reconciler_bin=$1
ns=mpi-e2e job=mpi-wait
delivery_image=localhost/kubedl/kubectl-delivery:local
shell_image=localhost/kubedl/busybox-static:local
e2e_extra_diagnostics() {
  k -n "$ns" get pod "$job-launcher" -o jsonpath='{.status}' 2>/dev/null || true; echo
  k -n "$ns" get mpijob "$job" -o jsonpath='{.status}' 2>/dev/null || true; echo
}

e2e_init mpi
step "images, a control plane with a real node, the MPIJob CRD, the reconciler"
start=$SECONDS
bash "$repo/tools/images/kubectl-delivery.sh" "$build/images" local
e2e_image "$build/images/kubectl-delivery.tar"
e2e_image "$build/images/busybox-static.tar"
e2e_up
e2e_crds MPIJob
e2e_namespace "$ns"
e2e_reconciler MPIJob --mpi-kubectl-delivery-image="$delivery_image"
echo "  ready in $((SECONDS - start)) s (node $REAL_NODE at $NODE_IP)"

step "an MPIJob whose workers are held back"
# Each worker's init container `hold` waits for /tmp/go, which the test writes with kubectl exec.
# The launcher prints what it sees when it starts, then runs `hostname` on worker 0 the way mpirun
# does (kubexec.sh), and exits 0.
k -n "$ns" apply -f - >/dev/null <<YAML
apiVersion: kubeflow.org/v1
kind: MPIJob
metadata: {name: $job}
spec:
  slotsPerWorker: 1
  runPolicy: {cleanPodPolicy: Running}
  mpiReplicaSpecs:
    Launcher:
      replicas: 1
      restartPolicy: Never
      template:
        spec:
          nodeSelector: {kubedl.io/real-node: "true"}
          containers:
          - name: mpi
            image: $shell_image
            imagePullPolicy: Never
            command: [/bin/sh, -c]
            args:
            - |
              set -e
              phases=""
              for h in \$(cut -d' ' -f1 /etc/mpi/hostfile); do
                phases="\$phases \$h=\$(/opt/kube/kubectl get pod \$h -o jsonpath='{.status.phase}')"
              done
              echo "launcher: workers at start:\$phases"
              out=\$(/etc/mpi/kubexec.sh $job-worker-0 hostname)
              echo "launcher: kubexec.sh $job-worker-0 hostname -> \$out"
              [ "\$out" = $job-worker-0 ]
              echo "launcher: done on \$(hostname)"
    Worker:
      replicas: 2
      restartPolicy: Never
      template:
        spec:
          nodeSelector: {kubedl.io/real-node: "true"}
          # sleep as pid 1 ignores SIGTERM: no need to wait 30 s for the kill after the job ends.
          terminationGracePeriodSeconds: 1
          initContainers:
          - name: hold
            image: $shell_image
            imagePullPolicy: Never
            command: [/bin/sh, -c, 'until [ -f /tmp/go ]; do sleep 0.2; done']
          containers:
          - name: mpi
            image: $shell_image
            imagePullPolicy: Never
YAML

pod_field() { k -n "$ns" get pod "$1" -o jsonpath="$2" 2>/dev/null || true; }
launcher=$job-launcher
# launcher_state: "<phase> <kubectl-delivery state> <main container state>" (state = the key of
# .state: waiting, running, terminated; "-" when absent).
launcher_state() {
  local s
  s=$(pod_field "$launcher" '{.status.phase}|{.status.initContainerStatuses[?(@.name=="kubectl-delivery")].state}|{.status.containerStatuses[0].state}')
  python3 -c '
import json, sys
phase, init, main = (sys.argv[1].split("|") + ["", ""])[:3]
key = lambda s: next(iter(json.loads(s)), "-") if s else "-"
print(phase or "-", key(init), key(main))' "$s"
}
# held SECONDS WHY: the launcher stays Pending with kubectl-delivery running and its main
# container not started, checked every half second.
held() {
  local until=$((SECONDS + $1)) state
  while [ $SECONDS -lt $until ]; do
    state=$(launcher_state)
    [ "$state" = "Pending running waiting" ] || fail "$2: the launcher is '$state', want 'Pending running waiting'"
    sleep 0.5
  done
  echo "  $2: launcher '$state' for $1 s"
}
worker_phases() { k -n "$ns" get pods -l training.kubeflow.org/replica-type=worker \
  -o jsonpath='{range .items[*]}{.metadata.name}={.status.phase} {end}'; }

start=$SECONDS
for _ in $(seq 240); do
  [ "$(launcher_state)" = "Pending running waiting" ] && break; sleep 0.5
done
[ "$(launcher_state)" = "Pending running waiting" ] \
  || fail "the launcher did not reach its init container kubectl-delivery: '$(launcher_state)'"
echo "  launcher in kubectl-delivery $((SECONDS - start)) s after the job was made; workers: $(worker_phases)"
image=$(pod_field "$launcher" '{.spec.initContainers[?(@.name=="kubectl-delivery")].image}')
[ "$image" = "$delivery_image" ] || fail "kubectl-delivery runs image '$image', want $delivery_image"
script=$(pod_field "$launcher" '{.spec.initContainers[?(@.name=="kubectl-delivery")].command[2]}')
echo "  kubectl-delivery: $script"
grep -q "for h in $job-worker-0 $job-worker-1;" <<<"$script" || fail "kubectl-delivery does not wait for both workers: $script"
for i in 0 1; do
  for _ in $(seq 120); do
    [ -n "$(pod_field "$job-worker-$i" '{.status.initContainerStatuses[?(@.name=="hold")].state.running}')" ] && break
    sleep 0.5
  done
  [ "$(pod_field "$job-worker-$i" '{.status.phase}')" = Pending ] \
    && [ -n "$(pod_field "$job-worker-$i" '{.status.initContainerStatuses[?(@.name=="hold")].state.running}')" ] \
    || fail "worker $i is not held in its init container: $(pod_field "$job-worker-$i" '{.status}')"
done
held 8 "no worker runs"

step "worker 0 runs, worker 1 is still held"
k -n "$ns" exec "$job-worker-0" -c hold -- touch /tmp/go
k -n "$ns" wait --for=jsonpath='{.status.phase}'=Running "pod/$job-worker-0" --timeout=60s >/dev/null \
  || fail "worker 0 did not run after its release"
[ "$(pod_field "$job-worker-1" '{.status.phase}')" = Pending ] || fail "worker 1 is not Pending"
echo "  workers: $(worker_phases)"
held 8 "only worker 0 runs"

step "worker 1 runs: the launcher's main container starts"
released=$SECONDS
k -n "$ns" exec "$job-worker-1" -c hold -- touch /tmp/go
k -n "$ns" wait --for=jsonpath='{.status.phase}'=Running "pod/$job-worker-1" --timeout=60s >/dev/null \
  || fail "worker 1 did not run after its release"
echo "  workers: $(worker_phases)"
k -n "$ns" wait --for=jsonpath='{.status.phase}'=Succeeded "pod/$launcher" --timeout=120s >/dev/null \
  || fail "the launcher did not succeed: '$(launcher_state)'"
echo "  launcher Succeeded $((SECONDS - released)) s after worker 1 was released"
delivery_exit=$(pod_field "$launcher" '{.status.initContainerStatuses[?(@.name=="kubectl-delivery")].state.terminated.exitCode}')
delivery_end=$(pod_field "$launcher" '{.status.initContainerStatuses[?(@.name=="kubectl-delivery")].state.terminated.finishedAt}')
main_start=$(pod_field "$launcher" '{.status.containerStatuses[0].state.terminated.startedAt}')
main_exit=$(pod_field "$launcher" '{.status.containerStatuses[0].state.terminated.exitCode}')
worker1_start=$(pod_field "$job-worker-1" '{.status.containerStatuses[0].state.running.startedAt}')
echo "  worker 1 started $worker1_start; kubectl-delivery exited $delivery_exit at $delivery_end;" \
  "launcher main started $main_start, exited $main_exit"
[ "$delivery_exit" = 0 ] || fail "kubectl-delivery exited $delivery_exit"
[ "$main_exit" = 0 ] || fail "the launcher's main container exited $main_exit"
# RFC 3339 UTC timestamps of one clock compare as strings.
[[ ! $main_start < $worker1_start ]] || fail "the launcher started ($main_start) before worker 1 ($worker1_start)"
restarts=$(pod_field "$launcher" '{.status.containerStatuses[0].restartCount}')
[ "$restarts" = 0 ] || fail "the launcher restarted $restarts times"
k -n "$ns" logs "$launcher" -c mpi > "$work/launcher.log" || fail "kubectl logs of the launcher failed"
sed 's/^/  | /' "$work/launcher.log"
grep -q "^launcher: workers at start: $job-worker-0=Running $job-worker-1=Running$" "$work/launcher.log" \
  || fail "the launcher did not see every worker Running when it started"
grep -q "^launcher: kubexec.sh $job-worker-0 hostname -> $job-worker-0$" "$work/launcher.log" \
  || fail "kubexec.sh did not print worker 0's host name"
grep -q "exec $job-worker-0 -- /bin/sh -c hostname" "$work/launcher.log" \
  || fail "kubexec.sh's trace is missing (it runs with set -x)"

step "the MPIJob Succeeded"
k -n "$ns" wait "mpijob/$job" --for=condition=Succeeded --timeout=60s >/dev/null \
  || fail "the MPIJob did not succeed: $(k -n "$ns" get mpijob "$job" -o jsonpath='{.status}')"
k -n "$ns" get mpijob "$job" -o jsonpath='{range .status.conditions[*]}{.type}={.status} ({.reason}){"\n"}{end}' | sed 's/^/  /'
# cleanPodPolicy Running: the workers go once the job finished.
for _ in $(seq 120); do
  [ -z "$(k -n "$ns" get pods -l training.kubeflow.org/replica-type=worker -o name)" ] && break; sleep 0.5
done
[ -z "$(k -n "$ns" get pods -l training.kubeflow.org/replica-type=worker -o name)" ] \
  || fail "cleanPodPolicy Running left the workers: $(worker_phases)"
echo "  the running workers were deleted (cleanPodPolicy Running)"
grep -E '^[EWF][0-9]{4} ' "$work/reconciler.log" | head -20 | sed 's/^/  reconciler: /' || true

e2e_down
