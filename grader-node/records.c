/* records.c - result stream decoding and scoring, see records.h. */
#include "records.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpk.h"
#include "published.h"
#include "score.h"
#include "text.h"

enum outcome { OC_NOT_RUN, OC_PASSED, OC_FAILED, OC_ERROR, OC_SKIPPED };

struct rec_test {
	char *name;
	double weight;
	enum outcome outcome;
	char *msg;
};

struct rec_stream {
	unsigned char hdr[4];
	size_t hdr_have;
	char *body; /* REC_FRAME_MAX bytes */
	size_t body_len, body_have;
	size_t total;
	unsigned nrecords;
	bool violated, final, tests_started, published;
	char violation[160];
	struct rec_state st;
	char *detail;
	struct rec_test *tests;
	size_t ntests, cap;
	size_t *by_name; /* indexes of tests sorted by name, built when collection closes */
	msgpack_zone zone;
};

__attribute__((format(printf, 2, 3))) static int violate(struct rec_stream *s, const char *fmt, ...)
{
	if (!s->violated) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(s->violation, sizeof s->violation, fmt, ap);
		va_end(ap);
		s->violated = true;
	}
	return -EBADMSG;
}

struct rec_stream *rec_new(void)
{
	struct rec_stream *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->body = malloc(REC_FRAME_MAX);
	if (!s->body || !msgpack_zone_init(&s->zone, 4096)) {
		free(s->body);
		free(s);
		return NULL;
	}
	s->st.detail = "";
	return s;
}

void rec_free(struct rec_stream *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->ntests; i++) {
		free(s->tests[i].name);
		free(s->tests[i].msg);
	}
	free(s->tests);
	free(s->by_name);
	free(s->detail);
	free(s->body);
	msgpack_zone_destroy(&s->zone);
	free(s);
}

const char *rec_violation(const struct rec_stream *s)
{
	return s->violated ? s->violation : NULL;
}

const struct rec_state *rec_state(const struct rec_stream *s)
{
	return &s->st;
}

/* -- strings -------------------------------------------------------------------------- */

char *rec_clean_string(const char *s, size_t len)
{
	return text_inert(s, len, false);
}

char *rec_clean_line(const char *s, size_t len)
{
	return text_inert(s, len, true);
}

/* -- records -------------------------------------------------------------------------- */

/* An optional string field of at most max bytes: 1 present, 0 absent, -1 bad. */
static int opt_str(const msgpack_object *map, const char *key, size_t max, const char **p,
                   size_t *len)
{
	const msgpack_object *o = mpk_map_get(map, key);
	if (!o) {
		*p = "";
		*len = 0;
		return 0;
	}
	if (o->type != MSGPACK_OBJECT_STR || o->via.str.size > max)
		return -1;
	*p = o->via.str.ptr;
	*len = o->via.str.size;
	return 1;
}

static int cmp_by_name(const void *a, const void *b, void *arg)
{
	const struct rec_stream *s = arg;
	return strcmp(s->tests[*(const size_t *)a].name, s->tests[*(const size_t *)b].name);
}

/* Collection is over (first test record, or end): index the names, refuse duplicates. */
static int close_collection(struct rec_stream *s)
{
	if (s->tests_started)
		return 0;
	s->tests_started = true;
	if (s->ntests == 0)
		return 0;
	if (!(s->by_name = malloc(s->ntests * sizeof *s->by_name)))
		return violate(s, "out of memory");
	for (size_t i = 0; i < s->ntests; i++)
		s->by_name[i] = i;
	qsort_r(s->by_name, s->ntests, sizeof *s->by_name, cmp_by_name, s);
	for (size_t i = 1; i < s->ntests; i++)
		if (strcmp(s->tests[s->by_name[i - 1]].name, s->tests[s->by_name[i]].name) == 0)
			return violate(s, "test collected twice");
	return 0;
}

