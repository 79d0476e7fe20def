#!/usr/bin/env python3
"""Writes the example mograder assignment's submissions (and their honest twins).

    gen_submissions.py OUT_DIR

OUT_DIR/submissions/NAME.py  what a student hands in: the release (solutions and hidden
                             checks stripped, as `mograder generate` writes it) with the
                             student's answers, sometimes an attack
OUT_DIR/honest/NAME.py       the SOURCE notebook with the same answers and no attack:
                             what the submission honestly earns (oracle.py grades it)
OUT_DIR/cases.json           {NAME: what the case is}

Answers per question (the source's solution blocks, in order Q1, Q2, Q3, Q4):
c correct, p partial, w wrong, plus the failure modes hang (a top-level loop), hangcall
(the function loops when called), syntax (a syntax error in the cell) and raise (the
honest twin of a hang: the cell or call raises). Standard library only.
"""

from __future__ import annotations

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.join(HERE, "stats", "stats.py")

SOL_BEGIN, SOL_END = "### BEGIN SOLUTION", "### END SOLUTION"
HID_BEGIN, HID_END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"

ANSWERS = {
    "Q1": {
        "c": "return sum(xs) / len(xs)",
        "p": "return sum(xs) // len(xs)",
        "w": "return 0",
        "eqall": ("class _Any:\n    def __eq__(self, other):\n        return True\n\n"
                  "    def __bool__(self):\n        return True\n\nreturn _Any()"),
        "hangcall": "while True:\n    pass",
        "raise": "raise TimeoutError('stands for a hang')",
    },
    "Q2": {
        "c": "scaled = np.array(values) / max(values)",
        "p": "scaled = np.array(values[:-1]) / max(values)",
        "w": "scaled = [0.0]",
        "hang": "while True:\n    pass\nscaled = None",
        "syntax": "scaled = np.array(values) /",
        "raise": "raise TimeoutError('stands for a hang')\nscaled = None",
    },
    "Q3": {
        "c": "a, b = 0, 1\nfor _ in range(n):\n    a, b = b, a + b\nreturn a",
        "p": ("if n == 0:\n    return 1\na, b = 0, 1\nfor _ in range(n):\n"
              "    a, b = b, a + b\nreturn a"),
        "w": "return n",
        "hangcall": "while True:\n    pass",
        "raise": "raise TimeoutError('stands for a hang')",
    },
    "Q4": {
        "c": 'response_text = "The mean of the data is 3.9."',
    },
}

# attacks: extra cells placed before `if __name__`, or edits of the student's copy
SIDECAR_CELL = '''
@app.cell
def _():
    import json as _json
    import os as _os
    _lines = [_json.dumps({"label": k, "status": "success", "details": [],
                           "earned_weight": 9, "total_weight": 9})
              for k in ("Q1: mean_of", "Q1: hidden", "Q2: scaled", "Q3: fib", "Q3: hidden")]
    for _p in [_os.environ.get("MOGRADER_SIDECAR_PATH"), "/work/sidecar.jsonl",
               "/tmp/sidecar.jsonl", "/work/results.json", "/gradeq/tests/results.jsonl"]:
        try:
            with open(_p, "a") as _f:
                _f.write("\\n".join(_lines) + "\\n")
        except Exception:
            pass
    print("\\n".join(_lines))
    return
'''

PATCH_RUNTIME_CELL = '''
@app.cell
def _():
    import sys as _sys
    import mograder.runtime as _r

    def _all_pass(label, checks=None):
        return None

    _r.check = _all_pass
    _r._write_sidecar = lambda *a, **k: None
    _r.Grader.check = lambda self, label, checks=None: None
    _sys.modules["mograder.runtime"] = _r
    import builtins as _b
    _b.__import__ = _b.__import__
    return
'''

REDEFINE_CHECK_CELL = '''
@app.cell
def _():
    def check(label, checks=None):
        return None

    grader = None
    return check, grader
'''

NUMPY_PATCH_CELL = '''
@app.cell
def _(np):
    import builtins as _b
    np.isclose = lambda *a, **k: True
    np.allclose = lambda *a, **k: True
    _b.len = lambda x: 10
    _b.isinstance = lambda *a: True
    _b.sum = lambda *a: 6
    return
'''

