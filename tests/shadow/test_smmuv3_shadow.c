// SPDX-License-Identifier: MIT
/*
 * Software nesting on SMMUv3, held against hardware nesting
 * (smmuv3_pair.h): guest CD tables with two SubstreamIDs and S1DSS,
 * stage-1 maps and unmaps with 4K and 2M leaves, read-only, writable and
 * privileged pages, TLBI_NH_*, CFGI_CD after CD changes, parent unmaps and
 * remaps of data and table pages under live nested mappings, page
 * requests; and the random differential run (with stalls and CD tables
 * unmapped and remapped, also on a part with forced stalls). After every
 * correct invalidation every DMA must give the same bytes, error and last
 * fault, and every record must be identical.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shadow/smmuv3_pair.h"

/* ---- directed cases ---- */

/* The shadow side's STE is stage-1 only over host CDs with ASIDs of the
 * driver's; the hardware side's is nested over the guest's CD table. */
static void test_mode_ste_cd(void **state)
{
	struct pair p;
	struct smmu_master *m0, *m1;
	const uint64_t *cd;

	(void)state;
	pair_setup(&p, NULL);
	assert_int_equal(ionest_machine_nesting(p.s[1].x.f.m, "smmu0"),
			 IONEST_NESTING_SHADOW);
	m0 = sx_master(&p.s[0].x, 0);
	m1 = sx_master(&p.s[1].x, 0);
	assert_int_equal(STE0_CONFIG(m0->ste[0]), STE_CFG_NESTED);
	assert_int_equal(STE0_CONFIG(m1->ste[0]), STE_CFG_S1);
	/* The guest's S1CDMax and S1DSS, the host's table. */
	assert_int_equal(STE0_S1CDMAX(m1->ste[0]), 3);
	assert_int_equal(STE1_S1DSS(m1->ste[1]), S1DSS_SSID0);
	assert_int_equal(m0->ste[0] & STE0_CTXPTR, p.s[0].cdt[0].gpa);
	assert_int_not_equal(m1->ste[0] & STE0_CTXPTR, p.s[1].cdt[0].gpa);
	assert_int_equal(m1->cdt.cdmax, 3);
	/* Host CD 5: valid, not the guest's TTB0 nor its ASID, R=0. */
	cd = m1->cdt.linear + PASID * 8;
	assert_true(CD0_V(cd[0]));
	assert_false(CD0_R(cd[0]));
	assert_int_not_equal(cd[1] & CD_TTB, p.s[1].s1[1].root);
	assert_int_not_equal(CD0_ASID(cd[0]), gasid[1]);
	assert_false(CD0_V(m1->cdt.linear[1 * 8]));
	/* Mode is fixed while nested HWPTs exist. */
	assert_int_equal(ionest_machine_set_nesting(p.s[1].x.f.m, "smmu0",
						    IONEST_NESTING_HW),
			 -EBUSY);
	pair_teardown(&p);
}

/* Map, invalidate, DMA by RID and SubstreamID; unmap, invalidate, fault
 * (the same vEVENTQ records). */
static void test_map_dma_unmap(void **state)
{
	struct pair p;
	uint64_t before;

	(void)state;
	pair_setup(&p, NULL);
	pair_s1_map(&p, 0, IOVA, data_gpa(1), PAGE,
		    PT_PROT_READ | PT_PROT_WRITE);
	pair_s1_map(&p, 1, IOVA + PAGE, data_gpa(2), PAGE,
		    PT_PROT_READ | PT_PROT_WRITE);
	before = sx_ctr(&p.s[1].x, drv_shadow_sync);
	pair_tlbi_va(&p, 0, IOVA, PAGE);
	pair_tlbi_va(&p, 1, IOVA + PAGE, PAGE);
	/* One shadow of ASID 1, two of ASID 2 (device 1 shares it). */
	assert_int_equal(sx_ctr(&p.s[1].x, drv_shadow_sync), before + 3);
	pair_rw(&p, 0, IONEST_NO_PASID, IOVA);
	pair_rw(&p, 0, PASID, IOVA + PAGE);
	pair_rw(&p, 1, IONEST_NO_PASID, IOVA + PAGE);
	assert_int_equal(p.s[1].mem[data_gpa(1) - GPA], 0x5a);
	/* Not mapped in that space: a stage-1 translation fault, the
	 * guest's. */
	pair_rw(&p, 0, IONEST_NO_PASID, IOVA + PAGE);
	assert_int_equal(last_fault(&p.s[1], 0).code, EVT_F_TRANSLATION);
	assert_true(last_fault(&p.s[1], 0).recorded);
	pair_s1_unmap(&p, 0, IOVA, PAGE);
	pair_tlbi_va(&p, 0, IOVA, PAGE);
	pair_rw(&p, 0, IONEST_NO_PASID, IOVA);
	assert_int_equal(last_fault(&p.s[1], 0).code, EVT_F_TRANSLATION);
	assert_true(sx_ctr(&p.s[1].x, drv_shadow_fault) > 0);
	/* A SubstreamID without a CD: C_BAD_CD from the model, both. */
	(void)pair_dma(&p, 0, 3, IOVA, 4, IONEST_DMA_FROM_MEM, 0);
	assert_int_equal(last_fault(&p.s[1], 0).code, EVT_C_BAD_CD);
	pair_teardown(&p);
}

