#!/usr/bin/env bash
# Stops the demo's services (their pids are under STATE_DIR), gracefully, then for good.
#   stop-services.sh STATE_DIR
set -uo pipefail
state=$1
for f in "$state"/*.pid; do
  [ -f "$f" ] || continue
  pid=$(cat "$f")
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null
  rm -f "$f"
done
