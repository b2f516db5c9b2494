// SPDX-License-Identifier: MIT
/*
 * pt_init/map/unmap/for_each/dirty contracts for every configuration:
 * geometry, block promotion, every documented errno, all-or-nothing under
 * allocation failure (no change, no leak), splitting, gathering, dirty
 * bitmaps, walks racing with map/unmap, and granule leaves written in
 * place.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "pt_test.h"
#include "util/alloc.h"

#define R PT_PROT_READ
#define W PT_PROT_WRITE
#define X PT_PROT_EXEC

static struct guest G;

/* Host tables when the OAS can hold host addresses, else guest RAM. */
static void mk_case(struct pt *pt, const struct pt_cfg *c, bool guest)
{
	struct pt_mem m = { 0 };

	if (guest || c->oas < 48)
		m = guest_mem(&G);
	assert_int_equal(pt_init(pt, c, m), 0);
}

static uint64_t gran(const struct pt *pt)
{
	return 1ull << pt->cfg.granule_shift;
}

/* Largest leaf size of the table that is smaller than a quarter of the
 * input range (room to place it a few times). */
static uint64_t big_leaf(const struct pt *pt)
{
	uint64_t s = pt_leaf_sizes(pt), best = gran(pt);

	while (s) {
		uint64_t b = s & -s;

		if (b < pt_input_size(pt) / 4)
			best = b;
		s &= s - 1;
	}
	return best;
}

/* Bytes held: pool for host tables, allocations for guest ones. */
static size_t held(const struct pt *pt)
{
	if (pt->mem.ops)
		return (size_t)(G.allocs - G.frees);
	return pool_in_use();
}

static int walk(const struct pt *pt, uint64_t iova, unsigned flags,
		struct pt_walk *w)
{
	memset(w, 0, sizeof(*w));
	return pt_walk(pt, iova, flags, w);
}

/* ---- configuration ---- */

static void test_init_errors(void **state)
{
	static const struct {
		enum pt_format f;
		unsigned g, ias, oas;
		int sl;
		uint32_t flags;
		uint64_t bm;
	} bad[] = {
		{ PT_FMT_COUNT, 12, 48, 48, -1, 0, 0 },
		{ PT_FMT_ARM_S1, 13, 48, 48, -1, 0, 0 },
		{ PT_FMT_ARM_S1, 12, 49, 48, -1, 0, 0 },
		{ PT_FMT_ARM_S1, 12, 24, 48, -1, 0, 0 },
		{ PT_FMT_ARM_S1, 12, 48, 52, -1, 0, 0 }, /* 52 needs 64K */
		{ PT_FMT_ARM_S1, 12, 48, 31, -1, 0, 0 },
		{ PT_FMT_ARM_S1, 12, 48, 48, -1, 1u << 9, 0 },
		{ PT_FMT_ARM_S1, 12, 48, 48, -1, 0, 1ull << 21 }, /* no 4K */
		{ PT_FMT_ARM_S2, 12, 40, 40, 0, 0, 0 }, /* 4K L3 start */
		{ PT_FMT_ARM_S2, 12, 48, 48, 4, 0, 0 },
		{ PT_FMT_ARM_S2, 14, 48, 48, 3, 0, 0 }, /* 16K L0 start */
		{ PT_FMT_ARM_S2, 12, 44, 48, 2, 0, 0 }, /* 32 tables */
		{ PT_FMT_ARM_S2, 12, 30, 48, 2, 0, 0 }, /* nothing to index */
		{ PT_FMT_X86_64, 12, 39, 48, -1, 0, 0 },
		{ PT_FMT_X86_64, 14, 48, 48, -1, 0, 0 },
		{ PT_FMT_X86_64, 12, 48, 53, -1, 0, 0 },
		{ PT_FMT_VTD_SS, 12, 40, 48, -1, 0, 0 },
	};
	struct pt pt;
	unsigned i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct pt_cfg c = pt_cfg_make(bad[i].f, bad[i].g, bad[i].ias,
					      bad[i].oas, bad[i].sl,
					      bad[i].flags);

		c.pgsize_bitmap = bad[i].bm;
		memset(&pt, 0xa5, sizeof(pt));
		assert_int_equal(pt_init(&pt, &c, (struct pt_mem){ 0 }),
				 -EINVAL);
		assert_null(pt.ops);
		pt_destroy(&pt); /* harmless after a failed init */
		assert_int_equal(pt_attach(&pt, &c, (struct pt_mem){ 0 }, 0),
				 -EINVAL);
	}
	/* an accessor needs table(), and alloc() to init */
	{
		struct pt_cfg c = pt_cfg_make(PT_FMT_X86_64, 12, 48, 48, -1, 0);
		struct pt_mem_ops noalloc = {
			.table = guest_mem(&G).ops->table
		};

		assert_int_equal(
			pt_init(&pt, &c,
				(struct pt_mem){ .ops = &noalloc, .ctx = &G }),
			-EINVAL);
		G.fail_alloc = true;
		assert_int_equal(pt_init(&pt, &c, guest_mem(&G)), -ENOMEM);
		G.fail_alloc = false;
		/* pool failure */
		fault_inject_nth(1);
		assert_int_equal(pt_init(&pt, &c, (struct pt_mem){ 0 }),
				 -ENOMEM);
		fault_inject_nth(0);
	}
}

static void test_geometry(void **state)
{
	unsigned i;

	for (i = 0; i < pt_ncases; i++) {
		const struct pt_cfg *c = &pt_cases[i].cfg;
		struct pt pt;
		uint64_t sizes;
		unsigned g = c->granule_shift, l;

		mk_case(&pt, c, false);
		assert_int_equal(pt_input_size(&pt), 1ull << c->ias);
		assert_int_equal(pt.root & (pt.root_size - 1), 0);
		/* start table(s) resolve exactly ias bits */
		assert_int_equal((uint64_t)pt.root_size / 8
					 << (g + pt.start_level * (g - 3)),
				 1ull << c->ias);
		assert_int_equal(pt.concat, pt.root_size > (1u << g) ?
						    pt.root_size >> g :
						    1);
		sizes = pt_leaf_sizes(&pt);
		assert_true(sizes & (1ull << g));
		for (l = 0; l <= pt.start_level; l++) {
			int a = pt_arch_level(&pt, l);

			if (c->fmt == PT_FMT_ARM_S1 || c->fmt == PT_FMT_ARM_S2)
				assert_int_equal(a, 3 - (int)l);
			else
				assert_int_equal(a, 1 + (int)l);
		}
		/* no leaf above the start level, none at arch level 0 */
		assert_int_equal(sizes >> (g + pt.start_level * (g - 3)) >> 1,
				 0);
		if (g == 12 && c->fmt <= PT_FMT_ARM_S2)
			assert_false(sizes & (1ull << 39));
		pt_destroy(&pt);
	}
}

