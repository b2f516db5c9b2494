// SPDX-License-Identifier: MIT
/* SMMUv3 model: nested (stage 1 over stage 2) translation. The CD, the
 * stage-1 tables and their pointers all live in guest RAM at IPAs. */
#include <string.h>

#include "hw/smmuv3/smmu_regs.h"
#include "smmu_harness.h"

#define R IONEST_ACCESS_READ
#define W IONEST_ACCESS_WRITE
#define RW (PT_PROT_READ | PT_PROT_WRITE)
#define GIPA 0x40000000ull
#define GSIZE (16u << 20)
#define VMID 9
#define ASID 4
#define CLASS(c) ((uint64_t)(c) << EVT1_CLASS_SHIFT)

struct nenv {
	struct smmu_h h;
	struct smmu_h_guest g;
	struct pt s2, s1;
	uint64_t cd_ipa, data_ipa;
	uint64_t *cd, *ste;
};

/* Stage 2 maps the guest window (4K pages if @s2_pages, else the largest
 * leaves); stage 1 is built in the window. */
static void nenv_init(struct nenv *e, unsigned g1, unsigned g2, bool s2_pages,
		      const struct smmu_h_opts *o)
{
	struct pt_cfg c2 = smmu_h_s2_cfg(g2, 48), c1 = smmu_h_s1_cfg(g1, 48);

	smmu_h_init(&e->h, o);
	smmu_h_guest_init(&e->h, &e->g, GIPA, GSIZE);
	assert_int_equal(pt_init(&e->s2, &c2, smmu_h_host_mem(&e->h)), 0);
	assert_int_equal(pt_map(&e->s2, GIPA, smmu_h_pa(e->g.host), GSIZE, RW,
				s2_pages ? 1ull << g2 : 0),
			 0);
	assert_int_equal(pt_init(&e->s1, &c1, smmu_h_guest_mem(&e->g)), 0);
	e->cd_ipa = smmu_h_guest_alloc(&e->g, 64, 64);
	e->cd = smmu_h_gva(&e->g, e->cd_ipa);
	smmu_h_cd(e->cd, &e->s1, NULL, ASID);
	e->data_ipa = smmu_h_guest_alloc(&e->g, 4u << 20, 2u << 20);
	e->ste = smmu_h_ste(&e->h, 1);
	smmu_h_ste_s1(e->ste, e->cd_ipa, 0, 0, 0);
	smmu_h_ste_s2(e->ste, VMID, &e->s2);
	assert_int_equal(STE0_CONFIG(e->ste[0]), STE_CFG_NESTED);
}

static void nenv_fini(struct nenv *e)
{
	pt_destroy(&e->s1);
	pt_destroy(&e->s2);
	smmu_h_fini(&e->h);
}

static uint64_t host_of(struct nenv *e, uint64_t ipa)
{
	return smmu_h_pa(smmu_h_gva(&e->g, ipa));
}

static void s1map(struct nenv *e, uint64_t va, uint64_t ipa, uint64_t size,
		  uint32_t prot)
{
	assert_int_equal(pt_map(&e->s1, va, ipa, size, prot, 0), 0);
}

static void test_nested_granules(void **state)
{
	static const unsigned g[3] = { 12, 14, 16 };

	for (unsigned i = 0; i < 3; i++) {
		for (unsigned j = 0; j < 3; j++) {
			struct nenv e;
			struct ionest_xlate_res r;
			uint64_t p1 = 1ull << g[i], s2leaf, va = 0x7000000000;

			nenv_init(&e, g[i], g[j], false, NULL);
			s1map(&e, va, e.data_ipa, 4 * p1, RW);
			r = smmu_h_xlate(&e.h, 1, -1, va + p1 + 8, W);
			assert_int_equal(r.status, IONEST_XLATE_OK);
			assert_int_equal(r.addr,
					 host_of(&e, e.data_ipa + p1 + 8));
			/* The window is 2M-aligned on both sides: stage 2
			 * uses 2M blocks at 4K, pages otherwise. */
			s2leaf = g[j] == 12 ? 2u << 20 : 1ull << g[j];
			assert_int_equal(r.size, p1 < s2leaf ? p1 : s2leaf);
			assert_int_equal(r.perm, R | W);
			smmu_h_expect_no_event(&e.h);
			nenv_fini(&e);
		}
	}
}

