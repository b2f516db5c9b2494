// SPDX-License-Identifier: MIT
/*
 * What the models' explain.c share: the step list, the overlay that keeps
 * a walk's descriptor updates out of memory, and the recording accessor
 * through which pt_walk reads tables while explaining.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hw/explain.h"
#include "util/alloc.h"

static const char *const kind_names[HW_XS_KIND_COUNT] = {
	[HW_XS_NOTE] = "note",	 [HW_XS_REG] = "register",
	[HW_XS_CACHE] = "cache", [HW_XS_CONFIG] = "config",
	[HW_XS_S1] = "stage1",	 [HW_XS_S2] = "stage2",
	[HW_XS_CHECK] = "check", [HW_XS_UPDATE] = "update",
};

const char *hw_xs_kind_name(enum hw_xs_kind k)
{
	return (unsigned)k < HW_XS_KIND_COUNT ? kind_names[k] : "?";
}

int hw_explain(struct ionest_hw *hw, const struct ionest_xlate_req *req,
	       struct hw_explain *x)
{
	int ret;

	if (!x)
		return -EINVAL;
	memset(x, 0, sizeof(*x));
	x->fault_level = -1;
	if (!hw || !req)
		return -EINVAL;
	x->model = hw->ops->model;
	x->req = *req;
	if (!hw->ops->explain)
		return -EOPNOTSUPP;
	ret = hw->ops->explain(hw, req, x);
	if (!ret && x->err)
		ret = x->err;
	return ret;
}

void hw_explain_fini(struct hw_explain *x)
{
	if (!x)
		return;
	xfree(x->steps);
	x->steps = NULL;
	x->nsteps = x->cap = 0;
}

struct hw_xstep *hw_x_add(struct hw_explain *x, enum hw_xs_kind kind,
			  const char *name)
{
	static __thread struct hw_xstep scratch;
	struct hw_xstep *s;

	if (x->nsteps == x->cap) {
		unsigned cap = x->cap ? x->cap * 2 : 32;
		struct hw_xstep *n =
			x->err ? NULL : xrealloc(x->steps, cap * sizeof(*n));

		if (!n) {
			x->err = -ENOMEM;
			s = &scratch;
			goto fill;
		}
		x->steps = n;
		x->cap = cap;
	}
	s = &x->steps[x->nsteps++];
fill:
	memset(s, 0, sizeof(*s));
	s->kind = (uint8_t)kind;
	s->depth = x->depth;
	s->level = -1;
	s->hit = -1;
	s->skipped = x->skipping;
	snprintf(s->name, sizeof(s->name), "%s", name ? name : "");
	return s;
}

static void vtext(char *buf, size_t cap, const char *fmt, va_list ap)
{
	size_t len = strlen(buf);

	if (len + 1 < cap)
		vsnprintf(buf + len, cap - len, fmt, ap);
}

void hw_x_text(struct hw_xstep *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vtext(s->text, sizeof(s->text), fmt, ap);
	va_end(ap);
}

void hw_x_words(struct hw_xstep *s, const uint64_t *w, unsigned n)
{
	if (n > HW_XS_WORDS)
		n = HW_XS_WORDS;
	memcpy(s->w, w, n * sizeof(*w));
	s->nwords = (uint8_t)n;
}

void hw_x_note(struct hw_explain *x, const char *fmt, ...)
{
	struct hw_xstep *s = hw_x_add(x, HW_XS_NOTE, "note");
	va_list ap;

	va_start(ap, fmt);
	vtext(s->text, sizeof(s->text), fmt, ap);
	va_end(ap);
}

struct hw_xstep *hw_x_cache(struct hw_explain *x, const char *name, bool hit)
{
	struct hw_xstep *s = hw_x_add(x, HW_XS_CACHE, name);

	s->hit = hit;
	return s;
}

void hw_x_cache_served(struct hw_explain *x,
		       const struct ionest_xlate_res *cached)
{
	const struct ionest_xlate_res *now = &x->res;

	if (now->status != cached->status || now->addr != cached->addr ||
	    now->perm != cached->perm || now->fault != cached->fault) {
		x->stale = true;
		hw_x_note(x,
			  "stale: the tables now give %s; the cached "
			  "translation is used until invalidated",
			  now->status == IONEST_XLATE_FAULT ? x->fault_name :
							      "another result");
	}
	x->res = *cached;
	x->fault_name = NULL;
	x->fault_level = -1;
	x->would_record = false;
}

void hw_x_summary(struct hw_explain *x, const char *fmt, ...)
{
	va_list ap;

	x->summary[0] = '\0';
	va_start(ap, fmt);
	vtext(x->summary, sizeof(x->summary), fmt, ap);
	va_end(ap);
}

/* ---- overlay ---- */

static int ov_find(const struct hw_x_overlay *ov, uint64_t pa)
{
	for (unsigned i = 0; i < ov->n; i++)
		if (ov->slot[i].host == pa)
			return (int)i;
	return -1;
}

