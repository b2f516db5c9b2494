// SPDX-License-Identifier: MIT
/*
 * Dirty tracking through the VT-d driver: a DIRTY_TRACKING HWPT uses
 * second-stage A/D bits, SET_DIRTY_TRACKING toggles SSADE in every PASID
 * entry attached to it, device writes (not reads) show up in
 * GET_DIRTY_BITMAP, harvesting clears them (and the IOTLB, so the next
 * write is seen again) unless NO_CLEAR.
 */
#include <errno.h>
#include <string.h>

#include "vtd_fixture.h"

#define BASE 0x40000000ull
#define NPAGES 64
#define MB2 (2ull << 20)

struct env {
	struct fx f;
	uint8_t *mem;
	uint64_t len;
	uint32_t ioas, hwpt;
};

static void env_setup(struct env *e, uint64_t len, uint64_t align,
		      uint32_t flags)
{
	uint32_t pt;

	e->len = len;
	e->mem = fx_alloc(len, align);
	vfx_setup(&e->f, NULL, 2, NULL);
	e->ioas = vfx_ioas_map(&e->f, e->mem, len, BASE);
	assert_int_equal(fx_bind(&e->f, 0), 0);
	assert_int_equal(fx_hwpt_alloc(e->f.fd, e->f.devid[0], e->ioas,
				       flags | IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
				       &e->hwpt),
			 0);
	pt = e->hwpt;
	assert_int_equal(fx_attach(&e->f, 0, &pt), 0);
}

static void env_teardown(struct env *e)
{
	vfx_teardown(&e->f);
	fx_free(e->mem, e->len);
}

static int set_tracking(struct env *e, uint32_t hwpt, bool on)
{
	struct iommu_hwpt_set_dirty_tracking s = {
		.size = sizeof(s),
		.flags = on ? IOMMU_HWPT_DIRTY_TRACKING_ENABLE : 0,
		.hwpt_id = hwpt,
	};

	return (int)fx_ioctl(e->f.fd, IOMMU_HWPT_SET_DIRTY_TRACKING, &s);
}

static int get_bitmap(struct env *e, uint32_t hwpt, uint64_t len,
		      uint64_t page_size, uint64_t *bits, size_t words,
		      uint32_t flags)
{
	struct iommu_hwpt_get_dirty_bitmap g = {
		.size = sizeof(g),
		.hwpt_id = hwpt,
		.flags = flags,
		.iova = BASE,
		.length = len,
		.page_size = page_size,
		.data = (uint64_t)(uintptr_t)bits,
	};

	memset(bits, 0, words * 8);
	return (int)fx_ioctl(e->f.fd, IOMMU_HWPT_GET_DIRTY_BITMAP, &g);
}

static int dev_write(struct env *e, int i, uint32_t pasid, uint64_t page)
{
	uint8_t b = (uint8_t)page;

	return vfx_dma(&e->f, i, pasid, BASE + page * FX_PAGE + 8, &b, 1,
		       IONEST_DMA_TO_MEM);
}

static int dev_read(struct env *e, int i, uint64_t page)
{
	uint8_t b;

	return vfx_dma(&e->f, i, IONEST_NO_PASID, BASE + page * FX_PAGE, &b, 1,
		       IONEST_DMA_FROM_MEM);
}

static void test_dirty_bitmap(void **state)
{
	uint64_t bits[1];
	struct env e;

	(void)state;
	env_setup(&e, NPAGES * FX_PAGE, FX_PAGE, 0);
	assert_false(vfx_pe(&e.f, 0x100, 0)[0] & VTD_PE_SSADE);
	/* Written before tracking: the PASID entry (SSADE clear) and a
	 * writable translation are cached; enabling must drop both. */
	assert_int_equal(dev_write(&e, 0, IONEST_NO_PASID, 2), 0);
	assert_int_equal(set_tracking(&e, e.hwpt, true), 0);
	assert_true(vfx_pe(&e.f, 0x100, 0)[0] & VTD_PE_SSADE);
	assert_int_equal(dev_write(&e, 0, IONEST_NO_PASID, 2), 0);
	/* Reads first (cached read/write translations), then writes. */
	for (uint64_t p = 0; p < NPAGES; p += 3)
		assert_int_equal(dev_read(&e, 0, p), 0);
	assert_int_equal(dev_write(&e, 0, IONEST_NO_PASID, 1), 0);
	assert_int_equal(dev_write(&e, 0, IONEST_NO_PASID, 6), 0);
	assert_int_equal(dev_write(&e, 0, IONEST_NO_PASID, 63), 0);
	assert_int_equal(get_bitmap(&e, e.hwpt, NPAGES * FX_PAGE, FX_PAGE, bits,
				    1, 0),
			 0);
	assert_int_equal(bits[0], (1ull << 1) | (1ull << 2) | (1ull << 6) |
					  (1ull << 63));
	/* Harvested: clean now. */
	assert_int_equal(get_bitmap(&e, e.hwpt, NPAGES * FX_PAGE, FX_PAGE, bits,
				    1, 0),
			 0);
	assert_int_equal(bits[0], 0);
	/* The next write to a harvested page is seen again: the IOTLB
	 * entry that was writable is gone. */
	assert_int_equal(dev_write(&e, 0, IONEST_NO_PASID, 6), 0);
	assert_int_equal(dev_write(&e, 0, IONEST_NO_PASID, 6), 0);
	assert_int_equal(get_bitmap(&e, e.hwpt, NPAGES * FX_PAGE, FX_PAGE, bits,
				    1, IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR),
			 0);
	assert_int_equal(bits[0], 1ull << 6);
	/* NO_CLEAR left it. */
	assert_int_equal(get_bitmap(&e, e.hwpt, NPAGES * FX_PAGE, FX_PAGE, bits,
				    1, 0),
			 0);
	assert_int_equal(bits[0], 1ull << 6);
	/* Tracking off: SSADE cleared, writes leave no trace. */
	assert_int_equal(set_tracking(&e, e.hwpt, false), 0);
	assert_false(vfx_pe(&e.f, 0x100, 0)[0] & VTD_PE_SSADE);
	assert_int_equal(dev_write(&e, 0, IONEST_NO_PASID, 9), 0);
	assert_int_equal(e.mem[9 * FX_PAGE + 8], 9);
	assert_int_equal(get_bitmap(&e, e.hwpt, NPAGES * FX_PAGE, FX_PAGE, bits,
				    1, 0),
			 0);
	assert_int_equal(bits[0], 0);
	/* On again: a clean start (stale state was dropped). */
	assert_int_equal(set_tracking(&e, e.hwpt, true), 0);
	assert_int_equal(get_bitmap(&e, e.hwpt, NPAGES * FX_PAGE, FX_PAGE, bits,
				    1, 0),
			 0);
	assert_int_equal(bits[0], 0);
	assert_int_equal(dev_write(&e, 0, IONEST_NO_PASID, 33), 0);
	assert_int_equal(get_bitmap(&e, e.hwpt, NPAGES * FX_PAGE, FX_PAGE, bits,
				    1, 0),
			 0);
	assert_int_equal(bits[0], 1ull << 33);
	env_teardown(&e);
}

