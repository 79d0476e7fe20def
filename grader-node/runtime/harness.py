"""gradeq harness: runs one submission's hidden pytest tests inside the sandbox.

Two ways to run. In the two-process runtime (the default) the zygote (zygote.py) calls
main() in the job's *tests process* with

    --tests DIR --work DIR --two-process --call-timeout S [--safety-check]
    --tests DIR --work DIR --collect          # list the tests against a stand-in

where `submission` is a proxy module (proxy.py) whose names live in the job's separate
student process (student.py). In the single-process runtime (exercise.toml
`isolation = "in-process"`, and the cold bwrap runner) the node starts it as

    <venv>/bin/python -s -B -P harness.py --tests DIR --work DIR [--safety-check]
    <venv>/bin/python -s -B -P harness.py --probe        # prints the version, exits 0

and the submission is imported into this very process: forgeable by design, see
docs/security.md.

with a clean environment, cwd = the work dir (submission.py + the exercise's data files),
fd 1/2 = one captured output pipe, fd 3 = the result pipe.

Result protocol (version 1; the full text is docs/harness-protocol.md)
----------------------------------------------------------------------
fd 3 carries framed records: a 4-byte big-endian length N (1 <= N <= 65536), then N
bytes holding exactly one msgpack map with a string key "t" naming the record:

    {t: "hello", v: 1, t0: int}         first thing, before any import: Python started
    {t: "rejected", reason: str}        the static safety check refused the source (final)
    {t: "import_error", msg: str, exc: str}
                                        submission.py (or a test module's
                                        `from submission import NAME`) failed (final)
    {t: "imported", ms: int}            pytest + marimo + submission imported
    {t: "collected", tests: [[nodeid, weight], ...]}
                                        the tests to run, in order; split over several
                                        records when long, all before the first "test"
    {t: "test", name: nodeid, outcome: "passed"|"failed"|"error"|"skipped",
     weight: float, msg: str, exc: str, ev: str}
                                        one per test once it finished (all phases); ev
                                        (two-process only, optional): what happened to
                                        the student process during the test: timeout,
                                        crashed, memory or output_limit
    {t: "end", ms: int, code: int}      pytest finished normally (final)

t0 and ms: time.monotonic() in milliseconds (the node uses its own receive times). Every record is flushed when written, so the
credit of finished tests survives a later hang or crash. After a final record the
harness exits 0 with os._exit (no atexit handlers, no waiting on the submission's
threads). The node caps frame size, stream size, record and test counts and string
lengths before it decodes anything; strings here stay well below those caps.

Messages never contain hidden test source: only the exception type and its message
(assertion rewriting is off, so an AssertionError says only what the test author wrote),
truncated to MSG_MAX characters.

Trust: in the two-process runtime nothing of the student's code runs in this process;
in the single-process one it does, and can write frames itself. Either way the node
decodes the stream as untrusted input (bounded, validated) and scores it against the
test list published with the bundle: an invented or reweighted test earns nothing.

Static safety check (--safety-check): an AST deny-list, best effort by design (it cannot
stop obfuscated code; the sandbox is the real boundary). Refused: importing any module in
DENIED_MODULES (or a submodule of one), calling a name in DENIED_CALLS, and touching an
attribute in DENIED_ATTRS.
"""

from __future__ import annotations

import ast
import math
import os
import struct
import sys
import time

VERSION = "1"
PROTOCOL = 1
FRAME_MAX = 65536
COLLECTED_CHUNK = 48 * 1024  # bytes of nodeids per "collected" record
MSG_MAX = 500                # characters kept of an exception message
NAME_MAX = 900               # bytes of a nodeid before it is shortened
RESULT_FD = 3

