"""No open doors: the running cluster's Redis and Kafka refuse a client without
credentials or with another role's, and each role's credentials allow only its own part
(security/redis-users.acl.in, docs/security.md; Kafka: test_acl_kafka.py). Also: a
password file others may read stops a daemon with FILE:LINE, and a daemon given wrong
credentials says so in /healthz and logs it once, not once per retry."""
from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path


from conftest import BIN, REPO

SRC = REPO / "examples" / "course" / "primes" / "release.py"


# ---- Redis -------------------------------------------------------------------------

def _hp(api) -> tuple[str, str]:
    hp = api.env["REDIS_URL"].split("://", 1)[1].rsplit("@", 1)[-1]
    host, port = hp.rsplit(":", 1)
    return host, port


def _creds(api) -> Path:
    return Path(api.env["GRADEQ_CREDS"])


def _pw(api, kind: str, user: str) -> str:
    return (_creds(api) / kind / f"{user}.pw").read_text().strip()


def rcli(api, user: str | None, *args: str, password: str | None = None) -> str:
    """redis-cli as user (None: no credentials); stdout and stderr, stripped."""
    host, port = _hp(api)
    cmd = ["redis-cli", "--no-auth-warning", "-h", host, "-p", port]
    env = dict(os.environ)
    env.pop("REDISCLI_AUTH", None)
    if user is not None:
        cmd += ["--user", user]
        env["REDISCLI_AUTH"] = password if password is not None else _pw(api, "redis", user)
    p = subprocess.run(cmd + list(args), capture_output=True, text=True, env=env, timeout=30)
    return (p.stdout + p.stderr).strip()


def denied(out: str) -> bool:
    return out.startswith("NOPERM") or "NOPERM" in out.split("\n")[0]


def test_redis_refuses_no_credentials(api):
    assert "NOAUTH" in rcli(api, None, "PING")
    assert "NOAUTH" in rcli(api, None, "HGETALL", "gq:stats")
    # the default user exists only for Redis' own AOF replay: its password is given to no one
    assert "WRONGPASS" in rcli(api, "default", "PING", password="")


def test_redis_refuses_another_roles_password(api):
    node_pw = _pw(api, "redis", "gradeq-node")
    for user in ("gradeq-dispatcher", "gradeq-reader", "gradeq-admin"):
        out = rcli(api, user, "PING", password=node_pw)
        assert "WRONGPASS" in out, (user, out)
    assert rcli(api, "gradeq-node", "PING") == "PONG"


def test_redis_node_cannot_add_jobs(api):
    out = rcli(api, "gradeq-node", "XADD", "gq:jobs", "*", "job", "forged")
    assert denied(out), out
    # nor write what only the dispatcher writes: sources, bundles, exercises, allowlists
    for args in (("SET", "gq:src:0", "x"), ("SET", "gq:bundle:0", "x"),
                 ("HSET", "gq:ex:c:e", "max_points", "99"), ("SET", "gq:allow:c", "x"),
                 ("DEL", "gq:sub:0"), ("FLUSHALL",), ("CONFIG", "GET", "*"),
                 ("KEYS", "*")):
        out = rcli(api, "gradeq-node", *args)
        assert denied(out), (args, out)
    # what it needs is allowed (checked without writing: ACL DRYRUN, as the admin)
    for args in (("XREADGROUP", "GROUP", "gradeq-graders", "n", "STREAMS", "gq:jobs", ">"),
                 ("XACK", "gq:jobs", "gradeq-graders", "1-1"),
                 ("XADD", "gq:jobs:dlq", "*", "job", "x"),
                 ("HSET", "gq:sub:0", "status", "done"),
                 ("XADD", "gq:results", "*", "id", "x"),
                 ("PUBLISH", "gq:events:c", "{}")):
        assert rcli(api, "gradeq-admin", "ACL", "DRYRUN", "gradeq-node", *args) == "OK", args


def test_redis_reader_cannot_write(api):
    for args in (("SET", "gq:sub:0", "x"), ("HSET", "gq:sub:0", "score", "10"),
                 ("HINCRBY", "gq:stats", "done", "1"), ("DEL", "gq:courses"),
                 ("ZADD", "gq:errors", "1", "x"), ("XADD", "gq:results", "*", "a", "b"),
                 ("XADD", "gq:jobs", "*", "a", "b"), ("PUBLISH", "gq:events:c", "x"),
                 ("EVAL", "return redis.call('SET','gq:sub:0','x')", "1", "gq:sub:0"),
                 ("EXPIRE", "gq:stats", "1"), ("FLUSHDB",), ("ACL", "LIST")):
        out = rcli(api, "gradeq-reader", *args)
        assert denied(out), (args, out)
    # it reads what the hub and the gradebook read, and not the job queue
    assert not denied(rcli(api, "gradeq-reader", "HGETALL", "gq:stats"))
    assert not denied(rcli(api, "gradeq-reader", "SMEMBERS", "gq:courses"))
    assert denied(rcli(api, "gradeq-reader", "XRANGE", "gq:jobs", "-", "+"))
    assert denied(rcli(api, "gradeq-reader", "XRANGE", "gq:jobs:dlq", "-", "+"))


