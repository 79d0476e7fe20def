/* fetch.c - see fetch.h. Extraction runs on the loop: a bundle is at most 16 MiB and is
 * extracted once per node, so the short blocking write is accepted. */
#include "fetch.h"

#include <errno.h>
#include <ftw.h>
#include <hiredis/hiredis.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle.h"
#include "store.h"
#include "util.h"

struct src_req {
	fetch_source_cb cb;
	void *arg;
	uint8_t sha[32];
	char key[128];
};

static void on_source(void *arg, struct redisReply *r, const char *err)
{
	struct src_req *q = arg;
	char why[256];
	if (!r) {
		snprintf(why, sizeof why, "GET %s: %s", q->key, err);
		q->cb(q->arg, -ENOTCONN, why, NULL, 0);
	} else if (r->type == REDIS_REPLY_NIL) {
		snprintf(why, sizeof why, "submission source %s is missing in Redis", q->key);
		q->cb(q->arg, -ENOENT, why, NULL, 0);
	} else if (r->type != REDIS_REPLY_STRING) {
		snprintf(why, sizeof why, "GET %s: unexpected reply type %d", q->key, r->type);
		q->cb(q->arg, -EBADMSG, why, NULL, 0);
	} else {
		uint8_t got[32];
		util_sha256(r->str, r->len, got);
		if (memcmp(got, q->sha, 32) != 0) {
			snprintf(why, sizeof why, "submission source %s does not match its sha256",
			         q->key);
			q->cb(q->arg, -EBADMSG, why, NULL, 0);
		} else {
			char *src = malloc(r->len + 1);
			if (!src) {
				q->cb(q->arg, -ENOMEM, "out of memory for the source", NULL, 0);
			} else {
				memcpy(src, r->str, r->len);
				src[r->len] = '\0';
				q->cb(q->arg, 0, "", src, r->len);
			}
		}
	}
	free(q);
}

int fetch_source(struct store *s, const char *key, const uint8_t sha256[32], fetch_source_cb cb,
                 void *arg)
{
	struct src_req *q = calloc(1, sizeof *q);
	if (!q)
		return -ENOMEM;
	q->cb = cb;
	q->arg = arg;
	memcpy(q->sha, sha256, 32);
	snprintf(q->key, sizeof q->key, "%s", key);
	const char *argv[] = { "GET", q->key };
	size_t lens[] = { 3, strlen(q->key) };
	int r = store_cmd(s, on_source, q, 2, argv, lens);
	if (r < 0)
		free(q);
	return r;
}

int fetch_bundle_cached(const char *cache_dir, const char *hash, char *dir, size_t dirlen)
{
	char path[PATH_MAX];
	struct stat st;
	if ((size_t)snprintf(path, sizeof path, "%s/%s", cache_dir, hash) >= sizeof path)
		return -ENAMETOOLONG;
	if (lstat(path, &st) != 0 || !S_ISDIR(st.st_mode))
		return -ENOENT;
	snprintf(dir, dirlen, "%s", path);
	return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	int r = (flag == FTW_DP) ? rmdir(path) : unlink(path);
	return r == 0 || errno == ENOENT ? 0 : -errno;
}

int fetch_rmtree(const char *path)
{
	int r = nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
	if (r < 0)
		return errno == ENOENT ? 0 : -errno;
	return r > 0 ? -EIO : r;
}

