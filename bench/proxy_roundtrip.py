#!/usr/bin/env python3
"""The round trip of one proxied call: a hidden test calling a student function through
the two-process runtime's channel, against calling the same function in-process.

    /opt/gradeq/venv/bin/python bench/proxy_roundtrip.py [--calls N]

Both sides are the runtime's own code (grader-node/runtime/proxy.py on the tests side,
student.py serving a notebook), connected by the same pipes a job uses, in two
processes; the sandbox around them is left out (it adds nothing per call: the pipes are
the same). A stand-in supervisor hands the tests side its student process, as the zygote
does. Prints microseconds per call for several argument shapes, and the ratio to a
direct call. Goal: <= 30 us for a small call.
"""
from __future__ import annotations

import argparse
import array
import os
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

RUNTIME = Path(__file__).resolve().parents[1] / "grader-node" / "runtime"
sys.path.insert(0, str(RUNTIME))

NOTEBOOK = '''import marimo
app = marimo.App()

@app.function
def ident(x):
    return x

@app.function
def add(a, b):
    return a + b
'''


def start_student(path: str) -> tuple[int, int, int]:
    """Forks a student process serving the notebook; returns (pid, req_w, resp_r)."""
    import student  # noqa: PLC0415
    req_r, req_w = os.pipe()
    resp_r, resp_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.dup2(req_r, student.REQ_FD)
        os.dup2(resp_w, student.RESP_FD)
        for fd in (req_r, req_w, resp_r, resp_w):
            if fd not in (student.REQ_FD, student.RESP_FD):
                os.close(fd)
        os._exit(student.serve(path))
    os.close(req_r)
    os.close(resp_w)
    return pid, req_w, resp_r


def supervisor(sock: socket.socket, fds: tuple[int, int]) -> None:
    """Answers "S" once with the student's pipe ends, as zygote.py does."""
    while True:
        req = sock.recv(16)
        if not req:
            return
        if req == b"S":
            sock.sendmsg([b"ok"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                                    array.array("i", list(fds)))])
        else:
            sock.send(b"dead:gone:0")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--calls", type=int, default=20000)
    a = ap.parse_args()
    import proxy  # noqa: PLC0415
    with tempfile.TemporaryDirectory() as d:
        nb = os.path.join(d, "submission.py")
        Path(nb).write_text(NOTEBOOK)
        pid, req_w, resp_r = start_student(nb)
        sup, tside = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        threading.Thread(target=supervisor, args=(sup, (req_w, resp_r)), daemon=True).start()
        chan = proxy.Channel(10.0, ctl_fd=tside.detach())
        names = chan.start(10.0)
        mod = proxy.SubmissionModule(chan, names)
        ident, add = mod.ident, mod.add

        def local_ident(x):
            return x

        cases = [("ident(1)", lambda: ident(1), lambda: local_ident(1)),
                 ("add(2, 3)", lambda: add(2, 3), lambda: local_ident(5)),
                 ("ident(list of 100 ints)", lambda: ident(list(range(100))),
                  lambda: local_ident(list(range(100)))),
                 ("ident('x' * 1000)", lambda: ident("x" * 1000), lambda: local_ident("x" * 1000))]
        print(f"{'call':<28} {'proxied us':>11} {'direct us':>10} {'ratio':>8}")
        worst_small = 0.0
        for name, remote, local in cases:
            for _ in range(200):  # warm
                remote()
            t0 = time.perf_counter()
            for _ in range(a.calls):
                remote()
            us = (time.perf_counter() - t0) / a.calls * 1e6
            t0 = time.perf_counter()
            for _ in range(a.calls):
                local()
            lus = (time.perf_counter() - t0) / a.calls * 1e6
            print(f"{name:<28} {us:>11.1f} {lus:>10.2f} {us / lus:>8.0f}x")
            if name in ("ident(1)", "add(2, 3)"):
                worst_small = max(worst_small, us)
        if chan.cur is not None:  # the channel holds its own copies of the pipe ends
            chan.cur.close()
        os.close(req_w)
        os.close(resp_r)
        os.waitpid(pid, 0)
    print(f"small call round trip: {worst_small:.1f} us (goal <= 30 us): "
          f"{'met' if worst_small <= 30 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
