/* api_publish.c - PUT /v1/courses/{c}/exercises/{e}: store an exercise bundle.
 * The bundle is validated completely (paths, size, exercise.toml, at least one test
 * file) before anything is written; then one MULTI/EXEC stores it content-addressed
 * (immutable, SET NX) and points gq:ex:{c}:{e} at it, so a reader never sees an
 * exercise whose bundle is missing. */
#include <stdio.h>
#include <stdlib.h>

#include "api.h"
#include "bundle.h"
#include "disp.h"
#include "http.h"
#include "log.h"
#include "redis_async.h"
#include "score.h"
#include "util.h"

struct publish_op {
	struct hreq *h;
	char tests_hash[65];
	size_t tests;
};

static void publish_on_exec(void *opaque, const redisReply *r)
{
	struct publish_op *op = opaque;
	struct hreq *h = op->h;
	if (!rds_reply_ok(r) || r->type != REDIS_REPLY_ARRAY) {
		if (r)
			LOG_ERR("publish %s/%s: redis: %s", h->course, h->exercise,
			        r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
		http_reply_unavailable(h, "Redis unavailable; the exercise was not published");
	} else {
		for (size_t i = 0; i < r->elements; i++)
			if (r->element[i]->type == REDIS_REPLY_ERROR)
				LOG_ERR("publish %s/%s: redis: %s", h->course, h->exercise,
				        r->element[i]->str);
		LOG_INFO("published %s/%s tests_hash=%s tests=%zu", h->course, h->exercise,
		         op->tests_hash, op->tests);
		http_reply_json(h, 201,
		                json_pack("{s:s,s:s,s:s,s:I}", "course", h->course, "exercise",
		                          h->exercise, "tests_hash", op->tests_hash, "tests",
		                          (json_int_t)op->tests));
	}
	hreq_unref(h);
	free(op);
}

void api_publish(struct hreq *h)
{
	char err[256];
	if (h->body_len == 0) {
		http_reply_error(h, 400, "empty body: send the bundle (gradeq publish packs it)");
		return;
	}
	struct bundle *b = bundle_parse(h->body, h->body_len, err, sizeof err);
	if (b == NULL) {
		http_reply_error(h, 400, "bad bundle: %s", err);
		return;
	}
	struct exercise_meta meta;
	int rc = bundle_meta(b, &meta, err, sizeof err);
	size_t tests = bundle_test_files(b) + (bundle_is_mograder(b) ? 1 : 0);
	bundle_free(b);
	if (rc < 0) {
		http_reply_error(h, 400, "%s", err);
		return;
	}
	if (tests == 0) {
		http_reply_error(h, 400,
		                 "bundle has no test files (tests/test_*.py or tests/*_test.py)");
		return;
	}
	if (!rds_up(h->d->rds)) {
		http_reply_unavailable(h, "Redis unavailable; the exercise was not published");
		return;
	}
	struct publish_op *op = calloc(1, sizeof *op);
	if (op == NULL) {
		http_reply_error(h, 500, "internal error: out of memory");
		return;
	}
	op->h = h;
	op->tests = tests;
	util_sha256_hex(h->body, h->body_len, op->tests_hash);

	char maxp[32];
	score_format(meta.max_points, maxp, sizeof maxp);
	struct rds_args c[4];
	rds_args_init(&c[0], "SET");
	rds_args_fmt(&c[0], "gq:bundle:%s", op->tests_hash);
	rds_args_bin(&c[0], h->body, h->body_len);
	rds_args_str(&c[0], "NX");
	rds_args_init(&c[1], "HSET");
	rds_args_fmt(&c[1], "gq:ex:%s:%s", h->course, h->exercise);
	rds_args_str(&c[1], "tests_hash");
	rds_args_str(&c[1], op->tests_hash);
	rds_args_str(&c[1], "max_points");
	rds_args_str(&c[1], maxp);
	rds_args_str(&c[1], "timeout_s");
	rds_args_ll(&c[1], meta.timeout_s);
	rds_args_str(&c[1], "memory_mb");
	rds_args_ll(&c[1], meta.memory_mb);
	rds_args_str(&c[1], "safety_check");
	rds_args_str(&c[1], meta.safety_check ? "1" : "0");
	rds_args_str(&c[1], "title");
	rds_args_str(&c[1], meta.title);
	rds_args_str(&c[1], "published_ms");
	rds_args_ll(&c[1], util_now_ms());
	rds_args_str(&c[1], "tests");
	rds_args_ll(&c[1], (long long)tests);
	rds_args_init(&c[2], "SADD");
	rds_args_fmt(&c[2], "gq:course:%s:exercises", h->course);
	rds_args_str(&c[2], h->exercise);
	rds_args_init(&c[3], "SADD");
	rds_args_str(&c[3], "gq:courses");
	rds_args_str(&c[3], h->course);
	hreq_ref(h);
	rc = rds_tx(h->d->rds, c, 4, publish_on_exec, op);
	if (rc < 0) {
		hreq_unref(h);
		free(op);
		http_reply_unavailable(h, "Redis unavailable; the exercise was not published");
	}
}
