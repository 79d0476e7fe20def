/* test_records.c - records.c on well-formed and hostile result streams, and scoring. */
#include <errno.h>
#include <math.h>
#include <msgpack.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "published.h"
#include "records.h"

/* A growing buffer of frames. */
struct buf {
	char *p;
	size_t len, cap;
};

static void put(struct buf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2;
		b->p = realloc(b->p, b->cap);
		assert_non_null(b->p);
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void put_frame(struct buf *b, const msgpack_sbuffer *sb)
{
	unsigned char hdr[4] = { (unsigned char)(sb->size >> 24), (unsigned char)(sb->size >> 16),
		                 (unsigned char)(sb->size >> 8), (unsigned char)sb->size };
	put(b, hdr, 4);
	put(b, sb->data, sb->size);
}

static void pk_str(msgpack_packer *pk, const char *s)
{
	msgpack_pack_str(pk, strlen(s));
	msgpack_pack_str_body(pk, s, strlen(s));
}

/* {t: type} plus up to two string fields */
static void rec_simple(struct buf *b, const char *type, const char *k1, const char *v1)
{
	msgpack_sbuffer sb;
	msgpack_sbuffer_init(&sb);
	msgpack_packer pk;
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, k1 ? 2 : 1);
	pk_str(&pk, "t");
	pk_str(&pk, type);
	if (k1) {
		pk_str(&pk, k1);
		pk_str(&pk, v1);
	}
	put_frame(b, &sb);
	msgpack_sbuffer_destroy(&sb);
}

static void rec_hello(struct buf *b)
{
	msgpack_sbuffer sb;
	msgpack_sbuffer_init(&sb);
	msgpack_packer pk;
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 3);
	pk_str(&pk, "t");
	pk_str(&pk, "hello");
	pk_str(&pk, "v");
	msgpack_pack_int(&pk, REC_PROTOCOL);
	pk_str(&pk, "t0");
	msgpack_pack_int64(&pk, 12345);
	put_frame(b, &sb);
	msgpack_sbuffer_destroy(&sb);
}

static void put_collected(struct buf *b, size_t n, const char *const *names, const double *w)
{
	msgpack_sbuffer sb;
	msgpack_sbuffer_init(&sb);
	msgpack_packer pk;
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 2);
	pk_str(&pk, "t");
	pk_str(&pk, "collected");
	pk_str(&pk, "tests");
	msgpack_pack_array(&pk, n);
	for (size_t i = 0; i < n; i++) {
		msgpack_pack_array(&pk, 2);
		pk_str(&pk, names[i]);
		msgpack_pack_double(&pk, w ? w[i] : 1.0);
	}
	put_frame(b, &sb);
	msgpack_sbuffer_destroy(&sb);
}

static void rec_test(struct buf *b, const char *name, const char *outcome, const char *msg,
                     const char *exc)
{
	msgpack_sbuffer sb;
	msgpack_sbuffer_init(&sb);
	msgpack_packer pk;
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 5);
	pk_str(&pk, "t");
	pk_str(&pk, "test");
	pk_str(&pk, "name");
	pk_str(&pk, name);
	pk_str(&pk, "outcome");
	pk_str(&pk, outcome);
	pk_str(&pk, "msg");
	pk_str(&pk, msg);
	pk_str(&pk, "exc");
	pk_str(&pk, exc);
	put_frame(b, &sb);
	msgpack_sbuffer_destroy(&sb);
}

static const char *const three[] = { "t.py::a", "t.py::b", "t.py::c" };

static struct rec_stream *feed_all(const struct buf *b, int expect)
{
	struct rec_stream *s = rec_new();
	assert_non_null(s);
	assert_int_equal(rec_feed(s, b->p, b->len, 7), expect);
	return s;
}

