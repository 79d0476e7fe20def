/* gen_seeds.c - writes the seed inputs of the fuzz corpora (valid encodings and a few
 * hostile ones) into OUTDIR/<target>/. Run by hand; the output is committed:
 *   gen_fuzz_seeds tests/fuzz/corpus */
#include <errno.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "codec.h"

#define SUBID "0123456789abcdef0123456789ab"
#define HASH "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static const char *outdir;

static void put(const char *target, const char *name, const void *data, size_t len)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", outdir, target);
	if (mkdir(path, 0755) != 0 && errno != EEXIST) {
		perror(path);
		exit(1);
	}
	snprintf(path, sizeof path, "%s/%s/%s", outdir, target, name);
	f = fopen(path, "wb");
	if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

static void put_job(const char *name, const Gradeq__GradingJob *job, size_t cut)
{
	size_t len;
	uint8_t *buf = codec_job_encode(job, &len);

	put("job_decode", name, buf, len > cut ? len - cut : 0);
	free(buf);
}

static void job_seeds(void)
{
	static uint8_t sha[32] = { 1, 2, 3 };
	Gradeq__Limits limits = GRADEQ__LIMITS__INIT;
	Gradeq__GradingJob job = GRADEQ__GRADING_JOB__INIT;
	Gradeq__TestOutcome t = GRADEQ__TEST_OUTCOME__INIT, *tests[1] = { &t };
	Gradeq__GradingResult res = GRADEQ__GRADING_RESULT__INIT;
	uint8_t *buf;
	size_t len;

	limits.timeout_s = 60;
	limits.memory_mb = 1024;
	job.schema_version = GQ_SCHEMA_VERSION;
	job.submission_id = SUBID;
	job.course = "cs101";
	job.exercise = "ex1";
	job.student = "alice";
	job.attempt = 1;
	job.source_key = "gq:src:" SUBID;
	job.source_sha256.data = sha;
	job.source_sha256.len = sizeof sha;
	job.tests_hash = HASH;
	job.limits = &limits;
	job.max_points = 10;
	job.safety_check = 1;
	job.submitted_ms = 1700000000000;
	put_job("job_valid", &job, 0);
	put_job("job_truncated", &job, 5);
	job.schema_version = 2;
	put_job("job_schema2", &job, 0);
	job.schema_version = GQ_SCHEMA_VERSION;
	job.course = "../etc";
	put_job("job_bad_course", &job, 0);
	put("job_decode", "empty", "", 0);
	put("job_decode", "varint_overlong", "\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01",
	    12);
	put("job_decode", "len_huge",
	    "\x12\xff\xff\xff\xff\x0f"
	    "abc",
	    9);

	t.name = "test_a.py::test_x";
	t.passed = 1;
	t.points = 2;
	t.max_points = 2;
	res.schema_version = GQ_SCHEMA_VERSION;
	res.submission_id = SUBID;
	res.course = "cs101";
	res.exercise = "ex1";
	res.student = "alice";
	res.attempt = 1;
	res.status = "done";
	res.verdict = "ok";
	res.score = 2;
	res.max_score = 2;
	res.n_tests = 1;
	res.tests = tests;
	res.node = "node-1";
	buf = codec_result_encode(&res, &len);
	put("job_decode", "result_valid", buf, len);
	free(buf);
}

static void pack_str(msgpack_packer *pk, const char *s)
{
	msgpack_pack_str_with_body(pk, s, strlen(s));
}

static void pack_bin(msgpack_packer *pk, const char *s)
{
	msgpack_pack_bin_with_body(pk, s, strlen(s));
}

static void put_sbuf(const char *target, const char *name, msgpack_sbuffer *sb)
{
	put(target, name, sb->data, sb->size);
	msgpack_sbuffer_clear(sb);
}

