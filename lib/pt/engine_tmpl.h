/* SPDX-License-Identifier: MIT */
/*
 * The generic page-table engine, instantiated once per format (and granule)
 * by including this file from fmt_*.c. It owns iteration, map, unmap, walk,
 * leaf iteration, dirty harvesting and teardown; the includer supplies the
 * entry primitives as macros, so each instance is compiled with its entry
 * encoding inlined and its level geometry constant.
 *
 * The includer defines before each inclusion:
 *   PTT(x)    name of a generated function (e.g. arm_s1_4k_##x)
 *   PTT_G     granule shift (constant)
 * and once, the primitives (d: descriptor, l: our level, pt: struct pt *):
 *   PTT_PRESENT(pt, d)          entry is in use (table or leaf)
 *   PTT_IS_TABLE(pt, l, d)      present entry at l > 0 points to a table
 *   PTT_TABLE_PA(pt, d)         next-table address
 *   PTT_LEAF_PA(pt, l, d)       output address of a leaf
 *   PTT_LEAF_ATTR(pt, l, d)     leaf without its address bits
 *   PTT_RELEVEL(pt, a, l)       attributes @a of a level-@l leaf, made
 *                               into those of a level l-1 leaf (split)
 *   PTT_ENC_OA(pt, pa)          address bits of a leaf / table for @pa
 *   PTT_MK_TABLE(pt, pa)        table descriptor
 *   PTT_LEAF_BITS(pt, l, prot)  attributes of a new leaf (PT_PROT_*)
 *   PTT_DECODE(pt, l, d, &a)    full check for walks: PTD_TABLE or
 *                               PTD_LEAF with *a = address, or -fault
 *   PTT_TABLE_DENY(pt, a, o)    PT_PERM_* bits the tables above a leaf take
 *                               away, from the AND (@a) and the OR (@o) of
 *                               their descriptors
 *   PTT_TABLE_AF(pt)            bits a walk with SET_AF sets in tables
 *   PTT_LEAF_PERM(pt, d)        PT_PERM_* of a leaf (before folding)
 *   PTT_LEAF_UPDATE(pt, d, f, deny) leaf after hardware A/D updates for
 *                               PT_WALK_* flags @f
 *   PTT_IS_DIRTY(pt, d), PTT_MK_CLEAN(pt, d)
 *
 * Concurrency: walks may run at any time; map, unmap, dirty harvesting and
 * destroy of one table tree are serialised by the caller. Every live
 * descriptor is loaded and stored whole (pt_internal.h atomics); new tables
 * are complete before they are linked.
 */
#include <errno.h>
#include <string.h>

#include "pt/pt_internal.h"
#include "util/alloc.h"

#define PTT_BITS (PTT_G - 3)
#define PTT_SHIFT(l) (PTT_G + (unsigned)(l)*PTT_BITS)

/* Index bits of the table at level @l (the start table may differ). */
static inline unsigned PTT(ibits)(const struct pt *pt, unsigned l)
{
	return l == pt->start_level ? pt->cfg.ias - PTT_SHIFT(l) : PTT_BITS;
}

/* End of the level-@l entry holding @s, clipped to @e. */
static inline uint64_t PTT(chunk_end)(unsigned l, uint64_t s, uint64_t e)
{
	return ptt_min(e, (s | ((1ull << PTT_SHIFT(l)) - 1)) + 1);
}

/* ------------------------------------------------------------------ walk */

static inline int PTT(walk_fault)(struct pt_walk *w, unsigned l,
				  enum pt_fault f, uint64_t desc, uint64_t addr,
				  unsigned nrec)
{
	w->fault = (uint8_t)f;
	w->level = (uint8_t)l;
	w->desc = desc;
	w->fault_addr = addr;
	w->oa = 0;
	w->perm = 0;
	w->leaf_shift = 0;
	w->nrec = (uint8_t)nrec;
	return -EFAULT;
}

/* Every case: accessor, records, A/D updates, faults. */
static __attribute__((noinline)) int PTT(walk_slow)(const struct pt *pt,
						    uint64_t iova,
						    unsigned flags,
						    struct pt_walk *w)
{
	const struct pt_mem_ops *ops = pt->mem.ops;
	struct pt_walk_level *rec = w->rec;
	unsigned l = pt->start_level, nrec = 0;
	uint64_t table = pt->root, imask, tand = ~0ull, tor = 0;
	uint32_t deny = 0;

