/* auth.h - who is asking and may they: bearer token verification (token.h) and the
 * per-course allowlist (gq:allow:{course}) semantics of the hub: no list = every
 * authenticated user, empty list = instructors only, instructors always pass. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "token.h"

/* Verifies an Authorization header value "Bearer <token>" at time now.
 * Returns 0 and fills *out; -ENOKEY (no header or not Bearer), -EBADMSG (malformed or
 * forged), -EKEYEXPIRED. *out untouched on failure. */
int auth_bearer(const struct gq_secret *sec, const char *header, int64_t now, struct gq_token *out);
/* A person-readable reason for an auth_bearer() error. */
const char *auth_strerror(int rc);

/* allow: the stored list (NULL when the key is absent), len bytes. */
bool auth_allowed(const char *allow, size_t len, const struct gq_token *t);

/* Parses an uploaded allowlist (one user per line, '#' comments, blank lines and
 * surrounding spaces ignored, duplicates dropped) into the stored form "u1\nu2\n".
 * Returns 0 with *out (malloc'd, caller frees; "" for an empty list), *outlen, *nusers;
 * -EINVAL with err naming the line; -ENOMEM. */
int auth_allowlist_parse(const char *body, size_t len, char **out, size_t *outlen, size_t *nusers,
                         char *err, size_t errlen);
