"""The tests process of a mograder job: the SOURCE's check cells, scored here.

The exercise's source notebook is the bundle's tests/mograder_source.py (never shown to
the student process). Its cells fall in three groups:
- check cells (they call check()): run HERE, always the source's code, whatever the
  student's copy says; `check` is this file's recorder (Recorder), so check() results
  exist only in this process;
- trusted cells: cells without a solution block that read only from other trusted
  cells (imports, the marks cell, fixed data): run HERE, from the source;
- every other cell (the solutions and what depends on them) is the student's work: the
  names a check cell reads from them come from the student process (mog_student.py) as
  plain data, functions and other objects as proxies (proxy.py). A name whose cell
  failed, hung or was removed is missing: the check cell reading it scores 0.

Collect (at publish, `--collect`): the whole source runs here; every check must pass
(no cell error, every item true, no check without items), and the list of check items
with their weights is published: an item of key K with weight w weighs
marks[K] * w / W[K], W[K] the total weight of all of K's items (visible and hidden), so
the score, the sum of the weights of the items that pass, is the documented formula.
Weight-0 entries carry the per-question summary, the manual keys and the restored check
cells (docs/exercises.md, "mograder exercises").
"""

from __future__ import annotations

import builtins
import math
import os
import sys
import types
from typing import Any

import mog_source

MSG_MAX = 400
RESTORED = "check cells restored from the source"


def item_name(key: str, hidden: bool, cell: int, call: int, item: int) -> str:
    kind = "hidden check" if hidden else "check"
    return f"{key}: {kind} {cell + 1}.{call} item {item}"


def summary_name(key: str) -> str:
    return f"{key}: question"


def manual_name(key: str) -> str:
    return f"{key}: marked by hand"


def _truth(v: Any) -> bool:
    """Whether an item passed. Only values decoded here decide: a proxy to a student
    object (whatever its __bool__ says) counts as false."""
    t = type(v)
    if t is bool:
        return v
    if t in (int, float):
        return v != 0
    if t in (str, bytes, list, tuple, dict, set, frozenset):
        return len(v) > 0
    np = sys.modules.get("numpy")
    if np is not None:
        if t is np.bool_:
            return bool(v)
        if t is np.ndarray and v.size == 1 and v.dtype.kind in "biuf":
            return bool(v.reshape(()))
        if isinstance(v, np.generic) and t.__module__ == "numpy":
            return bool(v)
    return False


def _text(v: Any) -> str:
    if type(v) is str:
        return v[:MSG_MAX]
    if type(v) in (int, float, bool) or v is None:
        return str(v)
    return "<message is not a string>"


class Call:
    def __init__(self, cell: int, k: int, label: str, hidden: bool) -> None:
        self.cell, self.k, self.label, self.hidden = cell, k, label, hidden
        self.key = mog_source.question_key(label)
        self.items: list[tuple[bool, str, float]] = []
        self.error = ""  # the cell failed before or during this call