	if (__builtin_expect(iova >> pt->cfg.ias, 0))
		return PTT(walk_fault)(w, l, PT_FAULT_TRANSLATION, 0, 0, 0);
	imask = (1ull << (pt->cfg.ias - PTT_SHIFT(l))) - 1;
	for (;;) {
		unsigned shift = PTT_SHIFT(l);
		uint64_t idx = (iova >> shift) & imask;
		uint64_t da = table + idx * 8, d, addr = 0;
		uint64_t *p;
		int kind;

		if (__builtin_expect(ops == NULL, 1)) {
			p = (uint64_t *)(uintptr_t)da;
		} else {
			p = ops->table(pt->mem.ctx, da, 8, false);
			if (!p)
				return PTT(walk_fault)(w, l, PT_FAULT_FETCH, 0,
						       da, nrec);
		}
		d = pte_load(p);
again:
		kind = PTT_DECODE(pt, l, d, &addr);
		if (kind == PTD_TABLE) {
			uint64_t af = PTT_TABLE_AF(pt);

			if ((flags & PT_WALK_SET_AF) && af && (d & af) != af) {
				uint64_t *wp = p;

				if (ops) {
					wp = ops->table(pt->mem.ctx, da, 8,
							true);
					if (!wp)
						return PTT(walk_fault)(
							w, l, PT_FAULT_UPDATE,
							d, da, nrec);
				}
				if (!pte_cas(wp, &d, d | af))
					goto again;
				d |= af;
			}
		}
		if (rec) {
			struct pt_walk_level *r = &rec[nrec++];

			/* Concatenated start tables: name the one used. */
			r->table = table + ((idx >> PTT_BITS) << PTT_G);
			r->index = (uint16_t)(idx & ((1u << PTT_BITS) - 1));
			r->desc = d;
			r->level = (uint8_t)l;
		}
		if (kind == PTD_TABLE) {
			tand &= d;
			tor |= d;
			table = addr;
			l--;
			imask = (1ull << PTT_BITS) - 1;
			continue;
		}
		if (kind != PTD_LEAF)
			return PTT(walk_fault)(w, l, (enum pt_fault) - kind, d,
					       0, nrec);
		deny = PTT_TABLE_DENY(pt, tand, tor);
		if (flags & (PT_WALK_SET_AF | PT_WALK_SET_DIRTY)) {
			uint64_t nd = PTT_LEAF_UPDATE(pt, d, flags, deny);

			if (nd != d) {
				uint64_t *wp = p;

				if (ops) {
					wp = ops->table(pt->mem.ctx, da, 8,
							true);
					if (!wp)
						return PTT(walk_fault)(
							w, l, PT_FAULT_UPDATE,
							d, da, nrec);
				}
				if (!pte_cas(wp, &d, nd)) {
					/* Changed under us: decide again. */
					if (rec)
						nrec--;
					goto again;
				}
				d = nd;
				if (rec)
					rec[nrec - 1].desc = d;
			}
		}
		w->oa = addr | (iova & ((1ull << shift) - 1));
		w->desc = d;
		w->perm = PTT_LEAF_PERM(pt, d) & ~deny;
		w->level = (uint8_t)l;
		w->leaf_shift = (uint8_t)shift;
		w->fault = PT_FAULT_NONE;
		w->nrec = (uint8_t)nrec;
		w->fault_addr = 0;
		return 0;
	}
}

/*
 * The hot case: host tables, no records, no updates. @start is a constant
 * in the callers below, so the level loop unrolls with constant shifts; the
 * geometry comes from a stack copy of *pt that the compiler keeps in
 * registers. Returns 1 for anything unusual (walk_slow redoes it).
 */
static inline __attribute__((always_inline)) int
PTT(walk_fast)(const struct pt *pt, uint64_t iova, struct pt_walk *w,
	       const unsigned start)
{
	const struct pt lp = *pt;
	uint64_t table = lp.root, tand = ~0ull, tor = 0;
	uint64_t imask = (1ull << (lp.cfg.ias - PTT_SHIFT(start))) - 1;
	unsigned l;

	if (__builtin_expect(iova >> lp.cfg.ias, 0))
		return 1;
#pragma GCC unroll 5
	for (l = start; l <= start; l--) { /* ends by return; l wraps */
		const unsigned shift = PTT_SHIFT(l);
		const uint64_t *p =
			(const uint64_t *)(uintptr_t)(table + ((iova >> shift) &
							       imask) *
								      8);
		uint64_t d = pte_read(p), addr = 0;
		int kind = PTT_DECODE(&lp, l, d, &addr);

		if (kind == PTD_TABLE && l > 0) {
			tand &= d;
			tor |= d;
			table = addr;
			imask = (1ull << PTT_BITS) - 1;
			continue;
		}
		if (kind != PTD_LEAF)
			return 1;
		w->oa = addr | (iova & ((1ull << shift) - 1));
		w->desc = d;
		w->perm = PTT_LEAF_PERM(&lp, d) &
			  ~PTT_TABLE_DENY(&lp, tand, tor);
		w->level = (uint8_t)l;
		w->leaf_shift = (uint8_t)shift;
		w->fault = PT_FAULT_NONE;
		w->nrec = 0;
		w->fault_addr = 0;
		return 0;
	}
	return 1;
}

