"""The tests process's side of the student channel: `submission` as proxies.

`from submission import NAME` in a hidden test gives a proxy; calling it sends the
arguments to the student process (student.py) and returns plain data decoded by
gqwire.decode (never pickle, never code). Objects that are not plain data stay in the
student process and come back as handles wrapped here: attribute reads, method calls,
iteration and len() go to the student process and return plain data. Nothing the
student wrote runs in this process: a handle compares, hashes and tests true by its own
identity (==, hash() and bool() never ask the student), and its repr() is ours.

Each request has a wall-clock limit. When the student process hangs, crashes or breaks
the channel, the request raises an exception that fails the running test (StudentTimeout,
StudentCrashed), the supervisor is asked to kill that process and start a fresh one, and
the next request goes to the fresh one. What happened is recorded in EVENTS for the
verdict (harness.py reads it per test).

The supervisor (zygote.py) is reached over CTL_FD, a SOCK_SEQPACKET socket:
    b"S"  -> b"ok" + 2 fds (request write end, reply read end) of a running student
             process, or b"fail:<reason>"
    b"K"  -> kills the current student process; b"dead:<status>:<oom 0|1>"
    b"E"  -> the same for a student process whose channel ended (end of file, broken
             pipe): it is dying on its own, so its own end (e.g. SIGSEGV) is waited for
             and reported rather than replaced by the supervisor's SIGKILL
"""

from __future__ import annotations

import array
import builtins
import os
import select
import socket
import sys
import time
import types
from typing import Any

import gqwire

CTL_FD = 4
READ_SIZE = 65536
MSG_MAX = 500
STR_MAX = 100_000

# what happened to the student process during the current test: set by requests,
# read and cleared by the harness after each test ("timeout", "crashed", "memory",
# "output_limit")
EVENTS: list[str] = []


class StudentError(Exception):
    """An exception raised by the student's code whose type is not a built-in one (or a
    BaseException such as SystemExit, pytest.skip.Exception or KeyboardInterrupt, which
    must fail the test, never skip or stop it). `type_name` is the original type's name."""

    type_name = "Exception"


class StudentTimeout(StudentError):
    """The student's code did not answer within the per-call limit (a hang)."""


class StudentCrashed(StudentError):
    """The student process died or broke the channel during a call."""


class StudentOutputLimit(StudentError):
    """The student's code printed more than the per-call cap."""


# random.seed(x) / numpy.random.seed(x) calls of the tests, not yet passed on to the
# student process: [module, seed] pairs (install_seed_hooks)
SEEDS: list = []


def install_seed_hooks() -> None:
    """A test that seeds the global generators (random.seed, numpy.random.seed) expects
    the student's code to draw from them: the seed goes with the next call, and the
    student process seeds its own generators the same way before it runs."""
    import random  # noqa: PLC0415
    real = random.seed

    def seed(a: Any = None, version: int = 2) -> None:
        real(a, version)
        if a is None or type(a) in (int, str, bytes):
            SEEDS.append(["random", a])

    random.seed = seed
    np = sys.modules.get("numpy")
    if np is not None:
        np_real = np.random.seed

        def np_seed(s: Any = None) -> None:
            np_real(s)
            if s is None or type(s) is int:
                SEEDS.append(["numpy", s])

        np.random.seed = np_seed


_exc_classes: dict[str, type] = {}


def student_exc_class(qualname: str, base: str = "") -> type:
    """The local stand-in class for a student-defined exception type, one per name, so
    that `pytest.raises(submission.MyError)` matches what the student raised; it also
    derives from the nearest built-in exception the student's class derives from (so
    `pytest.raises(ValueError)` matches a subclass of ValueError)."""
    cls = _exc_classes.get(qualname)
    if cls is None:
        bases: tuple = (StudentError,)
        b = getattr(builtins, base, None) if base.isidentifier() else None
        if isinstance(b, type) and issubclass(b, Exception) and b is not Exception:
            bases = (StudentError, b)
        safe = "".join(c if c.isalnum() or c == "_" else "_" for c in qualname)[:100] or "E"
        try:
            cls = type(safe, bases, {"type_name": qualname, "__module__": "submission"})
        except TypeError:  # an instance layout conflict (e.g. OSError): no built-in base
            cls = type(safe, (StudentError,), {"type_name": qualname,
                                               "__module__": "submission"})
        _exc_classes[qualname] = cls
    return cls