class Recorder:
    """check() and Grader on the trusted side."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.cell = -1
        self.k = 0
        self.filename = ""
        self.hidden: set[int] = set()

    def begin(self, cell: mog_source.Cell) -> str:
        self.cell, self.k = cell.index, 0
        self.filename = f"<mograder check cell {cell.index + 1}>"
        self.hidden = mog_source.hidden_lines(cell.code)
        return self.filename

    def _line(self) -> int:
        f = sys._getframe(2)
        while f is not None and f.f_code.co_filename != self.filename:
            f = f.f_back
        return f.f_lineno if f is not None else 0

    def check(self, label: Any, checks: Any = None) -> None:
        if self.cell < 0:
            return None  # called outside a check cell (e.g. from a trusted cell)
        self.k += 1
        c = Call(self.cell, self.k, _text(label), self._line() in self.hidden)
        self.calls.append(c)
        if type(checks) not in (list, tuple):
            raise TypeError("check() needs a list of (ok, message[, weight]) items")
        for it in checks:
            if type(it) not in (tuple, list) or len(it) not in (2, 3):
                raise TypeError("a check item is (ok, message) or (ok, message, weight)")
            w = 1.0
            if len(it) == 3:
                if type(it[2]) not in (int, float) or not math.isfinite(it[2]) or it[2] < 0:
                    raise ValueError("a check weight is a finite number >= 0")
                w = float(it[2])
            c.items.append((_truth(it[0]), _text(it[1]), w))
        return None

    def end(self) -> None:
        self.cell = -1

    def shim(self) -> None:
        """sys.modules["mograder.runtime"] in this process: Grader/check are ours."""
        rec = self
        pkg = types.ModuleType("mograder")
        rt = types.ModuleType("mograder.runtime")

        class Grader:
            def __init__(self, marks: Any = None) -> None:
                self.marks = marks
                self.check = rec.check

            def scores(self) -> None:
                return None

        def _none(*_a: Any, **_k: Any) -> None:
            return None

        rt.check, rt.Grader = rec.check, Grader
        rt.hint = rt.word_count = rt.fetch = rt.submit = rt.status = _none
        pkg.runtime = rt
        pkg.__path__ = []
        sys.modules["mograder"], sys.modules["mograder.runtime"] = pkg, rt


class Source:
    """The parsed source notebook and what runs where."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.cells = mog_source.parse_cells(text)
        self.marks = mog_source.marks_of(self.cells)
        bad = [c for c in self.cells if c.error]
        if bad:
            raise mog_source.SourceError(f"cell {bad[0].index + 1}: {bad[0].error}")
        self.checks = [c for c in self.cells if c.check]
        if not self.checks:
            raise mog_source.SourceError("no check cells (cells calling check())")
        self.order, errors = mog_source.dataflow_order(
            self.cells, {c.index for c in self.checks})
        if errors:
            i = min(errors)
            raise mog_source.SourceError(f"cell {i + 1}: {errors[i]}")
        self.definer: dict[str, int] = {}
        for c in self.cells:
            if not c.check:
                for d in c.defs:
                    self.definer[d] = c.index
        by = {c.index: c for c in self.cells}
        self.trusted: set[int] = set()
        for i in self.order:
            c = by[i]
            if mog_source.has_solution(c.code) or mog_source.display_only(c):
                continue
            if all(self.definer.get(r) is None or self.definer[r] in self.trusted
                   for r in c.refs):
                self.trusted.add(i)
        self.by = by
        # each key's total item weight, from the source text when every check cell is
        # straight-line (the weights then need no run: `gradeq grade` without a published
        # list scores as a node does)
        self.static_total: dict[str, float] | None = {}
        for c in self.checks:
            st = mog_source.static_items(c.code)
            if st is None or any(lab is None for _, lab, _ in st):
                self.static_total = None
                break
            for _, lab, ws in st:
                k = mog_source.question_key(lab)
                self.static_total[k] = self.static_total.get(k, 0.0) + sum(ws)
        self.static_keys = set(self.static_total or ())
        for c in self.checks:
            for _, lab, _ in mog_source.static_items(c.code) or []:
                if lab:
                    self.static_keys.add(mog_source.question_key(lab))


def _exec_cell(cell: mog_source.Cell, filename: str, g: dict) -> None:
    exec(compile(cell.code, filename, "exec", dont_inherit=True), g)  # noqa: S102


def run_trusted_cells(src: Source, rec: Recorder, ns: dict, only_trusted: bool) -> dict:
    """Runs the source's non-check cells here (the trusted ones, or all of them at
    collect) in dataflow order; returns {cell index: error}."""
    rec.shim()
    errors = {}
    for i in src.order:
        if only_trusted and i not in src.trusted:
            continue
        c = src.by[i]
        if mog_source.display_only(c):
            continue
        try:
            _exec_cell(c, f"<mograder cell {i + 1}>", ns)
        except BaseException as e:  # noqa: BLE001
            errors[i] = f"{type(e).__name__}: {e}"[:MSG_MAX]
            for d in c.defs:
                ns.pop(d, None)
    return errors


