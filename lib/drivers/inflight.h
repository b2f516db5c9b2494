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
 * The read side costs a load and a store of a per-thread word at each end
 * (plus a fence where membarrier(2) is unavailable): no locked instruction
 * and no shared writes, so DMA from many threads does not contend. The
 * wait side issues the barrier, scans every thread's slot and spins until
 * each busy one moved on.
 *
 * A thread must not call inflight_wait() from inside its own section on
 * another thread's behalf in a cycle; its own section is skipped (a PRI
 * handler that unmaps while servicing a DMA does not deadlock on itself).
 */
#ifndef IONEST_DRIVERS_INFLIGHT_H
#define IONEST_DRIVERS_INFLIGHT_H

#include <stdbool.h>
#include <stdint.h>

/*
 * A thread's slot. One word, written only by its thread: the nesting depth
 * of its sections in the low half, in the high half the number of
 * outermost sections it has finished. A waiter that saw the depth non-zero
 * waits for the count to move, which happens only when the section it saw
 * ends, however deeply nested it was.
 */
struct inflight_slot {
	uint64_t state;
	uint32_t used; /* claimed by a live thread */
	char pad[52];
} __attribute__((aligned(64)));

#define INFLIGHT_DEPTH(v) ((uint32_t)(v))
#define INFLIGHT_DONE (1ull << 32) /* one finished outermost section */

struct inflight_slot *inflight_slot_get(void);
/* membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) is registered and used by
 * inflight_wait (set once, at load time). */
extern bool inflight_asym;

extern __thread struct inflight_slot *inflight_self
	__attribute__((tls_model("initial-exec")));
/* inflight_self where membarrier(2) is in use, else NULL. */
extern __thread struct inflight_slot *inflight_fast
	__attribute__((tls_model("initial-exec")));

/* Mark the section entered on this thread's slot @s. */
static inline void inflight_mark(struct inflight_slot *s)
{
	/* Only this thread writes the word: a load and a store, no locked
	 * instruction. */
	__atomic_store_n(&s->state,
			 __atomic_load_n(&s->state, __ATOMIC_RELAXED) + 1,
			 __ATOMIC_RELAXED);
}

/* This thread's slot if it enters sections without a fence (the waiter's
 * membarrier(2) orders them), else NULL - also before the thread's first
 * section (inflight_begin sets it up). */
static inline struct inflight_slot *inflight_slot_fast(void)
{
	return inflight_fast;
}

/* Enter a section on @s = inflight_slot_fast(), not NULL. */
static inline void inflight_enter_fast(struct inflight_slot *s)
{
	inflight_mark(s);
	/* Only the compiler's order: see inflight_begin. */
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
}

/* Enter a section. */
static inline void inflight_begin(void)
{
	struct inflight_slot *s = inflight_self;

	if (__builtin_expect(!s, 0))
		s = inflight_slot_get();
	inflight_mark(s);
	/* Order the busy mark before every table and data access. With
	 * membarrier(2) the waiter forces that order on every running
	 * thread, so the reader needs only the compiler's; otherwise a full
	 * fence pairs with the one in inflight_wait. */
	if (__builtin_expect(inflight_asym, 1))
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
	else
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/* Leave the section this thread is in. The slot is re-read rather than
 * kept: nothing of the section stays live across the copy. */
static inline void inflight_end(void)
{
	struct inflight_slot *s = inflight_self;
	uint64_t v = __atomic_load_n(&s->state, __ATOMIC_RELAXED) - 1;

	/* The outermost section ends: count it (without a branch). */
	v += (uint64_t)(INFLIGHT_DEPTH(v) == 0) << 32;
	__atomic_store_n(&s->state, v, __ATOMIC_RELEASE);
}

/*
 * Wait for every section open now, on other threads, to end. Issues the
 * membarrier only where another thread holds a slot: a thread's first
 * section fences after claiming one, so with no other slot in use there is
 * nothing to order.
 */
void inflight_wait(void);
/* Membarriers inflight_wait issued (statistics, tests). */
uint64_t inflight_barriers(void);

#endif
