"""Unit tests of harness.py's pure helpers (no sandbox needed)."""
from __future__ import annotations

import importlib.util
import math
import os
import struct
from pathlib import Path

import msgpack
import pytest

HARNESS = Path(os.environ.get("GRADEQ_HARNESS") or
               Path(__file__).resolve().parents[2] / "grader-node" / "harness" / "harness.py")
spec = importlib.util.spec_from_file_location("gq_harness", HARNESS)
h = importlib.util.module_from_spec(spec)
spec.loader.exec_module(h)


@pytest.mark.parametrize("obj", [
    None, True, False, 0, 1, 127, 128, 255, 256, 65535, 65536, 2**32, 2**64 - 1,
    -1, -32, -33, -128, -129, -2**15, -2**31 - 1, -2**63, 0.5, -1e300, math.inf,
    "", "a", "x" * 31, "x" * 32, "é" * 200, "y" * 70000, b"", b"\x00" * 300,
    [], [1, [2, [3]]], list(range(20)), list(range(70000)), {}, {"t": "hello", "v": 1},
    {str(i): i for i in range(20)},
])
def test_mp_pack_roundtrips_through_msgpack(obj):
    assert msgpack.unpackb(h.mp_pack(obj), raw=False, strict_map_key=False) == obj


def test_mp_pack_refuses_unknown_types():
    with pytest.raises(TypeError):
        h.mp_pack(object())
    with pytest.raises(OverflowError):
        h.mp_pack(2**64)


def test_frame_is_length_prefixed_and_capped():
    f = h.frame({"t": "end", "ms": 5, "code": 0})
    (n,) = struct.unpack(">I", f[:4])
    assert n == len(f) - 4 and msgpack.unpackb(f[4:]) == {"t": "end", "ms": 5, "code": 0}
    with pytest.raises(ValueError):
        h.frame({"t": "x", "blob": "z" * h.FRAME_MAX})


def test_short_message_is_type_and_message_only():
    assert h.short_message(ValueError("bad")) == "ValueError: bad"
    assert h.short_message(AssertionError()) == "AssertionError"
    assert len(h.short_message(RuntimeError("x" * 10000))) == h.MSG_MAX
    try:
        compile("def f(:\n", "submission.py", "exec")
    except SyntaxError as e:
        msg = h.short_message(e)
    assert msg.startswith("SyntaxError: ") and msg.endswith("(line 1)")

    class Nasty(Exception):
        def __str__(self):
            raise RuntimeError("no")
    assert h.short_message(Nasty()) == "Nasty: <unprintable>"


def test_weight_of_markers():
    class M:
        def __init__(self, *args, **kwargs):
            self.args, self.kwargs = args, kwargs
    assert h.weight_of(None) == 1.0
    assert h.weight_of(M(2)) == 2.0 and h.weight_of(M(0.5)) == 0.5 and h.weight_of(M(0)) == 0
    for bad in (M(), M("3"), M(True), M(-1), M(math.nan), M(math.inf), M(1e9)):
        assert h.weight_of(bad) == 1.0


def test_short_nodeid_keeps_short_ids_and_makes_long_ones_unique():
    assert h.short_nodeid("t.py::test_a", 0) == "t.py::test_a"
    a, b = h.short_nodeid("t.py::x[" + "a" * 2000 + "]", 1), h.short_nodeid(
        "t.py::x[" + "a" * 2000 + "]", 2)
    assert a != b and len(a.encode()) <= h.NAME_MAX


def test_chunk_collected_splits_long_lists_in_order():
    tests = [[f"test_file.py::test_{i:05d}", 1.0] for i in range(5000)]
    chunks = h.chunk_collected(tests)
    assert len(chunks) > 1 and [t for c in chunks for t in c] == tests
    assert all(len(h.frame({"t": "collected", "tests": c})) <= h.FRAME_MAX for c in chunks)
    assert h.chunk_collected([]) == [[]]


@pytest.mark.parametrize("src,needle", [
    ("import os\n", "'os'"),
    ("import os.path as p\n", "'os.path'"),
    ("from subprocess import run\n", "'subprocess'"),
    ("import socket, json\n", "'socket'"),
    ("x = eval('1')\n", "'eval'"),
    ("exec('x=1')\n", "'exec'"),
    ("__import__('os')\n", "'__import__'"),
    ("().__class__.__bases__[0].__subclasses__()\n", "'__subclasses__'"),
    ("def f():\n    import ctypes\n", "'ctypes'"),
])
def test_safety_problems_flags_denied_patterns(src, needle):
    problems = h.safety_problems(src)
    assert problems and any(needle in p for p in problems), problems


def test_safety_problems_accepts_ordinary_notebooks():
    src = (
        "import marimo\n__generated_with = '0.25.2'\napp = marimo.App()\n\n"
        "@app.function\ndef mean(xs):\n    import math, numpy as np\n"
        "    with open('data.csv') as f:\n        f.read()\n    return sum(xs) / len(xs)\n\n"
        "if __name__ == '__main__':\n    app.run()\n"
    )
    assert h.safety_problems(src) == []
    assert h.safety_problems("def broken(:\n") == []  # left to the import step


def test_safety_problems_are_capped_and_sorted_by_line():
    src = "".join(f"import os  # {i}\n" for i in range(20))
    p = h.safety_problems(src)
    assert len(p) == 5 and p[0].startswith("line 1:") and p[4].startswith("line 5:")
