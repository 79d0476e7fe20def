#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mpk.h"

static char err[256];

static int check(const void *buf, size_t len, unsigned depth)
{
	return mpk_check(buf, len, depth, err, sizeof err);
}

/* A test record as the harness sends it. */
static void pack_record(msgpack_sbuffer *sb)
{
	msgpack_packer pk;

	msgpack_sbuffer_init(sb);
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 4);
	msgpack_pack_str_with_body(&pk, "name", 4);
	msgpack_pack_str_with_body(&pk, "test_a.py::test_x", 17);
	msgpack_pack_str_with_body(&pk, "passed", 6);
	msgpack_pack_true(&pk);
	msgpack_pack_str_with_body(&pk, "points", 6);
	msgpack_pack_double(&pk, 2.5);
	msgpack_pack_str_with_body(&pk, "weight", 6);
	msgpack_pack_int(&pk, -3);
}

static void test_valid_record(void **state)
{
	msgpack_sbuffer sb;
	msgpack_zone zone;
	msgpack_object obj;
	const char *s;
	size_t len = 0;
	double d = 0;

	pack_record(&sb);
	assert_int_equal(check(sb.data, sb.size, 4), 0);
	msgpack_zone_init(&zone, 1024);
	assert_int_equal(mpk_decode(sb.data, sb.size, 4, &zone, &obj, err, sizeof err), 0);
	s = mpk_map_str(&obj, "name", &len);
	assert_non_null(s);
	assert_int_equal(len, 17);
	assert_memory_equal(s, "test_a.py::test_x", 17);
	assert_true(mpk_map_num(&obj, "points", &d));
	assert_true(d == 2.5);
	assert_true(mpk_map_num(&obj, "weight", &d));
	assert_true(d == -3);
	assert_false(mpk_map_num(&obj, "name", &d)); /* wrong type */
	assert_null(mpk_map_str(&obj, "points", &len));
	assert_null(mpk_map_get(&obj, "missing"));
	assert_int_equal(mpk_map_get(&obj, "passed")->type, MSGPACK_OBJECT_BOOLEAN);
	assert_null(mpk_map_get(mpk_map_get(&obj, "passed"), "x")); /* not a map */
	msgpack_zone_destroy(&zone);
	msgpack_sbuffer_destroy(&sb);
}

static void test_scalars(void **state)
{
	static const unsigned char ok[][10] = {
		{ 0x00 },
		{ 0x7f },
		{ 0xe0 },
		{ 0xc0 },
		{ 0xc2 },
		{ 0xc3 },
		{ 0xcc, 1 },
		{ 0xcd, 1, 2 },
		{ 0xd0, 0xff },
		{ 0xca, 0, 0, 0, 0 },
		{ 0xa3, 'a', 'b', 'c' },
		{ 0xc4, 2, 0, 0 },
		{ 0xd4, 1, 9 },
		{ 0xc7, 1, 5, 0 },
	};
	static const size_t oklen[] = { 1, 1, 1, 1, 1, 1, 2, 3, 2, 5, 4, 4, 3, 4 };

	for (size_t i = 0; i < sizeof oklen / sizeof oklen[0]; i++)
		assert_int_equal(check(ok[i], oklen[i], 4), 0);
}

static void test_truncated(void **state)
{
	static const unsigned char bad[][6] = {
		{ 0xcb, 0, 0 },                   /* float64 short */
		{ 0xa5, 'a', 'b' },               /* fixstr 5 with 2 bytes */
		{ 0xd9 },                         /* str8 without length */
		{ 0xdb, 0xff, 0xff, 0xff, 0xff }, /* str32 of 4 GiB */
		{ 0xc6, 0x7f, 0xff, 0xff, 0xff }, /* bin32 of 2 GiB */
		{ 0xc9, 0, 0, 0, 1 },             /* ext32 without type and data */
		{ 0x92, 0x01 },                   /* array of 2 with 1 */
		{ 0xc1 },                         /* never used */
	};
	static const size_t badlen[] = { 3, 3, 1, 5, 5, 5, 2, 1 };

	for (size_t i = 0; i < sizeof badlen / sizeof badlen[0]; i++)
		assert_int_equal(check(bad[i], badlen[i], 4), -EBADMSG);
	assert_int_equal(check("", 0, 4), -EBADMSG);
	assert_int_equal(check(NULL, 0, 4), -EBADMSG);
}

/* array32 / map32 headers that declare 4 billion elements in a few bytes: refused by the
 * pre-scan, so msgpack-c never sizes an allocation by the count (ASan would abort on a
 * multi-GiB malloc). */
static void test_huge_count(void **state)
{
	static const unsigned char arr[] = { 0xdd, 0xff, 0xff, 0xff, 0xff, 0x01, 0x02 };
	static const unsigned char map[] = { 0xdf, 0xff, 0xff, 0xff, 0xff, 0x01, 0x02 };
	static const unsigned char arr16[] = { 0xdc, 0x00, 0x03, 0x01, 0x02 };
	static const unsigned char map2[] = { 0x82, 0x01, 0x02, 0x03 }; /* 2 entries, 3 bytes */
	msgpack_zone zone;
	msgpack_object obj = { .type = MSGPACK_OBJECT_NIL };
	size_t free_before;

	assert_int_equal(check(arr, sizeof arr, 4), -EBADMSG);
	assert_non_null(strstr(err, "count"));
	assert_int_equal(check(map, sizeof map, 4), -EBADMSG);
	assert_int_equal(check(arr16, sizeof arr16, 4), -EBADMSG);
	assert_int_equal(check(map2, sizeof map2, 4), -EBADMSG);

	msgpack_zone_init(&zone, 256);
	free_before = zone.chunk_list.free;
	assert_int_equal(mpk_decode((const char *)arr, sizeof arr, 4, &zone, &obj, err, sizeof err),
	                 -EBADMSG);
	assert_int_equal(zone.chunk_list.free, free_before); /* nothing allocated */
	assert_int_equal(obj.type, MSGPACK_OBJECT_NIL);      /* output untouched */
	msgpack_zone_destroy(&zone);
}

