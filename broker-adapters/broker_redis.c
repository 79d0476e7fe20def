/* broker_redis.c - the Redis Streams adapter of broker.h, on hiredis 0.14 (blocking API).
 *
 * Model: the jobs are entries of one stream (cfg->topic, e.g. "gq:jobs"), fields "job"
 * (the GradingJob bytes) and "key" (the student); the grader nodes are the members of one
 * consumer group (cfg->group), each under its own consumer name (cfg->client_id, the node
 * id). A member reads an entry with XREADGROUP; the entry stays in the group's pending
 * list (PEL) until broker_done() XACKs it, which the node does only after the result is
 * persisted (the rule Kafka offsets follow). Entries of a member that died or stopped
 * answering are claimed by the others with XAUTOCLAIM once idle for the visibility
 * timeout; a member keeps the entries it holds alive by resetting their idle time every
 * third of that timeout (XCLAIM ... JUSTID to itself, only while it still owns them, and
 * only while its event loop still calls broker_poll()). An entry whose delivery count
 * passes max_deliveries, and an entry that is not a job at all, goes to the dead-letter
 * stream (cfg->dlq_topic, default "<stream>:dlq") with the reason, and is XACKed in the
 * same transaction.
 *
 * Threading: hiredis' blocking calls (XREADGROUP BLOCK above all) run on a thread of the
 * adapter's own with its own connection, like librdkafka's threads behind the Kafka
 * adapter; nothing blocks the daemon's event loop. The loop hands the thread commands
 * (publish, ack, dead letter, give back) through a queue; the thread hands back events
 * (publish acks, messages, lost leases, log lines) through another queue and a
 * non-blocking pipe (broker_fd()); every callback runs inside broker_poll() or
 * broker_next(), on the caller's thread.
 *
 * Partitions: a stream has none. Each message handed out carries a lease number in
 * broker_msg.partition; the rebalance callback reports a lease as revoked when the
 * message was claimed by another member meanwhile (the node stops that job, as on a
 * Kafka revoke). broker_msg.offset is the millisecond part of the entry id.
 *
 * Everything read from Redis is hostile: reply shapes, ids, field counts and sizes are
 * checked before anything is copied or decoded. */
#include <errno.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "rauth.h"
#include "broker_int.h"

#define R_BLOCK_MS 200        /* longest XREADGROUP BLOCK: acks wait at most this */
#define R_IO_TIMEOUT_MS 5000  /* socket timeout of every call */
#define R_CLAIM_EVERY_MS 1000 /* XAUTOCLAIM scan of idle entries */
#define R_TRIM_EVERY_MS 1000  /* XTRIM MINID after publishes or acks */
#define R_BACKOFF_MIN_MS 100
#define R_BACKOFF_MAX_MS 2000
#define R_ID_MAX 41 /* "<20 digits>-<20 digits>" */
#define R_KEY_MAX 256
#define R_PAYLOAD_MAX (1 << 20) /* larger entries are dead-lettered without a copy */
#define R_FIELDS_MAX 64
#define R_DLQ_MAXLEN "100000" /* approximate cap of the dead-letter stream */
#define R_VISIBILITY_DEFAULT_MS 15000
#define R_MAX_DELIVERIES_DEFAULT 5
#define R_KEEP_BATCH 64

enum rop { OP_PUBLISH, OP_ACK, OP_DLQ, OP_RELEASE };

struct rcmd { /* loop -> thread; owned by the queue, then by the thread */
	enum rop op;
	struct rcmd *next;
	char id[R_ID_MAX + 1];
	char *key;
	uint8_t *payload;
	size_t len;
	char *reason;
	int deliveries;
	broker_ack_cb cb;
	void *opaque;
};

struct rmsg {
	struct broker_msg pub; /* first member */
	char id[R_ID_MAX + 1];
	char *key;
	uint8_t *payload;
	int deliveries;
	struct rmsg *next; /* stash */
};

enum rev { EV_PUBACK, EV_MSG, EV_LOST, EV_LOG };

struct revt { /* thread -> loop */
	enum rev kind;
	struct revt *next;
	broker_ack_cb cb;
	void *opaque;
	int err;
	bool retriable;
	int level;
	char *text;
	struct rmsg *msg;
	int32_t lease;
};

struct held { /* thread only: entries handed to the loop and not yet settled */
	char id[R_ID_MAX + 1];
	int32_t lease;
	struct held *next;
};

struct rbroker {
	struct broker base; /* first member */
	char *host;
	char *user, *password; /* AUTH on every connection (password NULL: none) */
	int port;
	char *stream, *dlq, *group, *consumer;
	int visibility_ms, max_deliveries;
	void (*log_cb)(void *, int, const char *);
	void *log_opaque;
	broker_rebalance_cb rcb;
	void *ropaque;
	int pipefd[2];
	pthread_t thread;
	bool started;
	/* under mu */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct rcmd *cmd_head, *cmd_tail;
	struct revt *ev_head, *ev_tail;
	size_t cmds_open; /* queued or being executed */
	bool stop, closing, paused, up;
	int stashed; /* EV_MSG posted, not yet handed out by broker_next() */
	int64_t last_poll_ms;
	/* loop only */
	struct rmsg *stash, *stash_tail;
	size_t pub_outstanding;
	bool closed;
	/* thread only */
	redisContext *c;
	struct held *held;
	int32_t next_lease;
	int64_t next_claim, next_keep, next_trim;
	bool dirty, history_done, down_logged;
	char down_why[256]; /* the reason last logged: a new one is logged again */
	char history_from[R_ID_MAX + 1];
	char claim_cursor[R_ID_MAX + 1];
	int backoff_ms;
};

