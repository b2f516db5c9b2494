// SPDX-License-Identifier: MIT
/*
 * VT-d second-stage entries (vtd.md §6): R bit 0, W bit 1, X bit 2, PS bit
 * 7, A bit 8 and D bit 9 when A/D is enabled (PT_CFG_AD, PASID-entry SSADE),
 * address [51:12]. No present bit: an entry is present iff R|W|X is non-zero;
 * table entries are written R|W. Superpages only at the sizes in the table's
 * leaf sizes (CAP.SSLPS). R and W of every level are folded into the walk's
 * permissions; X is taken from the leaf alone.
 */
#include "pt/pt_internal.h"

#define SS_R (1ull << 0)
#define SS_W (1ull << 1)
#define SS_X (1ull << 2)
#define SS_RWX (SS_R | SS_W | SS_X)
#define SS_PS (1ull << 7)
#define SS_A (1ull << 8)
#define SS_D (1ull << 9)
#define SS_ADDR 0x000ffffffffff000ull /* bits [51:12] */

static inline uint64_t ss_leaf_field(unsigned l)
{
	return SS_ADDR & ~((1ull << (12 + 9 * l)) - 1);
}

static inline bool ss_ad(const struct pt *pt)
{
	return pt->cfg.flags & PT_CFG_AD;
}

static inline int ss_decode(const struct pt *pt, unsigned l, uint64_t d,
			    uint64_t *addr)
{
	if (!(d & SS_RWX))
		return -PT_FAULT_TRANSLATION;
	if (d & SS_ADDR & ~((1ull << pt->cfg.oas) - 1))
		return -PT_FAULT_RESERVED;
	if (l > 0 && (d & SS_PS)) {
		/* PS only at the PDE (2M) / PDPTE (1G) per CAP.SSLPS */
		if (l >= 3 || !(pt->cfg.pgsize_bitmap & (1ull << (12 + 9 * l))))
			return -PT_FAULT_RESERVED;
		if (d & SS_ADDR & ((1ull << (12 + 9 * l)) - 1))
			return -PT_FAULT_RESERVED;
		*addr = d & ss_leaf_field(l);
		return PTD_LEAF;
	}
	*addr = d & SS_ADDR;
	return l ? PTD_TABLE : PTD_LEAF;
}

_Static_assert(PT_PERM_R == SS_R && PT_PERM_W == SS_W &&
		       PT_PERM_AF == SS_A >> 3 && PT_PERM_DIRTY == SS_D >> 3,
	       "VT-d SS perms are copied from descriptor bits");

/* R and W must be set at every level above. */
static inline uint32_t ss_table_deny(uint64_t a)
{
	return (uint32_t)(~a & 3); /* bits 0, 1 = PT_PERM_R, PT_PERM_W */
}

/* Branch-free: the hot walk computes this for every translation. */
static inline uint32_t ss_leaf_perm(const struct pt *pt, uint64_t d)
{
	uint32_t p = (uint32_t)(PT_PERM_U | (d & 3) | /* R, W */
				((d >> 2) & 1) * (PT_PERM_UX | PT_PERM_PX));

	if (ss_ad(pt)) /* A bit 8 -> AF bit 5, D bit 9 -> DIRTY bit 6 */
		p |= (uint32_t)((d >> 3) & (PT_PERM_AF | PT_PERM_DIRTY));
	return p;
}

static inline uint64_t ss_leaf_bits(const struct pt *pt, unsigned l,
				    uint32_t prot)
{
	uint64_t d = l ? SS_PS : 0;

	if (prot & PT_PROT_READ)
		d |= SS_R;
	if ((prot & PT_PROT_WRITE) || (pt->cfg.flags & PT_CFG_FORCE_WRITEABLE))
		d |= SS_W;
	if (prot & PT_PROT_EXEC)
		d |= SS_X;
	return d;
}

static inline uint64_t ss_update(const struct pt *pt, uint64_t d,
				 unsigned flags, uint32_t deny)
{
	if (!ss_ad(pt))
		return d;
	if (flags & PT_WALK_SET_AF)
		d |= SS_A;
	if ((flags & PT_WALK_SET_DIRTY) && (d & SS_W) && !(deny & PT_PERM_W))
		d |= SS_D;
	return d;
}

static bool ss_has_dirty(const struct pt *pt)
{
	return ss_ad(pt);
}

#define PTT_PRESENT(pt, d) ((d)&SS_RWX)
#define PTT_IS_TABLE(pt, l, d) (!((d)&SS_PS))
#define PTT_TABLE_PA(pt, d) ((d)&SS_ADDR)
#define PTT_LEAF_PA(pt, l, d) ((d)&ss_leaf_field(l))
#define PTT_LEAF_ATTR(pt, l, d) ((d) & ~ss_leaf_field(l))
#define PTT_RELEVEL(pt, a, l) ((l) == 1 ? (a) & ~SS_PS : (a))
#define PTT_ENC_OA(pt, pa) (pa)
#define PTT_MK_TABLE(pt, pa) ((pa) | SS_R | SS_W)
#define PTT_DECODE(pt, l, d, a) ss_decode(pt, l, d, a)
#define PTT_TABLE_AF(pt) (ss_ad(pt) ? SS_A : 0ull)
#define PTT_LEAF_BITS(pt, l, prot) ss_leaf_bits(pt, l, prot)
#define PTT_TABLE_DENY(pt, a, o) ((void)(o), ss_table_deny(a))
#define PTT_LEAF_PERM(pt, d) ss_leaf_perm(pt, d)
#define PTT_LEAF_UPDATE(pt, d, f, deny) ss_update(pt, d, f, deny)
#define PTT_IS_DIRTY(pt, d) (ss_ad(pt) && ((d)&SS_D))
#define PTT_MK_CLEAN(pt, d) ((d) & ~SS_D)

#define PTT_G 12
#define PTT(x) ss_##x
#include "pt/engine_tmpl.h"

const struct pt_fmt pt_fmt_vtd_ss = {
	.name = "vtd-ss",
	.walk = ss_walk,
	.map = ss_map,
	.unmap = ss_unmap,
	.for_each = ss_for_each,
	.dirty = ss_dirty,
	.set_dirty = ss_set_dirty,
	.destroy = ss_destroy,
	.has_dirty = ss_has_dirty,
	.leaf_slot = ss_leaf_slot,
	.leaf_desc = ss_leaf_desc,
	.leaf_clean = ss_leaf_clean,
};
