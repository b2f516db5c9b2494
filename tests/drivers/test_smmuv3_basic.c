// SPDX-License-Identifier: MIT
/*
 * SMMUv3 driver, end to end on the model: probe and reset, stream table
 * formats, hw_info, map + attach + DMA, faults and their event records,
 * unmap visible to the very next DMA (single pages, blocks, ranges, with
 * and without range invalidation), stage-2-only parts, 64K granule,
 * shared domains, and the type1 container flow.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <ionest/uapi/iommufd.h>
#include <ionest/uapi/vfio.h>

#include "machine/machine.h"
#include "smmu_fixture.h"

#define PAGE FX_PAGE
#define IOVA 0x100000ull

static void test_reset_state(void **state)
{
	struct sx x;

	sx_setup(&x, NULL, 1);
	/* Enabled with every queue, GBPA abort behind it. */
	assert_int_equal(sx_rd32(&x, SMMU_CR0),
			 CR0_SMMUEN | CR0_CMDQEN | CR0_EVTQEN | CR0_PRIQEN);
	assert_int_equal(sx_rd32(&x, SMMU_CR0ACK), sx_rd32(&x, SMMU_CR0));
	assert_true(sx_rd32(&x, SMMU_GBPA) & GBPA_ABORT);
	assert_int_equal(sx_rd32(&x, SMMU_IRQ_CTRL),
			 IRQ_CTRL_GERROR | IRQ_CTRL_EVTQ | IRQ_CTRL_PRIQ);
	assert_int_equal(sx_rd32(&x, SMMU_CR2), CR2_RECINVSID | CR2_PTM);
	/* 2-level, SPLIT 8, 16 StreamID bits. */
	assert_int_equal(sx_rd32(&x, SMMU_STRTAB_BASE_CFG),
			 STRTAB_FMT_2LVL << 16 | 8 << 6 | 16);
	assert_true(x.drv->st_2lvl);
	/* The reset invalidated everything cached. */
	assert_true(sx_hw_ctr(&x, "sync") >= 1);
	sx_teardown(&x);
}

static void test_blocked_until_attached(void **state)
{
	struct sx x;
	struct ionest_dma_fault f;
	uint8_t b = 1;
	struct smmu_master *m;

	sx_setup(&x, NULL, 1);
	m = sx_master(&x, 0);
	/* Probed: V=1, Config=abort. */
	assert_int_equal(m->ste[0], 1);
	assert_int_equal(fx_bind(&x.f, 0), 0);
	assert_int_equal(fx_dma_write(&x.f, 0, IONEST_NO_PASID, IOVA, &b, 1),
			 -EFAULT);
	assert_int_equal(ionest_device_last_fault(x.f.m, x.f.dev[0], &f), 0);
	/* Config abort terminates silently: no record. */
	assert_false(f.recorded);
	assert_int_equal(sx_ctr(&x, drv_event), 0);
	sx_teardown(&x);
}

static void test_unknown_sid_recorded(void **state)
{
	struct sx x;
	struct ionest_xlate_req r = { .sid = 0x4242,
				      .access = IONEST_ACCESS_READ };
	struct ionest_xlate_res res;
	uint64_t ev[4];

	sx_setup(&x, NULL, 1);
	/* No level-2 table for that bus: C_BAD_STREAMID, recorded because
	 * of CR2.RECINVSID, and drained by the driver's interrupt. */
	assert_int_equal(ionest_hw_translate(x.hw, &r, &res), 0);
	assert_int_equal(res.status, IONEST_XLATE_FAULT);
	assert_int_equal(res.fault, EVT_C_BAD_STREAMID);
	assert_int_equal(sx_ctr(&x, drv_event), 1);
	assert_true(sx_event(&x, ev));
	assert_int_equal(ev[0] & 0xff, EVT_C_BAD_STREAMID);
	assert_int_equal(ev[0] >> 32, 0x4242);
	assert_false(sx_event(&x, ev));
	sx_teardown(&x);
}

