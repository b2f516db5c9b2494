// SPDX-License-Identifier: MIT
/*
 * A request through the model: IOTLB (lock-free hit), then on a miss the
 * PDE cache (psc.c, vtd_tlb_miss), else the combined context/PASID cache or
 * a table fetch, request checks against the PASID entry, the walk, and on
 * failure a fault record, a page request, or (for ATS) a
 * translation-request completion without access.
 *
 * The hit path (vtd_translate) is one probe at the smallest block size in
 * use with the request checks a hit depends on folded into a table
 * (performance.md T1); everything it does not settle goes through
 * translate_other, which applies the full request checks.
 *
 * Requests without a PASID use the context entry's RID_PASID and cannot
 * carry the privileged or execute attributes (they live in the PASID
 * prefix): such a request is malformed (-EINVAL). Those to the interrupt
 * range 0xFEExxxxx are not DMA (interrupt_request), so no IOTLB entry of
 * theirs covers it.
 *
 * IOTLB entries are keyed by the request stream (source-id, PASID or none)
 * and tagged with DID and the effective PASID. Their permission bits are
 * what the entry may serve without a walk: a write to a page whose dirty
 * bit is not yet set walks to set it. First-stage entries also record the
 * privilege they were filled for (IONEST_ACCESS_PRIV) and serve only that.
 * Pass-through results are not cached in the IOTLB (they cost a
 * configuration lookup only).
 */
#include <errno.h>
#include <string.h>

#include "hw/vtd/vtd.h"

#define ACCESS_ALL                                                       \
	(IONEST_ACCESS_READ | IONEST_ACCESS_WRITE | IONEST_ACCESS_EXEC | \
	 IONEST_ACCESS_PRIV)
#define ACCESS_RWX \
	(IONEST_ACCESS_READ | IONEST_ACCESS_WRITE | IONEST_ACCESS_EXEC)
#define BYPASS_SHIFT 30

static uint32_t stream_key(const struct ionest_xlate_req *req)
{
	return req->ssid_valid ? req->ssid | HW_TLB_SSID_VALID : 0;
}

static int result_bypass(const struct ionest_xlate_req *req, uint32_t access,
			 struct ionest_xlate_res *res)
{
	res->status = IONEST_XLATE_BYPASS;
	res->addr = req->iova;
	res->size = 1ull << BYPASS_SHIFT;
	res->perm = ACCESS_RWX | (access & IONEST_ACCESS_PRIV);
	return 0;
}

/* A failed request: the fault record, the page request that replaces it,
 * or the ATS completion without access. */
static int result_fault(struct vtd *v, const struct ionest_xlate_req *req,
			uint32_t access, const struct vtd_cfg *cfg,
			struct vtd_fault f, bool page_req,
			struct ionest_xlate_res *res)
{
	res->status = IONEST_XLATE_FAULT;
	res->fault = f.reason;
	res->stage2 = f.stage2;
	res->fault_addr = f.fault_addr;
	hw_count(&v->hw, hw_fault);
	trace_hw_translate_fault(v->hw.id, req->sid, req->ssid, req->iova,
				 f.reason);

	/* A device using PRI turns a first-stage "not present" or write
	 * fault into a page request, if the context allows it (0x47). */
	if (page_req && req->pri && cfg) {
		if (!(cfg->flags & VTD_CFG_PRE)) {
			f.reason = VTD_FR_CTX_PRE;
			f.fpd = cfg->flags & VTD_CFG_FPD_CTX;
			res->fault = f.reason;
		} else if (vtd_prq_request(v, req, access)) {
			res->status = IONEST_XLATE_PAGE_REQUEST;
			return 0;
		}
	}
	if (req->ats && vtd_fr_ats_no_access(f.reason))
		return 0;
	res->recorded = vtd_fault_record(v, req, access, &f);
	return 0;
}

/*
 * A request without PASID to the interrupt range (VT-d spec 3.15): never
 * DMA remapped, whatever the tables say or whether translation is on. A
 * write is an interrupt request for the platform, a translation request
 * for it is answered "untranslated only" the same way; a read is no
 * interrupt and not DMA either (the platform refuses it, no fault record).
 * Requests with PASID there are translated like any other.
 */
static int interrupt_request(struct vtd *v, const struct ionest_xlate_req *req,
			     uint32_t access, struct ionest_xlate_res *res)
{
	memset(res, 0, sizeof(*res));
	res->addr = req->iova;
	res->fault_addr = req->iova;
	if (access != IONEST_ACCESS_WRITE) {
		res->status = IONEST_XLATE_FAULT;
		return 0;
	}
	hw_count(&v->hw, hw_interrupt);
	res->status = IONEST_XLATE_INTERRUPT;
	res->perm = IONEST_ACCESS_WRITE;
	res->size = 0x1000;
	return 0;
}

