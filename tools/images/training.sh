#!/usr/bin/env bash
# Builds the training images of examples/training/ without a container engine:
#   tools/images/training.sh NAME...          builds each image NAME that is not cached yet
#   tools/images/training.sh --path NAME      prints where NAME's archive is (or will be)
#   tools/images/training.sh --base-path NAME prints where NAME's package base is (or will be);
#                                             it holds .complete once built
#   tools/images/training.sh --list           the names defined in tools/images/training/
# An image NAME is defined by tools/images/training/NAME.env (bash assignments):
#   DESCRIPTION="..."
#   DEBIAN_PACKAGES="python3 python3-numpy ..."   Debian bookworm packages (with their Depends)
#   PIP_PACKAGES="tensorflow-cpu==2.21.0 ..."     exact pins, wheels only ("" for none)
#   PROGRAMS="examples/training/<dir> ..."        repo folders, copied to /opt/kubedl/training/<basename>/
# The image is localhost/kubedl/train-NAME:local (pods use imagePullPolicy: IfNotPresent), one
# layer, running as root, working directory /opt/kubedl/training, no entrypoint (the pod's command
# says what to run; the default command is python3). Import it with
# tools/controlplane/import-images.sh "$(tools/images/training.sh --path NAME)".
#
# How an image is made:
#  1. The Debian part: mmdebstrap (mode root, variant essential: dpkg and the Essential packages,
#     then DEBIAN_PACKAGES and their dependencies, no Recommends) from THIS machine's apt sources,
#     read from /etc/apt at run time (the bookworm suites of the enabled entries; handed to mmdebstrap
#     on its standard input, never written to a file). /usr via directory links (mmdebstrap's
#     merged-usr hook, so no usrmerge and perl). Documentation, manual pages and translations
#     are never unpacked (copyright files are kept); apt's lists and cache, logs, device nodes,
#     the sources and the host's resolv.conf and hostname are removed.
#  2. The PyPI part: PIP_PACKAGES installed with this machine's pip (Debian's python3-pip) as wheels
#     only, for Python 3.11 (bookworm's python3), with --target into the image's
#     /usr/local/lib/python3.11/dist-packages (ahead of Debian's packages on sys.path); console
#     scripts go to /usr/local/bin and run /usr/bin/python3.
#  3. The programs: each PROGRAMS folder (without __pycache__) at /opt/kubedl/training/<basename>/.
#  4. /usr/share/kubedl/packages.txt lists the Debian (name=version) and PyPI (name==version)
#     packages inside; oci-archive.py writes the archive.
# Steps 1 and 2 are kept as a base root file system under the cache, keyed by the packages and
# the recipe (build_base, apt_sources), so changing a program only redoes steps 3 and 4.
#
# Cache: ${KUBEDL_CACHE:-~/.cache/kubedl}/images/train-NAME-<key>.tar, where the key hashes NAME.env,
# every program file (path and content) and the builder scripts; an archive that exists is not
# rebuilt. Older archives and bases of the same NAME are removed. One build at a time (flock on
# the cache folder). The summary gives per image the archive's size, the unpacked size and the
# build time in seconds. Needs root (mmdebstrap's root mode), mmdebstrap and python3-pip
# (tools/install-deps.sh installs both).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
defs=$here/training
cache=${KUBEDL_CACHE:-$HOME/.cache/kubedl}/images
prefix=${KUBEDL_IMAGE_REPOSITORY:-localhost/kubedl/kubedl}
prefix=${prefix%/*}
tag=local
suite=bookworm
pyver=3.11
python=$(command -v python3)
pip_python=/usr/bin/python3     # Debian's, the same Python 3.11 as in the image
log() { printf '[images] %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }
usage() { sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

# load NAME: reads tools/images/training/NAME.env into DESCRIPTION, DEBIAN_PACKAGES, PIP_PACKAGES,
# PROGRAMS (in this shell; each call starts from empty values).
load() {
  local env=$defs/$1.env
  [[ $1 =~ ^[a-z0-9][a-z0-9.-]*$ ]] || die "bad image name '$1' (lower case letters, digits, . and -)"
  [ -f "$env" ] || die "no image '$1': $env is missing (names: $(list | tr '\n' ' '))"
  DESCRIPTION="" DEBIAN_PACKAGES="" PIP_PACKAGES="" PROGRAMS=""
  # shellcheck disable=SC1090
  source "$env"
  [ -n "$DEBIAN_PACKAGES" ] || die "$env: DEBIAN_PACKAGES is empty"
  local p
  for p in $PIP_PACKAGES; do
    [[ $p =~ ^[A-Za-z0-9._-]+(\[[A-Za-z0-9,._-]+\])?==[A-Za-z0-9.+!_-]+$ ]] \
      || die "$env: PIP_PACKAGES entry '$p' is not an exact pin (name==version)"
  done
  for p in $PROGRAMS; do
    [ -d "$repo/$p" ] || die "$env: PROGRAMS folder $p is not a folder of the repository"
  done
}
list() { local f; for f in "$defs"/*.env; do [ -f "$f" ] && basename "$f" .env; done; }

# program_files: every file of the PROGRAMS folders, relative to the repository, sorted.
program_files() {
  local p
  for p in $PROGRAMS; do
    (cd "$repo" && find "$p" -type f ! -path '*/__pycache__/*' ! -name '*.pyc')
  done | LC_ALL=C sort
}

# base_key: what the base root file system depends on: the Debian and PyPI packages and the
# recipe (the functions making it), not the rest of this script.
base_key() {
  { printf '%s\n' "$suite" "$pyver" "$(tr ' ' '\n' <<<"$DEBIAN_PACKAGES" | grep . | LC_ALL=C sort -u | tr '\n' ' ')" \
      "$(tr ' ' '\n' <<<"$PIP_PACKAGES" | grep . | LC_ALL=C sort -u | tr '\n' ' ')"
    declare -f build_base apt_sources
  } | sha256sum | cut -c1-16
}

# scrub DIR...: removes what a build left behind. A build killed outright (SIGKILL: a test's
# timeout) may leave mmdebstrap's mounts (proc, sys, the host's /dev/pts and /dev/shm) inside its
# root: unmount them first, and never let rm cross into another file system.
scrub() {
  local d m
  for d in "$@"; do
    [ -e "$d" ] || continue
    awk -v p="$(realpath "$d")/" 'index($2 "/", p) == 1 {print $2}' /proc/self/mounts | sort -r \
      | while read -r m; do umount -l "$m" || log "cannot unmount $m"; done
    rm -rf --one-file-system "$d" || die "cannot remove $d"
  done
}

# image_key NAME: the archive's key: NAME.env, the program files (names and contents), the builder.
image_key() {
  local f
  { printf '%s\n' "$1" "$prefix" "$tag"
    sha256sum "$defs/$1.env" "$here/training.sh" "$here/oci-archive.py" | awk '{print $1}'
    program_files | while IFS= read -r f; do
      printf '%s %s\n' "$f" "$(sha256sum "$repo/$f" | awk '{print $1}')"
    done
  } | sha256sum | cut -c1-16
}

archive_path() { load "$1"; printf '%s/train-%s-%s.tar\n' "$cache" "$1" "$(image_key "$1")"; }
base_path() { load "$1"; printf '%s/base-%s-%s\n' "$cache" "$1" "$(base_key)"; }

# apt_sources: the enabled deb entries of this machine's apt sources for the bookworm suites, as
# deb822 stanzas on standard output (mmdebstrap reads them from its standard input).
apt_sources() {
  "$python" - "$suite" <<'EOF'
import glob, os, re, sys
suite = sys.argv[1]
wanted = lambda s: s == suite or s.startswith(suite + "-")
files = [f for f in ["/etc/apt/sources.list"] if os.path.isfile(f)]
files += sorted(glob.glob("/etc/apt/sources.list.d/*.list") + glob.glob("/etc/apt/sources.list.d/*.sources"))
out = []
for f in files:
    text = open(f).read()
    if f.endswith(".sources"):
        for stanza in re.split(r"\n\s*\n", text):
            fields, key = {}, None
            for line in stanza.splitlines():
                if line.startswith("#") or not line.strip():
                    continue
                if line[0] in " \t" and key:
                    fields[key] += "\n" + line
                    continue
                key, _, value = line.partition(":")
                key = key.strip().lower()
                fields[key] = value.strip()
            if fields.get("enabled", "yes").lower() == "no" or "deb" not in fields.get("types", "").split():
                continue
            suites = [s for s in fields.get("suites", "").split() if wanted(s)]
            if not suites or not fields.get("uris"):
                continue
            entry = {"URIs": fields["uris"], "Suites": " ".join(suites),
                     "Components": fields.get("components", "main")}
            for k, name in (("signed-by", "Signed-By"), ("architectures", "Architectures"), ("trusted", "Trusted")):
                if k in fields:
                    entry[name] = fields[k]
            out.append(entry)
    else:
        for line in text.splitlines():
            m = re.match(r"\s*deb\s+(\[[^\]]*\]\s+)?(\S+)\s+(\S+)\s*(.*)", line)
            if not m or not wanted(m.group(3)):
                continue
            entry = {"URIs": m.group(2), "Suites": m.group(3), "Components": m.group(4).strip() or "main"}
            for opt in (m.group(1) or "").strip("[] \t").split():
                k, _, v = opt.partition("=")
                name = {"signed-by": "Signed-By", "arch": "Architectures", "trusted": "Trusted"}.get(k)
                if name:
                    entry[name] = v.replace(",", " ")
            out.append(entry)
if not out:
    sys.exit(f"no enabled apt source of this machine serves the {suite} suites (/etc/apt/sources.list*)")
for e in out:
    print("Types: deb")
    for k, v in e.items():
        print(f"{k}: {v}")
    print()
EOF
}

# build_base DIR: steps 1 and 2 into DIR (an empty folder).
build_base() {
  local root=$1 pkgs
  pkgs=$(tr ' ' '\n' <<<"$DEBIAN_PACKAGES" | grep . | paste -sd, -)
  local sources
  sources=$(apt_sources) || die "reading this machine's apt sources failed"
  # shellcheck disable=SC2016
  mmdebstrap --mode=root --variant=essential --include="$pkgs" \
      --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
      --aptopt='APT::Install-Recommends "false"' --aptopt='APT::Install-Suggests "false"' \
      --aptopt='Acquire::Languages "none"' \
      --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
      --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
      --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/lintian/*' \
      --customize-hook='chroot "$1" dpkg-query -W -f="\${Package}=\${Version}\n" > "$1/.debian-packages"' \
      "$suite" "$root" - <<<"$sources" >"$root.log" 2>&1 \
    || { tail -30 "$root.log" >&2; die "mmdebstrap failed (log above)"; }
  rm -f "$root.log"
  # What a container must not inherit from the build: device nodes (the runtime makes /dev),
  # name resolution and host name of this machine, apt's sources, lists and cache, logs.
  find "$root/dev" -mindepth 1 -delete
  rm -f "$root/etc/resolv.conf" "$root/etc/hostname" "$root/etc/machine-id"
  rm -rf "$root"/etc/apt/sources.list "$root"/etc/apt/sources.list.d/* \
    "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/* "$root"/var/cache/ldconfig/* \
    "$root"/var/cache/debconf/*-old "$root"/var/lib/dpkg/*-old "$root"/var/log/apt "$root"/var/log/dpkg.log \
    "$root"/var/log/alternatives.log "$root"/var/log/bootstrap.log
  [ -x "$root/usr/bin/python$pyver" ] || [ -z "$PIP_PACKAGES" ] \
    || die "PIP_PACKAGES need python$pyver in the image: add python3 to DEBIAN_PACKAGES"
  local site=$root/usr/local/lib/python$pyver/dist-packages
  mkdir -p "$site"
  if [ -n "$PIP_PACKAGES" ]; then
    # shellcheck disable=SC2086
    PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_BREAK_SYSTEM_PACKAGES=1 PIP_ROOT_USER_ACTION=ignore \
      "$pip_python" -m pip install --no-input --progress-bar off -q --no-warn-script-location \
      --target "$site" --only-binary=:all: --python-version "$pyver" --implementation cp \
      $PIP_PACKAGES >&2 || die "pip install of $PIP_PACKAGES failed"
    # Console scripts: to /usr/local/bin, run by the image's python3 instead of this machine's.
    if [ -d "$site/bin" ]; then
      mkdir -p "$root/usr/local/bin"
      local f
      for f in "$site"/bin/*; do
        [ -f "$f" ] || continue
        sed -i '1s|^#!.*python.*$|#!/usr/bin/python3|' "$f"
        mv "$f" "$root/usr/local/bin/"
      done
      rm -rf "$site/bin"
    fi
    find "$site" -maxdepth 1 -name '*.dist-info' -printf '%f\n' \
      | sed -n 's/^\(.*\)-\([^-]*\)\.dist-info$/\1==\2/p' | LC_ALL=C sort >"$root/.pip-packages"
  else
    : >"$root/.pip-packages"
  fi
}

# build NAME: the archive of NAME (load NAME first), unless it exists.
summary=()
build() {
  local name=$1 start key out ref base_dir root size unpacked secs
  start=$(date +%s.%N)
  key=$(image_key "$name")
  out=$cache/train-$name-$key.tar
  ref=$prefix/train-$name:$tag
  if [ -f "$out" ] && [ -f "$out.inputs" ]; then
    summary+=("$(row "$ref" "$(stat -c %s "$out")" "$(sed -n 2p "$out.inputs")" "up to date")")
    return
  fi
  # 1-2: the base, reused when the packages and this script did not change.
  base_dir=$cache/base-$name-$(base_key)
  if [ ! -f "$base_dir/.complete" ]; then
    scrub "$base_dir" "$cache"/.base-"$name"-*
    local tmp_base
    tmp_base=$(mktemp -d "$cache/.base-$name-XXXXXX")
    log "train-$name: Debian packages: $DEBIAN_PACKAGES"
    [ -z "$PIP_PACKAGES" ] || log "train-$name: PyPI wheels: $PIP_PACKAGES"
    build_base "$tmp_base"
    touch "$tmp_base/.complete"
    mv "$tmp_base" "$base_dir"
    local b; for b in "$cache"/base-"$name"-*; do [ "$b" = "$base_dir" ] || scrub "$b"; done
  fi
  # 3: a copy of the base (hard links: nothing below changes a base file) plus the programs.
  root=$(mktemp -d "$cache/.rootfs-$name-XXXXXX")
  rmdir "$root"
  cp -al "$base_dir" "$root"
  rm -f "$root/.complete"
  mkdir -p "$root/opt/kubedl/training" "$root/usr/share/kubedl"
  local p f
  for p in $PROGRAMS; do
    p=${p%/}
    mkdir -p "$root/opt/kubedl/training/$(basename "$p")"
    program_files | { grep "^$p/" || true; } | while IFS= read -r f; do
      install -D -m "$( [ -x "$repo/$f" ] && echo 0755 || echo 0644)" "$repo/$f" \
        "$root/opt/kubedl/training/$(basename "$p")/${f#"$p"/}"
    done
  done
  # 4: the package list, then the archive.
  rm -f "$root/usr/share/kubedl/packages.txt"
  cat "$root/.debian-packages" "$root/.pip-packages" >"$root/usr/share/kubedl/packages.txt"
  rm -f "$root/.debian-packages" "$root/.pip-packages"
  unpacked=$(du -sb --apparent-size "$root" | awk '{print $1}')
  "$python" "$here/oci-archive.py" --rootfs "$root" --name "$ref" --out "$out" \
    --workdir /opt/kubedl/training --cmd python3 \
    --env HOME=/root --env LANG=C.UTF-8 --env PYTHONUNBUFFERED=1 \
    --label "org.opencontainers.image.title=train-$name" \
    --label "org.opencontainers.image.description=${DESCRIPTION:-KubeDL training image $name}" \
    --label "io.kubedl.debian-packages=$(echo "$DEBIAN_PACKAGES" | xargs)" \
    --label "io.kubedl.pip-packages=$(echo "$PIP_PACKAGES" | xargs)" \
    --label "io.kubedl.programs=$(echo "$PROGRAMS" | xargs)" 2>/dev/null \
    || die "oci-archive.py failed for $ref"
  scrub "$root"
  printf '%s\n%s\n' "$key" "$unpacked" >"$out.inputs"
  local old; for old in "$cache"/train-"$name"-*.tar; do
    [ "$old" = "$out" ] || rm -f "$old" "$old.inputs"
  done
  secs=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1f", e-s}')
  summary+=("$(row "$ref" "$(stat -c %s "$out")" "$unpacked" "${secs}s")")
  log "$ref: $out"
}
row() {  # REF ARCHIVE_BYTES UNPACKED_BYTES TIME
  printf '%-40s %8.1f MiB %8.1f MiB  %s' "$1" "$(awk -v b="$2" 'BEGIN{print b/1048576}')" \
    "$(awk -v b="$3" 'BEGIN{print b/1048576}')" "$4"
}

[ $# -gt 0 ] || usage
case $1 in
  --path) [ $# -eq 2 ] || usage; archive_path "$2"; exit 0 ;;
  --base-path) [ $# -eq 2 ] || usage; base_path "$2"; exit 0 ;;
  --list) list; exit 0 ;;
  -h|--help) usage ;;
  -*) usage ;;
esac

[ "$(id -u)" -eq 0 ] || die "needs root (mmdebstrap --mode=root)"
command -v mmdebstrap >/dev/null || die "mmdebstrap is missing (tools/install-deps.sh)"
"$pip_python" -m pip --version >/dev/null 2>&1 || die "$pip_python -m pip is missing: apt-get install python3-pip"
for name in "$@"; do load "$name"; done   # every name is valid before anything is built
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
scrub "$cache"/.rootfs-* "$cache"/.base-*   # left by a build that was killed
trap 'scrub "$cache"/.rootfs-* "$cache"/.base-*' EXIT
total_start=$(date +%s.%N)
for name in "$@"; do
  load "$name"
  build "$name"
done
printf '%-40s %12s %12s  %s\n' image archive unpacked "build time" >&2
printf '%s\n' "${summary[@]}" >&2
log "$cache: ${#summary[@]} image(s) in $(awk -v s="$total_start" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1f", e-s}') s"
