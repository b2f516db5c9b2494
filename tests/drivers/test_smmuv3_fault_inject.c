// SPDX-License-Identifier: MIT
/*
 * SMMUv3 driver under allocation failure: make the Nth allocation fail for
 * every N the flow reaches (SMMU creation and probe, devices, domains of
 * both stages, CD tables linear and 2-level, attach, replace, PASIDs,
 * map). The step that hits it fails with an error, the state stays
 * consistent (the same step then works, and the rest of the flow with its
 * DMA checks), the SMMU never saw a bad command, and nothing leaks (ASan).
 * Then unmap without memory for its table gather: it still succeeds, by
 * the driver's allocation-free path, and DMA never uses a freed table.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ionest/uapi/iommufd.h>
#include <ionest/uapi/vfio.h>

#include "finject.h"
#include "machine/machine.h"
#include "smmu_fixture.h"
#include "util/alloc.h"

#define PAGE FX_PAGE
#define MEM_LEN (32 * PAGE)

struct flow {
	uint8_t pasid_bits;
	struct ionest_machine *m;
	struct ionest_hw *hw;
	int fd, cdev[2];
	uint32_t devid[2];
	uint32_t ioas, ioas2, hwpt_dirty, hwpt_pasid, hwpt_s2;
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

static int s_smmu(struct flow *f)
{
	struct ionest_hw *hw = ionest_smmuv3_new(NULL);
	int rc;

	if (!hw)
		return -ENOMEM;
	rc = ionest_machine_add_iommu(f->m, "smmu0", hw);
	if (rc)
		ionest_hw_free(hw);
	else
		f->hw = hw;
	return rc;
}

static int add_dev(struct flow *f, uint32_t rid)
{
	struct ionest_device_config dc = {
		.iommu = "smmu0",
		.rid = rid,
		.pasid_bits = f->pasid_bits,
		.ats = true,
	};
	int rc = ionest_machine_add_device(f->m, &dc);

	return rc < 0 ? rc : 0;
}

static int s_dev0(struct flow *f)
{
	return add_dev(f, 0x100);
}

static int s_dev1(struct flow *f)
{
	/* Another bus: another level-2 stream table. */
	return add_dev(f, 0x3201);
}

static int s_open(struct flow *f)
{
	f->fd = ionest_open(f->m, "/dev/iommu", O_RDWR);
	return f->fd < 0 ? -errno : 0;
}

static int new_ioas(struct flow *f, uint32_t *id)
{
	struct iommu_ioas_alloc a = { .size = sizeof(a) };
	int rc = err(fx_ioctl(f->fd, IOMMU_IOAS_ALLOC, &a));

	*id = a.out_ioas_id;
	return rc;
}

static int s_ioas(struct flow *f)
{
	return new_ioas(f, &f->ioas);
}

static int s_ioas2(struct flow *f)
{
	return new_ioas(f, &f->ioas2);
}

static int s_map_a(struct flow *f)
{
	return fx_map_fixed(f->fd, f->ioas, f->mem, 4 * PAGE, 0x100000);
}

