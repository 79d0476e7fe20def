#!/usr/bin/env bash
# The same deadline batch on both job queues, one after the other in one run, on the same
# machine: a local cluster with the jobs on a Redis stream (the default), then one with
# the jobs on a Kafka broker (same nodes x slots), each fed the same submissions with
# `gradeq batch --wait`. For each: wall time and throughput, and the CPU time of every
# cluster process during the batch (its own utime+stime from /proc/<pid>/stat, without
# the sandboxes it reaps), in total and per submission; the CLI's from its rusage.
#   bench/broker_compare.sh [--students N] [--nodes N] [--slots S] [--exercises a,b]
# Needs a built tree with the Kafka parts (scripts/setup --kafka) and root. Exit 1 when
# the two runs give a student different scores.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
students=40 nodes=2 slots=2 exercises=primes,strings
while [ $# -gt 0 ]; do
  case "$1" in
    --students) students=$2; shift 2 ;;
    --nodes) nodes=$2; shift 2 ;;
    --slots) slots=$2; shift 2 ;;
    --exercises) exercises=$2; shift 2 ;;
    -h|--help) sed -n 2,11p "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "broker_compare: unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
done
py=${GRADEQ_PREFIX:-/opt/gradeq}/venv/bin/python
bin=${GRADEQ_BIN_DIR:-$here/build}
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
    # one driver samples /proc before and after, and runs the batches (CLI rusage)
    "$py" - "$state" "$work/$b.json" "$bin/cli/gradeq" "$work/subs" "${exs[@]}" <<'PY'
import json, os, resource, subprocess, sys, time
state, out, cli, subs, exs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
tick = os.sysconf("SC_CLK_TCK")
run = os.path.join(state, "run")

def cpu():
    d = {}
    for f in os.listdir(run):
        if not f.endswith(".pid"):
            continue
        pid = open(os.path.join(run, f)).read().strip()
        try:
            st = open(f"/proc/{pid}/stat").read()
        except OSError:
            continue
        fields = st[st.rindex(")") + 2:].split()
        d[f[:-4]] = (int(fields[11]) + int(fields[12])) / tick  # utime + stime, own
    return d

before, t0 = cpu(), time.time()
ps = [subprocess.Popen([cli, "batch", f"bench/{ex}", os.path.join(subs, ex), "--wait",
                        "--json"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
      for ex in exs]
rows = []
for ex, p in zip(exs, ps):
    o, _ = p.communicate()
    rows += [dict(r, exercise=ex) for r in json.loads(o or "[]")]
wall = time.time() - t0
after = cpu()
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
procs = {k: round(after[k] - before.get(k, 0), 2) for k in after}
procs["cli"] = round(ru.ru_utime + ru.ru_stime, 2)
json.dump({"wall_s": wall, "cpu_s": procs,
           "scores": {f"{r['exercise']}/{r['student']}": r.get("score") for r in rows},
           "failed": [p.returncode for p in ps if p.returncode]}, open(out, "w"))
PY
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
            tot[b] += v
            cells.append(f"{v:>6.2f} ({1000 * v / n:>4.0f})")
    print(f"{'  ' + k:22} {cells[0]:>14} {cells[1]:>14}")
print(f"{'  all cluster processes':22} {tot['redis']:>6.2f} ({1000 * tot['redis'] / n:>4.0f})"
      f" {tot['kafka']:>6.2f} ({1000 * tot['kafka'] / n:>4.0f})")
diff = [k for k in r["redis"]["scores"] if r["redis"]["scores"][k] != r["kafka"]["scores"].get(k)]
fails = r["redis"]["failed"] + r["kafka"]["failed"]
print(f"scores differing between the two runs: {len(diff)}; failed batches: {len(fails)}")
sys.exit(1 if diff or fails or len(r["kafka"]["scores"]) != n else 0)
PY
