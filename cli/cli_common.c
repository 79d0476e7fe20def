/* cli_common.c - environment, option parsing, targets and the start shared by the subcommands. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "text.h"
#include "token.h"
#include "util.h"

#define CLI_OPTS_MAX 15    /* options in one subcommand's table, --help aside */
#define CLI_OPT_VAL0 0x100 /* getopt val of opts[0]: above every option character */

int cli_env_load(struct cli_env *env, bool need_token, char *err, size_t errlen)
{
	const char *url = getenv("GRADEQ_URL");
	const char *tok = getenv("GRADEQ_TOKEN");

	if (!url || !*url) {
		snprintf(err, errlen,
		         "GRADEQ_URL is not set (the dispatcher's base URL; try: eval "
		         "\"$(scripts/cluster env)\")");
		return -EINVAL;
	}
	if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
		snprintf(err, errlen, "GRADEQ_URL must start with http:// or https://, not '%.64s'",
		         url);
		return -EINVAL;
	}
	size_t n = strlen(url);
	while (n > 0 && url[n - 1] == '/')
		n--;
	if (n >= sizeof env->url) {
		snprintf(err, errlen, "GRADEQ_URL is longer than %zu bytes", sizeof env->url - 1);
		return -EINVAL;
	}
	if (need_token && (!tok || !*tok)) {
		snprintf(err, errlen,
		         "GRADEQ_TOKEN is not set (make one with: gradeq token --role instructor "
		         "USER)");
		return -EINVAL;
	}
	if (tok && strlen(tok) > GQ_TOKEN_MAX) {
		snprintf(err, errlen, "GRADEQ_TOKEN is longer than %d bytes", GQ_TOKEN_MAX);
		return -EINVAL;
	}
	memcpy(env->url, url, n);
	env->url[n] = '\0';
	env->token = (tok && *tok) ? tok : NULL;
	return 0;
}

void cli_fail(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("gradeq: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_parse_target(const char *s, char course[GQ_NAME_MAX + 1], char exercise[GQ_NAME_MAX + 1],
                     char *err, size_t errlen)
{
	const char *slash = strchr(s, '/');

	if (!slash || strchr(slash + 1, '/')) {
		snprintf(err, errlen, "expected COURSE/EXERCISE, got '%.80s'", s);
		return -EINVAL;
	}
	size_t cl = (size_t)(slash - s);
	if (!name_valid_n(s, cl) || !name_valid(slash + 1)) {
		snprintf(
			err, errlen,
			"invalid COURSE/EXERCISE '%.80s' (names are [A-Za-z0-9_.-]{1,64}, no '..')",
			s);
		return -EINVAL;
	}
	memcpy(course, s, cl);
	course[cl] = '\0';
	snprintf(exercise, GQ_NAME_MAX + 1, "%s", slash + 1);
	return 0;
}

/* getopt_long over argv[0..argc) (argv[0] is the subcommand name), silent on errors;
 * shortopts without the leading ':' (added here). Returns the option's val, -1 at the end,
 * or -EINVAL with "<cmd>: unknown option '--x'" / "<cmd>: option '--x' needs a value" in
 * err. Call cli_getopt_reset() before the first call of a parse. */
static void cli_getopt_reset(void)
{
	optind = 0; /* glibc: 0 re-initialises, including the permutation state */
	opterr = 0;
}

static int cli_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts,
                      char *err, size_t errlen)
{
	char opts[64];

	/* a leading ':' makes getopt tell a missing value (':') from an unknown option */
	snprintf(opts, sizeof opts, ":%s", shortopts);
	int c = getopt_long(argc, argv, opts, longopts, NULL);
	if (c != '?' && c != ':')
		return c;

	const char *arg = optind >= 1 && optind - 1 < argc ? argv[optind - 1] : "";
	char name[80];
	if (optopt > 0 && optopt < 128 && strncmp(arg, "--", 2) != 0)
		snprintf(name, sizeof name, "-%c", optopt);
	else
		snprintf(name, sizeof name, "%.*s", (int)strcspn(arg, "="), arg);
	if (c == ':')
		snprintf(err, errlen, "%s: option '%s' needs a value", argv[0], name);
	else
		snprintf(err, errlen, "%s: unknown option '%s' (try: gradeq %s --help)", argv[0],
		         name, argv[0]);
	return -EINVAL;
}

/* Parses an integer option value into [min,max]. 0 or -EINVAL with err. */
static int cli_parse_long(const char *cmd, const char *opt, const char *val, long long min,
                          long long max, long long *out, char *err, size_t errlen)
{
	if (util_parse_ll(val, min, max, out) != 0) {
		snprintf(err, errlen, "%s: %s must be an integer in [%lld, %lld], not '%.40s'", cmd,
		         opt, min, max, val);
		return -EINVAL;
	}
	return 0;
}

struct cli_opt cli_opt_flag(const char *name, bool *dst)
{
	return (struct cli_opt){ .name = name, .kind = CLI_OPT_FLAG, .dst = dst };
}

