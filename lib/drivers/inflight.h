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
 * The read side costs one store on a per-thread cache line (plus a fence
 * where membarrier(2) is unavailable), no shared writes: DMA from many
 * threads does not contend. The wait side issues the barrier, scans every
 * thread's slot and spins until each busy one moved on.
 *
 * A thread must not call inflight_wait() from inside its own section on
 * another thread's behalf in a cycle; its own section is skipped (a PRI
 * handler that unmaps while servicing a DMA does not deadlock on itself).
 */
#ifndef IONEST_DRIVERS_INFLIGHT_H
#define IONEST_DRIVERS_INFLIGHT_H

#include <stdbool.h>
#include <stdint.h>

struct inflight_slot {
	/* (sequence << 1) | busy; the sequence changes on every begin. */
	uint64_t state;
	uint32_t depth; /* nesting of begin on this thread */
	uint32_t used; /* claimed by a live thread */
	char pad[48];
} __attribute__((aligned(64)));

struct inflight_slot *inflight_slot_get(void);
/* membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) is registered and used by
 * inflight_wait (set once, at load time). */
extern bool inflight_asym;

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
		/* Order the busy mark before every table and data access.
		 * With membarrier(2) the waiter forces that order on every
		 * running thread, so the reader needs only the compiler's;
		 * otherwise a full fence pairs with the one in inflight_wait.
		 */
		if (__builtin_expect(inflight_asym, 1))
			__atomic_signal_fence(__ATOMIC_SEQ_CST);
		else
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
