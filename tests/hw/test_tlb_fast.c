// SPDX-License-Identifier: MIT
/* The shared TLB's hot-path interface: set index, attribute words, probes
 * and fills of a known set, the retry signal, the fill rules. */
#include <stdbool.h>
#include <string.h>

#include "test_util.h"
#include "hw/tlb.h"

/* Neighbouring pages of a stream never share a set: as many consecutive
 * pages as the TLB has entries all stay. */
static void test_neighbours_fill_every_way(void **state)
{
	struct hw_tlb t;
	struct hw_tlb_entry e;
	unsigned n;

	assert_int_equal(hw_tlb_init(&t, 3 * 64), 0);
	n = t.nsets * HW_TLB_WAYS;
	for (uint64_t i = 0; i < n; i++) {
		e = (struct hw_tlb_entry){ .va = 0x7f0000000000ull + (i << 12),
					   .pa = i << 20,
					   .sid = 5,
					   .shift = 12,
					   .flags = 1 };
		assert_true(hw_tlb_insert(&t, &e, hw_tlb_gen(&t)));
	}
	assert_int_equal(hw_tlb_count(&t), n);
	for (uint64_t i = 0; i < n; i++) {
		assert_true(hw_tlb_lookup(&t, 5, 0,
					  0x7f0000000000ull + (i << 12), &e));
		assert_int_equal(e.pa, i << 20);
	}
	hw_tlb_fini(&t);
}

static void test_attr_word(void **state)
{
	uint64_t a = hw_tlb_attr(0xbeef, 21, 0xa5, 0x12345678);
	struct hw_tlb_entry e = {
		.dom = 0xbeef, .shift = 21, .flags = 0xa5, .asid = 0x12345678
	};

	assert_int_equal(hw_tlb_attr_dom(a), 0xbeef);
	assert_int_equal(hw_tlb_attr_shift(a), 21);
	assert_int_equal(hw_tlb_attr_flags(a), 0xa5);
	assert_int_equal(hw_tlb_attr_asid(a), 0x12345678);
	/* The same bytes as the entry's last word. */
	assert_memory_equal(&a, &e.dom, 8);
	assert_int_equal(hw_tlb_key(3, 0x80000004), 0x8000000400000003ull);
}

/* Sizes outside what the formats have are refused, not mis-indexed. */
static void test_insert_size_bounds(void **state)
{
	struct hw_tlb t;
	struct hw_tlb_entry e = { .va = 0, .pa = 0, .sid = 1, .flags = 1 };

	assert_int_equal(hw_tlb_init(&t, 16), 0);
	e.shift = 6;
	assert_false(hw_tlb_insert(&t, &e, hw_tlb_gen(&t)));
	assert_false(hw_tlb_insert_attr(
		&t, 0, 0, 1, 0, hw_tlb_attr(0, 64, 1, 0), hw_tlb_gen(&t)));
	assert_false(hw_tlb_insert_attr(
		&t, 0, 0, 1, 0, hw_tlb_attr(0, 200, 1, 0), hw_tlb_gen(&t)));
	assert_int_equal(hw_tlb_count(&t), 0);
	assert_int_equal(t.shifts, 0);
	e.shift = 7;
	assert_true(hw_tlb_insert(&t, &e, hw_tlb_gen(&t)));
	e.shift = 63;
	assert_true(hw_tlb_insert(&t, &e, hw_tlb_gen(&t)));
	assert_int_equal(hw_tlb_count(&t), 2);
	hw_tlb_fini(&t);
}

/* hw_tlb_find_attr: the smallest size inline, the others out of line. */
static void test_find_attr_sizes(void **state)
{
	struct hw_tlb t;
	uint64_t pa, attr, g;

	assert_int_equal(hw_tlb_init(&t, 64), 0);
	g = hw_tlb_gen(&t);
	assert_false(hw_tlb_find_attr(&t, 1, 0, 0x1000, &pa, &attr));
	assert_true(hw_tlb_insert_attr(&t, 0x1000, 0xa000, 1, 0,
				       hw_tlb_attr(3, 12, 0x13, 9), g));
	assert_true(hw_tlb_insert_attr(&t, 0x40200000, 0x80000000, 1, 0,
				       hw_tlb_attr(3, 21, 0x11, 9), g));
	assert_true(hw_tlb_insert_attr(&t, 0x80000000, 0xc0000000, 1, 0,
				       hw_tlb_attr(4, 30, 0x12, 8), g));
	assert_true(hw_tlb_find_attr(&t, 1, 0, 0x1fff, &pa, &attr));
	assert_int_equal(pa, 0xa000);
	assert_int_equal(attr, hw_tlb_attr(3, 12, 0x13, 9));
	assert_true(hw_tlb_find_attr(&t, 1, 0, 0x403fffff, &pa, &attr));
	assert_int_equal(pa, 0x80000000);
	assert_int_equal(hw_tlb_attr_shift(attr), 21);
	assert_true(hw_tlb_find_attr(&t, 1, 0, 0xbfffffff, &pa, &attr));
	assert_int_equal(pa, 0xc0000000);
	assert_int_equal(attr, hw_tlb_attr(4, 30, 0x12, 8));
	/* Absent at every size; other stream. */
	assert_false(hw_tlb_find_attr(&t, 1, 0, 0x40000000, &pa, &attr));
	assert_false(hw_tlb_find_attr(&t, 2, 0, 0x1000, &pa, &attr));
	assert_false(
		hw_tlb_find_sizes(&t, 1, 0, 0x1000, 1ull << 21, &pa, &attr));
	assert_true(hw_tlb_find_sizes(&t, 1, 0, 0x1000, t.shifts, &pa, &attr));
	assert_int_equal(pa, 0xa000);
	hw_tlb_fini(&t);
}

