#!/usr/bin/env bash
# Webhook side by side: training-operator's validating webhook (Go, controller-runtime) and
# kubedl-webhook, each alone on loopback over TLS keep-alive with the same TFJob AdmissionReview
# CREATE body (bench/webhook/make_body.py, ~6 KB, 1 PS + 4 Workers), one measured at a time:
#   - saturation: closed loop, CONNECTIONS (16) keep-alive connections, DURATION (5) s, with
#     webhook_review_load (one client thread per connection) and, when wrk is installed, with
#     wrk -t1 (one client thread, so more of the 2 cores is left to the server);
#   - latency at a fixed rate: open loop at RATE (2000) requests/s for DURATION s, p50/p99 from
#     each request's intended send time (webhook_review_load --rate).
# Both serve /validate-kubeflow-org-v1-tfjob; kubedl-webhook's /mutate-kubeflow-org-v1-tfjob is
# measured too (training-operator has no TFJob mutating webhook: it defaults in its controller).
# Before measuring, one request to each must come back 200 with "allowed":true.
#
#   KUBEDL_CLUSTER_DIR=/tmp/compare-cluster bash bench/compare/webhooks.sh [BUILD_DIR]
# needs a running control plane (tools/controlplane/up.sh): training-operator's manager does not
# start without an API server (its cache and cert rotator). The script installs training-operator's
# CRDs while it runs and restores KubeDL's at the end (run-training-operator.sh). Needs the targets
# kubedl-webhook and webhook_review_load built in BUILD_DIR (default build/). Each server runs with
# its defaults (training-operator: GOMAXPROCS = all cores; kubedl-webhook: --threads=2).
# Environment: DURATION, RATE, CONNECTIONS, WARMUP (1 s, not counted), REPEAT (3: each figure is
# the median of REPEAT rounds; peak RSS is over all rounds), QUIET and QUIET_WAIT (each round waits
# up to QUIET_WAIT s for the whole machine to be under QUIET of its cores busy; the table shows how
# busy it was, and how many cores other processes used during each round). Prints a Markdown table.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${1:-$repo/build}
duration=${DURATION:-5} rate=${RATE:-2000} connections=${CONNECTIONS:-16} warmup=${WARMUP:-1}
repeat=${REPEAT:-3}
cluster=${KUBEDL_CLUSTER_DIR:-$repo/.local/cluster}
# shellcheck disable=SC1091
source "$cluster/env"
export KUBECONFIG KUBECTL
# shellcheck source=run-training-operator.sh
source "$here/run-training-operator.sh"
# shellcheck source=../measure.sh
source "$here/../measure.sh"
load=$build/bench/webhook/webhook_review_load
ours=$build/services/webhook/kubedl-webhook
for b in "$load" "$ours"; do
  [ -x "$b" ] || { echo "$b is missing: build the targets webhook_review_load and kubedl-webhook" >&2; exit 1; }
done

loadavg_before=$(cut -d" " -f1-3 /proc/loadavg)
work=$(mktemp -d /tmp/compare-webhooks.XXXXXX)
ours_pid=
crds_applied=0
cleanup() {
  [ -z "$ours_pid" ] || { kill "$ours_pid" 2>/dev/null; wait "$ours_pid" 2>/dev/null || true; }
  to_stop
  [ "$crds_applied" = 0 ] || to_restore_crds
  rm -rf "$work"
}
trap cleanup EXIT
python3 "$repo/bench/webhook/make_body.py" "$work/body.json"

tick=$cmp_tick
# "WALL MACHINE_BUSY SERVER CLIENTS" in seconds; CLIENTS is this shell's waited-for children (the
# load drivers), read by `times` here and not in a subshell, whose own children would be none.
snapshot() {  # PID
  times >"$work/times"
  echo "$(date +%s.%N) $(awk -v t="$tick" '/^cpu / {print ($2+$3+$4+$7+$8+$9) / t}' /proc/stat)" \
    "$(cpu_seconds "$1") $(awk 'function s(x) { sub(/s$/, "", x); split(x, a, "m"); return a[1] * 60 + a[2] }
      NR == 2 { print s($1) + s($2) }' "$work/times")"
}
field() { sed -nE "s/.*(^| )$1=([^ ]*).*/\\2/p" <<<"$2"; }   # field NAME LINE

