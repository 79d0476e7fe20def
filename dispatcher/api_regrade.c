/* api_regrade.c - POST /v1/courses/{c}/exercises/{e}/regrade: re-run every student's
 * latest submission against the exercise as published now.
 *
 * Per submission, as for a submit: the job (attempt = stored attempt + 1) is published
 * first, and only after the broker's ack is the record moved to that attempt and back
 * to "queued" - by a script that does so only if the stored attempt is older, so a node
 * that already picked the job up keeps what it wrote. A crash mid-way leaves either no
 * job (the record is untouched: run regrade again) or a job the node grades; never a
 * record that says "queued" for a job that does not exist. At most REGRADE_WINDOW
 * submissions are in flight, so a large course does not load every source at once. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "disp.h"
#include "http.h"
#include "jobq.h"
#include "log.h"
#include "names.h"
#include "redis_async.h"
#include "util.h"

#define REGRADE_WINDOW 16
#define QUEUE_DOWN "grading queue unavailable"
#define REDIS_DOWN "Redis unavailable"

/* KEYS: sub now; ARGV: attempt tests_hash. The record's status moves to "queued", and
 * gq:now (records by present status) with it. */
const char api_regrade_bump_lua[] =
	"local cur=tonumber(redis.call('HGET',KEYS[1],'attempt') or '0') or 0\n"
	"if cur<tonumber(ARGV[1]) then\n"
	" local old=redis.call('HGET',KEYS[1],'status')\n"
	" redis.call('HSET',KEYS[1],'attempt',ARGV[1],'status','queued','tests_hash',ARGV[2])\n"
	" if old~='queued' then\n"
	"  if old then redis.call('HINCRBY',KEYS[2],old,-1) end\n"
	"  redis.call('HINCRBY',KEYS[2],'queued',1)\n"
	" end\n"
	" return 1\n"
	"end\n"
	"return 0\n";

struct regrade_item {
	char student[GQ_NAME_MAX + 1];
	char id[GQ_SUBID_LEN + 1];
};

struct regrade_op {
	struct hreq *h;
	struct api_exercise ex;
	struct regrade_item *items;
	size_t n, next, inflight, queued, failed, skipped;
};

struct regrade_one {
	struct regrade_op *rg;
	const struct regrade_item *it;
	unsigned attempt;
};

static void regrade_pump(struct regrade_op *rg);

static void regrade_one_end(struct regrade_one *one, int outcome)
{
	struct regrade_op *rg = one->rg;
	if (outcome > 0)
		rg->queued++;
	else if (outcome < 0)
		rg->failed++;
	else
		rg->skipped++;
	rg->inflight--;
	free(one);
	regrade_pump(rg);
}

static void regrade_on_bump(void *opaque, const redisReply *r)
{
	struct regrade_one *one = opaque;
	if (!rds_reply_ok(r)) /* the job is queued and will be graded; the record lags */
		LOG_WARN("regrade %s: job queued, record not updated (%s)", one->it->id,
		         r ? r->str : "Redis connection lost");
	regrade_one_end(one, 1);
}

static void regrade_on_ack(void *opaque, int err, bool retriable, const char *reason)
{
	struct regrade_one *one = opaque;
	struct regrade_op *rg = one->rg;
	if (err != 0) {
		LOG_WARN("regrade %s: the broker did not take the job (%s)", one->it->id,
		         reason ? reason : "unknown");
		regrade_one_end(one, -1);
		return;
	}
	struct rds_args a;
	rds_args_init(&a, "EVAL");
	rds_args_str(&a, api_regrade_bump_lua);
	rds_args_str(&a, "2");
	rds_args_fmt(&a, "gq:sub:%s", one->it->id);
	rds_args_str(&a, "gq:now");
	rds_args_ll(&a, one->attempt);
	rds_args_str(&a, rg->ex.tests_hash);
	if (rds_cmd(rg->h->d->rds, &a, regrade_on_bump, one) < 0)
		regrade_on_bump(one, NULL);
}

static void regrade_on_fetch(void *opaque, const redisReply *r)
{
	struct regrade_one *one = opaque;
	struct regrade_op *rg = one->rg;
	struct hreq *h = rg->h;
	if (!rds_reply_ok(r) || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[0]->type != REDIS_REPLY_ARRAY || r->element[0]->elements != 2) {
		regrade_one_end(one, -1);
		return;
	}
	const redisReply *src = r->element[1];
	char buf[32];
	long long attempt, submitted_ms;
	if (!api_reply_str(r->element[0]->element[0], buf, sizeof buf) ||
	    util_parse_ll(buf, 1, 1000000, &attempt) < 0 ||
	    !api_reply_str(r->element[0]->element[1], buf, sizeof buf) ||
	    util_parse_ll(buf, 0, 1LL << 62, &submitted_ms) < 0 ||
	    src->type != REDIS_REPLY_STRING) {
		LOG_WARN("regrade %s: record or source missing, skipped", one->it->id);
		regrade_one_end(one, 0);
		return;
	}
	one->attempt = (unsigned)attempt + 1;
	struct job_spec js = {
		.id = one->it->id,
		.course = h->course,
		.exercise = h->exercise,
		.student = one->it->student,
		.attempt = one->attempt,
		.tests_hash = rg->ex.tests_hash,
		.timeout_s = rg->ex.timeout_s,
		.memory_mb = rg->ex.memory_mb,
		.max_points = rg->ex.max_points,
		.safety_check = rg->ex.safety_check,
		.submitted_ms = submitted_ms,
	};
	util_sha256(src->str, (size_t)src->len, js.source_sha256);
	if (jobq_publish(h->d->jobq, &js, regrade_on_ack, one) < 0)
		regrade_one_end(one, -1);
}

