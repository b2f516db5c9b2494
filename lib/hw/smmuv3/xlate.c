// SPDX-License-Identifier: MIT
/*
 * The full translation path (after fastpath.c found no TLB entry that
 * serves the access): configuration (cache or fetch), stage-1 walk
 * (through stage 2 when nested), stage-2 walk of the output, permission
 * and access-flag checks, and the architectural fault handling (event
 * record, stall, PRI page request) of spec/smmuv3.md §6, §7, §9.
 */
#include <errno.h>
#include <stddef.h>

#include "hw/smmuv3/smmu.h"

#define ACC_R IONEST_ACCESS_READ
#define ACC_W IONEST_ACCESS_WRITE
#define ACC_X IONEST_ACCESS_EXEC
#define ACC_P IONEST_ACCESS_PRIV

static uint32_t ssid_key(const struct ionest_xlate_req *r)
{
	return r->ssid_valid ? r->ssid | HW_TLB_SSID_VALID : 0;
}

static bool is_xlate_fault(uint8_t type)
{
	return type >= EVT_F_TRANSLATION && type <= EVT_F_PERMISSION;
}

/* ---- events ---- */

void smmu_event_build(uint64_t ev[4], const struct smmu_fault *f,
		      const struct ionest_xlate_req *req)
{
	uint64_t attrs = ((req->access & ACC_P) ? EVT1_PNU : 0) |
			 ((req->access & ACC_X) ? EVT1_IND : 0) |
			 ((req->access & ACC_W) ? 0 : EVT1_RNW);

	ev[0] = f->type | (uint64_t)req->sid << EVT0_SID_SHIFT;
	if (req->ssid_valid)
		ev[0] |= EVT0_SSV | (uint64_t)req->ssid << EVT0_SSID_SHIFT;
	ev[1] = ev[2] = ev[3] = 0;
	switch (f->type) {
	case EVT_F_STE_FETCH:
	case EVT_F_CD_FETCH:
		ev[3] = f->addr & EVT3_FETCH;
		break;
	case EVT_F_BAD_ATS_TREQ:
		ev[1] = attrs;
		ev[2] = req->iova & ~0xfffull;
		break;
	case EVT_F_WALK_EABT:
	case EVT_F_TRANSLATION:
	case EVT_F_ADDR_SIZE:
	case EVT_F_ACCESS:
	case EVT_F_PERMISSION:
		ev[1] = attrs | (f->s2 ? EVT1_S2 : 0) |
			(uint64_t)f->class << EVT1_CLASS_SHIFT |
			((f->class == EVT_CLASS_TT && f->ttrnw) ? EVT1_TTRNW :
								  0);
		ev[2] = req->iova;
		if (f->type == EVT_F_WALK_EABT)
			ev[3] = f->addr & EVT3_FETCH;
		else if (f->s2)
			ev[3] = f->addr & EVT3_IPA;
		break;
	default: /* C_BAD_*, F_STREAM_DISABLED: identification only */
		break;
	}
}

static bool gate_open(const struct smmu_xctx *x)
{
	switch (x->f.gate) {
	case SMMU_GATE_ALWAYS:
		return true;
	case SMMU_GATE_S1:
		return x->cfg.r;
	case SMMU_GATE_S2:
		return x->cfg.s2r;
	case SMMU_GATE_RECINVSID:
		return smmu_ld32(&x->s->cr2) & CR2_RECINVSID;
	default:
		return false;
	}
}

/* PRI: a stage-1 "not present" fault of a PRI-using function becomes a
 * page request. A request lost to a full queue is answered at once with
 * Success so the function retries (and asks again) [S]. */
static bool page_request(struct smmu_xctx *x, struct ionest_xlate_res *res)
{
	struct smmu *s = x->s;
	const struct ionest_xlate_req *r = x->req;
	uint64_t e[2];

	if (!r->pri || !s->f.pri || x->f.type != EVT_F_TRANSLATION || x->f.s2 ||
	    x->f.class != EVT_CLASS_IN || !(smmu_ld32(&s->cr0) & CR0_PRIQEN))
		return false;
	e[0] = r->sid | PRI0_LAST | ((r->access & ACC_P) ? PRI0_PRIV : 0) |
	       ((r->access & ACC_X) ? PRI0_EXEC : 0) |
	       ((r->access & (ACC_R | ACC_X)) ? PRI0_READ : 0) |
	       ((r->access & ACC_W) ? PRI0_WRITE : 0);
	if (r->ssid_valid)
		e[0] |= PRI0_SSV | (uint64_t)r->ssid << PRI0_SSID_SHIFT;
	e[1] = (r->prgi & 0x1ffu) | (r->iova & ~0xfffull);
	trace_smmu_pri(s->hw.id, r->sid, r->ssid, r->iova, r->prgi & 0x1ff);
	res->status = IONEST_XLATE_PAGE_REQUEST;
	if (!smmu_priq_record(s, e)) {
		if (s->hw.page_resp_fn)
			s->hw.page_resp_fn(s->hw.page_resp_ctx, r->sid, r->ssid,
					   r->ssid_valid, r->prgi & 0x1ff, 0);
	} else {
		res->recorded = true;
	}
	return true;
}

