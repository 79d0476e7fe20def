/* secretfile.c - see secretfile.h. */
#include "secretfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* read(2) until cap bytes or the end; -errno on failure */
static ssize_t read_upto(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	while (n < cap) {
		ssize_t got = read(fd, buf + n, cap - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return -errno;
		if (got == 0)
			break;
		n += (size_t)got;
	}
	return (ssize_t)n;
}

ssize_t secretfile_read(const char *path, const char *what, char *buf, size_t cap, char *err,
                        size_t errlen)
{
	struct stat st;
	ssize_t r;
	/* O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror((int)-r));
		return r;
	}
	if (fstat(fd, &st) != 0) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror((int)-r));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = -EINVAL;
		snprintf(err, errlen, "%s: not a regular file", path);
		goto out;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		r = -EPERM;
		snprintf(err, errlen,
		         "%s: %s file is accessible by group or others (mode %04o); run chmod 600 "
		         "%s",
		         path, what, (unsigned)(st.st_mode & 07777), path);
		goto out;
	}
	r = read_upto(fd, buf, cap);
	if (r < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror((int)-r));
		goto out;
	}
	char more;
	ssize_t extra = r == (ssize_t)cap ? read_upto(fd, &more, 1) : 0;
	if (extra != 0) {
		r = extra < 0 ? extra : -EFBIG;
		snprintf(err, errlen, "%s: %s", path,
		         extra < 0 ? strerror((int)-extra) : "file too long");
	}
out:
	close(fd);
	return r;
}
