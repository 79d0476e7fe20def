/* cli_opts.h - the parsed arguments of each subcommand and their parsers.
 * A parser returns 0, CLI_HELP when --help was given, or -EINVAL with a one-line reason
 * in err. Strings point into argv. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "cli.h"
#include "token.h"

struct cli_token_opts {
	const char *user;
	enum gq_role role;
	long long ttl;
	const char *secret_file;
	bool json;
};

struct cli_publish_opts {
	char course[GQ_NAME_MAX + 1], exercise[GQ_NAME_MAX + 1];
	const char *dir;
	bool json;
	bool no_check; /* a mograder source is not run locally before it is sent */
};

struct cli_submit_opts {
	char course[GQ_NAME_MAX + 1], exercise[GQ_NAME_MAX + 1];
	const char *file;
	const char *student; /* NULL: the token's user */
	bool wait, json;
	long long timeout_s;
};

struct cli_batch_opts {
	char course[GQ_NAME_MAX + 1], exercise[GQ_NAME_MAX + 1];
	const char *dir;
	bool wait, json;
	long long parallel;
	long long timeout_s;
};

struct cli_result_opts {
	const char *id;
	bool json;
};

enum cli_gradebook_format { CLI_GB_TABLE, CLI_GB_CSV, CLI_GB_JSON };

struct cli_gradebook_opts {
	const char *course;
	enum cli_gradebook_format format;
};

struct cli_status_opts {
	bool json;
};

struct cli_regrade_opts {
	char course[GQ_NAME_MAX + 1], exercise[GQ_NAME_MAX + 1];
	bool json;
};

int cli_token_parse(int argc, char **argv, struct cli_token_opts *o, char *err, size_t errlen);
int cli_publish_parse(int argc, char **argv, struct cli_publish_opts *o, char *err, size_t errlen);
int cli_submit_parse(int argc, char **argv, struct cli_submit_opts *o, char *err, size_t errlen);
int cli_batch_parse(int argc, char **argv, struct cli_batch_opts *o, char *err, size_t errlen);
int cli_result_parse(int argc, char **argv, struct cli_result_opts *o, char *err, size_t errlen);
int cli_gradebook_parse(int argc, char **argv, struct cli_gradebook_opts *o, char *err,
                        size_t errlen);
int cli_status_parse(int argc, char **argv, struct cli_status_opts *o, char *err, size_t errlen);
int cli_regrade_parse(int argc, char **argv, struct cli_regrade_opts *o, char *err, size_t errlen);
