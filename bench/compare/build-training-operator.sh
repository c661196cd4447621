#!/usr/bin/env bash
# Builds Kubeflow's training-operator (cmd/training-operator.v1) at TRAINING_OPERATOR_VERSION
# (tools/controlplane/versions.env) from Go modules, for the side-by-side benchmarks of
# bench/compare, and prints the binary's path on stdout:
#   bench/compare/build-training-operator.sh        -> ~/.cache/kubedl/bin/training-operator-v1.9.3/training-operator
# The binary is cached under $KUBEDL_CACHE/bin (default ~/.cache/kubedl) and reused when present;
# modules and build cache are the control plane's (tools/controlplane/build.sh). A cold build
# runs niced on one CPU (GOMAXPROCS=1, go build -p 1) so a shared machine stays usable, and says
# how long it took.
#
# What is built: upstream's main.go, copied unchanged from the module into a small main module
# that requires github.com/kubeflow/training-operator at the pinned version (so every dependency
# resolves to upstream's own go.mod), with one addition: a --webhook-bind-host flag. Upstream's
# webhook server listens on every interface (webhook.Options{Port} only); with the flag set to
# 127.0.0.1 it listens on loopback alone. Unset, the binary behaves exactly as upstream's.
# Built like upstream's image (CGO_ENABLED=0, no -ldflags), with -trimpath.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=../../tools/controlplane/versions.env
source "$repo/tools/controlplane/versions.env"
version=$TRAINING_OPERATOR_VERSION
cache=${KUBEDL_CACHE:-$HOME/.cache/kubedl}
out=$cache/bin/training-operator-$version
bin=$out/training-operator
log() { printf '[training-operator build] %s\n' "$*" >&2; }

if [ -x "$bin" ]; then echo "$bin"; exit 0; fi
# One build at a time (two scripts asking at once): the second waits, then finds the binary.
mkdir -p "$cache/bin"
exec 9>"$cache/bin/.training-operator-$version.lock"
flock 9
if [ -x "$bin" ]; then echo "$bin"; exit 0; fi

export GOMODCACHE=$cache/go/mod GOCACHE=$cache/go/build GOFLAGS=-mod=mod CGO_ENABLED=0 GOTOOLCHAIN=local
export GOPROXY=${GOPROXY:-}   # keep whatever the machine's Go is configured with
[ -n "$GOPROXY" ] || unset GOPROXY
export GOMAXPROCS=${GOMAXPROCS:-1}
command -v go >/dev/null || { log "go is not installed (make deps installs it)"; exit 1; }

start=$(date +%s)
module=github.com/kubeflow/training-operator
upstream=$(bash "$repo/tools/controlplane/go-module-files.sh" "$module" "$version" cmd/training-operator.v1)
src=$cache/src/training-operator-$version
rm -rf "$src"; mkdir -p "$src" "$out.tmp"

# main.go with the bind-host flag: each edit must match exactly once, or the build stops.
patch_once() {  # patch_once FILE SED_ADDRESS_REGEX SED_COMMAND
  local n; n=$(grep -cE "$2" "$1" || true)
  [ "$n" = 1 ] || { log "main.go of $version: expected one line matching '$2', found $n"; exit 1; }
  sed -i -E "/$2/$3" "$1"
}
cp "$upstream/main.go" "$src/main.go"; chmod u+w "$src/main.go"
patch_once "$src/main.go" '^\s*var webhookServerPort int$' \
  'a\	var webhookBindHost string // kubedl bench/compare: listen on this address only'
patch_once "$src/main.go" 'flag\.IntVar\(&webhookServerPort, ' \
  'i\	flag.StringVar(\&webhookBindHost, "webhook-bind-host", "", "Address the webhook server listens on (empty: every interface, as upstream).")'
patch_once "$src/main.go" '^\s*Port: webhookServerPort,$' \
  'a\			Host: webhookBindHost,'

goline=$(grep -E '^go [0-9]' "$GOMODCACHE/cache/download/$module/@v/$version.mod")
printf 'module kubedl.local/compare/training-operator\n\n%s\n\nrequire %s %s\n' \
  "$goline" "$module" "$version" > "$src/go.mod"
( cd "$src"
  log "$version: resolving modules (first time only)"
  nice -n 10 go mod tidy >"$out.tmp/tidy.log" 2>&1 || { cat "$out.tmp/tidy.log" >&2; exit 1; }
  # Every module upstream's go.mod pins should resolve to that same version: say which did not.
  nice -n 10 go list -m -f '{{.Path}} {{.Version}}' all >"$out.tmp/resolved"
  awk '/^require \(/{r=1;next} r&&/^\)/{r=0} r&&NF>=2{print $1, $2} /^require [^(]/{print $2, $3}' \
    "$GOMODCACHE/cache/download/$module/@v/$version.mod" | sort >"$out.tmp/pinned"
  drift=$(sort "$out.tmp/resolved" | comm -13 - "$out.tmp/pinned" || true)
  [ -z "$drift" ] || log "$version: resolved differently from upstream's go.mod: $(tr '\n' ' ' <<<"$drift")"
  log "$version: building (one CPU; a cold build takes several minutes)"
  ( while sleep 60; do log "still building ($(( $(date +%s) - start ))s so far)"; done ) &
  ticker=$!
  trap 'kill $ticker 2>/dev/null' EXIT
  nice -n 10 go build -p 1 -trimpath -o "$out.tmp/training-operator" . )
rm -f "$out.tmp/tidy.log" "$out.tmp/resolved" "$out.tmp/pinned"
rm -rf "$out"; mv "$out.tmp" "$out"
log "$version: built in $(( $(date +%s) - start ))s, $(du -h "$bin" | cut -f1): $bin"
echo "$bin"
