// SPDX-License-Identifier: MIT
/*
 * DEVICE objects (iommufd-uapi.md §6): binding a device to a context (the
 * VFIO cdev does it), attaching its RID and PASIDs to paging or nested
 * HWPTs or IOASes with the attach / replace / detach rules, the device's
 * reserved regions in the IOAS behind its RID's HWPT (a nested HWPT's
 * parent's), the software MSI doorbell mapped in that paging domain, and
 * IOMMU_GET_HW_INFO. One device per IOMMU group: every RID is its own
 * group in an ionest machine.
 *
 * The attachment state (rid_hwpt, pasids) is also read by the I/O page
 * fault path (fault.c), so it changes under iommufd_iopf_lock as well;
 * drivers are never called with that lock held. Pending page requests of
 * an attachment are answered (INVALID) once the device has left it.
 */
#include <errno.h>
#include <string.h>

#include "core/core.h"
#include "hw/hw.h"
#include "util/alloc.h"

struct iommufd_device *iommufd_get_device(struct iommufd_ctx *ctx, uint32_t id)
{
	return (struct iommufd_device *)iommufd_object_get(ctx, id,
							   IOMMUFD_OBJ_DEVICE);
}

/* The software MSI doorbell: where a device's MSI write through a
 * IOMMU_RESV_SW_MSI window lands, the platform's interrupt controller page
 * (hw_msi_doorbell; the ITS page Linux maps there). */
#define SW_MSI_PAGE ((uint64_t)HW_MSI_DOORBELL_SIZE)
#define NO_SW_MSI UINT64_MAX

static void device_destroy(struct iommufd_object *obj)
{
	struct iommufd_device *idev = (struct iommufd_device *)obj;

	/* Back to blocked; DMA ownership returns to nobody. */
	idev->dev->inst->drv->attach_blocked(idev->dev);
	pthread_mutex_lock(&iommufd_iopf_lock);
	if (idev->dev->iommufd == idev)
		idev->dev->iommufd = NULL;
	pthread_mutex_unlock(&iommufd_iopf_lock);
	iommufd_fault_drop_partial(idev);
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
	/* Page requests of the device reach us from now on. */
	pthread_mutex_lock(&iommufd_iopf_lock);
	dev->iommufd = idev;
	pthread_mutex_unlock(&iommufd_iopf_lock);
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
	idev->unbinding = true;
	/* Its vDEVICE goes first and leaves a tombstone (§4). */
	iommufd_vdevice_unbind(idev);
	while (idev->npasids)
		detach_locked(idev, idev->pasids[idev->npasids - 1].pasid);
	detach_locked(idev, IOMMU_NO_PASID);
	iommufd_object_put_user(&idev->obj);
	iommufd_object_destroy(ctx, &idev->obj);
	pthread_mutex_unlock(&ctx->lock);
	iommufd_ctx_put(ctx);
}

/* ---- Reserved regions of the device in the IOAS it is attached to ---- */

/* Reserve the device's regions in @ioas; *sw_msi = the start of its
 * software MSI window, or NO_SW_MSI. */
static int enforce_resv(struct iommufd_device *idev, struct iommufd_ioas *ioas,
			uint64_t *sw_msi_start)
{
	struct iommu_resv_region r[IOMMU_MAX_RESV_REGIONS];
	const struct iommu_driver *drv = idev->dev->inst->drv;
	int n = drv->get_resv_regions ? drv->get_resv_regions(idev->dev, r) : 0;
	int rc = 0, sw_msi = 0, hw_msi = 0;

	*sw_msi_start = NO_SW_MSI;
	if (n < 0)
		return n;
	for (int i = 0; i < n && !rc; i++) {
		if (r[i].type == IOMMU_RESV_DIRECT_RELAXABLE)
			continue;
		sw_msi += r[i].type == IOMMU_RESV_SW_MSI;
		hw_msi += r[i].type == IOMMU_RESV_MSI;
		if (r[i].type == IOMMU_RESV_SW_MSI &&
		    r[i].last - r[i].start >= SW_MSI_PAGE - 1)
			*sw_msi_start = r[i].start;
		rc = iopt_reserve(&ioas->iopt, r[i].start, r[i].last, idev);
	}
	/* Drivers offer one kind of MSI window. */
	if (!rc && ((sw_msi && hw_msi) || sw_msi > 1))
		rc = -EINVAL;
	if (rc)
		iopt_unreserve_owner(&ioas->iopt, idev);
	return rc;
}

