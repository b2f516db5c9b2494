// SPDX-License-Identifier: MIT
/*
 * VDEVICE objects (iommufd-uapi.md §8): a device's virtual ID (vSID, vRID,
 * vDeviceID) on a vIOMMU, which drivers use to translate guest commands and
 * to name the device in events. A device has at most one; unbinding the
 * device destroys it and leaves a tombstone: the ID stays taken and
 * answers ENOENT until the context closes (§4).
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>

#include "core/core.h"

static void vdevice_destroy(struct iommufd_object *obj)
{
	struct iommufd_vdevice *vd = (struct iommufd_vdevice *)obj;
	struct iommufd_viommu *v = vd->viommu;

	/* Out of the lookups before the driver forgets it. */
	if (!list_unlinked(&vd->node)) {
		pthread_rwlock_wrlock(&v->lock);
		list_del_init(&vd->node);
		pthread_rwlock_unlock(&v->lock);
	}
	if (vd->inited && v->hw->ops->vdevice_destroy)
		v->hw->ops->vdevice_destroy(&vd->hw);
	iommufd_object_put_user(&v->obj);
	if (vd->idev->vdev == vd)
		vd->idev->vdev = NULL;
}

static bool virt_id_taken(struct iommufd_viommu *v, uint64_t virt_id)
{
	struct list_head *pos, *tmp;

	/* Writers hold ctx->lock, as we do. */
	list_for_each_safe(pos, tmp, &v->vdevs) {
		if (list_entry(pos, struct iommufd_vdevice, node)->hw.virt_id ==
		    virt_id)
			return true;
	}
	return false;
}

int iommufd_vdevice_alloc(struct iommufd_ucmd *ucmd)
{
	struct iommu_vdevice_alloc *cmd = ucmd->cmd;
	struct iommufd_ctx *ctx = ucmd->ctx;
	struct iommufd_device *idev;
	struct iommufd_vdevice *vd;
	struct iommufd_viommu *v;
	int rc;

	/* virt_id indexes an unsigned long space in the kernel. */
	if (cmd->virt_id > ULONG_MAX)
		return -EINVAL;
	v = iommufd_get_viommu(ctx, cmd->viommu_id);
	if (!v)
		return -ENOENT;
	idev = iommufd_get_device(ctx, cmd->dev_id);
	if (!idev || idev->unbinding)
		return -ENOENT;
	/* A vIOMMU is one physical IOMMU's: only its devices. */
	if (idev->dev->inst != v->hw->inst)
		return -EINVAL;
	if (idev->vdev || virt_id_taken(v, cmd->virt_id))
		return -EEXIST;

	vd = iommufd_object_alloc(ctx, sizeof(*vd), IOMMUFD_OBJ_VDEVICE,
				  vdevice_destroy);
	if (!vd)
		return -ENOMEM;
	vd->viommu = v;
	v->obj.users++;
	vd->idev = idev;
	list_init(&vd->node);
	vd->hw.viommu = v->hw;
	vd->hw.dev = idev->dev;
	vd->hw.virt_id = cmd->virt_id;
	if (v->hw->ops->vdevice_init) {
		rc = v->hw->ops->vdevice_init(&vd->hw);
		if (rc)
			goto out_abort;
	}
	vd->inited = true;
	idev->vdev = vd;
	pthread_rwlock_wrlock(&v->lock);
	list_add_tail(&vd->node, &v->vdevs);
	pthread_rwlock_unlock(&v->lock);

	cmd->out_vdevice_id = vd->obj.id;
	rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc)
		goto out_abort;
	iommufd_object_finalize(ctx, &vd->obj);
	return 0;
out_abort:
	iommufd_object_abort_and_destroy(ctx, &vd->obj);
	return rc;
}

void iommufd_vdevice_unbind(struct iommufd_device *idev)
{
	struct iommufd_vdevice *vd = idev->vdev;

	if (vd)
		iommufd_object_tombstone(idev->ctx, &vd->obj);
}
