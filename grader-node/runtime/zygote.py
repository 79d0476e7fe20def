"""The zygote: one per node slot, the warm start of every job's two processes.

Started by the node (grader-node/zygote_client.c) as root, with a clean environment,
in the node's private mount namespace:

    <venv>/bin/python -s -B -P zygote.py --control FD --jail-lib PATH [--warm] [--once]

--warm imports marimo, pytest, numpy and the runtime once, freezes the garbage
collector's view of them, and then forks each job's processes from that state (a job
costs a fork and the sandbox set-up, not an interpreter start and ~0.5 s of imports).
Without --warm nothing is pre-imported (the cold runner: every process imports what it
needs). --once ends after one job.

Nothing of a job runs in this process: it only forks. Each forked process enters a
sandbox of its own before any of the job's code runs (jail.c via gqjail.py: fresh
mount/pid/ipc/net/uts/cgroup namespaces, the job's cgroup, a minimal read-only view,
fresh tmpfs /tmp and /dev/shm, rlimits, its uid, no capabilities, no_new_privs, seccomp),
so what one job changes (files, modules, globals, SysV IPC, abstract sockets) is gone for
the next one, which starts from this untouched process again. The zygote is root and
the job's processes are not, and they live in pid namespaces where it does not exist:
they cannot signal, ptrace or open a pidfd on it.

Control protocol (SOCK_SEQPACKET, node <-> zygote; one JSON object per message):
    zygote -> node   {"op": "ready", "pid": N, "warm": bool}       once, after start-up
    node -> zygote   {"op": "job", ...} + SCM_RIGHTS [result fd, output fd]
    zygote -> node   {"op": "done", "name": ..., "status": wait status of the tests
                      process, "students": processes started, "oom": bool}
                  or {"op": "done", "name": ..., "infra": reason}
The job object: name, mode ("grade" | "collect"), isolation ("two-process" |
"in-process"), call_timeout_s, safety_check, venv, runtime, tmp_mb, limits {cpu_s, as_mb,
nofile, nproc, fsize_mb, stack_mb}, cgroup_procs [paths], cgroup_dirs [paths],
student {work, uid, gid}, tests {work, tests, uid, gid}.
"""

from __future__ import annotations

import array
import ctypes
import fcntl
import gc
import json
import os
import select
import signal
import socket
import struct
import sys
import time
from typing import Any, Callable

RUNTIME = os.path.dirname(os.path.abspath(__file__))
SBX_RUNTIME = "/gradeq/runtime"  # where jail.c binds the runtime directory
MSG_MAX = 64 * 1024
EXIT_JAIL = 120    # a process could not enter its sandbox: infrastructure
ENDED_WAIT_S = 10  # for the status of a student process whose channel ended
PR_SET_PDEATHSIG = 1

_libc = ctypes.CDLL(None, use_errno=True)


def log(msg: str) -> None:
    try:
        os.write(2, f"gradeq-zygote[{os.getpid()}]: {msg}\n".encode("utf-8", "replace"))
    except OSError:
        pass


def warm_imports() -> None:
    """Everything a job's processes use, imported once here."""
    import numpy  # noqa: F401,PLC0415
    import msgpack  # noqa: F401,PLC0415
    import pytest  # noqa: F401,PLC0415
    import _pytest.config  # noqa: PLC0415
    for name in _pytest.config.default_plugins:
        try:
            __import__(f"_pytest.{name}")
        except ImportError:
            pass
    import marimo  # noqa: F401,PLC0415
    import logging  # noqa: PLC0415
    # marimo opens a log file under $HOME and keeps it: a channel from one job to the
    # next. Its file handlers go; nothing of a job is logged by marimo.
    for lg in [logging.getLogger("marimo"),
               *[x for x in logging.Logger.manager.loggerDict.values()
                 if isinstance(x, logging.Logger)]]:
        for h in list(lg.handlers):
            if isinstance(h, logging.FileHandler):
                lg.removeHandler(h)
                h.close()
    import gqwire, harness, proxy, student  # noqa: F401,E401,PLC0415
    warm_up(harness, student)
    import mog_trusted  # noqa: PLC0415 - mograder exercises: marimo's parser, once
    mog_trusted.warm_up()
    harness.prepare_pytest()
    # marimo's App() calls inspect.stack(), whose getmodule() walks sys.modules the
    # first time: once here, and the children inherit the filled cache
    import inspect  # noqa: PLC0415
    inspect.stack()
    # the unraisable-exception plugin runs gc.collect() several times per pytest
    # session: over a frozen heap that costs nothing
    gc.collect()
    gc.freeze()


