// SPDX-License-Identifier: MIT
/*
 * hw_ops.explain for VT-d (lib/hw/explain.h): the path of translate.c,
 * psc.c and walk.c taken again step by step, without changing the model.
 * The root, context and PASID entries are decoded by the model's own
 * vtd_cfg_fetch (and shown as read); walks go through the pt engine with a
 * recording accessor (A, D and EA updates land in an overlay); the IOTLB,
 * the PDE cache, the context/PASID cache and the second-stage walk cache
 * are probed - never filled, never counted - and believed where the real
 * access would believe them. The rules and fault reasons are walk.c's
 * (vtd.md §5-§7, §9); tests hold this file against vtd_translate on random
 * accesses.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hw/explain.h"
#include "hw/vtd/vtd.h"
#include "util/alloc.h"

#define ACC_R IONEST_ACCESS_READ
#define ACC_W IONEST_ACCESS_WRITE
#define ACC_X IONEST_ACCESS_EXEC
#define ACC_P IONEST_ACCESS_PRIV
#define ACCESS_ALL (ACC_R | ACC_W | ACC_X | ACC_P)
#define ACCESS_RWX (ACC_R | ACC_W | ACC_X)

#define X86_P (1ull << 0)
#define X86_RW (1ull << 1)
#define X86_US (1ull << 2)
#define X86_PS (1ull << 7)
#define X86_XD (1ull << 63)
#define X86_ADDR 0x000ffffffffff000ull
#define SS_R (1ull << 0)
#define SS_W (1ull << 1)
#define SS_X (1ull << 2)
#define SS_PS (1ull << 7)
#define SS_A (1ull << 8)
#define SS_D (1ull << 9)
#define FS_AD_BITS (VTD_FS_A | VTD_FS_D | VTD_FS_EA)
#define S2_READ_FAIL 0xff
#define WC_FILLS 16

/* One explanation in progress. */
struct vx {
	struct hw_explain *e;
	struct vtd *v;
	const struct ionest_xlate_req *r;
	uint32_t access; /* with READ for an execute request */
	struct vtd_cfg cfg;
	struct hw_x_overlay ov;
	struct {
		uint64_t va, pa;
		unsigned shift;
	} fill[WC_FILLS]; /* walk-cache fills this access would make */
	unsigned nfill;
	bool nest_faulted;
	uint8_t s2_reason;
	uint64_t fault_ipa;
	int s2_level; /* level of a nested stage-2 failure */
	int level; /* level of the fault */
};

static const struct {
	uint8_t code;
	const char *name;
} reasons[] = {
	{ VTD_FR_ROOT_TABLE_INV, "ROOT_TABLE_INV" },
	{ VTD_FR_ROOT_ACCESS, "ROOT_ACCESS" },
	{ VTD_FR_ROOT_NP, "ROOT_NOT_PRESENT" },
	{ VTD_FR_ROOT_RSVD, "ROOT_RESERVED" },
	{ VTD_FR_CTX_ACCESS, "CTX_ACCESS" },
	{ VTD_FR_CTX_NP, "CTX_NOT_PRESENT" },
	{ VTD_FR_CTX_RSVD, "CTX_RESERVED" },
	{ VTD_FR_CTX_INV, "CTX_INVALID" },
	{ VTD_FR_CTX_DTE, "CTX_DTE" },
	{ VTD_FR_CTX_PASIDE, "CTX_PASIDE" },
	{ VTD_FR_CTX_PASID_MAX, "CTX_PASID_BEYOND_PDTS" },
	{ VTD_FR_CTX_PRE, "CTX_PRE" },
	{ VTD_FR_CTX_RID_PASID, "CTX_RID_PASID" },
	{ VTD_FR_PDE_ACCESS, "PASID_DIR_ACCESS" },
	{ VTD_FR_PDE_NP, "PASID_DIR_NOT_PRESENT" },
	{ VTD_FR_PDE_RSVD, "PASID_DIR_RESERVED" },
	{ VTD_FR_PE_ACCESS, "PASID_ENTRY_ACCESS" },
	{ VTD_FR_PE_NP, "PASID_ENTRY_NOT_PRESENT" },
	{ VTD_FR_PE_RSVD, "PASID_ENTRY_RESERVED" },
	{ VTD_FR_PE_INV, "PASID_ENTRY_INVALID" },
	{ VTD_FR_PE_ERE, "PASID_ENTRY_ERE" },
	{ VTD_FR_PE_SRE, "PASID_ENTRY_SRE" },
	{ VTD_FR_FS_ACCESS, "FS_ACCESS" },
	{ VTD_FR_FS_NP, "FS_NOT_PRESENT" },
	{ VTD_FR_FS_RSVD, "FS_RESERVED" },
	{ VTD_FR_FS_ROOT_ACCESS, "FS_ROOT_ACCESS" },
	{ VTD_FR_NEST_FS_ADDR, "NESTED_FS_ADDR_BEYOND_SS" },
	{ VTD_FR_NEST_FS_ROOT_RD, "NESTED_FS_ROOT_SS_READ" },
	{ VTD_FR_NEST_FS_RD, "NESTED_FS_SS_READ" },
	{ VTD_FR_NEST_FS_WR, "NESTED_FS_SS_WRITE" },
	{ VTD_FR_SS_ACCESS, "SS_ACCESS" },
	{ VTD_FR_SS_PERM, "SS_PERMISSION" },
	{ VTD_FR_SS_RSVD, "SS_RESERVED" },
	{ VTD_FR_SS_ROOT_INV, "SS_ROOT_INVALID" },
	{ VTD_FR_SS_AD_NOSNOOP, "SS_AD_NOSNOOP" },
	{ VTD_FR_FS_NONCANON, "FS_NONCANONICAL" },
	{ VTD_FR_FS_US, "FS_USER_SUPERVISOR" },
	{ VTD_FR_EXEC, "EXECUTE" },
	{ VTD_FR_ADDR_BEYOND, "ADDR_BEYOND_AW" },
	{ VTD_FR_SS_ADDR_BEYOND, "SS_ADDR_BEYOND" },
	{ VTD_FR_WRITE, "WRITE" },
	{ VTD_FR_READ, "READ" },
	{ VTD_FR_INTR_RANGE, "INTR_RANGE" },
	{ VTD_FR_FS_AD_NOSNOOP, "FS_AD_NOSNOOP" },
	{ VTD_FR_FS_AD_UPDATE, "FS_AD_UPDATE" },
};

static const char *reason_name(unsigned code)
{
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].code == code)
			return reasons[i].name;
	return "?";
}

