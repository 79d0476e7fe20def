"""What the dispatcher's loopback tests (smoke.py, limits.py, redis_timeout.py) share:
tokens signed as the dispatcher checks them, a free port, the secret file, starting and
stopping a dispatcher of their own, and the ok/FAIL lines with the exit status."""
import base64
import hashlib
import hmac
import os
import socket
import subprocess
import sys
import time

FAILS = []


def check(cond, what):
    """Prints one ok/FAIL line; a failure is remembered for finish()."""
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        FAILS.append(what)


def finish():
    """Exits 1 naming how many checks failed, or 0."""
    if FAILS:
        print(f"{len(FAILS)} failed", file=sys.stderr)
        sys.exit(1)
    print("all passed")
    sys.exit(0)


def b64u(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).decode().rstrip("=")


def token(secret: bytes, user: str, role: str, ttl: int = 3600) -> str:
    """A bearer token: base64url(user:role:expiry) "." base64url(HMAC-SHA256)."""
    payload = f"{user}:{role}:{int(time.time()) + ttl}".encode()
    return b64u(payload) + "." + b64u(hmac.new(secret, payload, hashlib.sha256).digest())


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def start(binary, tmp, port, conf_rest, log_name="dispatcher.log"):
    """Writes a fresh signing secret (0600) and tmp/d.conf ([dispatcher] listen on port
    and secret_file, then conf_rest as given) and starts the dispatcher with its stderr
    in tmp/log_name. Returns (process, secret)."""
    secret = os.urandom(24).hex().encode()
    sp = os.path.join(tmp, "secret")
    with open(sp, "wb") as f:
        f.write(secret)
    os.chmod(sp, 0o600)
    conf = os.path.join(tmp, "d.conf")
    with open(conf, "w") as f:
        f.write(f"[dispatcher]\nlisten = 127.0.0.1:{port}\nsecret_file = {sp}\n{conf_rest}")
    log = open(os.path.join(tmp, log_name), "wb")
    return subprocess.Popen([binary, "-c", conf], stderr=log), secret


def stop(*procs):
    """SIGTERM, then SIGKILL after 10 s."""
    for p in procs:
        p.terminate()
    for p in procs:
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
