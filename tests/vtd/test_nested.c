// SPDX-License-Identifier: MIT
/* VT-d model: nested translation (PGTT=011). First-stage tables at GPAs
 * fetched through the second stage, the output translated by it, mixed leaf
 * sizes, nested fault reasons, A/D/EA updates as GPA writes, the stage-2
 * walk cache. */
#include <string.h>

#include "hw/vtd/vtd.h"
#include "vtd_harness.h"

#define R IONEST_ACCESS_READ
#define W IONEST_ACCESS_WRITE
#define PR PT_PROT_READ
#define PW PT_PROT_WRITE
#define RW (PR | PW)
#define SID 0x0310
#define DID 5
#define SZ_4K 0x1000ull
#define SZ_2M (1ull << 21)
#define SZ_1G (1ull << 30)
#define GUEST (16ull << 20)
/* Data GPAs and the fake host addresses behind them (never touched). */
#define GPA_2M 0x40000000ull /* 1G of GPA in 2M SS leaves */
#define HPA_2M 0x200000000ull
#define GPA_4K 0x80000000ull /* 2M of GPA in 4K SS leaves */
#define HPA_4K 0x300000000ull
#define GPA_1G 0x100000000ull /* 1G of GPA in one 1G SS leaf */
#define HPA_1G 0x400000000ull

struct env {
	struct vtd_h h;
	struct vtd_h_guest g;
	struct pt ss, fs;
	uint64_t *pe;
};

static void map(struct pt *pt, uint64_t iova, uint64_t pa, uint64_t size,
		uint32_t prot, uint64_t leaf)
{
	assert_int_equal(pt_map(pt, iova, pa, size, prot, leaf), 0);
}

static uint64_t ctr(struct vtd_h *h, enum hw_counter c)
{
	return to_vtd(h->hw)->hw.ctr_val[c];
}

static void env_pe(struct env *e, uint64_t q0, uint64_t q2, unsigned aw)
{
	e->pe = vtd_h_attach(&e->h, SID, 0,
			     &(struct vtd_h_pe){ .pgtt = VTD_PGTT_NESTED,
						 .did = DID,
						 .fsptptr = e->fs.root,
						 .ssptptr = e->ss.root,
						 .aw = aw,
						 .q0 = q0,
						 .q2 = q2 });
}

/* Guest window in 4K SS leaves with @win_prot, data regions RW. */
static void env_init(struct env *e, const struct vtd_h_opts *o,
		     uint32_t win_prot, uint32_t ss_flags, uint64_t q0)
{
	vtd_h_init(&e->h, o);
	vtd_h_guest_init(&e->h, &e->g, GUEST);
	vtd_h_pt(&e->h, &e->ss, PT_FMT_VTD_SS, 48, 0, ss_flags);
	vtd_h_guest_map(&e->g, &e->ss, SZ_4K, win_prot);
	map(&e->ss, GPA_2M, HPA_2M, SZ_1G, RW, SZ_2M);
	map(&e->ss, GPA_4K, HPA_4K, SZ_2M, RW, SZ_4K);
	map(&e->ss, GPA_1G, HPA_1G, SZ_1G, RW, SZ_1G);
	vtd_h_guest_pt(&e->g, &e->fs, PT_FMT_X86_64, 48, 0);
	env_pe(e, q0, 0, 2);
}

static void test_nested_translate(void **state)
{
	struct ionest_xlate_res r;
	struct env e;
	uint64_t *leaf, *top;

	env_init(&e, NULL, RW, 0, 0);
	map(&e.fs, 0x1000, GPA_2M + 0x5000, SZ_4K, RW, 0);
	r = vtd_h_expect(&e.h, SID, false, 0, 0x1234, R, HPA_2M + 0x5234);
	assert_int_equal(r.size, SZ_4K);
	assert_int_equal(r.perm & W, 0); /* FS leaf clean */
	/* A/D live in guest memory, written through stage 2. */
	leaf = vtd_h_pte(&e.fs, 0x1000, 0);
	top = vtd_h_pte(&e.fs, 0x1000, 3);
	assert_true(*top & VTD_FS_A);
	assert_false(*leaf & VTD_FS_D);
	r = vtd_h_expect(&e.h, SID, false, 0, 0x1ff0, W, HPA_2M + 0x5ff0);
	assert_int_equal(r.perm & W, W);
	assert_true(*leaf & VTD_FS_D);
	assert_true(ionest_hw_can_nest(e.h.hw));
	vtd_h_fini(&e.h);
}

