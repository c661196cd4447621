#!/usr/bin/env bash
# PyTorchJob, XGBoostJob and XDLJob, code sync and --workloads, against the real local API server
# (tools/controlplane) with a real kubedl-reconciler process per test. KWOK runs the pods: a test
# ends a training process by annotating its Running pod with kwok.kubedl.io/exit-code.
#   frameworks_test.sh SCENARIO RECONCILER_BINARY REPO [WEBHOOK_BINARY]
# Scenarios: pytorch-shape pytorch-failures xgboost-shape xgboost-failures xdl-shape xdl-failures
#            code-sync workloads-auto workloads-list workloads-unknown examples
# MPIJob, PaddleJob, JAXJob and PyTorchJob autoscaling: new_kinds_test.sh (same helpers).
set -euo pipefail
scenario=$1 reconciler=$2 repo=$3 webhook=${4:-}
# shellcheck source=helpers.sh
source "$(dirname "${BASH_SOURCE[0]}")/helpers.sh"

# --- scenarios --------------------------------------------------------------------------------
scenario_pytorch-shape() {
  start_reconciler rec --workloads=pytorchjob --master-wait-image=registry.local/wait:2 \
    --master-wait-retries=7 --master-wait-interval-seconds=3
  submit PyTorchJob pt 's["nprocPerNode"] = "2"'
  local pods=(pt-master-0 pt-worker-0 pt-worker-1)
  eventually 150 "pods ${pods[*]} created" pods_exist "${pods[@]}"
  for p in "${pods[@]}"; do eventually 60 "service $p" exists svc "$p"; done
  [ "$(k get pods -n "$ns" -o name | wc -l)" = 3 ] && ok "exactly 3 pods" || fail "pod count"
  labels_are pod pt-master-0 pytorchjob-controller pt master 0 yes
  labels_are pod pt-worker-1 pytorchjob-controller pt worker 1 no
  labels_are svc pt-worker-0 pytorchjob-controller pt worker 0 no
  expect pod pt-master-0 '{.metadata.labels.group-name}' kubeflow.org
  owned_by pod pt-worker-0 PyTorchJob pt
  owned_by svc pt-master-0 PyTorchJob pt
  for p in "${pods[@]}"; do headless_service "$p" pytorchjob-port 23456; done
  expect pod pt-master-0 '{.spec.restartPolicy}' OnFailure
  # 3 nodes x nprocPerNode 2; ranks: master 0, workers index + 1
  for p in "${pods[@]}"; do
    env_is "$p" pytorch MASTER_ADDR pt-master-0
    env_is "$p" pytorch PET_MASTER_ADDR pt-master-0
    env_is "$p" pytorch MASTER_PORT 23456
    env_is "$p" pytorch PET_MASTER_PORT 23456
    env_is "$p" pytorch WORLD_SIZE 6
    env_is "$p" pytorch PET_NPROC_PER_NODE 2
    env_is "$p" pytorch PET_NNODES 3
    env_is "$p" pytorch PYTHONUNBUFFERED 1
  done
  env_is pt-master-0 pytorch RANK 0
  env_is pt-master-0 pytorch PET_NODE_RANK 0
  env_is pt-worker-0 pytorch RANK 1
  env_is pt-worker-1 pytorch RANK 2
  env_is pt-worker-1 pytorch PET_NODE_RANK 2
  # Workers wait for the master's DNS name with the image, retries and interval of the flags.
  expect pod pt-master-0 '{.spec.initContainers[*].name}' ""
  expect pod pt-worker-1 '{.spec.initContainers[*].name}' init-pytorch
  expect pod pt-worker-1 '{.spec.initContainers[0].image}' registry.local/wait:2
  local script; script=$(jp pod pt-worker-1 '{.spec.initContainers[0].command[2]}')
  case "$script" in *'seq 7'*'nslookup pt-master-0'*'sleep 3'*) ok "init script: $script" ;;
    *) fail "init-pytorch script: $script" ;; esac
  eventually 150 "pods ${pods[*]} Running" pods_running "${pods[@]}"
  eventually 90 "PyTorchJob pt Running" has_condition pytorchjob pt Running
  expect pytorchjob pt '{.status.conditions[?(@.type=="Running")].reason}' PyTorchJobRunning
  expect pytorchjob pt '{.status.replicaStatuses.Worker.active}' 2
  # The scale subresource (spec.pytorchReplicaSpecs.Worker.replicas).
  k scale -n "$ns" pytorchjob pt --replicas=3 >/dev/null || fail "kubectl scale pytorchjob"
  eventually 150 "scaled up: pt-worker-2 Running" pods_running pt-worker-2
  env_is pt-worker-2 pytorch RANK 3
  env_is pt-worker-2 pytorch WORLD_SIZE 8
  # Master-driven: a finished worker does not end the job, the master does.
  finish pt-worker-0 0
  eventually 90 "pt-worker-0 Succeeded" is pod pt-worker-0 '{.status.phase}' Succeeded
  sleep 2
  expect pytorchjob pt '{.status.conditions[?(@.type=="Succeeded")].status}' ""
  finish pt-master-0 0
  eventually 150 "PyTorchJob pt Succeeded once the Master exits 0" has_condition pytorchjob pt Succeeded
  expect pytorchjob pt '{.status.conditions[?(@.type=="Running")].status}' False
  [ -n "$(jp pytorchjob pt '{.status.completionTime}')" ] && ok "completionTime set" ||
    fail "no completionTime"

  echo "--- PyTorchJob without a Master succeeds when all workers do"
  submit PyTorchJob nomaster 'del r["Master"]'
  eventually 150 "nomaster workers Running" pods_running nomaster-worker-0 nomaster-worker-1
  expect pod nomaster-worker-0 '{.spec.initContainers[*].name}' ""
  # No Master: torchrun assigns ranks, so no RANK, WORLD_SIZE, PET_NODE_RANK or MASTER_* (SPEC 4).
  for v in RANK WORLD_SIZE PET_NODE_RANK MASTER_ADDR MASTER_PORT; do env_is nomaster-worker-1 pytorch $v ""; done
  env_is nomaster-worker-1 pytorch PET_NNODES 2
  expect pod nomaster-worker-0 '{.metadata.labels.training\.kubeflow\.org/job-role}' master
  expect pod nomaster-worker-1 '{.metadata.labels.training\.kubeflow\.org/job-role}' ""
  finish nomaster-worker-0 0
  eventually 90 "nomaster-worker-0 Succeeded" is pod nomaster-worker-0 '{.status.phase}' Succeeded
  sleep 2
  expect pytorchjob nomaster '{.status.conditions[?(@.type=="Succeeded")].status}' ""
  finish nomaster-worker-1 0
  eventually 150 "nomaster Succeeded" has_condition pytorchjob nomaster Succeeded

  echo "--- elastic PyTorchJob: rendezvous env, any worker finishing ends it"
  submit PyTorchJob elastic 'del r["Master"]; s["elasticPolicy"] = {"minReplicas": 1, "maxReplicas": 4, "rdzvBackend": "c10d", "maxRestarts": 3, "rdzvId": "run-1", "rdzvConf": [{"key": "timeout", "value": "60"}]}'
  eventually 150 "elastic workers Running" pods_running elastic-worker-0 elastic-worker-1
  env_is elastic-worker-1 pytorch PET_RDZV_ENDPOINT elastic-worker-0:23456
  env_is elastic-worker-1 pytorch PET_RDZV_BACKEND c10d
  env_is elastic-worker-1 pytorch PET_NNODES 1:4
  env_is elastic-worker-1 pytorch PET_MAX_RESTARTS 3
  env_is elastic-worker-1 pytorch PET_RDZV_ID run-1
  env_is elastic-worker-1 pytorch PET_RDZV_CONF timeout=60
  finish elastic-worker-1 0
  eventually 150 "elastic Succeeded after one worker" has_condition pytorchjob elastic Succeeded
}