def run_check_cells(src: Source, rec: Recorder, trusted_ns: dict, student: Any,
                    done: Any = None) -> dict:
    """Runs every source check cell here; names from trusted cells come from
    trusted_ns, the others from `student` (an object with .names and .get(name)), or
    the cell does not run. done(cell index, error or ""), when given, is called after
    each cell (grading streams that cell's records from it). Returns {cell index:
    error}."""
    errors = {}
    for c in src.checks:
        g: dict = {"__builtins__": builtins, "__name__": "__mograder_check__"}
        missing = []
        err = ""
        try:
            for r in sorted(c.refs):
                d = src.definer.get(r)
                if d is not None and d in src.trusted and r in trusted_ns:
                    g[r] = trusted_ns[r]
                elif d is None:
                    continue  # a builtin (or a name nothing defines): never the student's
                elif student is not None and r in student.names:
                    g[r] = student.get(r)
                else:
                    missing.append(r)
        except BaseException as e:  # noqa: BLE001 - a proxied read that hung or crashed
            err = f"{type(e).__name__}: {e}"
        if missing and not err:
            err = (f"not run: {', '.join(missing)} not defined (the cell defining it "
                   f"failed, hung or was removed)")
        if not err:
            fn = rec.begin(c)
            try:
                _exec_cell(c, fn, g)
            except BaseException as e:  # noqa: BLE001 - the cell's items score 0
                err = f"{type(e).__name__}: {e}"
            rec.end()
        if err:
            errors[c.index] = err[:MSG_MAX]
        if done is not None:
            done(c.index, errors.get(c.index, ""))
    return errors


def _cell_failed(src: Source, rec: Recorder, errors: dict) -> None:
    """The items a failed check cell did not report, from its source (straight-line
    cells), as failed items of a Call with .error set."""
    for i, err in sorted(errors.items()):
        made = [c for c in rec.calls if c.cell == i]
        for c in made:
            c.error = err
        static = mog_source.static_items(src.by[i].code) or []
        hidden = mog_source.hidden_lines(src.by[i].code)
        for k, (line, label, weights) in enumerate(static, 1):
            if k <= len(made) or label is None:
                continue
            c = Call(i, k, label, line in hidden)
            c.items = [(False, "", w) for w in weights]
            c.error = err
            rec.calls.append(c)


def publish_list(src: Source, rec: Recorder) -> list:
    """[[name, weight]...] from a source run where everything passed."""
    total: dict[str, float] = {}
    for c in rec.calls:
        total[c.key] = total.get(c.key, 0.0) + sum(w for _, _, w in c.items)
    tests = []
    for c in sorted(rec.calls, key=lambda c: (c.cell, c.k)):
        for j, (_, _, w) in enumerate(c.items, 1):
            m = src.marks.get(c.key, 0.0)
            weight = m * w / total[c.key] if total[c.key] > 0 else 0.0
            tests.append([item_name(c.key, c.hidden, c.cell, c.k, j), weight])
    for key in sorted(total):
        tests.append([summary_name(key), 0.0])
    for key in sorted(set(src.marks) - set(total)):
        tests.append([manual_name(key), 0.0])
    tests.append([RESTORED, 0.0])
    return tests


def _norm(code: str) -> str:
    lines = mog_source.release(code).splitlines() if mog_source.HIDDEN_BEGIN in code \
        else code.splitlines()
    return "\n".join(x.strip() for x in lines if x.strip())


def restored_cells(src: Source, student_text: str | None,
                   codes: list | None = None) -> list[str]:
    """The source check cells the student's notebook does not hold as released
    (deleted or edited): graded from the source all the same, and reported. codes: the
    notebook's cells as the student process parsed them (plain strings), else they are
    parsed here. Only this report depends on them: the checks that run are the
    source's, so a student process that lies here hides its own edits and nothing else."""
    if student_text is None:
        return []
    try:
        if codes is None:
            codes = mog_source.cell_codes(student_text)
        theirs = {_norm(code) for code in codes}
    except BaseException:  # noqa: BLE001 - not a notebook at all: every cell is restored
        theirs = set()
    out = []
    for c in src.checks:
        if _norm(c.code) not in theirs:
            keys = sorted({k for _, lab, _ in (mog_source.static_items(c.code) or [])
                           if lab for k in [mog_source.question_key(lab)]})
            out.append(f"cell {c.index + 1}" + (f" ({', '.join(keys)})" if keys else ""))
    return out


