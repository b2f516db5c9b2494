// SPDX-License-Identifier: MIT
/*
 * Fault-injection sweep: make the Nth internal allocation fail, for every N
 * the main flows reach. The step that hits it must return an error, the
 * state must stay consistent (the same step, retried without injection,
 * succeeds, and the rest of the flow works), and nothing may leak (ASan).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "finject.h"
#include "fixture.h"
#include "util/alloc.h"

#define MEM_LEN (64 * FX_PAGE)

struct flow {
	struct ionest_machine *m;
	int fd, cdev[2];
	uint32_t devid[2];
	uint32_t ioas, ioas2, hwpt_auto, hwpt, hwpt_pasid;
	uint64_t iova_b;
	int mfd;
	uint8_t *mem;
};

static int err(long rc)
{
	return rc < 0 ? (int)rc : 0;
}

static int s_machine(struct flow *f)
{
	f->m = ionest_machine_new();
	return f->m ? 0 : -ENOMEM;
}

static int s_iommu(struct flow *f)
{
	struct ionest_hw *hw = ionest_mock_iommu_new(NULL);
	int rc;

	if (!hw)
		return -ENOMEM;
	rc = ionest_machine_add_iommu(f->m, "iommu0", hw);
	if (rc)
		ionest_hw_free(hw);
	return rc;
}

static int add_dev(struct flow *f, uint32_t rid)
{
	struct ionest_device_config dc = {
		.iommu = "iommu0",
		.rid = rid,
		.pasid_bits = 4,
	};
	int rc = ionest_machine_add_device(f->m, &dc);

	return rc < 0 ? rc : 0;
}

static int s_dev0(struct flow *f)
{
	return add_dev(f, 0x10);
}

static int s_dev1(struct flow *f)
{
	return add_dev(f, 0x11);
}

static int s_open(struct flow *f)
{
	f->fd = ionest_open(f->m, "/dev/iommu", O_RDWR);
	return f->fd < 0 ? -errno : 0;
}

static int s_ioas(struct flow *f)
{
	struct iommu_ioas_alloc a = { .size = sizeof(a) };
	int rc = err(fx_ioctl(f->fd, IOMMU_IOAS_ALLOC, &a));

	f->ioas = a.out_ioas_id;
	return rc;
}

static int s_map_a(struct flow *f)
{
	return fx_map_fixed(f->fd, f->ioas, f->mem, 4 * FX_PAGE, 0x100000);
}

static int open_bind(struct flow *f, int i)
{
	struct vfio_device_bind_iommufd b = {
		.argsz = sizeof(b),
		.iommufd = f->fd,
	};
	char path[64];
	int rc;

	snprintf(path, sizeof(path), "/dev/vfio/devices/vfio%d", i);
	if (f->cdev[i] < 0) {
		f->cdev[i] = ionest_open(f->m, path, O_RDWR);
		if (f->cdev[i] < 0)
			return -errno;
	}
	rc = err(fx_ioctl(f->cdev[i], VFIO_DEVICE_BIND_IOMMUFD, &b));
	f->devid[i] = b.out_devid;
	return rc;
}

static int s_bind0(struct flow *f)
{
	return open_bind(f, 0);
}

static int s_bind1(struct flow *f)
{
	return open_bind(f, 1);
}

static int attach(struct flow *f, int i, uint32_t pasid, uint32_t *pt)
{
	struct vfio_device_attach_iommufd_pt a = {
		.argsz = sizeof(a),
		.flags = pasid ? VFIO_DEVICE_ATTACH_PASID : 0,
		.pt_id = *pt,
		.pasid = pasid,
	};
	int rc = err(fx_ioctl(f->cdev[i], VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a));

	if (!rc)
		*pt = a.pt_id;
	return rc;
}

static int s_attach0(struct flow *f)
{
	f->hwpt_auto = f->ioas;
	return attach(f, 0, 0, &f->hwpt_auto);
}

static int s_map_b(struct flow *f)
{
	f->iova_b = 0;
	return fx_map(f->fd, f->ioas, f->mem + 8 * FX_PAGE, 8 * FX_PAGE,
		      &f->iova_b,
		      IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE);
}

static int s_hwpt(struct flow *f)
{
	return fx_hwpt_alloc(f->fd, f->devid[0], f->ioas,
			     IOMMU_HWPT_ALLOC_DIRTY_TRACKING |
				     IOMMU_HWPT_ALLOC_PASID,
			     &f->hwpt);
}

static int s_hwpt_pasid(struct flow *f)
{
	return fx_hwpt_alloc(f->fd, f->devid[0], f->ioas,
			     IOMMU_HWPT_ALLOC_PASID, &f->hwpt_pasid);
}

static int s_ioas2(struct flow *f)
{
	struct iommu_ioas_alloc a = { .size = sizeof(a) };
	int rc = err(fx_ioctl(f->fd, IOMMU_IOAS_ALLOC, &a));

	f->ioas2 = a.out_ioas_id;
	return rc;
}

static int s_copy(struct flow *f)
{
	struct iommu_ioas_copy c = {
		.size = sizeof(c),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.dst_ioas_id = f->ioas2,
		.src_ioas_id = f->ioas,
		.length = 4 * FX_PAGE,
		.dst_iova = 0x200000,
		.src_iova = 0x100000,
	};

	return err(fx_ioctl(f->fd, IOMMU_IOAS_COPY, &c));
}

static int s_attach1(struct flow *f)
{
	uint32_t pt = f->hwpt;

	return attach(f, 1, 0, &pt);
}

static int s_attach1_pasid(struct flow *f)
{
	uint32_t pt = f->hwpt_pasid;

	return attach(f, 1, 3, &pt);
}

static int s_dirty_on(struct flow *f)
{
	struct iommu_hwpt_set_dirty_tracking s = {
		.size = sizeof(s),
		.flags = IOMMU_HWPT_DIRTY_TRACKING_ENABLE,
		.hwpt_id = f->hwpt,
	};

	return err(fx_ioctl(f->fd, IOMMU_HWPT_SET_DIRTY_TRACKING, &s));
}

static int s_dma_and_dirty(struct flow *f)
{
	uint64_t bm = 0;
	uint8_t b = 1;
	struct iommu_hwpt_get_dirty_bitmap g = {
		.size = sizeof(g),
		.hwpt_id = f->hwpt,
		.iova = 0x100000,
		.length = 4 * FX_PAGE,
		.page_size = FX_PAGE,
		.data = (uint64_t)(uintptr_t)&bm,
	};
	int rc = ionest_device_dma(f->m, 1, IONEST_NO_PASID, 0x100000 + FX_PAGE,
				   &b, 1, IONEST_DMA_TO_MEM);

	if (rc)
		return rc;
	rc = err(fx_ioctl(f->fd, IOMMU_HWPT_GET_DIRTY_BITMAP, &g));
	if (!rc && bm != 2)
		return -EIO;
	return rc;
}

static int s_ranges(struct flow *f)
{
	struct iommu_iova_range r[4];
	struct iommu_ioas_iova_ranges q = {
		.size = sizeof(q),
		.ioas_id = f->ioas,
		.num_iovas = 4,
		.allowed_iovas = (uint64_t)(uintptr_t)r,
	};

	return err(fx_ioctl(f->fd, IOMMU_IOAS_IOVA_RANGES, &q));
}

static int s_allow(struct flow *f)
{
	struct iommu_iova_range r[2] = {
		{ 0x1000000, 0x1ffffff },
		{ 0x4000000, 0x4ffffff },
	};
	struct iommu_ioas_allow_iovas a = {
		.size = sizeof(a),
		.ioas_id = f->ioas2,
		.num_iovas = 2,
		.allowed_iovas = (uint64_t)(uintptr_t)r,
	};

	return err(fx_ioctl(f->fd, IOMMU_IOAS_ALLOW_IOVAS, &a));
}

static int s_unmap_b(struct flow *f)
{
	return fx_unmap(f->fd, f->ioas, f->iova_b, 8 * FX_PAGE, NULL);
}

static int s_replace0(struct flow *f)
{
	uint32_t pt = f->ioas2;

	return attach(f, 0, 0, &pt);
}

static int s_detach1(struct flow *f)
{
	struct vfio_device_detach_iommufd_pt d = { .argsz = sizeof(d) };

	return err(fx_ioctl(f->cdev[1], VFIO_DEVICE_DETACH_IOMMUFD_PT, &d));
}

static int s_map_file(struct flow *f)
{
	struct iommu_ioas_map_file m = {
		.size = sizeof(m),
		.flags = IOMMU_IOAS_MAP_READABLE,
		.ioas_id = f->ioas,
		.fd = f->mfd,
		.length = 2 * FX_PAGE,
	};

	return err(fx_ioctl(f->fd, IOMMU_IOAS_MAP_FILE, &m));
}

static int s_type1(struct flow *f)
{
	struct iommu_vfio_ioas v = {
		.size = sizeof(v),
		.ioas_id = f->ioas2,
		.op = IOMMU_VFIO_IOAS_SET,
	};
	struct vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m),
		.flags = VFIO_DMA_MAP_FLAG_READ,
		.vaddr = (uint64_t)(uintptr_t)f->mem,
		.iova = 0x1000000,
		.size = 2 * FX_PAGE,
	};
	int rc = err(fx_ioctl(f->fd, IOMMU_VFIO_IOAS, &v));

	if (!rc)
		rc = err(fx_ioctl(f->fd, VFIO_IOMMU_MAP_DMA, &m));
	return rc;
}

static int s_type1_unmap(struct flow *f)
{
	struct vfio_iommu_type1_dma_unmap u = {
		.argsz = sizeof(u),
		.iova = 0x1000000,
		.size = 2 * FX_PAGE,
	};

	return err(fx_ioctl(f->fd, VFIO_IOMMU_UNMAP_DMA, &u));
}

static int s_destroy_hwpt_pasid(struct flow *f)
{
	struct vfio_device_detach_iommufd_pt d = {
		.argsz = sizeof(d),
		.flags = VFIO_DEVICE_DETACH_PASID,
		.pasid = 3,
	};
	int rc = err(fx_ioctl(f->cdev[1], VFIO_DEVICE_DETACH_IOMMUFD_PT, &d));

	return rc ? rc : fx_destroy(f->fd, f->hwpt_pasid);
}

static int s_close_cdev0(struct flow *f)
{
	int rc = ionest_close(f->cdev[0]);

	f->cdev[0] = -1;
	return rc ? -errno : 0;
}

static int (*const steps[])(struct flow *) = {
	s_machine,	 s_iommu,    s_dev0,	      s_dev1,
	s_open,		 s_ioas,     s_map_a,	      s_bind0,
	s_attach0,	 s_map_b,    s_hwpt,	      s_hwpt_pasid,
	s_ioas2,	 s_copy,     s_bind1,	      s_attach1,
	s_attach1_pasid, s_dirty_on, s_dma_and_dirty, s_ranges,
	s_allow,	 s_unmap_b,  s_replace0,      s_detach1,
	s_map_file,	 s_type1,    s_type1_unmap,   s_destroy_hwpt_pasid,
	s_close_cdev0,
};

static void flow_cleanup(struct flow *f)
{
	for (int i = 0; i < 2; i++) {
		if (f->cdev[i] >= 0)
			assert_int_equal(ionest_close(f->cdev[i]), 0);
	}
	if (f->fd >= 0)
		assert_int_equal(ionest_close(f->fd), 0);
	ionest_machine_free(f->m);
}

FINJECT_ADAPTERS(struct flow, steps, flow_cleanup)

struct sweep_arg {
	uint8_t *mem;
	int mfd;
};

static void flow_begin(void *state, void *arg)
{
	const struct sweep_arg *a = arg;

	*(struct flow *)state = (struct flow){
		.fd = -1,
		.cdev = { -1, -1 },
		.mem = a->mem,
		.mfd = a->mfd,
	};
}

static void test_sweep(void **state)
{
	struct sweep_arg a = { .mem = fx_alloc(MEM_LEN, FX_PAGE),
			       .mfd = memfd_create("fi", MFD_CLOEXEC) };
	struct flow f;
	struct finject_flow fl = FINJECT_FLOW(steps, flow_begin, &f, &a);
	struct finject_result r;

	assert_true(a.mfd >= 0);
	assert_int_equal(ftruncate(a.mfd, 4 * FX_PAGE), 0);
	/* Absorbed: an unmap whose table gather could not grow took the
	 * allocation-free path and succeeded. */
	r = finject_sweep(&fl);
	assert_true(r.swept >= 50); /* the flow does allocate */
	assert_true(r.failed > 0);
	close(a.mfd);
	fx_free(a.mem, MEM_LEN);
}

