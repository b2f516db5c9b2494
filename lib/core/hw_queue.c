// SPDX-License-Identifier: MIT
/*
 * HW_QUEUE objects (iommufd-uapi.md §8) and the one queue type ionest
 * implements, IOMMU_HW_QUEUE_TYPE_IONEST_CMDQ (an extension documented in
 * <ionest/uapi/iommufd.h> and <ionest/ionest.h>): a command ring in guest
 * memory that the host consumes when the guest writes PROD, with no ioctl
 * per command.
 *
 * Allocation follows Linux 7.3 (viommu.c, checked with linux-ref): the
 * generic checks, then the vIOMMU's support of the type, then the ring's
 * pages are held through the nest parent's IOAS, as the kernel's internal
 * access pins them (their areas locked against unmap), and last the queue
 * type's own rules (index order, size, alignment), as a driver's
 * hw_queue_init_phys does them after the pin.
 *
 * The ring is read where it is, in the host memory behind the guest range,
 * in runs of whole entries that never pass its end; each run goes to the
 * vIOMMU's cache_invalidate, the handler of IOMMU_HWPT_INVALIDATE, so the
 * commands and their errors are the same. An entry that fails halts the
 * queue with CONS at it and its error in ERR, like an SMMUv3 command queue
 * on CERROR (spec/smmuv3.md §8), until the guest acknowledges it.
 */
#include <errno.h>
#include <stdint.h>
#include <ionest/ionest.h>

#include "core/core.h"
#include "trace/trace.h"

/* The largest ring: SMMUv3's largest command queue (IDR1.CMDQS = 19) and
 * the most entries one IOMMU_HWPT_INVALIDATE takes. */
#define HW_QUEUE_MAX_LOG2N 19

static struct iommufd_hw_queue *get_hw_queue(struct iommufd_ctx *ctx,
					     uint32_t id)
{
	return (struct iommufd_hw_queue *)iommufd_object_get(
		ctx, id, IOMMUFD_OBJ_HW_QUEUE);
}

/* Queue @index of @v, if allocated. */
static struct iommufd_hw_queue *
find_index(struct iommufd_ctx *ctx, struct iommufd_viommu *v, uint32_t index)
{
	for (uint32_t id = 1; id < ctx->cap; id++) {
		struct iommufd_hw_queue *q = get_hw_queue(ctx, id);

		if (q && q->viommu == v && q->index == index)
			return q;
	}
	return NULL;
}

static void hw_queue_destroy(struct iommufd_object *obj)
{
	struct iommufd_hw_queue *q = (struct iommufd_hw_queue *)obj;

	if (q->locked)
		iopt_unlock_range(&q->viommu->hwpt->ioas->iopt, q->lock_start,
				  q->lock_last);
	if (q->prev)
		iommufd_object_put_user(&q->prev->obj);
	if (q->viommu)
		iommufd_object_put_user(&q->viommu->obj);
}

static bool is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

/* The rules of IOMMU_HW_QUEUE_TYPE_IONEST_CMDQ, after the pin. */
static int cmdq_init(struct iommufd_ctx *ctx, struct iommufd_hw_queue *q)
{
	uint64_t max = (uint64_t)q->entry_len << HW_QUEUE_MAX_LOG2N;
	struct iommufd_hw_queue *prev = NULL;

	if (q->index >= IOMMUFD_HW_QUEUE_MAX)
		return -EINVAL;
	if (find_index(ctx, q->viommu, q->index))
		return -EEXIST;
	/* Allocated in ascending order, destroyed in descending order (the
	 * Tegra241 CMDQV and selftest rules): we keep index - 1 busy. */
	if (q->index) {
		prev = find_index(ctx, q->viommu, q->index - 1);
		if (!prev)
			return -EIO;
	}
	/* Like an SMMUv3 Q_BASE: 2^N entries, based at a multiple of the
	 * queue's size. */
	if (!is_pow2(q->length) || q->length < q->entry_len ||
	    q->length > max || (q->base_iova & (q->length - 1)))
		return -EINVAL;
	q->log2n = (uint32_t)__builtin_ctzll(q->length / q->entry_len);
	if (prev) {
		q->prev = prev;
		prev->obj.users++;
	}
	return 0;
}

/* Hold the ring's whole pages in the parent IOAS (Linux's
 * iommufd_hw_queue_alloc_phys); q->ring is the host address of entry 0. */
static int hw_queue_pin(struct iommufd_hw_queue *q)
{
	struct iopt *iopt = &q->viommu->hwpt->ioas->iopt;
	uint64_t page = iommufd_page_size;
	uint64_t offset = q->base_iova & (page - 1), span, host;
	int rc;

	if (add_overflows(offset, q->length, &span) ||
	    add_overflows(span, page - 1, &span))
		return -ERANGE;
	span &= ~(page - 1);
	q->lock_start = q->base_iova - offset;
	q->lock_last = q->lock_start + span - 1;
	rc = iopt_lock_range(iopt, q->lock_start, q->lock_last, &host);
	if (rc)
		return rc;
	q->locked = true;
	q->ring = (const uint8_t *)(uintptr_t)(host + offset);
	return 0;
}

