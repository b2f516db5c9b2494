// SPDX-License-Identifier: MIT
/*
 * Page walks for one request under a decoded PASID entry: first stage
 * (x86-64 4/5-level, vtd.md §5), second stage (vtd.md §6), nested (FS
 * tables and output through SS, vtd.md §7) and pass-through. The pt engine
 * walks and folds permissions; this file applies the VT-d rules on top
 * (U/S, WPE, SRE, ERE/XD, canonical addresses, A/D/EA updates) and turns
 * walk failures into scalable-mode fault reasons.
 */
#include <errno.h>
#include <stddef.h>

#include "hw/nest.h"
#include "hw/vtd/vtd.h"

#define FS_AD_BITS (VTD_FS_A | VTD_FS_D | VTD_FS_EA)
#define FS_UPDATE_TRIES 4
/* Marker for a second-stage read failure while fetching a first-stage
 * entry: 0x75 at the FS root, 0x76 below; decided once the level is known. */
#define S2_READ_FAIL 0xff

struct vtd_wctx {
	struct hw_nest nest; /* first: the nested callback casts back */
	struct vtd *v;
	const struct vtd_cfg *cfg;
	uint8_t s2_reason; /* why the nested stage-2 callback failed */
};

static int xl_fault(struct vtd_xl *o, uint8_t reason, bool fpd, bool stage2,
		    uint64_t addr)
{
	o->f.reason = reason;
	o->f.fpd = fpd;
	o->f.stage2 = stage2;
	o->f.fault_addr = addr;
	return -EFAULT;
}

/* Output width for the engine: HAW, within the 52 address bits entries
 * have. */
static uint8_t walk_oas(const struct vtd *v)
{
	return (uint8_t)(v->haw > 52 ? 52 : v->haw);
}

static uint64_t ss_pgsizes(const struct vtd *v)
{
	unsigned sslps = VTD_CAP_SSLPS(v->cap);

	return (1ull << 12) | ((sslps & 1) ? 1ull << 21 : 0) |
	       ((sslps & 2) ? 1ull << 30 : 0);
}

static uint64_t fs_pgsizes(const struct vtd *v)
{
	return (1ull << 12) | (1ull << 21) |
	       ((v->cap & VTD_CAP_FS1GP) ? 1ull << 30 : 0);
}

/* Input beyond what the second stage translates: its AGAW, capped by
 * MGAW. */
static bool ss_beyond(const struct vtd *v, const struct vtd_cfg *cfg,
		      uint64_t gpa)
{
	unsigned bits = cfg->ss_ias < v->haw ? cfg->ss_ias : v->haw;

	return (gpa >> bits) != 0;
}

/*
 * Second-stage walk of @gpa. A/D bits are updated only under SSADE (A on
 * the walk, D for writes). Returns 0 or the fault reason. SS entries have
 * no present bit: an entry without R/W/X is not present, which the
 * architecture reports as a permission error (0x79).
 */
static uint8_t ss_walk(struct vtd *v, const struct vtd_cfg *cfg, uint64_t gpa,
		       bool write, struct pt_walk *w)
{
	struct pt_cfg pc = {
		.fmt = PT_FMT_VTD_SS,
		.granule_shift = 12,
		.ias = cfg->ss_ias,
		.oas = walk_oas(v),
		.start_level = -1,
		.pgsize_bitmap = ss_pgsizes(v),
		.flags = (cfg->flags & VTD_CFG_SSADE) ? PT_CFG_AD : 0,
	};
	unsigned flags = 0;
	struct pt pt;

	if (pt_attach(&pt, &pc, hw_bus_pt_mem(&v->hw), cfg->ssptptr))
		return VTD_FR_PE_INV;
	if (cfg->flags & VTD_CFG_SSADE)
		flags = PT_WALK_SET_AF | (write ? PT_WALK_SET_DIRTY : 0);
	if (!pt_walk(&pt, gpa, flags, w))
		return 0;
	return vtd_fr_ss_walk(w, pt.start_level);
}

/* Stage-2 translation of a first-stage table address (nested, vtd.md §7
 * step 2-3): read needs SS read permission, an A/D update write
 * permission. */
