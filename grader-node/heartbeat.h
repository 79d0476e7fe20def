/* heartbeat.h - the node's presence in Redis (docs/redis.md): the hash gq:node:<id>
 * (id host slots busy version started_ms last_seen_ms, expiring 30 s after the last
 * beat) and its score in the zset gq:nodes. The node sends one beat every 2 s. */
#pragma once
#include <stdint.h>

#include "store.h"

#define HEARTBEAT_INTERVAL_MS 2000
#define HEARTBEAT_TTL_S 30

struct heartbeat_info {
	const char *id, *host, *version;
	unsigned slots, busy;
	int64_t started_ms, now_ms;
};

/* Sends one beat (pipelined commands; the last one's reply calls cb). Returns 0 or
 * -ENOTCONN / -ENOMEM (cb not called). */
int heartbeat_send(struct store *s, const struct heartbeat_info *i, store_cb cb, void *arg);
/* Removes the node's entries on a clean exit. Same return convention. */
int heartbeat_clear(struct store *s, const char *id, store_cb cb, void *arg);
