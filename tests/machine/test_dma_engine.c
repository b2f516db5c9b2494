// SPDX-License-Identifier: MIT
/* The BAR0 DMA engine: registers, the device-memory window, transfers
 * through the IOMMU in every mode, faults and resume, PASID and ATS, every
 * programming error, and the fault records of a real model. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "../core/fixture.h"
#include "pci_util.h"

#define IOVA_A 0x100000ull
#define IOVA_B 0x200000ull
#define LEN (3 * FX_PAGE)

struct env {
	struct fx f;
	int fd;
	uint32_t ioas;
	uint8_t *a, *b; /* mapped at IOVA_A, IOVA_B */
};

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	uint32_t pt;

	fx_setup(&e->f, NULL, 2);
	assert_int_equal(fx_bind(&e->f, 0), 0);
	e->fd = e->f.cdev[0];
	e->ioas = fx_ioas(e->f.fd);
	e->a = fx_alloc(LEN, FX_PAGE);
	e->b = fx_alloc(LEN, FX_PAGE);
	assert_int_equal(fx_map_fixed(e->f.fd, e->ioas, e->a, LEN, IOVA_A), 0);
	assert_int_equal(fx_map_fixed(e->f.fd, e->ioas, e->b, LEN, IOVA_B), 0);
	pt = e->ioas;
	assert_int_equal(fx_attach(&e->f, 0, &pt), 0);
	pci_enable(e->fd);
	for (unsigned i = 0; i < LEN; i++)
		e->a[i] = (uint8_t)(i * 7 + 1);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	fx_teardown(&e->f);
	fx_free(e->a, LEN);
	fx_free(e->b, LEN);
	free(e);
	return 0;
}

static uint32_t go(int fd, uint32_t mode, uint64_t src, uint64_t dst,
		   uint32_t len, uint32_t bell)
{
	bar_w64(fd, IONEST_DMA_SRC, src);
	bar_w64(fd, IONEST_DMA_DST, dst);
	bar_w32(fd, IONEST_DMA_LEN, len);
	bar_w32(fd, IONEST_DMA_CTRL, mode);
	bar_w32(fd, IONEST_DMA_DOORBELL, bell);
	return bar_r32(fd, IONEST_DMA_STATUS);
}

static uint32_t err_status(uint32_t code)
{
	return IONEST_DMA_ST_ERROR | code << IONEST_DMA_ST_ERR_SHIFT;
}

static void test_mem_disabled(void **state)
{
	struct env *e = *state;
	uint32_t v;

	cfg_write(e->fd, 4, 2, 0x4); /* bus master only */
	assert_int_equal(ionest_pread(e->fd, &v, 4, IONEST_DMA_ID), -1);
	assert_int_equal(errno, EIO);
	assert_int_equal(ionest_pread(e->fd, &v, 4, IONEST_DMA_STATUS), -1);
	assert_int_equal(errno, EIO);
	assert_int_equal(ionest_pwrite(e->fd, &v, 4, IONEST_DMA_DOORBELL), -1);
	assert_int_equal(errno, EIO);
}

