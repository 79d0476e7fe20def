"""Access rules and input checks of the dispatcher, through real HTTP on a real cluster."""
from __future__ import annotations

import time

import pytest

from conftest import REPO

COURSE = "itapi"
EX = "primes"
GOOD = (REPO / "examples" / "course" / EX / "release.py").read_bytes()


@pytest.fixture(scope="module")
def published(api):
    p = api.cli("publish", f"{COURSE}/{EX}", str(REPO / "examples" / "course" / EX))
    assert p.returncode == 0
    return api


def submit_path(course=COURSE, ex=EX, student=None):
    q = f"?student={student}" if student is not None else ""
    return f"/v1/courses/{course}/exercises/{ex}/submissions{q}"


def test_student_submits_as_self_and_reads_own_result(published):
    alice = published.token("alice")
    code, doc, _ = published.http("POST", submit_path(), alice, GOOD)
    assert code == 202, doc
    sid = doc["id"]
    code, rec, _ = published.http("GET", f"/v1/submissions/{sid}", alice)
    assert code == 200 and rec["student"] == "alice" and rec["course"] == COURSE


def test_student_cannot_submit_as_another(published):
    alice = published.token("alice")
    code, doc, _ = published.http("POST", submit_path(student="bob"), alice, GOOD)
    assert code == 403, doc


def test_student_cannot_read_another_students_result(published):
    bob = published.token("bob")
    code, doc, _ = published.http("POST", submit_path(), bob, GOOD)
    assert code == 202, doc
    alice = published.token("alice")
    code, doc2, _ = published.http("GET", f"/v1/submissions/{doc['id']}", alice)
    assert code == 403, doc2
    code, _, _ = published.http("GET", f"/v1/submissions/{doc['id']}",
                                published.env["GRADEQ_TOKEN"])
    assert code == 200


def test_instructor_submits_for_any_student(published):
    code, doc, _ = published.http("POST", submit_path(student="carol"),
                                  published.env["GRADEQ_TOKEN"], GOOD)
    assert code == 202, doc


def test_student_cannot_publish_or_read_gradebook(published):
    alice = published.token("alice")
    code, _, _ = published.http("PUT", f"/v1/courses/{COURSE}/exercises/x", alice, b"\x80",
                                "application/x-msgpack")
    assert code == 403
    code, _, _ = published.http("GET", f"/v1/courses/{COURSE}/gradebook", alice)
    assert code == 403


@pytest.mark.parametrize("mangle", ["missing", "forged", "garbage", "other_secret"])
def test_bad_tokens_get_401(published, mangle, tmp_path):
    tok = published.token("alice")
    if mangle == "missing":
        tok = None
    elif mangle == "forged":
        payload, sig = tok.rsplit(".", 1)
        tok = payload + "." + ("A" if sig[0] != "A" else "B") + sig[1:]
    elif mangle == "garbage":
        tok = "not-a-token"
    else:
        other = tmp_path / "secret"
        other.write_text("a-completely-different-secret-0123456789\n")
        other.chmod(0o600)
        tok = published.cli("token", "--secret-file", str(other), "alice").stdout.strip()
    code, doc, _ = published.http("POST", submit_path(), tok, GOOD)
    assert code == 401, doc


def test_escalated_role_in_payload_is_rejected(published):
    import base64
    tok = published.token("alice")
    payload, sig = tok.split(".")
    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode()
    user, role, exp = raw.split(":")
    assert role == "student"
    evil = base64.urlsafe_b64encode(f"{user}:instructor:{exp}".encode()).decode().rstrip("=")
    code, _, _ = published.http("GET", f"/v1/courses/{COURSE}/gradebook", f"{evil}.{sig}")
    assert code == 401


def test_expired_token_gets_401(published):
    tok = published.token("alice", ttl=1)
    time.sleep(2.2)
    code, doc, _ = published.http("POST", submit_path(), tok, GOOD)
    assert code == 401, doc


def test_body_over_limit_gets_413(published):
    alice = published.token("alice")
    big = b"# padding\n" * (300 * 1024)  # 3 MB, over the 1024 KB default
    code, _, _ = published.http("POST", submit_path(), alice, big)
    assert code == 413


def test_unknown_exercise_gets_404(published):
    alice = published.token("alice")
    code, doc, _ = published.http("POST", submit_path(ex="no-such-exercise"), alice, GOOD)
    assert code == 404, doc
    code, doc, _ = published.http("GET", "/v1/submissions/" + "0" * 28,
                                  published.env["GRADEQ_TOKEN"])
    assert code == 404, doc


@pytest.mark.parametrize("course,ex,student", [
    ("bad..course", EX, None),
    (COURSE, "ex%20space", None),
    (COURSE, "a" * 65, None),
    (COURSE, EX, "..%2Fetc"),
    (COURSE, EX, "x" * 65),
    (COURSE, EX, "bad%24name"),
])
def test_malformed_names_get_400(published, course, ex, student):
    tok = published.env["GRADEQ_TOKEN"]
    code, doc, _ = published.http("POST", submit_path(course, ex, student or "alice"), tok, GOOD)
    assert code == 400, (course, ex, student, code, doc)


def test_malformed_submission_id_gets_400(published):
    code, _, _ = published.http("GET", "/v1/submissions/..%2F..%2Fetc",
                                published.env["GRADEQ_TOKEN"])
    assert code == 400
