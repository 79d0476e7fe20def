"""Hostile submissions graded through a real node (issue 3, docs/security.md).

Every case of hostile/subs/ is a marimo notebook whose third test calls attack(), where
the attack lives; the first two tests (3 of the 4 points) pass before it, so a contained
attack keeps exactly that credit. The cases are submitted interleaved with honest
submissions, so that honest jobs are graded on the other slots while the attacks run;
afterwards every verdict and score is checked, every honest score must be exact, the
canaries planted on the host must appear in no record and no node log and must be
unchanged, no process of a sandbox uid may be left, and the nodes must still be up.

Needs the CTest fixture `cluster` (scripts/cluster up --nodes 2 --slots 2: sandbox uids
60100+slot and 60200+slot) and root, as the nodes have.
"""
from __future__ import annotations

import glob
import json
import os
import re
import secrets
import shutil
import socket
import stat
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

from conftest import BIN, REPO

HERE = Path(__file__).resolve().parent / "hostile"
SUBS = HERE / "subs"
COURSE = "ithostile"
SANDBOX_UIDS = range(60100, 60300)  # nodes 1 and 2, any slot
# A slower kernel (the cgroup v2 tier's user-mode Linux guest, tests/cgv2) stretches the
# exercises' wall-clock limits and the run's by this; the expectations stay the same.
TIME_SCALE = float(os.environ.get("GRADEQ_TEST_TIME_SCALE", "1"))
TIME_LIMIT_S = 240 * TIME_SCALE     # the whole run, generously on a loaded 2-core machine

# case -> (exercise, verdict (or the verdicts allowed), score, detail that must be in the
# record's message or the attack test's message, or None). Exercise "hostile": timeout_s 8, memory_mb 256.
EXPECTED = {
    # two-process runtime: a call that hangs fails its test ("did not return within") and
    # the tests after it still run; the verdict says what happened
    "fork_bomb": ("hostile", "timeout", 3, "did not return within"),
    # 512 copies of the interpreter: pids.max or the memory limit, whichever gives first
    "fork_bomb_python": ("hostile", ("timeout", "memory"), 3, None),
    "memory_bomb": ("hostile", "memory", 3, "memory limit"),
    "cpu_spin": ("hostile", "timeout", 3, "did not return within"),
    "sleep_forever": ("hostile", "timeout", 3, "did not return within"),
    "endless_stdout": ("hostile", "output_limit", 3, "output limit"),
    "endless_stderr": ("hostile", "output_limit", 3, "output limit"),
    "fill_disk": ("hostile", "ok", 4, None),
    "huge_file": ("hostile", "ok", 3, "File too large"),
    "thread_bomb": ("hostile", "ok", 4, None),
    "tcp_connect": ("hostile", "ok", 4, None),
    "dns_lookup": ("hostile", "ok", 4, None),
    "read_secrets": ("hostile", "ok", 3, "AssertionError"),
    "inherited_fds": ("hostile", "ok", 4, None),
    "write_outside": ("hostile", "ok", 4, None),
    "workdir_writer": ("pair", "ok", 4, None),
    "workdir_reader": ("pair", "ok", 4, None),
    "double_fork": ("hostile", "ok", 4, None),
    "double_fork_timeout": ("hostile", "timeout", 3, "did not return within"),
    # `kill -9 -1` in the student process reaches only its own pid namespace, whose
    # init (the student process) ignores it: the attack harms nothing and returns
    "kill_all": ("hostile", "ok", 4, None),
    "signal_parent": ("hostile", "ok", 4, None),
    "fake_passed": ("hostile", "ok", 3, "attack(3) should be 6"),
    # the student process has no result channel: fd 3 is its request pipe (read only)
    "channel_garbage": ("hostile", "ok", 3, "Bad file descriptor"),
    "channel_oversized": ("hostile", "ok", 3, "Bad file descriptor"),
    "channel_lying_count": ("hostile", "ok", 3, "Bad file descriptor"),
    "recursion_bomb": ("hostile", "memory", 3, "memory limit"),
    "ctypes_segfault": ("hostile", "crashed", 3, "signal 11"),
    "non_utf8_output": ("hostile", "ok", 3, "ValueError"),
    "non_utf8_source": ("hostile", "import_error", 0, "SyntaxError"),
    "syntax_error": ("hostile", "import_error", 0, "SyntaxError: expected ':'"),
    "unsafe": ("safe", "rejected", 0, "import of 'os' is not allowed"),
}
BIG_MB = 10

