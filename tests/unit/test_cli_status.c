/* test_cli_status.c - `gradeq status`'s text (cli_status_print): the ages of the
 * heartbeats and of the queue measurement, the totals, and that no string of the
 * dispatcher's answer (a node's id, an error reason) can put a control character, an
 * escape sequence or a line of its own on the terminal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli_status.h"

#define NOW 1700000000000LL

/* The text for the JSON answer text (caller frees). */
static char *render(const char *text)
{
	json_error_t je;
	json_t *st = json_loads(text, 0, &je);
	assert_non_null(st);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	cli_status_print(st, NOW, f);
	fclose(f);
	json_decref(st);
	return buf;
}

static size_t lines(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void test_ages_and_totals(void **state)
{
	char *out = render(
		"{\"nodes\":[{\"id\":\"node-1\",\"host\":\"h1\",\"slots\":2,\"busy\":2,"
		"\"version\":\"0.1.0\",\"last_seen_ms\":1699999998500},"
		"{\"id\":\"node-2\",\"host\":\"h2\",\"slots\":2,\"busy\":1,\"version\":\"0.1.0\","
		"\"last_seen_ms\":0}],"
		"\"submissions\":30,\"queued\":0,\"grading\":0,\"done\":30,\"error\":0,"
		"\"lag\":{\"broker\":\"redis\",\"partitions\":[{\"partition\":0,\"committed\":16,"
		"\"high\":20,\"lag\":4,\"pending\":3}],\"total\":4,\"measured_ms\":1699999998200}"
		"}");
	assert_non_null(strstr(out, "1.5 s ago"));
	assert_non_null(strstr(out, "never"));
	assert_non_null(strstr(out, "2 nodes, 3 of 4 slots busy (at their last heartbeat)"));
	assert_non_null(strstr(out, "submissions: 30 (queued 0, grading 0, done 30, error 0)"));
	assert_non_null(strstr(out, "queue (redis stream, measured 1.8 s ago): 4 job(s) not yet "
	                            "acknowledged by the graders, 3 of them delivered (pending), "
	                            "20 added in all"));
	assert_non_null(strstr(out, "no submission in error"));
	free(out);

	out = render("{\"nodes\":[],\"lag\":{\"broker\":\"kafka\",\"partitions\":[{\"partition\":0,"
	             "\"committed\":-1,\"high\":5,\"lag\":5}],\"total\":5,\"measured_ms\":"
	             "1699999999000}}");
	assert_non_null(strstr(out, "queue lag (measured 1.0 s ago): 5 job(s) not yet committed"));
	assert_non_null(strstr(out, "-"));
	free(out);
}

static void test_strings_are_inert(void **state)
{
	char *out = render(
		"{\"nodes\":[{\"id\":\"n\\u001b[2J\\nnode-9  fake\",\"host\":\"h\\r\",\"slots\":1,"
		"\"busy\":0,\"version\":\"\\u202e1.0\",\"last_seen_ms\":1}],"
		"\"submissions\":1,\"error\":1,"
		"\"lag\":{\"error\":\"down\\n2 nodes, 0 of 0 slots busy\"},"
		"\"errors\":[{\"id\":\"abc\",\"course\":\"c\",\"exercise\":\"e\",\"student\":\"s\","
		"\"attempt\":1,\"error\":\"boom\\n  forged  c/e  s  attempt 2: \\u001b[31mok\"}]}");
	assert_null(strchr(out, '\x1b'));
	assert_null(strchr(out, '\r'));
	assert_null(strstr(out, "\xe2\x80\xae")); /* U+202E */
	/* one line each: header, node, total, counts, lag, errors title, one error */
	assert_int_equal(lines(out), 7);
	assert_non_null(strstr(out, "forged")); /* kept as text, on the error's own line */
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ages_and_totals),
		cmocka_unit_test(test_strings_are_inert),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
