/* http_parse.c - socket-free parts of reading a request (see http_parse.h). */
#include "http_parse.h"

#include <errno.h>
#include <event2/http.h>
#include <stdio.h>
#include <string.h>
#include <sys/queue.h>

int hp_split_path(const char *path, char segs[HP_SEG_MAX][GQ_NAME_MAX + 2])
{
	if (path == NULL || path[0] != '/')
		return -1;
	int n = 0;
	const char *p = path + 1;
	while (*p) {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);
		if (len == 0 || n == HP_SEG_MAX)
			return -1;
		if (len > GQ_NAME_MAX) /* too long for any name: kept as an invalid marker */
			len = GQ_NAME_MAX + 1;
		memcpy(segs[n], p, len);
		segs[n][len] = '\0';
		n++;
		if (!slash)
			break;
		p = slash + 1;
		if (*p == '\0')
			return -1; /* trailing slash */
	}
	return n;
}

int hp_query(const char *q, const char *allowed, struct evkeyvalq *out, char *err, size_t errlen)
{
	if (evhttp_parse_query_str(q, out) < 0) {
		snprintf(err, errlen, "malformed query string");
		return -EBADMSG;
	}
	struct evkeyval *kv;
	TAILQ_FOREACH(kv, out, next)
	{
		if (allowed == NULL || strcmp(kv->key, allowed) != 0) {
			snprintf(err, errlen, "unknown query parameter '%.64s'", kv->key);
			return -ENOENT;
		}
	}
	return 0;
}
