#!/usr/bin/env python3
"""What grading one submission costs, warm against cold against the bwrap runner against
the naive `python -m pytest` per submission, on the same submissions in one run.

    sudo /opt/gradeq/venv/bin/python bench/runtime_cost.py [--students N] [--jobs J]
         [--modes warm,cold,bwrap,naive] [--out DIR]

Submissions: examples/gen_submissions.py (the example course, every kind but the hang),
graded per exercise by `gradeq grade --runner MODE --jobs J --json` (the node's runner
library: the same zygotes, sandboxes and scoring as a node) and, for the baseline, by a
loop that copies each submission beside the hidden tests and data files and runs
`python -m pytest` on it, J at a time, with no sandbox.

Per job, from the runner: CPU of the job's cgroup (everything it ran, sandbox set-up
included), of which the tests process and the student process (zygote runs), and the wall
time of its phases (sandbox start, imports = the student's notebook import and the tests
process's start, tests). The naive loop's CPU is getrusage(RUSAGE_CHILDREN) around each
pytest. The zygotes' own start-up (one warm import per slot) is reported apart: it is paid
once per node, not per job. Scores of every mode are compared with the naive loop's.
Goal (issue "Grading runtime"): warm <= 80 ms CPU per job on the example course.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PY = "/opt/gradeq/venv/bin/python"
GRADEQ = REPO / "build" / "cli" / "gradeq"


def naive_one(ex: Path, sub: Path) -> tuple[float, float, bool]:
    """CPU ms and wall ms of `python -m pytest` on one submission; whether all passed."""
    with tempfile.TemporaryDirectory() as d:
        shutil.copy(sub, Path(d) / "submission.py")
        shutil.copytree(ex / "tests", Path(d) / "tests")
        if (ex / "files").is_dir():
            shutil.copytree(ex / "files", d, dirs_exist_ok=True)
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.monotonic()
        p = subprocess.run([PY, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
                           cwd=d, capture_output=True, timeout=120,
                           env={"PATH": "/usr/bin:/bin", "HOME": d,
                                "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
                                "OPENBLAS_NUM_THREADS": "1"})
        wall = (time.monotonic() - t0) * 1000
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = ((r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)) * 1000
    return cpu, wall, p.returncode == 0


def run_naive(course: Path, subs: Path, exercises: list[str], jobs: int) -> dict:
    items = [(course / e, f) for e in exercises for f in sorted((subs / e).glob("*.py"))]
    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        res = list(pool.map(lambda a: naive_one(*a), items))
    return {"wall_s": time.monotonic() - t0, "n": len(items),
            "cpu_ms": [r[0] for r in res], "job_wall_ms": [r[1] for r in res]}


def run_mode(mode: str, course: Path, subs: Path, exercises: list[str], jobs: int,
             out: Path) -> dict:
    cpu, tcpu, scpu, start, imports, tests, scores = [], [], [], [], [], [], {}
    wall = 0.0
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    for e in exercises:
        j = out / f"{mode}-{e}.json"
        t0 = time.monotonic()
        p = subprocess.run([str(GRADEQ), "grade", "--runner", mode, "--jobs", str(jobs),
                            "--out", str(out / f"fb-{mode}-{e}"), "--json", str(j),
                            str(course / e), str(subs / e)], capture_output=True, text=True)
        wall += time.monotonic() - t0
        if p.returncode != 0:
            sys.exit(f"gradeq grade --runner {mode} {e}: {p.stderr.strip()}")
        for r in json.loads(j.read_text()):
            c = r.get("cost") or {}
            scores[(e, r["student"])] = r["score"]
            for lst, k in ((cpu, "cpu_ms"), (tcpu, "cpu_tests_ms"), (scpu, "cpu_student_ms"),
                           (start, "start_ms"), (imports, "imports_ms"), (tests, "tests_ms")):
                if isinstance(c.get(k), int) and c[k] >= 0:
                    lst.append(c[k])
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = ((r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)) * 1000
    return {"wall_s": wall, "cpu_ms": cpu, "cpu_tests_ms": tcpu, "cpu_student_ms": scpu,
            "start_ms": start, "imports_ms": imports, "tests_ms": tests, "scores": scores,
            "all_cpu_ms": total}


def med(xs: list) -> str:
    return f"{statistics.median(xs):.0f}" if xs else "-"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--students", type=int, default=12)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--modes", default="warm,cold,bwrap,naive")
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("runtime_cost: needs root (the runner's sandboxes), as a node does")
    out = Path(a.out or tempfile.mkdtemp(prefix="gradeq-bench-"))
    out.mkdir(parents=True, exist_ok=True)
    subs = out / "subs"
    course = REPO / "examples" / "course"
    exercises = ["primes", "stats", "strings"]
    subprocess.run([sys.executable, str(REPO / "examples" / "gen_submissions.py"), str(subs),
                    "--students", str(a.students), "--no-hang"], check=True,
                   capture_output=True)
    results = {}
    for m in a.modes.split(","):
        print(f"[bench] {m} ...", file=sys.stderr)
        results[m] = run_naive(course, subs, exercises, a.jobs) if m == "naive" else \
            run_mode(m, course, subs, exercises, a.jobs, out)
    n = a.students * len(exercises)
    print(f"\n{n} submissions ({a.students} students x {len(exercises)} exercises), "
          f"{a.jobs} at a time, one run; medians per job in ms")
    print(f"{'mode':<7} {'cpu':>6} {'tests':>6} {'student':>8} {'setup':>6} | "
          f"{'start':>6} {'imports':>8} {'tests':>6} | {'batch s':>8} {'vs naive':>9}")
    naive = results.get("naive")
    for m, r in results.items():
        if m == "naive":
            print(f"{m:<7} {med(r['cpu_ms']):>6} {'':>6} {'':>8} {'':>6} | "
                  f"{'':>6} {'':>8} {med(r['job_wall_ms']):>6} | {r['wall_s']:>8.1f} {'1.00':>9}")
            continue
        setup = [c - t - s for c, t, s in zip(r["cpu_ms"], r["cpu_tests_ms"],
                                               r["cpu_student_ms"])]
        ratio = f"{naive['wall_s'] / r['wall_s']:.2f}x" if naive else "-"
        print(f"{m:<7} {med(r['cpu_ms']):>6} {med(r['cpu_tests_ms']):>6} "
              f"{med(r['cpu_student_ms']):>8} {med(setup):>6} | {med(r['start_ms']):>6} "
              f"{med(r['imports_ms']):>8} {med(r['tests_ms']):>6} | {r['wall_s']:>8.1f} "
              f"{ratio:>9}")
        print(f"        all CPU of the runs incl. zygote start-up: "
              f"{r['all_cpu_ms'] / n:.0f} ms per job")
    modes = [m for m in results if m != "naive"]
    if len(modes) > 1:
        base = results[modes[0]]["scores"]
        for m in modes[1:]:
            diff = [k for k, v in results[m]["scores"].items() if base.get(k) != v]
            print(f"scores {modes[0]} vs {m}: {len(diff)} differ {diff[:5]}")
    w = results.get("warm")
    if w and w["cpu_ms"]:
        v = statistics.median(w["cpu_ms"])
        print(f"warm CPU per job {v:.0f} ms (goal <= 80 ms): {'met' if v <= 80 else 'NOT met'}")
    (out / "runtime_cost.json").write_text(json.dumps(
        {m: {k: v for k, v in r.items() if k != "scores"} for m, r in results.items()}))
    print(f"details: {out}/runtime_cost.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
