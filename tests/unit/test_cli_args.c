/* test_cli_args.c - argument parsing of the gradeq subcommands: defaults, options after
 * positionals, and a one-line reason for every mistake. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_opts.h"
#include "cli_progress.h"

#define ARGV(...) ((char *[]){ __VA_ARGS__, NULL })
#define ARGC(...) ((int)(sizeof((char *[]){ __VA_ARGS__ }) / sizeof(char *)))
/* Calls parser on a literal argv; err gets the reason. */
#define PARSE(parser, opts, ...) \
	parser(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), (opts), err, sizeof err)

static char err[512];

static void expect_error(int rc, const char *needle)
{
	assert_int_equal(rc, -EINVAL);
	if (!strstr(err, needle))
		fail_msg("error '%s' does not mention '%s'", err, needle);
	assert_null(strchr(err, '\n'));
}

static void test_submit_ok(void **state)
{
	(void)state;
	struct cli_submit_opts o;

	assert_int_equal(PARSE(cli_submit_parse, &o, "submit", "cs101/primes", "a.py"), 0);
	assert_string_equal(o.course, "cs101");
	assert_string_equal(o.exercise, "primes");
	assert_string_equal(o.file, "a.py");
	assert_null(o.student);
	assert_false(o.wait);
	assert_int_equal(o.timeout_s, 600);

	/* options may follow the positionals */
	assert_int_equal(PARSE(cli_submit_parse, &o, "submit", "cs101/primes", "a.py", "--wait",
	                       "--student", "s001", "--timeout=30", "--json"),
	                 0);
	assert_true(o.wait);
	assert_true(o.json);
	assert_string_equal(o.student, "s001");
	assert_int_equal(o.timeout_s, 30);
	assert_string_equal(o.file, "a.py");
}

static void test_submit_errors(void **state)
{
	(void)state;
	struct cli_submit_opts o;

	expect_error(PARSE(cli_submit_parse, &o, "submit", "cs101/primes"), "missing arguments");
	expect_error(PARSE(cli_submit_parse, &o, "submit", "c/e", "a.py", "b.py"),
	             "unexpected argument 'b.py'");
	expect_error(PARSE(cli_submit_parse, &o, "submit", "--bogus", "c/e", "a.py"),
	             "unknown option '--bogus'");
	expect_error(PARSE(cli_submit_parse, &o, "submit", "-x", "c/e", "a.py"),
	             "unknown option '-x'");
	expect_error(PARSE(cli_submit_parse, &o, "submit", "c/e", "a.py", "--student"),
	             "option '--student' needs a value");
	expect_error(PARSE(cli_submit_parse, &o, "submit", "c/e", "a.py", "--timeout", "0"),
	             "--timeout must be an integer");
	expect_error(PARSE(cli_submit_parse, &o, "submit", "c/e", "a.py", "--timeout", "5s"),
	             "--timeout must be an integer");
	expect_error(PARSE(cli_submit_parse, &o, "submit", "c/e", "a.py", "--student", "../x"),
	             "invalid student name");
	expect_error(PARSE(cli_submit_parse, &o, "submit", "cs101", "a.py"),
	             "expected COURSE/EXERCISE");
	expect_error(PARSE(cli_submit_parse, &o, "submit", "c/e/f", "a.py"),
	             "expected COURSE/EXERCISE");
	expect_error(PARSE(cli_submit_parse, &o, "submit", "c/..", "a.py"),
	             "invalid COURSE/EXERCISE");
	expect_error(PARSE(cli_submit_parse, &o, "submit", "/e", "a.py"),
	             "invalid COURSE/EXERCISE");
	assert_int_equal(PARSE(cli_submit_parse, &o, "submit", "--help"), CLI_HELP);
	assert_int_equal(PARSE(cli_submit_parse, &o, "submit", "c/e", "-h"), CLI_HELP);
}

static void test_batch(void **state)
{
	(void)state;
	struct cli_batch_opts o;

	assert_int_equal(PARSE(cli_batch_parse, &o, "batch", "c/e", "dir"), 0);
	assert_int_equal(o.parallel, 8);
	assert_false(o.wait);
	assert_string_equal(o.dir, "dir");
	assert_int_equal(
		PARSE(cli_batch_parse, &o, "batch", "--parallel", "32", "--wait", "c/e", "d"), 0);
	assert_int_equal(o.parallel, 32);
	assert_true(o.wait);
	expect_error(PARSE(cli_batch_parse, &o, "batch", "--parallel", "0", "c/e", "d"),
	             "--parallel must be an integer in [1, 256]");
	expect_error(PARSE(cli_batch_parse, &o, "batch", "--parallel", "1000", "c/e", "d"),
	             "--parallel");
	expect_error(PARSE(cli_batch_parse, &o, "batch", "c/e"), "missing arguments");
	expect_error(PARSE(cli_batch_parse, &o, "batch", "--student", "x", "c/e", "d"),
	             "unknown option '--student'");
}

