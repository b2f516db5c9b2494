// SPDX-License-Identifier: MIT
/*
 * ATS through the VT-d driver: the context entry enables device-TLB
 * translation requests (DTE) for a device with ATS, ATS DMA fills the
 * device's TLB (ATC) and is served from it, and the driver's device-TLB
 * invalidations (on unmap, replace, detach; PASID-selective for PASIDs)
 * empty it, so that the next DMA cannot use the old translation.
 */
#include <errno.h>
#include <string.h>

#include "machine/machine.h"
#include "vtd_fixture.h"

#define BASE 0x100000ull
#define ATS_RD (IONEST_DMA_FROM_MEM | IONEST_DMA_ATS)
#define ATS_WR (IONEST_DMA_TO_MEM | IONEST_DMA_ATS)

static struct dev_atc *atc_of(struct fx *f, int i)
{
	return &machine_device(f->m, f->dev[i])->atc;
}

struct env {
	struct fx f;
	uint8_t *m1, *m2;
	uint32_t io1, io2, h1, h2;
};

static void env_setup(struct env *e)
{
	uint32_t pt;

	e->m1 = fx_alloc(4 * FX_PAGE, FX_PAGE);
	e->m2 = fx_alloc(4 * FX_PAGE, FX_PAGE);
	vfx_setup(&e->f, NULL, 2, NULL);
	e->io1 = vfx_ioas_map(&e->f, e->m1, 4 * FX_PAGE, BASE);
	e->io2 = vfx_ioas_map(&e->f, e->m2, 4 * FX_PAGE, BASE);
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
	fx_free(e->m1, 4 * FX_PAGE);
	fx_free(e->m2, 4 * FX_PAGE);
}

static int ats(struct env *e, uint32_t pasid, uint64_t iova, uint8_t *b,
	       int dir)
{
	return vfx_dma(&e->f, 0, pasid, iova, b, 1, dir);
}

static void test_ats_dma_uses_atc(void **state)
{
	struct dev_atc *a;
	struct env e;
	uint64_t xl;
	uint8_t b = 0x5c;

	(void)state;
	env_setup(&e);
	a = atc_of(&e.f, 0);
	assert_true(vfx_ce(&e.f, 0x100)[0] & VTD_CE_DTE);
	assert_int_equal(ats(&e, IONEST_NO_PASID, BASE + 2 * FX_PAGE + 1, &b,
			     ATS_WR),
			 0);
	assert_int_equal(e.m1[2 * FX_PAGE + 1], 0x5c);
	assert_int_equal(a->fills, 1);
	/* Served by the ATC: the IOMMU sees no request. */
	xl = vfx_hw_counter(&e.f, "translate");
	assert_int_equal(ats(&e, IONEST_NO_PASID, BASE + 2 * FX_PAGE + 9, &b,
			     ATS_RD),
			 0);
	assert_int_equal(b, e.m1[2 * FX_PAGE + 9]);
	assert_int_equal(vfx_hw_counter(&e.f, "translate"), xl);
	assert_int_equal(a->hits, 1);
	env_teardown(&e);
}

static void test_ats_unmap_invalidates(void **state)
{
	uint64_t inv, sent;
	struct env e;
	uint8_t b = 0;

	(void)state;
	env_setup(&e);
	assert_int_equal(ats(&e, IONEST_NO_PASID, BASE + FX_PAGE, &b, ATS_RD),
			 0);
	assert_int_equal(ats(&e, IONEST_NO_PASID, BASE + FX_PAGE, &b, ATS_RD),
			 0);
	assert_int_equal(atc_of(&e.f, 0)->hits, 1);
	inv = atc_of(&e.f, 0)->invalidations;
	sent = vfx_drv_counter(&e.f, "atc_inv");
	assert_int_equal(fx_unmap(e.f.fd, e.io1, BASE, 4 * FX_PAGE, NULL), 0);
	assert_true(vfx_drv_counter(&e.f, "atc_inv") > sent);
	assert_true(atc_of(&e.f, 0)->invalidations > inv);
	/* The very next DMA asks the IOMMU again, which has nothing. */
	assert_int_equal(ats(&e, IONEST_NO_PASID, BASE + FX_PAGE, &b, ATS_RD),
			 -EFAULT);
	assert_int_equal(atc_of(&e.f, 0)->hits, 1);
	env_teardown(&e);
}

static void test_ats_replace_and_detach(void **state)
{
	struct env e;
	uint32_t pt;
	uint8_t b = 0x31;

	(void)state;
	env_setup(&e);
	assert_int_equal(ats(&e, IONEST_NO_PASID, BASE, &b, ATS_WR), 0);
	assert_int_equal(e.m1[0], 0x31);
	pt = e.h2;
	assert_int_equal(fx_attach(&e.f, 0, &pt), 0);
	b = 0x32;
	assert_int_equal(ats(&e, IONEST_NO_PASID, BASE, &b, ATS_WR), 0);
	assert_int_equal(e.m2[0], 0x32);
	assert_int_equal(e.m1[0], 0x31);
	assert_int_equal(fx_detach(&e.f, 0), 0);
	assert_int_equal(ats(&e, IONEST_NO_PASID, BASE, &b, ATS_WR), -EFAULT);
	assert_int_equal(e.m2[0], 0x32);
	env_teardown(&e);
}

