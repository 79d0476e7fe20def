/* broker_kafka.c - the Kafka adapter of broker.h, on librdkafka.
 *
 * Threading: librdkafka runs its own threads, but every callback we register (delivery
 * reports, rebalance, logs via log.queue, errors, statistics) is served from the queues
 * we poll, so they all run on the caller's thread inside broker_poll()/broker_next().
 * The queues signal a non-blocking pipe (rd_kafka_queue_io_event_enable) whose read end
 * is broker_fd(); librdkafka writes to it only when a queue turns non-empty, which is why
 * the daemon also polls on a short timer.
 *
 * Consumer: one group member, cooperative-sticky assignment (nodes joining during a
 * deadline rush do not stop everyone's work), enable.auto.commit with
 * enable.auto.offset.store=false: we store an offset only once offtrack says every
 * earlier message of the partition is done, and librdkafka commits stored offsets
 * periodically, on revoke and on close. Messages read by broker_poll() (which must call
 * rd_kafka_consumer_poll() to serve rebalances and stay within max.poll.interval.ms) wait
 * in a small stash until broker_next() hands them out. Dead letters go through a second,
 * idempotent producer handle.
 *
 * Producer: idempotent, acks=all, linger.ms=5, message.timeout.ms=30000 so that a down
 * cluster fails a publish within 30 s instead of holding it forever. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "broker_int.h"
#include "kafka_conf.h"
#include "offtrack.h"

#define DLQ_TRIES 3
#define DLQ_RETRY_MS 1000
#define REASON_HEADER "gradeq-reason"

enum ctx_kind { CTX_PUBLISH = 1, CTX_DLQ = 2 };

struct pubctx { /* rd_kafka message opaque of broker_publish() */
	enum ctx_kind kind;
	broker_ack_cb cb;
	void *opaque;
};

struct kmsg {
	struct broker_msg pub;
	rd_kafka_message_t *rkm;
	char *key;
	bool tracked; /* taken through offtrack (epoch valid) */
	uint32_t epoch;
	struct kmsg *next; /* stash or dead-letter retry list */
	/* dead letter in progress */
	char *reason;
	int dlq_tries;
	int64_t dlq_retry_at;
};

struct dlqctx {
	enum ctx_kind kind;
	struct kmsg *m;
};

struct kbroker {
	struct broker base;
	rd_kafka_t *rk;   /* the producer, or the consumer */
	rd_kafka_t *prod; /* handle broker_publish() and dead letters go through */
	rd_kafka_queue_t *q_main, *q_cons, *q_prod;
	int pipefd[2];
	char *topic, *dlq_topic;
	void (*log_cb)(void *, int, const char *);
	void *log_opaque;
	broker_rebalance_cb rcb;
	void *ropaque;
	struct offtrack *ot;
	struct kmsg *stash, *stash_tail; /* polled, not yet handed out */
	/* A polled message there was no memory to wrap: kept (not destroyed) and offered
	 * before anything newer is polled, so no later offset of its partition can be done,
	 * and stored, while it waits. */
	rd_kafka_message_t *held;
	struct kmsg *retry;     /* dead letters waiting for another try */
	size_t dlq_outstanding; /* dead letters produced, report pending */
	bool paused, up, fatal, closed, freeing;
	bool assigned_once; /* consumer: the group has given us an assignment (maybe empty) */
};

static struct kbroker *kb_of(const struct broker *b)
{
	return (struct kbroker *)b; /* base is the first member */
}

