#!/usr/bin/env bash
# The same deadline batch on both job queues, one after the other in one run, on the same
# machine: a local cluster with the jobs on a Redis stream (the default), then one with
# the jobs on a Kafka broker (same nodes x slots), each fed the same submissions with
# `gradeq batch --wait`. For each: wall time and throughput, and the CPU time of every
# cluster process during the batch (bench/cluster_batch.py: its own utime+stime from
# /proc/<pid>/stat, without the sandboxes it reaps), in total and per submission.
#   bench/broker_compare.sh [--students N] [--nodes N] [--slots S] [--exercises a,b]
# Needs a built tree with the Kafka parts (scripts/setup --kafka) and root. Exit 1 when
# the two runs give a student different scores.
set -euo pipefail
. "$(dirname "$0")/common.sh"
bench_args broker_compare 11 "$0" "$@"
work=$(mktemp -d /tmp/gq-bench-brokers.XXXXXX)
chmod 755 "$work" # sandbox uids must reach the workdirs below it
export GRADEQ_BIN_DIR=$bin
cleanup() {
  local b
  for b in redis kafka; do
    [ -d "$work/$b" ] && "$here/scripts/cluster" down --dir "$work/$b" >/dev/null 2>&1
  done
  rm -rf "$work"
}
trap cleanup EXIT

"$py" "$here/examples/gen_submissions.py" "$work/subs" --students "$students" --seed 3 \
  --no-hang --exercises "$exercises" >/dev/null
IFS=, read -ra exs <<<"$exercises"

for b in redis kafka; do
  state=$work/$b
  "$here/scripts/cluster" up --nodes "$nodes" --slots "$slots" --broker "$b" --dir "$state" \
    >/dev/null
  (
    eval "$("$here/scripts/cluster" env --dir "$state")"
    for ex in "${exs[@]}"; do
      "$bin/cli/gradeq" publish "bench/$ex" "$here/examples/course/$ex" >/dev/null
    done
    "$py" "$here/bench/cluster_batch.py" --state "$state" --cli "$bin/cli/gradeq" \
      --subs "$work/subs" --out "$work/$b.json" "${exs[@]}"
  )
  "$here/scripts/cluster" down --dir "$state" >/dev/null
done

"$py" - "$work" <<'PY'
import json, sys
work = sys.argv[1]
r = {b: json.load(open(f"{work}/{b}.json")) for b in ("redis", "kafka")}
n = len(r["redis"]["scores"])
roles = sorted(set(r["redis"]["cpu_s"]) | set(r["kafka"]["cpu_s"]),
               key=lambda k: (k.startswith("node"), k))
print(f"{n} submissions each, same machine, one run")
print(f"{'':22} {'redis streams':>14} {'kafka':>14}")
print(f"{'wall s':22} {r['redis']['wall_s']:>14.1f} {r['kafka']['wall_s']:>14.1f}")
print(f"{'submissions / s':22} {n / r['redis']['wall_s']:>14.2f} {n / r['kafka']['wall_s']:>14.2f}")
print("CPU of each cluster process during the batch: s total (ms per submission)")
tot = {"redis": 0.0, "kafka": 0.0}
for k in roles:
    cells = []
    for b in ("redis", "kafka"):
        v = r[b]["cpu_s"].get(k)
        if v is None:
            cells.append(f"{'-':>14}")
        else:
            if k != "cli":  # the client is not the cluster
                tot[b] += v
            cells.append(f"{v:>6.2f} ({1000 * v / n:>4.0f})")
    print(f"{'  ' + k:22} {cells[0]:>14} {cells[1]:>14}")
print(f"{'  cluster (all but cli)':22} {tot['redis']:>6.2f} ({1000 * tot['redis'] / n:>4.0f})"
      f" {tot['kafka']:>6.2f} ({1000 * tot['kafka'] / n:>4.0f})")
diff = [k for k in r["redis"]["scores"] if r["redis"]["scores"][k] != r["kafka"]["scores"].get(k)]
fails = r["redis"]["failed"] + r["kafka"]["failed"]
print(f"scores differing between the two runs: {len(diff)}; failed batches: {len(fails)}")
sys.exit(1 if diff or fails or len(r["kafka"]["scores"]) != n else 0)
PY
