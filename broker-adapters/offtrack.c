/* offtrack.c - per-partition in-flight sets; see offtrack.h.
 * Each partition keeps its taken offsets in ascending order in an array with a moving
 * head: completions mark entries, and the done run at the head is popped. Partitions are
 * few per consumer, so they live in a small array searched linearly. */
#include "offtrack.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct slot {
	int64_t offset;
	bool done;
};

struct part {
	int32_t id;
	uint32_t epoch;
	struct slot *v; /* v[head .. len) in flight, ascending offsets */
	size_t head, len, cap;
};

struct offtrack {
	struct part *parts;
	size_t n, cap;
	uint32_t next_epoch;
};

struct offtrack *offtrack_new(void)
{
	struct offtrack *t = calloc(1, sizeof *t);
	if (t)
		t->next_epoch = 1;
	return t;
}

void offtrack_free(struct offtrack *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		free(t->parts[i].v);
	free(t->parts);
	free(t);
}

static struct part *find(const struct offtrack *t, int32_t p)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->parts[i].id == p)
			return &t->parts[i];
	return NULL;
}

int offtrack_assign(struct offtrack *t, int32_t p, uint32_t *epoch)
{
	struct part *pt = find(t, p);
	if (pt) {
		*epoch = pt->epoch;
		return 0;
	}
	if (t->n == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 8;
		struct part *np = realloc(t->parts, ncap * sizeof *np);
		if (!np)
			return -ENOMEM;
		t->parts = np;
		t->cap = ncap;
	}
	pt = &t->parts[t->n++];
	memset(pt, 0, sizeof *pt);
	pt->id = p;
	pt->epoch = t->next_epoch++;
	if (t->next_epoch == 0) /* 0 is never an epoch */
		t->next_epoch = 1;
	*epoch = pt->epoch;
	return 0;
}

void offtrack_revoke(struct offtrack *t, int32_t p)
{
	struct part *pt = find(t, p);
	if (!pt)
		return;
	free(pt->v);
	*pt = t->parts[--t->n];
}

void offtrack_revoke_all(struct offtrack *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->parts[i].v);
	t->n = 0;
}

bool offtrack_assigned(const struct offtrack *t, int32_t p)
{
	return find(t, p) != NULL;
}

/* Index in [head, len) of the first entry with offset >= off. */
static size_t lower_bound(const struct part *pt, int64_t off)
{
	size_t lo = pt->head, hi = pt->len;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (pt->v[mid].offset < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int reserve_one(struct part *pt)
{
	if (pt->head > 0 && pt->len == pt->cap) { /* compact before growing */
		memmove(pt->v, pt->v + pt->head, (pt->len - pt->head) * sizeof *pt->v);
		pt->len -= pt->head;
		pt->head = 0;
	}
	if (pt->len < pt->cap)
		return 0;
	size_t ncap = pt->cap ? pt->cap * 2 : 16;
	struct slot *nv = realloc(pt->v, ncap * sizeof *nv);
	if (!nv)
		return -ENOMEM;
	pt->v = nv;
	pt->cap = ncap;
	return 0;
}

int offtrack_take(struct offtrack *t, int32_t p, int64_t offset, uint32_t *epoch)
{
	struct part *pt = find(t, p);
	if (!pt)
		return -ENOENT;
	size_t i = lower_bound(pt, offset);
	if (i < pt->len && pt->v[i].offset == offset)
		return -EEXIST;
	if (reserve_one(pt) < 0)
		return -ENOMEM;
	i = lower_bound(pt, offset); /* reserve_one may have compacted */
	/* Kafka hands a partition's messages out in order, so this is an append except
	 * after a seek back; keep the array sorted either way. */
	memmove(pt->v + i + 1, pt->v + i, (pt->len - i) * sizeof *pt->v);
	pt->v[i] = (struct slot){ .offset = offset, .done = false };
	pt->len++;
	*epoch = pt->epoch;
	return 0;
}

int64_t offtrack_done(struct offtrack *t, int32_t p, uint32_t epoch, int64_t offset)
{
	struct part *pt = find(t, p);
	if (!pt || pt->epoch != epoch)
		return -ESTALE;
	size_t i = lower_bound(pt, offset);
	if (i >= pt->len || pt->v[i].offset != offset || pt->v[i].done)
		return -ENOENT;
	pt->v[i].done = true;
	int64_t store = 0;
	while (pt->head < pt->len && pt->v[pt->head].done)
		store = pt->v[pt->head++].offset + 1;
	if (pt->head == pt->len)
		pt->head = pt->len = 0;
	return store;
}

size_t offtrack_inflight(const struct offtrack *t, int32_t p)
{
	const struct part *pt = find(t, p);
	return pt ? pt->len - pt->head : 0;
}
