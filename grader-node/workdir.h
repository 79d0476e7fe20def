/* workdir.h - a job's directory on the host, fresh for every run:
 *   <work_root>/<name>/         0711, the node's
 *   <work_root>/<name>/tests/   copy of the bundle's tests/: the node's, read-only to
 *                               the job (bound read-only into the sandbox as well, so the
 *                               submission cannot rewrite the tests it is graded by)
 *   <work_root>/<name>/work/    0700, the job's (slot uid): the bundle's files/ contents
 *                               and submission.py; the sandbox's /work and cwd. As root
 *                               it is a tmpfs of its own, sized to what was staged plus
 *                               a fixed room, so a job can never fill the node's disk
 *                               (mounted in the node's own mount namespace: see
 *                               wd_private_mounts)
 * Only regular files and directories are copied; symlinks are never followed. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct wd_spec {
	const char *work_root;  /* exists, traversable by the slot uid */
	const char *name;       /* path-safe, validated by the caller */
	const char *bundle_dir; /* tests/ and optional files/ */
	const char *source;     /* submission.py bytes */
	size_t source_len;
	bool chown_job; /* chown work/ to uid:gid (the node is root) */
	uid_t uid;
	gid_t gid;
	unsigned room_mb; /* >0: work/ is a tmpfs (needs root) holding the staged files
	                     plus room_mb MiB and WD_ROOM_INODES more inodes */
	/* two-process runtime: twork/ for the tests process, owned by tuid:tgid (with
	 * chown_job), holding a pristine copy of the data files and the submission's
	 * source (read as text, never imported there) */
	bool twin;
	uid_t tuid;
	gid_t tgid;
};

#define WD_ROOM_INODES 4096

/* Creates the directory (a leftover of that name is removed first). Returns 0 and
 * *path (malloc'd "<work_root>/<name>"), or -errno with err; nothing is left behind on
 * failure. */
int wd_create(const struct wd_spec *s, char **path, char *err, size_t errlen);
/* Unmounts path/work if it is a mount and removes path recursively without following
 * symlinks (rm -rf). 0 or -errno. */
int wd_remove(const char *path);
/* Removes every job directory (a name with tests/ and work/ in it) that an earlier run of
 * the node left in work_root when it died. Returns how many, or -errno. */
int wd_sweep(const char *work_root);
/* Moves the calling thread (and what it later forks or starts) into a mount namespace of
 * its own, a slave of the current one: the job tmpfs mounts are then the node's alone,
 * invisible to the host, and vanish with the node however it ends (a crash leaves no
 * mount behind). Needs CAP_SYS_ADMIN. 0 or -errno with err. */
int wd_private_mounts(char *err, size_t errlen);
/* Whether uid:gid (no supplementary groups, as the sandbox runs) can search every
 * directory from / down to path, by the mode bits (a job's bwrap binds a directory below
 * it as that uid). 0, or -EACCES with err naming the first directory that stops it and
 * what to do; -errno with err when a directory cannot be read. */
int wd_traversable(const char *path, uid_t uid, gid_t gid, char *err, size_t errlen);
/* Whether a job tmpfs can be mounted below work_root (root with CAP_SYS_ADMIN): mounts
 * and unmounts one. 0 or -errno with err. */
int wd_tmpfs_probe(const char *work_root, char *err, size_t errlen);