int iommufd_hw_queue_alloc(struct iommufd_ucmd *ucmd)
{
	struct iommu_hw_queue_alloc *cmd = ucmd->cmd;
	struct iommufd_ctx *ctx = ucmd->ctx;
	const struct iommu_viommu_ops *ops;
	struct iommufd_hw_queue *q;
	struct iommufd_viommu *v;
	uint64_t last;
	int rc;

	if (cmd->flags || cmd->type == IOMMU_HW_QUEUE_TYPE_DEFAULT)
		return -EOPNOTSUPP;
	if (!cmd->length)
		return -EINVAL;
	if (add_overflows(cmd->nesting_parent_iova, cmd->length - 1, &last))
		return -EOVERFLOW;
	v = iommufd_get_viommu(ctx, cmd->viommu_id);
	if (!v)
		return -ENOENT;
	ops = v->hw->ops;
	if (cmd->type != IOMMU_HW_QUEUE_TYPE_IONEST_CMDQ ||
	    !ops->cache_invalidate || !is_pow2(ops->hw_queue_entry_len))
		return -EOPNOTSUPP;

	q = iommufd_object_alloc(ctx, sizeof(*q), IOMMUFD_OBJ_HW_QUEUE,
				 hw_queue_destroy);
	if (!q)
		return -ENOMEM;
	q->type = cmd->type;
	q->index = cmd->index;
	q->base_iova = cmd->nesting_parent_iova;
	q->length = cmd->length;
	q->data_type = ops->hw_queue_data_type;
	q->entry_len = ops->hw_queue_entry_len;
	q->viommu = v;
	v->obj.users++;
	rc = hw_queue_pin(q);
	if (rc)
		goto out_abort;
	rc = cmdq_init(ctx, q);
	if (rc)
		goto out_abort;
	cmd->out_hw_queue_id = q->obj.id;
	rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc)
		goto out_abort;
	iommufd_object_finalize(ctx, &q->obj);
	return 0;
out_abort:
	iommufd_object_abort_and_destroy(ctx, &q->obj);
	return rc;
}

/* ---- The guest's side: registers and the doorbell ---- */

/* PROD and CONS: the index and the wrap bit above it. */
static uint32_t ptr_mask(const struct iommufd_hw_queue *q)
{
	return (2u << q->log2n) - 1;
}

/* Entries from CONS up to @prod (at most 2^log2n in a sane ring). */
static uint32_t pending(const struct iommufd_hw_queue *q, uint32_t prod)
{
	return (prod - q->cons) & ptr_mask(q);
}

/* Consume from CONS up to PROD unless halted; -EIO if halted. */
static int consume(struct iommufd_hw_queue *q)
{
	struct iommu_viommu *hw = q->viommu->hw;
	uint32_t n = 1u << q->log2n;

	while (!q->err && q->cons != q->prod) {
		uint32_t idx = q->cons & (n - 1);
		uint32_t run = pending(q, q->prod);
		struct iommu_user_data_array a = {
			.type = q->data_type,
			.entry_len = q->entry_len,
		};
		uint32_t done;
		int rc;

		/* Up to the end of the ring; the rest after the wrap. */
		if (run > n - idx)
			run = n - idx;
		a.entry_num = run;
		a.entries = q->ring + (size_t)idx * q->entry_len;
		rc = hw->ops->cache_invalidate(hw, &a);
		done = a.entry_num < run ? a.entry_num : run;
		q->cons = (q->cons + done) & ptr_mask(q);
		if (rc < 0)
			q->err = (uint32_t)-rc;
		else if (rc || done < run)
			q->err = EIO; /* a driver that stopped without a cause
				       */
	}
	trace_core_hw_queue(q->obj.id, q->prod, q->cons, q->err);
	return q->err ? -EIO : 0;
}

int iommufd_hw_queue_doorbell(struct iommufd_ctx *ctx, uint32_t id,
			      uint32_t prod)
{
	struct iommufd_hw_queue *q = get_hw_queue(ctx, id);

	if (!q)
		return -ENOENT;
	/* Bits above the wrap flag, or more than a ring ahead of CONS. */
	if ((prod & ~ptr_mask(q)) || pending(q, prod) > 1u << q->log2n)
		return -EINVAL;
	q->prod = prod;
	return consume(q);
}

int iommufd_hw_queue_ack(struct iommufd_ctx *ctx, uint32_t id, uint32_t flags)
{
	struct iommufd_hw_queue *q = get_hw_queue(ctx, id);

	if (!q)
		return -ENOENT;
	if (flags & ~IONEST_HW_QUEUE_ACK_SKIP)
		return -EOPNOTSUPP;
	if (!q->err)
		return -EINVAL;
	q->err = 0;
	/* The failed entry is still below PROD unless the guest took it
	 * back by moving PROD down to CONS. */
	if ((flags & IONEST_HW_QUEUE_ACK_SKIP) && q->cons != q->prod)
		q->cons = (q->cons + 1) & ptr_mask(q);
	return consume(q);
}

int iommufd_hw_queue_read_regs(struct iommufd_ctx *ctx, uint32_t id,
			       struct ionest_hw_queue_regs *regs)
{
	struct iommufd_hw_queue *q = get_hw_queue(ctx, id);

	if (!q)
		return -ENOENT;
	if (!regs)
		return -EINVAL;
	regs->prod = q->prod;
	regs->cons = q->cons;
	regs->err = q->err;
	regs->log2_entries = q->log2n;
	return 0;
}
