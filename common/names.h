/* names.h - validation of course, exercise, student and submission-id strings before
 * they touch a Redis key, a Kafka key or a path. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#define GQ_NAME_MAX 64
#define GQ_SUBID_LEN 28

/* [A-Za-z0-9_.-]{1,64}, not "." or "..", no ".." anywhere. */
bool name_valid(const char *s);
/* Same, for a buffer of len bytes that need not be NUL-terminated. */
bool name_valid_n(const char *s, size_t len);
/* [0-9a-f]{28} */
bool subid_valid(const char *s);
/* Writes a new submission id (12 hex digits of ms time + 16 random hex digits) and a NUL
 * into out[GQ_SUBID_LEN + 1]. Returns 0 or -errno (no randomness). */
int subid_new(char out[GQ_SUBID_LEN + 1]);
