/* SPDX-License-Identifier: MIT */
/*
 * Engine-private declarations shared by the page-table files: the per-format
 * operation table that struct pt points to, table memory access and
 * allocation, descriptor atomics and the pool's internal interface.
 */
#ifndef IONEST_PT_INTERNAL_H
#define IONEST_PT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pt/pt.h"

/*
 * One engine instance per format (and per granule for VMSAv8-64), generated
 * from engine_tmpl.h so that entry encode/decode is inlined into the loops.
 * Callers have validated their arguments (engine.c, dirty.c).
 */
struct pt_fmt {
	const char *name;
	int (*walk)(const struct pt *pt, uint64_t iova, unsigned flags,
		    struct pt_walk *w);
	int (*map)(struct pt *pt, uint64_t iova, uint64_t pa, uint64_t size,
		   uint32_t prot, uint64_t pgsizes);
	int (*unmap)(struct pt *pt, uint64_t iova, uint64_t size,
		     unsigned flags, struct pt_gather *g, uint64_t *unmapped);
	int (*for_each)(const struct pt *pt, uint64_t start, uint64_t last,
			pt_leaf_fn fn, void *ctx);
	int (*dirty)(struct pt *pt, uint64_t iova, uint64_t size,
		     unsigned page_shift, uint64_t *bitmap, bool no_clear);
	int (*set_dirty)(struct pt *pt, uint64_t iova);
	void (*destroy)(struct pt *pt);
	bool (*has_dirty)(const struct pt *pt);
	uint64_t *(*leaf_slot)(const struct pt *pt, uint64_t iova);
	uint64_t (*leaf_desc)(const struct pt *pt, uint64_t pa, uint32_t prot);
	uint64_t (*leaf_clean)(const struct pt *pt, uint64_t d);
};

extern const struct pt_fmt pt_fmt_arm_s1[3]; /* granule 4K, 16K, 64K */
extern const struct pt_fmt pt_fmt_arm_s2[3];
extern const struct pt_fmt pt_fmt_x86_64;
extern const struct pt_fmt pt_fmt_vtd_ss;

/* What a format's decode says of a descriptor (else -enum pt_fault). */
enum { PTD_TABLE = 1, PTD_LEAF = 2 };

static inline uint64_t ptt_min(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* ---- Descriptor atomics: live tables are read and written whole ---- */
static inline uint64_t pte_load(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

/*
 * Walks read relaxed: each load's address depends on the one before, which
 * orders them (as READ_ONCE page-table walks do), and it lets the compiler
 * keep everything else in registers.
 */
static inline uint64_t pte_read(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static inline void pte_store(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

/* Link a table whose contents are complete. */
static inline void pte_publish(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

/* On failure *old holds the current value. */
static inline bool pte_cas(uint64_t *p, uint64_t *old, uint64_t v)
{
	return __atomic_compare_exchange_n(p, old, v, false, __ATOMIC_RELAXED,
					   __ATOMIC_RELAXED);
}

/* ---- Table memory ---- */
/* Host pointer to the table at @pa, NULL when the accessor has nothing. */
static inline uint64_t *pt_tbl(const struct pt *pt, uint64_t pa, size_t size,
			       bool write)
{
	if (__builtin_expect(pt->mem.ops == NULL, 1))
		return (uint64_t *)(uintptr_t)pa;
	return pt->mem.ops->table(pt->mem.ctx, pa, size, write);
}

/* Zeroed table of @size bytes aligned to @size: pool or accessor. */
int pt_table_alloc(const struct pt *pt, size_t size, uint64_t *pa);
/* Free a table; identity tables must be all zero already (pool rule). */
void pt_table_free(const struct pt *pt, uint64_t pa, size_t size);
/* Zero then free (tables torn down while still holding entries). */
void pt_table_free_dirty(const struct pt *pt, uint64_t pa, size_t size);

/* Reserve room for @n more tables in @g; -ENOMEM leaves @g as it was. */
int pt_gather_reserve(struct pt_gather *g, unsigned n);
/* Append (room reserved beforehand). */
static inline void pt_gather_add(struct pt_gather *g, uint64_t pa,
				 uint32_t size)
{
	g->pa[g->count] = pa;
	g->size[g->count] = size;
	g->count++;
}

/* Bytes of one table at @level (the start table may be smaller/larger). */
static inline size_t pt_table_bytes(const struct pt *pt, unsigned level)
{
	if (level == pt->start_level)
		return pt->root_size;
	return (size_t)1 << pt->cfg.granule_shift;
}

/* Bytes allocated for the root: at least one granule. */
static inline size_t pt_root_alloc_bytes(const struct pt *pt)
{
	size_t g = (size_t)1 << pt->cfg.granule_shift;

	return pt->root_size > g ? pt->root_size : g;
}

/* ---- Pool (pool.c) ---- */
#define PT_POOL_MIN_SHIFT 12
#define PT_POOL_MAX_SHIFT 20 /* 16 concatenated 64K tables */

/* Zeroed, size-aligned block; @size a power of two in [4K, 1M]. */
void *pt_pool_alloc(size_t size);
/* Return a block whose contents are all zero. */
void pt_pool_free(void *p, size_t size);

/* Set bits [first, last] of @bitmap. */
void pt_bitmap_set(uint64_t *bitmap, uint64_t first, uint64_t last);

#endif
