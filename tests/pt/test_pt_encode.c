// SPDX-License-Identifier: MIT
/*
 * Exact descriptor encodings against values worked out by hand from the
 * architecture, and pt_walk: records, folding of table attributes, A/D and
 * DBM updates, accessor faults, reserved bits, address-size faults.
 */
#include <errno.h>
#include <string.h>

#include "pt_test.h"

#define R PT_PROT_READ
#define W PT_PROT_WRITE
#define X PT_PROT_EXEC

/*
 * Tables live in guest RAM at low addresses, so that small output address
 * sizes can hold them (host addresses need 47 bits).
 */
static struct guest G;

static struct pt_mem gmem(void)
{
	return guest_mem(&G);
}

static void mk(struct pt *pt, enum pt_format f, unsigned g, unsigned ias,
	       unsigned oas, int sl, uint32_t flags)
{
	struct pt_cfg c = pt_cfg_make(f, g, ias, oas, sl, flags);

	assert_int_equal(pt_init(pt, &c, gmem()), 0);
}

static uint64_t *tbl(uint64_t pa)
{
	return guest_ptr(&G, pa);
}

/* The descriptor at @level on the way to @iova (host tables). */
static uint64_t desc_at(const struct pt *pt, uint64_t iova, unsigned level)
{
	struct pt_walk_level rec[PT_MAX_LEVELS];
	struct pt_walk w = { .rec = rec };
	unsigned i;

	pt_walk(pt, iova, 0, &w);
	for (i = 0; i < w.nrec; i++)
		if (rec[i].level == level)
			return rec[i].desc;
	fail_msg("no record at level %u", level);
	return 0;
}

/* Pointer to the descriptor at @level for @iova (host tables). */
static uint64_t *slot_at(const struct pt *pt, uint64_t iova, unsigned level)
{
	struct pt_walk_level rec[PT_MAX_LEVELS];
	struct pt_walk w = { .rec = rec };
	unsigned i;

	pt_walk(pt, iova, 0, &w);
	for (i = 0; i < w.nrec; i++)
		if (rec[i].level == level)
			return tbl(rec[i].table) + rec[i].index;
	fail_msg("no record at level %u", level);
	return NULL;
}

static int walk(const struct pt *pt, uint64_t iova, unsigned flags,
		struct pt_walk *w)
{
	memset(w, 0, sizeof(*w));
	return pt_walk(pt, iova, flags, w);
}

/* ---- VMSAv8-64 stage 1 ---- */

static void test_arm_s1_4k_page_bits(void **state)
{
	struct pt pt;
	struct pt_walk w;
	uint64_t d;

	mk(&pt, PT_FMT_ARM_S1, 12, 48, 48, -1, 0);
	assert_int_equal(pt.start_level, 3);
	assert_int_equal(pt.root_size, 4096);
	/* RW, unprivileged, no exec: page 11, AF, AP[1]=1, AP[2]=0,
	 * UXN|PXN. */
	assert_int_equal(pt_map(&pt, 0x1000, 0x12345000, 0x1000, R | W, 0), 0);
	d = desc_at(&pt, 0x1000, 0);
	assert_int_equal(d,
			 0x12345000ull | 0x403 | 0x800 | 0x40 | (3ull << 53));
	assert_int_equal(walk(&pt, 0x1abc, 0, &w), 0);
	assert_int_equal(w.oa, 0x12345abc);
	assert_int_equal(w.level, 0);
	assert_int_equal(w.leaf_shift, 12);
	assert_int_equal(w.desc, d);
	assert_int_equal(w.perm,
			 PT_PERM_R | PT_PERM_W | PT_PERM_U | PT_PERM_AF);
	/* Read-only, privileged, executable: AP[2]=1, AP[1]=0, no XN. */
	assert_int_equal(pt_map(&pt, 0x2000, 0x2000, 0x1000,
				R | X | PT_PROT_PRIV, 0),
			 0);
	assert_int_equal(desc_at(&pt, 0x2000, 0),
			 0x2000ull | 0x403 | 0x800 | 0x80);
	assert_int_equal(walk(&pt, 0x2000, 0, &w), 0);
	assert_int_equal(w.perm,
			 PT_PERM_R | PT_PERM_UX | PT_PERM_PX | PT_PERM_AF);
	/* PT_PROT_GLOBAL: nG=0 (not tagged by ASID). */
	assert_int_equal(
		pt_map(&pt, 0x3000, 0x3000, 0x1000, R | PT_PROT_GLOBAL, 0), 0);
	assert_int_equal(desc_at(&pt, 0x3000, 0),
			 0x3000ull | 0x403 | 0xc0 | (3ull << 53));
	/* Table descriptors: next-level address | 0b11. */
	d = desc_at(&pt, 0x1000, 3);
	assert_int_equal(d & 3, 3);
	assert_int_equal(d & ~0xfffull & ((1ull << 48) - 1), d & ~3ull);
	pt_destroy(&pt);
}