def _builtin_exception(name: str, args: Any, msg: str) -> BaseException | None:
    cls = getattr(builtins, name, None) if name.isidentifier() else None
    if not (isinstance(cls, type) and issubclass(cls, Exception)):
        return None
    try:
        if type(args) is list and args is not None:
            return cls(*args)
        return cls(msg)
    except Exception:  # noqa: BLE001 - e.g. UnicodeDecodeError wants 5 arguments
        return None


def make_exception(info: Any) -> BaseException:
    if type(info) is not dict:
        return StudentCrashed("the student process sent a malformed error")
    name = info.get("exc")
    msg = info.get("msg")
    name = name if type(name) is str else "Exception"
    msg = msg if type(msg) is str else ""
    if info.get("memory") is True:
        EVENTS.append("memory")
        e = MemoryError(msg)
        return e
    if info.get("fatal") is True:
        err = StudentError(f"the student's code raised {name}"
                           + (f": {msg[:MSG_MAX]}" if msg else "")
                           + " (not allowed: it fails the test)")
        err.type_name = name
        return err
    if info.get("builtin") is True:
        e = _builtin_exception(name, info.get("args"), msg)
        if e is not None:
            return e
    base = info.get("base")
    return student_exc_class(name, base if type(base) is str else "")(msg)


# -- the channel ---------------------------------------------------------------------------

class _Student:
    """One incarnation of the student process, seen from here."""

    def __init__(self, wfd: int, rfd: int, gen: int) -> None:
        self.wfd, self.rfd, self.gen = wfd, rfd, gen
        self.names: dict[str, str] = {}
        self.buf = bytearray()
        self.poll = select.poll()
        self.poll.register(rfd, select.POLLIN)

    def close(self) -> None:
        for fd in (self.wfd, self.rfd):
            try:
                os.close(fd)
            except OSError:
                pass


