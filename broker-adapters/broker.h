/* broker.h - the job queue between dispatcher and grader nodes, behind one interface.
 * Two adapters: Redis Streams (broker_redis.c, the single-machine default) and Kafka
 * (broker_kafka.c, for fleets). Callbacks run only inside broker_poll()
 * (and, for the consumer's rebalance callback, broker_next()), on the caller's thread: a
 * daemon calls broker_poll() when broker_fd() is readable and on a short timer (the fd
 * only signals a queue turning non-empty), so nothing blocks its event loop. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct broker;

/* How a client proves who it is (all NULL: it does not). Redis: AUTH user password on
 * every connection. Kafka: librdkafka's security.protocol (NULL: PLAINTEXT), with SASL
 * sasl_mechanism and user/password as the SASL username/password, and ssl_ca_file for
 * SSL/SASL_SSL (NULL: the system's CA store). */
struct broker_auth {
	const char *user, *password;
	const char *security_protocol, *sasl_mechanism, *ssl_ca_file;
};

struct creds;
/* The auth a client of this broker kind presents, from the loaded credentials (common/creds.h):
 * Redis user/password, or Kafka's protocol with the SASL fields only when SASL is on. out
 * points into k, which must outlive it. */
void broker_auth_from_creds(const struct creds *k, bool kafka, struct broker_auth *out);

struct broker_config {
	const char *brokers;   /* Kafka: "host:port,..."; Redis: "host:port" */
	const char *topic;     /* jobs topic (Kafka) or stream key (Redis) */
	const char *dlq_topic; /* dead letters (consumer side); NULL = "<topic>.dlq" (Kafka),
	                          "<stream>:dlq" (Redis) */
	const char *group;     /* consumer group (consumer side; Redis: also the producer,
	                          which creates it so no job waits for a first member) */
	const char *client_id; /* Redis: the consumer name in the group (the node id) */
	/* Redis only (0 = default): an entry held by a member that stopped answering is
	 * claimed by another after visibility_ms (15000); an entry delivered more than
	 * max_deliveries times (5) goes to the dead-letter stream. */
	int visibility_ms;
	int max_deliveries;
	struct broker_auth auth;
	/* Optional: receives the adapter's own log lines (librdkafka's), level as syslog. */
	void (*log_cb)(void *opaque, int level, const char *msg);
	void *log_opaque;
	/* Optional: NULL-terminated "key", "value", ... adapter properties applied last
	 * (librdkafka names for Kafka), for tests and tuning. */
	const char *const *props;
};

/* ---- producer (dispatcher) ---- */

/* Called once per broker_publish(), from broker_poll(): err 0 when the broker
 * acknowledged the message (acks=all, idempotent), else a negative errno and a reason;
 * retriable tells whether a later publish may succeed (broker down) or not. */
typedef void (*broker_ack_cb)(void *opaque, int err, bool retriable, const char *reason);

/* Returns NULL with err on failure. */
struct broker *broker_redis_producer_new(const struct broker_config *cfg, char *err, size_t errlen);
struct broker *broker_kafka_producer_new(const struct broker_config *cfg, char *err, size_t errlen);
/* Queues payload (copied) under key (copied, may be NULL). Returns 0, or -EAGAIN when the
 * local queue is full, or another negative errno; cb is called only if 0 is returned. */
int broker_publish(struct broker *b, const char *key, const void *payload, size_t len,
                   broker_ack_cb cb, void *opaque);
/* true if the adapter currently sees a live broker connection. */
bool broker_up(const struct broker *b);

/* ---- consumer (grader node) ---- */

struct broker_msg {
	const uint8_t *payload; /* owned by the message */
	size_t len;
	const char *key; /* NUL-terminated copy, may be NULL */
	int32_t partition;
	int64_t offset;
};

/* Rebalance notification: assigned or revoked partitions of the jobs topic. Called from
 * broker_poll(). On revoke, messages of those partitions still held by the caller may be
 * finished; their broker_done() is then a no-op (another member will redeliver). */
typedef void (*broker_rebalance_cb)(void *opaque, bool assigned, const int32_t *partitions,
                                    size_t n);

struct broker *broker_kafka_consumer_new(const struct broker_config *cfg, broker_rebalance_cb rcb,
                                         void *opaque, char *err, size_t errlen);