static struct rec_test *find_test(struct rec_stream *s, const char *name)
{
	size_t lo = 0, hi = s->ntests;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, s->tests[s->by_name[mid]].name);
		if (c == 0)
			return &s->tests[s->by_name[mid]];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static int on_collected(struct rec_stream *s, const msgpack_object *m)
{
	if (s->published)
		return 0; /* the published list decides; counted against the caps only */
	if (s->tests_started)
		return violate(s, "collected after tests started");
	const msgpack_object *arr = mpk_map_get(m, "tests");
	if (!arr || arr->type != MSGPACK_OBJECT_ARRAY)
		return violate(s, "collected without a tests array");
	size_t n = arr->via.array.size;
	if (n > REC_TESTS_MAX - s->ntests)
		return violate(s, "more than %d tests", REC_TESTS_MAX);
	if (s->ntests + n > s->cap) {
		size_t cap = s->ntests + n + 16;
		struct rec_test *t = realloc(s->tests, cap * sizeof *t);
		if (!t)
			return violate(s, "out of memory");
		s->tests = t;
		s->cap = cap;
	}
	for (size_t i = 0; i < n; i++) {
		const msgpack_object *e = &arr->via.array.ptr[i];
		double w;
		if (e->type != MSGPACK_OBJECT_ARRAY || e->via.array.size != 2 ||
		    e->via.array.ptr[0].type != MSGPACK_OBJECT_STR ||
		    !mpk_num(&e->via.array.ptr[1], &w))
			return violate(s, "malformed collected entry");
		const msgpack_object_str *name = &e->via.array.ptr[0].via.str;
		if (name->size == 0 || name->size > REC_NAME_MAX)
			return violate(s, "test name length");
		if (!isfinite(w) || w < 0 || w > 1e6)
			return violate(s, "test weight out of range");
		struct rec_test *t = &s->tests[s->ntests];
		memset(t, 0, sizeof *t);
		if (!(t->name = rec_clean_line(name->ptr, name->size)))
			return violate(s, "out of memory");
		t->weight = w;
		s->ntests++;
	}
	s->st.ncollected = s->ntests;
	return 0;
}

static int on_test(struct rec_stream *s, const msgpack_object *m)
{
	if (close_collection(s) < 0)
		return -EBADMSG;
	size_t nl, ol, ml, el;
	const char *name = mpk_map_str(m, "name", &nl);
	const char *oc = mpk_map_str(m, "outcome", &ol);
	const char *msg, *exc;
	if (!name || nl == 0 || nl > REC_NAME_MAX || !oc)
		return violate(s, "malformed test record");
	if (opt_str(m, "msg", REC_MSG_MAX, &msg, &ml) < 0 ||
	    opt_str(m, "exc", REC_MSG_MAX, &exc, &el) < 0)
		return violate(s, "malformed test record");
	static const struct {
		const char *s;
		enum outcome o;
	} outcomes[] = { { "passed", OC_PASSED },
		         { "failed", OC_FAILED },
		         { "error", OC_ERROR },
		         { "skipped", OC_SKIPPED } };
	enum outcome o = OC_NOT_RUN;
	for (size_t i = 0; i < sizeof outcomes / sizeof *outcomes; i++)
		if (ol == strlen(outcomes[i].s) && memcmp(oc, outcomes[i].s, ol) == 0)
			o = outcomes[i].o;
	if (o == OC_NOT_RUN)
		return violate(s, "unknown test outcome");
	char *cname = rec_clean_line(name, nl);
	if (!cname)
		return violate(s, "out of memory");
	struct rec_test *t = find_test(s, cname);
	free(cname);
	if (!t && s->published) {
		s->st.nunlisted++; /* not in the published list: earns nothing */
		return 0;
	}
	if (!t)
		return violate(s, "test record for a test never collected");
	if (t->outcome != OC_NOT_RUN)
		return violate(s, "test reported twice");
	if (!(t->msg = rec_clean_string(msg, ml)))
		return violate(s, "out of memory");
	t->outcome = o;
	s->st.nreported++;
	if (el == 11 && memcmp(exc, "MemoryError", 11) == 0)
		s->st.memory_error = true;
	const char *ev;
	size_t evl;
	if (opt_str(m, "ev", 32, &ev, &evl) < 0)
		return violate(s, "malformed test record");
#define EV(lit) (evl == sizeof(lit) - 1 && memcmp(ev, lit, evl) == 0)
	if (EV("timeout")) {
		s->st.ev_timeout = true;
		s->st.ntimeouts++;
	} else if (EV("memory")) {
		s->st.ev_memory = true;
	} else if (EV("output_limit")) {
		s->st.ev_output = true;
	} else if (EV("crashed")) {
		s->st.ev_crashed = true;
	}
#undef EV
	return 0;
}

