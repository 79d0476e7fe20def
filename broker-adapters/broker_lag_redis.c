/* broker_lag_redis.c - the queue-lag monitor of broker.h on Redis Streams: a connection of
 * its own (blocking hiredis calls, on broker_lag.c's thread) asks every interval for the
 * group's pending count and lag (XINFO GROUPS, Redis 7) and the stream's entries-added
 * (XINFO STREAM). A stream has no partitions: the snapshot is one row, partition 0, with
 * high = entries ever added, lag = undelivered + pending (not yet acknowledged),
 * committed = high - lag, pending = delivered but not acknowledged. */
#include <errno.h>
#include <stdarg.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rauth.h"
#include "broker_int.h"

#define RLAG_TIMEOUT_MS 2000
#define RLAG_COUNT_CAP 100000 /* undelivered entries counted by hand when XINFO has no lag */

struct rlag {
	char *host;
	char *user, *password; /* AUTH (password NULL: none) */
	int port;
	char *stream, *group;
	redisContext *c;
};

static void rlag_free(void *ctx)
{
	struct rlag *l = ctx;
	if (!l)
		return;
	if (l->c)
		redisFree(l->c);
	free(l->host);
	free(l->user);
	if (l->password) {
		explicit_bzero(l->password, strlen(l->password));
		free(l->password);
	}
	free(l->stream);
	free(l->group);
	free(l);
}

/* The value of field name in a flat [k, v, ...] reply, or NULL. */
static const redisReply *field(const redisReply *r, const char *name)
{
	if (!r || r->type != REDIS_REPLY_ARRAY || r->elements % 2)
		return NULL;
	for (size_t i = 0; i < r->elements; i += 2) {
		const redisReply *k = r->element[i];
		if (k->type == REDIS_REPLY_STRING && (size_t)k->len == strlen(name) &&
		    !memcmp(k->str, name, (size_t)k->len))
			return r->element[i + 1];
	}
	return NULL;
}

static bool int_of(const redisReply *v, long long *out)
{
	if (!v || v->type != REDIS_REPLY_INTEGER || v->integer < 0)
		return false;
	*out = v->integer;
	return true;
}

static redisReply *cmd(struct rlag *l, char *why, size_t whylen, const char *fmt, ...)
{
	if (!l->c) {
		struct timeval tv = { RLAG_TIMEOUT_MS / 1000, (RLAG_TIMEOUT_MS % 1000) * 1000 };
		l->c = redisConnectWithTimeout(l->host, l->port, tv);
		if (!l->c || l->c->err) {
			snprintf(why, whylen, "redis %s:%d: %s", l->host, l->port,
			         l->c ? l->c->errstr : "out of memory");
			if (l->c)
				redisFree(l->c);
			l->c = NULL;
			return NULL;
		}
		redisSetTimeout(l->c, tv);
		char auth[400];
		if (rauth_sync(l->c, l->user, l->password, auth, sizeof auth) < 0) {
			snprintf(why, whylen, "redis %s:%d: %s", l->host, l->port, auth);
			redisFree(l->c);
			l->c = NULL;
			return NULL;
		}
	}
	va_list ap;
	va_start(ap, fmt);
	redisReply *r = redisvCommand(l->c, fmt, ap);
	va_end(ap);
	if (!r) {
		snprintf(why, whylen, "redis %s:%d: %s", l->host, l->port, l->c->errstr);
		redisFree(l->c);
		l->c = NULL;
		return NULL;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		snprintf(why, whylen, "%s: %s", l->stream, r->str);
		freeReplyObject(r);
		return NULL;
	}
	return r;
}

static int refresh(void *ctx, struct broker_lag_part **out, size_t *nout, char *why, size_t whylen)
{
	struct rlag *l = ctx;
	redisReply *g = cmd(l, why, whylen, "XINFO GROUPS %s", l->stream);
	if (!g)
		return -EIO;
	const redisReply *mine = NULL;
	for (size_t i = 0; g->type == REDIS_REPLY_ARRAY && i < g->elements; i++) {
		const redisReply *name = field(g->element[i], "name");
		if (name && name->type == REDIS_REPLY_STRING && !strcmp(name->str, l->group))
			mine = g->element[i];
	}
	long long pending = 0, lag = 0, added = 0;
	const redisReply *last = mine ? field(mine, "last-delivered-id") : NULL;
	if (!mine || !int_of(field(mine, "pending"), &pending) || !last ||
	    last->type != REDIS_REPLY_STRING || last->len > 41) {
		snprintf(why, whylen, "stream %s has no group %s yet", l->stream, l->group);
		freeReplyObject(g);
		return -EIO;
	}
	bool have_lag = int_of(field(mine, "lag"), &lag);
	char from[48];
	snprintf(from, sizeof from, "(%s", last->str);
	freeReplyObject(g);
	if (!have_lag) { /* Redis could not tell (entries deleted): count them */
		redisReply *r = cmd(l, why, whylen, "XRANGE %s %s + COUNT %d", l->stream, from,
		                    RLAG_COUNT_CAP);
		if (!r)
			return -EIO;
		lag = r->type == REDIS_REPLY_ARRAY ? (long long)r->elements : 0;
		freeReplyObject(r);
	}
	redisReply *s = cmd(l, why, whylen, "XINFO STREAM %s", l->stream);
	if (!s)
		return -EIO;
	if (!int_of(field(s, "entries-added"), &added)) {
		snprintf(why, whylen, "%s: XINFO STREAM without entries-added", l->stream);
		freeReplyObject(s);
		return -EIO;
	}
	freeReplyObject(s);
	struct broker_lag_part *p = calloc(1, sizeof *p);
	if (!p) {
		snprintf(why, whylen, "out of memory");
		return -EIO;
	}
	long long open = lag + pending;
	*p = (struct broker_lag_part){ .partition = 0,
		                       .committed = added > open ? added - open : 0,
		                       .high = added,
		                       .lag = open,
		                       .pending = pending };
	*out = p;
	*nout = 1;
	return 0;
}

struct broker_lag *broker_redis_lag_new(const struct broker_config *cfg, int interval_ms, char *err,
                                        size_t errlen)
{
	const char *colon = cfg && cfg->brokers ? strrchr(cfg->brokers, ':') : NULL;
	long port = colon ? strtol(colon + 1, NULL, 10) : 0;
	if (!colon || colon == cfg->brokers || port < 1 || port > 65535 || !cfg->topic ||
	    !*cfg->topic || !cfg->group || !*cfg->group || interval_ms <= 0) {
		snprintf(err, errlen,
		         "redis lag monitor: host:port, stream, group and interval "
		         "needed");
		return NULL;
	}
	struct rlag *l = calloc(1, sizeof *l);
	if (l) {
		l->host = strndup(cfg->brokers, (size_t)(colon - cfg->brokers));
		l->port = (int)port;
		l->stream = strdup(cfg->topic);
		l->group = strdup(cfg->group);
		if (cfg->auth.password && *cfg->auth.password) {
			l->password = strdup(cfg->auth.password);
			l->user = strdup(cfg->auth.user ? cfg->auth.user : "");
		}
	}
	if (!l || !l->host || !l->stream || !l->group ||
	    (cfg->auth.password && *cfg->auth.password && (!l->password || !l->user))) {
		rlag_free(l);
		snprintf(err, errlen, "redis lag monitor: out of memory");
		return NULL;
	}
	return broker_lag_start(refresh, rlag_free, l, interval_ms, err, errlen);
}
