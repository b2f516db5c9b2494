// SPDX-License-Identifier: MIT
/*
 * The driver table and instance lifetime. A driver is built in by defining
 * `const struct iommu_driver <name>_driver` in its own file: the table
 * names them as weak references, so a driver that is not (yet) part of the
 * build is simply absent.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <ionest/ionest.h>

#include "drivers/driver.h"
#include "hw/hw.h"
#include "util/alloc.h"

extern const struct iommu_driver mock_driver;
extern const struct iommu_driver smmuv3_driver __attribute__((weak));
extern const struct iommu_driver vtd_driver __attribute__((weak));

static const struct iommu_driver *const drivers[] = {
	&mock_driver,
	&smmuv3_driver,
	&vtd_driver,
};

const struct iommu_driver *iommu_driver_find(const char *model)
{
	if (!model)
		return NULL;
	for (size_t i = 0; i < sizeof(drivers) / sizeof(drivers[0]); i++) {
		if (drivers[i] && drivers[i]->model &&
		    !strcmp(drivers[i]->model, model))
			return drivers[i];
	}
	return NULL;
}

int iommu_inst_create(struct ionest_hw *hw, const char *name,
		      struct iommu_inst **out)
{
	const struct iommu_driver *drv = iommu_driver_find(ionest_hw_model(hw));
	struct iommu_inst *inst;
	int rc;

	if (!drv)
		return -ENODEV;
	if (!name || strlen(name) >= sizeof(inst->name))
		return -EINVAL;
	inst = xzalloc(sizeof(*inst));
	if (!inst)
		return -ENOMEM;
	inst->drv = drv;
	inst->hw = hw;
	snprintf(inst->name, sizeof(inst->name), "%s", name);
	pthread_mutex_init(&inst->lock, NULL);
	inst->nesting = ionest_hw_can_nest(hw) ? IONEST_NESTING_HW :
						 IONEST_NESTING_SHADOW;
	rc = drv->init(inst);
	if (rc) {
		pthread_mutex_destroy(&inst->lock);
		xfree(inst);
		return rc;
	}
	*out = inst;
	return 0;
}

int iommu_inst_set_nesting(struct iommu_inst *inst, int mode)
{
	bool can_nest = ionest_hw_can_nest(inst->hw);
	int rc = 0;

	if (mode == IONEST_NESTING_AUTO)
		mode = can_nest ? IONEST_NESTING_HW : IONEST_NESTING_SHADOW;
	if (mode != IONEST_NESTING_HW && mode != IONEST_NESTING_SHADOW)
		return -EINVAL;
	if (mode == IONEST_NESTING_HW && !can_nest)
		return -EOPNOTSUPP;
	pthread_mutex_lock(&inst->lock);
	if (__atomic_load_n(&inst->nested_domains, __ATOMIC_ACQUIRE))
		rc = -EBUSY;
	else
		inst->nesting = (uint8_t)mode;
	pthread_mutex_unlock(&inst->lock);
	return rc;
}

uintptr_t iommu_thread_token(void)
{
	static __thread char token;

	return (uintptr_t)&token;
}

void iommu_inst_destroy(struct iommu_inst *inst)
{
	if (!inst)
		return;
	inst->drv->fini(inst);
	ionest_hw_free(inst->hw);
	pthread_mutex_destroy(&inst->lock);
	xfree(inst);
}

int iommu_dev_probe(struct iommu_inst *inst, struct iommu_dev *dev)
{
	dev->inst = inst;
	dev->max_pasids = 0;
	dev->ats_usable = false;
	dev->dirty_capable = false;
	dev->coherent = false;
	dev->priv = NULL;
	dev->drv_translate = inst->drv->translate;
	dev->hw_translate = inst->hw->ops->translate;
	dev->hw = inst->hw;
	return inst->drv->probe_device(inst, dev);
}

void iommu_dev_release(struct iommu_dev *dev)
{
	if (dev->inst)
		dev->inst->drv->release_device(dev);
	dev->inst = NULL;
}
