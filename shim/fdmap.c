// SPDX-License-Identifier: MIT
/*
 * Which fds may be ionest fds: one byte per fd in chunks of 4096 that are
 * allocated on demand (mmap, so it works before malloc is usable and
 * outside any allocator's bookkeeping) and never freed. Lock-free: a read
 * or write on an unrelated fd costs two loads. The library's own table
 * stays the authority; an entry here is only a hint that it must be asked
 * (see shim_kind()).
 */
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shim.h"

#define CHUNK_BITS 12
#define CHUNK (1 << CHUNK_BITS)
#define NCHUNKS 1024 /* 4M fds; beyond that every fd is asked about */

static uint8_t *chunks[NCHUNKS];
static int limit;

bool fdmap_test(int fd)
{
	uint8_t *c;

	if (fd < 0)
		return false;
	if ((fd >> CHUNK_BITS) >= NCHUNKS)
		return true;
	c = __atomic_load_n(&chunks[fd >> CHUNK_BITS], __ATOMIC_ACQUIRE);
	return c && __atomic_load_n(&c[fd & (CHUNK - 1)], __ATOMIC_ACQUIRE);
}

static uint8_t *chunk_get(int i)
{
	uint8_t *c = __atomic_load_n(&chunks[i], __ATOMIC_ACQUIRE), *expect;
	void *p;

	if (c)
		return c;
	p = (void *)syscall(SYS_mmap, NULL, CHUNK, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	expect = NULL;
	if (__atomic_compare_exchange_n(&chunks[i], &expect, p, false,
					__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return p;
	syscall(SYS_munmap, p, CHUNK);
	return expect;
}

void fdmap_set(int fd)
{
	uint8_t *c;
	int l;

	if (fd < 0 || (fd >> CHUNK_BITS) >= NCHUNKS)
		return;
	c = chunk_get(fd >> CHUNK_BITS);
	/* Without memory the fd stays unmapped here, and calls on it would
	 * reach libc: never expected (one page), but say so loudly. */
	if (!c) {
		static const char msg[] =
			"ionest-preload: out of memory for the fd map\n";

		(void)!syscall(SYS_write, 2, msg, sizeof(msg) - 1);
		return;
	}
	__atomic_store_n(&c[fd & (CHUNK - 1)], 1, __ATOMIC_RELEASE);
	l = __atomic_load_n(&limit, __ATOMIC_RELAXED);
	while (fd >= l &&
	       !__atomic_compare_exchange_n(&limit, &l, fd + 1, false,
					    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

void fdmap_clear(int fd)
{
	uint8_t *c;

	if (fd < 0 || (fd >> CHUNK_BITS) >= NCHUNKS)
		return;
	c = __atomic_load_n(&chunks[fd >> CHUNK_BITS], __ATOMIC_ACQUIRE);
	if (c)
		__atomic_store_n(&c[fd & (CHUNK - 1)], 0, __ATOMIC_RELEASE);
}

int fdmap_limit(void)
{
	return __atomic_load_n(&limit, __ATOMIC_RELAXED);
}
