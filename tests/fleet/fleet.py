#!/usr/bin/env python3
"""The fleet test: gradeq deployed by its Ansible roles on Debian 12 hosts built here.

    tests/fleet/fleet.py [--state DIR] [--students N] [--keep]

Hosts are systemd-nspawn containers (tests/fleet/hosts.sh) on a private bridge. An operator
account without root (gradeq-fleet, made by tests/fleet/setup) follows ansible/README.md:
a copy of this checkout, an inventory, group_vars, ./gen-vault, ansible-vault, the source
tarball, ansible-playbook. Then, each step checked against the oracle (examples/expected.py,
hidden tests run directly with pytest) with nothing lost and nothing counted twice:

  deploy     fleet1: kafka + redis + dispatcher; fleet2, fleet3: kafka + grader (3 brokers,
             KRaft quorum, topics with replication 3 and min.insync.replicas 2)
  again      a second ansible-playbook run changes nothing (changed=0 on every host)
  token      the README's token step, as the non-root deploy user on the dispatcher host
  batch      a batch graded across hosts
  add-node   fleet4 joins [graders] with one command (--limit fleet4) and takes work
  upgrade    a new source tarball rolled out (graders one at a time) during batches
  kill       the Kafka broker host fleet3 (also a grader) powered off during a batch, while
             it grades: the jobs it had in flight are delivered again and graded elsewhere
  down       every host, the bridge and the proxy removed (always, also on failure)

Prints one "fleet: FIGURE ..." line per measured figure and "fleet: PASS" at the end;
exits non-zero (and says which step failed) otherwise. Needs root, tests/fleet/setup, a
build (GRADEQ_BUILD, default build/) for the local CLI and the grading venv for the oracle.
"""
from __future__ import annotations

import argparse
import fcntl
import json
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
HOSTS_SH = HERE / "hosts.sh"
OPERATOR = "gradeq-fleet"
NET = os.environ.get("GRADEQ_FLEET_NET", "10.231.7")
HOSTS = {f"fleet{i}": f"{NET}.{10 + i}" for i in range(1, 5)}
EXERCISES = ["primes", "stats", "strings"]
ANSIBLE_BIN = Path(os.environ.get("GRADEQ_FLEET_ANSIBLE", "/opt/gradeq/fleet-venv/bin"))
VENV_PY = Path(os.environ.get("GRADEQ_VENV", "/opt/gradeq/venv")) / "bin" / "python"
T0 = time.monotonic()


class Fail(Exception):
    pass


def log(msg: str) -> None:
    print(f"[fleet {time.monotonic() - T0:6.0f}s] {msg}", flush=True)


def figure(msg: str) -> None:
    print(f"fleet: FIGURE {msg}", flush=True)


def run(argv, check=True, **kw) -> subprocess.CompletedProcess:
    p = subprocess.run(argv, text=True, capture_output=True, **kw)
    if check and p.returncode != 0:
        raise Fail(f"{' '.join(map(str, argv))[:200]} exited {p.returncode}:\n"
                   f"{p.stdout[-3000:]}\n{p.stderr[-3000:]}")
    return p


