#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf.h"

struct cfg {
	char listen[64];
	long long slots;
	bool bwrap;
	double ratio;
	char title[16];
};

static struct cfg cfg;
static char err[256];

#define NKEYS 5
static struct conf_key keys[NKEYS];

static int setup(void **state)
{
	const struct conf_key k[NKEYS] = {
		{ "node", "listen", CONF_STR, cfg.listen, sizeof cfg.listen, 0, 0 },
		{ "node", "slots", CONF_INT, &cfg.slots, 0, 1, 64 },
		{ "security", "use_bubblewrap", CONF_BOOL, &cfg.bwrap, 0, 0, 0 },
		{ "", "ratio", CONF_DOUBLE, &cfg.ratio, 0, 0, 1 },
		{ "", "title", CONF_STR, cfg.title, sizeof cfg.title, 0, 0 },
	};

	memcpy(keys, k, sizeof k);
	memset(&cfg, 0, sizeof cfg);
	strcpy(cfg.listen, "default");
	cfg.slots = 2;
	cfg.bwrap = true;
	err[0] = '\0';
	return 0;
}

static int load(const char *text)
{
	return conf_load_string("t.conf", text, keys, NKEYS, err, sizeof err);
}

static void test_good(void **state)
{
	assert_int_equal(load("# comment\n"
	                      "ratio = 0.5\n"
	                      "title = \"Ex # 1\"  # trailing comment\n"
	                      "\n"
	                      "[node]\n"
	                      "  listen = 127.0.0.1:8080 ; inline\n"
	                      "  slots = 8   # eight\n"
	                      "[security]\n"
	                      "use_bubblewrap = false\n"),
	                 0);
	assert_string_equal(cfg.listen, "127.0.0.1:8080");
	assert_int_equal(cfg.slots, 8);
	assert_false(cfg.bwrap);
	assert_true(cfg.ratio == 0.5);
	assert_string_equal(cfg.title, "Ex # 1");
}

static void test_absent_keys_keep_defaults(void **state)
{
	assert_int_equal(load("[node]\nslots = 3\n"), 0);
	assert_string_equal(cfg.listen, "default");
	assert_true(cfg.bwrap);
	assert_int_equal(load(""), 0);
}

/* Indented keys are keys, not continuation lines (inih would glue them to the previous
 * value). */
static void test_indented_keys(void **state)
{
	assert_int_equal(load("[node]\n    slots = 4\n    listen = x\n"), 0);
	assert_int_equal(cfg.slots, 4);
	assert_string_equal(cfg.listen, "x");
}

static void expect_error(const char *text, const char *msg)
{
	char before[sizeof cfg];

	memcpy(before, &cfg, sizeof cfg);
	assert_int_equal(load(text), -EINVAL);
	if (!strstr(err, msg))
		fail_msg("error '%s' lacks '%s'", err, msg);
	/* nothing is stored when the file is bad */
	assert_memory_equal(before, &cfg, sizeof cfg);
}

static void test_errors_with_line(void **state)
{
	expect_error("[node]\nslots = 2\nbogus = 1\n", "t.conf:3: unknown key 'bogus' in [node]");
	expect_error("ratio = 0.1\n\n\n[nope]\nslots = 1\n", "t.conf:4: unknown section [nope]");
	expect_error("[node]\n\nslots = two\n", "t.conf:3: node.slots: 'two' is not an integer");
	expect_error("[node]\nslots = 08x\n", "t.conf:2:");
	expect_error("[node]\nslots = 65\n", "t.conf:2: node.slots: 65 out of range 1..64");
	expect_error("[node]\nslots = 0\n", "t.conf:2:");
	expect_error("[node]\nslots = 99999999999999999999999\n", "t.conf:2:");
	expect_error("[node]\nslots = \n", "t.conf:2:");
	expect_error("[security]\nuse_bubblewrap = yes\n",
	             "t.conf:2: security.use_bubblewrap: 'yes' is not a boolean");
	expect_error("[security]\nuse_bubblewrap = 1\n", "t.conf:2:");
	expect_error("[node]\nslots = 1\nlisten = a\nslots = 2\n",
	             "t.conf:4: duplicate key 'slots'");
	expect_error("ratio = 1.5\n", "t.conf:1: ratio: 1.5 out of range 0..1");
	expect_error("ratio = nan\n", "t.conf:1:");
	expect_error("ratio = inf\n", "t.conf:1:");
	expect_error("ratio = 0.5x\n", "t.conf:1:");
	expect_error("[node]\nslots = \"4\"\n",
	             "t.conf:2: node.slots: quotes are only for strings");
	expect_error("title = \"unterminated\n", "t.conf:1: unterminated string");
	expect_error("title = \"a\" b\n", "t.conf:1: unexpected text after string");
	expect_error("title = much too long for sixteen\n", "t.conf:1: title: string longer");
	expect_error("[node]\njust words\n", "t.conf:2: expected 'key = value'");
	expect_error("[node\n", "t.conf:1: malformed section header");
	expect_error("[node] slots = 1\n", "t.conf:1: unexpected text after section header");
	/* the first error wins, even when later lines are bad too */
	expect_error("[node]\nslots = 0\nbogus = 1\n", "t.conf:2:");
}

static void test_long_line(void **state)
{
	char text[512];

	snprintf(text, sizeof text, "title = \"%0300d\"\n", 0);
	expect_error(text, "t.conf:1: line longer than");
}

/* regression (fuzz_bundle_parse): a last line without '\n' overflowed the copy */
static void test_no_final_newline(void **state)
{
	assert_int_equal(load("[node]\nslots = 3"), 0);
	assert_int_equal(cfg.slots, 3);
	expect_error("[node]\nslots = 99", "t.conf:2:");
}

static void test_crlf(void **state)
{
	assert_int_equal(load("[node]\r\nslots = 5\r\nlisten = \"q\"\r\n"), 0);
	assert_int_equal(cfg.slots, 5);
	assert_string_equal(cfg.listen, "q");
}

static void test_file(void **state)
{
	char path[] = "/tmp/gq-conf-XXXXXX";
	int fd = mkstemp(path);
	const char text[] = "[node]\nslots = 7\nbad = 1\n";

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, sizeof text - 1), (ssize_t)(sizeof text - 1));
	close(fd);
	assert_int_equal(conf_load_file(path, keys, NKEYS, err, sizeof err), -EINVAL);
	assert_memory_equal(err, path, strlen(path));
	assert_non_null(strstr(err, ":3: unknown key 'bad'"));
	assert_int_equal(cfg.slots, 2);
	unlink(path);
	assert_int_equal(conf_load_file(path, keys, NKEYS, err, sizeof err), -ENOENT);
	assert_non_null(strstr(err, path));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_good, setup),
		cmocka_unit_test_setup(test_absent_keys_keep_defaults, setup),
		cmocka_unit_test_setup(test_indented_keys, setup),
		cmocka_unit_test_setup(test_errors_with_line, setup),
		cmocka_unit_test_setup(test_long_line, setup),
		cmocka_unit_test_setup(test_no_final_newline, setup),
		cmocka_unit_test_setup(test_crlf, setup),
		cmocka_unit_test_setup(test_file, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
