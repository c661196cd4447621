#!/usr/bin/env bash
# Builds the local control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
# kubectl, kwok, kwokctl, helm) from Go modules into $KUBEDL_CACHE/bin/<component>-<version>/.
# A component whose folder already holds its binaries is not rebuilt.
# `build.sh --node` (or KUBEDL_REAL_NODES=1) also builds the parts of a real node: kubelet,
# kube-proxy, containerd (+ ctr, shim), CoreDNS and the pause program. Without it they are skipped,
# so the KWOK-only path costs nothing more.
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

want_node=0
[ "${1:-}" = --node ] && want_node=1
[ "${KUBEDL_REAL_NODES:-0}" = 0 ] || want_node=1

have_all() { local dir=$1; shift; for b in "$@"; do [ -x "$dir/$b" ] || return 1; done; }

k8s_ldflags() {
  local minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
  echo "-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/client-go/pkg/version.gitVersion=$K8S_VERSION -X k8s.io/client-go/pkg/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMinor=$minor"
}

# Kubernetes publishes its staging modules at v0.<minor>.<patch>; its own go.mod maps them to
# ./staging at v0.0.0, which a consumer cannot resolve, so the wrapper replaces each one.
build_kubernetes() {
  local out=$cache/bin/kubernetes-$K8S_VERSION
  have_all "$out" kube-apiserver kube-controller-manager kube-scheduler kubectl && return 0
  local src=$cache/src/kubernetes-$K8S_VERSION staging=v0.${K8S_VERSION#v1.}
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
   local ld; ld=$(k8s_ldflags)
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

# --- parts of a real node -------------------------------------------------------------------
# kubelet and kube-proxy come from the control plane's wrapper module (same pins, same caches),
# into their own folder so the control plane's folder check above is unchanged.
k8s_node_out=$cache/bin/kubernetes-node-$K8S_VERSION
build_kubernetes_node() {
  have_all "$k8s_node_out" kubelet kube-proxy && return 0
  local src=$cache/src/kubernetes-$K8S_VERSION ld; ld=$(k8s_ldflags)
  mkdir -p "$k8s_node_out.tmp"
  (cd "$src"
   for cmd in kubelet kube-proxy; do
     local t0; t0=$(date +%s)
     go build -trimpath -ldflags "$ld" -o "$k8s_node_out.tmp/$cmd" "k8s.io/kubernetes/cmd/$cmd"
     log "kubernetes $K8S_VERSION: built $cmd in $(( $(date +%s) - t0 ))s"
   done)
  rm -rf "$k8s_node_out"; mv "$k8s_node_out.tmp" "$k8s_node_out"
}

# Kubernetes 1.37's kubelet needs containerd 2.x (Debian's 1.6 is too old). The storage drivers
# left out need cgo or kernel features this machine lacks.
containerd_out=$cache/bin/containerd-$CONTAINERD_VERSION
build_containerd() {
  have_all "$containerd_out" containerd ctr containerd-shim-runc-v2 && return 0
  log "containerd $CONTAINERD_VERSION: building"
  local m=github.com/containerd/containerd/v2
  mkdir -p "$containerd_out.tmp"
  GOBIN=$containerd_out.tmp go install -trimpath -tags "no_btrfs no_zfs no_devmapper" \
    -ldflags "-s -w -X $m/version.Version=$CONTAINERD_VERSION" \
    "$m/cmd/containerd@$CONTAINERD_VERSION" "$m/cmd/ctr@$CONTAINERD_VERSION" \
    "$m/cmd/containerd-shim-runc-v2@$CONTAINERD_VERSION"
  rm -rf "$containerd_out"; mv "$containerd_out.tmp" "$containerd_out"
}

coredns_out=$cache/bin/coredns-$COREDNS_VERSION
build_coredns() {
  have_all "$coredns_out" coredns && return 0
  log "coredns $COREDNS_VERSION: building"
  mkdir -p "$coredns_out.tmp"
  GOBIN=$coredns_out.tmp go install -trimpath -ldflags "-s -w" "github.com/coredns/coredns@$COREDNS_VERSION"
  rm -rf "$coredns_out"; mv "$coredns_out.tmp" "$coredns_out"
}

# The pause program is ours: its folder is named after its source's digest, so an edit rebuilds it.
pause_out=$cache/bin/pause-$(cat "$here/node/pause/go.mod" "$here/node/pause/main.go" | sha256sum | cut -c1-12)
build_pause() {
  have_all "$pause_out" pause && return 0
  mkdir -p "$pause_out.tmp"
  (cd "$here/node/pause" && go build -trimpath -ldflags "-s -w" -o "$pause_out.tmp/pause" .)
  rm -rf "$pause_out"; mv "$pause_out.tmp" "$pause_out"
}

timed() {  # timed NAME FUNCTION: runs it and says how long it took (0-1 s when cached)
  local t0; t0=$(date +%s)
  "$2"
  log "$1: $(( $(date +%s) - t0 ))s"
}

node_built() {
  have_all "$k8s_node_out" kubelet kube-proxy && have_all "$containerd_out" containerd ctr \
    containerd-shim-runc-v2 && have_all "$coredns_out" coredns && have_all "$pause_out" pause
}

start=$(date +%s)
# A cold build is quiet for minutes at a time: say every 30 s that it is still going.
if ! have_all "$cache/bin/kubernetes-$K8S_VERSION" kube-apiserver kube-controller-manager \
      kube-scheduler kubectl || { [ "$want_node" = 1 ] && ! node_built; }; then
  ( while sleep 30; do log "still building ($(( $(date +%s) - start ))s so far)"; done ) &
  ticker=$!
  trap 'kill $ticker 2>/dev/null' EXIT
fi
build_etcd
build_kwok
build_helm
build_kubernetes
if [ "$want_node" = 1 ]; then
  timed "pause (real node)" build_pause
  timed "kubelet + kube-proxy $K8S_VERSION (real node)" build_kubernetes_node
  timed "containerd $CONTAINERD_VERSION (real node)" build_containerd
  timed "coredns $COREDNS_VERSION (real node)" build_coredns
fi
log "ready in $(( $(date +%s) - start ))s: $cache/bin"
