/* http_gate.c - connection caps and request deadlines in front of evhttp (http_gate.h). */
#include "http_gate.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

enum conn_state { C_NEW, C_OPEN, C_REFUSED, C_CUT };

struct gate;

/* Per connection, for the input buffer's callback; owned by the gate (freed in the
 * sweep once evhttp released the bufferevent, which also drops the callback). */
struct hdr_watch {
	struct gate *g;
	struct bufferevent *bev;
	size_t bytes; /* of the current request's line + headers so far */
	int state;    /* gate_header_scan's */
	bool over;    /* answered 431 and cut */
};

struct conn {
	struct bufferevent *bev; /* the gate holds one reference */
	struct hdr_watch *w;     /* owned */
	enum conn_state state;
	unsigned char addr[16]; /* IPv4 mapped into IPv6 form; zero if unknown */
	int64_t deadline_ms;    /* monotonic: a whole request must have arrived by then */
};

struct gate {
	struct event_base *base;
	struct gate_limits lim;
	struct event *ev_admit; /* activated by the bevcb: checks C_NEW connections */
	struct event *ev_sweep; /* periodic */
	struct conn *c;         /* owned; n used of cap */
	size_t n, cap;
	unsigned open;
	unsigned long refused, cut;
};

/* true once evhttp has released the bufferevent: bufferevent_free() clears every
 * callback, while evhttp keeps its error callback set for as long as it uses one. */
static bool released(struct bufferevent *bev)
{
	bufferevent_event_cb ecb = NULL;
	bufferevent_getcb(bev, NULL, NULL, &ecb, NULL);
	return ecb == NULL;
}

size_t gate_header_scan(int *state, const char *p, size_t n)
{
	/* 0: inside a line; 1: after '\n'; 2: after "\n\r". evhttp accepts LF or CRLF, so
	 * "\n\n" and "\n\r\n" both end the headers. */
	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		if (*state == GATE_HDR_DONE)
			return i;
		if (c == '\n')
			*state = *state == 0 ? 1 : GATE_HDR_DONE;
		else if (c == '\r' && *state == 1)
			*state = 2;
		else
			*state = 0;
		if (*state == GATE_HDR_DONE)
			return i + 1;
	}
	return n;
}

static void answer_431(struct hdr_watch *w)
{
	static const char body[] = "{\"error\":\"request line and headers over the cap\"}\n";
	char msg[256];
	int ml = snprintf(msg, sizeof msg,
	                  "HTTP/1.1 431 Request Header Fields Too Large\r\n"
	                  "Content-Type: application/json\r\nConnection: close\r\n"
	                  "Content-Length: %zu\r\n\r\n%s",
	                  sizeof body - 1, body);
	int fd = bufferevent_getfd(w->bev);
	if (fd >= 0) {
		if (send(fd, msg, (size_t)ml, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
			LOG_DEBUG("http gate: 431 not sent: %s", strerror(errno));
		shutdown(fd, SHUT_RDWR);
	}
	w->over = true;
}

/* Runs as bytes are added to the input buffer, before evhttp's read callback. */
static void on_input(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	struct hdr_watch *w = arg;
	if (info->n_added == 0 || w->over || w->state == GATE_HDR_DONE)
		return;
	size_t len = evbuffer_get_length(buf);
	size_t from = len >= info->n_added ? len - info->n_added : 0;
	struct evbuffer_ptr pos;
	if (evbuffer_ptr_set(buf, &pos, from, EVBUFFER_PTR_SET) < 0)
		return;
	struct evbuffer_iovec v[8];
	size_t left = len - from;
	while (left > 0 && w->state != GATE_HDR_DONE) {
		int k = evbuffer_peek(buf, (ev_ssize_t)left, &pos, v, 8);
		if (k <= 0)
			break;
		size_t seen = 0;
		for (int i = 0; i < k && i < 8 && left > 0 && w->state != GATE_HDR_DONE; i++) {
			size_t n = v[i].iov_len < left ? v[i].iov_len : left;
			size_t used = gate_header_scan(&w->state, v[i].iov_base, n);
			w->bytes += used;
			seen += n;
			left -= n;
		}
		if (w->bytes > w->g->lim.max_header_bytes) {
			answer_431(w);
			return;
		}
		if (evbuffer_ptr_set(buf, &pos, seen, EVBUFFER_PTR_ADD) < 0)
			break;
	}
	if (w->state != GATE_HDR_DONE && w->bytes > w->g->lim.max_header_bytes)
		answer_431(w);
}

static struct bufferevent *gate_bevcb(struct event_base *base, void *arg)
{
	struct gate *g = arg;
	struct bufferevent *bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL)
		return NULL; /* evhttp makes its own: that connection escapes the gate */
	if (g->n == g->cap) {
		size_t cap = g->cap ? 2 * g->cap : 64;
		struct conn *c = realloc(g->c, cap * sizeof *c);
		if (c == NULL)
			return bev; /* not tracked; the caps stay in force for the others */
		g->c = c;
		g->cap = cap;
	}
	struct hdr_watch *w = calloc(1, sizeof *w);
	if (w == NULL)
		return bev;
	w->g = g;
	w->bev = bev;
	if (evbuffer_add_cb(bufferevent_get_input(bev), on_input, w) == NULL) {
		free(w);
		return bev;
	}
	bufferevent_incref(bev);
	g->c[g->n++] = (struct conn){ .bev = bev, .w = w, .state = C_NEW };
	event_active(g->ev_admit, EV_TIMEOUT, 0);
	return bev;
}

static void peer_addr(int fd, unsigned char out[16])
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	memset(out, 0, 16);
	if (fd < 0 || getpeername(fd, (struct sockaddr *)&ss, &sl) < 0)
		return;
	if (ss.ss_family == AF_INET) {
		out[10] = out[11] = 0xff;
		memcpy(out + 12, &((struct sockaddr_in *)&ss)->sin_addr, 4);
	} else if (ss.ss_family == AF_INET6) {
		memcpy(out, &((struct sockaddr_in6 *)&ss)->sin6_addr, 16);
	}
}

