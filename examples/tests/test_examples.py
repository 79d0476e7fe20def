"""Tests of the example course, the submission generator and the expected-score oracle.

    /opt/gradeq/venv/bin/python -m pytest -q examples/tests
"""
from __future__ import annotations

import concurrent.futures
import json
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1]
COURSE = EXAMPLES / "course"
sys.path.insert(0, str(EXAMPLES))

import expected  # noqa: E402
import gen_submissions  # noqa: E402

EXERCISES = ("primes", "stats", "strings")
# what the cluster must give each kind (partial varies by the functions drawn)
HANG_SCORE = {"primes": 5.0, "stats": 17.5, "strings": 7.86}
MAX = {"primes": 10.0, "stats": 25.0, "strings": 10.0}


def submission(exercise: str, kind: str, seed: int = 0) -> bytes:
    release = (COURSE / exercise / "release.py").read_text()
    rng = gen_submissions.random.Random(seed)
    return gen_submissions.make_submission(exercise, kind, release, rng).encode()


# -- pure helpers ------------------------------------------------------------------------

@pytest.mark.parametrize("v, want", [(2.675, 2.68), (1.005, 1.01), (10 * 3 / 7, 4.29),
                                     (-0.001, 0.0), (7.5, 7.5), (-2.675, -2.68)])
def test_round2_matches_score_c(v, want):
    assert expected.round2(v) == want


def test_fmt_has_no_trailing_zeros():
    assert [expected.fmt(v) for v in (10.0, 7.5, 6.666, 0.0, None)] == \
        ["10", "7.5", "6.67", "0", "-"]


def test_score_records_scaling_timeout_and_collection_error():
    recs = [{"collected": [["t.py::a", 1.0], ["t.py::b", 2.0], ["t.py::c", 4.0]]},
            {"test": "t.py::a", "passed": True, "timeout": False},
            {"test": "t.py::b", "passed": True, "timeout": False},
            {"test": "t.py::c", "passed": False, "timeout": False}]
    g = expected.score_records(recs, max_points=10)
    assert (g["verdict"], g["score"], g["max"], g["earned"], g["total"]) == \
        ("ok", 4.29, 10.0, 3.0, 7.0)
    g = expected.score_records(recs, max_points=0)
    assert (g["score"], g["max"]) == (3.0, 7.0)
    hung = recs[:2] + [{"test": "t.py::b", "passed": False, "timeout": True}]
    g = expected.score_records(hung, max_points=0)
    assert (g["verdict"], g["score"]) == ("timeout", 1.0)
    g = expected.score_records([{"collect_error": "ImportError"}], max_points=10, code=2)
    assert (g["verdict"], g["score"]) == ("import_error", 0.0)


# -- the generator -----------------------------------------------------------------------

def test_generator_is_deterministic_and_covers_every_kind(tmp_path):
    a = gen_submissions.generate(tmp_path / "a", 40, 3, list(EXERCISES), 0.05, COURSE)
    b = gen_submissions.generate(tmp_path / "b", 40, 3, list(EXERCISES), 0.05, COURSE)
    assert a == b
    for ex in EXERCISES:
        for student in a[ex]:
            assert (tmp_path / "a" / ex / f"{student}.py").read_bytes() == \
                (tmp_path / "b" / ex / f"{student}.py").read_bytes()
        assert set(a[ex].values()) == set(gen_submissions.KINDS)
        assert list(a[ex].values()).count("infinite_loop") == 2
    assert json.loads((tmp_path / "a" / "manifest.json").read_text()) == a
    c = gen_submissions.generate(tmp_path / "c", 40, 4, ["primes"], 0.05, COURSE)
    assert c["primes"] != a["primes"], "another seed gives another mix"


def test_generator_no_hang_and_cli(tmp_path):
    r = subprocess.run([sys.executable, str(EXAMPLES / "gen_submissions.py"), str(tmp_path),
                        "--students", "12", "--exercises", "strings", "--no-hang"],
                       capture_output=True, text=True, check=True)
    m = json.loads((tmp_path / "manifest.json").read_text())
    assert list(m) == ["strings"] and len(m["strings"]) == 12
    assert "infinite_loop" not in m["strings"].values()
    assert sorted(p.name for p in (tmp_path / "strings").iterdir())[0] == "s001.py"
    assert "strings: 12 submissions" in r.stderr


