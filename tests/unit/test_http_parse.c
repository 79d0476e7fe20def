/* test_http_parse.c - the dispatcher's socket-free request parsing: path segments, query
 * parameters (dispatcher/http_parse.c) and the header-end scanner of the HTTP gate. */
#include <errno.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/queue.h>

#include <cmocka.h>

#include "http_gate.h"
#include "http_parse.h"

static char segs[HP_SEG_MAX][GQ_NAME_MAX + 2];

static void test_split_path(void **state)
{
	assert_int_equal(hp_split_path("/healthz", segs), 1);
	assert_string_equal(segs[0], "healthz");
	assert_int_equal(hp_split_path("/v1/courses/cs101/exercises/primes/submissions", segs), 6);
	assert_string_equal(segs[2], "cs101");
	assert_string_equal(segs[5], "submissions");
	assert_int_equal(hp_split_path("/", segs), 0);
	/* not clean */
	assert_int_equal(hp_split_path(NULL, segs), -1);
	assert_int_equal(hp_split_path("", segs), -1);
	assert_int_equal(hp_split_path("v1/status", segs), -1);
	assert_int_equal(hp_split_path("/v1//status", segs), -1);
	assert_int_equal(hp_split_path("/v1/status/", segs), -1);
	assert_int_equal(hp_split_path("/a/b/c/d/e/f/g", segs), 7);
	assert_int_equal(hp_split_path("/a/b/c/d/e/f/g/h", segs), -1);
	/* no decoding: '%2e%2e' stays as it is (and fails name validation later) */
	assert_int_equal(hp_split_path("/v1/courses/%2e%2e/gradebook", segs), 4);
	assert_string_equal(segs[2], "%2e%2e");
	assert_false(name_valid(segs[2]));
	/* a segment too long for a name is cut to one byte over the limit: still invalid */
	char path[300] = "/v1/courses/";
	memset(path + strlen(path), 'a', 200);
	path[12 + 200] = '\0';
	assert_int_equal(hp_split_path(path, segs), 3);
	assert_int_equal(strlen(segs[2]), GQ_NAME_MAX + 1);
	assert_false(name_valid(segs[2]));
}

static void test_query(void **state)
{
	struct evkeyvalq q;
	char err[128];

	TAILQ_INIT(&q);
	assert_int_equal(hp_query("student=alice", "student", &q, err, sizeof err), 0);
	assert_string_equal(evhttp_find_header(&q, "student"), "alice");
	evhttp_clear_headers(&q);
	assert_int_equal(hp_query("student=al%69ce", "student", &q, err, sizeof err), 0);
	assert_string_equal(evhttp_find_header(&q, "student"), "alice");
	evhttp_clear_headers(&q);
	assert_int_equal(hp_query("student=a&x=1", "student", &q, err, sizeof err), -ENOENT);
	assert_non_null(strstr(err, "'x'"));
	evhttp_clear_headers(&q);
	assert_int_equal(hp_query("student=a", NULL, &q, err, sizeof err), -ENOENT);
	evhttp_clear_headers(&q);
	char longkey[200];
	memset(longkey, 'k', 150);
	strcpy(longkey + 150, "=1");
	assert_int_equal(hp_query(longkey, "student", &q, err, sizeof err), -ENOENT);
	assert_true(strlen(err) < 100); /* the key is cut in the message */
	evhttp_clear_headers(&q);
}

static void test_header_scan(void **state)
{
	int st = 0;
	const char req[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\nBODY";
	size_t n = gate_header_scan(&st, req, sizeof req - 1);
	assert_int_equal(st, GATE_HDR_DONE);
	assert_int_equal(n, strlen("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
	/* LF only, and split at every byte */
	const char lf[] = "GET / HTTP/1.1\nA: b\n\nrest";
	st = 0;
	size_t used = 0;
	for (size_t i = 0; i < sizeof lf - 1 && st != GATE_HDR_DONE; i++)
		used += gate_header_scan(&st, lf + i, 1);
	assert_int_equal(st, GATE_HDR_DONE);
	assert_int_equal(used, strlen("GET / HTTP/1.1\nA: b\n\n"));
	/* no blank line yet: everything consumed, not done */
	st = 0;
	assert_int_equal(gate_header_scan(&st, "GET / HTTP/1.1\r\nA: b\r\n", 23), 23);
	assert_true(st != GATE_HDR_DONE);
	/* a lone CR does not end a line */
	st = 0;
	gate_header_scan(&st, "a\r\rb\n\r", 6);
	assert_true(st != GATE_HDR_DONE);
	gate_header_scan(&st, "\n", 1);
	assert_int_equal(st, GATE_HDR_DONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_path),
		cmocka_unit_test(test_query),
		cmocka_unit_test(test_header_scan),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
