"""A node facing Redis error replies: a permanent one (here WRONGTYPE, the source key
holding a hash) is not retried forever holding the slot; the job ends in `error` with the
reason, and the node goes on grading."""
from __future__ import annotations

import json
import os
import secrets
import subprocess
import time

from conftest import BIN, REPO

COURSE = "itrerr"
EX = "primes"
SRC = REPO / "examples" / "course" / EX / "release.py"


def test_wrongtype_source_ends_in_error(api, tmp_path):
    p = api.cli("publish", "--json", f"{COURSE}/{EX}", str(REPO / "examples" / "course" / EX))
    tests_hash = json.loads(p.stdout)["tests_hash"]
    sid = secrets.token_hex(14)
    # The job's source key exists with the wrong type: GET answers WRONGTYPE every time.
    api.redis("HSET", f"gq:src:{sid}", "not", "a string")
    produce = BIN / "tests" / "broker" / "produce_job"
    # the job goes to whichever queue the cluster uses (KAFKA_BROKERS only on Kafka)
    kafka = os.environ.get("KAFKA_BROKERS") or api.env.get("KAFKA_BROKERS")
    to = ["-b", kafka] if kafka else ["--redis", api.env["REDIS_URL"].split("://", 1)[-1]]
    r = subprocess.run([str(produce), *to, "--id", sid,
                        "--course", COURSE, "--exercise", EX, "--student", "wrongtype",
                        "--source", str(SRC), "--tests-hash", tests_hash],
                       capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, **api.env))  # the cluster's admin credentials
    assert r.returncode == 0, r.stderr
    status = err = ""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        status = api.redis("HGET", f"gq:sub:{sid}", "status").strip()
        if status == "error":
            err = api.redis("HGET", f"gq:sub:{sid}", "error").strip()
            break
        time.sleep(1)
    assert status == "error", f"status {status!r}: the node is still retrying"
    assert "WRONGTYPE" in err and "source" in err, err

    # The node still grades: an honest submission goes through.
    student = api.token("after-wrongtype")
    code, doc, _ = api.http("POST", f"/v1/courses/{COURSE}/exercises/{EX}/submissions",
                            student, SRC.read_bytes())
    assert code == 202, doc
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        code, rec, _ = api.http("GET", f"/v1/submissions/{doc['id']}", student)
        if rec and rec.get("status") in ("done", "error"):
            break
        time.sleep(1)
    assert rec.get("status") == "done", rec
