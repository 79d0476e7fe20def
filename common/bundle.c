/* bundle.c - exercise bundles: packing a directory, validating untrusted bytes, reading
 * exercise.toml and writing tests/ and files/ into a job's workdir. */
#include "bundle.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "mpk.h"
#include "names.h"

#define BUNDLE_DIR_DEPTH 16

struct bundle {
	char *buf; /* owned copy of the encoded bytes; files[i].data point into it */
	size_t len;
	size_t n;
	struct bundle_file *files; /* sorted by path */
};

/* ---- paths ---- */

static bool in_tree(const char *path, const char *top)
{
	size_t n = strlen(top);

	return strncmp(path, top, n) == 0 && path[n] == '/';
}

bool bundle_path_valid(const char *path)
{
	const char *p, *slash;
	size_t len;

	if (!path)
		return false;
	len = strnlen(path, GQ_BUNDLE_PATH_MAX + 1);
	if (len == 0 || len > GQ_BUNDLE_PATH_MAX)
		return false;
	if (strcmp(path, "exercise.toml") == 0 || strcmp(path, "release.py") == 0)
		return true;
	if (!in_tree(path, "tests") && !in_tree(path, "files"))
		return false;
	for (p = path + strlen("tests/");; p = slash + 1) {
		slash = strchr(p, '/');
		if (!name_valid_n(p, slash ? (size_t)(slash - p) : strlen(p)))
			return false;
		if (!slash)
			return true;
	}
}

static int file_cmp(const void *a, const void *b)
{
	return strcmp(((const struct bundle_file *)a)->path, ((const struct bundle_file *)b)->path);
}

static const struct bundle_file *find_in(const struct bundle_file *files, size_t n,
                                         const char *path)
{
	struct bundle_file key;

	if (strlen(path) > GQ_BUNDLE_PATH_MAX)
		return NULL;
	strcpy(key.path, path);
	return bsearch(&key, files, n, sizeof *files, file_cmp);
}

/* Sorted files: refuses duplicates and a file that is also a directory of another. */
static int check_tree(const struct bundle_file *files, size_t n, char *err, size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		char prefix[GQ_BUNDLE_PATH_MAX + 1];

		if (i > 0 && strcmp(files[i - 1].path, files[i].path) == 0) {
			snprintf(err, errlen, "bundle: duplicate path %s", files[i].path);
			return -EINVAL;
		}
		strcpy(prefix, files[i].path);
		for (char *s = strchr(prefix, '/'); s; s = strchr(s + 1, '/')) {
			*s = '\0';
			if (find_in(files, n, prefix)) {
				snprintf(err, errlen, "bundle: %s is both a file and a directory",
				         prefix);
				return -EINVAL;
			}
			*s = '/';
		}
	}
	return 0;
}

/* ---- parse ---- */

/* A path for an error message: printable ASCII kept, any other byte as \xNN, so the
 * message is valid UTF-8 whatever the bundle held. */
static void printable(const char *in, char *out, size_t outlen)
{
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)in; *p && o + 5 <= outlen; p++) {
		if (*p >= 0x20 && *p < 0x7f && *p != '\\')
			out[o++] = (char)*p;
		else
			o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", *p);
	}
	out[o] = '\0';
}

static int index_entry(const msgpack_object_kv *kv, const char *base, struct bundle_file *f,
                       char *err, size_t errlen)
{
	const msgpack_object *k = &kv->key, *v = &kv->val;
	const char *data;
	size_t len;

	if (k->type != MSGPACK_OBJECT_STR || k->via.str.size == 0 ||
	    k->via.str.size > GQ_BUNDLE_PATH_MAX || memchr(k->via.str.ptr, '\0', k->via.str.size)) {
		snprintf(err, errlen, "bundle: a key is not a path string");
		return -EINVAL;
	}
	memcpy(f->path, k->via.str.ptr, k->via.str.size);
	f->path[k->via.str.size] = '\0';
	if (!bundle_path_valid(f->path)) {
		char shown[4 * GQ_BUNDLE_PATH_MAX + 1];
		printable(f->path, shown, sizeof shown);
		snprintf(err, errlen, "bundle: path '%s' not allowed", shown);
		return -EINVAL;
	}
	if (v->type == MSGPACK_OBJECT_BIN) {
		data = v->via.bin.ptr;
		len = v->via.bin.size;
	} else if (v->type == MSGPACK_OBJECT_STR) {
		data = v->via.str.ptr;
		len = v->via.str.size;
	} else {
		snprintf(err, errlen, "bundle: %s is not bytes", f->path);
		return -EINVAL;
	}
	f->data = len ? data : base; /* never NULL, even for an empty file */
	f->len = len;
	return 0;
}

