/* records.h - the harness's result stream (docs/harness-protocol.md): framing, bounded
 * decoding and checking of untrusted bytes, and the scoring of what was reported.
 * The writer shares its process with the submission, so every cap is enforced before
 * anything is decoded or allocated, and any breach is final: the stream is "violated"
 * (the runner then kills the job; verdict crashed). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runner.h"

#define REC_PROTOCOL 1
#define REC_FRAME_MAX (64 * 1024)        /* bytes of one record */
#define REC_STREAM_MAX (2 * 1024 * 1024) /* bytes of the whole stream */
#define REC_RECORDS_MAX 20000
#define REC_TESTS_MAX 5000
#define REC_NAME_MAX 1024 /* bytes of a test's nodeid */
#define REC_MSG_MAX 4096  /* bytes of a message, a reason or an exception type */
#define REC_DEPTH_MAX 4   /* {collected: [[name, weight]]} */

struct rec_stream;
struct pub_list;

/* What has been seen so far; times are the now_ms given to rec_feed() when the record
 * arrived (0: not yet). */
struct rec_state {
	bool hello, imported, ended, import_error, rejected;
	int hello_version; /* "v" of hello */
	bool memory_error; /* a MemoryError was reported (import or test) */
	int64_t t_hello, t_imported, t_end;
	const char *detail; /* import error message or rejection reason; "" */
	size_t ncollected, nreported;
	/* with a published list: reports of tests it does not list (ignored) */
	size_t nunlisted;
	/* what happened to the student process during some test (two-process runtime):
	 * a call hung, the process was killed by the memory limit, printed past the cap,
	 * or died */
	bool ev_timeout, ev_memory, ev_output, ev_crashed;
	size_t ntimeouts; /* tests that failed because a call hung */
};

struct rec_stream *rec_new(void); /* NULL on ENOMEM */
void rec_free(struct rec_stream *s);
/* Consumes bytes read from the result pipe. 0, or -EBADMSG once the stream is violated
 * (then and later: nothing more is read). */
int rec_feed(struct rec_stream *s, const char *buf, size_t len, int64_t now_ms);
/* Scores this stream against a published test list (copied; call before rec_feed): the
 * stream's own "collected" records are then ignored, a test report of an id the list
 * does not have is ignored and counted (nunlisted), and every listed test that is never
 * reported scores 0. Returns 0 or -ENOMEM. */
int rec_set_published(struct rec_stream *s, const struct pub_list *p);
/* The tests the stream collected (ids and weights, in order): what a collect run
 * reports. The arrays point into s (valid until rec_free). */
size_t rec_collected(const struct rec_stream *s, const char **names, double *weights, size_t max);
/* Why the stream was violated, or NULL. */
const char *rec_violation(const struct rec_stream *s);
const struct rec_state *rec_state(const struct rec_stream *s);

struct rec_score {
	struct run_test *tests; /* owned; in collected order */
	size_t ntests;
	double score, max_score; /* rounded to two decimals */
};

/* Scores the collected tests: weights scaled by score_scale(max_points, total weight);
 * a passed test earns its scaled weight. zero: every test earns 0 (import_error,
 * rejected). Tests never reported get the message "not run: <verdict>". Returns 0 or
 * -ENOMEM. */
int rec_score(const struct rec_stream *s, double max_points, bool zero, const char *verdict,
              struct rec_score *out);
void rec_score_free(struct rec_score *sc);

/* Copies len bytes into a NUL-terminated string that is valid UTF-8 and inert on a
 * terminal or a page: C0 controls (but \n), DEL, C1 controls (U+0080-U+009F),
 * bidirectional overrides and isolates (U+202A-U+202E, U+2066-U+2069, U+200E/F,
 * U+061C) and the line/paragraph separators U+2028/U+2029 become a space; invalid bytes
 * become '?'. What reaches JSON, Redis and a terminal. NULL on ENOMEM. */
char *rec_clean_string(const char *s, size_t len);
/* The same for one line (a test name): \n becomes a space too. */
char *rec_clean_line(const char *s, size_t len);
