// SPDX-License-Identifier: MIT
/*
 * PASID directories and tables (vtd.md §4) and the programming of PASID
 * entries, with the invalidations each change needs (vtd.md §8: "PASID
 * entry change -> PASID-cache PASID-selective + IOTLB (+ device-TLB)").
 *
 * A device's directory has 2^(PDTS+7) 8-byte entries, one per 64 PASIDs,
 * sized for the PASIDs it can use (one page at least: RID_PASID is PASID
 * 0). PASID tables (64 entries of 64 bytes) are allocated when a PASID of
 * theirs is first attached and kept until the device is released.
 *
 * Entry updates, as the architecture allows them:
 *  - not present -> present: every other word first, then word 0 with P,
 *    so the hardware never fetches a half-written entry; nothing can be
 *    cached for a not-present entry, so no invalidation is needed, unless
 *    CAP.CM (caching mode) asks for one on every change.
 *  - present -> present (replace): updated in place, never through a
 *    not-present state, so that a device's DMA sees the old or the new
 *    domain but never a fault. The DID (word 1) is written before the
 *    table pointer (word 0); a fetch racing with the update may combine
 *    the new DID with the old table, so the PASID cache and the IOTLB are
 *    invalidated for both DIDs before the call returns, and anything a
 *    racing fetch cached is dropped (a fill that started before the
 *    invalidation is refused by the hardware).
 *  - present -> not present (blocked): word 0 cleared (P=0), then the
 *    PASID cache, the IOTLB and the device-TLB are invalidated, then the
 *    rest of the entry is cleared.
 */
#include <errno.h>
#include <string.h>

#include "drivers/vtd.h"
#include "util/alloc.h"

#define PASIDS_PER_TABLE 64u
#define PE_WORDS 8

int vtd_pasid_dir_alloc(struct vtd_dev *vd, unsigned bits)
{
	unsigned entries = 128; /* PDTS = 0 */
	uint64_t *table;

	while (bits > 6 && entries < (1u << (bits - 6)))
		entries *= 2;
	vd->pdir = vtd_table_alloc(vd->vi,
				   entries * 8u < 4096 ? 4096 : entries * 8u);
	if (!vd->pdir)
		return -ENOMEM;
	vd->pdir_entries = entries;
	/* The table of RID_PASID exists from the start: attaching the RID
	 * never allocates. */
	table = vtd_table_alloc(vd->vi, 4096);
	if (!table) {
		xfree(vd->pdir);
		vd->pdir = NULL;
		return -ENOMEM;
	}
	vtd_store(&vd->pdir[0], (uint64_t)(uintptr_t)table | VTD_PDE_P);
	return 0;
}

void vtd_pasid_dir_free(struct vtd_dev *vd)
{
	if (!vd->pdir)
		return;
	for (unsigned i = 0; i < vd->pdir_entries; i++) {
		uint64_t de = vd->pdir[i];

		if (de & VTD_PDE_P)
			xfree((void *)(uintptr_t)(de & VTD_PDE_PTP_MASK));
	}
	xfree(vd->pdir);
	vd->pdir = NULL;
}

unsigned vtd_pasid_pdts(const struct vtd_dev *vd)
{
	return (unsigned)__builtin_ctz(vd->pdir_entries) - 7;
}

int vtd_pasid_table_get(struct vtd_dev *vd, uint32_t pasid)
{
	unsigned di = pasid / PASIDS_PER_TABLE;
	uint64_t *table;

	if (di >= vd->pdir_entries)
		return -EINVAL;
	if (vtd_load(&vd->pdir[di]) & VTD_PDE_P)
		return 0;
	table = vtd_table_alloc(vd->vi, 4096);
	if (!table)
		return -ENOMEM;
	/* Zeroed before it is linked: a fetch through the new directory
	 * entry finds not-present PASID entries. */
	vtd_store(&vd->pdir[di], (uint64_t)(uintptr_t)table | VTD_PDE_P);
	return 0;
}

/* The entry of @pasid; its table exists (vtd_pasid_table_get). */
static uint64_t *pe_of(struct vtd_dev *vd, uint32_t pasid)
{
	uint64_t de = vtd_load(&vd->pdir[pasid / PASIDS_PER_TABLE]);
	uint64_t *table = (uint64_t *)(uintptr_t)(de & VTD_PDE_PTP_MASK);

	return table + (size_t)PE_WORDS * (pasid % PASIDS_PER_TABLE);
}

/* Device-TLB of what @pasid of @vd translated, all of it. */
static void devtlb_all(struct vtd_dev *vd, uint32_t pasid)
{
	if (!vd->dev->ats_usable)
		return;
	if (pasid == VTD_RID_PASID)
		vtd_qi_devtlb(vd->vi, (uint16_t)vd->dev->rid, false, 0, 0, 0,
			      true);
	else
		vtd_qi_devtlb(vd->vi, (uint16_t)vd->dev->rid, true, pasid, 0, 0,
			      true);
}

