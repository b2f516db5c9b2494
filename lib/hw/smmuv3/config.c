// SPDX-License-Identifier: MIT
/*
 * Configuration fetch: stream table (linear / 2-level) -> STE -> CD table
 * (linear / 2-level) -> CD, each decoded and checked as the architecture
 * requires (spec/smmuv3.md §3-§5). A malformed structure yields the
 * architectural record (C_BAD_STREAMID, C_BAD_STE, C_BAD_SUBSTREAMID,
 * C_BAD_CD, F_STREAM_DISABLED) and a fetch that aborts F_STE_FETCH /
 * F_CD_FETCH; in nested configurations the CD table is at IPAs and a
 * stage-2 fault on it is reported with S2=1, CLASS=CD.
 *
 * Reserved-field policy: fields of features this part does not advertise
 * (HTTU bits, S2FWB, ...) are ignored, as RES0 fields are; values that
 * select something absent or reserved (a granule, a Config, an EATS or
 * STRW encoding, a stall mode) make the structure illegal. Table base bits
 * below the start table's alignment are treated as zero.
 */
#include "hw/smmuv3/smmu.h"

static bool cfg_fault(struct smmu_xctx *x, uint8_t type, uint8_t gate,
		      uint64_t addr)
{
	x->f = (struct smmu_fault){ .type = type, .gate = gate, .addr = addr };
	return false;
}

/* ---- stream table ---- */

static bool bad_sid(struct smmu_xctx *x)
{
	return cfg_fault(x, EVT_C_BAD_STREAMID, SMMU_GATE_RECINVSID, 0);
}

/* Bus address of the STE of x->req->sid. §3 */
bool smmu_ste_locate(struct smmu_xctx *x, uint64_t *pa, struct smmu_l1std *l1d)
{
	struct smmu *s = x->s;
	uint32_t cfg = smmu_ld32(&s->strtab_cfg);
	uint64_t base = smmu_ld64(&s->strtab_base) & STRTAB_BASE_ADDR;
	unsigned fmt = (unsigned)SMMU_BITS(cfg, 17, 16);
	unsigned log2 = (unsigned)SMMU_BITS(cfg, 5, 0);
	unsigned split = (unsigned)SMMU_BITS(cfg, 10, 6);
	uint64_t sid = x->req->sid, l1, l1pa;
	unsigned span;

	/* LOG2SIZE beyond SIDSIZE behaves as SIDSIZE. */
	if (log2 > s->f.sidsize)
		log2 = s->f.sidsize;
	if (sid >> log2)
		return bad_sid(x);
	if (fmt == STRTAB_FMT_LINEAR) {
		*pa = base + sid * STE_SIZE;
		return true;
	}
	/* 2-level: SPLIT must be 6, 8 or 10; other values (and reserved
	 * formats) are treated as a table with no valid StreamID. */
	if (fmt != STRTAB_FMT_2LVL || !s->f.st_level ||
	    (split != 6 && split != 8 && split != 10))
		return bad_sid(x);
	if (split > log2)
		split = log2;
	l1pa = base + (sid >> split) * 8;
	if (!hw_bus_read(&s->hw, l1pa, &l1, 1))
		return cfg_fault(x, EVT_F_STE_FETCH, SMMU_GATE_ALWAYS, l1pa);
	if (l1d)
		*l1d = (struct smmu_l1std){ .pa = l1pa,
					    .desc = l1,
					    .read = true };
	/* Span 0: no level-2 table; Span n: 2^(n-1) STEs (at most SPLIT+1). */
	span = (unsigned)L1STD_SPAN(l1);
	if (!span || span > split + 1 ||
	    (sid & ((1ull << split) - 1)) >> (span - 1))
		return bad_sid(x);
	*pa = (l1 & L1STD_L2PTR) + (sid & ((1ull << split) - 1)) * STE_SIZE;
	return true;
}

/* ---- STE ---- */

static bool bad_ste(struct smmu_xctx *x)
{
	return cfg_fault(x, EVT_C_BAD_STE, SMMU_GATE_ALWAYS, 0);
}

/* Granule encodings: STE.S2TG / CD.TG0, and CD.TG1 (§4, §5). */
static unsigned tg0_shift(uint64_t tg)
{
	static const uint8_t sh[4] = { 12, 16, 14, 0 };

	return sh[tg & 3];
}

static unsigned tg1_shift(uint64_t tg)
{
	static const uint8_t sh[4] = { 0, 14, 12, 16 };

	return sh[tg & 3];
}

