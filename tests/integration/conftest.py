"""Shared helpers for the integration tier.

The cluster (real Kafka, redis-server, dispatcher, grader nodes) is started once by the
CTest fixture `cluster` (scripts/cluster up) in $GRADEQ_STATE; these helpers read its
environment and drive it black-box through the `gradeq` CLI and plain HTTP.
"""
from __future__ import annotations

import json
import os
import shlex
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("GRADEQ_BIN_DIR", REPO / "build"))
GRADEQ = str(BIN / "cli" / "gradeq")


def _cluster_env() -> dict[str, str]:
    out = subprocess.run([str(REPO / "scripts" / "cluster"), "env"], check=True,
                         capture_output=True, text=True).stdout
    env = {}
    for line in out.splitlines():
        if line.startswith("export "):
            for part in shlex.split(line[len("export "):]):
                k, _, v = part.partition("=")
                env[k] = v
    return env


@pytest.fixture(scope="session")
def cluster() -> dict[str, str]:
    if "GRADEQ_STATE" not in os.environ:
        pytest.fail("GRADEQ_STATE is not set: run through ctest (fixture 'cluster')")
    env = _cluster_env()
    for k in ("GRADEQ_URL", "GRADEQ_TOKEN", "GRADEQ_SECRET_FILE", "REDIS_URL"):
        assert k in env, f"scripts/cluster env did not print {k}"
    return env


class Api:
    """Thin clients over the CLI and the HTTP API of one running cluster."""

    def __init__(self, env: dict[str, str]):
        self.env = env
        self.url = env["GRADEQ_URL"].rstrip("/")

    def cli(self, *args: str, token: str | None = None, check: bool = True,
            timeout: float = 900) -> subprocess.CompletedProcess:
        e = dict(os.environ, **self.env)
        if token is not None:
            e["GRADEQ_TOKEN"] = token
        p = subprocess.run([GRADEQ, *args], env=e, capture_output=True, text=True,
                           timeout=timeout)
        if check and p.returncode != 0:
            raise AssertionError(f"gradeq {' '.join(args)} failed ({p.returncode}): {p.stderr}")
        return p

    def token(self, user: str, role: str = "student", ttl: int = 3600) -> str:
        return self.cli("token", "--role", role, "--ttl", str(ttl), user).stdout.strip()

    def http(self, method: str, path: str, token: str | None = None,
             body: bytes | None = None, ctype: str = "text/x-python"):
        req = urllib.request.Request(self.url + path, data=body, method=method)
        if token is not None:
            req.add_header("Authorization", f"Bearer {token}")
        if body is not None:
            req.add_header("Content-Type", ctype)
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                raw = r.read()
                return r.status, (json.loads(raw) if raw else None), dict(r.headers)
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                doc = json.loads(raw) if raw else None
            except ValueError:
                doc = raw.decode(errors="replace")
            return e.code, doc, dict(e.headers)

    def redis(self, *args: str) -> str:
        url = self.env["REDIS_URL"]
        return subprocess.run(["redis-cli", "--no-auth-warning", "-u", url, "--raw", *args], check=True,
                              capture_output=True, text=True).stdout


@pytest.fixture(scope="session")
def api(cluster) -> Api:
    return Api(cluster)


def oracle(exercise_dir: Path, subs_dir: Path, course_dir: Path, out: Path) -> dict:
    """Scores from running the hidden tests directly with pytest (examples/expected.py)."""
    subprocess.run([str(Path(os.environ.get("GRADEQ_VENV", "/opt/gradeq/venv")) / "bin" / "python"),
                    str(REPO / "examples" / "expected.py"), "--batch", str(subs_dir),
                    str(course_dir), "--out", str(out)], check=True)
    return json.loads(out.read_text())