static const char *const pgtt_names[8] = {
	"reserved",	"first-stage", "second-stage", "nested",
	"pass-through", "reserved",    "reserved",     "reserved",
};

static unsigned long long ull(uint64_t v)
{
	return (unsigned long long)v;
}

static uint32_t stream_key(const struct ionest_xlate_req *r)
{
	return r->ssid_valid ? r->ssid | HW_TLB_SSID_VALID : 0;
}

static void access_text(char *buf, size_t len, uint32_t a)
{
	snprintf(buf, len, "%s%s%s%s", (a & ACC_R) ? "R" : "",
		 (a & ACC_W) ? "W" : "", (a & ACC_X) ? "X" : "",
		 (a & ACC_P) ? " supervisor" : "");
}

/* A fault found by a check or a walk: its step. */
static int xfault(struct vx *c, struct vtd_fault *f, uint8_t reason, bool fpd,
		  bool stage2, uint64_t addr, const char *why)
{
	struct hw_xstep *st = hw_x_add(c->e, HW_XS_CHECK, "check");

	hw_x_text(st, "%s -> 0x%02x %s", why, reason, reason_name(reason));
	f->reason = reason;
	f->fpd = fpd;
	f->stage2 = stage2;
	f->fault_addr = addr;
	return -EFAULT;
}

/* ---- entries as text ---- */

/* What a present entry at @level points at: a table, or a page (@ps: the
 * format's page-size bit). Both formats keep the address in X86_ADDR. */
static void addr_text(struct hw_xstep *st, unsigned level, uint64_t d,
		      uint64_t ps)
{
	if (level && !(d & ps))
		hw_x_text(st, "table -> 0x%llx", ull(d & X86_ADDR));
	else
		hw_x_text(st, "%s 0x%llx",
			  !level     ? "4K page" :
			  level == 1 ? "2M page" :
				       "1G page",
			  ull(d & X86_ADDR &
			      ~((1ull << (12 + 9 * level)) - 1)));
}

static void fs_text(struct hw_xstep *st, unsigned level, uint64_t d,
		    const void *ctx)
{
	if (!(d & X86_P)) {
		hw_x_text(st, "not present");
		return;
	}
	addr_text(st, level, d, X86_PS);
	hw_x_text(st, "%s%s%s%s%s%s", (d & X86_RW) ? " RW" : " RO",
		  (d & X86_US) ? " U" : " S", (d & VTD_FS_A) ? " A" : "",
		  (d & VTD_FS_D) && (!level || (d & X86_PS)) ? " D" : "",
		  (d & VTD_FS_EA) ? " EA" : "", (d & X86_XD) ? " XD" : "");
}

static void ss_text(struct hw_xstep *st, unsigned level, uint64_t d,
		    const void *ctx)
{
	if (!(d & (SS_R | SS_W | SS_X))) {
		hw_x_text(st, "not present (no R/W/X)");
		return;
	}
	addr_text(st, level, d, SS_PS);
	hw_x_text(st, " %s%s%s%s%s", (d & SS_R) ? "R" : "-",
		  (d & SS_W) ? "W" : "-", (d & SS_X) ? "X" : "-",
		  (d & SS_A) ? " A" : "", (d & SS_D) ? " D" : "");
}

static void update_text(struct hw_xstep *st, uint64_t old, uint64_t val,
			const void *ctx)
{
	uint64_t ch = old ^ val;
	bool ss = ctx != NULL;

	if (ch & (ss ? SS_A : VTD_FS_A))
		hw_x_text(st, "hardware sets A ");
	if (ch & (ss ? SS_D : VTD_FS_D))
		hw_x_text(st, "hardware sets D ");
	if (!ss && (ch & VTD_FS_EA))
		hw_x_text(st, "hardware sets EA ");
	hw_x_text(st, "(0x%llx -> 0x%llx)", ull(old), ull(val));
}

/* ---- the configuration, as read ---- */

static struct hw_xstep *cfg_step(struct vx *c, const char *name, uint64_t pa,
				 const uint64_t *w, unsigned n)
{
	struct hw_xstep *st = hw_x_add(c->e, HW_XS_CONFIG, name);

	st->has_addr = true;
	st->addr = pa;
	hw_x_words(st, w, n);
	return st;
}

/* The root, context, PASID directory and PASID entries of the request as
 * vtd_ctx_fetch and vtd_pasid_fetch read them, for the reader; the
 * decisions are the model's (vtd_cfg_fetch). */