static void test_nested_mixed_leaves(void **state)
{
	struct ionest_xlate_res r;
	struct env e;

	env_init(&e, NULL, RW, 0, 0);
	/* FS 2M over SS 2M: 2M. */
	map(&e.fs, 0x200000, GPA_2M + SZ_2M, SZ_2M, RW, 0);
	/* FS 2M over SS 4K: 4K. */
	map(&e.fs, 0x400000, GPA_4K, SZ_2M, RW, 0);
	/* FS 4K over SS 1G: 4K. */
	map(&e.fs, 0x600000, GPA_1G + 0x3000, SZ_4K, RW, 0);
	/* FS 1G over SS 2M: 2M. */
	map(&e.fs, SZ_1G, GPA_2M, SZ_1G, RW, 0);
	/* FS 1G over SS 1G: 1G. */
	map(&e.fs, 2 * SZ_1G, GPA_1G, SZ_1G, RW, 0);

	r = vtd_h_expect(&e.h, SID, false, 0, 0x212345, R,
			 HPA_2M + SZ_2M + 0x12345);
	assert_int_equal(r.size, SZ_2M);
	r = vtd_h_expect(&e.h, SID, false, 0, 0x4abcde, R, HPA_4K + 0xabcde);
	assert_int_equal(r.size, SZ_4K);
	/* The neighbouring 4K of that FS 2M page is its own entry. */
	r = vtd_h_expect(&e.h, SID, false, 0, 0x4ab000 + SZ_4K, R,
			 HPA_4K + 0xac000);
	r = vtd_h_expect(&e.h, SID, false, 0, 0x600010, R, HPA_1G + 0x3010);
	assert_int_equal(r.size, SZ_4K);
	r = vtd_h_expect(&e.h, SID, false, 0, SZ_1G + 0x5432100, R,
			 HPA_2M + 0x5432100);
	assert_int_equal(r.size, SZ_2M);
	r = vtd_h_expect(&e.h, SID, false, 0, 2 * SZ_1G + 0x7654321, R,
			 HPA_1G + 0x7654321);
	assert_int_equal(r.size, SZ_1G);
	/* The IOTLB serves them again with the same sizes. */
	r = vtd_h_expect(&e.h, SID, false, 0, SZ_1G + 0x5400000, R,
			 HPA_2M + 0x5400000);
	assert_int_equal(r.size, SZ_2M);
	vtd_h_fini(&e.h);
}

static void test_nested_table_faults(void **state)
{
	struct ionest_xlate_res r;
	struct env e;
	uint64_t *top, save, lo, hi;

	env_init(&e, NULL, RW, 0, 0);
	map(&e.fs, 0x1000, GPA_2M, SZ_4K, RW, 0);

	/* A lower FS table at a GPA stage 2 does not map: 0x76, taken in
	 * stage 2 at that GPA; the record names the IOVA. */
	top = vtd_h_pte(&e.fs, 0x1000, 3);
	save = *top;
	*top = (GUEST + 0x10000) | 7;
	r = vtd_h_expect_fault(&e.h, SID, false, 0, 0x1234, R,
			       VTD_FR_NEST_FS_RD);
	assert_true(r.stage2);
	assert_int_equal(r.fault_addr, GUEST + 0x10000);
	assert_true(r.recorded);
	vtd_h_frcd(&e.h, 0, &lo, &hi);
	assert_int_equal(lo, 0x1000);
	assert_int_equal(VTD_FRCD_HI_FR(hi), VTD_FR_NEST_FS_RD);
	*top = save;
	vtd_h_expect(&e.h, SID, false, 0, 0x1234, R, HPA_2M + 0x234);

	/* FSPTPTR itself unmapped in stage 2: 0x75. */
	e.pe[2] = (e.pe[2] & 0xfff) | (GUEST + 0x20000);
	assert_int_equal(vtd_h_flush_pe(&e.h, DID, 0), 0);
	r = vtd_h_expect_fault(&e.h, SID, false, 0, 0x1234, R,
			       VTD_FR_NEST_FS_ROOT_RD);
	assert_int_equal(r.fault_addr, GUEST + 0x20000);
	vtd_h_fini(&e.h);
}

