// SPDX-License-Identifier: MIT
/*
 * /dev/iommu: the ioctl table with each command's struct size and minimum
 * size, and the dispatch rules of iommufd-uapi.md §0 in the kernel's order:
 * numbers outside the table go to the VFIO type1 compat handler; the size
 * word must be readable (EFAULT); a slot for a different full number is
 * ENOTTY; a size below the minimum is EINVAL; a longer struct must have a
 * zero tail (E2BIG); a shorter one is zero-extended; the handler's output
 * goes back clamped to the caller's size.
 *
 * The fault queue and vEVENTQ fds are made here for the core (which cannot
 * make files): "[iommufd-pgfault]" (read/write) and
 * "[iommufd-viommu-event]" (read), both close-on-exec eventfds whose
 * readiness the core drives (lib/core/eventq.c). Two visible differences
 * from Linux's anon-inode files: F_GETFL shows O_NONBLOCK (reads never
 * block either way), and a vEVENTQ fd also polls POLLOUT.
 */
#include <errno.h>
#include <fcntl.h>

#include "uapi/uapi.h"
#include "util/alloc.h"

struct iommufd_ioctl_op {
	unsigned long num;
	uint32_t size, min_size;
	int (*execute)(struct iommufd_ucmd *ucmd);
};

#define OFFSETOFEND(s, f) (offsetof(struct s, f) + sizeof(((struct s *)0)->f))
#define OP(cmd, fn, s, last)                                \
	[IOMMUFD_CMD_##cmd - IOMMUFD_CMD_BASE] = {          \
		.num = IOMMU_##cmd,                         \
		.size = sizeof(struct s),                   \
		.min_size = (uint32_t)OFFSETOFEND(s, last), \
		.execute = fn,                              \
	}

static const struct iommufd_ioctl_op ops[] = {
	OP(DESTROY, iommufd_destroy, iommu_destroy, id),
	OP(IOAS_ALLOC, iommufd_ioas_alloc_ioctl, iommu_ioas_alloc, out_ioas_id),
	OP(IOAS_ALLOW_IOVAS, iommufd_ioas_allow_iovas, iommu_ioas_allow_iovas,
	   allowed_iovas),
	OP(IOAS_COPY, iommufd_ioas_copy, iommu_ioas_copy, src_iova),
	OP(IOAS_IOVA_RANGES, iommufd_ioas_iova_ranges, iommu_ioas_iova_ranges,
	   out_iova_alignment),
	OP(IOAS_MAP, iommufd_ioas_map, iommu_ioas_map, iova),
	OP(IOAS_UNMAP, iommufd_ioas_unmap, iommu_ioas_unmap, length),
	OP(OPTION, iommufd_option, iommu_option, val64),
	OP(VFIO_IOAS, iommufd_vfio_ioas, iommu_vfio_ioas, __reserved),
	OP(HWPT_ALLOC, iommufd_hwpt_alloc, iommu_hwpt_alloc, __reserved),
	OP(GET_HW_INFO, iommufd_get_hw_info, iommu_hw_info, __reserved),
	OP(HWPT_SET_DIRTY_TRACKING, iommufd_hwpt_set_dirty_tracking,
	   iommu_hwpt_set_dirty_tracking, __reserved),
	OP(HWPT_GET_DIRTY_BITMAP, iommufd_hwpt_get_dirty_bitmap,
	   iommu_hwpt_get_dirty_bitmap, data),
	OP(HWPT_INVALIDATE, iommufd_hwpt_invalidate, iommu_hwpt_invalidate,
	   __reserved),
	OP(FAULT_QUEUE_ALLOC, iommufd_fault_alloc, iommu_fault_alloc,
	   out_fault_fd),
	OP(IOAS_MAP_FILE, iommufd_ioas_map_file, iommu_ioas_map_file, iova),
	OP(VIOMMU_ALLOC, iommufd_viommu_alloc, iommu_viommu_alloc,
	   out_viommu_id),
	OP(VDEVICE_ALLOC, iommufd_vdevice_alloc, iommu_vdevice_alloc, virt_id),
	OP(IOAS_CHANGE_PROCESS, iommufd_ioas_change_process,
	   iommu_ioas_change_process, __reserved),
	OP(VEVENTQ_ALLOC, iommufd_veventq_alloc, iommu_veventq_alloc,
	   out_veventq_fd),
	OP(HW_QUEUE_ALLOC, iommufd_hw_queue_alloc, iommu_hw_queue_alloc,
	   length),
};

#define MAX_CMD_SIZE 64

/* ---- Event queue fds ---- */

static struct iommufd_eventq *eventq_of(struct ionest_file *f)
{
	/* NULL until the ioctl that made the fd succeeded. */
	return __atomic_load_n((struct iommufd_eventq **)&f->priv,
			       __ATOMIC_ACQUIRE);
}

static ssize_t fault_read(struct ionest_file *f, void *buf, size_t n)
{
	struct iommufd_eventq *eq = eventq_of(f);

	return eq ? iommufd_fault_read((struct iommufd_fault *)eq, buf, n) :
		    -EINVAL;
}

static ssize_t fault_write(struct ionest_file *f, const void *buf, size_t n)
{
	struct iommufd_eventq *eq = eventq_of(f);

	return eq ? iommufd_fault_write((struct iommufd_fault *)eq, buf, n) :
		    -EINVAL;
}

