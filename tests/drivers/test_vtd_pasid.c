// SPDX-License-Identifier: MIT
/*
 * PASID attachments through the VT-d driver: VFIO_DEVICE_ATTACH_IOMMUFD_PT
 * with a PASID programs that PASID's entry (its PASID table allocated on
 * demand), DMA with the PASID lands in that domain while the RID keeps its
 * own, replace and detach of a PASID, unmap visible to PASID DMA, and the
 * PASIDs the driver refuses.
 */
#include <errno.h>
#include <string.h>

#include "vtd_fixture.h"

#define BASE 0x100000ull

struct env {
	struct fx f;
	uint8_t *m1, *m2;
	uint32_t io1, io2, h1, h2;
};

/* Device 0 (8 PASID bits) with its RID on h1; h2 is another domain;
 * both allow PASIDs. m1 and m2 are mapped at BASE in each. */
static void env_setup(struct env *e, int ndev, const struct vfx_dev *devs)
{
	uint32_t pt;

	e->m1 = fx_alloc(2 * FX_PAGE, FX_PAGE);
	e->m2 = fx_alloc(2 * FX_PAGE, FX_PAGE);
	vfx_setup(&e->f, NULL, ndev, devs);
	e->io1 = vfx_ioas_map(&e->f, e->m1, 2 * FX_PAGE, BASE);
	e->io2 = vfx_ioas_map(&e->f, e->m2, 2 * FX_PAGE, BASE);
	assert_int_equal(fx_bind(&e->f, 0), 0);
	assert_int_equal(fx_hwpt_alloc(e->f.fd, e->f.devid[0], e->io1,
				       IOMMU_HWPT_ALLOC_PASID, &e->h1),
			 0);
	assert_int_equal(fx_hwpt_alloc(e->f.fd, e->f.devid[0], e->io2,
				       IOMMU_HWPT_ALLOC_PASID, &e->h2),
			 0);
	pt = e->h1;
	assert_int_equal(fx_attach(&e->f, 0, &pt), 0);
}

static void env_teardown(struct env *e)
{
	vfx_teardown(&e->f);
	fx_free(e->m1, 2 * FX_PAGE);
	fx_free(e->m2, 2 * FX_PAGE);
}

static int wr(struct env *e, uint32_t pasid, uint64_t iova, uint8_t v)
{
	return vfx_dma(&e->f, 0, pasid, iova, &v, 1, IONEST_DMA_TO_MEM);
}

static void test_pasid_dma(void **state)
{
	struct env e;
	const uint64_t *pe;
	uint32_t pt;

	(void)state;
	env_setup(&e, 1, NULL);
	/* PASID 70 lives in the second PASID table: none yet. */
	assert_null(vfx_pe(&e.f, 0x100, 70));
	/* Not attached: PASID DMA is blocked (no table: directory entry
	 * not present). */
	assert_int_equal(wr(&e, 70, BASE, 1), -EFAULT);
	assert_int_equal(vfx_last_fault(&e.f, 0).code, VTD_FR_PDE_NP);
	assert_int_equal(vfx_last_fault(&e.f, 0).pasid, 70);
	pt = e.h2;
	assert_int_equal(fx_attach_pasid(&e.f, 0, 70, &pt), 0);
	pe = vfx_pe(&e.f, 0x100, 70);
	assert_non_null(pe);
	assert_true(pe[0] & VTD_PE_P);
	assert_int_equal(VTD_PE_PGTT(pe[0]), VTD_PGTT_SS);
	assert_int_not_equal(VTD_PE_DID(pe[1]),
			     VTD_PE_DID(vfx_pe(&e.f, 0x100, 0)[1]));
	/* The PASID's DMA goes to h2, the RID's to h1. */
	assert_int_equal(wr(&e, 70, BASE + 1, 0x70), 0);
	assert_int_equal(wr(&e, IONEST_NO_PASID, BASE + 2, 0x01), 0);
	assert_int_equal(e.m2[1], 0x70);
	assert_int_equal(e.m1[1], 0);
	assert_int_equal(e.m1[2], 0x01);
	assert_int_equal(e.m2[2], 0);
	/* Another PASID in the first table, on h1 too. */
	pt = e.h1;
	assert_int_equal(fx_attach_pasid(&e.f, 0, 5, &pt), 0);
	assert_int_equal(wr(&e, 5, BASE + 3, 0x05), 0);
	assert_int_equal(e.m1[3], 0x05);
	/* PASIDs never attached stay blocked: entry not present. */
	assert_int_equal(wr(&e, 6, BASE, 1), -EFAULT);
	assert_int_equal(vfx_last_fault(&e.f, 0).code, VTD_FR_PE_NP);
	assert_true(vfx_last_fault(&e.f, 0).recorded);
	env_teardown(&e);
}