static void test_nested_fault_classes(void **state)
{
	struct nenv e;
	struct ionest_xlate_res r;
	uint64_t ev[4], va = 0x10000;

	nenv_init(&e, 12, 12, false, NULL);
	s1map(&e, va, e.data_ipa, 0x1000, RW);
	s1map(&e, va + 0x1000, 0x7000000, 0x1000, RW); /* IPA not in S2 */
	s1map(&e, va + 0x2000, e.data_ipa, 0x1000, PT_PROT_READ);
	/* Stage-1 fault: S2=0, CLASS=IN. */
	r = smmu_h_xlate(&e.h, 1, -1, 0x900000, R);
	assert_int_equal(r.fault, EVT_F_TRANSLATION);
	assert_false(r.stage2);
	smmu_h_expect_event(&e.h, EVT_F_TRANSLATION, ev);
	assert_int_equal(ev[1], EVT1_RNW | CLASS(EVT_CLASS_IN));
	r = smmu_h_xlate(&e.h, 1, -1, va + 0x2000, W);
	assert_int_equal(r.fault, EVT_F_PERMISSION);
	assert_false(r.stage2);
	smmu_h_expect_event(&e.h, EVT_F_PERMISSION, NULL);
	/* Stage-2 fault on the output IPA: S2=1, CLASS=IN, IPA. */
	r = smmu_h_xlate(&e.h, 1, -1, va + 0x1010, R);
	assert_int_equal(r.fault, EVT_F_TRANSLATION);
	assert_true(r.stage2);
	assert_int_equal(r.fault_addr, 0x7000010);
	smmu_h_expect_event(&e.h, EVT_F_TRANSLATION, ev);
	assert_int_equal(ev[1], EVT1_RNW | EVT1_S2 | CLASS(EVT_CLASS_IN));
	assert_int_equal(ev[2], va + 0x1010);
	assert_int_equal(ev[3], 0x7000000);
	/* Stage-2 fault on the stage-1 table walk: CLASS=TT, table IPA. */
	e.cd[1] = 0x8000000;
	smmu_h_cfgi_cd(&e.h, 1, 0);
	r = smmu_h_xlate(&e.h, 1, -1, va, R);
	assert_int_equal(r.fault, EVT_F_TRANSLATION);
	assert_true(r.stage2);
	smmu_h_expect_event(&e.h, EVT_F_TRANSLATION, ev);
	assert_int_equal(ev[1],
			 EVT1_RNW | EVT1_S2 | CLASS(EVT_CLASS_TT) | EVT1_TTRNW);
	assert_int_equal(ev[3], 0x8000000);
	/* Stage-2 fault fetching the CD: CLASS=CD. */
	e.ste[0] = (e.ste[0] & ~STE0_CTXPTR) | 0x9000000;
	smmu_h_cfgi_ste(&e.h, 1);
	r = smmu_h_xlate(&e.h, 1, -1, va, W);
	assert_int_equal(r.fault, EVT_F_TRANSLATION);
	assert_true(r.stage2);
	smmu_h_expect_event(&e.h, EVT_F_TRANSLATION, ev);
	assert_int_equal(ev[1], EVT1_S2 | CLASS(EVT_CLASS_CD));
	assert_int_equal(ev[3], 0x9000000);
	/* STE.S2R=0: stage-2 faults are no longer recorded. */
	e.ste[2] &= ~(1ull << 58);
	smmu_h_cfgi_ste(&e.h, 1);
	r = smmu_h_xlate(&e.h, 1, -1, va, W);
	assert_true(r.stage2);
	assert_false(r.recorded);
	smmu_h_expect_no_event(&e.h);
	nenv_fini(&e);
}

