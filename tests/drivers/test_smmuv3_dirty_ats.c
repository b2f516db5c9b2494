// SPDX-License-Identifier: MIT
/*
 * SMMUv3 driver: dirty tracking with HTTU (bitmaps after device writes,
 * re-marking after a clear), ATS (device TLB filled by translation
 * requests, invalidated on unmap, replace and detach), and recoverable
 * faults (PRI page requests through a fault queue, or answered INVALID
 * when there is none; stalls resumed the same way).
 */
#include <errno.h>
#include <string.h>
#include <ionest/uapi/iommufd.h>

#include "machine/machine.h"
#include "smmu_fixture.h"

#define PAGE FX_PAGE
#define IOVA 0x100000ull
#define NPAGES 16

static int set_tracking(struct sx *x, uint32_t hwpt, bool on)
{
	struct iommu_hwpt_set_dirty_tracking s = {
		.size = sizeof(s),
		.flags = on ? IOMMU_HWPT_DIRTY_TRACKING_ENABLE : 0,
		.hwpt_id = hwpt,
	};

	return (int)fx_ioctl(x->f.fd, IOMMU_HWPT_SET_DIRTY_TRACKING, &s);
}

static uint64_t get_dirty(struct sx *x, uint32_t hwpt, uint32_t flags)
{
	uint64_t bitmap = 0;
	struct iommu_hwpt_get_dirty_bitmap g = {
		.size = sizeof(g),
		.hwpt_id = hwpt,
		.flags = flags,
		.iova = IOVA,
		.length = NPAGES * PAGE,
		.page_size = PAGE,
		.data = (uint64_t)(uintptr_t)&bitmap,
	};

	assert_int_equal(fx_ioctl(x->f.fd, IOMMU_HWPT_GET_DIRTY_BITMAP, &g), 0);
	return bitmap;
}

static void write_page(struct sx *x, unsigned p)
{
	uint8_t b = (uint8_t)p;

	assert_int_equal(fx_dma_write(&x->f, 0, IONEST_NO_PASID,
				      IOVA + p * PAGE + 8, &b, 1),
			 0);
}

static void test_dirty_bitmap(void **state)
{
	struct sx x;
	uint8_t *mem = fx_alloc(NPAGES * PAGE, PAGE), b;
	uint32_t ioas, h, pt;
	struct smmu_master *m;

	sx_setup(&x, NULL, 1);
	ioas = fx_ioas(x.f.fd);
	sx_map(&x, ioas, mem, NPAGES * PAGE, IOVA);
	h = sx_hwpt(&x, 0, ioas, IOMMU_HWPT_ALLOC_DIRTY_TRACKING);
	pt = h;
	sx_bind_attach(&x, 0, &pt);
	m = sx_master(&x, 0);
	/* CD 0 with HA and HD: the SMMU updates the tables itself. */
	assert_true(m->cdt.linear[0] & (1ull << 42));
	assert_true(m->cdt.linear[0] & (1ull << 43));
	assert_int_equal(set_tracking(&x, h, true), 0);
	assert_int_equal(get_dirty(&x, h, 0), 0);
	write_page(&x, 3);
	write_page(&x, 9);
	assert_int_equal(mem[3 * PAGE + 8], 3);
	/* A read dirties nothing. */
	assert_int_equal(fx_dma_read(&x.f, 0, IONEST_NO_PASID, IOVA + 5 * PAGE,
				     &b, 1),
			 0);
	assert_int_equal(get_dirty(&x, h, 0), 1u << 3 | 1u << 9);
	/* Cleared by the read... */
	assert_int_equal(get_dirty(&x, h, 0), 0);
	/* ...and the next write marks the page again: the TLB entry that
	 * allowed the write went with the clear. */
	write_page(&x, 3);
	assert_int_equal(get_dirty(&x, h, 0), 1u << 3);
	/* A page read first (cached read-only) then written. */
	assert_int_equal(fx_dma_read(&x.f, 0, IONEST_NO_PASID, IOVA + 11 * PAGE,
				     &b, 1),
			 0);
	write_page(&x, 11);
	/* NO_CLEAR leaves the state for the next read. */
	assert_int_equal(get_dirty(&x, h, IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR),
			 1u << 11);
	assert_int_equal(get_dirty(&x, h, 0), 1u << 11);
	assert_int_equal(get_dirty(&x, h, 0), 0);
	assert_int_equal(set_tracking(&x, h, false), 0);
	sx_teardown(&x);
	fx_free(mem, NPAGES * PAGE);
}

