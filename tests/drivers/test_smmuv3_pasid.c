// SPDX-License-Identifier: MIT
/*
 * SMMUv3 driver PASIDs: CDs per PASID next to the RID's CD 0 (S1DSS=0b10),
 * PASIDs with the RID blocked (S1DSS terminate), replace and detach of a
 * PASID, 2-level CD tables with leaves on demand, the limits (CD2L,
 * SSIDSIZE) and the stage-1-only rule.
 */
#include <errno.h>
#include <string.h>
#include <ionest/uapi/iommufd.h>

#include "machine/machine.h"
#include "smmu_fixture.h"

#define PAGE FX_PAGE
#define IOVA 0x100000ull
#define NBUF 3

struct env {
	struct sx x;
	uint32_t ioas[NBUF], h[NBUF]; /* h: PASID-capable stage-1 HWPTs */
	uint8_t *mem[NBUF];
};

/* IOAS i maps IOVA to a buffer whose byte 0 is 0xa0 + i. */
static void env_setup(struct env *e, const struct ionest_smmuv3_config *cfg,
		      uint8_t pasid_bits)
{
	struct ionest_device_config dc = { .rid = 0x100,
					   .pasid_bits = pasid_bits,
					   .ats = true };

	sx_setup_devs(&e->x, cfg, &dc, 1);
	for (int i = 0; i < NBUF; i++) {
		e->ioas[i] = fx_ioas(e->x.f.fd);
		e->mem[i] = fx_alloc(PAGE, PAGE);
		e->mem[i][0] = (uint8_t)(0xa0 + i);
		sx_map(&e->x, e->ioas[i], e->mem[i], PAGE, IOVA);
		e->h[i] = sx_hwpt(&e->x, 0, e->ioas[i], IOMMU_HWPT_ALLOC_PASID);
	}
}

static void env_teardown(struct env *e)
{
	uint64_t ev[4];

	while (sx_event(&e->x, ev))
		;
	sx_teardown(&e->x);
	for (int i = 0; i < NBUF; i++)
		fx_free(e->mem[i], PAGE);
}

/* The byte at IOVA through @pasid, or -errno. */
static int dma(struct env *e, uint32_t pasid)
{
	uint8_t b = 0;
	int rc = fx_dma_read(&e->x.f, 0, pasid, IOVA, &b, 1);

	return rc ? rc : b;
}

static void expect_event(struct env *e, unsigned type, uint32_t pasid)
{
	uint64_t ev[4];

	assert_true(sx_event(&e->x, ev));
	assert_int_equal(ev[0] & 0xff, type);
	if (pasid == IONEST_NO_PASID) {
		assert_false(ev[0] & EVT0_SSV);
	} else {
		assert_true(ev[0] & EVT0_SSV);
		assert_int_equal((ev[0] >> EVT0_SSID_SHIFT) & 0xfffff, pasid);
	}
}

static void test_pasid_and_rid(void **state)
{
	struct env e;
	struct smmu_master *m;
	uint32_t pt;

	env_setup(&e, NULL, 8);
	pt = e.h[0];
	sx_bind_attach(&e.x, 0, &pt);
	pt = e.h[1];
	assert_int_equal(fx_attach_pasid(&e.x.f, 0, 7, &pt), 0);
	pt = e.h[2];
	assert_int_equal(fx_attach_pasid(&e.x.f, 0, 200, &pt), 0);
	m = sx_master(&e.x, 0);
	assert_false(m->cdt.two_level);
	assert_int_equal(m->cdt.cdmax, 8);
	assert_int_equal(STE1_S1DSS(m->ste[1]), S1DSS_SSID0);
	assert_int_equal(dma(&e, IONEST_NO_PASID), 0xa0);
	assert_int_equal(dma(&e, 7), 0xa1);
	assert_int_equal(dma(&e, 200), 0xa2);
	/* Each PASID its own CD, with its domain's ASID. */
	assert_int_not_equal(m->pasids[0].dom->asid, m->rid_dom->asid);
	/* An unattached PASID: its CD is invalid. */
	assert_int_equal(dma(&e, 8), -EFAULT);
	expect_event(&e, EVT_C_BAD_CD, 8);
	/* SubstreamID 0 is the RID's (S1DSS=0b10): illegal on the wire. */
	assert_int_equal(dma(&e, 0), -EFAULT);
	expect_event(&e, EVT_C_BAD_SUBSTREAMID, 0);
	/* PASID 0 and PASIDs beyond the width are refused. */
	pt = e.h[1];
	assert_int_equal(fx_attach_pasid(&e.x.f, 0, 0, &pt), -EINVAL);
	assert_int_equal(m->rid_dom->base.ops->set_dev_pasid(&m->rid_dom->base,
							     m->dev, 0),
			 -EINVAL);
	assert_int_equal(fx_attach_pasid(&e.x.f, 0, 256, &pt), -EINVAL);
	env_teardown(&e);
}

