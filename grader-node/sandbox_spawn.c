/* sandbox_spawn.c - fork + exec of one run's process, see sandbox.h.
 * Between fork and exec the child calls only async-signal-safe functions and raw system
 * calls: the node has other threads (librdkafka) whose locks may be held at fork time.
 * Everything the child needs (argv, envp, rlimits, descriptors) is prepared before the
 * fork; the child's work is an ordered list of steps, each returning 0 or an errno. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox.h"

#define SYNC_FD 5  /* the go pipe in the child, closed before exec */
#define HIGH_FD 10 /* where the sources are parked while the layout is built */

struct child_plan {
	const struct sbx_spawn_args *a;
	struct rlimit rl[7];
	int rl_res[7];
	int nrl;
	pid_t parent;
	int src[6]; /* source descriptor for child fd 0..5, -1: none */
};

/* -- child steps (async-signal-safe only) --------------------------------------------- */

typedef int (*child_step)(const struct child_plan *cp);

/* Handlers of the node (libevent's signal pipe) must never run here: signals stay
 * blocked from before the fork until every disposition is back to default. */
static int cs_signals(const struct child_plan *cp)
{
	struct sigaction dfl;
	memset(&dfl, 0, sizeof dfl);
	dfl.sa_handler = SIG_DFL;
	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			(void)sigaction(s, &dfl, NULL);
	sigset_t none;
	sigemptyset(&none);
	return sigprocmask(SIG_SETMASK, &none, NULL) < 0 ? errno : 0;
}

/* 0 /dev/null, 1+2 output, 3 result, 4 bwrap status, 5 go pipe; nothing else. */
static int cs_fds(const struct child_plan *cp)
{
	int parked[6];
	for (int i = 0; i < 6; i++) {
		parked[i] = -1;
		if (cp->src[i] >= 0 &&
		    (parked[i] = fcntl(cp->src[i], F_DUPFD_CLOEXEC, HIGH_FD)) < 0)
			return errno;
	}
	for (int i = 0; i < 6; i++) {
		if (parked[i] < 0) {
			(void)close(i);
			continue;
		}
		if (dup2(parked[i], i) < 0) /* dup2 clears FD_CLOEXEC on the copy */
			return errno;
	}
	if (syscall(SYS_close_range, 6u, ~0u, 0u) < 0) {
		for (int fd = 6; fd < 65536; fd++)
			(void)close(fd);
	}
	return 0;
}

/* Blocks until the parent has moved us into the job's cgroup; EOF: it gave up. */
static int cs_wait_go(const struct child_plan *cp)
{
	char c;
	ssize_t n;
	do
		n = read(SYNC_FD, &c, 1);
	while (n < 0 && errno == EINTR);
	(void)close(SYNC_FD);
	return n == 1 ? 0 : ECANCELED;
}

static int cs_session(const struct child_plan *cp)
{
	(void)umask(022);
	return setsid() < 0 ? errno : 0;
}

static int cs_rlimits(const struct child_plan *cp)
{
	for (int i = 0; i < cp->nrl; i++)
		if (setrlimit((__rlimit_resource_t)cp->rl_res[i], &cp->rl[i]) < 0)
			return errno;
	return 0;
}

/* Raw system calls: they act on this (only) thread, without glibc's all-threads
 * broadcast, which is what a forked child of a threaded process needs. */
static int cs_ids(const struct child_plan *cp)
{
	if (!cp->a->drop_ids)
		return 0;
	if (syscall(SYS_setgroups, 0, NULL) < 0)
		return errno;
	if (syscall(SYS_setresgid, cp->a->gid, cp->a->gid, cp->a->gid) < 0)
		return errno;
	if (syscall(SYS_setresuid, cp->a->uid, cp->a->uid, cp->a->uid) < 0)
		return errno;
	return 0;
}

/* After the id change (which clears it): die with the node; no privilege gain by exec. */
static int cs_parent_death(const struct child_plan *cp)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		return errno;
	if (getppid() != cp->parent)
		return ESRCH;
	return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ? errno : 0;
}

static int cs_chdir(const struct child_plan *cp)
{
	if (!cp->a->chdir)
		return 0;
	return chdir(cp->a->chdir) < 0 ? errno : 0;
}

static const struct {
	const char *name;
	child_step fn;
} child_steps[] = {
	{ "signals", cs_signals },        { "fds", cs_fds },         { "wait", cs_wait_go },
	{ "setsid", cs_session },         { "rlimits", cs_rlimits }, { "ids", cs_ids },
	{ "pdeathsig", cs_parent_death }, { "chdir", cs_chdir },
};

static void put(const char *s)
{
	(void)!write(2, s, strlen(s));
}

__attribute__((noreturn)) static void child_fail(const char *step, int e)
{
	char num[16];
	int i = (int)sizeof num - 1;
	num[i] = '\0';
	unsigned v = (unsigned)e;
	do
		num[--i] = (char)('0' + v % 10);
	while ((v /= 10) && i > 0);
	put("gradeq-spawn: ");
	put(step);
	put(": errno ");
	put(num + i);
	put("\n");
	_exit(127);
}

