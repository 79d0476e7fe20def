/* test_broker_conf.c - [broker] in both daemons' configs: redis by default, kafka by one
 * line, an unknown kind (or a bad stream name) fails with FILE:LINE, and conf_line_of()
 * finds a key's line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "broker.h"
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

/* Both daemons take the credential keys, read the password file at load and stop with
 * FILE:LINE when others may read it; the job queue gets the credentials of its kind. */
static void test_credentials_both_daemons(void **state)
{
	char pw[64] = "/tmp/gq-broker-pw.XXXXXX", text[512], err[1024], want[128];
	int fd = mkstemp(pw);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "hunter2\n", 8), 8);
	close(fd);
	snprintf(text, sizeof text,
	         "[dispatcher]\nsecret_file = /x\n[redis]\nuser = gradeq-dispatcher\n"
	         "password_file = %s\n[broker]\nkind = redis\n",
	         pw);
	write_conf(text);
	struct disp_config d;
	disp_config_defaults(&d);
	assert_int_equal(disp_config_load(&d, path, err, sizeof err), 0);
	assert_string_equal(d.creds.redis_password, "hunter2");
	struct broker_auth a;
	disp_config_broker_auth(&d, &a);
	assert_string_equal(a.user, "gradeq-dispatcher");
	assert_string_equal(a.password, "hunter2");
	assert_null(a.security_protocol);
	unlink(path);

	snprintf(text, sizeof text,
	         "[node]\nid = n1\n[redis]\nuser = gradeq-node\npassword_file = %s\n"
	         "[broker]\nkind = kafka\n[kafka]\nsecurity_protocol = SASL_PLAINTEXT\n"
	         "sasl_username = gradeq-node\nsasl_password_file = %s\n",
	         pw, pw);
	write_conf(text);
	struct node_config n;
	node_config_defaults(&n);
	assert_int_equal(node_config_load(path, &n, err, sizeof err), 0);
	node_config_broker_auth(&n, &a);
	assert_string_equal(a.security_protocol, "SASL_PLAINTEXT");
	assert_string_equal(a.sasl_mechanism, "SCRAM-SHA-512");
	assert_string_equal(a.user, "gradeq-node");
	assert_string_equal(a.password, "hunter2");

	chmod(pw, 0644);
	node_config_defaults(&n);
	assert_true(node_config_load(path, &n, err, sizeof err) < 0);
	snprintf(want, sizeof want, "%s:5: redis.password_file", path);
	assert_non_null(strstr(err, want));
	unlink(path);
	unlink(pw);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_redis),
		cmocka_unit_test(test_kafka_by_one_line),
		cmocka_unit_test(test_unknown_kind_file_line),
		cmocka_unit_test(test_bad_stream_name),
		cmocka_unit_test(test_line_of),
		cmocka_unit_test(test_credentials_both_daemons),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
