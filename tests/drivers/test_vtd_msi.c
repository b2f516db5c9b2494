// SPDX-License-Identifier: MIT
/*
 * MSIs behind VT-d: the interrupt range 0xFEE00000..0xFEEFFFFF is
 * IOMMU_RESV_MSI, a hole in the IOVA ranges of the IOAS behind the device
 * (a nested HWPT's parent's too) that refuses maps; a device's write there
 * without PASID is an interrupt request the machine delivers (ionest.h,
 * "MSIs"), never translated - not through a paging domain, not through a
 * guest's first stage that maps the range, not even when blocked. With a
 * PASID the same address is DMA.
 */
#include <errno.h>
#include <string.h>
#include <ionest/uapi/iommufd.h>

#include "core/nest_util.h"
#include "vtd_fixture.h"

#define PAGE FX_PAGE
#define IOVA 0x100000ull
#define INTR_START 0xfee00000ull
#define INTR_LAST 0xfeefffffull
#define MSI_ADDR 0xfee02008ull /* destination 2 */
#define PASID 7

struct msi_log {
	unsigned n;
	struct ionest_msi last;
};

static void log_msi(void *ctx, const struct ionest_msi *msi)
{
	struct msi_log *log = ctx;

	log->n++;
	log->last = *msi;
}

static int w32(struct fx *f, int i, uint32_t pasid, uint64_t iova, uint32_t v)
{
	return vfx_dma(f, i, pasid, iova, &v, 4, IONEST_DMA_TO_MEM);
}

static void check_hole(struct fx *f, uint32_t ioas)
{
	struct iommu_iova_range r[8];
	struct iommu_ioas_iova_ranges q = {
		.size = sizeof(q),
		.ioas_id = ioas,
		.num_iovas = 8,
		.allowed_iovas = (uintptr_t)r,
	};
	bool below = false, above = false;

	assert_int_equal(fx_ioctl(f->fd, IOMMU_IOAS_IOVA_RANGES, &q), 0);
	for (uint32_t i = 0; i < q.num_iovas; i++) {
		assert_false(r[i].start <= INTR_LAST &&
			     r[i].last >= INTR_START);
		below |= r[i].last == INTR_START - 1;
		above |= r[i].start == INTR_LAST + 1;
	}
	assert_true(below && above);
}

static void test_window_reserved(void **state)
{
	struct fx f;
	void *data = fx_alloc(PAGE, PAGE);
	uint32_t ioas, pt;

	vfx_setup(&f, NULL, 1, NULL);
	ioas = vfx_ioas_map(&f, data, PAGE, IOVA);
	pt = ioas;
	assert_int_equal(fx_bind(&f, 0), 0);
	assert_int_equal(fx_attach(&f, 0, &pt), 0);
	check_hole(&f, ioas);
	assert_int_equal(fx_map_fixed(f.fd, ioas, data, PAGE,
				      MSI_ADDR & ~0xfffull),
			 -EINVAL);
	vfx_teardown(&f);
	fx_free(data, PAGE);
}

static void test_msi_delivered(void **state)
{
	struct fx f;
	struct msi_log log = { 0 };
	struct ionest_dma_fault df;
	void *data = fx_alloc(PAGE, PAGE);
	uint32_t pt, v = 0;

	vfx_setup(&f, NULL, 2, NULL);
	assert_int_equal(ionest_machine_set_msi_handler(f.m, log_msi, &log), 0);
	pt = vfx_ioas_map(&f, data, PAGE, IOVA);
	assert_int_equal(fx_bind(&f, 1), 0);
	assert_int_equal(fx_attach(&f, 1, &pt), 0);
	assert_int_equal(w32(&f, 1, IONEST_NO_PASID, MSI_ADDR, 0x4321), 0);
	assert_int_equal(log.n, 1);
	assert_int_equal(log.last.addr, MSI_ADDR);
	assert_int_equal(log.last.offset, MSI_ADDR & 0xfff);
	assert_int_equal(log.last.data, 0x4321);
	assert_int_equal(log.last.dev, f.dev[1]);
	assert_int_equal(log.last.pasid, IONEST_NO_PASID);
	assert_int_equal(ionest_machine_msi_count(f.m, f.dev[1]), 1);
	assert_int_equal(vfx_hw_counter(&f, "interrupt"), 1);
	/* Not a fault, nothing recorded. */
	assert_int_equal(ionest_device_last_fault(f.m, f.dev[1], &df), -ENOENT);
	/* A read of the range is refused, unrecorded. */
	assert_int_equal(vfx_dma(&f, 1, IONEST_NO_PASID, MSI_ADDR, &v, 4,
				 IONEST_DMA_FROM_MEM),
			 -EFAULT);
	df = vfx_last_fault(&f, 1);
	assert_false(df.recorded);
	/* With a PASID (none attached) it is DMA, and faults. */
	assert_int_equal(w32(&f, 1, PASID, MSI_ADDR, 1), -EFAULT);
	df = vfx_last_fault(&f, 1);
	assert_true(df.recorded);
	assert_int_equal(log.n, 1);
	/* A device the IOMMU blocks still signals: interrupt requests are
	 * not DMA remapping (interrupt remapping is not modelled). */
	assert_int_equal(w32(&f, 0, IONEST_NO_PASID, MSI_ADDR + 4, 9), 0);
	assert_int_equal(log.n, 2);
	assert_int_equal(log.last.dev, f.dev[0]);
	/* Data DMA is unchanged. */
	assert_int_equal(w32(&f, 1, IONEST_NO_PASID, IOVA + 8, 0x77), 0);
	assert_int_equal(((uint32_t *)data)[2], 0x77);
	assert_int_equal(ionest_machine_msi_count(f.m, -1), 2);
	vfx_teardown(&f);
	fx_free(data, PAGE);
}

