"""The graded functions raise KeyboardInterrupt (pytest stops the whole session)."""


def _gq_hook(name, value, args):
    raise KeyboardInterrupt
