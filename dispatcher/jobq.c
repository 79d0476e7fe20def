/* jobq.c - broker producer on the event loop + GradingJob encoding (see jobq.h). */
#include "jobq.h"

#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "disp_config.h"
#include "log.h"

#define JOBQ_POLL_MS 50

struct jobq {
	struct broker *b;
	struct event *fd_ev; /* NULL if the adapter has no fd */
	struct event *timer;
};

static void jobq_on_poll(evutil_socket_t fd, short what, void *arg)
{
	struct jobq *q = arg;
	broker_poll(q->b);
}

static void jobq_log(void *opaque, int level, const char *msg)
{
	/* syslog levels: <= 3 error, 4 warning, 5-6 notice/info, 7 debug */
	enum gq_log_level l = level <= 3   ? GQ_LOG_ERR
	                      : level == 4 ? GQ_LOG_WARN
	                      : level <= 6 ? GQ_LOG_INFO
	                                   : GQ_LOG_DEBUG;
	gq_log(l, "%s: %s", (const char *)opaque, msg);
}

struct jobq *jobq_new(struct event_base *base, const struct disp_config *cfg, char *err,
                      size_t errlen)
{
	struct jobq *q = calloc(1, sizeof *q);
	if (q == NULL)
		return NULL;
	bool kafka = strcmp(cfg->broker_kind, "kafka") == 0;
	struct broker_config bc = {
		.brokers = kafka ? cfg->kafka_brokers : cfg->redis_address,
		.topic = kafka ? cfg->kafka_topic : cfg->broker_stream,
		.group = kafka ? NULL : cfg->broker_group,
		.client_id = "gradeq-dispatcher",
		.log_cb = jobq_log,
		.log_opaque = kafka ? "kafka" : "redis broker",
	};
	disp_config_broker_auth(cfg, &bc.auth);
	q->b = kafka ? broker_kafka_producer_new(&bc, err, errlen)
	             : broker_redis_producer_new(&bc, err, errlen);
	if (q->b == NULL)
		goto fail;
	int fd = broker_fd(q->b);
	if (fd >= 0) {
		q->fd_ev = event_new(base, fd, EV_READ | EV_PERSIST, jobq_on_poll, q);
		if (q->fd_ev == NULL || event_add(q->fd_ev, NULL) < 0)
			goto fail_ev;
	}
	q->timer = event_new(base, -1, EV_PERSIST, jobq_on_poll, q);
	struct timeval tv = { 0, JOBQ_POLL_MS * 1000 };
	if (q->timer == NULL || event_add(q->timer, &tv) < 0)
		goto fail_ev;
	return q;
fail_ev:
	snprintf(err, errlen, "cannot add the broker's events to the loop");
fail:
	if (q->fd_ev)
		event_free(q->fd_ev);
	if (q->timer)
		event_free(q->timer);
	broker_free(q->b);
	free(q);
	return NULL;
}

void jobq_free(struct jobq *q, int timeout_ms)
{
	if (q == NULL)
		return;
	if (q->fd_ev)
		event_free(q->fd_ev);
	if (q->timer)
		event_free(q->timer);
	if (broker_close(q->b, timeout_ms) < 0)
		LOG_WARN("broker: some jobs were not flushed before exit");
	broker_free(q->b);
	free(q);
}

bool jobq_up(const struct jobq *q)
{
	return q != NULL && broker_up(q->b);
}

int jobq_publish(struct jobq *q, const struct job_spec *s, broker_ack_cb cb, void *opaque)
{
	if (q == NULL)
		return -ESHUTDOWN;
	Gradeq__Limits lim = GRADEQ__LIMITS__INIT;
	lim.timeout_s = s->timeout_s;
	lim.memory_mb = s->memory_mb;
	Gradeq__GradingJob job = GRADEQ__GRADING_JOB__INIT;
	char source_key[64];
	snprintf(source_key, sizeof source_key, "gq:src:%s", s->id);
	job.schema_version = GQ_SCHEMA_VERSION;
	job.submission_id = (char *)s->id;
	job.course = (char *)s->course;
	job.exercise = (char *)s->exercise;
	job.student = (char *)s->student;
	job.attempt = s->attempt;
	job.retry = 0;
	job.source_key = source_key;
	job.source_sha256.data = (uint8_t *)s->source_sha256;
	job.source_sha256.len = 32;
	job.tests_hash = (char *)s->tests_hash;
	job.limits = &lim;
	job.max_points = s->max_points;
	job.safety_check = s->safety_check;
	job.submitted_ms = s->submitted_ms;
	size_t len = 0;
	uint8_t *buf = codec_job_encode(&job, &len);
	if (buf == NULL)
		return -ENOMEM;
	int rc = broker_publish(q->b, s->student, buf, len, cb, opaque);
	free(buf);
	return rc;
}