# Honest submissions: (add, mul, attack) right or wrong; score = 2*add + mul + attack.
HONEST_VARIANTS = [(1, 1, 1), (1, 0, 1), (0, 1, 1), (1, 1, 0), (0, 0, 0), (1, 0, 0)]
HONEST_COUNT = 18


# -- helpers ---------------------------------------------------------------------------

def notebook(add_ok: bool, mul_ok: bool, attack_ok: bool) -> str:
    src = (SUBS / "honest.py").read_text()
    if not add_ok:
        src = src.replace("return a + b", "return a - b")
    if not mul_ok:
        src = src.replace("return a * b", "return a + b + 1")
    if not attack_ok:
        src = src.replace("return n * 2", "return n * 3")
    return src


def fill(src: str, **values: str) -> str:
    for k, v in values.items():
        src = src.replace(f"@@{k}@@", v)
    assert "@@" not in src, re.findall(r"@@\w+@@", src)
    return src


def strings_of(obj) -> list[str]:
    """Every string value in a decoded JSON document."""
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, dict):
        return [s for v in obj.values() for s in strings_of(v)]
    if isinstance(obj, list):
        return [s for v in obj for s in strings_of(v)]
    return []


def cluster_ps() -> list[list[str]]:
    out = subprocess.run([str(REPO / "scripts" / "cluster"), "ps"], check=True,
                         capture_output=True, text=True, env=os.environ).stdout
    return [line.split() for line in out.splitlines() if line.strip()]


def node_pids() -> list[str]:
    return [r[1] for r in cluster_ps() if r[0].startswith("node-") and len(r) >= 3]


def proc_text(pid: str) -> str | None:
    """cmdline + cwd + mount table of a process (None once it is gone)."""
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        mounts = Path(f"/proc/{pid}/mountinfo").read_bytes()
        try:
            cwd = os.readlink(f"/proc/{pid}/cwd").encode()
        except OSError:
            cwd = b""
        return (cmd + b"\n" + cwd + b"\n" + mounts).decode(errors="replace")
    except OSError:
        return None


def sandbox_leftovers(state: Path) -> list[str]:
    """Live processes of a sandbox uid that belong to this cluster (or to none known).
    Another cluster on the host (another state dir) uses the same uids: its jobs are
    told apart by their mounts, which name their own state dir."""
    out = subprocess.run(["ps", "-e", "-o", "pid=,uid=,stat=,args="], check=True,
                         capture_output=True, text=True).stdout
    left = []
    for line in out.splitlines():
        pid, uid, st, *args = line.split(None, 3)
        if int(uid) not in SANDBOX_UIDS or st.startswith(("Z", "X")):
            continue
        text = proc_text(pid)
        if text is None:
            continue  # gone meanwhile
        if str(state) not in text and re.search(r"/(node-\d+)/work/|gradeq", text):
            continue  # a job of another cluster
        left.append(line.strip())
    return left


def wait_records(api, sids: dict[str, str], limit: float) -> dict[str, dict]:
    token = api.env["GRADEQ_TOKEN"]
    done: dict[str, dict] = {}
    end = time.monotonic() + limit
    while len(done) < len(sids) and time.monotonic() < end:
        for name, sid in sids.items():
            if name in done:
                continue
            code, rec, _ = api.http("GET", f"/v1/submissions/{sid}", token=token)
            assert code == 200, (name, code, rec)
            if rec["status"] in ("done", "error"):
                done[name] = rec
        time.sleep(0.5)
    missing = sorted(set(sids) - set(done))
    assert not missing, f"not finished within {limit} s: {missing}"
    return done


