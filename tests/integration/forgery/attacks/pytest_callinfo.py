"""Wraps _pytest.runner.CallInfo.from_call and drops the exception of every phase."""
import _pytest.runner as _gq_run

_gq_orig_from_call = _gq_run.CallInfo.from_call.__func__


def _gq_from_call(cls, func, when, reraise=None):
    info = _gq_orig_from_call(cls, func, when, reraise)
    object.__setattr__(info, "excinfo", None)
    return info


_gq_run.CallInfo.from_call = classmethod(_gq_from_call)