/* Redis: the "partition" of a message is its lease number (unique per delivery); the
 * rebalance callback reports a lease revoked when another member claimed the entry
 * (this member had stopped answering for the visibility timeout). */
struct broker *broker_redis_consumer_new(const struct broker_config *cfg, broker_rebalance_cb rcb,
                                         void *opaque, char *err, size_t errlen);
/* Takes the next message if one is buffered; never blocks. Returns 1 and *out (the caller
 * owns it until broker_done/broker_msg_free), 0 when none, or a negative errno. */
int broker_next(struct broker *b, struct broker_msg **out);
/* The message's effects are persisted: its offset may be stored once every earlier
 * message of its partition is done too (offsets advance only over a done prefix).
 * Frees m. */
void broker_done(struct broker *b, struct broker_msg *m);
/* Gives m back without marking it done (it will be delivered again, to this or another
 * member). Frees m. */
void broker_msg_free(struct broker *b, struct broker_msg *m);
/* Publishes m to the dead-letter topic with reason (header "gradeq-reason"), and
 * broker_done(m) once the dead letter is acknowledged. Always takes ownership of m; if
 * the dead letter cannot be written after a few tries, m is marked done anyway so a
 * partition never stalls behind a poison message. Returns 0 (the reason is logged
 * through log_cb on failure). Also valid: broker_publish() on a consumer publishes to
 * the jobs topic (for re-queueing a job). */
int broker_dead_letter(struct broker *b, struct broker_msg *m, const char *reason);
/* Stop / restart fetching (all assigned partitions) while still polling, so the member is
 * not evicted during long jobs. */
int broker_pause(struct broker *b);
int broker_resume(struct broker *b);
/* Stores done offsets, commits, leaves the group (consumer) or flushes (producer). */
int broker_close(struct broker *b, int timeout_ms);

/* ---- queue lag (dispatcher status) ---- */

/* One partition of the jobs topic as the consumer group sees it. */
struct broker_lag_part {
	int32_t partition;
	int64_t committed; /* the group's committed offset, -1 when it has none */
	int64_t high;      /* high watermark: offset of the next message produced */
	int64_t lag;       /* messages not yet committed: high - committed (or - low) */
	int64_t pending;   /* Redis: delivered, not yet acknowledged; Kafka: -1 */
};

struct broker_lag;

/* Starts a monitor of cfg->group's lag on cfg->topic: a thread of its own, with its own
 * client (it never joins the group), asks the cluster every interval_ms for the
 * partitions, the group's committed offsets and the high watermarks. Those calls block,
 * which is why they live on that thread and the caller only ever reads the cached result.
 * cfg->log_cb, when set, is called from librdkafka's threads. Returns NULL with err. */
struct broker_lag *broker_kafka_lag_new(const struct broker_config *cfg, int interval_ms, char *err,
                                        size_t errlen);
/* The same on a Redis stream (its own connection and thread): one row, partition 0,
 * from XINFO GROUPS / XINFO STREAM (see broker_lag_redis.c). */
struct broker_lag *broker_redis_lag_new(const struct broker_config *cfg, int interval_ms, char *err,
                                        size_t errlen);
/* Copies the latest snapshot (at most max partitions, by partition id) without blocking.
 * Returns the number of partitions (>= 0) with *taken_ms (wall clock of the snapshot);
 * -EAGAIN before the first refresh finished; -EIO with err when the latest refresh
 * failed (the cluster is down, the topic is missing). Thread-safe. */
int broker_lag_get(struct broker_lag *l, struct broker_lag_part *out, size_t max, int64_t *taken_ms,
                   char *err, size_t errlen);
/* Stops the thread (waits for the refresh in progress, at most a few seconds) and frees.
 * broker_lag_free(NULL) is a no-op. */
void broker_lag_free(struct broker_lag *l);

/* ---- both ---- */

/* A file descriptor that becomes readable when broker_poll() has work; -1 if none. */
int broker_fd(struct broker *b);
/* Serves callbacks and internal events; never blocks. */
void broker_poll(struct broker *b);
/* broker_free(NULL) is a no-op. Does not wait: call broker_close() first for a clean exit.
 * Publishes not yet acknowledged get their callback here, with -ECANCELED (retriable).
 * A consumer's messages still held must be released (done / msg_free) before. */
void broker_free(struct broker *b);
