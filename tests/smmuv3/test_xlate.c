// SPDX-License-Identifier: MIT
/* SMMUv3 model: single-stage translation, faults and their records, CD and
 * stream tables, SubstreamIDs, ATS, PRI, stalls, HTTU, TBI. */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "hw/smmuv3/smmu_regs.h"
#include "smmu_harness.h"

#define R IONEST_ACCESS_READ
#define W IONEST_ACCESS_WRITE
#define X IONEST_ACCESS_EXEC
#define P IONEST_ACCESS_PRIV
#define RW (PT_PROT_READ | PT_PROT_WRITE)

struct env {
	struct smmu_h h;
	struct pt pt;
	uint64_t *cd;
	uint8_t *data; /* 2 MiB of data pages */
};

static void env_init(struct env *e, const struct smmu_h_opts *o, unsigned gran,
		     uint32_t flags)
{
	struct pt_cfg c = smmu_h_s1_cfg(gran, 48);

	smmu_h_init(&e->h, o);
	c.flags = flags;
	assert_int_equal(pt_init(&e->pt, &c, smmu_h_host_mem(&e->h)), 0);
	e->cd = smmu_h_alloc(&e->h, 64, 64);
	smmu_h_cd(e->cd, &e->pt, NULL, 7);
	e->data = smmu_h_alloc(&e->h, 2u << 20, 2u << 20);
}

/* STE of @sid: stage 1 through e->cd. */
static void env_ste(struct env *e, uint32_t sid)
{
	smmu_h_ste_s1(smmu_h_ste(&e->h, sid), smmu_h_pa(e->cd), 0, 0, 0);
}

static void env_fini(struct env *e)
{
	pt_destroy(&e->pt);
	smmu_h_fini(&e->h);
}

static void map(struct pt *pt, uint64_t iova, uint64_t pa, uint64_t size,
		uint32_t prot)
{
	assert_int_equal(pt_map(pt, iova, pa, size, prot, 0), 0);
}

static void remap(struct pt *pt, uint64_t iova, uint64_t pa, uint64_t size,
		  uint32_t prot)
{
	uint64_t n = 0;

	assert_int_equal(pt_unmap(pt, iova, size, 0, NULL, &n), 0);
	assert_int_equal(n, size);
	map(pt, iova, pa, size, prot);
}

static void test_s1_translate(void **state)
{
	struct env e;
	struct ionest_xlate_res r;
	uint64_t d;

	env_init(&e, NULL, 12, 0);
	env_ste(&e, 1);
	d = smmu_h_pa(e.data);
	map(&e.pt, 0x40000000, d, 0x1000, RW);
	map(&e.pt, 0x40200000, d, 0x200000, PT_PROT_READ | PT_PROT_EXEC);
	r = smmu_h_xlate(&e.h, 1, -1, 0x40000123, R);
	assert_int_equal(r.status, IONEST_XLATE_OK);
	assert_int_equal(r.addr, d + 0x123);
	assert_int_equal(r.size, 0x1000);
	assert_int_equal(r.perm, R | W);
	/* Second time from the TLB: same answer. */
	r = smmu_h_xlate(&e.h, 1, -1, 0x40000ff8, W);
	assert_int_equal(r.status, IONEST_XLATE_OK);
	assert_int_equal(r.addr, d + 0xff8);
	/* A 2M block. */
	r = smmu_h_xlate(&e.h, 1, -1, 0x40312345, R | X);
	assert_int_equal(r.status, IONEST_XLATE_OK);
	assert_int_equal(r.addr, d + 0x112345);
	assert_int_equal(r.size, 0x200000);
	assert_int_equal(r.perm, R | X);
	smmu_h_expect_no_event(&e.h);
	env_fini(&e);
}

static void test_xlate_args(void **state)
{
	struct env e;
	struct ionest_xlate_req q = { .sid = 1, .access = R };
	struct ionest_xlate_res r;

	env_init(&e, NULL, 12, 0);
	q.sid = 1u << 16; /* beyond SIDSIZE */
	assert_int_equal(ionest_hw_translate(e.h.hw, &q, &r), -EINVAL);
	q.sid = 1;
	q.ssid_valid = true;
	q.ssid = 1u << 20; /* beyond SSIDSIZE */
	assert_int_equal(ionest_hw_translate(e.h.hw, &q, &r), -EINVAL);
	q.ssid_valid = false;
	q.access = 0;
	assert_int_equal(ionest_hw_translate(e.h.hw, &q, &r), -EINVAL);
	q.access = 0x10 | R;
	assert_int_equal(ionest_hw_translate(e.h.hw, &q, &r), -EINVAL);
	assert_int_equal(ionest_hw_translate(e.h.hw, NULL, &r), -EINVAL);
	env_fini(&e);
}

static void check_evt(const uint64_t *ev, unsigned type, uint32_t sid,
		      uint64_t iova, uint64_t dw1_bits)
{
	assert_int_equal(ev[0] & 0xff, type);
	assert_int_equal(ev[0] >> 32, sid);
	assert_int_equal(ev[1], dw1_bits);
	assert_int_equal(ev[2], iova);
}

#define CLASS(c) ((uint64_t)(c) << EVT1_CLASS_SHIFT)

static void test_s1_faults(void **state)
{
	struct env e;
	struct ionest_xlate_res r;
	uint64_t ev[4], d;

	env_init(&e, NULL, 12, 0);
	env_ste(&e, 2);
	d = smmu_h_pa(e.data);
	map(&e.pt, 0x1000, d, 0x1000, PT_PROT_READ);
	map(&e.pt, 0x2000, d, 0x1000, RW | PT_PROT_NOAF);
	map(&e.pt, 0x3000, d, 0x1000, RW | PT_PROT_PRIV);
	map(&e.pt, 0x4000, d, 0x1000, RW | PT_PROT_EXEC);

	r = smmu_h_xlate(&e.h, 2, -1, 0x9000, R);
	assert_int_equal(r.status, IONEST_XLATE_FAULT);
	assert_int_equal(r.fault, EVT_F_TRANSLATION);
	assert_false(r.stage2);
	assert_true(r.recorded);
	smmu_h_expect_event(&e.h, EVT_F_TRANSLATION, ev);
	check_evt(ev, EVT_F_TRANSLATION, 2, 0x9000,
		  EVT1_RNW | CLASS(EVT_CLASS_IN));
	assert_int_equal(ev[3], 0);

	r = smmu_h_xlate(&e.h, 2, -1, 0x1008, W);
	assert_int_equal(r.fault, EVT_F_PERMISSION);
	smmu_h_expect_event(&e.h, EVT_F_PERMISSION, ev);
	check_evt(ev, EVT_F_PERMISSION, 2, 0x1008, CLASS(EVT_CLASS_IN));

	r = smmu_h_xlate(&e.h, 2, -1, 0x2000, R | P);
	assert_int_equal(r.fault, EVT_F_ACCESS);
	smmu_h_expect_event(&e.h, EVT_F_ACCESS, ev);
	check_evt(ev, EVT_F_ACCESS, 2, 0x2000,
		  EVT1_RNW | EVT1_PNU | CLASS(EVT_CLASS_IN));

	/* Privileged-only page: unprivileged faults, privileged passes. */
	r = smmu_h_xlate(&e.h, 2, -1, 0x3000, R);
	assert_int_equal(r.fault, EVT_F_PERMISSION);
	smmu_h_expect_event(&e.h, EVT_F_PERMISSION, NULL);
	r = smmu_h_xlate(&e.h, 2, -1, 0x3000, W | P);
	assert_int_equal(r.status, IONEST_XLATE_OK);
	assert_int_equal(r.perm, R | W | P);

	/* Execute: never on an XN page; unprivileged on EL0-executable;
	 * privileged never on memory writable at EL0. */
	r = smmu_h_xlate(&e.h, 2, -1, 0x1000, R | X);
	assert_int_equal(r.fault, EVT_F_PERMISSION);
	smmu_h_expect_event(&e.h, EVT_F_PERMISSION, ev);
	check_evt(ev, EVT_F_PERMISSION, 2, 0x1000,
		  EVT1_RNW | EVT1_IND | CLASS(EVT_CLASS_IN));
	r = smmu_h_xlate(&e.h, 2, -1, 0x4000, R | X);
	assert_int_equal(r.status, IONEST_XLATE_OK);
	assert_int_equal(r.perm, R | W | X);
	r = smmu_h_xlate(&e.h, 2, -1, 0x4000, X | P);
	assert_int_equal(r.fault, EVT_F_PERMISSION);
	smmu_h_expect_event(&e.h, EVT_F_PERMISSION, NULL);

	/* CD.R=0: translation faults are not recorded. */
	e.cd[0] &= ~(1ull << 45);
	smmu_h_cfgi_cd(&e.h, 2, 0);
	r = smmu_h_xlate(&e.h, 2, -1, 0x9000, R);
	assert_int_equal(r.fault, EVT_F_TRANSLATION);
	assert_false(r.recorded);
	smmu_h_expect_no_event(&e.h);
	env_fini(&e);
}

