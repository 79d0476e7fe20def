/* http_parse.h - the parts of reading a request that need no socket: the path split into
 * segments, the query string checked against the one parameter a route accepts. http.c
 * routes with them; the fuzz target (tests/fuzz/fuzz_http_request.c) calls them directly. */
#pragma once
#include <event2/keyvalq_struct.h>
#include <stddef.h>

#include "names.h"

#define HP_SEG_MAX 7

/* Splits the raw path into segments (no decoding: a valid name never needs it, so a '%'
 * simply fails validation later). A segment too long for any name is cut to
 * GQ_NAME_MAX + 1 bytes, so it stays invalid. Returns the count, or -1 if not a clean
 * path (no leading '/', an empty segment, a trailing '/', more than HP_SEG_MAX). */
int hp_split_path(const char *path, char segs[HP_SEG_MAX][GQ_NAME_MAX + 2]);

/* Parses query string q into out (evhttp's parser; the caller clears out) and checks that
 * every key is allowed (NULL: none is). Returns 0, -EBADMSG (malformed: err says so) or
 * -ENOENT (an unknown key: err names it, cut to 64 bytes). */
int hp_query(const char *q, const char *allowed, struct evkeyvalq *out, char *err, size_t errlen);
