/* api_common.c - helpers shared by the endpoint handlers (see api.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "redis_async.h"
#include "score.h"
#include "util.h"

bool api_reply_str(const redisReply *r, char *buf, size_t buflen)
{
	if (r == NULL || r->type != REDIS_REPLY_STRING || (size_t)r->len >= buflen)
		return false;
	memcpy(buf, r->str, (size_t)r->len);
	buf[r->len] = '\0';
	return true;
}

static bool reply_ll(const redisReply *r, long long min, long long max, long long *out)
{
	char buf[32];
	return api_reply_str(r, buf, sizeof buf) && util_parse_ll(buf, min, max, out) == 0;
}

static bool reply_double(const redisReply *r, double *out)
{
	char buf[64], *end;
	if (!api_reply_str(r, buf, sizeof buf) || buf[0] == '\0')
		return false;
	errno = 0;
	double v = strtod(buf, &end);
	if (errno || *end || !isfinite(v))
		return false;
	*out = v;
	return true;
}

int api_exercise_parse(const redisReply *r, struct api_exercise *out)
{
	if (r == NULL || r->type != REDIS_REPLY_ARRAY)
		return -EBADMSG;
	if (r->elements == 0)
		return -ENOENT;
	struct api_exercise e = { 0 };
	long long t = 0, m = 0, sc = 0;
	if (!api_reply_str(rds_hash_get(r, "tests_hash"), e.tests_hash, sizeof e.tests_hash) ||
	    !util_is_sha256_hex(e.tests_hash))
		return -EBADMSG;
	if (!reply_double(rds_hash_get(r, "max_points"), &e.max_points) || e.max_points < 0)
		return -EBADMSG;
	if (!reply_ll(rds_hash_get(r, "timeout_s"), 0, 1000000, &t) ||
	    !reply_ll(rds_hash_get(r, "memory_mb"), 0, 1000000, &m) ||
	    !reply_ll(rds_hash_get(r, "safety_check"), 0, 1, &sc))
		return -EBADMSG;
	e.timeout_s = (unsigned)t;
	e.memory_mb = (unsigned)m;
	e.safety_check = sc != 0;
	*out = e;
	return 0;
}

json_t *api_json_score(double v)
{
	v = score_round2(v);
	if (v == floor(v) && fabs(v) < 1e15)
		return json_integer((json_int_t)v);
	return json_real(v);
}

json_t *api_json_score_str(const char *s, size_t len)
{
	char buf[64], *end;
	if (len == 0 || len >= sizeof buf)
		return NULL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	errno = 0;
	double v = strtod(buf, &end);
	if (errno || *end || !isfinite(v))
		return NULL;
	return api_json_score(v);
}

json_t *api_json_int_str(const char *s, size_t len)
{
	char buf[32];
	long long v;
	if (len == 0 || len >= sizeof buf)
		return NULL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (util_parse_ll(buf, -(1LL << 62), 1LL << 62, &v) < 0)
		return NULL;
	return json_integer(v);
}
