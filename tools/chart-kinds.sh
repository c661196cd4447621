#!/usr/bin/env bash
# Prints the job kinds of the chart's list, charts/kubedl/kinds.yaml (equal to lib/api's kind
# table, checked by the unit tests ChartKinds.*), one line a kind: "Kind group version plural".
# For scripts that cannot run `kubedl-kinds` (no build directory at hand).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
# kinds.yaml has one flow mapping a line: - {kind: TFJob, group: kubeflow.org, ...}
awk '/^- *\{/ {
  line = $0; sub(/^- *\{ */, "", line); sub(/ *\} *$/, "", line)
  n = split(line, pairs, / *, */); split("", f)
  for (i = 1; i <= n; i++) { split(pairs[i], kv, / *: */); f[kv[1]] = kv[2] }
  print f["kind"], f["group"], f["version"], f["plural"]
}' "$repo/charts/kubedl/kinds.yaml"
