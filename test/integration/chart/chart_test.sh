#!/usr/bin/env bash
# The Helm chart: lint is clean; every value set renders to objects the real API server accepts
# (server-side dry run); an install creates every object, with a webhook configuration that
# points at the webhook Service and a caBundle that verifies the serving certificate; an upgrade
# keeps the webhook's certificate but rotates the gRPC ones (internalTls), whose bundles keep the
# previous CA; an uninstall leaves nothing behind but the CRDs.
set -euo pipefail
: "${KUBECONFIG:?run through tools/run-tests.sh (make test)}"
repo=${KUBEDL_REPO:-$(cd "$(dirname "$0")/../../.." && pwd)}
chart=$repo/charts/kubedl
here=$(cd "$(dirname "$0")" && pwd)
k() { "$KUBECTL" "$@"; }
h() { "$HELM" "$@"; }
run=$RANDOM$$
ns=chart-$run release=kt$run
work=$(mktemp -d)
fail() { echo "FAIL: $*" >&2; exit 1; }
cleanup() {
  h uninstall "$release" -n "$ns" >/dev/null 2>&1 || true
  k delete namespace "$ns" --wait=false >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
# Keep the test's webhooks away from every other namespace: they match a label nobody has.
isolate=(--set-string "webhook.namespaceSelector.matchLabels.kubedl-chart-test=$run")

echo "--- helm lint"
h lint "$chart" --strict | tee "$work/lint.txt"
grep -q "0 chart(s) failed" "$work/lint.txt" || fail "helm lint failed"

k create namespace "$ns" >/dev/null
# values/cert-manager.yaml renders cert-manager's kinds: their CRDs, at the pinned version, make
# the dry run check each Issuer and Certificate against cert-manager's own schema.
source "$repo/tools/controlplane/versions.env"
cert_manager_crds=$(bash "$repo/tools/controlplane/go-module-files.sh" github.com/cert-manager/cert-manager \
  "$CERT_MANAGER_VERSION" deploy/crds) || fail "cannot fetch cert-manager $CERT_MANAGER_VERSION's CRDs"
k apply --server-side --force-conflicts -f "$cert_manager_crds" >/dev/null
k wait --for=condition=Established --timeout=60s crd/certificates.cert-manager.io crd/issuers.cert-manager.io >/dev/null
echo "--- server-side dry run of every value set"
for values in default "$here"/values/*.yaml; do
  args=(); [ "$values" = default ] || args=(-f "$values")
  h template "$release" "$chart" -n "$ns" --include-crds "${args[@]}" "${isolate[@]}" > "$work/out.yaml" \
    || fail "helm template failed for $values"
  count=$(grep -c '^kind:' "$work/out.yaml")
  k apply --dry-run=server -n "$ns" -f "$work/out.yaml" > "$work/dry.txt" 2>&1 \
    || { cat "$work/dry.txt" >&2; fail "the API server refused the objects of $(basename "$values")"; }
  echo "  $(basename "$values"): $count objects accepted"
done
cm_objects=$(h template "$release" "$chart" -n "$ns" -f "$here/values/cert-manager.yaml" | grep -c '^apiVersion: cert-manager.io/v1')
[ "$cm_objects" -ge 8 ] || fail "values/cert-manager.yaml rendered $cm_objects cert-manager objects, want 8 or more"
echo "  of which $cm_objects cert-manager objects, checked against cert-manager $CERT_MANAGER_VERSION's CRDs"

echo "--- helm schema refuses a bad value"
if h template "$release" "$chart" --set reconciler.mode=sometimes >/dev/null 2>"$work/err.txt"; then
  fail "values schema accepted reconciler.mode=sometimes"
fi
grep -q "reconciler.mode" "$work/err.txt" || fail "schema error does not name the value: $(cat "$work/err.txt")"

echo "--- helm install"
h install "$release" "$chart" -n "$ns" "${isolate[@]}" --wait=false > /dev/null
want=$(h get manifest "$release" -n "$ns" | grep -c '^kind:')
have=0
while read -r kind name; do
  case "$kind" in
    ClusterRole|ClusterRoleBinding|MutatingWebhookConfiguration|ValidatingWebhookConfiguration)
      k get "$kind" "$name" >/dev/null ;;
    *) k -n "$ns" get "$kind" "$name" >/dev/null ;;
  esac && have=$((have + 1))
done < <(h get manifest "$release" -n "$ns" | awk '/^kind:/{kind=$2} /^  name:/{if (kind) {print kind, $2; kind=""}}')
[ "$have" = "$want" ] || fail "install created $have of $want objects"
echo "  $have objects created"

secret=$release-kubedl-webhook-tls
service=$release-kubedl-webhook
kinds=$(bash "$repo/tools/chart-kinds.sh" | wc -l)  # the chart's list of job kinds
for cfg in mutatingwebhookconfiguration/$release-kubedl-mutate validatingwebhookconfiguration/$release-kubedl-validate; do
  k get "$cfg" -o jsonpath='{range .webhooks[*]}{.clientConfig.service.name} {.clientConfig.service.namespace} {.clientConfig.service.path}{"\n"}{end}' > "$work/svc.txt"
  [ "$(wc -l < "$work/svc.txt")" -eq "$kinds" ] || fail "$cfg does not have one webhook per kind"
  awk -v s="$service" -v n="$ns" '$1 != s || $2 != n {exit 1}' "$work/svc.txt" || fail "$cfg does not point at the webhook service"
  k get "$cfg" -o jsonpath='{.webhooks[0].clientConfig.caBundle}' | base64 -d > "$work/ca.crt"
  k -n "$ns" get secret "$secret" -o jsonpath='{.data.tls\.crt}' | base64 -d > "$work/tls.crt"
  openssl verify -CAfile "$work/ca.crt" "$work/tls.crt" >/dev/null || fail "$cfg caBundle does not verify the serving certificate"
  openssl x509 -in "$work/tls.crt" -noout -ext subjectAltName | grep -q "DNS:$service.$ns.svc" \
    || fail "serving certificate lacks the SAN $service.$ns.svc"
done
grep -q "/mutate-kubeflow-org-v1-tfjob" "$work/svc.txt" || grep -q "/validate-kubeflow-org-v1-tfjob" "$work/svc.txt" \
  || fail "webhook paths are not the webhook's endpoints"
echo "  webhook configurations point at $service with a caBundle that verifies its certificate"

echo "--- helm upgrade keeps the certificate"
before=$(k -n "$ns" get secret "$secret" -o jsonpath='{.data.tls\.crt}')
grpc_secret() { k -n "$ns" get secret "$release-kubedl-$1-grpc-tls" -o jsonpath="{.data.${2//./\\.}}" | base64 -d; }
grpc_secret reconciler tls.crt > "$work/client-before.crt"
h upgrade "$release" "$chart" -n "$ns" "${isolate[@]}" --wait=false > /dev/null
[ "$(k -n "$ns" get secret "$secret" -o jsonpath='{.data.tls\.crt}')" = "$before" ] || fail "upgrade rotated the certificate"

echo "--- helm upgrade rotates the gRPC certificates; the bundles keep the previous CA"
grpc_secret reconciler tls.crt > "$work/client.crt"
grpc_secret metrics tls.crt > "$work/metrics.crt"
grpc_secret metrics ca.crt > "$work/metrics-trusts.crt"
grpc_secret reconciler ca.crt > "$work/reconciler-trusts.crt"
cmp -s "$work/client.crt" "$work/client-before.crt" && fail "upgrade kept the reconciler's gRPC client certificate"
[ "$(grep -c 'BEGIN CERTIFICATE' "$work/metrics-trusts.crt")" = 2 ] || fail "the metrics service's client CA bundle does not hold the new and the previous CA"
openssl verify -CAfile "$work/metrics-trusts.crt" "$work/client.crt" >/dev/null || fail "metrics does not trust the new client certificate"
openssl verify -CAfile "$work/metrics-trusts.crt" "$work/client-before.crt" >/dev/null || fail "metrics no longer trusts the previous client certificate"
openssl verify -CAfile "$work/reconciler-trusts.crt" "$work/metrics.crt" >/dev/null || fail "the reconciler does not trust the metrics certificate"
openssl verify -CAfile "$work/metrics-trusts.crt" "$work/metrics.crt" >/dev/null 2>&1 && fail "a service certificate passes as a client certificate"
openssl x509 -in "$work/metrics.crt" -noout -ext subjectAltName | grep -q "DNS:$release-kubedl-metrics.$ns.svc" \
  || fail "metrics certificate lacks the SAN $release-kubedl-metrics.$ns.svc"
k -n "$ns" get networkpolicy "$release-kubedl-metrics" >/dev/null || fail "no NetworkPolicy for the metrics service"

echo "--- helm uninstall"
h uninstall "$release" -n "$ns" --wait >/dev/null
left=$(k get clusterrole,clusterrolebinding,mutatingwebhookconfiguration,validatingwebhookconfiguration -o name | grep -c "$release" || true)
left_ns=$(k -n "$ns" get all,secret,serviceaccount,role,rolebinding,pdb -o name 2>/dev/null | grep -c "$release" || true)
[ "$left" = 0 ] && [ "$left_ns" = 0 ] || fail "uninstall left $left cluster and $left_ns namespaced objects"
echo "PASS"
