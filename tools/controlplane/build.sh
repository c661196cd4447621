#!/usr/bin/env bash
# Builds the local control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
# kubectl, kwok, kwokctl, helm) from Go modules into $KUBEDL_CACHE/bin/<component>-<version>/.
# A component whose folder already holds its binaries is not rebuilt.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"
cache=${KUBEDL_CACHE:-$HOME/.cache/kubedl}
export GOMODCACHE=$cache/go/mod GOCACHE=$cache/go/build GOFLAGS=-mod=mod CGO_ENABLED=0 GOTOOLCHAIN=local
export GOPROXY=${GOPROXY:-}   # keep whatever the machine's Go is configured with
[ -n "$GOPROXY" ] || unset GOPROXY
mkdir -p "$cache/bin" "$cache/src"

log() { printf '[control-plane build] %s\n' "$*" >&2; }

have_all() { local dir=$1; shift; for b in "$@"; do [ -x "$dir/$b" ] || return 1; done; }

# Kubernetes publishes its staging modules at v0.<minor>.<patch>; its own go.mod maps them to
# ./staging at v0.0.0, which a consumer cannot resolve, so the wrapper replaces each one.
build_kubernetes() {
  local out=$cache/bin/kubernetes-$K8S_VERSION
  have_all "$out" kube-apiserver kube-controller-manager kube-scheduler kubectl && return 0
  local src=$cache/src/kubernetes-$K8S_VERSION staging=v0.${K8S_VERSION#v1.}
  local minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
  log "kubernetes $K8S_VERSION: resolving modules (first time only)"
  mkdir -p "$src"
  (cd "$src"
   go mod download -json "k8s.io/kubernetes@$K8S_VERSION" > /dev/null
   local kmod=$GOMODCACHE/cache/download/k8s.io/kubernetes/@v/$K8S_VERSION.mod
   {
     echo "module kubedl.local/controlplane/kubernetes"
     grep -E '^go [0-9]' "$kmod"
     grep -E '^godebug ' "$kmod" || true
     echo "require k8s.io/kubernetes $K8S_VERSION"
     sed -nE 's#^\s*(k8s\.io/[a-z0-9-]+) => \./staging/src/.*#replace \1 => \1 '"$staging"'#p' "$kmod"
   } > go.mod
   cat > tools.go <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
GO
   go mod tidy -e >/dev/null 2>&1 || true
   local ld="-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/client-go/pkg/version.gitVersion=$K8S_VERSION -X k8s.io/client-go/pkg/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMinor=$minor"
   mkdir -p "$out.tmp"
   for cmd in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
     log "kubernetes $K8S_VERSION: building $cmd (a cold build takes several minutes)"
     go build -trimpath -ldflags "$ld" -o "$out.tmp/$cmd" "k8s.io/kubernetes/cmd/$cmd"
   done)
  rm -rf "$out"; mv "$out.tmp" "$out"
}

build_etcd() {
  local out=$cache/bin/etcd-$ETCD_VERSION src=$cache/src/etcd-$ETCD_VERSION
  have_all "$out" etcd && return 0
  log "etcd $ETCD_VERSION: building"
  mkdir -p "$src" "$out.tmp"
  (cd "$src"
   printf 'module kubedl.local/controlplane/etcd\n\ngo 1.26\n' > go.mod
   printf '//go:build tools\n\npackage tools\n\nimport _ "go.etcd.io/etcd/server/v3"\n' > tools.go
   go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >/dev/null 2>&1
   go mod tidy -e >/dev/null 2>&1 || true
   go build -trimpath -ldflags "-s -w" -o "$out.tmp/etcd" go.etcd.io/etcd/server/v3)
  rm -rf "$out"; mv "$out.tmp" "$out"
}

build_kwok() {
  local out=$cache/bin/kwok-$KWOK_VERSION
  have_all "$out" kwok kwokctl && return 0
  log "kwok $KWOK_VERSION: building"
  mkdir -p "$out.tmp"
  GOBIN=$out.tmp go install -trimpath -ldflags "-s -w" \
    "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" "sigs.k8s.io/kwok/cmd/kwokctl@$KWOK_VERSION"
  rm -rf "$out"; mv "$out.tmp" "$out"
}

build_helm() {
  local out=$cache/bin/helm-$HELM_VERSION-k8s${K8S_VERSION}
  have_all "$out" helm && return 0
  log "helm $HELM_VERSION: building"
  mkdir -p "$out.tmp"
  # Without these, `helm template` assumes Kubernetes 1.20 for .Capabilities.KubeVersion.
  local minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
  local caps="-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$minor"
  caps+=" -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$minor"
  GOBIN=$out.tmp go install -trimpath \
    -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION $caps" \
    "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
  rm -rf "$out"; mv "$out.tmp" "$out"
}

start=$(date +%s)
# A cold build is quiet for minutes at a time: say every 30 s that it is still going.
if ! have_all "$cache/bin/kubernetes-$K8S_VERSION" kube-apiserver kube-controller-manager \
      kube-scheduler kubectl; then
  ( while sleep 30; do log "still building ($(( $(date +%s) - start ))s so far)"; done ) &
  ticker=$!
  trap 'kill $ticker 2>/dev/null' EXIT
fi
build_etcd
build_kwok
build_helm
build_kubernetes
log "ready in $(( $(date +%s) - start ))s: $cache/bin"
