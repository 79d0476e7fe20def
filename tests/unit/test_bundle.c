#include <errno.h>
#include <fcntl.h>
#include <msgpack.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "bundle.h"
#include "util.h"

static char err[256];
static char tmp[64];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int setup(void **state)
{
	strcpy(tmp, "/tmp/gq-bundle-XXXXXX");
	assert_non_null(mkdtemp(tmp));
	err[0] = '\0';
	return 0;
}

static int teardown(void **state)
{
	nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

static void put(const char *rel, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", tmp, rel);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void mkd(const char *rel)
{
	char path[256];

	snprintf(path, sizeof path, "%s/%s", tmp, rel);
	assert_int_equal(mkdir(path, 0755), 0);
}

static void make_exercise(void)
{
	put("exercise.toml", "title = \"Sums\"\nmax_points = 10\ntimeout_s = 30\n");
	put("release.py", "import marimo\n");
	put("solution.py", "secret\n"); /* not part of a bundle */
	put(".env", "TOKEN=x\n");
	mkd("tests");
	put("tests/test_sum.py", "from submission import add\n");
	put("tests/conftest.py", "\n");
	put("tests/.hidden", "x\n");
	mkd("tests/__pycache__");
	put("tests/__pycache__/test_sum.cpython-311.pyc", "junk");
	put("tests/old.pyc", "junk");
	mkd("tests/sub");
	put("tests/sub/sum_test.py", "\n");
	put("tests/sub/helper.py", "\n");
	mkd("files");
	put("files/data.csv", "a,b\n1,2\n");
	put("files/empty.txt", "");
}

static void test_pack_parse_extract(void **state)
{
	char *buf = NULL, *buf2 = NULL, out[128], path[256];
	size_t len = 0, len2 = 0, flen;
	struct bundle *b;
	struct exercise_meta meta;
	const struct bundle_file *f;
	struct stat st;
	char *content = NULL;

	make_exercise();
	assert_int_equal(bundle_pack_dir(tmp, &buf, &len, err, sizeof err), 0);
	/* the same directory gives the same bytes (and hash) */
	assert_int_equal(bundle_pack_dir(tmp, &buf2, &len2, err, sizeof err), 0);
	assert_int_equal(len, len2);
	assert_memory_equal(buf, buf2, len);
	free(buf2);

	b = bundle_parse(buf, len, err, sizeof err);
	if (!b)
		fail_msg("%s", err);
	free(buf);
	assert_int_equal(bundle_count(b), 8);
	assert_string_equal(bundle_file_at(b, 0)->path, "exercise.toml");
	assert_string_equal(bundle_file_at(b, 1)->path, "files/data.csv");
	assert_string_equal(bundle_file_at(b, 7)->path, "tests/test_sum.py");
	assert_null(bundle_file_at(b, 8));
	assert_null(bundle_find(b, "solution.py"));
	assert_null(bundle_find(b, "tests/.hidden"));
	assert_null(bundle_find(b, "tests/old.pyc"));
	f = bundle_find(b, "files/data.csv");
	assert_non_null(f);
	assert_int_equal(f->len, 8);
	assert_memory_equal(f->data, "a,b\n1,2\n", 8);
	assert_int_equal(bundle_find(b, "files/empty.txt")->len, 0);
	assert_int_equal(bundle_test_files(b), 2);

	assert_int_equal(bundle_meta(b, &meta, err, sizeof err), 0);
	assert_string_equal(meta.title, "Sums");
	assert_true(meta.max_points == 10);
	assert_int_equal(meta.timeout_s, 30);
	assert_int_equal(meta.memory_mb, 0);
	assert_false(meta.safety_check);

	snprintf(out, sizeof out, "%s/out", tmp);
	assert_int_equal(mkdir(out, 0700), 0);
	assert_int_equal(bundle_extract(b, out, err, sizeof err), 0);
	snprintf(path, sizeof path, "%s/tests/sub/sum_test.py", out);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	snprintf(path, sizeof path, "%s/tests/sub", out);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	snprintf(path, sizeof path, "%s/files/data.csv", out);
	assert_int_equal(util_read_file(path, 100, &content, &flen), 0);
	assert_string_equal(content, "a,b\n1,2\n");
	free(content);
	/* tests/, files/ and exercise.toml (the node reads the exercise's settings from it);
	 * release.py stays out */
	snprintf(path, sizeof path, "%s/exercise.toml", out);
	assert_int_equal(access(path, F_OK), 0);
	snprintf(path, sizeof path, "%s/release.py", out);
	assert_int_equal(access(path, F_OK), -1);
	/* a second extraction into the same place refuses to overwrite */
	assert_int_equal(bundle_extract(b, out, err, sizeof err), -EEXIST);
	bundle_free(b);
	bundle_free(NULL);
}

static void test_pack_refuses_symlink(void **state)
{
	char *buf = NULL, link[256];
	size_t len = 0;

	mkd("tests");
	put("tests/test_a.py", "\n");
	snprintf(link, sizeof link, "%s/tests/passwd", tmp);
	assert_int_equal(symlink("/etc/passwd", link), 0);
	assert_int_equal(bundle_pack_dir(tmp, &buf, &len, err, sizeof err), -ELOOP);
	assert_non_null(strstr(err, "tests/passwd"));
	assert_null(buf);
	unlink(link);
	snprintf(link, sizeof link, "%s/files", tmp);
	assert_int_equal(symlink("/etc", link), 0);
	assert_int_equal(bundle_pack_dir(tmp, &buf, &len, err, sizeof err), -ELOOP);
	assert_null(buf);
}

static void test_pack_bad_name(void **state)
{
	char *buf = NULL;
	size_t len = 0;

	mkd("tests");
	put("tests/my test.py", "\n");
	assert_int_equal(bundle_pack_dir(tmp, &buf, &len, err, sizeof err), -EINVAL);
	assert_non_null(strstr(err, "my test.py"));
	assert_int_equal(bundle_pack_dir("/nonexistent-gq", &buf, &len, err, sizeof err), -ENOENT);
}

/* Encodes a map {path: bin} from NULL-terminated (path, content) pairs. */
static struct bundle *parse_map(const char *const *kv)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	struct bundle *b;
	size_t n = 0;

	while (kv[2 * n])
		n++;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, n);
	for (size_t i = 0; i < n; i++) {
		msgpack_pack_str_with_body(&pk, kv[2 * i], strlen(kv[2 * i]));
		msgpack_pack_bin_with_body(&pk, kv[2 * i + 1], strlen(kv[2 * i + 1]));
	}
	b = bundle_parse(sb.data, sb.size, err, sizeof err);
	msgpack_sbuffer_destroy(&sb);
	return b;
}

