// SPDX-License-Identifier: MIT
/*
 * ionest_device_dma's fast path (a TLB hit applied inline from the
 * device's DMA context, one copy) against the page-by-page path and the
 * full translate, on the mock IOMMU, VT-d and SMMUv3 through their
 * drivers: the same data and exactly the same counters for single-page,
 * multi-page and page-crossing accesses, PASIDs, block sizes other than
 * 4K, a thread's first DMA and devices past the machine's inline contexts;
 * permission faults, unmaps, the MSI doorbell and bad arguments taking
 * the existing paths;
 * and no DMA using a translation once its unmap has returned, with DMA
 * running concurrently.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <ionest/ionest.h>
#include <ionest/uapi/iommufd.h>
#include <ionest/uapi/vfio.h>

#include "core/fixture.h"
#include "drivers/inflight.h"
#include "hw/hw.h"
#include "machine/machine.h"

#define PAGE 4096ull
#define IOVA (1ull << 32)
#define NPAGES 16
#define HUGE (2ull << 20)

enum model { MOCK, VTD, SMMU, NMODELS };

struct env {
	struct fx f;
	struct ionest_hw *hw;
	uint32_t ioas, hwpt;
	uint8_t *mem; /* NPAGES pages mapped at IOVA */
};

static struct ionest_hw *model_new(enum model m)
{
	switch (m) {
	case MOCK:
		return ionest_mock_iommu_new(NULL);
	case VTD:
		return ionest_vtd_new(NULL);
	default:
		return ionest_smmuv3_new(NULL);
	}
}

/* A machine with model @m as "iommu0" and @ndev functions (RID 0x100 +
 * i, 8 PASID bits, ATS on all but the last when @ndev > 1); device 0
 * bound, its RID attached to a PASID-capable HWPT on an IOAS with
 * NPAGES pages of e->mem at IOVA (read + write, one area each). */
static void env_up_n(struct env *e, enum model m, int ndev)
{
	memset(e, 0, sizeof(*e));
	e->f.m = ionest_machine_new();
	assert_non_null(e->f.m);
	e->hw = model_new(m);
	assert_non_null(e->hw);
	assert_int_equal(ionest_machine_add_iommu(e->f.m, "iommu0", e->hw), 0);
	for (int i = 0; i < ndev; i++) {
		struct ionest_device_config dc = {
			.name = "fn",
			.iommu = "iommu0",
			.rid = 0x100 + (uint32_t)i,
			.pasid_bits = 8,
			.ats = ndev == 1 || i < ndev - 1,
		};
		int idx = ionest_machine_add_device(e->f.m, &dc);

		assert_int_equal(idx, i);
		if (i < FX_MAX_DEV) {
			e->f.dev[i] = idx;
			e->f.cdev[i] = -1;
			e->f.ndev = i + 1;
		}
	}
	e->f.fd = ionest_open(e->f.m, "/dev/iommu", O_RDWR | O_CLOEXEC);
	assert_true(e->f.fd >= 0);
	e->mem = fx_alloc(NPAGES * PAGE, PAGE);
	for (unsigned i = 0; i < NPAGES * PAGE; i++)
		e->mem[i] = (uint8_t)(i * 7 + 1);
	e->ioas = fx_ioas(e->f.fd);
	/* A page per area: any page can be unmapped alone. */
	for (unsigned p = 0; p < NPAGES; p++)
		assert_int_equal(fx_map_fixed(e->f.fd, e->ioas,
					      e->mem + p * PAGE, PAGE,
					      IOVA + p * PAGE),
				 0);
	assert_int_equal(fx_bind(&e->f, 0), 0);
	assert_int_equal(fx_hwpt_alloc(e->f.fd, e->f.devid[0], e->ioas,
				       IOMMU_HWPT_ALLOC_PASID, &e->hwpt),
			 0);
	assert_int_equal(fx_attach(&e->f, 0, &e->hwpt), 0);
}

static void env_up(struct env *e, enum model m)
{
	env_up_n(e, m, 2);
}

static void env_down(struct env *e)
{
	fx_teardown(&e->f);
	fx_free(e->mem, NPAGES * PAGE);
}

struct snap {
	uint64_t v[HW_COUNTER_COUNT];
};

static void snap(struct env *e, struct snap *s)
{
	for (unsigned i = 0; i < HW_COUNTER_COUNT; i++)
		s->v[i] = __atomic_load_n(&e->hw->ctr_val[i], __ATOMIC_RELAXED);
}

/* Counter deltas b - a. */
static void delta(const struct snap *a, const struct snap *b, struct snap *d)
{
	for (unsigned i = 0; i < HW_COUNTER_COUNT; i++)
		d->v[i] = b->v[i] - a->v[i];
}

static void assert_same(const struct snap *a, const struct snap *b)
{
	for (unsigned i = 0; i < HW_COUNTER_COUNT; i++)
		assert_int_equal(a->v[i], b->v[i]);
}