scenario_pytorch-failures() {
  start_reconciler rec --workloads=pytorchjob
  permanent_and_retryable PyTorchJob pytorch Worker
}

scenario_xgboost-shape() {
  start_reconciler rec --workloads=xgboostjob
  submit XGBoostJob xg 'pass'
  local pods=(xg-master-0 xg-worker-0 xg-worker-1)
  eventually 150 "pods ${pods[*]} created" pods_exist "${pods[@]}"
  for p in "${pods[@]}"; do eventually 60 "service $p" exists svc "$p"; done
  labels_are pod xg-master-0 xgboostjob-controller xg master 0 yes
  labels_are pod xg-worker-1 xgboostjob-controller xg worker 1 no
  labels_are svc xg-master-0 xgboostjob-controller xg master 0 yes
  owned_by pod xg-master-0 XGBoostJob xg
  for p in "${pods[@]}"; do headless_service "$p" xgboostjob-port 9999; done
  expect pod xg-worker-0 '{.spec.restartPolicy}' Never
  for p in "${pods[@]}"; do
    env_is "$p" xgboost MASTER_ADDR xg-master-0
    env_is "$p" xgboost MASTER_PORT 9999
    env_is "$p" xgboost WORLD_SIZE 3
    env_is "$p" xgboost WORKER_PORT 9999
    env_is "$p" xgboost WORKER_ADDRS xg-worker-0,xg-worker-1
    env_is "$p" xgboost PYTHONUNBUFFERED 1
  done
  env_is xg-master-0 xgboost RANK 0
  env_is xg-worker-0 xgboost RANK 1
  env_is xg-worker-1 xgboost RANK 2
  eventually 150 "pods ${pods[*]} Running" pods_running "${pods[@]}"
  eventually 90 "XGBoostJob xg Running" has_condition xgboostjob xg Running
  expect xgboostjob xg '{.status.conditions[?(@.type=="Running")].reason}' XGBoostJobRunning
  finish xg-worker-0 0
  finish xg-worker-1 0
  eventually 90 "workers Succeeded" pods_succeeded xg-worker-0 xg-worker-1
  sleep 2
  expect xgboostjob xg '{.status.conditions[?(@.type=="Succeeded")].status}' ""
  finish xg-master-0 0
  eventually 150 "XGBoostJob xg Succeeded once the Master exits 0" has_condition xgboostjob xg Succeeded
  expect xgboostjob xg '{.status.conditions[?(@.type=="Succeeded")].reason}' XGBoostJobSucceeded

  echo "--- a single-replica XGBoostJob has no WORKER_* env"
  submit XGBoostJob solo 'del r["Worker"]'
  eventually 150 "solo-master-0 Running" pods_running solo-master-0
  env_is solo-master-0 xgboost WORLD_SIZE 1
  env_is solo-master-0 xgboost WORKER_ADDRS ""
}

