#!/usr/bin/env python3
"""Fault-injection tests: a batch of submissions with known expected scores
($GRADEQ_FAULTS_STUDENTS, default 300; CTest runs 100) runs through a real cluster (the
jobs on a Redis stream or a Kafka topic: $GRADEQ_BROKER, which the cluster's env sets;
Redis, dispatcher, 2 grader nodes x 3 slots) while one fault is injected, then the end
state is checked:

  - every accepted submission (a 202 the CLI got) is `done` with the score the oracle
    (examples/expected.py, direct pytest) gives its file;
  - no submission record at all is left queued or grading, none is in `error`;
  - the gradebook CSV equals the one computed from the oracle;
  - the results stream gq:results holds exactly one entry per (submission, attempt);
  - the consumer group's lag drops to 0 on every partition (`gradeq status --json`):
    every offset committed, no partition stalled.

Each test prints (and writes to $GRADEQ_FAULTS_REPORT/<name>.<broker>.json) the time to
recover,
defined as the last result minus the fault, the longest pause between two results after
the fault, the wall time, and how many runs were wasted (graded twice).

Run by run.sh inside a cluster of its own (tests/integration/fixture.sh):
    faults.py node_kill | rolling_restart | redis_restart | kafka_restart | poison | regrade
(kafka_restart needs the Kafka broker; on Redis Streams the broker restart is redis_restart.)
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CLI = os.environ.get("GRADEQ_CLI", str(REPO / "build" / "cli" / "gradeq"))
BIN = Path(os.environ.get("GRADEQ_BIN_DIR", REPO / "build"))
STATE = Path(os.environ["GRADEQ_STATE"])
CLUSTER = [str(REPO / "scripts" / "cluster")]
COURSE_DIR = REPO / "examples" / "course"
EXERCISE = "primes"  # the cheapest exercise: no numpy
COURSE = "faults"
STUDENTS = int(os.environ.get("GRADEQ_FAULTS_STUDENTS", "300"))
BROKER = os.environ.get("GRADEQ_BROKER", "kafka")
# files per `gradeq batch` call while streaming: any size streams for ~48 s, so
# submissions keep arriving during the fault
CHUNK = max(5, STUDENTS // 12)
CHUNK_EVERY_S = 4.0
CACHE = Path(os.environ.get("GRADEQ_FAULTS_CACHE", STATE / "oracle-cache"))
REPORT = Path(os.environ.get("GRADEQ_FAULTS_REPORT", STATE / "report"))
T0 = time.time()


def log(msg: str) -> None:
    print(f"[faults {time.time() - T0:6.1f}s] {msg}", flush=True)


def fail(msg: str) -> None:
    print(f"FAIL: {msg}", flush=True)
    sys.exit(1)


# ---- a minimal Redis client (RESP2, no dependency) ------------------------------------

class Redis:
    def __init__(self, url: str):
        hp = url.split("://", 1)[-1]
        # redis://USER:PASSWORD@HOST:PORT (scripts/cluster env: the admin user)
        self.auth: list[str] = []
        if "@" in hp:
            cred, hp = hp.rsplit("@", 1)
            self.auth = ["AUTH", *cred.split(":", 1)]
        self.host, port = hp.rsplit(":", 1)
        self.port = int(port)
        self.sock: socket.socket | None = None
        self.buf = b""

    def _connect(self) -> None:
        self.sock = socket.create_connection((self.host, self.port), timeout=10)
        self.buf = b""
        if self.auth:
            self.sock.sendall(b"".join([b"*%d\r\n" % len(self.auth)] +
                                       [b"$%d\r\n%s\r\n" % (len(a.encode()), a.encode())
                                        for a in self.auth]))
            try:
                self._reply()  # RuntimeError on WRONGPASS
            except (OSError, ConnectionError, RuntimeError):
                self.sock.close()
                self.sock = None
                raise

    def _line(self) -> bytes:
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise ConnectionError("redis closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _exact(self, n: int) -> bytes:
        while len(self.buf) < n + 2:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise ConnectionError("redis closed the connection")
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def _reply(self):
        line = self._line()
        t, rest = line[:1], line[1:]
        if t == b"+":
            return rest.decode()
        if t == b"-":
            raise RuntimeError(rest.decode())
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            return None if n < 0 else self._exact(n).decode("utf-8", "replace")
        if t == b"*":
            n = int(rest)
            return None if n < 0 else [self._reply() for _ in range(n)]
        raise RuntimeError(f"bad reply {line!r}")

    def pipeline(self, cmds: list[list]) -> list:
        """Sends every command, reads every reply; reconnects once when the connection
        is gone (Redis restarted)."""
        for attempt in (1, 2):
            try:
                if self.sock is None:
                    self._connect()
                out = bytearray()
                for c in cmds:
                    out += b"*%d\r\n" % len(c)
                    for a in c:
                        a = a if isinstance(a, bytes) else str(a).encode()
                        out += b"$%d\r\n%s\r\n" % (len(a), a)
                self.sock.sendall(out)
                return [self._reply() for _ in cmds]
            except (OSError, ConnectionError):
                self.sock = None
                if attempt == 2:
                    raise
        return []

    def cmd(self, *args):
        return self.pipeline([list(args)])[0]


def redis_retry(r: Redis, *args, wait_s: float = 60):
    end = time.time() + wait_s
    while True:
        try:
            return r.cmd(*args)
        except (OSError, ConnectionError, RuntimeError):
            if time.time() > end:
                raise
            time.sleep(0.5)


# ---- the cluster ----------------------------------------------------------------------

def cluster(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    p = subprocess.run([*CLUSTER, *args, "--dir", str(STATE)], capture_output=True, text=True,
                       timeout=600)
    if check and p.returncode != 0:
        fail(f"scripts/cluster {' '.join(args)} failed ({p.returncode}):\n{p.stderr}")
    return p


def gradeq(*args: str, check: bool = True, timeout: float = 900) -> subprocess.CompletedProcess:
    p = subprocess.run([CLI, *args], capture_output=True, text=True, timeout=timeout)
    if check and p.returncode != 0:
        fail(f"gradeq {' '.join(args)} failed ({p.returncode}): {p.stderr.strip()}")
    return p


def status_json() -> dict:
    return json.loads(gradeq("status", "--json").stdout)


# ---- submissions and the oracle -------------------------------------------------------

def dir_digest(d: Path) -> str:
    h = hashlib.sha256()
    for f in sorted(p for p in d.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        h.update(str(f.relative_to(d)).encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()


def oracle(ex_dir: Path, files: list[Path]) -> dict[str, float]:
    """Expected score per file stem; examples/expected.py runs once per distinct file
    content (cached by sha256 across tests and runs)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    tests = dir_digest(ex_dir)
    out: dict[str, float] = {}
    by_content: dict[str, float] = {}
    for f in files:
        key = hashlib.sha256(tests.encode() + f.read_bytes()).hexdigest()
        if key not in by_content:
            cached = CACHE / f"{key}.json"
            if not cached.exists():
                p = subprocess.run([sys.executable, str(REPO / "examples" / "expected.py"),
                                    str(ex_dir), str(f), "--json"], capture_output=True,
                                   text=True, timeout=300)
                if p.returncode != 0:
                    fail(f"oracle failed on {f}: {p.stderr}")
                tmp = cached.with_suffix(".tmp")
                tmp.write_text(p.stdout)
                tmp.replace(cached)
            by_content[key] = float(json.loads(cached.read_text())["score"])
        out[f.stem] = by_content[key]
    return out


