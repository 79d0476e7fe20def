/* runner.h - runs one job in sandboxes and turns what its tests process reports into
 * an outcome: a verdict with per-test points, or an infrastructure error.
 * The node's event loop drives it: runner_start() starts the run and registers its
 * events (pipes, the end of the run, wall-clock timer) on the base given to runner_new(),
 * and the done callback fires exactly once per run, from that loop.
 * Three ways to run (runner_config.mode), one interface:
 *  - RUNNER_WARM: per slot a zygote (runtime/zygote.py) with marimo, pytest and numpy
 *    imported forks each job's student and tests processes, each in a sandbox of its own
 *    (jail.c); the default.
 *  - RUNNER_COLD: the same processes and sandboxes, from a fresh zygote per job that
 *    imports nothing ahead (every job pays the interpreter start and the imports).
 *  - RUNNER_BWRAP: the single-process harness in one bubblewrap sandbox per job; chosen
 *    by configuration or automatically when the kernel refuses a step of the jail. The
 *    submission shares the tests' process there: forgeable, recorded with each result. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct runner;
struct run;
struct pub_list;
struct rec_stream;

enum runner_mode { RUNNER_WARM, RUNNER_COLD, RUNNER_BWRAP };

struct runner_config {
	enum runner_mode mode; /* what is asked for; see runner_mode() for what runs */
	unsigned slots;        /* zygotes to keep (warm) */
	bool use_bubblewrap;   /* [security] use_bubblewrap; false = unsandboxed (warned;
	                          bwrap mode only) */
	const char *bwrap;     /* bwrap binary, default "/usr/bin/bwrap" */
	const char *venv;      /* grading venv dir, bound read-only; python = venv/bin/python */
	const char *runtime;   /* the runtime's sources (harness.py, zygote.py...): copied
	                          at start-up to work_root/.runtime-<hash>, where every
	                          sandbox uid can read it wherever the sources are */
	const char *jail_lib;  /* libgradeq-jail.so, copied beside the runtime */
	const char *work_root; /* per-job workdirs are created below it (mode 0711) */
	unsigned base_uid;     /* student (bwrap: the only) uid/gid = base_uid + slot when
	                          the node is root */
	unsigned tests_uid;    /* tests process uid/gid = tests_uid + slot */
	/* [rlimits] (mograder names): 0 disables that limit */
	unsigned cpu_s;    /* RLIMIT_CPU, seconds */
	unsigned nproc;    /* RLIMIT_NPROC, and pids.max of the job's cgroup */
	unsigned nofile;   /* RLIMIT_NOFILE */
	unsigned as_mb;    /* RLIMIT_AS, MiB */
	unsigned fsize_mb; /* RLIMIT_FSIZE, MiB */
	unsigned stack_mb; /* RLIMIT_STACK, MiB */
	/* defaults a job gets, and ceilings it can never exceed */
	unsigned timeout_s, max_timeout_s;
	unsigned memory_mb, max_memory_mb; /* cgroup memory limit */
	unsigned output_kb;                /* captured stdout+stderr kept (tail) */
	unsigned tmp_mb;                   /* size of the sandbox's /tmp tmpfs */
	const char *cgroup_name;           /* parent cgroup name, default "gradeq" */
};

struct run_spec {
	const char *name;       /* unique, path-safe: "<submission id>-<attempt>" */
	int slot;               /* 0 .. slots-1 */
	const char *bundle_dir; /* extracted bundle: tests/ (and files/) */
	const char *source;     /* submission bytes (copied by runner_start) */
	size_t source_len;
	double max_points;                                      /* 0: weights are points */
	unsigned timeout_s, memory_mb, cpu_s, nproc, output_kb; /* 0 = runner default */
	bool safety_check;
	bool collect;               /* list the tests (ids, weights) against a stand-in: no
	                               submission takes part; the outcome carries the stream */
	bool in_process;            /* exercise isolation = "in-process" */
	unsigned call_timeout_s;    /* per call into the student's code; 0: timeout_s / 2 */
	const struct pub_list *pub; /* score against this published list (NULL: against
	                               what the stream collected; collect runs) */
};

