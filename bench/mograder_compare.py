#!/usr/bin/env python3
"""The same mograder assignment and submissions graded by gradeq and by mograder itself.

    sudo python3 bench/mograder_compare.py [--copies N] [--jobs J] [--dir DIR]

examples/course-mograder (its source notebook, data file and the generated submissions:
correct, partial, wrong, tampered, forged, hangs, a syntax error, an empty file) is
graded, in one run on this machine:

  * by `gradeq grade` (the node's warm runner and sandbox, no server), and
  * by `mograder autograde` (mograder 0.3.16 from PyPI, in a venv of its own created
    with uv by this script; uv itself comes from PyPI into DIR/uvboot when not on PATH).

Each submission is copied N times (default 3) under distinct names. For each tool: the
wall time of the batch and the CPU time of the whole process tree (user + system, from
wait4), per submission; mograder's shared notebook venv is created by a warm-up run
first and not counted. Both get the same parallelism (--jobs, default 2) and the same
per-notebook limit (mograder --timeout = the exercise's timeout_s). The hang cases
burn CPU until a limit in both tools, for as long as the load of the moment lets them:
each tool grades them as a batch of their own after the others, and the figures are
given with and without them.
mograder leaves the marimo kernel of a notebook it timed out to init, whose CPU wait4
never counts: its CPU is also read from a cgroup it starts in (cpuacct on cgroup v1,
cpu.stat on v2), which counts every process it started.

Needs root (gradeq grade does, as a node), network to PyPI on the first run, and a
build (GRADEQ_BUILD, default build/).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EX = REPO / "examples" / "course-mograder"
SRC_DIR = EX / "stats"
MOGRADER = "mograder==0.3.16"
HANGS = ("hang_cell", "hang_call", "hang_late_cell", "forge_fd_then_hang")


def sh(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, **kw)


def measured(cmd: list[str], cwd: Path, env: dict) -> tuple[float, float, int]:
    """(wall s, CPU s of the process tree, exit status)."""
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    return time.monotonic() - t0, ru.ru_utime + ru.ru_stime, p.returncode


class CpuCgroup:
    """A cgroup (v1 cpuacct, else v2) that a command starts in: its CPU counts every
    process the command started, also those it left to init (mograder's timed-out marimo
    kernels, which wait4 never sees). Not for gradeq: its runner moves each job into a
    cgroup of its own elsewhere (wait4 counts gradeq's whole tree: it reaps every
    process it starts)."""

    def __init__(self, name: str) -> None:
        self.dir = None
        for base, usage in ((Path("/sys/fs/cgroup/cpuacct"), "cpuacct.usage"),
                            (Path("/sys/fs/cgroup"), "cpu.stat")):
            if (base / usage).exists() or (base / "cgroup.controllers").exists():
                d = base / name
                try:
                    d.mkdir(exist_ok=True)
                except OSError:
                    continue
                self.dir, self.usage = d, usage
                break

    def join(self) -> None:  # in the child, before exec
        if self.dir is not None:
            (self.dir / "cgroup.procs").write_text(str(os.getpid()))

    def seconds(self) -> float | None:
        """CPU of everything that ran in it, once it is empty (waits up to 60 s for
        stragglers, then kills them)."""
        if self.dir is None:
            return None
        end = time.monotonic() + 60
        while (self.dir / "cgroup.procs").read_text().split() and time.monotonic() < end:
            time.sleep(0.5)
        for pid in (self.dir / "cgroup.procs").read_text().split():
            try:
                os.kill(int(pid), 9)
            except OSError:
                pass
        time.sleep(0.5)
        text = (self.dir / self.usage).read_text()
        if self.usage == "cpuacct.usage":
            v = int(text) / 1e9
        else:
            v = int(dict(x.split() for x in text.splitlines())["usage_usec"]) / 1e6
        try:
            self.dir.rmdir()
        except OSError:
            pass
        return v


def measured_cg(cmd: list[str], cwd: Path, env: dict, name: str
                ) -> tuple[float, float, int, float | None]:
    """measured() plus the CPU of the command's cgroup (CpuCgroup), None without one."""
    cg = CpuCgroup(name)
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, preexec_fn=cg.join)
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - t0
    return wall, ru.ru_utime + ru.ru_stime, p.returncode, cg.seconds()


