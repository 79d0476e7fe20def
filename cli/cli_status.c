/* cli_status.c - `gradeq status`: grader nodes and submission counts. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_http.h"
#include "cli_opts.h"
#include "util.h"

static const char status_help[] =
	"usage: gradeq status [--json]\n"
	"\n"
	"Shows the grader nodes (id, host, slots, busy slots, last heartbeat) and how many\n"
	"submissions are queued, grading, done and in error (instructor token).\n"
	"\n"
	"options:\n"
	"  --json   the dispatcher's answer\n"
	"\n"
	"examples:\n"
	"  gradeq status\n"
	"  watch -n1 gradeq status\n";

int cli_status_parse(int argc, char **argv, struct cli_status_opts *o, char *err, size_t errlen)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

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
	return cli_expect_args(argc, argv, 0, "[--json]", err, errlen);
}

static long long int_at(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);
	return json_is_integer(v)  ? (long long)json_integer_value(v)
	       : json_is_number(v) ? (long long)json_number_value(v)
	                           : 0;
}

static void print_status(const json_t *st, FILE *out)
{
	const json_t *nodes = json_object_get(st, "nodes");
	const json_t *n;
	size_t i;
	int wid = 4, whost = 4;
	long long slots = 0, busy = 0;
	int64_t now = util_now_ms();

	json_array_foreach(nodes, i, n)
	{
		const char *id = json_string_value(json_object_get(n, "id"));
		const char *host = json_string_value(json_object_get(n, "host"));
		if (id && (int)strlen(id) > wid)
			wid = (int)strlen(id);
		if (host && (int)strlen(host) > whost)
			whost = (int)strlen(host);
	}
	fprintf(out, "%-*s  %-*s  %5s  %4s  %s\n", wid, "node", whost, "host", "slots", "busy",
	        "last seen");
	json_array_foreach(nodes, i, n)
	{
		const char *id = json_string_value(json_object_get(n, "id"));
		const char *host = json_string_value(json_object_get(n, "host"));
		long long seen = int_at(n, "last_seen_ms");
		double ago = seen > 0 ? (double)(now - seen) / 1000.0 : -1;
		char agos[32];
		if (ago < 0)
			snprintf(agos, sizeof agos, "never");
		else
			snprintf(agos, sizeof agos, "%.1f s ago", ago < 0.05 ? 0.0 : ago);
		fprintf(out, "%-*s  %-*s  %5lld  %4lld  %s\n", wid, id ? id : "?", whost,
		        host ? host : "?", int_at(n, "slots"), int_at(n, "busy"), agos);
		slots += int_at(n, "slots");
		busy += int_at(n, "busy");
	}
	fprintf(out, "%zu nodes, %lld of %lld slots busy\n", json_array_size(nodes), busy, slots);
	fprintf(out, "submissions: queued %lld, grading %lld, done %lld, error %lld\n",
	        int_at(st, "queued"), int_at(st, "grading"), int_at(st, "done"),
	        int_at(st, "error"));
}

int cli_status_main(int argc, char **argv)
{
	struct cli_status_opts o;
	struct cli_env env;
	char err[1024];
	int rc = cli_status_parse(argc, argv, &o, err, sizeof err);

	if (rc == CLI_HELP) {
		fputs(status_help, stdout);
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
	json_t *st = cli_http_json(&env, "GET", "/v1/status", NULL, NULL, 0, 30, err, sizeof err);
	if (!st) {
		cli_fail("status: %s", err);
		return CLI_EXIT_FAIL;
	}
	if (o.json) {
		json_dumpf(st, stdout, JSON_COMPACT);
		fputc('\n', stdout);
	} else {
		print_status(st, stdout);
	}
	json_decref(st);
	return 0;
}
