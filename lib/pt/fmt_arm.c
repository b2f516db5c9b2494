// SPDX-License-Identifier: MIT
/*
 * VMSAv8-64 stage 1 and stage 2 descriptors (smmuv3.md §6), instantiated
 * for the 4K, 16K and 64K granules. Output addresses are bits [47:granule];
 * with the 64K granule and a 52-bit OAS, OA[51:48] sits in bits [15:12]
 * (§6.2).
 */
#include "pt/pt_internal.h"

#define ARM_VALID (1ull << 0)
#define ARM_TYPE (1ull << 1) /* table (levels > 0) / page (level 0) */
#define ARM_AP1 (1ull << 6) /* S1: unprivileged access allowed */
#define ARM_AP2 (1ull << 7) /* S1: read-only */
#define ARM_S2AP_R (1ull << 6)
#define ARM_S2AP_W (1ull << 7)
#define ARM_SH_IS (3ull << 8)
#define ARM_AF (1ull << 10)
#define ARM_NG (1ull << 11)
#define ARM_DBM (1ull << 51)
#define ARM_CONT (1ull << 52)
#define ARM_PXN (1ull << 53) /* S2 with XNX: XN[0] */
#define ARM_UXN (1ull << 54) /* S2: XN (XN[1]) */
#define ARM_PXNTABLE (1ull << 59)
#define ARM_UXNTABLE (1ull << 60)
#define ARM_APTABLE0 (1ull << 61) /* no unprivileged access below */
#define ARM_APTABLE1 (1ull << 62) /* no write access below */
#define ARM_S2_MEMATTR_WB (0xfull << 2) /* Normal, inner+outer write-back */

static inline unsigned arm_shift(unsigned g, unsigned l)
{
	return g + l * (g - 3);
}

static inline bool arm_oa52(const struct pt *pt, unsigned g)
{
	return g == 16 && pt->cfg.oas > 48;
}

/* The descriptor bits holding the output address. */
static inline uint64_t arm_oa_field(const struct pt *pt, unsigned g)
{
	uint64_t m = ((1ull << 48) - 1) & ~((1ull << g) - 1);

	if (arm_oa52(pt, g))
		m |= 0xfull << 12;
	return m;
}

static inline uint64_t arm_dec_oa(const struct pt *pt, unsigned g, uint64_t d)
{
	uint64_t a = d & ((1ull << 48) - 1) & ~((1ull << g) - 1);

	if (arm_oa52(pt, g))
		a |= ((d >> 12) & 0xf) << 48;
	return a;
}

static inline uint64_t arm_enc_oa(const struct pt *pt, unsigned g, uint64_t pa)
{
	uint64_t d = pa & ((1ull << 48) - 1) & ~((1ull << g) - 1);

	if (arm_oa52(pt, g))
		d |= ((pa >> 48) & 0xf) << 12;
	return d;
}

/* Blocks: 4K at L1 (1G) and L2 (2M); 16K and 64K at L2 only (§6.1). */
static inline bool arm_block_ok(unsigned g, unsigned l)
{
	return l == 1 || (g == 12 && l == 2);
}

static inline int arm_decode(const struct pt *pt, unsigned g, unsigned l,
			     uint64_t d, uint64_t *addr)
{
	int kind;
	uint64_t a;

	if (!(d & ARM_VALID))
		return -PT_FAULT_TRANSLATION;
	if (l == 0) {
		/* "01" at level 3 is reserved: a translation fault (§6.2) */
		if (!(d & ARM_TYPE))
			return -PT_FAULT_TRANSLATION;
		kind = PTD_LEAF;
	} else if (d & ARM_TYPE) {
		kind = PTD_TABLE;
	} else {
		/* no L0 blocks without LPA2, no 16K/64K L1 blocks */
		if (!arm_block_ok(g, l))
			return -PT_FAULT_TRANSLATION;
		kind = PTD_LEAF;
	}
	a = arm_dec_oa(pt, g, d);
	if (kind == PTD_LEAF)
		a &= ~((1ull << arm_shift(g, l)) - 1);
	/* §6.6: output or next-table address beyond the OAS */
	if (a >> pt->cfg.oas)
		return -PT_FAULT_ADDR_SIZE;
	*addr = a;
	return kind;
}