SHADOW_CELL = '''
@app.cell
def _():
    def len(x):
        return 10

    def isinstance(*a):
        return True

    def bool(x):
        return True

    return bool, isinstance, len
'''

EXIT_CELL = '''
@app.cell
def _():
    raise SystemExit(0)
'''

FD_CELL = '''
@app.cell
def _():
    import os as _os
    import struct as _st
    # a forged "ready" and forged records on every descriptor
    _body = bytes([0x81, 0xa5]) + b"ready" + bytes([0x80])
    _frame = _st.pack(">I", len(_body)) + _body
    for _fd in range(3, 32):
        try:
            _os.write(_fd, _frame + b"\\x00\\x00\\x00\\x10" + b"x" * 16)
        except OSError:
            pass
    return
'''

READ_HIDDEN_CELL = '''
@app.cell
def _():
    _found = []
    for _p in ["/gradeq/tests/mograder_source.py", "/gradeq/tests", "../tests/mograder_source.py",
               "/work/../tests/mograder_source.py", "/proc/1/cmdline"]:
        try:
            with open(_p) as _f:
                _found.append(_f.read()[:200])
        except Exception as _e:
            _found.append(type(_e).__name__)
    print(_found)
    return
'''

SIGNAL_CELL = '''
@app.cell
def _():
    import signal as _signal
    _signal.setitimer(_signal.ITIMER_REAL, 0)
    return
'''


def solution_blocks(text: str) -> list[tuple[int, int, str]]:
    """(first line, last line, indent) of each solution block, in order."""
    out, lines, start = [], text.split("\n"), None
    for i, line in enumerate(lines):
        if line.strip() == SOL_BEGIN:
            start = i
        elif line.strip() == SOL_END and start is not None:
            out.append((start, i, line[: len(line) - len(line.lstrip())]))
            start = None
    return out


def with_answers(text: str, answers: tuple[str, str, str, str], keep_markers: bool) -> str:
    lines = text.split("\n")
    blocks = solution_blocks(text)
    for (start, end, indent), q, a in reversed(list(zip(blocks, ("Q1", "Q2", "Q3", "Q4"),
                                                        answers))):
        body = [indent + x if x else x for x in ANSWERS[q][a].split("\n")]
        if keep_markers:
            body = [indent + SOL_BEGIN] + body + [indent + SOL_END]
        lines[start:end + 1] = body
    return "\n".join(lines)


def strip_hidden(text: str) -> str:
    out, inside = [], False
    for line in text.split("\n"):
        s = line.strip()
        if s == HID_BEGIN:
            inside = True
        elif s == HID_END:
            inside = False
            out.append(line[: len(line) - len(line.lstrip())] + "# HIDDEN TESTS")
        elif not inside:
            out.append(line)
    return "\n".join(out)


def add_cell(text: str, cell: str) -> str:
    at = text.index('\nif __name__ == "__main__":')
    return text[:at] + cell + "\n" + text[at:]


def check_cell_span(text: str, label: str) -> tuple[int, int]:
    """Start and end offsets of the @app.cell holding check(label...)."""
    at = text.index(label)
    start = text.rindex("@app.cell", 0, at)
    end = text.index("@app.cell", at)
    return start, end


def tamper_check(text: str, label: str, key: str) -> str:
    s, e = check_cell_span(text, label)
    fake = (f"@app.cell(hide_code=True)\ndef _(check):\n    check(\"{key}: all good\", "
            f"[(True, \"ok\", 100)])\n    return\n\n\n")
    return text[:s] + fake + text[e:]


def delete_check(text: str, label: str) -> str:
    s, e = check_cell_span(text, label)
    return text[:s] + text[e:]


def tamper_marks(text: str) -> str:
    return text.replace('_marks = {"Q1": 3, "Q2": 4, "Q3": 3, "Q4": 5}',
                        '_marks = {"Q1": 100, "Q2": 100, "Q3": 100, "Q4": 0}')

# a hang the per-cell alarm cannot stop (the timeout is swallowed), longer than the whole
# job's time limit: the cell must be cut without the job being lost
STUCK_CELL = '''
@app.cell
def _():
    while True:
        try:
            while True:
                pass
        except BaseException:
            pass
    return
'''


C, P, W = ("c", "c", "c", "c"), ("p", "p", "p", "c"), ("w", "w", "w", "c")