static struct kmsg *km_of(struct broker_msg *m)
{
	return (struct kmsg *)m; /* pub is the first member */
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

__attribute__((format(printf, 3, 4))) static void klog(struct kbroker *kb, int level,
                                                       const char *fmt, ...)
{
	if (!kb->log_cb)
		return;
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	kb->log_cb(kb->log_opaque, level, buf);
}

/* ---- classification of librdkafka errors ---- */

/* true when the same publish may succeed later (broker down, leader moving, timeout). */
static bool err_retriable(rd_kafka_resp_err_t err)
{
	switch (err) {
	case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
	case RD_KAFKA_RESP_ERR__TIMED_OUT:
	case RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE:
	case RD_KAFKA_RESP_ERR__TRANSPORT:
	case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
	case RD_KAFKA_RESP_ERR__QUEUE_FULL:
	case RD_KAFKA_RESP_ERR__RETRY:
	case RD_KAFKA_RESP_ERR__PURGE_QUEUE:
	case RD_KAFKA_RESP_ERR__PURGE_INFLIGHT:
	case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
	case RD_KAFKA_RESP_ERR__WAIT_COORD:
	case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
	case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS:
	case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
	case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
	case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
	case RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION:
	case RD_KAFKA_RESP_ERR_KAFKA_STORAGE_ERROR:
	case RD_KAFKA_RESP_ERR_BROKER_NOT_AVAILABLE:
	case RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS:
	case RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE:
		return true;
	default:
		return false;
	}
}

static int err_errno(rd_kafka_resp_err_t err)
{
	switch (err) {
	case RD_KAFKA_RESP_ERR_NO_ERROR:
		return 0;
	case RD_KAFKA_RESP_ERR__QUEUE_FULL:
		return -EAGAIN;
	case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
		return -EMSGSIZE;
	case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
	case RD_KAFKA_RESP_ERR__TIMED_OUT:
	case RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE:
	case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
		return -ETIMEDOUT;
	case RD_KAFKA_RESP_ERR__TRANSPORT:
	case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
		return -ECONNREFUSED;
	case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
	case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
		return -ENOENT;
	case RD_KAFKA_RESP_ERR__PURGE_QUEUE:
	case RD_KAFKA_RESP_ERR__PURGE_INFLIGHT:
		return -ECANCELED;
	case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
	case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
		return -EACCES;
	default:
		return -EIO;
	}
}

/* ---- callbacks served from our polls ---- */

static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	struct kbroker *kb = rd_kafka_opaque(rk);
	if (kb)
		klog(kb, level, "%s: %s", fac, buf);
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	struct kbroker *kb = opaque;
	if (err == RD_KAFKA_RESP_ERR__FATAL) {
		char why[512];
		rd_kafka_fatal_error(rk, why, sizeof why);
		kb->fatal = true;
		kb->up = false;
		klog(kb, LOG_ERR, "fatal error: %s", why);
		return;
	}
	if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN && rk == kb->rk)
		kb->up = false;
	klog(kb, LOG_WARNING, "%s: %s", rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

/* Statistics (every second) carry each broker connection's state: the only way
 * librdkafka tells an application that the cluster is reachable again. */
static int on_stats(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
	struct kbroker *kb = opaque;
	if (rk != kb->rk)
		return 0;
	json_t *root = json_loadb(json, len, 0, NULL);
	json_t *brokers = root ? json_object_get(root, "brokers") : NULL;
	if (!json_is_object(brokers)) {
		json_decref(root);
		return 0;
	}
	bool up = false;
	const char *name;
	json_t *br;
	json_object_foreach(brokers, name, br)
	{
		const char *state = json_string_value(json_object_get(br, "state"));
		const char *source = json_string_value(json_object_get(br, "source"));
		if (source && (!strcmp(source, "internal") || !strcmp(source, "logical")))
			continue;
		if (state && !strcmp(state, "UP"))
			up = true;
	}
	json_decref(root);
	kb->up = up && !kb->fatal;
	return 0; /* librdkafka frees json */
}

static void dlq_report(struct kbroker *kb, struct kmsg *m, rd_kafka_resp_err_t err);

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *rkm, void *opaque)
{
	struct kbroker *kb = opaque;
	enum ctx_kind *kind = rkm->_private;
	if (!kind)
		return;
	if (*kind == CTX_DLQ) {
		struct dlqctx *dc = rkm->_private;
		struct kmsg *m = dc->m;
		free(dc);
		dlq_report(kb, m, rkm->err);
		return;
	}
	struct pubctx *pc = rkm->_private;
	if (!rkm->err)
		kb->up = true;
	if (pc->cb) {
		bool retriable = rkm->err && !kb->fatal && err_retriable(rkm->err);
		pc->cb(pc->opaque, err_errno(rkm->err), retriable,
		       rkm->err ? rd_kafka_err2str(rkm->err) : "");
	}
	free(pc);
}

/* ---- construction ---- */

static const struct broker_ops kafka_ops;

static struct kbroker *kb_alloc(const struct broker_config *cfg, bool consumer, char *err,
                                size_t errlen)
{
	if (!cfg || !cfg->brokers || !*cfg->brokers || !cfg->topic || !*cfg->topic) {
		snprintf(err, errlen, "kafka: brokers and topic are required");
		return NULL;
	}
	struct kbroker *kb = calloc(1, sizeof *kb);
	if (!kb)
		goto nomem;
	kb->base.ops = &kafka_ops;
	kb->base.consumer = consumer;
	kb->pipefd[0] = kb->pipefd[1] = -1;
	kb->log_cb = cfg->log_cb;
	kb->log_opaque = cfg->log_opaque;
	kb->topic = strdup(cfg->topic);
	if (!kb->topic)
		goto nomem;
	if (pipe2(kb->pipefd, O_NONBLOCK | O_CLOEXEC) < 0) {
		snprintf(err, errlen, "kafka: pipe: %s", strerror(errno));
		goto fail;
	}
	return kb;
nomem:
	snprintf(err, errlen, "kafka: out of memory");
fail:
	if (kb) {
		free(kb->topic);
		free(kb);
	}
	return NULL;
}