# One POST must answer 200 with allowed true; the handler may register a moment after /readyz.
expect_allowed() {  # URL CA
  local i out
  for i in $(seq 1 100); do
    out=$(curl -s --cacert "$2" -H 'Content-Type: application/json' --data-binary "@$work/body.json" \
      -w ' http=%{http_code}' "$1" || true)
    if [[ $out == *'"allowed":true'* && $out == *'http=200' ]]; then return 0; fi
    sleep 0.1
  done
  echo "no 200 allowed from $1: $out" >&2; return 1
}

# Before each round, wait for a quiet machine (bench/measure.sh); the busy share seen last goes into the table.
wait_quiet() { l_busy+=" $(wait_quiet_machine)"; }


# One round: review_load closed loop, wrk closed loop, review_load at the fixed rate. Appends the
# round's figures to the lists named after the columns.
round() {  # PID URL CA
  local pid=$1 url=$2 ca=$3 sat fixed out c0 c1 total s0 s1
  snapshot "$pid" >"$work/s0"; s0=$(cat "$work/s0")
  c0=$(cpu_seconds "$pid")
  sat=$("$load" --url="$url" --body="$work/body.json" --ca-file="$ca" --connections="$connections" \
    --duration="$duration" --warmup="$warmup")
  c1=$(cpu_seconds "$pid")
  echo "  saturation: $sat" >&2
  if command -v wrk >/dev/null; then
    out=$(KUBEDL_BENCH_BODY=$work/body.json wrk -t1 -c"$connections" -d"${duration}s" --latency \
      -s "$repo/bench/webhook/admission.lua" "$url")
    echo "  wrk: $(grep -E 'Requests/sec|Non-2xx|Socket errors' <<<"$out" | tr -s ' \n' ' ')" >&2
    if grep -qE 'Non-2xx|Socket errors' <<<"$out"; then bad=$((bad + 1))
    else l_wrk+=" $(awk '/Requests\/sec/ {printf "%.0f", $2}' <<<"$out")"; fi
  fi
  fixed=$("$load" --url="$url" --body="$work/body.json" --ca-file="$ca" --connections="$connections" \
    --duration="$duration" --warmup="$warmup" --rate="$rate")
  echo "  at $rate/s: $fixed" >&2
  snapshot "$pid" >"$work/s1"; s1=$(cat "$work/s1")
  # Cores busy with anything but this server and its load drivers, over the round.
  l_others+=" $(python3 -c "a = [float(x) for x in '$s0'.split()]; b = [float(x) for x in '$s1'.split()]
d = [y - x for x, y in zip(a, b)]; print(round(max(d[1] - d[2] - d[3], 0) / d[0], 2))")"
  l_sat+=" $(field rate "$sat" | sed 's#/s##')"
  l_fixed+=" $(field rate "$fixed" | sed 's#/s##')"
  l_p50+=" $(field p50 "$fixed" | sed 's/ms//')"
  l_p99+=" $(field p99 "$fixed" | sed 's/ms//')"
  bad=$((bad + $(field errors "$sat") + $(field non2xx "$sat") + $(field errors "$fixed") + $(field non2xx "$fixed")))
  # CPU per review in the review_load saturation run (its warm-up counted at the same rate).
  total=$(python3 -c "print(float('$(field rate "$sat" | sed 's#/s##')') * ($duration + $warmup))")
  l_cpu+=" $(python3 -c "print(round(($c1 - $c0) / $total * 1e6))")"
}