static void show_entries(struct vx *c)
{
	const struct ionest_xlate_req *r = c->r;
	unsigned bus = (r->sid >> 8) & 0xff, devfn = r->sid & 0xff;
	uint64_t rta = __atomic_load_n(&c->v->rta, __ATOMIC_ACQUIRE);
	uint64_t re[2], ce[4], de, pe[8], half, pa;
	struct hw_xstep *st;
	uint32_t pasid;
	unsigned pgtt;

	pa = rta + 16ull * bus;
	if (!hw_bus_read(&c->v->hw, pa, re, 2))
		return;
	st = cfg_step(c, "root entry", pa, re, 2);
	half = devfn < 128 ? re[0] : re[1];
	hw_x_text(st, "bus %02x, %s half: %s, context table 0x%llx", bus,
		  devfn < 128 ? "lower" : "upper",
		  (half & VTD_RE_LP) ? "present" : "not present",
		  ull(half & VTD_RE_CTP_MASK));
	if (!(half & VTD_RE_LP))
		return;
	pa = (half & VTD_RE_CTP_MASK) + 32ull * (devfn & 0x7f);
	if (!hw_bus_read(&c->v->hw, pa, ce, 4))
		return;
	st = cfg_step(c, "context entry", pa, ce, 4);
	if (!(ce[0] & VTD_CE_P)) {
		hw_x_text(st, "devfn %02x.%x: not present", devfn >> 3,
			  devfn & 7);
		return;
	}
	hw_x_text(
		st,
		"devfn %02x.%x: PASID dir 0x%llx PDTS=%u RID_PASID=%u%s%s%s%s",
		devfn >> 3, devfn & 7, ull(ce[0] & VTD_CE_PDIR_MASK),
		VTD_CE_PDTS(ce[0]), VTD_CE_RID_PASID(ce[1]),
		(ce[0] & VTD_CE_PASIDE) ? " PASIDE" : "",
		(ce[0] & VTD_CE_DTE) ? " DTE" : "",
		(ce[0] & VTD_CE_PRE) ? " PRE" : "",
		(ce[0] & VTD_CE_FPD) ? " FPD" : "");
	pasid = r->ssid_valid ? r->ssid : VTD_CE_RID_PASID(ce[1]);
	if (pasid > 0xfffff)
		return;
	pa = (ce[0] & VTD_CE_PDIR_MASK) + 8ull * (pasid >> 6);
	if (!hw_bus_read(&c->v->hw, pa, &de, 1))
		return;
	st = cfg_step(c, "PASID dir entry", pa, &de, 1);
	hw_x_text(st, "PASID %u: %s, PASID table 0x%llx%s", pasid,
		  (de & VTD_PDE_P) ? "present" : "not present",
		  ull(de & VTD_PDE_PTP_MASK), (de & VTD_PDE_FPD) ? " FPD" : "");
	if (!(de & VTD_PDE_P))
		return;
	pa = (de & VTD_PDE_PTP_MASK) + 64ull * (pasid & 63);
	if (!hw_bus_read(&c->v->hw, pa, pe, 8))
		return;
	st = cfg_step(c, "PASID entry", pa, pe, 8);
	if (!(pe[0] & VTD_PE_P)) {
		hw_x_text(st, "not present");
		return;
	}
	pgtt = VTD_PE_PGTT(pe[0]);
	hw_x_text(st, "PGTT=%s DID=%u", pgtt_names[pgtt & 7],
		  VTD_PE_DID(pe[1]));
	if (pgtt == VTD_PGTT_SS || pgtt == VTD_PGTT_NESTED)
		hw_x_text(st, " SSPTPTR=0x%llx AW=%u%s%s",
			  ull(pe[0] & VTD_PE_PTR_MASK), VTD_PE_AW(pe[0]),
			  (pe[0] & VTD_PE_SSADE) ? " SSADE" : "",
			  (pe[0] & VTD_PE_SSEE) ? " SSEE" : "");
	if (pgtt == VTD_PGTT_FS || pgtt == VTD_PGTT_NESTED)
		hw_x_text(st, " FSPTPTR=0x%llx FSPM=%u%s",
			  ull(pe[2] & VTD_PE_PTR_MASK), VTD_PE_FSPM(pe[2]),
			  (pe[2] & VTD_PE_WPE) ? " WPE" : "");
	hw_x_text(st, "%s%s%s%s", (pe[2] & VTD_PE_SRE) ? " SRE" : "",
		  (pe[2] & VTD_PE_ERE) ? " ERE" : "",
		  (pe[2] & VTD_PE_EAFE) ? " EAFE" : "",
		  (pe[0] & VTD_PE_FPD) ? " FPD" : "");
}

/* ---- walks (walk.c) ---- */

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

static bool ss_beyond(const struct vtd *v, const struct vtd_cfg *cfg,
		      uint64_t gpa)
{
	unsigned bits = cfg->ss_ias < v->haw ? cfg->ss_ias : v->haw;

	return (gpa >> bits) != 0;
}

/* Second-stage walk of @gpa, recorded at the current depth: 0 or the
 * fault reason (*level: where it stopped). */
static uint8_t ss_walk(struct vx *c, uint64_t gpa, bool write,
		       struct pt_walk *w, int *level)
{
	const struct vtd_cfg *cfg = &c->cfg;
	struct pt_cfg pc = {
		.fmt = PT_FMT_VTD_SS,
		.granule_shift = 12,
		.ias = cfg->ss_ias,
		.oas = walk_oas(c->v),
		.start_level = -1,
		.pgsize_bitmap = ss_pgsizes(c->v),
		.flags = (cfg->flags & VTD_CFG_SSADE) ? PT_CFG_AD : 0,
	};
	struct hw_x_mem m = {
		.x = c->e,
		.hw = &c->v->hw,
		.ov = &c->ov,
		.kind = HW_XS_S2,
		.in = gpa,
	};
	struct pt_walk_level rec[PT_MAX_LEVELS];
	unsigned flags = 0;
	struct pt pt;
	int ret;

	*level = -1;
	if (pt_attach(&pt, &pc, hw_x_pt_mem(&m), cfg->ssptptr))
		return VTD_FR_PE_INV;
	if (cfg->flags & VTD_CFG_SSADE)
		flags = PT_WALK_SET_AF | (write ? PT_WALK_SET_DIRTY : 0);
	w->rec = rec;
	ret = pt_walk(&pt, gpa, flags, w);
	hw_x_walk_done(&m, &pt, w, "SS", ss_text, NULL);
	w->rec = NULL;
	hw_x_updates(c->e, &c->ov, HW_XS_S2, update_text, c);
	*level = pt_arch_level(&pt, w->level);
	return ret ? vtd_fr_ss_walk(w, pt.start_level) : 0;
}

/* Stage-2 translation of a first-stage table address (walk.c's nest_s2
 * behind hw_nest's walk cache). */
static bool nest_s2(struct vx *c, uint64_t ipa, bool write, uint64_t *pa)
{
	struct pt_walk w = { 0 };
	struct hw_tlb_entry e;
	struct hw_xstep *st;
	uint8_t r;
	int level;

	if (!write) {
		if (hw_tlb_lookup(&c->v->s2wc, HW_TLB_SID_S2WC, c->cfg.did, ipa,
				  &e)) {
			*pa = e.pa + (ipa & ((1ull << e.shift) - 1));
			st = hw_x_cache(c->e, "SS walk cache", true);
			hw_x_text(st, "GPA 0x%llx -> 0x%llx (DID %u)", ull(ipa),
				  ull(*pa), c->cfg.did);
			return true;
		}
		for (unsigned i = 0; i < c->nfill; i++) {
			if ((ipa >> c->fill[i].shift) != c->fill[i].va)
				continue;
			*pa = (c->fill[i].pa << c->fill[i].shift) +
			      (ipa & ((1ull << c->fill[i].shift) - 1));
			st = hw_x_cache(c->e, "SS walk cache", true);
			hw_x_text(st,
				  "GPA 0x%llx -> 0x%llx (filled earlier in "
				  "this access)",
				  ull(ipa), ull(*pa));
			return true;
		}
		st = hw_x_cache(c->e, "SS walk cache", false);
		hw_x_text(st, "GPA 0x%llx: walk the second stage (DID %u)",
			  ull(ipa), c->cfg.did);
	} else {
		hw_x_note(c->e, "GPA 0x%llx: second stage for the A/D write",
			  ull(ipa));
	}
	c->nest_faulted = true;
	c->fault_ipa = ipa;
	c->s2_level = -1;
	if (ss_beyond(c->v, &c->cfg, ipa)) {
		c->s2_reason = VTD_FR_NEST_FS_ADDR;
		hw_x_text(hw_x_add(c->e, HW_XS_CHECK, "check"),
			  "GPA 0x%llx beyond the second stage's width",
			  ull(ipa));
		return false;
	}
	r = ss_walk(c, ipa, write, &w, &level);
	c->s2_level = level;
	if (r == VTD_FR_SS_PERM ||
	    (!r && !(w.perm & (write ? PT_PERM_W : PT_PERM_R)))) {
		c->s2_reason = write ? VTD_FR_NEST_FS_WR : S2_READ_FAIL;
		hw_x_text(hw_x_add(c->e, HW_XS_CHECK, "check"),
			  "second stage does not allow %s of GPA 0x%llx",
			  write ? "the A/D write" : "reading the table",
			  ull(ipa));
		return false;
	}
	if (r) {
		c->s2_reason = r;
		hw_x_text(hw_x_add(c->e, HW_XS_CHECK, "check"),
			  "second-stage walk of GPA 0x%llx failed (0x%02x)",
			  ull(ipa), r);
		return false;
	}
	c->nest_faulted = false;
	if (!write && w.leaf_shift >= 12 && w.leaf_shift < 64 &&
	    c->nfill < WC_FILLS) {
		c->fill[c->nfill].va = ipa >> w.leaf_shift;
		c->fill[c->nfill].pa = w.oa >> w.leaf_shift;
		c->fill[c->nfill].shift = w.leaf_shift;
		c->nfill++;
	}
	*pa = w.oa;
	return true;
}

