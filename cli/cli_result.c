/* cli_result.c - `gradeq result` and the record printing/waiting it shares with submit. */
#include "cli_result.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli_call.h"
#include "cli_http.h"
#include "cli_opts.h"
#include "score.h"
#include "text.h"
#include "util.h"

#define CLI_NAME_COL_MAX 60
#define CLI_MSG_MAX 160

static const char result_help[] =
	"usage: gradeq result [--json] SUBMISSION_ID\n"
	"\n"
	"Shows a submission: status (queued, grading, done, error), verdict, score and the\n"
	"feedback of every hidden test. Students see their own submissions only.\n"
	"\n"
	"options:\n"
	"  --json   print the record as the dispatcher returns it\n"
	"\n"
	"examples:\n"
	"  gradeq result 0192c3d4e5f6a1b2c3d4e5f6a7b8\n"
	"  gradeq result --json 0192c3d4e5f6a1b2c3d4e5f6a7b8 | jq .score\n";

static const char *str_or(const json_t *o, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : dflt;
}

/* Writes the number at key with score_format, or "-" when absent. */
static const char *num_at(const json_t *o, const char *key, char *buf, size_t len)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_number(v))
		return "-";
	return score_format(json_number_value(v), buf, len);
}

bool cli_result_finished(const json_t *rec)
{
	const char *st = json_string_value(json_object_get(rec, "status"));
	return st && (strcmp(st, "done") == 0 || strcmp(st, "error") == 0);
}

void cli_result_print(const json_t *rec, FILE *out)
{
	char a[32], b[32];
	const char *status = str_or(rec, "status", "?");

	fprintf(out, "id        %s\n", str_or(rec, "id", "?"));
	fprintf(out, "exercise  %s/%s\n", str_or(rec, "course", "?"), str_or(rec, "exercise", "?"));
	fprintf(out, "student   %s\n", str_or(rec, "student", "?"));
	fprintf(out, "status    %s\n", status);
	if (strcmp(status, "error") == 0) {
		fputs("error     ", out);
		cli_print_inert(out, str_or(rec, "error", "(no reason given)"), 400);
		fputc('\n', out);
		return;
	}
	if (strcmp(status, "done") != 0)
		return;
	fprintf(out, "verdict   %s\n", str_or(rec, "verdict", "?"));
	const char *detail = str_or(rec, "message", "");
	if (*detail) {
		fputs("message   ", out);
		cli_print_inert(out, detail, 400);
		fputc('\n', out);
	}
	fprintf(out, "score     %s / %s\n", num_at(rec, "score", a, sizeof a),
	        num_at(rec, "max", b, sizeof b));
	const char *iso = str_or(rec, "isolation", "");
	if (*iso) { /* names of ours, set by the node; printed inert all the same */
		fputs("graded    ", out);
		cli_print_inert(out, iso, 32);
		fputs(strcmp(iso, "in-process") == 0 ? " (the notebook shared the tests' process)"
		                                     : "",
		      out);
		fputs(", ", out);
		cli_print_inert(out, str_or(rec, "runner", "?"), 16);
		fputs(" runner\n", out);
	}

	json_t *tests = json_object_get(rec, "tests");
	if (!json_is_array(tests) || json_array_size(tests) == 0)
		return;
	size_t i, w = 4;
	json_t *t;
	json_array_foreach(tests, i, t)
	{
		size_t l = strlen(str_or(t, "name", "?"));
		if (l > w)
			w = l;
	}
	if (w > CLI_NAME_COL_MAX)
		w = CLI_NAME_COL_MAX;
	fputs("tests\n", out);
	json_array_foreach(tests, i, t)
	{
		bool passed = json_is_true(json_object_get(t, "passed"));
		char pts[72];
		snprintf(pts, sizeof pts, "%s/%s", num_at(t, "points", a, sizeof a),
		         num_at(t, "max_points", b, sizeof b));
		char *name =
			text_inert(str_or(t, "name", "?"), strlen(str_or(t, "name", "?")), true);
		fprintf(out, "  %s %-*.*s  %7s", passed ? "\u2713" : "\u2717", (int)w, (int)w,
		        name ? name : "?", pts);
		free(name);
		const char *msg = str_or(t, "message", "");
		if (*msg) {
			fputs("  ", out);
			cli_print_inert(out, msg, CLI_MSG_MAX);
		}
		fputc('\n', out);
	}
}