static void test_s1_access_flag(void **state)
{
	struct env e;
	struct ionest_xlate_res r;
	struct pt_walk w = { 0 };

	env_init(&e, NULL, 12, 0);
	env_ste(&e, 1);
	map(&e.pt, 0x2000, smmu_h_pa(e.data), 0x1000, RW | PT_PROT_NOAF);
	/* AFFD: AF=0 does not fault. */
	e.cd[0] |= 1ull << 35;
	smmu_h_cfgi_cd(&e.h, 1, 0);
	r = smmu_h_xlate(&e.h, 1, -1, 0x2000, R);
	assert_int_equal(r.status, IONEST_XLATE_OK);
	assert_int_equal(pt_walk(&e.pt, 0x2000, 0, &w), 0);
	assert_false(w.perm & PT_PERM_AF);
	/* HA: the walk sets AF. */
	e.cd[0] &= ~(1ull << 35);
	e.cd[0] |= 1ull << 43;
	smmu_h_cfgi_cd(&e.h, 1, 0);
	r = smmu_h_xlate(&e.h, 1, -1, 0x2000, R);
	assert_int_equal(r.status, IONEST_XLATE_OK);
	assert_int_equal(pt_walk(&e.pt, 0x2000, 0, &w), 0);
	assert_true(w.perm & PT_PERM_AF);
	smmu_h_expect_no_event(&e.h);
	env_fini(&e);
}

static void test_s1_dirty(void **state)
{
	struct env e;
	struct ionest_xlate_res r;
	struct pt_walk w = { 0 };

	env_init(&e, NULL, 12, PT_CFG_DIRTY);
	env_ste(&e, 1);
	map(&e.pt, 0x5000, smmu_h_pa(e.data), 0x1000, RW);
	/* Writable-clean without HD: a write is a permission fault. */
	r = smmu_h_xlate(&e.h, 1, -1, 0x5000, W);
	assert_int_equal(r.fault, EVT_F_PERMISSION);
	smmu_h_expect_event(&e.h, EVT_F_PERMISSION, NULL);
	e.cd[0] |= 1ull << 42 | 1ull << 43; /* HD, HA */
	smmu_h_cfgi_cd(&e.h, 1, 0);
	r = smmu_h_xlate(&e.h, 1, -1, 0x5000, R);
	assert_int_equal(r.status, IONEST_XLATE_OK);
	assert_int_equal(r.perm, R); /* clean: not yet writable */
	assert_int_equal(pt_walk(&e.pt, 0x5000, 0, &w), 0);
	assert_false(w.perm & PT_PERM_DIRTY);
	/* The write misses the (clean) TLB entry and marks the page dirty. */
	r = smmu_h_xlate(&e.h, 1, -1, 0x5000, W);
	assert_int_equal(r.status, IONEST_XLATE_OK);
	assert_int_equal(r.perm, R | W);
	assert_int_equal(pt_walk(&e.pt, 0x5000, 0, &w), 0);
	assert_true(w.perm & PT_PERM_DIRTY);
	smmu_h_expect_no_event(&e.h);
	env_fini(&e);
}

static void test_tlb_stale_until_tlbi(void **state)
{
	struct env e;
	struct ionest_xlate_res r;
	uint64_t d;

	env_init(&e, NULL, 12, 0);
	env_ste(&e, 1);
	d = smmu_h_pa(e.data);
	map(&e.pt, 0x7000, d, 0x1000, RW);
	r = smmu_h_xlate(&e.h, 1, -1, 0x7000, R);
	assert_int_equal(r.addr, d);
	remap(&e.pt, 0x7000, d + 0x1000, 0x1000, RW);
	/* No invalidation yet: the TLB may (and here does) keep it. */
	r = smmu_h_xlate(&e.h, 1, -1, 0x7000, R);
	assert_int_equal(r.addr, d);
	smmu_h_tlbi_nh_va(&e.h, 0, 7, 0x7000);
	r = smmu_h_xlate(&e.h, 1, -1, 0x7000, R);
	assert_int_equal(r.addr, d + 0x1000);
	/* A CD change is invisible until CFGI_CD. */
	e.cd[0] |= 1ull << 14; /* EPD0 */
	r = smmu_h_xlate(&e.h, 1, -1, 0x7000, R);
	assert_int_equal(r.status, IONEST_XLATE_OK);
	smmu_h_cfgi_cd(&e.h, 1, 0);
	r = smmu_h_xlate(&e.h, 1, -1, 0x7000, R);
	assert_int_equal(r.fault, EVT_F_TRANSLATION);
	env_fini(&e);
}

static void test_ttb1_tbi_epd(void **state)
{
	struct env e;
	struct ionest_xlate_res r;
	struct pt t1;
	struct pt_cfg c = smmu_h_s1_cfg(16, 42);
	uint64_t d;

	env_init(&e, NULL, 12, 0);
	env_ste(&e, 1);
	d = smmu_h_pa(e.data);
	assert_int_equal(pt_init(&t1, &c, smmu_h_host_mem(&e.h)), 0);
	smmu_h_cd(e.cd, &e.pt, &t1, 7);
	smmu_h_cfgi_cd(&e.h, 1, 0);
	map(&e.pt, 0x10000, d, 0x1000, RW);
	map(&t1, 0xffffff0000000000ull & ((1ull << 42) - 1), d + 0x10000,
	    0x10000, RW);
	/* TTB1: the upper 64-42 bits all ones. */
	r = smmu_h_xlate(&e.h, 1, -1, 0xffffff0000000004ull, R);
	assert_int_equal(r.status, IONEST_XLATE_OK);
	assert_int_equal(r.addr, d + 0x10004);
	assert_int_equal(r.size, 0x10000);
	/* Neither region. */
	r = smmu_h_xlate(&e.h, 1, -1, 0x00ff000000010000ull, R);
	assert_int_equal(r.fault, EVT_F_TRANSLATION);
	smmu_h_expect_event(&e.h, EVT_F_TRANSLATION, NULL);
	/* TBI0: the top byte is ignored in TTB0 addresses. */
	e.cd[0] |= 1ull << 38;
	smmu_h_cfgi_cd(&e.h, 1, 0);
	r = smmu_h_xlate(&e.h, 1, -1, 0x5a00000000010008ull, R);
	assert_int_equal(r.status, IONEST_XLATE_OK);
	assert_int_equal(r.addr, d + 8);
	/* ... but not in TTB1 ones without TBI1. */
	r = smmu_h_xlate(&e.h, 1, -1, 0x5affff0000000004ull, R);
	assert_int_equal(r.fault, EVT_F_TRANSLATION);
	smmu_h_expect_event(&e.h, EVT_F_TRANSLATION, NULL);
	/* EPD1: TTB1 walks disabled. */
	e.cd[0] |= 1ull << 30;
	smmu_h_cfgi_cd(&e.h, 1, 0);
	r = smmu_h_xlate(&e.h, 1, -1, 0xffffff0000000004ull, R);
	assert_int_equal(r.fault, EVT_F_TRANSLATION);
	smmu_h_expect_event(&e.h, EVT_F_TRANSLATION, NULL);
	pt_destroy(&t1);
	env_fini(&e);
}

static void test_s1_granules(void **state)
{
	static const unsigned g[2] = { 14, 16 };

	for (unsigned i = 0; i < 2; i++) {
		struct env e;
		struct ionest_xlate_res r;
		uint64_t d, page = 1ull << g[i];

		env_init(&e, NULL, g[i], 0);
		env_ste(&e, 1);
		d = smmu_h_pa(e.data);
		map(&e.pt, 0x7f0000000000ull, d, page, RW);
		r = smmu_h_xlate(&e.h, 1, -1, 0x7f0000000010ull, W);
		assert_int_equal(r.status, IONEST_XLATE_OK);
		assert_int_equal(r.addr, d + 0x10);
		assert_int_equal(r.size, page);
		r = smmu_h_xlate(&e.h, 1, -1, 0x7f0000000000ull + page, W);
		assert_int_equal(r.fault, EVT_F_TRANSLATION);
		env_fini(&e);
	}
}

