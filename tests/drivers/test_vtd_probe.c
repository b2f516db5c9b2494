// SPDX-License-Identifier: MIT
/*
 * The VT-d driver's probe and what it reports: the unit it brings up
 * (root table, queued invalidation, translation enabled), the parts it
 * refuses, context entries of devices, IOMMU_GET_HW_INFO, reserved
 * regions and aperture, domain flags and domain IDs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "drivers/vtd.h"
#include "machine/machine.h"
#include "util/alloc.h"
#include "vtd_fixture.h"

#define RW (IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE)

static void test_init_programs_unit(void **state)
{
	struct fx f;
	uint32_t gsts;
	uint64_t rtaddr, iqa;

	(void)state;
	vfx_setup(&f, NULL, 0, NULL);
	gsts = vfx_rd32(&f, VTD_REG_GSTS);
	assert_true(gsts & VTD_GSTS_TES);
	assert_true(gsts & VTD_GSTS_QIES);
	assert_true(gsts & VTD_GSTS_RTPS);
	rtaddr = vfx_rd64(&f, VTD_REG_RTADDR);
	assert_int_equal(VTD_RTADDR_TTM(rtaddr), VTD_TTM_SCALABLE);
	assert_true((rtaddr & VTD_RTADDR_RTA_MASK) != 0);
	iqa = vfx_rd64(&f, VTD_REG_IQA);
	assert_true(iqa & VTD_IQA_DW);
	assert_int_equal(VTD_IQA_QS(iqa), 1);
	/* The fault event is unmasked, the completion interrupt is not
	 * used. */
	assert_false(vfx_rd32(&f, VTD_REG_FECTL) & VTD_ECTL_IM);
	assert_true(vfx_rd32(&f, VTD_REG_IECTL) & VTD_ECTL_IM);
	/* Global context, PASID and IOTLB invalidations with a wait. */
	assert_true(vfx_drv_counter(&f, "inv_desc") >= 3);
	assert_true(vfx_drv_counter(&f, "inv_wait") >= 1);
	assert_int_equal(vfx_rd64(&f, VTD_REG_IQH), vfx_rd64(&f, VTD_REG_IQT));
	/* Page request queue programmed (ECAP.PRS by default). */
	assert_true(vfx_rd64(&f, VTD_REG_PQA) != 0);
	vfx_teardown(&f);
}

static void expect_refused(const struct ionest_vtd_config *cfg)
{
	struct ionest_machine *m = ionest_machine_new();
	struct ionest_hw *hw = ionest_vtd_new(cfg);

	assert_non_null(m);
	assert_non_null(hw);
	assert_int_equal(ionest_machine_add_iommu(m, "iommu0", hw), -ENODEV);
	/* Refused: still the caller's, and left disabled. */
	{
		uint64_t v = 1;

		assert_int_equal(ionest_hw_mmio_read(hw, VTD_REG_GSTS, 4, &v),
				 0);
		assert_false(v & VTD_GSTS_TES);
	}
	ionest_hw_free(hw);
	ionest_machine_free(m);
}

static void test_refuses_parts(void **state)
{
	struct ionest_vtd_config no_qi = { .qi = IONEST_CFG(0) };
	struct ionest_vtd_config no_ss = { .ssts = IONEST_CFG(0),
					   .nest = IONEST_CFG(0) };
	struct ionest_vtd_config narrow = { .mgaw = IONEST_CFG(38),
					    .sagaw = IONEST_CFG(VTD_SAGAW_39) };
	struct ionest_vtd_config no_agaw = { .sagaw =
						     IONEST_CFG(VTD_SAGAW_57) };

	(void)state;
	expect_refused(&no_qi);
	expect_refused(&no_ss);
	/* Host memory needs 47 address bits. */
	expect_refused(&narrow);
	/* A 57-bit second stage with a 48-bit MGAW: no usable width. */
	expect_refused(&no_agaw);
}

