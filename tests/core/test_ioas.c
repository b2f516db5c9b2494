// SPDX-License-Identifier: MIT
/*
 * IOAS ioctls (iommufd-uapi.md §5): every documented errno and the happy
 * paths of ALLOC, MAP, MAP_FILE, COPY, UNMAP, IOVA_RANGES, ALLOW_IOVAS,
 * OPTION, VFIO_IOAS, CHANGE_PROCESS, plus pin accounting.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fixture.h"

#define LEN (32 * FX_PAGE)
#define RW (IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE)
#define FIXED (IOMMU_IOAS_MAP_FIXED_IOVA | RW)

struct env {
	struct fx f;
	uint32_t ioas;
	uint8_t *mem;
};

static int env_up(void **state)
{
	struct env *e = calloc(1, sizeof(*e));

	fx_setup(&e->f, NULL, 2);
	e->ioas = fx_ioas(e->f.fd);
	e->mem = fx_alloc(LEN, 2u << 20);
	*state = e;
	return 0;
}

static int env_down(void **state)
{
	struct env *e = *state;

	fx_teardown(&e->f);
	fx_free(e->mem, LEN);
	free(e);
	return 0;
}

/* Bind device 0 and attach it to the IOAS (domain present, 4K aligned). */
static uint32_t attach0(struct env *e)
{
	uint32_t pt = e->ioas;

	assert_int_equal(fx_bind(&e->f, 0), 0);
	assert_int_equal(fx_attach(&e->f, 0, &pt), 0);
	return pt;
}

static long map_raw(struct env *e, struct iommu_ioas_map *m)
{
	m->size = sizeof(*m);
	return fx_ioctl(e->f.fd, IOMMU_IOAS_MAP, m);
}

/* ---- ALLOC / DESTROY ---- */

static void test_ioas_alloc(void **state)
{
	struct env *e = *state;
	struct iommu_ioas_alloc a = { .size = sizeof(a), .flags = 1 };
	uint32_t id2, id3;

	assert_int_equal(fx_ioctl(e->f.fd, IOMMU_IOAS_ALLOC, &a), -EOPNOTSUPP);
	id2 = fx_ioas(e->f.fd);
	id3 = fx_ioas(e->f.fd);
	/* IDs from 1, the lowest free one reused (§0). */
	assert_int_equal(e->ioas, 1);
	assert_int_equal(id2, 2);
	assert_int_equal(id3, 3);
	assert_int_equal(fx_destroy(e->f.fd, id2), 0);
	assert_int_equal(fx_ioas(e->f.fd), 2);
	assert_int_equal(fx_destroy(e->f.fd, 0), -ENOENT);
	assert_int_equal(fx_destroy(e->f.fd, 77), -ENOENT);
	assert_int_equal(fx_destroy(e->f.fd, id3), 0);
	assert_int_equal(fx_destroy(e->f.fd, id3), -ENOENT);
}

/* ---- MAP ---- */

static void test_map_errors(void **state)
{
	struct env *e = *state;
	struct iommu_ioas_map m;

#define MAPE(flags_, rsv, va, len, iova_, ioas_, err)    \
	do {                                             \
		memset(&m, 0, sizeof(m));                \
		m.flags = (flags_);                      \
		m.__reserved = (rsv);                    \
		m.user_va = (uint64_t)(uintptr_t)(va);   \
		m.length = (len);                        \
		m.iova = (iova_);                        \
		m.ioas_id = (ioas_);                     \
		assert_int_equal(map_raw(e, &m), (err)); \
	} while (0)

	MAPE(FIXED | 8, 0, e->mem, FX_PAGE, 0x1000, e->ioas, -EOPNOTSUPP);
	MAPE(FIXED, 1, e->mem, FX_PAGE, 0x1000, e->ioas, -EOPNOTSUPP);
	MAPE(FIXED, 0, e->mem, FX_PAGE, UINT64_MAX, e->ioas, -EOVERFLOW);
	MAPE(FIXED, 0, e->mem, UINT64_MAX, 0x1000, e->ioas, -EOVERFLOW);
	MAPE(IOMMU_IOAS_MAP_FIXED_IOVA, 0, e->mem, FX_PAGE, 0x1000, e->ioas,
	     -EINVAL);
	MAPE(FIXED, 0, e->mem, FX_PAGE, 0x1000, 99, -ENOENT);
	MAPE(FIXED, 0, e->mem, 0, 0x1000, e->ioas, -EINVAL);
	/* user_va + length wraps */
	MAPE(FIXED, 0, UINTPTR_MAX - 100, FX_PAGE, 0x1000, e->ioas, -EOVERFLOW);
	/* fixed iova + length wraps */
	MAPE(FIXED, 0, e->mem, 2 * FX_PAGE, UINT64_MAX - FX_PAGE, e->ioas,
	     -EOVERFLOW);
	/* A wrong-type ID is ENOENT too. */
	{
		uint32_t hw_id;

		attach0(e);
		assert_int_equal(fx_hwpt_alloc(e->f.fd, e->f.devid[0], e->ioas,
					       0, &hw_id),
				 0);
		MAPE(FIXED, 0, e->mem, FX_PAGE, 0x1000, hw_id, -ENOENT);
		MAPE(FIXED, 0, e->mem, FX_PAGE, 0x1000, e->f.devid[0], -ENOENT);
		assert_int_equal(fx_destroy(e->f.fd, hw_id), 0);
	}
#undef MAPE
}

