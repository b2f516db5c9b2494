// SPDX-License-Identifier: MIT
/*
 * DEVICE objects (iommufd-uapi.md §6): binding a device to a context (the
 * VFIO cdev does it), attaching its RID and PASIDs to HWPTs or IOASes with
 * the attach / replace / detach rules, the device's reserved regions in
 * the IOAS it is attached to, and IOMMU_GET_HW_INFO. One device per IOMMU
 * group: every RID is its own group in an ionest machine.
 */
#include <errno.h>
#include <string.h>

#include "core/core.h"
#include "util/alloc.h"

struct iommufd_device *iommufd_get_device(struct iommufd_ctx *ctx, uint32_t id)
{
	return (struct iommufd_device *)iommufd_object_get(ctx, id,
							   IOMMUFD_OBJ_DEVICE);
}

static void device_destroy(struct iommufd_object *obj)
{
	struct iommufd_device *idev = (struct iommufd_device *)obj;

	/* Back to blocked; DMA ownership returns to nobody. */
	idev->dev->inst->drv->attach_blocked(idev->dev);
	xfree(idev->pasids);
}

int iommufd_device_bind(struct iommufd_ctx *ctx, struct iommu_dev *dev,
			struct iommufd_device **out, uint32_t *id)
{
	struct iommufd_device *idev;
	int rc;

	/* Coherent DMA is mandatory (§5). */
	if (!dev->coherent)
		return -EINVAL;
	pthread_mutex_lock(&ctx->lock);
	idev = iommufd_object_alloc(ctx, sizeof(*idev), IOMMUFD_OBJ_DEVICE,
				    device_destroy);
	if (!idev) {
		rc = -ENOMEM;
		goto out;
	}
	idev->ctx = ctx;
	idev->dev = dev;
	idev->enforce_cache_coherency = dev->coherent;
	/* Owned by us now: blocked until attached. */
	rc = dev->inst->drv->attach_blocked(dev);
	if (rc) {
		iommufd_object_abort(ctx, &idev->obj);
		goto out;
	}
	/* The binding driver is a user until unbind: DESTROY gets EBUSY. */
	idev->obj.users++;
	iommufd_object_finalize(ctx, &idev->obj);
	iommufd_ctx_get(ctx);
	*out = idev;
	*id = idev->obj.id;
out:
	pthread_mutex_unlock(&ctx->lock);
	return rc;
}

static void detach_locked(struct iommufd_device *idev, uint32_t pasid);

void iommufd_device_unbind(struct iommufd_device *idev)
{
	struct iommufd_ctx *ctx = idev->ctx;

	pthread_mutex_lock(&ctx->lock);
	while (idev->npasids)
		detach_locked(idev, idev->pasids[idev->npasids - 1].pasid);
	detach_locked(idev, IOMMU_NO_PASID);
	iommufd_object_put_user(&idev->obj);
	iommufd_object_destroy(ctx, &idev->obj);
	pthread_mutex_unlock(&ctx->lock);
	iommufd_ctx_put(ctx);
}

/* ---- Reserved regions of the device in the IOAS it is attached to ---- */

static int enforce_resv(struct iommufd_device *idev, struct iommufd_ioas *ioas)
{
	struct iommu_resv_region r[IOMMU_MAX_RESV_REGIONS];
	const struct iommu_driver *drv = idev->dev->inst->drv;
	int n = drv->get_resv_regions ? drv->get_resv_regions(idev->dev, r) : 0;
	int rc = 0, sw_msi = 0, hw_msi = 0;

	if (n < 0)
		return n;
	for (int i = 0; i < n && !rc; i++) {
		if (r[i].type == IOMMU_RESV_DIRECT_RELAXABLE)
			continue;
		sw_msi += r[i].type == IOMMU_RESV_SW_MSI;
		hw_msi += r[i].type == IOMMU_RESV_MSI;
		rc = iopt_reserve(&ioas->iopt, r[i].start, r[i].last, idev);
	}
	/* Drivers offer one kind of MSI window. */
	if (!rc && ((sw_msi && hw_msi) || sw_msi > 1))
		rc = -EINVAL;
	if (rc)
		iopt_unreserve_owner(&ioas->iopt, idev);
	return rc;
}

