/* published.c - a bundle's published test list: JSON form, validation, disk cache; see
 * published.h. */
#include "published.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

void pub_free(struct pub_list *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++)
		free(p->names[i]);
	free(p->names);
	free(p->weights);
	free(p);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

struct pub_list *pub_new(size_t n, const char *const *names, const double *weights, char *err,
                         size_t errlen)
{
	if (n > PUB_TESTS_MAX) {
		snprintf(err, errlen, "more than %d tests", PUB_TESTS_MAX);
		return NULL;
	}
	struct pub_list *p = calloc(1, sizeof *p);
	const char **sorted = calloc(n ? n : 1, sizeof *sorted);
	if (!p || !sorted || !(p->names = calloc(n ? n : 1, sizeof *p->names)) ||
	    !(p->weights = calloc(n ? n : 1, sizeof *p->weights))) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(names[i]);
		if (len == 0 || len > PUB_NAME_MAX) {
			snprintf(err, errlen, "test %zu: id length %zu", i, len);
			goto fail;
		}
		if (!isfinite(weights[i]) || weights[i] < 0 || weights[i] > 1e6) {
			snprintf(err, errlen, "test %zu: weight out of range", i);
			goto fail;
		}
		if (!(p->names[i] = strdup(names[i]))) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		p->n = i + 1;
		p->weights[i] = weights[i];
		p->total += weights[i];
		sorted[i] = p->names[i];
	}
	qsort(sorted, n, sizeof *sorted, cmp_str);
	for (size_t i = 1; i < n; i++)
		if (strcmp(sorted[i - 1], sorted[i]) == 0) {
			snprintf(err, errlen, "test id listed twice");
			goto fail;
		}
	free(sorted);
	return p;
fail:
	free(sorted);
	pub_free(p);
	return NULL;
}

struct pub_list *pub_parse(const char *json, size_t len, char *err, size_t errlen)
{
	if (len > PUB_JSON_MAX) {
		snprintf(err, errlen, "test list larger than %u bytes", PUB_JSON_MAX);
		return NULL;
	}
	json_error_t je;
	json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		snprintf(err, errlen, "test list is not JSON: %s", je.text);
		return NULL;
	}
	struct pub_list *p = NULL;
	const char **names = NULL;
	double *weights = NULL;
	json_t *v = json_object_get(root, "v");
	json_t *tests = json_object_get(root, "tests");
	if (!json_is_object(root) || !json_is_integer(v) || json_integer_value(v) != 1 ||
	    !json_is_array(tests)) {
		snprintf(err, errlen, "test list: not {\"v\":1,\"tests\":[...]}");
		goto out;
	}
	size_t n = json_array_size(tests);
	if (n > PUB_TESTS_MAX) {
		snprintf(err, errlen, "more than %d tests", PUB_TESTS_MAX);
		goto out;
	}
	names = calloc(n ? n : 1, sizeof *names);
	weights = calloc(n ? n : 1, sizeof *weights);
	if (!names || !weights) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_array_get(tests, i);
		json_t *name = json_array_get(e, 0), *w = json_array_get(e, 1);
		if (!json_is_array(e) || json_array_size(e) != 2 || !json_is_string(name) ||
		    !json_is_number(w) ||
		    strlen(json_string_value(name)) != json_string_length(name)) {
			snprintf(err, errlen, "test list entry %zu is not [id, weight]", i);
			goto out;
		}
		names[i] = json_string_value(name);
		weights[i] = json_number_value(w);
	}
	p = pub_new(n, names, weights, err, errlen);
out:
	free(names);
	free(weights);
	json_decref(root);
	return p;
}

char *pub_json(const struct pub_list *p)
{
	json_t *root = json_object(), *tests = json_array();
	char *out = NULL;
	if (!root || !tests)
		goto out;
	for (size_t i = 0; i < p->n; i++) {
		json_t *e = json_pack("[s, f]", p->names[i], p->weights[i]);
		if (!e || json_array_append_new(tests, e) < 0)
			goto out;
	}
	if (json_object_set_new(root, "v", json_integer(1)) < 0 ||
	    json_object_set(root, "tests", tests) < 0)
		goto out;
	out = json_dumps(root, JSON_COMPACT | JSON_REAL_PRECISION(17));
out:
	json_decref(tests);
	json_decref(root);
	return out;
}

struct pub_list *pub_load(const char *path, int *rc, char *err, size_t errlen)
{
	char *buf;
	size_t len;
	int r = util_read_file(path, PUB_JSON_MAX, &buf, &len);
	if (r < 0) {
		*rc = r;
		snprintf(err, errlen, "%s: %s", path, strerror(-r));
		return NULL;
	}
	struct pub_list *p = pub_parse(buf, len, err, errlen);
	free(buf);
	*rc = p ? 0 : -EBADMSG;
	return p;
}

int pub_save(const struct pub_list *p, const char *path, char *err, size_t errlen)
{
	char tmp[4096];
	char *json = pub_json(p);
	if (!json) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp%d", path, (int)getpid()) >= sizeof tmp) {
		free(json);
		snprintf(err, errlen, "path too long");
		return -ENAMETOOLONG;
	}
	int rc = 0;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	size_t len = strlen(json);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	rc = util_write_all(fd, json, len);
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc < 0)
		unlink(tmp);
out:
	if (rc < 0)
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
	free(json);
	return rc;
}