static void test_depth(void **state)
{
	unsigned char deep[200];

	memset(deep, 0x91, sizeof deep); /* [[[[...]]]] */
	deep[sizeof deep - 1] = 0x00;
	assert_int_equal(check(deep, sizeof deep, 32), -EBADMSG);
	assert_non_null(strstr(err, "deep"));
	/* exactly max_depth levels pass, one more fails */
	assert_int_equal(check(deep + sizeof deep - 5, 5, 4), 0);
	assert_int_equal(check(deep + sizeof deep - 6, 6, 4), -EBADMSG);
	/* a scalar has depth 0; a map of scalars depth 1 */
	assert_int_equal(check("\x01", 1, 0), 0);
	assert_int_equal(check("\x81\x01\x02", 3, 0), -EBADMSG);
	assert_int_equal(check("\x81\x01\x02", 3, 1), 0);
	/* a huge max_depth is capped; recursion stays bounded */
	{
		size_t n = 100000;
		unsigned char *big = malloc(n);

		assert_non_null(big);
		memset(big, 0x91, n);
		big[n - 1] = 0;
		assert_int_equal(check(big, n, 1000000), -EBADMSG);
		free(big);
	}
}

static void test_trailing(void **state)
{
	msgpack_sbuffer sb;
	char *two;

	pack_record(&sb);
	two = malloc(sb.size * 2);
	assert_non_null(two);
	memcpy(two, sb.data, sb.size);
	memcpy(two + sb.size, sb.data, sb.size);
	assert_int_equal(check(two, sb.size * 2, 4), -EBADMSG);
	assert_non_null(strstr(err, "trailing"));
	assert_int_equal(check(two, sb.size + 1, 4), -EBADMSG);
	assert_int_equal(check(two, sb.size - 1, 4), -EBADMSG);
	free(two);
	msgpack_sbuffer_destroy(&sb);
}

static void test_wide_array_ok(void **state)
{
	/* array16 of 1000 nils: wide but honest */
	size_t n = 3 + 1000;
	unsigned char *buf = malloc(n);
	msgpack_zone zone;
	msgpack_object obj;

	assert_non_null(buf);
	buf[0] = 0xdc;
	buf[1] = 1000 >> 8;
	buf[2] = 1000 & 0xff;
	memset(buf + 3, 0xc0, 1000);
	msgpack_zone_init(&zone, 1024);
	assert_int_equal(mpk_decode((char *)buf, n, 2, &zone, &obj, err, sizeof err), 0);
	assert_int_equal(obj.type, MSGPACK_OBJECT_ARRAY);
	assert_int_equal(obj.via.array.size, 1000);
	msgpack_zone_destroy(&zone);
	free(buf);
}

/* mpk_check_capped: a container over the cap is refused on its header, before the bytes
 * of its elements are even looked at; at the cap it is fine; nested containers too. */
static void test_count_cap(void **state)
{
	/* map16 of 3 entries 1:1 2:2 3:3; array of [map 1 entry] */
	const unsigned char map3[] = { 0x83, 1, 1, 2, 2, 3, 3 };
	const unsigned char nested[] = { 0x91, 0x83, 1, 1, 2, 2, 3, 3 };
	const unsigned char map32_truncated[] = { 0xdf, 0, 0, 1, 0 }; /* 256 entries, no bytes */
	msgpack_zone zone;
	msgpack_object obj;

	assert_int_equal(mpk_check_capped((const char *)map3, sizeof map3, 2, 3, err, sizeof err),
	                 0);
	assert_int_equal(mpk_check_capped((const char *)map3, sizeof map3, 2, 2, err, sizeof err),
	                 -E2BIG);
	assert_non_null(strstr(err, "over the cap"));
	assert_int_equal(
		mpk_check_capped((const char *)nested, sizeof nested, 2, 2, err, sizeof err),
		-E2BIG);
	assert_int_equal(mpk_check_capped((const char *)map32_truncated, sizeof map32_truncated, 2,
	                                  255, err, sizeof err),
	                 -E2BIG);
	assert_int_equal(mpk_check_capped((const char *)map32_truncated, sizeof map32_truncated, 2,
	                                  256, err, sizeof err),
	                 -EBADMSG);
	assert_true(msgpack_zone_init(&zone, 1024));
	assert_int_equal(mpk_decode_capped((const char *)map3, sizeof map3, 2, 2, &zone, &obj, err,
	                                   sizeof err),
	                 -E2BIG);
	assert_int_equal(mpk_decode_capped((const char *)map3, sizeof map3, 2, 3, &zone, &obj, err,
	                                   sizeof err),
	                 0);
	assert_int_equal(obj.via.map.size, 3);
	msgpack_zone_destroy(&zone);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_record),  cmocka_unit_test(test_scalars),
		cmocka_unit_test(test_truncated),     cmocka_unit_test(test_huge_count),
		cmocka_unit_test(test_depth),         cmocka_unit_test(test_trailing),
		cmocka_unit_test(test_wide_array_ok), cmocka_unit_test(test_count_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
