// SPDX-License-Identifier: MIT
/*
 * iommufd benchmark (performance.md T3d, T4, T6): IOMMU_IOAS_MAP and
 * IOMMU_IOAS_UNMAP of 1 GiB of 4K-backed memory into an IOAS with one
 * attached domain, through the whole ioctl path, and device DMA of 4 KiB
 * with the translation hot, each against plain code measured in the same
 * run: on the mock IOMMU, then on the VT-d model with its host driver
 * (second-stage tables, queued invalidation), then on the SMMUv3 model
 * with its host driver (stage-1 tables, command queue).
 *
 * Per-page map/unmap are measured with IOMMU_OPTION_HUGE_PAGES=0, so the
 * domain holds 262144 4K IOPTEs as Linux would for 4K-backed memory (in
 * this model host PA == VA, so with huge pages allowed the same memory
 * maps as 512 2M IOPTEs; reported too, for information).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ionest/ionest.h>
#include <ionest/uapi/iommufd.h>
#include <ionest/uapi/vfio.h>

#include "bench.h"
#include "pt/pt.h"

#define GIB (1ull << 30)
#define NPAGES (GIB >> 12)
#define IOVA (1ull << 32)

struct env {
	struct ionest_machine *m;
	int fd, cdev, dev;
	uint32_t ioas;
	uint8_t *mem;
	void *base; /* the mapping mem is in */
};

static void check(long rc, const char *what)
{
	if (rc) {
		fprintf(stderr, "bench-iommufd: %s failed (%ld)\n", what, rc);
		exit(1);
	}
}

