/* test_store_lua.c - the Lua scripts that change a submission's status, run against a
 * real redis-server (started by the group fixture on a free loopback port): the node's
 * mark and result scripts (grader-node/store.c, through store_mark_grading and
 * store_put_result) and the dispatcher's submit and regrade scripts (api.h). Checks the
 * record, the stream, the best score, gq:errors, the event counters, and that gq:now
 * (submissions by present status) always adds up to the number of records.
 * Without redis-server: a failure in CI (CI=true), skipped (77) elsewhere. */
#include <errno.h>
#include <fcntl.h>
#include <event2/event.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "api.h"
#include "store.h"

#define SUBID "0123456789abcdef0123456789ab"
#define SUBID2 "0123456789abcdef0123456789ac"

static pid_t redis_pid;
static int port;
static redisContext *rc;
static struct event_base *base;
static struct store *st;

static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t l = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0), p = -1;
	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &l) == 0)
		p = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return p;
}

static int group_setup(void **state)
{
	char ps[16];
	port = free_port();
	snprintf(ps, sizeof ps, "%d", port);
	redis_pid = fork();
	if (redis_pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		dup2(null, 2);
		execlp("redis-server", "redis-server", "--port", ps, "--bind", "127.0.0.1",
		       "--save", "", "--appendonly", "no", "--dir", "/tmp", (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 100; i++) {
		struct timespec t = { 0, 50 * 1000 * 1000 };
		rc = redisConnect("127.0.0.1", port);
		if (rc && !rc->err)
			break;
		if (rc)
			redisFree(rc);
		rc = NULL;
		int status;
		if (waitpid(redis_pid, &status, WNOHANG) == redis_pid) {
			redis_pid = 0;
			break;
		}
		nanosleep(&t, NULL);
	}
	if (!rc) {
		fprintf(stderr, "redis-server did not start on port %d\n", port);
		return -1;
	}
	base = event_base_new();
	st = store_new(base, "127.0.0.1", port, NULL, NULL, NULL, NULL);
	for (int i = 0; i < 200 && !store_up(st); i++)
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK), usleep(10000);
	return store_up(st) ? 0 : -1;
}

static int group_teardown(void **state)
{
	store_free(st);
	if (base)
		event_base_free(base);
	if (rc)
		redisFree(rc);
	if (redis_pid > 0) {
		kill(redis_pid, SIGTERM);
		waitpid(redis_pid, NULL, 0);
	}
	return 0;
}

static redisReply *cmd(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	redisReply *r = redisvCommand(rc, fmt, ap);
	va_end(ap);
	assert_non_null(r);
	return r;
}

/* A command whose reply is not needed. */
static void run_cmd(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	redisReply *r = redisvCommand(rc, fmt, ap);
	va_end(ap);
	assert_non_null(r);
	freeReplyObject(r);
}

static long long hget_ll(const char *key, const char *field)
{
	redisReply *r = cmd("HGET %s %s", key, field);
	long long v = r->type == REDIS_REPLY_STRING ? atoll(r->str) : 0;
	freeReplyObject(r);
	return v;
}

static char *hget(const char *key, const char *field)
{
	static char buf[256];
	redisReply *r = cmd("HGET %s %s", key, field);
	snprintf(buf, sizeof buf, "%s", r->type == REDIS_REPLY_STRING ? r->str : "(nil)");
	freeReplyObject(r);
	return buf;
}

static long long num(const char *c)
{
	redisReply *r = cmd(c);
	long long v = r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
	freeReplyObject(r);
	return v;
}

/* gq:now adds up to the number of records, and each count is as given. */
static void expect_now(long long queued, long long grading, long long done, long long error)
{
	long long q = hget_ll("gq:now", "queued"), g = hget_ll("gq:now", "grading"),
		  d = hget_ll("gq:now", "done"), e = hget_ll("gq:now", "error");
	redisReply *r = cmd("EVAL %s 0", "return #redis.call('KEYS', 'gq:sub:*')");
	long long records = r->integer;
	freeReplyObject(r);
	if (q != queued || g != grading || d != done || e != error || q + g + d + e != records)
		fail_msg("gq:now queued %lld grading %lld done %lld error %lld (records %lld); "
		         "expected %lld %lld %lld %lld",
		         q, g, d, e, records, queued, grading, done, error);
}

static void submit(const char *id, const char *student)
{
	redisReply *r = cmd("EVAL %s 6 gq:sub:%s gq:latest:c:e gq:subs:c:e:%s gq:stats gq:src:%s "
	                    "gq:now %s c e %s 1700000000000 %s",
	                    api_submit_record_lua, id, student, id, id, student,
	                    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	assert_int_equal(r->type, REDIS_REPLY_INTEGER);
	freeReplyObject(r);
	r = cmd("ZADD gq:subs:c:e:%s 1 %s", student, id);
	freeReplyObject(r);
}

static long long regrade(const char *id, unsigned attempt)
{
	redisReply *r = cmd("EVAL %s 2 gq:sub:%s gq:now %u %s", api_regrade_bump_lua, id, attempt,
	                    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	assert_int_equal(r->type, REDIS_REPLY_INTEGER);
	long long v = r->integer;
	freeReplyObject(r);
	return v;
}

struct wait {
	bool called;
	int value;
	char err[256];
};

static void on_mark(void *arg, struct redisReply *r, const char *err)
{
	struct wait *w = arg;
	enum store_mark m;
	w->called = true;
	w->value = r && store_mark_parse(r, &m) == 0 ? (int)m : -1;
	snprintf(w->err, sizeof w->err, "%s", err ? err : "");
}

static void on_put(void *arg, struct redisReply *r, const char *err)
{
	struct wait *w = arg;
	enum store_put p;
	w->called = true;
	w->value = r && store_put_parse(r, &p) == 0 ? (int)p : -1;
	snprintf(w->err, sizeof w->err, "%s", err ? err : "");
}

static void run(struct wait *w)
{
	for (int i = 0; i < 2000 && !w->called; i++)
		event_base_loop(base, EVLOOP_ONCE);
	assert_true(w->called);
}

static int mark(const char *id, const char *student, unsigned attempt)
{
	struct store_job j = { id, "c", "e", student, attempt };
	struct wait w = { 0 };
	assert_int_equal(store_mark_grading(st, &j, "node-1", 1700000000100, on_mark, &w), 0);
	run(&w);
	return w.value;
}

static int put(const char *id, const char *student, unsigned attempt, const char *status,
               double score)
{
	bool done = strcmp(status, "done") == 0;
	struct store_result res = {
		.job = { id, "c", "e", student, attempt },
		.status = status,
		.verdict = done ? "ok" : "",
		.score = score,
		.max = 10,
		.feedback = done ? "[]" : "",
		.error = done ? "" : "infrastructure error after 3 retries: x",
		.message = "",
		.node = "node-1",
		.started_ms = 1,
		.finished_ms = 2,
		.output_tail = "tail\0bin",
		.output_tail_len = 8,
	};
	struct wait w = { 0 };
	assert_int_equal(store_put_result(st, &res, on_put, &w), 0);
	run(&w);
	return w.value;
}

static void test_lifecycle(void **state)
{
	run_cmd("FLUSHALL");
	submit(SUBID, "alice");
	assert_string_equal(hget("gq:sub:" SUBID, "status"), "queued");
	expect_now(1, 0, 0, 0);
	submit(SUBID, "alice"); /* the submit script again (a lost reply): no double count */
	expect_now(1, 0, 0, 0);
	assert_int_equal(hget_ll("gq:stats", "submitted"), 1);

	assert_int_equal(mark(SUBID, "alice", 1), STORE_MARK_OK);
	assert_string_equal(hget("gq:sub:" SUBID, "status"), "grading");
	expect_now(0, 1, 0, 0);
	assert_int_equal(mark(SUBID, "alice", 1), STORE_MARK_OK); /* redelivered */
	expect_now(0, 1, 0, 0);

	assert_int_equal(put(SUBID, "alice", 1, "done", 7.5), STORE_PUT_NEW);
	assert_string_equal(hget("gq:sub:" SUBID, "status"), "done");
	assert_string_equal(hget("gq:sub:" SUBID, "score"), "7.5");
	assert_string_equal(hget("gq:best:c", "alice/e"), "7.5");
	assert_int_equal(num("XLEN gq:results"), 1);
	assert_int_equal(hget_ll("gq:stats", "done"), 1);
	expect_now(0, 0, 1, 0);
	/* the output tail is stored binary-safe */
	redisReply *r = cmd("HGET gq:sub:%s output_tail", SUBID);
	assert_int_equal(r->len, 8);
	assert_memory_equal(r->str, "tail\0bin", 8);
	freeReplyObject(r);

	/* redelivery of the same result: rewritten, nothing counted again */
	assert_int_equal(put(SUBID, "alice", 1, "done", 7.5), STORE_PUT_AGAIN);
	assert_int_equal(num("XLEN gq:results"), 1);
	expect_now(0, 0, 1, 0);
	/* an error result never replaces a done one of the same attempt */
	assert_int_equal(put(SUBID, "alice", 1, "error", 0), STORE_PUT_KEPT);
	assert_string_equal(hget("gq:sub:" SUBID, "status"), "done");
	assert_int_equal(mark(SUBID, "alice", 1), STORE_MARK_FINISHED);
	expect_now(0, 0, 1, 0);

	/* regrade: attempt 2 queued; the old attempt is stale from now on */
	assert_int_equal(regrade(SUBID, 2), 1);
	assert_int_equal(regrade(SUBID, 2), 0);
	expect_now(1, 0, 0, 0);
	assert_int_equal(mark(SUBID, "alice", 1), STORE_MARK_STALE);
	assert_int_equal(put(SUBID, "alice", 1, "done", 9), STORE_PUT_STALE);
	expect_now(1, 0, 0, 0);
	assert_int_equal(mark(SUBID, "alice", 2), STORE_MARK_OK);
	expect_now(0, 1, 0, 0);
	/* attempt 2 fails: error, listed in gq:errors; the best score had only this record */
	assert_int_equal(put(SUBID, "alice", 2, "error", 0), STORE_PUT_NEW);
	expect_now(0, 0, 0, 1);
	assert_int_equal(num("ZCARD gq:errors"), 1);
	assert_string_equal(hget("gq:best:c", "alice/e"), "(nil)");
	assert_int_equal(hget_ll("gq:stats", "error"), 1);
	/* a later done of the same attempt replaces the error and leaves gq:errors */
	assert_int_equal(put(SUBID, "alice", 2, "done", 4), STORE_PUT_AGAIN);
	expect_now(0, 0, 1, 0);
	assert_int_equal(num("ZCARD gq:errors"), 0);
	assert_string_equal(hget("gq:best:c", "alice/e"), "4"); /* a regrade can lower it */
}

/* A node that gets the job before the dispatcher wrote the record creates it; the submit
 * script that comes after keeps the node's status, and the counts stay right. */
static void test_node_first(void **state)
{
	run_cmd("FLUSHALL");
	assert_int_equal(mark(SUBID2, "bob", 1), STORE_MARK_MISSING);
	assert_string_equal(hget("gq:sub:" SUBID2, "student"), "bob");
	expect_now(0, 1, 0, 0);
	submit(SUBID2, "bob");
	assert_string_equal(hget("gq:sub:" SUBID2, "status"), "grading");
	expect_now(0, 1, 0, 0);
	assert_int_equal(put(SUBID2, "bob", 1, "done", 10), STORE_PUT_NEW);
	expect_now(0, 0, 1, 0);
	/* a result for a submission with no record at all creates one */
	assert_int_equal(put(SUBID, "carol", 1, "done", 3), STORE_PUT_NEW);
	expect_now(0, 0, 2, 0);
}

/* An error reply reaches the callback as STORE_ERR_REPLY + the server's text, so the node
 * can classify it (rerr.h); here a wrong type under the record's key. */
static void test_error_reply(void **state)
{
	run_cmd("FLUSHALL");
	run_cmd("SET gq:sub:%s x", SUBID);
	struct store_job j = { SUBID, "c", "e", "dave", 1 };
	struct wait w = { 0 };
	assert_int_equal(store_mark_grading(st, &j, "node-1", 1, on_mark, &w), 0);
	run(&w);
	assert_int_equal(w.value, -1);
	assert_true(strncmp(w.err, STORE_ERR_REPLY, strlen(STORE_ERR_REPLY)) == 0);
	assert_non_null(strstr(w.err, "WRONGTYPE"));
	assert_true(store_up(st)); /* an error reply is an answer: the link stays up */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lifecycle),
		cmocka_unit_test(test_node_first),
		cmocka_unit_test(test_error_reply),
	};
	if (access("/usr/bin/redis-server", X_OK) != 0 &&
	    system("command -v redis-server >/dev/null") != 0) {
		const char *ci = getenv("CI");
		fprintf(stderr, "redis-server not found (scripts/setup installs it)\n");
		return ci && strcmp(ci, "true") == 0 ? 1 : 77;
	}
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