struct bundle *bundle_parse(const char *buf, size_t len, char *err, size_t errlen)
{
	struct bundle *b = NULL;
	msgpack_zone zone;
	msgpack_object root;
	bool zone_ok = false;

	if (!buf || len == 0) {
		snprintf(err, errlen, "bundle: empty");
		return NULL;
	}
	if (len > GQ_BUNDLE_MAX_BYTES) {
		snprintf(err, errlen, "bundle: %zu bytes over the %d byte limit", len,
		         GQ_BUNDLE_MAX_BYTES);
		return NULL;
	}
	b = calloc(1, sizeof *b);
	if (!b || !(b->buf = malloc(len)))
		goto nomem;
	memcpy(b->buf, buf, len);
	b->len = len;
	if (!msgpack_zone_init(&zone, 4096))
		goto nomem;
	zone_ok = true;
	/* The file count is checked on the raw bytes: msgpack-c allocates a map's entries by
	 * its declared count, before anything here could look at it. */
	int r = mpk_decode_capped(b->buf, len, 1, GQ_BUNDLE_MAX_FILES, &zone, &root, err, errlen);
	if (r == -E2BIG) {
		snprintf(err, errlen, "bundle: more than %d files", GQ_BUNDLE_MAX_FILES);
		goto fail;
	}
	if (r < 0)
		goto fail;
	if (root.type != MSGPACK_OBJECT_MAP) {
		snprintf(err, errlen, "bundle: not a msgpack map");
		goto fail;
	}
	b->files = calloc(root.via.map.size ? root.via.map.size : 1, sizeof *b->files);
	if (!b->files)
		goto nomem;
	for (uint32_t i = 0; i < root.via.map.size; i++)
		if (index_entry(&root.via.map.ptr[i], b->buf, &b->files[i], err, errlen) < 0)
			goto fail;
	b->n = root.via.map.size;
	qsort(b->files, b->n, sizeof *b->files, file_cmp);
	if (check_tree(b->files, b->n, err, errlen) < 0)
		goto fail;
	msgpack_zone_destroy(&zone);
	return b;
nomem:
	snprintf(err, errlen, "bundle: out of memory");
fail:
	if (zone_ok)
		msgpack_zone_destroy(&zone);
	bundle_free(b);
	return NULL;
}

void bundle_free(struct bundle *b)
{
	if (!b)
		return;
	free(b->files);
	free(b->buf);
	free(b);
}

size_t bundle_count(const struct bundle *b)
{
	return b ? b->n : 0;
}

const struct bundle_file *bundle_file_at(const struct bundle *b, size_t i)
{
	return b && i < b->n ? &b->files[i] : NULL;
}

