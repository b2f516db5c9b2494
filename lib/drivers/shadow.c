// SPDX-License-Identifier: MIT
/*
 * The shadow engine (shadow.h): composition of a guest stage 1 with the
 * parent's stage 2 into a single-stage host table.
 *
 * A sync iterates the guest's leaves in the range with pt_for_each, whose
 * table reads go through the parent's stage 2 (a table the parent does not
 * map readable reads as empty: nothing is composed beneath it, the fault
 * path reports what the hardware would). Contiguous stage-1 leaves of one
 * size and permission form a run; the run's GPAs are iterated in the
 * parent, and contiguous host ranges of one stage-2 leaf size and
 * permission are mapped with one pt_map, whose leaves are limited to the
 * smaller of the two leaf sizes. So a range of N pages costs one table
 * walk per run and a tight loop per page.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/shadow.h"
#include "util/alloc.h"

/* A guest table page and the IOVAs composed through it. */
struct shadow_table {
	struct itree_node node; /* its GPA range */
	uint64_t lo, hi;
};

/* What an iteration reads where the parent maps no readable page. */
static uint64_t zero_table[8192] __attribute__((aligned(65536)));

static uint64_t top_of(const struct shadow *s)
{
	return pt_input_size(&s->sh) - 1;
}

/* Leaf sizes of the shadow up to 2^@shift. */
static uint64_t sizes_upto(const struct shadow *s, unsigned shift)
{
	uint64_t lim = shift >= 63 ? ~0ull : (2ull << shift) - 1;

	return pt_leaf_sizes(&s->sh) & lim;
}

static uint64_t min_size(uint64_t sizes)
{
	return sizes & (~sizes + 1);
}

/* ---- shadow table memory: pool pages, frees deferred ---- */

static void *sh_table(void *ctx, uint64_t pa, size_t size, bool write)
{
	(void)ctx;
	(void)size;
	(void)write;
	return (void *)(uintptr_t)pa;
}

static int sh_alloc(void *ctx, size_t size, uint64_t *pa)
{
	struct shadow *s = ctx;
	void *p = pt_pool_alloc(size);

	if (!p)
		return -ENOMEM;
	__atomic_add_fetch(&s->table_bytes, size, __ATOMIC_RELAXED);
	*pa = (uint64_t)(uintptr_t)p;
	return 0;
}

static void sh_free(void *ctx, uint64_t pa, size_t size)
{
	struct shadow *s = ctx;
	uint64_t *t = (uint64_t *)(uintptr_t)pa;

	if (t == s->slot_tbl)
		s->slot_tbl = NULL;
	if (s->destroying) {
		memset(t, 0, size);
		pt_pool_free(t, size);
		__atomic_sub_fetch(&s->table_bytes, size, __ATOMIC_RELAXED);
		return;
	}
	/* An emptied table: all zero but the link, which is aligned and so
	 * reads as an invalid descriptor in every format. Tables below the
	 * start level are one granule. */
	__atomic_store_n(&t[0], s->deferred, __ATOMIC_RELEASE);
	s->deferred = pa;
}

static const struct pt_mem_ops sh_ops = {
	.table = sh_table,
	.alloc = sh_alloc,
	.free = sh_free,
};

uint64_t shadow_take_tables(struct shadow *s)
{
	uint64_t l = s->deferred;

	s->deferred = 0;
	return l;
}

void shadow_free_tables(struct shadow *s, uint64_t list)
{
	size_t size = (size_t)1 << s->sh.cfg.granule_shift;

	while (list) {
		uint64_t *t = (uint64_t *)(uintptr_t)list;

		list = t[0];
		t[0] = 0;
		pt_pool_free(t, size);
		__atomic_sub_fetch(&s->table_bytes, size, __ATOMIC_RELAXED);
	}
}

/* ---- the reverse map of guest table pages ---- */

static struct shadow_table *to_st(struct itree_node *n)
{
	return (struct shadow_table *)n;
}