static void pe_sync(struct vtd_inst *vi)
{
	/* A queue error is counted by the queue code; the entry is what
	 * the hardware uses either way, so the bookkeeping follows it. */
	(void)vtd_qi_sync(vi);
}

void vtd_pe_install(struct vtd_dev *vd, uint32_t pasid, struct vtd_dom *dom)
{
	struct vtd_inst *vi = vd->vi;
	uint64_t *pe = pe_of(vd, pasid);
	/* A nested domain: the parent's second stage under the guest's
	 * first stage (vtd.md §11: SSPTPTR, AW, DID, SSADE of the parent;
	 * FSPTPTR, FSPM, SRE/WPE/EAFE from the stage-1 data; PGTT 011). */
	struct vtd_dom *ss = dom->parent ? dom->parent : dom;
	unsigned pgtt = dom->parent ? VTD_PGTT_NESTED : VTD_PGTT_SS;
	uint64_t q0, q1, q2 = dom->parent ? dom->s1_q2 : 0;
	uint16_t old_did, did;

	/* vtd.md §4: second stage only (PGTT 010), its root and width,
	 * the domain's DID; SSADE while dirty tracking is on. */
	q0 = ss->pt.root | (uint64_t)vi->aw << VTD_PE_AW_SHIFT |
	     (uint64_t)pgtt << VTD_PE_PGTT_SHIFT | VTD_PE_P |
	     (ss->dirty ? VTD_PE_SSADE : 0);
	q1 = ss->did | ((vi->ecap & VTD_ECAP_SMPWCS) ? VTD_PE_PWSNP : 0);
	if (dom->sh) {
		/* Software nesting: first stage only, over the shadow. */
		vtd_shadow_pe(dom, &q0, &q1, &q2);
		pgtt = VTD_PGTT_FS;
	}
	did = VTD_PE_DID(q1);

	if (!(vtd_load(&pe[0]) & VTD_PE_P)) {
		vtd_store(&pe[1], q1);
		vtd_store(&pe[2], q2);
		for (unsigned i = 3; i < PE_WORDS; i++)
			vtd_store(&pe[i], 0);
		vtd_store(&pe[0], q0);
		if (vi->cap & VTD_CAP_CM) {
			vtd_qi_pc_pasid(vi, did, pasid);
			vtd_qi_iotlb_dom(vi, did);
			pe_sync(vi);
		}
		return;
	}
	old_did = VTD_PE_DID(vtd_load(&pe[1]));
	/* Word 2 (first stage) is read only with PGTT=011 or 001: written
	 * before word 0 turns the first stage on, after word 0 turns it
	 * off, so a racing fetch never walks a first stage that is not one
	 * of the two. */
	if (pgtt == VTD_PGTT_NESTED || pgtt == VTD_PGTT_FS)
		vtd_store(&pe[2], q2);
	vtd_store(&pe[1], q1);
	vtd_store(&pe[0], q0);
	if (pgtt != VTD_PGTT_NESTED && pgtt != VTD_PGTT_FS)
		vtd_store(&pe[2], q2);
	vtd_qi_pc_pasid(vi, old_did, pasid);
	vtd_qi_iotlb_dom(vi, old_did);
	if (old_did != did) {
		vtd_qi_pc_pasid(vi, did, pasid);
		vtd_qi_iotlb_dom(vi, did);
	}
	devtlb_all(vd, pasid);
	pe_sync(vi);
}

void vtd_pe_clear(struct vtd_dev *vd, uint32_t pasid)
{
	struct vtd_inst *vi = vd->vi;
	uint64_t *pe = pe_of(vd, pasid);
	uint16_t did;

	if (!(vtd_load(&pe[0]) & VTD_PE_P))
		return;
	did = VTD_PE_DID(vtd_load(&pe[1]));
	vtd_store(&pe[0], 0);
	/* Second-stage entries go with IOTLB invalidations by DID; PASID-
	 * based IOTLB invalidations leave them (vtd.md §7). */
	vtd_qi_pc_pasid(vi, did, pasid);
	vtd_qi_iotlb_dom(vi, did);
	devtlb_all(vd, pasid);
	pe_sync(vi);
	for (unsigned i = 1; i < PE_WORDS; i++)
		vtd_store(&pe[i], 0);
}

void vtd_pe_set_ssade(struct vtd_dev *vd, uint32_t pasid, bool on)
{
	struct vtd_inst *vi = vd->vi;
	uint64_t *pe = pe_of(vd, pasid);
	uint64_t q0 = vtd_load(&pe[0]);
	uint16_t did = VTD_PE_DID(vtd_load(&pe[1]));

	if (!(q0 & VTD_PE_P) || !!(q0 & VTD_PE_SSADE) == on)
		return;
	vtd_store(&pe[0], on ? q0 | VTD_PE_SSADE : q0 & ~VTD_PE_SSADE);
	/* Translations cached with the old A/D rule (a writable entry that
	 * would not set D) must go. */
	vtd_qi_pc_pasid(vi, did, pasid);
	vtd_qi_iotlb_dom(vi, did);
	devtlb_all(vd, pasid);
}