static void test_linear_stream_table(void **state)
{
	struct ionest_smmuv3_config cfg = {
		.st_level = IONEST_CFG(0),
		.sidsize = IONEST_CFG(10),
	};
	struct ionest_device_config dc[2] = {
		{ .rid = 0x3ff, .pasid_bits = 4 },
		{ .rid = 0x12, .pasid_bits = 0 },
	};
	struct ionest_device_config bad = { .iommu = "smmu0", .rid = 0x400 };
	struct sx x;
	uint8_t *mem = fx_alloc(PAGE, PAGE), b = 0x5a;
	uint32_t ioas, pt;

	sx_setup_devs(&x, &cfg, dc, 2);
	assert_false(x.drv->st_2lvl);
	assert_int_equal(sx_rd32(&x, SMMU_STRTAB_BASE_CFG),
			 STRTAB_FMT_LINEAR << 16 | 10);
	/* Beyond the StreamIDs the table covers. */
	assert_int_equal(ionest_machine_add_device(x.f.m, &bad), -EINVAL);
	ioas = fx_ioas(x.f.fd);
	sx_map(&x, ioas, mem, PAGE, IOVA);
	for (int i = 0; i < 2; i++) {
		pt = ioas;
		sx_bind_attach(&x, i, &pt);
		b = (uint8_t)(0x5a + i);
		assert_int_equal(fx_dma_write(&x.f, i, IONEST_NO_PASID,
					      IOVA + 8 * (unsigned)i, &b, 1),
				 0);
		assert_int_equal(mem[8 * i], b);
	}
	sx_teardown(&x);
	fx_free(mem, PAGE);
}

static void test_probe_refuses(void **state)
{
	struct ionest_smmuv3_config small_oas = { .oas = IONEST_CFG(3) };
	struct ionest_device_config dc = { .iommu = "smmu0", .rid = 0x100 };
	struct ionest_machine *m = ionest_machine_new();
	struct ionest_hw *hw = ionest_smmuv3_new(&small_oas);
	struct sx x;

	/* 42-bit output cannot reach host memory: the driver says no and
	 * the caller keeps the model. */
	assert_non_null(hw);
	assert_int_equal(ionest_machine_add_iommu(m, "smmu0", hw), -ENXIO);
	ionest_hw_free(hw);
	ionest_machine_free(m);

	sx_setup(&x, NULL, 1);
	/* One RID once per SMMU. */
	assert_int_equal(ionest_machine_add_device(x.f.m, &dc), -EEXIST);
	sx_teardown(&x);
}

static void test_hw_info(void **state)
{
	struct ionest_smmuv3_config cfg = { .ssidsize = IONEST_CFG(5) };
	struct iommu_hw_info_arm_smmuv3 d;
	struct iommu_hw_info h;
	struct sx x;

	sx_setup(&x, &cfg, 1);
	assert_int_equal(fx_bind(&x.f, 0), 0);
	memset(&d, 0xee, sizeof(d));
	h = (struct iommu_hw_info){
		.size = sizeof(h),
		.dev_id = x.f.devid[0],
		.data_len = sizeof(d),
		.data_uptr = (uint64_t)(uintptr_t)&d,
	};
	assert_int_equal(fx_ioctl(x.f.fd, IOMMU_GET_HW_INFO, &h), 0);
	assert_int_equal(h.out_data_type, IOMMU_HW_INFO_TYPE_ARM_SMMUV3);
	assert_int_equal(h.data_len, sizeof(d));
	assert_int_equal(d.flags, 0);
	assert_int_equal(d.__reserved, 0);
	for (unsigned i = 0; i < 6; i++)
		assert_int_equal(d.idr[i], sx_rd32(&x, SMMU_IDR0 + 4 * i));
	assert_int_equal(d.iidr, sx_rd32(&x, SMMU_IIDR));
	assert_int_equal(d.aidr, sx_rd32(&x, SMMU_AIDR));
	/* HTTU dirty, PASID exec from the function; PASIDs: min(8, 5). */
	assert_int_equal(h.out_capabilities,
			 IOMMU_HW_CAP_DIRTY_TRACKING |
				 IOMMU_HW_CAP_PCI_PASID_EXEC);
	assert_int_equal(h.out_max_pasid_log2, 5);
	/* Asking for our type works, another type does not. */
	h.flags = IOMMU_HW_INFO_FLAG_INPUT_TYPE;
	h.in_data_type = IOMMU_HW_INFO_TYPE_ARM_SMMUV3;
	h.data_len = sizeof(d);
	assert_int_equal(fx_ioctl(x.f.fd, IOMMU_GET_HW_INFO, &h), 0);
	h.in_data_type = IOMMU_HW_INFO_TYPE_INTEL_VTD;
	h.data_len = sizeof(d);
	assert_int_equal(fx_ioctl(x.f.fd, IOMMU_GET_HW_INFO, &h), -EOPNOTSUPP);
	sx_teardown(&x);

	/* No HTTU: no dirty tracking; no ATS on the SMMU. */
	cfg = (struct ionest_smmuv3_config){ .httu = IONEST_CFG(1),
					     .ats = IONEST_CFG(0),
					     .pri = IONEST_CFG(0) };
	sx_setup(&x, &cfg, 1);
	assert_int_equal(fx_bind(&x.f, 0), 0);
	h = (struct iommu_hw_info){ .size = sizeof(h), .dev_id = x.f.devid[0] };
	assert_int_equal(fx_ioctl(x.f.fd, IOMMU_GET_HW_INFO, &h), 0);
	assert_int_equal(h.out_capabilities,
			 IOMMU_HW_CAP_PCI_PASID_EXEC |
				 IOMMU_HW_CAP_PCI_ATS_NOT_SUPPORTED);
	assert_int_equal(h.out_max_pasid_log2, 8);
	sx_teardown(&x);
}