def generate(out: Path, students: int, seed: int) -> list[Path]:
    subprocess.run([sys.executable, str(REPO / "examples" / "gen_submissions.py"), str(out),
                    "--students", str(students), "--seed", str(seed), "--no-hang",
                    "--exercises", EXERCISE], check=True, capture_output=True)
    return sorted((out / EXERCISE).glob("*.py"))


def fmt(v: float) -> str:
    s = f"{round(v + 0.0, 2):.2f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


class Stream:
    """Submits the files in chunks of CHUNK, one `gradeq batch` call every CHUNK_EVERY_S,
    on a thread; between chunks, between(i) may inject something (poison messages)."""

    def __init__(self, files: list[Path], work: Path, course: str = COURSE,
                 between=None):
        self.files, self.work, self.course, self.between = files, work, course, between
        self.ids: dict[str, str] = {}  # student -> id
        self.errors: list[str] = []
        self.done = threading.Event()
        self.chunk_started: list[threading.Event] = [threading.Event() for _ in files[::CHUNK]]
        self.started = time.time()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> "Stream":
        self.started = time.time()
        self.thread.start()
        return self

    def _run(self) -> None:
        try:
            chunks = [self.files[i:i + CHUNK] for i in range(0, len(self.files), CHUNK)]
            for i, chunk in enumerate(chunks):
                t = time.time()
                self.chunk_started[i].set()
                d = self.work / f"chunk{i:03d}"
                d.mkdir(parents=True)
                for f in chunk:
                    shutil.copy(f, d / f.name)
                p = subprocess.run([CLI, "batch", f"{self.course}/{EXERCISE}", str(d),
                                    "--json", "--parallel", "4", "--timeout", "900"],
                                   capture_output=True, text=True, timeout=1000)
                rows = json.loads(p.stdout) if p.stdout.strip() else []
                for row in rows:
                    if row.get("id"):
                        self.ids[row["student"]] = row["id"]
                    else:
                        self.errors.append(f"{row.get('student')}: {row}")
                if p.returncode != 0:
                    self.errors.append(f"chunk {i}: exit {p.returncode}: {p.stderr[-500:]}")
                if self.between:
                    self.between(i)
                left = CHUNK_EVERY_S - (time.time() - t)
                if left > 0 and i + 1 < len(chunks):
                    time.sleep(left)
        except Exception as e:  # reported by the main thread
            self.errors.append(f"stream: {e!r}")
        finally:
            self.done.set()

    def wait(self, timeout: float = 900) -> None:
        if not self.done.wait(timeout):
            fail("submitting the batch did not finish")
        if self.errors:
            fail(f"{len(self.errors)} submissions were not accepted: {self.errors[:5]}")


