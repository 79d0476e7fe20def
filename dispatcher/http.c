/* http.c - evhttp server, routing, auth, request lifetime, JSON replies (see http.h). */
#include "http.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdarg.h>
#include <sys/queue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "api.h"
#include "auth.h"
#include "disp.h"
#include "http_gate.h"
#include "http_parse.h"
#include "log.h"
#include "util.h"

struct http {
	struct disp *d;
	struct evhttp *eh;
	struct evhttp_bound_socket *sock;
	struct gate *gate; /* connection caps and the receive deadline */
	int port;
};

enum access { ACC_PUBLIC, ACC_USER, ACC_INSTRUCTOR };

#define SEG_MAX HP_SEG_MAX

struct route {
	int method;
	const char *seg[SEG_MAX]; /* "{c}" course, "{e}" exercise, "{id}" submission id */
	enum access access;
	const char *query; /* the one query parameter accepted, or NULL */
	void (*fn)(struct hreq *h);
};

static const struct route routes[] = {
	{ EVHTTP_REQ_GET, { "healthz" }, ACC_PUBLIC, NULL, api_health },
	{ EVHTTP_REQ_PUT,
	  { "v1", "courses", "{c}", "exercises", "{e}" },
	  ACC_INSTRUCTOR,
	  NULL,
	  api_publish },
	{ EVHTTP_REQ_POST,
	  { "v1", "courses", "{c}", "exercises", "{e}", "submissions" },
	  ACC_USER,
	  "student",
	  api_submit },
	{ EVHTTP_REQ_POST,
	  { "v1", "courses", "{c}", "exercises", "{e}", "regrade" },
	  ACC_INSTRUCTOR,
	  NULL,
	  api_regrade },
	{ EVHTTP_REQ_GET,
	  { "v1", "courses", "{c}", "gradebook" },
	  ACC_INSTRUCTOR,
	  NULL,
	  api_gradebook },
	{ EVHTTP_REQ_PUT,
	  { "v1", "courses", "{c}", "allowlist" },
	  ACC_INSTRUCTOR,
	  NULL,
	  api_allowlist_put },
	{ EVHTTP_REQ_DELETE,
	  { "v1", "courses", "{c}", "allowlist" },
	  ACC_INSTRUCTOR,
	  NULL,
	  api_allowlist_delete },
	{ EVHTTP_REQ_GET, { "v1", "submissions", "{id}" }, ACC_USER, NULL, api_submission_get },
	{ EVHTTP_REQ_GET, { "v1", "status" }, ACC_INSTRUCTOR, NULL, api_status },
};

static const char *method_name(int m)
{
	switch (m) {
	case EVHTTP_REQ_GET:
		return "GET";
	case EVHTTP_REQ_POST:
		return "POST";
	case EVHTTP_REQ_HEAD:
		return "HEAD";
	case EVHTTP_REQ_PUT:
		return "PUT";
	case EVHTTP_REQ_DELETE:
		return "DELETE";
	case EVHTTP_REQ_OPTIONS:
		return "OPTIONS";
	case EVHTTP_REQ_TRACE:
		return "TRACE";
	case EVHTTP_REQ_CONNECT:
		return "CONNECT";
	case EVHTTP_REQ_PATCH:
		return "PATCH";
	default:
		return "?";
	}
}

static const char *status_reason(int code)
{
	switch (code) {
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 202:
		return "Accepted";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 413:
		return "Payload Too Large";
	case 431:
		return "Request Header Fields Too Large";
	case 503:
		return "Service Unavailable";
	default:
		return code >= 500 ? "Internal Server Error" : "Error";
	}
}

/* ---- request lifetime ---- */

static void hreq_on_close(struct evhttp_connection *evcon, void *arg)
{
	struct hreq *h = arg;
	if (h->req == NULL)
		return;
	/* libevent detaches a pending request from a connection that hit EOF and leaves it
	 * to us (req->evcon == NULL): free it here. When the whole server is being freed,
	 * the request is still attached and libevent frees it right after this callback.
	 * Either way h->req is never touched again. */
	if (evhttp_request_get_connection(h->req) == NULL)
		evhttp_request_free(h->req);
	h->req = NULL;
	LOG_DEBUG("%s: client went away before the answer", h->line);
}

void hreq_ref(struct hreq *h)
{
	h->refs++;
}