static void test_pasid_stage1_only(void **state)
{
	struct env e;
	uint32_t s2, pt;

	env_setup(&e, NULL, 8);
	s2 = sx_hwpt(&e.x, 0, e.ioas[0],
		     IOMMU_HWPT_ALLOC_NEST_PARENT | IOMMU_HWPT_ALLOC_PASID);
	/* A stage-2 domain cannot go on a PASID. */
	pt = s2;
	assert_int_equal(fx_attach_pasid(&e.x.f, 0, 3, &pt), -EINVAL);
	/* With PASIDs in use the RID cannot go to stage 2 (the STE must
	 * stay in CD-table form): refused, the old attachment stays. */
	pt = e.h[0];
	assert_int_equal(fx_attach(&e.x.f, 0, &pt), 0);
	pt = e.h[1];
	assert_int_equal(fx_attach_pasid(&e.x.f, 0, 3, &pt), 0);
	pt = s2;
	assert_int_equal(fx_attach(&e.x.f, 0, &pt), -EINVAL);
	assert_int_equal(dma(&e, IONEST_NO_PASID), 0xa0);
	assert_int_equal(dma(&e, 3), 0xa1);
	/* The RID on stage 2: no PASID can be added. */
	assert_int_equal(fx_detach_pasid(&e.x.f, 0, 3), 0);
	pt = s2;
	assert_int_equal(fx_attach(&e.x.f, 0, &pt), 0);
	assert_int_equal(dma(&e, IONEST_NO_PASID), 0xa0);
	pt = e.h[1];
	assert_int_equal(fx_attach_pasid(&e.x.f, 0, 3, &pt), -EINVAL);
	env_teardown(&e);
}

static void test_pasid_blocked_rid(void **state)
{
	struct env e;
	struct smmu_master *m;
	uint32_t pt;

	env_setup(&e, NULL, 8); /* binds the device */
	m = sx_master(&e.x, 0);
	pt = e.h[1];
	assert_int_equal(fx_attach_pasid(&e.x.f, 0, 3, &pt), 0);
	/* CD table STE, traffic without PASID terminated. */
	assert_int_equal(STE0_CONFIG(m->ste[0]), STE_CFG_S1);
	assert_int_equal(STE1_S1DSS(m->ste[1]), S1DSS_TERMINATE);
	assert_false(smmuv3_cd_valid(m, 0));
	assert_int_equal(dma(&e, 3), 0xa1);
	assert_int_equal(dma(&e, IONEST_NO_PASID), -EFAULT);
	expect_event(&e, EVT_F_STREAM_DISABLED, IONEST_NO_PASID);
	/* The RID joins: CD 0, S1DSS=0b10. */
	pt = e.h[0];
	assert_int_equal(fx_attach(&e.x.f, 0, &pt), 0);
	assert_int_equal(STE1_S1DSS(m->ste[1]), S1DSS_SSID0);
	assert_int_equal(dma(&e, IONEST_NO_PASID), 0xa0);
	assert_int_equal(dma(&e, 3), 0xa1);
	/* And leaves again: the PASID keeps working throughout. */
	assert_int_equal(fx_detach(&e.x.f, 0), 0);
	assert_int_equal(STE1_S1DSS(m->ste[1]), S1DSS_TERMINATE);
	assert_false(smmuv3_cd_valid(m, 0));
	assert_int_equal(dma(&e, 3), 0xa1);
	assert_int_equal(dma(&e, IONEST_NO_PASID), -EFAULT);
	expect_event(&e, EVT_F_STREAM_DISABLED, IONEST_NO_PASID);
	/* The last PASID goes: abort. */
	assert_int_equal(fx_detach_pasid(&e.x.f, 0, 3), 0);
	assert_int_equal(m->ste[0], 1);
	assert_int_equal(m->npasids, 0);
	assert_int_equal(dma(&e, 3), -EFAULT);
	assert_false(sx_event(&e.x, (uint64_t[4]){ 0 }));
	env_teardown(&e);
}

static void test_pasid_replace_detach(void **state)
{
	struct env e;
	uint32_t pt;
	uint64_t w;

	env_setup(&e, NULL, 8);
	pt = e.h[0];
	sx_bind_attach(&e.x, 0, &pt);
	pt = e.h[1];
	assert_int_equal(fx_attach_pasid(&e.x.f, 0, 9, &pt), 0);
	assert_int_equal(dma(&e, 9), 0xa1);
	/* Replace a PASID: the CD changes without touching the STE... */
	w = sx_ctr(&e.x, drv_ste_write);
	pt = e.h[2];
	assert_int_equal(fx_attach_pasid(&e.x.f, 0, 9, &pt), 0);
	assert_int_equal(dma(&e, 9), 0xa2);
	assert_int_equal(dma(&e, IONEST_NO_PASID), 0xa0);
	/* ...but the linear table is copied: one STE qword moves. */
	assert_true(sx_ctr(&e.x, drv_ste_write) - w <= 1);
	pt = e.h[1];
	assert_int_equal(fx_attach_pasid(&e.x.f, 0, 9, &pt), 0);
	assert_int_equal(dma(&e, 9), 0xa1);
	assert_int_equal(fx_detach_pasid(&e.x.f, 0, 9), 0);
	assert_int_equal(dma(&e, 9), -EFAULT);
	expect_event(&e, EVT_C_BAD_CD, 9);
	assert_int_equal(dma(&e, IONEST_NO_PASID), 0xa0);
	env_teardown(&e);
}

