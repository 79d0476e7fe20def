/* main.c - `gradeq`: dispatches to a subcommand (cli.h). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_http.h"

static const struct {
	const char *name;
	int (*main)(int argc, char **argv);
	const char *summary;
} commands[] = {
	{ "token", cli_token_main, "sign a bearer token (needs the server secret)" },
	{ "publish", cli_publish_main, "publish an exercise directory (instructor)" },
	{ "submit", cli_submit_main, "submit one notebook; --wait for its grade" },
	{ "batch", cli_batch_main, "submit DIR/<student>.py for every student" },
	{ "result", cli_result_main, "show a submission's status, score and feedback" },
	{ "gradebook", cli_gradebook_main, "best score per student and exercise (--csv, --json)" },
	{ "status", cli_status_main, "grader nodes, busy slots, submission counts" },
	{ "regrade", cli_regrade_main, "re-run every latest submission of an exercise" },
	{ "grade", cli_grade_main, "grade a folder of notebooks here, no server (root)" },
	{ "release", cli_release_main, "write the student release of a mograder notebook" },
};

static void usage(FILE *out)
{
	fputs("usage: gradeq COMMAND [OPTIONS] ARGS...   (gradeq COMMAND --help for details)\n"
	      "\ncommands:\n",
	      out);
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fputs("\nenvironment:\n"
	      "  GRADEQ_URL    the dispatcher's base URL, e.g. http://127.0.0.1:8080\n"
	      "  GRADEQ_TOKEN  bearer token (gradeq token)\n"
	      "  GRADEQ_SECRET_FILE, GRADEQ_SECRET  the secret `gradeq token` signs with\n"
	      "\nexamples:\n"
	      "  eval \"$(scripts/cluster env)\"\n"
	      "  gradeq publish cs101/primes examples/course/primes\n"
	      "  gradeq batch --wait cs101/primes subs/primes\n"
	      "  gradeq gradebook --csv cs101\n",
	      out);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(cmd, "--version") == 0) {
		puts("gradeq " GRADEQ_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
		if (strcmp(cmd, commands[i].name) != 0)
			continue;
		if (cli_http_global_init() != 0) {
			cli_fail("cannot initialise libcurl");
			return CLI_EXIT_FAIL;
		}
		int rc = commands[i].main(argc - 1, argv + 1);
		cli_http_global_cleanup();
		return rc;
	}
	cli_fail("unknown command '%.40s' (try: gradeq --help)", cmd);
	return CLI_EXIT_USAGE;
}
