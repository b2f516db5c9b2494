// SPDX-License-Identifier: MIT
/*
 * The calls that make, copy and end fds: close, dup, dup2, dup3,
 * fcntl(F_DUPFD/F_DUPFD_CLOEXEC), close_range, closefrom. Our fds are
 * real eventfds, so the real call does the descriptor work (numbers,
 * close-on-exec, shared file status flags); the library's table is then
 * told: a duplicate refers to the same ionest file (the same iommufd
 * context), a descriptor replaced or closed behind it is forgotten.
 */
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <ionest/ionest.h>

#include "shim.h"
#include "uapi/fdtable.h"

typedef int (*close_fn)(int);
typedef int (*dup_fn)(int);
typedef int (*dup2_fn)(int, int);
typedef int (*dup3_fn)(int, int, int);
typedef int (*fcntl_fn)(int, int, ...);
typedef int (*close_range_fn)(unsigned, unsigned, int);
typedef void (*closefrom_fn)(int);

static int next_close(int fd)
{
	close_fn fn = REAL(R_CLOSE, close_fn);

	return fn ? fn(fd) : (int)syscall(SYS_close, fd);
}

static int next_dup3(int oldfd, int newfd, int flags)
{
	dup3_fn fn = REAL(R_DUP3, dup3_fn);

	return fn ? fn(oldfd, newfd, flags) :
		    (int)syscall(SYS_dup3, oldfd, newfd, flags);
}

static int next_fcntl(int fd, int cmd, void *arg)
{
	fcntl_fn fn = REAL(R_FCNTL, fcntl_fn);

	return fn ? fn(fd, cmd, arg) : (int)syscall(SYS_fcntl, fd, cmd, arg);
}

SHIM_API int close(int fd)
{
	int rc;

	if (shim_inside() || !fdmap_test(fd))
		return next_close(fd);
	shim_enter();
	/* Cleared first: once the number is free another thread may open
	 * an ionest fd with it, and its hint must survive. */
	fdmap_clear(fd);
	rc = ionest_close(fd);
	if (rc < 0 && errno == EBADF)
		rc = next_close(fd); /* a stale hint: not ours */
	shim_leave();
	return rc;
}

/* @nfd became a duplicate of @oldfd (already done by the real call). */
static int note_dup(int oldfd, int nfd)
{
	int rc = file_dup(oldfd, nfd);

	if (rc == -ENOMEM) {
		next_close(nfd);
		return shim_err(ENOMEM);
	}
	return nfd; /* -EBADF: @oldfd was not ours, a plain duplicate */
}

SHIM_API int dup(int oldfd)
{
	dup_fn fn;
	int nfd;

	fn = REAL(R_DUP, dup_fn);
	if (shim_inside() || !fdmap_test(oldfd))
		return fn ? fn(oldfd) : (int)syscall(SYS_dup, oldfd);
	shim_enter();
	nfd = fn ? fn(oldfd) : (int)syscall(SYS_dup, oldfd);
	if (nfd >= 0)
		nfd = note_dup(oldfd, nfd);
	shim_leave();
	return nfd;
}

/* dup2/dup3 after the real call: @newfd now refers to @oldfd's file. */
static int after_dup_to(int oldfd, int newfd)
{
	int rc = file_dup(oldfd, newfd);

	if (rc == -EBADF) {
		/* Not ours: whatever ionest file @newfd had is gone. */
		file_forget(newfd);
		fdmap_clear(newfd);
		return newfd;
	}
	if (rc) {
		file_forget(newfd);
		next_close(newfd);
		return shim_err(ENOMEM);
	}
	return newfd;
}

static int dup_to(int oldfd, int newfd, int flags, bool is_dup3)
{
	int rc;

	if (shim_inside() || (!fdmap_test(oldfd) && !fdmap_test(newfd)) ||
	    oldfd == newfd) {
		if (!is_dup3) {
			dup2_fn fn = REAL(R_DUP2, dup2_fn);

			if (fn)
				return fn(oldfd, newfd);
			if (oldfd == newfd)
				return next_fcntl(oldfd, F_GETFD, NULL) < 0 ?
					       -1 :
					       newfd;
		}
		return next_dup3(oldfd, newfd, flags);
	}
	shim_enter();
	rc = next_dup3(oldfd, newfd, flags);
	if (rc >= 0)
		rc = after_dup_to(oldfd, newfd);
	shim_leave();
	return rc;
}

SHIM_API int dup2(int oldfd, int newfd)
{
	return dup_to(oldfd, newfd, 0, false);
}

SHIM_API int dup3(int oldfd, int newfd, int flags)
{
	return dup_to(oldfd, newfd, flags, true);
}

/* glibc reads the optional argument as a pointer whatever @cmd is. */
static int do_fcntl(int fd, int cmd, void *arg)
{
	int nfd;

	if ((cmd != F_DUPFD && cmd != F_DUPFD_CLOEXEC) || shim_inside() ||
	    !fdmap_test(fd))
		return next_fcntl(fd, cmd, arg);
	shim_enter();
	nfd = next_fcntl(fd, cmd, arg);
	if (nfd >= 0)
		nfd = note_dup(fd, nfd);
	shim_leave();
	return nfd;
}

SHIM_API int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	return do_fcntl(fd, cmd, arg);
}

SHIM_API int fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	return do_fcntl(fd, cmd, arg);
}

/* Forget our fds in [first, last] that the real call closed. */
static void forget_range(unsigned first, unsigned last)
{
	int lim = fdmap_limit();

	for (unsigned fd = first; fd <= last && fd < (unsigned)lim; fd++) {
		if (!fdmap_test((int)fd))
			continue;
		fdmap_clear((int)fd);
		file_forget((int)fd);
	}
}

SHIM_API int close_range(unsigned first, unsigned last, int flags)
{
	close_range_fn fn = REAL(R_CLOSE_RANGE, close_range_fn);
	int rc;

	if (shim_inside())
		return fn ? fn(first, last, flags) :
			    (int)syscall(SYS_close_range, first, last, flags);
	shim_enter();
	rc = fn ? fn(first, last, flags) :
		  (int)syscall(SYS_close_range, first, last, flags);
	/* CLOSE_RANGE_CLOEXEC only marks them. */
	if (!rc && !(flags & CLOSE_RANGE_CLOEXEC))
		forget_range(first, last);
	shim_leave();
	return rc;
}

SHIM_API void closefrom(int lowfd)
{
	closefrom_fn fn = REAL(R_CLOSEFROM, closefrom_fn);

	if (lowfd < 0)
		lowfd = 0;
	if (shim_inside()) {
		if (fn)
			fn(lowfd);
		else
			syscall(SYS_close_range, (unsigned)lowfd, ~0u, 0);
		return;
	}
	shim_enter();
	if (fn)
		fn(lowfd);
	else
		syscall(SYS_close_range, (unsigned)lowfd, ~0u, 0);
	forget_range((unsigned)lowfd, ~0u);
	shim_leave();
}