/* ---- stage 1 ---- */

_Static_assert(PT_PERM_R == 1 && PT_PERM_W == 1u << 1 &&
		       PT_PERM_UX == 1u << 2 && PT_PERM_PX == 1u << 3 &&
		       PT_PERM_U == 1u << 4 && PT_PERM_AF == 1u << 5 &&
		       PT_PERM_DIRTY == 1u << 6 && PT_PERM_DBM == 1u << 7 &&
		       PT_PERM_CONTIG == 1u << 8,
	       "the ARM perm computations shift bits into these places");

/* APTable/UXNTable/PXNTable of any level above apply (unless HAD). */
static inline uint32_t arm_s1_table_deny(const struct pt *pt, uint64_t o)
{
	/* index: bit 0 PXNTable, 1 UXNTable, 2 APTable[0], 3 APTable[1] */
	static const uint8_t deny[16] = {
#define D(i)                                                   \
	(((i)&1 ? PT_PERM_PX : 0) | ((i)&2 ? PT_PERM_UX : 0) | \
	 ((i)&4 ? PT_PERM_U : 0) | ((i)&8 ? PT_PERM_W : 0))
		D(0), D(1), D(2),  D(3),  D(4),	 D(5),	D(6),  D(7),
		D(8), D(9), D(10), D(11), D(12), D(13), D(14), D(15),
#undef D
	};

	if (pt->cfg.flags & PT_CFG_HAD)
		return 0;
	return deny[(o >> 59) & 15];
}

/* Leaf bits [54:51]: DBM, Contiguous, PXN, UXN (S2: XN[0], XN[1]). */
#define ARM_HI(i, x) \
	(((i)&1 ? PT_PERM_DBM : 0) | ((i)&2 ? PT_PERM_CONTIG : 0) | x)
#define ARM_S1_X(i) (((i)&4 ? 0 : PT_PERM_PX) | ((i)&8 ? 0 : PT_PERM_UX))
#define ARM_S2_X(i) ((i)&8 ? 0 : PT_PERM_PX | PT_PERM_UX)
#define ARM_HI16(X)                                                            \
	{                                                                      \
		ARM_HI(0, X(0)), ARM_HI(1, X(1)), ARM_HI(2, X(2)),             \
			ARM_HI(3, X(3)), ARM_HI(4, X(4)), ARM_HI(5, X(5)),     \
			ARM_HI(6, X(6)), ARM_HI(7, X(7)), ARM_HI(8, X(8)),     \
			ARM_HI(9, X(9)), ARM_HI(10, X(10)), ARM_HI(11, X(11)), \
			ARM_HI(12, X(12)), ARM_HI(13, X(13)),                  \
			ARM_HI(14, X(14)), ARM_HI(15, X(15))                   \
	}

/* Few instructions: the hot walk computes this for every translation. */
static inline uint32_t arm_s1_leaf_perm(uint64_t d)
{
	static const uint16_t hi[16] = ARM_HI16(ARM_S1_X);
	/* AP[2:1] at bits 7:6 -> W (AP[2] clear), U (AP[1] set) */
	static const uint8_t ap[4] = { PT_PERM_W, PT_PERM_W | PT_PERM_U, 0,
				       PT_PERM_U };

	return PT_PERM_R | hi[(d >> 51) & 15] | ap[(d >> 6) & 3] |
	       (uint32_t)((d >> 5) & PT_PERM_AF) | /* AF bit 10 */
	       (uint32_t)((d >> 45) & ~(d >> 1) & PT_PERM_DIRTY); /* DBM, W */
}