/* Stall instead of terminating, if this fault may stall: a translation-
 * class fault of a non-ATS transaction whose stage has stalls on. The
 * record is then written whatever R says; no room to record -> terminate. */
static bool stall(struct smmu_xctx *x, struct ionest_xlate_res *res)
{
	struct smmu *s = x->s;
	uint64_t ev[4];
	uint16_t stag;

	if (x->req->ats || !is_xlate_fault(x->f.type) ||
	    !(x->f.s2 ? x->cfg.s2s : x->cfg.stall))
		return false;
	if (!smmu_stalls_hold(&s->stalls, x->req->sid, &stag))
		return false;
	smmu_event_build(ev, &x->f, x->req);
	ev[1] |= EVT1_STALL | stag;
	if (!smmu_evtq_record(s, ev)) {
		(void)smmu_stalls_take(&s->stalls, x->req->sid, stag);
		return false;
	}
	res->status = IONEST_XLATE_STALLED;
	res->stag = stag;
	res->recorded = true;
	return true;
}

static int report(struct smmu_xctx *x, struct ionest_xlate_res *res)
{
	struct smmu *s = x->s;
	const struct ionest_xlate_req *r = x->req;
	uint64_t ev[4];

	res->status = IONEST_XLATE_FAULT;
	res->fault = x->f.type;
	res->stage2 = x->f.s2;
	res->fault_addr = x->f.s2 && x->f.type != EVT_F_WALK_EABT ? x->f.addr :
								    r->iova;
	hw_count(&s->hw, hw_fault);
	trace_hw_translate_fault(s->hw.id, r->sid, r->ssid, r->iova, x->f.type);
	if (page_request(x, res))
		return 0;
	/* A translation request that faults is answered "no access" to
	 * the function; only configuration errors are recorded. */
	if (r->ats && is_xlate_fault(x->f.type))
		return 0;
	if (stall(x, res))
		return 0;
	if (!gate_open(x))
		return 0;
	smmu_event_build(ev, &x->f, r);
	res->recorded = smmu_evtq_record(s, ev);
	return 0;
}

static bool fault(struct smmu_xctx *x, uint8_t type, bool s2, uint8_t class,
		  uint64_t addr)
{
	x->f = (struct smmu_fault){
		.type = type,
		.s2 = s2,
		.class = class,
		.gate = type == EVT_F_WALK_EABT ? SMMU_GATE_ALWAYS :
			s2			? SMMU_GATE_S2 :
						  SMMU_GATE_S1,
		.addr = addr,
	};
	return false;
}

/* ---- stage 2 ---- */

/* MemAttr[3:2] == 0b00: Device memory (S2PTW check). */
static bool s2_device(uint64_t desc)
{
	return !SMMU_BITS(desc, 5, 4);
}

/*
 * Stage-2 translation of @ipa for @access. @class says what is being
 * fetched (CD, TT = a stage-1 table, IN = the output of stage 1); faults
 * are written to *f with S2=1 and the IPA.
 */
