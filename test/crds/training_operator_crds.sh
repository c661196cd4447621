#!/usr/bin/env bash
# Prints the folder of training-operator's CRDs (manifests/base/crds/ of the Go module
# github.com/kubeflow/training-operator at TRAINING_OPERATOR_VERSION, tools/controlplane/
# versions.env), fetched once into the control plane's Go module cache. Exits non-zero, saying
# why on stderr, when it cannot be had.
set -euo pipefail
controlplane=$(cd "$(dirname "$0")/../../tools/controlplane" && pwd)
# shellcheck source=../../tools/controlplane/versions.env
source "$controlplane/versions.env"
: "${TRAINING_OPERATOR_VERSION:?is not set in tools/controlplane/versions.env}"
exec bash "$controlplane/go-module-files.sh" github.com/kubeflow/training-operator \
  "$TRAINING_OPERATOR_VERSION" manifests/base/crds