static void test_nested_output_faults(void **state)
{
	struct ionest_vtd_config cfg = {
		.sagaw = IONEST_CFG(VTD_SAGAW_39 | VTD_SAGAW_48),
	};
	struct ionest_xlate_res r;
	struct env e;

	env_init(&e, &(struct vtd_h_opts){ .cfg = &cfg }, RW, 0, 0);
	map(&e.ss, GPA_4K + SZ_2M, HPA_4K + SZ_2M, SZ_4K, PR, 0);
	map(&e.fs, 0x1000, 0x90000000, SZ_4K, RW, 0); /* GPA not in SS */
	map(&e.fs, 0x2000, GPA_4K + SZ_2M, SZ_4K, RW, 0); /* SS read-only */
	map(&e.fs, 0x3000, 1ull << 40, SZ_4K, RW, 0); /* beyond 39 bits */

	r = vtd_h_expect_fault(&e.h, SID, false, 0, 0x1010, R, VTD_FR_SS_PERM);
	assert_true(r.stage2);
	assert_int_equal(r.fault_addr, 0x90000010);
	/* FS allows the write, SS does not: FS ∩ SS. */
	r = vtd_h_expect(&e.h, SID, false, 0, 0x2000, R, HPA_4K + SZ_2M);
	assert_int_equal(r.perm & W, 0);
	vtd_h_expect_fault(&e.h, SID, false, 0, 0x2000, W, VTD_FR_SS_PERM);
	/* FS non-present is a first-stage fault. */
	r = vtd_h_expect_fault(&e.h, SID, false, 0, 0x7000, R, VTD_FR_FS_NP);
	assert_false(r.stage2);

	/* A 39-bit second stage: FS output GPAs beyond it are 0x74, and so
	 * are FS table pointers. */
	vtd_h_pt(&e.h, &e.ss, PT_FMT_VTD_SS, 39, 0, 0);
	vtd_h_guest_map(&e.g, &e.ss, SZ_4K, RW);
	env_pe(&e, 0, 0, 1);
	assert_int_equal(vtd_h_flush_pe(&e.h, DID, 0), 0);
	assert_int_equal(
		vtd_h_inv(&e.h, vtd_h_d_iotlb(VTD_IOTLB_G_DOMAIN, DID), 0), 0);
	vtd_h_expect_fault(&e.h, SID, false, 0, 0x3000, R, VTD_FR_NEST_FS_ADDR);
	*vtd_h_pte(&e.fs, 0x3000, 3) = (1ull << 40) | 7;
	vtd_h_expect_fault(&e.h, SID, false, 0, 0x3000, R, VTD_FR_NEST_FS_ADDR);
	vtd_h_fini(&e.h);
}

static void test_nested_ad_through_stage2(void **state)
{
	struct ionest_xlate_res r;
	struct env e;
	uint64_t *ssleaf;

	/* FS tables mapped read-only in stage 2: reading them works while
	 * no A/D update is needed; an update needs SS write (0x77). */
	env_init(&e, NULL, PR, 0, 0);
	map(&e.fs, 0x1000, GPA_2M, SZ_4K, RW, 0);
	r = vtd_h_expect_fault(&e.h, SID, false, 0, 0x1000, R,
			       VTD_FR_NEST_FS_WR);
	assert_true(r.stage2);
	vtd_h_fini(&e.h);

	/* SSADE: the FS A/D writes and the data write set SS A/D. */
	env_init(&e, NULL, RW, PT_CFG_AD, VTD_PE_SSADE);
	map(&e.fs, 0x1000, GPA_4K + 0x2000, SZ_4K, RW, 0);
	r = vtd_h_expect(&e.h, SID, false, 0, 0x1000, W, HPA_4K + 0x2000);
	assert_int_equal(r.perm & W, W);
	ssleaf = vtd_h_pte(&e.ss, GPA_4K + 0x2000, 0);
	assert_true(*ssleaf & (1ull << 9)); /* data page dirty */
	/* The FS root table page was written (A): dirty in stage 2. */
	assert_true(*vtd_h_pte(&e.ss, e.fs.root, 0) & (1ull << 9));
	vtd_h_fini(&e.h);

	/* EAFE: EA set on every FS level, through stage 2. */
	env_init(&e, NULL, RW, 0, 0);
	env_pe(&e, 0, VTD_PE_EAFE, 2);
	map(&e.fs, 0x1000, GPA_2M, SZ_4K, RW, 0);
	vtd_h_expect(&e.h, SID, false, 0, 0x1000, R, HPA_2M);
	for (unsigned l = 0; l < 4; l++)
		assert_true(*vtd_h_pte(&e.fs, 0x1000, l) & VTD_FS_EA);
	vtd_h_fini(&e.h);
}

static void test_nested_ss_reserved(void **state)
{
	struct env e;
	uint64_t *ssleaf;

	env_init(&e, NULL, RW, 0, 0);
	map(&e.fs, 0x1000, GPA_2M, SZ_4K, RW, 0);
	/* The SS leaf of the FS root page has a reserved bit: 0x7A. */
	ssleaf = vtd_h_pte(&e.ss, e.fs.root, 0);
	*ssleaf |= 1ull << 50;
	vtd_h_expect_fault(&e.h, SID, false, 0, 0x1000, R, VTD_FR_SS_RSVD);
	vtd_h_fini(&e.h);
}

