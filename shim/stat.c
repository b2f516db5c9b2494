// SPDX-License-Identifier: MIT
/*
 * stat, access and their variants on the device paths, fstat on our fds:
 * /dev/iommu, /dev/vfio/vfio and /dev/vfio/devices/vfioN are character
 * devices (numbers in docs/preload.md) owned by the caller with mode 0660,
 * so the checks programs make before opening them pass. Other names under
 * /dev/vfio/devices/ do not exist; every other path is libc's. Fault and
 * vEVENTQ fds are anonymous files already (they are eventfds).
 *
 * Built without _FILE_OFFSET_BITS so that stat and stat64 are distinct
 * symbols here; on the 64-bit targets we support they share one layout.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "machine/machine.h"
#include "shim.h"
#include "uapi/fdtable.h"
#include "uapi/uapi.h"

_Static_assert(sizeof(struct stat) == sizeof(struct stat64),
	       "64-bit targets only");

#define DEV_MISC_MAJOR 10
#define DEV_IOMMU_MINOR 123
#define DEV_VFIO_MINOR 196
#define DEV_VFIO_CDEV_MAJOR 237

typedef int (*stat_fn)(const char *, struct stat *);
typedef int (*fstat_fn)(int, struct stat *);
typedef int (*fstatat_fn)(int, const char *, struct stat *, int);
typedef int (*statx_fn)(int, const char *, int, unsigned, struct statx *);
typedef int (*access_fn)(const char *, int);
typedef int (*faccessat_fn)(int, const char *, int, int);
typedef int (*xstat_fn)(int, const char *, struct stat *);
typedef int (*fxstat_fn)(int, int, struct stat *);
typedef int (*fxstatat_fn)(int, int, const char *, struct stat *, int);

static dev_t rdev_of(enum shim_path k, int n)
{
	switch (k) {
	case SHIM_PATH_IOMMU:
		return makedev(DEV_MISC_MAJOR, DEV_IOMMU_MINOR);
	case SHIM_PATH_CONTAINER:
		return makedev(DEV_MISC_MAJOR, DEV_VFIO_MINOR);
	default:
		return makedev(DEV_VFIO_CDEV_MAJOR, (unsigned)n);
	}
}

static void fill(struct stat *st, enum shim_path k, int n)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	memset(st, 0, sizeof(*st));
	st->st_dev = makedev(0, 5); /* devtmpfs */
	st->st_ino = 0x10000 + (ino_t)k * 0x100000 + (ino_t)n;
	st->st_mode = S_IFCHR | 0660;
	st->st_nlink = 1;
	st->st_uid = geteuid();
	st->st_gid = getegid();
	st->st_rdev = rdev_of(k, n);
	st->st_blksize = 4096;
	st->st_atim = now;
	st->st_mtim = now;
	st->st_ctim = now;
}

/* "" with AT_EMPTY_PATH: the call is about the fd. */
static bool empty_path(const char *path, int flags)
{
	return (flags & AT_EMPTY_PATH) && path && !*path;
}

/* 1: @path is ours and *st filled; -1: ours but absent (errno set);
 * 0: libc's. */
static int path_stat(const char *path, struct stat *st)
{
	enum shim_path k;
	int n = 0, rc = 0;

	if (shim_inside() || !shim_maybe_device(path))
		return 0;
	shim_enter();
	k = shim_device_path(path, &n);
	if (k == SHIM_PATH_VFIO_BAD) {
		rc = shim_err(ENOENT);
	} else if (k != SHIM_PATH_OTHER) {
		if (st)
			fill(st, k, n);
		rc = 1;
	}
	shim_leave();
	return rc;
}