static void test_dirty_superpage(void **state)
{
	uint64_t bits[2 * 512 / 64];
	struct env e;

	(void)state;
	env_setup(&e, 2 * MB2, MB2, 0);
	assert_int_equal(set_tracking(&e, e.hwpt, true), 0);
	/* One write dirties the whole 2M leaf. */
	assert_int_equal(dev_write(&e, 0, IONEST_NO_PASID, 512 + 17), 0);
	assert_int_equal(get_bitmap(&e, e.hwpt, 2 * MB2, FX_PAGE, bits, 16, 0),
			 0);
	for (unsigned w = 0; w < 16; w++)
		assert_int_equal(bits[w], w < 8 ? 0 : ~0ull);
	/* At 2M granularity: bit 1. */
	assert_int_equal(dev_write(&e, 0, IONEST_NO_PASID, 3), 0);
	assert_int_equal(get_bitmap(&e, e.hwpt, 2 * MB2, MB2, bits, 1, 0), 0);
	assert_int_equal(bits[0], 1);
	env_teardown(&e);
}

static void test_dirty_all_attachments(void **state)
{
	/* SET_DIRTY_TRACKING reaches every PASID entry of the domain, and
	 * one attached later gets SSADE too. */
	uint64_t bits[1];
	struct env e;
	uint32_t pt;

	(void)state;
	env_setup(&e, NPAGES * FX_PAGE, FX_PAGE, IOMMU_HWPT_ALLOC_PASID);
	pt = e.hwpt;
	assert_int_equal(fx_attach_pasid(&e.f, 0, 3, &pt), 0);
	assert_false(vfx_pe(&e.f, 0x100, 3)[0] & VTD_PE_SSADE);
	assert_int_equal(set_tracking(&e, e.hwpt, true), 0);
	assert_true(vfx_pe(&e.f, 0x100, 0)[0] & VTD_PE_SSADE);
	assert_true(vfx_pe(&e.f, 0x100, 3)[0] & VTD_PE_SSADE);
	assert_int_equal(fx_bind(&e.f, 1), 0);
	pt = e.hwpt;
	assert_int_equal(fx_attach(&e.f, 1, &pt), 0);
	assert_true(vfx_pe(&e.f, 0x101, 0)[0] & VTD_PE_SSADE);
	/* Writes through the PASID and through the other device count. */
	assert_int_equal(dev_write(&e, 0, 3, 10), 0);
	assert_int_equal(dev_write(&e, 1, IONEST_NO_PASID, 20), 0);
	assert_int_equal(get_bitmap(&e, e.hwpt, NPAGES * FX_PAGE, FX_PAGE, bits,
				    1, 0),
			 0);
	assert_int_equal(bits[0], (1ull << 10) | (1ull << 20));
	assert_int_equal(set_tracking(&e, e.hwpt, false), 0);
	assert_false(vfx_pe(&e.f, 0x100, 3)[0] & VTD_PE_SSADE);
	assert_false(vfx_pe(&e.f, 0x101, 0)[0] & VTD_PE_SSADE);
	env_teardown(&e);
}

static void test_not_dirty_hwpt(void **state)
{
	uint8_t *mem = fx_alloc(FX_PAGE, FX_PAGE);
	uint64_t bits[1];
	struct env e = { 0 };
	uint32_t hwpt;

	(void)state;
	vfx_setup(&e.f, NULL, 1, NULL);
	e.ioas = vfx_ioas_map(&e.f, mem, FX_PAGE, BASE);
	assert_int_equal(fx_bind(&e.f, 0), 0);
	assert_int_equal(fx_hwpt_alloc(e.f.fd, e.f.devid[0], e.ioas, 0, &hwpt),
			 0);
	assert_int_equal(set_tracking(&e, hwpt, true), -EOPNOTSUPP);
	assert_int_equal(get_bitmap(&e, hwpt, FX_PAGE, FX_PAGE, bits, 1, 0),
			 -EOPNOTSUPP);
	vfx_teardown(&e.f);
	fx_free(mem, FX_PAGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dirty_bitmap),
		cmocka_unit_test(test_dirty_superpage),
		cmocka_unit_test(test_dirty_all_attachments),
		cmocka_unit_test(test_not_dirty_hwpt),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
