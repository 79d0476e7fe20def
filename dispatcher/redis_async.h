/* redis_async.h - the dispatcher's one Redis connection (common/rconn.h underneath:
 * reconnect with backoff, TCP keepalive, a command timeout and an idle PING), command
 * argument building, MULTI/EXEC, and an "up" flag the HTTP layer turns into 503 (and
 * /healthz into "redis down", within the command timeout of Redis going silent).
 * Every callback runs on the loop thread and is called exactly once per accepted command:
 * with the reply (maybe an error reply), or with NULL when the connection was lost or
 * dropped (command timeout) or the client is freed. */
#pragma once
#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stddef.h>

struct event_base;
struct rds;

#define RDS_MAX_ARGS 32
#define RDS_ARENA 1024

/* One command's arguments. Strings added with rds_args_str/bin are referenced, not
 * copied: they must live until rds_cmd()/rds_tx() returns (hiredis copies them then).
 * Formatted arguments live in the struct's arena. Overflow sets err (a bug, not input). */
struct rds_args {
	int argc;
	bool err;
	const char *argv[RDS_MAX_ARGS];
	size_t len[RDS_MAX_ARGS];
	size_t used;
	char arena[RDS_ARENA];
};

void rds_args_init(struct rds_args *a, const char *cmd);
void rds_args_str(struct rds_args *a, const char *s);
void rds_args_bin(struct rds_args *a, const void *p, size_t n);
void rds_args_fmt(struct rds_args *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void rds_args_ll(struct rds_args *a, long long v);

/* reply is NULL when the command could not complete (connection lost). It is owned by
 * hiredis and valid only during the call. */
typedef void (*rds_cb)(void *opaque, const redisReply *reply);

/* Starts connecting to host:port; never blocks. A command unanswered for cmd_timeout_ms
 * drops the connection. With a password (user may be NULL), every connection starts with
 * AUTH (both copied). Returns NULL only on ENOMEM. */
struct rds *rds_new(struct event_base *base, const char *host, int port, int cmd_timeout_ms,
                    const char *user, const char *password);
/* Why Redis is down ("" while up): connection refused, credentials refused, ... */
const char *rds_last_error(const struct rds *r);
/* Closes the connection: pending callbacks get NULL. rds_free(NULL) is a no-op. */
void rds_free(struct rds *r);
bool rds_up(const struct rds *r);

/* Sends one command. Returns 0 (cb will be called once), -ENOTCONN when Redis is down,
 * -E2BIG for an args overflow. */
int rds_cmd(struct rds *r, const struct rds_args *a, rds_cb cb, void *opaque);
/* MULTI, the n commands, EXEC; cb gets EXEC's reply (an array with one reply per command,
 * an error reply if the transaction was refused). Same returns as rds_cmd. */
int rds_tx(struct rds *r, const struct rds_args *cmds, size_t n, rds_cb cb, void *opaque);

/* Helpers over replies (NULL-safe). */
bool rds_reply_ok(const redisReply *r); /* not NULL and not an error */
/* Value of field in an HGETALL reply (array k,v,...), NULL if absent. */
const redisReply *rds_hash_get(const redisReply *r, const char *field);
