// SPDX-License-Identifier: MIT
/*
 * MSIs behind SMMUv3 (IOMMU_RESV_SW_MSI): the software MSI window is a
 * hole in the IOVA ranges of the IOAS the device is attached to, refuses
 * maps, and holds the doorbell page the host maps there; a device's
 * 32-bit write to it is an MSI the machine delivers (ionest.h, "MSIs"),
 * through the guest's stage 1 too on a nested HWPT.
 */
#include <errno.h>
#include <string.h>
#include <ionest/uapi/iommufd.h>

#include "core/nest_util.h"
#include "hw/hw.h"
#include "smmu_fixture.h"

#define PAGE FX_PAGE
#define IOVA 0x100000ull
#define MSI_ADDR (FX_MSI_START + 0x40) /* an ITS-like register offset */

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

static int dma_w32(struct fx *f, int i, uint64_t iova, uint32_t v)
{
	return fx_dma_write(f, i, IONEST_NO_PASID, iova, &v, 4);
}

/* Device 0 on an IOAS with one data page at IOVA. */
static uint32_t attach_ioas(struct sx *x, void *data)
{
	uint32_t ioas = fx_ioas(x->f.fd), pt = ioas;

	sx_map(x, ioas, data, PAGE, IOVA);
	sx_bind_attach(x, 0, &pt);
	return ioas;
}

static void test_window_reserved(void **state)
{
	struct sx x;
	struct iommu_iova_range r[8];
	struct iommu_ioas_iova_ranges q = {
		.size = sizeof(q),
		.num_iovas = 8,
		.allowed_iovas = (uintptr_t)r,
	};
	void *data = fx_alloc(PAGE, PAGE);
	bool hole = false;

	sx_setup(&x, NULL, 1);
	q.ioas_id = attach_ioas(&x, data);
	assert_int_equal(fx_ioctl(x.f.fd, IOMMU_IOAS_IOVA_RANGES, &q), 0);
	for (uint32_t i = 0; i < q.num_iovas; i++) {
		/* No usable range touches the window... */
		assert_false(r[i].start <= FX_MSI_LAST &&
			     r[i].last >= FX_MSI_START);
		/* ...and one ends just below it. */
		hole |= r[i].last == FX_MSI_START - 1;
	}
	assert_true(hole);
	/* A map into it is refused (iommufd-uapi.md §5: reserved -> EINVAL). */
	assert_int_equal(fx_map_fixed(x.f.fd, q.ioas_id, data, PAGE,
				      FX_MSI_START + 0x10000),
			 -EINVAL);
	sx_teardown(&x);
	fx_free(data, PAGE);
}

static void test_msi_delivered(void **state)
{
	struct sx x;
	struct msi_log log = { 0 };
	struct ionest_msi msi;
	void *data = fx_alloc(PAGE, PAGE);

	sx_setup(&x, NULL, 2);
	attach_ioas(&x, data);
	assert_int_equal(ionest_machine_last_msi(x.f.m, &msi), -ENOENT);
	assert_int_equal(ionest_machine_set_msi_handler(x.f.m, log_msi, &log),
			 0);
	assert_int_equal(dma_w32(&x.f, 0, MSI_ADDR, 0x1234), 0);
	assert_int_equal(log.n, 1);
	assert_int_equal(log.last.data, 0x1234);
	assert_int_equal(log.last.addr, MSI_ADDR);
	assert_int_equal(log.last.offset, 0x40);
	assert_int_equal(log.last.dev, x.f.dev[0]);
	assert_int_equal(log.last.pasid, IONEST_NO_PASID);
	assert_int_equal(log.last.count, 1);
	assert_int_equal(ionest_machine_msi_count(x.f.m, -1), 1);
	assert_int_equal(ionest_machine_msi_count(x.f.m, x.f.dev[0]), 1);
	assert_int_equal(ionest_machine_msi_count(x.f.m, x.f.dev[1]), 0);
	assert_int_equal(ionest_machine_msi_count(x.f.m, 7), 0);
	assert_int_equal(ionest_machine_last_msi(x.f.m, &msi), 0);
	assert_memory_equal(&msi, &log.last, sizeof(msi));
	/* Nothing is stored in the doorbell. */
	for (unsigned i = 0; i < HW_MSI_DOORBELL_SIZE; i++)
		assert_int_equal(hw_msi_doorbell[i], 0);
	/* A write of another size or alignment is no message. */
	assert_int_equal(
		fx_dma_write(&x.f, 0, IONEST_NO_PASID, MSI_ADDR, "\1\2", 2), 0);
	assert_int_equal(dma_w32(&x.f, 0, MSI_ADDR + 2, 1), 0);
	assert_int_equal(log.n, 1);
	/* The handler goes; messages are still counted. */
	assert_int_equal(ionest_machine_set_msi_handler(x.f.m, NULL, NULL), 0);
	assert_int_equal(dma_w32(&x.f, 0, MSI_ADDR, 5), 0);
	assert_int_equal(log.n, 1);
	assert_int_equal(ionest_machine_msi_count(x.f.m, -1), 2);
	/* Data DMA is untouched by all this. */
	assert_int_equal(dma_w32(&x.f, 0, IOVA, 0xabcd), 0);
	assert_int_equal(*(uint32_t *)data, 0xabcd);
	assert_int_equal(ionest_machine_msi_count(x.f.m, -1), 2);
	assert_int_equal(ionest_machine_set_msi_handler(NULL, NULL, NULL),
			 -EINVAL);
	assert_int_equal(ionest_machine_last_msi(x.f.m, NULL), -EINVAL);
	assert_int_equal(ionest_machine_msi_count(NULL, -1), 0);
	sx_teardown(&x);
	fx_free(data, PAGE);
}

