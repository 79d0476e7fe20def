/* test_cgroup.c - cgroup.c's reading of /proc/<pid>/cgroup, v1, hybrid and v2 texts. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "cgroup.h"

static void test_v2_only(void **state)
{
	(void)state;
	char out[256];
	const char *text = "0::/system.slice/gradeq-node.service\n";
	assert_int_equal(cg_parse_own(text, NULL, out, sizeof out), 0);
	assert_string_equal(out, "/system.slice/gradeq-node.service");
	assert_int_equal(cg_parse_own(text, "memory", out, sizeof out), -ENOENT);
	assert_int_equal(cg_parse_own("0::/\n", NULL, out, sizeof out), 0);
	assert_string_equal(out, "/");
}

static void test_hybrid(void **state)
{
	(void)state;
	char out[256];
	const char *text = "12:pids:/user.slice/user-0.slice\n"
			   "5:cpu,cpuacct:/user.slice\n"
			   "4:memory:/user.slice/user-0.slice/session-1.scope\n"
			   "1:name=systemd:/user.slice/user-0.slice/session-1.scope\n"
			   "0::/user.slice/user-0.slice/session-1.scope";
	assert_int_equal(cg_parse_own(text, "memory", out, sizeof out), 0);
	assert_string_equal(out, "/user.slice/user-0.slice/session-1.scope");
	assert_int_equal(cg_parse_own(text, "cpuacct", out, sizeof out), 0);
	assert_string_equal(out, "/user.slice");
	assert_int_equal(cg_parse_own(text, "cpu", out, sizeof out), 0);
	assert_string_equal(out, "/user.slice");
	assert_int_equal(cg_parse_own(text, "pids", out, sizeof out), 0);
	assert_string_equal(out, "/user.slice/user-0.slice");
	/* the v2 line, not the first "id::" look-alike nor a named hierarchy */
	assert_int_equal(cg_parse_own(text, NULL, out, sizeof out), 0);
	assert_string_equal(out, "/user.slice/user-0.slice/session-1.scope");
	assert_int_equal(cg_parse_own(text, "freezer", out, sizeof out), -ENOENT);
}

static void test_v1_without_v2_line_and_junk(void **state)
{
	(void)state;
	char out[8];
	const char *text = "junk\n\n3:memory:/a\n";
	assert_int_equal(cg_parse_own(text, NULL, out, sizeof out), -ENOENT);
	assert_int_equal(cg_parse_own(text, "memory", out, sizeof out), 0);
	assert_string_equal(out, "/a");
	assert_int_equal(cg_parse_own("0::/much/too/long\n", NULL, out, sizeof out), -ENAMETOOLONG);
	assert_int_equal(cg_parse_own("", NULL, out, sizeof out), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v2_only),
		cmocka_unit_test(test_hybrid),
		cmocka_unit_test(test_v1_without_v2_line_and_junk),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