static void test_map_fixed_rules(void **state)
{
	struct env *e = *state;
	uint64_t iova;

	assert_int_equal(fx_map_fixed(e->f.fd, e->ioas, e->mem, 4 * FX_PAGE,
				      0x100000),
			 0);
	/* Never replaces: any overlap is EEXIST. */
	assert_int_equal(fx_map_fixed(e->f.fd, e->ioas, e->mem, FX_PAGE,
				      0x100000 + 3 * FX_PAGE),
			 -EEXIST);
	assert_int_equal(fx_map_fixed(e->f.fd, e->ioas, e->mem, 2 * FX_PAGE,
				      0x100000 - FX_PAGE),
			 -EEXIST);
	/* Without a domain the alignment is 1: byte-granular maps work. */
	assert_int_equal(
		fx_map_fixed(e->f.fd, e->ioas, e->mem + 3, 5, 0x200003), 0);
	assert_int_equal(fx_unmap(e->f.fd, e->ioas, 0x200003, 5, NULL), 0);
	/* With a domain: misaligned IOVA / length / VA are EINVAL. */
	attach0(e);
	assert_int_equal(fx_map_fixed(e->f.fd, e->ioas, e->mem, FX_PAGE,
				      0x300001),
			 -EINVAL);
	assert_int_equal(fx_map_fixed(e->f.fd, e->ioas, e->mem, 100, 0x300000),
			 -EINVAL);
	assert_int_equal(fx_map_fixed(e->f.fd, e->ioas, e->mem + 8, FX_PAGE,
				      0x300000),
			 -EINVAL);
	/* The mock's MSI window is reserved: EINVAL for a fixed map. */
	assert_int_equal(fx_map_fixed(e->f.fd, e->ioas, e->mem, FX_PAGE,
				      FX_MSI_START + FX_PAGE),
			 -EINVAL);
	/* Automatic IOVAs avoid it. */
	iova = 0;
	assert_int_equal(fx_map(e->f.fd, e->ioas, e->mem, FX_PAGE, &iova, RW),
			 0);
	assert_true(iova < FX_MSI_START || iova > FX_MSI_LAST);
}

static void test_map_auto_iova(void **state)
{
	struct env *e = *state;
	uint64_t a = 0, b = 0, c = 0, d = 0;

	/* Never IOVA 0; first fit from PAGE_SIZE; the IOVA keeps the source
	 * address's alignment up to 2 MiB and its page offset. The exact
	 * values are what Linux 7.3.4 (linux-ref, kernel mock) returned for
	 * the same sequence of maps from a 2 MiB aligned buffer. */
	assert_int_equal(fx_map(e->f.fd, e->ioas, e->mem, FX_PAGE, &a, RW), 0);
	assert_int_equal(a, 0x1000);
	assert_int_equal(fx_map(e->f.fd, e->ioas, e->mem, 4 * FX_PAGE, &b, RW),
			 0);
	assert_int_equal(b, 0x4000);
	assert_int_equal(fx_map(e->f.fd, e->ioas, e->mem + FX_PAGE, 4 * FX_PAGE,
				&c, RW),
			 0);
	assert_int_equal(c, 0x8000);
	/* Sub-page offset kept (no domain: alignment 1). */
	assert_int_equal(
		fx_map(e->f.fd, e->ioas, e->mem + 0x123, 0x100, &d, RW), 0);
	assert_int_equal(d, 0x2123);
	/* A 2 MiB aligned source of 4 MiB gets a 2 MiB aligned IOVA. */
	{
		uint64_t h = 0, n = 0;
		uint8_t *big = fx_alloc(4u << 20, 2u << 20);

		assert_int_equal(
			fx_map(e->f.fd, e->ioas, big, 4u << 20, &h, RW), 0);
		assert_int_equal(h, 0x200000);
		assert_int_equal(fx_unmap(e->f.fd, e->ioas, 0, UINT64_MAX, &n),
				 0);
		assert_int_equal(n, 0x409100);
		fx_free(big, 4u << 20);
	}
}

static void test_map_auto_enospc_and_allowed(void **state)
{
	struct env *e = *state;
	struct iommu_iova_range r[2] = {
		{ .start = 0x10000, .last = 0x13fff },
		{ .start = 0x40000, .last = 0x41fff },
	};
	struct iommu_ioas_allow_iovas al = {
		.size = sizeof(al),
		.ioas_id = e->ioas,
		.num_iovas = 2,
		.allowed_iovas = (uint64_t)(uintptr_t)r,
	};
	uint64_t a = 0, b = 0, c = 0;

	assert_int_equal(fx_ioctl(e->f.fd, IOMMU_IOAS_ALLOW_IOVAS, &al), 0);
	assert_int_equal(fx_map(e->f.fd, e->ioas, e->mem, 4 * FX_PAGE, &a, RW),
			 0);
	assert_int_equal(a, 0x10000);
	assert_int_equal(fx_map(e->f.fd, e->ioas, e->mem, 2 * FX_PAGE, &b, RW),
			 0);
	assert_int_equal(b, 0x40000);
	assert_int_equal(fx_map(e->f.fd, e->ioas, e->mem, FX_PAGE, &c, RW),
			 -ENOSPC);
	/* Fixed maps are not limited by the allowed list. */
	assert_int_equal(
		fx_map_fixed(e->f.fd, e->ioas, e->mem, FX_PAGE, 0x900000), 0);
	/* num 0 clears: allocation anywhere again. */
	al.num_iovas = 0;
	assert_int_equal(fx_ioctl(e->f.fd, IOMMU_IOAS_ALLOW_IOVAS, &al), 0);
	assert_int_equal(fx_map(e->f.fd, e->ioas, e->mem, FX_PAGE, &c, RW), 0);
	assert_int_equal(c, FX_PAGE);
}

