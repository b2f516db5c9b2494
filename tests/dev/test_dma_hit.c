// SPDX-License-Identifier: MIT
/*
 * The models' DMA hit rules (struct hw_dma_rule, applied by hw_dma_hit)
 * against the full translate, on the mock IOMMU, VT-d and SMMUv3 through
 * their drivers: the same answer and the same counters on a hit, nothing
 * at all on a miss, a permission the entry lacks or after an unmap, and
 * the very next DMA after an unmap faults.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <cmocka.h>
#include <ionest/ionest.h>
#include <ionest/uapi/iommufd.h>
#include <ionest/uapi/vfio.h>

#include "hw/hw.h"
#include "hw/smmuv3/smmu_regs.h"
#include "hw/tlb.h"
#include "hw/vtd/vtd_regs.h"
#include "machine/machine.h"

#define IOVA (1ull << 32)
#define LEN (64ull << 12)

struct env {
	struct ionest_machine *m;
	int fd, cdev, dev;
	uint32_t ioas;
	uint8_t *mem;
	struct ionest_hw *hw;
};

static void env_up(struct env *e, const char *name, struct ionest_hw *hw)
{
	struct ionest_device_config dc = { .iommu = name, .rid = 0x100 };
	struct vfio_device_bind_iommufd b = { .argsz = sizeof(b) };
	struct vfio_device_attach_iommufd_pt a = { .argsz = sizeof(a) };
	struct iommu_ioas_alloc ia = { .size = sizeof(ia) };

	e->m = ionest_machine_new();
	assert_non_null(e->m);
	assert_non_null(hw);
	assert_int_equal(ionest_machine_add_iommu(e->m, name, hw), 0);
	e->dev = ionest_machine_add_device(e->m, &dc);
	assert_true(e->dev >= 0);
	e->fd = ionest_open(e->m, "/dev/iommu", O_RDWR);
	e->cdev = ionest_open(e->m, "/dev/vfio/devices/vfio0", O_RDWR);
	assert_true(e->fd >= 0 && e->cdev >= 0);
	assert_int_equal(ionest_ioctl(e->fd, IOMMU_IOAS_ALLOC, &ia), 0);
	e->ioas = ia.out_ioas_id;
	b.iommufd = e->fd;
	assert_int_equal(ionest_ioctl(e->cdev, VFIO_DEVICE_BIND_IOMMUFD, &b),
			 0);
	a.pt_id = e->ioas;
	assert_int_equal(
		ionest_ioctl(e->cdev, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a), 0);
	e->mem = mmap(NULL, LEN, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(e->mem != MAP_FAILED);
	memset(e->mem, 0x11, LEN);
	e->hw = machine_device(e->m, e->dev)->dev.hw;
	assert_non_null(e->hw);
	/* The model's rule passed hw_dma_rule_set's check. */
	assert_non_null(e->hw->dma.tlb);
}

static void env_down(struct env *e)
{
	assert_int_equal(ionest_close(e->cdev), 0);
	assert_int_equal(ionest_close(e->fd), 0);
	ionest_machine_free(e->m);
	munmap(e->mem, LEN);
}

static void map(struct env *e, uint64_t off, uint64_t len, bool write)
{
	struct iommu_ioas_map m = {
		.size = sizeof(m),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 (write ? IOMMU_IOAS_MAP_WRITEABLE : 0),
		.ioas_id = e->ioas,
		.user_va = (uint64_t)(uintptr_t)(e->mem + off),
		.length = len,
		.iova = IOVA + off,
	};

	assert_int_equal(ionest_ioctl(e->fd, IOMMU_IOAS_MAP, &m), 0);
}

static void unmap(struct env *e, uint64_t off, uint64_t len)
{
	struct iommu_ioas_unmap u = {
		.size = sizeof(u),
		.ioas_id = e->ioas,
		.iova = IOVA + off,
		.length = len,
	};

	assert_int_equal(ionest_ioctl(e->fd, IOMMU_IOAS_UNMAP, &u), 0);
}

struct snap {
	uint64_t v[HW_COUNTER_COUNT];
};

