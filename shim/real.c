// SPDX-License-Identifier: MIT
/*
 * The next definitions of the calls we interpose, found with
 * dlsym(RTLD_NEXT) on first use (the library may be called before its
 * constructors ran). dlsym can allocate and, through other interposers,
 * come back to us: while it runs on a thread, real_fn() answers NULL and
 * the caller makes the raw syscall instead.
 */
#include <dlfcn.h>

#include "shim.h"

static const char *const names[R_NFNS] = {
	[R_OPEN] = "open",
	[R_OPENAT] = "openat",
	[R_CLOSE] = "close",
	[R_DUP] = "dup",
	[R_DUP2] = "dup2",
	[R_DUP3] = "dup3",
	[R_FCNTL] = "fcntl",
	[R_IOCTL] = "ioctl",
	[R_READ] = "read",
	[R_WRITE] = "write",
	[R_PREAD] = "pread",
	[R_PWRITE] = "pwrite",
	[R_READV] = "readv",
	[R_WRITEV] = "writev",
	[R_PREADV] = "preadv",
	[R_PWRITEV] = "pwritev",
	[R_LSEEK] = "lseek",
	[R_MMAP] = "mmap",
	[R_STAT] = "stat",
	[R_LSTAT] = "lstat",
	[R_FSTAT] = "fstat",
	[R_FSTATAT] = "fstatat",
	[R_STATX] = "statx",
	[R_ACCESS] = "access",
	[R_FACCESSAT] = "faccessat",
	[R_EACCESS] = "eaccess",
	[R_CLOSE_RANGE] = "close_range",
	[R_CLOSEFROM] = "closefrom",
	[R_XSTAT] = "__xstat",
	[R_LXSTAT] = "__lxstat",
	[R_FXSTAT] = "__fxstat",
	[R_FXSTATAT] = "__fxstatat",
};

/* NULL: not looked up yet; MISSING: there is no next definition. */
static void *slots[R_NFNS];
static char missing;
#define MISSING ((void *)&missing)

static __thread int resolving __attribute__((tls_model("initial-exec")));

void *real_fn(enum real_fn fn)
{
	void *p = __atomic_load_n(&slots[fn], __ATOMIC_ACQUIRE);

	if (p)
		return p == MISSING ? NULL : p;
	if (resolving)
		return NULL;
	resolving = 1;
	p = dlsym(RTLD_NEXT, names[fn]);
	resolving = 0;
	__atomic_store_n(&slots[fn], p ? p : MISSING, __ATOMIC_RELEASE);
	return p;
}
