/* disp.c - builds and tears down the dispatcher's state (see disp.h). */
#include "disp.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "http.h"
#include "jobq.h"
#include "log.h"
#include "redis_async.h"
#include "util.h"

#define DISP_FLUSH_MS 5000
#define DISP_TAIL_MS 2000
#define DISP_LAG_INTERVAL_MS 2000

static void lag_log(void *opaque, int level, const char *msg)
{
	/* librdkafka's threads; syslog levels. Only warnings and worse: the monitor retries
	 * by itself and its errors show in the status answer. */
	if (level <= 4)
		gq_log(level <= 3 ? GQ_LOG_ERR : GQ_LOG_WARN, "broker: %s", msg);
}

struct disp *disp_new(struct event_base *base, const struct disp_config *cfg, char *err,
                      size_t errlen)
{
	struct disp *d = calloc(1, sizeof *d);
	if (d == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	d->base = base;
	d->cfg = *cfg;
	char why[256];
	if (token_secret_load(cfg->secret_file, &d->secret, why, sizeof why) < 0) {
		snprintf(err, errlen, "secret: %s", why);
		goto fail;
	}
	d->rds = rds_new(base, cfg->redis_host, cfg->redis_port, (int)cfg->redis_timeout_ms,
	                 cfg->creds.redis_user, cfg->creds.redis_password);
	if (d->rds == NULL) {
		snprintf(err, errlen, "redis: out of memory");
		goto fail;
	}
	d->jobq = jobq_new(base, cfg, why, sizeof why);
	if (d->jobq == NULL) {
		snprintf(err, errlen, "%s broker: %s", cfg->broker_kind, why);
		goto fail;
	}
	bool kafka = strcmp(cfg->broker_kind, "kafka") == 0;
	struct broker_config lc = { .brokers = kafka ? cfg->kafka_brokers : cfg->redis_address,
		                    .topic = kafka ? cfg->kafka_topic : cfg->broker_stream,
		                    .group = kafka ? cfg->kafka_group : cfg->broker_group,
		                    .client_id = "gradeq-dispatcher",
		                    .log_cb = lag_log };
	disp_config_broker_auth(cfg, &lc.auth);
	d->lag = kafka ? broker_kafka_lag_new(&lc, DISP_LAG_INTERVAL_MS, why, sizeof why)
	               : broker_redis_lag_new(&lc, DISP_LAG_INTERVAL_MS, why, sizeof why);
	if (d->lag == NULL) {
		snprintf(err, errlen, "%s", why);
		goto fail;
	}
	d->http = http_new(d, err, errlen);
	if (d->http == NULL)
		goto fail;
	return d;
fail:
	disp_free(d);
	return NULL;
}

/* Runs the loop until no operation is in flight (seen twice in a row, 50 ms apart, so
 * the last answers leave their output buffers) or until the deadline. */
struct drain {
	struct disp *d;
	struct event *ev;
	int64_t until_ms;
	int idle_ticks;
};

static void disp_on_drain(evutil_socket_t fd, short what, void *arg)
{
	struct drain *dr = arg;
	dr->idle_ticks = dr->d->ops == 0 ? dr->idle_ticks + 1 : 0;
	if (dr->idle_ticks < 2 && util_mono_ms() < dr->until_ms)
		return;
	if (dr->d->ops > 0)
		LOG_WARN("shutting down with %u operations unfinished", dr->d->ops);
	event_base_loopexit(dr->d->base, NULL);
	event_free(dr->ev);
	free(dr);
}

static void disp_drain(struct disp *d, int timeout_ms)
{
	struct drain *dr = calloc(1, sizeof *dr);
	if (dr == NULL) {
		event_base_loopexit(d->base, NULL);
		return;
	}
	dr->d = d;
	dr->until_ms = util_mono_ms() + timeout_ms;
	dr->ev = event_new(d->base, -1, EV_PERSIST, disp_on_drain, dr);
	struct timeval tv = { 0, 50 * 1000 };
	if (dr->ev == NULL || event_add(dr->ev, &tv) < 0) {
		if (dr->ev)
			event_free(dr->ev);
		free(dr);
		event_base_loopexit(d->base, NULL);
	}
}

void disp_shutdown(struct disp *d, int timeout_ms)
{
	if (d->draining)
		return;
	d->draining = true;
	http_stop_accepting(d->http);
	LOG_INFO("shutting down: %u requests in flight", d->ops);
	disp_drain(d, timeout_ms);
}

void disp_free(struct disp *d)
{
	if (d == NULL)
		return;
	d->draining = true;
	/* Order matters. The job queue flushes first: its last acks (or cancellations) run
	 * from here and may still write records through Redis; a short second drain lets
	 * those replies come back and the answers reach their clients. Then the HTTP
	 * server goes (requests still pending lose their client), then Redis, which hands
	 * NULL to whatever is left so every operation ends and frees its request. */
	if (d->jobq) {
		jobq_free(d->jobq, DISP_FLUSH_MS);
		d->jobq = NULL;
		disp_drain(d, DISP_TAIL_MS); /* ~100 ms when nothing is left */
		event_base_dispatch(d->base);
	}
	http_free(d->http);
	broker_lag_free(d->lag);
	rds_free(d->rds);
	memset(&d->secret, 0, sizeof d->secret);
	free(d);
}

int disp_port(const struct disp *d)
{
	return http_port(d->http);
}