static void test_map_pin_checks(void **state)
{
	struct env *e = *state;
	uint8_t *ro = fx_alloc(2 * FX_PAGE, FX_PAGE);
	uint64_t iova;

	assert_int_equal(mprotect(ro, 2 * FX_PAGE, PROT_READ), 0);
	/* Without a domain nothing is pinned: lazily accepted. */
	assert_int_equal(fx_map_fixed(e->f.fd, e->ioas, ro, FX_PAGE, 0x100000),
			 0);
	/* Attaching pins it: WRITEABLE on read-only memory fails (EFAULT,
	 * as Linux's GUP) and the attach fails. */
	{
		uint32_t pt = e->ioas;

		assert_int_equal(fx_bind(&e->f, 0), 0);
		assert_int_equal(fx_attach(&e->f, 0, &pt), -EFAULT);
		assert_int_equal(
			fx_unmap(e->f.fd, e->ioas, 0x100000, FX_PAGE, NULL), 0);
		assert_int_equal(fx_attach(&e->f, 0, &pt), 0);
	}
	assert_int_equal(fx_map_fixed(e->f.fd, e->ioas, ro, FX_PAGE, 0x100000),
			 -EFAULT);
	iova = 0x100000;
	assert_int_equal(fx_map(e->f.fd, e->ioas, ro, FX_PAGE, &iova,
				IOMMU_IOAS_MAP_FIXED_IOVA |
					IOMMU_IOAS_MAP_READABLE),
			 0);
	/* Unmapped VA: EFAULT. */
	assert_int_equal(munmap(ro + FX_PAGE, FX_PAGE), 0);
	assert_int_equal(fx_map(e->f.fd, e->ioas, ro + FX_PAGE, FX_PAGE, &iova,
				IOMMU_IOAS_MAP_READABLE),
			 -EFAULT);
	/* The failed maps left nothing behind. */
	assert_int_equal(fx_unmap(e->f.fd, e->ioas, 0, UINT64_MAX, &iova), 0);
	assert_int_equal(iova, FX_PAGE);
	fx_free(ro, FX_PAGE);
}

static void test_pin_accounting(void **state)
{
	struct env *e = *state;
	uint64_t u0, m0, u, mm, iova = 0;
	uint32_t ioas2 = fx_ioas(e->f.fd);
	struct iommu_ioas_copy cp = {
		.size = sizeof(cp),
		.flags = RW,
		.dst_ioas_id = ioas2,
		.src_ioas_id = e->ioas,
		.length = 8 * FX_PAGE,
	};

	ionest_pinned_pages(&u0, &m0);
	assert_int_equal(fx_map_fixed(e->f.fd, e->ioas, e->mem, 8 * FX_PAGE,
				      0x100000),
			 0);
	ionest_pinned_pages(&u, &mm);
	assert_int_equal(u, u0); /* lazy: no domain yet */
	attach0(e);
	ionest_pinned_pages(&u, &mm);
	assert_int_equal(u, u0 + 8);
	assert_int_equal(mm, m0);
	/* A COPY shares the pages: pinned once. */
	cp.src_iova = 0x100000;
	assert_int_equal(fx_ioctl(e->f.fd, IOMMU_IOAS_COPY, &cp), 0);
	ionest_pinned_pages(&u, &mm);
	assert_int_equal(u, u0 + 8);
	/* Over the limit: ENOMEM, nothing left behind. */
	ionest_set_pin_limit((u0 + 8 + 4) * FX_PAGE);
	assert_int_equal(fx_map(e->f.fd, e->ioas, e->mem + 8 * FX_PAGE,
				8 * FX_PAGE, &iova, RW),
			 -ENOMEM);
	assert_int_equal(fx_map(e->f.fd, e->ioas, e->mem + 8 * FX_PAGE,
				4 * FX_PAGE, &iova, RW),
			 0);
	ionest_set_pin_limit(0);
	ionest_pinned_pages(&u, &mm);
	assert_int_equal(u, u0 + 12);
	/* Detach: the last domain goes, the pages are unpinned. */
	assert_int_equal(fx_detach(&e->f, 0), 0);
	ionest_pinned_pages(&u, &mm);
	assert_int_equal(u, u0);
}

/* ---- UNMAP ---- */

