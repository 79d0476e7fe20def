"""A submission that hangs in its third test: verdict timeout, the tests that finished
before it keep their credit, the hung test says it timed out, the test after it still
runs against a fresh student process (two-process runtime), and the node goes on
grading the next submission."""
from __future__ import annotations

import json
import time
from pathlib import Path

from conftest import REPO

COURSE = "ittimeout"


def make_exercise(tmp: Path) -> Path:
    ex = tmp / "hang"
    (ex / "tests").mkdir(parents=True)
    (ex / "exercise.toml").write_text("timeout_s = 8\n")
    (ex / "tests" / "test_hang.py").write_text(
        "import pytest\n"
        "from submission import f\n\n"
        "@pytest.mark.points(2)\n"
        "def test_one():\n    assert f(1) == 2\n\n"
        "@pytest.mark.points(3)\n"
        "def test_two():\n    assert f(2) == 3\n\n"
        "def test_three():\n    assert f(-1) == 0\n\n"
        "def test_four():\n    assert f(10) == 11\n")
    return ex


HANGS = (
    "import marimo\n\napp = marimo.App()\n\n\n"
    "@app.function\n"
    "def f(x):\n"
    "    while x < 0:\n"
    "        pass\n"
    "    return x + 1\n\n\n"
    "if __name__ == '__main__':\n    app.run()\n")
GOOD = HANGS.replace("    while x < 0:\n        pass\n", "    if x < 0:\n        return 0\n")


def wait_done(api, sid: str, limit: float = 120) -> dict:
    end = time.monotonic() + limit
    while time.monotonic() < end:
        rec = json.loads(api.cli("result", sid, "--json").stdout)
        if rec["status"] in ("done", "error"):
            return rec
        time.sleep(0.3)
    raise AssertionError(f"{sid} not finished after {limit} s")


def test_infinite_loop_is_timeout_and_keeps_the_other_tests_credit(api, tmp_path):
    ex = make_exercise(tmp_path)
    api.cli("publish", f"{COURSE}/hang", str(ex))
    hang = tmp_path / "hang.py"
    hang.write_text(HANGS)
    sid = api.cli("submit", f"{COURSE}/hang", str(hang), "--student", "h1").stdout.split()[0]
    rec = wait_done(api, sid)
    assert rec["status"] == "done" and rec["verdict"] == "timeout", rec
    by_name = {t["name"].split("::")[-1]: t for t in rec["tests"]}
    assert by_name["test_one"]["passed"] and by_name["test_one"]["points"] == 2
    assert by_name["test_two"]["passed"] and by_name["test_two"]["points"] == 3
    assert not by_name["test_three"]["passed"]
    assert "timed out" in by_name["test_three"]["message"], by_name["test_three"]
    # the credit after the hang survives too (the single-process runtime lost it: 5)
    assert by_name["test_four"]["passed"] and by_name["test_four"]["points"] == 1
    assert rec["score"] == 6 and rec["max"] == 7

    # The node keeps serving: a correct submission right after gets full marks.
    good = tmp_path / "good.py"
    good.write_text(GOOD)
    sid2 = api.cli("submit", f"{COURSE}/hang", str(good), "--student", "h2").stdout.split()[0]
    rec2 = wait_done(api, sid2)
    assert rec2["verdict"] == "ok" and rec2["score"] == 7, rec2


def test_import_error_tells_the_student_why_and_keeps_the_maximum(api, tmp_path):
    ex = make_exercise(tmp_path)
    api.cli("publish", f"{COURSE}/hang", str(ex))
    bad = tmp_path / "bad.py"
    bad.write_text(GOOD.replace("def f(x):", "def f(x)"))
    sid = api.cli("submit", f"{COURSE}/hang", str(bad), "--student", "h3").stdout.split()[0]
    rec = wait_done(api, sid)
    assert rec["verdict"] == "import_error", rec
    assert "SyntaxError" in rec["message"], rec
    assert rec["score"] == 0 and rec["max"] == 7, rec
    assert len(rec["tests"]) == 4 and not any(t["passed"] for t in rec["tests"])
    shown = api.cli("result", sid).stdout
    assert "SyntaxError" in shown and "import_error" in shown