static bool nest_s2(struct hw_nest *n, uint64_t ipa, bool write, uint64_t *pa,
		    unsigned *shift)
{
	struct vtd_wctx *c = (struct vtd_wctx *)n;
	struct pt_walk w = { 0 };
	uint8_t r;

	n->faulted = true;
	if (ss_beyond(c->v, c->cfg, ipa)) {
		c->s2_reason = VTD_FR_NEST_FS_ADDR;
		return false;
	}
	r = ss_walk(c->v, c->cfg, ipa, write, &w);
	if (r == VTD_FR_SS_PERM ||
	    (!r && !(w.perm & (write ? PT_PERM_W : PT_PERM_R)))) {
		c->s2_reason = write ? VTD_FR_NEST_FS_WR : S2_READ_FAIL;
		return false;
	}
	if (r) {
		c->s2_reason = r;
		return false;
	}
	n->faulted = false;
	*pa = w.oa;
	*shift = w.leaf_shift;
	return true;
}

/* Set @bits in the first-stage entry the walk read at @r, through the
 * walk's accessor (in nested mode a GPA write through stage 2). -EAGAIN:
 * the entry changed under us (walk again); -EFAULT: the write failed. */
static int fs_set_bits(const struct pt *pt, const struct pt_walk_level *r,
		       uint64_t bits)
{
	uint64_t addr = r->table + 8ull * r->index, cur;
	uint64_t *p;

	if (pt->mem.ops)
		p = pt->mem.ops->table(pt->mem.ctx, addr, 8, true);
	else
		p = (uint64_t *)(uintptr_t)addr;
	if (!p)
		return -EFAULT;
	cur = __atomic_load_n(p, __ATOMIC_RELAXED);
	for (;;) {
		if ((cur & ~FS_AD_BITS) != (r->desc & ~FS_AD_BITS))
			return -EAGAIN;
		if ((cur & bits) == bits)
			return 0;
		if (__atomic_compare_exchange_n(p, &cur, cur | bits, false,
						__ATOMIC_RELAXED,
						__ATOMIC_RELAXED))
			return 0;
	}
}

/* Host address of the table a first-stage walk record names (through the
 * stage-2 walk cache when nested); 0 if not known. */
static uint64_t fs_table_pa(struct vtd_wctx *c, bool nested,
			    const struct pt_walk_level *r)
{
	struct hw_tlb_entry e;

	if (!nested)
		return r->table;
	if (!hw_tlb_lookup(&c->v->s2wc, HW_TLB_SID_S2WC, c->cfg->did, r->table,
			   &e))
		return 0;
	return e.pa + (r->table & ((1ull << e.shift) - 1));
}

/* Map a first-stage walk failure to its fault reason. */
static int fs_walk_fault(struct vtd_wctx *c, const struct pt *pt,
			 const struct pt_walk *w, bool nested, uint64_t iova,
			 struct vtd_xl *o)
{
	bool fpd = c->cfg->flags & VTD_CFG_FPD;
	bool root = w->level == pt->start_level;
	uint8_t r;

	switch (w->fault) {
	case PT_FAULT_TRANSLATION:
		o->page_req = true;
		return xl_fault(o, VTD_FR_FS_NP, fpd, false, iova);
	case PT_FAULT_RESERVED:
		return xl_fault(o, VTD_FR_FS_RSVD, fpd, false, iova);
	case PT_FAULT_ADDR_SIZE:
		/* Nested: a table or page GPA beyond MGAW (0x74); else an HPA
		 * beyond HAW, whose bits are reserved. */
		return xl_fault(o,
				nested ? VTD_FR_NEST_FS_ADDR : VTD_FR_FS_RSVD,
				fpd, false, iova);
	default:
		break;
	}
	if (nested && c->nest.faulted) {
		r = c->s2_reason;
		if (r == S2_READ_FAIL)
			r = root ? VTD_FR_NEST_FS_ROOT_RD : VTD_FR_NEST_FS_RD;
		return xl_fault(o, r, fpd, r != VTD_FR_NEST_FS_ADDR,
				c->nest.fault_ipa);
	}
	if (w->fault == PT_FAULT_FETCH)
		return xl_fault(o,
				root ? VTD_FR_FS_ROOT_ACCESS : VTD_FR_FS_ACCESS,
				fpd, false, iova);
	return xl_fault(o, VTD_FR_FS_AD_UPDATE, fpd, false, iova);
}

