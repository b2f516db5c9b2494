// SPDX-License-Identifier: MIT
/*
 * Paging-structure cache (the PDE cache of the architecture): for a
 * request stream and a 2 MB region of its input space, the host address of
 * the last-level table and what the levels above it allow. An IOTLB miss
 * that hits here reads one entry instead of walking: in nested mode the
 * table address has already been through the second stage, and the output
 * goes through the stage-2 walk cache.
 *
 * Entries live in a struct hw_tlb keyed like the IOTLB (source-id, PASID or
 * none; va = 2 MB block; shift 21), tagged with DID and PASID, flags:
 *   IONEST_ACCESS_READ/WRITE/EXEC  upper levels allow it (first stage: for
 *                                  the privilege it was filled for; second
 *                                  stage alone: EXEC is ERE without SSEE)
 *   IONEST_ACCESS_PRIV             first stage: filled for a supervisor
 *                                  request; second stage alone: SRE
 *   HW_TLB_S1                      first-stage tables (FS or nested)
 *   HW_TLB_S2                      second stage: the output of a nested
 *                                  walk is a GPA; alone, SS-only tables
 *   VTD_PSC_WFORCE (with S1)       supervisor write with WPE=0
 *   VTD_PSC_SSADE (S2 alone)       A/D bits in use
 * They go with the IOTLB entries of the same scope, except for PASID-based
 * page-selective invalidations with IH=1 (leaf-only change). Entries under
 * EAFE are not made (EA must be set on every level).
 *
 * The fast path only finishes what the full walk would finish identically:
 * a present, accessed, non-reserved entry that grants the access (and is
 * dirty for a write where dirty bits are kept). Anything else walks in
 * full, which also faults. It is the steady-state IOTLB miss
 * (performance.md T2): one PDE-cache probe, one entry read, in nested mode
 * one stage-2 walk-cache probe, the result, and the IOTLB fill into the
 * set the hit path probed.
 */
#include "hw/vtd/vtd.h"

#define X86_P (1ull << 0)
#define X86_RW (1ull << 1)
#define X86_US (1ull << 2)
#define X86_XD (1ull << 63)
#define X86_ADDR 0x000ffffffffff000ull
#define SS_R (1ull << 0)
#define SS_W (1ull << 1)
#define SS_A (1ull << 8)
#define SS_D (1ull << 9)

void vtd_psc_prepare(const struct vtd_cfg *cfg, const struct pt_walk_level *rec,
		     unsigned nrec, uint32_t access, struct vtd_xl *o)
{
	bool priv = access & IONEST_ACCESS_PRIV;
	uint64_t all = X86_RW | X86_US, xd = 0;
	uint8_t fl;

	o->psc_flags = 0;
	if (nrec < 2 || rec[nrec - 1].level != 0 || (cfg->flags & VTD_CFG_EAFE))
		return;
	for (unsigned i = 0; i + 1 < nrec; i++) {
		all &= rec[i].desc;
		xd |= rec[i].desc & X86_XD;
	}
	if (!priv && !(all & X86_US))
		return;
	fl = IONEST_ACCESS_READ | HW_TLB_S1;
	if (priv && !(cfg->flags & VTD_CFG_WPE))
		fl |= IONEST_ACCESS_WRITE | VTD_PSC_WFORCE;
	else if (all & X86_RW)
		fl |= IONEST_ACCESS_WRITE;
	if ((cfg->flags & VTD_CFG_ERE) && !xd)
		fl |= IONEST_ACCESS_EXEC;
	if (priv)
		fl |= IONEST_ACCESS_PRIV;
	if (cfg->pgtt == VTD_PGTT_NESTED)
		fl |= HW_TLB_S2;
	o->psc_flags = fl;
}

void vtd_psc_prepare_ss(const struct vtd_cfg *cfg,
			const struct pt_walk_level *rec, unsigned nrec,
			struct vtd_xl *o)
{
	uint64_t all = SS_R | SS_W;

	o->psc_flags = 0;
	/* Execute permission under SSEE depends on X at every level: those
	 * streams walk. */
	if (nrec < 2 || rec[nrec - 1].level != 0 ||
	    (cfg->flags & (VTD_CFG_ERE | VTD_CFG_SSEE)) ==
		    (VTD_CFG_ERE | VTD_CFG_SSEE))
		return;
	for (unsigned i = 0; i + 1 < nrec; i++)
		all &= rec[i].desc;
	o->psc_flags = HW_TLB_S2 | ((all & SS_R) ? IONEST_ACCESS_READ : 0) |
		       ((all & SS_W) ? IONEST_ACCESS_WRITE : 0) |
		       ((cfg->flags & VTD_CFG_SRE) ? IONEST_ACCESS_PRIV : 0) |
		       ((cfg->flags & VTD_CFG_ERE) ? IONEST_ACCESS_EXEC : 0) |
		       ((cfg->flags & VTD_CFG_SSADE) ? VTD_PSC_SSADE : 0);
}