DENIED_MODULES = frozenset({
    "os", "posix", "nt", "subprocess", "_posixsubprocess", "socket", "socketserver",
    "shutil", "ctypes", "_ctypes", "cffi", "multiprocessing", "concurrent", "importlib",
    "pty", "signal", "resource", "fcntl", "mmap", "marshal", "pickle", "builtins", "gc",
    "inspect", "code", "codeop", "runpy", "sysconfig", "ssl", "select", "selectors",
    "asyncio", "http", "urllib", "ftplib", "smtplib", "telnetlib", "poplib", "imaplib",
    "xmlrpc", "webbrowser", "_thread", "faulthandler",
})
# open() stays allowed: exercises ship data files (files/) the notebook reads.
DENIED_CALLS = frozenset({
    "eval", "exec", "compile", "__import__", "breakpoint", "globals", "locals", "vars",
    "getattr", "setattr", "delattr",
})
DENIED_ATTRS = frozenset({
    "__subclasses__", "__globals__", "__builtins__", "__code__", "__closure__",
    "__bases__", "__mro__", "__base__", "__dict__", "__getattribute__", "__loader__",
    "__spec__", "__import__", "f_globals", "f_locals", "f_back", "f_builtins",
    "gi_frame", "cr_frame", "tb_frame",
})


# -- pure helpers (tests/sandbox/test_harness_unit.py) ----------------------------------

def mp_pack(obj: object) -> bytes:
    """Minimal msgpack encoder (None, bool, int, float, str, bytes, list, tuple, dict).

    Own encoder so that "hello" goes out before any third-party import."""
    out = bytearray()
    _mp_into(obj, out)
    return bytes(out)


def _mp_into(obj: object, out: bytearray) -> None:
    if obj is None:
        out.append(0xC0)
    elif obj is True:
        out.append(0xC3)
    elif obj is False:
        out.append(0xC2)
    elif isinstance(obj, int):
        if 0 <= obj < 0x80:
            out.append(obj)
        elif -32 <= obj < 0:
            out.append(obj & 0xFF)
        elif 0 <= obj < 1 << 64:
            for code, fmt, lim in ((0xCC, ">B", 1 << 8), (0xCD, ">H", 1 << 16),
                                   (0xCE, ">I", 1 << 32), (0xCF, ">Q", 1 << 64)):
                if obj < lim:
                    out.append(code)
                    out += struct.pack(fmt, obj)
                    break
        elif -(1 << 63) <= obj < 0:
            for code, fmt, lim in ((0xD0, ">b", 1 << 7), (0xD1, ">h", 1 << 15),
                                   (0xD2, ">i", 1 << 31), (0xD3, ">q", 1 << 63)):
                if obj >= -lim:
                    out.append(code)
                    out += struct.pack(fmt, obj)
                    break
        else:
            raise OverflowError("integer out of msgpack range")
    elif isinstance(obj, float):
        out.append(0xCB)
        out += struct.pack(">d", obj)
    elif isinstance(obj, str):
        b = obj.encode("utf-8", "replace")
        n = len(b)
        if n < 32:
            out.append(0xA0 | n)
        elif n < 1 << 8:
            out += bytes((0xD9, n))
        elif n < 1 << 16:
            out.append(0xDA)
            out += struct.pack(">H", n)
        else:
            out.append(0xDB)
            out += struct.pack(">I", n)
        out += b
    elif isinstance(obj, (bytes, bytearray)):
        n = len(obj)
        if n < 1 << 8:
            out += bytes((0xC4, n))
        elif n < 1 << 16:
            out.append(0xC5)
            out += struct.pack(">H", n)
        else:
            out.append(0xC6)
            out += struct.pack(">I", n)
        out += obj
    elif isinstance(obj, (list, tuple)):
        n = len(obj)
        if n < 16:
            out.append(0x90 | n)
        elif n < 1 << 16:
            out.append(0xDC)
            out += struct.pack(">H", n)
        else:
            out.append(0xDD)
            out += struct.pack(">I", n)
        for x in obj:
            _mp_into(x, out)
    elif isinstance(obj, dict):
        n = len(obj)
        if n < 16:
            out.append(0x80 | n)
        elif n < 1 << 16:
            out.append(0xDE)
            out += struct.pack(">H", n)
        else:
            out.append(0xDF)
            out += struct.pack(">I", n)
        for k, v in obj.items():
            _mp_into(k, out)
            _mp_into(v, out)
    else:
        raise TypeError(f"cannot pack {type(obj).__name__}")


