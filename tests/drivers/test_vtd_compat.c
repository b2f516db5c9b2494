// SPDX-License-Identifier: MIT
/*
 * The VFIO type1 container flow on a VT-d machine: /dev/vfio/vfio, the
 * compat IOAS, VFIO_SET_IOMMU, a device bound through its cdev and attached
 * to the compat IOAS, VFIO_IOMMU_GET_INFO (page sizes of the VT-d domain,
 * IOVA ranges without the MSI window), MAP_DMA / UNMAP_DMA seen by the
 * next DMA, and type1 v1 partial unmaps on 4K IOPTEs.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "vtd_fixture.h"

#define ARG(v) ((void *)(uintptr_t)(v))
#define RW (VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)
#define MB2 (2ull << 20)

struct env {
	struct fx f;
	uint32_t ioas;
	uint8_t *mem;
};

/* A container (the iommufd opened as /dev/vfio/vfio) of @type with
 * device 0 in it. */
static void env_setup(struct env *e, unsigned long type)
{
	struct iommu_ioas_alloc a = { .size = sizeof(a) };
	struct iommu_vfio_ioas v = { .size = sizeof(v),
				     .op = IOMMU_VFIO_IOAS_SET };
	uint32_t pt;

	e->mem = fx_alloc(2 * MB2, MB2);
	vfx_setup(&e->f, NULL, 1, NULL);
	assert_int_equal(ionest_close(e->f.fd), 0);
	e->f.fd = ionest_open(e->f.m, "/dev/vfio/vfio", O_RDWR);
	assert_true(e->f.fd >= 0);
	assert_int_equal(fx_ioctl(e->f.fd, IOMMU_IOAS_ALLOC, &a), 0);
	e->ioas = v.ioas_id = a.out_ioas_id;
	assert_int_equal(fx_ioctl(e->f.fd, IOMMU_VFIO_IOAS, &v), 0);
	assert_int_equal(fx_ioctl(e->f.fd, VFIO_CHECK_EXTENSION, ARG(type)), 1);
	assert_int_equal(fx_ioctl(e->f.fd, VFIO_SET_IOMMU, ARG(type)), 0);
	assert_int_equal(fx_bind(&e->f, 0), 0);
	pt = e->ioas;
	assert_int_equal(fx_attach(&e->f, 0, &pt), 0);
}

static void env_teardown(struct env *e)
{
	vfx_teardown(&e->f);
	fx_free(e->mem, 2 * MB2);
}

static long map_dma(struct env *e, uint64_t off, uint64_t iova, uint64_t size)
{
	struct vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m),
		.flags = RW,
		.vaddr = (uint64_t)(uintptr_t)e->mem + off,
		.iova = iova,
		.size = size,
	};

	return fx_ioctl(e->f.fd, VFIO_IOMMU_MAP_DMA, &m);
}

static long unmap_dma(struct env *e, uint64_t iova, uint64_t size,
		      uint64_t *done)
{
	struct vfio_iommu_type1_dma_unmap u = {
		.argsz = sizeof(u),
		.iova = iova,
		.size = size,
	};
	long rc = fx_ioctl(e->f.fd, VFIO_IOMMU_UNMAP_DMA, &u);

	*done = u.size;
	return rc;
}

static int dma(struct env *e, uint64_t iova, uint8_t v)
{
	return vfx_dma(&e->f, 0, IONEST_NO_PASID, iova, &v, 1,
		       IONEST_DMA_TO_MEM);
}

