/* cli_status.h - `gradeq status`'s text, apart from the call so unit tests can check it. */
#pragma once
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

/* Prints the dispatcher's GET /v1/status answer st for a person: the nodes with the age
 * of each heartbeat, the submission counts, the queue with the age of its measurement
 * (both taken against now_ms, ms since the epoch) and the submissions in error. Every
 * string of the answer is printed inert (no control character or escape sequence). */
void cli_status_print(const json_t *st, int64_t now_ms, FILE *out);
