#!/usr/bin/env bash
# CodeSyncOnARealNodeRunsAScriptFromGitAndFromAnArchive (SPEC section 4, docs/code-sync.md,
# issue 17), with real containers: a control plane of its own with one real node
# (KUBEDL_REAL_NODES=1), kubedl-reconciler for XGBoostJob and TFJob as a process on this machine,
# and a training script (examples/training/code-sync/train.py) that is in NO image: the test
# commits it, with a marker.txt holding a random token, to a git repository, and packs it with
# another token into code.tar.gz. Both are served on the node's own address NODE_IP (a bridge
# local to this machine, never a public interface): the repository by `git daemon`, the archive
# by `python3 -m http.server`. Then:
#   - an XGBoostJob (Master + Worker) annotated `kubedl.io/git-sync-config:
#     {"source": "git://NODE_IP:PORT/models.git", "branch": "main", "depth": 1, "image":
#     "localhost/kubedl/git-sync:local"}`: in each pod the init container git-sync-code
#     (tools/images/git-sync.sh, a stand-in for the upstream git-sync image's one-time mode)
#     exits 0 and logs the commit the test made; the daemon saw a clone from each pod's IP; the
#     main container (localhost/kubedl/train-python:local, workingDir /workspace) runs
#     `python3 models/train.py` from the mounted checkout and prints that commit (read from the
#     checkout's .git/HEAD) and the token, its rank, and a loss that went down; the worker sends
#     its final loss to the Master over MASTER_ADDR:MASTER_PORT; the job Succeeds;
#   - a TFJob (2 Workers) annotated `{"sourceType": "http", "source":
#     "http://NODE_IP:PORT/code.tar.gz", "image": "localhost/kubedl/busybox-static:local"}`: in
#     each pod the init container code-sync-http (the reconciler's fixed `sh -c` script: busybox
#     wget and tar) exits 0; the server saw a GET from each pod's IP; the main container runs
#     `python3 code/train.py` and prints the archive's token; the job Succeeds;
#   - tear-down leaves the machine as it was (real_node_lib.sh's e2e_down).
# It prints the seconds from `kubectl apply` to every main container started and to Succeeded,
# each init container's run time and log, and each rank's final loss.
# A machine that cannot run a real node (tools/real-node/can-run.sh says why), or one where another
# real node keeps running, skips the test with exit code 77.
# shellcheck source=real_node_lib.sh
source "$(dirname "$0")/real_node_lib.sh"
ns=code-sync
git_job=git-train http_job=http-train
sync_image=localhost/kubedl/git-sync:local
busybox_image=localhost/kubedl/busybox-static:local
train_image=localhost/kubedl/train-python:local
daemon_pid="" http_pid=""

e2e_extra_cleanup() {
  local pid
  for pid in $daemon_pid $http_pid; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  daemon_pid="" http_pid=""
}
e2e_extra_diagnostics() {
  k -n "$ns" get endpointslices -o wide 2>/dev/null || true
  echo "--- git daemon log (tail)"; tail -30 "$work/git-daemon.log" 2>/dev/null || true
  echo "--- http.server log (tail)"; tail -20 "$work/http.log" 2>/dev/null || true
  k -n "$ns" get xgboostjob "$git_job" -o jsonpath='{.status}' 2>/dev/null || true; echo
  k -n "$ns" get tfjob "$http_job" -o jsonpath='{.status}' 2>/dev/null || true; echo
}

e2e_init code-sync
step "images, a control plane with a real node, the CRDs, the reconciler"
start=$SECONDS
e2e_training_image python
bash "$repo/tools/images/git-sync.sh" "$build/images" local
bash "$repo/tools/images/kubectl-delivery.sh" "$build/images" local   # busybox-static
e2e_image "$build/images/git-sync.tar"
e2e_image "$build/images/busybox-static.tar"
e2e_up
step "CRDs, namespace, reconciler"
e2e_crds XGBoostJob TFJob
e2e_namespace "$ns"
e2e_reconciler XGBoostJob,TFJob
for image in "$build/images/git-sync.tar" "$build/images/busybox-static.tar"; do
  echo "  $(basename "$image"): $(awk -v b="$(stat -c %s "$image")" 'BEGIN{printf "%.1f", b/1048576}') MiB"
