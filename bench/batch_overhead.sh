#!/usr/bin/env bash
# What the cluster costs on top of grading itself, side by side in one run:
#   baseline  the same submissions graded by running their hidden tests directly with
#             pytest (examples/expected.py --batch --every: one `python -m pytest` per
#             file, identical files too), no sandbox, no queue, JOBS processes
#   cluster   scripts/cluster (jobs on a Redis stream, or GRADEQ_BROKER=kafka; Redis,
#             dispatcher, NODES x SLOTS sandboxed
#             slots) fed with `gradeq batch --wait`
# Both use the same parallelism (JOBS = NODES * SLOTS), so the ratio cluster/baseline is
# the price of dispatch + queue + sandbox + result writes per submission.
#   bench/batch_overhead.sh [--students N] [--nodes N] [--slots S] [--exercises a,b]
# Needs a built tree (scripts/setup). Prints submissions, seconds, rate and the ratio.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
students=40 nodes=2 slots=2 exercises=primes,strings
while [ $# -gt 0 ]; do
  case "$1" in
    --students) students=$2; shift 2 ;;
    --nodes) nodes=$2; shift 2 ;;
    --slots) slots=$2; shift 2 ;;
    --exercises) exercises=$2; shift 2 ;;
    -h|--help) sed -n 2,12p "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "batch_overhead: unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
done
py=${GRADEQ_PREFIX:-/opt/gradeq}/venv/bin/python
bin=${GRADEQ_BIN_DIR:-$here/build}
work=$(mktemp -d /tmp/gq-bench.XXXXXX)
chmod 755 "$work"  # sandbox uids must reach the workdirs below it
export GRADEQ_STATE=$work/cluster GRADEQ_BIN_DIR=$bin
cleanup() { "$here/scripts/cluster" down >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT

"$py" "$here/examples/gen_submissions.py" "$work/subs" --students "$students" --seed 3 \
  --no-hang --exercises "$exercises" >/dev/null
n=$(find "$work/subs" -name '*.py' | wc -l)
jobs=$((nodes * slots))

t0=$(date +%s.%N)
"$py" "$here/examples/expected.py" --batch --every "$work/subs" "$here/examples/course" \
  --jobs "$jobs" --out "$work/expected.json" >/dev/null
t1=$(date +%s.%N)

"$here/scripts/cluster" up --nodes "$nodes" --slots "$slots" >/dev/null
eval "$("$here/scripts/cluster" env)"
IFS=, read -ra exs <<<"$exercises"
for ex in "${exs[@]}"; do
  "$bin/cli/gradeq" publish "bench/$ex" "$here/examples/course/$ex" >/dev/null
done
t2=$(date +%s.%N)
for ex in "${exs[@]}"; do
  "$bin/cli/gradeq" batch "bench/$ex" "$work/subs/$ex" --wait --json >"$work/$ex.json" &
done
wait
t3=$(date +%s.%N)

"$py" - "$work" "$n" "$jobs" "$t0" "$t1" "$t2" "$t3" "${exs[@]}" <<'PY'
import json, sys
work, n, jobs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
t0, t1, t2, t3 = map(float, sys.argv[4:8])
exs = sys.argv[8:]
exp = json.load(open(f"{work}/expected.json"))
bad = 0
for ex in exs:
    for row in json.load(open(f"{work}/{ex}.json")):
        want = exp[ex][row["student"]]
        want = want["score"] if isinstance(want, dict) else want
        bad += abs(float(row["score"]) - float(want)) > 1e-9
base, clus = t1 - t0, t3 - t2
print(f"{'':10} {'submissions':>11} {'seconds':>8} {'per s':>7}")
print(f"{'baseline':10} {n:>11} {base:>8.1f} {n / base:>7.2f}   direct pytest, {jobs} processes")
print(f"{'cluster':10} {n:>11} {clus:>8.1f} {n / clus:>7.2f}   {jobs} sandboxed slots")
print(f"ratio cluster/baseline: {clus / base:.2f}  (score mismatches: {bad})")
sys.exit(1 if bad else 0)
PY