static int PTT(walk)(const struct pt *pt, uint64_t iova, unsigned flags,
		     struct pt_walk *w)
{
	if (__builtin_expect(!pt->mem.ops && !flags && !w->rec, 1)) {
		int r;

		switch (pt->start_level) {
		case 3:
			r = PTT(walk_fast)(pt, iova, w, 3);
			break;
		case 2:
			r = PTT(walk_fast)(pt, iova, w, 2);
			break;
		default:
			r = PTT(walk_fast)(pt, iova, w, pt->start_level);
			break;
		}
		if (__builtin_expect(r == 0, 1))
			return 0;
	}
	return PTT(walk_slow)(pt, iova, flags, w);
}

/* ------------------------------------------------------------------- map */

struct PTT(mctx) {
	struct pt *pt;
	uint64_t pgsizes;
	uint64_t delta; /* pa - iova, modulo 2^64 */
	uint32_t prot;
	unsigned min_level; /* level of the smallest leaf allowed */
	bool slow; /* empty tables sit where leaves would go */
	unsigned used, npre;
	uint64_t *pre; /* tables allocated before anything changes */
};

/* May [s, e) start with a level-@l leaf? */
static inline bool PTT(leaf_fits)(const struct PTT(mctx) * m, unsigned l,
				  uint64_t s, uint64_t e)
{
	uint64_t sz = 1ull << PTT_SHIFT(l);

	return (m->pgsizes & sz) && !((s | (s + m->delta)) & (sz - 1)) &&
	       e - s >= sz;
}

/*
 * Tables needed below level-@l entries for [s, e) where nothing exists.
 * Whole entries all need the same, so only the partial ones at the ends
 * and one whole one are looked at: O(levels), not O(entries).
 */
static unsigned long PTT(count_new)(const struct PTT(mctx) * m, unsigned l,
				    uint64_t s, uint64_t e)
{
	unsigned shift = PTT_SHIFT(l);
	uint64_t sz = 1ull << shift, full;
	unsigned long n = 0;

	if (l <= m->min_level)
		return 0;
	if (s & (sz - 1)) {
		uint64_t ce = PTT(chunk_end)(l, s, e);

		n += 1 + PTT(count_new)(m, l - 1, s, ce);
		s = ce;
	}
	full = (e - s) >> shift;
	if (full) {
		if (!PTT(leaf_fits)(m, l, s, s + sz))
			n += full * (1 + PTT(count_new)(m, l - 1, s, s + sz));
		s += full << shift;
	}
	if (s < e)
		n += 1 + PTT(count_new)(m, l - 1, s, e);
	return n;
}

/* Refuse any overlap; count the tables the map will add. */
static long PTT(map_check)(struct PTT(mctx) * m, unsigned l, uint64_t tpa,
			   uint64_t s, uint64_t e)
{
	const struct pt *pt = m->pt;
	uint64_t *t = pt_tbl(pt, tpa, pt_table_bytes(pt, l), true);
	unsigned shift = PTT_SHIFT(l);
	uint64_t imask = (1ull << PTT(ibits)(pt, l)) - 1;
	long n = 0;

	if (!t)
		return -EFAULT;
	while (s < e) {
		uint64_t ce = PTT(chunk_end)(l, s, e);
		uint64_t d = pte_load(&t[(s >> shift) & imask]);

		if (!PTT_PRESENT(pt, d)) {
			if (!PTT(leaf_fits)(m, l, s, ce))
				n += 1 + (long)PTT(count_new)(m, l - 1, s, ce);
		} else if (l > 0 && PTT_IS_TABLE(pt, l, d)) {
			long r;

			if (PTT(leaf_fits)(m, l, s, ce)) {
				/* An empty table where a leaf goes: fill it
				 * with smaller leaves, if any are allowed. */
				if (l == m->min_level)
					return -EEXIST;
				m->slow = true;
			}
			r = PTT(map_check)(m, l - 1, PTT_TABLE_PA(pt, d), s,
					   ce);
			if (r < 0)
				return r;
			n += r;
		} else {
			return -EEXIST;
		}
		s = ce;
	}
	return n;
}

static int PTT(map_fill)(struct PTT(mctx) * m, unsigned l, uint64_t tpa,
			 uint64_t s, uint64_t e)
{
	const struct pt *pt = m->pt;
	uint64_t *t = pt_tbl(pt, tpa, pt_table_bytes(pt, l), true);
	unsigned shift = PTT_SHIFT(l);
	uint64_t sz = 1ull << shift;
	uint64_t idx = (s >> shift) & ((1ull << PTT(ibits)(pt, l)) - 1);

	if (!t)
		return -EFAULT;
	while (s < e) {
		uint64_t ce, d, child;
		int ret;

		if (PTT(leaf_fits)(m, l, s, e)) {
			/* A run of leaves: one tight loop, no re-walk. */
			uint64_t n = (e - s) >> shift, i;
			uint64_t bits = PTT_LEAF_BITS(pt, l, m->prot);
			uint64_t pa = s + m->delta;
			uint64_t *p = &t[idx];

			if (__builtin_expect(!m->slow, 1)) {
				for (i = 0; i < n; i++, pa += sz)
					pte_store(&p[i],
						  PTT_ENC_OA(pt, pa) | bits);
				s += n << shift;
				idx += n;
				continue;
			}
			/* An empty table is in the way: fill it instead. */
			d = pte_load(p);
			if (!PTT_PRESENT(pt, d)) {
				pte_store(p, PTT_ENC_OA(pt, pa) | bits);
				s += sz;
				idx++;
				continue;
			}
		}
		ce = PTT(chunk_end)(l, s, e);
		d = pte_load(&t[idx]);
		if (PTT_PRESENT(pt, d)) {
			child = PTT_TABLE_PA(pt, d);
		} else {
			if (m->used == m->npre)
				return -EFAULT; /* tables changed under us */
			child = m->pre[m->used++];
			pte_publish(&t[idx], PTT_MK_TABLE(pt, child));
		}
		ret = PTT(map_fill)(m, l - 1, child, s, ce);
		if (ret)
			return ret;
		s = ce;
		idx++;
	}
	return 0;
}