/* Creates a producer handle with our callbacks; used for the dispatcher's producer and
 * the consumer's dead-letter producer. */
static rd_kafka_t *producer_new(struct kbroker *kb, const struct broker_config *cfg, bool stats,
                                char *err, size_t errlen)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	const struct kconf_kv kvs[] = {
		{ "bootstrap.servers", cfg->brokers },
		{ "client.id", cfg->client_id ? cfg->client_id : "gradeq" },
		{ "enable.idempotence", "true" },
		{ "acks", "all" },
		{ "linger.ms", "5" },
		{ "message.timeout.ms", "30000" },
		{ "socket.keepalive.enable", "true" },
		{ "reconnect.backoff.ms", "100" },
		{ "reconnect.backoff.max.ms", "2000" },
		{ "log.queue", "true" },
		{ "statistics.interval.ms", stats ? "1000" : NULL },
	};
	if (kconf_apply(conf, kvs, sizeof kvs / sizeof kvs[0], cfg, err, errlen) < 0) {
		rd_kafka_conf_destroy(conf);
		return NULL;
	}
	rd_kafka_conf_set_opaque(conf, kb);
	rd_kafka_conf_set_log_cb(conf, on_log);
	rd_kafka_conf_set_error_cb(conf, on_error);
	rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
	if (stats)
		rd_kafka_conf_set_stats_cb(conf, on_stats);
	char why[512];
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof why);
	if (!rk) { /* conf is still ours on failure */
		rd_kafka_conf_destroy(conf);
		snprintf(err, errlen, "kafka producer: %s", why);
		return NULL;
	}
	rd_kafka_set_log_queue(rk, NULL);
	return rk;
}

static void watch_queue(struct kbroker *kb, rd_kafka_queue_t *q)
{
	rd_kafka_queue_io_event_enable(q, kb->pipefd[1], "k", 1);
}

struct broker *broker_kafka_producer_new(const struct broker_config *cfg, char *err, size_t errlen)
{
	struct kbroker *kb = kb_alloc(cfg, false, err, errlen);
	if (!kb)
		return NULL;
	kb->rk = producer_new(kb, cfg, true, err, errlen);
	if (!kb->rk) {
		kafka_ops.free(&kb->base);
		return NULL;
	}
	kb->prod = kb->rk;
	kb->q_main = rd_kafka_queue_get_main(kb->rk);
	watch_queue(kb, kb->q_main);
	return &kb->base;
}

static void rebalance(struct kbroker *kb, rd_kafka_resp_err_t err,
                      rd_kafka_topic_partition_list_t *parts);

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
	rebalance(opaque, err, parts);
}

