/* disp.h - the dispatcher daemon's state shared by its modules: the event loop, config,
 * secret, Redis connection, job queue and HTTP server. main() builds it with disp_new(),
 * runs the loop, and tears it down with disp_free(). */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "disp_config.h"
#include "token.h"

struct event_base;
struct rds;
struct jobq;
struct broker_lag;
struct http;

struct disp {
	struct event_base *base;
	struct disp_config cfg;
	struct gq_secret secret; /* loaded once at start; never logged */
	struct rds *rds;
	struct jobq *jobq;
	struct broker_lag *lag; /* queue lag of the graders' group, for GET /v1/status */
	struct http *http;
	unsigned ops;  /* asynchronous operations in flight (requests and their tails) */
	bool draining; /* shutdown requested: no new requests, wait for ops */
};

/* Loads the secret, connects Redis and Kafka (asynchronously), binds the listener.
 * Returns NULL with err on failure. cfg is copied. */
struct disp *disp_new(struct event_base *base, const struct disp_config *cfg, char *err,
                      size_t errlen);
/* Stops accepting, lets in-flight operations finish for at most timeout_ms, then
 * breaks the loop. Called from a signal event. */
void disp_shutdown(struct disp *d, int timeout_ms);
/* Flushes the job queue, closes everything. disp_free(NULL) is a no-op. */
void disp_free(struct disp *d);
/* The bound HTTP port (useful with listen port 0). */
int disp_port(const struct disp *d);
