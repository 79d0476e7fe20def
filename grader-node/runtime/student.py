"""The student process: imports the submission and serves its top-level names.

Runs sandboxed (its own uid, pid namespace and view: /work holds submission.py and its
own copy of the data files; it never sees the hidden tests, the harness's result
channel or the tests process). It talks to the tests process over two pipes only:
requests in on REQ_FD, replies out on RESP_FD (gqwire frames).

Protocol (docs/harness-protocol.md, "The student channel"):
    first message, unasked:  {"ready": {name: kind, ...}}
                        or   {"import_error": msg, "exc": type name}
    request                  reply
    ["get", ref, attr]       {"v": value}  (attr None: the object ref itself)
    ["call", ref, args, kw]  {"v": value} | {"e": exception info}
    ["set", ref, attr, val]  {"v": None}  | {"e": ...}
    ["next", ref]            {"v": value} | {"stop": 1} | {"e": ...}
    ["str", ref]             {"v": str}
  ref: a top-level name (str) or a handle id (int). A reply also carries "o"/"r" when
  the call printed on stdout / stderr, and "ol": 1 when that passed the cap.
Values the tests side cannot take as plain data become handles (the object stays here).

Nothing here is trusted by the tests side: it decodes replies with gqwire.decode and
caps, and a reply can only ever be data. This file's job is to be correct for honest
submissions.
"""

from __future__ import annotations

import builtins
import os
import sys
import types
from typing import Any

import gqwire

REQ_FD = 3
RESP_FD = 4
READ_SIZE = 65536  # os.read allocates its size first: kept below malloc's mmap threshold
OUTPUT_CAP = 1024 * 1024  # characters of stdout+stderr kept per call (the zygote sets
                          # it from the job's output limit)
MSG_MAX = 2000


class OutputLimit(BaseException):
    """Raised into the student's code when a call printed more than OUTPUT_CAP: a loop
    that prints forever ends here (the tests side reports output_limit). A
    BaseException, so that an `except Exception` in the notebook does not swallow it."""


class _Capture:
    """sys.stdout/sys.stderr during a call: keeps up to OUTPUT_CAP characters, then
    raises OutputLimit on every further write."""

    def __init__(self, shared: list) -> None:
        self.parts: list[str] = []
        self.shared = shared  # [characters so far, over cap]
        self.encoding = "utf-8"
        self.errors = "backslashreplace"

    def write(self, s: Any) -> int:
        if type(s) is not str:
            s = str(s)
        room = OUTPUT_CAP - self.shared[0]
        if room <= 0:
            self.shared[1] = True
            raise OutputLimit("output limit")
        self.parts.append(s[:room])
        self.shared[0] += min(len(s), room)
        if len(s) > room:
            self.shared[1] = True
            raise OutputLimit("output limit")
        return len(s)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        raise OSError("captured stream has no file descriptor")

    def text(self) -> str:
        return "".join(self.parts)

    @property
    def buffer(self) -> "_Bytes":
        return _Bytes(self)


class _Bytes:
    """sys.stdout.buffer during a call: bytes, decoded (invalid UTF-8 escaped)."""

    def __init__(self, text: _Capture) -> None:
        self.text = text

    def write(self, b: Any) -> int:
        data = bytes(b)
        self.text.write(data.decode("utf-8", "backslashreplace"))
        return len(data)

    def flush(self) -> None:
        pass


def builtin_base(cls: type) -> str:
    """The nearest built-in Exception class cls derives from ("" when none)."""
    try:
        for b in cls.__mro__:
            if b.__module__ == "builtins" and issubclass(b, Exception):
                return b.__name__
    except Exception:  # noqa: BLE001 - a student's metaclass may raise anything
        pass
    return ""


def kind_of(obj: Any) -> str:
    if isinstance(obj, type):
        if issubclass(obj, BaseException):
            base = builtin_base(obj)
            return f"exc_class/{base}" if base else "exc_class"
        return "class"
    if isinstance(obj, types.ModuleType):
        return "module"
    if isinstance(obj, (types.GeneratorType,)) or (
            hasattr(type(obj), "__next__") and hasattr(type(obj), "__iter__")):
        return "iterator"
    if callable(obj):
        return "function"
    return "object"