/* ---- The software MSI doorbell (IOMMU_RESV_SW_MSI) ----
 * The host maps it in the paging domain behind the RID, at the start of
 * the window it reserved in the IOAS, so a device's MSI write goes through
 * the IOMMU (through stage 2 for a nested HWPT). One mapping per paging
 * HWPT, kept while a device needs it. */

/* 0 with *got set if the mapping is (now) held; a domain that cannot map
 * the page (page size, window) just goes without. */
static int msi_get(struct iommufd_hwpt_paging *hp, uint64_t iova, bool *got)
{
	struct iommu_domain *d = hp->common.domain;
	int rc;

	*got = false;
	if (iova == NO_SW_MSI || (iova & (SW_MSI_PAGE - 1)))
		return 0;
	if (hp->msi_users) {
		if (hp->msi_iova != iova)
			return 0;
		hp->msi_users++;
		*got = true;
		return 0;
	}
	if (iommu_min_pgsize(d->pgsize_bitmap) > SW_MSI_PAGE)
		return 0;
	rc = d->ops->map(d, iova, (uint64_t)(uintptr_t)hw_msi_doorbell,
			 SW_MSI_PAGE,
			 IOMMU_PROT_READ | IOMMU_PROT_WRITE | IOMMU_PROT_CACHE,
			 0);
	if (rc == -ENOMEM)
		return rc;
	if (rc)
		return 0;
	hp->msi_iova = iova;
	hp->msi_users = 1;
	*got = true;
	return 0;
}

static void msi_put(struct iommufd_hwpt_paging *hp)
{
	struct iommu_domain *d;
	struct iommu_gather g = { 0 };
	uint64_t unmapped;

	if (!hp || --hp->msi_users)
		return;
	d = hp->common.domain;
	d->ops->unmap(d, hp->msi_iova, SW_MSI_PAGE, &g, &unmapped);
	d->ops->iotlb_sync(d, &g);
}

/* Reserved regions and MSI doorbell of a RID attach to @hwpt: in the IOAS
 * behind it (a nested HWPT's DMA ends in its parent's IOAS). Undone with
 * rid_resv_undo, made final with rid_resv_commit. */
struct rid_resv {
	struct iommufd_ioas *ioas; /* regions newly reserved here */
	struct iommufd_hwpt_paging *msi; /* doorbell reference taken */
};

static int rid_resv_take(struct iommufd_device *idev,
			 struct iommufd_hw_pagetable *hwpt, struct rid_resv *rr)
{
	struct iommufd_hwpt_paging *hp = hwpt_find_paging(hwpt);
	uint64_t sw_msi;
	bool got;
	int rc;

	rr->ioas = NULL;
	rr->msi = NULL;
	if (hp->ioas != idev->resv_ioas) {
		rc = enforce_resv(idev, hp->ioas, &sw_msi);
		if (rc)
			return rc;
		rr->ioas = hp->ioas;
	} else {
		/* Same IOAS: the regions are there; only the window. */
		struct iommu_resv_region r[IOMMU_MAX_RESV_REGIONS];
		const struct iommu_driver *drv = idev->dev->inst->drv;
		int n = drv->get_resv_regions ?
				drv->get_resv_regions(idev->dev, r) :
				0;

		sw_msi = NO_SW_MSI;
		for (int i = 0; i < n; i++) {
			if (r[i].type == IOMMU_RESV_SW_MSI &&
			    r[i].last - r[i].start >= SW_MSI_PAGE - 1)
				sw_msi = r[i].start;
		}
	}
	if (hp == idev->msi_hwpt)
		return 0; /* already holding it there */
	rc = msi_get(hp, sw_msi, &got);
	if (rc) {
		if (rr->ioas)
			iopt_unreserve_owner(&rr->ioas->iopt, idev);
		rr->ioas = NULL;
		return rc;
	}
	if (got)
		rr->msi = hp;
	return 0;
}

static void rid_resv_undo(struct iommufd_device *idev, struct rid_resv *rr)
{
	msi_put(rr->msi);
	if (rr->ioas)
		iopt_unreserve_owner(&rr->ioas->iopt, idev);
}

/* The attach succeeded: the old regions and doorbell go. */
static void rid_resv_commit(struct iommufd_device *idev,
			    struct iommufd_hw_pagetable *hwpt,
			    struct rid_resv *rr)
{
	struct iommufd_hwpt_paging *hp = hwpt_find_paging(hwpt);

	if (rr->ioas) {
		if (idev->resv_ioas)
			iopt_unreserve_owner(&idev->resv_ioas->iopt, idev);
		idev->resv_ioas = rr->ioas;
	}
	if (hp != idev->msi_hwpt) {
		msi_put(idev->msi_hwpt);
		idev->msi_hwpt = rr->msi;
	}
}

