// SPDX-License-Identifier: MIT
/*
 * Dirty tracking: harvesting leaf dirty state into a bitmap and marking a
 * leaf dirty as a hardware write would. The per-format leaf rules (x86 D,
 * VT-d SS D with A/D enabled, ARM DBM with AP[2] / S2AP[1]) live in the
 * format files.
 */
#include <errno.h>

#include "pt/pt_internal.h"

void pt_bitmap_set(uint64_t *bitmap, uint64_t first, uint64_t last)
{
	uint64_t w = first / 64, lw = last / 64;
	uint64_t lo = ~0ull << (first % 64), hi = ~0ull >> (63 - last % 64);

	if (w == lw) {
		bitmap[w] |= lo & hi;
		return;
	}
	bitmap[w++] |= lo;
	while (w < lw)
		bitmap[w++] = ~0ull;
	bitmap[lw] |= hi;
}

int pt_read_and_clear_dirty(struct pt *pt, uint64_t iova, uint64_t size,
			    uint64_t page_size, uint64_t *bitmap, bool no_clear)
{
	uint64_t end = iova + size;

	if (!pt->ops->has_dirty(pt))
		return -EOPNOTSUPP;
	if (!bitmap || !size || page_size < 4096 ||
	    (page_size & (page_size - 1)) || ((iova | size) & (page_size - 1)))
		return -EINVAL;
	if (end < iova || ((end - 1) >> pt->cfg.ias))
		return -EOVERFLOW;
	return pt->ops->dirty(pt, iova, size,
			      (unsigned)__builtin_ctzll(page_size), bitmap,
			      no_clear);
}

int pt_set_dirty(struct pt *pt, uint64_t iova)
{
	if (!pt->ops->has_dirty(pt))
		return -EOPNOTSUPP;
	return pt->ops->set_dirty(pt, iova);
}
