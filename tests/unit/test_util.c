#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"
#include "util.h"

static void test_hex_sha(void **state)
{
	const unsigned char in[] = { 0x00, 0xab, 0xff };
	char hex[7], sha[65];

	util_hex(in, sizeof in, hex);
	assert_string_equal(hex, "00abff");
	util_sha256_hex("abc", 3, sha);
	assert_string_equal(sha,
	                    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	util_sha256_hex(NULL, 0, sha);
	assert_string_equal(sha,
	                    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	assert_true(util_is_sha256_hex(sha));
	sha[3] = 'A';
	assert_false(util_is_sha256_hex(sha));
	assert_false(util_is_sha256_hex("abc"));
	assert_false(util_is_sha256_hex(NULL));
}

static void test_parse_ll(void **state)
{
	long long v = 42;

	assert_int_equal(util_parse_ll("17", 0, 100, &v), 0);
	assert_int_equal(v, 17);
	assert_int_equal(util_parse_ll("-5", -10, 10, &v), 0);
	assert_int_equal(v, -5);
	v = 42;
	assert_int_equal(util_parse_ll("", 0, 100, &v), -EINVAL);
	assert_int_equal(util_parse_ll("12abc", 0, 100, &v), -EINVAL);
	assert_int_equal(util_parse_ll(" 12", 0, 100, &v), -EINVAL);
	assert_int_equal(util_parse_ll("12 ", 0, 100, &v), -EINVAL);
	assert_int_equal(util_parse_ll("0x10", 0, 100, &v), -EINVAL);
	assert_int_equal(util_parse_ll("101", 0, 100, &v), -ERANGE);
	assert_int_equal(util_parse_ll("99999999999999999999", LLONG_MIN, LLONG_MAX, &v), -ERANGE);
	assert_int_equal(util_parse_ll(NULL, 0, 100, &v), -EINVAL);
	assert_int_equal(v, 42); /* untouched on error */
}

static void test_read_file(void **state)
{
	char path[] = "/tmp/gq-util-XXXXXX", *buf = NULL;
	size_t len = 0;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "hello", 5), 5);
	close(fd);
	assert_int_equal(util_read_file(path, 5, &buf, &len), 0);
	assert_int_equal(len, 5);
	assert_string_equal(buf, "hello");
	free(buf);
	buf = NULL;
	assert_int_equal(util_read_file(path, 4, &buf, &len), -EFBIG);
	assert_null(buf);
	unlink(path);
	assert_int_equal(util_read_file(path, 4, &buf, &len), -ENOENT);
	assert_int_equal(util_read_file("/tmp", 4, &buf, &len), -EISDIR);
}

static void test_mkdir_p(void **state)
{
	char root[] = "/tmp/gq-mkdirp.XXXXXX", path[256], file[300];
	struct stat st;
	assert_non_null(mkdtemp(root));
	snprintf(path, sizeof path, "%s/a/b/c", root);
	assert_int_equal(util_mkdir_p(path, 0711), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0711 & ~(unsigned)umask(022));
	assert_int_equal(util_mkdir_p(path, 0711), 0); /* already there */
	/* a file in the way: the mkdir's own error */
	snprintf(file, sizeof file, "%s/a/f", root);
	FILE *f = fopen(file, "w");
	assert_non_null(f);
	fclose(f);
	snprintf(path, sizeof path, "%s/a/f/d", root);
	assert_int_equal(util_mkdir_p(path, 0755), -ENOTDIR);
	char big[PATH_MAX + 8];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	assert_int_equal(util_mkdir_p(big, 0755), -ENAMETOOLONG);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", root);
	assert_int_equal(system(cmd), 0);
}

static void test_time(void **state)
{
	int64_t a = util_mono_ms(), b = util_mono_ms();

	assert_true(b >= a);
	assert_true(util_now_ms() > 1600000000000LL);
}

static void test_log_level(void **state)
{
	enum gq_log_level l = GQ_LOG_INFO;

	assert_int_equal(gq_log_level_parse("debug", &l), 0);
	assert_int_equal(l, GQ_LOG_DEBUG);
	assert_int_equal(gq_log_level_parse("error", &l), 0);
	assert_int_equal(l, GQ_LOG_ERR);
	assert_int_equal(gq_log_level_parse("verbose", &l), -EINVAL);
	assert_int_equal(gq_log_level_parse(NULL, &l), -EINVAL);
	assert_int_equal(l, GQ_LOG_ERR);
}

/* A log line is "<iso time> <level> <component>: message" with control characters of
 * the message replaced, so untrusted text cannot forge a second line. */
static void test_log_line(void **state)
{
	char path[] = "/tmp/gq-log-XXXXXX", *buf = NULL;
	int fd = mkstemp(path), saved = dup(STDERR_FILENO);
	size_t len;

	assert_true(fd >= 0 && saved >= 0);
	dup2(fd, STDERR_FILENO);
	gq_log_init("test", GQ_LOG_INFO);
	LOG_DEBUG("hidden %d", 1);
	LOG_WARN("user %s said\nFAKE", "bob");
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(fd);
	assert_int_equal(util_read_file(path, 4096, &buf, &len), 0);
	unlink(path);
	assert_non_null(strstr(buf, " WARN test: user bob said FAKE\n"));
	assert_null(strstr(buf, "hidden"));
	assert_true(buf[4] == '-' && buf[10] == 'T');
	assert_int_equal(strchr(buf, '\n') - buf + 1, (long)len); /* exactly one line */
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hex_sha),   cmocka_unit_test(test_parse_ll),
		cmocka_unit_test(test_read_file), cmocka_unit_test(test_time),
		cmocka_unit_test(test_log_level), cmocka_unit_test(test_log_line),
		cmocka_unit_test(test_mkdir_p),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
