// SPDX-License-Identifier: MIT
/*
 * End to end on the mock IOMMU: map memory, bind and attach devices (RID
 * and PASIDs), DMA that lands in the right bytes, faults, unmap visible to
 * the very next DMA, DMA concurrent with map/unmap.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fixture.h"

#define LEN (64 * FX_PAGE)

struct env {
	struct fx f;
	uint32_t ioas, hwpt;
	uint8_t *mem;
};

static int env_up(void **state)
{
	struct env *e = calloc(1, sizeof(*e));

	fx_setup(&e->f, NULL, 2);
	e->ioas = fx_ioas(e->f.fd);
	e->mem = fx_alloc(LEN, FX_PAGE);
	assert_int_equal(fx_bind(&e->f, 0), 0);
	assert_int_equal(fx_bind(&e->f, 1), 0);
	*state = e;
	return 0;
}

static int env_down(void **state)
{
	struct env *e = *state;

	fx_teardown(&e->f);
	fx_free(e->mem, LEN);
	free(e);
	return 0;
}

static void test_dma_lands_in_right_bytes(void **state)
{
	struct env *e = *state;
	uint8_t out[6000], in[6000];
	uint32_t pt = e->ioas;

	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)(i * 7 + 1);
	assert_int_equal(fx_map_fixed(e->f.fd, e->ioas, e->mem, LEN, 0x100000),
			 0);
	assert_int_equal(fx_attach(&e->f, 0, &pt), 0);
	assert_true(pt != e->ioas);
	/* Crosses a page boundary: two translations. */
	assert_int_equal(fx_dma_write(&e->f, 0, IONEST_NO_PASID,
				      0x100000 + 3000, out, sizeof(out)),
			 0);
	assert_memory_equal(e->mem + 3000, out, sizeof(out));
	assert_int_equal(e->mem[2999], 0);
	assert_int_equal(e->mem[3000 + sizeof(out)], 0);
	memset(e->mem + 8 * FX_PAGE, 0x5a, 100);
	assert_int_equal(fx_dma_read(&e->f, 0, IONEST_NO_PASID,
				     0x100000 + 8 * FX_PAGE, in, 100),
			 0);
	for (int i = 0; i < 100; i++)
		assert_int_equal(in[i], 0x5a);
}

static void test_iotlb_hits_and_invalidation(void **state)
{
	struct env *e = *state;
	const char *hw = ionest_hw_name(ionest_machine_iommu(e->f.m, "iommu0"));
	uint64_t hits0, hits1, walks0, walks1;
	uint32_t pt = e->ioas;
	uint8_t b[8] = { 3 };

	assert_non_null(hw);
	assert_int_equal(fx_map_fixed(e->f.fd, e->ioas, e->mem, LEN, 0x100000),
			 0);
	assert_int_equal(fx_attach(&e->f, 0, &pt), 0);
	assert_int_equal(
		fx_dma_write(&e->f, 0, IONEST_NO_PASID, 0x100000, b, 8), 0);
	assert_int_equal(ionest_counter_get(hw, "tlb_hit", &hits0), 0);
	assert_int_equal(ionest_counter_get(hw, "walk", &walks0), 0);
	/* Same page again: an IOTLB hit, no walk. */
	assert_int_equal(
		fx_dma_write(&e->f, 0, IONEST_NO_PASID, 0x100010, b, 8), 0);
	assert_int_equal(ionest_counter_get(hw, "tlb_hit", &hits1), 0);
	assert_int_equal(ionest_counter_get(hw, "walk", &walks1), 0);
	assert_int_equal(hits1, hits0 + 1);
	assert_int_equal(walks1, walks0);
	/* Another device never hits on this device's entries. */
	pt = e->ioas;
	assert_int_equal(fx_attach(&e->f, 1, &pt), 0);
	assert_int_equal(
		fx_dma_write(&e->f, 1, IONEST_NO_PASID, 0x100010, b, 8), 0);
	assert_int_equal(ionest_counter_get(hw, "walk", &walks1), 0);
	assert_int_equal(walks1, walks0 + 1);
	/* A remap of the same IOVA to other memory is seen at once. */
	assert_int_equal(fx_unmap(e->f.fd, e->ioas, 0x100000, LEN, NULL), 0);
	assert_int_equal(fx_map_fixed(e->f.fd, e->ioas, e->mem + FX_PAGE,
				      FX_PAGE, 0x100000),
			 0);
	b[0] = 0x44;
	assert_int_equal(
		fx_dma_write(&e->f, 0, IONEST_NO_PASID, 0x100000, b, 1), 0);
	assert_int_equal(e->mem[FX_PAGE], 0x44);
	assert_int_equal(e->mem[0], 3);
}