done
echo "  ready in $((SECONDS - start)) s (node $REAL_NODE at $NODE_IP)"

step "a git repository and an archive holding the script, served on $NODE_IP"
token() { python3 -c 'import secrets; print(secrets.token_hex(8))'; }
git_token=git-$(token) http_token=http-$(token)
mkdir -p "$work/src" "$work/git" "$work/archive" "$work/www"
cp "$repo/examples/training/code-sync/train.py" "$work/src/"
printf '%s\n' "$git_token" >"$work/src/marker.txt"
git -C "$work/src" init -q -b main
git -C "$work/src" add train.py marker.txt
git -C "$work/src" -c user.name=kubedl-e2e -c user.email=e2e@kubedl.invalid \
  commit -q -m "training script for the code-sync test"
commit=$(git -C "$work/src" rev-parse HEAD)
git clone -q --bare "$work/src" "$work/git/models.git"
cp "$repo/examples/training/code-sync/train.py" "$work/archive/"
printf '%s\n' "$http_token" >"$work/archive/marker.txt"
tar -czf "$work/www/code.tar.gz" -C "$work/archive" train.py marker.txt
git_port=$(free_port) http_port=$(free_port)
git daemon --listen="$NODE_IP" --port="$git_port" --base-path="$work/git" --export-all \
  --reuseaddr --verbose --informative-errors "$work/git" >>"$work/git-daemon.log" 2>&1 &
daemon_pid=$!
python3 -m http.server --bind "$NODE_IP" --directory "$work/www" "$http_port" >>"$work/http.log" 2>&1 &
http_pid=$!
git_url=git://$NODE_IP:$git_port/models.git http_url=http://$NODE_IP:$http_port/code.tar.gz
for _ in $(seq 50); do
  git ls-remote "$git_url" >/dev/null 2>&1 && curl -sf -o /dev/null "$http_url" && break; sleep 0.2
done
[ "$(git ls-remote "$git_url" refs/heads/main | cut -f1)" = "$commit" ] || fail "git daemon does not serve $git_url"
curl -sf -o /dev/null "$http_url" || fail "http.server does not serve $http_url"
: >"$work/git-daemon.log"; : >"$work/http.log"   # only the pods' requests from here on (O_APPEND)
echo "  $git_url at commit $commit (marker $git_token)"
echo "  $http_url ($(stat -c %s "$work/www/code.tar.gz") bytes, marker $http_token)"

step "an XGBoostJob from git and a TFJob from the archive"
# container NAME COMMAND: a training container running the synced script from /workspace.
container() {
  cat <<YAML
          nodeSelector: {kubedl.io/real-node: "true"}
          terminationGracePeriodSeconds: 1
          containers:
          - name: $1
            image: $train_image
            imagePullPolicy: IfNotPresent
            workingDir: /workspace
            command: [python3, $2, --steps, "30"]
YAML
}
t_git=$SECONDS
k -n "$ns" apply -f - >/dev/null <<YAML
apiVersion: kubeflow.org/v1
kind: XGBoostJob
metadata:
  name: $git_job
  annotations:
    kubedl.io/git-sync-config: |
      {"source": "$git_url", "branch": "main", "depth": 1, "maxFailures": 2,
       "image": "$sync_image"}
spec:
  runPolicy: {cleanPodPolicy: None}
  xgbReplicaSpecs:
    Master:
      replicas: 1
      restartPolicy: Never
      template:
        spec:
$(container xgboost models/train.py)
    Worker:
      replicas: 1
      restartPolicy: Never
      template:
        spec:
$(container xgboost models/train.py)
YAML
t_http=$SECONDS
k -n "$ns" apply -f - >/dev/null <<YAML
apiVersion: kubeflow.org/v1
kind: TFJob
metadata:
  name: $http_job
  annotations:
    kubedl.io/git-sync-config: |
      {"sourceType": "http", "source": "$http_url", "maxFailures": 2, "image": "$busybox_image"}