struct broker *broker_kafka_consumer_new(const struct broker_config *cfg, broker_rebalance_cb rcb,
                                         void *opaque, char *err, size_t errlen)
{
	if (cfg && (!cfg->group || !*cfg->group)) {
		snprintf(err, errlen, "kafka: consumer group is required");
		return NULL;
	}
	struct kbroker *kb = kb_alloc(cfg, true, err, errlen);
	if (!kb)
		return NULL;
	kb->rcb = rcb;
	kb->ropaque = opaque;
	kb->ot = offtrack_new();
	size_t dlen = strlen(cfg->topic) + 5;
	kb->dlq_topic = cfg->dlq_topic ? strdup(cfg->dlq_topic) : malloc(dlen);
	if (!kb->ot || !kb->dlq_topic) {
		snprintf(err, errlen, "kafka: out of memory");
		goto fail;
	}
	if (!cfg->dlq_topic)
		snprintf(kb->dlq_topic, dlen, "%s.dlq", cfg->topic);

	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	const struct kconf_kv kvs[] = {
		{ "bootstrap.servers", cfg->brokers },
		{ "client.id", cfg->client_id ? cfg->client_id : "gradeq" },
		{ "group.id", cfg->group },
		{ "enable.auto.commit", "true" },
		{ "auto.commit.interval.ms", "1000" },
		{ "enable.auto.offset.store", "false" },
		{ "auto.offset.reset", "earliest" },
		{ "partition.assignment.strategy", "cooperative-sticky" },
		/* a vanished node's partitions move within ~10 s */
		{ "session.timeout.ms", "10000" },
		{ "heartbeat.interval.ms", "2000" },
		/* we poll every few ms even while all slots are busy (paused) */
		{ "max.poll.interval.ms", "300000" },
		/* little prefetch: messages wait in Kafka, where another member can get them */
		{ "queued.min.messages", "100" },
		{ "socket.keepalive.enable", "true" },
		{ "reconnect.backoff.ms", "100" },
		{ "reconnect.backoff.max.ms", "2000" },
		{ "log.queue", "true" },
		{ "statistics.interval.ms", "1000" },
	};
	if (kconf_apply(conf, kvs, sizeof kvs / sizeof kvs[0], cfg, err, errlen) < 0) {
		rd_kafka_conf_destroy(conf);
		goto fail;
	}
	rd_kafka_conf_set_opaque(conf, kb);
	rd_kafka_conf_set_log_cb(conf, on_log);
	rd_kafka_conf_set_error_cb(conf, on_error);
	rd_kafka_conf_set_stats_cb(conf, on_stats);
	rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
	char why[512];
	kb->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof why);
	if (!kb->rk) {
		rd_kafka_conf_destroy(conf);
		snprintf(err, errlen, "kafka consumer: %s", why);
		goto fail;
	}
	rd_kafka_set_log_queue(kb->rk, NULL);
	kb->q_main = rd_kafka_queue_get_main(kb->rk);
	kb->q_cons = rd_kafka_queue_get_consumer(kb->rk);
	watch_queue(kb, kb->q_main);
	watch_queue(kb, kb->q_cons);

	kb->prod = producer_new(kb, cfg, false, err, errlen);
	if (!kb->prod)
		goto fail;
	kb->q_prod = rd_kafka_queue_get_main(kb->prod);
	watch_queue(kb, kb->q_prod);

	rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(topics, cfg->topic, RD_KAFKA_PARTITION_UA);
	rd_kafka_resp_err_t e = rd_kafka_subscribe(kb->rk, topics);
	rd_kafka_topic_partition_list_destroy(topics);
	if (e) {
		snprintf(err, errlen, "kafka subscribe %s: %s", cfg->topic, rd_kafka_err2str(e));
		goto fail;
	}
	return &kb->base;
fail:
	kafka_ops.free(&kb->base);
	return NULL;
}

/* ---- messages ---- */

static void kmsg_free(struct kmsg *m)
{
	if (!m)
		return;
	if (m->rkm)
		rd_kafka_message_destroy(m->rkm);
	free(m->key);
	free(m->reason);
	free(m);
}

/* Wraps a polled message. NULL for an error event (rkm destroyed) or for ENOMEM (rkm
 * kept in kb->held, to be wrapped again before anything newer is polled). */
