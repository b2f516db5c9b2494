// SPDX-License-Identifier: MIT
/* VT-d model: the paging-structure (PDE) cache. One-read misses
 * from it, what it may keep (IH=1) and must drop, staleness of upper-level
 * changes until invalidated, privilege tags, and every case it must leave
 * to the full walk (faults, A/D/EA updates). */
#include <string.h>

#include "hw/vtd/vtd.h"
#include "vtd_harness.h"

#define R IONEST_ACCESS_READ
#define W IONEST_ACCESS_WRITE
#define P IONEST_ACCESS_PRIV
#define PR PT_PROT_READ
#define RW (PT_PROT_READ | PT_PROT_WRITE)
#define SID 0x0d00
#define DID 6
#define OLD 0x40000000ull
#define NEW 0x50000000ull

struct env {
	struct vtd_h h;
	struct pt fs;
	struct vtd *v;
};

static void env_init(struct env *e, uint64_t q2)
{
	vtd_h_init(&e->h, NULL);
	e->v = to_vtd(e->h.hw);
	vtd_h_pt(&e->h, &e->fs, PT_FMT_X86_64, 48, 0, 0);
	vtd_h_attach(&e->h, SID, 1,
		     &(struct vtd_h_pe){ .pgtt = VTD_PGTT_FS,
					 .did = DID,
					 .fsptptr = e->fs.root,
					 .q2 = q2 });
	for (unsigned i = 0; i < 16; i++)
		assert_int_equal(pt_map(&e->fs, 0x1000ull * i,
					OLD + 0x1000ull * i, 0x1000, RW, 0),
				 0);
}

static uint64_t reads(struct env *e)
{
	return e->v->hw.ctr_val[hw_walk_read];
}

static void at(struct env *e, uint64_t iova, uint32_t access, uint64_t pa)
{
	vtd_h_expect(&e->h, SID, true, 1, iova, access, pa);
}

static void test_one_read_miss(void **state)
{
	struct env e;
	uint64_t n;

	env_init(&e, 0);
	at(&e, 0x1000, R, OLD + 0x1000); /* sets A in the tables */
	ionest_hw_flush_caches(e.h.hw);
	n = reads(&e);
	at(&e, 0x1000, R, OLD + 0x1000);
	assert_int_equal(reads(&e), n + 4); /* full 4-level walk */
	assert_int_equal(hw_tlb_count(&e.v->psc), 1);
	for (unsigned i = 2; i < 16; i++)
		at(&e, 0x1000ull * i, R, OLD + 0x1000ull * i);
	assert_int_equal(reads(&e), n + 4 + 14);
	/* 2M away: another PDE, another full walk (which sets A in its
	 * new last-level table entry: one more access). */
	assert_int_equal(pt_map(&e.fs, 0x200000, OLD, 0x1000, RW, 0), 0);
	at(&e, 0x200000, R, OLD);
	assert_int_equal(reads(&e), n + 4 + 14 + 4 + 1);
	assert_int_equal(hw_tlb_count(&e.v->psc), 2);
	vtd_h_fini(&e.h);
}

static void test_leaf_change(void **state)
{
	struct env e;
	uint64_t n, cnt = 0;

	env_init(&e, 0);
	at(&e, 0x1000, R, OLD + 0x1000);
	at(&e, 0x2000, R, OLD + 0x2000);
	assert_int_equal(pt_unmap(&e.fs, 0x2000, 0x1000, 0, NULL, &cnt), 0);
	assert_int_equal(pt_map(&e.fs, 0x2000, NEW, 0x1000, RW, 0), 0);
	at(&e, 0x2000, R, OLD + 0x2000); /* IOTLB: stale */
	/* Leaf-only change: IH=1 keeps the PDE cache, the leaf is read
	 * anew. */
	vtd_h_queue(&e.h, vtd_h_d_piotlb(VTD_PIOTLB_G_PAGE, DID, 1),
		    vtd_h_d_addr(0x2000, 0, true), 0, 0);
	assert_int_equal(vtd_h_sync(&e.h), 0);
	assert_int_equal(hw_tlb_count(&e.v->psc), 1);
	n = reads(&e);
	at(&e, 0x2000, R, NEW);
	assert_int_equal(reads(&e), n + 1);
	vtd_h_fini(&e.h);
}

