// SPDX-License-Identifier: MIT
/*
 * The page-table API: configuration checks and geometry (start level,
 * concatenation), argument validation, and dispatch to the per-format
 * engine instances generated from engine_tmpl.h.
 */
#include <errno.h>
#include <string.h>

#include "pt/pt_internal.h"
#include "trace/trace.h"
#include "util/alloc.h"

#define PT_CFG_ALL                                            \
	(PT_CFG_DIRTY | PT_CFG_AD | PT_CFG_HAD | PT_CFG_XNX | \
	 PT_CFG_FORCE_WRITEABLE)
#define PT_PROT_ALL                                                   \
	(PT_PROT_READ | PT_PROT_WRITE | PT_PROT_EXEC | PT_PROT_PRIV | \
	 PT_PROT_NOAF | PT_PROT_GLOBAL)

static unsigned lvl_shift(unsigned g, unsigned l)
{
	return g + l * (g - 3);
}

/* Leaf sizes the architecture allows at levels 0..@start. */
static uint64_t legal_sizes(enum pt_format fmt, unsigned g, unsigned start)
{
	uint64_t m = 0;
	unsigned l;

	for (l = 0; l <= start; l++) {
		bool ok;

		if (fmt == PT_FMT_ARM_S1 || fmt == PT_FMT_ARM_S2)
			ok = l == 0 || l == 1 || (g == 12 && l == 2);
		else
			ok = l <= 2;
		if (ok)
			m |= 1ull << lvl_shift(g, l);
	}
	return m;
}

/* Levels needed to resolve @ias bits, minus one: the start level. */
static unsigned derive_start(unsigned g, unsigned ias)
{
	unsigned bits = g - 3;

	return (ias - g + bits - 1) / bits - 1;
}

static int arm_geometry(struct pt *pt, const struct pt_cfg *cfg)
{
	unsigned g = cfg->granule_shift, bits = g - 3, s, ibits;
	unsigned max_bits = (g == 16) ? 52 : 48;
	int gi = (g - 12) / 2;

	if (g != 12 && g != 14 && g != 16)
		return -EINVAL;
	if (cfg->oas < 32 || cfg->oas > max_bits)
		return -EINVAL;
	if (cfg->ias < 25 || cfg->ias > max_bits)
		return -EINVAL;
	s = derive_start(g, cfg->ias);
	if (cfg->fmt == PT_FMT_ARM_S1) {
		pt->ops = &pt_fmt_arm_s1[gi];
	} else {
		/* S2 start levels from SL0 (§6.5): 4K L2..L0, else L3..L1 */
		unsigned lo = (g == 12) ? 1 : 0, hi = (g == 12) ? 3 : 2;

		pt->ops = &pt_fmt_arm_s2[gi];
		if (cfg->start_level >= 0) {
			s = (unsigned)cfg->start_level;
		} else if (s > lo && cfg->ias - lvl_shift(g, s) <= 4) {
			/* Like Linux: up to 16 concatenated tables beat
			 * one more level. */
			s--;
		}
		if (s < lo || s > hi || lvl_shift(g, s) >= cfg->ias)
			return -EINVAL;
	}
	ibits = cfg->ias - lvl_shift(g, s);
	if (ibits > bits + 4)
		return -EINVAL; /* more than 16 concatenated tables */
	pt->start_level = (uint8_t)s;
	pt->concat = (uint8_t)(ibits > bits ? 1u << (ibits - bits) : 1u);
	pt->root_size = 8u << ibits;
	return 0;
}

