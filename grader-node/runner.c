/* runner.c - one job's harness in a sandbox, driven by the node's event loop; see
 * runner.h. A run's life: workdir + cgroup -> spawn (the child waits until it is in the
 * cgroup) -> events: result pipe, output pipe, child exit (pidfd), wall clock -> the
 * child is gone -> everything left in the cgroup is killed and awaited -> pipes drained
 * -> verdict -> cgroup and workdir removed -> done callback -> freed.
 * Classification happens here, at the source: a sandbox that never started the harness
 * is an infrastructure error, everything after the harness's hello is the submission's. */
#include "runner.h"

#include <errno.h>
#include <dirent.h>
#include <event2/event.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bundle.h"
#include "cgroup.h"
#include "jail.h"
#include "names.h"
#include "published.h"
#include "records.h"
#include "sandbox.h"
#include "util.h"
#include "workdir.h"
#include "zygote_client.h"

#define STARTUP_ALLOWANCE_MS 3000 /* on top of timeout_s: interpreter + imports */
#define POLL_MS 10                /* while waiting for the job's cgroup to empty */
#define KILL_GIVEUP_MS 30000      /* processes that will not die: infrastructure */
#define OUTPUT_HARD_MAX (8u * 1024 * 1024)
#define READ_BUDGET (256 * 1024) /* bytes read per wake-up, so one job cannot hog the loop */
#define SOURCE_MAX (16u * 1024 * 1024)
#define PROBE_TIMEOUT_MS 20000
#define ZYGOTE_READY_MS 120000 /* a warm zygote imports marimo, pytest, numpy */
#define RUNTIME_FILE_MAX (4u * 1024 * 1024)

enum kill_reason { KILL_NONE, KILL_TIMEOUT, KILL_OUTPUT, KILL_VIOLATION, KILL_CANCEL };

struct runner {
	struct event_base *base;
	struct runner_config cfg; /* string members point at the copies below */
	char *bwrap, *venv, *runtime_src, *jail_src, *work_root, *cgroup_name;
	bool root;
	struct cg_root *cg;
	struct run *runs;      /* runs in progress */
	enum runner_mode mode; /* what runs (cfg.mode unless the jail was refused) */
	char fallback[300];    /* why mode != cfg.mode */
	/* the installed runtime: work_root/.runtime-<hash> (harness.py, zygote.py, ...,
	 * libgradeq-jail.so), readable by every sandbox uid */
	char runtime[PATH_MAX], harness[PATH_MAX], jail_lib[PATH_MAX], python[PATH_MAX];
	char zhome[PATH_MAX];
	char fingerprint[65];
	int64_t src_stamp; /* mtimes of the sources and the venv when installed */
	struct zyg **zy;   /* warm: one zygote per slot (NULL until started / once dead) */
};

struct run {
	struct runner *rn;
	struct run *prev, *next;
	char name[GQ_NAME_MAX + 1];
	run_done_cb cb;
	void *arg;
	double max_points;
	unsigned timeout_s;
	bool bwrap, done;
	unsigned call_timeout_s;

	char *workdir;
	struct cg_job *cg;
	struct sbx_proc proc;
	int pidfd;
	bool reaped;
	int wstatus;
	struct event *ev_result, *ev_output, *ev_exit, *ev_timer, *ev_poll;

	struct rec_stream *rec;
	char *ring; /* last output bytes */
	size_t ring_size, ring_len, ring_head;
	uint64_t out_total, out_cap;
	char status[1024]; /* bwrap --json-status-fd */
	size_t status_len;

	enum kill_reason killed;
	bool mem_full; /* at the wall clock, the job filled its memory limit */
	/* zygote runs: the zygote that runs it (owned when cold), its event, how it ended */
	struct zyg *zy;
	bool own_zy;
	struct event *ev_zy;
	bool zy_infra, zy_oom;
	char zy_reason[256];
	unsigned students;
	long long cpu_tests_us, cpu_student_us;
	bool in_process;
	bool mograder; /* the bundle holds a mograder source (tests/mograder_source.py) */
	int poll_ms;   /* current back-off of ev_poll */
	int64_t t_spawn, t_reaped, t_end;
};

/* -- output ring and pipes ------------------------------------------------------------ */

static void ring_put(struct run *r, const char *p, size_t n)
{
	if (n >= r->ring_size) {
		memcpy(r->ring, p + n - r->ring_size, r->ring_size);
		r->ring_head = 0;
		r->ring_len = r->ring_size;
		return;
	}
	size_t first = r->ring_size - r->ring_head < n ? r->ring_size - r->ring_head : n;
	memcpy(r->ring + r->ring_head, p, first);
	memcpy(r->ring, p + first, n - first);
	r->ring_head = (r->ring_head + n) % r->ring_size;
	r->ring_len = r->ring_len + n > r->ring_size ? r->ring_size : r->ring_len + n;
}

/* The ring's bytes in order, malloc'd (NUL-terminated for convenience). */
static char *ring_linear(const struct run *r, size_t *len)
{
	char *out = malloc(r->ring_len + 1);
	if (!out) {
		*len = 0;
		return NULL;
	}
	size_t start = (r->ring_head + r->ring_size - r->ring_len) % r->ring_size;
	size_t first = r->ring_size - start < r->ring_len ? r->ring_size - start : r->ring_len;
	memcpy(out, r->ring + start, first);
	memcpy(out + first, r->ring, r->ring_len - first);
	out[r->ring_len] = '\0';
	*len = r->ring_len;
	return out;
}

static void run_kill(struct run *r, enum kill_reason why);

