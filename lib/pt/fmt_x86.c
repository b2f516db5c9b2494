// SPDX-License-Identifier: MIT
/*
 * x86-64 4- and 5-level paging as the VT-d first stage (vtd.md §5): P, R/W,
 * U/S, A, D, PS, XD; 2M leaves at the PD, 1G at the PDPT when the table's
 * leaf sizes include 1G (CAP.FS1GP), no PS above. Address bits at or above
 * the HAW (cfg.oas) and the low address bits of a large leaf are reserved.
 */
#include "pt/pt_internal.h"

#define X86_P (1ull << 0)
#define X86_RW (1ull << 1)
#define X86_US (1ull << 2)
#define X86_A (1ull << 5)
#define X86_D (1ull << 6)
#define X86_PS (1ull << 7)
#define X86_PAT4K (1ull << 7) /* PAT of a 4K leaf */
#define X86_PATL (1ull << 12) /* PAT of a 2M/1G leaf */
#define X86_XD (1ull << 63)
#define X86_ADDR 0x000ffffffffff000ull /* bits [51:12] */

/* Address bits of a level-@l leaf: [51:shift], PAT below for large ones. */
static inline uint64_t x86_leaf_field(unsigned l)
{
	return X86_ADDR & ~((1ull << (12 + 9 * l)) - 1);
}

static inline int x86_decode(const struct pt *pt, unsigned l, uint64_t d,
			     uint64_t *addr)
{
	if (!(d & X86_P))
		return -PT_FAULT_TRANSLATION;
	if (d & X86_ADDR & ~((1ull << pt->cfg.oas) - 1))
		return -PT_FAULT_RESERVED;
	if (l > 0 && (d & X86_PS)) {
		uint64_t low = X86_ADDR & ((1ull << (12 + 9 * l)) - 1);

		/* PS is reserved in the PML4E/PML5E, and in the PDPTE
		 * without 1G pages. */
		if (l >= 3 ||
		    (l == 2 && !(pt->cfg.pgsize_bitmap & (1ull << 30))))
			return -PT_FAULT_RESERVED;
		if (d & low & ~X86_PATL)
			return -PT_FAULT_RESERVED;
		*addr = d & x86_leaf_field(l);
		return PTD_LEAF;
	}
	*addr = d & X86_ADDR;
	return l ? PTD_TABLE : PTD_LEAF;
}

_Static_assert(PT_PERM_W == X86_RW && PT_PERM_AF == X86_A &&
		       PT_PERM_DIRTY == X86_D && PT_PERM_U == 1u << 4,
	       "x86 perms are copied from descriptor bits");

/* R/W and U/S must be set at every level above, XD clear at every one. */
static inline uint32_t x86_table_deny(uint64_t a, uint64_t o)
{
	uint64_t n = ~a;

	return (uint32_t)(((n >> 1) & 1) << 1 | /* R/W -> W */
			  ((n >> 2) & 1) << 4 | /* U/S -> U */
			  (o >> 63) * (PT_PERM_UX | PT_PERM_PX));
}

/* Branch-free: the hot walk computes this for every translation. */
static inline uint32_t x86_leaf_perm(uint64_t d)
{
	return (uint32_t)(PT_PERM_R | (d & X86_RW) | /* bit 1 = PT_PERM_W */
			  ((d >> 2) & 1) << 4 | /* U/S */
			  ((~d) >> 63) * (PT_PERM_UX | PT_PERM_PX) |
			  (d & (X86_A | X86_D))); /* bits 5, 6 = AF, DIRTY */
}

static inline uint64_t x86_leaf_bits(unsigned l, uint32_t prot)
{
	uint64_t d = X86_P | (l ? X86_PS : 0);

	if (prot & PT_PROT_WRITE)
		d |= X86_RW;
	if (!(prot & PT_PROT_PRIV))
		d |= X86_US;
	if (!(prot & PT_PROT_NOAF))
		d |= X86_A;
	if (!(prot & PT_PROT_EXEC))
		d |= X86_XD;
	return d;
}

/* A on the leaf; D only on a leaf that the walk found writable. */
static inline uint64_t x86_update(uint64_t d, unsigned flags, uint32_t deny)
{
	if (flags & PT_WALK_SET_AF)
		d |= X86_A;
	if ((flags & PT_WALK_SET_DIRTY) && (d & X86_RW) && !(deny & PT_PERM_W))
		d |= X86_D;
	return d;
}

/* Split: a 4K leaf keeps its PAT in bit 7 instead of bit 12. */
static inline uint64_t x86_relevel(uint64_t a, unsigned l)
{
	if (l != 1)
		return a;
	return (a & ~(X86_PS | X86_PATL)) | ((a & X86_PATL) ? X86_PAT4K : 0);
}

static bool x86_has_dirty(const struct pt *pt)
{
	return true;
}

#define PTT_PRESENT(pt, d) ((d)&X86_P)
#define PTT_IS_TABLE(pt, l, d) (!((d)&X86_PS))
#define PTT_TABLE_PA(pt, d) ((d)&X86_ADDR)
#define PTT_LEAF_PA(pt, l, d) ((d)&x86_leaf_field(l))
#define PTT_LEAF_ATTR(pt, l, d) ((d) & ~x86_leaf_field(l))
#define PTT_RELEVEL(pt, a, l) x86_relevel(a, l)
#define PTT_ENC_OA(pt, pa) (pa)
#define PTT_MK_TABLE(pt, pa) ((pa) | X86_P | X86_RW | X86_US)
#define PTT_DECODE(pt, l, d, a) x86_decode(pt, l, d, a)
#define PTT_TABLE_AF(pt) X86_A
#define PTT_LEAF_BITS(pt, l, prot) x86_leaf_bits(l, prot)
#define PTT_TABLE_DENY(pt, a, o) x86_table_deny(a, o)
#define PTT_LEAF_PERM(pt, d) x86_leaf_perm(d)
#define PTT_LEAF_UPDATE(pt, d, f, deny) x86_update(d, f, deny)
#define PTT_IS_DIRTY(pt, d) (((d)&X86_D) != 0)
#define PTT_MK_CLEAN(pt, d) ((d) & ~X86_D)

#define PTT_G 12
#define PTT(x) x86_##x
#include "pt/engine_tmpl.h"

const struct pt_fmt pt_fmt_x86_64 = {
	.name = "x86-64",
	.walk = x86_walk,
	.map = x86_map,
	.unmap = x86_unmap,
	.for_each = x86_for_each,
	.dirty = x86_dirty,
	.set_dirty = x86_set_dirty,
	.destroy = x86_destroy,
	.has_dirty = x86_has_dirty,
	.leaf_slot = x86_leaf_slot,
	.leaf_desc = x86_leaf_desc,
	.leaf_clean = x86_leaf_clean,
};
