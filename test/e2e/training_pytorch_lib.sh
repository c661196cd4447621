# Sourced by the PyTorchJob training tests (training_pytorch_*_test.sh) after real_node_lib.sh:
# the cluster they share the shape of, the manifests of examples/training/pytorch/ with a test's
# changes, and the checks of the training logs.
# shellcheck shell=bash
pt_examples=$repo/examples/training/pytorch
# The workers' init container init-pytorch runs `nslookup <job>-master-0` until it answers, in
# Debian's static busybox 1.35: like the default busybox:1.36 it exits 1 when any search domain
# is NXDOMAIN, which the reconciler's script allows for (it reads the answer, not the exit code).
pt_wait_image=localhost/kubedl/busybox-static:local
pt_python=/usr/bin/python3   # Debian's, with python3-yaml (tools/install-deps.sh)
[ -x "$pt_python" ] || pt_python=python3

pt_extra_diagnostics() {
  k -n "$e2e_ns" get pytorchjobs -o jsonpath='{range .items[*]}{.metadata.name}: {.status}{"\n"}{end}' 2>/dev/null || true
}
e2e_extra_diagnostics() { pt_extra_diagnostics; }

# pt_up NAME NS: the train-pytorch and busybox-static images, a control plane with a real node,
# the PyTorchJob CRD, the namespace, the reconciler (--master-wait-image: busybox-static).
pt_up() {
  local start=$SECONDS image
  e2e_init "$1"
  step "the train-pytorch image, a control plane with a real node, the PyTorchJob CRD, the reconciler"
  e2e_training_image pytorch
  bash "$repo/tools/images/kubectl-delivery.sh" "$build/images" local
  e2e_image "$build/images/busybox-static.tar"
  image=$(bash "$repo/tools/images/training.sh" --path pytorch)
  e2e_up
  e2e_crds PyTorchJob
  e2e_namespace "$2"
  e2e_reconciler PyTorchJob --master-wait-image="$pt_wait_image"
  echo "  train-pytorch image: $(awk -v b="$(stat -c %s "$image")" 'BEGIN{printf "%.1f", b/1048576}') MiB archive," \
    "$(awk -v b="$(sed -n 2p "$image.inputs")" 'BEGIN{printf "%.1f", b/1048576}') MiB unpacked"
  echo "  ready in $((SECONDS - start)) s (node $REAL_NODE at $NODE_IP)"
}

# pt_manifest FILE NAME [KEY=VALUE...]: FILE with metadata.name NAME; each KEY=VALUE is an env
# variable added to every pytorch container, except runPolicy.KEY=VALUE which sets the run policy.
pt_manifest() {
  "$pt_python" - "$@" <<'EOF'
import sys, yaml
path, name, *sets = sys.argv[1:]
job = yaml.safe_load(open(path))
job["metadata"]["name"] = name
for kv in sets:
    key, value = kv.split("=", 1)
    if key.startswith("runPolicy."):
        job["spec"].setdefault("runPolicy", {})[key.split(".", 1)[1]] = value
        continue
    for spec in job["spec"]["pytorchReplicaSpecs"].values():
        for c in spec["template"]["spec"]["containers"]:
            if c["name"] == "pytorch":
                c.setdefault("env", []).append({"name": key, "value": value})
print(yaml.safe_dump(job, sort_keys=False))
EOF
}

now() { date +%s.%N; }
since() { awk -v s="$1" -v e="$(now)" 'BEGIN{printf "%.1f", e-s}'; }

# pt_wait_started JOB N TIMEOUT: until the pytorch container of each of the job's N pods has
# started (running, or already terminated).
pt_wait_started() {
  local job=$1 n=$2 deadline=$((SECONDS + $3)) started
  while :; do
    started=$(k -n "$e2e_ns" get pods -l "training.kubeflow.org/job-name=$job" -o jsonpath='{range .items[*]}{range .status.containerStatuses[?(@.name=="pytorch")]}{.state.running.startedAt}{.state.terminated.startedAt}{"\n"}{end}{end}' | grep -c . || true)
    [ "$started" -ge "$n" ] && return
    [ $SECONDS -lt $deadline ] || fail "only $started of the $n pods of $job started in $3 s"
    sleep 0.3
  done
}