void *hw_x_map_read(struct ionest_hw *hw, struct hw_x_overlay *ov, uint64_t pa,
		    uint64_t size)
{
	int i = size == 8 && ov ? ov_find(ov, pa) : -1;

	if (i >= 0)
		return &ov->slot[i].val;
	return hw_bus_map(hw, pa, size, false);
}

uint64_t *hw_x_map_write(struct ionest_hw *hw, struct hw_x_overlay *ov,
			 uint64_t pa, uint8_t tag)
{
	int i = ov_find(ov, pa);
	const uint64_t *p;

	if (i >= 0)
		return &ov->slot[i].val;
	/* The real walk would write here: the bus must allow it. */
	if (ov->n == HW_X_OVERLAY || (pa & 7) || !hw_bus_map(hw, pa, 8, true) ||
	    !(p = hw_bus_map(hw, pa, 8, false)))
		return NULL;
	i = (int)ov->n++;
	ov->slot[i].host = pa;
	ov->slot[i].old = ov->slot[i].val = hw_read64(p);
	ov->slot[i].shown = false;
	ov->slot[i].tag = tag;
	return &ov->slot[i].val;
}

void hw_x_updates(struct hw_explain *x, struct hw_x_overlay *ov, uint8_t tag,
		  hw_x_update_fn what, const void *ctx)
{
	for (unsigned i = 0; i < ov->n; i++) {
		struct hw_xstep *s;

		if (ov->slot[i].shown || ov->slot[i].tag != tag ||
		    ov->slot[i].old == ov->slot[i].val)
			continue;
		ov->slot[i].shown = true;
		s = hw_x_add(x, HW_XS_UPDATE, "update");
		s->has_host = true;
		s->host = ov->slot[i].host;
		s->w[0] = ov->slot[i].old;
		s->w[1] = ov->slot[i].val;
		s->nwords = 2;
		if (what)
			what(s, ov->slot[i].old, ov->slot[i].val, ctx);
	}
}

/* ---- recording accessor ---- */

static void *xmem_table(void *ctx, uint64_t addr, size_t size, bool write)
{
	struct hw_x_mem *m = ctx;
	uint64_t pa = addr;
	struct hw_xstep *s;
	uint64_t *p;

	if (m->s2) {
		m->x->depth++;
		if (!m->s2(m, addr, write, &pa)) {
			m->x->depth--;
			return NULL;
		}
		m->x->depth--;
	}
	if (write)
		return hw_x_map_write(m->hw, m->ov, pa, m->kind);
	p = hw_x_map_read(m->hw, m->ov, pa, size);
	s = hw_x_add(m->x, (enum hw_xs_kind)m->kind,
		     m->kind == HW_XS_S1 ? "S1" : "S2");
	s->has_in = true;
	s->in = m->in;
	s->has_addr = true;
	s->addr = addr;
	if (m->s2) {
		s->has_host = true;
		s->host = pa;
	}
	if (p && size >= 8) {
		s->w[0] = hw_read64(p);
		s->nwords = 1;
	} else if (!p) {
		hw_x_text(s, "external abort: nothing on the bus at 0x%llx",
			  (unsigned long long)pa);
	}
	if (m->nread < sizeof(m->read_step) / sizeof(m->read_step[0]) &&
	    s >= m->x->steps && s < m->x->steps + m->x->nsteps)
		m->read_step[m->nread++] = (unsigned)(s - m->x->steps);
	return p;
}

static const struct pt_mem_ops xmem_ops = {
	.table = xmem_table,
};

struct pt_mem hw_x_pt_mem(struct hw_x_mem *m)
{
	return (struct pt_mem){ .ops = &xmem_ops, .ctx = m };
}

void hw_x_walk_done(struct hw_x_mem *m, const struct pt *pt,
		    const struct pt_walk *w, const char *prefix,
		    hw_x_decode_fn decode, const void *ctx)
{
	unsigned n = w->nrec < m->nread ? w->nrec : m->nread;

	for (unsigned i = 0; i < n; i++) {
		struct hw_xstep *s = &m->x->steps[m->read_step[i]];
		const struct pt_walk_level *r = &w->rec[i];
		int lvl = pt_arch_level(pt, r->level);

		s->level = (int8_t)lvl;
		snprintf(s->name, sizeof(s->name), "%s L%d", prefix, lvl);
		/* The record holds the descriptor after any update; show
		 * what memory held. */
		if (s->nwords)
			hw_x_text(s, "[%u] ", r->index);
		if (decode && s->nwords)
			decode(s, r->level, s->w[0], ctx);
	}
	/* A read the records do not cover (a level whose descriptor the
	 * walk could not use, e.g. a fetch that faulted) keeps its name. */
	for (unsigned i = n; i < m->nread; i++) {
		struct hw_xstep *s = &m->x->steps[m->read_step[i]];

		if (i == n && w->fault) {
			int lvl = pt_arch_level(pt, w->level);

			s->level = (int8_t)lvl;
			snprintf(s->name, sizeof(s->name), "%s L%d", prefix,
				 lvl);
			if (decode && s->nwords)
				decode(s, w->level, s->w[0], ctx);
		}
	}
}