class Channel:
    def __init__(self, call_timeout: float, ctl_fd: int = CTL_FD) -> None:
        self.call_timeout = call_timeout
        self.ctl = socket.socket(fileno=ctl_fd)
        self.cur: _Student | None = None
        self.gen = 0
        self.import_error: tuple[str, str] | None = None
        self.restart_failed: str | None = None
        self.nrequests = 0
        self.progress: Any = None  # the last progress frame of the last start (mograder)

    # supervisor requests
    def _ctl(self, req: bytes, nfds: int = 0) -> tuple[bytes, list[int]]:
        self.ctl.sendall(req)
        fds = array.array("i")
        msg, anc, _flags, _addr = self.ctl.recvmsg(4096, socket.CMSG_LEN(nfds * fds.itemsize)
                                                   if nfds else 0)
        for level, kind, data in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(data[: len(data) - (len(data) % fds.itemsize)])
        if not msg:
            raise StudentCrashed("the grading supervisor is gone")
        return msg, list(fds)

    def _kill_current(self, ended: bool = False) -> str:
        """Kills the current student process; a description of how it ended ("memory"
        is recorded in EVENTS when the memory limit ended it, or held it when killed).
        ended: its channel ended (it is dying on its own): its own end is waited for."""
        cur, self.cur = self.cur, None
        if cur is not None:
            cur.close()
        msg, _ = self._ctl(b"E" if ended else b"K")
        text = msg.decode("ascii", "replace")
        parts = text.split(":")
        if len(parts) == 3 and parts[0] == "dead":
            if parts[2] == "1":
                EVENTS.append("memory")
                return "it ran out of memory (the job's memory limit)"
            return parts[1]
        return "its end is unknown"

    def start(self, first_timeout: float | None) -> dict | None:
        """Gets a running student process and waits for its first message. Returns the
        names it serves, or None with self.import_error set."""
        msg, fds = self._ctl(b"S", 2)
        if not msg.startswith(b"ok") or len(fds) != 2:
            for fd in fds:
                os.close(fd)
            raise StudentCrashed("no student process could be started: "
                                 + msg.decode("ascii", "replace")[:200])
        self.gen += 1
        self.cur = _Student(fds[0], fds[1], self.gen)
        self.progress = None
        first = self._read(first_timeout)
        while type(first) is dict and "progress" in first:
            # a mograder notebook's run: a cell started or ended (mog_student.py); the
            # timeout counts from the last sign of progress
            self.progress = first["progress"]
            first = self._read(first_timeout)
        self._forward(first)
        if type(first) is dict and "ready" in first and type(first["ready"]) is dict:
            names = {k: v for k, v in first["ready"].items()
                     if type(k) is str and type(v) is str and len(k) <= 200}
            self.cur.names = names
            return names
        if type(first) is dict and "import_error" in first:
            m, e = first.get("import_error"), first.get("exc")
            self.import_error = (m if type(m) is str else "import failed",
                                 e if type(e) is str else "ImportError")
            self._kill_current()
            return None
        self._kill_current()
        raise StudentCrashed("the student process sent a malformed first message")

    # frames
    def _read(self, timeout: float | None) -> Any:
        cur = self.cur
        assert cur is not None
        deadline = None if timeout is None else time.monotonic() + timeout
        need = None
        while True:
            if need is None and len(cur.buf) >= 4:
                need = int.from_bytes(cur.buf[:4], "big")
                if not 0 < need <= gqwire.FRAME_MAX:
                    how = self._kill_current()
                    EVENTS.append("crashed")
                    raise StudentCrashed(f"the student process broke the channel ({how})")
            if need is not None and len(cur.buf) >= 4 + need:
                payload = bytes(cur.buf[4:4 + need])
                del cur.buf[:4 + need]
                return self._decode(payload)
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                how = self._kill_current()
                if "memory" in EVENTS:  # pinned at the memory limit: memory, not time
                    raise StudentCrashed(f"the student's code did not return within "
                                         f"{self.call_timeout:g} s: {how}")
                EVENTS.append("timeout")
                raise StudentTimeout(f"timed out: the student's code did not return within "
                                     f"{self.call_timeout:g} s")
            if not cur.poll.poll(None if left is None else max(1, int(left * 1000 + 0.999))):
                continue
            try:
                # READ_SIZE, not a megabyte: os.read allocates its whole size first, and
                # a large allocation is an mmap/munmap pair per call (it doubled the
                # round trip)
                chunk = os.read(cur.rfd, READ_SIZE)
            except OSError:
                chunk = b""
            if not chunk:
                how = self._kill_current(ended=True)
                if "memory" not in EVENTS:
                    EVENTS.append("crashed")
                raise StudentCrashed(f"the student process died during the call ({how})")
            if not cur.buf and len(chunk) >= 4 and \
                    int.from_bytes(chunk[:4], "big") == len(chunk) - 4 > 0:
                return self._decode(memoryview(chunk)[4:])  # one whole frame: no copy
            cur.buf += chunk

    def _decode(self, payload: Any) -> Any:
        try:
            return gqwire.decode(payload, self._proxy)
        except gqwire.WireError as e:
            how = self._kill_current()
            EVENTS.append("crashed")
            raise StudentCrashed(f"the student process sent an invalid value ({e}; "
                                 f"{how})") from None

    def _forward(self, reply: Any) -> None:
        if type(reply) is not dict:
            return
        o, r = reply.get("o"), reply.get("r")
        if type(o) is str and o:
            sys.stdout.write(o)
        if type(r) is str and r:
            sys.stderr.write(r)

    def request(self, req: list) -> Any:
        if SEEDS:  # the test seeded random/numpy.random: the student process does too
            seeds = list(SEEDS)
            SEEDS.clear()
            req = ["seed", seeds, req]
        if self.cur is None:
            if self.restart_failed:
                raise StudentCrashed(self.restart_failed)
            names = self.start(self.call_timeout)
            if names is None:
                self.restart_failed = ("the student process could not be started again: "
                                       f"{self.import_error[0] if self.import_error else ''}")
                raise StudentCrashed(self.restart_failed)
        cur = self.cur
        assert cur is not None
        data = gqwire.encode(req, self._to_handle)  # exact built-ins; proxies -> handles
        payload = len(data).to_bytes(4, "big") + data
        self.nrequests += 1
        try:
            n = os.write(cur.wfd, payload)
            if n < len(payload):  # a large request: the rest as the student reads it
                view = memoryview(payload)[n:]
                while view:
                    n = os.write(cur.wfd, view)
                    view = view[n:]
        except OSError:
            how = self._kill_current(ended=True)
            EVENTS.append("crashed")
            raise StudentCrashed(f"the student process is gone ({how})") from None
        reply = self._read(self.call_timeout)
        self._forward(reply)
        if type(reply) is not dict:
            how = self._kill_current()
            EVENTS.append("crashed")
            raise StudentCrashed(f"the student process sent a malformed reply ({how})")
        if reply.get("ol") == 1:
            EVENTS.append("output_limit")
            raise StudentOutputLimit("the student's code printed more than the output limit")
        if "e" in reply:
            raise make_exception(reply["e"])
        if "stop" in reply:
            raise StopIteration
        if "v" not in reply:
            raise StudentCrashed("the student process sent a malformed reply")
        return reply["v"]

    # values: decode() makes proxies of the handles in a reply, encode() turns the
    # proxies in a request back into their handles
    def _proxy(self, h: gqwire.Handle) -> Any:
        return make_proxy(self, h)

    def _to_handle(self, v: Any) -> gqwire.Handle:
        """encode()'s last resort for what is not plain data (called for nothing else):
        a proxy goes back as its handle; anything else cannot cross."""
        if isinstance(v, RemoteBase):
            h = object.__getattribute__(v, "_gq_handle")
            gen = object.__getattribute__(v, "_gq_gen")
            if gen != self.gen:
                raise StudentCrashed("this object belonged to a student process that has "
                                     "since been restarted")
            if h is None:  # a top-level name of the notebook: sent by name
                return gqwire.Handle(0, "name", object.__getattribute__(v, "_gq_ref"), 0)
            return h
        if callable(v) and not isinstance(v, type):
            raise TypeError("a function cannot be passed to the student's code "
                            "(it runs in another process)")
        raise TypeError(f"cannot send a {type(v).__name__} to the student's code "
                        "(plain data only)")


