// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "machine/machine.h"
#include "smmu_fixture.h"

static void setup(struct sx *x, const struct ionest_smmuv3_config *cfg,
		  struct ionest_device_config *dc, int ndev)
{
	memset(x, 0, sizeof(*x));
	assert_true(ndev <= FX_MAX_DEV);
	x->f.m = ionest_machine_new();
	assert_non_null(x->f.m);
	x->hw = ionest_smmuv3_new(cfg);
	assert_non_null(x->hw);
	assert_int_equal(ionest_machine_add_iommu(x->f.m, "smmu0", x->hw), 0);
	x->drv = smmuv3_of(x->f.m->iommus[0]->inst);
	assert_non_null(x->drv);
	for (int i = 0; i < ndev; i++) {
		dc[i].iommu = "smmu0";
		if (!dc[i].name)
			dc[i].name = "fn";
		x->f.dev[i] = ionest_machine_add_device(x->f.m, &dc[i]);
		assert_int_equal(x->f.dev[i], i);
		x->f.cdev[i] = -1;
	}
	x->f.ndev = ndev;
	x->f.fd = ionest_open(x->f.m, "/dev/iommu", O_RDWR | O_CLOEXEC);
	assert_true(x->f.fd >= 0);
}

void sx_setup(struct sx *x, const struct ionest_smmuv3_config *cfg, int ndev)
{
	struct ionest_device_config dc[FX_MAX_DEV];

	memset(dc, 0, sizeof(dc));
	for (int i = 0; i < ndev && i < FX_MAX_DEV; i++) {
		dc[i].rid = 0x100 + (uint32_t)i;
		dc[i].pasid_bits = 8;
		dc[i].ats = true;
		dc[i].pasid_exec = true;
	}
	setup(x, cfg, dc, ndev);
}

void sx_setup_devs(struct sx *x, const struct ionest_smmuv3_config *cfg,
		   struct ionest_device_config *dc, int ndev)
{
	setup(x, cfg, dc, ndev);
}

uint32_t sx_rd32(struct sx *x, uint64_t off)
{
	uint64_t v = 0;

	assert_int_equal(ionest_hw_mmio_read(x->hw, off, 4, &v), 0);
	return (uint32_t)v;
}

uint64_t sx_ctr(struct sx *x, enum smmuv3_counter c)
{
	return __atomic_load_n(&x->drv->ctr_val[c], __ATOMIC_RELAXED);
}

uint64_t sx_hw_ctr(struct sx *x, const char *name)
{
	uint64_t v = 0;

	assert_int_equal(ionest_counter_get(ionest_hw_name(x->hw), name, &v),
			 0);
	return v;
}

struct smmu_master *sx_master(struct sx *x, int i)
{
	return machine_device(x->f.m, x->f.dev[i])->dev.priv;
}

void sx_check_clean(struct sx *x)
{
	assert_int_equal(sx_rd32(x, SMMU_GERROR) ^ sx_rd32(x, SMMU_GERRORN), 0);
	assert_int_equal((sx_rd32(x, SMMU_CMDQ_CONS) >> CMDQ_CONS_ERR_SHIFT) &
				 0x7f,
			 CERROR_NONE);
	assert_int_equal(sx_ctr(x, drv_cmdq_error), 0);
	assert_int_equal(sx_ctr(x, drv_cmdq_timeout), 0);
	assert_int_equal(sx_ctr(x, drv_gerror), 0);
	assert_int_equal(sx_ctr(x, drv_evtq_overflow), 0);
	/* Every event recorded was consumed. */
	assert_int_equal(sx_rd32(x, SMMU_EVTQ_PROD) & 0xffff,
			 sx_rd32(x, SMMU_EVTQ_CONS) & 0xffff);
	assert_int_equal(sx_hw_ctr(x, "event_lost"), 0);
}

void sx_teardown(struct sx *x)
{
	sx_check_clean(x);
	fx_teardown(&x->f);
}

void sx_map(struct sx *x, uint32_t ioas, void *va, uint64_t len, uint64_t iova)
{
	assert_int_equal(fx_map_fixed(x->f.fd, ioas, va, len, iova), 0);
}

void sx_bind_attach(struct sx *x, int i, uint32_t *pt)
{
	if (x->f.cdev[i] < 0)
		assert_int_equal(fx_bind(&x->f, i), 0);
	assert_int_equal(fx_attach(&x->f, i, pt), 0);
}

uint32_t sx_hwpt(struct sx *x, int i, uint32_t ioas, uint32_t flags)
{
	uint32_t id = 0;

	if (x->f.cdev[i] < 0)
		assert_int_equal(fx_bind(&x->f, i), 0);
	assert_int_equal(
		fx_hwpt_alloc(x->f.fd, x->f.devid[i], ioas, flags, &id), 0);
	return id;
}

bool sx_event(struct sx *x, uint64_t ev[4])
{
	uint64_t e[1][4];

	if (!smmuv3_pop_events(x->f.m->iommus[0]->inst, e, 1))
		return false;
	memcpy(ev, e[0], sizeof(e[0]));
	return true;
}