spec:
  runPolicy: {cleanPodPolicy: None}
  tfReplicaSpecs:
    Worker:
      replicas: 2
      restartPolicy: Never
      template:
        spec:
$(container tensorflow code/train.py)
YAML

git_pods=("$git_job-master-0" "$git_job-worker-0")
http_pods=("$http_job-worker-0" "$http_job-worker-1")
pod_field() { k -n "$ns" get pod "$1" -o jsonpath="$2" 2>/dev/null || true; }
# started PODS...: every pod's main container is running or has terminated.
started() {
  local p
  for p in "$@"; do
    [ -n "$(pod_field "$p" '{.status.containerStatuses[0].state.running}{.status.containerStatuses[0].state.terminated}')" ] || return 1
  done
}
succeeded() { k -n "$ns" get "$1" "$2" -o jsonpath='{.status.conditions[?(@.type=="Succeeded")].status}' 2>/dev/null | grep -qx True; }
failed() { k -n "$ns" get "$1" "$2" -o jsonpath='{.status.conditions[?(@.type=="Failed")].status}' 2>/dev/null | grep -qx True; }
git_started="" git_done="" http_started="" http_done=""
deadline=$((SECONDS + 300))
while [ -z "$git_done" ] || [ -z "$http_done" ] || [ -z "$git_started" ] || [ -z "$http_started" ]; do
  [ $SECONDS -lt $deadline ] || fail "the jobs did not finish in 300 s: XGBoostJob $(job_conditions xgboostjob "$git_job" | tr '\n' ';') TFJob $(job_conditions tfjob "$http_job" | tr '\n' ';')"
  [ -n "$git_started" ] || ! started "${git_pods[@]}" || git_started=$((SECONDS - t_git))
  [ -n "$http_started" ] || ! started "${http_pods[@]}" || http_started=$((SECONDS - t_http))
  [ -n "$git_done" ] || ! succeeded xgboostjob "$git_job" || git_done=$((SECONDS - t_git))
  [ -n "$http_done" ] || ! succeeded tfjob "$http_job" || http_done=$((SECONDS - t_http))
  ! failed xgboostjob "$git_job" || fail "the XGBoostJob failed: $(job_conditions xgboostjob "$git_job" | tr '\n' ';')"
  ! failed tfjob "$http_job" || fail "the TFJob failed: $(job_conditions tfjob "$http_job" | tr '\n' ';')"
  sleep 0.5
done
echo "  XGBoostJob (git): every main container started $git_started s after apply, Succeeded after $git_done s"
echo "  TFJob (http): every main container started $http_started s after apply, Succeeded after $http_done s"

