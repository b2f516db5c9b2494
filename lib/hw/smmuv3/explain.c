// SPDX-License-Identifier: MIT
/*
 * hw_ops.explain for SMMUv3 (lib/hw/explain.h): the path of fastpath.c and
 * xlate.c taken again step by step, without changing the model. The
 * configuration is decoded by config.c's own functions; walks go through
 * the pt engine with a recording accessor (descriptor updates land in an
 * overlay); the TLB, the stage-1 walk cache, the configuration cache and
 * the stage-2 caches are probed - never filled, never counted - and
 * believed where the real access would believe them. The fault rules are
 * those of xlate.c (spec/smmuv3.md §6, §7, §9); tests hold this file
 * against smmu_translate on random accesses.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hw/explain.h"
#include "hw/smmuv3/walkc.h"
#include "util/alloc.h"

#define ACC_R IONEST_ACCESS_READ
#define ACC_W IONEST_ACCESS_WRITE
#define ACC_X IONEST_ACCESS_EXEC
#define ACC_P IONEST_ACCESS_PRIV

#define WC_FILLS 16

/* One explanation in progress. */
struct sx {
	struct smmu_xctx x; /* for config.c: s, req, cfg, f */
	struct hw_explain *e;
	struct smmu *s;
	const struct ionest_xlate_req *r;
	struct hw_x_overlay ov;
	/* Stage-2 walk-cache fills this access would make (its later table
	 * fetches hit them). */
	struct {
		uint64_t va, pa;
		unsigned shift;
	} fill[WC_FILLS];
	unsigned nfill;
	uint8_t s2class; /* EVT_CLASS_* of the nested fetch under way */
	bool nest_faulted;
	struct smmu_fault s2f; /* the stage-2 fault of a nested fetch */
	int s2_level; /* level of that fault */
	int level; /* level of the fault in x.f */
};

static const char *const evt_names[0x20] = {
	[EVT_F_UUT] = "F_UUT",
	[EVT_C_BAD_STREAMID] = "C_BAD_STREAMID",
	[EVT_F_STE_FETCH] = "F_STE_FETCH",
	[EVT_C_BAD_STE] = "C_BAD_STE",
	[EVT_F_BAD_ATS_TREQ] = "F_BAD_ATS_TREQ",
	[EVT_F_STREAM_DISABLED] = "F_STREAM_DISABLED",
	[EVT_F_TRANSL_FORBIDDEN] = "F_TRANSL_FORBIDDEN",
	[EVT_C_BAD_SUBSTREAMID] = "C_BAD_SUBSTREAMID",
	[EVT_F_CD_FETCH] = "F_CD_FETCH",
	[EVT_C_BAD_CD] = "C_BAD_CD",
	[EVT_F_WALK_EABT] = "F_WALK_EABT",
	[EVT_F_TRANSLATION] = "F_TRANSLATION",
	[EVT_F_ADDR_SIZE] = "F_ADDR_SIZE",
	[EVT_F_ACCESS] = "F_ACCESS",
	[EVT_F_PERMISSION] = "F_PERMISSION",
};

static const char *evt_name(unsigned type)
{
	return type < 0x20 && evt_names[type] ? evt_names[type] : "?";
}

static const char *const class_names[3] = { "CD", "TT", "IN" };

static uint32_t ssid_key(const struct ionest_xlate_req *r)
{
	return r->ssid_valid ? r->ssid | HW_TLB_SSID_VALID : 0;
}

static bool canonical(uint64_t va)
{
	return (uint64_t)((int64_t)(va << 8) >> 8) == va;
}

static bool is_xlate_fault(uint8_t type)
{
	return type >= EVT_F_TRANSLATION && type <= EVT_F_PERMISSION;
}

static unsigned long long ull(uint64_t v)
{
	return (unsigned long long)v;
}