static bool s2_walk(struct smmu_xctx *x, uint64_t ipa, uint32_t access,
		    uint8_t class, struct smmu_stage *o, struct smmu_fault *f)
{
	const struct smmu_cfg *c = &x->cfg;
	struct smmu_fault saved = x->f;
	struct pt_cfg pc = {
		.fmt = PT_FMT_ARM_S2,
		.granule_shift = c->s2gran,
		.ias = c->s2ias,
		.oas = c->s2oas,
		.start_level = (int8_t)c->s2sl,
	};
	unsigned flags =
		(c->s2ha ? PT_WALK_SET_AF : 0) |
		((c->s2hd && (access & ACC_W)) ? PT_WALK_SET_DIRTY : 0);
	struct pt_walk w = { 0 };
	struct pt pt;
	uint32_t p;
	bool ok = false;

	hw_count(&x->s->hw, hw_walk);
	if (pt_attach(&pt, &pc, hw_bus_pt_mem(&x->s->hw), c->s2ttb)) {
		fault(x, EVT_F_TRANSLATION, true, class, ipa);
		goto out;
	}
	if (pt_walk(&pt, ipa, flags, &w)) {
		switch (w.fault) {
		case PT_FAULT_ADDR_SIZE:
			fault(x, EVT_F_ADDR_SIZE, true, class, ipa);
			break;
		case PT_FAULT_FETCH:
		case PT_FAULT_UPDATE:
			fault(x, EVT_F_WALK_EABT, true, class, w.fault_addr);
			break;
		default:
			fault(x, EVT_F_TRANSLATION, true, class, ipa);
			break;
		}
		goto out;
	}
	if (!(w.perm & PT_PERM_AF) && !c->s2affd) {
		fault(x, EVT_F_ACCESS, true, class, ipa);
		goto out;
	}
	p = SMMU_P_U | ((w.perm & PT_PERM_R) ? SMMU_P_R : 0) |
	    ((w.perm & PT_PERM_W) ? SMMU_P_W : 0) |
	    ((w.perm & PT_PERM_PX) ? SMMU_P_PX : 0) |
	    ((w.perm & PT_PERM_UX) ? SMMU_P_UX : 0);
	/* S2PTW: stage-1 walks must not touch Device memory. */
	if (!smmu_perm_ok(p, access) ||
	    (class == EVT_CLASS_TT && c->s2ptw && s2_device(w.desc))) {
		fault(x, EVT_F_PERMISSION, true, class, ipa);
		goto out;
	}
	o->oa = w.oa;
	o->perm = p;
	o->shift = w.leaf_shift;
	o->global = false;
	ok = true;
out:
	if (!ok) {
		struct smmu_fault nf = x->f;

		x->f = saved;
		*f = nf;
	}
	return ok;
}

/* The hw_nest callback: stage-1 table and CD fetches through stage 2. */
static bool nest_s2(struct hw_nest *n, uint64_t ipa, bool write, uint64_t *pa,
		    unsigned *shift)
{
	struct smmu_xctx *x = (struct smmu_xctx *)n;
	struct smmu_stage o;

	if (!s2_walk(x, ipa, ACC_P | ACC_R | (write ? ACC_W : 0), x->s2class,
		     &o, &x->s2f)) {
		x->s2f.ttrnw = !write;
		n->faulted = true;
		return false;
	}
	*pa = o.oa;
	*shift = o.shift;
	return true;
}

void smmu_nest_setup(struct smmu_xctx *x)
{
	x->nest = (struct hw_nest){
		.hw = &x->s->hw,
		.wc = &x->s->wc,
		.wc_tag = x->cfg.vmid,
		.s2 = nest_s2,
	};
}

/* Stage 2 of the stage-1 output: cached in the walk cache by IPA. */
static bool s2_output(struct smmu_xctx *x, uint64_t ipa, struct smmu_stage *o)
{
	struct smmu *s = x->s;
	uint32_t access = x->req->access;
	struct hw_tlb_entry e;
	uint64_t gen;

	if (hw_tlb_lookup(&s->wc, SMMU_WC_SID_LEAF, x->cfg.vmid, ipa, &e) &&
	    smmu_perm_ok(e.flags & SMMU_P_ALL, access)) {
		hw_count(&s->hw, hw_s2wc_hit);
		o->oa = e.pa + (ipa & ((1ull << e.shift) - 1));
		o->perm = e.flags & SMMU_P_ALL;
		o->shift = e.shift;
		return true;
	}
	hw_count(&s->hw, hw_s2wc_miss);
	gen = hw_tlb_gen(&s->wc);
	if (!s2_walk(x, ipa, access, EVT_CLASS_IN, o, &x->f))
		return false;
	e = (struct hw_tlb_entry){
		.va = (ipa >> o->shift) << o->shift,
		.pa = (o->oa >> o->shift) << o->shift,
		.sid = SMMU_WC_SID_LEAF,
		.ssid = x->cfg.vmid,
		.dom = x->cfg.vmid,
		.shift = o->shift,
		.flags = (uint8_t)(HW_TLB_S2 | o->perm),
		.asid = SMMU_ASID_S2ONLY,
	};
	hw_tlb_insert(&s->wc, &e, gen);
	return true;
}

/* ---- stage 1 ---- */

/* Full stage-1 walk through the page-table engine: *o gets the leaf's
 * output and permissions, before the permission rules of s1_walk(). */
