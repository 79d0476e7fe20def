/* cli_regrade.c - `gradeq regrade`: re-runs every student's latest submission. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_call.h"
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
	const struct cli_opt opts[] = { cli_opt_flag("json", &o->json), CLI_OPT_END };

	memset(o, 0, sizeof *o);
	int rc = cli_parse_opts(argc, argv, opts, err, errlen);
	if (rc != 0)
		return rc;
	return cli_expect_target(argc, argv, 1, "COURSE/EXERCISE", o->course, o->exercise, err,
	                         errlen);
}

int cli_regrade_main(int argc, char **argv)
{
	struct cli_regrade_opts o;
	struct cli_env env;
	char err[1024], path[256];
	int rc = cli_regrade_parse(argc, argv, &o, err, sizeof err);

	if ((rc = cli_start(rc, regrade_help, &env, err, sizeof err)) != CLI_RUN)
		return rc;
	snprintf(path, sizeof path, "/v1/courses/%s/exercises/%s/regrade", o.course, o.exercise);
	json_t *j = cli_call_json(&env, "POST", path, NULL, NULL, 0, 120, "regrade %s/%s", o.course,
	                          o.exercise);
	if (!j)
		return CLI_EXIT_FAIL;
	if (o.json) {
		cli_call_print_json(j);
	} else {
		json_t *n = json_object_get(j, "count");
		printf("regrading %lld submissions of %s/%s\n",
		       json_is_integer(n) ? (long long)json_integer_value(n) : 0LL, o.course,
		       o.exercise);
	}
	json_decref(j);
	return 0;
}
