"""Raises an exception whose __class__ claims to be pytest's XFailed (with its msg and
pytrace attributes): isinstance() checks in pytest's xfail handling believe it."""
import _pytest.outcomes as _gq_out


class _GqSneaky(Exception):
    msg = "expected to fail, honestly"
    pytrace = False

    @property
    def __class__(self):
        return _gq_out.XFailed


def _gq_hook(name, value, args):
    raise _GqSneaky("expected to fail, honestly")
