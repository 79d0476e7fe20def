"""Records every gradeq job cgroup that appears in the unified hierarchy while the tiers
run, and checks the record afterwards (used by tests/cgv2/guest).

    watch.py OUT.json           poll /sys/fs/cgroup until SIGTERM, then write OUT.json
    watch.py --check OUT.json   exit 1 unless the record shows v2 job cgroups with a
                                memory and a pids limit, one OOM kill and one fork stopped
                                by pids.max

A job cgroup is a directory below a parent named gradeq or gradeq-<node> (not the
node's own "<parent>.node" leaf). For each, the limits read while it existed and the
highest oom_kill (memory.events) and max (pids.events) counts seen; for a look at a
failed run also memory.events' counters, the highest memory.current and when the
cgroup was seen (seconds since the watch started).
"""
from __future__ import annotations

import json
import os
import signal
import sys
import time

ROOT = "/sys/fs/cgroup"


def read(path: str) -> str | None:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def keyed(text: str | None, key: str) -> int:
    for line in (text or "").splitlines():
        k, _, v = line.partition(" ")
        if k == key:
            return int(v)
    return 0


def parents() -> list[str]:
    """The job cgroups' parents: gradeq (local grading) and gradeq-<node> directories."""
    found = []
    for top, dirs, _ in os.walk(ROOT):
        for d in dirs:
            if d == "gradeq" or (d.startswith("gradeq-") and not d.endswith(".node")):
                found.append(os.path.join(top, d))
    return found


def watch(out: str) -> None:
    seen: dict[str, dict] = {}
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    tops: list[str] = []
    next_walk = 0.0
    t0 = time.monotonic()
    while not stop:
        # the tree walk is slow on a slow kernel: parents once a second, their jobs often
        if time.monotonic() >= next_walk:
            tops = parents()
            next_walk = time.monotonic() + 1.0
        for parent in tops:
            try:
                jobs = [os.path.join(parent, j) for j in os.listdir(parent)]
            except OSError:
                continue
            for d in jobs:
                if not os.path.isdir(d):
                    continue
                now = round(time.monotonic() - t0, 2)
                rec = seen.setdefault(d, {"memory.max": None, "pids.max": None,
                                          "oom_kill": 0, "pids_max_events": 0,
                                          "first_s": now, "events": {}, "peak": 0})
                rec["last_s"] = now
                for f in ("memory.max", "pids.max"):
                    v = read(os.path.join(d, f))
                    if v is not None and (rec[f] is None or rec[f] == "max"):
                        rec[f] = v.strip()  # "max": maybe read before the limit was set
                ev = read(os.path.join(d, "memory.events"))
                rec["oom_kill"] = max(rec["oom_kill"], keyed(ev, "oom_kill"))
                for k in ("max", "oom", "oom_kill", "oom_group_kill"):
                    rec["events"][k] = max(rec["events"].get(k, 0), keyed(ev, k))
                # the highest memory.current seen (6.1 has no memory.peak) and, sampled
                # every 8 MiB of it, what of it was anonymous memory
                cur = read(os.path.join(d, "memory.current"))
                if cur and cur.strip().isdigit() and int(cur) > rec["peak"]:
                    if int(cur) >= rec.get("anon_at", 0) + (8 << 20):  # costs more
                        rec["peak_anon"] = keyed(read(os.path.join(d, "memory.stat")),
                                                 "anon")
                        rec["anon_at"] = int(cur)
                    rec["peak"] = int(cur)
                    rec["peak_s"] = now
                rec["pids_max_events"] = max(rec["pids_max_events"], keyed(
                    read(os.path.join(d, "pids.events")), "max"))
        time.sleep(0.02)
    with open(out, "w") as f:
        json.dump(seen, f, indent=1)


def check(path: str) -> int:
    with open(path) as f:
        seen = json.load(f)
    limited = [d for d, r in seen.items()
               if (r["memory.max"] or "").isdigit() and (r["pids.max"] or "").isdigit()]
    ooms = [d for d, r in seen.items() if r["oom_kill"] > 0]
    forks = [d for d, r in seen.items() if r["pids_max_events"] > 0]
    nodes = [d for d in limited if "/gradeq-" in d]
    local = [d for d in limited if "/gradeq/" in d]
    print(f"job cgroups seen: {len(seen)} ({len(limited)} with memory.max and pids.max: "
          f"{len(local)} of gradeq-grade-local, {len(nodes)} of cluster nodes); "
          f"OOM-killed in one: {len(ooms)}; fork refused by pids.max: {len(forks)}")
    for what, lst in (("limited", limited[:2]), ("oom", ooms[:2]), ("pids", forks[:2])):
        for d in lst:
            print(f"  {what}: {d} {seen[d]}")
    ok = True
    for what, lst in (("job cgroups with memory.max and pids.max from the sandbox tier",
                       local),
                      ("job cgroups with memory.max and pids.max from cluster nodes", nodes),
                      ("a job OOM-killed inside its cgroup (memory.events oom_kill)", ooms),
                      ("a fork refused by a job's pids.max (pids.events max)", forks)):
        if not lst:
            print(f"FAIL: no {what}")
            ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        sys.exit(check(sys.argv[2]))
    if len(sys.argv) == 2:
        watch(sys.argv[1])
        sys.exit(0)
    print(__doc__, file=sys.stderr)
    sys.exit(2)
