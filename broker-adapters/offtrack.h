/* offtrack.h - which offset of each partition a consumer may store.
 * Pure bookkeeping, no Kafka. Messages are taken in offset order per partition but finish
 * in any order (several slots run at once); the storable position only advances over the
 * prefix of taken messages that are all done. Revoking a partition drops its state, and
 * every assignment gets a fresh epoch, so a late completion from an earlier assignment
 * never moves the position of a later one. Not thread-safe. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct offtrack;

struct offtrack *offtrack_new(void);
/* offtrack_free(NULL) is a no-op. */
void offtrack_free(struct offtrack *t);

/* Starts tracking partition p (no-op if already tracked) and sets *epoch to the epoch of
 * its current assignment. Returns 0 or -ENOMEM. */
int offtrack_assign(struct offtrack *t, int32_t p, uint32_t *epoch);
/* Forgets p and whatever of it is in flight. No-op if p is not tracked. */
void offtrack_revoke(struct offtrack *t, int32_t p);
void offtrack_revoke_all(struct offtrack *t);
bool offtrack_assigned(const struct offtrack *t, int32_t p);

/* Records that offset of p was handed to the application and sets *epoch.
 * Returns 0, -ENOENT (p not assigned), -EEXIST (offset already in flight), -ENOMEM. */
int offtrack_take(struct offtrack *t, int32_t p, int64_t offset, uint32_t *epoch);

/* Marks offset of p (taken under epoch) done. Returns the offset to store (the next one
 * to consume, >= 1) when the done prefix advanced, 0 when it did not (an earlier message
 * is still in flight), -ESTALE when p was revoked since (epoch differs or p not assigned),
 * -ENOENT when offset is not in flight. */
int64_t offtrack_done(struct offtrack *t, int32_t p, uint32_t epoch, int64_t offset);

/* Messages of p taken and not yet part of the stored prefix (0 if not assigned). */
size_t offtrack_inflight(const struct offtrack *t, int32_t p);