/* Read-only and privileged pages; a mapping added without invalidation
 * is used at once (filled by the fault path). */
static void test_perms_and_fill(void **state)
{
	struct pair p;

	(void)state;
	pair_setup(&p, NULL);
	pair_s1_map(&p, 0, IOVA, data_gpa(3), PAGE, PT_PROT_READ);
	pair_s1_map(&p, 0, IOVA + PAGE, data_gpa(4), PAGE,
		    PT_PROT_READ | PT_PROT_WRITE | PT_PROT_PRIV);
	pair_tlbi_asid(&p, 0);
	pair_rw(&p, 0, IONEST_NO_PASID, IOVA);
	assert_int_equal(last_fault(&p.s[1], 0).code, EVT_F_PERMISSION);
	pair_rw(&p, 0, IONEST_NO_PASID, IOVA + PAGE);
	assert_int_equal(last_fault(&p.s[1], 0).code, EVT_F_PERMISSION);
	pair_s1_map(&p, 0, IOVA + 5 * PAGE, data_gpa(5), PAGE,
		    PT_PROT_READ | PT_PROT_WRITE);
	pair_rw(&p, 0, IONEST_NO_PASID, IOVA + 5 * PAGE);
	assert_true(sx_ctr(&p.s[1].x, drv_shadow_fill) > 0);
	/* A 2M leaf over a parent 2M area. */
	pair_s1_map(&p, 1, IOVA + SZ_2M, DATA + SZ_2M, SZ_2M,
		    PT_PROT_READ | PT_PROT_WRITE);
	pair_tlbi_va(&p, 1, IOVA + SZ_2M, SZ_2M);
	pair_rw(&p, 1, IONEST_NO_PASID, IOVA + SZ_2M + 0x12345);
	pair_rw(&p, 0, PASID, IOVA + SZ_2M + 0x1f0000);
	pair_teardown(&p);
}

/* Parent unmaps under live nested mappings: a data page (stage-2 fault,
 * the host's event), the guest's leaf table (a stage-2 fault on the
 * table walk), then remapped. */
static void test_parent_unmap(void **state)
{
	struct pair p;
	struct pt_walk_level rec[PT_MAX_LEVELS];
	struct pt_walk w = { .rec = rec };
	unsigned dchunk = (unsigned)((data_gpa(16) - GPA) / CHUNK), tchunk;

	(void)state;
	pair_setup(&p, NULL);
	pair_s1_map(&p, 0, IOVA, data_gpa(16), PAGE,
		    PT_PROT_READ | PT_PROT_WRITE);
	pair_tlbi_va(&p, 0, IOVA, PAGE);
	pair_rw(&p, 0, IONEST_NO_PASID, IOVA);
	for (int k = 0; k < 2; k++)
		assert_int_equal(side_unmap_chunk(&p.s[k], dchunk), 0);
	pair_rw(&p, 0, IONEST_NO_PASID, IOVA);
	assert_int_equal(last_fault(&p.s[1], 0).code, EVT_F_TRANSLATION);
	assert_true(last_fault(&p.s[1], 0).stage2);
	assert_int_equal(last_fault(&p.s[1], 0).fault_addr, data_gpa(16));
	assert_true(sx_ctr(&p.s[1].x, drv_shadow_drop) > 0);
	for (int k = 0; k < 2; k++)
		side_map_chunk(&p.s[k], dchunk);
	pair_rw(&p, 0, IONEST_NO_PASID, IOVA);
	assert_int_equal(pt_walk(&p.s[1].s1[0], IOVA, 0, &w), 0);
	tchunk = (unsigned)((rec[w.nrec - 1].table - GPA) / CHUNK);
	assert_int_not_equal(tchunk, 0);
	for (int k = 0; k < 2; k++)
		assert_int_equal(side_unmap_chunk(&p.s[k], tchunk), 0);
	pair_rw(&p, 0, IONEST_NO_PASID, IOVA);
	assert_true(last_fault(&p.s[1], 0).stage2);
	for (int k = 0; k < 2; k++)
		side_map_chunk(&p.s[k], tchunk);
	pair_rw(&p, 0, IONEST_NO_PASID, IOVA);
	pair_teardown(&p);
}