static void test_unmap(void **state)
{
	struct env *e = *state;
	uint64_t n = 7;

	assert_int_equal(fx_unmap(e->f.fd, 99, 0, FX_PAGE, NULL), -ENOENT);
	/* Unmap all on an empty IOAS succeeds with 0. */
	assert_int_equal(fx_unmap(e->f.fd, e->ioas, 0, UINT64_MAX, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(fx_unmap(e->f.fd, e->ioas, 0x1000, FX_PAGE, NULL),
			 -ENOENT);
	assert_int_equal(fx_unmap(e->f.fd, e->ioas, 0x1000, 0, NULL), -EINVAL);
	assert_int_equal(fx_unmap(e->f.fd, e->ioas, UINT64_MAX, 1, NULL),
			 -EOVERFLOW);
	assert_int_equal(fx_unmap(e->f.fd, e->ioas, 1, UINT64_MAX, NULL),
			 -EOVERFLOW);
	assert_int_equal(fx_unmap(e->f.fd, e->ioas, 3, UINT64_MAX - 1, NULL),
			 -EOVERFLOW);
	/* [2, UINT64_MAX] does not wrap: nothing there. */
	assert_int_equal(fx_unmap(e->f.fd, e->ioas, 2, UINT64_MAX - 1, NULL),
			 -ENOENT);

	assert_int_equal(fx_map_fixed(e->f.fd, e->ioas, e->mem, 4 * FX_PAGE,
				      0x100000),
			 0);
	assert_int_equal(fx_map_fixed(e->f.fd, e->ioas, e->mem, 4 * FX_PAGE,
				      0x200000),
			 0);
	/* Whole areas only: a range cutting an area is ENOENT. */
	assert_int_equal(fx_unmap(e->f.fd, e->ioas, 0x100000, FX_PAGE, NULL),
			 -ENOENT);
	assert_int_equal(fx_unmap(e->f.fd, e->ioas, 0x100000 + FX_PAGE,
				  4 * FX_PAGE, NULL),
			 -ENOENT);
	/* A superset removes the area, bytes reported. */
	assert_int_equal(fx_unmap(e->f.fd, e->ioas, 0xf0000, 0x20000, &n), 0);
	assert_int_equal(n, 4 * FX_PAGE);
	/* Range covering no area: ENOENT. */
	assert_int_equal(fx_unmap(e->f.fd, e->ioas, 0x100000, 4 * FX_PAGE,
				  NULL),
			 -ENOENT);
	/* Areas are removed in order: the first goes, the one sticking out
	 * stops the unmap. */
	assert_int_equal(fx_map_fixed(e->f.fd, e->ioas, e->mem, 4 * FX_PAGE,
				      0x100000),
			 0);
	assert_int_equal(fx_unmap(e->f.fd, e->ioas, 0x100000, 0x100000 + 0x1000,
				  &n),
			 -ENOENT);
	/* Nothing written back on error (Linux 7.3.4, linux-ref). */
	assert_int_equal(n, 0x100000 + 0x1000);
	assert_int_equal(fx_map_fixed(e->f.fd, e->ioas, e->mem, 4 * FX_PAGE,
				      0x100000),
			 0);
	assert_int_equal(fx_unmap(e->f.fd, e->ioas, 0, UINT64_MAX, &n), 0);
	assert_int_equal(n, 8 * FX_PAGE);
}

/* ---- COPY ---- */

static long copy(struct env *e, uint32_t flags, uint32_t dst, uint32_t src,
		 uint64_t len, uint64_t *dst_iova, uint64_t src_iova)
{
	struct iommu_ioas_copy c = {
		.size = sizeof(c),
		.flags = flags,
		.dst_ioas_id = dst,
		.src_ioas_id = src,
		.length = len,
		.dst_iova = dst_iova ? *dst_iova : 0,
		.src_iova = src_iova,
	};
	long rc = fx_ioctl(e->f.fd, IOMMU_IOAS_COPY, &c);

	if (!rc && dst_iova)
		*dst_iova = c.dst_iova;
	return rc;
}

static void test_copy(void **state)
{
	struct env *e = *state;
	uint32_t dst = fx_ioas(e->f.fd), pt;
	uint64_t iova = 0x500000, ro_iova = 0x300000;
	uint8_t b[4];

	assert_int_equal(copy(e, FIXED | 16, dst, e->ioas, FX_PAGE, &iova,
			      0x100000),
			 -EOPNOTSUPP);
	assert_int_equal(copy(e, FIXED, dst, e->ioas, UINT64_MAX, &iova,
			      0x100000),
			 -EOVERFLOW);
	assert_int_equal(copy(e, FIXED, dst, e->ioas, FX_PAGE, &iova,
			      UINT64_MAX),
			 -EOVERFLOW);
	assert_int_equal(copy(e, IOMMU_IOAS_MAP_FIXED_IOVA, dst, e->ioas,
			      FX_PAGE, &iova, 0x100000),
			 -EINVAL);
	assert_int_equal(copy(e, FIXED, dst, 99, FX_PAGE, &iova, 0x100000),
			 -ENOENT);
	/* Nothing mapped at the source: ENOENT. */
	assert_int_equal(copy(e, FIXED, dst, e->ioas, FX_PAGE, &iova, 0x100000),
			 -ENOENT);
	assert_int_equal(fx_map_fixed(e->f.fd, e->ioas, e->mem, 4 * FX_PAGE,
				      0x100000),
			 0);
	assert_int_equal(fx_map_fixed(e->f.fd, e->ioas, e->mem + 4 * FX_PAGE,
				      4 * FX_PAGE, 0x100000 + 4 * FX_PAGE),
			 0);
	assert_int_equal(copy(e, FIXED, dst, e->ioas, 0, &iova, 0x100000),
			 -EINVAL);
	assert_int_equal(copy(e, FIXED, 99, e->ioas, FX_PAGE, &iova, 0x100000),
			 -ENOENT);
	/* A hole in the source range: ENOENT. */
	assert_int_equal(copy(e, FIXED, dst, e->ioas, 16 * FX_PAGE, &iova,
			      0x100000),
			 -ENOENT);
	/* A sub-range spanning two source areas is fine. */
	assert_int_equal(copy(e, FIXED, dst, e->ioas, 4 * FX_PAGE, &iova,
			      0x100000 + 2 * FX_PAGE),
			 0);
	/* Same IOAS works too, with an allocated IOVA. */
	{
		uint64_t auto_iova = 0;

		assert_int_equal(copy(e, RW, e->ioas, e->ioas, FX_PAGE,
				      &auto_iova, 0x100000),
				 0);
		assert_true(auto_iova != 0 && auto_iova != 0x100000);
	}
	/* The copy maps the same memory: a device on dst sees it. */
	assert_int_equal(fx_bind(&e->f, 1), 0);
	pt = dst;
	assert_int_equal(fx_attach(&e->f, 1, &pt), 0);
	e->mem[3 * FX_PAGE + 5] = 0xee;
	assert_int_equal(fx_dma_read(&e->f, 1, IONEST_NO_PASID,
				     0x500000 + FX_PAGE + 5, b, 1),
			 0);
	assert_int_equal(b[0], 0xee);
	/* WRITEABLE from a read-only source: EPERM. */
	assert_int_equal(fx_map(e->f.fd, e->ioas, e->mem, FX_PAGE, &ro_iova,
				IOMMU_IOAS_MAP_FIXED_IOVA |
					IOMMU_IOAS_MAP_READABLE),
			 0);
	iova = 0x700000;
	assert_int_equal(copy(e, FIXED, dst, e->ioas, FX_PAGE, &iova, ro_iova),
			 -EPERM);
	assert_int_equal(
		copy(e, IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE,
		     dst, e->ioas, FX_PAGE, &iova, ro_iova),
		0);
	/* Overlapping an existing area of dst: EEXIST. */
	assert_int_equal(copy(e, FIXED, dst, e->ioas, FX_PAGE, &iova, 0x100000),
			 -EEXIST);
}

/* ---- IOVA_RANGES ---- */

static long ranges(struct env *e, uint32_t ioas, struct iommu_iova_range *r,
		   uint32_t *num, uint64_t *align)
{
	struct iommu_ioas_iova_ranges q = {
		.size = sizeof(q),
		.ioas_id = ioas,
		.num_iovas = *num,
		.allowed_iovas = (uint64_t)(uintptr_t)r,
	};
	long rc = fx_ioctl(e->f.fd, IOMMU_IOAS_IOVA_RANGES, &q);

	*num = q.num_iovas;
	if (align)
		*align = q.out_iova_alignment;
	return rc;
}

static void test_iova_ranges(void **state)
{
	struct env *e = *state;
	struct iommu_iova_range r[4];
	uint32_t n = 4;
	uint64_t align;
	struct iommu_ioas_iova_ranges q = {
		.size = sizeof(q),
		.ioas_id = e->ioas,
		.__reserved = 1,
	};

	assert_int_equal(fx_ioctl(e->f.fd, IOMMU_IOAS_IOVA_RANGES, &q),
			 -EOPNOTSUPP);
	n = 4;
	assert_int_equal(ranges(e, 99, r, &n, NULL), -ENOENT);
	/* A new IOAS: one range, everything, alignment 1. */
	n = 4;
	assert_int_equal(ranges(e, e->ioas, r, &n, &align), 0);
	assert_int_equal(n, 1);
	assert_int_equal(r[0].start, 0);
	assert_int_equal(r[0].last, UINT64_MAX);
	assert_int_equal(align, 1);
	/* Capacity 0: the struct comes back with the total, EMSGSIZE. */
	n = 0;
	assert_int_equal(ranges(e, e->ioas, r, &n, &align), -EMSGSIZE);
	assert_int_equal(n, 1);
	/* With the mock attached: the MSI window and the aperture. */
	attach0(e);
	n = 4;
	assert_int_equal(ranges(e, e->ioas, r, &n, &align), 0);
	assert_int_equal(n, 2);
	assert_int_equal(align, FX_PAGE);
	assert_int_equal(r[0].start, 0);
	assert_int_equal(r[0].last, FX_MSI_START - 1);
	assert_int_equal(r[1].start, FX_MSI_LAST + 1);
	assert_int_equal(r[1].last, (1ull << 48) - 1);
	n = 1;
	memset(r, 0, sizeof(r));
	assert_int_equal(ranges(e, e->ioas, r, &n, &align), -EMSGSIZE);
	assert_int_equal(n, 2);
	assert_int_equal(r[0].last, FX_MSI_START - 1);
	assert_int_equal(r[1].last, 0); /* capacity respected */
	/* A bad array pointer is EFAULT. */
	n = 4;
	assert_int_equal(ranges(e, e->ioas, (void *)8, &n, &align), -EFAULT);
}

/* ---- ALLOW_IOVAS ---- */

static long allow(struct env *e, struct iommu_iova_range *r, uint32_t n)
{
	struct iommu_ioas_allow_iovas a = {
		.size = sizeof(a),
		.ioas_id = e->ioas,
		.num_iovas = n,
		.allowed_iovas = (uint64_t)(uintptr_t)r,
	};

	return fx_ioctl(e->f.fd, IOMMU_IOAS_ALLOW_IOVAS, &a);
}

static void test_allow_iovas(void **state)
{
	struct env *e = *state;
	struct iommu_iova_range r[2];
	struct iommu_ioas_allow_iovas a = {
		.size = sizeof(a),
		.ioas_id = e->ioas,
		.__reserved = 1,
	};

	assert_int_equal(fx_ioctl(e->f.fd, IOMMU_IOAS_ALLOW_IOVAS, &a),
			 -EOPNOTSUPP);
	a.__reserved = 0;
	a.ioas_id = 99;
	assert_int_equal(fx_ioctl(e->f.fd, IOMMU_IOAS_ALLOW_IOVAS, &a),
			 -ENOENT);
	r[0] = (struct iommu_iova_range){ 0x2000, 0x2000 };
	assert_int_equal(allow(e, r, 1), -EINVAL);
	r[0] = (struct iommu_iova_range){ 0x3000, 0x2000 };
	assert_int_equal(allow(e, r, 1), -EINVAL);
	r[0] = (struct iommu_iova_range){ 0x1000, 0x4fff };
	r[1] = (struct iommu_iova_range){ 0x4000, 0x8fff };
	assert_int_equal(allow(e, r, 2), -EINVAL);
	assert_int_equal(allow(e, (void *)8, 1), -EFAULT);
	/* Overlapping a reserved range (the MSI window once attached). */
	attach0(e);
	r[0] = (struct iommu_iova_range){ FX_MSI_START - 0x1000,
					  FX_MSI_START + 0x1000 };
	assert_int_equal(allow(e, r, 1), -EADDRINUSE);
	r[0] = (struct iommu_iova_range){ 0x100000, 0x1fffff };
	assert_int_equal(allow(e, r, 1), 0);
	/* A device whose MSI window would cut into an allowed range cannot
	 * attach: EADDRINUSE. */
	{
		uint32_t ioas2 = fx_ioas(e->f.fd), pt = ioas2;
		struct iommu_iova_range w = { FX_MSI_START, FX_MSI_START + 1 };
		struct iommu_ioas_allow_iovas a2 = {
			.size = sizeof(a2),
			.ioas_id = ioas2,
			.num_iovas = 1,
			.allowed_iovas = (uint64_t)(uintptr_t)&w,
		};

		assert_int_equal(fx_ioctl(e->f.fd, IOMMU_IOAS_ALLOW_IOVAS, &a2),
				 0);
		assert_int_equal(fx_bind(&e->f, 1), 0);
		assert_int_equal(fx_attach(&e->f, 1, &pt), -EADDRINUSE);
		/* Nothing half-done: the auto domain is gone, the IOAS can be
		 * destroyed. */
		assert_int_equal(fx_destroy(e->f.fd, ioas2), 0);
	}
}

/* ---- OPTION ---- */

static bool has_sys_resource(void)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2] = { { 0 } };

	if (syscall(SYS_capget, &h, d))
		return false;
	return d[CAP_SYS_RESOURCE / 32].effective &
	       (1u << (CAP_SYS_RESOURCE % 32));
}