/* Detached, the window is gone with the doorbell: the write faults. */
static void test_msi_needs_attach(void **state)
{
	struct sx x;
	void *data = fx_alloc(PAGE, PAGE);

	sx_setup(&x, NULL, 1);
	attach_ioas(&x, data);
	assert_int_equal(dma_w32(&x.f, 0, MSI_ADDR, 1), 0);
	assert_int_equal(fx_detach(&x.f, 0), 0);
	assert_int_equal(dma_w32(&x.f, 0, MSI_ADDR, 1), -EFAULT);
	assert_int_equal(ionest_machine_msi_count(x.f.m, -1), 1);
	sx_teardown(&x);
	fx_free(data, PAGE);
}

/*
 * Nested: the parent IOAS has the window; a guest (scenario/guest.h) maps
 * its MSI address in its stage 1 to GPA = the window's base, as a Linux
 * guest maps its vITS doorbell; the device on the nested HWPT reaches the
 * host's doorbell through both stages. Another guest IOVA mapped to the
 * same GPA works too; one not mapped faults in stage 1.
 */
#define GIOVA_MSI 0x8000000ull /* the guest's own MSI window */
#define GIOVA_ALT 0x7f0000000000ull

static void test_msi_nested(void **state)
{
	struct sx x;
	struct vm vm;
	struct pt s1;
	struct vm_cdtab cdt;
	struct iommu_hwpt_arm_smmuv3 ste = { { 0 } };
	struct msi_log log = { 0 };
	uint32_t ioas, parent, viommu, vdev, nested;
	uint64_t data;
	uint64_t ev[4];

	sx_setup(&x, NULL, 1);
	assert_int_equal(ionest_machine_set_msi_handler(x.f.m, log_msi, &log),
			 0);
	assert_int_equal(vm_init(&vm, "g", GUEST_GPA, GUEST_LEN), 0);
	ioas = fx_ioas(x.f.fd);
	assert_int_equal(vm_ioas_map(&vm, x.f.fd, ioas), 0);
	parent = sx_hwpt(&x, 0, ioas, IOMMU_HWPT_ALLOC_NEST_PARENT);
	assert_int_equal(nest_viommu_alloc(x.f.fd, x.f.devid[0], parent,
					   IOMMU_VIOMMU_TYPE_ARM_SMMUV3,
					   &viommu),
			 0);
	assert_int_equal(nest_vdevice_alloc(x.f.fd, viommu, x.f.devid[0], 0x42,
					    &vdev),
			 0);
	assert_int_equal(vm_s1_init(&s1, &vm, VM_S1_ARM64_4K), 0);
	assert_int_equal(vm_alloc(&vm, PAGE, &data), 0);
	assert_int_equal(vm_s1_map(&s1, IOVA, data, PAGE, PT_PROT_WRITE), 0);
	assert_int_equal(vm_s1_map(&s1, GIOVA_MSI, FX_MSI_START, PAGE,
				   PT_PROT_WRITE),
			 0);
	assert_int_equal(vm_s1_map(&s1, GIOVA_ALT, FX_MSI_START, PAGE,
				   PT_PROT_WRITE),
			 0);
	assert_int_equal(vm_cdtab_init(&cdt, &vm, 0), 0);
	assert_int_equal(vm_cd_write(&cdt, 0, &s1, 3), 0);
	vm_cdtab_ste(&cdt, VM_S1DSS_SSID0, ste.ste);
	assert_int_equal(nest_hwpt_alloc(x.f.fd, x.f.devid[0], viommu, 0,
					 IOMMU_HWPT_DATA_ARM_SMMUV3, &ste,
					 sizeof(ste), 0, &nested),
			 0);
	sx_bind_attach(&x, 0, &nested);
	/* The window is a hole of the parent IOAS and refuses maps. */
	assert_int_equal(fx_map_fixed(x.f.fd, ioas, vm.mem, PAGE, FX_MSI_START),
			 -EINVAL);
	assert_int_equal(dma_w32(&x.f, 0, IOVA + 4, 0x11), 0);
	assert_int_equal(*(uint32_t *)vm_ptr(&vm, data + 4, 4), 0x11);
	assert_int_equal(dma_w32(&x.f, 0, GIOVA_MSI + 0x40, 0x2a), 0);
	assert_int_equal(log.n, 1);
	assert_int_equal(log.last.addr, GIOVA_MSI + 0x40);
	assert_int_equal(log.last.offset, 0x40);
	assert_int_equal(log.last.data, 0x2a);
	assert_int_equal(dma_w32(&x.f, 0, GIOVA_ALT + 0x44, 0x2b), 0);
	assert_int_equal(log.n, 2);
	assert_int_equal(log.last.offset, 0x44);
	assert_int_equal(log.last.data, 0x2b);
	/* Not in the guest's stage 1: a stage-1 fault, no message. */
	assert_int_equal(dma_w32(&x.f, 0, GIOVA_MSI + PAGE, 1), -EFAULT);
	assert_int_equal(ionest_machine_msi_count(x.f.m, -1), 2);
	while (sx_event(&x, ev))
		;
	assert_int_equal(fx_detach(&x.f, 0), 0);
	sx_teardown(&x);
	vm_s1_fini(&s1);
	vm_fini(&vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window_reserved),
		cmocka_unit_test(test_msi_delivered),
		cmocka_unit_test(test_msi_needs_attach),
		cmocka_unit_test(test_msi_nested),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