static bool set_fault(struct smmu_fault *f, uint8_t type, bool s2,
		      uint8_t class, uint64_t addr)
{
	*f = (struct smmu_fault){
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

/* A failed check, as a step. */
static bool check_fail(struct sx *c, struct smmu_fault *f, uint8_t type,
		       bool s2, uint8_t class, uint64_t addr, const char *why)
{
	struct hw_xstep *st = hw_x_add(c->e, HW_XS_CHECK, "check");

	hw_x_text(st, "%s -> %s", why, evt_name(type));
	return set_fault(f, type, s2, class, addr);
}

/* SMMU_P_* as text. */
static void perm_text(struct hw_xstep *st, uint32_t p)
{
	/* Read, write, unprivileged access, privileged and unprivileged
	 * execute. */
	hw_x_text(st, "%s%s%s%s%s", (p & SMMU_P_R) ? "R" : "-",
		  (p & SMMU_P_W) ? " W" : " -", (p & SMMU_P_U) ? " U" : "",
		  (p & SMMU_P_PX) ? " PX" : "", (p & SMMU_P_UX) ? " UX" : "");
}

/* ---- descriptors as text ---- */

struct dctx {
	unsigned g; /* granule shift */
	bool s2;
};

static void desc_text(struct hw_xstep *st, unsigned level, uint64_t d,
		      const void *ctx)
{
	const struct dctx *dc = ctx;
	unsigned g = dc->g, shift = g + level * (g - 3);
	uint64_t oa = d & SMMU_MASK(47, 12) & ~((1ull << shift) - 1);

	if (!(d & 1)) {
		hw_x_text(st, "invalid");
		return;
	}
	if (level && (d & 3) == 3) {
		hw_x_text(st, "table -> 0x%llx", ull(d & SMMU_MASK(47, g)));
		if (!dc->s2 && (d >> 59))
			hw_x_text(st, " PXNTable=%u UXNTable=%u APTable=%u",
				  (unsigned)SMMU_BIT(d, 59),
				  (unsigned)SMMU_BIT(d, 60),
				  (unsigned)SMMU_BITS(d, 62, 61));
		return;
	}
	if (!level && (d & 3) != 3) {
		hw_x_text(st, "reserved encoding at the last level");
		return;
	}
	hw_x_text(st, "%s 0x%llx (%llu KiB)", level ? "block" : "page", ull(oa),
		  ull((1ull << shift) >> 10));
	if (dc->s2)
		hw_x_text(st, " S2AP=%s%s MemAttr=0x%x XN=%u",
			  SMMU_BIT(d, 6) ? "R" : "-",
			  SMMU_BIT(d, 7) ? "W" : "-",
			  (unsigned)SMMU_BITS(d, 5, 2),
			  (unsigned)SMMU_BITS(d, 54, 53));
	else
		hw_x_text(st, " AP=%u%s PXN=%u UXN=%u",
			  (unsigned)SMMU_BITS(d, 7, 6),
			  SMMU_BIT(d, 11) ? " nG" : "",
			  (unsigned)SMMU_BIT(d, 53), (unsigned)SMMU_BIT(d, 54));
	hw_x_text(st, " AF=%u%s", (unsigned)SMMU_BIT(d, 10),
		  SMMU_BIT(d, 51) ? " DBM" : "");
}

static void update_text(struct hw_xstep *st, uint64_t old, uint64_t val,
			const void *ctx)
{
	const struct dctx *dc = ctx;
	uint64_t ch = old ^ val;

	if (ch & SMMU_D_AF)
		hw_x_text(st, "hardware sets AF ");
	/* Stage 1 dirty: AP[2] cleared; stage 2: S2AP[1] set. */
	if (ch & (dc->s2 ? (1ull << 7) : SMMU_D_AP2))
		hw_x_text(st, "hardware marks the page dirty ");
	hw_x_text(st, "(0x%llx -> 0x%llx)", ull(old), ull(val));
}

static const char *const config_names[8] = {
	"abort",  "reserved", "reserved", "reserved",
	"bypass", "stage 1",  "stage 2",  "nested (stage 1 + stage 2)",
};

static void ste_text(struct hw_xstep *st, const uint64_t *ste)
{
	unsigned config = (unsigned)STE0_CONFIG(ste[0]);

	if (!STE0_V(ste[0])) {
		hw_x_text(st, "V=0 (invalid)");
		return;
	}
	hw_x_text(st, "Config=%s", config_names[config & 7]);
	if (config & 1)
		hw_x_text(st,
			  " S1ContextPtr=0x%llx S1Fmt=%u S1CDMax=%u S1DSS=%u",
			  ull(ste[0] & STE0_CTXPTR),
			  (unsigned)STE0_S1FMT(ste[0]),
			  (unsigned)STE0_S1CDMAX(ste[0]),
			  (unsigned)STE1_S1DSS(ste[1]));
	if (STE1_EATS(ste[1]))
		hw_x_text(st, " EATS=%u", (unsigned)STE1_EATS(ste[1]));
	if (config & 2)
		hw_x_text(st,
			  " S2VMID=%u S2T0SZ=%u S2SL0=%u S2TG=%u S2PS=%u "
			  "S2TTB=0x%llx%s%s%s%s",
			  (unsigned)STE2_S2VMID(ste[2]),
			  (unsigned)STE2_S2T0SZ(ste[2]),
			  (unsigned)STE2_S2SL0(ste[2]),
			  (unsigned)STE2_S2TG(ste[2]),
			  (unsigned)STE2_S2PS(ste[2]), ull(ste[3] & STE3_S2TTB),
			  STE2_S2AFFD(ste[2]) ? " S2AFFD" : "",
			  STE2_S2HA(ste[2]) ? " S2HA" : "",
			  STE2_S2HD(ste[2]) ? " S2HD" : "",
			  STE2_S2R(ste[2]) ? " S2R" : "");
}

static void cd_text(struct hw_xstep *st, const uint64_t *cd)
{
	uint64_t d0 = cd[0];

	if (!CD0_V(d0)) {
		hw_x_text(st, "V=0 (invalid)");
		return;
	}
	hw_x_text(st, "ASID=%u IPS=%u", (unsigned)CD0_ASID(d0),
		  (unsigned)CD0_IPS(d0));
	if (CD0_EPD0(d0))
		hw_x_text(st, " EPD0");
	else
		hw_x_text(st, " T0SZ=%u TG0=%u TTB0=0x%llx",
			  (unsigned)CD0_T0SZ(d0), (unsigned)CD0_TG0(d0),
			  ull(cd[1] & CD_TTB));
	if (CD0_EPD1(d0))
		hw_x_text(st, " EPD1");
	else
		hw_x_text(st, " T1SZ=%u TG1=%u TTB1=0x%llx",
			  (unsigned)CD0_T1SZ(d0), (unsigned)CD0_TG1(d0),
			  ull(cd[2] & CD_TTB));
	hw_x_text(st, "%s%s%s%s%s%s%s", CD0_AA64(d0) ? " AA64" : "",
		  CD0_R(d0) ? " R" : "", CD0_A(d0) ? " A" : "",
		  CD0_HA(d0) ? " HA" : "", CD0_HD(d0) ? " HD" : "",
		  CD0_AFFD(d0) ? " AFFD" : "", CD0_WXN(d0) ? " WXN" : "");
}

/* ---- stage 2 ---- */

/* MemAttr[3:2] == 0b00: Device memory (S2PTW check). */
static bool s2_device(uint64_t desc)
{
	return !SMMU_BITS(desc, 5, 4);
}

/*
 * Stage-2 walk of @ipa for @access, as xlate.c's s2_walk: steps at the
 * current depth; a fault goes to *f (S2=1, @class) with its level.
 */
static bool s2_walk(struct sx *c, uint64_t ipa, uint32_t access, uint8_t class,
		    struct smmu_stage *o, struct smmu_fault *f, int *level)
{
	const struct smmu_cfg *cf = &c->x.cfg;
	struct pt_cfg pc = {
		.fmt = PT_FMT_ARM_S2,
		.granule_shift = cf->s2gran,
		.ias = cf->s2ias,
		.oas = cf->s2oas,
		.start_level = (int8_t)cf->s2sl,
	};
	unsigned flags =
		(cf->s2ha ? PT_WALK_SET_AF : 0) |
		((cf->s2hd && (access & ACC_W)) ? PT_WALK_SET_DIRTY : 0);
	struct pt_walk_level rec[PT_MAX_LEVELS];
	struct pt_walk w = { .rec = rec };
	struct hw_x_mem m = {
		.x = c->e,
		.hw = &c->s->hw,
		.ov = &c->ov,
		.kind = HW_XS_S2,
		.in = ipa,
	};
	struct dctx dc = { .g = cf->s2gran, .s2 = true };
	struct pt pt;
	uint32_t p;

	*level = -1;
	if (pt_attach(&pt, &pc, hw_x_pt_mem(&m), cf->s2ttb))
		return check_fail(c, f, EVT_F_TRANSLATION, true, class, ipa,
				  "stage-2 tables unusable");
	if (pt_walk(&pt, ipa, flags, &w)) {
		hw_x_walk_done(&m, &pt, &w, "S2", desc_text, &dc);
		*level = pt_arch_level(&pt, w.level);
		switch (w.fault) {
		case PT_FAULT_ADDR_SIZE:
			return check_fail(c, f, EVT_F_ADDR_SIZE, true, class,
					  ipa, "output beyond the stage-2 PS");
		case PT_FAULT_FETCH:
		case PT_FAULT_UPDATE:
			return check_fail(c, f, EVT_F_WALK_EABT, true, class,
					  w.fault_addr,
					  "stage-2 descriptor not readable");
		default:
			return check_fail(c, f, EVT_F_TRANSLATION, true, class,
					  ipa, "no valid stage-2 entry");
		}
	}
	hw_x_walk_done(&m, &pt, &w, "S2", desc_text, &dc);
	hw_x_updates(c->e, &c->ov, HW_XS_S2, update_text, &dc);
	*level = pt_arch_level(&pt, w.level);
	if (!(w.perm & PT_PERM_AF) && !cf->s2affd)
		return check_fail(c, f, EVT_F_ACCESS, true, class, ipa,
				  "stage-2 AF=0 without S2AFFD");
	p = SMMU_P_U | ((w.perm & PT_PERM_R) ? SMMU_P_R : 0) |
	    ((w.perm & PT_PERM_W) ? SMMU_P_W : 0) |
	    ((w.perm & PT_PERM_PX) ? SMMU_P_PX : 0) |
	    ((w.perm & PT_PERM_UX) ? SMMU_P_UX : 0);
	if (!smmu_perm_ok(p, access))
		return check_fail(c, f, EVT_F_PERMISSION, true, class, ipa,
				  "stage 2 does not allow the access");
	if (class == EVT_CLASS_TT && cf->s2ptw && s2_device(w.desc))
		return check_fail(c, f, EVT_F_PERMISSION, true, class, ipa,
				  "S2PTW: stage-1 table in Device memory");
	o->oa = w.oa;
	o->perm = p;
	o->shift = w.leaf_shift;
	o->global = false;
	*level = -1;
	return true;
}

/* The stage-2 translation of a stage-1 structure or table address, as
 * hw_nest does it: the walk cache for reads, else a walk (read, or write
 * for a descriptor update). */
static bool s2_table(struct sx *c, uint64_t ipa, bool write, uint64_t *pa)
{
	struct hw_tlb_entry e;
	struct smmu_stage o;
	struct hw_xstep *st;
	struct smmu_fault f;
	int level;

	if (!write) {
		if (hw_tlb_lookup(&c->s->wc, HW_TLB_SID_S2WC, c->x.cfg.vmid,
				  ipa, &e)) {
			*pa = e.pa + (ipa & ((1ull << e.shift) - 1));
			st = hw_x_cache(c->e, "S2 walk cache", true);
			hw_x_text(st, "IPA 0x%llx -> 0x%llx (VMID %u)",
				  ull(ipa), ull(*pa), c->x.cfg.vmid);
			return true;
		}
		for (unsigned i = 0; i < c->nfill; i++) {
			if ((ipa >> c->fill[i].shift) != c->fill[i].va)
				continue;
			*pa = (c->fill[i].pa << c->fill[i].shift) +
			      (ipa & ((1ull << c->fill[i].shift) - 1));
			st = hw_x_cache(c->e, "S2 walk cache", true);
			hw_x_text(st,
				  "IPA 0x%llx -> 0x%llx (filled earlier in "
				  "this access)",
				  ull(ipa), ull(*pa));
			return true;
		}
		st = hw_x_cache(c->e, "S2 walk cache", false);
		hw_x_text(st, "IPA 0x%llx: walk stage 2 (VMID %u)", ull(ipa),
			  c->x.cfg.vmid);
	} else {
		hw_x_note(c->e, "IPA 0x%llx: stage 2 for the descriptor update",
			  ull(ipa));
	}
	if (!s2_walk(c, ipa, ACC_P | ACC_R | (write ? ACC_W : 0), c->s2class,
		     &o, &f, &level)) {
		f.ttrnw = !write;
		c->s2f = f;
		c->s2_level = level;
		c->nest_faulted = true;
		return false;
	}
	if (!write && o.shift >= 12 && o.shift < 64 && c->nfill < WC_FILLS) {
		c->fill[c->nfill].va = ipa >> o.shift;
		c->fill[c->nfill].pa = o.oa >> o.shift;
		c->fill[c->nfill].shift = o.shift;
		c->nfill++;
	}
	*pa = o.oa;
	return true;
}

static bool xmem_s2(struct hw_x_mem *m, uint64_t ipa, bool write, uint64_t *pa)
{
	return s2_table(m->ctx, ipa, write, pa);
}

/* Words of a stage-1 structure at @ipa through stage 2 (hw_nest_read):
 * false with c->nest_faulted for a stage-2 fault, else a bus abort. */
static bool nest_read(struct sx *c, uint64_t ipa, uint64_t *out, unsigned n,
		      uint64_t *host)
{
	uint64_t page = 1, base = 0;

	c->nest_faulted = false;
	for (unsigned i = 0; i < n; i++) {
		uint64_t a = ipa + 8ull * i;

		if (a < ipa || (a & 7))
			return false;
		if ((a >> 12) != page) {
			c->e->depth++;
			if (!s2_table(c, a & ~0xfffull, false, &base)) {
				c->e->depth--;
				return false;
			}
			c->e->depth--;
			page = a >> 12;
		}
		if (!i)
			*host = base + (a & 0xfff);
		if (!hw_bus_read(&c->s->hw, base + (a & 0xfff), &out[i], 1)) {
			c->nest_faulted = false;
			return false;
		}
	}
	return true;
}

/* ---- configuration ---- */

/* A configuration fault found by config.c, as a step. */
static bool cfg_failed(struct sx *c, const char *what)
{
	struct hw_xstep *st = hw_x_add(c->e, HW_XS_CHECK, "check");

	hw_x_text(st, "%s -> %s", what, evt_name(c->x.f.type));
	return false;
}

/* Read CD-table words at @addr (an IPA when stage 2 is on) as a step. */
static bool cd_read(struct sx *c, const char *name, uint64_t addr,
		    uint64_t *out, unsigned n, struct hw_xstep **stp)
{
	struct hw_xstep *st;
	uint64_t host = 0;

	if (c->x.cfg.s2) {
		c->s2class = EVT_CLASS_CD;
		if (!nest_read(c, addr, out, n, &host)) {
			if (c->nest_faulted) {
				c->x.f = c->s2f;
				cfg_failed(c, "stage 2 of the CD table");
				c->level = c->s2_level;
				return false;
			}
			set_fault(&c->x.f, EVT_F_CD_FETCH, false, 0, addr);
			c->x.f.gate = SMMU_GATE_ALWAYS;
			c->x.f.class = 0;
			return cfg_failed(c, "CD table not readable");
		}
	} else if (!hw_bus_read(&c->s->hw, addr, out, n)) {
		set_fault(&c->x.f, EVT_F_CD_FETCH, false, 0, addr);
		c->x.f.gate = SMMU_GATE_ALWAYS;
		return cfg_failed(c, "CD table not readable");
	}
	st = hw_x_add(c->e, HW_XS_CONFIG, name);
	st->has_addr = true;
	st->addr = addr;
	if (c->x.cfg.s2) {
		st->has_host = true;
		st->host = host;
	}
	hw_x_words(st, out, n);
	*stp = st;
	return true;
}

/* smmu_config_fetch with every structure as a step. */
static bool config(struct sx *c)
{
	struct smmu_l1std l1 = { 0 };
	uint64_t pa, ste[4], idx, addr, cd[4];
	struct hw_xstep *st;
	int sel;
	bool ok;

	c->x.cfg = (struct smmu_cfg){ 0 };
	c->x.f = (struct smmu_fault){ 0 };
	c->level = -1;
	ok = smmu_ste_locate(&c->x, &pa, &l1);
	if (l1.read) {
		st = hw_x_add(c->e, HW_XS_CONFIG, "L1STD");
		st->has_addr = true;
		st->addr = l1.pa;
		hw_x_words(st, &l1.desc, 1);
		hw_x_text(st, "Span=%u L2Ptr=0x%llx",
			  (unsigned)L1STD_SPAN(l1.desc),
			  ull(l1.desc & L1STD_L2PTR));
	}
	if (!ok)
		return cfg_failed(c, c->x.f.type == EVT_F_STE_FETCH ?
					     "stream table not readable" :
					     "no STE for this StreamID");
	if (!hw_bus_read(&c->s->hw, pa, ste, 4)) {
		set_fault(&c->x.f, EVT_F_STE_FETCH, false, 0, pa);
		c->x.f.gate = SMMU_GATE_ALWAYS;
		return cfg_failed(c, "STE not readable");
	}
	st = hw_x_add(c->e, HW_XS_CONFIG, "STE");
	st->has_addr = true;
	st->addr = pa;
	hw_x_words(st, ste, 4);
	ste_text(st, ste);
	if (!smmu_ste_decode(&c->x, ste))
		return cfg_failed(c, "STE illegal");
	if (!c->x.cfg.s1)
		return true;
	sel = smmu_cd_select(&c->x, &idx);
	if (sel < 0)
		return cfg_failed(c, "SubstreamID against S1CDMax/S1DSS");
	if (!sel) {
		hw_x_note(c->e, "no SubstreamID and S1DSS=bypass: stage 1 "
				"is bypassed");
		return true;
	}
	if (c->x.cfg.s1fmt == S1FMT_LINEAR) {
		addr = c->x.cfg.s1ctxptr + idx * CD_SIZE;
	} else {
		unsigned leaf = smmu_cd_leaf_bits(c->x.cfg.s1fmt);
		uint64_t l1cd;

		if (!cd_read(c, "L1CD", c->x.cfg.s1ctxptr + (idx >> leaf) * 8,
			     &l1cd, 1, &st))
			return false;
		hw_x_text(st, "V=%u L2Ptr=0x%llx", (unsigned)L1CD_V(l1cd),
			  ull(l1cd & L1CD_L2PTR));
		if (!L1CD_V(l1cd)) {
			set_fault(&c->x.f, EVT_C_BAD_CD, false, 0, 0);
			c->x.f.gate = SMMU_GATE_ALWAYS;
			return cfg_failed(c, "L1CD not valid");
		}
		addr = (l1cd & L1CD_L2PTR) +
		       (idx & ((1ull << leaf) - 1)) * CD_SIZE;
	}
	if (!cd_read(c, "CD", addr, cd, 4, &st))
		return false;
	cd_text(st, cd);
	if (!smmu_cd_decode(&c->x, cd))
		return cfg_failed(c, "CD illegal");
	return true;
}

/* ---- stage 1 ---- */

/* smmu_s1wc_read_leaf without counting. */
static bool read_leaf(struct sx *c, uint64_t tbl, uint32_t flags, uint64_t va,
		      unsigned span, struct smmu_s1leaf *l, uint64_t *at)
{
	const unsigned g = smmu_s1wc_gran(span);
	const uint32_t cfg = (uint32_t)tbl & SMMU_WC_CFG;
	const uint64_t *dp;
	uint64_t d, oa;

	*at = (tbl - cfg) + (((va >> g) << 3) & ((1ull << g) - 1));
	dp = hw_bus_map(&c->s->hw, *at, 8, false);
	if (!dp)
		return false;
	d = hw_read64(dp);
	l->desc = d;
	oa = d & SMMU_MASK(47, 0) & ~((1ull << g) - 1);
	if ((d & (SMMU_D_AF | 3)) != (SMMU_D_AF | 3) ||
	    oa >> (cfg & SMMU_WC_IPS))
		return false;
	l->st.oa = oa | (va & ((1ull << g) - 1));
	l->st.perm = smmu_leaf_perm[((d >> 6) & 3) | ((d >> 51) & 12)] &
		     ~(flags & SMMU_P_ALL);
	l->st.shift = (uint8_t)g;
	l->st.global = !(d & SMMU_D_NG) || (cfg & SMMU_WC_GLOBAL);
	l->cfg = cfg;
	return true;
}

/* The full path's stage-1 walk-cache lookup (walkc.c). */
static bool s1wc_lookup(struct sx *c, uint64_t va, unsigned half,
			struct smmu_stage *o)
{
	const struct smmu_cfg *cf = &c->x.cfg;
	unsigned g = cf->gran[half], span = g + (g - 3);
	struct smmu_s1leaf l;
	struct hw_xstep *st;
	uint64_t tbl, at;
	uint32_t flags;

	if (!canonical(va) || cf->ias[half] <= span)
		return false;
	if (!hw_tlb_probe_fast(&c->s->s1wc, c->r->sid, ssid_key(c->r), va, span,
			       &tbl, &flags)) {
		st = hw_x_cache(c->e, "S1 walk cache", false);
		hw_x_text(st, "no last-level table cached for this block");
		return false;
	}
	st = hw_x_cache(c->e, "S1 walk cache", true);
	hw_x_text(st, "last-level table at 0x%llx; ",
		  ull(tbl & ~(uint64_t)SMMU_WC_CFG));
	if (!read_leaf(c, tbl, flags, va, span, &l, &at)) {
		st->hit = 0;
		hw_x_text(st, "its entry 0x%llx at 0x%llx needs a full walk",
			  ull(l.desc), ull(at));
		return false;
	}
	if ((l.desc & (SMMU_D_DBM | SMMU_D_AP2)) == (SMMU_D_DBM | SMMU_D_AP2) &&
	    cf->hd && (c->r->access & ACC_W)) {
		st->hit = 0;
		hw_x_text(st, "a write to a clean page walks to mark it dirty");
		return false;
	}
	hw_x_text(st, "page 0x%llx read at 0x%llx", ull(l.desc), ull(at));
	*o = l.st;
	return true;
}

static bool s1_full_walk(struct sx *c, uint64_t va, unsigned half,
			 struct smmu_stage *o)
{
	const struct smmu_cfg *cf = &c->x.cfg;
	uint32_t access = c->r->access;
	unsigned ias = cf->ias[half];
	struct pt_walk_level rec[PT_MAX_LEVELS];
	struct pt_walk w = { .rec = rec };
	struct pt_cfg pc = {
		.fmt = PT_FMT_ARM_S1,
		.granule_shift = cf->gran[half],
		.ias = (uint8_t)ias,
		.oas = cf->ips,
		.start_level = -1,
		.flags = cf->had[half] ? PT_CFG_HAD : 0,
	};
	struct hw_x_mem m = {
		.x = c->e,
		.hw = &c->s->hw,
		.ov = &c->ov,
		.s2 = cf->s2 ? xmem_s2 : NULL,
		.ctx = c,
		.kind = HW_XS_S1,
		.in = va,
	};
	struct dctx dc = { .g = cf->gran[half] };
	struct smmu_fault *f = &c->x.f;
	struct pt pt;

	if (pt_attach(&pt, &pc, hw_x_pt_mem(&m), cf->ttb[half]))
		return check_fail(c, f, EVT_F_TRANSLATION, false, EVT_CLASS_IN,
				  0, "stage-1 tables unusable");
	c->s2class = EVT_CLASS_TT;
	c->nest_faulted = false;
	if (pt_walk(&pt, va & ((1ull << ias) - 1),
		    (cf->ha ? PT_WALK_SET_AF : 0) |
			    ((cf->hd && (access & ACC_W)) ? PT_WALK_SET_DIRTY :
							    0),
		    &w)) {
		hw_x_walk_done(&m, &pt, &w, "S1", desc_text, &dc);
		c->level = pt_arch_level(&pt, w.level);
		switch (w.fault) {
		case PT_FAULT_ADDR_SIZE:
			return check_fail(c, f, EVT_F_ADDR_SIZE, false,
					  EVT_CLASS_IN, 0,
					  "output beyond the CD's IPS");
		case PT_FAULT_FETCH:
		case PT_FAULT_UPDATE:
			if (cf->s2 && c->nest_faulted) {
				*f = c->s2f;
				c->level = c->s2_level;
				hw_x_text(hw_x_add(c->e, HW_XS_CHECK, "check"),
					  "stage 2 of a stage-1 table -> %s",
					  evt_name(f->type));
				return false;
			}
			check_fail(c, f, EVT_F_WALK_EABT, false, EVT_CLASS_TT,
				   w.fault_addr,
				   "stage-1 descriptor not accessible");
			f->ttrnw = w.fault == PT_FAULT_FETCH;
			return false;
		default:
			return check_fail(c, f, EVT_F_TRANSLATION, false,
					  EVT_CLASS_IN, 0,
					  "no valid stage-1 entry");
		}
	}
	hw_x_walk_done(&m, &pt, &w, "S1", desc_text, &dc);
	hw_x_updates(c->e, &c->ov, HW_XS_S1, update_text, &dc);
	c->level = pt_arch_level(&pt, w.level);
	if (!(w.perm & PT_PERM_AF) && !cf->affd)
		return check_fail(c, f, EVT_F_ACCESS, false, EVT_CLASS_IN, 0,
				  "AF=0 without hardware AF update or AFFD");
	o->perm = ((w.perm & PT_PERM_R) ? SMMU_P_R : 0) |
		  ((w.perm & PT_PERM_W) ? SMMU_P_W : 0) |
		  ((w.perm & PT_PERM_PX) ? SMMU_P_PX : 0) |
		  ((w.perm & PT_PERM_UX) ? SMMU_P_UX : 0) |
		  ((w.perm & PT_PERM_U) ? SMMU_P_U : 0);
	o->oa = w.oa;
	o->shift = w.leaf_shift;
	o->global = !SMMU_BIT(w.desc, 11) || cf->el2 == 1;
	return true;
}

static bool same_stage(const struct smmu_stage *a, const struct smmu_stage *b)
{
	return a->oa == b->oa && a->perm == b->perm && a->shift == b->shift;
}

static bool s1_walk(struct sx *c, uint64_t va, struct smmu_stage *o)
{
	const struct smmu_cfg *cf = &c->x.cfg;
	unsigned half = (unsigned)SMMU_BIT(va, 55);
	unsigned top = ((cf->tbi >> half) & 1) ? 55 : 63;
	unsigned ias = cf->ias[half];
	struct smmu_fault *f = &c->x.f;
	struct smmu_stage walked;
	struct hw_xstep *st;
	bool cached, skip = c->e->skipping, ok;
	uint32_t p;
	uint64_t hi;

	c->level = -1;
	if (cf->epd[half])
		return check_fail(
			c, f, EVT_F_TRANSLATION, false, EVT_CLASS_IN, 0,
			half ? "TTB1 disabled (EPD1)" : "TTB0 disabled (EPD0)");
	hi = SMMU_BITS(va, top, ias);
	if (hi != (half ? SMMU_BITS(~0ull, top, ias) : 0))
		return check_fail(c, f, EVT_F_TRANSLATION, false, EVT_CLASS_IN,
				  0, "address outside both TTB ranges");
	st = hw_x_add(c->e, HW_XS_NOTE, "note");
	hw_x_text(st, "stage 1: TTB%u, %u-bit input, %u KiB granule", half, ias,
		  (1u << cf->gran[half]) >> 10);
	cached = s1wc_lookup(c, va, half, o);
	if (cached)
		c->e->skipping = true;
	ok = s1_full_walk(c, va, half, &walked);
	c->e->skipping = skip;
	if (cached) {
		if (!ok || !same_stage(o, &walked)) {
			c->e->stale = true;
			hw_x_note(c->e,
				  "stale: the tables now say %s; the walk "
				  "cache still serves the old entry",
				  ok ? "something else" : evt_name(f->type));
		}
		*f = (struct smmu_fault){ 0 };
	} else if (!ok) {
		return false;
	} else {
		*o = walked;
	}
	p = smmu_s1_perm_rules(o->perm, cf->wxn);
	if (!smmu_perm_ok(p, c->r->access)) {
		st = hw_x_add(c->e, HW_XS_CHECK, "check");
		hw_x_text(st, "stage 1 grants ");
		perm_text(st, p);
		hw_x_text(st, ", not enough for the access -> F_PERMISSION");
		return set_fault(f, EVT_F_PERMISSION, false, EVT_CLASS_IN, 0);
	}
	o->perm = p;
	return true;
}

/* Stage 2 of the stage-1 output (xlate.c's s2_output). */
static bool s2_output(struct sx *c, uint64_t ipa, struct smmu_stage *o)
{
	uint32_t access = c->r->access;
	struct hw_tlb_entry e;
	struct smmu_stage walked;
	struct smmu_fault f;
	struct hw_xstep *st;
	bool skip = c->e->skipping, hit, ok;
	int level;

	hw_x_note(c->e, "stage 2 of the output IPA 0x%llx", ull(ipa));
	hit = hw_tlb_lookup(&c->s->wc, SMMU_WC_SID_LEAF, c->x.cfg.vmid, ipa,
			    &e) &&
	      smmu_perm_ok(e.flags & SMMU_P_ALL, access);
	st = hw_x_cache(c->e, "S2 leaf cache", hit);
	if (hit) {
		o->oa = e.pa + (ipa & ((1ull << e.shift) - 1));
		o->perm = e.flags & SMMU_P_ALL;
		o->shift = e.shift;
		hw_x_text(st, "IPA 0x%llx -> 0x%llx (%llu KiB, ", ull(ipa),
			  ull(o->oa), ull((1ull << e.shift) >> 10));
		perm_text(st, o->perm);
		hw_x_text(st, ")");
		c->e->skipping = true;
	} else {
		hw_x_text(st, "IPA 0x%llx: walk stage 2 (VMID %u)", ull(ipa),
			  c->x.cfg.vmid);
	}
	ok = s2_walk(c, ipa, access, EVT_CLASS_IN, &walked, &f, &level);
	c->e->skipping = skip;
	if (hit) {
		if (!ok || !same_stage(o, &walked)) {
			c->e->stale = true;
			hw_x_note(c->e, "stale: the stage-2 tables now say %s",
				  ok ? "something else" : evt_name(f.type));
		}
		return true;
	}
	if (!ok) {
		c->x.f = f;
		c->level = level;
		return false;
	}
	*o = walked;
	return true;
}

/* ---- outcome ---- */

static void perm_result(char *buf, size_t len, uint32_t perm)
{
	snprintf(buf, len, "%s%s%s%s", (perm & ACC_R) ? "R" : "",
		 (perm & ACC_W) ? "W" : "", (perm & ACC_X) ? "X" : "",
		 (perm & ACC_P) ? " privileged" : "");
}

static void ok_summary(struct hw_explain *e)
{
	char p[32];

	perm_result(p, sizeof(p), e->res.perm);
	hw_x_summary(e, "%s: 0x%llx -> 0x%llx (%llu KiB block, %s)",
		     e->res.status == IONEST_XLATE_BYPASS ? "bypass" : "OK",
		     ull(e->req.iova), ull(e->res.addr), ull(e->res.size >> 10),
		     p);
}

static bool gate_open(const struct sx *c)
{
	switch (c->x.f.gate) {
	case SMMU_GATE_ALWAYS:
		return true;
	case SMMU_GATE_S1:
		return c->x.cfg.r;
	case SMMU_GATE_S2:
		return c->x.cfg.s2r;
	case SMMU_GATE_RECINVSID:
		return smmu_ld32(&c->s->cr2) & CR2_RECINVSID;
	default:
		return false;
	}
}

/* xlate.c's report(), deciding instead of doing. */
static int report(struct sx *c)
{
	struct hw_explain *e = c->e;
	const struct ionest_xlate_req *r = c->r;
	const struct smmu_fault *f = &c->x.f;
	struct smmu *s = c->s;

	e->res = (struct ionest_xlate_res){
		.status = IONEST_XLATE_FAULT,
		.fault = f->type,
		.stage2 = f->s2,
		.fault_addr = f->s2 && f->type != EVT_F_WALK_EABT ? f->addr :
								    r->iova,
	};
	e->fault_name = evt_name(f->type);
	e->fault_level = is_xlate_fault(f->type) || f->type == EVT_F_WALK_EABT ?
				 c->level :
				 -1;
	if (is_xlate_fault(f->type) || f->type == EVT_F_WALK_EABT) {
		char lvl[24] = "";

		if (e->fault_level >= 0)
			snprintf(lvl, sizeof(lvl), " level %d", e->fault_level);
		hw_x_summary(e, "fault %s (0x%02x) at stage %u%s, class %s",
			     e->fault_name, f->type, f->s2 ? 2 : 1, lvl,
			     class_names[f->class % 3]);
	} else {
		hw_x_summary(e, "fault %s (0x%02x)", e->fault_name, f->type);
	}
	if (r->pri && s->f.pri && f->type == EVT_F_TRANSLATION && !f->s2 &&
	    f->class == EVT_CLASS_IN && (smmu_ld32(&s->cr0) & CR0_PRIQEN)) {
		e->res.status = IONEST_XLATE_PAGE_REQUEST;
		e->would_record = true;
		hw_x_note(e, "PRI: the fault becomes a page request in the PRI "
			     "queue; the device retries after the response");
		return 0;
	}
	if (r->ats && is_xlate_fault(f->type)) {
		hw_x_note(e, "ATS: the translation request completes without "
			     "access; no event is recorded");
		return 0;
	}
	if (!r->ats && is_xlate_fault(f->type) &&
	    (f->s2 ? c->x.cfg.s2s : c->x.cfg.stall)) {
		e->res.status = IONEST_XLATE_STALLED;
		e->would_record = true;
		hw_x_note(e, "stall model: the transaction stalls (event with "
			     "STALL=1) until CMD_RESUME, if a stall slot and "
			     "event queue space are free");
		return 0;
	}
	e->would_record = gate_open(c);
	hw_x_note(e, "%s",
		  e->would_record ? "an event is recorded in the event queue" :
				    "not recorded (its R bit is clear)");
	return 0;
}

static void bypass(struct hw_explain *e, const char *why)
{
	e->res = (struct ionest_xlate_res){
		.status = IONEST_XLATE_BYPASS,
		.perm = ACC_R | ACC_W | ACC_X,
		.addr = e->req.iova,
		.size = 4096,
	};
	hw_x_note(e, "%s", why);
	ok_summary(e);
}

/* ---- the request ---- */

static bool request_ok(struct sx *c)
{
	const struct smmu *s = c->s;
	const struct ionest_xlate_req *r = c->r;
	uint32_t ssid = r->ssid_valid ? r->ssid : 0;
	const char *why = NULL;

	if (r->sid & s->f.sid_bad)
		why = "StreamID beyond IDR1.SIDSIZE";
	else if (ssid & s->f.ssid_bad)
		why = "SubstreamID beyond IDR1.SSIDSIZE";
	else if (r->access & ~0xfu)
		why = "unknown access bits";
	else if (!(r->access & (ACC_R | ACC_W | ACC_X)))
		why = "access is neither read, write nor execute";
	if (!why)
		return true;
	c->e->ret = -EINVAL;
	hw_x_note(c->e, "malformed request: %s", why);
	hw_x_summary(c->e, "malformed request (EINVAL): %s", why);
	return false;
}

/* The first TLB entry of the stream for the address, smallest block size
 * first, as the hit path and translate_other look: 1 serves, 0 miss. */
static int tlb_probe(struct sx *c)
{
	struct smmu *s = c->s;
	const struct ionest_xlate_req *r = c->r;
	uint64_t shifts = __atomic_load_n(&s->tlb.shifts, __ATOMIC_RELAXED);
	uint64_t pa, attr;
	struct hw_xstep *st;

	while (shifts) {
		unsigned sh = (unsigned)__builtin_ctzll(shifts);
		uint32_t fl;

		shifts &= shifts - 1;
		if (!hw_tlb_probe_attr(&s->tlb, r->sid, ssid_key(r), r->iova,
				       sh, &pa, &attr))
			continue;
		fl = hw_tlb_attr_flags(attr);
		if (!smmu_perm_ok(fl, r->access)) {
			st = hw_x_cache(c->e, "TLB", false);
			hw_x_text(st,
				  "an entry for the %llu KiB block lacks "
				  "the permission (",
				  ull((1ull << sh) >> 10));
			perm_text(st, fl);
			hw_x_text(st, "): a miss");
			return 0;
		}
		st = hw_x_cache(c->e, "TLB", true);
		hw_x_text(st, "0x%llx -> 0x%llx (%llu KiB, ",
			  ull((r->iova >> sh) << sh), ull(pa),
			  ull((1ull << sh) >> 10));
		perm_text(st, fl);
		hw_x_text(st, ", VMID %u, ASID %u%s)", hw_tlb_attr_dom(attr),
			  hw_tlb_attr_asid(attr) & 0xffff,
			  (fl & HW_TLB_GLOBAL) ? ", global" : "");
		c->e->res = (struct ionest_xlate_res){
			.status = IONEST_XLATE_OK,
			.perm = smmu_res_perm(fl, r->access),
			.addr = pa + (r->iova & ((1ull << sh) - 1)),
			.size = 1ull << sh,
		};
		return 1;
	}
	st = hw_x_cache(c->e, "TLB", false);
	hw_x_text(st, "no entry for StreamID 0x%x%s", r->sid,
		  r->ssid_valid ? " with this SubstreamID" : "");
	return 0;
}

/* fastpath.c's miss_cached: 1 with the result in e->res. */
static int fast_miss(struct sx *c)
{
	struct smmu *s = c->s;
	const struct ionest_xlate_req *r = c->r;
	const uint64_t va = r->iova;
	uint64_t shifts = __atomic_load_n(&s->s1wc.shifts, __ATOMIC_RELAXED);
	uint64_t tbl, attr, oa, out, at;
	struct smmu_s1leaf l;
	struct hw_xstep *st;
	unsigned span, shift;
	uint32_t p;

	if (!shifts || (shifts & (shifts - 1)) || !canonical(va))
		return 0;
	span = (unsigned)__builtin_ctzll(shifts);
	if (!hw_tlb_probe_attr(&s->s1wc, r->sid, ssid_key(r), va, span, &tbl,
			       &attr)) {
		st = hw_x_cache(c->e, "S1 walk cache", false);
		hw_x_text(st, "(TLB-miss path) no last-level table cached");
		return 0;
	}
	st = hw_x_cache(c->e, "S1 walk cache", true);
	hw_x_text(st, "(TLB-miss path) last-level table at 0x%llx; ",
		  ull(tbl & ~(uint64_t)SMMU_WC_CFG));
	if (!read_leaf(c, tbl, hw_tlb_attr_flags(attr), va, span, &l, &at)) {
		st->hit = 0;
		hw_x_text(st, "its entry 0x%llx needs the full path",
			  ull(l.desc));
		return 0;
	}
	p = smmu_s1_perm_rules(l.st.perm, l.cfg & SMMU_WC_WXN);
	if (!smmu_perm_ok(p, r->access)) {
		st->hit = 0;
		hw_x_text(st, "page 0x%llx lacks the permission: full path",
			  ull(l.desc));
		return 0;
	}
	oa = l.st.oa;
	shift = l.st.shift;
	if (l.cfg & SMMU_WC_S2) {
		uint64_t a2;
		uint32_t p2;
		unsigned sh2;

		if (!hw_tlb_find_attr(&s->wc, SMMU_WC_SID_LEAF,
				      hw_tlb_attr_dom(attr), oa, &out, &a2)) {
			st->hit = 0;
			hw_x_text(st,
				  "page 0x%llx, output IPA not in the "
				  "stage-2 leaf cache: full path",
				  ull(l.desc));
			return 0;
		}
		p2 = hw_tlb_attr_flags(a2) & SMMU_P_ALL;
		if (!smmu_perm_ok(p2, r->access)) {
			st->hit = 0;
			hw_x_text(st, "stage-2 leaf lacks the permission: "
				      "full path");
			return 0;
		}
		sh2 = hw_tlb_attr_shift(a2);
		oa = out + (oa & ((1ull << sh2) - 1));
		p &= p2;
		if (sh2 < shift)
			shift = sh2;
	}
	hw_x_text(st, "page 0x%llx at 0x%llx%s", ull(l.desc), ull(at),
		  (l.cfg & SMMU_WC_S2) ? ", output IPA from the stage-2 leaf "
					 "cache" :
					 "");
	out = (oa >> shift) << shift;
	c->e->res = (struct ionest_xlate_res){
		.status = IONEST_XLATE_OK,
		.perm = smmu_res_perm(p, r->access),
		.addr = out + (va & ((1ull << shift) - 1)),
		.size = 1ull << shift,
	};
	return 1;
}

/* The configuration: the cache, and the structures in memory. */
static bool configure(struct sx *c)
{
	struct smmu_cfg cached;
	struct hw_xstep *st;
	bool hit, ok, skip = c->e->skipping;

	hit = smmu_cfgc_lookup(&c->s->cfgc, c->r->sid, ssid_key(c->r), &cached);
	st = hw_x_cache(c->e, "config cache", hit);
	hw_x_text(st, hit ? "decoded STE/CD of the stream cached: not "
			    "fetched" :
			    "fetch and decode the STE and CD");
	if (hit)
		c->e->skipping = true;
	ok = config(c);
	c->e->skipping = skip;
	if (!hit)
		return ok;
	if (!ok || memcmp(&cached, &c->x.cfg, sizeof(cached))) {
		c->e->stale = true;
		hw_x_note(c->e,
			  "stale: memory now says %s; the cached "
			  "configuration is used (no CFGI_* since)",
			  ok ? "something else" : evt_name(c->x.f.type));
	}
	c->x.cfg = cached;
	c->x.f = (struct smmu_fault){ 0 };
	return true;
}

static int full_path(struct sx *c)
{
	struct hw_explain *e = c->e;
	const struct ionest_xlate_req *r = c->r;
	struct smmu *s = c->s;
	struct smmu_cfg *cf = &c->x.cfg;
	uint64_t ipa = r->iova, pa;
	uint32_t perm = SMMU_P_ALL;
	unsigned shift = 63;
	struct smmu_stage o;

	if (!configure(c))
		return report(c);
	if (cf->config == STE_CFG_ABORT) {
		e->res =
			(struct ionest_xlate_res){ .status =
							   IONEST_XLATE_FAULT };
		hw_x_summary(e, "aborted by STE.Config (no event)");
		return 0;
	}
	if (cf->config == STE_CFG_BYPASS) {
		bypass(e, "STE.Config=bypass");
		return 0;
	}
	if (r->ats && cf->eats == EATS_ABORT) {
		c->x.f = (struct smmu_fault){ .type = EVT_F_BAD_ATS_TREQ };
		hw_x_text(hw_x_add(e, HW_XS_CHECK, "check"),
			  "ATS request with STE.EATS=0 -> F_BAD_ATS_TREQ");
		return report(c);
	}
	if (!cf->s1 && !cf->s2) {
		bypass(e, "stage 1 bypassed and stage 2 off");
		return 0;
	}
	if (cf->s1) {
		if (!s1_walk(c, r->iova, &o))
			return report(c);
		ipa = o.oa;
		perm = o.perm;
		shift = o.shift;
	} else if (r->iova >> (s->f.oas_bits > 48 ? 48 : s->f.oas_bits)) {
		/* §6.6: stage-2-only input beyond the IAS. */
		c->x.f = (struct smmu_fault){ .type = EVT_F_ADDR_SIZE,
					      .class = EVT_CLASS_IN,
					      .gate = SMMU_GATE_S2 };
		c->level = -1;
		hw_x_text(hw_x_add(e, HW_XS_CHECK, "check"),
			  "input beyond the IAS -> F_ADDR_SIZE");
		return report(c);
	}
	pa = ipa;
	if (cf->s2) {
		if (!s2_output(c, ipa, &o))
			return report(c);
		pa = o.oa;
		perm &= o.perm;
		if (o.shift < shift)
			shift = o.shift;
	}
	e->res = (struct ionest_xlate_res){
		.status = IONEST_XLATE_OK,
		.perm = smmu_res_perm(perm, r->access),
		.addr = pa,
		.size = 1ull << shift,
	};
	ok_summary(e);
	return 0;
}

int smmu_explain(struct ionest_hw *hw, const struct ionest_xlate_req *req,
		 struct hw_explain *e)
{
	struct sx *c = xzalloc(sizeof(*c));
	struct ionest_xlate_res cached;
	struct hw_xstep *st;
	uint32_t cr0;
	int served = 0;

	if (!c)
		return -ENOMEM;
	c->s = to_smmu(hw);
	c->x.s = c->s;
	c->x.req = req;
	c->r = req;
	c->e = e;
	c->level = -1;
	if (!request_ok(c))
		goto out;
	cr0 = smmu_ld32(&c->s->cr0);
	st = hw_x_add(e, HW_XS_REG, "CR0");
	hw_x_text(st, "SMMUEN=%u", !!(cr0 & CR0_SMMUEN));
	if (!(cr0 & CR0_SMMUEN)) {
		if (smmu_ld32(&c->s->gbpa) & GBPA_ABORT) {
			e->res = (struct ionest_xlate_res){
				.status = IONEST_XLATE_FAULT
			};
			hw_x_summary(e, "SMMU disabled, GBPA.ABORT=1: "
					"terminated (no event)");
		} else {
			bypass(e, "SMMU disabled, GBPA.ABORT=0: bypass");
		}
		goto out;
	}
	if (req->ats) {
		hw_x_note(e, "ATS translation request: the TLB is not "
			     "consulted; the configuration checks EATS");
	} else {
		served = tlb_probe(c);
		if (!served)
			served = fast_miss(c);
	}
	if (served) {
		/* The derivation below is for the reader: the access stops
		 * at the cache. */
		cached = e->res;
		e->skipping = true;
		full_path(c);
		e->skipping = false;
		hw_x_cache_served(e, &cached);
		ok_summary(e);
		goto out;
	}
	full_path(c);
out:
	xfree(c);
	return 0;
}
