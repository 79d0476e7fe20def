"""gqwire: the plain-data channel between a job's student process and its tests process.

Frames on a stream socket: a 4-byte big-endian length N (1 <= N <= FRAME_MAX), then N
bytes of msgpack. Values are plain data only; msgpack extension types carry what
msgpack has no native type for:

    EXT_TUPLE      msgpack array of the items
    EXT_SET        msgpack array of the items
    EXT_FROZENSET  msgpack array of the items
    EXT_BIGINT     signed big-endian two's complement bytes
    EXT_COMPLEX    two float64, big-endian
    EXT_NDARRAY    [dtype str, shape list, raw bytes]  (allow-listed dtypes only)
    EXT_NPSCALAR   [dtype str, raw bytes]
    EXT_HANDLE     [id, kind, type name, flags]: an object that stays in the student
                   process; the tests side gets a proxy (proxy.py)
    EXT_LIBVALUE   [kind, data]: a value of the standard library that compares as
                   itself: Counter, OrderedDict, defaultdict (their items), a namedtuple
                   (type name, field names, items), Fraction, Decimal, date, time,
                   datetime, timedelta (their text or numbers). Rebuilt on the tests side
                   by our code from plain data: the exact standard types, never the
                   student's subclasses
    EXT_FLOAT_NAN  (none: float NaN/inf travel as float64 natively)

decode() is the only thing the tests process applies to bytes the student process
wrote. It never unpickles, never imports a module named in the data and never calls a
method of the decoded objects' classes beyond the built-in constructors above: the types
it builds are exact built-ins (never subclasses), numpy arrays are copied out of the
buffer with an allow-listed dtype. Sizes are capped before anything is built.
"""

from __future__ import annotations

import struct
from typing import Any, Callable

import msgpack

FRAME_MAX = 64 * 1024 * 1024      # bytes of one message
DEPTH_MAX = 64                    # nesting of containers in one value
ITEMS_MAX = 4 * 1024 * 1024       # list/dict/set items in one message
BIGINT_BYTES_MAX = 64 * 1024      # ~157,000 decimal digits
ARRAY_BYTES_MAX = 48 * 1024 * 1024

EXT_TUPLE = 1
EXT_SET = 2
EXT_FROZENSET = 3
EXT_BIGINT = 4
EXT_COMPLEX = 5
EXT_NDARRAY = 6
EXT_NPSCALAR = 7
EXT_HANDLE = 8
EXT_LIBVALUE = 9  # [kind, data]: standard-library values rebuilt by our code (below)

# dtypes that cross as arrays and scalars: numbers, bool, fixed-width unicode
_DTYPE_KINDS = frozenset("biufcU")


class WireError(Exception):
    """The peer sent something that is not a valid message (or nothing at all)."""


class Handle:
    """What decode() gives for an EXT_HANDLE: the reference only. proxy.py wraps it."""

    __slots__ = ("hid", "kind", "tname", "flags")

    def __init__(self, hid: int, kind: str, tname: str, flags: int) -> None:
        self.hid, self.kind, self.tname, self.flags = hid, kind, tname, flags


# -- encoding (both sides; the student side passes a default for unknown objects) -------

def _np():
    import sys
    return sys.modules.get("numpy")


def _default_factory(on_unknown: Callable[[Any], Any] | None) -> Callable[[Any], Any]:
    def default(obj: Any) -> Any:
        t = type(obj)
        if t is tuple:
            return msgpack.ExtType(EXT_TUPLE, _pack_inner(list(obj), default))
        if t is set:
            return msgpack.ExtType(EXT_SET, _pack_inner(list(obj), default))
        if t is frozenset:
            return msgpack.ExtType(EXT_FROZENSET, _pack_inner(list(obj), default))
        if t is int:  # only reached when out of msgpack's 64-bit range
            n = (obj.bit_length() + 8) // 8
            return msgpack.ExtType(EXT_BIGINT, obj.to_bytes(n, "big", signed=True))
        if t is complex:
            return msgpack.ExtType(EXT_COMPLEX, struct.pack(">dd", obj.real, obj.imag))
        np = _np()
        if np is not None:
            if t is np.ndarray and obj.dtype.kind in _DTYPE_KINDS and not obj.dtype.hasobject:
                a = np.ascontiguousarray(obj)
                if a.dtype.byteorder == ">":
                    a = a.astype(a.dtype.newbyteorder("<"))
                return msgpack.ExtType(EXT_NDARRAY, _pack_inner(
                    [a.dtype.str, list(a.shape), a.tobytes()], default))
            if isinstance(obj, np.generic) and type(obj).__module__ == "numpy" \
                    and obj.dtype.kind in _DTYPE_KINDS:
                a = np.asarray(obj)
                if a.dtype.byteorder == ">":
                    a = a.astype(a.dtype.newbyteorder("<"))
                return msgpack.ExtType(EXT_NPSCALAR, _pack_inner([a.dtype.str, a.tobytes()],
                                                                 default))
        lib = _libvalue(obj)
        if lib is not None:
            return msgpack.ExtType(EXT_LIBVALUE, _pack_inner(lib, default))
        if t is not Handle and on_unknown is not None:
            obj = on_unknown(obj)
            t = type(obj)
        if t is Handle:
            return msgpack.ExtType(EXT_HANDLE, _pack_inner(
                [obj.hid, obj.kind, obj.tname, obj.flags], default))
        raise TypeError(f"cannot send a {t.__name__} across the sandbox boundary")
    return default