static long option(struct env *e, uint32_t id, uint16_t op, uint32_t obj,
		   uint64_t *val)
{
	struct iommu_option o = {
		.size = sizeof(o),
		.option_id = id,
		.op = op,
		.object_id = obj,
		.val64 = *val,
	};
	long rc = fx_ioctl(e->f.fd, IOMMU_OPTION, &o);

	*val = o.val64;
	return rc;
}

static void test_option(void **state)
{
	struct env *e = *state;
	struct iommu_option o = { .size = sizeof(o), .__reserved = 1 };
	uint64_t v = 0;

	assert_int_equal(fx_ioctl(e->f.fd, IOMMU_OPTION, &o), -EOPNOTSUPP);
	assert_int_equal(option(e, 7, IOMMU_OPTION_OP_GET, 0, &v), -EOPNOTSUPP);
	/* RLIMIT_MODE: global, object 0. */
	assert_int_equal(option(e, IOMMU_OPTION_RLIMIT_MODE,
				IOMMU_OPTION_OP_GET, 1, &v),
			 -EOPNOTSUPP);
	v = 9;
	assert_int_equal(option(e, IOMMU_OPTION_RLIMIT_MODE,
				IOMMU_OPTION_OP_GET, 0, &v),
			 0);
	assert_int_equal(v, 0); /* per user on /dev/iommu */
	assert_int_equal(option(e, IOMMU_OPTION_RLIMIT_MODE, 5, 0, &v),
			 -EOPNOTSUPP);
	v = 1;
	/* Needs CAP_SYS_RESOURCE (EPERM) and then an fd without objects. */
	assert_int_equal(option(e, IOMMU_OPTION_RLIMIT_MODE,
				IOMMU_OPTION_OP_SET, 0, &v),
			 has_sys_resource() ? -EBUSY : -EPERM);
	/* HUGE_PAGES: per IOAS. */
	assert_int_equal(option(e, IOMMU_OPTION_HUGE_PAGES, IOMMU_OPTION_OP_GET,
				99, &v),
			 -ENOENT);
	assert_int_equal(option(e, IOMMU_OPTION_HUGE_PAGES, IOMMU_OPTION_OP_GET,
				e->ioas, &v),
			 0);
	assert_int_equal(v, 1);
	v = 2;
	assert_int_equal(option(e, IOMMU_OPTION_HUGE_PAGES, IOMMU_OPTION_OP_SET,
				e->ioas, &v),
			 -EINVAL);
	assert_int_equal(option(e, IOMMU_OPTION_HUGE_PAGES, 9, e->ioas, &v),
			 -EOPNOTSUPP);
	/* A byte-granular area (no domain) forbids PAGE_SIZE alignment. */
	assert_int_equal(
		fx_map_fixed(e->f.fd, e->ioas, e->mem + 1, 10, 0x100001), 0);
	assert_int_equal(fx_huge_pages(e->f.fd, e->ioas, 0), -EADDRINUSE);
	assert_int_equal(fx_unmap(e->f.fd, e->ioas, 0, UINT64_MAX, NULL), 0);
	assert_int_equal(fx_huge_pages(e->f.fd, e->ioas, 0), 0);
	v = 5;
	assert_int_equal(option(e, IOMMU_OPTION_HUGE_PAGES, IOMMU_OPTION_OP_GET,
				e->ioas, &v),
			 0);
	assert_int_equal(v, 0);
	{
		struct iommu_iova_range r;
		uint32_t n = 1;
		uint64_t align;

		assert_int_equal(ranges(e, e->ioas, &r, &n, &align), 0);
		assert_int_equal(align, FX_PAGE);
	}
	assert_int_equal(fx_huge_pages(e->f.fd, e->ioas, 1), 0);
	/* Domains with areas: turning large pages off is EINVAL. */
	attach0(e);
	assert_int_equal(
		fx_map_fixed(e->f.fd, e->ioas, e->mem, FX_PAGE, 0x100000), 0);
	assert_int_equal(fx_huge_pages(e->f.fd, e->ioas, 0), -EINVAL);
	assert_int_equal(fx_huge_pages(e->f.fd, e->ioas, 1), 0);
}

