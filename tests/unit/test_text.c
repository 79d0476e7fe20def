/* test_text.c - text_inert: what a submission can put in a name or a message stays
 * inert on a terminal and a page. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "text.h"

static void check(const char *in, size_t len, bool line, const char *want)
{
	char *s = text_inert(in, len, line);
	assert_non_null(s);
	assert_string_equal(s, want);
	assert_true(strlen(s) <= len);
	free(s);
}

static void test_controls(void **state)
{
	check("ok\ttab\nnl", 9, false, "ok tab\nnl");
	check("ok\ttab\nnl", 9, true, "ok tab nl");
	check("\x1b[2J\x07\x7f\r", 7, false, " [2J   ");
	check("a\0b", 3, false, "a b"); /* a NUL never cuts a string short */
}

static void test_c1_bidi_separators(void **state)
{
	/* U+009B (CSI), U+202E (RLO), U+2066 (LRI), U+200F (RLM), U+061C, U+2028, U+2029 */
	const char in[] =
		"\xc2\x9b\xe2\x80\xae\xe2\x81\xa6\xe2\x80\x8f\xd8\x9c\xe2\x80\xa8\xe2\x80\xa9|";
	check(in, sizeof in - 1, false, "       |");
	/* ordinary non-ASCII stays */
	check("\xc3\xa9t\xc3\xa9 \xe2\x9c\x93", 9, true, "\xc3\xa9t\xc3\xa9 \xe2\x9c\x93");
}

static void test_invalid_utf8(void **state)
{
	check("\xff\xfe\xc3\x28", 4, false, "??\x3f(");
	check("\xed\xa0\x80", 3, false, "???"); /* a surrogate */
	check("\xe2\x80", 2, false, "??");      /* cut short */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_controls),
		cmocka_unit_test(test_c1_bidi_separators),
		cmocka_unit_test(test_invalid_utf8),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
