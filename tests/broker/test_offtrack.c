/* test_offtrack.c - offsets advance only over the done prefix of each partition. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "offtrack.h"

static void take(struct offtrack *t, int32_t p, int64_t off, uint32_t *epoch)
{
	assert_int_equal(offtrack_take(t, p, off, epoch), 0);
}

static void test_in_order(void **state)
{
	struct offtrack *t = offtrack_new();
	uint32_t e, e1;
	assert_int_equal(offtrack_assign(t, 0, &e), 0);
	take(t, 0, 10, &e1);
	assert_int_equal(e1, e);
	assert_int_equal(offtrack_done(t, 0, e, 10), 11);
	take(t, 0, 11, &e1);
	assert_int_equal(offtrack_done(t, 0, e, 11), 12);
	assert_int_equal(offtrack_inflight(t, 0), 0);
	offtrack_free(t);
}

static void test_out_of_order(void **state)
{
	struct offtrack *t = offtrack_new();
	uint32_t e, x;
	offtrack_assign(t, 3, &e);
	for (int64_t o = 100; o < 105; o++)
		take(t, 3, o, &x);
	/* 101, 103 finish first: nothing storable while 100 runs */
	assert_int_equal(offtrack_done(t, 3, e, 101), 0);
	assert_int_equal(offtrack_done(t, 3, e, 103), 0);
	assert_int_equal(offtrack_inflight(t, 3), 5);
	/* 100 done: prefix 100,101 -> store 102 */
	assert_int_equal(offtrack_done(t, 3, e, 100), 102);
	assert_int_equal(offtrack_inflight(t, 3), 3);
	/* 104 then 102: prefix jumps over 103 and 104 */
	assert_int_equal(offtrack_done(t, 3, e, 104), 0);
	assert_int_equal(offtrack_done(t, 3, e, 102), 105);
	assert_int_equal(offtrack_inflight(t, 3), 0);
	/* done twice / never taken */
	assert_int_equal(offtrack_done(t, 3, e, 102), -ENOENT);
	assert_int_equal(offtrack_done(t, 3, e, 999), -ENOENT);
	offtrack_free(t);
}

static void test_gaps_and_many(void **state)
{
	/* offsets need not be contiguous (compaction, transaction markers) */
	struct offtrack *t = offtrack_new();
	uint32_t e, x;
	offtrack_assign(t, 1, &e);
	for (int64_t o = 0; o < 1000; o++)
		take(t, 1, o * 3, &x);
	for (int64_t o = 999; o >= 1; o--)
		assert_int_equal(offtrack_done(t, 1, e, o * 3), 0);
	assert_int_equal(offtrack_done(t, 1, e, 0), 999 * 3 + 1);
	/* grows and compacts while the head advances */
	for (int64_t o = 5000; o < 7000; o += 2) {
		take(t, 1, o, &x);
		take(t, 1, o + 1, &x);
		assert_int_equal(offtrack_done(t, 1, e, o + 1), 0);
		assert_int_equal(offtrack_done(t, 1, e, o), o + 2);
	}
	assert_int_equal(offtrack_inflight(t, 1), 0);
	offtrack_free(t);
}

static void test_partitions_independent(void **state)
{
	struct offtrack *t = offtrack_new();
	uint32_t e0, e1, x;
	offtrack_assign(t, 0, &e0);
	offtrack_assign(t, 1, &e1);
	assert_int_not_equal(e0, e1);
	take(t, 0, 5, &x);
	take(t, 1, 5, &x);
	take(t, 1, 6, &x);
	assert_int_equal(offtrack_done(t, 1, e1, 6), 0);
	assert_int_equal(offtrack_done(t, 0, e0, 5), 6);
	assert_int_equal(offtrack_done(t, 1, e1, 5), 7);
	/* wrong partition's epoch */
	take(t, 0, 6, &x);
	assert_int_equal(offtrack_done(t, 0, e1, 6), -ESTALE);
	offtrack_free(t);
}

static void test_revoke_drops_state(void **state)
{
	struct offtrack *t = offtrack_new();
	uint32_t e, e2, x;
	offtrack_assign(t, 2, &e);
	take(t, 2, 40, &x);
	take(t, 2, 41, &x);
	offtrack_revoke(t, 2);
	assert_false(offtrack_assigned(t, 2));
	assert_int_equal(offtrack_inflight(t, 2), 0);
	/* late completion of the revoked assignment: ignored */
	assert_int_equal(offtrack_done(t, 2, e, 41), -ESTALE);
	assert_int_equal(offtrack_take(t, 2, 42, &x), -ENOENT);
	/* reassigned: fresh epoch, old completions still ignored */
	offtrack_assign(t, 2, &e2);
	assert_int_not_equal(e, e2);
	take(t, 2, 41, &x);
	assert_int_equal(x, e2);
	assert_int_equal(offtrack_done(t, 2, e, 41), -ESTALE);
	assert_int_equal(offtrack_done(t, 2, e2, 41), 42);
	/* assigning an assigned partition keeps its state */
	take(t, 2, 50, &x);
	offtrack_assign(t, 2, &x);
	assert_int_equal(x, e2);
	assert_int_equal(offtrack_inflight(t, 2), 1);
	offtrack_revoke_all(t);
	assert_false(offtrack_assigned(t, 2));
	offtrack_free(t);
}

static void test_duplicates_and_seek_back(void **state)
{
	struct offtrack *t = offtrack_new();
	uint32_t e, x;
	offtrack_assign(t, 0, &e);
	take(t, 0, 10, &x);
	assert_int_equal(offtrack_take(t, 0, 10, &x), -EEXIST);
	/* a seek back hands out an earlier offset: kept sorted */
	take(t, 0, 7, &x);
	assert_int_equal(offtrack_done(t, 0, e, 10), 0);
	assert_int_equal(offtrack_done(t, 0, e, 7), 11);
	offtrack_free(NULL);
	offtrack_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_order),
		cmocka_unit_test(test_out_of_order),
		cmocka_unit_test(test_gaps_and_many),
		cmocka_unit_test(test_partitions_independent),
		cmocka_unit_test(test_revoke_drops_state),
		cmocka_unit_test(test_duplicates_and_seek_back),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
