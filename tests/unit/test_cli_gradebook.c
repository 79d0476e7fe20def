/* test_cli_gradebook.c - gradebook CSV and table formatting from a JSON fixture. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_gradebook.h"

/* Runs fn over the gradebook parsed from text; returns the malloc'd output. */
static char *render(int (*fn)(const json_t *, FILE *, char *, size_t), json_t *gb, int *rc)
{
	char *buf = NULL, err[256] = "";
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	*rc = fn(gb, f, err, sizeof err);
	fclose(f);
	if (*rc != 0)
		assert_true(err[0] != '\0');
	return buf;
}

static json_t *load_fixture(void)
{
	json_error_t e;
	json_t *gb = json_load_file(GQ_TEST_DATA "/cli_gradebook.json", 0, &e);
	if (!gb)
		fail_msg("fixture: %s", e.text);
	return gb;
}

static void test_csv_fixture(void **state)
{
	(void)state;
	json_t *gb = load_fixture();
	int rc;
	char *out = render(cli_gradebook_csv, gb, &rc);

	assert_int_equal(rc, 0);
	assert_string_equal(out, "student,primes,stats,strings,total\n"
	                         "s001,4,,3.33,7.33\n"
	                         "s002,,,3.33,3.33\n"
	                         "s003,,,,0\n"
	                         "s004,0.1,0.2,6.67,6.97\n"
	                         "s010,10,7.5,6.67,24.17\n");
	free(out);
	json_decref(gb);
}

/* An exercise that only appears in a student's scores still gets its column, sorted. */
static void test_csv_exercise_only_in_scores(void **state)
{
	(void)state;
	json_t *gb = json_loads("{\"exercises\":[\"b\"],\"students\":[{\"student\":\"x\","
	                        "\"scores\":{\"a\":1.5,\"b\":2}}]}",
	                        0, NULL);
	int rc;
	char *out = render(cli_gradebook_csv, gb, &rc);

	assert_int_equal(rc, 0);
	assert_string_equal(out, "student,a,b,total\nx,1.5,2,3.5\n");
	free(out);
	json_decref(gb);
}

static void test_csv_empty_course(void **state)
{
	(void)state;
	json_t *gb = json_loads("{\"course\":\"c\",\"exercises\":[],\"students\":[]}", 0, NULL);
	int rc;
	char *out = render(cli_gradebook_csv, gb, &rc);

	assert_int_equal(rc, 0);
	assert_string_equal(out, "student,total\n");
	free(out);
	json_decref(gb);
}

/* Sums that are not exact in binary still print as two decimals without trailing zeros. */
static void test_csv_total_rounding(void **state)
{
	(void)state;
	json_t *gb =
		json_loads("{\"exercises\":[\"a\",\"b\",\"c\"],\"students\":[{\"student\":\"x\","
	                   "\"scores\":{\"a\":0.1,\"b\":0.2,\"c\":3.33}},{\"student\":\"y\","
	                   "\"scores\":{\"a\":6.67,\"b\":3.33}}]}",
	                   0, NULL);
	int rc;
	char *out = render(cli_gradebook_csv, gb, &rc);

	assert_int_equal(rc, 0);
	assert_string_equal(out, "student,a,b,c,total\nx,0.1,0.2,3.33,3.63\ny,6.67,3.33,,10\n");
	free(out);
	json_decref(gb);
}

static void test_malformed(void **state)
{
	(void)state;
	static const char *bad[] = {
		"[]",
		"{\"exercises\":[]}",
		"{\"exercises\":[1],\"students\":[]}",
		"{\"exercises\":[],\"students\":[{\"scores\":{}}]}",
		"{\"exercises\":[],\"students\":[{\"student\":\"x\",\"scores\":{\"a\":\"7\"}}]}",
		"{\"exercises\":[],\"students\":[{\"student\":\"x\",\"scores\":[]}]}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		json_t *gb = json_loads(bad[i], 0, NULL);
		int rc;
		assert_non_null(gb);
		char *out = render(cli_gradebook_csv, gb, &rc);
		assert_int_equal(rc, -EINVAL);
		free(out);
		json_decref(gb);
	}
}

static void test_table_fixture(void **state)
{
	(void)state;
	json_t *gb = load_fixture();
	int rc;
	char *out = render(cli_gradebook_table, gb, &rc);

	assert_int_equal(rc, 0);
	assert_string_equal(out, "student  primes  stats  strings  total\n"
	                         "s001          4      -     3.33   7.33\n"
	                         "s002          -      -     3.33   3.33\n"
	                         "s003          -      -        -      0\n"
	                         "s004        0.1    0.2     6.67   6.97\n"
	                         "s010         10    7.5     6.67  24.17\n"
	                         "(5 students, 3 exercises)\n");
	free(out);
	json_decref(gb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csv_fixture),
		cmocka_unit_test(test_csv_exercise_only_in_scores),
		cmocka_unit_test(test_csv_empty_course),
		cmocka_unit_test(test_csv_total_rounding),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_table_fixture),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
