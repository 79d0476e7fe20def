#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "names.h"

static void test_valid_names(void **state)
{
	assert_true(name_valid("alice"));
	assert_true(name_valid("CS-101_2024.fall"));
	assert_true(name_valid("a.b"));
	assert_true(name_valid("x"));
	assert_true(name_valid(".hidden"));
	/* exactly 64 characters */
	assert_true(name_valid("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
}

static void test_invalid_names(void **state)
{
	assert_false(name_valid(NULL));
	assert_false(name_valid(""));
	assert_false(name_valid("."));
	assert_false(name_valid(".."));
	assert_false(name_valid("a..b"));
	assert_false(name_valid("../etc"));
	assert_false(name_valid("a/b"));
	assert_false(name_valid("/"));
	assert_false(name_valid("a b"));
	assert_false(name_valid("a:b"));
	assert_false(name_valid("a*"));
	assert_false(name_valid("caf\xc3\xa9")); /* "café" in UTF-8 */
	assert_false(name_valid("a\nb"));
	/* 65 characters */
	assert_false(
		name_valid("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
}

static void test_name_valid_n(void **state)
{
	const char buf[] = "alice/../bob";

	assert_true(name_valid_n(buf, 5));
	assert_false(name_valid_n(buf, 6));
	assert_false(name_valid_n(buf, 0));
	assert_true(name_valid_n("bob\0", 3));
	assert_false(name_valid_n("bob\0", 4)); /* an embedded NUL is not a name character */
	assert_false(name_valid_n(NULL, 3));
}

static void test_subid(void **state)
{
	char a[GQ_SUBID_LEN + 1], b[GQ_SUBID_LEN + 1];

	assert_int_equal(subid_new(a), 0);
	assert_int_equal(subid_new(b), 0);
	assert_int_equal(strlen(a), GQ_SUBID_LEN);
	assert_true(subid_valid(a));
	assert_true(subid_valid(b));
	assert_string_not_equal(a, b);
	/* ids sort by time: the 12 time digits of two ids made now are not decreasing */
	assert_true(memcmp(a, b, 12) <= 0);

	assert_true(subid_valid("0123456789abcdef0123456789ab"));
	assert_false(subid_valid("0123456789ABCDEF0123456789ab"));
	assert_false(subid_valid("0123456789abcdef0123456789a"));
	assert_false(subid_valid("0123456789abcdef0123456789abc"));
	assert_false(subid_valid("0123456789abcdef0123456789ag"));
	assert_false(subid_valid(""));
	assert_false(subid_valid(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_names),
		cmocka_unit_test(test_invalid_names),
		cmocka_unit_test(test_name_valid_n),
		cmocka_unit_test(test_subid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
