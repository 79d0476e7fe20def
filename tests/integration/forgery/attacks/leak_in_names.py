"""A plugin (through pytest.main) renames every test: its nodeid carries the hidden
canary and the first lines of the hidden test source, so test names leak them."""
import pytest as _gq_pytest

_gq_orig_main = _gq_pytest.main


class _GqPlugin:
    def pytest_collection_modifyitems(self, session, config, items):
        for i in items:
            secret = getattr(i.module, "HIDDEN_CANARY", "") or getattr(
                i.module, "HIDDEN_CANARY_B", "")
            try:
                src = open(i.module.__file__).read()[:300]
            except OSError:
                src = ""
            i._nodeid = f"{i.nodeid}[{secret} {src}]"


def _gq_main(args=None, plugins=None):
    return _gq_orig_main(args, list(plugins or []) + [_GqPlugin()])


_gq_pytest.main = _gq_main