int cli_result_exit(const json_t *rec)
{
	const char *st = json_string_value(json_object_get(rec, "status"));
	if (st && strcmp(st, "error") == 0) {
		cli_fail("submission %s ended in error: %s", str_or(rec, "id", "?"),
		         str_or(rec, "error", "(no reason given)"));
		return CLI_EXIT_FAIL;
	}
	return 0;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

json_t *cli_result_wait(const struct cli_env *env, const char *id, long long timeout_s, char *err,
                        size_t errlen)
{
	char path[128];
	int64_t deadline = util_mono_ms() + timeout_s * 1000;
	long delay = 100;
	int transport_failures = 0;
	const char *last = "queued";
	json_t *rec = NULL;

	snprintf(path, sizeof path, "/v1/submissions/%s", id);
	for (;;) {
		struct cli_resp resp;
		cli_http_call(env, "GET", path, NULL, NULL, 0, 30, &resp);
		if (resp.status == 200) {
			json_decref(rec);
			rec = json_loadb(resp.body, resp.len, 0, NULL);
			transport_failures = 0;
			if (!json_is_object(rec)) {
				snprintf(err, errlen, "dispatcher sent a malformed record for %s",
				         id);
				cli_resp_clear(&resp);
				json_decref(rec);
				return NULL;
			}
			if (cli_result_finished(rec)) {
				cli_resp_clear(&resp);
				return rec;
			}
			last = json_string_value(json_object_get(rec, "status"));
			if (!last)
				last = "?";
		} else if (resp.status == 0 || resp.status == 503) {
			/* the dispatcher restarting or Redis away: keep trying for a while */
			if (++transport_failures > 5) {
				cli_resp_reason(env, &resp, err, errlen);
				cli_resp_clear(&resp);
				json_decref(rec);
				return NULL;
			}
		} else {
			cli_resp_reason(env, &resp, err, errlen);
			cli_resp_clear(&resp);
			json_decref(rec);
			return NULL;
		}
		cli_resp_clear(&resp);
		int64_t left = deadline - util_mono_ms();
		if (left <= 0) {
			snprintf(err, errlen,
			         "timed out after %lld s waiting for %s (status %s; check later "
			         "with: gradeq result %s)",
			         timeout_s, id, last, id);
			json_decref(rec);
			return NULL;
		}
		sleep_ms(delay < left ? delay : (long)left);
		delay = delay * 2 > 1000 ? 1000 : delay * 2;
	}
}

int cli_result_parse(int argc, char **argv, struct cli_result_opts *o, char *err, size_t errlen)
{
	const struct cli_opt opts[] = { cli_opt_flag("json", &o->json), CLI_OPT_END };

	memset(o, 0, sizeof *o);
	int rc = cli_parse_opts(argc, argv, opts, err, errlen);
	if (rc != 0)
		return rc;
	if (cli_expect_args(argc, argv, 1, "[--json] SUBMISSION_ID", err, errlen) != 0)
		return -EINVAL;
	o->id = argv[optind];
	if (!subid_valid(o->id)) {
		snprintf(err, errlen,
		         "result: invalid submission id '%.64s' (28 lowercase hex digits)", o->id);
		return -EINVAL;
	}
	return 0;
}

int cli_result_main(int argc, char **argv)
{
	struct cli_result_opts o;
	struct cli_env env;
	char err[1024], path[128];
	int rc = cli_result_parse(argc, argv, &o, err, sizeof err);

	if ((rc = cli_start(rc, result_help, &env, err, sizeof err)) != CLI_RUN)
		return rc;
	snprintf(path, sizeof path, "/v1/submissions/%s", o.id);
	return cli_call_show(&env, path, 30, o.json, cli_result_print, "result %s", o.id);
}
