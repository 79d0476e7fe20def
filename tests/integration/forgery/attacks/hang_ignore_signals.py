"""Ignores SIGTERM/SIGINT/SIGALRM/SIGHUP, then spins forever in add()."""
import signal as _gq_sig

for _gq_s in (_gq_sig.SIGTERM, _gq_sig.SIGINT, _gq_sig.SIGALRM, _gq_sig.SIGHUP):
    _gq_sig.signal(_gq_s, _gq_sig.SIG_IGN)


def _gq_hook(name, value, args):
    if name == "add":
        while True:
            pass
    return value
