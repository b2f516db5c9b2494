// SPDX-License-Identifier: MIT
/*
 * Access to the caller's memory from ioctl handlers, safe against bad
 * pointers the way copy_from_user is: the copy goes through
 * process_vm_readv/writev on our own process, which fails with EFAULT on an
 * unmapped or protected range instead of crashing. Where those syscalls are
 * not allowed (seccomp) we fall back to a plain copy after the NULL and
 * wrap checks.
 */
#include <errno.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/core.h"

static int vm_state; /* 0 unknown, 1 usable, -1 unavailable */

static bool range_bad(uint64_t addr, size_t n)
{
	uint64_t end;

	return !addr || add_overflows(addr, n, &end) || end > (1ull << 63);
}

static int vm_copy(void *local, uint64_t remote, size_t n, bool write)
{
	struct iovec l = { .iov_base = local, .iov_len = n };
	struct iovec r = { .iov_base = (void *)(uintptr_t)remote,
			   .iov_len = n };
	int st = __atomic_load_n(&vm_state, __ATOMIC_RELAXED);
	ssize_t got;

	if (st >= 0) {
		got = write ? process_vm_writev(getpid(), &l, 1, &r, 1, 0) :
			      process_vm_readv(getpid(), &l, 1, &r, 1, 0);
		if (got == (ssize_t)n) {
			if (!st)
				__atomic_store_n(&vm_state, 1,
						 __ATOMIC_RELAXED);
			return 0;
		}
		if (got >= 0 || errno == EFAULT || errno == ENOMEM)
			return -EFAULT;
		if (errno != ENOSYS && errno != EPERM)
			return -EFAULT;
		__atomic_store_n(&vm_state, -1, __ATOMIC_RELAXED);
	}
	if (write)
		memcpy((void *)(uintptr_t)remote, local, n);
	else
		memcpy(local, (const void *)(uintptr_t)remote, n);
	return 0;
}

int copy_from_user(void *dst, uint64_t src, size_t n)
{
	if (!n)
		return 0;
	if (range_bad(src, n))
		return -EFAULT;
	return vm_copy(dst, src, n, false);
}

int copy_to_user(uint64_t dst, const void *src, size_t n)
{
	if (!n)
		return 0;
	if (range_bad(dst, n))
		return -EFAULT;
	return vm_copy((void *)src, dst, n, true);
}

int clear_user(uint64_t dst, size_t n)
{
	static const uint8_t zero[4096];

	while (n) {
		size_t c = n < sizeof(zero) ? n : sizeof(zero);
		int rc = copy_to_user(dst, zero, c);

		if (rc)
			return rc;
		dst += c;
		n -= c;
	}
	return 0;
}

int check_zeroed_user(uint64_t src, size_t from, size_t to)
{
	uint8_t buf[512];

	while (from < to) {
		size_t c = to - from < sizeof(buf) ? to - from : sizeof(buf);
		int rc = copy_from_user(buf, src + from, c);

		if (rc)
			return rc;
		for (size_t i = 0; i < c; i++) {
			if (buf[i])
				return -E2BIG;
		}
		from += c;
	}
	return 0;
}