struct cli_opt cli_opt_str(const char *name, const char **dst)
{
	return (struct cli_opt){ .name = name, .kind = CLI_OPT_STR, .dst = dst };
}

struct cli_opt cli_opt_long(const char *name, long long *dst, long long min, long long max)
{
	return (struct cli_opt){
		.name = name, .kind = CLI_OPT_LONG, .dst = dst, .min = min, .max = max
	};
}

struct cli_opt cli_opt_func(const char *name, void *dst,
                            int (*parse)(const char *val, void *dst, char *err, size_t errlen))
{
	return (struct cli_opt){ .name = name, .kind = CLI_OPT_FUNC, .dst = dst, .parse = parse };
}

/* Takes the value val (NULL for a flag) of option o of subcommand cmd. */
static int cli_opt_take(const char *cmd, const struct cli_opt *o, const char *val, char *err,
                        size_t errlen)
{
	char opt[80];

	switch (o->kind) {
	case CLI_OPT_FLAG:
		*(bool *)o->dst = true;
		return 0;
	case CLI_OPT_STR:
		*(const char **)o->dst = val;
		return 0;
	case CLI_OPT_LONG:
		snprintf(opt, sizeof opt, "--%s", o->name);
		return cli_parse_long(cmd, opt, val, o->min, o->max, o->dst, err, errlen);
	case CLI_OPT_FUNC:
		return o->parse(val, o->dst, err, errlen) != 0 ? -EINVAL : 0;
	}
	return -EINVAL;
}

int cli_parse_opts(int argc, char **argv, const struct cli_opt *opts, char *err, size_t errlen)
{
	struct option longopts[CLI_OPTS_MAX + 2]; /* opts, --help, the end */
	size_t n;
	int c;

	for (n = 0; opts[n].name; n++) {
		if (n == CLI_OPTS_MAX) {
			/* a bug in a table, not a user's mistake: longopts would overflow */
			snprintf(err, errlen, "%s: more than %d options", argv[0], CLI_OPTS_MAX);
			return -EINVAL;
		}
		longopts[n] = (struct option){ opts[n].name,
			                       opts[n].kind == CLI_OPT_FLAG ? no_argument
			                                                    : required_argument,
			                       NULL, CLI_OPT_VAL0 + (int)n };
	}
	longopts[n++] = (struct option){ "help", no_argument, NULL, 'h' };
	longopts[n] = (struct option){ NULL, 0, NULL, 0 };

	cli_getopt_reset();
	while ((c = cli_getopt(argc, argv, "h", longopts, err, errlen)) != -1) {
		if (c == 'h')
			return CLI_HELP;
		if (c < CLI_OPT_VAL0)
			return -EINVAL;
		if (cli_opt_take(argv[0], &opts[c - CLI_OPT_VAL0], optarg, err, errlen) != 0)
			return -EINVAL;
	}
	return 0;
}

int cli_expect_args(int argc, char **argv, int want, const char *usage, char *err, size_t errlen)
{
	const char *cmd = argv[0];
	int have = argc - optind;

	if (have == want)
		return 0;
	if (have < want)
		snprintf(err, errlen, "%s: missing arguments (usage: gradeq %s %s)", cmd, cmd,
		         usage);
	else
		snprintf(err, errlen, "%s: unexpected argument '%.80s' (usage: gradeq %s %s)", cmd,
		         argv[optind + want], cmd, usage);
	return -EINVAL;
}

int cli_expect_target(int argc, char **argv, int want, const char *usage,
                      char course[GQ_NAME_MAX + 1], char exercise[GQ_NAME_MAX + 1], char *err,
                      size_t errlen)
{
	char e[256];

	if (cli_expect_args(argc, argv, want, usage, err, errlen) != 0)
		return -EINVAL;
	if (cli_parse_target(argv[optind], course, exercise, e, sizeof e) != 0) {
		snprintf(err, errlen, "%s: %s", argv[0], e);
		return -EINVAL;
	}
	return 0;
}

int cli_start(int parse_rc, const char *help, struct cli_env *env, char *err, size_t errlen)
{
	if (parse_rc == CLI_HELP) {
		fputs(help, stdout);
		return 0;
	}
	if (parse_rc != 0) {
		cli_fail("%s", err);
		return CLI_EXIT_USAGE;
	}
	if (env && cli_env_load(env, true, err, errlen) != 0) {
		cli_fail("%s", err);
		return CLI_EXIT_FAIL;
	}
	return CLI_RUN;
}

/* Prints s on one line, inert (text_inert: no control character, escape sequence or
 * bidi override of a submission reaches the terminal), cut at max bytes on a character
 * boundary. */
void cli_print_inert(FILE *out, const char *s, size_t max)
{
	char *clean = text_inert(s, strlen(s), true);
	if (!clean) {
		fputs("?", out);
		return;
	}
	size_t n = strlen(clean);
	if (n > max) {
		while (max > 0 && ((unsigned char)clean[max] & 0xC0) == 0x80)
			max--;
		clean[max] = '\0';
	}
	fputs(clean, out);
	if (n > max)
		fputs("...", out);
	free(clean);
}
