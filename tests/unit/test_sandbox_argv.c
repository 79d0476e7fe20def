/* test_sandbox_argv.c - the sandbox profile through sbx_cmd_build() (grader-node/sandbox.h):
 * bwrap's argv carries the promised steps (every namespace unshared, dies with the node,
 * a new session, no capabilities, a read-only root), never binds /, /home, /root or /etc
 * whole, and the child's environment holds nothing of the node's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sandbox.h"

static struct sbx_params params(bool bwrap)
{
	return (struct sbx_params){
		.bwrap = bwrap,
		.bwrap_path = "/usr/bin/bwrap",
		.venv = "/opt/gradeq/venv",
		.harness = "/opt/gradeq/share/gradeq/harness.py",
		.work_dir = "/var/lib/gradeq/work/job-1/work",
		.tests_dir = "/var/lib/gradeq/cache/abc/tests",
		.tmp_mb = 32,
	};
}

static int find(char **v, const char *s)
{
	for (int i = 0; v[i]; i++)
		if (strcmp(v[i], s) == 0)
			return i;
	return -1;
}

static bool is_bind(const char *opt)
{
	static const char *const binds[] = { "--bind",        "--bind-try",  "--ro-bind",
		                             "--ro-bind-try", "--dev-bind",  "--dev-bind-try",
		                             "--bind-fd",     "--ro-bind-fd" };
	for (size_t i = 0; i < sizeof binds / sizeof *binds; i++)
		if (strcmp(opt, binds[i]) == 0)
			return true;
	return false;
}

static void test_promised_steps(void **state)
{
	struct sbx_params p = params(true);
	struct sbx_cmd c;
	char err[128];

	assert_int_equal(sbx_cmd_build(&p, &c, err, sizeof err), 0);
	assert_string_equal(c.argv[0], "/usr/bin/bwrap");
	int sep = find(c.argv, "--");
	assert_true(sep > 0);
	int i = find(c.argv, "--unshare-all");
	assert_true(i > 0 && i < sep);
	i = find(c.argv, "--die-with-parent");
	assert_true(i > 0 && i < sep);
	i = find(c.argv, "--new-session");
	assert_true(i > 0 && i < sep);
	i = find(c.argv, "--cap-drop");
	assert_true(i > 0 && i < sep);
	assert_string_equal(c.argv[i + 1], "ALL");
	assert_true(find(c.argv, "--share-net") < 0);
	assert_true(find(c.argv, "--cap-add") < 0);
	/* the root is remounted read-only once everything is mounted */
	for (i = 0; c.argv[i] && i < sep; i++)
		if (strcmp(c.argv[i], "--remount-ro") == 0 && strcmp(c.argv[i + 1], "/") == 0)
			break;
	assert_true(i < sep);
	/* the command after "--": the venv's python running the harness */
	assert_string_equal(c.argv[sep + 1], "/opt/gradeq/venv/bin/python");
	assert_true(find(c.argv + sep, "/gradeq/harness.py") > 0);
	sbx_cmd_free(&c);
}

static void test_no_whole_host_dirs(void **state)
{
	static const char *const forbidden[] = { "/", "/home", "/root", "/etc", "/var", "/proc/1" };
	struct sbx_params p = params(true);
	struct sbx_cmd c;
	char err[128];

	assert_int_equal(sbx_cmd_build(&p, &c, err, sizeof err), 0);
	int sep = find(c.argv, "--");
	int binds = 0;
	for (int i = 1; i < sep; i++) {
		if (!is_bind(c.argv[i]))
			continue;
		binds++;
		assert_true(i + 2 < sep);
		const char *src = c.argv[i + 1];
		for (size_t k = 0; k < sizeof forbidden / sizeof *forbidden; k++)
			if (strcmp(src, forbidden[k]) == 0)
				fail_msg("%s binds %s whole", c.argv[i], src);
		if (strncmp(src, "/home/", 6) == 0 || strncmp(src, "/root/", 6) == 0)
			fail_msg("%s binds %s (a home directory)", c.argv[i], src);
		i += 2;
	}
	assert_true(binds >= 4); /* /usr, venv, harness, tests, work */
	sbx_cmd_free(&c);
}

static void test_env_has_nothing_of_the_node(void **state)
{
	static const char *const node_vars[] = { "GRADEQ_SECRET", "REDIS_URL",     "KAFKA_BROKERS",
		                                 "GRADEQ_TOKEN",  "SSH_AUTH_SOCK", "USER",
		                                 "LD_PRELOAD",    "PYTHONPATH",    "VIRTUAL_ENV" };
	setenv("GRADEQ_SECRET", "s3cr3t-value", 1);
	setenv("REDIS_URL", "redis://127.0.0.1:6379", 1);
	setenv("KAFKA_BROKERS", "127.0.0.1:9092", 1);
	setenv("GRADEQ_TOKEN", "tok", 1);
	setenv("SSH_AUTH_SOCK", "/tmp/agent", 1);
	setenv("USER", "root", 1);
	setenv("LD_PRELOAD", "/tmp/evil.so", 1);
	setenv("PYTHONPATH", "/root/lib", 1);
	setenv("VIRTUAL_ENV", "/root/venv", 1);
	setenv("HOME", "/root", 1);
	for (int bw = 0; bw < 2; bw++) {
		struct sbx_params p = params(bw);
		struct sbx_cmd c;
		char err[128];

		assert_int_equal(sbx_cmd_build(&p, &c, err, sizeof err), 0);
		for (int i = 0; c.envp[i]; i++) {
			const char *eq = strchr(c.envp[i], '=');
			assert_non_null(eq);
			for (size_t k = 0; k < sizeof node_vars / sizeof *node_vars; k++) {
				size_t n = strlen(node_vars[k]);
				if ((size_t)(eq - c.envp[i]) == n &&
				    strncmp(c.envp[i], node_vars[k], n) == 0)
					fail_msg("the node's %s reaches the sandbox", node_vars[k]);
			}
			assert_null(strstr(c.envp[i], "s3cr3t"));
			assert_null(strstr(c.envp[i], "/root"));
		}
		int h = -1;
		for (int i = 0; c.envp[i]; i++)
			if (strncmp(c.envp[i], "HOME=", 5) == 0)
				h = i;
		assert_true(h >= 0);
		assert_string_equal(c.envp[h], bw ? "HOME=/tmp"
		                                  : "HOME="
		                                    "/var/lib/gradeq/work/job-1/work");
		sbx_cmd_free(&c);
	}
}

static void test_missing_paths_refused(void **state)
{
	struct sbx_params p = params(true);
	struct sbx_cmd c;
	char err[128] = "";

	p.venv = NULL;
	assert_true(sbx_cmd_build(&p, &c, err, sizeof err) < 0);
	assert_true(err[0] != '\0');
	p = params(true);
	p.bwrap_path = NULL;
	assert_true(sbx_cmd_build(&p, &c, err, sizeof err) < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_promised_steps),
		cmocka_unit_test(test_no_whole_host_dirs),
		cmocka_unit_test(test_env_has_nothing_of_the_node),
		cmocka_unit_test(test_missing_paths_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
