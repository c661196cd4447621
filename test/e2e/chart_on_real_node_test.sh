#!/usr/bin/env bash
# The Helm chart installed for real: a control plane of its own with one real node
# (KUBEDL_REAL_NODES=1), the four services' images built by tools/images and imported into the
# node's containerd, `helm install` with those images, and then what a cluster admin and an ML
# engineer would see:
#   - every service Running and Ready as pods on the real node;
#   - a TFJob applied with kubectl is defaulted and checked by the in-cluster webhook (reached by
#     the API server through its Service) and run to Succeeded by the in-cluster reconciler, with
#     real containers that read TF_CONFIG;
#   - two reconciler replicas hold one Lease; deleting the leader pod hands it to the other one,
#     which runs the next job with no duplicate pod;
#   - the metrics service is scraped through its Service;
#   - `helm upgrade` of one value rolls the Deployment; `helm uninstall` leaves nothing of the
#     release behind;
#   - tear-down removes the node and its firewall guard.
# A machine that cannot run a real node (tools/real-node/can-run.sh says why) skips the test
# with exit code 77.
set -euo pipefail
repo=${KUBEDL_REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${KUBEDL_BUILD_DIR:-$repo/build}
skip() { echo "SKIPPED: $*" >&2; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
step() { printf -- '--- %s (%ss)\n' "$*" "$SECONDS"; }

reason=$(bash "$repo/tools/real-node/can-run.sh") || skip "$reason"

# up.sh owns the cluster folder (it empties it); the test's own files live beside it.
base=$(mktemp -d /tmp/kubedl-e2e-XXXXXX)
dir=$base/cluster work=$base/work
mkdir -p "$work"
export KUBEDL_CLUSTER_DIR=$dir KUBEDL_REAL_NODES=1
release=kubedl ns=kubedl-system jobs=e2e-jobs
k() { "$KUBECTL" "$@"; }
cleanup() {
  local rc=$?
  if [ "$rc" != 0 ] && [ "$rc" != 77 ] && [ -f "$dir/env" ]; then
    # shellcheck disable=SC1091
    source "$dir/env"; export KUBECONFIG
    echo "--- diagnostics" >&2
    k get pods -A -o wide >&2 2>/dev/null || true
    k -n "$ns" logs -l app.kubernetes.io/instance=$release --all-containers --tail=60 --prefix >&2 2>/dev/null || true
    k -n "$jobs" get tfjobs -o yaml 2>/dev/null | tail -40 >&2 || true
  fi
  bash "$repo/tools/controlplane/down.sh" >/dev/null 2>&1 || true
  rm -rf "$base"
  exit "$rc"
}
trap cleanup EXIT

step "control plane with a real node, images, helm install"
start=$SECONDS
bash "$repo/tools/real-node/install-chart.sh" "$build" || fail "installing the chart on the real node failed"
echo "  installed and ready in $((SECONDS - start)) s"
# shellcheck disable=SC1091
source "$dir/env"
export KUBECONFIG
h() { "$HELM" "$@"; }
install_args=(-f "$repo/tools/real-node/values.yaml")
k -n "$ns" get pods -o wide
for component in webhook reconciler gang-scheduler metrics; do
  ready=$(k -n "$ns" get pods -l app.kubernetes.io/component=$component \
    -o jsonpath='{range .items[*]}{.spec.nodeName}/{.status.containerStatuses[0].ready}{"\n"}{end}')
  [ -n "$ready" ] || fail "no $component pod"
  while read -r line; do
    [ "$line" = "$REAL_NODE/true" ] || fail "$component pod is not Ready on the real node: $line"
  done <<< "$ready"
done
echo "  every service Running and Ready on $REAL_NODE"

step "the in-cluster webhook refuses a malformed job"
k create namespace "$jobs" >/dev/null
# The controller manager makes the namespace's default ServiceAccount, which pods need.
for _ in $(seq 100); do k -n "$jobs" get serviceaccount default >/dev/null 2>&1 && break; sleep 0.2; done
if k -n "$jobs" apply -f - > "$work/refused.txt" 2>&1 <<'YAML'
apiVersion: kubeflow.org/v1
kind: TFJob
metadata: {name: refused}
spec:
  tfReplicaSpecs:
    Launcher: {replicas: 1, template: {spec: {containers: [{name: tensorflow, image: x}]}}}
YAML
then fail "a TFJob with replica type Launcher was admitted"; fi
grep -q "denied the request" "$work/refused.txt" || fail "refused, but not by the webhook: $(cat "$work/refused.txt")"
grep -q "tfReplicaSpecs" "$work/refused.txt" || fail "the refusal names no field: $(cat "$work/refused.txt")"
echo "  $(head -c 300 "$work/refused.txt")"
# The API server got through with its client certificate; a caller without one does not.
webhook_ip=$(k -n "$ns" get pods -l app.kubernetes.io/component=webhook -o jsonpath='{.items[0].status.podIP}')
if out=$(curl -sS -k --max-time 10 -H 'Content-Type: application/json' -d '{}' \
    "https://$webhook_ip:9443/validate-kubeflow-org-v1-tfjob" 2>&1); then
  fail "the webhook served a caller without a client certificate: $out"
fi
echo "  a caller without a client certificate is refused: $out"

tfjob() {  # tfjob NAME WORKERS: a TFJob whose containers check TF_CONFIG and exit 0
  cat <<YAML
apiVersion: kubeflow.org/v1
kind: TFJob
metadata: {name: $1}
spec:
  tfReplicaSpecs:
    Chief:
      replicas: 1
      template:
        spec:
          nodeSelector: {kubedl.io/real-node: "true"}
          containers: [{name: tensorflow, image: localhost/kubedl/tfconfig-check:local, imagePullPolicy: Never}]
    Worker:
      replicas: $2
      template:
        spec:
          nodeSelector: {kubedl.io/real-node: "true"}
          containers: [{name: tensorflow, image: localhost/kubedl/tfconfig-check:local, imagePullPolicy: Never}]
YAML
}
succeeded() {  # succeeded NAME TIMEOUT
  k -n "$jobs" wait "tfjob/$1" --for=condition=Succeeded --timeout="$2" >/dev/null \
    || fail "tfjob $1 did not succeed: $(k -n "$jobs" get tfjob "$1" -o jsonpath='{.status}')"
}
no_duplicates() {  # no_duplicates NAME COUNT: every pod name once, COUNT pods, each created once
  local names
  names=$(k -n "$jobs" get pods -l training.kubeflow.org/job-name="$1" -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}')
  [ "$(wc -l <<< "$names")" = "$2" ] || fail "job $1 has pods: $names (want $2)"
  local creates
  creates=$(k -n "$jobs" get events --field-selector involvedObject.name="$1",reason=SuccessfulCreatePod -o jsonpath='{range .items[*]}{.count}{"\n"}{end}' | awk '{s+=$1} END {print s+0}')
  [ "$creates" = "$2" ] || fail "job $1: $creates SuccessfulCreatePod events for $2 pods"
}

step "a TFJob through the webhook to Succeeded with real containers"
start=$SECONDS
tfjob first 2 | k -n "$jobs" apply -f - >/dev/null
port=$(k -n "$jobs" get tfjob first -o jsonpath='{.spec.tfReplicaSpecs.Worker.template.spec.containers[0].ports[0].containerPort}')
[ "$port" = 2222 ] || fail "the webhook did not default the tfjob-port (got '$port')"
policy=$(k -n "$jobs" get tfjob first -o jsonpath='{.spec.runPolicy.cleanPodPolicy}')
[ -n "$policy" ] || fail "the webhook did not default runPolicy.cleanPodPolicy"
succeeded first 180s
echo "  Succeeded in $((SECONDS - start)) s (defaults: port $port, cleanPodPolicy $policy)"
k -n "$jobs" logs first-worker-1 > "$work/logs.txt" || fail "kubectl logs of first-worker-1 failed"
cat "$work/logs.txt"
grep -q "tfconfig-check: task worker/1 .* ok" "$work/logs.txt" || fail "worker 1 did not see its TF_CONFIG"
grep -q "first-chief-0.$jobs.svc" "$work/logs.txt" \
  || grep -q "first-chief-0" "$work/logs.txt" || fail "TF_CONFIG does not name the chief"
exit_code=$(k -n "$jobs" get pod first-worker-1 -o jsonpath='{.status.containerStatuses[0].state.terminated.exitCode}' 2>/dev/null || echo gone)

step "leader fail-over"
lease=kubedl-reconciler
holder=$(k -n "$ns" get lease "$lease" -o jsonpath='{.spec.holderIdentity}')
[ -n "$holder" ] || fail "no reconciler holds the Lease $lease"
pods=$(k -n "$ns" get pods -l app.kubernetes.io/component=reconciler -o jsonpath='{.items[*].metadata.name}')
leader_pod=""
for p in $pods; do case "$holder" in "$p"*) leader_pod=$p ;; esac; done
[ -n "$leader_pod" ] || fail "Lease holder '$holder' is none of the reconciler pods ($pods)"
echo "  leader $leader_pod; deleting it"
start=$SECONDS
k -n "$ns" delete pod "$leader_pod" --wait=false >/dev/null
for _ in $(seq 120); do
  now=$(k -n "$ns" get lease "$lease" -o jsonpath='{.spec.holderIdentity}')
  case "$now" in ""|"$leader_pod"*) sleep 0.5 ;; *) break ;; esac