static void test_dirty_needs_httu(void **state)
{
	struct ionest_smmuv3_config cfg = { .httu = IONEST_CFG(1) };
	struct sx x;
	uint32_t ioas, id;

	sx_setup(&x, &cfg, 1);
	ioas = fx_ioas(x.f.fd);
	assert_int_equal(fx_bind(&x.f, 0), 0);
	assert_int_equal(fx_hwpt_alloc(x.f.fd, x.f.devid[0], ioas,
				       IOMMU_HWPT_ALLOC_DIRTY_TRACKING, &id),
			 -EOPNOTSUPP);
	/* A plain domain has no dirty ops. */
	assert_int_equal(fx_hwpt_alloc(x.f.fd, x.f.devid[0], ioas, 0, &id), 0);
	assert_int_equal(set_tracking(&x, id, true), -EOPNOTSUPP);
	sx_teardown(&x);
}

static int ats_dma(struct sx *x, uint32_t pasid, uint64_t iova, uint8_t *b)
{
	return ionest_device_dma(x->f.m, x->f.dev[0], pasid, iova, b, 1,
				 IONEST_DMA_FROM_MEM | IONEST_DMA_ATS);
}

static void test_ats_invalidation(void **state)
{
	struct sx x;
	uint8_t *mem = fx_alloc(4 * PAGE, PAGE), b = 0;
	struct dev_atc *atc;
	uint32_t ioas, pt;
	uint64_t xl, inv;

	sx_setup(&x, NULL, 1);
	atc = &machine_device(x.f.m, x.f.dev[0])->atc;
	ioas = fx_ioas(x.f.fd);
	for (int p = 0; p < 4; p++)
		mem[p * PAGE] = (uint8_t)(0x60 + p);
	sx_map(&x, ioas, mem, 4 * PAGE, IOVA);
	pt = ioas;
	sx_bind_attach(&x, 0, &pt);
	assert_true(sx_master(&x, 0)->ats);
	assert_int_equal(ats_dma(&x, IONEST_NO_PASID, IOVA, &b), 0);
	assert_int_equal(b, 0x60);
	assert_int_equal(atc->fills, 1);
	/* Served by the device's TLB: the SMMU is not asked. */
	xl = sx_hw_ctr(&x, "translate");
	assert_int_equal(ats_dma(&x, IONEST_NO_PASID, IOVA, &b), 0);
	assert_int_equal(sx_hw_ctr(&x, "translate"), xl);
	assert_int_equal(atc->hits, 1);
	assert_int_equal(ats_dma(&x, IONEST_NO_PASID, IOVA + 2 * PAGE, &b), 0);
	assert_int_equal(b, 0x62);
	/* Unmap: ATC_INV reaches the device before the unmap returns. */
	inv = sx_hw_ctr(&x, "atc_inv");
	assert_int_equal(fx_unmap(x.f.fd, ioas, IOVA, 4 * PAGE, NULL), 0);
	assert_true(sx_hw_ctr(&x, "atc_inv") > inv);
	assert_true(atc->invalidations > 0);
	assert_int_equal(ats_dma(&x, IONEST_NO_PASID, IOVA, &b), -EFAULT);
	assert_int_equal(ats_dma(&x, IONEST_NO_PASID, IOVA + 2 * PAGE, &b),
			 -EFAULT);
	/* A faulting translation request records nothing. */
	assert_int_equal(sx_ctr(&x, drv_event), 0);
	/* Detach turns ATS off and empties the ATC. */
	sx_map(&x, ioas, mem, 4 * PAGE, IOVA);
	assert_int_equal(ats_dma(&x, IONEST_NO_PASID, IOVA + PAGE, &b), 0);
	assert_int_equal(b, 0x61);
	assert_int_equal(fx_detach(&x.f, 0), 0);
	assert_false(sx_master(&x, 0)->ats);
	assert_int_equal(ats_dma(&x, IONEST_NO_PASID, IOVA + PAGE, &b),
			 -EFAULT);
	sx_teardown(&x);
	fx_free(mem, 4 * PAGE);
}