static void test_ats_pasid_selective(void **state)
{
	struct env e;
	uint32_t pt;
	uint64_t hits;
	uint8_t b = 0;

	(void)state;
	env_setup(&e);
	pt = e.h2;
	assert_int_equal(fx_attach_pasid(&e.f, 0, 4, &pt), 0);
	/* The same IOVA cached for the RID (h1) and for PASID 4 (h2). */
	assert_int_equal(ats(&e, IONEST_NO_PASID, BASE, &b, ATS_RD), 0);
	assert_int_equal(ats(&e, 4, BASE, &b, ATS_RD), 0);
	assert_int_equal(atc_of(&e.f, 0)->fills, 2);
	/* Unmapping from h2 invalidates PASID 4's translations only. */
	assert_int_equal(fx_unmap(e.f.fd, e.io2, BASE, 4 * FX_PAGE, NULL), 0);
	hits = atc_of(&e.f, 0)->hits;
	assert_int_equal(ats(&e, IONEST_NO_PASID, BASE, &b, ATS_RD), 0);
	assert_int_equal(atc_of(&e.f, 0)->hits, hits + 1);
	assert_int_equal(ats(&e, 4, BASE, &b, ATS_RD), -EFAULT);
	/* Removing the PASID drops what is cached for it. */
	assert_int_equal(fx_map_fixed(e.f.fd, e.io2, e.m2, FX_PAGE, BASE), 0);
	assert_int_equal(ats(&e, 4, BASE, &b, ATS_RD), 0);
	assert_int_equal(fx_detach_pasid(&e.f, 0, 4), 0);
	assert_int_equal(ats(&e, 4, BASE, &b, ATS_RD), -EFAULT);
	env_teardown(&e);
}

static void test_ats_permissions(void **state)
{
	uint8_t *ro = fx_alloc(FX_PAGE, FX_PAGE), b = 1;
	struct env e;
	uint64_t iova = 0x800000;

	(void)state;
	env_setup(&e);
	assert_int_equal(fx_map(e.f.fd, e.io1, ro, FX_PAGE, &iova,
				IOMMU_IOAS_MAP_FIXED_IOVA |
					IOMMU_IOAS_MAP_READABLE),
			 0);
	/* A read-only translation: reads go, a write gets no access. */
	assert_int_equal(ats(&e, IONEST_NO_PASID, iova, &b, ATS_RD), 0);
	assert_int_equal(ats(&e, IONEST_NO_PASID, iova, &b, ATS_WR), -EFAULT);
	assert_int_equal(ro[0], 0);
	/* A blocked device: its translation requests fail. */
	assert_int_equal(vfx_dma(&e.f, 1, IONEST_NO_PASID, BASE, &b, 1, ATS_RD),
			 -EFAULT);
	env_teardown(&e);
	fx_free(ro, FX_PAGE);
}

static void test_ats_unusable(void **state)
{
	const struct vfx_dev no_ats = { .rid = 0x100, .pasid_bits = 8 };
	struct ionest_vtd_config no_dt = { .dt = IONEST_CFG(0) };
	uint8_t *mem = fx_alloc(FX_PAGE, FX_PAGE), b = 0;
	uint32_t ioas, pt;
	struct fx f;

	(void)state;
	for (int i = 0; i < 2; i++) {
		vfx_setup(&f, i ? &no_dt : NULL, 1, i ? NULL : &no_ats);
		ioas = vfx_ioas_map(&f, mem, FX_PAGE, BASE);
		assert_int_equal(fx_bind(&f, 0), 0);
		pt = ioas;
		assert_int_equal(fx_attach(&f, 0, &pt), 0);
		assert_false(vfx_ce(&f, 0x100)[0] & VTD_CE_DTE);
		assert_int_equal(vfx_dma(&f, 0, IONEST_NO_PASID, BASE, &b, 1,
					 ATS_RD),
				 -EINVAL);
		/* Plain DMA works, and unmap sends no device-TLB
		 * invalidation. */
		assert_int_equal(vfx_dma(&f, 0, IONEST_NO_PASID, BASE, &b, 1,
					 IONEST_DMA_FROM_MEM),
				 0);
		assert_int_equal(fx_unmap(f.fd, ioas, BASE, FX_PAGE, NULL), 0);
		assert_int_equal(vfx_drv_counter(&f, "atc_inv"), 0);
		vfx_teardown(&f);
	}
	fx_free(mem, FX_PAGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ats_dma_uses_atc),
		cmocka_unit_test(test_ats_unmap_invalidates),
		cmocka_unit_test(test_ats_replace_and_detach),
		cmocka_unit_test(test_ats_pasid_selective),
		cmocka_unit_test(test_ats_permissions),
		cmocka_unit_test(test_ats_unusable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
