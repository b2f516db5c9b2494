// SPDX-License-Identifier: MIT
/*
 * A request through the model: IOTLB (lock-free hit), then the combined
 * context/PASID cache or a table fetch, request checks against the PASID
 * entry, the walk, and on failure a fault record, a page request, or (for
 * ATS) a translation-request completion without access.
 *
 * Requests without a PASID use the context entry's RID_PASID and cannot
 * carry the privileged or execute attributes (they live in the PASID
 * prefix): such a request is malformed (-EINVAL).
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

/* Faults an ATS translation request answers with "no access" (R=W=0)
 * instead of a fault record: the page is not there or not allowed. */
static bool ats_no_access(uint8_t reason)
{
	switch (reason) {
	case VTD_FR_FS_NP:
	case VTD_FR_SS_PERM:
	case VTD_FR_FS_US:
	case VTD_FR_EXEC:
	case VTD_FR_WRITE:
	case VTD_FR_READ:
		return true;
	default:
		return false;
	}
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
	if (req->ats && ats_no_access(f.reason))
		return 0;
	res->recorded = vtd_fault_record(v, req, access, &f);
	return 0;
}

static int translate_slow(struct vtd *v, const struct ionest_xlate_req *req,
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

	if (xl.tlb_flags & HW_TLB_S1)
		prv = access & IONEST_ACCESS_PRIV;
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
	hw_tlb_insert(&v->iotlb, &e, tgen);

	res->status = IONEST_XLATE_OK;
	res->addr = xl.pa;
	res->size = 1ull << xl.shift;
	res->perm = xl.perm | prv;
	return 0;
}

/* An IOTLB entry serves @access: permissions, and for first-stage entries
 * the privilege they were filled for. */
static inline bool tlb_serves(const struct hw_tlb_entry *e, uint32_t access)
{
	uint32_t need = access & ACCESS_RWX;

	if (access & IONEST_ACCESS_EXEC)
		need |= IONEST_ACCESS_READ;
	return (e->flags & need) == need &&
	       (!(e->flags & HW_TLB_S1) ||
		(e->flags & IONEST_ACCESS_PRIV) ==
			(access & IONEST_ACCESS_PRIV));
}

static inline void tlb_result(struct vtd *v, const struct ionest_xlate_req *req,
			      const struct hw_tlb_entry *e,
			      struct ionest_xlate_res *res)
{
	hw_count(&v->hw, hw_tlb_hit);
	*res = (struct ionest_xlate_res){
		.status = IONEST_XLATE_OK,
		.perm = e->flags & ACCESS_ALL,
		.addr = e->pa + (req->iova & ((1ull << e->shift) - 1)),
		.size = 1ull << e->shift,
	};
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

/* An IOTLB miss of a well-formed request, translation on: the PDE cache,
 * else the configuration and a walk. */
static __attribute__((noinline)) int
translate_tlb_miss(struct vtd *v, const struct ionest_xlate_req *req,
		   uint32_t access, uint32_t key, struct ionest_xlate_res *res)
{
	uint64_t tgen = hw_tlb_gen(&v->iotlb);

	hw_count(&v->hw, hw_translate);
	hw_count(&v->hw, hw_tlb_miss);
	/* Translation requests check DTE in the context: they take the
	 * configuration path. */
	if (!req->ats && vtd_psc_translate(v, req, access, key, tgen, res))
		return 0;
	return translate_slow(v, req, access, tgen, res);
}

/* Malformed requests, translation off or blocked, translation requests,
 * and IOTLB entries that do not serve the access. */
static __attribute__((noinline)) int
translate_other(struct vtd *v, const struct ionest_xlate_req *req,
		struct ionest_xlate_res *res)
{
	uint32_t access, mode;
	struct vtd_fault f;

	if (!access_ok(req, &access))
		return -EINVAL;
	mode = __atomic_load_n(&v->mode, __ATOMIC_ACQUIRE);
	if (mode == VTD_MODE_ON)
		return translate_tlb_miss(v, req, access, stream_key(req), res);
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

int vtd_translate(struct ionest_hw *hw, const struct ionest_xlate_req *req,
		  struct ionest_xlate_res *res)
{
	struct vtd *v = to_vtd(hw);
	uint32_t access = req->access, key;
	struct hw_tlb_entry e;

	/* The hot path: a read/write DMA (no execute or privilege bits
	 * outside a PASID prefix), translation on. Anything else, including
	 * malformed requests, goes through translate_other. */
	if (__builtin_expect(
		    (access & ~(uint32_t)ACCESS_ALL) ||
			    !(access &
			      (IONEST_ACCESS_READ | IONEST_ACCESS_WRITE)) ||
			    req->sid > 0xffff || req->ats ||
			    (req->ssid_valid ?
				     req->ssid > 0xfffff :
				     (access & (IONEST_ACCESS_PRIV |
						IONEST_ACCESS_EXEC)) != 0) ||
			    __atomic_load_n(&v->mode, __ATOMIC_ACQUIRE) !=
				    VTD_MODE_ON,
		    0))
		return translate_other(v, req, res);
	key = stream_key(req);
	if (__builtin_expect(hw_tlb_lookup(&v->iotlb, req->sid, key, req->iova,
					   &e) &&
				     tlb_serves(&e, access),
			     1)) {
		hw_count(hw, hw_translate);
		tlb_result(v, req, &e, res);
		return 0;
	}
	if (access & IONEST_ACCESS_EXEC)
		access |= IONEST_ACCESS_READ;
	return translate_tlb_miss(v, req, access, key, res);
}

/*
 * hw_ops.dma_hit: vtd_translate's hot path for a plain read or write
 * without ATS (no PRIV or EXEC, so any stream qualifies; the caller's
 * PASID is 20 bits). The same IOTLB lookup and tlb_serves decide.
 */
bool vtd_dma_hit(struct ionest_hw *hw, uint32_t sid, uint32_t ssid_key,
		 uint64_t iova, uint32_t access, uint64_t *host,
		 uint64_t *block_size)
{
	struct vtd *v = to_vtd(hw);
	struct hw_tlb_entry e;
	uint64_t attr;
	unsigned shift;

	if (__builtin_expect(sid > 0xffff ||
				     __atomic_load_n(&v->mode,
						     __ATOMIC_ACQUIRE) !=
					     VTD_MODE_ON,
			     0) ||
	    !hw_tlb_find_attr(&v->iotlb, sid, ssid_key, iova, &e.pa, &attr))
		return false;
	e.flags = (uint8_t)hw_tlb_attr_flags(attr);
	if (!tlb_serves(&e, access))
		return false;
	hw_count(hw, hw_translate);
	hw_count(hw, hw_tlb_hit);
	shift = hw_tlb_attr_shift(attr);
	*host = e.pa + (iova & ((1ull << shift) - 1));
	*block_size = 1ull << shift;
	return true;
}
