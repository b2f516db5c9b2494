// SPDX-License-Identifier: MIT
/*
 * VEVENTQ objects (iommufd-uapi.md §8): per vIOMMU and event type, a queue
 * of at most veventq_depth events the driver reports (e.g. SMMUv3 event
 * records carrying the vSID), read from an fd as a stream of
 * {header, payload} records that are never split.
 *
 * Every queued item takes the next sequence number (wrapping at INT_MAX),
 * so a gap tells the reader events were lost. When the queue is full an
 * event is dropped and the LOST_EVENTS mark (a header without payload) is
 * queued instead; the mark is only ever the last item and is queued at
 * most once: a later item, dropped or not, takes its place (the gap in the
 * sequence still shows the loss), as Linux 7.3 does.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "core/core.h"
#include "util/alloc.h"

/* The kernel's bound, large enough for any hardware queue. */
#define VEVENTQ_MAX_DEPTH (1u << 19)

static uint8_t *payload(struct iommufd_vevent *ev)
{
	return (uint8_t *)(ev + 1);
}

static bool is_lost(struct iommufd_veventq *q, struct iommufd_vevent *ev)
{
	return ev == &q->lost;
}

/* Queue @ev (q->common.lock held). */
static void vevent_queue(struct iommufd_veventq *q, struct iommufd_vevent *ev)
{
	/* The mark leaves the tail to whatever comes next (possibly
	 * itself, with a new sequence number). */
	if (list_is_last(&q->lost.node, &q->deliver))
		list_del_init(&q->lost.node);
	list_add_tail(&ev->node, &q->deliver);
	ev->header.sequence = q->sequence;
	q->sequence = (q->sequence + 1) & INT_MAX;
	iommufd_eventq_set_ready(&q->common, true);
}

static struct iommufd_veventq *find_veventq(struct iommufd_viommu *v,
					    uint32_t type)
{
	struct list_head *pos, *tmp;

	list_for_each_safe(pos, tmp, &v->veventqs) {
		struct iommufd_veventq *q =
			list_entry(pos, struct iommufd_veventq, node);

		if (q->type == type)
			return q;
	}
	return NULL;
}

int iommufd_viommu_report_event(struct iommu_viommu *hw, uint32_t type,
				const void *data, size_t len)
{
	struct iommufd_viommu *v =
		hw ? __atomic_load_n(&hw->iommufd, __ATOMIC_ACQUIRE) : NULL;
	struct iommufd_vevent *ev;
	struct iommufd_veventq *q;
	int rc = 0;

	if (!data || !len || len > UINT32_MAX - sizeof(*ev))
		return -EINVAL;
	if (!v)
		return -EOPNOTSUPP; /* not (yet) known to the core */
	pthread_rwlock_rdlock(&v->lock);
	q = find_veventq(v, type);
	if (!q) {
		pthread_rwlock_unlock(&v->lock);
		return -EOPNOTSUPP;
	}
	/* Allocate before taking the queue lock. */
	ev = xmalloc(sizeof(*ev) + len);
	pthread_mutex_lock(&q->common.lock);
	if (!ev) {
		ev = &q->lost;
		rc = -ENOMEM;
	} else if (q->num_events >= q->depth) {
		xfree(ev);
		ev = &q->lost;
	} else {
		list_init(&ev->node);
		ev->header.flags = 0;
		ev->len = (uint32_t)len;
		memcpy(payload(ev), data, len);
		q->num_events++;
	}
	vevent_queue(q, ev);
	pthread_mutex_unlock(&q->common.lock);
	pthread_rwlock_unlock(&v->lock);
	return rc;
}