static void test_type1v2(void **state)
{
	struct {
		struct vfio_iommu_type1_info info;
		uint8_t caps[256];
	} q = { .info = { .argsz = sizeof(q) } };
	const struct vfio_info_cap_header *h;
	const struct vfio_iommu_type1_info_cap_iova_range *r = NULL;
	uint64_t done;
	struct env e;

	(void)state;
	env_setup(&e, VFIO_TYPE1v2_IOMMU);
	/* Coherent DMA is enforced by the VT-d domain. */
	assert_int_equal(fx_ioctl(e.f.fd, VFIO_CHECK_EXTENSION,
				  ARG(VFIO_DMA_CC_IOMMU)),
			 1);
	assert_int_equal(fx_ioctl(e.f.fd, VFIO_IOMMU_GET_INFO, &q), 0);
	assert_true(q.info.flags & VFIO_IOMMU_INFO_PGSIZES);
	assert_int_equal(q.info.iova_pgsizes,
			 (1ull << 12) | (1ull << 21) | (1ull << 30));
	assert_true(q.info.flags & VFIO_IOMMU_INFO_CAPS);
	for (uint32_t off = q.info.cap_offset; off;) {
		h = (const void *)((const uint8_t *)&q + off);
		if (h->id == VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE)
			r = (const void *)h;
		off = h->next;
	}
	assert_non_null(r);
	assert_int_equal(r->nr_iovas, 2);
	assert_int_equal(r->iova_ranges[0].end, 0xfedfffffull);
	assert_int_equal(r->iova_ranges[1].start, 0xfef00000ull);
	assert_int_equal(r->iova_ranges[1].end, (1ull << 48) - 1);

	/* MAP_DMA: a 2M mapping and a 4K one; DMA lands. */
	assert_int_equal(map_dma(&e, 0, 0x40000000, MB2), 0);
	assert_int_equal(map_dma(&e, MB2, 0x80000000, FX_PAGE), 0);
	assert_int_equal(dma(&e, 0x40000000 + 0x1234, 0x12), 0);
	assert_int_equal(dma(&e, 0x80000000 + 8, 0x34), 0);
	assert_int_equal(e.mem[0x1234], 0x12);
	assert_int_equal(e.mem[MB2 + 8], 0x34);
	/* Into the MSI window: refused. */
	assert_true(map_dma(&e, 0, 0xfee00000ull, FX_PAGE) < 0);
	/* UNMAP_DMA: gone for the next DMA, the other mapping stays. */
	assert_int_equal(unmap_dma(&e, 0x40000000, MB2, &done), 0);
	assert_int_equal(done, MB2);
	assert_int_equal(dma(&e, 0x40000000 + 0x1234, 0x56), -EFAULT);
	assert_int_equal(vfx_last_fault(&e.f, 0).code, VTD_FR_SS_PERM);
	assert_int_equal(dma(&e, 0x80000000, 0x78), 0);
	assert_int_equal(e.mem[0x1234], 0x12);
	env_teardown(&e);
}

static void test_type1v1_partial_unmap(void **state)
{
	uint64_t done;
	struct env e;

	(void)state;
	env_setup(&e, VFIO_TYPE1_IOMMU);
	/* v1: 4K IOPTEs only, so a mapping can be cut anywhere. */
	assert_int_equal(map_dma(&e, 0, 0x40000000, MB2), 0);
	assert_int_equal(unmap_dma(&e, 0x40000000 + 16 * FX_PAGE, 3 * FX_PAGE,
				   &done),
			 0);
	assert_int_equal(done, 3 * FX_PAGE);
	for (uint64_t p = 14; p < 21; p++) {
		int want = p >= 16 && p < 19 ? -EFAULT : 0;

		assert_int_equal(dma(&e, 0x40000000 + p * FX_PAGE, (uint8_t)p),
				 want);
	}
	assert_int_equal(unmap_dma(&e, 0, 0, &done), -EINVAL);
	{
		struct vfio_iommu_type1_dma_unmap u = {
			.argsz = sizeof(u),
			.flags = VFIO_DMA_UNMAP_FLAG_ALL,
		};

		assert_int_equal(fx_ioctl(e.f.fd, VFIO_IOMMU_UNMAP_DMA, &u), 0);
		assert_int_equal(u.size, MB2 - 3 * FX_PAGE);
	}
	assert_int_equal(dma(&e, 0x40000000, 1), -EFAULT);
	env_teardown(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_type1v2),
		cmocka_unit_test(test_type1v1_partial_unmap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