/*
 * First-stage walk (vtd.md §5) of @iova: canonical check, walk with A
 * updates, U/S, R/W (WPE for supervisor), XD/ERE rules, then D on the leaf
 * for a permitted write and EA on every level under EAFE.
 */
static int fs_walk(struct vtd_wctx *c, struct pt_mem mem, bool nested,
		   uint64_t iova, uint32_t access, bool ats, struct vtd_xl *o)
{
	const struct vtd_cfg *cfg = c->cfg;
	struct pt_cfg pc = {
		.fmt = PT_FMT_X86_64,
		.granule_shift = 12,
		.ias = cfg->fs_ias,
		.oas = walk_oas(c->v),
		.start_level = -1,
		.pgsize_bitmap = fs_pgsizes(c->v),
	};
	bool fpd = cfg->flags & VTD_CFG_FPD;
	bool priv = access & IONEST_ACCESS_PRIV;
	unsigned sh = 64 - cfg->fs_ias;
	struct pt_walk_level rec[PT_MAX_LEVELS];
	struct pt_walk w;
	struct pt pt;

	/* Bits above the top translated bit must copy it (0x80). */
	if ((uint64_t)((int64_t)(iova << sh) >> sh) != iova)
		return xl_fault(o, VTD_FR_FS_NONCANON, fpd, false, iova);
	if (pt_attach(&pt, &pc, mem, cfg->fsptptr))
		return xl_fault(o, VTD_FR_PE_INV, fpd, false, iova);

	for (unsigned tries = 0;; tries++) {
		bool w_ok, x_ok, dirty;
		int ret = 0;

		if (tries == FS_UPDATE_TRIES)
			return xl_fault(o, VTD_FR_FS_AD_UPDATE, fpd, false,
					iova);
		w = (struct pt_walk){ .rec = rec };
		if (pt_walk(&pt, iova & ((1ull << cfg->fs_ias) - 1),
			    PT_WALK_SET_AF, &w))
			return fs_walk_fault(c, &pt, &w, nested, iova, o);

		/* User requests need U/S=1 at every level (0x81). */
		if (!priv && !(w.perm & PT_PERM_U))
			return xl_fault(o, VTD_FR_FS_US, fpd, false, iova);
		/* Supervisor writes ignore R/W unless WPE is set. */
		w_ok = (priv && !(cfg->flags & VTD_CFG_WPE)) ||
		       (w.perm & PT_PERM_W);
		x_ok = (cfg->flags & VTD_CFG_ERE) &&
		       (w.perm & (priv ? PT_PERM_PX : PT_PERM_UX));
		if ((access & IONEST_ACCESS_WRITE) && !w_ok && !ats) {
			o->page_req = true;
			return xl_fault(o, VTD_FR_WRITE, fpd, false, iova);
		}
		if ((access & IONEST_ACCESS_EXEC) && !x_ok && !ats)
			return xl_fault(o, VTD_FR_EXEC, fpd, false, iova);

		/* D on the leaf for a write it performs, EA on every level
		 * under EAFE; a concurrent change of an entry walks again. */
		dirty = w.perm & PT_PERM_DIRTY;
		if ((access & IONEST_ACCESS_WRITE) && w_ok && !dirty &&
		    w.nrec) {
			ret = fs_set_bits(&pt, &rec[w.nrec - 1], VTD_FS_D);
			dirty = !ret;
		}
		for (unsigned i = 0;
		     !ret && (cfg->flags & VTD_CFG_EAFE) && i < w.nrec; i++)
			if (!(rec[i].desc & VTD_FS_EA))
				ret = fs_set_bits(&pt, &rec[i], VTD_FS_EA);
		if (ret == -EAGAIN)
			continue;
		if (ret) {
			if (nested && c->nest.faulted)
				return xl_fault(o,
						c->s2_reason == S2_READ_FAIL ?
							VTD_FR_NEST_FS_RD :
							c->s2_reason,
						fpd, true, c->nest.fault_ipa);
			return xl_fault(o, VTD_FR_FS_AD_UPDATE, fpd, false,
					iova);
		}

		o->pa = w.oa;
		o->shift = w.leaf_shift;
		/* A clean page is cached without W so a later write comes
		 * back to set D. */
		o->perm = IONEST_ACCESS_READ |
			  (w_ok && dirty ? IONEST_ACCESS_WRITE : 0) |
			  (x_ok ? IONEST_ACCESS_EXEC : 0);
		o->tlb_flags = HW_TLB_S1;
		if (w.desc & VTD_FS_G)
			o->tlb_flags |= HW_TLB_GLOBAL;
		vtd_psc_prepare(cfg, rec, w.nrec, access, o);
		if (o->psc_flags)
			o->psc_table = fs_table_pa(c, nested, &rec[w.nrec - 1]);
		return 0;
	}
}