static void test_full_run_scores_thirds(void **state)
{
	struct buf b = { 0 };
	rec_hello(&b);
	rec_simple(&b, "imported", NULL, NULL);
	put_collected(&b, 3, three, NULL);
	rec_test(&b, "t.py::a", "passed", "", "");
	rec_test(&b, "t.py::b", "failed", "AssertionError: nope", "AssertionError");
	rec_test(&b, "t.py::c", "passed", "", "");
	rec_simple(&b, "end", NULL, NULL);
	struct rec_stream *s = feed_all(&b, 0);
	const struct rec_state *st = rec_state(s);
	assert_true(st->hello && st->imported && st->ended);
	assert_int_equal(st->hello_version, REC_PROTOCOL);
	assert_int_equal(st->ncollected, 3);
	assert_int_equal(st->nreported, 3);
	struct rec_score sc;
	assert_int_equal(rec_score(s, 10, false, "ok", &sc), 0);
	assert_int_equal(sc.ntests, 3);
	assert_true(fabs(sc.score - 6.67) < 1e-9);
	assert_true(fabs(sc.max_score - 10) < 1e-9);
	assert_true(fabs(sc.tests[0].max_points - 3.33) < 1e-9);
	assert_false(sc.tests[1].passed);
	assert_string_equal(sc.tests[1].message, "AssertionError: nope");
	rec_score_free(&sc);
	rec_free(s);
	free(b.p);
}

static void test_byte_by_byte_equals_whole(void **state)
{
	struct buf b = { 0 };
	rec_hello(&b);
	put_collected(&b, 3, three, (const double[]){ 2, 1, 1 });
	rec_test(&b, "t.py::a", "passed", "", "");
	struct rec_stream *s = rec_new();
	for (size_t i = 0; i < b.len; i++)
		assert_int_equal(rec_feed(s, b.p + i, 1, 1), 0);
	struct rec_score sc;
	assert_int_equal(rec_score(s, 0, false, "timeout", &sc), 0);
	assert_true(fabs(sc.score - 2) < 1e-9 && fabs(sc.max_score - 4) < 1e-9);
	assert_string_equal(sc.tests[2].message, "not run: timeout");
	rec_score_free(&sc);
	rec_free(s);
	free(b.p);
}

static void test_zero_score_for_import_error(void **state)
{
	struct buf b = { 0 };
	rec_hello(&b);
	rec_simple(&b, "import_error", "msg", "ImportError: cannot import name 'f'");
	struct rec_stream *s = feed_all(&b, 0);
	assert_true(rec_state(s)->import_error);
	assert_string_equal(rec_state(s)->detail, "ImportError: cannot import name 'f'");
	struct rec_score sc;
	assert_int_equal(rec_score(s, 5, true, "import_error", &sc), 0);
	assert_true(sc.score == 0 && fabs(sc.max_score - 5) < 1e-9);
	rec_score_free(&sc);
	rec_free(s);
	free(b.p);
}

/* A test record with an "ev" field (what happened to the student process). */
static void rec_test_ev(struct buf *b, const char *name, const char *outcome, const char *ev)
{
	msgpack_sbuffer sb;
	msgpack_sbuffer_init(&sb);
	msgpack_packer pk;
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 4);
	pk_str(&pk, "t");
	pk_str(&pk, "test");
	pk_str(&pk, "name");
	pk_str(&pk, name);
	pk_str(&pk, "outcome");
	pk_str(&pk, outcome);
	pk_str(&pk, "ev");
	pk_str(&pk, ev);
	put_frame(b, &sb);
	msgpack_sbuffer_destroy(&sb);
}

/* The stream claims 5000 tests of weight 1e6 and passes all of them, and reweights the
 * published ones: against the published list only the published tests count, with their
 * published weights, and the score never exceeds the maximum. */
