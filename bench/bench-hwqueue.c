// SPDX-License-Identifier: MIT
/*
 * Invalidation throughput (issue 7): guest invalidation commands per second
 * through a vIOMMU, handed over
 *   - with IOMMU_HWPT_INVALIDATE, one command per ioctl (a VMM that traps
 *     every command),
 *   - with IOMMU_HWPT_INVALIDATE, 64 commands per ioctl (a VMM that
 *     batches up to the guest's CMD_SYNC),
 *   - through an IOMMU_HW_QUEUE_TYPE_IONEST_CMDQ ring in guest memory, 64
 *     commands per ionest_hw_queue_doorbell() (the guest writes the ring
 *     and PROD, no ioctl), and one per doorbell for comparison,
 * each as a ratio to the one-per-ioctl rate measured in the same run, and
 * that rate against a bare loop that only writes the commands (the plain
 * reference: what producing them costs). Each way writes its commands into
 * memory first, as a guest or VMM would. On the SMMUv3 model and driver
 * (TLBI_NH_VA by ASID and address, through the driver's command queue and
 * CMD_SYNC) and on the mock (a 4 KiB range by virtual ID).
 *
 * The TLB holds no entries of the guest's ASID: this measures the cost of
 * delivering and executing commands, not of the entries they drop. The
 * caches' directories (lib/hw/tlb.h) let such a command return without
 * looking at the caches, so the default caches (a 4096-entry TLB,
 * 4096-entry stage-2 and 1024-entry stage-1 walk caches) and "SMMUv3 small
 * TLB" (48 and 4 entries) should run at about the same rate: both show the
 * delivery cost. One command per doorbell against one per ioctl is the
 * same driver work delivered two ways.
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

#define BATCH 64
#define RING 256 /* entries */
#define GPA 0x40000000ull
#define RAM (1u << 20)
#define VSID 0x42u
#define GASID 7ull

struct env {
	const char *name;
	struct ionest_machine *m;
	int fd, cdev;
	uint32_t viommu, queue, data_type, entry_len;
	uint8_t *ram; /* guest RAM at GPA */
	uint8_t *ring; /* RING entries at GPA */
	uint8_t cmds[BATCH * 32]; /* a VMM's array for HWPT_INVALIDATE */
	uint32_t prod;
	uint8_t bare[RING * 32]; /* the bare loop's ring */
	uint32_t bare_prod;
	uint64_t va; /* the next page named */
	bool smmu;
};

static void check(long rc, const char *what)
{
	if (rc) {
		fprintf(stderr, "bench-hwqueue: %s failed (%ld)\n", what, rc);
		exit(1);
	}
}

/* The next command: one 4K page, a different one each time. */
static void make_cmd(struct env *e, uint8_t *dst)
{
	uint64_t va = 0x100000 + ((e->va++ & 0xffff) << 12);

	if (e->smmu) {
		uint64_t c[2] = { 0x12 /* CMD_TLBI_NH_VA */ | GASID << 48, va };

		memcpy(dst, c, sizeof(c));
	} else {
		struct ionest_mock_viommu_invalidate m = {
			.virt_id = VSID,
			.iova = va,
			.length = 4096,
		};

		memcpy(dst, &m, sizeof(m));
	}
}

