/* cgroup.h - one cgroup per job: memory, pids and cpu limits, membership, the OOM count,
 * and a kill that takes every process in it. cgroup v1 (one directory per controller
 * hierarchy: memory, pids, cpu, freezer) and v2 (one unified directory) are detected at
 * run time. Job cgroups live in <node's own cgroup>/<parent>/<job>, so whatever limits
 * the node's service has also bound its sandboxes. Needs root. Library code: returns
 * errors, never logs; not thread-safe (the node's loop thread). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum cg_mode { CG_NONE, CG_V1, CG_V2 };

struct cg_root; /* the parent cgroup(s) of all jobs */
struct cg_job;  /* one job's cgroup(s) */

struct cg_limits {
	uint64_t memory_bytes; /* memory limit, swap off; 0 = none */
	unsigned pids_max;     /* 0 = none */
	unsigned cpu_weight;   /* v2 cpu.weight (100 = default); v1 shares = weight*1024/100 */
	bool oom_group;        /* v2 memory.oom.group: an OOM kill takes every process */
};

/* Finds the hierarchy (v2 when it carries memory and pids, else v1), creates the parent
 * cgroup `parent` under the node's own cgroup and enables the controllers. On v2 a
 * non-root own cgroup cannot both hold the node and delegate controllers, so the node
 * moves itself into the leaf "<parent>.node" beside it. Returns 0 and *out, or -errno
 * with err. */
int cg_detect(const char *parent, struct cg_root **out, char *err, size_t errlen);
/* The cgroup path in a /proc/<pid>/cgroup text: of the v1 hierarchy carrying ctl, or
 * of the v2 line ("0::path") for ctl NULL. 0 and out, -ENOENT when absent. */
int cg_parse_own(const char *text, const char *ctl, char *out, size_t outlen);
/* On a v2 host (the unified hierarchy carries memory and pids): this process's cgroup
 * directory into out, and 2 when it is the hierarchy's root, 1 otherwise. 0 when not a
 * v2 host, -errno when the own cgroup cannot be found. */
int cg_v2_own_dir(char *out, size_t outlen);
enum cg_mode cg_mode(const struct cg_root *root); /* CG_NONE for NULL */
const char *cg_mode_name(enum cg_mode m);         /* "v1" "v2" "none" */
/* The parent's directory (v1: of the pids hierarchy), for messages. */
const char *cg_root_path(const struct cg_root *root);
void cg_root_free(struct cg_root *root);

/* Creates the job cgroup `name` ([A-Za-z0-9_.-], validated by the caller) with limits. A
 * stale cgroup of that name (a crashed earlier run) is killed and replaced. Returns 0 and
 * *out, or -errno with err. */
int cg_create(struct cg_root *root, const char *name, const struct cg_limits *lim,
              struct cg_job **out, char *err, size_t errlen);
/* Moves pid into the job (every hierarchy). 0 or -errno. */
int cg_attach(struct cg_job *job, pid_t pid);
/* CPU time used by the job's processes so far (v1 cpuacct.usage, v2 cpu.stat), in
 * microseconds. 0 or -errno (-ENOENT: no cpu accounting here). */
int cg_cpu_usec(struct cg_job *job, uint64_t *out);
/* The job's directories (one per v1 hierarchy, one on v2), for a process that joins
 * the job itself by writing to <dir>/cgroup.procs (the zygote's children) and for
 * reading its memory events. Pointers valid until cg_destroy. Returns the count. */
size_t cg_dirs(const struct cg_job *job, const char **dirs, size_t max);
/* SIGKILLs every process in the job: v2 cgroup.kill when present, v1 freezes first when
 * the freezer is mounted. Call again until cg_empty(): a process forked between the read
 * of cgroup.procs and the kill is caught on the next call. Returns the number of
 * processes signalled (v2 cgroup.kill: 0) or -errno. Never signals the caller. */
int cg_kill(struct cg_job *job);
/* 1 when no process is left, 0 when some are, -errno when unreadable. */
int cg_empty(struct cg_job *job);
/* 1 when the kernel OOM-killed something in the job (v2 memory.events oom_kill, v1
 * memory.oom_control oom_kill, else memory.failcnt), 0 otherwise. */
int cg_oom(struct cg_job *job);
/* 1 when what the job holds and the kernel cannot reclaim without swap (anonymous memory
 * and tmpfs pages) fills its memory limit, to within an eighth (at least 16 MiB); 0
 * otherwise or without a limit. A job pinned there thrashes on its page cache instead of
 * being OOM-killed at once: sampled before a timeout kill, it tells memory from time. */
int cg_memory_full(struct cg_job *job);
/* Removes the (empty) job cgroup and frees job. 0 or -errno (job freed anyway).
 * cg_destroy(NULL) is a no-op. */
int cg_destroy(struct cg_job *job);
