#!/usr/bin/env bash
# Prints the folder of training-operator's CRDs (manifests/base/crds/ of the Go module
# github.com/kubeflow/training-operator at TRAINING_OPERATOR_VERSION, tools/controlplane/
# versions.env). The module is fetched once with the Go toolchain into the Go module cache of
# tools/controlplane/build.sh ($KUBEDL_CACHE/go/mod, default ~/.cache/kubedl) and read from
# there after. Exits non-zero, saying why on stderr, when it cannot be had.
set -euo pipefail
here=$(cd "$(dirname "$0")/../../tools/controlplane" && pwd)
# shellcheck source=../../tools/controlplane/paths.sh
source "$here/paths.sh"
: "${TRAINING_OPERATOR_VERSION:?is not set in tools/controlplane/versions.env}"
module=github.com/kubeflow/training-operator
export GOMODCACHE=$cache/go/mod GOCACHE=$cache/go/build GOFLAGS=-mod=mod GOTOOLCHAIN=local
export GOPROXY=${GOPROXY:-}   # keep whatever the machine's Go is configured with
[ -n "$GOPROXY" ] || unset GOPROXY
crds=$GOMODCACHE/$module@$TRAINING_OPERATOR_VERSION/manifests/base/crds
if ! ls "$crds"/*.yaml >/dev/null 2>&1; then
  command -v go >/dev/null 2>&1 || {
    echo "go is not installed (make deps installs it); it fetches $module" >&2
    exit 1
  }
  echo "[crds] fetching $module@$TRAINING_OPERATOR_VERSION into $GOMODCACHE (first time only)" >&2
  work=$(mktemp -d)   # outside any Go module
  trap 'rm -rf "$work"' EXIT
  if ! (cd "$work" &&
        go mod download -json "$module@$TRAINING_OPERATOR_VERSION" >"$work/out.json" 2>&1); then
    echo "cannot fetch $module@$TRAINING_OPERATOR_VERSION with the Go toolchain:" >&2
    cat "$work/out.json" >&2
    exit 1
  fi
  ls "$crds"/*.yaml >/dev/null 2>&1 ||
    { echo "$module@$TRAINING_OPERATOR_VERSION was fetched but has no $crds/*.yaml" >&2; exit 1; }
fi
echo "$crds"
