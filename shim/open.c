// SPDX-License-Identifier: MIT
/*
 * open(2) and friends: the device paths of the machine open ionest files,
 * every other path goes to libc. Only absolute paths are recognised (an
 * openat relative to a directory fd is always libc's). The fortified
 * _2 forms are what -D_FORTIFY_SOURCE builds call.
 */
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <ionest/ionest.h>

#include "shim.h"

typedef int (*open_fn)(const char *, int, ...);
typedef int (*openat_fn)(int, const char *, int, ...);

/* -1/errno or an fd if @path is a device path; *handled false otherwise. */
static int open_device(const char *path, int flags, bool *handled)
{
	enum shim_path k;
	int n = 0, rc;

	*handled = false;
	if (shim_inside() || !shim_maybe_device(path))
		return -1;
	shim_enter();
	k = shim_device_path(path, &n);
	if (k == SHIM_PATH_OTHER) {
		shim_leave();
		return -1;
	}
	*handled = true;
	if (k == SHIM_PATH_VFIO_BAD)
		rc = shim_err(ENOENT);
	else if (flags & O_DIRECTORY)
		rc = shim_err(ENOTDIR);
	else if ((flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL))
		rc = shim_err(EEXIST);
	else
		rc = ionest_open(shim_machine(), path, flags);
	shim_leave();
	return rc;
}

static mode_t mode_arg(int flags, va_list ap)
{
	if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE)
		return (mode_t)va_arg(ap, int);
	return 0;
}

static int next_openat(int dirfd, const char *path, int flags, mode_t mode)
{
	openat_fn fn = REAL(R_OPENAT, openat_fn);

	if (!fn)
		return (int)syscall(SYS_openat, dirfd, path, flags, mode);
	return fn(dirfd, path, flags, mode);
}

static int next_open(const char *path, int flags, mode_t mode)
{
	open_fn fn = REAL(R_OPEN, open_fn);

	if (!fn)
		return (int)syscall(SYS_openat, AT_FDCWD, path, flags, mode);
	return fn(path, flags, mode);
}

SHIM_API int open(const char *path, int flags, ...)
{
	mode_t mode;
	bool handled;
	va_list ap;
	int rc;

	va_start(ap, flags);
	mode = mode_arg(flags, ap);
	va_end(ap);
	rc = open_device(path, flags, &handled);
	return handled ? rc : next_open(path, flags, mode);
}

SHIM_API int open64(const char *path, int flags, ...)
{
	mode_t mode;
	bool handled;
	va_list ap;
	int rc;

	va_start(ap, flags);
	mode = mode_arg(flags, ap);
	va_end(ap);
	rc = open_device(path, flags, &handled);
	return handled ? rc : next_open(path, flags | O_LARGEFILE, mode);
}

SHIM_API int openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode;
	bool handled;
	va_list ap;
	int rc;

	va_start(ap, flags);
	mode = mode_arg(flags, ap);
	va_end(ap);
	rc = open_device(path, flags, &handled);
	return handled ? rc : next_openat(dirfd, path, flags, mode);
}

SHIM_API int openat64(int dirfd, const char *path, int flags, ...)
{
	mode_t mode;
	bool handled;
	va_list ap;
	int rc;

	va_start(ap, flags);
	mode = mode_arg(flags, ap);
	va_end(ap);
	rc = open_device(path, flags, &handled);
	return handled ? rc :
			 next_openat(dirfd, path, flags | O_LARGEFILE, mode);
}

/* Fortified forms: no mode (O_CREAT without one is a caller bug that
 * glibc reports; here it opens with mode 0). */
SHIM_API int __open_2(const char *path, int flags)
{
	bool handled;
	int rc = open_device(path, flags, &handled);

	return handled ? rc : next_open(path, flags, 0);
}

SHIM_API int __open64_2(const char *path, int flags)
{
	bool handled;
	int rc = open_device(path, flags, &handled);

	return handled ? rc : next_open(path, flags | O_LARGEFILE, 0);
}

SHIM_API int __openat_2(int dirfd, const char *path, int flags)
{
	bool handled;
	int rc = open_device(path, flags, &handled);

	return handled ? rc : next_openat(dirfd, path, flags, 0);
}

SHIM_API int __openat64_2(int dirfd, const char *path, int flags)
{
	bool handled;
	int rc = open_device(path, flags, &handled);

	return handled ? rc : next_openat(dirfd, path, flags | O_LARGEFILE, 0);
}