def _totals(src: Source, rec: Recorder) -> dict[str, float]:
    if src.static_total is not None:
        return src.static_total
    seen: dict[str, float] = {}
    for c in rec.calls:
        seen[c.key] = seen.get(c.key, 0.0) + sum(w for _, _, w in c.items)
    return seen


def static_list(src: Source) -> list | None:
    """[[name, weight]...] of a grading run, from the source text alone when every
    check cell is straight-line (src.static_total): the same list collect publishes.
    None otherwise (the items are known only by running)."""
    if src.static_total is None:
        return None
    tests = []
    for c in src.checks:
        hidden = mog_source.hidden_lines(c.code)
        for k, (line, label, weights) in enumerate(mog_source.static_items(c.code) or [], 1):
            key = mog_source.question_key(label or "")
            t = src.static_total.get(key, 0.0)
            m = src.marks.get(key, 0.0)
            for j, w in enumerate(weights, 1):
                tests.append([item_name(key, line in hidden, c.index, k, j),
                              m * w / t if t > 0 else 0.0])
    for key in sorted(src.static_total):
        tests.append([summary_name(key), 0.0])
    for key in sorted(set(src.marks) - set(src.static_total)):
        tests.append([manual_name(key), 0.0])
    tests.append([RESTORED, 0.0])
    return tests


def item_records(src: Source, rec: Recorder, calls: list) -> list[dict]:
    """The records of these calls' items (one check cell's, or all)."""
    recs = []
    total = _totals(src, rec)
    for c in sorted(calls, key=lambda c: (c.cell, c.k)):
        t = total.get(c.key, 0.0)
        scale = src.marks.get(c.key, 0.0) / t if t > 0 else 0.0
        for j, (ok, msg, w) in enumerate(c.items, 1):
            if c.error:
                why = (f"check cell failed: {c.error}" if not c.hidden else
                       f"hidden check cell failed: {c.error.split(':')[0]}")
                m, outcome = why, "failed"
            elif ok:
                m, outcome = "", "passed"
            else:
                outcome = "failed"
                m = "hidden check failed" if c.hidden else f"{c.label}: {msg}"
            recs.append({"t": "test", "name": item_name(c.key, c.hidden, c.cell, c.k, j),
                         "outcome": outcome, "weight": w * scale, "msg": m[:MSG_MAX],
                         "exc": "" if outcome == "passed" else "CheckFailed"})
    return recs


def final_records(src: Source, rec: Recorder, restored: list[str]) -> list[dict]:
    """The weight-0 records after every check cell: per question, manual keys, restored
    check cells."""
    recs = []
    per_key: dict[str, list] = {}
    total = _totals(src, rec)
    for c in sorted(rec.calls, key=lambda c: (c.cell, c.k)):
        per_key.setdefault(c.key, []).append(c)
    for key in sorted(per_key):
        calls = per_key[key]
        tw = total.get(key, 0.0) or sum(w for c in calls for _, _, w in c.items)
        ew = sum(w for c in calls if not c.error for ok, _, w in c.items if ok)
        status = ("warn" if tw == 0 else "success" if ew == tw else
                  "partial" if ew > 0 else "danger")
        marks = src.marks.get(key, 0.0)
        earned = marks * ew / tw if tw else 0.0
        vis = [f"{c.label}: {m}" for c in calls if not c.hidden and not c.error
               for ok, m, _ in c.items if not ok]
        vis += [f"{c.label}: check cell failed: {c.error}" for c in calls
                if not c.hidden and c.error]
        hid = [ok and not c.error for c in calls if c.hidden for ok, _, _ in c.items]
        text = f"{status}: {earned:.4g} of {marks:g} marks"
        if hid:
            text += f"; hidden checks: {sum(hid)} of {len(hid)} passed"
        if vis:
            text += "; " + "; ".join(vis)
        recs.append({"t": "test", "name": summary_name(key),
                     "outcome": "passed" if status == "success" else "failed",
                     "weight": 0.0, "msg": text[:MSG_MAX], "exc": ""})
    for key in sorted(set(src.marks) - set(per_key) - src.static_keys):
        recs.append({"t": "test", "name": manual_name(key), "outcome": "skipped",
                     "weight": 0.0, "msg": f"marked by hand: up to {src.marks[key]:g} marks",
                     "exc": ""})
    recs.append({"t": "test", "name": RESTORED, "outcome": "failed" if restored else "passed",
                 "weight": 0.0, "exc": "",
                 "msg": ("restored and graded from the source: " + ", ".join(restored))[:MSG_MAX]
                 if restored else "none"})
    return recs