static inline bool is_interrupt(const struct ionest_xlate_req *req)
{
	return !req->ssid_valid && hw_x86_intr_range(req->iova);
}

/* No IOTLB entry of a stream without PASID may cover the interrupt range
 * (a large leaf around it): the hit paths would translate a request
 * there. */
static inline bool covers_interrupt(const struct hw_tlb_entry *e)
{
	return !(e->ssid & HW_TLB_SSID_VALID) && e->va <= HW_X86_INTR_LAST &&
	       e->va + (1ull << e->shift) - 1 >= HW_X86_INTR_START;
}

int vtd_translate_walk(struct vtd *v, const struct ionest_xlate_req *req,
		       uint32_t access, uint64_t tgen,
		       struct ionest_xlate_res *res)
{
	uint64_t pgen = hw_tlb_gen(&v->psc);
	uint32_t key = stream_key(req);
	struct vtd_fault f = { .fault_addr = req->iova };
	struct vtd_xl xl = { 0 };
	struct hw_tlb_entry e;
	struct vtd_cfg cfg;
	uint32_t prv = 0;

	memset(res, 0, sizeof(*res));
	if (vtd_cc_lookup(&v->cc, req->sid, key, &cfg)) {
		hw_count(&v->hw, hw_cfg_hit);
	} else {
		uint64_t cgen = vtd_cc_gen(&v->cc);

		hw_count(&v->hw, hw_cfg_miss);
		if (vtd_cfg_fetch(v, req->sid, req->ssid_valid, req->ssid, &cfg,
				  &f))
			return result_fault(v, req, access, NULL, f, false,
					    res);
		vtd_cc_insert(&v->cc, &cfg, cgen);
	}

	/* Request attributes against the context and PASID entries. */
	if (req->ats && !(cfg.flags & VTD_CFG_DTE)) {
		f.reason = VTD_FR_CTX_DTE;
		f.fpd = cfg.flags & VTD_CFG_FPD_CTX;
		return result_fault(v, req, access, &cfg, f, false, res);
	}
	if ((access & IONEST_ACCESS_PRIV) && !(cfg.flags & VTD_CFG_SRE)) {
		f.reason = VTD_FR_PE_SRE;
		f.fpd = cfg.flags & VTD_CFG_FPD;
		return result_fault(v, req, access, &cfg, f, false, res);
	}
	if ((access & IONEST_ACCESS_EXEC) && !(cfg.flags & VTD_CFG_ERE)) {
		f.reason = VTD_FR_PE_ERE;
		f.fpd = cfg.flags & VTD_CFG_FPD;
		return result_fault(v, req, access, &cfg, f, false, res);
	}

	if (vtd_walk(v, &cfg, req->iova, access, req->ats, &xl))
		return result_fault(v, req, access, &cfg, xl.f, xl.page_req,
				    res);
	if (cfg.pgtt == VTD_PGTT_PT)
		return result_bypass(req, access, res);

	/* What the entry may serve beyond the page's permissions: a
	 * first-stage entry the privilege it was filled for; a second-stage
	 * one supervisor requests if SRE allows them, execute requests only
	 * if ERE does (vtd.md §4: checked whatever the PGTT). */
	if (xl.tlb_flags & HW_TLB_S1) {
		prv = access & IONEST_ACCESS_PRIV;
	} else {
		prv = cfg.flags & VTD_CFG_SRE ? IONEST_ACCESS_PRIV : 0;
		if (!(cfg.flags & VTD_CFG_ERE))
			xl.perm &= ~IONEST_ACCESS_EXEC;
	}
	e = (struct hw_tlb_entry){
		.va = (req->iova >> xl.shift) << xl.shift,
		.pa = (xl.pa >> xl.shift) << xl.shift,
		.sid = req->sid,
		.ssid = key,
		.dom = cfg.did,
		.shift = xl.shift,
		.flags = (uint8_t)(xl.perm | prv | xl.tlb_flags),
		.asid = cfg.pasid,
	};
	vtd_psc_fill(v, req, key, &cfg, &xl, pgen);
	if (!covers_interrupt(&e))
		hw_tlb_insert(&v->iotlb, &e, tgen);

	res->status = IONEST_XLATE_OK;
	res->addr = xl.pa;
	res->size = 1ull << xl.shift;
	res->perm = xl.perm | prv;
	return 0;
}

