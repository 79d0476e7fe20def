"""The graded functions skip the calling test, each in another way: pytest.skip(),
pytest.importorskip() of a module that does not exist, unittest.SkipTest, a module-level
pytest.skip(allow_module_level=True)."""
import unittest as _gq_ut

import pytest as _gq_pytest


def _gq_hook(name, value, args):
    if name in ("add", "words", "lookup"):
        _gq_pytest.skip("not today")
    if name in ("mean", "normalize", "median"):
        _gq_pytest.importorskip("gq_no_such_module_anywhere")
    if name in ("total", "parse_positive", "greet"):
        raise _gq_ut.SkipTest("skipped by the student")
    _gq_pytest.skip("module skip", allow_module_level=True)
