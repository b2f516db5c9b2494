// SPDX-License-Identifier: MIT
/*
 * Randomised map/unmap sequences for every configuration (host tables and
 * guest tables through the accessor), checked against a plain reference:
 * a list of mapped intervals. After every operation random walks are
 * compared with the reference, and now and then the whole table (every
 * leaf from pt_for_each, merged) is. Refused operations must leave the
 * tables exactly as they were. Seed: PT_SEED in the environment.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pt_test.h"

#define NOPS 220
#define MAXIV 512

static struct guest G;
static uint64_t seed0 = 0x5eed;

struct iv {
	uint64_t iova, size, pa;
	uint32_t prot;
};

struct ref {
	struct iv v[MAXIV];
	unsigned n;
};

static const uint32_t prots[] = {
	PT_PROT_READ,
	PT_PROT_READ | PT_PROT_WRITE,
	PT_PROT_READ | PT_PROT_WRITE | PT_PROT_EXEC,
	PT_PROT_READ | PT_PROT_PRIV,
};

/* What a walk must grant for a mapping made with @prot. */
static uint32_t expect_perm(const struct pt *pt, uint32_t prot)
{
	bool w = prot & PT_PROT_WRITE, x = prot & PT_PROT_EXEC;
	bool user = !(prot & PT_PROT_PRIV);
	uint32_t p = 0;

	switch (pt->cfg.fmt) {
	case PT_FMT_ARM_S1:
	case PT_FMT_X86_64:
		p = PT_PERM_R | PT_PERM_AF | (user ? PT_PERM_U : 0);
		break;
	case PT_FMT_ARM_S2:
		p = PT_PERM_U | PT_PERM_AF | PT_PERM_R;
		break;
	case PT_FMT_VTD_SS:
		p = PT_PERM_U | PT_PERM_R;
		break;
	default:
		fail();
	}
	if (w)
		p |= PT_PERM_W;
	if (x)
		p |= PT_PERM_UX | PT_PERM_PX;
	return p;
}

static bool overlaps(const struct iv *v, uint64_t s, uint64_t e)
{
	return v->iova < e && s < v->iova + v->size;
}

static const struct iv *ref_find(const struct ref *r, uint64_t a)
{
	unsigned i;

	for (i = 0; i < r->n; i++)
		if (overlaps(&r->v[i], a, a + 1))
			return &r->v[i];
	return NULL;
}

static bool ref_overlap(const struct ref *r, uint64_t s, uint64_t e)
{
	unsigned i;

	for (i = 0; i < r->n; i++)
		if (overlaps(&r->v[i], s, e))
			return true;
	return false;
}

/* Remove [s, e); returns the bytes that were mapped. */
static uint64_t ref_unmap(struct ref *r, uint64_t s, uint64_t e)
{
	uint64_t done = 0;
	unsigned i = 0;

	while (i < r->n) {
		struct iv v = r->v[i];
		uint64_t ve = v.iova + v.size;

		if (!overlaps(&v, s, e)) {
			i++;
			continue;
		}
		done += (ve < e ? ve : e) - (v.iova > s ? v.iova : s);
		r->v[i] = r->v[--r->n];
		if (v.iova < s) {
			assert_true(r->n < MAXIV);
			r->v[r->n++] =
				(struct iv){ v.iova, s - v.iova, v.pa, v.prot };
		}
		if (ve > e) {
			assert_true(r->n < MAXIV);
			r->v[r->n++] = (struct iv){ e, ve - e,
						    v.pa + (e - v.iova),
						    v.prot };
		}
	}
	return done;
}

/* ---- whole-table comparison ---- */

struct seg {
	uint64_t iova, size, pa;
	uint32_t perm;
};

struct segs {
	struct seg *s;
	unsigned n, cap;
};

static void seg_add(struct segs *l, uint64_t iova, uint64_t pa, uint64_t size,
		    uint32_t perm)
{
	if (l->n) {
		struct seg *p = &l->s[l->n - 1];

		if (p->iova + p->size == iova && p->pa + p->size == pa &&
		    p->perm == perm) {
			p->size += size;
			return;
		}
	}
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		l->s = realloc(l->s, l->cap * sizeof(*l->s));
		assert_non_null(l->s);
	}
	l->s[l->n++] = (struct seg){ iova, size, pa, perm };
}

static int seg_fn(void *ctx, uint64_t iova, uint64_t pa, uint64_t size,
		  uint32_t perm)
{
	seg_add(ctx, iova, pa, size, perm);
	return 0;
}

static int cmp_iv(const void *a, const void *b)
{
	const struct iv *x = a, *y = b;

	return (x->iova > y->iova) - (x->iova < y->iova);
}