def results_count(r: Redis) -> int:
    try:
        return int(r.cmd("XLEN", "gq:results") or 0)
    except (OSError, ConnectionError, RuntimeError):
        return -1


def wait_for(what: str, cond, timeout: float = 600, every: float = 0.5):
    end = time.time() + timeout
    while time.time() < end:
        v = cond()
        if v:
            return v
        time.sleep(every)
    fail(f"timed out waiting for {what}")


def wait_finished(r: Redis, ids: list[str], timeout: float = 700, stall: float = 150) -> None:
    """Waits until every id is done or error; fails when that takes longer than timeout,
    or when nothing finished for stall seconds (a stuck partition), with the status."""
    end = time.time() + timeout
    last_log = 0.0
    last_n, last_change = -1, time.time()
    while True:
        try:
            st = r.pipeline([["HGET", f"gq:sub:{i}", "status"] for i in ids])
        except (OSError, ConnectionError, RuntimeError):
            st = None
        if st is not None:
            left = sum(1 for s in st if s not in ("done", "error"))
            if left == 0:
                return
            if len(ids) - left != last_n:
                last_n, last_change = len(ids) - left, time.time()
            if time.time() - last_log > 15:
                log(f"{len(ids) - left}/{len(ids)} finished")
                last_log = time.time()
        if time.time() > end or time.time() - last_change > stall:
            status = gradeq("status", check=False).stdout
            fail(f"not every submission finished ({last_n}/{len(ids)}; nothing finished for "
                 f"{time.time() - last_change:.0f} s):\n{status}")
        time.sleep(1)


# ---- the end-state checks -------------------------------------------------------------