static bool s1_full_walk(struct smmu_xctx *x, uint64_t va, unsigned half,
			 struct smmu_stage *o)
{
	const struct smmu_cfg *c = &x->cfg;
	uint32_t access = x->req->access;
	unsigned ias = c->ias[half];
	struct pt_walk_level rec[PT_MAX_LEVELS];
	struct pt_walk w = { .rec = rec };
	uint64_t gen = hw_tlb_gen(&x->s->s1wc);
	struct pt_cfg pc = {
		.fmt = PT_FMT_ARM_S1,
		.granule_shift = c->gran[half],
		.ias = (uint8_t)ias,
		.oas = c->ips,
		.start_level = -1,
		.flags = c->had[half] ? PT_CFG_HAD : 0,
	};
	struct pt pt;

	hw_count(&x->s->hw, hw_walk);
	if (pt_attach(&pt, &pc,
		      c->s2 ? hw_nest_pt_mem(&x->nest) :
			      hw_bus_pt_mem(&x->s->hw),
		      c->ttb[half]))
		return fault(x, EVT_F_TRANSLATION, false, EVT_CLASS_IN, 0);
	x->s2class = EVT_CLASS_TT;
	x->nest.faulted = false;
	if (pt_walk(&pt, va & ((1ull << ias) - 1),
		    (c->ha ? PT_WALK_SET_AF : 0) |
			    ((c->hd && (access & ACC_W)) ? PT_WALK_SET_DIRTY :
							   0),
		    &w)) {
		switch (w.fault) {
		case PT_FAULT_ADDR_SIZE:
			return fault(x, EVT_F_ADDR_SIZE, false, EVT_CLASS_IN,
				     0);
		case PT_FAULT_FETCH:
		case PT_FAULT_UPDATE:
			if (c->s2 && x->nest.faulted) {
				x->f = x->s2f;
				return false;
			}
			fault(x, EVT_F_WALK_EABT, false, EVT_CLASS_TT,
			      w.fault_addr);
			x->f.ttrnw = w.fault == PT_FAULT_FETCH;
			return false;
		default:
			return fault(x, EVT_F_TRANSLATION, false, EVT_CLASS_IN,
				     0);
		}
	}
	if (!(w.perm & PT_PERM_AF) && !c->affd)
		return fault(x, EVT_F_ACCESS, false, EVT_CLASS_IN, 0);
	o->perm = ((w.perm & PT_PERM_R) ? SMMU_P_R : 0) |
		  ((w.perm & PT_PERM_W) ? SMMU_P_W : 0) |
		  ((w.perm & PT_PERM_PX) ? SMMU_P_PX : 0) |
		  ((w.perm & PT_PERM_UX) ? SMMU_P_UX : 0) |
		  ((w.perm & PT_PERM_U) ? SMMU_P_U : 0);
	o->oa = w.oa;
	o->shift = w.leaf_shift;
	/* Without E2H, EL2 has no ASIDs: its entries are global. */
	o->global = !SMMU_BIT(w.desc, 11) || c->el2 == 1;
	smmu_s1wc_fill(x, va, half, &w, gen);
	return true;
}

static bool s1_walk(struct smmu_xctx *x, uint64_t va, struct smmu_stage *o)
{
	const struct smmu_cfg *c = &x->cfg;
	unsigned half = (unsigned)SMMU_BIT(va, 55);
	unsigned top = ((c->tbi >> half) & 1) ? 55 : 63;
	unsigned ias = c->ias[half];
	uint64_t hi;
	uint32_t p;

	/* §6.5: TTB0 if the bits above the region (below the top byte
	 * with TBI) are all 0, TTB1 if all 1, else a translation fault. */
	if (c->epd[half])
		return fault(x, EVT_F_TRANSLATION, false, EVT_CLASS_IN, 0);
	hi = SMMU_BITS(va, top, ias);
	if (hi != (half ? SMMU_BITS(~0ull, top, ias) : 0))
		return fault(x, EVT_F_TRANSLATION, false, EVT_CLASS_IN, 0);
	if (!smmu_s1wc_lookup(x, va, half, o) && !s1_full_walk(x, va, half, o))
		return false;
	p = smmu_s1_perm_rules(o->perm, c->wxn);
	if (!smmu_perm_ok(p, x->req->access))
		return fault(x, EVT_F_PERMISSION, false, EVT_CLASS_IN, 0);
	o->perm = p;
	return true;
}

/* ---- translate ---- */

int smmu_bypass(const struct ionest_xlate_req *r, struct ionest_xlate_res *res)
{
	*res = (struct ionest_xlate_res){
		.status = IONEST_XLATE_BYPASS,
		.perm = ACC_R | ACC_W | ACC_X,
		.addr = r->iova,
		.size = 4096,
	};
	return 0;
}