static void test_option_rlimit_mode_set(void **state)
{
	struct fx f;
	uint64_t v = 1;
	struct iommu_option o = {
		.size = sizeof(o),
		.option_id = IOMMU_OPTION_RLIMIT_MODE,
		.op = IOMMU_OPTION_OP_SET,
	};
	int vfd;

	fx_setup(&f, NULL, 0);
	if (!has_sys_resource()) {
		assert_int_equal(fx_ioctl(f.fd, IOMMU_OPTION, &o), -EPERM);
	} else {
		o.val64 = 2;
		assert_int_equal(fx_ioctl(f.fd, IOMMU_OPTION, &o), -EINVAL);
		o.val64 = 1;
		assert_int_equal(fx_ioctl(f.fd, IOMMU_OPTION, &o), 0);
		o.op = IOMMU_OPTION_OP_GET;
		o.val64 = 0;
		assert_int_equal(fx_ioctl(f.fd, IOMMU_OPTION, &o), 0);
		assert_int_equal(o.val64, 1);
	}
	/* /dev/vfio/vfio accounts per process by default. */
	vfd = ionest_open(f.m, "/dev/vfio/vfio", O_RDWR);
	assert_true(vfd >= 0);
	o.op = IOMMU_OPTION_OP_GET;
	o.val64 = 0;
	assert_int_equal(fx_ioctl(vfd, IOMMU_OPTION, &o), 0);
	assert_int_equal(o.val64, 1);
	assert_int_equal(ionest_close(vfd), 0);
	(void)v;
	fx_teardown(&f);
}

