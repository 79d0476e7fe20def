/* api_submit.c - POST /v1/courses/{c}/exercises/{e}/submissions[?student=U].
 *
 * Ordering, so that no crash or failure leaves an accepted-but-lost submission:
 *   1. checks (role, allowlist, exercise) - nothing written;
 *   2. SET gq:src:{id} with a 7-day TTL: the node needs the source before it can grade,
 *      but no reader of docs/redis.md looks at a source without a record, so an orphan
 *      (crash, or Kafka refusing the job) is invisible and expires by itself;
 *   3. publish the GradingJob and wait for the broker's ack (acks=all);
 *   4. only after the ack, one Lua script writes everything a reader sees: the record,
 *      latest, the per-student history, the counter, and PERSISTs the source; then 202.
 * A crash between 3 and 4 leaves a job in Kafka whose client got no 202: the node grades
 * it (it builds the record from the job's fields when none exists) and the client's
 * retry is just another submission - duplicated work, never a lost one.
 * A node can consume the job before step 4 runs, so step 4 never overwrites what a node
 * wrote: status and attempt are set with HSETNX, latest only moves forward (ids sort by
 * time). If the ack fails, step 4 never happens and the client gets 503. If Redis fails
 * step 4 (a restart), it is retried for a few seconds before the client gets 503. */
#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "auth.h"
#include "disp.h"
#include "http.h"
#include "jobq.h"
#include "log.h"
#include "names.h"
#include "redis_async.h"
#include "util.h"

#define SUBMIT_ORPHAN_TTL_S (7 * 24 * 3600)
/* Once Kafka has the job, writing the record is retried this often, 250 ms apart (a
 * Redis restart takes about a second): a 503 now would make the client submit again
 * while the job is graded anyway. */
#define SUBMIT_RECORD_TRIES 20
#define SUBMIT_RECORD_RETRY_MS 250
#define QUEUE_DOWN "grading queue unavailable"
#define REDIS_DOWN "Redis unavailable; the submission was not accepted"

/* KEYS: sub latest subs stats src now; ARGV: id course exercise student submitted_ms
 * tests_hash. Idempotent (it may run again after a lost reply): the counters move only
 * the first time. gq:now counts records by their present status (docs/redis.md): a
 * record that gets its status here is one more "queued". */
const char api_submit_record_lua[] =
	"local fresh=redis.call('HEXISTS',KEYS[1],'submitted_ms')==0\n"
	"redis.call('HSET',KEYS[1],'id',ARGV[1],'course',ARGV[2],'exercise',ARGV[3],"
	"'student',ARGV[4],'submitted_ms',ARGV[5])\n"
	"redis.call('HSETNX',KEYS[1],'tests_hash',ARGV[6])\n"
	"if redis.call('HSETNX',KEYS[1],'status','queued')==1 then\n"
	" redis.call('HINCRBY',KEYS[6],'queued',1)\n"
	"end\n"
	"redis.call('HSETNX',KEYS[1],'attempt','1')\n"
	"local cur=redis.call('HGET',KEYS[2],ARGV[4])\n"
	"if (not cur) or cur<ARGV[1] then redis.call('HSET',KEYS[2],ARGV[4],ARGV[1]) end\n"
	"redis.call('ZADD',KEYS[3],ARGV[5],ARGV[1])\n"
	"if fresh then redis.call('HINCRBY',KEYS[4],'submitted',1) end\n"
	"redis.call('PERSIST',KEYS[5])\n"
	"return 1\n";

struct submit_op {
	struct hreq *h; /* a reference is held until the op ends */
	char student[GQ_NAME_MAX + 1];
	char id[GQ_SUBID_LEN + 1];
	struct api_exercise ex;
	unsigned char sha[32];
	int64_t submitted_ms;
	struct event *retry; /* record write retries */
	int record_tries;
};

static void submit_end(struct submit_op *op)
{
	if (op->retry)
		event_free(op->retry);
	hreq_unref(op->h);
	free(op);
}

static void submit_write_record(struct submit_op *op);

static void submit_on_retry(evutil_socket_t fd, short what, void *arg)
{
	submit_write_record(arg);
}

