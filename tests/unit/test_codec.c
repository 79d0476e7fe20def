#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "codec.h"

#define SUBID "0123456789abcdef0123456789ab"
#define HASH "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static char err[256];
static uint8_t sha[32];
static Gradeq__Limits limits;
static Gradeq__GradingJob job;

static int setup_job(void **state)
{
	Gradeq__Limits l = GRADEQ__LIMITS__INIT;
	Gradeq__GradingJob j = GRADEQ__GRADING_JOB__INIT;

	limits = l;
	limits.timeout_s = 60;
	limits.memory_mb = 1024;
	job = j;
	job.schema_version = GQ_SCHEMA_VERSION;
	job.submission_id = SUBID;
	job.course = "cs101";
	job.exercise = "ex1";
	job.student = "alice";
	job.attempt = 1;
	job.source_key = "gq:src:" SUBID;
	memset(sha, 0xab, sizeof sha);
	job.source_sha256.data = sha;
	job.source_sha256.len = sizeof sha;
	job.tests_hash = HASH;
	job.limits = &limits;
	job.max_points = 10;
	job.submitted_ms = 1700000000000;
	err[0] = '\0';
	return 0;
}

static int job_decode(const Gradeq__GradingJob *j)
{
	Gradeq__GradingJob *out = NULL;
	size_t len;
	uint8_t *buf = codec_job_encode(j, &len);
	int r;

	assert_non_null(buf);
	r = codec_job_decode(buf, len, &out, err, sizeof err);
	if (r == 0)
		assert_non_null(out);
	else
		assert_null(out);
	codec_job_free(out);
	free(buf);
	return r;
}

static void test_job_round_trip(void **state)
{
	Gradeq__GradingJob *out = NULL;
	size_t len;
	uint8_t *buf = codec_job_encode(&job, &len);

	assert_non_null(buf);
	assert_int_equal(codec_job_decode(buf, len, &out, err, sizeof err), 0);
	assert_string_equal(out->submission_id, SUBID);
	assert_string_equal(out->course, "cs101");
	assert_string_equal(out->student, "alice");
	assert_string_equal(out->tests_hash, HASH);
	assert_int_equal(out->source_sha256.len, 32);
	assert_memory_equal(out->source_sha256.data, sha, 32);
	assert_int_equal(out->limits->timeout_s, 60);
	assert_true(out->max_points == 10);
	assert_int_equal(out->submitted_ms, 1700000000000);
	codec_job_free(out);
	codec_job_free(NULL);
	free(buf);
}

#define EXPECT_JOB(expr, rc, what)                                    \
	do {                                                          \
		setup_job(NULL);                                      \
		expr;                                                 \
		assert_int_equal(job_decode(&job), rc);               \
		if (!strstr(err, what))                               \
			fail_msg("error '%s' lacks '%s'", err, what); \
	} while (0)

