// SPDX-License-Identifier: MIT
/*
 * Scoped invalidation of the shared TLB (tlb.h: the directory, range
 * probes, bitmap visits): a randomized differential test against a list of
 * what was inserted, the directory's catch-all and freeing, the fill /
 * invalidation race on every path, and fills racing invalidations from
 * other threads.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>

#include "tlb_test.h"
#include "util/alloc.h"

#define S1 HW_TLB_S1
#define S2 HW_TLB_S2
#define G HW_TLB_GLOBAL
#define V HW_TLB_SSID_VALID

/* An entry whose output is derived from its input. */
static struct hw_tlb_entry mk(uint32_t sid, uint32_t ssid, uint64_t va,
			      unsigned shift, uint16_t dom, uint32_t asid,
			      uint8_t flags)
{
	return tlb_mk(sid, ssid, va, va ^ 0xabc000000000ull, shift, dom, asid,
		      flags);
}

static bool present(struct hw_tlb *t, const struct hw_tlb_entry *e)
{
	struct hw_tlb_entry o;

	return hw_tlb_probe(t, e->sid, e->ssid, e->va, e->shift, &o);
}

/* The reference: what entry_matches in tlb.c decides, restated. */
static bool ref_matches(const struct hw_tlb_entry *e,
			const struct hw_tlb_match *m)
{
	uint32_t f = m->fields;
	uint64_t last = e->va + ((1ull << e->shift) - 1);

	return (!(f & HW_TLB_M_SID) || e->sid == m->sid) &&
	       (!(f & HW_TLB_M_SSID) || e->ssid == m->ssid) &&
	       (!(f & HW_TLB_M_DOM) || e->dom == m->dom) &&
	       (!(f & HW_TLB_M_ASID) ||
		(!(e->flags & G) && e->asid == m->asid)) &&
	       (!(f & HW_TLB_M_FLAGS) || (e->flags & m->flags_any)) &&
	       (!(f & HW_TLB_M_RANGE) ||
		(last >= m->va_start && e->va <= m->va_last));
}

struct ref {
	struct hw_tlb_entry *e;
	unsigned n, cap;
};

static void ref_put(struct ref *r, struct hw_tlb_entry e)
{
	for (unsigned i = 0; i < r->n; i++) {
		struct hw_tlb_entry *x = &r->e[i];

		if (x->sid == e.sid && x->ssid == e.ssid && x->va == e.va &&
		    x->shift == e.shift) {
			*x = e; /* the insert replaced it */
			return;
		}
	}
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 256;
		r->e = realloc(r->e, r->cap * sizeof(*r->e));
		assert_non_null(r->e);
	}
	r->e[r->n++] = e;
}

/* Pools: streams, tags, sizes. @asids > 63 tuples overflow the directory. */
struct pools {
	unsigned asids;
	unsigned pages; /* 4K pages of the region addresses fall in */
};

static struct hw_tlb_entry rand_entry(struct test_rng *g, const struct pools *p)
{
	static const uint32_t sids[] = { 1, 2, 3, HW_TLB_SID_S2WC };
	static const uint32_t ssids[] = { 0, 1 | V, 2 | V };
	static const unsigned shifts[] = { 12, 12, 12, 12, 21, 30 };
	static const uint8_t flags[] = { S1 | 3, S1 | S2 | 1, S2 | 3,
					 S1 | G | 1, S1 | S2 | G | 2 };
	unsigned shift = shifts[test_rng_below(g, 6)];
	uint64_t va = test_rng_below(g, p->pages) << 12;

	va &= ~((1ull << shift) - 1);
	/* Now and then far up, where a range rarely reaches. */
	if (!test_rng_below(g, 8))
		va += 0x7f0000000000ull;
	return mk(sids[test_rng_below(g, 4)], ssids[test_rng_below(g, 3)], va,
		  shift, (uint16_t)(1 + test_rng_below(g, 3)),
		  (uint32_t)(5 + test_rng_below(g, p->asids)),
		  flags[test_rng_below(g, 5)]);
}