static void test_dma_unmapped_faults(void **state)
{
	struct env *e = *state;
	struct ionest_dma_fault fl;
	uint32_t pt = e->ioas;
	uint8_t b[16] = { 1 };

	assert_int_equal(ionest_device_last_fault(e->f.m, e->f.dev[0], &fl),
			 -ENOENT);
	assert_int_equal(fx_map_fixed(e->f.fd, e->ioas, e->mem, LEN, 0x100000),
			 0);
	assert_int_equal(fx_attach(&e->f, 0, &pt), 0);
	assert_int_equal(fx_dma_write(&e->f, 0, IONEST_NO_PASID, 0x100000 + LEN,
				      b, sizeof(b)),
			 -EFAULT);
	assert_int_equal(ionest_device_last_fault(e->f.m, e->f.dev[0], &fl), 0);
	assert_int_equal(fl.code, IONEST_MOCK_FAULT_TRANSLATION);
	assert_int_equal(fl.iova, 0x100000 + LEN);
	assert_int_equal(fl.pasid, IONEST_NO_PASID);
	assert_int_equal(fl.access, IONEST_ACCESS_WRITE);
	assert_int_equal(fl.status, IONEST_XLATE_FAULT);
	assert_int_equal(fl.count, 1);
	/* A DMA that starts mapped and runs off the end copies the mapped
	 * part and faults at the first unmapped page. */
	memset(e->mem + LEN - FX_PAGE, 0, FX_PAGE);
	{
		uint8_t big[2 * FX_PAGE];

		memset(big, 0x33, sizeof(big));
		assert_int_equal(fx_dma_write(&e->f, 0, IONEST_NO_PASID,
					      0x100000 + LEN - FX_PAGE, big,
					      sizeof(big)),
				 -EFAULT);
		assert_int_equal(e->mem[LEN - 1], 0x33);
		assert_int_equal(
			ionest_device_last_fault(e->f.m, e->f.dev[0], &fl), 0);
		assert_int_equal(fl.iova, 0x100000 + LEN);
		assert_int_equal(fl.count, 2);
	}
}

static void test_dma_blocked_before_attach(void **state)
{
	struct env *e = *state;
	struct ionest_dma_fault fl;
	uint8_t b[8];

	assert_int_equal(fx_map_fixed(e->f.fd, e->ioas, e->mem, LEN, 0x100000),
			 0);
	assert_int_equal(fx_dma_read(&e->f, 1, IONEST_NO_PASID, 0x100000, b,
				     sizeof(b)),
			 -EFAULT);
	assert_int_equal(ionest_device_last_fault(e->f.m, e->f.dev[1], &fl), 0);
	assert_int_equal(fl.code, IONEST_MOCK_FAULT_BLOCKED);
	/* Detach blocks again. */
	{
		uint32_t pt = e->ioas;

		assert_int_equal(fx_attach(&e->f, 1, &pt), 0);
		assert_int_equal(fx_dma_read(&e->f, 1, IONEST_NO_PASID,
					     0x100000, b, sizeof(b)),
				 0);
		assert_int_equal(fx_detach(&e->f, 1), 0);
		assert_int_equal(fx_dma_read(&e->f, 1, IONEST_NO_PASID,
					     0x100000, b, sizeof(b)),
				 -EFAULT);
	}
}