/* 1 if @fd is our iommufd or VFIO device fd (*st filled), else 0. */
static int fd_stat(int fd, struct stat *st)
{
	struct ionest_file *f;
	enum shim_kind k;
	int rc = 0;

	if (shim_inside() || !fdmap_test(fd))
		return 0;
	shim_enter();
	k = shim_kind(fd);
	if (k == SHIM_IOMMUFD) {
		fill(st, SHIM_PATH_IOMMU, 0);
		rc = 1;
	} else if (k == SHIM_VFIO_DEVICE && (f = file_get(fd))) {
		struct vfio_device *vd = uapi_vfio_device(f);
		struct machine_device *d =
			(struct machine_device *)((char *)vd -
						  offsetof(struct machine_device,
							   vdev));

		fill(st, SHIM_PATH_VFIO_DEV, vd ? d->index : 0);
		file_put(f);
		rc = 1;
	}
	shim_leave();
	return rc;
}

static int next_fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
	fstatat_fn fn = REAL(R_FSTATAT, fstatat_fn);

	return fn ? fn(dirfd, path, st, flags) :
		    (int)syscall(SYS_newfstatat, dirfd, path, st, flags);
}

static int do_stat(const char *path, struct stat *st, bool link)
{
	stat_fn fn = REAL(link ? R_LSTAT : R_STAT, stat_fn);
	int rc = path_stat(path, st);

	if (rc)
		return rc < 0 ? -1 : 0;
	if (fn)
		return fn(path, st);
	return next_fstatat(AT_FDCWD, path, st, link ? AT_SYMLINK_NOFOLLOW : 0);
}

static int do_fstat(int fd, struct stat *st)
{
	fstat_fn fn = REAL(R_FSTAT, fstat_fn);

	if (fd_stat(fd, st))
		return 0;
	return fn ? fn(fd, st) : (int)syscall(SYS_fstat, fd, st);
}

static int do_fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
	int rc;

	if (empty_path(path, flags) && fd_stat(dirfd, st))
		return 0;
	rc = path_stat(path, st);
	if (rc)
		return rc < 0 ? -1 : 0;
	return next_fstatat(dirfd, path, st, flags);
}

SHIM_API int stat(const char *path, struct stat *st)
{
	return do_stat(path, st, false);
}

SHIM_API int stat64(const char *path, struct stat64 *st)
{
	return do_stat(path, (struct stat *)st, false);
}

SHIM_API int lstat(const char *path, struct stat *st)
{
	return do_stat(path, st, true);
}

SHIM_API int lstat64(const char *path, struct stat64 *st)
{
	return do_stat(path, (struct stat *)st, true);
}

SHIM_API int fstat(int fd, struct stat *st)
{
	return do_fstat(fd, st);
}

SHIM_API int fstat64(int fd, struct stat64 *st)
{
	return do_fstat(fd, (struct stat *)st);
}

SHIM_API int fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
	return do_fstatat(dirfd, path, st, flags);
}

SHIM_API int fstatat64(int dirfd, const char *path, struct stat64 *st,
		       int flags)
{
	return do_fstatat(dirfd, path, (struct stat *)st, flags);
}

/* The pre-2.33 glibc entry points programs built then still call. */
SHIM_API int __xstat(int ver, const char *path, struct stat *st)
{
	xstat_fn fn = REAL(R_XSTAT, xstat_fn);
	int rc = path_stat(path, st);

	if (rc)
		return rc < 0 ? -1 : 0;
	return fn ? fn(ver, path, st) : do_stat(path, st, false);
}

SHIM_API int __xstat64(int ver, const char *path, struct stat64 *st)
{
	return __xstat(ver, path, (struct stat *)st);
}

SHIM_API int __lxstat(int ver, const char *path, struct stat *st)
{
	xstat_fn fn = REAL(R_LXSTAT, xstat_fn);
	int rc = path_stat(path, st);

	if (rc)
		return rc < 0 ? -1 : 0;
	return fn ? fn(ver, path, st) : do_stat(path, st, true);
}

SHIM_API int __lxstat64(int ver, const char *path, struct stat64 *st)
{
	return __lxstat(ver, path, (struct stat *)st);
}

SHIM_API int __fxstat(int ver, int fd, struct stat *st)
{
	fxstat_fn fn = REAL(R_FXSTAT, fxstat_fn);

	if (fd_stat(fd, st))
		return 0;
	return fn ? fn(ver, fd, st) : do_fstat(fd, st);
}