static struct hw_tlb_match rand_match(struct test_rng *g, const struct pools *p)
{
	struct hw_tlb_match m = { 0 };
	struct hw_tlb_entry e = rand_entry(g, p);
	uint64_t r = test_rng_next(g);

	/* Each field named with probability 1/2 (the range 3/4). */
	m.fields = (uint32_t)(r & 0x2f) | (r & 0x300 ? HW_TLB_M_RANGE : 0);
	m.sid = e.sid;
	m.ssid = e.ssid;
	m.dom = e.dom;
	m.asid = e.asid;
	m.flags_any = (uint8_t[]){ S1, S2, G, S1 | G, 1 }[r >> 10 & 3];
	switch (r >> 12 & 7) {
	case 0: /* one address */
		m.va_start = m.va_last = e.va + test_rng_below(g, 4096);
		break;
	case 1: /* everything */
		m.va_start = 0;
		m.va_last = UINT64_MAX;
		break;
	case 2: /* more blocks than a probe takes */
		m.va_start = e.va;
		m.va_last = e.va + (256ull << 12) - 1;
		break;
	case 3: /* inverted: matches blocks holding both ends */
		m.va_start = e.va + 1;
		m.va_last = e.va;
		break;
	default: /* 1-16 pages */
		m.va_start = e.va;
		m.va_last = e.va + ((1 + test_rng_below(g, 16)) << 12) - 1;
		break;
	}
	return m;
}

/*
 * After every invalidation every entry it matches is gone and every other
 * entry present before is still there (the implementation drops exactly
 * the matching entries, though the contract allows more), and the count
 * agrees with the reference.
 */
static void differential(unsigned entries, const struct pools *p,
			 unsigned rounds, uint64_t seed)
{
	struct test_rng g;
	struct hw_tlb t;
	struct ref r = { 0 };
	bool *before;
	unsigned kept = 0, dropped = 0;

	test_rng_seed(&g, seed);
	assert_int_equal(hw_tlb_init(&t, entries), 0);
	before = calloc(1, sizeof(bool));
	for (unsigned round = 0; round < rounds; round++) {
		unsigned fills = (unsigned)test_rng_below(&g, 24), n, hits;
		struct hw_tlb_match m;

		for (unsigned i = 0; i < fills; i++) {
			struct hw_tlb_entry e = rand_entry(&g, p);

			tlb_insert(&t, e);
			ref_put(&r, e);
		}
		if (!test_rng_below(&g, 200)) {
			hw_tlb_flush(&t);
			r.n = 0;
			assert_int_equal(hw_tlb_count(&t), 0);
			continue;
		}
		before = realloc(before, (r.n + 1) * sizeof(bool));
		assert_non_null(before);
		for (unsigned i = 0; i < r.n; i++)
			before[i] = present(&t, &r.e[i]);
		m = rand_match(&g, p);
		n = hw_tlb_invalidate(&t, &m);
		hits = 0;
		for (unsigned i = 0; i < r.n;) {
			bool now = present(&t, &r.e[i]);

			if (ref_matches(&r.e[i], &m)) {
				if (now)
					fail_msg("seed %llu round %u: entry %u "
						 "(sid %#x ssid %#x va %#llx "
						 "shift %u dom %u asid %u "
						 "flags %#x) survived fields "
						 "%#x [%#llx, %#llx] path "
						 "%llu/%llu/%llu",
						 (unsigned long long)seed,
						 round, i, r.e[i].sid,
						 r.e[i].ssid,
						 (unsigned long long)r.e[i].va,
						 r.e[i].shift, r.e[i].dom,
						 r.e[i].asid, r.e[i].flags,
						 m.fields,
						 (unsigned long long)m.va_start,
						 (unsigned long long)m.va_last,
						 (unsigned long long)
							 t.inv_paths[0],
						 (unsigned long long)
							 t.inv_paths[1],
						 (unsigned long long)
							 t.inv_paths[2]);
				hits += before[i];
				r.e[i] = r.e[--r.n];
				before[i] = before[r.n];
				continue;
			}
			assert_int_equal(now, before[i]);
			kept += now;
			i++;
		}
		assert_int_equal(n, hits);
		dropped += n;
		hits = 0;
		for (unsigned i = 0; i < r.n; i++)
			hits += present(&t, &r.e[i]);
		assert_int_equal(hw_tlb_count(&t), hits);
	}
	/* Every way was taken, and something was kept and dropped. */
	assert_true(t.inv_paths[HW_TLB_INV_NONE] > 0);
	assert_true(t.inv_paths[HW_TLB_INV_PROBE] > 0);
	assert_true(t.inv_paths[HW_TLB_INV_VISIT] > 0);
	assert_true(kept > 0 && dropped > 0);
	free(before);
	free(r.e);
	hw_tlb_fini(&t);
}