static void test_job_validation(void **state)
{
	uint8_t short_sha[31] = { 0 };

	EXPECT_JOB(job.schema_version = 2, -EPROTONOSUPPORT, "schema_version");
	EXPECT_JOB(job.schema_version = 0, -EBADMSG, "schema_version");
	EXPECT_JOB(job.submission_id = "0123456789ABCDEF0123456789ab", -EBADMSG, "submission_id");
	EXPECT_JOB(job.submission_id = "", -EBADMSG, "submission_id");
	EXPECT_JOB(job.course = "../etc", -EBADMSG, "course");
	EXPECT_JOB(job.exercise = "a/b", -EBADMSG, "exercise");
	EXPECT_JOB(job.student = "", -EBADMSG, "student");
	EXPECT_JOB(job.student = "a..b", -EBADMSG, "student");
	EXPECT_JOB(job.attempt = 0, -EBADMSG, "attempt");
	EXPECT_JOB(job.source_key = "gq:src:ffffffffffffffffffffffffffff", -EBADMSG, "source_key");
	EXPECT_JOB(job.source_key = "gq:bundle:" SUBID, -EBADMSG, "source_key");
	EXPECT_JOB(job.source_key = "gq:src:" SUBID "x", -EBADMSG, "source_key");
	EXPECT_JOB((job.source_sha256.data = short_sha, job.source_sha256.len = 31), -EBADMSG,
	           "source_sha256");
	EXPECT_JOB(job.source_sha256.len = 0, -EBADMSG, "source_sha256");
	EXPECT_JOB(job.tests_hash =
	                   "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
	           -EBADMSG, "tests_hash");
	EXPECT_JOB(job.tests_hash = "abc", -EBADMSG, "tests_hash");
	EXPECT_JOB(job.limits = NULL, -EBADMSG, "limits");
	EXPECT_JOB(limits.timeout_s = 0, 0, ""); /* 0 = node default */
	EXPECT_JOB(limits.timeout_s = 86401, -EBADMSG, "timeout_s");
	EXPECT_JOB(limits.memory_mb = (1u << 20) + 1, -EBADMSG, "memory_mb");
	EXPECT_JOB(limits.cpu_s = 86401, -EBADMSG, "cpu_s");
	EXPECT_JOB(limits.cpu_s = UINT32_MAX, -EBADMSG, "cpu_s");
	EXPECT_JOB(limits.nproc = 1000001, -EBADMSG, "nproc");
	EXPECT_JOB(limits.nproc = UINT32_MAX, -EBADMSG, "nproc");
	EXPECT_JOB(limits.output_kb = 65537, -EBADMSG, "output_kb");
	EXPECT_JOB(limits.output_kb = UINT32_MAX, -EBADMSG, "output_kb");
	EXPECT_JOB(job.max_points = -1, -EBADMSG, "max_points");
	EXPECT_JOB(job.max_points = NAN, -EBADMSG, "max_points");
	EXPECT_JOB(job.max_points = INFINITY, -EBADMSG, "max_points");
	/* edges that are fine */
	EXPECT_JOB((limits.timeout_s = 86400, limits.memory_mb = 1u << 20, job.max_points = 0), 0,
	           "");
	EXPECT_JOB((limits.cpu_s = 86400, limits.nproc = 1000000, limits.output_kb = 65536), 0, "");
}

static void test_job_bad_bytes(void **state)
{
	static const uint8_t garbage[] = { 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01, 0x02 };
	Gradeq__GradingJob *out = NULL;
	uint8_t *buf, *big;
	size_t len;

	assert_int_equal(codec_job_decode(garbage, sizeof garbage, &out, err, sizeof err),
	                 -EBADMSG);
	assert_int_equal(codec_job_decode(NULL, 0, &out, err, sizeof err), -EBADMSG);
	buf = codec_job_encode(&job, &len);
	assert_non_null(buf);
	/* no truncation crashes; one that cuts a field in half fails (cutting whole trailing
	 * fields leaves a shorter valid job) */
	for (size_t cut = 1; cut < len; cut++) {
		int r = codec_job_decode(buf, len - cut, &out, err, sizeof err);

		assert_true(r == 0 || r == -EBADMSG || r == -EPROTONOSUPPORT);
		codec_job_free(r == 0 ? out : NULL);
		out = NULL;
	}
	assert_int_equal(codec_job_decode(buf, len - 1, &out, err, sizeof err), -EBADMSG);
	free(buf);
	big = calloc(1, GQ_JOB_MAX_BYTES + 1);
	assert_non_null(big);
	assert_int_equal(codec_job_decode(big, GQ_JOB_MAX_BYTES + 1, &out, err, sizeof err),
	                 -EMSGSIZE);
	free(big);
	assert_null(out);
}

/* ---- results ---- */

static Gradeq__TestOutcome t1, t2;
static Gradeq__TestOutcome *tests[2];
static Gradeq__GradingResult res;

static void setup_result(void)
{
	Gradeq__TestOutcome t = GRADEQ__TEST_OUTCOME__INIT;
	Gradeq__GradingResult r = GRADEQ__GRADING_RESULT__INIT;

	t1 = t;
	t1.name = "test_a.py::test_small";
	t1.passed = 1;
	t1.points = 2;
	t1.max_points = 2;
	t2 = t;
	t2.name = "test_a.py::test_big";
	t2.max_points = 3;
	t2.message = "AssertionError: expected 4";
	tests[0] = &t1;
	tests[1] = &t2;
	res = r;
	res.schema_version = GQ_SCHEMA_VERSION;
	res.submission_id = SUBID;
	res.course = "cs101";
	res.exercise = "ex1";
	res.student = "alice";
	res.attempt = 1;
	res.status = "done";
	res.verdict = "ok";
	res.score = 2;
	res.max_score = 5;
	res.n_tests = 2;
	res.tests = tests;
	res.node = "node-1";
}

