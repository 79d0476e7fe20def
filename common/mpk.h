/* mpk.h - bounded decoding of untrusted msgpack.
 * msgpack-c's unpacker allocates by the declared element count, so a 5-byte array32
 * header can ask for gigabytes. mpk_check() walks the raw bytes first and refuses any
 * container whose declared count exceeds the bytes left, any nesting deeper than
 * max_depth, and trailing garbage; only then is msgpack_unpack() called.
 * Depth counts containers: a scalar is 0, a map of scalars 1; max_depth is capped at 64
 * (msgpack-c itself stops at 32). */
#pragma once
#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Returns 0 if buf[0..len) holds exactly one well-formed object within the bounds,
 * -EBADMSG otherwise (err says why). */
int mpk_check(const char *buf, size_t len, unsigned max_depth, char *err, size_t errlen);

/* mpk_check() then msgpack_unpack() into zone; *obj points into zone. 0 or -EBADMSG. */
int mpk_decode(const char *buf, size_t len, unsigned max_depth, msgpack_zone *zone,
               msgpack_object *obj, char *err, size_t errlen);

/* The same with a cap on every container's declared count (entries of a map, elements of
 * an array), checked on the raw bytes, before msgpack-c allocates anything for it.
 * A count over the cap is -E2BIG; anything else as above. */
int mpk_check_capped(const char *buf, size_t len, unsigned max_depth, uint32_t max_count, char *err,
                     size_t errlen);
int mpk_decode_capped(const char *buf, size_t len, unsigned max_depth, uint32_t max_count,
                      msgpack_zone *zone, msgpack_object *obj, char *err, size_t errlen);

/* Helpers over a decoded map. Each returns NULL / false when the key is missing or has
 * another type. Strings are not NUL-terminated: use the returned length. */
const msgpack_object *mpk_map_get(const msgpack_object *map, const char *key);
const char *mpk_map_str(const msgpack_object *map, const char *key, size_t *len);
/* A number (integer or float) as a double in *out; false for any other type. */
bool mpk_num(const msgpack_object *o, double *out);
bool mpk_map_num(const msgpack_object *map, const char *key, double *out);