static void test_registers(void **state)
{
	struct env *e = *state;
	int fd = e->fd;
	uint8_t b = 0x5a;

	assert_int_equal(bar_r32(fd, IONEST_DMA_ID), IONEST_DMA_ID_VALUE);
	assert_int_equal(bar_r32(fd, IONEST_DMA_VERSION), 1);
	bar_w64(fd, IONEST_DMA_SRC, 0x1122334455667788ull);
	assert_int_equal(bar_r64(fd, IONEST_DMA_SRC), 0x1122334455667788ull);
	bar_w32(fd, IONEST_DMA_SRC + 4, 0xaabbccdd);
	assert_int_equal(bar_r64(fd, IONEST_DMA_SRC), 0xaabbccdd55667788ull);
	bar_w32(fd, IONEST_DMA_DST, 0x1000);
	assert_int_equal(bar_r32(fd, IONEST_DMA_DST), 0x1000);
	/* Byte writes merge into the register. */
	bar_w32(fd, IONEST_DMA_LEN, 0x11223344);
	assert_int_equal(ionest_pwrite(fd, &b, 1, IONEST_DMA_LEN + 1), 1);
	assert_int_equal(bar_r32(fd, IONEST_DMA_LEN), 0x11225a44);
	bar_w32(fd, IONEST_DMA_PASID, 0xffffffff);
	assert_int_equal(bar_r32(fd, IONEST_DMA_PASID),
			 IONEST_DMA_PASID_VALID | IONEST_DMA_PASID_MASK);
	bar_w32(fd, IONEST_DMA_CTRL, 0xffffffff);
	assert_int_equal(bar_r32(fd, IONEST_DMA_CTRL), 3);
	/* Read-only and reserved registers ignore writes. */
	bar_w32(fd, IONEST_DMA_ID, 0);
	assert_int_equal(bar_r32(fd, IONEST_DMA_ID), IONEST_DMA_ID_VALUE);
	bar_w32(fd, IONEST_DMA_DONE, 9);
	assert_int_equal(bar_r32(fd, IONEST_DMA_DONE), 0);
	bar_w32(fd, 0x800, 9);
	assert_int_equal(bar_r32(fd, 0x800), 0);
	assert_int_equal(bar_r32(fd, IONEST_DMA_DOORBELL), 0);
}

static void test_devmem_window(void **state)
{
	struct env *e = *state;
	uint8_t in[100], out[100];

	for (unsigned i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i ^ 0x33);
	assert_int_equal(ionest_pwrite(e->fd, in, sizeof(in),
				       IONEST_DEVMEM_OFFSET + 3),
			 sizeof(in));
	assert_int_equal(ionest_pread(e->fd, out, sizeof(out),
				      IONEST_DEVMEM_OFFSET + 3),
			 sizeof(out));
	assert_memory_equal(in, out, sizeof(in));
	/* The window ends with the BAR: short at its end. */
	assert_int_equal(ionest_pread(e->fd, out, sizeof(out),
				      IONEST_BAR0_SIZE - 10),
			 10);
}

static void test_copy(void **state)
{
	struct env *e = *state;

	/* Unaligned, crossing pages on both sides. */
	assert_int_equal(go(e->fd, IONEST_DMA_MODE_COPY, IOVA_A + 100,
			    IOVA_B + 3000, 2 * FX_PAGE + 50, IONEST_DMA_START),
			 IONEST_DMA_ST_DONE);
	assert_memory_equal(e->b + 3000, e->a + 100, 2 * FX_PAGE + 50);
	assert_int_equal(e->b[2999], 0);
	assert_int_equal(bar_r32(e->fd, IONEST_DMA_DONE), 2 * FX_PAGE + 50);
	assert_int_equal(bar_r32(e->fd, IONEST_DMA_COMPLETED), 1);
	assert_int_equal(bar_r32(e->fd, IONEST_DMA_FAULTS), 0);
	/* W1C: DONE goes away. */
	bar_w32(e->fd, IONEST_DMA_STATUS, IONEST_DMA_ST_DONE);
	assert_int_equal(bar_r32(e->fd, IONEST_DMA_STATUS), 0);
}

static void test_device_memory(void **state)
{
	struct env *e = *state;
	uint8_t got[64];

	bar_w32(e->fd, IONEST_DMA_DEV_OFF, 0x100);
	assert_int_equal(go(e->fd, IONEST_DMA_MODE_TO_DEV, IOVA_A + 8, 0, 64,
			    IONEST_DMA_START),
			 IONEST_DMA_ST_DONE);
	assert_int_equal(
		ionest_pread(e->fd, got, 64, IONEST_DEVMEM_OFFSET + 0x100), 64);
	assert_memory_equal(got, e->a + 8, 64);
	bar_w32(e->fd, IONEST_DMA_DEV_OFF, 0x104);
	assert_int_equal(go(e->fd, IONEST_DMA_MODE_FROM_DEV, 0, IOVA_B + 4092,
			    32, IONEST_DMA_START),
			 IONEST_DMA_ST_DONE);
	assert_memory_equal(e->b + 4092, e->a + 12, 32);
	assert_int_equal(bar_r32(e->fd, IONEST_DMA_COMPLETED), 2);
}