void hreq_unref(struct hreq *h)
{
	if (--h->refs > 0)
		return;
	if (h->status == 0)
		http_reply_error(h, 500, "internal error: request dropped without an answer");
	if (h->req) { /* not possible after an answer; defensive */
		struct evhttp_connection *evcon = evhttp_request_get_connection(h->req);
		if (evcon)
			evhttp_connection_set_closecb(evcon, NULL, NULL);
	}
	if (h->deadline)
		event_free(h->deadline);
	evhttp_clear_headers(&h->query);
	free(h->body);
	h->d->ops--;
	free(h);
}

const char *hreq_query(const struct hreq *h, const char *key)
{
	return evhttp_find_header(&h->query, key);
}

bool hreq_answered(const struct hreq *h)
{
	return h->status != 0;
}

bool hreq_is_instructor(const struct hreq *h)
{
	return h->authed && h->tok.role == GQ_ROLE_INSTRUCTOR;
}

/* ---- replies ---- */

static void http_send(struct hreq *h, int code, char *body, size_t len, bool retry_after,
                      const char *allow)
{
	if (h->status != 0) {
		LOG_DEBUG("%s: second answer %d ignored", h->line, code);
		free(body);
		return;
	}
	h->status = code;
	if (h->deadline)
		event_del(h->deadline);
	int64_t ms = util_mono_ms() - h->t0_ms;
	if (h->req == NULL) {
		LOG_INFO("%s %d %lld ms user=%s (client gone)", h->line, code, (long long)ms,
		         h->authed ? h->tok.user : "-");
		free(body);
		return;
	}
	LOG_INFO("%s %d %lld ms user=%s", h->line, code, (long long)ms,
	         h->authed ? h->tok.user : "-");
	struct evhttp_request *req = h->req;
	h->req = NULL;
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	if (evcon)
		evhttp_connection_set_closecb(evcon, NULL, NULL);
	struct evkeyvalq *hdr = evhttp_request_get_output_headers(req);
	evhttp_add_header(hdr, "Content-Type", "application/json");
	evhttp_add_header(hdr, "Cache-Control", "no-store");
	if (retry_after || code == 503) {
		char v[16];
		snprintf(v, sizeof v, "%d", HTTP_RETRY_AFTER_S);
		evhttp_add_header(hdr, "Retry-After", v);
	}
	if (code == 401)
		evhttp_add_header(hdr, "WWW-Authenticate", "Bearer realm=\"gradeq\"");
	if (allow)
		evhttp_add_header(hdr, "Allow", allow);
	struct evbuffer *buf = evbuffer_new();
	if (buf && body)
		evbuffer_add(buf, body, len);
	if (buf)
		evbuffer_add(buf, "\n", 1);
	free(body);
	evhttp_send_reply(req, code, status_reason(code), buf);
	if (buf)
		evbuffer_free(buf);
}

static void http_reply_json_ex(struct hreq *h, int code, json_t *j, bool retry_after,
                               const char *allow)
{
	char *s = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15))
	            : NULL;
	json_decref(j);
	if (s == NULL) {
		static const char oom[] = "{\"error\":\"internal error: out of memory\"}";
		char *c = strdup(oom);
		http_send(h, 500, c, c ? strlen(c) : 0, false, NULL);
		return;
	}
	http_send(h, code, s, strlen(s), retry_after, allow);
}

void http_reply_json(struct hreq *h, int code, json_t *body)
{
	http_reply_json_ex(h, code, body, false, NULL);
}

static void http_reply_verror(struct hreq *h, int code, bool retry_after, const char *allow,
                              const char *fmt, va_list ap)
{
	char msg[512];
	vsnprintf(msg, sizeof msg, fmt, ap);
	json_t *j = json_pack("{s:s}", "error", msg);
	if (j == NULL) {
		/* not valid UTF-8 (a reason quoting the client's bytes, or cut mid-character):
		 * still this answer, not a 500 */
		for (char *p = msg; *p; p++)
			if ((unsigned char)*p >= 0x80)
				*p = '?';
		j = json_pack("{s:s}", "error", msg);
	}
	http_reply_json_ex(h, code, j, retry_after, allow);
}

void http_reply_error(struct hreq *h, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	http_reply_verror(h, code, false, NULL, fmt, ap);
	va_end(ap);
}

