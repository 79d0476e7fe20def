/* published.h - the test list of an exercise bundle, fixed when it is first collected:
 * each test's id and weight, and the total. It is collected from the bundle alone (the
 * hidden tests against a stand-in submission, in a sandbox: nothing of any submission
 * takes part), stored in Redis under the bundle's content hash (gq:published:<hash>) and
 * cached on each node beside the extracted bundle. Every job of that bundle is scored
 * against it (records.h), never against what the job's own stream claims it ran.
 * The JSON form: {"v":1,"tests":[["<id>",<weight>],...]}. Everything parsed is
 * validated (it comes from Redis or disk): caps on count and name length, finite weights
 * in [0, 1e6], unique ids. */
#pragma once
#include <stddef.h>

#define PUB_TESTS_MAX 5000
#define PUB_NAME_MAX 1024
#define PUB_JSON_MAX (8u * 1024 * 1024)

struct pub_list {
	size_t n;
	char **names;    /* n NUL-terminated ids, owned */
	double *weights; /* n weights */
	double total;    /* sum of the weights */
};

/* Parses and validates. Returns a new list (pub_free) or NULL with err. */
struct pub_list *pub_parse(const char *json, size_t len, char *err, size_t errlen);
/* Builds a list from parallel arrays (copied); validated like pub_parse. */
struct pub_list *pub_new(size_t n, const char *const *names, const double *weights, char *err,
                         size_t errlen);
/* The JSON form, malloc'd, NUL-terminated; NULL on ENOMEM. */
char *pub_json(const struct pub_list *p);
/* Loads the cached list of a bundle from path (NULL with err when absent: -ENOENT in
 * *rc, or invalid). Saves atomically (temporary file + rename). */
struct pub_list *pub_load(const char *path, int *rc, char *err, size_t errlen);
int pub_save(const struct pub_list *p, const char *path, char *err, size_t errlen);
void pub_free(struct pub_list *p);
