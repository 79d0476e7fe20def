/* cli_result.h - showing a submission record (GET /v1/submissions/{id}) and waiting for
 * it to finish; used by `gradeq result` and `gradeq submit --wait`. */
#pragma once
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "cli.h"

/* Prints rec for a person: identity, status, verdict, score/max, one line per test
 * (✓/✗ name points/max message), and the error reason when status is error. */
void cli_result_print(const json_t *rec, FILE *out);

/* true when rec's status is final ("done" or "error"). */
bool cli_result_finished(const json_t *rec);

/* Polls the record of id until it is finished, backing off from 100 ms to 1 s, for at
 * most timeout_s seconds. Returns the record (caller json_decref) or NULL with err
 * (timeout, dispatcher unreachable, HTTP error). */
json_t *cli_result_wait(const struct cli_env *env, const char *id, long long timeout_s, char *err,
                        size_t errlen);

/* Exit status for a fetched record after printing it: 0 unless status is error, then
 * a one-line reason is printed on stderr and CLI_EXIT_FAIL returned. */
int cli_result_exit(const json_t *rec);
