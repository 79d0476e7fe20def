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

/* The two directories of a local run, fresh under /tmp: bundle, where the exercise is
 * extracted (0755: the sandbox uids read it), and work, the root of the job directories
 * (0711). Named /tmp/gradeq-TAG-exercise.XXXXXX and /tmp/gradeq-TAG.XXXXXX. */
struct lg_dirs {
	char bundle[96];
	char work[96];
};

/* Makes both (tag: a short word such as "grade"). Returns 0, or a negative errno with err
 * and nothing left behind. */
int lg_dirs_make(struct lg_dirs *d, const char *tag, char *err, size_t errlen);

/* Removes what lg_dirs_make made (the bundle with its contents, the work root if empty);
 * a zeroed *d is left alone. */
void lg_dirs_remove(struct lg_dirs *d);

/* The node's defaults (docs/config.md, gradeq-node) in *cfg, fields set by name; the
 * caller sets venv, harness, work_root, cgroup_name and use_bubblewrap after. */
void lg_runner_defaults(struct runner_config *cfg);

/* A run of source (not copied: runner_start copies it) against bundle_dir under exercise
 * meta's limits, as a node would run the published exercise's job. */
void lg_run_spec(struct run_spec *spec, const struct exercise_meta *meta, const char *name,
                 int slot, const char *bundle_dir, const char *source, size_t source_len);

/* The student's feedback as text: verdict, score, one line per test (or the error). */
void lg_write_feedback(FILE *f, const struct run_outcome *o);