static void test_fault_and_resume(void **state)
{
	struct env *e = *state;
	uint8_t *c = fx_alloc(2 * FX_PAGE, FX_PAGE);
	struct ionest_dma_fault f;
	const char *hw = ionest_hw_name(ionest_machine_iommu(e->f.m, "iommu0"));
	uint64_t before = 0, after = 0;
	uint32_t info;

	/* Only the first page of the destination is mapped. */
	assert_int_equal(fx_map_fixed(e->f.fd, e->ioas, c, FX_PAGE, 0x400000),
			 0);
	assert_int_equal(ionest_counter_get(hw, "fault", &before), 0);
	assert_int_equal(go(e->fd, IONEST_DMA_MODE_COPY, IOVA_A, 0x400800,
			    FX_PAGE, IONEST_DMA_START),
			 IONEST_DMA_ST_FAULT);
	assert_int_equal(bar_r32(e->fd, IONEST_DMA_DONE), 0x800);
	assert_int_equal(bar_r64(e->fd, IONEST_DMA_FAULT_ADDR), 0x401000);
	assert_int_equal(bar_r32(e->fd, IONEST_DMA_FAULT_CODE),
			 IONEST_MOCK_FAULT_TRANSLATION);
	info = bar_r32(e->fd, IONEST_DMA_FAULT_INFO);
	assert_int_equal(info & IONEST_DMA_FI_STATUS_MASK, IONEST_XLATE_FAULT);
	assert_true(info & IONEST_DMA_FI_WRITE);
	assert_int_equal(bar_r32(e->fd, IONEST_DMA_FAULTS), 1);
	assert_int_equal(bar_r32(e->fd, IONEST_DMA_COMPLETED), 0);
	assert_memory_equal(c + 0x800, e->a, 0x800);
	/* The IOMMU saw it too. */
	assert_int_equal(ionest_device_last_fault(e->f.m, 0, &f), 0);
	assert_int_equal(f.iova, 0x401000);
	assert_int_equal(ionest_counter_get(hw, "fault", &after), 0);
	assert_true(after > before);
	/* Fix the mapping, resume: the rest arrives, nothing is redone. */
	assert_int_equal(fx_map_fixed(e->f.fd, e->ioas, c + FX_PAGE, FX_PAGE,
				      0x401000),
			 0);
	memset(c + 0x800, 0, 0x800);
	bar_w32(e->fd, IONEST_DMA_DOORBELL, IONEST_DMA_RESUME);
	assert_int_equal(bar_r32(e->fd, IONEST_DMA_STATUS), IONEST_DMA_ST_DONE);
	assert_int_equal(bar_r32(e->fd, IONEST_DMA_DONE), FX_PAGE);
	assert_memory_equal(c + FX_PAGE, e->a + 0x800, 0x800);
	assert_int_equal(c[0x800], 0); /* not copied again */
	/* Once done, RESUME has nothing to continue. */
	bar_w32(e->fd, IONEST_DMA_DOORBELL, IONEST_DMA_RESUME);
	assert_int_equal(bar_r32(e->fd, IONEST_DMA_STATUS),
			 err_status(IONEST_DMA_ERR_RESUME));
	assert_int_equal(
		fx_unmap(e->f.fd, e->ioas, 0x400000, 2 * FX_PAGE, NULL), 0);
	fx_free(c, 2 * FX_PAGE);
}