static void test_differential(void **state)
{
	struct pools p = { .asids = 3, .pages = 1024 };

	(void)state;
	differential(4096, &p, 3000, 1);
	differential(48, &p, 3000, 2); /* evictions everywhere */
}

/* More tuples than the directory holds: the catch-all takes the rest and
 * every invalidation includes it (no range probes while it is in use). */
static void test_differential_overflow(void **state)
{
	struct pools p = { .asids = 40, .pages = 256 };

	(void)state;
	differential(4096, &p, 3000, 3);
}

/* Caches of more than 4096 sets: one bitmap bit covers a group. */
static void test_differential_grouped(void **state)
{
	struct pools p = { .asids = 3, .pages = 1024 };
	struct hw_tlb t;

	(void)state;
	assert_int_equal(hw_tlb_init(&t, 3 * 8192), 0);
	assert_int_equal(t.bm_gshift, 1);
	hw_tlb_fini(&t);
	differential(3 * 8192, &p, 1500, 4);
}

static unsigned inval(struct hw_tlb *t, struct hw_tlb_match m)
{
	return hw_tlb_invalidate(t, &m);
}

static uint64_t paths(struct hw_tlb *t, unsigned path)
{
	return t->inv_paths[path];
}

/* A range by ASID probes the range's sets only: an entry of the ASID
 * outside the range stays, the others of the range go, and an ASID or
 * stream that has nothing cached costs nothing. */
static void test_scoped_paths(void **state)
{
	struct hw_tlb t;
	struct hw_tlb_entry a = mk(1, 0, 0x1000, 12, 1, 5, S1 | 3);
	struct hw_tlb_entry b = mk(1, 0, 0x9000, 12, 1, 5, S1 | 3);
	struct hw_tlb_entry c = mk(2, 1 | V, 0x1000, 12, 1, 5, S1 | 3);
	struct hw_tlb_entry gl = mk(2, 1 | V, 0x2000, 12, 1, 0, S1 | G | 1);

	(void)state;
	assert_int_equal(hw_tlb_init(&t, 4096), 0);
	tlb_insert(&t, a);
	tlb_insert(&t, b);
	tlb_insert(&t, c);
	tlb_insert(&t, gl);
	assert_int_equal(inval(&t,
			       (struct hw_tlb_match){ .fields = HW_TLB_M_DOM |
								HW_TLB_M_ASID |
								HW_TLB_M_RANGE,
						      .dom = 1,
						      .asid = 5,
						      .va_start = 0x1000,
						      .va_last = 0x2fff }),
			 2);
	assert_int_equal(paths(&t, HW_TLB_INV_PROBE), 1);
	assert_false(present(&t, &a));
	assert_false(present(&t, &c));
	assert_true(present(&t, &b));
	assert_true(present(&t, &gl)); /* global: no ASID match */
	/* Another ASID, another stream, another domain: nothing to do. */
	assert_int_equal(inval(&t,
			       (struct hw_tlb_match){ .fields = HW_TLB_M_DOM |
								HW_TLB_M_ASID,
						      .dom = 1,
						      .asid = 6 }),
			 0);
	assert_int_equal(inval(&t,
			       (struct hw_tlb_match){ .fields = HW_TLB_M_SID,
						      .sid = 9 }),
			 0);
	assert_int_equal(inval(&t,
			       (struct hw_tlb_match){ .fields = HW_TLB_M_DOM,
						      .dom = 2 }),
			 0);
	assert_int_equal(paths(&t, HW_TLB_INV_NONE), 3);
	/* The globals of a range (TLBI_NH_VA's second half). */
	assert_int_equal(inval(&t,
			       (struct hw_tlb_match){ .fields = HW_TLB_M_DOM |
								HW_TLB_M_FLAGS |
								HW_TLB_M_RANGE,
						      .dom = 1,
						      .flags_any = G,
						      .va_start = 0x2000,
						      .va_last = 0x2000 }),
			 1);
	assert_int_equal(paths(&t, HW_TLB_INV_PROBE), 2);
	assert_true(present(&t, &b));
	/* A stream without a range visits the sets its bitmap names. */
	assert_int_equal(inval(&t,
			       (struct hw_tlb_match){ .fields = HW_TLB_M_SID,
						      .sid = 1 }),
			 1);
	assert_int_equal(paths(&t, HW_TLB_INV_VISIT), 1);
	assert_int_equal(hw_tlb_count(&t), 0);
	hw_tlb_fini(&t);
}

