/* cli_call.c - a subcommand's request to the dispatcher, its failure and its answer shown. */
#include "cli_call.h"

#include <stdarg.h>

#include "cli_http.h"

/* cli_call_json() with the label's arguments in ap. */
static json_t *call_json(const struct cli_env *env, const char *method, const char *path,
                         const char *content_type, const void *body, size_t len, long timeout_s,
                         const char *label, va_list ap) __attribute__((format(printf, 8, 0)));
static json_t *call_json(const struct cli_env *env, const char *method, const char *path,
                         const char *content_type, const void *body, size_t len, long timeout_s,
                         const char *label, va_list ap)
{
	char err[1024], what[512];
	json_t *j = cli_http_json(env, method, path, content_type, body, len, timeout_s, err,
	                          sizeof err);

	if (!j) {
		vsnprintf(what, sizeof what, label, ap);
		cli_fail("%s: %s", what, err);
	}
	return j;
}

json_t *cli_call_json(const struct cli_env *env, const char *method, const char *path,
                      const char *content_type, const void *body, size_t len, long timeout_s,
                      const char *label, ...)
{
	va_list ap;

	va_start(ap, label);
	json_t *j = call_json(env, method, path, content_type, body, len, timeout_s, label, ap);
	va_end(ap);
	return j;
}

void cli_call_print_json(const json_t *j)
{
	json_dumpf(j, stdout, JSON_COMPACT);
	fputc('\n', stdout);
}

int cli_call_show(const struct cli_env *env, const char *path, long timeout_s, bool json,
                  void (*print)(const json_t *, FILE *), const char *label, ...)
{
	va_list ap;

	va_start(ap, label);
	json_t *j = call_json(env, "GET", path, NULL, NULL, 0, timeout_s, label, ap);
	va_end(ap);
	if (!j)
		return CLI_EXIT_FAIL;
	if (json)
		cli_call_print_json(j);
	else
		print(j, stdout);
	json_decref(j);
	return 0;
}