static void compare_all(const struct pt *pt, struct ref *r)
{
	struct segs got = { 0 }, exp = { 0 };
	unsigned i;

	assert_int_equal(pt_for_each(pt, 0, ~0ull, seg_fn, &got), 0);
	qsort(r->v, r->n, sizeof(r->v[0]), cmp_iv);
	for (i = 0; i < r->n; i++)
		seg_add(&exp, r->v[i].iova, r->v[i].pa, r->v[i].size,
			expect_perm(pt, r->v[i].prot));
	assert_int_equal(got.n, exp.n);
	for (i = 0; i < got.n; i++) {
		assert_int_equal(got.s[i].iova, exp.s[i].iova);
		assert_int_equal(got.s[i].size, exp.s[i].size);
		assert_int_equal(got.s[i].pa, exp.s[i].pa);
		assert_int_equal(got.s[i].perm, exp.s[i].perm);
	}
	free(got.s);
	free(exp.s);
}

static void check_walk(const struct pt *pt, const struct ref *r, uint64_t a,
		       bool records)
{
	struct pt_walk_level rec[PT_MAX_LEVELS];
	struct pt_walk w = { .rec = records ? rec : NULL };
	const struct iv *v = ref_find(r, a);
	int ret = pt_walk(pt, a, 0, &w);

	if (!v) {
		assert_int_equal(ret, -EFAULT);
		assert_int_equal(w.fault, PT_FAULT_TRANSLATION);
		return;
	}
	assert_int_equal(ret, 0);
	assert_int_equal(w.oa, v->pa + (a - v->iova));
	assert_int_equal(w.perm, expect_perm(pt, v->prot));
	/* the leaf lies inside the mapping it came from */
	assert_true((a & ~((1ull << w.leaf_shift) - 1)) >= v->iova);
	if (records) {
		assert_int_equal(w.nrec, pt->start_level - w.level + 1);
		assert_int_equal(rec[w.nrec - 1].desc, w.desc);
		assert_int_equal(rec[0].level, pt->start_level);
	}
}

/* ---- the random run ---- */

struct geo {
	uint64_t g, mid, big, win, base[3], oa_mask;
};

static void geo_init(const struct pt *pt, struct geo *o)
{
	uint64_t s = pt_leaf_sizes(pt), in = pt_input_size(pt);

	o->g = s & -s;
	s &= s - 1;
	o->mid = s ? s & -s : o->g;
	o->big = o->mid;
	while (s) {
		if ((s & -s) <= in / 8)
			o->big = s & -s;
		s &= s - 1;
	}
	if (o->mid > in / 8)
		o->mid = o->g;
	if (o->big > in / 8)
		o->big = o->mid;
	o->win = 64 * o->big < in / 4 ? 64 * o->big : in / 4;
	o->base[0] = 0;
	o->base[1] = in / 2;
	o->base[2] = in - o->win;
	o->oa_mask = (1ull << (pt->cfg.oas < 40 ? pt->cfg.oas : 40)) - 1;
}

static size_t gran_bytes(const struct pt *pt)
{
	return (size_t)1 << pt->cfg.granule_shift;
}

static uint64_t rnd_in(struct test_rng *rng, uint64_t span, uint64_t align)
{
	return test_rng_below(rng, span / align) * align;
}