/* A probe of a set a writer holds (odd sequence) says "try again", hit or
 * miss; a stable set answers. */
static void test_probe_retry_signal(void **state)
{
	struct hw_tlb t;
	struct hw_tlb_set *s;
	uint64_t pa = 0, attr = 0;

	assert_int_equal(hw_tlb_init(&t, 64), 0);
	assert_true(hw_tlb_insert_attr(&t, 0x5000, 0xb000, 7, 0,
				       hw_tlb_attr(0, 12, 1, 0),
				       hw_tlb_gen(&t)));
	s = hw_tlb_set_of(&t, 7, 0, 0x5000, 12);
	assert_int_equal(hw_tlb_probe_once(&t, 7, 0, 0x5000, 12, &pa, &attr),
			 1);
	assert_int_equal(pa, 0xb000);
	hw_tlb_set_lock(s);
	assert_int_equal(hw_tlb_probe_once(&t, 7, 0, 0x5000, 12, &pa, &attr),
			 -1);
	assert_int_equal(hw_tlb_probe_set(s, hw_tlb_key(7, 0), 0x6000, 12, &pa,
					  &attr),
			 -1);
	hw_tlb_set_unlock(s);
	assert_int_equal(hw_tlb_probe_set(s, hw_tlb_key(7, 0), 0x6000, 12, &pa,
					  &attr),
			 0);
	assert_false(s->seq & 1);
	hw_tlb_fini(&t);
}

/* A fill into the set a probe looked at is found by every lookup form,
 * replaces its own key, and follows the invalidation rule. */
static void test_insert_known_set(void **state)
{
	struct hw_tlb t;
	struct hw_tlb_entry e;
	struct hw_tlb_match m = { .fields = HW_TLB_M_SID, .sid = 3 };
	const uint64_t key = hw_tlb_key(3, 1 | HW_TLB_SSID_VALID);
	struct hw_tlb_set *s;
	uint64_t g;

	assert_int_equal(hw_tlb_init(&t, 64), 0);
	s = hw_tlb_set_at(&t, hw_tlb_mix(key), 0x12345000, 12);
	assert_ptr_equal(s, hw_tlb_set_of(&t, 3, 1 | HW_TLB_SSID_VALID,
					  0x12345678, 12));
	g = hw_tlb_gen(&t);
	assert_true(hw_tlb_insert_set(&t, s, 0x12345678, 0x9000, key,
				      hw_tlb_attr(2, 12, 0x31, 5), g));
	assert_true(t.shifts & (1ull << 12));
	assert_true(
		hw_tlb_lookup(&t, 3, 1 | HW_TLB_SSID_VALID, 0x12345fff, &e));
	assert_int_equal(e.va, 0x12345001);
	assert_int_equal(e.pa, 0x9000);
	assert_int_equal(e.dom, 2);
	assert_int_equal(e.flags, 0x31);
	assert_int_equal(e.asid, 5);
	assert_true(hw_tlb_insert_set(&t, s, 0x12345000, 0xa000, key,
				      hw_tlb_attr(2, 12, 0x31, 5), g));
	assert_int_equal(hw_tlb_count(&t), 1);
	assert_true(
		hw_tlb_lookup(&t, 3, 1 | HW_TLB_SSID_VALID, 0x12345000, &e));
	assert_int_equal(e.pa, 0xa000);
	/* An invalidation since @g: refused, and it dropped the entry. */
	assert_int_equal(hw_tlb_invalidate(&t, &m), 1);
	assert_false(hw_tlb_insert_set(&t, s, 0x12345000, 0xb000, key,
				       hw_tlb_attr(2, 12, 0x31, 5), g));
	assert_int_equal(hw_tlb_count(&t), 0);
	assert_false(s->seq & 1);
	hw_tlb_fini(&t);
}

/* A full set evicts round robin. */
static void test_full_set_round_robin(void **state)
{
	struct hw_tlb t;
	struct hw_tlb_entry e;
	uint64_t va[5], found = 0, g;
	struct hw_tlb_set *s;

	assert_int_equal(hw_tlb_init(&t, 64), 0);
	s = hw_tlb_set_of(&t, 1, 0, 0, 12);
	/* Five pages of one set. */
	for (uint64_t p = 0; found < 5; p++)
		if (hw_tlb_set_of(&t, 1, 0, p << 12, 12) == s)
			va[found++] = p << 12;
	g = hw_tlb_gen(&t);
	for (unsigned i = 0; i < 5; i++)
		assert_true(hw_tlb_insert_attr(&t, va[i], 0x100000 * (i + 1), 1,
					       0, hw_tlb_attr(0, 12, 1, 0), g));
	assert_int_equal(hw_tlb_count(&t), 3);
	/* Ways 0 and 1 went to the 4th and 5th. */
	assert_false(hw_tlb_lookup(&t, 1, 0, va[0], &e));
	assert_false(hw_tlb_lookup(&t, 1, 0, va[1], &e));
	for (unsigned i = 2; i < 5; i++) {
		assert_true(hw_tlb_lookup(&t, 1, 0, va[i], &e));
		assert_int_equal(e.pa, 0x100000 * (i + 1));
	}
	assert_int_equal(s->e[0].pa, 0x400000);
	assert_int_equal(s->e[1].pa, 0x500000);
	hw_tlb_fini(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_neighbours_fill_every_way),
		cmocka_unit_test(test_attr_word),
		cmocka_unit_test(test_insert_size_bounds),
		cmocka_unit_test(test_find_attr_sizes),
		cmocka_unit_test(test_probe_retry_signal),
		cmocka_unit_test(test_insert_known_set),
		cmocka_unit_test(test_full_set_round_robin),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
