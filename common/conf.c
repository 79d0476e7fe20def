/* conf.c - strict configuration on top of inih.
 *
 * inih alone is not strict enough, so the text is first normalised and checked line by
 * line: leading whitespace is removed (inih would take an indented line after a key as a
 * continuation of that key's value), over-long lines are refused (inih would split them
 * into two lines), every [section] must be declared, and every other non-comment line must
 * hold a '=' or ':'. After that, the only failures inih can report are the handler's, and
 * the line it returns is the line of the first of them. */
#include "conf.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* inih reads at most INI_MAX_LINE - 1 bytes per line including the '\n'. */
#define CONF_LINE_MAX (INI_MAX_LINE - 2)
#define CONF_FILE_MAX (1024 * 1024)
#define CONF_REASON_MAX 256

struct conf_ctx {
	const struct conf_key *keys;
	size_t nkeys;
	bool *seen;
	bool commit;
	bool failed;
	char reason[CONF_REASON_MAX];
};

static bool section_declared(const struct conf_key *keys, size_t nkeys, const char *s, size_t len)
{
	for (size_t i = 0; i < nkeys; i++)
		if (strlen(keys[i].section) == len && memcmp(keys[i].section, s, len) == 0)
			return true;
	return false;
}

static bool is_comment_start(const char *p, const char *line)
{
	return (*p == ';' || *p == '#') && (p == line || p[-1] == ' ' || p[-1] == '\t');
}

/* Checks one line (leading whitespace already removed, no '\n'). */
static int check_line(const char *line, size_t len, const struct conf_key *keys, size_t nkeys,
                      char *reason, size_t reasonlen)
{
	const char *end = line + len, *p;

	if (len == 0 || *line == ';' || *line == '#')
		return 0;
	if (*line == '[') {
		const char *close = memchr(line, ']', len);

		if (!close || close == line + 1) {
			snprintf(reason, reasonlen, "malformed section header");
			return -EINVAL;
		}
		for (p = close + 1; p < end && isspace((unsigned char)*p); p++)
			;
		if (p < end && *p != ';' && *p != '#') {
			snprintf(reason, reasonlen, "unexpected text after section header");
			return -EINVAL;
		}
		if (!section_declared(keys, nkeys, line + 1, (size_t)(close - line - 1))) {
			snprintf(reason, reasonlen, "unknown section [%.*s]",
			         (int)(close - line - 1), line + 1);
			return -EINVAL;
		}
		return 0;
	}
	for (p = line; p < end; p++) {
		if (*p == '=' || *p == ':')
			return 0;
		if (*p == ';' && is_comment_start(p, line))
			break;
	}
	snprintf(reason, reasonlen, "expected 'key = value'");
	return -EINVAL;
}

/* Returns a malloc'd normalised copy of text, or NULL with err. */
static char *conf_prepare(const char *name, const char *text, const struct conf_key *keys,
                          size_t nkeys, int *rc, char *err, size_t errlen)
{
	char reason[CONF_REASON_MAX];
	const char *p = text;
	size_t total = strlen(text), o = 0;
	unsigned lineno = 0;
	char *out;

	if (total >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
		p += 3;
	/* every line gets a '\n', also a last one without it, then the NUL */
	out = malloc(total + 2);
	if (!out) {
		*rc = -ENOMEM;
		snprintf(err, errlen, "%s: out of memory", name);
		return NULL;
	}
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		const char *s = p;

		lineno++;
		if (len > CONF_LINE_MAX) {
			snprintf(err, errlen, "%s:%u: line longer than %d characters", name, lineno,
			         CONF_LINE_MAX);
			goto fail;
		}
		while (s < p + len && isspace((unsigned char)*s))
			s++;
		len -= (size_t)(s - p);
		/* drop a trailing '\r' so that the checks see the same text as inih */
		if (check_line(s, len > 0 && s[len - 1] == '\r' ? len - 1 : len, keys, nkeys,
		               reason, sizeof reason) < 0) {
			snprintf(err, errlen, "%s:%u: %s", name, lineno, reason);
			goto fail;
		}
		memcpy(out + o, s, len);
		o += len;
		out[o++] = '\n';
		p = nl ? nl + 1 : s + len;
	}
	out[o] = '\0';
	return out;
fail:
	free(out);
	*rc = -EINVAL;
	return NULL;
}

