#!/usr/bin/env bash
# scripts/cluster down (and scripts/services down) signal only what the scripts started:
#  - an operator's `tail -f STATE/logs/x.log` (its command line names the state dir)
#    survives;
#  - a PID file pointing at an unrelated process (a stale file whose PID was reused: here
#    a `sleep` started outside the scripts, with another start time, or a file of the old
#    format without one) does not get it killed;
#  - a process recorded by the scripts' own pid_record is stopped.
# No Kafka or Redis needed: the state dir is made up. Exit 0 when all hold.
set -uo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
state=$(mktemp -d /tmp/gq-stop-test.XXXXXX)
mkdir -p "$state/run" "$state/logs"
: >"$state/logs/x.log"
fails=0
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
  rm -rf "$state"
}
trap cleanup EXIT
check() { if "$@"; then echo "ok   $desc"; else echo "FAIL $desc"; fails=$((fails + 1)); fi; }
alive() { kill -0 "$1" 2>/dev/null && [ "$(awk '{print $3}' "/proc/$1/stat")" != Z ]; }
start_time() { local s; s=$(cat "/proc/$1/stat"); s=${s##*) }; set -- $s; echo "${20}"; }

# an operator's tail of a log in the state dir
tail -f "$state/logs/x.log" >/dev/null 2>&1 &
tailpid=$!
pids+=("$tailpid")
# unrelated processes that PID files will point at
sleep 600 &
u1=$!
sleep 600 &
u2=$!
pids+=("$u1" "$u2")
# processes "the scripts started": recorded as pid_record does (in their own session,
# as spawn starts them)
setsid sleep 600 &
mine_node=$!
setsid sleep 600 &
mine_redis=$!
pids+=("$mine_node" "$mine_redis")
sleep 0.2

echo "$u1 $(( $(start_time "$u1") + 1 ))" >"$state/run/dispatcher.pid" # wrong start time
echo "$u2" >"$state/run/kafka.pid"                                      # old format
echo "$mine_node $(start_time "$mine_node")" >"$state/run/node-1.pid"
echo "$mine_redis $(start_time "$mine_redis")" >"$state/run/redis.pid"

out=$("$repo/scripts/cluster" down --dir "$state" 2>&1)
echo "$out" | sed 's/^/    /'
sleep 0.3
desc="tail -f of a log in the state dir survives cluster down"; check alive "$tailpid"
desc="a PID file with another start time does not kill its PID"; check alive "$u1"
desc="a PID file without a start time does not kill its PID"; check alive "$u2"
desc="the node the scripts started is stopped"; check bash -c "! kill -0 $mine_node 2>/dev/null || grep -q ' Z ' /proc/$mine_node/stat"
desc="the redis the scripts started is stopped"; check bash -c "! kill -0 $mine_redis 2>/dev/null || grep -q ' Z ' /proc/$mine_redis/stat"
desc="the old-format PID file is named"; check grep -q "has no start time" <<<"$out"

[ "$fails" -eq 0 ] && echo "all passed"
exit $((fails > 0))
