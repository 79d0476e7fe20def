/* test_kafka_mock.c - the Kafka adapter against librdkafka's mock cluster: publish ->
 * ack, consume, offsets stored only over the done prefix (seen by the next member of
 * the group), dead letters with their reason header, pause/resume, the queue-lag monitor
 * (committed offset against the high watermark), and a publish to a down cluster failing
 * in time with retriable set; a message there is no memory to take is held, never skipped
 * (calloc of the adapter wrapped to fail on demand: -Wl,--wrap=calloc). */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "broker.h"

#define TOPIC "jobs"

/* calloc of the statically linked adapter, failing the next fail_callocs calls. */
void *__real_calloc(size_t n, size_t size);
void *__wrap_calloc(size_t n, size_t size);
static int fail_callocs, failed_callocs;

void *__wrap_calloc(size_t n, size_t size)
{
	if (fail_callocs > 0) {
		fail_callocs--;
		failed_callocs++;
		return NULL;
	}
	return __real_calloc(n, size);
}

static rd_kafka_t *host; /* owns the mock cluster */
static rd_kafka_mock_cluster_t *mc;
static char bootstraps[256];

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void log_cb(void *opaque, int level, const char *msg)
{
	if (getenv("GQ_TEST_VERBOSE"))
		fprintf(stderr, "[%s] %d %s\n", (const char *)opaque, level, msg);
}

static const char *const fast_props[] = { "message.timeout.ms", "3000", NULL };

static const char *topic = TOPIC; /* of the test running */

static struct broker_config cfg_for(const char *who, const char *group)
{
	return (struct broker_config){ .brokers = bootstraps,
		                       .topic = topic,
		                       .group = group,
		                       .client_id = who,
		                       .log_cb = log_cb,
		                       .log_opaque = (void *)who,
		                       .props = fast_props };
}

/* One poll round: wait for the fd (or 20 ms), then serve. */
static void pump(struct broker *b)
{
	struct pollfd pfd = { .fd = broker_fd(b), .events = POLLIN };
	poll(&pfd, 1, 20);
	broker_poll(b);
}

static struct broker_msg *wait_msg(struct broker *b, int ms)
{
	int64_t end = now_ms() + ms;
	while (now_ms() < end) {
		struct broker_msg *m = NULL;
		int r = broker_next(b, &m);
		assert_true(r >= 0);
		if (r == 1)
			return m;
		pump(b);
	}
	return NULL;
}

struct ack {
	int calls, err;
	bool retriable;
	char reason[256];
};

static void on_ack(void *opaque, int err, bool retriable, const char *reason)
{
	struct ack *a = opaque;
	a->calls++;
	a->err = err;
	a->retriable = retriable;
	snprintf(a->reason, sizeof a->reason, "%s", reason);
}

static void publish_wait(struct broker *p, const char *key, const char *payload, struct ack *a,
                         int ms)
{
	memset(a, 0, sizeof *a);
	assert_int_equal(broker_publish(p, key, payload, strlen(payload), on_ack, a), 0);
	int64_t end = now_ms() + ms;
	while (!a->calls && now_ms() < end)
		pump(p);
	assert_int_equal(a->calls, 1);
}

static struct broker *producer(void)
{
	char err[256];
	struct broker_config c = cfg_for("producer", NULL);
	struct broker *p = broker_kafka_producer_new(&c, err, sizeof err);
	assert_non_null(p);
	assert_true(broker_fd(p) >= 0);
	return p;
}

struct reb {
	int assigned, revoked;
};

static void on_rebalance(void *opaque, bool assigned, const int32_t *parts, size_t n)
{
	struct reb *r = opaque;
	if (assigned)
		r->assigned += (int)n;
	else
		r->revoked += (int)n;
}

static struct broker *consumer(const char *group, struct reb *r)
{
	char err[256];
	struct broker_config c = cfg_for("consumer", group);
	struct broker *b = broker_kafka_consumer_new(&c, on_rebalance, r, err, sizeof err);
	if (!b)
		fail_msg("consumer: %s", err);
	return b;
}

