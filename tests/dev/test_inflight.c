// SPDX-License-Identifier: MIT
/*
 * DMA in-flight sections (lib/drivers/inflight.h): the per-thread word
 * (nesting depth, finished outermost sections), and inflight_wait
 * returning only once every section that was open when it was called has
 * ended - nested ones included - while skipping the caller's own, and
 * issuing its barrier only while another thread holds a slot.
 */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "drivers/inflight.h"

static void test_word(void **state)
{
	struct inflight_slot *s;
	uint64_t v0, v;

	inflight_begin();
	s = inflight_self;
	assert_non_null(s);
	/* The fast form where membarrier(2) orders sections. */
	assert_ptr_equal(inflight_slot_fast(), inflight_asym ? s : NULL);
	v0 = s->state;
	assert_int_equal(INFLIGHT_DEPTH(v0), 1);
	inflight_begin();
	assert_int_equal(INFLIGHT_DEPTH(s->state), 2);
	inflight_end();
	/* An inner end: still busy, nothing finished. */
	v = s->state;
	assert_int_equal(INFLIGHT_DEPTH(v), 1);
	assert_int_equal(v >> 32, v0 >> 32);
	inflight_end();
	v = s->state;
	assert_int_equal(INFLIGHT_DEPTH(v), 0);
	assert_int_equal(v >> 32, (v0 >> 32) + 1);
	/* Marking the known slot is the same. */
	inflight_mark(s);
	assert_int_equal(INFLIGHT_DEPTH(s->state), 1);
	inflight_end();
	assert_int_equal(s->state >> 32, (v0 >> 32) + 2);
	if (inflight_asym) {
		inflight_enter_fast(s);
		assert_int_equal(INFLIGHT_DEPTH(s->state), 1);
		inflight_end();
		assert_int_equal(s->state >> 32, (v0 >> 32) + 3);
	}
	assert_ptr_equal(inflight_self, s);
}

/* Inside its own section a thread's wait does not wait for itself. */
static void test_wait_skips_self(void **state)
{
	inflight_begin();
	inflight_begin();
	inflight_wait();
	inflight_end();
	inflight_end();
	/* Nothing open anywhere: returns at once. */
	inflight_wait();
}

struct holder {
	int nest; /* sections to open, nested */
	int open; /* set once they are open */
	int waiting; /* set by the waiter before it waits */
	int ended; /* set just before the outermost section ends */
};

static void *holder_thread(void *p)
{
	struct holder *h = p;

	for (int i = 0; i < h->nest; i++)
		inflight_begin();
	__atomic_store_n(&h->open, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&h->waiting, __ATOMIC_ACQUIRE))
		sched_yield();
	/* Give a wrong wait every chance to return early: also when an
	 * inner section ends (the word changes, the section does not). */
	for (int i = 0; i < 100; i++)
		sched_yield();
	for (int i = 1; i < h->nest; i++) {
		inflight_end();
		for (int j = 0; j < 100; j++)
			sched_yield();
	}
	__atomic_store_n(&h->ended, 1, __ATOMIC_RELEASE);
	inflight_end();
	return NULL;
}

static void wait_for_holder(int nest)
{
	struct holder h = { .nest = nest };
	pthread_t t;

	assert_int_equal(pthread_create(&t, NULL, holder_thread, &h), 0);
	while (!__atomic_load_n(&h.open, __ATOMIC_ACQUIRE))
		sched_yield();
	__atomic_store_n(&h.waiting, 1, __ATOMIC_RELEASE);
	inflight_wait();
	/* The wait returned: the section it saw open has ended. */
	assert_true(__atomic_load_n(&h.ended, __ATOMIC_ACQUIRE));
	assert_int_equal(pthread_join(t, NULL), 0);
}

static void test_wait_for_other(void **state)
{
	wait_for_holder(1);
}

static void test_wait_for_nested(void **state)
{
	wait_for_holder(3);
}

/* Threads come and go: an exited thread's slot is the next one's, and a
 * wait still sees the sections of the threads there now. */
static void *short_thread(void *p)
{
	inflight_begin();
	*(struct inflight_slot **)p = inflight_self;
	inflight_end();
	return NULL;
}

static void test_slots_reused(void **state)
{
	struct inflight_slot *first = NULL;

	for (int i = 0; i < 300; i++) {
		struct inflight_slot *s = NULL;
		pthread_t t;

		assert_int_equal(pthread_create(&t, NULL, short_thread, &s), 0);
		assert_int_equal(pthread_join(t, NULL), 0);
		assert_non_null(s);
		if (!first)
			first = s;
		assert_ptr_equal(s, first);
		/* Released: not busy, not claimed. */
		assert_int_equal(INFLIGHT_DEPTH(s->state), 0);
		assert_int_equal(s->used, 0);
	}
	wait_for_holder(2);
}

/* A thread that holds a slot (has done DMA) until told to exit. */
static void *idle_thread(void *p)
{
	int *stop = p;

	inflight_begin();
	inflight_end();
	__atomic_store_n(stop, 1, __ATOMIC_RELEASE);
	while (__atomic_load_n(stop, __ATOMIC_ACQUIRE) != 2)
		sched_yield();
	return NULL;
}

/* The membarrier is issued only while another thread holds a slot: one
 * thread alone (the caller's own section aside) pays no system call. */
static void test_barrier_only_with_others(void **state)
{
	uint64_t b0;
	pthread_t t;
	int stop = 0;

	inflight_begin();
	b0 = inflight_barriers();
	inflight_wait();
	inflight_end();
	inflight_wait();
	assert_int_equal(inflight_barriers(), b0);
	assert_int_equal(pthread_create(&t, NULL, idle_thread, &stop), 0);
	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE))
		sched_yield();
	inflight_wait();
	assert_int_equal(inflight_barriers(), b0 + (inflight_asym ? 1 : 0));
	__atomic_store_n(&stop, 2, __ATOMIC_RELEASE);
	assert_int_equal(pthread_join(t, NULL), 0);
	/* Its slot is released with the thread. */
	inflight_wait();
	assert_int_equal(inflight_barriers(), b0 + (inflight_asym ? 1 : 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_word),
		cmocka_unit_test(test_wait_skips_self),
		cmocka_unit_test(test_wait_for_other),
		cmocka_unit_test(test_wait_for_nested),
		cmocka_unit_test(test_slots_reused),
		cmocka_unit_test(test_barrier_only_with_others),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