/* Block sizes: a 2M entry is found from any 4K page of it, through the
 * set its own block lives in. */
static void test_probe_sizes(void **state)
{
	struct hw_tlb t;
	struct hw_tlb_entry big = mk(1, 0, 0x40000000, 30, 1, 5, S1 | 3);
	struct hw_tlb_entry mid = mk(1, 0, 0x200000, 21, 1, 5, S1 | 3);
	struct hw_tlb_entry small = mk(1, 0, 0x5000, 12, 1, 5, S1 | 3);

	(void)state;
	assert_int_equal(hw_tlb_init(&t, 4096), 0);
	tlb_insert(&t, big);
	tlb_insert(&t, mid);
	tlb_insert(&t, small);
	assert_int_equal(inval(&t,
			       (struct hw_tlb_match){ .fields = HW_TLB_M_ASID |
								HW_TLB_M_RANGE,
						      .asid = 5,
						      .va_start = 0x3ff000,
						      .va_last = 0x3fffff }),
			 1);
	assert_false(present(&t, &mid));
	assert_int_equal(inval(&t,
			       (struct hw_tlb_match){ .fields = HW_TLB_M_ASID |
								HW_TLB_M_RANGE,
						      .asid = 5,
						      .va_start = 0x7ffff000,
						      .va_last = 0x80000fff }),
			 1);
	assert_false(present(&t, &big));
	assert_true(present(&t, &small));
	assert_int_equal(paths(&t, HW_TLB_INV_PROBE), 2);
	/* The top of the address space: no block index wraps. */
	tlb_insert(&t, mk(1, 0, 0xffffffffc0000000ull, 30, 1, 5, S1));
	assert_int_equal(inval(&t,
			       (struct hw_tlb_match){ .fields = HW_TLB_M_RANGE,
						      .va_start = UINT64_MAX,
						      .va_last = UINT64_MAX }),
			 1);
	hw_tlb_fini(&t);
}

/* A whole-ASID invalidation that empties a tuple frees its slot: the
 * next one for that ASID returns at once; a later fill registers again
 * and is found. */
static void test_slot_freed(void **state)
{
	struct hw_tlb t;
	struct hw_tlb_entry a = mk(1, 0, 0x1000, 12, 1, 5, S1 | 3);
	struct hw_tlb_match m = { .fields = HW_TLB_M_DOM | HW_TLB_M_ASID,
				  .dom = 1,
				  .asid = 5 };

	(void)state;
	assert_int_equal(hw_tlb_init(&t, 256), 0);
	for (uint64_t i = 0; i < 40; i++)
		tlb_insert(&t, mk(1, 0, i << 12, 12, 1, 5, S1 | 3));
	assert_int_equal(__builtin_popcountll(t.dir.used), 1);
	assert_int_equal(inval(&t, m), 40);
	assert_int_equal(paths(&t, HW_TLB_INV_VISIT), 1);
	assert_int_equal(t.dir.used, 0);
	for (uint32_t w = 0; w < t.bm_words * HW_TLB_DIR_SLOTS; w++)
		assert_int_equal(t.bm[w], 0);
	assert_int_equal(inval(&t, m), 0);
	assert_int_equal(paths(&t, HW_TLB_INV_NONE), 1);
	tlb_insert(&t, a);
	assert_int_equal(inval(&t, m), 1);
	assert_false(present(&t, &a));
	hw_tlb_fini(&t);
}

