/* fuzz_mpk_decode.c - hostile bytes into the bounded msgpack decoder, as the node reads
 * the harness's per-test records. Whatever mpk_check() accepts, msgpack-c must decode. */
#include <stdlib.h>

#include "fuzz.h"
#include "mpk.h"

#define FUZZ_DEPTH 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	char err[256];
	msgpack_zone zone;
	msgpack_object obj;
	size_t len;
	double d;
	int checked = mpk_check(buf, size, FUZZ_DEPTH, err, sizeof err);

	if (!msgpack_zone_init(&zone, 2048))
		return 0;
	if (mpk_decode(buf, size, FUZZ_DEPTH, &zone, &obj, err, sizeof err) == 0) {
		mpk_map_get(&obj, "name");
		mpk_map_str(&obj, "message", &len);
		mpk_map_num(&obj, "points", &d);
		mpk_map_num(&obj, "max_points", &d);
	} else if (checked == 0) {
		abort(); /* the pre-scan accepted what msgpack-c refuses: they disagree */
	}
	msgpack_zone_destroy(&zone);
	return 0;
}
