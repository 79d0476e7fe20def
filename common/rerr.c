/* rerr.c - classification of Redis error replies (see rerr.h). */
#include "rerr.h"

#include <stddef.h>
#include <string.h>

static bool code_is(const char *reply, const char *code)
{
	size_t n = strlen(code);
	return strncmp(reply, code, n) == 0 && (reply[n] == ' ' || reply[n] == '\0');
}

enum rerr_kind rerr_classify(const char *reply)
{
	static const char *const transient[] = { "LOADING",    "BUSY",        "TRYAGAIN",
		                                 "MASTERDOWN", "CLUSTERDOWN", "NOREPLICAS",
		                                 "READONLY",   "MISCONF" };
	if (reply == NULL || reply[0] == '\0')
		return RERR_PERMANENT;
	for (size_t i = 0; i < sizeof transient / sizeof transient[0]; i++)
		if (code_is(reply, transient[i]))
			return RERR_TRANSIENT;
	if (code_is(reply, "NOSCRIPT"))
		return RERR_ONCE;
	return RERR_PERMANENT;
}

bool rerr_should_retry(enum rerr_kind k, int tries)
{
	switch (k) {
	case RERR_TRANSIENT:
		return tries < RERR_TRANSIENT_TRIES;
	case RERR_ONCE:
		return tries < 2;
	default:
		return false;
	}
}

const char *rerr_kind_name(enum rerr_kind k)
{
	switch (k) {
	case RERR_TRANSIENT:
		return "transient";
	case RERR_ONCE:
		return "retry-once";
	default:
		return "permanent";
	}
}
