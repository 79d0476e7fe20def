/* redis_async.c - the dispatcher's Redis link (see redis_async.h) over common/rconn.c,
 * the connection module the node uses too: reconnect with backoff, TCP keepalive, a
 * command timeout and an idle PING, so "up" (and /healthz) turns false within
 * the command timeout when Redis stops answering. */
#include "redis_async.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "rconn.h"

#define RDS_PING_MS 1000

struct rds {
	struct rconn *c;
	char host[256];
	int port;
};

/* Per-command trampoline: callers get only their opaque pointer and the reply. */
struct rds_call {
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

static void rds_on_state(void *arg, bool up)
{
	struct rds *r = arg;
	if (up)
		LOG_INFO("redis %s:%d: connected", r->host, r->port);
	else
		LOG_WARN("%s", rconn_last_error(r->c));
}

struct rds *rds_new(struct event_base *base, const char *host, int port, int cmd_timeout_ms,
                    const char *user, const char *password)
{
	struct rds *r = calloc(1, sizeof *r);
	if (r == NULL)
		return NULL;
	snprintf(r->host, sizeof r->host, "%s", host);
	r->port = port;
	const struct rconn_opts o = {
		.host = host,
		.port = port,
		.cmd_timeout_ms = cmd_timeout_ms,
		.ping_ms = RDS_PING_MS,
		.backoff_min_ms = 100,
		.backoff_max_ms = 2000,
		.user = user,
		.password = password,
	};
	r->c = rconn_new(base, &o, rds_on_state, r);
	if (r->c == NULL) {
		free(r);
		return NULL;
	}
	return r;
}

void rds_free(struct rds *r)
{
	if (r == NULL)
		return;
	rconn_free(r->c); /* runs pending callbacks with NULL */
	free(r);
}

bool rds_up(const struct rds *r)
{
	return r && rconn_up(r->c);
}

const char *rds_last_error(const struct rds *r)
{
	return rds_up(r) ? "" : rconn_last_error(r->c);
}

static void rds_trampoline(void *arg, struct redisReply *reply)
{
	struct rds_call *c = arg;
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
		*c = (struct rds_call){ cb, opaque };
	}
	int rc = rconn_cmd(r->c, c ? rds_trampoline : NULL, c, a->argc, (const char **)a->argv,
	                   a->len);
	if (rc < 0)
		free(c);
	return rc;
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
	/* All parts go into hiredis' output buffer in this one turn of the loop: either every
	 * one is queued or the first fails (the context is dying) and none is. */
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