static int setup(void **state)
{
	char err[256];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_conf_set(conf, "log_level", "0", err, sizeof err); /* no bootstrap: quiet */
	host = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
	if (!host)
		return -1;
	mc = rd_kafka_mock_cluster_new(host, 1);
	if (!mc)
		return -1;
	snprintf(bootstraps, sizeof bootstraps, "%s", rd_kafka_mock_cluster_bootstraps(mc));
	rd_kafka_mock_topic_create(mc, TOPIC, 1, 1);
	rd_kafka_mock_topic_create(mc, TOPIC ".dlq", 1, 1);
	rd_kafka_mock_topic_create(mc, "prefix", 1, 1);
	rd_kafka_mock_topic_create(mc, "prefix.dlq", 1, 1);
	rd_kafka_mock_topic_create(mc, "lagt", 1, 1);
	rd_kafka_mock_topic_create(mc, "lostp", 1, 1);
	rd_kafka_mock_topic_create(mc, "oomt", 1, 1);
	rd_kafka_mock_topic_create(mc, "oomt.dlq", 1, 1);
	return 0;
}

static int teardown(void **state)
{
	rd_kafka_mock_cluster_destroy(mc);
	rd_kafka_destroy(host);
	return 0;
}

static void test_publish_ack(void **state)
{
	struct broker *p = producer();
	struct ack a;
	publish_wait(p, "k", "hello", &a, 10000);
	assert_int_equal(a.err, 0);
	/* statistics report the connection within a couple of seconds */
	int64_t end = now_ms() + 5000;
	while (!broker_up(p) && now_ms() < end)
		pump(p);
	assert_true(broker_up(p));
	assert_int_equal(broker_close(p, 5000), 0);
	broker_free(p);
	broker_free(NULL);
}

/* Reads every message of the topic from the beginning, outside any group, and returns
 * the count (and the reason header of the last one in reason). */
static int read_topic(const char *name, char *reason, size_t rlen)
{
	char err[256];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps, err, sizeof err);
	rd_kafka_conf_set(conf, "group.id", "reader", err, sizeof err);
	rd_kafka_conf_set(conf, "enable.partition.eof", "true", err, sizeof err);
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
	assert_non_null(rk);
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(l, name, 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
	rd_kafka_assign(rk, l);
	rd_kafka_topic_partition_list_destroy(l);
	int n = 0;
	int64_t end = now_ms() + 10000;
	while (now_ms() < end) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
		if (!m)
			continue;
		if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
			rd_kafka_message_destroy(m);
			break;
		}
		if (!m->err) {
			n++;
			rd_kafka_headers_t *h = NULL;
			const void *v;
			size_t vlen;
			if (rd_kafka_message_headers(m, &h) == 0 &&
			    rd_kafka_header_get_last(h, "gradeq-reason", &v, &vlen) == 0)
				snprintf(reason, rlen, "%.*s", (int)vlen, (const char *)v);
		}
		rd_kafka_message_destroy(m);
	}
	rd_kafka_consumer_close(rk);
	rd_kafka_destroy(rk);
	return n;
}

