/* test_rerr.c - Redis error replies: which are retried, how often (common/rerr.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "rerr.h"

static void test_classify(void **state)
{
	assert_int_equal(rerr_classify("LOADING Redis is loading the dataset in memory"),
	                 RERR_TRANSIENT);
	assert_int_equal(rerr_classify("BUSY Redis is busy running a script. You can only call "
	                               "SCRIPT KILL or SHUTDOWN NOSAVE."),
	                 RERR_TRANSIENT);
	assert_int_equal(rerr_classify("TRYAGAIN Multiple keys request during rehashing of slot"),
	                 RERR_TRANSIENT);
	assert_int_equal(rerr_classify("MASTERDOWN Link with MASTER is down"), RERR_TRANSIENT);
	assert_int_equal(rerr_classify("READONLY You can't write against a read only replica."),
	                 RERR_TRANSIENT);
	assert_int_equal(rerr_classify("MISCONF Redis is configured to save RDB snapshots"),
	                 RERR_TRANSIENT);
	assert_int_equal(rerr_classify("NOSCRIPT No matching script. Please use EVAL."), RERR_ONCE);
	assert_int_equal(rerr_classify("ERR Error running script (call to f_x): @user_script:1: "
	                               "WRONGTYPE Operation against a key"),
	                 RERR_PERMANENT);
	assert_int_equal(rerr_classify("WRONGTYPE Operation against a key holding the wrong kind "
	                               "of value"),
	                 RERR_PERMANENT);
	assert_int_equal(rerr_classify("OOM command not allowed when used memory > 'maxmemory'."),
	                 RERR_PERMANENT);
	assert_int_equal(rerr_classify("EXECABORT Transaction discarded"), RERR_PERMANENT);
	assert_int_equal(rerr_classify("NOPERM this user has no permissions"), RERR_PERMANENT);
	/* the code is the whole first word */
	assert_int_equal(rerr_classify("BUSYGROUP Consumer Group name already exists"),
	                 RERR_PERMANENT);
	assert_int_equal(rerr_classify("LOADINGX"), RERR_PERMANENT);
	assert_int_equal(rerr_classify("LOADING"), RERR_TRANSIENT);
	assert_int_equal(rerr_classify(""), RERR_PERMANENT);
	assert_int_equal(rerr_classify(NULL), RERR_PERMANENT);
	assert_int_equal(rerr_classify("something unknown"), RERR_PERMANENT);
}

static void test_bounds(void **state)
{
	assert_true(rerr_should_retry(RERR_TRANSIENT, 1));
	assert_true(rerr_should_retry(RERR_TRANSIENT, RERR_TRANSIENT_TRIES - 1));
	assert_false(rerr_should_retry(RERR_TRANSIENT, RERR_TRANSIENT_TRIES));
	assert_true(rerr_should_retry(RERR_ONCE, 1));
	assert_false(rerr_should_retry(RERR_ONCE, 2));
	assert_false(rerr_should_retry(RERR_PERMANENT, 1));
	assert_string_equal(rerr_kind_name(RERR_PERMANENT), "permanent");
	assert_string_equal(rerr_kind_name(RERR_ONCE), "retry-once");
	assert_string_equal(rerr_kind_name(RERR_TRANSIENT), "transient");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