/* A guest CD changed, then CFGI_CD: the new tree; an illegal CD is
 * C_BAD_CD in both modes (the guest's event). */
static void test_cfgi_cd_and_bad_cd(void **state)
{
	struct pair p;
	uint64_t *cd;

	(void)state;
	pair_setup(&p, NULL);
	pair_s1_map(&p, 0, IOVA, data_gpa(36), PAGE,
		    PT_PROT_READ | PT_PROT_WRITE);
	pair_s1_map(&p, 1, IOVA, data_gpa(37), PAGE, PT_PROT_READ);
	pair_tlbi_asid(&p, 0);
	pair_tlbi_asid(&p, 1);
	pair_rw(&p, 0, PASID, IOVA);
	/* CD 5 moves to space 0. */
	for (int k = 0; k < 2; k++)
		assert_int_equal(vm_cd_write(&p.s[k].cdt[0], PASID,
					     &p.s[k].s1[0], 0x73),
				 0);
	pair_cmd(&p, CMD_CFGI_CD | VSID0 << 32 | (uint64_t)PASID << 12, 0);
	pair_cmd(&p, CMD_TLBI_NH_ALL, 0);
	pair_rw(&p, 0, PASID, IOVA);
	assert_int_equal(p.s[1].mem[data_gpa(36) - GPA], 0x5a);
	/* An illegal CD (T0SZ 10). */
	for (int k = 0; k < 2; k++) {
		cd = vm_ptr(&p.s[k].vm, vm_cd_gpa(&p.s[k].cdt[0], PASID), 64);
		cd[0] = (cd[0] & ~0x3full) | 10;
	}
	pair_cmd(&p, CMD_CFGI_CD_ALL | VSID0 << 32, 0);
	pair_rw(&p, 0, PASID, IOVA);
	assert_int_equal(last_fault(&p.s[1], 0).code, EVT_C_BAD_CD);
	pair_rw(&p, 0, IONEST_NO_PASID, IOVA);
	pair_teardown(&p);
}

/* Two VMs (vIOMMUs) with the same guest ASID get different host ASIDs:
 * one's invalidation never reaches the other's translations. */
