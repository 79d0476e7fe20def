#!/usr/bin/env python3
"""Black-box check of gradeq-dispatcher against a real Redis and Kafka.

Usage: smoke.py DISPATCHER_BINARY
Environment: REDIS_URL, KAFKA_BROKERS, GRADEQ_BROKER (as printed by `scripts/cluster env`).
Starts its own dispatcher on a free port with a fresh secret, drives every status code
of docs/http-api.md that does not need Kafka stopped, times 200 sequential submits, and
stops the dispatcher. Needs msgpack (the grading venv has it). Exit 0 when all pass.
"""
import hashlib
import http.client
import json
import os
import sys
import tempfile
import time

import msgpack

from disptest import free_port, start, token

FAILS = []


class Client:
    def __init__(self, port: int):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=40)

    def req(self, method, path, body=None, tok=None, ctype="text/plain"):
        h = {}
        if tok:
            h["Authorization"] = "Bearer " + tok
        if body is not None:
            h["Content-Type"] = ctype
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=body, headers=h)
                r = self.conn.getresponse()
                data = r.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=40)
                if attempt:
                    raise
        try:
            j = json.loads(data) if data.strip() else None
        except ValueError:
            j = {"raw": data[:200].decode(errors="replace")}
        return r.status, j, r


def check(name, got, want, body=None):
    ok = got == want
    print(f"{'ok ' if ok else 'FAIL'} {name}: {got}" + ("" if ok else f" (want {want}) {body}"))
    if not ok:
        FAILS.append(name)


def bundle(files: dict) -> bytes:
    return msgpack.packb({k: v for k, v in files.items()}, use_bin_type=True)


def main():
    binary = sys.argv[1]
    redis = os.environ["REDIS_URL"].removeprefix("redis://").rsplit("@", 1)[-1]
    # the dispatcher's own credentials, as scripts/cluster writes them (GRADEQ_CREDS)
    creds = os.environ.get("GRADEQ_CREDS")
    rauth = (f"user = gradeq-dispatcher\npassword_file = {creds}/redis/gradeq-dispatcher.pw\n"
             if creds else "")
    kauth = (f"security_protocol = SASL_PLAINTEXT\nsasl_username = gradeq-dispatcher\n"
             f"sasl_password_file = {creds}/kafka/gradeq-dispatcher.pw\n"
             if creds and os.environ.get("GRADEQ_KAFKA_SECURITY_PROTOCOL") else "")
    broker = os.environ.get("GRADEQ_BROKER", "redis")
    kafka = os.environ.get("KAFKA_BROKERS", "127.0.0.1:9092")
    tmp = tempfile.mkdtemp(prefix="disp-smoke-")
    port = free_port()
    proc, secret = start(binary, tmp, port,
                         f"max_body_kb = 64\n[broker]\nkind = {broker}\n"
                         f"[kafka]\nbrokers = {kafka}\n{kauth}[redis]\naddress = {redis}\n{rauth}")
    try:
        run(port, secret)
    finally:
        proc.terminate()
        rc = proc.wait(timeout=20)
        check("clean exit on SIGTERM", rc, 0)
        print("dispatcher log:", os.path.join(tmp, "dispatcher.log"))
    print(f"{len(FAILS)} failed" if FAILS else "all passed")
    return 1 if FAILS else 0


