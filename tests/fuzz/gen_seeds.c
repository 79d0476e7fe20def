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

/* ---- rec_feed: first byte = read size - 1, then 4-byte big-endian framed records ---- */

struct stream {
	unsigned char buf[8192];
	size_t len;
};

static void frame(struct stream *st, msgpack_sbuffer *sb)
{
	size_t n = sb->size;
	st->buf[st->len++] = (unsigned char)(n >> 24);
	st->buf[st->len++] = (unsigned char)(n >> 16);
	st->buf[st->len++] = (unsigned char)(n >> 8);
	st->buf[st->len++] = (unsigned char)n;
	memcpy(st->buf + st->len, sb->data, n);
	st->len += n;
	msgpack_sbuffer_clear(sb);
}

static void rec_map(msgpack_packer *pk, const char *type, size_t extra)
{
	msgpack_pack_map(pk, 1 + extra);
	pack_str(pk, "t");
	pack_str(pk, type);
}

static void rec_test(msgpack_packer *pk, const char *name, const char *outcome)
{
	rec_map(pk, "test", 5);
	pack_str(pk, "name");
	pack_str(pk, name);
	pack_str(pk, "outcome");
	pack_str(pk, outcome);
	pack_str(pk, "weight");
	msgpack_pack_double(pk, 1.5);
	pack_str(pk, "msg");
	pack_str(pk, strcmp(outcome, "passed") ? "AssertionError: add(2, 2)" : "");
	pack_str(pk, "exc");
	pack_str(pk, strcmp(outcome, "passed") ? "AssertionError" : "");
}

static void put_stream(const char *name, struct stream *st, unsigned char readsize_minus_1)
{
	unsigned char out[sizeof st->buf + 1];
	out[0] = readsize_minus_1;
	memcpy(out + 1, st->buf, st->len);
	put("rec_feed", name, out, st->len + 1);
}

static void rec_seeds(void)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	struct stream st = { .len = 0 };

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	/* a whole honest run */
	rec_map(&pk, "hello", 2);
	pack_str(&pk, "v");
	msgpack_pack_int(&pk, 1);
	pack_str(&pk, "t0");
	msgpack_pack_int(&pk, 12);
	frame(&st, &sb);
	struct stream hello_only = st;
	rec_map(&pk, "imported", 1);
	pack_str(&pk, "ms");
	msgpack_pack_int(&pk, 340);
	frame(&st, &sb);
	rec_map(&pk, "collected", 1);
	pack_str(&pk, "tests");
	msgpack_pack_array(&pk, 2);
	msgpack_pack_array(&pk, 2);
	pack_str(&pk, "test_a.py::test_add");
	msgpack_pack_double(&pk, 1.5);
	msgpack_pack_array(&pk, 2);
	pack_str(&pk, "test_a.py::test_mul");
	msgpack_pack_int(&pk, 1);
	frame(&st, &sb);
	struct stream collected = st;
	rec_test(&pk, "test_a.py::test_add", "passed");
	frame(&st, &sb);
	rec_test(&pk, "test_a.py::test_mul", "failed");
	frame(&st, &sb);
	rec_map(&pk, "end", 2);
	pack_str(&pk, "ms");
	msgpack_pack_int(&pk, 900);
	pack_str(&pk, "code");
	msgpack_pack_int(&pk, 1);
	frame(&st, &sb);
	put_stream("honest_run", &st, 255);
	put_stream("honest_run_bytewise", &st, 0);
	put_stream("honest_run_reads_of_7", &st, 6);

	/* import error and rejection after hello */
	st = hello_only;
	rec_map(&pk, "import_error", 2);
	pack_str(&pk, "msg");
	pack_str(&pk, "SyntaxError: expected ':' (line 7)");
	pack_str(&pk, "exc");
	pack_str(&pk, "SyntaxError");
	frame(&st, &sb);
	put_stream("import_error", &st, 255);
	st = hello_only;
	rec_map(&pk, "rejected", 1);
	pack_str(&pk, "reason");
	pack_str(&pk, "import of os is not allowed");
	frame(&st, &sb);
	put_stream("rejected", &st, 255);

	/* out of order: a test never collected; a duplicate hello; a record after end */
	st = collected;
	rec_test(&pk, "test_a.py::test_other", "passed");
	frame(&st, &sb);
	put_stream("test_not_collected", &st, 255);
	st = hello_only;
	rec_map(&pk, "hello", 1);
	pack_str(&pk, "v");
	msgpack_pack_int(&pk, 1);
	frame(&st, &sb);
	put_stream("hello_twice", &st, 255);

	/* framing: length 0, length over the cap, a frame cut short, garbage inside */
	static const unsigned char zero[] = { 255, 0, 0, 0, 0 };
	static const unsigned char huge[] = { 255, 0x7f, 0xff, 0xff, 0xff, 0x80 };
	static const unsigned char shortf[] = { 3, 0, 0, 0, 9, 0x81, 0xa1, 't' };
	static const unsigned char garbage[] = { 255, 0, 0, 0, 3, 0xc1, 0xc1, 0xc1 };
	static const unsigned char count[] = { 255, 0, 0, 0, 5, 0xdf, 0xff, 0xff, 0xff, 0xff };
	put("rec_feed", "frame_len_zero", zero, sizeof zero);
	put("rec_feed", "frame_len_huge", huge, sizeof huge);
	put("rec_feed", "frame_cut_short", shortf, sizeof shortf);
	put("rec_feed", "frame_garbage", garbage, sizeof garbage);
	put("rec_feed", "frame_map32_count", count, sizeof count);
	msgpack_sbuffer_destroy(&sb);
}

/* ---- http_request: "TARGET\nAUTHORIZATION\nBODY" ---- */

static void put_text(const char *target, const char *name, const char *text)
{
	put(target, name, text, strlen(text));
}

static void http_seeds(void)
{
	put_text("http_request", "submit",
	         "/v1/courses/cs101/exercises/primes/submissions?student=alice\n"
	         "Bearer YWxpY2U6c3R1ZGVudDoxOTk5OTk5OTk5.AAAA\n"
	         "def f():\n    return 1\n");
	put_text("http_request", "submission_get",
	         "/v1/submissions/0123456789abcdef0123456789ab\nbearer x.y\n");
	put_text("http_request", "allowlist",
	         "/v1/courses/cs101/allowlist\nBearer a.b\n"
	         "# students\nalice\n  bob  # late\r\ncarol\nalice\n\nbob\n");
	put_text("http_request", "allowlist_bad_name",
	         "/v1/courses/cs101/allowlist\n\nalice\nbad name\n");
	put_text("http_request", "query_unknown_and_escapes",
	         "/v1/status?x=1&student=%41%zz&&=\nBasic abc\n");
	put_text("http_request", "path_traversal_and_slashes",
	         "/v1/courses/../exercises//x/%2e%2e/?student\n\n");
	put_text("http_request", "path_too_many_segments", "/a/b/c/d/e/f/g/h/i\n\n");
	put_text("http_request", "absolute_uri",
	         "http://user@host:8080/v1/courses/c/gradebook#frag\nBearer \n");
	put_text("http_request", "headers_block",
	         "/healthz\n\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\nbody after headers");
	put_text("http_request", "headers_lf_only", "/healthz\n\nGET / HTTP/1.1\nA: b\n\n");
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
	rec_seeds();
	http_seeds();
	return 0;
}
