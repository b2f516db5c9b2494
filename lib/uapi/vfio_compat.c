// SPDX-License-Identifier: MIT
/*
 * VFIO type1 container ioctls served on an iommufd (iommufd-uapi.md §9.2),
 * acting on the context's compat IOAS (IOMMU_VFIO_IOAS). VFIO conventions:
 * argsz first, unknown flags EINVAL, no compat IOAS ENODEV.
 */
#include <errno.h>
#include <string.h>
#include <ionest/uapi/vfio.h>

#include "uapi/uapi.h"

#define OFFSETOFEND(s, f) (offsetof(struct s, f) + sizeof(((struct s *)0)->f))

static struct iommufd_ioas *compat_ioas(struct iommufd_ctx *ctx)
{
	return ctx->vfio_ioas;
}

static int check_extension(struct iommufd_ctx *ctx, unsigned long type)
{
	struct iommufd_ioas *ioas;

	switch (type) {
	case VFIO_TYPE1_IOMMU:
	case VFIO_TYPE1v2_IOMMU:
	case VFIO_UNMAP_ALL:
		return 1;
	case VFIO_DMA_CC_IOMMU:
		/* 1 iff every HWPT of the compat IOAS enforces coherency */
		ioas = compat_ioas(ctx);
		if (!ioas)
			return -ENODEV;
		for (unsigned i = 0; i < ioas->nhwpts; i++) {
			if (!ioas->hwpts[i]->enforce_cache_coherency)
				return 0;
		}
		return 1;
	case VFIO_TYPE1_NESTING_IOMMU: /* retired in Linux 6.13: never offered
					*/
	case VFIO_NOIOMMU_IOMMU: /* no no-IOMMU mode here */
	case VFIO_UPDATE_VADDR: /* cannot be done safely */
	default:
		return 0;
	}
}

static int set_iommu(struct iommufd_ctx *ctx, unsigned long type)
{
	struct iommufd_ioas *ioas;

	/*
	 * The retired TYPE1_NESTING type is accepted for old userspace and
	 * behaves exactly as TYPE1v2: nothing to do.
	 */
	if (type != VFIO_TYPE1_IOMMU && type != VFIO_TYPE1v2_IOMMU &&
	    type != VFIO_TYPE1_NESTING_IOMMU)
		return -EINVAL;
	ioas = compat_ioas(ctx);
	if (!ioas)
		return -ENODEV;
	/* TYPE1 (v1) may unmap inside a mapping: 4K IOPTEs only, so that
	 * areas can be cut. */
	if (type == VFIO_TYPE1_IOMMU)
		return iopt_disable_large_pages(&ioas->iopt);
	return 0;
}

static uint64_t pagesizes(struct iommufd_ioas *ioas)
{
	uint64_t page = iommufd_page_size, bm = UINT64_MAX;

	for (unsigned i = 0; i < ioas->nhwpts; i++)
		bm &= ioas->hwpts[i]->common.domain->pgsize_bitmap;
	/* IOAS pages are PAGE_SIZE: fold smaller sizes into it. */
	if (bm & (page - 1)) {
		bm &= ~(page - 1);
		bm |= page;
	}
	if (ioas->iopt.iova_alignment > bm)
		bm = ioas->iopt.iova_alignment;
	return bm;
}

struct cap_iova_ctx {
	uint64_t uptr; /* the cap header in the caller's buffer */
	uint64_t avail; /* bytes of the buffer from uptr */
	uint32_t nr;
	int rc;
};

static int put_iova(void *p, uint64_t start, uint64_t last)
{
	struct cap_iova_ctx *c = p;
	struct vfio_iova_range r = { .start = start, .end = last };
	uint64_t off = sizeof(struct vfio_iommu_type1_info_cap_iova_range) +
		       (uint64_t)c->nr * sizeof(r);

	if (c->avail >= off + sizeof(r)) {
		int rc = copy_to_user(c->uptr + off, &r, sizeof(r));

		if (rc)
			return rc;
	}
	c->nr++;
	return 0;
}

