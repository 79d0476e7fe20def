"""Grade forgery: a wrong notebook plus an attack may never earn more than the same wrong
notebook without it, and no feedback may show the hidden tests (forgery/README.md).

Every attack is forgery/wrong.py (the WRONG baseline: it passes only test_freebie) with
one body from forgery/attacks/ spliced into its setup cell (and optionally its end); the
helpers in forgery/attacks/_lib/ are spliced in when an attack says `# uses: NAME`. All of
them, the baseline and a correct notebook are graded in one run through the real cluster
(CTest fixture `cluster`); then, per attack:

  * the grading happened: status done, a real verdict (never `error`), tests listed, and
    the same test list (names) and maximum as the baseline's: the node scores against the
    list fixed at publish time;
  * score <= the wrong baseline's score in this run;
  * the canary planted in the hidden tests (a docstring, a comment and a string constant
    CANARY_<random>) is in nothing a student or instructor reads: the `gradeq result
    --json` text (instructor: includes the output tail), the HTTP record, the Redis hash;
  * no test name, message or output tail carries control characters (C0 but newline, C1,
    bidi embeddings/overrides/isolates, U+2028/2029).

Also: a wrong baseline graded after tmp_persist scores as the first one (nothing of a
job reaches the next), and an exercise with `isolation = "in-process"` records that mode
in its results (key `isolation`: "in-process"; a default exercise's results say
"two-process").

Run alone against a running cluster:
    GRADEQ_STATE=/tmp/forge-cluster /opt/gradeq/venv/bin/python -m pytest -q -s \
        -p no:cacheprovider tests/integration/test_forgery.py [-k ATTACK]
FORGERY_ATTACKS=a,b,c restricts the run to some attacks (the baseline is always graded).
`python tests/integration/test_forgery.py --render DIR` writes every notebook to DIR.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import sys
import textwrap
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent / "forgery"
ATTACKS_DIR = HERE / "attacks"
COURSE = "itforgery"
EXERCISE = "forge"
INPROC = "forge-inproc"
WAIT_S = 600  # all jobs, generously: the hanging attacks each cost one timeout_s

VERDICTS = {"ok", "timeout", "memory", "output_limit", "crashed", "import_error", "rejected"}
# C0 but newline, DEL, C1, bidi embeddings/overrides/isolates, line/paragraph separators.
FORBIDDEN = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]")

# the hidden tests' source and expected answers (no feedback may show them)
SECRET_NEEDLES = ("SECRET_TABLE", "271828", "314159", "161803")

ALL_ATTACKS = sorted(p.stem for p in ATTACKS_DIR.glob("*.py"))
_only = [a for a in os.environ.get("FORGERY_ATTACKS", "").split(",") if a]
ATTACKS = [a for a in ALL_ATTACKS if not _only or a in _only]
# graded on the in-process exercise too: the mode must be in its record
INPROC_ATTACK = "pytest_runtest_noop"

# The wrong baseline made right, to show the exercise is passable through the cluster.
CORRECT_FIXES = [
    ('"add", a - b,', '"add", a + b,'),
    ("sum(xs) / (len(xs) + 1)", "sum(xs) / len(xs)"),
    ('"total", sum(xs) + 1,', '"total", sum(xs),'),
    ('s.split(" ")', "s.split()"),
    ("a - a.mean(), (xs,)", "(a - a.mean()) / a.std(), (xs,)"),
    ('"parse_positive", int(s),',
     '"parse_positive", int(s) if int(s) > 0 else _bad("not positive"),'),
    ('"lookup", k * 1000,', '"lookup", {3: 271828, 7: 314159, 12: 161803}[k],'),
    ("sorted(xs)[len(xs) // 2], (xs,)",
     "(sorted(xs)[(len(xs) - 1) // 2] + sorted(xs)[len(xs) // 2]) / 2, (xs,)"),
    ("for x in lines[2:]", "for x in lines[1:]"),
    ('print(f"Hi {name}")', 'print(f"Hello, {name}!")'),
    ("    # @@ATTACK@@\n",
     "    def _bad(msg):\n        raise ValueError(msg)\n"),
]


# -- notebooks ---------------------------------------------------------------------------

def wrong_source() -> str:
    return (HERE / "wrong.py").read_text()


def attack_source(name: str) -> str:
    """The wrong baseline with attack `name` spliced into its setup cell (the part after
    a `# --- epilogue ---` line goes to the end of the notebook instead)."""
    text = (ATTACKS_DIR / f"{name}.py").read_text()
    body, _, epilogue = text.partition("# --- epilogue ---\n")
    uses = re.search(r"^# uses: (.*)$", body, re.M)
    libs = [(ATTACKS_DIR / "_lib" / f"{u}.py").read_text()
            for u in (uses.group(1).split() if uses else [])]
    setup = "\n\n".join([*libs, body]).rstrip() + "\n"
    src = wrong_source()
    assert "    # @@ATTACK@@\n" in src and "# @@EPILOGUE@@\n" in src
    src = src.replace("    # @@ATTACK@@\n", textwrap.indent(setup, "    "), 1)
    return src.replace("# @@EPILOGUE@@\n", epilogue, 1)


def correct_source() -> str:
    src = wrong_source()
    for old, new in CORRECT_FIXES:
        assert src.count(old) == 1, old
        src = src.replace(old, new)
    return src


def exercise_copy(dst: Path, canary: str, extra_toml: str = "") -> Path:
    shutil.copytree(HERE / "exercise", dst)
    for f in (dst / "tests").glob("*.py"):
        text = f.read_text()
        assert "@@CANARY@@" in text
        f.write_text(text.replace("@@CANARY@@", canary))
    if extra_toml:
        toml = dst / "exercise.toml"
        toml.write_text(toml.read_text() + extra_toml)
    return dst


# -- the run -----------------------------------------------------------------------------

def strings_of(obj) -> list[str]:
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, dict):
        return [s for k, v in obj.items() for s in [k, *strings_of(v)]]
    if isinstance(obj, list):
        return [s for v in obj for s in strings_of(v)]
    return []


def mode_of(rec: dict):
    """The isolation mode a result records: the field `isolation` of its record, in the
    API's JSON or else in the Redis hash gq:sub:<id> (docs/redis.md); "two-process" for
    a default exercise, "in-process" for one that opted in (exercise.toml
    `isolation = "in-process"`). None when neither has it (today)."""
    return rec.get("isolation") or rec.get("_redis", {}).get("isolation") or None


class Run:
    def __init__(self, api):
        self.api = api
        self.token = api.env["GRADEQ_TOKEN"]
        self.sids: dict[str, str] = {}
        self.recs: dict[str, dict] = {}
        self.texts: dict[str, str] = {}
        self.publish_errors: dict[str, str] = {}

    def submit(self, key: str, exercise: str, source: str) -> None:
        student = re.sub(r"[^a-z0-9-]", "-", key.lower())[:60]
        code, doc, _ = self.api.http(
            "POST", f"/v1/courses/{COURSE}/exercises/{exercise}/submissions?student={student}",
            token=self.token, body=source.encode())
        assert code == 202, (key, code, doc)
        self.sids[key] = doc["id"]

    def wait(self, keys, limit: float) -> None:
        end = time.monotonic() + limit
        pending = [k for k in keys if k not in self.recs]
        while pending and time.monotonic() < end:
            for k in list(pending):
                code, rec, _ = self.api.http("GET", f"/v1/submissions/{self.sids[k]}",
                                             token=self.token)
                assert code == 200, (k, code, rec)
                if rec["status"] in ("done", "error"):
                    self.recs[k] = rec
                    pending.remove(k)
            time.sleep(0.5)
        assert not pending, f"not finished within {limit:.0f} s: {pending}"
        for k in keys:
            if k in self.texts:
                continue
            cli = self.api.cli("result", self.sids[k], "--json").stdout
            redis = self.api.redis("hgetall", f"gq:sub:{self.sids[k]}")
            self.recs[k]["_redis"] = {"isolation": self.api.redis(
                "hget", f"gq:sub:{self.sids[k]}", "isolation").strip()}
            self.texts[k] = "\n".join([cli, json.dumps(self.recs[k], ensure_ascii=False),
                                       *strings_of(self.recs[k]), redis])
            try:
                self.recs[k]["_cli"] = json.loads(cli)
            except ValueError:
                self.recs[k]["_cli"] = {}


@pytest.fixture(scope="module")
def run(api, tmp_path_factory):
    canary = "CANARY_" + secrets.token_hex(12)
    base = tmp_path_factory.mktemp("forgery")
    ex = exercise_copy(base / EXERCISE, canary)
    api.cli("publish", f"{COURSE}/{EXERCISE}", str(ex))
    r = Run(api)
    r.canary = canary
    inproc = exercise_copy(base / INPROC, canary, 'isolation = "in-process"\n')
    p = api.cli("publish", f"{COURSE}/{INPROC}", str(inproc), check=False)
    if p.returncode != 0:
        r.publish_errors[INPROC] = (p.stderr or p.stdout).strip()

    t0 = time.monotonic()
    # the persistence attack first, so that its victim can follow it early
    order = sorted(ATTACKS, key=lambda a: a != "tmp_persist")
    r.submit("baseline", EXERCISE, wrong_source())
    r.submit("correct", EXERCISE, correct_source())
    for a in order:
        r.submit(a, EXERCISE, attack_source(a))
    if INPROC not in r.publish_errors:
        r.submit("inproc:baseline", INPROC, wrong_source())
        r.submit(f"inproc:{INPROC_ATTACK}", INPROC, attack_source(INPROC_ATTACK))
    if "tmp_persist" in ATTACKS:
        r.wait(["tmp_persist"], WAIT_S)
        for i in range(2):  # one per slot is likely, not certain
            r.submit(f"victim{i}", EXERCISE, wrong_source())
    r.wait(list(r.sids), WAIT_S - (time.monotonic() - t0))
    r.elapsed = time.monotonic() - t0
    print_table(r)
    return r


def print_table(r: Run) -> None:
    b = r.recs["baseline"]
    rows = [f"{'case':<24} {'verdict':<13} {'score':>6} {'base':>5}  note"]
    for k in ["baseline", "correct", *ATTACKS, *sorted(x for x in r.recs if ":" in x
                                                     or x.startswith("victim"))]:
        rec = r.recs.get(k)
        if rec is None:
            continue
        note = []
        if k != "correct" and rec.get("score") is not None and b.get("score") is not None \
                and rec["score"] > b["score"] + 1e-9:
            note.append("MORE THAN BASELINE")
        if r.canary in r.texts.get(k, ""):
            note.append("CANARY LEAKED")
        if any(FORBIDDEN.search(s) for s in feedback_strings(rec)):
            note.append("control chars")
        msg = (rec.get("message") or rec.get("error") or "").replace("\n", " ")[:50]
        rows.append(f"{k:<24} {str(rec.get('verdict') or rec['status']):<13} "
                    f"{rec.get('score')!s:>6} {b.get('score')!s:>5}  "
                    f"{'; '.join(note) or '-'}  {msg!r}")
    print(f"\nforgery run: {len(r.recs)} submissions in {r.elapsed:.1f} s (canary {r.canary})")
    print("\n".join(rows))
    if r.publish_errors:
        print(f"publish errors: {r.publish_errors}")


def feedback_strings(rec: dict) -> list[str]:
    out = [rec.get("message") or "", rec.get("output_tail") or "",
           (rec.get("_cli") or {}).get("output_tail") or ""]
    for t in rec.get("tests") or []:
        out += [t.get("name") or "", t.get("message") or ""]
    return out


# -- checks ----------------------------------------------------------------------------

def test_baseline_and_correct(run):
    b, c = run.recs["baseline"], run.recs["correct"]
    assert (b["status"], b.get("verdict")) == ("done", "ok"), b
    passed = [t["name"] for t in b["tests"] if t["passed"]]
    assert passed == ["test_forge_a.py::test_freebie"], b["tests"]
    assert len(b["tests"]) == 12 and b["max"] == 10 and b["score"] == 0.71, b
    assert (c["status"], c.get("verdict"), c.get("score")) == ("done", "ok", 10), c


@pytest.mark.parametrize("attack", ATTACKS)
def test_attack_earns_no_more_than_the_wrong_baseline(run, attack):
    b, rec = run.recs["baseline"], run.recs[attack]
    assert rec["status"] == "done", f"not graded: {rec.get('status')} {rec.get('error')}"
    assert rec.get("verdict") in VERDICTS, rec.get("verdict")
    names = [t["name"] for t in rec.get("tests") or []]
    assert names, "no test listed: the grading did not happen"
    assert sorted(names) == sorted(t["name"] for t in b["tests"]), \
        f"the test list differs from the published one: {names[:5]}... ({len(names)})"
    assert rec["max"] == b["max"], (rec["max"], b["max"])
    passed = [t["name"] for t in rec["tests"] if t["passed"]]
    assert rec["score"] <= b["score"] + 1e-9, \
        f"{attack}: score {rec['score']} > wrong baseline {b['score']} " \
        f"(verdict {rec['verdict']}, passed: {passed})"
    assert sum(t.get("points", 0) for t in rec["tests"]) <= b["score"] + 1e-9


@pytest.mark.parametrize("case", ["baseline", "correct", *ATTACKS])
def test_no_feedback_shows_the_hidden_tests(run, case):
    text = run.texts[case]
    assert run.canary not in text, \
        f"{case}: the hidden tests' canary is in the result: ...{excerpt(text, run.canary)}..."
    for needle in SECRET_NEEDLES:
        assert needle not in text, \
            f"{case}: {needle!r} (hidden test source or answer) in the result: " \
            f"...{excerpt(text, needle)}..."


@pytest.mark.parametrize("case", ["baseline", "correct", *ATTACKS])
def test_feedback_has_no_control_characters(run, case):
    bad = [(s[:80], sorted({hex(ord(c)) for c in FORBIDDEN.findall(s)}))
           for s in feedback_strings(run.recs[case]) if FORBIDDEN.search(s)]
    assert not bad, f"{case}: control characters in feedback: {bad[:3]}"


def test_nothing_reaches_the_next_job(run):
    if "tmp_persist" not in ATTACKS:
        pytest.skip("tmp_persist not selected")
    b = run.recs["baseline"]
    for k in ("victim0", "victim1"):
        v = run.recs[k]
        assert (v["status"], v.get("verdict"), v.get("score")) == \
            ("done", "ok", b["score"]), (k, v)
        assert [(t["name"], t["passed"]) for t in v["tests"]] == \
            [(t["name"], t["passed"]) for t in b["tests"]], k


def test_in_process_isolation_is_recorded(run):
    assert INPROC not in run.publish_errors, \
        f'an exercise with isolation = "in-process" could not be published: ' \
        f"{run.publish_errors.get(INPROC)}"
    for k in ("inproc:baseline", f"inproc:{INPROC_ATTACK}"):
        rec = run.recs[k]
        assert rec["status"] == "done", rec
        assert mode_of(rec) == "in-process", \
            f"{k}: isolation {mode_of(rec)!r}, want 'in-process': {sorted(rec)}"
    # the in-process mode stays forgeable: only say what it gave
    print(f"\nin-process: baseline {run.recs['inproc:baseline']['score']}, "
          f"{INPROC_ATTACK} {run.recs[f'inproc:{INPROC_ATTACK}']['score']}")


def test_default_exercise_is_graded_two_process(run):
    """Every result of the default exercise says it was graded with the tests in a
    process of their own (a node that fell back to in-process grading would make every
    forgery above possible again)."""
    modes = {k: mode_of(run.recs[k]) for k in ["baseline", "correct", *ATTACKS]
             if run.recs[k]["status"] == "done"}
    other = {k: m for k, m in modes.items() if m != "two-process"}
    assert not other, f"{len(other)} results not recorded as 'two-process': " \
        f"{dict(list(other.items())[:5])}"


def excerpt(text: str, needle: str) -> str:
    i = text.find(needle)
    return text[max(0, i - 60): i + 60].replace("\n", " ")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--render":
        out = Path(sys.argv[2])
        out.mkdir(parents=True, exist_ok=True)
        (out / "baseline.py").write_text(wrong_source())
        (out / "correct.py").write_text(correct_source())
        for a in ALL_ATTACKS:
            (out / f"{a}.py").write_text(attack_source(a))
        print(f"{len(ALL_ATTACKS) + 2} notebooks in {out}")
    else:
        print(__doc__)


# -- mograder exercises ------------------------------------------------------------------
# The same rule for a mograder assignment (examples/course-mograder): every forge_* case
# of gen_submissions.py (wrong answers plus an attack on the check results: side files,
# a patched mograder.runtime, check redefined, always-equal objects, numpy and builtins
# patched or shadowed, frames on every descriptor, reading the source) and the edited
# check and marks cells score no more than the wrong baseline, and show no hidden check.

MOG_EX = Path(__file__).resolve().parents[2] / "examples" / "course-mograder"
MOG_EXERCISE = "forge-mograder"
MOG_HIDDEN = ("mean_of([1, 2])", "fib(20)", "6765")


@pytest.fixture(scope="module")
def mograder_graded(api, tmp_path_factory):
    import subprocess  # noqa: PLC0415
    out = tmp_path_factory.mktemp("mog")
    subprocess.run([sys.executable, str(MOG_EX / "gen_submissions.py"), str(out)], check=True)
    api.cli("publish", f"{COURSE}/{MOG_EXERCISE}", str(MOG_EX / "stats"))
    names = ["wrong", "tampered_check"] + sorted(
        p.stem for p in (out / "submissions").glob("forge_*.py"))
    sids = {}
    for n in names:
        code, doc, _ = api.http(
            "POST", f"/v1/courses/{COURSE}/exercises/{MOG_EXERCISE}/submissions?student=mog_{n}",
            token=api.env["GRADEQ_TOKEN"], body=(out / "submissions" / f"{n}.py").read_bytes())
        assert code == 202, (n, code, doc)
        sids[n] = doc["id"]
    recs: dict = {}
    end = time.monotonic() + WAIT_S
    while len(recs) < len(sids) and time.monotonic() < end:
        for n, sid in sids.items():
            if n not in recs:
                rec = json.loads(api.cli("result", sid, "--json").stdout)
                if rec["status"] in ("done", "error"):
                    recs[n] = rec
        time.sleep(0.5)
    assert len(recs) == len(sids), f"not graded: {set(sids) - set(recs)}"
    return recs


def test_mograder_forgeries_earn_no_more_than_the_wrong_baseline(mograder_graded):
    recs = mograder_graded
    base = recs["wrong"]
    assert base["status"] == "done" and base["verdict"] == "ok", base
    for n, r in recs.items():
        assert r["status"] == "done" and r["verdict"] in VERDICTS, (n, r.get("message"))
        assert float(r["score"]) <= float(base["score"]), (n, r["score"], base["score"])
        text = json.dumps(r)
        for needle in MOG_HIDDEN:
            assert needle not in text, (n, needle)
        for t in r.get("tests") or []:
            assert not FORBIDDEN.search(t["name"] + (t.get("message") or "")), (n, t)
