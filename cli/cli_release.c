/* cli_release.c - `gradeq release`: the student version of a mograder source notebook.
 *
 * Line by line, as mograder's `generate` writes it (docs/exercises.md, "mograder
 * exercises"): a solution block (### BEGIN SOLUTION .. ### END SOLUTION) becomes
 * "# YOUR CODE HERE" and "pass" at the block's indentation; a hidden-test block
 * (### BEGIN HIDDEN TESTS .. ### END HIDDEN TESTS) becomes one "# HIDDEN TESTS" line; when
 * there was a hidden block, the PEP 723 block gains "# mograder-hidden-tests = true". The
 * grading runtime's mog_source.release() is the same transformation (tests compare them). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "util.h"

static const char release_help[] =
	"usage: gradeq release SOURCE.py OUT.py\n"
	"\n"
	"Writes the student release of a mograder source notebook: solutions replaced by\n"
	"`# YOUR CODE HERE` + `pass`, hidden checks by a `# HIDDEN TESTS` line. OUT.py `-`\n"
	"writes to stdout. No server and no mograder install are needed.\n"
	"\n"
	"example:\n"
	"  gradeq release examples/course-mograder/stats/stats.py release/stats.py\n";

/* The line [p, end) without its surrounding blanks equals marker. */
static bool is_marker(const char *p, const char *end, const char *marker)
{
	size_t n = strlen(marker);

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' || end[-1] == '\n'))
		end--;
	return (size_t)(end - p) == n && memcmp(p, marker, n) == 0;
}

static size_t indent_of(const char *p, const char *end)
{
	const char *q = p;

	while (q < end && (*q == ' ' || *q == '\t'))
		q++;
	return (size_t)(q - p);
}

/* The release of text[0..len) into a malloc'd string (*out). Returns 0, or -EINVAL with
 * err for an unclosed block, -ENOMEM. */
int cli_release_text(const char *text, size_t len, char **out, char *err, size_t errlen)
{
	char *buf = malloc(len * 2 + 64);
	size_t n = 0, close_at = (size_t)-1;
	int state = 0; /* 0 text, 1 solution, 2 hidden */
	bool hidden = false, in_meta = false;

	if (!buf)
		return -ENOMEM;
	for (const char *p = text, *end = text + len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl + 1 : end;
		size_t ind = indent_of(p, eol);

		if (state == 0 && is_marker(p, eol, "### BEGIN SOLUTION")) {
			state = 1;
		} else if (state == 0 && is_marker(p, eol, "### BEGIN HIDDEN TESTS")) {
			state = 2;
			hidden = true;
		} else if (state == 1 && is_marker(p, eol, "### END SOLUTION")) {
			n += (size_t)sprintf(buf + n, "%.*s# YOUR CODE HERE\n%.*spass\n", (int)ind,
			                     p, (int)ind, p);
			state = 0;
		} else if (state == 2 && is_marker(p, eol, "### END HIDDEN TESTS")) {
			n += (size_t)sprintf(buf + n, "%.*s# HIDDEN TESTS\n", (int)ind, p);
			state = 0;
		} else if (state == 0) {
			if (is_marker(p, eol, "# /// script"))
				in_meta = true;
			else if (in_meta && is_marker(p, eol, "# ///")) {
				in_meta = false;
				if (close_at == (size_t)-1)
					close_at = n;
			}
			memcpy(buf + n, p, (size_t)(eol - p));
			n += (size_t)(eol - p);
		}
		p = eol;
	}
	if (state) {
		snprintf(err, errlen, "unclosed %s",
		         state == 1 ? "### BEGIN SOLUTION" : "### BEGIN HIDDEN TESTS");
		free(buf);
		return -EINVAL;
	}
	if (hidden && close_at != (size_t)-1) {
		static const char flag[] = "# mograder-hidden-tests = true\n";
		memmove(buf + close_at + strlen(flag), buf + close_at, n - close_at);
		memcpy(buf + close_at, flag, strlen(flag));
		n += strlen(flag);
	}
	buf[n] = '\0';
	*out = buf;
	return 0;
}

int cli_release_main(int argc, char **argv)
{
	char err[512], *text = NULL, *rel = NULL;
	size_t len = 0;
	int rc;

	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(release_help, stdout);
		return 0;
	}
	if (argc != 3) {
		fputs(release_help, stderr);
		return CLI_EXIT_USAGE;
	}
	if ((rc = util_read_file(argv[1], 16u * 1024 * 1024, &text, &len)) < 0) {
		cli_fail("release: %s: %s", argv[1], strerror(-rc));
		return CLI_EXIT_FAIL;
	}
	rc = cli_release_text(text, len, &rel, err, sizeof err);
	free(text);
	if (rc < 0) {
		cli_fail("release: %s: %s", argv[1], rc == -ENOMEM ? "out of memory" : err);
		return CLI_EXIT_FAIL;
	}
	FILE *f = strcmp(argv[2], "-") == 0 ? stdout : fopen(argv[2], "w");
	if (!f) {
		cli_fail("release: %s: %s", argv[2], strerror(errno));
		free(rel);
		return CLI_EXIT_FAIL;
	}
	bool ok = fputs(rel, f) >= 0;
	if (f != stdout)
		ok = fclose(f) == 0 && ok;
	else
		ok = fflush(f) == 0 && ok;
	free(rel);
	if (!ok) {
		cli_fail("release: %s: write failed", argv[2]);
		return CLI_EXIT_FAIL;
	}
	return 0;
}
