/* zygote_client.h - the node's side of a zygote (grader-node/runtime/zygote.py): starts
 * one, hands it jobs and reads how they ended. A zygote is a root Python process that
 * forks every job's sandboxed processes; warm ones have marimo, pytest and numpy
 * imported already. Protocol: docs/harness-protocol.md "The zygote". Library code: no
 * logging; not thread-safe (the node's loop thread). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct zyg;

struct zyg_params {
	const char *python;   /* the grading venv's python */
	const char *runtime;  /* the installed runtime directory (zygote.py) */
	const char *jail_lib; /* libgradeq-jail.so */
	const char *home;     /* HOME of the zygote (a directory of the node's own) */
	bool warm;            /* pre-import everything, serve many jobs */
	bool once;            /* end after one job (the cold runner) */
};

struct zyg_done {
	char name[128];
	bool infra; /* the job could not be run: reason says why */
	char reason[256];
	int status;        /* wait status of the tests process */
	bool oom;          /* the job's cgroup saw an OOM kill */
	unsigned students; /* student processes started (restarts + 1) */
	/* CPU of the tests / the student processes, microseconds (-1: not said) */
	long long cpu_tests_us, cpu_student_us;
};

/* Starts a zygote with posix_spawn (safe beside librdkafka's threads). With wait_ms > 0
 * waits (blocking) until it says ready; else the ready message is skipped later by
 * zyg_read. Returns NULL with err. */
struct zyg *zyg_start(const struct zyg_params *p, int wait_ms, char *err, size_t errlen);
/* Waits (blocking) until a zygote started with wait_ms 0 says ready. 0 or -errno with
 * err. */
int zyg_wait_ready(struct zyg *z, int wait_ms, char *err, size_t errlen);
/* The control socket (non-blocking), for the event loop. */
int zyg_fd(const struct zyg *z);
pid_t zyg_pid(const struct zyg *z);
/* Sends one job (JSON text) with the two descriptors the tests process writes to. The
 * zygote gets its own copies; the caller keeps (and closes) its ones. 0 or -errno. */
int zyg_send(struct zyg *z, const char *json, int result_fd, int output_fd, char *err,
             size_t errlen);
/* Reads what the zygote sent. 1: a job ended (*out filled); 0: nothing (yet);
 * -EPIPE: the zygote is gone; -EBADMSG: it sent something malformed. */
int zyg_read(struct zyg *z, struct zyg_done *out);
/* Kills the zygote (SIGKILL) and reaps it. NULL is a no-op. */
void zyg_free(struct zyg *z);