class WorkdirWatch(threading.Thread):
    """Referees the cooperating pair from the host: once the writer has left its canary
    in its /work and the reader is searching, it lets them search side by side for a
    while, then drops "release" into both workdirs. Also records what the writer's
    directory looks like from the host."""

    OVERLAP_S = 2.0

    def __init__(self, state: Path, writer: str, reader: str, canary: str):
        super().__init__(daemon=True)
        self.state, self.canary = state, canary
        self.sids = {"writer": writer, "reader": reader}
        self.nodes = node_pids()
        self.writer_checks: dict | None = None
        self.overlap_s = 0.0
        self.released = False
        self.stop = threading.Event()

    def jobdir(self, role: str) -> Path | None:
        """The job's directory as its node sees it: the job's /work is a tmpfs in the
        node's own mount namespace, reached from the host through /proc/<node>/root."""
        for pid in self.nodes:  # every node sees the directory, only its own the tmpfs
            for d in glob.glob(f"/proc/{pid}/root{self.state}/node-*/work/{self.sids[role]}-*"):
                if os.path.ismount(f"{d}/work"):
                    return Path(d)
        return None

    def run(self) -> None:
        both_since = None
        while not self.stop.is_set() and not self.released:
            w, r = self.jobdir("writer"), self.jobdir("reader")
            ready = False
            try:
                ready = bool(w and r and (w / "work" / "answers.txt").exists()
                             and (r / "work" / "scanning").exists())
                if ready and self.writer_checks is None:
                    self.inspect(w)
            except OSError:
                ready = False
            now = time.monotonic()
            if ready:
                both_since = both_since or now
                self.overlap_s = now - both_since
                if self.overlap_s >= self.OVERLAP_S:
                    for d in (r, w):
                        try:
                            (d / "work" / "release").write_text("")
                        except OSError:
                            pass
                    self.released = True
            self.stop.wait(0.05)

    def inspect(self, job: Path) -> None:
        work = job / "work"
        root, jst, wst = job.parent.stat(), job.stat(), work.stat()
        self.writer_checks = {
            "root_mode": oct(stat.S_IMODE(root.st_mode)),
            "job_mode": oct(stat.S_IMODE(jst.st_mode)), "job_uid": jst.st_uid,
            "work_mode": oct(stat.S_IMODE(wst.st_mode)), "work_uid": wst.st_uid,
            "work_is_mount": os.path.ismount(work),
            "canary_on_host": (work / "answers.txt").read_text().strip() == self.canary,
        }


# -- the run -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def state() -> Path:
    s = Path(os.environ["GRADEQ_STATE"])
    assert (s / "node-1.conf").is_file(), f"no cluster state in {s}"
    return s


@pytest.fixture(scope="module")
def exercises(api, tmp_path_factory) -> dict[str, Path]:
    """The hostile exercise and its variants: the cooperating pair and the honest
    submissions get longer timeouts, "safe" has the static safety check on."""
    base = tmp_path_factory.mktemp("ex")
    toml = (HERE / "exercise" / "exercise.toml").read_text()

    def timeout(s: int) -> str:
        return f"timeout_s = {round(s * TIME_SCALE)}"
    toml = toml.replace("timeout_s = 8", timeout(8))
    variants = {
        "hostile": toml,
        "pair": toml.replace(timeout(8), timeout(40)),
        "honest": toml.replace(timeout(8), timeout(60)),
        "safe": toml + "safety_check = true\n",
    }
    assert len(set(variants.values())) == len(variants), "exercise.toml variants collide"
    out = {}
    for name, text in variants.items():
        d = base / name
        shutil.copytree(HERE / "exercise", d)
        (d / "exercise.toml").write_text(text)
        api.cli("publish", f"{COURSE}/{name}", str(d))
        out[name] = d
    return out


