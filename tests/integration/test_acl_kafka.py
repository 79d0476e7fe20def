"""No open doors on Kafka: the cluster's broker (SASL/SCRAM, StandardAuthorizer, the ACLs
of security/kafka-acls.rules) refuses a client without credentials or with a wrong
password, a node's principal cannot produce jobs, the dispatcher's can produce nothing
but jobs and read nothing. Run on the Kafka cluster only (it_kafka_acl_kafka)."""
from __future__ import annotations

import os
import re
import secrets
import subprocess
from pathlib import Path

from conftest import BIN, REPO

SRC = REPO / "examples" / "course" / "primes" / "release.py"


def _creds(api) -> Path:
    return Path(api.env["GRADEQ_CREDS"])


def _pw(api, kind: str, user: str) -> str:
    return (_creds(api) / kind / f"{user}.pw").read_text().strip()


def _produce(api, user: str | None, password: str | None = None, topic: str = "gradeq.jobs"):
    """produce_job as a Kafka principal (None: no SASL). Returns (rc, stderr)."""
    env = dict(os.environ, **api.env)
    for k in [k for k in env if k.startswith("GRADEQ_KAFKA_")]:
        del env[k]
    if user is not None:
        pwf = Path(env["GRADEQ_CREDS"]) / "kafka" / f"{user}.pw"
        if password is not None:
            pwf = Path(env["GRADEQ_STATE"]) / f"acl-test-{secrets.token_hex(4)}.pw"
            pwf.write_text(password)
            pwf.chmod(0o600)
        env.update(GRADEQ_KAFKA_SECURITY_PROTOCOL="SASL_PLAINTEXT",
                   GRADEQ_KAFKA_SASL_MECHANISM="SCRAM-SHA-512",
                   GRADEQ_KAFKA_SASL_USERNAME=user,
                   GRADEQ_KAFKA_SASL_PASSWORD_FILE=str(pwf))
    p = subprocess.run([str(BIN / "tests" / "broker" / "produce_job"),
                        "-b", api.env["KAFKA_BROKERS"], "-t", topic,
                        "-X", "message.timeout.ms=8000",
                        "--id", secrets.token_hex(14), "--course", "aclc", "--exercise", "e",
                        "--student", "s", "--source", str(SRC), "--tests-hash", "0" * 64],
                       capture_output=True, text=True, env=env, timeout=60)
    return p.returncode, p.stderr


def test_kafka_refuses_no_credentials_and_wrong_password(api):
    rc, err = _produce(api, None)
    assert rc != 0, "a producer without SASL must not get a job in"
    rc, err = _produce(api, "gradeq-dispatcher", password=_pw(api, "kafka", "gradeq-node"))
    assert rc != 0, "the dispatcher's name with the node's password must be refused"


def test_kafka_node_cannot_produce_jobs(api):
    rc, err = _produce(api, "gradeq-node")
    assert rc != 0
    assert re.search(r"(?i)authoriz", err), err


def test_kafka_dispatcher_only_produces_jobs(api):
    rc, err = _produce(api, "gradeq-dispatcher", topic="gradeq.jobs.dlq")
    assert rc != 0
    assert re.search(r"(?i)authoriz", err), err
    # nor can it read anything: reading the dead letters as the dispatcher fails
    env = dict(os.environ, **api.env)
    env.update(GRADEQ_KAFKA_SASL_USERNAME="gradeq-dispatcher",
               GRADEQ_KAFKA_SASL_PASSWORD_FILE=str(_creds(api) / "kafka" /
                                                   "gradeq-dispatcher.pw"))
    p = subprocess.run([str(BIN / "tests" / "faults" / "dlq_read"), "-b",
                        api.env["KAFKA_BROKERS"], "--timeout", "15"],
                       capture_output=True, text=True, env=env, timeout=60)
    assert p.returncode != 0, p.stdout


def test_kafka_node_cannot_read_dead_letters(api):
    env = dict(os.environ, **api.env)
    env.update(GRADEQ_KAFKA_SASL_USERNAME="gradeq-node",
               GRADEQ_KAFKA_SASL_PASSWORD_FILE=str(_creds(api) / "kafka" / "gradeq-node.pw"))
    p = subprocess.run([str(BIN / "tests" / "faults" / "dlq_read"), "-b",
                        api.env["KAFKA_BROKERS"], "--timeout", "15"],
                       capture_output=True, text=True, env=env, timeout=60)
    assert p.returncode != 0, p.stdout