/* ---- map ---- */

/* Greedy largest-leaf decomposition, as map must produce it. */
static unsigned expect_leaves(uint64_t sizes, uint64_t iova, uint64_t pa,
			      uint64_t size, uint64_t (*out)[2])
{
	unsigned n = 0;

	while (size) {
		uint64_t s = sizes, best = 0;

		while (s) {
			uint64_t b = s & -s;

			if (!((iova | pa) & (b - 1)) && b <= size)
				best = b;
			s &= s - 1;
		}
		if (n < 64) {
			out[n][0] = iova;
			out[n][1] = best;
		}
		n++;
		iova += best;
		pa += best;
		size -= best;
	}
	return n;
}

static void test_block_promotion(void **state)
{
	unsigned i;

	for (i = 0; i < pt_ncases; i++) {
		struct pt pt;
		struct pt_dump d;
		uint64_t exp[64][2], L, g, iova, size, U;
		unsigned n, k;

		mk_case(&pt, &pt_cases[i].cfg, false);
		L = big_leaf(&pt);
		g = gran(&pt);
		/* pages up to a block boundary, blocks, pages after */
		iova = L > g ? L - 3 * g : 4 * g;
		size = 3 * g + 2 * L + 2 * g;
		assert_int_equal(pt_map(&pt, iova, iova + L, size, R | W, 0),
				 0);
		n = expect_leaves(pt_leaf_sizes(&pt), iova, iova + L, size,
				  exp);
		pt_dump_take(&pt, &d);
		assert_int_equal(d.n, n);
		for (k = 0; k < n && k < 64; k++) {
			assert_int_equal(d.e[k][0], exp[k][0]);
			assert_int_equal(d.e[k][1], exp[k][0] + L);
			assert_int_equal(d.e[k][2], exp[k][1]);
		}
		pt_dump_free(&d);
		/* output misaligned to the blocks: only smallest leaves */
		U = L > g ? L : 64 * g;
		iova = 8 * U;
		size = L > 512 * g ? 1024 * g : 2 * L;
		assert_int_equal(pt_map(&pt, iova, iova + g, size, R, 0), 0);
		pt_dump_take(&pt, &d);
		assert_int_equal(d.n, n + size / g);
		pt_dump_free(&d);
		/* a restricted bitmap is honoured */
		iova = 12 * U;
		assert_int_equal(pt_map(&pt, iova, iova, L, R, g), 0);
		{
			struct pt_walk w;

			assert_int_equal(walk(&pt, iova + L - 1, 0, &w), 0);
			assert_int_equal(w.leaf_shift, pt.cfg.granule_shift);
		}
		pt_destroy(&pt);
	}
}

static void test_map_errors(void **state)
{
	unsigned i;

	for (i = 0; i < pt_ncases; i++) {
		struct pt pt;
		struct pt_dump a, b;
		uint64_t g, L, top, max_oa;
		size_t h;

		mk_case(&pt, &pt_cases[i].cfg, i & 1);
		g = gran(&pt);
		L = big_leaf(&pt);
		top = pt_input_size(&pt);
		max_oa = 1ull << pt.cfg.oas;
		assert_int_equal(pt_map(&pt, 4 * L, 0, L, R | W, 0), 0);
		assert_int_equal(pt_map(&pt, 4 * L + L, 0, g, R | W, 0), 0);
		pt_dump_take(&pt, &a);
		h = held(&pt);

		assert_int_equal(pt_map(&pt, 0, 0, 0, R, 0), -EINVAL);
		assert_int_equal(pt_map(&pt, g / 2, 0, g, R, 0), -EINVAL);
		assert_int_equal(pt_map(&pt, 0, g / 2, g, R, 0), -EINVAL);
		assert_int_equal(pt_map(&pt, 0, 0, g + g / 2, R, 0), -EINVAL);
		assert_int_equal(pt_map(&pt, 0, 0, g, R | (1u << 7), 0),
				 -EINVAL);
		/* no leaf size in common with the table's */
		assert_int_equal(pt_map(&pt, 0, 0, g, R, 1ull << 13), -EINVAL);
		/* beyond the input range, wrapping, output beyond oas */
		assert_int_equal(pt_map(&pt, top - g, 0, 2 * g, R, 0),
				 -EOVERFLOW);
		assert_int_equal(pt_map(&pt, top, 0, g, R, 0), -EOVERFLOW);
		assert_int_equal(pt_map(&pt, -g, 0, 2 * g, R, 0), -EOVERFLOW);
		assert_int_equal(pt_map(&pt, 0, max_oa - g, 2 * g, R, 0),
				 -EOVERFLOW);
		assert_int_equal(pt_map(&pt, 0, -g, 2 * g, R, 0), -EOVERFLOW);
		/* overlap: partly, inside a block, covering, single page */
		assert_int_equal(pt_map(&pt, 4 * L - g, 0, 2 * g, R, 0),
				 -EEXIST);
		assert_int_equal(pt_map(&pt, 4 * L + g, 0, g, R, 0), -EEXIST);
		assert_int_equal(pt_map(&pt, 3 * L, 0, 3 * L, R, 0), -EEXIST);
		assert_int_equal(pt_map(&pt, 4 * L, 0, L, R, 0), -EEXIST);
		assert_int_equal(pt_map(&pt, 5 * L, 0, g, R, 0), -EEXIST);
		/* VT-d SS: a mapping with no permission would be absent */
		if (pt.cfg.fmt == PT_FMT_VTD_SS)
			assert_int_equal(pt_map(&pt, 0, 0, g, 0, 0), -EINVAL);
		pt_dump_take(&pt, &b);
		assert_true(pt_dump_equal(&a, &b));
		assert_int_equal(held(&pt), h);
		/* the top page of the input range is fine */
		assert_int_equal(pt_map(&pt, top - g, max_oa - g, g, R, 0), 0);
		pt_dump_free(&a);
		pt_dump_free(&b);
		pt_destroy(&pt);
	}
}