/*
 * What an IOTLB entry's flags need to serve a request. Index: the
 * request's IONEST_ACCESS_* bits, | 16 with a PASID; value: the R/W/X
 * flags it needs, and PRIV for a supervisor request (first-stage entries
 * filled for one, second-stage entries under SRE carry it). An execute
 * request is a read with the execute attribute. Requests the full checks
 * refuse (no read or write; execute or privilege without a PASID prefix)
 * need TLB_NEVER, a flag no IOTLB entry carries, so they never hit. That a
 * first-stage entry filled for a supervisor request serves no user request
 * is checked beside it (tlb_serves).
 */
#define TLB_NEVER 0x80u
_Static_assert(!(TLB_NEVER &
		 (ACCESS_ALL | HW_TLB_S1 | HW_TLB_S2 | HW_TLB_GLOBAL)),
	       "TLB_NEVER is no IOTLB flag");
#define NEED(a, pasid)                                                       \
	((!((a)&ACCESS_RWX) ||                                               \
	  (!(pasid) && ((a) & (IONEST_ACCESS_EXEC | IONEST_ACCESS_PRIV)))) ? \
		 TLB_NEVER :                                                 \
		 (((a) & (IONEST_ACCESS_READ | IONEST_ACCESS_EXEC) ?         \
			   IONEST_ACCESS_READ :                              \
			   0) |                                              \
		  ((a)&IONEST_ACCESS_WRITE) | ((a)&IONEST_ACCESS_EXEC) |     \
		  ((a)&IONEST_ACCESS_PRIV)))
#define NEED4(a, p) NEED(a, p), NEED(a + 1, p), NEED(a + 2, p), NEED(a + 3, p)
#define NEED16(p) NEED4(0, p), NEED4(4, p), NEED4(8, p), NEED4(12, p)
static const uint8_t tlb_need[32] = { NEED16(0), NEED16(1) };

/* An IOTLB entry with @flags serves a request of @access (< 16, @pasid
 * whether it has a PASID): the permissions and privilege, and for
 * first-stage entries filled for a supervisor request, that the request is
 * one. Branch-free: flags >> 1 moves HW_TLB_S1 onto IONEST_ACCESS_PRIV, and
 * need has PRIV only when the access has. */
_Static_assert(HW_TLB_S1 >> 1 == IONEST_ACCESS_PRIV, "tlb_serves");
static inline bool tlb_serves(uint32_t flags, uint32_t access, bool pasid)
{
	uint32_t need = tlb_need[access | (pasid ? 16 : 0)];

	return ((flags & need) |
		(flags & ~access & (flags >> 1) & IONEST_ACCESS_PRIV)) == need;
}

/* Field by field: a compound literal may become a string store whose
 * start-up cost is a large part of a hit. */
static inline void result_ok(struct ionest_xlate_res *res, uint64_t iova,
			     uint64_t pa, unsigned shift, uint32_t flags)
{
	res->status = IONEST_XLATE_OK;
	res->perm = flags & ACCESS_ALL;
	res->addr = pa + (iova & ((1ull << shift) - 1));
	res->size = 1ull << shift;
	res->fault = 0;
	res->recorded = false;
	res->stage2 = false;
	res->stag = 0;
	res->fault_addr = 0;
}

static bool access_ok(const struct ionest_xlate_req *req, uint32_t *access)
{
	uint32_t a = req->access;

	/* An execute request is a read with the execute attribute. */
	if (a & IONEST_ACCESS_EXEC)
		a |= IONEST_ACCESS_READ;
	*access = a;
	return !(a & ~ACCESS_ALL) &&
	       (a & (IONEST_ACCESS_READ | IONEST_ACCESS_WRITE)) &&
	       req->sid <= 0xffff &&
	       (req->ssid_valid ?
			req->ssid <= 0xfffff :
			!(a & (IONEST_ACCESS_PRIV | IONEST_ACCESS_EXEC)));
}

/* Malformed requests, translation off or blocked, translation requests,
 * IOTLB block sizes the hit path did not probe (@todo), and IOTLB entries
 * that do not serve the access. */
static __attribute__((noinline)) int
translate_other(struct vtd *v, const struct ionest_xlate_req *req,
		struct ionest_xlate_res *res, uint64_t todo)
{
	uint32_t access, mode, key;
	struct vtd_fault f;
	uint64_t pa, attr;

