#!/usr/bin/env bash
# Builds the OCI images of the four services, and a tiny test image, without a container engine:
#   tools/images/build.sh [BUILD_DIR] [OUT_DIR] [TAG]     (defaults: build, BUILD_DIR/images, local)
# writes OUT_DIR/kubedl-<service>.tar (localhost/kubedl/kubedl-<service>:TAG, the chart's
# `image.repository=localhost/kubedl/kubedl`, `image.tag=TAG`) and OUT_DIR/tfconfig-check.tar
# (localhost/kubedl/tfconfig-check:TAG). Import them with `ctr -n k8s.io images import X.tar`.
#
# Each service image is one layer holding only: the stripped binary at
# /usr/local/bin/kubedl-<service>; every shared library it loads (incl. the dynamic loader), copied
# from this Debian machine's installed packages to the same paths (and the same /lib -> usr/lib
# links); /etc/ssl/certs/ca-certificates.crt; /etc/passwd and /etc/group naming the non-root user
# nonroot (65532:65532) it runs as; /etc/nsswitch.conf; /usr/share/kubedl/packages.txt listing the
# Debian packages (name=version) those files came from (also the label io.kubedl.debian-packages).
# docker/Dockerfile builds the same content for users with Docker.
#
# An image whose inputs (binary, libraries, certificates, these scripts, tag, version, revision)
# did not change since the last run is not rebuilt: OUT_DIR/<image>.tar.inputs holds their hash.
# KUBEDL_IMAGE_REPOSITORY (default localhost/kubedl/kubedl) and KUBEDL_IMAGE_SOURCE (default: the
# git remote `origin`) override the names and the source label. KUBEDL_IMAGES_ROOTFS_ONLY=1 leaves
# each root file system as the folder OUT_DIR/<image>/ instead of an archive (docker/Dockerfile
# copies those into its images).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${1:-build}; [[ $build = /* ]] || build=$repo/$build
out=${2:-$build/images}; [[ $out = /* ]] || out=$repo/$out
tag=${3:-local}
prefix=${KUBEDL_IMAGE_REPOSITORY:-localhost/kubedl/kubedl}
test_image=${prefix%/*}/tfconfig-check:$tag
services=(webhook reconciler gang-scheduler metrics)
python=$(command -v python3)
version=$(sed -n 's/^project(kubedl .*VERSION \([0-9.]*\).*/\1/p' "$repo/CMakeLists.txt")
revision=$(git -C "$repo" rev-parse HEAD 2>/dev/null || echo unknown)
source_url=${KUBEDL_IMAGE_SOURCE:-$(git -C "$repo" remote get-url origin 2>/dev/null || echo unknown)}
ca=/etc/ssl/certs/ca-certificates.crt
rootfs_only=${KUBEDL_IMAGES_ROOTFS_ONLY:-}
log() { printf '[images] %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

for tool in strip ldd dpkg-query sha256sum; do
  command -v $tool >/dev/null || die "$tool is missing (make deps)"
done
[ -f "$ca" ] || die "$ca is missing: apt-get install ca-certificates"
mkdir -p "$out"
# One build at a time per OUT_DIR (the e2e test and the images test may both ask for them).
exec 9>"$out/.lock"
flock 9
trap 'rm -rf "$out"/.rootfs-*' EXIT
total_start=$(date +%s.%N)
summary=()

# Files every image gets: the users, name resolution and where the packages list goes.
common_files() {
  local root=$1
  mkdir -p "$root/etc" "$root/usr/share/kubedl"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/nonexistent:/sbin/nologin\n' \
    >"$root/etc/passwd"
  printf 'root:x:0:\nnonroot:x:65532:\n' >"$root/etc/group"
  printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$root/etc/nsswitch.conf"
  chmod 0644 "$root/etc/passwd" "$root/etc/group" "$root/etc/nsswitch.conf"
}

# inputs_key FILE...: hash of the files' contents, the scripts and the image's metadata.
inputs_key() {
  { sha256sum "$@" "$here"/build.sh "$here"/rootfs.py "$here"/oci-archive.py "$here"/tfconfig-check.sh \
      | awk '{print $1}'
    printf '%s\n' "$tag" "$prefix" "$version" "$revision" "$source_url"
  } | sha256sum | awk '{print $1}'
}

# finish NAME REF ROOT KEY START PACKAGES...: packages.txt, the archive, the stamp, the summary.
finish() {
  local name=$1 ref=$2 root=$3 key=$4 start=$5; shift 5
  local packages=("$@") unpacked
  printf '%s\n' "${packages[@]}" >"$root/usr/share/kubedl/packages.txt"
  find "$root" -type d -exec chmod 0755 {} +
  unpacked=$(du -sb --apparent-size "$root" | awk '{print $1}')
  if [ -n "$rootfs_only" ]; then
    rm -rf "${out:?}/$name"; mv "$root" "$out/$name"
    summary+=("$(printf '%-44s %12s %8.1f MiB  %s' "$ref" "-" "$(awk -v b="$unpacked" 'BEGIN{print b/1048576}')" "$out/$name/")")
    return
  fi
  "$python" "$here/oci-archive.py" --rootfs "$root" --name "$ref" --out "$out/$name.tar" \
    --user 65532:65532 --env GLOG_logtostderr=1 --entrypoint "$entrypoint" \
    --label "org.opencontainers.image.title=$name" \
    --label "org.opencontainers.image.description=$description" \
    --label "org.opencontainers.image.source=$source_url" \
    --label "org.opencontainers.image.version=$version" \
    --label "org.opencontainers.image.revision=$revision" \
    --label "io.kubedl.debian-packages=$(IFS=,; echo "${packages[*]}")"
  rm -rf "$root"
  printf '%s\n%s\n' "$key" "$unpacked" >"$out/$name.tar.inputs"
  report "$name" "$ref" "$unpacked" "$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1f", e-s}')s"
}

report() {  # NAME REF UNPACKED_BYTES TIME
  local size
  size=$(stat -c %s "$out/$1.tar")
  summary+=("$(printf '%-44s %8.1f MiB %8.1f MiB  %s' "$2" "$(awk -v b="$size" 'BEGIN{print b/1048576}')" \
    "$(awk -v b="$3" 'BEGIN{print b/1048576}')" "$4")")
}

# up_to_date NAME REF KEY: reports and succeeds when OUT_DIR/NAME.tar was built from KEY.
up_to_date() {
  [ -z "$rootfs_only" ] || return 1
  local stamp=$out/$1.tar.inputs
  [ -f "$out/$1.tar" ] && [ -f "$stamp" ] && [ "$(head -n1 "$stamp")" = "$3" ] || return 1
  report "$1" "$2" "$(sed -n 2p "$stamp")" "up to date"
}

for service in "${services[@]}"; do
  start=$(date +%s.%N)
  name=kubedl-$service ref=$prefix-$service:$tag
  bin=$build/services/$service/$name
  [ -x "$bin" ] || bin=$(find "$build" -maxdepth 3 -name "$name" -type f -executable | head -n1)
  [ -n "$bin" ] && [ -x "$bin" ] || die "$name not built in $build (make build)"
  mapfile -t libs < <("$python" "$here/rootfs.py" libs "$bin")
  key=$(inputs_key "$bin" "${libs[@]}" "$ca")
  up_to_date "$name" "$ref" "$key" && continue

  root=$(mktemp -d "$out/.rootfs-$name-XXXXXX")
  mkdir -p "$root/usr/local/bin"
  strip --strip-unneeded -o "$root/usr/local/bin/$name" "$bin"
  chmod 0755 "$root/usr/local/bin/$name"
  "$python" "$here/rootfs.py" copy "$root" "${libs[@]}" "$ca"
  common_files "$root"
  mapfile -t packages < <("$python" "$here/rootfs.py" packages "${libs[@]}"
                          dpkg-query -W -f='${Package}=${Version}\n' ca-certificates)
  entrypoint=/usr/local/bin/$name
  description="KubeDL $service service"
  finish "$name" "$ref" "$root" "$key" "$start" $(printf '%s\n' "${packages[@]}" | sort -u)
done

# The test image: Debian's static busybox with its applets, and tfconfig-check as entrypoint.
start=$(date +%s.%N)
name=tfconfig-check ref=$test_image
busybox=/bin/busybox
[ -x "$busybox" ] && dpkg-query -S "$busybox" 2>/dev/null | grep -q '^busybox-static:' \
  || die "$busybox of busybox-static is missing (make deps)"
key=$(inputs_key "$busybox")
if ! up_to_date "$name" "$ref" "$key"; then
  root=$(mktemp -d "$out/.rootfs-$name-XXXXXX")
  "$python" "$here/rootfs.py" copy "$root" "$busybox"   # bin -> usr/bin, usr/bin/busybox
  mkdir -p "$root/usr/sbin" "$root/usr/local/bin"
  ln -s usr/sbin "$root/sbin"
  for applet in $("$busybox" --list-full); do
    case $applet in */*) ;; *) continue ;; esac   # linuxrc
    [ -e "$root/$applet" ] || [ -L "$root/$applet" ] || ln -s /usr/bin/busybox "$root/$applet"
  done
  install -m 0755 "$here/tfconfig-check.sh" "$root/usr/local/bin/tfconfig-check"
  common_files "$root"
  entrypoint=/usr/local/bin/tfconfig-check
  description="KubeDL test image: prints and checks TF_CONFIG"
  finish "$name" "$ref" "$root" "$key" "$start" "$("$python" "$here/rootfs.py" packages "$busybox")"
fi

printf '%-44s %12s %12s  %s\n' image "archive" unpacked time >&2
printf '%s\n' "${summary[@]}" >&2
log "$out: $(( ${#summary[@]} )) images in $(awk -v s="$total_start" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1f", e-s}') s"