static void test_arm_s1_4k_blocks(void **state)
{
	struct pt pt;
	struct pt_walk w;

	mk(&pt, PT_FMT_ARM_S1, 12, 48, 48, -1, 0);
	/* 2M block at L2 (our 1): type 01. */
	assert_int_equal(pt_map(&pt, 0x200000, 0x40200000, 0x200000, R | W, 0),
			 0);
	assert_int_equal(desc_at(&pt, 0x200000, 1),
			 0x40200000ull | 0x401 | 0x800 | 0x40 | (3ull << 53));
	assert_int_equal(walk(&pt, 0x2fffff, 0, &w), 0);
	assert_int_equal(w.oa, 0x402fffff);
	assert_int_equal(w.level, 1);
	assert_int_equal(w.leaf_shift, 21);
	/* 1G block at L1 (our 2). */
	assert_int_equal(pt_map(&pt, 0x80000000, 0x1c0000000, 0x40000000, R, 0),
			 0);
	assert_int_equal(desc_at(&pt, 0x80000000, 2),
			 0x1c0000000ull | 0x401 | 0x800 | 0xc0 | (3ull << 53));
	assert_int_equal(walk(&pt, 0x80000000 + 0x12345678, 0, &w), 0);
	assert_int_equal(w.oa, 0x1c0000000ull + 0x12345678);
	assert_int_equal(w.leaf_shift, 30);
	/* 4K-only bitmap: the same aligned range uses pages. */
	assert_int_equal(pt_map(&pt, 0x400000, 0x400000, 0x200000, R, 0x1000),
			 0);
	assert_int_equal(walk(&pt, 0x400000, 0, &w), 0);
	assert_int_equal(w.leaf_shift, 12);
	pt_destroy(&pt);
}

static void test_arm_s1_illegal_blocks(void **state)
{
	struct pt pt;
	struct pt_walk w;
	uint64_t *root;

	mk(&pt, PT_FMT_ARM_S1, 12, 48, 48, -1, 0);
	root = tbl(pt.root);
	/* L0 block (type 01 at our level 3): translation fault. */
	root[0] = 0x0000000000000401ull;
	assert_int_equal(walk(&pt, 0x1000, 0, &w), -EFAULT);
	assert_int_equal(w.fault, PT_FAULT_TRANSLATION);
	assert_int_equal(w.level, 3);
	root[0] = 0;
	/* L3 descriptor 01 is reserved: translation fault at level 0. */
	assert_int_equal(pt_map(&pt, 0x1000, 0x5000, 0x1000, R, 0), 0);
	*slot_at(&pt, 0x1000, 0) &= ~2ull;
	assert_int_equal(walk(&pt, 0x1000, 0, &w), -EFAULT);
	assert_int_equal(w.fault, PT_FAULT_TRANSLATION);
	assert_int_equal(w.level, 0);
	pt_destroy(&pt);

	/* 16K: no block at L1 (our 2). */
	mk(&pt, PT_FMT_ARM_S1, 14, 47, 48, -1, 0);
	assert_int_equal(pt.start_level, 2);
	tbl(pt.root)[0] = 0x401;
	assert_int_equal(walk(&pt, 0x4000, 0, &w), -EFAULT);
	assert_int_equal(w.fault, PT_FAULT_TRANSLATION);
	assert_int_equal(w.level, 2);
	tbl(pt.root)[0] = 0;
	/* but 32M at L2 is a block */
	assert_int_equal(pt_map(&pt, 0x2000000, 0x6000000, 0x2000000, R, 0), 0);
	assert_int_equal(walk(&pt, 0x2000000, 0, &w), 0);
	assert_int_equal(w.leaf_shift, 25);
	assert_int_equal(desc_at(&pt, 0x2000000, 1) & 3, 1);
	pt_destroy(&pt);
}

static void test_arm_s1_addr_size(void **state)
{
	struct pt pt;
	struct pt_walk w;
	uint64_t *slot;

	mk(&pt, PT_FMT_ARM_S1, 12, 39, 40, -1, 0);
	assert_int_equal(pt.start_level, 2);
	assert_int_equal(pt_map(&pt, 0, 0xff000, 0x1000, R, 0), 0);
	/* leaf output at bit 40 */
	slot = slot_at(&pt, 0, 0);
	*slot |= 1ull << 40;
	assert_int_equal(walk(&pt, 0, 0, &w), -EFAULT);
	assert_int_equal(w.fault, PT_FAULT_ADDR_SIZE);
	assert_int_equal(w.level, 0);
	*slot &= ~(1ull << 40);
	/* next-table address at bit 44 */
	slot = slot_at(&pt, 0, 2);
	*slot |= 1ull << 44;
	assert_int_equal(walk(&pt, 0, 0, &w), -EFAULT);
	assert_int_equal(w.fault, PT_FAULT_ADDR_SIZE);
	assert_int_equal(w.level, 2);
	*slot &= ~(1ull << 44);
	assert_int_equal(walk(&pt, 0, 0, &w), 0);
	/* input beyond ias */
	assert_int_equal(walk(&pt, 1ull << 39, 0, &w), -EFAULT);
	assert_int_equal(w.fault, PT_FAULT_TRANSLATION);
	/* map refuses output beyond oas */
	assert_int_equal(pt_map(&pt, 0x1000, 1ull << 40, 0x1000, R, 0),
			 -EOVERFLOW);
	pt_destroy(&pt);
}

