"""gqwire, the student channel's codec, alone: what honest values become on the other side,
and what a hostile student process can send (the tests side decodes it): every malformed
or oversized message is one WireError, never an exception of another type, never a
subclass of a built-in, never code run."""
from __future__ import annotations

import collections
import fractions
import struct
import sys
from pathlib import Path

import msgpack
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "grader-node" / "runtime"))
import gqwire  # noqa: E402


def roundtrip(v):
    return gqwire.decode(gqwire.encode(v))


@pytest.mark.parametrize("v", [
    None, True, 0, -1, 2**64, -(2**200), 1.5, float("inf"), 1 + 2j, "é\n", b"\x00",
    [1, [2, [3]]], (1, (2,)), {"a": (1, 2)}, {(1, 2): "t"}, {1, 2}, frozenset({3}),
    collections.Counter("abca"), fractions.Fraction(1, 3),
])
def test_plain_values_roundtrip_with_their_exact_type(v):
    got = roundtrip(v)
    assert got == v and type(got) is type(v)


def test_numpy_arrays_and_scalars_roundtrip():
    a = np.arange(12, dtype=np.int32).reshape(3, 4)
    got = roundtrip(a)
    assert type(got) is np.ndarray and got.dtype == a.dtype and (got == a).all()
    s = roundtrip(np.float64(2.5))
    assert type(s) is np.float64 and s == 2.5


def test_subclasses_of_builtins_do_not_cross_as_builtins():
    class Sneaky(int):
        def __eq__(self, other):
            return True
    with pytest.raises(TypeError):
        gqwire.encode(Sneaky(1))
    # the student side turns them into handles: the tests side gets a reference only
    seen = []
    data = gqwire.encode([Sneaky(1)], on_unknown=lambda o: gqwire.Handle(7, "object", "Sneaky", 0))
    got = gqwire.decode(data, on_handle=lambda h: seen.append(h) or ("proxy", h.hid))
    assert got == [("proxy", 7)] and seen[0].tname == "Sneaky"


def ext(code, payload):
    return msgpack.packb(msgpack.ExtType(code, payload))


@pytest.mark.parametrize("data", [
    b"",                                               # nothing
    b"\xc1",                                           # a byte msgpack never uses
    msgpack.packb([1, 2]) + b"\x01",                   # trailing bytes
    b"\xdd\xff\xff\xff\xff",                           # array of 4 Gi items, no items
    b"\xdf\x00\x10\x00\x00",                           # map of 1 Mi pairs, none there
    msgpack.packb({(1,): 1})[:-1],                     # truncated
    ext(99, b"x"),                                     # unknown extension
    ext(gqwire.EXT_BIGINT, b""),                       # empty big int
    ext(gqwire.EXT_BIGINT, b"\x01" * (gqwire.BIGINT_BYTES_MAX + 1)),
    ext(gqwire.EXT_COMPLEX, b"\x00" * 15),
    ext(gqwire.EXT_TUPLE, msgpack.packb(5)),           # a tuple that is not a sequence
    ext(gqwire.EXT_SET, msgpack.packb([[1]])),         # unhashable set member
    msgpack.packb({"k": 1})[:1] + msgpack.packb([1]) + msgpack.packb(1),  # list as dict key
    ext(gqwire.EXT_NDARRAY, msgpack.packb(["O", [1], b"\x00" * 8])),   # object dtype
    ext(gqwire.EXT_NDARRAY, msgpack.packb(["<i8", [2], b"\x00" * 8])),  # size mismatch
    ext(gqwire.EXT_NDARRAY, msgpack.packb(["<i8", [1 << 40, 1 << 40], b""])),
    ext(gqwire.EXT_NPSCALAR, msgpack.packb(["<f8", b"\x00"])),
    ext(gqwire.EXT_HANDLE, msgpack.packb([1, "x" * 40, "T", 0])),
    ext(gqwire.EXT_LIBVALUE, msgpack.packb(["os.system", "echo"])),
    ext(gqwire.EXT_LIBVALUE, msgpack.packb(["namedtuple", ["T", ["__class__"], [1]]])),
    ext(gqwire.EXT_LIBVALUE, msgpack.packb(["Fraction", [1, 0]])),
])
def test_malformed_messages_are_one_wire_error(data):
    with pytest.raises(gqwire.WireError):
        gqwire.decode(data)


def test_nesting_beyond_the_cap_is_refused():
    data = msgpack.packb(1)
    for _ in range(gqwire.DEPTH_MAX + 2):
        data = ext(gqwire.EXT_TUPLE, b"\x91" + data)  # a tuple holding the previous one
    with pytest.raises(gqwire.WireError):
        gqwire.decode(data)


def test_large_messages_are_still_counted(monkeypatch):
    # past ITEMS_MAX bytes the item budget applies (below it, a message cannot hold more
    # items than it has bytes): shrink the cap to see it work
    monkeypatch.setattr(gqwire, "ITEMS_MAX", 100)
    ok = msgpack.packb([None] * 50)
    assert gqwire.decode(ok) == [None] * 50
    many = msgpack.packb([[None] * 60, [None] * 60])  # 122 items in 125 bytes
    with pytest.raises(gqwire.WireError, match="too many items"):
        gqwire.decode(many)


def test_a_frame_over_the_limit_is_refused_before_decoding(monkeypatch):
    monkeypatch.setattr(gqwire, "FRAME_MAX", 10)
    with pytest.raises(gqwire.WireError):
        gqwire.decode(msgpack.packb("x" * 20))


def test_an_exception_in_the_handle_hook_is_a_wire_error():
    data = ext(gqwire.EXT_HANDLE, msgpack.packb([1, "object", "T", 0]))

    def boom(h):
        raise RuntimeError("no")
    with pytest.raises(gqwire.WireError):
        gqwire.decode(data, on_handle=boom)


def test_the_packer_cache_survives_a_failed_encode():
    with pytest.raises(TypeError):
        gqwire.encode([1, object()])
    assert gqwire.decode(gqwire.encode([1, 2])) == [1, 2]  # no bytes left over from before


def test_memoryview_payloads_decode_like_bytes():
    data = gqwire.encode({"v": [1, (2, 3)]})
    assert gqwire.decode(memoryview(b"\0\0\0\0" + data)[4:]) == {"v": [1, (2, 3)]}


def test_complex_is_two_big_endian_doubles():
    assert gqwire.decode(ext(gqwire.EXT_COMPLEX, struct.pack(">dd", 1.0, -2.0))) == 1 - 2j
