/* cli_regrade.c - `gradeq regrade`: re-runs every student's latest submission. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_http.h"
#include "cli_opts.h"

static const char regrade_help[] =
	"usage: gradeq regrade [--json] COURSE/EXERCISE\n"
	"\n"
	"Queues every student's latest submission of the exercise again, against the tests\n"
	"published now (after fixing a hidden test), and prints how many (instructor token).\n"
	"\n"
	"options:\n"
	"  --json   the dispatcher's answer {\"count\": N}\n"
	"\n"
	"examples:\n"
	"  gradeq publish cs101/primes examples/course/primes && gradeq regrade cs101/primes\n";

int cli_regrade_parse(int argc, char **argv, struct cli_regrade_opts *o, char *err, size_t errlen)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	char e[256];

	memset(o, 0, sizeof *o);
	cli_getopt_reset();
	while ((c = cli_getopt(argc, argv, "h", longopts, err, errlen)) != -1) {
		if (c == 'h')
			return CLI_HELP;
		if (c == 'j')
			o->json = true;
		else
			return -EINVAL;
	}
	if (cli_expect_args(argc, argv, 1, "COURSE/EXERCISE", err, errlen) != 0)
		return -EINVAL;
	if (cli_parse_target(argv[optind], o->course, o->exercise, e, sizeof e) != 0) {
		snprintf(err, errlen, "regrade: %s", e);
		return -EINVAL;
	}
	return 0;
}

int cli_regrade_main(int argc, char **argv)
{
	struct cli_regrade_opts o;
	struct cli_env env;
	char err[1024], path[256];
	int rc = cli_regrade_parse(argc, argv, &o, err, sizeof err);

	if (rc == CLI_HELP) {
		fputs(regrade_help, stdout);
		return 0;
	}
	if (rc != 0) {
		cli_fail("%s", err);
		return CLI_EXIT_USAGE;
	}
	if (cli_env_load(&env, true, err, sizeof err) != 0) {
		cli_fail("%s", err);
		return CLI_EXIT_FAIL;
	}
	snprintf(path, sizeof path, "/v1/courses/%s/exercises/%s/regrade", o.course, o.exercise);
	json_t *j = cli_http_json(&env, "POST", path, NULL, NULL, 0, 120, err, sizeof err);
	if (!j) {
		cli_fail("regrade %s/%s: %s", o.course, o.exercise, err);
		return CLI_EXIT_FAIL;
	}
	if (o.json) {
		json_dumpf(j, stdout, JSON_COMPACT);
		fputc('\n', stdout);
	} else {
		json_t *n = json_object_get(j, "count");
		printf("regrading %lld submissions of %s/%s\n",
		       json_is_integer(n) ? (long long)json_integer_value(n) : 0LL, o.course,
		       o.exercise);
	}
	json_decref(j);
	return 0;
}
