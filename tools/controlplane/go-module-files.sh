#!/usr/bin/env bash
# Prints the folder SUBDIR of the Go module MODULE at VERSION (files the tests read, such as a
# project's CRDs), fetching the module once with the Go toolchain into the Go module cache of
# build.sh ($KUBEDL_CACHE/go/mod, default ~/.cache/kubedl) and reading it from there after.
#   go-module-files.sh MODULE VERSION SUBDIR
# Exits non-zero, saying why on stderr, when the module cannot be had or SUBDIR holds no file.
set -euo pipefail
module=${1:?usage: go-module-files.sh MODULE VERSION SUBDIR} version=${2:?} subdir=${3:?}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=paths.sh
source "$here/paths.sh"
export GOMODCACHE=$cache/go/mod GOCACHE=$cache/go/build GOFLAGS=-mod=mod GOTOOLCHAIN=local
export GOPROXY=${GOPROXY:-}   # keep whatever the machine's Go is configured with
[ -n "$GOPROXY" ] || unset GOPROXY
folder=$GOMODCACHE/$module@$version/$subdir
if [ -z "$(ls -A "$folder" 2>/dev/null)" ]; then
  command -v go >/dev/null 2>&1 || {
    echo "go is not installed (make deps installs it); it fetches $module" >&2
    exit 1
  }
  echo "[go-module] fetching $module@$version into $GOMODCACHE (first time only)" >&2
  work=$(mktemp -d)   # outside any Go module
  trap 'rm -rf "$work"' EXIT
  if ! (cd "$work" && go mod download -json "$module@$version" >"$work/out.json" 2>&1); then
    echo "cannot fetch $module@$version with the Go toolchain:" >&2
    cat "$work/out.json" >&2
    exit 1
  fi
  [ -n "$(ls -A "$folder" 2>/dev/null)" ] ||
    { echo "$module@$version was fetched but has nothing in $subdir" >&2; exit 1; }
fi
echo "$folder"