static void test_map_attach_dma(void **state)
{
	struct sx x;
	uint8_t *mem = fx_alloc(4 * PAGE, PAGE), buf[300];
	uint32_t ioas, pt;
	struct smmu_master *m;

	sx_setup(&x, NULL, 1);
	ioas = fx_ioas(x.f.fd);
	sx_map(&x, ioas, mem, 4 * PAGE, IOVA);
	pt = ioas;
	sx_bind_attach(&x, 0, &pt);
	m = sx_master(&x, 0);
	/* Stage 1 through the CD table, CD 0 for the RID (S1DSS=0b10),
	 * ATS translated. */
	assert_int_equal(STE0_CONFIG(m->ste[0]), STE_CFG_S1);
	assert_int_equal(STE0_S1CDMAX(m->ste[0]), 8);
	assert_int_equal(STE1_S1DSS(m->ste[1]), S1DSS_SSID0);
	assert_int_equal(STE1_EATS(m->ste[1]), EATS_TRANS);
	assert_true(smmuv3_cd_valid(m, 0));
	/* A write straddling two pages lands in the right bytes. */
	for (unsigned i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + 1);
	assert_int_equal(fx_dma_write(&x.f, 0, IONEST_NO_PASID,
				      IOVA + PAGE - 100, buf, sizeof(buf)),
			 0);
	assert_memory_equal(mem + PAGE - 100, buf, sizeof(buf));
	assert_int_equal(mem[PAGE - 101], 0);
	assert_int_equal(mem[PAGE + 200], 0);
	/* And reads back. */
	memset(mem + 3 * PAGE, 0x3c, 64);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(fx_dma_read(&x.f, 0, IONEST_NO_PASID, IOVA + 3 * PAGE,
				     buf, 64),
			 0);
	for (int i = 0; i < 64; i++)
		assert_int_equal(buf[i], 0x3c);
	sx_teardown(&x);
	fx_free(mem, 4 * PAGE);
}