static void test_path_traversal(void **state)
{
	static const char *bad[] = { "../x",
		                     "tests/../../x",
		                     "/abs",
		                     "tests/a/../b",
		                     "other/x",
		                     "tests",
		                     "tests/",
		                     "tests//a",
		                     "tests/./a",
		                     "files/a/",
		                     "Tests/a",
		                     "exercise.toml/x",
		                     "tests/a\\b",
		                     "",
		                     "tests/\xc3\xa9.py" };

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		const char *kv[] = { bad[i], "x", NULL };
		struct bundle *b = parse_map(kv);

		if (b)
			fail_msg("path '%s' accepted", bad[i]);
		assert_false(bundle_path_valid(bad[i]));
	}
	assert_true(bundle_path_valid("tests/test_a.py"));
	assert_true(bundle_path_valid("files/d/e/f.txt"));
	assert_true(bundle_path_valid("release.py"));
	assert_false(bundle_path_valid(NULL));
}

static void test_parse_rejects(void **state)
{
	const char *dup[] = { "tests/a.py", "1", "tests/a.py", "2", NULL };
	const char *filedir[] = { "tests/a", "1", "tests/a/b.py", "2", NULL };
	msgpack_sbuffer sb;
	msgpack_packer pk;
	struct bundle *b;

	assert_null(parse_map(dup));
	assert_non_null(strstr(err, "duplicate"));
	assert_null(parse_map(filedir));
	assert_non_null(strstr(err, "both a file and a directory"));
	assert_null(bundle_parse("\x91\x01", 2, err, sizeof err)); /* not a map */
	assert_null(bundle_parse("", 0, err, sizeof err));
	assert_null(bundle_parse("\xdf\xff\xff\xff\xff", 5, err, sizeof err));

	/* value not bytes; str values are accepted */
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 2);
	msgpack_pack_str_with_body(&pk, "tests/a.py", 10);
	msgpack_pack_str_with_body(&pk, "text", 4);
	msgpack_pack_str_with_body(&pk, "tests/b.py", 10);
	msgpack_pack_int(&pk, 5);
	assert_null(bundle_parse(sb.data, sb.size, err, sizeof err));
	assert_non_null(strstr(err, "tests/b.py"));
	b = bundle_parse(sb.data, sb.size - 11, err, sizeof err); /* truncated */
	assert_null(b);
	sb.data[0] = (char)0x81; /* now a one-entry map of a str value */
	b = bundle_parse(sb.data, 1 + 11 + 5, err, sizeof err);
	assert_non_null(b);
	assert_int_equal(bundle_find(b, "tests/a.py")->len, 4);
	bundle_free(b);
	msgpack_sbuffer_destroy(&sb);
}