static bool xmem_s2(struct hw_x_mem *m, uint64_t ipa, bool write, uint64_t *pa)
{
	return nest_s2(m->ctx, ipa, write, pa);
}

/* fs_set_bits through the walk's accessor (into the overlay). */
static int fs_set_bits(const struct pt *pt, const struct pt_walk_level *r,
		       uint64_t bits)
{
	uint64_t addr = r->table + 8ull * r->index, cur;
	uint64_t *p = pt->mem.ops->table(pt->mem.ctx, addr, 8, true);

	if (!p)
		return -EFAULT;
	cur = *p;
	if ((cur & ~FS_AD_BITS) != (r->desc & ~FS_AD_BITS))
		return -EAGAIN;
	*p = cur | bits;
	return 0;
}

static int fs_walk_fault(struct vx *c, const struct pt *pt,
			 const struct pt_walk *w, bool nested, uint64_t iova,
			 struct vtd_fault *f, bool *page_req)
{
	bool fpd = c->cfg.flags & VTD_CFG_FPD;
	bool root = w->level == pt->start_level;
	uint8_t r;

	c->level = pt_arch_level(pt, w->level);
	switch (w->fault) {
	case PT_FAULT_TRANSLATION:
		*page_req = true;
		return xfault(c, f, VTD_FR_FS_NP, fpd, false, iova,
			      "first-stage entry not present");
	case PT_FAULT_RESERVED:
		return xfault(c, f, VTD_FR_FS_RSVD, fpd, false, iova,
			      "reserved bits in a first-stage entry");
	case PT_FAULT_ADDR_SIZE:
		return xfault(c, f,
			      nested ? VTD_FR_NEST_FS_ADDR : VTD_FR_FS_RSVD,
			      fpd, false, iova, "address beyond the width");
	default:
		break;
	}
	if (nested && c->nest_faulted) {
		r = c->s2_reason;
		if (r == S2_READ_FAIL)
			r = root ? VTD_FR_NEST_FS_ROOT_RD : VTD_FR_NEST_FS_RD;
		c->level = c->s2_level;
		return xfault(c, f, r, fpd, r != VTD_FR_NEST_FS_ADDR,
			      c->fault_ipa,
			      "second stage of a first-stage table");
	}
	if (w->fault == PT_FAULT_FETCH)
		return xfault(c, f,
			      root ? VTD_FR_FS_ROOT_ACCESS : VTD_FR_FS_ACCESS,
			      fpd, false, iova,
			      "first-stage table not readable");
	return xfault(c, f, VTD_FR_FS_AD_UPDATE, fpd, false, iova,
		      "A/D update refused");
}

/* walk.c's fs_walk, recorded. */
static int fs_walk(struct vx *c, bool nested, uint64_t iova, bool ats,
		   struct vtd_xl *o)
{
	const struct vtd_cfg *cfg = &c->cfg;
	uint32_t access = c->access;
	struct pt_cfg pc = {
		.fmt = PT_FMT_X86_64,
		.granule_shift = 12,
		.ias = cfg->fs_ias,
		.oas = walk_oas(c->v),
		.start_level = -1,
		.pgsize_bitmap = fs_pgsizes(c->v),
	};
	struct hw_x_mem m = {
		.x = c->e,
		.hw = &c->v->hw,
		.ov = &c->ov,
		.s2 = nested ? xmem_s2 : NULL,
		.ctx = c,
		.kind = HW_XS_S1,
		.in = iova,
	};
	bool fpd = cfg->flags & VTD_CFG_FPD;
	bool priv = access & ACC_P;
	unsigned sh = 64 - cfg->fs_ias;
	struct pt_walk_level rec[PT_MAX_LEVELS];
	struct pt_walk w = { .rec = rec };
	bool w_ok, x_ok, dirty;
	struct pt pt;
	int ret = 0;

