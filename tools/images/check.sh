#!/usr/bin/env bash
# Test of tools/images (ctest label `images`): builds the images (cached) and checks each one:
#   tools/images/check.sh [BUILD_DIR] [OUT_DIR]      (defaults: build, BUILD_DIR/images)
#   - structurally (verify.py): index.json -> manifest -> config and layer digests and sizes,
#     entrypoint, user 65532:65532, the binary and every library it loads present in the layer,
#     nothing setuid or world-writable, packages.txt equal to the packages label;
#   - by running it: the layer unpacked, `unshare -r chroot ROOTFS /usr/local/bin/kubedl-<service>
#     --version` must start (a missing library or loader fails it); as root, additionally as user
#     65532 on a read-only root file system (like the chart's securityContext) with /proc and /dev
#     mounted: every service's --version, and kubedl-metrics served for real, answering /readyz
#     and /metrics over HTTP; tfconfig-check accepts a TF_CONFIG the reconciler writes and refuses
#     a missing or malformed one.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${1:-build}; [[ $build = /* ]] || build=$repo/$build
out=${2:-$build/images}; [[ $out = /* ]] || out=$repo/$out
prefix=${KUBEDL_IMAGE_REPOSITORY:-localhost/kubedl/kubedl}
tag=local
fail() { echo "FAIL: $*" >&2; exit 1; }
tmp=$(mktemp -d /tmp/kubedl-images-check-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

command -v unshare >/dev/null && command -v chroot >/dev/null || fail "unshare/chroot missing"
bash "$here/build.sh" "$build" "$out" "$tag"

# run ROOT ARGS...: runs ARGS in ROOT. As root: in a mount namespace, ROOT bound read-only with
# /proc and /dev, as 65532:65532. Otherwise in a user namespace as its root, read-write.
# It execs, so call it in a subshell ($(run ...) or run ... &): the pid of `run ... &` is then
# the program itself, and killing it leaves nothing behind.
as_root=0; [ "$(id -u)" = 0 ] && as_root=1
run() {
  local root=$1; shift
  if [ "$as_root" = 1 ]; then
    mkdir -p "$root/proc" "$root/dev"
    exec unshare -m --propagation private sh -c '
      r=$1; shift
      mount --bind "$r" "$r" && mount -t proc proc "$r/proc" && mount --rbind /dev "$r/dev" &&
      mount -o remount,bind,ro "$r" && exec chroot --userspec=65532:65532 "$r" "$@"' sh "$root" "$@"
  else
    exec unshare -r chroot "$root" "$@"
  fi
}

for service in webhook reconciler gang-scheduler metrics; do
  name=kubedl-$service bin=$build/services/$service/kubedl-$service
  [ -x "$bin" ] || fail "$bin not built"
  mapfile -t libs < <(python3 "$here/rootfs.py" libs "$bin")
  root=$tmp/$name
  python3 "$here/verify.py" "$out/$name.tar" --name "$prefix-$service:$tag" \
    --entrypoint "/usr/local/bin/$name" --extract "$root" \
    $(printf -- '--require %s ' "${libs[@]}" /etc/ssl/certs/ca-certificates.crt /etc/group) \
    || fail "$name.tar is malformed"
  # Plain chroot in a user namespace, as the brief of this test has it: does it start at all?
  v=$(unshare -r chroot "$root" "/usr/local/bin/$name" --version 2>&1) \
    || fail "$name --version in its image: $v"
  [[ $v == *"$name"* ]] || fail "$name --version printed: $v"
  if [ "$as_root" = 1 ]; then
    v=$(run "$root" "/usr/local/bin/$name" --version 2>&1) \
      || fail "$name --version as 65532 on a read-only root: $v"
  fi
  echo "ok: $name runs from its image ($(wc -l <"$root/usr/share/kubedl/packages.txt") Debian packages)"
done

if [ "$as_root" = 1 ]; then
  # The metrics service needs no API server: serve it for real from its image.
  port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
  grpc=$(port) http=$(port)
  run "$tmp/kubedl-metrics" /usr/local/bin/kubedl-metrics --listen-address=127.0.0.1 \
    --grpc-port="$grpc" --http-port="$http" --insecure-plaintext >"$tmp/metrics.log" 2>&1 &
  pid=$!
  ready=0
  for _ in $(seq 1 100); do
    if curl -fsS "http://127.0.0.1:$http/readyz" >/dev/null 2>&1; then ready=1; break; fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  metrics=$(curl -fsS "http://127.0.0.1:$http/metrics" 2>&1 || true)
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  [ "$ready" = 1 ] || { cat "$tmp/metrics.log" >&2; fail "kubedl-metrics from its image never became ready"; }
  [ -n "$metrics" ] || fail "kubedl-metrics from its image served no /metrics"
  echo "ok: kubedl-metrics served /readyz and /metrics as 65532 on a read-only root file system"
fi

# The test image.
root=$tmp/tfconfig-check
python3 "$here/verify.py" "$out/tfconfig-check.tar" --name "${prefix%/*}/tfconfig-check:$tag" \
  --entrypoint /usr/local/bin/tfconfig-check --extract "$root" \
  --require /bin/sh --require /bin/busybox --require /usr/bin/awk --require /bin/grep \
  || fail "tfconfig-check.tar is malformed"
[ "$as_root" = 1 ] || run() { local root=$1; shift; exec unshare -r chroot "$root" "$@"; }
good='{"cluster":{"ps":["j-ps-0.ns.svc:2222"],"worker":["j-worker-0.ns.svc:2222","j-worker-1.ns.svc:2222"]},"task":{"index":1,"type":"worker"}}'
o=$(run "$root" /usr/bin/env TF_CONFIG="$good" /usr/local/bin/tfconfig-check 2>&1) \
  || fail "tfconfig-check refused a good TF_CONFIG: $o"
[[ $o == *"tfconfig-check: task worker/1 of cluster {"*"} ok"* ]] || fail "tfconfig-check printed: $o"
for bad in '' 'not json' '{"cluster":{"worker":["a:1"]},"task":{"type":"worker","index":1}}' \
           '{"cluster":{"worker":["a:1"]},"task":{"type":"worker","index":0}'; do
  if o=$(run "$root" /usr/bin/env TF_CONFIG="$bad" /usr/local/bin/tfconfig-check 2>&1); then
    fail "tfconfig-check accepted TF_CONFIG='$bad': $o"
  fi
  [[ $o == *"tfconfig-check: "* ]] || fail "tfconfig-check gave no reason for TF_CONFIG='$bad': $o"
done
echo "ok: tfconfig-check accepts a good TF_CONFIG and refuses missing or malformed ones"
