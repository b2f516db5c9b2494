// SPDX-License-Identifier: MIT
/* The shared TLB: lookups per block size, invalidation scopes, the fill /
 * invalidation race, and concurrent readers. */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>

#include "tlb_test.h"
#include "util/alloc.h"

static void test_lookup_sizes(void **state)
{
	struct hw_tlb t;
	struct hw_tlb_entry e;

	assert_int_equal(hw_tlb_init(&t, 64), 0);
	assert_false(hw_tlb_lookup(&t, 1, 0, 0x1000, &e));
	tlb_insert(&t, tlb_mk(1, 0, 0x1000, 0xa000, 12, 0, 0, 3));
	tlb_insert(&t, tlb_mk(1, 0, 0x200000, 0x40000000, 21, 0, 0, 1));
	assert_true(hw_tlb_lookup(&t, 1, 0, 0x1fff, &e));
	assert_int_equal(e.pa, 0xa000);
	assert_int_equal(e.shift, 12);
	assert_int_equal(e.flags, 3);
	assert_true(hw_tlb_lookup(&t, 1, 0, 0x3fffff, &e));
	assert_int_equal(e.pa, 0x40000000);
	assert_int_equal(e.shift, 21);
	/* other stream, other ssid, other page: misses */
	assert_false(hw_tlb_lookup(&t, 2, 0, 0x1000, &e));
	assert_false(hw_tlb_lookup(&t, 1, 5 | HW_TLB_SSID_VALID, 0x1000, &e));
	assert_false(hw_tlb_lookup(&t, 1, 0, 0x2000, &e));
	assert_int_equal(hw_tlb_count(&t), 2);
	hw_tlb_fini(&t);
}

static void test_find_fast_path(void **state)
{
	struct hw_tlb t;
	uint64_t pa;
	unsigned shift;
	uint32_t flags;

	assert_int_equal(hw_tlb_init(&t, 64), 0);
	assert_false(hw_tlb_find(&t, 1, 0, 0x1000, &pa, &shift, &flags));
	tlb_insert(&t, tlb_mk(1, 0, 0x1000, 0xa000, 12, 0, 0, 3));
	tlb_insert(&t, tlb_mk(1, 2 | HW_TLB_SSID_VALID, 0x40000000, 0x80000000,
			      30, 0, 0, 5));
	assert_true(hw_tlb_find(&t, 1, 0, 0x1abc, &pa, &shift, &flags));
	assert_int_equal(pa, 0xa000);
	assert_int_equal(shift, 12);
	assert_int_equal(flags, 3);
	assert_true(hw_tlb_find(&t, 1, 2 | HW_TLB_SSID_VALID, 0x7fffffff, &pa,
				&shift, &flags));
	assert_int_equal(pa, 0x80000000);
	assert_int_equal(shift, 30);
	assert_int_equal(flags, 5);
	/* the same address under another ssid or sid is not a hit */
	assert_false(hw_tlb_find(&t, 1, 0, 0x40000000, &pa, &shift, &flags));
	assert_false(hw_tlb_find(&t, 2, 0, 0x1000, &pa, &shift, &flags));
	hw_tlb_fini(&t);
}

static void test_replace_same_key(void **state)
{
	struct hw_tlb t;
	struct hw_tlb_entry e;

	assert_int_equal(hw_tlb_init(&t, 16), 0);
	tlb_insert(&t, tlb_mk(1, 0, 0x1000, 0xa000, 12, 0, 0, 1));
	tlb_insert(&t, tlb_mk(1, 0, 0x1000, 0xb000, 12, 0, 0, 3));
	assert_int_equal(hw_tlb_count(&t), 1);
	assert_true(hw_tlb_lookup(&t, 1, 0, 0x1000, &e));
	assert_int_equal(e.pa, 0xb000);
	hw_tlb_fini(&t);
}

static void test_capacity_evicts(void **state)
{
	struct hw_tlb t;
	struct hw_tlb_entry e;
	unsigned hits = 0;

	assert_int_equal(hw_tlb_init(&t, 16), 0);
	assert_true(t.nsets * HW_TLB_WAYS >= 16);
	assert_true(t.nsets * HW_TLB_WAYS < 32);
	for (uint64_t i = 0; i < 100; i++)
		tlb_insert(&t, tlb_mk(1, 0, i << 12, i << 20, 12, 0, 0, 1));
	assert_true(hw_tlb_count(&t) <= t.nsets * HW_TLB_WAYS);
	for (uint64_t i = 0; i < 100; i++) {
		if (hw_tlb_lookup(&t, 1, 0, i << 12, &e)) {
			assert_int_equal(e.pa, i << 20); /* never a wrong hit */
			hits++;
		}
	}
	assert_int_equal(hits, hw_tlb_count(&t));
	hw_tlb_fini(&t);
}

static void fill_mix(struct hw_tlb *t)
{
	hw_tlb_flush(t);
	tlb_insert(t, tlb_mk(1, 0, 0x1000, 0x1000, 12, 7, 1,
			     HW_TLB_S1 | HW_TLB_S2));
	tlb_insert(t, tlb_mk(1, 0, 0x2000, 0x2000, 12, 7, 2,
			     HW_TLB_S1 | HW_TLB_S2));
	tlb_insert(t, tlb_mk(2, 0, 0x3000, 0x3000, 12, 8, 1, HW_TLB_S1));
	tlb_insert(t, tlb_mk(2, 0, 0x4000, 0x4000, 12, 8, 1,
			     HW_TLB_S1 | HW_TLB_GLOBAL));
	tlb_insert(t, tlb_mk(HW_TLB_SID_S2WC, 7, 0x5000, 0x5000, 12, 7, 0,
			     HW_TLB_S2));
}