	if ((uint64_t)((int64_t)(iova << sh) >> sh) != iova)
		return xfault(c, &o->f, VTD_FR_FS_NONCANON, fpd, false, iova,
			      "address not canonical");
	if (pt_attach(&pt, &pc, hw_x_pt_mem(&m), cfg->fsptptr))
		return xfault(c, &o->f, VTD_FR_PE_INV, fpd, false, iova,
			      "first-stage tables unusable");
	c->nest_faulted = false;
	if (pt_walk(&pt, iova & ((1ull << cfg->fs_ias) - 1), PT_WALK_SET_AF,
		    &w)) {
		hw_x_walk_done(&m, &pt, &w, "FS", fs_text, NULL);
		return fs_walk_fault(c, &pt, &w, nested, iova, &o->f,
				     &o->page_req);
	}
	hw_x_walk_done(&m, &pt, &w, "FS", fs_text, NULL);
	c->level = pt_arch_level(&pt, w.level);
	if (!priv && !(w.perm & PT_PERM_U))
		return xfault(c, &o->f, VTD_FR_FS_US, fpd, false, iova,
			      "user request, U/S=0 on the path");
	w_ok = (priv && !(cfg->flags & VTD_CFG_WPE)) || (w.perm & PT_PERM_W);
	x_ok = (cfg->flags & VTD_CFG_ERE) &&
	       (w.perm & (priv ? PT_PERM_PX : PT_PERM_UX));
	if ((access & ACC_W) && !w_ok && !ats) {
		o->page_req = true;
		return xfault(c, &o->f, VTD_FR_WRITE, fpd, false, iova,
			      "write to a read-only page");
	}
	if ((access & ACC_X) && !x_ok && !ats)
		return xfault(c, &o->f, VTD_FR_EXEC, fpd, false, iova,
			      "execute not allowed (ERE/XD)");
	dirty = w.perm & PT_PERM_DIRTY;
	if ((access & ACC_W) && w_ok && !dirty && w.nrec) {
		ret = fs_set_bits(&pt, &rec[w.nrec - 1], VTD_FS_D);
		dirty = !ret;
	}
	for (unsigned i = 0; !ret && (cfg->flags & VTD_CFG_EAFE) && i < w.nrec;
	     i++)
		if (!(rec[i].desc & VTD_FS_EA))
			ret = fs_set_bits(&pt, &rec[i], VTD_FS_EA);
	hw_x_updates(c->e, &c->ov, HW_XS_S1, update_text, NULL);
	if (ret) {
		if (nested && c->nest_faulted) {
			c->level = c->s2_level;
			return xfault(c, &o->f,
				      c->s2_reason == S2_READ_FAIL ?
					      VTD_FR_NEST_FS_RD :
					      c->s2_reason,
				      fpd, true, c->fault_ipa,
				      "second stage refused the A/D write");
		}
		return xfault(c, &o->f, VTD_FR_FS_AD_UPDATE, fpd, false, iova,
			      "A/D update refused");
	}
	o->pa = w.oa;
	o->shift = w.leaf_shift;
	o->perm = ACC_R | (w_ok && dirty ? ACC_W : 0) | (x_ok ? ACC_X : 0);
	o->tlb_flags = HW_TLB_S1;
	if (w.desc & VTD_FS_G)
		o->tlb_flags |= HW_TLB_GLOBAL;
	return 0;
}

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
	} else if (((access & ACC_R) && !r) || ((access & ACC_W) && !wr) ||
		   ((access & ACC_X) && !x)) {
		return -EFAULT;
	}
	*perm = (r ? ACC_R : 0) | (wr && !clean ? ACC_W : 0) | (x ? ACC_X : 0);
	return 0;
}

static int walk_ss(struct vx *c, uint64_t iova, bool ats, struct vtd_xl *o)
{
	const struct vtd_cfg *cfg = &c->cfg;
	bool fpd = cfg->flags & VTD_CFG_FPD;
	struct pt_walk_level rec[PT_MAX_LEVELS];
	struct pt_walk w = { .rec = rec };
	uint8_t r;

	if (ss_beyond(c->v, cfg, iova))
		return xfault(c, &o->f, VTD_FR_ADDR_BEYOND, fpd, true, iova,
			      "input beyond the second stage's width");
	r = ss_walk(c, iova, c->access & ACC_W, &w, &c->level);
	if (r)
		return xfault(c, &o->f, r, fpd, true, iova,
			      "second-stage walk");
	if (ss_perm(cfg, &w, c->access, ats, &o->perm))
		return xfault(c, &o->f, VTD_FR_SS_PERM, fpd, true, iova,
			      "second stage does not allow the access");
	o->pa = w.oa;
	o->shift = w.leaf_shift;
	o->tlb_flags = HW_TLB_S2;
	return 0;
}

/* walk.c's nest_output: the walk cache for plain reads, else a walk. */
static int nest_output(struct vx *c, uint64_t gpa, bool ats, uint64_t *hpa,
		       unsigned *shift, uint32_t *perm, uint8_t *reason)
{
	const struct vtd_cfg *cfg = &c->cfg;
	uint32_t access = c->access;
	bool plain_read = !(access & ACC_W) &&
			  !((access & ACC_X) && (cfg->flags & VTD_CFG_SSEE));
	struct pt_walk w = { 0 };
	struct hw_tlb_entry e;
	struct hw_xstep *st;
	bool hit = false;

	hw_x_note(c->e, "second stage of the output GPA 0x%llx", ull(gpa));
	if (plain_read) {
		if (hw_tlb_lookup(&c->v->s2wc, HW_TLB_SID_S2WC, cfg->did, gpa,
				  &e)) {
			*hpa = e.pa + (gpa & ((1ull << e.shift) - 1));
			*shift = e.shift;
			hit = true;
		}
		for (unsigned i = 0; !hit && i < c->nfill; i++) {
			if ((gpa >> c->fill[i].shift) != c->fill[i].va)
				continue;
			*hpa = (c->fill[i].pa << c->fill[i].shift) +
			       (gpa & ((1ull << c->fill[i].shift) - 1));
			*shift = c->fill[i].shift;
			hit = true;
		}
		st = hw_x_cache(c->e, "SS walk cache", hit);
		if (hit) {
			*perm = ACC_R | (cfg->flags & VTD_CFG_SSEE ? 0 : ACC_X);
			hw_x_text(st, "GPA 0x%llx -> 0x%llx (DID %u)", ull(gpa),
				  ull(*hpa), cfg->did);
			return 0;
		}
		hw_x_text(st, "GPA 0x%llx: walk the second stage", ull(gpa));
	}
	*reason = ss_walk(c, gpa, access & ACC_W, &w, &c->level);
	if (*reason)
		return -EFAULT;
	if (ss_perm(cfg, &w, access, ats, perm)) {
		*reason = VTD_FR_SS_PERM;
		return -EFAULT;
	}
	*hpa = w.oa;
	*shift = w.leaf_shift;
	return 0;
}

static int walk_nested(struct vx *c, uint64_t iova, bool ats, struct vtd_xl *o)
{
	const struct vtd_cfg *cfg = &c->cfg;
	bool fpd = cfg->flags & VTD_CFG_FPD;
	uint64_t gpa, hpa;
	unsigned shift;
	uint32_t perm;
	uint8_t reason = 0;
	int ret;

	ret = fs_walk(c, true, iova, ats, o);
	if (ret)
		return ret;
	gpa = o->pa;
	if (ss_beyond(c->v, cfg, gpa))
		return xfault(c, &o->f, VTD_FR_NEST_FS_ADDR, fpd, false, iova,
			      "output GPA beyond the second stage's width");
	if (nest_output(c, gpa, ats, &hpa, &shift, &perm, &reason))
		return xfault(c, &o->f, reason, fpd, true, gpa,
			      "second stage of the output");
	o->pa = hpa;
	o->perm &= perm;
	if (shift < o->shift)
		o->shift = (uint8_t)shift;
	o->tlb_flags |= HW_TLB_S2;
	return 0;
}

