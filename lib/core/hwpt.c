// SPDX-License-Identifier: MIT
/*
 * HW page tables (iommufd-uapi.md §6): HWPT_PAGING objects, kernel-managed
 * domains that mirror an IOAS (manual via IOMMU_HWPT_ALLOC, or automatic
 * when a device attaches to an IOAS), dirty tracking on them; HWPT_NESTED
 * objects, user-managed stage-1 domains over a NEST_PARENT HWPT or a
 * vIOMMU; binding a HWPT to a fault queue; and IOMMU_HWPT_INVALIDATE.
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
	if (h->common.fault)
		iommufd_object_put_user(&h->common.fault->common.obj);
	if (h->ioas)
		iommufd_object_put_user(&h->ioas->obj);
}

static void hwpt_nested_destroy(struct iommufd_object *obj)
{
	struct iommufd_hwpt_nested *h = (struct iommufd_hwpt_nested *)obj;

	if (h->counted)
		iommu_inst_nested_put(h->common.domain->inst);
	if (h->common.domain)
		h->common.domain->ops->free(h->common.domain);
	if (h->common.fault)
		iommufd_object_put_user(&h->common.fault->common.obj);
	if (h->viommu)
		iommufd_object_put_user(&h->viommu->obj);
	else if (h->parent)
		iommufd_object_put_user(&h->parent->common.obj);
}

/* ---- Driver data ---- */

int iommufd_user_data_init(struct iommu_user_data *ud, uint32_t type,
			   uint32_t len, uint64_t uptr)
{
	uint32_t n = len < IOMMU_USER_DATA_MAX ? len : IOMMU_USER_DATA_MAX;

	memset(ud, 0, sizeof(*ud));
	ud->type = type;
	ud->len = len;
	if (!len)
		return 0;
	ud->data = xzalloc(n);
	if (!ud->data)
		return -ENOMEM;
	/* A fault is reported by iommu_user_data_get(), after the driver's
	 * type and size checks, as the kernel's copy does. Longer data than
	 * any driver's struct is refused by those checks anyway. */
	ud->err = copy_from_user(ud->data, uptr, n);
	if (ud->err)
		memset(ud->data, 0, n);
	return 0;
}