def grade_records(src: Source, rec: Recorder, restored: list[str]) -> list[dict]:
    return item_records(src, rec, rec.calls) + final_records(src, rec, restored)


CELLS_NAME = "_gq_mograder_cells"  # mog_student.CELLS_NAME


class _Remote:
    """The student process's names, through the proxy channel (codes: its cells' code,
    when it sent them as plain strings)."""

    def __init__(self, mod: Any, names: dict) -> None:
        self.mod, self.codes = mod, None
        self.names = {k: v for k, v in names.items() if k != CELLS_NAME}

    def get(self, name: str) -> Any:
        return getattr(self.mod, name)


class _Local:
    """In-process (forgeable) mode: the student's cells ran in this very process."""

    def __init__(self, ns: dict) -> None:
        self.ns = ns
        self.names = {k for k in ns if not k.startswith("__")}

    def get(self, name: str) -> Any:
        return self.ns[name]


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return None


# The zygote's parses of the sources of its recent jobs (preload), by the sha256 of the
# text: the tests process of a job, forked from the zygote, finds its source parsed
# already. Filled only in the zygote, from the bundle's file (read-only to every job),
# before the job's processes exist; a job's processes have their own copy of this memory
# and cannot write the zygote's. An entry is used only for a text whose hash matches
# the one the tests process read itself.
_PARSED: dict[str, Source] = {}
PARSED_MAX = 8


def _key(text: str) -> str:
    import hashlib  # noqa: PLC0415
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def preload(tests_dir: str) -> None:
    """In the zygote, before a mograder job's processes start: parses the job's source
    once per content (no cell runs; a source that does not parse is left to the job,
    which reports it)."""
    text = _read(os.path.join(tests_dir, mog_source.SOURCE_NAME))
    if text is None or len(text) > 16 * 1024 * 1024:
        return
    key = _key(text)
    if key in _PARSED:
        return
    try:
        src = Source(text)
    except BaseException:  # noqa: BLE001 - SourceError, RecursionError...: the job says
        return
    while len(_PARSED) >= PARSED_MAX:
        _PARSED.pop(next(iter(_PARSED)))
    _PARSED[key] = src


def _load_source(args: dict, chan: Any) -> Source | None:
    text = _read(os.path.join(args["tests"], mog_source.SOURCE_NAME))
    try:
        if text is None:
            raise mog_source.SourceError(f"tests/{mog_source.SOURCE_NAME} is missing")
        cached = _PARSED.get(_key(text)) if _PARSED else None
        if cached is not None and cached.text == text:
            import copy  # noqa: PLC0415
            src = copy.copy(cached)  # grading changes .trusted
            src.trusted = set(cached.trusted)
            return src
        return Source(text)
    except mog_source.SourceError as e:
        chan.send({"t": "import_error", "msg": f"mograder source: {e}"[:MSG_MAX],
                   "exc": "SourceError"})
        return None