def run(port, secret):
    c = Client(port)
    inst = token(secret, "prof", "instructor")
    alice = token(secret, "alice", "student")
    bob = token(secret, "bob", "student")
    course = f"c{os.getpid()}"

    for _ in range(100):  # Kafka "up" needs the first statistics (~1 s)
        try:
            st, j, _ = c.req("GET", "/healthz")
            if st == 200:
                break
        except (OSError, http.client.HTTPException):
            c = Client(port)
        time.sleep(0.1)
    check("healthz 200", st, 200, j)
    broker = os.environ.get("GRADEQ_BROKER", "redis")
    want = {"status": "ok", "broker": "up", "broker_kind": broker, "redis": "up"}
    if broker == "kafka":
        want["kafka"] = "up"
    check("healthz fields", j, want)

    ex = f"/v1/courses/{course}/exercises/e1"
    good = bundle({"exercise.toml": b"max_points = 10\ntitle = \"Ex 1\"\ntimeout_s = 20\n",
                   "tests/test_a.py": b"def test_x():\n    assert True\n"})
    check("401 no token", c.req("PUT", ex, good)[0], 401)
    check("401 forged", c.req("PUT", ex, good, tok=token(b"x" * 32, "prof", "instructor"))[0], 401)
    st, j, _ = c.req("PUT", ex, good, tok=token(secret, "prof", "instructor", ttl=-10))
    check("401 expired", st, 401, j)
    check("401 expired message", "expired" in j["error"], True, j)
    check("403 student publishes", c.req("PUT", ex, good, tok=alice)[0], 403)
    check("400 bad course", c.req("PUT", "/v1/courses/a..b/exercises/e1", good, tok=inst)[0], 400)
    check("400 traversal", c.req("PUT", "/v1/courses/%2e%2e/exercises/e1", good, tok=inst)[0], 400)
    st, j, _ = c.req("PUT", ex, bundle({"../x.py": b"x", "tests/test_a.py": b"x"}), tok=inst)
    check("400 bundle path traversal", st, 400, j)
    st, j, _ = c.req("PUT", ex, bundle({"exercise.toml": b"max_points = 1\n\nbogus = 2\n",
                                        "tests/test_a.py": b"x"}), tok=inst)
    check("400 exercise.toml unknown key", (st, j["error"].startswith("exercise.toml:3")), (400, True), j)
    st, j, _ = c.req("PUT", ex, bundle({"exercise.toml": b"max_points = 1\n"}), tok=inst)
    check("400 no tests", st, 400, j)
    check("400 not msgpack", c.req("PUT", ex, b"\xc1\xc1", tok=inst)[0], 400)
    st, j, _ = c.req("PUT", ex, good, tok=inst)
    check("201 publish", st, 201, j)
    check("publish hash", j.get("tests_hash"), hashlib.sha256(good).hexdigest(), j)
    check("publish tests", j.get("tests"), 1, j)

    sub = ex + "/submissions"
    src = b"import marimo\napp = marimo.App()\n"
    check("404 route", c.req("GET", "/v1/nope", tok=inst)[0], 404)
    st, j, r = c.req("DELETE", sub, tok=inst)
    check("405 method", (st, r.getheader("Allow")), (405, "POST"), j)
    check("400 instructor without student", c.req("POST", sub, src, tok=inst)[0], 400)
    check("400 bad student", c.req("POST", sub + "?student=a/b", src, tok=inst)[0], 400)
    check("400 unknown query", c.req("POST", sub + "?x=1", src, tok=alice)[0], 400)
    check("403 student as other", c.req("POST", sub + "?student=bob", src, tok=alice)[0], 403)
    check("404 unknown exercise", c.req("POST", f"/v1/courses/{course}/exercises/nope/submissions",
                                        src, tok=alice)[0], 404)
    check("400 empty body", c.req("POST", sub, b"", tok=alice)[0], 400)
    st, j, _ = c.req("POST", sub, b"x" * (65 * 1024), tok=alice)
    check("413 body", st, 413, j)

    st, j, _ = c.req("POST", sub, src, tok=alice)
    check("202 student", (st, j.get("status")), (202, "queued"), j)
    aid = j["id"]
    st, j, _ = c.req("POST", sub + "?student=bob", src + b"#bob\n", tok=inst)
    check("202 instructor for bob", st, 202, j)
    bid = j["id"]

    st, j, _ = c.req("GET", f"/v1/submissions/{aid}", tok=alice)
    # Grader nodes may already have picked it up.
    status = j.get("status")
    check("200 own record", (st, status in ("queued", "grading", "done"), j.get("attempt"),
                             j.get("student")), (200, True, 1, "alice"), j)
    check("403 other's record", c.req("GET", f"/v1/submissions/{bid}", tok=alice)[0], 403)
    check("200 instructor record", c.req("GET", f"/v1/submissions/{bid}", tok=inst)[0], 200)
    check("400 bad id", c.req("GET", "/v1/submissions/XYZ", tok=inst)[0], 400)
    check("404 unknown id", c.req("GET", "/v1/submissions/" + "0" * 28, tok=inst)[0], 404)

    al = f"/v1/courses/{course}/allowlist"
    check("400 allowlist bad name", c.req("PUT", al, b"alice\nbad name\n", tok=inst)[0], 400)
    st, j, _ = c.req("PUT", al, b"# enrolled\nalice\n  carol  # TA\nalice\n", tok=inst)
    check("200 allowlist", (st, j), (200, {"users": 2}))
    st, j, _ = c.req("POST", sub, src, tok=bob)
    check("403 not enrolled", (st, j.get("error")), (403, f"not enrolled in {course}; ask your instructor"))
    check("202 enrolled", c.req("POST", sub, src, tok=alice)[0], 202)
    check("200 empty allowlist", c.req("PUT", al, b"", tok=inst)[1], {"users": 0})
    check("403 empty list", c.req("POST", sub, src, tok=alice)[0], 403)
    check("202 instructor bypasses", c.req("POST", sub + "?student=zed", src, tok=inst)[0], 202)
    check("200 delete allowlist", c.req("DELETE", al, tok=inst)[1], {"users": None})
    st, j, _ = c.req("POST", sub, src, tok=bob)
    check("202 after delete", st, 202, j)
    bid = j["id"]  # bob's latest

    st, j, _ = c.req("GET", f"/v1/courses/{course}/gradebook", tok=inst)
    check("200 gradebook", (st, j.get("exercises"), j.get("students")), (200, ["e1"], []), j)
    check("403 gradebook student", c.req("GET", f"/v1/courses/{course}/gradebook", tok=alice)[0], 403)
    check("404 gradebook course", c.req("GET", "/v1/courses/none/gradebook", tok=inst)[0], 404)
    st, j, _ = c.req("GET", "/v1/status", tok=inst)
    check("200 status", (st, sorted(j)),
          (200, ["busy_slots", "done", "error", "errors", "grading", "lag", "nodes", "queued",
                 "submissions"]), j)
    check("status counts add up", j.get("queued", 0) + j.get("grading", 0) + j.get("done", 0)
          + j.get("error", 0), j.get("submissions"), j)
    st, j, _ = c.req("POST", ex + "/regrade", tok=inst)
    check("202 regrade", (st, j), (202, {"count": 3}))  # alice, bob, zed
    st, j, _ = c.req("GET", f"/v1/submissions/{bid}", tok=inst)
    check("regrade bumps attempt", (j.get("attempt"), j.get("status")), (2, "queued"), j)

    n = 200
    t0 = time.monotonic()
    for i in range(n):
        st, j, _ = c.req("POST", sub + f"?student=s{i % 50}", src, tok=inst)
        if st != 202:
            check(f"bulk submit {i}", st, 202, j)
            break
    dt = time.monotonic() - t0
    print(f"ok  {n} sequential submits in {dt:.2f} s ({1000 * dt / n:.1f} ms each)")
    return


if __name__ == "__main__":
    sys.exit(main())
