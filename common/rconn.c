/* rconn.c - see rconn.h. hiredis 0.14 async: the context is attached to libevent before
 * the connect callback is set (that arms the first write event), and hiredis frees a
 * context itself after a failed connect or a lost connection, so c->ac is cleared in
 * those callbacks and compared against to ignore callbacks of a context we dropped. */
#include "rconn.h"

#include <errno.h>
#include <event2/event.h>
#include <hiredis/adapters/libevent.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "rauth.h"
#include "util.h"

#define WATCHDOG_MS 250

struct pend {
	struct rconn *c;
	rconn_cb cb;
	void *arg;
	int64_t sent_ms;
	struct pend *prev, *next;
};

struct rconn {
	struct event_base *base;
	char *host, *user, *password;
	int port;
	struct rconn_opts o;
	redisAsyncContext *ac;
	bool up, closing;
	int64_t connect_ms, last_reply_ms;
	rconn_state_cb state_cb;
	void *state_arg;
	struct event *ev_reconnect, *ev_watchdog;
	int backoff_ms;
	struct pend *head, *tail; /* in send order: head is the oldest */
	char last_error[512];
	char reported[512]; /* last_error as last passed to state_cb(false); "" once up */
};

static void set_error(struct rconn *c, const char *what, const char *detail)
{
	snprintf(c->last_error, sizeof c->last_error, "redis %s:%d: %s%s%s", c->host, c->port, what,
	         detail && *detail ? ": " : "", detail ? detail : "");
}

static void schedule_reconnect(struct rconn *c)
{
	if (c->closing)
		return;
	struct timeval tv = { c->backoff_ms / 1000, (c->backoff_ms % 1000) * 1000 };
	event_add(c->ev_reconnect, &tv);
	c->backoff_ms =
		c->backoff_ms * 2 > c->o.backoff_max_ms ? c->o.backoff_max_ms : c->backoff_ms * 2;
}

/* Tells the owner it is down: always after being up, otherwise when the reason changed. */
static void notify_down(struct rconn *c, bool was_up)
{
	if (c->closing || !c->state_cb)
		return;
	if (!was_up && !strcmp(c->reported, c->last_error))
		return;
	snprintf(c->reported, sizeof c->reported, "%s", c->last_error);
	c->state_cb(c->state_arg, false);
}

static void went_down(struct rconn *c)
{
	bool was = c->up;
	c->up = false;
	notify_down(c, was);
	schedule_reconnect(c);
}

static void now_up(struct rconn *c)
{
	c->up = true;
	c->backoff_ms = c->o.backoff_min_ms;
	c->last_reply_ms = util_mono_ms();
	c->last_error[0] = '\0';
	c->reported[0] = '\0';
	if (c->state_cb)
		c->state_cb(c->state_arg, true);
}

static void drop(struct rconn *c, const char *why);

static void on_auth(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct rconn *c = privdata;
	redisReply *r = reply;
	if (ac != c->ac || !r)
		return; /* dropped, or lost: on_disconnect has it */
	if (r->type == REDIS_REPLY_ERROR) {
		char why[400];
		rauth_refused(c->user, r->str, why, sizeof why);
		drop(c, why);
		return;
	}
	now_up(c);
}

static void on_connect(const redisAsyncContext *ac, int status)
{
	struct rconn *c = ac->data;
	if (ac != c->ac)
		return;
	if (status != REDIS_OK) {
		set_error(c, "connect", ac->errstr);
		c->ac = NULL; /* hiredis frees it after we return */
		went_down(c);
		return;
	}
	redisEnableKeepAlive((redisContext *)&ac->c);
	const char *argv[3];
	size_t lens[3];
	int argc = rauth_argv(c->user, c->password, argv, lens);
	if (argc == 0) {
		now_up(c);
		return;
	}
	/* up once AUTH is accepted; the watchdog's connect timeout covers an unanswered AUTH */
	if (redisAsyncCommandArgv(c->ac, on_auth, c, argc, argv, lens) != REDIS_OK)
		drop(c, "cannot send AUTH");
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
	struct rconn *c = ac->data;
	if (ac != c->ac)
		return; /* a context we dropped ourselves */
	set_error(c, "connection lost", status == REDIS_OK ? "closed" : ac->errstr);
	c->ac = NULL;
	went_down(c);
}

static void connect_now(evutil_socket_t fd, short what, void *arg)
{
	struct rconn *c = arg;
	if (c->ac || c->closing)
		return;
	redisAsyncContext *ac = redisAsyncConnect(c->host, c->port);
	if (!ac) {
		set_error(c, "connect", "out of memory");
		schedule_reconnect(c);
		return;
	}
	if (ac->err) {
		set_error(c, "connect", ac->errstr);
		redisAsyncFree(ac);
		schedule_reconnect(c);
		return;
	}
	ac->data = c;
	c->ac = ac;
	c->connect_ms = util_mono_ms();
	if (redisLibeventAttach(ac, c->base) != REDIS_OK) {
		c->ac = NULL;
		redisAsyncFree(ac);
		set_error(c, "connect", "cannot attach to the event loop");
		schedule_reconnect(c);
		return;
	}
	redisAsyncSetConnectCallback(ac, on_connect);
	redisAsyncSetDisconnectCallback(ac, on_disconnect);
}

