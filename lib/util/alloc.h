/* SPDX-License-Identifier: MIT */
/*
 * Allocation for the whole library. Every internal allocation goes through
 * these so that tests can make the Nth one fail (fault_inject_nth) and check
 * that each failure path returns an error, leaves consistent state and leaks
 * nothing.
 */
#ifndef IONEST_UTIL_ALLOC_H
#define IONEST_UTIL_ALLOC_H

#include <stdbool.h>
#include <stddef.h>

void *xmalloc(size_t size);
void *xzalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t size);
void *xaligned_zalloc(size_t align, size_t size);
void xfree(void *p);

/* Fail the @nth allocation from now on (1 = the next one); 0 = never.
 * Returns the number of allocations attempted since the last call. */
unsigned long fault_inject_nth(unsigned long nth);
/* True if this allocation must fail; for allocators outside this file. */
bool fault_inject_hit(void);

#endif
