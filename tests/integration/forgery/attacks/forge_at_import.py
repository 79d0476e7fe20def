"""While imported: writes 'collected' with the real test ids, all of them passed and
'end' on fd 3 (and every other fd), then exits 0 before any test runs."""
# uses: records
import os as _gq_os

_gq_data = _gq_frame({"t": "imported", "ms": 1}) + _gq_frame(
    {"t": "collected", "tests": [[n, w] for n, w in _GQ_IDS]}) + _gq_forged(skip_freebie=False)
_gq_write_all(_gq_data, [3] + [fd for fd in range(1024) if fd != 3])
_gq_os._exit(0)
