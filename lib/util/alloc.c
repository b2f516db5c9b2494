// SPDX-License-Identifier: MIT
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"

static unsigned long inject_nth; /* 0: off */
static unsigned long inject_count; /* allocations since armed */

unsigned long fault_inject_nth(unsigned long nth)
{
	unsigned long seen =
		__atomic_exchange_n(&inject_count, 0, __ATOMIC_RELAXED);

	__atomic_store_n(&inject_nth, nth, __ATOMIC_RELAXED);
	return seen;
}

bool fault_inject_hit(void)
{
	unsigned long nth = __atomic_load_n(&inject_nth, __ATOMIC_RELAXED);
	unsigned long n =
		__atomic_add_fetch(&inject_count, 1, __ATOMIC_RELAXED);

	return nth && n == nth;
}

void *xmalloc(size_t size)
{
	if (fault_inject_hit())
		return NULL;
	return malloc(size ? size : 1);
}

void *xzalloc(size_t size)
{
	if (fault_inject_hit())
		return NULL;
	return calloc(1, size ? size : 1);
}

void *xcalloc(size_t n, size_t size)
{
	if (fault_inject_hit())
		return NULL;
	return calloc(n ? n : 1, size ? size : 1);
}

void *xrealloc(void *p, size_t size)
{
	if (fault_inject_hit())
		return NULL;
	return realloc(p, size ? size : 1);
}

void *xaligned_zalloc(size_t align, size_t size)
{
	void *p;

	if (fault_inject_hit())
		return NULL;
	size = (size + align - 1) & ~(align - 1);
	p = aligned_alloc(align, size);
	if (p)
		memset(p, 0, size);
	return p;
}

void xfree(void *p)
{
	free(p);
}