static struct kmsg *kmsg_wrap(struct kbroker *kb, rd_kafka_message_t *rkm)
{
	if (rkm->err) {
		if (rkm->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
			klog(kb, LOG_WARNING, "consume: %s", rd_kafka_message_errstr(rkm));
		rd_kafka_message_destroy(rkm);
		return NULL;
	}
	struct kmsg *m = calloc(1, sizeof *m);
	if (m && rkm->key) {
		m->key = malloc(rkm->key_len + 1);
		if (m->key) {
			memcpy(m->key, rkm->key, rkm->key_len);
			m->key[rkm->key_len] = '\0';
		}
	}
	if (!m || (rkm->key && !m->key)) {
		/* Dropping it would not keep its offset uncommitted: the messages after it
		 * would be taken, done and stored past it. So it is held and offered again
		 * first (k_next), and nothing newer is polled meanwhile. */
		klog(kb, LOG_ERR, "out of memory for a message of partition %d@%lld: held",
		     (int)rkm->partition, (long long)rkm->offset);
		if (m)
			free(m->key);
		free(m);
		kb->held = rkm;
		return NULL;
	}
	m->rkm = rkm;
	m->pub.payload = rkm->payload;
	m->pub.len = rkm->payload ? rkm->len : 0;
	m->pub.key = m->key;
	m->pub.partition = rkm->partition;
	m->pub.offset = rkm->offset;
	return m;
}

static void stash_push(struct kbroker *kb, struct kmsg *m)
{
	m->next = NULL;
	if (kb->stash_tail)
		kb->stash_tail->next = m;
	else
		kb->stash = m;
	kb->stash_tail = m;
}

/* Puts m back first in line (taking it failed for want of memory). */
static void stash_push_front(struct kbroker *kb, struct kmsg *m)
{
	m->next = kb->stash;
	kb->stash = m;
	if (!kb->stash_tail)
		kb->stash_tail = m;
}

static struct kmsg *stash_pop(struct kbroker *kb)
{
	struct kmsg *m = kb->stash;
	if (m) {
		kb->stash = m->next;
		if (!kb->stash)
			kb->stash_tail = NULL;
		m->next = NULL;
	}
	return m;
}

/* Drops stashed (and held) messages of partition p (all partitions if p < 0). */
static void stash_drop(struct kbroker *kb, int32_t p)
{
	struct kmsg **pp = &kb->stash;
	if (kb->held && (p < 0 || kb->held->partition == p)) {
		rd_kafka_message_destroy(kb->held);
		kb->held = NULL;
	}
	kb->stash_tail = NULL;
	while (*pp) {
		struct kmsg *m = *pp;
		if (p < 0 || m->pub.partition == p) {
			*pp = m->next;
			kmsg_free(m);
		} else {
			kb->stash_tail = m;
			pp = &m->next;
		}
	}
}

static int k_next(struct broker *b, struct broker_msg **out)
{
	struct kbroker *kb = kb_of(b);
	if (kb->closed)
		return -ESHUTDOWN;
	for (;;) {
		struct kmsg *m = stash_pop(kb);
		if (!m && kb->held) {
			rd_kafka_message_t *rkm = kb->held;
			kb->held = NULL;
			if (!(m = kmsg_wrap(kb, rkm)))
				return kb->held ? -ENOMEM : 0;
		}
		if (!m) {
			rd_kafka_message_t *rkm = rd_kafka_consumer_poll(kb->rk, 0);
			if (!rkm)
				return 0;
			if (!(m = kmsg_wrap(kb, rkm))) {
				if (kb->held)
					return -ENOMEM;
				continue;
			}
		}
		int r = offtrack_take(kb->ot, m->pub.partition, m->pub.offset, &m->epoch);
		if (r == -ENOMEM) {
			/* Dropping it would let the messages after it be done and stored past
			 * its offset: it goes back first in line and is offered again. */
			klog(kb, LOG_ERR, "out of memory tracking an offset: %d@%lld held",
			     (int)m->pub.partition, (long long)m->pub.offset);
			stash_push_front(kb, m);
			return -ENOMEM;
		}
		if (r < 0) {
			/* -ENOENT: partition revoked since it was fetched; -EEXIST: a copy is
			 * already in flight here. Either way this copy is not ours to run. */
			kmsg_free(m);
			continue;
		}
		m->tracked = true;
		*out = &m->pub;
		return 1;
	}
}

static void store_offset(struct kbroker *kb, int32_t partition, int64_t offset)
{
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(l, kb->topic, partition)->offset = offset;
	rd_kafka_resp_err_t e = rd_kafka_offsets_store(kb->rk, l);
	if (!e)
		e = l->elems[0].err;
	if (e)
		klog(kb, LOG_WARNING, "store offset %s[%d]@%lld: %s", kb->topic, (int)partition,
		     (long long)offset, rd_kafka_err2str(e));
	rd_kafka_topic_partition_list_destroy(l);
}

static void k_done(struct broker *b, struct broker_msg *bm)
{
	struct kbroker *kb = kb_of(b);
	struct kmsg *m = km_of(bm);
	if (m->tracked && !kb->closed) {
		int64_t off = offtrack_done(kb->ot, bm->partition, m->epoch, bm->offset);
		if (off > 0)
			store_offset(kb, bm->partition, off);
	}
	kmsg_free(m);
}

static void k_msg_free(struct broker *b, struct broker_msg *bm)
{
	/* Its offset stays in flight: nothing after it is stored until the partition is
	 * revoked, so Kafka delivers it again. */
	kmsg_free(km_of(bm));
}

/* ---- dead letters ---- */

static int dlq_send(struct kbroker *kb, struct kmsg *m)
{
	struct dlqctx *dc = malloc(sizeof *dc);
	if (!dc)
		return -ENOMEM;
	dc->kind = CTX_DLQ;
	dc->m = m;
	char src[64];
	snprintf(src, sizeof src, "%d/%lld", (int)m->pub.partition, (long long)m->pub.offset);
	rd_kafka_resp_err_t e = rd_kafka_producev(
		kb->prod, RD_KAFKA_V_TOPIC(kb->dlq_topic),
		RD_KAFKA_V_VALUE((void *)m->pub.payload, m->pub.len),
		RD_KAFKA_V_KEY(m->key, m->key ? strlen(m->key) : 0),
		RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
		RD_KAFKA_V_HEADER(REASON_HEADER, m->reason, -1),
		RD_KAFKA_V_HEADER("gradeq-source", src, -1), RD_KAFKA_V_OPAQUE(dc), RD_KAFKA_V_END);
	if (e) {
		free(dc);
		return err_errno(e);
	}
	m->dlq_tries++;
	kb->dlq_outstanding++;
	return 0;
}

static void dlq_retry_later(struct kbroker *kb, struct kmsg *m)
{
	m->dlq_retry_at = mono_ms() + DLQ_RETRY_MS;
	m->next = kb->retry;
	kb->retry = m;
}

static void dlq_give_up(struct kbroker *kb, struct kmsg *m, const char *why)
{
	klog(kb, LOG_ERR,
	     "dead letter of %s[%d]@%lld (%s) not written: %s; dropping it so the partition "
	     "moves on",
	     kb->topic, (int)m->pub.partition, (long long)m->pub.offset,
	     m->reason ? m->reason : "?", why ? why : "?");
	k_done(&kb->base, &m->pub);
}

static void dlq_report(struct kbroker *kb, struct kmsg *m, rd_kafka_resp_err_t err)
{
	kb->dlq_outstanding--;
	if (kb->freeing) {
		kmsg_free(m);
		return;
	}
	if (!err) {
		k_done(&kb->base, &m->pub);
		return;
	}
	if (m->dlq_tries < DLQ_TRIES && err_retriable(err) && !kb->closed)
		dlq_retry_later(kb, m);
	else
		dlq_give_up(kb, m, rd_kafka_err2str(err));
}

static void dlq_serve_retries(struct kbroker *kb, bool now)
{
	int64_t t = mono_ms();
	struct kmsg *list = kb->retry;
	kb->retry = NULL;
	while (list) {
		struct kmsg *m = list;
		list = m->next;
		m->next = NULL;
		if (!now && m->dlq_retry_at > t) {
			m->next = kb->retry;
			kb->retry = m;
			continue;
		}
		int r = dlq_send(kb, m);
		if (r < 0) {
			m->dlq_tries++;
			if (m->dlq_tries < DLQ_TRIES && !now)
				dlq_retry_later(kb, m);
			else
				dlq_give_up(kb, m, strerror(-r));
		}
	}
}

static int k_dead_letter(struct broker *b, struct broker_msg *bm, const char *reason)
{
	struct kbroker *kb = kb_of(b);
	struct kmsg *m = km_of(bm);
	free(m->reason);
	m->reason = strdup(reason);
	if (!m->reason) {
		dlq_give_up(kb, m, "out of memory");
		return 0;
	}
	int r = dlq_send(kb, m);
	if (r < 0) {
		m->dlq_tries++;
		dlq_retry_later(kb, m);
	}
	return 0;
}

/* ---- producer ---- */

static int k_publish(struct broker *b, const char *key, const void *payload, size_t len,
                     broker_ack_cb cb, void *opaque)
{
	struct kbroker *kb = kb_of(b);
	if (kb->closed)
		return -ESHUTDOWN;
	struct pubctx *pc = malloc(sizeof *pc);
	if (!pc)
		return -ENOMEM;
	pc->kind = CTX_PUBLISH;
	pc->cb = cb;
	pc->opaque = opaque;
	rd_kafka_resp_err_t e = rd_kafka_producev(
		kb->prod, RD_KAFKA_V_TOPIC(kb->topic), RD_KAFKA_V_VALUE((void *)payload, len),
		RD_KAFKA_V_KEY(key, key ? strlen(key) : 0),
		RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE(pc), RD_KAFKA_V_END);
	if (e) {
		free(pc);
		return err_errno(e);
	}
	return 0;
}

static bool k_up(const struct broker *b)
{
	const struct kbroker *kb = kb_of(b);
	return kb->up && !kb->fatal;
}

/* ---- consumer flow control and rebalancing ---- */

static int set_paused(struct kbroker *kb, bool pause)
{
	rd_kafka_topic_partition_list_t *a = NULL;
	rd_kafka_resp_err_t e = rd_kafka_assignment(kb->rk, &a);
	if (!e && a->cnt > 0)
		e = pause ? rd_kafka_pause_partitions(kb->rk, a)
		          : rd_kafka_resume_partitions(kb->rk, a);
	if (a)
		rd_kafka_topic_partition_list_destroy(a);
	if (e) {
		klog(kb, LOG_WARNING, "%s: %s", pause ? "pause" : "resume", rd_kafka_err2str(e));
		return err_errno(e);
	}
	kb->paused = pause; /* also applied to partitions assigned later */
	return 0;
}

static int k_pause(struct broker *b)
{
	return kb_of(b)->paused ? 0 : set_paused(kb_of(b), true);
}

static int k_resume(struct broker *b)
{
	return kb_of(b)->paused ? set_paused(kb_of(b), false) : 0;
}

static void notify(struct kbroker *kb, bool assigned, rd_kafka_topic_partition_list_t *parts)
{
	if (!kb->rcb || parts->cnt <= 0)
		return;
	int32_t ids[256];
	size_t n = 0;
	for (int i = 0; i < parts->cnt; i++) {
		ids[n++] = parts->elems[i].partition;
		if (n == sizeof ids / sizeof ids[0] || i == parts->cnt - 1) {
			kb->rcb(kb->ropaque, assigned, ids, n);
			n = 0;
		}
	}
}

static void rebalance(struct kbroker *kb, rd_kafka_resp_err_t err,
                      rd_kafka_topic_partition_list_t *parts)
{
	bool coop = !strcmp(rd_kafka_rebalance_protocol(kb->rk), "COOPERATIVE");
	rd_kafka_error_t *error = NULL;
	rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR_NO_ERROR;

	if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
		kb->assigned_once = true;
		for (int i = 0; i < parts->cnt; i++) {
			uint32_t epoch;
			if (offtrack_assign(kb->ot, parts->elems[i].partition, &epoch) < 0)
				klog(kb, LOG_ERR, "out of memory tracking partition %d",
				     (int)parts->elems[i].partition);
		}
		if (coop)
			error = rd_kafka_incremental_assign(kb->rk, parts);
		else
			e = rd_kafka_assign(kb->rk, parts);
		/* librdkafka keeps a partition's pause flag across revoke and re-assignment: a
		 * partition paused while all slots were busy, then lost (session timeout,
		 * broker restart) and assigned again after we resumed an empty assignment
		 * would never be fetched again. So every assignment gets our state now. */
		if (!error && !e && parts->cnt > 0) {
			rd_kafka_resp_err_t pe =
				kb->paused ? rd_kafka_pause_partitions(kb->rk, parts)
					   : rd_kafka_resume_partitions(kb->rk, parts);
			if (pe)
				klog(kb, LOG_WARNING, "%s assigned partitions: %s",
				     kb->paused ? "pause" : "resume", rd_kafka_err2str(pe));
		}
		klog(kb, LOG_INFO, "assigned %d partition(s) of %s", parts->cnt, kb->topic);
		notify(kb, true, parts);
	} else {
		bool lost = rd_kafka_assignment_lost(kb->rk);
		/* Done offsets are already stored; librdkafka commits them on revoke unless
		 * the assignment was lost (then another member owns them already). */
		for (int i = 0; i < parts->cnt; i++) {
			offtrack_revoke(kb->ot, parts->elems[i].partition);
			stash_drop(kb, parts->elems[i].partition);
		}
		if (coop)
			error = rd_kafka_incremental_unassign(kb->rk, parts);
		else
			e = rd_kafka_assign(kb->rk, NULL);
		if (err != RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS)
			klog(kb, LOG_WARNING, "rebalance error: %s", rd_kafka_err2str(err));
		klog(kb, LOG_INFO, "%s %d partition(s) of %s", lost ? "lost" : "revoked",
		     parts->cnt, kb->topic);
		notify(kb, false, parts);
	}
	if (error) {
		klog(kb, LOG_ERR, "rebalance: %s", rd_kafka_error_string(error));
		rd_kafka_error_destroy(error);
	} else if (e) {
		klog(kb, LOG_ERR, "rebalance: %s", rd_kafka_err2str(e));
	}
}