def frame(record: dict) -> bytes:
    """One record as it goes on the wire: 4-byte big-endian length + msgpack map."""
    body = mp_pack(record)
    if not 0 < len(body) <= FRAME_MAX:
        raise ValueError("record does not fit in a frame")
    return struct.pack(">I", len(body)) + body


def truncate(s: str, limit: int = MSG_MAX) -> str:
    return s if len(s) <= limit else s[: limit - 3] + "..."


def short_message(exc: BaseException) -> str:
    """'Type: message' for an exception, one bounded line of text; a SyntaxError
    gives its line number. Never a traceback or source line."""
    name = type(exc).__name__
    if isinstance(exc, SyntaxError):
        where = f" (line {exc.lineno})" if exc.lineno else ""
        text = exc.msg if isinstance(exc.msg, str) else "invalid syntax"
        return truncate(f"{name}: {text}{where}")
    try:
        text = str(exc)
    except BaseException:  # a submission's __str__ may raise anything
        text = "<unprintable>"
    text = truncate(text, MSG_MAX * 2)
    return truncate(f"{name}: {text}" if text else name)


def short_nodeid(nodeid: str, index: int) -> str:
    """A nodeid within NAME_MAX bytes; long ones are cut and made unique by index."""
    if len(nodeid.encode("utf-8", "replace")) <= NAME_MAX:
        return nodeid
    cut = nodeid.encode("utf-8", "replace")[: NAME_MAX - 16].decode("utf-8", "ignore")
    return f"{cut}...#{index}"


def weight_of(marker: object) -> float:
    """Weight of a test from its points marker (None: unmarked = 1). A marker whose
    value is not a finite number >= 0 counts as 1."""
    if marker is None:
        return 1.0
    args = getattr(marker, "args", ())
    kwargs = getattr(marker, "kwargs", {})
    value = args[0] if args else kwargs.get("points", kwargs.get("x"))
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return 1.0
    value = float(value)
    if not math.isfinite(value) or value < 0 or value > 1e6:
        return 1.0
    return value


def chunk_collected(tests: list, limit: int = COLLECTED_CHUNK) -> list:
    """Splits [[nodeid, weight], ...] into lists whose nodeids total <= limit bytes."""
    chunks, cur, size = [], [], 0
    for name, w in tests:
        n = len(name.encode("utf-8", "replace")) + 16
        if cur and size + n > limit:
            chunks.append(cur)
            cur, size = [], 0
        cur.append([name, w])
        size += n
    if cur or not chunks:
        chunks.append(cur)
    return chunks


def safety_problems(source: str | bytes, limit: int = 5) -> list:
    """Static check of a submission: a list of 'line N: reason' (empty = accepted).
    Source that does not parse is left to the import step (import_error)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    problems = []

    def denied(module: str | None) -> bool:
        return bool(module) and module.split(".")[0] in DENIED_MODULES

    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Import):
            for alias in node.names:
                if denied(alias.name):
                    problems.append(f"line {line}: import of '{alias.name}' is not allowed")
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and denied(node.module):
                problems.append(f"line {line}: import from '{node.module}' is not allowed")
        elif isinstance(node, ast.Call):
            f = node.func
            if isinstance(f, ast.Name) and f.id in DENIED_CALLS:
                problems.append(f"line {line}: call of '{f.id}' is not allowed")
        elif isinstance(node, ast.Attribute):
            if node.attr in DENIED_ATTRS:
                problems.append(f"line {line}: attribute '{node.attr}' is not allowed")
        elif isinstance(node, ast.Name) and node.id in ("__builtins__", "__import__"):
            problems.append(f"line {line}: name '{node.id}' is not allowed")
    problems.sort(key=lambda p: int(p.split(":")[0].split()[1]))
    return problems[:limit]


def monotonic_ms() -> int:
    return int(time.monotonic() * 1000)


# -- the run -----------------------------------------------------------------------------

class Channel:
    """The result pipe. Writes whole frames with os.write (unbuffered, so flushed)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.final = False

    def send(self, record: dict) -> None:
        data = memoryview(frame(record))
        while data:
            n = os.write(self.fd, data)
            data = data[n:]
        if record["t"] in ("rejected", "import_error", "end"):
            self.final = True