static void test_fault_event(void **state)
{
	struct sx x;
	uint8_t *mem = fx_alloc(PAGE, PAGE), b = 0;
	struct ionest_dma_fault f;
	uint32_t ioas, pt;
	uint64_t ev[4];

	sx_setup(&x, NULL, 1);
	ioas = fx_ioas(x.f.fd);
	sx_map(&x, ioas, mem, PAGE, IOVA);
	pt = ioas;
	sx_bind_attach(&x, 0, &pt);
	assert_int_equal(fx_dma_read(&x.f, 0, IONEST_NO_PASID,
				     IOVA + PAGE + 0x10, &b, 1),
			 -EFAULT);
	assert_int_equal(ionest_device_last_fault(x.f.m, x.f.dev[0], &f), 0);
	assert_int_equal(f.code, EVT_F_TRANSLATION);
	assert_true(f.recorded);
	/* The driver consumed it (the interrupt) and kept the record. */
	assert_int_equal(sx_ctr(&x, drv_event), 1);
	assert_int_equal(sx_rd32(&x, SMMU_EVTQ_PROD),
			 sx_rd32(&x, SMMU_EVTQ_CONS));
	assert_true(sx_event(&x, ev));
	assert_int_equal(ev[0] & 0xff, EVT_F_TRANSLATION);
	assert_int_equal(ev[0] >> 32, 0x100);
	assert_false(ev[0] & EVT0_SSV);
	assert_true(ev[1] & EVT1_RNW);
	assert_int_equal(ev[2], IOVA + PAGE + 0x10);
	/* A write to a read-only mapping: F_PERMISSION. */
	assert_int_equal(
		fx_map(x.f.fd, ioas, mem, PAGE, &(uint64_t){ IOVA + 8 * PAGE },
		       IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE),
		0);
	assert_int_equal(fx_dma_read(&x.f, 0, IONEST_NO_PASID, IOVA + 8 * PAGE,
				     &b, 1),
			 0);
	assert_int_equal(fx_dma_write(&x.f, 0, IONEST_NO_PASID, IOVA + 8 * PAGE,
				      &b, 1),
			 -EFAULT);
	assert_true(sx_event(&x, ev));
	assert_int_equal(ev[0] & 0xff, EVT_F_PERMISSION);
	assert_false(ev[1] & EVT1_RNW);
	sx_teardown(&x);
	fx_free(mem, PAGE);
}

static void test_many_faults_drained(void **state)
{
	struct sx x;
	uint8_t *mem = fx_alloc(PAGE, PAGE), b;
	uint32_t ioas, pt;
	unsigned n = 3 * (1u << SMMUV3_EVTQ_LOG2) + 5;
	uint64_t ev[SMMUV3_EVRING + 1][4];

	sx_setup(&x, NULL, 1);
	ioas = fx_ioas(x.f.fd);
	sx_map(&x, ioas, mem, PAGE, IOVA);
	pt = ioas;
	sx_bind_attach(&x, 0, &pt);
	/* Three times the queue: drained as they come, none lost. */
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(fx_dma_read(&x.f, 0, IONEST_NO_PASID,
					     IOVA + (2 + i) * PAGE, &b, 1),
				 -EFAULT);
	assert_int_equal(sx_ctr(&x, drv_event), n);
	assert_int_equal(sx_hw_ctr(&x, "event"), n);
	/* The ring keeps the newest. */
	assert_int_equal(smmuv3_pop_events(x.f.m->iommus[0]->inst, ev,
					   SMMUV3_EVRING + 1),
			 SMMUV3_EVRING);
	assert_int_equal(ev[SMMUV3_EVRING - 1][2], IOVA + (2 + n - 1) * PAGE);
	sx_teardown(&x);
	fx_free(mem, PAGE);
}

/* DMA one byte at each page of @iova..: 0 or -EFAULT expected. */
static void expect_dma(struct sx *x, uint64_t iova, unsigned pages, int want)
{
	uint8_t b = 0;

	for (unsigned p = 0; p < pages; p++)
		assert_int_equal(fx_dma_read(&x->f, 0, IONEST_NO_PASID,
					     iova + (uint64_t)p * PAGE, &b, 1),
				 want);
}