# -- proxies ---------------------------------------------------------------------------------

_LOCAL_ATTRS = frozenset({"__name__", "__qualname__", "__doc__", "__module__", "__wrapped__"})


def _remote_ok(name: str) -> bool:
    """Attribute names worth asking the student process for. pytest and the tests probe
    objects for their own markers (`_pytestfixturefunction`, `__code__`...): answered
    here, without a round trip the student could stall."""
    return not (name.startswith("__") or name.startswith("_pytest") or name.startswith("pytest")
                or name.startswith("_fixture"))


class RemoteBase:
    """A name or object that lives in the student process."""

    __slots__ = ("_gq_chan", "_gq_ref", "_gq_handle", "_gq_gen", "_gq_tname", "_gq_kind")

    def __init__(self, chan: Channel, ref: Any, handle: gqwire.Handle | None, tname: str,
                 kind: str) -> None:
        object.__setattr__(self, "_gq_chan", chan)
        object.__setattr__(self, "_gq_ref", ref)
        object.__setattr__(self, "_gq_handle", handle)
        object.__setattr__(self, "_gq_gen", chan.gen)
        object.__setattr__(self, "_gq_tname", tname)
        object.__setattr__(self, "_gq_kind", kind)

    def _gq_target(self) -> Any:
        chan = object.__getattribute__(self, "_gq_chan")
        handle = object.__getattribute__(self, "_gq_handle")
        if handle is None:
            return object.__getattribute__(self, "_gq_ref")  # a top-level name
        if object.__getattribute__(self, "_gq_gen") != chan.gen:
            raise StudentCrashed("this object belonged to a student process that has since "
                                 "been restarted")
        return handle.hid

    def _gq_req(self, *req: Any) -> Any:
        chan = object.__getattribute__(self, "_gq_chan")
        target = RemoteBase._gq_target(self)
        return chan.request([req[0], target, *req[1:]])

    def __getattr__(self, name: str) -> Any:
        if not _remote_ok(name):
            raise AttributeError(name)
        return RemoteBase._gq_req(self, "get", name)

    def __setattr__(self, name: str, value: Any) -> None:
        RemoteBase._gq_req(self, "set", name, value)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return RemoteBase._gq_req(self, "call", list(args), kwargs)

    def _gq_method(self, name: str, *args: Any) -> Any:
        m = RemoteBase._gq_req(self, "get", name)
        if not isinstance(m, RemoteBase):
            raise TypeError(f"{name} of a student object is not a method")
        return m(*args)

    def __len__(self) -> int:
        if object.__getattribute__(self, "_gq_kind") in ("iterator", "function", "class"):
            raise TypeError("object has no len()")  # list() of a generator asks first
        try:
            n = RemoteBase._gq_method(self, "__len__")
        except AttributeError:
            raise TypeError("object has no len()") from None
        if type(n) is not int or n < 0:
            raise TypeError("__len__ of a student object did not return an int >= 0")
        return n

    def __iter__(self) -> Any:
        if object.__getattribute__(self, "_gq_kind") == "iterator":
            return self
        it = RemoteBase._gq_method(self, "__iter__")
        if not isinstance(it, RemoteBase):
            return iter(it)  # plain data came back (e.g. a list)
        return it

    def __next__(self) -> Any:
        return RemoteBase._gq_req(self, "next")

    def __getitem__(self, key: Any) -> Any:
        return RemoteBase._gq_method(self, "__getitem__", key)

    def __setitem__(self, key: Any, value: Any) -> None:
        RemoteBase._gq_method(self, "__setitem__", key, value)

    def __contains__(self, item: Any) -> bool:
        v = RemoteBase._gq_method(self, "__contains__", item)
        if type(v) is not bool:
            raise TypeError("__contains__ of a student object did not return a bool")
        return v

    def __str__(self) -> str:
        s = RemoteBase._gq_req(self, "str")
        if type(s) is not str:
            raise TypeError("str() of a student object did not return a str")
        return s[:STR_MAX]

    def __repr__(self) -> str:
        ref = object.__getattribute__(self, "_gq_ref")
        tname = object.__getattribute__(self, "_gq_tname")
        return f"<student {tname} {ref!s:.60}>" if type(ref) is str else f"<student {tname}>"

    # identity semantics, decided here: never the student's __eq__/__hash__/__bool__
    def __eq__(self, other: Any) -> bool:
        return self is other

    def __ne__(self, other: Any) -> bool:
        return self is not other

    def __hash__(self) -> int:
        return id(self)

    def __bool__(self) -> bool:
        return True


