// SPDX-License-Identifier: MIT
/*
 * The register fields a machine file may override, per model, with their
 * architectural ranges. Names are the fields of struct ionest_smmuv3_config,
 * ionest_vtd_config and ionest_mock_config (<ionest/hw.h>, <ionest/ionest.h>);
 * the models reject combinations the architecture forbids.
 */
#include <stddef.h>
#include <string.h>

#include "machine/config.h"

#define F(s, fld, k, b, lo, hi, w)                                      \
	{                                                               \
		.name = #fld, .offset = offsetof(struct s, fld),        \
		.kind = MCFG_K_##k, .boolean = b, .min = lo, .max = hi, \
		.what = w,                                              \
	}
#define S(fld, lo, hi, w) F(ionest_smmuv3_config, fld, CFG8, false, lo, hi, w)
#define SB(fld, w) F(ionest_smmuv3_config, fld, CFG8, true, 0, 1, w)
#define V(fld, lo, hi, w) F(ionest_vtd_config, fld, CFG8, false, lo, hi, w)
#define VB(fld, w) F(ionest_vtd_config, fld, CFG8, true, 0, 1, w)

/* SMMUv3 ID register fields (smmuv3.md, ID registers). */
static const struct mcfg_field smmuv3_fields[] = {
	SB(s1p, "IDR0.S1P: stage 1 supported"),
	SB(s2p, "IDR0.S2P: stage 2 supported"),
	S(sidsize, 0, 32, "IDR1.SIDSIZE: StreamID bits"),
	S(ssidsize, 0, 20, "IDR1.SSIDSIZE: SubstreamID bits"),
	S(oas, 0, 6, "IDR5.OAS encoding (0=32 .. 5=48, 6=52 bits)"),
	SB(gran4k, "IDR5.GRAN4K"),
	SB(gran16k, "IDR5.GRAN16K"),
	SB(gran64k, "IDR5.GRAN64K"),
	SB(ats, "IDR0.ATS"),
	SB(pri, "IDR0.PRI (needs ats)"),
	S(st_level, 0, 1, "IDR0.ST_LEVEL (0 linear, 1 two-level)"),
	SB(cd2l, "IDR0.CD2L"),
	SB(ril, "IDR3.RIL: range invalidation"),
	SB(asid16, "IDR0.ASID16"),
	SB(vmid16, "IDR0.VMID16"),
	S(httu, 0, 2, "IDR0.HTTU (1 access flag, 2 access + dirty)"),
	S(stall_model, 0, 2, "IDR0.STALL_MODEL"),
	SB(hyp, "IDR0.HYP"),
	S(cmdqs, 0, 19, "IDR1.CMDQS: log2 command queue entries"),
	S(eventqs, 0, 19, "IDR1.EVENTQS: log2 event queue entries"),
	S(priqs, 0, 19, "IDR1.PRIQS: log2 PRI queue entries"),
	S(s2wc_log2, 2, 24, "log2 stage-2 walk cache entries"),
	F(ionest_smmuv3_config, tlb_entries, U32, false, 1, 1u << 24,
	  "TLB entries"),
	{ 0 },
};

/* VT-d CAP/ECAP fields (vtd.md, capability registers). */
static const struct mcfg_field vtd_fields[] = {
	V(sagaw, 0, 31,
	  "CAP.SAGAW: second-stage widths (bit 1 = 39, bit 2 = 48, bit 3 = 57 bits)"),
	V(mgaw, 0, 63, "CAP.MGAW: guest address width - 1"),
	V(sslps, 0, 15,
	  "CAP.SSLPS: second-stage large pages (bit 0 = 2M, bit 1 = 1G)"),
	VB(fs1gp, "CAP.FS1GP: first-stage 1G pages"),
	VB(fs5lp, "CAP.FS5LP: first-stage 5-level paging"),
	V(nd, 0, 6, "CAP.ND: domain-id bits = 4 + 2 * ND"),
	V(nfr, 0, 254, "CAP.NFR: fault recording registers - 1"),
	VB(psi, "CAP.PSI: page-selective invalidation"),
	V(mamv, 0, 63, "CAP.MAMV: maximum address mask value"),
	VB(cm, "CAP.CM: caching mode"),
	VB(qi, "ECAP.QI: queued invalidation"),
	VB(dt, "ECAP.DT: device-TLB"),
	VB(pt, "ECAP.PT: pass-through"),
	VB(sc, "ECAP.SC: snoop control"),
	VB(nest, "ECAP.NEST: nested translation"),
	VB(prs, "ECAP.PRS: page requests"),
	VB(srs, "ECAP.SRS: supervisor requests"),
	VB(ers, "ECAP.ERS: execute requests"),
	V(pss, 0, 19, "ECAP.PSS: PASID bits - 1"),
	VB(pasid, "ECAP.PASID"),
	VB(smts, "ECAP.SMTS: scalable mode"),
	VB(ssads, "ECAP.SSADS: second-stage accessed/dirty"),
	VB(ssts, "ECAP.SSTS: second-stage translation"),
	VB(fsts, "ECAP.FSTS: first-stage translation"),
	VB(eafs, "ECAP.EAFS: extended accessed flag"),
	F(ionest_vtd_config, tlb_entries, U32, false, 1, 1u << 24,
	  "IOTLB entries"),
	{ 0 },
};