@pytest.fixture(scope="module")
def canaries(state: Path, tmp_path_factory):
    """Plants canaries on the host and collects the bytes a job must never see."""
    tag = secrets.token_hex(8)
    planted = {
        "root": Path(f"/root/gradeq-hostile-canary-{tag}.txt"),
        "host_tmp": Path(f"/tmp/gradeq-hostile-canary-{tag}.txt"),
        "state": state / f"hostile-canary-{tag}.txt",
    }
    for name, p in planted.items():
        p.write_text(f"CANARY-{name}-{tag}\n")
        p.chmod(0o666)  # writable and readable to anyone who could reach it at all
    secret_files = [state / "secret", state / "dispatcher.conf"] + \
        sorted(state.glob("node-*.conf"))
    needles = {f"CANARY-{name}-{tag}" for name in planted}
    needles.add(f"JOBCANARY-{tag}")  # written by workdir_writer into its own /work
    needles.add((state / "secret").read_text().strip())
    for f in secret_files[1:]:
        needles |= {ln.strip() for ln in f.read_text().splitlines()
                    if "=" in ln and len(ln.strip()) >= 12}
    needles |= {ln for ln in Path("/etc/shadow").read_text().splitlines() if len(ln) >= 12}
    # the nodes' environments (what /proc/1/environ of a host process would give)
    # (less what the sandbox's own environment sets: sandbox_argv.c, env_* steps)
    allow = {"PATH", "HOME", "TMPDIR", "MPLCONFIGDIR", "LANG", "LC_ALL", "TERM", "NO_COLOR",
             "PYTHONDONTWRITEBYTECODE", "PYTHONHASHSEED", "PYTHONUNBUFFERED",
             "PYTHONNOUSERSITE", "PYTHONIOENCODING", "PYTEST_DISABLE_PLUGIN_AUTOLOAD",
             "MPLBACKEND", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
             "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "PWD", "SHLVL", "_"}
    for role, pid, _alive in (r for r in cluster_ps() if r[0].startswith("node-")):
        for kv in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"):
            k, _, v = kv.decode(errors="replace").partition("=")
            if k and k not in allow and len(kv) >= 12:
                needles.add(f"{k}={v}")
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in
              [*planted.values(), *secret_files]}
    yield {"tag": tag, "planted": planted, "needles": needles, "before": before,
           "secret_files": secret_files}
    for p in planted.values():
        p.unlink(missing_ok=True)


