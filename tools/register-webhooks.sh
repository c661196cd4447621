#!/usr/bin/env bash
# Registers a webhook running outside the cluster (url + caBundle) for every job kind, with a
# Mutating and a Validating WebhookConfiguration named NAME whose namespaceSelector matches
# namespaces labelled kubedl.io/webhook=NAME.
#   register-webhooks.sh NAME BASE_URL CA_FILE
# The kinds are the chart's list (tools/chart-kinds.sh), equal to lib/api's kind table: the unit
# tests ChartKinds.* check that, and RegisterWebhooks.* this script's output.
set -euo pipefail
name=$1 base=$2 ca=$3
: "${KUBECTL:?KUBECTL must point at kubectl}"
repo=$(cd "$(dirname "$0")/.." && pwd)
kinds=$(bash "$repo/tools/chart-kinds.sh")
[ -n "$kinds" ] || { echo "no kinds in $repo/charts/kubedl/kinds.yaml" >&2; exit 1; }
ca_bundle=$(base64 -w0 <"$ca")
for kind_prefix in Mutating:mutate Validating:validate; do
  IFS=: read -r kind prefix <<<"$kind_prefix"
  {
    echo "apiVersion: admissionregistration.k8s.io/v1"
    echo "kind: ${kind}WebhookConfiguration"
    echo "metadata: {name: $name}"
    echo "webhooks:"
    while read -r jobkind group version plural; do
      jobkind=${jobkind,,}
      cat <<YAML
- name: $prefix.$jobkind.$name.kubedl.io
  admissionReviewVersions: [v1]
  sideEffects: None
  failurePolicy: Fail
  timeoutSeconds: 5
  namespaceSelector: {matchLabels: {kubedl.io/webhook: $name}}
  clientConfig:
    url: $base/$prefix-${group//./-}-$version-$jobkind
    caBundle: $ca_bundle
  rules:
  - {apiGroups: ["$group"], apiVersions: ["$version"], resources: ["$plural"], operations: [CREATE, UPDATE], scope: Namespaced}
YAML
    done <<<"$kinds"
  } | "$KUBECTL" apply -f - >/dev/null
done
