/* store.c - see store.h. The connection itself (reconnect, keepalive, command timeout,
 * idle PING) is common/rconn.c, shared with the dispatcher; this file adds the node's
 * error convention and its scripts. */
#include "store.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rconn.h"
#include "score.h"
#include "util.h"

#define STORE_PING_MS 2000

struct store {
	struct rconn *c;
	store_state_cb state_cb;
	void *state_arg;
};

struct call {
	struct store *s;
	store_cb cb;
	void *arg;
};

static void on_state(void *arg, bool up)
{
	struct store *s = arg;
	if (s->state_cb)
		s->state_cb(s->state_arg, up);
}

struct store *store_new(struct event_base *base, const char *host, int port, const char *user,
                        const char *password, store_state_cb state_cb, void *arg)
{
	struct store *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->state_cb = state_cb;
	s->state_arg = arg;
	const struct rconn_opts o = {
		.host = host,
		.port = port,
		.cmd_timeout_ms = STORE_CMD_TIMEOUT_MS,
		.ping_ms = STORE_PING_MS,
		.backoff_min_ms = 100,
		.backoff_max_ms = 5000,
		.user = user,
		.password = password,
	};
	s->c = rconn_new(base, &o, on_state, s);
	if (!s->c) {
		free(s);
		return NULL;
	}
	return s;
}

bool store_up(const struct store *s)
{
	return rconn_up(s->c);
}

const char *store_last_error(const struct store *s)
{
	return rconn_last_error(s->c);
}

static void on_reply(void *arg, struct redisReply *r)
{
	struct call *k = arg;
	const char *last = rconn_last_error(k->s->c);
	if (!r) {
		k->cb(k->arg, NULL, last[0] ? last : "connection lost");
	} else if (r->type == REDIS_REPLY_ERROR) {
		char why[512];
		snprintf(why, sizeof why, "%s%s", STORE_ERR_REPLY, r->str ? r->str : "");
		k->cb(k->arg, NULL, why);
	} else {
		k->cb(k->arg, r, NULL);
	}
	free(k);
}

int store_cmd(struct store *s, store_cb cb, void *arg, int argc, const char **argv,
              const size_t *lens)
{
	struct call *k = NULL;
	if (cb) {
		k = malloc(sizeof *k);
		if (!k)
			return -ENOMEM;
		*k = (struct call){ s, cb, arg };
	}
	int r = rconn_cmd(s->c, k ? on_reply : NULL, k, argc, argv, lens);
	if (r < 0)
		free(k);
	return r;
}

void store_free(struct store *s)
{
	if (!s)
		return;
	rconn_free(s->c); /* pending callbacks run with r == NULL */
	free(s);
}

/* ---- scripts ---- */

/* KEYS[1] gq:sub:<id>  KEYS[2] gq:now (records by present status, docs/redis.md)
 * ARGV attempt node started_ms id course exercise student */
static const char MARK_LUA[] =
	"local cur = redis.call('HMGET', KEYS[1], 'attempt', 'status')\n"
	"local stored = tonumber(cur[1])\n"
	"local a = tonumber(ARGV[1])\n"
	"if stored and a < stored then return 'stale' end\n"
	"if stored and a == stored and (cur[2] == 'done' or cur[2] == 'error') then\n"
	"  return 'finished'\n"
	"end\n"
	"redis.call('HSET', KEYS[1], 'status', 'grading', 'attempt', ARGV[1], 'node', ARGV[2],\n"
	"           'started_ms', ARGV[3])\n"
	"if cur[2] ~= 'grading' then\n"
	"  if cur[2] then redis.call('HINCRBY', KEYS[2], cur[2], -1) end\n"
	"  redis.call('HINCRBY', KEYS[2], 'grading', 1)\n"
	"end\n"
	"if not stored then\n"
	"  redis.call('HSET', KEYS[1], 'id', ARGV[4], 'course', ARGV[5], 'exercise', ARGV[6],\n"
	"             'student', ARGV[7])\n"
	"  return 'missing'\n"
	"end\n"
	"return 'ok'\n";

/* KEYS[1] gq:sub:<id>  KEYS[2] gq:results  KEYS[3] gq:best:<course>
 * KEYS[4] gq:subs:<course>:<exercise>:<student>  KEYS[5] gq:stats  KEYS[6] gq:errors
 * KEYS[7] gq:now (records by present status: the old status -1, the new one +1)
 * ARGV  1 id  2 attempt  3 status  4 verdict  5 score  6 max  7 feedback  8 error
 *       9 node  10 started_ms  11 finished_ms  12 output_tail  13 course  14 exercise
 *       15 student  16 event channel  17 event JSON  18 best field  19 "gq:sub:"
 *       20 message (the verdict's detail, status done)  21 isolation  22 runner
 * The best score reads the records of the student's 500 latest submissions of the
 * exercise (keys not declared in KEYS: gradeq runs on one Redis, not a cluster). */
