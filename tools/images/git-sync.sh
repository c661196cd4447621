#!/usr/bin/env bash
# Builds, without a container engine, the image of the git code-sync init container for tests on
# the local real node:
#   tools/images/git-sync.sh [OUT_DIR] [TAG]                (defaults: build/images, local)
# writes OUT_DIR/git-sync.tar, localhost/kubedl/git-sync:TAG: Debian's static busybox (sh, wget,
# tar, unzip, ... as applet links), Debian's git (/usr/bin/git with the shared libraries it and
# git-remote-http load, so git://, http(s):// and file:// clones work; no ssh client), the CA
# bundle, and /usr/local/bin/git-sync, the entrypoint.
#
# /usr/local/bin/git-sync stands in for the upstream git-sync image (kubedl/git-sync:v1, the
# reconciler's default for sourceType git) in its one-time mode, the mode the reconciler always
# asks for. It reads the upstream image's environment, the variables the reconciler passes
# (services/reconciler/core/code_sync_injector.cc, docs/code-sync.md):
#   GIT_SYNC_REPO               the clone URL (required)
#   GIT_SYNC_ROOT               where the volume is mounted (default $HOME/git)
#   GIT_SYNC_DEST               the checkout's folder under the root (default: the URL's last
#                               segment without .git)
#   GIT_SYNC_BRANCH             branch to clone (default: the remote's HEAD)
#   GIT_SYNC_REV                commit, tag or ref to check out (default HEAD of the branch)
#   GIT_SYNC_DEPTH              shallow clone of that many commits (0 or unset: full history)
#   GIT_SYNC_ONE_TIME           true: exit 0 after the first successful sync (else sync again
#                               every GIT_SYNC_WAIT seconds, default 1, and never exit)
#   GIT_SYNC_MAX_SYNC_FAILURES  failed attempts tolerated before exiting 1, as upstream (-1:
#                               retry forever; default 0: the first failure exits)
#   GIT_SYNC_USERNAME, GIT_SYNC_PASSWORD_FILE  HTTP credentials, answered through GIT_ASKPASS;
#                               the password is read from the file (the reconciler points it at
#                               the mounted Secret's `password`), as upstream git-sync v4 does.
#                               GIT_SYNC_PASSWORD (the value itself) is still read, as upstream,
#                               but the reconciler never sets it.
#   GIT_SYNC_SSH, GIT_SSH_KEY_FILE, GIT_KNOWN_HOSTS, GIT_SSH_KNOWN_HOSTS_FILE  ssh; this image has
#                               no ssh client, so GIT_SYNC_SSH=true fails saying so
# Unlike upstream, the checkout is a plain folder GIT_SYNC_ROOT/GIT_SYNC_DEST (upstream makes it a
# symbolic link to a worktree beside it): the training containers mount it with subPath
# GIT_SYNC_DEST either way. The commit is checked out detached, so GIT_SYNC_DEST/.git/HEAD holds
# its hash; the log says which commit was synced from where.
#
# Import it into the real node with tools/controlplane/import-images.sh and name it in the
# annotation: {"source": "git://...", "image": "localhost/kubedl/git-sync:local"}. An image
# whose inputs (busybox, git and its libraries, this script, tag) did not change is not rebuilt:
# OUT_DIR/git-sync.tar.inputs holds their hash. KUBEDL_IMAGE_REPOSITORY (default
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
busybox=/bin/busybox
git=/usr/bin/git
remote_http=/usr/lib/git-core/git-remote-http
ca=/etc/ssl/certs/ca-certificates.crt

[ -x "$busybox" ] && dpkg-query -S "$busybox" 2>/dev/null | grep -q '^busybox-static:' \
  || die "$busybox of busybox-static is missing (apt-get install busybox-static)"
[ -x "$git" ] && [ -x "$remote_http" ] || die "git is missing (apt-get install git)"
[ -f "$ca" ] || die "$ca is missing (apt-get install ca-certificates)"
mkdir -p "$out"
# Same lock as build.sh and kubectl-delivery.sh: one image build at a time per OUT_DIR.
exec 9>"$out/.lock"
flock 9
trap 'rm -rf "$out"/.rootfs-git-sync-*' EXIT

