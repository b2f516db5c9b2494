// SPDX-License-Identifier: MIT
/*
 * FAULT objects and I/O page fault delivery (iommufd-uapi.md §7).
 *
 * A driver reports each page request with iommu_report_fault(). Requests
 * that are not the last of their group wait on the device; the last one
 * completes the group, which goes to the fault queue of the HWPT the RID
 * or PASID is attached to. read() hands out whole groups, giving each a
 * cookie (the lowest free one from 1); write() takes {cookie, code} and
 * answers the group through the driver's page_response(). Leaving a HWPT
 * (detach, replace) and destroying the queue answer what is pending with
 * INVALID; so does a request nobody can take (Linux answers those too).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "core/core.h"
#include "util/alloc.h"

/* A device cannot have more page requests outstanding than its PRI
 * allocation; this bounds what a misbehaving one can make us hold. */
#define IOPF_MAX_PARTIAL 256

_Static_assert(IOMMU_FAULT_F_PASID_VALID == IOMMU_PGFAULT_FLAGS_PASID_VALID &&
		       IOMMU_FAULT_F_LAST_PAGE == IOMMU_PGFAULT_FLAGS_LAST_PAGE,
	       "fault flags are the uAPI's");
_Static_assert(IOMMU_FAULT_PERM_READ == IOMMU_PGFAULT_PERM_READ &&
		       IOMMU_FAULT_PERM_WRITE == IOMMU_PGFAULT_PERM_WRITE &&
		       IOMMU_FAULT_PERM_EXEC == IOMMU_PGFAULT_PERM_EXEC &&
		       IOMMU_FAULT_PERM_PRIV == IOMMU_PGFAULT_PERM_PRIV,
	       "fault permissions are the uAPI's");
_Static_assert(IOMMU_PAGE_RESP_SUCCESS == IOMMUFD_PAGE_RESP_SUCCESS &&
		       IOMMU_PAGE_RESP_INVALID == IOMMUFD_PAGE_RESP_INVALID,
	       "response codes are the uAPI's");

pthread_mutex_t iommufd_iopf_lock = PTHREAD_MUTEX_INITIALIZER;

struct iommufd_fault_group {
	struct list_head node; /* fault->deliver, or a private list */
	struct iommu_dev *dev;
	struct iommufd_device *idev;
	struct iommufd_hw_pagetable *hwpt; /* the attachment it came by */
	uint32_t attach_pasid; /* IOMMU_NO_PASID: the RID */
	uint32_t dev_id;
	uint32_t cookie; /* 0 until read */
	unsigned n;
	struct iommu_fault f[]; /* in arrival order, the last one last */
};

struct iommufd_fault *iommufd_get_fault(struct iommufd_ctx *ctx, uint32_t id)
{
	return (struct iommufd_fault *)iommufd_object_get(ctx, id,
							  IOMMUFD_OBJ_FAULT);
}

static void respond(struct iommu_dev *dev, const struct iommu_fault *last,
		    uint32_t code)
{
	const struct iommu_driver *drv = dev->inst->drv;

	if (drv->page_response)
		drv->page_response(dev, last, code);
}

static void group_respond_free(struct iommufd_fault_group *g, uint32_t code)
{
	respond(g->dev, &g->f[g->n - 1], code);
	xfree(g);
}

/* ---- Reporting (drivers, any thread) ---- */

/* The HWPT a request of @idev goes to (iommufd_iopf_lock held). */
static struct iommufd_hw_pagetable *iopf_route(struct iommufd_device *idev,
					       const struct iommu_fault *f,
					       uint32_t *attach_pasid)
{
	struct iommufd_hw_pagetable *rid = idev->rid_hwpt;

	if (f->flags & IOMMU_FAULT_F_PASID_VALID) {
		for (unsigned i = 0; i < idev->npasids; i++) {
			if (idev->pasids[i].pasid == f->pasid) {
				*attach_pasid = f->pasid;
				return idev->pasids[i].hwpt;
			}
		}
		/* A guest-owned PASID table (SMMUv3 CD table): its PASIDs
		 * live in the nested domain of the RID. */
		if (!idev->dev->inst->user_pasid_table || !rid ||
		    rid->obj.type != IOMMUFD_OBJ_HWPT_NESTED)
			return NULL;
	}
	*attach_pasid = IOMMU_NO_PASID;
	return rid;
}