static struct rbroker *rb_of(const struct broker *b)
{
	return (struct rbroker *)b;
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the two queues ---- */

static void wake_loop(struct rbroker *rb)
{
	char c = 'r';
	ssize_t w = write(rb->pipefd[1], &c, 1); /* full pipe: a wake-up is pending anyway */
	(void)w;
}

static void post(struct rbroker *rb, struct revt *e)
{
	pthread_mutex_lock(&rb->mu);
	e->next = NULL;
	if (rb->ev_tail)
		rb->ev_tail->next = e;
	else
		rb->ev_head = e;
	rb->ev_tail = e;
	if (e->kind == EV_MSG)
		rb->stashed++;
	pthread_mutex_unlock(&rb->mu);
	wake_loop(rb);
}

__attribute__((format(printf, 3, 4))) static void rlog(struct rbroker *rb, int level,
                                                       const char *fmt, ...)
{
	if (!rb->log_cb)
		return;
	struct revt *e = calloc(1, sizeof *e);
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (!e || !(e->text = strdup(buf))) {
		free(e);
		return;
	}
	e->kind = EV_LOG;
	e->level = level;
	post(rb, e);
}

static void cmd_free(struct rcmd *c)
{
	if (!c)
		return;
	free(c->key);
	free(c->payload);
	free(c->reason);
	free(c);
}

static void rmsg_free(struct rmsg *m)
{
	if (!m)
		return;
	free(m->key);
	free(m->payload);
	free(m);
}

static void ev_free(struct revt *e)
{
	if (!e)
		return;
	free(e->text);
	rmsg_free(e->msg);
	free(e);
}

static int enqueue(struct rbroker *rb, struct rcmd *c)
{
	pthread_mutex_lock(&rb->mu);
	c->next = NULL;
	if (rb->cmd_tail)
		rb->cmd_tail->next = c;
	else
		rb->cmd_head = c;
	rb->cmd_tail = c;
	rb->cmds_open++;
	pthread_cond_signal(&rb->cv);
	pthread_mutex_unlock(&rb->mu);
	return 0;
}

/* ---- validation of what Redis returns ---- */

static bool id_valid(const redisReply *r)
{
	if (!r || r->type != REDIS_REPLY_STRING || r->len < 3 || r->len > R_ID_MAX)
		return false;
	int dash = 0;
	for (size_t i = 0; i < (size_t)r->len; i++) {
		char ch = r->str[i];
		if (ch == '-') {
			if (++dash > 1 || i == 0 || i == (size_t)r->len - 1)
				return false;
		} else if (ch < '0' || ch > '9') {
			return false;
		}
	}
	return dash == 1;
}

static int64_t id_ms(const char *id)
{
	return strtoll(id, NULL, 10);
}

static bool is_err(const redisReply *r, const char *prefix)
{
	return r && r->type == REDIS_REPLY_ERROR && r->str &&
	       !strncmp(r->str, prefix, strlen(prefix));
}

/* ---- the connection (thread) ---- */

static void disconnect(struct rbroker *rb, const char *why)
{
	if (rb->c) {
		redisFree(rb->c);
		rb->c = NULL;
	}
	pthread_mutex_lock(&rb->mu);
	bool was = rb->up;
	rb->up = false;
	pthread_mutex_unlock(&rb->mu);
	if (was || !rb->down_logged || strncmp(rb->down_why, why, sizeof rb->down_why - 1))
		rlog(rb, LOG_WARNING, "redis %s:%d: %s", rb->host, rb->port, why);
	rb->down_logged = true;
	snprintf(rb->down_why, sizeof rb->down_why, "%s", why);
}

/* One command; NULL (and the connection dropped) when Redis did not answer. */
static redisReply *call(struct rbroker *rb, int argc, const char **argv, const size_t *lens)
{
	if (!rb->c)
		return NULL;
	redisReply *r = redisCommandArgv(rb->c, argc, argv, lens);
	if (!r) {
		char why[160];
		snprintf(why, sizeof why, "%s", rb->c->errstr[0] ? rb->c->errstr : "no reply");
		disconnect(rb, why);
	}
	return r;
}

static redisReply *callv(struct rbroker *rb, int argc, const char **argv)
{
	size_t lens[32];
	for (int i = 0; i < argc; i++)
		lens[i] = strlen(argv[i]);
	return call(rb, argc, argv, lens);
}

static void ensure_group(struct rbroker *rb)
{
	if (!rb->group)
		return;
	const char *a[] = { "XGROUP", "CREATE", rb->stream, rb->group, "0", "MKSTREAM" };
	redisReply *r = callv(rb, 6, a);
	if (r && r->type == REDIS_REPLY_ERROR && !is_err(r, "BUSYGROUP"))
		rlog(rb, LOG_ERR, "XGROUP CREATE %s %s: %s", rb->stream, rb->group, r->str);
	if (r)
		freeReplyObject(r);
}

static bool connect_now(struct rbroker *rb)
{
	struct timeval tv = { R_IO_TIMEOUT_MS / 1000, 0 };
	redisContext *c = redisConnectWithTimeout(rb->host, rb->port, tv);
	if (!c || c->err) {
		char why[160];
		snprintf(why, sizeof why, "%s", c ? c->errstr : "out of memory");
		if (c)
			redisFree(c);
		disconnect(rb, why);
		return false;
	}
	redisSetTimeout(c, tv);
	char why[400];
	if (rauth_sync(c, rb->user, rb->password, why, sizeof why) < 0) {
		redisFree(c);
		disconnect(rb, why);
		return false;
	}
	rb->c = c;
	ensure_group(rb);
	if (!rb->c)
		return false;
	pthread_mutex_lock(&rb->mu);
	rb->up = true;
	pthread_mutex_unlock(&rb->mu);
	if (rb->down_logged)
		rlog(rb, LOG_INFO, "redis %s:%d: connected (stream %s)", rb->host, rb->port,
		     rb->stream);
	rb->down_logged = false;
	rb->backoff_ms = 0;
	return true;
}

/* ---- held entries (thread) ---- */

static struct held *held_find(struct rbroker *rb, const char *id, struct held ***where)
{
	for (struct held **pp = &rb->held; *pp; pp = &(*pp)->next) {
		if (!strcmp((*pp)->id, id)) {
			if (where)
				*where = pp;
			return *pp;
		}
	}
	return NULL;
}

static bool held_remove(struct rbroker *rb, const char *id)
{
	struct held **pp;
	struct held *h = held_find(rb, id, &pp);
	if (!h)
		return false;
	*pp = h->next;
	free(h);
	return true;
}

/* Resets the idle time of ids (idle_ms 0: keep them; large: give them back for anyone's
 * next XAUTOCLAIM) where this consumer still owns them; returns the ones it no longer
 * owns (claimed by another member), or NULL on a failed call. */
static const char KEEP_LUA[] =
	"local lost = {}\n"
	"for i = 4, #ARGV do\n"
	"  local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)\n"
	"  if p[1] and p[1][2] == ARGV[2] then\n"
	"    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'IDLE', ARGV[3],"
	" 'JUSTID')\n"
	"  else\n"
	"    lost[#lost + 1] = ARGV[i]\n"
	"  end\n"
	"end\n"
	"return lost\n";

static redisReply *keep_call(struct rbroker *rb, const char *const *ids, size_t n, long idle_ms)
{
	const char *argv[8 + R_KEEP_BATCH];
	char idle[32];
	snprintf(idle, sizeof idle, "%ld", idle_ms);
	int k = 0;
	argv[k++] = "EVAL";
	argv[k++] = KEEP_LUA;
	argv[k++] = "1";
	argv[k++] = rb->stream;
	argv[k++] = rb->group;
	argv[k++] = rb->consumer;
	argv[k++] = idle;
	for (size_t i = 0; i < n; i++)
		argv[k++] = ids[i];
	redisReply *r = callv(rb, k, argv);
	if (r && r->type != REDIS_REPLY_ARRAY) {
		rlog(rb, LOG_WARNING, "keeping leases: %s",
		     r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
		freeReplyObject(r);
		return NULL;
	}
	return r;
}

static void keep_alive(struct rbroker *rb)
{
	const char *ids[R_KEEP_BATCH];
	struct held *h = rb->held;
	while (h && rb->c) {
		size_t n = 0;
		for (; h && n < R_KEEP_BATCH; h = h->next)
			ids[n++] = h->id;
		redisReply *r = keep_call(rb, ids, n, 0);
		if (!r)
			return;
		for (size_t i = 0; i < r->elements; i++) {
			const redisReply *e = r->element[i];
			if (!id_valid(e))
				continue;
			char id[R_ID_MAX + 1];
			memcpy(id, e->str, (size_t)e->len);
			id[e->len] = '\0';
			struct held *lost = held_find(rb, id, NULL);
			if (!lost)
				continue;
			struct revt *ev = calloc(1, sizeof *ev);
			if (ev) {
				ev->kind = EV_LOST;
				ev->lease = lost->lease;
				rlog(rb, LOG_WARNING,
				     "entry %s (lease %d) was claimed by another member", id,
				     (int)lost->lease);
				post(rb, ev);
			}
			if (lost == h) /* not reachable: h moved past the batch */
				h = h->next;
			held_remove(rb, id);
		}
		freeReplyObject(r);
	}
}

/* ---- trimming: only below every group's oldest unacknowledged entry ---- */

static const char TRIM_LUA[] =
	"local groups = redis.pcall('XINFO', 'GROUPS', KEYS[1])\n"
	"if type(groups) ~= 'table' or groups.err or #groups == 0 then return -1 end\n"
	"local best_ms, best_seq\n"
	"for _, g in ipairs(groups) do\n"
	"  local name, last\n"
	"  for i = 1, #g, 2 do\n"
	"    if g[i] == 'name' then name = g[i + 1] end\n"
	"    if g[i] == 'last-delivered-id' then last = g[i + 1] end\n"
	"  end\n"
	"  if not name or not last then return -1 end\n"
	"  local p = redis.call('XPENDING', KEYS[1], name)\n"
	"  local ms, seq\n"
	"  if p[1] > 0 then\n"
	"    ms, seq = string.match(p[2], '^(%d+)-(%d+)$')\n"
	"    ms, seq = tonumber(ms), tonumber(seq)\n"
	"  else\n"
	"    ms, seq = string.match(last, '^(%d+)-(%d+)$')\n"
	"    ms, seq = tonumber(ms), tonumber(seq) + 1\n"
	"  end\n"
	"  if not ms then return -1 end\n"
	"  if not best_ms or ms < best_ms or (ms == best_ms and seq < best_seq) then\n"
	"    best_ms, best_seq = ms, seq\n"
	"  end\n"
	"end\n"
	"return redis.call('XTRIM', KEYS[1], 'MINID',"
	" string.format('%d-%d', best_ms, best_seq))\n";

static void trim(struct rbroker *rb)
{
	const char *a[] = { "EVAL", TRIM_LUA, "1", rb->stream };
	redisReply *r = callv(rb, 4, a);
	if (!r)
		return;
	if (r->type == REDIS_REPLY_ERROR)
		rlog(rb, LOG_WARNING, "trim %s: %s", rb->stream, r->str);
	else
		rb->dirty = false;
	freeReplyObject(r);
}

/* ---- commands (thread) ---- */

/* Returns false when the connection failed (the command is to be repeated). */
static bool run_publish(struct rbroker *rb, struct rcmd *c)
{
	struct revt *e = calloc(1, sizeof *e);
	if (!e)
		return true; /* cannot report: the process is out of memory anyway */
	e->kind = EV_PUBACK;
	e->cb = c->cb;
	e->opaque = c->opaque;
	if (!rb->c) {
		e->err = -ECONNREFUSED;
		e->retriable = true;
		e->text = strdup("redis is not reachable");
		post(rb, e);
		return true;
	}
	const char *argv[] = { "XADD",
		               rb->stream,
		               "*",
		               "key",
		               c->key ? c->key : "",
		               "job",
		               (const char *)c->payload };
	size_t lens[] = { 4, strlen(rb->stream), 1, 3, c->key ? strlen(c->key) : 0, 3, c->len };
	redisReply *r = call(rb, 7, argv, lens);
	if (!r) {
		/* sent, maybe applied: at least once, the client submits again */
		e->err = -EIO;
		e->retriable = true;
		e->text = strdup("connection to redis lost during the publish");
	} else if (r->type != REDIS_REPLY_STRING) {
		e->err = is_err(r, "OOM") ? -ENOSPC : -EIO;
		e->retriable = is_err(r, "OOM") || is_err(r, "LOADING") || is_err(r, "BUSY");
		e->text = strdup(r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
	} else {
		/* only members trim (after their acks): a producer's Redis user may add jobs but
		 * never remove any (security/redis-users.acl.in) */
		rb->dirty = rb->base.consumer;
	}
	if (r)
		freeReplyObject(r);
	post(rb, e);
	return true;
}

static bool run_ack(struct rbroker *rb, struct rcmd *c)
{
	const char *a[] = { "XACK", rb->stream, rb->group, c->id };
	redisReply *r = callv(rb, 4, a);
	if (!r)
		return false;
	if (r->type != REDIS_REPLY_INTEGER)
		rlog(rb, LOG_WARNING, "XACK %s: %s", c->id,
		     r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
	freeReplyObject(r);
	held_remove(rb, c->id);
	rb->dirty = true;
	return true;
}

static bool run_dlq(struct rbroker *rb, struct rcmd *c)
{
	char n[16];
	snprintf(n, sizeof n, "%d", c->deliveries);
	const char *multi[] = { "MULTI" };
	const char *xadd[] = { "XADD",       rb->dlq,
		               "MAXLEN",     "~",
		               R_DLQ_MAXLEN, "*",
		               "job",        (const char *)c->payload,
		               "key",        c->key ? c->key : "",
		               "reason",     c->reason ? c->reason : "",
		               "source",     c->id,
		               "deliveries", n };
	size_t xl[sizeof xadd / sizeof xadd[0]];
	for (size_t i = 0; i < sizeof xadd / sizeof xadd[0]; i++)
		xl[i] = i == 7 ? c->len : strlen(xadd[i] ? xadd[i] : "");
	if (!c->payload)
		xadd[7] = "";
	const char *ack[] = { "XACK", rb->stream, rb->group, c->id };
	const char *exec[] = { "EXEC" };
	redisReply *r = callv(rb, 1, multi);
	if (!r)
		return false;
	freeReplyObject(r);
	if (!(r = call(rb, (int)(sizeof xadd / sizeof xadd[0]), xadd, xl)))
		return false;
	freeReplyObject(r);
	if (!(r = callv(rb, 4, ack)))
		return false;
	freeReplyObject(r);
	if (!(r = callv(rb, 1, exec)))
		return false;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[0]->type != REDIS_REPLY_STRING)
		rlog(rb, LOG_ERR, "dead letter of %s not written: %s", c->id,
		     r->type == REDIS_REPLY_ERROR ? r->str : "transaction failed");
	else
		rlog(rb, LOG_WARNING, "entry %s dead-lettered to %s: %s", c->id, rb->dlq,
		     c->reason ? c->reason : "");
	freeReplyObject(r);
	held_remove(rb, c->id);
	rb->dirty = true;
	return true;
}

static bool run_release(struct rbroker *rb, struct rcmd *c)
{
	if (!held_find(rb, c->id, NULL))
		return true; /* already lost to another member */
	const char *ids[] = { c->id };
	/* idle far beyond the timeout: the next XAUTOCLAIM of any member takes it */
	redisReply *r = keep_call(rb, ids, 1, 1000L * 1000 * 1000);
	if (!r && !rb->c)
		return false;
	if (r)
		freeReplyObject(r);
	held_remove(rb, c->id);
	return true;
}

static void run_commands(struct rbroker *rb)
{
	pthread_mutex_lock(&rb->mu);
	struct rcmd *list = rb->cmd_head;
	rb->cmd_head = rb->cmd_tail = NULL;
	pthread_mutex_unlock(&rb->mu);
	while (list) {
		struct rcmd *c = list;
		bool ok = true;
		if (c->op == OP_PUBLISH)
			ok = run_publish(rb, c);
		else if (!rb->c)
			ok = false;
		else if (c->op == OP_ACK)
			ok = run_ack(rb, c);
		else if (c->op == OP_DLQ)
			ok = run_dlq(rb, c);
		else
			ok = run_release(rb, c);
		if (!ok)
			break; /* the connection failed: c and the rest go back to the front */
		list = c->next;
		cmd_free(c);
		pthread_mutex_lock(&rb->mu);
		rb->cmds_open--;
		pthread_mutex_unlock(&rb->mu);
	}
	if (list) {
		struct rcmd *tail = list;
		while (tail->next)
			tail = tail->next;
		pthread_mutex_lock(&rb->mu);
		tail->next = rb->cmd_head;
		if (!rb->cmd_head)
			rb->cmd_tail = tail;
		rb->cmd_head = list;
		pthread_mutex_unlock(&rb->mu);
	}
}

/* ---- deliveries (thread) ---- */

/* The delivery count of an entry this consumer now owns; 0 when unknown. */
static int deliveries_of(struct rbroker *rb, const char *id)
{
	const char *a[] = { "XPENDING", rb->stream, rb->group, id, id, "1" };
	redisReply *r = callv(rb, 6, a);
	int n = 0;
	if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 1 &&
	    r->element[0]->type == REDIS_REPLY_ARRAY && r->element[0]->elements == 4 &&
	    r->element[0]->element[3]->type == REDIS_REPLY_INTEGER) {
		long long v = r->element[0]->element[3]->integer;
		n = v < 0 ? 0 : v > 1000000 ? 1000000 : (int)v;
	}
	if (r)
		freeReplyObject(r);
	return n;
}

/* Queues a dead letter from the thread itself (poison, or delivered too often). */
static void dead_letter_here(struct rbroker *rb, const char *id, const redisReply *job,
                             const redisReply *key, int deliveries, const char *reason)
{
	struct rcmd *c = calloc(1, sizeof *c);
	if (!c)
		return;
	c->op = OP_DLQ;
	snprintf(c->id, sizeof c->id, "%s", id);
	c->deliveries = deliveries;
	c->reason = strdup(reason);
	if (job && job->len <= R_PAYLOAD_MAX) {
		c->payload = malloc((size_t)job->len + 1);
		if (c->payload) {
			memcpy(c->payload, job->str, (size_t)job->len);
			c->len = (size_t)job->len;
		}
	}
	if (key) {
		c->key = malloc((size_t)key->len + 1);
		if (c->key) {
			memcpy(c->key, key->str, (size_t)key->len);
			c->key[key->len] = '\0';
		}
	}
	enqueue(rb, c);
}

/* One entry [id, fields] read or claimed; deliveries 0 = ask Redis. */
static void deliver(struct rbroker *rb, const redisReply *ent, int deliveries)
{
	if (!ent || ent->type != REDIS_REPLY_ARRAY || ent->elements != 2 ||
	    !id_valid(ent->element[0])) {
		rlog(rb, LOG_ERR, "stream %s: an entry of unexpected shape; ignored", rb->stream);
		return;
	}
	char id[R_ID_MAX + 1];
	memcpy(id, ent->element[0]->str, (size_t)ent->element[0]->len);
	id[ent->element[0]->len] = '\0';
	const redisReply *f = ent->element[1];
	if (f->type == REDIS_REPLY_NIL) { /* deleted from the stream while pending */
		const char *a[] = { "XACK", rb->stream, rb->group, id };
		redisReply *r = callv(rb, 4, a);
		if (r)
			freeReplyObject(r);
		return;
	}
	if (deliveries <= 0)
		deliveries = deliveries_of(rb, id);
	const redisReply *job = NULL, *key = NULL;
	bool shape =
		f->type == REDIS_REPLY_ARRAY && f->elements % 2 == 0 && f->elements <= R_FIELDS_MAX;
	for (size_t i = 0; shape && i < f->elements; i += 2) {
		const redisReply *k = f->element[i], *v = f->element[i + 1];
		if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING) {
			shape = false;
			break;
		}
		if (k->len == 3 && !memcmp(k->str, "job", 3))
			job = v;
		else if (k->len == 3 && !memcmp(k->str, "key", 3))
			key = v;
	}
	if (key && (key->len > R_KEY_MAX || memchr(key->str, '\0', (size_t)key->len)))
		key = NULL;
	char reason[200];
	if (!shape || !job) {
		dead_letter_here(rb, id, NULL, key, deliveries,
		                 "undecodable job (bad message): the entry has no job field");
		return;
	}
	if (job->len > R_PAYLOAD_MAX) {
		snprintf(reason, sizeof reason, "undecodable job (too large): %zu bytes",
		         (size_t)job->len);
		dead_letter_here(rb, id, NULL, key, deliveries, reason);
		return;
	}
	if (deliveries > rb->max_deliveries) {
		snprintf(reason, sizeof reason,
		         "delivered %d times (limit %d): every grader that took it died or stopped "
		         "answering",
		         deliveries, rb->max_deliveries);
		dead_letter_here(rb, id, job, key, deliveries, reason);
		return;
	}
	struct held *h = calloc(1, sizeof *h);
	struct rmsg *m = calloc(1, sizeof *m);
	struct revt *e = calloc(1, sizeof *e);
	if (m) {
		m->payload = malloc((size_t)job->len + 1);
		if (key)
			m->key = malloc((size_t)key->len + 1);
	}
	if (!h || !m || !e || !m->payload || (key && !m->key)) {
		/* not handed out: it stays pending and is claimed after the timeout */
		rlog(rb, LOG_ERR, "out of memory for entry %s", id);
		free(h);
		rmsg_free(m);
		free(e);
		return;
	}
	memcpy(m->payload, job->str, (size_t)job->len);
	if (key) {
		memcpy(m->key, key->str, (size_t)key->len);
		m->key[key->len] = '\0';
	}
	snprintf(m->id, sizeof m->id, "%s", id);
	m->deliveries = deliveries;
	m->pub.payload = m->payload;
	m->pub.len = (size_t)job->len;
	m->pub.key = m->key;
	m->pub.partition = rb->next_lease;
	m->pub.offset = id_ms(id);
	snprintf(h->id, sizeof h->id, "%s", id);
	h->lease = rb->next_lease;
	rb->next_lease = rb->next_lease == INT32_MAX ? 0 : rb->next_lease + 1;
	h->next = rb->held;
	rb->held = h;
	e->kind = EV_MSG;
	e->msg = m;
	post(rb, e);
}

/* The entries of an XREADGROUP reply [[stream, [entry...]]]; returns how many. */
static size_t deliver_read(struct rbroker *rb, const redisReply *r, int deliveries, char *last_id)
{
	if (r->type == REDIS_REPLY_NIL)
		return 0;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 1 ||
	    r->element[0]->type != REDIS_REPLY_ARRAY || r->element[0]->elements != 2 ||
	    r->element[0]->element[1]->type != REDIS_REPLY_ARRAY) {
		rlog(rb, LOG_WARNING, "XREADGROUP %s: %s", rb->stream,
		     r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
		return 0;
	}
	const redisReply *ents = r->element[0]->element[1];
	for (size_t i = 0; i < ents->elements; i++) {
		const redisReply *ent = ents->element[i];
		if (last_id && ent->type == REDIS_REPLY_ARRAY && ent->elements == 2 &&
		    id_valid(ent->element[0]))
			snprintf(last_id, R_ID_MAX + 1, "%.*s", (int)ent->element[0]->len,
			         ent->element[0]->str);
		deliver(rb, ent, deliveries);
	}
	return ents->elements;
}

/* A previous process of this consumer name died holding entries: take them back at once
 * (XREADGROUP of our own history), instead of waiting for the visibility timeout. */
static bool fetch_history(struct rbroker *rb)
{
	const char *a[] = { "XREADGROUP", "GROUP",   rb->group,  rb->consumer,    "COUNT",
		            "1",          "STREAMS", rb->stream, rb->history_from };
	redisReply *r = callv(rb, 9, a);
	if (!r)
		return false;
	size_t n = deliver_read(rb, r, 0, rb->history_from);
	freeReplyObject(r);
	if (n == 0)
		rb->history_done = true;
	return n > 0;
}

/* One XAUTOCLAIM step of the scan of idle entries; true when it claimed one. */
static bool fetch_claim(struct rbroker *rb)
{
	char idle[24];
	snprintf(idle, sizeof idle, "%d", rb->visibility_ms);
	const char *a[] = { "XAUTOCLAIM", rb->stream,       rb->group, rb->consumer,
		            idle,         rb->claim_cursor, "COUNT",   "1" };
	redisReply *r = callv(rb, 8, a);
	if (!r)
		return false;
	bool got = false;
	if (r->type != REDIS_REPLY_ARRAY || r->elements < 2 || !id_valid(r->element[0]) ||
	    r->element[1]->type != REDIS_REPLY_ARRAY) {
		rlog(rb, LOG_WARNING, "XAUTOCLAIM %s: %s", rb->stream,
		     r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
		snprintf(rb->claim_cursor, sizeof rb->claim_cursor, "0-0");
		rb->next_claim = mono_ms() + R_CLAIM_EVERY_MS;
	} else {
		snprintf(rb->claim_cursor, sizeof rb->claim_cursor, "%.*s", (int)r->element[0]->len,
		         r->element[0]->str);
		const redisReply *ents = r->element[1];
		for (size_t i = 0; i < ents->elements; i++) {
			rlog(rb, LOG_INFO, "claimed an entry idle for over %d ms",
			     rb->visibility_ms);
			deliver(rb, ents->element[i], 0);
			got = true;
		}
		if (!strcmp(rb->claim_cursor, "0-0")) /* scan complete */
			rb->next_claim = mono_ms() + R_CLAIM_EVERY_MS;
	}
	freeReplyObject(r);
	return got;
}

static void fetch_new(struct rbroker *rb)
{
	char block[16];
	snprintf(block, sizeof block, "%d", R_BLOCK_MS);
	const char *a[] = { "XREADGROUP", "GROUP", rb->group, rb->consumer, "COUNT", "1",
		            "BLOCK",      block,   "STREAMS", rb->stream,   ">" };
	redisReply *r = callv(rb, 11, a);
	if (!r)
		return;
	if (is_err(r, "NOGROUP")) /* the stream or group was deleted (Redis lost its data) */
		ensure_group(rb);
	else
		deliver_read(rb, r, 1, NULL);
	freeReplyObject(r);
}

static void *thread_main(void *arg)
{
	struct rbroker *rb = arg;
	for (;;) {
		pthread_mutex_lock(&rb->mu);
		bool stop = rb->stop;
		bool can_fetch =
			rb->base.consumer && !rb->closing && !rb->paused && rb->stashed == 0;
		bool loop_alive = mono_ms() - rb->last_poll_ms < rb->visibility_ms / 2;
		pthread_mutex_unlock(&rb->mu);
		if (stop)
			break;
		if (!rb->c && !connect_now(rb)) {
			run_commands(rb); /* publishes fail at once; the rest waits */
			rb->backoff_ms = rb->backoff_ms ? rb->backoff_ms * 2 : R_BACKOFF_MIN_MS;
			if (rb->backoff_ms > R_BACKOFF_MAX_MS)
				rb->backoff_ms = R_BACKOFF_MAX_MS;
			goto wait;
		}
		run_commands(rb);
		int64_t now = mono_ms();
		if (rb->c && rb->base.consumer && rb->held && now >= rb->next_keep && loop_alive) {
			keep_alive(rb);
			rb->next_keep = now + rb->visibility_ms / 3;
		}
		if (rb->c && rb->dirty && now >= rb->next_trim) {
			trim(rb);
			rb->next_trim = now + R_TRIM_EVERY_MS;
		}
		if (!rb->c)
			continue;
		if (can_fetch) {
			if (!rb->history_done) {
				fetch_history(rb);
				continue;
			}
			if (now >= rb->next_claim && fetch_claim(rb))
				continue;
			fetch_new(rb);
			continue;
		}
		rb->backoff_ms = R_BLOCK_MS;
	wait:;
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += (long)rb->backoff_ms * 1000000L;
		until.tv_sec += until.tv_nsec / 1000000000L;
		until.tv_nsec %= 1000000000L;
		pthread_mutex_lock(&rb->mu);
		if (!rb->stop && !rb->cmd_head)
			pthread_cond_timedwait(&rb->cv, &rb->mu, &until);
		pthread_mutex_unlock(&rb->mu);
	}
	if (rb->c) {
		redisFree(rb->c);
		rb->c = NULL;
	}
	return NULL;
}

/* ---- construction ---- */

static const struct broker_ops redis_ops;

static struct rbroker *rb_new(const struct broker_config *cfg, bool consumer, char *err,
                              size_t errlen)
{
	if (!cfg || !cfg->brokers || !cfg->topic || !*cfg->topic ||
	    (consumer && (!cfg->group || !*cfg->group))) {
		snprintf(err, errlen, "redis broker: address, stream%s are required",
		         consumer ? " and group" : "");
		return NULL;
	}
	const char *colon = strrchr(cfg->brokers, ':');
	char *end = NULL;
	long port = colon ? strtol(colon + 1, &end, 10) : 0;
	if (!colon || colon == cfg->brokers || !end || *end || port < 1 || port > 65535) {
		snprintf(err, errlen, "redis broker: expected host:port, got \"%s\"", cfg->brokers);
		return NULL;
	}
	struct rbroker *rb = calloc(1, sizeof *rb);
	if (!rb)
		goto nomem;
	rb->base.ops = &redis_ops;
	rb->base.consumer = consumer;
	rb->pipefd[0] = rb->pipefd[1] = -1;
	pthread_mutex_init(&rb->mu, NULL);
	pthread_cond_init(&rb->cv, NULL);
	rb->port = (int)port;
	rb->host = strndup(cfg->brokers, (size_t)(colon - cfg->brokers));
	rb->stream = strdup(cfg->topic);
	rb->group = cfg->group && *cfg->group ? strdup(cfg->group) : NULL;
	rb->consumer = strdup(cfg->client_id && *cfg->client_id ? cfg->client_id : "gradeq");
	if (cfg->auth.password && *cfg->auth.password) {
		rb->password = strdup(cfg->auth.password);
		rb->user = strdup(cfg->auth.user ? cfg->auth.user : "");
		if (!rb->password || !rb->user)
			goto nomem;
	}
	size_t dl = strlen(cfg->topic) + 5;
	rb->dlq = cfg->dlq_topic ? strdup(cfg->dlq_topic) : malloc(dl);
	if (!rb->host || !rb->stream || !rb->consumer || !rb->dlq ||
	    (cfg->group && *cfg->group && !rb->group))
		goto nomem;
	if (!cfg->dlq_topic)
		snprintf(rb->dlq, dl, "%s:dlq", cfg->topic);
	rb->visibility_ms = cfg->visibility_ms > 0 ? cfg->visibility_ms : R_VISIBILITY_DEFAULT_MS;
	rb->max_deliveries =
		cfg->max_deliveries > 0 ? cfg->max_deliveries : R_MAX_DELIVERIES_DEFAULT;
	rb->log_cb = cfg->log_cb;
	rb->log_opaque = cfg->log_opaque;
	rb->last_poll_ms = mono_ms();
	rb->down_logged = true; /* the first connection is logged */
	snprintf(rb->history_from, sizeof rb->history_from, "0-0");
	snprintf(rb->claim_cursor, sizeof rb->claim_cursor, "0-0");
	if (pipe2(rb->pipefd, O_NONBLOCK | O_CLOEXEC) < 0) {
		snprintf(err, errlen, "redis broker: pipe: %s", strerror(errno));
		redis_ops.free(&rb->base);
		return NULL;
	}
	int r = pthread_create(&rb->thread, NULL, thread_main, rb);
	if (r != 0) {
		snprintf(err, errlen, "redis broker: thread: %s", strerror(r));
		redis_ops.free(&rb->base);
		return NULL;
	}
	rb->started = true;
	return rb;
nomem:
	snprintf(err, errlen, "redis broker: out of memory");
	if (rb)
		redis_ops.free(&rb->base);
	return NULL;
}

struct broker *broker_redis_producer_new(const struct broker_config *cfg, char *err, size_t errlen)
{
	struct rbroker *rb = rb_new(cfg, false, err, errlen);
	return rb ? &rb->base : NULL;
}

struct broker *broker_redis_consumer_new(const struct broker_config *cfg, broker_rebalance_cb rcb,
                                         void *opaque, char *err, size_t errlen)
{
	struct rbroker *rb = rb_new(cfg, true, err, errlen);
	if (!rb)
		return NULL;
	pthread_mutex_lock(&rb->mu); /* the thread reads them only in deliver()'s events */
	rb->rcb = rcb;
	rb->ropaque = opaque;
	pthread_mutex_unlock(&rb->mu);
	return &rb->base;
}

/* ---- the loop's side ---- */

static void stash_push(struct rbroker *rb, struct rmsg *m)
{
	m->next = NULL;
	if (rb->stash_tail)
		rb->stash_tail->next = m;
	else
		rb->stash = m;
	rb->stash_tail = m;
}

/* Gives an entry back (its idle time is pushed past the timeout) and frees m. */
static void give_back(struct rbroker *rb, struct rmsg *m)
{
	struct rcmd *c = calloc(1, sizeof *c);
	if (c) {
		c->op = OP_RELEASE;
		snprintf(c->id, sizeof c->id, "%s", m->id);
		enqueue(rb, c);
	} /* else it is claimed after the visibility timeout */
	rmsg_free(m);
}

static void drop_lease(struct rbroker *rb, int32_t lease)
{
	struct rmsg **pp = &rb->stash;
	rb->stash_tail = NULL;
	while (*pp) {
		struct rmsg *m = *pp;
		if (m->pub.partition == lease) {
			*pp = m->next;
			rmsg_free(m); /* lost: nothing to give back */
		} else {
			rb->stash_tail = m;
			pp = &m->next;
		}
	}
}

static void serve_events(struct rbroker *rb)
{
	char buf[64];
	while (read(rb->pipefd[0], buf, sizeof buf) > 0)
		;
	pthread_mutex_lock(&rb->mu);
	struct revt *list = rb->ev_head;
	rb->ev_head = rb->ev_tail = NULL;
	rb->last_poll_ms = mono_ms();
	pthread_mutex_unlock(&rb->mu);
	while (list) {
		struct revt *e = list;
		list = e->next;
		switch (e->kind) {
		case EV_PUBACK:
			rb->pub_outstanding--;
			if (e->cb)
				e->cb(e->opaque, e->err, e->retriable, e->text ? e->text : "");
			break;
		case EV_MSG:
			if (rb->closed) {
				pthread_mutex_lock(&rb->mu);
				rb->stashed--;
				pthread_mutex_unlock(&rb->mu);
				give_back(rb, e->msg);
			} else {
				stash_push(rb, e->msg);
			}
			e->msg = NULL;
			break;
		case EV_LOST:
			drop_lease(rb, e->lease);
			if (rb->rcb)
				rb->rcb(rb->ropaque, false, &e->lease, 1);
			break;
		case EV_LOG:
			if (rb->log_cb)
				rb->log_cb(rb->log_opaque, e->level, e->text);
			break;
		}
		ev_free(e);
	}
}

static int r_publish(struct broker *b, const char *key, const void *payload, size_t len,
                     broker_ack_cb cb, void *opaque)
{
	struct rbroker *rb = rb_of(b);
	if (rb->closed)
		return -ESHUTDOWN;
	if (len > R_PAYLOAD_MAX)
		return -EMSGSIZE;
	struct rcmd *c = calloc(1, sizeof *c);
	if (!c)
		return -ENOMEM;
	c->op = OP_PUBLISH;
	c->payload = malloc(len + 1);
	c->key = key ? strdup(key) : NULL;
	if (!c->payload || (key && !c->key)) {
		cmd_free(c);
		return -ENOMEM;
	}
	if (len)
		memcpy(c->payload, payload, len);
	c->len = len;
	c->cb = cb;
	c->opaque = opaque;
	rb->pub_outstanding++;
	return enqueue(rb, c);
}

static bool r_up(const struct broker *b)
{
	struct rbroker *rb = rb_of(b);
	pthread_mutex_lock(&rb->mu);
	bool up = rb->up;
	pthread_mutex_unlock(&rb->mu);
	return up;
}

static int r_next(struct broker *b, struct broker_msg **out)
{
	struct rbroker *rb = rb_of(b);
	if (rb->closed)
		return -ESHUTDOWN;
	if (!rb->stash)
		serve_events(rb);
	struct rmsg *m = rb->stash;
	if (!m)
		return 0;
	rb->stash = m->next;
	if (!rb->stash)
		rb->stash_tail = NULL;
	m->next = NULL;
	pthread_mutex_lock(&rb->mu);
	rb->stashed--;
	pthread_cond_signal(&rb->cv); /* room to fetch the next one */
	pthread_mutex_unlock(&rb->mu);
	*out = &m->pub;
	return 1;
}

static void r_done(struct broker *b, struct broker_msg *bm)
{
	struct rbroker *rb = rb_of(b);
	struct rmsg *m = (struct rmsg *)bm;
	struct rcmd *c = calloc(1, sizeof *c);
	if (c) {
		c->op = OP_ACK;
		snprintf(c->id, sizeof c->id, "%s", m->id);
		enqueue(rb, c);
	} /* else: redelivered after the timeout, and skipped as already finished */
	rmsg_free(m);
}

static void r_msg_free(struct broker *b, struct broker_msg *bm)
{
	give_back(rb_of(b), (struct rmsg *)bm);
}

static int r_dead_letter(struct broker *b, struct broker_msg *bm, const char *reason)
{
	struct rbroker *rb = rb_of(b);
	struct rmsg *m = (struct rmsg *)bm;
	struct rcmd *c = calloc(1, sizeof *c);
	if (!c || !(c->reason = strdup(reason))) {
		free(c);
		if (rb->log_cb)
			rb->log_cb(rb->log_opaque, LOG_ERR, "out of memory for a dead letter");
		give_back(rb, m);
		return 0;
	}
	c->op = OP_DLQ;
	snprintf(c->id, sizeof c->id, "%s", m->id);
	c->payload = m->payload;
	c->len = m->pub.len;
	c->key = m->key;
	c->deliveries = m->deliveries;
	m->payload = NULL;
	m->key = NULL;
	rmsg_free(m);
	enqueue(rb, c);
	return 0;
}

static int set_paused(struct rbroker *rb, bool paused)
{
	pthread_mutex_lock(&rb->mu);
	rb->paused = paused;
	pthread_cond_signal(&rb->cv);
	pthread_mutex_unlock(&rb->mu);
	return 0;
}

static int r_pause(struct broker *b)
{
	return set_paused(rb_of(b), true);
}

static int r_resume(struct broker *b)
{
	return set_paused(rb_of(b), false);
}

static int r_fd(struct broker *b)
{
	return rb_of(b)->pipefd[0];
}

static void r_poll(struct broker *b)
{
	serve_events(rb_of(b));
}

static void stop_thread(struct rbroker *rb)
{
	if (!rb->started)
		return;
	pthread_mutex_lock(&rb->mu);
	rb->stop = true;
	pthread_cond_signal(&rb->cv);
	pthread_mutex_unlock(&rb->mu);
	pthread_join(rb->thread, NULL);
	rb->started = false;
}

/* Producer: waits for every publish's answer (callbacks run here). Consumer: gives back
 * what is stashed, waits until acks, dead letters and give-backs are written, removes
 * its consumer name from the group when it holds nothing, and stops the thread. */
static int r_close(struct broker *b, int timeout_ms)
{
	struct rbroker *rb = rb_of(b);
	if (rb->closed)
		return 0;
	int64_t deadline = mono_ms() + timeout_ms;
	pthread_mutex_lock(&rb->mu);
	rb->closing = true;
	pthread_mutex_unlock(&rb->mu);
	int rc = 0;
	for (;;) {
		serve_events(rb);
		while (rb->stash) {
			struct rmsg *m = rb->stash;
			rb->stash = m->next;
			pthread_mutex_lock(&rb->mu);
			rb->stashed--;
			pthread_mutex_unlock(&rb->mu);
			give_back(rb, m);
		}
		rb->stash_tail = NULL;
		pthread_mutex_lock(&rb->mu);
		bool idle = rb->cmds_open == 0;
		pthread_mutex_unlock(&rb->mu);
		if (idle && rb->pub_outstanding == 0)
			break;
		if (mono_ms() >= deadline) {
			rc = -ETIMEDOUT;
			break;
		}
		usleep(10 * 1000);
	}
	rb->closed = true;
	stop_thread(rb);
	serve_events(rb);
	if (b->consumer && rc == 0) {
		/* hygiene: a consumer name that holds nothing leaves the group's list */
		static const char lua[] =
			"local p = redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2])\n"
			"if #p == 0 then return redis.call('XGROUP', 'DELCONSUMER', KEYS[1],"
			" ARGV[1], ARGV[2]) end\n"
			"return -1\n";
		struct timeval tv = { 1, 0 };
		redisContext *c = redisConnectWithTimeout(rb->host, rb->port, tv);
		char why[400];
		if (c && !c->err && rauth_sync(c, rb->user, rb->password, why, sizeof why) == 0) {
			redisSetTimeout(c, tv);
			redisReply *r = redisCommand(c, "EVAL %s 1 %s %s %s", lua, rb->stream,
			                             rb->group, rb->consumer);
			if (r)
				freeReplyObject(r);
		}
		if (c)
			redisFree(c);
	}
	return rc;
}

static void r_free(struct broker *b)
{
	struct rbroker *rb = rb_of(b);
	rb->closed = true;
	stop_thread(rb);
	if (rb->pipefd[0] >= 0) {
		serve_events(rb); /* acks that arrived, logs */
		close(rb->pipefd[0]);
	}
	if (rb->pipefd[1] >= 0)
		close(rb->pipefd[1]);
	while (rb->cmd_head) {
		struct rcmd *c = rb->cmd_head;
		rb->cmd_head = c->next;
		if (c->op == OP_PUBLISH && c->cb)
			c->cb(c->opaque, -ECANCELED, true, "shutting down");
		cmd_free(c);
	}
	while (rb->stash) {
		struct rmsg *m = rb->stash;
		rb->stash = m->next;
		rmsg_free(m);
	}
	while (rb->held) {
		struct held *h = rb->held;
		rb->held = h->next;
		free(h);
	}
	pthread_mutex_destroy(&rb->mu);
	pthread_cond_destroy(&rb->cv);
	free(rb->host);
	free(rb->user);
	if (rb->password) {
		explicit_bzero(rb->password, strlen(rb->password));
		free(rb->password);
	}
	free(rb->stream);
	free(rb->dlq);
	free(rb->group);
	free(rb->consumer);
	free(rb);
}

static const struct broker_ops redis_ops = {
	.name = "redis-streams",
	.publish = r_publish,
	.up = r_up,
	.next = r_next,
	.done = r_done,
	.msg_free = r_msg_free,
	.dead_letter = r_dead_letter,
	.pause = r_pause,
	.resume = r_resume,
	.close = r_close,
	.fd = r_fd,
	.poll = r_poll,
	.free = r_free,
};