static void test_too_many_files(void **state)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, GQ_BUNDLE_MAX_FILES + 1);
	for (int i = 0; i <= GQ_BUNDLE_MAX_FILES; i++) {
		char p[32];

		snprintf(p, sizeof p, "tests/t%d.py", i);
		msgpack_pack_str_with_body(&pk, p, strlen(p));
		msgpack_pack_bin_with_body(&pk, "", 0);
	}
	assert_null(bundle_parse(sb.data, sb.size, err, sizeof err));
	assert_non_null(strstr(err, "more than"));
	msgpack_sbuffer_destroy(&sb);
}

/* The issue: an 8 MiB bundle declaring millions of files made msgpack-c allocate ~216 MB
 * before the count was looked at. The count is now refused on the raw bytes: in a child
 * whose address space is capped 64 MiB above what it uses, the parse must still end in
 * "more than N files" (before the fix msgpack-c ran out of memory and the error said
 * "cannot unpack"). ASan reserves terabytes of address space, so there the cap is left
 * out and only the message is checked. */
static void test_file_count_before_allocation(void **state)
{
	size_t n = (8u << 20) / 2 - 8, len = 5 + 2 * n;
	char *buf = malloc(len);
	pid_t pid;
	int status;

	assert_non_null(buf);
	buf[0] = (char)0xdf; /* map32 of n entries, each fixstr "" : nil */
	buf[1] = (char)(n >> 24);
	buf[2] = (char)(n >> 16);
	buf[3] = (char)(n >> 8);
	buf[4] = (char)n;
	for (size_t i = 0; i < n; i++) {
		buf[5 + 2 * i] = (char)0xa0;
		buf[6 + 2 * i] = (char)0xc0;
	}
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
#if !defined(__SANITIZE_ADDRESS__)
		FILE *f = fopen("/proc/self/statm", "r");
		unsigned long pages = 0;
		if (!f || fscanf(f, "%lu", &pages) != 1)
			_exit(3);
		fclose(f);
		struct rlimit rl;
		rl.rlim_cur = rl.rlim_max = pages * (rlim_t)sysconf(_SC_PAGESIZE) + (64u << 20);
		if (setrlimit(RLIMIT_AS, &rl) < 0)
			_exit(3);
#endif
		struct bundle *b = bundle_parse(buf, len, err, sizeof err);
		if (b)
			_exit(4);
		if (!strstr(err, "more than 256 files")) {
			fprintf(stderr, "error: %s\n", err);
			_exit(5);
		}
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	free(buf);
}

