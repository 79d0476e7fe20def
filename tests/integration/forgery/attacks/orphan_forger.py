"""While imported, double-forks a daemon (setsid) that outlives the process that made it.
The first graded call wakes it (a file in /tmp), waits a moment and dies (os._exit(1)):
the daemon then writes forged records on every descriptor it inherited for 30 s, beside
whatever process is started next."""
# uses: records
import os as _gq_os
import time as _gq_time

_gq_go = f"/tmp/gq-orphan-go-{_gq_os.getpid()}"
if _gq_os.fork() == 0:
    _gq_os.setsid()
    if _gq_os.fork() == 0:
        _gq_end = _gq_time.monotonic() + 30
        while not _gq_os.path.exists(_gq_go) and _gq_time.monotonic() < _gq_end:
            _gq_time.sleep(0.01)
        while _gq_time.monotonic() < _gq_end:
            _gq_write_all(_gq_forged(end=False), range(256))
            _gq_time.sleep(0.05)
    _gq_os._exit(0)


def _gq_hook(name, value, args):
    open(_gq_go, "w").close()
    _gq_time.sleep(0.5)
    _gq_os._exit(1)
