/* dlq_read.c - test tool: prints every message of a dead-letter topic, one JSON object a
 * line: {"partition","offset","len","reason","source"} (reason and source from the
 * gradeq-reason and gradeq-source headers). Reads from the beginning to the end of each
 * partition without joining a group, then exits 0; 1 on an error or timeout.
 *
 *   dlq_read -b BROKERS [-t TOPIC] [--timeout S]      (TOPIC default gradeq.jobs.dlq) */
#include <getopt.h>
#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static json_t *header(rd_kafka_message_t *m, const char *name)
{
	rd_kafka_headers_t *h = NULL;
	const void *v;
	size_t len;
	if (rd_kafka_message_headers(m, &h) || rd_kafka_header_get_last(h, name, &v, &len))
		return json_null();
	json_t *s = json_stringn(v, len);
	return s ? s : json_string("(not UTF-8)");
}

int main(int argc, char **argv)
{
	const char *brokers = NULL, *topic = "gradeq.jobs.dlq";
	long timeout_s = 30;
	static const struct option opts[] = { { "timeout", required_argument, NULL, 'T' },
		                              { NULL, 0, NULL, 0 } };
	int c;
	while ((c = getopt_long(argc, argv, "b:t:", opts, NULL)) != -1) {
		if (c == 'b')
			brokers = optarg;
		else if (c == 't')
			topic = optarg;
		else if (c == 'T')
			timeout_s = strtol(optarg, NULL, 10);
		else
			return 2;
	}
	if (!brokers) {
		fprintf(stderr, "usage: dlq_read -b BROKERS [-t TOPIC] [--timeout S]\n");
		return 2;
	}
	char err[512];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers, err, sizeof err) ||
	    rd_kafka_conf_set(conf, "group.id", "gradeq-dlq-read", err, sizeof err) ||
	    rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof err) ||
	    rd_kafka_conf_set(conf, "enable.partition.eof", "true", err, sizeof err) ||
	    rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err)) {
		fprintf(stderr, "dlq_read: %s\n", err);
		return 1;
	}
	/* SASL credentials as `scripts/cluster env` exports them (the admin principal) */
	const char *sec = getenv("GRADEQ_KAFKA_SECURITY_PROTOCOL");
	const char *pwf = getenv("GRADEQ_KAFKA_SASL_PASSWORD_FILE");
	if (sec && *sec && strncmp(sec, "SASL_", 5) == 0 && pwf) {
		char pw[256] = "";
		FILE *f = fopen(pwf, "r");
		if (!f || !fgets(pw, sizeof pw, f)) {
			fprintf(stderr, "dlq_read: %s: cannot read\n", pwf);
			return 1;
		}
		fclose(f);
		pw[strcspn(pw, "\n")] = '\0';
		const char *mech = getenv("GRADEQ_KAFKA_SASL_MECHANISM");
		const char *user = getenv("GRADEQ_KAFKA_SASL_USERNAME");
		if (rd_kafka_conf_set(conf, "security.protocol", sec, err, sizeof err) ||
		    rd_kafka_conf_set(conf, "sasl.mechanisms", mech ? mech : "SCRAM-SHA-512", err,
		                      sizeof err) ||
		    rd_kafka_conf_set(conf, "sasl.username", user ? user : "", err, sizeof err) ||
		    rd_kafka_conf_set(conf, "sasl.password", pw, err, sizeof err)) {
			fprintf(stderr, "dlq_read: %s\n", err);
			return 1;
		}
	}
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
	if (!rk) {
		fprintf(stderr, "dlq_read: %s\n", err);
		return 1;
	}
	int rc = 1;
	int64_t deadline = now_ms() + timeout_s * 1000;
	rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_topic_partition_list_t *l = NULL;
	rd_kafka_resp_err_t e;
	while ((e = rd_kafka_metadata(rk, 0, rkt, &md, 5000)) || md->topics[0].err) {
		if (md) {
			e = md->topics[0].err;
			rd_kafka_metadata_destroy(md);
			md = NULL;
		}
		if (now_ms() > deadline) {
			fprintf(stderr, "dlq_read: metadata of %s: %s\n", topic,
			        rd_kafka_err2str(e));
			goto out;
		}
	}
	int np = md->topics[0].partition_cnt;
	l = rd_kafka_topic_partition_list_new(np);
	for (int i = 0; i < np; i++)
		rd_kafka_topic_partition_list_add(l, topic, md->topics[0].partitions[i].id)
			->offset = RD_KAFKA_OFFSET_BEGINNING;
	if ((e = rd_kafka_assign(rk, l))) {
		fprintf(stderr, "dlq_read: assign: %s\n", rd_kafka_err2str(e));
		goto out;
	}
	int eof = 0;
	while (eof < np) {
		if (now_ms() > deadline) {
			fprintf(stderr, "dlq_read: timed out (%d of %d partitions read)\n", eof,
			        np);
			goto out;
		}
		rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 500);
		if (!m)
			continue;
		if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
			eof++;
		} else if (m->err) {
			fprintf(stderr, "dlq_read: %s\n", rd_kafka_message_errstr(m));
		} else {
			json_t *o = json_pack(
				"{s:i,s:I,s:I,s:o,s:o}", "partition", (int)m->partition, "offset",
				(json_int_t)m->offset, "len", (json_int_t)m->len, "reason",
				header(m, "gradeq-reason"), "source", header(m, "gradeq-source"));
			char *s = json_dumps(o, JSON_COMPACT);
			puts(s);
			free(s);
			json_decref(o);
		}
		rd_kafka_message_destroy(m);
	}
	rc = 0;
out:
	if (l)
		rd_kafka_topic_partition_list_destroy(l);
	if (md)
		rd_kafka_metadata_destroy(md);
	rd_kafka_topic_destroy(rkt);
	rd_kafka_destroy_flags(rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
	return rc;
}