static void test_context_entries(void **state)
{
	struct ionest_vtd_config cfg = { .pss = IONEST_CFG(9) };
	const struct vfx_dev devs[] = {
		{ .rid = 0x100, .pasid_bits = 8, .ats = true },
		{ .rid = 0x1f5, .pasid_bits = 0, .ats = false },
		{ .rid = 0x300, .pasid_bits = 20, .ats = false },
	};
	const uint64_t *ce, *pe;
	struct fx f;

	(void)state;
	vfx_setup(&f, &cfg, 3, devs);
	ce = vfx_ce(&f, 0x100);
	assert_non_null(ce);
	assert_true(ce[0] & VTD_CE_P);
	assert_true(ce[0] & VTD_CE_DTE);
	assert_true(ce[0] & VTD_CE_PASIDE);
	assert_false(ce[0] & VTD_CE_PRE);
	assert_int_equal(VTD_CE_PDTS(ce[0]), 0);
	assert_int_equal(VTD_CE_RID_PASID(ce[1]), 0);
	/* The RID's PASID entry exists, not present: blocked. */
	pe = vfx_pe(&f, 0x100, 0);
	assert_non_null(pe);
	assert_false(pe[0] & VTD_PE_P);
	/* Upper half of the bus (devfn >= 128), no PASID, no ATS. */
	ce = vfx_ce(&f, 0x1f5);
	assert_non_null(ce);
	assert_true(ce[0] & VTD_CE_P);
	assert_false(ce[0] & (VTD_CE_DTE | VTD_CE_PASIDE));
	/* 20 device bits, PSS 10 bits: 1024 PASIDs fit PDTS 0. */
	ce = vfx_ce(&f, 0x300);
	assert_int_equal(VTD_CE_PDTS(ce[0]), 0);
	/* Buses without devices have no context table. */
	assert_null(vfx_ce(&f, 0x200));
	vfx_teardown(&f);

	/* 20-bit PASIDs on a 20-bit part: 16384 directory entries. */
	{
		const struct vfx_dev wide = { .rid = 0x8, .pasid_bits = 20 };

		vfx_setup(&f, NULL, 1, &wide);
		ce = vfx_ce(&f, 0x8);
		assert_int_equal(VTD_CE_PDTS(ce[0]), 7);
		vfx_teardown(&f);
	}
}

static void test_device_ids(void **state)
{
	struct fx f;
	struct ionest_device_config dc = { .iommu = "iommu0", .rid = 0x100 };

	(void)state;
	vfx_setup(&f, NULL, 1, NULL);
	assert_int_equal(ionest_machine_add_device(f.m, &dc), -EEXIST);
	dc.rid = 0x10000;
	assert_int_equal(ionest_machine_add_device(f.m, &dc), -EINVAL);
	dc.rid = 0x101;
	assert_int_equal(ionest_machine_add_device(f.m, &dc), 1);
	f.dev[1] = 1;
	f.cdev[1] = -1;
	f.ndev = 2;
	assert_non_null(vfx_ce(&f, 0x101));
	vfx_teardown(&f);
}

static int hw_info(struct fx *f, int i, uint32_t flags, uint32_t type,
		   struct iommu_hw_info *out, struct iommu_hw_info_vtd *data)
{
	*out = (struct iommu_hw_info){
		.size = sizeof(*out),
		.flags = flags,
		.dev_id = f->devid[i],
		.data_len = sizeof(*data),
		.data_uptr = (uint64_t)(uintptr_t)data,
		.in_data_type = type,
	};
	memset(data, 0xa5, sizeof(*data));
	return (int)fx_ioctl(f->fd, IOMMU_GET_HW_INFO, out);
}

