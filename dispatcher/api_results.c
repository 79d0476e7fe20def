/* api_results.c - the read side: GET /v1/submissions/{id} and
 * GET /v1/courses/{c}/gradebook, built from the keys of docs/redis.md (GET /v1/status
 * is in api_status.c). Values from Redis are validated as they are converted (numbers
 * parsed, not trusted). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "disp.h"
#include "http.h"
#include "log.h"
#include "names.h"
#include "redis_async.h"
#include "util.h"

#define REDIS_DOWN "Redis unavailable"

/* ---- GET /v1/submissions/{id} ---- */

static bool field_is(const redisReply *k, const char *name)
{
	size_t n = strlen(name);
	return (size_t)k->len == n && memcmp(k->str, name, n) == 0;
}

enum fkind { F_STR, F_INT, F_SCORE, F_JSON };

/* The record's fields in the order they are shown, with when they are shown. */
static const struct {
	const char *field; /* in gq:sub */
	const char *name;  /* in the JSON */
	enum fkind kind;
	char when; /* 'a' always, 'd' status done, 'e' status error, 'i' instructors only */
} record_fields[] = {
	{ "id", "id", F_STR, 'a' },
	{ "course", "course", F_STR, 'a' },
	{ "exercise", "exercise", F_STR, 'a' },
	{ "student", "student", F_STR, 'a' },
	{ "status", "status", F_STR, 'a' },
	{ "verdict", "verdict", F_STR, 'd' },
	{ "message", "message", F_STR, 'd' },
	{ "score", "score", F_SCORE, 'd' },
	{ "max", "max", F_SCORE, 'd' },
	{ "attempt", "attempt", F_INT, 'a' },
	{ "submitted_ms", "submitted_ms", F_INT, 'a' },
	{ "started_ms", "started_ms", F_INT, 'a' },
	{ "finished_ms", "finished_ms", F_INT, 'a' },
	{ "node", "node", F_STR, 'a' },
	{ "isolation", "isolation", F_STR, 'd' },
	{ "runner", "runner", F_STR, 'd' },
	{ "tests_hash", "tests_hash", F_STR, 'a' },
	{ "error", "error", F_STR, 'e' },
	{ "feedback", "tests", F_JSON, 'd' },
	{ "output_tail", "output_tail", F_STR, 'i' },
};

static json_t *record_json(const redisReply *r, bool instructor)
{
	const redisReply *st = rds_hash_get(r, "status");
	bool done = st && st->type == REDIS_REPLY_STRING && field_is(st, "done");
	bool error = st && st->type == REDIS_REPLY_STRING && field_is(st, "error");
	json_t *j = json_object();
	if (j == NULL)
		return NULL;
	for (size_t i = 0; i < sizeof record_fields / sizeof record_fields[0]; i++) {
		char when = record_fields[i].when;
		if ((when == 'd' && !done) || (when == 'e' && !error) ||
		    (when == 'i' && !instructor))
			continue;
		const redisReply *v = rds_hash_get(r, record_fields[i].field);
		if (v == NULL || v->type != REDIS_REPLY_STRING)
			continue;
		json_t *x = NULL;
		switch (record_fields[i].kind) {
		case F_STR:
			x = json_stringn(v->str, (size_t)v->len);
			break;
		case F_INT:
			x = api_json_int_str(v->str, (size_t)v->len);
			break;
		case F_SCORE:
			x = api_json_score_str(v->str, (size_t)v->len);
			break;
		case F_JSON: {
			json_error_t e;
			x = json_loadb(v->str, (size_t)v->len, JSON_REJECT_DUPLICATES, &e);
			if (x && !json_is_array(x)) {
				json_decref(x);
				x = NULL;
			}
			if (x == NULL)
				LOG_WARN("submission feedback is not a JSON array");
			break;
		}
		}
		if (x)
			json_object_set_new(j, record_fields[i].name, x);
	}
	return j;
}

static void submission_on_reply(void *opaque, const redisReply *r)
{
	struct hreq *h = opaque;
	if (!rds_reply_ok(r) || r->type != REDIS_REPLY_ARRAY) {
		http_reply_unavailable(h, REDIS_DOWN);
	} else if (r->elements == 0) {
		http_reply_error(h, 404, "unknown submission %s", h->id);
	} else {
		const redisReply *owner = rds_hash_get(r, "student");
		bool own =
			owner && owner->type == REDIS_REPLY_STRING && field_is(owner, h->tok.user);
		if (!hreq_is_instructor(h) && !own)
			http_reply_error(h, 403, "you may read only your own submissions");
		else
			http_reply_json(h, 200, record_json(r, hreq_is_instructor(h)));
	}
	hreq_unref(h);
}

void api_submission_get(struct hreq *h)
{
	struct rds_args a;
	rds_args_init(&a, "HGETALL");
	rds_args_fmt(&a, "gq:sub:%s", h->id);
	hreq_ref(h);
	if (rds_cmd(h->d->rds, &a, submission_on_reply, h) < 0) {
		http_reply_unavailable(h, REDIS_DOWN);
		hreq_unref(h);
	}
}

