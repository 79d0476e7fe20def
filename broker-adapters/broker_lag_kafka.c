/* broker_lag_kafka.c - the queue-lag monitor of broker.h on librdkafka.
 *
 * rd_kafka_metadata(), rd_kafka_committed() and rd_kafka_query_watermark_offsets() all
 * block for a round trip (or their timeout when the cluster is down), so they run on a
 * thread of the monitor's own with a consumer handle that has the group's id but never
 * subscribes: it reads the group's committed offsets without joining the group or
 * disturbing its members. The thread (broker_lag.c) refreshes a snapshot every interval;
 * readers copy it under its mutex. */
#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "broker_int.h"
#include "kafka_conf.h"

#define LAG_CALL_TIMEOUT_MS 2000
#define LAG_MAX_PARTITIONS 4096

struct klag { /* the monitor's context; its thread is broker_lag.c's */
	rd_kafka_t *rk;
	rd_kafka_topic_t *rkt;
	char *topic;
	void (*log_cb)(void *, int, const char *);
	void *log_opaque;
};

static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	struct klag *l = rd_kafka_opaque(rk);
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
static int refresh(void *ctx, struct broker_lag_part **out, size_t *nout, char *why, size_t whylen)
{
	struct klag *l = ctx;
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
			.partition = p,
			.committed = c,
			.high = hi,
			.lag = hi > from ? hi - from : 0,
			.pending = -1,
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

static void klag_free(void *ctx)
{
	struct klag *l = ctx;
	if (!l)
		return;
	if (l->rkt)
		rd_kafka_topic_destroy(l->rkt);
	if (l->rk)
		rd_kafka_destroy_flags(l->rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
	free(l->topic);
	free(l);
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
	struct klag *l = calloc(1, sizeof *l);
	if (!l || !(l->topic = strdup(cfg->topic))) {
		free(l);
		snprintf(err, errlen, "kafka lag monitor: out of memory");
		return NULL;
	}
	l->log_cb = cfg->log_cb;
	l->log_opaque = cfg->log_opaque;

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
	if (kconf_apply(conf, kvs, sizeof kvs / sizeof kvs[0], cfg, err, errlen) < 0) {
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
	struct broker_lag *bl = broker_lag_start(refresh, klag_free, l, interval_ms, err, errlen);
	if (bl)
		return bl;
	l = NULL; /* freed by broker_lag_start */
fail:
	klag_free(l);
	return NULL;
}