static void test_hw_info(void **state)
{
	struct iommu_hw_info hi;
	struct iommu_hw_info_vtd v;
	struct fx f;

	(void)state;
	vfx_setup(&f, NULL, 1, NULL);
	assert_int_equal(fx_bind(&f, 0), 0);
	assert_int_equal(hw_info(&f, 0, 0, 0, &hi, &v), 0);
	assert_int_equal(hi.out_data_type, IOMMU_HW_INFO_TYPE_INTEL_VTD);
	assert_int_equal(hi.data_len, sizeof(v));
	assert_int_equal(v.flags, 0);
	assert_int_equal(v.__reserved, 0);
	assert_int_equal(v.cap_reg, vfx_rd64(&f, VTD_REG_CAP));
	assert_int_equal(v.ecap_reg, vfx_rd64(&f, VTD_REG_ECAP));
	assert_int_equal(hi.out_capabilities,
			 IOMMU_HW_CAP_DIRTY_TRACKING |
				 IOMMU_HW_CAP_PCI_PASID_EXEC);
	assert_int_equal(hi.out_max_pasid_log2, 8);
	/* Asking for the VT-d type works, another vendor's does not. */
	assert_int_equal(hw_info(&f, 0, IOMMU_HW_INFO_FLAG_INPUT_TYPE,
				 IOMMU_HW_INFO_TYPE_INTEL_VTD, &hi, &v),
			 0);
	assert_int_equal(hi.out_data_type, IOMMU_HW_INFO_TYPE_INTEL_VTD);
	assert_int_equal(hw_info(&f, 0, IOMMU_HW_INFO_FLAG_INPUT_TYPE,
				 IOMMU_HW_INFO_TYPE_ARM_SMMUV3, &hi, &v),
			 -EOPNOTSUPP);
	vfx_teardown(&f);

	/* No SSADS, no device-TLB, 4 PASID bits on the part. */
	{
		struct ionest_vtd_config cfg = { .ssads = IONEST_CFG(0),
						 .dt = IONEST_CFG(0),
						 .pss = IONEST_CFG(3) };

		vfx_setup(&f, &cfg, 1, NULL);
		assert_int_equal(fx_bind(&f, 0), 0);
		assert_int_equal(hw_info(&f, 0, 0, 0, &hi, &v), 0);
		assert_int_equal(v.ecap_reg, vfx_rd64(&f, VTD_REG_ECAP));
		assert_false(v.ecap_reg & VTD_ECAP_SSADS);
		assert_int_equal(hi.out_capabilities,
				 IOMMU_HW_CAP_PCI_ATS_NOT_SUPPORTED |
					 IOMMU_HW_CAP_PCI_PASID_EXEC);
		assert_int_equal(hi.out_max_pasid_log2, 4);
		/* ATS could not be enabled: DTE stays clear. */
		assert_false(vfx_ce(&f, 0x100)[0] & VTD_CE_DTE);
		vfx_teardown(&f);
	}
	/* Without ECAP.PASID no PASIDs at all. */
	{
		struct ionest_vtd_config cfg = { .pasid = IONEST_CFG(0) };

		vfx_setup(&f, &cfg, 1, NULL);
		assert_int_equal(fx_bind(&f, 0), 0);
		assert_int_equal(hw_info(&f, 0, 0, 0, &hi, &v), 0);
		assert_int_equal(hi.out_max_pasid_log2, 0);
		assert_false(vfx_ce(&f, 0x100)[0] & VTD_CE_PASIDE);
		vfx_teardown(&f);
	}
}

static unsigned iova_ranges(struct fx *f, uint32_t ioas,
			    struct iommu_iova_range *r, unsigned n)
{
	struct iommu_ioas_iova_ranges q = {
		.size = sizeof(q),
		.ioas_id = ioas,
		.num_iovas = n,
		.allowed_iovas = (uint64_t)(uintptr_t)r,
	};

	assert_int_equal(fx_ioctl(f->fd, IOMMU_IOAS_IOVA_RANGES, &q), 0);
	return q.num_iovas;
}