static ssize_t veventq_read(struct ionest_file *f, void *buf, size_t n)
{
	struct iommufd_eventq *eq = eventq_of(f);

	return eq ? iommufd_veventq_read((struct iommufd_veventq *)eq, buf, n) :
		    -EINVAL;
}

static void eventq_release(struct ionest_file *f)
{
	struct iommufd_eventq *eq = eventq_of(f);

	if (eq)
		iommufd_eventq_fd_put(eq);
}

static const struct ionest_file_ops fault_fops = {
	.name = "[iommufd-pgfault]",
	.read = fault_read,
	.write = fault_write,
	.release = eventq_release,
};

static const struct ionest_file_ops veventq_fops = {
	.name = "[iommufd-viommu-event]",
	.read = veventq_read,
	.release = eventq_release,
};

static int eventq_fd_open(struct iommufd_eventq *eq, bool writable, void **file)
{
	struct ionest_file *f =
		file_new(writable ? &fault_fops : &veventq_fops, NULL);
	int fd, rc;

	if (!f)
		return -ENOMEM;
	/* Our own reference until publish/cancel: the caller may close the
	 * fd (and the system reuse its number) before we are done. Nobody
	 * else knows @f yet. */
	f->refs++;
	fd = file_install(f, O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		f->refs--;
		file_put(f);
		return fd;
	}
	/* The core's own handle on the eventfd, good after a close. */
	rc = iommufd_eventq_dup_fd(eq, fd);
	if (rc) {
		file_close_file(fd, f);
		file_put(f);
		return rc;
	}
	*file = f;
	return fd;
}

static bool eventq_fd_publish(void *file, struct iommufd_eventq *eq)
{
	struct ionest_file *f = file;

	__atomic_store_n(&f->priv, eq, __ATOMIC_RELEASE);
	if (file_put_unless_last(f))
		return true;
	/* Ours was the last reference: the fd is closed already, and the
	 * release must not run with @eq (it would take ctx->lock, which
	 * our caller holds). */
	__atomic_store_n(&f->priv, NULL, __ATOMIC_RELEASE);
	file_put(f);
	return false;
}

static void eventq_fd_cancel(void *file, int fd)
{
	/* Not published: the release has nothing to drop. */
	file_close_file(fd, file);
	file_put(file);
}

static const struct iommufd_fd_ops eventq_fd_ops = {
	.open = eventq_fd_open,
	.publish = eventq_fd_publish,
	.cancel = eventq_fd_cancel,
};

static long iommufd_ioctl(struct ionest_file *f, unsigned long cmd, void *arg)
{
	struct iommufd_ctx *ctx = f->priv;
	const struct iommufd_ioctl_op *op;
	uint64_t buf[MAX_CMD_SIZE / 8] = { 0 };
	struct iommufd_ucmd ucmd = {
		.ctx = ctx,
		.ubuffer = (uint64_t)(uintptr_t)arg,
		.cmd = buf,
		.fd_ops = &eventq_fd_ops,
	};
	unsigned nr = cmd & 0xff;
	long rc;
	int err;

	if (nr < IOMMUFD_CMD_BASE ||
	    nr - IOMMUFD_CMD_BASE >= sizeof(ops) / sizeof(ops[0])) {
		pthread_mutex_lock(&ctx->lock);
		rc = iommufd_vfio_compat_ioctl(ctx, cmd, arg);
		pthread_mutex_unlock(&ctx->lock);
		return rc;
	}
	err = copy_from_user(&ucmd.user_size, ucmd.ubuffer, sizeof(uint32_t));
	if (err)
		return err;
	op = &ops[nr - IOMMUFD_CMD_BASE];
	if (op->num != cmd || !op->execute)
		return -ENOTTY;
	if (ucmd.user_size < op->min_size)
		return -EINVAL;
	/* copy_struct_from_user: tail first, then the known part. */
	if (ucmd.user_size > op->size) {
		err = check_zeroed_user(ucmd.ubuffer, op->size, ucmd.user_size);
		if (err)
			return err;
	}
	err = copy_from_user(buf, ucmd.ubuffer,
			     ucmd.user_size < op->size ? ucmd.user_size :
							 op->size);
	if (err)
		return err;
	pthread_mutex_lock(&ctx->lock);
	rc = op->execute(&ucmd);
	pthread_mutex_unlock(&ctx->lock);
	return rc;
}

static void iommufd_release(struct ionest_file *f)
{
	iommufd_ctx_put(f->priv);
}

static const struct ionest_file_ops iommufd_fops = {
	.name = "iommufd",
	.ioctl = iommufd_ioctl,
	.release = iommufd_release,
};

struct iommufd_ctx *uapi_iommufd_ctx(struct ionest_file *f)
{
	return f->ops == &iommufd_fops ? f->priv : NULL;
}

int uapi_iommufd_open(bool vfio_container, int flags)
{
	struct iommufd_ctx *ctx = iommufd_ctx_new(vfio_container);
	struct ionest_file *f;
	int fd;

	if (!ctx)
		return -ENOMEM;
	f = file_new(&iommufd_fops, ctx);
	if (!f) {
		iommufd_ctx_put(ctx);
		return -ENOMEM;
	}
	fd = file_install(f, flags);
	if (fd < 0)
		file_put(f); /* releases the context */
	return fd;
}