/* Output size limit for a granule: 52 bits only with 64K (no LPA2). */
static unsigned eff_pa_bits(const struct smmu *s, unsigned enc, unsigned gran)
{
	unsigned bits = smmu_pa_bits(enc);

	if (bits > s->f.oas_bits)
		bits = s->f.oas_bits;
	if (gran != 16 && bits > 48)
		bits = 48;
	return bits;
}

/* Stage-2 fields (§4, §6.5). */
static bool ste_s2(struct smmu_xctx *x, const uint64_t *ste)
{
	struct smmu *s = x->s;
	struct smmu_cfg *c = &x->cfg;
	uint64_t d2 = ste[2];
	unsigned gran = smmu_gran_ok(s, tg0_shift(STE2_S2TG(d2)));
	unsigned t0sz = (unsigned)STE2_S2T0SZ(d2),
		 sl0 = (unsigned)STE2_S2SL0(d2);
	unsigned ias, oas, stride, arm_level, lshift, bits, ias_max;
	struct pt_cfg pc;
	struct pt pt;

	if (!STE2_S2AA64(d2) || STE2_S2ENDI(d2) || !gran || STE2_S2PS(d2) > 6 ||
	    sl0 == 3)
		return bad_ste(x);
	if (STE2_S2S(d2) && s->f.stall_model == SMMU_STALL_TERM_ONLY)
		return bad_ste(x);
	oas = eff_pa_bits(s, (unsigned)STE2_S2PS(d2), gran);
	/* IPA size: at most the IAS (= OAS for AArch64 tables), at least
	 * 25 bits (T0SZ <= 39 without small-T0SZ support). */
	ias = 64 - t0sz;
	ias_max = s->f.oas_bits > 48 && gran != 16 ? 48 : s->f.oas_bits;
	if (t0sz > 39 || ias > ias_max)
		return bad_ste(x);
	stride = gran - 3;
	arm_level = gran == 12 ? 2 - sl0 : 3 - sl0;
	lshift = gran + (3 - arm_level) * stride;
	/* The start table must hold at least two entries and at most 16
	 * concatenated tables; 4K level 0 is never concatenated. */
	if (ias <= lshift)
		return bad_ste(x);
	bits = ias - lshift;
	if (bits > stride + 4 || (arm_level == 0 && bits > stride))
		return bad_ste(x);
	c->s2ttb = ste[3] & STE3_S2TTB;
	if (c->s2ttb >> oas)
		return bad_ste(x);
	c->s2ttb &= ~((8ull << bits) - 1);
	c->s2gran = (uint8_t)gran;
	c->s2ias = (uint8_t)ias;
	c->s2oas = (uint8_t)oas;
	c->s2sl = (uint8_t)(3 - arm_level);
	c->s2affd = (uint8_t)STE2_S2AFFD(d2);
	c->s2r = (uint8_t)STE2_S2R(d2);
	c->s2s = (uint8_t)(STE2_S2S(d2) ||
			   s->f.stall_model == SMMU_STALL_FORCED);
	c->s2ha = (uint8_t)(s->f.httu >= 1 && STE2_S2HA(d2));
	c->s2hd = (uint8_t)(s->f.httu >= 2 && STE2_S2HD(d2) && c->s2ha);
	c->s2ptw = (uint8_t)STE2_S2PTW(d2);
	pc = (struct pt_cfg){
		.fmt = PT_FMT_ARM_S2,
		.granule_shift = (uint8_t)gran,
		.ias = (uint8_t)ias,
		.oas = (uint8_t)oas,
		.start_level = (int8_t)c->s2sl,
	};
	if (pt_attach(&pt, &pc, hw_bus_pt_mem(&s->hw), c->s2ttb))
		return bad_ste(x);
	return true;
}

