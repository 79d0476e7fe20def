/* cli_publish.c - `gradeq publish`: packs an exercise directory and PUTs the bundle. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle.h"
#include "cli.h"
#include "cli_call.h"
#include "cli_opts.h"

static const char publish_help[] =
	"usage: gradeq publish [--json] COURSE/EXERCISE EXERCISE_DIR\n"
	"\n"
	"Packs EXERCISE_DIR (exercise.toml, tests/, files/, release.py) into a bundle and\n"
	"publishes it (instructor token). Publishing again replaces the hidden tests for new\n"
	"submissions; `gradeq regrade` re-runs the existing ones. A mograder source is run\n"
	"in the grading sandbox first: when a check fails, nothing is published.\n"
	"\n"
	"options:\n"
	"  --json      print the dispatcher's answer:\n"
	"              {\"course\",\"exercise\",\"tests_hash\",\"tests\"}\n"
	"  --no-check  a mograder exercise: send it without running its source here first\n"
	"              (by default its checks must all pass in the local sandbox, which\n"
	"              needs root; the nodes check it again either way)\n"
	"\n"
	"examples:\n"
	"  gradeq publish cs101/primes examples/course/primes\n"
	"  gradeq publish --json cs101/stats examples/course/stats\n";

int cli_publish_parse(int argc, char **argv, struct cli_publish_opts *o, char *err, size_t errlen)
{
	const struct cli_opt opts[] = { cli_opt_flag("json", &o->json),
		                        cli_opt_flag("no-check", &o->no_check), CLI_OPT_END };

	memset(o, 0, sizeof *o);
	int rc = cli_parse_opts(argc, argv, opts, err, errlen);
	if (rc != 0)
		return rc;
	if (cli_expect_target(argc, argv, 2, "COURSE/EXERCISE EXERCISE_DIR", o->course, o->exercise,
	                      err, errlen) != 0)
		return -EINVAL;
	o->dir = argv[optind + 1];
	return 0;
}

/* Packs and checks the bundle locally so that a bad exercise.toml is reported with its
 * line before anything is sent. */
static int pack(const char *dir, char **buf, size_t *len, size_t *ntests, bool *mograder, char *err,
                size_t errlen)
{
	char e[512];
	struct exercise_meta meta;
	int rc = bundle_pack_dir(dir, buf, len, e, sizeof e);

	if (rc != 0) {
		snprintf(err, errlen, "publish: cannot pack %s: %s", dir, e);
		return rc;
	}
	struct bundle *b = bundle_parse(*buf, *len, e, sizeof e);
	if (!b) {
		snprintf(err, errlen, "publish: %s: %s", dir, e);
		rc = -EINVAL;
		goto fail;
	}
	*ntests = bundle_test_files(b);
	rc = bundle_meta(b, &meta, e, sizeof e);
	bundle_free(b);
	if (rc != 0) {
		snprintf(err, errlen, "publish: %s/%s", dir, e);
		goto fail;
	}
	*mograder = meta.mograder;
	if (meta.mograder)
		*ntests = 1; /* the source notebook */
	if (*ntests == 0) {
		snprintf(err, errlen, "publish: %s has no tests/test_*.py files", dir);
		rc = -EINVAL;
		goto fail;
	}
	return 0;
fail:
	free(*buf);
	*buf = NULL;
	return rc;
}

int cli_publish_main(int argc, char **argv)
{
	struct cli_publish_opts o;
	struct cli_env env;
	char err[1024], path[256];
	char *buf = NULL;
	size_t len = 0, ntests = 0;
	json_t *j = NULL;
	int ret = CLI_EXIT_FAIL;
	bool mograder = false;
	int rc = cli_publish_parse(argc, argv, &o, err, sizeof err);

	if ((rc = cli_start(rc, publish_help, &env, err, sizeof err)) != CLI_RUN)
		return rc;
	if (pack(o.dir, &buf, &len, &ntests, &mograder, err, sizeof err) != 0) {
		cli_fail("%s", err);
		return CLI_EXIT_FAIL;
	}
	if (mograder && !o.no_check) {
		/* as mograder's generate: a source whose checks do not all pass is not sent */
		rc = cli_mog_check(o.dir, NULL, err, sizeof err);
		if (rc != 0) {
			cli_fail("publish %s/%s: not published: %s", o.course, o.exercise, err);
			free(buf);
			return CLI_EXIT_FAIL;
		}
	}
	snprintf(path, sizeof path, "/v1/courses/%s/exercises/%s", o.course, o.exercise);
	j = cli_call_json(&env, "PUT", path, "application/x-msgpack", buf, len, 120,
	                  "publish %s/%s", o.course, o.exercise);
	if (!j)
		goto out;
	if (o.json) {
		cli_call_print_json(j);
	} else {
		const char *hash = json_string_value(json_object_get(j, "tests_hash"));
		json_t *tests = json_object_get(j, "tests");
		long long n = json_is_integer(tests) ? (long long)json_integer_value(tests)
		                                     : (long long)ntests;
		printf("published %s/%s (%zu bytes)\ntests_hash %s\ntest files %lld\n", o.course,
		       o.exercise, len, hash ? hash : "?", n);
	}
	ret = 0;
out:
	json_decref(j);
	free(buf);
	return ret;
}
