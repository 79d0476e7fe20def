/* jail.c - the per-job sandbox of the warm runtime, see jail.h.
 *
 * gq_jail_enter is an ordered list of small steps (enter_steps below), the in-process
 * counterpart of the bwrap profile in sandbox_argv.c: the same view (/usr and the
 * runtime read-only, from /etc only ld.so.cache and localtime, the venv, the tests, the
 * job's /work, a fresh /proc, a minimal /dev, capped /tmp and /dev/shm), then every
 * privilege dropped and a seccomp filter on top.
 *
 * How the view is built. The caller is pid 1 of a fresh pid namespace in a fresh mount
 * namespace (gq_jail_unshare). A small tmpfs, the "stage", is mounted on /tmp (any
 * existing directory would do: the stage hides it only in this mount namespace) and we
 * pivot into it, so the host's tree is reachable under /oldroot and every source path
 * resolves the same wherever it lives (also under /tmp). The new root is a second tmpfs
 * at /newroot in the stage; each source is bound from /oldroot/<path> to
 * /newroot/<path>. Then /oldroot is detached, we pivot into /newroot and detach the
 * stage: nothing of the host's tree is left reachable but what was bound.
 *
 * Binds are not recursive (MS_BIND without MS_REC): a mount below a bound directory on
 * the host is not carried in (its mount point shows the underlying directory), so no
 * writable or unexpected mount can surface under a read-only one. Each bind is
 * remounted at once with its final flags (MS_REMOUNT | MS_BIND: per mount, not per
 * superblock), and step_verify checks the flags with statvfs before privileges go.
 *
 * Library code: never logs; every step returns 0 or -errno with a reason in err. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <seccomp.h>

#include "jail.h"

#ifndef GRADEQ_VERSION
#define GRADEQ_VERSION "0"
#endif

/* The shared library exports only the jail.h API (built with -fvisibility=hidden). */
#define GQ_EXPORT __attribute__((visibility("default")))

#define STAGE "/tmp"       /* where the stage tmpfs is mounted (must exist on the host) */
#define OLDROOT "/oldroot" /* the host's tree, inside the stage, until step_switch */
#define NEWROOT "/newroot" /* the sandbox's root, inside the stage, until step_switch */
#define MAX_KEEP 64
#define TMP_INODES 16384 /* inodes of /tmp and /dev/shm each: a file bomb ends in ENOSPC */

#define NS_FLAGS \
	(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWCGROUP)

struct ctx {
	const struct gq_jail_params *p;
	char *err;
	size_t errlen;
	mode_t umask; /* the caller's, restored at the end */
	/* The sources, resolved on the host (realpath) before the pivot; "" when unused. */
	char venv[PATH_MAX], runtime[PATH_MAX], work[PATH_MAX], tests[PATH_MAX];
};

/* -- helpers -------------------------------------------------------------------------- */