# what happened to the student process during a test, worst first: the one reported
EVENT_ORDER = ("timeout", "memory", "output_limit", "crashed")


def worst_event(events: list) -> str:
    for ev in EVENT_ORDER:
        if ev in events:
            return ev
    return ""


def has_marker(item, *names: str) -> bool:  # type: ignore[no-untyped-def]
    return any(item.get_closest_marker(n) is not None for n in names)


def make_plugin(chan: Channel, pytest, events: list | None = None):  # type: ignore[no-untyped-def]
    """The pytest plugin that reports collection and per-test outcomes on chan. events:
    proxy.EVENTS in the two-process runtime (cleared before each test), else None."""

    class GradePlugin:
        def __init__(self) -> None:
            self.collect_error: str | None = None
            self.collect_exc = ""
            self.names: dict = {}      # nodeid -> reported name
            self.weights: dict = {}
            self.phases: dict = {}     # nodeid -> {when: (outcome, msg, exc, xfail)}

        def pytest_configure(self, config) -> None:  # type: ignore[no-untyped-def]
            config.addinivalue_line(
                "markers", "points(x): the test weighs x points (unmarked tests weigh 1)")

        def pytest_exception_interact(self, node, call, report) -> None:  # type: ignore[no-untyped-def]
            if getattr(report, "when", None) != "collect" or self.collect_error:
                return
            exc = call.excinfo.value if call.excinfo else None
            # pytest wraps a test module's ImportError/SyntaxError in a CollectError
            # whose text holds a traceback of the hidden test; report the cause only.
            while exc is not None and type(exc).__name__ == "CollectError" and exc.__cause__:
                exc = exc.__cause__
            if exc is None or type(exc).__name__ == "CollectError":
                self.collect_error = f"collection of {getattr(node, 'name', 'tests')} failed"
                self.collect_exc = "CollectError"
            else:
                self.collect_error = short_message(exc)
                self.collect_exc = type(exc).__name__

        def pytest_collectreport(self, report) -> None:  # type: ignore[no-untyped-def]
            if report.failed and not self.collect_error:
                self.collect_error = f"collection of {report.nodeid or 'tests'} failed"
                self.collect_exc = "CollectError"

        def pytest_collection_finish(self, session) -> None:  # type: ignore[no-untyped-def]
            if self.collect_error or session.testsfailed:
                # run() reports it, after listing the tests against a stand-in module.
                self.collect_error = self.collect_error or "test collection failed"
                self.collect_exc = self.collect_exc or "CollectError"
                session.shouldstop = "collection failed"
                return
            tests = []
            for i, item in enumerate(session.items):
                name = short_nodeid(item.nodeid.removeprefix(PREPARED_PREFIX), i)
                w = weight_of(item.get_closest_marker("points"))
                self.names[item.nodeid] = name
                self.weights[item.nodeid] = w
                tests.append([name, w])
            for chunk in chunk_collected(tests):
                chan.send({"t": "collected", "tests": chunk})

        def pytest_runtest_logstart(self, nodeid, location) -> None:  # type: ignore[no-untyped-def]
            if events is not None:
                events.clear()

        @pytest.hookimpl(wrapper=True)
        def pytest_runtest_makereport(self, item, call):  # type: ignore[no-untyped-def]
            rep = yield
            msg, exc = "", ""
            xfail = hasattr(rep, "wasxfail")
            if call.excinfo is not None:
                exc = call.excinfo.typename
                if rep.outcome == "skipped" or xfail:
                    # Only markers the instructor wrote make a test skip or xfail: an
                    # imperative pytest.skip()/xfail() (which student code could raise
                    # in the single-process runtime) fails the test.
                    marked = has_marker(item, "xfail") if xfail else \
                        has_marker(item, "skip", "skipif")
                    if not marked:
                        what = "xfail" if xfail else "skip"
                        rep.outcome = "failed"
                        xfail = False
                        msg = f"pytest.{what}() called imperatively: not allowed, the test fails"
                        exc = "Failed"
                        self.phases.setdefault(item.nodeid, {})[call.when] = (
                            "failed", msg, exc, False)
                        return rep
                if rep.outcome == "skipped":
                    lr = rep.longrepr
                    reason = str(lr[2]) if isinstance(lr, tuple) and len(lr) == 3 else ""
                    msg = truncate(reason.removeprefix("Skipped: "))
                else:
                    msg = short_message(call.excinfo.value)
            self.phases.setdefault(item.nodeid, {})[call.when] = (rep.outcome, msg, exc, xfail)
            return rep

        def pytest_runtest_logfinish(self, nodeid, location) -> None:  # type: ignore[no-untyped-def]
            if nodeid not in self.names or chan.final:
                return
            ph = self.phases.pop(nodeid, {})
            outcome, msg, exc = "passed", "", ""
            setup = ph.get("setup")
            call_ = ph.get("call")
            teardown = ph.get("teardown")
            if setup is None:
                outcome, msg = "error", "not run"
            elif setup[0] == "failed":
                outcome, msg, exc = "error", setup[1], setup[2]
            elif setup[0] == "skipped":
                outcome, msg = ("passed", "") if setup[3] else ("skipped", setup[1])
            elif call_ is not None:
                if call_[0] == "failed":
                    outcome, msg, exc = "failed", call_[1], call_[2]
                elif call_[0] == "skipped" and not call_[3]:
                    outcome, msg = "skipped", call_[1]
            if outcome == "passed" and teardown is not None and teardown[0] == "failed":
                outcome, msg, exc = "error", teardown[1], teardown[2]
            rec = {"t": "test", "name": self.names[nodeid], "outcome": outcome,
                   "weight": self.weights[nodeid], "msg": msg, "exc": exc}
            ev = worst_event(events) if events else ""
            if ev:
                rec["ev"] = ev
                if outcome == "passed":  # the test swallowed the failed call: still a fail
                    rec["outcome"], rec["msg"] = "failed", f"the student's code: {ev}"
            chan.send(rec)

    return GradePlugin()