/* ---- stage 2 only ---- */

static void test_s2_only(void **state)
{
	static const unsigned g[3] = { 12, 14, 16 };

	for (unsigned i = 0; i < 3; i++) {
		struct smmu_h h;
		struct pt s2;
		struct pt_cfg c = smmu_h_s2_cfg(g[i], 40);
		struct ionest_xlate_res r;
		uint64_t *ste, ev[4], d, page = 1ull << g[i];
		uint8_t *data;

		smmu_h_init(&h, NULL);
		assert_int_equal(pt_init(&s2, &c, smmu_h_host_mem(&h)), 0);
		data = smmu_h_alloc(&h, 4 * page, page);
		d = smmu_h_pa(data);
		map(&s2, 0x80000000, d, page, RW);
		map(&s2, 0x80000000 + page, d + page, page, PT_PROT_READ);
		ste = smmu_h_ste(&h, 4);
		smmu_h_ste_bypass(ste);
		smmu_h_ste_s2(ste, 5, &s2);
		r = smmu_h_xlate(&h, 4, -1, 0x80000008, W);
		assert_int_equal(r.status, IONEST_XLATE_OK);
		assert_int_equal(r.addr, d + 8);
		assert_int_equal(r.size, page);
		/* Stage-2 faults: S2=1, CLASS=IN, the IPA in DW3. */
		r = smmu_h_xlate(&h, 4, -1, 0x80000000 + page, W);
		assert_int_equal(r.fault, EVT_F_PERMISSION);
		assert_true(r.stage2);
		assert_int_equal(r.fault_addr, 0x80000000 + page);
		smmu_h_expect_event(&h, EVT_F_PERMISSION, ev);
		check_evt(ev, EVT_F_PERMISSION, 4, 0x80000000 + page,
			  EVT1_S2 | CLASS(EVT_CLASS_IN));
		assert_int_equal(ev[3], 0x80000000 + page);
		r = smmu_h_xlate(&h, 4, -1, 0x90000000, R);
		assert_int_equal(r.fault, EVT_F_TRANSLATION);
		smmu_h_expect_event(&h, EVT_F_TRANSLATION, ev);
		assert_true(ev[1] & EVT1_S2);
		/* IPA beyond the stage-2 input size. */
		r = smmu_h_xlate(&h, 4, -1, 1ull << 40, R);
		assert_int_equal(r.fault, EVT_F_TRANSLATION);
		assert_true(r.stage2);
		smmu_h_expect_event(&h, EVT_F_TRANSLATION, NULL);
		/* Input beyond the IAS: a stage-1 address size fault. */
		r = smmu_h_xlate(&h, 4, -1, 1ull << 48, R);
		assert_int_equal(r.fault, EVT_F_ADDR_SIZE);
		assert_false(r.stage2);
		smmu_h_expect_event(&h, EVT_F_ADDR_SIZE, ev);
		assert_false(ev[1] & EVT1_S2);
		/* S2R=0: not recorded. */
		ste[2] &= ~(1ull << 58);
		smmu_h_cfgi_ste(&h, 4);
		r = smmu_h_xlate(&h, 4, -1, 0x90000000, R);
		assert_false(r.recorded);
		smmu_h_expect_no_event(&h);
		pt_destroy(&s2);
		smmu_h_fini(&h);
	}
}

/* Tables below 4G (so a 32-bit IPS/PS can hold their pointers) while the
 * data stays in the arena, above 4G. */
#define LOW_BASE 0x50000000ul
#define LOW_SIZE (1ul << 20)
static size_t low_used;

static int low_alloc(void *ctx, size_t size, uint64_t *pa)
{
	(void)ctx;
	low_used = (low_used + size - 1) & ~(size - 1); /* aligned to size */
	assert_true(low_used + size <= LOW_SIZE);
	*pa = LOW_BASE + low_used;
	memset((void *)(uintptr_t)*pa, 0, size);
	low_used += size;
	return 0;
}

static void *low_table(void *ctx, uint64_t pa, size_t size, bool write)
{
	(void)ctx;
	(void)size;
	(void)write;
	return (void *)(uintptr_t)pa;
}

static void low_free(void *ctx, uint64_t pa, size_t size)
{
	(void)ctx;
	(void)pa;
	(void)size;
}

static const struct pt_mem_ops low_ops = {
	.table = low_table,
	.alloc = low_alloc,
	.free = low_free,
};

/* Output address size (§6.6) and stage-2 access flag / HTTU / stall. */
static void test_addr_size_and_s2_af(void **state)
{
	struct env e;
	struct smmu_h *h = &e.h;
	struct ionest_xlate_res r;
	struct pt s1lo, s2;
	struct pt_cfg c1 = smmu_h_s1_cfg(12, 32), c = smmu_h_s2_cfg(12, 32);
	struct pt_walk w = { 0 };
	struct pt_mem low = { .ops = &low_ops };
	uint64_t *ste, ev[4], d;
	void *m = mmap((void *)LOW_BASE, LOW_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1,
		       0);

	if (m != (void *)LOW_BASE) {
		if (m != MAP_FAILED)
			munmap(m, LOW_SIZE);
		skip();
	}
	low_used = 0;
	env_init(&e, NULL, 12, 0);
	env_ste(&e, 1);
	d = smmu_h_pa(e.data);
	assert_true(d >> 32);
	/* Stage-1 IPS of 32 bits: tables below it, the output above. */
	assert_int_equal(pt_init(&s1lo, &c1, low), 0);
	map(&s1lo, 0x1000, d, 0x1000, RW);
	smmu_h_cd(e.cd, &s1lo, NULL, 7);
	e.cd[0] &= ~(7ull << 32);
	smmu_h_cfgi_cd(h, 1, 0);
	r = smmu_h_xlate(h, 1, -1, 0x1000, R);
	assert_int_equal(r.fault, EVT_F_ADDR_SIZE);
	assert_false(r.stage2);
	smmu_h_expect_event(h, EVT_F_ADDR_SIZE, ev);
	assert_int_equal(ev[1], EVT1_RNW | CLASS(EVT_CLASS_IN));

	/* Stage 2 with PS 32 bits: output beyond it, S2=1. */
	assert_int_equal(pt_init(&s2, &c, low), 0);
	map(&s2, 0x1000, d, 0x1000, RW);
	map(&s2, 0x2000, d, 0x1000, RW | PT_PROT_NOAF);
	ste = smmu_h_ste(h, 2);
	smmu_h_ste_bypass(ste);
	smmu_h_ste_s2(ste, 2, &s2);
	ste[2] &= ~(7ull << 48); /* PS: 32 bits */
	smmu_h_cfgi_ste(h, 2);
	r = smmu_h_xlate(h, 2, -1, 0x1000, R);
	assert_int_equal(r.fault, EVT_F_ADDR_SIZE);
	assert_true(r.stage2);
	smmu_h_expect_event(h, EVT_F_ADDR_SIZE, ev);
	assert_true(ev[1] & EVT1_S2);
	assert_int_equal(ev[3], 0x1000);

	/* Stage-2 AF=0: F_ACCESS; S2AFFD: no fault; S2HA: AF set. */
	smmu_h_ste_s2(ste, 2, &s2);
	smmu_h_cfgi_ste(h, 2);
	r = smmu_h_xlate(h, 2, -1, 0x2000, R);
	assert_int_equal(r.fault, EVT_F_ACCESS);
	assert_true(r.stage2);
	smmu_h_expect_event(h, EVT_F_ACCESS, NULL);
	/* S2S: the stage-2 fault stalls. */
	ste[2] |= 1ull << 57;
	smmu_h_cfgi_ste(h, 2);
	r = smmu_h_xlate(h, 2, -1, 0x2000, R);
	assert_int_equal(r.status, IONEST_XLATE_STALLED);
	smmu_h_expect_event(h, EVT_F_ACCESS, ev);
	assert_true(ev[1] & EVT1_STALL);
	smmu_h_cmd(h, CMD_RESUME | 2ull << 32, r.stag);
	assert_int_equal(h->nresume, 1);
	assert_false(h->resume[0].b); /* terminate */
	ste[2] &= ~(1ull << 57);
	ste[2] |= 1ull << 53; /* S2AFFD */
	smmu_h_cfgi_ste(h, 2);
	r = smmu_h_xlate(h, 2, -1, 0x2000, R);
	assert_int_equal(r.status, IONEST_XLATE_OK);
	assert_int_equal(pt_walk(&s2, 0x2000, 0, &w), 0);
	assert_false(w.perm & PT_PERM_AF);
	ste[2] &= ~(1ull << 53);
	ste[2] |= 1ull << 56; /* S2HA */
	smmu_h_cfgi_ste(h, 2);
	/* The AF=0 translation cached under S2AFFD is VMID-tagged stage-2
	 * TLB state: CFGI_STE alone leaves it. */
	r = smmu_h_xlate(h, 2, -1, 0x2000, R);
	assert_int_equal(pt_walk(&s2, 0x2000, 0, &w), 0);
	assert_false(w.perm & PT_PERM_AF);
	smmu_h_cmd(h, CMD_TLBI_S12_VMALL | 2ull << 32, 0);
	smmu_h_sync(h);
	r = smmu_h_xlate(h, 2, -1, 0x2000, R);
	assert_int_equal(r.status, IONEST_XLATE_OK);
	assert_int_equal(pt_walk(&s2, 0x2000, 0, &w), 0);
	assert_true(w.perm & PT_PERM_AF);
	pt_destroy(&s2);
	pt_destroy(&s1lo);
	env_fini(&e);
	munmap(m, LOW_SIZE);
}

