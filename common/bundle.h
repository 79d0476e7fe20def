/* bundle.h - the exercise bundle as it travels: a msgpack map {relative path: bin}.
 * Paths: "exercise.toml", "release.py", "tests/..." and "files/..." only; each path
 * component a name of [A-Za-z0-9_.-] (no "..", no leading "/"); at most
 * GQ_BUNDLE_MAX_FILES files and GQ_BUNDLE_MAX_BYTES bytes. The content hash of a bundle
 * is the sha256 of its encoded bytes. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#define GQ_BUNDLE_MAX_FILES 256
#define GQ_BUNDLE_MAX_BYTES (16 * 1024 * 1024)
#define GQ_BUNDLE_PATH_MAX 200
/* A mograder exercise: its source notebook, in place of test files (docs/exercises.md) */
#define GQ_BUNDLE_MOG_SOURCE "tests/mograder_source.py"
#define GQ_MOG_MARKS_MARKER "# === MOGRADER: MARKS ==="

struct bundle_file {
	char path[GQ_BUNDLE_PATH_MAX + 1];
	const char *data; /* points into the bundle's buffer */
	size_t len;
};

struct bundle; /* opaque: owns a copy of the encoded bytes and the decoded index */

/* Exercise settings from exercise.toml (absent keys keep these defaults). */
struct exercise_meta {
	double max_points;   /* 0 = weights are points */
	long long timeout_s; /* 0 = node default */
	long long memory_mb; /* 0 = node default */
	bool safety_check;
	char title[128];
	/* isolation = "in-process": the submission is imported into the tests process (for
	 * tests that must introspect its module); forgeable, recorded with every result.
	 * Default "two-process". */
	bool in_process;
	long long call_timeout_s; /* wall clock of one call into the student's code; 0 = a
	                             default derived from timeout_s */
	bool mograder;            /* kind = "mograder" (or the bundle holds GQ_BUNDLE_MOG_SOURCE) */
};

bool bundle_path_valid(const char *path);

/* Packs directory dir (exercise.toml, release.py, tests/, files/) into a malloc'd
 * msgpack buffer, paths sorted so that the same directory gives the same hash.
 * A directory without tests/ whose one top-level *.py (other than release.py) holds
 * GQ_MOG_MARKS_MARKER is a mograder assignment: that notebook becomes
 * GQ_BUNDLE_MOG_SOURCE and every other top-level file or directory goes under files/.
 * Returns 0 or -errno with err. */
int bundle_pack_dir(const char *dir, char **out, size_t *outlen, char *err, size_t errlen);

/* Decodes and validates untrusted bytes (copied). Returns NULL with err on failure. */
struct bundle *bundle_parse(const char *buf, size_t len, char *err, size_t errlen);
void bundle_free(struct bundle *b);
size_t bundle_count(const struct bundle *b);
const struct bundle_file *bundle_file_at(const struct bundle *b, size_t i);
const struct bundle_file *bundle_find(const struct bundle *b, const char *path);
/* Whether the bundle is a mograder exercise (holds GQ_BUNDLE_MOG_SOURCE). */
bool bundle_is_mograder(const struct bundle *b);
/* Number of files under tests/ named test_*.py or *_test.py. */
size_t bundle_test_files(const struct bundle *b);
/* Parses exercise.toml if present (strict: unknown keys fail with exercise.toml:line).
 * Returns 0 or -EINVAL with err. */
int bundle_meta(const struct bundle *b, struct exercise_meta *meta, char *err, size_t errlen);
/* Parses the text of an exercise.toml (strict, as bundle_meta). */
int exercise_meta_parse(const char *data, size_t len, struct exercise_meta *meta, char *err,
                        size_t errlen);
/* Writes tests/, files/ and exercise.toml under dir (which must exist), refusing anything that
 * would leave it (O_NOFOLLOW, mkdirat). Returns 0 or -errno with err. */
int bundle_extract(const struct bundle *b, const char *dir, char *err, size_t errlen);
