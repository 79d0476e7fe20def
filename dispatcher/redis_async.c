/* redis_async.c - hiredis async connection with reconnect/backoff (see redis_async.h). */
#include "redis_async.h"

#include <errno.h>
#include <event2/event.h>
#include <hiredis/adapters/libevent.h>
#include <hiredis/async.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define RDS_BACKOFF_MIN_MS 100
#define RDS_BACKOFF_MAX_MS 2000

struct rds {
	struct event_base *base;
	char host[256];
	int port;
	redisAsyncContext *ac; /* NULL while disconnected */
	bool up;               /* connected and not dying */
	bool freeing;
	int backoff_ms;
	bool was_up; /* for logging transitions once */
	struct event *retry;
};

/* Per-command trampoline: hiredis' callback gives us the context; we hand callers only
 * their opaque pointer and the reply. */
struct rds_call {
	struct rds *r;
	rds_cb cb;
	void *opaque;
};

void rds_args_init(struct rds_args *a, const char *cmd)
{
	a->argc = 0;
	a->err = false;
	a->used = 0;
	rds_args_str(a, cmd);
}

void rds_args_bin(struct rds_args *a, const void *p, size_t n)
{
	if (a->argc >= RDS_MAX_ARGS) {
		a->err = true;
		return;
	}
	a->argv[a->argc] = p;
	a->len[a->argc] = n;
	a->argc++;
}

void rds_args_str(struct rds_args *a, const char *s)
{
	rds_args_bin(a, s, strlen(s));
}

void rds_args_fmt(struct rds_args *a, const char *fmt, ...)
{
	size_t room = sizeof a->arena - a->used;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(a->arena + a->used, room, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= room) {
		a->err = true;
		return;
	}
	rds_args_bin(a, a->arena + a->used, (size_t)n);
	a->used += (size_t)n + 1;
}

void rds_args_ll(struct rds_args *a, long long v)
{
	rds_args_fmt(a, "%lld", v);
}

static void rds_connect(struct rds *r);

static void rds_schedule_retry(struct rds *r)
{
	if (r->freeing)
		return;
	struct timeval tv = { r->backoff_ms / 1000, (r->backoff_ms % 1000) * 1000 };
	evtimer_add(r->retry, &tv);
	r->backoff_ms *= 2;
	if (r->backoff_ms > RDS_BACKOFF_MAX_MS)
		r->backoff_ms = RDS_BACKOFF_MAX_MS;
}

static void rds_on_retry(evutil_socket_t fd, short what, void *arg)
{
	rds_connect(arg);
}

static void rds_on_connect(const redisAsyncContext *ac, int status)
{
	struct rds *r = ac->data;
	if (status != REDIS_OK) {
		/* hiredis frees ac after this callback. */
		if (r->was_up || r->backoff_ms == RDS_BACKOFF_MIN_MS)
			LOG_WARN("redis %s:%d: connect failed: %s", r->host, r->port, ac->errstr);
		r->was_up = false;
		r->ac = NULL;
		r->up = false;
		rds_schedule_retry(r);
		return;
	}
	LOG_INFO("redis %s:%d: connected", r->host, r->port);
	r->up = true;
	r->was_up = true;
	r->backoff_ms = RDS_BACKOFF_MIN_MS;
}

static void rds_on_disconnect(const redisAsyncContext *ac, int status)
{
	struct rds *r = ac->data;
	/* hiredis frees ac after this callback; pending callbacks already got NULL. */
	r->ac = NULL;
	r->up = false;
	if (r->freeing)
		return;
	LOG_WARN("redis %s:%d: connection lost: %s", r->host, r->port,
	         ac->errstr[0] ? ac->errstr : "closed");
	rds_schedule_retry(r);
}

