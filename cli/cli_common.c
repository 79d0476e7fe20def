/* cli_common.c - environment, option parsing and targets shared by the subcommands. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "token.h"
#include "util.h"

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

void cli_getopt_reset(void)
{
	optind = 0; /* glibc: 0 re-initialises, including the permutation state */
	opterr = 0;
}

int cli_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts,
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

int cli_parse_long(const char *cmd, const char *opt, const char *val, long long min, long long max,
                   long long *out, char *err, size_t errlen)
{
	if (util_parse_ll(val, min, max, out) != 0) {
		snprintf(err, errlen, "%s: %s must be an integer in [%lld, %lld], not '%.40s'", cmd,
		         opt, min, max, val);
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