done
case "$now" in ""|"$leader_pod"*) fail "the Lease did not move off $leader_pod in 60 s" ;; esac
echo "  $now took the Lease in $((SECONDS - start)) s"
tfjob second 3 | k -n "$jobs" apply -f - >/dev/null
succeeded second 180s
no_duplicates second 4
echo "  the new leader ran job second to Succeeded, 4 pods, each created once"

step "the metrics service, scraped through its Service"
# The reconcilers report job events asynchronously: both successes arrive within seconds.
counted=0
for _ in $(seq 60); do
  k get --raw "/api/v1/namespaces/$ns/services/http:kubedl-metrics:metrics/proxy/metrics" > "$work/metrics.txt" \
    || fail "scraping the metrics Service failed"
  counted=$(awk '/^kubedl_jobs_successful_total\{.*kind="TFJob".*namespace="'"$jobs"'".*\}/ {s+=$NF} END {print s+0}' "$work/metrics.txt")
  [ "$counted" = 2 ] && break
  sleep 0.5
done
grep -E '^kubedl_jobs_(successful|created)_total' "$work/metrics.txt" || true
[ "$counted" = 2 ] || fail "kubedl_jobs_successful_total for TFJob in $jobs is $counted, want 2"

step "helm upgrade of one value"
h upgrade "$release" "$repo/charts/kubedl" -n "$ns" "${install_args[@]}" \
  --set reconciler.maxConcurrentReconciles=6 --wait --timeout 300s >/dev/null || fail "helm upgrade failed"