/* ---- MAP_FILE ---- */

static long map_file(struct env *e, int fd, uint64_t start, uint64_t len,
		     uint64_t iova, uint32_t flags)
{
	struct iommu_ioas_map_file m = {
		.size = sizeof(m),
		.flags = flags,
		.ioas_id = e->ioas,
		.fd = fd,
		.start = start,
		.length = len,
		.iova = iova,
	};

	return fx_ioctl(e->f.fd, IOMMU_IOAS_MAP_FILE, &m);
}

static void test_map_file(void **state)
{
	struct env *e = *state;
	int mfd = memfd_create("t", MFD_CLOEXEC), pfd[2];

	assert_true(mfd >= 0);
	assert_int_equal(ftruncate(mfd, 4 * FX_PAGE), 0);
	assert_int_equal(map_file(e, mfd, 0, FX_PAGE, 0x1000, FIXED | 32),
			 -EOPNOTSUPP);
	assert_int_equal(map_file(e, mfd, 0, FX_PAGE, UINT64_MAX, FIXED),
			 -EOVERFLOW);
	assert_int_equal(map_file(e, mfd, 0, FX_PAGE, 0x1000,
				  IOMMU_IOAS_MAP_FIXED_IOVA),
			 -EINVAL);
	assert_int_equal(map_file(e, -1, 0, FX_PAGE, 0x1000, FIXED), -EBADF);
	assert_int_equal(map_file(e, mfd, 0, 0, 0x1000, FIXED), -EINVAL);
	assert_int_equal(map_file(e, mfd, FX_PAGE, 4 * FX_PAGE, 0x1000, FIXED),
			 -EINVAL);
	assert_int_equal(pipe(pfd), 0);
	assert_int_equal(map_file(e, pfd[0], 0, FX_PAGE, 0x1000, FIXED),
			 -EINVAL);
	close(pfd[0]);
	close(pfd[1]);
	assert_int_equal(map_file(e, mfd, FX_PAGE, 2 * FX_PAGE, 0x1000, FIXED),
			 0);
	/* A read-only fd cannot give writable pages. */
	{
		char path[64];
		int ro;

		snprintf(path, sizeof(path), "/proc/self/fd/%d", mfd);
		ro = open(path, O_RDONLY);
		assert_true(ro >= 0);
		assert_int_equal(map_file(e, ro, 0, FX_PAGE, 0x10000, FIXED),
				 -EPERM);
		assert_int_equal(map_file(e, ro, 0, FX_PAGE, 0x10000,
					  IOMMU_IOAS_MAP_FIXED_IOVA |
						  IOMMU_IOAS_MAP_READABLE),
				 0);
		close(ro);
	}
	/* CHANGE_PROCESS: file areas only. */
	{
		struct iommu_ioas_change_process cp = { .size = sizeof(cp) };

		assert_int_equal(
			fx_ioctl(e->f.fd, IOMMU_IOAS_CHANGE_PROCESS, &cp), 0);
		cp.__reserved = 1;
		assert_int_equal(fx_ioctl(e->f.fd, IOMMU_IOAS_CHANGE_PROCESS,
					  &cp),
				 -EOPNOTSUPP);
		cp.__reserved = 0;
		assert_int_equal(fx_map_fixed(e->f.fd, e->ioas, e->mem, FX_PAGE,
					      0x100000),
				 0);
		assert_int_equal(fx_ioctl(e->f.fd, IOMMU_IOAS_CHANGE_PROCESS,
					  &cp),
				 -EINVAL);
	}
	close(mfd);
}