static unsigned inval(struct hw_tlb *t, struct hw_tlb_match m)
{
	return hw_tlb_invalidate(t, &m);
}

static void test_invalidate_scopes(void **state)
{
	struct hw_tlb t;
	struct hw_tlb_entry e;

	assert_int_equal(hw_tlb_init(&t, 256), 0);
	fill_mix(&t);
	assert_int_equal(inval(&t,
			       (struct hw_tlb_match){ .fields = HW_TLB_M_DOM,
						      .dom = 7 }),
			 3);
	assert_int_equal(hw_tlb_count(&t), 2);

	fill_mix(&t);
	/* ASID scope skips global entries */
	assert_int_equal(inval(&t,
			       (struct hw_tlb_match){ .fields = HW_TLB_M_DOM |
								HW_TLB_M_ASID,
						      .dom = 8,
						      .asid = 1 }),
			 1);
	assert_true(hw_tlb_lookup(&t, 2, 0, 0x4000, &e));
	assert_false(hw_tlb_lookup(&t, 2, 0, 0x3000, &e));

	fill_mix(&t);
	assert_int_equal(inval(&t,
			       (struct hw_tlb_match){ .fields = HW_TLB_M_SID,
						      .sid = 2 }),
			 2);

	fill_mix(&t);
	/* range [0x1fff, 0x2000] touches the pages at 0x1000 and 0x2000 only */
	assert_int_equal(inval(&t,
			       (struct hw_tlb_match){ .fields = HW_TLB_M_RANGE,
						      .va_start = 0x1fff,
						      .va_last = 0x2000 }),
			 2);
	assert_true(hw_tlb_lookup(&t, 2, 0, 0x3000, &e));

	fill_mix(&t);
	/* combined entries only (S1 flag), not the walk cache */
	assert_int_equal(inval(&t,
			       (struct hw_tlb_match){ .fields = HW_TLB_M_DOM |
								HW_TLB_M_FLAGS,
						      .dom = 7,
						      .flags_any = HW_TLB_S1 }),
			 2);
	assert_true(hw_tlb_lookup(&t, HW_TLB_SID_S2WC, 7, 0x5000, &e));

	fill_mix(&t);
	assert_int_equal(inval(&t,
			       (struct hw_tlb_match){ .fields = HW_TLB_M_SID |
								HW_TLB_M_SSID,
						      .sid = HW_TLB_SID_S2WC,
						      .ssid = 7 }),
			 1);
	assert_int_equal(inval(&t, (struct hw_tlb_match){ 0 }), 4);
	assert_int_equal(hw_tlb_count(&t), 0);
	hw_tlb_fini(&t);
}

static void test_fill_after_invalidation_refused(void **state)
{
	struct hw_tlb t;
	struct hw_tlb_entry e = tlb_mk(1, 0, 0x1000, 0xa000, 12, 0, 0, 1);
	uint64_t gen;

	assert_int_equal(hw_tlb_init(&t, 16), 0);
	gen = hw_tlb_gen(&t); /* a walker starts ... */
	inval(&t, (struct hw_tlb_match){ 0 }); /* ... the tables change */
	assert_false(hw_tlb_insert(&t, &e, gen));
	assert_false(hw_tlb_lookup(&t, 1, 0, 0x1000, &e));
	gen = hw_tlb_gen(&t);
	hw_tlb_flush(&t);
	assert_false(hw_tlb_insert(&t, &e, gen));
	assert_true(hw_tlb_insert(&t, &e, hw_tlb_gen(&t)));
	hw_tlb_fini(&t);
}

static void test_init_nomem(void **state)
{
	struct hw_tlb t;

	fault_inject_nth(1);
	assert_int_equal(hw_tlb_init(&t, 16), -ENOMEM);
	fault_inject_nth(0);
}

/* Readers hammer lookups while a writer replaces the mapping of one page
 * with a new generation of output addresses: a reader may see the old or
 * the new value while the writer is between steps, but once the writer
 * has invalidated and published "epoch", no reader sees an older one. */
struct race {
	struct hw_tlb t;
	uint64_t epoch;
	bool stop;
	unsigned bad;
};

static void *reader(void *arg)
{
	struct race *r = arg;
	struct hw_tlb_entry e;

	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		uint64_t before = __atomic_load_n(&r->epoch, __ATOMIC_ACQUIRE);

		if (hw_tlb_lookup(&r->t, 1, 0, 0x1000, &e) &&
		    (e.pa >> 12) < before)
			__atomic_add_fetch(&r->bad, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void test_concurrent_readers(void **state)
{
	struct race r = { 0 };
	pthread_t th[2];

	assert_int_equal(hw_tlb_init(&r.t, 64), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&th[i], NULL, reader, &r), 0);
	for (uint64_t ep = 1; ep < 20000; ep++) {
		struct hw_tlb_entry e =
			tlb_mk(1, 0, 0x1000, ep << 12, 12, 0, 0, 1);

		inval(&r.t, (struct hw_tlb_match){ .fields = HW_TLB_M_SID,
						   .sid = 1 });
		__atomic_store_n(&r.epoch, ep, __ATOMIC_RELEASE);
		hw_tlb_insert(&r.t, &e, hw_tlb_gen(&r.t));
	}
	__atomic_store_n(&r.stop, true, __ATOMIC_RELEASE);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(r.bad, 0);
	hw_tlb_fini(&r.t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup_sizes),
		cmocka_unit_test(test_find_fast_path),
		cmocka_unit_test(test_replace_same_key),
		cmocka_unit_test(test_capacity_evicts),
		cmocka_unit_test(test_invalidate_scopes),
		cmocka_unit_test(test_fill_after_invalidation_refused),
		cmocka_unit_test(test_init_nomem),
		cmocka_unit_test(test_concurrent_readers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
