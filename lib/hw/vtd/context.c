// SPDX-License-Identifier: MIT
/*
 * Scalable-mode root and context entries (vtd.md §3). The root table has
 * 256 128-bit entries indexed by bus; each half points to a context table
 * for devfn 0-127 (lower) or 128-255 (upper) of 128 256-bit entries.
 * Everything here is host-physical and read through the model's bus.
 */
#include <errno.h>

#include "hw/vtd/vtd.h"

static int ctx_fault(struct vtd_fault *f, uint8_t reason, bool fpd)
{
	f->reason = reason;
	f->fpd = fpd;
	f->stage2 = false;
	return -EFAULT;
}

static bool beyond_haw(const struct vtd *v, uint64_t addr)
{
	return v->haw < 64 && (addr >> v->haw) != 0;
}

int vtd_ctx_fetch(struct vtd *v, uint32_t sid, struct vtd_ctx *ctx,
		  struct vtd_fault *f)
{
	unsigned bus = (sid >> 8) & 0xff, devfn = sid & 0xff;
	uint64_t rta = __atomic_load_n(&v->rta, __ATOMIC_ACQUIRE);
	uint64_t re[2], ce[4], half, ctp;
	unsigned pdts;

	/* Root entry: faults here precede any FPD, so they are always
	 * recorded (non-qualified). */
	if (!hw_bus_read(&v->hw, rta + 16ull * bus, re, 2))
		return ctx_fault(f, VTD_FR_ROOT_ACCESS, false);
	/* Only the half that serves this devfn is checked: the other one
	 * may legitimately be absent. */
	half = devfn < 128 ? re[0] : re[1];
	if (!(half & VTD_RE_LP))
		return ctx_fault(f, VTD_FR_ROOT_NP, false);
	if ((half & VTD_RE_RSVD) || beyond_haw(v, half & VTD_RE_CTP_MASK))
		return ctx_fault(f, VTD_FR_ROOT_RSVD, false);
	ctp = half & VTD_RE_CTP_MASK;

	if (!hw_bus_read(&v->hw, ctp + 32ull * (devfn & 0x7f), ce, 4))
		return ctx_fault(f, VTD_FR_CTX_ACCESS, false);
	if (!(ce[0] & VTD_CE_P))
		return ctx_fault(f, VTD_FR_CTX_NP, false);
	/* Fields of features the part lacks are reserved. */
	if ((ce[0] & VTD_CE_RSVD0) || (ce[1] & VTD_CE_RSVD1) || ce[2] ||
	    ce[3] || beyond_haw(v, ce[0] & VTD_CE_PDIR_MASK) ||
	    ((ce[0] & VTD_CE_DTE) && !vtd_has(v, VTD_ECAP_DT)) ||
	    ((ce[0] & VTD_CE_PASIDE) && !vtd_has(v, VTD_ECAP_PASID)) ||
	    ((ce[0] & VTD_CE_PRE) && !vtd_has(v, VTD_ECAP_PRS)))
		return ctx_fault(f, VTD_FR_CTX_RSVD, false);

	pdts = VTD_CE_PDTS(ce[0]);
	ctx->pdir = ce[0] & VTD_CE_PDIR_MASK;
	ctx->rid_pasid = VTD_CE_RID_PASID(ce[1]);
	/* 2^(PDTS+7) directory entries of 64 PASIDs each, capped by the
	 * part's PASID width. */
	ctx->max_pasid = 1u << (pdts + 7 + 6);
	if (ctx->max_pasid > (1u << v->pasid_bits))
		ctx->max_pasid = 1u << v->pasid_bits;
	ctx->fpd = ce[0] & VTD_CE_FPD;
	ctx->dte = ce[0] & VTD_CE_DTE;
	ctx->paside = ce[0] & VTD_CE_PASIDE;
	ctx->pre = ce[0] & VTD_CE_PRE;
	return 0;
}