static int pt_setup(struct pt *pt, const struct pt_cfg *cfg, struct pt_mem mem)
{
	uint64_t legal, bm;
	int ret;

	memset(pt, 0, sizeof(*pt));
	if (!cfg || (mem.ops && !mem.ops->table))
		return -EINVAL;
	if (cfg->flags & ~PT_CFG_ALL)
		return -EINVAL;
	pt->cfg = *cfg;
	pt->mem = mem;
	switch (cfg->fmt) {
	case PT_FMT_ARM_S1:
	case PT_FMT_ARM_S2:
		ret = arm_geometry(pt, cfg);
		if (ret)
			return ret;
		break;
	case PT_FMT_X86_64:
	case PT_FMT_VTD_SS:
		if (cfg->granule_shift != 12 && cfg->granule_shift != 0)
			return -EINVAL;
		if (cfg->oas < 32 || cfg->oas > 52)
			return -EINVAL;
		pt->cfg.granule_shift = 12;
		if (cfg->ias == 48)
			pt->start_level = 3;
		else if (cfg->ias == 57)
			pt->start_level = 4;
		else if (cfg->ias == 39 && cfg->fmt == PT_FMT_VTD_SS)
			pt->start_level = 2;
		else
			return -EINVAL;
		pt->ops = cfg->fmt == PT_FMT_X86_64 ? &pt_fmt_x86_64 :
						      &pt_fmt_vtd_ss;
		pt->concat = 1;
		pt->root_size = 4096;
		break;
	default:
		return -EINVAL;
	}
	legal = legal_sizes(cfg->fmt, pt->cfg.granule_shift, pt->start_level);
	bm = cfg->pgsize_bitmap ? cfg->pgsize_bitmap & legal : legal;
	if (!(bm & (1ull << pt->cfg.granule_shift)))
		return -EINVAL;
	/* Splitting a 1G leaf needs 2M leaves to be legal (CAP.SSLPS). */
	if (cfg->fmt == PT_FMT_VTD_SS && (bm & (1ull << 30)) &&
	    !(bm & (1ull << 21)))
		return -EINVAL;
	pt->cfg.pgsize_bitmap = bm;
	return 0;
}

int pt_attach(struct pt *pt, const struct pt_cfg *cfg, struct pt_mem mem,
	      uint64_t root)
{
	int ret = pt_setup(pt, cfg, mem);

	if (ret)
		goto fail;
	ret = -EINVAL;
	if ((root & (pt->root_size - 1)) || (root >> pt->cfg.oas))
		goto fail;
	pt->root = root;
	return 0;
fail:
	pt->ops = NULL;
	return ret;
}

int pt_init(struct pt *pt, const struct pt_cfg *cfg, struct pt_mem mem)
{
	int ret = pt_setup(pt, cfg, mem);

	if (!ret && mem.ops && !mem.ops->alloc)
		ret = -EINVAL;
	if (!ret)
		ret = pt_table_alloc(pt, pt_root_alloc_bytes(pt), &pt->root);
	if (ret) {
		pt->ops = NULL;
		return ret;
	}
	pt->owns_root = 1;
	return 0;
}

void pt_destroy(struct pt *pt)
{
	if (!pt->ops)
		return;
	if (pt->owns_root)
		pt->ops->destroy(pt);
	pt->ops = NULL;
	pt->root = 0;
	pt->owns_root = 0;
}

uint64_t pt_input_size(const struct pt *pt)
{
	return 1ull << pt->cfg.ias;
}

uint64_t pt_leaf_sizes(const struct pt *pt)
{
	return pt->cfg.pgsize_bitmap;
}

int pt_arch_level(const struct pt *pt, unsigned level)
{
	if (pt->cfg.fmt == PT_FMT_ARM_S1 || pt->cfg.fmt == PT_FMT_ARM_S2)
		return 3 - (int)level;
	return 1 + (int)level;
}

/* [a, a + size) inside [0, 2^bits)? */
static bool range_fits(uint64_t a, uint64_t size, unsigned bits)
{
	uint64_t end = a + size;

	return end > a && !((end - 1) >> bits);
}

int pt_map(struct pt *pt, uint64_t iova, uint64_t pa, uint64_t size,
	   uint32_t prot, uint64_t pgsize_bitmap)
{
	uint64_t pgs = pt->cfg.pgsize_bitmap;
	int ret;

	if (pgsize_bitmap)
		pgs &= pgsize_bitmap;
	if (!pgs || !size || (prot & ~PT_PROT_ALL) ||
	    ((iova | pa | size) & ((pgs & -pgs) - 1)))
		ret = -EINVAL;
	else if (!range_fits(iova, size, pt->cfg.ias) ||
		 !range_fits(pa, size, pt->cfg.oas))
		ret = -EOVERFLOW;
	else if (pt->cfg.fmt == PT_FMT_VTD_SS &&
		 !(prot & (PT_PROT_READ | PT_PROT_WRITE | PT_PROT_EXEC)) &&
		 !(pt->cfg.flags & PT_CFG_FORCE_WRITEABLE))
		ret = -EINVAL; /* would not be present */
	else
		ret = pt->ops->map(pt, iova, pa, size, prot, pgs);
	trace_pt_map(iova, pa, size, prot, (uint64_t)(int64_t)ret);
	return ret;
}

int pt_unmap(struct pt *pt, uint64_t iova, uint64_t size, unsigned flags,
	     struct pt_gather *g, uint64_t *unmapped)
{
	uint64_t gran = 1ull << pt->cfg.granule_shift, done = 0;
	int ret;