def _libvalue(obj: Any) -> list | None:
    """[kind, data] for a standard-library value of an exact type, else None. Only the
    data crosses: the tests side builds the value itself."""
    import collections
    import datetime
    import decimal
    import fractions
    t = type(obj)
    if t is collections.Counter:
        return ["Counter", [[k, v] for k, v in obj.items()]]
    if t is collections.OrderedDict:
        return ["OrderedDict", [[k, v] for k, v in obj.items()]]
    if t is collections.defaultdict:
        return ["defaultdict", [[k, v] for k, v in obj.items()]]
    if t is fractions.Fraction:
        return ["Fraction", [obj.numerator, obj.denominator]]
    if t is decimal.Decimal:
        return ["Decimal", str(obj)]
    if t in (datetime.date, datetime.datetime, datetime.time) and \
            getattr(obj, "tzinfo", None) is None:
        return [t.__name__, obj.isoformat()]
    if t is datetime.timedelta:
        return ["timedelta", [obj.days, obj.seconds, obj.microseconds]]
    fields = getattr(t, "_fields", None)
    # a namedtuple, or a class derived from one: its data (tuple's own storage, never a
    # method of the class) as a namedtuple of the same name and fields
    if isinstance(obj, tuple) and type(fields) is tuple and hasattr(t, "_make") and \
            all(type(f) is str for f in fields) and len(fields) == tuple.__len__(obj):
        return ["namedtuple", [t.__name__, list(fields), list(tuple.__iter__(obj))]]
    return None


def _rebuild_libvalue(v: Any) -> Any:
    import collections
    import datetime
    import decimal
    import fractions
    if type(v) is not list or len(v) != 2 or type(v[0]) is not str:
        raise WireError("malformed library value")
    kind, data = v
    try:
        if kind in ("Counter", "OrderedDict", "defaultdict"):
            if type(data) is not list or any(type(p) is not list or len(p) != 2 for p in data):
                raise WireError("malformed mapping")
            items = [(p[0], p[1]) for p in data]
            if kind == "Counter":
                return collections.Counter(dict(items))
            if kind == "OrderedDict":
                return collections.OrderedDict(items)
            return collections.defaultdict(None, items)
        if kind == "Fraction" and type(data) is list and len(data) == 2 and \
                all(type(x) is int for x in data) and data[1] != 0:
            return fractions.Fraction(data[0], data[1])
        if kind == "Decimal" and type(data) is str and len(data) <= 1000:
            return decimal.Decimal(data)
        if kind in ("date", "datetime", "time") and type(data) is str and len(data) <= 64:
            return getattr(datetime, kind).fromisoformat(data)
        if kind == "timedelta" and type(data) is list and len(data) == 3 and \
                all(type(x) is int for x in data):
            return datetime.timedelta(days=data[0], seconds=data[1], microseconds=data[2])
        if kind == "namedtuple" and type(data) is list and len(data) == 3:
            name, fields, values = data
            if type(name) is str and name.isidentifier() and type(fields) is list and \
                    type(values) is list and len(fields) == len(values) <= 255 and \
                    all(type(f) is str and f.isidentifier() and not f.startswith("_")
                        for f in fields):
                return collections.namedtuple(name, fields)(*values)
    except (ValueError, TypeError, ArithmeticError, OverflowError):
        raise WireError(f"malformed {kind}") from None
    raise WireError(f"unknown library value {kind!r}")


def _pack_inner(obj: Any, default: Callable[[Any], Any]) -> bytes:
    return msgpack.packb(obj, default=default, use_bin_type=True, strict_types=True,
                         datetime=False)


_packers: dict = {}


def encode(obj: Any, on_unknown: Callable[[Any], Any] | None = None) -> bytes:
    """msgpack bytes of obj. Exact built-in types only (strict_types: an int subclass
    goes to default, where on_unknown decides: the student side turns it into a handle;
    the tests side turns its proxies back into handles and refuses anything else with
    TypeError). One Packer per on_unknown is kept (a call costs microseconds on the
    proxied-call path; a Packer resets itself when packing raises)."""
    packer = _packers.get(on_unknown)
    if packer is None:
        if len(_packers) > 16:
            _packers.clear()
        packer = msgpack.Packer(default=_default_factory(on_unknown), use_bin_type=True,
                                strict_types=True, datetime=False)
        _packers[on_unknown] = packer
    return packer.pack(obj)


# -- decoding (the tests side decodes what the student side wrote: hostile) -------------

class _Budget:
    __slots__ = ("items",)

    def __init__(self) -> None:
        self.items = 0


