/* SPDX-License-Identifier: MIT */
/*
 * DMA in flight. A device access (translate + data copy) runs inside
 * inflight_begin() / inflight_end(); inflight_wait() returns once every
 * access that was in flight when it was called has finished. Drivers call it
 * in iotlb_sync (after the hardware invalidation) before freeing page tables
 * or domains, which gives the hardware guarantee that once an unmap or a
 * synced invalidation returns, no DMA uses the old translation and no walker
 * touches freed memory.
 *
 * The read side costs one store and one fence on a per-thread cache line,
 * no shared writes: DMA from many threads does not contend. The wait side
 * scans every thread's slot and spins until each busy one moved on.
 *
 * A thread must not call inflight_wait() from inside its own section on
 * another thread's behalf in a cycle; its own section is skipped (a PRI
 * handler that unmaps while servicing a DMA does not deadlock on itself).
 */
#ifndef IONEST_DRIVERS_INFLIGHT_H
#define IONEST_DRIVERS_INFLIGHT_H

#include <stdint.h>

struct inflight_slot {
	/* (sequence << 1) | busy; the sequence changes on every begin. */
	uint64_t state;
	uint32_t depth; /* nesting of begin on this thread */
	uint32_t used; /* claimed by a live thread */
	char pad[48];
} __attribute__((aligned(64)));

struct inflight_slot *inflight_slot_get(void);

extern __thread struct inflight_slot *inflight_self
	__attribute__((tls_model("initial-exec")));

static inline void inflight_begin(void)
{
	struct inflight_slot *s = inflight_self;

	if (__builtin_expect(!s, 0))
		s = inflight_slot_get();
	if (s->depth++ == 0) {
		uint64_t v = __atomic_load_n(&s->state, __ATOMIC_RELAXED);

		__atomic_store_n(&s->state, (v | 1) + 2, __ATOMIC_RELAXED);
		/* Order the busy mark before every table and data access
		 * (pairs with the fence in inflight_wait). */
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
	}
}

static inline void inflight_end(void)
{
	struct inflight_slot *s = inflight_self;

	if (--s->depth == 0)
		__atomic_store_n(&s->state,
				 __atomic_load_n(&s->state, __ATOMIC_RELAXED) &
					 ~(uint64_t)1,
				 __ATOMIC_RELEASE);
}

void inflight_wait(void);

#endif