static void test_bypass_abort_invalid(void **state)
{
	struct smmu_h h;
	struct ionest_xlate_res r;
	uint64_t ev[4];

	smmu_h_init(&h, NULL);
	smmu_h_ste_bypass(smmu_h_ste(&h, 1));
	smmu_h_ste_abort(smmu_h_ste(&h, 2));
	r = smmu_h_xlate(&h, 1, -1, 0xabc000, W);
	assert_int_equal(r.status, IONEST_XLATE_BYPASS);
	assert_int_equal(r.addr, 0xabc000);
	r = smmu_h_xlate(&h, 2, -1, 0xabc000, W);
	assert_int_equal(r.status, IONEST_XLATE_FAULT);
	assert_false(r.recorded);
	smmu_h_expect_no_event(&h);
	/* STE 3 is all zero: V=0. */
	r = smmu_h_xlate(&h, 3, 5, 0xabc000, W);
	assert_int_equal(r.fault, EVT_C_BAD_STE);
	smmu_h_expect_event(&h, EVT_C_BAD_STE, ev);
	assert_int_equal(ev[0],
			 EVT_C_BAD_STE | EVT0_SSV | 5ull << 12 | 3ull << 32);
	smmu_h_fini(&h);
}

/* ---- SubstreamIDs and CD tables ---- */

static void test_ssid_linear(void **state)
{
	struct env e;
	struct ionest_xlate_res r;
	uint64_t *cds, *ste, d, ev[4];
	struct pt t2;
	struct pt_cfg c = smmu_h_s1_cfg(12, 48);

	env_init(&e, NULL, 12, 0);
	d = smmu_h_pa(e.data);
	assert_int_equal(pt_init(&t2, &c, smmu_h_host_mem(&e.h)), 0);
	cds = smmu_h_alloc(&e.h, 4 * 64, 64);
	smmu_h_cd(cds, &e.pt, NULL, 1);
	smmu_h_cd(cds + 16, &t2, NULL, 3);
	map(&e.pt, 0x1000, d, 0x1000, RW);
	map(&t2, 0x1000, d + 0x3000, 0x1000, RW);
	ste = smmu_h_ste(&e.h, 1);
	smmu_h_ste_s1(ste, smmu_h_pa(cds), 0, 2, S1DSS_TERMINATE);
	r = smmu_h_xlate(&e.h, 1, 2, 0x1000, R);
	assert_int_equal(r.addr, d + 0x3000);
	r = smmu_h_xlate(&e.h, 1, 0, 0x1000, R);
	assert_int_equal(r.addr, d);
	/* CD 1 is invalid; SSID 4 is beyond S1CDMax. */
	r = smmu_h_xlate(&e.h, 1, 1, 0x1000, R);
	assert_int_equal(r.fault, EVT_C_BAD_CD);
	smmu_h_expect_event(&e.h, EVT_C_BAD_CD, NULL);
	r = smmu_h_xlate(&e.h, 1, 4, 0x1000, R);
	assert_int_equal(r.fault, EVT_C_BAD_SUBSTREAMID);
	smmu_h_expect_event(&e.h, EVT_C_BAD_SUBSTREAMID, ev);
	assert_int_equal(ev[0], EVT_C_BAD_SUBSTREAMID | EVT0_SSV | 4ull << 12 |
					1ull << 32);
	/* No SSID: S1DSS decides. */
	r = smmu_h_xlate(&e.h, 1, -1, 0x1000, R);
	assert_int_equal(r.fault, EVT_F_STREAM_DISABLED);
	smmu_h_expect_event(&e.h, EVT_F_STREAM_DISABLED, NULL);
	ste[1] = S1DSS_BYPASS;
	smmu_h_cfgi_ste(&e.h, 1);
	r = smmu_h_xlate(&e.h, 1, -1, 0x1000, R);
	assert_int_equal(r.status, IONEST_XLATE_BYPASS);
	ste[1] = S1DSS_SSID0;
	smmu_h_cfgi_ste(&e.h, 1);
	r = smmu_h_xlate(&e.h, 1, -1, 0x1000, R);
	assert_int_equal(r.addr, d);
	r = smmu_h_xlate(&e.h, 1, 0, 0x1000, R);
	assert_int_equal(r.fault, EVT_C_BAD_SUBSTREAMID);
	smmu_h_expect_event(&e.h, EVT_C_BAD_SUBSTREAMID, NULL);
	/* S1CDMax=0: any SSID is bad. */
	smmu_h_ste_s1(ste, smmu_h_pa(cds), 0, 0, 0);
	smmu_h_cfgi_ste(&e.h, 1);
	r = smmu_h_xlate(&e.h, 1, 0, 0x1000, R);
	assert_int_equal(r.fault, EVT_C_BAD_SUBSTREAMID);
	smmu_h_expect_event(&e.h, EVT_C_BAD_SUBSTREAMID, NULL);
	pt_destroy(&t2);
	env_fini(&e);
}

static void test_cd_2level(void **state)
{
	/* S1Fmt 1: 4K leaves of 64 CDs; S1Fmt 2: 64K leaves of 1024. */
	static const unsigned fmt[2] = { S1FMT_4K, S1FMT_64K };
	static const unsigned ssid[2] = { 100, 1500 };

	for (unsigned i = 0; i < 2; i++) {
		struct env e;
		struct ionest_xlate_res r;
		unsigned leaf = fmt[i] == S1FMT_4K ? 6 : 10;
		uint64_t *l1, *l2, d;

		env_init(&e, NULL, 12, 0);
		d = smmu_h_pa(e.data);
		map(&e.pt, 0x1000, d, 0x1000, RW);
		l1 = smmu_h_alloc(&e.h, 64 * 8, 64);
		l2 = smmu_h_alloc(&e.h, 64u << leaf, 4096);
		smmu_h_cd(l2 + (ssid[i] & ((1u << leaf) - 1)) * 8, &e.pt, NULL,
			  9);
		l1[ssid[i] >> leaf] = smmu_h_pa(l2) | 1;
		smmu_h_ste_s1(smmu_h_ste(&e.h, 3), smmu_h_pa(l1), fmt[i], 12,
			      0);
		r = smmu_h_xlate(&e.h, 3, ssid[i], 0x1000, R);
		assert_int_equal(r.status, IONEST_XLATE_OK);
		assert_int_equal(r.addr, d);
		/* Same leaf table, an invalid CD. */
		r = smmu_h_xlate(&e.h, 3, ssid[i] + 1, 0x1000, R);
		assert_int_equal(r.fault, EVT_C_BAD_CD);
		/* L1 descriptor not valid. */
		r = smmu_h_xlate(&e.h, 3, ssid[i] + (1 << leaf), 0x1000, R);
		assert_int_equal(r.fault, EVT_C_BAD_CD);
		smmu_h_expect_event(&e.h, EVT_C_BAD_CD, NULL);
		smmu_h_expect_event(&e.h, EVT_C_BAD_CD, NULL);
		env_fini(&e);
	}
}