/* @n hits and nothing else. */
static void assert_hits(const struct snap *d, uint64_t n)
{
	for (unsigned i = 0; i < HW_COUNTER_COUNT; i++)
		assert_int_equal(d->v[i],
				 i == hw_translate || i == hw_tlb_hit ? n : 0);
}

static int dma(struct env *e, int dev, uint32_t pasid, uint64_t iova, void *buf,
	       size_t len, int dir)
{
	return ionest_device_dma(e->f.m, dev, pasid, iova, buf, len, dir);
}

/* The counters one call of @fn changes. */
#define DELTA(e, d, call)             \
	do {                          \
		struct snap s0_, s1_; \
		snap(e, &s0_);        \
		call;                 \
		snap(e, &s1_);        \
		delta(&s0_, &s1_, d); \
	} while (0)

/* ---- the fast path counts and copies as the full path does ---- */

static void hot_hits(enum model m)
{
	struct env e;
	uint8_t buf[PAGE], out[PAGE];
	struct snap d;
	int rc;

	env_up(&e, m);
	/* The device's context carries its model's rule. */
	assert_non_null(machine_dma(e.f.m, 0)->x.sets);
	assert_ptr_equal(machine_dma(e.f.m, 0), &e.f.m->dma0[0]);
	/* Cold: a miss and a walk fill the TLB. */
	assert_int_equal(dma(&e, 0, IONEST_NO_PASID, IOVA + PAGE, out, PAGE,
			     IONEST_DMA_FROM_MEM),
			 0);
	assert_memory_equal(out, e.mem + PAGE, PAGE);
	/* Hot read: one hit, nothing else. */
	memset(out, 0, sizeof(out));
	DELTA(&e, &d,
	      rc = dma(&e, 0, IONEST_NO_PASID, IOVA + PAGE, out, PAGE,
		       IONEST_DMA_FROM_MEM));
	assert_int_equal(rc, 0);
	assert_hits(&d, 1);
	assert_memory_equal(out, e.mem + PAGE, PAGE);
	/* Hot write (the read filled an entry with write permission). */
	memset(buf, 0xc3, sizeof(buf));
	DELTA(&e, &d,
	      rc = dma(&e, 0, IONEST_NO_PASID, IOVA + PAGE, buf, PAGE,
		       IONEST_DMA_TO_MEM));
	assert_int_equal(rc, 0);
	assert_memory_equal(e.mem + PAGE, buf, PAGE);
	if (!d.v[hw_tlb_miss])
		assert_hits(&d, 1);
	/* Whatever that took, the next write is one hit. */
	memset(buf, 0x3c, sizeof(buf));
	DELTA(&e, &d,
	      rc = dma(&e, 0, IONEST_NO_PASID, IOVA + PAGE, buf, PAGE,
		       IONEST_DMA_TO_MEM));
	assert_int_equal(rc, 0);
	assert_hits(&d, 1);
	assert_memory_equal(e.mem + PAGE, buf, PAGE);
	/* Part of a page, at an offset: one hit. */
	DELTA(&e, &d,
	      rc = dma(&e, 0, IONEST_NO_PASID, IOVA + PAGE + 100, out, 1000,
		       IONEST_DMA_FROM_MEM));
	assert_int_equal(rc, 0);
	assert_hits(&d, 1);
	assert_memory_equal(out, e.mem + PAGE + 100, 1000);
	/* The same page through the model's rule directly: what
	 * translate answers. */
	{
		struct ionest_xlate_req req = { .iova = IOVA + PAGE + 8,
						.sid = 0x100,
						.access = IONEST_ACCESS_READ };
		struct ionest_xlate_res res;
		struct hw_dma_hit h;

		DELTA(&e, &d,
		      h = hw_dma_hit(e.hw, hw_tlb_key(0x100, 0), req.iova,
				     IONEST_ACCESS_READ));
		assert_hits(&d, 1);
		DELTA(&e, &d,
		      assert_int_equal(ionest_hw_translate(e.hw, &req, &res),
				       0));
		assert_hits(&d, 1);
		assert_int_equal(res.status, IONEST_XLATE_OK);
		assert_int_equal(h.host, res.addr);
		assert_int_equal(h.size, res.size);
	}
	env_down(&e);
}

static void test_hot_hits(void **state)
{
	for (int m = 0; m < NMODELS; m++)
		hot_hits(m);
}

/* Multi-page and page-crossing accesses: a translation per page, the same
 * counters as the pages one by one. */