/* ---- polling ---- */

static void drain_pipe(struct kbroker *kb)
{
	char buf[64];
	while (read(kb->pipefd[0], buf, sizeof buf) > 0)
		;
}

static void k_poll(struct broker *b)
{
	struct kbroker *kb = kb_of(b);
	drain_pipe(kb);
	if (!b->consumer) {
		rd_kafka_poll(kb->rk, 0);
		return;
	}
	rd_kafka_poll(kb->rk, 0);   /* logs, errors, statistics */
	rd_kafka_poll(kb->prod, 0); /* dead-letter reports */
	dlq_serve_retries(kb, false);
	if (kb->closed)
		return;
	/* Serves rebalances and keeps us inside max.poll.interval.ms even while paused;
	 * a message read here waits in the stash for broker_next(). */
	if (kb->held)
		return; /* nothing newer before the held message is taken */
	rd_kafka_message_t *rkm = rd_kafka_consumer_poll(kb->rk, 0);
	if (rkm) {
		struct kmsg *m = kmsg_wrap(kb, rkm);
		if (m)
			stash_push(kb, m);
	}
}

static int k_fd(struct broker *b)
{
	return kb_of(b)->pipefd[0];
}

/* ---- shutdown ---- */

static int k_close(struct broker *b, int timeout_ms)
{
	struct kbroker *kb = kb_of(b);
	int64_t deadline = mono_ms() + timeout_ms;
	if (kb->closed)
		return 0;
	if (!b->consumer) {
		rd_kafka_resp_err_t e = rd_kafka_flush(kb->rk, timeout_ms);
		kb->closed = true;
		return e ? -ETIMEDOUT : 0;
	}
	/* Dead letters first: their reports store offsets. */
	dlq_serve_retries(kb, true);
	while (kb->dlq_outstanding > 0 && mono_ms() < deadline)
		rd_kafka_poll(kb->prod, 50);
	int rc = kb->dlq_outstanding > 0 ? -ETIMEDOUT : 0;
	stash_drop(kb, -1);

	/* librdkafka before 2.3 aborts when a cooperative-sticky member is destroyed between
	 * its JoinGroup and its first assignment (assert on a NULL assignor state,
	 * librdkafka#4312). A node told to stop right after it started would crash instead
	 * of leaving the group: let the join finish first. Messages polled meanwhile are
	 * dropped untaken, so they stay uncommitted and are delivered to another member. */
	while (!kb->assigned_once && !kb->fatal && mono_ms() < deadline) {
		rd_kafka_message_t *rkm = rd_kafka_consumer_poll(kb->rk, 100);
		if (rkm)
			rd_kafka_message_destroy(rkm);
	}
	stash_drop(kb, -1);

	rd_kafka_queue_t *q = rd_kafka_queue_new(kb->rk);
	rd_kafka_error_t *error = rd_kafka_consumer_close_queue(kb->rk, q);
	if (error) {
		klog(kb, LOG_WARNING, "close: %s", rd_kafka_error_string(error));
		rd_kafka_error_destroy(error);
		rc = -EIO;
	} else {
		while (!rd_kafka_consumer_closed(kb->rk)) {
			int64_t left = deadline - mono_ms();
			if (left <= 0) {
				rc = -ETIMEDOUT;
				break;
			}
			rd_kafka_event_t *ev = rd_kafka_queue_poll(q, left < 100 ? (int)left : 100);
			if (!ev)
				continue;
			if (rd_kafka_event_type(ev) == RD_KAFKA_EVENT_REBALANCE)
				rebalance(kb, rd_kafka_event_error(ev),
				          rd_kafka_event_topic_partition_list(ev));
			rd_kafka_event_destroy(ev);
		}
	}
	rd_kafka_queue_destroy(q);
	kb->closed = true;
	return rc;
}