def check_end_state(r: Redis, ids: dict[str, str], expected: dict[str, float],
                    course: str = COURSE) -> dict:
    idl = list(ids.values())
    wait_finished(r, idl)
    recs = r.pipeline([["HMGET", f"gq:sub:{i}", "status", "score", "attempt", "verdict",
                        "error"] for i in idl])
    bad = []
    for (student, sid), (status, score, attempt, verdict, err) in zip(ids.items(), recs):
        want = expected[student]
        if status != "done" or score is None or abs(float(score) - want) > 1e-9:
            bad.append((student, sid, status, verdict, score, want, err))
    if bad:
        fail(f"{len(bad)} submissions not done with their expected score: {bad[:5]}")
    log(f"all {len(idl)} accepted submissions are done with their expected scores")

    # nothing anywhere is left behind: every record (also ones whose client got no 202)
    keys, cursor = [], "0"
    while True:
        cursor, batch = r.cmd("SCAN", cursor, "MATCH", "gq:sub:*", "COUNT", "1000")
        keys += batch
        if cursor == "0":
            break
    sts = r.pipeline([["HMGET", k, "status", "student", "score"] for k in keys])
    stuck = [(k, s) for k, s in zip(keys, sts) if s[0] != "done"]
    if stuck:
        fail(f"{len(stuck)} records are not done: {stuck[:5]}")
    orphans = len(keys) - len(idl)
    for k, (status, student, score) in zip(keys, sts):
        if k[len("gq:sub:"):] not in ids.values() and student in expected:
            # a job in Kafka whose client got a 503 (and then resubmitted): graded too,
            # with the same content, so it cannot change the gradebook
            if abs(float(score) - expected[student]) > 1e-9:
                fail(f"orphan record {k} of {student} scored {score}, expected "
                     f"{expected[student]}")
    if r.cmd("ZCARD", "gq:errors") != 0:
        fail(f"gq:errors is not empty: {r.cmd('ZRANGE', 'gq:errors', 0, 10)}")

    # the gradebook equals the oracle's
    csv_text = gradeq("gradebook", course, "--csv").stdout
    rows = list(csv.reader(io.StringIO(csv_text)))
    if rows[0] != ["student", EXERCISE, "total"]:
        fail(f"gradebook header {rows[0]}")
    got = {row[0]: (row[1], row[2]) for row in rows[1:]}
    want = {s: (fmt(v), fmt(v)) for s, v in expected.items()}
    if got != want:
        diff = [(s, got.get(s), want.get(s)) for s in sorted(set(got) | set(want))
                if got.get(s) != want.get(s)]
        fail(f"gradebook differs from the oracle in {len(diff)} rows: {diff[:5]}")
    log(f"gradebook of {len(got)} students equals the oracle's")

    # one stream entry per (submission, attempt)
    entries = r.cmd("XRANGE", "gq:results", "-", "+")
    seen: dict[tuple[str, str], int] = {}
    times: list[int] = []
    ours = set(ids.values())
    for eid, fields in entries:
        f = dict(zip(fields[::2], fields[1::2]))
        key = (f["id"], f["attempt"])
        seen[key] = seen.get(key, 0) + 1
        if f["id"] in ours:
            times.append(int(eid.split("-")[0]))
    dups = {k: n for k, n in seen.items() if n > 1}
    if dups:
        fail(f"results stream has duplicate (submission, attempt): {list(dups.items())[:5]}")
    missing = [i for i in idl if (i, "1") not in seen]
    if missing:
        fail(f"{len(missing)} submissions have no results-stream entry: {missing[:5]}")
    log(f"results stream: {len(entries)} entries, no duplicate (submission, attempt)")

    # every offset committed, no partition stalled
    def lag_zero():
        try:
            lag = status_json().get("lag", {})
        except SystemExit:
            return None
        return lag if lag.get("total") == 0 else None
    lag = wait_for("the consumer group's lag to reach 0", lag_zero, timeout=90, every=1)
    log(f"queue lag 0 on all {len(lag['partitions'])} partitions")
    return {"result_times_ms": sorted(times), "orphans": orphans}


def wasted_runs() -> dict:
    """Gradings that ran more than once for the same (submission, attempt), from the
    node logs, and jobs stopped by a partition revoke."""
    graded: dict[tuple[str, str], int] = {}
    revoked = 0
    for f in (STATE / "logs").glob("node-*.log"):
        for line in f.read_text(errors="replace").splitlines():
            m = re.search(r"graded ([0-9a-f]{28}) attempt (\d+):", line)
            if m:
                graded[m.groups()] = graded.get(m.groups(), 0) + 1
            if "revoked during" in line:
                revoked += 1
    return {"graded_twice": sum(n - 1 for n in graded.values() if n > 1),
            "stopped_by_revoke": revoked}


