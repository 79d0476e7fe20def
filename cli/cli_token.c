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

/* --role: student or instructor (enum gq_role *dst). */
static int parse_role(const char *val, void *dst, char *err, size_t errlen)
{
	if (token_role_parse(val, dst) != 0) {
		snprintf(err, errlen, "token: --role must be student or instructor, not '%.40s'",
		         val);
		return -EINVAL;
	}
	return 0;
}

int cli_token_parse(int argc, char **argv, struct cli_token_opts *o, char *err, size_t errlen)
{
	const struct cli_opt opts[] = {
		cli_opt_func("role", &o->role, parse_role),
		cli_opt_long("ttl", &o->ttl, 1, 10LL * 365 * 86400),
		cli_opt_str("secret-file", &o->secret_file),
		cli_opt_flag("json", &o->json),
		CLI_OPT_END,
	};

	memset(o, 0, sizeof *o);
	o->role = GQ_ROLE_STUDENT;
	o->ttl = 86400;
	int rc = cli_parse_opts(argc, argv, opts, err, errlen);
	if (rc != 0)
		return rc;
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

	if ((rc = cli_start(rc, token_help, NULL, err, sizeof err)) != CLI_RUN)
		return rc;

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
