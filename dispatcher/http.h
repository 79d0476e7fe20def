/* http.h - the dispatcher's HTTP front: evhttp server, routing (404/405), bearer auth
 * and role check, name validation, request lifetime and the JSON response helpers.
 * A request (struct hreq) is reference counted: asynchronous work holds a reference,
 * and h->req goes NULL once answered or once the client left, so late Redis or Kafka
 * callbacks never touch a freed evhttp_request. */
#pragma once
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "names.h"
#include "token.h"

struct disp;
struct http;
struct evhttp_request;
struct event;

struct hreq {
	struct disp *d;
	struct evhttp_request *req; /* NULL once answered or the client left */
	unsigned refs;
	int method;     /* EVHTTP_REQ_* */
	int64_t t0_ms;  /* monotonic, for the access log */
	char line[192]; /* "METHOD /path" for the access log (no query, no token) */
	int status;     /* what was answered, 0 if nothing yet */
	bool authed;
	struct gq_token tok; /* valid when authed */
	char course[GQ_NAME_MAX + 1];
	char exercise[GQ_NAME_MAX + 1];
	char id[GQ_SUBID_LEN + 1];
	struct evkeyvalq query;
	char *body; /* copy of the request body, NUL-terminated (NUL not counted) */
	size_t body_len;
	struct event *deadline;
};

#define HTTP_RETRY_AFTER_S 5
#define HTTP_DEADLINE_S 35 /* longer than the broker's message.timeout.ms (30 s) */
#define HTTP_IO_TIMEOUT_S 30

/* Binds cfg.listen on d->base. Returns NULL with err. */
struct http *http_new(struct disp *d, char *err, size_t errlen);
/* Closes the listening socket; open connections are still served. */
void http_stop_accepting(struct http *s);
/* Frees the server and its connections (requests still pending lose their client).
 * http_free(NULL) is a no-op. */
void http_free(struct http *s);
int http_port(const struct http *s);

void hreq_ref(struct hreq *h);
/* Drops a reference; the last one frees h (answering 500 if nothing was answered). */
void hreq_unref(struct hreq *h);
/* Value of a query parameter, or NULL. */
const char *hreq_query(const struct hreq *h, const char *key);
bool hreq_is_instructor(const struct hreq *h);
/* true once an answer went out (or was attempted): e.g. the deadline answered 503, so
 * work that would accept something must not start any more. */
bool hreq_answered(const struct hreq *h);

/* Answer once: later calls (or calls after the client left) only log at debug. */
void http_reply_json(struct hreq *h, int code, json_t *body); /* steals body */
void http_reply_error(struct hreq *h, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* 503 with Retry-After: HTTP_RETRY_AFTER_S: nothing was accepted. */
void http_reply_unavailable(struct hreq *h, const char *what);