static void test_consume_done_prefix_and_dlq(void **state)
{
	topic = "prefix";
	struct broker *p = producer();
	struct ack a;
	const char *bodies[] = { "m0", "m1", "m2", "m3" };
	for (int i = 0; i < 4; i++) {
		publish_wait(p, "same-key", bodies[i], &a, 10000);
		assert_int_equal(a.err, 0);
	}

	/* member 1: takes all four; finishes m0, m2, m3 (m3 as a dead letter) and gives
	 * m1 back: only offset 1 may be committed */
	struct reb r1 = { 0 };
	struct broker *c1 = consumer("g1", &r1);
	struct broker_msg *m[4];
	for (int i = 0; i < 4; i++) {
		m[i] = wait_msg(c1, 20000);
		assert_non_null(m[i]);
		assert_int_equal(m[i]->offset, i);
		assert_int_equal(m[i]->len, 2);
		assert_memory_equal(m[i]->payload, bodies[i], 2);
		assert_string_equal(m[i]->key, "same-key");
	}
	assert_true(r1.assigned >= 1);
	broker_done(c1, m[2]);
	assert_int_equal(broker_dead_letter(c1, m[3], "bad schema"), 0);
	broker_done(c1, m[0]);
	broker_msg_free(c1, m[1]);
	assert_int_equal(broker_close(c1, 15000), 0);
	broker_free(c1);

	char reason[128] = "";
	assert_int_equal(read_topic("prefix.dlq", reason, sizeof reason), 1);
	assert_string_equal(reason, "bad schema");

	/* member 2 of the same group starts at the committed offset 1 */
	struct reb r2 = { 0 };
	struct broker *c2 = consumer("g1", &r2);
	struct broker_msg *x = wait_msg(c2, 20000);
	assert_non_null(x);
	assert_int_equal(x->offset, 1);
	struct broker_msg *y = wait_msg(c2, 5000);
	assert_non_null(y);
	assert_int_equal(y->offset, 2);
	/* out of order: 2 before 1, then 3 */
	broker_done(c2, y);
	broker_done(c2, x);
	struct broker_msg *z = wait_msg(c2, 5000);
	assert_non_null(z);
	assert_int_equal(z->offset, 3);
	broker_done(c2, z);
	assert_int_equal(broker_close(c2, 15000), 0);
	broker_free(c2);

	/* member 3: nothing left but what is published now */
	publish_wait(p, NULL, "m4", &a, 10000);
	struct reb r3 = { 0 };
	struct broker *c3 = consumer("g1", &r3);
	x = wait_msg(c3, 20000);
	assert_non_null(x);
	assert_int_equal(x->offset, 4);
	broker_done(c3, x);
	assert_int_equal(broker_close(c3, 15000), 0);
	broker_free(c3);
	broker_close(p, 5000);
	broker_free(p);
	topic = TOPIC;
}

/* Regression: a message polled when there is no memory to wrap it was destroyed, with a
 * comment saying its offset stayed uncommitted. It did not: the messages after it were
 * taken, done, and their offsets stored past it, so it was never graded. Now it is held
 * and handed out, in order, once memory is back; broker_next says -ENOMEM meanwhile. */
static void test_oom_never_skips_an_offset(void **state)
{
	topic = "oomt";
	struct broker *p = producer();
	struct ack a;
	enum { N = 6 };
	for (int i = 0; i < N; i++) {
		publish_wait(p, "k", "job", &a, 10000);
		assert_int_equal(a.err, 0);
	}
	struct reb r1 = { 0 };
	struct broker *c1 = consumer("goom", &r1);
	struct broker_msg *m = wait_msg(c1, 20000);
	assert_non_null(m);
	assert_int_equal(m->offset, 0);
	broker_done(c1, m);

	/* The next wrap of a polled message finds no memory (twice in a row). */
	fail_callocs = 2;
	failed_callocs = 0;
	int64_t want = 1, end = now_ms() + 20000;
	int enomem = 0;
	while (want < N && now_ms() < end) {
		int r = broker_next(c1, &m);
		if (r == -ENOMEM) {
			enomem++;
			continue;
		}
		assert_true(r >= 0);
		if (r == 0) {
			pump(c1);
			continue;
		}
		if (m->offset != want)
			fail_msg("got offset %lld, expected %lld: an offset was skipped",
			         (long long)m->offset, (long long)want);
		want++;
		broker_done(c1, m);
	}
	assert_int_equal(want, N);
	assert_int_equal(failed_callocs, 2);
	assert_true(enomem >= 1);
	assert_int_equal(broker_close(c1, 15000), 0);
	broker_free(c1);

	/* The group's committed position is past every message: a new member gets only
	 * what is published now. */
	publish_wait(p, NULL, "last", &a, 10000);
	struct reb r2 = { 0 };
	struct broker *c2 = consumer("goom", &r2);
	m = wait_msg(c2, 20000);
	assert_non_null(m);
	assert_int_equal(m->offset, N);
	broker_done(c2, m);
	assert_int_equal(broker_close(c2, 15000), 0);
	broker_free(c2);
	broker_close(p, 5000);
	broker_free(p);
	topic = TOPIC;
}

