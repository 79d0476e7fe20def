/* test_redis_stream.c - the Redis Streams adapter (broker_redis.c) against a real
 * redis-server started here on a free loopback port: publish and acknowledge, a dead
 * member's job claimed after the visibility timeout, the delivery limit and poison going
 * to the dead-letter stream, and trimming that never drops an unacknowledged job.
 * redis-server missing is a failure, not a skip. */
#include <errno.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "broker.h"

static pid_t server;
static int port;
static char addr[32];
static redisContext *rc; /* the test's own view of Redis */

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int free_port(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof a;
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) < 0 ||
	    getsockname(s, (struct sockaddr *)&a, &len) < 0)
		return -1;
	close(s);
	return ntohs(a.sin_port);
}

static long long cmd_int(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	redisReply *r = redisvCommand(rc, fmt, ap);
	va_end(ap);
	assert_non_null(r);
	long long v = r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
	freeReplyObject(r);
	return v;
}

static int group_setup(void **state)
{
	port = free_port();
	if (port <= 0)
		return -1;
	snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
	server = fork();
	if (server == 0) {
		char p[16];
		snprintf(p, sizeof p, "%d", port);
		int devnull = open("/dev/null", O_WRONLY);
		dup2(devnull, 1);
		execlp("redis-server", "redis-server", "--port", p, "--bind", "127.0.0.1", "--save",
		       "", "--appendonly", "no", (char *)NULL);
		_exit(127);
	}
	struct timeval tv = { 1, 0 };
	for (int i = 0; i < 100; i++) {
		rc = redisConnectWithTimeout("127.0.0.1", port, tv);
		if (rc && !rc->err)
			return 0;
		if (rc)
			redisFree(rc);
		rc = NULL;
		usleep(50 * 1000);
	}
	fprintf(stderr, "redis-server did not start (is it installed?)\n");
	return -1;
}

static int group_teardown(void **state)
{
	if (rc)
		redisFree(rc);
	if (server > 0) {
		kill(server, SIGTERM);
		waitpid(server, NULL, 0);
	}
	return 0;
}

static int flush(void **state)
{
	redisReply *r = redisCommand(rc, "FLUSHALL");
	freeReplyObject(r);
	return 0;
}

static int acked;
static void on_ack(void *opaque, int err, bool retriable, const char *reason)
{
	assert_int_equal(err, 0);
	acked++;
}

static struct broker *producer(void)
{
	char err[256];
	struct broker_config c = { .brokers = addr, .topic = "gq:jobs", .group = "g" };
	struct broker *b = broker_redis_producer_new(&c, err, sizeof err);
	assert_non_null(b);
	return b;
}

static struct broker *consumer(const char *name, int visibility_ms, int max_deliveries)
{
	char err[256];
	struct broker_config c = { .brokers = addr,
		                   .topic = "gq:jobs",
		                   .group = "g",
		                   .client_id = name,
		                   .visibility_ms = visibility_ms,
		                   .max_deliveries = max_deliveries };
	struct broker *b = broker_redis_consumer_new(&c, NULL, NULL, err, sizeof err);
	assert_non_null(b);
	return b;
}

static void publish(struct broker *p, const char *payload)
{
	int before = acked;
	assert_int_equal(broker_publish(p, "alice", payload, strlen(payload), on_ack, NULL), 0);
	int64_t end = now_ms() + 5000;
	while (acked == before && now_ms() < end) {
		struct pollfd pfd = { .fd = broker_fd(p), .events = POLLIN };
		poll(&pfd, 1, 50);
		broker_poll(p);
	}
	assert_int_equal(acked, before + 1);
}

/* Polls b until a message arrives or ms pass. */
static struct broker_msg *next_within(struct broker *b, int ms)
{
	int64_t end = now_ms() + ms;
	struct broker_msg *m = NULL;
	while (now_ms() < end) {
		broker_poll(b);
		int r = broker_next(b, &m);
		assert_true(r >= 0);
		if (r == 1)
			return m;
		struct pollfd pfd = { .fd = broker_fd(b), .events = POLLIN };
		poll(&pfd, 1, 50);
	}
	return NULL;
}

/* Keeps polling b for ms (its thread sends what was queued). */
static void serve(struct broker *b, int ms)
{
	int64_t end = now_ms() + ms;
	while (now_ms() < end) {
		broker_poll(b);
		usleep(20 * 1000);
	}
}

static void test_publish_ack_trim(void **state)
{
	struct broker *p = producer();
	struct broker *c = consumer("c1", 3000, 5);
	publish(p, "job-1");
	struct broker_msg *m = next_within(c, 3000);
	assert_non_null(m);
	assert_int_equal(m->len, 5);
	assert_memory_equal(m->payload, "job-1", 5);
	assert_string_equal(m->key, "alice");
	assert_int_equal(cmd_int("XLEN gq:jobs"), 1); /* pending: never trimmed */
	broker_done(c, m);
	serve(c, 1500); /* XACK, then the trim (at most once a second) */
	redisReply *r = redisCommand(rc, "XPENDING gq:jobs g");
	assert_int_equal(r->element[0]->integer, 0);
	freeReplyObject(r);
	assert_int_equal(cmd_int("XLEN gq:jobs"), 0);
	assert_int_equal(broker_close(c, 3000), 0);
	broker_free(c);
	assert_int_equal(broker_close(p, 3000), 0);
	broker_free(p);
}