scenario_xgboost-failures() {
  start_reconciler rec --workloads=xgboostjob
  permanent_and_retryable XGBoostJob xgboost Worker
}

scenario_xdl-shape() {
  start_reconciler rec --workloads=xdljob
  submit XDLJob xd 'r["Worker"]["template"]["spec"]["containers"][0]["env"] = [{"name": "ZK_ADDR", "value": "zk://zk-0.zk:2181/xdl/"}]'
  local pods=(xd-ps-0 xd-scheduler-0 xd-worker-0 xd-worker-1)
  eventually 150 "pods ${pods[*]} created" pods_exist "${pods[@]}"
  for p in "${pods[@]}"; do eventually 60 "service $p" exists svc "$p"; done
  labels_are pod xd-ps-0 xdljob-controller xd ps 0 no
  labels_are pod xd-worker-1 xdljob-controller xd worker 1 no
  labels_are svc xd-scheduler-0 xdljob-controller xd scheduler 0 no
  expect pod xd-ps-0 '{.metadata.labels.group-name}' xdl.kubedl.io
  owned_by pod xd-worker-0 XDLJob xd
  for p in "${pods[@]}"; do headless_service "$p" xdljob-port 2222; done
  local uid; uid=$(jp xdljob xd '{.metadata.uid}')
  env_is xd-ps-0 xdl TASK_NAME ps
  env_is xd-ps-0 xdl TASK_INDEX 0
  env_is xd-scheduler-0 xdl TASK_NAME scheduler
  env_is xd-worker-1 xdl TASK_NAME worker
  env_is xd-worker-1 xdl TASK_INDEX 1
  env_is xd-worker-1 xdl ZK_ADDR "zk://zk-0.zk:2181/xdl/$uid"
  env_is xd-ps-0 xdl ZK_ADDR ""
  local config; config=$(jp pod xd-worker-1 '{.spec.containers[0].env[?(@.name=="XDL_CONFIG")].value}')
  local want
  want=$(python3 -c 'import json,sys; ns=sys.argv[1]; a=lambda t,i: f"xd-{t}-{i}.{ns}.svc:2222"
print(json.dumps({"cluster": {"ps": [a("ps",0)], "scheduler": [a("scheduler",0)], "worker": [a("worker",0), a("worker",1)]}, "task": {"type": "worker", "index": 1}}, sort_keys=True))' "$ns")
  local got; got=$(python3 -c 'import json,sys; print(json.dumps(json.loads(sys.argv[1]), sort_keys=True))' "$config" 2>/dev/null || true)
  [ "$got" = "$want" ] && ok "XDL_CONFIG $got" || fail "XDL_CONFIG = $config, want $want"
  eventually 150 "pods ${pods[*]} Running" pods_running "${pods[@]}"
  eventually 90 "XDLJob xd Running" has_condition xdljob xd Running
  expect xdljob xd '{.status.conditions[?(@.type=="Running")].reason}' XDLJobRunning
  # Default minFinishWorkRate 90: ceil(2 x 0.9) = 2 workers must succeed.
  finish xd-worker-0 0
  eventually 90 "xd-worker-0 Succeeded" pods_succeeded xd-worker-0
  sleep 2
  expect xdljob xd '{.status.conditions[?(@.type=="Succeeded")].status}' ""
  finish xd-worker-1 0
  eventually 150 "XDLJob xd Succeeded when 2 of 2 workers did (rate 90)" has_condition xdljob xd Succeeded
  # cleanPodPolicy defaults to Running for XDL: the PS and Scheduler still running are deleted.
  eventually 150 "cleanPodPolicy Running deleted xd-ps-0" sh -c "! '$KUBECTL' get pod -n '$ns' xd-ps-0"
  exists pod xd-worker-0 && ok "finished worker kept" || fail "finished worker deleted"

  echo "--- minFinishWorkNum 2 of 3 workers + 1 ExtendRole (ExtendRole counts too)"
  submit XDLJob num 's["minFinishWorkNum"] = 2; r["Worker"]["replicas"] = 3; r["ExtendRole"] = {"replicas": 1, "template": t("xdl")}'
  eventually 150 "num pods Running" pods_running num-worker-0 num-worker-2 num-extendrole-0
  env_is num-extendrole-0 xdl TASK_NAME extendrole
  finish num-worker-2 0
  eventually 90 "num-worker-2 Succeeded" pods_succeeded num-worker-2
  sleep 2
  expect xdljob num '{.status.conditions[?(@.type=="Succeeded")].status}' ""
  finish num-extendrole-0 0
  eventually 150 "XDLJob num Succeeded at 2 finished (worker + extendrole)" has_condition xdljob num Succeeded
}

scenario_xdl-failures() {
  start_reconciler rec --workloads=xdljob
  permanent_and_retryable XDLJob xdl Worker
}

scenario_code-sync() {
  start_reconciler rec --workloads=pytorchjob
  local git='{"source": "https://git.example.com/team/trainer.git", "branch": "dev", "depth": 1, "envs": [{"name": "HTTPS_PROXY", "value": "http://proxy:3128"}]}'
  submit PyTorchJob gs "j['metadata']['annotations'] = {'kubedl.io/git-sync-config': '''$git'''}; r['Worker']['template']['spec']['containers'][0]['workingDir'] = '/workspace'"
  eventually 150 "gs pods created" pods_exist gs-master-0 gs-worker-0 gs-worker-1
  for p in gs-master-0 gs-worker-1; do
    expect pod "$p" '{.spec.initContainers[?(@.name=="git-sync-code")].image}' kubedl/git-sync:v1
    local c="{.spec.initContainers[?(@.name==\"git-sync-code\")]"
    expect pod "$p" "$c.env[?(@.name==\"GIT_SYNC_REPO\")].value}" https://git.example.com/team/trainer.git
    expect pod "$p" "$c.env[?(@.name==\"GIT_SYNC_ONE_TIME\")].value}" true
    expect pod "$p" "$c.env[?(@.name==\"GIT_SYNC_MAX_SYNC_FAILURES\")].value}" 3
    expect pod "$p" "$c.env[?(@.name==\"GIT_SYNC_BRANCH\")].value}" dev
    expect pod "$p" "$c.env[?(@.name==\"GIT_SYNC_DEPTH\")].value}" 1
    expect pod "$p" "$c.env[?(@.name==\"GIT_SYNC_ROOT\")].value}" /code
    expect pod "$p" "$c.env[?(@.name==\"GIT_SYNC_DEST\")].value}" trainer
    expect pod "$p" "$c.env[?(@.name==\"HTTPS_PROXY\")].value}" http://proxy:3128
    expect pod "$p" "$c.volumeMounts[0].name}:$c.volumeMounts[0].mountPath}" git-sync:/code
    expect pod "$p" '{.spec.volumes[?(@.name=="git-sync")].emptyDir}' '{}'
    expect pod "$p" '{.spec.containers[0].volumeMounts[?(@.name=="git-sync")].subPath}' trainer
  done
  # Mounted at <workingDir>/<destPath>; a container without workingDir finds it under rootPath.
  expect pod gs-worker-1 '{.spec.containers[0].volumeMounts[?(@.name=="git-sync")].mountPath}' /workspace/trainer
  expect pod gs-master-0 '{.spec.containers[0].volumeMounts[?(@.name=="git-sync")].mountPath}' /code/trainer
  # The PyTorch master-wait container and the code sync both run before the worker.
  expect pod gs-worker-0 '{.spec.initContainers[*].name}' "init-pytorch git-sync-code"

  echo "--- an HTTP(S) archive source: downloaded and unpacked by its own init container"
  local http='{"sourceType": "http", "source": "https://files.example.com/code/model-v2.tar.gz", "image": "busybox:1.36", "rootPath": "/src", "maxFailures": 5}'
  submit PyTorchJob arch "del r['Worker']; j['metadata']['annotations'] = {'kubedl.io/git-sync-config': '''$http'''}"
  eventually 150 "arch-master-0 created" pods_exist arch-master-0
  local c='{.spec.initContainers[?(@.name=="code-sync-http")]'
  expect pod arch-master-0 "$c.image}" busybox:1.36
  expect pod arch-master-0 "$c.env[?(@.name==\"CODE_SOURCE\")].value}" https://files.example.com/code/model-v2.tar.gz
  expect pod arch-master-0 "$c.env[?(@.name==\"CODE_DEST\")].value}" model-v2
  expect pod arch-master-0 "$c.env[?(@.name==\"CODE_SYNC_MAX_FAILURES\")].value}" 5
  local script; script=$(jp pod arch-master-0 "$c.command[2]}")
  case "$script" in *'a="${TMPDIR:-/tmp}/code.archive"'*'wget -q -O "$a" "$@" "$CODE_SOURCE"'*'tar -xzf "$a"'*) ok "http fetch script" ;;
    *) fail "code-sync-http script: $script" ;; esac
  expect pod arch-master-0 '{.spec.containers[0].volumeMounts[?(@.name=="git-sync")].mountPath}' /src/model-v2

  echo "--- credentials from a Secret: a read-only volume of the init container only, read from a file"
  local private='{"source": "https://git.example.com/team/private.git", "user": "bot", "secretRef": {"name": "git-creds"}}'
  submit PyTorchJob priv "del r['Worker']; j['metadata']['annotations'] = {'kubedl.io/git-sync-config': '''$private'''}"
  eventually 150 "priv-master-0 created (the API server accepts the Secret volume)" pods_exist priv-master-0
  local vol='{.spec.volumes[?(@.name=="code-sync-credentials")]'
  expect pod priv-master-0 "$vol.secret.secretName}:$vol.secret.defaultMode}" git-creds:256
  c='{.spec.initContainers[?(@.name=="git-sync-code")]'
  local mount="$c.volumeMounts[?(@.name==\"code-sync-credentials\")]"
  expect pod priv-master-0 "$mount.mountPath}:$mount.readOnly}" /etc/kubedl/code-sync-credentials:true
  expect pod priv-master-0 "$c.env[?(@.name==\"GIT_SYNC_PASSWORD_FILE\")].value}" /etc/kubedl/code-sync-credentials/password
  expect pod priv-master-0 "$c.env[?(@.name==\"GIT_SYNC_USERNAME\")].value}" bot
  expect pod priv-master-0 "$c.env[?(@.name==\"GIT_SYNC_PASSWORD\")].name}" ""
  # The training container mounts the code only, never the credentials.
  expect pod priv-master-0 '{.spec.containers[0].volumeMounts[*].name}' git-sync

  echo "--- an inline password (no webhook here): the reconciler refuses the job and no pod gets it"
  local inline='{"source": "https://git.example.com/team/private.git", "user": "bot", "password": "hunter2-inline"}'
  submit PyTorchJob inline "del r['Worker']; j['metadata']['annotations'] = {'kubedl.io/git-sync-config': '''$inline'''}"
  eventually 90 "PyTorchJobFailedValidation event says to use a Secret" sh -c \
    "'$KUBECTL' get events -n '$ns' --field-selector involvedObject.name=inline,reason=PyTorchJobFailedValidation -o jsonpath='{.items[*].message}' | grep -q 'inline passwords are not accepted; put it in a Secret'"
  expect pytorchjob inline '{.status.conditions[?(@.type=="Failed")].reason}' PyTorchJobFailedValidation
  exists pod inline-master-0 && fail "a pod was created for the inline password" ||
    ok "no pod for the inline password"
  if "$KUBECTL" get events,pods -n "$ns" -o json | grep -q hunter2-inline; then
    fail "the inline password reached an event or a pod"
  else
    ok "the inline password is in no event and no pod"
  fi

  echo "--- a malformed annotation (no webhook here) never crashes the reconciler"
  submit PyTorchJob broken "del r['Worker']; j['metadata']['annotations'] = {'kubedl.io/git-sync-config': '{\"branch\": 1'}"
  # The reconciler validates as the webhook does: the job fails with <Kind>FailedValidation naming the
  # annotation, and a Warning event says the same.
  eventually 90 "PyTorchJobFailedValidation event names the annotation" sh -c \
    "'$KUBECTL' get events -n '$ns' --field-selector involvedObject.name=broken,reason=PyTorchJobFailedValidation -o jsonpath='{.items[*].message}' | grep -q 'kubedl.io/git-sync-config'"
  expect pytorchjob broken '{.status.conditions[?(@.type=="Failed")].reason}' PyTorchJobFailedValidation
  exists pod broken-master-0 && fail "a pod was created for the malformed annotation" ||
    ok "no pod for the malformed annotation"
  kill -0 "${pids[0]}" && ok "reconciler still running" || fail "reconciler died"
  submit PyTorchJob after "del r['Worker']"
  eventually 150 "a job after the malformed one still gets its pod" pods_exist after-master-0
}