/* Value text without quotes and without a trailing " # comment" (inih already removed
 * " ; comment"). Quoted strings end at the next '"'; only a comment may follow. */
static int conf_value(const char *raw, char *out, size_t outlen, bool *quoted, char *reason,
                      size_t reasonlen)
{
	size_t len;

	if (*raw == '"') {
		const char *close = strchr(raw + 1, '"'), *p;

		if (!close) {
			snprintf(reason, reasonlen, "unterminated string");
			return -EINVAL;
		}
		for (p = close + 1; *p == ' ' || *p == '\t'; p++)
			;
		if (*p && *p != '#') {
			snprintf(reason, reasonlen, "unexpected text after string");
			return -EINVAL;
		}
		len = (size_t)(close - raw - 1);
		raw++;
		*quoted = true;
	} else {
		const char *p;

		for (p = raw; *p && !(*p == '#' && is_comment_start(p, raw)); p++)
			;
		len = (size_t)(p - raw);
		while (len > 0 && isspace((unsigned char)raw[len - 1]))
			len--;
		*quoted = false;
	}
	if (len >= outlen) {
		snprintf(reason, reasonlen, "value too long");
		return -EINVAL;
	}
	memcpy(out, raw, len);
	out[len] = '\0';
	return 0;
}

static bool bounded(const struct conf_key *k)
{
	return !(k->min == 0 && k->max == 0);
}

static int set_value(struct conf_ctx *ctx, const struct conf_key *k, const char *v, bool quoted)
{
	const char *sec = k->section, *dot = *k->section ? "." : "";
	char *reason = ctx->reason;
	size_t rlen = sizeof ctx->reason;

	if (quoted && k->type != CONF_STR) {
		snprintf(reason, rlen, "%s%s%s: quotes are only for strings", sec, dot, k->name);
		return -EINVAL;
	}
	switch (k->type) {
	case CONF_STR:
		if (strlen(v) >= k->dstlen) {
			snprintf(reason, rlen, "%s%s%s: string longer than %zu characters", sec,
			         dot, k->name, k->dstlen ? k->dstlen - 1 : 0);
			return -EINVAL;
		}
		if (ctx->commit)
			memcpy(k->dst, v, strlen(v) + 1);
		return 0;
	case CONF_INT: {
		long long x;
		int r = util_parse_ll(v, LLONG_MIN, LLONG_MAX, &x);

		if (r == -EINVAL) {
			snprintf(reason, rlen, "%s%s%s: '%s' is not an integer", sec, dot, k->name,
			         v);
			return -EINVAL;
		}
		if (r < 0 || (bounded(k) && ((double)x < k->min || (double)x > k->max))) {
			snprintf(reason, rlen, "%s%s%s: %s out of range %.0f..%.0f", sec, dot,
			         k->name, v, k->min, k->max);
			return -ERANGE;
		}
		if (ctx->commit)
			*(long long *)k->dst = x;
		return 0;
	}
	case CONF_DOUBLE: {
		char *end;
		double x;

		errno = 0;
		x = *v && !isspace((unsigned char)*v) ? strtod(v, &end) : 0;
		if (!*v || isspace((unsigned char)*v) || *end || errno == ERANGE || !isfinite(x)) {
			snprintf(reason, rlen, "%s%s%s: '%s' is not a finite number", sec, dot,
			         k->name, v);
			return -EINVAL;
		}
		if (bounded(k) && (x < k->min || x > k->max)) {
			snprintf(reason, rlen, "%s%s%s: %s out of range %g..%g", sec, dot, k->name,
			         v, k->min, k->max);
			return -ERANGE;
		}
		if (ctx->commit)
			*(double *)k->dst = x;
		return 0;
	}
	case CONF_BOOL:
		if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0) {
			snprintf(reason, rlen, "%s%s%s: '%s' is not a boolean (true or false)", sec,
			         dot, k->name, v);
			return -EINVAL;
		}
		if (ctx->commit)
			*(bool *)k->dst = v[0] == 't';
		return 0;
	}
	snprintf(reason, rlen, "%s%s%s: unsupported key type", sec, dot, k->name);
	return -EINVAL;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct conf_ctx *ctx = user;
	char v[INI_MAX_LINE];
	bool quoted;
	size_t i;

	if (ctx->failed)
		return 0;
	for (i = 0; i < ctx->nkeys; i++)
		if (strcmp(ctx->keys[i].section, section) == 0 &&
		    strcmp(ctx->keys[i].name, name) == 0)
			break;
	if (i == ctx->nkeys) {
		if (*section)
			snprintf(ctx->reason, sizeof ctx->reason, "unknown key '%s' in [%s]", name,
			         section);
		else
			snprintf(ctx->reason, sizeof ctx->reason, "unknown key '%s'", name);
		goto fail;
	}
	if (ctx->seen[i]) {
		snprintf(ctx->reason, sizeof ctx->reason, "duplicate key '%s'", name);
		goto fail;
	}
	ctx->seen[i] = true;
	if (conf_value(value, v, sizeof v, &quoted, ctx->reason, sizeof ctx->reason) < 0 ||
	    set_value(ctx, &ctx->keys[i], v, quoted) < 0)
		goto fail;
	return 1;