static int s_map_ioas2(struct flow *f)
{
	return fx_map_fixed(f->fd, f->ioas2, f->mem + 4 * PAGE, 4 * PAGE,
			    0x100000);
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

static int attach(struct flow *f, int i, uint32_t pasid, uint32_t pt)
{
	struct vfio_device_attach_iommufd_pt a = {
		.argsz = sizeof(a),
		.flags = pasid ? VFIO_DEVICE_ATTACH_PASID : 0,
		.pt_id = pt,
		.pasid = pasid,
	};

	return err(fx_ioctl(f->cdev[i], VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a));
}

/* One byte through device @i: it must come from page @page of mem. */
static int check_dma(struct flow *f, int i, uint32_t pasid, unsigned page)
{
	uint8_t b = 0;
	int rc = ionest_device_dma(f->m, i, pasid, 0x100000 + 2 * PAGE, &b, 1,
				   IONEST_DMA_FROM_MEM);

	if (rc)
		return rc;
	return b == f->mem[page * PAGE + 2 * PAGE] ? 0 : -EIO;
}

static int s_attach0(struct flow *f)
{
	return attach(f, 0, 0, f->ioas);
}

static int s_dma0(struct flow *f)
{
	return check_dma(f, 0, IONEST_NO_PASID, 0);
}

static int s_hwpt_dirty(struct flow *f)
{
	return fx_hwpt_alloc(f->fd, f->devid[0], f->ioas,
			     IOMMU_HWPT_ALLOC_DIRTY_TRACKING |
				     IOMMU_HWPT_ALLOC_PASID,
			     &f->hwpt_dirty);
}

static int s_hwpt_pasid(struct flow *f)
{
	return fx_hwpt_alloc(f->fd, f->devid[0], f->ioas2,
			     IOMMU_HWPT_ALLOC_PASID, &f->hwpt_pasid);
}

static int s_hwpt_s2(struct flow *f)
{
	return fx_hwpt_alloc(f->fd, f->devid[0], f->ioas2,
			     IOMMU_HWPT_ALLOC_NEST_PARENT, &f->hwpt_s2);
}

static int s_attach1(struct flow *f)
{
	return attach(f, 1, 0, f->hwpt_dirty);
}

static int s_attach1_pasid(struct flow *f)
{
	return attach(f, 1, 0x7ff, f->hwpt_pasid);
}

static int s_dma1(struct flow *f)
{
	int rc = check_dma(f, 1, IONEST_NO_PASID, 0);

	return rc ? rc : check_dma(f, 1, 0x7ff, 4);
}

static int s_replace0(struct flow *f)
{
	/* An automatic domain of the other IOAS. */
	int rc = attach(f, 0, 0, f->ioas2);

	return rc ? rc : check_dma(f, 0, IONEST_NO_PASID, 4);
}

static int s_replace0_s2(struct flow *f)
{
	int rc = attach(f, 0, 0, f->hwpt_s2);

	return rc ? rc : check_dma(f, 0, IONEST_NO_PASID, 4);
}

static int s_replace1_pasid(struct flow *f)
{
	int rc = attach(f, 1, 0x7ff, f->hwpt_dirty);

	return rc ? rc : check_dma(f, 1, 0x7ff, 0);
}

static int s_replace1_rid(struct flow *f)
{
	int rc = attach(f, 1, 0, f->hwpt_pasid);

	return rc ? rc : check_dma(f, 1, IONEST_NO_PASID, 4);
}

static int s_map_more(struct flow *f)
{
	return fx_map_fixed(f->fd, f->ioas, f->mem + 16 * PAGE, 16 * PAGE,
			    0x40000000);
}

static int s_unmap_more(struct flow *f)
{
	return fx_unmap(f->fd, f->ioas, 0x40000000, 16 * PAGE, NULL);
}

static int s_detach1_pasid(struct flow *f)
{
	struct vfio_device_detach_iommufd_pt d = {
		.argsz = sizeof(d),
		.flags = VFIO_DEVICE_DETACH_PASID,
		.pasid = 0x7ff,
	};
	int rc = err(fx_ioctl(f->cdev[1], VFIO_DEVICE_DETACH_IOMMUFD_PT, &d));

	if (rc)
		return rc;
	return check_dma(f, 1, 0x7ff, 0) == -EFAULT ? 0 : -EIO;
}

static int s_close_cdev0(struct flow *f)
{
	int rc = ionest_close(f->cdev[0]);

	f->cdev[0] = -1;
	return rc ? -errno : 0;
}

static int (*const steps[])(struct flow *) = {
	s_machine,     s_smmu,		 s_dev0,	 s_dev1,
	s_open,	       s_ioas,		 s_ioas2,	 s_map_a,
	s_map_ioas2,   s_bind0,		 s_attach0,	 s_dma0,
	s_hwpt_dirty,  s_hwpt_pasid,	 s_hwpt_s2,	 s_bind1,
	s_attach1,     s_attach1_pasid,	 s_dma1,	 s_replace0,
	s_replace0_s2, s_replace1_pasid, s_replace1_rid, s_map_more,
	s_unmap_more,  s_detach1_pasid,	 s_close_cdev0,
};

static void flow_cleanup(struct flow *f)
{
	uint64_t g = 0, gn = 1;

	/* The SMMU never refused a command, whatever failed. */
	if (f->hw) {
		assert_int_equal(ionest_hw_mmio_read(f->hw, SMMU_GERROR, 4, &g),
				 0);
		assert_int_equal(
			ionest_hw_mmio_read(f->hw, SMMU_GERRORN, 4, &gn), 0);
		assert_int_equal(g, gn);
		assert_int_equal(smmuv3_of(f->m->iommus[0]->inst)
					 ->ctr_val[drv_cmdq_error],
				 0);
	}
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
	uint8_t pasid_bits;
};

static void flow_begin(void *state, void *arg)
{
	const struct sweep_arg *a = arg;

	*(struct flow *)state = (struct flow){
		.pasid_bits = a->pasid_bits,
		.fd = -1,
		.cdev = { -1, -1 },
		.mem = a->mem,
	};
}

static void sweep(uint8_t pasid_bits)
{
	struct sweep_arg a = { .mem = fx_alloc(MEM_LEN, PAGE),
			       .pasid_bits = pasid_bits };
	struct flow f;
	struct finject_flow fl = FINJECT_FLOW(steps, flow_begin, &f, &a);
	struct finject_result r;

	for (unsigned i = 0; i < MEM_LEN; i++)
		a.mem[i] = (uint8_t)(i / PAGE * 13 + 1);
	r = finject_sweep(&fl);
	assert_true(r.swept >= 100);
	assert_true(r.failed > 0);
	fx_free(a.mem, MEM_LEN);
}

static void test_sweep_linear_cd(void **state)
{
	sweep(12);
}

static void test_sweep_2level_cd(void **state)
{
	sweep(20);
}

/* ---- unmap without memory for the gather, under DMA ---- */

struct racer {
	struct sx *x;
	int stop;
	unsigned long ok;
};

static void *dma_thread(void *p)
{
	struct racer *r = p;
	uint8_t b[64];

	memset(b, 0xcd, sizeof(b));
	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		int rc = fx_dma_write(&r->x->f, 0, IONEST_NO_PASID,
				      0x400000 + 3 * PAGE, b, sizeof(b));

		if (rc == 0)
			__atomic_add_fetch(&r->ok, 1, __ATOMIC_RELAXED);
		else if (rc != -EFAULT)
			abort();
	}
	return NULL;
}

