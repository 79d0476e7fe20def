#!/usr/bin/env python3
"""`gradeq grade` against the oracle: generates submissions for every exercise of
examples/course (examples/gen_submissions.py), grades each exercise's folder with
`gradeq grade` (the node's runner and sandbox, no server), and checks that every
student's score and max equal what examples/expected.py (direct pytest, no gradeq code)
gives, that the CSV, JSON and feedback files are there and agree, and that the exit
status is 0. Needs root (as `gradeq grade` does): not being root is a failure here.

    check_grade.py GRADEQ_BINARY [--students N]
"""
import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
COURSE = REPO / "examples" / "course"
PY = "/opt/gradeq/venv/bin/python"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("gradeq")
    ap.add_argument("--students", type=int, default=6)
    a = ap.parse_args()
    if os.geteuid() != 0:
        print("FAIL: gradeq grade needs root and this test must run it")
        return 1
    work = Path(tempfile.mkdtemp(prefix="gradeq-grade-test-"))
    subs = work / "subs"
    subprocess.run([sys.executable, str(REPO / "examples" / "gen_submissions.py"), str(subs),
                    "--students", str(a.students), "--seed", "23", "--no-hang"], check=True,
                   capture_output=True)
    exp_file = work / "expected.json"
    subprocess.run([PY, str(REPO / "examples" / "expected.py"), "--batch", str(subs),
                    str(COURSE), "--out", str(exp_file)], check=True, capture_output=True)
    expected = json.loads(exp_file.read_text())
    fails = []
    for ex in sorted(expected):
        out = work / f"out-{ex}"
        p = subprocess.run([a.gradeq, "grade", str(COURSE / ex), str(subs / ex), "--jobs", "2",
                            "--out", str(out / "feedback"), "--csv", str(out / "scores.csv"),
                            "--json", str(out / "scores.json")],
                           capture_output=True, text=True, timeout=900)
        print(p.stdout)
        if p.returncode != 0:
            fails.append(f"{ex}: exit {p.returncode}: {p.stderr.strip()[-300:]}")
            continue
        got = {r["student"]: r for r in json.loads((out / "scores.json").read_text())}
        rows = {r["student"]: r for r in csv.DictReader(open(out / "scores.csv"))}
        for student, want in sorted(expected[ex].items()):
            g = got.get(student)
            if g is None or g["score"] is None:
                fails.append(f"{ex}/{student}: not graded ({g})")
                continue
            # the oracle gives max only when exercise.toml sets max_points
            if abs(g["score"] - want["score"]) > 1e-9 or (
                    want.get("max") is not None and abs(g["max"] - want["max"]) > 1e-9):
                fails.append(f"{ex}/{student}: {g['score']}/{g['max']} ({g['verdict']}), "
                             f"oracle {want['score']}/{want['max']} ({want['verdict']})")
            if float(rows[student]["score"]) != round(g["score"], 2):
                fails.append(f"{ex}/{student}: CSV {rows[student]} != JSON {g['score']}")
            fb = out / "feedback" / f"{student}.txt"
            if not fb.exists() or f"verdict: {g['verdict']}" not in fb.read_text():
                fails.append(f"{ex}/{student}: feedback file {fb} missing or wrong")
        if set(got) != set(expected[ex]):
            fails.append(f"{ex}: graded {sorted(got)}, expected {sorted(expected[ex])}")
        print(f"{ex}: {len(got)} students checked against the oracle")
    if fails:
        print("FAIL:\n  " + "\n  ".join(fails[:20]))
        print(f"work dir kept: {work}")
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
