#ifndef MODELC_LOCKMERGE_H
#define MODELC_LOCKMERGE_H

/* Adding one entry to a models.lock in memory, as `modelc adopt` does before lock_write. */

#include "arena.h"
#include "lock.h"

/*
 * Return a copy of l (may be NULL: an empty lock) with m added, or replacing the entry of the
 * same key; the models stay sorted by key. The arrays are the arena's; entries are shared.
 */
struct lock lockmerge_put(struct arena *a, const struct lock *l, const struct lock_model *m);

#endif
