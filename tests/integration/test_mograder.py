"""A mograder assignment graded through the real cluster against an independent oracle.

examples/course-mograder/stats (a mograder source notebook, its data file and an
exercise.toml) is published as it is; gen_submissions.py writes the submissions
(correct, partial, wrong, tampered check and marks cells, a deleted check cell, forged
results by every route we know, a hang in one cell, a hang in one call, a syntax error in
one cell, an empty file) and each one's honest twin; oracle.py grades the twins without
gradeq (marimo's parser, its own runner and check()). Then:

  * every submission scores exactly the oracle's marks for its honest twin: forgeries
    score what their honest answers earn, a hang costs only its question;
  * every record is done with a real verdict and the published maximum (10, the auto
    marks), lists the manual question Q4 as marked by hand, and shows no hidden check's
    source (the hidden checks' messages and inputs);
  * edited or deleted check cells are reported as restored;
  * the gradebook holds the scores like a pytest exercise's.

Run alone against a running cluster:
    GRADEQ_STATE=/tmp/mog-cluster /opt/gradeq/venv/bin/python -m pytest -q -s \
        -p no:cacheprovider tests/integration/test_mograder.py
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from conftest import REPO

EX = REPO / "examples" / "course-mograder"
SOURCE_DIR = EX / "stats"
COURSE = "itmograder"
EXERCISE = "stats"
WAIT_S = 900
PY = str(Path(os.environ.get("GRADEQ_VENV", "/opt/gradeq/venv")) / "bin" / "python")
# in the hidden checks only: no feedback may carry them
HIDDEN_NEEDLES = ("mean_of([1, 2])", "fib(20)", "6765", "fib(0)")
VERDICTS = {"ok", "timeout", "memory", "output_limit", "crashed", "import_error"}


@pytest.fixture(scope="module")
def graded(api):
    tmp = Path(tempfile.mkdtemp(prefix="gq-mog-"))
    subprocess.run([sys.executable, str(EX / "gen_submissions.py"), str(tmp)], check=True)
    cases = json.loads((tmp / "cases.json").read_text())
    out = api.cli("publish", "--json", f"{COURSE}/{EXERCISE}", str(SOURCE_DIR))
    assert json.loads(out.stdout).get("tests_hash"), out.stdout
    token = api.env["GRADEQ_TOKEN"]
    t0 = time.monotonic()
    sids = {}
    for name in cases:
        body = (tmp / "submissions" / f"{name}.py").read_bytes()
        code, doc, _ = api.http(
            "POST", f"/v1/courses/{COURSE}/exercises/{EXERCISE}/submissions?student={name}",
            token=token, body=body)
        assert code == 202, (name, code, doc)
        sids[name] = doc["id"]
    code, doc, _ = api.http(
        "POST", f"/v1/courses/{COURSE}/exercises/{EXERCISE}/submissions?student=zero",
        token=token, body=b"")
    assert code == 400, (code, doc)  # a 0-byte file never reaches a node
    # the oracle runs while the cluster grades
    oracle = json.loads(subprocess.run(
        [PY, str(EX / "oracle.py"), str(SOURCE_DIR / "stats.py"), str(tmp / "honest")],
        check=True, capture_output=True, text=True).stdout)
    recs: dict[str, dict] = {}
    end = time.monotonic() + WAIT_S
    while len(recs) < len(sids) and time.monotonic() < end:
        for name, sid in sids.items():
            if name not in recs:
                rec = json.loads(api.cli("result", sid, "--json").stdout)
                if rec["status"] in ("done", "error"):
                    recs[name] = rec
        time.sleep(0.5)
    assert len(recs) == len(sids), f"not graded within {WAIT_S} s: {set(sids) - set(recs)}"
    print(f"\nmograder: {len(recs)} submissions graded in {time.monotonic() - t0:.1f} s")
    for name in cases:
        r = recs[name]
        print(f"  {name:<22} gradeq {r.get('verdict')} {r.get('score')}/{r.get('max')}  "
              f"oracle {oracle[name]}")
    return cases, recs, oracle


def test_oracle_is_sane(graded):
    _, _, oracle = graded
    assert oracle["correct"] == 10
    assert oracle["empty"] == 0
    assert 0 < oracle["partial"] < oracle["correct"]
    assert oracle["wrong"] < oracle["partial"]


def test_every_submission_scores_the_oracles_marks(graded):
    cases, recs, oracle = graded
    bad = {}
    for name in cases:
        r = recs[name]
        if r["status"] != "done" or r.get("verdict") not in VERDICTS:
            bad[name] = (r["status"], r.get("verdict"), r.get("message"))
        elif abs(float(r["score"]) - oracle[name]) > 0.005:
            bad[name] = (r["score"], oracle[name], r.get("verdict"),
                         [(t["name"], t.get("message")) for t in r.get("tests", [])
                          if not t["passed"]])
    assert not bad, json.dumps(bad, indent=1)


def test_the_maximum_is_the_auto_marks(graded):
    cases, recs, _ = graded
    for name in cases:
        if recs[name].get("verdict") != "import_error":
            assert float(recs[name]["max"]) == 10, (name, recs[name].get("max"))


def test_a_hang_costs_only_its_question(graded):
    _, recs, _ = graded
    for name, q in (("hang_cell", "Q2"), ("hang_call", "Q3")):
        tests = {t["name"]: t for t in recs[name]["tests"]}
        for key in ("Q1", "Q2", "Q3"):
            s = tests[f"{key}: question"]
            assert s["passed"] == (key != q), (name, key, s)


def test_feedback_per_question_and_no_hidden_source(graded):
    cases, recs, _ = graded
    for name in cases:
        r = recs[name]
        text = json.dumps(r)
        for needle in HIDDEN_NEEDLES:
            assert needle not in text, (name, needle)
        if r.get("verdict") == "import_error":
            continue
        names = {t["name"] for t in r["tests"]}
        assert {"Q1: question", "Q2: question", "Q3: question", "Q4: marked by hand"} <= names
    partial = {t["name"]: t for t in recs["partial"]["tests"]}
    assert "partial" in partial["Q2: question"]["message"]
    assert "scaled should have 10 values" in partial["Q2: question"]["message"]


def test_restored_check_cells_are_reported(graded):
    _, recs, _ = graded
    def restored(name):
        return {t["name"]: t for t in recs[name]["tests"]}[
            "check cells restored from the source"]
    assert restored("correct")["passed"]
    assert not restored("deleted_check")["passed"]
    assert "Q3" in restored("deleted_check")["message"]
    msg = restored("tampered_check")["message"]
    assert "Q1" in msg and "Q3" in msg


def test_gradebook_holds_the_scores(graded, api):
    _, recs, _ = graded
    out = api.cli("gradebook", COURSE, "--csv").stdout.splitlines()
    rows = {line.split(",")[0]: line.split(",") for line in out[1:]}
    assert float(rows["correct"][1]) == float(recs["correct"]["score"]) == 10
    assert float(rows["wrong"][1]) == float(recs["wrong"]["score"])


def _failing_source(tmp: Path) -> Path:
    """The example with one check that fails on the source (Q3's visible check expects
    the wrong value); everything else passes."""
    bad = tmp / "failing-source"
    bad.mkdir()
    for f in SOURCE_DIR.iterdir():
        (bad / f.name).write_bytes(f.read_bytes())
    text = (bad / "stats.py").read_text()
    assert '(fib(10) == 55, "fib(10) should be 55")' in text
    (bad / "stats.py").write_text(text.replace(
        '(fib(10) == 55, "fib(10) should be 55")', '(fib(10) == 56, "fib(10) should be 56")'))
    return bad


def test_publish_refuses_a_source_whose_check_fails(api):
    bad = _failing_source(Path(tempfile.mkdtemp(prefix="gq-mog-bad-")))
    p = api.cli("publish", f"{COURSE}/badsource", str(bad), check=False)
    assert p.returncode == 1, (p.returncode, p.stdout, p.stderr)
    assert "not published" in p.stderr, p.stderr
    assert "check 'Q3: fib' fails on the source: fib(10) should be 56" in p.stderr, p.stderr
    assert "Q1" not in p.stderr and "Q2" not in p.stderr, p.stderr  # only the failing one
    # nothing reached the dispatcher: the exercise does not exist
    code, doc, _ = api.http(
        "POST", f"/v1/courses/{COURSE}/exercises/badsource/submissions?student=s1",
        token=api.env["GRADEQ_TOKEN"], body=(SOURCE_DIR / "stats.py").read_bytes())
    assert code == 404, (code, doc)


def test_a_source_published_unchecked_fails_on_the_node(api):
    """--no-check sends it as it is; the node's first collect refuses it and the job ends
    in error with the same reason (never a score)."""
    bad = _failing_source(Path(tempfile.mkdtemp(prefix="gq-mog-bad-")))
    api.cli("publish", "--no-check", f"{COURSE}/badnocheck", str(bad))
    code, doc, _ = api.http(
        "POST", f"/v1/courses/{COURSE}/exercises/badnocheck/submissions?student=s1",
        token=api.env["GRADEQ_TOKEN"], body=(SOURCE_DIR / "stats.py").read_bytes())
    assert code == 202, (code, doc)
    end = time.monotonic() + 120
    while time.monotonic() < end:
        rec = json.loads(api.cli("result", doc["id"], "--json").stdout)
        if rec["status"] in ("done", "error"):
            break
        time.sleep(0.5)
    assert rec["status"] == "error", rec
    assert "check 'Q3: fib' fails on the source: fib(10) should be 56" in rec["error"], rec


def test_a_cell_stuck_past_the_job_limit_costs_nothing_else(graded):
    """hang_late_cell: a last cell swallows the per-cell alarm and would run past the
    whole job's limit; it is cut (its progress stops) and every question keeps its
    marks. forge_fd_then_hang: forged frames, then the same hang: the honest wrong
    answers' marks, nothing more."""
    _, recs, oracle = graded
    r = recs["hang_late_cell"]
    assert r["status"] == "done" and r["verdict"] == "ok", r
    assert float(r["score"]) == oracle["hang_late_cell"] == 10, r
    r = recs["forge_fd_then_hang"]
    assert r["status"] == "done", r
    assert float(r["score"]) == oracle["forge_fd_then_hang"] == oracle["wrong"], r