const struct bundle_file *bundle_find(const struct bundle *b, const char *path)
{
	if (!b || !path)
		return NULL;
	return find_in(b->files, b->n, path);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

bool bundle_is_mograder(const struct bundle *b)
{
	return b && bundle_find(b, GQ_BUNDLE_MOG_SOURCE) != NULL;
}

size_t bundle_test_files(const struct bundle *b)
{
	size_t count = 0;

	for (size_t i = 0; b && i < b->n; i++) {
		const char *path = b->files[i].path, *base = strrchr(path, '/');

		if (!in_tree(path, "tests"))
			continue;
		base++;
		if ((strncmp(base, "test_", 5) == 0 && ends_with(base, ".py")) ||
		    (ends_with(base, "_test.py") && strlen(base) > strlen("_test.py")))
			count++;
	}
	return count;
}

/* ---- exercise.toml ---- */

int bundle_meta(const struct bundle *b, struct exercise_meta *meta, char *err, size_t errlen)
{
	const struct bundle_file *f = bundle_find(b, "exercise.toml");
	bool mog = bundle_is_mograder(b);
	struct exercise_meta m = { 0 };
	int r;

	if (f && (r = exercise_meta_parse(f->data, f->len, &m, err, errlen)) < 0)
		return r;
	if (m.mograder && !mog) {
		snprintf(err, errlen, "exercise.toml: kind = \"mograder\" but the bundle has no %s",
		         GQ_BUNDLE_MOG_SOURCE);
		return -EINVAL;
	}
	m.mograder = mog;
	if (mog && m.in_process) {
		snprintf(
			err, errlen,
			"exercise.toml: a mograder exercise cannot use isolation = \"in-process\"");
		return -EINVAL;
	}
	*meta = m; /* untouched on error */
	return 0;
}

int exercise_meta_parse(const char *data, size_t len, struct exercise_meta *meta, char *err,
                        size_t errlen)
{
	struct exercise_meta m = { 0 };
	char isolation[32] = "", kind[32] = "";
	const struct conf_key keys[] = {
		{ "", "max_points", CONF_DOUBLE, &m.max_points, 0, 0, 1e9 },
		{ "", "timeout_s", CONF_INT, &m.timeout_s, 0, 1, 3600 },
		{ "", "memory_mb", CONF_INT, &m.memory_mb, 0, 16, 65536 },
		{ "", "safety_check", CONF_BOOL, &m.safety_check, 0, 0, 0 },
		{ "", "title", CONF_STR, m.title, sizeof m.title, 0, 0 },
		{ "", "isolation", CONF_STR, isolation, sizeof isolation, 0, 0 },
		{ "", "call_timeout_s", CONF_INT, &m.call_timeout_s, 0, 1, 3600 },
		{ "", "kind", CONF_STR, kind, sizeof kind, 0, 0 },
	};
	char *text;
	int r;

	if (memchr(data, '\0', len)) {
		snprintf(err, errlen, "exercise.toml: contains a NUL byte");
		return -EINVAL;
	}
	text = malloc(len + 1);
	if (!text) {
		snprintf(err, errlen, "exercise.toml: out of memory");
		return -ENOMEM;
	}
	memcpy(text, data, len);
	text[len] = '\0';
	r = conf_load_string("exercise.toml", text, keys, sizeof keys / sizeof keys[0], err,
	                     errlen);
	free(text);
	if (r < 0)
		return r == -ENOMEM ? r : -EINVAL;
	if (strcmp(isolation, "in-process") == 0) {
		m.in_process = true;
	} else if (isolation[0] && strcmp(isolation, "two-process") != 0) {
		snprintf(err, errlen,
		         "exercise.toml: isolation must be \"two-process\" or \"in-process\", "
		         "not \"%.40s\"",
		         isolation);
		return -EINVAL;
	}
	if (strcmp(kind, "mograder") == 0) {
		m.mograder = true;
	} else if (kind[0] && strcmp(kind, "pytest") != 0) {
		snprintf(err, errlen,
		         "exercise.toml: kind must be \"pytest\" or \"mograder\", not \"%.40s\"",
		         kind);
		return -EINVAL;
	}
	*meta = m;
	return 0;
}

/* ---- pack ---- */

struct packed_file {
	char path[GQ_BUNDLE_PATH_MAX + 1];
	char *data;
	size_t len;
};

struct pack_ctx {
	struct packed_file files[GQ_BUNDLE_MAX_FILES];
	size_t n;
	size_t total;
	char *err;
	size_t errlen;
};

static int pack_cmp(const void *a, const void *b)
{
	return strcmp(((const struct packed_file *)a)->path, ((const struct packed_file *)b)->path);
}

/* Reads a regular file (no symlink) relative to dirfd into the context. */
static int pack_file(struct pack_ctx *ctx, int dirfd, const char *name, const char *path)
{
	struct packed_file *f;
	struct stat st;
	size_t got = 0;
	int fd, r;

	if (ctx->n == GQ_BUNDLE_MAX_FILES) {
		snprintf(ctx->err, ctx->errlen, "more than %d files", GQ_BUNDLE_MAX_FILES);
		return -E2BIG;
	}
	if (!bundle_path_valid(path)) {
		snprintf(ctx->err, ctx->errlen, "%s: file name not allowed (use [A-Za-z0-9_.-])",
		         path);
		return -EINVAL;
	}
	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		r = -errno;
		snprintf(ctx->err, ctx->errlen, "%s: %s", path,
		         r == -ELOOP ? "symbolic links are not allowed" : strerror(-r));
		return r;
	}
	f = &ctx->files[ctx->n];
	f->data = NULL;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		r = -EINVAL;
		snprintf(ctx->err, ctx->errlen, "%s: not a regular file", path);
		goto out;
	}
	if ((uintmax_t)st.st_size > GQ_BUNDLE_MAX_BYTES - ctx->total) {
		r = -EFBIG;
		snprintf(ctx->err, ctx->errlen, "%s: bundle over %d bytes", path,
		         GQ_BUNDLE_MAX_BYTES);
		goto out;
	}
	f->data = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!f->data) {
		r = -ENOMEM;
		snprintf(ctx->err, ctx->errlen, "%s: out of memory", path);
		goto out;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, f->data + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : -EIO;
			snprintf(ctx->err, ctx->errlen, "%s: %s", path,
			         n < 0 ? strerror(errno) : "file shrank while reading");
			goto out;
		}
		got += (size_t)n;
	}
	strcpy(f->path, path);
	f->len = got;
	ctx->total += got;
	ctx->n++;
	r = 0;
