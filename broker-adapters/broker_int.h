/* broker_int.h - what an adapter provides behind broker.h: an ops table that broker.c
 * dispatches through. An adapter embeds struct broker as the first member of its own
 * state. Private to broker-adapters/. */
#pragma once
#include "broker.h"

struct broker_ops {
	const char *name; /* "kafka", later "redis-streams" */
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
