/* SPDX-License-Identifier: MIT */
/*
 * Software nesting (DESIGN.md "Hardware nesting and software nesting"): a
 * shadow table composed from a guest's stage 1 and the parent's stage 2,
 * which a driver programs as a single stage where the hardware cannot walk
 * both (or the instance's nesting mode is "shadow"). A driver-side helper
 * shared by the SMMUv3 and VT-d drivers; it never touches the hardware.
 *
 * One struct shadow per guest stage-1 table tree (a VT-d nested domain, an
 * SMMUv3 guest CD). It holds:
 *   - sh: the shadow table, host memory, in the model's single-stage format
 *     (x86-64 first stage for VT-d, VMSAv8-64 stage 1 for SMMUv3), mapping
 *     guest IOVA -> host address. Leaves are never larger than either the
 *     stage-1 or the stage-2 leaf they come from; their permissions are
 *     what the driver's compose() makes of stage 1 AND stage 2.
 *   - s1: the guest's stage 1, attached at its root GPA, read through an
 *     accessor that translates every table address with the parent's
 *     stage-2 table (pt_walk on host tables): the composition never reads
 *     guest memory the parent does not map readable.
 *   - tables: the reverse map of the guest's table pages, an interval tree
 *     of table GPA ranges, each with the hull of IOVAs composed through it.
 *     A parent unmap of a table page drops that IOVA hull from the shadow.
 *   - runs: the reverse map of data pages (shadow_rmap.h), one interval
 *     per contiguous composed run (IOVA run -> GPA run); a parent unmap
 *     drops exactly the shadow entries composed through its GPAs.
 *
 * Updates:
 *   shadow_sync()   recompose exactly [start, last] (widened to whole
 *                   shadow leaves it cuts) from the guest's tables now;
 *                   called on stage-1 invalidations.
 *   shadow_fill()   install one composed leaf found by the driver's fault
 *                   path (a guest mapping added without invalidation, a
 *                   first write to a clean page): hardware does not cache
 *                   invalid entries, so such a mapping must work at once.
 *   shadow_drop_*() remove what a parent unmap takes away.
 * After each, the driver invalidates its own TLB for the shadow's tag and
 * waits for DMA in flight before it frees the tables the update emptied
 * (shadow_take_tables / shadow_free_tables).
 *
 * Locking: every call but shadow_walk_mem()'s walks needs s->lock, which a
 * driver takes around its table update and cache invalidation; the DMA
 * fault path only try-locks it (-EAGAIN otherwise). pt_walk by the hardware
 * model runs concurrently with the updates, as the pt library allows.
 */
#ifndef IONEST_DRIVERS_SHADOW_H
#define IONEST_DRIVERS_SHADOW_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "drivers/shadow_rmap.h"
#include "pt/pt.h"
#include "util/itree.h"

struct shadow;

#define SHADOW_TCACHE 16 /* a power of two */

/* Shadow PT_PROT_* for a guest leaf with stage-1 PT_PERM_* @s1 over a
 * stage-2 leaf with @s2; false: no shadow entry (the fault path decides
 * what the access gets). */
typedef bool (*shadow_compose_fn)(const struct shadow *s, uint32_t s1,
				  uint32_t s2, uint32_t *prot);

struct shadow_cfg {
	struct pt_cfg s1; /* the guest's stage-1 format */
	uint64_t s1_root; /* GPA of its start table */
	struct pt_cfg sh; /* the shadow's (host tables: oas >= 48) */
	const struct pt *s2; /* the parent's stage 2 (host tables) */
	/* Stage-2 input bits the hardware translates (GPAs at or above
	 * 1 << s2_bits fault before the walk). */
	uint8_t s2_bits;
	shadow_compose_fn compose;
	void *priv; /* the driver's */
};

/* A composed run a sync mapped, for the reverse map. */
struct shadow_pend {
	uint64_t iova, gpa, len;
};