static void test_token(void **state)
{
	(void)state;
	struct cli_token_opts o;

	assert_int_equal(PARSE(cli_token_parse, &o, "token", "alice"), 0);
	assert_int_equal(o.role, GQ_ROLE_STUDENT);
	assert_int_equal(o.ttl, 86400);
	assert_null(o.secret_file);
	assert_int_equal(PARSE(cli_token_parse, &o, "token", "--role", "instructor", "--ttl", "60",
	                       "--secret-file", "/s", "bob"),
	                 0);
	assert_int_equal(o.role, GQ_ROLE_INSTRUCTOR);
	assert_int_equal(o.ttl, 60);
	assert_string_equal(o.secret_file, "/s");
	assert_string_equal(o.user, "bob");
	expect_error(PARSE(cli_token_parse, &o, "token", "--role", "admin", "bob"),
	             "--role must be student or instructor");
	expect_error(PARSE(cli_token_parse, &o, "token", "--ttl", "-5", "bob"), "--ttl");
	expect_error(PARSE(cli_token_parse, &o, "token", "bad/user"), "invalid user name");
	expect_error(PARSE(cli_token_parse, &o, "token"), "missing arguments");
}

static void test_others(void **state)
{
	(void)state;
	struct cli_result_opts r;
	struct cli_gradebook_opts g;
	struct cli_status_opts s;
	struct cli_regrade_opts rg;
	struct cli_publish_opts p;

	assert_int_equal(PARSE(cli_result_parse, &r, "result", "0123456789abcdef0123456789ab"), 0);
	expect_error(PARSE(cli_result_parse, &r, "result", "0123456789ABCDEF0123456789ab"),
	             "invalid submission id");
	expect_error(PARSE(cli_result_parse, &r, "result", "../../etc"), "invalid submission id");

	assert_int_equal(PARSE(cli_gradebook_parse, &g, "gradebook", "cs101"), 0);
	assert_int_equal(g.format, CLI_GB_TABLE);
	assert_int_equal(PARSE(cli_gradebook_parse, &g, "gradebook", "cs101", "--csv"), 0);
	assert_int_equal(g.format, CLI_GB_CSV);
	assert_int_equal(PARSE(cli_gradebook_parse, &g, "gradebook", "--json", "cs101"), 0);
	assert_int_equal(g.format, CLI_GB_JSON);
	expect_error(PARSE(cli_gradebook_parse, &g, "gradebook", "--csv", "--json", "c"),
	             "exclude each other");
	expect_error(PARSE(cli_gradebook_parse, &g, "gradebook", "c/e"), "invalid course name");

	assert_int_equal(PARSE(cli_status_parse, &s, "status", "--json"), 0);
	assert_true(s.json);
	expect_error(PARSE(cli_status_parse, &s, "status", "extra"), "unexpected argument 'extra'");

	assert_int_equal(PARSE(cli_regrade_parse, &rg, "regrade", "c/e"), 0);
	assert_string_equal(rg.exercise, "e");
	expect_error(PARSE(cli_regrade_parse, &rg, "regrade", "c"), "expected COURSE/EXERCISE");

	assert_int_equal(PARSE(cli_publish_parse, &p, "publish", "c/e", "dir"), 0);
	assert_string_equal(p.dir, "dir");
	assert_false(p.no_check);
	assert_int_equal(PARSE(cli_publish_parse, &p, "publish", "--no-check", "c/e", "dir"), 0);
	assert_true(p.no_check);
	expect_error(PARSE(cli_publish_parse, &p, "publish", "c/e"), "missing arguments");
}

static int parse_even(const char *val, void *dst, char *why, size_t whylen)
{
	if (strlen(val) % 2) {
		snprintf(why, whylen, "t: odd '%s'", val);
		return -EINVAL;
	}
	*(const char **)dst = val;
	return 0;
}