/* Each returns the cap's size (before alignment) or -errno; writes only
 * when it fits in @avail. */
static long fill_cap_dma_avail(struct iommufd_ioas *ioas, uint64_t cur,
			       uint64_t avail)
{
	struct vfio_iommu_type1_info_dma_avail cap = {
		.header = { .id = VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL,
			    .version = 1 },
		/* Linux reports U32_MAX: its limit is the memory cgroup. */
		.avail = UINT32_MAX,
	};

	if (avail >= sizeof(cap)) {
		int rc = copy_to_user(cur, &cap, sizeof(cap));

		if (rc)
			return rc;
	}
	return sizeof(cap);
}

static long fill_cap_iova(struct iommufd_ioas *ioas, uint64_t cur,
			  uint64_t avail)
{
	struct vfio_iommu_type1_info_cap_iova_range cap = {
		.header = { .id = VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE,
			    .version = 1 },
	};
	struct cap_iova_ctx c = { .uptr = cur, .avail = avail };
	uint64_t size;
	int rc;

	rc = iopt_for_each_hole(&ioas->iopt, put_iova, &c);
	if (rc)
		return rc;
	cap.nr_iovas = c.nr;
	size = sizeof(cap) + (uint64_t)c.nr * sizeof(struct vfio_iova_range);
	if (avail >= size) {
		rc = copy_to_user(cur, &cap, sizeof(cap));
		if (rc)
			return rc;
	}
	return (long)size;
}

static long iommu_get_info(struct iommufd_ctx *ctx, void *uarg)
{
	static long (*const fill[])(struct iommufd_ioas *, uint64_t,
				    uint64_t) = { fill_cap_dma_avail,
						  fill_cap_iova };
	uint64_t arg = (uint64_t)(uintptr_t)uarg, last_cap = 0, total;
	size_t minsz = OFFSETOFEND(vfio_iommu_type1_info, iova_pgsizes);
	struct vfio_iommu_type1_info info = { 0 };
	struct iommufd_ioas *ioas;
	int rc;

	rc = copy_from_user(&info, arg, minsz);
	if (rc)
		return rc;
	if (info.argsz < minsz)
		return -EINVAL;
	minsz = info.argsz < sizeof(info) ? info.argsz : sizeof(info);
	ioas = compat_ioas(ctx);
	if (!ioas)
		return -ENODEV;
	info.flags = VFIO_IOMMU_INFO_PGSIZES;
	info.iova_pgsizes = pagesizes(ioas);
	info.cap_offset = 0;

	/* Caps after the struct, each 8-byte aligned, chained by next;
	 * nothing is written past argsz. */
	total = sizeof(info);
	for (unsigned i = 0; i < sizeof(fill) / sizeof(fill[0]); i++) {
		long sz;

		if (info.argsz > total)
			sz = fill[i](ioas, arg + total, info.argsz - total);
		else
			sz = fill[i](ioas, 0, 0);
		if (sz < 0)
			return sz;
		sz = (sz + 7) & ~7l;
		if (last_cap && info.argsz >= total) {
			uint32_t next = (uint32_t)total;

			rc = copy_to_user(
				last_cap + offsetof(struct vfio_info_cap_header,
						    next),
				&next, sizeof(next));
			if (rc)
				return rc;
		}
		last_cap = arg + total;
		total += (uint64_t)sz;
	}
	/* Not enough room: argsz says how much is needed. */
	if (info.argsz >= total)
		info.cap_offset = sizeof(info);
	info.argsz = (uint32_t)total;
	info.flags |= VFIO_IOMMU_INFO_CAPS;
	return copy_to_user(arg, &info, minsz);
}