static void test_arm_s1_table_attrs(void **state)
{
	struct pt pt;
	struct pt_walk w;
	uint64_t *top;
	const uint32_t all = PT_PERM_R | PT_PERM_W | PT_PERM_U | PT_PERM_UX |
			     PT_PERM_PX | PT_PERM_AF;

	mk(&pt, PT_FMT_ARM_S1, 12, 48, 48, -1, 0);
	assert_int_equal(pt_map(&pt, 0, 0x10000, 0x1000, R | W | X, 0), 0);
	assert_int_equal(walk(&pt, 0, 0, &w), 0);
	assert_int_equal(w.perm, all);
	top = slot_at(&pt, 0, 3);
	*top |= 1ull << 62; /* APTable[1]: no write below */
	walk(&pt, 0, 0, &w);
	assert_int_equal(w.perm, all & ~PT_PERM_W);
	*top |= 1ull << 61; /* APTable[0]: no unprivileged below */
	walk(&pt, 0, 0, &w);
	assert_int_equal(w.perm, all & ~(PT_PERM_W | PT_PERM_U));
	*slot_at(&pt, 0, 2) |= 1ull << 60; /* UXNTable */
	walk(&pt, 0, 0, &w);
	assert_int_equal(w.perm, all & ~(PT_PERM_W | PT_PERM_U | PT_PERM_UX));
	*slot_at(&pt, 0, 1) |= 1ull << 59; /* PXNTable */
	walk(&pt, 0, 0, &w);
	assert_int_equal(w.perm, PT_PERM_R | PT_PERM_AF);
	pt_destroy(&pt);

	/* HAD: the same table bits are ignored. */
	mk(&pt, PT_FMT_ARM_S1, 12, 48, 48, -1, PT_CFG_HAD);
	assert_int_equal(pt_map(&pt, 0, 0x10000, 0x1000, R | W | X, 0), 0);
	*slot_at(&pt, 0, 3) |= 0xfull << 59;
	walk(&pt, 0, 0, &w);
	assert_int_equal(w.perm, all);
	pt_destroy(&pt);
}

static void test_arm_s1_contig_af_noaf(void **state)
{
	struct pt pt;
	struct pt_walk w;

	mk(&pt, PT_FMT_ARM_S1, 12, 48, 48, -1, 0);
	assert_int_equal(pt_map(&pt, 0, 0, 0x10000, R | PT_PROT_NOAF, 0), 0);
	assert_int_equal(desc_at(&pt, 0, 0) & (1ull << 10), 0);
	assert_int_equal(walk(&pt, 0x3000, 0, &w), 0);
	assert_false(w.perm & PT_PERM_AF);
	assert_false(w.perm & PT_PERM_CONTIG);
	/* hardware access flag update */
	assert_int_equal(walk(&pt, 0x3000, PT_WALK_SET_AF, &w), 0);
	assert_true(w.perm & PT_PERM_AF);
	assert_true(w.desc & (1ull << 10));
	assert_true(desc_at(&pt, 0x3000, 0) & (1ull << 10));
	assert_false(desc_at(&pt, 0x4000, 0) & (1ull << 10));
	/* contiguous hint is reported */
	*slot_at(&pt, 0x5000, 0) |= 1ull << 52;
	walk(&pt, 0x5000, 0, &w);
	assert_true(w.perm & PT_PERM_CONTIG);
	pt_destroy(&pt);
}

static void test_arm_s1_dbm(void **state)
{
	struct pt pt;
	struct pt_walk w;
	uint64_t d;

	mk(&pt, PT_FMT_ARM_S1, 12, 48, 48, -1, PT_CFG_DIRTY);
	assert_int_equal(pt_map(&pt, 0, 0x7000, 0x1000, R | W, 0), 0);
	/* writable-clean: DBM + AP[2] */
	d = desc_at(&pt, 0, 0);
	assert_int_equal(d, 0x7000ull | 0x403 | 0x800 | 0x40 | 0x80 |
				    (1ull << 51) | (3ull << 53));
	walk(&pt, 0, 0, &w);
	assert_int_equal(w.perm,
			 PT_PERM_R | PT_PERM_U | PT_PERM_AF | PT_PERM_DBM);
	/* a plain walk does not dirty; a write walk does */
	assert_int_equal(walk(&pt, 0, PT_WALK_SET_DIRTY, &w), 0);
	assert_int_equal(w.desc, d & ~0x80ull);
	assert_true(w.perm & PT_PERM_W);
	assert_true(w.perm & PT_PERM_DIRTY);
	/* APTable[1] forbids the write: no dirty update */
	assert_int_equal(pt_map(&pt, 0x8000000000ull, 0x8000, 0x1000, R | W, 0),
			 0);
	*slot_at(&pt, 0x8000000000ull, 3) |= 1ull << 62;
	walk(&pt, 0x8000000000ull, PT_WALK_SET_DIRTY, &w);
	assert_false(w.perm & PT_PERM_DIRTY);
	assert_true(w.desc & 0x80);
	pt_destroy(&pt);
}