class Fleet:
    def __init__(self, state: Path, students: int):
        self.state = state
        self.students = students
        self.op = pwd.getpwnam(OPERATOR)
        self.home = Path(self.op.pw_dir)
        self.ws = self.home / "gradeq"          # the operator's checkout
        self.ans = self.ws / "ansible"
        self.build = Path(os.environ.get("GRADEQ_BUILD", REPO / "build"))
        self.cli = self.build / "cli" / "gradeq"
        self.vault = {}
        self.env = {}
        self.figures = {}

    # -- plumbing ------------------------------------------------------------------
    def hosts(self, *args):
        return run([str(HOSTS_SH), args[0], str(self.state), *map(str, args[1:])])

    def as_operator(self, script: str, check=True, timeout=None) -> subprocess.CompletedProcess:
        env = {"HOME": str(self.home), "USER": OPERATOR, "LANG": "C.UTF-8",
               "PATH": f"{ANSIBLE_BIN}:/usr/local/bin:/usr/bin:/bin",
               "ANSIBLE_FORCE_COLOR": "0", "ANSIBLE_NOCOLOR": "1"}
        return run(["runuser", "-u", OPERATOR, "--", "env", "-i",
                    *[f"{k}={v}" for k, v in env.items()], "bash", "-euo", "pipefail", "-c",
                    script], check=check, cwd=str(self.home), timeout=timeout)

    def ssh(self, host: str, cmd: str, check=True) -> subprocess.CompletedProcess:
        return self.as_operator(f"ssh -o BatchMode=yes deploy@{HOSTS[host]} {sh_quote(cmd)}",
                                check=check)

    def playbook(self, *extra, log_name: str) -> tuple[float, dict]:
        t = time.monotonic()
        p = self.as_operator(
            "cd gradeq/ansible && ansible-playbook -i hosts.ini site.yml "
            "--vault-password-file ~/.vault-pass " + " ".join(extra), check=False)
        secs = time.monotonic() - t
        (self.state / f"{log_name}.log").write_text(p.stdout + p.stderr)
        recap = parse_recap(p.stdout)
        if p.returncode != 0 or not recap:
            tail = "\n".join(p.stdout.splitlines()[-60:])
            raise Fail(f"ansible-playbook {' '.join(extra)} failed (rc {p.returncode}); "
                       f"log {self.state / (log_name + '.log')}:\n{tail}\n{p.stderr[-2000:]}")
        return secs, recap

    def gradeq(self, *args, check=True, timeout=900) -> subprocess.CompletedProcess:
        return run([str(self.cli), *args], env={**os.environ, **self.env}, check=check,
                   timeout=timeout)

    def redis(self, *args) -> list[str]:
        p = run(["redis-cli", "--no-auth-warning", "-h", HOSTS["fleet1"], "--user",
                 "gradeq-admin", *args],
                env={**os.environ, "REDISCLI_AUTH": self.vault["vault_redis_admin_password"]})
        return p.stdout.splitlines()

    # -- steps -----------------------------------------------------------------------
    def prepare(self):
        for tool in ("debootstrap", "systemd-nspawn", "redis-cli"):
            if not shutil.which(tool):
                raise Fail(f"{tool} is missing: run tests/fleet/setup")
        for p in (ANSIBLE_BIN / "ansible-playbook", self.cli, VENV_PY):
            if not p.exists():
                raise Fail(f"{p} is missing: run scripts/setup --fleet (and scripts/build)")
        # the operator's home starts empty on every run
        for child in self.home.iterdir():
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
        # the operator's own clone of this checkout (tracked files as they are now)
        files = run(["git", "-C", str(REPO), "ls-files", "-z", "--cached", "--others",
                     "--exclude-standard"]).stdout.split("\0")
        self.ws.mkdir()
        for f in filter(None, files):
            src = REPO / f
            if src.is_file():
                dst = self.ws / f
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dst)
        run(["chown", "-R", f"{OPERATOR}:{OPERATOR}", str(self.home)])
        self.as_operator(
            "cd gradeq && git init -q && git add -A && "
            "git -c user.name=op -c user.email=op@fleet commit -qm 'fleet test checkout' && "
            "mkdir -p -m 0700 ~/.ssh && ssh-keygen -q -t ed25519 -N '' -f ~/.ssh/id_ed25519 && "
            "printf 'Host %s.*\\n  StrictHostKeyChecking accept-new\\n' " + NET + " > ~/.ssh/config")

    def lint(self):
        p = self.as_operator("cd gradeq/ansible && ansible-lint --nocolor -q", check=False)
        if p.returncode != 0:
            raise Fail(f"ansible-lint reports findings:\n{p.stdout[-3000:]}{p.stderr[-2000:]}")

    def doors(self):
        """Redis across hosts: no credentials -> refused; the read-only user cannot write."""
        base = ["redis-cli", "--no-auth-warning", "-h", HOSTS["fleet1"]]
        anon = run([*base, "GET", "gq:courses"], check=False).stdout + ""
        ro = run([*base, "--user", "gradeq-reader", "SET", "gq:courses", "x"], check=False,
                 env={**os.environ, "REDISCLI_AUTH": self.vault["vault_redis_reader_password"]}).stdout
        if "NOAUTH" not in anon or "NOPERM" not in ro:
            raise Fail(f"Redis let in a client it should refuse: anonymous {anon!r}, reader SET {ro!r}")
        log(f"Redis across hosts: anonymous -> {anon.strip()[:40]}; reader SET -> {ro.strip()[:40]}")
        # Kafka, from another broker host's view (the advertised names resolve there)
        shutil.copy(HERE / "KafkaDoors.java", self.home / "KafkaDoors.java")
        run(["chown", f"{OPERATOR}:{OPERATOR}", str(self.home / "KafkaDoors.java")])
        self.as_operator(f"scp -q -o BatchMode=yes ~/KafkaDoors.java deploy@{HOSTS['fleet2']}:")
        p = self.ssh("fleet2", "java -cp '/opt/gradeq/kafka/libs/*' KafkaDoors.java fleet1:9092 "
                     f"gradeq.jobs gradeq-graders {self.vault['vault_kafka_node_password']} "
                     f"{self.vault['vault_kafka_dispatcher_password']}", check=False)
        if p.returncode != 0:
            raise Fail(f"Kafka let in a client it should refuse:\n{p.stdout}{p.stderr[-1500:]}")
        for line in p.stdout.splitlines():
            log(f"Kafka: {line[:150]}")

    def build_hosts(self, names):
        (self.state / "hosts.list").write_text(
            "".join(f"{n} {a}\n" for n, a in HOSTS.items()))
        self.hosts("net")
        self.hosts("base", self.home / ".ssh" / "id_ed25519.pub")
        ths = [threading.Thread(target=self._up, args=(n,)) for n in names]
        self._up_err = []
        for t in ths:
            t.start()
        for t in ths:
            t.join()
        if self._up_err:
            raise Fail("; ".join(self._up_err))

    def _up(self, name):
        try:
            self.hosts("up", name)
        except Fail as e:
            self._up_err.append(str(e))

    def readme_steps(self, graders):
        """ansible/README.md's steps, as written there, with this fleet's inventory and a
        few settings an operator would choose for small hosts."""
        inv = ["[kafka]"]
        inv += [f"fleet{i} ansible_host={HOSTS[f'fleet{i}']} kafka_node_id={i}" for i in (1, 2, 3)]
        inv += ["", "[redis]", "fleet1", "", "[dispatcher]", "fleet1", "", "[graders]"]
        inv += [f"{g} ansible_host={HOSTS[g]}" for g in graders]
        inv += ["", "[all:vars]", "ansible_user=deploy", "", "[graders:vars]",
                "gradeq_node_slots=2", ""]
        self.inventory = inv
        script = f"""
cd gradeq/ansible
cat > hosts.ini <<'EOF'
{chr(10).join(inv)}
EOF
mkdir -p group_vars/all
cp group_vars/all.yml.example group_vars/all/main.yml
./gen-vault > group_vars/all/vault.yml 2> cluster-id.txt
cid=$(sed -n 's/^kafka_cluster_id.*: //p' cluster-id.txt)
sed -i "s/^kafka_cluster_id: .*/kafka_cluster_id: \\"$cid\\"/" group_vars/all/main.yml
# this fleet: small hosts, the API on the private address
sed -i -e 's/^kafka_heap: .*/kafka_heap: 384m/' -e 's/^kafka_num_partitions: .*/kafka_num_partitions: 12/' \
    -e 's/^dispatcher_listen: .*/dispatcher_listen: "0.0.0.0:8080"/' group_vars/all/main.yml
cp group_vars/all/vault.yml ~/vault.plain
python3 -c 'import secrets; print(secrets.token_hex(16))' > ~/.vault-pass
chmod 600 ~/.vault-pass
ansible-vault encrypt --vault-password-file ~/.vault-pass group_vars/all/vault.yml
git -C .. archive -o ansible/gradeq-src.tar.gz HEAD
"""
        self.as_operator(script)
        plain = (self.home / "vault.plain").read_text()
        self.vault = dict(re.findall(r'^(vault_\w+): "([^"]+)"', plain, re.M))
        (self.home / "vault.plain").unlink()
        if not (self.ans / "group_vars/all/vault.yml").read_text().startswith("$ANSIBLE_VAULT"):
            raise Fail("group_vars/all/vault.yml is not encrypted")

    def set_graders(self, graders):
        i = self.inventory.index("[graders]")
        j = self.inventory.index("", i)
        self.inventory[i + 1:j] = [f"{g} ansible_host={HOSTS[g]}" for g in graders]
        (self.ans / "hosts.ini").write_text("\n".join(self.inventory) + "\n")

    def token(self):
        # README: on a dispatcher host, as an ordinary sudoer
        p = self.ssh("fleet1", "sudo -u gradeq gradeq token --role instructor "
                     "--secret-file /etc/gradeq/secret admin")
        tok = p.stdout.strip()
        if not tok or " " in tok:
            raise Fail(f"token step printed {p.stdout!r} {p.stderr!r}")
        self.env = {"GRADEQ_URL": f"http://{HOSTS['fleet1']}:8080", "GRADEQ_TOKEN": tok}
        st = json.loads(self.gradeq("status", "--json").stdout)
        log(f"status: {json.dumps(st)[:300]}")

    def submissions(self):
        subs = self.state / "subs"
        run([sys.executable, str(REPO / "examples" / "gen_submissions.py"), str(subs),
             "--students", str(self.students), "--seed", "11", "--no-hang"])
        self.subs = subs
        # the oracle runs beside the deploy
        self.oracle_proc = subprocess.Popen(
            [str(VENV_PY), str(REPO / "examples" / "expected.py"), "--batch", str(subs),
             str(REPO / "examples" / "course"), "--out", str(self.state / "expected.json"),
             "--jobs", "1"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def oracle(self) -> dict:
        if not hasattr(self, "expected"):
            _, err = self.oracle_proc.communicate(timeout=1800)
            if self.oracle_proc.returncode != 0:
                raise Fail(f"oracle (examples/expected.py) failed: {err[-2000:]}")
            self.expected = json.loads((self.state / "expected.json").read_text())
        return self.expected

    def publish(self, course):
        for ex in EXERCISES:
            self.gradeq("publish", f"{course}/{ex}", str(REPO / "examples" / "course" / ex))

    def batch(self, course) -> float:
        """Every generated submission of every exercise, graded; returns the seconds."""
        self.publish(course)
        t = time.monotonic()
        procs = {ex: subprocess.Popen([str(self.cli), "batch", f"{course}/{ex}",
                                       str(self.subs / ex), "--wait", "--json",
                                       "--timeout", "900"],
                                      env={**os.environ, **self.env}, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True)
                 for ex in EXERCISES}
        graded = {}
        try:
            for ex, p in procs.items():
                out, err = p.communicate(timeout=1000)
                if p.returncode != 0:
                    raise Fail(f"batch {course}/{ex} failed ({p.returncode}): {err[-1500:]}")
                graded[ex] = {row["student"]: row for row in json.loads(out)}
        finally:
            for p in procs.values():
                if p.poll() is None:
                    p.kill()
                    p.wait()
        secs = time.monotonic() - t
        self.check(course, graded)
        return secs

    def check(self, course, graded):
        """Nothing lost (every submission done with the oracle's score, one record each),
        nothing counted twice (one result per (submission, attempt))."""
        exp = self.oracle()
        want = sum(len(exp[ex]) for ex in EXERCISES)
        bad = []
        for ex in EXERCISES:
            if set(graded[ex]) != set(exp[ex]):
                raise Fail(f"{course}/{ex}: graded students differ from the submissions "
                           f"({len(graded[ex])} vs {len(exp[ex])})")
            for student, row in graded[ex].items():
                w = float(exp[ex][student]["score"])
                if row["status"] != "done" or abs(float(row["score"]) - w) > 1e-9:
                    bad.append((ex, student, row["status"], row.get("score"), w))
        if bad:
            raise Fail(f"{course}: {len(bad)} results differ from the oracle: {bad[:8]}")
        c = self.counts(course)
        if c["records"] != want:
            raise Fail(f"{course}: {c['records']} submission records for {want} submissions")
        if c["dups"] or c["entries"] != want:
            raise Fail(f"{course}: results stream has {c['entries']} entries for {want} "
                       f"submissions, {c['dups']} duplicate (submission, attempt)")
        log(f"{course}: {want} graded = oracle, {c['records']} records, {c['entries']} "
            f"results, 0 duplicate, by node {c['nodes']}")
        return c

    COUNT_LUA = """
local course = ARGV[1]
local recs, nodes = 0, {}
for _, k in ipairs(redis.call('KEYS', 'gq:sub:*')) do
  if redis.call('HGET', k, 'course') == course then
    recs = recs + 1
    local n = redis.call('HGET', k, 'node') or '-'
    nodes[n] = (nodes[n] or 0) + 1
  end
end
local seen, dups, n = {}, 0, 0
for _, e in ipairs(redis.call('XRANGE', 'gq:results', '-', '+')) do
  local h = {}
  for i = 1, #e[2], 2 do h[e[2][i]] = e[2][i + 1] end
  if h['course'] == course then
    n = n + 1
    local key = h['id'] .. '/' .. h['attempt']
    if seen[key] then dups = dups + 1 end
    seen[key] = true
  end
end
local out = {'records', recs, 'entries', n, 'dups', dups}
for k, v in pairs(nodes) do table.insert(out, 'node:' .. k); table.insert(out, v) end
return out
"""

    IN_FLIGHT_LUA = """
local out = {}
for _, k in ipairs(redis.call('KEYS', 'gq:sub:*')) do
  local h = redis.call('HMGET', k, 'status', 'node')
  if h[1] == 'grading' and h[2] == ARGV[1] then table.insert(out, string.sub(k, 8)) end
end
return out
"""

    def in_flight(self, node) -> list[str]:
        """Ids of the submissions whose record says node is grading them now."""
        return [x for x in self.redis("EVAL", self.IN_FLIGHT_LUA, "0", node) if x]

    def record(self, sid) -> dict:
        lines = self.redis("HGETALL", f"gq:sub:{sid}")
        return dict(zip(lines[::2], lines[1::2]))

    def counts(self, course) -> dict:
        lines = self.redis("EVAL", self.COUNT_LUA, "0", course)
        kv = dict(zip(lines[::2], lines[1::2]))
        return {"records": int(kv["records"]), "entries": int(kv["entries"]),
                "dups": int(kv["dups"]),
                "nodes": {k[5:]: int(v) for k, v in kv.items() if k.startswith("node:")}}

    def batches_during(self, prefix, action) -> list[str]:
        """Batches, one after another, while action() runs in the foreground; at least
        one batch starts before the action and every batch is checked."""
        done = threading.Event()
        courses, errors = [], []

        def loop():
            i = 0
            while not done.is_set() or i == 0:
                i += 1
                course = f"{prefix}{i}"
                courses.append(course)
                try:
                    self.batch(course)
                except Exception as e:  # noqa: BLE001 (reported below)
                    errors.append(f"{course}: {e}")
                    return

        th = threading.Thread(target=loop)
        th.start()
        time.sleep(3)  # the first batch is on its way
        try:
            action()
        finally:
            done.set()
            th.join()
        if errors:
            raise Fail("; ".join(errors))
        return courses


def sh_quote(s: str) -> str:
    return "'" + s.replace("'", "'\\''") + "'"


def parse_recap(out: str) -> dict:
    recap = {}
    for m in re.finditer(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+"
                         r"failed=(\d+)", out, re.M):
        recap[m.group(1)] = {"ok": int(m.group(2)), "changed": int(m.group(3)),
                             "unreachable": int(m.group(4)), "failed": int(m.group(5))}
    return recap


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--state", default=os.environ.get("GRADEQ_FLEET_STATE", "/var/tmp/gradeq-fleet"))
    ap.add_argument("--students", type=int, default=int(os.environ.get("GRADEQ_FLEET_STUDENTS", "20")))
    ap.add_argument("--keep", action="store_true", help="leave the hosts up (debugging)")
    ap.add_argument("--deadline", type=int, default=int(os.environ.get("GRADEQ_FLEET_DEADLINE", "2400")),
                    help="seconds after which the run fails (and still tears down)")
    a = ap.parse_args()
    if os.geteuid() != 0:
        print("fleet: FAIL: needs root (it builds containers and a bridge)", file=sys.stderr)
        return 1
    # one fleet at a time on a machine: the bridge and its addresses are fixed
    lock = open("/run/gradeq-fleet.lock", "w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print("fleet: another fleet run holds /run/gradeq-fleet.lock; waiting", flush=True)
        fcntl.flock(lock, fcntl.LOCK_EX)
    global T0
    T0 = time.monotonic()  # the wall time counts from here, not from a wait for the lock

    def stop(signum, _frame):
        raise Fail(f"signal {signum} (deadline {a.deadline} s, or stopped)")

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGALRM, stop)
    signal.alarm(a.deadline)
    state = Path(a.state)
    if state.exists():  # a previous run that was not torn down
        subprocess.run([str(HOSTS_SH), "down", str(state)])
        shutil.rmtree(state)
    state.mkdir(parents=True)
    f = Fleet(state, a.students)
    step = "prepare"
    try:
        f.prepare()
        f.submissions()
        step = "ansible-lint"
        f.lint()
        step = "hosts"
        t = time.monotonic()
        # fleet4 boots now too (idle, not in the inventory until "add node")
        f.build_hosts(["fleet1", "fleet2", "fleet3", "fleet4"])
        figure(f"hosts: 4 containers booted in {time.monotonic() - t:.0f} s")
        step = "README steps"
        f.readme_steps(["fleet2", "fleet3"])
        step = "deploy"
        secs, recap = f.playbook(log_name="deploy")
        figure(f"deploy: 3 hosts in {secs:.0f} s")
        step = "idempotency"
        secs, recap = f.playbook(log_name="again")
        changed = {h: r["changed"] for h, r in recap.items()}
        if any(changed.values()):
            raise Fail(f"second run changed something: {changed} (log {state}/again.log)")
        figure(f"second run: changed=0 on {len(recap)} hosts ({secs:.0f} s)")
        step = "token"
        f.token()
        f.doors()
        step = "batch"
        secs = f.batch("fleet1")
        n = f.students * len(EXERCISES)
        figure(f"batch: {n} submissions across 2 graders in {secs:.0f} s, = oracle, 0 lost, 0 duplicated")
        step = "add node"
        f.set_graders(["fleet2", "fleet3", "fleet4"])
        secs, recap = f.playbook("--limit", "fleet4", log_name="add-node")
        bsecs = f.batch("fleet2")
        c = f.counts("fleet2")
        share = c["nodes"].get("fleet4", 0) / max(1, c["records"])
        if share <= 0:
            raise Fail(f"the new node took no work: {c['nodes']}")
        figure(f"add node: fleet4 with --limit in {secs:.0f} s; took {share:.0%} of the next "
               f"batch ({c['nodes']}, {bsecs:.0f} s)")
        step = "rolling upgrade"
        f.as_operator(
            "cd gradeq && echo '# fleet test: upgrade' >> grader-node/runtime/zygote.py && "
            "git -c user.name=op -c user.email=op@fleet commit -qam upgrade && "
            "git archive -o ansible/gradeq-src.tar.gz HEAD")
        box = {}
        courses = f.batches_during("fleetup", lambda: box.update(
            r=f.playbook(log_name="upgrade")))
        secs, recap = box["r"]
        restarted = [g for g in ("fleet2", "fleet3", "fleet4") if recap[g]["changed"]]
        figure(f"rolling upgrade: {secs:.0f} s, graders restarted {restarted}, during "
               f"{len(courses)} batches ({len(courses) * n} submissions): 0 lost, 0 duplicated")
        step = "broker kill"

        cut = []  # jobs fleet3 was grading when it lost power

        def node_signal(sig):
            f.ssh("fleet3", f"sudo systemctl kill --kill-whom=main --signal={sig} gradeq-node")

        def kill():
            time.sleep(2)
            # The cut must catch fleet3 grading: its node is frozen (SIGSTOP) and its
            # records read; a job its records show grading then can no longer finish
            # there. A freeze that catches none is undone and tried again.
            t = time.monotonic()
            while True:
                node_signal("SIGSTOP")
                cut[:] = f.in_flight("fleet3")
                if cut or time.monotonic() - t > 60:
                    break
                node_signal("SIGCONT")
                time.sleep(0.3)
            f.hosts("kill", "fleet3")
            log(f"fleet3 (kafka broker 3 + grader) powered off; in flight there: {cut}")
            time.sleep(20)

        courses = f.batches_during("fleetkill", kill)
        if not cut:
            raise Fail("no job was in flight on fleet3 when it was powered off, so the step "
                       "shows no redelivery")
        # each one was delivered again and graded by a live node (the batches' check
        # above: done, the oracle's score, one result per (submission, attempt))
        by = {sid: f.record(sid) for sid in cut}
        bad = {sid: (r.get("status"), r.get("node")) for sid, r in by.items()
               if r.get("status") != "done" or r.get("node") in (None, "", "fleet3")}
        if bad:
            raise Fail(f"jobs in flight on fleet3 at the power cut not graded elsewhere: {bad}")
        figure(f"broker kill: fleet3 off during {len(courses)} batches "
               f"({len(courses) * n} submissions): 0 lost, 0 duplicated; {len(cut)} job(s) "
               f"in flight on fleet3 at the cut, each delivered again and graded by "
               f"{sorted({r['node'] for r in by.values()})}")
        step = "down"
        print("fleet: PASS", flush=True)
        return 0
    except Fail as e:
        print(f"fleet: FAIL at {step}: {e}", flush=True)
        return 1
    except Exception as e:  # noqa: BLE001
        print(f"fleet: FAIL at {step}: {type(e).__name__}: {e}", flush=True)
        return 1
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if not a.keep:
            t = time.monotonic()
            subprocess.run([str(HOSTS_SH), "down", str(state)])
            log(f"torn down in {time.monotonic() - t:.0f} s")
        print(f"fleet: wall time {time.monotonic() - T0:.0f} s", flush=True)


if __name__ == "__main__":
    sys.exit(main())
