/* util.c - time, hex, sha256, whole-file reads and writes, checked integer parsing. */
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int64_t clock_ms(clockid_t id)
{
	struct timespec ts;

	if (clock_gettime(id, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t util_now_ms(void)
{
	return clock_ms(CLOCK_REALTIME);
}

int64_t util_mono_ms(void)
{
	return clock_ms(CLOCK_MONOTONIC);
}

void util_hex(const unsigned char *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0xf];
	}
	out[2 * len] = '\0';
}

void util_sha256(const void *buf, size_t len, unsigned char out[32])
{
	static const unsigned char empty;

	SHA256(buf ? buf : &empty, len, out);
}

void util_sha256_hex(const void *buf, size_t len, char out[65])
{
	unsigned char md[32];

	util_sha256(buf, len, md);
	util_hex(md, sizeof md, out);
}

int util_is_sha256_hex(const char *s)
{
	if (!s)
		return 0;
	for (size_t i = 0; i < 64; i++) {
		char c = s[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return 0;
	}
	return s[64] == '\0';
}

/* Reads at most max+1 bytes from fd so that an over-long file is detected even when
 * st_size lies (pipes, /proc). */
static int read_fd(int fd, size_t max, char **out, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = NULL;
	int r;

	if (max > SIZE_MAX - 2)
		max = SIZE_MAX - 2;
	buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t got;

		if (n == cap - 1) {
			size_t ncap = cap * 2;
			char *nbuf;

			if (ncap > max + 2)
				ncap = max + 2;
			if (ncap <= cap) {
				r = -EFBIG;
				goto out;
			}
			nbuf = realloc(buf, ncap);
			if (!nbuf) {
				r = -ENOMEM;
				goto out;
			}
			buf = nbuf;
			cap = ncap;
		}
		got = read(fd, buf + n, cap - 1 - n);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			goto out;
		}
		if (got == 0)
			break;
		n += (size_t)got;
		if (n > max) {
			r = -EFBIG;
			goto out;
		}
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	buf = NULL;
	r = 0;
out:
	free(buf);
	return r;
}

int util_read_file(const char *path, size_t max, char **out, size_t *len)
{
	struct stat st;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) != 0) {
		r = -errno;
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		r = -EISDIR;
		goto out;
	}
	if (S_ISREG(st.st_mode) && (uintmax_t)st.st_size > max) {
		r = -EFBIG;
		goto out;
	}
	r = read_fd(fd, max, out, len);
out:
	close(fd);
	return r;
}

int util_parse_ll(const char *s, long long min, long long max, long long *out)
{
	char *end;
	long long v;

	if (!s || !*s || isspace((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (end == s || *end != '\0')
		return -EINVAL;
	if (errno == ERANGE || v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int util_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int util_mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	if ((size_t)snprintf(buf, sizeof buf, "%s", path) >= sizeof buf)
		return -ENAMETOOLONG;
	for (char *p = buf + 1;; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;
			*p = '\0';
			if (mkdir(buf, mode) != 0 && errno != EEXIST)
				return -errno;
			*p = c;
			if (!c)
				return 0;
		}
	}
}
