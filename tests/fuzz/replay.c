/* replay.c - runs LLVMFuzzerTestOneInput over every file of the corpus directories (or
 * single files) given as arguments, in name order. Exit status 0 when all ran; a crash
 * aborts like it would under libFuzzer. Used by ctest -L fuzz. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"
#include "util.h"

#define REPLAY_MAX (32 * 1024 * 1024)

static int run_file(const char *path)
{
	char *buf = NULL;
	size_t len = 0;
	int r = util_read_file(path, REPLAY_MAX, &buf, &len);

	if (r < 0) {
		fprintf(stderr, "replay: %s: cannot read (%d)\n", path, r);
		return -1;
	}
	LLVMFuzzerTestOneInput((const uint8_t *)buf, len);
	free(buf);
	return 0;
}

static int run_dir(const char *dir, unsigned *count)
{
	struct dirent **names = NULL;
	int n = scandir(dir, &names, NULL, alphasort), r = 0;

	if (n < 0) {
		perror(dir);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		char path[4096];
		struct stat st;

		snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
		if (names[i]->d_name[0] != '.' && stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			if (run_file(path) < 0)
				r = -1;
			(*count)++;
		}
		free(names[i]);
	}
	free(names);
	return r;
}

int main(int argc, char **argv)
{
	unsigned count = 0;
	int r = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR|FILE...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		struct stat st;

		if (stat(argv[i], &st) != 0) {
			perror(argv[i]);
			r = -1;
		} else if (S_ISDIR(st.st_mode)) {
			r |= run_dir(argv[i], &count);
		} else {
			r |= run_file(argv[i]);
			count++;
		}
	}
	printf("replayed %u inputs\n", count);
	if (count == 0)
		return 1;
	return r < 0 ? 1 : 0;
}