static void test_resv_and_aperture(void **state)
{
	struct iommu_iova_range r[4];
	uint8_t *mem = fx_alloc(FX_PAGE, FX_PAGE);
	uint32_t ioas, pt;
	struct fx f;

	(void)state;
	vfx_setup(&f, NULL, 1, NULL);
	ioas = fx_ioas(f.fd);
	assert_int_equal(fx_bind(&f, 0), 0);
	pt = ioas;
	assert_int_equal(fx_attach(&f, 0, &pt), 0);
	/* The x86 MSI window is carved out of a 48-bit aperture. */
	assert_int_equal(iova_ranges(&f, ioas, r, 4), 2);
	assert_int_equal(r[0].start, 0);
	assert_int_equal(r[0].last, 0xfedfffffull);
	assert_int_equal(r[1].start, 0xfef00000ull);
	assert_int_equal(r[1].last, (1ull << 48) - 1);
	assert_true(fx_map_fixed(f.fd, ioas, mem, FX_PAGE, 0xfee00000ull) < 0);
	assert_true(fx_map_fixed(f.fd, ioas, mem, FX_PAGE, 1ull << 48) < 0);
	assert_int_equal(fx_map_fixed(f.fd, ioas, mem, FX_PAGE,
				      (1ull << 48) - FX_PAGE),
			 0);
	/* Detached: the window goes with the device. */
	assert_int_equal(fx_detach(&f, 0), 0);
	assert_int_equal(iova_ranges(&f, ioas, r, 4), 1);
	vfx_teardown(&f);

	/* A 39-bit second stage (SAGAW 3-level only). */
	{
		struct ionest_vtd_config cfg = { .sagaw = IONEST_CFG(
							 VTD_SAGAW_39) };

		vfx_setup(&f, &cfg, 1, NULL);
		ioas = fx_ioas(f.fd);
		assert_int_equal(fx_bind(&f, 0), 0);
		pt = ioas;
		assert_int_equal(fx_attach(&f, 0, &pt), 0);
		assert_int_equal(iova_ranges(&f, ioas, r, 4), 2);
		assert_int_equal(r[1].last, (1ull << 39) - 1);
		/* AW 1 in the PASID entry. */
		assert_int_equal(VTD_PE_AW(vfx_pe(&f, 0x100, 0)[0]), 1);
		vfx_teardown(&f);
	}
	fx_free(mem, FX_PAGE);
}

static void test_domain_flags(void **state)
{
	/* Neither nesting nor a first stage (which software nesting
	 * needs): no nest parent in any mode. */
	struct ionest_vtd_config cfg = { .nest = IONEST_CFG(0),
					 .fsts = IONEST_CFG(0),
					 .ssads = IONEST_CFG(0) };
	uint32_t ioas, hwpt;
	struct fx f;

	(void)state;
	vfx_setup(&f, NULL, 1, NULL);
	ioas = fx_ioas(f.fd);
	assert_int_equal(fx_bind(&f, 0), 0);
	assert_int_equal(fx_hwpt_alloc(f.fd, f.devid[0], ioas,
				       IOMMU_HWPT_ALLOC_NEST_PARENT |
					       IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
				       &hwpt),
			 0);
	assert_int_equal(fx_destroy(f.fd, hwpt), 0);
	vfx_teardown(&f);

	vfx_setup(&f, &cfg, 1, NULL);
	ioas = fx_ioas(f.fd);
	assert_int_equal(fx_bind(&f, 0), 0);
	assert_int_equal(fx_hwpt_alloc(f.fd, f.devid[0], ioas,
				       IOMMU_HWPT_ALLOC_NEST_PARENT, &hwpt),
			 -EOPNOTSUPP);
	assert_int_equal(fx_hwpt_alloc(f.fd, f.devid[0], ioas,
				       IOMMU_HWPT_ALLOC_DIRTY_TRACKING, &hwpt),
			 -EOPNOTSUPP);
	assert_int_equal(fx_hwpt_alloc(f.fd, f.devid[0], ioas, 0, &hwpt), 0);
	vfx_teardown(&f);
}

static void test_domain_ids(void **state)
{
	/* ND 0: 16 domain IDs, DID 0 unused. */
	struct ionest_vtd_config cfg = { .nd = IONEST_CFG(0) };
	uint32_t ioas, hwpt[15], extra;
	uint16_t seen = 0;
	struct fx f;

	(void)state;
	vfx_setup(&f, &cfg, 1, NULL);
	ioas = fx_ioas(f.fd);
	assert_int_equal(fx_bind(&f, 0), 0);
	for (int i = 0; i < 15; i++)
		assert_int_equal(
			fx_hwpt_alloc(f.fd, f.devid[0], ioas, 0, &hwpt[i]), 0);
	assert_int_equal(fx_hwpt_alloc(f.fd, f.devid[0], ioas, 0, &extra),
			 -ENOSPC);
	/* Each attach programs a distinct, non-zero DID. */
	for (int i = 0; i < 15; i++) {
		uint32_t pt = hwpt[i];
		uint16_t did;

		/* The first attaches, the others replace. */
		assert_int_equal(fx_attach(&f, 0, &pt), 0);
		did = VTD_PE_DID(vfx_pe(&f, 0x100, 0)[1]);
		assert_true(did > 0 && did < 16);
		assert_false(seen & (1u << did));
		seen |= (uint16_t)(1u << did);
	}
	assert_int_equal(fx_detach(&f, 0), 0);
	assert_int_equal(fx_destroy(f.fd, hwpt[3]), 0);
	assert_int_equal(fx_hwpt_alloc(f.fd, f.devid[0], ioas, 0, &extra), 0);
	vfx_teardown(&f);
}