def ensure_mograder(d: Path) -> tuple[Path, dict]:
    env = dict(os.environ)
    uv = shutil.which("uv")
    if uv is None:
        boot = d / "uvboot"
        if not (boot / "bin" / "uv").exists():
            sh([sys.executable, "-m", "venv", str(boot)])
            sh([str(boot / "bin" / "pip"), "install", "-q", "uv"])
        env["PATH"] = f"{boot / 'bin'}:{env['PATH']}"
        uv = str(boot / "bin" / "uv")
    venv = d / "mog-venv"
    exe = venv / "bin" / "mograder"
    ok = exe.exists() and subprocess.run([str(exe), "--version"], capture_output=True,
                                         text=True).stdout.strip().endswith("0.3.16")
    if not ok:
        sh([uv, "venv", "-q", "--python", "/usr/bin/python3", str(venv)], env=env)
        sh([uv, "pip", "install", "-q", "--python", str(venv / "bin" / "python"), MOGRADER],
           env=env)
    return exe, env


def timeout_s() -> int:
    for line in (SRC_DIR / "exercise.toml").read_text().splitlines():
        if line.startswith("timeout_s"):
            return int(line.split("=")[1])
    return 60


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--copies", type=int, default=3)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--dir", default=os.environ.get("GRADEQ_BENCH_DIR",
                                                    "/tmp/gq-bench-mograder"))
    a = ap.parse_args()
    d = Path(a.dir)
    d.mkdir(parents=True, exist_ok=True)
    build = Path(os.environ.get("GRADEQ_BUILD", REPO / "build"))
    exe, env = ensure_mograder(d)

    gen = d / "gen"
    shutil.rmtree(gen, ignore_errors=True)
    sh([sys.executable, str(EX / "gen_submissions.py"), str(gen)])
    names = sorted(p.stem for p in (gen / "submissions").glob("*.py"))
    subs = d / "subs"
    mog = d / "mog"
    shutil.rmtree(subs, ignore_errors=True)
    shutil.rmtree(mog / "submitted", ignore_errors=True)
    shutil.rmtree(mog / "autograded", ignore_errors=True)
    (mog / "source" / "stats").mkdir(parents=True, exist_ok=True)
    (mog / "submitted" / "stats").mkdir(parents=True)
    subs.mkdir()
    for f in ("stats.py", "data.txt"):
        shutil.copy(SRC_DIR / f, mog / "source" / "stats" / f)
    shutil.copy(SRC_DIR / "data.txt", mog / "submitted" / "stats" / "data.txt")
    every = []
    for i in range(a.copies):
        for n in names:
            s = f"{n}_{i}"
            every.append(s)
            for dst in (subs / f"{s}.py", mog / "submitted" / "stats" / f"{s}.py"):
                shutil.copy(gen / "submissions" / f"{n}.py", dst)
    limit = timeout_s()

    # mograder: a warm-up run creates its shared notebook venv (not counted)
    warm = mog / "warmup"
    warm.mkdir(exist_ok=True)
    shutil.copy(gen / "submissions" / "correct.py", warm / "correct.py")
    shutil.copy(SRC_DIR / "data.txt", warm / "data.txt")
    subprocess.run([str(exe), "autograde", "--source", "source/stats/stats.py", "-j", "1",
                    "--timeout", str(limit), "--force", "-o", "autograded/warmup",
                    "warmup/correct.py"], cwd=mog, env=env, capture_output=True)

    # two batches per tool, the hang cases apart: a hang burns CPU for as long as its
    # limit lets it, which depends on the load of the moment, so the figures without
    # them are measured, not subtracted
    batches = {"rest": [s for s in every if s.rsplit("_", 1)[0] not in HANGS],
               "hangs": [s for s in every if s.rsplit("_", 1)[0] in HANGS]}
    print(f"{len(every)} submissions ({len(names)} cases x {a.copies}; "
          f"{len(batches['hangs'])} of them hang cases), --jobs {a.jobs}, "
          f"per-notebook limit {limit} s")
    res: dict = {}
    gq_recs: list = []
    mog_scores: dict = {}
    for b, which in batches.items():
        bdir = d / f"subs-{b}"
        shutil.rmtree(bdir, ignore_errors=True)
        bdir.mkdir()
        for s in which:
            shutil.copy(subs / f"{s}.py", bdir / f"{s}.py")
        gq_json = d / f"gradeq-{b}.json"
        gq_cmd = [str(build / "cli" / "gradeq"), "grade", "--jobs", str(a.jobs),
                  "--runtime", str(REPO / "grader-node" / "runtime"), "--json", str(gq_json),
                  "--out", str(d / "feedback"), str(SRC_DIR), str(bdir)]
        mog_csv = mog / f"out-{b}.csv"
        mog_cmd = [str(exe), "autograde", "--source", "source/stats/stats.py", "-j",
                   str(a.jobs), "--timeout", str(limit), "--force", "--csv", str(mog_csv),
                   "-o", f"autograded/{b}", *[f"submitted/stats/{s}.py" for s in which]]
        gw, gc, grc = measured(gq_cmd, REPO, env)
        mw, mc, mrc, mcg = measured_cg(mog_cmd, mog, env, f"gq-bench-mog-{b}-{os.getpid()}")
        res[b] = {"gq": (gw, gc, grc), "mog": (mw, mc, mrc, mcg)}
        if gq_json.exists():
            gq_recs += json.loads(gq_json.read_text())
        if mog_csv.exists():
            with open(mog_csv, newline="") as f:
                for row in csv.DictReader(f):
                    mog_scores[row["notebook"]] = row.get("auto_mark")

    n, nr = len(every), len(batches["rest"])
    gq_scores = {r["student"]: r.get("score") for r in gq_recs}
    job_cpu = sorted(r["cost"]["cpu_ms"] for r in gq_recs
                     if isinstance(r.get("cost"), dict) and "cpu_ms" in r["cost"])
    R, H = res["rest"], res["hangs"]
    gq_wall, gq_cpu = R["gq"][0] + H["gq"][0], R["gq"][1] + H["gq"][1]
    mog_wall, mog_cpu = R["mog"][0] + H["mog"][0], R["mog"][1] + H["mog"][1]
    print(f"\n{'':<10} {'wall s':>8} {'CPU s':>8} {'CPU/sub ms':>11}   "
          f"{'w/o hangs: CPU/sub ms':>22}  exit")
    for tool, wall, cpu, rest_cpu, rc in (
            ("gradeq", gq_wall, gq_cpu, R["gq"][1], R["gq"][2] or H["gq"][2]),
            ("mograder", mog_wall, mog_cpu, R["mog"][1], R["mog"][2] or H["mog"][2])):
        print(f"{tool:<10} {wall:>8.1f} {cpu:>8.2f} {1000 * cpu / n:>11.0f}   "
              f"{1000 * rest_cpu / nr:>22.0f}  {rc}")
    print(f"\nCPU ratio mograder/gradeq: {mog_cpu / gq_cpu:.1f}x "
          f"(without the hang cases: {R['mog'][1] / R['gq'][1]:.1f}x); "
          f"wall ratio {mog_wall / gq_wall:.1f}x")
    if R["mog"][3] is not None and H["mog"][3] is not None:
        mog_cg = R["mog"][3] + H["mog"][3]
        print(f"mograder's CPU counted in a cgroup (also the marimo kernels it leaves to "
              f"init): {mog_cg:.2f} s, {1000 * mog_cg / n:.0f} ms per submission, "
              f"{1000 * R['mog'][3] / nr:.0f} without the hang cases; ratio "
              f"{mog_cg / gq_cpu:.1f}x (without the hang cases: "
              f"{R['mog'][3] / R['gq'][1]:.1f}x)")
    if job_cpu:
        print(f"gradeq's own per-job accounting (both sandboxed processes and their set-up, "
              f"no zygote start): median {job_cpu[len(job_cpu) // 2]} ms CPU, "
              f"max {job_cpu[-1]} ms")
    print("\nscores of the first copy (gradeq out of 10 auto marks; mograder's auto_mark):")
    for nme in names:
        s = f"{nme}_0"
        print(f"  {nme:<22} gradeq {gq_scores.get(s)!s:>6}   mograder {mog_scores.get(s)!s:>6}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
