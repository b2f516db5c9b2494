// SPDX-License-Identifier: MIT
/*
 * PASID directory and PASID table entries (vtd.md §4): an 8-byte directory
 * entry per 64 PASIDs (PASID[19:6]) pointing to a 4 KB table of 64 64-byte
 * PASID entries (PASID[5:0]). Both are host-physical and host-owned.
 */
#include <errno.h>
#include <string.h>

#include "hw/vtd/vtd.h"

static int pe_fault(struct vtd_fault *f, uint8_t reason, bool fpd)
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

static bool pgtt_uses_fs(unsigned pgtt)
{
	return pgtt == VTD_PGTT_FS || pgtt == VTD_PGTT_NESTED;
}

static bool pgtt_uses_ss(unsigned pgtt)
{
	return pgtt == VTD_PGTT_SS || pgtt == VTD_PGTT_NESTED;
}

/* Non-zero reserved fields, including those of features the part does not
 * have and pointers beyond the address width (fault 0x5A). */
static bool pe_reserved(const struct vtd *v, const uint64_t *pe)
{
	unsigned pgtt = VTD_PE_PGTT(pe[0]);

	if ((pe[0] & VTD_PE_RSVD0) || (pe[1] & VTD_PE_RSVD1) ||
	    (pe[2] & VTD_PE_RSVD2))
		return true;
	for (unsigned i = 3; i < 8; i++)
		if (pe[i])
			return true;
	if (((pe[0] & VTD_PE_SSEE) && !vtd_has(v, VTD_ECAP_ERS)) ||
	    ((pe[0] & VTD_PE_SSADE) && !vtd_has(v, VTD_ECAP_SSADS)) ||
	    ((pe[1] & VTD_PE_PGSNP) && !vtd_has(v, VTD_ECAP_SC)) ||
	    ((pe[2] & VTD_PE_SRE) && !vtd_has(v, VTD_ECAP_SRS)) ||
	    ((pe[2] & VTD_PE_ERE) && !vtd_has(v, VTD_ECAP_ERS)) ||
	    ((pe[2] & VTD_PE_EAFE) && !vtd_has(v, VTD_ECAP_EAFS)))
		return true;
	/* Domain-ids beyond CAP.ND do not exist. */
	if (v->ndom_bits < 16 && (VTD_PE_DID(pe[1]) >> v->ndom_bits))
		return true;
	if (pgtt_uses_ss(pgtt) && beyond_haw(v, pe[0] & VTD_PE_PTR_MASK))
		return true;
	/* FSPTPTR is a host address, or a guest one (nested) bounded by the
	 * same MGAW. */
	if (pgtt_uses_fs(pgtt) && beyond_haw(v, pe[2] & VTD_PE_PTR_MASK))
		return true;
	return false;
}

/* Programming the part cannot do (fault 0x5B): PGTT it lacks, SS width
 * not in SAGAW, FS paging mode it lacks. */
static bool pe_invalid(const struct vtd *v, const uint64_t *pe)
{
	unsigned pgtt = VTD_PE_PGTT(pe[0]);
	unsigned aw = VTD_PE_AW(pe[0]), fspm = VTD_PE_FSPM(pe[2]);

	switch (pgtt) {
	case VTD_PGTT_FS:
		if (!vtd_has(v, VTD_ECAP_FSTS))
			return true;
		break;
	case VTD_PGTT_SS:
		if (!vtd_has(v, VTD_ECAP_SSTS))
			return true;
		break;
	case VTD_PGTT_NESTED:
		if (!vtd_has(v, VTD_ECAP_NEST))
			return true;
		break;
	case VTD_PGTT_PT:
		if (!vtd_has(v, VTD_ECAP_PT))
			return true;
		break;
	default:
		return true;
	}
	if (pgtt_uses_ss(pgtt) &&
	    (aw < 1 || aw > 3 || !(VTD_CAP_SAGAW(v->cap) & (1u << aw))))
		return true;
	if (pgtt_uses_fs(pgtt) &&
	    (fspm > 1 || (fspm == 1 && !(v->cap & VTD_CAP_FS5LP))))
		return true;
	return false;
}