static void remove_resv(struct iommufd_device *idev)
{
	msi_put(idev->msi_hwpt);
	idev->msi_hwpt = NULL;
	if (idev->resv_ioas) {
		iopt_unreserve_owner(&idev->resv_ioas->iopt, idev);
		idev->resv_ioas = NULL;
	}
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
	int rc = 0;

	/* The fault path reads the array: it moves under the IOPF lock. */
	pthread_mutex_lock(&iommufd_iopf_lock);
	if (idev->npasids == idev->pasid_cap) {
		unsigned ncap = idev->pasid_cap ? idev->pasid_cap * 2 : 4;
		struct iommufd_pasid_attach *n =
			xrealloc(idev->pasids, ncap * sizeof(*n));

		if (n) {
			idev->pasids = n;
			idev->pasid_cap = ncap;
		} else {
			rc = -ENOMEM;
		}
	}
	pthread_mutex_unlock(&iommufd_iopf_lock);
	return rc;
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
	struct rid_resv rr;
	int rc;

	/* Already attached: use replace. */
	if (iommufd_device_pasid_attached(idev, pasid))
		return -EBUSY;
	rc = pasid_compat(idev, hwpt, pasid);
	if (rc)
		return rc;
	if (pasid == IOMMU_NO_PASID) {
		rc = rid_resv_take(idev, hwpt, &rr);
		if (rc)
			return rc;
		rc = d->ops->attach_dev(d, idev->dev);
		if (rc) {
			rid_resv_undo(idev, &rr);
			return rc;
		}
		rid_resv_commit(idev, hwpt, &rr);
		pthread_mutex_lock(&iommufd_iopf_lock);
		idev->rid_hwpt = hwpt;
		pthread_mutex_unlock(&iommufd_iopf_lock);
	} else {
		rc = reserve_pasid_slot(idev);
		if (rc)
			return rc;
		rc = d->ops->set_dev_pasid(d, idev->dev, pasid);
		if (rc)
			return rc;
		pthread_mutex_lock(&iommufd_iopf_lock);
		idev->pasids[idev->npasids++] =
			(struct iommufd_pasid_attach){ pasid, hwpt };
		pthread_mutex_unlock(&iommufd_iopf_lock);
	}
	hwpt->obj.users++;
	return 0;
}

static int do_replace(struct iommufd_device *idev, uint32_t pasid,
		      struct iommufd_hw_pagetable *hwpt)
{
	struct iommufd_pasid_attach *pa = NULL;
	struct iommufd_hw_pagetable *old;
	struct iommu_domain *d = hwpt->domain;
	struct rid_resv rr;
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
		pthread_mutex_lock(&iommufd_iopf_lock);
		pa->hwpt = hwpt;
		pthread_mutex_unlock(&iommufd_iopf_lock);
		hwpt->obj.users++;
		iommufd_fault_auto_respond(old, idev, pasid);
		iommufd_hwpt_put_attach(idev->ctx, old);
		return 0;
	}
	rc = rid_resv_take(idev, hwpt, &rr);
	if (rc)
		return rc;
	/* Atomic in the driver: a failure keeps the old translation. */
	rc = d->ops->attach_dev(d, idev->dev);
	if (rc) {
		rid_resv_undo(idev, &rr);
		return rc;
	}
	rid_resv_commit(idev, hwpt, &rr);
	pthread_mutex_lock(&iommufd_iopf_lock);
	idev->rid_hwpt = hwpt;
	pthread_mutex_unlock(&iommufd_iopf_lock);
	hwpt->obj.users++;
	/* Requests still pending on the old HWPT will not be served. */
	iommufd_fault_auto_respond(old, idev, IOMMU_NO_PASID);
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
		pthread_mutex_lock(&iommufd_iopf_lock);
		idev->rid_hwpt = NULL;
		pthread_mutex_unlock(&iommufd_iopf_lock);
	} else {
		struct iommufd_pasid_attach *pa = find_pasid(idev, pasid);

		if (!pa)
			return; /* detaching an unattached PASID is fine */
		old = pa->hwpt;
		idev->dev->inst->drv->remove_dev_pasid(idev->dev, pasid);
		pthread_mutex_lock(&iommufd_iopf_lock);
		*pa = idev->pasids[--idev->npasids];
		pthread_mutex_unlock(&iommufd_iopf_lock);
	}
	/* What the device asked of the old HWPT is answered INVALID. */
	iommufd_fault_auto_respond(old, idev, pasid);
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