	if (!size || ((iova | size) & (gran - 1)) || (flags & ~PT_UNMAP_SPLIT))
		ret = -EINVAL;
	else if (!range_fits(iova, size, pt->cfg.ias))
		ret = -EOVERFLOW;
	else
		ret = pt->ops->unmap(pt, iova, size, flags, g, &done);
	if (unmapped)
		*unmapped = ret ? 0 : done;
	trace_pt_unmap(iova, size, done, (uint64_t)(int64_t)ret);
	return ret;
}

uint64_t *pt_leaf_slot(const struct pt *pt, uint64_t iova)
{
	if (!range_fits(iova, 1, pt->cfg.ias))
		return NULL;
	return pt->ops->leaf_slot(pt, iova);
}

int pt_leaf_desc(const struct pt *pt, uint64_t pa, uint32_t prot,
		 uint64_t *desc)
{
	uint64_t gran = 1ull << pt->cfg.granule_shift;

	if ((prot & ~PT_PROT_ALL) || (pa & (gran - 1)) ||
	    !(pt->cfg.pgsize_bitmap & gran))
		return -EINVAL;
	if (!range_fits(pa, gran, pt->cfg.oas))
		return -EOVERFLOW;
	if (pt->cfg.fmt == PT_FMT_VTD_SS &&
	    !(prot & (PT_PROT_READ | PT_PROT_WRITE | PT_PROT_EXEC)) &&
	    !(pt->cfg.flags & PT_CFG_FORCE_WRITEABLE))
		return -EINVAL;
	*desc = pt->ops->leaf_desc(pt, pa, prot);
	return 0;
}

bool pt_leaf_same(const struct pt *pt, uint64_t a, uint64_t b)
{
	return pt->ops->leaf_clean(pt, a) == pt->ops->leaf_clean(pt, b);
}

int pt_walk(const struct pt *pt, uint64_t iova, unsigned flags,
	    struct pt_walk *w)
{
	return pt->ops->walk(pt, iova, flags, w);
}

int pt_for_each(const struct pt *pt, uint64_t start, uint64_t last,
		pt_leaf_fn fn, void *ctx)
{
	uint64_t top = pt_input_size(pt) - 1;

	if (start > last || !fn)
		return -EINVAL;
	if (start > top)
		return 0;
	return pt->ops->for_each(pt, start, last < top ? last : top, fn, ctx);
}

/* ---- table memory ---- */

int pt_table_alloc(const struct pt *pt, size_t size, uint64_t *pa)
{
	if (pt->mem.ops) {
		int ret;

		if (!pt->mem.ops->alloc)
			return -EOPNOTSUPP;
		ret = pt->mem.ops->alloc(pt->mem.ctx, size, pa);
		if (ret)
			return ret < 0 ? ret : -ENOMEM;
	} else {
		void *p = pt_pool_alloc(size);

		if (!p)
			return -ENOMEM;
		*pa = (uint64_t)(uintptr_t)p;
	}
	trace_pt_table_alloc(*pa, size);
	return 0;
}

void pt_table_free(const struct pt *pt, uint64_t pa, size_t size)
{
	trace_pt_table_free(pa, size);
	if (pt->mem.ops) {
		if (pt->mem.ops->free)
			pt->mem.ops->free(pt->mem.ctx, pa, size);
		return;
	}
	pt_pool_free((void *)(uintptr_t)pa, size);
}

void pt_table_free_dirty(const struct pt *pt, uint64_t pa, size_t size)
{
	if (!pt->mem.ops)
		memset((void *)(uintptr_t)pa, 0, size);
	pt_table_free(pt, pa, size);
}

/* ---- gather ---- */

int pt_gather_reserve(struct pt_gather *g, unsigned n)
{
	unsigned cap;
	uint64_t *pa;
	uint32_t *sz;

	if (g->count + n <= g->cap)
		return 0;
	cap = g->cap * 2;
	if (cap < g->count + n)
		cap = g->count + n;
	if (cap < 16)
		cap = 16;
	pa = xrealloc(g->pa, cap * sizeof(*pa));
	if (!pa)
		return -ENOMEM;
	g->pa = pa;
	sz = xrealloc(g->size, cap * sizeof(*sz));
	if (!sz)
		return -ENOMEM; /* g->pa grew; cap stays what both hold */
	g->size = sz;
	g->cap = cap;
	return 0;
}

void pt_gather_release(struct pt *pt, struct pt_gather *g)
{
	unsigned i;

	for (i = 0; i < g->count; i++)
		pt_table_free(pt, g->pa[i], g->size[i]);
	xfree(g->pa);
	xfree(g->size);
	memset(g, 0, sizeof(*g));
}
