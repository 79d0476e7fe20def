/* names.c - course/exercise/student names and submission ids. */
#include "names.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "util.h"

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.' || c == '-';
}

bool name_valid_n(const char *s, size_t len)
{
	if (!s || len == 0 || len > GQ_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!name_char(s[i]))
			return false;
		if (s[i] == '.' && i + 1 < len && s[i + 1] == '.')
			return false;
	}
	return !(len == 1 && s[0] == '.');
}

bool name_valid(const char *s)
{
	if (!s)
		return false;
	return name_valid_n(s, strnlen(s, GQ_NAME_MAX + 1));
}

bool subid_valid(const char *s)
{
	if (!s)
		return false;
	for (size_t i = 0; i < GQ_SUBID_LEN; i++) {
		char c = s[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
	}
	return s[GQ_SUBID_LEN] == '\0';
}

static int random_bytes(unsigned char *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = getrandom(buf + got, len - got, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		got += (size_t)n;
	}
	return 0;
}

int subid_new(char out[GQ_SUBID_LEN + 1])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char rnd[8];
	uint64_t ms = (uint64_t)util_now_ms();
	char id[GQ_SUBID_LEN + 1];
	int r;

	r = random_bytes(rnd, sizeof rnd);
	if (r < 0)
		return r;
	/* 12 hex digits of ms cover the years until 10889; ids sort by submit time. */
	for (int i = 11; i >= 0; i--) {
		id[i] = digits[ms & 0xf];
		ms >>= 4;
	}
	util_hex(rnd, sizeof rnd, id + 12);
	memcpy(out, id, sizeof id);
	return 0;
}