static void test_published_list_decides(void **state)
{
	char err[128];
	struct pub_list *p = pub_new(3, three, (const double[]){ 2, 1, 1 }, err, sizeof err);
	assert_non_null(p);
	struct buf b = { 0 };
	rec_hello(&b);
	static char names[200][24];
	const char *inv[200];
	double w[200];
	for (int i = 0; i < 200; i++) {
		snprintf(names[i], sizeof names[i], "forged::t%d", i);
		inv[i] = names[i];
		w[i] = 1e6;
	}
	put_collected(&b, 200, inv, w);                               /* ignored */
	put_collected(&b, 3, three, (const double[]){ 0, 1e6, 1e6 }); /* ignored */
	for (int i = 0; i < 200; i++)
		rec_test(&b, inv[i], "passed", "", ""); /* unlisted */
	rec_test(&b, "t.py::b", "passed", "", "");
	/* t.py::a is never reported; t.py::c failed */
	rec_test(&b, "t.py::c", "failed", "AssertionError", "AssertionError");
	rec_simple(&b, "end", NULL, NULL);
	struct rec_stream *s = rec_new();
	assert_int_equal(rec_set_published(s, p), 0);
	assert_int_equal(rec_feed(s, b.p, b.len, 1), 0);
	assert_int_equal(rec_state(s)->nunlisted, 200);
	struct rec_score sc;
	assert_int_equal(rec_score(s, 0, false, "ok", &sc), 0);
	assert_int_equal(sc.ntests, 3);
	assert_true(fabs(sc.score - 1) < 1e-9);
	assert_true(fabs(sc.max_score - 4) < 1e-9);
	assert_string_equal(sc.tests[0].name, "t.py::a");
	assert_false(sc.tests[0].passed);
	assert_string_equal(sc.tests[0].message, "not run: ok");
	rec_score_free(&sc);
	/* with max_points: scaled by the published weights, capped at the maximum */
	assert_int_equal(rec_score(s, 10, false, "ok", &sc), 0);
	assert_true(fabs(sc.score - 2.5) < 1e-9 && fabs(sc.max_score - 10) < 1e-9);
	rec_score_free(&sc);
	rec_free(s);
	pub_free(p);
	free(b.p);
}

static void test_events_of_the_student_process(void **state)
{
	struct buf b = { 0 };
	rec_hello(&b);
	put_collected(&b, 3, three, NULL);
	rec_test_ev(&b, "t.py::a", "failed", "timeout");
	rec_test_ev(&b, "t.py::b", "failed", "memory");
	rec_test_ev(&b, "t.py::c", "failed", "crashed");
	rec_simple(&b, "end", NULL, NULL);
	struct rec_stream *s = feed_all(&b, 0);
	const struct rec_state *st = rec_state(s);
	assert_true(st->ev_timeout && st->ev_memory && st->ev_crashed && !st->ev_output);
	assert_int_equal(st->ntimeouts, 1);
	rec_free(s);
	free(b.p);
}

static void test_published_json_validation(void **state)
{
	char err[160];
	const char *good = "{\"v\":1,\"tests\":[[\"a\",2],[\"b\",0.5]]}";
	struct pub_list *p = pub_parse(good, strlen(good), err, sizeof err);
	assert_non_null(p);
	assert_int_equal(p->n, 2);
	assert_true(fabs(p->total - 2.5) < 1e-12);
	char *j = pub_json(p);
	struct pub_list *q = pub_parse(j, strlen(j), err, sizeof err);
	assert_non_null(q);
	assert_string_equal(q->names[1], "b");
	free(j);
	pub_free(q);
	pub_free(p);
	static const char *const bad[] = {
		"[]",
		"{\"v\":2,\"tests\":[]}",
		"{\"v\":1,\"tests\":[[\"a\",1],[\"a\",1]]}",
		"{\"v\":1,\"tests\":[[\"a\",-1]]}",
		"{\"v\":1,\"tests\":[[\"a\",1e9]]}",
		"{\"v\":1,\"tests\":[[\"\",1]]}",
		"{\"v\":1,\"tests\":[[1,1]]}",
		"{\"v\":1,\"tests\":[[\"a\\u0000b\",1]]}",
		"not json",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		p = pub_parse(bad[i], strlen(bad[i]), err, sizeof err);
		if (p)
			fail_msg("accepted %s", bad[i]);
	}
}