static void test_arm_s1_64k_oa52(void **state)
{
	struct pt pt;
	struct pt_walk w;
	uint64_t pa = 0xa000123450000ull; /* OA[51:48] = 0xa */

	mk(&pt, PT_FMT_ARM_S1, 16, 52, 52, -1, 0);
	assert_int_equal(pt.start_level, 2);
	assert_int_equal(pt.root_size, 8192);
	assert_int_equal(pt_map(&pt, 0x10000, pa, 0x10000, R | W, 0), 0);
	assert_int_equal(desc_at(&pt, 0x10000, 0),
			 0x123450000ull | (0xaull << 12) | 0x443 | 0x800 |
				 (3ull << 53));
	assert_int_equal(walk(&pt, 0x1abcd, 0, &w), 0);
	assert_int_equal(w.oa, pa + 0xabcd);
	/* 512M block at L2 (our 1) */
	assert_int_equal(pt_map(&pt, 0x20000000, 0x20000000, 0x20000000, R, 0),
			 0);
	walk(&pt, 0x20000000, 0, &w);
	assert_int_equal(w.leaf_shift, 29);
	/* the top of the 52-bit input range */
	assert_int_equal(pt_map(&pt, (1ull << 52) - 0x10000, 0, 0x10000, R, 0),
			 0);
	assert_int_equal(walk(&pt, (1ull << 52) - 1, 0, &w), 0);
	assert_int_equal(w.oa, 0xffff);
	pt_destroy(&pt);
}

/* ---- VMSAv8-64 stage 2 ---- */

static void test_arm_s2_bits(void **state)
{
	struct pt pt;
	struct pt_walk w;
	const uint64_t attr = 0x3c | 0x300 | 0x400; /* MemAttr WB, SH, AF */

	mk(&pt, PT_FMT_ARM_S2, 12, 48, 48, -1, 0);
	assert_int_equal(pt_map(&pt, 0x1000, 0x9000, 0x1000, R | W, 0), 0);
	assert_int_equal(desc_at(&pt, 0x1000, 0),
			 0x9000ull | 3 | attr | 0xc0 | (1ull << 54));
	walk(&pt, 0x1000, 0, &w);
	assert_int_equal(w.perm,
			 PT_PERM_R | PT_PERM_W | PT_PERM_U | PT_PERM_AF);
	assert_int_equal(pt_map(&pt, 0x2000, 0xa000, 0x1000, R | X, 0), 0);
	assert_int_equal(desc_at(&pt, 0x2000, 0), 0xa000ull | 3 | attr | 0x40);
	walk(&pt, 0x2000, 0, &w);
	assert_int_equal(w.perm, PT_PERM_R | PT_PERM_U | PT_PERM_UX |
					 PT_PERM_PX | PT_PERM_AF);
	/* write-only and no-access mappings exist at stage 2 */
	assert_int_equal(pt_map(&pt, 0x3000, 0xb000, 0x1000, W, 0), 0);
	walk(&pt, 0x3000, 0, &w);
	assert_int_equal(w.perm, PT_PERM_W | PT_PERM_U | PT_PERM_AF);
	assert_int_equal(pt_map(&pt, 0x4000, 0xc000, 0x1000, 0, 0), 0);
	walk(&pt, 0x4000, 0, &w);
	assert_int_equal(w.perm, PT_PERM_U | PT_PERM_AF);
	/* 1G block */
	assert_int_equal(pt_map(&pt, 0x40000000, 0x40000000, 0x40000000, R, 0),
			 0);
	assert_int_equal(desc_at(&pt, 0x40000000, 2),
			 0x40000000ull | 1 | attr | 0x40 | (1ull << 54));
	pt_destroy(&pt);
}

static void test_arm_s2_xnx_dbm(void **state)
{
	struct pt pt;
	struct pt_walk w;
	uint64_t *s;

	mk(&pt, PT_FMT_ARM_S2, 12, 40, 40, -1, PT_CFG_XNX | PT_CFG_DIRTY);
	assert_int_equal(pt_map(&pt, 0, 0x5000, 0x1000, R | W | X, 0), 0);
	s = slot_at(&pt, 0, 0);
	/* writable-clean: DBM, S2AP W clear */
	assert_int_equal(*s & (0xc0 | (1ull << 51)), 0x40 | (1ull << 51));
	walk(&pt, 0, 0, &w);
	assert_true(w.perm & PT_PERM_UX && w.perm & PT_PERM_PX);
	assert_false(w.perm & (PT_PERM_W | PT_PERM_DIRTY));
	*s |= 1ull << 53; /* XN 01: EL1 execute-never */
	walk(&pt, 0, 0, &w);
	assert_true(w.perm & PT_PERM_UX);
	assert_false(w.perm & PT_PERM_PX);
	*s |= 1ull << 54; /* XN 11: EL0 execute-never */
	walk(&pt, 0, 0, &w);
	assert_false(w.perm & PT_PERM_UX);
	assert_true(w.perm & PT_PERM_PX);
	*s &= ~(1ull << 53); /* XN 10: neither */
	walk(&pt, 0, 0, &w);
	assert_false(w.perm & (PT_PERM_UX | PT_PERM_PX));
	/* hardware dirty: S2AP[1] set */
	assert_int_equal(walk(&pt, 0, PT_WALK_SET_DIRTY, &w), 0);
	assert_true(w.desc & 0x80);
	assert_true(w.perm & PT_PERM_W && w.perm & PT_PERM_DIRTY);
	pt_destroy(&pt);
}