static void test_asid_isolation(void **state)
{
	struct side a;
	struct smmu_master *m0, *m1;
	uint32_t par2, vi2, vd2, n2;
	struct iommu_hwpt_arm_smmuv3 d;
	uint8_t b = 0;

	(void)state;
	side_setup(&a, IONEST_NESTING_SHADOW, NULL, false);
	a.nested[0] = nested_alloc(&a, 0, 0);
	assert_int_equal(fx_attach(&a.x.f, 0, &a.nested[0]), 0);
	/* A second VM on the same RAM (its own parent and vIOMMU), device
	 * 1 with a CD of the same guest ASID as device 0's CD 0. */
	assert_int_equal(fx_destroy(a.x.f.fd, a.vdev[1]), 0);
	assert_int_equal(fx_hwpt_alloc(a.x.f.fd, a.x.f.devid[1], a.ioas,
				       IOMMU_HWPT_ALLOC_NEST_PARENT, &par2),
			 0);
	assert_int_equal(nest_viommu_alloc(a.x.f.fd, a.x.f.devid[1], par2,
					   IOMMU_VIOMMU_TYPE_ARM_SMMUV3, &vi2),
			 0);
	assert_int_equal(nest_vdevice_alloc(a.x.f.fd, vi2, a.x.f.devid[1],
					    VSID0, &vd2),
			 0);
	assert_int_equal(vm_cd_write(&a.cdt[1], 0, &a.s1[1], gasid[0]), 0);
	vm_cdtab_ste(&a.cdt[1], VM_S1DSS_TERMINATE, d.ste);
	assert_int_equal(nest_hwpt_alloc(a.x.f.fd, a.x.f.devid[1], vi2, 0,
					 IOMMU_HWPT_DATA_ARM_SMMUV3, &d,
					 sizeof(d), 0, &n2),
			 0);
	assert_int_equal(fx_attach(&a.x.f, 1, &n2), 0);
	m0 = sx_master(&a.x, 0);
	m1 = sx_master(&a.x, 1);
	assert_int_not_equal(CD0_ASID(m0->cdt.linear[0]),
			     CD0_ASID(m1->cdt.linear[0]));
	/* Both VMs map IOVA, to different pages. */
	assert_int_equal(pt_map(&a.s1[0], IOVA, data_gpa(30), PAGE,
				PT_PROT_READ | PT_PROT_WRITE, PAGE),
			 0);
	assert_int_equal(pt_map(&a.s1[1], IOVA, data_gpa(31), PAGE,
				PT_PROT_READ | PT_PROT_WRITE, PAGE),
			 0);
	a.mem[data_gpa(30) - GPA] = 0x30;
	a.mem[data_gpa(31) - GPA] = 0x31;
	assert_int_equal(
		side_cmd(&a, CMD_TLBI_NH_ASID | (uint64_t)gasid[0] << 48, 0),
		0);
	assert_int_equal(fx_dma_read(&a.x.f, 0, IONEST_NO_PASID, IOVA, &b, 1),
			 0);
	assert_int_equal(b, 0x30);
	/* VM 2 never invalidated: its mapping is filled on the miss. */
	assert_int_equal(fx_dma_read(&a.x.f, 1, IONEST_NO_PASID, IOVA, &b, 1),
			 0);
	assert_int_equal(b, 0x31);
	/* VM 1 retargets and invalidates its ASID: VM 2 is untouched. */
	{
		uint64_t u = 0;

		assert_int_equal(pt_unmap(&a.s1[0], IOVA, PAGE, 0, NULL, &u),
				 0);
	}
	assert_int_equal(
		side_cmd(&a, CMD_TLBI_NH_ASID | (uint64_t)gasid[0] << 48, 0),
		0);
	assert_int_not_equal(
		fx_dma_read(&a.x.f, 0, IONEST_NO_PASID, IOVA, &b, 1), 0);
	assert_int_equal(fx_dma_read(&a.x.f, 1, IONEST_NO_PASID, IOVA, &b, 1),
			 0);
	assert_int_equal(b, 0x31);
	assert_int_equal(fx_detach(&a.x.f, 1), 0);
	assert_int_equal(fx_destroy(a.x.f.fd, n2), 0);
	assert_int_equal(fx_destroy(a.x.f.fd, vd2), 0);
	assert_int_equal(fx_destroy(a.x.f.fd, vi2), 0);
	assert_int_equal(fx_destroy(a.x.f.fd, par2), 0);
	side_teardown(&a);
}

/* A part with stage 1 only: AUTO is shadow, HW refused, nesting works
 * over a software-only parent. */
static void test_s1_only_part(void **state)
{
	struct ionest_smmuv3_config cfg = { .s2p = IONEST_CFG(0) };
	struct side s;
	uint8_t v = 0x77, r = 0;

	(void)state;
	side_setup(&s, IONEST_NESTING_AUTO, &cfg, false);
	assert_int_equal(ionest_machine_nesting(s.x.f.m, "smmu0"),
			 IONEST_NESTING_SHADOW);
	assert_int_equal(ionest_machine_set_nesting(s.x.f.m, "smmu0",
						    IONEST_NESTING_HW),
			 -EOPNOTSUPP);
	side_attach(&s);
	assert_int_equal(pt_map(&s.s1[0], IOVA, data_gpa(7), PAGE,
				PT_PROT_READ | PT_PROT_WRITE, PAGE),
			 0);
	assert_int_equal(side_cmd(&s, CMD_TLBI_NH_ALL, 0), 0);
	assert_int_equal(fx_dma_write(&s.x.f, 0, IONEST_NO_PASID, IOVA, &v, 1),
			 0);
	assert_int_equal(fx_dma_read(&s.x.f, 0, IONEST_NO_PASID, IOVA, &r, 1),
			 0);
	assert_int_equal(r, 0x77);
	assert_int_equal(s.mem[data_gpa(7) - GPA], 0x77);
	/* Unmapped in the parent: the stage-2 fault, the host's event. */
	assert_int_equal(
		side_unmap_chunk(&s, (unsigned)((data_gpa(7) - GPA) / CHUNK)),
		0);
	assert_int_not_equal(
		fx_dma_read(&s.x.f, 0, IONEST_NO_PASID, IOVA, &r, 1), 0);
	assert_true(last_fault(&s, 0).stage2);
	assert_int_equal(last_fault(&s, 0).fault_addr, data_gpa(7));
	side_teardown(&s);
}