/* The driver's instance state, for the queue tests below. */
static struct vtd_inst *vi_of(struct fx *f)
{
	return f->m->iommus[0]->inst->priv;
}

static void test_queue_long_batch(void **state)
{
	struct fx f;
	struct vtd_inst *vi;
	uint64_t waits;

	(void)state;
	vfx_setup(&f, NULL, 0, NULL);
	vi = vi_of(&f);
	waits = vfx_drv_counter(&f, "inv_wait");
	/* More descriptors than the queue holds: synced part way. */
	pthread_mutex_lock(&vi->inst->lock);
	for (unsigned i = 0; i < 3 * vi->iq_slots; i++)
		vtd_qi_iotlb_dom(vi, (uint16_t)(i % 7 + 1));
	assert_int_equal(vtd_qi_sync(vi), 0);
	pthread_mutex_unlock(&vi->inst->lock);
	assert_true(vfx_drv_counter(&f, "inv_wait") >= waits + 3);
	assert_int_equal(vfx_rd64(&f, VTD_REG_IQH), vfx_rd64(&f, VTD_REG_IQT));
	vfx_teardown(&f);
}

static void test_queue_error_recovers(void **state)
{
	uint8_t *mem = fx_alloc(FX_PAGE, FX_PAGE), b = 3;
	struct vtd_inst *vi;
	uint32_t ioas, pt;
	struct fx f;

	(void)state;
	vfx_setup(&f, NULL, 1, NULL);
	ioas = vfx_ioas_map(&f, mem, FX_PAGE, 0x100000);
	assert_int_equal(fx_bind(&f, 0), 0);
	pt = ioas;
	assert_int_equal(fx_attach(&f, 0, &pt), 0);
	vi = vi_of(&f);
	/* A descriptor the hardware rejects (IOTLB with a reserved bit,
	 * then an unknown type): the batch fails with -EIO, the queue is
	 * running again afterwards and IQE is clear. */
	pthread_mutex_lock(&vi->inst->lock);
	vtd_qi_desc(vi, VTD_INV_IOTLB | (1ull << 8) | (1ull << 4), 0);
	vtd_qi_iotlb_global(vi);
	assert_int_equal(vtd_qi_sync(vi), -EIO);
	vtd_qi_desc(vi, 0xf, 0);
	assert_int_equal(vtd_qi_sync(vi), -EIO);
	vtd_qi_iotlb_global(vi);
	assert_int_equal(vtd_qi_sync(vi), 0);
	pthread_mutex_unlock(&vi->inst->lock);
	assert_int_equal(vfx_drv_counter(&f, "iq_error"), 2);
	assert_false(vfx_rd32(&f, VTD_REG_FSTS) & VTD_FSTS_IQE);
	assert_int_equal(vfx_rd64(&f, VTD_REG_IQH), vfx_rd64(&f, VTD_REG_IQT));
	/* Everything still works: DMA, unmap seen by the next DMA. */
	assert_int_equal(vfx_dma(&f, 0, IONEST_NO_PASID, 0x100000, &b, 1,
				 IONEST_DMA_TO_MEM),
			 0);
	assert_int_equal(mem[0], 3);
	assert_int_equal(fx_unmap(f.fd, ioas, 0x100000, FX_PAGE, NULL), 0);
	assert_int_equal(vfx_dma(&f, 0, IONEST_NO_PASID, 0x100000, &b, 1,
				 IONEST_DMA_TO_MEM),
			 -EFAULT);
	/* Clean but for the two errors this test made. */
	assert_int_equal(vfx_rd32(&f, VTD_REG_FSTS) &
				 (VTD_FSTS_IQE | VTD_FSTS_ITE | VTD_FSTS_ICE |
				  VTD_FSTS_PFO | VTD_FSTS_PPF),
			 0);
	fx_teardown(&f);
	fx_free(mem, FX_PAGE);
}