args=$(k -n "$ns" get deployment "kubedl-reconciler" -o jsonpath='{.spec.template.spec.containers[0].args}')
grep -q -- "--max-concurrent-reconciles=6" <<< "$args" || fail "the upgrade did not reach the Deployment: $args"
k -n "$ns" rollout status deployment "kubedl-reconciler" --timeout=180s >/dev/null
echo "  reconciler rolled to --max-concurrent-reconciles=6"

step "helm uninstall"
k delete namespace "$jobs" --wait=true --timeout=120s >/dev/null
h uninstall "$release" -n "$ns" --wait --timeout 180s >/dev/null
left=$(k -n "$ns" get deployments,replicasets,services,secrets,configmaps,serviceaccounts,roles,rolebindings,poddisruptionbudgets,leases \
  -l app.kubernetes.io/instance=$release -o name 2>/dev/null)
# The reconcilers' Lease is the chart's too: nothing they made at run time stays.
[ -z "$(k -n "$ns" get leases -o name)" ] || left+=" $(k -n "$ns" get leases -o name)"
[ -z "$left" ] || fail "left behind in $ns: $left"
cluster_left=$(k get clusterroles,clusterrolebindings,mutatingwebhookconfigurations,validatingwebhookconfigurations \
  -l app.kubernetes.io/instance=$release -o name)
[ -z "$cluster_left" ] || fail "cluster-scoped objects left behind: $cluster_left"
for _ in $(seq 120); do
  [ -z "$(k -n "$ns" get pods -o name)" ] && break; sleep 0.5
done
[ -z "$(k -n "$ns" get pods -o name)" ] || fail "pods still running after uninstall: $(k -n "$ns" get pods -o name)"
echo "  nothing of the release is left"

step "tear-down"
guard_before=$(iptables -S FORWARD | grep -c kubedl-guard || true)
[ "$guard_before" -ge 1 ] || fail "the uplink guard is not in place while the node runs"
bash "$repo/tools/controlplane/down.sh" >/dev/null
guard_after=$(iptables -S FORWARD | grep -c kubedl-guard || true)
[ "$guard_after" = 0 ] || fail "the uplink guard is still there after tear-down"
echo "PASS ($SECONDS s)"
