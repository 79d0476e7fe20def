/* rauth.h - AUTH on a Redis connection (Redis 6+ ACL users: AUTH user password; the
 * password alone authenticates as the default user). The synchronous form serves the
 * hiredis blocking connections (the Redis stream adapter, its lag monitor, tools); the
 * argv form feeds common/rconn.c's async connection. Never logs. */
#pragma once
#include <stddef.h>

struct redisContext;

/* Fills argv/lens with AUTH [user] password. Returns argc: 0 when password is NULL or ""
 * (no AUTH to send), else 2 or 3. The strings are referenced, not copied. */
int rauth_argv(const char *user, const char *password, const char *argv[3], size_t lens[3]);
/* Sends AUTH on c (blocking). Returns 0 (also when there is no password), -EACCES with
 * "authentication refused as user U: <redis reply>; check redis.user and
 * redis.password_file" in err, or -EIO when the connection failed (c->err is set). */
int rauth_sync(struct redisContext *c, const char *user, const char *password, char *err,
               size_t errlen);
/* The message for a refused AUTH, shared by both forms: "authentication refused as user
 * U: reply; check ...". */
void rauth_refused(const char *user, const char *reply, char *err, size_t errlen);
