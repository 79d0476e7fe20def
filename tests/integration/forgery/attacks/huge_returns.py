"""Returns huge or deeply nested data: a list nested 200000 deep, 64 MB of bytes, a
10**6-element list, an 8 MB array, a big int of 10**6 bits, a deeply nested dict."""
import numpy as _gq_np


def _gq_nest(depth, leaf):
    x = leaf
    for _ in range(depth):
        x = [x]
    return x


def _gq_hook(name, value, args):
    if name == "add":
        return _gq_nest(200000, 5)
    if name == "mean":
        return b"x" * (64 << 20)
    if name == "words":
        return ["to"] * 10**6
    if name == "normalize":
        return _gq_np.zeros(10**6)
    if name == "median":
        return 2 ** (10**6)
    if name == "lookup":
        d = {}
        for _ in range(100000):
            d = {"k": d}
        return d
    return value
