/* test_creds.c - the credential keys (common/creds.c): password files (mode, type,
 * content), the checks between keys with FILE:LINE, and the environment form tools use. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf.h"
#include "creds.h"

static char dir[64];

static int setup(void **state)
{
	snprintf(dir, sizeof dir, "/tmp/gq-creds.XXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

/* Writes dir/name with text and mode; returns the path (static). */
static const char *put(const char *name, const char *text, mode_t mode)
{
	static char path[4][128];
	static int k;
	char *p = path[k++ % 4];
	snprintf(p, 128, "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(p, mode), 0);
	return p;
}

/* Loads conf text with only the credential keys; returns creds_check's result. */
static int load(const char *text, bool kafka_used, struct creds *c, char *err, size_t errlen)
{
	const char *path = put("x.conf", text, 0600);
	struct conf_key keys[CREDS_NKEYS];
	creds_defaults(c);
	creds_keys(c, keys);
	int r = conf_load_file(path, keys, CREDS_NKEYS, err, errlen);
	if (r < 0)
		return r;
	return creds_check(c, path, kafka_used, err, errlen);
}

static void test_password_file_modes(void **state)
{
	char pw[CREDS_PASSWORD_MAX + 1] = "untouched", err[512];
	const char *f = put("ok.pw", "s3cret\n", 0600);
	assert_int_equal(creds_password_load(f, pw, sizeof pw, err, sizeof err), 0);
	assert_string_equal(pw, "s3cret");
	f = put("ro.pw", "s3cret", 0400);
	assert_int_equal(creds_password_load(f, pw, sizeof pw, err, sizeof err), 0);
	assert_string_equal(pw, "s3cret");

	strcpy(pw, "untouched");
	f = put("open.pw", "s3cret\n", 0644);
	assert_int_equal(creds_password_load(f, pw, sizeof pw, err, sizeof err), -EPERM);
	assert_non_null(strstr(err, "mode 0644"));
	assert_non_null(strstr(err, "chmod 600"));
	assert_string_equal(pw, "untouched");
	f = put("group.pw", "s3cret\n", 0640);
	assert_int_equal(creds_password_load(f, pw, sizeof pw, err, sizeof err), -EPERM);

	assert_int_equal(creds_password_load(dir, pw, sizeof pw, err, sizeof err), -EINVAL);
	assert_non_null(strstr(err, "not a regular file"));
	char missing[128];
	snprintf(missing, sizeof missing, "%s/none.pw", dir);
	assert_int_equal(creds_password_load(missing, pw, sizeof pw, err, sizeof err), -ENOENT);
}

static void test_password_content(void **state)
{
	char pw[CREDS_PASSWORD_MAX + 1] = "untouched", err[512];
	assert_int_equal(creds_password_load(put("e.pw", "", 0600), pw, sizeof pw, err, sizeof err),
	                 -EINVAL);
	assert_int_equal(
		creds_password_load(put("nl.pw", "\n", 0600), pw, sizeof pw, err, sizeof err),
		-EINVAL);
	assert_int_equal(
		creds_password_load(put("two.pw", "a\nb\n", 0600), pw, sizeof pw, err, sizeof err),
		-EINVAL);
	char big[CREDS_PASSWORD_MAX + 3];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	assert_int_equal(
		creds_password_load(put("big.pw", big, 0600), pw, sizeof pw, err, sizeof err),
		-EINVAL);
	assert_string_equal(pw, "untouched");
	big[CREDS_PASSWORD_MAX] = '\0'; /* exactly the maximum */
	assert_int_equal(
		creds_password_load(put("max.pw", big, 0600), pw, sizeof pw, err, sizeof err), 0);
	assert_int_equal(strlen(pw), CREDS_PASSWORD_MAX);
	assert_int_equal(creds_password_load(put("crlf.pw", "p w\r\n", 0600), pw, sizeof pw, err,
	                                     sizeof err),
	                 0);
	assert_string_equal(pw, "p w");
}

static void test_redis_keys(void **state)
{
	struct creds c;
	char text[512], err[1024], want[256];
	assert_int_equal(load("[redis]\n", false, &c, err, sizeof err), 0);
	assert_string_equal(c.redis_password, "");

	const char *pw = put("r.pw", "pass\n", 0600);
	snprintf(text, sizeof text, "[redis]\nuser = gradeq-node\npassword_file = \"%s\"\n", pw);
	assert_int_equal(load(text, false, &c, err, sizeof err), 0);
	assert_string_equal(c.redis_user, "gradeq-node");
	assert_string_equal(c.redis_password, "pass");
	creds_wipe(&c);
	assert_string_equal(c.redis_password, "");

	/* a password file others may read: FILE:LINE of the key, and what to do */
	pw = put("r.pw", "pass\n", 0604);
	snprintf(text, sizeof text, "[redis]\nuser = gradeq-node\n\npassword_file = %s\n", pw);
	assert_true(load(text, false, &c, err, sizeof err) < 0);
	snprintf(want, sizeof want, "%s/x.conf:4: redis.password_file: %s", dir, pw);
	assert_non_null(strstr(err, want));
	assert_non_null(strstr(err, "chmod 600"));

	/* a user without a password */
	assert_true(load("[redis]\nuser = gradeq-node\n", false, &c, err, sizeof err) < 0);
	snprintf(want, sizeof want, "%s/x.conf:2: redis.user", dir);
	assert_non_null(strstr(err, want));
	assert_true(load("[redis]\nuser = \"a b\"\n", false, &c, err, sizeof err) < 0);
}

static void test_kafka_keys(void **state)
{
	struct creds c;
	char text[512], err[1024], want[256];
	const char *pw = put("k.pw", "kpass", 0600);
	snprintf(text, sizeof text,
	         "[kafka]\nsecurity_protocol = SASL_PLAINTEXT\nsasl_username = gradeq-node\n"
	         "sasl_password_file = %s\n",
	         pw);
	assert_int_equal(load(text, true, &c, err, sizeof err), 0);
	assert_true(creds_kafka_sasl(&c));
	assert_string_equal(c.kafka_sasl_mechanism, "SCRAM-SHA-512");
	assert_string_equal(c.kafka_sasl_password, "kpass");

	/* the Kafka password is not read when the queue is Redis */
	memset(&c, 0, sizeof c);
	assert_int_equal(load(text, false, &c, err, sizeof err), 0);
	assert_string_equal(c.kafka_sasl_password, "");

	assert_true(load("[kafka]\nsecurity_protocol = TLS\n", true, &c, err, sizeof err) < 0);
	snprintf(want, sizeof want, "%s/x.conf:2: kafka.security_protocol", dir);
	assert_non_null(strstr(err, want));
	assert_true(load("[kafka]\nsasl_mechanism = GSSAPI\n", true, &c, err, sizeof err) < 0);
	assert_non_null(strstr(err, "kafka.sasl_mechanism"));
	assert_true(load("[kafka]\nsecurity_protocol = SASL_SSL\nsasl_username = u\n", true, &c,
	                 err, sizeof err) < 0);
	assert_non_null(strstr(err, "kafka.sasl_password_file"));
	assert_true(load("[kafka]\nsasl_username = u\n", true, &c, err, sizeof err) < 0);
	assert_non_null(strstr(err, "only used with security_protocol SASL"));
	assert_true(load("[kafka]\nssl_ca_file = /etc/hostname\n", true, &c, err, sizeof err) < 0);
	assert_non_null(strstr(err, "kafka.ssl_ca_file: only used with"));
	assert_true(load("[kafka]\nsecurity_protocol = SSL\nssl_ca_file = /nonexistent/ca.pem\n",
	                 true, &c, err, sizeof err) < 0);
	snprintf(want, sizeof want, "%s/x.conf:3: kafka.ssl_ca_file: /nonexistent/ca.pem", dir);
	assert_non_null(strstr(err, want));

	pw = put("k.pw", "kpass", 0660);
	snprintf(text, sizeof text,
	         "[kafka]\nsecurity_protocol = SASL_SSL\nsasl_username = gradeq-node\n"
	         "sasl_password_file = %s\n",
	         pw);
	assert_true(load(text, true, &c, err, sizeof err) < 0);
	snprintf(want, sizeof want, "%s/x.conf:4: kafka.sasl_password_file", dir);
	assert_non_null(strstr(err, want));
}

static void test_from_env(void **state)
{
	struct creds c;
	char err[512];
	const char *pw = put("env.pw", "envpass\n", 0600);
	setenv("GRADEQ_REDIS_USER", "gradeq-admin", 1);
	setenv("GRADEQ_REDIS_PASSWORD_FILE", pw, 1);
	assert_int_equal(creds_from_env(&c, err, sizeof err), 0);
	assert_string_equal(c.redis_user, "gradeq-admin");
	assert_string_equal(c.redis_password, "envpass");
	assert_string_equal(c.kafka_security_protocol, "PLAINTEXT");
	chmod(pw, 0644);
	assert_true(creds_from_env(&c, err, sizeof err) < 0);
	assert_non_null(strstr(err, "GRADEQ_REDIS_PASSWORD_FILE"));
	unsetenv("GRADEQ_REDIS_USER");
	unsetenv("GRADEQ_REDIS_PASSWORD_FILE");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_password_file_modes),
		cmocka_unit_test(test_password_content),
		cmocka_unit_test(test_redis_keys),
		cmocka_unit_test(test_kafka_keys),
		cmocka_unit_test(test_from_env),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