static int add_partial(struct iommufd_device *idev, const struct iommu_fault *f)
{
	if (idev->npartial == idev->partial_cap) {
		unsigned ncap = idev->partial_cap ? idev->partial_cap * 2 : 8;
		struct iommu_fault *n;

		if (idev->npartial >= IOPF_MAX_PARTIAL)
			return -ENOSPC;
		n = xrealloc(idev->partial, ncap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		idev->partial = n;
		idev->partial_cap = ncap;
	}
	idev->partial[idev->npartial++] = *f;
	return 0;
}

/* A group of @idev's partial requests with @f's grpid followed by @f; those
 * partial requests leave the device either way. NULL without memory. */
static struct iommufd_fault_group *make_group(struct iommufd_device *idev,
					      const struct iommu_fault *f)
{
	struct iommufd_fault_group *g;
	unsigned n = 1, j = 0;

	for (unsigned i = 0; i < idev->npartial; i++)
		n += idev->partial[i].grpid == f->grpid;
	g = xmalloc(sizeof(*g) + n * sizeof(g->f[0]));
	if (g)
		g->n = 0;
	for (unsigned i = 0; i < idev->npartial; i++) {
		if (idev->partial[i].grpid != f->grpid)
			idev->partial[j++] = idev->partial[i];
		else if (g)
			g->f[g->n++] = idev->partial[i];
	}
	idev->npartial = j;
	if (g)
		g->f[g->n++] = *f;
	return g;
}

static void deliver(struct iommufd_fault *fault, struct iommufd_fault_group *g)
{
	pthread_mutex_lock(&fault->common.lock);
	list_add_tail(&g->node, &fault->deliver);
	iommufd_eventq_set_ready(&fault->common, true);
	pthread_mutex_unlock(&fault->common.lock);
}

int iommu_report_fault(struct iommu_dev *dev, const struct iommu_fault *f)
{
	struct iommufd_hw_pagetable *hwpt = NULL;
	struct iommufd_fault_group *g;
	struct iommufd_device *idev;
	uint32_t attach_pasid;
	int rc;

	if (!dev || !f)
		return -EINVAL;
	pthread_mutex_lock(&iommufd_iopf_lock);
	idev = dev->iommufd;
	if (idev)
		hwpt = iopf_route(idev, f, &attach_pasid);
	if (!hwpt || !hwpt->fault) {
		/* Nobody handles it: the request must still be answered. */
		pthread_mutex_unlock(&iommufd_iopf_lock);
		respond(dev, f, IOMMU_PAGE_RESP_INVALID);
		return -EINVAL;
	}
	if (!(f->flags & IOMMU_FAULT_F_LAST_PAGE)) {
		/* The rest of the group follows; nothing to answer yet. */
		rc = add_partial(idev, f);
		pthread_mutex_unlock(&iommufd_iopf_lock);
		return rc;
	}
	g = make_group(idev, f);
	if (!g) {
		pthread_mutex_unlock(&iommufd_iopf_lock);
		respond(dev, f, IOMMU_PAGE_RESP_FAILURE);
		return -ENOMEM;
	}
	g->dev = dev;
	g->idev = idev;
	g->hwpt = hwpt;
	g->attach_pasid = attach_pasid;
	g->dev_id = idev->obj.id;
	g->cookie = 0;
	deliver(hwpt->fault, g);
	pthread_mutex_unlock(&iommufd_iopf_lock);
	return 0;
}

void iommufd_fault_drop_partial(struct iommufd_device *idev)
{
	pthread_mutex_lock(&iommufd_iopf_lock);
	xfree(idev->partial);
	idev->partial = NULL;
	idev->npartial = idev->partial_cap = 0;
	pthread_mutex_unlock(&iommufd_iopf_lock);
}

/* ---- Cookies: groups read and awaiting a response ---- */

static int cookie_alloc(struct iommufd_fault *fault,
			struct iommufd_fault_group *g)
{
	uint32_t c = fault->resp_hint ? fault->resp_hint : 1;

	while (c < fault->resp_cap && fault->resp[c])
		c++;
	if (c >= fault->resp_cap) {
		uint32_t ncap = fault->resp_cap ? fault->resp_cap * 2 : 16;
		struct iommufd_fault_group **n;

		if (fault->resp_cap >= (1u << 31))
			return -ENOSPC;
		n = xrealloc(fault->resp, ncap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		memset(n + fault->resp_cap, 0,
		       (ncap - fault->resp_cap) * sizeof(*n));
		fault->resp = n;
		fault->resp_cap = ncap;
	}
	fault->resp[c] = g;
	fault->resp_hint = c + 1;
	g->cookie = c;
	return 0;
}

static struct iommufd_fault_group *cookie_take(struct iommufd_fault *fault,
					       uint32_t c)
{
	struct iommufd_fault_group *g;

	if (!c || c >= fault->resp_cap || !fault->resp[c])
		return NULL;
	g = fault->resp[c];
	fault->resp[c] = NULL;
	if (c < fault->resp_hint)
		fault->resp_hint = c;
	return g;
}

/* ---- The fd ---- */

static void compose(const struct iommufd_fault_group *g,
		    const struct iommu_fault *f, struct iommu_hwpt_pgfault *r)
{
	memset(r, 0, sizeof(*r));
	r->flags = f->flags &
		   (IOMMU_FAULT_F_PASID_VALID | IOMMU_FAULT_F_LAST_PAGE);
	r->dev_id = g->dev_id;
	r->pasid = f->pasid;
	r->grpid = f->grpid;
	r->perm = f->perm;
	r->addr = f->addr;
	r->length = 0; /* a hint the kernel leaves 0 */
	r->cookie = g->cookie;
}

long iommufd_fault_read(struct iommufd_fault *fault, void *buf, size_t n)
{
	const size_t fsz = sizeof(struct iommu_hwpt_pgfault);
	uint64_t ubuf = (uint64_t)(uintptr_t)buf;
	size_t done = 0;
	long rc = 0;

	if (n % fsz)
		return -ESPIPE;
	pthread_mutex_lock(&fault->common.lock);
	while (!list_empty(&fault->deliver)) {
		struct iommufd_fault_group *g = list_entry(
			fault->deliver.next, struct iommufd_fault_group, node);
		struct iommu_hwpt_pgfault r;

		/* Whole groups only; none fits at all: EINVAL. */
		if (done >= n || g->n * fsz > n - done) {
			if (!done)
				rc = -EINVAL;
			break;
		}
		rc = cookie_alloc(fault, g);
		if (rc)
			break;
		for (unsigned i = 0; i < g->n && !rc; i++) {
			compose(g, &g->f[i], &r);
			rc = copy_to_user(ubuf + done + i * fsz, &r, fsz);
		}
		if (rc) {
			cookie_take(fault, g->cookie);
			g->cookie = 0;
			break;
		}
		list_del_init(&g->node);
		done += g->n * fsz;
	}
	iommufd_eventq_set_ready(&fault->common, !list_empty(&fault->deliver));
	pthread_mutex_unlock(&fault->common.lock);
	return done ? (long)done : rc;
}

long iommufd_fault_write(struct iommufd_fault *fault, const void *buf, size_t n)
{
	const size_t rsz = sizeof(struct iommu_hwpt_page_response);
	uint64_t ubuf = (uint64_t)(uintptr_t)buf;
	size_t done = 0;
	long rc = 0;

	if (n % rsz)
		return -ESPIPE;
	while (done < n) {
		struct iommu_hwpt_page_response r;
		struct iommufd_fault_group *g;

		rc = copy_from_user(&r, ubuf + done, rsz);
		if (rc)
			break;
		if (r.code != IOMMUFD_PAGE_RESP_SUCCESS &&
		    r.code != IOMMUFD_PAGE_RESP_INVALID) {
			rc = -EINVAL;
			break;
		}
		pthread_mutex_lock(&fault->common.lock);
		g = cookie_take(fault, r.cookie);
		pthread_mutex_unlock(&fault->common.lock);
		/* Unknown, or answered already (by us or by a detach). */
		if (!g) {
			rc = -EINVAL;
			break;
		}
		group_respond_free(g, r.code);
		done += rsz;
	}
	return done ? (long)done : rc;
}

/* ---- Leaving a HWPT, destroying the queue ---- */

void iommufd_fault_auto_respond(struct iommufd_hw_pagetable *hwpt,
				struct iommufd_device *idev, uint32_t pasid)
{
	struct iommufd_fault *fault = hwpt->fault;
	struct list_head todo, *pos, *tmp;

	if (!fault)
		return;
	list_init(&todo);
	pthread_mutex_lock(&fault->common.lock);
	list_for_each_safe(pos, tmp, &fault->deliver) {
		struct iommufd_fault_group *g =
			list_entry(pos, struct iommufd_fault_group, node);

		if (g->idev == idev && g->attach_pasid == pasid &&
		    g->hwpt == hwpt) {
			list_del_init(&g->node);
			list_add_tail(&g->node, &todo);
		}
	}
	for (uint32_t c = 1; c < fault->resp_cap; c++) {
		struct iommufd_fault_group *g = fault->resp[c];

		if (g && g->idev == idev && g->attach_pasid == pasid &&
		    g->hwpt == hwpt) {
			cookie_take(fault, c);
			list_add_tail(&g->node, &todo);
		}
	}
	iommufd_eventq_set_ready(&fault->common, !list_empty(&fault->deliver));
	pthread_mutex_unlock(&fault->common.lock);
	/* The driver is called without our locks. */
	list_for_each_safe(pos, tmp, &todo) {
		list_del_init(pos);
		group_respond_free(list_entry(pos, struct iommufd_fault_group,
					      node),
				   IOMMU_PAGE_RESP_INVALID);
	}
}

static void fault_destroy(struct iommufd_object *obj)
{
	struct iommufd_fault *fault = (struct iommufd_fault *)obj;
	struct list_head *pos, *tmp;

	/* No HWPT uses us and no fd is open: nothing can be added. */
	list_for_each_safe(pos, tmp, &fault->deliver) {
		list_del_init(pos);
		group_respond_free(list_entry(pos, struct iommufd_fault_group,
					      node),
				   IOMMU_PAGE_RESP_INVALID);
	}
	for (uint32_t c = 1; c < fault->resp_cap; c++) {
		if (fault->resp[c])
			group_respond_free(fault->resp[c],
					   IOMMU_PAGE_RESP_INVALID);
	}
	xfree(fault->resp);
	iommufd_eventq_fini(&fault->common);
}

int iommufd_fault_alloc(struct iommufd_ucmd *ucmd)
{
	struct iommu_fault_alloc *cmd = ucmd->cmd;
	struct iommufd_fault *fault;
	void *file = NULL;
	int fd, rc;

	if (cmd->flags)
		return -EOPNOTSUPP;
	fault = iommufd_object_alloc(ucmd->ctx, sizeof(*fault),
				     IOMMUFD_OBJ_FAULT, fault_destroy);
	if (!fault)
		return -ENOMEM;
	iommufd_eventq_init(&fault->common, ucmd->ctx);
	list_init(&fault->deliver);

	fd = ucmd->fd_ops->open(&fault->common, true, &file);
	if (fd < 0) {
		rc = fd;
		goto out_abort;
	}
	cmd->out_fault_id = fault->common.obj.id;
	cmd->out_fault_fd = (uint32_t)fd;
	rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc) {
		ucmd->fd_ops->cancel(file, fd);
		goto out_abort;
	}
	iommufd_eventq_publish(ucmd, &fault->common, file);
	iommufd_object_finalize(ucmd->ctx, &fault->common.obj);
	return 0;
out_abort:
	iommufd_object_abort_and_destroy(ucmd->ctx, &fault->common.obj);
	return rc;
}
