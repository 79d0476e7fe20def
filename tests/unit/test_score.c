#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "score.h"

static const char *fmt(double v)
{
	static char buf[32];

	return score_format(v, buf, sizeof buf);
}

static void test_format(void **state)
{
	assert_string_equal(fmt(7.5), "7.5");
	assert_string_equal(fmt(10), "10");
	assert_string_equal(fmt(20.0 / 3.0), "6.67");
	assert_string_equal(fmt(10.0 / 3.0), "3.33");
	assert_string_equal(fmt(0), "0");
	assert_string_equal(fmt(0.1 + 0.2), "0.3");
	assert_string_equal(fmt(100), "100");
	assert_string_equal(fmt(0.05), "0.05");
	assert_string_equal(fmt(1.10), "1.1");
	assert_string_equal(fmt(2.675), "2.68"); /* 267.4999... in binary */
	assert_string_equal(fmt(1.005), "1.01");
	assert_string_equal(fmt(9.999), "10");
}

static void test_no_negative_zero(void **state)
{
	assert_string_equal(fmt(-0.0), "0");
	assert_string_equal(fmt(-0.001), "0");
	assert_string_equal(fmt(-0.004999), "0");
	assert_false(signbit(score_round2(-0.001)));
	assert_string_equal(fmt(-1.5), "-1.5"); /* real negatives stay visible */
}

static void test_round2(void **state)
{
	assert_true(score_round2(6.666666) == 6.67);
	assert_true(score_round2(0.125) == 0.13);
	assert_true(score_round2(-0.125) == -0.13); /* half away from zero */
	assert_true(score_round2(0.1 + 0.2) == 0.3);
	assert_true(score_round2(5) == 5);
}

static void test_scale(void **state)
{
	assert_true(score_scale(10, 4) == 2.5);
	assert_true(score_scale(0, 4) == 1);
	assert_true(score_scale(10, 0) == 1);
	assert_true(score_scale(-5, 4) == 1);
	assert_true(score_scale(NAN, 4) == 1);
	/* 20 points over 3 equal tests: the sum of rounded parts shows 20 */
	assert_string_equal(fmt(score_scale(20, 3) * 3), "20");
}

static void test_small_buffer(void **state)
{
	char small[4];

	score_format(123.45, small, sizeof small);
	assert_string_equal(small, "123");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format),       cmocka_unit_test(test_no_negative_zero),
		cmocka_unit_test(test_round2),       cmocka_unit_test(test_scale),
		cmocka_unit_test(test_small_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