static void test_ats_replace(void **state)
{
	struct sx x;
	uint8_t *mem[2], b = 0;
	uint32_t ioas[2], h[2], pt;

	sx_setup(&x, NULL, 1);
	for (int i = 0; i < 2; i++) {
		mem[i] = fx_alloc(PAGE, PAGE);
		mem[i][0] = (uint8_t)(0x70 + i);
		ioas[i] = fx_ioas(x.f.fd);
		sx_map(&x, ioas[i], mem[i], PAGE, IOVA);
		h[i] = sx_hwpt(&x, 0, ioas[i], IOMMU_HWPT_ALLOC_PASID);
	}
	pt = h[0];
	sx_bind_attach(&x, 0, &pt);
	pt = h[0];
	assert_int_equal(fx_attach_pasid(&x.f, 0, 4, &pt), 0);
	assert_int_equal(ats_dma(&x, IONEST_NO_PASID, IOVA, &b), 0);
	assert_int_equal(b, 0x70);
	assert_int_equal(ats_dma(&x, 4, IOVA, &b), 0);
	assert_int_equal(b, 0x70);
	/* Replacing the RID's and the PASID's domain invalidates what the
	 * device cached: the next access sees the new domain. */
	pt = h[1];
	assert_int_equal(fx_attach(&x.f, 0, &pt), 0);
	assert_int_equal(ats_dma(&x, IONEST_NO_PASID, IOVA, &b), 0);
	assert_int_equal(b, 0x71);
	pt = h[1];
	assert_int_equal(fx_attach_pasid(&x.f, 0, 4, &pt), 0);
	assert_int_equal(ats_dma(&x, 4, IOVA, &b), 0);
	assert_int_equal(b, 0x71);
	assert_int_equal(fx_detach_pasid(&x.f, 0, 4), 0);
	assert_int_equal(ats_dma(&x, 4, IOVA, &b), -EFAULT);
	sx_teardown(&x);
	for (int i = 0; i < 2; i++)
		fx_free(mem[i], PAGE);
}

static void test_no_ats(void **state)
{
	struct ionest_smmuv3_config cfg = { .ats = IONEST_CFG(0),
					    .pri = IONEST_CFG(0) };
	struct sx x;
	uint8_t *mem = fx_alloc(PAGE, PAGE), b;
	uint32_t ioas, pt;

	sx_setup(&x, &cfg, 1);
	ioas = fx_ioas(x.f.fd);
	sx_map(&x, ioas, mem, PAGE, IOVA);
	pt = ioas;
	sx_bind_attach(&x, 0, &pt);
	/* The SMMU cannot take translation requests: EATS=0. */
	assert_int_equal(STE1_EATS(sx_master(&x, 0)->ste[1]), EATS_ABORT);
	assert_false(sx_master(&x, 0)->ats);
	assert_int_equal(ats_dma(&x, IONEST_NO_PASID, IOVA, &b), -EINVAL);
	assert_int_equal(fx_dma_read(&x.f, 0, IONEST_NO_PASID, IOVA, &b, 1), 0);
	assert_int_equal(sx_ctr(&x, drv_atc_inv), 0);
	sx_teardown(&x);
	fx_free(mem, PAGE);
}

struct resp_log {
	unsigned n;
	uint32_t sid, ssid, prgi, code;
	bool ssv;
};

