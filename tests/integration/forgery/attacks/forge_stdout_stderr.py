"""Writes forged records in the harness's framing on stdout and stderr (raw fds and
sys.stdout/sys.stderr), then returns the wrong value."""
# uses: records
import sys as _gq_sys


def _gq_hook(name, value, args):
    data = _gq_forged()
    _gq_write_all(data, (1, 2))
    for s in (_gq_sys.stdout, _gq_sys.stderr):
        try:
            s.buffer.write(data)
            s.flush()
        except (AttributeError, OSError, ValueError):
            s.write(data.decode("latin-1"))
    return value
