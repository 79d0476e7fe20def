"""Wraps pytest.main to turn assertion rewriting back on (--assert=rewrite, with the
terminal plugin it needs): a failing `assert lookup(k) == v` then explains itself with
the expected value v."""
import pytest as _gq_pytest

_gq_orig_main = _gq_pytest.main


def _gq_main(args=None, plugins=None):
    out = []
    for a in args or []:
        if a == "no:terminal" and out and out[-1] == "-p":
            out.pop()
            continue
        out.append("--assert=rewrite" if a == "--assert=plain" else a)
    return _gq_orig_main(out, plugins)


_gq_pytest.main = _gq_main
