/* jobq.h - the dispatcher's side of the job queue: a broker producer wired into the
 * event loop (broker_fd readable event + a 50 ms timer, both calling broker_poll) and
 * the encoding of a GradingJob. Ack callbacks run on the loop thread. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker.h"

struct event_base;
struct disp_config;
struct jobq;

/* What a GradingJob is built from (every string a validated name / id / hash). */
struct job_spec {
	const char *id, *course, *exercise, *student;
	unsigned attempt;
	unsigned char source_sha256[32];
	const char *tests_hash;
	unsigned timeout_s, memory_mb; /* 0 = node default */
	double max_points;
	bool safety_check;
	int64_t submitted_ms;
};

/* Returns NULL with err on failure. */
struct jobq *jobq_new(struct event_base *base, const struct disp_config *cfg, char *err,
                      size_t errlen);
/* Flushes what is queued for at most timeout_ms (acks run from here), then frees.
 * jobq_free(NULL) is a no-op. */
void jobq_free(struct jobq *q, int timeout_ms);
bool jobq_up(const struct jobq *q);
/* Encodes and publishes the job keyed by student (one partition per student keeps a
 * student's submissions in order). Returns 0 (cb called once, later, from the loop),
 * -EAGAIN (local queue full), -ENOMEM, or the broker's error; cb is not called then. */
int jobq_publish(struct jobq *q, const struct job_spec *s, broker_ack_cb cb, void *opaque);