static void remove_resv(struct iommufd_device *idev)
{
	if (idev->resv_ioas) {
		iopt_unreserve_owner(&idev->resv_ioas->iopt, idev);
		idev->resv_ioas = NULL;
	}
}

static struct iommufd_ioas *hwpt_ioas(struct iommufd_hw_pagetable *h)
{
	return hwpt_is_paging(h) ? to_hwpt_paging(h)->ioas : NULL;
}

/* ---- PASID attachment records ---- */

static struct iommufd_pasid_attach *find_pasid(struct iommufd_device *idev,
					       uint32_t pasid)
{
	for (unsigned i = 0; i < idev->npasids; i++) {
		if (idev->pasids[i].pasid == pasid)
			return &idev->pasids[i];
	}
	return NULL;
}

bool iommufd_device_pasid_attached(struct iommufd_device *idev, uint32_t pasid)
{
	if (pasid == IOMMU_NO_PASID)
		return idev->rid_hwpt != NULL;
	return find_pasid(idev, pasid) != NULL;
}

static int reserve_pasid_slot(struct iommufd_device *idev)
{
	if (idev->npasids == idev->pasid_cap) {
		unsigned ncap = idev->pasid_cap ? idev->pasid_cap * 2 : 4;
		struct iommufd_pasid_attach *n =
			xrealloc(idev->pasids, ncap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		idev->pasids = n;
		idev->pasid_cap = ncap;
	}
	return 0;
}

/* PASID compatibility of a HWPT (§6 PASID rules). */
static int pasid_compat(struct iommufd_device *idev,
			struct iommufd_hw_pagetable *hwpt, uint32_t pasid)
{
	if (pasid == IOMMU_NO_PASID) {
		if (!hwpt->pasid_compat && idev->npasids)
			return -EINVAL;
		return 0;
	}
	if (!hwpt->pasid_compat)
		return -EINVAL;
	if (idev->rid_hwpt && !idev->rid_hwpt->pasid_compat)
		return -EINVAL;
	/* The device must be PASID capable and the PASID in range. */
	if (pasid >= idev->dev->max_pasids)
		return -EINVAL;
	return 0;
}

/* ---- attach / replace / detach ---- */

static int do_attach(struct iommufd_device *idev, uint32_t pasid,
		     struct iommufd_hw_pagetable *hwpt)
{
	struct iommu_domain *d = hwpt->domain;
	struct iommufd_ioas *ioas = hwpt_ioas(hwpt);
	int rc;

	/* Already attached: use replace. */
	if (iommufd_device_pasid_attached(idev, pasid))
		return -EBUSY;
	rc = pasid_compat(idev, hwpt, pasid);
	if (rc)
		return rc;
	if (pasid == IOMMU_NO_PASID) {
		if (ioas) {
			rc = enforce_resv(idev, ioas);
			if (rc)
				return rc;
		}
		rc = d->ops->attach_dev(d, idev->dev);
		if (rc) {
			if (ioas)
				iopt_unreserve_owner(&ioas->iopt, idev);
			return rc;
		}
		idev->rid_hwpt = hwpt;
		idev->resv_ioas = ioas;
	} else {
		rc = reserve_pasid_slot(idev);
		if (rc)
			return rc;
		rc = d->ops->set_dev_pasid(d, idev->dev, pasid);
		if (rc)
			return rc;
		idev->pasids[idev->npasids++] =
			(struct iommufd_pasid_attach){ pasid, hwpt };
	}
	hwpt->obj.users++;
	return 0;
}

static int do_replace(struct iommufd_device *idev, uint32_t pasid,
		      struct iommufd_hw_pagetable *hwpt)
{
	struct iommufd_pasid_attach *pa = NULL;
	struct iommufd_hw_pagetable *old;
	struct iommufd_ioas *ioas = hwpt_ioas(hwpt), *old_ioas;
	struct iommu_domain *d = hwpt->domain;
	bool new_resv;
	int rc;

	if (pasid == IOMMU_NO_PASID) {
		old = idev->rid_hwpt;
	} else {
		pa = find_pasid(idev, pasid);
		old = pa ? pa->hwpt : NULL;
	}
	/* Replace needs an attachment to replace. */
	if (!old)
		return -EINVAL;
	if (old == hwpt)
		return 0;
	rc = pasid_compat(idev, hwpt, pasid);
	if (rc)
		return rc;
	if (pasid != IOMMU_NO_PASID) {
		rc = d->ops->set_dev_pasid(d, idev->dev, pasid);
		if (rc)
			return rc;
		pa->hwpt = hwpt;
		hwpt->obj.users++;
		iommufd_hwpt_put_attach(idev->ctx, old);
		return 0;
	}
	old_ioas = idev->resv_ioas;
	new_resv = ioas && ioas != old_ioas;
	if (new_resv) {
		rc = enforce_resv(idev, ioas);
		if (rc)
			return rc;
	}
	/* Atomic in the driver: a failure keeps the old translation. */
	rc = d->ops->attach_dev(d, idev->dev);
	if (rc) {
		if (new_resv)
			iopt_unreserve_owner(&ioas->iopt, idev);
		return rc;
	}
	if (old_ioas && old_ioas != ioas)
		iopt_unreserve_owner(&old_ioas->iopt, idev);
	idev->resv_ioas = ioas;
	idev->rid_hwpt = hwpt;
	hwpt->obj.users++;
	iommufd_hwpt_put_attach(idev->ctx, old);
	return 0;
}

typedef int (*attach_fn)(struct iommufd_device *idev, uint32_t pasid,
			 struct iommufd_hw_pagetable *hwpt);

/* Attach to an automatic domain of @ioas: reuse a compatible one, else
 * make one (§4 auto domains). Manual HWPTs are never picked. */
static int auto_get_domain(struct iommufd_device *idev, uint32_t pasid,
			   struct iommufd_ioas *ioas, uint32_t *pt_id,
			   attach_fn fn)
{
	struct iommufd_hwpt_paging *h;
	int rc;

	for (unsigned i = 0; i < ioas->nhwpts; i++) {
		h = ioas->hwpts[i];
		if (!h->auto_domain)
			continue;
		rc = fn(idev, pasid, &h->common);
		/* EINVAL: incompatible with this device; try the next. */
		if (rc == -EINVAL)
			continue;
		if (!rc)
			*pt_id = h->common.obj.id;
		return rc;
	}
	rc = iommufd_hwpt_paging_alloc(idev->ctx, ioas, idev, 0, &h);
	if (rc)
		return rc;
	rc = fn(idev, pasid, &h->common);
	if (rc) {
		iommufd_object_abort_and_destroy(idev->ctx, &h->common.obj);
		return rc;
	}
	h->auto_domain = true;
	*pt_id = h->common.obj.id;
	iommufd_object_finalize(idev->ctx, &h->common.obj);
	return 0;
}

static int change_pt(struct iommufd_device *idev, uint32_t pasid,
		     uint32_t *pt_id, attach_fn fn)
{
	struct iommufd_object *pt =
		iommufd_object_get(idev->ctx, *pt_id, IOMMUFD_OBJ_ANY);
	int rc;

	if (!pt)
		return -ENOENT;
	switch (pt->type) {
	case IOMMUFD_OBJ_HWPT_PAGING:
	case IOMMUFD_OBJ_HWPT_NESTED:
		rc = fn(idev, pasid, (struct iommufd_hw_pagetable *)pt);
		break;
	case IOMMUFD_OBJ_IOAS:
		rc = auto_get_domain(idev, pasid, (struct iommufd_ioas *)pt,
				     pt_id, fn);
		break;
	default:
		rc = -EINVAL;
	}
	return rc;
}

int iommufd_device_attach(struct iommufd_device *idev, uint32_t pasid,
			  uint32_t *pt_id)
{
	int rc;

	pthread_mutex_lock(&idev->ctx->lock);
	rc = change_pt(idev, pasid, pt_id, do_attach);
	/* Pairs with detach: a device with an attachment cannot go. */
	if (!rc)
		idev->obj.users++;
	pthread_mutex_unlock(&idev->ctx->lock);
	return rc;
}

int iommufd_device_replace(struct iommufd_device *idev, uint32_t pasid,
			   uint32_t *pt_id)
{
	int rc;

	pthread_mutex_lock(&idev->ctx->lock);
	rc = change_pt(idev, pasid, pt_id, do_replace);
	pthread_mutex_unlock(&idev->ctx->lock);
	return rc;
}

static void detach_locked(struct iommufd_device *idev, uint32_t pasid)
{
	struct iommufd_hw_pagetable *old;

	if (pasid == IOMMU_NO_PASID) {
		old = idev->rid_hwpt;
		if (!old)
			return;
		/* Detach leaves the device blocked (§6). */
		idev->dev->inst->drv->attach_blocked(idev->dev);
		remove_resv(idev);
		idev->rid_hwpt = NULL;
	} else {
		struct iommufd_pasid_attach *pa = find_pasid(idev, pasid);

		if (!pa)
			return; /* detaching an unattached PASID is fine */
		old = pa->hwpt;
		idev->dev->inst->drv->remove_dev_pasid(idev->dev, pasid);
		*pa = idev->pasids[--idev->npasids];
	}
	iommufd_hwpt_put_attach(idev->ctx, old);
	iommufd_object_put_user(&idev->obj);
}

void iommufd_device_detach(struct iommufd_device *idev, uint32_t pasid)
{
	pthread_mutex_lock(&idev->ctx->lock);
	detach_locked(idev, pasid);
	pthread_mutex_unlock(&idev->ctx->lock);
}

/* ---- IOMMU_GET_HW_INFO ---- */

int iommufd_get_hw_info(struct iommufd_ucmd *ucmd)
{
	struct iommu_hw_info *cmd = ucmd->cmd;
	struct iommu_hw_info_out info = { 0 };
	struct iommufd_device *idev;
	struct iommu_dev *dev;
	uint32_t copy;
	int rc;

	if (cmd->flags & ~(uint32_t)IOMMU_HW_INFO_FLAG_INPUT_TYPE)
		return -EOPNOTSUPP;
	if (cmd->__reserved[0] || cmd->__reserved[1] || cmd->__reserved[2])
		return -EOPNOTSUPP;
	/* Without INPUT_TYPE the type field is ignored. */
	if (!(cmd->flags & IOMMU_HW_INFO_FLAG_INPUT_TYPE))
		cmd->in_data_type = IOMMU_HW_INFO_TYPE_DEFAULT;
	idev = iommufd_get_device(ucmd->ctx, cmd->dev_id);
	if (!idev)
		return -ENOENT;
	dev = idev->dev;
	if (dev->inst->drv->hw_info) {
		rc = dev->inst->drv->hw_info(dev, cmd->in_data_type, &info);
		if (rc)
			return rc;
		if (info.len > sizeof(info.data))
			info.len = sizeof(info.data);
	} else if (cmd->in_data_type != IOMMU_HW_INFO_TYPE_DEFAULT) {
		return -EOPNOTSUPP;
	}
	copy = cmd->data_len < info.len ? cmd->data_len : info.len;
	rc = copy_to_user(cmd->data_uptr, info.data, copy);
	if (rc)
		return rc;
	/* Zero what the caller has beyond what we know. */
	if (copy < cmd->data_len) {
		rc = clear_user(cmd->data_uptr + copy, cmd->data_len - copy);
		if (rc)
			return rc;
	}
	cmd->data_len = info.len;
	cmd->out_data_type = info.type;
	cmd->out_capabilities = 0;
	if (dev->dirty_capable)
		cmd->out_capabilities |= IOMMU_HW_CAP_DIRTY_TRACKING;
	if (!dev->ats_usable)
		cmd->out_capabilities |= IOMMU_HW_CAP_PCI_ATS_NOT_SUPPORTED;
	cmd->out_max_pasid_log2 = 0;
	if (dev->max_pasids) {
		cmd->out_max_pasid_log2 =
			(uint8_t)(31 - __builtin_clz(dev->max_pasids));
		if (dev->pasid_exec)
			cmd->out_capabilities |= IOMMU_HW_CAP_PCI_PASID_EXEC;
		if (dev->pasid_priv)
			cmd->out_capabilities |= IOMMU_HW_CAP_PCI_PASID_PRIV;
	}
	return iommufd_ucmd_respond(ucmd, sizeof(*cmd));
}