fail:
	ctx->failed = true;
	return 0;
}

/* One pass over the normalised text; stores values only when commit is set. */
static int conf_pass(const char *name, const char *text, struct conf_ctx *ctx, char *err,
                     size_t errlen)
{
	int line;

	memset(ctx->seen, 0, ctx->nkeys * sizeof *ctx->seen);
	ctx->failed = false;
	ctx->reason[0] = '\0';
	line = ini_parse_string(text, handler, ctx);
	if (line == 0)
		return 0;
	if (line < 0) {
		snprintf(err, errlen, "%s: out of memory", name);
		return -ENOMEM;
	}
	snprintf(err, errlen, "%s:%d: %s", name, line,
	         ctx->reason[0] ? ctx->reason : "syntax error");
	return -EINVAL;
}

int conf_load_string(const char *name, const char *text, const struct conf_key *keys, size_t nkeys,
                     char *err, size_t errlen)
{
	struct conf_ctx ctx = { .keys = keys, .nkeys = nkeys };
	char *norm = NULL;
	int r = 0;

	if (!name)
		name = "config";
	if (!text || (nkeys && !keys)) {
		snprintf(err, errlen, "%s: no text", name);
		return -EINVAL;
	}
	norm = conf_prepare(name, text, keys, nkeys, &r, err, errlen);
	if (!norm)
		return r;
	ctx.seen = calloc(nkeys ? nkeys : 1, sizeof *ctx.seen);
	if (!ctx.seen) {
		snprintf(err, errlen, "%s: out of memory", name);
		r = -ENOMEM;
		goto out;
	}
	/* validate everything first so that a failure leaves every destination untouched */
	r = conf_pass(name, norm, &ctx, err, errlen);
	if (r == 0) {
		ctx.commit = true;
		r = conf_pass(name, norm, &ctx, err, errlen);
	}
out:
	free(ctx.seen);
	free(norm);
	return r;
}

int conf_load_file(const char *path, const struct conf_key *keys, size_t nkeys, char *err,
                   size_t errlen)
{
	char *text = NULL;
	size_t len = 0;
	int r;

	r = util_read_file(path, CONF_FILE_MAX, &text, &len);
	if (r < 0) {
		snprintf(err, errlen, "%s: %s", path,
		         r == -EFBIG ? "file too large" : strerror(-r));
		return r;
	}
	if (strlen(text) != len) {
		snprintf(err, errlen, "%s: contains a NUL byte", path);
		r = -EINVAL;
		goto out;
	}
	r = conf_load_string(path, text, keys, nkeys, err, errlen);
out:
	free(text);
	return r;
}

unsigned conf_line_of(const char *path, const char *section, const char *name)
{
	char *text = NULL;
	size_t len = 0;
	if (util_read_file(path, CONF_FILE_MAX, &text, &len) < 0)
		return 0;
	unsigned lineno = 0, found = 0;
	bool in = section[0] == '\0';
	size_t nl = strlen(name), sl = strlen(section);
	for (char *line = text; line && *line && !found;) {
		char *next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		while (*line == ' ' || *line == '\t')
			line++;
		if (*line == '[') {
			char *close = strchr(line, ']');
			in = close && (size_t)(close - line - 1) == sl &&
			     memcmp(line + 1, section, sl) == 0;
		} else if (in && strncmp(line, name, nl) == 0) {
			const char *p = line + nl;
			while (*p == ' ' || *p == '\t')
				p++;
			if (*p == '=' || *p == ':')
				found = lineno;
		}
		line = next;
	}
	free(text);
	return found;
}