static void test_upper_change(void **state)
{
	struct env e;
	struct pt other;
	uint64_t *pde;

	env_init(&e, 0);
	at(&e, 0x1000, R, OLD + 0x1000);
	/* Point the PDE at another last-level table (built in a second
	 * tree) without invalidating: the cached PDE keeps the old one. */
	vtd_h_pt(&e.h, &other, PT_FMT_X86_64, 48, 0, 0);
	assert_int_equal(pt_map(&other, 0x4000, NEW, 0x1000, RW, 0), 0);
	pde = vtd_h_pte(&e.fs, 0x1000, 1);
	*pde = *vtd_h_pte(&other, 0x4000, 1);
	at(&e, 0x4000, R, OLD + 0x4000);
	/* IH=1 says only leaves changed: still the old table. */
	vtd_h_queue(&e.h, vtd_h_d_piotlb(VTD_PIOTLB_G_PAGE, DID, 1),
		    vtd_h_d_addr(0x4000, 0, true), 0, 0);
	assert_int_equal(vtd_h_sync(&e.h), 0);
	at(&e, 0x4000, R, OLD + 0x4000);
	/* IH=0: the PDE cache goes too. */
	vtd_h_queue(&e.h, vtd_h_d_piotlb(VTD_PIOTLB_G_PAGE, DID, 1),
		    vtd_h_d_addr(0x4000, 0, false), 0, 0);
	assert_int_equal(vtd_h_sync(&e.h), 0);
	at(&e, 0x4000, R, NEW);
	vtd_h_expect_fault(&e.h, SID, true, 1, 0x5000, R, VTD_FR_FS_NP);
	vtd_h_fini(&e.h);
}

static void test_scopes(void **state)
{
	struct env e;

	env_init(&e, 0);
	at(&e, 0x1000, R, OLD + 0x1000);
	assert_int_equal(hw_tlb_count(&e.v->psc), 1);
	/* Another PASID or DID: kept. */
	assert_int_equal(
		vtd_h_inv(&e.h, vtd_h_d_piotlb(VTD_PIOTLB_G_PASID, DID, 2), 0),
		0);
	assert_int_equal(
		vtd_h_inv(&e.h, vtd_h_d_iotlb(VTD_IOTLB_G_DOMAIN, DID + 1), 0),
		0);
	assert_int_equal(hw_tlb_count(&e.v->psc), 1);
	/* Page-selective IOTLB by DID: every FS entry of the DID. */
	vtd_h_queue(&e.h, vtd_h_d_iotlb(VTD_IOTLB_G_PAGE, DID),
		    vtd_h_d_addr(0x40000000, 0, true), 0, 0);
	assert_int_equal(vtd_h_sync(&e.h), 0);
	assert_int_equal(hw_tlb_count(&e.v->psc), 0);
	/* Device-selective context-cache invalidation: the stream's. */
	at(&e, 0x1000, R, OLD + 0x1000);
	assert_int_equal(
		vtd_h_inv(&e.h, vtd_h_d_cc(VTD_CC_G_DEVICE, 0, SID, 0), 0), 0);
	assert_int_equal(hw_tlb_count(&e.v->psc), 0);
	/* PASID-cache, PASID-selective. */
	at(&e, 0x1000, R, OLD + 0x1000);
	assert_int_equal(vtd_h_inv(&e.h, vtd_h_d_pc(VTD_PC_G_PASID, DID, 1), 0),
			 0);
	assert_int_equal(hw_tlb_count(&e.v->psc), 0);
	/* Global IOTLB; and the full flush. */
	at(&e, 0x1000, R, OLD + 0x1000);
	assert_int_equal(
		vtd_h_inv(&e.h, vtd_h_d_iotlb(VTD_IOTLB_G_GLOBAL, 0), 0), 0);
	assert_int_equal(hw_tlb_count(&e.v->psc), 0);
	at(&e, 0x1000, R, OLD + 0x1000);
	ionest_hw_flush_caches(e.h.hw);
	assert_int_equal(hw_tlb_count(&e.v->psc), 0);
	vtd_h_fini(&e.h);
}