/* ATS: the interrupt request is not cached in the device TLB; the data
 * around it is. */
static void test_msi_ats(void **state)
{
	struct fx f;
	void *data = fx_alloc(PAGE, PAGE);
	uint32_t pt, v = 5;

	vfx_setup(&f, NULL, 1, NULL);
	pt = vfx_ioas_map(&f, data, PAGE, IOVA);
	assert_int_equal(fx_bind(&f, 0), 0);
	assert_int_equal(fx_attach(&f, 0, &pt), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(vfx_dma(&f, 0, IONEST_NO_PASID, MSI_ADDR, &v,
					 4, IONEST_DMA_TO_MEM | IONEST_DMA_ATS),
				 0);
	assert_int_equal(ionest_machine_msi_count(f.m, f.dev[0]), 3);
	assert_int_equal(vfx_hw_counter(&f, "interrupt"), 3);
	vfx_teardown(&f);
	fx_free(data, PAGE);
}

/*
 * Nested: the guest's first stage maps the range (4K pages and, around
 * them, a 2M block) to its RAM; writes without PASID there still signal
 * and leave the RAM alone, also after the block is cached by a read
 * beside the range. With a PASID attached to the same nested HWPT the
 * write is DMA through both stages.
 */
static void test_msi_nested(void **state)
{
	struct fx f;
	struct guest g;
	struct iommu_hwpt_vtd_s1 s1 = { .addr_width = 48 };
	uint32_t ioas, parent, nested, v;
	uint64_t ram2m;
	uint8_t *host;

	vfx_setup(&f, NULL, 1, NULL);
	guest_init(&g, GUEST_GPA, 8ull << 20);
	ioas = fx_ioas(f.fd);
	assert_int_equal(guest_map(&g, f.fd, ioas), 0);
	assert_int_equal(fx_bind(&f, 0), 0);
	assert_int_equal(fx_hwpt_alloc(f.fd, f.devid[0], ioas,
				       IOMMU_HWPT_ALLOC_NEST_PARENT |
					       IOMMU_HWPT_ALLOC_PASID,
				       &parent),
			 0);
	s1.pgtbl_addr = guest_s1_init(&g);
	/* A 2M-aligned 2M of guest RAM (GUEST_GPA is 1G aligned). */
	ram2m = GUEST_GPA + (2ull << 20);
	host = guest_va(&g, ram2m);
	assert_int_equal(pt_map(&g.s1, INTR_START, ram2m, 2ull << 20,
				PT_PROT_READ | PT_PROT_WRITE, 2ull << 20),
			 0);
	assert_int_equal(nest_hwpt_alloc(f.fd, f.devid[0], parent,
					 IOMMU_HWPT_ALLOC_PASID,
					 IOMMU_HWPT_DATA_VTD_S1, &s1,
					 sizeof(s1), 0, &nested),
			 0);
	assert_int_equal(fx_attach(&f, 0, &nested), 0);
	check_hole(&f, ioas);
	/* Outside the range the guest's mapping is used. */
	assert_int_equal(
		w32(&f, 0, IONEST_NO_PASID, INTR_START + 0x100000, 0xaa), 0);
	assert_int_equal(*(uint32_t *)(host + 0x100000), 0xaa);
	assert_int_equal(vfx_dma(&f, 0, IONEST_NO_PASID, INTR_START + 0x100000,
				 &v, 4, IONEST_DMA_FROM_MEM),
			 0);
	/* Inside: an interrupt request, the RAM behind untouched. */
	assert_int_equal(w32(&f, 0, IONEST_NO_PASID, MSI_ADDR, 0x1234), 0);
	assert_int_equal(ionest_machine_msi_count(f.m, f.dev[0]), 1);
	for (unsigned i = 0; i < (1u << 20); i++)
		assert_int_equal(host[i], 0);
	/* The same address with a PASID is DMA into the guest's RAM. */
	assert_int_equal(fx_attach_pasid(&f, 0, PASID, &nested), 0);
	assert_int_equal(w32(&f, 0, PASID, MSI_ADDR, 0x5678), 0);
	assert_int_equal(*(uint32_t *)(host + (MSI_ADDR - INTR_START)), 0x5678);
	assert_int_equal(ionest_machine_msi_count(f.m, -1), 1);
	assert_int_equal(fx_detach_pasid(&f, 0, PASID), 0);
	assert_int_equal(fx_detach(&f, 0), 0);
	vfx_teardown(&f);
	guest_fini(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window_reserved),
		cmocka_unit_test(test_msi_delivered),
		cmocka_unit_test(test_msi_ats),
		cmocka_unit_test(test_msi_nested),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