name=git-sync
ref=${prefix%/*}/$name:$tag
mapfile -t libs < <("$python" "$here/rootfs.py" libs "$git" "$remote_http")
key=$({ sha256sum "$busybox" "$git" "$remote_http" "${libs[@]}" "$ca" "$here/git-sync.sh" \
          "$here/rootfs.py" "$here/oci-archive.py" | awk '{print $1}'
        printf '%s\n' "$name" "$tag" "$prefix"; } | sha256sum | awk '{print $1}')
if [ -f "$out/$name.tar" ] && [ -f "$out/$name.tar.inputs" ] \
   && [ "$(head -n1 "$out/$name.tar.inputs")" = "$key" ]; then
  log "$ref: up to date"
  exit 0
fi

start=$(date +%s.%N)
root=$(mktemp -d "$out/.rootfs-$name-XXXXXX")
# busybox and its applets (bin -> usr/bin, as on the host), /tmp, users, name resolution.
"$python" "$here/rootfs.py" copy "$root" "$busybox"
mkdir -p "$root/usr/sbin" "$root/tmp" "$root/root" "$root/etc"
ln -s usr/sbin "$root/sbin"
for applet in $("$busybox" --list-full); do
  case $applet in */*) ;; *) continue ;; esac
  [ -e "$root/$applet" ] || [ -L "$root/$applet" ] || ln -s /usr/bin/busybox "$root/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnonroot:x:65532:65532:nonroot:/nonexistent:/sbin/nologin\n' \
  >"$root/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' >"$root/etc/group"
printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$root/etc/nsswitch.conf"
chmod 0644 "$root/etc/passwd" "$root/etc/group" "$root/etc/nsswitch.conf"
chmod 0700 "$root/root"
chmod 1777 "$root/tmp"

# git: the binary (over busybox's nothing: busybox has no git applet), the libraries of git and of
# its HTTP transport, the exec path's builtins a clone runs by name, an empty templates folder.
"$python" "$here/rootfs.py" copy "$root" "$git" "$remote_http" "${libs[@]}" "$ca"
ln -s ../../bin/git "$root/usr/lib/git-core/git"
for builtin in git-upload-pack git-index-pack git-fetch-pack; do
  ln -s git "$root/usr/lib/git-core/$builtin"
done
ln -s git-remote-http "$root/usr/lib/git-core/git-remote-https"
ln -s git-remote-http "$root/usr/lib/git-core/git-remote-ftp"
mkdir -p "$root/usr/share/git-core/templates"