def report(name: str, fault_ms: int | None, end: dict, extra: dict | None = None) -> None:
    times = end["result_times_ms"]
    rec = {"test": name, "broker": BROKER, "submissions": len(times),
           "wall_s": round(time.time() - T0, 1)}
    if fault_ms is not None and times:
        after = [t for t in times if t >= fault_ms]
        gaps = [b - a for a, b in zip([fault_ms] + after, after)]
        rec["recover_s"] = round((times[-1] - fault_ms) / 1000, 1)
        rec["longest_pause_after_fault_s"] = round(max(gaps) / 1000, 1) if gaps else None
        rec["results_after_fault"] = len(after)
    rec.update(wasted_runs())
    rec["orphan_records"] = end["orphans"]
    if extra:
        rec.update(extra)
    REPORT.mkdir(parents=True, exist_ok=True)
    (REPORT / f"{name}.{BROKER}.json").write_text(json.dumps(rec, indent=1) + "\n")
    print("RESULT " + json.dumps(rec), flush=True)
    print(gradeq("status").stdout, flush=True)


# ---- the faults -----------------------------------------------------------------------

# Every fault test grades the same 300 files (each on a cluster of its own): the oracle
# runs once per distinct content, in the first test, and the others read its cache.
SEED = 101


def setup(seed: int = SEED):
    r = Redis(os.environ["REDIS_URL"])
    work = Path(tempfile.mkdtemp(prefix="faults-", dir=STATE))
    files = generate(work / "subs", STUDENTS, seed)
    expected = oracle(COURSE_DIR / EXERCISE, files)
    gradeq("publish", f"{COURSE}/{EXERCISE}", str(COURSE_DIR / EXERCISE))
    log(f"{len(files)} submissions, {len(set(expected.values()))} distinct expected scores")
    return r, work, files, expected


def now_ms() -> int:
    return int(time.time() * 1000)