bool smmu_ste_decode(struct smmu_xctx *x, const uint64_t *ste)
{
	struct smmu *s = x->s;
	struct smmu_cfg *c = &x->cfg;
	uint64_t d0 = ste[0], d1 = ste[1];
	unsigned config = (unsigned)STE0_CONFIG(d0);

	if (!STE0_V(d0))
		return bad_ste(x);
	c->config = (uint8_t)config;
	if (config == STE_CFG_ABORT || config == STE_CFG_BYPASS)
		return true;
	if (!(config & 4))
		return bad_ste(x); /* 0b001-0b011 reserved */
	c->s1 = config & 1;
	c->s2 = (config >> 1) & 1;
	if ((c->s1 && !s->f.s1p) || (c->s2 && !s->f.s2p))
		return bad_ste(x);
	/* The VMID tags stage-1 entries too whenever stage 2 exists. */
	if (s->f.s2p)
		c->vmid = (uint16_t)(STE2_S2VMID(ste[2]) &
				     (s->f.vmid16 ? 0xffff : 0xff));
	/* EATS: 0b11 reserved; 0b10 (split-stage) absent (NS1ATS=1). */
	c->eats = (uint8_t)STE1_EATS(d1);
	if (c->eats == 3 || c->eats == EATS_SPLIT || (c->eats && !s->f.ats))
		return bad_ste(x);
	/* StreamWorld matters only when stage 2 is off [S]: EL2 needs
	 * IDR0.HYP; 0b01 and 0b11 are Secure/reserved encodings. */
	if (!c->s2 && c->s1) {
		unsigned strw = (unsigned)STE1_STRW(d1);

		if (strw == 1 || strw == 3 || (strw == STRW_EL2 && !s->f.hyp))
			return bad_ste(x);
		if (strw == STRW_EL2)
			c->el2 = (smmu_ld32(&s->cr2) & CR2_E2H) ? 2 : 1;
	}
	if (c->s1) {
		c->s1fmt = (uint8_t)STE0_S1FMT(d0);
		c->s1cdmax = (uint8_t)STE0_S1CDMAX(d0);
		c->s1dss = (uint8_t)STE1_S1DSS(d1);
		c->s1stalld = (uint8_t)STE1_S1STALLD(d1);
		c->s1ctxptr = d0 & STE0_CTXPTR;
		if (c->s1fmt == 3 || (c->s1fmt && !s->f.cd2l) ||
		    c->s1cdmax > s->f.ssidsize || (c->s1cdmax && c->s1dss == 3))
			return bad_ste(x);
		/* S1STALLD is meaningful only when stalls are optional. */
		if (c->s1stalld && s->f.stall_model != SMMU_STALL_BOTH)
			return bad_ste(x);
		/* A CD table pointer beyond the PA size (not an IPA). */
		if (!c->s2 && c->s1ctxptr >> s->f.oas_bits)
			return bad_ste(x);
	}
	if (c->s2 && !ste_s2(x, ste))
		return false;
	return true;
}

/* ---- CD table and CD ---- */

static bool bad_cd(struct smmu_xctx *x)
{
	return cfg_fault(x, EVT_C_BAD_CD, SMMU_GATE_ALWAYS, 0);
}

/* Read CD-table words at @addr (an IPA when stage 2 is on). */
static bool cd_read(struct smmu_xctx *x, uint64_t addr, uint64_t *out,
		    unsigned n)
{
	if (x->cfg.s2) {
		x->s2class = EVT_CLASS_CD;
		if (hw_nest_read(&x->nest, addr, out, n))
			return true;
		if (x->nest.faulted) {
			x->f = x->s2f;
			return false;
		}
	} else if (hw_bus_read(&x->s->hw, addr, out, n)) {
		return true;
	}
	return cfg_fault(x, EVT_F_CD_FETCH, SMMU_GATE_ALWAYS, addr);
}

/* Stage-1 start table size in bytes for an input size and granule. */
static uint64_t s1_root_size(unsigned ias, unsigned gran)
{
	unsigned stride = gran - 3;
	unsigned levels = (ias - gran + stride - 1) / stride;

	return 8ull << (ias - gran - (levels - 1) * stride);
}