static void test_unmap_without_gather_memory(void **state)
{
	struct sx x;
	struct racer r = { .x = &x };
	size_t len = 4ull << 20;
	uint8_t *mem = fx_alloc(len, 2u << 20);
	uint32_t ioas, pt;
	pthread_t t;

	sx_setup(&x, NULL, 1);
	ioas = fx_ioas(x.f.fd);
	pt = ioas;
	sx_bind_attach(&x, 0, &pt);
	assert_int_equal(fx_huge_pages(x.f.fd, ioas, 0), 0);
	assert_int_equal(pthread_create(&t, NULL, dma_thread, &r), 0);
	for (int i = 0; i < 40; i++) {
		/* Alternate a small map and one spanning several last-level
		 * tables (4K pages only): the fallback frees in chunks. */
		size_t sz = (i & 1) ? len : 16 * PAGE;
		unsigned long ok0;

		memset(mem, 0, sz);
		assert_int_equal(fx_map_fixed(x.f.fd, ioas, mem, sz, 0x400000),
				 0);
		ok0 = __atomic_load_n(&r.ok, __ATOMIC_RELAXED);
		for (long spin = 0;
		     __atomic_load_n(&r.ok, __ATOMIC_RELAXED) == ok0; spin++) {
			assert_true(spin < 100000000);
			sched_yield();
		}
		/* The first allocation of the unmap is the table gather. */
		fault_inject_nth(1);
		assert_int_equal(fx_unmap(x.f.fd, ioas, 0x400000, sz, NULL), 0);
		assert_true(fault_inject_nth(0) >= 1);
		/* Nothing reaches the old pages once unmap returned. */
		memset(mem, 0, sz);
		for (int k = 0; k < 100; k++)
			sched_yield();
		for (size_t k = 0; k < sz; k++)
			assert_int_equal(mem[k], 0);
	}
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	assert_true(sx_ctr(&x, drv_unmap_fallback) >= 40);
	while (sx_event(&x, (uint64_t[4]){ 0 }))
		;
	sx_teardown(&x);
	fx_free(mem, len);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sweep_linear_cd),
		cmocka_unit_test(test_sweep_2level_cd),
		cmocka_unit_test(test_unmap_without_gather_memory),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
