/* rauth.c - see rauth.h. */
#include "rauth.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <string.h>

int rauth_argv(const char *user, const char *password, const char *argv[3], size_t lens[3])
{
	if (!password || !*password)
		return 0;
	int n = 0;
	argv[n] = "AUTH";
	lens[n++] = 4;
	if (user && *user) {
		argv[n] = user;
		lens[n++] = strlen(user);
	}
	argv[n] = password;
	lens[n++] = strlen(password);
	return n;
}

void rauth_refused(const char *user, const char *reply, char *err, size_t errlen)
{
	snprintf(err, errlen,
	         "authentication refused as user %s: %s; check redis.user and "
	         "redis.password_file (and the user's ACL in Redis)",
	         user && *user ? user : "default", reply && *reply ? reply : "(no reason)");
}

int rauth_sync(redisContext *c, const char *user, const char *password, char *err, size_t errlen)
{
	const char *argv[3];
	size_t lens[3];
	int argc = rauth_argv(user, password, argv, lens);
	if (argc == 0)
		return 0;
	redisReply *r = redisCommandArgv(c, argc, argv, lens);
	if (!r) {
		snprintf(err, errlen, "AUTH: %s", c->errstr[0] ? c->errstr : "no reply");
		return -EIO;
	}
	int rc = 0;
	if (r->type == REDIS_REPLY_ERROR) {
		rauth_refused(user, r->str, err, errlen);
		rc = -EACCES;
	}
	freeReplyObject(r);
	return rc;
}