static void test_strtab_2level(void **state)
{
	struct env e;
	struct ionest_xlate_res r;
	uint64_t ev[4];

	env_init(&e, &(struct smmu_h_opts){ .split = 6, .sid_bits = 10 }, 12,
		 0);
	map(&e.pt, 0x1000, smmu_h_pa(e.data), 0x1000, RW);
	env_ste(&e, 3);
	env_ste(&e, 200);
	r = smmu_h_xlate(&e.h, 3, -1, 0x1000, R);
	assert_int_equal(r.status, IONEST_XLATE_OK);
	r = smmu_h_xlate(&e.h, 200, -1, 0x1000, R);
	assert_int_equal(r.status, IONEST_XLATE_OK);
	/* L1 descriptor with Span 0: no STEs there. */
	r = smmu_h_xlate(&e.h, 900, -1, 0x1000, R);
	assert_int_equal(r.fault, EVT_C_BAD_STREAMID);
	smmu_h_expect_event(&e.h, EVT_C_BAD_STREAMID, ev);
	assert_int_equal(ev[0], EVT_C_BAD_STREAMID | 900ull << 32);
	/* Span 2 covers two STEs of the 64. */
	e.h.strtab[200 >> 6] = (e.h.strtab[200 >> 6] & ~0x1full) | 2;
	smmu_h_cfgi_ste(&e.h, 200);
	r = smmu_h_xlate(&e.h, 193, -1, 0x1000, R);
	assert_int_equal(r.fault, EVT_C_BAD_STE); /* in span, V=0 */
	r = smmu_h_xlate(&e.h, 200, -1, 0x1000, R);
	assert_int_equal(r.fault, EVT_C_BAD_STREAMID);
	/* Beyond STRTAB_BASE_CFG.LOG2SIZE. */
	r = smmu_h_xlate(&e.h, 1024, -1, 0x1000, R);
	assert_int_equal(r.fault, EVT_C_BAD_STREAMID);
	smmu_h_expect_event(&e.h, EVT_C_BAD_STE, NULL);
	smmu_h_expect_event(&e.h, EVT_C_BAD_STREAMID, NULL);
	smmu_h_expect_event(&e.h, EVT_C_BAD_STREAMID, NULL);
	/* CR2.RECINVSID=0: invalid StreamIDs are not recorded. */
	smmu_h_cr0(&e.h, smmu_h_rd32(&e.h, SMMU_CR0) & ~CR0_SMMUEN);
	smmu_h_wr32(&e.h, SMMU_CR2, 0);
	smmu_h_cr0(&e.h, smmu_h_rd32(&e.h, SMMU_CR0) | CR0_SMMUEN);
	r = smmu_h_xlate(&e.h, 1024, -1, 0x1000, R);
	assert_int_equal(r.fault, EVT_C_BAD_STREAMID);
	assert_false(r.recorded);
	smmu_h_expect_no_event(&e.h);
	env_fini(&e);
}

/* ---- ATS, PRI, stall ---- */

static struct ionest_xlate_res xreq(struct smmu_h *h, struct ionest_xlate_req q)
{
	struct ionest_xlate_res r;

	assert_int_equal(ionest_hw_translate(h->hw, &q, &r), 0);
	return r;
}

static void test_ats(void **state)
{
	struct env e;
	struct ionest_xlate_res r;
	uint64_t *ste, ev[4], d;

	env_init(&e, NULL, 12, 0);
	env_ste(&e, 1);
	ste = smmu_h_ste(&e.h, 1);
	d = smmu_h_pa(e.data);
	map(&e.pt, 0x200000, d, 0x200000, PT_PROT_READ);
	r = xreq(&e.h, (struct ionest_xlate_req){ .sid = 1,
						  .ats = true,
						  .access = R,
						  .iova = 0x201000 });
	assert_int_equal(r.fault, EVT_F_BAD_ATS_TREQ);
	smmu_h_expect_event(&e.h, EVT_F_BAD_ATS_TREQ, ev);
	assert_int_equal(ev[2], 0x201000);
	ste[1] |= (uint64_t)EATS_TRANS << 28;
	smmu_h_cfgi_ste(&e.h, 1);
	r = xreq(&e.h, (struct ionest_xlate_req){ .sid = 1,
						  .ats = true,
						  .access = R,
						  .iova = 0x201000 });
	assert_int_equal(r.status, IONEST_XLATE_OK);
	assert_int_equal(r.addr, d + 0x1000);
	assert_int_equal(r.size, 0x200000);
	assert_int_equal(r.perm, R);
	/* A translation fault is answered, not recorded. */
	r = xreq(&e.h, (struct ionest_xlate_req){ .sid = 1,
						  .ats = true,
						  .access = W,
						  .iova = 0x201000 });
	assert_int_equal(r.fault, EVT_F_PERMISSION);
	assert_false(r.recorded);
	smmu_h_expect_no_event(&e.h);
	env_fini(&e);
}

static void test_pri(void **state)
{
	struct env e;
	struct ionest_xlate_res r;
	uint64_t pe[2];
	uint32_t prod;

	env_init(&e, &(struct smmu_h_opts){ .priq_log2 = 1 }, 12, 0);
	smmu_h_ste_s1(smmu_h_ste(&e.h, 6), smmu_h_pa(e.cd), 0, 0, 0);
	{
		uint64_t *cds = smmu_h_alloc(&e.h, 8 * 64, 64);

		smmu_h_cd(cds + 3 * 8, &e.pt, NULL, 7);
		smmu_h_ste_s1(smmu_h_ste(&e.h, 6), smmu_h_pa(cds), 0, 3, 0);
	}
	r = xreq(&e.h, (struct ionest_xlate_req){ .sid = 6,
						  .ssid = 3,
						  .ssid_valid = true,
						  .pri = true,
						  .prgi = 0x155,
						  .access = W | P,
						  .iova = 0x12345678 });
	assert_int_equal(r.status, IONEST_XLATE_PAGE_REQUEST);
	smmu_h_expect_no_event(&e.h);
	assert_true(smmu_h_pri(&e.h, pe));
	assert_int_equal(pe[0], 6 | 3ull << 32 | PRI0_PRIV | PRI0_WRITE |
					PRI0_LAST | PRI0_SSV);
	assert_int_equal(pe[1], 0x155 | 0x12345000);
	assert_int_equal(e.h.irqs[IONEST_IRQ_PRIQ], 1);
	/* Fill the 2-entry queue; the third request is lost, answered
	 * Success at once, and the overflow flag toggles. */
	for (unsigned i = 0; i < 3; i++)
		r = xreq(&e.h, (struct ionest_xlate_req){ .sid = 6,
							  .ssid = 3,
							  .ssid_valid = true,
							  .pri = true,
							  .prgi = (uint16_t)i,
							  .access = R,
							  .iova = 0x5000 });
	assert_int_equal(r.status, IONEST_XLATE_PAGE_REQUEST);
	prod = smmu_h_rd32(&e.h, SMMU_PRIQ_PROD);
	assert_true(prod & Q_OVF);
	assert_int_equal(e.h.nresp, 1);
	assert_int_equal(e.h.resp[0].a, 2);
	assert_int_equal(e.h.resp[0].b, 0);
	/* Without PRIQEN the fault is an ordinary event. */
	smmu_h_cr0(&e.h, smmu_h_rd32(&e.h, SMMU_CR0) & ~CR0_PRIQEN);
	r = xreq(&e.h, (struct ionest_xlate_req){ .sid = 6,
						  .ssid = 3,
						  .ssid_valid = true,
						  .pri = true,
						  .access = R,
						  .iova = 0x5000 });
	assert_int_equal(r.status, IONEST_XLATE_FAULT);
	smmu_h_expect_event(&e.h, EVT_F_TRANSLATION, NULL);
	env_fini(&e);
}

