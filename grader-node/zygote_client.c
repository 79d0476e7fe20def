/* zygote_client.c - start, feed and read a zygote; see zygote_client.h. */
#include "zygote_client.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

#define ZYG_CTL_FD 3
#define ZYG_MSG_MAX 65536

struct zyg {
	pid_t pid;
	int fd;
	bool ready;
};

int zyg_fd(const struct zyg *z)
{
	return z->fd;
}

pid_t zyg_pid(const struct zyg *z)
{
	return z->pid;
}

void zyg_free(struct zyg *z)
{
	if (!z)
		return;
	if (z->fd >= 0)
		close(z->fd);
	if (z->pid > 0) {
		kill(z->pid, SIGKILL);
		while (waitpid(z->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	free(z);
}

/* The zygote's environment: nothing of the node's. Job processes inherit it. */
static char **zyg_env(const struct zyg_params *p, char *buf, size_t buflen)
{
	static char *envp[16];
	snprintf(buf, buflen, "HOME=%s", p->home);
	size_t i = 0;
	envp[i++] = buf;
	envp[i++] = "PATH=/usr/bin:/bin";
	envp[i++] = "LANG=C.UTF-8";
	envp[i++] = "LC_ALL=C.UTF-8";
	envp[i++] = "TERM=dumb";
	envp[i++] = "PYTHONDONTWRITEBYTECODE=1";
	envp[i++] = "PYTHONHASHSEED=0";
	envp[i++] = "PYTHONUNBUFFERED=1";
	envp[i++] = "PYTHONNOUSERSITE=1";
	envp[i++] = "PYTHONIOENCODING=utf-8:backslashreplace";
	envp[i++] = "PYTEST_DISABLE_PLUGIN_AUTOLOAD=1";
	/* one thread per numeric library: a zygote must fork with a single thread */
	envp[i++] = "OPENBLAS_NUM_THREADS=1";
	envp[i++] = "OMP_NUM_THREADS=1";
	envp[i++] = "MKL_NUM_THREADS=1";
	envp[i++] = "MPLBACKEND=Agg";
	envp[i] = NULL;
	return envp;
}

struct zyg *zyg_start(const struct zyg_params *p, int wait_ms, char *err, size_t errlen)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		snprintf(err, errlen, "zygote: socketpair: %s", strerror(errno));
		return NULL;
	}
	struct zyg *z = calloc(1, sizeof *z);
	if (!z) {
		close(sv[0]);
		close(sv[1]);
		snprintf(err, errlen, "zygote: out of memory");
		return NULL;
	}
	z->fd = sv[0];
	z->pid = -1;
	char zpath[PATH_MAX], ctl[16], home[PATH_MAX + 8];
	snprintf(zpath, sizeof zpath, "%s/zygote.py", p->runtime);
	snprintf(ctl, sizeof ctl, "%d", ZYG_CTL_FD);
	char *argv[12];
	size_t a = 0;
	argv[a++] = (char *)p->python;
	argv[a++] = "-s";
	argv[a++] = "-B";
	argv[a++] = "-P";
	argv[a++] = zpath;
	argv[a++] = "--control";
	argv[a++] = ctl;
	argv[a++] = "--jail-lib";
	argv[a++] = (char *)p->jail_lib;
	if (p->warm)
		argv[a++] = "--warm";
	if (p->once)
		argv[a++] = "--once";
	argv[a] = NULL;

	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	/* stdin from /dev/null; stdout and stderr both the caller's stderr (the node's log;
	 * a tool's stdout stays its own) */
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, 2, 1);
	posix_spawn_file_actions_adddup2(&fa, sv[1], ZYG_CTL_FD);
	sigset_t none, all;
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	int rc = posix_spawn(&z->pid, p->python, &fa, &attr, argv, zyg_env(p, home, sizeof home));
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(sv[1]);
	if (rc != 0) {
		z->pid = -1;
		snprintf(err, errlen, "zygote: spawn %s: %s", p->python, strerror(rc));
		zyg_free(z);
		return NULL;
	}
	if (wait_ms > 0 && zyg_wait_ready(z, wait_ms, err, errlen) < 0) {
		zyg_free(z);
		return NULL;
	}
	return z;
}