static int walk(struct vx *c, uint64_t iova, bool ats, struct vtd_xl *o)
{
	const struct vtd_cfg *cfg = &c->cfg;

	o->page_req = false;
	o->f.reason = 0;
	c->level = -1;
	switch (cfg->pgtt) {
	case VTD_PGTT_FS:
		hw_x_note(c->e, "first stage: %u-level, %u-bit input",
			  cfg->fs_ias == 57 ? 5 : 4, cfg->fs_ias);
		return fs_walk(c, false, iova, ats, o);
	case VTD_PGTT_SS:
		hw_x_note(c->e, "second stage: %u-bit input", cfg->ss_ias);
		return walk_ss(c, iova, ats, o);
	case VTD_PGTT_NESTED:
		hw_x_note(c->e,
			  "nested: first stage (%u-bit) at GPAs, each table "
			  "address through the second stage (DID %u)",
			  cfg->fs_ias, cfg->did);
		return walk_nested(c, iova, ats, o);
	default:
		if (c->v->haw < 64 && (iova >> c->v->haw))
			return xfault(c, &o->f, VTD_FR_ADDR_BEYOND,
				      cfg->flags & VTD_CFG_FPD, false, iova,
				      "pass-through input beyond HAW");
		o->pa = iova;
		o->shift = 30;
		o->perm = ACC_R | ACC_W | ACC_X;
		o->tlb_flags = HW_TLB_S2;
		return 0;
	}
}

/* ---- outcome ---- */

static void ok_summary(struct hw_explain *e)
{
	char p[32];

	access_text(p, sizeof(p), e->res.perm);
	hw_x_summary(
		e, "%s: 0x%llx -> 0x%llx (%llu KiB block, %s)",
		e->res.status == IONEST_XLATE_BYPASS ? "pass-through" : "OK",
		ull(e->req.iova), ull(e->res.addr), ull(e->res.size >> 10), p);
}

static void bypass(struct vx *c, const char *why)
{
	struct hw_explain *e = c->e;

	e->res = (struct ionest_xlate_res){
		.status = IONEST_XLATE_BYPASS,
		.addr = c->r->iova,
		.size = 1ull << 30,
		.perm = ACCESS_RWX | (c->access & ACC_P),
	};
	hw_x_note(e, "%s", why);
	ok_summary(e);
}

/* A request without PASID to the interrupt range (VT-d 3.15): not DMA,
 * whatever the tables say or whether translation is on. A write is an
 * interrupt request; anything else fails, unrecorded. */
static void interrupt_request(struct vx *c)
{
	struct hw_explain *e = c->e;
	const struct ionest_xlate_req *r = c->r;

	e->res = (struct ionest_xlate_res){
		.addr = r->iova,
		.fault_addr = r->iova,
	};
	if (c->access != ACC_W) {
		e->res.status = IONEST_XLATE_FAULT;
		hw_x_text(hw_x_add(e, HW_XS_CHECK, "check"),
			  "a %s of the interrupt range 0xfeexxxxx without "
			  "PASID is neither DMA nor an interrupt",
			  (c->access & ACC_W) ? "read-write" : "read");
		hw_x_summary(e, "refused: not DMA (interrupt range), not "
				"recorded");
		return;
	}
	e->res.status = IONEST_XLATE_INTERRUPT;
	e->res.perm = ACC_W;
	e->res.size = 0x1000;
	hw_x_note(e, "a write without PASID to the interrupt range "
		     "0xfeexxxxx: an interrupt request for the platform, "
		     "not remapped");
	hw_x_summary(e,
		     "interrupt request: 0x%llx to the interrupt "
		     "controller",
		     ull(r->iova));
}

/* translate.c's result_fault, deciding instead of doing. */
static int result_fault(struct vx *c, bool have_cfg, struct vtd_fault f,
			bool page_req)
{
	struct hw_explain *e = c->e;
	const struct ionest_xlate_req *r = c->r;
	char lvl[24] = "";

	e->res = (struct ionest_xlate_res){
		.status = IONEST_XLATE_FAULT,
		.fault = f.reason,
		.stage2 = f.stage2,
		.fault_addr = f.fault_addr,
	};
	if (page_req && r->pri && have_cfg) {
		if (!(c->cfg.flags & VTD_CFG_PRE)) {
			f.reason = VTD_FR_CTX_PRE;
			f.fpd = c->cfg.flags & VTD_CFG_FPD_CTX;
			e->res.fault = f.reason;
			hw_x_note(e, "PRI: page requests are off in the "
				     "context entry (PRE=0)");
		} else if (__atomic_load_n(&c->v->pqa, __ATOMIC_RELAXED)) {
			e->res.status = IONEST_XLATE_PAGE_REQUEST;
			e->would_record = true;
			hw_x_note(e, "PRI: the fault becomes a page request in "
				     "the page request queue; the device "
				     "retries after the response");
		}
	}
	e->fault_name = reason_name(e->res.fault);
	e->fault_level = e->res.fault >= VTD_FR_FS_ACCESS ? c->level : -1;
	if (e->fault_level >= 0)
		snprintf(lvl, sizeof(lvl), " level %d", e->fault_level);
	hw_x_summary(e, "fault 0x%02x %s%s%s", e->res.fault, e->fault_name,
		     e->res.fault >= VTD_FR_FS_ACCESS ?
			     (f.stage2 ? " in the second stage" :
					 " in the first stage") :
			     "",
		     lvl);
	if (e->res.status == IONEST_XLATE_PAGE_REQUEST)
		return 0;
	if (r->ats && vtd_fr_ats_no_access(f.reason)) {
		hw_x_note(e, "ATS: the translation request completes without "
			     "access; no fault is recorded");
		return 0;
	}
	e->would_record = !f.fpd;
	hw_x_note(e, "%s",
		  e->would_record ?
			  "a fault record is written (if one is free)" :
			  "not recorded: fault processing disabled "
			  "(FPD)");
	return 0;
}

/* ---- the request ---- */

