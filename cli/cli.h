/* cli.h - what the gradeq subcommands share: the environment (GRADEQ_URL, GRADEQ_TOKEN),
 * option parsing with one-line errors, COURSE/EXERCISE targets, and the entry point of
 * each subcommand. Each cli_<cmd>_main() returns the process exit status and prints at
 * most one line of reason on stderr when it fails. The parse and format functions are
 * separate so unit tests can call them without a dispatcher. */
#pragma once
#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "names.h"

#define CLI_HELP 1 /* a parser's return when --help was asked (exit 0) */
#define CLI_EXIT_FAIL 1
#define CLI_EXIT_USAGE 2

struct cli_env {
	char url[1024];    /* GRADEQ_URL without trailing '/' */
	const char *token; /* GRADEQ_TOKEN (environment memory) */
};

/* Reads GRADEQ_URL (required) and, if need_token, GRADEQ_TOKEN. 0 or -EINVAL with err. */
int cli_env_load(struct cli_env *env, bool need_token, char *err, size_t errlen);

/* Prints "gradeq: <fmt>" and a newline on stderr. */
void cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Splits "COURSE/EXERCISE" into two validated names. 0 or -EINVAL with err. */
int cli_parse_target(const char *s, char course[GQ_NAME_MAX + 1], char exercise[GQ_NAME_MAX + 1],
                     char *err, size_t errlen);

/* getopt_long over argv[0..argc) (argv[0] is the subcommand name), silent on errors;
 * shortopts without the leading ':' (added here).
 * Returns the option character, -1 at the end, or -EINVAL with "<cmd>: unknown option
 * '--x'" / "<cmd>: option '--x' needs a value" in err. Call cli_getopt_reset() before
 * the first call of a parse. */
void cli_getopt_reset(void);
int cli_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts,
               char *err, size_t errlen);

/* Parses a positive integer option value into [min,max]. 0 or -EINVAL with err. */
int cli_parse_long(const char *cmd, const char *opt, const char *val, long long min, long long max,
                   long long *out, char *err, size_t errlen);

/* After cli_getopt() returned -1: checks that exactly want positional arguments remain
 * (argv[optind..]); usage names them, e.g. "COURSE/EXERCISE FILE.py". 0 or -EINVAL. */
int cli_expect_args(int argc, char **argv, int want, const char *usage, char *err, size_t errlen);

/* The submissions path of course/exercise, with ?student= when student is not NULL. */
void cli_submissions_path(const char *course, const char *exercise, const char *student, char *out,
                          size_t outlen);
/* Largest notebook the CLI reads (the dispatcher's max_body_kb decides what it takes). */
#define CLI_SOURCE_MAX (8u * 1024 * 1024)

/* Subcommand entry points: argv[0] is the subcommand's name. */
int cli_token_main(int argc, char **argv);
int cli_publish_main(int argc, char **argv);
int cli_submit_main(int argc, char **argv);
int cli_batch_main(int argc, char **argv);
int cli_result_main(int argc, char **argv);
int cli_gradebook_main(int argc, char **argv);
int cli_status_main(int argc, char **argv);
int cli_regrade_main(int argc, char **argv);