static void unmap_next_dma(const struct ionest_smmuv3_config *cfg)
{
	size_t len = 8ull << 20;
	uint8_t *mem = fx_alloc(len, 2 << 20);
	uint64_t base = 0x40000000, un;
	struct sx x;
	uint32_t ioas, pt;

	sx_setup(&x, cfg, 1);
	ioas = fx_ioas(x.f.fd);
	/* One page, one 2M block, and a 4M range of pages (huge pages
	 * off for that IOAS would need another IOAS: use distinct maps). */
	sx_map(&x, ioas, mem, PAGE, base);
	sx_map(&x, ioas, mem + (2 << 20), 2 << 20, base + (2 << 20));
	sx_map(&x, ioas, mem + (4 << 20), 4 << 20, base + (4 << 20));
	pt = ioas;
	sx_bind_attach(&x, 0, &pt);
	expect_dma(&x, base, 1, 0);
	expect_dma(&x, base + (2 << 20), 2, 0);
	expect_dma(&x, base + (4 << 20), 8, 0);
	/* Cached now: the next DMA hits the TLB. */
	{
		uint64_t hits = sx_hw_ctr(&x, "tlb_hit");

		expect_dma(&x, base, 1, 0);
		assert_int_equal(sx_hw_ctr(&x, "tlb_hit"), hits + 1);
	}
	assert_int_equal(fx_unmap(x.f.fd, ioas, base, PAGE, &un), 0);
	assert_int_equal(un, PAGE);
	expect_dma(&x, base, 1, -EFAULT);
	assert_int_equal(fx_unmap(x.f.fd, ioas, base + (2 << 20), 2 << 20, &un),
			 0);
	expect_dma(&x, base + (2 << 20), 2, -EFAULT);
	expect_dma(&x, base + (4 << 20), 8, 0);
	assert_int_equal(fx_unmap(x.f.fd, ioas, base + (4 << 20), 4 << 20, &un),
			 0);
	expect_dma(&x, base + (4 << 20), 8, -EFAULT);
	expect_dma(&x, base + (8 << 20) - PAGE, 1, -EFAULT);
	assert_true(sx_ctr(&x, drv_tlbi) >= 3);
	/* Drain the fault records. */
	while (sx_event(&x, (uint64_t[4]){ 0 }))
		;
	sx_teardown(&x);
	fx_free(mem, len);
}

static void test_unmap_next_dma_range(void **state)
{
	unmap_next_dma(NULL);
}

static void test_unmap_next_dma_no_ril(void **state)
{
	struct ionest_smmuv3_config cfg = { .ril = IONEST_CFG(0) };

	unmap_next_dma(&cfg);
}

static void test_stage2_only_smmu(void **state)
{
	struct ionest_smmuv3_config cfg = { .s1p = IONEST_CFG(0) };
	uint8_t *mem = fx_alloc(2 * PAGE, PAGE), b = 0x77;
	struct sx x;
	uint32_t ioas, pt;
	struct smmu_master *m;

	sx_setup(&x, &cfg, 1);
	ioas = fx_ioas(x.f.fd);
	sx_map(&x, ioas, mem, 2 * PAGE, IOVA);
	pt = ioas;
	sx_bind_attach(&x, 0, &pt);
	m = sx_master(&x, 0);
	/* Plain paging uses stage 2 when that is all there is. */
	assert_int_equal(STE0_CONFIG(m->ste[0]), STE_CFG_S2);
	assert_int_not_equal(STE2_S2VMID(m->ste[2]), 0);
	assert_int_equal(m->dev->max_pasids, 0);
	assert_int_equal(
		fx_dma_write(&x.f, 0, IONEST_NO_PASID, IOVA + PAGE, &b, 1), 0);
	assert_int_equal(mem[PAGE], 0x77);
	assert_int_equal(fx_unmap(x.f.fd, ioas, IOVA, 2 * PAGE, NULL), 0);
	assert_int_equal(fx_dma_write(&x.f, 0, IONEST_NO_PASID, IOVA + PAGE, &b,
				      1),
			 -EFAULT);
	assert_true(sx_event(&x, (uint64_t[4]){ 0 }));
	sx_teardown(&x);
	fx_free(mem, 2 * PAGE);
}

static void test_granule_64k(void **state)
{
	struct ionest_smmuv3_config cfg = { .gran4k = IONEST_CFG(0),
					    .gran16k = IONEST_CFG(0) };
	struct sx x;
	uint32_t ioas, pt, hwpt;

	sx_setup(&x, &cfg, 1);
	/* The driver's tables use the granule the SMMU has... */
	assert_int_equal(x.drv->gran, 16);
	ioas = fx_ioas(x.f.fd);
	assert_int_equal(fx_bind(&x.f, 0), 0);
	/* ...but iommufd maps PAGE_SIZE (4K) pages: a domain whose
	 * smallest IOPTE is 64K cannot serve an IOAS (as in Linux). */
	assert_int_equal(fx_hwpt_alloc(x.f.fd, x.f.devid[0], ioas, 0, &hwpt),
			 -EINVAL);
	pt = ioas;
	assert_int_equal(fx_attach(&x.f, 0, &pt), -EINVAL);
	assert_int_equal(sx_master(&x, 0)->ste[0], 1);
	sx_teardown(&x);
}