static bool access_ok(struct vx *c)
{
	const struct ionest_xlate_req *r = c->r;
	uint32_t a = r->access;
	const char *why = NULL;

	if (a & ACC_X)
		a |= ACC_R;
	c->access = a;
	if (a & ~ACCESS_ALL)
		why = "unknown access bits";
	else if (!(a & (ACC_R | ACC_W)))
		why = "access is neither read, write nor execute";
	else if (r->sid > 0xffff)
		why = "source-id beyond 16 bits";
	else if (r->ssid_valid && r->ssid > 0xfffff)
		why = "PASID beyond 20 bits";
	else if (!r->ssid_valid && (a & (ACC_P | ACC_X)))
		why = "privileged or execute request without a PASID prefix";
	if (!why)
		return true;
	c->e->ret = -EINVAL;
	hw_x_note(c->e, "malformed request: %s", why);
	hw_x_summary(c->e, "malformed request (EINVAL): %s", why);
	return false;
}

/* translate.c's tlb_serves: the permissions and privilege the access
 * needs; a first-stage entry filled for a supervisor request serves no
 * user request. */
static bool tlb_serves(uint32_t flags, uint32_t access, bool pasid)
{
	uint32_t need;

	if (!(access & ACCESS_RWX) || (!pasid && (access & (ACC_X | ACC_P))) ||
	    access & ~ACCESS_ALL)
		return false;
	need = ((access & (ACC_R | ACC_X)) ? ACC_R : 0) | (access & ACC_W) |
	       (access & ACC_X) | (access & ACC_P);
	if ((flags & need) != need)
		return false;
	return !(flags & HW_TLB_S1) || (flags & ACC_P) == (access & ACC_P);
}

static int tlb_probe(struct vx *c)
{
	struct vtd *v = c->v;
	const struct ionest_xlate_req *r = c->r;
	uint64_t shifts = __atomic_load_n(&v->iotlb.shifts, __ATOMIC_RELAXED);
	uint64_t pa, attr;
	struct hw_xstep *st;
	char p[32];

	while (shifts) {
		unsigned sh = (unsigned)__builtin_ctzll(shifts);
		uint32_t fl;

		shifts &= shifts - 1;
		if (!hw_tlb_probe_attr(&v->iotlb, r->sid, stream_key(r),
				       r->iova, sh, &pa, &attr))
			continue;
		fl = hw_tlb_attr_flags(attr);
		access_text(p, sizeof(p), fl & ACCESS_ALL);
		if (!tlb_serves(fl, r->access, r->ssid_valid)) {
			st = hw_x_cache(c->e, "IOTLB", false);
			hw_x_text(st,
				  "an entry for the %llu KiB block (%s) does "
				  "not serve this access: a miss",
				  ull((1ull << sh) >> 10), p);
			return 0;
		}
		st = hw_x_cache(c->e, "IOTLB", true);
		hw_x_text(st,
			  "0x%llx -> 0x%llx (%llu KiB, %s, DID %u, PASID %u)",
			  ull((r->iova >> sh) << sh), ull(pa),
			  ull((1ull << sh) >> 10), p, hw_tlb_attr_dom(attr),
			  hw_tlb_attr_asid(attr));
		c->e->res = (struct ionest_xlate_res){
			.status = IONEST_XLATE_OK,
			.perm = fl & ACCESS_ALL,
			.addr = pa + (r->iova & ((1ull << sh) - 1)),
			.size = 1ull << sh,
		};
		return 1;
	}
	st = hw_x_cache(c->e, "IOTLB", false);
	hw_x_text(st, "no entry for source-id %02x:%02x.%x%s",
		  (r->sid >> 8) & 0xff, (r->sid >> 3) & 0x1f, r->sid & 7,
		  r->ssid_valid ? " with this PASID" : "");
	return 0;
}

/* psc.c's psc_serve, deciding: 1 with the result in e->res. */
static int psc_probe(struct vx *c)
{
	struct vtd *v = c->v;
	const struct ionest_xlate_req *r = c->r;
	const uint64_t iova = r->iova;
	uint32_t access = c->access, fl, perm = 0;
	uint64_t tbl, attr, pte, oa, at;
	const uint64_t *p;
	struct hw_xstep *st;
	bool fs, nested, w;

	if (!hw_tlb_probe_attr(&v->psc, r->sid, stream_key(r), iova, 21, &tbl,
			       &attr)) {
		st = hw_x_cache(c->e, "PDE cache", false);
		hw_x_text(st, "no last-level table cached for this 2 MiB "
			      "region");
		return 0;
	}
	fl = hw_tlb_attr_flags(attr);
	fs = fl & HW_TLB_S1;
	nested = fs && (fl & HW_TLB_S2);
	st = hw_x_cache(c->e, "PDE cache", true);
	hw_x_text(st, "last-level %s table at 0x%llx; ",
		  fs ? "first-stage" : "second-stage", ull(tbl));
	if ((fs && (fl & ACC_P) != (access & ACC_P)) ||
	    (!fs && (access & ~fl & ACC_P)) || (nested && (access & ACC_W))) {
		st->hit = 0;
		hw_x_text(st, "not usable for this access: walk");
		return 0;
	}
	at = tbl + 8 * ((iova >> 12) & 511);
	p = hw_bus_map(&v->hw, at, 8, false);
	if (!p) {
		st->hit = 0;
		return 0;
	}
	pte = hw_read64(p);
	oa = pte & X86_ADDR;
	if (fs) {
		if ((pte & (X86_P | VTD_FS_A)) != (X86_P | VTD_FS_A) ||
		    (pte & v->oa_beyond) ||
		    (!(access & ACC_P) && !(pte & X86_US)))
			goto walk;
		w = (fl & VTD_PSC_WFORCE) || ((fl & ACC_W) && (pte & X86_RW));
		w = w && (pte & VTD_FS_D);
		if ((access & ACC_W) && !w)
			goto walk;
		perm = ACC_R | (w ? ACC_W : 0) |
		       ((fl & ACC_X) && !(pte & X86_XD) ? ACC_X : 0);
	} else {
		bool ad = fl & VTD_PSC_SSADE;

		if ((fl & ACC_R) && (pte & SS_R))
			perm |= ACC_R;
		if ((fl & ACC_W) && (pte & SS_W) && (!ad || (pte & SS_D)))
			perm |= ACC_W;
		if ((ad && !(pte & SS_A)) || (pte & v->oa_beyond) ||
		    (access & (ACC_R | ACC_W)) & ~perm)
			goto walk;
		/* X as the walk grants it without SSEE: ERE's. */
		perm |= fl & ACC_X;
	}
	oa |= iova & 0xfff;
	if (nested) {
		uint64_t out, a2;

		if (!hw_tlb_find_attr(&v->s2wc, HW_TLB_SID_S2WC,
				      hw_tlb_attr_dom(attr), oa, &out, &a2)) {
			st->hit = 0;
			hw_x_text(st,
				  "entry 0x%llx; output GPA not in the "
				  "SS walk cache: walk",
				  ull(pte));
			return 0;
		}
		oa = out + (oa & ((1ull << hw_tlb_attr_shift(a2)) - 1));
		perm = ACC_R;
	}
	/* The privilege served: the request's (first stage), SRE's (second
	 * stage alone). */
	perm |= (fs ? access : fl) & ACC_P;
	hw_x_text(st, "entry 0x%llx at 0x%llx", ull(pte), ull(at));
	c->e->res = (struct ionest_xlate_res){
		.status = IONEST_XLATE_OK,
		.perm = perm,
		.addr = oa,
		.size = 0x1000,
	};
	return 1;
walk:
	st->hit = 0;
	hw_x_text(st, "entry 0x%llx needs a walk", ull(pte));
	return 0;
}