	if (!access_ok(req, &access))
		return -EINVAL;
	if (is_interrupt(req))
		return interrupt_request(v, req, access, res);
	mode = __atomic_load_n(&v->mode, __ATOMIC_ACQUIRE);
	key = stream_key(req);
	if (mode == VTD_MODE_ON) {
		if (!req->ats && todo &&
		    hw_tlb_find_sizes(&v->iotlb, req->sid, key, req->iova, todo,
				      &pa, &attr) &&
		    tlb_serves(hw_tlb_attr_flags(attr), req->access,
			       req->ssid_valid)) {
			hw_count(&v->hw, hw_translate);
			hw_count(&v->hw, hw_tlb_hit);
			result_ok(res, req->iova, pa, hw_tlb_attr_shift(attr),
				  hw_tlb_attr_flags(attr));
			return 0;
		}
		return vtd_tlb_miss(v, req, access, NULL, res);
	}
	hw_count(&v->hw, hw_translate);
	memset(res, 0, sizeof(*res));
	if (mode == VTD_MODE_OFF)
		return result_bypass(req, access, res);
	/* Translation enabled on a root table the model cannot use: every
	 * request faults, always recorded (regs.c). */
	f = (struct vtd_fault){ .reason = VTD_FR_ROOT_TABLE_INV,
				.fault_addr = req->iova };
	return result_fault(v, req, access, NULL, f, false, res);
}

/*
 * The hit path (performance.md T1). It checks only what a hit depends on:
 * IOTLB entries exist only for streams the full checks accepted, so a hit
 * vouches for the source-id, and for the PASID once one with bit 31 set
 * (which would alias the valid flag of the key) is excluded here; the
 * access bits go through tlb_need. Everything else - translation off, ATS,
 * a PASID beyond 20 bits, other block sizes, an entry that does not serve -
 * goes to translate_other. A miss at the only block size in use goes
 * straight to the PDE cache with the set it probed, for the fill.
 */
int vtd_translate(struct ionest_hw *hw, const struct ionest_xlate_req *req,
		  struct ionest_xlate_res *res)
{
	struct vtd *v = to_vtd(hw);
	const uint32_t access = req->access;
	const uint32_t ssid = req->ssid_valid ? req->ssid : 0;
	uint64_t todo = __atomic_load_n(&v->iotlb.shifts, __ATOMIC_RELAXED);

	if (__builtin_expect(__atomic_load_n(&v->mode, __ATOMIC_ACQUIRE) ==
					     VTD_MODE_ON &&
				     !req->ats && access < 16 &&
				     !(ssid >> 20) && todo,
			     1)) {
		const uint32_t key =
			req->ssid_valid ? ssid | HW_TLB_SSID_VALID : 0;
		const uint64_t k = hw_tlb_key(req->sid, key);
		const unsigned sh = (unsigned)__builtin_ctzll(todo);
		struct hw_tlb_set *set =
			hw_tlb_set_at(&v->iotlb, hw_tlb_mix(k), req->iova, sh);
		uint64_t pa, attr;
		int hit = hw_tlb_probe_set(set, k, req->iova, sh, &pa, &attr);

		if (__builtin_expect(hit > 0, 1)) {
			uint32_t fl = hw_tlb_attr_flags(attr);

			if (__builtin_expect(tlb_serves(fl, access,
							req->ssid_valid),
					     1)) {
				hw_count(hw, hw_translate);
				hw_count(hw, hw_tlb_hit);
				/* The probe matched size @sh: known before
				 * the entry is read, so the offset mask is
				 * off the load's path. */
				result_ok(res, req->iova, pa, sh, fl);
				return 0;
			}
			todo = 0; /* a hit that does not serve: a miss */
		} else if (hit == 0) {
			todo &= todo - 1;
			if (!todo) {
				uint32_t a;

				/* Missed at the only size: well-formed? */
				if (!access_ok(req, &a))
					return -EINVAL;
				if (is_interrupt(req))
					return interrupt_request(v, req, a,
								 res);
				return vtd_tlb_miss(v, req, a,
						    sh == 12 ? set : NULL, res);
			}
		}
	}
	return translate_other(v, req, res, todo);
}

/*
 * The DMA hit rule (struct hw_dma_rule): the first branch of
 * vtd_translate's hit path for a plain read or write without ATS -
 * translation on (VTD_MODE_ON), an entry at the smallest block size, served
 * as tlb_serves decides. Everything else, including a hit at a larger
 * block size, is left to vtd_translate.
 */
static bool dma_serves(uint32_t flags, uint32_t access, bool pasid)
{
	return tlb_serves(flags, access, pasid);
}

void vtd_dma_rule(struct vtd *v)
{
	/* tlb_serves for a plain read or write: the permission, and a
	 * first-stage entry filled for a privileged request (PRIV with S1)
	 * does not serve it. hw_dma_rule_set checks this against it. */
	hw_dma_rule_set(&v->hw, &v->iotlb, &v->mode, ~0u, VTD_MODE_ON,
			tlb_need[IONEST_ACCESS_READ],
			tlb_need[IONEST_ACCESS_WRITE],
			IONEST_ACCESS_PRIV | HW_TLB_S1, dma_serves);
}
