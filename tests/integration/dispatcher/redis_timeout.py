#!/usr/bin/env python3
"""The dispatcher's Redis link under a silent partition.

Usage: redis_timeout.py DISPATCHER_BINARY
Starts a redis-server of its own on a free loopback port and a dispatcher against it
(redis.command_timeout_ms = 1000; Kafka unreachable: not needed here). Then stops Redis
with SIGSTOP, which keeps its socket open but answers nothing (what a network partition
looks like to a client), and checks: /healthz says "redis": "down" within a few seconds
(the idle PING times out), a request that needs Redis is answered 503 promptly instead of
waiting out the 35 s request deadline, and after SIGCONT /healthz says "up" again.
Exit 0 when all pass, 1 listing each failure.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

from disptest import check, finish, free_port, start, stop, token


def get(port, path, tok=None, timeout=40):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}")
    if tok:
        req.add_header("Authorization", "Bearer " + tok)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def redis_state(port):
    try:
        return get(port, "/healthz", timeout=5)[1].get("redis")
    except (OSError, ValueError):
        return None


def wait_state(port, want, seconds):
    t0 = time.monotonic()
    while time.monotonic() - t0 < seconds:
        if redis_state(port) == want:
            return time.monotonic() - t0
        time.sleep(0.1)
    return None


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    redis_server = shutil.which("redis-server")
    if not redis_server:
        sys.exit("redis-server not found (scripts/setup installs it)")
    rport, dport = free_port(), free_port()
    with tempfile.TemporaryDirectory() as tmp:
        redis = subprocess.Popen([redis_server, "--port", str(rport), "--bind", "127.0.0.1",
                                  "--save", "", "--appendonly", "no", "--dir", tmp],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        disp, secret = start(sys.argv[1], tmp, dport,
                             "[kafka]\nbrokers = 127.0.0.1:9\n"
                             f"[redis]\naddress = 127.0.0.1:{rport}\ncommand_timeout_ms = 1000\n")
        stopped = False
        try:
            check(wait_state(dport, "up", 15) is not None, "healthz: redis up at start")
            inst = token(secret, "prof", "instructor")
            os.kill(redis.pid, signal.SIGSTOP)
            stopped = True
            # sent while the link still looks up: its command times out (was: 35 s)
            t0 = time.monotonic()
            code, doc = get(dport, "/v1/submissions/0123456789abcdef0123456789ab", inst)
            took = time.monotonic() - t0
            check(code == 503 and took < 5,
                  f"a request needing Redis: 503 in {took:.1f} s (got {code} {doc})")
            took = wait_state(dport, "down", 10)
            check(took is not None and took < 5,
                  f"healthz: redis down within 5 s of Redis going silent ({took})")
            code, doc = get(dport, "/v1/submissions/0123456789abcdef0123456789ab", inst)
            check(code == 503, f"while down: 503 at once (got {code})")
            os.kill(redis.pid, signal.SIGCONT)
            stopped = False
            took = wait_state(dport, "up", 15)
            check(took is not None, f"healthz: redis up again after SIGCONT ({took})")
            check(disp.poll() is None, "dispatcher still running")
        finally:
            if stopped:
                os.kill(redis.pid, signal.SIGCONT)
            stop(disp, redis)
    finish()


if __name__ == "__main__":
    main()