static void test_stall(void **state)
{
	struct env e;
	struct ionest_xlate_res r;
	uint64_t ev[4];
	uint16_t stag;

	env_init(&e, NULL, 12, 0);
	env_ste(&e, 1);
	e.cd[0] |= 1ull << 44; /* S */
	e.cd[0] &= ~(1ull << 45); /* R=0: stalls are recorded anyway */
	smmu_h_cfgi_cd(&e.h, 1, 0);
	r = smmu_h_xlate(&e.h, 1, -1, 0x8000, R);
	assert_int_equal(r.status, IONEST_XLATE_STALLED);
	stag = r.stag;
	smmu_h_expect_event(&e.h, EVT_F_TRANSLATION, ev);
	assert_true(ev[1] & EVT1_STALL);
	assert_int_equal(ev[1] & 0xffff, stag);
	/* Wrong tag: nothing happens; right tag: retried. */
	smmu_h_cmd(&e.h, CMD_RESUME | 1 << 12 | 1ull << 32,
		   (uint16_t)(stag + 1));
	assert_int_equal(e.h.nresume, 0);
	smmu_h_cmd(&e.h, CMD_RESUME | 1 << 12 | 1ull << 32, stag);
	assert_int_equal(e.h.nresume, 1);
	assert_int_equal(e.h.resume[0].a, stag);
	assert_true(e.h.resume[0].b);
	/* Only once. */
	smmu_h_cmd(&e.h, CMD_RESUME | 1ull << 32, stag);
	assert_int_equal(e.h.nresume, 1);
	/* STALL_TERM aborts every stall of the stream. */
	r = smmu_h_xlate(&e.h, 1, -1, 0x8000, R);
	assert_int_equal(r.status, IONEST_XLATE_STALLED);
	r = smmu_h_xlate(&e.h, 1, -1, 0x9000, W);
	assert_int_equal(r.status, IONEST_XLATE_STALLED);
	smmu_h_cmd(&e.h, CMD_STALL_TERM | 1ull << 32, 0);
	assert_int_equal(e.h.nresume, 3);
	assert_false(e.h.resume[1].b);
	assert_false(e.h.resume[2].b);
	/* At most STALL_MAX (64) held; then faults terminate. */
	for (unsigned i = 0; i < 64; i++) {
		r = smmu_h_xlate(&e.h, 1, -1, 0x8000, R);
		assert_int_equal(r.status, IONEST_XLATE_STALLED);
	}
	r = smmu_h_xlate(&e.h, 1, -1, 0x8000, R);
	assert_int_equal(r.status, IONEST_XLATE_FAULT);
	env_fini(&e);
}

/* ---- event queue ---- */

static void test_evtq_overflow(void **state)
{
	struct env e;
	struct ionest_xlate_res r;
	uint32_t prod;
	uint64_t ev[4];

	env_init(&e, &(struct smmu_h_opts){ .evtq_log2 = 1 }, 12, 0);
	env_ste(&e, 1);
	for (unsigned i = 0; i < 2; i++) {
		r = smmu_h_xlate(&e.h, 1, -1, 0x1000 * (i + 1), R);
		assert_true(r.recorded);
	}
	prod = smmu_h_rd32(&e.h, SMMU_EVTQ_PROD);
	assert_int_equal(prod, 2); /* index 0, wrap 1 */
	r = smmu_h_xlate(&e.h, 1, -1, 0x3000, R);
	assert_false(r.recorded);
	assert_int_equal(smmu_h_rd32(&e.h, SMMU_EVTQ_PROD), Q_OVF | 2);
	/* A second loss while the overflow is unacknowledged: no toggle. */
	smmu_h_xlate(&e.h, 1, -1, 0x4000, R);
	assert_int_equal(smmu_h_rd32(&e.h, SMMU_EVTQ_PROD), Q_OVF | 2);
	smmu_h_expect_event(&e.h, EVT_F_TRANSLATION, ev);
	assert_int_equal(ev[2], 0x1000);
	smmu_h_expect_event(&e.h, EVT_F_TRANSLATION, ev);
	assert_int_equal(ev[2], 0x2000);
	/* Acknowledge (OVACKFLG = OVFLG) and overflow again. */
	smmu_h_wr32(&e.h, SMMU_EVTQ_CONS,
		    smmu_h_rd32(&e.h, SMMU_EVTQ_CONS) | Q_OVF);
	for (unsigned i = 0; i < 3; i++)
		smmu_h_xlate(&e.h, 1, -1, 0x5000, R);
	assert_int_equal(smmu_h_rd32(&e.h, SMMU_EVTQ_PROD) & Q_OVF, 0);
	env_fini(&e);
}

static void test_evtq_irq_msi_abort(void **state)
{
	struct env e;
	struct ionest_xlate_res r;
	uint32_t *msi;

	env_init(&e, &(struct smmu_h_opts){ .bounded = true }, 12, 0);
	env_ste(&e, 1);
	msi = smmu_h_alloc(&e.h, 4, 4);
	smmu_h_wr64(&e.h, SMMU_EVTQ_IRQ_CFG0, smmu_h_pa(msi));
	smmu_h_wr32(&e.h, SMMU_EVTQ_IRQ_CFG1, 0xe1);
	r = smmu_h_xlate(&e.h, 1, -1, 0x1000, R);
	assert_true(r.recorded);
	assert_int_equal(*msi, 0xe1);
	assert_int_equal(e.h.irqs[IONEST_IRQ_EVENTQ], 1);
	/* EVTQEN=0: nothing recorded. */
	smmu_h_cr0(&e.h, smmu_h_rd32(&e.h, SMMU_CR0) & ~CR0_EVTQEN);
	r = smmu_h_xlate(&e.h, 1, -1, 0x1000, R);
	assert_false(r.recorded);
	/* A queue the bus does not have: EVTQ_ABT_ERR, then discarded. */
	smmu_h_wr64(&e.h, SMMU_EVTQ_BASE, 0x10000 | 4);
	smmu_h_cr0(&e.h, smmu_h_rd32(&e.h, SMMU_CR0) | CR0_EVTQEN);
	r = smmu_h_xlate(&e.h, 1, -1, 0x1000, R);
	assert_false(r.recorded);
	assert_true((smmu_h_rd32(&e.h, SMMU_GERROR) ^
		     smmu_h_rd32(&e.h, SMMU_GERRORN)) &
		    GERROR_EVTQ_ABT);
	assert_int_equal(e.h.irqs[IONEST_IRQ_EVENTQ], 1);
	env_fini(&e);
}

/* ---- invalidation scopes ---- */

/* Make the leaf of @iova non-global (nG=1), as drivers map stage 1. */
static void set_ng(struct pt *pt, uint64_t iova)
{
	struct pt_walk_level rec[PT_MAX_LEVELS];
	struct pt_walk w = { .rec = rec };
	struct pt_walk_level *l;

	assert_int_equal(pt_walk(pt, iova, 0, &w), 0);
	l = &rec[w.nrec - 1];
	((uint64_t *)(uintptr_t)l->table)[l->index] |= 1ull << 11;
}

static uint64_t xaddr(struct smmu_h *h, uint32_t sid, int64_t ssid,
		      uint64_t iova)
{
	struct ionest_xlate_res r = smmu_h_xlate(h, sid, ssid, iova, R);

	assert_int_equal(r.status, IONEST_XLATE_OK);
	return r.addr;
}

static void test_tlbi_scopes(void **state)
{
	struct env e;
	uint64_t *cd2, d;

	env_init(&e, NULL, 12, 0);
	d = smmu_h_pa(e.data);
	cd2 = smmu_h_alloc(&e.h, 64, 64);
	smmu_h_cd(cd2, &e.pt, NULL, 8);
	env_ste(&e, 1); /* VMID 0, ASID 7 */
	smmu_h_ste_s1(smmu_h_ste(&e.h, 2), smmu_h_pa(cd2), 0, 0, 0);
	env_ste(&e, 3);
	smmu_h_ste(&e.h, 3)[2] = 3; /* S2VMID tags stage 1 too */
	map(&e.pt, 0x1000, d, 0x2000, RW | PT_PROT_GLOBAL);
	set_ng(&e.pt, 0x1000); /* 0x2000 stays global */
	for (uint32_t sid = 1; sid <= 3; sid++) {
		assert_int_equal(xaddr(&e.h, sid, -1, 0x1000), d);
		assert_int_equal(xaddr(&e.h, sid, -1, 0x2000), d + 0x1000);
	}
	remap(&e.pt, 0x1000, d + 0x10000, 0x2000, RW | PT_PROT_GLOBAL);
	set_ng(&e.pt, 0x1000);
	for (uint32_t sid = 1; sid <= 3; sid++)
		assert_int_equal(xaddr(&e.h, sid, -1, 0x1000), d);

	/* NH_ASID: that ASID's non-global entries of that VMID. */
	smmu_h_cmd(&e.h, CMD_TLBI_NH_ASID | 8ull << 48, 0);
	smmu_h_sync(&e.h);
	assert_int_equal(xaddr(&e.h, 2, -1, 0x1000), d + 0x10000);
	assert_int_equal(xaddr(&e.h, 2, -1, 0x2000), d + 0x1000);
	assert_int_equal(xaddr(&e.h, 1, -1, 0x1000), d);
	/* NH_VA: plus global entries of the address, in that VMID. */
	smmu_h_tlbi_nh_va(&e.h, 0, 7, 0x2000);
	assert_int_equal(xaddr(&e.h, 1, -1, 0x2000), d + 0x11000);
	assert_int_equal(xaddr(&e.h, 2, -1, 0x2000), d + 0x11000);
	assert_int_equal(xaddr(&e.h, 3, -1, 0x2000), d + 0x1000);
	assert_int_equal(xaddr(&e.h, 1, -1, 0x1000), d);
	/* NH_ALL of VMID 3. */
	smmu_h_cmd(&e.h, CMD_TLBI_NH_ALL | 3ull << 32, 0);
	smmu_h_sync(&e.h);
	assert_int_equal(xaddr(&e.h, 3, -1, 0x1000), d + 0x10000);
	assert_int_equal(xaddr(&e.h, 3, -1, 0x2000), d + 0x11000);
	assert_int_equal(xaddr(&e.h, 1, -1, 0x1000), d);
	/* NH_VAA: every ASID of VMID 0. */
	smmu_h_cmd(&e.h, CMD_TLBI_NH_VAA, 0x1000);
	smmu_h_sync(&e.h);
	assert_int_equal(xaddr(&e.h, 1, -1, 0x1000), d + 0x10000);

	/* CFGI_STE drops that stream's TLB entries with its config. */
	remap(&e.pt, 0x1000, d + 0x20000, 0x1000, RW);
	smmu_h_cfgi_ste(&e.h, 1);
	assert_int_equal(xaddr(&e.h, 1, -1, 0x1000), d + 0x20000);
	assert_int_equal(xaddr(&e.h, 3, -1, 0x1000), d + 0x10000);
	/* TLBI_NSNH_ALL: everything. */
	smmu_h_cmd(&e.h, CMD_TLBI_NSNH_ALL, 0);
	smmu_h_sync(&e.h);
	assert_int_equal(xaddr(&e.h, 2, -1, 0x1000), d + 0x20000);
	assert_int_equal(xaddr(&e.h, 3, -1, 0x1000), d + 0x20000);
	env_fini(&e);
}