def test_partial_keeps_a_proper_subset_right():
    sols = gen_submissions.SOLUTIONS["stats"]
    for seed in range(10):
        src = submission("stats", "partial", seed).decode()
        right = [n for n in sols if sols[n]["correct"] in src]
        assert 0 < len(right) < len(sols)


# -- the notebooks -----------------------------------------------------------------------

@pytest.mark.parametrize("exercise", EXERCISES)
def test_release_notebook_imports_and_checks(exercise):
    names = list(gen_submissions.SOLUTIONS[exercise])
    code = (f"import release; missing = [n for n in {names!r} if not callable(getattr(release, n, None))]; "
            "assert not missing, missing")
    subprocess.run([expected.default_python(), "-c", code], cwd=COURSE / exercise,
                   check=True, capture_output=True)
    marimo = Path(expected.default_python()).with_name("marimo")
    if not marimo.exists():
        pytest.skip("marimo is not installed next to the grading python")
    r = subprocess.run([str(marimo), "check", "release.py"], cwd=COURSE / exercise,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


# -- the oracle --------------------------------------------------------------------------

ORACLE_CASES = [(ex, kind) for ex in EXERCISES for kind in ("correct", "wrong", "infinite_loop")] \
    + [("strings", k) for k in ("syntax_error", "import_exception", "missing_function", "scaffold")]


@pytest.fixture(scope="module")
def graded() -> dict:
    """expected.grade() of every case, two at a time (each is a pytest process)."""
    def run(case):
        ex, kind = case
        src = (COURSE / ex / "release.py").read_bytes() if kind == "scaffold" \
            else submission(ex, kind)
        return expected.grade(COURSE / ex, src, timeout=2 if kind == "infinite_loop" else 10)
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(ORACLE_CASES, pool.map(run, ORACLE_CASES)))


@pytest.mark.parametrize("exercise", EXERCISES)
def test_expected_correct_wrong_and_hang(graded, exercise):
    g = graded[(exercise, "correct")]
    assert (g["verdict"], g["score"], g["max"]) == ("ok", MAX[exercise], MAX[exercise])
    assert all(t["passed"] for t in g["tests"]) and len(g["tests"]) == 7
    g = graded[(exercise, "wrong")]
    assert (g["verdict"], g["score"]) == ("ok", 0.0)
    g = graded[(exercise, "infinite_loop")]
    assert (g["verdict"], g["score"]) == ("timeout", HANG_SCORE[exercise])
    assert g["tests"][0]["passed"] and not g["tests"][-1]["passed"]


@pytest.mark.parametrize("kind", ["syntax_error", "import_exception", "missing_function"])
def test_expected_import_errors_score_zero(graded, kind):
    g = graded[("strings", kind)]
    assert (g["verdict"], g["score"], g["max"]) == ("import_error", 0.0, 10.0)


def test_expected_scaffold_scores_zero_but_runs(graded):
    g = graded[("strings", "scaffold")]
    assert (g["verdict"], g["score"]) == ("ok", 0.0)
    assert [t["weight"] for t in g["tests"]] == [1.0, 2.0, 1.0, 1.0, 0.5, 1.0, 0.5]
    assert g["tests"][0]["name"] == "test_strings.py::test_word_count_simple"


def test_expected_batch(tmp_path):
    subs = tmp_path / "subs"
    (subs / "strings").mkdir(parents=True)
    good = submission("strings", "correct")
    for s in ("s001", "s002"):
        (subs / "strings" / f"{s}.py").write_bytes(good)
    (subs / "strings" / "s003.py").write_bytes(submission("strings", "syntax_error"))
    out = tmp_path / "expected.json"
    subprocess.run([sys.executable, str(EXAMPLES / "expected.py"), "--batch", str(subs),
                    str(COURSE), "--out", str(out)], check=True, capture_output=True)
    assert json.loads(out.read_text()) == {"strings": {
        "s001": {"score": 10.0, "max": 10.0, "verdict": "ok"},
        "s002": {"score": 10.0, "max": 10.0, "verdict": "ok"},
        "s003": {"score": 0.0, "max": 10.0, "verdict": "import_error"}}}