static const char PUT_LUA[] =
	"local a = tonumber(ARGV[2])\n"
	"local cur = redis.call('HMGET', KEYS[1], 'attempt', 'status')\n"
	"local stored = tonumber(cur[1]) or 0\n"
	"if a < stored then return 'stale' end\n"
	"local finished = a == stored and (cur[2] == 'done' or cur[2] == 'error')\n"
	"if finished and cur[2] == 'done' and ARGV[3] ~= 'done' then return 'kept' end\n"
	"redis.call('HSET', KEYS[1], 'id', ARGV[1], 'course', ARGV[13], 'exercise', ARGV[14],\n"
	"  'student', ARGV[15], 'attempt', ARGV[2], 'status', ARGV[3], 'node', ARGV[9],\n"
	"  'started_ms', ARGV[10], 'finished_ms', ARGV[11], 'output_tail', ARGV[12])\n"
	"if cur[2] ~= ARGV[3] then\n"
	"  if cur[2] then redis.call('HINCRBY', KEYS[7], cur[2], -1) end\n"
	"  redis.call('HINCRBY', KEYS[7], ARGV[3], 1)\n"
	"end\n"
	"if ARGV[3] == 'done' then\n"
	"  redis.call('HSET', KEYS[1], 'verdict', ARGV[4], 'score', ARGV[5], 'max', ARGV[6],\n"
	"    'feedback', ARGV[7], 'message', ARGV[20], 'isolation', ARGV[21], 'runner', ARGV[22])\n"
	"  redis.call('HDEL', KEYS[1], 'error')\n"
	"  redis.call('ZREM', KEYS[6], ARGV[1])\n"
	"else\n"
	"  redis.call('HSET', KEYS[1], 'error', ARGV[8])\n"
	"  redis.call('HDEL', KEYS[1], 'verdict', 'score', 'max', 'feedback', 'message',\n"
	"    'isolation', 'runner')\n"
	"  redis.call('ZADD', KEYS[6], ARGV[11], ARGV[1])\n"
	"end\n"
	"if not finished then\n"
	"  redis.call('XADD', KEYS[2], 'MAXLEN', '~', '100000', '*', 'id', ARGV[1],\n"
	"    'course', ARGV[13], 'exercise', ARGV[14], 'student', ARGV[15], 'attempt', ARGV[2],\n"
	"    'status', ARGV[3], 'verdict', ARGV[4], 'score', ARGV[5], 'max', ARGV[6])\n"
	"  redis.call('HINCRBY', KEYS[5], ARGV[3], 1)\n"
	"end\n"
	"local ids = redis.call('ZREVRANGE', KEYS[4], 0, 499)\n"
	"ids[#ids + 1] = ARGV[1]\n"
	"local best, bestn = nil, nil\n"
	"for _, sid in ipairs(ids) do\n"
	"  local f = redis.call('HMGET', ARGV[19] .. sid, 'status', 'score')\n"
	"  local v = f[2] and tonumber(f[2])\n"
	"  if f[1] == 'done' and v and (bestn == nil or v > bestn) then\n"
	"    bestn = v\n"
	"    best = f[2]\n"
	"  end\n"
	"end\n"
	"if best then redis.call('HSET', KEYS[3], ARGV[18], best)\n"
	"else redis.call('HDEL', KEYS[3], ARGV[18]) end\n"
	"if not finished then redis.call('PUBLISH', ARGV[16], ARGV[17]) end\n"
	"if finished then return 'again' end\n"
	"return 'new'\n";

static int parse_status(const redisReply *r, const char *const *names, size_t n, int *out)
{
	if (!r || (r->type != REDIS_REPLY_STATUS && r->type != REDIS_REPLY_STRING))
		return -EBADMSG;
	for (size_t i = 0; i < n; i++) {
		if (strlen(names[i]) == r->len && memcmp(names[i], r->str, r->len) == 0) {
			*out = (int)i;
			return 0;
		}
	}
	return -EBADMSG;
}