static void run_one(const struct pt_cfg *cfg, bool guest, uint64_t seed)
{
	struct test_rng rng;
	struct ref *r = calloc(1, sizeof(*r));
	struct pt pt;
	struct geo o;
	size_t h0 = pool_in_use();
	unsigned long a0 = G.allocs, f0 = G.frees;
	unsigned op, k, nmap = 0, nexist = 0, nunmap = 0, nrefuse = 0;
	uint64_t done, total;

	assert_non_null(r);
	test_rng_seed(&rng, seed);
	assert_int_equal(pt_init(&pt, cfg,
				 guest ? guest_mem(&G) : (struct pt_mem){ 0 }),
			 0);
	geo_init(&pt, &o);
	for (op = 0; op < NOPS; op++) {
		uint64_t base = o.base[test_rng_below(&rng, 3)];
		unsigned cls = (unsigned)test_rng_below(&rng, 100);

		if (test_rng_below(&rng, 100) < 60 || !r->n) {
			/* map */
			uint64_t size, iova, pa, al, pal;
			uint32_t prot = prots[test_rng_below(&rng, 4)];
			struct pt_dump a, b;
			int ret;

			if (cls < 60 || o.mid == o.g) {
				size = o.g * (1 + test_rng_below(&rng, 8));
				al = o.g;
				pal = test_rng_below(&rng, 2) ? o.mid : o.g;
			} else if (cls < 85 || o.big == o.mid) {
				size = o.mid * (1 + test_rng_below(&rng, 3)) +
				       o.g * test_rng_below(&rng, 4);
				al = test_rng_below(&rng, 2) ? o.mid : o.g;
				pal = test_rng_below(&rng, 4) ? o.mid : o.g;
			} else {
				size = o.big * (1 + test_rng_below(&rng, 2));
				al = pal = o.big;
			}
			if (size > o.win / 2)
				size = o.win / 2 / al * al;
			iova = base + rnd_in(&rng, o.win - size, al);
			pa = rnd_in(&rng, o.oa_mask + 1 - size, pal);
			if (guest || !ref_overlap(r, iova, iova + size)) {
				ret = pt_map(&pt, iova, pa, size, prot, 0);
				if (ref_overlap(r, iova, iova + size)) {
					assert_int_equal(ret, -EEXIST);
					nexist++;
				} else {
					assert_int_equal(ret, 0);
					assert_true(r->n < MAXIV);
					r->v[r->n++] = (struct iv){ iova, size,
								    pa, prot };
					nmap++;
				}
			} else {
				/* refused: the tables must not change */
				pt_dump_take(&pt, &a);
				ret = pt_map(&pt, iova, pa, size, prot, 0);
				assert_int_equal(ret, -EEXIST);
				pt_dump_take(&pt, &b);
				assert_true(pt_dump_equal(&a, &b));
				pt_dump_free(&a);
				pt_dump_free(&b);
				nexist++;
			}
		} else {
			/* unmap: a whole mapping, part of one, or a range */
			const struct iv *v = &r->v[test_rng_below(&rng, r->n)];
			unsigned flags =
				test_rng_below(&rng, 2) ? PT_UNMAP_SPLIT : 0;
			struct pt_gather gat = { 0 };
			bool use_g = test_rng_below(&rng, 2);
			uint64_t s, size;
			bool cut;
			int ret;

			if (cls < 40) {
				s = v->iova;
				size = v->size;
			} else if (cls < 70) {
				s = v->iova + rnd_in(&rng, v->size, o.g);
				size = o.g *
				       (1 + test_rng_below(&rng,
							   (v->iova + v->size -
							    s) / o.g));
			} else {
				s = base + rnd_in(&rng, o.win, o.g);
				size = o.g * (1 + test_rng_below(&rng, 64));
				if (s + size > base + o.win)
					size = base + o.win - s;
			}
			/* would a leaf be cut at either end? */
			cut = false;
			{
				struct pt_walk w;

				memset(&w, 0, sizeof(w));
				if (!pt_walk(&pt, s, 0, &w) &&
				    (s & ((1ull << w.leaf_shift) - 1)))
					cut = true;
				memset(&w, 0, sizeof(w));
				if (!pt_walk(&pt, s + size - 1, 0, &w) &&
				    ((s + size) & ((1ull << w.leaf_shift) - 1)))
					cut = true;
			}
			ret = pt_unmap(&pt, s, size, flags, use_g ? &gat : NULL,
				       &done);
			if (cut && !flags) {
				assert_int_equal(ret, -EINVAL);
				nrefuse++;
			} else {
				assert_int_equal(ret, 0);
				assert_int_equal(done,
						 ref_unmap(r, s, s + size));
				nunmap++;
			}
			if (use_g)
				pt_gather_release(&pt, &gat);
		}
		for (k = 0; k < 6; k++) {
			uint64_t a;

			if (r->n && k < 3) {
				const struct iv *v =
					&r->v[test_rng_below(&rng, r->n)];

				a = v->iova + test_rng_below(&rng, v->size);
			} else {
				a = o.base[k % 3] + test_rng_below(&rng, o.win);
			}
			check_walk(&pt, r, a, k & 1);
		}
		if (op % 40 == 39)
			compare_all(&pt, r);
	}
	compare_all(&pt, r);
	total = 0;
	for (k = 0; k < r->n; k++)
		total += r->v[k].size;
	assert_int_equal(pt_unmap(&pt, 0, pt_input_size(&pt), 0, NULL, &done),
			 0);
	assert_int_equal(done, total);
	/* only the root is left */
	if (guest)
		assert_int_equal(G.allocs - a0 - (G.frees - f0), 1);
	else
		assert_int_equal(pool_in_use() - h0,
				 pt.root_size > gran_bytes(&pt) ?
					 pt.root_size :
					 gran_bytes(&pt));
	pt_destroy(&pt);
	assert_true(nmap > 10 && nunmap > 5);
	print_message("# %s seed %#" PRIx64 ": %u maps, %u refused, %u unmaps, "
		      "%u cuts refused\n",
		      guest ? "guest" : "host", seed, nmap, nexist, nunmap,
		      nrefuse);
	free(r);
}

static void test_case(void **state)
{
	unsigned i = (unsigned)(uintptr_t)*state;
	const struct pt_cfg *c = &pt_cases[i].cfg;

	if (c->oas >= 48)
		run_one(c, false, seed0 + i);
	run_one(c, true, seed0 + 1000 + i);
}

static int setup(void **state)
{
	const char *s = getenv("PT_SEED");

	if (s)
		seed0 = strtoull(s, NULL, 0);
	guest_init(&G, 1ull << 31);
	return 0;
}

static int teardown(void **state)
{
	guest_fini(&G);
	return 0;
}

int main(void)
{
	static struct CMUnitTest tests[64];
	unsigned i;

	for (i = 0; i < pt_ncases && i < 64; i++) {
		tests[i].name = pt_cases[i].name;
		tests[i].test_func = test_case;
		tests[i].initial_state = (void *)(uintptr_t)i;
	}
	return _cmocka_run_group_tests("pt-random", tests, i, setup, teardown);
}
