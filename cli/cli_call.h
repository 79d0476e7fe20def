/* cli_call.h - a subcommand's request to the dispatcher and how its answer is shown: the
 * failure as one "gradeq: <label>: <reason>" line on stderr, the answer as one compact
 * JSON line (--json) or through the subcommand's printer. Over cli_http.h. */
#pragma once
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "cli.h"

/* cli_http_json() (method, path, body as there) that prints a failure: label is a printf
 * format naming the request, e.g. "publish %s/%s". Returns the answer (caller
 * json_decref) or NULL once the reason is printed. */
json_t *cli_call_json(const struct cli_env *env, const char *method, const char *path,
                      const char *content_type, const void *body, size_t len, long timeout_s,
                      const char *label, ...) __attribute__((format(printf, 8, 9)));

/* Prints j on one line of stdout as compact JSON. */
void cli_call_print_json(const json_t *j);

/* GETs path and shows the answer: compact JSON when json, else print(answer, stdout);
 * a failure as cli_call_json(). Returns the exit status (0 or CLI_EXIT_FAIL). */
int cli_call_show(const struct cli_env *env, const char *path, long timeout_s, bool json,
                  void (*print)(const json_t *, FILE *), const char *label, ...)
	__attribute__((format(printf, 6, 7)));
