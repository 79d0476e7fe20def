/* conf.h - strict INI/TOML-subset configuration loading on top of inih.
 * Every key must be declared; unknown sections or keys, bad values and duplicates fail
 * with "file:line: reason". Values: integers (checked strtoll, optional quotes not
 * allowed), booleans (true/false), doubles, strings (bare or "double-quoted").
 * Used for the daemons' config files and for exercise.toml. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

enum conf_type { CONF_STR, CONF_INT, CONF_BOOL, CONF_DOUBLE };

struct conf_key {
	const char *section; /* "" for keys before any [section] */
	const char *name;
	enum conf_type type;
	void *dst;       /* char[dstlen] | long long | bool | double */
	size_t dstlen;   /* CONF_STR only: size of dst including NUL */
	double min, max; /* CONF_INT / CONF_DOUBLE inclusive range; 0, 0 = unbounded */
};

/* Loads path into the keys' destinations. Keys absent from the file keep their value;
 * on any error no destination is written. Lines are at most 198 characters; a ";" or
 * " #" starts a comment, also inside a quoted string for ";" (an inih rule).
 * Returns 0 or a negative errno; err gets "path:line: reason" (or "path: reason"). */
int conf_load_file(const char *path, const struct conf_key *keys, size_t nkeys, char *err,
                   size_t errlen);
/* Same for an in-memory text; name is used in messages (e.g. "exercise.toml"). */
int conf_load_string(const char *name, const char *text, const struct conf_key *keys, size_t nkeys,
                     char *err, size_t errlen);
/* The line (1-based) of key section.name in path, for errors found after loading (a value
 * of the right type but not allowed, e.g. an unknown broker kind); 0 if not found. */
unsigned conf_line_of(const char *path, const char *section, const char *name);