bool smmu_cd_decode(struct smmu_xctx *x, const uint64_t *cd)
{
	struct smmu *s = x->s;
	struct smmu_cfg *c = &x->cfg;
	uint64_t d0 = cd[0];
	unsigned ips;
	bool all64k = true;

	if (!CD0_V(d0) || !CD0_AA64(d0) || CD0_ENDI(d0) || CD0_IPS(d0) > 6)
		return bad_cd(x);
	/* Stall rules: terminate-only parts reject S=1; with optional
	 * stalls, S=1 under STE.S1STALLD is illegal; forced stalls make
	 * every stage-1 fault stall. */
	if (CD0_S(d0) && (s->f.stall_model == SMMU_STALL_TERM_ONLY ||
			  (s->f.stall_model == SMMU_STALL_BOTH && c->s1stalld)))
		return bad_cd(x);
	c->stall =
		(uint8_t)(CD0_S(d0) || s->f.stall_model == SMMU_STALL_FORCED);
	c->asid = (uint16_t)(CD0_ASID(d0) & (s->f.asid16 ? 0xffff : 0xff));
	c->affd = (uint8_t)CD0_AFFD(d0);
	c->r = (uint8_t)CD0_R(d0);
	c->wxn = (uint8_t)CD0_WXN(d0);
	c->tbi = (uint8_t)CD0_TBI(d0);
	c->ha = (uint8_t)(s->f.httu >= 1 && CD0_HA(d0));
	c->hd = (uint8_t)(s->f.httu >= 2 && CD0_HD(d0) && c->ha);
	c->epd[0] = (uint8_t)CD0_EPD0(d0);
	c->epd[1] = (uint8_t)CD0_EPD1(d0);
	for (unsigned i = 0; i < 2; i++) {
		unsigned tsz = (unsigned)(i ? CD0_T1SZ(d0) : CD0_T0SZ(d0));
		unsigned gran = smmu_gran_ok(s, i ? tg1_shift(CD0_TG1(d0)) :
						    tg0_shift(CD0_TG0(d0)));

		if (c->epd[i])
			continue;
		/* 48-bit VAs at most (no VAX), 25 at least (no STT). */
		if (!gran || tsz < 16 || tsz > 39)
			return bad_cd(x);
		c->gran[i] = (uint8_t)gran;
		c->ias[i] = (uint8_t)(64 - tsz);
		c->had[i] = (uint8_t)CD1_HAD(cd[1 + i]);
		c->ttb[i] = cd[1 + i] & CD_TTB;
		if (gran != 16)
			all64k = false;
	}
	ips = eff_pa_bits(s, (unsigned)CD0_IPS(d0), all64k ? 16 : 12);
	c->ips = (uint8_t)ips;
	for (unsigned i = 0; i < 2; i++) {
		if (c->epd[i])
			continue;
		/* §6.6: a TTB beyond the IPS is an illegal CD. */
		if (c->ttb[i] >> ips)
			return bad_cd(x);
		c->ttb[i] &= ~(s1_root_size(c->ias[i], c->gran[i]) - 1);
	}
	return true;
}

static bool bad_ssid(struct smmu_xctx *x)
{
	return cfg_fault(x, EVT_C_BAD_SUBSTREAMID, SMMU_GATE_ALWAYS, 0);
}

int smmu_cd_select(struct smmu_xctx *x, uint64_t *idx)
{
	struct smmu_cfg *c = &x->cfg;
	const struct ionest_xlate_req *r = x->req;

	*idx = 0;
	if (!c->s1cdmax) {
		if (r->ssid_valid) {
			bad_ssid(x);
			return -1;
		}
	} else if (!r->ssid_valid) {
		if (c->s1dss == S1DSS_TERMINATE) {
			cfg_fault(x, EVT_F_STREAM_DISABLED, SMMU_GATE_ALWAYS,
				  0);
			return -1;
		}
		if (c->s1dss == S1DSS_BYPASS) {
			c->s1 = 0;
			return 0;
		}
	} else {
		/* With S1DSS=0b10, SubstreamID 0 is reserved for
		 * transactions without one. */
		if (r->ssid >> c->s1cdmax ||
		    (c->s1dss == S1DSS_SSID0 && r->ssid == 0)) {
			bad_ssid(x);
			return -1;
		}
		*idx = r->ssid;
	}
	return 1;
}

/* Select and fetch the CD of the transaction (§5). */
static bool cd_fetch(struct smmu_xctx *x)
{
	struct smmu_cfg *c = &x->cfg;
	uint64_t idx, addr, cd[4];
	int sel = smmu_cd_select(x, &idx);

	if (sel <= 0)
		return sel == 0;
	if (c->s1fmt == S1FMT_LINEAR) {
		addr = c->s1ctxptr + idx * CD_SIZE;
	} else {
		unsigned leaf = smmu_cd_leaf_bits(c->s1fmt);
		uint64_t l1;

		if (!cd_read(x, c->s1ctxptr + (idx >> leaf) * 8, &l1, 1))
			return false;
		if (!L1CD_V(l1))
			return bad_cd(x);
		addr = (l1 & L1CD_L2PTR) +
		       (idx & ((1ull << leaf) - 1)) * CD_SIZE;
	}
	if (!cd_read(x, addr, cd, 4))
		return false;
	return smmu_cd_decode(x, cd);
}

bool smmu_config_fetch(struct smmu_xctx *x)
{
	uint64_t pa, ste[4];

	x->cfg = (struct smmu_cfg){ 0 };
	if (!smmu_ste_locate(x, &pa, NULL))
		return false;
	if (!hw_bus_read(&x->s->hw, pa, ste, 4))
		return cfg_fault(x, EVT_F_STE_FETCH, SMMU_GATE_ALWAYS, pa);
	if (!smmu_ste_decode(x, ste))
		return false;
	if (!x->cfg.s1)
		return true;
	if (x->cfg.s2)
		smmu_nest_setup(x);
	return cd_fetch(x);
}
