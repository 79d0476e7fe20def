/* test_auth.c - dispatcher/auth.c: bearer header parsing, allowlist semantics, and the
 * allowlist upload parser (validation, comments, duplicates, order, cost). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "auth.h"

#define NOW 1700000000

static struct gq_secret sec;

static int setup(void **state)
{
	char err[128];
	return token_secret_from_string("0123456789abcdef-secret", &sec, err, sizeof err);
}

static void sign(const char *user, enum gq_role role, int64_t expiry, char *out, size_t outlen)
{
	struct gq_token t = { .role = role, .expiry = expiry };
	snprintf(t.user, sizeof t.user, "%s", user);
	assert_int_equal(token_sign(&sec, &t, out, outlen), 0);
}

static void test_bearer(void **state)
{
	char tok[GQ_TOKEN_MAX], hdr[GQ_TOKEN_MAX + 32];
	struct gq_token t;

	sign("alice", GQ_ROLE_STUDENT, NOW + 60, tok, sizeof tok);
	snprintf(hdr, sizeof hdr, "Bearer %s", tok);
	assert_int_equal(auth_bearer(&sec, hdr, NOW, &t), 0);
	assert_string_equal(t.user, "alice");
	assert_int_equal(t.role, GQ_ROLE_STUDENT);
	/* case-insensitive scheme, surrounding blanks */
	snprintf(hdr, sizeof hdr, "  bearer   %s \t", tok);
	assert_int_equal(auth_bearer(&sec, hdr, NOW, &t), 0);
	/* missing or another scheme */
	assert_int_equal(auth_bearer(&sec, NULL, NOW, &t), -ENOKEY);
	assert_int_equal(auth_bearer(&sec, "Basic YWxpY2U6eA==", NOW, &t), -ENOKEY);
	assert_int_equal(auth_bearer(&sec, "Bearer", NOW, &t), -ENOKEY);
	/* empty, forged, oversized */
	assert_int_equal(auth_bearer(&sec, "Bearer    ", NOW, &t), -EBADMSG);
	snprintf(hdr, sizeof hdr, "Bearer %sx", tok);
	assert_int_equal(auth_bearer(&sec, hdr, NOW, &t), -EBADMSG);
	char big[GQ_TOKEN_MAX + 16];
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	memcpy(big, "Bearer ", 7);
	assert_int_equal(auth_bearer(&sec, big, NOW, &t), -EBADMSG);
	/* expired */
	snprintf(hdr, sizeof hdr, "Bearer %s", tok);
	assert_int_equal(auth_bearer(&sec, hdr, NOW + 61, &t), -EKEYEXPIRED);
	assert_non_null(strstr(auth_strerror(-EKEYEXPIRED), "expired"));
	assert_non_null(strstr(auth_strerror(-ENOKEY), "missing"));
	assert_non_null(strstr(auth_strerror(-EBADMSG), "invalid"));
}

static void test_allowed(void **state)
{
	struct gq_token st = { .user = "bob", .role = GQ_ROLE_STUDENT };
	struct gq_token in = { .user = "prof", .role = GQ_ROLE_INSTRUCTOR };
	const char *list = "alice\n  bob  # late\ncarol";

	assert_true(auth_allowed(NULL, 0, &st)); /* no list: everyone */
	assert_false(auth_allowed("", 0, &st));  /* empty list: instructors only */
	assert_true(auth_allowed("", 0, &in));
	assert_true(auth_allowed(list, strlen(list), &st));
	struct gq_token c = { .user = "carol", .role = GQ_ROLE_STUDENT };
	assert_true(auth_allowed(list, strlen(list), &c));
	struct gq_token b2 = { .user = "bo", .role = GQ_ROLE_STUDENT };
	assert_false(auth_allowed(list, strlen(list), &b2)); /* no prefix match */
	struct gq_token b3 = { .user = "bobby", .role = GQ_ROLE_STUDENT };
	assert_false(auth_allowed(list, strlen(list), &b3));
}

static void parse_ok(const char *in, const char *want, size_t want_users)
{
	char err[128] = "", *out = NULL;
	size_t len = 0, users = 0;

	assert_int_equal(auth_allowlist_parse(in, strlen(in), &out, &len, &users, err, sizeof err),
	                 0);
	assert_string_equal(out, want);
	assert_int_equal(len, strlen(want));
	assert_int_equal(users, want_users);
	free(out);
}

static void test_parse(void **state)
{
	parse_ok("", "", 0);
	parse_ok("\n\n# only comments\n", "", 0);
	parse_ok("alice", "alice\n", 1);
	parse_ok("alice\r\nbob\r\n", "alice\nbob\n", 2);
	parse_ok("  alice  # first\n\tbob\n", "alice\nbob\n", 2);
	/* duplicates dropped, the first occurrence keeps its place */
	parse_ok("carol\nalice\ncarol\nbob\nalice\ncarol\n", "carol\nalice\nbob\n", 3);
	parse_ok("a\nab\na\nabc\nab\n", "a\nab\nabc\n", 3);
	parse_ok("x\nx\nx\nx", "x\n", 1);
}

static void test_parse_invalid(void **state)
{
	char err[128] = "", *out = NULL;
	size_t len = 0, users = 0;
	const char *in = "alice\n\nbad name\n";

	assert_int_equal(auth_allowlist_parse(in, strlen(in), &out, &len, &users, err, sizeof err),
	                 -EINVAL);
	assert_non_null(strstr(err, "line 3"));
	assert_null(out);
	in = "alice\n../etc\n";
	assert_int_equal(auth_allowlist_parse(in, strlen(in), &out, &len, &users, err, sizeof err),
	                 -EINVAL);
	assert_non_null(strstr(err, "line 2"));
}

/* The issue: 30,000 names took 1.82 s (quadratic), a full 1 MiB list ~27 s, on the event
 * loop. A 1 MiB list of distinct short names (~150,000) plus as many duplicates must take
 * well under a second of CPU; the bound (2 s of CPU time, not wall time, so a loaded
 * machine does not matter) is ~10x above an n log n run under ASan and ~10x below the
 * quadratic one. */
static void test_parse_large_list_fast(void **state)
{
	size_t cap = 2u << 20, used = 0, n = 0;
	char *in = malloc(cap), err[128], *out = NULL;
	size_t len = 0, users = 0;

	assert_non_null(in);
	while (used + 16 < cap / 2) {
		used += (size_t)sprintf(in + used, "u%06zx\n", n);
		n++;
	}
	size_t half = used;
	memcpy(in + used, in, half); /* every name twice */
	used += half;
	clock_t t0 = clock();
	assert_int_equal(auth_allowlist_parse(in, used, &out, &len, &users, err, sizeof err), 0);
	double cpu = (double)(clock() - t0) / CLOCKS_PER_SEC;
	assert_int_equal(users, n);
	assert_int_equal(len, half);
	assert_memory_equal(out, in, half);
	if (cpu > 2.0)
		fail_msg("allowlist of %zu bytes took %.2f s of CPU", used, cpu);
	free(out);
	free(in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bearer),
		cmocka_unit_test(test_allowed),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_invalid),
		cmocka_unit_test(test_parse_large_list_fast),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