static void test_arm_s2_concat(void **state)
{
	struct pt pt;
	struct pt_walk_level rec[PT_MAX_LEVELS];
	struct pt_walk w;
	uint64_t iova = (5ull << 30) + 0x3000;
	struct pt_cfg c;

	/* 4K, 40-bit IPA: 2 concatenated tables at L1 (Linux's choice) */
	mk(&pt, PT_FMT_ARM_S2, 12, 40, 40, -1, 0);
	assert_int_equal(pt.start_level, 2);
	assert_int_equal(pt.concat, 2);
	assert_int_equal(pt.root_size, 8192);
	assert_int_equal(pt.root & 8191, 0);
	pt_destroy(&pt);

	/* explicit SL0 = L2 with 34 bits: 16 tables */
	mk(&pt, PT_FMT_ARM_S2, 12, 34, 40, 1, 0);
	assert_int_equal(pt.concat, 16);
	assert_int_equal(pt.root_size, 16 * 4096);
	assert_int_equal(pt.root & (16 * 4096 - 1), 0);
	assert_int_equal(pt_map(&pt, iova, 0x123000, 0x1000, R, 0), 0);
	memset(&w, 0, sizeof(w));
	w.rec = rec;
	assert_int_equal(pt_walk(&pt, iova, 0, &w), 0);
	assert_int_equal(w.oa, 0x123000);
	assert_int_equal(w.nrec, 2);
	/* IPA bits [33:21] index 16 tables: table 10 holds 5G+ */
	assert_int_equal(rec[0].level, 1);
	assert_int_equal(rec[0].table, pt.root + ((iova >> 30) << 12));
	assert_int_equal(rec[0].index, (iova >> 21) & 511);
	assert_int_equal(rec[1].level, 0);
	assert_int_equal(rec[1].index, 3);
	assert_int_equal(walk(&pt, 1ull << 34, 0, &w), -EFAULT);
	pt_destroy(&pt);

	/* 17 tables would be needed */
	c = pt_cfg_make(PT_FMT_ARM_S2, 12, 35, 40, 1, 0);
	assert_int_equal(pt_init(&pt, &c, gmem()), -EINVAL);
	/* 4K start at L3 needs TTST */
	c = pt_cfg_make(PT_FMT_ARM_S2, 12, 25, 40, 0, 0);
	assert_int_equal(pt_init(&pt, &c, gmem()), -EINVAL);
	/* 64K: derived start, and 16 x 64K at L2 */
	mk(&pt, PT_FMT_ARM_S2, 16, 46, 48, 1, 0);
	assert_int_equal(pt.concat, 16);
	assert_int_equal(pt.root_size, 1u << 20);
	assert_int_equal(
		pt_map(&pt, (1ull << 46) - 0x10000, 0x10000, 0x10000, R, 0), 0);
	assert_int_equal(walk(&pt, (1ull << 46) - 1, 0, &w), 0);
	assert_int_equal(w.oa, 0x1ffff);
	pt_destroy(&pt);
}

/* ---- x86-64 ---- */

static void test_x86_bits(void **state)
{
	struct pt pt;
	struct pt_walk w;
	const uint64_t xd = 1ull << 63;

	mk(&pt, PT_FMT_X86_64, 12, 48, 46, -1, 0);
	assert_int_equal(pt.start_level, 3);
	assert_int_equal(pt_arch_level(&pt, 0), 1);
	assert_int_equal(pt_map(&pt, 0x1000, 0x5000, 0x1000, R | W, 0), 0);
	/* P|RW|US|A, XD */
	assert_int_equal(desc_at(&pt, 0x1000, 0), 0x5000ull | 0x27 | xd);
	/* tables P|RW|US */
	assert_int_equal(desc_at(&pt, 0x1000, 3) & 0xfff, 0x7);
	assert_int_equal(desc_at(&pt, 0x1000, 1) & 0xfff, 0x7);
	walk(&pt, 0x1000, 0, &w);
	assert_int_equal(w.perm,
			 PT_PERM_R | PT_PERM_W | PT_PERM_U | PT_PERM_AF);
	/* supervisor, read-only, exec */
	assert_int_equal(pt_map(&pt, 0x2000, 0x6000, 0x1000,
				R | X | PT_PROT_PRIV, 0),
			 0);
	assert_int_equal(desc_at(&pt, 0x2000, 0), 0x6000ull | 0x21);
	walk(&pt, 0x2000, 0, &w);
	assert_int_equal(w.perm,
			 PT_PERM_R | PT_PERM_UX | PT_PERM_PX | PT_PERM_AF);
	/* 2M and 1G pages: PS */
	assert_int_equal(pt_map(&pt, 0x200000, 0x400000, 0x200000, R | W, 0),
			 0);
	assert_int_equal(desc_at(&pt, 0x200000, 1), 0x400000ull | 0xa7 | xd);
	assert_int_equal(
		pt_map(&pt, 0x40000000, 0x80000000, 0x40000000, R | W, 0), 0);
	assert_int_equal(desc_at(&pt, 0x40000000, 2),
			 0x80000000ull | 0xa7 | xd);
	walk(&pt, 0x7fffffff, 0, &w);
	assert_int_equal(w.oa, 0xbfffffff);
	assert_int_equal(w.leaf_shift, 30);
	pt_destroy(&pt);
}

