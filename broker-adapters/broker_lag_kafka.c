/* broker_lag_kafka.c - the queue-lag monitor of broker.h on librdkafka.
 *
 * rd_kafka_metadata(), rd_kafka_committed() and rd_kafka_query_watermark_offsets() all
 * block for a round trip (or their timeout when the cluster is down), so they run on a
 * thread of the monitor's own with a consumer handle that has the group's id but never
 * subscribes: it reads the group's committed offsets without joining the group or
 * disturbing its members. The thread refreshes a snapshot every interval; readers copy it
 * under the mutex. */
#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "broker.h"
#include "kafka_conf.h"

#define LAG_CALL_TIMEOUT_MS 2000
#define LAG_MAX_PARTITIONS 4096

struct broker_lag {
	rd_kafka_t *rk;
	rd_kafka_topic_t *rkt;
	char *topic;
	int interval_ms;
	void (*log_cb)(void *, int, const char *);
	void *log_opaque;
	pthread_t thread;
	bool started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	/* the snapshot, under mu */
	struct broker_lag_part *parts;
	size_t n;
	int64_t taken_ms;
	int state; /* -EAGAIN none yet, 0 ok, -EIO last refresh failed */
	char error[256];
};

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	struct broker_lag *l = rd_kafka_opaque(rk);
	if (l && l->log_cb) {
		char line[1024];
		snprintf(line, sizeof line, "lag monitor: %s: %s", fac, buf);
		l->log_cb(l->log_opaque, level, line);
	}
}

static int cmp_part(const void *a, const void *b)
{
	const struct broker_lag_part *x = a, *y = b;
	return (x->partition > y->partition) - (x->partition < y->partition);
}

/* One refresh; returns 0 and a malloc'd array, or -EIO with why. Runs on the thread. */
static int refresh(struct broker_lag *l, struct broker_lag_part **out, size_t *nout, char *why,
                   size_t whylen)
{
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_topic_partition_list_t *list = NULL;
	struct broker_lag_part *parts = NULL;
	int rc = -EIO;
	rd_kafka_resp_err_t e = rd_kafka_metadata(l->rk, 0, l->rkt, &md, LAG_CALL_TIMEOUT_MS);
	if (e) {
		snprintf(why, whylen, "metadata: %s", rd_kafka_err2str(e));
		goto out;
	}
	if (md->topic_cnt != 1 || md->topics[0].err) {
		snprintf(why, whylen, "topic %s: %s", l->topic,
		         md->topic_cnt == 1 ? rd_kafka_err2str(md->topics[0].err) : "not found");
		goto out;
	}
	int np = md->topics[0].partition_cnt;
	if (np <= 0 || np > LAG_MAX_PARTITIONS) {
		snprintf(why, whylen, "topic %s: %d partitions", l->topic, np);
		goto out;
	}
	list = rd_kafka_topic_partition_list_new(np);
	parts = calloc((size_t)np, sizeof *parts);
	if (!list || !parts) {
		snprintf(why, whylen, "out of memory");
		goto out;
	}
	for (int i = 0; i < np; i++)
		rd_kafka_topic_partition_list_add(list, l->topic, md->topics[0].partitions[i].id);
	e = rd_kafka_committed(l->rk, list, LAG_CALL_TIMEOUT_MS);
	if (e) {
		snprintf(why, whylen, "committed offsets: %s", rd_kafka_err2str(e));
		goto out;
	}
	for (int i = 0; i < list->cnt; i++) {
		int64_t lo = 0, hi = 0;
		int32_t p = list->elems[i].partition;
		e = rd_kafka_query_watermark_offsets(l->rk, l->topic, p, &lo, &hi,
		                                     LAG_CALL_TIMEOUT_MS);
		if (e) {
			snprintf(why, whylen, "watermarks of partition %d: %s", (int)p,
			         rd_kafka_err2str(e));
			goto out;
		}
		int64_t c = list->elems[i].err ? -1 : list->elems[i].offset;
		if (c < 0)
			c = -1;                 /* RD_KAFKA_OFFSET_INVALID: nothing committed yet */
		int64_t from = c >= 0 ? c : lo; /* auto.offset.reset=earliest */
		parts[i] = (struct broker_lag_part){
			.partition = p, .committed = c, .high = hi, .lag = hi > from ? hi - from : 0
		};
	}
	qsort(parts, (size_t)list->cnt, sizeof *parts, cmp_part);
	*out = parts;
	*nout = (size_t)list->cnt;
	parts = NULL;
	rc = 0;
out:
	free(parts);
	if (list)
		rd_kafka_topic_partition_list_destroy(list);
	if (md)
		rd_kafka_metadata_destroy(md);
	return rc;
}

