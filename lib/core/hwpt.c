// SPDX-License-Identifier: MIT
/*
 * HW page tables (iommufd-uapi.md §6): HWPT_PAGING objects, kernel-managed
 * domains that mirror an IOAS (manual via IOMMU_HWPT_ALLOC, or automatic
 * when a device attaches to an IOAS), dirty tracking on them, and the
 * generic part of HWPT_ALLOC / HWPT_INVALIDATE for nested HWPTs, whose
 * driver side belongs to the nesting issue.
 */
#include <errno.h>
#include <string.h>

#include "core/core.h"
#include "util/alloc.h"

#define HWPT_PAGING_FLAGS                                                 \
	(IOMMU_HWPT_ALLOC_NEST_PARENT | IOMMU_HWPT_ALLOC_DIRTY_TRACKING | \
	 IOMMU_HWPT_FAULT_ID_VALID | IOMMU_HWPT_ALLOC_PASID)

static int ioas_list_add(struct iommufd_ioas *ioas,
			 struct iommufd_hwpt_paging *h)
{
	if (ioas->nhwpts == ioas->hwpt_cap) {
		unsigned ncap = ioas->hwpt_cap ? ioas->hwpt_cap * 2 : 4;
		struct iommufd_hwpt_paging **n =
			xrealloc(ioas->hwpts, ncap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		ioas->hwpts = n;
		ioas->hwpt_cap = ncap;
	}
	ioas->hwpts[ioas->nhwpts++] = h;
	return 0;
}

static void ioas_list_del(struct iommufd_ioas *ioas,
			  struct iommufd_hwpt_paging *h)
{
	for (unsigned i = 0; i < ioas->nhwpts; i++) {
		if (ioas->hwpts[i] == h) {
			memmove(&ioas->hwpts[i], &ioas->hwpts[i + 1],
				(ioas->nhwpts - i - 1) * sizeof(h));
			ioas->nhwpts--;
			return;
		}
	}
}

static void hwpt_paging_destroy(struct iommufd_object *obj)
{
	struct iommufd_hwpt_paging *h = (struct iommufd_hwpt_paging *)obj;

	if (h->in_ioas) {
		iopt_remove_domain(&h->ioas->iopt, h->common.domain);
		ioas_list_del(h->ioas, h);
	}
	if (h->common.domain)
		h->common.domain->ops->free(h->common.domain);
	if (h->ioas)
		iommufd_object_put_user(&h->ioas->obj);
}

static uint32_t domain_flags(uint32_t flags)
{
	return ((flags & IOMMU_HWPT_ALLOC_NEST_PARENT) ?
			IOMMU_DOMAIN_F_NEST_PARENT :
			0) |
	       ((flags & IOMMU_HWPT_ALLOC_DIRTY_TRACKING) ?
			IOMMU_DOMAIN_F_DIRTY :
			0) |
	       ((flags & IOMMU_HWPT_ALLOC_PASID) ? IOMMU_DOMAIN_F_PASID : 0);
}

int iommufd_hwpt_paging_alloc(struct iommufd_ctx *ctx,
			      struct iommufd_ioas *ioas,
			      struct iommufd_device *idev, uint32_t flags,
			      struct iommufd_hwpt_paging **out)
{
	const struct iommu_driver *drv = idev->dev->inst->drv;
	struct iommufd_hwpt_paging *h;
	int rc;

	if (flags & ~HWPT_PAGING_FLAGS)
		return -EOPNOTSUPP;
	if ((flags & IOMMU_HWPT_ALLOC_DIRTY_TRACKING) &&
	    !idev->dev->dirty_capable)
		return -EOPNOTSUPP;
	if ((flags & IOMMU_HWPT_FAULT_ID_VALID) &&
	    (flags & IOMMU_HWPT_ALLOC_NEST_PARENT))
		return -EOPNOTSUPP;

	h = iommufd_object_alloc(ctx, sizeof(*h), IOMMUFD_OBJ_HWPT_PAGING,
				 hwpt_paging_destroy);
	if (!h)
		return -ENOMEM;
	h->common.pasid_compat = flags & IOMMU_HWPT_ALLOC_PASID;
	/* Pairs with the put in hwpt_paging_destroy. */
	ioas->obj.users++;
	h->ioas = ioas;
	h->nest_parent = flags & IOMMU_HWPT_ALLOC_NEST_PARENT;