static void http_reply_error_allow(struct hreq *h, const char *allow, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void http_reply_error_allow(struct hreq *h, const char *allow, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	http_reply_verror(h, 405, false, allow, fmt, ap);
	va_end(ap);
}

void http_reply_unavailable(struct hreq *h, const char *what)
{
	char msg[256];
	snprintf(msg, sizeof msg, "%s, retry in %d s", what, HTTP_RETRY_AFTER_S);
	http_reply_json_ex(h, 503, json_pack("{s:s}", "error", msg), true, NULL);
}

static void hreq_on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct hreq *h = arg;
	LOG_WARN("%s: no answer from Redis or Kafka within %d s", h->line, HTTP_DEADLINE_S);
	http_reply_unavailable(h, "Redis or the grading queue did not answer in time");
}

/* ---- routing ---- */

static bool route_match(const struct route *r, char segs[SEG_MAX][GQ_NAME_MAX + 2], int n)
{
	int i = 0;
	for (; i < SEG_MAX && r->seg[i]; i++) {
		if (i >= n)
			return false;
		if (r->seg[i][0] != '{' && strcmp(r->seg[i], segs[i]) != 0)
			return false;
	}
	return i == n;
}

static int copy_body(struct hreq *h, struct evhttp_request *req)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = in ? evbuffer_get_length(in) : 0;
	h->body = malloc(len + 1);
	if (h->body == NULL)
		return -ENOMEM;
	if (len > 0 && evbuffer_remove(in, h->body, len) != (int)len)
		return -EIO;
	h->body[len] = '\0';
	h->body_len = len;
	return 0;
}

/* Runs the checks common to every route, in the order the API promises: 401 before
 * 403 before 400 (a caller without a valid token learns nothing about names). */
static void http_route(struct hreq *h, struct evhttp_request *req)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	char segs[SEG_MAX][GQ_NAME_MAX + 2];
	int n = hp_split_path(path, segs);

	const struct route *hit = NULL;
	char allow[64] = "";
	for (size_t i = 0; n >= 0 && i < sizeof routes / sizeof routes[0]; i++) {
		if (!route_match(&routes[i], segs, n))
			continue;
		if (routes[i].method == h->method)
			hit = &routes[i];
		size_t al = strlen(allow);
		snprintf(allow + al, sizeof allow - al, "%s%s", al ? ", " : "",
		         method_name(routes[i].method));
	}
	if (hit == NULL) {
		if (allow[0])
			http_reply_error_allow(h, allow, "method %s not allowed here (allowed: %s)",
			                       method_name(h->method), allow);
		else
			http_reply_error(h, 404, "no such endpoint; see docs/http-api.md");
		return;
	}
	if (h->d->draining) {
		http_reply_unavailable(h, "the dispatcher is shutting down");
		return;
	}

	if (hit->access != ACC_PUBLIC) {
		const char *authz =
			evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
		int rc = auth_bearer(&h->d->secret, authz, (int64_t)time(NULL), &h->tok);
		if (rc < 0) {
			http_reply_error(h, 401, "%s", auth_strerror(rc));
			return;
		}
		h->authed = true;
		if (hit->access == ACC_INSTRUCTOR && h->tok.role != GQ_ROLE_INSTRUCTOR) {
			http_reply_error(h, 403, "only instructors may do this");
			return;
		}
	}

	for (int i = 0; i < n; i++) {
		const char *s = hit->seg[i];
		if (strcmp(s, "{c}") == 0) {
			if (!name_valid(segs[i])) {
				http_reply_error(h, 400,
				                 "invalid course name (expected "
				                 "[A-Za-z0-9_.-]{1,64}, no '..')");
				return;
			}
			memcpy(h->course, segs[i], strlen(segs[i]) + 1); /* validated: fits */
		} else if (strcmp(s, "{e}") == 0) {
			if (!name_valid(segs[i])) {
				http_reply_error(h, 400,
				                 "invalid exercise name (expected "
				                 "[A-Za-z0-9_.-]{1,64}, no '..')");
				return;
			}
			memcpy(h->exercise, segs[i], strlen(segs[i]) + 1); /* validated: fits */
		} else if (strcmp(s, "{id}") == 0) {
			if (!subid_valid(segs[i])) {
				http_reply_error(
					h, 400,
					"invalid submission id (expected 28 lowercase hex digits)");
				return;
			}
			memcpy(h->id, segs[i], strlen(segs[i]) + 1); /* validated: fits */
		}
	}

	const char *q = uri ? evhttp_uri_get_query(uri) : NULL;
	if (q && q[0]) {
		char why[128];
		if (hp_query(q, hit->query, &h->query, why, sizeof why) < 0) {
			http_reply_error(h, 400, "%s", why);
			return;
		}
	}

	if (copy_body(h, req) < 0) {
		http_reply_error(h, 500, "internal error: out of memory");
		return;
	}
	hit->fn(h);
}

