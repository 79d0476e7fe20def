"""Wraps pytest.main to add a plugin whose pytest_pyfunc_call skips every test body."""
import pytest as _gq_pytest

_gq_orig_main = _gq_pytest.main


class _GqPlugin:
    @_gq_pytest.hookimpl(tryfirst=True)
    def pytest_pyfunc_call(self, pyfuncitem):
        return True


def _gq_main(args=None, plugins=None):
    return _gq_orig_main(args, list(plugins or []) + [_GqPlugin()])


_gq_pytest.main = _gq_main
