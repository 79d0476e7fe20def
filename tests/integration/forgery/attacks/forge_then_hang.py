"""At add(2, 3), writes 'passed' for every test on fd 3 (no 'end'), then hangs until the
wall clock: the records written before would keep their credit."""
# uses: records
import time as _gq_time


def _gq_hook(name, value, args):
    if args != (2, 3):
        return value
    _gq_write_all(_gq_forged(end=False), [3])
    while True:
        _gq_time.sleep(1)