static inline uint64_t arm_s1_leaf_bits(const struct pt *pt, unsigned l,
					uint32_t prot)
{
	uint64_t d = ARM_VALID | (l ? 0 : ARM_TYPE);

	if (!(prot & PT_PROT_NOAF))
		d |= ARM_AF;
	if (!(prot & PT_PROT_PRIV))
		d |= ARM_AP1;
	if (!(prot & PT_PROT_WRITE))
		d |= ARM_AP2;
	else if (pt->cfg.flags & PT_CFG_DIRTY)
		d |= ARM_DBM | ARM_AP2; /* writable-clean */
	if (!(prot & PT_PROT_EXEC))
		d |= ARM_UXN | ARM_PXN;
	if (!(prot & PT_PROT_GLOBAL))
		d |= ARM_NG; /* ASID-tagged, so TLBI by ASID reaches it */
	return d;
}

static inline uint64_t arm_s1_update(uint64_t d, unsigned flags, uint32_t deny)
{
	if (flags & PT_WALK_SET_AF)
		d |= ARM_AF;
	/* Hardware dirty state: DBM makes a write clear AP[2]. */
	if ((flags & PT_WALK_SET_DIRTY) && (d & ARM_DBM) && !(deny & PT_PERM_W))
		d &= ~ARM_AP2;
	return d;
}

/* ---- stage 2 ---- */

static inline uint32_t arm_s2_leaf_perm(const struct pt *pt, uint64_t d)
{
	static const uint16_t hi[16] = ARM_HI16(ARM_S2_X);
	uint32_t p = PT_PERM_U | (uint32_t)((d >> 6) & 3) | /* S2AP R, W */
		     (uint32_t)((d >> 5) & PT_PERM_AF) |
		     (uint32_t)((d >> 45) & (d >> 1) & PT_PERM_DIRTY);

	if (__builtin_expect(!(pt->cfg.flags & PT_CFG_XNX), 1))
		return p | hi[(d >> 51) & 15];
	/* XN[1:0]: 00 all, 01 EL0 only, 10 none, 11 EL1 only */
	p |= hi[(d >> 51) & 3] & ~(PT_PERM_UX | PT_PERM_PX);
	switch ((d >> 53) & 3) {
	case 0:
		return p | PT_PERM_UX | PT_PERM_PX;
	case 1:
		return p | PT_PERM_UX;
	case 3:
		return p | PT_PERM_PX;
	default:
		return p;
	}
}

static inline uint64_t arm_s2_leaf_bits(const struct pt *pt, unsigned l,
					uint32_t prot)
{
	uint64_t d = ARM_VALID | (l ? 0 : ARM_TYPE) | ARM_S2_MEMATTR_WB |
		     ARM_SH_IS;

	if (!(prot & PT_PROT_NOAF))
		d |= ARM_AF;
	if (prot & PT_PROT_READ)
		d |= ARM_S2AP_R;
	if (prot & PT_PROT_WRITE)
		d |= (pt->cfg.flags & PT_CFG_DIRTY) ? ARM_DBM : ARM_S2AP_W;
	if (!(prot & PT_PROT_EXEC))
		d |= ARM_UXN; /* XN (XNX: 0b10, neither level) */
	return d;
}

static inline uint64_t arm_s2_update(uint64_t d, unsigned flags)
{
	if (flags & PT_WALK_SET_AF)
		d |= ARM_AF;
	if ((flags & PT_WALK_SET_DIRTY) && (d & ARM_DBM))
		d |= ARM_S2AP_W;
	return d;
}

static bool arm_has_dirty(const struct pt *pt)
{
	return pt->cfg.flags & PT_CFG_DIRTY;
}

/* ---- engine hooks; PTT_G and ARM_S2 are set per instance ---- */
#define PTT_PRESENT(pt, d) ((d)&ARM_VALID)
#define PTT_IS_TABLE(pt, l, d) ((d)&ARM_TYPE)
#define PTT_TABLE_PA(pt, d) arm_dec_oa(pt, PTT_G, d)
#define PTT_LEAF_PA(pt, l, d) \
	(arm_dec_oa(pt, PTT_G, d) & ~((1ull << arm_shift(PTT_G, l)) - 1))
