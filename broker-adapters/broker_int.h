/* broker_int.h - what an adapter provides behind broker.h: an ops table that broker.c
 * dispatches through. An adapter embeds struct broker as the first member of its own
 * state. Private to broker-adapters/. */
#pragma once
#include "broker.h"

struct broker_ops {
	const char *name; /* "kafka", "redis-streams" */
	int (*publish)(struct broker *b, const char *key, const void *payload, size_t len,
	               broker_ack_cb cb, void *opaque);
	bool (*up)(const struct broker *b);
	int (*next)(struct broker *b, struct broker_msg **out);
	void (*done)(struct broker *b, struct broker_msg *m);
	void (*msg_free)(struct broker *b, struct broker_msg *m);
	int (*dead_letter)(struct broker *b, struct broker_msg *m, const char *reason);
	int (*pause)(struct broker *b);
	int (*resume)(struct broker *b);
	int (*close)(struct broker *b, int timeout_ms);
	int (*fd)(struct broker *b);
	void (*poll)(struct broker *b);
	void (*free)(struct broker *b);
};

struct broker {
	const struct broker_ops *ops;
	bool consumer; /* consumer-side calls on a producer (and back) fail with -EINVAL */
};

/* The lag monitor's thread (broker_lag.c) around an adapter's refresh: refresh fills a
 * malloc'd array (0) or why (-EIO); it runs on the monitor's thread only. ctx is owned by
 * the monitor from here on (freed with ctx_free, also when this fails). */
typedef int (*broker_lag_refresh_fn)(void *ctx, struct broker_lag_part **out, size_t *n, char *why,
                                     size_t whylen);
struct broker_lag *broker_lag_start(broker_lag_refresh_fn refresh, void (*ctx_free)(void *),
                                    void *ctx, int interval_ms, char *err, size_t errlen);