static void test_clean_line_and_bidi(void **state)
{
	/* a newline in a test name would forge a line of `gradeq result`; an ANSI escape,
	 * a C1 CSI, a bidi override and U+2028 would change what the terminal shows */
	const char in[] = "a\nb\x1b[31m\xc2\x9b\xe2\x80\xae\xe2\x80\xa8z";
	char *s = rec_clean_line(in, sizeof in - 1);
	assert_string_equal(s, "a b [31m   z");
	free(s);
	s = rec_clean_string(in, sizeof in - 1);
	assert_string_equal(s, "a\nb [31m   z");
	free(s);
}

static void expect_violation(struct buf *b, const char *needle)
{
	struct rec_stream *s = feed_all(b, -EBADMSG);
	assert_non_null(rec_violation(s));
	if (!strstr(rec_violation(s), needle))
		fail_msg("violation '%s' lacks '%s'", rec_violation(s), needle);
	assert_int_equal(rec_feed(s, "x", 1, 1), -EBADMSG); /* sticky */
	rec_free(s);
	free(b->p);
}

static void test_oversized_frame(void **state)
{
	struct buf b = { 0 };
	rec_hello(&b);
	unsigned char hdr[4] = { 0, 1, 0, 1 }; /* 65537 */
	put(&b, hdr, 4);
	expect_violation(&b, "frame length");
}

static void test_zero_length_frame(void **state)
{
	struct buf b = { 0 };
	put(&b, "\0\0\0\0", 4);
	expect_violation(&b, "frame length");
}

static void test_first_record_must_be_hello(void **state)
{
	struct buf b = { 0 };
	rec_simple(&b, "end", NULL, NULL);
	expect_violation(&b, "hello");
}

static void test_garbage_body(void **state)
{
	struct buf b = { 0 };
	rec_hello(&b);
	/* array32 claiming 2^32-1 elements in a 5-byte body: must not allocate */
	put(&b, "\0\0\0\5\xdd\xff\xff\xff\xff", 9);
	expect_violation(&b, "undecodable");
}

static void test_not_a_map(void **state)
{
	struct buf b = { 0 };
	put(&b, "\0\0\0\1\x01", 5);
	expect_violation(&b, "not a map");
}

static void test_unknown_and_duplicate_tests(void **state)
{
	struct buf b = { 0 };
	rec_hello(&b);
	put_collected(&b, 3, three, NULL);
	rec_test(&b, "t.py::zzz", "passed", "", "");
	expect_violation(&b, "never collected");

	struct buf c = { 0 };
	rec_hello(&c);
	put_collected(&c, 3, three, NULL);
	rec_test(&c, "t.py::a", "passed", "", "");
	rec_test(&c, "t.py::a", "passed", "", "");
	expect_violation(&c, "twice");

	struct buf d = { 0 };
	static const char *const dup[] = { "t.py::a", "t.py::a" };
	rec_hello(&d);
	put_collected(&d, 2, dup, NULL);
	rec_simple(&d, "end", NULL, NULL);
	expect_violation(&d, "collected twice");
}

static void test_bad_outcome_and_weight(void **state)
{
	struct buf b = { 0 };
	rec_hello(&b);
	put_collected(&b, 3, three, NULL);
	rec_test(&b, "t.py::a", "PASSED!!", "", "");
	expect_violation(&b, "outcome");

	struct buf c = { 0 };
	rec_hello(&c);
	put_collected(&c, 1, three, (const double[]){ NAN });
	expect_violation(&c, "weight");
}