struct run_test {
	char *name;
	bool passed;
	double points, max_points;
	char *message;
};

enum run_kind { RUN_VERDICT, RUN_INFRA_ERROR };

struct run_outcome {
	enum run_kind kind;
	const char *verdict;     /* RUN_VERDICT: ok timeout memory output_limit crashed
	                            import_error rejected (static string) */
	char error[256];         /* RUN_INFRA_ERROR: reason for staff; else a detail or "" */
	double score, max_score; /* rounded to two decimals */
	struct run_test *tests;  /* owned by the run; valid during the callback only */
	size_t ntests;
	const char *output_tail; /* last output_kb of stdout+stderr (may be binary) */
	size_t output_tail_len;
	/* timing (CLOCK_MONOTONIC ms; 0 if unknown): spawn, harness first line, after
	 * imports (python + pytest + marimo + submission), end of tests, reaped */
	int64_t t_spawn, t_harness, t_imported, t_tests_done, t_end;
	int64_t cpu_ms; /* CPU time of the job's processes (cgroup), -1 unknown */
	int64_t cpu_tests_ms, cpu_student_ms; /* of which the tests / student processes (zygote
	                                         runs; -1 unknown): the rest is sandbox set-up */
	const char *isolation;                /* "two-process" | "in-process" (static string) */
	const char *runner;                   /* "warm" | "cold" | "bwrap" (static string) */
	unsigned student_starts;              /* student processes started (two-process) */
	size_t unlisted;                      /* reports of tests not in the published list */
	const struct rec_stream *rec;         /* the stream (collect runs read the list from it) */
};

typedef void (*run_done_cb)(struct run *r, const struct run_outcome *o, void *arg);

/* Checks the sandbox can work (bwrap runs, cgroups detected and writable as root, job
 * tmpfs mountable, venv and harness present). Returns NULL with err when not, so the
 * node refuses to start. As root it moves the calling thread into a mount namespace of
 * its own (the job tmpfs mounts live there: wd_private_mounts in workdir.h), so call it
 * from the thread that will run the loop, before other threads are started. */
struct runner *runner_new(struct event_base *base, const struct runner_config *cfg, char *err,
                          size_t errlen);
/* Starts a run. Returns 0 and *out, or a negative errno with err (an infrastructure
 * error: nothing ran). cb fires once, later, from the loop; the run is freed after it.
 * The wall clock is timeout_s plus a fixed start-up allowance (3 s). The runner reaps its
 * own children by pid (pidfd): the process must not reap with waitpid(-1). spec->name
 * must pass name_valid(); a run of the same name in progress is -EBUSY. */
/* Whether the extracted bundle at bundle_dir is a mograder exercise (it holds
 * GQ_BUNDLE_MOG_SOURCE): its jobs run the notebook cell by cell (docs/exercises.md). */
bool runner_is_mograder(const char *bundle_dir);

int runner_start(struct runner *rn, const struct run_spec *spec, run_done_cb cb, void *arg,
                 struct run **out, char *err, size_t errlen);
/* Kills the run's whole tree now; cb then fires with RUN_INFRA_ERROR "cancelled". */
void runner_cancel(struct run *r);
/* The mode that runs ("warm", "cold", "bwrap"), and why it is not the one asked for
 * ("" when it is): the node logs it once. */
const char *runner_mode_name(const struct runner *rn);
const char *runner_fallback_reason(const struct runner *rn);
/* "v1" or "v2" (or "none" when unprivileged), for logs and status. */
const char *runner_cgroup_mode(const struct runner *rn);
/* runner_free(NULL) is a no-op; cancels runs still in progress: it kills them, waits
 * for them (blocking) and fires their callbacks (RUN_INFRA_ERROR "cancelled") from
 * inside runner_free(). */
void runner_free(struct runner *rn);
