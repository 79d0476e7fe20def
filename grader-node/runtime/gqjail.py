"""ctypes binding of libgradeq-jail.so (grader-node/jail.h): the per-job sandbox.

The zygote forks, and for one sandboxed process runs::

    jail = gqjail.load("/usr/local/lib/libgradeq-jail.so")
    pid = os.fork()
    if pid == 0:                                  # C1
        jail.cgroup_join(["/sys/fs/cgroup/.../job/cgroup.procs"])
        jail.unshare()
        pid2 = os.fork()
        if pid2 == 0:                             # C2: pid 1 of the new pid namespace
            jail.enter(venv=..., work=..., tests=None, uid=..., gid=..., keep_fds=[w])
            ...                                   # sandboxed from here on
        _, st = os.waitpid(pid2, 0)
        os._exit(os.WEXITSTATUS(st) if os.WIFEXITED(st) else 128 + os.WTERMSIG(st))

Every call raises OSError(errno, reason) on failure. After a failed enter() the process
is half-built and must only os._exit().

enter() closes every descriptor >= 3 that is not in keep_fds. A Python object that still
owns one (a file, a socket, a pipe end) must be dropped or detach()ed before: its later
close() (or its garbage collection) would close whatever reused that number. enter()
also makes the process pid 1 of its namespace, with init's signal semantics (jail.h):
install a SIGXCPU handler to see RLIMIT_CPU's soft limit.

The library is loaded with ctypes.PyDLL: the GIL stays held across the calls, so no
other Python thread runs while the process changes under it. Stdlib only.
"""
from __future__ import annotations

import ctypes
import os
from collections.abc import Iterable, Sequence

ABI = 1  # GQ_JAIL_ABI of jail.h
_ERRLEN = 1024

_c_uint = ctypes.c_uint
_c_str = ctypes.c_char_p


class JailParams(ctypes.Structure):
    """struct gq_jail_params, field for field (the order is the C ABI)."""

    _fields_ = [
        ("version", _c_uint),
        ("venv", _c_str),
        ("runtime", _c_str),
        ("work", _c_str),
        ("tests", _c_str),
        ("hostname", _c_str),
        ("uid", _c_uint),
        ("gid", _c_uint),
        ("tmp_mb", _c_uint),
        ("cpu_s", _c_uint),
        ("as_mb", _c_uint),
        ("nofile", _c_uint),
        ("nproc", _c_uint),
        ("fsize_mb", _c_uint),
        ("stack_mb", _c_uint),
        ("keep_fds", ctypes.POINTER(ctypes.c_int)),
        ("nkeep", _c_uint),
    ]




def _enc(v: str | os.PathLike[str] | None) -> bytes | None:
    return None if v is None else os.fsencode(v)


def make_params(*, uid: int, gid: int, venv: str | None = None, runtime: str | None = None,
                work: str | None = None, tests: str | None = None,
                hostname: str | None = "sandbox", tmp_mb: int = 0, cpu_s: int = 0,
                as_mb: int = 0, nofile: int = 0, nproc: int = 0, fsize_mb: int = 0,
                stack_mb: int = 0,
                keep_fds: Iterable[int] = ()) -> tuple[JailParams, object]:
    """A JailParams and the object that keeps its buffers alive (hold both for the call)."""
    fds = list(keep_fds)
    arr = (ctypes.c_int * max(len(fds), 1))(*fds)
    values = dict(uid=uid, gid=gid, tmp_mb=tmp_mb, cpu_s=cpu_s, as_mb=as_mb,
                  nofile=nofile, nproc=nproc, fsize_mb=fsize_mb, stack_mb=stack_mb)
    for k, v in values.items():
        if not isinstance(v, int) or not 0 <= v <= 0xFFFFFFFF:
            raise ValueError(f"{k} must be an unsigned 32-bit int, not {v!r}")
    strs = {k: _enc(v) for k, v in
            dict(venv=venv, runtime=runtime, work=work, tests=tests,
                 hostname=hostname).items()}
    p = JailParams(version=ABI, keep_fds=ctypes.cast(arr, ctypes.POINTER(ctypes.c_int)),
                   nkeep=len(fds), **strs, **values)
    return p, (arr, strs)


class Jail:
    """The loaded library; see the module docstring for the call sequence."""

    def __init__(self, path: str | os.PathLike[str]):
        lib = ctypes.PyDLL(os.fspath(path))
        err_t = ctypes.c_char_p
        lib.gq_jail_cgroup_join.argtypes = [ctypes.POINTER(_c_str), _c_uint, err_t,
                                            ctypes.c_size_t]
        lib.gq_jail_unshare.argtypes = [err_t, ctypes.c_size_t]
        lib.gq_jail_enter.argtypes = [ctypes.POINTER(JailParams), err_t, ctypes.c_size_t]
        lib.gq_jail_probe.argtypes = [ctypes.POINTER(JailParams), err_t, ctypes.c_size_t]
        lib.gq_jail_abi.argtypes = []
        lib.gq_jail_abi.restype = ctypes.c_char_p
        for f in ("gq_jail_cgroup_join", "gq_jail_unshare", "gq_jail_enter",
                  "gq_jail_probe"):
            getattr(lib, f).restype = ctypes.c_int
        self._lib = lib
        abi = self.abi()
        if not abi.endswith(f" abi {ABI}"):
            raise OSError(0, f"{path}: library speaks '{abi}', this binding abi {ABI}")

    @staticmethod
    def _check(rc: int, err: ctypes.Array[ctypes.c_char]) -> None:
        if rc < 0:
            raise OSError(-rc, err.value.decode("utf-8", "replace") or os.strerror(-rc))

    def abi(self) -> str:
        return self._lib.gq_jail_abi().decode()

    def cgroup_join(self, paths: Sequence[str | os.PathLike[str]]) -> None:
        """Moves the calling process into each cgroup.procs file of paths."""
        enc = [os.fsencode(p) for p in paths]
        arr = (_c_str * max(len(enc), 1))(*enc)
        err = ctypes.create_string_buffer(_ERRLEN)
        self._check(self._lib.gq_jail_cgroup_join(arr, len(enc), err, _ERRLEN), err)

    def unshare(self) -> None:
        """New mount, pid, ipc, net, uts and cgroup namespaces (the next child is pid 1)."""
        err = ctypes.create_string_buffer(_ERRLEN)
        self._check(self._lib.gq_jail_unshare(err, _ERRLEN), err)

    def enter(self, **params) -> None:
        """Sandboxes the calling process (pid 1 of the new pid namespace); keyword
        arguments as make_params."""
        p, keep = make_params(**params)
        err = ctypes.create_string_buffer(_ERRLEN)
        rc = self._lib.gq_jail_enter(ctypes.byref(p), err, _ERRLEN)
        del keep
        self._check(rc, err)

    def probe(self, **params) -> None:
        """Runs the whole sequence in a throw-away child; raises when this host cannot.
        The caller must be single-threaded."""
        p, keep = make_params(**params)
        err = ctypes.create_string_buffer(_ERRLEN)
        rc = self._lib.gq_jail_probe(ctypes.byref(p), err, _ERRLEN)
        del keep
        self._check(rc, err)


def load(path: str | os.PathLike[str]) -> Jail:
    """Loads libgradeq-jail.so from path (ctypes.PyDLL); OSError when it cannot."""
    return Jail(path)