/* ---- GET /v1/courses/{c}/gradebook ---- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* json object keys, sorted, as a malloc'd array of borrowed strings. */
static const char **sorted_keys(json_t *obj, size_t *n)
{
	*n = json_object_size(obj);
	const char **k = calloc(*n ? *n : 1, sizeof *k);
	if (k == NULL)
		return NULL;
	size_t i = 0;
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v)
	{
		(void)v;
		k[i++] = key;
	}
	qsort(k, *n, sizeof *k, cmp_str);
	return k;
}

static json_t *gradebook_json(const char *course, const redisReply *exs, const redisReply *best)
{
	json_t *exset = json_object();    /* name -> null, for sorting and dedup */
	json_t *students = json_object(); /* student -> {ex: score} */
	json_t *out = NULL;
	const char **ek = NULL, **sk = NULL;
	if (exset == NULL || students == NULL)
		goto out;
	for (size_t i = 0; i < exs->elements; i++) {
		const redisReply *e = exs->element[i];
		if (e->type == REDIS_REPLY_STRING && name_valid_n(e->str, (size_t)e->len)) {
			char name[GQ_NAME_MAX + 1];
			memcpy(name, e->str, (size_t)e->len);
			name[e->len] = '\0';
			json_object_set_new(exset, name, json_null());
		}
	}
	for (size_t i = 0; i + 1 < best->elements; i += 2) {
		const redisReply *k = best->element[i], *v = best->element[i + 1];
		if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
			continue;
		const char *slash = memchr(k->str, '/', (size_t)k->len);
		size_t sl = slash ? (size_t)(slash - k->str) : 0;
		size_t el = slash ? (size_t)k->len - sl - 1 : 0;
		if (!slash || !name_valid_n(k->str, sl) || !name_valid_n(slash + 1, el)) {
			LOG_WARN("gq:best:%s: ignoring malformed field", course);
			continue;
		}
		json_t *score = api_json_score_str(v->str, (size_t)v->len);
		if (score == NULL) {
			LOG_WARN("gq:best:%s: ignoring a non-numeric score", course);
			continue;
		}
		char st[GQ_NAME_MAX + 1], ex[GQ_NAME_MAX + 1];
		memcpy(st, k->str, sl);
		st[sl] = '\0';
		memcpy(ex, slash + 1, el);
		ex[el] = '\0';
		json_t *row = json_object_get(students, st);
		if (row == NULL) {
			row = json_object();
			json_object_set_new(students, st, row);
		}
		json_object_set_new(row, ex, score);
		json_object_set_new(exset, ex, json_null()); /* graded but since unpublished */
	}
	size_t ne, ns;
	ek = sorted_keys(exset, &ne);
	sk = sorted_keys(students, &ns);
	out = json_pack("{s:s,s:[],s:[]}", "course", course, "exercises", "students");
	if (ek == NULL || sk == NULL || out == NULL) {
		json_decref(out);
		out = NULL;
		goto out;
	}
	json_t *jex = json_object_get(out, "exercises"), *jst = json_object_get(out, "students");
	for (size_t i = 0; i < ne; i++)
		json_array_append_new(jex, json_string(ek[i]));
	for (size_t i = 0; i < ns; i++) {
		json_t *row = json_object_get(students, sk[i]);
		json_t *scores = json_object();
		double total = 0;
		for (size_t e = 0; e < ne; e++) {
			json_t *v = json_object_get(row, ek[e]);
			if (v) {
				total += json_number_value(v);
				json_object_set(scores, ek[e], v);
			}
		}
		json_array_append_new(jst, json_pack("{s:s,s:o,s:o}", "student", sk[i], "scores",
		                                     scores, "total", api_json_score(total)));
	}
out:
	free(ek);
	free(sk);
	json_decref(exset);
	json_decref(students);
	return out;
}

static void gradebook_on_reply(void *opaque, const redisReply *r)
{
	struct hreq *h = opaque;
	if (!rds_reply_ok(r) || r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
	    r->element[0]->type != REDIS_REPLY_INTEGER ||
	    r->element[1]->type != REDIS_REPLY_ARRAY || r->element[2]->type != REDIS_REPLY_ARRAY) {
		http_reply_unavailable(h, REDIS_DOWN);
	} else if (r->element[0]->integer == 0) {
		http_reply_error(h, 404, "unknown course %s (nothing published in it)", h->course);
	} else {
		json_t *j = gradebook_json(h->course, r->element[1], r->element[2]);
		if (j)
			http_reply_json(h, 200, j);
		else
			http_reply_error(h, 500, "internal error: out of memory");
	}
	hreq_unref(h);
}

void api_gradebook(struct hreq *h)
{
	struct rds_args c[3];
	rds_args_init(&c[0], "SISMEMBER");
	rds_args_str(&c[0], "gq:courses");
	rds_args_str(&c[0], h->course);
	rds_args_init(&c[1], "SMEMBERS");
	rds_args_fmt(&c[1], "gq:course:%s:exercises", h->course);
	rds_args_init(&c[2], "HGETALL");
	rds_args_fmt(&c[2], "gq:best:%s", h->course);
	hreq_ref(h);
	if (rds_tx(h->d->rds, c, 3, gradebook_on_reply, h) < 0) {
		http_reply_unavailable(h, REDIS_DOWN);
		hreq_unref(h);
	}
}