static int set_detail(struct rec_stream *s, const char *p, size_t len)
{
	free(s->detail);
	if (!(s->detail = rec_clean_string(p, len)))
		return violate(s, "out of memory");
	s->st.detail = s->detail;
	return 0;
}

static int handle(struct rec_stream *s, const msgpack_object *m, int64_t now)
{
	size_t tl;
	const char *t = m->type == MSGPACK_OBJECT_MAP ? mpk_map_str(m, "t", &tl) : NULL;
	if (!t)
		return violate(s, "record is not a map with a type");
#define IS(lit) (tl == sizeof(lit) - 1 && memcmp(t, lit, tl) == 0)
	if (!s->st.hello) {
		if (!IS("hello"))
			return violate(s, "first record is not hello");
		double v = 0;
		(void)mpk_map_num(m, "v", &v);
		s->st.hello = true;
		s->st.hello_version = v >= 0 && v < 1000 ? (int)v : -1;
		s->st.t_hello = now;
		return 0;
	}
	if (s->final)
		return violate(s, "record after the final one");
	if (IS("hello"))
		return violate(s, "second hello");
	if (IS("imported")) {
		if (s->st.imported)
			return violate(s, "second imported");
		s->st.imported = true;
		s->st.t_imported = now;
		return 0;
	}
	if (IS("collected"))
		return on_collected(s, m);
	if (IS("test"))
		return on_test(s, m);
	if (IS("import_error") || IS("rejected")) {
		bool imp = IS("import_error");
		const char *d;
		size_t dl;
		if (opt_str(m, imp ? "msg" : "reason", REC_MSG_MAX, &d, &dl) < 0)
			return violate(s, "malformed %s record", imp ? "import_error" : "rejected");
		if (imp) {
			const char *exc;
			size_t el;
			if (opt_str(m, "exc", REC_MSG_MAX, &exc, &el) < 0)
				return violate(s, "malformed import_error record");
			if (el == 11 && memcmp(exc, "MemoryError", 11) == 0)
				s->st.memory_error = true;
			s->st.import_error = true;
		} else {
			s->st.rejected = true;
		}
		s->final = true;
		return set_detail(s, d, dl);
	}
	if (IS("end")) {
		if (close_collection(s) < 0)
			return -EBADMSG;
		s->final = true;
		s->st.ended = true;
		s->st.t_end = now;
		return 0;
	}
#undef IS
	return 0; /* unknown record types are skipped (counted against the caps) */
}

static int frame_done(struct rec_stream *s, int64_t now)
{
	if (++s->nrecords > REC_RECORDS_MAX)
		return violate(s, "more than %d records", REC_RECORDS_MAX);
	char e[128];
	msgpack_object obj;
	msgpack_zone_clear(&s->zone);
	if (mpk_decode(s->body, s->body_len, REC_DEPTH_MAX, &s->zone, &obj, e, sizeof e) < 0)
		return violate(s, "undecodable record: %s", e);
	return handle(s, &obj, now);
}