scenario_workloads-auto() {
  echo "--- the shared cluster serves every CRD: auto starts every kind, XDLJob included"
  start_reconciler shared --workloads=auto
  eventually 60 "log: started the XDLJob controller" grep -q "started the XDLJob controller" "$work/shared.log"
  submit XDLJob auto 'del r["PS"]; del r["Scheduler"]; r["Worker"]["replicas"] = 1'
  eventually 150 "XDLJob reconciled under auto (pod created)" pods_exist auto-worker-0

  echo "--- a private API server without CRDs: XDLJob starts only once its CRD is applied"
  private_reconciler_without_crds
  local pk=(--kubeconfig "$work/cp/kubeconfig")
  "$KUBECTL" "${pk[@]}" apply --server-side -f "$repo/charts/kubedl/crds/xdl.kubedl.io_xdljobs.yaml" >/dev/null
  "$KUBECTL" "${pk[@]}" wait --for=condition=Established --timeout=60s crd/xdljobs.xdl.kubedl.io >/dev/null
  local applied_at=$SECONDS
  eventually 40 "log: started the XDLJob controller after the CRD was applied, without a restart" \
    grep -q "started the XDLJob controller" "$work/private.log"
  echo "  (picked up $((SECONDS - applied_at))s after the CRD was Established)"
  grep -q "started the TFJob controller" "$work/private.log" &&
    fail "TFJob controller started without its CRD" || ok "TFJob controller not started (no CRD)"
  kill -0 "${pids[-1]}" && ok "same reconciler process" || fail "reconciler exited"
  "$KUBECTL" "${pk[@]}" create namespace late >/dev/null
  job XDLJob late 'del r["PS"]; del r["Scheduler"]; r["Worker"]["replicas"] = 1' |
    "$KUBECTL" "${pk[@]}" apply -n late -f - >/dev/null || fail "apply XDLJob on the private server"
  # No scheduler runs there: the pod stays Pending, but it and its service exist.
  eventually 150 "late XDLJob got its pod and service" "$KUBECTL" "${pk[@]}" get -n late pod/late-worker-0 svc/late-worker-0
  eventually 90 "late XDLJob Created condition" sh -c \
    "'$KUBECTL' --kubeconfig '$work/cp/kubeconfig' get xdljob -n late late -o jsonpath='{.status.conditions[0].reason}' | grep -q XDLJobCreated"
}