PYTEST_ARGS = ["-s", "--assert=plain",
               "-p", "no:terminal", "-p", "no:cacheprovider", "-p", "no:stepwise",
               "-p", "no:warnings", "-p", "no:pastebin", "-p", "no:junitxml",
               "-p", "no:doctest", "-p", "no:randomly", "-p", "no:debugging",
               "-p", "no:faulthandler", "-p", "no:setuponly", "-p", "no:setupplan"]

# The sandbox's tests directory, and a pytest configuration prepared for it in the warm
# zygote (prepare_pytest): argument parsing, plugin registration and the option parser
# cost more CPU than a small exercise's tests, and are the same for every job. Prepared
# with --rootdir / (which exists where the zygote runs; the tests directory does not),
# so its node ids start with PREPARED_PREFIX, which the reports drop.
SBX_TESTS = "/gradeq/tests"
PREPARED_PREFIX = "gradeq/tests/"
INI_FILES = ("pytest.ini", ".pytest.ini", "pyproject.toml", "tox.ini", "setup.cfg")
_prepared = None


def prepare_pytest() -> None:
    """In the zygote, before any fork: a Config for SBX_TESTS, ready to run."""
    global _prepared
    from _pytest.config import _prepareconfig  # noqa: PLC0415
    _prepared = _prepareconfig([SBX_TESTS, "--rootdir", "/", *PYTEST_ARGS], [])


def run_pytest(pytest, tests: str, plugin) -> int:  # type: ignore[no-untyped-def]
    """One pytest session over tests with plugin: from the prepared configuration when
    there is one for this directory (the tests process runs one session: the Config is
    used once, in this fork only) and the exercise brings no ini file or conftest.py of
    its own, else as pytest.main would."""
    config = _prepared
    if config is None or tests != SBX_TESTS or \
            any(os.path.exists(os.path.join(tests, f)) for f in INI_FILES) or \
            any("conftest.py" in files for _d, _s, files in os.walk(tests)):
        # an ini file or a conftest.py of the exercise's own: read at configuration time,
        # which the prepared Config has passed already
        return pytest.main([tests, "--rootdir", tests, *PYTEST_ARGS], plugins=[plugin])
    os.environ["PYTEST_VERSION"] = pytest.__version__
    config.pluginmanager.register(plugin)
    try:
        return config.hook.pytest_cmdline_main(config=config)
    finally:
        config._ensure_unconfigure()