/* Page requests of a PRI device: a stage-1 translation fault becomes the
 * same page request in both modes (the shadow side replays it with PRI);
 * a stage-2 fault stays a fault. */
static void test_page_requests(void **state)
{
	struct iommu_hwpt_pgfault rec[2];
	uint32_t fid[2];
	int ffd[2];
	unsigned dchunk = (unsigned)((data_gpa(40) - GPA) / CHUNK);
	struct pair p;

	(void)state;
	side_setup(&p.s[0], IONEST_NESTING_HW, NULL, true);
	side_setup(&p.s[1], IONEST_NESTING_SHADOW, NULL, true);
	for (int k = 0; k < 2; k++) {
		struct side *sd = &p.s[k];

		assert_int_equal(nest_fault_alloc(sd->x.f.fd, &fid[k], &ffd[k]),
				 0);
		sd->nested[0] = nested_alloc(sd, 0, fid[k]);
		assert_int_equal(fx_attach(&sd->x.f, 0, &sd->nested[0]), 0);
		sd->nested[1] = nested_alloc(sd, 1, 0);
		assert_int_equal(fx_attach(&sd->x.f, 1, &sd->nested[1]), 0);
	}
	(void)pair_dma(&p, 0, IONEST_NO_PASID, IOVA + 9, 1, IONEST_DMA_TO_MEM,
		       1);
	for (int k = 0; k < 2; k++) {
		struct iommu_hwpt_page_response r;

		assert_int_equal(ionest_read(ffd[k], &rec[k], sizeof(rec[k])),
				 sizeof(rec[k]));
		assert_int_equal(last_fault(&p.s[k], 0).status,
				 IONEST_XLATE_PAGE_REQUEST);
		r = (struct iommu_hwpt_page_response){
			.cookie = rec[k].cookie,
			.code = IOMMUFD_PAGE_RESP_INVALID,
		};
		assert_int_equal(ionest_write(ffd[k], &r, sizeof(r)),
				 sizeof(r));
	}
	assert_int_equal(rec[0].addr, rec[1].addr);
	assert_int_equal(rec[0].perm, rec[1].perm);
	assert_int_equal(rec[0].flags, rec[1].flags);
	/* Mapped by the guest, not by the parent: a stage-2 fault. */
	pair_s1_map(&p, 0, IOVA + PAGE, data_gpa(40), PAGE,
		    PT_PROT_READ | PT_PROT_WRITE);
	pair_tlbi_va(&p, 0, IOVA + PAGE, PAGE);
	for (int k = 0; k < 2; k++)
		assert_int_equal(side_unmap_chunk(&p.s[k], dchunk), 0);
	(void)pair_dma(&p, 0, IONEST_NO_PASID, IOVA + PAGE, 1,
		       IONEST_DMA_TO_MEM, 3);
	assert_true(last_fault(&p.s[1], 0).stage2);
	for (int k = 0; k < 2; k++) {
		for (int i = 0; i < 2; i++)
			assert_int_equal(fx_detach(&p.s[k].x.f, i), 0);
		assert_int_equal(ionest_close(ffd[k]), 0);
	}
	pair_teardown(&p);
}

/* ---- the random differential run ---- */

struct leaf {
	uint64_t iova, size;
	bool used;
};

#define NLEAF 48

