#!/usr/bin/env bash
# Builds, without a container engine, the MPI launcher's kubectl-delivery image and a plain shell
# image for tests on the local real node:
#   tools/images/kubectl-delivery.sh [OUT_DIR] [TAG]        (defaults: build/images, local)
# writes
#   OUT_DIR/kubectl-delivery.tar  localhost/kubedl/kubectl-delivery:TAG: Debian's static busybox
#       (sh, cp, sleep, ... as applet links) and /bin/kubectl, the static kubectl the local control
#       plane uses (tools/controlplane/build.sh puts it in ~/.cache/kubedl/bin/kubernetes-<version>).
#       It serves as the reconciler's `--mpi-kubectl-delivery-image` (chart value
#       `reconciler.mpiKubectlDeliveryImage`): the reconciler sets the init container's command
#       (copy kubectl to /opt/kube, then wait until every worker runs). Without a command it does
#       what the upstream image does: /usr/local/bin/kubectl-delivery copies /bin/kubectl into
#       $TARGET_DIR (TARGET_DIR=/opt/kube).
#       It runs as root, as the upstream image does, to write into the launcher's emptyDir.
#   OUT_DIR/busybox-static.tar    localhost/kubedl/busybox-static:TAG: the same busybox alone
#       (no kubectl), entrypoint /bin/sh: the launcher and worker containers of the tests.
# Import them into the real node with tools/controlplane/import-images.sh. An image whose inputs
# (busybox, kubectl, these scripts, tag, Kubernetes version) did not change is not rebuilt:
# OUT_DIR/<image>.tar.inputs holds their hash. KUBEDL_IMAGE_REPOSITORY (default
# localhost/kubedl/kubedl) sets the prefix as in build.sh (its folder part is used).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
out=${1:-$repo/build/images}; [[ $out = /* ]] || out=$repo/$out
tag=${2:-local}
prefix=${KUBEDL_IMAGE_REPOSITORY:-localhost/kubedl/kubedl}
python=$(command -v python3)
log() { printf '[images] %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }
# The cache and the pinned Kubernetes version of the control plane.
cp_here=$repo/tools/controlplane
# shellcheck source=../controlplane/versions.env
source "$cp_here/versions.env"
cache=${KUBEDL_CACHE:-$HOME/.cache/kubedl}
kubectl=$cache/bin/kubernetes-$K8S_VERSION/kubectl
busybox=/bin/busybox

[ -x "$kubectl" ] || die "$kubectl is missing: run tools/controlplane/build.sh (make controlplane) first"
! ldd "$kubectl" >/dev/null 2>&1 \
  || die "$kubectl is not statically linked; it could not run in a busybox image"
[ -x "$busybox" ] && dpkg-query -S "$busybox" 2>/dev/null | grep -q '^busybox-static:' \
  || die "$busybox of busybox-static is missing (make deps)"
mkdir -p "$out"
# Same lock as build.sh: one image build at a time per OUT_DIR.
exec 9>"$out/.lock"
flock 9
trap 'rm -rf "$out"/.rootfs-*' EXIT
busybox_pkg=$("$python" "$here/rootfs.py" packages "$busybox")

key_of() {  # key_of NAME FILE...: hash of the files, the scripts and the image's metadata
  local name=$1; shift
  { sha256sum "$@" "$here/kubectl-delivery.sh" "$here/rootfs.py" "$here/oci-archive.py" | awk '{print $1}'
    printf '%s\n' "$name" "$tag" "$prefix" "$K8S_VERSION"
  } | sha256sum | awk '{print $1}'
}

busybox_root() {  # busybox_root ROOT: busybox and its applets, /tmp, users, name resolution
  local root=$1 applet
  "$python" "$here/rootfs.py" copy "$root" "$busybox"   # bin -> usr/bin, usr/bin/busybox
  mkdir -p "$root/usr/sbin" "$root/tmp" "$root/root" "$root/etc"
  ln -s usr/sbin "$root/sbin"
  for applet in $("$busybox" --list-full); do
    case $applet in */*) ;; *) continue ;; esac   # linuxrc
    [ -e "$root/$applet" ] || [ -L "$root/$applet" ] || ln -s /usr/bin/busybox "$root/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnonroot:x:65532:65532:nonroot:/nonexistent:/sbin/nologin\n' \
    >"$root/etc/passwd"
  printf 'root:x:0:\nnonroot:x:65532:\n' >"$root/etc/group"
  printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$root/etc/nsswitch.conf"
  chmod 0644 "$root/etc/passwd" "$root/etc/group" "$root/etc/nsswitch.conf"
  chmod 0700 "$root/root"
  chmod 1777 "$root/tmp"
}

# image NAME DESCRIPTION [EXTRA OCI-ARCHIVE ARGS...] : the root file system is in $root.
image() {
  local name=$1 description=$2; shift 2
  local ref=${prefix%/*}/$name:$tag
  "$python" "$here/oci-archive.py" --rootfs "$root" --name "$ref" --out "$out/$name.tar" \
    --env HOME=/root \
    --label "org.opencontainers.image.title=$name" \
    --label "org.opencontainers.image.description=$description" \
    --label "io.kubedl.debian-packages=$busybox_pkg" "$@" 2>/dev/null
  rm -rf "$root"
  printf '%s\n' "$key" >"$out/$name.tar.inputs"
  log "$ref: $out/$name.tar ($(awk -v b="$(stat -c %s "$out/$name.tar")" 'BEGIN{printf "%.1f", b/1048576}') MiB)"
}
up_to_date() {  # up_to_date NAME
  [ -f "$out/$1.tar" ] && [ -f "$out/$1.tar.inputs" ] && [ "$(head -n1 "$out/$1.tar.inputs")" = "$key" ] \
    && log "${prefix%/*}/$1:$tag: up to date"
}

name=kubectl-delivery
key=$(key_of "$name" "$busybox" "$kubectl")
if ! up_to_date "$name"; then
  root=$(mktemp -d "$out/.rootfs-$name-XXXXXX")
  busybox_root "$root"
  install -m 0755 "$kubectl" "$root/usr/bin/kubectl"   # /bin/kubectl through bin -> usr/bin
  mkdir -p "$root/opt/kube" "$root/usr/local/bin"
  # The upstream image's default: copy kubectl into TARGET_DIR (the launcher's emptyDir).
  printf '#!/bin/sh\nset -e\ncp /bin/kubectl "${TARGET_DIR:-/opt/kube}/kubectl"\n' \
    >"$root/usr/local/bin/kubectl-delivery"
  chmod 0755 "$root/usr/local/bin/kubectl-delivery"
  printf '%s\n' "$busybox_pkg" "kubectl=$K8S_VERSION" >"$root/etc/kubectl-delivery.packages"
  image "$name" "KubeDL MPI launcher init container: sh and kubectl $K8S_VERSION" \
    --env TARGET_DIR=/opt/kube --entrypoint /usr/local/bin/kubectl-delivery \
    --label "io.kubedl.kubectl-version=$K8S_VERSION"
fi

name=busybox-static
key=$(key_of "$name" "$busybox")
if ! up_to_date "$name"; then
  root=$(mktemp -d "$out/.rootfs-$name-XXXXXX")
  busybox_root "$root"
  image "$name" "KubeDL test image: Debian's static busybox" --entrypoint /bin/sh
fi