static int result_decode(void)
{
	Gradeq__GradingResult *out = NULL;
	size_t len;
	uint8_t *buf = codec_result_encode(&res, &len);
	int r;

	assert_non_null(buf);
	r = codec_result_decode(buf, len, &out, err, sizeof err);
	codec_result_free(out);
	free(buf);
	return r;
}

static void test_result_round_trip(void **state)
{
	Gradeq__GradingResult *out = NULL;
	size_t len;
	uint8_t *buf;

	setup_result();
	buf = codec_result_encode(&res, &len);
	assert_non_null(buf);
	assert_int_equal(codec_result_decode(buf, len, &out, err, sizeof err), 0);
	assert_string_equal(out->verdict, "ok");
	assert_int_equal(out->n_tests, 2);
	assert_string_equal(out->tests[1]->message, "AssertionError: expected 4");
	assert_true(out->tests[0]->passed);
	assert_true(out->max_score == 5);
	codec_result_free(out);
	codec_result_free(NULL);
	free(buf);
}

#define EXPECT_RES(expr, rc)                           \
	do {                                           \
		setup_result();                        \
		expr;                                  \
		assert_int_equal(result_decode(), rc); \
	} while (0)

static void test_result_validation(void **state)
{
	static const char *verdicts[] = { "ok",      "timeout",      "memory",  "output_limit",
		                          "crashed", "import_error", "rejected" };

	for (size_t i = 0; i < sizeof verdicts / sizeof verdicts[0]; i++)
		EXPECT_RES(res.verdict = (char *)verdicts[i], 0);
	EXPECT_RES((res.status = "error", res.verdict = "", res.error = "sandbox failed"), 0);
	EXPECT_RES(res.status = "queued", -EBADMSG);
	EXPECT_RES(res.status = "", -EBADMSG);
	EXPECT_RES(res.verdict = "passed", -EBADMSG);
	EXPECT_RES(res.verdict = "", -EBADMSG);
	EXPECT_RES(res.schema_version = 9, -EPROTONOSUPPORT);
	EXPECT_RES(res.submission_id = "nope", -EBADMSG);
	EXPECT_RES(res.course = "..", -EBADMSG);
	EXPECT_RES(res.score = NAN, -EBADMSG);
	EXPECT_RES(res.max_score = -INFINITY, -EBADMSG);
	EXPECT_RES(t2.points = NAN, -EBADMSG);
	EXPECT_RES(t1.max_points = INFINITY, -EBADMSG);
}

static void test_result_limits(void **state)
{
	Gradeq__TestOutcome **many = calloc(10001, sizeof *many);
	Gradeq__GradingResult *out = NULL;
	uint8_t *big;

	assert_non_null(many);
	for (size_t i = 0; i < 10001; i++)
		many[i] = &t1;
	EXPECT_RES((res.tests = many, res.n_tests = 10000), 0);
	EXPECT_RES((res.tests = many, res.n_tests = 10001), -EBADMSG);
	free(many);
	big = calloc(1, GQ_RESULT_MAX_BYTES + 1);
	assert_non_null(big);
	assert_int_equal(codec_result_decode(big, GQ_RESULT_MAX_BYTES + 1, &out, err, sizeof err),
	                 -EMSGSIZE);
	assert_int_equal(codec_result_decode(big, 100, &out, err, sizeof err), -EBADMSG);
	free(big);
	assert_null(out);
}

int main(void)
{
	const struct CMUnitTest tests_[] = {
		cmocka_unit_test_setup(test_job_round_trip, setup_job),
		cmocka_unit_test_setup(test_job_validation, setup_job),
		cmocka_unit_test_setup(test_job_bad_bytes, setup_job),
		cmocka_unit_test(test_result_round_trip),
		cmocka_unit_test(test_result_validation),
		cmocka_unit_test(test_result_limits),
	};

	return cmocka_run_group_tests(tests_, NULL, NULL);
}