int store_mark_parse(const struct redisReply *r, enum store_mark *out)
{
	static const char *const names[] = { "ok", "missing", "stale", "finished" };
	int i;
	if (parse_status(r, names, 4, &i) < 0)
		return -EBADMSG;
	*out = (enum store_mark)i;
	return 0;
}

int store_put_parse(const struct redisReply *r, enum store_put *out)
{
	static const char *const names[] = { "new", "again", "kept", "stale" };
	int i;
	if (parse_status(r, names, 4, &i) < 0)
		return -EBADMSG;
	*out = (enum store_put)i;
	return 0;
}

int store_mark_grading(struct store *s, const struct store_job *j, const char *node,
                       int64_t started_ms, store_cb cb, void *arg)
{
	char key[128], attempt[16], started[24];
	snprintf(key, sizeof key, "gq:sub:%s", j->id);
	snprintf(attempt, sizeof attempt, "%u", j->attempt);
	snprintf(started, sizeof started, "%lld", (long long)started_ms);
	const char *argv[] = { "EVAL", MARK_LUA, "2",   key,       "gq:now",    attempt,
		               node,   started,  j->id, j->course, j->exercise, j->student };
	size_t lens[sizeof argv / sizeof argv[0]];
	for (size_t i = 0; i < sizeof argv / sizeof argv[0]; i++)
		lens[i] = strlen(argv[i]);
	return store_cmd(s, cb, arg, (int)(sizeof argv / sizeof argv[0]), argv, lens);
}

int store_put_result(struct store *s, const struct store_result *res, store_cb cb, void *arg)
{
	const struct store_job *j = &res->job;
	bool done = strcmp(res->status, "done") == 0;
	char k_sub[128], k_best[128], k_subs[256], channel[128], field[160];
	char attempt[16], score[32], max[32], started[24], finished[24], event[1024];
	snprintf(k_sub, sizeof k_sub, "gq:sub:%s", j->id);
	snprintf(k_best, sizeof k_best, "gq:best:%s", j->course);
	snprintf(k_subs, sizeof k_subs, "gq:subs:%s:%s:%s", j->course, j->exercise, j->student);
	snprintf(channel, sizeof channel, "gq:events:%s", j->course);
	snprintf(field, sizeof field, "%s/%s", j->student, j->exercise);
	snprintf(attempt, sizeof attempt, "%u", j->attempt);
	if (done) {
		score_format(res->score, score, sizeof score);
		score_format(res->max, max, sizeof max);
	} else {
		score[0] = max[0] = '\0';
	}
	snprintf(started, sizeof started, "%lld", (long long)res->started_ms);
	snprintf(finished, sizeof finished, "%lld", (long long)res->finished_ms);
	/* Names are validated ([A-Za-z0-9_.-]), status and verdict are ours: nothing here
	 * needs JSON escaping. Scores go in as numbers, formatted like everywhere else. */
	snprintf(event, sizeof event,
	         "{\"id\":\"%s\",\"course\":\"%s\",\"exercise\":\"%s\",\"student\":\"%s\","
	         "\"attempt\":%u,\"status\":\"%s\",\"verdict\":%s%s%s,\"score\":%s,\"max\":%s}",
	         j->id, j->course, j->exercise, j->student, j->attempt, res->status,
	         done ? "\"" : "", done ? res->verdict : "null", done ? "\"" : "",
	         done ? score : "null", done ? max : "null");
	size_t tail_len = res->output_tail_len > STORE_OUTPUT_TAIL_MAX ? STORE_OUTPUT_TAIL_MAX
	                                                               : res->output_tail_len;
	const char *argv[] = {
		"EVAL",
		PUT_LUA,
		"7",
		k_sub,
		"gq:results",
		k_best,
		k_subs,
		"gq:stats",
		"gq:errors",
		"gq:now",
		j->id,
		attempt,
		res->status,
		done ? res->verdict : "",
		score,
		max,
		done ? res->feedback : "",
		done ? "" : res->error,
		res->node,
		started,
		finished,
		res->output_tail ? res->output_tail : "",
		j->course,
		j->exercise,
		j->student,
		channel,
		event,
		field,
		"gq:sub:",
		done && res->message ? res->message : "",
		done && res->isolation ? res->isolation : "",
		done && res->runner ? res->runner : "",
	};
	enum { N = sizeof argv / sizeof argv[0] };
	size_t lens[N];
	for (size_t i = 0; i < N; i++)
		lens[i] = strlen(argv[i]);
	lens[21] = res->output_tail ? tail_len : 0; /* may hold NULs; binary-safe */
	return store_cmd(s, cb, arg, N, argv, lens);
}