static void test_pasid_replace_detach(void **state)
{
	struct env e;
	uint32_t pt;

	(void)state;
	env_setup(&e, 1, NULL);
	pt = e.h1;
	assert_int_equal(fx_attach_pasid(&e.f, 0, 9, &pt), 0);
	assert_int_equal(wr(&e, 9, BASE, 0x91), 0);
	assert_int_equal(e.m1[0], 0x91);
	/* Replace (a second attach of the PASID). */
	pt = e.h2;
	assert_int_equal(fx_attach_pasid(&e.f, 0, 9, &pt), 0);
	assert_int_equal(wr(&e, 9, BASE, 0x92), 0);
	assert_int_equal(e.m2[0], 0x92);
	assert_int_equal(e.m1[0], 0x91);
	/* The RID is not affected. */
	assert_int_equal(wr(&e, IONEST_NO_PASID, BASE + 4, 0x44), 0);
	assert_int_equal(e.m1[4], 0x44);
	/* Detach: blocked, entry cleared, RID unchanged. */
	assert_int_equal(fx_detach_pasid(&e.f, 0, 9), 0);
	assert_false(vfx_pe(&e.f, 0x100, 9)[0] & VTD_PE_P);
	assert_int_equal(wr(&e, 9, BASE, 0x93), -EFAULT);
	assert_int_equal(vfx_last_fault(&e.f, 0).code, VTD_FR_PE_NP);
	assert_int_equal(wr(&e, IONEST_NO_PASID, BASE, 0x45), 0);
	/* Detaching it again is a no-op; attaching again works. */
	assert_int_equal(fx_detach_pasid(&e.f, 0, 9), 0);
	pt = e.h1;
	assert_int_equal(fx_attach_pasid(&e.f, 0, 9, &pt), 0);
	assert_int_equal(wr(&e, 9, BASE + 5, 0x95), 0);
	assert_int_equal(e.m1[5], 0x95);
	env_teardown(&e);
}

static void test_pasid_unmap_visible(void **state)
{
	struct env e;
	uint32_t pt;
	uint8_t b;

	(void)state;
	env_setup(&e, 1, NULL);
	pt = e.h2;
	assert_int_equal(fx_attach_pasid(&e.f, 0, 200, &pt), 0);
	assert_int_equal(vfx_dma(&e.f, 0, 200, BASE + FX_PAGE, &b, 1,
				 IONEST_DMA_FROM_MEM),
			 0);
	assert_int_equal(vfx_dma(&e.f, 0, 200, BASE + FX_PAGE, &b, 1,
				 IONEST_DMA_FROM_MEM),
			 0);
	assert_int_equal(fx_unmap(e.f.fd, e.io2, BASE, 2 * FX_PAGE, NULL), 0);
	assert_int_equal(vfx_dma(&e.f, 0, 200, BASE + FX_PAGE, &b, 1,
				 IONEST_DMA_FROM_MEM),
			 -EFAULT);
	assert_int_equal(vfx_last_fault(&e.f, 0).code, VTD_FR_SS_PERM);
	/* The RID's domain (io1) still maps BASE. */
	assert_int_equal(vfx_dma(&e.f, 0, IONEST_NO_PASID, BASE + FX_PAGE, &b,
				 1, IONEST_DMA_FROM_MEM),
			 0);
	env_teardown(&e);
}

static void test_pasid_refused(void **state)
{
	const struct vfx_dev devs[] = {
		{ .rid = 0x100, .pasid_bits = 8, .ats = true },
		{ .rid = 0x101, .pasid_bits = 0, .ats = true },
	};
	uint64_t pe0[2];
	struct env e;
	uint32_t pt;

	(void)state;
	env_setup(&e, 2, devs);
	/* PASID 0 is the RID's own entry (RID_PASID): refused, and the
	 * RID's entry is left alone. */
	pe0[0] = vfx_pe(&e.f, 0x100, 0)[0];
	pe0[1] = vfx_pe(&e.f, 0x100, 0)[1];
	pt = e.h2;
	assert_int_equal(fx_attach_pasid(&e.f, 0, 0, &pt), -EINVAL);
	assert_int_equal(vfx_pe(&e.f, 0x100, 0)[0], pe0[0]);
	assert_int_equal(vfx_pe(&e.f, 0x100, 0)[1], pe0[1]);
	assert_int_equal(wr(&e, IONEST_NO_PASID, BASE, 0x10), 0);
	assert_int_equal(e.m1[0], 0x10);
	/* Beyond the device's 8 bits. */
	pt = e.h2;
	assert_int_equal(fx_attach_pasid(&e.f, 0, 256, &pt), -EINVAL);
	/* A device without PASID. */
	assert_int_equal(fx_bind(&e.f, 1), 0);
	pt = e.h2;
	assert_int_equal(fx_attach_pasid(&e.f, 1, 1, &pt), -EINVAL);
	env_teardown(&e);
}

static void test_many_pasids(void **state)
{
	/* 20-bit PASIDs: tables across the directory, allocated as
	 * needed, each entry pointing at its domain. */
	const struct vfx_dev dev = { .rid = 0x100, .pasid_bits = 20 };
	static const uint32_t pasids[] = { 1, 63, 64, 4095, 65536, 1048575 };
	struct env e;
	uint32_t pt;

	(void)state;
	env_setup(&e, 1, &dev);
	for (unsigned i = 0; i < sizeof(pasids) / sizeof(pasids[0]); i++) {
		pt = (i & 1) ? e.h2 : e.h1;
		assert_int_equal(fx_attach_pasid(&e.f, 0, pasids[i], &pt), 0);
	}
	for (unsigned i = 0; i < sizeof(pasids) / sizeof(pasids[0]); i++) {
		uint8_t *m = (i & 1) ? e.m2 : e.m1;

		assert_int_equal(wr(&e, pasids[i], BASE + FX_PAGE + i,
				    (uint8_t)(0x80 + i)),
				 0);
		assert_int_equal(m[FX_PAGE + i], 0x80 + i);
	}
	for (unsigned i = 0; i < sizeof(pasids) / sizeof(pasids[0]); i++)
		assert_int_equal(fx_detach_pasid(&e.f, 0, pasids[i]), 0);
	assert_int_equal(wr(&e, 1048575, BASE, 0), -EFAULT);
	env_teardown(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pasid_dma),
		cmocka_unit_test(test_pasid_replace_detach),
		cmocka_unit_test(test_pasid_unmap_visible),
		cmocka_unit_test(test_pasid_refused),
		cmocka_unit_test(test_many_pasids),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