/* ---- An unmap whose table gather cannot grow, under DMA ---- */

struct racer {
	struct fx *f;
	volatile int stop;
	volatile unsigned long ok;
};

static void *dma_thread(void *p)
{
	struct racer *r = p;
	uint8_t b[64];

	memset(b, 0xcd, sizeof(b));
	while (!r->stop) {
		int rc = fx_dma_write(r->f, 0, IONEST_NO_PASID,
				      0x400000 + 3 * FX_PAGE, b, sizeof(b));

		if (rc == 0)
			r->ok++;
		else if (rc != -EFAULT)
			abort();
	}
	return NULL;
}

static void test_unmap_without_gather_memory(void **state)
{
	struct fx f;
	struct racer r = { .f = &f };
	uint8_t *mem = fx_alloc(MEM_LEN, 2u << 20);
	uint32_t ioas, pt;
	pthread_t t;

	fx_setup(&f, NULL, 1);
	ioas = fx_ioas(f.fd);
	assert_int_equal(fx_bind(&f, 0), 0);
	pt = ioas;
	assert_int_equal(fx_attach(&f, 0, &pt), 0);
	assert_int_equal(fx_huge_pages(f.fd, ioas, 0), 0);
	assert_int_equal(pthread_create(&t, NULL, dma_thread, &r), 0);
	for (int i = 0; i < 40; i++) {
		uint8_t *page = mem + (i % 4) * 16 * FX_PAGE;
		unsigned long ok0;

		memset(page, 0, 16 * FX_PAGE);
		assert_int_equal(fx_map_fixed(f.fd, ioas, page, 16 * FX_PAGE,
					      0x400000),
				 0);
		ok0 = r.ok;
		for (long spin = 0; r.ok == ok0; spin++) {
			assert_true(spin < 100000000);
			sched_yield();
		}
		/* The first allocation of the unmap is the table gather. */
		fault_inject_nth(1);
		assert_int_equal(
			fx_unmap(f.fd, ioas, 0x400000, 16 * FX_PAGE, NULL), 0);
		assert_true(fault_inject_nth(0) >= 1);
		memset(page, 0, 16 * FX_PAGE);
		for (int k = 0; k < 100; k++)
			sched_yield();
		for (size_t k = 0; k < 16 * FX_PAGE; k++)
			assert_int_equal(page[k], 0);
	}
	r.stop = 1;
	pthread_join(t, NULL);
	fx_teardown(&f);
	fx_free(mem, MEM_LEN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sweep),
		cmocka_unit_test(test_unmap_without_gather_memory),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
