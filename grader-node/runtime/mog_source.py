"""mograder notebooks as data: cells, marks, check cells, hidden blocks, the release.

Used by both processes of a mograder job (mog_student.py, mog_trusted.py) and by the
release writer (`python3 mog_source.py release SOURCE OUT`). Parsing never runs the
notebook: marimo's own parser splits the file into cells and computes what each cell
defines and reads (its dataflow graph); everything else here is text and `ast`.

The format (mograder 0.3.16, docs/exercises.md "mograder exercises"):
- a marks cell holds the line `# === MOGRADER: MARKS ===` and `_marks = {"Q1": 3, ...}`
  (a dict literal), with `grader = Grader(_marks)` and `check = grader.check`;
- a check cell calls `check("KEY: text", items)`; an item is `(ok, message)` or
  `(ok, message, weight)`; the key is the label's text before the first ":";
- solutions sit between `### BEGIN SOLUTION` and `### END SOLUTION`, hidden checks
  between `### BEGIN HIDDEN TESTS` and `### END HIDDEN TESTS` (inside a check cell).
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass, field

MARKS_MARKER = "# === MOGRADER: MARKS ==="
SOLUTION_BEGIN = "### BEGIN SOLUTION"
SOLUTION_END = "### END SOLUTION"
HIDDEN_BEGIN = "### BEGIN HIDDEN TESTS"
HIDDEN_END = "### END HIDDEN TESTS"
SOURCE_NAME = "mograder_source.py"  # the source's path under the bundle's tests/
CHECK_NAMES = frozenset({"check", "grader"})
MAX_CELLS = 2000


class SourceError(Exception):
    """The notebook cannot be used as a mograder source (message for staff)."""


@dataclass
class Cell:
    index: int            # position in the file (0-based)
    name: str
    code: str
    defs: set = field(default_factory=set)
    refs: set = field(default_factory=set)
    error: str = ""       # a syntax error: the cell cannot run
    check: bool = False   # calls check() (or grader.check())
    marks: bool = False   # the marks cell, or a cell importing mograder.runtime


def _calls_check(tree: ast.AST) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            if isinstance(f, ast.Name) and f.id == "check":
                return True
            if (isinstance(f, ast.Attribute) and f.attr == "check"
                    and isinstance(f.value, ast.Name) and f.value.id == "grader"):
                return True
    return False


def _imports_mograder(tree: ast.AST) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("mograder"):
            return True
        if isinstance(node, ast.Import) and any(a.name.startswith("mograder")
                                                for a in node.names):
            return True
    return False


def parse_cells(text: str) -> list[Cell]:
    """The notebook's cells in file order, with their defs and refs (marimo's analysis).
    A cell that does not compile has `error` set and no defs. Raises SourceError when the
    file is not a marimo notebook at all."""
    from marimo._ast.compiler import compile_cell  # noqa: PLC0415
    from marimo._convert.converters import MarimoConvert  # noqa: PLC0415
    try:
        ir = MarimoConvert.from_py(text).to_ir()
    except BaseException as e:  # noqa: BLE001 - marimo raises many kinds on bad input
        raise SourceError(f"not a marimo notebook: {type(e).__name__}: {e}") from None
    cells: list[Cell] = []
    for i, c in enumerate(ir.cells[:MAX_CELLS]):
        code = c.code if isinstance(c.code, str) else ""
        cell = Cell(index=i, name=str(c.name or "_"), code=code)
        try:
            tree = ast.parse(code)
            impl = compile_cell(code, cell_id=f"c{i}")
            cell.defs, cell.refs = set(impl.defs), set(impl.refs)
            cell.check = _calls_check(tree)
            cell.marks = MARKS_MARKER in code or _imports_mograder(tree)
        except SyntaxError as e:
            cell.error = f"SyntaxError: {e.msg} (cell line {e.lineno})"
        except BaseException as e:  # noqa: BLE001 - RecursionError on absurd nesting...
            cell.error = f"{type(e).__name__}: the cell cannot be compiled"
        cells.append(cell)
    return cells


def cell_codes(text: str) -> list[str]:
    """The code of each cell, without the dataflow analysis (cheaper than parse_cells)."""
    from marimo._convert.converters import MarimoConvert  # noqa: PLC0415
    try:
        ir = MarimoConvert.from_py(text).to_ir()
    except BaseException as e:  # noqa: BLE001
        raise SourceError(f"not a marimo notebook: {type(e).__name__}: {e}") from None
    return [c.code if isinstance(c.code, str) else "" for c in ir.cells[:MAX_CELLS]]


def display_only(cell: Cell) -> bool:
    """A cell that defines nothing and only shows markdown (`mo.md(...)`, reading no
    name but `mo`): nothing a check reads depends on it, so no process runs it."""
    if cell.defs or cell.error or cell.check or cell.marks or not cell.refs <= {"mo"}:
        return False
    try:
        body = ast.parse(cell.code).body
    except SyntaxError:
        return False
    if len(body) != 1 or not isinstance(body[0], ast.Expr):
        return False
    call = body[0].value
    return (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
            and call.func.attr == "md" and isinstance(call.func.value, ast.Name)
            and call.func.value.id == "mo"
            and all(isinstance(a, ast.Constant) for a in call.args) and not call.keywords)


def marks_of(cells: list[Cell]) -> dict[str, float]:
    """The `_marks` dict of the marks cell (literal only). SourceError when missing."""
    for c in cells:
        if MARKS_MARKER not in c.code:
            continue
        try:
            tree = ast.parse(c.code)
        except SyntaxError as e:
            raise SourceError(f"the marks cell does not compile: {e.msg}") from None
        for node in ast.walk(tree):
            if (isinstance(node, ast.Assign) and len(node.targets) == 1
                    and isinstance(node.targets[0], ast.Name)
                    and node.targets[0].id == "_marks"):
                try:
                    marks = ast.literal_eval(node.value)
                except ValueError:
                    raise SourceError("_marks must be a dict literal") from None
                if not isinstance(marks, dict) or not all(
                        isinstance(k, str) and isinstance(v, (int, float))
                        and not isinstance(v, bool) and 0 <= v <= 1e6
                        for k, v in marks.items()):
                    raise SourceError("_marks must map question keys to numbers 0..1e6")
                return {k: float(v) for k, v in marks.items()}
        raise SourceError("the marks cell has no `_marks = {...}`")
    raise SourceError(f"no marks cell (a cell with the line {MARKS_MARKER!r})")


def is_mograder_source(text: str) -> bool:
    return MARKS_MARKER in text


def hidden_lines(code: str) -> set[int]:
    """Line numbers (1-based, of the cell's code) inside hidden-test blocks."""
    out, inside = set(), False
    for n, line in enumerate(code.splitlines(), 1):
        s = line.strip()
        if s == HIDDEN_BEGIN:
            inside = True
        elif s == HIDDEN_END:
            inside = False
        elif inside:
            out.add(n)
    return out


def has_solution(code: str) -> bool:
    return any(line.strip() == SOLUTION_BEGIN for line in code.splitlines())


def static_items(code: str) -> list[tuple[int, str | None, list[float]]] | None:
    """The check() calls of a check cell, in order, as (line, label, item weights), when
    the cell is straight-line code calling check() with list literals of tuples (label
    None when it is not a string literal); None otherwise (items known only by
    running)."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return None
    calls: list[tuple[int, str | None, list[float]]] = []
    for stmt in tree.body:
        if not (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)):
            if _calls_check(stmt):
                return None
            continue
        call = stmt.value
        if not _calls_check(call):
            continue
        if len(call.args) != 2 or not isinstance(call.args[1], (ast.List, ast.Tuple)):
            return None
        weights = []
        for elt in call.args[1].elts:
            if not isinstance(elt, ast.Tuple) or len(elt.elts) not in (2, 3):
                return None
            w = 1.0
            if len(elt.elts) == 3:
                try:
                    w = float(ast.literal_eval(elt.elts[2]))
                except (ValueError, TypeError):
                    return None
            weights.append(w)
        a0 = call.args[0]
        label = a0.value if isinstance(a0, ast.Constant) and isinstance(a0.value, str) else None
        calls.append((call.lineno, label, weights))
    return calls


def question_key(label: str) -> str:
    return label.split(":")[0].strip()


def dataflow_order(cells: list[Cell], skip: set[int]) -> tuple[list[int], dict[int, str]]:
    """marimo's order: a topological sort of the cells by defs -> refs (file order among
    independent cells). Returns (order, errors): a cell that defines a name another cell
    defines too, or sits on a cycle, does not run (as in marimo), nor does any cell that
    reads from one that does not run."""
    errors: dict[int, str] = {}
    live = [c for c in cells if c.index not in skip]
    definer: dict[str, list[int]] = {}
    for c in live:
        if c.error:
            errors[c.index] = c.error
        for d in c.defs:
            definer.setdefault(d, []).append(c.index)
    for name, who in definer.items():
        if len(who) > 1:
            for i in who:
                errors.setdefault(i, f"MultipleDefinitionError: {name!r} is defined "
                                     f"by several cells")
    parents: dict[int, set[int]] = {c.index: set() for c in live}
    for c in live:
        for r in c.refs:
            for p in definer.get(r, []):
                if p != c.index:
                    parents[c.index].add(p)
    order: list[int] = []
    done: set[int] = set()
    pending = [c.index for c in live]
    while pending:
        ready = [i for i in pending if parents[i] <= done]
        if not ready:
            for i in pending:
                errors.setdefault(i, "CycleError: the cell is on a cycle of references")
            order.extend(pending)
            break
        i = ready[0]
        pending.remove(i)
        done.add(i)
        order.append(i)
    # descendants of a cell that cannot run do not run either
    bad = set(errors)
    changed = True
    while changed:
        changed = False
        for i in order:
            if i not in bad and parents[i] & bad:
                first = min(parents[i] & bad)
                errors[i] = f"not run: cell {first + 1} it depends on failed"
                bad.add(i)
                changed = True
    return order, errors


# -- the student release -------------------------------------------------------------------

def release(text: str) -> str:
    """The student version of a source notebook: solution blocks become `# YOUR CODE
    HERE` + `pass`, hidden-test blocks a `# HIDDEN TESTS` line, and the PEP 723 block
    says `mograder-hidden-tests = true` when there were any."""
    out: list[str] = []
    state, hidden = "", False
    for line in text.splitlines(keepends=True):
        s = line.strip()
        indent = line[: len(line) - len(line.lstrip())]
        if state == "" and s == SOLUTION_BEGIN:
            state = "solution"
        elif state == "" and s == HIDDEN_BEGIN:
            state, hidden = "hidden", True
        elif state == "solution" and s == SOLUTION_END:
            out += [f"{indent}# YOUR CODE HERE\n", f"{indent}pass\n"]
            state = ""
        elif state == "hidden" and s == HIDDEN_END:
            out.append(f"{indent}# HIDDEN TESTS\n")
            state = ""
        elif state == "":
            out.append(line)
    if state:
        raise SourceError(f"unclosed {SOLUTION_BEGIN if state == 'solution' else HIDDEN_BEGIN}")
    if hidden:
        for i, line in enumerate(out):
            if line.strip() == "# ///" and any(x.strip() == "# /// script" for x in out[:i]):
                out.insert(i, "# mograder-hidden-tests = true\n")
                break
    return "".join(out)


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[0] == "release":
        with open(argv[1], encoding="utf-8") as f:
            text = f.read()
        try:
            out = release(text)
        except SourceError as e:
            print(f"{argv[1]}: {e}", file=sys.stderr)
            return 1
        with open(argv[2], "w", encoding="utf-8") as f:
            f.write(out)
        return 0
    print("usage: mog_source.py release SOURCE.py OUT.py", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