static void log_resp(void *ctx, uint32_t sid, uint32_t ssid, bool ssv,
		     uint32_t prgi, uint32_t code)
{
	struct resp_log *l = ctx;

	l->n++;
	l->sid = sid;
	l->ssid = ssid;
	l->ssv = ssv;
	l->prgi = prgi;
	l->code = code;
}

static void test_pri_without_fault_queue(void **state)
{
	struct ionest_device_config dc = {
		.rid = 0x200, .pasid_bits = 4, .ats = true, .pri = true
	};
	struct sx x;
	struct resp_log log = { 0 };
	uint8_t *mem = fx_alloc(PAGE, PAGE), b = 0;
	uint32_t ioas, pt;

	sx_setup_devs(&x, NULL, &dc, 1);
	ionest_hw_set_page_resp_handler(x.hw, log_resp, &log);
	ioas = fx_ioas(x.f.fd);
	sx_map(&x, ioas, mem, PAGE, IOVA);
	pt = ioas;
	sx_bind_attach(&x, 0, &pt);
	assert_int_equal(fx_dma_read(&x.f, 0, IONEST_NO_PASID, IOVA, &b, 1), 0);
	/* Not mapped: a page request; nobody takes it (no fault queue), so
	 * the core answers INVALID and the driver sends PRI_RESP deny; the
	 * device is told to retry. */
	for (int i = 0; i < 3; i++)
		assert_int_equal(fx_dma_read(&x.f, 0, IONEST_NO_PASID,
					     IOVA + PAGE, &b, 1),
				 -EAGAIN);
	assert_int_equal(sx_ctr(&x, drv_pri_request), 3);
	assert_int_equal(sx_ctr(&x, drv_page_resp), 3);
	assert_int_equal(sx_hw_ctr(&x, "page_request"), 3);
	assert_int_equal(sx_rd32(&x, SMMU_PRIQ_PROD),
			 sx_rd32(&x, SMMU_PRIQ_CONS));
	assert_int_equal(log.n, 3);
	assert_int_equal(log.sid, 0x200);
	assert_false(log.ssv);
	assert_int_equal(log.code, 1); /* PCIe "invalid request" */
	assert_int_equal(sx_ctr(&x, drv_event), 0);
	sx_teardown(&x);
	fx_free(mem, PAGE);
}

/* The PRI flow end to end: the fault queue of the HWPT gets the request,
 * the VMM maps the page and answers SUCCESS, the DMA goes through. */
