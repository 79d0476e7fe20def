"""Registers atexit (and threading-shutdown) handlers that write forged records and
'end' on every fd when the process ends."""
# uses: records
import atexit as _gq_atexit
import threading as _gq_thr


def _gq_at_end():
    _gq_write_all(_gq_forged())


_gq_atexit.register(_gq_at_end)
try:
    _gq_thr._register_atexit(_gq_at_end)
except (AttributeError, RuntimeError):
    pass
