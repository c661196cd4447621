#!/usr/bin/env bash
# kubedl-webhook against the real local API server (tools/controlplane): the webhook runs on
# 127.0.0.1 with a certificate from tools/certs/gen.sh and is registered with a Mutating and a
# Validating WebhookConfiguration (url + caBundle) whose names are unique to this run and whose
# namespaceSelector matches only this run's namespace.
#   webhook_test.sh SCENARIO WEBHOOK_BINARY REPO
# Scenarios: examples | mistakes | legacy | rotation | memory | mutual-tls
set -euo pipefail
scenario=$1 webhook=$2 repo=$3
: "${KUBECTL:?KUBECTL must point at kubectl}" "${KUBECONFIG:?KUBECONFIG must be set}"
k() { "$KUBECTL" "$@"; }

id="kdl-webhook-$scenario-$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')"
ns=$id
work=$(mktemp -d)
pid=""
failures=0
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  k delete mutatingwebhookconfiguration "$id" --ignore-not-found >/dev/null 2>&1 || true
  k delete validatingwebhookconfiguration "$id" --ignore-not-found >/dev/null 2>&1 || true
  k delete namespace "$ns" --ignore-not-found --wait=false >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# --- certificate, webhook process -------------------------------------------------------------
bash "$repo/tools/certs/gen.sh" ca "$work" ca
bash "$repo/tools/certs/gen.sh" server "$work" server "$work/ca" 127.0.0.1,localhost
# mutual-tls: the webhook trusts the CA of the client certificate the API server presents
# (tools/controlplane/up.sh) and one of this test's own, whose certificate `caller` the test
# uses; `stranger`'s CA it does not trust.
client_ca=() caller=()
if [ "$scenario" = mutual-tls ]; then
  : "${WEBHOOK_CLIENT_CA:?no WEBHOOK_CLIENT_CA in the control plane env: restart it with make cluster-down}"
  bash "$repo/tools/certs/gen.sh" ca "$work" clients
  bash "$repo/tools/certs/gen.sh" client "$work" caller "$work/clients" webhook-test
  bash "$repo/tools/certs/gen.sh" ca "$work" other
  bash "$repo/tools/certs/gen.sh" client "$work" stranger "$work/other" webhook-test
  cat "$WEBHOOK_CLIENT_CA" "$work/clients.crt" > "$work/trusted-clients.crt"
  client_ca=(--client-ca-file="$work/trusted-clients.crt")
  caller=(--cert "$work/caller.crt" --key "$work/caller.key")
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$webhook" --bind-address=127.0.0.1 --port="$port" --health-port=0 \
  --cert-file="$work/server.crt" --key-file="$work/server.key" --cert-reload-interval-ms=200 \
  "${client_ca[@]}" >"$work/webhook.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
  curl -sf --cacert "$work/ca.crt" "${caller[@]}" "https://127.0.0.1:$port/readyz" >/dev/null && break
  sleep 0.1
done
curl -sf --cacert "$work/ca.crt" "${caller[@]}" "https://127.0.0.1:$port/readyz" >/dev/null ||
  { cat "$work/webhook.log"; echo "webhook did not start" >&2; exit 1; }

# --- CRDs, namespace, webhook registrations ---------------------------------------------------
k apply --server-side --force-conflicts -f "$repo/charts/kubedl/crds/" >/dev/null
k wait --for=condition=Established --timeout=60s \
  crd/tfjobs.kubeflow.org crd/pytorchjobs.kubeflow.org crd/xgboostjobs.kubeflow.org \
  crd/xdljobs.xdl.kubedl.io >/dev/null
k create namespace "$ns" >/dev/null
k label namespace "$ns" "kubedl.io/webhook=$id" >/dev/null
bash "$repo/tools/register-webhooks.sh" "$id" "https://127.0.0.1:$port" "$work/ca.crt"

# The API server picks registrations up asynchronously: wait until a bad job is refused.
probe='{"apiVersion":"kubeflow.org/v1","kind":"TFJob","metadata":{"name":"probe"},"spec":{"tfReplicaSpecs":{}}}'
for i in $(seq 100); do
  if ! echo "$probe" | k apply -n "$ns" --dry-run=server -f - >/dev/null 2>&1; then break; fi
  sleep 0.2
  [ "$i" = 100 ] && { echo "webhook registration never took effect" >&2; exit 1; }