long iommufd_veventq_read(struct iommufd_veventq *q, void *buf, size_t n)
{
	const size_t hsz = sizeof(struct iommufd_vevent_header);
	uint64_t ubuf = (uint64_t)(uintptr_t)buf;
	size_t done = 0;
	long rc = 0;

	/* At least a header (Linux 7.3). */
	if (n < hsz)
		return -EINVAL;
	pthread_mutex_lock(&q->common.lock);
	while (!list_empty(&q->deliver)) {
		struct iommufd_vevent *ev = list_entry(
			q->deliver.next, struct iommufd_vevent, node);

		if (n - done < hsz)
			break;
		/* Never split an event; the first one not fitting is
		 * EINVAL. */
		if (!is_lost(q, ev) && ev->len > n - done - hsz) {
			if (!done)
				rc = -EINVAL;
			break;
		}
		rc = copy_to_user(ubuf + done, &ev->header, hsz);
		if (!rc && ev->len)
			rc = copy_to_user(ubuf + done + hsz, payload(ev),
					  ev->len);
		if (rc)
			break;
		done += hsz + ev->len;
		list_del_init(&ev->node);
		if (!is_lost(q, ev)) {
			q->num_events--;
			xfree(ev);
		}
	}
	iommufd_eventq_set_ready(&q->common, !list_empty(&q->deliver));
	pthread_mutex_unlock(&q->common.lock);
	return done ? (long)done : rc;
}

static void veventq_destroy(struct iommufd_object *obj)
{
	struct iommufd_veventq *q = (struct iommufd_veventq *)obj;
	struct iommufd_viommu *v = q->viommu;
	struct list_head *pos, *tmp;

	/* Out of the report path first. */
	pthread_rwlock_wrlock(&v->lock);
	list_del_init(&q->node);
	pthread_rwlock_unlock(&v->lock);
	list_for_each_safe(pos, tmp, &q->deliver) {
		struct iommufd_vevent *ev =
			list_entry(pos, struct iommufd_vevent, node);

		list_del_init(pos);
		if (!is_lost(q, ev))
			xfree(ev);
	}
	iommufd_object_put_user(&v->obj);
	iommufd_eventq_fini(&q->common);
}

int iommufd_veventq_alloc(struct iommufd_ucmd *ucmd)
{
	struct iommu_veventq_alloc *cmd = ucmd->cmd;
	struct iommufd_ctx *ctx = ucmd->ctx;
	struct iommufd_veventq *q;
	struct iommufd_viommu *v;
	void *file = NULL;
	int fd, rc;

	if (cmd->flags || cmd->__reserved ||
	    cmd->type == IOMMU_VEVENTQ_TYPE_DEFAULT)
		return -EOPNOTSUPP;
	if (!cmd->veventq_depth || cmd->veventq_depth > VEVENTQ_MAX_DEPTH)
		return -EINVAL;
	v = iommufd_get_viommu(ctx, cmd->viommu_id);
	if (!v)
		return -ENOENT;
	/* One queue per type (writers hold ctx->lock, as we do). */
	if (find_veventq(v, cmd->type))
		return -EEXIST;

	q = iommufd_object_alloc(ctx, sizeof(*q), IOMMUFD_OBJ_VEVENTQ,
				 veventq_destroy);
	if (!q)
		return -ENOMEM;
	iommufd_eventq_init(&q->common, ctx);
	q->viommu = v;
	v->obj.users++;
	q->type = cmd->type;
	q->depth = cmd->veventq_depth;
	list_init(&q->deliver);
	list_init(&q->lost.node);
	q->lost.header.flags = IOMMU_VEVENTQ_FLAG_LOST_EVENTS;
	q->lost.len = 0;
	pthread_rwlock_wrlock(&v->lock);
	list_add_tail(&q->node, &v->veventqs);
	pthread_rwlock_unlock(&v->lock);

	fd = ucmd->fd_ops->open(&q->common, false, &file);
	if (fd < 0) {
		rc = fd;
		goto out_abort;
	}
	cmd->out_veventq_id = q->common.obj.id;
	cmd->out_veventq_fd = (uint32_t)fd;
	rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc) {
		ucmd->fd_ops->cancel(file, fd);
		goto out_abort;
	}
	iommufd_eventq_publish(ucmd, &q->common, file);
	iommufd_object_finalize(ctx, &q->common.obj);
	return 0;
out_abort:
	iommufd_object_abort_and_destroy(ctx, &q->common.obj);
	return rc;
}
