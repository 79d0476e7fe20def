/* token.h - HMAC-SHA256 bearer tokens over (user, role, expiry).
 * Format: base64url("<user>:<role>:<expiry-unix-seconds>") "." base64url(hmac).
 * user is a valid name (names.h), role is "student" or "instructor". */
#pragma once
#include <stddef.h>
#include <stdint.h>

#define GQ_SECRET_MIN 16
#define GQ_SECRET_MAX 256
#define GQ_TOKEN_MAX 512

enum gq_role { GQ_ROLE_STUDENT = 1, GQ_ROLE_INSTRUCTOR = 2 };

struct gq_token {
	char user[65];
	enum gq_role role;
	int64_t expiry; /* unix seconds */
};

struct gq_secret {
	unsigned char key[GQ_SECRET_MAX];
	size_t len;
};

/* Reads the secret from path: refuses a file readable or writable by group or others
 * (-EPERM), shorter than GQ_SECRET_MIN bytes after trimming whitespace (-EINVAL).
 * Returns 0 or -errno, with a reason in err. */
int token_secret_load(const char *path, struct gq_secret *out, char *err, size_t errlen);
/* Uses the bytes of s (e.g. from $GRADEQ_SECRET) as the secret. */
int token_secret_from_string(const char *s, struct gq_secret *out, char *err, size_t errlen);

const char *token_role_name(enum gq_role r);
/* "student" | "instructor" -> role; returns 0 or -EINVAL. */
int token_role_parse(const char *s, enum gq_role *out);

/* Signs t into out (NUL-terminated). Returns 0, -EINVAL (bad user/role), -ENOSPC. */
int token_sign(const struct gq_secret *sec, const struct gq_token *t, char *out, size_t outlen);

/* Verifies tok at time now (unix seconds). Returns 0 and fills *out; -EBADMSG for a
 * malformed or forged token, -EKEYEXPIRED for an expired one. Constant-time compare. */
int token_verify(const struct gq_secret *sec, const char *tok, int64_t now, struct gq_token *out);
