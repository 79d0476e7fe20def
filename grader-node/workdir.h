/* workdir.h - a job's directory on the host, fresh for every run:
 *   <work_root>/<name>/         0711, the node's
 *   <work_root>/<name>/tests/   copy of the bundle's tests/: the node's, read-only to
 *                               the job (bound read-only into the sandbox as well, so the
 *                               submission cannot rewrite the tests it is graded by)
 *   <work_root>/<name>/work/    the job's (slot uid): the bundle's files/ contents and
 *                               submission.py; the sandbox's /work and cwd
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
};

/* Creates the directory (a leftover of that name is removed first). Returns 0 and
 * *path (malloc'd "<work_root>/<name>"), or -errno with err; nothing is left behind on
 * failure. */
int wd_create(const struct wd_spec *s, char **path, char *err, size_t errlen);
/* Removes path recursively without following symlinks (rm -rf). 0 or -errno. */
int wd_remove(const char *path);
