/* test_secretfile.c - reading a secret file (common/secretfile.c): what is refused (a mode
 * that lets others in, a directory, a FIFO without blocking, a missing file), the size
 * bound, and that the owner's own file is read whole. */
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

#include "secretfile.h"

static char dir[64];

static int setup(void **state)
{
	snprintf(dir, sizeof dir, "/tmp/gq-secretfile.XXXXXX");
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

/* Writes len bytes of text to dir/name with mode; returns the path (static). */
static const char *put(const char *name, const char *text, size_t len, mode_t mode)
{
	static char path[128];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
	return path;
}

static void test_reads_the_owners_file(void **state)
{
	char buf[16], err[256] = "";
	const char *p = put("ok", "s3cret\n", 7, 0600);
	assert_int_equal(secretfile_read(p, "password", buf, sizeof buf, err, sizeof err), 7);
	assert_memory_equal(buf, "s3cret\n", 7);
	p = put("ro", "abc", 3, 0400);
	assert_int_equal(secretfile_read(p, "password", buf, sizeof buf, err, sizeof err), 3);
	p = put("empty", "", 0, 0600);
	assert_int_equal(secretfile_read(p, "password", buf, sizeof buf, err, sizeof err), 0);
}

static void test_size_bound(void **state)
{
	char buf[8], err[256] = "";
	const char *p = put("exact", "12345678", 8, 0600);
	assert_int_equal(secretfile_read(p, "secret", buf, sizeof buf, err, sizeof err), 8);
	p = put("over", "123456789", 9, 0600);
	assert_int_equal(secretfile_read(p, "secret", buf, sizeof buf, err, sizeof err), -EFBIG);
	assert_non_null(strstr(err, "too long"));
}

static void test_refusals(void **state)
{
	char buf[16], err[256] = "", path[128];
	const char *p = put("open", "s3cret", 6, 0644);
	assert_int_equal(secretfile_read(p, "password", buf, sizeof buf, err, sizeof err), -EPERM);
	assert_non_null(strstr(err, "password file"));
	assert_non_null(strstr(err, "mode 0644"));
	assert_non_null(strstr(err, "chmod 600"));
	p = put("group", "s3cret", 6, 0640);
	assert_int_equal(secretfile_read(p, "secret", buf, sizeof buf, err, sizeof err), -EPERM);
	assert_non_null(strstr(err, "secret file"));

	assert_int_equal(secretfile_read(dir, "secret", buf, sizeof buf, err, sizeof err), -EINVAL);
	assert_non_null(strstr(err, "not a regular file"));

	/* a FIFO with no writer: refused at once (a blocking open would hang the daemon) */
	snprintf(path, sizeof path, "%s/fifo", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(secretfile_read(path, "secret", buf, sizeof buf, err, sizeof err),
	                 -EINVAL);
	assert_non_null(strstr(err, "not a regular file"));

	snprintf(path, sizeof path, "%s/none", dir);
	assert_int_equal(secretfile_read(path, "secret", buf, sizeof buf, err, sizeof err),
	                 -ENOENT);
	assert_non_null(strstr(err, path));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reads_the_owners_file),
		cmocka_unit_test(test_size_bound),
		cmocka_unit_test(test_refusals),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
