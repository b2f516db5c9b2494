// SPDX-License-Identifier: MIT
/*
 * Fault-injection sweep over a VT-d flow: the Nth internal allocation
 * fails (model and driver tables, queues, PASID tables, page tables, the
 * core's objects), for every N the flow reaches. The step that hits it
 * returns an error; the same step then succeeds when retried, the rest of
 * the flow works (DMA lands, faults where it must), the invalidation queue
 * never fails, and nothing leaks (ASan).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util/alloc.h"
#include "finject.h"
#include "vtd_fixture.h"

#define BASE 0x100000ull
#define MEM_LEN (32 * FX_PAGE)

struct flow {
	struct fx f; /* m, fd, cdev, devid */
	uint32_t ioas, ioas2, hwpt, hwpt_pasid;
	uint8_t *mem;
};

static int err(long rc)
{
	return rc < 0 ? (int)rc : 0;
}

static int s_machine(struct flow *w)
{
	w->f.m = ionest_machine_new();
	return w->f.m ? 0 : -ENOMEM;
}

static int s_iommu(struct flow *w)
{
	struct ionest_hw *hw = ionest_vtd_new(NULL);
	int rc;

	if (!hw)
		return -ENOMEM;
	rc = ionest_machine_add_iommu(w->f.m, "iommu0", hw);
	if (rc)
		ionest_hw_free(hw);
	return rc;
}

static int add_dev(struct flow *w, uint32_t rid, bool ats)
{
	struct ionest_device_config dc = {
		.iommu = "iommu0",
		.rid = rid,
		.pasid_bits = 8,
		.ats = ats,
	};
	int rc = ionest_machine_add_device(w->f.m, &dc);

	return rc < 0 ? rc : 0;
}

static int s_dev0(struct flow *w)
{
	return add_dev(w, 0x100, true);
}

static int s_dev1(struct flow *w)
{
	/* Another bus: a context table of its own. */
	return add_dev(w, 0x2a0, false);
}

static int s_open(struct flow *w)
{
	w->f.fd = ionest_open(w->f.m, "/dev/iommu", O_RDWR);
	return w->f.fd < 0 ? -errno : 0;
}

static int s_ioas(struct flow *w)
{
	struct iommu_ioas_alloc a = { .size = sizeof(a) };
	int rc = err(fx_ioctl(w->f.fd, IOMMU_IOAS_ALLOC, &a));

	w->ioas = a.out_ioas_id;
	return rc;
}

static int s_map_a(struct flow *w)
{
	return fx_map_fixed(w->f.fd, w->ioas, w->mem, 8 * FX_PAGE, BASE);
}

static int s_bind0(struct flow *w)
{
	return fx_bind(&w->f, 0);
}

static int s_bind1(struct flow *w)
{
	return fx_bind(&w->f, 1);
}

static int s_attach0(struct flow *w)
{
	uint32_t pt = w->ioas;

	return fx_attach(&w->f, 0, &pt);
}

static int s_map_b(struct flow *w)
{
	/* Far away: new tables at every level. */
	return fx_map_fixed(w->f.fd, w->ioas, w->mem + 8 * FX_PAGE, 8 * FX_PAGE,
			    0x7f00000000ull);
}

static int s_dma0(struct flow *w)
{
	uint8_t b = 0x5a;
	int rc = vfx_dma(&w->f, 0, IONEST_NO_PASID, 0x7f00000000ull + 5, &b, 1,
			 IONEST_DMA_TO_MEM);

	if (!rc && w->mem[8 * FX_PAGE + 5] != 0x5a)
		return -EIO;
	return rc;
}

static int s_hwpt(struct flow *w)
{
	return fx_hwpt_alloc(w->f.fd, w->f.devid[0], w->ioas,
			     IOMMU_HWPT_ALLOC_DIRTY_TRACKING |
				     IOMMU_HWPT_ALLOC_PASID,
			     &w->hwpt);
}

static int s_ioas2(struct flow *w)
{
	struct iommu_ioas_alloc a = { .size = sizeof(a) };
	int rc = err(fx_ioctl(w->f.fd, IOMMU_IOAS_ALLOC, &a));

	w->ioas2 = a.out_ioas_id;
	if (!rc)
		rc = fx_map_fixed(w->f.fd, w->ioas2, w->mem + 16 * FX_PAGE,
				  4 * FX_PAGE, BASE);
	return rc;
}

static int s_hwpt_pasid(struct flow *w)
{
	return fx_hwpt_alloc(w->f.fd, w->f.devid[0], w->ioas2,
			     IOMMU_HWPT_ALLOC_PASID, &w->hwpt_pasid);
}

static int s_attach1(struct flow *w)
{
	uint32_t pt = w->hwpt;

	return fx_attach(&w->f, 1, &pt);
}

static int s_attach0_pasid(struct flow *w)
{
	/* PASID 70: its PASID table is allocated now. */
	uint32_t pt = w->hwpt_pasid;

	return fx_attach_pasid(&w->f, 0, 70, &pt);
}

