// SPDX-License-Identifier: MIT
/*
 * The reverse map of a shadow's data pages (shadow_rmap.h): composed runs
 * by IOVA and by GPA, aliased runs on a list.
 */
#include <errno.h>
#include <stddef.h>

#include "drivers/shadow_rmap.h"
#include "util/alloc.h"

#define ALIAS (-1)

static struct shadow_run *by_iova(const struct itree_node *n)
{
	return (struct shadow_run *)((uintptr_t)n -
				     offsetof(struct shadow_run, iova));
}

static struct shadow_run *by_gpa(const struct itree_node *n)
{
	return (struct shadow_run *)((uintptr_t)n -
				     offsetof(struct shadow_run, gpa));
}

/* ---- the GPA index: tree, or the alias list ---- */

static void alias_push(struct shadow_rmap *m, struct shadow_run *r)
{
	r->gpa.height = ALIAS;
	r->gpa.right = NULL;
	r->gpa.left = m->alias;
	if (m->alias)
		m->alias->right = &r->gpa;
	m->alias = &r->gpa;
}

static void gpa_insert(struct shadow_rmap *m, struct shadow_run *r)
{
	if (itree_iter_first(&m->gpa, r->gpa.start, r->gpa.last))
		alias_push(m, r);
	else
		itree_insert(&m->gpa, &r->gpa);
}

static void gpa_remove(struct shadow_rmap *m, struct shadow_run *r)
{
	struct itree_node *n = &r->gpa;

	if (n->height != ALIAS) {
		itree_remove(&m->gpa, n);
		return;
	}
	if (n->right)
		n->right->left = n->left;
	else
		m->alias = n->left;
	if (n->left)
		n->left->right = n->right;
}

static void run_free(struct shadow_rmap *m, struct shadow_run *r)
{
	if (m->hint == r)
		m->hint = NULL;
	itree_remove(&m->iova, &r->iova);
	gpa_remove(m, r);
	m->count--;
	xfree(r);
}

/* Extend @r by @len at its end (the IOVAs are free; the GPAs may not be:
 * then the run moves to the alias list). */
static void extend(struct shadow_rmap *m, struct shadow_run *r, uint64_t len)
{
	uint64_t gs = r->gpa.last + 1, gl = r->gpa.last + len;

	r->iova.last += len;
	if (r->gpa.height != ALIAS && itree_iter_first(&m->gpa, gs, gl)) {
		itree_remove(&m->gpa, &r->gpa);
		r->gpa.last = gl;
		alias_push(m, r);
		return;
	}
	/* The end moves into free space: the tree's order holds. */
	r->gpa.last = gl;
}

void rmap_clear(struct shadow_rmap *m)
{
	struct itree_node *n;

	while ((n = itree_first(&m->iova)))
		run_free(m, by_iova(n));
	m->alias = NULL;
	for (unsigned i = 0; i < 2; i++) {
		xfree(m->spare[i]);
		m->spare[i] = NULL;
	}
}

int rmap_reserve(struct shadow_rmap *m, unsigned n)
{
	for (unsigned i = 0; i < n && i < 2; i++) {
		if (!m->spare[i])
			m->spare[i] = xzalloc(sizeof(struct shadow_run));
		if (!m->spare[i])
			return -ENOMEM;
	}
	return 0;
}

/* A node: a spare one first. */
static struct shadow_run *run_alloc(struct shadow_rmap *m)
{
	for (unsigned i = 0; i < 2; i++) {
		struct shadow_run *r = m->spare[i];

		if (r) {
			m->spare[i] = NULL;
			return r;
		}
	}
	return xzalloc(sizeof(struct shadow_run));
}

static struct shadow_run *run_at(const struct shadow_rmap *m, uint64_t iova)
{
	struct itree_node *n = itree_iter_first(&m->iova, iova, iova);

	return n ? by_iova(n) : NULL;
}

int rmap_add(struct shadow_rmap *m, uint64_t iova, uint64_t gpa, uint64_t len)
{
	uint64_t last = iova + (len - 1);
	struct shadow_run *p = iova ? run_at(m, iova - 1) : NULL, *n;

	if (p && p->gpa.last != UINT64_MAX && p->gpa.last + 1 == gpa) {
		extend(m, p, len);
	} else {
		p = run_alloc(m);
		if (!p)
			return -ENOMEM;
		p->iova.start = iova;
		p->iova.last = last;
		p->gpa.start = gpa;
		p->gpa.last = gpa + (len - 1);
		itree_insert(&m->iova, &p->iova);
		gpa_insert(m, p);
		m->count++;
	}
	/* The next run continuing both: one run. */
	n = last != UINT64_MAX ? run_at(m, last + 1) : NULL;
	if (n && p->gpa.last != UINT64_MAX && n->gpa.start == p->gpa.last + 1) {
		len = n->iova.last - n->iova.start + 1;
		run_free(m, n);
		extend(m, p, len);
	}
	return 0;
}

int rmap_trim(struct shadow_rmap *m, uint64_t start, uint64_t last,
	      uint64_t *xstart, uint64_t *xlast)
{
	struct itree_node *n;
	int rc = 0;

	while ((n = itree_iter_first(&m->iova, start, last))) {
		struct shadow_run *r = by_iova(n), *q;
		uint64_t d;

		if (n->start >= start && n->last <= last) {
			run_free(m, r);
			continue;
		}
		if (n->start < start && n->last > last) {
			q = run_alloc(m);
			if (!q) {
				/* Forget the rest of the run as well. */
				*xstart = last + 1;
				*xlast = n->last;
				rc = -ENOMEM;
				r->gpa.last = rmap_gpa(r, start - 1);
				n->last = start - 1;
				continue;
			}
			q->iova.start = last + 1;
			q->iova.last = n->last;
			q->gpa.start = rmap_gpa(r, last + 1);
			q->gpa.last = r->gpa.last;
			r->gpa.last = rmap_gpa(r, start - 1);
			n->last = start - 1;
			itree_insert(&m->iova, &q->iova);
			gpa_insert(m, q);
			m->count++;
			continue;
		}
		/* Shrinking in place keeps both trees' order. */
		if (n->start < start) {
			r->gpa.last = rmap_gpa(r, start - 1);
			n->last = start - 1;
		} else {
			d = last + 1 - n->start;
			r->gpa.start += d;
			n->start = last + 1;
		}
	}
	return rc;
}

struct shadow_run *rmap_covering(struct shadow_rmap *m, uint64_t start,
				 uint64_t last)
{
	struct shadow_run *r = m->hint;

	if (r && r->iova.start <= start && r->iova.last >= last)
		return r;
	r = run_at(m, start);
	if (!r || r->iova.last < last)
		return NULL;
	m->hint = r;
	return r;
}

struct shadow_run *rmap_find_gpa(const struct shadow_rmap *m, uint64_t gstart,
				 uint64_t glast, uint64_t *istart,
				 uint64_t *ilast)
{
	struct itree_node *n = itree_iter_first(&m->gpa, gstart, glast);
	struct shadow_run *r;
	uint64_t lo, hi;

	for (n = n ? n : m->alias; n; n = n->left)
		if (n->start <= glast && n->last >= gstart)
			break;
	if (!n)
		return NULL;
	r = by_gpa(n);
	lo = n->start > gstart ? n->start : gstart;
	hi = n->last < glast ? n->last : glast;
	*istart = r->iova.start + (lo - n->start);
	*ilast = r->iova.start + (hi - n->start);
	return r;
}

size_t rmap_bytes(const struct shadow_rmap *m)
{
	return m->count * sizeof(struct shadow_run);
}