out:
	if (r < 0) {
		free(f->data);
		f->data = NULL;
	}
	close(fd);
	return r;
}

static bool pack_skip(const char *name, unsigned char type)
{
	return name[0] == '.' || (type == DT_DIR && strcmp(name, "__pycache__") == 0) ||
	       ends_with(name, ".pyc");
}

/* Walks the directory path (relative to dirfd as name) recursively. */
static int pack_tree(struct pack_ctx *ctx, int dirfd, const char *name, const char *path,
                     unsigned depth)
{
	struct dirent *de;
	DIR *d = NULL;
	int fd, r = 0;

	if (depth > BUNDLE_DIR_DEPTH) {
		snprintf(ctx->err, ctx->errlen, "%s: directories nested too deep", path);
		return -ELOOP;
	}
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		snprintf(ctx->err, ctx->errlen, "%s: %s", path,
		         r == -ELOOP ? "symbolic links are not allowed" : strerror(-r));
		return r;
	}
	d = fdopendir(fd);
	if (!d) {
		r = -errno;
		close(fd);
		snprintf(ctx->err, ctx->errlen, "%s: %s", path, strerror(-r));
		return r;
	}
	while ((errno = 0, de = readdir(d)) != NULL) {
		char sub[GQ_BUNDLE_PATH_MAX + 2];
		struct stat st;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			r = -errno;
			snprintf(ctx->err, ctx->errlen, "%s/%s: %s", path, de->d_name,
			         strerror(-r));
			goto out;
		}
		if (pack_skip(de->d_name, S_ISDIR(st.st_mode) ? DT_DIR : DT_REG))
			continue;
		if (snprintf(sub, sizeof sub, "%s/%s", path, de->d_name) >= (int)sizeof sub - 1) {
			r = -ENAMETOOLONG;
			snprintf(ctx->err, ctx->errlen, "%s/%s: path too long", path, de->d_name);
			goto out;
		}
		if (S_ISLNK(st.st_mode)) {
			r = -ELOOP;
			snprintf(ctx->err, ctx->errlen, "%s: symbolic links are not allowed", sub);
			goto out;
		}
		if (S_ISDIR(st.st_mode))
			r = pack_tree(ctx, fd, de->d_name, sub, depth + 1);
		else
			r = pack_file(ctx, fd, de->d_name, sub);
		if (r < 0)
			goto out;
	}
	if (errno != 0) {
		r = -errno;
		snprintf(ctx->err, ctx->errlen, "%s: %s", path, strerror(-r));
	}
out:
	closedir(d);
	return r;
}

/* Packs an optional top-level file or tree; a missing one is fine. */
static int pack_top(struct pack_ctx *ctx, int dirfd, const char *name, bool tree)
{
	struct stat st;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(ctx->err, ctx->errlen, "%s: %s", name, strerror(errno));
		return -errno;
	}
	if (S_ISLNK(st.st_mode)) {
		snprintf(ctx->err, ctx->errlen, "%s: symbolic links are not allowed", name);
		return -ELOOP;
	}
	if (tree != S_ISDIR(st.st_mode)) {
		snprintf(ctx->err, ctx->errlen, "%s: expected a %s", name,
		         tree ? "directory" : "regular file");
		return -EINVAL;
	}
	return tree ? pack_tree(ctx, dirfd, name, name, 1) : pack_file(ctx, dirfd, name, name);
}

