// SPDX-License-Identifier: MIT
/*
 * The guest's register accesses to an IOMMU_HW_QUEUE_TYPE_IONEST_CMDQ
 * queue (an ionest extension, <ionest/ionest.h>): what a guest does with
 * MMIO writes and reads, given here by iommufd and queue ID. No ioctl and
 * no copy of the commands: the core reads them in the ring. -1 with errno,
 * as the syscall-shaped entry points.
 */
#include <errno.h>
#include <ionest/ionest.h>

#include "uapi/uapi.h"

enum reg_op { OP_DOORBELL, OP_ACK, OP_READ };

static int reg_access(int fd, uint32_t id, enum reg_op op, uint32_t val,
		      struct ionest_hw_queue_regs *regs)
{
	struct ionest_file *f = file_get(fd);
	struct iommufd_ctx *ctx;
	int rc;

	if (!f) {
		errno = EBADF;
		return -1;
	}
	ctx = uapi_iommufd_ctx(f);
	if (!ctx) {
		rc = -EBADF; /* an ionest fd, but no iommufd */
	} else {
		/* The queue and its vIOMMU stay while we hold the lock. */
		pthread_mutex_lock(&ctx->lock);
		if (op == OP_DOORBELL)
			rc = iommufd_hw_queue_doorbell(ctx, id, val);
		else if (op == OP_ACK)
			rc = iommufd_hw_queue_ack(ctx, id, val);
		else
			rc = iommufd_hw_queue_read_regs(ctx, id, regs);
		pthread_mutex_unlock(&ctx->lock);
	}
	file_put(f);
	if (rc < 0) {
		errno = -rc;
		return -1;
	}
	return 0;
}

IONEST_API int ionest_hw_queue_doorbell(int fd, uint32_t hw_queue_id,
					uint32_t prod)
{
	return reg_access(fd, hw_queue_id, OP_DOORBELL, prod, NULL);
}

IONEST_API int ionest_hw_queue_ack(int fd, uint32_t hw_queue_id, uint32_t flags)
{
	return reg_access(fd, hw_queue_id, OP_ACK, flags, NULL);
}

IONEST_API int ionest_hw_queue_read_regs(int fd, uint32_t hw_queue_id,
					 struct ionest_hw_queue_regs *regs)
{
	return reg_access(fd, hw_queue_id, OP_READ, 0, regs);
}