/* The directory slot of ASID @asid's tuple. */
static unsigned slot_of(struct hw_tlb *t, uint32_t asid)
{
	for (uint64_t u = t->dir.used; u; u &= u - 1) {
		unsigned i = (unsigned)__builtin_ctzll(u);

		if (hw_tlb_attr_asid(t->dir.s[i].tag) == asid)
			return i;
	}
	fail_msg("no slot for ASID %u", asid);
	return 0;
}

/* Evicted entries leave stale bitmap bits; the visit that finds them
 * clears them and frees the slot. */
static void test_stale_bits_cleared(void **state)
{
	struct hw_tlb t;
	struct hw_tlb_match m = { .fields = HW_TLB_M_ASID, .asid = 5 };

	(void)state;
	assert_int_equal(hw_tlb_init(&t, 3), 0); /* one set */
	tlb_insert(&t, mk(1, 0, 0x1000, 12, 1, 5, S1));
	for (uint64_t i = 0; i < 3; i++) /* evict it */
		tlb_insert(&t, mk(2, 0, i << 12, 12, 1, 6, S1));
	assert_int_equal(__builtin_popcountll(t.dir.used), 2);
	assert_int_equal(t.bm[slot_of(&t, 5)] & 1, 1); /* stale */
	assert_int_equal(inval(&t, m), 0);
	assert_int_equal(__builtin_popcountll(t.dir.used), 1);
	assert_int_equal(inval(&t, m), 0);
	assert_int_equal(paths(&t, HW_TLB_INV_NONE), 1);
	assert_int_equal(hw_tlb_count(&t), 3);
	hw_tlb_fini(&t);
}

/* 63 tuples fill the directory; more go to the catch-all, which every
 * invalidation includes until a visit finds it empty. */
static void test_directory_overflow(void **state)
{
	struct hw_tlb t;
	struct hw_tlb_entry e[100];

	(void)state;
	assert_int_equal(hw_tlb_init(&t, 4096), 0);
	for (unsigned i = 0; i < 100; i++) {
		e[i] = mk(1 + i % 3, 0, (uint64_t)i << 12, 12, 1, 100 + i, S1);
		tlb_insert(&t, e[i]);
	}
	assert_int_equal(t.dir.used, ~0ull >> 1);
	assert_int_equal(t.dir.ovf, 1);
	/* A range by ASID cannot probe: the catch-all's keys are unknown. */
	assert_int_equal(inval(&t,
			       (struct hw_tlb_match){ .fields = HW_TLB_M_ASID |
								HW_TLB_M_RANGE,
						      .asid = 190,
						      .va_start = 90 << 12,
						      .va_last = 90 << 12 }),
			 1);
	assert_int_equal(paths(&t, HW_TLB_INV_VISIT), 1);
	assert_false(present(&t, &e[90]));
	/* An ASID that was never cached is still looked for. */
	assert_int_equal(inval(&t,
			       (struct hw_tlb_match){ .fields = HW_TLB_M_ASID,
						      .asid = 1000 }),
			 0);
	assert_int_equal(paths(&t, HW_TLB_INV_NONE), 0);
	for (unsigned i = 0; i < 100; i++)
		assert_int_equal(present(&t, &e[i]), i != 90);
	/* Emptying the cache by domain frees every slot and the
	 * catch-all. */
	assert_int_equal(inval(&t,
			       (struct hw_tlb_match){ .fields = HW_TLB_M_DOM,
						      .dom = 1 }),
			 99);
	assert_int_equal(t.dir.used, 0);
	assert_int_equal(t.dir.ovf, 0);
	assert_int_equal(inval(&t,
			       (struct hw_tlb_match){ .fields = HW_TLB_M_ASID,
						      .asid = 1000 }),
			 0);
	assert_int_equal(paths(&t, HW_TLB_INV_NONE), 1);
	/* A flush empties the directory too. */
	for (unsigned i = 0; i < 100; i++)
		tlb_insert(&t, e[i]);
	assert_int_equal(t.dir.ovf, 1);
	hw_tlb_flush(&t);
	assert_int_equal(t.dir.used, 0);
	assert_int_equal(t.dir.ovf, 0);
	assert_int_equal(t.shifts, 0);
	tlb_insert(&t, e[0]);
	assert_int_equal(inval(&t,
			       (struct hw_tlb_match){ .fields = HW_TLB_M_ASID |
								HW_TLB_M_RANGE,
						      .asid = 100,
						      .va_start = 0,
						      .va_last = 0 }),
			 1);
	assert_int_equal(paths(&t, HW_TLB_INV_PROBE), 1);
	hw_tlb_fini(&t);
}

