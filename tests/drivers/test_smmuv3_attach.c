// SPDX-License-Identifier: MIT
/*
 * SMMUv3 driver attachments: replace between stage-1 domains without a
 * window (one STE qword, DMA running all along), stage 1 <-> stage 2,
 * detach and unbind back to abort, NEST_PARENT domains as stage 2, domain
 * IDs, and domains of another SMMU.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <ionest/uapi/iommufd.h>

#include "machine/machine.h"
#include "smmu_fixture.h"

#define PAGE FX_PAGE
#define IOVA 0x100000ull

struct two {
	struct sx x;
	uint32_t ioas[2];
	uint8_t *mem[2];
};

/* Two IOASes mapping IOVA to two buffers (byte 0: 0xa0 + i). */
static void two_setup(struct two *t, const struct ionest_smmuv3_config *cfg,
		      struct ionest_device_config *dc, int ndev)
{
	if (dc)
		sx_setup_devs(&t->x, cfg, dc, ndev);
	else
		sx_setup(&t->x, cfg, ndev);
	for (int i = 0; i < 2; i++) {
		t->ioas[i] = fx_ioas(t->x.f.fd);
		t->mem[i] = fx_alloc(PAGE, PAGE);
		t->mem[i][0] = (uint8_t)(0xa0 + i);
		sx_map(&t->x, t->ioas[i], t->mem[i], PAGE, IOVA);
	}
}

static void two_teardown(struct two *t)
{
	sx_teardown(&t->x);
	for (int i = 0; i < 2; i++)
		fx_free(t->mem[i], PAGE);
}

static uint8_t dma_byte(struct sx *x, int dev)
{
	uint8_t b = 0;

	assert_int_equal(fx_dma_read(&x->f, dev, IONEST_NO_PASID, IOVA, &b, 1),
			 0);
	return b;
}

static void replace_s1(struct ionest_device_config *dc)
{
	struct two t;
	uint32_t h[2], pt;
	uint64_t w;
	struct smmu_master *m;

	two_setup(&t, NULL, dc, 1);
	for (int i = 0; i < 2; i++)
		h[i] = sx_hwpt(&t.x, 0, t.ioas[i], 0);
	pt = h[0];
	sx_bind_attach(&t.x, 0, &pt);
	assert_int_equal(dma_byte(&t.x, 0), 0xa0);
	m = sx_master(&t.x, 0);
	for (int round = 0; round < 4; round++) {
		int to = (round + 1) & 1;
		uint64_t d1 = m->ste[1];

		w = sx_ctr(&t.x, drv_ste_write);
		pt = h[to];
		assert_int_equal(fx_attach(&t.x.f, 0, &pt), 0);
		assert_int_equal(dma_byte(&t.x, 0), 0xa0 + to);
		/* Hitless: at most the one qword holding S1ContextPtr (the
		 * CD table is copied), never through abort. */
		assert_true(sx_ctr(&t.x, drv_ste_write) - w <= 1);
		assert_int_equal(STE0_CONFIG(m->ste[0]), STE_CFG_S1);
		assert_int_equal(m->ste[1], d1);
	}
	two_teardown(&t);
}

static void test_replace_s1(void **state)
{
	replace_s1(NULL);
}

static void test_replace_s1_no_pasid(void **state)
{
	struct ionest_device_config dc = { .rid = 0x20 };

	replace_s1(&dc);
}

static void test_replace_s1_cd_2level(void **state)
{
	struct ionest_device_config dc = { .rid = 0x21, .pasid_bits = 20 };

	replace_s1(&dc);
}

struct dma_loop {
	struct sx *x;
	int stop;
	unsigned long ok, fail, seen[2];
};

static void *dma_thread(void *arg)
{
	struct dma_loop *l = arg;

	while (!__atomic_load_n(&l->stop, __ATOMIC_ACQUIRE)) {
		uint8_t b = 0;

		if (fx_dma_read(&l->x->f, 0, IONEST_NO_PASID, IOVA, &b, 1) ||
		    (b != 0xa0 && b != 0xa1)) {
			l->fail++;
			continue;
		}
		l->ok++;
		l->seen[b - 0xa0]++;
	}
	return NULL;
}

