/* fuzz_http_request.c - hostile request parts through the dispatcher's socket-free
 * parsing: the input is "TARGET\nAUTHORIZATION\nBODY" (missing parts empty).
 *   TARGET: evhttp's URI parser, then the path split (hp_split_path) and the query check
 *           (hp_query, with "student" the accepted key), and name/id validation of each
 *           segment as the router does;
 *   AUTHORIZATION: auth_bearer with a fixed secret;
 *   BODY: the allowlist parser (the one text body parsed on the event loop) and, on the
 *         whole input, the gate's header-end scanner (http_gate.h).
 * Invariants: segments fit, a parsed allowlist holds only valid names, one per line,
 * without duplicates, and every name of it is allowed by auth_allowed. */
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "auth.h"
#include "fuzz.h"
#include "http_gate.h"
#include "http_parse.h"
#include "names.h"

static void target(const char *t)
{
	struct evhttp_uri *uri = evhttp_uri_parse_with_flags(t, EVHTTP_URI_NONCONFORMANT);
	char segs[HP_SEG_MAX][GQ_NAME_MAX + 2];
	char err[128];

	if (!uri)
		return;
	const char *path = evhttp_uri_get_path(uri);
	int n = hp_split_path(path, segs);
	if (n > HP_SEG_MAX)
		abort();
	for (int i = 0; i < n; i++) {
		if (strlen(segs[i]) > GQ_NAME_MAX + 1)
			abort();
		if (name_valid(segs[i]) && strlen(segs[i]) > GQ_NAME_MAX)
			abort();
		(void)subid_valid(segs[i]);
	}
	const char *q = evhttp_uri_get_query(uri);
	if (q) {
		struct evkeyvalq kv;
		TAILQ_INIT(&kv);
		int r = hp_query(q, "student", &kv, err, sizeof err);
		if (r == 0) {
			struct evkeyval *e;
			TAILQ_FOREACH(e, &kv, next)
			if (strcmp(e->key, "student") != 0)
				abort();
		}
		evhttp_clear_headers(&kv);
	}
	evhttp_uri_free(uri);
}

static void allowlist(const char *body, size_t len)
{
	char err[128], *out = NULL;
	size_t outlen = 0, users = 0;

	if (auth_allowlist_parse(body, len, &out, &outlen, &users, err, sizeof err) != 0)
		return;
	size_t lines = 0;
	for (char *p = out; *p;) {
		char *nl = strchr(p, '\n');
		if (!nl || !name_valid_n(p, (size_t)(nl - p)))
			abort();
		struct gq_token t = { .role = GQ_ROLE_STUDENT };
		memcpy(t.user, p, (size_t)(nl - p));
		t.user[nl - p] = '\0';
		if (!auth_allowed(out, outlen, &t))
			abort();
		for (char *q = out; q < p;) { /* no duplicate (inputs are small) */
			char *qn = strchr(q, '\n');
			if (qn - q == nl - p && memcmp(q, p, (size_t)(nl - p)) == 0)
				abort();
			q = qn + 1;
		}
		lines++;
		p = nl + 1;
	}
	if (lines != users || strlen(out) != outlen)
		abort();
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct gq_secret sec;
	static int init;
	char *buf = malloc(size + 1), *parts[3] = { "", "", "" };
	char err[64];
	struct gq_token tok;
	int state = 0;

	if (!buf)
		return 0;
	if (!init) {
		token_secret_from_string("fuzz-secret-0123456789", &sec, err, sizeof err);
		init = 1;
	}
	memcpy(buf, data, size);
	buf[size] = '\0';
	char *p = buf;
	for (int i = 0; i < 3 && p; i++) {
		parts[i] = p;
		char *nl = i < 2 ? strchr(p, '\n') : NULL;
		if (nl)
			*nl = '\0';
		p = nl ? nl + 1 : NULL;
	}
	target(parts[0]);
	if (auth_bearer(&sec, parts[1], 1700000000, &tok) == 0 && !name_valid(tok.user))
		abort();
	allowlist(parts[2], strlen(parts[2]));
	size_t used = gate_header_scan(&state, (const char *)data, size);
	if (used > size || (state != GATE_HDR_DONE && used != size))
		abort();
	free(buf);
	return 0;
}