static void test_nested_cd_2level(void **state)
{
	struct nenv e;
	struct ionest_xlate_res r;
	uint64_t l1_ipa, l2_ipa, *l1, ev[4];

	nenv_init(&e, 12, 16, false, NULL);
	s1map(&e, 0x1000, e.data_ipa, 0x1000, RW);
	l1_ipa = smmu_h_guest_alloc(&e.g, 4096, 4096);
	l2_ipa = smmu_h_guest_alloc(&e.g, 4096, 4096);
	l1 = smmu_h_gva(&e.g, l1_ipa);
	l1[1] = l2_ipa | 1;
	l1[2] = 0xa000000 | 1; /* leaf table IPA outside stage 2 */
	smmu_h_cd((uint64_t *)smmu_h_gva(&e.g, l2_ipa) + 5 * 8, &e.s1, NULL,
		  ASID);
	e.ste[0] = (e.ste[0] & ~(STE0_CTXPTR | 3ull << 4 | 31ull << 59)) |
		   l1_ipa | (uint64_t)S1FMT_4K << 4 | 8ull << 59;
	smmu_h_cfgi_ste(&e.h, 1);
	r = smmu_h_xlate(&e.h, 1, 64 + 5, 0x1000, R);
	assert_int_equal(r.status, IONEST_XLATE_OK);
	assert_int_equal(r.addr, host_of(&e, e.data_ipa));
	r = smmu_h_xlate(&e.h, 1, 128 + 5, 0x1000, R);
	assert_int_equal(r.fault, EVT_F_TRANSLATION);
	assert_true(r.stage2);
	smmu_h_expect_event(&e.h, EVT_F_TRANSLATION, ev);
	assert_int_equal(ev[1] & CLASS(3), CLASS(EVT_CLASS_CD));
	assert_int_equal(ev[3], 0xa000000);
	nenv_fini(&e);
}

static void test_nested_permissions(void **state)
{
	struct nenv e;
	struct ionest_xlate_res r;
	uint64_t ro_ipa;

	nenv_init(&e, 12, 12, true, NULL);
	/* One guest page read-only at stage 2. */
	ro_ipa = e.data_ipa + 0x3000;
	assert_int_equal(pt_unmap(&e.s2, ro_ipa, 0x1000, 0, NULL, NULL), 0);
	assert_int_equal(pt_map(&e.s2, ro_ipa, host_of(&e, ro_ipa), 0x1000,
				PT_PROT_READ, 0),
			 0);
	s1map(&e, 0x1000, ro_ipa, 0x1000, RW);
	s1map(&e, 0x2000, e.data_ipa, 0x1000, PT_PROT_READ);
	r = smmu_h_xlate(&e.h, 1, -1, 0x1000, R);
	assert_int_equal(r.status, IONEST_XLATE_OK);
	assert_int_equal(r.perm, R); /* S1 RW ∩ S2 R */
	r = smmu_h_xlate(&e.h, 1, -1, 0x1000, W);
	assert_int_equal(r.fault, EVT_F_PERMISSION);
	assert_true(r.stage2);
	assert_int_equal(r.fault_addr, ro_ipa);
	smmu_h_expect_event(&e.h, EVT_F_PERMISSION, NULL);
	r = smmu_h_xlate(&e.h, 1, -1, 0x2000, W);
	assert_int_equal(r.fault, EVT_F_PERMISSION);
	assert_false(r.stage2);
	smmu_h_expect_event(&e.h, EVT_F_PERMISSION, NULL);
	nenv_fini(&e);
}

/* The stage-1 leaf table of @va: its IPA. */
static uint64_t s1_leaf_table(struct nenv *e, uint64_t va)
{
	struct pt_walk_level rec[PT_MAX_LEVELS];
	struct pt_walk w = { .rec = rec };

	assert_int_equal(pt_walk(&e->s1, va, 0, &w), 0);
	return rec[w.nrec - 1].table;
}

