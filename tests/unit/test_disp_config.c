/* test_disp_config.c - dispatcher.conf: defaults, strict loading (unknown keys and bad
 * values fail with file:line), host:port parsing and cross-checks (dispatcher/disp_config.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "disp_config.h"

static char path[64];
static char err[512];
static struct disp_config cfg;

static int load(const char *text)
{
	FILE *f;

	strcpy(path, "/tmp/gq-dconf-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs(text, f);
	fclose(f);
	disp_config_defaults(&cfg);
	err[0] = '\0';
	int r = disp_config_load(&cfg, path, err, sizeof err);
	unlink(path);
	return r;
}

static void expect_fail(const char *text, const char *what)
{
	assert_int_equal(load(text), -EINVAL);
	if (!strstr(err, what))
		fail_msg("error '%s' lacks '%s'", err, what);
}

static void test_defaults(void **state)
{
	assert_int_equal(load(""), 0);
	assert_string_equal(cfg.listen_host, "127.0.0.1");
	assert_int_equal(cfg.listen_port, 8080);
	assert_int_equal(cfg.max_body_kb, 1024);
	assert_int_equal(cfg.max_header_kb, 16);
	assert_int_equal(cfg.max_connections, 1024);
	assert_int_equal(cfg.max_connections_per_client, 64);
	assert_int_equal(cfg.request_timeout_s, 30);
	assert_string_equal(cfg.redis_host, "127.0.0.1");
	assert_int_equal(cfg.redis_port, 6379);
	assert_string_equal(cfg.kafka_topic, "gradeq.jobs");
}

static void test_good(void **state)
{
	assert_int_equal(load("[dispatcher]\nlisten = [::1]:0\nmax_body_kb = 64\n"
	                      "max_header_kb = 4\nmax_connections = 10\n"
	                      "max_connections_per_client = 10\nrequest_timeout_s = 5\n"
	                      "log_level = debug\n[redis]\naddress = redis.local:6380\n"
	                      "[kafka]\nbrokers = a:1,b:2\ntopic = t.1\ngroup = g_2\n"),
	                 0);
	assert_string_equal(cfg.listen_host, "::1");
	assert_int_equal(cfg.listen_port, 0);
	assert_int_equal(cfg.max_header_kb, 4);
	assert_int_equal(cfg.level, GQ_LOG_DEBUG);
	assert_string_equal(cfg.redis_host, "redis.local");
	assert_int_equal(cfg.redis_port, 6380);
}

static void test_strict(void **state)
{
	expect_fail("[dispatcher]\nlisten = 127.0.0.1:8080\nlisten_port = 1\n", ":3");
	expect_fail("[dispatcher]\nnope = 1\n", "nope");
	expect_fail("[nosection]\nx = 1\n", ":1: unknown section");
	expect_fail("[dispatcher]\nmax_body_kb = 0\n", "max_body_kb");
	expect_fail("[dispatcher]\nmax_body_kb = lots\n", "max_body_kb");
	expect_fail("[dispatcher]\nmax_header_kb = 0\n", "max_header_kb");
	expect_fail("[dispatcher]\nmax_connections = 0\n", "max_connections");
	expect_fail("[dispatcher]\nrequest_timeout_s = 0\n", "request_timeout_s");
	expect_fail("[dispatcher]\nmax_connections = 4\nmax_connections_per_client = 5\n",
	            "max_connections_per_client");
	expect_fail("[dispatcher]\nlisten = 8080\n", "dispatcher.listen");
	expect_fail("[dispatcher]\nlisten = host:70000\n", "dispatcher.listen");
	expect_fail("[dispatcher]\nlog_level = loud\n", "log_level");
	expect_fail("[redis]\naddress = redis:0\n", "redis.address");
	expect_fail("[kafka]\ntopic = a/b\n", "kafka.topic");
	expect_fail("[kafka]\ngroup = \n", "kafka.group");
	expect_fail("[kafka]\nbrokers = \n", "kafka.brokers");
	expect_fail("[dispatcher]\nsecret_file = \n", "secret_file");
}

static void test_hostport(void **state)
{
	char host[16];
	int port = -1;

	assert_int_equal(disp_config_hostport("h:1", 0, host, sizeof host, &port), 0);
	assert_string_equal(host, "h");
	assert_int_equal(port, 1);
	assert_int_equal(disp_config_hostport("h:0", 0, host, sizeof host, &port), -EINVAL);
	assert_int_equal(disp_config_hostport("h:0", 1, host, sizeof host, &port), 0);
	assert_int_equal(disp_config_hostport(":1", 0, host, sizeof host, &port), -EINVAL);
	assert_int_equal(disp_config_hostport("[]:1", 0, host, sizeof host, &port), -EINVAL);
	assert_int_equal(disp_config_hostport("h:1x", 0, host, sizeof host, &port), -EINVAL);
	assert_int_equal(
		disp_config_hostport("averyveryverylonghost:1", 0, host, sizeof host, &port),
		-EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_strict),
		cmocka_unit_test(test_hostport),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