def source_problems(errors: dict, rec: Recorder) -> str:
    """Why a source run does not qualify for publishing ("" when every check passed):
    the failed cells, then every check that fails (with its failing items' messages) or
    has no items, in the source's order."""
    parts = [f"cell {i + 1} of the source failed: {errors[i]}" for i in sorted(errors)]
    for c in rec.calls:
        if not c.items:
            parts.append(f"check {c.label!r} has no items (warn)")
        elif not all(ok for ok, _, _ in c.items):
            bad = "; ".join(m for ok, m, _ in c.items if not ok)
            parts.append(f"check {c.label!r} fails on the source: {bad}")
    if not parts:
        return ""
    return parts[0] if len(parts) == 1 else f"{len(parts)} problems: " + " | ".join(parts)


def collect(args: dict, chan: Any, h: Any) -> int:
    src = _load_source(args, chan)
    if src is None:
        return 0
    rec = Recorder()
    ns: dict = {"__builtins__": builtins, "__name__": "__mograder_source__"}
    errors = run_trusted_cells(src, rec, ns, only_trusted=False)
    if not errors:
        errors = run_check_cells(src, rec, ns, _Local(ns))
    problem = source_problems(errors, rec)
    if problem:
        chan.send({"t": "import_error", "msg": f"mograder source: {problem}"[:MSG_MAX],
                   "exc": "SourceCheckFailed"})
        return 0
    tests = publish_list(src, rec)
    for part in h.chunk_collected(tests):
        chan.send({"t": "collected", "tests": part})
    chan.send({"t": "end", "ms": h.monotonic_ms(), "code": 0})
    return 0


START_TRIES = 50  # student processes started for the first run (stuck cells skipped)


def _start_student(args: dict, chan: Any) -> Any:
    """The student process's names after its run of the cells (restarted past stuck
    cells), or None when the run is over (the final record is sent)."""
    import proxy  # noqa: PLC0415
    pchan = proxy.Channel(args["call_timeout"])
    # Each cell is bounded by its own alarm in the student process; a cell the alarm
    # cannot stop (a loop that swallows the timeout, a long call in C) would hold the
    # whole run until the job's wall clock ends it, and every mark with it. The student
    # process sends a progress frame when a cell starts and ends: when none came for a
    # step (the per-cell limit and a second), the cell is stuck, the process is killed
    # and the next one skips that cell (mog_student.PROGRESS). The frames are the
    # student's: they only decide how long its own run is waited for, never a mark.
    step = args["call_timeout"] + 1.0
    names = None
    for _ in range(START_TRIES):
        try:
            names = pchan.start(step)
            break
        except proxy.StudentTimeout:
            proxy.EVENTS.clear()
            continue  # a cell is stuck: the next process skips it
        except proxy.StudentCrashed as e:
            if type(pchan.progress) is int and pchan.progress % 2 == 0:
                # it died while a cell ran (the last frame is a cell's start): the next
                # process skips that cell
                proxy.EVENTS.clear()
                continue
            chan.send({"t": "import_error", "msg": str(e)[:MSG_MAX],
                       "exc": "StudentCrashed"})
            return None
        except proxy.StudentError as e:
            chan.send({"t": "import_error", "msg": str(e)[:MSG_MAX],
                       "exc": "StudentCrashed"})
            return None
    else:
        chan.send({"t": "import_error", "msg": "the notebook's cells did not finish",
                   "exc": "StudentTimeout"})
        return None
    if names is None:
        msg, exc = pchan.import_error or ("import failed", "ImportError")
        chan.send({"t": "import_error", "msg": f"{exc}: {msg}"[:MSG_MAX], "exc": exc})
        return None
    student = _Remote(proxy.SubmissionModule(pchan, names), names)
    if names.get(CELLS_NAME) == "value":
        try:
            codes = student.get(CELLS_NAME)
        except proxy.StudentError:
            codes = None
        if type(codes) is list and len(codes) <= mog_source.MAX_CELLS and \
                all(type(c) is str for c in codes):
            student.codes = codes
    return student


