/* cli_token.c - `gradeq token`: signs a bearer token with the server secret. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "cli_opts.h"
#include "token.h"

static const char token_help[] =
	"usage: gradeq token [--role student|instructor] [--ttl SECONDS] [--secret-file PATH]\n"
	"                    [--json] USER\n"
	"\n"
	"Signs a bearer token for USER with the dispatcher's secret and prints it.\n"
	"The secret comes from --secret-file, else $GRADEQ_SECRET_FILE, else $GRADEQ_SECRET.\n"
	"\n"
	"options:\n"
	"  --role ROLE         student (default) or instructor\n"
	"  --ttl SECONDS       lifetime, default 86400 (one day)\n"
	"  --secret-file PATH  the secret (mode 0600)\n"
	"  --json              print {\"token\",\"user\",\"role\",\"expiry\"}\n"
	"\n"
	"examples:\n"
	"  export GRADEQ_SECRET_FILE=/etc/gradeq/secret\n"
	"  export GRADEQ_TOKEN=$(gradeq token --role instructor alice)\n"
	"  gradeq token --ttl 3600 --secret-file /etc/gradeq/secret s001\n";

int cli_token_parse(int argc, char **argv, struct cli_token_opts *o, char *err, size_t errlen)
{
	static const struct option longopts[] = {
		{ "role", required_argument, NULL, 'r' },
		{ "ttl", required_argument, NULL, 't' },
		{ "secret-file", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof *o);
	o->role = GQ_ROLE_STUDENT;
	o->ttl = 86400;
	cli_getopt_reset();
	while ((c = cli_getopt(argc, argv, "h", longopts, err, errlen)) != -1) {
		switch (c) {
		case 'r':
			if (token_role_parse(optarg, &o->role) != 0) {
				snprintf(err, errlen,
				         "token: --role must be student or instructor, not '%.40s'",
				         optarg);
				return -EINVAL;
			}
			break;
		case 't':
			if (cli_parse_long("token", "--ttl", optarg, 1, 10LL * 365 * 86400, &o->ttl,
			                   err, errlen) != 0)
				return -EINVAL;
			break;
		case 's':
			o->secret_file = optarg;
			break;
		case 'j':
			o->json = true;
			break;
		case 'h':
			return CLI_HELP;
		default:
			return -EINVAL;
		}
	}
	if (cli_expect_args(argc, argv, 1, "[--role ROLE] [--ttl SECONDS] USER", err, errlen) != 0)
		return -EINVAL;
	o->user = argv[optind];
	if (!name_valid(o->user)) {
		snprintf(err, errlen, "token: invalid user name '%.80s' ([A-Za-z0-9_.-]{1,64})",
		         o->user);
		return -EINVAL;
	}
	return 0;
}

int cli_token_main(int argc, char **argv)
{
	struct cli_token_opts o;
	struct gq_secret sec;
	struct gq_token t;
	char err[512], tok[GQ_TOKEN_MAX + 1];
	int rc = cli_token_parse(argc, argv, &o, err, sizeof err);

	if (rc == CLI_HELP) {
		fputs(token_help, stdout);
		return 0;
	}
	if (rc != 0) {
		cli_fail("%s", err);
		return CLI_EXIT_USAGE;
	}

	const char *file = o.secret_file ? o.secret_file : getenv("GRADEQ_SECRET_FILE");
	const char *str = getenv("GRADEQ_SECRET");
	if (file && *file)
		rc = token_secret_load(file, &sec, err, sizeof err);
	else if (str && *str)
		rc = token_secret_from_string(str, &sec, err, sizeof err);
	else {
		cli_fail("token: no secret (use --secret-file PATH, $GRADEQ_SECRET_FILE or "
		         "$GRADEQ_SECRET)");
		return CLI_EXIT_FAIL;
	}
	if (rc != 0) {
		cli_fail("token: %s", err);
		return CLI_EXIT_FAIL;
	}

	memset(&t, 0, sizeof t);
	snprintf(t.user, sizeof t.user, "%s", o.user);
	t.role = o.role;
	t.expiry = (int64_t)time(NULL) + o.ttl;
	rc = token_sign(&sec, &t, tok, sizeof tok);
	explicit_bzero(&sec, sizeof sec);
	if (rc != 0) {
		cli_fail("token: cannot sign: %s", strerror(-rc));
		return CLI_EXIT_FAIL;
	}
	if (o.json) {
		json_t *j = json_pack("{s:s, s:s, s:s, s:I}", "token", tok, "user", t.user, "role",
		                      token_role_name(t.role), "expiry", (json_int_t)t.expiry);
		if (!j || json_dumpf(j, stdout, JSON_COMPACT) != 0) {
			json_decref(j);
			cli_fail("token: out of memory");
			return CLI_EXIT_FAIL;
		}
		json_decref(j);
		fputc('\n', stdout);
	} else {
		puts(tok);
	}
	return 0;
}