/* Parses, checks and extracts bytes into cache_dir/<hash> atomically. */
static int install_bundle(const char *cache_dir, const char *hash, const char *buf, size_t len,
                          char *dir, size_t dirlen, char *why, size_t whylen)
{
	char got[65], tmp[PATH_MAX], final[PATH_MAX], err[256];
	util_sha256_hex(buf, len, got);
	if (strcmp(got, hash) != 0) {
		snprintf(why, whylen, "bundle gq:bundle:%s does not match its hash", hash);
		return -EBADMSG;
	}
	struct bundle *b = bundle_parse(buf, len, err, sizeof err);
	if (!b) {
		snprintf(why, whylen, "bundle %.12s: %s", hash, err);
		return -EBADMSG;
	}
	snprintf(final, sizeof final, "%s/%s", cache_dir, hash);
	if ((size_t)snprintf(tmp, sizeof tmp, "%s/.tmp-%.16s-XXXXXX", cache_dir, hash) >=
	    sizeof tmp) {
		bundle_free(b);
		snprintf(why, whylen, "cache path too long");
		return -ENAMETOOLONG;
	}
	if (!mkdtemp(tmp)) {
		int e = -errno;
		bundle_free(b);
		snprintf(why, whylen, "mkdtemp %s: %s", tmp, strerror(-e));
		return e;
	}
	int r = bundle_extract(b, tmp, err, sizeof err);
	bundle_free(b);
	if (r < 0) {
		snprintf(why, whylen, "extract bundle %.12s: %s", hash, err);
		goto fail;
	}
	/* readable by the sandbox user; never writable by it */
	if (chmod(tmp, 0755) != 0) {
		r = -errno;
		snprintf(why, whylen, "chmod %s: %s", tmp, strerror(-r));
		goto fail;
	}
	if (rename(tmp, final) != 0) {
		r = -errno;
		if (r == -EEXIST || r == -ENOTEMPTY) { /* another slot was faster: use it */
			fetch_rmtree(tmp);
			snprintf(dir, dirlen, "%s", final);
			return 0;
		}
		snprintf(why, whylen, "rename %s: %s", tmp, strerror(-r));
		goto fail;
	}
	snprintf(dir, dirlen, "%s", final);
	return 0;
fail:
	fetch_rmtree(tmp);
	return r;
}

struct bundle_req {
	fetch_bundle_cb cb;
	void *arg;
	char hash[65];
	char key[80];
	char *cache_dir;
};

static void on_bundle(void *arg, struct redisReply *r, const char *err)
{
	struct bundle_req *q = arg;
	char why[512], dir[PATH_MAX];
	if (!r) {
		snprintf(why, sizeof why, "GET %s: %s", q->key, err);
		q->cb(q->arg, -ENOTCONN, why, NULL);
	} else if (r->type == REDIS_REPLY_NIL) {
		snprintf(why, sizeof why, "exercise bundle %s is missing in Redis", q->key);
		q->cb(q->arg, -ENOENT, why, NULL);
	} else if (r->type != REDIS_REPLY_STRING) {
		snprintf(why, sizeof why, "GET %s: unexpected reply type %d", q->key, r->type);
		q->cb(q->arg, -EBADMSG, why, NULL);
	} else if (fetch_bundle_cached(q->cache_dir, q->hash, dir, sizeof dir) == 0) {
		q->cb(q->arg, 0, "", dir); /* extracted meanwhile */
	} else {
		int e = install_bundle(q->cache_dir, q->hash, r->str, r->len, dir, sizeof dir, why,
		                       sizeof why);
		q->cb(q->arg, e, e ? why : "", e ? NULL : dir);
	}
	free(q->cache_dir);
	free(q);
}

int fetch_bundle(struct store *s, const char *cache_dir, const char *hash, fetch_bundle_cb cb,
                 void *arg)
{
	if (!util_is_sha256_hex(hash))
		return -EINVAL;
	struct bundle_req *q = calloc(1, sizeof *q);
	if (!q)
		return -ENOMEM;
	q->cache_dir = strdup(cache_dir);
	if (!q->cache_dir) {
		free(q);
		return -ENOMEM;
	}
	q->cb = cb;
	q->arg = arg;
	snprintf(q->hash, sizeof q->hash, "%s", hash);
	snprintf(q->key, sizeof q->key, "gq:bundle:%s", hash);
	const char *argv[] = { "GET", q->key };
	size_t lens[] = { 3, strlen(q->key) };
	int r = store_cmd(s, on_bundle, q, 2, argv, lens);
	if (r < 0) {
		free(q->cache_dir);
		free(q);
	}
	return r;
}
