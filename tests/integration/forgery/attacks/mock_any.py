"""Returns unittest.mock.ANY, a library object that equals everything."""
import unittest.mock as _gq_mock


def _gq_hook(name, value, args):
    return _gq_mock.ANY
