/* fuzz_rec_feed.c - hostile bytes on the harness's result pipe, as the node reads them:
 * through rec_new/rec_feed/rec_free only (grader-node/records.h). The first input byte
 * picks the read size (1..256 bytes a call), so frames split across reads at every offset
 * are covered. rec_feed returns 0 or -EBADMSG, and once violated stays violated. */
#include <errno.h>
#include <stdlib.h>

#include "fuzz.h"
#include "records.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rec_stream *s;
	size_t chunk, left;
	const char *p;
	int64_t now = 1;

	if (size == 0)
		return 0;
	chunk = (size_t)data[0] + 1;
	p = (const char *)data + 1;
	left = size - 1;
	s = rec_new();
	if (!s)
		return 0;
	while (left > 0) {
		size_t n = left < chunk ? left : chunk;
		int r = rec_feed(s, p, n, now++);

		if (r != 0 && r != -EBADMSG)
			abort();
		if (r == -EBADMSG) {
			if (rec_feed(s, "\0\0\0\1\x80", 5, now) != -EBADMSG)
				abort(); /* violated is final */
			break;
		}
		p += n;
		left -= n;
	}
	rec_free(s);
	return 0;
}
