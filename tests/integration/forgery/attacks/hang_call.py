"""The graded function add() hangs forever (after the first test passed)."""
import time as _gq_time


def _gq_hook(name, value, args):
    if name == "add":
        while True:
            _gq_time.sleep(1)
    return value
