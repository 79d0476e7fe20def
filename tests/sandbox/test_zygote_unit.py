"""Unit tests of the zygote's verdict inputs (grader-node/runtime/zygote.py), no sandbox:
how a student process ended (Job.kill_student, with stand-ins for its two processes)
and whether a job's memory sat at its limit (_memory_full, on cgroup v1 and v2 files)."""
from __future__ import annotations

import faulthandler
import importlib.util
import os
import signal
import struct
import time
from pathlib import Path

import pytest

ZYGOTE = Path(__file__).resolve().parents[2] / "grader-node" / "runtime" / "zygote.py"
spec = importlib.util.spec_from_file_location("gq_zygote", ZYGOTE)
z = importlib.util.module_from_spec(spec)
spec.loader.exec_module(z)


def fake_student(end: str, report_delay: float) -> dict:
    """The two processes Job.launch makes for a student, without the sandbox: C1 forks
    C2 (parent-death SIGKILL tied to C1), reports C2's pid, reaps it and, report_delay
    seconds later (a loaded machine where C1 gets the CPU late), reports its wait
    status. C2 holds the write end of the channel the tests side reads: end "segv"
    dies of SIGSEGV, "hang" sleeps, "close" closes its channel and sleeps on.
    Returns the Job.student entry with the tests side's end of the channel as t_r and
    C2's pid."""
    t_r, s_w = os.pipe()
    r, w = os.pipe()
    pid1 = os.fork()
    if pid1 == 0:
        try:
            os.close(r)
            os.close(t_r)
            pid2 = os.fork()
            if pid2 == 0:
                os.close(w)
                z._libc.prctl(z.PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
                faulthandler.disable()
                signal.signal(signal.SIGSEGV, signal.SIG_DFL)
                if end == "segv":
                    os.kill(os.getpid(), signal.SIGSEGV)
                if end == "close":
                    os.close(s_w)
                time.sleep(60)
                os._exit(0)
            os.close(s_w)
            os.write(w, struct.pack("=i", pid2))
            _, st, _ = os.wait4(pid2, 0)
            time.sleep(report_delay)
            os.write(w, struct.pack("=iq", st, 1000))
        finally:
            os._exit(0)
    os.close(w)
    os.close(s_w)
    (pid2,) = struct.unpack("=i", os.read(r, 4))
    return {"pid": pid1, "pidfd": os.pidfd_open(pid1), "report": r, "t_w": -1,
            "t_r": t_r, "c2": pid2}


def job_with(student: dict, cgroup_dirs: list[str] | None = None):
    job = z.Job.__new__(z.Job)  # no jail, no result channel: kill_student needs neither
    job.job = {"cgroup_dirs": cgroup_dirs or []}
    job.cpu = {"tests": 0, "student": 0}
    job.oom_base = 0
    job.student = student
    return job


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # a zombie until its parent (init here) reaps it
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] in "ZX"
    except OSError:
        return True


def test_a_student_that_died_on_its_own_is_reported_with_its_own_signal():
    """The tests side saw the channel end (C2 died of SIGSEGV) and asks with ended=True:
    C1's report comes a second late, and the answer is still SIGSEGV, not the SIGKILL a
    short grace would have put in its place (the cgroup v2 guest's lost signal 11)."""
    s = fake_student("segv", report_delay=1.0)
    assert os.read(s["t_r"], 1) == b""  # end of file: C2 is gone
    t0 = time.monotonic()
    out = job_with(s).kill_student(ended=True)
    assert out == "dead:killed by signal 11 (SIGSEGV):0", out
    assert 0.9 <= time.monotonic() - t0 < z.ENDED_WAIT_S


