/* heartbeat.c - see heartbeat.h. */
#include "heartbeat.h"

#include <stdio.h>
#include <string.h>

static void ignore(void *arg, struct redisReply *r, const char *err)
{
}

static int send(struct store *s, store_cb cb, void *arg, int argc, const char **argv)
{
	size_t lens[16];
	for (int i = 0; i < argc; i++)
		lens[i] = strlen(argv[i]);
	return store_cmd(s, cb ? cb : ignore, arg, argc, argv, lens);
}

int heartbeat_send(struct store *s, const struct heartbeat_info *i, store_cb cb, void *arg)
{
	char key[96], slots[16], busy[16], started[24], now[24], ttl[16], old[24];
	snprintf(key, sizeof key, "gq:node:%s", i->id);
	snprintf(slots, sizeof slots, "%u", i->slots);
	snprintf(busy, sizeof busy, "%u", i->busy);
	snprintf(started, sizeof started, "%lld", (long long)i->started_ms);
	snprintf(now, sizeof now, "%lld", (long long)i->now_ms);
	snprintf(ttl, sizeof ttl, "%d", HEARTBEAT_TTL_S);
	/* nodes silent for a day leave the zset */
	snprintf(old, sizeof old, "(%lld", (long long)(i->now_ms - 86400000LL));
	const char *hset[] = { "HSET",       key,     "id",           i->id, "host",    i->host,
		               "slots",      slots,   "busy",         busy,  "version", i->version,
		               "started_ms", started, "last_seen_ms", now };
	const char *expire[] = { "EXPIRE", key, ttl };
	const char *zadd[] = { "ZADD", "gq:nodes", now, i->id };
	const char *prune[] = { "ZREMRANGEBYSCORE", "gq:nodes", "-inf", old };
	int r = send(s, NULL, NULL, (int)(sizeof hset / sizeof hset[0]), hset);
	if (r == 0)
		r = send(s, NULL, NULL, 3, expire);
	if (r == 0)
		r = send(s, NULL, NULL, 4, prune);
	if (r == 0)
		r = send(s, cb, arg, 4, zadd);
	return r;
}

int heartbeat_clear(struct store *s, const char *id, store_cb cb, void *arg)
{
	char key[96];
	snprintf(key, sizeof key, "gq:node:%s", id);
	const char *del[] = { "DEL", key };
	const char *zrem[] = { "ZREM", "gq:nodes", id };
	int r = send(s, NULL, NULL, 2, del);
	if (r == 0)
		r = send(s, cb, arg, 3, zrem);
	return r;
}
