/* fetch.h - a job's inputs: the submission source (GET gq:src:<id>, checked against the
 * sha256 the job carries) and the exercise bundle (GET gq:bundle:<hash>, checked against
 * its hash, parsed, extracted once per node into cache_dir/<hash>/ through a temporary
 * directory renamed into place, so a half-written bundle is never used).
 * Errors are classified for the caller: -ENOTCONN means Redis did not answer (wait for it,
 * not the job's fault); anything else (-ENOENT missing, -EBADMSG wrong hash or bad bundle,
 * -errno from the disk) is an infrastructure error of this job, retried on its budget. */
#pragma once
#include <stddef.h>
#include <stdint.h>

struct store;

/* err 0: src (malloc'd, ownership passes to the callee) of len bytes. */
typedef void (*fetch_source_cb)(void *arg, int err, const char *why, char *src, size_t len);
/* err 0: dir is the extracted bundle (valid during the call). */
typedef void (*fetch_bundle_cb)(void *arg, int err, const char *why, const char *dir);

/* Returns 0 (cb will be called) or -ENOTCONN / -ENOMEM (cb will not be called). */
int fetch_source(struct store *s, const char *key, const uint8_t sha256[32], fetch_source_cb cb,
                 void *arg);

/* If the bundle is cached, writes its dir and returns 0; else -ENOENT. hash must be 64
 * lowercase hex digits (validated by the job codec). */
int fetch_bundle_cached(const char *cache_dir, const char *hash, char *dir, size_t dirlen);
/* Fetches and extracts the bundle. Returns 0 (cb will be called) or -ENOTCONN / -ENOMEM. */
int fetch_bundle(struct store *s, const char *cache_dir, const char *hash, fetch_bundle_cb cb,
                 void *arg);

/* Removes a directory tree without following symlinks. Returns 0 or -errno. */
int fetch_rmtree(const char *path);