void vtd_psc_fill(struct vtd *v, const struct ionest_xlate_req *req,
		  uint32_t key, const struct vtd_cfg *cfg,
		  const struct vtd_xl *xl, uint64_t gen)
{
	struct hw_tlb_entry e = {
		.va = (req->iova >> 21) << 21,
		.pa = xl->psc_table,
		.sid = req->sid,
		.ssid = key,
		.dom = cfg->did,
		.shift = 21,
		.flags = xl->psc_flags,
		.asid = cfg->pasid,
	};

	if (xl->psc_flags && xl->psc_table)
		hw_tlb_insert(&v->psc, &e, gen);
}

/* A second-stage-only leaf read through the cache: permissions of the
 * levels above (@fl) folded with the leaf's R/W; X as the walk grants it
 * without SSEE (streams with SSEE and ERE are not cached): ERE's. Execute
 * requests are left to the walk. */
static inline bool psc_ss(const struct vtd *v, uint32_t fl, uint64_t pte,
			  uint32_t access, uint64_t *oa, uint32_t *perm)
{
	bool ad = fl & VTD_PSC_SSADE;
	uint32_t p = 0;

	if ((fl & IONEST_ACCESS_READ) && (pte & SS_R))
		p |= IONEST_ACCESS_READ;
	if ((fl & IONEST_ACCESS_WRITE) && (pte & SS_W) && (!ad || (pte & SS_D)))
		p |= IONEST_ACCESS_WRITE;
	if ((ad && !(pte & SS_A)) || (pte & v->oa_beyond) ||
	    (access & (IONEST_ACCESS_READ | IONEST_ACCESS_WRITE)) & ~p)
		return false;
	*oa = pte & X86_ADDR;
	*perm = p | (fl & IONEST_ACCESS_EXEC);
	return true;
}

/* A first-stage leaf: U/S, R/W (or WPE=0 supervisor), XD, A, D. */
static inline bool psc_fs(const struct vtd *v, uint32_t fl, uint64_t pte,
			  uint32_t access, uint64_t *oa, uint32_t *perm)
{
	bool w;

	if ((pte & (X86_P | VTD_FS_A)) != (X86_P | VTD_FS_A) ||
	    (pte & v->oa_beyond))
		return false;
	if (!(access & IONEST_ACCESS_PRIV) && !(pte & X86_US))
		return false;
	w = (fl & VTD_PSC_WFORCE) ||
	    ((fl & IONEST_ACCESS_WRITE) && (pte & X86_RW));
	w = w && (pte & VTD_FS_D);
	if ((access & IONEST_ACCESS_WRITE) && !w)
		return false;
	*oa = pte & X86_ADDR;
	*perm = IONEST_ACCESS_READ | (w ? IONEST_ACCESS_WRITE : 0) |
		((fl & IONEST_ACCESS_EXEC) && !(pte & X86_XD) ?
			 IONEST_ACCESS_EXEC :
			 0);
	return true;
}

/* The nested output GPA @gpa through the stage-2 walk cache (tag @did):
 * the smallest block size in use is probed inline, with its offset mask
 * known before the entry is read; the rest out of line. */
static inline bool psc_s2(struct vtd *v, uint16_t did, uint64_t gpa,
			  uint64_t *hpa)
{
	uint64_t shifts = __atomic_load_n(&v->s2wc.shifts, __ATOMIC_RELAXED);
	uint64_t out, attr;
	unsigned sh;
	int r;

	if (!shifts)
		return false;
	sh = (unsigned)__builtin_ctzll(shifts);
	r = hw_tlb_probe_once(&v->s2wc, HW_TLB_SID_S2WC, did, gpa, sh, &out,
			      &attr);
	if (__builtin_expect(r > 0, 1)) {
		*hpa = out + (gpa & ((1ull << sh) - 1));
		return true;
	}
	if (!r)
		shifts &= shifts - 1;
	if (!shifts || !hw_tlb_find_sizes(&v->s2wc, HW_TLB_SID_S2WC, did, gpa,
					  shifts, &out, &attr))
		return false;
	*hpa = out + (gpa & ((1ull << hw_tlb_attr_shift(attr)) - 1));
	return true;
}