static void test_nested_walk_cache(void **state)
{
	struct env e;
	uint64_t hit, miss, reads;

	env_init(&e, NULL, RW, 0, 0);
	for (unsigned i = 0; i < 16; i++)
		map(&e.fs, 0x1000 * (i + 1), GPA_2M + 0x1000 * i, SZ_4K, RW, 0);
	vtd_h_expect(&e.h, SID, false, 0, 0x1000, R, HPA_2M);
	hit = ctr(&e.h, hw_s2wc_hit);
	miss = ctr(&e.h, hw_s2wc_miss);
	reads = ctr(&e.h, hw_walk_read);
	/* Same FS tables, other pages: the PDE cache gives the last-level
	 * table (one read), the walk cache the output. */
	for (unsigned i = 1; i < 8; i++)
		vtd_h_expect(&e.h, SID, false, 0, 0x1000 * (i + 1), R,
			     HPA_2M + 0x1000 * i);
	assert_int_equal(ctr(&e.h, hw_s2wc_miss), miss);
	assert_int_equal(ctr(&e.h, hw_s2wc_hit), hit + 7);
	assert_int_equal(ctr(&e.h, hw_walk_read), reads + 7);

	/* Without the PDE cache (dropped with the PASID's IOTLB entries),
	 * full walks: every table GPA and the output from the walk cache. */
	assert_int_equal(
		vtd_h_inv(&e.h, vtd_h_d_piotlb(VTD_PIOTLB_G_PASID, DID, 0), 0),
		0);
	assert_int_equal(hw_tlb_count(&to_vtd(e.h.hw)->psc), 0);
	hit = ctr(&e.h, hw_s2wc_hit);
	vtd_h_expect(&e.h, SID, false, 0, 0x9000, R, HPA_2M + 0x8000);
	assert_int_equal(ctr(&e.h, hw_s2wc_miss), miss);
	assert_int_equal(ctr(&e.h, hw_s2wc_hit), hit + 5);

	/* Domain-selective IOTLB invalidation drops the walk cache. */
	assert_int_equal(
		vtd_h_inv(&e.h, vtd_h_d_iotlb(VTD_IOTLB_G_DOMAIN, DID), 0), 0);
	assert_int_equal(hw_tlb_count(&to_vtd(e.h.hw)->s2wc), 0);
	vtd_h_expect(&e.h, SID, false, 0, 0x1000, R, HPA_2M);
	assert_true(ctr(&e.h, hw_s2wc_miss) > miss);
	vtd_h_fini(&e.h);
}

static void test_nested_stage2_change(void **state)
{
	struct env e;
	uint64_t n = 0;

	/* A host stage-2 change (the parent) is invalidated by DID: the
	 * nested entries of the DID go regardless of address. */
	env_init(&e, NULL, RW, 0, 0);
	map(&e.fs, 0x1000, GPA_4K + 0x1000, SZ_4K, RW, 0);
	vtd_h_expect(&e.h, SID, false, 0, 0x1000, R, HPA_4K + 0x1000);
	assert_int_equal(pt_unmap(&e.ss, GPA_4K + 0x1000, SZ_4K, 0, NULL, &n),
			 0);
	map(&e.ss, GPA_4K + 0x1000, 0x500000000ull, SZ_4K, RW, 0);
	vtd_h_expect(&e.h, SID, false, 0, 0x1000, R, HPA_4K + 0x1000);
	vtd_h_queue(&e.h, vtd_h_d_iotlb(VTD_IOTLB_G_PAGE, DID),
		    vtd_h_d_addr(GPA_4K + 0x1000, 0, false), 0, 0);
	assert_int_equal(vtd_h_sync(&e.h), 0);
	vtd_h_expect(&e.h, SID, false, 0, 0x1000, R, 0x500000000ull);
	vtd_h_fini(&e.h);
}

static void test_nested_unsupported(void **state)
{
	struct ionest_vtd_config cfg = { .nest = IONEST_CFG(0) };
	struct env e;

	env_init(&e, &(struct vtd_h_opts){ .cfg = &cfg }, RW, 0, 0);
	assert_false(ionest_hw_can_nest(e.h.hw));
	map(&e.fs, 0x1000, GPA_2M, SZ_4K, RW, 0);
	vtd_h_expect_fault(&e.h, SID, false, 0, 0x1000, R, VTD_FR_PE_INV);
	vtd_h_fini(&e.h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nested_translate),
		cmocka_unit_test(test_nested_mixed_leaves),
		cmocka_unit_test(test_nested_table_faults),
		cmocka_unit_test(test_nested_output_faults),
		cmocka_unit_test(test_nested_ad_through_stage2),
		cmocka_unit_test(test_nested_ss_reserved),
		cmocka_unit_test(test_nested_walk_cache),
		cmocka_unit_test(test_nested_stage2_change),
		cmocka_unit_test(test_nested_unsupported),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