/* ---- VFIO_IOAS ---- */

static long vfio_ioas(struct env *e, uint16_t op, uint32_t *id, uint16_t rsv)
{
	struct iommu_vfio_ioas v = {
		.size = sizeof(v),
		.ioas_id = *id,
		.op = op,
		.__reserved = rsv,
	};
	long rc = fx_ioctl(e->f.fd, IOMMU_VFIO_IOAS, &v);

	*id = v.ioas_id;
	return rc;
}

static void test_vfio_ioas(void **state)
{
	struct env *e = *state;
	uint32_t id = 0;

	assert_int_equal(vfio_ioas(e, IOMMU_VFIO_IOAS_GET, &id, 1),
			 -EOPNOTSUPP);
	assert_int_equal(vfio_ioas(e, IOMMU_VFIO_IOAS_GET, &id, 0), -ENODEV);
	id = 99;
	assert_int_equal(vfio_ioas(e, IOMMU_VFIO_IOAS_SET, &id, 0), -ENOENT);
	assert_int_equal(vfio_ioas(e, 3, &id, 0), -EOPNOTSUPP);
	id = e->ioas;
	assert_int_equal(vfio_ioas(e, IOMMU_VFIO_IOAS_SET, &id, 0), 0);
	id = 0;
	assert_int_equal(vfio_ioas(e, IOMMU_VFIO_IOAS_GET, &id, 0), 0);
	assert_int_equal(id, e->ioas);
	assert_int_equal(vfio_ioas(e, IOMMU_VFIO_IOAS_CLEAR, &id, 0), 0);
	assert_int_equal(vfio_ioas(e, IOMMU_VFIO_IOAS_GET, &id, 0), -ENODEV);
	/* SET/CLEAR never destroy; destroying the IOAS clears it. */
	id = e->ioas;
	assert_int_equal(vfio_ioas(e, IOMMU_VFIO_IOAS_SET, &id, 0), 0);
	assert_int_equal(fx_destroy(e->f.fd, e->ioas), 0);
	assert_int_equal(vfio_ioas(e, IOMMU_VFIO_IOAS_GET, &id, 0), -ENODEV);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, env_up, env_down)
		T(test_ioas_alloc),
		T(test_map_errors),
		T(test_map_fixed_rules),
		T(test_map_auto_iova),
		T(test_map_auto_enospc_and_allowed),
		T(test_map_pin_checks),
		T(test_pin_accounting),
		T(test_unmap),
		T(test_copy),
		T(test_iova_ranges),
		T(test_allow_iovas),
		T(test_option),
		cmocka_unit_test(test_option_rlimit_mode_set),
		T(test_map_file),
		T(test_vfio_ioas),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