static void test_pasid_cd_2level(void **state)
{
	struct env e;
	struct smmu_master *m;
	uint32_t pt;
	unsigned leaves = 0;
	uint64_t w;

	env_setup(&e, NULL, 20);
	pt = e.h[0];
	sx_bind_attach(&e.x, 0, &pt);
	m = sx_master(&e.x, 0);
	/* 2^20 CDs: 2-level, 64 KiB leaves of 1024. */
	assert_true(m->cdt.two_level);
	assert_int_equal(m->cdt.cdmax, 20);
	assert_int_equal(m->cdt.nl1, 1024);
	assert_int_equal(STE0_S1FMT(m->ste[0]), S1FMT_64K);
	pt = e.h[1];
	assert_int_equal(fx_attach_pasid(&e.x.f, 0, 0x12345, &pt), 0);
	pt = e.h[2];
	assert_int_equal(fx_attach_pasid(&e.x.f, 0, 5, &pt), 0);
	for (unsigned i = 0; i < m->cdt.nl1; i++)
		leaves += m->cdt.leaves[i] != NULL;
	/* Leaf 0 (CD 0 and PASID 5) and leaf 0x48 only. */
	assert_int_equal(leaves, 2);
	assert_non_null(m->cdt.leaves[0x12345 >> 10]);
	assert_int_equal(dma(&e, IONEST_NO_PASID), 0xa0);
	assert_int_equal(dma(&e, 0x12345), 0xa1);
	assert_int_equal(dma(&e, 5), 0xa2);
	/* A PASID in a leaf that does not exist: C_BAD_CD. */
	assert_int_equal(dma(&e, 0x80000), -EFAULT);
	expect_event(&e, EVT_C_BAD_CD, 0x80000);
	/* Replacing copies the leaf and swaps the level-1 descriptor: the
	 * STE does not change at all. */
	w = sx_ctr(&e.x, drv_ste_write);
	pt = e.h[2];
	assert_int_equal(fx_attach_pasid(&e.x.f, 0, 0x12345, &pt), 0);
	pt = e.h[1];
	assert_int_equal(fx_attach(&e.x.f, 0, &pt), 0);
	assert_int_equal(sx_ctr(&e.x, drv_ste_write), w);
	assert_int_equal(dma(&e, 0x12345), 0xa2);
	assert_int_equal(dma(&e, IONEST_NO_PASID), 0xa1);
	assert_int_equal(dma(&e, 5), 0xa2);
	assert_int_equal(fx_detach_pasid(&e.x.f, 0, 0x12345), 0);
	assert_int_equal(dma(&e, 0x12345), -EFAULT);
	expect_event(&e, EVT_C_BAD_CD, 0x12345);
	env_teardown(&e);
}

static void test_pasid_limits(void **state)
{
	struct ionest_smmuv3_config no_cd2l = { .cd2l = IONEST_CFG(0) };
	struct ionest_smmuv3_config no_ssid = { .ssidsize = IONEST_CFG(0) };
	struct env e;
	uint32_t pt;

	/* Without CD2L a linear table holds at most 1024 CDs. */
	env_setup(&e, &no_cd2l, 20);
	assert_int_equal(sx_master(&e.x, 0)->dev->max_pasids, 1024);
	pt = e.h[1];
	assert_int_equal(fx_attach_pasid(&e.x.f, 0, 1023, &pt), 0);
	assert_false(sx_master(&e.x, 0)->cdt.two_level);
	assert_int_equal(dma(&e, 1023), 0xa1);
	assert_int_equal(fx_attach_pasid(&e.x.f, 0, 1024, &pt), -EINVAL);
	env_teardown(&e);

	/* No SubstreamIDs at all: no PASIDs, one CD. */
	env_setup(&e, &no_ssid, 20);
	assert_int_equal(sx_master(&e.x, 0)->dev->max_pasids, 0);
	pt = e.h[1];
	assert_int_equal(fx_attach_pasid(&e.x.f, 0, 1, &pt), -EINVAL);
	pt = e.h[0];
	assert_int_equal(fx_attach(&e.x.f, 0, &pt), 0);
	assert_int_equal(STE0_S1CDMAX(sx_master(&e.x, 0)->ste[0]), 0);
	assert_int_equal(dma(&e, IONEST_NO_PASID), 0xa0);
	env_teardown(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pasid_and_rid),
		cmocka_unit_test(test_pasid_stage1_only),
		cmocka_unit_test(test_pasid_blocked_rid),
		cmocka_unit_test(test_pasid_replace_detach),
		cmocka_unit_test(test_pasid_cd_2level),
		cmocka_unit_test(test_pasid_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