int rec_feed(struct rec_stream *s, const char *buf, size_t len, int64_t now_ms)
{
	if (s->violated)
		return -EBADMSG;
	if (len > REC_STREAM_MAX - s->total)
		return violate(s, "more than %d bytes", REC_STREAM_MAX);
	s->total += len;
	while (len > 0) {
		if (s->hdr_have < 4) {
			size_t k = 4 - s->hdr_have < len ? 4 - s->hdr_have : len;
			memcpy(s->hdr + s->hdr_have, buf, k);
			s->hdr_have += k;
			buf += k;
			len -= k;
			if (s->hdr_have < 4)
				break;
			uint32_t n = (uint32_t)s->hdr[0] << 24 | (uint32_t)s->hdr[1] << 16 |
			             (uint32_t)s->hdr[2] << 8 | s->hdr[3];
			if (n == 0 || n > REC_FRAME_MAX)
				return violate(s, "frame length %u", n);
			s->body_len = n;
			s->body_have = 0;
			continue;
		}
		size_t k = s->body_len - s->body_have < len ? s->body_len - s->body_have : len;
		memcpy(s->body + s->body_have, buf, k);
		s->body_have += k;
		buf += k;
		len -= k;
		if (s->body_have == s->body_len) {
			s->hdr_have = 0;
			if (frame_done(s, now_ms) < 0)
				return -EBADMSG;
		}
	}
	return 0;
}

/* -- the published list ------------------------------------------------------------- */

int rec_set_published(struct rec_stream *s, const struct pub_list *p)
{
	if (s->ntests || s->tests_started)
		return -EINVAL;
	if (p->n && !(s->tests = calloc(p->n, sizeof *s->tests)))
		return -ENOMEM;
	s->cap = p->n;
	for (size_t i = 0; i < p->n; i++) {
		if (!(s->tests[i].name = strdup(p->names[i])))
			return -ENOMEM; /* rec_free frees the ones made */
		s->tests[i].weight = p->weights[i];
		s->ntests = i + 1;
	}
	s->published = true;
	s->st.ncollected = s->ntests;
	return close_collection(s) < 0 ? -ENOMEM : 0;
}

size_t rec_collected(const struct rec_stream *s, const char **names, double *weights, size_t max)
{
	size_t n = s->ntests < max ? s->ntests : max;
	for (size_t i = 0; i < n; i++) {
		names[i] = s->tests[i].name;
		weights[i] = s->tests[i].weight;
	}
	return n;
}

/* -- scoring -------------------------------------------------------------------------- */

int rec_score(const struct rec_stream *s, double max_points, bool zero, const char *verdict,
              struct rec_score *out)
{
	memset(out, 0, sizeof *out);
	double total = 0;
	for (size_t i = 0; i < s->ntests; i++)
		total += s->tests[i].weight;
	double scale = score_scale(max_points, total);
	if (s->ntests && !(out->tests = calloc(s->ntests, sizeof *out->tests)))
		return -ENOMEM;
	double sum = 0;
	for (size_t i = 0; i < s->ntests; i++) {
		const struct rec_test *t = &s->tests[i];
		struct run_test *r = &out->tests[i];
		out->ntests = i + 1;
		r->name = strdup(t->name);
		r->passed = t->outcome == OC_PASSED && !zero;
		r->max_points = score_round2(t->weight * scale);
		r->points = r->passed ? r->max_points : 0;
		if (r->passed)
			sum += t->weight * scale;
		char buf[REC_MSG_MAX + 64];
		if (t->outcome == OC_NOT_RUN)
			snprintf(buf, sizeof buf, "not run: %s", verdict ? verdict : "");
		else if (t->outcome == OC_SKIPPED)
			snprintf(buf, sizeof buf, "skipped%s%s", t->msg && *t->msg ? ": " : "",
			         t->msg ? t->msg : "");
		else
			snprintf(buf, sizeof buf, "%s", t->msg ? t->msg : "");
		r->message = strdup(buf);
		if (!r->name || !r->message) {
			rec_score_free(out);
			return -ENOMEM;
		}
	}
	out->max_score = score_round2(max_points > 0 ? max_points : total);
	out->score = score_round2(sum);
	if (out->score > out->max_score) /* rounding: never above the maximum */
		out->score = out->max_score;
	return 0;
}

void rec_score_free(struct rec_score *sc)
{
	if (!sc)
		return;
	for (size_t i = 0; i < sc->ntests; i++) {
		free(sc->tests[i].name);
		free(sc->tests[i].message);
	}
	free(sc->tests);
	memset(sc, 0, sizeof *sc);
}
