/* jail.h - the per-job sandbox of the warm runtime, entered in-process (no exec).
 *
 * A root-owned zygote (Python, warm imports) forks each of a job's processes; the child
 * enters a fresh sandbox by calling this library through ctypes (libgradeq-jail.so,
 * grader-node/runtime/gqjail.py), so the warm interpreter is kept. One sandboxed process:
 *
 *   zygote:  pid = fork()
 *   C1:      gq_jail_cgroup_join(procs, n)   joins the job cgroup (made by the node)
 *   C1:      gq_jail_unshare()               new mount, pid, ipc, net, uts, cgroup ns
 *   C1:      pid = fork(); waits for C2, exits with its status
 *   C2:      gq_jail_enter(&params)          pid 1 of the new pid ns: builds the view,
 *                                            drops every privilege, returns 0 as params.uid
 *
 * The policy (which paths, which flags, which system calls) lives in jail.c as an ordered
 * list of small steps, the in-process counterpart of the bwrap profile in sandbox_argv.c;
 * docs/security.md "The warm runtime's per-job sandbox" describes it.
 *
 * Every function returns 0 or a negative errno and writes a human reason into err (never
 * logs). None is thread-safe; enter and probe expect a single-threaded caller (see each).
 * Needs real root (CAP_SYS_ADMIN, CAP_SETUID, ... in the host's user namespace). */
#pragma once
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Version of struct gq_jail_params; gq_jail_enter refuses any other (-EPROTO). Bump it
 * when a field is added, removed or changes meaning. */
#define GQ_JAIL_ABI 1

/* Fixed paths inside the sandbox. */
#define GQ_JAIL_WORK "/work"
#define GQ_JAIL_TESTS "/gradeq/tests"
#define GQ_JAIL_RUNTIME "/gradeq/runtime"

/* Upper bound of gq_jail_probe, in seconds. */
#define GQ_JAIL_PROBE_TIMEOUT_S 10

/* The parameters of one sandbox. Flat and made of C ints, unsigneds and pointers only, so
 * a ctypes.Structure can mirror it; the field order is part of the ABI (append only, with
 * a new GQ_JAIL_ABI). Paths are absolute, without "." or ".." components, and are read
 * only during the call. Source directories are resolved (realpath) on the host; each is
 * bound at the path as given (venv, runtime) or at its fixed place (work, tests). */
struct gq_jail_params {
	unsigned version;     /* GQ_JAIL_ABI */
	const char *venv;     /* grading venv: read-only at the same path; NULL: none */
	const char *runtime;  /* Python runtime dir: read-only at /gradeq/runtime (wherever the
	                       * node installed it); NULL: none */
	const char *work;     /* host dir bound read-write at /work, the cwd; NULL: no /work,
	                       * cwd "/" */
	const char *tests;    /* host dir bound read-only at /gradeq/tests; NULL (the student
	                       * process): no /gradeq at all */
	const char *hostname; /* of the new uts namespace; NULL: "sandbox" */
	unsigned uid, gid;    /* the sandbox's ids, both non-zero; supplementary groups: none */
	unsigned tmp_mb;      /* size of each of the fresh tmpfs /tmp and /dev/shm; 0: 64 */
	/* rlimits, 0 = leave that limit as inherited. cpu_s is the soft limit (SIGXCPU), the
	 * hard one is a second later. as_mb counts the address space already mapped by the
	 * warm interpreter. RLIMIT_CORE is always set to 0. */
	unsigned cpu_s, as_mb, nofile, nproc, fsize_mb, stack_mb;
	/* Descriptors >= 3 to keep open (at most 64, each >= 0); every other descriptor >= 3
	 * is closed. 0, 1 and 2 are kept as they are. keep_fds may be NULL when nkeep is 0. */
	const int *keep_fds;
	unsigned nkeep;
};

/* Writes "0\n" (the caller) into each of the n cgroup.procs files procs[i] (absolute
 * paths whose last component is "cgroup.procs": v1 one per hierarchy, v2 one). Stops at
 * the first failure. */
int gq_jail_cgroup_join(const char *const *procs, unsigned n, char *err, size_t errlen);

/* unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWUTS |
 * CLONE_NEWCGROUP). The caller stays in its pid namespace: its next child is pid 1 of the
 * new one, and that child calls gq_jail_enter. Call it after gq_jail_cgroup_join (the
 * cgroup namespace is rooted at the cgroup the caller is in). */
int gq_jail_unshare(char *err, size_t errlen);

/* Turns the calling process (pid 1 of a pid namespace made by gq_jail_unshare, in the
 * mount namespace made with it) into the sandbox: closes descriptors, builds a minimal
 * read-only view on a fresh tmpfs root and pivots into it, applies rlimits, drops to
 * uid/gid with no capability left, sets no_new_privs, dumpable 0 and a parent-death
 * SIGKILL, starts a new session, and installs the seccomp filter. Returns 0 with the
 * caller sandboxed and in /work (or "/"). On failure returns -errno with the failed step
 * in err; the process is then half-built (maybe still root, maybe without its old root)
 * and must only _exit. The caller must be single-threaded (a forked child is).
 *
 * Being pid 1 of its namespace, the caller gets init's signal semantics: a signal whose
 * action is the default is dropped unless it is SIGKILL or SIGSTOP sent from outside the
 * namespace, or a fault (SIGSEGV, SIGBUS, ... still kill). So RLIMIT_CPU's SIGXCPU is
 * ignored (the hard limit's SIGKILL a second later ends it; install a SIGXCPU handler to
 * tell a CPU timeout first), SIGXFSZ too (the write fails with EFBIG), kill(getpid(),
 * SIGTERM) does nothing, abort() ends in SIGSEGV. Orphaned descendants are reparented to
 * it (reap them or they stay zombies until it exits), and when it exits every process of
 * the namespace is killed. */
int gq_jail_enter(const struct gq_jail_params *p, char *err, size_t errlen);

/* Checks that this kernel and host allow the whole sequence: forks, and the child runs
 * gq_jail_unshare, forks, and the grandchild gq_jail_enter(p) (p->keep_fds ignored; no
 * cgroup join), then checks it is p->uid and p->gid, pid 1, without capabilities, on a
 * read-only root, unable to make a user namespace or to mount, and reports back over a
 * pipe. Blocking, at most GQ_JAIL_PROBE_TIMEOUT_S seconds, after which the children are
 * killed.
 * Returns 0 when the warm runner can work, else -errno and the reason. The child runs
 * code that is not async-signal-safe, so the caller must still be single-threaded (call
 * it at start-up, before librdkafka or any other thread exists); a caller with more than
 * one thread gets -EBUSY. */
int gq_jail_probe(const struct gq_jail_params *p, char *err, size_t errlen);

/* "gradeq-jail <project version> abi <GQ_JAIL_ABI>". */
const char *gq_jail_abi(void);

#ifdef __cplusplus
}
#endif