static void pe_decode(const uint64_t *pe, struct vtd_cfg *cfg)
{
	unsigned pgtt = VTD_PE_PGTT(pe[0]);
	uint32_t fl = 0;

	cfg->pgtt = (uint8_t)pgtt;
	cfg->did = VTD_PE_DID(pe[1]);
	cfg->fs_ias = 0;
	cfg->ss_ias = 0;
	cfg->fsptptr = 0;
	cfg->ssptptr = 0;
	if (pgtt_uses_fs(pgtt)) {
		cfg->fs_ias = VTD_PE_FSPM(pe[2]) ? 57 : 48;
		cfg->fsptptr = pe[2] & VTD_PE_PTR_MASK;
	}
	if (pgtt_uses_ss(pgtt)) {
		cfg->ss_ias = (uint8_t)(30 + 9 * VTD_PE_AW(pe[0]));
		cfg->ssptptr = pe[0] & VTD_PE_PTR_MASK;
		if (pe[0] & VTD_PE_SSADE)
			fl |= VTD_CFG_SSADE;
		if (pe[0] & VTD_PE_SSEE)
			fl |= VTD_CFG_SSEE;
	}
	if (pe[2] & VTD_PE_SRE)
		fl |= VTD_CFG_SRE;
	if (pe[2] & VTD_PE_ERE)
		fl |= VTD_CFG_ERE;
	if (pe[2] & VTD_PE_WPE)
		fl |= VTD_CFG_WPE;
	if (pe[2] & VTD_PE_EAFE)
		fl |= VTD_CFG_EAFE;
	if (pe[1] & VTD_PE_PGSNP)
		fl |= VTD_CFG_PGSNP;
	if (pe[1] & VTD_PE_PWSNP)
		fl |= VTD_CFG_PWSNP;
	cfg->flags |= fl;
}

int vtd_pasid_fetch(struct vtd *v, const struct vtd_ctx *ctx, uint32_t pasid,
		    struct vtd_cfg *cfg, struct vtd_fault *f)
{
	uint64_t de, pe[8], ptp;
	bool fpd = ctx->fpd;

	/* Faults from here on are qualified: FPD in the context entry, then
	 * in the directory entry, suppresses their recording. */
	if (!hw_bus_read(&v->hw, ctx->pdir + 8ull * (pasid >> 6), &de, 1))
		return pe_fault(f, VTD_FR_PDE_ACCESS, fpd);
	if (!(de & VTD_PDE_P))
		return pe_fault(f, VTD_FR_PDE_NP, fpd);
	if ((de & VTD_PDE_RSVD) || beyond_haw(v, de & VTD_PDE_PTP_MASK))
		return pe_fault(f, VTD_FR_PDE_RSVD, fpd);
	fpd |= (de & VTD_PDE_FPD) != 0;

	ptp = de & VTD_PDE_PTP_MASK;
	if (!hw_bus_read(&v->hw, ptp + 64ull * (pasid & 63), pe, 8))
		return pe_fault(f, VTD_FR_PE_ACCESS, fpd);
	if (!(pe[0] & VTD_PE_P))
		return pe_fault(f, VTD_FR_PE_NP, fpd);
	if (pe_reserved(v, pe))
		return pe_fault(f, VTD_FR_PE_RSVD, fpd);
	if (pe_invalid(v, pe))
		return pe_fault(f, VTD_FR_PE_INV, fpd);

	cfg->pasid = pasid;
	cfg->flags = 0;
	if (ctx->fpd)
		cfg->flags |= VTD_CFG_FPD_CTX;
	if (fpd || (pe[0] & VTD_PE_FPD))
		cfg->flags |= VTD_CFG_FPD;
	if (ctx->dte)
		cfg->flags |= VTD_CFG_DTE;
	if (ctx->pre)
		cfg->flags |= VTD_CFG_PRE;
	pe_decode(pe, cfg);
	return 0;
}

int vtd_cfg_fetch(struct vtd *v, uint32_t sid, bool pasid_valid, uint32_t pasid,
		  struct vtd_cfg *cfg, struct vtd_fault *f)
{
	struct vtd_ctx ctx;

	if (vtd_ctx_fetch(v, sid, &ctx, f))
		return -EFAULT;
	if (pasid_valid) {
		if (!ctx.paside)
			return pe_fault(f, VTD_FR_CTX_PASIDE, ctx.fpd);
		if (pasid >= ctx.max_pasid)
			return pe_fault(f, VTD_FR_CTX_PASID_MAX, ctx.fpd);
	} else {
		/* Requests without PASID use the context's RID_PASID. */
		pasid = ctx.rid_pasid;
		if (pasid >= ctx.max_pasid)
			return pe_fault(f, VTD_FR_CTX_RID_PASID, ctx.fpd);
	}
	cfg->sid = sid;
	cfg->key = pasid_valid ? pasid | HW_TLB_SSID_VALID : 0;
	memset(cfg->pad, 0, sizeof(cfg->pad));
	return vtd_pasid_fetch(v, &ctx, pasid, cfg, f);
}