static void test_shared_domain(void **state)
{
	struct sx x;
	uint8_t *mem = fx_alloc(PAGE, PAGE), b;
	uint32_t ioas, pt0, pt1;

	sx_setup(&x, NULL, 2);
	ioas = fx_ioas(x.f.fd);
	sx_map(&x, ioas, mem, PAGE, IOVA);
	pt0 = pt1 = ioas;
	sx_bind_attach(&x, 0, &pt0);
	sx_bind_attach(&x, 1, &pt1);
	/* The automatic domain is shared: one ASID, two CD tables. */
	assert_int_equal(pt0, pt1);
	assert_int_equal(sx_master(&x, 0)->rid_dom, sx_master(&x, 1)->rid_dom);
	for (int i = 0; i < 2; i++) {
		b = (uint8_t)(0x10 + i);
		assert_int_equal(fx_dma_write(&x.f, i, IONEST_NO_PASID,
					      IOVA + (unsigned)i, &b, 1),
				 0);
		assert_int_equal(mem[i], b);
	}
	assert_int_equal(fx_unmap(x.f.fd, ioas, IOVA, PAGE, NULL), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(fx_dma_write(&x.f, i, IONEST_NO_PASID, IOVA,
					      &b, 1),
				 -EFAULT);
	sx_teardown(&x);
	fx_free(mem, PAGE);
}

struct churn {
	struct sx *x;
	int stop;
	unsigned long steady_ok, steady_fail, other_ok;
};

/* Thread: DMA to a region that stays mapped (must always work) and to
 * one being mapped and unmapped (may fault, must not corrupt). */
static void *churn_dma(void *p)
{
	struct churn *c = p;
	uint8_t b[32];

	memset(b, 0xee, sizeof(b));
	while (!__atomic_load_n(&c->stop, __ATOMIC_ACQUIRE)) {
		if (fx_dma_write(&c->x->f, 0, IONEST_NO_PASID, IOVA + 100, b,
				 sizeof(b)))
			c->steady_fail++;
		else
			c->steady_ok++;
		if (!fx_dma_write(&c->x->f, 0, IONEST_NO_PASID,
				  IOVA + (2 << 20) + 5 * PAGE, b, sizeof(b)))
			c->other_ok++;
	}
	return NULL;
}

static void test_unmap_under_dma(void **state)
{
	struct sx x;
	struct churn c = { .x = &x };
	uint8_t *steady = fx_alloc(PAGE, PAGE);
	uint8_t *mem = fx_alloc(64 * PAGE, PAGE);
	uint32_t ioas, pt;
	pthread_t th;

	sx_setup(&x, NULL, 1);
	ioas = fx_ioas(x.f.fd);
	sx_map(&x, ioas, steady, PAGE, IOVA);
	pt = ioas;
	sx_bind_attach(&x, 0, &pt);
	assert_int_equal(pthread_create(&th, NULL, churn_dma, &c), 0);
	/* The churned region shares upper tables with the steady one; its
	 * last-level table is freed and reallocated every round. */
	for (int i = 0; i < 300; i++) {
		sx_map(&x, ioas, mem, 64 * PAGE, IOVA + (2 << 20));
		if (i % 10 == 0) {
			unsigned long ok =
				__atomic_load_n(&c.steady_ok, __ATOMIC_RELAXED);

			while (__atomic_load_n(&c.steady_ok,
					       __ATOMIC_RELAXED) == ok)
				sched_yield();
		}
		assert_int_equal(fx_unmap(x.f.fd, ioas, IOVA + (2 << 20),
					  64 * PAGE, NULL),
				 0);
		/* Nothing writes through the old translation any more. */
		memset(mem + 5 * PAGE, 0, 64);
		for (int k = 0; k < 10; k++)
			sched_yield();
		for (int k = 0; k < 64; k++)
			assert_int_equal(mem[5 * PAGE + k], 0);
	}
	__atomic_store_n(&c.stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	assert_int_equal(c.steady_fail, 0);
	assert_true(c.steady_ok > 0);
	while (sx_event(&x, (uint64_t[4]){ 0 }))
		;
	sx_teardown(&x);
	fx_free(steady, PAGE);
	fx_free(mem, 64 * PAGE);
}

#define ARG(v) ((void *)(uintptr_t)(v))

static void test_type1_compat(void **state)
{
	struct ionest_machine *m = ionest_machine_new();
	struct ionest_hw *hw = ionest_smmuv3_new(NULL);
	struct ionest_device_config dc = { .iommu = "smmu0", .rid = 0x800 };
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	struct vfio_device_attach_iommufd_pt at = { .argsz = sizeof(at) };
	struct iommu_vfio_ioas v = { .size = sizeof(v),
				     .op = IOMMU_VFIO_IOAS_SET };
	uint8_t *mem = fx_alloc(4 * PAGE, PAGE), b = 0x42;
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uint64_t)(uintptr_t)mem,
		.iova = 0x200000,
		.size = 4 * PAGE,
	};
	struct vfio_iommu_type1_dma_unmap un = {
		.argsz = sizeof(un),
		.iova = 0x200000,
		.size = 4 * PAGE,
	};
	int fd, cdev, dev;

	assert_int_equal(ionest_machine_add_iommu(m, "smmu0", hw), 0);
	dev = ionest_machine_add_device(m, &dc);
	assert_true(dev >= 0);
	fd = ionest_open(m, "/dev/vfio/vfio", O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(
		fx_ioctl(fd, VFIO_CHECK_EXTENSION, ARG(VFIO_TYPE1v2_IOMMU)), 1);
	/* The compat IOAS, then the container type. */
	v.ioas_id = fx_ioas(fd);
	assert_int_equal(fx_ioctl(fd, IOMMU_VFIO_IOAS, &v), 0);
	assert_int_equal(fx_ioctl(fd, VFIO_SET_IOMMU, ARG(VFIO_TYPE1v2_IOMMU)),
			 0);
	assert_int_equal(fx_ioctl(fd, VFIO_IOMMU_MAP_DMA, &map), 0);
	cdev = ionest_open(m, "/dev/vfio/devices/vfio0", O_RDWR);
	assert_true(cdev >= 0);
	bind.iommufd = fd;
	assert_int_equal(fx_ioctl(cdev, VFIO_DEVICE_BIND_IOMMUFD, &bind), 0);
	at.pt_id = v.ioas_id;
	assert_int_equal(fx_ioctl(cdev, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at), 0);
	assert_int_equal(ionest_device_dma(m, dev, IONEST_NO_PASID,
					   0x200000 + 2 * PAGE + 3, &b, 1,
					   IONEST_DMA_TO_MEM),
			 0);
	assert_int_equal(mem[2 * PAGE + 3], 0x42);
	assert_int_equal(fx_ioctl(fd, VFIO_IOMMU_UNMAP_DMA, &un), 0);
	assert_int_equal(un.size, 4 * PAGE);
	assert_int_equal(ionest_device_dma(m, dev, IONEST_NO_PASID,
					   0x200000 + 2 * PAGE + 3, &b, 1,
					   IONEST_DMA_TO_MEM),
			 -EFAULT);
	{
		uint64_t g = 0, gn = 1;

		ionest_hw_mmio_read(hw, SMMU_GERROR, 4, &g);
		ionest_hw_mmio_read(hw, SMMU_GERRORN, 4, &gn);
		assert_int_equal(g, gn);
	}
	assert_int_equal(ionest_close(cdev), 0);
	assert_int_equal(ionest_close(fd), 0);
	ionest_machine_free(m);
	fx_free(mem, 4 * PAGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reset_state),
		cmocka_unit_test(test_blocked_until_attached),
		cmocka_unit_test(test_unknown_sid_recorded),
		cmocka_unit_test(test_linear_stream_table),
		cmocka_unit_test(test_probe_refuses),
		cmocka_unit_test(test_hw_info),
		cmocka_unit_test(test_map_attach_dma),
		cmocka_unit_test(test_fault_event),
		cmocka_unit_test(test_many_faults_drained),
		cmocka_unit_test(test_unmap_next_dma_range),
		cmocka_unit_test(test_unmap_next_dma_no_ril),
		cmocka_unit_test(test_stage2_only_smmu),
		cmocka_unit_test(test_granule_64k),
		cmocka_unit_test(test_shared_domain),
		cmocka_unit_test(test_unmap_under_dma),
		cmocka_unit_test(test_type1_compat),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