static void stop_fd(struct event **ev, int *fd)
{
	if (*ev) {
		event_free(*ev);
		*ev = NULL;
	}
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

/* Reads what the result pipe holds (up to budget bytes). */
static void pump_result(struct run *r, size_t budget)
{
	char buf[16384];
	while (r->proc.result_fd >= 0 && budget > 0) {
		ssize_t n = read(r->proc.result_fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			stop_fd(&r->ev_result, &r->proc.result_fd);
			return;
		}
		budget = (size_t)n < budget ? budget - (size_t)n : 0;
		if (rec_feed(r->rec, buf, (size_t)n, util_mono_ms()) < 0) {
			/* the submission owns the writer: stop reading, kill, verdict crashed */
			stop_fd(&r->ev_result, &r->proc.result_fd);
			run_kill(r, KILL_VIOLATION);
			return;
		}
	}
}

static void pump_output(struct run *r, size_t budget)
{
	char buf[16384];
	while (r->proc.output_fd >= 0 && budget > 0) {
		ssize_t n = read(r->proc.output_fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			stop_fd(&r->ev_output, &r->proc.output_fd);
			return;
		}
		budget = (size_t)n < budget ? budget - (size_t)n : 0;
		ring_put(r, buf, (size_t)n);
		r->out_total += (uint64_t)n;
		if (r->out_total > r->out_cap) {
			stop_fd(&r->ev_output, &r->proc.output_fd);
			run_kill(r, KILL_OUTPUT);
			return;
		}
	}
}

static void read_status(struct run *r)
{
	while (r->proc.status_fd >= 0 && r->status_len + 1 < sizeof r->status) {
		ssize_t n = read(r->proc.status_fd, r->status + r->status_len,
		                 sizeof r->status - 1 - r->status_len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		r->status_len += (size_t)n;
	}
	r->status[r->status_len] = '\0';
}

/* -- the end of a run ----------------------------------------------------------------- */

/* Sets the outcome's error text, cut to fit (a detail, never worth failing over). */
__attribute__((format(printf, 2, 3))) static void set_error(struct run_outcome *o, const char *fmt,
                                                            ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(o->error, sizeof o->error, fmt, ap);
	va_end(ap);
}

/* The last non-empty line of the output (bwrap's and the spawn's messages land there). */
static void last_line(const char *buf, size_t len, char *out, size_t outlen)
{
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		len--;
	size_t start = len;
	while (start > 0 && buf[start - 1] != '\n')
		start--;
	char *clean = rec_clean_string(buf + start, len - start);
	snprintf(out, outlen, "%s", clean ? clean : "");
	free(clean);
}

static void describe_exit(const struct run *r, char *out, size_t outlen, int *sig)
{
	int st = r->wstatus;
	*sig = 0;
	if (WIFSIGNALED(st)) {
		*sig = WTERMSIG(st);
	} else if (WIFEXITED(st)) {
		int code = WEXITSTATUS(st);
		/* bwrap reports a child killed by signal s as exit status 128 + s */
		if (r->bwrap && code > 128 && code < 128 + NSIG)
			*sig = code - 128;
		else {
			snprintf(out, outlen, "exited with status %d", code);
			return;
		}
	}
	snprintf(out, outlen, "killed by signal %d (%s)", *sig, strsignal(*sig));
}

static bool exited_zero(const struct run *r)
{
	return r->reaped && WIFEXITED(r->wstatus) && WEXITSTATUS(r->wstatus) == 0;
}

static void run_unlink(struct run *r)
{
	struct runner *rn = r->rn;
	if (r->prev)
		r->prev->next = r->next;
	else if (rn->runs == r)
		rn->runs = r->next;
	if (r->next)
		r->next->prev = r->prev;
	r->prev = r->next = NULL;
}

static void run_free(struct run *r)
{
	struct event **evs[] = { &r->ev_result, &r->ev_output, &r->ev_exit, &r->ev_timer,
		                 &r->ev_poll };
	for (size_t i = 0; i < sizeof evs / sizeof *evs; i++)
		if (*evs[i]) {
			event_free(*evs[i]);
			*evs[i] = NULL;
		}
	if (r->ev_zy)
		event_free(r->ev_zy);
	if (r->own_zy)
		zyg_free(r->zy);
	sbx_proc_close(&r->proc);
	if (r->pidfd >= 0)
		close(r->pidfd);
	rec_free(r->rec);
	free(r->ring);
	free(r->workdir);
	free(r);
}

/* Builds the outcome, cleans up, calls back, frees. The child is reaped and its cgroup
 * empty (or given up on: infra_reason). */
static void run_finish(struct run *r, const char *infra_reason)
{
	r->done = true;
	r->t_end = util_mono_ms();
	pump_result(r, SIZE_MAX);
	pump_output(r, SIZE_MAX);
	read_status(r);
	int oom = (r->cg ? cg_oom(r->cg) : 0) || r->zy_oom;
	uint64_t cpu_us = 0;
	bool have_cpu = r->cg && cg_cpu_usec(r->cg, &cpu_us) == 0;

	struct run_outcome o;
	memset(&o, 0, sizeof o);
	const struct rec_state *st = rec_state(r->rec);
	size_t tail_len;
	char *tail = ring_linear(r, &tail_len);
	char line[200], exitd[96];
	int sig = 0;
	last_line(tail ? tail : "", tail_len, line, sizeof line);
	describe_exit(r, exitd, sizeof exitd, &sig);

	const char *verdict = NULL;
	bool zero = false;
	o.kind = RUN_INFRA_ERROR;
	if (infra_reason) {
		set_error(&o, "%s", infra_reason);
	} else if (r->zy_infra) {
		set_error(&o, "%s", r->zy_reason);
	} else if (r->killed == KILL_CANCEL) {
		set_error(&o, "cancelled");
	} else if (!st->hello) {
		/* nothing of the submission ran before hello: not the student's fault */
		if (r->bwrap && !strstr(r->status, "\"child-pid\""))
			set_error(&o, "sandbox setup failed (%s): %s", exitd, line);
		else if (r->killed == KILL_TIMEOUT)
			set_error(&o, "harness did not start within %u s", r->timeout_s);
		else
			set_error(&o, "harness did not start (%s): %s", exitd, line);
	} else if (st->hello_version != REC_PROTOCOL) {
		set_error(&o, "harness speaks protocol %d, the node %d", st->hello_version,
		          REC_PROTOCOL);
	} else {
		o.kind = RUN_VERDICT;
		if (r->killed == KILL_VIOLATION) {
			verdict = "crashed";
			set_error(&o, "result channel violated: %s",
			          rec_violation(r->rec) ? rec_violation(r->rec) : "");
		} else if (st->rejected) {
			verdict = "rejected";
			zero = true;
			set_error(&o, "%s", st->detail);
		} else if (st->import_error) {
			verdict = st->memory_error ? "memory" : "import_error";
			zero = true;
			set_error(&o, "%s", st->detail);
		} else if (r->killed == KILL_TIMEOUT && r->mem_full) {
			verdict = "memory";
			set_error(&o,
			          "memory limit (reached, and still held when the wall clock "
			          "limit of %u s ran out)",
			          r->timeout_s);
		} else if (r->killed == KILL_TIMEOUT) {
			verdict = "timeout";
			set_error(&o, "wall clock limit of %u s", r->timeout_s);
		} else if (r->killed == KILL_OUTPUT) {
			verdict = "output_limit";
			set_error(&o, "more than %llu bytes of output",
			          (unsigned long long)r->out_cap);
		} else if (st->ended && exited_zero(r)) {
			/* the tests ran to the end; what happened to the student process during
			 * them (two-process runtime) decides, worst first */
			if (st->ev_timeout) {
				verdict = "timeout";
				set_error(&o,
				          "%zu test(s) failed because a call into the notebook did "
				          "not "
				          "return within %u s",
				          st->ntimeouts, r->call_timeout_s);
			} else if (st->ev_memory || st->memory_error || oom) {
				verdict = "memory";
				set_error(&o, "%s",
				          oom ? "memory limit (cgroup OOM kill)" : "MemoryError");
			} else if (st->ev_output) {
				verdict = "output_limit";
				set_error(&o, "a call printed more than the output limit");
			} else if (st->ev_crashed) {
				verdict = "crashed";
				set_error(&o, "the notebook's process died during a test");
			} else {
				verdict = "ok";
			}
		} else if (oom || st->memory_error) {
			verdict = "memory";
			set_error(&o, "%s", oom ? "memory limit (cgroup OOM kill)" : "MemoryError");
		} else if (sig == SIGXCPU) {
			verdict = "timeout";
			set_error(&o, "cpu time limit");
		} else {
			verdict = "crashed";
			set_error(&o, "%s%s", exitd,
			          st->ended ? " after the tests" : " before the end of the tests");
		}
	}
	o.verdict = verdict;

	struct rec_score sc = { 0 };
	if (o.kind == RUN_VERDICT && rec_score(r->rec, r->max_points, zero, verdict, &sc) < 0) {
		o.kind = RUN_INFRA_ERROR;
		o.verdict = NULL;
		set_error(&o, "out of memory while scoring");
	}
	if (o.kind == RUN_VERDICT) {
		o.tests = sc.tests;
		o.ntests = sc.ntests;
		o.score = sc.score;
		o.max_score = sc.max_score;
	}
	o.output_tail = tail ? tail : "";
	o.output_tail_len = tail ? tail_len : 0;
	o.t_spawn = r->t_spawn;
	o.t_harness = st->t_hello;
	o.t_imported = st->t_imported;
	o.t_tests_done = st->t_end;
	o.t_end = r->t_end;
	o.cpu_ms = have_cpu ? (int64_t)(cpu_us / 1000) : -1;
	o.cpu_tests_ms = r->zy && r->cpu_tests_us >= 0 ? r->cpu_tests_us / 1000 : -1;
	o.cpu_student_ms = r->zy && r->cpu_student_us >= 0 ? r->cpu_student_us / 1000 : -1;
	o.isolation = r->zy && !r->in_process ? "two-process" : "in-process";
	o.runner = r->zy ? (r->own_zy ? "cold" : "warm") : "bwrap";
	o.student_starts = r->students;
	o.unlisted = st->nunlisted;
	o.rec = r->rec;

	/* nothing of the job outlives it: files (the job's tmpfs, whose pages are charged to
	 * its memory cgroup) and the cgroup (empty by now) go before the callback */
	sbx_proc_close(&r->proc);
	if (r->workdir)
		(void)wd_remove(r->workdir);
	if (r->cg) {
		(void)cg_destroy(r->cg); /* a leftover directory is replaced by the next run */
		r->cg = NULL;
	}
	run_unlink(r);
	r->cb(r, &o, r->arg);
	rec_score_free(&sc);
	free(tail);
	run_free(r);
}

/* -- kill and reap ----------------------------------------------------------------------- */

static void run_kill(struct run *r, enum kill_reason why)
{
	if (r->done)
		return;
	if (r->killed == KILL_NONE) {
		r->killed = why;
		/* before the kill frees it: a job thrashing at its memory limit reaches the wall
		 * clock instead of an OOM kill, and that is a verdict memory, not timeout */
		if (why == KILL_TIMEOUT && r->cg)
			r->mem_full = cg_memory_full(r->cg) == 1;
	}
	if (!r->reaped && r->proc.pid > 0) {
		/* bwrap first: its pid-namespace init dies with it (die-with-parent), and the
		 * kernel then kills everything in the namespace */
		kill(r->proc.pid, SIGKILL);
		kill(-r->proc.pid, SIGKILL); /* the session/group the child started */
	}
	if (r->cg)
		cg_kill(r->cg);
}

/* Reaps the child if it has exited. Returns true once reaped. */
static bool try_reap(struct run *r)
{
	if (r->reaped)
		return true;
	siginfo_t si;
	memset(&si, 0, sizeof si);
	/* WNOWAIT: while the child is a zombie its pid (= its process group id) cannot be
	 * reused, so the group can still be killed safely before the reap */
	if (waitid(P_PID, (id_t)r->proc.pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0) {
		if (errno != ECHILD)
			return false;
		/* reaped elsewhere (a waitpid(-1) in the process): status unknown */
		r->reaped = true;
		r->wstatus = 255 << 8;
		r->t_reaped = util_mono_ms();
		r->poll_ms = 0;
		return true;
	}
	if (si.si_pid == 0)
		return false;
	kill(-r->proc.pid, SIGKILL);
	int st;
	pid_t p;
	do
		p = waitpid(r->proc.pid, &st, 0);
	while (p < 0 && errno == EINTR);
	r->reaped = true;
	r->wstatus = p == r->proc.pid ? st : 0;
	r->t_reaped = util_mono_ms();
	r->poll_ms = 0;
	return true;
}

/* 1, 2, 4, 8, 10, 10... ms: an exiting sandbox is usually gone within a few ms */
static void arm_poll(struct run *r)
{
	r->poll_ms = r->poll_ms ? r->poll_ms * 2 : 1;
	if (r->poll_ms > POLL_MS)
		r->poll_ms = POLL_MS;
	struct timeval tv = { 0, r->poll_ms * 1000 };
	event_add(r->ev_poll, &tv);
}

/* After the child is gone: kill what is left in the cgroup, wait until it is empty. */
static void after_reap(struct run *r)
{
	if (r->ev_timer)
		event_del(r->ev_timer);
	if (!r->cg) {
		run_finish(r, NULL);
		return;
	}
	int empty = cg_empty(r->cg);
	if (empty == 1 || empty < 0) {
		run_finish(r, NULL);
		return;
	}
	if (util_mono_ms() - r->t_reaped > KILL_GIVEUP_MS) {
		run_finish(r, "processes of the job could not be killed");
		return;
	}
	cg_kill(r->cg);
	/* keep draining meanwhile: a leftover writer must not block on a full pipe */
	pump_output(r, READ_BUDGET);
	pump_result(r, READ_BUDGET);
	arm_poll(r);
}

static void on_exit_ev(evutil_socket_t fd, short what, void *arg)
{
	struct run *r = arg;
	if (!try_reap(r)) {
		if (r->pidfd < 0)
			arm_poll(r);
		else
			event_add(r->ev_exit, NULL);
		return;
	}
	after_reap(r);
}

static void on_poll(evutil_socket_t fd, short what, void *arg)
{
	struct run *r = arg;
	if (!r->reaped) { /* no pidfd: polling for the exit too */
		on_exit_ev(fd, what, arg);
		return;
	}
	after_reap(r);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	run_kill(arg, KILL_TIMEOUT);
}

static void on_result(evutil_socket_t fd, short what, void *arg)
{
	pump_result(arg, READ_BUDGET);
}

static void on_output(evutil_socket_t fd, short what, void *arg)
{
	pump_output(arg, READ_BUDGET);
}

/* -- start ------------------------------------------------------------------------------ */

static unsigned pick(unsigned want, unsigned dflt, unsigned ceiling)
{
	unsigned v = want ? want : dflt;
	if (ceiling && v > ceiling)
		v = ceiling;
	return v;
}

static int add_events(struct run *r)
{
	struct event_base *b = r->rn->base;
	r->ev_result = event_new(b, r->proc.result_fd, EV_READ | EV_PERSIST, on_result, r);
	r->ev_output = event_new(b, r->proc.output_fd, EV_READ | EV_PERSIST, on_output, r);
	r->ev_timer = evtimer_new(b, on_timer, r);
	r->ev_poll = evtimer_new(b, on_poll, r);
	if (r->pidfd >= 0)
		r->ev_exit = event_new(b, r->pidfd, EV_READ, on_exit_ev, r);
	if (!r->ev_result || !r->ev_output || !r->ev_timer || !r->ev_poll ||
	    (r->pidfd >= 0 && !r->ev_exit))
		return -ENOMEM;
	uint64_t ms = (uint64_t)r->timeout_s * 1000 + STARTUP_ALLOWANCE_MS;
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000 };
	if (event_add(r->ev_result, NULL) < 0 || event_add(r->ev_output, NULL) < 0 ||
	    event_add(r->ev_timer, &tv) < 0)
		return -EIO;
	if (r->ev_exit ? event_add(r->ev_exit, NULL) < 0 : (arm_poll(r), false))
		return -EIO;
	return 0;
}

/* Kills and reaps a child that never got going (blocking; it is stopped at the go pipe
 * or just started). */
static void abort_child(struct sbx_proc *p)
{
	kill(p->pid, SIGKILL);
	while (waitpid(p->pid, NULL, 0) < 0 && errno == EINTR)
		;
}

/* -- zygote runs -------------------------------------------------------------------- */

static int zygote_restart_if_changed(struct runner *rn);

static void on_zygote(evutil_socket_t fd, short what, void *arg)
{
	struct run *r = arg;
	struct zyg_done d;
	int rc = zyg_read(r->zy, &d);
	if (rc == 0)
		return;
	event_del(r->ev_zy);
	if (rc < 0) {
		/* the zygote is gone or broken: this run is an infrastructure error; a warm
		 * slot gets a new zygote at its next job */
		r->zy_infra = true;
		snprintf(r->zy_reason, sizeof r->zy_reason, "zygote %s during the run",
		         rc == -EPIPE ? "died" : "sent a malformed message");
		if (!r->own_zy) {
			for (unsigned i = 0; i < r->rn->cfg.slots; i++)
				if (r->rn->zy[i] == r->zy)
					r->rn->zy[i] = NULL;
			r->own_zy = true; /* freed with the run */
		}
		r->wstatus = 0;
	} else {
		r->zy_infra = d.infra;
		if (d.infra)
			snprintf(r->zy_reason, sizeof r->zy_reason, "sandbox could not start: %s",
			         d.reason);
		r->wstatus = d.status;
		r->zy_oom = d.oom;
		r->students = d.students;
		r->cpu_tests_us = d.cpu_tests_us;
		r->cpu_student_us = d.cpu_student_us;
	}
	r->reaped = true;
	r->t_reaped = util_mono_ms();
	r->poll_ms = 0;
	after_reap(r);
}

/* The job as the zygote reads it (zygote.py documents the fields). */
static char *zygote_job(struct run *r, const struct run_spec *spec, const struct sbx_limits *lim,
                        uid_t suid, uid_t tuid)
{
	struct runner *rn = r->rn;
	char swork[PATH_MAX], twork[PATH_MAX], tests[PATH_MAX];
	snprintf(swork, sizeof swork, "%s/work", r->workdir);
	snprintf(twork, sizeof twork, "%s/twork", r->workdir);
	snprintf(tests, sizeof tests, "%s/tests", r->workdir);
	json_t *procs = json_array(), *dirs = json_array();
	const char *cd[8];
	size_t nd = r->cg ? cg_dirs(r->cg, cd, 8) : 0;
	for (size_t i = 0; i < nd; i++) {
		char pp[PATH_MAX];
		snprintf(pp, sizeof pp, "%s/cgroup.procs", cd[i]);
		json_array_append_new(procs, json_string(pp));
		json_array_append_new(dirs, json_string(cd[i]));
	}
	json_t *j = json_pack(
		"{s:s, s:s, s:s, s:s, s:i, s:b, s:s, s:s, s:i, s:i, "
		"s:{s:i, s:i, s:i, s:i, s:i, s:i}, s:o, s:o, "
		"s:{s:s, s:i, s:i}, s:{s:s, s:s, s:i, s:i}}",
		"op", "job", "name", r->name, "mode", spec->collect ? "collect" : "grade",
		"isolation", r->in_process ? "in-process" : "two-process", "call_timeout_s",
		(int)r->call_timeout_s, "safety_check", spec->safety_check, "venv", rn->venv,
		"runtime", rn->runtime, "tmp_mb", (int)(rn->cfg.tmp_mb ? rn->cfg.tmp_mb : 64),
		/* what one call may print: half the job's output budget */
		"output_cap", (int)(r->out_cap / 2), "limits", "cpu_s", (int)lim->cpu_s, "as_mb",
		(int)lim->as_mb, "nofile", (int)lim->nofile, "nproc", (int)lim->nproc, "fsize_mb",
		(int)lim->fsize_mb, "stack_mb", (int)lim->stack_mb, "cgroup_procs", procs,
		"cgroup_dirs", dirs, "student", "work", swork, "uid", (int)suid, "gid", (int)suid,
		"tests", "work", twork, "tests", tests, "uid", (int)tuid, "gid", (int)tuid);
	if (j && r->mograder && json_object_set_new(j, "kind", json_string("mograder")) < 0) {
		json_decref(j);
		j = NULL;
	}
	if (!j)
		return NULL;
	char *out = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return out;
}

bool runner_is_mograder(const char *bundle_dir)
{
	char p[PATH_MAX];
	struct stat st;

	if ((size_t)snprintf(p, sizeof p, "%s/" GQ_BUNDLE_MOG_SOURCE, bundle_dir) >= sizeof p)
		return false;
	return lstat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* Hands the run to its zygote. Returns 0 or -errno with err (nothing is running). */
static int start_zygote(struct run *r, const struct run_spec *spec, const struct sbx_limits *lim,
                        uid_t suid, uid_t tuid, char *err, size_t errlen)
{
	struct runner *rn = r->rn;
	int rc, res[2] = { -1, -1 }, out[2] = { -1, -1 };
	char *job = NULL;
	struct zyg_params zp = { .python = rn->python,
		                 .runtime = rn->runtime,
		                 .jail_lib = rn->jail_lib,
		                 .home = rn->zhome,
		                 .warm = rn->mode == RUNNER_WARM,
		                 .once = rn->mode == RUNNER_COLD };
	if (rn->mode == RUNNER_WARM) {
		if ((rc = zygote_restart_if_changed(rn)) < 0) {
			snprintf(err, errlen, "runtime: %s", strerror(-rc));
			return rc;
		}
		struct zyg **slot = &rn->zy[spec->slot];
		if (*slot && waitpid(zyg_pid(*slot), NULL, WNOHANG) != 0) {
			zyg_free(*slot); /* died while idle */
			*slot = NULL;
		}
		if (!*slot && !(*slot = zyg_start(&zp, ZYGOTE_READY_MS, err, errlen)))
			return -EIO;
		r->zy = *slot;
	} else {
		if (!(r->zy = zyg_start(&zp, 0, err, errlen)))
			return -EIO;
		r->own_zy = true;
	}
	if (pipe2(res, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0) {
		rc = -errno;
		snprintf(err, errlen, "pipe: %s", strerror(-rc));
		goto fail;
	}
	(void)fcntl(res[0], F_SETFL, O_NONBLOCK);
	(void)fcntl(out[0], F_SETFL, O_NONBLOCK);
	if (!(job = zygote_job(r, spec, lim, suid, tuid))) {
		rc = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	r->t_spawn = util_mono_ms();
	if ((rc = zyg_send(r->zy, job, res[1], out[1], err, errlen)) < 0)
		goto fail;
	free(job);
	job = NULL;
	close(res[1]);
	close(out[1]);
	r->proc.result_fd = res[0];
	r->proc.output_fd = out[0];
	struct event_base *b = rn->base;
	r->ev_result = event_new(b, r->proc.result_fd, EV_READ | EV_PERSIST, on_result, r);
	r->ev_output = event_new(b, r->proc.output_fd, EV_READ | EV_PERSIST, on_output, r);
	r->ev_zy = event_new(b, zyg_fd(r->zy), EV_READ | EV_PERSIST, on_zygote, r);
	r->ev_timer = evtimer_new(b, on_timer, r);
	r->ev_poll = evtimer_new(b, on_poll, r);
	if (!r->ev_result || !r->ev_output || !r->ev_zy || !r->ev_timer || !r->ev_poll) {
		/* the job is in the zygote already: end it through its cgroup */
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	uint64_t ms = (uint64_t)r->timeout_s * 1000 + STARTUP_ALLOWANCE_MS;
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000 };
	event_add(r->ev_result, NULL);
	event_add(r->ev_output, NULL);
	event_add(r->ev_zy, NULL);
	event_add(r->ev_timer, &tv);
	return 0;
fail:
	free(job);
	for (int i = 0; i < 2; i++) {
		if (res[i] >= 0)
			close(res[i]);
		if (out[i] >= 0)
			close(out[i]);
	}
	if (r->own_zy) {
		zyg_free(r->zy);
		r->own_zy = false;
	} else if (rc == -EPIPE) {
		zyg_free(rn->zy[spec->slot]);
		rn->zy[spec->slot] = NULL;
	}
	r->zy = NULL;
	return rc;
}

/* -- start ------------------------------------------------------------------------------ */

int runner_start(struct runner *rn, const struct run_spec *spec, run_done_cb cb, void *arg,
                 struct run **out, char *err, size_t errlen)
{
	const struct runner_config *c = &rn->cfg;
	if (!spec->name || !name_valid(spec->name) || spec->slot < 0 ||
	    (unsigned)spec->slot >= (c->slots ? c->slots : 65536) || !spec->bundle_dir ||
	    (!spec->source && spec->source_len) || spec->source_len > SOURCE_MAX || !cb) {
		snprintf(err, errlen, "invalid run spec");
		return -EINVAL;
	}
	for (struct run *o = rn->runs; o; o = o->next)
		if (strcmp(o->name, spec->name) == 0) {
			snprintf(err, errlen, "a run named %s is in progress", spec->name);
			return -EBUSY;
		}
	struct run *r = calloc(1, sizeof *r);
	if (!r) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	r->rn = rn;
	r->cb = cb;
	r->arg = arg;
	r->pidfd = -1;
	r->proc = (struct sbx_proc){
		.pid = -1, .result_fd = -1, .output_fd = -1, .status_fd = -1, .sync_fd = -1
	};
	snprintf(r->name, sizeof r->name, "%s", spec->name);
	r->max_points = spec->max_points > 0 ? spec->max_points : 0;
	bool zygote = rn->mode != RUNNER_BWRAP;
	r->bwrap = !zygote && c->use_bubblewrap;
	r->in_process = spec->in_process || !zygote;
	r->mograder = runner_is_mograder(spec->bundle_dir);
	r->timeout_s = pick(spec->timeout_s, c->timeout_s, c->max_timeout_s);
	if (!r->timeout_s)
		r->timeout_s = 60;
	r->call_timeout_s = spec->call_timeout_s ? spec->call_timeout_s : r->timeout_s / 2;
	if (r->call_timeout_s < 1)
		r->call_timeout_s = 1;
	if (r->call_timeout_s > r->timeout_s)
		r->call_timeout_s = r->timeout_s;
	unsigned memory_mb = pick(spec->memory_mb, c->memory_mb, c->max_memory_mb);
	unsigned output_kb = pick(spec->output_kb, c->output_kb, 0);
	if (!output_kb)
		output_kb = 256;
	struct sbx_limits lim = {
		.cpu_s = pick(spec->cpu_s, c->cpu_s, 0),
		.as_mb = c->as_mb,
		.nofile = c->nofile,
		.nproc = pick(spec->nproc, c->nproc, 0),
		.fsize_mb = c->fsize_mb,
		.stack_mb = c->stack_mb,
	};
	uid_t uid = (uid_t)(c->base_uid + (unsigned)spec->slot);
	uid_t tuid = (uid_t)(c->tests_uid + (unsigned)spec->slot);
	int rc;
	const char *what = "";

	if (r->mograder && (!zygote || spec->in_process)) {
		rc = -ENOTSUP;
		snprintf(err, errlen,
		         "a mograder exercise needs the two-process runtime "
		         "([runner] mode warm or cold)");
		goto fail;
	}

	r->ring_size = (size_t)output_kb * 1024;
	r->out_cap = (uint64_t)r->ring_size * 16;
	if (r->out_cap > OUTPUT_HARD_MAX)
		r->out_cap = OUTPUT_HARD_MAX > r->ring_size ? OUTPUT_HARD_MAX : r->ring_size;
	if (!(r->ring = malloc(r->ring_size)) || !(r->rec = rec_new()) ||
	    (spec->pub && rec_set_published(r->rec, spec->pub) < 0)) {
		rc = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto fail;
	}

	struct wd_spec ws = { .work_root = rn->work_root,
		              .name = spec->name,
		              .bundle_dir = spec->bundle_dir,
		              .source = spec->source ? spec->source : "",
		              .source_len = spec->source_len,
		              .chown_job = rn->root,
		              .uid = uid,
		              .gid = (gid_t)uid,
		              .room_mb = rn->root ? (c->tmp_mb ? c->tmp_mb : 64) : 0,
		              .twin = zygote,
		              .tuid = tuid,
		              .tgid = (gid_t)tuid };
	if ((rc = wd_create(&ws, &r->workdir, err, errlen)) < 0)
		goto fail;
	if (rn->cg) {
		struct cg_limits cl = { .memory_bytes = (uint64_t)memory_mb * 1024 * 1024,
			                .pids_max = lim.nproc,
			                .cpu_weight = 100,
			                .oom_group = !zygote || r->in_process };
		if ((rc = cg_create(rn->cg, spec->name, &cl, &r->cg, err, errlen)) < 0)
			goto fail;
	}
	if (zygote) {
		if ((rc = start_zygote(r, spec, &lim, uid, tuid, err, errlen)) < 0) {
			if (r->zy)
				goto fail_zygote; /* the job reached the zygote: end it there */
			goto fail;
		}
		goto started;
	}

	char work[PATH_MAX], tests[PATH_MAX];
	snprintf(work, sizeof work, "%s/work", r->workdir);
	snprintf(tests, sizeof tests, "%s/tests", r->workdir);
	struct sbx_params sp = { .bwrap = r->bwrap,
		                 .bwrap_path = rn->bwrap,
		                 .venv = rn->venv,
		                 .harness = rn->harness,
		                 .work_dir = work,
		                 .tests_dir = tests,
		                 .tmp_mb = c->tmp_mb,
		                 .safety_check = spec->safety_check,
		                 .collect = spec->collect };
	struct sbx_cmd cmd = { 0 };
	if ((rc = sbx_cmd_build(&sp, &cmd, err, errlen)) < 0)
		goto fail;
	struct sbx_spawn_args sa = { .cmd = &cmd,
		                     .lim = &lim,
		                     .drop_ids = rn->root,
		                     .uid = uid,
		                     .gid = (gid_t)uid,
		                     .chdir = r->bwrap ? "/" : work,
		                     .status_fd = r->bwrap };
	r->t_spawn = util_mono_ms();
	rc = sbx_spawn(&sa, &r->proc, err, errlen);
	sbx_cmd_free(&cmd);
	if (rc < 0)
		goto fail;
	if (r->cg && (rc = cg_attach(r->cg, r->proc.pid)) < 0) {
		what = "attach to the job cgroup";
		goto fail_child;
	}
	if ((rc = sbx_release(&r->proc)) < 0) {
		what = "release the child";
		goto fail_child;
	}
	r->pidfd = (int)syscall(SYS_pidfd_open, r->proc.pid, 0);
	if (r->pidfd >= 0)
		fcntl(r->pidfd, F_SETFD, FD_CLOEXEC);
	if ((rc = add_events(r)) < 0) {
		what = "register events";
		goto fail_child;
	}
started:
	r->next = rn->runs;
	if (rn->runs)
		rn->runs->prev = r;
	rn->runs = r;
	*out = r;
	return 0;

fail_zygote:
	/* the zygote has the job: kill its processes, then wait for the zygote to say so
	 * (bounded), so that nothing of the run outlives this call */
	if (r->cg)
		for (int i = 0; i < 300 && cg_empty(r->cg) == 0; i++) {
			cg_kill(r->cg);
			usleep(10000);
		}
	if (!r->own_zy) {
		zyg_free(rn->zy[spec->slot]); /* its reply would be out of step */
		rn->zy[spec->slot] = NULL;
	}
	goto fail;
fail_child:
	snprintf(err, errlen, "%s: %s", what, strerror(-rc));
	abort_child(&r->proc);
	if (r->cg)
		for (int i = 0; i < 100 && cg_empty(r->cg) == 0; i++) {
			cg_kill(r->cg);
			usleep(10000);
		}
fail:
	if (r->cg)
		cg_destroy(r->cg);
	if (r->workdir)
		wd_remove(r->workdir);
	run_free(r);
	return rc;
}

void runner_cancel(struct run *r)
{
	if (r && !r->done)
		run_kill(r, KILL_CANCEL);
}

/* -- the runner ------------------------------------------------------------------------ */

const char *runner_mode_name(const struct runner *rn)
{
	static const char *const names[] = { "warm", "cold", "bwrap" };
	return names[rn->mode];
}

const char *runner_fallback_reason(const struct runner *rn)
{
	return rn->fallback;
}

const char *runner_cgroup_mode(const struct runner *rn)
{
	return cg_mode_name(cg_mode(rn ? rn->cg : NULL));
}

/* -- the installed runtime ------------------------------------------------------------- */

/* A stamp of the sources and the venv: the sum of their mtimes (ns). A change means the
 * installed runtime and the zygotes (which imported the old code) are out of date. */
static int64_t sources_stamp(const struct runner *rn)
{
	int64_t sum = 0;
	struct stat st;
	char path[PATH_MAX];
	DIR *d = opendir(rn->runtime_src);
	if (d) {
		struct dirent *e;
		while ((e = readdir(d))) {
			size_t n = strlen(e->d_name);
			if (n < 4 || strcmp(e->d_name + n - 3, ".py") != 0)
				continue;
			snprintf(path, sizeof path, "%s/%s", rn->runtime_src, e->d_name);
			if (stat(path, &st) == 0)
				sum += (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
		}
		closedir(d);
	}
	const char *more[] = { rn->jail_src, rn->venv };
	for (size_t i = 0; i < 2; i++)
		if (stat(more[i], &st) == 0)
			sum += (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	/* pip install/uninstall changes site-packages: venv/lib/python3.X/site-packages */
	snprintf(path, sizeof path, "%s/lib", rn->venv);
	if ((d = opendir(path))) {
		struct dirent *e;
		while ((e = readdir(d))) {
			if (strncmp(e->d_name, "python", 6) != 0)
				continue;
			char sp[PATH_MAX];
			snprintf(sp, sizeof sp, "%s/%s/site-packages", path, e->d_name);
			if (stat(sp, &st) == 0)
				sum += (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
		}
		closedir(d);
	}
	return sum;
}

static int write_file(int dfd, const char *name, const char *data, size_t len, mode_t mode)
{
	int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	int rc = util_write_all(fd, data, len);
	if (rc == 0 && fchmod(fd, mode) < 0)
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	return rc;
}

struct rt_file {
	char name[256];
	char *data;
	size_t len;
};

/* Removes work_root/.runtime-* directories other than keep (a finished node's leftovers). */
static void remove_stale_runtimes(const struct runner *rn, const char *keep)
{
	DIR *d = opendir(rn->work_root);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, ".runtime-", 9) != 0 || strcmp(e->d_name, keep) == 0)
			continue;
		char path[PATH_MAX];
		snprintf(path, sizeof path, "%s/%s", rn->work_root, e->d_name);
		(void)wd_remove(path);
	}
	closedir(d);
}

/* Copies the runtime (*.py of runtime_src, and the jail library) into
 * work_root/.runtime-<hash of the contents>: root-owned, mode 0755/0644, readable by
 * every sandbox uid wherever the sources live (a checkout in a private home directory
 * included). Sets rn->runtime, rn->harness, rn->jail_lib and rn->fingerprint. */
static int install_runtime(struct runner *rn, char *err, size_t errlen)
{
	struct rt_file files[64];
	size_t nf = 0;
	int rc = 0;
	DIR *d = opendir(rn->runtime_src);
	if (!d) {
		rc = -errno;
		snprintf(err, errlen, "runtime %s: %s", rn->runtime_src, strerror(-rc));
		return rc;
	}
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);
		if (n < 4 || n >= sizeof files[0].name || strcmp(e->d_name + n - 3, ".py") != 0)
			continue;
		if (nf == sizeof files / sizeof *files) {
			rc = -E2BIG;
			snprintf(err, errlen, "runtime %s: too many files", rn->runtime_src);
			break;
		}
		char path[PATH_MAX];
		snprintf(path, sizeof path, "%s/%s", rn->runtime_src, e->d_name);
		snprintf(files[nf].name, sizeof files[nf].name, "%s", e->d_name);
		if ((rc = util_read_file(path, RUNTIME_FILE_MAX, &files[nf].data, &files[nf].len)) <
		    0) {
			snprintf(err, errlen, "runtime %s: %s", path, strerror(-rc));
			break;
		}
		nf++;
	}
	closedir(d);
	char *lib = NULL;
	size_t liblen = 0;
	if (rc == 0 && (rc = util_read_file(rn->jail_src, 16u * 1024 * 1024, &lib, &liblen)) < 0)
		snprintf(err, errlen, "jail library %s: %s", rn->jail_src, strerror(-rc));
	bool have_harness = false;
	for (size_t i = 0; i < nf; i++)
		have_harness |= strcmp(files[i].name, "harness.py") == 0 ||
		                strcmp(files[i].name, "zygote.py") == 0;
	if (rc == 0 && !have_harness) {
		rc = -ENOENT;
		snprintf(err, errlen, "runtime %s: no harness.py or zygote.py", rn->runtime_src);
	}
	if (rc < 0)
		goto out;

	/* the hash: names and contents in name order */
	for (size_t i = 1; i < nf; i++)
		for (size_t k = i; k > 0 && strcmp(files[k - 1].name, files[k].name) > 0; k--) {
			struct rt_file t = files[k];
			files[k] = files[k - 1];
			files[k - 1] = t;
		}
	size_t total = liblen + 1;
	for (size_t i = 0; i < nf; i++)
		total += strlen(files[i].name) + 1 + files[i].len + 1;
	char *all = malloc(total), *p = all;
	if (!all) {
		rc = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < nf; i++) {
		size_t n = strlen(files[i].name) + 1;
		memcpy(p, files[i].name, n);
		p += n;
		memcpy(p, files[i].data, files[i].len);
		p += files[i].len;
		*p++ = '\0';
	}
	memcpy(p, lib, liblen);
	p += liblen;
	util_sha256_hex(all, (size_t)(p - all), rn->fingerprint);
	free(all);

	char name[64], dir[PATH_MAX], tmp[PATH_MAX];
	snprintf(name, sizeof name, ".runtime-%.16s", rn->fingerprint);
	snprintf(dir, sizeof dir, "%s/%s", rn->work_root, name);
	snprintf(rn->runtime, sizeof rn->runtime, "%s", dir);
	snprintf(rn->harness, sizeof rn->harness, "%s/harness.py", dir);
	snprintf(rn->jail_lib, sizeof rn->jail_lib, "%s/libgradeq-jail.so", dir);
	struct stat st;
	if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid())
		goto cleanup; /* installed already (the same contents) */
	snprintf(tmp, sizeof tmp, "%s/.runtime-tmp-%d", rn->work_root, (int)getpid());
	(void)wd_remove(tmp);
	if (mkdir(tmp, 0700) < 0) {
		rc = -errno;
		snprintf(err, errlen, "mkdir %s: %s", tmp, strerror(-rc));
		goto out;
	}
	int dfd = open(tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		rc = -errno;
	for (size_t i = 0; rc == 0 && i < nf; i++)
		rc = write_file(dfd, files[i].name, files[i].data, files[i].len, 0644);
	if (rc == 0)
		rc = write_file(dfd, "libgradeq-jail.so", lib, liblen, 0755);
	if (dfd >= 0)
		close(dfd);
	if (rc == 0 && chmod(tmp, 0755) < 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, dir) < 0 && errno != EEXIST && errno != ENOTEMPTY)
		rc = -errno;
	(void)wd_remove(tmp);
	if (rc < 0) {
		snprintf(err, errlen, "installing the runtime in %s: %s", dir, strerror(-rc));
		goto out;
	}
cleanup:
	remove_stale_runtimes(rn, name);
out:
	for (size_t i = 0; i < nf; i++)
		free(files[i].data);
	free(lib);
	return rc;
}

/* Warm: when the runtime's sources or the venv changed since the zygotes started, the
 * runtime is installed again and every zygote restarted on its next job. */
static int zygote_restart_if_changed(struct runner *rn)
{
	int64_t now = sources_stamp(rn);
	if (now == rn->src_stamp)
		return 0;
	char err[256], old[65];
	snprintf(old, sizeof old, "%s", rn->fingerprint);
	int rc = install_runtime(rn, err, sizeof err);
	if (rc < 0)
		return rc;
	rn->src_stamp = now;
	/* the venv may have changed even when the runtime did not: restart either way; a
	 * zygote running a job now belongs to that run, which ends normally */
	for (unsigned i = 0; i < rn->cfg.slots; i++) {
		bool busy = false;
		for (struct run *r = rn->runs; r; r = r->next)
			busy |= r->zy == rn->zy[i];
		if (rn->zy[i] && !busy) {
			zyg_free(rn->zy[i]);
			rn->zy[i] = NULL;
		}
	}
	(void)old;
	return 0;
}

/* Whether the kernel lets the jail work (the warm and cold runners): the whole sequence
 * once, as the slot-0 student uid. Blocking; before any other thread exists. */
static int jail_probe(struct runner *rn, char *err, size_t errlen)
{
	char work[PATH_MAX];
	snprintf(work, sizeof work, "%s/.probe-%d", rn->work_root, (int)getpid());
	(void)wd_remove(work);
	if (mkdir(work, 0700) < 0 || chown(work, rn->cfg.base_uid, rn->cfg.base_uid) < 0) {
		int e = errno;
		snprintf(err, errlen, "probe dir %s: %s", work, strerror(e));
		(void)wd_remove(work);
		return -e;
	}
	struct gq_jail_params jp = { .version = GQ_JAIL_ABI,
		                     .venv = rn->venv,
		                     .runtime = rn->runtime,
		                     .work = work,
		                     .tests = NULL,
		                     .hostname = "sandbox",
		                     .uid = rn->cfg.base_uid,
		                     .gid = rn->cfg.base_uid,
		                     .tmp_mb = 16 };
	int rc = gq_jail_probe(&jp, err, errlen);
	(void)wd_remove(work);
	return rc;
}

static char *dup_or(const char *s, const char *dflt)
{
	return strdup(s && *s ? s : dflt);
}

/* Runs `harness --probe` the way a job runs (bwrap, slot-0 uid, rlimits), blocking:
 * proves bwrap works for that uid, and that the venv and harness are usable in it. */
static int probe(struct runner *rn, char *err, size_t errlen)
{
	struct sbx_params sp = { .bwrap = rn->cfg.use_bubblewrap,
		                 .bwrap_path = rn->bwrap,
		                 .venv = rn->venv,
		                 .harness = rn->harness,
		                 .tmp_mb = rn->cfg.tmp_mb,
		                 .probe = true };
	struct sbx_cmd cmd = { 0 };
	int rc = sbx_cmd_build(&sp, &cmd, err, errlen);
	if (rc < 0)
		return rc;
	struct sbx_limits lim = { .nofile = rn->cfg.nofile,
		                  .as_mb = rn->cfg.as_mb,
		                  .stack_mb = rn->cfg.stack_mb,
		                  .cpu_s = 30 };
	struct sbx_spawn_args sa = { .cmd = &cmd,
		                     .lim = &lim,
		                     .drop_ids = rn->root,
		                     .uid = rn->cfg.base_uid,
		                     .gid = rn->cfg.base_uid,
		                     .chdir = "/",
		                     .status_fd = sp.bwrap };
	struct sbx_proc p;
	rc = sbx_spawn(&sa, &p, err, errlen);
	sbx_cmd_free(&cmd);
	if (rc < 0)
		return rc;
	sbx_release(&p);
	char out[4096];
	size_t len = 0;
	int64_t deadline = util_mono_ms() + PROBE_TIMEOUT_MS;
	for (;;) {
		int64_t left = deadline - util_mono_ms();
		struct pollfd pfd = { .fd = p.output_fd, .events = POLLIN };
		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			break;
		ssize_t n = read(p.output_fd, out + len, sizeof out - 1 - len);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0 || (len += (size_t)n) >= sizeof out - 1)
			break;
	}
	out[len] = '\0';
	kill(p.pid, SIGKILL); /* no-op when it is done; bounded when it hangs */
	int st = 0;
	while (waitpid(p.pid, &st, 0) < 0 && errno == EINTR)
		;
	sbx_proc_close(&p);
	if (!strstr(out, "gradeq-harness ")) {
		char line[200];
		last_line(out, len, line, sizeof line);
		snprintf(err, errlen, "sandbox probe (%s as uid %u) failed: %s",
		         sp.bwrap ? "bwrap" : "python", rn->cfg.base_uid,
		         line[0] ? line : "no output");
		return -EPERM;
	}
	return 0;
}

struct runner *runner_new(struct event_base *base, const struct runner_config *cfg, char *err,
                          size_t errlen)
{
	struct runner *rn = calloc(1, sizeof *rn);
	if (!rn) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	rn->base = base;
	rn->cfg = *cfg;
	rn->root = geteuid() == 0;
	rn->bwrap = dup_or(cfg->bwrap, "/usr/bin/bwrap");
	rn->venv = dup_or(cfg->venv, "/opt/gradeq/venv");
	rn->runtime_src = dup_or(cfg->runtime, "");
	rn->jail_src = dup_or(cfg->jail_lib, "");
	rn->work_root = dup_or(cfg->work_root, "/var/lib/gradeq/work");
	rn->cgroup_name = dup_or(cfg->cgroup_name, "gradeq");
	if (!rn->cfg.slots)
		rn->cfg.slots = 1;
	rn->zy = calloc(rn->cfg.slots, sizeof *rn->zy);
	if (!rn->bwrap || !rn->venv || !rn->runtime_src || !rn->jail_src || !rn->work_root ||
	    !rn->cgroup_name || !rn->zy) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	rn->cfg.bwrap = rn->bwrap;
	rn->cfg.venv = rn->venv;
	rn->cfg.runtime = rn->runtime_src;
	rn->cfg.jail_lib = rn->jail_src;
	rn->mode = cfg->mode;
	rn->cfg.work_root = rn->work_root;
	rn->cfg.cgroup_name = rn->cgroup_name;
	if (!name_valid(rn->cgroup_name)) {
		snprintf(err, errlen, "invalid cgroup name '%s'", rn->cgroup_name);
		goto fail;
	}
	if (rn->root && rn->cfg.base_uid == 0) {
		snprintf(err, errlen, "sandbox uid must not be 0");
		goto fail;
	}

	char py[PATH_MAX];
	snprintf(py, sizeof py, "%s/bin/python", rn->venv);
	if (access(py, X_OK) < 0) {
		snprintf(err, errlen, "venv python %s: %s", py, strerror(errno));
		goto fail;
	}
	snprintf(rn->python, sizeof rn->python, "%s", py);
	if (rn->runtime_src[0] != '/' || rn->jail_src[0] != '/') {
		snprintf(err, errlen, "runtime '%s' and jail library '%s' must be absolute paths",
		         rn->runtime_src, rn->jail_src);
		goto fail;
	}
	if (cfg->use_bubblewrap && access(rn->bwrap, X_OK) < 0) {
		snprintf(err, errlen, "bwrap %s: %s", rn->bwrap, strerror(errno));
		goto fail;
	}
	struct stat st;
	if ((mkdir(rn->work_root, 0711) < 0 && errno != EEXIST) || stat(rn->work_root, &st) < 0 ||
	    !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "work dir %s: %s", rn->work_root,
		         errno ? strerror(errno) : "not a directory");
		goto fail;
	}
	if (rn->root && chmod(rn->work_root, 0711) < 0) { /* jobs traverse it, never list it */
		snprintf(err, errlen, "chmod %s: %s", rn->work_root, strerror(errno));
		goto fail;
	}
	/* every job binds a directory below it as its slot uid: a node that cannot serve
	 * any job refuses to start rather than turning each one into an error */
	if (rn->root && wd_traversable(rn->work_root, (uid_t)rn->cfg.base_uid,
	                               (gid_t)rn->cfg.base_uid, err, errlen) < 0)
		goto fail;
	if (rn->root && cg_detect(rn->cgroup_name, &rn->cg, err, errlen) < 0)
		goto fail;
	/* job workdirs are tmpfs mounts (a job cannot fill the node's disk), in a mount
	 * namespace of the node's own (they die with it); the directories an earlier run of
	 * this node left behind when it died are removed */
	if (rn->root &&
	    (wd_private_mounts(err, errlen) < 0 || wd_tmpfs_probe(rn->work_root, err, errlen) < 0))
		goto fail;
	int swept = rn->root ? wd_sweep(rn->work_root) : 0;
	if (swept < 0) {
		snprintf(err, errlen, "work dir %s: %s", rn->work_root, strerror(-swept));
		goto fail;
	}
	if (install_runtime(rn, err, errlen) < 0)
		goto fail;
	rn->src_stamp = sources_stamp(rn);
	snprintf(rn->zhome, sizeof rn->zhome, "%s/.zygote-home", rn->work_root);
	if (mkdir(rn->zhome, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "mkdir %s: %s", rn->zhome, strerror(errno));
		goto fail;
	}
	if (rn->mode != RUNNER_BWRAP) {
		char why[256] = "";
		if (!rn->root)
			snprintf(why, sizeof why, "the jail needs root");
		else if (!rn->cg)
			snprintf(why, sizeof why, "no cgroups");
		else if (jail_probe(rn, why, sizeof why) < 0 && !why[0])
			snprintf(why, sizeof why, "jail probe failed");
		if (why[0]) {
			snprintf(rn->fallback, sizeof rn->fallback,
			         "%s runner unavailable (%s): grading with the bwrap runner",
			         rn->mode == RUNNER_WARM ? "warm" : "cold", why);
			rn->mode = RUNNER_BWRAP;
		}
	}
	if (rn->mode == RUNNER_BWRAP && probe(rn, err, errlen) < 0)
		goto fail;
	if (rn->mode == RUNNER_WARM) {
		/* every slot's zygote, started together, then awaited (blocking: start-up) */
		struct zyg_params zp = { .python = rn->python,
			                 .runtime = rn->runtime,
			                 .jail_lib = rn->jail_lib,
			                 .home = rn->zhome,
			                 .warm = true };
		for (unsigned i = 0; i < rn->cfg.slots; i++)
			if (!(rn->zy[i] = zyg_start(&zp, 0, err, errlen)))
				goto fail;
		for (unsigned i = 0; i < rn->cfg.slots; i++)
			if (zyg_wait_ready(rn->zy[i], ZYGOTE_READY_MS, err, errlen) < 0)
				goto fail;
	}
	return rn;
fail:
	runner_free(rn);
	return NULL;
}