static void tlb_fill(struct smmu_xctx *x, uint64_t pa, uint32_t perm,
		     unsigned shift, bool global, uint64_t gen)
{
	const struct smmu_cfg *c = &x->cfg;
	const struct ionest_xlate_req *r = x->req;
	struct hw_tlb_entry e;

	/* A tagged address (TBI, top byte not the sign of bit 55) is not
	 * cached: TLB keys and TLBI addresses are canonical. */
	if ((uint64_t)((int64_t)(r->iova << 8) >> 8) != r->iova)
		return;
	e = (struct hw_tlb_entry){
		.va = (r->iova >> shift) << shift,
		.pa = (pa >> shift) << shift,
		.sid = r->sid,
		.ssid = ssid_key(r),
		.dom = c->el2 ? 0 : c->vmid,
		.shift = (uint8_t)shift,
		.flags = (uint8_t)(perm | (c->s1 ? HW_TLB_S1 : 0) |
				   (c->s2 ? HW_TLB_S2 : 0) |
				   (global ? HW_TLB_GLOBAL : 0)),
		.asid = !c->s1 ? SMMU_ASID_S2ONLY :
			c->el2 ? SMMU_ASID_EL2 | c->asid :
				 c->asid,
	};
	hw_tlb_insert(&x->s->tlb, &e, gen);
}

int smmu_xlate_full(struct smmu *s, const struct ionest_xlate_req *r,
		    struct ionest_xlate_res *res, uint64_t gen)
{
	struct smmu_xctx x;
	struct smmu_cfg *c = &x.cfg;
	uint64_t ipa = r->iova, pa;
	uint32_t key = ssid_key(r), perm = SMMU_P_ALL;
	unsigned shift = 63;
	bool global = false;
	struct smmu_stage o;

	/* Not zero-initialised as a whole: it is large and this is the
	 * miss path; the config is filled by lookup or fetch, the nest
	 * accessor by smmu_nest_setup when stage 2 is on. */
	x.s = s;
	x.req = r;
	x.f = (struct smmu_fault){ 0 };
	*res = (struct ionest_xlate_res){ 0 };

	if (smmu_cfgc_lookup(&s->cfgc, r->sid, key, c)) {
		hw_count(&s->hw, hw_cfg_hit);
		if (c->s2)
			smmu_nest_setup(&x);
	} else {
		uint64_t cgen = smmu_cfgc_gen(&s->cfgc);

		hw_count(&s->hw, hw_cfg_miss);
		if (!smmu_config_fetch(&x))
			return report(&x, res);
		smmu_cfgc_insert(s, r->sid, key, c, cgen);
	}
	if (c->config == STE_CFG_ABORT) {
		/* STE.Config abort: terminated without an event. */
		*res = (struct ionest_xlate_res){ .status =
							  IONEST_XLATE_FAULT };
		hw_count(&s->hw, hw_fault);
		return 0;
	}
	if (c->config == STE_CFG_BYPASS)
		return smmu_bypass(r, res);
	if (r->ats && c->eats == EATS_ABORT) {
		x.f = (struct smmu_fault){ .type = EVT_F_BAD_ATS_TREQ };
		return report(&x, res);
	}
	if (!c->s1 && !c->s2)
		return smmu_bypass(r, res); /* S1DSS bypass, stage 2 off */
	if (c->s1) {
		if (!s1_walk(&x, r->iova, &o))
			return report(&x, res);
		ipa = o.oa;
		perm = o.perm;
		shift = o.shift;
		global = o.global;
	} else if (r->iova >> (s->f.oas_bits > 48 ? 48 : s->f.oas_bits)) {
		/* §6.6: stage-2-only input beyond the IAS is a stage-1
		 * address size fault (recorded under S2R: there is no CD). */
		x.f = (struct smmu_fault){ .type = EVT_F_ADDR_SIZE,
					   .class = EVT_CLASS_IN,
					   .gate = SMMU_GATE_S2 };
		return report(&x, res);
	}
	pa = ipa;
	if (c->s2) {
		if (!s2_output(&x, ipa, &o))
			return report(&x, res);
		pa = o.oa;
		perm &= o.perm;
		if (o.shift < shift)
			shift = o.shift;
	}
	tlb_fill(&x, pa, perm, shift, global, gen);
	*res = (struct ionest_xlate_res){
		.status = IONEST_XLATE_OK,
		.perm = smmu_res_perm(perm, r->access),
		.addr = pa,
		.size = 1ull << shift,
	};
	return 0;
}