class Server:
    def __init__(self, module: types.ModuleType) -> None:
        self.mod = module
        self.objs: dict[int, Any] = {}
        self.next_id = 1
        self.handles_in = 0  # handles in the request being served

    def saw_handle(self, h: gqwire.Handle) -> gqwire.Handle:
        """decode()'s hook for the handles in a request: counted, resolved later."""
        self.handles_in += 1
        return h

    # -- values out -------------------------------------------------------------------
    def handle(self, obj: Any) -> gqwire.Handle:
        hid = self.next_id
        self.next_id += 1
        self.objs[hid] = obj
        try:
            tname = type(obj).__qualname__ if not isinstance(obj, type) else obj.__qualname__
        except Exception:  # noqa: BLE001
            tname = "object"
        if type(tname) is not str:
            tname = "object"
        return gqwire.Handle(hid, kind_of(obj), tname[:200], 0)

    def encode_value(self, value: Any) -> bytes:
        return gqwire.encode({"v": value}, on_unknown=self.handle)

    # -- requests ---------------------------------------------------------------------
    def resolve(self, ref: Any) -> Any:
        if type(ref) is str:
            if ref.startswith("__") or ref not in vars(self.mod):
                raise AttributeError(f"module 'submission' has no attribute {ref!r}")
            return vars(self.mod)[ref]
        if type(ref) is int and ref in self.objs:
            return self.objs[ref]
        raise LookupError("stale handle")

    def arg(self, v: Any) -> Any:
        """A value from the tests side: handles become the objects they name (kind
        "name": a top-level name of the notebook, by its name)."""
        if type(v) is gqwire.Handle:
            return self.resolve(v.tname if v.kind == "name" else v.hid)
        if type(v) is list:
            return [self.arg(x) for x in v]
        if type(v) is tuple:
            return tuple(self.arg(x) for x in v)
        if type(v) is dict:
            return {self.arg(k): self.arg(x) for k, x in v.items()}
        if type(v) in (set, frozenset):
            return type(v)(self.arg(x) for x in v)
        return v

    def dispatch(self, req: list) -> dict:
        op = req[0]
        if op == "seed":  # the tests seeded the global generators before this call
            for mod, value in req[1]:
                if mod == "random":
                    import random  # noqa: PLC0415
                    random.seed(value)
                elif mod == "numpy" and "numpy" in sys.modules:
                    sys.modules["numpy"].random.seed(value)
            return self.dispatch(req[2])
        if op == "get":
            obj = self.resolve(req[1])
            return {"v": obj if req[2] is None else getattr(obj, req[2])}
        if op == "call":
            fn = self.resolve(req[1])
            args, kw = req[2], req[3]
            if self.handles_in:  # else the arguments are plain data already
                args, kw = self.arg(args), self.arg(kw)
            return {"v": fn(*args, **kw)}
        if op == "set":
            setattr(self.resolve(req[1]), req[2], self.arg(req[3]))
            return {"v": None}
        if op == "next":
            it = self.resolve(req[1])
            try:
                return {"v": next(it)}
            except StopIteration:
                return {"stop": 1}
        if op == "str":
            s = str(self.resolve(req[1]))
            return {"v": s if type(s) is str else "<not a str>"}
        raise ValueError(f"unknown request {op!r}")


def exc_info(e: BaseException) -> dict:
    t = type(e)
    fatal = not isinstance(e, Exception)
    try:
        msg = str(e)
    except BaseException:  # noqa: BLE001 - a student's __str__ may raise anything
        msg = "<unprintable>"
    if type(msg) is not str:
        msg = "<unprintable>"
    info: dict = {"exc": getattr(t, "__qualname__", "Exception")[:200],
                  "msg": msg[:MSG_MAX], "builtin": t.__module__ == "builtins" and not fatal,
                  "fatal": fatal}
    if not info["builtin"] and not fatal:
        info["base"] = builtin_base(t)
    if info["builtin"]:
        args = e.args
        try:
            gqwire.encode(args)
            info["args"] = args
        except Exception:  # noqa: BLE001 - non-plain args: the message alone
            pass
    if isinstance(e, MemoryError):
        info["memory"] = True
    return info


def _send(data: bytes) -> None:
    payload = len(data).to_bytes(4, "big") + data
    view = memoryview(payload)
    while view:
        n = os.write(RESP_FD, view)
        view = view[n:]


_inbuf = bytearray()


def _recv() -> bytes:
    """The next request's payload: one read per request in the usual case (a request
    is written whole, and the tests side waits for the reply before the next one)."""
    while True:
        if len(_inbuf) >= 4:
            n = int.from_bytes(_inbuf[:4], "big")
            if not 0 < n <= gqwire.FRAME_MAX:
                raise EOFError
            if len(_inbuf) >= 4 + n:
                data = bytes(_inbuf[4:4 + n])
                del _inbuf[:4 + n]
                return data
        chunk = os.read(REQ_FD, READ_SIZE)
        if not chunk:
            raise EOFError
        _inbuf.extend(chunk)


