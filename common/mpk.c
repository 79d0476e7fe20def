/* mpk.c - a bounds-checking pre-scan of msgpack bytes before msgpack-c unpacks them. */
#include "mpk.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Recursion bound whatever the caller asks for (each level is one small stack frame);
 * msgpack-c's own unpacker stops at 32 anyway. */
#define MPK_DEPTH_LIMIT 64

struct scan {
	const unsigned char *start, *p, *end;
	unsigned max_depth;
	uint64_t max_count;
	char *err;
	size_t errlen;
};

static size_t left(const struct scan *s)
{
	return (size_t)(s->end - s->p);
}

static int fail(struct scan *s, const char *why)
{
	snprintf(s->err, s->errlen, "msgpack: %s at offset %zu", why, (size_t)(s->p - s->start));
	return -EBADMSG;
}

/* Reads an n-byte big-endian length (n = 1, 2 or 4). */
static int take_len(struct scan *s, unsigned n, uint64_t *out)
{
	uint64_t v = 0;

	if (left(s) < n)
		return fail(s, "truncated length");
	for (unsigned i = 0; i < n; i++)
		v = (v << 8) | s->p[i];
	s->p += n;
	*out = v;
	return 0;
}

static int skip(struct scan *s, uint64_t n)
{
	if (n > left(s))
		return fail(s, "length beyond the end of the buffer");
	s->p += n;
	return 0;
}

static int scan_obj(struct scan *s, unsigned depth);

/* n elements per entry: 1 for arrays, 2 for maps. Each element takes at least one byte,
 * so a count the remaining bytes cannot hold is refused before anything allocates it. */
static int scan_container(struct scan *s, uint64_t count, unsigned per, unsigned depth)
{
	if (depth + 1 > s->max_depth)
		return fail(s, "nesting too deep");
	if (count > s->max_count) {
		snprintf(s->err, s->errlen,
		         "msgpack: container of %llu entries over the cap of %llu",
		         (unsigned long long)count, (unsigned long long)s->max_count);
		return -E2BIG;
	}
	if (count > left(s) / per)
		return fail(s, "container count larger than the remaining bytes");
	for (uint64_t i = 0; i < count * per; i++) {
		int r = scan_obj(s, depth + 1);

		if (r < 0)
			return r;
	}
	return 0;
}

static int scan_obj(struct scan *s, unsigned depth)
{
	uint64_t n;
	unsigned char t;
	int r;

	if (left(s) == 0)
		return fail(s, "truncated object");
	t = *s->p++;
	if (t <= 0x7f || t >= 0xe0 || t == 0xc0 || t == 0xc2 || t == 0xc3)
		return 0;
	if (t >= 0x80 && t <= 0x8f)
		return scan_container(s, t & 0x0f, 2, depth);
	if (t >= 0x90 && t <= 0x9f)
		return scan_container(s, t & 0x0f, 1, depth);
	if (t >= 0xa0 && t <= 0xbf)
		return skip(s, t & 0x1f);
	switch (t) {
	case 0xc4:
	case 0xc5:
	case 0xc6: /* bin 8/16/32 */
		r = take_len(s, 1u << (t - 0xc4), &n);
		return r < 0 ? r : skip(s, n);
	case 0xc7:
	case 0xc8:
	case 0xc9: /* ext 8/16/32: length, type, data */
		r = take_len(s, 1u << (t - 0xc7), &n);
		return r < 0 ? r : skip(s, n + 1);
	case 0xca:
		return skip(s, 4);
	case 0xcb:
		return skip(s, 8);
	case 0xcc:
	case 0xcd:
	case 0xce:
	case 0xcf: /* uint 8..64 */
		return skip(s, 1u << (t - 0xcc));
	case 0xd0:
	case 0xd1:
	case 0xd2:
	case 0xd3: /* int 8..64 */
		return skip(s, 1u << (t - 0xd0));
	case 0xd4:
	case 0xd5:
	case 0xd6:
	case 0xd7:
	case 0xd8: /* fixext 1..16 + type */
		return skip(s, 1 + (1u << (t - 0xd4)));
	case 0xd9:
	case 0xda:
	case 0xdb: /* str 8/16/32 */
		r = take_len(s, 1u << (t - 0xd9), &n);
		return r < 0 ? r : skip(s, n);
	case 0xdc:
	case 0xdd: /* array 16/32 */
		r = take_len(s, t == 0xdc ? 2 : 4, &n);
		return r < 0 ? r : scan_container(s, n, 1, depth);
	case 0xde:
	case 0xdf: /* map 16/32 */
		r = take_len(s, t == 0xde ? 2 : 4, &n);
		return r < 0 ? r : scan_container(s, n, 2, depth);
	}
	s->p--;
	return fail(s, "reserved type 0xc1");
}

