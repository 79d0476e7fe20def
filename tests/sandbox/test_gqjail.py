"""The ctypes binding of the warm runtime's jail (grader-node/runtime/gqjail.py).

Runs the zygote's sequence from Python, as the runtime will: fork; the child joins no
cgroup, unshare()s and forks; the grandchild (pid 1 of the new pid namespace) enter()s
and checks, from inside, what the sandbox promises, reporting JSON over a kept pipe.

Needs root and the built library:

    GRADEQ_JAIL_LIB=build/grader-node/libgradeq-jail.so \\
        /opt/gradeq/venv/bin/python -m pytest -q tests/sandbox/test_gqjail.py

Without them the tests skip, except under CI=true where that is a failure.
"""
from __future__ import annotations

import ctypes
import errno
import json
import os
import re
import select
import signal
import socket
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
RUNTIME = Path(os.environ.get("GRADEQ_RUNTIME_DIR", HERE.parents[1] / "grader-node" / "runtime"))
LIB = os.environ.get("GRADEQ_JAIL_LIB", "")
UID = 60951  # apart from test_jail.c's 60950 and the runner's 61000+
TIMEOUT = 60

sys.path.insert(0, str(RUNTIME))
import gqjail  # noqa: E402


def need(ok: bool, why: str) -> None:
    if ok:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"missing prerequisite under CI=true: {why}")
    pytest.skip(why)


@pytest.fixture
def jail() -> gqjail.Jail:
    need(os.geteuid() == 0, "needs root")
    need(bool(LIB) and os.path.exists(LIB), "GRADEQ_JAIL_LIB not set to the built library")
    return gqjail.load(LIB)


@pytest.fixture
def dirs(tmp_path: Path) -> dict[str, str]:
    work = tmp_path / "work"
    tests = tmp_path / "tests"
    work.mkdir(mode=0o700)
    tests.mkdir()
    (tests / "test_hidden.py").write_text("def test_x():\n    assert True\n")
    (work / "submission.py").write_text("x = 1\n")
    os.chown(work, UID, UID)
    return {"work": str(work), "tests": str(tests)}


