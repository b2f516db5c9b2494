// SPDX-License-Identifier: MIT
/*
 * Stage-1 walk cache: for a (stream, VA block covered by one last-level
 * table) it keeps the host address of that table and what the table
 * descriptors above it deny (APTable, PXNTable, UXNTable). A TLB miss whose
 * block is cached then costs one descriptor read instead of a full walk -
 * in nested configurations, instead of a walk whose every level goes
 * through stage 2. Hardware keeps such intermediate walk entries too.
 *
 * Only the plain case is served from here: a valid page descriptor with
 * AF set, an output inside the IPS and no hardware update to make. Every
 * other case (invalid, reserved, AF=0, a write to a clean page under HD,
 * 52-bit outputs of the 64K granule) walks in full through the page-table
 * engine, which reports the precise fault or makes the update.
 *
 * An entry also carries, in the low bits of the (granule-aligned) table
 * address, the configuration bits its leaves need (IPS, WXN, EL2 without
 * ASIDs, stage 2 on; SMMU_WC_*): with them, and the VMID and ASID
 * tags, a TLB miss of the stream can be served without the configuration
 * cache (fastpath.c). That is sound for the same reason stream-keyed TLB
 * hits are: every CFGI_* of the stream drops its entries.
 *
 * Entries are tagged like stage-1 TLB entries (VMID, ASID, stream) and
 * invalidated by the stage-1 TLBIs that do not say Leaf=1, by CFGI_* of
 * the stream, and - since nested entries hold a host address obtained
 * through stage 2 - by every stage-2 invalidation of their VMID (cmdq.c).
 */
#include "hw/smmuv3/walkc.h"

/* Table descriptor bits (spec/smmuv3.md §6.3). */
#define T_PXN (1ull << 59)
#define T_UXN (1ull << 60)
#define T_AP0 (1ull << 61)
#define T_AP1 (1ull << 62)

static bool canonical(uint64_t va)
{
	return (uint64_t)((int64_t)(va << 8) >> 8) == va;
}

static uint32_t key(const struct ionest_xlate_req *r)
{
	return r->ssid_valid ? r->ssid | HW_TLB_SSID_VALID : 0;
}

bool smmu_s1wc_lookup(struct smmu_xctx *x, uint64_t va, unsigned half,
		      struct smmu_stage *o)
{
	const struct smmu_cfg *c = &x->cfg;
	unsigned g = c->gran[half], span = g + (g - 3);
	struct smmu_s1leaf l;
	uint64_t tbl;
	uint32_t flags;

	if (!canonical(va) || c->ias[half] <= span ||
	    !hw_tlb_probe_fast(&x->s->s1wc, x->req->sid, key(x->req), va, span,
			       &tbl, &flags) ||
	    !smmu_s1wc_read_leaf(x->s, tbl, flags, va, span, &l))
		return false;
	/* A write to a writable-clean page with HD: the walk marks it dirty
	 * (the fast path gets here through its permission check). */
	if ((l.desc & (SMMU_D_DBM | SMMU_D_AP2)) == (SMMU_D_DBM | SMMU_D_AP2) &&
	    c->hd && (x->req->access & IONEST_ACCESS_WRITE))
		return false;
	*o = l.st;
	return true;
}

void smmu_s1wc_fill(struct smmu_xctx *x, uint64_t va, unsigned half,
		    const struct pt_walk *w, uint64_t gen)
{
	const struct smmu_cfg *c = &x->cfg;
	struct smmu *s = x->s;
	unsigned g = c->gran[half], span = g + (g - 3);
	const struct pt_walk_level *leaf;
	uint64_t tbl, deny = 0;
	struct hw_tlb_entry e;

	/* 52-bit outputs of the 64K granule (OA[51:48] in bits [15:12])
	 * are never served from here: the full walk decodes them. */
	if (w->level != 0 || w->nrec < 2 || !canonical(va) ||
	    c->ias[half] <= span || (g == 16 && c->ips > 48))
		return;
	leaf = &w->rec[w->nrec - 1];
	tbl = leaf->table;
	if (c->s2) {
		/* The table's host address, as the walk just cached it. */
		if (!hw_tlb_lookup(&s->wc, HW_TLB_SID_S2WC, c->vmid, tbl, &e))
			return;
		tbl = e.pa + (tbl & ((1ull << e.shift) - 1));
	}
	/* A last-level table is granule-aligned; its low bits carry the
	 * configuration the leaf needs. */
	if (tbl & SMMU_WC_CFG)
		return;
	tbl |= c->ips | (c->wxn ? SMMU_WC_WXN : 0) |
	       (c->el2 == 1 ? SMMU_WC_GLOBAL : 0) | (c->s2 ? SMMU_WC_S2 : 0);
	if (!c->had[half]) {
		for (unsigned i = 0; i + 1 < w->nrec; i++) {
			uint64_t t = w->rec[i].desc;

			deny |= ((t & T_PXN) ? SMMU_P_PX : 0) |
				((t & T_UXN) ? SMMU_P_UX : 0) |
				((t & T_AP0) ? SMMU_P_U : 0) |
				((t & T_AP1) ? SMMU_P_W : 0);
		}
	}
	e = (struct hw_tlb_entry){
		.va = (va >> span) << span,
		.pa = tbl,
		.sid = x->req->sid,
		.ssid = key(x->req),
		.dom = c->el2 ? 0 : c->vmid,
		.shift = (uint8_t)span,
		.flags = (uint8_t)(HW_TLB_S1 | deny),
		.asid = c->el2 ? SMMU_ASID_EL2 | c->asid : c->asid,
	};
	hw_tlb_insert(&s->s1wc, &e, gen);
}
