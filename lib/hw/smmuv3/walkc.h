/* SPDX-License-Identifier: MIT */
/*
 * The stage-1 walk cache's entry format and its leaf read, shared by
 * walkc.c (fills, the full path's lookup) and fastpath.c (TLB misses served
 * without the configuration cache).
 *
 * An entry lives in smmu.s1wc under (StreamID, SubstreamID key, the VA
 * block of 1 << span that one last-level table covers; span = g + (g - 3)
 * for granule 1 << g):
 *   pa          the last-level table (bus address, granule-aligned), its
 *               low bits holding the SMMU_WC_* configuration bits;
 *   flags       HW_TLB_S1 | the SMMU_P_* bits the table descriptors above
 *               deny (APTable, PXNTable, UXNTable);
 *   dom, asid   the VMID and ASID tags the leaf's TLB entry gets.
 */
#ifndef IONEST_HW_SMMU_WALKC_H
#define IONEST_HW_SMMU_WALKC_H

#include "hw/smmuv3/smmu.h"

#define SMMU_WC_IPS 0x3fu /* CD.IPS, in bits */
#define SMMU_WC_WXN (1u << 7)
#define SMMU_WC_GLOBAL (1u << 8) /* EL2 without E2H: no ASIDs */
#define SMMU_WC_S2 (1u << 9) /* the output goes through stage 2 */
#define SMMU_WC_CFG 0xfffu

/* VMSAv8-64 stage-1 descriptor bits (spec/smmuv3.md §6.2-§6.3). */
#define SMMU_D_AP1 (1ull << 6)
#define SMMU_D_AP2 (1ull << 7)
#define SMMU_D_AF (1ull << 10)
#define SMMU_D_NG (1ull << 11)
#define SMMU_D_DBM (1ull << 51)
#define SMMU_D_PXN (1ull << 53)
#define SMMU_D_UXN (1ull << 54)

/* Granule shift of an entry's block size. */
static inline unsigned smmu_s1wc_gran(unsigned span)
{
	return (span + 3) / 2;
}

/* SMMU_P_* of a page descriptor, indexed by AP[2:1] in bits 0-1 and
 * UXN:PXN in bits 2-3. */
#define SMMU_LP(i)                                                        \
	(SMMU_P_R | (((i)&2) ? 0 : SMMU_P_W) | (((i)&1) ? SMMU_P_U : 0) | \
	 (((i)&4) ? 0 : SMMU_P_PX) | (((i)&8) ? 0 : SMMU_P_UX))
static const uint8_t smmu_leaf_perm[16] = {
	SMMU_LP(0),  SMMU_LP(1),  SMMU_LP(2),  SMMU_LP(3),
	SMMU_LP(4),  SMMU_LP(5),  SMMU_LP(6),  SMMU_LP(7),
	SMMU_LP(8),  SMMU_LP(9),  SMMU_LP(10), SMMU_LP(11),
	SMMU_LP(12), SMMU_LP(13), SMMU_LP(14), SMMU_LP(15),
};
#undef SMMU_LP

/*
 * Read the leaf of @va in the table of an entry (@tbl: its pa word,
 * @flags: its flags; blocks of 1 << @span). Only the plain case
 * is served: a valid page descriptor with AF set and an output inside the
 * IPS; false for anything else (the full walk then reports the precise
 * fault). A writable-clean (DBM) page reads as read-only here; whoever
 * serves a write from it must first let a walk with HD mark it dirty.
 */
static inline __attribute__((always_inline)) bool
smmu_s1wc_read_leaf(struct smmu *s, uint64_t tbl, uint32_t flags, uint64_t va,
		    unsigned span, struct smmu_s1leaf *l)
{
	const unsigned g = smmu_s1wc_gran(span);
	const uint32_t cfg = (uint32_t)tbl & SMMU_WC_CFG;
	const uint64_t *dp;
	uint64_t d, oa;

	hw_count(&s->hw, hw_walk_read);
	dp = hw_bus_map(&s->hw,
			(tbl - cfg) + (((va >> g) << 3) & ((1ull << g) - 1)), 8,
			false);
	if (!dp)
		return false;
	d = hw_read64(dp);
	oa = d & SMMU_MASK(47, 0) & ~((1ull << g) - 1);
	if ((d & (SMMU_D_AF | 3)) != (SMMU_D_AF | 3) ||
	    oa >> (cfg & SMMU_WC_IPS))
		return false;
	l->st.oa = oa | (va & ((1ull << g) - 1));
	l->st.perm = smmu_leaf_perm[((d >> 6) & 3) | ((d >> 51) & 12)] &
		     ~(flags & SMMU_P_ALL);
	l->st.shift = (uint8_t)g;
	l->st.global = !(d & SMMU_D_NG) || (cfg & SMMU_WC_GLOBAL);
	l->desc = d;
	l->cfg = cfg;
	return true;
}

#endif