int mpk_check(const char *buf, size_t len, unsigned max_depth, char *err, size_t errlen)
{
	return mpk_check_capped(buf, len, max_depth, UINT32_MAX, err, errlen);
}

int mpk_check_capped(const char *buf, size_t len, unsigned max_depth, uint32_t max_count, char *err,
                     size_t errlen)
{
	struct scan s = {
		.max_depth = max_depth < MPK_DEPTH_LIMIT ? max_depth : MPK_DEPTH_LIMIT,
		.max_count = max_count,
		.err = err,
		.errlen = errlen,
	};
	int r;

	if (!buf || len == 0) {
		snprintf(err, errlen, "msgpack: empty input");
		return -EBADMSG;
	}
	s.start = s.p = (const unsigned char *)buf;
	s.end = s.start + len;
	r = scan_obj(&s, 0);
	if (r < 0)
		return r;
	if (s.p != s.end) {
		snprintf(err, errlen, "msgpack: %zu trailing bytes after the object", left(&s));
		return -EBADMSG;
	}
	return 0;
}

int mpk_decode(const char *buf, size_t len, unsigned max_depth, msgpack_zone *zone,
               msgpack_object *obj, char *err, size_t errlen)
{
	return mpk_decode_capped(buf, len, max_depth, UINT32_MAX, zone, obj, err, errlen);
}

int mpk_decode_capped(const char *buf, size_t len, unsigned max_depth, uint32_t max_count,
                      msgpack_zone *zone, msgpack_object *obj, char *err, size_t errlen)
{
	msgpack_object o;
	size_t off = 0;
	int r;

	r = mpk_check_capped(buf, len, max_depth, max_count, err, errlen);
	if (r < 0)
		return r;
	if (msgpack_unpack(buf, len, &off, zone, &o) != MSGPACK_UNPACK_SUCCESS || off != len) {
		snprintf(err, errlen, "msgpack: cannot unpack");
		return -EBADMSG;
	}
	*obj = o;
	return 0;
}

const msgpack_object *mpk_map_get(const msgpack_object *map, const char *key)
{
	size_t klen;

	if (!map || !key || map->type != MSGPACK_OBJECT_MAP)
		return NULL;
	klen = strlen(key);
	for (uint32_t i = 0; i < map->via.map.size; i++) {
		const msgpack_object_kv *kv = &map->via.map.ptr[i];

		if (kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size == klen &&
		    memcmp(kv->key.via.str.ptr, key, klen) == 0)
			return &kv->val;
	}
	return NULL;
}

const char *mpk_map_str(const msgpack_object *map, const char *key, size_t *len)
{
	const msgpack_object *o = mpk_map_get(map, key);

	if (!o || o->type != MSGPACK_OBJECT_STR)
		return NULL;
	if (len)
		*len = o->via.str.size;
	return o->via.str.size ? o->via.str.ptr : "";
}

bool mpk_num(const msgpack_object *o, double *out)
{
	switch (o->type) {
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		*out = (double)o->via.u64;
		return true;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		*out = (double)o->via.i64;
		return true;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		*out = o->via.f64;
		return true;
	default:
		return false;
	}
}

bool mpk_map_num(const msgpack_object *map, const char *key, double *out)
{
	const msgpack_object *o = mpk_map_get(map, key);
	return o && mpk_num(o, out);
}
