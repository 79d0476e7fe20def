/* http_gate.h - admission of HTTP connections before evhttp reads a byte of them: a cap
 * on open connections in total and per client address, and a hard deadline for
 * receiving a whole request (headers and body), however slowly the bytes trickle in.
 *
 * evhttp (libevent 2.1) has no hook at accept time, so the gate sits where it can: it
 * creates each connection's bufferevent (evhttp_set_bevcb), keeps a reference on it, and
 * checks the new connection on the next loop pass (peer address known by then). A
 * connection over a cap is answered "503 Service Unavailable" with Retry-After, written
 * straight to the socket, and shut down; evhttp then sees EOF and frees it. A sweep
 * (every GATE_SWEEP_MS) drops the gate's reference on connections evhttp has released
 * and shuts down those whose request did not arrive in time.
 *
 * The header cap is the gate's too: it watches the bytes of each request as they are
 * added to the connection's input buffer (before evhttp parses them) up to the blank
 * line that ends the headers; past max_header_bytes it answers "431 Request Header Fields
 * Too Large" and shuts the connection, and the request is never routed. (evhttp's own
 * cap, set higher as a backstop, would answer an HTML 400.) */
#pragma once
#include <stdbool.h>
#include <stddef.h>

struct event_base;
struct evhttp;
struct evhttp_request;
struct gate;

#define GATE_SWEEP_MS 250

struct gate_limits {
	unsigned max_conns;      /* open connections in total */
	unsigned max_per_client; /* open connections of one client address */
	unsigned rx_deadline_s;  /* from accept (or the last request) to a whole request */
	unsigned busy_s;         /* allowance for answering a request before the next
	                            request's deadline starts (the request deadline) */
	unsigned retry_after_s;  /* Retry-After of the 503 */
	size_t max_header_bytes; /* request line + headers, up to the blank line */
};

/* Installs itself on eh (evhttp_set_bevcb). Returns NULL on ENOMEM. The gate must be
 * freed after evhttp_free(eh). */
struct gate *gate_new(struct event_base *base, struct evhttp *eh, const struct gate_limits *l);
/* A whole request arrived on req's connection: its receive deadline is replaced by
 * busy_s + rx_deadline_s for the next request on that connection, and the header count
 * starts again. Returns false when the gate already answered and cut that connection
 * (headers over the cap): the request must not be acted on. */
bool gate_request_received(struct gate *g, struct evhttp_request *req);
/* Open (admitted) connections now, and refused ones since start. */
unsigned gate_open(const struct gate *g);
unsigned long gate_refused(const struct gate *g);
/* The header-end scanner on its own (for tests): feeds n bytes to *state (0 at the start
 * of a request); returns how many were consumed up to and including the blank line that
 * ends the headers, or n if it was not in them. *state becomes GATE_HDR_DONE then. */
#define GATE_HDR_DONE 3
size_t gate_header_scan(int *state, const char *p, size_t n);
/* gate_free(NULL) is a no-op. */
void gate_free(struct gate *g);