def _decoder(budget: _Budget | None, depth: int,
             on_handle: Callable[[Handle], Any] | None) -> Callable[[int, bytes], Any]:
    if depth > DEPTH_MAX:
        raise WireError("value nested too deeply")

    def ext_hook(code: int, data: bytes) -> Any:
        if code in (EXT_TUPLE, EXT_SET, EXT_FROZENSET):
            items = _unpack(data, budget, depth + 1, on_handle)
            if type(items) is not list:
                raise WireError("malformed sequence")
            if code == EXT_TUPLE:
                return tuple(items)
            try:
                return set(items) if code == EXT_SET else frozenset(items)
            except TypeError:
                raise WireError("unhashable set member") from None
        if code == EXT_BIGINT:
            if not 0 < len(data) <= BIGINT_BYTES_MAX:
                raise WireError("integer too large")
            return int.from_bytes(data, "big", signed=True)
        if code == EXT_COMPLEX:
            if len(data) != 16:
                raise WireError("malformed complex")
            re, im = struct.unpack(">dd", data)
            return complex(re, im)
        if code in (EXT_NDARRAY, EXT_NPSCALAR):
            return _decode_numpy(code, _unpack(data, budget, depth + 1, None))
        if code == EXT_LIBVALUE:
            return _rebuild_libvalue(_unpack(data, budget, depth + 1, on_handle))
        if code == EXT_HANDLE:
            v = _unpack(data, budget, depth + 1, None)
            if (type(v) is not list or len(v) != 4 or type(v[0]) is not int
                    or type(v[1]) is not str or type(v[2]) is not str or type(v[3]) is not int
                    or len(v[1]) > 32 or len(v[2]) > 200):
                raise WireError("malformed handle")
            h = Handle(v[0], v[1], v[2], v[3])
            return h if on_handle is None else on_handle(h)
        raise WireError(f"unknown extension type {code}")
    return ext_hook


def _decode_numpy(code: int, v: Any) -> Any:
    np = _np()
    if np is None:
        raise WireError("numpy value, but numpy is not loaded")
    want = 3 if code == EXT_NDARRAY else 2
    if type(v) is not list or len(v) != want or type(v[0]) is not str or len(v[0]) > 16:
        raise WireError("malformed numpy value")
    try:
        dt = np.dtype(v[0])
    except TypeError:
        raise WireError("bad dtype") from None
    if dt.kind not in _DTYPE_KINDS or dt.hasobject or dt.fields is not None or dt.subdtype:
        raise WireError(f"dtype {v[0]!r} not allowed")
    raw = v[-1]
    if type(raw) is not bytes:
        raise WireError("malformed numpy value")
    if code == EXT_NPSCALAR:
        if len(raw) != dt.itemsize:
            raise WireError("malformed numpy scalar")
        return np.frombuffer(raw, dtype=dt)[0].copy()
    shape = v[1]
    if type(shape) is not list or len(shape) > 32 or \
            any(type(d) is not int or d < 0 for d in shape):
        raise WireError("malformed shape")
    n = 1
    for d in shape:
        n *= d
        if n * dt.itemsize > ARRAY_BYTES_MAX:
            raise WireError("array too large")
    if n * dt.itemsize != len(raw):
        raise WireError("array size does not match its shape")
    return np.frombuffer(raw, dtype=dt).reshape(shape).copy()


def _unpack(data: Any, budget: _Budget | None, depth: int,
            on_handle: Callable[[Handle], Any] | None) -> Any:
    """budget None: the whole message is at most ITEMS_MAX bytes, so it cannot hold more
    than ITEMS_MAX items (each item takes at least one byte of the message, nested
    extension payloads included) and counting them is skipped."""
    hooks: dict = {}
    if budget is not None:
        def count(n: int) -> None:
            budget.items += n
            if budget.items > ITEMS_MAX:
                raise WireError("too many items")

        def list_hook(x: list) -> list:
            count(len(x))
            return x

        def pairs_hook(pairs: list) -> dict:
            count(len(pairs))
            d = {}
            for k, val in pairs:
                try:
                    d[k] = val
                except TypeError:
                    raise WireError("unhashable dict key") from None
            return d
        hooks = {"list_hook": list_hook, "object_pairs_hook": pairs_hook}
    try:
        return msgpack.unpackb(
            data, raw=False, use_list=True, strict_map_key=False,
            ext_hook=_decoder(budget, depth, on_handle), timestamp=0,
            max_str_len=FRAME_MAX, max_bin_len=FRAME_MAX,
            max_array_len=ITEMS_MAX, max_map_len=ITEMS_MAX, max_ext_len=FRAME_MAX, **hooks)
    except WireError:
        raise
    except RecursionError:
        raise WireError("value nested too deeply") from None
    except Exception as e:  # noqa: BLE001 - any malformation is one error to the caller
        raise WireError(f"undecodable message: {type(e).__name__}") from None


def decode(data: Any, on_handle: Callable[[Handle], Any] | None = None) -> Any:
    """The value in one message (bytes or a memoryview of them). on_handle, when given,
    is applied to each handle as it is decoded (the tests side makes its proxies there;
    an exception it raises is a WireError). Raises WireError for anything malformed or
    over a cap."""
    if len(data) > FRAME_MAX:
        raise WireError("message too large")
    return _unpack(data, None if len(data) <= ITEMS_MAX else _Budget(), 0, on_handle)
