/* SPDX-License-Identifier: MIT */
/*
 * The reverse map of a shadow's data pages (shadow.h): which shadow IOVAs
 * were composed through which guest physical addresses, so that a parent
 * unmap drops exactly the shadow entries that point into the GPAs it
 * takes away, without scanning the shadow.
 *
 * One interval per contiguous composed run (IOVA run -> GPA run of the
 * same length), held twice: by IOVA (a sync or fill trims and splits the
 * runs it replaces, and merges a new run with its neighbours when both
 * address ranges continue) and by GPA (a parent unmap looks up the runs
 * it overlaps). Both are lib/util/itree trees of disjoint ranges; a run
 * whose GPAs overlap another's (the guest maps one GPA at two IOVAs) sits
 * on a list instead, which a lookup by GPA scans. A contiguous mapping
 * is one run however large (80 bytes); the worst case, no two pages
 * contiguous in both spaces, is one run per page.
 */
#ifndef IONEST_DRIVERS_SHADOW_RMAP_H
#define IONEST_DRIVERS_SHADOW_RMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/itree.h"

struct shadow_run {
	struct itree_node iova;
	/* In the GPA tree, or (height == -1) on the alias list, linked
	 * through left (next) and right (previous). */
	struct itree_node gpa;
};

struct shadow_rmap {
	struct itree iova, gpa;
	struct itree_node *alias; /* gpa nodes of the aliased runs */
	/* The run rmap_covering found last (one-page syncs come in
	 * neighbours); runs are disjoint, so a run holding the range is
	 * the one. Cleared when that run is freed. */
	struct shadow_run *hint;
	size_t count;
	struct shadow_run *spare[2]; /* rmap_reserve's */
};

/* Forget everything (the spare nodes too). */
void rmap_clear(struct shadow_rmap *m);

/* Hold @n (<= 2) nodes so that the next trims and adds needing as many
 * cannot fail: 0 or -ENOMEM. */
int rmap_reserve(struct shadow_rmap *m, unsigned n);

/*
 * Record that [iova, iova + len) is composed through [gpa, gpa + len):
 * the IOVAs must not be in any run (trim them first). 0 or -ENOMEM
 * (nothing recorded: the caller must not keep the shadow entries).
 */
int rmap_add(struct shadow_rmap *m, uint64_t iova, uint64_t gpa, uint64_t len);

/*
 * Forget the IOVAs [start, last]. A run reaching past both ends is split,
 * which needs a node: without one (-ENOMEM) the run's part after @last is
 * forgotten too and [*xstart, *xlast] says which (the caller drops those
 * shadow entries). 0 otherwise.
 */
int rmap_trim(struct shadow_rmap *m, uint64_t start, uint64_t last,
	      uint64_t *xstart, uint64_t *xlast);

/* The run holding all of the IOVAs [start, last], or NULL (remembered
 * as the hint). */
struct shadow_run *rmap_covering(struct shadow_rmap *m, uint64_t start,
				 uint64_t last);

/* GPA of @iova in run @r (which holds it). */
static inline uint64_t rmap_gpa(const struct shadow_run *r, uint64_t iova)
{
	return r->gpa.start + (iova - r->iova.start);
}

/*
 * A run with GPAs in [gstart, glast], or NULL: the IOVAs of the overlap
 * are [*istart, *ilast]. Trimming them away makes progress.
 */
struct shadow_run *rmap_find_gpa(const struct shadow_rmap *m, uint64_t gstart,
				 uint64_t glast, uint64_t *istart,
				 uint64_t *ilast);

size_t rmap_bytes(const struct shadow_rmap *m);

#endif
