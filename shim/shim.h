/* SPDX-License-Identifier: MIT */
/*
 * The LD_PRELOAD library (internal): interposed libc calls route the
 * device paths of the machine in $IONEST_CONFIG (/dev/iommu,
 * /dev/vfio/vfio, /dev/vfio/devices/vfioN) and the fds they give to
 * ionest; everything else goes to the next definition (libc) untouched.
 * docs/preload.md is the user's reference.
 *
 * Pieces: real.c finds the next definitions (with raw-syscall fallbacks
 * for calls made while dlsym itself runs), fdmap.c is the lock-free map of
 * fds that may be ours, state.c holds the machine, the fork lock and the
 * fork handlers, the other files are the interposed calls.
 */
#ifndef IONEST_SHIM_H
#define IONEST_SHIM_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SHIM_API __attribute__((visibility("default")))

/* ---- Next definitions (real.c) ---- */
enum real_fn {
	R_OPEN,
	R_OPENAT,
	R_CLOSE,
	R_DUP,
	R_DUP2,
	R_DUP3,
	R_FCNTL,
	R_IOCTL,
	R_READ,
	R_WRITE,
	R_PREAD,
	R_PWRITE,
	R_READV,
	R_WRITEV,
	R_PREADV,
	R_PWRITEV,
	R_LSEEK,
	R_MMAP,
	R_STAT,
	R_LSTAT,
	R_FSTAT,
	R_FSTATAT,
	R_STATX,
	R_ACCESS,
	R_FACCESSAT,
	R_EACCESS,
	R_CLOSE_RANGE,
	R_CLOSEFROM,
	R_XSTAT,
	R_LXSTAT,
	R_FXSTAT,
	R_FXSTATAT,
	R_NFNS,
};

/* The next definition of @fn, or NULL while dlsym is running on this
 * thread (or if there is none): callers then use the raw syscall. */
void *real_fn(enum real_fn fn);
#define REAL(fn, type) ((type)real_fn(fn))

/* ---- Which fds may be ours (fdmap.c) ---- */
/* True if @fd may be an ionest fd (false: certainly not). */
bool fdmap_test(int fd);
void fdmap_set(int fd);
void fdmap_clear(int fd);
/* Highest fd ever set + 1 (for range scans). */
int fdmap_limit(void);

/* ---- State (state.c) ---- */
/* Inside library code on this thread: interposed calls pass through. */
extern __thread int shim_depth __attribute__((tls_model("initial-exec")));

static inline bool shim_inside(void)
{
	return shim_depth > 0;
}

/* Bracket every call into the library: marks the thread and holds the
 * fork lock shared (fork waits for library calls to finish, so the child
 * inherits consistent state). shim_leave() keeps errno. */
void shim_enter(void);
void shim_leave(void);

struct ionest_machine;
/* The machine of $IONEST_CONFIG, loaded on first use; NULL if unset or
 * broken (said once on stderr). Call between enter and leave. */
struct ionest_machine *shim_machine(void);

/* Kinds of our fds. */
enum shim_kind {
	SHIM_NOT_OURS,
	SHIM_IOMMUFD,
	SHIM_VFIO_DEVICE,
	SHIM_OTHER, /* fault and vEVENTQ fds */
};
/* Kind of @fd (between enter and leave). A "maybe ours" fd that is not
 * ours gets its map entry cleared. */
enum shim_kind shim_kind(int fd);

/* The device paths: classify an absolute path. */
enum shim_path {
	SHIM_PATH_OTHER,
	SHIM_PATH_IOMMU, /* /dev/iommu */
	SHIM_PATH_CONTAINER, /* /dev/vfio/vfio */
	SHIM_PATH_VFIO_DEV, /* /dev/vfio/devices/vfioN, *n = N */
	SHIM_PATH_VFIO_BAD, /* another name under /dev/vfio/devices/ */
};
/* Cheap prefix test first: false means "certainly not a device path". */
static inline bool shim_maybe_device(const char *path)
{
	return path && path[0] == '/' && path[1] == 'd' && path[2] == 'e' &&
	       path[3] == 'v' && path[4] == '/' &&
	       (path[5] == 'i' || path[5] == 'v');
}
enum shim_path shim_classify(const char *path, int *n);
/* Whether @path names a device of the loaded machine (loads it). */
enum shim_path shim_device_path(const char *path, int *n);

/* glibc entry points that its headers declare only in some
 * configurations (fortified builds, pre-2.33 stat). */
struct stat;
struct stat64;
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);
int __xstat(int ver, const char *path, struct stat *st);
int __xstat64(int ver, const char *path, struct stat64 *st);
int __lxstat(int ver, const char *path, struct stat *st);
int __lxstat64(int ver, const char *path, struct stat64 *st);
int __fxstat(int ver, int fd, struct stat *st);
int __fxstat64(int ver, int fd, struct stat64 *st);
int __fxstatat(int ver, int dirfd, const char *path, struct stat *st,
	       int flags);
int __fxstatat64(int ver, int dirfd, const char *path, struct stat64 *st,
		 int flags);

/* -1 with errno @e. */
static inline int shim_err(int e)
{
	errno = e;
	return -1;
}

#endif