/* Drops the connection now: pending callbacks get NULL, then we reconnect. Also valid
 * inside a hiredis callback (hiredis then frees the context when the callback returns). */
static void drop(struct rconn *c, const char *why)
{
	redisAsyncContext *ac = c->ac;
	if (!ac)
		return;
	set_error(c, why, NULL);
	c->ac = NULL;
	bool was = c->up;
	c->up = false;
	redisAsyncFree(ac); /* pending callbacks run with NULL */
	notify_down(c, was);
	schedule_reconnect(c);
}

static void watchdog(evutil_socket_t fd, short what, void *arg)
{
	struct rconn *c = arg;
	int64_t now = util_mono_ms();
	if (c->ac && !c->up && now - c->connect_ms > c->o.cmd_timeout_ms) {
		drop(c, "connect timed out");
		return;
	}
	if (c->head && now - c->head->sent_ms > c->o.cmd_timeout_ms) {
		drop(c, "no reply within the command timeout");
		return;
	}
	if (c->up && !c->head && c->o.ping_ms > 0 && now - c->last_reply_ms >= c->o.ping_ms) {
		const char *ping[] = { "PING" };
		const size_t len[] = { 4 };
		if (rconn_cmd(c, NULL, NULL, 1, ping, len) == 0)
			c->last_reply_ms = now; /* the next PING after this one's period */
	}
}

struct rconn *rconn_new(struct event_base *base, const struct rconn_opts *o,
                        rconn_state_cb state_cb, void *arg)
{
	if (!o || !o->host || o->cmd_timeout_ms <= 0)
		return NULL;
	struct rconn *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->base = base;
	c->o = *o;
	if (c->o.backoff_min_ms <= 0)
		c->o.backoff_min_ms = 100;
	if (c->o.backoff_max_ms < c->o.backoff_min_ms)
		c->o.backoff_max_ms = c->o.backoff_min_ms > 5000 ? c->o.backoff_min_ms : 5000;
	c->port = o->port;
	c->state_cb = state_cb;
	c->state_arg = arg;
	c->backoff_ms = c->o.backoff_min_ms;
	c->host = strdup(o->host);
	c->o.host = c->host;
	c->user = o->user && *o->user ? strdup(o->user) : NULL;
	c->password = o->password && *o->password ? strdup(o->password) : NULL;
	c->o.user = c->user;
	c->o.password = c->password;
	c->ev_reconnect = evtimer_new(base, connect_now, c);
	c->ev_watchdog = event_new(base, -1, EV_PERSIST, watchdog, c);
	if (!c->host || !c->ev_reconnect || !c->ev_watchdog || (o->user && *o->user && !c->user) ||
	    (o->password && *o->password && !c->password)) {
		rconn_free(c);
		return NULL;
	}
	struct timeval tv = { 0, WATCHDOG_MS * 1000 };
	event_add(c->ev_watchdog, &tv);
	set_error(c, "connect", "not connected yet");
	connect_now(-1, 0, c);
	return c;
}

bool rconn_up(const struct rconn *c)
{
	return c && c->up && c->ac;
}

const char *rconn_last_error(const struct rconn *c)
{
	return c->last_error;
}

static void unlink_pend(struct rconn *c, struct pend *p)
{
	if (p->prev)
		p->prev->next = p->next;
	else
		c->head = p->next;
	if (p->next)
		p->next->prev = p->prev;
	else
		c->tail = p->prev;
}

static void on_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct pend *p = privdata;
	struct rconn *c = p->c;
	unlink_pend(c, p);
	if (reply)
		c->last_reply_ms = util_mono_ms();
	if (p->cb)
		p->cb(p->arg, reply);
	free(p);
}

int rconn_cmd(struct rconn *c, rconn_cb cb, void *arg, int argc, const char **argv,
              const size_t *lens)
{
	if (!c->up || !c->ac || c->closing)
		return -ENOTCONN;
	struct pend *p = calloc(1, sizeof *p);
	if (!p)
		return -ENOMEM;
	p->c = c;
	p->cb = cb;
	p->arg = arg;
	p->sent_ms = util_mono_ms();
	if (redisAsyncCommandArgv(c->ac, on_reply, p, argc, argv, lens) != REDIS_OK) {
		free(p);
		return -ENOTCONN;
	}
	p->prev = c->tail;
	if (c->tail)
		c->tail->next = p;
	else
		c->head = p;
	c->tail = p;
	return 0;
}

void rconn_free(struct rconn *c)
{
	if (!c)
		return;
	c->closing = true;
	if (c->ac) {
		redisAsyncContext *ac = c->ac;
		c->ac = NULL;
		redisAsyncFree(ac); /* pending callbacks run with NULL */
	}
	if (c->ev_reconnect)
		event_free(c->ev_reconnect);
	if (c->ev_watchdog)
		event_free(c->ev_watchdog);
	free(c->host);
	free(c->user);
	if (c->password) {
		OPENSSL_cleanse(c->password, strlen(c->password));
		free(c->password);
	}
	free(c);
}