static void test_cfgi_scopes(void **state)
{
	struct env e;
	uint64_t *cds, d;
	struct ionest_xlate_res r;

	env_init(&e, NULL, 12, 0);
	d = smmu_h_pa(e.data);
	map(&e.pt, 0x1000, d, 0x1000, RW);
	cds = smmu_h_alloc(&e.h, 4 * 64, 64);
	for (unsigned i = 0; i < 4; i++)
		smmu_h_cd(cds + i * 8, &e.pt, NULL, (uint16_t)(20 + i));
	smmu_h_ste_s1(smmu_h_ste(&e.h, 5), smmu_h_pa(cds), 0, 2, S1DSS_SSID0);
	for (uint32_t sid = 8; sid <= 12; sid++)
		env_ste(&e, sid);
	for (int64_t ssid = 1; ssid < 4; ssid++)
		xaddr(&e.h, 5, ssid, 0x1000);
	xaddr(&e.h, 5, -1, 0x1000);
	for (uint32_t sid = 8; sid <= 12; sid++)
		xaddr(&e.h, sid, -1, 0x1000);
	/* Break every CD and STE; nothing changes before invalidation. */
	for (unsigned i = 0; i < 4; i++)
		cds[i * 8] &= ~(1ull << 31);
	for (uint32_t sid = 8; sid <= 12; sid++)
		smmu_h_ste_abort(smmu_h_ste(&e.h, sid));
	xaddr(&e.h, 5, 1, 0x1000);
	/* CFGI_CD: that SubstreamID only. */
	smmu_h_cfgi_cd(&e.h, 5, 2);
	r = smmu_h_xlate(&e.h, 5, 2, 0x1000, R);
	assert_int_equal(r.fault, EVT_C_BAD_CD);
	xaddr(&e.h, 5, 1, 0x1000);
	xaddr(&e.h, 5, -1, 0x1000);
	/* CFGI_CD of SSID 0 also covers the no-SSID (S1DSS=CD0) case. */
	smmu_h_cfgi_cd(&e.h, 5, 0);
	r = smmu_h_xlate(&e.h, 5, -1, 0x1000, R);
	assert_int_equal(r.fault, EVT_C_BAD_CD);
	xaddr(&e.h, 5, 3, 0x1000);
	/* CFGI_CD_ALL: every CD of the stream. */
	smmu_h_cmd(&e.h, CMD_CFGI_CD_ALL | 5ull << 32, 0);
	smmu_h_sync(&e.h);
	r = smmu_h_xlate(&e.h, 5, 3, 0x1000, R);
	assert_int_equal(r.fault, EVT_C_BAD_CD);
	/* CFGI_STE_RANGE: Range 1 = 4 StreamIDs, aligned: 8..11. */
	smmu_h_cmd(&e.h, CMD_CFGI_STE_RANGE | 9ull << 32, 1);
	smmu_h_sync(&e.h);
	for (uint32_t sid = 8; sid <= 11; sid++) {
		r = smmu_h_xlate(&e.h, sid, -1, 0x1000, R);
		assert_int_equal(r.status, IONEST_XLATE_FAULT);
	}
	xaddr(&e.h, 12, -1, 0x1000);
	/* Range 31: all (CFGI_ALL). */
	smmu_h_cmd(&e.h, CMD_CFGI_STE_RANGE, 31);
	smmu_h_sync(&e.h);
	r = smmu_h_xlate(&e.h, 12, -1, 0x1000, R);
	assert_int_equal(r.status, IONEST_XLATE_FAULT);
	env_fini(&e);
}

static void test_range_tlbi(void **state)
{
	struct env e;
	uint64_t d, base = 0x100000;

	env_init(&e, NULL, 12, 0);
	env_ste(&e, 1);
	d = smmu_h_pa(e.data);
	map(&e.pt, base, d, 16 * 0x1000, RW);
	map(&e.pt, 0x400000, d, 0x200000, RW);
	for (unsigned i = 0; i < 16; i++) {
		set_ng(&e.pt, base + i * 0x1000);
		xaddr(&e.h, 1, -1, base + i * 0x1000);
	}
	xaddr(&e.h, 1, -1, 0x400000);
	remap(&e.pt, base, d + 0x100000, 16 * 0x1000, RW);
	remap(&e.pt, 0x400000, d + 0x200000, 0x200000, RW);
	/* TG=4K, NUM=3, SCALE=1: (3+1) << 1 = 8 pages from page 4. */
	smmu_h_cmd(&e.h, CMD_TLBI_NH_VA | 3 << 12 | 1 << 20 | 7ull << 48,
		   (base + 0x4000) | 1 << 10);
	smmu_h_sync(&e.h);
	for (unsigned i = 0; i < 16; i++) {
		bool fresh = i >= 4 && i < 12;

		assert_int_equal(xaddr(&e.h, 1, -1, base + i * 0x1000),
				 d + (fresh ? 0x100000 : 0) + i * 0x1000);
	}
	/* TG=0: one address, whatever size covers it (a 2M block). */
	smmu_h_tlbi_nh_va(&e.h, 0, 7, base + 0xf000);
	assert_int_equal(xaddr(&e.h, 1, -1, base + 0xe000), d + 0xe000);
	assert_int_equal(xaddr(&e.h, 1, -1, base + 0xf000), d + 0x10f000);
	assert_int_equal(xaddr(&e.h, 1, -1, 0x400000), d);
	smmu_h_tlbi_nh_va(&e.h, 0, 7, 0x5ff000);
	assert_int_equal(xaddr(&e.h, 1, -1, 0x400000), d + 0x200000);
	env_fini(&e);
}