static void snap(struct env *e, struct snap *s)
{
	for (unsigned i = 0; i < HW_COUNTER_COUNT; i++)
		s->v[i] = __atomic_load_n(&e->hw->ctr_val[i], __ATOMIC_RELAXED);
}

static void assert_same_counters(const struct snap *a, const struct snap *b)
{
	for (unsigned i = 0; i < HW_COUNTER_COUNT; i++)
		assert_int_equal(a->v[i], b->v[i]);
}

static bool lean(struct env *e, uint64_t iova, uint32_t access, uint64_t *host,
		 uint64_t *size)
{
	struct hw_dma_hit h =
		hw_dma_hit(e->hw, hw_tlb_key(0x100, 0), iova, access);

	if (!h.size)
		return false;
	*host = h.host;
	*size = h.size;
	return true;
}

static void full(struct env *e, uint64_t iova, uint32_t access,
		 struct ionest_xlate_res *res)
{
	struct ionest_xlate_req req = { .iova = iova,
					.sid = 0x100,
					.access = access };

	assert_int_equal(ionest_hw_translate(e->hw, &req, res), 0);
}

/* A hit answers as translate does and counts as translate does. */
static void check_hit(struct env *e, uint64_t iova, uint32_t access)
{
	struct snap s0, s1, s2;
	struct ionest_xlate_res res;
	uint64_t host = 0, size = 0;

	snap(e, &s0);
	assert_true(lean(e, iova, access, &host, &size));
	snap(e, &s1);
	full(e, iova, access, &res);
	snap(e, &s2);
	assert_int_equal(res.status, IONEST_XLATE_OK);
	assert_int_equal(host, res.addr);
	assert_int_equal(size, res.size);
	assert_ptr_equal((void *)(uintptr_t)host, e->mem + (iova - IOVA));
	for (unsigned i = 0; i < HW_COUNTER_COUNT; i++)
		assert_int_equal(s1.v[i] - s0.v[i], s2.v[i] - s1.v[i]);
	assert_int_equal(s1.v[hw_tlb_hit] - s0.v[hw_tlb_hit], 1);
	assert_int_equal(s1.v[hw_translate] - s0.v[hw_translate], 1);
}

/* A miss changes nothing, and leaves the outputs alone. */
static void check_miss(struct env *e, uint64_t iova, uint32_t access)
{
	struct snap s0, s1;
	uint64_t host = 7, size = 9;

	snap(e, &s0);
	assert_false(lean(e, iova, access, &host, &size));
	snap(e, &s1);
	assert_same_counters(&s0, &s1);
	assert_int_equal(host, 7);
	assert_int_equal(size, 9);
}