/* A path that is not valid UTF-8 is refused with a message that is (the dispatcher puts
 * it in a JSON 400; an invalid message there became a 500). */
static void test_non_utf8_path(void **state)
{
	const char *kv[] = { "tests/\xff.py", "x", NULL };

	assert_null(parse_map(kv));
	assert_non_null(strstr(err, "not allowed"));
	assert_non_null(strstr(err, "tests/\\xff.py"));
	for (const char *p = err; *p; p++)
		assert_true((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f);
}

static void expect_meta_error(const char *toml, const char *msg)
{
	const char *kv[] = { "exercise.toml", toml, "tests/test_a.py", "", NULL };
	struct exercise_meta meta = { .max_points = 42 };
	struct bundle *b = parse_map(kv);

	assert_non_null(b);
	assert_int_equal(bundle_meta(b, &meta, err, sizeof err), -EINVAL);
	if (!strstr(err, msg))
		fail_msg("error '%s' lacks '%s'", err, msg);
	assert_true(meta.max_points == 42); /* untouched */
	bundle_free(b);
}

static void test_meta(void **state)
{
	const char *kv[] = { "exercise.toml",
		             "# exercise\nmax_points = 7.5\nmemory_mb = 512\nsafety_check = true\n"
		             "title = \"Loops # and ; lists\"\n",
		             NULL };
	const char *none[] = { "tests/test_a.py", "", NULL };
	struct exercise_meta meta = { .max_points = 42 };
	struct bundle *b = parse_map(kv);

	/* a ';' inside quotes is an inih comment: the string is then unterminated */
	assert_non_null(b);
	assert_int_equal(bundle_meta(b, &meta, err, sizeof err), -EINVAL);
	assert_non_null(strstr(err, "exercise.toml:5: unterminated string"));
	bundle_free(b);

	kv[1] = "max_points = 7.5\nmemory_mb = 512\nsafety_check = true\ntitle = \"Loops #1\"\n";
	b = parse_map(kv);
	assert_int_equal(bundle_meta(b, &meta, err, sizeof err), 0);
	assert_true(meta.max_points == 7.5);
	assert_int_equal(meta.memory_mb, 512);
	assert_int_equal(meta.timeout_s, 0);
	assert_true(meta.safety_check);
	assert_string_equal(meta.title, "Loops #1");
	bundle_free(b);

	b = parse_map(none); /* no exercise.toml: defaults */
	assert_int_equal(bundle_meta(b, &meta, err, sizeof err), 0);
	assert_true(meta.max_points == 0);
	assert_string_equal(meta.title, "");
	bundle_free(b);

	expect_meta_error("title = \"x\"\nvisibility = 1\n",
	                  "exercise.toml:2: unknown key 'visibility'");
	expect_meta_error("\n\ntimeout_s = 0\n",
	                  "exercise.toml:3: timeout_s: 0 out of range 1..3600");
	expect_meta_error("timeout_s = 3601\n", "exercise.toml:1:");
	expect_meta_error("memory_mb = 8\n", "exercise.toml:1: memory_mb");
	expect_meta_error("memory_mb = lots\n",
	                  "exercise.toml:1: memory_mb: 'lots' is not an integer");
	expect_meta_error("max_points = -1\n", "exercise.toml:1: max_points");
	expect_meta_error("safety_check = yes\n", "exercise.toml:1: safety_check");
	expect_meta_error("title = \"a\"\ntitle = \"b\"\n", "exercise.toml:2: duplicate key");
	expect_meta_error("[limits]\ntimeout_s = 5\n", "exercise.toml:1: unknown section [limits]");
}

/* kind = "mograder": the bundle's source notebook decides it, exercise.toml must agree */
static void test_meta_mograder(void **state)
{
	const char *with_src[] = { "exercise.toml", "kind = \"mograder\"\n",
		                   "tests/mograder_source.py", "x = 1\n", NULL };
	const char *bare_src[] = { "tests/mograder_source.py", "x = 1\n", NULL };
	const char *inproc[] = { "exercise.toml", "isolation = \"in-process\"\n",
		                 "tests/mograder_source.py", "x = 1\n", NULL };
	struct exercise_meta meta;
	struct bundle *b;

	(void)state;
	b = parse_map(with_src);
	assert_non_null(b);
	assert_int_equal(bundle_meta(b, &meta, err, sizeof err), 0);
	assert_true(meta.mograder && bundle_is_mograder(b));
	assert_int_equal(bundle_test_files(b), 0);
	bundle_free(b);
	b = parse_map(bare_src);
	assert_int_equal(bundle_meta(b, &meta, err, sizeof err), 0);
	assert_true(meta.mograder); /* found by its source, no exercise.toml */
	bundle_free(b);
	b = parse_map(inproc);
	assert_int_equal(bundle_meta(b, &meta, err, sizeof err), -EINVAL);
	assert_non_null(strstr(err, "cannot use isolation"));
	bundle_free(b);
	expect_meta_error("kind = \"mograder\"\n", "has no tests/mograder_source.py");
	expect_meta_error("kind = \"notebook\"\n", "kind must be");
}

static void test_meta_isolation(void **state)
{
	struct exercise_meta m;
	char why[256];
	const char *t1 = "isolation = \"in-process\"\ncall_timeout_s = 3\n";
	assert_int_equal(exercise_meta_parse(t1, strlen(t1), &m, why, sizeof why), 0);
	assert_true(m.in_process);
	assert_int_equal(m.call_timeout_s, 3);
	const char *t2 = "isolation = \"two-process\"\n";
	assert_int_equal(exercise_meta_parse(t2, strlen(t2), &m, why, sizeof why), 0);
	assert_false(m.in_process);
	assert_int_equal(m.call_timeout_s, 0);
	const char *t3 = "title = \"x\"\n\nisolation = \"none\"\n";
	assert_int_equal(exercise_meta_parse(t3, strlen(t3), &m, why, sizeof why), -EINVAL);
	assert_non_null(strstr(why, "isolation"));
	const char *t4 = "call_timeout_s = 0\n";
	assert_int_equal(exercise_meta_parse(t4, strlen(t4), &m, why, sizeof why), -EINVAL);
	assert_non_null(strstr(why, "exercise.toml:1"));
}

static void test_extract_refuses_symlinked_dir(void **state)
{
	const char *kv[] = { "tests/test_a.py", "x", NULL };
	char out[128], elsewhere[128], link[160], victim[200];
	struct bundle *b = parse_map(kv);

	assert_non_null(b);
	snprintf(out, sizeof out, "%s/out", tmp);
	snprintf(elsewhere, sizeof elsewhere, "%s/elsewhere", tmp);
	assert_int_equal(mkdir(out, 0755), 0);
	assert_int_equal(mkdir(elsewhere, 0755), 0);
	snprintf(link, sizeof link, "%s/tests", out);
	assert_int_equal(symlink(elsewhere, link), 0);
	assert_int_not_equal(bundle_extract(b, out, err, sizeof err), 0);
	snprintf(victim, sizeof victim, "%s/test_a.py", elsewhere);
	assert_int_equal(access(victim, F_OK), -1);
	assert_int_equal(bundle_extract(b, "/nonexistent-gq", err, sizeof err), -ENOENT);
	bundle_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pack_parse_extract, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pack_refuses_symlink, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pack_bad_name, setup, teardown),
		cmocka_unit_test(test_path_traversal),
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_too_many_files),
		cmocka_unit_test(test_file_count_before_allocation),
		cmocka_unit_test(test_non_utf8_path),
		cmocka_unit_test(test_meta),
		cmocka_unit_test(test_meta_isolation),
		cmocka_unit_test(test_meta_mograder),
		cmocka_unit_test_setup_teardown(test_extract_refuses_symlinked_dir, setup,
		                                teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
