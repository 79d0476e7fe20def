/* rconn.h - one Redis connection on a libevent loop, as both daemons use it (hiredis 0.14
 * async API): it connects by itself and comes back after a loss (backoff), has TCP
 * keepalive, and a command timeout: a command unanswered for cmd_timeout_ms, or a
 * connect that does not finish in that time, drops the connection, so "up" never lies
 * for longer than that. When idle it sends a PING every ping_ms, so a silent server (a
 * network partition, a stopped process) is noticed without traffic.
 * Never logs (a library): state changes go to a callback, the reason to
 * rconn_last_error(). Not thread-safe; everything runs on the loop's thread.
 * With a password, every (re)connect sends AUTH [user] password first and counts as up
 * only once Redis accepted it; a refusal drops the connection and retries with backoff
 * (an operator may fix the ACL without restarting the daemon). */
#pragma once
#include <stdbool.h>
#include <stddef.h>

struct event_base;
struct redisReply;
struct rconn;

struct rconn_opts {
	const char *host; /* copied */
	int port;
	int cmd_timeout_ms;                 /* > 0 */
	int ping_ms;                        /* idle PING period; 0: none */
	int backoff_min_ms, backoff_max_ms; /* reconnect delays (0: 100 and 5000) */
	const char *user;                   /* copied; NULL or "": AUTH with the password alone */
	const char *password;               /* copied, wiped on free; NULL or "": no AUTH */
};

/* r is the reply (it may be an error reply: REDIS_REPLY_ERROR), or NULL when none came:
 * the connection was lost or dropped (command timeout), or rconn_free(). Valid during the
 * call only. Called exactly once per accepted command, from the loop (or rconn_free). */
typedef void (*rconn_cb)(void *arg, struct redisReply *r);
/* up after (re)connecting (and AUTH); down when the connection is lost or dropped, and
 * when an attempt fails for another reason than the one last reported (refused, then
 * credentials refused, ...): a daemon that logs every call logs once per change, not
 * once per retry. */
typedef void (*rconn_state_cb)(void *arg, bool up);

/* Starts connecting (never blocks). Returns NULL only on ENOMEM or bad options. */
struct rconn *rconn_new(struct event_base *base, const struct rconn_opts *o,
                        rconn_state_cb state_cb, void *arg);
bool rconn_up(const struct rconn *c);
/* Why it is down, or the last connection problem ("" after a good connect). */
const char *rconn_last_error(const struct rconn *c);
/* Sends a binary-safe command. cb may be NULL (the reply is dropped; the command still
 * counts for the timeout). Returns 0 (cb will be called), -ENOTCONN or -ENOMEM (it will
 * not). */
int rconn_cmd(struct rconn *c, rconn_cb cb, void *arg, int argc, const char **argv,
              const size_t *lens);
/* Pending commands get their callback with NULL, then everything is freed. NULL is a
 * no-op. */
void rconn_free(struct rconn *c);