static void random_run(const struct ionest_smmuv3_config *cfg, unsigned ops)
{
	struct test_rng rng;
	uint64_t seed = 0x5eed5eedull;
	const char *env = getenv("IONEST_SHADOW_SEED");
	struct leaf leaves[NS][NLEAF];
	unsigned dmas = 0, ok = 0, evs, stalls = 0, cdfetch = 0;
	bool forced = cfg && cfg->stall_model == IONEST_CFG(2);
	struct pair p;

	if (env)
		seed = strtoull(env, NULL, 0);
	fprintf(stderr, "# smmuv3 shadow differential seed %#" PRIx64 "\n",
		seed);
	test_rng_seed(&rng, seed);
	memset(leaves, 0, sizeof(leaves));
	events_compared = 0;
	/* Guest CDs with S=1 at random; device 0's stalls go to a fault
	 * queue answered at random, device 1's are aborted by the core. */
	pair_setup_stall(&p, cfg, false, (unsigned)test_rng_below(&rng, 8));
	for (unsigned op = 0; op < ops; op++) {
		unsigned kind = (unsigned)test_rng_below(&rng, 100);
		int sp = (int)test_rng_below(&rng, NS);
		struct leaf *l = &leaves[sp][test_rng_below(&rng, NLEAF)];

		if (kind < 25 && !l->used) {
			bool big = test_rng_below(&rng, 8) == 0;
			uint64_t size = big ? SZ_2M : PAGE;
			uint64_t iova =
				IOVA + test_rng_below(&rng, WIN / size) * size;
			uint64_t gpa =
				big ? DATA + test_rng_below(&rng, 3) * SZ_2M :
				      DATA + test_rng_below(&rng, 1536) * PAGE;
			uint32_t prot = PT_PROT_READ;
			int rc;

			if (test_rng_below(&rng, 4))
				prot |= PT_PROT_WRITE;
			if (!test_rng_below(&rng, 6))
				prot |= PT_PROT_PRIV;
			rc = pt_map(&p.s[0].s1[sp], iova, gpa, size, prot,
				    size);
			assert_int_equal(pt_map(&p.s[1].s1[sp], iova, gpa, size,
						prot, size),
					 rc);
			if (!rc) {
				l->used = true;
				l->iova = iova;
				l->size = size;
			}
			pair_tlbi_va(&p, sp, iova, size);
		} else if (kind < 25) {
			continue;
		} else if (kind < 38) {
			if (!l->used)
				continue;
			pair_s1_unmap(&p, sp, l->iova, l->size);
			l->used = false;
			switch (test_rng_below(&rng, 3)) {
			case 0:
				pair_tlbi_va(&p, sp, l->iova, l->size);
				break;
			case 1:
				pair_tlbi_asid(&p, sp);
				break;
			default:
				pair_cmd(&p, CMD_TLBI_NSNH_ALL, 0);
				break;
			}
		} else if (kind < 40) {
			/* CD 5 of device 0 moves between the spaces. */
			int to = (int)test_rng_below(&rng, NS);

			bool st = test_rng_below(&rng, 2);

			for (int k = 0; k < 2; k++) {
				assert_int_equal(
					vm_cd_write(&p.s[k].cdt[0], PASID,
						    &p.s[k].s1[to], gasid[to]),
					0);
				side_cd_stall(&p.s[k], 0, PASID, st);
			}
			pair_cmd(&p,
				 CMD_CFGI_CD | VSID0 << 32 |
					 (uint64_t)PASID << 12,
				 0);
			pair_cmd(&p, CMD_TLBI_NH_ALL, 0);
		} else if (kind == 45 ||
			   (kind >= 40 && kind < 45 && !p.s[0].mapped[0])) {
			/* The CD tables' area: unmapped in the parent and
			 * the CDs invalidated by the guest (fetches fault),
			 * or mapped again, more often (the next DMA fetches
			 * them). */
			bool unmap = p.s[0].mapped[0];

			for (int k = 0; k < 2; k++) {
				if (unmap)
					assert_int_equal(
						side_unmap_chunk(&p.s[k], 0),
						0);
				else
					side_map_chunk(&p.s[k], 0);
			}
			if (unmap)
				pair_cfgi_all(&p);
			cdfetch++;
		} else if (kind < 45) {
			/* Parent unmap of an area (data, or the guest's
			 * stage-1 tables; chunk 0 holds the CD tables), or
			 * a remap. */
			unsigned c = 1 + (unsigned)test_rng_below(
						 &rng, RAM / CHUNK - 1);
			bool remap = kind >= 42;

			for (unsigned j = 0;
			     j < RAM / CHUNK && p.s[0].mapped[c] == remap; j++)
				c = 1 + c % (unsigned)(RAM / CHUNK - 1);
			if (p.s[0].mapped[c] == remap)
				continue;
			for (int k = 0; k < 2; k++) {
				if (remap)
					side_map_chunk(&p.s[k], c);
				else
					assert_int_equal(
						side_unmap_chunk(&p.s[k], c),
						0);
			}
		} else {
			uint64_t iova;
			int rc, dev = (int)test_rng_below(&rng, 2);
			uint32_t pasid = IONEST_NO_PASID;
			size_t len = 1 + test_rng_below(&rng, 16);

			if (dev == 0 && test_rng_below(&rng, 2))
				pasid = PASID;
			sp = (dev == 0 && pasid == IONEST_NO_PASID) ? 0 : 1;
			l = &leaves[sp][test_rng_below(&rng, NLEAF)];
			for (unsigned j = 0; j < NLEAF && !l->used; j++)
				l = &leaves[sp][(l - leaves[sp] + 1) % NLEAF];
			if (l->used && test_rng_below(&rng, 4))
				iova = l->iova + test_rng_below(&rng, l->size);
			else
				iova = IOVA + test_rng_below(&rng, WIN);
			rc = pair_dma_rc(&p, dev, pasid, iova, len,
					 test_rng_below(&rng, 2) ?
						 IONEST_DMA_TO_MEM :
						 IONEST_DMA_FROM_MEM,
					 (uint8_t)op);
			ok += rc == 0;
			stalls += rc == -EAGAIN;
			dmas++;
			/* The VMM answers what is pending, now or later. */
			if (test_rng_below(&rng, 2))
				(void)pair_answer(
					&p,
					test_rng_below(&rng, 2) ?
						IOMMUFD_PAGE_RESP_SUCCESS :
						IOMMUFD_PAGE_RESP_INVALID,
					UINT32_MAX);
		}
		(void)pair_events(&p);
	}
	(void)pair_answer(&p, IOMMUFD_PAGE_RESP_INVALID, UINT32_MAX);
	evs = events_compared;
	assert_memory_equal(p.s[0].mem + (DATA - GPA),
			    p.s[1].mem + (DATA - GPA), RAM - (DATA - GPA));
	fprintf(stderr,
		"# %u operations, %u DMAs compared (%u succeeded, %u stalled), "
		"%u events, %u CD table unmaps/remaps, %u resumes; "
		"shadow: %" PRIu64 " syncs, %" PRIu64 " misses, %" PRIu64
		" fills, %" PRIu64 " faults, %" PRIu64 " drops\n",
		ops, dmas, ok, stalls, evs, cdfetch, p.s[1].rs.n,
		sx_ctr(&p.s[1].x, drv_shadow_sync),
		sx_ctr(&p.s[1].x, drv_shadow_miss),
		sx_ctr(&p.s[1].x, drv_shadow_fill),
		sx_ctr(&p.s[1].x, drv_shadow_fault),
		sx_ctr(&p.s[1].x, drv_shadow_drop));
	/* (Forced stalls leave few misses to fill: not every seed has.) */
	assert_true(forced || sx_ctr(&p.s[1].x, drv_shadow_fill) > 0);
	assert_true(sx_ctr(&p.s[1].x, drv_shadow_fault) > 0);
	assert_true(sx_ctr(&p.s[1].x, drv_shadow_drop) > 0);
	assert_true(evs > 0);
	assert_true(stalls > 0 && cdfetch > 0);
	assert_true(forced || p.s[1].rs.retries > 0);
	assert_int_equal(sx_ctr(&p.s[0].x, drv_stall),
			 sx_ctr(&p.s[1].x, drv_stall));
	pair_teardown(&p);
}

static void test_random(void **state)
{
	(void)state;
	random_run(NULL, 3000);
}

/* Forced stalls (STALL_MODEL=2): every translation-class fault stalls,
 * at either stage, in both modes. */
static void test_random_forced(void **state)
{
	struct ionest_smmuv3_config forced = { .stall_model = IONEST_CFG(2) };

	(void)state;
	random_run(&forced, 1500);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mode_ste_cd),
		cmocka_unit_test(test_map_dma_unmap),
		cmocka_unit_test(test_perms_and_fill),
		cmocka_unit_test(test_parent_unmap),
		cmocka_unit_test(test_cfgi_cd_and_bad_cd),
		cmocka_unit_test(test_asid_isolation),
		cmocka_unit_test(test_s1_only_part),
		cmocka_unit_test(test_page_requests),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_random_forced),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
