// SPDX-License-Identifier: MIT
/*
 * VIOMMU objects (iommufd-uapi.md §8): one physical IOMMU's slice for one
 * VM, over a nest-parent paging HWPT. It owns the guest's virtual ID space
 * (vDEVICEs) and event queues, and nested HWPTs can be allocated on it. The
 * lookups drivers make from their invalidation and event paths are here
 * too (declared in lib/drivers/driver.h).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "core/core.h"
#include "util/alloc.h"

struct iommufd_viommu *iommufd_get_viommu(struct iommufd_ctx *ctx, uint32_t id)
{
	return (struct iommufd_viommu *)iommufd_object_get(ctx, id,
							   IOMMUFD_OBJ_VIOMMU);
}

static void viommu_destroy(struct iommufd_object *obj)
{
	struct iommufd_viommu *v = (struct iommufd_viommu *)obj;

	/* Nothing depends on us any more (users was 1): no vDEVICE,
	 * vEVENTQ or nested HWPT is left. */
	if (v->hw)
		v->hw->ops->destroy(v->hw);
	if (v->hwpt)
		iommufd_object_put_user(&v->hwpt->common.obj);
	pthread_rwlock_destroy(&v->lock);
}

int iommufd_viommu_alloc(struct iommufd_ucmd *ucmd)
{
	struct iommu_viommu_alloc *cmd = ucmd->cmd;
	struct iommufd_ctx *ctx = ucmd->ctx;
	struct iommufd_hwpt_paging *h;
	struct iommu_user_data ud;
	struct iommufd_device *idev;
	const struct iommu_driver *drv;
	struct iommufd_viommu *v;
	int rc;

	/* DEFAULT is reserved; the kernel does not check __reserved here. */
	if (cmd->flags || cmd->type == IOMMU_VIOMMU_TYPE_DEFAULT)
		return -EOPNOTSUPP;
	idev = iommufd_get_device(ctx, cmd->dev_id);
	if (!idev)
		return -ENOENT;
	drv = idev->dev->inst->drv;
	/* The type is judged before the HWPT (Linux 7.3 order). */
	if (!drv->viommu_alloc ||
	    (drv->viommu_supported &&
	     !drv->viommu_supported(idev->dev, cmd->type)))
		return -EOPNOTSUPP;
	h = (struct iommufd_hwpt_paging *)iommufd_object_get(
		ctx, cmd->hwpt_id, IOMMUFD_OBJ_HWPT_PAGING);
	if (!h)
		return -ENOENT;
	if (!h->nest_parent)
		return -EINVAL;

	rc = iommufd_user_data_init(&ud, cmd->type, cmd->data_len,
				    cmd->data_uptr);
	if (rc)
		return rc;
	v = iommufd_object_alloc(ctx, sizeof(*v), IOMMUFD_OBJ_VIOMMU,
				 viommu_destroy);
	if (!v) {
		rc = -ENOMEM;
		goto out_data;
	}
	v->ctx = ctx;
	v->type = cmd->type;
	pthread_rwlock_init(&v->lock, NULL);
	list_init(&v->vdevs);
	list_init(&v->veventqs);
	v->hwpt = h;
	h->common.obj.users++;

	rc = drv->viommu_alloc(idev->dev, h->common.domain, cmd->type,
			       cmd->data_len ? &ud : NULL, &v->hw);
	if (rc) {
		v->hw = NULL;
		goto out_abort;
	}
	__atomic_store_n(&v->hw->iommufd, v, __ATOMIC_RELEASE);
	/* Driver output (e.g. an mmap offset) goes back into the caller's
	 * data. */
	if (ud.out_len && cmd->data_len) {
		uint32_t n = ud.out_len < cmd->data_len ? ud.out_len :
							  cmd->data_len;

		if (n > IOMMU_USER_DATA_MAX)
			n = IOMMU_USER_DATA_MAX;
		rc = copy_to_user(cmd->data_uptr, ud.data, n);
		if (rc)
			goto out_abort;
	}
	cmd->out_viommu_id = v->obj.id;
	rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc)
		goto out_abort;
	iommufd_object_finalize(ctx, &v->obj);
	iommufd_user_data_fini(&ud);
	return 0;
out_abort:
	iommufd_object_abort_and_destroy(ctx, &v->obj);
out_data:
	iommufd_user_data_fini(&ud);
	return rc;
}

/* ---- Lookups for drivers ---- */

static struct iommufd_viommu *core_of(struct iommu_viommu *hw)
{
	return hw ? __atomic_load_n(&hw->iommufd, __ATOMIC_ACQUIRE) : NULL;
}

int iommufd_viommu_get_vdev_id(struct iommu_viommu *hw, struct iommu_dev *dev,
			       uint64_t *virt_id)
{
	struct iommufd_viommu *v = core_of(hw);
	struct list_head *pos, *tmp;
	int rc = -ENOENT;

	if (!v || !virt_id)
		return -EINVAL;
	pthread_rwlock_rdlock(&v->lock);
	list_for_each_safe(pos, tmp, &v->vdevs) {
		struct iommufd_vdevice *vd =
			list_entry(pos, struct iommufd_vdevice, node);

		if (vd->hw.dev == dev) {
			*virt_id = vd->hw.virt_id;
			rc = 0;
			break;
		}
	}
	pthread_rwlock_unlock(&v->lock);
	return rc;
}

struct iommu_dev *iommufd_viommu_find_dev(struct iommu_viommu *hw,
					  uint64_t virt_id)
{
	struct iommufd_viommu *v = core_of(hw);
	struct list_head *pos, *tmp;
	struct iommu_dev *dev = NULL;

	if (!v)
		return NULL;
	pthread_rwlock_rdlock(&v->lock);
	list_for_each_safe(pos, tmp, &v->vdevs) {
		struct iommufd_vdevice *vd =
			list_entry(pos, struct iommufd_vdevice, node);

		if (vd->hw.virt_id == virt_id) {
			dev = vd->hw.dev;
			break;
		}
	}
	pthread_rwlock_unlock(&v->lock);
	return dev;
}