/* Every allocation of a map fails in turn: nothing changes, nothing
 * leaks; then it succeeds. */
static void enomem_map(struct pt *pt, uint64_t iova, uint64_t pa, uint64_t size)
{
	struct pt_dump a, b;
	size_t h = held(pt);
	unsigned long nth;
	int ret, seen = 0;

	pt_dump_take(pt, &a);
	for (nth = 1;; nth++) {
		fault_inject_nth(nth);
		ret = pt_map(pt, iova, pa, size, R | W, 0);
		fault_inject_nth(0);
		if (!ret)
			break;
		assert_int_equal(ret, -ENOMEM);
		seen++;
		pt_dump_take(pt, &b);
		assert_true(pt_dump_equal(&a, &b));
		pt_dump_free(&b);
		assert_int_equal(held(pt), h);
	}
	/* a one-level table never allocates */
	assert_true(seen > 0 || !pt->start_level);
	pt_dump_free(&a);
}

static void test_map_enomem(void **state)
{
	unsigned i;

	for (i = 0; i < pt_ncases; i++) {
		struct pt pt;
		uint64_t g, L;

		mk_case(&pt, &pt_cases[i].cfg, false);
		if (pt.mem.ops) {
			pt_destroy(&pt);
			continue; /* fault injection covers the pool */
		}
		g = gran(&pt);
		L = big_leaf(&pt);
		/* many tables (more than the on-stack list) */
		enomem_map(&pt, L > g ? L - 2 * g : 2 * g, 0,
			   2 * g + 2 * L + 9 * g);
		/* one page, new chain of tables */
		enomem_map(&pt, pt_input_size(&pt) / 2 + 7 * g, 0, g);
		pt_destroy(&pt);
	}
	/* accessor allocation failure */
	for (i = 0; i < pt_ncases; i++) {
		struct pt pt;
		struct pt_dump a, b;
		uint64_t g;

		mk_case(&pt, &pt_cases[i].cfg, true);
		g = gran(&pt);
		if (!pt.start_level) { /* nothing to allocate */
			pt_destroy(&pt);
			continue;
		}
		assert_int_equal(pt_map(&pt, 0, 0, g, R, 0), 0);
		pt_dump_take(&pt, &a);
		G.fail_alloc = true;
		assert_int_equal(pt_map(&pt, pt_input_size(&pt) / 2, 0, 3 * g,
					R, 0),
				 -ENOMEM);
		assert_int_equal(pt_map(&pt, pt_input_size(&pt) / 2, 0, g, R,
					0),
				 -ENOMEM);
		G.fail_alloc = false;
		pt_dump_take(&pt, &b);
		assert_true(pt_dump_equal(&a, &b));
		pt_dump_free(&a);
		pt_dump_free(&b);
		pt_destroy(&pt);
	}
}

/* ---- unmap ---- */

static void test_unmap_basic(void **state)
{
	unsigned i;

	for (i = 0; i < pt_ncases; i++) {
		struct pt pt;
		struct pt_walk w;
		uint64_t g, L, done, top;
		size_t h0;

		mk_case(&pt, &pt_cases[i].cfg, i & 1);
		g = gran(&pt);
		L = big_leaf(&pt);
		top = pt_input_size(&pt);
		h0 = held(&pt);
		/* holes */
		assert_int_equal(pt_unmap(&pt, 0, 16 * g, 0, NULL, &done), 0);
		assert_int_equal(done, 0);
		assert_int_equal(pt_map(&pt, 2 * g, 0x100000, 4 * g, R, 0), 0);
		assert_int_equal(pt_unmap(&pt, 0, 16 * g, 0, NULL, &done), 0);
		assert_int_equal(done, 4 * g);
		assert_int_equal(walk(&pt, 2 * g, 0, &w), -EFAULT);
		assert_int_equal(held(&pt), h0);
		/* a single page, then the last page: tables go */
		assert_int_equal(pt_map(&pt, L, 0, 2 * g, R, 0), 0);
		assert_int_equal(pt_unmap(&pt, L, g, 0, NULL, &done), 0);
		assert_int_equal(done, g);
		assert_int_equal(walk(&pt, L + g, 0, &w), 0);
		assert_true(held(&pt) > h0 || !pt.start_level);
		assert_int_equal(pt_unmap(&pt, L + g, g, 0, NULL, &done), 0);
		assert_int_equal(held(&pt), h0);
		/* a whole block, in one call and as one leaf */
		assert_int_equal(pt_map(&pt, 2 * L, 0, 3 * L, R, 0), 0);
		assert_int_equal(pt_unmap(&pt, 3 * L, L, 0, NULL, &done), 0);
		assert_int_equal(done, L);
		assert_int_equal(walk(&pt, 3 * L, 0, &w), -EFAULT);
		assert_int_equal(walk(&pt, 2 * L, 0, &w), 0);
		assert_int_equal(pt_unmap(&pt, 0, 8 * L, 0, NULL, &done), 0);
		assert_int_equal(done, 2 * L);
		assert_int_equal(held(&pt), h0);
		/* errors */
		assert_int_equal(pt_unmap(&pt, 0, 0, 0, NULL, &done), -EINVAL);
		assert_int_equal(pt_unmap(&pt, g / 2, g, 0, NULL, &done),
				 -EINVAL);
		assert_int_equal(pt_unmap(&pt, 0, g / 2, 0, NULL, &done),
				 -EINVAL);
		assert_int_equal(pt_unmap(&pt, 0, g, 1u << 5, NULL, &done),
				 -EINVAL);
		assert_int_equal(pt_unmap(&pt, top - g, 2 * g, 0, NULL, &done),
				 -EOVERFLOW);
		assert_int_equal(pt_unmap(&pt, -g, 2 * g, 0, NULL, &done),
				 -EOVERFLOW);
		assert_int_equal(pt_unmap(&pt, top - g, g, 0, NULL, NULL), 0);
		pt_destroy(&pt);
	}
}