static void test_permission_fault(void **state)
{
	struct env *e = *state;
	uint8_t *ro = fx_alloc(FX_PAGE, FX_PAGE);
	uint64_t iova = 0x600000;

	assert_int_equal(fx_map(e->f.fd, e->ioas, ro, FX_PAGE, &iova,
				IOMMU_IOAS_MAP_FIXED_IOVA |
					IOMMU_IOAS_MAP_READABLE),
			 0);
	/* Reading it is fine, writing it faults. */
	assert_int_equal(go(e->fd, IONEST_DMA_MODE_COPY, iova, IOVA_B, 16,
			    IONEST_DMA_START),
			 IONEST_DMA_ST_DONE);
	assert_int_equal(go(e->fd, IONEST_DMA_MODE_COPY, IOVA_A, iova, 16,
			    IONEST_DMA_START),
			 IONEST_DMA_ST_FAULT);
	assert_int_equal(bar_r32(e->fd, IONEST_DMA_FAULT_CODE),
			 IONEST_MOCK_FAULT_PERMISSION);
	assert_int_equal(ro[0], 0);
	fx_free(ro, FX_PAGE);
}

static void test_errors(void **state)
{
	struct env *e = *state;
	int fd = e->fd;

	assert_int_equal(go(fd, 3, IOVA_A, IOVA_B, 8, IONEST_DMA_START),
			 err_status(IONEST_DMA_ERR_MODE));
	assert_int_equal(go(fd, 0, IOVA_A, IOVA_B, 0, IONEST_DMA_START),
			 err_status(IONEST_DMA_ERR_LEN));
	assert_int_equal(go(fd, 0, IOVA_A, IOVA_B, IONEST_DMA_MAX_LEN + 1,
			    IONEST_DMA_START),
			 err_status(IONEST_DMA_ERR_LEN));
	bar_w32(fd, IONEST_DMA_DEV_OFF, IONEST_DEVMEM_SIZE - 4);
	assert_int_equal(go(fd, IONEST_DMA_MODE_TO_DEV, IOVA_A, 0, 8,
			    IONEST_DMA_START),
			 err_status(IONEST_DMA_ERR_LEN));
	bar_w32(fd, IONEST_DMA_DEV_OFF, 0xffffffff);
	assert_int_equal(go(fd, IONEST_DMA_MODE_FROM_DEV, 0, IOVA_B, 8,
			    IONEST_DMA_START),
			 err_status(IONEST_DMA_ERR_LEN));
	assert_int_equal(go(fd, 0, IOVA_A, IOVA_B, 8, 7),
			 err_status(IONEST_DMA_ERR_DOORBELL));
	assert_int_equal(go(fd, 0, IOVA_A, IOVA_B, 8, IONEST_DMA_RESUME),
			 err_status(IONEST_DMA_ERR_RESUME));
	/* A PASID needs the capability enabled, and must fit its width. */
	bar_w32(fd, IONEST_DMA_PASID, IONEST_DMA_PASID_VALID | 1);
	assert_int_equal(go(fd, 0, IOVA_A, IOVA_B, 8, IONEST_DMA_START),
			 err_status(IONEST_DMA_ERR_PASID));
	cfg_write(fd, 0x116, 2, 1); /* PASID control: enable */
	bar_w32(fd, IONEST_DMA_PASID, IONEST_DMA_PASID_VALID | 0x100);
	assert_int_equal(go(fd, 0, IOVA_A, IOVA_B, 8, IONEST_DMA_START),
			 err_status(IONEST_DMA_ERR_PASID));
	bar_w32(fd, IONEST_DMA_PASID, 0);
	/* No bus mastering, no DMA. */
	cfg_write(fd, 4, 2, 0x2);
	assert_int_equal(go(fd, 0, IOVA_A, IOVA_B, 8, IONEST_DMA_START),
			 err_status(IONEST_DMA_ERR_BME));
	/* Clearing ERROR clears its code; nothing moved meanwhile. */
	bar_w32(fd, IONEST_DMA_STATUS, IONEST_DMA_ST_ERROR);
	assert_int_equal(bar_r32(fd, IONEST_DMA_STATUS), 0);
	assert_int_equal(bar_r32(fd, IONEST_DMA_COMPLETED), 0);
	assert_int_equal(e->b[0], 0);
}

