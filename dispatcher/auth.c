/* auth.c - bearer tokens and allowlists (see auth.h). */
#include "auth.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "names.h"

int auth_bearer(const struct gq_secret *sec, const char *header, int64_t now, struct gq_token *out)
{
	if (header == NULL)
		return -ENOKEY;
	while (*header == ' ')
		header++;
	if (strncasecmp(header, "Bearer ", 7) != 0)
		return -ENOKEY;
	const char *tok = header + 7;
	while (*tok == ' ')
		tok++;
	size_t n = strlen(tok);
	while (n > 0 && (tok[n - 1] == ' ' || tok[n - 1] == '\t'))
		n--;
	if (n == 0 || n >= GQ_TOKEN_MAX)
		return -EBADMSG;
	char buf[GQ_TOKEN_MAX];
	memcpy(buf, tok, n);
	buf[n] = '\0';
	struct gq_token t;
	int rc = token_verify(sec, buf, now, &t);
	if (rc < 0)
		return rc == -EKEYEXPIRED ? rc : -EBADMSG;
	*out = t;
	return 0;
}

const char *auth_strerror(int rc)
{
	switch (rc) {
	case -ENOKEY:
		return "missing bearer token (Authorization: Bearer <token>; see gradeq token)";
	case -EKEYEXPIRED:
		return "token expired; ask for a new one";
	default:
		return "invalid token";
	}
}

/* Trims a line to its name part: drops a '#' comment and surrounding blanks. */
static void trim_line(const char **s, size_t *n)
{
	const char *p = *s;
	size_t len = *n;
	const char *hash = memchr(p, '#', len);
	if (hash)
		len = (size_t)(hash - p);
	while (len > 0 && (p[0] == ' ' || p[0] == '\t')) {
		p++;
		len--;
	}
	while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t' || p[len - 1] == '\r'))
		len--;
	*s = p;
	*n = len;
}

bool auth_allowed(const char *allow, size_t len, const struct gq_token *t)
{
	if (t->role == GQ_ROLE_INSTRUCTOR || allow == NULL)
		return true;
	size_t ulen = strlen(t->user);
	const char *end = allow + len;
	for (const char *p = allow; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *name = p;
		size_t n = (size_t)((nl ? nl : end) - p);
		p = nl ? nl + 1 : end;
		trim_line(&name, &n);
		if (n == ulen && memcmp(name, t->user, n) == 0)
			return true;
	}
	return false;
}

struct allow_name {
	const char *p;
	size_t n;
	size_t line; /* order of appearance; the first of equal names is kept */
};

static int name_cmp(const void *a, const void *b)
{
	const struct allow_name *x = a, *y = b;
	size_t n = x->n < y->n ? x->n : y->n;
	int c = memcmp(x->p, y->p, n);
	if (c != 0)
		return c;
	if (x->n != y->n)
		return x->n < y->n ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

static int order_cmp(const void *a, const void *b)
{
	const struct allow_name *x = a, *y = b;
	return x->line < y->line ? -1 : x->line > y->line;
}

/* Duplicates are dropped in O(n log n) (sort by name, keep the first of each run, sort
 * back into order of appearance): this runs on the event loop, on lists up to the body
 * cap. */
int auth_allowlist_parse(const char *body, size_t len, char **out, size_t *outlen, size_t *nusers,
                         char *err, size_t errlen)
{
	/* At most one name per two input bytes ("a\n"), plus a last line without '\n'. */
	size_t cap = len / 2 + 1, count = 0, lineno = 0;
	struct allow_name *names = calloc(cap, sizeof *names);
	/* Stored form is never longer than the input plus one newline. */
	char *buf = malloc(len + 2);
	if (names == NULL || buf == NULL) {
		free(names);
		free(buf);
		return -ENOMEM;
	}
	const char *end = body + len;
	for (const char *p = body; p < end;) {
		lineno++;
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *next = nl ? nl + 1 : end;
		const char *name = p;
		size_t n = (size_t)((nl ? nl : end) - p);
		p = next;
		trim_line(&name, &n);
		if (n == 0)
			continue;
		if (!name_valid_n(name, n)) {
			snprintf(err, errlen,
			         "allowlist line %zu: invalid user name (expected "
			         "[A-Za-z0-9_.-]{1,64})",
			         lineno);
			free(names);
			free(buf);
			return -EINVAL;
		}
		names[count++] = (struct allow_name){ name, n, lineno };
	}
	qsort(names, count, sizeof *names, name_cmp);
	size_t kept = 0;
	for (size_t i = 0; i < count; i++)
		if (kept == 0 || names[kept - 1].n != names[i].n ||
		    memcmp(names[kept - 1].p, names[i].p, names[i].n) != 0)
			names[kept++] = names[i];
	qsort(names, kept, sizeof *names, order_cmp);
	size_t used = 0;
	for (size_t i = 0; i < kept; i++) {
		memcpy(buf + used, names[i].p, names[i].n);
		used += names[i].n;
		buf[used++] = '\n';
	}
	free(names);
	buf[used] = '\0';
	*out = buf;
	*outlen = used;
	*nusers = kept;
	return 0;
}
