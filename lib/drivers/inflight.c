// SPDX-License-Identifier: MIT
/* DMA in flight: per-thread slots and the wait for a quiescent point. */
#include <linux/membarrier.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "drivers/inflight.h"

#define SLOTS_PER_CHUNK 64

struct inflight_chunk {
	struct inflight_slot slot[SLOTS_PER_CHUNK];
	struct inflight_chunk *next;
};

/* Chunks are never freed: slots of exited threads are reused. They come
 * from plain aligned_alloc, not the fault-injected allocator: a DMA must not
 * fail because a test made an allocation fail. */
static struct inflight_chunk first_chunk;
static pthread_mutex_t chunk_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_key_t slot_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

__thread struct inflight_slot *inflight_self
	__attribute__((tls_model("initial-exec")));
__thread struct inflight_slot *inflight_fast
	__attribute__((tls_model("initial-exec")));
bool inflight_asym;
static uint64_t barriers;

__attribute__((constructor)) static void inflight_init(void)
{
	/* Before any DMA can run: readers skip their fence only once the
	 * waiters are certain to issue the membarrier. */
	if (!syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED,
		     0, 0))
		inflight_asym = true;
}

static void slot_release(void *p)
{
	struct inflight_slot *s = p;
	uint64_t v = __atomic_load_n(&s->state, __ATOMIC_RELAXED);

	/* A thread never exits inside a section; should one, its sections
	 * are over: depth 0 and one more finished. */
	if (INFLIGHT_DEPTH(v))
		__atomic_store_n(&s->state,
				 (v - INFLIGHT_DEPTH(v)) + INFLIGHT_DONE,
				 __ATOMIC_RELEASE);
	__atomic_store_n(&s->used, 0, __ATOMIC_RELEASE);
}

static void key_init(void)
{
	pthread_key_create(&slot_key, slot_release);
}

static struct inflight_slot *claim(struct inflight_chunk *c)
{
	for (unsigned i = 0; i < SLOTS_PER_CHUNK; i++) {
		uint32_t zero = 0;

		if (__atomic_compare_exchange_n(&c->slot[i].used, &zero, 1,
						false, __ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			return &c->slot[i];
	}
	return NULL;
}

struct inflight_slot *inflight_slot_get(void)
{
	struct inflight_chunk *c;
	struct inflight_slot *s = NULL;

	pthread_once(&key_once, key_init);
	for (c = &first_chunk; c && !s;
	     c = __atomic_load_n(&c->next, __ATOMIC_ACQUIRE))
		s = claim(c);
	while (!s) {
		struct inflight_chunk *n = aligned_alloc(64, sizeof(*n));

		if (!n)
			abort(); /* cannot track DMA: nothing sane to do */
		__builtin_memset(n, 0, sizeof(*n));
		pthread_mutex_lock(&chunk_lock);
		for (c = &first_chunk; c->next; c = c->next)
			;
		__atomic_store_n(&c->next, n, __ATOMIC_RELEASE);
		pthread_mutex_unlock(&chunk_lock);
		s = claim(n);
	}
	pthread_setspecific(slot_key, s);
	inflight_self = s;
	if (inflight_asym)
		inflight_fast = s;
	/* Pairs with the fence in inflight_wait: a waiter that found no
	 * other thread's slot in use (and so issued no membarrier) made its
	 * changes visible before this thread's first access reads. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return s;
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

static void wait_slot(struct inflight_slot *s)
{
	uint64_t v = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE);
	unsigned spins = 0;

	if (!INFLIGHT_DEPTH(v))
		return;
	/* Until the outermost section seen busy has ended. */
	while ((__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) >> 32) ==
	       (v >> 32)) {
		if (++spins < 1000)
			cpu_relax();
		else
			sched_yield();
	}
}

/* Whether a thread other than the caller holds a slot (has ever entered
 * a section and not exited). */
static bool others_registered(void)
{
	for (struct inflight_chunk *c = &first_chunk; c;
	     c = __atomic_load_n(&c->next, __ATOMIC_ACQUIRE)) {
		for (unsigned i = 0; i < SLOTS_PER_CHUNK; i++) {
			struct inflight_slot *s = &c->slot[i];

			if (s != inflight_self &&
			    __atomic_load_n(&s->used, __ATOMIC_SEQ_CST))
				return true;
		}
	}
	return false;
}

void inflight_wait(void)
{
	/* Pairs with inflight_begin: either the section sees what the caller
	 * changed before this point, or we see it busy. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	/* No other thread has a slot: none is in a section, and one that
	 * claims a slot from now on fences before its first access (see
	 * inflight_slot_get), so it sees the caller's changes. The common
	 * single-threaded caller then pays no system call. */
	if (!others_registered())
		return;
	if (inflight_asym) {
		if (syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0,
			    0))
			abort(); /* registered at load time: cannot fail */
		__atomic_add_fetch(&barriers, 1, __ATOMIC_RELAXED);
	}
	for (struct inflight_chunk *c = &first_chunk; c;
	     c = __atomic_load_n(&c->next, __ATOMIC_ACQUIRE)) {
		for (unsigned i = 0; i < SLOTS_PER_CHUNK; i++) {
			struct inflight_slot *s = &c->slot[i];

			if (s == inflight_self ||
			    !__atomic_load_n(&s->used, __ATOMIC_ACQUIRE))
				continue;
			wait_slot(s);
		}
	}
}

uint64_t inflight_barriers(void)
{
	return __atomic_load_n(&barriers, __ATOMIC_RELAXED);
}