static void test_replace_under_dma(void **state)
{
	struct two t;
	struct dma_loop l = { .x = &t.x };
	pthread_t th;
	uint32_t h[2], pt;

	two_setup(&t, NULL, NULL, 1);
	for (int i = 0; i < 2; i++)
		h[i] = sx_hwpt(&t.x, 0, t.ioas[i], 0);
	pt = h[0];
	sx_bind_attach(&t.x, 0, &pt);
	assert_int_equal(pthread_create(&th, NULL, dma_thread, &l), 0);
	/* Every DMA sees one domain or the other, none faults. */
	for (int i = 0; i < 2000; i++) {
		pt = h[(i + 1) & 1];
		assert_int_equal(fx_attach(&t.x.f, 0, &pt), 0);
		if (i % 20 == 19) {
			unsigned long ok =
				__atomic_load_n(&l.ok, __ATOMIC_RELAXED);

			while (__atomic_load_n(&l.ok, __ATOMIC_RELAXED) == ok)
				sched_yield();
		}
	}
	__atomic_store_n(&l.stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	assert_int_equal(l.fail, 0);
	assert_true(l.ok > 0);
	assert_int_equal(sx_ctr(&t.x, drv_event), 0);
	two_teardown(&t);
}

static void test_replace_s1_s2(void **state)
{
	struct two t;
	uint32_t hs1, hs2, pt;
	struct smmu_master *m;

	two_setup(&t, NULL, NULL, 1);
	hs1 = sx_hwpt(&t.x, 0, t.ioas[0], 0);
	hs2 = sx_hwpt(&t.x, 0, t.ioas[1], IOMMU_HWPT_ALLOC_NEST_PARENT);
	m = sx_master(&t.x, 0);
	pt = hs1;
	sx_bind_attach(&t.x, 0, &pt);
	assert_true(smmuv3_cd_valid(m, 0));
	for (int round = 0; round < 3; round++) {
		uint64_t w = sx_ctr(&t.x, drv_ste_write);

		pt = hs2;
		assert_int_equal(fx_attach(&t.x.f, 0, &pt), 0);
		assert_int_equal(STE0_CONFIG(m->ste[0]), STE_CFG_S2);
		/* DW0 and DW2 (VMID) both change: through abort, then the
		 * other qwords, then DW0. */
		assert_int_equal(sx_ctr(&t.x, drv_ste_write) - w, 3);
		/* Not reachable any more: CD 0 is gone. */
		assert_false(smmuv3_cd_valid(m, 0));
		assert_int_equal(dma_byte(&t.x, 0), 0xa1);
		pt = hs1;
		assert_int_equal(fx_attach(&t.x.f, 0, &pt), 0);
		assert_int_equal(STE0_CONFIG(m->ste[0]), STE_CFG_S1);
		assert_int_equal(STE2_S2VMID(m->ste[2]), 0);
		assert_int_equal(m->ste[3], 0);
		assert_int_equal(dma_byte(&t.x, 0), 0xa0);
	}
	two_teardown(&t);
}

static void test_detach_and_unbind(void **state)
{
	struct two t;
	struct ionest_dma_fault f;
	uint32_t pt;
	uint8_t b;
	struct smmu_master *m;

	two_setup(&t, NULL, NULL, 1);
	m = sx_master(&t.x, 0);
	pt = t.ioas[0];
	sx_bind_attach(&t.x, 0, &pt);
	assert_true(m->ats);
	assert_int_equal(dma_byte(&t.x, 0), 0xa0);
	assert_int_equal(fx_detach(&t.x.f, 0), 0);
	/* Blocked: abort, silently; ATS off; no domain. */
	assert_int_equal(m->ste[0], 1);
	assert_false(m->ats);
	assert_null(m->rid_dom);
	assert_int_equal(fx_dma_read(&t.x.f, 0, IONEST_NO_PASID, IOVA, &b, 1),
			 -EFAULT);
	assert_int_equal(ionest_device_last_fault(t.x.f.m, t.x.f.dev[0], &f),
			 0);
	assert_false(f.recorded);
	/* Attach again, then unbind by closing the cdev. */
	pt = t.ioas[1];
	assert_int_equal(fx_attach(&t.x.f, 0, &pt), 0);
	assert_int_equal(dma_byte(&t.x, 0), 0xa1);
	assert_int_equal(ionest_close(t.x.f.cdev[0]), 0);
	t.x.f.cdev[0] = -1;
	assert_int_equal(m->ste[0], 1);
	assert_int_equal(fx_dma_read(&t.x.f, 0, IONEST_NO_PASID, IOVA, &b, 1),
			 -EFAULT);
	assert_int_equal(sx_ctr(&t.x, drv_event), 0);
	two_teardown(&t);
}

static void test_nest_parent_stage2(void **state)
{
	struct two t;
	uint32_t h, pt, id;
	uint64_t ev[4];
	uint8_t b;
	struct smmu_master *m;

	two_setup(&t, NULL, NULL, 1);
	h = sx_hwpt(&t.x, 0, t.ioas[0], IOMMU_HWPT_ALLOC_NEST_PARENT);
	/* Dirty tracking is stage 1 only. */
	assert_int_equal(fx_hwpt_alloc(t.x.f.fd, t.x.f.devid[0], t.ioas[0],
				       IOMMU_HWPT_ALLOC_NEST_PARENT |
					       IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
				       &id),
			 -EOPNOTSUPP);
	pt = h;
	sx_bind_attach(&t.x, 0, &pt);
	m = sx_master(&t.x, 0);
	assert_int_equal(STE0_CONFIG(m->ste[0]), STE_CFG_S2);
	assert_int_not_equal(STE2_S2VMID(m->ste[2]), 0);
	assert_int_equal(STE2_S2T0SZ(m->ste[2]), 64 - SMMUV3_IAS);
	assert_true(STE2_S2AA64(m->ste[2]));
	assert_true(STE2_S2R(m->ste[2]));
	assert_int_equal(m->ste[3] & STE3_S2TTB, m->rid_dom->pt.root);
	assert_int_equal(STE1_EATS(m->ste[1]), EATS_TRANS);
	assert_int_equal(dma_byte(&t.x, 0), 0xa0);
	assert_int_equal(fx_unmap(t.x.f.fd, t.ioas[0], IOVA, PAGE, NULL), 0);
	assert_int_equal(fx_dma_read(&t.x.f, 0, IONEST_NO_PASID, IOVA, &b, 1),
			 -EFAULT);
	/* A stage-2 fault record: S2=1, CLASS=IN, the IPA. */
	assert_true(sx_event(&t.x, ev));
	assert_int_equal(ev[0] & 0xff, EVT_F_TRANSLATION);
	assert_true(ev[1] & EVT1_S2);
	assert_int_equal((ev[1] >> EVT1_CLASS_SHIFT) & 3, EVT_CLASS_IN);
	assert_int_equal(ev[3], IOVA);
	two_teardown(&t);
}

static void test_nest_parent_needs_nesting(void **state)
{
	struct ionest_smmuv3_config no_s2 = { .s2p = IONEST_CFG(0) };
	struct sx x;
	uint32_t ioas, id;

	sx_setup(&x, &no_s2, 1);
	ioas = fx_ioas(x.f.fd);
	assert_int_equal(fx_bind(&x.f, 0), 0);
	/* Without stage 2 the instance nests in software (AUTO): a nest
	 * parent is a stage 2 only the driver reads, never in an STE. */
	assert_int_equal(ionest_machine_nesting(x.f.m, "smmu0"),
			 IONEST_NESTING_SHADOW);
	assert_int_equal(fx_hwpt_alloc(x.f.fd, x.f.devid[0], ioas,
				       IOMMU_HWPT_ALLOC_NEST_PARENT, &id),
			 0);
	assert_int_equal(fx_attach(&x.f, 0, &id), -EINVAL);
	assert_int_equal(fx_destroy(x.f.fd, id), 0);
	/* Plain and PASID-capable paging still work (stage 1). */
	assert_int_equal(fx_hwpt_alloc(x.f.fd, x.f.devid[0], ioas,
				       IOMMU_HWPT_ALLOC_PASID, &id),
			 0);
	sx_teardown(&x);
}

static void test_domain_ids(void **state)
{
	struct two t;
	uint32_t a, b, c, d, e;
	uint16_t asid_a, vmid_c;

	two_setup(&t, NULL, NULL, 1);
	a = sx_hwpt(&t.x, 0, t.ioas[0], 0);
	b = sx_hwpt(&t.x, 0, t.ioas[0], 0);
	c = sx_hwpt(&t.x, 0, t.ioas[0], IOMMU_HWPT_ALLOC_NEST_PARENT);
	d = sx_hwpt(&t.x, 0, t.ioas[0], IOMMU_HWPT_ALLOC_NEST_PARENT);
	/* Reach the domains through the attach: the driver's view. */
	{
		uint32_t pt = a;

		sx_bind_attach(&t.x, 0, &pt);
		asid_a = sx_master(&t.x, 0)->rid_dom->asid;
		pt = b;
		assert_int_equal(fx_attach(&t.x.f, 0, &pt), 0);
		assert_int_not_equal(sx_master(&t.x, 0)->rid_dom->asid, asid_a);
		assert_int_not_equal(asid_a, 0);
		pt = c;
		assert_int_equal(fx_attach(&t.x.f, 0, &pt), 0);
		vmid_c = sx_master(&t.x, 0)->rid_dom->vmid;
		pt = d;
		assert_int_equal(fx_attach(&t.x.f, 0, &pt), 0);
		assert_int_not_equal(sx_master(&t.x, 0)->rid_dom->vmid, vmid_c);
		assert_int_not_equal(vmid_c, 0);
		assert_int_equal(fx_detach(&t.x.f, 0), 0);
	}
	/* A freed ASID is handed out again. */
	assert_int_equal(fx_destroy(t.x.f.fd, a), 0);
	e = sx_hwpt(&t.x, 0, t.ioas[1], 0);
	{
		uint32_t pt = e;

		assert_int_equal(fx_attach(&t.x.f, 0, &pt), 0);
		assert_int_equal(sx_master(&t.x, 0)->rid_dom->asid, asid_a);
		assert_int_equal(dma_byte(&t.x, 0), 0xa1);
	}
	two_teardown(&t);
}

static void test_other_smmu(void **state)
{
	struct two t;
	struct ionest_device_config dc = { .iommu = "smmu1", .rid = 0x100 };
	struct ionest_hw *hw2 = ionest_smmuv3_new(NULL);
	uint32_t h, pt;
	int d1;

	two_setup(&t, NULL, NULL, 1);
	assert_int_equal(ionest_machine_add_iommu(t.x.f.m, "smmu1", hw2), 0);
	/* The same RID behind another SMMU is another StreamID space. */
	d1 = ionest_machine_add_device(t.x.f.m, &dc);
	assert_int_equal(d1, 1);
	t.x.f.dev[1] = d1;
	t.x.f.cdev[1] = -1;
	t.x.f.ndev = 2;
	h = sx_hwpt(&t.x, 0, t.ioas[0], 0);
	assert_int_equal(fx_bind(&t.x.f, 1), 0);
	pt = h;
	assert_int_equal(fx_attach(&t.x.f, 1, &pt), -EINVAL);
	/* Through the IOAS: each SMMU gets its own automatic domain. */
	pt = t.ioas[0];
	sx_bind_attach(&t.x, 0, &pt);
	pt = t.ioas[0];
	sx_bind_attach(&t.x, 1, &pt);
	assert_int_equal(dma_byte(&t.x, 0), 0xa0);
	assert_int_equal(dma_byte(&t.x, 1), 0xa0);
	two_teardown(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replace_s1),
		cmocka_unit_test(test_replace_s1_no_pasid),
		cmocka_unit_test(test_replace_s1_cd_2level),
		cmocka_unit_test(test_replace_under_dma),
		cmocka_unit_test(test_replace_s1_s2),
		cmocka_unit_test(test_detach_and_unbind),
		cmocka_unit_test(test_nest_parent_stage2),
		cmocka_unit_test(test_nest_parent_needs_nesting),
		cmocka_unit_test(test_domain_ids),
		cmocka_unit_test(test_other_smmu),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
