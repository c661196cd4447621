#!/usr/bin/env bash
# The local control plane does what every other test relies on: a namespace and a CRD can be
# created, a pod is scheduled onto a KWOK node and goes Running, a pod annotated with an exit code
# finishes with it, and the garbage collector deletes the pods of a deleted owner.
set -euo pipefail
: "${KUBECONFIG:?run through tools/run-tests.sh (make test)}"
k() { "${KUBECTL:-kubectl}" "$@"; }
ns=smoke-$$-$RANDOM
fail() { echo "FAIL: $*" >&2; k -n "$ns" get pods -o wide >&2 || true; exit 1; }
trap 'k delete namespace "$ns" --wait=false >/dev/null 2>&1 || true; k delete crd widgets.smoke.kubedl.io --wait=false >/dev/null 2>&1 || true' EXIT

k create namespace "$ns" >/dev/null

k apply -f - >/dev/null <<'YAML'
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.smoke.kubedl.io}
spec:
  group: smoke.kubedl.io
  names: {kind: Widget, plural: widgets, singular: widget}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, properties: {size: {type: integer}}}
          status: {type: object, properties: {ready: {type: boolean}}}
YAML
k wait --for=condition=Established crd/widgets.smoke.kubedl.io --timeout=30s >/dev/null
for _ in $(seq 50); do
  k -n "$ns" apply -f - >/dev/null 2>&1 <<'YAML' && break
apiVersion: smoke.kubedl.io/v1
kind: Widget
metadata: {name: w1}
spec: {size: 3}
YAML
  sleep 0.2
done
[ "$(k -n "$ns" get widget w1 -o jsonpath='{.spec.size}')" = 3 ] || fail "custom resource not stored"

owner_uid=$(k -n "$ns" create configmap owner -o jsonpath='{.metadata.uid}')
k -n "$ns" apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: runs
  ownerReferences:
  - {apiVersion: v1, kind: ConfigMap, name: owner, uid: $owner_uid, controller: true, blockOwnerDeletion: true}
spec:
  containers: [{name: main, image: busybox}]
---
apiVersion: v1
kind: Pod
metadata:
  name: exits
  annotations: {kwok.kubedl.io/exit-code: "3", kwok.kubedl.io/run-for: "1s"}
spec:
  restartPolicy: Never
  containers: [{name: main, image: busybox}]
YAML

k -n "$ns" wait --for=jsonpath='{.status.phase}'=Running pod/runs --timeout=60s >/dev/null \
  || fail "pod did not go Running"
node=$(k -n "$ns" get pod runs -o jsonpath='{.spec.nodeName}')
[[ $node == kwok-node-* ]] || fail "pod was not scheduled onto a KWOK node (node: '$node')"

k -n "$ns" wait --for=jsonpath='{.status.phase}'=Failed pod/exits --timeout=60s >/dev/null \
  || fail "annotated pod did not finish Failed"
code=$(k -n "$ns" get pod exits -o jsonpath='{.status.containerStatuses[0].state.terminated.exitCode}')
[ "$code" = 3 ] || fail "exit code is '$code', want 3"

k -n "$ns" delete configmap owner >/dev/null
for _ in $(seq 150); do
  k -n "$ns" get pod runs >/dev/null 2>&1 || { echo "PASS"; exit 0; }
  sleep 0.2
done
fail "garbage collector did not delete the pod of a deleted owner"