static void run(const char *name, struct ionest_hw *hw)
{
	uint8_t buf[4096];
	struct env e;

	env_up(&e, name, hw);
	map(&e, 0, 32ull << 12, true);
	map(&e, 32ull << 12, 32ull << 12, false);

	/* Nothing cached yet: a miss; the DMA fills the TLB. */
	check_miss(&e, IOVA + 4096, IONEST_ACCESS_READ);
	assert_int_equal(ionest_device_dma(e.m, e.dev, IONEST_NO_PASID,
					   IOVA + 4096, buf, 4096,
					   IONEST_DMA_FROM_MEM),
			 0);
	assert_int_equal(buf[0], 0x11);
	check_hit(&e, IOVA + 4096, IONEST_ACCESS_READ);
	check_hit(&e, IOVA + 4096 + 123, IONEST_ACCESS_READ);
	/* Another stream, another PASID key: a miss. */
	{
		struct snap s0, s1;

		snap(&e, &s0);
		assert_int_equal(hw_dma_hit(e.hw, hw_tlb_key(0x101, 0),
					    IOVA + 4096, IONEST_ACCESS_READ)
					 .size,
				 0);
		assert_int_equal(
			hw_dma_hit(e.hw,
				   hw_tlb_key(0x100, 1 | HW_TLB_SSID_VALID),
				   IOVA + 4096, IONEST_ACCESS_READ)
				.size,
			0);
		/* Outside the rule's domain: EXEC, PRIV, no access, a
		 * PASID beyond 20 bits. */
		assert_int_equal(hw_dma_hit(e.hw, hw_tlb_key(0x100, 0),
					    IOVA + 4096, IONEST_ACCESS_EXEC)
					 .size,
				 0);
		assert_int_equal(
			hw_dma_hit(e.hw, hw_tlb_key(0x100, 0), IOVA + 4096,
				   IONEST_ACCESS_READ | IONEST_ACCESS_PRIV)
				.size,
			0);
		assert_int_equal(hw_dma_hit(e.hw, hw_tlb_key(0x100, 0),
					    IOVA + 4096, 0)
					 .size,
				 0);
		assert_int_equal(
			hw_dma_hit(e.hw,
				   hw_tlb_key(0x100,
					      (1u << 20) | HW_TLB_SSID_VALID),
				   IOVA + 4096, IONEST_ACCESS_READ)
				.size,
			0);
		snap(&e, &s1);
		assert_same_counters(&s0, &s1);
	}

	/* Translation off: the rule does not hit (translate decides). */
	if (!strcmp(name, "smmu0") || !strcmp(name, "vtd0")) {
		bool smmu = !strcmp(name, "smmu0");
		uint64_t v = 0;

		assert_int_equal(ionest_hw_mmio_read(
					 e.hw, smmu ? SMMU_CR0 : VTD_REG_GSTS,
					 4, &v),
				 0);
		if (smmu)
			assert_int_equal(
				ionest_hw_mmio_write(e.hw, SMMU_CR0, 4,
						     v & ~(uint64_t)CR0_SMMUEN),
				0);
		else
			assert_int_equal(
				ionest_hw_mmio_write(e.hw, VTD_REG_GCMD, 4,
						     v & (VTD_GSTS_QIES)),
				0);
		check_miss(&e, IOVA + 4096, IONEST_ACCESS_READ);
		if (smmu)
			assert_int_equal(
				ionest_hw_mmio_write(e.hw, SMMU_CR0, 4, v), 0);
		else
			assert_int_equal(
				ionest_hw_mmio_write(e.hw, VTD_REG_GCMD, 4,
						     v & (VTD_GSTS_QIES |
							  VTD_GSTS_TES)),
				0);
		assert_int_equal(ionest_device_dma(e.m, e.dev, IONEST_NO_PASID,
						   IOVA + 4096, buf, 4096,
						   IONEST_DMA_FROM_MEM),
				 0);
		check_hit(&e, IOVA + 4096, IONEST_ACCESS_READ);
	}

	/* Write DMA through the lean path lands in memory. */
	memset(buf, 0x5a, sizeof(buf));
	assert_int_equal(ionest_device_dma(e.m, e.dev, IONEST_NO_PASID,
					   IOVA + 8192, buf, 4096,
					   IONEST_DMA_TO_MEM),
			 0);
	assert_int_equal(ionest_device_dma(e.m, e.dev, IONEST_NO_PASID,
					   IOVA + 8192, buf, 4096,
					   IONEST_DMA_TO_MEM),
			 0);
	assert_int_equal(e.mem[8192], 0x5a);
	assert_int_equal(e.mem[8192 + 4095], 0x5a);
	check_hit(&e, IOVA + 8192, IONEST_ACCESS_WRITE);

	/* Read-only page: read hits, write does not (and faults). */
	assert_int_equal(ionest_device_dma(e.m, e.dev, IONEST_NO_PASID,
					   IOVA + (40ull << 12), buf, 4096,
					   IONEST_DMA_FROM_MEM),
			 0);
	check_hit(&e, IOVA + (40ull << 12), IONEST_ACCESS_READ);
	check_miss(&e, IOVA + (40ull << 12), IONEST_ACCESS_WRITE);
	assert_int_equal(ionest_device_dma(e.m, e.dev, IONEST_NO_PASID,
					   IOVA + (40ull << 12), buf, 4096,
					   IONEST_DMA_TO_MEM),
			 -EFAULT);
	assert_int_equal(e.mem[40 << 12], 0x11);

	/* After unmap: no hit, and the very next DMA faults. */
	unmap(&e, 0, 32ull << 12);
	check_miss(&e, IOVA + 8192, IONEST_ACCESS_WRITE);
	check_miss(&e, IOVA + 4096, IONEST_ACCESS_READ);
	assert_int_equal(ionest_device_dma(e.m, e.dev, IONEST_NO_PASID,
					   IOVA + 8192, buf, 4096,
					   IONEST_DMA_TO_MEM),
			 -EFAULT);
	env_down(&e);
}