def grade(args: dict, chan: Any, h: Any, two_process: bool) -> int:
    """Grades the submission. Each check cell's item records are sent as soon as the
    cell has run (the list first, when the source's check cells are straight-line), so
    a run cut by the job's wall clock keeps the marks of the checks that finished; the
    node scores them against the published list either way."""
    src = _load_source(args, chan)
    if src is None:
        return 0
    rec = Recorder()
    ns: dict = {"__builtins__": builtins, "__name__": "__mograder_source__"}
    terr = run_trusted_cells(src, rec, ns, only_trusted=True)
    for i in terr:  # a trusted cell that failed here: its names come from the student
        src.trusted.discard(i)
    student_text = _read(os.path.join(args["work"], "submission.py"))
    if two_process:
        student = _start_student(args, chan)
        if student is None:
            return 0
    else:
        import mog_student  # noqa: PLC0415
        sns: dict = {"__name__": "submission"}
        if not (student_text or "").strip():
            chan.send({"t": "import_error", "msg": "ImportError: the notebook is empty",
                       "exc": "ImportError"})
            return 0
        mog_student.shim_mograder()
        try:
            mog_student.run_cells(student_text or "", sns, args["call_timeout"])
        except mog_source.SourceError as e:
            chan.send({"t": "import_error", "msg": str(e)[:MSG_MAX], "exc": "ImportError"})
            return 0
        rec.shim()
        student = _Local(sns)
    codes = getattr(student, "codes", None)
    chan.send({"t": "imported", "ms": h.monotonic_ms()})
    listed = static_list(src)
    if listed is not None:
        for part in h.chunk_collected(listed):
            chan.send({"t": "collected", "tests": part})

    def done(i: int, err: str) -> None:
        if err:
            _cell_failed(src, rec, {i: err})
        for r in item_records(src, rec, [c for c in rec.calls if c.cell == i]):
            chan.send(r)

    errors = run_check_cells(src, rec, ns, student, done if listed is not None else None)
    if listed is not None:
        recs = final_records(src, rec, restored_cells(src, student_text, codes))
    else:
        _cell_failed(src, rec, errors)
        recs = grade_records(src, rec, restored_cells(src, student_text, codes))
        for part in h.chunk_collected([[r["name"], r["weight"]] for r in recs]):
            chan.send({"t": "collected", "tests": part})
    for r in recs:
        chan.send(r)
    chan.send({"t": "end", "ms": h.monotonic_ms(), "code": 0})
    return 0


def run(args: dict, chan: Any, h: Any) -> int:
    """harness.run's entry for a mograder job (h: the harness module, for its record
    helpers)."""
    if args["collect"]:
        return collect(args, chan, h)
    return grade(args, chan, h, args["two_process"])


WARM = """import marimo
app = marimo.App()

@app.cell
def _():
    # === MOGRADER: MARKS ===
    from mograder.runtime import Grader
    _marks = {"Q1": 1}
    grader = Grader(_marks)
    check = grader.check
    return (check,)

@app.cell
def _():
    x = 1
    return (x,)

@app.cell
def _(check, x):
    check("Q1: x", [(x == 1, "x is 1")])
    return
"""


def warm_up() -> None:
    """Parses and runs a small notebook once (the zygote, before jobs): marimo's parser
    and compiler are imported and warm in every job's processes."""
    import mog_student  # noqa: PLC0415
    src = Source(WARM)
    rec = Recorder()
    ns: dict = {"__builtins__": builtins}
    run_trusted_cells(src, rec, ns, only_trusted=False)
    run_check_cells(src, rec, ns, None)
    publish_list(src, rec)
    restored_cells(src, WARM)
    mog_student.run_cells(WARM, {}, None)
    for m in ("mograder", "mograder.runtime"):
        sys.modules.pop(m, None)
    # a cell that computes something and shows it with mo.md() (not display_only) is
    # common: the first mo.md() of a process imports the markdown extensions and
    # compiles their patterns (~50 ms of a job's CPU when it happens after the fork)
    try:
        import marimo  # noqa: PLC0415
        marimo.md("**warm** `up` :smile: $x$")
    except Exception:  # noqa: BLE001 - a marimo without md(): nothing to warm
        pass