/* The option table behind every parser: each kind, abbreviations, --x=v, left to right. */
static void test_parse_opts(void **state)
{
	(void)state;
	bool flag = false;
	const char *str = NULL, *even = NULL;
	long long num = 0;
	const struct cli_opt opts[] = {
		cli_opt_flag("flag", &flag),
		cli_opt_str("str", &str),
		cli_opt_long("num", &num, 1, 10),
		cli_opt_func("even", &even, parse_even),
		CLI_OPT_END,
	};

	assert_int_equal(PARSE(cli_parse_opts, opts, "t", "a", "--fl", "--str=s", "--num", "7",
	                       "--even", "ab", "b"),
	                 0);
	assert_true(flag);
	assert_string_equal(str, "s");
	assert_int_equal(num, 7);
	assert_string_equal(even, "ab");
	assert_int_equal(
		ARGC("t", "a", "--fl", "--str=s", "--num", "7", "--even", "ab", "b") - optind, 2);

	expect_error(PARSE(cli_parse_opts, opts, "t", "--num", "11"),
	             "t: --num must be an integer in [1, 10], not '11'");
	expect_error(PARSE(cli_parse_opts, opts, "t", "--even", "abc"), "t: odd 'abc'");
	expect_error(PARSE(cli_parse_opts, opts, "t", "--str"), "t: option '--str' needs a value");
	expect_error(PARSE(cli_parse_opts, opts, "t", "--flag=1"), "t: unknown option '--flag'");
	expect_error(PARSE(cli_parse_opts, opts, "t", "--bogus", "--help"),
	             "t: unknown option '--bogus' (try: gradeq t --help)");
	assert_int_equal(PARSE(cli_parse_opts, opts, "t", "--help", "--bogus"), CLI_HELP);
	assert_int_equal(PARSE(cli_parse_opts, opts, "t", "--he"), CLI_HELP);

	/* a table too long for the getopt array is refused, not overflowed */
	struct cli_opt many[20];
	for (size_t i = 0; i < 19; i++)
		many[i] = cli_opt_flag("f", &flag);
	many[19] = CLI_OPT_END;
	expect_error(PARSE(cli_parse_opts, many, "t", "x"), "more than");
}

static void test_expect_target_and_start(void **state)
{
	(void)state;
	char course[GQ_NAME_MAX + 1], exercise[GQ_NAME_MAX + 1];
	char *argv[] = { "cmd", "c/e", "d", NULL };

	optind = 1;
	assert_int_equal(cli_expect_target(3, argv, 2, "C/E D", course, exercise, err, sizeof err),
	                 0);
	assert_string_equal(course, "c");
	assert_string_equal(exercise, "e");
	optind = 2;
	expect_error(cli_expect_target(3, argv, 1, "C/E", course, exercise, err, sizeof err),
	             "cmd: expected COURSE/EXERCISE, got 'd'");
	optind = 1;
	expect_error(cli_expect_target(3, argv, 1, "C/E", course, exercise, err, sizeof err),
	             "cmd: unexpected argument 'd' (usage: gradeq cmd C/E)");

	assert_int_equal(cli_start(0, "help\n", NULL, err, sizeof err), CLI_RUN);
	snprintf(err, sizeof err, "cmd: reason");
	assert_int_equal(cli_start(-EINVAL, "help\n", NULL, err, sizeof err), CLI_EXIT_USAGE);
}

static void test_progress_format(void **state)
{
	(void)state;
	struct cli_progress p;
	struct cli_progress_counts c = { .submitted = 100, .failed = 0, .graded = 50 };
	char line[256];

	cli_progress_init(&p, stderr, false, true, 200, 1000);
	cli_progress_format(&p, &c, 11000, line, sizeof line);
	/* 50 graded in 10 s: 5/s, 150 left: 30 s */
	assert_string_equal(line,
	                    "submitted 100/200  graded 50/200  5.0/s  elapsed 0:10  ETA 0:30");
	c.failed = 2;
	cli_progress_init(&p, stderr, false, false, 102, 0);
	cli_progress_format(&p, &c, 4000, line, sizeof line);
	assert_string_equal(line, "submitted 100/102  failed 2  25.0/s  elapsed 0:04  ETA 0:00");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_submit_ok),
		cmocka_unit_test(test_submit_errors),
		cmocka_unit_test(test_batch),
		cmocka_unit_test(test_token),
		cmocka_unit_test(test_others),
		cmocka_unit_test(test_parse_opts),
		cmocka_unit_test(test_expect_target_and_start),
		cmocka_unit_test(test_progress_format),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