class _CallerOnlyInspect:
    """What marimo's App() sees as `inspect`: stack() gives the frames only (App() wants
    the caller's file name), without the source context that inspect.stack() looks up
    for every frame by walking sys.modules (~10-30 ms per notebook in a warm process).
    Everything else is the real inspect module."""

    def __init__(self) -> None:
        import inspect  # noqa: PLC0415
        self._inspect = inspect

    def stack(self, context: int = 1) -> list:
        frames, f = [], sys._getframe(1)
        while f is not None:
            frames.append(types.SimpleNamespace(frame=f, filename=f.f_code.co_filename,
                                                lineno=f.f_lineno, function=f.f_code.co_name))
            f = f.f_back
        return frames

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inspect, name)


def _as_is(func: Any = None, **_kwargs: Any) -> Any:
    """@app.function and @app.class_definition as a module import sees them: the object
    itself, with or without arguments to the decorator."""
    if func is None:
        return lambda f: f
    return func


def speed_up_marimo() -> None:
    """Applied in the student process only (the notebook's own marimo), for the import of
    a notebook as a module: App() does not look up the source of every frame, and
    @app.function / @app.class_definition hand back the object without compiling it as
    a cell (what the import returns is the same object; @app.cell cells are registered
    as marimo does, so a test can still run one)."""
    try:
        import marimo._ast.app as app  # noqa: PLC0415
    except ImportError:
        return
    if hasattr(app, "inspect"):
        app.inspect = _CallerOnlyInspect()
    cls = getattr(app, "App", None)
    if cls is not None:
        cls.function = lambda self, func=None, **kw: _as_is(func, **kw)
        cls.class_definition = lambda self, cls_=None, **kw: _as_is(cls_, **kw)


def import_submission(path: str) -> types.ModuleType:
    import importlib.util
    spec = importlib.util.spec_from_file_location("submission", path)
    if spec is None or spec.loader is None:
        raise ImportError("cannot load submission.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["submission"] = mod
    spec.loader.exec_module(mod)
    return mod


def serve(path: str = "/work/submission.py", loader: Any = None) -> int:
    """Imports the submission (with loader(path) when given: mograder notebooks,
    mog_student.py) and answers requests until the tests side closes the channel.
    Returns the exit code."""
    shared = [0, False]
    out, err = _Capture(shared), _Capture(shared)
    sys.stdout, sys.stderr = out, err  # import-time prints are forwarded too
    speed_up_marimo()
    try:
        mod = (loader or import_submission)(path)
    except BaseException as e:  # noqa: BLE001 - SyntaxError, SystemExit, anything
        info = exc_info(e)
        if isinstance(e, SyntaxError):
            where = f" (line {e.lineno})" if e.lineno else ""
            info["msg"] = f"{e.msg if isinstance(e.msg, str) else 'invalid syntax'}{where}"
        _send(gqwire.encode({"import_error": info["msg"], "exc": info["exc"],
                             "o": out.text(), "r": err.text()}))
        return 0
    names = {}
    for k, v in list(vars(mod).items()):
        if not k.startswith("__") and type(k) is str:
            names[k] = kind_of(v)
    srv = Server(mod)
    _send(gqwire.encode({"ready": names, "o": out.text(), "r": err.text()}))
    while True:
        srv.handles_in = 0
        try:
            req = gqwire.decode(_recv(), srv.saw_handle)
        except (EOFError, OSError, gqwire.WireError):
            return 0
        shared[0], shared[1] = 0, False
        out, err = _Capture(shared), _Capture(shared)
        sys.stdout, sys.stderr = out, err
        try:
            reply = srv.dispatch(req)
        except BaseException as e:  # noqa: BLE001 - reported, never re-raised here
            reply = {"e": exc_info(e)}
        sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
        if out.parts:  # output keys only when there was output (smaller replies)
            reply["o"] = out.text()
        if err.parts:
            reply["r"] = err.text()
        if shared[1]:
            reply["ol"] = 1
        try:
            data = gqwire.encode(reply, on_unknown=srv.handle)
            if len(data) > gqwire.FRAME_MAX:
                raise ValueError("the value is too large to send")
        except BaseException as e:  # noqa: BLE001 - e.g. a self-referencing list
            data = gqwire.encode({"e": {"exc": "ValueError", "builtin": True, "fatal": False,
                                        "msg": f"cannot send the result: {exc_info(e)['msg']}"},
                                  "o": reply.get("o", ""), "r": reply.get("r", ""),
                                  "ol": reply.get("ol", 0)})
        try:
            _send(data)
        except OSError:
            return 0


def main(loader: Any = None) -> None:
    sys.dont_write_bytecode = True
    builtins.__dict__.pop("exit", None)  # site's helpers; the notebook has no use for them
    rc = serve(loader=loader)
    os._exit(rc)