def test_a_job_cut_by_its_time_limit_keeps_the_checks_that_finished(api):
    """Each check cell's records leave the tests process as soon as the cell has run.
    Here a slow cell (5 s, under the 6 s per-cell limit) makes every run of the notebook
    slow, Q2's check hangs in a call into the student's object (cut at 6 s), and Q3's
    check needs a fresh student process, whose run the job's limit (10 s) ends: the job
    times out, and Q1's marks (3, all its checks passed before) are kept."""
    sys.path.insert(0, str(EX))
    import gen_submissions as gs  # noqa: PLC0415
    tmp = Path(tempfile.mkdtemp(prefix="gq-mog-slow-"))
    ex = tmp / "slow"
    ex.mkdir()
    for f in SOURCE_DIR.iterdir():
        (ex / f.name).write_bytes(f.read_bytes())
    (ex / "exercise.toml").write_text(
        'kind = "mograder"\ntimeout_s = 10\ncall_timeout_s = 6\n')
    text = gs.strip_hidden(gs.with_answers((SOURCE_DIR / "stats.py").read_text(),
                                           ("c", "c", "c", "c"), keep_markers=False))
    right = "scaled = np.array(values) / max(values)"
    assert right in text
    text = text.replace(right, "class _Scaled:\n        def max(self):\n"
                               "            while True:\n                pass\n\n"
                               "    scaled = _Scaled()")
    text = gs.add_cell(text, "\n@app.cell\ndef _():\n    import time as _t\n"
                             "    _t.sleep(5)\n    return\n")
    api.cli("publish", f"{COURSE}/slow", str(ex))
    code, doc, _ = api.http(
        "POST", f"/v1/courses/{COURSE}/exercises/slow/submissions?student=slow",
        token=api.env["GRADEQ_TOKEN"], body=text.encode())
    assert code == 202, (code, doc)
    end = time.monotonic() + 180
    while time.monotonic() < end:
        rec = json.loads(api.cli("result", doc["id"], "--json").stdout)
        if rec["status"] in ("done", "error"):
            break
        time.sleep(0.5)
    assert rec["status"] == "done" and rec["verdict"] == "timeout", rec
    assert float(rec["score"]) == 3, rec
    tests = {t["name"]: t for t in rec["tests"]}
    assert tests["Q1: hidden check 6.2 item 1"]["passed"], tests
    assert not any(t["passed"] for n, t in tests.items() if n.startswith("Q3")), tests
