/* workdir.c - per-job directories, see workdir.h. All walking is relative to open
 * directory descriptors with O_NOFOLLOW, so a symlink planted by a job can never send a
 * copy or a removal outside the tree. */
#include "workdir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "names.h"
#include "util.h"

#define COPY_MAX_DEPTH 16
#define COPY_MAX_BYTES (256ull * 1024 * 1024)
#define STAGE_SOURCE_MAX (32ull * 1024 * 1024) /* submission.py, above the runner's cap */

struct copy_ctx {
	bool chown_job;
	uid_t uid;
	gid_t gid;
	unsigned long long bytes;
};

static int own(int fd, const struct copy_ctx *c)
{
	if (c->chown_job && fchown(fd, c->uid, c->gid) < 0)
		return -errno;
	return 0;
}

static int copy_file(int sdir, int ddir, const char *name, mode_t mode, struct copy_ctx *c)
{
	int in = openat(sdir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (in < 0)
		return -errno;
	int out = openat(ddir, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode);
	if (out < 0) {
		int e = -errno;
		close(in);
		return e;
	}
	int rc = own(out, c);
	char buf[65536];
	while (rc == 0) {
		ssize_t n = read(in, buf, sizeof buf);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
		} else if (n == 0) {
			break;
		} else if ((c->bytes += (unsigned long long)n) > COPY_MAX_BYTES) {
			rc = -EFBIG;
		} else {
			rc = util_write_all(out, buf, (size_t)n);
		}
	}
	if (rc == 0 && fchmod(out, mode) < 0)
		rc = -errno;
	close(in);
	if (close(out) < 0 && rc == 0)
		rc = -errno;
	return rc;
}

/* Copies the contents of directory sfd into directory dfd (regular files and
 * directories; everything else is skipped). Takes ownership of sfd. */
static int copy_tree(int sfd, int dfd, int depth, struct copy_ctx *c)
{
	if (depth > COPY_MAX_DEPTH) {
		close(sfd);
		return -ELOOP;
	}
	DIR *d = fdopendir(sfd);
	if (!d) {
		int e = -errno;
		close(sfd);
		return e;
	}
	int rc = 0;
	struct dirent *de;
	while (rc == 0 && (errno = 0, de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		struct stat st;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			rc = -errno;
			break;
		}
		if (S_ISREG(st.st_mode)) {
			rc = copy_file(dirfd(d), dfd, de->d_name, 0644, c);
		} else if (S_ISDIR(st.st_mode)) {
			if (mkdirat(dfd, de->d_name, 0755) < 0 && errno != EEXIST) {
				rc = -errno;
				break;
			}
			int sub = openat(dirfd(d), de->d_name,
			                 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			int dsub = openat(dfd, de->d_name,
			                  O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0 || dsub < 0) {
				rc = -errno;
				if (sub >= 0)
					close(sub);
				if (dsub >= 0)
					close(dsub);
				break;
			}
			rc = own(dsub, c);
			if (rc == 0)
				rc = copy_tree(sub, dsub, depth + 1, c);
			else
				close(sub);
			close(dsub);
		}
	}
	if (rc == 0 && errno != 0)
		rc = -errno;
	closedir(d);
	return rc;
}

/* Copies bundle_dir/sub into dfd. A missing optional sub is fine. */
static int copy_sub(const char *bundle_dir, const char *sub, bool optional, int dfd,
                    struct copy_ctx *c)
{
	char path[PATH_MAX];
	if ((size_t)snprintf(path, sizeof path, "%s/%s", bundle_dir, sub) >= sizeof path)
		return -ENAMETOOLONG;
	int sfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sfd < 0)
		return errno == ENOENT && optional ? 0 : -errno;
	return copy_tree(sfd, dfd, 0, c);
}