def test_hostile_submissions_are_contained(api, state, exercises, canaries):
    t_start = time.monotonic()
    tag = canaries["tag"]
    token = api.env["GRADEQ_TOKEN"]

    # A listener the sandbox must never reach, and the cluster's own ports.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.setblocking(False)
    ports = [listener.getsockname()[1]]
    for line in (state / "services.env").read_text().splitlines():
        k, _, v = line.partition("=")
        if k.endswith("_PORT") and v.strip().isdigit():
            ports.append(int(v))
    ports.append(int(api.url.rsplit(":", 1)[1]))

    mark = f"{7000 + secrets.randbelow(1000)}.{secrets.randbelow(10 ** 6):06d}"
    paths = [str(p) for p in canaries["secret_files"]] + \
        [str(p) for p in canaries["planted"].values()]
    hold = "20"  # at most; the referee releases the pair once they overlapped
    subst = {
        "PORTS": ", ".join(map(str, ports)),
        "PATHS": ", ".join(repr(p) for p in paths),
        "TARGETS": ", ".join(repr(p) for p in paths),
        "STATE": str(state),
        "CANARY": f"JOBCANARY-{tag}",
        "HOLD": hold,
        "MARK": mark,
    }
    sources: dict[str, bytes] = {}
    for case in EXPECTED:
        if case == "non_utf8_source":  # bytes that are not UTF-8 in the source itself
            sources[case] = notebook(True, True, True).encode().replace(
                b"import marimo\n", b'import marimo\nNOTE = "caf\xe9 \xff\xfe\x80"\n', 1)
        else:
            sources[case] = fill((SUBS / f"{case}.py").read_text(), **subst).encode()
    honest = {f"honest{i:02d}": HONEST_VARIANTS[i % len(HONEST_VARIANTS)]
              for i in range(HONEST_COUNT)}

    # Submit: the cooperating pair first (so they overlap), then hostile and honest
    # interleaved.
    def submit(exercise: str, student: str, body: bytes) -> str:
        code, doc, _ = api.http(
            "POST", f"/v1/courses/{COURSE}/exercises/{exercise}/submissions?student={student}",
            token=token, body=body)
        assert code == 202, (student, code, doc)
        return doc["id"]

    order = ["workdir_writer", "workdir_reader"] + \
        [c for c in EXPECTED if c not in ("workdir_writer", "workdir_reader")]
    sids: dict[str, str] = {}
    watch = None
    hon = iter(honest.items())
    for case in order:
        sids[case] = submit(EXPECTED[case][0], case.replace("_", "-"), sources[case])
        if case == "workdir_reader":
            watch = WorkdirWatch(state, sids["workdir_writer"], sids["workdir_reader"],
                                 f"JOBCANARY-{tag}")
            watch.start()
        nxt = next(hon, None)
        if nxt:
            student, variant = nxt
            sids[student] = submit("honest", student, notebook(*variant).encode())
    for student, variant in hon:
        sids[student] = submit("honest", student, notebook(*variant).encode())

    # A 10 MB notebook: refused at the door with the dispatcher's default body limit
    # (1024 KiB), graded like any other when the limit lets it in.
    big = notebook(True, True, True).replace(
        "import marimo\n", "import marimo\n" + ("# " + "p" * 1021 + "\n") * (BIG_MB * 1024), 1)
    big_b = big.encode()
    assert len(big_b) >= BIG_MB * 1024 * 1024
    m = re.search(r"^max_body_kb\s*=\s*(\d+)", (state / "dispatcher.conf").read_text(), re.M)
    max_body = int(m.group(1)) * 1024 if m else 1024 * 1024
    try:
        code, doc, _ = api.http(
            "POST", f"/v1/courses/{COURSE}/exercises/hostile/submissions?student=big-10mb",
            token=token, body=big_b)
    except (ConnectionError, OSError) as e:  # a server may close before reading it all
        code, doc = None, repr(e)
    if len(big_b) > max_body:
        assert code in (413, None), (code, doc)
    else:
        assert code == 202, (code, doc)
        sids["big_10mb"] = doc["id"]

    recs = wait_records(api, sids, TIME_LIMIT_S - (time.monotonic() - t_start))
    watch.stop.set()
    watch.join()

    # -- verdicts and scores --------------------------------------------------------------
    rows, problems = [], []
    for case, (ex, verdict, score, detail) in EXPECTED.items():
        rec = recs[case]
        attack = next((t for t in rec.get("tests", []) if t["name"].endswith("test_attack")),
                      {})
        rows.append(f"{case:<22} {rec.get('verdict') or rec['status']:<13} "
                    f"{rec.get('score')}/{rec.get('max')}  "
                    f"{(rec.get('message') or attack.get('message') or rec.get('error') or '')[:70]}")
        verdicts = verdict if isinstance(verdict, tuple) else (verdict,)
        if rec["status"] != "done" or rec["verdict"] not in verdicts or rec["score"] != score:
            problems.append((case, rec["status"], rec.get("verdict"), rec.get("score"),
                             rec.get("message"), rec.get("error")))
        elif detail and detail not in (rec.get("message", "") + " " + attack.get("message", "")):
            problems.append((case, "detail", detail, rec.get("message"), attack.get("message")))
        if rec.get("status") == "done" and rec["max"] != 4:
            problems.append((case, "max", rec["max"]))
    if "big_10mb" in recs:
        r = recs["big_10mb"]
        rows.append(f"{'big_10mb':<22} {r.get('verdict')}  {r.get('score')}/{r.get('max')}")
        if (r["status"], r.get("verdict"), r.get("score")) != ("done", "ok", 4):
            problems.append(("big_10mb", r["status"], r.get("verdict"), r.get("score")))
    else:
        rows.append(f"{'big_10mb':<22} 413 at the API (max_body_kb {max_body // 1024})")
    print("\nhostile cases (case, verdict, score, detail):\n  " + "\n  ".join(rows))
    print("submission ids (the job cgroups' and node logs' names): " +
          json.dumps({c: sids[c] for c in EXPECTED}))
    print(f"cooperating pair searched side by side for {watch.overlap_s:.1f} s; the "
          f"writer's workdir from the host: {watch.writer_checks}")
    assert not problems, problems

    honest_bad = []
    for student, (a, mu, at) in honest.items():
        r = recs[student]
        want = 2 * a + mu + at
        if (r["status"], r.get("verdict"), r.get("score"), r.get("max")) != ("done", "ok", want, 4):
            honest_bad.append((student, want, r["status"], r.get("verdict"), r.get("score"),
                               r.get("message"), r.get("error")))
    assert not honest_bad, f"honest submissions graded wrong: {honest_bad}"

    # -- the pair: one job's workdir is out of every other job's reach --------------------
    assert watch.released, "writer and reader never searched side by side"
    wc = watch.writer_checks
    assert wc and wc["canary_on_host"], f"writer's canary never seen on the host: {wc}"
    assert wc["root_mode"] == "0o711" and wc["job_mode"] == "0o711" and wc["job_uid"] == 0, wc
    assert wc["work_mode"] == "0o700" and wc["work_uid"] in SANDBOX_UIDS, wc
    assert wc["work_is_mount"], f"the job's /work is not a tmpfs of its own: {wc}"

    # -- canaries: in no record, in no node log; host files unchanged ---------------------
    leaked = []
    texts = {}
    for name, sid in sids.items():
        texts[name] = "\n".join(strings_of(recs[name])) + "\n" + \
            api.redis("hgetall", f"gq:sub:{sid}")
    for log in sorted((state / "logs").glob("node-*.log")):
        texts[log.name] = log.read_bytes().decode(errors="replace")
    for where, text in texts.items():
        for needle in canaries["needles"]:
            if needle in text:
                leaked.append((where, needle[:60]))
    assert not leaked, f"canary contents leaked: {leaked}"
    for p, (data, mtime) in canaries["before"].items():
        assert p.read_bytes() == data and p.stat().st_mtime_ns == mtime, f"{p} was changed"
    for p in ("escaped.txt",):
        assert not list(state.glob(f"node-*/work/**/{p}")), "a job wrote outside /work"

    # -- the network: no connection reached the listener -----------------------------------
    with pytest.raises(BlockingIOError):
        conn, peer = listener.accept()
        conn.close()
        raise AssertionError(f"the listener was reached from {peer}")
    listener.close()

    # -- nothing of any job outlives it ------------------------------------------------------
    left = sandbox_leftovers(state)
    for _ in range(50):
        if not left:
            break
        time.sleep(0.1)
        left = sandbox_leftovers(state)
    assert not left, f"processes of sandbox uids survived their jobs: {left}"
    daemons = subprocess.run(["pgrep", "-f", f"^sleep {re.escape(mark)}$"],
                             capture_output=True, text=True).stdout.split()
    assert not daemons, f"the double-forked daemon survived: {daemons}"
    jobdirs = [d for sid in sids.values()
               for d in glob.glob(str(state / "node-*" / "work" / f"{sid}-*"))]
    assert not jobdirs, f"workdirs left behind: {jobdirs}"
    mounts = [ln for pid in ["self", *node_pids()]
              for ln in Path(f"/proc/{pid}/mountinfo").read_text().splitlines()
              if "gradeq-job" in ln and str(state) in ln]
    assert not mounts, f"job tmpfs mounts left behind: {mounts}"
    cgs = [d for sid in sids.values()
           for d in glob.glob(f"/sys/fs/cgroup/**/gradeq-node-*/{sid}-*", recursive=True)]
    assert not cgs, f"job cgroups left behind: {cgs}"

    # -- the nodes stayed up ---------------------------------------------------------------
    roles = {r[0]: r[2] for r in cluster_ps() if len(r) >= 3}
    assert roles and all(a == "alive" for a in roles.values()), roles
    for node in (r for r in roles if r.startswith("node-")):
        assert api.redis("exists", f"gq:node:{node}").strip() == "1", f"{node}: no heartbeat"
    elapsed = time.monotonic() - t_start
    print(f"hostile run: {len(sids)} submissions ({len(honest)} honest) in {elapsed:.1f} s")