WARM_NOTEBOOK = """import marimo
app = marimo.App()

@app.function
def f(x):
    return [x, (x,), {x: 1.5}]

@app.cell
def _():
    import numpy as np
    return (np,)
"""
WARM_TEST = """import pytest
from warm_nb import f

@pytest.mark.points(2)
@pytest.mark.parametrize("x", [1, 2])
def test_f(x, capsys, tmp_path):
    print(x)
    assert f(x)[0] == pytest.approx(x)
    with pytest.raises(ValueError):
        int("x")
"""


def warm_up(harness: Any, student: Any) -> None:
    """Runs our own tiny notebook and test session once, so that what marimo and pytest
    build lazily on first use (compiled regexes, caches, lazily imported modules) is in
    the zygote's memory and every job starts with it. Nothing of a job is involved."""
    import tempfile  # noqa: PLC0415
    with tempfile.TemporaryDirectory(prefix="gradeq-warm-") as d:
        with open(os.path.join(d, "warm_nb.py"), "w") as f:
            f.write(WARM_NOTEBOOK)
        os.mkdir(os.path.join(d, "t"))
        with open(os.path.join(d, "t", "test_warm.py"), "w") as f:
            f.write(WARM_TEST)
        student.speed_up_marimo()
        mod = student.import_submission(os.path.join(d, "warm_nb.py"))
        sys.modules["warm_nb"] = mod

        class Quiet:
            final = False

            def send(self, record: dict) -> None:
                pass

        import pytest  # noqa: PLC0415
        out, err = sys.stdout, sys.stderr
        try:
            harness.run_pytest(pytest, os.path.join(d, "t"), harness.make_plugin(Quiet(), pytest))
        finally:
            sys.stdout, sys.stderr = out, err
        for name in ("warm_nb", "submission", "test_warm"):
            sys.modules.pop(name, None)
        sys.path[:] = [p for p in sys.path if not p.startswith(d)]


# -- the per-process sandbox --------------------------------------------------------------

def _move_fds(fdmap: dict[int, int]) -> None:
    """dup2 sources onto target numbers (target -> source), safe against overlaps."""
    tmp = {t: os.dup(s) for t, s in fdmap.items()}
    for t, s in tmp.items():
        os.dup2(s, t, inheritable=True)
    for s in tmp.values():
        if s not in fdmap:
            os.close(s)


def _oom_kills(dirs: list[str]) -> int:
    total = 0
    for d in dirs:
        for fn in ("memory.events", "memory.oom_control"):
            try:
                with open(os.path.join(d, fn)) as f:
                    for line in f:
                        k, _, v = line.partition(" ")
                        if k == "oom_kill":
                            total += int(v)
            except (OSError, ValueError):
                continue
    return total


def _stat_of(path: str) -> dict[str, int]:
    out = {}
    try:
        with open(path) as f:
            for line in f:
                k, _, v = line.partition(" ")
                if v.strip().isdigit():
                    out[k] = int(v)
    except OSError:
        pass
    return out


def _read_int(path: str) -> int | None:
    try:
        with open(path) as f:
            v = f.read().strip()
    except OSError:
        return None
    return int(v) if v.isdigit() else None


