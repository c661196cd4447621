#!/usr/bin/env bash
# `make demo`: starts the local control plane and shows it running a pod on a fake node.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

say "Starting the local control plane (etcd, kube-apiserver, controller manager, scheduler, KWOK)"
bash "$repo/tools/controlplane/up.sh"
source "$repo/.local/cluster/env"
export KUBECONFIG
k() { "$KUBECTL" "$@"; }

say "The nodes (KWOK fakes: no kubelet, no containers)"
k get nodes -o wide

say "Creating a pod that runs for 5 seconds and exits 0"
k delete pod kubedl-demo-hello --ignore-not-found --wait=true >/dev/null
k apply -f - <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: kubedl-demo-hello
  annotations: {kwok.kubedl.io/exit-code: "0", kwok.kubedl.io/run-for: "5s"}
spec:
  restartPolicy: Never
  containers: [{name: main, image: busybox, command: [echo, hello]}]
YAML
say "Watching it: Pending -> Running -> Succeeded"
last=""
for _ in $(seq 60); do
  phase=$(k get pod kubedl-demo-hello -o jsonpath='{.status.phase} on {.spec.nodeName}')
  [ "$phase" != "$last" ] && printf '  %s  %s\n' "$(date +%T)" "$phase" && last=$phase
  [[ $phase == Succeeded* ]] && break
  sleep 0.5
done

say "Done. The control plane is still running; explore it with:"
cat <<TXT
  source $repo/.local/cluster/env && export KUBECONFIG
  \$KUBECTL get pods -A
Stop it with:
  make cluster-down
TXT
