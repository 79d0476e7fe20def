/* codec.c - GradingJob / GradingResult on the wire, validated field by field. */
#include "codec.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"
#include "util.h"

#define SOURCE_KEY_PREFIX "gq:src:"
#define JOB_TIMEOUT_MAX 86400
#define JOB_MEMORY_MAX (1u << 20)
/* The widest a node's configuration allows (grader-node/node_config.c): a job asking for
 * more is not a job the dispatcher wrote. The node clamps again to its own ceilings. */
#define JOB_CPU_MAX 86400
#define JOB_NPROC_MAX 1000000
#define JOB_OUTPUT_KB_MAX 65536
#define RESULT_TESTS_MAX 10000

static uint8_t *encode(const ProtobufCMessage *msg, size_t *len)
{
	size_t n = protobuf_c_message_get_packed_size(msg);
	uint8_t *buf = malloc(n ? n : 1);

	if (!buf)
		return NULL;
	*len = protobuf_c_message_pack(msg, buf);
	return buf;
}

uint8_t *codec_job_encode(const Gradeq__GradingJob *job, size_t *len)
{
	return encode(&job->base, len);
}

uint8_t *codec_result_encode(const Gradeq__GradingResult *res, size_t *len)
{
	return encode(&res->base, len);
}

static int bad(char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "%s", what);
	return -EBADMSG;
}

/* The fields GradingJob and GradingResult share. */
static int check_identity(uint32_t schema, const char *id, const char *course, const char *exercise,
                          const char *student, uint32_t attempt, char *err, size_t errlen)
{
	if (schema == 0)
		return bad(err, errlen, "schema_version missing");
	if (schema != GQ_SCHEMA_VERSION) {
		snprintf(err, errlen, "schema_version %u not supported (expected %d)", schema,
		         GQ_SCHEMA_VERSION);
		return -EPROTONOSUPPORT;
	}
	if (!subid_valid(id))
		return bad(err, errlen, "submission_id is not 28 lowercase hex digits");
	if (!name_valid(course))
		return bad(err, errlen, "course is not a valid name");
	if (!name_valid(exercise))
		return bad(err, errlen, "exercise is not a valid name");
	if (!name_valid(student))
		return bad(err, errlen, "student is not a valid name");
	if (attempt == 0)
		return bad(err, errlen, "attempt must be at least 1");
	return 0;
}

static int check_job(const Gradeq__GradingJob *j, char *err, size_t errlen)
{
	const char *key = j->source_key;
	int r;

	r = check_identity(j->schema_version, j->submission_id, j->course, j->exercise, j->student,
	                   j->attempt, err, errlen);
	if (r < 0)
		return r;
	if (!key || strncmp(key, SOURCE_KEY_PREFIX, strlen(SOURCE_KEY_PREFIX)) != 0 ||
	    strcmp(key + strlen(SOURCE_KEY_PREFIX), j->submission_id) != 0)
		return bad(err, errlen, "source_key is not gq:src:<submission_id>");
	if (j->source_sha256.len != 32 || !j->source_sha256.data)
		return bad(err, errlen, "source_sha256 is not 32 bytes");
	if (!util_is_sha256_hex(j->tests_hash))
		return bad(err, errlen, "tests_hash is not 64 lowercase hex digits");
	if (!j->limits)
		return bad(err, errlen, "limits missing");
	/* 0 = the node's default; the node clamps every limit to its own ceilings. */
	if (j->limits->timeout_s > JOB_TIMEOUT_MAX)
		return bad(err, errlen, "limits.timeout_s above 86400");
	if (j->limits->memory_mb > JOB_MEMORY_MAX)
		return bad(err, errlen, "limits.memory_mb above 1048576");
	if (j->limits->cpu_s > JOB_CPU_MAX)
		return bad(err, errlen, "limits.cpu_s above 86400");
	if (j->limits->nproc > JOB_NPROC_MAX)
		return bad(err, errlen, "limits.nproc above 1000000");
	if (j->limits->output_kb > JOB_OUTPUT_KB_MAX)
		return bad(err, errlen, "limits.output_kb above 65536");
	if (!isfinite(j->max_points) || j->max_points < 0)
		return bad(err, errlen, "max_points is not a finite number >= 0");
	return 0;
}

int codec_job_decode(const uint8_t *buf, size_t len, Gradeq__GradingJob **out, char *err,
                     size_t errlen)
{
	static const uint8_t empty;
	Gradeq__GradingJob *j;
	int r;

	if (len > GQ_JOB_MAX_BYTES) {
		snprintf(err, errlen, "job of %zu bytes over the %d byte cap", len,
		         GQ_JOB_MAX_BYTES);
		return -EMSGSIZE;
	}
	j = gradeq__grading_job__unpack(NULL, len, buf ? buf : &empty);
	if (!j)
		return bad(err, errlen, "not a GradingJob protobuf");
	r = check_job(j, err, errlen);
	if (r < 0) {
		gradeq__grading_job__free_unpacked(j, NULL);
		return r;
	}
	*out = j;
	return 0;
}

void codec_job_free(Gradeq__GradingJob *job)
{
	if (job)
		gradeq__grading_job__free_unpacked(job, NULL);
}

static bool verdict_valid(const char *v)
{
	static const char *const verdicts[] = { "ok",           "timeout", "memory",
		                                "output_limit", "crashed", "import_error",
		                                "rejected" };

	for (size_t i = 0; v && i < sizeof verdicts / sizeof verdicts[0]; i++)
		if (strcmp(v, verdicts[i]) == 0)
			return true;
	return false;
}

static int check_result(const Gradeq__GradingResult *res, char *err, size_t errlen)
{
	int r;

	r = check_identity(res->schema_version, res->submission_id, res->course, res->exercise,
	                   res->student, res->attempt, err, errlen);
	if (r < 0)
		return r;
	if (!res->status || (strcmp(res->status, "done") != 0 && strcmp(res->status, "error") != 0))
		return bad(err, errlen, "status is not done or error");
	if (strcmp(res->status, "done") == 0 && !verdict_valid(res->verdict))
		return bad(err, errlen, "verdict is not one of the known verdicts");
	if (!isfinite(res->score) || !isfinite(res->max_score))
		return bad(err, errlen, "score or max_score is not finite");
	if (res->n_tests > RESULT_TESTS_MAX)
		return bad(err, errlen, "more than 10000 tests");
	for (size_t i = 0; i < res->n_tests; i++) {
		const Gradeq__TestOutcome *t = res->tests[i];

		if (!t || !isfinite(t->points) || !isfinite(t->max_points)) {
			snprintf(err, errlen, "tests[%zu]: points or max_points is not finite", i);
			return -EBADMSG;
		}
	}
	return 0;
}

int codec_result_decode(const uint8_t *buf, size_t len, Gradeq__GradingResult **out, char *err,
                        size_t errlen)
{
	static const uint8_t empty;
	Gradeq__GradingResult *res;
	int r;

	if (len > GQ_RESULT_MAX_BYTES) {
		snprintf(err, errlen, "result of %zu bytes over the %d byte cap", len,
		         GQ_RESULT_MAX_BYTES);
		return -EMSGSIZE;
	}
	res = gradeq__grading_result__unpack(NULL, len, buf ? buf : &empty);
	if (!res)
		return bad(err, errlen, "not a GradingResult protobuf");
	r = check_result(res, err, errlen);
	if (r < 0) {
		gradeq__grading_result__free_unpacked(res, NULL);
		return r;
	}
	*out = res;
	return 0;
}

void codec_result_free(Gradeq__GradingResult *res)
{
	if (res)
		gradeq__grading_result__free_unpacked(res, NULL);
}