/* A fill that walked before an invalidation is refused whichever way the
 * invalidation went, including one that found nothing to do. */
static void test_fill_refused_every_path(void **state)
{
	static const struct hw_tlb_match ms[] = {
		{ .fields = HW_TLB_M_ASID, .asid = 77 }, /* none */
		{ .fields = HW_TLB_M_ASID | HW_TLB_M_RANGE,
		  .asid = 5,
		  .va_start = 0x1000,
		  .va_last = 0x1fff }, /* probe */
		{ .fields = HW_TLB_M_ASID, .asid = 5 }, /* visit + free */
	};
	struct hw_tlb t;
	struct hw_tlb_entry e = mk(1, 0, 0x1000, 12, 1, 5, S1);

	(void)state;
	assert_int_equal(hw_tlb_init(&t, 64), 0);
	for (unsigned i = 0; i < 3; i++) {
		uint64_t gen;

		tlb_insert(&t, mk(1, 0, 0x1000, 12, 1, 5, S1));
		gen = hw_tlb_gen(&t);
		inval(&t, ms[i]);
		assert_int_equal(paths(&t, i), 1);
		assert_false(hw_tlb_insert(&t, &e, gen));
	}
	assert_int_equal(hw_tlb_count(&t), 0);
	hw_tlb_fini(&t);
}

static void test_init_nomem(void **state)
{
	struct hw_tlb t;

	(void)state;
	for (unsigned long n = 1; n <= 2; n++) {
		fault_inject_nth(n);
		assert_int_equal(hw_tlb_init(&t, 4096), -ENOMEM);
		fault_inject_nth(0);
	}
	assert_int_equal(hw_tlb_init(&t, 4096), 0);
	hw_tlb_fini(&t);
}

/*
 * Fillers walk "tables" (a shared epoch: the output of page 0x1000 of
 * stream 1) and fill, taking the generation first, while churning the
 * directory with tuples of other ASIDs; a writer changes the tables and
 * invalidates, by each path in turn and with flushes, then publishes the
 * epoch it invalidated, while another thread invalidates too. No lookup
 * after that may find an older output.
 */
struct race {
	struct hw_tlb t;
	uint64_t tables, checked;
	bool stop;
	unsigned bad, fills, churns;
};