/* Record that [lo, hi] is composed through the table at [gpa, gpa+size). */
static int table_record(struct shadow *s, uint64_t gpa, size_t size,
			uint64_t lo, uint64_t hi)
{
	uint64_t last = gpa + size - 1;
	struct itree_node *n = itree_iter_first(&s->tables, gpa, last);
	struct shadow_table *t;

	if (n) {
		/* Another table overlapping this one: only the same one (or
		 * one that contains it) can be widened. */
		if (n->start > gpa || n->last < last)
			return -EEXIST;
		t = to_st(n);
		if (lo < t->lo)
			t->lo = lo;
		if (hi > t->hi)
			t->hi = hi;
		return 0;
	}
	t = xzalloc(sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->node.start = gpa;
	t->node.last = last;
	t->lo = lo;
	t->hi = hi;
	itree_insert(&s->tables, &t->node);
	return 0;
}

static void tcache_clear(struct shadow *s)
{
	memset(s->tcache, 0, sizeof(s->tcache));
	s->s1p.valid = false;
}

static void tables_clear(struct shadow *s)
{
	struct itree_node *n;

	tcache_clear(s);
	while ((n = itree_first(&s->tables))) {
		itree_remove(&s->tables, n);
		xfree(n);
	}
}

/* ---- stage 2 ---- */

/* Host address of [gpa, gpa + size) if the parent maps all of it readable
 * within one leaf. */
static bool s2_table(const struct shadow *s, uint64_t gpa, size_t size,
		     uint64_t *hpa)
{
	struct pt_walk w = { 0 };

	if (s->s2_bits < 64 && ((gpa + size - 1) >> s->s2_bits))
		return false;
	if (pt_walk(s->s2, gpa, 0, &w) || !(w.perm & PT_PERM_R))
		return false;
	if ((gpa & ((1ull << w.leaf_shift) - 1)) + size >
	    (1ull << w.leaf_shift))
		return false;
	*hpa = w.oa;
	return true;
}

/* ---- sync ---- */

struct sync_ctx {
	struct shadow *s;
	uint64_t start, last;
	uint64_t pos; /* the iteration is past [start, pos) */
	uint64_t resume; /* after S1_RESUME */
	int err;
	/* stage-1 run: [iova, iova + len) -> gpa, leaf 2^shift, perm */
	uint64_t iova, gpa, len;
	uint32_t perm;
	unsigned shift;
	bool run;
	/* composed run: -> gpa -> hpa, shadow prot, leaves up to 2^shift */
	uint64_t c_iova, c_gpa, c_hpa, c_len;
	uint32_t c_prot;
	unsigned c_shift;
	bool crun;
	/* the last compose(): k_s1 over k_s2 gave k_prot (if k_ok) */
	uint32_t k_s1, k_s2, k_prot;
	bool k_ok, k_valid;
};

static void *table_of(struct shadow *s, struct sync_ctx *c, uint64_t gpa,
		      size_t size)
{
	struct shadow_tcache *e;
	struct shadow_table *t;
	uint64_t hpa;

	/* A table read lately, whose node already covers the range: no
	 * stage-2 walk, no reverse-map lookup. */
	e = &s->tcache[(gpa >> 12) & (SHADOW_TCACHE - 1)];
	t = e->node;
	if (t && e->gpa == gpa && t->node.last == gpa + size - 1 &&
	    t->lo <= c->pos && t->hi >= c->last)
		return (void *)(uintptr_t)e->hpa;
	/* Record before composing anything beneath: a parent unmap of the
	 * table must find what came through it (nothing before pos). */
	if (!s2_table(s, gpa, size, &hpa) ||
	    table_record(s, gpa, size, c->pos, c->last))
		return zero_table;
	e->gpa = gpa;
	e->hpa = hpa;
	e->node = itree_iter_first(&s->tables, gpa, gpa);
	return (void *)(uintptr_t)hpa;
}

/* The sync's accessor: whole tables (leaf iteration), or one descriptor
 * (a walk), which is looked up and recorded as its whole table. */
/* The guest table holding the descriptor at @gpa: its GPA, *tsize. */
static uint64_t table_base(const struct shadow *s, uint64_t gpa,
			   uint64_t *tsize)
{
	if (gpa - s->s1.root < s->s1.root_size) {
		*tsize = s->s1.root_size;
		return s->s1.root;
	}
	*tsize = 1ull << s->s1.cfg.granule_shift;
	return gpa & ~(*tsize - 1);
}

static void *iter_table(void *ctx, uint64_t gpa, size_t size, bool write)
{
	struct shadow *s = ctx;
	struct sync_ctx *c = s->iter;
	uint64_t base = gpa, tsize = size;

	if (write || !c || size > sizeof(zero_table))
		return NULL;
	if (size == 8)
		base = table_base(s, gpa, &tsize);
	return (uint8_t *)table_of(s, c, base, tsize) + (gpa - base);
}

static const struct pt_mem_ops iter_ops = {
	.table = iter_table,
};

/* Room for one more composed run in s->pend. */
static int pend_reserve(struct shadow *s)
{
	struct shadow_pend *p;
	size_t cap;

	if (s->npend < s->pend_cap)
		return 0;
	cap = s->pend_cap ? s->pend_cap * 2 : 16;
	p = xrealloc(s->pend, cap * sizeof(*p));
	if (!p)
		return -ENOMEM;
	s->pend = p;
	s->pend_cap = cap;
	return 0;
}

static void flush_composed(struct sync_ctx *c)
{
	struct shadow *s = c->s;
	uint64_t sizes;
	int rc;

	if (!c->crun)
		return;
	c->crun = false;
	sizes = sizes_upto(s, c->c_shift);
	/* A shadow granule larger than the composed leaves: not
	 * representable, the fault path translates these. */
	if (!sizes ||
	    ((c->c_iova | c->c_hpa | c->c_len) & (min_size(sizes) - 1)))
		return;
	/* Nothing is mapped that the reverse map cannot hold. */
	rc = pend_reserve(s);
	if (!rc)
		rc = pt_map(&s->sh, c->c_iova, c->c_hpa, c->c_len, c->c_prot,
			    sizes);
	if (!rc) {
		s->pend[s->npend++] =
			(struct shadow_pend){ c->c_iova, c->c_gpa, c->c_len };
	} else if (rc == -ENOMEM)
		c->err = rc;
}

/* Stage-2 leaves of 2^@s2shift [g2, g2 + size) -> hpa under the stage-1
 * run. */
static int s2_leaf(struct sync_ctx *c, uint64_t g2, uint64_t hpa, uint64_t size,
		   unsigned s2shift, uint32_t perm)
{
	uint64_t rlast = c->gpa + c->len - 1;
	uint64_t lo = g2 > c->gpa ? g2 : c->gpa;
	uint64_t hi = g2 + (size - 1) < rlast ? g2 + (size - 1) : rlast;
	uint64_t iova = c->iova + (lo - c->gpa), h = hpa + (lo - g2);
	uint64_t len = hi - lo + 1;
	unsigned shift = s2shift;
	uint32_t prot;

	if (shift > c->shift)
		shift = c->shift;
	/* Runs of one permission compose alike: one compose() call. */
	if (!c->k_valid || c->k_s1 != c->perm || c->k_s2 != perm) {
		c->k_valid = true;
		c->k_s1 = c->perm;
		c->k_s2 = perm;
		c->k_ok = c->s->compose(c->s, c->perm, perm, &c->k_prot);
	}
	if (!c->k_ok) {
		flush_composed(c);
		return c->err;
	}
	prot = c->k_prot;
	if (c->crun && c->c_iova + c->c_len == iova &&
	    c->c_hpa + c->c_len == h && c->c_gpa + c->c_len == lo &&
	    c->c_prot == prot && c->c_shift == shift) {
		c->c_len += len;
		return 0;
	}
	flush_composed(c);
	if (c->err)
		return c->err;
	c->crun = true;
	c->c_iova = iova;
	c->c_gpa = lo;
	c->c_hpa = h;
	c->c_len = len;
	c->c_prot = prot;
	c->c_shift = shift;
	return 0;
}

/*
 * How many stage-2 leaves from entry @idx of the table @rec found hold the
 * same attributes and continue the output address (descriptors that differ
 * from the first only by k leaf sizes in the address field), at most @max:
 * one walk per such block instead of one per leaf. Below 2^48 the address
 * field of every format is linear.
 */
static uint64_t s2_block(const struct shadow *s, const struct pt_walk *w,
			 const struct pt_walk_level *rec, uint64_t max)
{
	const uint64_t *t = (const uint64_t *)(uintptr_t)rec->table;
	uint64_t stride = 1ull << w->leaf_shift, k, lim;
	unsigned oas = s->s2->cfg.oas < 48 ? s->s2->cfg.oas : 48;
	uint64_t n = 1ull << (s->s2->cfg.granule_shift - 3);

	if (rec->level == s->s2->start_level || w->oa >> oas)
		return 1;
	lim = ((1ull << oas) - (w->oa & ~(stride - 1))) >> w->leaf_shift;
	if (lim < max)
		max = lim;
	if (n - rec->index < max)
		max = n - rec->index;
	for (k = 1; k < max; k++)
		if (__atomic_load_n(&t[rec->index + k], __ATOMIC_RELAXED) !=
		    w->desc + k * stride)
			break;
	return k;
}

/* Runs this short take one inlined stage-2 walk per leaf; longer ones one
 * walk per block of like leaves in one table. */
#define SHORT_RUN (4ull << 12)

static void flush_s1(struct sync_ctx *c)
{
	struct shadow *s = c->s;
	struct pt_walk_level rec[PT_MAX_LEVELS];
	uint64_t g, glast;
	bool blocks;

	if (!c->run)
		return;
	c->run = false;
	glast = c->gpa + c->len - 1;
	/* GPAs the stage 2 does not translate compose nothing. */
	if (glast < c->gpa || (s->s2_bits < 64 && (glast >> s->s2_bits)))
		return;
	blocks = c->len > SHORT_RUN;
	for (g = c->gpa;;) {
		struct pt_walk w = { .rec = blocks ? rec : NULL };
		uint64_t mask, base, n = 1;

		if (pt_walk(s->s2, g, 0, &w)) {
			/* Not mapped: on to the next smallest leaf. */
			flush_composed(c);
			if (c->err)
				break;
			mask = min_size(pt_leaf_sizes(s->s2)) - 1;
			base = g & ~mask;
		} else {
			mask = (1ull << w.leaf_shift) - 1;
			base = g & ~mask;
			if (blocks && w.nrec)
				n = s2_block(s, &w, &rec[w.nrec - 1],
					     ((glast - base) >> w.leaf_shift) +
						     1);
			if (s2_leaf(c, base, w.oa & ~mask, n << w.leaf_shift,
				    w.leaf_shift, w.perm))
				break;
		}
		g = base + (n << __builtin_ctzll(mask + 1));
		if (!g || g > glast)
			break;
	}
	flush_composed(c);
}

/* s1_leaf's answer when it took several leaves: iterate again from
 * c->resume. */
#define S1_RESUME 1
/* Leaves left in the range for which a block is looked for. */
#define S1_BLOCK_MIN 8

/*
 * Stage-1 leaves of one leaf table from @iova on that a single walk's
 * descriptor describes (they differ from it only by k granules in the
 * address field): their number (0 if none could be read), *gpa and *perm
 * of the first as the walk decoded it.
 */
static uint64_t s1_block(struct sync_ctx *c, uint64_t iova, uint64_t *gpa,
			 uint32_t *perm)
{
	struct shadow *s = c->s;
	struct pt_walk_level rec[PT_MAX_LEVELS];
	struct pt_walk w = { .rec = rec };
	unsigned g = s->s1.cfg.granule_shift;
	unsigned oas = s->s1.cfg.oas < 48 ? s->s1.cfg.oas : 48;
	const struct pt_walk_level *r;
	const uint64_t *t;
	uint64_t k, max, lim;

	if (pt_walk(&s->s1, iova, 0, &w) || w.leaf_shift != g || !w.nrec)
		return 0;
	r = &rec[w.nrec - 1];
	if (r->level != 0 || r->level == s->s1.start_level || w.oa >> oas)
		return 0;
	t = table_of(s, c, r->table, (size_t)1 << g);
	if (t == zero_table)
		return 0;
	max = (1ull << (g - 3)) - r->index;
	lim = ((c->last - iova) >> g) + 1;
	if (lim < max)
		max = lim;
	lim = ((1ull << oas) - w.oa) >> g;
	if (lim < max)
		max = lim;
	for (k = 1; k < max; k++)
		if (__atomic_load_n(&t[r->index + k], __ATOMIC_RELAXED) !=
		    w.desc + (k << g))
			break;
	*gpa = w.oa;
	*perm = w.perm;
	return k;
}

static int s1_leaf(void *ctx, uint64_t iova, uint64_t gpa, uint64_t size,
		   uint32_t perm)
{
	struct sync_ctx *c = ctx;
	unsigned shift = (unsigned)__builtin_ctzll(size);
	uint64_t k = 0;

	/* A granule leaf with more of the range after it: take the like
	 * leaves of its table at once. */
	if (size == 1ull << c->s->s1.cfg.granule_shift && iova >= c->start &&
	    ((c->last - iova) >> shift) >= S1_BLOCK_MIN)
		k = s1_block(c, iova, &gpa, &perm);
	if (k > 1) {
		size = k << shift;
		c->resume = iova + size;
	}

	if (iova < c->start) {
		gpa += c->start - iova;
		size -= c->start - iova;
		iova = c->start;
	}
	if (iova + (size - 1) > c->last)
		size = c->last - iova + 1;
	c->pos = iova + size;
	if (c->run && c->iova + c->len == iova && c->gpa + c->len == gpa &&
	    c->perm == perm && c->shift == shift) {
		c->len += size;
		return k > 1 ? S1_RESUME : 0;
	}
	flush_s1(c);
	if (c->err)
		return c->err;
	c->run = true;
	c->iova = iova;
	c->gpa = gpa;
	c->len = size;
	c->perm = perm;
	c->shift = shift;
	return k > 1 ? S1_RESUME : 0;
}

/* Widen [*start, *last] to the shadow leaves it cuts. */
static void widen(const struct shadow *s, uint64_t *start, uint64_t *last)
{
	struct pt_walk w = { 0 };

	if (!pt_walk(&s->shw, *start, 0, &w)) {
		uint64_t mask = (1ull << w.leaf_shift) - 1;

		*start &= ~mask;
		/* Both ends in that leaf: one walk. */
		if ((*last & ~mask) == *start) {
			*last |= mask;
			return;
		}
	}
	w = (struct pt_walk){ 0 };
	if (!pt_walk(&s->shw, *last, 0, &w))
		*last |= (1ull << w.leaf_shift) - 1;
}

/* Clamp an IOVA range to the input space (a range beyond it, or the
 * upper half of a sign-extended space, folds onto the whole or its low
 * bits). */
static void clamp(const struct shadow *s, uint64_t *start, uint64_t *last)
{
	uint64_t top = top_of(s);

	if (*last - *start >= top) {
		*start = 0;
		*last = top;
		return;
	}
	*start &= top;
	*last &= top;
	if (*start > *last) {
		*start = 0;
		*last = top;
	}
}

static void range_add(uint64_t *istart, uint64_t *ilast, uint64_t lo,
		      uint64_t hi)
{
	if (lo < *istart)
		*istart = lo;
	if (hi > *ilast)
		*ilast = hi;
}

/* Unmap [*lo, *hi] from the shadow, widened to the leaves it cuts (and
 * returned so). */
static void unmap_range(struct shadow *s, uint64_t *lo, uint64_t *hi,
			uint64_t *istart, uint64_t *ilast)
{
	uint64_t unmapped = 0, m = min_size(pt_leaf_sizes(&s->sh)) - 1;

	/* Whole pages of the shadow (an invalidation's bounds need not be
	 * aligned). */
	*lo &= ~m;
	*hi |= m;
	/* No leaf cut at either end, the common case, needs no walk. */
	if (pt_unmap(&s->sh, *lo, *hi - *lo + 1, 0, NULL, &unmapped)) {
		widen(s, lo, hi);
		/* Whole leaves, tables freed through sh_free: cannot
		 * fail. */
		(void)pt_unmap(&s->sh, *lo, *hi - *lo + 1, 0, NULL, &unmapped);
	}
	range_add(istart, ilast, *lo, *hi);
}

/* Forget the runs of IOVAs [lo, hi] (whose shadow entries are gone or
 * replaced); a run that could not be split loses its rest too. */
static void drop_range_runs(struct shadow *s, uint64_t lo, uint64_t hi,
			    uint64_t *istart, uint64_t *ilast)
{
	uint64_t xs, xl;

	while (rmap_trim(&s->runs, lo, hi, &xs, &xl)) {
		lo = xs;
		hi = xl;
		unmap_range(s, &lo, &hi, istart, ilast);
	}
}

/* Drop the shadow entries of IOVAs [lo, hi] and their runs. */
static void drop_range(struct shadow *s, uint64_t lo, uint64_t hi,
		       uint64_t *istart, uint64_t *ilast)
{
	unmap_range(s, &lo, &hi, istart, ilast);
	drop_range_runs(s, lo, hi, istart, ilast);
}

/*
 * After a sync of [start, last] mapped s->pend: record the runs. The
 * common resync of pages the guest did not move leaves one run that
 * already holds all of them as it is: nothing to do.
 */
static void pend_commit(struct shadow *s, uint64_t start, uint64_t last,
			uint64_t *istart, uint64_t *ilast)
{
	struct shadow_run *r = rmap_covering(&s->runs, start, last);
	uint64_t next = start;
	size_t i;

	for (i = 0; r && i < s->npend; i++) {
		const struct shadow_pend *p = &s->pend[i];

		if (p->iova != next || rmap_gpa(r, p->iova) != p->gpa)
			break;
		next += p->len;
	}
	if (r && i == s->npend && next - 1 == last)
		goto out;
	drop_range_runs(s, start, last, istart, ilast);
	for (i = 0; i < s->npend; i++) {
		const struct shadow_pend *p = &s->pend[i];

		if (rmap_add(&s->runs, p->iova, p->gpa, p->len)) {
			uint64_t lo = p->iova, hi = p->iova + (p->len - 1);

			unmap_range(s, &lo, &hi, istart, ilast);
		}
	}
out:
	s->npend = 0;
}

/* Remember the guest walk @w of @iova (s1p_walk), whose table reads were
 * recorded for @c. */
static void s1p_save(struct shadow *s, struct sync_ctx *c, uint64_t iova,
		     const struct pt_walk *w, const struct pt_walk_level *rec)
{
	struct shadow_s1path *p = &s->s1p;
	unsigned i;

	p->valid = false;
	if (!w->nrec || rec[w->nrec - 1].level != 0 ||
	    w->leaf_shift != s->s1.cfg.granule_shift)
		return;
	for (i = 0; i < w->nrec; i++) {
		const struct pt_walk_level *r = &rec[i];
		uint64_t da = r->table + 8ull * r->index, tsize;
		uint64_t base = table_base(s, da, &tsize);
		struct shadow_tcache *e =
			&s->tcache[(base >> 12) & (SHADOW_TCACHE - 1)];
		uint64_t *t = table_of(s, c, base, tsize);

		if (t == zero_table || e->gpa != base || !e->node)
			return;
		p->ptr[i] = (uint64_t *)((uint8_t *)t + (da - base));
		p->desc[i] = r->desc;
		p->node[i] = e->node;
	}
	p->ptr[w->nrec - 1] -= rec[w->nrec - 1].index;
	p->nrec = w->nrec;
	p->iova = iova;
	p->gpa = w->oa;
	p->leaf = w->desc;
	p->perm = w->perm;
	p->valid = true;
}

/* What the guest's stage 1 says of one page. */
enum s1_page { S1_UNKNOWN, S1_ABSENT, S1_MAPPED };

/*
 * The guest walk of @iova by the last one's path: the tables above the
 * leaf table read as they were, the page's hull recorded in every table
 * on it, and a leaf that is zero (S1_ABSENT) or differs from the last one
 * only by k granules in the address field (linear below 2^48 in every
 * format), so that it decodes alike at another GPA (S1_MAPPED).
 */
static enum s1_page s1p_walk(struct shadow *s, uint64_t iova, uint64_t *gpa,
			     uint32_t *perm)
{
	const struct shadow_s1path *p = &s->s1p;
	unsigned g = s->s1.cfg.granule_shift, i;
	unsigned oas = s->s1.cfg.oas < 48 ? s->s1.cfg.oas : 48;
	uint64_t last = iova + ((1ull << g) - 1), d, delta;

	if (!p->valid || (iova >> (2 * g - 3)) != (p->iova >> (2 * g - 3)))
		return S1_UNKNOWN;
	for (i = 0; i < p->nrec; i++) {
		const struct shadow_table *t = p->node[i];

		if (t->lo > iova || t->hi < last)
			return S1_UNKNOWN;
		if (i + 1 < p->nrec &&
		    __atomic_load_n(p->ptr[i], __ATOMIC_ACQUIRE) != p->desc[i])
			return S1_UNKNOWN;
	}
	d = __atomic_load_n(
		&p->ptr[p->nrec - 1][(iova >> g) & ((1ull << (g - 3)) - 1)],
		__ATOMIC_ACQUIRE);
	/* An all-zero descriptor is invalid in every format. */
	if (!d)
		return S1_ABSENT;
	if (d >= p->leaf) {
		delta = d - p->leaf;
		if ((delta & ((1ull << g) - 1)) || delta >= (1ull << oas) ||
		    p->gpa + delta >= (1ull << oas))
			return S1_UNKNOWN;
		*gpa = p->gpa + delta;
	} else {
		delta = p->leaf - d;
		if ((delta & ((1ull << g) - 1)) || delta > p->gpa)
			return S1_UNKNOWN;
		*gpa = p->gpa - delta;
	}
	*perm = p->perm;
	return S1_MAPPED;
}

/* The guest walk of the granule page at @iova through the sync accessor,
 * which records the guest's table pages for it as the full sync would;
 * a granule leaf's path is kept for s1p_walk. -1: a larger leaf, or a
 * fault the full sync must judge. */
static int s1_walk_page(struct shadow *s, uint64_t iova, uint64_t *gpa,
			uint32_t *perm)
{
	struct pt_walk_level rec[PT_MAX_LEVELS];
	struct pt_walk w = { .rec = rec };
	struct sync_ctx c = { .s = s };
	unsigned g = s->s1.cfg.granule_shift;
	int rc;

	c.start = iova;
	c.pos = iova;
	c.last = iova + ((1ull << g) - 1);
	s->iter = &c;
	rc = pt_walk(&s->s1, iova, 0, &w);
	if (!rc && w.leaf_shift == g)
		s1p_save(s, &c, iova, &w, rec);
	s->iter = NULL;
	if (rc)
		return w.fault == PT_FAULT_TRANSLATION ? S1_ABSENT : -1;
	if (w.leaf_shift != g)
		return -1;
	*gpa = w.oa;
	*perm = w.perm;
	return S1_MAPPED;
}

/* The shadow leaf of the page at @gpa with stage-1 permissions @perm:
 * false if the sync would compose none. */
static bool compose_page(const struct shadow *s, uint64_t gpa, uint32_t perm,
			 unsigned g, uint64_t *hpa, uint32_t *prot)
{
	struct pt_walk w = { 0 };

	if (s->s2_bits < 64 && (gpa >> s->s2_bits))
		return false;
	if (pt_walk(s->s2, gpa, 0, &w) || w.leaf_shift < g ||
	    !s->compose(s, perm, w.perm, prot))
		return false;
	*hpa = w.oa;
	return true;
}

/* Whether the reverse map says the page at @iova comes from @gpa. */
static bool page_claimed(struct shadow *s, uint64_t iova, uint64_t gpa,
			 uint64_t m)
{
	struct shadow_run *r = rmap_covering(&s->runs, iova, iova + (m - 1));

	return r && rmap_gpa(r, iova) == gpa;
}

/* The slot of @iova's granule leaf in the shadow (pt_leaf_slot), through
 * a one-table cache (one-page syncs come in neighbours): NULL if no
 * last-level table holds it. */
static uint64_t *sh_slot(struct shadow *s, uint64_t iova, unsigned g)
{
	uint64_t region = iova >> (2 * g - 3), *slot;
	size_t ix = (size_t)(iova >> g) & ((1ull << (g - 3)) - 1);

	if (s->slot_tbl && s->slot_region == region)
		return s->slot_tbl + ix;
	slot = pt_leaf_slot(&s->shw, iova);
	if (slot) {
		s->slot_tbl = slot - ix;
		s->slot_region = region;
	}
	return slot;
}

/*
 * The one-page sync (the common invalidation, after the guest mapped,
 * unmapped or changed a page): the guest leaf read by the last walk's
 * path, one stage-2 walk, and one store into the shadow's last-level
 * table (pt_leaf_slot; pt_map where there is none yet). Emptied shadow
 * tables stay until a range sync or drop covers them. A run of the
 * reverse map may outlive the entries it describes (an unmapped page
 * keeps its claim: a parent unmap then drops what is no longer there); a
 * page mapped again from another GPA takes the claim over. False: not
 * one granule page in both tables (the full sync does it).
 */
static bool sync_page(struct shadow *s, uint64_t start, uint64_t last,
		      uint64_t *istart, uint64_t *ilast)
{
	uint64_t m = min_size(pt_leaf_sizes(&s->sh));
	unsigned g = (unsigned)__builtin_ctzll(m);
	uint64_t iova = start & ~(m - 1), gpa = 0, hpa = 0, d = 0, cur = 0;
	uint32_t perm = 0, prot = 0;
	struct pt_walk w = { 0 };
	bool same, claimed;
	uint64_t *slot;
	int st;

	if ((last & ~(m - 1)) != iova || s->s1.cfg.granule_shift != g)
		return false;
	st = s1p_walk(s, iova, &gpa, &perm);
	if (st == S1_UNKNOWN)
		st = s1_walk_page(s, iova, &gpa, &perm);
	if (st < 0)
		return false;
	/* d: the leaf the full sync would map, 0 for none (a leaf pt_map
	 * would refuse included). */
	if (st == S1_MAPPED && compose_page(s, gpa, perm, g, &hpa, &prot) &&
	    pt_leaf_desc(&s->sh, hpa, prot, &d))
		d = 0;
	slot = sh_slot(s, iova, g);
	/* No last-level table: a hole, or a larger shadow leaf. */
	if (!slot && !pt_walk(&s->shw, iova, 0, &w))
		return false;
	if (slot)
		cur = __atomic_load_n(slot, __ATOMIC_RELAXED);
	same = cur == d || (cur && d && pt_leaf_same(&s->sh, cur, d));
	claimed = !d || page_claimed(s, iova, gpa, m);
	if (same && claimed) {
		s->syncs_same++;
		return true;
	}
	range_add(istart, ilast, iova, iova + (m - 1));
	if (!claimed) {
		/* May unmap other pages, even free this page's table. */
		drop_range_runs(s, iova, iova + (m - 1), istart, ilast);
		if (rmap_add(&s->runs, iova, gpa, m))
			d = 0; /* no entry the reverse map does not know */
		else if (same)
			return true; /* only the claim moved */
		slot = sh_slot(s, iova, g);
	}
	if (slot)
		__atomic_store_n(slot, d, __ATOMIC_RELEASE);
	else if (d)
		(void)pt_map(&s->sh, iova, hpa, m, prot, m);
	return true;
}

/* The full sync of the clamped [start, last] (apart from shadow_sync so
 * that the one-page check does not pay for its context). */
static __attribute__((noinline)) void sync_range(struct shadow *s,
						 uint64_t start, uint64_t last,
						 uint64_t *istart,
						 uint64_t *ilast)
{
	struct sync_ctx c = { .s = s };

	unmap_range(s, &start, &last, istart, ilast);
	/* A sync of everything starts the reverse maps afresh. */
	if (!start && last == top_of(s)) {
		tables_clear(s);
		rmap_clear(&s->runs);
	}
	c.start = start;
	c.pos = start;
	c.last = last;
	s->iter = &c;
	s->npend = 0;
	while (pt_for_each(&s->s1, c.pos, last, s1_leaf, &c) == S1_RESUME &&
	       c.resume && c.resume <= last)
		;
	flush_s1(&c);
	s->iter = NULL;
	pend_commit(s, start, last, istart, ilast);
}

int shadow_sync(struct shadow *s, uint64_t start, uint64_t last,
		uint64_t *istart, uint64_t *ilast)
{
	if (start > last)
		return -EINVAL;
	clamp(s, &start, &last);
	*istart = UINT64_MAX;
	*ilast = 0;
	if (!sync_page(s, start, last, istart, ilast))
		sync_range(s, start, last, istart, ilast);
	s->syncs++;
	/* Out of memory: what is missing is filled by the fault path. */
	return 0;
}

/* The fill's stage-1 leaf (read through the sync accessor, which records
 * the guest's table pages). */
struct fill_ctx {
	uint64_t iova, gpa, size;
	bool found;
};

static int fill_leaf(void *ctx, uint64_t iova, uint64_t gpa, uint64_t size,
		     uint32_t perm)
{
	struct fill_ctx *f = ctx;

	(void)perm;
	f->found = true;
	f->iova = iova;
	f->gpa = gpa;
	f->size = size;
	return 1;
}

int shadow_fill(struct shadow *s, uint64_t iova, uint64_t hpa, unsigned shift,
		uint32_t prot)
{
	uint64_t size, is = UINT64_MAX, il = 0, sizes, min, lo, hi, gpa;
	uint64_t tlo, thi, xs, xl;
	struct sync_ctx c = { .s = s };
	struct fill_ctx f = { 0 };
	struct pt_walk w = { 0 };
	struct shadow_run *r;
	bool claim = false, mapped;
	int rc;

	if (shift >= 64 || iova > top_of(s))
		return -EINVAL;
	sizes = sizes_upto(s, shift);
	if (!sizes)
		return -EINVAL;
	size = 1ull << shift;
	lo = iova & ~(size - 1);
	hi = lo + (size - 1);
	/* Where the guest's tables lead now, recording the table pages. */
	c.start = lo;
	c.pos = lo;
	c.last = hi;
	s->iter = &c;
	pt_for_each(&s->s1, iova, iova, fill_leaf, &f);
	s->iter = NULL;
	if (!f.found || f.size < size)
		return -EAGAIN;
	gpa = f.gpa + (lo - f.iova);
	if ((s->s2_bits < 64 && ((gpa + size - 1) >> s->s2_bits)) ||
	    pt_walk(s->s2, gpa, 0, &w) || w.leaf_shift < shift ||
	    w.oa != (hpa & ~(size - 1)))
		return -EAGAIN;
	/* The nodes a split and the claim may need, before anything
	 * changes. */
	if (rmap_reserve(&s->runs, 2))
		return -ENOMEM;
	tlo = lo;
	thi = hi;
	w = (struct pt_walk){ 0 };
	mapped = !pt_walk(&s->shw, iova, 0, &w);
	if (mapped) {
		tlo &= ~((1ull << w.leaf_shift) - 1);
		thi |= (1ull << w.leaf_shift) - 1;
	}
	r = rmap_covering(&s->runs, lo, hi);
	if (!r || rmap_gpa(r, lo) != gpa) {
		/* Entries composed otherwise may be cached by the hardware:
		 * only the invalidation the guest owes (a sync) replaces
		 * them, keeping their claims until then. A page without an
		 * entry may hold a claim a one-page sync left: it goes. */
		if (itree_iter_first(&s->runs.iova, tlo, thi)) {
			if (mapped || size != min_size(pt_leaf_sizes(&s->sh)))
				return -EAGAIN;
			/* With a node reserved: cannot fail. */
			(void)rmap_trim(&s->runs, lo, hi, &xs, &xl);
		}
		claim = true;
	}
	/* The leaf the fault went through (its pages keep their claims:
	 * the same GPAs). */
	unmap_range(s, &tlo, &thi, &is, &il);
	rc = pt_map(&s->sh, lo, hpa & ~(size - 1), size, prot, sizes);
	if (rc == -EEXIST) {
		/* Other leaves inside the block: only the page. */
		min = min_size(sizes);
		gpa += (iova & ~(min - 1)) - lo;
		lo = iova & ~(min - 1);
		size = min;
		rc = pt_map(&s->sh, lo, hpa & ~(min - 1), min, prot, min);
	}
	if (rc)
		return rc;
	/* With the node reserved: cannot fail. */
	if (claim)
		(void)rmap_add(&s->runs, lo, gpa, size);
	s->fills++;
	return 0;
}

/* ---- parent unmap ---- */

void shadow_drop_all(struct shadow *s, uint64_t *istart, uint64_t *ilast)
{
	uint64_t unmapped = 0;

	(void)pt_unmap(&s->sh, 0, top_of(s) + 1, 0, NULL, &unmapped);
	tables_clear(s);
	rmap_clear(&s->runs);
	range_add(istart, ilast, 0, top_of(s));
	s->drops++;
}

void shadow_drop_parent(struct shadow *s, uint64_t gstart, uint64_t glast,
			uint64_t *istart, uint64_t *ilast)
{
	struct itree_node *n;
	uint64_t lo, hi;

	/* The parent's translations of table pages are about to change. */
	tcache_clear(s);
	/* Entries composed through a guest table page in the range. */
	while ((n = itree_iter_first(&s->tables, gstart, glast))) {
		struct shadow_table *t = to_st(n);

		drop_range(s, t->lo, t->hi, istart, ilast);
		itree_remove(&s->tables, n);
		xfree(t);
		s->drops++;
	}
	/* Entries composed through a data page in the range. */
	while (rmap_find_gpa(&s->runs, gstart, glast, &lo, &hi)) {
		drop_range(s, lo, hi, istart, ilast);
		s->drops++;
	}
}

/* ---- lifetime ---- */

int shadow_init(struct shadow *s, const struct shadow_cfg *cfg)
{
	int rc;

	memset(s, 0, sizeof(*s));
	s->s2 = cfg->s2;
	s->s2_bits = cfg->s2_bits;
	s->compose = cfg->compose;
	s->priv = cfg->priv;
	pthread_mutex_init(&s->lock, NULL);
	rc = pt_attach(&s->s1, &cfg->s1, (struct pt_mem){ &iter_ops, s },
		       cfg->s1_root);
	if (!rc)
		rc = pt_init(&s->sh, &cfg->sh, (struct pt_mem){ &sh_ops, s });
	/* Its tables are host memory: walks need no accessor. */
	if (!rc) {
		rc = pt_attach(&s->shw, &cfg->sh, (struct pt_mem){ 0 },
			       s->sh.root);
		if (rc) {
			s->destroying = true;
			pt_destroy(&s->sh);
		}
	}
	if (rc) {
		pthread_mutex_destroy(&s->lock);
		return rc;
	}
	return 0;
}

void shadow_fini(struct shadow *s)
{
	shadow_free_tables(s, shadow_take_tables(s));
	s->destroying = true;
	pt_destroy(&s->sh);
	tables_clear(s);
	rmap_clear(&s->runs);
	xfree(s->pend);
	pthread_mutex_destroy(&s->lock);
}

size_t shadow_table_bytes(const struct shadow *s)
{
	return __atomic_load_n(&s->table_bytes, __ATOMIC_RELAXED);
}

size_t shadow_rmap_bytes(const struct shadow *s)
{
	return s->tables.count * sizeof(struct shadow_table) +
	       rmap_bytes(&s->runs);
}

/* ---- the nested walk for fault paths ---- */

static void *walk_table(void *ctx, uint64_t gpa, size_t size, bool write)
{
	struct shadow_walk *w = ctx;
	const struct shadow *s = w->s;
	unsigned fl = w->s2_flags;

	if (!write)
		fl &= ~(unsigned)PT_WALK_SET_DIRTY;
	w->faulted = true;
	w->write = write;
	w->fault_gpa = gpa;
	w->beyond = false;
	w->s2w = (struct pt_walk){ 0 };
	if (s->s2_bits < 64 && (gpa >> s->s2_bits)) {
		w->beyond = true;
		return NULL;
	}
	if (pt_walk(s->s2, gpa, fl, &w->s2w))
		return NULL;
	if (!(w->s2w.perm & (write ? PT_PERM_W : PT_PERM_R)))
		return NULL;
	if ((gpa & ((1ull << w->s2w.leaf_shift) - 1)) + size >
	    (1ull << w->s2w.leaf_shift))
		return NULL;
	w->faulted = false;
	return (void *)(uintptr_t)w->s2w.oa;
}

static const struct pt_mem_ops walk_ops = {
	.table = walk_table,
};

void shadow_walk_init(struct shadow_walk *w, const struct shadow *s,
		      unsigned s2_flags)
{
	memset(w, 0, sizeof(*w));
	w->s = s;
	w->s2_flags = s2_flags;
	/* The configuration was checked by shadow_init. */
	(void)pt_attach(&w->s1, &s->s1.cfg, (struct pt_mem){ &walk_ops, w },
			s->s1.root);
}
