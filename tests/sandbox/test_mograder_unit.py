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


def _collect_source(tmp_path, source):
    """Collects a mograder source as publishing does (in the example exercise's directory);
    returns the channel with the records it sent."""
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / mog_source.SOURCE_NAME).write_text(source)
    ch = _Chan()
    cwd = os.getcwd()
    os.chdir(REPO / "examples" / "course-mograder" / "stats")
    try:
        mog_trusted.collect({"tests": str(tmp_path / "tests"), "work": str(tmp_path),
                             "collect": True}, ch, harness)
    finally:
        os.chdir(cwd)
    return ch


def test_a_source_whose_checks_fail_is_refused(tmp_path):
    bad = SOURCE.replace("return sum(xs) / len(xs)", "return 0")
    ch = _collect_source(tmp_path, bad)
    assert ch.recs[0]["t"] == "import_error" and "fails on the source" in ch.recs[0]["msg"]


def test_every_failing_check_of_a_source_is_named(tmp_path):
    bad = SOURCE.replace('(fib(10) == 55, "fib(10) should be 55")',
                         '(fib(10) == 56, "fib(10) should be 56")').replace(
        '(mean_of([5]) == 5, "mean_of([5]) should be 5")',
        '(mean_of([5]) == 6, "mean_of([5]) should be 6")')
    ch = _collect_source(tmp_path, bad)
    msg = ch.recs[0]["msg"]
    assert ch.recs[0]["t"] == "import_error" and msg.startswith("mograder source: 2 problems")
    assert "check 'Q1: mean_of' fails on the source: mean_of([5]) should be 6" in msg
    assert "check 'Q3: fib' fails on the source: fib(10) should be 56" in msg
    assert "Q2" not in msg


def test_the_list_streamed_first_is_the_published_one(tmp_path):
    """A straight-line source's item list, known before any check runs (grading sends it
    first and streams each cell's items), is exactly what collect publishes."""
    weights, _ = _grade(tmp_path, SOURCE)
    listed = mog_trusted.static_list(mog_trusted.Source(SOURCE))
    assert [n for n, _ in listed] == list(weights)
    for n, w in listed:
        assert w == pytest.approx(weights[n]), n


def test_each_check_cells_records_leave_before_the_next_cell_runs(tmp_path):
    """The records of Q1's check cell are sent before Q3's check cell calls fib: a job
    cut there keeps Q1's marks."""
    class Cut(BaseException):
        pass

    class Chan(_Chan):
        def send(self, r: dict) -> None:
            super().send(r)
            if r["t"] == "test":
                raise Cut  # the job ends here (its wall clock)

    tests, work = tmp_path / "tests", tmp_path / "work"
    tests.mkdir()
    work.mkdir()
    (tests / mog_source.SOURCE_NAME).write_text(SOURCE)
    (work / "data.txt").write_text((REPO / "examples" / "course-mograder" / "stats" /
                                    "data.txt").read_text())
    student = SOURCE.replace("a, b = 0, 1\n", "open('fib-called', 'w').close()\n"
                                                "        a, b = 0, 1\n", 1)
    (work / "submission.py").write_text(student)
    ch = Chan()
    cwd = os.getcwd()
    os.chdir(work)
    try:
        with pytest.raises(Cut):
            mog_trusted.grade({"tests": str(tests), "work": str(work), "collect": False,
                               "call_timeout": 2.0}, ch, harness, False)
    finally:
        os.chdir(cwd)
    first = [r for r in ch.recs if r["t"] == "test"]
    assert first[0]["name"] == "Q1: check 6.1 item 1" and first[0]["outcome"] == "passed"
    assert any(r["t"] == "collected" for r in ch.recs)
    assert not (work / "fib-called").exists()  # Q3's check cell had not run


def test_markdown_only_cells_run_nowhere():
    cells = {c.index: c for c in mog_source.parse_cells(SOURCE)}
    shown = [c for c in cells.values() if mog_source.display_only(c)]
    assert shown and all("mo.md(" in c.code and not c.defs for c in shown)
    assert not any(c.check or c.marks for c in shown)
    # a cell that computes, or shows a value of its own, runs
    for code in ('x = 1\nmo.md("a")', 'mo.md(f"{x}")', 'print("a")', 'mo.md("a", x)'):
        cell = mog_source.parse_cells(nb(code))[0]
        assert not mog_source.display_only(cell), code


def test_the_zygotes_parse_is_used_only_for_the_same_text(tmp_path):
    tests = tmp_path / "tests"
    tests.mkdir()
    (tests / mog_source.SOURCE_NAME).write_text(SOURCE)
    saved = dict(mog_trusted._PARSED)
    try:
        mog_trusted._PARSED.clear()
        mog_trusted.preload(str(tests))
        (cached,) = mog_trusted._PARSED.values()
        src = mog_trusted._load_source({"tests": str(tests)}, _Chan())
        assert src is not cached and src.cells is cached.cells
        src.trusted.clear()  # what grading may do to its copy
        assert cached.trusted
        # another text (an edited source at the same path): parsed afresh
        (tests / mog_source.SOURCE_NAME).write_text(SOURCE.replace('"Q1": 3', '"Q1": 4'))
        other = mog_trusted._load_source({"tests": str(tests)}, _Chan())
        assert other.cells is not cached.cells and other.marks["Q1"] == 4
    finally:
        mog_trusted._PARSED.clear()
        mog_trusted._PARSED.update(saved)


def test_restored_cells_from_the_students_codes_or_parsed_here():
    src = mog_trusted.Source(SOURCE)
    rel = mog_source.release(SOURCE)
    edited = rel.replace('"fib(10) should be 55"', '"fib(10) should be 55!"')
    for text in (rel, edited):
        codes = [c.code for c in mog_source.parse_cells(text)]
        assert mog_trusted.restored_cells(src, text, codes) == \
            mog_trusted.restored_cells(src, text)
    assert mog_trusted.restored_cells(src, edited)
    assert not mog_trusted.restored_cells(src, rel)
