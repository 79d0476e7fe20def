/* fuzz_job_decode.c - hostile bytes into the GradingJob and GradingResult decoders: they
 * must fail cleanly or return a message whose fields passed validation. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "fuzz.h"
#include "names.h"
#include "util.h"

static void check_job(const uint8_t *data, size_t size)
{
	Gradeq__GradingJob *job = NULL;
	char err[256];
	int r = codec_job_decode(data, size, &job, err, sizeof err);

	if (r != 0) {
		if (job || (r != -EBADMSG && r != -EMSGSIZE && r != -EPROTONOSUPPORT))
			abort();
		return;
	}
	if (!subid_valid(job->submission_id) || !name_valid(job->course) ||
	    !name_valid(job->student) || job->source_sha256.len != 32 ||
	    !util_is_sha256_hex(job->tests_hash) || !job->limits || !isfinite(job->max_points))
		abort();
	codec_job_free(job);
}

static void check_result(const uint8_t *data, size_t size)
{
	Gradeq__GradingResult *res = NULL;
	char err[256];
	int r = codec_result_decode(data, size, &res, err, sizeof err);

	if (r != 0) {
		if (res)
			abort();
		return;
	}
	if (!isfinite(res->score) || res->n_tests > 10000 || !name_valid(res->exercise))
		abort();
	for (size_t i = 0; i < res->n_tests; i++)
		if (!isfinite(res->tests[i]->points))
			abort();
	codec_result_free(res);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_job(data, size);
	check_result(data, size);
	return 0;
}