/* ---- hw_dma_rule_set holds a rule's masks to the model's predicate ---- */

static bool serves_perm(uint32_t f, uint32_t a, bool pasid)
{
	return (f & a) == a;
}

static bool serves_deny(uint32_t f, uint32_t a, bool pasid)
{
	return (f & a) == a && (f & 0x18) != 0x18;
}

static bool serves_by_pasid(uint32_t f, uint32_t a, bool pasid)
{
	return (f & a) == a && (!pasid || (f & 0x40));
}

static void test_rule_checked(void **state)
{
	struct ionest_hw *hw = calloc(1, sizeof(*hw));
	static const uint32_t on = 1;
	struct hw_tlb t;

	assert_non_null(hw);
	assert_int_equal(hw_tlb_init(&t, 64), 0);
	assert_true(hw_dma_rule_set(hw, &t, &on, 1, 1, 1, 2, 0, serves_perm));
	assert_ptr_equal(hw->dma.tlb, &t);
	assert_int_equal(hw->dma.need[0], 1);
	assert_int_equal(hw->dma.need[1], 2);
	assert_int_equal(hw->dma.deny, 0x100);
	/* A mask that asks for more (or less) than the predicate. */
	assert_false(hw_dma_rule_set(hw, &t, &on, 1, 1, 3, 2, 0, serves_perm));
	assert_null(hw->dma.tlb);
	assert_false(hw_dma_rule_set(hw, &t, &on, 1, 1, 1, 0, 0, serves_perm));
	assert_null(hw->dma.tlb);
	/* A denial the masks leave out, or one they add. */
	assert_false(hw_dma_rule_set(hw, &t, &on, 1, 1, 1, 2, 0, serves_deny));
	assert_true(
		hw_dma_rule_set(hw, &t, &on, 1, 1, 1, 2, 0x18, serves_deny));
	assert_int_equal(hw->dma.deny, 0x18);
	assert_false(
		hw_dma_rule_set(hw, &t, &on, 1, 1, 1, 2, 0x18, serves_perm));
	/* A rule that depends on the PASID has no masks. */
	assert_false(
		hw_dma_rule_set(hw, &t, &on, 1, 1, 1, 2, 0, serves_by_pasid));
	assert_false(hw_dma_rule_set(hw, &t, &on, 1, 1, 0x41, 0x42, 0,
				     serves_by_pasid));
	assert_null(hw->dma.tlb);
	/* Without a rule there is no hit, and a context has no sets. */
	{
		struct hw_dma_ctx c;

		assert_int_equal(hw_dma_hit(hw, hw_tlb_key(1, 0), 0,
					    IONEST_ACCESS_READ)
					 .size,
				 0);
		hw_dma_ctx_init(&c, hw, 1);
		assert_null(c.sets);
		assert_int_equal(c.key, hw_tlb_key(1, 0));
		hw_dma_ctx_init(&c, NULL, 2);
		assert_null(c.sets);
	}
	hw_tlb_fini(&t);
	free(hw);
}

static void test_mock(void **state)
{
	run("mock0", ionest_mock_iommu_new(NULL));
}

static void test_vtd(void **state)
{
	run("vtd0", ionest_vtd_new(NULL));
}

static void test_smmuv3(void **state)
{
	run("smmu0", ionest_smmuv3_new(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mock),
		cmocka_unit_test(test_vtd),
		cmocka_unit_test(test_smmuv3),
		cmocka_unit_test(test_rule_checked),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