def test_a_hanging_student_is_killed_at_once():
    s = fake_student("hang", report_delay=0)
    t0 = time.monotonic()
    out = job_with(s).kill_student()
    assert out == "dead:killed by signal 9 (SIGKILL):0", out
    assert time.monotonic() - t0 < 2
    deadline = time.monotonic() + 5
    while not gone(s["c2"]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert gone(s["c2"]), "C2 outlived C1 (parent-death signal)"


def test_a_student_that_closed_its_channel_and_lives_on_is_killed_after_the_wait(
        monkeypatch):
    monkeypatch.setattr(z, "ENDED_WAIT_S", 0.5)
    s = fake_student("close", report_delay=0)
    assert os.read(s["t_r"], 1) == b""  # end of file, yet C2 lives
    t0 = time.monotonic()
    out = job_with(s).kill_student(ended=True)
    assert out == "dead:killed by signal 9 (SIGKILL):0", out
    assert 0.4 <= time.monotonic() - t0 < 3
    deadline = time.monotonic() + 5
    while not gone(s["c2"]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert gone(s["c2"])


def test_kill_student_without_a_student():
    assert job_with(None).kill_student(ended=True) == "dead:gone:0"


# -- _memory_full and _oom_kills on cgroup files --------------------------------------------

MIB = 1 << 20


def v2_dir(tmp_path: Path, limit: str, anon: int, shmem: int, file: int,
           oom_kill: int = 0) -> str:
    d = tmp_path / "v2"
    d.mkdir()
    (d / "memory.max").write_text(limit + "\n")
    (d / "memory.stat").write_text(
        f"anon {anon}\nfile {file + shmem}\nkernel 3145728\nkernel_stack 262144\n"
        f"pagetables 1048576\nshmem {shmem}\nfile_mapped 0\nanon_thp 0\n")
    (d / "memory.events").write_text(f"low 0\nhigh 0\nmax 12\noom 1\noom_kill {oom_kill}\n"
                                     "oom_group_kill 0\n")
    return str(d)


def test_memory_full_v2_anon_at_the_limit(tmp_path):
    assert z._memory_full([v2_dir(tmp_path, "268435456", 230 * MIB, 0, 20 * MIB)])


def test_memory_full_v2_tmpfs_counts(tmp_path):
    assert z._memory_full([v2_dir(tmp_path, "268435456", 100 * MIB, 130 * MIB, 0)])


def test_memory_full_v2_page_cache_is_not_full(tmp_path):
    """Page cache up to the limit can be reclaimed: a job reading a big file is not
    out of memory."""
    assert not z._memory_full([v2_dir(tmp_path, "268435456", 40 * MIB, 0, 210 * MIB)])


def test_memory_full_v2_still_climbing_is_not_full(tmp_path):
    assert not z._memory_full([v2_dir(tmp_path, "268435456", 150 * MIB, 0, 0)])


def test_memory_full_v2_without_a_limit(tmp_path):
    assert not z._memory_full([v2_dir(tmp_path, "max", 4096 * MIB, 0, 0)])


def test_memory_full_v1(tmp_path):
    mem = tmp_path / "memory"
    mem.mkdir()
    (mem / "memory.limit_in_bytes").write_text("268435456\n")
    (mem / "memory.stat").write_text(f"cache 0\nrss 0\nshmem 0\ntotal_cache 0\n"
                                     f"total_rss {240 * MIB}\ntotal_shmem 0\n")
    pids = tmp_path / "pids"  # the other v1 hierarchies have no memory files
    pids.mkdir()
    assert z._memory_full([str(pids), str(mem)])
    (mem / "memory.stat").write_text(f"total_rss {100 * MIB}\ntotal_shmem 0\n")
    assert not z._memory_full([str(pids), str(mem)])


def test_oom_kills_v2_and_v1(tmp_path):
    assert z._oom_kills([v2_dir(tmp_path, "268435456", 0, 0, 0, oom_kill=2)]) == 2
    v1 = tmp_path / "v1"
    v1.mkdir()
    (v1 / "memory.oom_control").write_text("oom_kill_disable 0\nunder_oom 0\noom_kill 1\n")
    assert z._oom_kills([str(v1), str(tmp_path / "missing")]) == 1


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q"]))