static void test_records_after_end(void **state)
{
	struct buf b = { 0 };
	rec_hello(&b);
	rec_simple(&b, "end", NULL, NULL);
	rec_simple(&b, "imported", NULL, NULL);
	expect_violation(&b, "after the final");
}

static void test_too_many_tests(void **state)
{
	struct buf b = { 0 };
	rec_hello(&b);
	enum { N = 1200 };
	static char names[N][24];
	static const char *ptrs[N];
	for (int i = 0; i < N; i++) {
		snprintf(names[i], sizeof names[i], "t.py::test_%d", i);
		ptrs[i] = names[i];
	}
	for (int k = 0; k < 5; k++) /* 6000 > REC_TESTS_MAX, in frames under 64 KiB */
		put_collected(&b, N, ptrs, NULL);
	expect_violation(&b, "more than");
}

static void test_too_many_records_and_bytes(void **state)
{
	struct buf b = { 0 };
	rec_hello(&b);
	for (int i = 0; i < REC_RECORDS_MAX + 1; i++)
		rec_simple(&b, "noise", NULL, NULL);
	expect_violation(&b, "records");

	struct rec_stream *s = rec_new();
	char *big = calloc(1, REC_STREAM_MAX + 1);
	assert_int_equal(rec_feed(s, big, REC_STREAM_MAX + 1, 1), -EBADMSG);
	assert_non_null(strstr(rec_violation(s), "bytes"));
	free(big);
	rec_free(s);
}

static void test_long_strings_refused(void **state)
{
	struct buf b = { 0 };
	char *msg = malloc(REC_MSG_MAX + 2);
	memset(msg, 'x', REC_MSG_MAX + 1);
	msg[REC_MSG_MAX + 1] = '\0';
	rec_hello(&b);
	put_collected(&b, 3, three, NULL);
	rec_test(&b, "t.py::a", "failed", msg, "");
	free(msg);
	expect_violation(&b, "malformed");
}

static void test_memory_error_flag(void **state)
{
	struct buf b = { 0 };
	rec_hello(&b);
	put_collected(&b, 3, three, NULL);
	rec_test(&b, "t.py::a", "failed", "MemoryError", "MemoryError");
	struct rec_stream *s = feed_all(&b, 0);
	assert_true(rec_state(s)->memory_error);
	rec_free(s);
	free(b.p);
}

static void test_clean_string(void **state)
{
	char *s = rec_clean_string("ok\n\tbad\x01\xff\xc3\xa9", 11);
	assert_string_equal(s, "ok\n bad ?\xc3\xa9"); /* a tab too: only newlines stay */
	free(s);
	s = rec_clean_string("a\0b", 3);
	assert_memory_equal(s, "a b", 4);
	free(s);
	s = rec_clean_string("\xed\xa0\x80", 3); /* a UTF-16 surrogate is not UTF-8 */
	assert_string_equal(s, "???");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_run_scores_thirds),
		cmocka_unit_test(test_byte_by_byte_equals_whole),
		cmocka_unit_test(test_zero_score_for_import_error),
		cmocka_unit_test(test_oversized_frame),
		cmocka_unit_test(test_zero_length_frame),
		cmocka_unit_test(test_first_record_must_be_hello),
		cmocka_unit_test(test_garbage_body),
		cmocka_unit_test(test_not_a_map),
		cmocka_unit_test(test_unknown_and_duplicate_tests),
		cmocka_unit_test(test_bad_outcome_and_weight),
		cmocka_unit_test(test_records_after_end),
		cmocka_unit_test(test_too_many_tests),
		cmocka_unit_test(test_too_many_records_and_bytes),
		cmocka_unit_test(test_long_strings_refused),
		cmocka_unit_test(test_memory_error_flag),
		cmocka_unit_test(test_clean_string),
		cmocka_unit_test(test_published_list_decides),
		cmocka_unit_test(test_events_of_the_student_process),
		cmocka_unit_test(test_published_json_validation),
		cmocka_unit_test(test_clean_line_and_bidi),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
