#!/usr/bin/env bash
# Builds the scheduler of sigs.k8s.io/scheduler-plugins (kube-scheduler with the Coscheduling
# plugin and the project's other plugins, the module's cmd/scheduler) at $SCHEDULER_PLUGINS_VERSION
# into $KUBEDL_CACHE/bin/scheduler-plugins-<version>/kube-scheduler, with the same Go caches as
# build.sh. A folder that already holds the binary is not rebuilt (the version is the key).
# Cold, on the shared 2-core machine: 548 s from empty Go caches (about 165 s of module downloads,
# 383 s of compiling); 255 s of compiling once the modules are cached.
#
#   scheduler-plugins.sh              build if missing; print the binary's path
#   scheduler-plugins.sh --path       print the binary's path (exit 1 when not built)
#   scheduler-plugins.sh --crd        print the path of the PodGroup CRD (scheduling.x-k8s.io)
#                                     from the module cache (downloads the module if missing)
#
# The module's go.mod pins k8s.io/kubernetes and maps every k8s.io staging module with `replace`
# lines; a dependency's replaces are ignored by Go, so the wrapper module repeats them.
# One of them names a version the Go module proxy does not serve (k8s.io/csi-translation-lib
# v0.34.7: "403 Forbidden, This module version is not available"); the wrapper takes the next
# patch release of the same minor line instead (overrides below).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"
cache=${KUBEDL_CACHE:-$HOME/.cache/kubedl}
export GOMODCACHE=$cache/go/mod GOCACHE=$cache/go/build GOFLAGS=-mod=mod CGO_ENABLED=0 GOTOOLCHAIN=local
export GOPROXY=${GOPROXY:-}   # keep whatever the machine's Go is configured with
[ -n "$GOPROXY" ] || unset GOPROXY

v=$SCHEDULER_PLUGINS_VERSION
mod=sigs.k8s.io/scheduler-plugins
out=$cache/bin/scheduler-plugins-$v
src=$cache/src/scheduler-plugins-$v
bin=$out/kube-scheduler
# module => version the wrapper uses instead of the one the module's replace names.
overrides=(k8s.io/csi-translation-lib=v0.34.8)

log() { printf '[scheduler-plugins build] %s\n' "$*" >&2; }

module_dir() {
  local dir=$GOMODCACHE/$mod@$v
  [ -f "$dir/go.mod" ] || go mod download "$mod@$v" >&2
  echo "$dir"
}

case "${1:-}" in
  --path) [ -x "$bin" ] || exit 1; echo "$bin"; exit 0 ;;
  --crd) echo "$(module_dir)/manifests/coscheduling/crd.yaml"; exit 0 ;;
  "") ;;
  *) echo "usage: $0 [--path|--crd]" >&2; exit 2 ;;
esac

if [ -x "$bin" ]; then echo "$bin"; exit 0; fi

start=$(date +%s)
( while sleep 30; do log "still building ($(( $(date +%s) - start ))s so far)"; done ) &
ticker=$!
trap 'kill $ticker 2>/dev/null' EXIT

log "$mod $v: resolving modules (first time only)"
mkdir -p "$src" "$cache/bin"
dir=$(module_dir)
(cd "$src"
 gomod=$dir/go.mod
 {
   echo "module kubedl.local/controlplane/scheduler-plugins"
   echo
   grep -E '^go [0-9]' "$gomod"
   echo
   echo "require $mod $v"
   echo
   # Every `replace` of the module, single-line and block form, as written there.
   awk '/^replace \(/{b=1; print; next} b{print; if ($0 ~ /^\)/) b=0; next} /^replace /{print}' "$gomod"
 } > go.mod
 for o in "${overrides[@]}"; do go mod edit -replace "${o%%=*}=${o%%=*}@${o#*=}"; done
 printf '//go:build tools\n\npackage tools\n\nimport _ "%s/cmd/scheduler"\n' "$mod" > tools.go
 go mod tidy -e >/dev/null 2>&1 || true
 # The kubernetes version the scheduler is built from (k8s.io/kubernetes in the module's replaces).
 kver=$(sed -nE 's#^\s*k8s\.io/kubernetes => k8s\.io/kubernetes (v[0-9.]+)$#\1#p' "$gomod" | head -1)
 minor=${kver#v1.}; minor=${minor%%.*}
 log "$mod $v (kubernetes $kver): building cmd/scheduler (a cold build takes several minutes)"
 mkdir -p "$out.tmp"
 go build -trimpath \
   -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=$kver -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor" \
   -o "$out.tmp/kube-scheduler" "$mod/cmd/scheduler")
rm -rf "$out"; mv "$out.tmp" "$out"
log "$mod $v: built in $(( $(date +%s) - start ))s: $bin"
echo "$bin"
