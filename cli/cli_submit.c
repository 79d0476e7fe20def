/* cli_submit.c - `gradeq submit`: one notebook, optionally waiting for its result. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "cli_call.h"
#include "cli_http.h"
#include "cli_opts.h"
#include "cli_result.h"
#include "util.h"

#define SUBMIT_MAX_TRIES 5
#define RETRY_AFTER_CAP_S 30

static const char submit_help[] =
	"usage: gradeq submit [--student USER] [--wait [--timeout SECONDS]] [--json]\n"
	"                     COURSE/EXERCISE FILE.py\n"
	"\n"
	"Submits a marimo notebook for grading and prints the submission id. A student token\n"
	"submits as its own user; an instructor token must name the student.\n"
	"\n"
	"options:\n"
	"  --student USER     submit on behalf of USER (instructor)\n"
	"  --wait             wait for the grade and print it as `gradeq result` does\n"
	"  --timeout SECONDS  how long --wait waits, default 600\n"
	"  --json             machine output: {\"id\",\"status\"}, or the record with --wait\n"
	"\n"
	"examples:\n"
	"  gradeq submit cs101/primes primes.py\n"
	"  gradeq submit --student s001 --wait cs101/primes s001.py\n";

void cli_submissions_path(const char *course, const char *exercise, const char *student, char *out,
                          size_t outlen)
{
	if (student)
		snprintf(out, outlen, "/v1/courses/%s/exercises/%s/submissions?student=%s", course,
		         exercise, student);
	else
		snprintf(out, outlen, "/v1/courses/%s/exercises/%s/submissions", course, exercise);
}

/* --student: a valid name (const char **dst). */
static int parse_student(const char *val, void *dst, char *err, size_t errlen)
{
	if (!name_valid(val)) {
		snprintf(err, errlen, "submit: invalid student name '%.80s'", val);
		return -EINVAL;
	}
	*(const char **)dst = val;
	return 0;
}

int cli_submit_parse(int argc, char **argv, struct cli_submit_opts *o, char *err, size_t errlen)
{
	const struct cli_opt opts[] = {
		cli_opt_func("student", &o->student, parse_student),
		cli_opt_flag("wait", &o->wait),
		cli_opt_long("timeout", &o->timeout_s, 1, 86400),
		cli_opt_flag("json", &o->json),
		CLI_OPT_END,
	};

	memset(o, 0, sizeof *o);
	o->timeout_s = 600;
	int rc = cli_parse_opts(argc, argv, opts, err, errlen);
	if (rc != 0)
		return rc;
	if (cli_expect_target(argc, argv, 2, "COURSE/EXERCISE FILE.py", o->course, o->exercise, err,
	                      errlen) != 0)
		return -EINVAL;
	o->file = argv[optind + 1];
	return 0;
}

static void sleep_s(long s)
{
	struct timespec ts = { s, 0 };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* POSTs src; on 202 returns the answer (caller json_decref), else NULL with err.
 * 503 is retried as Retry-After says, a few times. */
static json_t *post_submission(const struct cli_env *env, const char *path, const char *src,
                               size_t len, char *err, size_t errlen)
{
	for (int attempt = 1;; attempt++) {
		struct cli_resp resp;
		cli_http_call(env, "POST", path, "text/x-python", src, len, 60, &resp);
		if (resp.status == 503 && attempt < SUBMIT_MAX_TRIES) {
			long wait = resp.retry_after > 0 ? resp.retry_after : 1;
			cli_resp_clear(&resp);
			sleep_s(wait > RETRY_AFTER_CAP_S ? RETRY_AFTER_CAP_S : wait);
			continue;
		}
		if (resp.status != 202 && resp.status != 200 && resp.status != 201) {
			cli_resp_reason(env, &resp, err, errlen);
			cli_resp_clear(&resp);
			return NULL;
		}
		json_t *j = json_loadb(resp.body, resp.len, 0, NULL);
		cli_resp_clear(&resp);
		const char *id = json_string_value(json_object_get(j, "id"));
		if (!id || !subid_valid(id)) {
			snprintf(err, errlen,
			         "dispatcher accepted the submission but sent no valid id");
			json_decref(j);
			return NULL;
		}
		return j;
	}
}

int cli_submit_main(int argc, char **argv)
{
	struct cli_submit_opts o;
	struct cli_env env;
	char err[1024], path[256];
	char *src = NULL;
	size_t len = 0;
	json_t *ack = NULL, *rec = NULL;
	int ret = CLI_EXIT_FAIL;
	int rc = cli_submit_parse(argc, argv, &o, err, sizeof err);

	if ((rc = cli_start(rc, submit_help, &env, err, sizeof err)) != CLI_RUN)
		return rc;
	rc = util_read_file(o.file, CLI_SOURCE_MAX, &src, &len);
	if (rc != 0) {
		cli_fail("submit: cannot read %s: %s", o.file,
		         rc == -EFBIG ? "larger than 8 MiB" : strerror(-rc));
		return CLI_EXIT_FAIL;
	}
	cli_submissions_path(o.course, o.exercise, o.student, path, sizeof path);
	ack = post_submission(&env, path, src, len, err, sizeof err);
	if (!ack) {
		cli_fail("submit %s/%s: %s", o.course, o.exercise, err);
		goto out;
	}
	const char *id = json_string_value(json_object_get(ack, "id"));
	if (!o.wait) {
		if (o.json)
			cli_call_print_json(ack);
		else
			puts(id);
		ret = 0;
		goto out;
	}
	if (!o.json) {
		printf("submitted %s, waiting for the grade...\n", id);
		fflush(stdout);
	}
	rec = cli_result_wait(&env, id, o.timeout_s, err, sizeof err);
	if (!rec) {
		cli_fail("submit: %s", err);
		goto out;
	}
	if (o.json)
		cli_call_print_json(rec);
	else
		cli_result_print(rec, stdout);
	ret = cli_result_exit(rec);
out:
	json_decref(rec);
	json_decref(ack);
	free(src);
	return ret;
}