static void test_x86_reserved(void **state)
{
	struct pt pt;
	struct pt_walk w;
	struct pt_cfg c;
	uint64_t *s;

	mk(&pt, PT_FMT_X86_64, 12, 48, 40, -1, 0);
	assert_int_equal(pt_map(&pt, 0x200000, 0x200000, 0x200000, R, 0), 0);
	/* address bit above HAW */
	s = slot_at(&pt, 0x200000, 1);
	*s |= 1ull << 41;
	assert_int_equal(walk(&pt, 0x200000, 0, &w), -EFAULT);
	assert_int_equal(w.fault, PT_FAULT_RESERVED);
	assert_int_equal(w.level, 1);
	*s &= ~(1ull << 41);
	/* low address bits of a 2M page (bit 12 is PAT, allowed) */
	*s |= 1ull << 13;
	assert_int_equal(walk(&pt, 0x200000, 0, &w), -EFAULT);
	assert_int_equal(w.fault, PT_FAULT_RESERVED);
	*s = (*s & ~(1ull << 13)) | (1ull << 12);
	assert_int_equal(walk(&pt, 0x200000, 0, &w), 0);
	/* PS in a PML4E */
	s = slot_at(&pt, 0x200000, 3);
	*s |= 0x80;
	assert_int_equal(walk(&pt, 0x200000, 0, &w), -EFAULT);
	assert_int_equal(w.fault, PT_FAULT_RESERVED);
	assert_int_equal(w.level, 3);
	pt_destroy(&pt);

	/* No 1G pages: PS in the PDPTE is reserved, map uses 2M. */
	c = pt_cfg_make(PT_FMT_X86_64, 12, 48, 46, -1, 0);
	c.pgsize_bitmap = 0x1000 | 0x200000;
	assert_int_equal(pt_init(&pt, &c, gmem()), 0);
	assert_int_equal(pt_leaf_sizes(&pt), 0x201000);
	assert_int_equal(pt_map(&pt, 0, 0, 1ull << 30, R, 0), 0);
	walk(&pt, 0, 0, &w);
	assert_int_equal(w.leaf_shift, 21);
	tbl(desc_at(&pt, 0, 3) & 0xffffffffff000ull)[3] = (3ull << 30) | 0x81;
	assert_int_equal(walk(&pt, 3ull << 30, 0, &w), -EFAULT);
	assert_int_equal(w.fault, PT_FAULT_RESERVED);
	assert_int_equal(w.level, 2);
	pt_destroy(&pt);
}

static void test_x86_fold_and_ad(void **state)
{
	struct pt_walk_level rec[PT_MAX_LEVELS];
	struct pt pt;
	struct pt_walk w;
	unsigned i;

	mk(&pt, PT_FMT_X86_64, 12, 57, 52, -1, 0);
	assert_int_equal(pt.start_level, 4);
	assert_int_equal(pt_map(&pt, 0x1000, 0x1000, 0x1000,
				R | W | X | PT_PROT_NOAF, 0),
			 0);
	walk(&pt, 0x1000, 0, &w);
	assert_int_equal(w.perm, PT_PERM_R | PT_PERM_W | PT_PERM_U |
					 PT_PERM_UX | PT_PERM_PX);
	/* A on every level with SET_AF, D on the leaf with SET_DIRTY */
	memset(&w, 0, sizeof(w));
	w.rec = rec;
	assert_int_equal(pt_walk(&pt, 0x1000, PT_WALK_SET_AF, &w), 0);
	assert_int_equal(w.nrec, 5);
	for (i = 0; i < 5; i++) {
		assert_int_equal(rec[i].level, 4 - i);
		assert_true(rec[i].desc & 0x20);
		assert_true(desc_at(&pt, 0x1000, 4 - i) & 0x20);
	}
	assert_false(w.desc & 0x40);
	assert_int_equal(walk(&pt, 0x1000, PT_WALK_SET_DIRTY, &w), 0);
	assert_true(w.desc & 0x40);
	assert_true(w.perm & PT_PERM_DIRTY);
	for (i = 1; i < 5; i++)
		assert_false(desc_at(&pt, 0x1000, i) & 0x40);
	/* folding of R/W, U/S and XD from the tables */
	*slot_at(&pt, 0x1000, 3) &= ~2ull;
	walk(&pt, 0x1000, 0, &w);
	assert_false(w.perm & PT_PERM_W);
	*slot_at(&pt, 0x1000, 2) &= ~4ull;
	walk(&pt, 0x1000, 0, &w);
	assert_false(w.perm & PT_PERM_U);
	*slot_at(&pt, 0x1000, 1) |= 1ull << 63;
	walk(&pt, 0x1000, 0, &w);
	assert_int_equal(w.perm, PT_PERM_R | PT_PERM_AF | PT_PERM_DIRTY);
	pt_destroy(&pt);

	/* a read-only leaf is never made dirty */
	mk(&pt, PT_FMT_X86_64, 12, 48, 46, -1, 0);
	assert_int_equal(pt_map(&pt, 0, 0, 0x1000, R, 0), 0);
	walk(&pt, 0, PT_WALK_SET_DIRTY, &w);
	assert_false(w.desc & 0x40);
	pt_destroy(&pt);
}

/* ---- VT-d second stage ---- */