static void rds_connect(struct rds *r)
{
	redisAsyncContext *ac = redisAsyncConnect(r->host, r->port);
	if (ac == NULL || ac->err) {
		LOG_WARN("redis %s:%d: %s", r->host, r->port, ac ? ac->errstr : "out of memory");
		if (ac)
			redisAsyncFree(ac);
		rds_schedule_retry(r);
		return;
	}
	ac->data = r;
	if (redisLibeventAttach(ac, r->base) != REDIS_OK) {
		redisAsyncFree(ac);
		rds_schedule_retry(r);
		return;
	}
	redisAsyncSetConnectCallback(ac, rds_on_connect);
	redisAsyncSetDisconnectCallback(ac, rds_on_disconnect);
	r->ac = ac;
}

struct rds *rds_new(struct event_base *base, const char *host, int port)
{
	struct rds *r = calloc(1, sizeof *r);
	if (r == NULL)
		return NULL;
	r->base = base;
	snprintf(r->host, sizeof r->host, "%s", host);
	r->port = port;
	r->backoff_ms = RDS_BACKOFF_MIN_MS;
	r->retry = evtimer_new(base, rds_on_retry, r);
	if (r->retry == NULL) {
		free(r);
		return NULL;
	}
	rds_connect(r);
	return r;
}

void rds_free(struct rds *r)
{
	if (r == NULL)
		return;
	r->freeing = true;
	r->up = false;
	if (r->ac) {
		redisAsyncContext *ac = r->ac;
		r->ac = NULL;
		redisAsyncFree(ac); /* runs pending callbacks with NULL */
	}
	event_free(r->retry);
	free(r);
}

bool rds_up(const struct rds *r)
{
	return r && r->up && r->ac != NULL;
}

static void rds_trampoline(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct rds_call *c = privdata;
	if (reply == NULL)
		c->r->up = false; /* the connection is going away; refuse new commands now */
	c->cb(c->opaque, reply);
	free(c);
}

static int rds_send(struct rds *r, const struct rds_args *a, rds_cb cb, void *opaque)
{
	struct rds_call *c = NULL;
	if (cb) {
		c = malloc(sizeof *c);
		if (c == NULL)
			return -ENOMEM;
		*c = (struct rds_call){ r, cb, opaque };
	}
	if (redisAsyncCommandArgv(r->ac, c ? rds_trampoline : NULL, c, a->argc,
	                          (const char **)a->argv, a->len) != REDIS_OK) {
		free(c);
		return -ENOTCONN;
	}
	return 0;
}

int rds_cmd(struct rds *r, const struct rds_args *a, rds_cb cb, void *opaque)
{
	if (a->err)
		return -E2BIG;
	if (!rds_up(r))
		return -ENOTCONN;
	return rds_send(r, a, cb, opaque);
}

int rds_tx(struct rds *r, const struct rds_args *cmds, size_t n, rds_cb cb, void *opaque)
{
	for (size_t i = 0; i < n; i++)
		if (cmds[i].err)
			return -E2BIG;
	if (!rds_up(r))
		return -ENOTCONN;
	/* All parts go into hiredis' output buffer in this one call: either every one is
	 * queued or the first fails (the context is dying) and none is. */
	struct rds_args multi;
	rds_args_init(&multi, "MULTI");
	int rc = rds_send(r, &multi, NULL, NULL);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < n; i++)
		if (rds_send(r, &cmds[i], NULL, NULL) < 0)
			return -ENOTCONN; /* unreachable: the context was alive just above */
	struct rds_args exec;
	rds_args_init(&exec, "EXEC");
	return rds_send(r, &exec, cb, opaque);
}

bool rds_reply_ok(const redisReply *r)
{
	return r != NULL && r->type != REDIS_REPLY_ERROR;
}

const redisReply *rds_hash_get(const redisReply *r, const char *field)
{
	if (r == NULL || r->type != REDIS_REPLY_ARRAY)
		return NULL;
	size_t flen = strlen(field);
	for (size_t i = 0; i + 1 < r->elements; i += 2) {
		const redisReply *k = r->element[i];
		if (k->type == REDIS_REPLY_STRING && (size_t)k->len == flen &&
		    memcmp(k->str, field, flen) == 0)
			return r->element[i + 1];
	}
	return NULL;
}
