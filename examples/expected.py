#!/usr/bin/env python3
"""The score a submission should get, from running the hidden tests directly with pytest.

    expected.py EXERCISE_DIR SUBMISSION.py [--json] [--timeout S]
    expected.py --batch SUBS_DIR COURSE_DIR [--out expected.json] [--timeout S] [--jobs N] [--every]

No sandbox and no gradeq code: the submission is copied into a temporary directory as
submission.py with the exercise's tests/ and the contents of files/, and
`python -m pytest -q -p no:cacheprovider` runs there in a subprocess with a small plugin
(written next to it, loaded with -p through PYTHONPATH) that records each test's outcome
and its weight (@pytest.mark.points(x), unmarked = 1) and any collection error.

Scoring follows docs/exercises.md ("Scoring"): with max_points in exercise.toml,
score = max_points * earned / total, else score = earned; two decimals, half away from
zero. A collection error (syntax error, exception at import, missing function) scores 0
(verdict import_error). A test running longer than --timeout seconds (default 10) fails
and stops the run, like the cluster's wall-clock kill: tests finished before it keep their
credit, tests after it get none (verdict timeout).

--batch grades SUBS_DIR/<exercise>/<student>.py (as written by gen_submissions.py) for
every exercise of COURSE_DIR found there, --jobs at a time (default: CPU count),
identical sources once, and writes {exercise: {student: {score, max, verdict}}}.
This is the oracle the integration tests hold the cluster's scores against.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

VENV_PYTHON = "/opt/gradeq/venv/bin/python"
PLUGIN_NAME = "_gq_expected_plugin"
PLUGIN = r'''
"""Records collection and per-test outcomes for expected.py (JSON lines)."""
import json
import math
import os
import signal

import pytest

_OUT = os.environ["GQ_EXPECTED_OUT"]
_TIMEOUT = float(os.environ.get("GQ_EXPECTED_TIMEOUT", "10"))
_state = {"session": None, "timed_out": None, "phases": {}}


class TestTimeout(BaseException):
    """Raised by SIGALRM in a test; a BaseException so `except Exception` cannot eat it."""


def _emit(rec):
    with open(_OUT, "a") as f:
        f.write(json.dumps(rec) + "\n")


def _weight(marker):
    if marker is None:
        return 1.0
    v = marker.args[0] if marker.args else marker.kwargs.get("points", marker.kwargs.get("x"))
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return 1.0
    v = float(v)
    return v if math.isfinite(v) and 0 <= v <= 1e6 else 1.0


def pytest_configure(config):
    config.addinivalue_line("markers", "points(x): the test weighs x points")


def pytest_sessionstart(session):
    _state["session"] = session


def pytest_collectreport(report):
    if report.failed:
        _emit({"collect_error": str(report.longrepr)[-2000:]})


def pytest_collection_finish(session):
    _emit({"collected": [[it.nodeid, _weight(it.get_closest_marker("points"))]
                         for it in session.items]})


def _on_alarm(signum, frame):
    raise TestTimeout(f"test ran longer than {_TIMEOUT:g} s")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    old = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, _TIMEOUT)
    try:
        return (yield)
    except TestTimeout:
        _state["timed_out"] = item.nodeid
        raise
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def pytest_runtest_logreport(report):
    # passed unless a phase failed or was skipped (an xfail counts as passed)
    ok = not report.failed and (not report.skipped or hasattr(report, "wasxfail"))
    ph = _state["phases"]
    ph[report.nodeid] = ph.get(report.nodeid, True) and ok


def pytest_runtest_logfinish(nodeid, location):
    timeout = _state["timed_out"] == nodeid
    _emit({"test": nodeid, "passed": _state["phases"].pop(nodeid, False) and not timeout,
           "timeout": timeout})
    if timeout and _state["session"] is not None:
        _state["session"].shouldstop = "a test timed out"
'''


def round2(v: float) -> float:
    """common/score.c score_round2: two decimals, half away from zero, with the same
    few-ulp nudge so that 2.675 rounds to 2.68."""
    if not math.isfinite(v):
        return v
    r = v * 100.0
    r += math.copysign(abs(r) * 8 * sys.float_info.epsilon, r)
    r = math.copysign(math.floor(abs(r) + 0.5), r) / 100.0
    return r if r != 0 else 0.0


def exercise_meta(exdir: Path) -> dict:
    p = exdir / "exercise.toml"
    return tomllib.loads(p.read_text()) if p.is_file() else {}


def default_python() -> str:
    return VENV_PYTHON if os.access(VENV_PYTHON, os.X_OK) else sys.executable


def grade(exdir: Path, source: bytes, timeout: float = 10.0,
          python: str | None = None) -> dict:
    """Runs the hidden tests of exdir on source; returns
    {score, max, verdict, earned, total, tests: [{name, weight, passed}], error}."""
    meta = exercise_meta(exdir)
    max_points = float(meta.get("max_points", 0) or 0)
    tests_dir = exdir / "tests"
    with tempfile.TemporaryDirectory(prefix="gq-expected-") as tmp:
        work = Path(tmp)
        (work / "submission.py").write_bytes(source)
        shutil.copytree(tests_dir, work / "tests")
        files = exdir / "files"
        if files.is_dir():  # data files go next to the submission
            shutil.copytree(files, work, dirs_exist_ok=True)
        (work / f"{PLUGIN_NAME}.py").write_text(PLUGIN)
        out = work / "records.jsonl"
        env = dict(os.environ, PYTHONPATH=str(work), PYTHONDONTWRITEBYTECODE="1",
                   GQ_EXPECTED_OUT=str(out), GQ_EXPECTED_TIMEOUT=str(timeout))
        ntests = sum(p.read_text().count("\ndef test_") for p in tests_dir.rglob("*.py"))
        overall = timeout * (ntests + 1) + 60  # covers a hang at import time
        killed = False
        try:
            proc = subprocess.run(
                [python or default_python(), "-m", "pytest", "-q", "-p", "no:cacheprovider",
                 "-p", PLUGIN_NAME, "--rootdir", str(work / "tests"), str(work / "tests")],
                cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                timeout=overall)
            code, output = proc.returncode, proc.stdout.decode(errors="replace")
        except subprocess.TimeoutExpired as e:
            killed, code = True, None
            output = (e.stdout or b"").decode(errors="replace")
        records = [json.loads(line) for line in out.read_text().splitlines()] \
            if out.exists() else []
    return score_records(records, max_points, killed, code, output)


def score_records(records: list[dict], max_points: float, killed: bool = False,
                  code: int | None = 0, output: str = "") -> dict:
    collected: list = []
    results: dict[str, dict] = {}
    collect_error = None
    for r in records:
        if "collected" in r:
            collected += r["collected"]
        elif "collect_error" in r:
            collect_error = collect_error or r["collect_error"]
        elif "test" in r:
            results[r["test"]] = r
    total = sum(w for _, w in collected)
    tests = [{"name": n, "weight": w, "passed": bool(results.get(n, {}).get("passed"))}
             for n, w in collected]
    earned = sum(t["weight"] for t in tests if t["passed"])
    error = ""
    if collect_error is not None or (not collected and not killed and code not in (0, 5)):
        verdict, earned = "import_error", 0.0
        error = (collect_error or output)[-500:]
    elif killed or any(r.get("timeout") for r in results.values()):
        verdict = "timeout"
    elif code not in (0, 1, 5):
        verdict, error = "crashed", output[-500:]
    else:
        verdict = "ok"
    if max_points > 0:
        score = round2(max_points * earned / total) if total > 0 else 0.0
        mx = round2(max_points)
    else:
        score, mx = round2(earned), (round2(total) if collected else None)
    return {"score": score, "max": mx, "verdict": verdict, "earned": earned, "total": total,
            "tests": tests, "error": error}


def fmt(v: float | None) -> str:
    """score_format: no trailing zeros (7.5, 10, 6.67)."""
    if v is None:
        return "-"
    s = f"{round2(v):.2f}".rstrip("0").rstrip(".")
    return "0" if s == "-0" else s


def batch(subs: Path, course: Path, timeout: float, jobs: int,
          python: str | None, every: bool = False) -> dict[str, dict[str, dict]]:
    """Files with the same content are graded once, unless every (a baseline that must
    do all the work a grader does)."""
    work: dict[tuple[str, str], bytes] = {}  # (exercise, sha256 or file) -> source
    who: dict[tuple[str, str], list[str]] = {}
    exercises = sorted(d.name for d in course.iterdir() if (d / "tests").is_dir())
    for ex in exercises:
        for f in sorted((subs / ex).glob("*.py")) if (subs / ex).is_dir() else []:
            src = f.read_bytes()
            key = (ex, f.stem if every else hashlib.sha256(src).hexdigest())
            work[key] = src
            who.setdefault(key, []).append(f.stem)
    result: dict[str, dict[str, dict]] = {}
    # threads suffice: each grade() waits on its own pytest process
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        futs = {pool.submit(grade, course / ex, src, timeout, python): (ex, h)
                for (ex, h), src in work.items()}
        for fut in concurrent.futures.as_completed(futs):
            ex, h = futs[fut]
            g = fut.result()
            for student in who[(ex, h)]:
                result.setdefault(ex, {})[student] = {
                    "score": g["score"], "max": g["max"], "verdict": g["verdict"]}
    return {ex: dict(sorted(m.items())) for ex, m in sorted(result.items())}


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("first", metavar="EXERCISE_DIR|SUBS_DIR", type=Path)
    ap.add_argument("second", metavar="SUBMISSION.py|COURSE_DIR", type=Path)
    ap.add_argument("--batch", action="store_true")
    ap.add_argument("--out", type=Path, help="--batch: write the JSON here (default stdout)")
    ap.add_argument("--every", action="store_true",
                    help="--batch: grade every file, also ones with the same content "
                         "(default: each distinct content once)")
    ap.add_argument("--json", action="store_true", help="machine output (single submission)")
    ap.add_argument("--timeout", type=float, default=10.0, help="seconds per test (default 10)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--python", default=None,
                    help=f"interpreter with pytest (default {VENV_PYTHON} if present)")
    a = ap.parse_args(argv)
    if a.timeout <= 0 or a.jobs < 1:
        ap.error("--timeout and --jobs must be positive")
    if a.batch:
        res = batch(a.first, a.second, a.timeout, a.jobs, a.python, a.every)
        text = json.dumps(res, indent=1) + "\n"
        if a.out:
            a.out.write_text(text)
            n = sum(len(m) for m in res.values())
            print(f"expected scores of {n} submissions written to {a.out}", file=sys.stderr)
        else:
            sys.stdout.write(text)
        return 0
    g = grade(a.first, a.second.read_bytes(), a.timeout, a.python)
    if a.json:
        print(json.dumps(g))
        return 0
    print(f"verdict {g['verdict']}\nscore   {fmt(g['score'])} / {fmt(g['max'])}")
    for t in g["tests"]:
        print(f"  {'✓' if t['passed'] else '✗'} {t['name']} ({fmt(t['weight'])})")
    if g["error"]:
        print("error   " + g["error"].strip().splitlines()[-1])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