class _StandIn:
    """Whatever a hidden test module asks of a submission that could not be imported."""

    def __call__(self, *args: object, **kwargs: object) -> "_StandIn":
        return self

    def __getattr__(self, name: str) -> "_StandIn":
        if name.startswith("__"):
            raise AttributeError(name)
        return self


def collect_against_stub(tests: str, chan: Channel, pytest) -> None:  # type: ignore[no-untyped-def]
    """Lists the hidden tests (names and weights) when the submission cannot be imported,
    so its record shows every test as not run and the real maximum, not 0/0. The hidden
    test modules import a stand-in `submission`; nothing of the student's code runs."""
    import types  # noqa: PLC0415

    stub = types.ModuleType("submission")
    def stand_in(name: str) -> _StandIn:
        if name.startswith("__"):
            raise AttributeError(name)
        return _StandIn()

    stub.__getattr__ = stand_in  # type: ignore[method-assign]
    sys.modules["submission"] = stub
    tests_abs = os.path.realpath(tests)
    for name, mod in list(sys.modules.items()):
        f = getattr(mod, "__file__", None) or ""
        if f and os.path.realpath(f).startswith(tests_abs + os.sep):
            del sys.modules[name]
    plugin = make_plugin(chan, pytest)
    try:
        pytest.main([tests, "--rootdir", tests, "--collect-only", *PYTEST_ARGS], plugins=[plugin])
    except BaseException:  # noqa: BLE001 - best effort: the import error is what counts
        pass


def parse_args(argv: list) -> dict:
    args = {"tests": None, "work": None, "safety": False, "probe": False,
            "two_process": False, "collect": False, "call_timeout": 10.0,
            "mograder": False}
    it = iter(argv)
    for a in it:
        if a == "--tests":
            args["tests"] = next(it, None)
        elif a == "--work":
            args["work"] = next(it, None)
        elif a == "--safety-check":
            args["safety"] = True
        elif a == "--probe":
            args["probe"] = True
        elif a == "--two-process":
            args["two_process"] = True
        elif a == "--collect":
            args["collect"] = True
        elif a == "--mograder":  # a mograder exercise (mog_trusted.py)
            args["mograder"] = True
        elif a == "--call-timeout":
            try:
                args["call_timeout"] = float(next(it, ""))
            except ValueError:
                raise SystemExit("harness: --call-timeout needs seconds") from None
            if not 0 < args["call_timeout"] <= 3600:
                raise SystemExit("harness: --call-timeout out of range")
        else:
            raise SystemExit(f"harness: unknown argument {a!r}")
    if not args["probe"] and not (args["tests"] and args["work"]):
        raise SystemExit("harness: --tests DIR and --work DIR are required")
    return args


def check_source(args: dict, chan: Channel) -> bool:
    """The static safety check, when asked for. False when the run is over (the source
    could not be read, or it was refused: the final record is sent)."""
    if not args["safety"]:
        return True
    try:
        with open(os.path.join(args["work"], "submission.py"), "rb") as f:
            source = f.read()
    except OSError as e:
        chan.send({"t": "import_error", "msg": short_message(e), "exc": type(e).__name__})
        return False
    problems = safety_problems(source)
    if problems:
        # nothing of the refused source runs; the node lists every published test as
        # not run
        chan.send({"t": "rejected", "reason": truncate("; ".join(problems))})
        return False
    return True


def finish(code, plugin, chan: Channel) -> int:  # type: ignore[no-untyped-def]
    if plugin.collect_error and not chan.final:
        # e.g. `from submission import NAME` with NAME missing in the notebook
        chan.send({"t": "import_error", "msg": plugin.collect_error, "exc": plugin.collect_exc})
        return 0
    if chan.final:
        return 0
    code = int(code)
    if code in (0, 1, 5):  # OK, TESTS_FAILED, NO_TESTS_COLLECTED
        chan.send({"t": "end", "ms": monotonic_ms(), "code": code})
        return 0
    print(f"harness: pytest stopped with exit code {code}", file=sys.stderr)
    return 3