struct shadow {
	struct pt sh;
	struct pt shw; /* the same tables, for the inlined host-table walk */
	struct pt s1;
	const struct pt *s2;
	uint8_t s2_bits;
	shadow_compose_fn compose;
	void *priv;
	pthread_mutex_t lock;
	struct itree tables; /* struct shadow_table by table GPA */
	struct shadow_rmap runs; /* data pages: shadow_rmap.h */
	void *iter; /* the sync in progress (its accessor's context) */
	/* The runs the sync in progress mapped (kept between syncs). */
	struct shadow_pend *pend;
	size_t npend, pend_cap;
	/* Guest table pages the syncs read lately, direct-mapped by GPA:
	 * their host address and reverse-map node (a parent unmap or a
	 * reverse-map change empties it). */
	struct shadow_tcache {
		uint64_t gpa, hpa;
		void *node;
	} tcache[SHADOW_TCACHE];
	unsigned tcache_next;
	/* The guest walk of the last one-page sync: per level the host
	 * address of the descriptor read (of the leaf table at the last
	 * level), what it read and the table's reverse-map node. Valid
	 * while the tcache is (a parent unmap empties both). */
	struct shadow_s1path {
		uint64_t iova, gpa, leaf;
		uint32_t perm;
		unsigned nrec;
		bool valid;
		uint64_t *ptr[PT_MAX_LEVELS];
		uint64_t desc[PT_MAX_LEVELS];
		void *node[PT_MAX_LEVELS];
	} s1p;
	/* The shadow's last-level table of the last one-page sync (its
	 * IOVA >> (2 * granule shift - 3)), until that table is freed. */
	uint64_t *slot_tbl;
	uint64_t slot_region;
	/* Tables emptied by updates (shadow_take_tables). */
	uint64_t deferred; /* linked through their first word */
	bool destroying;
	size_t table_bytes; /* shadow table memory in use */
	/* Statistics (under lock). */
	uint64_t syncs, fills, drops;
	uint64_t syncs_same; /* one-page syncs that found nothing changed */
};

int shadow_init(struct shadow *s, const struct shadow_cfg *cfg);
/* Free the shadow table and the reverse map. Nothing may walk it. */
void shadow_fini(struct shadow *s);

/*
 * Recompose [start, last] (inclusive) of the shadow from the guest's
 * stage 1 and the parent's stage 2 as they are now. *istart, *ilast get the
 * IOVA range whose translations changed (the caller invalidates it).
 * Entries the guest does not map, or that the stage-2 does not map
 * readable, are left out. -ENOMEM: the shadow is left without the entries
 * of the range (still correct: the fault path fills them).
 */
int shadow_sync(struct shadow *s, uint64_t start, uint64_t last,
		uint64_t *istart, uint64_t *ilast);

/* Install the composed leaf [iova, iova + 2^shift) -> hpa with PT_PROT_*
 * @prot, replacing whatever shadow leaf covers @iova. The leaf is recorded
 * in the reverse maps through the guest's tables as they are now; -EAGAIN
 * (nothing installed) if they no longer lead to @hpa, or if entries
 * composed from other GPAs are in the way (they wait for the guest's
 * invalidation). */
int shadow_fill(struct shadow *s, uint64_t iova, uint64_t hpa, unsigned shift,
		uint32_t prot);

/*
 * A parent unmap of GPAs [gstart, glast], before the parent's tables
 * change: drop every shadow entry composed through a guest table page in
 * the range, and every shadow entry composed through a GPA in it (the
 * reverse map's runs: no scan of the shadow). Widens [*istart, *ilast] (start
 * it at UINT64_MAX, 0) to the IOVAs dropped.
 */
void shadow_drop_parent(struct shadow *s, uint64_t gstart, uint64_t glast,
			uint64_t *istart, uint64_t *ilast);
/* Drop everything (e.g. when the parent's ranges cannot be collected). */
void shadow_drop_all(struct shadow *s, uint64_t *istart, uint64_t *ilast);

/*
 * Tables the updates emptied stay readable (their first word, a link to
 * the next one, reads as an invalid descriptor) until the hardware's caches
 * were invalidated and DMA in flight drained: take them under s->lock
 * before invalidating, free them after inflight_wait().
 */
uint64_t shadow_take_tables(struct shadow *s);
void shadow_free_tables(struct shadow *s, uint64_t list);

/*
 * The guest's stage 1 as the hardware would walk it nested, for a driver's
 * fault path: pt_walk(&w->s1, ...) reads every descriptor through the
 * parent's stage 2 (read permission; a write-back needs write permission),
 * and on a failure sets what the stage-2 translation found.
 */
struct shadow_walk {
	struct pt s1;
	const struct shadow *s;
	unsigned s2_flags; /* PT_WALK_* for stage-2 walks (A/D updates) */
	/* Set when a table access failed in stage 2: */
	bool faulted;
	bool beyond; /* GPA beyond s2_bits */
	bool write; /* the failed access was a write-back */
	uint64_t fault_gpa;
	struct pt_walk s2w; /* the stage-2 walk (fault, level, perm) */
};
void shadow_walk_init(struct shadow_walk *w, const struct shadow *s,
		      unsigned s2_flags);

/* Bytes of shadow table memory in use (pool tables of sh), and of the
 * reverse map's nodes. */
size_t shadow_table_bytes(const struct shadow *s);
size_t shadow_rmap_bytes(const struct shadow *s);

#endif