__attribute__((noreturn)) static void child_main(const struct child_plan *cp)
{
	for (size_t i = 0; i < sizeof child_steps / sizeof *child_steps; i++) {
		int e = child_steps[i].fn(cp);
		if (e == ECANCELED && child_steps[i].fn == cs_wait_go)
			_exit(127); /* the parent aborted the start; nothing to say */
		if (e)
			child_fail(child_steps[i].name, e);
	}
	execve(cp->a->cmd->argv[0], cp->a->cmd->argv, cp->a->cmd->envp);
	child_fail("execve", errno);
}

/* -- parent --------------------------------------------------------------------------- */

static void add_rl(struct child_plan *cp, int res, unsigned long long soft, unsigned long long hard)
{
	cp->rl_res[cp->nrl] = res;
	cp->rl[cp->nrl].rlim_cur = (rlim_t)soft;
	cp->rl[cp->nrl].rlim_max = (rlim_t)hard;
	cp->nrl++;
}

static void plan_rlimits(struct child_plan *cp, const struct sbx_limits *l)
{
	const unsigned long long MiB = 1024ull * 1024;
	/* soft CPU limit: SIGXCPU (seen as a cpu timeout); the hard one a second later */
	if (l->cpu_s)
		add_rl(cp, RLIMIT_CPU, l->cpu_s, (unsigned long long)l->cpu_s + 1);
	if (l->as_mb)
		add_rl(cp, RLIMIT_AS, l->as_mb * MiB, l->as_mb * MiB);
	if (l->nofile)
		add_rl(cp, RLIMIT_NOFILE, l->nofile, l->nofile);
	if (l->nproc)
		add_rl(cp, RLIMIT_NPROC, l->nproc, l->nproc);
	if (l->fsize_mb)
		add_rl(cp, RLIMIT_FSIZE, l->fsize_mb * MiB, l->fsize_mb * MiB);
	if (l->stack_mb)
		add_rl(cp, RLIMIT_STACK, l->stack_mb * MiB, l->stack_mb * MiB);
	add_rl(cp, RLIMIT_CORE, 0, 0);
}

static void close_pair(int p[2])
{
	for (int i = 0; i < 2; i++)
		if (p[i] >= 0) {
			close(p[i]);
			p[i] = -1;
		}
}

int sbx_spawn(const struct sbx_spawn_args *a, struct sbx_proc *out, char *err, size_t errlen)
{
	int res[2] = { -1, -1 }, outp[2] = { -1, -1 }, st[2] = { -1, -1 }, go[2] = { -1, -1 };
	int devnull = -1, rc = 0;
	struct child_plan cp;
	memset(&cp, 0, sizeof cp);
	cp.a = a;
	cp.parent = getpid();
	plan_rlimits(&cp, a->lim);

	if (pipe2(res, O_CLOEXEC) < 0 || pipe2(outp, O_CLOEXEC) < 0 || pipe2(go, O_CLOEXEC) < 0 ||
	    (a->status_fd && pipe2(st, O_CLOEXEC) < 0) ||
	    (devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0) {
		rc = -errno;
		snprintf(err, errlen, "spawn: pipes: %s", strerror(errno));
		goto fail;
	}
	cp.src[0] = devnull;
	cp.src[1] = outp[1];
	cp.src[2] = outp[1];
	cp.src[SBX_RESULT_FD] = res[1];
	cp.src[SBX_STATUS_FD] = st[1];
	cp.src[SYNC_FD] = go[0];

	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pid_t pid = fork();
	if (pid == 0)
		child_main(&cp);
	int fork_errno = errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (pid < 0) {
		rc = -fork_errno;
		snprintf(err, errlen, "spawn: fork: %s", strerror(fork_errno));
		goto fail;
	}
	close(devnull);
	close(res[1]);
	close(outp[1]);
	close(go[0]);
	if (st[1] >= 0)
		close(st[1]);
	out->pid = pid;
	out->result_fd = res[0];
	out->output_fd = outp[0];
	out->status_fd = st[0];
	out->sync_fd = go[1];
	fcntl(res[0], F_SETFL, O_NONBLOCK);
	fcntl(outp[0], F_SETFL, O_NONBLOCK);
	if (st[0] >= 0)
		fcntl(st[0], F_SETFL, O_NONBLOCK);
	return 0;
fail:
	close_pair(res);
	close_pair(outp);
	close_pair(st);
	close_pair(go);
	if (devnull >= 0)
		close(devnull);
	return rc;
}

int sbx_release(struct sbx_proc *p)
{
	if (p->sync_fd < 0)
		return -EBADF;
	ssize_t n;
	do
		n = write(p->sync_fd, "g", 1);
	while (n < 0 && errno == EINTR);
	int rc = n == 1 ? 0 : -errno;
	close(p->sync_fd);
	p->sync_fd = -1;
	return rc;
}

void sbx_proc_close(struct sbx_proc *p)
{
	int *fds[] = { &p->result_fd, &p->output_fd, &p->status_fd, &p->sync_fd };
	for (size_t i = 0; i < sizeof fds / sizeof *fds; i++)
		if (*fds[i] >= 0) {
			close(*fds[i]);
			*fds[i] = -1;
		}
}
