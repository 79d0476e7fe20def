/* produce_job.c - test tool: publishes one GradingJob (or a poison message) to a real
 * Kafka cluster, or with --redis to a Redis stream (default gq:jobs, group
 * gradeq-graders), through the broker interface, and packs exercise bundles.
 *
 *   produce_job -b BROKERS [-t TOPIC] --id ID --course C --exercise E --student S
 *               --source FILE --tests-hash HASH [--attempt N] [--retry N]
 *               [--max-points X] [--timeout S] [--memory MB] [--safety]
 *   produce_job -b BROKERS [-t TOPIC] --garbage N | --oversize | --schema V [job opts]
 *   produce_job --redis HOST:PORT [-t STREAM] ...   the same on the Redis adapter
 *   produce_job --pack EXERCISE_DIR OUT      writes the bundle to OUT, prints its hash
 *
 * Exit 0 once the broker acknowledged, 1 otherwise. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "creds.h"
#include "broker.h"
#include "bundle.h"
#include "codec.h"
#include "names.h"
#include "util.h"

static int acked, ack_err;
static char ack_reason[256];

static void on_ack(void *opaque, int err, bool retriable, const char *reason)
{
	acked = 1;
	ack_err = err;
	snprintf(ack_reason, sizeof ack_reason, "%s%s", reason, retriable ? " (retriable)" : "");
}

static void usage(void)
{
	fprintf(stderr,
	        "usage: produce_job -b BROKERS | --redis HOST:PORT [-t TOPIC] [-X K=V] --id ID "
	        "--course C\n"
	        "         --exercise E\n"
	        "         --student S --source FILE --tests-hash HASH [--attempt N] [--retry N]\n"
	        "         [--max-points X] [--timeout S] [--memory MB] [--safety]\n"
	        "         [--garbage N | --oversize | --schema V]\n"
	        "       produce_job --pack EXERCISE_DIR OUT\n");
}

static int pack(const char *dir, const char *out)
{
	char *buf, err[256], hash[65];
	size_t len;
	if (bundle_pack_dir(dir, &buf, &len, err, sizeof err) < 0) {
		fprintf(stderr, "produce_job: %s\n", err);
		return 1;
	}
	FILE *f = fopen(out, "wb");
	if (!f || fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
		fprintf(stderr, "produce_job: write %s: %s\n", out, strerror(errno));
		free(buf);
		return 1;
	}
	util_sha256_hex(buf, len, hash);
	printf("%s\n", hash);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	const char *brokers = NULL, *topic = NULL, *source = NULL, *redis = NULL;
	const char *id = NULL, *course = "c", *exercise = "e", *student = "s";
	const char *tests_hash = NULL;
	long long attempt = 1, retry = 0, timeout = 60, memory = 0, schema = GQ_SCHEMA_VERSION;
	long long garbage = -1;
	double max_points = 0;
	int oversize = 0, safety = 0;
	enum {
		O_ID = 256,
		O_COURSE,
		O_EX,
		O_STUDENT,
		O_SOURCE,
		O_HASH,
		O_ATTEMPT,
		O_RETRY,
		O_MAXP,
		O_TIMEOUT,
		O_MEMORY,
		O_SAFETY,
		O_GARBAGE,
		O_OVERSIZE,
		O_SCHEMA,
		O_PACK,
		O_REDIS,
	};
	static const struct option opts[] = {
		{ "brokers", required_argument, NULL, 'b' },
		{ "topic", required_argument, NULL, 't' },
		{ "id", required_argument, NULL, O_ID },
		{ "course", required_argument, NULL, O_COURSE },
		{ "exercise", required_argument, NULL, O_EX },
		{ "student", required_argument, NULL, O_STUDENT },
		{ "source", required_argument, NULL, O_SOURCE },
		{ "tests-hash", required_argument, NULL, O_HASH },
		{ "attempt", required_argument, NULL, O_ATTEMPT },
		{ "retry", required_argument, NULL, O_RETRY },
		{ "max-points", required_argument, NULL, O_MAXP },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "memory", required_argument, NULL, O_MEMORY },
		{ "safety", no_argument, NULL, O_SAFETY },
		{ "garbage", required_argument, NULL, O_GARBAGE },
		{ "oversize", no_argument, NULL, O_OVERSIZE },
		{ "schema", required_argument, NULL, O_SCHEMA },
		{ "pack", no_argument, NULL, O_PACK },
		{ "redis", required_argument, NULL, O_REDIS },
		{ "prop", required_argument, NULL, 'X' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, bad = 0;
	static const char *props[33];
	size_t nprops = 0;
	while ((c = getopt_long(argc, argv, "b:t:X:h", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			brokers = optarg;
			break;
		case 't':
			topic = optarg;
			break;
		case 'X': { /* -X key=value: an adapter property (librdkafka's name) */
			char *eq = strchr(optarg, '=');
			if (!eq || nprops + 3 > sizeof props / sizeof props[0]) {
				bad = 1;
				break;
			}
			*eq = '\0';
			props[nprops++] = optarg;
			props[nprops++] = eq + 1;
			break;
		}
		case O_ID:
			id = optarg;
			break;
		case O_COURSE:
			course = optarg;
			break;
		case O_EX:
			exercise = optarg;
			break;
		case O_STUDENT:
			student = optarg;
			break;
		case O_SOURCE:
			source = optarg;
			break;
		case O_HASH:
			tests_hash = optarg;
			break;
		case O_ATTEMPT:
			bad |= util_parse_ll(optarg, 0, 1000000, &attempt);
			break;
		case O_RETRY:
			bad |= util_parse_ll(optarg, 0, 1000, &retry);
			break;
		case O_TIMEOUT:
			bad |= util_parse_ll(optarg, 0, 100000, &timeout);
			break;
		case O_MEMORY:
			bad |= util_parse_ll(optarg, 0, 1048576, &memory);
			break;
		case O_SCHEMA:
			bad |= util_parse_ll(optarg, 0, 1000, &schema);
			break;
		case O_GARBAGE:
			bad |= util_parse_ll(optarg, 0, 10000000, &garbage);
			break;
		case O_MAXP:
			max_points = strtod(optarg, NULL);
			break;
		case O_SAFETY:
			safety = 1;
			break;
		case O_OVERSIZE:
			oversize = 1;
			break;
		case O_REDIS:
			redis = optarg;
			break;
		case O_PACK:
			if (optind + 2 != argc) {
				usage();
				return 2;
			}
			return pack(argv[optind], argv[optind + 1]);
		default:
			usage();
			return c == 'h' ? 0 : 2;
		}
	}
	if (bad || (!brokers == !redis)) {
		usage();
		return 2;
	}

	uint8_t *buf = NULL;
	size_t len = 0;
	if (garbage >= 0) {
		len = (size_t)garbage;
		buf = malloc(len ? len : 1);
		for (size_t i = 0; i < len; i++)
			buf[i] = (uint8_t)(rand() & 0xff);
	} else if (oversize) {
		len = GQ_JOB_MAX_BYTES + 1;
		buf = calloc(1, len);
	} else {
		char subid[GQ_SUBID_LEN + 1], key[64];
		char *src = NULL;
		size_t srclen = 0;
		uint8_t sha[32];
		if (!id) {
			subid_new(subid);
			id = subid;
		}
		if (source && util_read_file(source, 1 << 24, &src, &srclen) < 0) {
			fprintf(stderr, "produce_job: cannot read %s\n", source);
			return 1;
		}
		util_sha256(src ? src : "", srclen, sha);
		free(src);
		snprintf(key, sizeof key, "gq:src:%s", id);
		Gradeq__Limits lim = GRADEQ__LIMITS__INIT;
		lim.timeout_s = (uint32_t)timeout;
		lim.memory_mb = (uint32_t)memory;
		Gradeq__GradingJob job = GRADEQ__GRADING_JOB__INIT;
		job.schema_version = (uint32_t)schema;
		job.submission_id = (char *)id;
		job.course = (char *)course;
		job.exercise = (char *)exercise;
		job.student = (char *)student;
		job.attempt = (uint32_t)attempt;
		job.retry = (uint32_t)retry;
		job.source_key = key;
		job.source_sha256.data = sha;
		job.source_sha256.len = 32;
		job.tests_hash = (char *)(tests_hash ? tests_hash : "");
		job.limits = &lim;
		job.max_points = max_points;
		job.safety_check = safety;
		job.submitted_ms = util_now_ms();
		buf = codec_job_encode(&job, &len);
		printf("%s\n", id);
	}
	if (!buf) {
		fprintf(stderr, "produce_job: out of memory\n");
		return 1;
	}

	char err[256];
	struct broker_config cfg = { .brokers = redis ? redis : brokers,
		                     .topic = topic   ? topic
		                              : redis ? "gq:jobs"
		                                      : "gradeq.jobs",
		                     .group = redis ? "gradeq-graders" : NULL,
		                     .client_id = "produce_job",
		                     .props = nprops ? props : NULL };
	/* credentials: the environment `scripts/cluster env` prints (GRADEQ_REDIS_*,
	 * GRADEQ_KAFKA_*), or user:password@ before --redis's host:port */
	struct creds cr;
	if (creds_from_env(&cr, err, sizeof err) < 0) {
		fprintf(stderr, "produce_job: %s\n", err);
		return 1;
	}
	if (redis && strchr(redis, '@')) {
		const char *at = strrchr(redis, '@'),
			   *colon = memchr(redis, ':', (size_t)(at - redis));
		if (!colon) {
			fprintf(stderr, "produce_job: --redis USER:PASSWORD@HOST:PORT\n");
			return 1;
		}
		snprintf(cr.redis_user, sizeof cr.redis_user, "%.*s", (int)(colon - redis), redis);
		snprintf(cr.redis_password, sizeof cr.redis_password, "%.*s", (int)(at - colon - 1),
		         colon + 1);
		cfg.brokers = at + 1;
	}
	broker_auth_from_creds(&cr, !redis, &cfg.auth);
	struct broker *b = redis ? broker_redis_producer_new(&cfg, err, sizeof err)
	                         : broker_kafka_producer_new(&cfg, err, sizeof err);
	if (!b) {
		fprintf(stderr, "produce_job: %s\n", err);
		return 1;
	}
	int r = broker_publish(b, student, buf, len, on_ack, NULL);
	free(buf);
	if (r < 0) {
		fprintf(stderr, "produce_job: publish: %s\n", strerror(-r));
		broker_free(b);
		return 1;
	}
	while (!acked) {
		struct pollfd pfd = { .fd = broker_fd(b), .events = POLLIN };
		poll(&pfd, 1, 100);
		broker_poll(b);
	}
	broker_close(b, 5000);
	broker_free(b);
	if (ack_err) {
		fprintf(stderr, "produce_job: not acknowledged: %s\n", ack_reason);
		return 1;
	}
	return 0;
}
