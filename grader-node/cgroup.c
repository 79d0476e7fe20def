/* cgroup.c - per-job cgroups on v1 and v2, see cgroup.h. */
#include "cgroup.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* v1 hierarchies we use; v2 keeps its one directory in slot 0. */
enum { CTL_MEMORY, CTL_PIDS, CTL_CPU, CTL_FREEZER, CTL_CPUACCT, CG_NCTL };
static const char *const ctl_names[CG_NCTL] = { "memory", "pids", "cpu", "freezer", "cpuacct" };

struct cg_root {
	enum cg_mode mode;
	char *parent[CG_NCTL]; /* v1: per hierarchy (NULL: not mounted); v2: [0] */
	bool v2_cpu;           /* v2: cpu controller enabled for jobs */
};

struct cg_job {
	struct cg_root *root;
	char *dir[CG_NCTL]; /* NULL: absent, or the same directory as an earlier slot */
};

/* -- small file helpers ----------------------------------------------------------- */

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t len = strlen(s);
	ssize_t n = write(fd, s, len);
	int rc = n < 0 ? -errno : (size_t)n == len ? 0 : -EIO;
	close(fd);
	return rc;
}

static int write_at(const char *dir, const char *file, const char *s)
{
	char path[PATH_MAX];
	if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, file) >= sizeof path)
		return -ENAMETOOLONG;
	return write_str(path, s);
}

/* Reads a small (pseudo-)file into buf, NUL-terminated. Returns length or -errno. */
static ssize_t read_small(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t off = 0;
	while (off + 1 < size) {
		ssize_t n = read(fd, buf + off, size - 1 - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int e = -errno;
			close(fd);
			return e;
		}
		if (n == 0)
			break;
		off += (size_t)n;
	}
	buf[off] = '\0';
	close(fd);
	return (ssize_t)off;
}

static ssize_t read_at(const char *dir, const char *file, char *buf, size_t size)
{
	char path[PATH_MAX];
	if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, file) >= sizeof path)
		return -ENAMETOOLONG;
	return read_small(path, buf, size);
}

/* Value of "key N" in a flat-keyed file (memory.events, memory.oom_control). */
static long long keyed_value(const char *text, const char *key)
{
	size_t klen = strlen(key);
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncmp(p, key, klen) == 0 && p[klen] == ' ')
			return strtoll(p + klen + 1, NULL, 10);
	}
	return -1;
}

static char *join_path(const char *a, const char *b, const char *c)
{
	char path[PATH_MAX];
	/* a is a mount point, b the cgroup path ("/..."), c a name or NULL */
	int n = snprintf(path, sizeof path, "%s%s%s%s", a, strcmp(b, "/") == 0 ? "" : b,
	                 c ? "/" : "", c ? c : "");
	if (n < 0 || (size_t)n >= sizeof path)
		return NULL;
	return strdup(path);
}

/* -- discovery: /proc/self/mountinfo and /proc/self/cgroup ------------------------ */

struct mnt {
	char point[PATH_MAX];
	char root[PATH_MAX];
};

/* Undoes mountinfo's octal escapes (\040 for a space) in place. */
static void unescape(char *s)
{
	char *w = s;
	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '7' && r[2] >= '0' && r[2] <= '7' &&
		    r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)(((r[1] - '0') << 6) | ((r[2] - '0') << 3) | (r[3] - '0'));
			r += 3;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
}

static bool has_opt(const char *opts, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = opts; p; p = strchr(p, ','), p = p ? p + 1 : NULL)
		if (strncmp(p, name, n) == 0 && (p[n] == ',' || p[n] == '\0' || p[n] == '\n'))
			return true;
	return false;
}

/* Finds the cgroup mount: fstype "cgroup2" (ctl NULL) or "cgroup" carrying ctl. */
static int find_mount(const char *ctl, struct mnt *out)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return -errno;
	char line[4096];
	int rc = -ENOENT;
	while (fgets(line, sizeof line, f)) {
		char *sep = strstr(line, " - ");
		if (!sep)
			continue;
		*sep = '\0';
		char fstype[32], source[256], superopts[1024];
		if (sscanf(sep + 3, "%31s %255s %1023s", fstype, source, superopts) != 3)
			continue;
		if (ctl ? strcmp(fstype, "cgroup") != 0 || !has_opt(superopts, ctl)
		        : strcmp(fstype, "cgroup2") != 0)
			continue;
		char root[PATH_MAX], point[PATH_MAX];
		if (sscanf(line, "%*s %*s %*s %4095s %4095s", root, point) != 2)
			continue;
		unescape(root);
		unescape(point);
		snprintf(out->root, sizeof out->root, "%s", root);
		snprintf(out->point, sizeof out->point, "%s", point);
		rc = 0;
		break;
	}
	fclose(f);
	return rc;
}

