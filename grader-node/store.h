/* store.h - the node's side of the Redis contract (docs/redis.md), on one connection of
 * common/rconn.h (shared with the dispatcher) attached to the node's libevent base. The
 * connection comes back by itself (reconnect with backoff); a command issued while it is
 * down fails at once, and a command lost with the connection (or unanswered for
 * STORE_CMD_TIMEOUT_MS, idle PINGs included) gets its callback with r == NULL. Callers retry later
 * from a timer, never from the callback. Results go in with one Lua script (store_put_result):
 * record, results stream, best score, event and counters change together or not at all. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct redisReply;
struct store;

#define STORE_CMD_TIMEOUT_MS 20000
#define STORE_OUTPUT_TAIL_MAX 4096
#define STORE_ERR_REPLY "redis replied: "

/* r is the reply (never an error reply) or NULL with err saying why: for an error reply
 * err is STORE_ERR_REPLY followed by the server's text ("redis replied: LOADING ..."),
 * so callers can classify it (rerr.h); any other err means no reply came (connection
 * lost, command timeout). r is valid during the call only. Called exactly once per
 * accepted command, from the loop (or from store_free). */
typedef void (*store_cb)(void *arg, struct redisReply *r, const char *err);
/* Connection state changes: up after (re)connecting, down when it is lost. */
typedef void (*store_state_cb)(void *arg, bool up);

/* Starts connecting (never blocks). With a password (user may be NULL), every connection
 * starts with AUTH (both copied). Returns NULL only on ENOMEM. */
struct store *store_new(struct event_base *base, const char *host, int port, const char *user,
                        const char *password, store_state_cb state_cb, void *arg);
bool store_up(const struct store *s);
/* Last connection error, for logs ("" if none). */
const char *store_last_error(const struct store *s);
/* Sends a binary-safe command. Returns 0 (cb will be called), or -ENOTCONN / -ENOMEM
 * (cb will not be called). */
int store_cmd(struct store *s, store_cb cb, void *arg, int argc, const char **argv,
              const size_t *lens);
/* Fails every pending command (callbacks with r == NULL) and closes. NULL is a no-op. */
void store_free(struct store *s);

/* ---- the node's commands ---- */

struct store_job {
	const char *id, *course, *exercise, *student;
	uint32_t attempt;
};

enum store_mark {
	STORE_MARK_OK,       /* record now says grading (it existed) */
	STORE_MARK_MISSING,  /* there was no record: created with identity + grading */
	STORE_MARK_STALE,    /* a newer attempt exists: do not grade */
	STORE_MARK_FINISHED, /* this attempt is already done or error: do not grade again */
};

/* Parses the mark script's reply; returns 0 or -EBADMSG. */
int store_mark_parse(const struct redisReply *r, enum store_mark *out);
/* Sets status "grading" (with node and started_ms) unless a newer attempt exists or this
 * attempt already finished; see enum store_mark. */
int store_mark_grading(struct store *s, const struct store_job *j, const char *node,
                       int64_t started_ms, store_cb cb, void *arg);

struct store_result {
	struct store_job job;
	const char *status;  /* "done" | "error" */
	const char *verdict; /* status done: ok timeout ...; else "" */
	double score, max;
	const char *feedback; /* JSON array (status done), else "" */
	const char *error;    /* status error: reason for staff, else "" */
	const char *message;  /* status done: what the verdict means for this submission
	                         (e.g. "SyntaxError: ... (line 7)"), valid UTF-8, may be "" */
	const char *node;
	const char *isolation; /* status done: "two-process" | "in-process" (graded how) */
	const char *runner;    /* status done: "warm" | "cold" | "bwrap" */
	int64_t started_ms, finished_ms;
	const char *output_tail; /* valid UTF-8, at most STORE_OUTPUT_TAIL_MAX bytes */
	size_t output_tail_len;
};

enum store_put {
	STORE_PUT_NEW,   /* written, stream entry + event + counters added */
	STORE_PUT_AGAIN, /* this attempt had finished before: record rewritten, no new entry */
	STORE_PUT_KEPT,  /* an error result did not replace a done one of the same attempt */
	STORE_PUT_STALE, /* a newer attempt exists: nothing written */
};

int store_put_parse(const struct redisReply *r, enum store_put *out);
/* The one EVAL that persists a finished job. The reply confirms persistence. */
int store_put_result(struct store *s, const struct store_result *res, store_cb cb, void *arg);