/* Permissions a second-stage leaf grants @access, or a fault (0x79). */
static int ss_perm(const struct vtd_cfg *cfg, const struct pt_walk *w,
		   uint32_t access, bool ats, uint32_t *perm)
{
	bool r = w->perm & PT_PERM_R, wr = w->perm & PT_PERM_W;
	bool x = !(cfg->flags & VTD_CFG_SSEE) ||
		 (w->perm & (PT_PERM_UX | PT_PERM_PX));
	bool clean = (cfg->flags & VTD_CFG_SSADE) && !(w->perm & PT_PERM_DIRTY);

	if (ats) {
		if (!r)
			return -EFAULT;
	} else if (((access & IONEST_ACCESS_READ) && !r) ||
		   ((access & IONEST_ACCESS_WRITE) && !wr) ||
		   ((access & IONEST_ACCESS_EXEC) && !x)) {
		return -EFAULT;
	}
	*perm = (r ? IONEST_ACCESS_READ : 0) |
		(wr && !clean ? IONEST_ACCESS_WRITE : 0) |
		(x ? IONEST_ACCESS_EXEC : 0);
	return 0;
}

static int walk_ss(struct vtd *v, const struct vtd_cfg *cfg, uint64_t iova,
		   uint32_t access, bool ats, struct vtd_xl *o)
{
	bool fpd = cfg->flags & VTD_CFG_FPD;
	struct pt_walk_level rec[PT_MAX_LEVELS];
	struct pt_walk w = { .rec = rec };
	uint8_t r;

	if (ss_beyond(v, cfg, iova))
		return xl_fault(o, VTD_FR_ADDR_BEYOND, fpd, true, iova);
	r = ss_walk(v, cfg, iova, access & IONEST_ACCESS_WRITE, &w);
	if (r)
		return xl_fault(o, r, fpd, true, iova);
	if (ss_perm(cfg, &w, access, ats, &o->perm))
		return xl_fault(o, VTD_FR_SS_PERM, fpd, true, iova);
	o->pa = w.oa;
	o->shift = w.leaf_shift;
	o->tlb_flags = HW_TLB_S2;
	vtd_psc_prepare_ss(cfg, rec, w.nrec, o);
	if (o->psc_flags)
		o->psc_table = rec[w.nrec - 1].table;
	return 0;
}

/* Final stage-2 translation of a nested walk's output @gpa. Reads may be
 * served by the stage-2 walk cache, which only holds translations a read
 * was allowed through. */
