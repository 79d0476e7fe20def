/* cli_status.c - `gradeq status`: grader nodes, queue lag per partition, submission
 * counts and the submissions in error. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_call.h"
#include "cli_opts.h"
#include "cli_status.h"
#include "text.h"
#include "util.h"

static const char status_help[] =
	"usage: gradeq status [--json]\n"
	"\n"
	"Shows the grader nodes (id, host, slots, busy slots, version, last heartbeat), how\n"
	"many submissions are queued, grading, done and in error, the queue: on a Redis\n"
	"stream the jobs not yet acknowledged and how many of them are delivered (pending),\n"
	"on Kafka the lag of each partition of the jobs topic (the graders' committed offset\n"
	"against the newest message), and the submissions in error with their reasons\n"
	"(instructor token).\n"
	"\n"
	"options:\n"
	"  --json   the dispatcher's answer\n"
	"\n"
	"examples:\n"
	"  gradeq status\n"
	"  watch -n1 gradeq status\n";

int cli_status_parse(int argc, char **argv, struct cli_status_opts *o, char *err, size_t errlen)
{
	const struct cli_opt opts[] = { cli_opt_flag("json", &o->json), CLI_OPT_END };

	memset(o, 0, sizeof *o);
	int rc = cli_parse_opts(argc, argv, opts, err, errlen);
	if (rc != 0)
		return rc;
	return cli_expect_args(argc, argv, 0, "[--json]", err, errlen);
}

static long long int_at(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);
	return json_is_integer(v)  ? (long long)json_integer_value(v)
	       : json_is_number(v) ? (long long)json_number_value(v)
	                           : 0;
}

static const char *str_at(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "?";
}

/* How old a timestamp (ms since the epoch) is, as "1.2 s ago", or "never" (0 or unset). */
static void age_text(long long at_ms, int64_t now_ms, char *out, size_t outlen)
{
	if (at_ms <= 0) {
		snprintf(out, outlen, "never");
		return;
	}
	double ago = (double)(now_ms - at_ms) / 1000.0;
	snprintf(out, outlen, "%.1f s ago", ago < 0.05 ? 0.0 : ago);
}

/* A string of the answer for a column: inert (text_inert), at most 64 bytes, cut on a
 * character boundary. */
static void cell(const json_t *o, const char *key, char out[65])
{
	const char *s = str_at(o, key);
	char *clean = text_inert(s, strlen(s), true);
	if (!clean) {
		snprintf(out, 65, "?");
		return;
	}
	size_t n = strlen(clean);
	if (n > 64)
		for (n = 64; n > 0 && ((unsigned char)clean[n] & 0xC0) == 0x80; n--)
			;
	snprintf(out, 65, "%.*s", (int)n, clean);
	free(clean);
}

static int width_of(const json_t *arr, const char *key, int min)
{
	const json_t *n;
	size_t i;
	int w = min;
	json_array_foreach(arr, i, n)
	{
		char c[65];
		cell(n, key, c);
		int l = (int)strlen(c);
		if (l > w)
			w = l;
	}
	return w;
}

static void print_nodes(const json_t *nodes, int64_t now_ms, FILE *out)
{
	const json_t *n;
	size_t i;
	int wid = width_of(nodes, "id", 4), whost = width_of(nodes, "host", 4),
	    wver = width_of(nodes, "version", 7);
	long long slots = 0, busy = 0;

	fprintf(out, "%-*s  %-*s  %5s  %4s  %-*s  %s\n", wid, "node", whost, "host", "slots",
	        "busy", wver, "version", "last seen");
	json_array_foreach(nodes, i, n)
	{
		char id[65], host[65], ver[65], ago[32];
		cell(n, "id", id);
		cell(n, "host", host);
		cell(n, "version", ver);
		age_text(int_at(n, "last_seen_ms"), now_ms, ago, sizeof ago);
		fprintf(out, "%-*s  %-*s  %5lld  %4lld  %-*s  %s\n", wid, id, whost, host,
		        int_at(n, "slots"), int_at(n, "busy"), wver, ver, ago);
		slots += int_at(n, "slots");
		busy += int_at(n, "busy");
	}
	/* busy comes from the heartbeats: it can lag the submission counts by a beat */
	fprintf(out, "%zu nodes, %lld of %lld slots busy (at their last heartbeat)\n",
	        json_array_size(nodes), busy, slots);
}