/*
 * One leaf (the common single-page call): walk down once; if tables are
 * missing, build the whole missing chain below the last present entry and
 * link it with one release store. Returns 1 for cases the general path
 * must handle (an empty table where the leaf would go).
 */
static int PTT(map_new)(struct pt *pt, uint64_t *link, unsigned l,
			uint64_t iova, uint64_t pa, unsigned leaf_l,
			uint32_t prot)
{
	const size_t gb = (size_t)1 << PTT_G;
	uint64_t tb[PT_MAX_LEVELS];
	unsigned n = l - leaf_l, i;
	int ret;

	for (i = 0; i < n; i++) {
		ret = pt_table_alloc(pt, gb, &tb[i]);
		if (ret)
			goto fail;
	}
	/* tb[i] is the new table at level l - 1 - i */
	for (i = 0; i < n; i++) {
		unsigned tl = l - 1 - i;
		uint64_t *t = pt_tbl(pt, tb[i], gb, true);
		uint64_t *p;

		if (!t) {
			ret = -EFAULT;
			goto fail;
		}
		p = &t[(iova >> PTT_SHIFT(tl)) & ((1ull << PTT_BITS) - 1)];
		if (i + 1 < n)
			pte_store(p, PTT_MK_TABLE(pt, tb[i + 1]));
		else
			pte_store(p, PTT_ENC_OA(pt, pa) |
					     PTT_LEAF_BITS(pt, leaf_l, prot));
	}
	pte_publish(link, PTT_MK_TABLE(pt, tb[0]));
	return 0;
fail:
	while (i--)
		pt_table_free_dirty(pt, tb[i], gb);
	return ret;
}

static int PTT(map_one)(struct pt *pt, uint64_t iova, uint64_t pa,
			unsigned leaf_l, uint32_t prot)
{
	unsigned l = pt->start_level;
	uint64_t table = pt->root;
	uint64_t imask = (1ull << PTT(ibits)(pt, l)) - 1;
	uint64_t *p, d;

	for (;;) {
		uint64_t *t = pt_tbl(pt, table, pt_table_bytes(pt, l), true);

		if (!t)
			return -EFAULT;
		p = &t[(iova >> PTT_SHIFT(l)) & imask];
		d = pte_load(p);
		if (l == leaf_l)
			break;
		if (!PTT_PRESENT(pt, d))
			return PTT(map_new)(pt, p, l, iova, pa, leaf_l, prot);
		if (!PTT_IS_TABLE(pt, l, d))
			return -EEXIST;
		table = PTT_TABLE_PA(pt, d);
		l--;
		imask = (1ull << PTT_BITS) - 1;
	}
	if (PTT_PRESENT(pt, d))
		return (l > 0 && PTT_IS_TABLE(pt, l, d)) ? 1 : -EEXIST;
	pte_store(p, PTT_ENC_OA(pt, pa) | PTT_LEAF_BITS(pt, l, prot));
	return 0;
}

static int PTT(map)(struct pt *pt, uint64_t iova, uint64_t pa, uint64_t size,
		    uint32_t prot, uint64_t pgsizes)
{
	struct PTT(mctx) m = {
		.pt = pt,
		.pgsizes = pgsizes,
		.delta = pa - iova,
		.prot = prot,
		.min_level =
			((unsigned)__builtin_ctzll(pgsizes) - PTT_G) / PTT_BITS,
	};
	uint64_t stack_pre[8];
	long n, i;
	int ret;

	if (!(size & (size - 1)) && (pgsizes & size) &&
	    !((iova | pa) & (size - 1))) {
		ret = PTT(map_one)(pt, iova, pa,
				   ((unsigned)__builtin_ctzll(size) - PTT_G) /
					   PTT_BITS,
				   prot);
		if (ret <= 0)
			return ret;
	}
	n = PTT(map_check)(&m, pt->start_level, pt->root, iova, iova + size);
	if (n < 0)
		return (int)n;
	m.pre = stack_pre;
	if (n > (long)(sizeof(stack_pre) / sizeof(stack_pre[0]))) {
		m.pre = xmalloc((size_t)n * sizeof(uint64_t));
		if (!m.pre)
			return -ENOMEM;
	}
	m.npre = (unsigned)n;
	for (i = 0; i < n; i++) {
		ret = pt_table_alloc(pt, (size_t)1 << PTT_G, &m.pre[i]);
		if (ret) {
			while (i--)
				pt_table_free(pt, m.pre[i], (size_t)1 << PTT_G);
			goto out;
		}
	}
	ret = PTT(map_fill)(&m, pt->start_level, pt->root, iova, iova + size);
	/* Only an accessor that stops answering can leave tables unused. */
	for (i = m.used; i < n; i++)
		pt_table_free(pt, m.pre[i], (size_t)1 << PTT_G);
out:
	if (m.pre != stack_pre)
		xfree(m.pre);
	return ret;
}

