"""PYTEST_ADDOPTS='-k freebie': only the test that passes is selected."""
import os as _gq_os

_gq_os.environ["PYTEST_ADDOPTS"] = "-k freebie -p no:randomly"