#define PTT_LEAF_ATTR(pt, l, d) ((d) & ~arm_oa_field(pt, PTT_G))
#define PTT_RELEVEL(pt, a, l) \
	((((l) == 1) ? ((a) | ARM_TYPE) : (a)) & ~ARM_CONT)
#define PTT_ENC_OA(pt, pa) arm_enc_oa(pt, PTT_G, pa)
#define PTT_MK_TABLE(pt, pa) (arm_enc_oa(pt, PTT_G, pa) | ARM_VALID | ARM_TYPE)
#define PTT_DECODE(pt, l, d, a) arm_decode(pt, PTT_G, l, d, a)
#define PTT_TABLE_AF(pt) 0ull
#define PTT_LEAF_BITS(pt, l, prot) \
	(ARM_S2 ? arm_s2_leaf_bits(pt, l, prot) : arm_s1_leaf_bits(pt, l, prot))
#define PTT_TABLE_DENY(pt, a, o) \
	((void)(a), ARM_S2 ? 0u : arm_s1_table_deny(pt, o))
#define PTT_LEAF_PERM(pt, d) \
	(ARM_S2 ? arm_s2_leaf_perm(pt, d) : arm_s1_leaf_perm(d))
#define PTT_LEAF_UPDATE(pt, d, f, deny) \
	(ARM_S2 ? arm_s2_update(d, f) : arm_s1_update(d, f, deny))
#define PTT_IS_DIRTY(pt, d) \
	(((d)&ARM_DBM) && (ARM_S2 ? ((d)&ARM_S2AP_W) != 0 : ((d)&ARM_AP2) == 0))
#define PTT_MK_CLEAN(pt, d) \
	(!((d)&ARM_DBM) ? (d) : ARM_S2 ? ((d) & ~ARM_S2AP_W) : ((d) | ARM_AP2))

#define ARM_FMT(pfx, nm)                                                  \
	{                                                                 \
		.name = nm, .walk = pfx##walk, .map = pfx##map,           \
		.unmap = pfx##unmap, .for_each = pfx##for_each,           \
		.dirty = pfx##dirty, .set_dirty = pfx##set_dirty,         \
		.destroy = pfx##destroy, .has_dirty = arm_has_dirty,      \
		.leaf_slot = pfx##leaf_slot, .leaf_desc = pfx##leaf_desc, \
		.leaf_clean = pfx##leaf_clean,                            \
	}

#define ARM_S2 0
#define PTT_G 12
#define PTT(x) arm_s1_4k_##x
#include "pt/engine_tmpl.h"
#undef PTT
#undef PTT_G
#define PTT_G 14
#define PTT(x) arm_s1_16k_##x
#include "pt/engine_tmpl.h"
#undef PTT
#undef PTT_G
#define PTT_G 16
#define PTT(x) arm_s1_64k_##x
#include "pt/engine_tmpl.h"
#undef PTT
#undef PTT_G
#undef ARM_S2

#define ARM_S2 1
#define PTT_G 12
#define PTT(x) arm_s2_4k_##x
#include "pt/engine_tmpl.h"
#undef PTT
#undef PTT_G
#define PTT_G 14
#define PTT(x) arm_s2_16k_##x
#include "pt/engine_tmpl.h"
#undef PTT
#undef PTT_G
#define PTT_G 16
#define PTT(x) arm_s2_64k_##x
#include "pt/engine_tmpl.h"
#undef PTT
#undef PTT_G
#undef ARM_S2

const struct pt_fmt pt_fmt_arm_s1[3] = {
	ARM_FMT(arm_s1_4k_, "arm-s1-4k"),
	ARM_FMT(arm_s1_16k_, "arm-s1-16k"),
	ARM_FMT(arm_s1_64k_, "arm-s1-64k"),
};

const struct pt_fmt pt_fmt_arm_s2[3] = {
	ARM_FMT(arm_s2_4k_, "arm-s2-4k"),
	ARM_FMT(arm_s2_16k_, "arm-s2-16k"),
	ARM_FMT(arm_s2_64k_, "arm-s2-64k"),
};
