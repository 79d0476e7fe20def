"""Returns things that are not data: a function, a module, a class, a generator, an
exception instance, Ellipsis, a memoryview, an open file, a lock."""
import sys as _gq_sys
import threading as _gq_thr


def _gq_hook(name, value, args):
    return {
        "add": lambda *a: 5, "mean": _gq_sys, "total": int, "words": (w for w in ["to"]),
        "median": ValueError("7"), "column_sum": ..., "normalize": memoryview(b"abc"),
        "parse_positive": open("/dev/null"), "lookup": _gq_thr.Lock(), "greet": print,
    }.get(name, value)