static void *lag_thread(void *arg)
{
	struct broker_lag *l = arg;
	pthread_mutex_lock(&l->mu);
	while (!l->stop) {
		pthread_mutex_unlock(&l->mu);
		struct broker_lag_part *parts = NULL;
		size_t n = 0;
		char why[256] = "";
		int rc = refresh(l, &parts, &n, why, sizeof why);
		pthread_mutex_lock(&l->mu);
		if (rc == 0) {
			free(l->parts);
			l->parts = parts;
			l->n = n;
			l->taken_ms = wall_ms();
			l->state = 0;
			l->error[0] = '\0';
		} else {
			l->state = -EIO;
			snprintf(l->error, sizeof l->error, "%s", why);
		}
		if (l->stop)
			break;
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += l->interval_ms / 1000;
		until.tv_nsec += (long)(l->interval_ms % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		while (!l->stop && pthread_cond_timedwait(&l->cv, &l->mu, &until) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&l->mu);
	return NULL;
}

struct broker_lag *broker_kafka_lag_new(const struct broker_config *cfg, int interval_ms, char *err,
                                        size_t errlen)
{
	if (!cfg || !cfg->brokers || !*cfg->brokers || !cfg->topic || !*cfg->topic || !cfg->group ||
	    !*cfg->group || interval_ms <= 0) {
		snprintf(err, errlen,
		         "kafka lag monitor: brokers, topic, group and interval needed");
		return NULL;
	}
	struct broker_lag *l = calloc(1, sizeof *l);
	if (!l || !(l->topic = strdup(cfg->topic))) {
		free(l);
		snprintf(err, errlen, "kafka lag monitor: out of memory");
		return NULL;
	}
	l->interval_ms = interval_ms;
	l->log_cb = cfg->log_cb;
	l->log_opaque = cfg->log_opaque;
	l->state = -EAGAIN;
	pthread_mutex_init(&l->mu, NULL);
	pthread_cond_init(&l->cv, NULL);

	char cid[300];
	snprintf(cid, sizeof cid, "%s-lag", cfg->client_id ? cfg->client_id : "gradeq");
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	const struct kconf_kv kvs[] = {
		{ "bootstrap.servers", cfg->brokers },
		{ "group.id", cfg->group },
		{ "client.id", cid },
		{ "enable.auto.commit", "false" },
		{ "enable.auto.offset.store", "false" },
		{ "reconnect.backoff.ms", "100" },
		{ "reconnect.backoff.max.ms", "2000" },
		{ "topic.metadata.refresh.interval.ms", "10000" },
	};
	if (kconf_apply(conf, kvs, sizeof kvs / sizeof kvs[0], cfg->props, err, errlen) < 0) {
		rd_kafka_conf_destroy(conf);
		goto fail;
	}
	rd_kafka_conf_set_opaque(conf, l);
	rd_kafka_conf_set_log_cb(conf, on_log);
	char why[512];
	l->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof why);
	if (!l->rk) {
		rd_kafka_conf_destroy(conf);
		snprintf(err, errlen, "kafka lag monitor: %s", why);
		goto fail;
	}
	l->rkt = rd_kafka_topic_new(l->rk, l->topic, NULL);
	if (!l->rkt) {
		snprintf(err, errlen, "kafka lag monitor: topic %s: %s", l->topic,
		         rd_kafka_err2str(rd_kafka_last_error()));
		goto fail;
	}
	int r = pthread_create(&l->thread, NULL, lag_thread, l);
	if (r != 0) {
		snprintf(err, errlen, "kafka lag monitor: thread: %s", strerror(r));
		goto fail;
	}
	l->started = true;
	return l;
fail:
	broker_lag_free(l);
	return NULL;
}

int broker_lag_get(struct broker_lag *l, struct broker_lag_part *out, size_t max, int64_t *taken_ms,
                   char *err, size_t errlen)
{
	if (!l || (!out && max))
		return -EINVAL;
	pthread_mutex_lock(&l->mu);
	int rc = l->state;
	if (rc == 0) {
		size_t n = l->n < max ? l->n : max;
		memcpy(out, l->parts, n * sizeof *out);
		if (taken_ms)
			*taken_ms = l->taken_ms;
		rc = (int)n;
	} else if (rc == -EIO) {
		snprintf(err, errlen, "%s", l->error);
	} else {
		snprintf(err, errlen, "not measured yet");
	}
	pthread_mutex_unlock(&l->mu);
	return rc;
}

void broker_lag_free(struct broker_lag *l)
{
	if (!l)
		return;
	if (l->started) {
		pthread_mutex_lock(&l->mu);
		l->stop = true;
		pthread_cond_signal(&l->cv);
		pthread_mutex_unlock(&l->mu);
		pthread_join(l->thread, NULL);
	}
	if (l->rkt)
		rd_kafka_topic_destroy(l->rkt);
	if (l->rk)
		rd_kafka_destroy_flags(l->rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
	pthread_mutex_destroy(&l->mu);
	pthread_cond_destroy(&l->cv);
	free(l->parts);
	free(l->topic);
	free(l);
}