static int rm_tree(int pfd, const char *name, int depth)
{
	if (unlinkat(pfd, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return -errno;
	if (depth > 256)
		return -ELOOP;
	int fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == EACCES) { /* a job may chmod its own dirs to 0 */
		if (fchmodat(pfd, name, 0700, 0) < 0)
			return -errno;
		fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0)
		return -errno;
	if (fchmod(fd, 0700) < 0 && errno != EPERM) {
		int e = -errno;
		close(fd);
		return e;
	}
	DIR *d = fdopendir(fd);
	if (!d) {
		int e = -errno;
		close(fd);
		return e;
	}
	int rc = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		int r = rm_tree(dirfd(d), de->d_name, depth + 1);
		if (r < 0 && rc == 0)
			rc = r;
	}
	closedir(d);
	if (unlinkat(pfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT && rc == 0)
		rc = -errno;
	return rc;
}

/* Detaches the job tmpfs on path/work, if there is one (EINVAL: not a mount point;
 * EPERM: not root, so never mounted). UMOUNT_NOFOLLOW: work/ is the node's own
 * directory, but a symlink there must never send the unmount elsewhere. */
static void unmount_work(const char *path)
{
	char work[PATH_MAX];
	if ((size_t)snprintf(work, sizeof work, "%s/work", path) < sizeof work)
		(void)umount2(work, MNT_DETACH | UMOUNT_NOFOLLOW);
}

int wd_remove(const char *path)
{
	char parent[PATH_MAX];
	unmount_work(path);
	if ((size_t)snprintf(parent, sizeof parent, "%s", path) >= sizeof parent)
		return -ENAMETOOLONG;
	char *slash = strrchr(parent, '/');
	if (!slash || slash[1] == '\0')
		return -EINVAL;
	const char *name = path + (slash - parent) + 1;
	if (slash == parent)
		slash[1] = '\0';
	else
		*slash = '\0';
	int pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pfd < 0)
		return -errno;
	int rc = rm_tree(pfd, name, 0);
	close(pfd);
	return rc;
}

/* Mounts the job's tmpfs on work (an empty directory of the node's): big enough for
 * anything the node may stage (COPY_MAX_BYTES), shrunk by wd_fit_tmpfs() once staged. */