rows=()
declare -A SAT_RATE WRK_RATE
measure() {  # NAME PID URL CA: REPEAT rounds, medians in one row
  local name=$1 pid=$2 url=$3 ca=$4 i l_sat= l_wrk= l_fixed= l_p50= l_p99= l_cpu= l_busy= l_others= bad=0
  expect_allowed "$url" "$ca"
  for i in $(seq 1 "$repeat"); do
    wait_quiet
    echo "$name, round $i of $repeat (machine ${l_busy##* } busy before):" >&2
    round "$pid" "$url" "$ca"
  done
  rows+=("$(printf '| %s | %s | %s | %s | %s ms | %s ms | %s | %s | %s | %s | %s |' "$name" \
    "$(median <<<"$l_sat")" "$( [ -n "$l_wrk" ] && median <<<"$l_wrk" || echo -)" "$(median <<<"$l_fixed")" \
    "$(median <<<"$l_p50")" "$(median <<<"$l_p99")" "$bad" "$(median <<<"$l_cpu")" \
    "$(awk '/VmHWM/ {printf "%.0f MiB", $2 / 1024}' "/proc/$pid/status")" "${l_busy# }" "${l_others# }")")
  SAT_RATE[$name]=$(median <<<"$l_sat")
  WRK_RATE[$name]=$( [ -n "$l_wrk" ] && median <<<"$l_wrk" || echo 0)
}

# --- training-operator -------------------------------------------------------------------------
to_apply_crds; crds_applied=1
to_start
to_check_loopback
measure "training-operator $TRAINING_OPERATOR_VERSION validate" "$TO_PID" \
  "https://127.0.0.1:$TO_WEBHOOK_PORT/validate-kubeflow-org-v1-tfjob" "$TO_CA"
to_stop
to_restore_crds; crds_applied=0

# --- kubedl-webhook ----------------------------------------------------------------------------
bash "$repo/tools/certs/gen.sh" ca "$work" ca
bash "$repo/tools/certs/gen.sh" server "$work" server "$work/ca" 127.0.0.1
port=$(to_free_port)
"$ours" --bind-address=127.0.0.1 --port="$port" --health-port=0 \
  --cert-file="$work/server.crt" --key-file="$work/server.key" 2>"$work/kubedl-webhook.log" &
ours_pid=$!
measure "kubedl-webhook validate" "$ours_pid" "https://127.0.0.1:$port/validate-kubeflow-org-v1-tfjob" "$work/ca.crt"
measure "kubedl-webhook mutate" "$ours_pid" "https://127.0.0.1:$port/mutate-kubeflow-org-v1-tfjob" "$work/ca.crt"

echo
echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), load average before: $loadavg_before, after: $(cut -d" " -f1-3 /proc/loadavg)"
echo "kubedl-webhook $(date -u -r "$ours" '+built %Y-%m-%d %H:%M UTC'), --threads default; training-operator $TRAINING_OPERATOR_VERSION $(bash "$here/build-training-operator.sh"), GOMAXPROCS default"
echo "body $(wc -c <"$work/body.json") bytes; TLS keep-alive on loopback; $connections connections; ${duration} s measured after ${warmup} s warm-up; median of $repeat rounds"
echo
echo "| webhook | saturation req/s (review_load) | saturation req/s (wrk -t1) | achieved at $rate/s | p50 | p99 | failed (all rounds) | CPU µs/review at saturation | peak RSS | machine busy before each round | other load during each round (cores) |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
to="training-operator $TRAINING_OPERATOR_VERSION validate" kd="kubedl-webhook validate"
echo
echo "validate throughput at saturation, kubedl-webhook / training-operator:" \
  "$(python3 -c "print(round(${SAT_RATE[$kd]} / ${SAT_RATE[$to]}, 2))")x with review_load," \
  "$(python3 -c "t = ${WRK_RATE[$to]}; print(str(round(${WRK_RATE[$kd]} / t, 2)) + 'x' if t else '-')") with wrk -t1"