static int s_pasid_dma(struct flow *w)
{
	uint8_t b = 0x70;
	int rc = vfx_dma(&w->f, 0, 70, BASE + 3, &b, 1, IONEST_DMA_TO_MEM);

	if (!rc && w->mem[16 * FX_PAGE + 3] != 0x70)
		return -EIO;
	return rc;
}

static int s_replace0(struct flow *w)
{
	/* The RID moves to the dirty-tracking HWPT. */
	uint32_t pt = w->hwpt;

	return fx_attach(&w->f, 0, &pt);
}

static int s_dirty(struct flow *w)
{
	struct iommu_hwpt_set_dirty_tracking s = {
		.size = sizeof(s),
		.flags = IOMMU_HWPT_DIRTY_TRACKING_ENABLE,
		.hwpt_id = w->hwpt,
	};
	uint64_t bm = 0;
	struct iommu_hwpt_get_dirty_bitmap g = {
		.size = sizeof(g),
		.hwpt_id = w->hwpt,
		.iova = BASE,
		.length = 8 * FX_PAGE,
		.page_size = FX_PAGE,
		.data = (uint64_t)(uintptr_t)&bm,
	};
	uint8_t b = 2;
	int rc = err(fx_ioctl(w->f.fd, IOMMU_HWPT_SET_DIRTY_TRACKING, &s));

	if (!rc)
		rc = vfx_dma(&w->f, 1, IONEST_NO_PASID, BASE + 2 * FX_PAGE, &b,
			     1, IONEST_DMA_TO_MEM);
	if (!rc)
		rc = err(fx_ioctl(w->f.fd, IOMMU_HWPT_GET_DIRTY_BITMAP, &g));
	/* A retry after a failed harvest may find the bit gone already
	 * only if it was reported: both runs harvest the same write. */
	if (!rc && bm != 4)
		return -EIO;
	return rc;
}

static int s_ats_unmap(struct flow *w)
{
	uint8_t b;
	int rc = vfx_dma(&w->f, 0, IONEST_NO_PASID, BASE + FX_PAGE, &b, 1,
			 IONEST_DMA_FROM_MEM | IONEST_DMA_ATS);

	if (!rc)
		rc = fx_unmap(w->f.fd, w->ioas, BASE, 8 * FX_PAGE, NULL);
	if (!rc && vfx_dma(&w->f, 0, IONEST_NO_PASID, BASE + FX_PAGE, &b, 1,
			   IONEST_DMA_FROM_MEM | IONEST_DMA_ATS) != -EFAULT)
		return -EIO;
	return rc;
}

static int s_remap(struct flow *w)
{
	return fx_map_fixed(w->f.fd, w->ioas, w->mem, 8 * FX_PAGE, BASE);
}

static int s_detach_pasid(struct flow *w)
{
	int rc = fx_detach_pasid(&w->f, 0, 70);

	return rc ? rc : fx_destroy(w->f.fd, w->hwpt_pasid);
}

static int s_close_cdev1(struct flow *w)
{
	int rc = ionest_close(w->f.cdev[1]);

	w->f.cdev[1] = -1;
	return rc ? -errno : 0;
}

static int (*const steps[])(struct flow *) = {
	s_machine,   s_iommu,	 s_dev0,	  s_dev1,	 s_open,
	s_ioas,	     s_map_a,	 s_bind0,	  s_attach0,	 s_map_b,
	s_dma0,	     s_hwpt,	 s_ioas2,	  s_hwpt_pasid,	 s_bind1,
	s_attach1,   s_replace0, s_attach0_pasid, s_pasid_dma,	 s_dirty,
	s_ats_unmap, s_remap,	 s_detach_pasid,  s_close_cdev1,
};

static void flow_end(struct flow *w)
{
	if (w->f.m && ionest_machine_iommu(w->f.m, "iommu0")) {
		w->f.ndev = 2;
		vfx_check_clean(&w->f);
	}
	for (int i = 0; i < 2; i++) {
		if (w->f.cdev[i] >= 0)
			assert_int_equal(ionest_close(w->f.cdev[i]), 0);
	}
	if (w->f.fd >= 0)
		assert_int_equal(ionest_close(w->f.fd), 0);
	ionest_machine_free(w->f.m);
}

FINJECT_ADAPTERS(struct flow, steps, flow_end)

static void flow_begin(void *state, void *arg)
{
	struct flow *w = state;

	memset(w, 0, sizeof(*w));
	w->mem = arg;
	w->f.fd = -1;
	w->f.cdev[0] = w->f.cdev[1] = -1;
	w->f.dev[0] = 0;
	w->f.dev[1] = 1;
	memset(w->mem, 0, MEM_LEN);
}

static void test_sweep(void **state)
{
	struct flow w;
	struct finject_flow fl =
		FINJECT_FLOW(steps, flow_begin, &w, fx_alloc(MEM_LEN, FX_PAGE));
	struct finject_result r;

	(void)state;
	r = finject_sweep(&fl);
	assert_true(r.swept >= 60); /* the flow does allocate */
	assert_true(r.failed > 50);
	fx_free(fl.arg, MEM_LEN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sweep),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