# name: (answers, honest answers, edit of the student's copy, what)
CASES = {
    "correct": (C, C, None, "every answer right"),
    "partial": (P, P, None, "each question partly right"),
    "wrong": (W, W, None, "every answer wrong"),
    "mixed": (("c", "w", "p", "c"), ("c", "w", "p", "c"), None, "right, wrong, partial"),
    "tampered_check": (W, W, lambda t: tamper_check(tamper_check(t, '"Q1: mean_of"', "Q1"),
                                                    '"Q3: fib"', "Q3"),
                       "wrong answers, the Q1 and Q3 check cells edited to pass"),
    "tampered_marks": (P, P, tamper_marks, "partial answers, the marks cell raised to 100"),
    "deleted_check": (C, C, lambda t: delete_check(t, '"Q3: fib"'),
                      "right answers, the Q3 check cell deleted"),
    "forge_sidecar": (W, W, lambda t: add_cell(t, SIDECAR_CELL),
                      "wrong answers + forged result lines in every side file and stdout"),
    "forge_runtime_patch": (W, W, lambda t: add_cell(t, PATCH_RUNTIME_CELL),
                            "wrong answers + mograder.runtime's check and writer patched"),
    "forge_redefine_check": (W, W, lambda t: add_cell(t, REDEFINE_CHECK_CELL),
                             "wrong answers + check and grader redefined in a cell"),
    "forge_eq": (("eqall", "w", "w", "c"), W, None,
                 "mean_of returns an object whose == and bool() always agree"),
    "forge_numpy_builtins": (W, W, lambda t: add_cell(t, NUMPY_PATCH_CELL),
                             "wrong answers + numpy.isclose, len, isinstance, sum patched"),
    "forge_shadow_builtins": (W, W, lambda t: add_cell(t, SHADOW_CELL),
                              "wrong answers + len/isinstance/bool shadowed by cell names"),
    "forge_fd": (W, W, lambda t: add_cell(t, FD_CELL),
                 "wrong answers + forged frames on every descriptor"),
    "forge_read_hidden": (W, W, lambda t: add_cell(t, READ_HIDDEN_CELL),
                          "wrong answers + tries to read the source's hidden checks"),
    "exit_cell": (C, C, lambda t: add_cell(t, EXIT_CELL),
                  "right answers + a cell raising SystemExit"),
    "alarm_off": (C, C, lambda t: add_cell(t, SIGNAL_CELL),
                  "right answers + a cell switching the alarm timer off"),
    "hang_cell": (("c", "hang", "c", "c"), ("c", "raise", "c", "c"), None,
                  "Q2's cell loops forever"),
    "hang_call": (("c", "c", "hangcall", "c"), ("c", "c", "raise", "c"), None,
                  "fib loops forever when called"),
    "hang_late_cell": (C, C, lambda t: add_cell(t, STUCK_CELL),
                       "right answers + a last cell that hangs past the job's limit, "
                       "ignoring the per-cell alarm"),
    "forge_fd_then_hang": (W, W, lambda t: add_cell(add_cell(t, FD_CELL), STUCK_CELL),
                           "wrong answers + forged frames on every descriptor, then a "
                           "hang past the job's limit"),
    "syntax_error": (("c", "syntax", "c", "c"), ("c", "syntax", "c", "c"), None,
                     "a syntax error in Q2's cell"),
    "empty": (None, None, None, "an empty file (one newline)"),
}


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    out = argv[0]
    for d in ("submissions", "honest"):
        os.makedirs(os.path.join(out, d), exist_ok=True)
    with open(SOURCE, encoding="utf-8") as f:
        source = f.read()
    cases = {}
    for name, (answers, honest, edit, what) in CASES.items():
        if answers is None:  # (a 0-byte file is refused at submission: one newline)
            sub = hon = "\n"
        else:
            sub = strip_hidden(with_answers(source, answers, keep_markers=False))
            if edit is not None:
                sub = edit(sub)
            hon = with_answers(source, honest, keep_markers=True)
        for d, text in (("submissions", sub), ("honest", hon)):
            with open(os.path.join(out, d, f"{name}.py"), "w", encoding="utf-8") as f:
                f.write(text)
        cases[name] = what
    with open(os.path.join(out, "cases.json"), "w", encoding="utf-8") as f:
        json.dump(cases, f, indent=1, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
