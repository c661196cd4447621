#!/usr/bin/env bash
# Registers a webhook running outside the cluster (url + caBundle) for the four job kinds, with
# a Mutating and a Validating WebhookConfiguration named NAME whose namespaceSelector matches
# namespaces labelled kubedl.io/webhook=NAME.
#   register-webhooks.sh NAME BASE_URL CA_FILE
set -euo pipefail
name=$1 base=$2 ca=$3
: "${KUBECTL:?KUBECTL must point at kubectl}"
ca_bundle=$(base64 -w0 <"$ca")
for kind_prefix in Mutating:mutate Validating:validate; do
  IFS=: read -r kind prefix <<<"$kind_prefix"
  {
    echo "apiVersion: admissionregistration.k8s.io/v1"
    echo "kind: ${kind}WebhookConfiguration"
    echo "metadata: {name: $name}"
    echo "webhooks:"
    for kv in kubeflow.org:v1:tfjob:tfjobs kubeflow.org:v1:pytorchjob:pytorchjobs \
              kubeflow.org:v1:xgboostjob:xgboostjobs xdl.kubedl.io:v1alpha1:xdljob:xdljobs; do
      IFS=: read -r group version jobkind plural <<<"$kv"
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
    done
  } | "$KUBECTL" apply -f - >/dev/null
done