static void mpk_seeds(void)
{
	static const unsigned char arr32[] = { 0xdd, 0xff, 0xff, 0xff, 0xff, 0x00 };
	static const unsigned char map32[] = { 0xdf, 0xff, 0xff, 0xff, 0xff, 0xa1, 'a', 0x01 };
	static const unsigned char str32[] = { 0xdb, 0xff, 0xff, 0xff, 0xff, 'x' };
	static const unsigned char ext32[] = { 0xc9, 0xff, 0xff, 0xff, 0xff, 0x01 };
	static const unsigned char scalars[] = {
		0xdc, 0,    18,   0xc0, 0xc2, 0xc3, 0xcc, 1, 0xcd, 1,    2, 0xd3, 0,    0, 0,    0,
		0,    0,    0,    1,    0xca, 0,    0,    0, 0,    0xd4, 1, 2,    0xd8, 1, 0,    0,
		0,    0,    0,    0,    0,    0,    0,    0, 0,    0,    0, 0,    0,    0, 0xc4, 1,
		9,    0xe0, 0x7f, 0xa0, 0x80, 0x90, 0xc7, 0, 3,    0xd9, 1, 'z',  0xdc, 0, 0
	};
	unsigned char deep[100];
	msgpack_sbuffer sb;
	msgpack_packer pk;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 5);
	pack_str(&pk, "name");
	pack_str(&pk, "test_sum.py::test_small");
	pack_str(&pk, "passed");
	msgpack_pack_true(&pk);
	pack_str(&pk, "points");
	msgpack_pack_double(&pk, 2.5);
	pack_str(&pk, "max_points");
	msgpack_pack_int(&pk, 3);
	pack_str(&pk, "message");
	pack_str(&pk, "AssertionError: expected 4");
	put_sbuf("mpk_decode", "record_valid", &sb);

	msgpack_pack_map(&pk, 2);
	pack_str(&pk, "type");
	pack_str(&pk, "summary");
	pack_str(&pk, "tests");
	msgpack_pack_array(&pk, 2);
	msgpack_pack_nil(&pk);
	msgpack_pack_float(&pk, 1.5f);
	put_sbuf("mpk_decode", "summary_nested", &sb);
	msgpack_sbuffer_destroy(&sb);

	put("mpk_decode", "array32_ffffffff", arr32, sizeof arr32);
	put("mpk_decode", "map32_ffffffff", map32, sizeof map32);
	put("mpk_decode", "str32_ffffffff", str32, sizeof str32);
	put("mpk_decode", "ext32_ffffffff", ext32, sizeof ext32);
	put("mpk_decode", "scalars_all_tags", scalars, sizeof scalars);
	memset(deep, 0x91, sizeof deep);
	deep[sizeof deep - 1] = 0xc0;
	put("mpk_decode", "deep_100", deep, sizeof deep);
	put("mpk_decode", "trailing", "\x01\x02", 2);
	put("mpk_decode", "reserved_c1", "\xc1", 1);
}

static void bundle_seeds(void)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 4);
	pack_str(&pk, "exercise.toml");
	pack_bin(&pk, "title = \"Sums\"\nmax_points = 10\ntimeout_s = 30\nmemory_mb = 512\n"
	              "safety_check = true\n");
	pack_str(&pk, "files/data.csv");
	msgpack_pack_bin_with_body(&pk, "a,b\n1,2\n", 8);
	pack_str(&pk, "release.py");
	pack_str(&pk, "import marimo\n");
	pack_str(&pk, "tests/test_sum.py");
	msgpack_pack_bin_with_body(&pk, "from submission import add\n", 27);
	put_sbuf("bundle_parse", "bundle_valid", &sb);

	msgpack_pack_map(&pk, 2);
	pack_str(&pk, "tests/../../etc/passwd");
	msgpack_pack_bin_with_body(&pk, "x", 1);
	pack_str(&pk, "tests/a.py");
	msgpack_pack_bin_with_body(&pk, "x", 1);
	put_sbuf("bundle_parse", "bundle_traversal", &sb);

	msgpack_pack_map(&pk, 2);
	pack_str(&pk, "tests/a");
	msgpack_pack_bin_with_body(&pk, "x", 1);
	pack_str(&pk, "tests/a/b.py");
	msgpack_pack_bin_with_body(&pk, "x", 1);
	put_sbuf("bundle_parse", "bundle_file_and_dir", &sb);

	msgpack_pack_map(&pk, 1);
	pack_str(&pk, "exercise.toml");
	pack_str(&pk, "[x]\ntimeout_s = 99999\nbogus = \"unterminated\n  indented = 1\n");
	put_sbuf("bundle_parse", "bundle_bad_toml", &sb);
	msgpack_sbuffer_destroy(&sb);

	put("bundle_parse", "map32_ffffffff", "\xdf\xff\xff\xff\xff\xa1x\xc4\x00", 9);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
		return 2;
	}
	outdir = argv[1];
	if (mkdir(outdir, 0755) != 0 && errno != EEXIST) {
		perror(outdir);
		return 1;
	}
	job_seeds();
	mpk_seeds();
	bundle_seeds();
	return 0;
}