def test_redis_dispatcher_cannot_delete_or_consume(api):
    for args in (("DEL", "gq:sub:0"), ("DEL", "gq:src:0"), ("UNLINK", "gq:best:c"),
                 ("XTRIM", "gq:jobs", "MAXLEN", "0"), ("XDEL", "gq:jobs", "1-1"),
                 ("XREADGROUP", "GROUP", "gradeq-graders", "d", "STREAMS", "gq:jobs", ">"),
                 ("XACK", "gq:jobs", "gradeq-graders", "1-1"),
                 ("XRANGE", "gq:results", "-", "+"), ("XRANGE", "gq:jobs:dlq", "-", "+"),
                 ("HSET", "gq:best:c", "s/e", "10"), ("PUBLISH", "gq:events:c", "x"),
                 ("SET", "gq:node:n", "x"), ("FLUSHALL",), ("KEYS", "*")):
        out = rcli(api, "gradeq-dispatcher", *args)
        assert denied(out), (args, out)
    # a script does not widen the rules: the commands it runs are checked one by one
    out = rcli(api, "gradeq-dispatcher", "EVAL", "return redis.call('DEL', KEYS[1])", "1",
               "gq:sub:0")
    assert "NOPERM" in out or "can't access" in out, out
    # its own part is allowed
    assert rcli(api, "gradeq-admin", "ACL", "DRYRUN", "gradeq-dispatcher",
                "XADD", "gq:jobs", "*", "job", "x") == "OK"
    assert rcli(api, "gradeq-admin", "ACL", "DRYRUN", "gradeq-dispatcher",
                "DEL", "gq:allow:c") == "OK"


# ---- daemons and their password files --------------------------------------------

def _free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _dispatcher_conf(api, tmp: Path, pwfile: Path, user: str = "gradeq-dispatcher"):
    host, port = _hp(api)
    secret = tmp / "secret"
    secret.write_text(secrets.token_hex(24))
    secret.chmod(0o600)
    http = _free_port()
    conf = tmp / "d.conf"
    conf.write_text(f"[dispatcher]\nlisten = 127.0.0.1:{http}\nsecret_file = {secret}\n"
                    f"[redis]\naddress = {host}:{port}\n"
                    f"user = {user}\n"
                    f"password_file = {pwfile}\n")
    return conf, http


def test_password_file_readable_by_others_stops_daemons(api, tmp_path):
    pw = tmp_path / "redis.pw"
    pw.write_text(_pw(api, "redis", "gradeq-dispatcher") + "\n")
    pw.chmod(0o644)
    conf, _ = _dispatcher_conf(api, tmp_path, pw)
    p = subprocess.run([str(BIN / "dispatcher" / "gradeq-dispatcher"), "-c", str(conf)],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode != 0
    assert f"{conf}:7: redis.password_file" in p.stderr, p.stderr
    assert "chmod 600" in p.stderr, p.stderr
    # the node's config check is the same code path: its file and line too
    node_conf = tmp_path / "n.conf"
    node_conf.write_text(f"[node]\nid = acl-test\n[broker]\nkind = kafka\n[kafka]\n"
                         f"security_protocol = SASL_PLAINTEXT\nsasl_username = gradeq-node\n"
                         f"sasl_password_file = {pw}\n")
    p = subprocess.run([str(BIN / "grader-node" / "gradeq-node"), "-c", str(node_conf)],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode != 0
    assert f"{node_conf}:8: kafka.sasl_password_file" in p.stderr, p.stderr


def _healthz(port: int):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())
    except OSError:
        return None, None


def test_wrong_credentials_healthz_and_one_log_line(api, tmp_path):
    pw = tmp_path / "wrong.pw"
    pw.write_text(secrets.token_hex(16))
    pw.chmod(0o600)
    conf, port = _dispatcher_conf(api, tmp_path, pw)
    log = open(tmp_path / "d.log", "w")
    proc = subprocess.Popen([str(BIN / "dispatcher" / "gradeq-dispatcher"), "-c", str(conf)],
                            stderr=log, stdout=log)
    try:
        code = body = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            code, body = _healthz(port)
            if code == 503 and "authentication refused" in (body or {}).get("redis_error", ""):
                break
            time.sleep(0.3)
        assert code == 503, (code, body)
        assert body["redis"] == "down"
        assert "authentication refused as user gradeq-dispatcher" in body["redis_error"], body
        time.sleep(6)  # several reconnects (backoff up to 2 s), each refused again
        assert proc.poll() is None, "the dispatcher keeps running and retrying"
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()
    text = (tmp_path / "d.log").read_text()
    lines = [ln for ln in text.splitlines() if "authentication refused" in ln]
    # once by the dispatcher's connection, once by the job queue's (a Redis stream here)
    own = [ln for ln in lines if "broker" not in ln]
    queue = [ln for ln in lines if "broker" in ln]
    assert len(own) == 1 and len(queue) == 1, text
    assert "redis.password_file" in own[0]