class _RemoteClassMeta(type):
    """Metaclass of the local stand-ins for student classes: calling one constructs the
    object in the student process; isinstance() checks the object's class name."""

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        proxy = cls.__dict__["_gq_class_proxy"]
        return proxy(*args, **kwargs)

    def __getattr__(cls, name: str) -> Any:
        if not _remote_ok(name):
            raise AttributeError(name)
        return getattr(cls.__dict__["_gq_class_proxy"], name)

    def __instancecheck__(cls, obj: Any) -> bool:
        return isinstance(obj, RemoteBase) and \
            object.__getattribute__(obj, "_gq_tname") == cls.__dict__["_gq_tname"]


_classes: dict[str, type] = {}


def remote_class(chan: Channel, ref: Any, handle: gqwire.Handle | None, tname: str) -> type:
    proxy = RemoteBase(chan, ref, handle, tname, "class")
    safe = "".join(c if c.isalnum() or c == "_" else "_" for c in tname)[:100] or "C"
    cls = _RemoteClassMeta(safe, (), {"_gq_class_proxy": proxy, "_gq_tname": tname,
                                      "__module__": "submission"})
    _classes[tname] = cls
    return cls


def make_proxy(chan: Channel, h: gqwire.Handle) -> Any:
    if h.kind.startswith("exc_class"):
        return student_exc_class(h.tname, h.kind.partition("/")[2])
    if h.kind == "class":
        return remote_class(chan, None, h, h.tname)
    return RemoteBase(chan, None, h, h.tname, h.kind)


class SubmissionModule(types.ModuleType):
    """sys.modules["submission"] in the tests process."""

    def __init__(self, chan: Channel, names: dict[str, str]) -> None:
        super().__init__("submission")
        self.__dict__["_gq_chan"] = chan
        self.__dict__["_gq_names"] = names
        self.__dict__["__file__"] = "/work/submission.py"
        self.__dict__["__all__"] = sorted(k for k in names if not k.startswith("_"))

    def __getattr__(self, name: str) -> Any:
        names = self.__dict__["_gq_names"]
        chan = self.__dict__["_gq_chan"]
        kind = names.get(name)
        if kind is None or name.startswith("__"):
            raise AttributeError(f"module 'submission' has no attribute {name!r}")
        if kind == "function":
            return RemoteBase(chan, name, None, name, "function")
        if kind == "class":
            cls = _classes.get(name)
            return cls if cls is not None else remote_class(chan, name, None, name)
        if kind.startswith("exc_class"):
            return student_exc_class(name, kind.partition("/")[2])
        # a value: plain data, or a handle to what stays in the student process
        return chan.request(["get", name, None])