static int pack_encode(struct pack_ctx *ctx, char **out, size_t *outlen)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	int r = 0;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	r |= msgpack_pack_map(&pk, ctx->n);
	for (size_t i = 0; i < ctx->n; i++) {
		size_t plen = strlen(ctx->files[i].path);

		r |= msgpack_pack_str(&pk, plen);
		r |= msgpack_pack_str_body(&pk, ctx->files[i].path, plen);
		r |= msgpack_pack_bin(&pk, ctx->files[i].len);
		r |= msgpack_pack_bin_body(&pk, ctx->files[i].data, ctx->files[i].len);
	}
	if (r != 0) {
		msgpack_sbuffer_destroy(&sb);
		snprintf(ctx->err, ctx->errlen, "out of memory");
		return -ENOMEM;
	}
	if (sb.size > GQ_BUNDLE_MAX_BYTES) {
		msgpack_sbuffer_destroy(&sb);
		snprintf(ctx->err, ctx->errlen, "bundle over %d bytes", GQ_BUNDLE_MAX_BYTES);
		return -EFBIG;
	}
	/* release() resets sb.size; an empty map is still one byte, so data is never NULL */
	*outlen = sb.size;
	*out = msgpack_sbuffer_release(&sb);
	return 0;
}

/* ---- pack: a mograder assignment directory ---- */

/* Whether the regular file name (relative to dirfd) holds the marks marker. */
static bool has_marks_marker(int dirfd, const char *name)
{
	char buf[64 * 1024 + 1];
	ssize_t n;
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	return memmem(buf, (size_t)n, GQ_MOG_MARKS_MARKER, strlen(GQ_MOG_MARKS_MARKER)) != NULL;
}

/* Finds the mograder source notebook of a directory without tests/: its one top-level
 * *.py (release.py aside) holding the marks marker. 1 with name set, 0 when the
 * directory is not a mograder assignment, or -errno with ctx->err. */
