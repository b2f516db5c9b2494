// SPDX-License-Identifier: MIT
/*
 * ioctl, read/write and the positioned and vectored forms, lseek and mmap
 * on our fds. The vectored forms go element by element, as the kernel does
 * for files without vectored operations. mmap of our fds is refused the
 * way Linux refuses it: VFIO regions here never carry the MMAP flag
 * (EINVAL), an iommufd publishes no mmap region (ENXIO), fault and
 * vEVENTQ fds have no mmap (ENODEV).
 */
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>
#include <ionest/ionest.h>

#include "shim.h"

/* The fortified entry points (glibc declares them only with
 * _FORTIFY_SOURCE). */
ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen);
ssize_t __pread_chk(int fd, void *buf, size_t n, off_t off, size_t buflen);
ssize_t __pread64_chk(int fd, void *buf, size_t n, off_t off, size_t buflen);

typedef int (*ioctl_fn)(int, unsigned long, ...);
typedef ssize_t (*read_fn)(int, void *, size_t);
typedef ssize_t (*write_fn)(int, const void *, size_t);
typedef ssize_t (*pread_fn)(int, void *, size_t, off_t);
typedef ssize_t (*pwrite_fn)(int, const void *, size_t, off_t);
typedef ssize_t (*readv_fn)(int, const struct iovec *, int);
typedef ssize_t (*preadv_fn)(int, const struct iovec *, int, off_t);
typedef off_t (*lseek_fn)(int, off_t, int);
typedef void *(*mmap_fn)(void *, size_t, int, int, int, off_t);

/*
 * Enter the library if @fd is one of ours: true with the library entered
 * (the caller leaves), false for fds that go to libc.
 */
static bool ours(int fd, enum shim_kind *kind)
{
	enum shim_kind k;

	if (shim_inside() || !fdmap_test(fd))
		return false;
	shim_enter();
	k = shim_kind(fd);
	if (k == SHIM_NOT_OURS) {
		shim_leave();
		return false;
	}
	if (kind)
		*kind = k;
	return true;
}

SHIM_API int ioctl(int fd, unsigned long req, ...)
{
	ioctl_fn fn;
	va_list ap;
	void *arg;
	int rc;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (!ours(fd, NULL)) {
		fn = REAL(R_IOCTL, ioctl_fn);
		return fn ? fn(fd, req, arg) :
			    (int)syscall(SYS_ioctl, fd, req, arg);
	}
	rc = ionest_ioctl(fd, req, arg);
	shim_leave();
	return rc;
}

SHIM_API ssize_t read(int fd, void *buf, size_t n)
{
	read_fn fn;
	ssize_t rc;

	if (!ours(fd, NULL)) {
		fn = REAL(R_READ, read_fn);
		return fn ? fn(fd, buf, n) : syscall(SYS_read, fd, buf, n);
	}
	rc = ionest_read(fd, buf, n);
	shim_leave();
	return rc;
}

SHIM_API ssize_t write(int fd, const void *buf, size_t n)
{
	write_fn fn;
	ssize_t rc;

	if (!ours(fd, NULL)) {
		fn = REAL(R_WRITE, write_fn);
		return fn ? fn(fd, buf, n) : syscall(SYS_write, fd, buf, n);
	}
	rc = ionest_write(fd, buf, n);
	shim_leave();
	return rc;
}

static ssize_t do_pread(int fd, void *buf, size_t n, off_t off)
{
	pread_fn fn;
	ssize_t rc;

	if (!ours(fd, NULL)) {
		fn = REAL(R_PREAD, pread_fn);
		return fn ? fn(fd, buf, n, off) :
			    syscall(SYS_pread64, fd, buf, n, off);
	}
	rc = ionest_pread(fd, buf, n, off);
	shim_leave();
	return rc;
}

static ssize_t do_pwrite(int fd, const void *buf, size_t n, off_t off)
{
	pwrite_fn fn;
	ssize_t rc;

	if (!ours(fd, NULL)) {
		fn = REAL(R_PWRITE, pwrite_fn);
		return fn ? fn(fd, buf, n, off) :
			    syscall(SYS_pwrite64, fd, buf, n, off);
	}
	rc = ionest_pwrite(fd, buf, n, off);
	shim_leave();
	return rc;
}

SHIM_API ssize_t pread(int fd, void *buf, size_t n, off_t off)
{
	return do_pread(fd, buf, n, off);
}

SHIM_API ssize_t pread64(int fd, void *buf, size_t n, off_t off)
{
	return do_pread(fd, buf, n, off);
}

SHIM_API ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	return do_pwrite(fd, buf, n, off);
}

SHIM_API ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off)
{
	return do_pwrite(fd, buf, n, off);
}

/* _FORTIFY_SOURCE forms: the buffer must hold @n bytes. */
SHIM_API ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen)
{
	if (n > buflen)
		abort();
	return read(fd, buf, n);
}

SHIM_API ssize_t __pread_chk(int fd, void *buf, size_t n, off_t off,
			     size_t buflen)
{
	if (n > buflen)
		abort();
	return do_pread(fd, buf, n, off);
}

