/* cli_gradebook.h - turning the dispatcher's gradebook answer
 * {"course","exercises":[...],"students":[{"student","scores":{"ex":7.5},"total"}]}
 * into the CSV of docs/exercises.md ("Gradebook") or a table. Both sort exercises and students by
 * name themselves, leave a cell empty where a student has no graded submission, print numbers with
 * score_format() and compute total as the sum of the row. */
#pragma once
#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

/* CSV: header "student,<exercise...>,total", one row per student. Returns 0, or -EINVAL
 * with err when gb is not a gradebook object. */
int cli_gradebook_csv(const json_t *gb, FILE *out, char *err, size_t errlen);
/* The same rows as an aligned table for a person ("-" for an empty cell). */
int cli_gradebook_table(const json_t *gb, FILE *out, char *err, size_t errlen);