static void print_lag(const json_t *lag, int64_t now_ms, FILE *out)
{
	const json_t *parts = json_object_get(lag, "partitions");
	if (!json_is_array(parts)) {
		const char *why = json_string_value(json_object_get(lag, "error"));
		fputs("queue lag: unknown (", out);
		cli_print_inert(out, why ? why : "not reported", 400);
		fputs(")\n", out);
		return;
	}
	/* the dispatcher measures the queue every 2 s: say how old this measurement is */
	char ago[32];
	age_text(int_at(lag, "measured_ms"), now_ms, ago, sizeof ago);
	const char *broker = json_string_value(json_object_get(lag, "broker"));
	if (broker && strcmp(broker, "redis") == 0) {
		/* one stream: lag = undelivered + pending (delivered, not acknowledged) */
		const json_t *s = json_array_get(parts, 0);
		fprintf(out,
		        "queue (redis stream, measured %s): %lld job(s) not yet acknowledged by "
		        "the graders, %lld of them delivered (pending), %lld added in all\n",
		        ago, s ? int_at(s, "lag") : 0, s ? int_at(s, "pending") : 0,
		        s ? int_at(s, "high") : 0);
		return;
	}
	fprintf(out, "queue lag (measured %s): %lld job(s) not yet committed by the graders\n", ago,
	        int_at(lag, "total"));
	fprintf(out, "  %9s  %10s  %10s  %6s\n", "partition", "committed", "high", "lag");
	const json_t *p;
	size_t i;
	json_array_foreach(parts, i, p)
	{
		long long c = int_at(p, "committed");
		char cs[24];
		if (c < 0)
			snprintf(cs, sizeof cs, "-");
		else
			snprintf(cs, sizeof cs, "%lld", c);
		fprintf(out, "  %9lld  %10s  %10lld  %6lld\n", int_at(p, "partition"), cs,
		        int_at(p, "high"), int_at(p, "lag"));
	}
}

static void print_errors(const json_t *st, FILE *out)
{
	const json_t *errs = json_object_get(st, "errors");
	long long n = int_at(st, "error");
	if (n == 0) {
		fprintf(out, "no submission in error\n");
		return;
	}
	fprintf(out, "%lld submission(s) in error (staff: read the reason, fix, gradeq regrade):\n",
	        n);
	const json_t *e;
	size_t i;
	json_array_foreach(errs, i, e)
	{
		/* names are checked by the dispatcher; the reason is a node's text: inert */
		char id[65], course[65], exercise[65], student[65];
		cell(e, "id", id);
		cell(e, "course", course);
		cell(e, "exercise", exercise);
		cell(e, "student", student);
		fprintf(out, "  %s  %s/%s  %s  attempt %lld: ", id, course, exercise, student,
		        int_at(e, "attempt"));
		cli_print_inert(out, str_at(e, "error"), 400);
		fputc('\n', out);
	}
	if ((long long)json_array_size(errs) < n)
		fprintf(out, "  ... and %lld more\n", n - (long long)json_array_size(errs));
}

void cli_status_print(const json_t *st, int64_t now_ms, FILE *out)
{
	print_nodes(json_object_get(st, "nodes"), now_ms, out);
	fprintf(out, "submissions: %lld (queued %lld, grading %lld, done %lld, error %lld)\n",
	        int_at(st, "submissions"), int_at(st, "queued"), int_at(st, "grading"),
	        int_at(st, "done"), int_at(st, "error"));
	print_lag(json_object_get(st, "lag"), now_ms, out);
	print_errors(st, out);
}

static void print_status(const json_t *st, FILE *out)
{
	cli_status_print(st, util_now_ms(), out);
}

int cli_status_main(int argc, char **argv)
{
	struct cli_status_opts o;
	struct cli_env env;
	char err[1024];
	int rc = cli_status_parse(argc, argv, &o, err, sizeof err);

	if ((rc = cli_start(rc, status_help, &env, err, sizeof err)) != CLI_RUN)
		return rc;
	return cli_call_show(&env, "/v1/status", 30, o.json, print_status, "status");
}