/* ----------------------------------------------------------------- unmap */

struct PTT(uctx) {
	struct pt *pt;
	struct pt_gather *g;
	bool split;
	unsigned long splits; /* tables needed to split straddling leaves */
	unsigned long tables; /* tables that may be emptied (gather room) */
	uint64_t *pre;
	unsigned used;
	uint64_t unmapped;
};

/*
 * Tables needed to split a level-@l leaf until boundary @b falls between
 * leaves: one per level from l-1 down to the first level @b is aligned to.
 */
static inline unsigned PTT(split_depth)(unsigned l, uint64_t b)
{
	unsigned n = 1, j = l - 1;

	while (j > 0 && (b & ((1ull << PTT_SHIFT(j)) - 1))) {
		n++;
		j--;
	}
	return n;
}

static unsigned long PTT(count_tables)(const struct pt *pt, unsigned l,
				       uint64_t tpa)
{
	uint64_t *t;
	unsigned long n = 0;
	size_t i, cnt;

	if (l == 0)
		return 0;
	t = pt_tbl(pt, tpa, pt_table_bytes(pt, l), false);
	if (!t)
		return 0;
	cnt = pt_table_bytes(pt, l) / 8;
	for (i = 0; i < cnt; i++) {
		uint64_t d = pte_load(&t[i]);

		if (PTT_PRESENT(pt, d) && PTT_IS_TABLE(pt, l, d))
			n += 1 +
			     PTT(count_tables)(pt, l - 1, PTT_TABLE_PA(pt, d));
	}
	return n;
}

/* Find leaves cut by the range and count what the unmap will need. */
static int PTT(unmap_scan)(struct PTT(uctx) * u, unsigned l, uint64_t tpa,
			   uint64_t s, uint64_t e)
{
	const struct pt *pt = u->pt;
	uint64_t *t = pt_tbl(pt, tpa, pt_table_bytes(pt, l), false);
	unsigned shift = PTT_SHIFT(l);
	uint64_t sz = 1ull << shift;
	uint64_t imask = (1ull << PTT(ibits)(pt, l)) - 1;

	if (!t)
		return -EFAULT;
	while (s < e) {
		uint64_t ce = PTT(chunk_end)(l, s, e);
		uint64_t d = pte_load(&t[(s >> shift) & imask]);
		bool full = !(s & (sz - 1)) && ce - s == sz;

		if (!PTT_PRESENT(pt, d)) {
			/* nothing mapped */
		} else if (l > 0 && PTT_IS_TABLE(pt, l, d)) {
			uint64_t child = PTT_TABLE_PA(pt, d);

			u->tables++;
			if (!full) {
				int r = PTT(unmap_scan)(u, l - 1, child, s, ce);

				if (r)
					return r;
			} else if (u->g) {
				u->tables +=
					PTT(count_tables)(pt, l - 1, child);
			}
		} else if (!full) {
			if (!u->split)
				return -EINVAL;
			/* A split table per level down to where each cut
			 * boundary is leaf-aligned. */
			if (s & (sz - 1))
				u->splits += PTT(split_depth)(l, s);
			if (ce & (sz - 1))
				u->splits += PTT(split_depth)(l, ce);
		}
		s = ce;
	}
	return 0;
}

static inline void PTT(release)(struct PTT(uctx) * u, uint64_t pa, size_t size)
{
	if (u->g)
		pt_gather_add(u->g, pa, (uint32_t)size);
	else
		pt_table_free(u->pt, pa, size);
}

/*
 * Is the table empty after entries [lo, hi) were cleared? Neighbours of the
 * cleared range are the likeliest to be in use, so look there first.
 */
static bool PTT(table_empty)(const uint64_t *t, size_t n, size_t lo, size_t hi)
{
	uint64_t acc = 0;
	size_t i, j;

	if ((hi < n && pte_read(&t[hi])) || (lo > 0 && pte_read(&t[lo - 1])))
		return false;
	for (i = 0; i < n; i += 8) {
		for (j = 0; j < 8; j++)
			acc |= pte_read(&t[i + j]);
		if (acc)
			return false;
	}
	return true;
}

