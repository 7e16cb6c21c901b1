#ifndef MODELC_ARENA_H
#define MODELC_ARENA_H

#include <stddef.h>

/*
 * A bump allocator: the compiler allocates everything of one run here and frees it once.
 * Allocation failure aborts with a message, since nothing can continue without memory.
 */
struct arena {
	struct arena_block *head;
	size_t used;          /* bytes handed out, for resource limits */
};

/* Allocate n zeroed bytes aligned for any type; never returns NULL. Owned by the arena. */
void *arena_alloc(struct arena *a, size_t n);

/* Copy the n bytes at s and add a NUL; owned by the arena. */
char *arena_strndup(struct arena *a, const char *s, size_t n);

/* Copy the string s; owned by the arena. */
char *arena_strdup(struct arena *a, const char *s);

/* printf into a new arena string. */
char *arena_printf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Free every block; the arena is empty and reusable afterwards. */
void arena_free(struct arena *a);

#endif
