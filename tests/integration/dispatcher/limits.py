#!/usr/bin/env python3
"""The dispatcher's HTTP front under bounded hostile loads on loopback.

Usage: limits.py DISPATCHER_BINARY
Starts a dispatcher of its own on a free port with small caps (max_header_kb = 4,
max_connections = 8, max_connections_per_client = 4, request_timeout_s = 2) and
unreachable Kafka and Redis (the HTTP front needs neither: /healthz answers 503 JSON),
then checks: headers over the cap get a JSON 431 and cost bounded CPU and memory (64 MiB
of header); connections over the per-client and the total cap get 503 with Retry-After
while others are served; closed connections free their places; a request trickling in
byte by byte is cut at the deadline. Exit 0 when all pass, 1 listing each failure.
"""
import json
import os
import socket
import sys
import tempfile
import time

from disptest import check, finish, free_port, start, stop, token

HEADER_KB, CONNS, PER_CLIENT, DEADLINE_S = 4, 8, 4, 2


def connect(port, src="127.0.0.1"):
    s = socket.socket()
    s.settimeout(5)
    s.bind((src, 0))
    s.connect(("127.0.0.1", port))
    return s


def read_reply(s, limit=65536):
    data = b""
    try:
        while len(data) < limit:
            b = s.recv(4096)
            if not b:
                break
            data += b
            head, sep, body = data.partition(b"\r\n\r\n")
            if sep:
                clen = [l for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")]
                if clen and len(body) >= int(clen[0].split(b":")[1]):
                    break
    except (socket.timeout, ConnectionResetError):
        pass
    return data


def status_of(reply: bytes) -> int:
    try:
        return int(reply.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return 0


def body_json(reply: bytes):
    try:
        return json.loads(reply.partition(b"\r\n\r\n")[2])
    except ValueError:
        return None


def get(port, src="127.0.0.1", extra=b""):
    s = connect(port, src)
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n" + extra + b"\r\n")
    r = read_reply(s)
    s.close()
    return r


def cpu_s(pid) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kb(pid) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def wait_port(port, proc):
    for _ in range(100):
        if proc.poll() is not None:
            sys.exit(f"dispatcher exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    sys.exit("dispatcher did not listen")


def publish_bad_path(port, secret):
    """A bundle whose one path holds byte 0xFF: a 400 with a JSON reason (it was a 500
    "out of memory": the reason quoted the byte and was not valid UTF-8)."""
    path = b"tests/\xff.py"
    bundle = bytes([0x81, 0xa0 | len(path)]) + path + bytes([0xc4, 1]) + b"x"
    s = connect(port)
    s.sendall(b"PUT /v1/courses/c/exercises/e HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer "
              + token(secret, "prof", "instructor").encode()
              + f"\r\nContent-Length: {len(bundle)}\r\n\r\n".encode() + bundle)
    r = read_reply(s)
    s.close()
    check(status_of(r) == 400 and "not allowed" in (body_json(r) or {}).get("error", ""),
          f"bundle path with byte 0xFF: 400 with a reason (got {r[:200]!r})")


def run(port, pid, secret):
    publish_bad_path(port, secret)

    # --- header cap ---
    r = get(port, extra=b"X-Pad: " + b"a" * (HEADER_KB * 1024 - 100) + b"\r\n")
    check(status_of(r) in (200, 503) and body_json(r) is not None,
          f"headers just under the cap are served (got {status_of(r)})")
    r = get(port, extra=b"X-Pad: " + b"a" * (HEADER_KB * 1024 + 10) + b"\r\n")
    check(status_of(r) == 431, f"headers over the cap: 431 (got {status_of(r)})")
    check(isinstance(body_json(r), dict) and "error" in body_json(r), "431 has a JSON error")
    r = get(port, extra=b"X-A: b\r\n" * 2000)
    check(status_of(r) == 431, f"many small headers over the cap: 431 (got {status_of(r)})")

    # 64 MiB of one header: the case (32.8 s of CPU and 64 MiB kept before)
    cpu0, rss0 = cpu_s(pid), rss_kb(pid)
    s = connect(port, "127.0.0.4")
    s.settimeout(10)
    sent = 0
    chunk = b"a" * (1 << 20)
    try:
        s.sendall(b"GET /healthz HTTP/1.1\r\nX-Big: ")
        while sent < (64 << 20):
            s.sendall(chunk)
            sent += len(chunk)
    except (BrokenPipeError, ConnectionResetError, socket.timeout):
        pass
    r = read_reply(s)
    s.close()
    time.sleep(0.5)
    cpu1, rss1 = cpu_s(pid), rss_kb(pid)
    check(status_of(r) in (431, 0), f"64 MiB header: 431 or cut (got {status_of(r)})")
    check(sent < (64 << 20), f"64 MiB header: the dispatcher stopped reading ({sent >> 20} MiB sent)")
    check(cpu1 - cpu0 < 1.0, f"64 MiB header: {cpu1 - cpu0:.2f} s of dispatcher CPU (< 1 s)")
    check(rss1 - rss0 < 16 * 1024, f"64 MiB header: RSS grew {(rss1 - rss0) // 1024} MiB (< 16)")

    # --- connection caps: idle connections hold places ---
    a = [connect(port, "127.0.0.1") for _ in range(PER_CLIENT)]
    time.sleep(0.3)
    extra = connect(port, "127.0.0.1")
    r = read_reply(extra)
    extra.close()
    check(status_of(r) == 503, f"connection over the per-client cap: 503 (got {status_of(r)})")
    check(b"retry-after:" in r.lower(), "503 carries Retry-After")
    r = get(port, "127.0.0.2")
    check(status_of(r) in (200, 503) and b"Retry-After: 5\r\nConnection: close" not in r
          and body_json(r) and "redis" in body_json(r),
          "another client is still served while one is at its cap")
    b = [connect(port, "127.0.0.2") for _ in range(CONNS - PER_CLIENT)]
    time.sleep(0.3)
    r = get(port, "127.0.0.3")
    check(status_of(r) == 503 and "too many connections," in (body_json(r) or {}).get("error", ""),
          f"connection over the total cap: 503 (got {r!r})")
    for s in a + b:
        s.close()
    time.sleep(0.8)  # two sweeps
    r = get(port, "127.0.0.3")
    check(status_of(r) in (200, 503) and "redis" in (body_json(r) or {}),
          "closed connections free their places")

    # --- whole-request deadline: one byte every 0.3 s never completes a request ---
    s = connect(port)
    req = b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Slow: " + b"a" * 100
    t0 = time.monotonic()
    cut = None
    for ch in req:
        try:
            s.send(bytes([ch]))
        except OSError:
            cut = time.monotonic() - t0
            break
        time.sleep(0.3)
        try:
            s.settimeout(0.01)
            if s.recv(1) == b"":
                cut = time.monotonic() - t0
                break
        except socket.timeout:
            pass
        except OSError:
            cut = time.monotonic() - t0
            break
        if time.monotonic() - t0 > DEADLINE_S + 5:
            break
    s.close()
    check(cut is not None and cut <= DEADLINE_S + 1.5,
          f"slow request cut at the deadline ({cut if cut is None else round(cut, 1)} s, "
          f"deadline {DEADLINE_S} s)")
    r = get(port)
    check(status_of(r) in (200, 503) and body_json(r) is not None, "served after the slow client")


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        proc, secret = start(sys.argv[1], tmp, port,
                             f"max_header_kb = {HEADER_KB}\nmax_connections = {CONNS}\n"
                             f"max_connections_per_client = {PER_CLIENT}\n"
                             f"request_timeout_s = {DEADLINE_S}\n"
                             "[kafka]\nbrokers = 127.0.0.1:9\n[redis]\naddress = 127.0.0.1:9\n")
        try:
            wait_port(port, proc)
            run(port, proc.pid, secret)
            check(proc.poll() is None, "dispatcher still running")
        finally:
            stop(proc)
    finish()


if __name__ == "__main__":
    main()
