#!/usr/bin/env bash
# Installs the Debian packages the build, the tests and the demo need. Idempotent: it asks apt
# only for what is missing, so a warm machine spends no time here.
set -euo pipefail
packages=(
  build-essential cmake ninja-build pkg-config git ca-certificates curl openssl python3
  python3-yaml python3-grpcio python3-protobuf
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libboost-dev libssl-dev prometheus-cpp-dev libabsl-dev libgoogle-glog-dev libgflags-dev
  nlohmann-json3-dev libsimdjson-dev libyaml-cpp-dev libgtest-dev libgmock-dev libbenchmark-dev
  clang libclang-rt-14-dev wrk
  # The optional real node (KUBEDL_REAL_NODES=1): runtime, pod networking, Services, and the
  # static busybox its test image is made of. All small.
  runc containernetworking-plugins iptables nftables conntrack busybox-static
  # The training images (tools/images/training.sh): root file systems from Debian packages and
  # wheels from PyPI.
  mmdebstrap python3-pip
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ! command -v go >/dev/null 2>&1; then missing+=(golang-go); fi
[ ${#missing[@]} -eq 0 ] && exit 0
echo "[deps] installing: ${missing[*]}" >&2
sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
