/* node.h - the grader node daemon: one Kafka consumer-group member that runs up to
 * node.slots jobs at once in sandboxes (runner.h), with inputs fetched from and results
 * written to Redis (store.h, fetch.h), all on one libevent loop. A job's offset is
 * stored only after its result is persisted (or it was dead-lettered). */
#pragma once
#include <stddef.h>

struct event_base;
struct node;
struct node_config;

/* Builds the node on base: checks the sandbox (runner_new), connects to Redis (in the
 * background) and joins the consumer group. Returns NULL with err if the node cannot
 * work. cfg is copied. */
struct node *node_new(struct event_base *base, const struct node_config *cfg, char *err,
                      size_t errlen);
/* First call: stop taking jobs, let running ones finish (bounded by their timeouts and a
 * drain deadline), persist their results, leave the group, then break the loop.
 * Second call: cancel running jobs (they are redelivered) and finish as soon as possible. */
void node_shutdown(struct node *n);
/* 0 after a clean drain, 1 when the node had to give up work or stop on an error. */
int node_exit_code(const struct node *n);
/* node_free(NULL) is a no-op. Jobs still held are given back to Kafka undone. */
void node_free(struct node *n);