/* STRW=EL2 streams on a HYP part: their own ASID space, EL2 TLBIs. */
static void test_el2_stream(void **state)
{
	struct ionest_smmuv3_config c = { .hyp = IONEST_CFG(1) };
	struct env e;
	uint64_t d;

	env_init(&e, &(struct smmu_h_opts){ .cfg = &c }, 12, 0);
	smmu_h_cr0(&e.h, smmu_h_rd32(&e.h, SMMU_CR0) & ~CR0_SMMUEN);
	smmu_h_wr32(&e.h, SMMU_CR2, CR2_RECINVSID | CR2_E2H);
	assert_int_equal(smmu_h_rd32(&e.h, SMMU_CR2), CR2_RECINVSID | CR2_E2H);
	smmu_h_cr0(&e.h, smmu_h_rd32(&e.h, SMMU_CR0) | CR0_SMMUEN);
	env_ste(&e, 1);
	smmu_h_ste(&e.h, 1)[1] |= (uint64_t)STRW_EL2 << 30;
	d = smmu_h_pa(e.data);
	map(&e.pt, 0x1000, d, 0x1000, RW);
	set_ng(&e.pt, 0x1000);
	assert_int_equal(xaddr(&e.h, 1, -1, 0x1000), d);
	remap(&e.pt, 0x1000, d + 0x1000, 0x1000, RW);
	set_ng(&e.pt, 0x1000);
	/* An EL1 (NH) invalidation of the same ASID does not apply. */
	smmu_h_cmd(&e.h, CMD_TLBI_NH_ASID | 7ull << 48, 0);
	smmu_h_sync(&e.h);
	assert_int_equal(xaddr(&e.h, 1, -1, 0x1000), d);
	smmu_h_cmd(&e.h, CMD_TLBI_EL2_ASID | 7ull << 48, 0);
	smmu_h_sync(&e.h);
	assert_int_equal(xaddr(&e.h, 1, -1, 0x1000), d + 0x1000);
	remap(&e.pt, 0x1000, d, 0x1000, RW);
	set_ng(&e.pt, 0x1000);
	smmu_h_cmd(&e.h, CMD_TLBI_EL2_VA | 7ull << 48, 0x1000);
	smmu_h_sync(&e.h);
	assert_int_equal(xaddr(&e.h, 1, -1, 0x1000), d);
	env_fini(&e);
}

/* The stage-1 walk cache keeps the last-level table of a 2M block: a
 * TLBI with Leaf=1 leaves it, Leaf=0 drops it. */
static void test_walk_cache_leaf_scope(void **state)
{
	struct env e;
	struct pt_walk_level rec[PT_MAX_LEVELS];
	struct pt_walk w = { .rec = rec };
	uint64_t d, *t1, *t2, *parent;
	unsigned pidx;

	env_init(&e, NULL, 12, 0);
	env_ste(&e, 1);
	d = smmu_h_pa(e.data);
	map(&e.pt, 0x200000, d, 0x2000, RW);
	set_ng(&e.pt, 0x201000); /* ASID-tagged, for NH_ASID below */
	assert_int_equal(xaddr(&e.h, 1, -1, 0x200000), d);
	/* A copy of the last-level table mapping 0x201000 elsewhere,
	 * installed by changing the level-2 descriptor. */
	assert_int_equal(pt_walk(&e.pt, 0x201000, 0, &w), 0);
	t1 = (uint64_t *)(uintptr_t)rec[w.nrec - 1].table;
	parent = (uint64_t *)(uintptr_t)rec[w.nrec - 2].table;
	pidx = rec[w.nrec - 2].index;
	t2 = smmu_h_alloc(&e.h, 4096, 4096);
	memcpy(t2, t1, 4096);
	t2[1] = (t2[1] & ~SMMU_MASK(47, 12)) | (d + 0x8000);
	parent[pidx] = (parent[pidx] & ~SMMU_MASK(47, 12)) | smmu_h_pa(t2);
	/* Leaf-only invalidation: the cached table is still used. */
	smmu_h_cmd(&e.h, CMD_TLBI_NH_VA | 7ull << 48, 0x201000 | 1);
	smmu_h_sync(&e.h);
	assert_int_equal(xaddr(&e.h, 1, -1, 0x201000), d + 0x1000);
	smmu_h_cmd(&e.h, CMD_TLBI_NH_VA | 7ull << 48, 0x201000);
	smmu_h_sync(&e.h);
	assert_int_equal(xaddr(&e.h, 1, -1, 0x201000), d + 0x8000);
	/* Back to the first table: NH_ASID and CFGI_CD drop walk entries
	 * too (after a Leaf=1 TLBI that leaves them). */
	parent[pidx] = (parent[pidx] & ~SMMU_MASK(47, 12)) | smmu_h_pa(t1);
	smmu_h_cmd(&e.h, CMD_TLBI_NH_VA | 7ull << 48, 0x201000 | 1);
	smmu_h_sync(&e.h);
	assert_int_equal(xaddr(&e.h, 1, -1, 0x201000), d + 0x8000);
	smmu_h_cmd(&e.h, CMD_TLBI_NH_ASID | 7ull << 48, 0);
	smmu_h_sync(&e.h);
	assert_int_equal(xaddr(&e.h, 1, -1, 0x201000), d + 0x1000);
	parent[pidx] = (parent[pidx] & ~SMMU_MASK(47, 12)) | smmu_h_pa(t2);
	smmu_h_cmd(&e.h, CMD_TLBI_NH_VA | 7ull << 48, 0x201000 | 1);
	smmu_h_sync(&e.h);
	assert_int_equal(xaddr(&e.h, 1, -1, 0x201000), d + 0x1000);
	smmu_h_cfgi_cd(&e.h, 1, 0);
	assert_int_equal(xaddr(&e.h, 1, -1, 0x201000), d + 0x8000);
	parent[pidx] = (parent[pidx] & ~SMMU_MASK(47, 12)) | smmu_h_pa(t1);
	env_fini(&e);
}

static void test_s2_invalidation(void **state)
{
	struct smmu_h h;
	struct pt s2;
	struct pt_cfg c = smmu_h_s2_cfg(12, 40);
	uint8_t *data;
	uint64_t *ste, d;

	smmu_h_init(&h, NULL);
	assert_int_equal(pt_init(&s2, &c, smmu_h_host_mem(&h)), 0);
	data = smmu_h_alloc(&h, 0x10000, 0x1000);
	d = smmu_h_pa(data);
	map(&s2, 0x1000, d, 0x2000, RW);
	ste = smmu_h_ste(&h, 4);
	smmu_h_ste_bypass(ste);
	smmu_h_ste_s2(ste, 5, &s2);
	assert_int_equal(xaddr(&h, 4, -1, 0x1000), d);
	assert_int_equal(xaddr(&h, 4, -1, 0x2000), d + 0x1000);
	remap(&s2, 0x1000, d + 0x8000, 0x2000, RW);
	/* Stage-1 invalidations leave stage-2-only entries alone. */
	smmu_h_cmd(&h, CMD_TLBI_NH_ALL | 5ull << 32, 0);
	smmu_h_sync(&h);
	assert_int_equal(xaddr(&h, 4, -1, 0x1000), d);
	/* S2_IPA of another VMID: nothing. */
	smmu_h_cmd(&h, CMD_TLBI_S2_IPA | 6ull << 32, 0x1000);
	smmu_h_sync(&h);
	assert_int_equal(xaddr(&h, 4, -1, 0x1000), d);
	smmu_h_cmd(&h, CMD_TLBI_S2_IPA | 5ull << 32, 0x1000);
	smmu_h_sync(&h);
	assert_int_equal(xaddr(&h, 4, -1, 0x1000), d + 0x8000);
	assert_int_equal(xaddr(&h, 4, -1, 0x2000), d + 0x1000);
	/* S12_VMALL: everything of the VMID. */
	smmu_h_cmd(&h, CMD_TLBI_S12_VMALL | 5ull << 32, 0);
	smmu_h_sync(&h);
	assert_int_equal(xaddr(&h, 4, -1, 0x2000), d + 0x9000);
	pt_destroy(&s2);
	smmu_h_fini(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_s1_translate),
		cmocka_unit_test(test_xlate_args),
		cmocka_unit_test(test_s1_faults),
		cmocka_unit_test(test_s1_access_flag),
		cmocka_unit_test(test_s1_dirty),
		cmocka_unit_test(test_tlb_stale_until_tlbi),
		cmocka_unit_test(test_ttb1_tbi_epd),
		cmocka_unit_test(test_s1_granules),
		cmocka_unit_test(test_s2_only),
		cmocka_unit_test(test_addr_size_and_s2_af),
		cmocka_unit_test(test_bypass_abort_invalid),
		cmocka_unit_test(test_ssid_linear),
		cmocka_unit_test(test_cd_2level),
		cmocka_unit_test(test_strtab_2level),
		cmocka_unit_test(test_ats),
		cmocka_unit_test(test_pri),
		cmocka_unit_test(test_stall),
		cmocka_unit_test(test_evtq_overflow),
		cmocka_unit_test(test_evtq_irq_msi_abort),
		cmocka_unit_test(test_tlbi_scopes),
		cmocka_unit_test(test_cfgi_scopes),
		cmocka_unit_test(test_range_tlbi),
		cmocka_unit_test(test_el2_stream),
		cmocka_unit_test(test_walk_cache_leaf_scope),
		cmocka_unit_test(test_s2_invalidation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