static int sum_fn(void *ctx, uint64_t iova, uint64_t pa, uint64_t size,
		  uint32_t perm)
{
	uint64_t *s = ctx;

	/* identity + offset mapping: every leaf keeps it */
	assert_int_equal(pa - iova, s[1]);
	s[0] += size;
	return 0;
}

static void test_unmap_split(void **state)
{
	unsigned i;

	for (i = 0; i < pt_ncases; i++) {
		struct pt pt;
		struct pt_dump a, b;
		struct pt_walk w;
		uint64_t g, L, done, off, sum[2];
		uint64_t top = 0;
		size_t h;

		mk_case(&pt, &pt_cases[i].cfg, i & 1);
		g = gran(&pt);
		/* the largest leaf below the start level: splits go deep */
		{
			uint64_t s = pt_leaf_sizes(&pt);

			while (s) {
				if ((s & -s) < pt_input_size(&pt) / 4)
					top = s & -s;
				s &= s - 1;
			}
		}
		L = top;
		off = 0x40000000ull & ~(L - 1);
		if (L == g) {
			pt_destroy(&pt);
			continue;
		}
		assert_int_equal(pt_map(&pt, L, L + off, 2 * L, R | W, 0), 0);
		pt_dump_take(&pt, &a);
		h = held(&pt);
		/* refuse to cut a block: at the start, end, inside */
		assert_int_equal(pt_unmap(&pt, L + g, L, 0, NULL, &done),
				 -EINVAL);
		assert_int_equal(pt_unmap(&pt, 0, L + g, 0, NULL, &done),
				 -EINVAL);
		assert_int_equal(pt_unmap(&pt, L + 5 * g, g, 0, NULL, &done),
				 -EINVAL);
		assert_int_equal(done, 0);
		/* split fails for want of memory: nothing changes */
		if (!pt.mem.ops) {
			fault_inject_nth(1);
			assert_int_equal(pt_unmap(&pt, L + 5 * g, g,
						  PT_UNMAP_SPLIT, NULL, &done),
					 -ENOMEM);
			fault_inject_nth(0);
		}
		pt_dump_take(&pt, &b);
		assert_true(pt_dump_equal(&a, &b));
		pt_dump_free(&b);
		assert_int_equal(held(&pt), h);
		/* split: one page out of the middle of the first block, and
		 * a range across the boundary of the two */
		assert_int_equal(pt_unmap(&pt, L + 5 * g, g, PT_UNMAP_SPLIT,
					  NULL, &done),
				 0);
		assert_int_equal(done, g);
		assert_int_equal(walk(&pt, L + 5 * g, 0, &w), -EFAULT);
		assert_int_equal(walk(&pt, L + 6 * g + 8, 0, &w), 0);
		assert_int_equal(w.oa, L + 6 * g + 8 + off);
		assert_int_equal(w.leaf_shift, pt.cfg.granule_shift);
		assert_int_equal(walk(&pt, L + 4 * g, 0, &w), 0);
		assert_int_equal(w.oa, L + 4 * g + off);
		assert_true(w.perm & PT_PERM_W);
		assert_int_equal(walk(&pt, 2 * L - g, 0, &w), 0);
		assert_int_equal(w.oa, 2 * L - g + off);
		assert_int_equal(pt_unmap(&pt, 2 * L - 3 * g, 6 * g,
					  PT_UNMAP_SPLIT, NULL, &done),
				 0);
		assert_int_equal(done, 6 * g);
		sum[0] = 0;
		sum[1] = off;
		assert_int_equal(pt_for_each(&pt, 0, ~0ull, sum_fn, sum), 0);
		assert_int_equal(sum[0], 2 * L - 7 * g);
		assert_int_equal(walk(&pt, 2 * L + 3 * g, 0, &w), 0);
		assert_int_equal(w.oa, 2 * L + 3 * g + off);
		/* everything goes, tables with it */
		assert_int_equal(pt_unmap(&pt, 0, 4 * L, 0, NULL, &done), 0);
		assert_int_equal(done, 2 * L - 7 * g);
		pt_dump_free(&a);
		pt_destroy(&pt);
	}
}

static void test_unmap_gather(void **state)
{
	struct pt_cfg c = pt_cfg_make(PT_FMT_X86_64, 12, 48, 48, -1, 0);
	struct pt_gather g = { 0 };
	struct pt pt;
	uint64_t done;
	size_t h0, h1;
	unsigned i;

	assert_int_equal(pt_init(&pt, &c, (struct pt_mem){ 0 }), 0);
	h0 = pool_in_use();
	assert_int_equal(pt_map(&pt, 0, 0, 64ull << 20, R, 0x1000), 0);
	h1 = pool_in_use();
	/* 32 leaf tables + PD + PDPT */
	assert_int_equal(h1 - h0, 34 * 4096);
	/* gather runs out of memory: nothing changes */
	fault_inject_nth(1);
	assert_int_equal(pt_unmap(&pt, 0, 64ull << 20, 0, &g, &done), -ENOMEM);
	fault_inject_nth(0);
	assert_int_equal(pool_in_use(), h1);
	assert_int_equal(pt_unmap(&pt, 0, 64ull << 20, 0, &g, &done), 0);
	assert_int_equal(done, 64ull << 20);
	/* tables are held until the release (after the IOTLB sync) */
	assert_int_equal(g.count, 34);
	assert_int_equal(pool_in_use(), h1);
	for (i = 0; i < g.count; i++) {
		const uint64_t *t = (const uint64_t *)(uintptr_t)g.pa[i];
		unsigned j;

		assert_int_equal(g.size[i], 4096);
		for (j = 0; j < 512; j++)
			assert_int_equal(t[j], 0);
	}
	pt_gather_release(&pt, &g);
	assert_int_equal(pool_in_use(), h0);
	assert_int_equal(g.count, 0);
	/* single-page path gathers too */
	assert_int_equal(pt_map(&pt, 1ull << 40, 0, 4096, R, 0), 0);
	assert_int_equal(pt_unmap(&pt, 1ull << 40, 4096, 0, &g, &done), 0);
	assert_int_equal(g.count, 3);
	pt_gather_release(&pt, &g);
	assert_int_equal(pool_in_use(), h0);
	pt_destroy(&pt);
}