static void test_left_to_the_walk(void **state)
{
	struct env e;
	uint64_t n, lo, hi;
	uint64_t *leaf;

	env_init(&e, VTD_PE_SRE);
	at(&e, 0x1000, R, OLD + 0x1000);
	/* Not present: the fault is the walk's, recorded. */
	*vtd_h_pte(&e.fs, 0x3000, 0) = 0;
	vtd_h_expect_fault(&e.h, SID, true, 1, 0x3000, R, VTD_FR_FS_NP);
	vtd_h_frcd(&e.h, 0, &lo, &hi);
	assert_int_equal(lo, 0x3000);
	/* A clear: the walk sets it. */
	leaf = vtd_h_pte(&e.fs, 0x4000, 0);
	*leaf &= ~VTD_FS_A;
	n = reads(&e);
	at(&e, 0x4000, R, OLD + 0x4000);
	assert_true(reads(&e) >= n + 1 + 4); /* PDE-cache try, then walk */
	assert_true(*leaf & VTD_FS_A);
	/* A write to a clean page: the walk sets D. */
	leaf = vtd_h_pte(&e.fs, 0x5000, 0);
	n = reads(&e);
	at(&e, 0x5000, W, OLD + 0x5000);
	assert_true(reads(&e) > n + 1);
	assert_true(*leaf & VTD_FS_D);
	/* ... a dirty one is served from the PDE cache. */
	*vtd_h_pte(&e.fs, 0x6000, 0) |= VTD_FS_D;
	n = reads(&e);
	at(&e, 0x6000, W, OLD + 0x6000);
	assert_int_equal(reads(&e), n + 1);
	/* A supervisor request does not use the user-filled entry. */
	n = reads(&e);
	at(&e, 0x7000, R | P, OLD + 0x7000);
	assert_int_equal(reads(&e), n + 4);
	/* Reserved bits in the leaf: the walk reports them. */
	*vtd_h_pte(&e.fs, 0x8000, 0) |= 1ull << 50;
	vtd_h_expect_fault(&e.h, SID, true, 1, 0x8000, R, VTD_FR_FS_RSVD);
	/* U/S=0 leaf for a user request: 0x81 from the walk. */
	*vtd_h_pte(&e.fs, 0x9000, 0) &= ~(1ull << 2);
	vtd_h_expect_fault(&e.h, SID, true, 1, 0x9000, R, VTD_FR_FS_US);
	vtd_h_fini(&e.h);
}

static void test_supervisor_write_protect(void **state)
{
	struct env e;
	uint64_t n;

	/* WPE=0: a supervisor write ignores R/W at every level, from the
	 * PDE cache too (once the leaf is dirty). */
	env_init(&e, VTD_PE_SRE);
	assert_int_equal(pt_map(&e.fs, 0x10000, OLD, 0x1000, PR, 0), 0);
	at(&e, 0x1000, R | P, OLD + 0x1000);
	*vtd_h_pte(&e.fs, 0x10000, 0) |= VTD_FS_D;
	n = reads(&e);
	at(&e, 0x10000, W | P, OLD);
	assert_int_equal(reads(&e), n + 1);
	vtd_h_fini(&e.h);

	/* WPE=1: R/W counts; the PDE cache does not grant it. */
	env_init(&e, VTD_PE_SRE | VTD_PE_WPE);
	assert_int_equal(pt_map(&e.fs, 0x10000, OLD, 0x1000, PR, 0), 0);
	at(&e, 0x1000, R | P, OLD + 0x1000);
	*vtd_h_pte(&e.fs, 0x10000, 0) |= VTD_FS_D;
	vtd_h_expect_fault(&e.h, SID, true, 1, 0x10000, W | P, VTD_FR_WRITE);
	vtd_h_fini(&e.h);
}