/* Regression: a member paused while all its slots were busy loses its assignment (its
 * session ended: a broker restart), resumes while it has no partitions (its jobs were
 * released), and gets the same partitions again. librdkafka keeps the partitions' pause
 * flag across the re-assignment, so they must be resumed on assignment or they are never
 * fetched again. */
static void test_lost_while_paused(void **state)
{
	topic = "lostp";
	struct broker *p = producer();
	struct ack a;
	struct reb r = { 0 };
	struct broker *c = consumer("g-lostp", &r);
	int64_t end = now_ms() + 20000;
	while (r.assigned < 1 && now_ms() < end)
		pump(c);
	assert_int_equal(r.assigned, 1);
	assert_int_equal(broker_pause(c), 0);
	/* the coordinator forgets the member: its assignment is lost, it rejoins */
	rd_kafka_mock_push_request_errors(mc, 12 /* Heartbeat */, 1,
	                                  RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID);
	end = now_ms() + 20000;
	while (r.revoked < 1 && now_ms() < end)
		pump(c);
	assert_int_equal(r.revoked, 1);
	assert_int_equal(broker_resume(c), 0); /* nothing assigned right now */
	end = now_ms() + 30000;
	while (r.assigned < 2 && now_ms() < end)
		pump(c);
	assert_int_equal(r.assigned, 2);
	publish_wait(p, NULL, "after", &a, 10000);
	struct broker_msg *m = wait_msg(c, 10000);
	assert_non_null(m);
	assert_memory_equal(m->payload, "after", 5);
	broker_done(c, m);
	broker_close(c, 15000);
	broker_free(c);
	broker_close(p, 5000);
	broker_free(p);
	topic = TOPIC;
}

/* Waits for a lag snapshot of group whose total is want; returns the partition count. */
static int lag_wait(struct broker_lag *l, int64_t want, struct broker_lag_part *parts)
{
	char err[256];
	int n = -1;
	int64_t end = now_ms() + 20000, total = -1, taken = 0;
	while (now_ms() < end) {
		n = broker_lag_get(l, parts, 8, &taken, err, sizeof err);
		total = -1;
		if (n >= 0) {
			total = 0;
			for (int i = 0; i < n; i++)
				total += parts[i].lag;
			if (total == want)
				return n;
		}
		struct timespec ts = { 0, 50 * 1000000L };
		nanosleep(&ts, NULL);
	}
	fail_msg("lag: got %d partitions, total %lld, want %lld (%s)", n, (long long)total,
	         (long long)want, n < 0 ? err : "");
	return -1;
}

static void test_lag(void **state)
{
	topic = "lagt";
	struct broker *p = producer();
	struct ack a;
	for (int i = 0; i < 5; i++) {
		publish_wait(p, "k", "job", &a, 10000);
		assert_int_equal(a.err, 0);
	}
	char err[256];
	struct broker_config c = cfg_for("lag", "g-lag");
	struct broker_lag *l = broker_kafka_lag_new(&c, 100, err, sizeof err);
	if (!l)
		fail_msg("lag: %s", err);
	struct broker_lag_part parts[8];
	/* nothing committed yet: everything since the low watermark is lag */
	assert_int_equal(lag_wait(l, 5, parts), 1);
	assert_int_equal(parts[0].partition, 0);
	assert_int_equal(parts[0].committed, -1);
	assert_int_equal(parts[0].high, 5);

	/* the group finishes (and commits) the first three */
	struct reb r = { 0 };
	struct broker *cons = consumer("g-lag", &r);
	struct broker_msg *m[3];
	for (int i = 0; i < 3; i++) {
		m[i] = wait_msg(cons, 20000);
		assert_non_null(m[i]);
	}
	for (int i = 0; i < 3; i++)
		broker_done(cons, m[i]);
	assert_int_equal(broker_close(cons, 15000), 0);
	broker_free(cons);
	assert_int_equal(lag_wait(l, 2, parts), 1);
	assert_int_equal(parts[0].committed, 3);
	assert_int_equal(parts[0].lag, 2);
	broker_lag_free(l);
	broker_lag_free(NULL);

	/* a cluster that does not answer is an error, not a lag of 0 */
	c.brokers = "127.0.0.1:1";
	l = broker_kafka_lag_new(&c, 100, err, sizeof err);
	assert_non_null(l);
	int64_t end = now_ms() + 10000;
	int rc = -EAGAIN;
	while (rc == -EAGAIN && now_ms() < end)
		rc = broker_lag_get(l, parts, 8, NULL, err, sizeof err);
	assert_int_equal(rc, -EIO);
	broker_lag_free(l);
	broker_close(p, 5000);
	broker_free(p);
	topic = TOPIC;
}