/* Replace a leaf by a table of leaves one level down covering the same. */
static uint64_t PTT(split_leaf)(struct PTT(uctx) * u, unsigned l, uint64_t *p,
				uint64_t d)
{
	const struct pt *pt = u->pt;
	uint64_t child = u->pre[u->used++];
	uint64_t *ct = pt_tbl(pt, child, (size_t)1 << PTT_G, true);
	uint64_t attr = PTT_RELEVEL(pt, PTT_LEAF_ATTR(pt, l, d), l);
	uint64_t pa = PTT_LEAF_PA(pt, l, d);
	uint64_t csz = 1ull << PTT_SHIFT(l - 1), i;

	for (i = 0; i < (1ull << PTT_BITS); i++, pa += csz)
		pte_store(&ct[i], PTT_ENC_OA(pt, pa) | attr);
	pte_publish(p, PTT_MK_TABLE(pt, child));
	return child;
}

static int PTT(unmap_clear)(struct PTT(uctx) * u, unsigned l, uint64_t tpa,
			    uint64_t s, uint64_t e)
{
	const struct pt *pt = u->pt;
	uint64_t *t = pt_tbl(pt, tpa, pt_table_bytes(pt, l), true);
	unsigned shift = PTT_SHIFT(l);
	uint64_t sz = 1ull << shift;
	uint64_t idx = (s >> shift) & ((1ull << PTT(ibits)(pt, l)) - 1);
	const size_t gbytes = (size_t)1 << PTT_G;

	if (!t)
		return -EFAULT;
	if (l == 0) {
		/* Leaf table: test-present-and-zero in one loop. */
		uint64_t n = (e - s) >> shift, i, cnt = 0;
		uint64_t *p = &t[idx];

		for (i = 0; i < n; i++) {
			uint64_t d = pte_load(&p[i]);

			if (d) {
				pte_store(&p[i], 0);
				cnt += PTT_PRESENT(pt, d) != 0;
			}
		}
		u->unmapped += cnt << shift;
		return 0;
	}
	while (s < e) {
		uint64_t ce = PTT(chunk_end)(l, s, e);
		uint64_t *p = &t[idx];
		uint64_t d = pte_load(p);
		bool full = !(s & (sz - 1)) && ce - s == sz;
		int r;

		if (!d) {
			/* empty */
		} else if (!PTT_PRESENT(pt, d)) {
			pte_store(p, 0);
		} else if (PTT_IS_TABLE(pt, l, d)) {
			uint64_t child = PTT_TABLE_PA(pt, d);

			r = PTT(unmap_clear)(u, l - 1, child, s, ce);
			if (r)
				return r;
			if (!full) {
				uint64_t *ct = pt_tbl(pt, child, gbytes, false);
				unsigned cs = PTT_SHIFT(l - 1);
				size_t lo = (s >> cs) & ((1u << PTT_BITS) - 1);

				full = ct &&
				       PTT(table_empty)(ct, gbytes / 8, lo,
							lo + ((ce - s) >> cs));
			}
			if (full) {
				pte_store(p, 0);
				PTT(release)(u, child, gbytes);
			}
		} else if (full) {
			pte_store(p, 0);
			u->unmapped += sz;
		} else {
			uint64_t child = PTT(split_leaf)(u, l, p, d);

			r = PTT(unmap_clear)(u, l - 1, child, s, ce);
			if (r)
				return r;
		}
		s = ce;
		idx++;
	}
	return 0;
}

/*
 * One whole leaf (the common single-page call): walk down once, clear it,
 * then free the tables it leaves empty, bottom up. Returns 1 for anything
 * the general path must handle (a larger leaf to split or refuse, a table
 * where the leaf would be).
 */
static int PTT(unmap_one)(struct pt *pt, uint64_t iova, unsigned leaf_l,
			  struct pt_gather *g, uint64_t *unmapped)
{
	const size_t gb = (size_t)1 << PTT_G;
	uint64_t *slot[PT_MAX_LEVELS], *tp[PT_MAX_LEVELS], tpa[PT_MAX_LEVELS];
	size_t ix[PT_MAX_LEVELS];
	unsigned l = pt->start_level, top = pt->start_level;
	uint64_t table = pt->root;
	uint64_t imask = (1ull << PTT(ibits)(pt, l)) - 1;
	uint64_t d;

