// SPDX-License-Identifier: MIT
/* The syscall-shaped public entry points: -1 with errno, as the kernel. */
#include <errno.h>
#include <ionest/ionest.h>

#include "trace/trace.h"
#include "uapi/uapi.h"

static long ret_errno(long rc)
{
	if (rc < 0) {
		errno = (int)-rc;
		return -1;
	}
	return rc;
}

IONEST_API int ionest_close(int fd)
{
	return (int)ret_errno(file_close(fd));
}

IONEST_API int ionest_ioctl(int fd, unsigned long request, void *arg)
{
	struct ionest_file *f = file_get(fd);
	long rc;

	/* Not ours: never forwarded to the real ioctl. */
	if (!f)
		return (int)ret_errno(-EBADF);
	/* The kernel's ioctl number is 32 bits wide. */
	request = (uint32_t)request;
	rc = f->ops->ioctl ? f->ops->ioctl(f, request, arg) : -ENOTTY;
	file_put(f);
	trace_uapi_ioctl((uint64_t)fd, request, (uint64_t)rc);
	return (int)ret_errno(rc);
}

IONEST_API ssize_t ionest_read(int fd, void *buf, size_t count)
{
	struct ionest_file *f = file_get(fd);
	ssize_t rc;

	if (!f)
		return ret_errno(-EBADF);
	rc = f->ops->read ? f->ops->read(f, buf, count) : -EINVAL;
	file_put(f);
	return ret_errno(rc);
}

IONEST_API ssize_t ionest_write(int fd, const void *buf, size_t count)
{
	struct ionest_file *f = file_get(fd);
	ssize_t rc;

	if (!f)
		return ret_errno(-EBADF);
	rc = f->ops->write ? f->ops->write(f, buf, count) : -EINVAL;
	file_put(f);
	return ret_errno(rc);
}

IONEST_API ssize_t ionest_pread(int fd, void *buf, size_t count, off_t offset)
{
	struct ionest_file *f = file_get(fd);
	ssize_t rc;

	if (!f)
		return ret_errno(-EBADF);
	rc = offset < 0 ? -EINVAL :
			  uapi_vfio_rw(f, buf, count, (uint64_t)offset, false);
	file_put(f);
	return ret_errno(rc);
}

IONEST_API ssize_t ionest_pwrite(int fd, const void *buf, size_t count,
				 off_t offset)
{
	struct ionest_file *f = file_get(fd);
	ssize_t rc;

	if (!f)
		return ret_errno(-EBADF);
	rc = offset < 0 ? -EINVAL :
			  uapi_vfio_rw(f, (void *)buf, count, (uint64_t)offset,
				       true);
	file_put(f);
	return ret_errno(rc);
}

IONEST_API off_t ionest_lseek(int fd, off_t offset, int whence)
{
	struct ionest_file *f = file_get(fd);
	int64_t rc;

	if (!f)
		return (off_t)ret_errno(-EBADF);
	rc = uapi_vfio_llseek(f, offset, whence);
	file_put(f);
	return (off_t)ret_errno((long)rc);
}