def _memory_full(dirs: list[str]) -> bool:
    """What the job holds that cannot be reclaimed without swap (anonymous memory and
    tmpfs pages) fills its memory limit to within an eighth (at least 16 MiB)."""
    for d in dirs:
        limit = _read_int(os.path.join(d, "memory.max"))
        if limit is not None:  # v2
            st = _stat_of(os.path.join(d, "memory.stat"))
            held = st.get("anon", 0) + st.get("shmem", 0)
        else:
            limit = _read_int(os.path.join(d, "memory.limit_in_bytes"))
            if limit is None:
                continue
            st = _stat_of(os.path.join(d, "memory.stat"))
            held = st.get("total_rss", st.get("rss", 0)) + \
                st.get("total_shmem", st.get("shmem", 0))
        if limit <= 0 or limit >= 1 << 60:
            continue
        return held >= limit - max(limit // 8, 16 << 20)
    return False


class Job:
    def __init__(self, jail: Any, job: dict, result_fd: int, output_fd: int) -> None:
        self.jail, self.job = jail, job
        self.result_fd, self.output_fd = result_fd, output_fd
        self.devnull = os.open("/dev/null", os.O_RDWR | os.O_CLOEXEC)
        self.student: dict | None = None  # pid, pidfd, t_w, t_r
        self.students = 0
        self.cpu = {"tests": 0, "student": 0}  # microseconds, of the sandboxed processes
        self.oom_base = _oom_kills(job.get("cgroup_dirs", []))

    # one sandboxed process
    def launch(self, role: str, fdmap: dict[int, int], body: Callable[[], None],
               oom_adj: int) -> tuple[int, int, int]:
        """Forks a process into its own sandbox, running body() there.

        Two processes: C1 (ours, outside the sandbox) joins the job's cgroup, makes the
        namespaces and forks C2, pid 1 of the new pid namespace, which enters the jail
        and runs body(). C1 stays: it reports C2's pid and, when C2 has ended, its wait
        status on a pipe, and it is what we kill (C2 has a parent-death SIGKILL tied to
        it, set by the jail; C1 has one tied to us). Returns (C1's pid, its pidfd, the
        read end of the report pipe)."""
        j = self.job
        side = j["student"] if role == "student" else j["tests"]
        r, w = os.pipe()
        pid1 = os.fork()
        if pid1 == 0:
            code = EXIT_JAIL
            try:
                os.close(r)
                _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
                os.setsid()
                high = fcntl.fcntl(w, fcntl.F_DUPFD_CLOEXEC, 64)  # clear of the targets
                os.close(w)
                w = high
                _move_fds(fdmap)
                self.jail.cgroup_join(j.get("cgroup_procs", []))
                if oom_adj:
                    # the student process goes first when the job's memory runs out; the
                    # tests process stays at the default (lowering it needs
                    # CAP_SYS_RESOURCE, which a container's root may lack)
                    with open("/proc/self/oom_score_adj", "w") as f:
                        f.write(str(oom_adj))
                self.jail.unshare()
                pid2 = os.fork()
                if pid2 == 0:
                    os.close(w)
                    lim = j.get("limits", {})
                    self.jail.enter(
                        venv=j["venv"], runtime=j["runtime"], work=side["work"],
                        tests=side.get("tests"), hostname="sandbox",
                        uid=side["uid"], gid=side["gid"], tmp_mb=j.get("tmp_mb", 64),
                        cpu_s=lim.get("cpu_s", 0), as_mb=lim.get("as_mb", 0),
                        nofile=lim.get("nofile", 0), nproc=lim.get("nproc", 0),
                        fsize_mb=lim.get("fsize_mb", 0), stack_mb=lim.get("stack_mb", 0),
                        keep_fds=sorted(fdmap))
                    # the runtime is at SBX_RUNTIME in the sandbox (lazy imports of the cold
                    # runner find it there)
                    sys.path[:] = [SBX_RUNTIME] + [p for p in sys.path if p != RUNTIME]
                    code = 3
                    body()
                    os._exit(3)
                # C1: nothing of the job stays open here but the report pipe
                os.closerange(0, w)
                os.closerange(w + 1, 65536)
                os.write(w, struct.pack("=i", pid2))
                while True:
                    try:
                        _, st, ru = os.wait4(pid2, 0)
                        break
                    except InterruptedError:
                        continue
                cpu_us = int((ru.ru_utime + ru.ru_stime) * 1e6)
                os.write(w, struct.pack("=iq", st, cpu_us))
                code = 0
            except BaseException as e:  # noqa: BLE001
                try:
                    os.write(2, f"gradeq-zygote: {role} sandbox: {e}\n".encode())
                except BaseException:  # noqa: BLE001
                    pass
            os._exit(code)
        os.close(w)
        data = _read_exact(r, 4)
        if len(data) != 4:
            _, st = os.waitpid(pid1, 0)
            os.close(r)
            raise OSError(f"the {role} sandbox could not be set up "
                          f"({describe(st)}; see the job output)")
        return pid1, os.pidfd_open(pid1), r

    def reap(self, pid1: int, pidfd: int, report: int, role: str) -> int:
        """Waits for C1 and returns the wait status of the sandboxed process (C1's own
        when it died before it could say); adds the process's CPU time to self.cpu."""
        data = _read_exact(report, 12)
        _, st1 = os.waitpid(pid1, 0)
        os.close(report)
        os.close(pidfd)
        if len(data) != 12:
            return st1
        st, cpu_us = struct.unpack("=iq", data)
        self.cpu[role] += cpu_us
        return st

    # the student process, on demand
    def spawn_student(self) -> None:
        t_w_req_r, t_w = os.pipe()   # tests -> student requests
        t_r, s_w = os.pipe()         # student -> tests replies
        try:
            import student  # noqa: PLC0415
            cap = self.job.get("output_cap", 0)
            if type(cap) is int and cap > 0:
                student.OUTPUT_CAP = cap
            body = student.main
            if self.job.get("kind") == "mograder":  # the notebook runs cell by cell
                import mog_student  # noqa: PLC0415
                mog_student.CELL_TIMEOUT = float(self.job.get("call_timeout_s", 10))
                body = mog_student.main
            pid, pidfd, report = self.launch("student",
                                     {0: self.devnull, 1: self.output_fd, 2: self.output_fd,
                                      student.REQ_FD: t_w_req_r, student.RESP_FD: s_w},
                                     body, 1000)
        finally:
            os.close(t_w_req_r)
            os.close(s_w)
        self.students += 1
        self.student = {"pid": pid, "pidfd": pidfd, "report": report, "t_w": t_w, "t_r": t_r}

    def kill_student(self, ended: bool = False) -> str:
        """Ends the current student process and says how it ended: "dead:<how>:<oom>".
        ended: the tests side saw its channel end (end of file, a broken pipe), so the
        process is dying or dead on its own and its status is on the way: it is waited
        for (up to ENDED_WAIT_S, then killed: it may have closed its channel and live
        on) instead of killed over, which would report our SIGKILL instead of what
        ended it. Otherwise (a hang, a broken channel) it gets a moment, then SIGKILL."""
        s, self.student = self.student, None
        if s is None:
            return "dead:gone:0"
        for fd in (s["t_w"], s["t_r"]):
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
        # C1 reports the status once it has reaped the process; on a slow or loaded
        # machine that can take far longer than a moment
        wait = ENDED_WAIT_S if ended else 0.2
        dead, _, _ = select.select([s["report"]], [], [], wait)
        # before the kill frees it: a call that hung while the job's memory was pinned
        # at its limit (thrashing instead of an OOM kill) ran out of memory, not time
        full = not dead and _memory_full(self.job.get("cgroup_dirs", []))
        if not dead:
            try:
                signal.pidfd_send_signal(s["pidfd"], signal.SIGKILL)
            except OSError:
                pass
        st = self.reap(s["pid"], s["pidfd"], s["report"], "student")
        kills = _oom_kills(self.job.get("cgroup_dirs", []))
        oom = kills > self.oom_base or full
        self.oom_base = kills
        return f"dead:{describe(st)}:{1 if oom else 0}"

    def serve_ctl(self, sock: socket.socket) -> bool:
        """One request of the tests process. False when it closed its end."""
        try:
            req = sock.recv(16)
        except OSError:
            return False
        if not req:
            return False
        if req == b"S":
            try:
                if self.student is None or self.student["t_w"] < 0:
                    if self.student is not None:
                        self.kill_student()
                    self.spawn_student()
                s = self.student
                assert s is not None
                sock.sendmsg([b"ok"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                                        array.array("i", [s["t_w"], s["t_r"]]))])
                os.close(s["t_w"])
                os.close(s["t_r"])
                s["t_w"] = s["t_r"] = -1  # handed over: the next "S" starts a fresh one
            except OSError as e:
                sock.send(f"fail:{e}".encode()[:200])
        elif req in (b"K", b"E"):
            sock.send(self.kill_student(ended=req == b"E").encode())
        else:
            sock.send(b"fail:unknown request")
        return True

    def run(self) -> dict:
        j = self.job
        import harness  # noqa: PLC0415
        two = j.get("isolation") == "two-process" and j.get("mode") == "grade"
        args = ["--tests", "/gradeq/tests", "--work", "/work"]
        if j.get("mode") == "collect":
            args.append("--collect")
        elif two:
            args += ["--two-process", "--call-timeout", str(float(j.get("call_timeout_s", 10)))]
        if j.get("safety_check") and j.get("mode") != "collect":
            args.append("--safety-check")
        if j.get("kind") == "mograder":
            args.append("--mograder")
            import mog_trusted  # noqa: PLC0415 - the source parsed once per content, here
            mog_trusted.preload(str(j["tests"].get("tests", "")))
        sup, tctl = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            fdmap = {0: self.devnull, 1: self.output_fd, 2: self.output_fd,
                     harness.RESULT_FD: self.result_fd}
            if two:
                fdmap[4] = tctl.fileno()
            t_pid, t_pidfd, t_report = self.launch("tests", fdmap, lambda: harness.entry(args), 0)
        except OSError as e:
            sup.close()
            tctl.close()
            return {"infra": str(e)}
        tctl.close()
        os.close(self.result_fd)
        self.result_fd = -1
        if two:
            try:
                self.spawn_student()  # starts importing while the tests process starts
            except OSError as e:
                log(f"{j.get('name')}: student process: {e}")
        status = None
        watch = [t_pidfd, sup.fileno()] if two else [t_pidfd]
        while status is None:
            ready, _, _ = select.select(watch, [], [])
            if sup.fileno() in ready and not self.serve_ctl(sup):
                watch = [t_pidfd]
            if t_pidfd in ready:
                status = self.reap(t_pid, t_pidfd, t_report, "tests")
        sup.close()
        if self.student is not None:
            self.kill_student()
        oom = _oom_kills(j.get("cgroup_dirs", [])) > 0
        return {"status": status, "students": self.students, "oom": oom,
                "cpu_tests_us": self.cpu["tests"], "cpu_student_us": self.cpu["student"]}

    def close(self) -> None:
        for fd in (self.result_fd, self.output_fd, self.devnull):
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass


def _read_exact(fd: int, n: int) -> bytes:
    data = b""
    while len(data) < n:
        try:
            chunk = os.read(fd, n - len(data))
        except InterruptedError:
            continue
        if not chunk:
            break
        data += chunk
    return data


def describe(st: int) -> str:
    if os.WIFSIGNALED(st):
        n = os.WTERMSIG(st)
        try:
            name = signal.Signals(n).name
        except ValueError:
            name = str(n)
        return f"killed by signal {n} ({name})"
    if os.WIFEXITED(st):
        return f"exited with status {os.WEXITSTATUS(st)}"
    return f"status {st}"


# -- the control loop ---------------------------------------------------------------------

def recv_job(ctl: socket.socket) -> tuple[dict | None, list[int]]:
    fds = array.array("i")
    msg, anc, _flags, _addr = ctl.recvmsg(MSG_MAX, socket.CMSG_LEN(4 * fds.itemsize))
    for level, kind, data in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(data[: len(data) - (len(data) % fds.itemsize)])
    if not msg:
        for fd in fds:
            os.close(fd)
        return None, []
    return json.loads(msg), list(fds)


def serve(ctl: socket.socket, jail: Any, warm: bool, once: bool) -> int:
    ctl.send(json.dumps({"op": "ready", "pid": os.getpid(), "warm": warm}).encode())
    while True:
        try:
            job, fds = recv_job(ctl)
        except (OSError, ValueError) as e:
            log(f"control channel: {e}")
            return 1
        if job is None:
            return 0
        name = str(job.get("name", ""))[:100]
        if job.get("op") != "job" or len(fds) != 2:
            for fd in fds:
                os.close(fd)
            ctl.send(json.dumps({"op": "done", "name": name,
                                 "infra": "malformed job message"}).encode())
            continue
        t0 = time.monotonic()
        runner = Job(jail, job, fds[0], fds[1])
        try:
            out = runner.run()
        except Exception as e:  # noqa: BLE001 - reported to the node, never fatal here
            out = {"infra": f"zygote: {type(e).__name__}: {e}"}
        finally:
            runner.close()
        out.update({"op": "done", "name": name, "ms": int((time.monotonic() - t0) * 1000)})
        ctl.send(json.dumps(out).encode())
        if once:
            return 0