	*unmapped = 0;
	for (;;) {
		uint64_t *t = pt_tbl(pt, table, pt_table_bytes(pt, l), true);

		if (!t)
			return -EFAULT;
		ix[l] = (iova >> PTT_SHIFT(l)) & imask;
		tp[l] = t;
		tpa[l] = table;
		slot[l] = &t[ix[l]];
		d = pte_load(slot[l]);
		if (!d)
			return 0; /* nothing mapped there */
		if (l == leaf_l)
			break;
		if (!PTT_PRESENT(pt, d) || !PTT_IS_TABLE(pt, l, d))
			return 1;
		table = PTT_TABLE_PA(pt, d);
		l--;
		imask = (1ull << PTT_BITS) - 1;
	}
	if (!PTT_PRESENT(pt, d) || (l > 0 && PTT_IS_TABLE(pt, l, d)))
		return 1;
	if (g && pt_gather_reserve(g, top - leaf_l))
		return -ENOMEM;
	pte_store(slot[l], 0);
	*unmapped = 1ull << PTT_SHIFT(l);
	for (; l < top; l++) {
		if (!PTT(table_empty)(tp[l], gb / 8, ix[l], ix[l] + 1))
			break;
		pte_store(slot[l + 1], 0);
		if (g)
			pt_gather_add(g, tpa[l], (uint32_t)gb);
		else
			pt_table_free(pt, tpa[l], gb);
	}
	return 0;
}

static int PTT(unmap)(struct pt *pt, uint64_t iova, uint64_t size,
		      unsigned flags, struct pt_gather *g, uint64_t *unmapped)
{
	struct PTT(uctx) u = {
		.pt = pt,
		.g = g,
		.split = flags & PT_UNMAP_SPLIT,
	};
	uint64_t stack_pre[2 * PT_MAX_LEVELS];
	unsigned long i;
	int ret;

	/* exactly one entry of some level: the single-leaf path */
	if (!(size & (size - 1)) && !(iova & (size - 1)) &&
	    !(((unsigned)__builtin_ctzll(size) - PTT_G) % PTT_BITS) &&
	    ((unsigned)__builtin_ctzll(size) - PTT_G) / PTT_BITS <
		    pt->start_level) {
		ret = PTT(unmap_one)(pt, iova,
				     ((unsigned)__builtin_ctzll(size) - PTT_G) /
					     PTT_BITS,
				     g, unmapped);
		if (ret <= 0)
			return ret;
	}
	ret = PTT(unmap_scan)(&u, pt->start_level, pt->root, iova, iova + size);
	if (ret)
		return ret;
	if (g) {
		ret = pt_gather_reserve(g, (unsigned)u.tables);
		if (ret)
			return ret;
	}
	/* at most two cut leaves, each split down to the granule */
	if (u.splits > sizeof(stack_pre) / sizeof(stack_pre[0]))
		return -EINVAL;
	u.pre = stack_pre;
	for (i = 0; i < u.splits; i++) {
		ret = pt_table_alloc(pt, (size_t)1 << PTT_G, &u.pre[i]);
		if (ret) {
			while (i--)
				pt_table_free(pt, u.pre[i], (size_t)1 << PTT_G);
			return ret;
		}
	}
	ret = PTT(unmap_clear)(&u, pt->start_level, pt->root, iova,
			       iova + size);
	for (i = u.used; i < u.splits; i++)
		pt_table_free(pt, u.pre[i], (size_t)1 << PTT_G);
	*unmapped = u.unmapped;
	return ret;
}

/* ------------------------------------------------------ leaf iteration */

struct PTT(ictx) {
	const struct pt *pt;
	pt_leaf_fn fn;
	void *ctx;
	/* dirty harvesting */
	uint64_t base;
	uint64_t *bitmap;
	unsigned page_shift;
	bool no_clear;
};

static int PTT(iter)(struct PTT(ictx) * c, unsigned l, uint64_t tpa, uint64_t s,
		     uint64_t e, uint32_t deny)
{
	const struct pt *pt = c->pt;
	uint64_t *t = pt_tbl(pt, tpa, pt_table_bytes(pt, l), false);
	unsigned shift = PTT_SHIFT(l);
	uint64_t sz = 1ull << shift;
	uint64_t idx = (s >> shift) & ((1ull << PTT(ibits)(pt, l)) - 1);

	if (!t)
		return -EFAULT;
	for (; s < e; idx++, s = PTT(chunk_end)(l, s, e)) {
		uint64_t d = pte_load(&t[idx]), addr = 0;
		int kind, r;

		if (!d)
			continue;
		kind = PTT_DECODE(pt, l, d, &addr);
		if (kind == PTD_TABLE) {
			r = PTT(iter)(c, l - 1, addr, s,
				      PTT(chunk_end)(l, s, e),
				      deny | PTT_TABLE_DENY(pt, d, d));
		} else if (kind == PTD_LEAF) {
			r = c->fn(c->ctx, s & ~(sz - 1), addr, sz,
				  PTT_LEAF_PERM(pt, d) & ~deny);
		} else {
			continue; /* not a translation */
		}
		if (r)
			return r;
	}
	return 0;
}

static int PTT(for_each)(const struct pt *pt, uint64_t start, uint64_t last,
			 pt_leaf_fn fn, void *ctx)
{
	struct PTT(ictx) c = { .pt = pt, .fn = fn, .ctx = ctx };

	return PTT(iter)(&c, pt->start_level, pt->root, start, last + 1, 0);
}

/* ----------------------------------------------------------------- dirty */