def in_jail(jail: gqjail.Jail, check, **params) -> dict:
    """Runs check() in a fresh sandbox made with params; returns what it reported."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # C1
        try:
            os.close(r)
            jail.unshare()
            pid2 = os.fork()
            if pid2 == 0:  # C2
                try:
                    extra_r, extra_w = os.pipe()  # not kept: must be closed inside
                    try:
                        jail.enter(keep_fds=[w, *params.pop("keep_fds", [])], **params)
                    except OSError as e:
                        out = {"enter_errno": e.errno, "enter_error": e.strerror}
                    else:
                        out = check()
                        out["extra_fds_closed"] = all(
                            not _fd_open(fd) for fd in (extra_r, extra_w))
                    os.write(w, json.dumps(out).encode())
                    os._exit(0)
                except BaseException as e:  # noqa: BLE001 - reported to the test
                    os.write(w, json.dumps({"exception": repr(e)}).encode())
                    os._exit(1)
            os.close(w)
            _, st = os.waitpid(pid2, 0)
            os._exit(os.WEXITSTATUS(st) if os.WIFEXITED(st) else 128 + os.WTERMSIG(st))
        except BaseException as e:  # noqa: BLE001
            os.write(w, json.dumps({"exception": "C1: " + repr(e)}).encode())
            os._exit(1)
    os.close(w)
    data = b""
    deadline = time.monotonic() + TIMEOUT
    try:
        while True:
            left = deadline - time.monotonic()
            assert left > 0, "no report from the jail in time"
            ready, _, _ = select.select([r], [], [], left)
            if not ready:
                continue
            chunk = os.read(r, 65536)
            if not chunk:
                break
            data += chunk
    finally:
        os.close(r)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)
    assert data, "the jailed process died without a report"
    out = json.loads(data)
    assert "exception" not in out, out["exception"]
    return out


def _fd_open(fd: int) -> bool:
    try:
        os.fstat(fd)
        return True
    except OSError:
        return False


def _errno_of(fn) -> int:
    try:
        fn()
    except OSError as e:
        return e.errno
    return 0


def _libc_errno(call) -> int:
    libc = ctypes.CDLL(None, use_errno=True)
    rc = call(libc)
    return 0 if rc == 0 else ctypes.get_errno()


def base_params(dirs: dict[str, str], **over) -> dict:
    p = dict(uid=UID, gid=UID, venv=sys.prefix, work=dirs["work"], tests=dirs["tests"],
             tmp_mb=8, nofile=256, nproc=64, cpu_s=60, fsize_mb=16)
    p.update(over)
    return p


def check_tests_process() -> dict:
    import numpy  # a fresh import inside: the venv's extension modules load from the view

    def connect():
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.connect(("127.0.0.1", 6379))

    Path("/work/out.txt").write_text("written\n")
    return {
        "pid": os.getpid(),
        "uid": os.getuid(),
        "gid": os.getgid(),
        "cwd": os.getcwd(),
        "numpy": int(numpy.arange(4).sum()),
        "usr_write": _errno_of(lambda: open("/usr/gq-probe", "w")),
        "venv_write": _errno_of(lambda: open(os.path.join(sys.prefix, "gq-probe"), "w")),
        "root_write": _errno_of(lambda: open("/gq-probe", "w")),
        "absent": [p for p in ("/etc/passwd", "/root", "/home", "/etc/gradeq", "/var")
                   if os.path.lexists(p)],
        "tests": sorted(os.listdir("/gradeq/tests")),
        "connect": _errno_of(connect),
        "userns": _libc_errno(lambda libc: libc.unshare(0x10000000)),  # CLONE_NEWUSER
        "mount": _libc_errno(lambda libc: libc.mount(b"none", b"/tmp", b"tmpfs", 0, None)),
        "proc": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()),
        "nofile": list(__import__("resource").getrlimit(__import__("resource").RLIMIT_NOFILE)),
        "status": {k: v.strip() for k, v in (
            line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines()
        ) if k in ("CapEff", "CapPrm", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp")},
    }


def test_abi(jail):
    assert jail.abi().startswith("gradeq-jail ")
    assert jail.abi().endswith(f" abi {gqjail.ABI}")


def test_probe(jail):
    jail.probe(uid=UID, gid=UID, venv=sys.prefix)
    with pytest.raises(OSError) as ei:
        jail.probe(uid=UID, gid=UID, venv="relative")
    assert ei.value.errno == errno.EINVAL


def test_tests_process(jail, dirs):
    out = in_jail(jail, check_tests_process, **base_params(dirs))
    assert out.get("enter_error") is None, out
    assert out["pid"] == 1
    assert (out["uid"], out["gid"]) == (UID, UID)
    assert out["cwd"] == "/work"
    assert out["numpy"] == 6
    assert out["usr_write"] == errno.EROFS
    assert out["venv_write"] == errno.EROFS
    assert out["root_write"] == errno.EROFS
    assert out["absent"] == []
    assert out["tests"] == ["test_hidden.py"]
    assert out["connect"] == errno.ENETUNREACH
    assert out["userns"] == errno.EPERM
    assert out["mount"] == errno.EPERM
    assert out["proc"] == [1]
    assert out["nofile"] == [256, 256]
    st = out["status"]
    for k in ("CapEff", "CapPrm", "CapBnd", "CapAmb"):
        assert int(st[k], 16) == 0, (k, st[k])
    assert st["NoNewPrivs"] == "1" and st["Seccomp"] == "2"
    assert out["extra_fds_closed"]
    assert (Path(dirs["work"]) / "out.txt").read_text() == "written\n"


def test_student_process_has_no_tests(jail, dirs):
    def check():
        return {"gradeq": os.path.exists("/gradeq"), "sub": Path("submission.py").read_text()}

    out = in_jail(jail, check, **base_params(dirs, tests=None))
    assert out.get("enter_error") is None, out
    assert out["gradeq"] is False
    assert out["sub"] == "x = 1\n"


def test_runtime_works_inside(jail, dirs):
    # What a submission or pytest may legitimately do: a subprocess of the venv's python
    # (exec from the read-only venv and /usr), multiprocessing (fork, semaphores in
    # /dev/shm), temporary files in /tmp.
    def check():
        import multiprocessing
        import subprocess
        import tempfile

        r = subprocess.run([sys.executable, "-c", "import numpy; print(numpy.__name__)"],
                           capture_output=True, text=True, timeout=60)
        with multiprocessing.get_context("fork").Pool(2) as pool:
            squares = pool.map(abs, [-1, -2, -3])
        with tempfile.NamedTemporaryFile("w") as f:
            f.write("x")
            tmp = os.path.dirname(f.name)
        return {"sub": [r.returncode, r.stdout.strip(), r.stderr[-300:]], "pool": squares,
                "tmp": tmp, "cpus": os.cpu_count()}

    out = in_jail(jail, check, **base_params(dirs))
    assert out.get("enter_error") is None, out
    assert out["sub"][:2] == [0, "numpy"], out["sub"]
    assert out["pool"] == [1, 2, 3]
    assert out["tmp"] == "/tmp"
    assert out["cpus"] and out["cpus"] >= 1


def test_kept_fd_survives(jail, dirs):
    keep_r, keep_w = os.pipe()
    try:
        def check():
            os.write(keep_w, b"through")
            return {}

        out = in_jail(jail, check, keep_fds=[keep_w], **base_params(dirs))
        assert out.get("enter_error") is None, out
        assert out["extra_fds_closed"]
        assert os.read(keep_r, 100) == b"through"
    finally:
        os.close(keep_r)
        os.close(keep_w)


def test_enter_failure_is_an_oserror(jail, dirs):
    out = in_jail(jail, lambda: {}, **base_params(dirs, uid=0))
    assert out["enter_errno"] == errno.EINVAL
    assert "uid" in out["enter_error"]


def test_enter_outside_a_new_pid_namespace_is_refused(jail, dirs):
    # In a plain child (not pid 1 of a new namespace): refused before anything changes.
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            jail.enter(**base_params(dirs))
            os.write(w, b"entered")
        except OSError as e:
            os.write(w, f"{e.errno} {e.strerror}".encode())
        os._exit(0)
    os.close(w)
    msg = os.read(r, 1000).decode()
    os.close(r)
    os.waitpid(pid, 0)
    assert msg.startswith(f"{errno.EINVAL} "), msg
    assert "pid 1" in msg


def test_cgroup_join_refuses_a_path_that_is_not_cgroup_procs(jail):
    with pytest.raises(OSError) as ei:
        jail.cgroup_join(["/sys/fs/cgroup/tasks"])
    assert ei.value.errno == errno.EINVAL
    jail.cgroup_join([])  # nothing to do


def test_params_struct_mirrors_the_header():
    # The ctypes layout must match struct gq_jail_params on this ABI (LP64).
    names = [f[0] for f in gqjail.JailParams._fields_]
    header = (RUNTIME.parent / "jail.h").read_text()
    body = header[header.index("struct gq_jail_params {"):]
    body = re.sub(r"/\*.*?\*/", "", body[body.index("{") + 1:body.index("};")], flags=re.S)
    order = re.findall(r"(\w+)\s*[,;]", body)
    assert names == order
    if ctypes.sizeof(ctypes.c_void_p) == 8:
        # version + padding, 5 pointers, 9 unsigneds + padding, keep_fds, nkeep + padding
        assert ctypes.sizeof(gqjail.JailParams) == 8 + 5 * 8 + 40 + 8 + 8