/* Writes "<what>: <strerror(e)>" into err and returns -e. */
__attribute__((format(printf, 3, 4))) static int fail(struct ctx *c, int e, const char *fmt, ...)
{
	if (c->err && c->errlen) {
		char what[256];
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(what, sizeof what, fmt, ap);
		va_end(ap);
		snprintf(c->err, c->errlen, "%s: %s", what, strerror(e));
	}
	return -e;
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || !errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* An absolute path that is not "/", has no ".", ".." or empty component and no trailing
 * slash (so a destination "/newroot" + path can never leave /newroot, and a prefix
 * comparison with "/tmp" means what it says), short enough for the prefixes. */
static bool path_ok(const char *path)
{
	if (!path || path[0] != '/' || path[1] == '\0' || strlen(path) > PATH_MAX - 64 ||
	    strstr(path, "//") || path[strlen(path) - 1] == '/')
		return false;
	for (const char *s = path; *s;) {
		while (*s == '/')
			s++;
		size_t n = strcspn(s, "/");
		if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
			return false;
		s += n;
	}
	return true;
}

/* dst = a + b; -ENAMETOOLONG when it does not fit. */
static int join(char *dst, size_t len, const char *a, const char *b)
{
	int n = snprintf(dst, len, "%s%s", a, b);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* mkdir -p of an absolute path, mode 0755 (umask is 0 while building). */
static int mkdir_p(const char *path)
{
	char buf[PATH_MAX];
	if (join(buf, sizeof buf, path, "") < 0)
		return -ENAMETOOLONG;
	for (char *s = buf + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char saved = *s;
		*s = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -errno;
		*s = saved;
		if (!saved)
			return 0;
	}
}

/* An empty regular file to bind a file onto. */
static int touch(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0444);
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

/* Binds src onto dst (both existing, same type) and remounts it with flags
 * (MS_RDONLY | MS_NOSUID | ...): per mount, so the host's mount is unaffected. */
static int bind_mount(struct ctx *c, const char *src, const char *dst, unsigned long flags)
{
	if (mount(src, dst, NULL, MS_BIND, NULL) < 0)
		return fail(c, errno, "bind %s", src + strlen(OLDROOT));
	if (mount(NULL, dst, NULL, MS_REMOUNT | MS_BIND | flags, NULL) < 0)
		return fail(c, errno, "remount %s", dst + strlen(NEWROOT));
	return 0;
}

/* Binds the host directory `resolved` at `at` (a path of the sandbox) with flags. */
static int bind_dir(struct ctx *c, const char *resolved, const char *at, unsigned long flags)
{
	char src[PATH_MAX], dst[PATH_MAX];
	if (join(src, sizeof src, OLDROOT, resolved) < 0 || join(dst, sizeof dst, NEWROOT, at) < 0)
		return fail(c, ENAMETOOLONG, "bind %s", at);
	int rc = mkdir_p(dst);
	if (rc < 0)
		return fail(c, -rc, "mkdir %s", at);
	return bind_mount(c, src, dst, flags);
}

static int mount_tmpfs(struct ctx *c, const char *dst, unsigned long flags, const char *opts)
{
	if (mount("tmpfs", dst, "tmpfs", flags, opts) < 0)
		return fail(c, errno, "tmpfs on %s (%s)", dst, opts);
	return 0;
}

/* Re-creates the host's symlink `path` (read through /oldroot) in the new root. */
static int copy_symlink(struct ctx *c, const char *path)
{
	char src[PATH_MAX], dst[PATH_MAX], target[PATH_MAX];
	if (join(src, sizeof src, OLDROOT, path) < 0 || join(dst, sizeof dst, NEWROOT, path) < 0)
		return fail(c, ENAMETOOLONG, "symlink %s", path);
	ssize_t n = readlink(src, target, sizeof target - 1);
	if (n < 0)
		return fail(c, errno, "readlink %s", path);
	target[n] = '\0';
	if (symlink(target, dst) < 0)
		return fail(c, errno, "symlink %s -> %s", path, target);
	return 0;
}

static int resolve_dir(struct ctx *c, const char *what, const char *path, char *out)
{
	out[0] = '\0';
	if (!path)
		return 0;
	if (!realpath(path, out))
		return fail(c, errno, "%s %s", what, path);
	struct stat st;
	if (stat(out, &st) < 0)
		return fail(c, errno, "%s %s", what, path);
	if (!S_ISDIR(st.st_mode))
		return fail(c, ENOTDIR, "%s %s", what, path);
	/* Never the host's root whole, whatever path led there. */
	if (strcmp(out, "/") == 0)
		return fail(c, EINVAL, "%s %s resolves to /", what, path);
	return 0;
}

/* -- steps of gq_jail_enter ----------------------------------------------------------- */

typedef int (*jail_step)(struct ctx *c);

static int step_check(struct ctx *c)
{
	const struct gq_jail_params *p = c->p;
	if (p->version != GQ_JAIL_ABI)
		return fail(c, EPROTO, "params version %u, this library speaks %d", p->version,
		            GQ_JAIL_ABI);
	if (p->uid == 0 || p->gid == 0)
		return fail(c, EINVAL, "uid and gid must be non-zero");
	const char *paths[] = { p->venv, p->runtime, p->work, p->tests };
	for (size_t i = 0; i < sizeof paths / sizeof *paths; i++)
		if (paths[i] && !path_ok(paths[i]))
			return fail(c, EINVAL, "path '%s' is not absolute and canonical", paths[i]);
	/* The venv keeps its path: not where the sandbox mounts its own fresh trees (it
	 * would be hidden), nor over the view's fixed parts. The runtime goes to its fixed
	 * place, wherever the node installed it. */
	static const char *const reserved[] = { "/tmp", "/dev",       "/proc",
		                                "/etc", GQ_JAIL_WORK, "/gradeq" };
	const char *kept[] = { p->venv };
	for (size_t i = 0; i < 1; i++)
		for (size_t r = 0; kept[i] && r < sizeof reserved / sizeof *reserved; r++) {
			size_t n = strlen(reserved[r]);
			if (strncmp(kept[i], reserved[r], n) == 0 &&
			    (kept[i][n] == '/' || kept[i][n] == '\0'))
				return fail(c, EINVAL, "%s lies under %s, which the sandbox owns",
				            kept[i], reserved[r]);
		}
	if (p->hostname && (!p->hostname[0] || strlen(p->hostname) > 64))
		return fail(c, EINVAL, "hostname of 1..64 characters");
	if (p->nkeep > MAX_KEEP || (p->nkeep && !p->keep_fds))
		return fail(c, EINVAL, "keep_fds: at most %d descriptors", MAX_KEEP);
	for (unsigned i = 0; i < p->nkeep; i++)
		if (p->keep_fds[i] < 0)
			return fail(c, EBADF, "keep_fds[%u] = %d", i, p->keep_fds[i]);
	/* The fresh /proc shows the pid namespace of whoever mounts it: only pid 1 of a new
	 * namespace may go on, or the host's processes would be listed. */
	if (getpid() != 1)
		return fail(c, EINVAL, "not pid 1 of a new pid namespace (gq_jail_unshare, fork)");
	return 0;
}

/* umask 0 while building (a caller's 077 would make the directories leading to the
 * venv untraversable for the sandbox uid); the caller's is restored by step_umask_back. */
static int step_umask(struct ctx *c)
{
	c->umask = umask(0);
	return 0;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

static int close_from_to(unsigned lo, unsigned hi)
{
	if (lo > hi)
		return 0;
	if (syscall(SYS_close_range, lo, hi, 0u) == 0)
		return 0;
	if (errno != ENOSYS)
		return -errno;
	/* Kernels before 5.9: walk /proc/self/fd (still the host's /proc here). */
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return -errno;
	int dfd = dirfd(d);
	struct dirent *e;
	while ((e = readdir(d))) {
		char *end;
		long fd = strtol(e->d_name, &end, 10);
		if (*end || end == e->d_name || fd == dfd || fd < (long)lo || fd > (long)hi)
			continue;
		(void)close((int)fd);
	}
	closedir(d);
	return 0;
}

/* Every descriptor >= 3 but keep_fds is closed before anything else, so nothing of the
 * zygote (its pipe to the node, a cached directory, a socket) reaches the sandbox. */
static int step_fds(struct ctx *c)
{
	int keep[MAX_KEEP + 1];
	unsigned n = 0;
	for (unsigned i = 0; i < c->p->nkeep; i++)
		if (c->p->keep_fds[i] >= 3)
			keep[n++] = c->p->keep_fds[i];
	qsort(keep, n, sizeof *keep, cmp_int);
	unsigned lo = 3;
	for (unsigned i = 0; i < n; i++) {
		unsigned k = (unsigned)keep[i];
		if (k < lo)
			continue; /* a duplicate */
		if (fcntl(keep[i], F_GETFD) < 0)
			return fail(c, errno, "keep fd %d", keep[i]);
		int rc = close_from_to(lo, k - 1);
		if (rc < 0)
			return fail(c, -rc, "close descriptors");
		lo = k + 1;
	}
	int rc = close_from_to(lo, ~0u);
	return rc < 0 ? fail(c, -rc, "close descriptors") : 0;
}

static int step_resolve(struct ctx *c)
{
	int rc;
	if ((rc = resolve_dir(c, "venv", c->p->venv, c->venv)) < 0 ||
	    (rc = resolve_dir(c, "runtime", c->p->runtime, c->runtime)) < 0 ||
	    (rc = resolve_dir(c, "work", c->p->work, c->work)) < 0 ||
	    (rc = resolve_dir(c, "tests", c->p->tests, c->tests)) < 0)
		return rc;
	return 0;
}

/* Nothing mounted from here on may propagate back to the zygote's (or the host's)
 * namespace, and nothing of theirs may propagate in. */
static int step_private(struct ctx *c)
{
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return fail(c, errno, "make / private");
	return 0;
}

/* The stage: pivot into a small tmpfs, the host's tree at /oldroot, the new root at
 * /newroot (a tmpfs of its own, so the final pivot_root has a mount to move to). */
static int step_stage(struct ctx *c)
{
	int rc = mount_tmpfs(c, STAGE, MS_NOSUID | MS_NODEV | MS_NOEXEC,
	                     "size=64k,nr_inodes=64,mode=0700");
	if (rc < 0)
		return rc;
	if (chdir(STAGE) < 0)
		return fail(c, errno, "chdir %s", STAGE);
	if (mkdir("." OLDROOT, 0700) < 0 || mkdir("." NEWROOT, 0755) < 0)
		return fail(c, errno, "stage directories");
	if (syscall(SYS_pivot_root, ".", "." OLDROOT) < 0)
		return fail(c, errno, "pivot_root into the stage");
	if (chdir("/") < 0)
		return fail(c, errno, "chdir /");
	return mount_tmpfs(c, NEWROOT, MS_NOSUID | MS_NODEV, "size=1m,nr_inodes=4096,mode=0755");
}

/* The runtime: /usr read-only (exec allowed: the interpreter's own libraries and numpy's
 * are loaded from there and from the venv). */
static int step_usr(struct ctx *c)
{
	return bind_dir(c, "/usr", "/usr", MS_RDONLY | MS_NOSUID | MS_NODEV);
}

/* /lib /lib64 /bin /sbin ... as on the host: symlinks into /usr on merged-/usr systems,
 * read-only binds otherwise. */
static int step_toplevel(struct ctx *c)
{
	static const char *const tops[] = {
		"/lib", "/lib64", "/lib32", "/libx32", "/bin", "/sbin"
	};
	for (size_t i = 0; i < sizeof tops / sizeof *tops; i++) {
		char src[PATH_MAX];
		struct stat st;
		if (join(src, sizeof src, OLDROOT, tops[i]) < 0)
			return fail(c, ENAMETOOLONG, "%s", tops[i]);
		if (lstat(src, &st) < 0) {
			if (errno == ENOENT)
				continue;
			return fail(c, errno, "lstat %s", tops[i]);
		}
		int rc = 0;
		if (S_ISLNK(st.st_mode))
			rc = copy_symlink(c, tops[i]);
		else if (S_ISDIR(st.st_mode))
			rc = bind_dir(c, tops[i], tops[i], MS_RDONLY | MS_NOSUID | MS_NODEV);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* From /etc only what the dynamic loader and time functions read; never /etc whole
 * (passwd, shadow, /etc/gradeq with the node's configuration stay outside). A symlink
 * (localtime -> /usr/share/zoneinfo/...) is re-created, it resolves inside the view. */
static int step_etc(struct ctx *c)
{
	static const char *const files[] = { "/etc/ld.so.cache", "/etc/localtime" };
	if (mkdir(NEWROOT "/etc", 0755) < 0)
		return fail(c, errno, "mkdir /etc");
	for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
		char src[PATH_MAX], dst[PATH_MAX];
		struct stat st;
		if (join(src, sizeof src, OLDROOT, files[i]) < 0 ||
		    join(dst, sizeof dst, NEWROOT, files[i]) < 0)
			return fail(c, ENAMETOOLONG, "%s", files[i]);
		if (lstat(src, &st) < 0) {
			if (errno == ENOENT)
				continue;
			return fail(c, errno, "lstat %s", files[i]);
		}
		int rc = 0;
		if (S_ISLNK(st.st_mode)) {
			rc = copy_symlink(c, files[i]);
		} else if (S_ISREG(st.st_mode)) {
			if ((rc = touch(dst)) < 0)
				return fail(c, -rc, "mount point %s", files[i]);
			rc = bind_mount(c, src, dst, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* The venv at its own path (pyvenv.cfg, sys.path and scripts name absolute paths) and
 * the runtime at GQ_JAIL_RUNTIME, read-only, exec allowed (extension modules). */
static int step_python(struct ctx *c)
{
	int rc = 0;
	if (c->venv[0])
		rc = bind_dir(c, c->venv, c->p->venv, MS_RDONLY | MS_NOSUID | MS_NODEV);
	if (rc == 0 && c->runtime[0])
		rc = bind_dir(c, c->runtime, GQ_JAIL_RUNTIME, MS_RDONLY | MS_NOSUID | MS_NODEV);
	return rc;
}

/* The hidden tests, only for the process that runs them; the student process has no
 * /gradeq at all. */
static int step_tests(struct ctx *c)
{
	if (!c->tests[0])
		return 0;
	return bind_dir(c, c->tests, GQ_JAIL_TESTS, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
}

/* The job's own directory, the only host directory it may write. noexec: Python reads
 * modules, it never needs to map a file of /work executable; a binary or shared object
 * the job writes there cannot be run or loaded. */
static int step_work(struct ctx *c)
{
	if (!c->work[0])
		return 0;
	return bind_dir(c, c->work, GQ_JAIL_WORK, MS_NOSUID | MS_NODEV | MS_NOEXEC);
}

/* A fresh proc of the new pid namespace (we are its pid 1), so only the sandbox's own
 * processes are listed. subset=pid (5.8+) also leaves out everything that is not a
 * process (/proc/sys, /proc/kcore, /proc/sysrq-trigger, meminfo, ...); hidepid hides the
 * processes a process may not ptrace-read: other uids', and non-dumpable ones (a forked
 * child of the sandbox until it execs, see step_prctl). Older kernels refuse those
 * options: fall back to fewer. */
static int step_proc(struct ctx *c)
{
	static const char *const opts[] = { "hidepid=invisible,subset=pid", "hidepid=2", NULL };
	if (mkdir(NEWROOT "/proc", 0555) < 0)
		return fail(c, errno, "mkdir /proc");
	int e = 0;
	for (size_t i = 0; i < sizeof opts / sizeof *opts; i++) {
		if (mount("proc", NEWROOT "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		          opts[i]) == 0)
			return 0;
		e = errno;
		if (e != EINVAL)
			break;
	}
	return fail(c, e, "mount /proc");
}

/* A minimal /dev: its own tmpfs with binds of the harmless character devices and the
 * usual symlinks. No tty, console, pts or ptmx: no terminal to inject input into. The
 * binds keep device access (no MS_NODEV on them) but are read-only (device nodes stay
 * writable on a read-only mount; only the node itself cannot be changed). */
static int step_dev(struct ctx *c)
{
	static const char *const devs[] = { "null", "zero", "full", "random", "urandom" };
	static const char *const links[][2] = {
		{ "/proc/self/fd", "fd" },
		{ "/proc/self/fd/0", "stdin" },
		{ "/proc/self/fd/1", "stdout" },
		{ "/proc/self/fd/2", "stderr" },
	};
	if (mkdir(NEWROOT "/dev", 0755) < 0)
		return fail(c, errno, "mkdir /dev");
	int rc = mount_tmpfs(c, NEWROOT "/dev", MS_NOSUID | MS_NOEXEC,
	                     "size=64k,nr_inodes=64,mode=0755");
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < sizeof devs / sizeof *devs; i++) {
		char src[PATH_MAX], dst[PATH_MAX];
		snprintf(src, sizeof src, OLDROOT "/dev/%s", devs[i]);
		snprintf(dst, sizeof dst, NEWROOT "/dev/%s", devs[i]);
		struct stat st;
		if (lstat(src, &st) < 0)
			return fail(c, errno, "/dev/%s", devs[i]);
		if (!S_ISCHR(st.st_mode))
			return fail(c, ENODEV, "/dev/%s is not a character device", devs[i]);
		if ((rc = touch(dst)) < 0)
			return fail(c, -rc, "mount point /dev/%s", devs[i]);
		if ((rc = bind_mount(c, src, dst, MS_RDONLY | MS_NOSUID | MS_NOEXEC)) < 0)
			return rc;
	}
	for (size_t i = 0; i < sizeof links / sizeof *links; i++) {
		char dst[PATH_MAX];
		snprintf(dst, sizeof dst, NEWROOT "/dev/%s", links[i][1]);
		if (symlink(links[i][0], dst) < 0)
			return fail(c, errno, "symlink /dev/%s", links[i][1]);
	}
	if (mkdir(NEWROOT "/dev/shm", 0755) < 0)
		return fail(c, errno, "mkdir /dev/shm");
	return 0;
}

/* Scratch space, fresh for every sandbox (nothing one job leaves is seen by the next):
 * /tmp and /dev/shm (POSIX shared memory, semaphores), each a tmpfs of tmp_mb MiB and
 * TMP_INODES inodes, sticky and world-writable, noexec. Their pages are charged to the
 * job's memory cgroup. */
static int step_tmp(struct ctx *c)
{
	unsigned long long bytes = (unsigned long long)(c->p->tmp_mb ? c->p->tmp_mb : 64) << 20;
	char opts[96];
	snprintf(opts, sizeof opts, "size=%llu,nr_inodes=%u,mode=1777", bytes, TMP_INODES);
	if (mkdir(NEWROOT "/tmp", 0755) < 0)
		return fail(c, errno, "mkdir /tmp");
	int rc = mount_tmpfs(c, NEWROOT "/tmp", MS_NOSUID | MS_NODEV | MS_NOEXEC, opts);
	if (rc == 0)
		rc = mount_tmpfs(c, NEWROOT "/dev/shm", MS_NOSUID | MS_NODEV | MS_NOEXEC, opts);
	return rc;
}

/* Make /newroot the root and detach the stage with everything still mounted in it, the
 * host's tree at /oldroot included: after this no path leads out of the view.
 * pivot_root(".", ".") stacks the old root (the stage) on the new one, and the lazy
 * umount of "." takes it off with its submounts (pivot_root(2)); one detach, not two:
 * each costs an RCU grace period (~10 ms). The caller's parent (C1) shares this mount
 * namespace and moves along; it only waits. */
static int step_switch(struct ctx *c)
{
	if (chdir(NEWROOT) < 0)
		return fail(c, errno, "chdir %s", NEWROOT);
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return fail(c, errno, "pivot_root into the new root");
	if (umount2(".", MNT_DETACH) < 0)
		return fail(c, errno, "detach the stage");
	if (chdir("/") < 0)
		return fail(c, errno, "chdir /");
	return 0;
}

/* The root tmpfs and /dev were writable while being filled: read-only now, so /work,
 * /tmp and /dev/shm are the only places a job can write. */
static int step_readonly(struct ctx *c)
{
	if (mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) <
	    0)
		return fail(c, errno, "remount / read-only");
	if (mount(NULL, "/dev", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NOEXEC,
	          NULL) < 0)
		return fail(c, errno, "remount /dev read-only");
	return 0;
}

/* A remount that silently did not apply would leave a writable runtime: check the flags
 * of every mount as the kernel reports them, while we can still fail cleanly. */
static int step_verify(struct ctx *c)
{
	struct {
		const char *path; /* NULL: not asked for */
		bool ro;
	} want[] = {
		{ "/", true },
		{ "/usr", true },
		{ "/dev", true },
		{ c->venv[0] ? c->p->venv : NULL, true },
		{ c->runtime[0] ? GQ_JAIL_RUNTIME : NULL, true },
		{ c->tests[0] ? GQ_JAIL_TESTS : NULL, true },
		{ c->work[0] ? GQ_JAIL_WORK : NULL, false },
		{ "/tmp", false },
		{ "/dev/shm", false },
	};
	for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
		struct statvfs sv;
		if (!want[i].path)
			continue;
		if (statvfs(want[i].path, &sv) < 0)
			return fail(c, errno, "statvfs %s", want[i].path);
		if (!(sv.f_flag & ST_NOSUID) || (bool)(sv.f_flag & ST_RDONLY) != want[i].ro)
			return fail(c, EPERM, "%s is not %s,nosuid", want[i].path,
			            want[i].ro ? "ro" : "rw");
	}
	return 0;
}

static int step_hostname(struct ctx *c)
{
	const char *name = c->p->hostname ? c->p->hostname : "sandbox";
	if (sethostname(name, strlen(name)) < 0)
		return fail(c, errno, "sethostname");
	return 0;
}

static int step_chdir(struct ctx *c)
{
	const char *dir = c->work[0] ? GQ_JAIL_WORK : "/";
	if (chdir(dir) < 0)
		return fail(c, errno, "chdir %s", dir);
	return 0;
}

static int step_umask_back(struct ctx *c)
{
	(void)umask(c->umask);
	return 0;
}

/* A session of its own: no controlling terminal (TIOCSTI needs one), its own process
 * group. Already a session leader (the caller did it) is fine. */
static int step_session(struct ctx *c)
{
	if (setsid() < 0 && getsid(0) != getpid())
		return fail(c, errno, "setsid");
	return 0;
}

static int add_rlimit(struct ctx *c, int res, const char *name, unsigned long long soft,
                      unsigned long long hard)
{
	struct rlimit rl = { .rlim_cur = (rlim_t)soft, .rlim_max = (rlim_t)hard };
	if (setrlimit((__rlimit_resource_t)res, &rl) < 0)
		return fail(c, errno, "setrlimit %s %llu", name, hard);
	return 0;
}

/* The same limits as the cold runner (sandbox_spawn.c plan_rlimits). Raising a hard
 * limit needs CAP_SYS_RESOURCE; a host without it fails here, visibly. */
static int step_rlimits(struct ctx *c)
{
	const struct gq_jail_params *p = c->p;
	const unsigned long long MiB = 1024ull * 1024;
	int rc = 0;
	if (!rc && p->cpu_s)
		rc = add_rlimit(c, RLIMIT_CPU, "cpu", p->cpu_s, (unsigned long long)p->cpu_s + 1);
	if (!rc && p->as_mb)
		rc = add_rlimit(c, RLIMIT_AS, "as", p->as_mb * MiB, p->as_mb * MiB);
	if (!rc && p->nofile)
		rc = add_rlimit(c, RLIMIT_NOFILE, "nofile", p->nofile, p->nofile);
	if (!rc && p->nproc)
		rc = add_rlimit(c, RLIMIT_NPROC, "nproc", p->nproc, p->nproc);
	if (!rc && p->fsize_mb)
		rc = add_rlimit(c, RLIMIT_FSIZE, "fsize", p->fsize_mb * MiB, p->fsize_mb * MiB);
	if (!rc && p->stack_mb)
		rc = add_rlimit(c, RLIMIT_STACK, "stack", p->stack_mb * MiB, p->stack_mb * MiB);
	if (!rc)
		rc = add_rlimit(c, RLIMIT_CORE, "core", 0, 0);
	return rc;
}

/* While still root (CAP_SETPCAP): empty the bounding set, so not even an exec of a
 * set-uid-root file could hand a capability back, and the ambient set. */
static int step_bounding(struct ctx *c)
{
	for (int cap = 0;; cap++) {
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0)
			continue;
		if (errno == EINVAL && cap > CAP_SETPCAP)
			break; /* past the kernel's last capability */
		return fail(c, errno, "drop capability %d from the bounding set", cap);
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return fail(c, errno, "clear the ambient capabilities");
	return 0;
}

/* Raw system calls: they change this thread only, without glibc's broadcast to other
 * threads (the caller has none; the probe's child must not rely on libc's thread list). */
static int step_ids(struct ctx *c)
{
	if (syscall(SYS_setgroups, 0, NULL) < 0)
		return fail(c, errno, "setgroups");
	if (syscall(SYS_setresgid, c->p->gid, c->p->gid, c->p->gid) < 0)
		return fail(c, errno, "setresgid %u", c->p->gid);
	if (syscall(SYS_setresuid, c->p->uid, c->p->uid, c->p->uid) < 0)
		return fail(c, errno, "setresuid %u", c->p->uid);
	if (getuid() != c->p->uid || geteuid() != c->p->uid || getgid() != c->p->gid ||
	    getegid() != c->p->gid)
		return fail(c, EPERM, "ids did not change");
	return 0;
}

/* The uid change cleared the effective and permitted sets; the inheritable one is
 * cleared here, then all of them, the bounding and the ambient sets are checked empty. */
static int step_caps(struct ctx *c)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];
	memset(data, 0, sizeof data);
	if (syscall(SYS_capset, &hdr, data) < 0)
		return fail(c, errno, "capset");
	if (syscall(SYS_capget, &hdr, data) < 0)
		return fail(c, errno, "capget");
	for (int i = 0; i < 2; i++)
		if (data[i].effective || data[i].permitted || data[i].inheritable)
			return fail(c, EPERM, "capabilities remain after the uid change");
	/* Up to the kernel's last capability (EINVAL past it), which may be newer than
	 * CAP_LAST_CAP of the headers we were built with. */
	for (int cap = 0;; cap++) {
		int in_bounding = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
		if (in_bounding < 0)
			break;
		if (in_bounding)
			return fail(c, EPERM, "capability %d remains in the bounding set", cap);
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, cap, 0, 0) > 0)
			return fail(c, EPERM, "capability %d remains in the ambient set", cap);
	}
	return 0;
}

/* no_new_privs: no exec gains privileges (set-uid files, file capabilities), and an
 * unprivileged process may install the seccomp filter.
 * dumpable 0: /proc/<pid> of the process is root's, nothing of the same uid may ptrace
 * it (the filter refuses ptrace anyway), and the kernel writes no core dump of it, not
 * even through a piped core_pattern (unless fs.suid_dumpable = 2, which dumps as root).
 * The process can still read its own /proc/self. An exec (of python by a subprocess)
 * makes the new image dumpable again: that process is as confined, only dumpable.
 * Parent-death SIGKILL (cleared by the uid change, so set after it): the sandbox dies
 * with the process that waits for it. */
static int step_prctl(struct ctx *c)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return fail(c, errno, "no_new_privs");
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return fail(c, errno, "dumpable 0");
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		return fail(c, errno, "parent-death signal");
	return 0;
}

/* System calls refused with EPERM (listed by name: a name this libseccomp or this
 * architecture does not know is skipped). Most need a capability the sandbox no longer
 * has; the filter is the second wall, and shuts kernel interfaces that are reachable
 * without one and have a record of exploits. */
static const char *const denied_calls[] = {
	/* the mount table and the root: the view stays as built */
	"mount",
	"umount",
	"umount2",
	"pivot_root",
	"chroot",
	"move_mount",
	"open_tree",
	"fsopen",
	"fsconfig",
	"fsmount",
	"fspick",
	"mount_setattr",
	/* other namespaces */
	"setns",
	/* other processes' memory and descriptors */
	"ptrace",
	"process_vm_readv",
	"process_vm_writev",
	"process_madvise",
	"kcmp",
	"pidfd_getfd",
	/* the kernel itself */
	"kexec_load",
	"kexec_file_load",
	"init_module",
	"finit_module",
	"delete_module",
	"reboot",
	"swapon",
	"swapoff",
	"acct",
	"quotactl",
	"quotactl_fd",
	"syslog",
	"vhangup",
	"iopl",
	"ioperm",
	"modify_ldt",
	"uselib",
	"lookup_dcookie",
	"settimeofday",
	"clock_settime",
	"clock_adjtime",
	"nfsservctl",
	/* large attack surfaces reachable without capabilities */
	"bpf",
	"perf_event_open",
	"userfaultfd",
	"io_uring_setup",
	"io_uring_enter",
	"io_uring_register",
	"keyctl",
	"add_key",
	"request_key",
	"fanotify_init",
	"open_by_handle_at",
	"name_to_handle_at",
	"migrate_pages",
	"move_pages",
};

/* The flags of clone(2)/unshare(2) that make namespaces: without CAP_SYS_ADMIN only a
 * user namespace could still be made, and inside one every other kind (and a root with
 * capabilities over them, the ground of many kernel exploits). */
static const unsigned long long ns_clone_flags[] = {
	CLONE_NEWUSER, CLONE_NEWNS,  CLONE_NEWPID,    CLONE_NEWNET,
	CLONE_NEWUTS,  CLONE_NEWIPC, CLONE_NEWCGROUP,
};

static int add_rule(scmp_filter_ctx f, uint32_t action, const char *name, unsigned nargs,
                    const struct scmp_arg_cmp *args)
{
	int nr = seccomp_syscall_resolve_name(name);
	if (nr == __NR_SCMP_ERROR)
		return 0;
	return seccomp_rule_add_array(f, action, nr, nargs, args);
}

static int build_filter(scmp_filter_ctx f)
{
	int rc;
	/* Calls of another ABI (i386 int 0x80, x32) kill the process: the filter is
	 * written for the native one (libseccomp sends x32 to the bad-arch action too). */
	if ((rc = seccomp_attr_set(f, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS)) < 0)
		return rc;
	for (size_t i = 0; i < sizeof denied_calls / sizeof *denied_calls; i++)
		if ((rc = add_rule(f, SCMP_ACT_ERRNO(EPERM), denied_calls[i], 0, NULL)) < 0)
			return rc;
	for (size_t i = 0; i < sizeof ns_clone_flags / sizeof *ns_clone_flags; i++) {
		struct scmp_arg_cmp a =
			SCMP_A0(SCMP_CMP_MASKED_EQ, ns_clone_flags[i], ns_clone_flags[i]);
		if ((rc = add_rule(f, SCMP_ACT_ERRNO(EPERM), "unshare", 1, &a)) < 0 ||
		    (rc = add_rule(f, SCMP_ACT_ERRNO(EPERM), "clone", 1, &a)) < 0)
			return rc;
	}
	struct scmp_arg_cmp a;
	a = (struct scmp_arg_cmp)SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NEWTIME, CLONE_NEWTIME);
	if ((rc = add_rule(f, SCMP_ACT_ERRNO(EPERM), "unshare", 1, &a)) < 0)
		return rc;
	/* clone3 passes its flags in memory a filter cannot read: ENOSYS makes glibc fall
	 * back to clone, whose flags are checked above. */
	if ((rc = add_rule(f, SCMP_ACT_ERRNO(ENOSYS), "clone3", 0, NULL)) < 0)
		return rc;
	/* Only the plain Linux personality (ADDR_NO_RANDOMIZE, READ_IMPLIES_EXEC, ... would
	 * undo mitigations); the query form 0xffffffff is refused as well. */
	a = (struct scmp_arg_cmp)SCMP_A0(SCMP_CMP_NE, PER_LINUX);
	if ((rc = add_rule(f, SCMP_ACT_ERRNO(EPERM), "personality", 1, &a)) < 0)
		return rc;
	/* Terminal input injection and console ioctls (the kernel reads the request as 32
	 * bits, so the comparison masks the upper half away). */
	static const unsigned long tty_ioctls[] = { TIOCSTI, TIOCLINUX, TIOCSETD };
	for (size_t i = 0; i < sizeof tty_ioctls / sizeof *tty_ioctls; i++) {
		a = (struct scmp_arg_cmp)SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, tty_ioctls[i]);
		if ((rc = add_rule(f, SCMP_ACT_ERRNO(EPERM), "ioctl", 1, &a)) < 0)
			return rc;
	}
	/* Sockets: local (AF_UNIX) and IP only (no route anyway); the rarely used families
	 * (packet, netlink, vsock, AF_ALG, X.25, ...) carry much of the kernel's socket
	 * bugs. A domain with upper bits set is above AF_INET6 as a 64-bit value. */
	static const char *const sock_calls[] = { "socket", "socketpair" };
	for (size_t s = 0; s < 2; s++) {
		a = (struct scmp_arg_cmp)SCMP_A0(SCMP_CMP_GT, AF_INET6);
		if ((rc = add_rule(f, SCMP_ACT_ERRNO(EAFNOSUPPORT), sock_calls[s], 1, &a)) < 0)
			return rc;
		for (int dom = AF_INET + 1; dom < AF_INET6; dom++) {
			a = (struct scmp_arg_cmp)SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)dom);
			if ((rc = add_rule(f, SCMP_ACT_ERRNO(EAFNOSUPPORT), sock_calls[s], 1, &a)) <
			    0)
				return rc;
		}
	}
	return 0;
}