static void test_fault_trace(void **state)
{
	uint8_t *mem = fx_alloc(FX_PAGE, FX_PAGE), b = 0;
	char line[512];
	bool seen = false;
	uint32_t ioas, pt;
	struct fx f;
	FILE *out = tmpfile();

	(void)state;
	assert_non_null(out);
	vfx_setup(&f, NULL, 1, NULL);
	ioas = vfx_ioas_map(&f, mem, FX_PAGE, 0x100000);
	assert_int_equal(fx_bind(&f, 0), 0);
	pt = ioas;
	assert_int_equal(fx_attach(&f, 0, &pt), 0);
	ionest_trace_set_output(out, IONEST_TRACE_TEXT);
	assert_int_equal(ionest_trace_enable("vtd_drv_fault"), 1);
	assert_int_equal(vfx_dma(&f, 0, IONEST_NO_PASID, 0x345000, &b, 1,
				 IONEST_DMA_FROM_MEM),
			 -EFAULT);
	ionest_trace_enable(NULL);
	ionest_trace_set_output(stderr, IONEST_TRACE_TEXT);
	rewind(out);
	while (fgets(line, sizeof(line), out))
		if (strstr(line, "vtd_drv_fault") && strstr(line, "0x345000") &&
		    strstr(line, "sid=0x100") && strstr(line, "reason=0x79"))
			seen = true;
	assert_true(seen);
	fclose(out);
	vfx_teardown(&f);
	fx_free(mem, FX_PAGE);
}

static void test_init_failure_leaves_unit_off(void **state)
{
	/* Every allocation of the driver's probe fails in turn: the unit
	 * is left with translation and the queue off and no table or
	 * queue address of freed memory in its registers. */
	unsigned failures = 0;

	(void)state;
	for (unsigned long nth = 1;; nth++) {
		struct ionest_machine *m = ionest_machine_new();
		struct ionest_hw *hw = ionest_vtd_new(NULL);
		uint64_t v;
		int rc;

		assert_non_null(m);
		assert_non_null(hw);
		fault_inject_nth(nth);
		rc = ionest_machine_add_iommu(m, "iommu0", hw);
		fault_inject_nth(0);
		if (!rc) {
			ionest_machine_free(m);
			break;
		}
		assert_int_equal(rc, -ENOMEM);
		failures++;
		assert_int_equal(ionest_hw_mmio_read(hw, VTD_REG_GSTS, 4, &v),
				 0);
		assert_false(v & (VTD_GSTS_TES | VTD_GSTS_QIES));
		assert_int_equal(ionest_hw_mmio_read(hw, VTD_REG_RTADDR, 8, &v),
				 0);
		assert_int_equal(v, 0);
		assert_int_equal(ionest_hw_mmio_read(hw, VTD_REG_IQA, 8, &v),
				 0);
		assert_int_equal(v, 0);
		assert_int_equal(ionest_hw_mmio_read(hw, VTD_REG_PQA, 8, &v),
				 0);
		assert_int_equal(v, 0);
		ionest_hw_free(hw);
		ionest_machine_free(m);
	}
	assert_true(failures >= 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_programs_unit),
		cmocka_unit_test(test_refuses_parts),
		cmocka_unit_test(test_init_failure_leaves_unit_off),
		cmocka_unit_test(test_context_entries),
		cmocka_unit_test(test_device_ids),
		cmocka_unit_test(test_hw_info),
		cmocka_unit_test(test_resv_and_aperture),
		cmocka_unit_test(test_domain_flags),
		cmocka_unit_test(test_domain_ids),
		cmocka_unit_test(test_queue_long_batch),
		cmocka_unit_test(test_queue_error_recovers),
		cmocka_unit_test(test_fault_trace),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
