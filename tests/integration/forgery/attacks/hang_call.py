"""Ignores SIGTERM/SIGINT/SIGALRM/SIGHUP, then hangs forever in add(2, 3) (after the
first test passed), hoping for credit when it is stopped."""
import signal as _gq_sig
import time as _gq_time

for _gq_s in (_gq_sig.SIGTERM, _gq_sig.SIGINT, _gq_sig.SIGALRM, _gq_sig.SIGHUP):
    _gq_sig.signal(_gq_s, _gq_sig.SIG_IGN)


def _gq_hook(name, value, args):
    if name == "add" and args == (2, 3):
        while True:
            _gq_time.sleep(1)
    return value