/* Last: the filter also refuses mount and friends the steps above needed. Default
 * ALLOW (the runtime's needs are broad and change with the libraries), listed calls
 * fail; it stays on every descendant. */
static int step_seccomp(struct ctx *c)
{
	scmp_filter_ctx f = seccomp_init(SCMP_ACT_ALLOW);
	if (!f)
		return fail(c, ENOMEM, "seccomp_init");
	int rc = build_filter(f);
	if (rc == 0)
		rc = seccomp_load(f);
	seccomp_release(f);
	return rc < 0 ? fail(c, -rc, "seccomp filter") : 0;
}

static const struct {
	const char *name;
	jail_step fn;
} enter_steps[] = {
	{ "check", step_check },       { "umask", step_umask },       { "fds", step_fds },
	{ "resolve", step_resolve },   { "private", step_private },   { "stage", step_stage },
	{ "usr", step_usr },           { "toplevel", step_toplevel }, { "etc", step_etc },
	{ "python", step_python },     { "tests", step_tests },       { "work", step_work },
	{ "proc", step_proc },         { "dev", step_dev },           { "tmp", step_tmp },
	{ "switch", step_switch },     { "readonly", step_readonly }, { "verify", step_verify },
	{ "hostname", step_hostname }, { "chdir", step_chdir },       { "umask", step_umask_back },
	{ "session", step_session },   { "rlimits", step_rlimits },   { "bounding", step_bounding },
	{ "ids", step_ids },           { "caps", step_caps },         { "prctl", step_prctl },
	{ "seccomp", step_seccomp },
};