static void test_unmap_visible_to_next_dma(void **state)
{
	struct env *e = *state;
	uint32_t pt = e->ioas;
	uint64_t unmapped;
	uint8_t b[64];

	assert_int_equal(fx_attach(&e->f, 0, &pt), 0);
	for (int round = 0; round < 50; round++) {
		assert_int_equal(fx_map_fixed(e->f.fd, e->ioas, e->mem,
					      4 * FX_PAGE, 0x200000),
				 0);
		assert_int_equal(fx_dma_read(&e->f, 0, IONEST_NO_PASID,
					     0x200000 + FX_PAGE, b, sizeof(b)),
				 0);
		assert_int_equal(fx_unmap(e->f.fd, e->ioas, 0x200000,
					  4 * FX_PAGE, &unmapped),
				 0);
		assert_int_equal(unmapped, 4 * FX_PAGE);
		assert_int_equal(fx_dma_read(&e->f, 0, IONEST_NO_PASID,
					     0x200000 + FX_PAGE, b, sizeof(b)),
				 -EFAULT);
	}
}

static void test_read_only_mapping_blocks_writes(void **state)
{
	struct env *e = *state;
	struct ionest_dma_fault fl;
	uint64_t iova = 0x400000;
	uint32_t pt = e->ioas;
	uint8_t b[8] = { 9 };

	assert_int_equal(fx_map(e->f.fd, e->ioas, e->mem, FX_PAGE, &iova,
				IOMMU_IOAS_MAP_FIXED_IOVA |
					IOMMU_IOAS_MAP_READABLE),
			 0);
	assert_int_equal(fx_attach(&e->f, 0, &pt), 0);
	assert_int_equal(fx_dma_read(&e->f, 0, IONEST_NO_PASID, iova, b, 8), 0);
	assert_int_equal(fx_dma_write(&e->f, 0, IONEST_NO_PASID, iova, b, 8),
			 -EFAULT);
	assert_int_equal(ionest_device_last_fault(e->f.m, e->f.dev[0], &fl), 0);
	assert_int_equal(fl.code, IONEST_MOCK_FAULT_PERMISSION);
	assert_int_equal(e->mem[0], 0);
}

static void test_dma_bad_args(void **state)
{
	struct env *e = *state;
	uint8_t b[8];

	assert_int_equal(ionest_device_dma(e->f.m, 99, IONEST_NO_PASID, 0, b, 8,
					   IONEST_DMA_TO_MEM),
			 -EINVAL);
	assert_int_equal(ionest_device_dma(e->f.m, -1, IONEST_NO_PASID, 0, b, 8,
					   IONEST_DMA_TO_MEM),
			 -EINVAL);
	assert_int_equal(ionest_device_dma(e->f.m, 0, IONEST_NO_PASID, 0, b, 8,
					   7),
			 -EINVAL);
	assert_int_equal(ionest_device_dma(e->f.m, 0, IONEST_NO_PASID, 0, NULL,
					   8, IONEST_DMA_TO_MEM),
			 -EINVAL);
	/* 8 PASID bits: PASID 256 is beyond the device */
	assert_int_equal(ionest_device_dma(e->f.m, 0, 256, 0, b, 8,
					   IONEST_DMA_TO_MEM),
			 -EINVAL);
	assert_int_equal(ionest_device_dma(e->f.m, 0, IONEST_NO_PASID,
					   UINT64_MAX - 2, b, 8,
					   IONEST_DMA_TO_MEM),
			 -EINVAL);
	assert_int_equal(ionest_device_dma(NULL, 0, IONEST_NO_PASID, 0, b, 8,
					   IONEST_DMA_TO_MEM),
			 -EINVAL);
	/* zero length is a no-op */
	assert_int_equal(ionest_device_dma(e->f.m, 0, IONEST_NO_PASID, 0, b, 0,
					   IONEST_DMA_TO_MEM),
			 0);
	assert_int_equal(ionest_device_last_fault(e->f.m, 99, NULL), -EINVAL);
}

