#!/usr/bin/env bash
# What the sandbox costs: grades one small correct submission N times with bubblewrap and
# N times without (interleaved in pairs, so machine load hits both alike) through
# gradeq-grade-local, and prints the median of each phase side by side with the ratio,
# then the median over the pairs of what the bwrap profile adds to one job: its cold
# start (spawn -> harness hello) plus its teardown (the pid namespace going away), the
# goal being under 20 ms. Both modes have the workdir tmpfs, cgroup, rlimits and uid.
#   bench/sandbox_cost.sh [-n RUNS] [--tool PATH] [EXERCISE_DIR SUBMISSION.py]
# Defaults: 20 runs; tests/sandbox/fixtures/ex_arith + subs/ok.py; the tool from
# $GRADEQ_BIN_DIR (or build/, or /tmp/build-sbx)/grader-node/gradeq-grade-local.
# Phases: stage (workdir + tmpfs, cgroup, fork), sandbox start (spawn -> harness hello:
# bwrap + interpreter start), python+imports (pytest, marimo, submission), tests,
# teardown (kill, cgroup empty, cleanup). Needs root for cgroups and the uid drop.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
runs=20
tool=""
pos=()
while [ $# -gt 0 ]; do
  case "$1" in
    -n) runs=$2; shift 2 ;;
    --tool) tool=$2; shift 2 ;;
    -h|--help) sed -n 2,12p "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "sandbox_cost: unknown option $1" >&2; exit 2 ;;
    *) pos+=("$1"); shift ;;
  esac
done
exercise=${pos[0]:-$here/tests/sandbox/fixtures/ex_arith}
submission=${pos[1]:-$here/tests/sandbox/fixtures/subs/ok.py}
if [ -z "$tool" ]; then
  for d in "${GRADEQ_BIN_DIR:-}" "$here/build" /tmp/build-sbx; do
    if [ -n "$d" ] && [ -x "$d/grader-node/gradeq-grade-local" ]; then
      tool=$d/grader-node/gradeq-grade-local
      break
    fi
  done
fi
[ -x "$tool" ] || { echo "sandbox_cost: gradeq-grade-local not found (--tool)" >&2; exit 2; }

out=$(mktemp)
trap 'rm -f "$out"' EXIT
# one warm-up of each, not counted (page cache, first bwrap)
"$tool" --json "$exercise" "$submission" >/dev/null
"$tool" --json --no-sandbox "$exercise" "$submission" >/dev/null
for ((i = 0; i < runs; i++)); do
  printf 'bwrap %s\n' "$("$tool" --json "$exercise" "$submission")" >>"$out"
  printf 'plain %s\n' "$("$tool" --json --no-sandbox "$exercise" "$submission")" >>"$out"
done

python3 - "$out" "$runs" "$(basename "$submission")" <<'EOF'
import json, statistics, sys
path, runs, sub = sys.argv[1], int(sys.argv[2]), sys.argv[3]
phases = [("total", "total"), ("stage", "stage"), ("sandbox start", "sandbox_start"),
          ("python+imports", "imports"), ("tests", "tests"), ("teardown", "teardown")]
data = {"bwrap": [], "plain": []}
for line in open(path):
    mode, js = line.split(" ", 1)
    r = json.loads(js)
    if r.get("verdict") != "ok":
        sys.exit(f"sandbox_cost: a run did not end ok: {r.get('verdict')} {r.get('error')}")
    data[mode].append(r["timing_ms"])
def med(mode, key):
    vals = [t[key] for t in data[mode] if t[key] is not None]
    return statistics.median(vals) if vals else float("nan")
def added(keys):
    """Median over the (bwrap, plain) pairs of the difference of the summed phases."""
    return statistics.median(sum(b[k] or 0 for k in keys) - sum(p[k] or 0 for k in keys)
                             for b, p in zip(data["bwrap"], data["plain"]))
print(f"sandbox cost, median of {runs} runs of {sub} (ms)")
print(f"{'phase':<16}{'bwrap':>9}{'no bwrap':>10}{'ratio':>8}")
for label, key in phases:
    b, p = med("bwrap", key), med("plain", key)
    ratio = f"{b / p:.2f}" if p else "-"
    print(f"{label:<16}{b:>9.0f}{p:>10.0f}{ratio:>8}")
profile = added(("sandbox_start", "teardown"))
b_start, p_start = med("bwrap", "sandbox_start"), med("plain", "sandbox_start")
print(f"the bwrap profile adds {profile:.0f} ms to one job (median of {runs} pairs: start "
      f"{added(('sandbox_start',)):.0f} + teardown {added(('teardown',)):.0f}); cold start "
      f"{b_start:.0f} vs {p_start:.0f} ms, x{b_start / p_start:.2f}; goal < 20 ms: "
      f"{'met' if profile < 20 else 'NOT met'}")
print(f"whole job: {added(('total',)):+.0f} ms (median of pairs; the imports' noise dominates)")
EOF