GQ_EXPORT int gq_jail_enter(const struct gq_jail_params *p, char *err, size_t errlen)
{
	static struct ctx c; /* PATH_MAX buffers; one sandbox per process */
	memset(&c, 0, sizeof c);
	if (!p) {
		set_err(err, errlen, "jail: no params");
		return -EINVAL;
	}
	char why[512] = "";
	c.p = p;
	c.err = why;
	c.errlen = sizeof why;
	for (size_t i = 0; i < sizeof enter_steps / sizeof *enter_steps; i++) {
		int rc = enter_steps[i].fn(&c);
		if (rc < 0) {
			set_err(err, errlen, "jail %s: %s", enter_steps[i].name, why);
			return rc;
		}
	}
	return 0;
}

/* -- cgroup join and unshare ---------------------------------------------------------- */

GQ_EXPORT int gq_jail_cgroup_join(const char *const *procs, unsigned n, char *err, size_t errlen)
{
	if (n && !procs) {
		set_err(err, errlen, "cgroup join: no paths");
		return -EINVAL;
	}
	for (unsigned i = 0; i < n; i++) {
		const char *path = procs[i];
		const char *base = path ? strrchr(path, '/') : NULL;
		if (!path || path[0] != '/' || !base || strcmp(base, "/cgroup.procs") != 0) {
			set_err(err, errlen,
			        "cgroup join: '%s' is not an absolute .../cgroup.procs",
			        path ? path : "(null)");
			return -EINVAL;
		}
		int fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0) {
			int e = errno;
			set_err(err, errlen, "cgroup join: open %s: %s", path, strerror(e));
			return -e;
		}
		ssize_t w;
		do
			w = write(fd, "0\n", 2);
		while (w < 0 && errno == EINTR);
		int e = w == 2 ? 0 : w < 0 ? errno : EIO;
		close(fd);
		if (e) {
			set_err(err, errlen, "cgroup join: write %s: %s", path, strerror(e));
			return -e;
		}
	}
	return 0;
}