static void test_nested_invalidation(void **state)
{
	struct nenv e;
	uint64_t va = 0x200000, t_ipa, copy, *cp, d0, d1;
	struct pt_walk_level rec[PT_MAX_LEVELS];
	struct pt_walk w = { .rec = rec };
	unsigned idx;

	nenv_init(&e, 12, 12, true, NULL);
	d0 = e.data_ipa;
	d1 = e.data_ipa + 0x10000;
	s1map(&e, va, d0, 0x1000, RW);
	assert_int_equal(smmu_h_xlate(&e.h, 1, -1, va, R).addr,
			 host_of(&e, d0));

	/* Stage-2 change of the data page: S2_IPA need not drop the
	 * combined entry; S12_VMALL does. */
	assert_int_equal(pt_unmap(&e.s2, d0, 0x1000, 0, NULL, NULL), 0);
	assert_int_equal(pt_map(&e.s2, d0, host_of(&e, d1), 0x1000, RW, 0), 0);
	smmu_h_cmd(&e.h, CMD_TLBI_S2_IPA | (uint64_t)VMID << 32, d0);
	smmu_h_sync(&e.h);
	assert_int_equal(smmu_h_xlate(&e.h, 1, -1, va, R).addr,
			 host_of(&e, d0));
	smmu_h_cmd(&e.h, CMD_TLBI_S12_VMALL | (uint64_t)VMID << 32, 0);
	smmu_h_sync(&e.h);
	assert_int_equal(smmu_h_xlate(&e.h, 1, -1, va, R).addr,
			 host_of(&e, d1));

	/* Stage-1 change: stale until NH_VA. */
	assert_int_equal(pt_unmap(&e.s1, va, 0x1000, 0, NULL, NULL), 0);
	s1map(&e, va, d1 + 0x1000, 0x1000, RW);
	assert_int_equal(smmu_h_xlate(&e.h, 1, -1, va, R).addr,
			 host_of(&e, d1));
	smmu_h_tlbi_nh_va(&e.h, VMID, ASID, va);
	assert_int_equal(smmu_h_xlate(&e.h, 1, -1, va, R).addr,
			 host_of(&e, d1 + 0x1000));

	/* Walk cache: move the stage-1 leaf table's IPA page (stage 2) to
	 * a copy that maps va elsewhere. NH_VA alone re-walks through the
	 * cached stage-2 translation of the table; S2_IPA of the table
	 * drops it. */
	t_ipa = s1_leaf_table(&e, va);
	assert_int_equal(pt_walk(&e.s1, va, 0, &w), 0);
	idx = rec[w.nrec - 1].index;
	copy = smmu_h_guest_alloc(&e.g, 0x1000, 0x1000);
	cp = smmu_h_gva(&e.g, copy);
	memcpy(cp, smmu_h_gva(&e.g, t_ipa & ~0xfffull), 0x1000);
	cp[idx] = (cp[idx] & ~SMMU_MASK(47, 12)) | (d1 + 0x2000);
	assert_int_equal(
		pt_unmap(&e.s2, t_ipa & ~0xfffull, 0x1000, 0, NULL, NULL), 0);
	assert_int_equal(pt_map(&e.s2, t_ipa & ~0xfffull, host_of(&e, copy),
				0x1000, RW, 0),
			 0);
	smmu_h_tlbi_nh_va(&e.h, VMID, ASID, va);
	assert_int_equal(smmu_h_xlate(&e.h, 1, -1, va, R).addr,
			 host_of(&e, d1 + 0x1000));
	smmu_h_cmd(&e.h, CMD_TLBI_S2_IPA | (uint64_t)VMID << 32,
		   t_ipa & ~0xfffull);
	smmu_h_tlbi_nh_va(&e.h, VMID, ASID, va);
	assert_int_equal(smmu_h_xlate(&e.h, 1, -1, va, R).addr,
			 host_of(&e, d1 + 0x2000));
	nenv_fini(&e);
}

static void test_nested_ats(void **state)
{
	struct nenv e;
	struct ionest_xlate_req q = {
		.sid = 1, .ats = true, .access = R, .iova = 0x3008
	};
	struct ionest_xlate_res r;

	nenv_init(&e, 12, 12, false, NULL);
	s1map(&e, 0x3000, e.data_ipa, 0x1000, PT_PROT_READ);
	e.ste[1] |= (uint64_t)EATS_TRANS << 28;
	smmu_h_cfgi_ste(&e.h, 1);
	assert_int_equal(ionest_hw_translate(e.h.hw, &q, &r), 0);
	/* Full translation: IOVA -> PA, permissions of both stages. */
	assert_int_equal(r.status, IONEST_XLATE_OK);
	assert_int_equal(r.addr, host_of(&e, e.data_ipa) + 8);
	assert_int_equal(r.perm, R);
	assert_int_equal(r.size, 0x1000);
	nenv_fini(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nested_granules),
		cmocka_unit_test(test_nested_fault_classes),
		cmocka_unit_test(test_nested_cd_2level),
		cmocka_unit_test(test_nested_permissions),
		cmocka_unit_test(test_nested_invalidation),
		cmocka_unit_test(test_nested_ats),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