done

# --- scenarios --------------------------------------------------------------------------------
jpath() { python3 -c 'import json,sys; d=json.load(sys.stdin)
for p in sys.argv[1].split("/"): d = d[int(p)] if isinstance(d, list) else d.get(p) if isinstance(d, dict) else None
print(json.dumps(d, sort_keys=True))' "$1"; }

expect_json() {  # expect_json RESOURCE NAME PATH EXPECTED_JSON
  got=$(k get -n "$ns" "$1" "$2" -o json | jpath "$3")
  if [ "$got" = "$4" ]; then echo "  ok  $1/$2 $3 = $got"; else fail "$1/$2 $3 = $got, want $4"; fi
}

scenario_examples() {
  for f in "$repo"/examples/*.yaml; do
    echo "--- kubectl apply -f examples/$(basename "$f")"
    k apply -n "$ns" -f "$f" || fail "apply $f"
  done
  expect_json tfjob mnist-tf spec/tfReplicaSpecs/Worker/restartPolicy '"Never"'
  expect_json tfjob mnist-tf spec/tfReplicaSpecs/PS/template/spec/containers/0/ports/0 \
    '{"containerPort": 2222, "name": "tfjob-port"}'
  expect_json tfjob mnist-tf spec/runPolicy/cleanPodPolicy '"None"'
  expect_json tfjob mnist-tf spec/successPolicy '""'
  expect_json tfjob mnist-tf spec/tfReplicaSpecs/Worker/template/spec/containers/0/resources/requests/cpu '"1"'
  expect_json pytorchjob mnist-pytorch spec/pytorchReplicaSpecs/Worker/restartPolicy '"OnFailure"'
  expect_json pytorchjob mnist-pytorch spec/nprocPerNode '"auto"'
  expect_json pytorchjob mnist-pytorch spec/runPolicy/cleanPodPolicy '"Running"'
  expect_json pytorchjob mnist-pytorch spec/pytorchReplicaSpecs/Master/template/spec/containers/0/ports/0/containerPort 23456
  expect_json xgboostjob iris-xgboost spec/xgbReplicaSpecs/Worker/restartPolicy '"ExitCode"'
  expect_json xgboostjob iris-xgboost spec/xgbReplicaSpecs/Master/template/spec/containers/0/ports/0/name '"xgboostjob-port"'
  expect_json xdljob deepctr-xdl spec/runPolicy/backoffLimit 20
  expect_json xdljob deepctr-xdl spec/runPolicy/cleanPodPolicy '"Running"'
  expect_json xdljob deepctr-xdl spec/minFinishWorkRate 90
  expect_json xdljob deepctr-xdl spec/xdlReplicaSpecs/Scheduler/replicas 1
  expect_json tfjob mnist-tf-code-sync spec/tfReplicaSpecs/Worker/restartPolicy '"Never"'
  # Re-applying the same files changes nothing: kubectl's merge patch replaces the container
  # lists, the webhook defaults them again, and the stored object stays at generation 1.
  for f in "$repo"/examples/*.yaml; do
    k apply -n "$ns" -f "$f" >/dev/null || fail "re-apply $f"
  done
  expect_json tfjob mnist-tf metadata/generation 1
  expect_json pytorchjob mnist-pytorch metadata/generation 1
  expect_json xgboostjob iris-xgboost metadata/generation 1
  expect_json xdljob deepctr-xdl metadata/generation 1
  k get -n "$ns" tfjob,pytorchjob,xgbjob,xdljob
}

# A job built from a base TFJob by a python expression on `j` (the parsed object).
job() {  # job KIND NAME PY_EXPR
  python3 - "$@" <<'PY'
import json, sys
kind, name, expr = sys.argv[1], sys.argv[2], sys.argv[3]
def t(c="tensorflow"): return {"spec": {"containers": [{"name": c, "image": "busybox:1.36"}]}}
bases = {
 "TFJob": ("kubeflow.org/v1", "tfReplicaSpecs", {"Worker": {"replicas": 2, "template": t()}}),
 "PyTorchJob": ("kubeflow.org/v1", "pytorchReplicaSpecs", {"Master": {"replicas": 1, "template": t("pytorch")}, "Worker": {"replicas": 1, "template": t("pytorch")}}),
 "XGBoostJob": ("kubeflow.org/v1", "xgbReplicaSpecs", {"Master": {"replicas": 1, "template": t("xgboost")}, "Worker": {"replicas": 1, "template": t("xgboost")}}),
 "XDLJob": ("xdl.kubedl.io/v1alpha1", "xdlReplicaSpecs", {"Worker": {"replicas": 1, "template": t("xdl")}}),
}
api, key, replicas = bases[kind]
j = {"apiVersion": api, "kind": kind, "metadata": {"name": name}, "spec": {key: replicas}}
s, r = j["spec"], j["spec"][key]
exec(expr)
print(json.dumps(j))
PY
}

refused() {  # refused DESCRIPTION EXPECTED_SUBSTRING KIND NAME PY_EXPR
  local what=$1 want=$2
  shift 2
  echo "--- $what"
  if out=$(job "$@" | k apply -n "$ns" -f - 2>&1); then
    fail "$what: accepted: $out"
  else
    echo "$out"
    case "$out" in *"$want"*) ;; *) fail "$what: message lacks: $want" ;; esac
  fi
}

scenario_mistakes() {
  refused "missing image" \
    'TFJob.kubeflow.org "no-image" is invalid: spec.tfReplicaSpecs[Worker].template.spec.containers[0].image: Required value' \
    TFJob no-image 'del r["Worker"]["template"]["spec"]["containers"][0]["image"]'
  refused "name not a DNS-1035 label" 'metadata.name: Invalid value: "v1.job": a DNS-1035 label' \
    TFJob v1.job 'pass'
  refused "unknown replica type" \
    'spec.tfReplicaSpecs[Launcher]: Unsupported value: "Launcher": supported values: "PS", "Master", "Chief", "Worker", "Evaluator"' \
    TFJob bad-type 'r["Launcher"] = r["Worker"]'
  refused "negative replicas" \
    'spec.tfReplicaSpecs[Worker].replicas: Invalid value: -1: must be greater than or equal to 0' \
    TFJob negative 'r["Worker"]["replicas"] = -1'
  refused "bad restartPolicy" 'spec.xgbReplicaSpecs[Worker].restartPolicy: Unsupported value: "Sometimes"' \
    XGBoostJob bad-restart 'r["Worker"]["restartPolicy"] = "Sometimes"'
  refused "bad cleanPodPolicy" 'spec.runPolicy.cleanPodPolicy: Unsupported value: "Some"' \
    PyTorchJob bad-clean 's["runPolicy"] = {"cleanPodPolicy": "Some"}'
  refused "TF Chief and Master" 'spec.tfReplicaSpecs: Forbidden: at most one of Chief and Master may be specified' \
    TFJob chief-master 'r["Chief"] = dict(r["Worker"], replicas=1); r["Master"] = dict(r["Worker"], replicas=1)'
  refused "XGBoost without Master" 'spec.xgbReplicaSpecs[Master]: Required value: a Master replica is required' \
    XGBoostJob no-master 'del r["Master"]'
  refused "PyTorch with two Masters" 'spec.pytorchReplicaSpecs[Master].replicas: Invalid value: 2: must be 1' \
    PyTorchJob two-masters 'r["Master"]["replicas"] = 2'
  refused "XDL minFinishWorkRate over 100" 'spec.minFinishWorkRate: Invalid value: 150: must be between 1 and 100, inclusive' \
    XDLJob rate 's["minFinishWorkRate"] = 150'
  refused "no container with the framework name" \
    'spec.pytorchReplicaSpecs[Worker].template.spec.containers: Required value: one container must be named "pytorch"' \
    PyTorchJob unnamed 'r["Worker"]["template"]["spec"]["containers"][0]["name"] = "main"'
  refused "malformed code-sync annotation" \
    'metadata.annotations[kubedl.io/git-sync-config].source: Required value' \
    TFJob code-sync 'j["metadata"]["annotations"] = {"kubedl.io/git-sync-config": "{\"branch\": \"main\"}"}'
  refused "inline code-sync password" \
    'metadata.annotations[kubedl.io/git-sync-config].password: Forbidden: inline passwords are not accepted; put it in a Secret under the key "password" and name the Secret in secretRef' \
    TFJob inline-password 'j["metadata"]["annotations"] = {"kubedl.io/git-sync-config": "{\"source\": \"https://git.example.com/r.git\", \"user\": \"bot\", \"password\": \"hunter2-inline\"}"}'
  case "$out" in *hunter2-inline*) fail "the refusal echoes the password: $out" ;; esac
  refused "code-sync credentials in the URL" \
    'metadata.annotations[kubedl.io/git-sync-config].source: Forbidden: credentials in the URL are not accepted' \
    TFJob url-password 'j["metadata"]["annotations"] = {"kubedl.io/git-sync-config": "{\"source\": \"https://bot:hunter2-inline@git.example.com/r.git\"}"}'
  case "$out" in *hunter2-inline*) fail "the refusal echoes the password: $out" ;; esac
  echo "--- code-sync credentials from a Secret (examples/training/code-sync/private-repo.yaml)"
  k apply -n "$ns" -f "$repo/examples/training/code-sync/private-repo.yaml" \
    || fail "the secretRef example was refused"
  refused "replicas of the wrong type" \
    'spec.tfReplicaSpecs[Worker].replicas: Invalid value: "two": must be of type integer' \
    TFJob typed 'r["Worker"]["replicas"] = "two"'
  refused "several mistakes at once, all listed" \
    '[spec.tfReplicaSpecs[Worker].replicas: Invalid value: -3: must be greater than or equal to 0, spec.tfReplicaSpecs[Worker].template.spec.containers[0].image: Required value]' \
    TFJob many 'r["Worker"]["replicas"] = -3; del r["Worker"]["template"]["spec"]["containers"][0]["image"]'
  # Issue 13's cases: each refused with its field named (the reconciler refuses the same jobs
  # when the webhook is off: test/integration/reconciler).
  refused "replicas over the per-type limit" \
    'spec.tfReplicaSpecs[Worker].replicas: Invalid value: 2147483647: must be less than or equal to 5000' \
    TFJob huge 'r["Worker"]["replicas"] = 2147483647'
  refused "replicas over the per-type limit (100000)" \
    'spec.tfReplicaSpecs[Worker].replicas: Invalid value: 100000: must be less than or equal to 5000' \
    TFJob large 'r["Worker"]["replicas"] = 100000'
  refused "replicas over the per-job limit" \
    'spec.tfReplicaSpecs: Invalid value: 10001: the replicas of all types add up to more than the maximum of 10000 per job' \
    TFJob wide 'r["Worker"]["replicas"] = 5000; r["PS"] = dict(r["Worker"], replicas=5000); r["Evaluator"] = dict(r["Worker"], replicas=1)'
  refused "an empty spec" 'spec.tfReplicaSpecs: Required value' \
    TFJob empty-spec 'j["spec"] = {}'
  refused "a 63-character name whose service names would be too long" \
    "metadata.name: Invalid value: \"$(printf 'a%.0s' $(seq 63))\": must be no more than 54 characters: the service of Worker replica 1 would be named" \
    TFJob "$(printf 'a%.0s' $(seq 63))" 'pass'
  refused "negative ttlSecondsAfterFinished and activeDeadlineSeconds" \
    '[spec.runPolicy.ttlSecondsAfterFinished: Invalid value: -1: must be greater than or equal to 0, spec.runPolicy.activeDeadlineSeconds: Invalid value: -5: must be greater than or equal to 0]' \
    TFJob negative-ttl 's["runPolicy"] = {"ttlSecondsAfterFinished": -1, "activeDeadlineSeconds": -5}'
  refused "an args entry that is not a string" \
    'spec.tfReplicaSpecs[Worker].template.spec.containers[0].args[1]: Invalid value: 3: must be of type string' \
    TFJob args-number 'r["Worker"]["template"]["spec"]["containers"][0]["args"] = ["--steps", 3]'
  refused "a nodeSelector that is not a map" \
    'spec.tfReplicaSpecs[Worker].template.spec.nodeSelector: Invalid value: "array": must be of type object' \
    TFJob selector-list 'r["Worker"]["template"]["spec"]["nodeSelector"] = ["disk=ssd"]'
  # Pod templates are checked against the API server's Pod schema (read from
  # /openapi/v3/api/v1: the webhook runs with this test's $KUBECONFIG).
  grep -q "Pod schema: openapi-v3" "$work/webhook.log" ||
    fail "the webhook did not read the served Pod schema: $(grep -i 'pod schema' "$work/webhook.log")"
  echo "--- a containerPort written as a string (issue 13's poison manifest)"
  if out=$(k apply -n "$ns" -f - 2>&1 <<'YAML'
apiVersion: kubeflow.org/v1
kind: TFJob
metadata: {name: poison}
spec:
  tfReplicaSpecs:
    Worker:
      replicas: 1
      template:
        spec:
          containers:
          - {name: tensorflow, image: busybox, ports: [{name: tfjob-port, containerPort: "2222"}]}
YAML
  ); then
    fail "poison: accepted: $out"
  else
    echo "$out"
    want='TFJob.kubeflow.org "poison" is invalid: spec.tfReplicaSpecs[Worker].template.spec.containers[0].ports[0].containerPort: Invalid value: "2222": must be of type integer'
    case "$out" in *"$want"*) ;; *) fail "poison: message lacks: $want" ;; esac
  fi
  refused "env that is not a list" \
    'spec.tfReplicaSpecs[Worker].template.spec.containers[0].env: Invalid value: "object": must be of type array' \
    TFJob env-map 'r["Worker"]["template"]["spec"]["containers"][0]["env"] = {"A": "b"}'
  refused "a memory limit that is not a quantity" \
    'spec.tfReplicaSpecs[Worker].template.spec.containers[0].resources.limits[memory]: Invalid value: "1GB": must be a quantity' \
    TFJob bad-memory 'r["Worker"]["template"]["spec"]["containers"][0]["resources"] = {"limits": {"memory": "1GB"}}'
  refused "a field only the served schema knows" \
    'spec.tfReplicaSpecs[Worker].template.spec.dnsConfig.nameservers[0]: Invalid value: 8: must be of type string' \
    TFJob dns 'r["Worker"]["template"]["spec"]["dnsConfig"] = {"nameservers": [8]}'
  echo "--- UPDATE that changes the queue"
  job TFJob queued 's["runPolicy"] = {"schedulingPolicy": {"queue": "team-a"}}' | k apply -n "$ns" -f - ||
    fail "create queued"
  refused "queue changed on update" \
    'spec.runPolicy.schedulingPolicy.queue: Invalid value: "team-b": field is immutable' \
    TFJob queued 's["runPolicy"] = {"schedulingPolicy": {"queue": "team-b"}}'
  echo "--- DELETE is allowed"
  k delete -n "$ns" tfjob queued || fail "delete"
}

scenario_legacy() {
  echo "--- kubectl apply of a TFJob with flat run-policy keys"
  out=$(job TFJob legacy 's.update({"cleanPodPolicy": "All", "backoffLimit": 4, "activeDeadlineSeconds": 600})' |
        k apply -n "$ns" -f - 2>&1) || fail "apply legacy: $out"
  echo "$out"
  for key in cleanPodPolicy backoffLimit activeDeadlineSeconds; do
    case "$out" in *"Warning: spec.$key is deprecated: moved to spec.runPolicy.$key"*) ;;
      *) fail "no warning for $key" ;; esac
  done
  expect_json tfjob legacy spec/runPolicy/cleanPodPolicy '"All"'
  expect_json tfjob legacy spec/runPolicy/backoffLimit 4
  expect_json tfjob legacy spec/runPolicy/activeDeadlineSeconds 600
  expect_json tfjob legacy spec/cleanPodPolicy null
  expect_json tfjob legacy spec/backoffLimit null
}

serial() {
  openssl s_client -connect "127.0.0.1:$port" -servername localhost -CAfile "$work/ca.crt" \
    </dev/null 2>/dev/null | openssl x509 -noout -serial
}

# A 1.3 MB TFJob (one container with 30,000 env vars) through the API server: the webhook's peak
# RSS above its resting RSS must stay within 10x the job's JSON (docs/security.md). The high-water
# mark is reset first (clear_refs 5), so only these two admission calls count.
scenario_memory() {
  job TFJob large-job 'r["Worker"]["template"]["spec"]["containers"][0]["env"] = [{"name": "VAR_%d" % i, "value": "value-%d" % i} for i in range(30000)]' \
    >"$work/large-job.json"
  bytes=$(stat -c %s "$work/large-job.json")
  # Warm up (TLS session, allocator arenas) with a small job, then measure.
  job TFJob warm-up 'pass' | k create -n "$ns" -f - >/dev/null || fail "create warm-up"
  rss_kib() { awk "/^$1:/ {print \$2}" "/proc/$pid/status"; }
  echo 5 >"/proc/$pid/clear_refs" || fail "cannot reset the webhook's peak RSS"
  resting=$(rss_kib VmRSS)
  k create -n "$ns" -f "$work/large-job.json" >/dev/null || fail "create of the large job"
  peak=$(rss_kib VmHWM)
  growth=$(( (peak - resting) * 1024 ))
  factor=$(python3 -c "print(f'{$growth / $bytes:.1f}')")
  echo "large job: $bytes bytes of JSON; webhook RSS resting $resting KiB, peak $peak KiB: +$growth bytes, ${factor}x the job"
  [ "$growth" -le $((10 * bytes)) ] || fail "the webhook grew ${factor}x the job's size (more than 10x)"
  expect_json tfjob large-job spec/tfReplicaSpecs/Worker/restartPolicy '"Never"'
  k delete -n "$ns" tfjob large-job warm-up --wait=false >/dev/null || true
}

scenario_rotation() {
  before=$(serial)
  echo "served before rotation: $before"
  bash "$repo/tools/certs/gen.sh" server "$work/next" server "$work/ca" 127.0.0.1,localhost
  mv "$work/next/server.key" "$work/server.key"
  mv "$work/next/server.crt" "$work/server.crt"
  want=$(openssl x509 -noout -serial -in "$work/server.crt")
  after=$before
  for _ in $(seq 50); do
    after=$(serial)
    [ "$after" = "$want" ] && break
    sleep 0.2
  done
  echo "served after rotation:  $after (file: $want)"
  [ "$after" = "$want" ] || fail "rotated certificate not served"
  kill -0 "$pid" || fail "webhook restarted or died"
  # The API server reaches the webhook with the new certificate.
  job TFJob after-rotation 'pass' | k apply -n "$ns" -f - || fail "apply after rotation"
  expect_json tfjob after-rotation spec/tfReplicaSpecs/Worker/restartPolicy '"Never"'
  refused "still validating after rotation" 'spec.tfReplicaSpecs[Worker].replicas: Invalid value: -1' \
    TFJob rotated-bad 'r["Worker"]["replicas"] = -1'
}

scenario_mutual_tls() {
  # Through the API server, which presents its webhook client certificate: defaulted, refused.
  job TFJob over-mtls 'pass' | k apply -n "$ns" -f - || fail "apply over mutual TLS"
  expect_json tfjob over-mtls spec/tfReplicaSpecs/Worker/restartPolicy '"Never"'
  refused "validating over mutual TLS" 'spec.tfReplicaSpecs[Worker].replicas: Invalid value: -1' \
    TFJob mtls-bad 'r["Worker"]["replicas"] = -1'
  # Straight to the port: without a certificate, or with one another CA signed, nothing is served.
  local body='{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}' url
  url="https://127.0.0.1:$port/validate-kubeflow-org-v1-tfjob"
  for who in none stranger; do
    local cert=()
    [ "$who" = stranger ] && cert=(--cert "$work/stranger.crt" --key "$work/stranger.key")
    if out=$(curl -sS --max-time 10 --cacert "$work/ca.crt" "${cert[@]}" -H 'Content-Type: application/json' \
        -d "$body" "$url" 2>&1); then
      fail "a caller with certificate '$who' was served: $out"
    else
      echo "  ok  caller with certificate '$who' refused: $(tail -1 <<< "$out")"
    fi
  done
  code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$work/ca.crt" "${caller[@]}" \
    -H 'Content-Type: application/json' -d "$body" "$url")
  [ "$code" = 400 ] && echo "  ok  the trusted caller is served (a review without a request: $code)" \
    || fail "the trusted caller got HTTP $code, want 400"
  grep -q "TLS handshake failed" "$work/webhook.log" || fail "the webhook logged no refused handshake"
}

"scenario_${scenario//-/_}"
kill -0 "$pid" || fail "webhook died"
if [ "$failures" -gt 0 ]; then
  echo "--- webhook log"; tail -20 "$work/webhook.log"
  echo "$failures failure(s)" >&2
  exit 1
fi
echo "PASS $scenario"
