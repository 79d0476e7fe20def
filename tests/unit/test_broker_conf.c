/* test_broker_conf.c - [broker] in both daemons' configs: redis by default, kafka by one
 * line, an unknown kind (or a bad stream name) fails with FILE:LINE, and conf_line_of()
 * finds a key's line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf.h"
#include "disp_config.h"
#include "node_config.h"

static char path[64];

static void write_conf(const char *text)
{
	snprintf(path, sizeof path, "/tmp/gq-broker-conf.XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void test_defaults_redis(void **state)
{
	struct disp_config d;
	disp_config_defaults(&d);
	assert_string_equal(d.broker_kind, "redis");
	assert_string_equal(d.broker_stream, "gq:jobs");
	struct node_config n;
	node_config_defaults(&n);
	assert_string_equal(n.broker_kind, "redis");
	assert_int_equal(n.visibility_timeout_s, 15);
	assert_int_equal(n.max_deliveries, 5);
}

static void test_kafka_by_one_line(void **state)
{
	write_conf("[dispatcher]\nsecret_file = /x\n[broker]\nkind = kafka\n");
	struct disp_config d;
	char err[256] = "";
	disp_config_defaults(&d);
	assert_int_equal(disp_config_load(&d, path, err, sizeof err), 0);
	assert_string_equal(d.broker_kind, "kafka");
	unlink(path);
}

static void test_unknown_kind_file_line(void **state)
{
	write_conf("[dispatcher]\nlog_level = info\n\n[broker]\n  kind = rabbitmq\n");
	struct disp_config d;
	char err[256] = "", want[128];
	disp_config_defaults(&d);
	assert_true(disp_config_load(&d, path, err, sizeof err) < 0);
	snprintf(want, sizeof want, "%s:5: broker.kind", path);
	assert_non_null(strstr(err, want));
	assert_non_null(strstr(err, "rabbitmq"));

	struct node_config n;
	node_config_defaults(&n);
	snprintf(n.id, sizeof n.id, "n1");
	assert_true(node_config_load(path, &n, err, sizeof err) < 0); /* [dispatcher] unknown */
	unlink(path);
	write_conf("[node]\nslots = 2\n[broker]\nkind = \"redis \"\n");
	node_config_defaults(&n);
	snprintf(n.id, sizeof n.id, "n1");
	assert_true(node_config_load(path, &n, err, sizeof err) < 0);
	snprintf(want, sizeof want, "%s:4: broker.kind", path);
	assert_non_null(strstr(err, want));
	unlink(path);
}

static void test_bad_stream_name(void **state)
{
	write_conf("[broker]\nkind = redis\nstream = \"gq jobs\"\n");
	struct disp_config d;
	char err[256] = "", want[128];
	disp_config_defaults(&d);
	assert_true(disp_config_load(&d, path, err, sizeof err) < 0);
	snprintf(want, sizeof want, "%s:3: broker.stream", path);
	assert_non_null(strstr(err, want));
	unlink(path);
}

static void test_line_of(void **state)
{
	write_conf("# c\n[a]\nkind = x\n[broker]\n\tkind: y\nkinds = z\n");
	assert_int_equal(conf_line_of(path, "broker", "kind"), 5);
	assert_int_equal(conf_line_of(path, "a", "kind"), 3);
	assert_int_equal(conf_line_of(path, "broker", "missing"), 0);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_redis),
		cmocka_unit_test(test_kafka_by_one_line),
		cmocka_unit_test(test_unknown_kind_file_line),
		cmocka_unit_test(test_bad_stream_name),
		cmocka_unit_test(test_line_of),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