/* ---- for_each ---- */

static int stop_fn(void *ctx, uint64_t iova, uint64_t pa, uint64_t size,
		   uint32_t perm)
{
	unsigned *n = ctx;

	return ++*n == 3 ? 77 : 0;
}

static int first_fn(void *ctx, uint64_t iova, uint64_t pa, uint64_t size,
		    uint32_t perm)
{
	uint64_t *o = ctx;

	o[0] = iova;
	o[1] = pa;
	o[2] = size;
	o[3] = perm;
	return 1;
}

static void test_for_each(void **state)
{
	struct pt_cfg c = pt_cfg_make(PT_FMT_ARM_S1, 12, 39, 48, -1, 0);
	struct pt pt;
	unsigned n = 0;
	uint64_t o[4];

	mk_case(&pt, &c, true);
	assert_int_equal(pt_map(&pt, 0x200000, 0x600000, 0x400000, R | W, 0),
			 0);
	assert_int_equal(pt_map(&pt, 0x1000, 0x1000, 0x4000, R, 0), 0);
	assert_int_equal(pt_for_each(&pt, 0, ~0ull, stop_fn, &n), 77);
	assert_int_equal(n, 3);
	/* a range starting inside a block reports the whole block */
	assert_int_equal(pt_for_each(&pt, 0x300000, 0x300000, first_fn, o), 1);
	assert_int_equal(o[0], 0x200000);
	assert_int_equal(o[1], 0x600000);
	assert_int_equal(o[2], 0x200000);
	assert_int_equal(o[3], PT_PERM_R | PT_PERM_W | PT_PERM_U | PT_PERM_AF);
	n = 0;
	assert_int_equal(pt_for_each(&pt, 0x6000, 0x1fffff, stop_fn, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(pt_for_each(&pt, 1ull << 39, ~0ull, stop_fn, &n), 0);
	assert_int_equal(pt_for_each(&pt, 2, 1, stop_fn, &n), -EINVAL);
	assert_int_equal(pt_for_each(&pt, 0, 1, NULL, &n), -EINVAL);
	/* a table the accessor cannot reach */
	{
		struct pt_walk_level rec[PT_MAX_LEVELS];
		struct pt_walk w = { .rec = rec };

		assert_int_equal(pt_walk(&pt, 0x1000, 0, &w), 0);
		G.deny_pa = rec[2].table;
		assert_int_equal(pt_for_each(&pt, 0, ~0ull, stop_fn, &n),
				 -EFAULT);
		assert_int_equal(pt_map(&pt, 0x8000, 0, 0x1000, R, 0), -EFAULT);
		assert_int_equal(pt_unmap(&pt, 0, 0x2000, 0, NULL, NULL),
				 -EFAULT);
		G.deny_pa = 0;
	}
	pt_destroy(&pt);
}

/* ---- dirty ---- */

static const struct pt_cfg dirty_cfgs[] = {
	{ PT_FMT_X86_64, 12, 48, 48, -1, 0, 0 },
	{ PT_FMT_VTD_SS, 12, 48, 48, -1, 0, PT_CFG_AD },
	{ PT_FMT_ARM_S1, 12, 48, 48, -1, 0, PT_CFG_DIRTY },
	{ PT_FMT_ARM_S2, 12, 48, 48, -1, 0, PT_CFG_DIRTY },
	{ PT_FMT_ARM_S1, 16, 48, 48, -1, 0, PT_CFG_DIRTY },
};

static void test_dirty(void **state)
{
	unsigned i;

	for (i = 0; i < sizeof(dirty_cfgs) / sizeof(dirty_cfgs[0]); i++) {
		struct pt pt;
		struct pt_walk w;
		uint64_t g, L, bm[512], base = 0, k;

		mk_case(&pt, &dirty_cfgs[i], i & 1);
		g = gran(&pt);
		L = g << (pt.cfg.granule_shift - 3); /* one level up */
		/* [0, 16g) pages RW, [L, 2L) a block RW, 2L a page RO */
		assert_int_equal(pt_map(&pt, 0, 0x10000000, 16 * g, R | W, 0),
				 0);
		assert_int_equal(pt_map(&pt, L, L, L, R | W, 0), 0);
		assert_int_equal(pt_map(&pt, 2 * L, 0, g, R, 0), 0);
		memset(bm, 0, sizeof(bm));
		assert_int_equal(pt_read_and_clear_dirty(&pt, base, 4 * L, L,
							 bm, false),
				 0);
		assert_int_equal(bm[0], 0);
		/* software, hardware (walk), block, refused, absent */
		assert_int_equal(pt_set_dirty(&pt, 3 * g), 0);
		assert_int_equal(walk(&pt, 5 * g + 1, PT_WALK_SET_DIRTY, &w),
				 0);
		assert_true(w.perm & PT_PERM_DIRTY);
		assert_true(w.perm & PT_PERM_W);
		assert_int_equal(pt_set_dirty(&pt, L + 7 * g), 0);
		assert_int_equal(pt_set_dirty(&pt, 2 * L), -EPERM);
		assert_int_equal(pt_set_dirty(&pt, 3 * L), -ENOENT);
		/* bits at granule resolution, ORed in, not cleared */
		memset(bm, 0, sizeof(bm));
		bm[0] = 1ull << 63;
		assert_int_equal(pt_read_and_clear_dirty(&pt, 0, 64 * g, g, bm,
							 true),
				 0);
		assert_int_equal(bm[0],
				 (1ull << 63) | (1ull << 3) | (1ull << 5));
		memset(bm, 0, sizeof(bm));
		assert_int_equal(
			pt_read_and_clear_dirty(&pt, L, 2 * L, g, bm, true), 0);
		/* the whole block is dirty, from bit 0 over L/g bits */
		for (k = 0; k < L / g; k++)
			assert_true(bm[k / 64] & (1ull << (k % 64)));
		assert_false(bm[(L / g) / 64] & (1ull << ((L / g) % 64)));
		/* coarse pages: one bit per L */
		memset(bm, 0, sizeof(bm));
		assert_int_equal(pt_read_and_clear_dirty(&pt, 0, 4 * L, L, bm,
							 false),
				 0);
		assert_int_equal(bm[0], 3);
		/* cleared: nothing left, and the leaves are clean */
		memset(bm, 0, sizeof(bm));
		assert_int_equal(pt_read_and_clear_dirty(&pt, 0, 4 * L, L, bm,
							 false),
				 0);
		assert_int_equal(bm[0], 0);
		assert_int_equal(walk(&pt, 3 * g, 0, &w), 0);
		assert_false(w.perm & PT_PERM_DIRTY);
		if (pt.cfg.fmt == PT_FMT_ARM_S1)
			assert_false(w.perm & PT_PERM_W); /* clean again */
		/* errors */
		assert_int_equal(pt_read_and_clear_dirty(&pt, 0, 4 * L, 2048,
							 bm, false),
				 -EINVAL);
		assert_int_equal(pt_read_and_clear_dirty(&pt, 0, 4 * L,
							 3 * 4096, bm, false),
				 -EINVAL);
		assert_int_equal(pt_read_and_clear_dirty(&pt, g / 2, 4 * L, g,
							 bm, false),
				 -EINVAL);
		assert_int_equal(pt_read_and_clear_dirty(&pt, 0, 0, g, bm,
							 false),
				 -EINVAL);
		assert_int_equal(pt_read_and_clear_dirty(&pt, 0, g, g, NULL,
							 false),
				 -EINVAL);
		assert_int_equal(pt_read_and_clear_dirty(&pt,
							 pt_input_size(&pt) - g,
							 2 * g, g, bm, false),
				 -EOVERFLOW);
		pt_destroy(&pt);
	}
	/* formats without dirty state */
	{
		static const struct pt_cfg nod[] = {
			{ PT_FMT_ARM_S1, 12, 48, 48, -1, 0, 0 },
			{ PT_FMT_ARM_S2, 12, 48, 48, -1, 0, 0 },
			{ PT_FMT_VTD_SS, 12, 48, 48, -1, 0, 0 },
		};
		uint64_t bm[1];

		for (i = 0; i < 3; i++) {
			struct pt pt;

			mk_case(&pt, &nod[i], false);
			assert_int_equal(pt_map(&pt, 0, 0, 4096, R | W, 0), 0);
			assert_int_equal(pt_read_and_clear_dirty(
						 &pt, 0, 4096, 4096, bm, false),
					 -EOPNOTSUPP);
			assert_int_equal(pt_set_dirty(&pt, 0), -EOPNOTSUPP);
			pt_destroy(&pt);
		}
	}
}

/* ---- misc ---- */

static void test_force_writeable(void **state)
{
	struct pt_cfg c = pt_cfg_make(PT_FMT_VTD_SS, 12, 48, 48, -1,
				      PT_CFG_FORCE_WRITEABLE);
	struct pt pt;
	struct pt_walk w;

	mk_case(&pt, &c, false);
	assert_int_equal(pt_map(&pt, 0, 0, 4096, R, 0), 0);
	assert_int_equal(walk(&pt, 0, 0, &w), 0);
	assert_int_equal(w.desc & 3, 3);
	pt_destroy(&pt);
}

static void test_destroy_frees(void **state)
{
	unsigned i;

	for (i = 0; i < pt_ncases; i++) {
		struct pt pt;
		size_t h0 = pool_in_use();
		unsigned long a0 = G.allocs, f0 = G.frees;
		uint64_t L, g;

		mk_case(&pt, &pt_cases[i].cfg, i & 1);
		L = big_leaf(&pt);
		g = gran(&pt);
		assert_int_equal(pt_map(&pt, L > g ? L / 2 : g, 0, L * 3, R, 0),
				 0);
		assert_int_equal(pt_map(&pt, pt_input_size(&pt) - L, 0, L, R,
					gran(&pt)),
				 0);
		pt_destroy(&pt);
		pt_destroy(&pt); /* twice is harmless */
		assert_int_equal(pool_in_use(), h0);
		assert_int_equal(G.allocs - a0, G.frees - f0);
	}
}

static void test_pool(void **state)
{
	size_t u0, t0, u1, t1;
	struct pt_cfg c = pt_cfg_make(PT_FMT_ARM_S2, 16, 46, 48, 1, 0);
	struct pt pt;

	pt_pool_usage(&u0, &t0);
	assert_int_equal(pt_pool_reserve(t0 - u0 + (64u << 20)), 0);
	pt_pool_usage(&u1, &t1);
	assert_int_equal(u1, u0);
	assert_true(t1 - u1 >= (64u << 20));
	assert_int_equal(pt_pool_reserve(1), 0);
	pt_pool_usage(&u1, &t0);
	assert_int_equal(t0, t1);
	/* 16 concatenated 64K tables: 1 MiB aligned to 1 MiB */
	assert_int_equal(pt_init(&pt, &c, (struct pt_mem){ 0 }), 0);
	assert_int_equal(pt.root & ((1u << 20) - 1), 0);
	assert_int_equal(pool_in_use(), u0 + (1u << 20));
	pt_destroy(&pt);
	assert_int_equal(pool_in_use(), u0);
}

/* Walkers racing with map/unmap see either nothing or the right thing. */
struct race {
	struct pt *pt;
	int stop; /* atomic */
	unsigned long bad, ok;
};

static void *race_walker(void *arg)
{
	struct race *r = arg;
	uint64_t i = 0;

	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		struct pt_walk w = { 0 };
		uint64_t iova = ((i * 7919) % 1024) << 12;

		if (!pt_walk(r->pt, iova + 8, PT_WALK_SET_AF, &w)) {
			if (w.oa != iova + 8 + 0x40000000)
				r->bad++;
			r->ok++;
		} else if (w.fault != PT_FAULT_TRANSLATION) {
			r->bad++;
		}
		i++;
	}
	return NULL;
}

static void test_concurrent_walk(void **state)
{
	struct pt_cfg c = pt_cfg_make(PT_FMT_X86_64, 12, 48, 48, -1, 0);
	struct pt pt;
	struct race r = { .pt = &pt };
	struct pt_gather g = { 0 };
	pthread_t th;
	unsigned n;
	uint64_t done;

	assert_int_equal(pt_init(&pt, &c, (struct pt_mem){ 0 }), 0);
	assert_int_equal(pthread_create(&th, NULL, race_walker, &r), 0);
	for (n = 0; n < 3000; n++) {
		uint64_t a = (uint64_t)(n * 37 % 1024) << 12;
		uint64_t s = (uint64_t)(1 + n % 64) << 12;

		if (a + s > (4ull << 20))
			s = (4ull << 20) - a;
		pt_map(&pt, a, a + 0x40000000, s, R | W, 0);
		/* emptied tables wait in the gather until no walker can
		 * hold them (here: the end) */
		if (n % 3 == 0)
			pt_unmap(&pt, 0, 4ull << 20, 0, &g, &done);
		else if (n % 3 == 1)
			pt_unmap(&pt, a, s, 0, &g, &done);
	}
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	assert_true(g.count > 0);
	pt_gather_release(&pt, &g);
	assert_int_equal(r.bad, 0);
	pt_destroy(&pt);
}

/* An empty table sits where a block would go (tables built elsewhere):
 * map fills it with small leaves instead of leaking it. */
static void test_map_into_empty_table(void **state)
{
	struct pt_cfg c = pt_cfg_make(PT_FMT_ARM_S1, 12, 48, 48, -1, 0);
	struct pt_walk_level rec[PT_MAX_LEVELS];
	struct pt_walk w = { .rec = rec };
	struct pt pt;
	uint64_t *leaf, done;
	size_t h;

	assert_int_equal(pt_init(&pt, &c, (struct pt_mem){ 0 }), 0);
	assert_int_equal(pt_map(&pt, 0x203000, 0x5000, 0x1000, R, 0), 0);
	assert_int_equal(pt_walk(&pt, 0x203000, 0, &w), 0);
	leaf = (uint64_t *)(uintptr_t)rec[3].table + rec[3].index;
	*leaf = 0; /* the level-0 table is now empty but linked */
	h = pool_in_use();
	assert_int_equal(pt_map(&pt, 0x200000, 0x40200000, 0x400000, R | W, 0),
			 0);
	assert_int_equal(pool_in_use(), h);
	memset(&w, 0, sizeof(w));
	assert_int_equal(pt_walk(&pt, 0x203456, 0, &w), 0);
	assert_int_equal(w.oa, 0x40203456);
	assert_int_equal(w.leaf_shift, 12);
	memset(&w, 0, sizeof(w));
	assert_int_equal(pt_walk(&pt, 0x512345, 0, &w), 0);
	assert_int_equal(w.oa, 0x40512345);
	assert_int_equal(w.leaf_shift, 21);
	/* the single-leaf path takes the general one for it too */
	assert_int_equal(pt_unmap(&pt, 0x200000, 0x400000, 0, NULL, &done), 0);
	assert_int_equal(done, 0x400000);
	assert_int_equal(pt_map(&pt, 0x203000, 0x5000, 0x1000, R, 0), 0);
	*leaf = 0;
	/* no smaller leaf allowed: the slot is taken */
	assert_int_equal(pt_map(&pt, 0x200000, 0x40200000, 0x200000, R,
				0x200000),
			 -EEXIST);
	assert_int_equal(pt_map(&pt, 0x200000, 0x40200000, 0x200000, R, 0), 0);
	memset(&w, 0, sizeof(w));
	assert_int_equal(pt_walk(&pt, 0x3fffff, 0, &w), 0);
	assert_int_equal(w.oa, 0x403fffff);
	pt_destroy(&pt);
}

/* Hardware dirty updates racing with harvesting lose nothing. */
struct dirty_race {
	struct pt *pt;
	int stop; /* atomic */
	uint8_t dirtied[256];
};

static void *dirty_writer(void *arg)
{
	struct dirty_race *d = arg;
	uint64_t i = 0;

	while (!__atomic_load_n(&d->stop, __ATOMIC_ACQUIRE)) {
		struct pt_walk w = { 0 };
		unsigned p = (unsigned)((i * 97) % 256);

		if (!pt_walk(d->pt, (uint64_t)p << 12,
			     PT_WALK_SET_AF | PT_WALK_SET_DIRTY, &w) &&
		    (w.perm & PT_PERM_DIRTY))
			d->dirtied[p] = 1;
		i++;
	}
	return NULL;
}

/* A granule leaf written in place through pt_leaf_slot is what pt_map
 * and pt_unmap make of it (but the emptied table stays). */
static void expect_same_tables(const struct pt *a, const struct pt *b)
{
	struct pt_dump da = { 0 }, db = { 0 };

	pt_dump_take(a, &da);
	pt_dump_take(b, &db);
	assert_true(pt_dump_equal(&da, &db));
	pt_dump_free(&da);
	pt_dump_free(&db);
}

static void test_leaf_in_place(void **state)
{
	const uint64_t PA = 0x1000000;

	for (unsigned i = 0; i < pt_ncases; i++) {
		struct pt a, b;
		struct pt_walk w;
		uint64_t g, L, d, n, *slot;
		size_t h;

		mk_case(&a, &pt_cases[i].cfg, i & 1);
		mk_case(&b, &pt_cases[i].cfg, i & 1);
		g = gran(&b);
		L = big_leaf(&b);
		if (b.start_level)
			assert_null(pt_leaf_slot(&b, 5 * g));
		assert_null(pt_leaf_slot(&b, pt_input_size(&b)));
		assert_int_equal(pt_map(&a, 4 * g, PA, g, R, g), 0);
		assert_int_equal(pt_map(&b, 4 * g, PA, g, R, g), 0);
		/* A hole in an existing table, mapped. */
		slot = pt_leaf_slot(&b, 5 * g);
		assert_non_null(slot);
		assert_int_equal(*slot, 0);
		assert_int_equal(pt_leaf_desc(&b, PA + g, R | W, &d), 0);
		__atomic_store_n(slot, d, __ATOMIC_RELEASE);
		assert_int_equal(pt_map(&a, 5 * g, PA + g, g, R | W, g), 0);
		expect_same_tables(&a, &b);
		assert_int_equal(*pt_leaf_slot(&a, 5 * g), d);
		/* Replaced by another page and permission. */
		assert_int_equal(pt_leaf_desc(&b, PA + 2 * g, R | X, &d), 0);
		__atomic_store_n(slot, d, __ATOMIC_RELEASE);
		assert_int_equal(pt_unmap(&a, 5 * g, g, 0, NULL, &n), 0);
		assert_int_equal(pt_map(&a, 5 * g, PA + 2 * g, g, R | X, g), 0);
		expect_same_tables(&a, &b);
		assert_int_equal(walk(&b, 5 * g + 8, 0, &w), 0);
		assert_int_equal(w.oa, PA + 2 * g + 8);
		/* Cleared: unmapped, the table stays. */
		h = held(&b);
		__atomic_store_n(slot, 0, __ATOMIC_RELEASE);
		assert_int_equal(pt_unmap(&a, 5 * g, g, 0, NULL, &n), 0);
		expect_same_tables(&a, &b);
		assert_int_equal(walk(&b, 5 * g, 0, &w), -EFAULT);
		assert_int_equal(held(&b), h);
		assert_ptr_equal(pt_leaf_slot(&b, 5 * g), slot);
		/* Dirty state aside, leaves compare by what they map. */
		assert_int_equal(pt_leaf_desc(&b, PA, R | W, &d), 0);
		__atomic_store_n(slot, d, __ATOMIC_RELEASE);
		if (!pt_set_dirty(&b, 5 * g)) {
			assert_int_not_equal(*slot, d);
			assert_true(pt_leaf_same(&b, *slot, d));
		}
		assert_true(pt_leaf_same(&b, d, d));
		assert_int_equal(pt_leaf_desc(&b, PA + g, R | W, &n), 0);
		assert_false(pt_leaf_same(&b, d, n));
		assert_int_equal(pt_leaf_desc(&b, PA, R, &n), 0);
		assert_false(pt_leaf_same(&b, d, n));
		/* A larger leaf on the path has no granule slot. */
		if (L > g) {
			assert_int_equal(pt_map(&b, 2 * L, 0, L, R, L), 0);
			assert_null(pt_leaf_slot(&b, 2 * L + g));
		}
		/* Errors, as pt_map's. */
		assert_int_equal(pt_leaf_desc(&b, PA + g / 2, R, &d), -EINVAL);
		assert_int_equal(pt_leaf_desc(&b, PA, 1u << 12, &d), -EINVAL);
		assert_int_equal(pt_leaf_desc(&b, 1ull << b.cfg.oas, R, &d),
				 -EOVERFLOW);
		if (b.cfg.fmt == PT_FMT_VTD_SS)
			assert_int_equal(pt_leaf_desc(&b, PA, 0, &d), -EINVAL);
		pt_destroy(&a);
		pt_destroy(&b);
	}
}

static void test_dirty_race(void **state)
{
	unsigned f;

	for (f = 0; f < 2; f++) {
		struct pt_cfg c =
			f ? pt_cfg_make(PT_FMT_ARM_S1, 12, 48, 48, -1,
					PT_CFG_DIRTY) :
			    pt_cfg_make(PT_FMT_X86_64, 12, 48, 48, -1, 0);
		struct pt pt;
		struct dirty_race d = { .pt = &pt };
		uint64_t seen[4] = { 0 }, bm[4];
		pthread_t th;
		unsigned n, p;

		assert_int_equal(pt_init(&pt, &c, (struct pt_mem){ 0 }), 0);
		assert_int_equal(pt_map(&pt, 0, 0x100000, 256 << 12, R | W, 0),
				 0);
		assert_int_equal(pthread_create(&th, NULL, dirty_writer, &d),
				 0);
		for (n = 0; n < 2000; n++) {
			memset(bm, 0, sizeof(bm));
			assert_int_equal(
				pt_read_and_clear_dirty(&pt, 0, 256 << 12, 4096,
							bm, false),
				0);
			for (p = 0; p < 4; p++)
				seen[p] |= bm[p];
		}
		__atomic_store_n(&d.stop, 1, __ATOMIC_RELEASE);
		pthread_join(th, NULL);
		memset(bm, 0, sizeof(bm));
		assert_int_equal(pt_read_and_clear_dirty(&pt, 0, 256 << 12,
							 4096, bm, false),
				 0);
		for (p = 0; p < 256; p++) {
			bool s = (seen[p / 64] | bm[p / 64]) >> (p % 64) & 1;

			assert_int_equal(s, d.dirtied[p]);
		}
		pt_destroy(&pt);
	}
}

static int setup(void **state)
{
	guest_init(&G, 1ull << 30);
	return 0;
}

static int teardown(void **state)
{
	guest_fini(&G);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_errors),
		cmocka_unit_test(test_geometry),
		cmocka_unit_test(test_block_promotion),
		cmocka_unit_test(test_map_errors),
		cmocka_unit_test(test_map_enomem),
		cmocka_unit_test(test_unmap_basic),
		cmocka_unit_test(test_unmap_split),
		cmocka_unit_test(test_unmap_gather),
		cmocka_unit_test(test_for_each),
		cmocka_unit_test(test_dirty),
		cmocka_unit_test(test_force_writeable),
		cmocka_unit_test(test_destroy_frees),
		cmocka_unit_test(test_pool),
		cmocka_unit_test(test_concurrent_walk),
		cmocka_unit_test(test_map_into_empty_table),
		cmocka_unit_test(test_dirty_race),
		cmocka_unit_test(test_leaf_in_place),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