static void test_vtd_ss_bits(void **state)
{
	struct pt pt;
	struct pt_walk w;

	mk(&pt, PT_FMT_VTD_SS, 12, 39, 39, -1, 0);
	assert_int_equal(pt.start_level, 2);
	assert_int_equal(pt_map(&pt, 0x1000, 0x3000, 0x1000, R | W, 0), 0);
	assert_int_equal(desc_at(&pt, 0x1000, 0), 0x3000ull | 0x3);
	assert_int_equal(desc_at(&pt, 0x1000, 2) & 0xfff, 0x3);
	walk(&pt, 0x1000, 0, &w);
	assert_int_equal(w.perm, PT_PERM_R | PT_PERM_W | PT_PERM_U);
	assert_int_equal(pt_map(&pt, 0x2000, 0x4000, 0x1000, W, 0), 0);
	assert_int_equal(desc_at(&pt, 0x2000, 0), 0x4000ull | 0x2);
	assert_int_equal(pt_map(&pt, 0x3000, 0x5000, 0x1000, X, 0), 0);
	assert_int_equal(desc_at(&pt, 0x3000, 0), 0x5000ull | 0x4);
	assert_int_equal(pt_map(&pt, 0x4000, 0x5000, 0x1000, 0, 0), -EINVAL);
	/* 2M and 1G superpages: PS */
	assert_int_equal(pt_map(&pt, 0x200000, 0x200000, 0x200000, R, 0), 0);
	assert_int_equal(desc_at(&pt, 0x200000, 1), 0x200000ull | 0x81);
	assert_int_equal(
		pt_map(&pt, 0x40000000, 0x40000000, 0x40000000, R | W, 0), 0);
	assert_int_equal(desc_at(&pt, 0x40000000, 2), 0x40000000ull | 0x83);
	/* table R/W fold */
	*slot_at(&pt, 0x1000, 2) &= ~2ull;
	walk(&pt, 0x1000, 0, &w);
	assert_int_equal(w.perm, PT_PERM_R | PT_PERM_U);
	pt_destroy(&pt);
}

static void test_vtd_ss_ad_reserved(void **state)
{
	struct pt pt;
	struct pt_walk w;
	struct pt_cfg c;
	uint64_t *s;

	mk(&pt, PT_FMT_VTD_SS, 12, 48, 40, -1, PT_CFG_AD);
	assert_int_equal(pt_map(&pt, 0x1000, 0x3000, 0x1000, R | W, 0), 0);
	walk(&pt, 0x1000, 0, &w);
	assert_false(w.perm & PT_PERM_AF);
	assert_int_equal(
		walk(&pt, 0x1000, PT_WALK_SET_AF | PT_WALK_SET_DIRTY, &w), 0);
	assert_int_equal(w.desc, 0x3000ull | 0x3 | 0x100 | 0x200);
	assert_true(w.perm & PT_PERM_AF && w.perm & PT_PERM_DIRTY);
	assert_true(desc_at(&pt, 0x1000, 3) & 0x100);
	assert_false(desc_at(&pt, 0x1000, 3) & 0x200);
	/* reserved: address above HAW, PS at level 3 */
	s = slot_at(&pt, 0x1000, 0);
	*s |= 1ull << 45;
	assert_int_equal(walk(&pt, 0x1000, 0, &w), -EFAULT);
	assert_int_equal(w.fault, PT_FAULT_RESERVED);
	*s &= ~(1ull << 45);
	s = slot_at(&pt, 0x1000, 3);
	*s |= 0x80;
	assert_int_equal(walk(&pt, 0x1000, 0, &w), -EFAULT);
	assert_int_equal(w.fault, PT_FAULT_RESERVED);
	assert_int_equal(w.level, 3);
	pt_destroy(&pt);

	/* no A/D: walks leave the bits alone */
	mk(&pt, PT_FMT_VTD_SS, 12, 48, 40, -1, 0);
	assert_int_equal(pt_map(&pt, 0x1000, 0x3000, 0x1000, R | W, 0), 0);
	walk(&pt, 0x1000, PT_WALK_SET_AF | PT_WALK_SET_DIRTY, &w);
	assert_int_equal(w.desc, 0x3000ull | 0x3);
	pt_destroy(&pt);

	/* superpages follow CAP.SSLPS: no 2M -> PS at the PDE reserved */
	c = pt_cfg_make(PT_FMT_VTD_SS, 12, 48, 40, -1, 0);
	c.pgsize_bitmap = 0x1000;
	assert_int_equal(pt_init(&pt, &c, gmem()), 0);
	assert_int_equal(pt_map(&pt, 0, 0, 0x200000, R, 0), 0);
	walk(&pt, 0, 0, &w);
	assert_int_equal(w.leaf_shift, 12);
	*slot_at(&pt, 0, 1) = 0x200000 | 0x81;
	assert_int_equal(walk(&pt, 0, 0, &w), -EFAULT);
	assert_int_equal(w.fault, PT_FAULT_RESERVED);
	*slot_at(&pt, 0, 1) = 0;
	pt_destroy(&pt);
	/* 1G without 2M is refused */
	c.pgsize_bitmap = 0x1000 | (1ull << 30);
	assert_int_equal(pt_init(&pt, &c, gmem()), -EINVAL);
}

/* ---- walks through an accessor ---- */

