#!/usr/bin/env python3
"""The expected marks of the example mograder submissions, computed without gradeq.

    <venv>/bin/python oracle.py SOURCE.py HONEST_DIR     -> JSON {name: score}

Each honest twin (gen_submissions.py) is the SOURCE notebook with the student's answers
and no attack. It runs here in a child interpreter of its own: marimo parses the cells
and says what each defines and reads; a cell runs once every name it reads that another
cell defines is there (cells whose inputs never appear, or that do not compile, never
run); check() is this file's own recorder, and a check cell's results count only if the
whole cell ran. Marks: for each key, marks[key] * passed weight / total weight, the
total taken from the SOURCE run (every check of the key, visible and hidden); the score
is the sum over the keys with checks. None of gradeq's code is used.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import types

MARKER = "# === MOGRADER: MARKS ==="


def run_notebook(path: str) -> dict:
    """In this process: {"marks": {...}, "items": [[key, ok, weight]...]}."""
    from marimo._ast.compiler import compile_cell
    from marimo._convert.converters import MarimoConvert

    with open(path, encoding="utf-8") as f:
        text = f.read()
    if not text.strip():
        return {"marks": {}, "items": []}
    cells = MarimoConvert.from_py(text).to_ir().cells
    marks: dict = {}
    pending = []
    for c in cells:
        try:
            impl = compile_cell(c.code, cell_id=str(len(pending)))
        except SyntaxError:
            continue
        pending.append((c.code, set(impl.defs), set(impl.refs)))
        if MARKER in c.code:
            for node in ast.walk(ast.parse(c.code)):
                if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "_marks":
                    marks = ast.literal_eval(node.value)
    defined_by_some = set().union(*(d for _, d, _ in pending)) if pending else set()
    buffer: list = []

    def check(label, checks):
        key = label.split(":")[0].strip()
        for it in checks:
            buffer.append([key, bool(it[0]), float(it[2]) if len(it) == 3 else 1.0])

    class Grader:
        def __init__(self, m):
            self.check = check

    rt = types.ModuleType("mograder.runtime")
    rt.Grader, rt.check = Grader, check
    sys.modules["mograder"] = types.ModuleType("mograder")
    sys.modules["mograder.runtime"] = rt
    ns: dict = {"__name__": "__notebook__"}
    have: set = set()
    items: list = []
    progress = True
    while pending and progress:
        progress = False
        for cell in list(pending):
            code, defs, refs = cell
            if not (refs & defined_by_some) <= have:
                continue
            pending.remove(cell)
            progress = True
            buffer.clear()
            try:
                exec(compile(code, "<cell>", "exec"), ns)
            except BaseException:  # noqa: BLE001 - the cell failed: its names never appear
                continue
            items.extend(buffer)
            have |= defs
    return {"marks": marks, "items": items}


def score(source: dict, sub: dict) -> float:
    total: dict = {}
    for key, _ok, w in source["items"]:
        total[key] = total.get(key, 0.0) + w
    earned: dict = {}
    for key, ok, w in sub["items"]:
        if ok:
            earned[key] = earned.get(key, 0.0) + w
    s = sum(source["marks"].get(k, 0) * earned.get(k, 0.0) / t for k, t in total.items() if t)
    return round(s + 0.0, 2)


def child(path: str) -> dict:
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--one",
                          os.path.abspath(path)],
                         capture_output=True, text=True, timeout=120, check=True,
                         cwd=os.path.dirname(os.path.abspath(SOURCE_DIR[0])))
    return json.loads(out.stdout.strip().splitlines()[-1])


SOURCE_DIR = [""]


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "--one":
        res = run_notebook(argv[1])
        sys.stdout.flush()
        print(json.dumps(res))
        return 0
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    SOURCE_DIR[0] = argv[0]
    src = child(argv[0])
    result = {}
    for name in sorted(os.listdir(argv[1])):
        if name.endswith(".py"):
            result[name[:-3]] = score(src, child(os.path.join(argv[1], name)))
    print(json.dumps(result, indent=1, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