SHIM_API ssize_t __pread64_chk(int fd, void *buf, size_t n, off_t off,
			       size_t buflen)
{
	if (n > buflen)
		abort();
	return do_pread(fd, buf, n, off);
}

/*
 * Element by element: stop at the first short transfer; an error after
 * some bytes moved returns those bytes. @off < 0: at the file position.
 */
static ssize_t vec_rw(int fd, const struct iovec *iov, int cnt, off_t off,
		      bool write)
{
	ssize_t total = 0;

	if (cnt < 0 || cnt > IOV_MAX)
		return shim_err(EINVAL);
	for (int i = 0; i < cnt; i++) {
		ssize_t r;

		if (!iov[i].iov_len)
			continue;
		if (off >= 0)
			r = write ? ionest_pwrite(fd, iov[i].iov_base,
						  iov[i].iov_len, off + total) :
				    ionest_pread(fd, iov[i].iov_base,
						 iov[i].iov_len, off + total);
		else
			r = write ? ionest_write(fd, iov[i].iov_base,
						 iov[i].iov_len) :
				    ionest_read(fd, iov[i].iov_base,
						iov[i].iov_len);
		if (r < 0)
			return total ? total : r;
		total += r;
		if ((size_t)r < iov[i].iov_len)
			break;
	}
	return total;
}

SHIM_API ssize_t readv(int fd, const struct iovec *iov, int cnt)
{
	readv_fn fn;
	ssize_t rc;

	if (!ours(fd, NULL)) {
		fn = REAL(R_READV, readv_fn);
		return fn ? fn(fd, iov, cnt) : syscall(SYS_readv, fd, iov, cnt);
	}
	rc = vec_rw(fd, iov, cnt, -1, false);
	shim_leave();
	return rc;
}

SHIM_API ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
	readv_fn fn;
	ssize_t rc;

	if (!ours(fd, NULL)) {
		fn = REAL(R_WRITEV, readv_fn);
		return fn ? fn(fd, iov, cnt) :
			    syscall(SYS_writev, fd, iov, cnt);
	}
	rc = vec_rw(fd, iov, cnt, -1, true);
	shim_leave();
	return rc;
}

static ssize_t do_preadv(int fd, const struct iovec *iov, int cnt, off_t off,
			 bool write)
{
	preadv_fn fn;
	ssize_t rc;

	if (!ours(fd, NULL)) {
		fn = REAL(write ? R_PWRITEV : R_PREADV, preadv_fn);
		if (fn)
			return fn(fd, iov, cnt, off);
		return syscall(write ? SYS_pwritev : SYS_preadv, fd, iov, cnt,
			       off, 0);
	}
	rc = off < 0 ? shim_err(EINVAL) : vec_rw(fd, iov, cnt, off, write);
	shim_leave();
	return rc;
}

SHIM_API ssize_t preadv(int fd, const struct iovec *iov, int cnt, off_t off)
{
	return do_preadv(fd, iov, cnt, off, false);
}

SHIM_API ssize_t preadv64(int fd, const struct iovec *iov, int cnt, off_t off)
{
	return do_preadv(fd, iov, cnt, off, false);
}

SHIM_API ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
	return do_preadv(fd, iov, cnt, off, true);
}

SHIM_API ssize_t pwritev64(int fd, const struct iovec *iov, int cnt, off_t off)
{
	return do_preadv(fd, iov, cnt, off, true);
}

static off_t do_lseek(int fd, off_t off, int whence)
{
	lseek_fn fn;
	off_t rc;

	if (!ours(fd, NULL)) {
		fn = REAL(R_LSEEK, lseek_fn);
		return fn ? fn(fd, off, whence) :
			    (off_t)syscall(SYS_lseek, fd, off, whence);
	}
	rc = ionest_lseek(fd, off, whence);
	shim_leave();
	return rc;
}

SHIM_API off_t lseek(int fd, off_t off, int whence)
{
	return do_lseek(fd, off, whence);
}

SHIM_API off_t lseek64(int fd, off_t off, int whence)
{
	return do_lseek(fd, off, whence);
}

static void *do_mmap(void *addr, size_t len, int prot, int flags, int fd,
		     off_t off)
{
	enum shim_kind k = SHIM_NOT_OURS;
	mmap_fn fn;
	int e;

	if ((flags & MAP_ANONYMOUS) || !ours(fd, &k)) {
		fn = REAL(R_MMAP, mmap_fn);
		return fn ? fn(addr, len, prot, flags, fd, off) :
			    (void *)syscall(SYS_mmap, addr, len, prot, flags,
					    fd, off);
	}
	shim_leave();
	e = k == SHIM_VFIO_DEVICE ? EINVAL : k == SHIM_IOMMUFD ? ENXIO : ENODEV;
	shim_err(e);
	return MAP_FAILED;
}

SHIM_API void *mmap(void *addr, size_t len, int prot, int flags, int fd,
		    off_t off)
{
	return do_mmap(addr, len, prot, flags, fd, off);
}

SHIM_API void *mmap64(void *addr, size_t len, int prot, int flags, int fd,
		      off_t off)
{
	return do_mmap(addr, len, prot, flags, fd, off);
}