int zyg_wait_ready(struct zyg *z, int wait_ms, char *err, size_t errlen)
{
	int64_t deadline = util_mono_ms() + wait_ms;
	struct zyg_done d;
	while (!z->ready) {
		int64_t left = deadline - util_mono_ms();
		struct pollfd pfd = { .fd = z->fd, .events = POLLIN };
		if (left <= 0 || poll(&pfd, 1, (int)left) == 0) {
			snprintf(err, errlen, "zygote: not ready within %d ms", wait_ms);
			return -ETIMEDOUT;
		}
		int r = zyg_read(z, &d);
		if (r < 0 || r == 1) {
			snprintf(err, errlen, "zygote: %s during start-up (see the node log)",
			         r == -EPIPE ? "exited" : "malformed message");
			return r < 0 ? r : -EBADMSG;
		}
	}
	return 0;
}

int zyg_send(struct zyg *z, const char *json, int result_fd, int output_fd, char *err,
             size_t errlen)
{
	size_t len = strlen(json);
	if (len > ZYG_MSG_MAX) {
		snprintf(err, errlen, "zygote: job message too large");
		return -EMSGSIZE;
	}
	struct iovec iov = { .iov_base = (void *)json, .iov_len = len };
	union {
		char buf[CMSG_SPACE(2 * sizeof(int))];
		struct cmsghdr align;
	} u;
	memset(&u, 0, sizeof u);
	struct msghdr mh = { .msg_iov = &iov,
		             .msg_iovlen = 1,
		             .msg_control = u.buf,
		             .msg_controllen = sizeof u.buf };
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(2 * sizeof(int));
	int fds[2] = { result_fd, output_fd };
	memcpy(CMSG_DATA(c), fds, sizeof fds);
	ssize_t n;
	do
		n = sendmsg(z->fd, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		int e = errno;
		snprintf(err, errlen, "zygote: send job: %s", strerror(e));
		return e == EAGAIN ? -EAGAIN : -EPIPE;
	}
	return 0;
}

int zyg_read(struct zyg *z, struct zyg_done *out)
{
	char buf[ZYG_MSG_MAX + 1];
	for (;;) {
		ssize_t n = recv(z->fd, buf, sizeof buf - 1, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n <= 0)
			return -EPIPE;
		buf[n] = '\0';
		json_error_t je;
		json_t *m = json_loadb(buf, (size_t)n, 0, &je);
		const char *op = json_string_value(json_object_get(m, "op"));
		if (!m || !op) {
			json_decref(m);
			return -EBADMSG;
		}
		if (strcmp(op, "ready") == 0) {
			z->ready = true;
			json_decref(m);
			continue;
		}
		if (strcmp(op, "done") != 0) {
			json_decref(m);
			return -EBADMSG;
		}
		memset(out, 0, sizeof *out);
		const char *name = json_string_value(json_object_get(m, "name"));
		const char *infra = json_string_value(json_object_get(m, "infra"));
		json_t *st = json_object_get(m, "status");
		snprintf(out->name, sizeof out->name, "%s", name ? name : "");
		if (infra) {
			out->infra = true;
			snprintf(out->reason, sizeof out->reason, "%s", infra);
		} else if (json_is_integer(st)) {
			out->status = (int)json_integer_value(st);
		} else {
			json_decref(m);
			return -EBADMSG;
		}
		out->oom = json_is_true(json_object_get(m, "oom"));
		json_t *ns = json_object_get(m, "students");
		out->students = json_is_integer(ns) ? (unsigned)json_integer_value(ns) : 0;
		json_t *ct = json_object_get(m, "cpu_tests_us"),
		       *cs = json_object_get(m, "cpu_student_us");
		out->cpu_tests_us = json_is_integer(ct) ? json_integer_value(ct) : -1;
		out->cpu_student_us = json_is_integer(cs) ? json_integer_value(cs) : -1;
		json_decref(m);
		return 1;
	}
}
