/* sandbox.h - the sandbox policy and the start of one run's process.
 * sbx_cmd_build() turns a run's parameters into the argv and the clean envp that are
 * exec'd; bwrap's profile is an ordered list of small steps in sandbox_argv.c (the policy
 * lives there, bwrap is only the mechanism). sbx_spawn() (sandbox_spawn.c) forks a child
 * that makes only async-signal-safe calls (the node has librdkafka threads): it waits
 * until the parent has put it into the job's cgroup (sbx_release), then starts a session,
 * sets rlimits, drops to the slot uid and execs. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Fixed paths inside the sandbox (bwrap mode). */
#define SBX_WORK "/work"
#define SBX_TESTS "/gradeq/tests"
#define SBX_HARNESS "/gradeq/harness.py"

/* The child's descriptors: 0 /dev/null, 1+2 the output pipe, SBX_RESULT_FD the result
 * pipe, SBX_STATUS_FD bwrap's --json-status-fd (bwrap mode only). */
#define SBX_RESULT_FD 3
#define SBX_STATUS_FD 4

struct sbx_params {
	bool bwrap;             /* false: the harness runs directly (still rlimits, cgroup, uid) */
	const char *bwrap_path; /* bwrap binary */
	const char *venv;       /* grading venv; bound read-only at the same path */
	const char *harness;    /* harness.py on the host */
	const char *work_dir;   /* host dir: submission.py + data files (read-write) */
	const char *tests_dir;  /* host dir: the hidden tests (read-only) */
	unsigned tmp_mb;        /* size of the sandbox's /tmp (0: 64) */
	bool safety_check;      /* harness --safety-check */
	bool collect;           /* harness --collect: list the tests, run nothing */
	bool probe;             /* harness --probe: prints its version, no run */
};

struct sbx_cmd {
	char **argv; /* NULL-terminated, owned */
	char **envp; /* NULL-terminated, owned */
};

/* Builds argv + envp. Nothing of the node's own environment is passed on. Returns 0 or
 * -errno with err. */
int sbx_cmd_build(const struct sbx_params *p, struct sbx_cmd *out, char *err, size_t errlen);
void sbx_cmd_free(struct sbx_cmd *c);

/* rlimits set in the child before exec; 0 = that limit is not set (inherited). */
struct sbx_limits {
	unsigned cpu_s, as_mb, nofile, nproc, fsize_mb, stack_mb;
};

struct sbx_spawn_args {
	const struct sbx_cmd *cmd;
	const struct sbx_limits *lim;
	bool drop_ids; /* setgroups({}) + setresgid/setresuid(uid) (the node is root) */
	uid_t uid;
	gid_t gid;
	const char *chdir; /* working directory of the child, or NULL */
	bool status_fd;    /* create the SBX_STATUS_FD pipe (bwrap mode) */
};

/* The parent's ends; all are O_CLOEXEC, the read ends O_NONBLOCK. */
struct sbx_proc {
	pid_t pid;
	int result_fd; /* read end of the result pipe */
	int output_fd; /* read end of the merged stdout+stderr pipe */
	int status_fd; /* read end of bwrap's status pipe, or -1 */
	int sync_fd;   /* write end of the go pipe; -1 once released */
};

/* Forks the child, which blocks until sbx_release(). Returns 0 and *out or -errno with
 * err. A step failing in the child writes "gradeq-spawn: <step>: errno N" on its stderr
 * (the output pipe) and exits 127. */
int sbx_spawn(const struct sbx_spawn_args *a, struct sbx_proc *out, char *err, size_t errlen);
/* Lets the child go on (to be called once it is in its cgroup). 0 or -errno. */
int sbx_release(struct sbx_proc *p);
/* Closes the parent's descriptors (not the pid). */
void sbx_proc_close(struct sbx_proc *p);
