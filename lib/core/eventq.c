// SPDX-License-Identifier: MIT
/*
 * What the two fd-backed queues (FAULT, VEVENTQ; iommufd-uapi.md §7, §8)
 * share: the queue lock, poll readiness and the references their fd holds.
 *
 * Readiness is real: the fd is an eventfd, and its counter is non-zero
 * exactly while the queue has something to read, so poll(2), select(2) and
 * epoll report POLLIN as the kernel's fds do. The queue keeps its own
 * duplicate of that eventfd, so a producer never writes to an fd number the
 * caller may already have closed (and the system reused). That handle is
 * used through raw system calls: a preloaded shim that wraps read, write,
 * close and fcntl must not mistake it for one of the caller's fds.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/core.h"

void iommufd_eventq_init(struct iommufd_eventq *eq, struct iommufd_ctx *ctx)
{
	eq->ctx = ctx;
	eq->efd = -1;
	eq->ready = false;
	pthread_mutex_init(&eq->lock, NULL);
}

void iommufd_eventq_fini(struct iommufd_eventq *eq)
{
	if (eq->efd >= 0)
		syscall(SYS_close, eq->efd);
	eq->efd = -1;
	pthread_mutex_destroy(&eq->lock);
}

void iommufd_eventq_set_ready(struct iommufd_eventq *eq, bool pending)
{
	uint64_t v = 1;

	if (pending == eq->ready || eq->efd < 0)
		return;
	/* The eventfd is non-blocking: if the caller drained it behind our
	 * back the read fails with EAGAIN, which is the state we want. */
	if (pending)
		(void)!syscall(SYS_write, eq->efd, &v, sizeof(v));
	else
		(void)!syscall(SYS_read, eq->efd, &v, sizeof(v));
	eq->ready = pending;
}

int iommufd_eventq_dup_fd(struct iommufd_eventq *eq, int fd)
{
	long efd = syscall(SYS_fcntl, fd, F_DUPFD_CLOEXEC, 0);

	if (efd < 0)
		return -errno;
	eq->efd = (int)efd;
	return 0;
}

void iommufd_eventq_fd_get(struct iommufd_eventq *eq)
{
	eq->obj.users++;
	iommufd_ctx_get(eq->ctx);
}

void iommufd_eventq_fd_put(struct iommufd_eventq *eq)
{
	struct iommufd_ctx *ctx = eq->ctx;

	/* The object may be destroyed (IOMMU_DESTROY) right after this. */
	pthread_mutex_lock(&ctx->lock);
	iommufd_object_put_user(&eq->obj);
	pthread_mutex_unlock(&ctx->lock);
	iommufd_ctx_put(ctx);
}

void iommufd_eventq_publish(struct iommufd_ucmd *ucmd,
			    struct iommufd_eventq *eq, void *file)
{
	iommufd_eventq_fd_get(eq);
	/* Closed behind our back already: nobody will release the
	 * references, and the context cannot go (the iommufd is in an
	 * ioctl). */
	if (!ucmd->fd_ops->publish(file, eq)) {
		iommufd_object_put_user(&eq->obj);
		iommufd_ctx_put(eq->ctx);
	}
}