GQ_EXPORT int gq_jail_unshare(char *err, size_t errlen)
{
	if (unshare(NS_FLAGS) < 0) {
		int e = errno;
		set_err(err, errlen, "unshare namespaces: %s", strerror(e));
		return -e;
	}
	return 0;
}

GQ_EXPORT const char *gq_jail_abi(void)
{
	return "gradeq-jail " GRADEQ_VERSION " abi 1";
}

/* -- probe ---------------------------------------------------------------------------- */

/* Number of threads of this process, or -errno. */
static int count_threads(void)
{
	DIR *d = opendir("/proc/self/task");
	if (!d)
		return -errno;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* The report of the probe's grandchild: "<errno> <reason>", errno 0 for success. */
static void report(int fd, int e, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void report(int fd, int e, const char *fmt, ...)
{
	char msg[600];
	int n = snprintf(msg, sizeof msg, "%d ", e);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
	va_end(ap);
	(void)!write(fd, msg, strlen(msg));
}

/* Checks, from inside, what the sandbox promises; returns 0 or an errno. */
static int probe_checks(const struct gq_jail_params *p, int fd)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];
	if (getuid() != p->uid || geteuid() != p->uid || getgid() != p->gid ||
	    getgroups(0, NULL) != 0) {
		report(fd, EPERM, "ids: uid %u gid %u", (unsigned)getuid(), (unsigned)getgid());
		return EPERM;
	}
	if (getpid() != 1) {
		report(fd, EPERM, "not pid 1 of its pid namespace (pid %d)", (int)getpid());
		return EPERM;
	}
	if (syscall(SYS_capget, &hdr, data) < 0 || data[0].effective || data[0].permitted ||
	    data[1].effective || data[1].permitted) {
		report(fd, EPERM, "capabilities remain");
		return EPERM;
	}
	int w = open("/.gq-probe", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (w >= 0 || errno != EROFS) {
		report(fd, EPERM, "the root is writable (%s)",
		       w >= 0 ? "created a file" : strerror(errno));
		return EPERM;
	}
	if (unshare(CLONE_NEWUSER) == 0 || errno != EPERM) {
		report(fd, EPERM, "a user namespace can be made");
		return EPERM;
	}
	if (mount("none", "/tmp", "tmpfs", 0, NULL) == 0 || errno != EPERM) {
		report(fd, EPERM, "mount is not refused");
		return EPERM;
	}
	report(fd, 0, "ok");
	return 0;
}

__attribute__((noreturn)) static void probe_child(const struct gq_jail_params *p, int fd)
{
	char why[512];
	int rc = prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 ? -errno : 0;
	if (rc < 0)
		snprintf(why, sizeof why, "parent-death signal: %s", strerror(-rc));
	else
		rc = gq_jail_unshare(why, sizeof why);
	if (rc < 0) {
		report(fd, -rc, "%s", why);
		_exit(1);
	}
	pid_t pid = fork();
	if (pid < 0) {
		report(fd, errno, "fork in the new pid namespace: %s", strerror(errno));
		_exit(1);
	}
	if (pid == 0) {
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		struct gq_jail_params q = *p;
		q.keep_fds = &fd;
		q.nkeep = 1;
		rc = gq_jail_enter(&q, why, sizeof why);
		if (rc < 0) {
			report(fd, -rc, "%s", why);
			_exit(1);
		}
		_exit(probe_checks(p, fd) ? 1 : 0);
	}
	close(fd);
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	_exit(0);
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

GQ_EXPORT int gq_jail_probe(const struct gq_jail_params *p, char *err, size_t errlen)
{
	if (!p) {
		set_err(err, errlen, "jail probe: no params");
		return -EINVAL;
	}
	int nthreads = count_threads();
	if (nthreads != 1) {
		set_err(err, errlen, "jail probe: must run before any other thread exists (%d)",
		        nthreads);
		return nthreads < 0 ? nthreads : -EBUSY;
	}
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) < 0) {
		int e = errno;
		set_err(err, errlen, "jail probe: pipe: %s", strerror(e));
		return -e;
	}
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(fds[0]);
		close(fds[1]);
		set_err(err, errlen, "jail probe: fork: %s", strerror(e));
		return -e;
	}
	if (pid == 0) {
		close(fds[0]);
		probe_child(p, fds[1]);
	}
	close(fds[1]);

	char msg[640];
	size_t len = 0;
	bool timed_out = false;
	long long deadline = now_ms() + GQ_JAIL_PROBE_TIMEOUT_S * 1000LL;
	for (;;) {
		long long left = deadline - now_ms();
		if (left <= 0) {
			timed_out = true;
			break;
		}
		struct pollfd pfd = { .fd = fds[0], .events = POLLIN };
		int r = poll(&pfd, 1, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			timed_out = r == 0;
			break;
		}
		ssize_t n = read(fds[0], msg + len, sizeof msg - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || (len += (size_t)n) == sizeof msg - 1)
			break;
	}
	msg[len] = '\0';
	close(fds[0]);
	if (timed_out)
		(void)kill(pid, SIGKILL); /* the grandchild has a parent-death SIGKILL */
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (timed_out) {
		set_err(err, errlen, "jail probe: no answer within %d s", GQ_JAIL_PROBE_TIMEOUT_S);
		return -ETIMEDOUT;
	}
	char *end;
	long e = strtol(msg, &end, 10);
	if (end == msg || *end != ' ' || e < 0 || e > 4095) {
		set_err(err, errlen, "jail probe: the sandboxed child died without a report");
		return -ECHILD;
	}
	if (e) {
		set_err(err, errlen, "jail probe: %s", end + 1);
		return (int)-e;
	}
	return 0;
}