def main(argv: list[str]) -> int:
    ctl_fd, jail_lib, warm, once = -1, None, False, False
    it = iter(argv)
    for a in it:
        if a == "--control":
            ctl_fd = int(next(it, "-1"))
        elif a == "--jail-lib":
            jail_lib = next(it, None)
        elif a == "--warm":
            warm = True
        elif a == "--once":
            once = True
        else:
            log(f"unknown argument {a!r}")
            return 2
    if ctl_fd < 0 or not jail_lib:
        log("usage: zygote.py --control FD --jail-lib PATH [--warm] [--once]")
        return 2
    sys.path.insert(0, RUNTIME)
    sys.dont_write_bytecode = True
    import gqjail  # noqa: PLC0415
    jail = gqjail.load(jail_lib)
    # the zygote ends with the node; what a job left goes with the job's cgroup
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() == 1:
        return 1
    for fd in range(3, 1024):  # nothing of the node's but the control socket
        if fd != ctl_fd:
            try:
                os.close(fd)
            except OSError:
                pass
    ctl = socket.socket(fileno=ctl_fd)
    os.chdir("/")  # a directory every sandbox has (prepared pytest config remembers it)
    if warm:
        warm_imports()
    return serve(ctl, jail, warm, once)


if __name__ == "__main__":
    try:
        rc = main(sys.argv[1:])
    except BaseException as e:  # noqa: BLE001
        log(f"fatal: {type(e).__name__}: {e}")
        rc = 1
    os._exit(rc)