static void test_accessor_walk(void **state)
{
	struct pt_walk_level rec[PT_MAX_LEVELS];
	struct guest g;
	struct pt pt, pa;
	struct pt_walk w;
	struct pt_cfg c = pt_cfg_make(PT_FMT_X86_64, 12, 48, 46, -1, 0);
	unsigned long calls;

	guest_init(&g, 16 << 20);
	assert_int_equal(pt_init(&pt, &c, guest_mem(&g)), 0);
	assert_true(pt.root >= GUEST_BASE);
	assert_int_equal(pt_map(&pt, 0x1000, 0x77000, 0x1000, R | W, 0), 0);
	/* a walker describes the same tables without allocating */
	assert_int_equal(pt_attach(&pa, &c, guest_mem(&g), pt.root), 0);
	assert_int_equal(pa.owns_root, 0);
	memset(&w, 0, sizeof(w));
	w.rec = rec;
	calls = g.table_calls;
	assert_int_equal(pt_walk(&pa, 0x1234, 0, &w), 0);
	/* one 8-byte fetch per level */
	assert_int_equal(g.table_calls - calls, 4);
	assert_int_equal(w.oa, 0x77234);
	assert_int_equal(rec[0].table, pt.root);
	assert_int_equal(rec[3].table, rec[2].desc & 0xffffffffff000ull);
	/* a table the accessor cannot reach: fetch fault at its slot */
	g.deny_pa = rec[2].desc & 0xffffffffff000ull;
	g.deny_pa += 8 * 1;
	assert_int_equal(walk(&pa, 0x1000, 0, &w), -EFAULT);
	assert_int_equal(w.fault, PT_FAULT_FETCH);
	assert_int_equal(w.fault_addr, g.deny_pa);
	assert_int_equal(w.level, 0);
	/* read allowed, A/D write-back refused */
	g.deny_write = true;
	assert_int_equal(walk(&pa, 0x1000, 0, &w), 0);
	assert_int_equal(walk(&pa, 0x1000, PT_WALK_SET_DIRTY, &w), -EFAULT);
	assert_int_equal(w.fault, PT_FAULT_UPDATE);
	assert_int_equal(w.fault_addr, g.deny_pa);
	g.deny_pa = 0;
	assert_int_equal(walk(&pa, 0x1000, PT_WALK_SET_DIRTY, &w), 0);
	assert_true(w.desc & 0x40);
	pt_destroy(&pa); /* does not free the tables it did not make */
	assert_int_equal(g.frees, 0);
	pt_destroy(&pt);
	assert_int_equal(g.frees, g.allocs);
	guest_fini(&g);
}

static void test_attach_checks(void **state)
{
	struct pt pt;
	struct pt_cfg c = pt_cfg_make(PT_FMT_ARM_S2, 12, 40, 40, -1, 0);
	struct pt_walk w;
	uint64_t root;

	root = test_pa(test_arena_alloc(&G.arena, 8192, 8192)) -
	       test_pa(G.arena.base) + GUEST_BASE;
	/* concatenated root must be aligned to the whole size */
	assert_int_equal(pt_attach(&pt, &c, gmem(), root + 4096), -EINVAL);
	assert_int_equal(pt_attach(&pt, &c, gmem(), root), 0);
	assert_int_equal(walk(&pt, 0x1000, 0, &w), -EFAULT);
	assert_int_equal(w.fault, PT_FAULT_TRANSLATION);
	assert_int_equal(w.level, 2);
	pt_destroy(&pt);
	/* root beyond oas */
	c.oas = 32;
	assert_int_equal(pt_attach(&pt, &c, gmem(), 1ull << 33), -EINVAL);
	/* an accessor without table() is refused */
	assert_int_equal(
		pt_attach(&pt, &c,
			  (struct pt_mem){ .ops = &(struct pt_mem_ops){ 0 } },
			  root),
		-EINVAL);
}

/* Host identity tables: the inlined fast path. */
static void test_host_tables(void **state)
{
	struct pt pt;
	struct pt_walk w;
	struct pt_cfg c = pt_cfg_make(PT_FMT_ARM_S1, 12, 48, 48, -1, 0);
	size_t before = pool_in_use();

	assert_int_equal(pt_init(&pt, &c, (struct pt_mem){ 0 }), 0);
	assert_int_equal(pool_in_use(), before + 4096);
	assert_int_equal(pt_map(&pt, 0x1000, 0x5000, 0x1000, R | W, 0), 0);
	assert_int_equal(pool_in_use(), before + 4 * 4096);
	assert_int_equal(walk(&pt, 0x1008, 0, &w), 0);
	assert_int_equal(w.oa, 0x5008);
	assert_int_equal(((uint64_t *)(uintptr_t)pt.root)[0] & 3, 3);
	pt_destroy(&pt);
	assert_int_equal(pool_in_use(), before);
}

static int setup(void **state)
{
	guest_init(&G, 256 << 20);
	return 0;
}

static int teardown(void **state)
{
	guest_fini(&G);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arm_s1_4k_page_bits),
		cmocka_unit_test(test_arm_s1_4k_blocks),
		cmocka_unit_test(test_arm_s1_illegal_blocks),
		cmocka_unit_test(test_arm_s1_addr_size),
		cmocka_unit_test(test_arm_s1_table_attrs),
		cmocka_unit_test(test_arm_s1_contig_af_noaf),
		cmocka_unit_test(test_arm_s1_dbm),
		cmocka_unit_test(test_arm_s1_64k_oa52),
		cmocka_unit_test(test_arm_s2_bits),
		cmocka_unit_test(test_arm_s2_xnx_dbm),
		cmocka_unit_test(test_arm_s2_concat),
		cmocka_unit_test(test_x86_bits),
		cmocka_unit_test(test_x86_reserved),
		cmocka_unit_test(test_x86_fold_and_ad),
		cmocka_unit_test(test_vtd_ss_bits),
		cmocka_unit_test(test_vtd_ss_ad_reserved),
		cmocka_unit_test(test_accessor_walk),
		cmocka_unit_test(test_attach_checks),
		cmocka_unit_test(test_host_tables),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