static void test_pause_resume(void **state)
{
	struct broker *p = producer();
	struct ack a;
	struct reb r = { 0 };
	struct broker *c = consumer("g-pause", &r);
	/* join the group and drain what earlier tests left */
	struct broker_msg *m;
	int64_t end = now_ms() + 20000;
	while (r.assigned < 1 && now_ms() < end)
		pump(c);
	assert_true(r.assigned >= 1);
	while ((m = wait_msg(c, 3000)) != NULL)
		broker_done(c, m);
	assert_int_equal(broker_pause(c), 0);
	publish_wait(p, NULL, "paused", &a, 10000);
	assert_null(wait_msg(c, 2000));
	assert_int_equal(broker_resume(c), 0);
	m = wait_msg(c, 10000);
	assert_non_null(m);
	assert_memory_equal(m->payload, "paused", 6);
	broker_done(c, m);
	broker_close(c, 15000);
	broker_free(c);
	broker_close(p, 5000);
	broker_free(p);
}

static void test_broker_down_publish(void **state)
{
	struct broker *p = producer();
	struct ack a;
	publish_wait(p, NULL, "up", &a, 10000);
	assert_int_equal(a.err, 0);
	rd_kafka_mock_broker_set_down(mc, 1);
	/* message.timeout.ms is 3 s in these tests (30 s by default) */
	int64_t t0 = now_ms();
	publish_wait(p, NULL, "down", &a, 15000);
	assert_true(a.err < 0);
	assert_true(a.retriable);
	assert_true(now_ms() - t0 < 10000);
	assert_true(strlen(a.reason) > 0);
	int64_t end = now_ms() + 5000;
	while (broker_up(p) && now_ms() < end)
		pump(p);
	assert_false(broker_up(p));
	/* freeing with a publish outstanding still calls its callback, once */
	struct broker *p2 = producer();
	struct ack a2 = { 0 };
	assert_int_equal(broker_publish(p2, NULL, "x", 1, on_ack, &a2), 0);
	broker_free(p2);
	assert_int_equal(a2.calls, 1);
	assert_int_equal(a2.err, -ECANCELED);
	rd_kafka_mock_broker_set_up(mc, 1);
	publish_wait(p, NULL, "up again", &a, 15000);
	assert_int_equal(a.err, 0);
	broker_close(p, 5000);
	broker_free(p);
}

static void test_bad_args(void **state)
{
	char err[256];
	struct broker_config c = cfg_for("x", NULL);
	c.brokers = NULL;
	assert_null(broker_kafka_producer_new(&c, err, sizeof err));
	c = cfg_for("x", NULL);
	assert_null(broker_kafka_consumer_new(&c, NULL, NULL, err, sizeof err));
	assert_non_null(strstr(err, "group"));
	const char *const bad[] = { "no.such.property", "1", NULL };
	c.props = bad;
	assert_null(broker_kafka_producer_new(&c, err, sizeof err));
	assert_non_null(strstr(err, "no.such.property"));
	/* consumer calls on a producer */
	struct broker *p = producer();
	struct broker_msg *m;
	assert_int_equal(broker_next(p, &m), -EINVAL);
	assert_int_equal(broker_pause(p), -EINVAL);
	broker_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_args),
		cmocka_unit_test(test_publish_ack),
		cmocka_unit_test(test_consume_done_prefix_and_dlq),
		cmocka_unit_test(test_pause_resume),
		cmocka_unit_test(test_lost_while_paused),
		cmocka_unit_test(test_oom_never_skips_an_offset),
		cmocka_unit_test(test_lag),
		cmocka_unit_test(test_broker_down_publish),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
