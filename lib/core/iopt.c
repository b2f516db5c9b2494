// SPDX-License-Identifier: MIT
/*
 * The IO page table behind an IOAS (iommufd-uapi.md §5): areas (IOVA ->
 * pages), reserved ranges (domain apertures, device MSI windows), the
 * allowed ranges for IOVA allocation, the IOVA alignment, and the domains
 * that mirror every area. Areas are only ever added or removed whole (the
 * VFIO type1 v1 path may cut them first); every domain maps every area.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "util/alloc.h"

#define IOPT_MAX UINT64_MAX
/* THP size: automatic IOVAs keep at most this much of the source's
 * alignment (Linux HPAGE_SIZE on x86). */
#define IOPT_HPAGE_SIZE (2ull << 20)
/* Dirty bitmaps are harvested this many 4 KiB pages at a time. */
#define DIRTY_CHUNK_PAGES (1ull << 18)

static struct iopt_area *to_area(struct itree_node *n)
{
	return (struct iopt_area *)n;
}

static uint64_t area_len(const struct iopt_area *a)
{
	return a->node.last - a->node.start + 1;
}

void iopt_init(struct iopt *iopt, struct iommufd_ctx *ctx)
{
	memset(iopt, 0, sizeof(*iopt));
	iopt->ctx = ctx;
	iopt->iova_alignment = 1;
}

static void area_free(struct iopt *iopt, struct iopt_area *a)
{
	itree_remove(&iopt->areas, &a->node);
	if (a->pin_held)
		iopt_pages_unpin_user(a->pages);
	iopt_pages_put(a->pages);
	xfree(a);
}

void iopt_destroy(struct iopt *iopt)
{
	struct itree_node *n;

	while ((n = itree_first(&iopt->areas)))
		area_free(iopt, to_area(n));
	xfree(iopt->allowed);
	xfree(iopt->resv);
	xfree(iopt->domains);
}

/* ---- Reserved and allowed ranges ---- */

static bool resv_overlaps(struct iopt *iopt, uint64_t start, uint64_t last)
{
	for (unsigned i = 0; i < iopt->nresv; i++) {
		if (iopt->resv[i].start > last)
			break; /* sorted by start */
		if (iopt->resv[i].last >= start)
			return true;
	}
	return false;
}

static bool allowed_overlaps(struct iopt *iopt, uint64_t start, uint64_t last)
{
	for (unsigned i = 0; i < iopt->nallowed; i++) {
		if (iopt->allowed[i].start <= last &&
		    iopt->allowed[i].last >= start)
			return true;
	}
	return false;
}