static int nest_output(struct vtd *v, const struct vtd_cfg *cfg, uint64_t gpa,
		       uint32_t access, bool ats, uint64_t *hpa,
		       unsigned *shift, uint32_t *perm, uint8_t *reason)
{
	bool plain_read =
		!(access & IONEST_ACCESS_WRITE) &&
		!((access & IONEST_ACCESS_EXEC) && (cfg->flags & VTD_CFG_SSEE));
	struct hw_tlb_entry e;
	struct pt_walk w = { 0 };
	uint64_t gen = 0;

	if (plain_read) {
		if (hw_tlb_lookup(&v->s2wc, HW_TLB_SID_S2WC, cfg->did, gpa,
				  &e)) {
			hw_count(&v->hw, hw_s2wc_hit);
			*hpa = e.pa + (gpa & ((1ull << e.shift) - 1));
			*shift = e.shift;
			*perm = IONEST_ACCESS_READ |
				(cfg->flags & VTD_CFG_SSEE ?
					 0 :
					 IONEST_ACCESS_EXEC);
			return 0;
		}
		hw_count(&v->hw, hw_s2wc_miss);
		gen = hw_tlb_gen(&v->s2wc);
	}
	*reason = ss_walk(v, cfg, gpa, access & IONEST_ACCESS_WRITE, &w);
	if (*reason)
		return -EFAULT;
	if (ss_perm(cfg, &w, access, ats, perm)) {
		*reason = VTD_FR_SS_PERM;
		return -EFAULT;
	}
	*hpa = w.oa;
	*shift = w.leaf_shift;
	if (plain_read && (w.perm & PT_PERM_R)) {
		e = (struct hw_tlb_entry){
			.va = (gpa >> w.leaf_shift) << w.leaf_shift,
			.pa = (w.oa >> w.leaf_shift) << w.leaf_shift,
			.sid = HW_TLB_SID_S2WC,
			.ssid = cfg->did,
			.dom = cfg->did,
			.shift = w.leaf_shift,
			.flags = HW_TLB_S2,
		};
		hw_tlb_insert(&v->s2wc, &e, gen);
	}
	return 0;
}

static int walk_nested(struct vtd *v, const struct vtd_cfg *cfg, uint64_t iova,
		       uint32_t access, bool ats, struct vtd_xl *o)
{
	struct vtd_wctx c = {
		.nest = { .hw = &v->hw,
			  .wc = &v->s2wc,
			  .wc_tag = cfg->did,
			  .s2 = nest_s2 },
		.v = v,
		.cfg = cfg,
	};
	bool fpd = cfg->flags & VTD_CFG_FPD;
	uint64_t gpa, hpa;
	unsigned shift;
	uint32_t perm;
	uint8_t reason = 0;
	int ret;

	ret = fs_walk(&c, hw_nest_pt_mem(&c.nest), true, iova, access, ats, o);
	if (ret)
		return ret;
	gpa = o->pa;
	if (ss_beyond(v, cfg, gpa))
		return xl_fault(o, VTD_FR_NEST_FS_ADDR, fpd, false, iova);
	if (nest_output(v, cfg, gpa, access, ats, &hpa, &shift, &perm, &reason))
		return xl_fault(o, reason, fpd, true, gpa);
	/* Effective permission FS ∩ SS; the block is the smaller leaf. */
	o->pa = hpa;
	o->perm &= perm;
	if (shift < o->shift)
		o->shift = (uint8_t)shift;
	o->tlb_flags |= HW_TLB_S2;
	return 0;
}

int vtd_walk(struct vtd *v, const struct vtd_cfg *cfg, uint64_t iova,
	     uint32_t access, bool ats, struct vtd_xl *o)
{
	struct vtd_wctx c = { .v = v, .cfg = cfg };

	hw_count(&v->hw, hw_walk);
	o->page_req = false;
	o->psc_flags = 0;
	o->psc_table = 0;
	o->f.reason = 0;
	switch (cfg->pgtt) {
	case VTD_PGTT_FS:
		return fs_walk(&c, hw_bus_pt_mem(&v->hw), false, iova, access,
			       ats, o);
	case VTD_PGTT_SS:
		return walk_ss(v, cfg, iova, access, ats, o);
	case VTD_PGTT_NESTED:
		return walk_nested(v, cfg, iova, access, ats, o);
	default: /* pass-through: checked against HAW only */
		if (v->haw < 64 && (iova >> v->haw))
			return xl_fault(o, VTD_FR_ADDR_BEYOND,
					cfg->flags & VTD_CFG_FPD, false, iova);
		o->pa = iova;
		o->shift = 30;
		o->perm = IONEST_ACCESS_READ | IONEST_ACCESS_WRITE |
			  IONEST_ACCESS_EXEC;
		o->tlb_flags = HW_TLB_S2;
		return 0;
	}
}