static void pages(enum model m)
{
	struct env e;
	uint8_t buf[4 * PAGE], ref[4 * PAGE];
	struct snap d, sum;
	int rc;

	env_up(&e, m);
	/* Warm pages 2..7 for read and write. */
	for (unsigned p = 2; p < 8; p++) {
		assert_int_equal(dma(&e, 0, IONEST_NO_PASID, IOVA + p * PAGE,
				     buf, PAGE, IONEST_DMA_FROM_MEM),
				 0);
		assert_int_equal(dma(&e, 0, IONEST_NO_PASID, IOVA + p * PAGE,
				     buf, PAGE, IONEST_DMA_TO_MEM),
				 0);
	}
	/* Three whole pages: three hits. */
	DELTA(&e, &d,
	      rc = dma(&e, 0, IONEST_NO_PASID, IOVA + 2 * PAGE, buf, 3 * PAGE,
		       IONEST_DMA_FROM_MEM));
	assert_int_equal(rc, 0);
	assert_hits(&d, 3);
	assert_memory_equal(buf, e.mem + 2 * PAGE, 3 * PAGE);
	/* The same pages one by one: the same counters. */
	memset(&sum, 0, sizeof(sum));
	for (unsigned p = 0; p < 3; p++) {
		struct snap dp;

		DELTA(&e, &dp,
		      rc = dma(&e, 0, IONEST_NO_PASID, IOVA + (2 + p) * PAGE,
			       buf + p * PAGE, PAGE, IONEST_DMA_FROM_MEM));
		assert_int_equal(rc, 0);
		for (unsigned i = 0; i < HW_COUNTER_COUNT; i++)
			sum.v[i] += dp.v[i];
	}
	assert_same(&d, &sum);
	/* Crossing one page boundary, unaligned: two hits. */
	for (unsigned i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(0x55 ^ i);
	memcpy(ref, e.mem + 3 * PAGE - 100, PAGE + 200);
	DELTA(&e, &d,
	      rc = dma(&e, 0, IONEST_NO_PASID, IOVA + 3 * PAGE - 100, buf, PAGE,
		       IONEST_DMA_TO_MEM));
	assert_int_equal(rc, 0);
	assert_hits(&d, 2);
	assert_memory_equal(e.mem + 3 * PAGE - 100, buf, PAGE);
	/* Nothing beyond the access was touched. */
	assert_memory_equal(e.mem + 4 * PAGE - 100, ref + PAGE, 200);
	/* Ending exactly at a page boundary: one page, one hit. */
	DELTA(&e, &d,
	      rc = dma(&e, 0, IONEST_NO_PASID, IOVA + 5 * PAGE - 16, buf, 16,
		       IONEST_DMA_FROM_MEM));
	assert_int_equal(rc, 0);
	assert_hits(&d, 1);
	assert_memory_equal(buf, e.mem + 5 * PAGE - 16, 16);
	/* A multi-page access whose first page is cold: the walk, then
	 * hits; the data is right either way. */
	DELTA(&e, &d,
	      rc = dma(&e, 0, IONEST_NO_PASID, IOVA + 9 * PAGE, buf, 2 * PAGE,
		       IONEST_DMA_FROM_MEM));
	assert_int_equal(rc, 0);
	assert_int_equal(d.v[hw_translate], 2);
	assert_memory_equal(buf, e.mem + 9 * PAGE, 2 * PAGE);
	DELTA(&e, &d,
	      rc = dma(&e, 0, IONEST_NO_PASID, IOVA + 9 * PAGE, buf, 2 * PAGE,
		       IONEST_DMA_FROM_MEM));
	assert_hits(&d, 2);
	/* Partly beyond the mapping: the mapped part is copied, then a
	 * fault. */
	DELTA(&e, &d,
	      rc = dma(&e, 0, IONEST_NO_PASID, IOVA + (NPAGES - 1) * PAGE, buf,
		       2 * PAGE, IONEST_DMA_FROM_MEM));
	assert_int_equal(rc, -EFAULT);
	assert_memory_equal(buf, e.mem + (NPAGES - 1) * PAGE, PAGE);
	assert_int_equal(d.v[hw_translate], 2);
	env_down(&e);
}

static void test_pages(void **state)
{
	for (int m = 0; m < NMODELS; m++)
		pages(m);
}

/* ---- faults and unmaps take the existing path ---- */

static void permission(enum model m)
{
	struct env e;
	uint8_t *ro = fx_alloc(PAGE, PAGE);
	uint8_t buf[64], out[64];
	struct ionest_dma_fault fault;
	struct ionest_xlate_req req = { .iova = IOVA + 32 * PAGE + 8,
					.sid = 0x100,
					.access = IONEST_ACCESS_WRITE };
	struct ionest_xlate_res res;
	struct iommu_ioas_map map = {
		.size = sizeof(map),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE,
		.user_va = (uint64_t)(uintptr_t)ro,
		.length = PAGE,
		.iova = IOVA + 32 * PAGE,
	};
	struct snap d1, d2, d3;
	int rc;

	env_up(&e, m);
	map.ioas_id = e.ioas;
	memset(ro, 0x42, PAGE);
	assert_int_equal(fx_ioctl(e.f.fd, IOMMU_IOAS_MAP, &map), 0);
	/* The read-only page hot for reads. */
	assert_int_equal(dma(&e, 0, IONEST_NO_PASID, req.iova, out, sizeof(out),
			     IONEST_DMA_FROM_MEM),
			 0);
	DELTA(&e, &d1,
	      rc = dma(&e, 0, IONEST_NO_PASID, req.iova, out, sizeof(out),
		       IONEST_DMA_FROM_MEM));
	assert_int_equal(rc, 0);
	assert_hits(&d1, 1);
	/* A write is refused and faults, as the full translate decides. */
	memset(buf, 0x99, sizeof(buf));
	DELTA(&e, &d1,
	      rc = dma(&e, 0, IONEST_NO_PASID, req.iova, buf, sizeof(buf),
		       IONEST_DMA_TO_MEM));
	assert_int_equal(rc, -EFAULT);
	assert_int_equal(ro[8], 0x42);
	assert_int_equal(ionest_device_last_fault(e.f.m, 0, &fault), 0);
	assert_int_equal(fault.iova, req.iova);
	assert_int_equal(fault.access, IONEST_ACCESS_WRITE);
	assert_int_equal(fault.pasid, IONEST_NO_PASID);
	assert_int_equal(d1.v[hw_tlb_hit] + d1.v[hw_tlb_miss], 1);
	assert_int_equal(d1.v[hw_translate], 1);
	DELTA(&e, &d2,
	      rc = dma(&e, 0, IONEST_NO_PASID, req.iova, buf, sizeof(buf),
		       IONEST_DMA_TO_MEM));
	assert_int_equal(rc, -EFAULT);
	DELTA(&e, &d3,
	      assert_int_equal(ionest_hw_translate(e.hw, &req, &res), 0));
	assert_int_not_equal(res.status, IONEST_XLATE_OK);
	/* The second DMA and a bare translate count the same. */
	assert_same(&d2, &d3);
	assert_int_equal(ro[8], 0x42);
	/* The page still reads. */
	DELTA(&e, &d1,
	      rc = dma(&e, 0, IONEST_NO_PASID, req.iova, out, sizeof(out),
		       IONEST_DMA_FROM_MEM));
	assert_int_equal(rc, 0);
	assert_int_equal(out[0], 0x42);
	env_down(&e);
	fx_free(ro, PAGE);
}

static void test_permission(void **state)
{
	for (int m = 0; m < NMODELS; m++)
		permission(m);
}

static void after_unmap(enum model m)
{
	struct env e;
	uint8_t buf[PAGE];
	struct snap d;
	uint64_t unmapped = 0;
	int rc;

	env_up(&e, m);
	memset(buf, 0x77, sizeof(buf));
	for (int i = 0; i < 2; i++)
		assert_int_equal(dma(&e, 0, IONEST_NO_PASID, IOVA + 4 * PAGE,
				     buf, PAGE, IONEST_DMA_TO_MEM),
				 0);
	memset(e.mem + 4 * PAGE, 0, PAGE);
	assert_int_equal(
		fx_unmap(e.f.fd, e.ioas, IOVA + 4 * PAGE, PAGE, &unmapped), 0);
	assert_int_equal(unmapped, PAGE);
	/* The very next DMA does not use the old translation. */
	DELTA(&e, &d,
	      rc = dma(&e, 0, IONEST_NO_PASID, IOVA + 4 * PAGE, buf, PAGE,
		       IONEST_DMA_TO_MEM));
	assert_int_equal(rc, -EFAULT);
	assert_int_equal(d.v[hw_tlb_hit], 0);
	for (unsigned i = 0; i < PAGE; i++)
		assert_int_equal(e.mem[4 * PAGE + i], 0);
	/* Nor a read. */
	assert_int_equal(dma(&e, 0, IONEST_NO_PASID, IOVA + 4 * PAGE + 64, buf,
			     64, IONEST_DMA_FROM_MEM),
			 -EFAULT);
	/* Its neighbours still work. */
	assert_int_equal(dma(&e, 0, IONEST_NO_PASID, IOVA + 5 * PAGE, buf, 64,
			     IONEST_DMA_FROM_MEM),
			 0);
	env_down(&e);
}

static void test_after_unmap(void **state)
{
	for (int m = 0; m < NMODELS; m++)
		after_unmap(m);
}

/* ---- the MSI doorbell is never a plain copy ---- */

static void msi(enum model m)
{
	/* The SW MSI window (mock, SMMUv3: the core maps the doorbell
	 * there); VT-d's interrupt range, never in its IOTLB. */
	const uint64_t addr = m == VTD ? 0xfee00040ull : 0x8000040ull;
	struct env e;
	uint32_t v = 0x1234;
	struct snap d;
	int rc;

	env_up(&e, m);
	assert_int_equal(
		dma(&e, 0, IONEST_NO_PASID, addr, &v, 4, IONEST_DMA_TO_MEM), 0);
	assert_int_equal(ionest_machine_msi_count(e.f.m, 0), 1);
	/* Again, with the doorbell's translation hot where it is cached:
	 * a message again, counted as a hit, nothing stored. */
	v = 0x5678;
	DELTA(&e, &d,
	      rc = dma(&e, 0, IONEST_NO_PASID, addr, &v, 4, IONEST_DMA_TO_MEM));
	assert_int_equal(rc, 0);
	assert_int_equal(ionest_machine_msi_count(e.f.m, 0), 2);
	if (m != VTD)
		assert_hits(&d, 1);
	for (unsigned i = 0; i < HW_MSI_DOORBELL_SIZE; i++)
		assert_int_equal(hw_msi_doorbell[i], 0);
	env_down(&e);
}

static void test_msi(void **state)
{
	for (int m = 0; m < NMODELS; m++)
		msi(m);
}

/* ---- PASIDs ---- */

static void pasid(enum model m)
{
	struct env e;
	uint8_t *mem2 = fx_alloc(2 * PAGE, PAGE);
	uint32_t ioas2, hwpt2;
	uint8_t buf[PAGE], out[PAGE];
	struct snap d;
	int rc;

	env_up(&e, m);
	memset(mem2, 0xee, 2 * PAGE);
	ioas2 = fx_ioas(e.f.fd);
	assert_int_equal(
		fx_map_fixed(e.f.fd, ioas2, mem2, 2 * PAGE, IOVA + PAGE), 0);
	assert_int_equal(fx_hwpt_alloc(e.f.fd, e.f.devid[0], ioas2,
				       IOMMU_HWPT_ALLOC_PASID, &hwpt2),
			 0);
	assert_int_equal(fx_attach_pasid(&e.f, 0, 5, &hwpt2), 0);
	/* The PASID reaches its own domain, the RID its own. */
	memset(buf, 0x17, sizeof(buf));
	for (int i = 0; i < 2; i++)
		assert_int_equal(dma(&e, 0, 5, IOVA + PAGE, buf, PAGE,
				     IONEST_DMA_TO_MEM),
				 0);
	assert_memory_equal(mem2, buf, PAGE);
	assert_int_not_equal(e.mem[PAGE], 0x17);
	/* Hot through the PASID: one hit. */
	DELTA(&e, &d,
	      rc = dma(&e, 0, 5, IOVA + PAGE + 512, out, 1024,
		       IONEST_DMA_FROM_MEM));
	assert_int_equal(rc, 0);
	assert_hits(&d, 1);
	assert_memory_equal(out, mem2 + 512, 1024);
	/* Crossing into the PASID domain's second page. */
	DELTA(&e, &d,
	      rc = dma(&e, 0, 5, IOVA + 2 * PAGE - 8, out, 16,
		       IONEST_DMA_FROM_MEM));
	assert_int_equal(rc, 0);
	assert_int_equal(d.v[hw_translate], 2);
	assert_memory_equal(out, mem2 + PAGE - 8, 16);
	/* The RID's entry is not the PASID's. */
	assert_int_equal(dma(&e, 0, IONEST_NO_PASID, IOVA + PAGE, out, 64,
			     IONEST_DMA_FROM_MEM),
			 0);
	assert_memory_equal(out, e.mem + PAGE, 64);
	/* An unattached PASID faults; one beyond the width is refused
	 * before anything is counted. */
	assert_int_equal(dma(&e, 0, 6, IOVA + PAGE, out, 64,
			     IONEST_DMA_FROM_MEM),
			 -EFAULT);
	DELTA(&e, &d,
	      rc = dma(&e, 0, 256, IOVA + PAGE, out, 64, IONEST_DMA_FROM_MEM));
	assert_int_equal(rc, -EINVAL);
	assert_hits(&d, 0);
	/* Detached: the very next DMA through the PASID faults. */
	assert_int_equal(fx_detach_pasid(&e.f, 0, 5), 0);
	assert_int_equal(dma(&e, 0, 5, IOVA + PAGE, out, 64,
			     IONEST_DMA_FROM_MEM),
			 -EFAULT);
	env_down(&e);
	fx_free(mem2, 2 * PAGE);
}

static void test_pasid(void **state)
{
	for (int m = 0; m < NMODELS; m++)
		pasid(m);
}

/* ---- block sizes other than 4K ---- */

static void blocks(enum model m)
{
	struct env e;
	uint8_t *big = fx_alloc(2 * HUGE, HUGE);
	uint32_t ioas2, hwpt2;
	const uint64_t biova = 1ull << 34;
	uint8_t buf[3 * PAGE];
	struct snap d, dt;
	int rc;

	env_up(&e, m);
	for (unsigned i = 0; i < 2 * HUGE; i += PAGE)
		big[i] = (uint8_t)(i >> 12);
	/* A second domain on PASID 9 whose only entries are 2M blocks. */
	ioas2 = fx_ioas(e.f.fd);
	assert_int_equal(fx_huge_pages(e.f.fd, ioas2, 1), 0);
	assert_int_equal(fx_map_fixed(e.f.fd, ioas2, big, 2 * HUGE, biova), 0);
	assert_int_equal(fx_hwpt_alloc(e.f.fd, e.f.devid[0], ioas2,
				       IOMMU_HWPT_ALLOC_PASID, &hwpt2),
			 0);
	assert_int_equal(fx_attach_pasid(&e.f, 0, 9, &hwpt2), 0);
	assert_int_equal(dma(&e, 0, 9, biova + 5 * PAGE, buf, PAGE,
			     IONEST_DMA_FROM_MEM),
			 0);
	assert_int_equal(buf[0], 5);
	{
		struct ionest_xlate_req req = { .iova = biova + 7 * PAGE,
						.sid = 0x100,
						.ssid = 9,
						.ssid_valid = true,
						.access = IONEST_ACCESS_READ };
		struct ionest_xlate_res res;

		assert_int_equal(ionest_hw_translate(e.hw, &req, &res), 0);
		assert_int_equal(res.status, IONEST_XLATE_OK);
		if (res.size != HUGE) {
			/* This model maps the domain in pages. */
			env_down(&e);
			fx_free(big, 2 * HUGE);
			return;
		}
	}
	/* Only 2M entries so far? Then the fast path probes 2M: a hot
	 * access anywhere in the block is one hit, 12K is one translation. */
	if (!(__atomic_load_n(&e.hw->dma.tlb->shifts, __ATOMIC_RELAXED) &
	      (1ull << 12))) {
		DELTA(&e, &d,
		      rc = dma(&e, 0, 9, biova + 100 * PAGE + 4, buf, 3 * PAGE,
			       IONEST_DMA_FROM_MEM));
		assert_int_equal(rc, 0);
		assert_hits(&d, 1);
		assert_int_equal(buf[PAGE - 4], 101);
	}
	/* With 4K entries present too (the RID's domain), the fast path
	 * probes 4K and misses; the full path finds the 2M entry: the same
	 * single hit a bare translate counts. */
	assert_int_equal(dma(&e, 0, IONEST_NO_PASID, IOVA, buf, 64,
			     IONEST_DMA_FROM_MEM),
			 0);
	assert_true(__atomic_load_n(&e.hw->dma.tlb->shifts, __ATOMIC_RELAXED) &
		    (1ull << 12));
	DELTA(&e, &d,
	      rc = dma(&e, 0, 9, biova + 100 * PAGE + 4, buf, 3 * PAGE,
		       IONEST_DMA_FROM_MEM));
	assert_int_equal(rc, 0);
	assert_int_equal(buf[PAGE - 4], 101);
	{
		struct ionest_xlate_req req = { .iova = biova + 100 * PAGE + 4,
						.sid = 0x100,
						.ssid = 9,
						.ssid_valid = true,
						.access = IONEST_ACCESS_READ };
		struct ionest_xlate_res res;

		DELTA(&e, &dt,
		      assert_int_equal(ionest_hw_translate(e.hw, &req, &res),
				       0));
		assert_same(&d, &dt);
	}
	/* Across the 2M boundary: two blocks, two translations. */
	DELTA(&e, &d,
	      rc = dma(&e, 0, 9, biova + HUGE - PAGE, buf, 2 * PAGE,
		       IONEST_DMA_FROM_MEM));
	assert_int_equal(rc, 0);
	assert_int_equal(d.v[hw_translate], 2);
	assert_int_equal(buf[0], (uint8_t)((HUGE - PAGE) >> 12));
	assert_int_equal(buf[PAGE], (uint8_t)(HUGE >> 12));
	assert_int_equal(fx_detach_pasid(&e.f, 0, 9), 0);
	env_down(&e);
	fx_free(big, 2 * HUGE);
}

static void test_blocks(void **state)
{
	for (int m = 0; m < NMODELS; m++)
		blocks(m);
}

/* ---- arguments ---- */

static void args(enum model m)
{
	struct env e;
	uint8_t buf[64];
	struct snap s0, s1;

	env_up(&e, m);
	for (int i = 0; i < 2; i++)
		assert_int_equal(dma(&e, 0, IONEST_NO_PASID, IOVA, buf, 64,
				     IONEST_DMA_FROM_MEM),
				 0);
	snap(&e, &s0);
	assert_int_equal(dma(&e, 0, IONEST_NO_PASID, IOVA, NULL, 64,
			     IONEST_DMA_FROM_MEM),
			 -EINVAL);
	assert_int_equal(dma(&e, 0, IONEST_NO_PASID, IOVA, NULL, 0,
			     IONEST_DMA_TO_MEM),
			 0);
	assert_int_equal(dma(&e, 0, IONEST_NO_PASID, IOVA, buf, 0,
			     IONEST_DMA_TO_MEM),
			 0);
	assert_int_equal(dma(&e, 0, IONEST_NO_PASID, IOVA, buf, 64, 0),
			 -EINVAL);
	assert_int_equal(dma(&e, 0, IONEST_NO_PASID, IOVA, buf, 64, 3),
			 -EINVAL);
	assert_int_equal(dma(&e, 0, IONEST_NO_PASID, IOVA, buf, 64, -1),
			 -EINVAL);
	assert_int_equal(dma(&e, 0, IONEST_NO_PASID, IOVA, buf, 64,
			     IONEST_DMA_ATS),
			 -EINVAL);
	assert_int_equal(dma(&e, -1, IONEST_NO_PASID, IOVA, buf, 64,
			     IONEST_DMA_FROM_MEM),
			 -EINVAL);
	assert_int_equal(dma(&e, 2, IONEST_NO_PASID, IOVA, buf, 64,
			     IONEST_DMA_FROM_MEM),
			 -EINVAL);
	assert_int_equal(ionest_device_dma(NULL, 0, IONEST_NO_PASID, IOVA, buf,
					   64, IONEST_DMA_FROM_MEM),
			 -EINVAL);
	assert_int_equal(dma(&e, 0, IONEST_NO_PASID, UINT64_MAX - 8, buf, 64,
			     IONEST_DMA_FROM_MEM),
			 -EINVAL);
	assert_int_equal(dma(&e, 0, 1u << 8, IOVA, buf, 64,
			     IONEST_DMA_FROM_MEM),
			 -EINVAL);
	assert_int_equal(dma(&e, 0, 0x80000005u, IOVA, buf, 64,
			     IONEST_DMA_FROM_MEM),
			 -EINVAL);
	/* Device 1 has no ATS. */
	assert_int_equal(dma(&e, 1, IONEST_NO_PASID, IOVA, buf, 64,
			     IONEST_DMA_FROM_MEM | IONEST_DMA_ATS),
			 -EINVAL);
	snap(&e, &s1);
	/* Nothing was translated. */
	assert_same(&s0, &s1);
	env_down(&e);
}

static void test_args(void **state)
{
	for (int m = 0; m < NMODELS; m++)
		args(m);
}

/* ---- a thread's first DMA, devices beyond the inline contexts ---- */

struct first_arg {
	struct env *e;
	struct snap d1, d2;
	int rc1, rc2;
	uint8_t out[PAGE];
};

static void *first_thread(void *p)
{
	struct first_arg *a = p;

	/* No in-flight slot yet on this thread: the checked path. */
	DELTA(a->e, &a->d1,
	      a->rc1 = dma(a->e, 0, IONEST_NO_PASID, IOVA + 3 * PAGE, a->out,
			   PAGE, IONEST_DMA_FROM_MEM));
	DELTA(a->e, &a->d2,
	      a->rc2 = dma(a->e, 0, IONEST_NO_PASID, IOVA + 3 * PAGE, a->out,
			   PAGE, IONEST_DMA_FROM_MEM));
	return NULL;
}

static void first_dma(enum model m)
{
	struct env e;
	struct first_arg a = { .e = &e };
	pthread_t t;

	env_up(&e, m);
	assert_int_equal(dma(&e, 0, IONEST_NO_PASID, IOVA + 3 * PAGE, a.out,
			     PAGE, IONEST_DMA_FROM_MEM),
			 0);
	assert_int_equal(pthread_create(&t, NULL, first_thread, &a), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(a.rc1, 0);
	assert_int_equal(a.rc2, 0);
	assert_hits(&a.d1, 1);
	assert_hits(&a.d2, 1);
	assert_memory_equal(a.out, e.mem + 3 * PAGE, PAGE);
	env_down(&e);
}

static void test_first_dma_on_thread(void **state)
{
	for (int m = 0; m < NMODELS; m++)
		first_dma(m);
}

static void many_devices(enum model m)
{
	const int n = MACHINE_DEV_CHUNK + 44, last = n - 1;
	struct env e;
	struct vfio_device_bind_iommufd b = { .argsz = sizeof(b) };
	struct vfio_device_attach_iommufd_pt at = { .argsz = sizeof(at) };
	uint8_t out[PAGE];
	char path[64];
	struct snap d;
	int cdev, rc;

	env_up_n(&e, m, n);
	/* Past the machine's inline contexts: the device's own. */
	assert_ptr_equal(machine_dma(e.f.m, last),
			 &machine_device(e.f.m, last)->dma);
	assert_ptr_equal(machine_dma(e.f.m, MACHINE_DEV_CHUNK - 1),
			 &e.f.m->dma0[MACHINE_DEV_CHUNK - 1]);
	assert_null(machine_dma(e.f.m, n));
	assert_int_equal(machine_dma(e.f.m, last)->x.key,
			 hw_tlb_key(0x100 + (uint32_t)last, 0));
	snprintf(path, sizeof(path), "/dev/vfio/devices/vfio%d", last);
	cdev = ionest_open(e.f.m, path, O_RDWR);
	assert_true(cdev >= 0);
	b.iommufd = e.f.fd;
	assert_int_equal(fx_ioctl(cdev, VFIO_DEVICE_BIND_IOMMUFD, &b), 0);
	at.pt_id = e.ioas;
	assert_int_equal(fx_ioctl(cdev, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at), 0);
	assert_int_equal(dma(&e, last, IONEST_NO_PASID, IOVA + 6 * PAGE, out,
			     PAGE, IONEST_DMA_FROM_MEM),
			 0);
	DELTA(&e, &d,
	      rc = dma(&e, last, IONEST_NO_PASID, IOVA + 6 * PAGE, out, PAGE,
		       IONEST_DMA_FROM_MEM));
	assert_int_equal(rc, 0);
	assert_hits(&d, 1);
	assert_memory_equal(out, e.mem + 6 * PAGE, PAGE);
	/* A device never attached: blocked, whatever the others hold. */
	assert_int_equal(dma(&e, MACHINE_DEV_CHUNK, IONEST_NO_PASID,
			     IOVA + 6 * PAGE, out, 64, IONEST_DMA_FROM_MEM),
			 -EFAULT);
	assert_int_equal(ionest_close(cdev), 0);
	env_down(&e);
}

static void test_many_devices(void **state)
{
	for (int m = 0; m < NMODELS; m++)
		many_devices(m);
}

/* ---- unmap with DMA running ---- */

#define WORKERS 3
#define ROUNDS 40

struct race {
	struct env *e;
	int stop;
	int bad; /* a DMA answered neither 0 nor -EFAULT */
	uint64_t done; /* DMAs issued, all workers */
};

static void *race_worker(void *p)
{
	struct race *r = p;
	uint8_t buf[PAGE];

	memset(buf, 0xab, sizeof(buf));
	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		int rc = dma(r->e, 0, IONEST_NO_PASID, IOVA, buf, PAGE,
			     IONEST_DMA_TO_MEM);

		/* No cmocka assertion off the main thread. */
		if (rc && rc != -EFAULT)
			__atomic_store_n(&r->bad, 1, __ATOMIC_RELAXED);
		__atomic_fetch_add(&r->done, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

/* Workers write the page at IOVA without pause. Each round: remap it to
 * the round's buffer, unmap it, clear the buffer, let the workers issue
 * more DMAs, and check the buffer stays clear - once the unmap returned,
 * no DMA may use its translation. */
static void unmap_race(enum model m)
{
	struct env e;
	struct race r = { .e = &e };
	pthread_t t[WORKERS];
	uint8_t *page = fx_alloc(ROUNDS * PAGE, PAGE);

	env_up(&e, m);
	assert_int_equal(fx_unmap(e.f.fd, e.ioas, IOVA, PAGE, NULL), 0);
	for (int i = 0; i < WORKERS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, race_worker, &r),
				 0);
	for (int round = 0; round < ROUNDS; round++) {
		uint8_t *pg = page + round * PAGE;
		uint64_t seen;

		assert_int_equal(fx_map_fixed(e.f.fd, e.ioas, pg, PAGE, IOVA),
				 0);
		seen = __atomic_load_n(&r.done, __ATOMIC_RELAXED);
		while (__atomic_load_n(&r.done, __ATOMIC_RELAXED) < seen + 8)
			sched_yield();
		assert_int_equal(fx_unmap(e.f.fd, e.ioas, IOVA, PAGE, NULL), 0);
		memset(pg, 0, PAGE);
		seen = __atomic_load_n(&r.done, __ATOMIC_RELAXED);
		while (__atomic_load_n(&r.done, __ATOMIC_RELAXED) < seen + 8)
			sched_yield();
		for (unsigned i = 0; i < PAGE; i++)
			assert_int_equal(pg[i], 0);
	}
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < WORKERS; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	assert_false(r.bad);
	env_down(&e);
	fx_free(page, ROUNDS * PAGE);
}

static void test_unmap_race(void **state)
{
	for (int m = 0; m < NMODELS; m++)
		unmap_race(m);
}

/* Without membarrier(2) sections take a fence and DMA the checked path:
 * the same answers and counters, the same guarantee after an unmap. */
static void test_without_membarrier(void **state)
{
	const bool asym = inflight_asym;

	inflight_asym = false;
	inflight_fast = NULL;
	for (int m = 0; m < NMODELS; m++) {
		hot_hits(m);
		pages(m);
		unmap_race(m);
	}
	inflight_asym = asym;
	inflight_fast = asym ? inflight_self : NULL;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hot_hits),
		cmocka_unit_test(test_pages),
		cmocka_unit_test(test_permission),
		cmocka_unit_test(test_after_unmap),
		cmocka_unit_test(test_msi),
		cmocka_unit_test(test_pasid),
		cmocka_unit_test(test_blocks),
		cmocka_unit_test(test_args),
		cmocka_unit_test(test_first_dma_on_thread),
		cmocka_unit_test(test_many_devices),
		cmocka_unit_test(test_unmap_race),
		cmocka_unit_test(test_without_membarrier),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
