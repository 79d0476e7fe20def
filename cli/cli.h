/* cli.h - what the gradeq subcommands share: the environment (GRADEQ_URL, GRADEQ_TOKEN),
 * option tables parsed with one-line errors, COURSE/EXERCISE targets, the start of a
 * subcommand (--help, usage errors, environment) and the entry point of each subcommand.
 * Each cli_<cmd>_main() returns the process exit status and prints at most one line of
 * reason on stderr when it fails. The parse and format functions are separate so unit
 * tests can call them without a dispatcher. */
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

/* One option of a subcommand for cli_parse_opts(), made by the cli_opt_*() functions
 * below (they check dst's type); a table ends with CLI_OPT_END. */
enum cli_opt_kind {
	CLI_OPT_FLAG, /* bool *dst: set to true; takes no value */
	CLI_OPT_STR,  /* const char **dst: the value (points into argv) */
	CLI_OPT_LONG, /* long long *dst: an integer in [min, max] */
	CLI_OPT_FUNC, /* parse(value, dst, err, errlen): stores it, or -EINVAL with err */
};

struct cli_opt {
	const char *name; /* long name without "--"; NULL ends a table */
	enum cli_opt_kind kind;
	void *dst;
	long long min, max;
	int (*parse)(const char *val, void *dst, char *err, size_t errlen);
};

#define CLI_OPT_END ((struct cli_opt){ .name = NULL })
struct cli_opt cli_opt_flag(const char *name, bool *dst);
struct cli_opt cli_opt_str(const char *name, const char **dst);
struct cli_opt cli_opt_long(const char *name, long long *dst, long long min, long long max);
struct cli_opt cli_opt_func(const char *name, void *dst,
                            int (*parse)(const char *val, void *dst, char *err, size_t errlen));

/* Parses the options of a subcommand (argv[0] is its name) with getopt_long: the ones in
 * opts, in any order and between the positional arguments, and --help/-h. Options are
 * taken left to right and the first mistake ends the parse. Returns 0 with the
 * positional arguments left in argv[optind..argc), CLI_HELP, or -EINVAL with a one-line
 * reason in err ("<cmd>: unknown option '--x'", "<cmd>: option '--x' needs a value",
 * "<cmd>: --x must be an integer in [min, max], not 'v'", or what parse said). */
int cli_parse_opts(int argc, char **argv, const struct cli_opt *opts, char *err, size_t errlen);

/* After cli_parse_opts(): checks that exactly want positional arguments remain
 * (argv[optind..]); usage names them, e.g. "COURSE/EXERCISE FILE.py". 0 or -EINVAL. */
int cli_expect_args(int argc, char **argv, int want, const char *usage, char *err, size_t errlen);

/* cli_expect_args(), then argv[optind] as COURSE/EXERCISE into course and exercise
 * (reason prefixed "<cmd>: "). 0 or -EINVAL with err. */
int cli_expect_target(int argc, char **argv, int want, const char *usage,
                      char course[GQ_NAME_MAX + 1], char exercise[GQ_NAME_MAX + 1], char *err,
                      size_t errlen);

/* The start every subcommand shares, once its parser returned parse_rc with its reason
 * in err: CLI_HELP prints help on stdout (exit 0), a parse error prints err (exit
 * CLI_EXIT_USAGE); then, unless env is NULL, loads the environment with a token
 * required (exit CLI_EXIT_FAIL and the reason on failure; err is reused).
 * Returns CLI_RUN when the subcommand goes on, else the exit status to return. */
#define CLI_RUN (-1)
int cli_start(int parse_rc, const char *help, struct cli_env *env, char *err, size_t errlen);

/* The submissions path of course/exercise, with ?student= when student is not NULL. */
void cli_submissions_path(const char *course, const char *exercise, const char *student, char *out,
                          size_t outlen);
/* Prints s on one line, inert (text_inert: no control character, escape sequence or
 * bidi override from a submission, a node or the network reaches the terminal), cut at
 * max bytes on a character boundary with "..." after. */
void cli_print_inert(FILE *out, const char *s, size_t max);

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
int cli_grade_main(int argc, char **argv);
int cli_release_main(int argc, char **argv);
/* The student release of a mograder source notebook (cli_release.c): *out malloc'd.
 * Returns 0, -EINVAL with err (an unclosed block) or -ENOMEM. */
int cli_release_text(const char *text, size_t len, char **out, char *err, size_t errlen);
/* `gradeq publish`'s check of a mograder exercise (cli_mogcheck.c): dir's source runs in
 * the local grading sandbox (root; venv NULL: the default) and every check must pass.
 * Returns 0; -EINVAL with the failing checks in err; -EPERM (not root) or -EIO (the
 * sandbox could not run) with the reason. */
int cli_mog_check(const char *dir, const char *venv, char *err, size_t errlen);