static const struct mcfg_field mock_fields[] = {
	F(ionest_mock_config, aperture_start, U64, false, 0, UINT64_MAX,
	  "first IOVA of the aperture"),
	F(ionest_mock_config, aperture_last, U64, false, 0, UINT64_MAX,
	  "last IOVA of the aperture"),
	F(ionest_mock_config, pgsize_bitmap, U64, false, 1, UINT64_MAX,
	  "page sizes"),
	F(ionest_mock_config, msi_start, U64, false, 0, UINT64_MAX,
	  "first IOVA of the software MSI window"),
	F(ionest_mock_config, msi_last, U64, false, 0, UINT64_MAX,
	  "last IOVA of the software MSI window"),
	F(ionest_mock_config, no_msi, U8, true, 0, 1, "no MSI window"),
	F(ionest_mock_config, pasid_bits, CFG8, false, 0, 20, "PASID bits"),
	F(ionest_mock_config, dirty, CFG8, true, 0, 1, "dirty tracking"),
	F(ionest_mock_config, ats, CFG8, true, 0, 1, "ATS"),
	{ 0 },
};

static const char *const model_names[MCFG_NMODELS] = {
	[MCFG_MOCK] = "mock",
	[MCFG_SMMUV3] = "smmuv3",
	[MCFG_VTD] = "vtd",
};

static const struct mcfg_field *const model_fields[MCFG_NMODELS] = {
	[MCFG_MOCK] = mock_fields,
	[MCFG_SMMUV3] = smmuv3_fields,
	[MCFG_VTD] = vtd_fields,
};

const char *mcfg_model_name(enum mcfg_model m)
{
	return (unsigned)m < MCFG_NMODELS ? model_names[m] : "?";
}

int mcfg_model_find(const char *name)
{
	for (int i = 0; i < MCFG_NMODELS; i++) {
		if (!strcmp(model_names[i], name))
			return i;
	}
	return -1;
}

const char *mcfg_nesting_name(enum mcfg_nesting n)
{
	switch (n) {
	case MCFG_NEST_HW:
		return "hw";
	case MCFG_NEST_SHADOW:
		return "shadow";
	default:
		return "auto";
	}
}

const struct mcfg_field *mcfg_fields(enum mcfg_model m)
{
	return (unsigned)m < MCFG_NMODELS ? model_fields[m] : NULL;
}

const struct mcfg_field *mcfg_field_find(enum mcfg_model m, const char *name)
{
	const struct mcfg_field *f = mcfg_fields(m);

	for (; f && f->name; f++) {
		if (!strcmp(f->name, name))
			return f;
	}
	return NULL;
}

void mcfg_field_set(struct mcfg_iommu *io, const struct mcfg_field *f,
		    uint64_t v)
{
	unsigned char *p = (unsigned char *)&io->cfg + f->offset;

	switch (f->kind) {
	case MCFG_K_CFG8:
		*p = IONEST_CFG(v);
		break;
	case MCFG_K_U8:
		*p = (uint8_t)v;
		break;
	case MCFG_K_U32: {
		uint32_t x = (uint32_t)v;

		memcpy(p, &x, sizeof(x));
		break;
	}
	default:
		memcpy(p, &v, sizeof(v));
		break;
	}
}