def t_node_kill() -> None:
    r, work, files, expected = setup()
    s = Stream(files, work).start()
    third = max(10, STUDENTS // 3)
    wait_for(f"{third} results", lambda: results_count(r) >= third, timeout=600)
    busy = {n["id"]: n["busy"] for n in status_json()["nodes"]}
    fault = now_ms()
    cluster("kill", "node-2")
    log(f"node-2 killed with SIGKILL (busy slots before: {busy})")
    s.wait()
    end = check_end_state(r, s.ids, expected)
    ps = cluster("ps").stdout
    if not re.search(r"^node-2\s+\S+\s+dead", ps, re.M):
        fail(f"node-2 is not dead:\n{ps}")
    report("node_kill", fault, end, {"busy_at_kill": busy})


def t_rolling_restart() -> None:
    """A rolling upgrade: first the dispatcher (SIGTERM while a `gradeq batch` chunk is
    being submitted: it answers what it holds and stops; the client retries the rest),
    then each node in turn: SIGTERM while it runs jobs (it drains them), down for a few
    seconds (the other node takes its partitions over), then back (the other node's
    partitions are revoked again: its jobs of them stop, they are not graded twice)."""
    r, work, files, expected = setup()
    s = Stream(files, work).start()
    first = max(10, STUDENTS // 10)
    half = s.chunk_started[len(s.chunk_started) // 2]
    # some results, but while submissions still stream (a slow machine grades fewer)
    wait_for(f"{first} results or half the batch submitted",
             lambda: results_count(r) >= first or half.is_set(), timeout=600)
    steps = []
    # the next chunk's batch is under way: requests are in flight during the restart
    nxt = next((i for i, e in enumerate(s.chunk_started) if not e.is_set()), None)
    if nxt is None:
        fail("every chunk was submitted before the restart")
    if not s.chunk_started[nxt].wait(60):
        fail(f"chunk {nxt} did not start")
    time.sleep(0.05)
    fault = now_ms()
    t = time.time()
    cluster("restart", "dispatcher")
    steps.append({"node": "dispatcher", "down_s": round(time.time() - t, 1)})
    log(f"dispatcher restarted with SIGTERM during chunk {nxt}: back after "
        f"{time.time() - t:.1f} s")
    for node in ("node-1", "node-2"):
        # busy as its heartbeat (every 2 s) says: the warm runner grades a primes job in a
        # fraction of a second, so a heartbeat may never catch it busy while submissions
        # trickle in; then it is stopped as it is (the drain and revoke paths still run)
        busy, end_wait = False, time.time() + 45
        while not busy and time.time() < end_wait:
            busy = int(redis_retry(r, "HGET", f"gq:node:{node}", "busy") or 0) >= 1
            time.sleep(0.2)
        if busy:
            time.sleep(0.5)  # not right after a completion
        else:
            log(f"{node} was never seen busy in 45 s (jobs shorter than its heartbeat "
                "period); stopping it as it is")
        t = time.time()
        cluster("stop", node)
        t_stop = time.time() - t
        time.sleep(5)
        cluster("start", node)
        steps.append({"node": node, "drain_s": round(t_stop, 1), "seen_busy": busy,
                      "down_s": round(time.time() - t, 1)})
        log(f"{node} restarted with SIGTERM: drained in {t_stop:.1f} s, back after "
            f"{time.time() - t:.1f} s")
        n0 = results_count(r)
        more = min(n0 + 15, len(files))  # a small batch may have fewer left
        wait_for(f"{more - n0} more results", lambda: results_count(r) >= more, timeout=300)
    s.wait()
    end = check_end_state(r, s.ids, expected)
    text = "".join(f.read_text(errors="replace") for f in (STATE / "logs").glob("node-*.log"))
    drains = len(re.findall(r"drained \(", text))
    exits = len(re.findall(r"INFO node: exit 0$", text, re.M))
    if drains < 2 or exits < 2:
        fail(f"expected 2 clean drains and exits in the node logs, found {drains}, {exits}")
    if "drain deadline passed" in text or "Assertion" in text or re.search(r"exit [1-9]", text):
        fail("a node did not stop cleanly (drain deadline, abort or exit code)")
    waste = wasted_runs()
    if waste["graded_twice"] > 1:
        fail(f"{waste['graded_twice']} jobs were graded twice: a revoked partition's jobs "
             "kept running")
    report("rolling_restart", fault, end, {"steps": steps})


def t_redis_restart() -> None:
    r, work, files, expected = setup()
    s = Stream(files, work).start()
    some = max(10, STUDENTS * 2 // 15)
    wait_for(f"25 s of streaming and {some} results",
             lambda: time.time() - s.started >= 25 and results_count(r) >= some, timeout=600)
    fault = now_ms()
    t = time.time()
    # a crash, not a clean shutdown: with appendfsync always every write Redis answered
    # is on disk, so nothing a node or the dispatcher was told is lost
    cluster("kill", "redis")
    cluster("start", "redis")
    down = time.time() - t
    log(f"redis killed (SIGKILL, AOF on) and started again in {down:.1f} s")
    s.wait()
    end = check_end_state(r, s.ids, expected)
    report("redis_restart", fault, end, {"redis_down_s": round(down, 1)})


def t_kafka_restart() -> None:
    if BROKER != "kafka":
        fail("kafka_restart needs the Kafka broker (on Redis Streams: redis_restart)")
    r, work, files, expected = setup()
    s = Stream(files, work).start()
    wait_for("20 s of streaming", lambda: time.time() - s.started >= 20, timeout=600)
    fault = now_ms()
    t = time.time()
    cluster("stop", "kafka")
    log(f"kafka stopped in {time.time() - t:.1f} s")
    code = health()
    # down longer than the consumers' session timeout (10 s): the members lose their
    # assignments (with jobs in flight and fetching paused) and must rejoin
    time.sleep(10)
    cluster("start", "kafka")
    down = time.time() - t
    log(f"kafka back after {down:.1f} s (healthz while down: {code})")
    s.wait()
    end = check_end_state(r, s.ids, expected)
    refused = len(re.findall(r"POST /v1/\S+/submissions 503 ",
                             (STATE / "logs" / "dispatcher.log").read_text(errors="replace")))
    lost = sum(len(re.findall(r"kafka: lost \d+ partition", f.read_text(errors="replace")))
               for f in (STATE / "logs").glob("node-*.log"))
    report("kafka_restart", fault, end, {"kafka_down_s": round(down, 1),
                                         "healthz_while_down": code,
                                         "submissions_answered_503": refused,
                                         "assignments_lost": lost})


def health() -> int:
    import urllib.error
    import urllib.request
    try:
        with urllib.request.urlopen(os.environ["GRADEQ_URL"] + "/healthz", timeout=5) as resp:
            return resp.status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return 0


POISON = [("garbage", ["--garbage", "200"], "bad message"),
          ("oversize", ["--oversize"], "too large"),
          ("schema", ["--schema", "99"], "unsupported schema")]


def t_poison() -> None:
    r, work, files, expected = setup()
    produce = str(BIN / "tests" / "broker" / "produce_job")
    sent: list[str] = []
    first: list[int] = []

    def between(i: int) -> None:
        if i % 3 != 1:  # after chunks 1, 4, 7, 10: poison between good ones
            return
        first.append(now_ms())
        for kind, args, _ in POISON:
            student = f"poison{i}{kind}"  # keys spread the poison over partitions
            to = (["-b", os.environ["KAFKA_BROKERS"]] if BROKER == "kafka" else
                  ["--redis", os.environ["REDIS_URL"].split("://", 1)[-1]])
            p = subprocess.run([produce, *to, "--student", student, "--course", COURSE,
                                "--exercise", EXERCISE, *args],
                               capture_output=True, text=True, timeout=60)
            if p.returncode != 0:
                raise RuntimeError(f"produce_job {kind}: {p.stderr}")
            sent.append(kind)

    s = Stream(files, work, between=between).start()
    s.wait()
    fault = first[0] if first else None  # the first poison message
    end = check_end_state(r, s.ids, expected)
    dl = dead_letters(r)
    reasons = [d["reason"] or "" for d in dl]
    for kind, _, want in POISON:
        n_sent = sent.count(kind)
        n_got = sum(1 for x in reasons if want in x)
        if n_got != n_sent:
            fail(f"{kind}: {n_sent} produced, {n_got} dead letters with '{want}': {reasons}")
    if len(dl) != len(sent):
        fail(f"{len(sent)} poison messages produced, {len(dl)} dead letters")
    log(f"{len(dl)} poison messages dead-lettered with their reasons, e.g. {reasons[0]!r}")
    report("poison", fault, end, {"poison_sent": len(sent), "dead_letters": len(dl),
                                  "reasons": sorted(set(reasons))})


def dead_letters(r: Redis) -> list[dict]:
    """The dead letters with their reasons: gradeq.jobs.dlq (Kafka, through dlq_read) or
    the stream gq:jobs:dlq (Redis)."""
    if BROKER == "kafka":
        p = subprocess.run([str(BIN / "tests" / "faults" / "dlq_read"), "-b",
                            os.environ["KAFKA_BROKERS"]], capture_output=True, text=True,
                           timeout=120)
        if p.returncode != 0:
            fail(f"dlq_read: {p.stderr}")
        return [json.loads(line) for line in p.stdout.splitlines() if line.strip()]
    out = []
    for _eid, fields in r.cmd("XRANGE", "gq:jobs:dlq", "-", "+") or []:
        f = dict(zip(fields[::2], fields[1::2]))
        out.append({"reason": f.get("reason"), "source": f.get("source")})
    return out


def t_regrade() -> None:
    """Not a fault: a regrade after the tests got stricter lowers scores (the best is
    recomputed from the kept results), and a submission in `error` shows in
    `gradeq status` with its reason and leaves it once a regrade gets it done."""
    r = Redis(os.environ["REDIS_URL"])
    work = Path(tempfile.mkdtemp(prefix="regrade-", dir=STATE))
    files = generate(work / "subs", 8, seed=11)
    v1 = COURSE_DIR / EXERCISE
    v2 = work / "primes-v2"
    shutil.copytree(v1, v2)
    # stricter: a 3-point test no generated solution passes, and max_points 10
    with open(v2 / "exercise.toml", "a") as f:
        f.write("max_points = 10\n")
    with open(v2 / "tests" / "test_primes.py", "a") as f:
        f.write("\n\n@pytest.mark.points(3)\ndef test_is_prime_rejects_floats():\n"
                "    with pytest.raises(TypeError):\n        is_prime(2.5)\n")
    exp1, exp2 = oracle(v1, files), oracle(v2, files)
    course = "rg"
    gradeq("publish", f"{course}/{EXERCISE}", str(v1))
    rows = json.loads(gradeq("batch", f"{course}/{EXERCISE}", str(files[0].parent), "--wait",
                             "--json").stdout)
    got1 = {row["student"]: row["score"] for row in rows}
    if any(abs(got1[s] - exp1[s]) > 1e-9 for s in exp1):
        fail(f"first grading {got1} != oracle {exp1}")
    # "twice" submits a weaker file, then a better one: both results are kept
    weak = min(files, key=lambda f: (exp1[f.stem] <= 0, exp1[f.stem]))
    strong = max(files, key=lambda f: exp1[f.stem])
    for f in (weak, strong):
        gradeq("submit", f"{course}/{EXERCISE}", str(f), "--student", "twice", "--wait")
    before = gradebook(course)
    if before["twice"] != fmt(exp1[strong.stem]):
        fail(f"twice: best {before['twice']}, expected {exp1[strong.stem]}")

    gradeq("publish", f"{course}/{EXERCISE}", str(v2))
    gradeq("regrade", f"{course}/{EXERCISE}")
    latest = r.cmd("HGETALL", f"gq:latest:{course}:{EXERCISE}")
    ids = dict(zip(latest[::2], latest[1::2]))

    def regraded():
        st = r.pipeline([["HMGET", f"gq:sub:{i}", "status", "attempt"] for i in ids.values()])
        return all(s == "done" and a == "2" for s, a in st)
    wait_for("the regrade", regraded, timeout=300)
    after = gradebook(course)
    want = {s: fmt(exp2[s]) for s in exp2}
    # twice: the regraded latest (strong, now lower) and the kept weak result
    want["twice"] = fmt(max(exp2[strong.stem], exp1[weak.stem]))
    if after != want:
        fail(f"gradebook after the regrade {after} != expected {want}")
    lowered = [s for s in exp2 if float(after[s]) < float(before[s])]
    if not lowered:
        fail("no score went down after a regrade against stricter tests")
    log(f"regrade against stricter tests lowered {len(lowered)} of {len(exp2)} scores, e.g. "
        f"{lowered[0]}: {before[lowered[0]]} -> {after[lowered[0]]}")

    # a submission in error: its exercise's bundle is gone from Redis
    broken = work / "broken"
    shutil.copytree(v1, broken)
    with open(broken / "tests" / "test_primes.py", "a") as f:
        f.write("\n# a distinct bundle hash\n")
    out = gradeq("publish", f"{course}/broken", str(broken)).stdout
    thash = re.search(r"tests_hash ([0-9a-f]{64})", out).group(1)
    r.cmd("DEL", f"gq:bundle:{thash}")
    sid = gradeq("submit", f"{course}/broken", str(strong), "--student", "e1").stdout.split()[0]
    wait_for("the submission to be in error",
             lambda: r.cmd("HGET", f"gq:sub:{sid}", "status") == "error", timeout=120)
    st = status_json()
    listed = [e for e in st["errors"] if e["id"] == sid]
    if st["error"] != 1 or not listed or "bundle" not in listed[0]["error"]:
        fail(f"status does not list {sid} in error with its reason: {st}")
    log(f"status lists {sid} in error: {listed[0]['error']!r}")
    human = gradeq("status").stdout
    if sid not in human:
        fail(f"`gradeq status` does not show {sid}:\n{human}")
    gradeq("publish", f"{course}/broken", str(broken))  # puts the bundle back
    gradeq("regrade", f"{course}/broken")
    wait_for("the regraded submission to be done",
             lambda: r.cmd("HGET", f"gq:sub:{sid}", "status") == "done", timeout=120)
    st = status_json()
    if st["error"] != 0 or st["errors"]:
        fail(f"still listed in error after a done regrade: {st['errors']}")
    log("after the regrade it is done and no longer listed in error")
    print(human, flush=True)


def gradebook(course: str) -> dict[str, str]:
    rows = list(csv.reader(io.StringIO(gradeq("gradebook", course, "--csv").stdout)))
    col = rows[0].index(EXERCISE)
    return {row[0]: row[col] for row in rows[1:]}


TESTS = {"node_kill": t_node_kill, "rolling_restart": t_rolling_restart,
         "redis_restart": t_redis_restart, "kafka_restart": t_kafka_restart,
         "poison": t_poison, "regrade": t_regrade}

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in TESTS:
        print(f"usage: faults.py {'|'.join(TESTS)}", file=sys.stderr)
        sys.exit(2)
    TESTS[sys.argv[1]]()
    log("PASS")