void iommufd_user_data_fini(struct iommu_user_data *ud)
{
	xfree(ud->data);
	ud->data = NULL;
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

/* HWPT_ALLOC with pt_id a NEST_PARENT paging HWPT or a vIOMMU (§6). */
static int hwpt_nested_alloc(struct iommufd_ctx *ctx, struct iommufd_object *pt,
			     struct iommufd_device *idev,
			     struct iommu_hwpt_alloc *cmd,
			     struct iommufd_hwpt_nested **out)
{
	const struct iommu_driver *drv = idev->dev->inst->drv;
	const uint32_t allowed = IOMMU_HWPT_FAULT_ID_VALID |
				 IOMMU_HWPT_ALLOC_PASID;
	struct iommufd_hwpt_paging *parent;
	struct iommufd_viommu *viommu = NULL;
	struct iommufd_hwpt_nested *h;
	struct iommu_user_data ud;
	uint32_t dflags;
	int rc;

	if (pt->type == IOMMUFD_OBJ_VIOMMU) {
		viommu = (struct iommufd_viommu *)pt;
		/* The device must sit behind the vIOMMU's IOMMU. */
		if (idev->dev->inst != viommu->hw->inst)
			return -EINVAL;
		if ((cmd->flags & ~allowed) || !cmd->data_len ||
		    !viommu->hw->ops->alloc_domain_nested)
			return -EOPNOTSUPP;
		parent = viommu->hwpt;
	} else {
		parent = (struct iommufd_hwpt_paging *)pt;
		/* DIRTY_TRACKING and NEST_PARENT make no sense here. */
		if ((cmd->flags & ~allowed) || !cmd->data_len ||
		    !drv->domain_alloc_nested)
			return -EOPNOTSUPP;
		if (parent->auto_domain || !parent->nest_parent ||
		    parent->common.domain->inst->drv != drv)
			return -EINVAL;
	}
	rc = iommufd_user_data_init(&ud, cmd->data_type, cmd->data_len,
				    cmd->data_uptr);
	if (rc)
		return rc;
	h = iommufd_object_alloc(ctx, sizeof(*h), IOMMUFD_OBJ_HWPT_NESTED,
				 hwpt_nested_destroy);
	if (!h) {
		rc = -ENOMEM;
		goto out_data;
	}
	h->common.pasid_compat = cmd->flags & IOMMU_HWPT_ALLOC_PASID;
	h->parent = parent;
	/* The vIOMMU holds the parent for us when there is one. */
	if (viommu) {
		h->viommu = viommu;
		viommu->obj.users++;
	} else {
		parent->common.obj.users++;
	}
	dflags = (cmd->flags & IOMMU_HWPT_ALLOC_PASID) ? IOMMU_DOMAIN_F_PASID :
							 0;
	if (viommu)
		rc = viommu->hw->ops->alloc_domain_nested(
			viommu->hw, idev->dev, dflags, &ud, &h->common.domain);
	else
		rc = drv->domain_alloc_nested(idev->dev, parent->common.domain,
					      dflags, &ud, &h->common.domain);
	if (rc) {
		h->common.domain = NULL;
		goto out_abort;
	}
	if (h->common.domain->type != IOMMU_DOMAIN_NESTED) {
		rc = -EOPNOTSUPP; /* a driver bug */
		goto out_abort;
	}
	/* The instance's nesting mode is fixed while it has nested domains. */
	iommu_inst_nested_get(h->common.domain->inst);
	h->counted = true;
	iommufd_user_data_fini(&ud);
	*out = h;
	return 0;
out_abort:
	iommufd_object_abort_and_destroy(ctx, &h->common.obj);
out_data:
	iommufd_user_data_fini(&ud);
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
	} else if (pt->type == IOMMUFD_OBJ_HWPT_PAGING ||
		   pt->type == IOMMUFD_OBJ_VIOMMU) {
		struct iommufd_hwpt_nested *h;

		rc = hwpt_nested_alloc(ctx, pt, idev, cmd, &h);
		if (rc)
			return rc;
		hwpt = &h->common;
	} else {
		/* No nested-on-nested, no device as a parent. */
		return -EINVAL;
	}

	if (cmd->flags & IOMMU_HWPT_FAULT_ID_VALID) {
		struct iommufd_fault *fault =
			iommufd_get_fault(ctx, cmd->fault_id);

		if (!fault) {
			rc = -ENOENT;
			goto out_hwpt;
		}
		/* Recoverable faults of attached devices go to the queue. */
		hwpt->fault = fault;
		fault->common.obj.users++;
		hwpt->domain->iopf = true;
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

/* The kernel's bounds: one call cannot pin a CPU or the memory. */
#define INVALIDATE_ENTRY_NUM_MAX (1u << 19)
#define INVALIDATE_ENTRY_LEN_MAX 4096u
/* Entries are copied in and handed to the driver this much at a time. */
#define INVALIDATE_BATCH_BYTES (64u << 10)

typedef int (*invalidate_fn)(void *target, struct iommu_user_data_array *a);

static int inv_domain(void *target, struct iommu_user_data_array *a)
{
	struct iommu_domain *d = target;

	return d->ops->cache_invalidate_user(d, a);
}

static int inv_viommu(void *target, struct iommu_user_data_array *a)
{
	struct iommu_viommu *v = target;

	return v->ops->cache_invalidate(v, a);
}

/* Hand the caller's array to @fn in batches; *done = entries handled. */
static int invalidate_array(struct iommu_hwpt_invalidate *cmd, invalidate_fn fn,
			    void *target, uint32_t *done)
{
	uint32_t per;
	struct iommu_user_data_array a = {
		.type = cmd->data_type,
		.entry_len = cmd->entry_len,
	};
	void *buf;
	int rc = 0;

	/* entry_num 0 asks whether the driver takes this data type. */
	if (!cmd->entry_num)
		return fn(target, &a);
	per = INVALIDATE_BATCH_BYTES / cmd->entry_len;
	if (!per)
		per = 1;
	if (per > cmd->entry_num)
		per = cmd->entry_num;
	buf = xmalloc((size_t)per * cmd->entry_len);
	if (!buf)
		return -ENOMEM;
	a.entries = buf;
	while (*done < cmd->entry_num) {
		uint32_t n = cmd->entry_num - *done;

		if (n > per)
			n = per;
		rc = copy_from_user(
			buf, cmd->data_uptr + (uint64_t)*done * cmd->entry_len,
			(size_t)n * cmd->entry_len);
		if (rc)
			break;
		a.entry_num = n;
		rc = fn(target, &a);
		/* The driver reports what it handled, also on error. */
		*done += a.entry_num < n ? a.entry_num : n;
		if (rc)
			break;
	}
	xfree(buf);
	return rc;
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
	if (cmd->entry_num && (!cmd->data_uptr || !cmd->entry_len ||
			       cmd->entry_len > INVALIDATE_ENTRY_LEN_MAX ||
			       cmd->entry_num > INVALIDATE_ENTRY_NUM_MAX)) {
		rc = -EINVAL;
		goto out;
	}
	pt = iommufd_object_get(ucmd->ctx, cmd->hwpt_id, IOMMUFD_OBJ_ANY);
	if (!pt) {
		rc = -ENOENT;
		goto out;
	}
	if (pt->type == IOMMUFD_OBJ_HWPT_NESTED) {
		struct iommu_domain *d =
			((struct iommufd_hw_pagetable *)pt)->domain;

		rc = d->ops->cache_invalidate_user ?
			     invalidate_array(cmd, inv_domain, d, &done) :
			     -EOPNOTSUPP;
	} else if (pt->type == IOMMUFD_OBJ_VIOMMU) {
		struct iommu_viommu *v = ((struct iommufd_viommu *)pt)->hw;

		rc = v->ops->cache_invalidate ?
			     invalidate_array(cmd, inv_viommu, v, &done) :
			     -EOPNOTSUPP;
	} else {
		/* A paging HWPT or anything else (§6). */
		rc = -EINVAL;
	}
out:
	/* entry_num reports what was handled, also on error. */
	cmd->entry_num = done;
	if (iommufd_ucmd_respond(ucmd, sizeof(*cmd)))
		return -EFAULT;
	return rc;
}
