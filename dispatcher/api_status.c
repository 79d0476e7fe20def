/* api_status.c - GET /v1/status: the grader nodes (heartbeats), the queue lag per
 * partition (the consumer group's committed offset against the high watermark, from the
 * lag monitor's cached snapshot: nothing here waits for Kafka), the counters, and the
 * submissions in `error` (gq:errors, newest first) with their reasons.
 *
 * The submission counts are those of gq:now: the records by their present status, kept
 * by every script that changes a status (submit, regrade, the node's mark and result),
 * so queued + grading + done + error is the number of submissions, each counted once,
 * as it is now. (Heartbeats and the queue lag are reported beside them, never mixed in:
 * both lag behind by seconds.)
 *
 * Two Redis round trips: the node ids, then one transaction with every heartbeat, the
 * counters and the error index; then the records of the listed errors. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "broker.h"
#include "disp.h"
#include "http.h"
#include "log.h"
#include "names.h"
#include "redis_async.h"
#include "util.h"

#define REDIS_DOWN "Redis unavailable"
#define STATUS_MAX_NODES 1000
#define STATUS_MAX_ERRORS 100 /* listed; "error" counts them all */
#define STATUS_MAX_PARTITIONS 1024

struct status_op {
	struct hreq *h;
	json_t *out; /* built up across the callbacks */
	json_t *errors;
	char (*ids)[GQ_SUBID_LEN + 1]; /* the listed errors, newest first */
	size_t nids;
};

static void status_end(struct status_op *op)
{
	json_decref(op->out);
	json_decref(op->errors);
	free(op->ids);
	hreq_unref(op->h);
	free(op);
}

static long long hash_ll(const redisReply *r, const char *field)
{
	char buf[32];
	long long v = 0;
	if (!api_reply_str(rds_hash_get(r, field), buf, sizeof buf) ||
	    util_parse_ll(buf, 0, 1LL << 62, &v) < 0)
		return 0;
	return v;
}

static json_t *hash_str(const redisReply *r, const char *field)
{
	const redisReply *v = rds_hash_get(r, field);
	json_t *s =
		v && v->type == REDIS_REPLY_STRING ? json_stringn(v->str, (size_t)v->len) : NULL;
	return s ? s : json_string(""); /* absent, or not valid UTF-8 */
}

/* {"partitions":[{"partition","committed","high","lag"}],"total","measured_ms"}, or
 * {"error": why} when the lag is unknown. *total is -1 when unknown. */
static json_t *lag_json(struct disp *d, long long *total)
{
	static struct broker_lag_part parts[STATUS_MAX_PARTITIONS];
	char why[256] = "";
	int64_t taken = 0;
	*total = -1;
	int n = d->lag ? broker_lag_get(d->lag, parts, STATUS_MAX_PARTITIONS, &taken, why,
	                                sizeof why)
	               : -ENOTSUP;
	if (n < 0)
		return json_pack("{s:s}", "error", n == -ENOTSUP ? "no lag monitor" : why);
	json_t *arr = json_array();
	long long sum = 0;
	for (int i = 0; i < n; i++) {
		sum += parts[i].lag;
		json_t *p = json_pack("{s:i,s:I,s:I,s:I}", "partition", (int)parts[i].partition,
		                      "committed", (json_int_t)parts[i].committed, "high",
		                      (json_int_t)parts[i].high, "lag", (json_int_t)parts[i].lag);
		if (p && parts[i].pending >= 0) /* Redis: delivered, not yet acknowledged */
			json_object_set_new(p, "pending", json_integer(parts[i].pending));
		json_array_append_new(arr, p);
	}
	*total = sum;
	return json_pack("{s:s,s:o,s:I,s:I}", "broker", d->cfg.broker_kind, "partitions", arr,
	                 "total", (json_int_t)sum, "measured_ms", (json_int_t)taken);
}