static void test_pasid(void **state)
{
	struct env *e = *state;
	uint32_t ioas2 = fx_ioas(e->f.fd), rid_pt, pt;
	uint8_t *c = fx_alloc(FX_PAGE, FX_PAGE);

	/* PASID 5 sees another address space where IOVA_B is @c; PASID
	 * attachments need PASID-capable HWPTs, the RID's as well. */
	assert_int_equal(fx_map_fixed(e->f.fd, ioas2, e->a, FX_PAGE, IOVA_A),
			 0);
	assert_int_equal(fx_map_fixed(e->f.fd, ioas2, c, FX_PAGE, IOVA_B), 0);
	assert_int_equal(fx_hwpt_alloc(e->f.fd, e->f.devid[0], e->ioas,
				       IOMMU_HWPT_ALLOC_PASID, &rid_pt),
			 0);
	assert_int_equal(fx_hwpt_alloc(e->f.fd, e->f.devid[0], ioas2,
				       IOMMU_HWPT_ALLOC_PASID, &pt),
			 0);
	assert_int_equal(fx_attach(&e->f, 0, &rid_pt), 0);
	assert_int_equal(fx_attach_pasid(&e->f, 0, 5, &pt), 0);
	cfg_write(e->fd, 0x116, 2, 1);
	bar_w32(e->fd, IONEST_DMA_PASID, IONEST_DMA_PASID_VALID | 5);
	assert_int_equal(go(e->fd, 0, IOVA_A, IOVA_B, 64, IONEST_DMA_START),
			 IONEST_DMA_ST_DONE);
	assert_memory_equal(c, e->a, 64);
	assert_int_equal(e->b[0], 0);
	/* An unattached PASID faults. */
	bar_w32(e->fd, IONEST_DMA_PASID, IONEST_DMA_PASID_VALID | 6);
	assert_int_equal(go(e->fd, 0, IOVA_A, IOVA_B, 64, IONEST_DMA_START),
			 IONEST_DMA_ST_FAULT);
	assert_int_equal(bar_r32(e->fd, IONEST_DMA_FAULT_CODE),
			 IONEST_MOCK_FAULT_BLOCKED);
	assert_int_equal(fx_detach_pasid(&e->f, 0, 5), 0);
	assert_int_equal(fx_detach(&e->f, 0), 0);
	assert_int_equal(fx_destroy(e->f.fd, rid_pt), 0);
	assert_int_equal(fx_destroy(e->f.fd, pt), 0);
	fx_free(c, FX_PAGE);
}

static void test_ats(void **state)
{
	struct env *e = *state;

	/* ATS enabled in the capability: the device translates ahead. */
	cfg_write(e->fd, 0x106, 2, 0x8000);
	assert_int_equal(go(e->fd, 0, IOVA_A, IOVA_B, LEN, IONEST_DMA_START),
			 IONEST_DMA_ST_DONE);
	assert_memory_equal(e->b, e->a, LEN);
	assert_int_equal(go(e->fd, 0, IOVA_A, 0x900000, 8, IONEST_DMA_START),
			 IONEST_DMA_ST_FAULT);
}

static void test_ats_refused(void **state)
{
	struct ionest_mock_config cfg = { .ats = IONEST_CFG(0) };
	struct fx f;
	int fd;

	/* The IOMMU cannot serve translation requests. */
	fx_setup(&f, &cfg, 1);
	assert_int_equal(fx_bind(&f, 0), 0);
	fd = f.cdev[0];
	pci_enable(fd);
	cfg_write(fd, 0x106, 2, 0x8000);
	assert_int_equal(go(fd, 0, 0, 0x1000, 8, IONEST_DMA_START),
			 err_status(IONEST_DMA_ERR_ATS));
	fx_teardown(&f);
}

static void test_reset(void **state)
{
	struct env *e = *state;

	assert_int_equal(go(e->fd, 0, IOVA_A, IOVA_B, 8, IONEST_DMA_START),
			 IONEST_DMA_ST_DONE);
	assert_int_equal(fx_ioctl(e->fd, VFIO_DEVICE_RESET, NULL), 0);
	pci_enable(e->fd);
	assert_int_equal(bar_r32(e->fd, IONEST_DMA_STATUS), 0);
	assert_int_equal(bar_r32(e->fd, IONEST_DMA_COMPLETED), 0);
	assert_int_equal(bar_r64(e->fd, IONEST_DMA_SRC), 0);
}