static void test_pri_fault_queue(void **state)
{
	struct ionest_device_config dc = {
		.rid = 0x200, .pasid_bits = 4, .ats = true, .pri = true
	};
	struct iommu_fault_alloc fa = { .size = sizeof(fa) };
	struct sx x;
	struct resp_log log = { 0 };
	struct iommu_hwpt_pgfault rec;
	struct iommu_hwpt_page_response r;
	uint8_t *mem = fx_alloc(2 * PAGE, PAGE), b = 0;
	uint32_t ioas, hwpt, pt;

	sx_setup_devs(&x, NULL, &dc, 1);
	ionest_hw_set_page_resp_handler(x.hw, log_resp, &log);
	ioas = fx_ioas(x.f.fd);
	sx_map(&x, ioas, mem, PAGE, IOVA);
	assert_int_equal(fx_ioctl(x.f.fd, IOMMU_FAULT_QUEUE_ALLOC, &fa), 0);
	assert_int_equal(fx_bind(&x.f, 0), 0);
	{
		struct iommu_hwpt_alloc h = {
			.size = sizeof(h),
			.flags = IOMMU_HWPT_FAULT_ID_VALID |
				 IOMMU_HWPT_ALLOC_PASID,
			.dev_id = x.f.devid[0],
			.pt_id = ioas,
			.fault_id = fa.out_fault_id,
		};

		assert_int_equal(fx_ioctl(x.f.fd, IOMMU_HWPT_ALLOC, &h), 0);
		hwpt = h.out_hwpt_id;
	}
	pt = hwpt;
	assert_int_equal(fx_attach(&x.f, 0, &pt), 0);
	pt = hwpt;
	assert_int_equal(fx_attach_pasid(&x.f, 0, 5, &pt), 0);
	/* Through PASID 5, a write: the request carries both. */
	assert_int_equal(fx_dma_write(&x.f, 0, 5, IOVA + PAGE + 9, &b, 1),
			 -EAGAIN);
	assert_int_equal(log.n, 0); /* waiting for the VMM */
	assert_int_equal(ionest_read((int)fa.out_fault_fd, &rec, sizeof(rec)),
			 sizeof(rec));
	assert_int_equal(rec.dev_id, x.f.devid[0]);
	assert_int_equal(rec.addr, IOVA + PAGE);
	assert_true(rec.flags & IOMMU_PGFAULT_FLAGS_PASID_VALID);
	assert_true(rec.flags & IOMMU_PGFAULT_FLAGS_LAST_PAGE);
	assert_int_equal(rec.pasid, 5);
	assert_int_equal(rec.perm, IOMMU_PGFAULT_PERM_WRITE);
	/* The VMM maps the page and answers. */
	sx_map(&x, ioas, mem + PAGE, PAGE, IOVA + PAGE);
	r = (struct iommu_hwpt_page_response){
		.cookie = rec.cookie, .code = IOMMUFD_PAGE_RESP_SUCCESS
	};
	assert_int_equal(ionest_write((int)fa.out_fault_fd, &r, sizeof(r)),
			 sizeof(r));
	assert_int_equal(log.n, 1);
	assert_int_equal(log.code, 0); /* success */
	assert_true(log.ssv);
	assert_int_equal(log.ssid, 5);
	assert_int_equal(log.prgi, rec.grpid);
	b = 0x77;
	assert_int_equal(fx_dma_write(&x.f, 0, 5, IOVA + PAGE + 9, &b, 1), 0);
	assert_int_equal(mem[PAGE + 9], 0x77);
	assert_int_equal(fx_detach_pasid(&x.f, 0, 5), 0);
	assert_int_equal(fx_detach(&x.f, 0), 0);
	assert_int_equal(ionest_close((int)fa.out_fault_fd), 0);
	sx_teardown(&x);
	fx_free(mem, 2 * PAGE);
}

static void test_stall_answered(void **state)
{
	struct ionest_smmuv3_config cfg = { .stall_model = IONEST_CFG(2) };
	struct sx x;
	uint8_t *mem = fx_alloc(PAGE, PAGE), b = 0;
	uint32_t ioas, pt;
	uint64_t ev[4];

	sx_setup(&x, &cfg, 1);
	ioas = fx_ioas(x.f.fd);
	sx_map(&x, ioas, mem, PAGE, IOVA);
	pt = ioas;
	sx_bind_attach(&x, 0, &pt);
	/* Forced stalls: each faulting access stalls; the driver reports
	 * it, nobody takes it, and the answer (RESUME, abort) frees the
	 * stall for the next one (the model holds 64 at most). */
	for (int i = 0; i < 100; i++)
		assert_int_equal(fx_dma_read(&x.f, 0, IONEST_NO_PASID,
					     IOVA + PAGE, &b, 1),
				 -EAGAIN);
	assert_int_equal(sx_ctr(&x, drv_stall), 100);
	assert_int_equal(sx_ctr(&x, drv_page_resp), 100);
	assert_true(sx_event(&x, ev));
	assert_true(ev[1] & EVT1_STALL);
	assert_int_equal(ev[0] & 0xff, EVT_F_TRANSLATION);
	while (sx_event(&x, ev))
		;
	sx_teardown(&x);
	fx_free(mem, PAGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dirty_bitmap),
		cmocka_unit_test(test_dirty_needs_httu),
		cmocka_unit_test(test_ats_invalidation),
		cmocka_unit_test(test_ats_replace),
		cmocka_unit_test(test_no_ats),
		cmocka_unit_test(test_pri_without_fault_queue),
		cmocka_unit_test(test_pri_fault_queue),
		cmocka_unit_test(test_stall_answered),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
