// SPDX-License-Identifier: MIT
/* The range tree under IOAS areas, against a brute-force model. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/itree.h"
#include "test_util.h"

#define SLOTS 512 /* the model: slot i is the range [i * 16, i * 16 + len) */

struct model {
	struct itree_node node[SLOTS];
	bool in[SLOTS];
};

static void check(struct itree *t, struct model *m, struct test_rng *r)
{
	size_t count = 0;
	struct itree_node *prev = NULL;

	/* In-order walk = the model's present slots in order. */
	for (struct itree_node *n = itree_first(t); n; n = itree_next(t, n)) {
		size_t i = (size_t)(n - m->node);

		assert_true(i < SLOTS && m->in[i]);
		if (prev)
			assert_true(prev->start < n->start);
		prev = n;
		count++;
	}
	assert_int_equal(count, t->count);
	/* Random overlap queries. */
	for (int q = 0; q < 20; q++) {
		uint64_t a = test_rng_below(r, SLOTS * 16 + 32);
		uint64_t b = a + test_rng_below(r, 200);
		struct itree_node *want = NULL, *got;

		for (size_t i = 0; i < SLOTS && !want; i++) {
			if (m->in[i] && m->node[i].start <= b &&
			    m->node[i].last >= a)
				want = &m->node[i];
		}
		got = itree_iter_first(t, a, b);
		assert_ptr_equal(got, want);
		/* iter_next visits the rest of the overlapping ones */
		while (got) {
			struct itree_node *n2 = itree_iter_next(t, got, b);
			struct itree_node *w2 = NULL;

			for (size_t i = (size_t)(got - m->node) + 1;
			     i < SLOTS && !w2; i++) {
				if (m->in[i] && m->node[i].start <= b &&
				    m->node[i].last >= a)
					w2 = &m->node[i];
			}
			assert_ptr_equal(n2, w2);
			got = n2;
		}
	}
}

static void test_itree_random(void **state)
{
	struct model *m = calloc(1, sizeof(*m));
	struct itree t = { 0 };
	struct test_rng r;

	test_rng_seed(&r, 0x1ee7);
	for (size_t i = 0; i < SLOTS; i++) {
		m->node[i].start = i * 16;
		m->node[i].last = i * 16 + 1 + (i % 15);
	}
	for (int step = 0; step < 4000; step++) {
		size_t i = test_rng_below(&r, SLOTS);

		if (m->in[i])
			itree_remove(&t, &m->node[i]);
		else
			itree_insert(&t, &m->node[i]);
		m->in[i] = !m->in[i];
		if (step % 50 == 0)
			check(&t, m, &r);
	}
	check(&t, m, &r);
	/* Balanced: height stays logarithmic. */
	assert_true(t.root == NULL || t.root->height <= 14);
	for (size_t i = 0; i < SLOTS; i++) {
		if (m->in[i])
			itree_remove(&t, &m->node[i]);
	}
	assert_null(itree_first(&t));
	assert_int_equal(t.count, 0);
	free(m);
}

static void test_itree_edges(void **state)
{
	struct itree t = { 0 };
	struct itree_node a = { .start = 0, .last = 9 };
	struct itree_node b = { .start = UINT64_MAX - 9, .last = UINT64_MAX };

	assert_null(itree_iter_first(&t, 0, UINT64_MAX));
	itree_insert(&t, &b);
	itree_insert(&t, &a);
	assert_ptr_equal(itree_iter_first(&t, 0, 0), &a);
	assert_ptr_equal(itree_iter_first(&t, 5, UINT64_MAX), &a);
	assert_ptr_equal(itree_iter_first(&t, 10, UINT64_MAX), &b);
	assert_ptr_equal(itree_iter_first(&t, UINT64_MAX, UINT64_MAX), &b);
	assert_null(itree_iter_first(&t, 10, UINT64_MAX - 10));
	assert_ptr_equal(itree_next(&t, &a), &b);
	assert_null(itree_next(&t, &b));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_itree_random),
		cmocka_unit_test(test_itree_edges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
