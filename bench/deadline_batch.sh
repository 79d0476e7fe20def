#!/usr/bin/env bash
# A deadline batch through the whole cluster against the naive loop, side by side in one
# run, on the same submissions and with the same parallelism:
#   naive     one `python -m pytest` per submission, beside the hidden tests, no sandbox,
#             no queue (examples/expected.py --batch --every), NODES x SLOTS at a time
#   cluster   scripts/cluster with NODES x SLOTS sandboxed warm slots (jobs on a Redis
#             stream; GRADEQ_BROKER=kafka for Kafka), fed with `gradeq batch --wait` for
#             every exercise at once
# Prints both wall times and the speed-up (goal >= 8x), and the CPU each cluster process
# spent on the batch per submission (dispatcher, Redis, a Kafka broker, the nodes and
# their zygotes; the CLI apart): the cluster's own cost, goal <= 15 ms per submission.
# Exit 1 when a score differs from the naive loop's.
#   bench/deadline_batch.sh [--students N] [--nodes N] [--slots S] [--exercises a,b]
# Default: 40 students x primes,strings... use --students 60 for 120 submissions.
# Needs a built tree (scripts/setup) and root.
set -euo pipefail
. "$(dirname "$0")/common.sh"
bench_args deadline_batch 15 "$0" "$@"
work=$(mktemp -d /tmp/gq-bench.XXXXXX)
chmod 755 "$work"  # sandbox uids must reach the workdirs below it
export GRADEQ_STATE=$work/cluster GRADEQ_BIN_DIR=$bin
cleanup() { "$here/scripts/cluster" down >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT

"$py" "$here/examples/gen_submissions.py" "$work/subs" --students "$students" --seed 3 \
  --no-hang --exercises "$exercises" >/dev/null
n=$(find "$work/subs" -name '*.py' | wc -l)
jobs=$((nodes * slots))
echo "[bench] naive loop: $n submissions, $jobs at a time ..." >&2
t0=$(date +%s.%N)
"$py" "$here/examples/expected.py" --batch --every "$work/subs" "$here/examples/course" \
  --jobs "$jobs" --out "$work/expected.json" >/dev/null
t1=$(date +%s.%N)

echo "[bench] cluster: $nodes nodes x $slots slots ..." >&2
"$here/scripts/cluster" up --nodes "$nodes" --slots "$slots" >/dev/null
eval "$("$here/scripts/cluster" env)"
IFS=, read -ra exs <<<"$exercises"
for ex in "${exs[@]}"; do
  "$bin/cli/gradeq" publish "bench/$ex" "$here/examples/course/$ex" >/dev/null
done
"$py" "$here/bench/cluster_batch.py" --state "$GRADEQ_STATE" --cli "$bin/cli/gradeq" \
  --subs "$work/subs" --out "$work/cluster.json" "${exs[@]}"

"$py" - "$work" "$n" "$jobs" "$t0" "$t1" <<'PY'
import json, sys
work, n, jobs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
naive = float(sys.argv[5]) - float(sys.argv[4])
exp = json.load(open(f"{work}/expected.json"))
c = json.load(open(f"{work}/cluster.json"))
bad, missing = [], 0
for key, want in ((f"{ex}/{st}", w) for ex, d in exp.items() for st, w in d.items()):
    got = c["scores"].get(key)
    want = want["score"] if isinstance(want, dict) else want
    if got is None:
        missing += 1
    elif abs(float(got) - float(want)) > 1e-9:
        bad.append(key)
clus = c["wall_s"]
print(f"{n} submissions, {jobs} at a time, one run")
print(f"{'':10} {'seconds':>8} {'per s':>7}")
print(f"{'naive':10} {naive:>8.1f} {n / naive:>7.2f}   python -m pytest per submission")
print(f"{'cluster':10} {clus:>8.1f} {n / clus:>7.2f}   sandboxed, warm, through the queue")
sp = naive / clus
print(f"speed-up naive/cluster: {sp:.1f}x (goal >= 8x): {'met' if sp >= 8 else 'NOT met'}")
print("CPU of each process during the batch: seconds (ms per submission)")
own = 0.0
for k in sorted(c["cpu_s"], key=lambda k: (k in ("zygotes", "cli"), k.startswith("node"), k)):
    v = c["cpu_s"][k]
    if k != "cli":
        own += v
    note = {"zygotes": "  the nodes' forks of the jobs' processes (not in the jobs' CPU)",
            "cli": "  gradeq batch --wait (the client, not the cluster)"}.get(k, "")
    print(f"  {k:<14} {v:>7.2f} ({1000 * v / n:>5.1f}){note}")
per = 1000 * own / n
print(f"cluster's own CPU (dispatcher, broker, Redis, nodes with their zygotes): {own:.2f} s, {per:.1f} ms per "
      f"submission (goal <= 15 ms): {'met' if per <= 15 else 'NOT met'}")
print(f"score mismatches: {len(bad)} {bad[:5]}; results missing: {missing}; "
      f"failed batches: {len(c['failed'])}")
sys.exit(1 if bad or missing or c["failed"] else 0)
PY