static void setup(struct env *e, const char *name, struct ionest_hw *hw,
		  bool smmu)
{
	struct ionest_device_config dc = { .iommu = name, .rid = 0x100 };
	struct vfio_device_bind_iommufd b = { .argsz = sizeof(b) };
	struct iommu_ioas_alloc ia = { .size = sizeof(ia) };
	struct iommu_ioas_map map = { .size = sizeof(map) };
	struct iommu_hwpt_alloc ha = { .size = sizeof(ha) };
	struct iommu_viommu_alloc va = { .size = sizeof(va) };
	struct iommu_vdevice_alloc vd = { .size = sizeof(vd) };
	struct iommu_hw_queue_alloc qa = { .size = sizeof(qa) };

	memset(e, 0, sizeof(*e));
	e->name = name;
	e->smmu = smmu;
	e->data_type = smmu ? IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3 :
			      IONEST_MOCK_INVALIDATE_VIOMMU;
	e->entry_len =
		smmu ? sizeof(struct iommu_viommu_arm_smmuv3_invalidate) :
		       sizeof(struct ionest_mock_viommu_invalidate);
	e->m = ionest_machine_new();
	check(!e->m || !hw, "machine");
	check(ionest_machine_add_iommu(e->m, name, hw), "add_iommu");
	check(ionest_machine_add_device(e->m, &dc) < 0, "add_device");
	e->fd = ionest_open(e->m, "/dev/iommu", O_RDWR);
	e->cdev = ionest_open(e->m, "/dev/vfio/devices/vfio0", O_RDWR);
	check(e->fd < 0 || e->cdev < 0, "open");
	b.iommufd = e->fd;
	check(ionest_ioctl(e->cdev, VFIO_DEVICE_BIND_IOMMUFD, &b), "bind");
	check(ionest_ioctl(e->fd, IOMMU_IOAS_ALLOC, &ia), "IOAS_ALLOC");
	e->ram = mmap(NULL, RAM, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	check(e->ram == MAP_FAILED, "mmap");
	memset(e->ram, 0, RAM);
	map.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
		    IOMMU_IOAS_MAP_WRITEABLE;
	map.ioas_id = ia.out_ioas_id;
	map.user_va = (uint64_t)(uintptr_t)e->ram;
	map.length = RAM;
	map.iova = GPA;
	check(ionest_ioctl(e->fd, IOMMU_IOAS_MAP, &map), "IOAS_MAP");
	ha.dev_id = b.out_devid;
	ha.pt_id = ia.out_ioas_id;
	ha.flags = IOMMU_HWPT_ALLOC_NEST_PARENT;
	check(ionest_ioctl(e->fd, IOMMU_HWPT_ALLOC, &ha), "HWPT_ALLOC");
	va.type = smmu ? IOMMU_VIOMMU_TYPE_ARM_SMMUV3 : IONEST_MOCK_VIOMMU;
	va.dev_id = b.out_devid;
	va.hwpt_id = ha.out_hwpt_id;
	check(ionest_ioctl(e->fd, IOMMU_VIOMMU_ALLOC, &va), "VIOMMU_ALLOC");
	e->viommu = va.out_viommu_id;
	vd.viommu_id = e->viommu;
	vd.dev_id = b.out_devid;
	vd.virt_id = VSID;
	check(ionest_ioctl(e->fd, IOMMU_VDEVICE_ALLOC, &vd), "VDEVICE_ALLOC");
	qa.viommu_id = e->viommu;
	qa.type = IOMMU_HW_QUEUE_TYPE_IONEST_CMDQ;
	qa.nesting_parent_iova = GPA;
	qa.length = RING * e->entry_len;
	check(ionest_ioctl(e->fd, IOMMU_HW_QUEUE_ALLOC, &qa), "HW_QUEUE_ALLOC");
	e->queue = qa.out_hw_queue_id;
	e->ring = e->ram;
}

static void teardown(struct env *e)
{
	check(ionest_close(e->cdev), "close cdev");
	check(ionest_close(e->fd), "close iommufd");
	ionest_machine_free(e->m);
	munmap(e->ram, RAM);
}

static void invalidate(struct env *e, uint32_t n)
{
	struct iommu_hwpt_invalidate c = {
		.size = sizeof(c),
		.hwpt_id = e->viommu,
		.data_uptr = (uint64_t)(uintptr_t)e->cmds,
		.data_type = e->data_type,
		.entry_len = e->entry_len,
		.entry_num = n,
	};

	if (ionest_ioctl(e->fd, IOMMU_HWPT_INVALIDATE, &c) || c.entry_num != n)
		abort();
}

/* One iteration = BATCH commands, every way. */
static void ioctl_one(void *ctx, uint64_t iters)
{
	struct env *e = ctx;

	while (iters--) {
		for (unsigned i = 0; i < BATCH; i++) {
			make_cmd(e, e->cmds);
			invalidate(e, 1);
		}
	}
}

static void ioctl_batch(void *ctx, uint64_t iters)
{
	struct env *e = ctx;

	while (iters--) {
		for (unsigned i = 0; i < BATCH; i++)
			make_cmd(e, e->cmds + i * e->entry_len);
		invalidate(e, BATCH);
	}
}

static void ring_put(struct env *e)
{
	make_cmd(e, e->ring + (e->prod & (RING - 1)) * e->entry_len);
	e->prod = (e->prod + 1) & (2 * RING - 1);
}

static void doorbell(struct env *e)
{
	if (ionest_hw_queue_doorbell(e->fd, e->queue, e->prod))
		abort();
}

static void queue_batch(void *ctx, uint64_t iters)
{
	struct env *e = ctx;

	while (iters--) {
		for (unsigned i = 0; i < BATCH; i++)
			ring_put(e);
		doorbell(e);
	}
}

static void queue_one(void *ctx, uint64_t iters)
{
	struct env *e = ctx;

	while (iters--) {
		for (unsigned i = 0; i < BATCH; i++) {
			ring_put(e);
			doorbell(e);
		}
	}
}

/* The plain reference: only writing the commands into a ring of its own
 * (the same size, the queue's PROD untouched). */
static void bare_loop(void *ctx, uint64_t iters)
{
	struct env *e = ctx;

	while (iters--) {
		for (unsigned i = 0; i < BATCH; i++) {
			make_cmd(e, e->bare + (e->bare_prod & (RING - 1)) *
						      e->entry_len);
			e->bare_prod++;
		}
		bench_clobber();
	}
}

struct rates {
	double one, batch, queue, queue_one, bare; /* Mcmd/s */
};

static double mcmds(double ns_per_batch)
{
	return 1e3 * BATCH / ns_per_batch;
}

static void measure(const char *name, struct ionest_hw *hw, bool smmu,
		    struct rates *r)
{
	struct env e;
	uint64_t n = bench_quick() ? 24 : 200;
	struct ionest_hw_queue_regs regs;
	double one, bare;

	setup(&e, name, hw, smmu);
	/* Warm every path once. */
	ioctl_one(&e, 1);
	ioctl_batch(&e, 1);
	queue_batch(&e, 1);
	one = bench_run2(ioctl_one, &e, bare_loop, &e, n / 4, &bare);
	r->one = mcmds(one);
	r->bare = mcmds(bare);
	r->batch = mcmds(bench_run(ioctl_batch, &e, n));
	r->queue = mcmds(bench_run(queue_batch, &e, n));
	r->queue_one = mcmds(bench_run(queue_one, &e, n / 4));
	/* Every command was consumed, none refused. */
	check(ionest_hw_queue_read_regs(e.fd, e.queue, &regs), "read_regs");
	check(regs.err || regs.cons != e.prod, "queue state");
	teardown(&e);
}

static void report(const char *iommu, const struct rates *r)
{
	char name[128];

	snprintf(name, sizeof(name), "%s: HWPT_INVALIDATE, 1 command/ioctl",
		 iommu);
	bench_report(name, r->one, "Mcmd/s", "bare loop writing commands",
		     r->bare, 0, true);
	snprintf(name, sizeof(name), "%s: HWPT_INVALIDATE, %u commands/ioctl",
		 iommu, BATCH);
	bench_report(name, r->batch, "Mcmd/s", "1 command/ioctl", r->one, 0,
		     true);
	snprintf(name, sizeof(name), "%s: HW queue, %u commands/doorbell",
		 iommu, BATCH);
	bench_report(name, r->queue, "Mcmd/s", "1 command/ioctl", r->one, 0,
		     true);
	snprintf(name, sizeof(name), "%s: HW queue, 1 command/doorbell", iommu);
	bench_report(name, r->queue_one, "Mcmd/s", "1 command/ioctl", r->one, 0,
		     true);
}

int main(int argc, char **argv)
{
	/* Caches small enough that scanning them costs little next to
	 * delivering a command: what the delivery itself costs. */
	struct ionest_smmuv3_config small = {
		.s2wc_log2 = IONEST_CFG(2),
		.tlb_entries = 48,
	};
	struct rates sm, ss, mk;

	bench_init(argc, argv, "hwqueue");
	measure("smmu0", ionest_smmuv3_new(NULL), true, &sm);
	measure("smmu1", ionest_smmuv3_new(&small), true, &ss);
	measure("mock0", ionest_mock_iommu_new(NULL), false, &mk);
	report("SMMUv3", &sm);
	report("SMMUv3 small TLB", &ss);
	report("mock", &mk);
	return bench_finish();
}