	rc = drv->domain_alloc_paging(idev->dev, domain_flags(flags),
				      &h->common.domain);
	if (rc)
		goto out_abort;
	/* Coherency is fixed before the first map and never changes. */
	h->enforce_cache_coherency = h->common.domain->enforce_cache_coherency;
	if (idev->enforce_cache_coherency && !h->enforce_cache_coherency) {
		rc = -EINVAL;
		goto out_abort;
	}
	rc = ioas_list_add(ioas, h);
	if (rc)
		goto out_abort;
	/* Mirror the IOAS: aperture reserved, every area mapped. */
	rc = iopt_add_domain(&ioas->iopt, h->common.domain);
	if (rc) {
		ioas_list_del(ioas, h);
		goto out_abort;
	}
	h->in_ioas = true;
	*out = h;
	return 0;
out_abort:
	iommufd_object_abort_and_destroy(ctx, &h->common.obj);
	return rc;
}

void iommufd_hwpt_put_attach(struct iommufd_ctx *ctx,
			     struct iommufd_hw_pagetable *hwpt)
{
	iommufd_object_put_user(&hwpt->obj);
	/* An automatic domain dies with its last device (§4). */
	if (hwpt_is_paging(hwpt) && to_hwpt_paging(hwpt)->auto_domain &&
	    hwpt->obj.users == 1)
		iommufd_object_destroy(ctx, &hwpt->obj);
}

int iommufd_hwpt_alloc(struct iommufd_ucmd *ucmd)
{
	struct iommu_hwpt_alloc *cmd = ucmd->cmd;
	struct iommufd_ctx *ctx = ucmd->ctx;
	struct iommufd_hw_pagetable *hwpt;
	struct iommufd_device *idev;
	struct iommufd_object *pt;
	int rc;

	if (cmd->__reserved)
		return -EOPNOTSUPP;
	if ((cmd->data_type == IOMMU_HWPT_DATA_NONE && cmd->data_len) ||
	    (cmd->data_type != IOMMU_HWPT_DATA_NONE && !cmd->data_len))
		return -EINVAL;
	idev = iommufd_get_device(ctx, cmd->dev_id);
	if (!idev)
		return -ENOENT;
	/* A bad pt_id is EINVAL here, not ENOENT (§6). */
	pt = iommufd_object_get(ctx, cmd->pt_id, IOMMUFD_OBJ_ANY);
	if (!pt)
		return -EINVAL;

	if (pt->type == IOMMUFD_OBJ_IOAS) {
		struct iommufd_hwpt_paging *h;

		/* No driver takes user data for a paging domain. */
		if (cmd->data_len)
			return -EOPNOTSUPP;
		rc = iommufd_hwpt_paging_alloc(ctx, (struct iommufd_ioas *)pt,
					       idev, cmd->flags, &h);
		if (rc)
			return rc;
		hwpt = &h->common;
	} else if (pt->type == IOMMUFD_OBJ_HWPT_PAGING) {
		struct iommufd_hwpt_paging *parent =
			(struct iommufd_hwpt_paging *)pt;
		const struct iommu_driver *drv = idev->dev->inst->drv;

		if ((cmd->flags & ~(uint32_t)(IOMMU_HWPT_FAULT_ID_VALID |
					      IOMMU_HWPT_ALLOC_PASID)) ||
		    !cmd->data_len || !drv->domain_alloc_nested)
			return -EOPNOTSUPP;
		if (parent->auto_domain || !parent->nest_parent ||
		    parent->common.domain->inst->drv != drv)
			return -EINVAL;
		/* Nested HWPTs: the nesting issue provides the objects. */
		return -EOPNOTSUPP;
	} else {
		/* No nested-on-nested, no device as a parent. */
		return -EINVAL;
	}

	if (cmd->flags & IOMMU_HWPT_FAULT_ID_VALID) {
		/* FAULT objects come with the fault queue (nesting issue);
		 * until then no fault_id names one. */
		if (!iommufd_object_get(ctx, cmd->fault_id,
					IOMMUFD_OBJ_FAULT)) {
			rc = -ENOENT;
			goto out_hwpt;
		}
	}
	cmd->out_hwpt_id = hwpt->obj.id;
	rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc)
		goto out_hwpt;
	iommufd_object_finalize(ctx, &hwpt->obj);
	return 0;
out_hwpt:
	iommufd_object_abort_and_destroy(ctx, &hwpt->obj);
	return rc;
}

static struct iommufd_hwpt_paging *get_hwpt_paging(struct iommufd_ctx *ctx,
						   uint32_t id)
{
	return (struct iommufd_hwpt_paging *)iommufd_object_get(
		ctx, id, IOMMUFD_OBJ_HWPT_PAGING);
}

int iommufd_hwpt_set_dirty_tracking(struct iommufd_ucmd *ucmd)
{
	struct iommu_hwpt_set_dirty_tracking *cmd = ucmd->cmd;
	struct iommufd_hwpt_paging *h;

	if (cmd->flags & ~(uint32_t)IOMMU_HWPT_DIRTY_TRACKING_ENABLE)
		return -EOPNOTSUPP;
	h = get_hwpt_paging(ucmd->ctx, cmd->hwpt_id);
	if (!h)
		return -ENOENT;
	return iopt_set_dirty_tracking(
		&h->ioas->iopt, h->common.domain,
		cmd->flags & IOMMU_HWPT_DIRTY_TRACKING_ENABLE);
}

int iommufd_hwpt_get_dirty_bitmap(struct iommufd_ucmd *ucmd)
{
	struct iommu_hwpt_get_dirty_bitmap *cmd = ucmd->cmd;
	struct iommufd_hwpt_paging *h;

	if ((cmd->flags & ~(uint32_t)IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR) ||
	    cmd->__reserved)
		return -EOPNOTSUPP;
	h = get_hwpt_paging(ucmd->ctx, cmd->hwpt_id);
	if (!h)
		return -ENOENT;
	return iopt_read_and_clear_dirty(&h->ioas->iopt, h->common.domain, cmd);
}

int iommufd_hwpt_invalidate(struct iommufd_ucmd *ucmd)
{
	struct iommu_hwpt_invalidate *cmd = ucmd->cmd;
	struct iommufd_object *pt;
	uint32_t done = 0;
	int rc;

	if (cmd->__reserved) {
		rc = -EOPNOTSUPP;
		goto out;
	}
	if (cmd->entry_num && (!cmd->data_uptr || !cmd->entry_len)) {
		rc = -EINVAL;
		goto out;
	}
	pt = iommufd_object_get(ucmd->ctx, cmd->hwpt_id, IOMMUFD_OBJ_ANY);
	if (!pt) {
		rc = -ENOENT;
		goto out;
	}
	/* Only nested HWPTs and vIOMMUs take invalidations (nesting
	 * issue); a paging HWPT or anything else is EINVAL (§6). */
	rc = -EINVAL;
out:
	/* entry_num reports what was handled, also on error. */
	cmd->entry_num = done;
	if (iommufd_ucmd_respond(ucmd, sizeof(*cmd)))
		return -EFAULT;
	return rc;
}