static unsigned open_of(const struct gate *g, const unsigned char addr[16])
{
	unsigned k = 0;
	for (size_t i = 0; i < g->n; i++)
		if (g->c[i].state == C_OPEN && memcmp(g->c[i].addr, addr, 16) == 0)
			k++;
	return k;
}

/* Best effort: the socket is fresh, its send buffer empty, the answer small. */
static void refuse(struct gate *g, struct conn *c, const char *why)
{
	int fd = bufferevent_getfd(c->bev);
	char msg[400];
	char body[160];
	int bl = snprintf(body, sizeof body, "{\"error\":\"%s, retry in %u s\"}\n", why,
	                  g->lim.retry_after_s);
	int ml = snprintf(msg, sizeof msg,
	                  "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
	                  "Retry-After: %u\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s",
	                  g->lim.retry_after_s, bl, body);
	if (fd >= 0) {
		if (send(fd, msg, (size_t)ml, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
			LOG_DEBUG("http gate: 503 not sent: %s", strerror(errno));
		shutdown(fd, SHUT_RDWR);
	}
	c->state = C_REFUSED;
	g->refused++;
}

/* Drops the connections evhttp has released (their places are free again). */
static void collect(struct gate *g)
{
	size_t j = 0;
	for (size_t i = 0; i < g->n; i++) {
		struct conn *c = &g->c[i];
		if (released(c->bev)) {
			if (c->state == C_OPEN)
				g->open--;
			bufferevent_decref(c->bev); /* the last reference: closes the socket */
			free(c->w);
			continue;
		}
		g->c[j++] = *c;
	}
	g->n = j;
}

static void on_admit(evutil_socket_t fd_, short what, void *arg)
{
	struct gate *g = arg;
	int64_t now = util_mono_ms();
	collect(g);
	for (size_t i = 0; i < g->n; i++) {
		struct conn *c = &g->c[i];
		if (c->state != C_NEW || released(c->bev))
			continue;
		peer_addr(bufferevent_getfd(c->bev), c->addr);
		if (g->open >= g->lim.max_conns) {
			LOG_WARN("http gate: %u connections open (the cap): refused one", g->open);
			refuse(g, c, "too many connections");
		} else if (open_of(g, c->addr) >= g->lim.max_per_client) {
			LOG_WARN("http gate: a client holds %u connections (the cap): refused one",
			         g->lim.max_per_client);
			refuse(g, c, "too many connections from this client");
		} else {
			c->state = C_OPEN;
			c->deadline_ms = now + (int64_t)g->lim.rx_deadline_s * 1000;
			g->open++;
		}
	}
}

static void on_sweep(evutil_socket_t fd_, short what, void *arg)
{
	struct gate *g = arg;
	int64_t now = util_mono_ms();
	on_admit(-1, 0, g); /* collects, and admits any connection not yet checked */
	for (size_t i = 0; i < g->n; i++) {
		struct conn *c = &g->c[i];
		if (c->state == C_OPEN && now >= c->deadline_ms) {
			/* No whole request within the deadline (slow headers or body, or an idle
			 * keep-alive connection): cut. evhttp sees the EOF and frees it. */
			int fd = bufferevent_getfd(c->bev);
			if (fd >= 0)
				shutdown(fd, SHUT_RDWR);
			c->state = C_CUT;
			g->open--;
			g->cut++;
			LOG_DEBUG("http gate: a connection sent no whole request within %u s",
			          g->lim.rx_deadline_s);
		}
	}
}

struct gate *gate_new(struct event_base *base, struct evhttp *eh, const struct gate_limits *l)
{
	struct gate *g = calloc(1, sizeof *g);
	if (g == NULL)
		return NULL;
	g->base = base;
	g->lim = *l;
	g->ev_admit = event_new(base, -1, 0, on_admit, g);
	g->ev_sweep = event_new(base, -1, EV_PERSIST, on_sweep, g);
	struct timeval tv = { 0, GATE_SWEEP_MS * 1000 };
	if (g->ev_admit == NULL || g->ev_sweep == NULL || event_add(g->ev_sweep, &tv) < 0) {
		gate_free(g);
		return NULL;
	}
	evhttp_set_bevcb(eh, gate_bevcb, g);
	return g;
}

bool gate_request_received(struct gate *g, struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
	for (size_t i = 0; bev && i < g->n; i++) {
		struct conn *c = &g->c[i];
		if (c->bev != bev)
			continue;
		if (c->w->over || c->state == C_REFUSED || c->state == C_CUT)
			return false;
		c->deadline_ms =
			util_mono_ms() + (int64_t)(g->lim.busy_s + g->lim.rx_deadline_s) * 1000;
		c->w->bytes = 0;
		c->w->state = 0;
		return true;
	}
	return true;
}

unsigned gate_open(const struct gate *g)
{
	return g->open;
}

unsigned long gate_refused(const struct gate *g)
{
	return g->refused;
}

void gate_free(struct gate *g)
{
	if (g == NULL)
		return;
	if (g->ev_admit)
		event_free(g->ev_admit);
	if (g->ev_sweep)
		event_free(g->ev_sweep);
	for (size_t i = 0; i < g->n; i++) {
		evbuffer_remove_cb(bufferevent_get_input(g->c[i].bev), on_input, g->c[i].w);
		bufferevent_decref(g->c[i].bev);
		free(g->c[i].w);
	}
	free(g->c);
	free(g);
}
