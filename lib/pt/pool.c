// SPDX-License-Identifier: MIT
/*
 * Pre-faulted memory for host (identity) page tables. Chunks are mmap'd and
 * populated up front so that a map never takes a page fault on a new table;
 * blocks are powers of two from 4K to 1M (16 concatenated 64K tables),
 * aligned to their size, kept on one free list per size. Every block on a
 * free list is zero apart from its link word, so allocation costs one store;
 * callers free only zeroed tables (an unmap leaves them so).
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>

#include "pt/pt_internal.h"
#include "util/alloc.h"

#define NCLASS (PT_POOL_MAX_SHIFT - PT_POOL_MIN_SHIFT + 1)
#define CHUNK_MIN (8ull << 20)
#define CHUNK_ALIGN (1ull << PT_POOL_MAX_SHIFT)

struct free_block {
	struct free_block *next;
};

static struct {
	pthread_mutex_t lock;
	struct free_block *free[NCLASS];
	uintptr_t bump, bump_end; /* unused tail of the newest chunk */
	size_t in_use, total;
} pool = { .lock = PTHREAD_MUTEX_INITIALIZER };

static unsigned size_class(size_t size)
{
	unsigned s = PT_POOL_MIN_SHIFT;

	while (((size_t)1 << s) < size)
		s++;
	return s - PT_POOL_MIN_SHIFT;
}

static void push(uintptr_t p, unsigned c)
{
	struct free_block *b = (struct free_block *)p;

	b->next = pool.free[c];
	pool.free[c] = b;
}

/* Hand [a, b) (4K-aligned) to the free lists as aligned power-of-2 blocks. */
static void release_range(uintptr_t a, uintptr_t b)
{
	while (a < b) {
		unsigned c = NCLASS - 1;

		while (c &&
		       ((a & ((4096ul << c) - 1)) || a + (4096ul << c) > b))
			c--;
		push(a, c);
		a += 4096ul << c;
	}
}

/* Map and populate a chunk of at least @bytes. Called locked. */
static int grow(size_t bytes)
{
	size_t len = bytes < CHUNK_MIN ? CHUNK_MIN : bytes;
	uintptr_t base, start;
	void *p;

	len = (len + CHUNK_ALIGN - 1) & ~(CHUNK_ALIGN - 1);
	p = mmap(NULL, len + CHUNK_ALIGN, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -ENOMEM;
	base = (uintptr_t)p;
	start = (base + CHUNK_ALIGN - 1) & ~(uintptr_t)(CHUNK_ALIGN - 1);
	if (start > base)
		munmap(p, start - base);
	if (start + len < base + len + CHUNK_ALIGN)
		munmap((void *)(start + len),
		       base + len + CHUNK_ALIGN - (start + len));
	/* Huge pages where the kernel allows, then fault everything in now
	 * rather than on the map path. */
	madvise((void *)start, len, MADV_HUGEPAGE);
#ifdef MADV_POPULATE_WRITE
	if (madvise((void *)start, len, MADV_POPULATE_WRITE))
#endif
	{
		volatile char *q = (volatile char *)start;
		size_t off;

		for (off = 0; off < len; off += 4096)
			q[off] = 0;
	}
	if (pool.bump < pool.bump_end)
		release_range(pool.bump, pool.bump_end);
	pool.bump = start;
	pool.bump_end = start + len;
	pool.total += len;
	return 0;
}

static void *carve(size_t size)
{
	uintptr_t a = (pool.bump + size - 1) & ~(uintptr_t)(size - 1);

	if (a + size > pool.bump_end)
		return NULL;
	if (a > pool.bump)
		release_range(pool.bump, a);
	pool.bump = a + size;
	return (void *)a;
}

void *pt_pool_alloc(size_t size)
{
	unsigned c;
	void *p;

	if (size > ((size_t)1 << PT_POOL_MAX_SHIFT))
		return NULL;
	if (fault_inject_hit())
		return NULL;
	c = size_class(size);
	size = (size_t)4096 << c;
	pthread_mutex_lock(&pool.lock);
	if (pool.free[c]) {
		struct free_block *b = pool.free[c];

		pool.free[c] = b->next;
		b->next = NULL;
		p = b;
	} else {
		p = carve(size);
		if (!p && grow(size) == 0)
			p = carve(size);
	}
	if (p)
		pool.in_use += size;
	pthread_mutex_unlock(&pool.lock);
	return p;
}

void pt_pool_free(void *p, size_t size)
{
	unsigned c = size_class(size);

	pthread_mutex_lock(&pool.lock);
	push((uintptr_t)p, c);
	pool.in_use -= (size_t)4096 << c;
	pthread_mutex_unlock(&pool.lock);
}

int pt_pool_reserve(size_t bytes)
{
	size_t avail;
	int ret = 0;

	pthread_mutex_lock(&pool.lock);
	avail = pool.total - pool.in_use;
	if (avail < bytes)
		ret = grow(bytes - avail);
	pthread_mutex_unlock(&pool.lock);
	return ret;
}

void pt_pool_usage(size_t *in_use, size_t *total)
{
	pthread_mutex_lock(&pool.lock);
	if (in_use)
		*in_use = pool.in_use;
	if (total)
		*total = pool.total;
	pthread_mutex_unlock(&pool.lock);
}
