"""Sandbox tier: a session in which nothing ran but skips exits with status 77, so ctest
(SKIP_RETURN_CODE 77) reports the test as skipped rather than passed."""

SKIPPED_ALL = 77


def pytest_sessionfinish(session, exitstatus):
    tr = session.config.pluginmanager.get_plugin("terminalreporter")
    if exitstatus not in (0, 5) or tr is None:  # 5: nothing collected (module skipped)
        return
    stats = tr.stats
    ran = any(stats.get(k) for k in ("passed", "failed", "error", "xfailed", "xpassed"))
    if stats.get("skipped") and not ran:
        session.exitstatus = SKIPPED_ALL
