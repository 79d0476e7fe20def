/* api_allowlist.c - PUT/DELETE /v1/courses/{c}/allowlist: the course's gq:allow:{c}.
 * Every name is validated before anything is stored; the stored form is one user per
 * line, comments and duplicates dropped. Takes effect on the next request (no restart). */
#include <stdlib.h>

#include "api.h"
#include "auth.h"
#include "disp.h"
#include "http.h"
#include "log.h"
#include "redis_async.h"

#define REDIS_DOWN "Redis unavailable; the allowlist was not changed"

struct allow_op {
	struct hreq *h;
	long long users; /* -1 for DELETE */
};

static void allow_on_reply(void *opaque, const redisReply *r)
{
	struct allow_op *op = opaque;
	struct hreq *h = op->h;
	if (!rds_reply_ok(r)) {
		http_reply_unavailable(h, REDIS_DOWN);
	} else if (op->users < 0) {
		LOG_INFO("allowlist of %s removed (every authenticated user may submit)",
		         h->course);
		http_reply_json(h, 200, json_pack("{s:n}", "users"));
	} else {
		LOG_INFO("allowlist of %s set: %lld users", h->course, op->users);
		http_reply_json(h, 200, json_pack("{s:I}", "users", (json_int_t)op->users));
	}
	hreq_unref(h);
	free(op);
}

static void allow_send(struct hreq *h, struct rds_args *a, long long users)
{
	struct allow_op *op = malloc(sizeof *op);
	if (op == NULL) {
		http_reply_error(h, 500, "internal error: out of memory");
		return;
	}
	op->h = h;
	op->users = users;
	hreq_ref(h);
	if (rds_cmd(h->d->rds, a, allow_on_reply, op) < 0) {
		http_reply_unavailable(h, REDIS_DOWN);
		hreq_unref(h);
		free(op);
	}
}

void api_allowlist_put(struct hreq *h)
{
	char err[256], *list = NULL;
	size_t len = 0, users = 0;
	if (auth_allowlist_parse(h->body, h->body_len, &list, &len, &users, err, sizeof err) < 0) {
		http_reply_error(h, 400, "%s", err);
		return;
	}
	struct rds_args a;
	rds_args_init(&a, "SET");
	rds_args_fmt(&a, "gq:allow:%s", h->course);
	rds_args_bin(&a, list, len);
	allow_send(h, &a, (long long)users);
	free(list);
}

void api_allowlist_delete(struct hreq *h)
{
	struct rds_args a;
	rds_args_init(&a, "DEL");
	rds_args_fmt(&a, "gq:allow:%s", h->course);
	allow_send(h, &a, -1);
}