static void regrade_start_one(struct regrade_op *rg, const struct regrade_item *it)
{
	struct regrade_one *one = calloc(1, sizeof *one);
	rg->inflight++;
	if (one == NULL) {
		rg->inflight--;
		rg->failed++;
		return;
	}
	one->rg = rg;
	one->it = it;
	struct rds_args c[2];
	rds_args_init(&c[0], "HMGET");
	rds_args_fmt(&c[0], "gq:sub:%s", it->id);
	rds_args_str(&c[0], "attempt");
	rds_args_str(&c[0], "submitted_ms");
	rds_args_init(&c[1], "GET");
	rds_args_fmt(&c[1], "gq:src:%s", it->id);
	if (rds_tx(rg->h->d->rds, c, 2, regrade_on_fetch, one) < 0) {
		rg->inflight--;
		rg->failed++;
		free(one);
	}
}

static void regrade_pump(struct regrade_op *rg)
{
	/* A failure stops new work: the queue or Redis is down, the rest would fail too. */
	while (rg->inflight < REGRADE_WINDOW && rg->next < rg->n && rg->failed == 0 &&
	       !hreq_answered(rg->h))
		regrade_start_one(rg, &rg->items[rg->next++]);
	if (rg->inflight > 0)
		return;
	struct hreq *h = rg->h;
	if (rg->failed == 0) {
		LOG_INFO("regrade %s/%s: %zu queued, %zu skipped", h->course, h->exercise,
		         rg->queued, rg->skipped);
		http_reply_json(h, 202, json_pack("{s:I}", "count", (json_int_t)rg->queued));
	} else {
		LOG_WARN("regrade %s/%s: %zu queued of %zu, stopped on a failure", h->course,
		         h->exercise, rg->queued, rg->n);
		char msg[160];
		snprintf(msg, sizeof msg,
		         "grading queue or Redis unavailable (%zu of %zu re-queued); run regrade "
		         "again",
		         rg->queued, rg->n);
		http_reply_unavailable(h, msg);
	}
	free(rg->items);
	free(rg);
	hreq_unref(h);
}

static void regrade_on_list(void *opaque, const redisReply *r)
{
	struct regrade_op *rg = opaque;
	struct hreq *h = rg->h;
	if (!rds_reply_ok(r) || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[1]->type != REDIS_REPLY_ARRAY) {
		http_reply_unavailable(h, REDIS_DOWN);
		goto fail;
	}
	int rc = api_exercise_parse(r->element[0], &rg->ex);
	if (rc == -ENOENT) {
		http_reply_error(h, 404, "unknown exercise %s/%s", h->course, h->exercise);
		goto fail;
	}
	if (rc < 0) {
		http_reply_error(h, 500,
		                 "internal error: exercise %s/%s is malformed; republish it",
		                 h->course, h->exercise);
		goto fail;
	}
	const redisReply *latest = r->element[1];
	rg->items = calloc(latest->elements / 2 + 1, sizeof *rg->items);
	if (rg->items == NULL) {
		http_reply_error(h, 500, "internal error: out of memory");
		goto fail;
	}
	for (size_t i = 0; i + 1 < latest->elements; i += 2) {
		struct regrade_item *it = &rg->items[rg->n];
		if (!api_reply_str(latest->element[i], it->student, sizeof it->student) ||
		    !api_reply_str(latest->element[i + 1], it->id, sizeof it->id) ||
		    !name_valid(it->student) || !subid_valid(it->id)) {
			LOG_WARN("gq:latest:%s:%s: ignoring a malformed entry", h->course,
			         h->exercise);
			continue;
		}
		rg->n++;
	}
	if (rg->n > 0 && !jobq_up(h->d->jobq)) {
		http_reply_unavailable(h, QUEUE_DOWN);
		goto fail;
	}
	regrade_pump(rg); /* answers and frees when done */
	return;
fail:
	free(rg->items);
	free(rg);
	hreq_unref(h);
}

void api_regrade(struct hreq *h)
{
	struct regrade_op *rg = calloc(1, sizeof *rg);
	if (rg == NULL) {
		http_reply_error(h, 500, "internal error: out of memory");
		return;
	}
	rg->h = h;
	hreq_ref(h);
	struct rds_args c[2];
	rds_args_init(&c[0], "HGETALL");
	rds_args_fmt(&c[0], "gq:ex:%s:%s", h->course, h->exercise);
	rds_args_init(&c[1], "HGETALL");
	rds_args_fmt(&c[1], "gq:latest:%s:%s", h->course, h->exercise);
	if (rds_tx(h->d->rds, c, 2, regrade_on_list, rg) < 0) {
		http_reply_unavailable(h, REDIS_DOWN);
		free(rg);
		hreq_unref(h);
	}
}