static void http_on_request(struct evhttp_request *req, void *arg)
{
	struct http *s = arg;
	struct hreq *h = calloc(1, sizeof *h);
	if (h == NULL) {
		evhttp_send_error(req, 500, "out of memory");
		return;
	}
	h->d = s->d;
	h->d->ops++;
	h->req = req;
	h->refs = 1;
	h->t0_ms = util_mono_ms();
	h->method = (int)evhttp_request_get_command(req);
	TAILQ_INIT(&h->query);
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	/* The path only: the query may carry a student name, never a token, but keep the
	 * log line short and stable. */
	snprintf(h->line, sizeof h->line, "%s %.160s", method_name(h->method),
	         path && path[0] ? path : "/");
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	if (evcon)
		evhttp_connection_set_closecb(evcon, hreq_on_close, h);
	if (!gate_request_received(s->gate, req)) {
		/* the gate answered 431 and cut the connection: act on nothing */
		http_reply_error(h, 431, "request line and headers over the cap");
		hreq_unref(h);
		return;
	}
	h->deadline = evtimer_new(s->d->base, hreq_on_deadline, h);
	struct timeval tv = { HTTP_DEADLINE_S, 0 };
	if (h->deadline)
		evtimer_add(h->deadline, &tv);
	http_route(h, req);
	hreq_unref(h);
}

struct http *http_new(struct disp *d, char *err, size_t errlen)
{
	struct http *s = calloc(1, sizeof *s);
	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->d = d;
	s->eh = evhttp_new(d->base);
	if (s->eh == NULL) {
		snprintf(err, errlen, "evhttp_new failed");
		free(s);
		return NULL;
	}
	evhttp_set_max_body_size(s->eh, (ev_ssize_t)d->cfg.max_body_kb * 1024);
	/* Request line + headers: without a cap libevent rescans a growing header for its
	 * end of line (64 MiB cost 33 s of CPU). */
	/* The gate answers 431 at max_header_kb; evhttp's cap (an HTML 400) is a backstop. */
	evhttp_set_max_headers_size(s->eh, (ev_ssize_t)d->cfg.max_header_kb * 1024 + 65536);
	const struct gate_limits gl = {
		.max_conns = (unsigned)d->cfg.max_connections,
		.max_per_client = (unsigned)d->cfg.max_connections_per_client,
		.rx_deadline_s = (unsigned)d->cfg.request_timeout_s,
		.busy_s = HTTP_DEADLINE_S + 5,
		.retry_after_s = HTTP_RETRY_AFTER_S,
		.max_header_bytes = (size_t)d->cfg.max_header_kb * 1024,
	};
	s->gate = gate_new(d->base, s->eh, &gl);
	if (s->gate == NULL) {
		snprintf(err, errlen, "out of memory");
		evhttp_free(s->eh);
		free(s);
		return NULL;
	}
	/* Let every method reach the router so a wrong one gets a JSON 405. */
	evhttp_set_allowed_methods(s->eh, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
	                                          EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	                                          EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
	/* Read a too-large body to its end before answering 413, so the client sees the
	 * answer instead of a reset connection. */
	evhttp_set_flags(s->eh, EVHTTP_SERVER_LINGERING_CLOSE);
	evhttp_set_timeout(s->eh, HTTP_IO_TIMEOUT_S);
	evhttp_set_gencb(s->eh, http_on_request, s);
	s->sock = evhttp_bind_socket_with_handle(s->eh, d->cfg.listen_host,
	                                         (ev_uint16_t)d->cfg.listen_port);
	if (s->sock == NULL) {
		snprintf(err, errlen, "cannot listen on %s: %s", d->cfg.listen, strerror(errno));
		evhttp_free(s->eh);
		gate_free(s->gate);
		free(s);
		return NULL;
	}
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	evutil_socket_t fd = evhttp_bound_socket_get_fd(s->sock);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
		if (ss.ss_family == AF_INET)
			s->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		else if (ss.ss_family == AF_INET6)
			s->port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	}
	return s;
}

void http_stop_accepting(struct http *s)
{
	if (s && s->sock) {
		evhttp_del_accept_socket(s->eh, s->sock);
		s->sock = NULL;
	}
}

void http_free(struct http *s)
{
	if (s == NULL)
		return;
	evhttp_free(s->eh);
	gate_free(s->gate); /* after evhttp_free: it releases the connections first */
	free(s);
}

int http_port(const struct http *s)
{
	return s->port;
}