scenario_workloads-list() {
  start_reconciler rec --workloads=pytorchjob,-tfjob
  grep -q "reconciling PyTorchJob$" "$work/rec.log" && ok "log: reconciling PyTorchJob" ||
    fail "log lacks 'reconciling PyTorchJob': $(grep reconciling "$work/rec.log")"
  submit TFJob tf 'pass'
  submit PyTorchJob pt 'del r["Worker"]'
  eventually 150 "the PyTorchJob is reconciled" pods_exist pt-master-0 svc/pt-master-0
  eventually 90 "PyTorchJob Created" has_condition pytorchjob pt Created
  sleep 3
  [ -z "$(k get pods -n "$ns" -l training.kubeflow.org/job-name=tf -o name)" ] &&
    ok "the TFJob got no pods" || fail "the TFJob got pods under -tfjob"
  expect tfjob tf '{.status.conditions}' ""
  grep -q "started the TFJob controller" "$work/rec.log" && fail "TFJob controller started" ||
    ok "no TFJob controller"

  echo "--- case-insensitive names, WORKLOADS_ENABLE when the flag is absent"
  local health; health=$(free_port)
  WORKLOADS_ENABLE="TFJOB" "$reconciler" --kubeconfig="$KUBECONFIG" --namespace="$ns" \
    --leader-elect=false --health-port="$health" --metrics-port=0 >"$work/env.log" 2>&1 &
  pids+=($!)
  eventually 150 "WORKLOADS_ENABLE=TFJOB reconciler ready" curl -sf "http://127.0.0.1:$health/readyz"
  eventually 150 "the TFJob is reconciled by the WORKLOADS_ENABLE=TFJOB process" pods_exist tf-worker-0
  grep -q "started the PyTorchJob controller" "$work/env.log" &&
    fail "WORKLOADS_ENABLE=TFJOB started PyTorchJob" || ok "only TFJob under WORKLOADS_ENABLE=TFJOB"
}