SHIM_API int __fxstat64(int ver, int fd, struct stat64 *st)
{
	return __fxstat(ver, fd, (struct stat *)st);
}

SHIM_API int __fxstatat(int ver, int dirfd, const char *path, struct stat *st,
			int flags)
{
	fxstatat_fn fn = REAL(R_FXSTATAT, fxstatat_fn);
	int rc;

	if (empty_path(path, flags) && fd_stat(dirfd, st))
		return 0;
	rc = path_stat(path, st);
	if (rc)
		return rc < 0 ? -1 : 0;
	return fn ? fn(ver, dirfd, path, st, flags) :
		    do_fstatat(dirfd, path, st, flags);
}

SHIM_API int __fxstatat64(int ver, int dirfd, const char *path,
			  struct stat64 *st, int flags)
{
	return __fxstatat(ver, dirfd, path, (struct stat *)st, flags);
}

static void to_statx(const struct stat *st, struct statx *sx)
{
	memset(sx, 0, sizeof(*sx));
	sx->stx_mask = STATX_BASIC_STATS;
	sx->stx_blksize = (uint32_t)st->st_blksize;
	sx->stx_nlink = (uint32_t)st->st_nlink;
	sx->stx_uid = st->st_uid;
	sx->stx_gid = st->st_gid;
	sx->stx_mode = (uint16_t)st->st_mode;
	sx->stx_ino = st->st_ino;
	sx->stx_atime.tv_sec = st->st_atim.tv_sec;
	sx->stx_atime.tv_nsec = (uint32_t)st->st_atim.tv_nsec;
	sx->stx_mtime = sx->stx_atime;
	sx->stx_ctime = sx->stx_atime;
	sx->stx_rdev_major = major(st->st_rdev);
	sx->stx_rdev_minor = minor(st->st_rdev);
	sx->stx_dev_major = major(st->st_dev);
	sx->stx_dev_minor = minor(st->st_dev);
}

SHIM_API int statx(int dirfd, const char *path, int flags, unsigned mask,
		   struct statx *sx)
{
	statx_fn fn = REAL(R_STATX, statx_fn);
	struct stat st;
	int rc;

	if (empty_path(path, flags) && fd_stat(dirfd, &st)) {
		to_statx(&st, sx);
		return 0;
	}
	rc = path_stat(path, &st);
	if (rc < 0)
		return -1;
	if (rc) {
		to_statx(&st, sx);
		return 0;
	}
	return fn ? fn(dirfd, path, flags, mask, sx) :
		    (int)syscall(SYS_statx, dirfd, path, flags, mask, sx);
}

/* Read and write are allowed, execute is not (a character device). */
static int access_mode(int mode)
{
	return mode & X_OK ? shim_err(EACCES) : 0;
}

SHIM_API int access(const char *path, int mode)
{
	access_fn fn = REAL(R_ACCESS, access_fn);
	int rc = path_stat(path, NULL);

	if (rc)
		return rc < 0 ? -1 : access_mode(mode);
	return fn ? fn(path, mode) :
		    (int)syscall(SYS_faccessat, AT_FDCWD, path, mode);
}

SHIM_API int faccessat(int dirfd, const char *path, int mode, int flags)
{
	faccessat_fn fn = REAL(R_FACCESSAT, faccessat_fn);
	int rc = path_stat(path, NULL);

	if (rc)
		return rc < 0 ? -1 : access_mode(mode);
	return fn ? fn(dirfd, path, mode, flags) :
		    (int)syscall(SYS_faccessat, dirfd, path, mode);
}

SHIM_API int eaccess(const char *path, int mode)
{
	access_fn fn = REAL(R_EACCESS, access_fn);
	int rc = path_stat(path, NULL);

	if (rc)
		return rc < 0 ? -1 : access_mode(mode);
	return fn ? fn(path, mode) :
		    (int)syscall(SYS_faccessat, AT_FDCWD, path, mode);
}

SHIM_API int euidaccess(const char *path, int mode)
{
	return eaccess(path, mode);
}