void runner_free(struct runner *rn)
{
	if (!rn)
		return;
	/* runs still going are cancelled now, synchronously: their callbacks fire from here */
	while (rn->runs) {
		struct run *r = rn->runs;
		run_kill(r, KILL_CANCEL);
		if (!r->reaped && r->zy) {
			/* a zygote run: its processes die with the cgroup (below); the zygote's
			 * report is not awaited, the zygotes go after the runs */
			r->reaped = true;
			r->wstatus = SIGKILL;
		}
		if (!r->reaped) {
			int st = 0;
			while (waitpid(r->proc.pid, &st, 0) < 0 && errno == EINTR)
				;
			r->reaped = true;
			r->wstatus = st;
		}
		for (int i = 0; r->cg && i < 1000 && cg_empty(r->cg) == 0; i++) {
			cg_kill(r->cg);
			usleep(10000);
		}
		run_finish(r, NULL);
	}
	for (unsigned i = 0; rn->zy && i < rn->cfg.slots; i++)
		zyg_free(rn->zy[i]);
	free(rn->zy);
	/* the installed runtime and the zygotes' home go with the runner (a node installs
	 * them again at start-up: nothing of a stopped node is left in its work dir) */
	if (rn->runtime[0])
		(void)wd_remove(rn->runtime);
	if (rn->zhome[0])
		(void)wd_remove(rn->zhome);
	cg_root_free(rn->cg);
	free(rn->bwrap);
	free(rn->venv);
	free(rn->runtime_src);
	free(rn->jail_src);
	free(rn->work_root);
	free(rn->cgroup_name);
	free(rn);
}
