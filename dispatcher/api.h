/* api.h - the endpoint handlers of docs/http-api.md and helpers they share.
 * http.c calls a handler after routing, auth, role and name checks; the handler answers
 * through http_reply_* now or later (holding a reference on h while it waits). */
#pragma once
#include <hiredis/hiredis.h>
#include <jansson.h>
#include <stdbool.h>

struct hreq;

void api_health(struct hreq *h);
void api_publish(struct hreq *h);
void api_submit(struct hreq *h);
void api_submission_get(struct hreq *h);
void api_gradebook(struct hreq *h);
void api_status(struct hreq *h);
void api_regrade(struct hreq *h);
void api_allowlist_put(struct hreq *h);
void api_allowlist_delete(struct hreq *h);

/* The Lua scripts that write a record's status (exposed for tests against a real Redis):
 * the submit's record (KEYS sub latest subs stats src now; ARGV id course exercise
 * student submitted_ms tests_hash) and the regrade's attempt bump (KEYS sub now; ARGV
 * attempt tests_hash). */
extern const char api_submit_record_lua[];
extern const char api_regrade_bump_lua[];

/* gq:ex:{course}:{exercise} as the dispatcher needs it for a job. */
struct api_exercise {
	char tests_hash[65];
	double max_points;
	unsigned timeout_s, memory_mb;
	bool safety_check;
};
/* Reads an HGETALL reply. Returns 0, -ENOENT (empty: not published), -EBADMSG. */
int api_exercise_parse(const redisReply *r, struct api_exercise *out);

/* A score for JSON: rounded to two decimals, an integer when whole (10, not 10.0). */
json_t *api_json_score(double v);
/* A decimal string from Redis as a JSON number (score); NULL if it is not a number. */
json_t *api_json_score_str(const char *s, size_t len);
/* A decimal integer string from Redis as a JSON integer; NULL if it is not one. */
json_t *api_json_int_str(const char *s, size_t len);
/* Bulk string reply as a NUL-terminated copy in buf; false if not a string or too long. */
bool api_reply_str(const redisReply *r, char *buf, size_t buflen);
