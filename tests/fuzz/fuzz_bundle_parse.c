/* fuzz_bundle_parse.c - hostile bytes as an uploaded exercise bundle: parse, index,
 * exercise.toml. Every indexed path must be one bundle_path_valid() accepts. */
#include <stdlib.h>
#include <string.h>

#include "bundle.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct exercise_meta meta;
	struct bundle *b;
	char err[256];

	b = bundle_parse((const char *)data, size, err, sizeof err);
	if (!b)
		return 0;
	if (bundle_count(b) > GQ_BUNDLE_MAX_FILES)
		abort();
	for (size_t i = 0; i < bundle_count(b); i++) {
		const struct bundle_file *f = bundle_file_at(b, i);

		if (!bundle_path_valid(f->path) || bundle_find(b, f->path) != f || !f->data ||
		    f->len > size)
			abort();
		if (i > 0 && strcmp(bundle_file_at(b, i - 1)->path, f->path) >= 0)
			abort();
	}
	bundle_test_files(b);
	bundle_meta(b, &meta, err, sizeof err);
	bundle_free(b);
	return 0;
}
