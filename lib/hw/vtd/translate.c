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
			  uint32_t access, struct ionest_xlate_res *res)
{
	uint64_t tgen = hw_tlb_gen(&v->iotlb);
	uint32_t key = stream_key(req);
	struct vtd_fault f = { .fault_addr = req->iova };
	struct vtd_xl xl = { 0 };
	struct hw_tlb_entry e;
	struct vtd_cfg cfg;
	uint32_t prv = 0;

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
	hw_tlb_insert(&v->iotlb, &e, tgen);

	res->status = IONEST_XLATE_OK;
	res->addr = xl.pa;
	res->size = 1ull << xl.shift;
	res->perm = xl.perm | prv;
	return 0;
}

int vtd_translate(struct ionest_hw *hw, const struct ionest_xlate_req *req,
		  struct ionest_xlate_res *res)
{
	struct vtd *v = to_vtd(hw);
	uint32_t access = req->access;
	struct hw_tlb_entry e;
	struct vtd_fault f;
	uint32_t mode;

	/* An execute request is a read with the execute attribute. */
	if (access & IONEST_ACCESS_EXEC)
		access |= IONEST_ACCESS_READ;
	if ((access & ~ACCESS_ALL) ||
	    !(access & (IONEST_ACCESS_READ | IONEST_ACCESS_WRITE)) ||
	    req->sid > 0xffff || (req->ssid_valid && req->ssid > 0xfffff) ||
	    (!req->ssid_valid &&
	     (access & (IONEST_ACCESS_PRIV | IONEST_ACCESS_EXEC))))
		return -EINVAL;

	memset(res, 0, sizeof(*res));
	hw_count(hw, hw_translate);
	mode = __atomic_load_n(&v->mode, __ATOMIC_ACQUIRE);
	if (__builtin_expect(mode == VTD_MODE_ON, 1)) {
		if (hw_tlb_lookup(&v->iotlb, req->sid, stream_key(req),
				  req->iova, &e)) {
			uint32_t need = access & ACCESS_RWX;
			bool prv_ok = !(e.flags & HW_TLB_S1) ||
				      (e.flags & IONEST_ACCESS_PRIV) ==
					      (access & IONEST_ACCESS_PRIV);

			if ((e.flags & need) == need && prv_ok) {
				hw_count(hw, hw_tlb_hit);
				res->status = IONEST_XLATE_OK;
				res->addr = e.pa + (req->iova &
						    ((1ull << e.shift) - 1));
				res->size = 1ull << e.shift;
				res->perm = e.flags & ACCESS_ALL;
				return 0;
			}
		}
		hw_count(hw, hw_tlb_miss);
		return translate_slow(v, req, access, res);
	}
	if (mode == VTD_MODE_OFF)
		return result_bypass(req, access, res);
	/* Translation enabled on a root table the model cannot use: every
	 * request faults, always recorded (regs.c). */
	f = (struct vtd_fault){ .reason = VTD_FR_ROOT_TABLE_INV,
				.fault_addr = req->iova };
	return result_fault(v, req, access, NULL, f, false, res);
}