# pt_pods JOB: the job's pod names, sorted.
pt_pods() {
  k -n "$e2e_ns" get pods -l "training.kubeflow.org/job-name=$1" -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}' | sort
}

# pt_wait_exited POD TIMEOUT: until its pytorch container terminated; prints the exit code.
pt_wait_exited() {
  local code deadline=$((SECONDS + $2))
  while :; do
    code=$(k -n "$e2e_ns" get pod "$1" -o jsonpath='{.status.containerStatuses[?(@.name=="pytorch")].state.terminated.exitCode}')
    [ -n "$code" ] && { echo "$code"; return; }
    [ $SECONDS -lt $deadline ] || fail "$1's container did not end in $2 s"
    sleep 0.5
  done
}

# pt_check_logs WORLD LOG...: each log is one pod's; together they show every rank 0..WORLD-1
# training to the last step, each rank's loss going down (last < half the first it printed) and
# ending with "done final_loss". Prints a line per log; sets pt_final_losses.
pt_check_logs() {
  local out
  out=$("$pt_python" - "$@" <<'EOF'
import re, sys
world, logs = int(sys.argv[1]), sys.argv[2:]
step_re = re.compile(r"(?:^|\]:)rank=(\d+) step=(\d+) loss=([0-9.e+-]+)$")
done_re = re.compile(r"(?:^|\]:)rank=(\d+) done final_loss=([0-9.e+-]+) steps=(\d+)$")
ranks, bad = {}, []
for path in logs:
    steps, done, seen = [], None, set()
    for line in open(path, errors="replace"):
        line = line.rstrip("\n")
        m = step_re.search(line)
        if m:
            seen.add(int(m[1])); steps.append((int(m[2]), float(m[3])))
        m = done_re.search(line)
        if m:
            seen.add(int(m[1])); done = (float(m[2]), int(m[3]))
    name = path.rsplit("/", 1)[-1].removesuffix(".log")
    if len(seen) != 1:
        bad.append(f"{name}: ranks {sorted(seen)} in one log"); continue
    rank = seen.pop()
    if not steps or done is None:
        bad.append(f"{name}: rank {rank} has {len(steps)} steps and {'a' if done else 'no'} done line"); continue
    first, last = steps[0], steps[-1]
    if last[0] != done[1] - 1:
        bad.append(f"{name}: rank {rank} stopped at step {last[0]}, not {done[1] - 1}")
    if not last[1] < first[1] / 2:
        bad.append(f"{name}: rank {rank} loss did not go down: step {first[0]} {first[1]} -> step {last[0]} {last[1]}")
    if any(b[0] != a[0] + 1 for a, b in zip(steps, steps[1:])):
        bad.append(f"{name}: rank {rank} skipped or repeated steps")
    ranks[rank] = name
    print(f"  {name}: rank {rank}, steps {first[0]}..{last[0]}, loss {first[1]:.4f} -> {last[1]:.4f}, final_loss={done[0]:.6f}")
missing = sorted(set(range(world)) - set(ranks))
if missing:
    bad.append(f"ranks {missing} of {world} are in no log")
if bad:
    print("BAD " + "; ".join(bad))
EOF
) || fail "reading the training logs failed"
  printf '%s\n' "$out" | grep -v '^BAD '
  ! grep -q '^BAD ' <<<"$out" || fail "$(grep '^BAD ' <<<"$out" | cut -c5-)"
  pt_final_losses=$(grep -o 'final_loss=[0-9.]*' <<<"$out" | cut -d= -f2 | paste -sd' ')
}
