/* rerr.h - what to do about a Redis error reply: retry it (the server is starting,
 * failing over or busy), retry it once (a script cache flushed by a restart), or not at
 * all (the command itself is wrong for the data: a script error, a wrong type, no memory).
 * A missing reply (connection lost, command timeout) is not an error reply and not
 * classified here: the daemons wait for Redis to come back. */
#pragma once
#include <stdbool.h>

enum rerr_kind {
	RERR_TRANSIENT, /* LOADING BUSY TRYAGAIN MASTERDOWN CLUSTERDOWN NOREPLICAS READONLY
	                   MISCONF: the server's state, not the command */
	RERR_ONCE,      /* NOSCRIPT: the script cache is empty after a restart */
	RERR_PERMANENT, /* ERR (script errors), WRONGTYPE, OOM, NOPERM, EXECABORT, and any
	                   code not listed above */
};

/* Tries of a command that keeps getting transient error replies (with the callers'
 * backoff of up to 5 s, a few minutes: longer than a restart or a failover). */
#define RERR_TRANSIENT_TRIES 40

/* Classifies the text of an error reply ("LOADING Redis is loading the dataset in
 * memory"): its first word is the code. NULL or "" is RERR_PERMANENT. */
enum rerr_kind rerr_classify(const char *reply);
/* true when a command whose error reply of kind k was its tries-th failure (1 = the
 * first) should be sent again. */
bool rerr_should_retry(enum rerr_kind k, int tries);
/* "transient", "retry-once" or "permanent", for messages. */
const char *rerr_kind_name(enum rerr_kind k);