static void submit_on_record(void *opaque, const redisReply *r)
{
	struct submit_op *op = opaque;
	struct hreq *h = op->h;
	if (rds_reply_ok(r)) {
		LOG_INFO("submission %s %s/%s student=%s queued", op->id, h->course, h->exercise,
		         op->student);
		http_reply_json(h, 202, json_pack("{s:s,s:s}", "id", op->id, "status", "queued"));
	} else if (++op->record_tries < SUBMIT_RECORD_TRIES && !hreq_answered(h) &&
	           (op->retry || (op->retry = evtimer_new(h->d->base, submit_on_retry, op)))) {
		if (op->record_tries == 1)
			LOG_WARN("submission %s: queued in Kafka, the record waits for Redis (%s)",
			         op->id, r ? r->str : "connection lost");
		struct timeval tv = { 0, SUBMIT_RECORD_RETRY_MS * 1000 };
		evtimer_add(op->retry, &tv);
		return;
	} else {
		/* The job is in Kafka and will be graded; only the reader-side index is
		 * missing. The client retries (a second, complete submission). */
		LOG_ERR("submission %s: queued in Kafka but the record could not be written: %s",
		        op->id, r ? r->str : "Redis connection lost");
		http_reply_unavailable(h, REDIS_DOWN);
	}
	submit_end(op);
}

static void submit_on_ack(void *opaque, int err, bool retriable, const char *reason)
{
	struct submit_op *op = opaque;
	struct hreq *h = op->h;
	if (err != 0) {
		LOG_WARN("submission %s: the broker did not take the job (%s%s)", op->id,
		         reason ? reason : "unknown", retriable ? ", retriable" : "");
		http_reply_unavailable(h, QUEUE_DOWN);
		submit_end(op);
		return;
	}
	submit_write_record(op);
}

static void submit_write_record(struct submit_op *op)
{
	struct hreq *h = op->h;
	struct rds_args a;
	rds_args_init(&a, "EVAL");
	rds_args_str(&a, api_submit_record_lua);
	rds_args_str(&a, "6");
	rds_args_fmt(&a, "gq:sub:%s", op->id);
	rds_args_fmt(&a, "gq:latest:%s:%s", h->course, h->exercise);
	rds_args_fmt(&a, "gq:subs:%s:%s:%s", h->course, h->exercise, op->student);
	rds_args_str(&a, "gq:stats");
	rds_args_fmt(&a, "gq:src:%s", op->id);
	rds_args_str(&a, "gq:now");
	rds_args_str(&a, op->id);
	rds_args_str(&a, h->course);
	rds_args_str(&a, h->exercise);
	rds_args_str(&a, op->student);
	rds_args_ll(&a, op->submitted_ms);
	rds_args_str(&a, op->ex.tests_hash);
	if (rds_cmd(h->d->rds, &a, submit_on_record, op) < 0)
		submit_on_record(op, NULL);
}

static void submit_on_source(void *opaque, const redisReply *r)
{
	struct submit_op *op = opaque;
	struct hreq *h = op->h;
	if (!rds_reply_ok(r)) {
		http_reply_unavailable(h, REDIS_DOWN);
		submit_end(op);
		return;
	}
	if (hreq_answered(h)) { /* the deadline answered 503: accept nothing now */
		submit_end(op);
		return;
	}
	if (!jobq_up(h->d->jobq)) {
		http_reply_unavailable(h, QUEUE_DOWN);
		submit_end(op);
		return;
	}
	struct job_spec js = {
		.id = op->id,
		.course = h->course,
		.exercise = h->exercise,
		.student = op->student,
		.attempt = 1,
		.tests_hash = op->ex.tests_hash,
		.timeout_s = op->ex.timeout_s,
		.memory_mb = op->ex.memory_mb,
		.max_points = op->ex.max_points,
		.safety_check = op->ex.safety_check,
		.submitted_ms = op->submitted_ms,
	};
	memcpy(js.source_sha256, op->sha, sizeof op->sha);
	int rc = jobq_publish(h->d->jobq, &js, submit_on_ack, op);
	if (rc < 0) {
		LOG_WARN("submission %s: publish failed: %s", op->id, strerror(-rc));
		http_reply_unavailable(h, QUEUE_DOWN);
		submit_end(op);
	}
}

