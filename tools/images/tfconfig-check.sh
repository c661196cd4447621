#!/bin/sh
# Entrypoint of the test image localhost/kubedl/tfconfig-check (busybox only, no jq): prints
# TF_CONFIG and checks that it is a JSON object naming a cluster and a task with a type and an
# index, and that the cluster's entry for the task's type holds an address for that index (a list
# of addresses, or, for dynamic workers, an object keyed by index). Exit 0 with
#   tfconfig-check: task worker/1 of cluster {...} ok
# or exit 1 saying what is wrong.
fail() { echo "tfconfig-check: $*" >&2; exit 1; }

[ -n "${TF_CONFIG:-}" ] || fail "TF_CONFIG is not set"
echo "TF_CONFIG=$TF_CONFIG"
# Addresses hold no blanks, so blanks are only JSON layout.
c=$(printf '%s' "$TF_CONFIG" | tr -d ' \t\r\n')
case "$c" in "{"*"}") ;; *) fail "TF_CONFIG is not a JSON object: $TF_CONFIG" ;; esac
for key in cluster task type index; do
  case "$c" in *"\"$key\":"*) ;; *) fail "TF_CONFIG has no \"$key\": $TF_CONFIG" ;; esac
done

# value DOC KEY: the JSON value of the first "KEY": in DOC (an object, list, string or number),
# with brackets balanced and strings skipped.
value() {
  printf '%s' "$1" | awk -v key="\"$2\":" '{
    i = index($0, key); if (i == 0) exit 1
    s = substr($0, i + length(key)); c = substr(s, 1, 1)
    if (c != "{" && c != "[") { match(s, /^("[^"]*"|[-0-9.a-z]+)/); if (RSTART == 0) exit 1
                                print substr(s, 1, RLENGTH); exit 0 }
    depth = 0; instr = 0
    for (j = 1; j <= length(s); j++) {
      ch = substr(s, j, 1)
      if (instr) { if (ch == "\\") j++; else if (ch == "\"") instr = 0; continue }
      if (ch == "\"") instr = 1
      else if (ch == "{" || ch == "[") depth++
      else if (ch == "}" || ch == "]") { if (--depth == 0) { print substr(s, 1, j); exit 0 } }
    }
    exit 1 }'
}

# Brackets balanced outside strings, the outermost object closing at the very end.
printf '%s' "$c" | awk '{
  depth = 0; instr = 0
  for (j = 1; j <= length($0); j++) {
    ch = substr($0, j, 1)
    if (instr) { if (ch == "\\") j++; else if (ch == "\"") instr = 0; continue }
    if (ch == "\"") instr = 1
    else if (ch == "{" || ch == "[") depth++
    else if (ch == "}" || ch == "]") { if (--depth < 0 || (depth == 0 && j < length($0))) exit 1 }
  }
  exit (depth != 0 || instr) }' || fail "TF_CONFIG is not well-formed JSON (unbalanced brackets or quotes): $TF_CONFIG"

cluster=$(value "$c" cluster) || fail "\"cluster\" is not a JSON value: $TF_CONFIG"
case "$cluster" in "{"*) ;; *) fail "\"cluster\" is not an object: $cluster" ;; esac
task=$(value "$c" task) || fail "\"task\" is not a JSON value: $TF_CONFIG"
case "$task" in "{"*) ;; *) fail "\"task\" is not an object: $task" ;; esac
type=$(value "$task" type | tr -d '"')
index=$(value "$task" index)
[ -n "$type" ] || fail "the task has no type: $task"
case "$index" in ''|*[!0-9]*) fail "the task's index is not a number: $task" ;; esac
replicas=$(value "$cluster" "$type") || fail "the cluster has no \"$type\" entry: $cluster"
case "$replicas" in
  "["*)  # a list of "host:port": count its entries
    n=$(printf '%s' "$replicas" | tr ',' '\n' | grep -c '"')
    [ "$index" -lt "$n" ] || fail "the cluster has $n $type address(es), none for index $index: $cluster" ;;
  "{"*)
    value "$replicas" "$index" >/dev/null || fail "the cluster's $type entry has no index $index: $cluster" ;;
  *) fail "the cluster's $type entry is neither a list nor an object: $replicas" ;;
esac
echo "tfconfig-check: task $type/$index of cluster $cluster ok"