scenario_workloads-unknown() {
  local out code=0
  out=$("$reconciler" --kubeconfig="$KUBECONFIG" --leader-elect=false --health-port=0 \
        --metrics-port=0 --workloads=pytorchjob,mxjob 2>&1) || code=$?
  [ "$code" -ne 0 ] && ok "exit code $code" || fail "exited 0 on an unknown workload"
  echo "  $out"
  for want in '"mxjob"' TFJob PyTorchJob XGBoostJob XDLJob MPIJob PaddleJob JAXJob auto; do
    case "$out" in *"$want"*) ok "message names $want" ;; *) fail "message lacks $want: $out" ;; esac
  done
  code=0
  out=$(WORKLOADS_ENABLE=mxnetjob "$reconciler" --kubeconfig="$KUBECONFIG" --leader-elect=false \
        --health-port=0 --metrics-port=0 2>&1) || code=$?
  [ "$code" -ne 0 ] && ok "WORKLOADS_ENABLE=mxnetjob refused (exit $code)" ||
    fail "WORKLOADS_ENABLE=mxnetjob accepted"
  case "$out" in *'"mxnetjob"'*JAXJob*) ok "$out" ;; *) fail "message: $out" ;; esac
}

scenario_examples() {
  start_webhook
  start_reconciler rec --workloads=auto
  local f
  for f in "$repo"/examples/*.yaml; do
    python3 "$repo/tools/demo/simulate.py" 2s <"$f" | on_node | k apply -n "$ns" -f - >/dev/null ||
      fail "apply examples/$(basename "$f")"
  done
  # Every example's job (kind/name) from the files themselves.
  local jobs
  jobs=$(cat "$repo"/examples/*.yaml | python3 -c 'import sys, yaml
for d in yaml.safe_load_all(sys.stdin):
    if d: print(d["kind"].lower() + "/" + d["metadata"]["name"])')
  [ -n "$jobs" ] || fail "no example jobs found"
  local j
  for j in $jobs; do
    eventually 120 "examples: $j Succeeded" has_condition "${j%/*}" "${j#*/}" Succeeded
  done
  # The webhook defaulted what the files leave out; the reconciler used it.
  expect pod mnist-tf-worker-0 '{.spec.containers[0].ports[0].name}' tfjob-port
  expect xdljob deepctr-xdl '{.spec.minFinishWorkRate}' 90
  expect pod iris-xgboost-worker-0 '{.spec.initContainers[?(@.name=="git-sync-code")].env[?(@.name=="GIT_SYNC_BRANCH")].value}' master
}

run_scenario