static int find_mograder_source(struct pack_ctx *ctx, int dirfd, char *name, size_t namelen)
{
	struct stat st;
	struct dirent *de;
	DIR *d;
	int fd, found = 0;

	if (fstatat(dirfd, "tests", &st, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT)
		return 0;
	if ((fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		snprintf(ctx->err, ctx->errlen, "cannot list the directory: %s", strerror(errno));
		return -EIO;
	}
	while ((de = readdir(d)) != NULL) {
		if (pack_skip(de->d_name, DT_REG) || !ends_with(de->d_name, ".py") ||
		    strcmp(de->d_name, "release.py") == 0 ||
		    fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(st.st_mode) || !has_marks_marker(dirfd, de->d_name))
			continue;
		if (found++ || strlen(de->d_name) >= namelen) {
			snprintf(ctx->err, ctx->errlen,
			         "several notebooks hold the mograder marks cell (%s, %s)", name,
			         de->d_name);
			closedir(d);
			return -EINVAL;
		}
		strcpy(name, de->d_name);
	}
	closedir(d);
	return found;
}

/* Packs a mograder assignment: the source as GQ_BUNDLE_MOG_SOURCE, exercise.toml and
 * release.py as they are, everything else under files/. */
static int pack_mograder(struct pack_ctx *ctx, int dirfd, const char *source)
{
	struct dirent *de;
	struct stat st;
	DIR *d;
	int fd, r = 0;

	if ((fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		snprintf(ctx->err, ctx->errlen, "cannot list the directory: %s", strerror(errno));
		return -EIO;
	}
	while (r == 0 && (de = readdir(d)) != NULL) {
		char sub[GQ_BUNDLE_PATH_MAX + 2];
		const char *n = de->d_name;

		if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
			continue;
		if (fstatat(dirfd, n, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			r = -errno;
			snprintf(ctx->err, ctx->errlen, "%s: %s", n, strerror(-r));
			break;
		}
		if (pack_skip(n, S_ISDIR(st.st_mode) ? DT_DIR : DT_REG))
			continue;
		if (S_ISLNK(st.st_mode)) {
			snprintf(ctx->err, ctx->errlen, "%s: symbolic links are not allowed", n);
			r = -ELOOP;
		} else if (strcmp(n, source) == 0) {
			r = pack_file(ctx, dirfd, n, GQ_BUNDLE_MOG_SOURCE);
		} else if (strcmp(n, "exercise.toml") == 0 || strcmp(n, "release.py") == 0) {
			r = pack_file(ctx, dirfd, n, n);
		} else if (strcmp(n, "files") == 0 && S_ISDIR(st.st_mode)) {
			r = pack_tree(ctx, dirfd, n, n, 1);
		} else if (snprintf(sub, sizeof sub, "files/%s", n) >= (int)sizeof sub - 1) {
			snprintf(ctx->err, ctx->errlen, "%s: path too long", n);
			r = -ENAMETOOLONG;
		} else {
			r = S_ISDIR(st.st_mode) ? pack_tree(ctx, dirfd, n, sub, 2)
			                        : pack_file(ctx, dirfd, n, sub);
		}
	}
	closedir(d);
	return r;
}

int bundle_pack_dir(const char *dir, char **out, size_t *outlen, char *err, size_t errlen)
{
	static const struct {
		const char *name;
		bool tree;
	} tops[] = { { "exercise.toml", false },
		     { "release.py", false },
		     { "tests", true },
		     { "files", true } };
	struct pack_ctx *ctx;
	int dirfd, r = 0;

	ctx = calloc(1, sizeof *ctx);
	if (!ctx) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	ctx->err = err;
	ctx->errlen = errlen;
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", dir, strerror(-r));
		goto out;
	}
	char source[256] = "";
	r = find_mograder_source(ctx, dirfd, source, sizeof source);
	if (r > 0)
		r = pack_mograder(ctx, dirfd, source);
	for (size_t i = 0; i < sizeof tops / sizeof tops[0] && r == 0 && !source[0]; i++)
		r = pack_top(ctx, dirfd, tops[i].name, tops[i].tree);
	close(dirfd);
	if (r < 0)
		goto out;
	qsort(ctx->files, ctx->n, sizeof ctx->files[0], pack_cmp);
	r = pack_encode(ctx, out, outlen);
out:
	for (size_t i = 0; i < ctx->n; i++)
		free(ctx->files[i].data);
	free(ctx);
	return r;
}

/* ---- extract ---- */

static int write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Opens (creating if needed) directory name under dirfd without following symlinks. */
static int open_subdir(int dirfd, const char *name)
{
	int fd;

	if (mkdirat(dirfd, name, 0755) == 0) {
		fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0 && fchmod(fd, 0755) != 0) {
			int e = errno;

			close(fd);
			return -e;
		}
		return fd < 0 ? -errno : fd;
	}
	if (errno != EEXIST)
		return -errno;
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static int extract_one(int rootfd, const struct bundle_file *f)
{
	char path[GQ_BUNDLE_PATH_MAX + 1], *comp, *slash;
	int dirfd, fd, r;

	strcpy(path, f->path);
	dirfd = dup(rootfd);
	if (dirfd < 0)
		return -errno;
	for (comp = path; (slash = strchr(comp, '/')) != NULL; comp = slash + 1) {
		int sub;

		*slash = '\0';
		sub = open_subdir(dirfd, comp);
		close(dirfd);
		if (sub < 0)
			return sub;
		dirfd = sub;
	}
	fd = openat(dirfd, comp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	/* the sandbox reads these as another uid, whatever the daemon's umask */
	r = fchmod(fd, 0644) != 0 ? -errno : write_all(fd, f->data, f->len);
	if (close(fd) != 0 && r == 0)
		r = -errno;
out:
	close(dirfd);
	return r;
}

int bundle_extract(const struct bundle *b, const char *dir, char *err, size_t errlen)
{
	int rootfd, r = 0;

	if (!b || !dir) {
		snprintf(err, errlen, "no bundle or directory");
		return -EINVAL;
	}
	rootfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", dir, strerror(-r));
		return r;
	}
	for (size_t i = 0; i < b->n; i++) {
		const struct bundle_file *f = &b->files[i];

		/* parse already checked this; extraction re-checks because it writes files */
		if (!bundle_path_valid(f->path)) {
			r = -EINVAL;
			snprintf(err, errlen, "%s: path not allowed", f->path);
			break;
		}
		if (!in_tree(f->path, "tests") && !in_tree(f->path, "files") &&
		    strcmp(f->path, "exercise.toml") != 0)
			continue;
		r = extract_one(rootfd, f);
		if (r < 0) {
			snprintf(err, errlen, "%s/%s: %s", dir, f->path, strerror(-r));
			break;
		}
	}
	close(rootfd);
	return r;
}