static int PTT(dirty_walk)(struct PTT(ictx) * c, unsigned l, uint64_t tpa,
			   uint64_t s, uint64_t e)
{
	const struct pt *pt = c->pt;
	uint64_t *t = pt_tbl(pt, tpa, pt_table_bytes(pt, l), !c->no_clear);
	unsigned shift = PTT_SHIFT(l);
	uint64_t sz = 1ull << shift;
	uint64_t idx = (s >> shift) & ((1ull << PTT(ibits)(pt, l)) - 1);

	if (!t)
		return -EFAULT;
	for (; s < e; idx++, s = PTT(chunk_end)(l, s, e)) {
		uint64_t d = pte_load(&t[idx]), addr = 0, ce;
		int kind;

		if (!d)
			continue;
		kind = PTT_DECODE(pt, l, d, &addr);
		ce = PTT(chunk_end)(l, s, e);
		if (kind == PTD_TABLE) {
			int r = PTT(dirty_walk)(c, l - 1, addr, s, ce);

			if (r)
				return r;
			continue;
		}
		if (kind != PTD_LEAF || !PTT_IS_DIRTY(pt, d))
			continue;
		pt_bitmap_set(c->bitmap, (s - c->base) >> c->page_shift,
			      (ce - 1 - c->base) >> c->page_shift);
		while (!c->no_clear) {
			uint64_t nd = PTT_MK_CLEAN(pt, d);

			if (nd == d || pte_cas(&t[idx], &d, nd))
				break;
			if (!PTT_PRESENT(pt, d))
				break;
		}
		(void)sz;
	}
	return 0;
}

static int PTT(dirty)(struct pt *pt, uint64_t iova, uint64_t size,
		      unsigned page_shift, uint64_t *bitmap, bool no_clear)
{
	struct PTT(ictx) c = {
		.pt = pt,
		.base = iova,
		.bitmap = bitmap,
		.page_shift = page_shift,
		.no_clear = no_clear,
	};

	return PTT(dirty_walk)(&c, pt->start_level, pt->root, iova,
			       iova + size);
}

static int PTT(set_dirty)(struct pt *pt, uint64_t iova)
{
	struct pt_walk w = { 0 };

	if (PTT(walk)(pt, iova, PT_WALK_SET_DIRTY, &w))
		return w.fault == PT_FAULT_UPDATE || w.fault == PT_FAULT_FETCH ?
			       -EFAULT :
			       -ENOENT;
	return (w.perm & PT_PERM_DIRTY) ? 0 : -EPERM;
}

/* ------------------------------------------------- in-place leaf updates */

static uint64_t *PTT(leaf_slot)(const struct pt *pt, uint64_t iova)
{
	unsigned l = pt->start_level;
	uint64_t table = pt->root;
	uint64_t imask = (1ull << PTT(ibits)(pt, l)) - 1;
	uint64_t *t;

	for (; l > 0; l--) {
		uint64_t d;

		t = pt_tbl(pt, table, pt_table_bytes(pt, l), false);
		if (!t)
			return NULL;
		d = pte_load(&t[(iova >> PTT_SHIFT(l)) & imask]);
		if (!PTT_PRESENT(pt, d) || !PTT_IS_TABLE(pt, l, d))
			return NULL;
		table = PTT_TABLE_PA(pt, d);
		imask = (1ull << PTT_BITS) - 1;
	}
	t = pt_tbl(pt, table, pt_table_bytes(pt, 0), true);
	return t ? &t[(iova >> PTT_G) & imask] : NULL;
}

static uint64_t PTT(leaf_desc)(const struct pt *pt, uint64_t pa, uint32_t prot)
{
	return PTT_ENC_OA(pt, pa) | PTT_LEAF_BITS(pt, 0, prot);
}

static uint64_t PTT(leaf_clean)(const struct pt *pt, uint64_t d)
{
	(void)pt;
	return PTT_MK_CLEAN(pt, d);
}

/* --------------------------------------------------------------- destroy */

static void PTT(free_tree)(const struct pt *pt, unsigned l, uint64_t tpa)
{
	size_t bytes = pt_table_bytes(pt, l), i;
	uint64_t *t;

	if (l == 0)
		return;
	t = pt_tbl(pt, tpa, bytes, false);
	if (!t)
		return;
	for (i = 0; i < bytes / 8; i++) {
		uint64_t d = pte_load(&t[i]);

		if (PTT_PRESENT(pt, d) && PTT_IS_TABLE(pt, l, d)) {
			uint64_t child = PTT_TABLE_PA(pt, d);

			PTT(free_tree)(pt, l - 1, child);
			pt_table_free_dirty(pt, child, (size_t)1 << PTT_G);
		}
	}
}

static void PTT(destroy)(struct pt *pt)
{
	PTT(free_tree)(pt, pt->start_level, pt->root);
	pt_table_free_dirty(pt, pt->root, pt_root_alloc_bytes(pt));
}

#undef PTT_BITS
#undef PTT_SHIFT
