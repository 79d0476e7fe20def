"""The notebook ends the process with os._exit(0) while it is imported."""
import os as _gq_os

_gq_os._exit(0)