static void test_not_under_eafe(void **state)
{
	struct env e;

	env_init(&e, VTD_PE_EAFE);
	at(&e, 0x1000, R, OLD + 0x1000);
	assert_int_equal(hw_tlb_count(&e.v->psc), 0);
	at(&e, 0x2000, R, OLD + 0x2000);
	assert_true(*vtd_h_pte(&e.fs, 0x2000, 0) & VTD_FS_EA);
	vtd_h_fini(&e.h);
}

static void test_second_stage(void **state)
{
	struct vtd_h h;
	struct pt ss;
	struct vtd *v;
	uint64_t n, *leaf;

	vtd_h_init(&h, NULL);
	v = to_vtd(h.hw);
	vtd_h_pt(&h, &ss, PT_FMT_VTD_SS, 48, 0, PT_CFG_AD);
	vtd_h_attach(&h, SID, 0,
		     &(struct vtd_h_pe){ .pgtt = VTD_PGTT_SS,
					 .did = DID,
					 .ssptptr = ss.root,
					 .q0 = VTD_PE_SSADE });
	for (unsigned i = 0; i < 8; i++)
		assert_int_equal(pt_map(&ss, 0x1000ull * i, OLD + 0x1000ull * i,
					0x1000, i == 5 ? PR : RW, 0),
				 0);
	vtd_h_expect(&h, SID, false, 0, 0x1000, R, OLD + 0x1000);
	assert_int_equal(hw_tlb_count(&v->psc), 1);
	/* One read per miss; A set by the walk beforehand is required. */
	*vtd_h_pte(&ss, 0x2000, 0) |= 1ull << 8;
	n = v->hw.ctr_val[hw_walk_read];
	vtd_h_expect(&h, SID, false, 0, 0x2000, R, OLD + 0x2000);
	assert_int_equal(v->hw.ctr_val[hw_walk_read], n + 1);
	/* Writes need D: the walk sets it. */
	leaf = vtd_h_pte(&ss, 0x3000, 0);
	vtd_h_expect(&h, SID, false, 0, 0x3000, W, OLD + 0x3000);
	assert_true(*leaf & (1ull << 9));
	/* Read-only and absent entries: the walk's 0x79. */
	vtd_h_expect_fault(&h, SID, false, 0, 0x5000, W, VTD_FR_SS_PERM);
	vtd_h_expect_fault(&h, SID, false, 0, 0x9000, R, VTD_FR_SS_PERM);
	/* P_IOTLB never touches second-stage-only entries; a
	 * page-selective IOTLB invalidation in range does. */
	assert_int_equal(
		vtd_h_inv(&h, vtd_h_d_piotlb(VTD_PIOTLB_G_PASID, DID, 0), 0),
		0);
	assert_int_equal(hw_tlb_count(&v->psc), 1);
	vtd_h_queue(&h, vtd_h_d_iotlb(VTD_IOTLB_G_PAGE, DID),
		    vtd_h_d_addr(0x200000, 0, false), 0, 0);
	assert_int_equal(vtd_h_sync(&h), 0);
	assert_int_equal(hw_tlb_count(&v->psc), 1);
	vtd_h_queue(&h, vtd_h_d_iotlb(VTD_IOTLB_G_PAGE, DID),
		    vtd_h_d_addr(0x7000, 0, false), 0, 0);
	assert_int_equal(vtd_h_sync(&h), 0);
	assert_int_equal(hw_tlb_count(&v->psc), 0);
	vtd_h_fini(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_read_miss),
		cmocka_unit_test(test_leaf_change),
		cmocka_unit_test(test_upper_change),
		cmocka_unit_test(test_scopes),
		cmocka_unit_test(test_left_to_the_walk),
		cmocka_unit_test(test_supervisor_write_protect),
		cmocka_unit_test(test_not_under_eafe),
		cmocka_unit_test(test_second_stage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
