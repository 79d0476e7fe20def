"""The graded functions raise unittest.SkipTest (pytest treats it as a skip)."""
import unittest as _gq_ut


def _gq_hook(name, value, args):
    raise _gq_ut.SkipTest("skipped by the student")