static void submit_on_checks(void *opaque, const redisReply *r)
{
	struct submit_op *op = opaque;
	struct hreq *h = op->h;
	if (!rds_reply_ok(r) || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
		http_reply_unavailable(h, REDIS_DOWN);
		goto out;
	}
	if (hreq_answered(h)) /* the deadline answered 503: accept nothing now */
		goto out;
	const redisReply *allow = r->element[0];
	if (allow->type != REDIS_REPLY_NIL && allow->type != REDIS_REPLY_STRING) {
		LOG_ERR("gq:allow:%s is not a string", h->course);
		http_reply_error(h, 500, "internal error: the allowlist of %s is malformed",
		                 h->course);
		goto out;
	}
	bool listed = allow->type == REDIS_REPLY_STRING;
	if (!auth_allowed(listed ? allow->str : NULL, listed ? (size_t)allow->len : 0, &h->tok)) {
		http_reply_error(h, 403, "not enrolled in %s; ask your instructor", h->course);
		goto out;
	}
	int rc = api_exercise_parse(r->element[1], &op->ex);
	if (rc == -ENOENT) {
		http_reply_error(h, 404, "unknown exercise %s/%s", h->course, h->exercise);
		goto out;
	}
	if (rc < 0) {
		LOG_ERR("gq:ex:%s:%s is malformed", h->course, h->exercise);
		http_reply_error(h, 500,
		                 "internal error: exercise %s/%s is malformed; republish it",
		                 h->course, h->exercise);
		goto out;
	}
	if (h->body_len == 0) {
		http_reply_error(h, 400, "empty submission: send the notebook's .py source");
		goto out;
	}
	if (!jobq_up(h->d->jobq)) {
		http_reply_unavailable(h, QUEUE_DOWN);
		goto out;
	}
	if (subid_new(op->id) < 0) {
		http_reply_error(h, 500, "internal error: no randomness for a submission id");
		goto out;
	}
	util_sha256(h->body, h->body_len, op->sha);
	op->submitted_ms = util_now_ms();
	struct rds_args a;
	rds_args_init(&a, "SET");
	rds_args_fmt(&a, "gq:src:%s", op->id);
	rds_args_bin(&a, h->body, h->body_len);
	rds_args_str(&a, "EX");
	rds_args_ll(&a, SUBMIT_ORPHAN_TTL_S);
	if (rds_cmd(h->d->rds, &a, submit_on_source, op) < 0) {
		http_reply_unavailable(h, REDIS_DOWN);
		goto out;
	}
	return;
out:
	submit_end(op);
}

void api_submit(struct hreq *h)
{
	const char *q = hreq_query(h, "student");
	const char *student;
	if (q && !name_valid(q)) {
		http_reply_error(h, 400,
		                 "invalid student name (expected [A-Za-z0-9_.-]{1,64}, no '..')");
		return;
	}
	if (h->tok.role == GQ_ROLE_INSTRUCTOR) {
		if (q == NULL) {
			http_reply_error(h, 400,
			                 "instructors submit for a student: add ?student=USER");
			return;
		}
		student = q;
	} else {
		if (q && strcmp(q, h->tok.user) != 0) {
			http_reply_error(h, 403, "students may submit only as themselves");
			return;
		}
		student = h->tok.user;
	}
	struct submit_op *op = calloc(1, sizeof *op);
	if (op == NULL) {
		http_reply_error(h, 500, "internal error: out of memory");
		return;
	}
	op->h = h;
	hreq_ref(h);
	snprintf(op->student, sizeof op->student, "%s", student);
	struct rds_args c[2];
	rds_args_init(&c[0], "GET");
	rds_args_fmt(&c[0], "gq:allow:%s", h->course);
	rds_args_init(&c[1], "HGETALL");
	rds_args_fmt(&c[1], "gq:ex:%s:%s", h->course, h->exercise);
	if (rds_tx(h->d->rds, c, 2, submit_on_checks, op) < 0) {
		http_reply_unavailable(h, REDIS_DOWN);
		submit_end(op);
	}
}