int iopt_reserve(struct iopt *iopt, uint64_t start, uint64_t last,
		 const void *owner)
{
	unsigned i;

	if (itree_iter_first(&iopt->areas, start, last))
		return -EADDRINUSE;
	if (allowed_overlaps(iopt, start, last))
		return -EADDRINUSE;
	if (iopt->nresv == iopt->resv_cap) {
		unsigned ncap = iopt->resv_cap ? iopt->resv_cap * 2 : 8;
		struct iopt_reserved *n =
			xrealloc(iopt->resv, ncap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		iopt->resv = n;
		iopt->resv_cap = ncap;
	}
	for (i = iopt->nresv; i > 0 && iopt->resv[i - 1].start > start; i--)
		iopt->resv[i] = iopt->resv[i - 1];
	iopt->resv[i] = (struct iopt_reserved){ start, last, owner };
	iopt->nresv++;
	return 0;
}

void iopt_unreserve_owner(struct iopt *iopt, const void *owner)
{
	unsigned j = 0;

	for (unsigned i = 0; i < iopt->nresv; i++) {
		if (iopt->resv[i].owner != owner)
			iopt->resv[j++] = iopt->resv[i];
	}
	iopt->nresv = j;
}

static int range_cmp(const void *a, const void *b)
{
	const struct iommu_iova_range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* Takes ownership of @ranges (xmalloc'd) on success. */
int iopt_set_allowed(struct iopt *iopt, struct iommu_iova_range *ranges,
		     unsigned n)
{
	if (!n) {
		xfree(iopt->allowed);
		iopt->allowed = NULL;
		iopt->nallowed = 0;
		xfree(ranges);
		return 0;
	}
	qsort(ranges, n, sizeof(*ranges), range_cmp);
	for (unsigned i = 0; i < n; i++) {
		if (i && ranges[i].start <= ranges[i - 1].last)
			return -EINVAL;
		if (resv_overlaps(iopt, ranges[i].start, ranges[i].last))
			return -EADDRINUSE;
	}
	xfree(iopt->allowed);
	iopt->allowed = ranges;
	iopt->nallowed = n;
	return 0;
}

int iopt_for_each_hole(struct iopt *iopt, iopt_hole_fn fn, void *ctx)
{
	uint64_t cur = 0;
	int rc;

	for (unsigned i = 0; i < iopt->nresv; i++) {
		const struct iopt_reserved *r = &iopt->resv[i];

		if (r->start > cur) {
			rc = fn(ctx, cur, r->start - 1);
			if (rc)
				return rc;
		}
		if (r->last >= cur) {
			if (r->last == IOPT_MAX)
				return 0;
			cur = r->last + 1;
		}
	}
	return fn(ctx, cur, IOPT_MAX);
}

/* ---- Alignment ---- */

static int check_alignment(struct iopt *iopt, uint64_t align)
{
	uint64_t mask = align - 1;

	for (struct itree_node *n = itree_first(&iopt->areas); n;
	     n = itree_next(&iopt->areas, n)) {
		struct iopt_area *a = to_area(n);

		if ((a->node.start & mask) || (area_len(a) & mask) ||
		    ((a->pages_off % iommufd_page_size) & mask))
			return -EADDRINUSE;
	}
	return 0;
}

static uint64_t wanted_alignment(struct iopt *iopt)
{
	uint64_t align = iopt->disable_large_pages ? iommufd_page_size : 1;

	for (unsigned i = 0; i < iopt->ndomains; i++) {
		uint64_t p = iommu_min_pgsize(iopt->domains[i]->pgsize_bitmap);

		if (p > align)
			align = p;
	}
	return align;
}

int iopt_recalc_alignment(struct iopt *iopt)
{
	uint64_t align = wanted_alignment(iopt);
	int rc;

	if (align > iopt->iova_alignment) {
		rc = check_alignment(iopt, align);
		if (rc)
			return rc;
	}
	iopt->iova_alignment = align;
	return 0;
}

int iopt_disable_large_pages(struct iopt *iopt)
{
	int rc;

	if (iopt->disable_large_pages)
		return 0;
	/* Domains already hold large IOPTEs for existing areas. */
	if (iopt->ndomains && iopt->areas.count)
		return -EINVAL;
	iopt->disable_large_pages = true;
	rc = iopt_recalc_alignment(iopt);
	if (rc)
		iopt->disable_large_pages = false;
	return rc;
}

void iopt_enable_large_pages(struct iopt *iopt)
{
	iopt->disable_large_pages = false;
	iopt_recalc_alignment(iopt);
}

/* ---- IOVA allocation ---- */

/* A used (reserved or mapped) range overlapping [start, last]; returns its
 * last byte, or 0 with *hit false. */
static uint64_t used_overlap(struct iopt *iopt, uint64_t start, uint64_t last,
			     bool *hit)
{
	struct itree_node *n = itree_iter_first(&iopt->areas, start, last);
	uint64_t end = 0;

	*hit = false;
	if (n) {
		*hit = true;
		end = n->last;
	}
	for (unsigned i = 0; i < iopt->nresv; i++) {
		const struct iopt_reserved *r = &iopt->resv[i];

		if (r->start > last)
			break;
		if (r->last >= start && (!*hit || r->last > end)) {
			*hit = true;
			end = r->last;
		}
	}
	return end;
}

static bool fits(uint64_t start, uint64_t last, uint64_t length)
{
	return start < last && last - start >= length - 1;
}

/* First fit in [lo, hi] avoiding used ranges. */
static bool alloc_in_window(struct iopt *iopt, uint64_t lo, uint64_t hi,
			    uint64_t length, uint64_t align,
			    uint64_t page_offset, uint64_t *iova)
{
	uint64_t cur = lo;

	for (;;) {
		uint64_t a, used_last;
		bool hit;

		if (add_overflows(cur, align - 1, &a))
			return false;
		a &= ~(align - 1);
		a |= page_offset;
		if (!fits(a, hi, length))
			return false;
		used_last = used_overlap(iopt, a, a + length - 1, &hit);
		if (!hit) {
			*iova = a;
			return true;
		}
		if (used_last >= hi)
			return false;
		cur = used_last + 1;
	}
}

static int alloc_iova(struct iopt *iopt, uint64_t *iova, uint64_t addr,
		      uint64_t length)
{
	uint64_t page = iommufd_page_size;
	uint64_t page_offset = addr % page;
	uint64_t align, lo = page, hi = IOPT_MAX - page;

	if (!length || length >= IOPT_MAX / 2)
		return -EOVERFLOW;
	/* Keep the source's alignment (helps large IOPTEs), capped at the
	 * THP size; never below the IOAS alignment. */
	align = 1ull << (64 - __builtin_clzll(length - 1 ? length - 1 : 1));
	if (length == 1)
		align = 1;
	if (addr && (addr & -addr) < align)
		align = addr & -addr;
	if (align >= IOPT_HPAGE_SIZE)
		align = IOPT_HPAGE_SIZE;
	if (align < iopt->iova_alignment)
		return -EINVAL;

	if (!iopt->nallowed)
		return alloc_in_window(iopt, lo, hi, length, align, page_offset,
				       iova) ?
			       0 :
			       -ENOSPC;
	for (unsigned i = 0; i < iopt->nallowed; i++) {
		uint64_t s = iopt->allowed[i].start, l = iopt->allowed[i].last;

		if (s < lo)
			s = lo;
		if (l > hi)
			l = hi;
		if (s > l)
			continue;
		if (alloc_in_window(iopt, s, l, length, align, page_offset,
				    iova))
			return 0;
	}
	return -ENOSPC;
}

static int check_iova(struct iopt *iopt, uint64_t iova, uint64_t length)
{
	uint64_t last;

	if (iova & (iopt->iova_alignment - 1))
		return -EINVAL;
	if (add_overflows(iova, length - 1, &last))
		return -EOVERFLOW;
	if (resv_overlaps(iopt, iova, last))
		return -EINVAL;
	if (itree_iter_first(&iopt->areas, iova, last))
		return -EEXIST;
	return 0;
}

/* ---- Domains <-> areas ---- */

static uint64_t map_pgsizes(struct iopt *iopt)
{
	return iopt->disable_large_pages ? iommufd_page_size : 0;
}

static int area_map_domain(struct iopt *iopt, struct iopt_area *a,
			   struct iommu_domain *d)
{
	return d->ops->map(d, a->node.start, iopt_area_host(a, a->node.start),
			   area_len(a), a->prot, map_pgsizes(iopt));
}

static void area_unmap_domain(struct iopt_area *a, struct iommu_domain *d)
{
	struct iommu_gather g = { 0 };
	uint64_t unmapped = 0;

	d->ops->unmap(d, a->node.start, area_len(a), &g, &unmapped);
	d->ops->iotlb_sync(d, &g);
}

/* Map @a into every domain (pinning its pages first). */
static int area_fill(struct iopt *iopt, struct iopt_area *a)
{
	unsigned i;
	int rc;

	if (!iopt->ndomains)
		return 0;
	rc = iopt_pages_pin_user(a->pages);
	if (rc)
		return rc;
	a->pin_held = true;
	for (i = 0; i < iopt->ndomains; i++) {
		rc = area_map_domain(iopt, a, iopt->domains[i]);
		if (rc)
			goto undo;
	}
	return 0;
undo:
	while (i--)
		area_unmap_domain(a, iopt->domains[i]);
	iopt_pages_unpin_user(a->pages);
	a->pin_held = false;
	return rc;
}

static void area_unfill(struct iopt *iopt, struct iopt_area *a)
{
	for (unsigned i = 0; i < iopt->ndomains; i++)
		area_unmap_domain(a, iopt->domains[i]);
}

int iopt_map_pages(struct iopt *iopt, struct iopt_pages_elm *elms,
		   unsigned nelms, uint64_t length, uint64_t *iova,
		   uint32_t prot, unsigned flags)
{
	struct iopt_area **areas;
	uint64_t cur;
	unsigned i, inserted = 0, filled = 0;
	int rc;

	areas = xcalloc(nelms, sizeof(*areas));
	if (!areas)
		return -ENOMEM;
	for (i = 0; i < nelms; i++) {
		areas[i] = xzalloc(sizeof(*areas[i]));
		if (!areas[i]) {
			rc = -ENOMEM;
			goto out_free;
		}
	}
	if ((length & (iopt->iova_alignment - 1)) || !length) {
		rc = -EINVAL;
		goto out_free;
	}
	if (flags & IOPT_ALLOC_IOVA) {
		const struct iopt_pages *p = elms[0].pages;
		uint64_t hint = p->base + elms[0].start_byte;

		if (p->kind == IOPT_PAGES_FILE)
			hint = p->file_off + elms[0].start_byte;
		rc = alloc_iova(iopt, iova, hint, length);
	} else {
		rc = check_iova(iopt, *iova, length);
	}
	if (rc)
		goto out_free;

	cur = *iova;
	for (i = 0; i < nelms; i++) {
		struct iopt_area *a = areas[i];

		if ((prot & IOMMU_PROT_WRITE) && !elms[i].pages->writable) {
			rc = -EPERM;
			goto out_remove;
		}
		if ((elms[i].start_byte % iommufd_page_size) &
		    (iopt->iova_alignment - 1)) {
			rc = -EINVAL;
			goto out_remove;
		}
		a->pages = elms[i].pages;
		a->pages_off = elms[i].start_byte;
		a->prot = prot;
		a->node.start = cur;
		if (add_overflows(cur, elms[i].length - 1, &a->node.last)) {
			rc = -EOVERFLOW;
			goto out_remove;
		}
		itree_insert(&iopt->areas, &a->node);
		inserted++;
		cur += elms[i].length;
	}
	for (i = 0; i < nelms; i++) {
		rc = area_fill(iopt, areas[i]);
		if (rc)
			goto out_unfill;
		filled++;
	}
	/* The areas now own the callers' page references. */
	xfree(areas);
	return 0;

out_unfill:
	for (i = 0; i < filled; i++) {
		area_unfill(iopt, areas[i]);
		iopt_pages_unpin_user(areas[i]->pages);
		areas[i]->pin_held = false;
	}
out_remove:
	for (i = 0; i < inserted; i++)
		itree_remove(&iopt->areas, &areas[i]->node);
out_free:
	for (i = 0; i < nelms; i++)
		xfree(areas[i]);
	xfree(areas);
	return rc;
}

int iopt_get_pages(struct iopt *iopt, uint64_t iova, uint64_t length,
		   struct iopt_pages_elm **out, unsigned *nout)
{
	struct iopt_pages_elm *elms = NULL;
	unsigned n = 0, cap = 0;
	struct itree_node *node;
	uint64_t last, cur = iova;
	int rc = -ENOENT;

	if (!length)
		return -EINVAL;
	if (add_overflows(iova, length - 1, &last))
		return -EOVERFLOW;
	for (node = itree_iter_first(&iopt->areas, iova, last); node;
	     node = itree_iter_next(&iopt->areas, node, last)) {
		struct iopt_area *a = to_area(node);
		uint64_t end = a->node.last < last ? a->node.last : last;

		if (a->node.start > cur)
			break; /* a hole */
		if (n == cap) {
			unsigned ncap = cap ? cap * 2 : 4;
			struct iopt_pages_elm *e =
				xrealloc(elms, ncap * sizeof(*e));

			if (!e) {
				rc = -ENOMEM;
				goto fail;
			}
			elms = e;
			cap = ncap;
		}
		elms[n].pages = a->pages;
		elms[n].start_byte = a->pages_off + (cur - a->node.start);
		elms[n].length = end - cur + 1;
		iopt_pages_get(a->pages);
		n++;
		if (end == last) {
			*out = elms;
			*nout = n;
			return 0;
		}
		cur = end + 1;
	}
fail:
	iopt_put_pages(elms, n);
	return rc;
}

void iopt_put_pages(struct iopt_pages_elm *elms, unsigned nelms)
{
	for (unsigned i = 0; i < nelms; i++)
		iopt_pages_put(elms[i].pages);
	xfree(elms);
}

int iopt_unmap_range(struct iopt *iopt, uint64_t start, uint64_t last,
		     uint64_t *unmapped)
{
	struct itree_node *n;

	*unmapped = 0;
	while ((n = itree_iter_first(&iopt->areas, start, last))) {
		struct iopt_area *a = to_area(n);

		/* Locked by an in-kernel user (HW queue). */
		if (a->num_locks)
			return -EBUSY;
		/* Never split or truncate an area (§5 UNMAP). */
		if (a->node.start < start || a->node.last > last)
			return -ENOENT;
		area_unfill(iopt, a);
		*unmapped += area_len(a);
		area_free(iopt, a);
	}
	return 0;
}

/*
 * Linux's internal access for HW queues (iommufd_access_pin_pages): the
 * areas are walked while they join up, each must be readable (EPERM), the
 * walk must cover the range (ENOENT), and then the host memory must be
 * contiguous (EFAULT: a queue's hardware reads it by physical address).
 * Everything is checked before anything is locked.
 */
int iopt_lock_range(struct iopt *iopt, uint64_t start, uint64_t last,
		    uint64_t *host)
{
	struct itree_node *n;
	uint64_t cur = start, next_host = 0;
	bool contiguous = true, covered = false;

	for (n = itree_iter_first(&iopt->areas, start, last); n;
	     n = itree_iter_next(&iopt->areas, n, last)) {
		struct iopt_area *a = to_area(n);
		uint64_t h;

		if (a->node.start > cur)
			break; /* a hole */
		if (!(a->prot & IOMMU_PROT_READ))
			return -EPERM;
		h = iopt_area_host(a, cur);
		if (cur == start)
			*host = h;
		else if (h != next_host)
			contiguous = false;
		if (a->node.last >= last) {
			covered = true;
			break;
		}
		next_host = h + (a->node.last - cur + 1);
		cur = a->node.last + 1;
	}
	if (!covered)
		return -ENOENT;
	if (!contiguous)
		return -EFAULT;
	for (n = itree_iter_first(&iopt->areas, start, last); n;
	     n = itree_iter_next(&iopt->areas, n, last))
		to_area(n)->num_locks++;
	return 0;
}

void iopt_unlock_range(struct iopt *iopt, uint64_t start, uint64_t last)
{
	struct itree_node *n;

	/* Locked areas cannot have gone or changed. */
	for (n = itree_iter_first(&iopt->areas, start, last); n;
	     n = itree_iter_next(&iopt->areas, n, last))
		to_area(n)->num_locks--;
}

int iopt_unmap_all(struct iopt *iopt, uint64_t *unmapped)
{
	return iopt_unmap_range(iopt, 0, IOPT_MAX, unmapped);
}

int iopt_cut_iova(struct iopt *iopt, const uint64_t *iovas, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		struct itree_node *node =
			itree_iter_first(&iopt->areas, iovas[i], iovas[i]);
		struct iopt_area *a, *b;

		if (!node || node->last == iovas[i])
			continue;
		a = to_area(node);
		if (a->num_locks)
			return -EBUSY;
		/* Both halves must stay mappable on their own. */
		if ((iovas[i] + 1) & (iopt->iova_alignment - 1))
			return -EINVAL;
		b = xzalloc(sizeof(*b));
		if (!b)
			return -ENOMEM;
		b->pages = a->pages;
		iopt_pages_get(b->pages);
		b->pages_off = a->pages_off + (iovas[i] + 1 - a->node.start);
		b->prot = a->prot;
		b->node.start = iovas[i] + 1;
		b->node.last = a->node.last;
		if (a->pin_held) {
			/* already pinned: just count the new user */
			b->pages->pin_users++;
			b->pin_held = true;
		}
		a->node.last = iovas[i];
		itree_insert(&iopt->areas, &b->node);
	}
	return 0;
}

int iopt_add_domain(struct iopt *iopt, struct iommu_domain *d)
{
	uint64_t align = iommu_min_pgsize(d->pgsize_bitmap);
	struct itree_node *n, *failed = NULL;
	int rc;

	if (align < iopt->iova_alignment)
		align = iopt->iova_alignment;
	/* IOAS pages are PAGE_SIZE: a bigger smallest IOPTE cannot work. */
	if (!align || align > iommufd_page_size)
		return -EINVAL;
	if (align != iopt->iova_alignment) {
		rc = check_alignment(iopt, align);
		if (rc)
			return rc;
	}
	/* Nothing may exist outside the aperture. */
	if (d->aperture_start) {
		rc = iopt_reserve(iopt, 0, d->aperture_start - 1, d);
		if (rc)
			goto out_unreserve;
	}
	if (d->aperture_last != IOPT_MAX) {
		rc = iopt_reserve(iopt, d->aperture_last + 1, IOPT_MAX, d);
		if (rc)
			goto out_unreserve;
	}
	if (iopt->ndomains == iopt->dom_cap) {
		unsigned ncap = iopt->dom_cap ? iopt->dom_cap * 2 : 4;
		struct iommu_domain **nd =
			xrealloc(iopt->domains, ncap * sizeof(*nd));

		if (!nd) {
			rc = -ENOMEM;
			goto out_unreserve;
		}
		iopt->domains = nd;
		iopt->dom_cap = ncap;
	}
	for (n = itree_first(&iopt->areas); n;
	     n = itree_next(&iopt->areas, n)) {
		struct iopt_area *a = to_area(n);

		if (!iopt->ndomains) {
			rc = iopt_pages_pin_user(a->pages);
			if (rc) {
				failed = n;
				goto out_unfill;
			}
			a->pin_held = true;
		}
		rc = area_map_domain(iopt, a, d);
		if (rc) {
			if (!iopt->ndomains) {
				iopt_pages_unpin_user(a->pages);
				a->pin_held = false;
			}
			failed = n;
			goto out_unfill;
		}
	}
	iopt->domains[iopt->ndomains++] = d;
	iopt->iova_alignment = align;
	return 0;

out_unfill:
	for (n = itree_first(&iopt->areas); n && n != failed;
	     n = itree_next(&iopt->areas, n)) {
		struct iopt_area *a = to_area(n);

		area_unmap_domain(a, d);
		if (!iopt->ndomains) {
			iopt_pages_unpin_user(a->pages);
			a->pin_held = false;
		}
	}
out_unreserve:
	iopt_unreserve_owner(iopt, d);
	return rc;
}

void iopt_remove_domain(struct iopt *iopt, struct iommu_domain *d)
{
	unsigned i;

	for (i = 0; i < iopt->ndomains && iopt->domains[i] != d; i++)
		;
	if (i == iopt->ndomains)
		return;
	memmove(&iopt->domains[i], &iopt->domains[i + 1],
		(iopt->ndomains - i - 1) * sizeof(iopt->domains[0]));
	iopt->ndomains--;
	for (struct itree_node *n = itree_first(&iopt->areas); n;
	     n = itree_next(&iopt->areas, n)) {
		struct iopt_area *a = to_area(n);

		area_unmap_domain(a, d);
		/* The last domain gone: pages are no longer pinned. */
		if (!iopt->ndomains && a->pin_held) {
			iopt_pages_unpin_user(a->pages);
			a->pin_held = false;
		}
	}
	iopt_unreserve_owner(iopt, d);
	iopt_recalc_alignment(iopt);
}

/* ---- Dirty tracking ---- */

/* Areas must cover [iova, last] without holes. */
static bool covered(struct iopt *iopt, uint64_t iova, uint64_t last)
{
	uint64_t cur = iova;

	for (struct itree_node *n = itree_iter_first(&iopt->areas, iova, last);
	     n; n = itree_iter_next(&iopt->areas, n, last)) {
		if (n->start > cur)
			return false;
		if (n->last >= last)
			return true;
		cur = n->last + 1;
	}
	return false;
}

static void sync_range(struct iommu_domain *d, uint64_t start, uint64_t last)
{
	struct iommu_gather g = { .start = start,
				  .last = last,
				  .pending = true };

	d->ops->iotlb_sync(d, &g);
}

int iopt_set_dirty_tracking(struct iopt *iopt, struct iommu_domain *d,
			    bool enable)
{
	uint64_t *scratch;
	int rc = 0;

	if (!d->has_dirty_ops)
		return -EOPNOTSUPP;
	if (enable) {
		/* Start from a clean snapshot: drop stale dirty bits. */
		scratch = xmalloc(DIRTY_CHUNK_PAGES / 8);
		if (!scratch)
			return -ENOMEM;
		for (struct itree_node *n = itree_first(&iopt->areas); n && !rc;
		     n = itree_next(&iopt->areas, n)) {
			for (uint64_t s = n->start; s <= n->last && !rc;) {
				uint64_t len = n->last - s + 1;

				if (len > DIRTY_CHUNK_PAGES * 4096)
					len = DIRTY_CHUNK_PAGES * 4096;
				rc = d->ops->read_and_clear_dirty(
					d, s, len, scratch, false);
				if (s + len - 1 == n->last)
					break;
				s += len;
			}
		}
		xfree(scratch);
		if (iopt->areas.count)
			sync_range(d, 0, IOPT_MAX);
		if (rc)
			return rc;
	}
	return d->ops->set_dirty_tracking(d, enable);
}

/* OR the 4 KiB dirty bits of [s, s + len) (in @scratch) into the caller's
 * bitmap of page_size bits starting at cmd->iova, through @buf (room for
 * the words one chunk touches). */
static int merge_dirty(const struct iommu_hwpt_get_dirty_bitmap *cmd,
		       uint64_t s, uint64_t len, const uint64_t *scratch,
		       uint64_t *buf)
{
	uint64_t ps = cmd->page_size, npages = len / 4096;
	uint64_t first_bit = (s - cmd->iova) / ps;
	uint64_t last_bit = (s + len - 1 - cmd->iova) / ps;
	uint64_t w0 = first_bit / 64, nw = last_bit / 64 - w0 + 1;
	bool any = false;
	int rc;

	for (uint64_t i = 0; i < (npages + 63) / 64 && !any; i++)
		any = scratch[i] != 0;
	if (!any)
		return 0;
	rc = copy_from_user(buf, cmd->data + w0 * 8, nw * 8);
	if (rc)
		return rc;
	for (uint64_t k = 0; k < npages; k++) {
		uint64_t a, b;

		if (!(scratch[k / 64] & (1ull << (k % 64))))
			continue;
		/* A dirty IOPTE larger than page_size sets every bit it
		 * covers; one smaller sets its page's bit. */
		a = (s + k * 4096 - cmd->iova) / ps;
		b = (s + k * 4096 + 4095 - cmd->iova) / ps;
		for (uint64_t bit = a; bit <= b; bit++)
			buf[bit / 64 - w0] |= 1ull << (bit % 64);
	}
	return copy_to_user(cmd->data + w0 * 8, buf, nw * 8);
}

int iopt_read_and_clear_dirty(struct iopt *iopt, struct iommu_domain *d,
			      struct iommu_hwpt_get_dirty_bitmap *cmd)
{
	bool no_clear = cmd->flags & IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR;
	uint64_t last, mask = iopt->iova_alignment - 1, ps = cmd->page_size;
	uint64_t chunk = DIRTY_CHUNK_PAGES, *scratch, *buf;
	bool cleared = false;
	int rc = 0;

	if (add_overflows(cmd->iova, cmd->length - 1, &last))
		return -EOVERFLOW;
	if ((cmd->iova & mask) || ((last + 1) & mask))
		return -EINVAL;
	if (!ps || (ps & (ps - 1)))
		return -EINVAL;
	if ((cmd->iova & (ps - 1)) || ((last + 1) & (ps - 1)))
		return -EINVAL;
	if (!d->has_dirty_ops)
		return -EOPNOTSUPP;
	if (!cmd->length || !covered(iopt, cmd->iova, last))
		return -EINVAL;
	/* Harvest at 4 KiB, the smallest IOPTE an IOAS can hold. */
	if ((cmd->iova & 4095) || ((last + 1) & 4095))
		return -EINVAL;
	/* Sub-4K bitmap pages multiply the bits per chunk: keep the
	 * caller-side buffer bounded. */
	if (ps < 4096)
		chunk /= 4096 / ps;
	/* Everything allocated before any dirty bit is cleared: a failure
	 * must not lose them. */
	scratch = xmalloc(chunk / 8);
	buf = xmalloc((chunk * (ps < 4096 ? 4096 / ps : 1)) / 8 + 16);
	if (!scratch || !buf) {
		rc = -ENOMEM;
		goto out;
	}
	for (struct itree_node *n =
		     itree_iter_first(&iopt->areas, cmd->iova, last);
	     n && !rc; n = itree_iter_next(&iopt->areas, n, last)) {
		uint64_t s = n->start < cmd->iova ? cmd->iova : n->start;
		uint64_t e = n->last > last ? last : n->last;

		while (!rc) {
			uint64_t len = e - s + 1;

			if (len > chunk * 4096)
				len = chunk * 4096;
			memset(scratch, 0, (len / 4096 + 63) / 64 * 8);
			rc = d->ops->read_and_clear_dirty(d, s, len, scratch,
							  no_clear);
			cleared |= !no_clear;
			if (!rc)
				rc = merge_dirty(cmd, s, len, scratch, buf);
			if (s + len - 1 == e)
				break;
			s += len;
		}
	}
out:
	xfree(scratch);
	xfree(buf);
	/* Cleared dirty state must reach the IOTLB (writable-dirty entries
	 * would skip the next update), even if we failed part way. */
	if (cleared)
		sync_range(d, cmd->iova, last);
	return rc;
}
