/* SPDX-License-Identifier: MIT */
/*
 * Per-component statistics counters. A component defines its counter names
 * with an X-macro, embeds a struct ctr_block, registers it, and bumps
 * counters with ctr_inc(). Increments are relaxed load+store, not atomic
 * read-modify-write: they cost no locked instruction on the hot path and
 * may lose counts when two threads race, which statistics can afford.
 */
#ifndef IONEST_LIB_COUNTERS_H
#define IONEST_LIB_COUNTERS_H

#include <stdint.h>

struct ctr_block {
	char component[32];
	const char *const *names;
	uint64_t *values;
	unsigned count;
	struct ctr_block *next;
};

/* Helpers for a component's X-macro list X(name). */
#define CTR_ENUM(prefix, name) prefix##_##name,
#define CTR_NAME(prefix, name) #name,

void ctr_register(struct ctr_block *b, const char *component,
		  const char *const *names, uint64_t *values, unsigned count);
void ctr_unregister(struct ctr_block *b);

static inline void ctr_add(uint64_t *c, uint64_t n)
{
	__atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + n,
			 __ATOMIC_RELAXED);
}

static inline void ctr_inc(uint64_t *c)
{
	ctr_add(c, 1);
}

#endif