int cg_parse_own(const char *text, const char *ctl, char *out, size_t outlen)
{
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		/* "id:controllers:path"; v2's line is "0::path" */
		size_t len = strcspn(p, "\n");
		char line[4096];
		if (len >= sizeof line)
			continue;
		memcpy(line, p, len);
		line[len] = '\0';
		char *c1 = strchr(line, ':');
		char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		*c1 = '\0';
		*c2 = '\0';
		bool match = ctl ? has_opt(c1 + 1, ctl) : (strcmp(line, "0") == 0 && c1[1] == '\0');
		if (!match)
			continue;
		if ((size_t)snprintf(out, outlen, "%s", c2 + 1) >= outlen)
			return -ENAMETOOLONG;
		return 0;
	}
	return -ENOENT;
}

/* The node's own cgroup path in the hierarchy of ctl (NULL: the v2 "0::" line). */
static int own_path(const char *ctl, char *out, size_t outlen)
{
	char text[8192];
	ssize_t n = read_small("/proc/self/cgroup", text, sizeof text);
	if (n < 0)
		return (int)n;
	return cg_parse_own(text, ctl, out, outlen);
}

/* Directory of the node's own cgroup for ctl: mount point + own path relative to the
 * mount's root. Falls back to the mount point when the path is not visible there
 * (e.g. a cgroup namespace whose root differs from the mount). */
static char *own_dir(const char *ctl, char *err, size_t errlen)
{
	struct mnt m;
	char own[PATH_MAX];
	if (find_mount(ctl, &m) < 0 || own_path(ctl, own, sizeof own) < 0) {
		snprintf(err, errlen, "no %s cgroup hierarchy", ctl ? ctl : "v2");
		return NULL;
	}
	const char *rel = own;
	size_t rl = strlen(m.root);
	if (strcmp(m.root, "/") != 0) {
		if (strncmp(own, m.root, rl) == 0 && (own[rl] == '/' || own[rl] == '\0'))
			rel = own[rl] ? own + rl : "/";
		else
			rel = "/";
	}
	char *dir = join_path(m.point, rel, NULL);
	struct stat st;
	if (dir && (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))) {
		free(dir);
		dir = strdup(m.point);
	}
	if (!dir)
		snprintf(err, errlen, "out of memory");
	return dir;
}

static int mkdir_ok(const char *path)
{
	if (mkdir(path, 0755) == 0 || errno == EEXIST)
		return 0;
	return -errno;
}

static bool word_in(const char *list, const char *word)
{
	size_t n = strlen(word);
	for (const char *p = list; (p = strstr(p, word)) != NULL; p += n)
		if ((p == list || isspace((unsigned char)p[-1])) &&
		    (p[n] == '\0' || isspace((unsigned char)p[n])))
			return true;
	return false;
}

/* -- detection ------------------------------------------------------------------------ */

static int detect_v1(struct cg_root *r, const char *parent, char *err, size_t errlen)
{
	for (int c = 0; c < CG_NCTL; c++) {
		char e2[128];
		char *own = own_dir(ctl_names[c], e2, sizeof e2);
		if (!own) {
			if (c == CTL_MEMORY || c == CTL_PIDS) {
				snprintf(err, errlen, "cgroup v1: %s", e2);
				return -ENOENT;
			}
			continue; /* cpu, freezer and cpuacct are optional */
		}
		r->parent[c] = join_path(own, "/", parent);
		free(own);
		if (!r->parent[c])
			return -ENOMEM;
		int rc = mkdir_ok(r->parent[c]);
		if (rc < 0) {
			if (c == CTL_MEMORY || c == CTL_PIDS) {
				snprintf(err, errlen, "cgroup v1: mkdir %s: %s", r->parent[c],
				         strerror(-rc));
				return rc;
			}
			free(r->parent[c]);
			r->parent[c] = NULL;
			continue;
		}
		if (c == CTL_MEMORY) /* hierarchical accounting; the default on newer kernels */
			(void)write_at(r->parent[c], "memory.use_hierarchy", "1");
	}
	r->mode = CG_V1;
	return 0;
}

