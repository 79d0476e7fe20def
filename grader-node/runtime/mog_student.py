"""The student process of a mograder job: runs the notebook's cells, serves their names.

Instead of importing submission.py as a module (student.py's default), the notebook's
cells run one by one in marimo's dataflow order (mog_source.dataflow_order) in one
namespace, each under a time limit (CELL_TIMEOUT, the job's per-call limit). A cell that
raises, does not compile or runs out of time fails, its names are removed, and every
cell that reads from it is skipped: the names the other cells define are still served,
so a hang or crash costs only the checks that depend on it. The student's own check
cells and marks cell do not run here (the source's run in the tests process).

`mograder.runtime` is a stand-in module here (the grading environment has no mograder):
Grader/check do nothing, so a notebook's import cell runs as written.

A cell that cannot be interrupted (a hang in C code, a loop that swallows the alarm) is
recorded in PROGRESS before it starts, and a progress frame goes to the tests side when
each cell starts and ends; when none came for a while, the tests side kills this process
and asks for a fresh one, which skips that cell (and every cell that ran out of time
before).

Nothing here is trusted by the tests side (docs/security.md).
"""

from __future__ import annotations

import builtins
import os
import signal
import sys
import types
from typing import Any

import mog_source

CELL_TIMEOUT = 10.0
CELLS_NAME = "_gq_mograder_cells"  # served: the code of the notebook's cells
PROGRESS = "/work/.gradeq-mograder-progress"


class CellTimeout(BaseException):
    """Raised into a cell that ran past CELL_TIMEOUT."""


_running = -1   # the cell that runs now (progress only), and whether its alarm fired
_fired = False
SWALLOW_S = 0.2  # after the alarm: a cell still running then swallowed its timeout


def _alarm(_sig: int, _frame: Any) -> None:
    global _fired
    if _fired and _running >= 0:
        # the cell caught its CellTimeout and went on: it would hold the run until the
        # job's clock ends it. It is recorded as timed out and this process ends (the
        # tests side starts another, which skips the cell).
        _mark_end(_running, True, tell=False)  # the last frame says the cell runs
        os._exit(0)
    _fired = True
    signal.setitimer(signal.ITIMER_REAL, SWALLOW_S)
    raise CellTimeout(f"the cell did not finish within {CELL_TIMEOUT:g} s")


def shim_mograder() -> None:
    """sys.modules["mograder.runtime"]: what a notebook imports from mograder, inert."""
    pkg = types.ModuleType("mograder")
    rt = types.ModuleType("mograder.runtime")

    def check(label: Any, checks: Any = None) -> None:
        return None

    class Grader:
        def __init__(self, marks: Any = None) -> None:
            self.marks = marks
            self.check = check

        def scores(self) -> None:
            return None

    def _none(*_a: Any, **_k: Any) -> None:
        return None

    rt.check, rt.Grader = check, Grader
    rt.hint = rt.word_count = rt.fetch = rt.submit = rt.status = _none
    pkg.runtime = rt
    pkg.__path__ = []
    sys.modules["mograder"], sys.modules["mograder.runtime"] = pkg, rt


_progress_fd = -1  # the parked channel to the tests side, while the cells run
# {"progress": N} as one frame, built without builtins or modules the cells may patch
# (len, os.write...): a 4-byte length, a msgpack map of one key, N as a uint16
_PROGRESS_HEAD = b"\x00\x00\x00\x0d\x81\xa8progress\xcd"
_write, _OSError = os.write, OSError


def _tell(index: int) -> None:
    """A progress frame to the tests side (proxy.Channel.start waits for a step from
    the last one): a cell that neither ends nor is stopped by its alarm is cut there.
    index: 2 * cell when a cell starts, 2 * cell + 1 when it ended."""
    if _progress_fd < 0:
        return
    try:
        _write(_progress_fd, _PROGRESS_HEAD + (index & 0xFFFF).to_bytes(2, "big"))
    except _OSError:
        pass


def _mark_start(index: int) -> None:
    _tell(2 * index)
    try:
        with open(PROGRESS, "a", encoding="ascii") as f:
            f.write(f"s{index}\n")
    except OSError:
        pass


def _mark_end(index: int, timed_out: bool, tell: bool = True) -> None:
    # a cell that ended is not stuck ("s" lines without their "e"); one that ran out of
    # time ("t") is skipped by the next incarnation too (it would only time out again)
    if tell:
        _tell(2 * index + 1)
    try:
        with open(PROGRESS, "a", encoding="ascii") as f:
            f.write(f"{'t' if timed_out else 'e'}{index}\n")
    except OSError:
        pass


def _stuck_from_progress() -> set[int]:
    try:
        with open(PROGRESS, encoding="ascii") as f:
            lines = f.read().split()
    except OSError:
        return set()
    started = {int(x[1:]) for x in lines if x[:1] == "s" and x[1:].isdigit()}
    ended = {int(x[1:]) for x in lines if x[:1] in "et" and x[1:].isdigit()}
    timed = {int(x[1:]) for x in lines if x[:1] == "t" and x[1:].isdigit()}
    return (started - ended) | timed