def run_collect(args: dict, chan: Channel) -> int:
    """Publishing: the test list (ids and weights) against a stand-in submission."""
    import pytest  # noqa: PLC0415
    collect_against_stub(args["tests"], chan, pytest)
    chan.send({"t": "end", "ms": monotonic_ms(), "code": 0})
    return 0


def run_two_process(args: dict, chan: Channel) -> int:
    """The tests process: the submission runs in the student process, reached through
    proxy.py; nothing of it is imported here."""
    if not check_source(args, chan):
        return 0
    import pytest  # noqa: PLC0415
    import proxy  # noqa: PLC0415

    pchan = proxy.Channel(args["call_timeout"])
    try:
        names = pchan.start(None)  # the node's wall clock bounds a hanging import
    except proxy.StudentError as e:
        chan.send({"t": "import_error", "msg": truncate(str(e)), "exc": "StudentCrashed"})
        return 0
    if names is None:
        msg, exc = pchan.import_error or ("import failed", "ImportError")
        chan.send({"t": "import_error", "msg": truncate(f"{exc}: {msg}"), "exc": exc})
        return 0
    sys.modules["submission"] = proxy.SubmissionModule(pchan, names)
    proxy.install_seed_hooks()
    chan.send({"t": "imported", "ms": monotonic_ms()})
    plugin = make_plugin(chan, pytest, proxy.EVENTS)
    code = run_pytest(pytest, args["tests"], plugin)
    return finish(code, plugin, chan)


def run(args: dict, chan: Channel) -> int:
    """The single-process runtime: the submission is imported here (forgeable)."""
    if args["mograder"]:
        if not args["collect"] and not check_source(args, chan):
            return 0
        import mog_trusted  # noqa: PLC0415
        return mog_trusted.run(args, chan, sys.modules[__name__])
    if args["collect"]:
        return run_collect(args, chan)
    if args["two_process"]:
        return run_two_process(args, chan)
    tests, work = args["tests"], args["work"]
    if not check_source(args, chan):
        return 0

    sys.dont_write_bytecode = True
    import pytest  # noqa: PLC0415 - after hello, on purpose
    import marimo  # noqa: F401,PLC0415

    sys.path.insert(0, work)
    try:
        import submission  # noqa: F401,PLC0415
    except BaseException as e:  # SystemExit, KeyboardInterrupt, MemoryError...
        chan.send({"t": "import_error", "msg": short_message(e), "exc": type(e).__name__})
        return 0
    chan.send({"t": "imported", "ms": monotonic_ms()})

    plugin = make_plugin(chan, pytest)
    code = run_pytest(pytest, tests, plugin)
    return finish(code, plugin, chan)


def main(argv: list) -> int:
    t0 = monotonic_ms()
    args = parse_args(argv)
    if args["probe"]:
        print(f"gradeq-harness {VERSION} protocol {PROTOCOL}")
        return 0
    chan = Channel(RESULT_FD)
    chan.send({"t": "hello", "v": PROTOCOL, "t0": t0})
    # Nothing but stdio, the result pipe (and in the two-process runtime the supervisor's
    # socket) stays open (bwrap's status fd is inherited otherwise).
    keep = RESULT_FD + 1 if args["two_process"] else RESULT_FD
    try:
        os.closerange(keep + 1, os.sysconf("SC_OPEN_MAX"))
    except (OSError, ValueError):
        os.closerange(keep + 1, 1024)
    return run(args, chan)


def entry(argv: list) -> None:
    """Runs main() and ends the process with its status (os._exit: no atexit handlers,
    no waiting on threads)."""
    rc = 3
    try:
        rc = main(argv)
    except SystemExit as e:
        rc = e.code if isinstance(e.code, int) else 2
        if not isinstance(e.code, int) and e.code is not None:
            print(e.code, file=sys.stderr)
    except BaseException as e:  # noqa: BLE001 - the node sees "crashed" + this line
        print(f"harness: {short_message(e)}", file=sys.stderr)
        rc = 3
    finally:
        for s in (sys.stdout, sys.stderr):
            try:
                s.flush()
            except BaseException:  # noqa: BLE001
                pass
    os._exit(rc)


if __name__ == "__main__":
    entry(sys.argv[1:])
