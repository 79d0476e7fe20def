"""Unit tests of the mograder runtime pieces (mog_source, mog_student, mog_trusted) in one
process, no sandbox: parsing, dataflow order, per-cell limits, the release (against
`gradeq release`), the marks formula and the feedback records. The sandboxed, proxied
path is tests/integration/test_mograder.py."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "grader-node" / "runtime"))
import harness  # noqa: E402
import mog_source  # noqa: E402
import mog_student  # noqa: E402
import mog_trusted  # noqa: E402

SOURCE = (REPO / "examples" / "course-mograder" / "stats" / "stats.py").read_text()
GRADEQ = Path(os.environ.get("GRADEQ_BIN_DIR", REPO / "build")) / "cli" / "gradeq"


def nb(*cells: str) -> str:
    body = "".join(f"\n@app.cell\ndef _():\n" + "".join(f"    {l}\n" for l in c.split("\n"))
                   + "    return\n" for c in cells)
    return f"import marimo\napp = marimo.App()\n{body}\nif __name__ == '__main__':\n    app.run()\n"


def test_cells_defs_refs_and_kinds():
    cells = mog_source.parse_cells(SOURCE)
    marks = [c for c in cells if c.marks]
    checks = [c for c in cells if c.check]
    assert len(checks) == 3 and marks and "check" in marks[0].defs
    assert mog_source.marks_of(cells) == {"Q1": 3, "Q2": 4, "Q3": 3, "Q4": 5}
    q1 = checks[0]
    assert {"check", "mean_of"} <= q1.refs
    assert mog_source.static_items(q1.code) == [(1, "Q1: mean_of", [1.0, 1.0]),
                                                (9, "Q1: hidden", [2.0])]
    assert 9 in mog_source.hidden_lines(q1.code) and 1 not in mog_source.hidden_lines(q1.code)


def test_dataflow_order_and_failures_propagate():
    text = nb("b = a + 1", "a = 1", "c = b * 2", "d = 1\nd2 = undefined_thing", "e = 2",
              "e = 3")
    cells = mog_source.parse_cells(text)
    order, errors = mog_source.dataflow_order(cells, set())
    assert order.index(1) < order.index(0) < order.index(2)
    assert "several cells" in errors[4] and "several cells" in errors[5]
    ns: dict = {}
    errs = mog_student.run_cells(text, ns, 2.0)
    assert ns["c"] == 4 and "d" not in ns and "NameError" in errs[3]


def test_a_hanging_cell_fails_alone_within_its_limit():
    text = nb("x = 1", "while True:\n    pass\ny = 2", "z = x + 1")
    ns: dict = {}
    errs = mog_student.run_cells(text, ns, 0.5)
    assert "CellTimeout" in errs[1] and ns["z"] == 2 and "y" not in ns


def test_syntax_error_fails_one_cell():
    cells = mog_source.parse_cells(nb("x = 1", "y = (", "z = 2"))
    assert cells[1].error.startswith("SyntaxError") and not cells[0].error


def test_release_matches_gradeq_release(tmp_path):
    rel = mog_source.release(SOURCE)
    assert "### BEGIN" not in rel and "# YOUR CODE HERE" in rel
    assert "# HIDDEN TESTS" in rel and "fib(20)" not in rel
    assert "# mograder-hidden-tests = true" in rel
    if not GRADEQ.exists():
        pytest.fail(f"{GRADEQ} is not built")
    out = tmp_path / "rel.py"
    subprocess.run([str(GRADEQ), "release", str(REPO / "examples" / "course-mograder" /
                                                "stats" / "stats.py"), str(out)], check=True)
    assert out.read_text() == rel
    with pytest.raises(mog_source.SourceError):
        mog_source.release("### BEGIN SOLUTION\nx = 1\n")


class _Chan:
    def __init__(self) -> None:
        self.recs: list = []

    def send(self, r: dict) -> None:
        self.recs.append(r)


def _grade(tmp_path: Path, student: str) -> tuple[dict, dict]:
    tests, work = tmp_path / "tests", tmp_path / "work"
    tests.mkdir(exist_ok=True)
    work.mkdir(exist_ok=True)
    (tests / mog_source.SOURCE_NAME).write_text(SOURCE)
    (work / "data.txt").write_text((REPO / "examples" / "course-mograder" / "stats" /
                                    "data.txt").read_text())
    (work / "submission.py").write_text(student)
    cwd = os.getcwd()
    os.chdir(work)
    try:
        pub = _Chan()
        mog_trusted.collect({"tests": str(tests), "work": str(work), "collect": True}, pub,
                            harness)
        got = _Chan()
        mog_trusted.grade({"tests": str(tests), "work": str(work), "collect": False,
                           "call_timeout": 2.0}, got, harness, False)
    finally:
        os.chdir(cwd)
    weights = dict(t for r in pub.recs if r["t"] == "collected" for t in r["tests"])
    tests_ = {r["name"]: r for r in got.recs if r["t"] == "test"}
    return weights, tests_


def test_formula_pools_visible_and_hidden(tmp_path):
    weights, _ = _grade(tmp_path, SOURCE)
    # Q1: 3 marks over items of weight 1, 1 (visible) and 2 (hidden)
    assert weights["Q1: check 6.1 item 1"] == pytest.approx(0.75)
    assert weights["Q1: hidden check 6.2 item 1"] == pytest.approx(1.5)
    assert sum(weights.values()) == pytest.approx(10)
    assert weights["Q4: marked by hand"] == 0


def test_feedback_never_shows_hidden_checks(tmp_path):
    wrong = mog_source.release(SOURCE).replace("# YOUR CODE HERE\n        pass",
                                               "return 0", 1)
    weights, tests = _grade(tmp_path, wrong)
    assert set(tests) == set(weights)
    assert tests["Q1: hidden check 6.2 item 1"]["msg"] == "hidden check failed"
    assert "mean_of([5]) should be 5" in tests["Q1: check 6.1 item 2"]["msg"]
    for t in tests.values():
        assert "mean_of([1, 2])" not in t["msg"] and "6765" not in t["msg"]
    assert tests["Q4: marked by hand"]["outcome"] == "skipped"
    assert tests["check cells restored from the source"]["outcome"] == "passed"


def test_a_source_whose_checks_fail_is_refused(tmp_path):
    bad = SOURCE.replace("return sum(xs) / len(xs)", "return 0")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / mog_source.SOURCE_NAME).write_text(bad)
    ch = _Chan()
    cwd = os.getcwd()
    os.chdir(REPO / "examples" / "course-mograder" / "stats")
    try:
        mog_trusted.collect({"tests": str(tmp_path / "tests"), "work": str(tmp_path),
                             "collect": True}, ch, harness)
    finally:
        os.chdir(cwd)
    assert ch.recs[0]["t"] == "import_error" and "fails on the source" in ch.recs[0]["msg"]
