#!/usr/bin/env bash
# The gRPC certificates the chart generates (internalTls.mode=helm), taken from the Secrets of a
# `helm template` render, one folder per identity:
#   chart_certificates.sh CHART OUT_DIR  ->  OUT_DIR/{gang-scheduler,metrics,reconciler}/{tls.crt,tls.key,ca.crt}
# Release "kt" in namespace "kubedl-system": the services' certificates name
# kt-kubedl-<service>.kubedl-system.svc. helm: $HELM, else the one tools/controlplane builds.
set -euo pipefail
chart=$1 out=$2
helm=${HELM:-}
if [ -z "$helm" ]; then
  for candidate in "${KUBEDL_CACHE:-$HOME/.cache/kubedl}"/bin/helm-*/helm; do
    [ -x "$candidate" ] && helm=$candidate
  done
fi
[ -x "$helm" ] || { echo "no helm: set HELM or build it (make controlplane)" >&2; exit 1; }
mkdir -p "$out"
"$helm" template kt "$chart" -n kubedl-system --set gangScheduler.enabled=true \
  --show-only templates/internal-tls.yaml > "$out/internal-tls.yaml"
python3 - "$out" <<'PY'
import base64, os, sys, yaml
out = sys.argv[1]
found = 0
for doc in yaml.safe_load_all(open(os.path.join(out, "internal-tls.yaml"))):
    if not doc or doc.get("kind") != "Secret" or doc.get("type") != "kubernetes.io/tls":
        continue
    name = doc["metadata"]["name"]              # kt-kubedl-<component>-grpc-tls
    component = name[len("kt-kubedl-"):-len("-grpc-tls")]
    os.makedirs(os.path.join(out, component), exist_ok=True)
    for key, value in doc["data"].items():
        with open(os.path.join(out, component, key), "wb") as f:
            f.write(base64.b64decode(value))
    found += 1
if found != 3:
    sys.exit(f"expected 3 TLS Secrets (gang-scheduler, metrics, reconciler), found {found}")
PY