# check_pod POD INIT PATTERN MARKER REVISION SET: the init container exited 0 (its log must match
# PATTERN, "" for any), the main container exited 0 after printing the marker and the revision,
# and its loss went down. Prints the init container's run time and log, and the final loss; adds
# the rank to $work/ranks.SET.
check_pod() {
  local pod=$1 init=$2 pattern=$3 marker=$4 revision=$5 exit_code times log first last rank
  # A job with a Master succeeds with it: a worker may still be finishing.
  k -n "$ns" wait --for=jsonpath='{.status.phase}'=Succeeded "pod/$pod" --timeout=120s >/dev/null \
    || fail "$pod did not succeed: $(pod_field "$pod" '{.status}')"
  exit_code=$(pod_field "$pod" "{.status.initContainerStatuses[?(@.name==\"$init\")].state.terminated.exitCode}")
  [ "$exit_code" = 0 ] || fail "$pod: init container $init exited '$exit_code': $(pod_field "$pod" '{.status.initContainerStatuses}')"
  times=$(pod_field "$pod" "{.status.initContainerStatuses[?(@.name==\"$init\")].state.terminated.startedAt} {.status.initContainerStatuses[?(@.name==\"$init\")].state.terminated.finishedAt}")
  k -n "$ns" logs "$pod" -c "$init" >"$work/$pod.init.log" || fail "kubectl logs $pod -c $init failed"
  echo "  $pod: $init exited 0 after $(python3 -c '
import sys, datetime as d
a, b = (d.datetime.fromisoformat(t.replace("Z", "+00:00")) for t in sys.argv[1:3])
print(int((b - a).total_seconds()))' $times) s (timestamps of whole seconds), log:"
  if [ -s "$work/$pod.init.log" ]; then sed 's/^/    | /' "$work/$pod.init.log"; else echo "    | (empty)"; fi
  [ -z "$pattern" ] || grep -qE "$pattern" "$work/$pod.init.log" || fail "$pod: $init did not log /$pattern/"
  exit_code=$(pod_field "$pod" '{.status.containerStatuses[0].state.terminated.exitCode}')
  [ "$exit_code" = 0 ] || fail "$pod: the training container exited '$exit_code'"
  k -n "$ns" logs "$pod" -c "$(pod_field "$pod" '{.spec.containers[0].name}')" >"$work/$pod.log" || fail "kubectl logs $pod failed"
  log=$work/$pod.log
  rank=$(sed -n 's/^code-sync: rank=\([0-9]*\) .*/\1/p' "$log")
  grep -qx "code-sync: rank=$rank revision=$revision marker=$marker" "$log" \
    || fail "$pod did not run the fetched script (want revision=$revision marker=$marker): $(head -3 "$log")"
  first=$(sed -n "s/^rank=$rank step=1 loss=//p" "$log")
  last=$(sed -n "s/^rank=$rank done final_loss=\([0-9.]*\).*/\1/p" "$log")
  [ -n "$first" ] && [ -n "$last" ] || fail "$pod: no loss lines: $(tail -3 "$log")"
  python3 -c 'import sys; sys.exit(0 if float(sys.argv[2]) < float(sys.argv[1]) / 10 else 1)' "$first" "$last" \
    || fail "$pod: the loss did not go down: step 1 $first, final $last"
  echo "  $pod: $(head -1 "$log"); rank $rank loss $first -> $last"
  echo "$rank" >>"$work/ranks.$6"
}

step "the XGBoostJob ran the script from git"
for p in "${git_pods[@]}"; do
  check_pod "$p" git-sync-code "at commit $commit into /code/models " "$git_token" "$commit" git
done
[ "$(sort -n "$work/ranks.git" | paste -sd,)" = 0,1 ] || fail "XGBoostJob ranks: $(paste -sd, "$work/ranks.git"), want 0,1"
# The ranks met over TCP: the worker sent its final loss to the Master's port (train.py gather).
grep -E "^rank=0 gathered world_size=2 final_losses=0:[0-9.]+,1:[0-9.]+$" "$work/$git_job-master-0.log" \
  | sed 's/^/  /' | grep . || fail "the Master did not gather the worker's final loss"
for p in "${git_pods[@]}"; do
  ip=$(pod_field "$p" '{.status.podIP}')
  grep -q "Connection from $ip:" "$work/git-daemon.log" || fail "git daemon saw no clone from $p ($ip)"
done
echo "  git daemon: $(grep -c 'Request upload-pack for' "$work/git-daemon.log") clones of /models.git, from $(grep -o 'Connection from [0-9.]*' "$work/git-daemon.log" | cut -d' ' -f3 | sort -u | paste -sd' ')"
job_conditions xgboostjob "$git_job" | sed 's/^/  /'

step "the TFJob ran the script from the archive"
for p in "${http_pods[@]}"; do
  check_pod "$p" code-sync-http "" "$http_token" - http
done
[ "$(sort -n "$work/ranks.http" | paste -sd,)" = 0,1 ] || fail "TFJob ranks: $(paste -sd, "$work/ranks.http"), want 0,1"
for p in "${http_pods[@]}"; do
  ip=$(pod_field "$p" '{.status.podIP}')
  grep -q "^$ip - .*\"GET /code.tar.gz HTTP/1\.[01]\" 200" "$work/http.log" || fail "http.server saw no GET from $p ($ip)"
done
sed 's/^/  http.server: /' "$work/http.log"
job_conditions tfjob "$http_job" | sed 's/^/  /'
grep -E '^[EWF][0-9]{4} ' "$work/reconciler.log" | head -20 | sed 's/^/  reconciler: /' || true

e2e_down