static void k_free(struct broker *b)
{
	struct kbroker *kb = kb_of(b);
	kb->freeing = true;
	stash_drop(kb, -1);
	while (kb->retry) {
		struct kmsg *m = kb->retry;
		kb->retry = m->next;
		kmsg_free(m);
	}
	if (kb->prod) {
		/* Every accepted publish gets its callback, here with -ECANCELED. */
		rd_kafka_purge(kb->prod, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
		rd_kafka_flush(kb->prod, 500); /* serves the purge reports */
	}
	rd_kafka_queue_t *qs[] = { kb->q_main, kb->q_cons, kb->q_prod };
	for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
		if (qs[i]) {
			rd_kafka_queue_io_event_enable(qs[i], -1, NULL, 0);
			rd_kafka_queue_destroy(qs[i]);
		}
	}
	if (kb->prod && kb->prod != kb->rk)
		rd_kafka_destroy(kb->prod);
	if (kb->rk && b->consumer && !kb->assigned_once && kb->closed) {
		/* see k_close: destroying it now could abort the process (librdkafka#4312);
		 * only a process that is exiting closes a consumer, so leave it to the exit */
		klog(kb, LOG_WARNING, "consumer never got an assignment; not destroying it");
	} else if (kb->rk) {
		rd_kafka_destroy_flags(kb->rk,
		                       b->consumer ? RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE : 0);
	}
	if (kb->pipefd[0] >= 0)
		close(kb->pipefd[0]);
	if (kb->pipefd[1] >= 0)
		close(kb->pipefd[1]);
	offtrack_free(kb->ot);
	free(kb->topic);
	free(kb->dlq_topic);
	free(kb);
}

static const struct broker_ops kafka_ops = {
	.name = "kafka",
	.publish = k_publish,
	.up = k_up,
	.next = k_next,
	.done = k_done,
	.msg_free = k_msg_free,
	.dead_letter = k_dead_letter,
	.pause = k_pause,
	.resume = k_resume,
	.close = k_close,
	.fd = k_fd,
	.poll = k_poll,
	.free = k_free,
};