static void test_trace(void **state)
{
	struct env *e = *state;
	FILE *f = tmpfile();
	char line[256] = "";

	assert_non_null(f);
	ionest_trace_set_output(f, IONEST_TRACE_TEXT);
	assert_int_equal(ionest_trace_enable("dev_dma_engine"), 1);
	assert_int_equal(go(e->fd, 0, IOVA_A, IOVA_B, 8, IONEST_DMA_START),
			 IONEST_DMA_ST_DONE);
	ionest_trace_enable(NULL);
	ionest_trace_set_output(NULL, IONEST_TRACE_TEXT);
	rewind(f);
	assert_non_null(fgets(line, sizeof(line), f));
	assert_non_null(strstr(line, "dev_dma_engine: dev=0 mode=0 "
				     "pasid=0xffffffff len=8 done=8 "
				     "status=0x2"));
	fclose(f);
}

/* An SMMUv3 reports the fault in its event queue: the engine says it was
 * recorded, with the architecture's event code. */
static void test_smmuv3_fault_record(void **state)
{
	struct ionest_machine *m = ionest_machine_new();
	struct ionest_device_config dc = { .iommu = "smmu0", .rid = 8 };
	struct vfio_device_bind_iommufd b = { .argsz = sizeof(b) };
	struct ionest_hw *hw = ionest_smmuv3_new(NULL);
	uint32_t ioas, pt;
	uint8_t *buf = fx_alloc(FX_PAGE, FX_PAGE);
	int ifd, fd;

	assert_non_null(hw);
	if (ionest_machine_add_iommu(m, "smmu0", hw) == -ENODEV) {
		ionest_hw_free(hw);
		ionest_machine_free(m);
		fx_free(buf, FX_PAGE);
		skip(); /* no SMMUv3 driver in this build */
	}
	assert_int_equal(ionest_machine_add_device(m, &dc), 0);
	ifd = ionest_open(m, "/dev/iommu", O_RDWR);
	fd = ionest_open(m, "/dev/vfio/devices/vfio0", O_RDWR);
	b.iommufd = ifd;
	assert_int_equal(fx_ioctl(fd, VFIO_DEVICE_BIND_IOMMUFD, &b), 0);
	ioas = fx_ioas(ifd);
	pt = ioas;
	assert_int_equal(fx_map_fixed(ifd, ioas, buf, FX_PAGE, 0x10000), 0);
	assert_int_equal(
		fx_ioctl(fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT,
			 &(struct vfio_device_attach_iommufd_pt){
				 .argsz = sizeof(
					 struct vfio_device_attach_iommufd_pt),
				 .pt_id = pt }),
		0);
	pci_enable(fd);
	assert_int_equal(go(fd, 0, 0x10000, 0x10010, 16, IONEST_DMA_START),
			 IONEST_DMA_ST_DONE);
	assert_int_equal(go(fd, 0, 0x10000, 0x90000, 16, IONEST_DMA_START),
			 IONEST_DMA_ST_FAULT);
	assert_true(bar_r32(fd, IONEST_DMA_FAULT_INFO) &
		    IONEST_DMA_FI_RECORDED);
	assert_int_equal(bar_r32(fd, IONEST_DMA_FAULT_CODE), 0x10);
	assert_int_equal(ionest_close(fd), 0);
	assert_int_equal(ionest_close(ifd), 0);
	ionest_machine_free(m);
	fx_free(buf, FX_PAGE);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_mem_disabled),
		T(test_registers),
		T(test_devmem_window),
		T(test_copy),
		T(test_device_memory),
		T(test_fault_and_resume),
		T(test_permission_fault),
		T(test_errors),
		T(test_pasid),
		T(test_ats),
		cmocka_unit_test(test_ats_refused),
		T(test_reset),
		T(test_trace),
		cmocka_unit_test(test_smmuv3_fault_record),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