mkdir -p "$root/usr/local/bin"
cat >"$root/usr/local/bin/git-sync" <<'SCRIPT'
#!/bin/sh
# KubeDL's stand-in for the upstream git-sync image's one-time mode (tools/images/git-sync.sh
# documents the environment it reads). Values reach git as arguments, never through eval.
set -u
say() { echo "git-sync: $*"; }
die() { echo "git-sync: $*" >&2; exit 1; }
repo=${GIT_SYNC_REPO:-}
[ -n "$repo" ] || die "GIT_SYNC_REPO is not set"
root=${GIT_SYNC_ROOT:-${HOME:-/root}/git}
dest=${GIT_SYNC_DEST:-}
if [ -z "$dest" ]; then dest=${repo%/}; dest=${dest##*/}; dest=${dest##*:}; dest=${dest%.git}; fi
case $dest in ''|/*|..|../*|*/..|*/../*) die "GIT_SYNC_DEST '$dest' is not a relative folder" ;; esac
branch=${GIT_SYNC_BRANCH:-}
rev=${GIT_SYNC_REV:-HEAD}
depth=${GIT_SYNC_DEPTH:-0}
case $depth in ''|*[!0-9]*) die "GIT_SYNC_DEPTH '$depth' is not a number" ;; esac
max=${GIT_SYNC_MAX_SYNC_FAILURES:-0}
wait=${GIT_SYNC_WAIT:-1}
one_time=${GIT_SYNC_ONE_TIME:-false}
export GIT_TERMINAL_PROMPT=0 GIT_SSL_CAINFO=${GIT_SSL_CAINFO:-/etc/ssl/certs/ca-certificates.crt}
if [ -n "${GIT_SYNC_PASSWORD_FILE:-}" ]; then
  [ -n "${GIT_SYNC_PASSWORD:-}" ] && die "set GIT_SYNC_PASSWORD or GIT_SYNC_PASSWORD_FILE, not both"
  [ -r "$GIT_SYNC_PASSWORD_FILE" ] || die "GIT_SYNC_PASSWORD_FILE $GIT_SYNC_PASSWORD_FILE is not a readable file"
fi
if [ -n "${GIT_SYNC_USERNAME:-}${GIT_SYNC_PASSWORD:-}${GIT_SYNC_PASSWORD_FILE:-}" ]; then
  export GIT_ASKPASS=/usr/local/bin/git-sync-askpass
fi
if [ "${GIT_SYNC_SSH:-false}" = true ]; then
  command -v ssh >/dev/null 2>&1 \
    || die "GIT_SYNC_SSH=true, but this image (tools/images/git-sync.sh) has no ssh client"
  key=${GIT_SSH_KEY_FILE:-/etc/git-secret/ssh}
  if [ "${GIT_KNOWN_HOSTS:-true}" = true ]; then
    GIT_SSH_COMMAND="ssh -i $key -o UserKnownHostsFile=${GIT_SSH_KNOWN_HOSTS_FILE:-/etc/git-secret/known_hosts}"
  else
    GIT_SSH_COMMAND="ssh -i $key -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null"
  fi
  export GIT_SSH_COMMAND
fi
depth_args=""
[ "$depth" -gt 0 ] && depth_args="--depth=$depth"
target=$root/$dest
current=""

# sync: clones into a fresh folder beside the target, checks the revision out detached, then
# swaps it in; a failed attempt leaves the target as it was.
sync() {
  tmp=$root/.git-sync.tmp
  mkdir -p "$root" "${target%/*}" || return 1
  rm -rf "$tmp"
  # shellcheck disable=SC2086
  git clone --quiet --no-checkout $depth_args ${branch:+--branch "$branch"} -- "$repo" "$tmp" \
    || return 1
  if [ "$rev" = HEAD ]; then
    commit=$(git -C "$tmp" rev-parse HEAD) || return 1
  elif ! commit=$(git -C "$tmp" rev-parse --quiet --verify "$rev^{commit}"); then
    # shellcheck disable=SC2086
    git -C "$tmp" fetch --quiet $depth_args origin "$rev" || return 1
    commit=$(git -C "$tmp" rev-parse FETCH_HEAD) || return 1
  fi
  if [ "$commit" = "$current" ] && [ -d "$target/.git" ]; then rm -rf "$tmp"; return 0; fi
  git -C "$tmp" -c advice.detachedHead=false checkout --quiet --detach "$commit" || return 1
  { rm -rf "$target" && mv "$tmp" "$target"; } || return 1
  current=$commit
  say "synced $repo${branch:+ branch $branch}${GIT_SYNC_REV:+ rev $rev} at commit $commit into $target ($(git -C "$target" ls-files | wc -l) files)"
}

failures=0
while :; do
  if sync; then
    failures=0
    if [ "$one_time" = true ]; then say "one-time sync done"; exit 0; fi
  else
    failures=$((failures + 1))
    echo "git-sync: sync of $repo failed ($failures failed attempts)" >&2
    if [ "$max" != -1 ] && [ "$failures" -gt "$max" ]; then
      die "giving up after $failures failed attempts (GIT_SYNC_MAX_SYNC_FAILURES=$max)"
    fi
  fi
  sleep "$wait"
done
SCRIPT
cat >"$root/usr/local/bin/git-sync-askpass" <<'SCRIPT'
#!/bin/sh
# GIT_ASKPASS of git-sync: git asks "Username for ..." or "Password for ...". The password
# comes from GIT_SYNC_PASSWORD_FILE (a mounted Secret) when set; its last newline is dropped.
case ${1:-} in
  Username*) printf '%s\n' "${GIT_SYNC_USERNAME:-}" ;;
  *) if [ -n "${GIT_SYNC_PASSWORD_FILE:-}" ]; then
       printf '%s\n' "$(cat "$GIT_SYNC_PASSWORD_FILE")"
     else
       printf '%s\n' "${GIT_SYNC_PASSWORD:-}"
     fi ;;
esac
SCRIPT
chmod 0755 "$root/usr/local/bin/git-sync" "$root/usr/local/bin/git-sync-askpass"
mkdir -p "$root/usr/share/kubedl"
packages=$({ "$python" "$here/rootfs.py" packages "$busybox" "$git" "$remote_http" "${libs[@]}"
            dpkg-query -W -f='${Package}=${Version}\n' ca-certificates; } | sort -u)
printf '%s\n' "$packages" >"$root/usr/share/kubedl/packages.txt"
find "$root" -type d -exec chmod 0755 {} +
chmod 1777 "$root/tmp"; chmod 0700 "$root/root"

"$python" "$here/oci-archive.py" --rootfs "$root" --name "$ref" --out "$out/$name.tar" \
  --env HOME=/root --entrypoint /usr/local/bin/git-sync \
  --label "org.opencontainers.image.title=$name" \
  --label "org.opencontainers.image.description=KubeDL code sync: git with a git-sync one-time stand-in, busybox" \
  --label "io.kubedl.debian-packages=$(paste -sd, <<<"$packages")" 2>/dev/null
unpacked=$(du -sb --apparent-size "$root" | awk '{print $1}')
rm -rf "$root"
printf '%s\n' "$key" >"$out/$name.tar.inputs"
log "$ref: $out/$name.tar ($(awk -v b="$(stat -c %s "$out/$name.tar")" -v u="$unpacked" \
  'BEGIN{printf "%.1f MiB, %.1f MiB unpacked", b/1048576, u/1048576}')) built in $(awk -v s="$start" \
  -v e="$(date +%s.%N)" 'BEGIN{printf "%.1f", e-s}') s"