static void test_pasid_dma_uses_pasid_domain(void **state)
{
	struct env *e = *state;
	uint8_t *mem2 = fx_alloc(4 * FX_PAGE, FX_PAGE);
	uint32_t ioas2 = fx_ioas(e->f.fd), hwpt_rid, hwpt_pasid;
	uint8_t b[4] = { 1, 2, 3, 4 };

	assert_int_equal(fx_map_fixed(e->f.fd, e->ioas, e->mem, 4 * FX_PAGE,
				      0x100000),
			 0);
	assert_int_equal(
		fx_map_fixed(e->f.fd, ioas2, mem2, 4 * FX_PAGE, 0x100000), 0);
	assert_int_equal(fx_hwpt_alloc(e->f.fd, e->f.devid[0], e->ioas,
				       IOMMU_HWPT_ALLOC_PASID, &hwpt_rid),
			 0);
	assert_int_equal(fx_hwpt_alloc(e->f.fd, e->f.devid[0], ioas2,
				       IOMMU_HWPT_ALLOC_PASID, &hwpt_pasid),
			 0);
	assert_int_equal(fx_attach(&e->f, 0, &hwpt_rid), 0);
	assert_int_equal(fx_attach_pasid(&e->f, 0, 5, &hwpt_pasid), 0);
	assert_int_equal(fx_dma_write(&e->f, 0, 5, 0x100010, b, 4), 0);
	assert_memory_equal(mem2 + 0x10, b, 4);
	assert_int_equal(e->mem[0x10], 0);
	b[0] = 42;
	assert_int_equal(
		fx_dma_write(&e->f, 0, IONEST_NO_PASID, 0x100010, b, 4), 0);
	assert_int_equal(e->mem[0x10], 42);
	assert_int_equal(mem2[0x10], 1);
	/* An unattached PASID is blocked. */
	assert_int_equal(fx_dma_write(&e->f, 0, 6, 0x100010, b, 4), -EFAULT);
	assert_int_equal(fx_detach_pasid(&e->f, 0, 5), 0);
	assert_int_equal(fx_dma_write(&e->f, 0, 5, 0x100010, b, 4), -EFAULT);
	assert_int_equal(fx_detach(&e->f, 0), 0);
	assert_int_equal(fx_destroy(e->f.fd, hwpt_rid), 0);
	assert_int_equal(fx_destroy(e->f.fd, hwpt_pasid), 0);
	fx_free(mem2, 4 * FX_PAGE);
}

static void test_huge_mapping_dma(void **state)
{
	struct env *e = *state;
	size_t len = 4u << 20;
	uint8_t *big = fx_alloc(len, 2u << 20);
	uint64_t iova = 0;
	uint32_t pt = e->ioas;
	uint8_t b[3 * FX_PAGE];

	memset(b, 0x77, sizeof(b));
	/* Automatic IOVA keeps the 2 MiB alignment of the source. */
	assert_int_equal(fx_map(e->f.fd, e->ioas, big, len, &iova,
				IOMMU_IOAS_MAP_READABLE |
					IOMMU_IOAS_MAP_WRITEABLE),
			 0);
	assert_int_equal(iova % (2u << 20), 0);
	assert_true(iova != 0);
	assert_int_equal(fx_attach(&e->f, 0, &pt), 0);
	/* Crosses the 2 MiB boundary. */
	assert_int_equal(fx_dma_write(&e->f, 0, IONEST_NO_PASID,
				      iova + (2u << 20) - FX_PAGE, b,
				      sizeof(b)),
			 0);
	assert_memory_equal(big + (2u << 20) - FX_PAGE, b, sizeof(b));
	assert_int_equal(fx_unmap(e->f.fd, e->ioas, iova, len, NULL), 0);
	assert_int_equal(fx_dma_write(&e->f, 0, IONEST_NO_PASID, iova, b, 8),
			 -EFAULT);
	fx_free(big, len);
}