def test_big_notebook_is_graded_by_the_runner(tmp_path):
    """The 10 MB notebook through the node's runner itself (gradeq-grade-local: the same
    sandbox, limits and scoring), whatever the dispatcher's body limit is."""
    tool = BIN / "grader-node" / "gradeq-grade-local"
    big = notebook(True, True, True).replace(
        "import marimo\n", "import marimo\n" + ("# " + "p" * 1021 + "\n") * (BIG_MB * 1024), 1)
    sub = tmp_path / "big.py"
    sub.write_text(big)
    root = Path(tempfile.mkdtemp(prefix="gq-hostile-big-"))  # traversable by the job uid
    try:
        root.chmod(0o711)
        p = subprocess.run([str(tool), "--json", "--uid", "61800", "--work-root", str(root),
                            "--runtime", str(REPO / "grader-node" / "runtime"),
                            str(HERE / "exercise"), str(sub)],
                           capture_output=True, text=True, timeout=120)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    assert p.returncode == 0, p.stderr
    res = json.loads(p.stdout)
    assert (res["verdict"], res["score"], res["max"]) == ("ok", 4, 4), res


@pytest.mark.parametrize("hide", ["bwrap", "cgroups", "workdir"])
def test_node_refuses_to_start_without_its_sandbox(state, tmp_path, hide):
    """A node whose sandbox is unavailable (bubblewrap missing, no cgroup hierarchy, a
    work dir the sandbox uids cannot enter) exits non-zero at start with the reason,
    before it joins the consumer group, instead of failing every job."""
    # pytest's tmp_path sits below a 0700 directory: only the "workdir" case keeps it
    root = tmp_path if hide == "workdir" else Path(tempfile.mkdtemp(prefix="gq-hostile-start-"))
    try:
        if hide != "workdir":
            root.chmod(0o711)
        out, rc = start_probe_node(state, tmp_path, root, hide)
    finally:
        if root != tmp_path:
            shutil.rmtree(root, ignore_errors=True)
    assert rc != 0, out
    assert "cannot start: sandbox:" in out, out
    closed = next((d for d in reversed([tmp_path, *tmp_path.parents])
                   if not d.stat().st_mode & stat.S_IXOTH), None)
    want = {"bwrap": "bwrap", "cgroups": "cgroup",
            "workdir": f"cannot enter {closed} (mode 0"}[hide]
    assert want in out, out