/* The configuration: the cache, and the entries in memory. */
static int configure(struct vx *c, struct vtd_fault *f)
{
	const struct ionest_xlate_req *r = c->r;
	struct vtd_cfg cached, fetched;
	struct hw_xstep *st;
	bool hit, skip = c->e->skipping;
	int ret;

	hit = vtd_cc_lookup(&c->v->cc, r->sid, stream_key(r), &cached);
	st = hw_x_cache(c->e, "context/PASID cache", hit);
	hw_x_text(st, hit ? "decoded context and PASID entries cached: not "
			    "fetched" :
			    "fetch the root, context and PASID entries");
	if (hit)
		c->e->skipping = true;
	show_entries(c);
	memset(&fetched, 0, sizeof(fetched));
	ret = vtd_cfg_fetch(c->v, r->sid, r->ssid_valid, r->ssid, &fetched, f);
	if (ret)
		hw_x_text(hw_x_add(c->e, HW_XS_CHECK, "check"),
			  "configuration -> 0x%02x %s", f->reason,
			  reason_name(f->reason));
	c->e->skipping = skip;
	if (!hit) {
		c->cfg = fetched;
		return ret;
	}
	if (ret || memcmp(&cached, &fetched, sizeof(cached))) {
		c->e->stale = true;
		hw_x_note(c->e,
			  "stale: memory now says %s; the cached entries "
			  "are used (no context/PASID-cache "
			  "invalidation since)",
			  ret ? reason_name(f->reason) : "something else");
	}
	c->cfg = cached;
	*f = (struct vtd_fault){ .fault_addr = r->iova };
	return 0;
}

/* translate.c's vtd_translate_walk. */
static int full_path(struct vx *c)
{
	const struct ionest_xlate_req *r = c->r;
	struct hw_explain *e = c->e;
	struct vtd_fault f = { .fault_addr = r->iova };
	struct vtd_xl xl = { 0 };
	const struct vtd_cfg *cfg = &c->cfg;
	uint32_t prv = 0;

	if (configure(c, &f))
		return result_fault(c, false, f, false);
	if (r->ats && !(cfg->flags & VTD_CFG_DTE)) {
		xfault(c, &f, VTD_FR_CTX_DTE, cfg->flags & VTD_CFG_FPD_CTX,
		       false, r->iova, "translation request, DTE=0");
		return result_fault(c, true, f, false);
	}
	if ((c->access & ACC_P) && !(cfg->flags & VTD_CFG_SRE)) {
		xfault(c, &f, VTD_FR_PE_SRE, cfg->flags & VTD_CFG_FPD, false,
		       r->iova, "supervisor request, SRE=0");
		return result_fault(c, true, f, false);
	}
	if ((c->access & ACC_X) && !(cfg->flags & VTD_CFG_ERE)) {
		xfault(c, &f, VTD_FR_PE_ERE, cfg->flags & VTD_CFG_FPD, false,
		       r->iova, "execute request, ERE=0");
		return result_fault(c, true, f, false);
	}
	if (walk(c, r->iova, r->ats, &xl))
		return result_fault(c, true, xl.f, xl.page_req);
	if (cfg->pgtt == VTD_PGTT_PT) {
		bypass(c, "PGTT=pass-through");
		return 0;
	}
	/* A first-stage result serves the request's privilege; a second
	 * stage one supervisor requests under SRE, execute only under ERE
	 * (vtd.md §4, whatever the PGTT). */
	if (xl.tlb_flags & HW_TLB_S1) {
		prv = c->access & ACC_P;
	} else {
		prv = cfg->flags & VTD_CFG_SRE ? ACC_P : 0;
		if (!(cfg->flags & VTD_CFG_ERE))
			xl.perm &= ~ACC_X;
	}
	e->res = (struct ionest_xlate_res){
		.status = IONEST_XLATE_OK,
		.addr = xl.pa,
		.size = 1ull << xl.shift,
		.perm = xl.perm | prv,
	};
	ok_summary(e);
	return 0;
}

int vtd_explain(struct ionest_hw *hw, const struct ionest_xlate_req *req,
		struct hw_explain *e)
{
	struct vx *c = xzalloc(sizeof(*c));
	struct ionest_xlate_res cached;
	struct hw_xstep *st;
	uint32_t mode;
	int served = 0;

	if (!c)
		return -ENOMEM;
	c->v = to_vtd(hw);
	c->r = req;
	c->e = e;
	c->level = -1;
	if (!access_ok(c))
		goto out;
	if (!req->ssid_valid && hw_x86_intr_range(req->iova)) {
		interrupt_request(c);
		goto out;
	}
	mode = __atomic_load_n(&c->v->mode, __ATOMIC_ACQUIRE);
	st = hw_x_add(e, HW_XS_REG, "GSTS");
	hw_x_text(st, "TES=%u, root table 0x%llx%s", mode != VTD_MODE_OFF,
		  ull(__atomic_load_n(&c->v->rta, __ATOMIC_ACQUIRE)),
		  mode == VTD_MODE_BAD_ROOT ? " (unusable)" : "");
	if (mode == VTD_MODE_OFF) {
		bypass(c, "translation disabled: requests are not remapped");
		goto out;
	}
	if (mode != VTD_MODE_ON) {
		struct vtd_fault f = { .reason = VTD_FR_ROOT_TABLE_INV,
				       .fault_addr = req->iova };

		result_fault(c, false, f, false);
		goto out;
	}
	if (req->ats) {
		hw_x_note(e, "ATS translation request: the IOTLB is not "
			     "consulted; the context entry must allow it "
			     "(DTE)");
	} else {
		served = tlb_probe(c);
		if (!served && !(c->access & ACC_X))
			served = psc_probe(c);
	}
	if (served) {
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