static void test_dead_member_claimed(void **state)
{
	struct broker *p = producer();
	struct broker *c1 = consumer("c1", 1000, 5);
	publish(p, "job-2");
	struct broker_msg *m = next_within(c1, 3000);
	assert_non_null(m);
	/* c1 "dies": no ack, no give-back, no keep-alive any more */
	broker_msg_free(c1, m); /* its give-back never reaches Redis: freed right after */
	broker_free(c1);
	assert_int_equal(cmd_int("XLEN gq:jobs"), 1);
	struct broker *c2 = consumer("c2", 1000, 5);
	int64_t t0 = now_ms();
	m = next_within(c2, 5000);
	assert_non_null(m);
	assert_memory_equal(m->payload, "job-2", 5);
	assert_true(now_ms() - t0 < 4000);
	broker_done(c2, m);
	serve(c2, 300);
	assert_int_equal(broker_close(c2, 3000), 0);
	broker_free(c2);
	broker_free(p);
}

static void test_delivery_limit_dead_letter(void **state)
{
	struct broker *p = producer();
	publish(p, "killer");
	/* three members in turn take it and die; the limit is 2 deliveries */
	for (int i = 0; i < 2; i++) {
		char name[8];
		snprintf(name, sizeof name, "k%d", i);
		struct broker *c = consumer(name, 500, 2);
		struct broker_msg *m = next_within(c, 4000);
		assert_non_null(m);
		broker_msg_free(c, m);
		broker_free(c);
	}
	struct broker *c = consumer("k2", 500, 2);
	struct broker_msg *m = next_within(c, 3000);
	assert_null(m); /* not handed out: dead-lettered */
	serve(c, 300);
	assert_int_equal(cmd_int("XLEN gq:jobs:dlq"), 1);
	redisReply *r = redisCommand(rc, "XRANGE gq:jobs:dlq - +");
	const redisReply *f = r->element[0]->element[1];
	bool found = false;
	for (size_t i = 0; i + 1 < f->elements; i += 2)
		if (!strcmp(f->element[i]->str, "reason"))
			found = strstr(f->element[i + 1]->str, "delivered 3 times (limit 2)") !=
			        NULL;
	freeReplyObject(r);
	assert_true(found);
	r = redisCommand(rc, "XPENDING gq:jobs g");
	assert_int_equal(r->element[0]->integer, 0); /* acknowledged with the dead letter */
	freeReplyObject(r);
	broker_close(c, 3000);
	broker_free(c);
	broker_free(p);
}

static void test_poison_shape(void **state)
{
	struct broker *c = consumer("c1", 3000, 5);
	serve(c, 300); /* the group exists */
	freeReplyObject(redisCommand(rc, "XADD gq:jobs * nojob here"));
	freeReplyObject(redisCommand(rc, "XADD gq:jobs * key bob job %b", "ok", (size_t)2));
	struct broker_msg *m = next_within(c, 3000);
	assert_non_null(m); /* the good one after the poison */
	assert_memory_equal(m->payload, "ok", 2);
	broker_done(c, m);
	serve(c, 300);
	assert_int_equal(cmd_int("XLEN gq:jobs:dlq"), 1);
	redisReply *r = redisCommand(rc, "XRANGE gq:jobs:dlq - +");
	const redisReply *f = r->element[0]->element[1];
	bool found = false;
	for (size_t i = 0; i + 1 < f->elements; i += 2)
		if (!strcmp(f->element[i]->str, "reason"))
			found = strstr(f->element[i + 1]->str, "bad message") != NULL;
	freeReplyObject(r);
	assert_true(found);
	broker_close(c, 3000);
	broker_free(c);
}

static void test_trim_keeps_unacknowledged(void **state)
{
	struct broker *p = producer();
	struct broker *c = consumer("c1", 5000, 5);
	for (int i = 0; i < 5; i++)
		publish(p, "j");
	struct broker_msg *first = next_within(c, 3000), *second = NULL;
	assert_non_null(first);
	second = next_within(c, 3000);
	assert_non_null(second);
	broker_done(c, second); /* the second is done, the first still runs */
	broker_pause(c);
	serve(c, 1500);
	serve(p, 200);
	/* entries before the first's are gone; the first (pending) and the three never
	 * delivered stay; the acknowledged second sits after the first, so it stays too */
	assert_int_equal(cmd_int("XLEN gq:jobs"), 5);
	broker_done(c, first);
	serve(c, 1500);
	assert_int_equal(cmd_int("XLEN gq:jobs"), 3); /* the undelivered three */
	broker_resume(c);
	for (int i = 0; i < 3; i++) {
		struct broker_msg *m = next_within(c, 3000);
		assert_non_null(m);
		broker_done(c, m);
	}
	serve(c, 1500);
	assert_int_equal(cmd_int("XLEN gq:jobs"), 0);
	broker_close(c, 3000);
	broker_free(c);
	broker_free(p);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_publish_ack_trim, flush),
		cmocka_unit_test_setup(test_dead_member_claimed, flush),
		cmocka_unit_test_setup(test_delivery_limit_dead_letter, flush),
		cmocka_unit_test_setup(test_poison_shape, flush),
		cmocka_unit_test_setup(test_trim_keeps_unacknowledged, flush),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
