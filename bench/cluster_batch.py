#!/usr/bin/env python3
"""Runs one deadline batch through a running local cluster and measures what each
cluster process spent on it (the driver behind batch_overhead.sh and broker_compare.sh).

    cluster_batch.py --state DIR --cli PATH --subs DIR --out FILE EXERCISE...

For each exercise, `gradeq batch PREFIX/EXERCISE SUBS/EXERCISE --wait --json` (all at
once, as a deadline would); the exercises must be published as bench/EXERCISE. Before
and after, the CPU time (utime + stime) of every process of the cluster is read from
/proc: the ones with a pid file in DIR/run (Redis, the dispatcher, the nodes, a Kafka
broker) by their own time, without the children they reaped (the sandboxed jobs are
measured per job by the runner); the nodes' zygotes apart (they fork the jobs' processes:
the price of warm starts, paid outside the jobs' cgroups); the CLI from its rusage.
Writes {wall_s, cpu_s: {process: seconds}, scores: {exercise/student: score},
failed: [exit codes]} to FILE.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

TICK = os.sysconf("SC_CLK_TCK")


def own_cpu(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            st = f.read()
    except OSError:
        return None
    fields = st[st.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def children(pid: int) -> list[int]:
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                st = f.read()
        except OSError:
            continue
        if int(st[st.rindex(")") + 2:].split()[1]) == pid:
            out.append(int(d))
    return out


def is_zygote(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return b"zygote.py" in f.read()
    except OSError:
        return False


def sample(run: str) -> dict[str, float]:
    """Seconds of CPU per cluster process, keyed by role (zygotes: "zygotes")."""
    d: dict[str, float] = {}
    for name in sorted(os.listdir(run)):
        if not name.endswith(".pid"):
            continue
        try:  # "PID STARTTIME" (scripts/pidfile.sh)
            with open(os.path.join(run, name)) as f:
                pid = int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            continue
        v = own_cpu(pid)
        if v is None:
            continue
        d[name[:-4]] = v
        if name.startswith("node"):
            for c in children(pid):
                if is_zygote(c):
                    z = own_cpu(c)
                    if z is not None:
                        d[f"zygote:{c}"] = z
    return d


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--state", required=True)
    ap.add_argument("--cli", required=True)
    ap.add_argument("--subs", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--prefix", default="bench")
    ap.add_argument("exercises", nargs="+")
    a = ap.parse_args()
    run = os.path.join(a.state, "run")
    before, t0 = sample(run), time.time()
    ps = [subprocess.Popen([a.cli, "batch", f"{a.prefix}/{ex}", os.path.join(a.subs, ex),
                            "--wait", "--json"], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, text=True) for ex in a.exercises]
    rows = []
    for ex, p in zip(a.exercises, ps):
        o, _ = p.communicate()
        try:
            rows += [dict(r, exercise=ex) for r in json.loads(o or "[]")]
        except ValueError:
            pass
    wall = time.time() - t0
    after = sample(run)
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    procs: dict[str, float] = {}
    for k, v in after.items():
        role = "zygotes" if k.startswith("zygote:") else k
        procs[role] = procs.get(role, 0.0) + v - before.get(k, 0.0)
    procs = {k: round(v, 3) for k, v in procs.items()}
    procs["cli"] = round(ru.ru_utime + ru.ru_stime, 3)
    with open(a.out, "w") as f:
        json.dump({"wall_s": wall, "cpu_s": procs,
                   "scores": {f"{r['exercise']}/{r['student']}": r.get("score") for r in rows},
                   "failed": [p.returncode for p in ps if p.returncode]}, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
