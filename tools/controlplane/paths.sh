# Sourced by the control-plane scripts: where the repository, the pinned versions, the build cache
# and the cluster folder are. `here` is the sourcing script's folder.
repo=$(cd "$here/../.." && pwd)
# shellcheck source=versions.env
source "$here/versions.env"
cache=${KUBEDL_CACHE:-$HOME/.cache/kubedl}
dir=${KUBEDL_CLUSTER_DIR:-$repo/.local/cluster}
# Absolute: the path is written into configs and matched against mounts and pid files.
dir=$(realpath -m "$dir")
