/* util.h - small helpers with no better home: time, hex, sha256, files. */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

int64_t util_now_ms(void);  /* CLOCK_REALTIME in ms */
int64_t util_mono_ms(void); /* CLOCK_MONOTONIC in ms */
/* Lowercase hex of len bytes into out (2*len+1 bytes). */
void util_hex(const unsigned char *in, size_t len, char *out);
/* SHA-256 of buf; out is 32 bytes. */
void util_sha256(const void *buf, size_t len, unsigned char out[32]);
/* SHA-256 as 64 lowercase hex digits + NUL. */
void util_sha256_hex(const void *buf, size_t len, char out[65]);
/* true if s is exactly 64 lowercase hex digits. */
int util_is_sha256_hex(const char *s);
/* Reads a whole file of at most max bytes into a malloc'd buffer (NUL-terminated, the
 * NUL not counted in *len). Returns 0, -EFBIG over max, or -errno. */
int util_read_file(const char *path, size_t max, char **out, size_t *len);
/* Writes all len bytes of buf to fd (retrying short writes and EINTR). 0 or -errno. */
int util_write_all(int fd, const void *buf, size_t len);
/* Parses a decimal integer in [min,max] with strtoll; the whole string must be used.
 * Returns 0 or -EINVAL / -ERANGE; *out untouched on error. */
int util_parse_ll(const char *s, long long min, long long max, long long *out);
/* mkdir -p: creates path and its missing parents with mode (an existing directory is
 * fine). Returns 0, -ENAMETOOLONG, or -errno of the mkdir that failed. */
int util_mkdir_p(const char *path, mode_t mode);