static void status_reply(struct status_op *op)
{
	json_object_set(op->out, "errors", op->errors);
	http_reply_json(op->h, 200, json_incref(op->out));
	status_end(op);
}

static void status_on_errors(void *opaque, const redisReply *r)
{
	struct status_op *op = opaque;
	if (!rds_reply_ok(r) || r->type != REDIS_REPLY_ARRAY || r->elements != op->nids) {
		http_reply_unavailable(op->h, REDIS_DOWN);
		status_end(op);
		return;
	}
	for (size_t i = 0; i < r->elements; i++) {
		const redisReply *f = r->element[i];
		if (f->type != REDIS_REPLY_ARRAY || f->elements != 6)
			continue;
		json_t *e = json_object();
		json_object_set_new(e, "id", json_string(op->ids[i]));
		static const char *const names[] = { "course", "exercise", "student" };
		for (size_t k = 0; k < 3; k++) {
			char buf[GQ_NAME_MAX + 1];
			json_object_set_new(
				e, names[k],
				json_string(api_reply_str(f->element[k], buf, sizeof buf) &&
			                                    name_valid(buf)
			                            ? buf
			                            : ""));
		}
		char num[32];
		long long v = 0;
		if (api_reply_str(f->element[3], num, sizeof num) &&
		    util_parse_ll(num, 0, 1LL << 31, &v) == 0)
			json_object_set_new(e, "attempt", json_integer(v));
		const redisReply *why = f->element[4];
		json_object_set_new(e, "error",
		                    why->type == REDIS_REPLY_STRING
		                            ? json_stringn(why->str, (size_t)why->len)
		                            : json_string(""));
		if (json_object_get(e, "error") == NULL) /* not valid UTF-8 */
			json_object_set_new(e, "error", json_string("(unreadable reason)"));
		if (api_reply_str(f->element[5], num, sizeof num) &&
		    util_parse_ll(num, 0, 1LL << 62, &v) == 0)
			json_object_set_new(e, "finished_ms", json_integer(v));
		json_array_append_new(op->errors, e);
	}
	status_reply(op);
}

static void status_on_nodes(void *opaque, const redisReply *r)
{
	struct status_op *op = opaque;
	struct hreq *h = op->h;
	if (!rds_reply_ok(r) || r->type != REDIS_REPLY_ARRAY || r->elements < 2) {
		http_reply_unavailable(h, REDIS_DOWN);
		status_end(op);
		return;
	}
	json_t *nodes = json_array();
	long long busy_total = 0;
	size_t nn = r->elements - 2;
	for (size_t i = 0; i < nn; i++) {
		const redisReply *n = r->element[i];
		if (n->type != REDIS_REPLY_ARRAY || n->elements == 0)
			continue; /* heartbeat expired: the node is gone */
		long long busy = hash_ll(n, "busy");
		busy_total += busy;
		json_t *o =
			json_pack("{s:o,s:o,s:I,s:I,s:o,s:I,s:I}", "id", hash_str(n, "id"), "host",
		                  hash_str(n, "host"), "slots", (json_int_t)hash_ll(n, "slots"),
		                  "busy", (json_int_t)busy, "version", hash_str(n, "version"),
		                  "started_ms", (json_int_t)hash_ll(n, "started_ms"),
		                  "last_seen_ms", (json_int_t)hash_ll(n, "last_seen_ms"));
		if (o)
			json_array_append_new(nodes, o);
	}
	const redisReply *now = r->element[nn];
	const redisReply *elist = r->element[nn + 1];
	long long queued = hash_ll(now, "queued"), grading = hash_ll(now, "grading"),
		  done = hash_ll(now, "done"), in_error = hash_ll(now, "error");
	long long lag_total;
	json_t *lag = lag_json(h->d, &lag_total);
	op->out = json_pack("{s:o,s:I,s:I,s:I,s:I,s:I,s:I,s:o}", "nodes", nodes, "submissions",
	                    (json_int_t)(queued + grading + done + in_error), "queued",
	                    (json_int_t)queued, "grading", (json_int_t)grading, "done",
	                    (json_int_t)done, "error", (json_int_t)in_error, "busy_slots",
	                    (json_int_t)busy_total, "lag", lag);
	op->errors = json_array();
	if (!op->out || !op->errors) {
		http_reply_error(h, 500, "internal error: out of memory");
		status_end(op);
		return;
	}

	/* the listed errors: ids (newest first), then their records */
	size_t ne = elist->type == REDIS_REPLY_ARRAY ? elist->elements : 0;
	op->ids = calloc(ne + 1, sizeof *op->ids);
	struct rds_args *c = calloc(ne + 1, sizeof *c);
	if (!op->ids || !c) {
		free(c);
		http_reply_error(h, 500, "internal error: out of memory");
		status_end(op);
		return;
	}
	for (size_t i = 0; i < ne; i++) {
		char *id = op->ids[op->nids];
		if (!api_reply_str(elist->element[i], id, GQ_SUBID_LEN + 1) || !subid_valid(id))
			continue;
		rds_args_init(&c[op->nids], "HMGET");
		rds_args_fmt(&c[op->nids], "gq:sub:%s", id);
		static const char *const fields[] = { "course",  "exercise", "student",
			                              "attempt", "error",    "finished_ms" };
		for (size_t k = 0; k < 6; k++)
			rds_args_str(&c[op->nids], fields[k]);
		op->nids++;
	}
	if (op->nids == 0) {
		free(c);
		status_reply(op);
		return;
	}
	int rc = rds_tx(h->d->rds, c, op->nids, status_on_errors, op);
	free(c);
	if (rc < 0) {
		http_reply_unavailable(h, REDIS_DOWN);
		status_end(op);
	}
}