static void *filler(void *arg)
{
	struct race *r = arg;
	struct test_rng g;

	test_rng_seed(&g, (uint64_t)(uintptr_t)&g);
	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		uint64_t before =
			__atomic_load_n(&r->checked, __ATOMIC_SEQ_CST);
		uint64_t gen = hw_tlb_gen(&r->t);
		uint64_t ep = __atomic_load_n(&r->tables, __ATOMIC_SEQ_CST);
		struct hw_tlb_entry e = mk(1, 0, 0x1000, 12, 1, 5, S1);
		struct hw_tlb_entry o =
			mk(2 + (uint32_t)test_rng_below(&g, 4), 0,
			   test_rng_below(&g, 64) << 12, 12, 1,
			   (uint32_t)(6 + test_rng_below(&g, 80)), S1);

		e.pa = ep << 12;
		if (hw_tlb_insert(&r->t, &e, gen))
			__atomic_add_fetch(&r->fills, 1, __ATOMIC_RELAXED);
		hw_tlb_insert(&r->t, &o, hw_tlb_gen(&r->t));
		if (hw_tlb_lookup(&r->t, 1, 0, 0x1000, &e) &&
		    (e.pa >> 12) < before)
			__atomic_add_fetch(&r->bad, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

/* Invalidations of every scope from another thread at the same time:
 * they free and re-register slots under the fillers and the writer. */
static void *churner(void *arg)
{
	struct race *r = arg;
	struct test_rng g;

	test_rng_seed(&g, 7);
	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		struct hw_tlb_match m = { .dom = 1, .asid = 5 };

		switch (test_rng_below(&g, 4)) {
		case 0:
			m.fields = HW_TLB_M_ASID;
			m.asid = (uint32_t)(6 + test_rng_below(&g, 80));
			break;
		case 1:
			m.fields = HW_TLB_M_SID;
			m.sid = (uint32_t)(2 + test_rng_below(&g, 4));
			break;
		case 2:
			m.fields = HW_TLB_M_DOM | HW_TLB_M_ASID |
				   HW_TLB_M_RANGE;
			m.va_start = 0x1000;
			m.va_last = 0x1fff;
			break;
		default:
			m.fields = HW_TLB_M_RANGE;
			m.va_start = test_rng_below(&g, 64) << 12;
			m.va_last = m.va_start + 0xfff;
			break;
		}
		hw_tlb_invalidate(&r->t, &m);
		__atomic_add_fetch(&r->churns, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void test_fill_races_invalidation(void **state)
{
	static const struct hw_tlb_match ms[] = {
		{ .fields = HW_TLB_M_DOM | HW_TLB_M_ASID | HW_TLB_M_RANGE,
		  .dom = 1,
		  .asid = 5,
		  .va_start = 0x1000,
		  .va_last = 0x1fff },
		{ .fields = HW_TLB_M_DOM | HW_TLB_M_ASID, .dom = 1, .asid = 5 },
		{ .fields = HW_TLB_M_SID, .sid = 1 },
		{ .fields = HW_TLB_M_RANGE, .va_start = 0, .va_last = 0x1000 },
	};
	struct race r = { 0 };
	pthread_t th[3];

	(void)state;
	test_watchdog(300, "test_fill_races_invalidation");
	assert_int_equal(hw_tlb_init(&r.t, 256), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&th[i], NULL, filler, &r), 0);
	assert_int_equal(pthread_create(&th[2], NULL, churner, &r), 0);
	for (uint64_t ep = 1; ep < 10000; ep++) {
		__atomic_store_n(&r.tables, ep, __ATOMIC_SEQ_CST);
		if (ep % 97 == 0)
			hw_tlb_flush(&r.t);
		else
			hw_tlb_invalidate(&r.t, &ms[ep % 4]);
		__atomic_store_n(&r.checked, ep, __ATOMIC_SEQ_CST);
		/* Let a fill in now and then (bounded: no fill is no
		 * error of the cache's). */
		for (unsigned k = 0,
			      f = __atomic_load_n(&r.fills, __ATOMIC_RELAXED);
		     k < 20000 &&
		     f == __atomic_load_n(&r.fills, __ATOMIC_RELAXED);
		     k++)
			__builtin_ia32_pause();
	}
	__atomic_store_n(&r.stop, true, __ATOMIC_RELEASE);
	for (int i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	test_watchdog_stop();
	assert_int_equal(r.bad, 0);
	assert_true(r.fills > 0);
	assert_true(r.churns > 0);
	hw_tlb_fini(&r.t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_differential),
		cmocka_unit_test(test_differential_overflow),
		cmocka_unit_test(test_differential_grouped),
		cmocka_unit_test(test_scoped_paths),
		cmocka_unit_test(test_probe_sizes),
		cmocka_unit_test(test_slot_freed),
		cmocka_unit_test(test_stale_bits_cleared),
		cmocka_unit_test(test_directory_overflow),
		cmocka_unit_test(test_fill_refused_every_path),
		cmocka_unit_test(test_init_nomem),
		cmocka_unit_test(test_fill_races_invalidation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