static long map_dma(struct iommufd_ctx *ctx, void *uarg)
{
	uint64_t arg = (uint64_t)(uintptr_t)uarg, iova;
	size_t minsz = OFFSETOFEND(vfio_iommu_type1_dma_map, size);
	struct vfio_iommu_type1_dma_map map;
	uint32_t prot = IOMMU_PROT_CACHE;
	struct iommufd_ioas *ioas;
	int rc;

	rc = copy_from_user(&map, arg, minsz);
	if (rc)
		return rc;
	if (map.argsz < minsz ||
	    (map.flags &
	     ~(uint32_t)(VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)))
		return -EINVAL;
	if (map.flags & VFIO_DMA_MAP_FLAG_READ)
		prot |= IOMMU_PROT_READ;
	if (map.flags & VFIO_DMA_MAP_FLAG_WRITE)
		prot |= IOMMU_PROT_WRITE;
	ioas = compat_ioas(ctx);
	if (!ioas)
		return -ENODEV;
	/* Always a fixed IOVA, always VFIO (per process) accounting. */
	iova = map.iova;
	return iommufd_map_user(ioas, map.vaddr, map.size, &iova, prot, false,
				true);
}

static long unmap_dma(struct iommufd_ctx *ctx, void *uarg)
{
	uint64_t arg = (uint64_t)(uintptr_t)uarg, unmapped = 0, last;
	size_t minsz = OFFSETOFEND(vfio_iommu_type1_dma_unmap, size);
	struct vfio_iommu_type1_dma_unmap unmap;
	struct iommufd_ioas *ioas;
	int rc;

	rc = copy_from_user(&unmap, arg, minsz);
	if (rc)
		return rc;
	/* Dirty bitmaps and VADDR updates are not offered. */
	if (unmap.argsz < minsz ||
	    (unmap.flags & ~(uint32_t)VFIO_DMA_UNMAP_FLAG_ALL))
		return -EINVAL;
	ioas = compat_ioas(ctx);
	if (!ioas)
		return -ENODEV;
	if (unmap.flags & VFIO_DMA_UNMAP_FLAG_ALL) {
		if (unmap.iova || unmap.size)
			return -EINVAL;
		rc = iopt_unmap_all(&ioas->iopt, &unmapped);
	} else {
		if (ioas->iopt.disable_large_pages) {
			/* Type1 v1: cut areas at both ends of the range. */
			uint64_t cuts[] = { unmap.iova + unmap.size - 1,
					    unmap.iova - 1 };

			rc = iopt_cut_iova(&ioas->iopt, cuts,
					   unmap.iova ? 2 : 1);
			if (rc)
				return rc;
		}
		if (!unmap.size)
			return -EINVAL;
		if (add_overflows(unmap.iova, unmap.size - 1, &last))
			return -EOVERFLOW;
		/* v2: only whole areas; an empty range unmaps 0 bytes. */
		rc = iopt_unmap_range(&ioas->iopt, unmap.iova, last, &unmapped);
	}
	unmap.size = unmapped;
	if (copy_to_user(arg, &unmap, minsz))
		rc = -EFAULT;
	return rc;
}

long iommufd_vfio_compat_ioctl(struct iommufd_ctx *ctx, unsigned long cmd,
			       void *arg)
{
	switch (cmd) {
	case VFIO_GET_API_VERSION:
		return VFIO_API_VERSION;
	case VFIO_SET_IOMMU:
		return set_iommu(ctx, (unsigned long)(uintptr_t)arg);
	case VFIO_CHECK_EXTENSION:
		return check_extension(ctx, (unsigned long)(uintptr_t)arg);
	case VFIO_IOMMU_GET_INFO:
		return iommu_get_info(ctx, arg);
	case VFIO_IOMMU_MAP_DMA:
		return map_dma(ctx, arg);
	case VFIO_IOMMU_UNMAP_DMA:
		return unmap_dma(ctx, arg);
	case VFIO_IOMMU_DIRTY_PAGES:
	default:
		return -ENOTTY;
	}
}