def run_cells(text: str, namespace: dict, timeout: float | None,
              stuck: set[int] | None = None, progress: bool = False,
              codes: list | None = None) -> dict[int, str]:
    """Runs the notebook's cells (not its check cells, nor cells that only display
    markdown) into namespace; returns {cell index: why it did not run or failed}.
    timeout None: no per-cell limit; progress: record each cell's start and end in
    PROGRESS and cut a cell that swallows its timeout (the student process); codes: the
    code of every cell is appended to it."""
    global _running, _fired
    cells = mog_source.parse_cells(text)
    if codes is not None:
        codes.extend(c.code for c in cells)
    skip = {c.index for c in cells if c.check or mog_source.display_only(c)}
    order, errors = mog_source.dataflow_order(cells, skip)
    by_index = {c.index: c for c in cells}
    failed: set[int] = set()
    stuck = stuck or set()
    for i in order:
        c = by_index[i]
        if i in errors:
            continue
        if i in stuck:
            errors[i] = "CellTimeout: the cell did not finish in an earlier run"
        elif any(p in failed for p in _parents(c, by_index, order)):
            errors[i] = "not run: a cell it depends on failed"
        else:
            try:
                code = compile(c.code, f"<cell {i + 1}>", "exec", dont_inherit=True)
            except BaseException as e:  # noqa: BLE001
                errors[i] = f"{type(e).__name__}: {e}"
            else:
                if progress:
                    _mark_start(i)
                    _running, _fired = i, False
                old = None
                try:
                    if timeout:
                        old = signal.signal(signal.SIGALRM, _alarm)
                        signal.setitimer(signal.ITIMER_REAL, timeout)
                    exec(code, namespace)  # noqa: S102 - the student's own process
                except BaseException as e:  # noqa: BLE001 - any failure fails the cell
                    msg = str(e) if type(e) is not CellTimeout else e.args[0]
                    errors[i] = f"{type(e).__name__}: {msg}"[:500]
                finally:
                    if timeout:
                        signal.setitimer(signal.ITIMER_REAL, 0)
                        if old is not None:
                            signal.signal(signal.SIGALRM, old)
                    _running = -1
                if progress:
                    _mark_end(i, errors.get(i, "").startswith("CellTimeout"))
        if i in errors:
            failed.add(i)
            for d in c.defs:
                namespace.pop(d, None)
            print(f"mograder: cell {i + 1} failed: {errors[i]}", file=sys.stderr)
    return errors


def _parents(c: mog_source.Cell, by_index: dict, order: list[int]) -> set[int]:
    out = set()
    for j in order:
        if j != c.index and by_index[j].defs & c.refs:
            out.add(j)
    return out


def load(path: str) -> types.ModuleType:
    """student.serve's loader: the notebook's cells run into a module's namespace."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
    except OSError as e:
        raise ImportError(f"cannot read the notebook: {e}") from None
    if not text.strip():
        raise ImportError("the notebook is empty")
    shim_mograder()
    mod = types.ModuleType("submission")
    mod.__file__ = path
    sys.modules["submission"] = mod
    saved_builtins = dict(builtins.__dict__)
    global _progress_fd
    import student  # noqa: PLC0415
    fds = _park_channel()
    _progress_fd = next((copy for fd, copy in fds if fd == student.RESP_FD), -1)
    codes: list[str] = []
    try:
        run_cells(text, mod.__dict__, CELL_TIMEOUT, _stuck_from_progress(), progress=True,
                  codes=codes)
        # the cells' code as plain data, for the tests side's report of restored check
        # cells (feedback only: no mark depends on it; mog_trusted.restored_cells)
        mod.__dict__[CELLS_NAME] = codes
    except mog_source.SourceError as e:
        raise ImportError(str(e)) from None
    finally:
        _progress_fd = -1
        _restore_channel(fds)
        # the cells' changes to builtins stay in the cells: the server that answers the
        # tests side works with the real ones (a notebook that patches len() breaks
        # nothing but its own answers)
        builtins.__dict__.clear()
        builtins.__dict__.update(saved_builtins)
    return mod


def _park_channel() -> list[tuple[int, int]]:
    """While the cells run, the channel's descriptors point at /dev/null and the real
    ones wait elsewhere (a random number under the descriptor limit): a cell that writes on every descriptor
    does not reach the tests side. Returns [(channel fd, parked copy)]."""
    import fcntl  # noqa: PLC0415
    import student  # noqa: PLC0415
    out = []
    try:
        null = os.open("/dev/null", os.O_RDWR | os.O_CLOEXEC)
    except OSError:
        return out
    import resource  # noqa: PLC0415
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    top = min(soft if soft > 0 else 1024, 1024) - 4
    base = 32 + (int.from_bytes(os.urandom(2), "big") % max(1, top - 32))
    for fd in (student.REQ_FD, student.RESP_FD):
        try:
            copy = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, base)
            os.dup2(null, fd, inheritable=False)
            out.append((fd, copy))
        except OSError:
            pass
    os.close(null)
    return out


def _restore_channel(fds: list[tuple[int, int]]) -> None:
    for fd, copy in fds:
        try:
            os.dup2(copy, fd, inheritable=False)
            os.close(copy)
        except OSError:
            pass


def main() -> None:
    import student  # noqa: PLC0415
    student.main(loader=load)