/*
 * The PDE-cache part of a miss: true with *res filled and the IOTLB
 * filled (into @tset if not NULL) when the cache names the last-level
 * table and its entry, and the walk caches, give the full answer; false,
 * with nothing changed but counters, when the walk must run.
 */
static inline __attribute__((always_inline)) bool
psc_serve(struct vtd *v, const struct ionest_xlate_req *req, uint32_t access,
	  uint64_t tgen, struct hw_tlb_set *tset, struct ionest_xlate_res *res)
{
	const uint64_t iova = req->iova;
	const uint64_t k = hw_tlb_key(
		req->sid, req->ssid_valid ? req->ssid | HW_TLB_SSID_VALID : 0);
	const uint64_t mix = hw_tlb_mix(k);
	uint64_t tbl, attr, pte, oa;
	const uint64_t *p;
	uint32_t fl, perm;
	bool fs, nested;

	/* Every PDE-cache entry has size 2 MB: one probe. */
	if (hw_tlb_probe_set(hw_tlb_set_at(&v->psc, mix, iova, 21), k, iova, 21,
			     &tbl, &attr) <= 0)
		return false;
	fl = hw_tlb_attr_flags(attr);
	fs = fl & HW_TLB_S1;
	nested = fs && (fl & HW_TLB_S2);
	/* First stage filled for the other privilege, a supervisor request
	 * to a second stage alone without SRE (the walk faults it, 0x5D), or
	 * a nested write (the stage-2 dirty state is not cached): walk. */
	if ((fs &&
	     (fl & IONEST_ACCESS_PRIV) != (access & IONEST_ACCESS_PRIV)) ||
	    (!fs && (access & ~fl & IONEST_ACCESS_PRIV)) ||
	    (nested && (access & IONEST_ACCESS_WRITE)))
		return false;
	p = hw_bus_map(&v->hw, tbl + 8 * ((iova >> 12) & 511), 8, false);
	if (!p)
		return false;
	pte = hw_read64(p);
	hw_count(&v->hw, hw_walk);
	hw_count(&v->hw, hw_walk_read);
	if (!(fs ? psc_fs(v, fl, pte, access, &oa, &perm) :
		   psc_ss(v, fl, pte, access, &oa, &perm)))
		return false;
	oa |= iova & 0xfff;
	if (nested) {
		/* The output GPA through the walk cache, read permission
		 * only (what its entries prove). */
		if (!psc_s2(v, hw_tlb_attr_dom(attr), oa, &oa))
			return false;
		hw_count(&v->hw, hw_s2wc_hit);
		perm = IONEST_ACCESS_READ;
	}
	/* The privilege served: the request's (first stage), SRE's (second
	 * stage alone), as a walk reports it. */
	perm |= (fs ? access : fl) & IONEST_ACCESS_PRIV;
	/* The result first, field by field (no string store): the
	 * caller's next access depends on it, not on the fill. */
	res->status = IONEST_XLATE_OK;
	res->perm = perm;
	res->addr = oa;
	res->size = 0x1000;
	res->fault = 0;
	res->recorded = false;
	res->stage2 = false;
	res->stag = 0;
	res->fault_addr = 0;
	if (!tset)
		tset = hw_tlb_set_at(&v->iotlb, mix, iova, 12);
	hw_tlb_insert_set(&v->iotlb, tset, iova, oa & ~0xfffull, k,
			  hw_tlb_attr(hw_tlb_attr_dom(attr), 12,
				      perm | (fl & (HW_TLB_S1 | HW_TLB_S2)) |
					      (fs && (pte & VTD_FS_G) ?
						       HW_TLB_GLOBAL :
						       0),
				      hw_tlb_attr_asid(attr)),
			  tgen);
	return true;
}

int vtd_tlb_miss(struct vtd *v, const struct ionest_xlate_req *req,
		 uint32_t access, struct hw_tlb_set *tset,
		 struct ionest_xlate_res *res)
{
	/* Read before any cache or table is: a fill that raced with an
	 * invalidation is refused (tlb.h). */
	const uint64_t tgen = hw_tlb_gen(&v->iotlb);

	hw_count(&v->hw, hw_translate);
	hw_count(&v->hw, hw_tlb_miss);
	/* Translation requests check DTE in the context, execute requests
	 * ERE and XD: they take the configuration path. */
	if (!req->ats && !(access & IONEST_ACCESS_EXEC) &&
	    psc_serve(v, req, access, tgen, tset, res))
		return 0;
	return vtd_translate_walk(v, req, access, tgen, res);
}