static int mount_tmpfs(const char *work, const struct wd_spec *s)
{
	char opts[160];
	snprintf(opts, sizeof opts, "mode=0700,uid=%u,gid=%u,size=%llu,nr_inodes=%u",
	         (unsigned)s->uid, (unsigned)s->gid,
	         COPY_MAX_BYTES + STAGE_SOURCE_MAX + (unsigned long long)s->room_mb * 1024 * 1024,
	         65536u + WD_ROOM_INODES);
	if (mount("gradeq-job", work, "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0)
		return -errno;
	return 0;
}

/* Shrinks the tmpfs to what is staged plus the job's room (bytes and inodes). */
static int fit_tmpfs(const char *work, int wfd, const struct wd_spec *s)
{
	struct statfs sf;
	if (fstatfs(wfd, &sf) < 0)
		return -errno;
	unsigned long long used = (unsigned long long)(sf.f_blocks - sf.f_bfree) * sf.f_bsize;
	unsigned long long inodes = (unsigned long long)(sf.f_files - sf.f_ffree);
	char opts[96];
	snprintf(opts, sizeof opts, "size=%llu,nr_inodes=%llu",
	         used + (unsigned long long)s->room_mb * 1024 * 1024, inodes + WD_ROOM_INODES);
	if (mount(NULL, work, NULL, MS_REMOUNT | MS_NOSUID | MS_NODEV, opts) < 0)
		return -errno;
	return 0;
}

int wd_private_mounts(char *err, size_t errlen)
{
	if (unshare(CLONE_NEWNS) < 0) {
		int e = errno;
		snprintf(err, errlen, "workdir: cannot make a mount namespace: %s", strerror(e));
		return -e;
	}
	/* slave: mounts of the host still reach the node, the node's never reach the host */
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0) {
		int e = errno;
		snprintf(err, errlen, "workdir: cannot make the mount namespace a slave: %s",
		         strerror(e));
		return -e;
	}
	return 0;
}

int wd_traversable(const char *path, uid_t uid, gid_t gid, char *err, size_t errlen)
{
	char real[PATH_MAX];
	if (!realpath(path, real)) {
		int e = errno;
		snprintf(err, errlen, "work dir %s: %s", path, strerror(e));
		return -e;
	}
	/* "/", then every prefix of real that ends at a component */
	size_t len = strlen(real);
	for (size_t end = 0; end <= len; end++) {
		if (end != 0 && end != len && real[end] != '/')
			continue;
		size_t n = end == 0 ? 1 : end;
		char dir[PATH_MAX];
		memcpy(dir, real, n);
		dir[n] = '\0';
		struct stat st;
		if (stat(dir, &st) < 0) {
			int e = errno;
			snprintf(err, errlen, "work dir %s: %s: %s", path, dir, strerror(e));
			return -e;
		}
		mode_t bit = st.st_uid == uid ? S_IXUSR : st.st_gid == gid ? S_IXGRP : S_IXOTH;
		if (!(st.st_mode & bit)) {
			snprintf(err, errlen,
			         "work dir %s: sandbox uid %u cannot enter %s (mode %04o, owner "
			         "%u:%u); "
			         "put node.work_dir elsewhere (default /var/lib/gradeq/work) or "
			         "chmod o+x %s",
			         path, (unsigned)uid, dir, (unsigned)(st.st_mode & 07777),
			         (unsigned)st.st_uid, (unsigned)st.st_gid, dir);
			return -EACCES;
		}
	}
	return 0;
}

int wd_tmpfs_probe(const char *work_root, char *err, size_t errlen)
{
	char dir[PATH_MAX];
	if ((size_t)snprintf(dir, sizeof dir, "%s/.tmpfs-probe.XXXXXX", work_root) >= sizeof dir) {
		snprintf(err, errlen, "workdir: path too long");
		return -ENAMETOOLONG;
	}
	if (!mkdtemp(dir)) {
		int e = errno;
		snprintf(err, errlen, "workdir: mkdtemp in %s: %s", work_root, strerror(e));
		return -e;
	}
	int rc = 0;
	if (mount("gradeq-probe", dir, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,nr_inodes=16") <
	    0) {
		rc = -errno;
		snprintf(err, errlen, "workdir: cannot mount a tmpfs in %s: %s", work_root,
		         strerror(errno));
	} else if (umount2(dir, MNT_DETACH | UMOUNT_NOFOLLOW) < 0) {
		rc = -errno;
		snprintf(err, errlen, "workdir: cannot unmount %s: %s", dir, strerror(errno));
	}
	(void)rmdir(dir);
	return rc;
}

static bool is_dir_at(int dfd, const char *name)
{
	struct stat st;
	return fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

int wd_sweep(const char *work_root)
{
	int rfd = open(work_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rfd < 0)
		return -errno;
	DIR *d = fdopendir(rfd);
	if (!d) {
		int e = -errno;
		close(rfd);
		return e;
	}
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (!name_valid(de->d_name) || !is_dir_at(dirfd(d), de->d_name))
			continue;
		int jfd = openat(dirfd(d), de->d_name,
		                 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (jfd < 0)
			continue;
		bool job = is_dir_at(jfd, "tests") && is_dir_at(jfd, "work");
		close(jfd);
		char path[PATH_MAX];
		if (!job || (size_t)snprintf(path, sizeof path, "%s/%s", work_root, de->d_name) >=
		                    sizeof path)
			continue;
		if (wd_remove(path) == 0)
			n++;
	}
	closedir(d);
	return n;
}

/* twork/: the tests process's working directory (two-process runtime). */
static int make_twin(int dfd, const struct wd_spec *s)
{
	struct copy_ctx tj = { .chown_job = s->chown_job, .uid = s->tuid, .gid = s->tgid };
	int rc = 0, tw = -1, sfd = -1;
	if (mkdirat(dfd, "twork", 0700) < 0 ||
	    (tw = openat(dfd, "twork", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return -errno;
	if ((rc = own(tw, &tj)) < 0 || (rc = copy_sub(s->bundle_dir, "files", true, tw, &tj)) < 0)
		goto out;
	(void)unlinkat(tw, "submission.py", 0);
	if ((sfd = openat(tw, "submission.py", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	                  0444)) < 0) {
		rc = -errno;
		goto out;
	}
	if ((rc = own(sfd, &tj)) < 0 || (rc = util_write_all(sfd, s->source, s->source_len)) < 0)
		goto out;
out:
	if (sfd >= 0 && close(sfd) < 0 && rc == 0)
		rc = -errno;
	if (tw >= 0)
		close(tw);
	return rc;
}

int wd_create(const struct wd_spec *s, char **path, char *err, size_t errlen)
{
	char dir[PATH_MAX], work[PATH_MAX];
	if ((size_t)snprintf(dir, sizeof dir, "%s/%s", s->work_root, s->name) >= sizeof dir ||
	    (size_t)snprintf(work, sizeof work, "%s/work", dir) >= sizeof work) {
		snprintf(err, errlen, "workdir: path too long");
		return -ENAMETOOLONG;
	}
	(void)wd_remove(dir); /* a leftover of a crashed run with this name */
	if (mkdir(dir, 0711) < 0) {
		int e = errno;
		snprintf(err, errlen, "workdir: mkdir %s: %s", dir, strerror(e));
		return -e;
	}
	(void)chmod(dir, 0711); /* whatever the umask */
	const char *step = "open";
	int rc = 0, dfd = -1, tfd = -1, wfd = -1, sfd = -1;
	struct copy_ctx node = { .chown_job = false };
	struct copy_ctx job = { .chown_job = s->chown_job, .uid = s->uid, .gid = s->gid };

	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		goto sys_fail;
	step = "tests";
	if (mkdirat(dfd, "tests", 0755) < 0 || mkdirat(dfd, "work", 0700) < 0)
		goto sys_fail;
	step = "tmpfs";
	if (s->room_mb && (rc = mount_tmpfs(work, s)) < 0)
		goto fail;
	step = "tests";
	if ((tfd = openat(dfd, "tests", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
	    (wfd = openat(dfd, "work", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		goto sys_fail;
	if ((rc = copy_sub(s->bundle_dir, "tests", false, tfd, &node)) < 0)
		goto fail;
	step = "files";
	if ((rc = own(wfd, &job)) < 0 ||
	    (rc = copy_sub(s->bundle_dir, "files", true, wfd, &job)) < 0)
		goto fail;
	step = "submission.py";
	/* written last: a data file of that name never replaces the submission */
	(void)unlinkat(wfd, "submission.py", 0);
	if ((sfd = openat(wfd, "submission.py",
	                  O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644)) < 0)
		goto sys_fail;
	if ((rc = own(sfd, &job)) < 0 || (rc = util_write_all(sfd, s->source, s->source_len)) < 0)
		goto fail;
	if (close(sfd) < 0) {
		sfd = -1;
		goto sys_fail;
	}
	sfd = -1;
	if (s->twin && (rc = make_twin(dfd, s)) < 0) {
		step = "twork";
		goto fail;
	}
	step = "tmpfs size";
	if (s->room_mb && (rc = fit_tmpfs(work, wfd, s)) < 0)
		goto fail;
	if (!(*path = strdup(dir))) {
		rc = -ENOMEM;
		goto fail;
	}
	close(wfd);
	close(tfd);
	close(dfd);
	return 0;
sys_fail:
	rc = -errno;
fail:
	snprintf(err, errlen, "workdir: %s: %s", step, strerror(-rc));
	if (sfd >= 0)
		close(sfd);
	if (wfd >= 0)
		close(wfd);
	if (tfd >= 0)
		close(tfd);
	if (dfd >= 0)
		close(dfd);
	(void)wd_remove(dir);
	return rc;
}