static void test_map_file_dma(void **state)
{
	struct env *e = *state;
	int mfd = memfd_create("ionest-test", MFD_CLOEXEC);
	struct iommu_ioas_map_file mf = {
		.size = sizeof(mf),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = e->ioas,
		.fd = mfd,
		.start = FX_PAGE,
		.length = 4 * FX_PAGE,
		.iova = 0x300000,
	};
	uint32_t pt = e->ioas;
	char msg[] = "hello from the file", got[sizeof(msg)] = { 0 };

	assert_true(mfd >= 0);
	assert_int_equal(ftruncate(mfd, 8 * FX_PAGE), 0);
	assert_int_equal(pwrite(mfd, msg, sizeof(msg), FX_PAGE + 100),
			 (ssize_t)sizeof(msg));
	assert_int_equal(fx_ioctl(e->f.fd, IOMMU_IOAS_MAP_FILE, &mf), 0);
	/* The library keeps its own mapping: closing our fd is fine. */
	close(mfd);
	assert_int_equal(fx_attach(&e->f, 0, &pt), 0);
	assert_int_equal(fx_dma_read(&e->f, 0, IONEST_NO_PASID, 0x300000 + 100,
				     got, sizeof(got)),
			 0);
	assert_string_equal(got, msg);
}

/* ---- DMA concurrent with map/unmap ---- */

struct racer {
	struct env *e;
	volatile int stop;
	volatile uint64_t ok, faults;
};

static void *dma_thread(void *p)
{
	struct racer *r = p;
	uint8_t b[256];

	memset(b, 0xab, sizeof(b));
	while (!r->stop) {
		int rc = fx_dma_write(&r->e->f, 0, IONEST_NO_PASID,
				      0x500000 + 128, b, sizeof(b));

		if (rc == 0)
			r->ok++;
		else if (rc == -EFAULT)
			r->faults++;
		else
			abort();
	}
	return NULL;
}

static void test_dma_concurrent_with_map_unmap(void **state)
{
	struct env *e = *state;
	struct racer r = { .e = e };
	pthread_t t[2];
	uint32_t pt = e->ioas;

	assert_int_equal(fx_attach(&e->f, 0, &pt), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, dma_thread, &r),
				 0);
	for (int i = 0; i < 300; i++) {
		/* Different backing each round: a write after unmap would
		 * land in the wrong buffer and be caught below. */
		uint8_t *page = e->mem + (i % 8) * 8 * FX_PAGE;

		memset(page, 0, 8 * FX_PAGE);
		uint64_t ok0;

		assert_int_equal(fx_map_fixed(e->f.fd, e->ioas, page,
					      8 * FX_PAGE, 0x500000),
				 0);
		/* Let DMA land while mapped, so the unmap races with it. */
		ok0 = r.ok;
		for (long spin = 0; r.ok == ok0; spin++) {
			assert_true(spin < 100000000);
			sched_yield();
		}
		assert_int_equal(fx_unmap(e->f.fd, e->ioas, 0x500000,
					  8 * FX_PAGE, NULL),
				 0);
		/* Once unmap returned, no DMA may touch the old pages. */
		memset(page, 0, 8 * FX_PAGE);
		for (int k = 0; k < 1000 && i % 50 == 0; k++)
			sched_yield();
		for (size_t k = 0; k < 8 * FX_PAGE; k++)
			assert_int_equal(page[k], 0);
	}
	r.stop = 1;
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	assert_true(r.faults > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, env_up, env_down)
		T(test_dma_lands_in_right_bytes),
		T(test_iotlb_hits_and_invalidation),
		T(test_dma_unmapped_faults),
		T(test_dma_blocked_before_attach),
		T(test_unmap_visible_to_next_dma),
		T(test_read_only_mapping_blocks_writes),
		T(test_dma_bad_args),
		T(test_pasid_dma_uses_pasid_domain),
		T(test_huge_mapping_dma),
		T(test_map_file_dma),
		T(test_dma_concurrent_with_map_unmap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
