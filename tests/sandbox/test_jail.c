/* test_jail.c - the warm runtime's per-job sandbox (grader-node/jail.c), from inside.
 *
 * Each case runs the zygote's sequence for real: fork; the child (C1) joins a cgroup
 * (one case), gq_jail_unshare()s and forks; the grandchild (C2, pid 1 of the new pid
 * namespace) calls gq_jail_enter() and then runs the case's checks as the sandbox uid,
 * reporting "ok" or the first failed check over a pipe kept through the jail.
 *
 * Needs root. Without it the cases are skipped, except under CI=true where a missing
 * prerequisite is a failure (a skipped sandbox test must never read as a pass there). */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include "jail.h"

#define UID 60950
#define GID 60950
#define TMP_MB 4
#define RUN_TIMEOUT_S 30

static char base[128], work[160], tests[160], vbase[128], venv[160];
static bool have_root;

/* -- fixture -------------------------------------------------------------------------- */

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static int setup_all(void **state)
{
	/* Under /tmp on purpose: the jail's stage is mounted on /tmp, sources there must
	 * still be found. */
	snprintf(base, sizeof base, "/tmp/gq-jail-test-%d", (int)getpid());
	snprintf(work, sizeof work, "%s/work", base);
	snprintf(tests, sizeof tests, "%s/tests", base);
	/* The venv keeps its path in the sandbox: not under /tmp, which is fresh there. */
	snprintf(vbase, sizeof vbase, "/opt/gq-jail-test-%d", (int)getpid());
	snprintf(venv, sizeof venv, "%s/venv", vbase);
	have_root = geteuid() == 0;
	if (!have_root)
		return 0; /* the paths are still set: test_enter_refuses needs no root */
	if (mkdir(base, 0711) < 0 || mkdir(work, 0700) < 0 || mkdir(tests, 0755) < 0 ||
	    mkdir(vbase, 0755) < 0 || mkdir(venv, 0755) < 0)
		return -1;
	/* As the node stages it (workdir.c): /work is a tmpfs of its own, the bind source is
	 * the root of a mount. */
	char opts[64];
	snprintf(opts, sizeof opts, "size=8m,mode=0700,uid=%d,gid=%d", UID, GID);
	if (mount("tmpfs", work, "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0)
		return -1;
	char path[256];
	/* Owned by the sandbox uid, so that only the read-only mounts stop a write. */
	snprintf(path, sizeof path, "%s/test_hidden.py", tests);
	write_file(path, "def test_x():\n    assert True\n", 0644);
	if (chown(path, UID, GID) < 0 || chown(tests, UID, GID) < 0)
		return -1;
	snprintf(path, sizeof path, "%s/pyvenv.cfg", venv);
	write_file(path, "home = /usr/bin\n", 0644);
	if (chown(path, UID, GID) < 0 || chown(venv, UID, GID) < 0)
		return -1;
	return 0;
}

static int teardown_all(void **state)
{
	if (have_root && base[0]) {
		(void)umount2(work, MNT_DETACH);
		char cmd[320];
		snprintf(cmd, sizeof cmd, "rm -rf -- '%s' '%s'", base, vbase);
		if (system(cmd) != 0)
			return -1;
	}
	return 0;
}

static void need_root(void)
{
	if (have_root)
		return;
	const char *ci = getenv("CI");
	if (ci && strcmp(ci, "true") == 0)
		fail_msg("needs root (CI=true: a missing prerequisite is a failure)");
	skip();
}

static struct gq_jail_params tests_params(void)
{
	struct gq_jail_params p = {
		.version = GQ_JAIL_ABI,
		.venv = venv,
		.work = work,
		.tests = tests,
		.hostname = "sandbox",
		.uid = UID,
		.gid = GID,
		.tmp_mb = TMP_MB,
		.cpu_s = 30,
		.as_mb = 4096,
		.nofile = 128,
		.nproc = 64,
		.fsize_mb = 64,
		.stack_mb = 16,
	};
#if defined(__SANITIZE_ADDRESS__)
	p.as_mb = 0; /* ASan reserves terabytes of address space */
#endif
	return p;
}

/* -- running a case in the jail ------------------------------------------------------- */

/* A case's checks: 0 when all hold, else they said why (say()) and return 1. */
typedef int (*inside_fn)(int fd, const struct gq_jail_params *p);

__attribute__((format(printf, 2, 3))) static int say(int fd, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	(void)!write(fd, msg, strlen(msg));
	return 1;
}

/* Reports "<condition>: <message>" for the first check that does not hold. */
__attribute__((format(printf, 3, 4))) static int say_check(int fd, const char *cond,
                                                           const char *fmt, ...)
{
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return say(fd, "%s: %s", cond, msg);
}

#define CHECK(cond, ...)                                          \
	do {                                                      \
		if (!(cond))                                      \
			return say_check(fd, #cond, __VA_ARGS__); \
	} while (0)

struct run {
	struct gq_jail_params p;
	const char *const *cgroups; /* joined by C1, or NULL */
	unsigned ncg;
	inside_fn before; /* in C2 before enter (as root, host view), or NULL */
	inside_fn inside; /* in C2 after enter */
};

__attribute__((noreturn)) static void c2_main(struct run *r, int fd)
{
	int keep[8];
	unsigned n = 0;
	for (unsigned i = 0; i < r->p.nkeep && n < 7; i++)
		keep[n++] = r->p.keep_fds[i];
	keep[n++] = fd;
	struct gq_jail_params q = r->p;
	q.keep_fds = keep;
	q.nkeep = n;
	if (r->before && r->before(fd, &q))
		_exit(1);
	char err[512];
	int rc = gq_jail_enter(&q, err, sizeof err);
	if (rc < 0) {
		say(fd, "enter: %d %s", rc, err);
		_exit(1);
	}
	if (r->inside(fd, &q))
		_exit(1);
	(void)!write(fd, "ok", 2);
	_exit(0);
}

__attribute__((noreturn)) static void c1_main(struct run *r, int fd)
{
	char err[512];
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (r->ncg && gq_jail_cgroup_join(r->cgroups, r->ncg, err, sizeof err) < 0) {
		say(fd, "cgroup_join: %s", err);
		_exit(1);
	}
	if (gq_jail_unshare(err, sizeof err) < 0) {
		say(fd, "unshare: %s", err);
		_exit(1);
	}
	pid_t pid = fork();
	if (pid < 0) {
		say(fd, "fork: %s", strerror(errno));
		_exit(1);
	}
	if (pid == 0) {
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		c2_main(r, fd);
	}
	close(fd);
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
}

/* Runs r; returns what C2 reported ("ok" on success) in msg. */
static void run_jailed(struct run *r, char *msg, size_t len)
{
	int fds[2];
	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		c1_main(r, fds[1]);
	}
	close(fds[1]);
	size_t got = 0;
	time_t end = time(NULL) + RUN_TIMEOUT_S;
	while (got < len - 1) {
		struct pollfd pfd = { .fd = fds[0], .events = POLLIN };
		int left = (int)(end - time(NULL));
		if (left <= 0 || poll(&pfd, 1, left * 1000) <= 0)
			break;
		ssize_t n = read(fds[0], msg + got, len - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	msg[got] = '\0';
	close(fds[0]);
	kill(pid, SIGKILL); /* a no-op when it is done; C2 dies with it */
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (!got)
		snprintf(msg, len, "no report (C1 status 0x%x)", st);
}

static void expect_ok(struct run *r)
{
	char msg[1024];
	run_jailed(r, msg, sizeof msg);
	if (strcmp(msg, "ok") != 0)
		fail_msg("in the jail: %s", msg);
}

/* -- the cases ------------------------------------------------------------------------ */

static void test_abi(void **state)
{
	char want[64];
	snprintf(want, sizeof want, " abi %d", GQ_JAIL_ABI);
	const char *abi = gq_jail_abi();
	assert_non_null(strstr(abi, "gradeq-jail "));
	assert_string_equal(abi + strlen(abi) - strlen(want), want);
}

static void test_probe(void **state)
{
	need_root();
	struct gq_jail_params p = tests_params();
	char err[512] = "";
	int rc = gq_jail_probe(&p, err, sizeof err);
	if (rc != 0)
		fail_msg("probe: %d %s", rc, err);
	/* and it tells a failure apart: uid 0 is refused inside */
	p.uid = 0;
	rc = gq_jail_probe(&p, err, sizeof err);
	assert_int_equal(rc, -EINVAL);
	assert_non_null(strstr(err, "uid"));
	/* a caller that may not make namespaces is told so */
	pid_t kid = fork();
	assert_true(kid >= 0);
	if (kid == 0) {
		if (syscall(SYS_setresuid, 65534, 65534, 65534) < 0)
			_exit(2);
		p.uid = UID;
		rc = gq_jail_probe(&p, err, sizeof err);
		_exit(rc == -EPERM && strstr(err, "unshare") ? 0 : 1);
	}
	int st;
	assert_int_equal(waitpid(kid, &st, 0), kid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static int in_identity(int fd, const struct gq_jail_params *p)
{
	CHECK(getpid() == 1, "pid %d", (int)getpid());
	CHECK(getuid() == UID && geteuid() == UID, "uid %u", (unsigned)getuid());
	CHECK(getgid() == GID && getegid() == GID, "gid %u", (unsigned)getgid());
	CHECK(getgroups(0, NULL) == 0, "supplementary groups remain");
	struct utsname u;
	CHECK(uname(&u) == 0 && strcmp(u.nodename, "sandbox") == 0, "hostname %s", u.nodename);
	char cwd[256];
	CHECK(getcwd(cwd, sizeof cwd) && strcmp(cwd, "/work") == 0, "cwd %s", cwd);
	int w = open("/work/written", O_WRONLY | O_CREAT | O_EXCL, 0644);
	CHECK(w >= 0, "/work not writable: %s", strerror(errno));
	CHECK(write(w, "hi\n", 3) == 3, "write /work: %s", strerror(errno));
	close(w);
	return 0;
}

static void test_identity_and_work(void **state)
{
	need_root();
	struct run r = { .p = tests_params(), .inside = in_identity };
	expect_ok(&r);
	char path[256];
	snprintf(path, sizeof path, "%s/written", work);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_uid, UID);
	unlink(path);
}

static int expect_errno(int rc, int want)
{
	return rc < 0 && errno == want;
}

static int in_readonly(int fd, const struct gq_jail_params *p)
{
	char path[256];
	const char *dirs[] = { "/", "/usr", "/usr/bin", "/etc", "/dev", p->venv, GQ_JAIL_TESTS };
	for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++) {
		snprintf(path, sizeof path, "%s/gq-probe", strcmp(dirs[i], "/") ? dirs[i] : "");
		int rc = open(path, O_WRONLY | O_CREAT, 0644);
		CHECK(expect_errno(rc, EROFS), "create %s: %s", path,
		      rc >= 0 ? "allowed" : strerror(errno));
	}
	snprintf(path, sizeof path, "%s/pyvenv.cfg", p->venv);
	int rc = open(path, O_WRONLY);
	CHECK(expect_errno(rc, EROFS), "write %s: %s", path, rc >= 0 ? "allowed" : strerror(errno));
	rc = open(GQ_JAIL_TESTS "/test_hidden.py", O_RDONLY);
	CHECK(rc >= 0, "tests not readable: %s", strerror(errno));
	close(rc);
	rc = open(GQ_JAIL_TESTS "/test_hidden.py", O_WRONLY);
	CHECK(expect_errno(rc, EROFS), "tests writable");
	/* the same file names bind sources and targets do not exist */
	const char *absent[] = { "/root",       "/home", "/etc/passwd", "/etc/shadow",
		                 "/etc/gradeq", "/var",  "/sys",        "/oldroot",
		                 "/newroot",    "/run",  "/dev/tty",    "/dev/console",
		                 "/dev/pts",    base /* the host's /tmp */ };
	for (size_t i = 0; i < sizeof absent / sizeof *absent; i++) {
		struct stat st;
		CHECK(expect_errno(lstat(absent[i], &st), ENOENT), "%s exists", absent[i]);
	}
	/* the host's tree is not mounted anywhere in the view */
	FILE *mi = fopen("/proc/self/mountinfo", "r");
	CHECK(mi, "mountinfo: %s", strerror(errno));
	char line[1024];
	int mounts = 0;
	while (fgets(line, sizeof line, mi)) {
		mounts++;
		char root[512], at[512];
		CHECK(sscanf(line, "%*d %*d %*s %511s %511s", root, at) == 2, "mountinfo %s", line);
		CHECK(strcmp(root, "/") != 0 || strstr(line, " - tmpfs ") ||
		              strstr(line, " - proc "),
		      "a whole host filesystem is mounted: %s", line);
	}
	fclose(mi);
	CHECK(mounts <= 20, "%d mounts", mounts);
	/* device files work, on a read-only /dev */
	int dn = open("/dev/null", O_WRONLY);
	CHECK(dn >= 0 && write(dn, "x", 1) == 1, "/dev/null: %s", strerror(errno));
	close(dn);
	int ur = open("/dev/urandom", O_RDONLY);
	char b[8];
	CHECK(ur >= 0 && read(ur, b, sizeof b) == (ssize_t)sizeof b, "/dev/urandom: %s",
	      strerror(errno));
	close(ur);
	return 0;
}

static void test_readonly_view(void **state)
{
	need_root();
	struct run r = { .p = tests_params(), .inside = in_readonly };
	expect_ok(&r);
}

static int in_student(int fd, const struct gq_jail_params *p)
{
	struct stat st;
	CHECK(expect_errno(stat(GQ_JAIL_TESTS, &st), ENOENT), "/gradeq/tests exists");
	CHECK(expect_errno(stat("/gradeq", &st), ENOENT), "/gradeq exists");
	CHECK(stat("/work", &st) == 0, "/work missing");
	return 0;
}

static void test_student_has_no_tests(void **state)
{
	need_root();
	struct run r = { .p = tests_params(), .inside = in_student };
	r.p.tests = NULL;
	expect_ok(&r);
}

static int numeric_entries(const char *dir, int *out, int max)
{
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (e->d_name[0] >= '0' && e->d_name[0] <= '9' && n < max)
			out[n++] = atoi(e->d_name);
	closedir(d);
	return n;
}

static int in_proc(int fd, const struct gq_jail_params *p)
{
	pid_t kid = fork();
	CHECK(kid >= 0, "fork: %s", strerror(errno));
	if (kid == 0) {
		pause();
		_exit(0);
	}
	int pids[64];
	int n = numeric_entries("/proc", pids, 64);
	kill(kid, SIGKILL);
	waitpid(kid, NULL, 0);
	/* Only the sandbox's own pids. With hidepid=invisible the child (dumpable 0 like its
	 * parent, so not ptrace-readable) may be hidden as well. */
	CHECK(n >= 1 && n <= 2, "/proc lists %d processes", n);
	bool self = false;
	for (int i = 0; i < n; i++) {
		CHECK(pids[i] == 1 || pids[i] == kid, "/proc lists pid %d", pids[i]);
		self |= pids[i] == 1;
	}
	CHECK(self, "/proc does not list the process itself");
	struct stat st;
	CHECK(stat("/proc/self/fd", &st) == 0, "/proc/self/fd: %s", strerror(errno));
	/* the cgroup namespace is rooted at the job's cgroup */
	FILE *f = fopen("/proc/self/cgroup", "r");
	CHECK(f, "/proc/self/cgroup: %s", strerror(errno));
	char line[512];
	while (fgets(line, sizeof line, f)) {
		char *path = strrchr(line, ':');
		CHECK(path && strcmp(path, ":/\n") == 0, "cgroup outside the namespace: %s", line);
	}
	fclose(f);
	return 0;
}

static void test_proc_shows_only_the_sandbox(void **state)
{
	need_root();
	struct run r = { .p = tests_params(), .inside = in_proc };
	expect_ok(&r);
}

static int in_network(int fd, const struct gq_jail_params *p)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(s >= 0, "socket: %s", strerror(errno));
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(6379) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int rc = connect(s, (struct sockaddr *)&a, sizeof a);
	CHECK(expect_errno(rc, ENETUNREACH), "connect 127.0.0.1: %s",
	      rc == 0 ? "connected" : strerror(errno));
	close(s);
	s = socket(AF_INET, SOCK_DGRAM, 0);
	a.sin_addr.s_addr = inet_addr("8.8.8.8");
	a.sin_port = htons(53);
	rc = (int)sendto(s, "x", 1, 0, (struct sockaddr *)&a, sizeof a);
	CHECK(expect_errno(rc, ENETUNREACH), "udp to 8.8.8.8: %s",
	      rc >= 0 ? "sent" : strerror(errno));
	close(s);
	s = socket(AF_NETLINK, SOCK_RAW, 0);
	CHECK(expect_errno(s, EAFNOSUPPORT), "AF_NETLINK socket: %s",
	      s >= 0 ? "made" : strerror(errno));
	s = socket(AF_PACKET, SOCK_RAW, 0);
	CHECK(expect_errno(s, EAFNOSUPPORT), "AF_PACKET socket allowed");
	int sv[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "AF_UNIX: %s", strerror(errno));
	return 0;
}

static void test_no_network(void **state)
{
	need_root();
	struct run r = { .p = tests_params(), .inside = in_network };
	expect_ok(&r);
}

static int in_privileges(int fd, const struct gq_jail_params *p)
{
	CHECK(expect_errno(unshare(CLONE_NEWUSER), EPERM), "unshare(CLONE_NEWUSER): %s",
	      strerror(errno));
	CHECK(expect_errno(unshare(CLONE_NEWNS), EPERM), "unshare(CLONE_NEWNS)");
	long rc = syscall(SYS_clone, (unsigned long)(CLONE_NEWUSER | SIGCHLD), 0, 0, 0, 0);
	if (rc == 0)
		_exit(0);
	CHECK(rc < 0 && errno == EPERM, "clone(CLONE_NEWUSER): %ld", rc);
	struct {
		uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
	} ca = { .flags = CLONE_NEWUSER, .exit_signal = SIGCHLD };
	rc = syscall(SYS_clone3, &ca, sizeof ca);
	if (rc == 0)
		_exit(0);
	CHECK(rc < 0 && errno == ENOSYS, "clone3: %ld %s", rc, strerror(errno));
	CHECK(expect_errno(mount("none", "/tmp", "tmpfs", 0, NULL), EPERM), "mount: %s",
	      strerror(errno));
	CHECK(expect_errno(umount2("/work", MNT_DETACH), EPERM), "umount");
	CHECK(expect_errno(chroot("/tmp"), EPERM), "chroot");
	CHECK(expect_errno((int)syscall(SYS_pivot_root, "/tmp", "/tmp"), EPERM), "pivot_root");
	CHECK(expect_errno(setns(0, 0), EPERM), "setns");
	CHECK(expect_errno((int)ptrace(PTRACE_TRACEME, 0, 0, 0), EPERM), "PTRACE_TRACEME: %s",
	      strerror(errno));
	pid_t kid = fork();
	CHECK(kid >= 0, "fork");
	if (kid == 0) {
		pause();
		_exit(0);
	}
	rc = ptrace(PTRACE_ATTACH, kid, 0, 0);
	int e = errno;
	kill(kid, SIGKILL);
	waitpid(kid, NULL, 0);
	CHECK(rc < 0 && e == EPERM, "PTRACE_ATTACH: %s", rc == 0 ? "attached" : strerror(e));
	CHECK(expect_errno(personality(ADDR_NO_RANDOMIZE), EPERM), "personality");
	CHECK(personality(PER_LINUX) >= 0, "personality(PER_LINUX): %s", strerror(errno));
	CHECK(expect_errno((int)syscall(SYS_bpf, 0, NULL, 0), EPERM), "bpf");
	CHECK(expect_errno((int)syscall(SYS_io_uring_setup, 1, NULL), EPERM), "io_uring");
	CHECK(expect_errno((int)syscall(SYS_userfaultfd, 0), EPERM), "userfaultfd");
	CHECK(expect_errno((int)syscall(SYS_keyctl, 0, 0, 0, 0, 0), EPERM), "keyctl");
	char c = 'x';
	CHECK(expect_errno(ioctl(0, TIOCSTI, &c), EPERM), "TIOCSTI: %s", strerror(errno));
	/* a TIOCSTI with upper bits set is the same request to the kernel */
	CHECK(expect_errno((int)syscall(SYS_ioctl, 0, 0xdead00000000ul | TIOCSTI, &c), EPERM),
	      "TIOCSTI | upper bits");
	/* a set-uid exec gains nothing, and no capability is left anywhere */
	CHECK(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1, "no_new_privs not set");
	CHECK(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 0, "dumpable");
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];
	CHECK(syscall(SYS_capget, &hdr, data) == 0, "capget");
	for (int i = 0; i < 2; i++)
		CHECK(!data[i].effective && !data[i].permitted && !data[i].inheritable,
		      "capabilities: eff %x perm %x inh %x", data[i].effective, data[i].permitted,
		      data[i].inheritable);
	FILE *f = fopen("/proc/self/status", "r");
	CHECK(f, "/proc/self/status");
	char line[256];
	int seen = 0;
	while (fgets(line, sizeof line, f)) {
		if (strncmp(line, "Cap", 3) == 0) {
			seen++;
			CHECK(strstr(line, "0000000000000000"), "%s", line);
		}
		if (strncmp(line, "Seccomp:", 8) == 0)
			CHECK(strstr(line, "2"), "%s", line);
	}
	fclose(f);
	CHECK(seen == 5, "%d Cap lines in /proc/self/status", seen);
	CHECK(setuid(0) < 0, "setuid(0) worked");
	return 0;
}

static void test_privileges_gone(void **state)
{
	need_root();
	struct run r = { .p = tests_params(), .inside = in_privileges };
	expect_ok(&r);
}

#if defined(__x86_64__)
/* An i386 system call through int 0x80 (getpid is 20 there). */
static long i386_getpid(void)
{
	long r;
	__asm__ volatile("int $0x80" : "=a"(r) : "a"(20L) : "memory");
	return r;
}

/* 1 when a child could make an i386 system call, else 0; status of the child in *st. */
static int i386_call_in_child(int *st)
{
	pid_t kid = fork();
	if (kid == 0)
		_exit(i386_getpid() > 0 ? 0 : 1);
	while (waitpid(kid, st, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(*st) && WEXITSTATUS(*st) == 0;
}

static int in_i386(int fd, const struct gq_jail_params *p)
{
	int st;
	CHECK(!i386_call_in_child(&st), "an i386 system call went through");
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS, "i386 call: status 0x%x, not SIGSYS", st);
	return 0;
}
#endif

static void test_foreign_abi_killed(void **state)
{
	need_root();
#if defined(__x86_64__)
	int st;
	if (!i386_call_in_child(&st))
		skip(); /* this kernel has no i386 emulation: nothing to block */
	struct run r = { .p = tests_params(), .inside = in_i386 };
	expect_ok(&r);
#else
	skip();
#endif
}

static int before_fds(int fd, const struct gq_jail_params *p)
{
	/* 20, 21, 22 open; 21 is in keep_fds (see test_fds), 20 and 22 must be closed */
	for (int want = 20; want <= 22; want++) {
		int d = open("/dev/null", O_RDONLY);
		CHECK(d >= 0 && dup2(d, want) == want, "dup2 %d", want);
		close(d);
	}
	return 0;
}

static int in_fds(int fd, const struct gq_jail_params *p)
{
	CHECK(fcntl(20, F_GETFD) < 0 && errno == EBADF, "fd 20 is open");
	CHECK(fcntl(21, F_GETFD) >= 0, "fd 21 (kept) was closed");
	CHECK(fcntl(22, F_GETFD) < 0 && errno == EBADF, "fd 22 is open");
	for (int i = 0; i < 3; i++)
		CHECK(fcntl(i, F_GETFD) >= 0, "fd %d was closed", i);
	int open_fds[64];
	int n = numeric_entries("/proc/self/fd", open_fds, 64);
	/* 0 1 2, the report pipe, 21 and the directory being read */
	CHECK(n == 6, "%d descriptors open", n);
	return 0;
}

static void test_fds(void **state)
{
	need_root();
	static const int keep[] = { 21 };
	struct run r = { .p = tests_params(), .before = before_fds, .inside = in_fds };
	r.p.keep_fds = keep;
	r.p.nkeep = 1;
	expect_ok(&r);
}

static int rl_is(int res, unsigned long long soft, unsigned long long hard)
{
	struct rlimit rl;
	return getrlimit((__rlimit_resource_t)res, &rl) == 0 && rl.rlim_cur == soft &&
	       rl.rlim_max == hard;
}

static int in_rlimits(int fd, const struct gq_jail_params *p)
{
	const unsigned long long MiB = 1 << 20;
	CHECK(rl_is(RLIMIT_CPU, p->cpu_s, p->cpu_s + 1), "cpu");
	if (p->as_mb)
		CHECK(rl_is(RLIMIT_AS, p->as_mb * MiB, p->as_mb * MiB), "as");
	CHECK(rl_is(RLIMIT_NOFILE, p->nofile, p->nofile), "nofile");
	CHECK(rl_is(RLIMIT_NPROC, p->nproc, p->nproc), "nproc");
	CHECK(rl_is(RLIMIT_FSIZE, p->fsize_mb * MiB, p->fsize_mb * MiB), "fsize");
	CHECK(rl_is(RLIMIT_STACK, p->stack_mb * MiB, p->stack_mb * MiB), "stack");
	CHECK(rl_is(RLIMIT_CORE, 0, 0), "core");
	struct rlimit up = { .rlim_cur = p->nofile * 2, .rlim_max = p->nofile * 2 };
	CHECK(setrlimit(RLIMIT_NOFILE, &up) < 0, "a hard limit was raised");
	return 0;
}

static void test_rlimits(void **state)
{
	need_root();
	struct run r = { .p = tests_params(), .inside = in_rlimits };
	expect_ok(&r);
}

/* Fills dir/fill with 1 MiB writes until it fails; returns the errno and the MiB. */
static int fill(const char *dir, int *mib)
{
	char path[128], buf[1 << 16];
	memset(buf, 'x', sizeof buf);
	snprintf(path, sizeof path, "%s/fill", dir);
	int f = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (f < 0)
		return errno;
	int e = 0;
	*mib = 0;
	for (int i = 0; i < (TMP_MB + 1) * 16 && !e; i++) {
		if (write(f, buf, sizeof buf) != (ssize_t)sizeof buf)
			e = errno ? errno : ENOSPC;
		else if ((i + 1) % 16 == 0)
			(*mib)++;
	}
	close(f);
	unlink(path);
	return e;
}

static int in_tmp(int fd, const struct gq_jail_params *p)
{
	const char *dirs[] = { "/tmp", "/dev/shm" };
	for (int i = 0; i < 2; i++) {
		struct statfs sf;
		CHECK(statfs(dirs[i], &sf) == 0 && sf.f_type == TMPFS_MAGIC, "%s not a tmpfs",
		      dirs[i]);
		struct stat st;
		CHECK(stat(dirs[i], &st) == 0 && (st.st_mode & 07777) == 01777, "%s mode %o",
		      dirs[i], st.st_mode & 07777);
		int mib = 0, e = fill(dirs[i], &mib);
		/* tmp_mb MiB fit (a page less at worst), the write past them fails */
		CHECK(e == ENOSPC && mib >= TMP_MB - 1 && mib <= TMP_MB, "%s: %d MiB then %s",
		      dirs[i], mib, e ? strerror(e) : "no error");
	}
	return 0;
}

static void test_tmp_capped(void **state)
{
	need_root();
	struct run r = { .p = tests_params(), .inside = in_tmp };
	expect_ok(&r);
}

static int in_leave(int fd, const struct gq_jail_params *p)
{
	int a = open("/tmp/left-behind", O_WRONLY | O_CREAT, 0644);
	int b = open("/dev/shm/left-behind", O_WRONLY | O_CREAT, 0644);
	CHECK(a >= 0 && b >= 0, "create: %s", strerror(errno));
	return 0;
}

static int in_find(int fd, const struct gq_jail_params *p)
{
	struct stat st;
	CHECK(expect_errno(stat("/tmp/left-behind", &st), ENOENT), "/tmp of the previous job");
	CHECK(expect_errno(stat("/dev/shm/left-behind", &st), ENOENT),
	      "/dev/shm of the previous job");
	return 0;
}

static void test_scratch_is_per_sandbox(void **state)
{
	need_root();
	struct run r = { .p = tests_params(), .inside = in_leave };
	expect_ok(&r);
	r.inside = in_find;
	expect_ok(&r);
	/* and nothing reached the host's /tmp or /dev/shm */
	struct stat st;
	assert_int_equal(stat("/tmp/left-behind", &st), -1);
	assert_int_equal(stat("/dev/shm/left-behind", &st), -1);
}

static int in_noexec(int fd, const struct gq_jail_params *p)
{
	int f = open("/work/run.sh", O_WRONLY | O_CREAT | O_TRUNC, 0755);
	CHECK(f >= 0 && write(f, "#!/bin/sh\nexit 0\n", 17) == 17, "write run.sh");
	close(f);
	char *argv[] = { "/work/run.sh", NULL }, *envp[] = { NULL };
	pid_t kid = fork();
	if (kid == 0) {
		execve(argv[0], argv, envp);
		_exit(errno == EACCES ? 42 : 1);
	}
	int st;
	waitpid(kid, &st, 0);
	unlink("/work/run.sh");
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 42, "exec from /work: status 0x%x", st);
	return 0;
}

static void test_work_noexec(void **state)
{
	need_root();
	struct run r = { .p = tests_params(), .inside = in_noexec };
	expect_ok(&r);
}

/* -- cgroup join ---------------------------------------------------------------------- */

static void test_cgroup_join(void **state)
{
	need_root();
	char dir[256], procs[300];
	struct stat st;
	if (stat("/sys/fs/cgroup/cgroup.controllers", &st) == 0)
		snprintf(dir, sizeof dir, "/sys/fs/cgroup/gq-jail-test-%d", (int)getpid());
	else
		snprintf(dir, sizeof dir, "/sys/fs/cgroup/pids/gq-jail-test-%d", (int)getpid());
	if (mkdir(dir, 0755) < 0)
		fail_msg("mkdir %s: %s", dir, strerror(errno));
	snprintf(procs, sizeof procs, "%s/cgroup.procs", dir);
	const char *const list[] = { procs };
	/* a plain child joins and finds itself in the cgroup */
	const char *name = strrchr(dir, '/');
	pid_t kid = fork();
	if (kid == 0) {
		char err[256];
		if (gq_jail_cgroup_join(list, 1, err, sizeof err) < 0)
			_exit(2);
		FILE *f = fopen("/proc/self/cgroup", "r");
		char line[512];
		int found = 0;
		while (f && fgets(line, sizeof line, f))
			found |= strstr(line, name) != NULL;
		_exit(found ? 0 : 3);
	}
	int stt;
	waitpid(kid, &stt, 0);
	/* and the whole sequence with a join (C2 sees "/" as its cgroup, in_proc checks it) */
	struct run r = { .p = tests_params(), .cgroups = list, .ncg = 1, .inside = in_proc };
	char msg[1024];
	run_jailed(&r, msg, sizeof msg);
	for (int i = 0; i < 50 && rmdir(dir) < 0 && errno == EBUSY; i++)
		usleep(20000);
	assert_int_equal(WIFEXITED(stt) ? WEXITSTATUS(stt) : -1, 0);
	assert_string_equal(msg, "ok");
	/* refusals */
	char err[256];
	const char *const bad[] = { "/sys/fs/cgroup/pids/tasks" };
	assert_int_equal(gq_jail_cgroup_join(bad, 1, err, sizeof err), -EINVAL);
	const char *const rel[] = { "cgroup.procs" };
	assert_int_equal(gq_jail_cgroup_join(rel, 1, err, sizeof err), -EINVAL);
}

/* -- refusals of enter ---------------------------------------------------------------- */

static void test_enter_refuses(void **state)
{
	struct gq_jail_params p = tests_params();
	char err[256];
	p.version = GQ_JAIL_ABI + 1;
	assert_int_equal(gq_jail_enter(&p, err, sizeof err), -EPROTO);
	p = tests_params();
	p.uid = 0;
	assert_int_equal(gq_jail_enter(&p, err, sizeof err), -EINVAL);
	p = tests_params();
	p.venv = "relative/venv";
	assert_int_equal(gq_jail_enter(&p, err, sizeof err), -EINVAL);
	p = tests_params();
	p.work = "/tmp/../etc";
	assert_int_equal(gq_jail_enter(&p, err, sizeof err), -EINVAL);
	p = tests_params();
	p.runtime = "/";
	assert_int_equal(gq_jail_enter(&p, err, sizeof err), -EINVAL);
	p = tests_params();
	p.venv = "//tmp/venv";
	assert_int_equal(gq_jail_enter(&p, err, sizeof err), -EINVAL);
	p.venv = "/opt/venv/";
	assert_int_equal(gq_jail_enter(&p, err, sizeof err), -EINVAL);
	p.venv = "/tmp/venv"; /* hidden by the fresh /tmp */
	assert_int_equal(gq_jail_enter(&p, err, sizeof err), -EINVAL);
	assert_non_null(strstr(err, "/tmp"));
	/* not pid 1 of a new pid namespace: refused before it changes anything */
	p = tests_params();
	assert_int_equal(gq_jail_enter(&p, err, sizeof err), -EINVAL);
	assert_non_null(strstr(err, "pid 1"));
	assert_int_equal(gq_jail_enter(NULL, err, sizeof err), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests_list[] = {
		cmocka_unit_test(test_abi),
		cmocka_unit_test(test_enter_refuses),
		cmocka_unit_test(test_probe),
		cmocka_unit_test(test_identity_and_work),
		cmocka_unit_test(test_readonly_view),
		cmocka_unit_test(test_student_has_no_tests),
		cmocka_unit_test(test_proc_shows_only_the_sandbox),
		cmocka_unit_test(test_no_network),
		cmocka_unit_test(test_privileges_gone),
		cmocka_unit_test(test_foreign_abi_killed),
		cmocka_unit_test(test_fds),
		cmocka_unit_test(test_rlimits),
		cmocka_unit_test(test_tmp_capped),
		cmocka_unit_test(test_scratch_is_per_sandbox),
		cmocka_unit_test(test_work_noexec),
		cmocka_unit_test(test_cgroup_join),
	};
	return cmocka_run_group_tests(tests_list, setup_all, teardown_all);
}