/* Enables memory, pids (required) and cpu (optional) for dir's children. */
static int v2_enable(struct cg_root *r, const char *dir)
{
	char avail[512];
	if (read_at(dir, "cgroup.controllers", avail, sizeof avail) < 0)
		return -ENOENT;
	if (!word_in(avail, "memory") || !word_in(avail, "pids"))
		return -EOPNOTSUPP;
	int rc = write_at(dir, "cgroup.subtree_control", "+memory +pids");
	if (rc < 0)
		return rc;
	r->v2_cpu = word_in(avail, "cpu") && write_at(dir, "cgroup.subtree_control", "+cpu") == 0;
	return 0;
}

/* Pids in dir/cgroup.procs other than ours, as " 12 34" (at most a few) into buf; the
 * count, or -errno. */
static int other_pids(const char *dir, char *buf, size_t len)
{
	char path[PATH_MAX];
	if ((size_t)snprintf(path, sizeof path, "%s/cgroup.procs", dir) >= sizeof path)
		return -ENAMETOOLONG;
	FILE *f = fopen(path, "re");
	if (!f)
		return -errno;
	int n = 0;
	long pid;
	size_t off = 0;
	buf[0] = '\0';
	while (fscanf(f, "%ld", &pid) == 1) {
		if (pid == (long)getpid())
			continue;
		if (n++ < 4 && off < len) {
			int w = snprintf(buf + off, len - off, " %ld", pid);
			off += w > 0 ? (size_t)w : 0;
		}
	}
	fclose(f);
	return n;
}

static int detect_v2(struct cg_root *r, const char *parent, char *err, size_t errlen)
{
	char *own = own_dir(NULL, err, errlen);
	if (!own)
		return -ENOENT;
	char *leaf = NULL;
	int rc = v2_enable(r, own);
	if (rc == -EBUSY) {
		/* "no internal processes": the node's cgroup holds the node, so the node moves
		 * into a leaf of its own before the controllers can be delegated. That only
		 * helps when the node is alone there. */
		char name[128], others[64];
		int n = other_pids(own, others, sizeof others);
		if (n > 0) {
			snprintf(err, errlen,
			         "cgroup v2: %s holds other processes besides this one (pids%s%s), "
			         "so no job cgroups can be made below it: run the node in a "
			         "cgroup of its own (a systemd unit with Delegate=yes, or "
			         "systemd-run --scope -p Delegate=yes)",
			         own, others, n > 4 ? " ..." : "");
			free(own);
			return -EBUSY;
		}
		snprintf(name, sizeof name, "%s.node", parent);
		leaf = join_path(own, "/", name);
		char pid[32];
		snprintf(pid, sizeof pid, "%d", (int)getpid());
		rc = !leaf ? -ENOMEM : mkdir_ok(leaf);
		if (rc == 0)
			rc = write_at(leaf, "cgroup.procs", pid);
		if (rc == 0)
			rc = v2_enable(r, own);
	}
	if (rc < 0) {
		char avail[256] = "";
		(void)read_at(own, "cgroup.controllers", avail, sizeof avail);
		avail[strcspn(avail, "\n")] = '\0';
		if (rc == -EOPNOTSUPP || rc == -ENOENT)
			snprintf(err, errlen,
			         "cgroup v2: the memory and pids controllers are not available "
			         "in %s (its cgroup.controllers: '%s'): delegate them to the "
			         "node (Delegate=yes)",
			         own, avail);
		else
			snprintf(err, errlen, "cgroup v2: cannot enable memory+pids below %s: %s",
			         own, strerror(-rc));
		free(leaf);
		free(own);
		return rc;
	}
	free(leaf);
	r->parent[0] = join_path(own, "/", parent);
	free(own);
	if (!r->parent[0])
		return -ENOMEM;
	rc = mkdir_ok(r->parent[0]);
	if (rc == 0)
		rc = v2_enable(r, r->parent[0]);
	if (rc < 0) {
		snprintf(err, errlen, "cgroup v2: %s: %s", r->parent[0], strerror(-rc));
		return rc;
	}
	r->mode = CG_V2;
	return 0;
}