static void status_on_ids(void *opaque, const redisReply *r)
{
	struct status_op *op = opaque;
	struct hreq *h = op->h;
	if (!rds_reply_ok(r) || r->type != REDIS_REPLY_ARRAY) {
		http_reply_unavailable(h, REDIS_DOWN);
		status_end(op);
		return;
	}
	size_t n = r->elements < STATUS_MAX_NODES ? r->elements : STATUS_MAX_NODES;
	struct rds_args *c = calloc(n + 2, sizeof *c);
	if (c == NULL) {
		http_reply_error(h, 500, "internal error: out of memory");
		status_end(op);
		return;
	}
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		const redisReply *id = r->element[i];
		if (id->type != REDIS_REPLY_STRING || !name_valid_n(id->str, (size_t)id->len))
			continue;
		rds_args_init(&c[k], "HGETALL");
		rds_args_fmt(&c[k], "gq:node:%.*s", (int)id->len, id->str);
		k++;
	}
	rds_args_init(&c[k], "HGETALL");
	rds_args_str(&c[k], "gq:now");
	k++;
	rds_args_init(&c[k], "ZREVRANGE");
	rds_args_str(&c[k], "gq:errors");
	rds_args_str(&c[k], "0");
	rds_args_ll(&c[k], STATUS_MAX_ERRORS - 1);
	k++;
	if (rds_tx(h->d->rds, c, k, status_on_nodes, op) < 0) {
		http_reply_unavailable(h, REDIS_DOWN);
		status_end(op);
	}
	free(c);
}

void api_status(struct hreq *h)
{
	struct status_op *op = calloc(1, sizeof *op);
	if (op == NULL) {
		http_reply_error(h, 500, "internal error: out of memory");
		return;
	}
	op->h = h;
	hreq_ref(h);
	struct rds_args a;
	rds_args_init(&a, "ZRANGE");
	rds_args_str(&a, "gq:nodes");
	rds_args_str(&a, "0");
	rds_args_str(&a, "-1");
	if (rds_cmd(h->d->rds, &a, status_on_ids, op) < 0) {
		http_reply_unavailable(h, REDIS_DOWN);
		status_end(op);
	}
}