def start_probe_node(state: Path, tmp_path: Path, root: Path, hide: str) -> tuple[str, int]:
    """Runs a node (config of node-1, a group of its own) with work_dir below root and
    bwrap or the cgroups hidden in a mount namespace of its own; its output and exit."""
    conf = (state / "node-1.conf").read_text()
    conf = re.sub(r"^id = .*$", "id = hostile-probe", conf, flags=re.M)
    conf = re.sub(r"^work_dir = .*$", f'work_dir = "{root}/work"', conf, flags=re.M)
    conf = re.sub(r"^cache_dir = .*$", f'cache_dir = "{tmp_path}/cache"', conf, flags=re.M)
    conf = re.sub(r"^group = .*$", "group = gradeq-hostile-probe-never", conf, flags=re.M)
    conf = re.sub(r"^address = .*$", "address = 127.0.0.1:1", conf, flags=re.M)
    if hide == "bwrap":  # only the bwrap runner needs bubblewrap
        conf = re.sub(r"^mode = .*$", "mode = bwrap", conf, flags=re.M)
    cfile = tmp_path / "node.conf"
    cfile.write_text(conf)
    node = BIN / "grader-node" / "gradeq-node"
    cover = {"bwrap": "mount --bind /dev/null /usr/bin/bwrap",
             "cgroups": "mount -t tmpfs none /sys/fs/cgroup", "workdir": "true"}[hide]
    # a private mount namespace: the host keeps its bwrap and its cgroups
    p = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c",
                        f'{cover} && exec "$0" -c "$1"', str(node), str(cfile)],
                       capture_output=True, text=True, timeout=120)
    return p.stdout + p.stderr, p.returncode
