/* localgrade.h - grading without a cluster, with the node's runner: what
 * gradeq-grade-local (one submission) and `gradeq grade` (a folder) share with each other
 * and with the node. An exercise directory goes through the same bundle code as a
 * published exercise (packed, parsed, its exercise.toml read, extracted), the runner gets
 * the node's documented defaults, and a run_spec is built from exercise.toml the way the
 * dispatcher builds a job. */
#pragma once
#include <stddef.h>
#include <stdio.h>

#include "bundle.h"
#include "runner.h"

/* Packs dir exactly as `gradeq publish` does, reads its exercise.toml into *meta and, when
 * extract_to is not NULL, extracts tests/ and files/ there (an existing empty directory),
 * as a node does with a published bundle. Returns 0 or a negative errno with err. */
int lg_exercise_load(const char *dir, struct exercise_meta *meta, const char *extract_to, char *err,
                     size_t errlen);

/* The node's defaults (docs/config.md, gradeq-node) in *cfg, fields set by name; the
 * caller sets venv, harness, work_root, cgroup_name and use_bubblewrap after. */
void lg_runner_defaults(struct runner_config *cfg);

/* A run of source (not copied: runner_start copies it) against bundle_dir under exercise
 * meta's limits, as a node would run the published exercise's job. */
void lg_run_spec(struct run_spec *spec, const struct exercise_meta *meta, const char *name,
                 int slot, const char *bundle_dir, const char *source, size_t source_len);

/* The student's feedback as text: verdict, score, one line per test (or the error). */
void lg_write_feedback(FILE *f, const struct run_outcome *o);