/* The unified hierarchy's mount when it carries memory and pids (a v2 host), else -1. */
static int v2_mount(struct mnt *m)
{
	char avail[512];
	if (find_mount(NULL, m) < 0 ||
	    read_at(m->point, "cgroup.controllers", avail, sizeof avail) < 0)
		return -1;
	return word_in(avail, "memory") && word_in(avail, "pids") ? 0 : -1;
}

int cg_v2_own_dir(char *out, size_t outlen)
{
	struct mnt m;
	char e[128];
	if (v2_mount(&m) < 0)
		return 0;
	char *own = own_dir(NULL, e, sizeof e);
	if (!own)
		return -ENOENT;
	snprintf(out, outlen, "%s", own);
	int root = strcmp(own, m.point) == 0;
	free(own);
	return root ? 2 : 1;
}

int cg_detect(const char *parent, struct cg_root **out, char *err, size_t errlen)
{
	struct cg_root *r = calloc(1, sizeof *r);
	if (!r) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	/* v2 when the unified hierarchy carries memory and pids (pure v2, or a hybrid where
	 * they were moved there); else the v1 hierarchies (hybrid with v1 controllers). */
	struct mnt m;
	bool v2 = v2_mount(&m) == 0;
	int rc = v2 ? detect_v2(r, parent, err, errlen) : detect_v1(r, parent, err, errlen);
	if (rc < 0) {
		cg_root_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

enum cg_mode cg_mode(const struct cg_root *root)
{
	return root ? root->mode : CG_NONE;
}

const char *cg_mode_name(enum cg_mode m)
{
	return m == CG_V1 ? "v1" : m == CG_V2 ? "v2" : "none";
}

const char *cg_root_path(const struct cg_root *root)
{
	if (!root)
		return "";
	return root->mode == CG_V1 ? root->parent[CTL_PIDS] : root->parent[0];
}

void cg_root_free(struct cg_root *root)
{
	if (!root)
		return;
	for (int c = 0; c < CG_NCTL; c++)
		free(root->parent[c]);
	free(root);
}

/* -- jobs ----------------------------------------------------------------------------- */

/* The directory listing the job's processes. */
static const char *procs_dir(const struct cg_job *job)
{
	return job->root->mode == CG_V1 ? job->dir[CTL_PIDS] : job->dir[0];
}

static void job_free(struct cg_job *job)
{
	for (int c = 0; c < CG_NCTL; c++)
		free(job->dir[c]);
	free(job);
}

static int rmdir_all(struct cg_job *job)
{
	int rc = 0;
	for (int c = CG_NCTL - 1; c >= 0; c--) {
		if (!job->dir[c])
			continue;
		/* a cgroup whose last task just exited can report EBUSY for a moment */
		for (int i = 0; i < 50 && rmdir(job->dir[c]) < 0; i++) {
			if (errno == ENOENT)
				break;
			if (errno != EBUSY || i == 49) {
				rc = -errno;
				break;
			}
			usleep(2000);
		}
	}
	return rc;
}

static int set_limits(struct cg_job *job, const struct cg_limits *lim)
{
	char v[32];
	int rc;
	if (job->root->mode == CG_V2) {
		const char *d = job->dir[0];
		if (lim->memory_bytes) {
			snprintf(v, sizeof v, "%llu", (unsigned long long)lim->memory_bytes);
			if ((rc = write_at(d, "memory.max", v)) < 0)
				return rc;
			(void)write_at(d, "memory.swap.max",
			               "0"); /* absent without swap accounting */
		}
		/* single-process runs: an OOM kill takes the whole job; two-process runs: the
		 * kernel picks the student process (oom_score_adj 1000), and the tests process
		 * goes on to report */
		(void)write_at(d, "memory.oom.group", lim->oom_group ? "1" : "0");
		snprintf(v, sizeof v, "%u", lim->pids_max);
		if ((rc = write_at(d, "pids.max", lim->pids_max ? v : "max")) < 0)
			return rc;
		if (lim->cpu_weight && job->root->v2_cpu) {
			snprintf(v, sizeof v, "%u", lim->cpu_weight);
			(void)write_at(d, "cpu.weight", v);
		}
		return 0;
	}
	if (lim->memory_bytes) {
		snprintf(v, sizeof v, "%llu", (unsigned long long)lim->memory_bytes);
		if ((rc = write_at(job->dir[CTL_MEMORY], "memory.limit_in_bytes", v)) < 0)
			return rc;
		/* memory+swap = memory: no swapping out of the limit (absent without swap
		 * accounting, which is fine: then there is nothing to escape to) */
		rc = write_at(job->dir[CTL_MEMORY], "memory.memsw.limit_in_bytes", v);
		if (rc < 0 && rc != -ENOENT)
			return rc;
	}
	snprintf(v, sizeof v, "%u", lim->pids_max);
	if ((rc = write_at(job->dir[CTL_PIDS], "pids.max", lim->pids_max ? v : "max")) < 0)
		return rc;
	if (lim->cpu_weight && job->dir[CTL_CPU]) {
		unsigned shares = lim->cpu_weight * 1024u / 100u;
		snprintf(v, sizeof v, "%u", shares < 2 ? 2 : shares);
		(void)write_at(job->dir[CTL_CPU], "cpu.shares", v);
	}
	return 0;
}

int cg_create(struct cg_root *root, const char *name, const struct cg_limits *lim,
              struct cg_job **out, char *err, size_t errlen)
{
	if (!root || root->mode == CG_NONE) {
		snprintf(err, errlen, "no cgroup hierarchy");
		return -EINVAL;
	}
	struct cg_job *job = calloc(1, sizeof *job);
	if (!job) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	job->root = root;
	int rc = 0;
	for (int c = 0; c < CG_NCTL; c++) {
		if (!root->parent[c])
			continue;
		bool dup = false; /* co-mounted controllers share a directory */
		for (int d = 0; d < c; d++)
			dup |= root->parent[d] && strcmp(root->parent[d], root->parent[c]) == 0;
		if (dup)
			continue;
		if (!(job->dir[c] = join_path(root->parent[c], "/", name))) {
			rc = -ENOMEM;
			break;
		}
	}
	if (rc == 0) {
		/* a leftover of a crashed run with this name: empty it, then start afresh */
		struct stat st;
		if (stat(procs_dir(job), &st) == 0) {
			for (int i = 0; i < 100 && cg_empty(job) == 0; i++) {
				cg_kill(job);
				usleep(10000);
			}
			(void)rmdir_all(job);
		}
		for (int c = 0; c < CG_NCTL && rc == 0; c++)
			if (job->dir[c] && mkdir(job->dir[c], 0755) < 0)
				rc = -errno;
		if (rc < 0)
			snprintf(err, errlen, "mkdir job cgroup: %s", strerror(-rc));
	}
	if (rc == 0 && (rc = set_limits(job, lim)) < 0)
		snprintf(err, errlen, "job cgroup limits: %s", strerror(-rc));
	if (rc < 0) {
		(void)rmdir_all(job);
		job_free(job);
		return rc;
	}
	*out = job;
	return 0;
}

int cg_attach(struct cg_job *job, pid_t pid)
{
	char v[32];
	snprintf(v, sizeof v, "%d", (int)pid);
	for (int c = 0; c < CG_NCTL; c++) {
		if (!job->dir[c])
			continue;
		int rc = write_at(job->dir[c], "cgroup.procs", v);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int cg_cpu_usec(struct cg_job *job, uint64_t *out)
{
	char path[PATH_MAX], buf[512];
	if (job->root->mode == CG_V2) {
		snprintf(path, sizeof path, "%s/cpu.stat", job->dir[0]);
	} else {
		const char *d = job->dir[CTL_CPUACCT] ? job->dir[CTL_CPUACCT] : job->dir[CTL_CPU];
		if (!d)
			return -ENOENT;
		snprintf(path, sizeof path, "%s/cpuacct.usage", d);
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	unsigned long long v;
	if (job->root->mode == CG_V2) {
		const char *p = strstr(buf, "usage_usec ");
		if (!p || sscanf(p + 11, "%llu", &v) != 1)
			return -EBADMSG;
		*out = v;
	} else {
		if (sscanf(buf, "%llu", &v) != 1)
			return -EBADMSG;
		*out = v / 1000; /* ns */
	}
	return 0;
}

size_t cg_dirs(const struct cg_job *job, const char **dirs, size_t max)
{
	size_t n = 0;
	for (int c = 0; c < CG_NCTL && n < max; c++)
		if (job->dir[c])
			dirs[n++] = job->dir[c];
	return n;
}

/* Signals every pid listed in the job's cgroup.procs. */
static int kill_listed(struct cg_job *job)
{
	char path[PATH_MAX];
	if ((size_t)snprintf(path, sizeof path, "%s/cgroup.procs", procs_dir(job)) >= sizeof path)
		return -ENAMETOOLONG;
	FILE *f = fopen(path, "re");
	if (!f)
		return -errno;
	int n = 0;
	long pid;
	pid_t self = getpid();
	while (fscanf(f, "%ld", &pid) == 1) {
		if (pid <= 1 || pid == self) /* never the node, never init */
			continue;
		if (kill((pid_t)pid, SIGKILL) == 0)
			n++;
	}
	fclose(f);
	return n;
}

int cg_kill(struct cg_job *job)
{
	if (job->root->mode == CG_V2) {
		int rc = write_at(job->dir[0], "cgroup.kill", "1"); /* Linux 5.14+ */
		if (rc == 0)
			return 0;
		return kill_listed(job);
	}
	const char *fz = job->dir[CTL_FREEZER];
	bool frozen = fz && write_at(fz, "freezer.state", "FROZEN") == 0;
	int n = kill_listed(job);
	if (frozen) /* v1: a frozen task does not die until thawed */
		(void)write_at(fz, "freezer.state", "THAWED");
	return n;
}

int cg_empty(struct cg_job *job)
{
	char buf[64];
	ssize_t n;
	if (job->root->mode == CG_V2) {
		char ev[256];
		n = read_at(job->dir[0], "cgroup.events", ev, sizeof ev);
		if (n >= 0) {
			long long p = keyed_value(ev, "populated");
			if (p >= 0)
				return p == 0;
		}
	}
	n = read_at(procs_dir(job), "cgroup.procs", buf, sizeof buf);
	if (n < 0)
		return (int)n;
	for (ssize_t i = 0; i < n; i++)
		if (isdigit((unsigned char)buf[i]))
			return 0;
	return 1;
}

int cg_oom(struct cg_job *job)
{
	char buf[1024];
	if (job->root->mode == CG_V2) {
		if (read_at(job->dir[0], "memory.events", buf, sizeof buf) < 0)
			return 0;
		return keyed_value(buf, "oom_kill") > 0 || keyed_value(buf, "oom_group_kill") > 0;
	}
	const char *d = job->dir[CTL_MEMORY];
	if (read_at(d, "memory.oom_control", buf, sizeof buf) >= 0) {
		long long k = keyed_value(buf, "oom_kill");
		if (k >= 0)
			return k > 0;
	}
	/* kernels before 4.13 have no oom_kill count: the limit was hit at all */
	if (read_at(d, "memory.failcnt", buf, sizeof buf) >= 0)
		return strtoll(buf, NULL, 10) > 0;
	return 0;
}

int cg_memory_full(struct cg_job *job)
{
	char stat[4096], lim[64];
	const char *d = job->root->mode == CG_V2 ? job->dir[0] : job->dir[CTL_MEMORY];
	if (!d)
		return 0;
	bool v2 = job->root->mode == CG_V2;
	if (read_at(d, v2 ? "memory.max" : "memory.limit_in_bytes", lim, sizeof lim) < 0 ||
	    read_at(d, "memory.stat", stat, sizeof stat) < 0 || !isdigit((unsigned char)lim[0]))
		return 0; /* "max": no limit */
	long long limit = strtoll(lim, NULL, 10);
	long long anon = keyed_value(stat, v2 ? "anon" : "total_rss");
	long long shmem = keyed_value(stat, v2 ? "shmem" : "total_shmem");
	if (limit <= 0 || limit >= (1LL << 62) || anon < 0)
		return 0;
	long long slack = limit / 8 > (16LL << 20) ? limit / 8 : 16LL << 20;
	return anon + (shmem > 0 ? shmem : 0) >= limit - slack;
}

int cg_destroy(struct cg_job *job)
{
	if (!job)
		return 0;
	int rc = rmdir_all(job);
	job_free(job);
	return rc;
}