static void setup(struct env *e, const char *name, struct ionest_hw *hw)
{
	struct ionest_device_config dc = { .iommu = name, .rid = 0x100 };
	struct vfio_device_bind_iommufd b = { .argsz = sizeof(b) };
	struct vfio_device_attach_iommufd_pt a = { .argsz = sizeof(a) };
	struct iommu_ioas_alloc ia = { .size = sizeof(ia) };

	e->m = ionest_machine_new();
	check(!e->m, "machine");
	check(!hw, "iommu model");
	check(ionest_machine_add_iommu(e->m, name, hw), "add_iommu");
	e->dev = ionest_machine_add_device(e->m, &dc);
	check(e->dev < 0, "add_device");
	e->fd = ionest_open(e->m, "/dev/iommu", O_RDWR);
	e->cdev = ionest_open(e->m, "/dev/vfio/devices/vfio0", O_RDWR);
	check(e->fd < 0 || e->cdev < 0, "open");
	check(ionest_ioctl(e->fd, IOMMU_IOAS_ALLOC, &ia), "IOAS_ALLOC");
	e->ioas = ia.out_ioas_id;
	b.iommufd = e->fd;
	check(ionest_ioctl(e->cdev, VFIO_DEVICE_BIND_IOMMUFD, &b), "bind");
	a.pt_id = e->ioas;
	check(ionest_ioctl(e->cdev, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a),
	      "attach");
	/* 1 GiB of 4K pages, pre-faulted. */
	e->mem = mmap(NULL, GIB + (2u << 20), PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	check(e->mem == MAP_FAILED, "mmap");
	e->base = e->mem;
	e->mem = (uint8_t *)(((uintptr_t)e->mem + (2u << 20) - 1) &
			     ~(uintptr_t)((2u << 20) - 1));
	madvise(e->mem, GIB, MADV_NOHUGEPAGE);
	memset(e->mem, 1, GIB);
	/* Tables come from the pre-faulted pool, as in the pt benchmark. */
	check(pt_pool_reserve((NPAGES / 512 + 64) * 4096), "pool");
}

static void huge_pages(struct env *e, uint64_t on)
{
	struct iommu_option o = {
		.size = sizeof(o),
		.option_id = IOMMU_OPTION_HUGE_PAGES,
		.op = IOMMU_OPTION_OP_SET,
		.object_id = e->ioas,
		.val64 = on,
	};

	check(ionest_ioctl(e->fd, IOMMU_OPTION, &o), "OPTION");
}

static void map_gib(struct env *e)
{
	struct iommu_ioas_map m = {
		.size = sizeof(m),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = e->ioas,
		.user_va = (uint64_t)(uintptr_t)e->mem,
		.length = GIB,
		.iova = IOVA,
	};

	check(ionest_ioctl(e->fd, IOMMU_IOAS_MAP, &m), "IOAS_MAP");
}

static void unmap_gib(struct env *e)
{
	struct iommu_ioas_unmap u = {
		.size = sizeof(u),
		.ioas_id = e->ioas,
		.iova = IOVA,
		.length = GIB,
	};

	check(ionest_ioctl(e->fd, IOMMU_IOAS_UNMAP, &u), "IOAS_UNMAP");
	check(u.length != GIB, "unmapped length");
}

/* Median ns per 4K page of map and of unmap over the repetitions. */
static void time_map_unmap(struct env *e, double *map_ns, double *unmap_ns)
{
	double tm[7], tu[7];
	unsigned reps = bench_reps();

	for (unsigned r = 0; r < reps; r++) {
		double t0 = bench_now_ns(), t1, t2;

		map_gib(e);
		t1 = bench_now_ns();
		unmap_gib(e);
		t2 = bench_now_ns();
		tm[r] = (t1 - t0) / NPAGES;
		tu[r] = (t2 - t1) / NPAGES;
	}
	*map_ns = bench_median(tm, reps);
	*unmap_ns = bench_median(tu, reps);
}

struct dma_ctx {
	struct env *e;
	uint8_t buf[4096] __attribute__((aligned(4096)));
};

/* baseline_memcpy4k_hot_ns() as a bench_run2 function (the harness does
 * not export it): glibc memcpy of 4 KiB between page-aligned hot buffers,
 * through a volatile pointer so it is a real call, as in baselines.c. */
static void *(*volatile memcpy_fn)(void *, const void *, size_t) = memcpy;
static uint8_t cpy_src[4096] __attribute__((aligned(4096)));
static uint8_t cpy_dst[4096] __attribute__((aligned(4096)));

static void memcpy_pass(void *ctx, uint64_t iters)
{
	while (iters--) {
		memcpy_fn(cpy_dst, cpy_src, 4096);
		bench_clobber();
	}
}

/* 4 KiB of device DMA to the same page, translation and data hot. The
 * machine and device are held in locals as a caller would hold them: read
 * through the context after every call (bench_clobber) they put two loads
 * ahead of each DMA's arguments that the memcpy baseline (constant
 * arguments) does not have. */
static void dma_pass(void *p, uint64_t iters)
{
	struct dma_ctx *c = p;
	struct ionest_machine *m = c->e->m;
	const int dev = c->e->dev;

	for (uint64_t i = 0; i < iters; i++) {
		if (ionest_device_dma(m, dev, IONEST_NO_PASID, IOVA + 8192,
				      c->buf, 4096, IONEST_DMA_TO_MEM))
			abort();
		bench_clobber();
	}
}

struct results {
	double map4k, unmap4k, map2m, unmap2m, dma, memcpy_alt;
};

static void measure(const char *name, struct ionest_hw *hw, struct results *r)
{
	static struct dma_ctx dc;
	struct env e;

	setup(&e, name, hw);
	/* Warm the path (first table allocations, page accounting). */
	huge_pages(&e, 0);
	map_gib(&e);
	unmap_gib(&e);
	time_map_unmap(&e, &r->map4k, &r->unmap4k);
	huge_pages(&e, 1);
	time_map_unmap(&e, &r->map2m, &r->unmap2m);

	/* DMA: 4 KiB to the same page, translation and data hot. */
	huge_pages(&e, 0);
	map_gib(&e);
	dc.e = &e;
	memset(dc.buf, 7, sizeof(dc.buf));
	/* Alternating with the copy baseline so both see the same load. */
	memset(cpy_src, 0x5a, sizeof(cpy_src));
	r->dma = bench_run2(dma_pass, &dc, memcpy_pass, NULL,
			    bench_quick() ? 20000 : 200000, &r->memcpy_alt);
	unmap_gib(&e);

	check(ionest_close(e.cdev), "close cdev");
	check(ionest_close(e.fd), "close iommufd");
	ionest_machine_free(e.m);
	munmap(e.base, GIB + (2u << 20));
}

int main(int argc, char **argv)
{
	struct results mk, vt, sm;
	double store, clear, memcpy4k;

	bench_init(argc, argv, "iommufd");
	store = baseline_store_cold_ns_per_pte();
	clear = baseline_clear_ns_per_pte();
	memcpy4k = baseline_memcpy4k_hot_ns();
	measure("mock0", ionest_mock_iommu_new(NULL), &mk);
	measure("vtd0", ionest_vtd_new(NULL), &vt);
	measure("smmu0", ionest_smmuv3_new(NULL), &sm);

	bench_report("IOAS_MAP 1 GiB, 4K IOPTEs (per page)", mk.map4k, "ns",
		     "store_cold_per_pte", store, 5.0, false);
	bench_report("IOAS_UNMAP 1 GiB, 4K IOPTEs (per page)", mk.unmap4k, "ns",
		     "store_cold_per_pte", store, 5.0, false);
	bench_report("IOAS_UNMAP 1 GiB, 4K IOPTEs (per page), vs clear",
		     mk.unmap4k, "ns", "clear_per_pte", clear, 0, false);
	bench_report("IOAS_MAP 1 GiB, huge pages allowed (per 4K page)",
		     mk.map2m, "ns", "store_cold_per_pte", store, 0, false);
	bench_report("IOAS_UNMAP 1 GiB, huge pages allowed (per 4K page)",
		     mk.unmap2m, "ns", "store_cold_per_pte", store, 0, false);
	bench_report("device DMA 4 KiB, IOTLB hit", 4096.0 / mk.dma, "GB/s",
		     "memcpy4k_hot (alternating)", 4096.0 / mk.memcpy_alt, 0.8,
		     true);
	bench_report("device DMA 4 KiB, IOTLB hit (vs harness baseline)",
		     4096.0 / mk.dma, "GB/s", "memcpy4k_hot", 4096.0 / memcpy4k,
		     0, true);

	/* The same through the VT-d driver and model. */
	bench_report("VT-d: IOAS_MAP 1 GiB, 4K IOPTEs (per page)", vt.map4k,
		     "ns", "store_cold_per_pte", store, 5.0, false);
	bench_report("VT-d: IOAS_UNMAP 1 GiB, 4K IOPTEs (per page)", vt.unmap4k,
		     "ns", "store_cold_per_pte", store, 5.0, false);
	bench_report("VT-d: IOAS_MAP 1 GiB, huge pages allowed (per 4K page)",
		     vt.map2m, "ns", "store_cold_per_pte", store, 0, false);
	bench_report("VT-d: IOAS_UNMAP 1 GiB, huge pages allowed (per 4K page)",
		     vt.unmap2m, "ns", "store_cold_per_pte", store, 0, false);
	bench_report("VT-d: device DMA 4 KiB, IOTLB hit", 4096.0 / vt.dma,
		     "GB/s", "memcpy4k_hot (alternating)",
		     4096.0 / vt.memcpy_alt, 0.8, true);

	/* And through the SMMUv3 driver and model (stage-1 tables, command
	 * queue invalidation, the model's TLB on the DMA path). */
	bench_report("SMMUv3: IOAS_MAP 1 GiB, 4K IOPTEs (per page)", sm.map4k,
		     "ns", "store_cold_per_pte", store, 5.0, false);
	bench_report("SMMUv3: IOAS_UNMAP 1 GiB, 4K IOPTEs (per page)",
		     sm.unmap4k, "ns", "store_cold_per_pte", store, 5.0, false);
	bench_report("SMMUv3: IOAS_MAP 1 GiB, huge pages allowed (per 4K page)",
		     sm.map2m, "ns", "store_cold_per_pte", store, 0, false);
	bench_report(
		"SMMUv3: IOAS_UNMAP 1 GiB, huge pages allowed (per 4K page)",
		sm.unmap2m, "ns", "store_cold_per_pte", store, 0, false);
	bench_report("SMMUv3: device DMA 4 KiB, TLB hit", 4096.0 / sm.dma,
		     "GB/s", "memcpy4k_hot (alternating)",
		     4096.0 / sm.memcpy_alt, 0.8, true);
	return bench_finish();
}
