// SPDX-License-Identifier: MIT
/*
 * HWPTs and devices (iommufd-uapi.md §4, §6): HWPT_ALLOC, automatic
 * domains, the EBUSY matrix and leaf-first teardown, attach / replace /
 * detach of RIDs and PASIDs, GET_HW_INFO, dirty tracking.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

#define LEN (64 * FX_PAGE)

struct env {
	struct fx f;
	uint32_t ioas;
	uint8_t *mem;
};

static int env_up(void **state)
{
	struct env *e = calloc(1, sizeof(*e));

	fx_setup(&e->f, NULL, 3);
	e->ioas = fx_ioas(e->f.fd);
	e->mem = fx_alloc(LEN, 2u << 20);
	assert_int_equal(fx_bind(&e->f, 0), 0);
	assert_int_equal(fx_bind(&e->f, 1), 0);
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

static long hwpt_raw(struct env *e, struct iommu_hwpt_alloc *h)
{
	h->size = sizeof(*h);
	return fx_ioctl(e->f.fd, IOMMU_HWPT_ALLOC, h);
}

/* ---- HWPT_ALLOC ---- */

static void test_hwpt_alloc_errors(void **state)
{
	struct env *e = *state;
	struct iommu_hwpt_alloc h;
	uint64_t data[2] = { 0 };

#define H(flags_, dev_, pt_, rsv, dtype, dlen, err)       \
	do {                                              \
		memset(&h, 0, sizeof(h));                 \
		h.flags = (flags_);                       \
		h.dev_id = (dev_);                        \
		h.pt_id = (pt_);                          \
		h.__reserved = (rsv);                     \
		h.data_type = (dtype);                    \
		h.data_len = (dlen);                      \
		h.data_uptr = (uint64_t)(uintptr_t)data;  \
		assert_int_equal(hwpt_raw(e, &h), (err)); \
	} while (0)

	H(0, e->f.devid[0], e->ioas, 1, 0, 0, -EOPNOTSUPP);
	H(0, e->f.devid[0], e->ioas, 0, IOMMU_HWPT_DATA_NONE, 8, -EINVAL);
	H(0, e->f.devid[0], e->ioas, 0, IOMMU_HWPT_DATA_VTD_S1, 0, -EINVAL);
	H(0, 99, e->ioas, 0, 0, 0, -ENOENT);
	H(0, e->ioas, e->ioas, 0, 0, 0, -ENOENT); /* not a device */
	/* A bad pt_id is EINVAL, not ENOENT. */
	H(0, e->f.devid[0], 99, 0, 0, 0, -EINVAL);
	H(0, e->f.devid[0], e->f.devid[1], 0, 0, 0, -EINVAL);
	H(1u << 7, e->f.devid[0], e->ioas, 0, 0, 0, -EOPNOTSUPP);
	H(IOMMU_HWPT_ALLOC_NEST_PARENT | IOMMU_HWPT_FAULT_ID_VALID,
	  e->f.devid[0], e->ioas, 0, 0, 0, -EOPNOTSUPP);
	/* Driver data for a paging domain: the mock takes none. */
	H(0, e->f.devid[0], e->ioas, 0, IOMMU_HWPT_DATA_VTD_S1, 16,
	  -EOPNOTSUPP);
	/* FAULT_ID_VALID with no such fault object: ENOENT, and the HWPT
	 * made on the way is gone (its ID is free again). */
	H(IOMMU_HWPT_FAULT_ID_VALID, e->f.devid[0], e->ioas, 0, 0, 0, -ENOENT);
	{
		uint32_t id, next = fx_ioas(e->f.fd);

		assert_int_equal(fx_destroy(e->f.fd, next), 0);
		assert_int_equal(fx_hwpt_alloc(e->f.fd, e->f.devid[0], e->ioas,
					       0, &id),
				 0);
		assert_int_equal(id, next);
		/* Nested on a paging HWPT that is not a nest parent. */
		H(0, e->f.devid[0], id, 0, IOMMU_HWPT_DATA_VTD_S1, 16, -EINVAL);
		H(IOMMU_HWPT_ALLOC_DIRTY_TRACKING, e->f.devid[0], id, 0,
		  IOMMU_HWPT_DATA_VTD_S1, 16, -EOPNOTSUPP);
		assert_int_equal(fx_destroy(e->f.fd, id), 0);
	}
#undef H
}

static void test_hwpt_alloc_dirty_unsupported(void **state)
{
	struct ionest_mock_config cfg = { .dirty = IONEST_CFG(0) };
	struct fx f;
	uint32_t ioas, id;
	struct iommu_hwpt_set_dirty_tracking s = {
		.size = sizeof(s),
		.flags = IOMMU_HWPT_DIRTY_TRACKING_ENABLE,
	};

	fx_setup(&f, &cfg, 1);
	ioas = fx_ioas(f.fd);
	assert_int_equal(fx_bind(&f, 0), 0);
	assert_int_equal(fx_hwpt_alloc(f.fd, f.devid[0], ioas,
				       IOMMU_HWPT_ALLOC_DIRTY_TRACKING, &id),
			 -EOPNOTSUPP);
	assert_int_equal(fx_hwpt_alloc(f.fd, f.devid[0], ioas, 0, &id), 0);
	/* A domain without dirty ops. */
	s.hwpt_id = id;
	assert_int_equal(fx_ioctl(f.fd, IOMMU_HWPT_SET_DIRTY_TRACKING, &s),
			 -EOPNOTSUPP);
	fx_teardown(&f);
}

static void test_hwpt_mirrors_ioas(void **state)
{
	struct env *e = *state;
	uint32_t id, pt;
	uint8_t b = 0;

	assert_int_equal(
		fx_map_fixed(e->f.fd, e->ioas, e->mem, FX_PAGE, 0x100000), 0);
	/* A manual HWPT maps existing areas at once... */
	assert_int_equal(fx_hwpt_alloc(e->f.fd, e->f.devid[0], e->ioas,
				       IOMMU_HWPT_ALLOC_NEST_PARENT, &id),
			 0);
	pt = id;
	assert_int_equal(fx_attach(&e->f, 0, &pt), 0);
	assert_int_equal(pt, id);
	e->mem[9] = 0x42;
	assert_int_equal(
		fx_dma_read(&e->f, 0, IONEST_NO_PASID, 0x100009, &b, 1), 0);
	assert_int_equal(b, 0x42);
	/* ...and later ones too. */
	assert_int_equal(fx_map_fixed(e->f.fd, e->ioas, e->mem + FX_PAGE,
				      FX_PAGE, 0x200000),
			 0);
	e->mem[FX_PAGE] = 0x43;
	assert_int_equal(
		fx_dma_read(&e->f, 0, IONEST_NO_PASID, 0x200000, &b, 1), 0);
	assert_int_equal(b, 0x43);
	/* Its aperture and the device's MSI window are now reserved. */
	assert_int_equal(fx_map_fixed(e->f.fd, e->ioas, e->mem, FX_PAGE,
				      1ull << 48),
			 -EINVAL);
}

static void test_hwpt_aperture_conflict(void **state)
{
	struct ionest_mock_config cfg = {
		.aperture_start = 1u << 24,
		.aperture_last = (1ull << 31) - 1,
	};
	struct fx f;
	uint32_t ioas, id, pt;
	uint8_t *mem = fx_alloc(FX_PAGE, FX_PAGE);

	fx_setup(&f, &cfg, 1);
	ioas = fx_ioas(f.fd);
	assert_int_equal(fx_bind(&f, 0), 0);
	/* An area below the aperture: the domain cannot be added. */
	assert_int_equal(fx_map_fixed(f.fd, ioas, mem, FX_PAGE, 0x1000), 0);
	assert_int_equal(fx_hwpt_alloc(f.fd, f.devid[0], ioas, 0, &id),
			 -EADDRINUSE);
	pt = ioas;
	assert_int_equal(fx_attach(&f, 0, &pt), -EADDRINUSE);
	assert_int_equal(fx_unmap(f.fd, ioas, 0, UINT64_MAX, NULL), 0);
	assert_int_equal(fx_attach(&f, 0, &pt), 0);
	{
		struct iommu_iova_range r[4];
		struct iommu_ioas_iova_ranges q = {
			.size = sizeof(q),
			.ioas_id = ioas,
			.num_iovas = 4,
			.allowed_iovas = (uint64_t)(uintptr_t)r,
		};

		assert_int_equal(fx_ioctl(f.fd, IOMMU_IOAS_IOVA_RANGES, &q), 0);
		assert_int_equal(q.num_iovas, 2);
		assert_int_equal(r[0].start, 1u << 24);
		assert_int_equal(r[0].last, FX_MSI_START - 1);
		assert_int_equal(r[1].start, FX_MSI_LAST + 1);
		assert_int_equal(r[1].last, (1ull << 31) - 1);
	}
	/* Automatic IOVAs land inside the aperture. */
	{
		uint64_t iova = 0;

		assert_int_equal(fx_map(f.fd, ioas, mem, FX_PAGE, &iova,
					IOMMU_IOAS_MAP_READABLE),
				 0);
		assert_int_equal(iova, 1u << 24);
	}
	fx_teardown(&f);
	fx_free(mem, FX_PAGE);
}

static void test_hwpt_big_pages_rejected(void **state)
{
	/* A domain whose smallest page is larger than PAGE_SIZE. */
	struct ionest_mock_config cfg = { .pgsize_bitmap = 1u << 21 };
	struct fx f;
	uint32_t ioas, id, pt;

	fx_setup(&f, &cfg, 1);
	ioas = fx_ioas(f.fd);
	assert_int_equal(fx_bind(&f, 0), 0);
	assert_int_equal(fx_hwpt_alloc(f.fd, f.devid[0], ioas, 0, &id),
			 -EINVAL);
	pt = ioas;
	assert_int_equal(fx_attach(&f, 0, &pt), -EINVAL);
	fx_teardown(&f);
}

/* ---- Automatic domains ---- */

static void test_auto_domains(void **state)
{
	struct env *e = *state;
	uint32_t pt0 = e->ioas, pt1 = e->ioas, manual, pt2;

	assert_int_equal(
		fx_hwpt_alloc(e->f.fd, e->f.devid[0], e->ioas, 0, &manual), 0);
	assert_int_equal(fx_attach(&e->f, 0, &pt0), 0);
	/* Manual HWPTs are never picked automatically. */
	assert_true(pt0 != manual && pt0 != e->ioas);
	/* Shared by the next device on the same IOMMU. */
	assert_int_equal(fx_attach(&e->f, 1, &pt1), 0);
	assert_int_equal(pt1, pt0);
	/* In use: EBUSY. */
	assert_int_equal(fx_destroy(e->f.fd, pt0), -EBUSY);
	assert_int_equal(fx_detach(&e->f, 0), 0);
	assert_int_equal(fx_destroy(e->f.fd, pt0), -EBUSY);
	assert_int_equal(fx_detach(&e->f, 1), 0);
	/* Freed with its last device. */
	assert_int_equal(fx_destroy(e->f.fd, pt0), -ENOENT);
	/* A device behind another IOMMU gets its own automatic domain. */
	{
		struct ionest_hw *hw2 = ionest_mock_iommu_new(NULL);
		struct ionest_device_config dc = {
			.iommu = "iommu1",
			.rid = 0x100,
		};

		assert_int_equal(
			ionest_machine_add_iommu(e->f.m, "iommu1", hw2), 0);
		e->f.dev[3] = ionest_machine_add_device(e->f.m, &dc);
		assert_int_equal(e->f.dev[3], 3);
		e->f.cdev[3] = -1;
		e->f.ndev = 4;
		assert_int_equal(fx_bind(&e->f, 3), 0);
		pt0 = e->ioas;
		assert_int_equal(fx_attach(&e->f, 0, &pt0), 0);
		pt2 = e->ioas;
		assert_int_equal(fx_attach(&e->f, 3, &pt2), 0);
		assert_true(pt2 != pt0);
		/* And cannot use a domain of the other IOMMU. */
		assert_int_equal(fx_attach(&e->f, 3, &manual), -EINVAL);
	}
	assert_int_equal(fx_destroy(e->f.fd, manual), 0);
}

/* ---- EBUSY matrix and teardown ---- */

static void test_ebusy_matrix(void **state)
{
	struct env *e = *state;
	uint32_t hwpt, pt;

	assert_int_equal(
		fx_hwpt_alloc(e->f.fd, e->f.devid[0], e->ioas, 0, &hwpt), 0);
	/* IOAS with a HWPT */
	assert_int_equal(fx_destroy(e->f.fd, e->ioas), -EBUSY);
	/* HWPT with an attached device */
	pt = hwpt;
	assert_int_equal(fx_attach(&e->f, 0, &pt), 0);
	assert_int_equal(fx_destroy(e->f.fd, hwpt), -EBUSY);
	/* a bound device: always (the cdev holds it) */
	assert_int_equal(fx_destroy(e->f.fd, e->f.devid[0]), -EBUSY);
	assert_int_equal(fx_destroy(e->f.fd, e->f.devid[1]), -EBUSY);
	assert_int_equal(fx_detach(&e->f, 0), 0);
	assert_int_equal(fx_destroy(e->f.fd, hwpt), 0);
	assert_int_equal(fx_destroy(e->f.fd, e->ioas), 0);
	/* Closing the cdev unbinds: the DEVICE object is gone. */
	assert_int_equal(ionest_close(e->f.cdev[0]), 0);
	e->f.cdev[0] = -1;
	assert_int_equal(fx_destroy(e->f.fd, e->f.devid[0]), -ENOENT);
	/* ...and the device can be bound again. */
	assert_int_equal(fx_bind(&e->f, 0), 0);
}

static void test_close_with_objects(void **state)
{
	struct env *e = *state;
	uint32_t ioas2 = fx_ioas(e->f.fd), hwpt, pt = e->ioas;
	uint64_t u0, u;

	ionest_pinned_pages(&u0, NULL);
	assert_int_equal(fx_map_fixed(e->f.fd, e->ioas, e->mem, LEN, 0x100000),
			 0);
	assert_int_equal(fx_map_fixed(e->f.fd, ioas2, e->mem, LEN, 0x100000),
			 0);
	assert_int_equal(fx_hwpt_alloc(e->f.fd, e->f.devid[0], ioas2, 0, &hwpt),
			 0);
	assert_int_equal(fx_attach(&e->f, 0, &pt), 0);
	/* A bound device keeps the context alive after its fd is closed. */
	assert_int_equal(ionest_close(e->f.fd), 0);
	e->f.fd = -1;
	pt = hwpt;
	assert_int_equal(fx_attach(&e->f, 1, &pt), 0);
	assert_int_equal(fx_dma_read(&e->f, 1, IONEST_NO_PASID, 0x100000,
				     e->mem + FX_PAGE, 8),
			 0);
	ionest_pinned_pages(&u, NULL);
	assert_int_equal(u, u0 + 2 * (LEN / FX_PAGE));
	/* Closing the last cdev tears everything down, leaf first. */
	assert_int_equal(ionest_close(e->f.cdev[0]), 0);
	e->f.cdev[0] = -1;
	ionest_pinned_pages(&u, NULL);
	assert_int_equal(u, u0 + LEN / FX_PAGE);
	assert_int_equal(ionest_close(e->f.cdev[1]), 0);
	e->f.cdev[1] = -1;
	ionest_pinned_pages(&u, NULL);
	assert_int_equal(u, u0);
	assert_int_equal(fx_dma_read(&e->f, 1, IONEST_NO_PASID, 0x100000,
				     e->mem + FX_PAGE, 8),
			 -EFAULT);
}

/* ---- Attach / replace ---- */

static void test_replace(void **state)
{
	struct env *e = *state;
	uint8_t *m2 = fx_alloc(FX_PAGE, FX_PAGE);
	uint32_t ioas2 = fx_ioas(e->f.fd), h1, h2, pt, auto_id;
	uint8_t b;

	e->mem[0] = 1;
	m2[0] = 2;
	assert_int_equal(
		fx_map_fixed(e->f.fd, e->ioas, e->mem, FX_PAGE, 0x100000), 0);
	assert_int_equal(fx_map_fixed(e->f.fd, ioas2, m2, FX_PAGE, 0x100000),
			 0);
	assert_int_equal(fx_hwpt_alloc(e->f.fd, e->f.devid[0], e->ioas, 0, &h1),
			 0);
	assert_int_equal(fx_hwpt_alloc(e->f.fd, e->f.devid[0], ioas2, 0, &h2),
			 0);
	pt = h1;
	assert_int_equal(fx_attach(&e->f, 0, &pt), 0);
	assert_int_equal(
		fx_dma_read(&e->f, 0, IONEST_NO_PASID, 0x100000, &b, 1), 0);
	assert_int_equal(b, 1);
	/* A second attach replaces (VFIO rule). */
	pt = h2;
	assert_int_equal(fx_attach(&e->f, 0, &pt), 0);
	assert_int_equal(
		fx_dma_read(&e->f, 0, IONEST_NO_PASID, 0x100000, &b, 1), 0);
	assert_int_equal(b, 2);
	assert_int_equal(fx_destroy(e->f.fd, h1), 0); /* no longer in use */
	/* Replace with the same HWPT: a no-op. */
	pt = h2;
	assert_int_equal(fx_attach(&e->f, 0, &pt), 0);
	assert_int_equal(fx_destroy(e->f.fd, h2), -EBUSY);
	/* Replace to an IOAS: an automatic domain. */
	pt = e->ioas;
	assert_int_equal(fx_attach(&e->f, 0, &pt), 0);
	auto_id = pt;
	assert_int_equal(fx_destroy(e->f.fd, h2), 0);
	/* A failed replace keeps the old attachment: the MSI window of the
	 * device cannot be reserved in an IOAS that maps it. */
	{
		uint32_t ioas3 = fx_ioas(e->f.fd);

		assert_int_equal(fx_map_fixed(e->f.fd, ioas3, m2, FX_PAGE,
					      FX_MSI_START),
				 0);
		pt = ioas3;
		assert_int_equal(fx_attach(&e->f, 0, &pt), -EADDRINUSE);
		assert_int_equal(fx_dma_read(&e->f, 0, IONEST_NO_PASID,
					     0x100000, &b, 1),
				 0);
		assert_int_equal(b, 1);
		assert_int_equal(fx_destroy(e->f.fd, ioas3), 0);
	}
	/* Replacing away from the automatic domain frees it. */
	pt = ioas2;
	assert_int_equal(fx_attach(&e->f, 0, &pt), 0);
	assert_int_equal(fx_destroy(e->f.fd, auto_id), -ENOENT);
	/* Attach to things that are not page tables: ENOENT / EINVAL. */
	pt = 99;
	assert_int_equal(fx_attach(&e->f, 1, &pt), -ENOENT);
	pt = e->f.devid[0];
	assert_int_equal(fx_attach(&e->f, 1, &pt), -EINVAL);
	fx_free(m2, FX_PAGE);
}

/* ---- PASID ---- */

static void test_pasid_rules(void **state)
{
	struct env *e = *state;
	uint32_t hp, hn, pt;
	struct ionest_device_config nodev = {
		.iommu = "iommu0",
		.rid = 0x200,
	};

	assert_int_equal(fx_hwpt_alloc(e->f.fd, e->f.devid[0], e->ioas,
				       IOMMU_HWPT_ALLOC_PASID, &hp),
			 0);
	assert_int_equal(fx_hwpt_alloc(e->f.fd, e->f.devid[0], e->ioas, 0, &hn),
			 0);
	/* HWPT without ALLOC_PASID: EINVAL; IOAS IDs neither. */
	pt = hn;
	assert_int_equal(fx_attach_pasid(&e->f, 0, 1, &pt), -EINVAL);
	pt = e->ioas;
	assert_int_equal(fx_attach_pasid(&e->f, 0, 1, &pt), -EINVAL);
	/* PASID 0 is the RID in Linux; beyond the width is EINVAL. */
	pt = hp;
	assert_int_equal(fx_attach_pasid(&e->f, 0, 0, &pt), -EINVAL);
	assert_int_equal(fx_attach_pasid(&e->f, 0, 256, &pt), -EINVAL);
	assert_int_equal(fx_attach_pasid(&e->f, 0, 255, &pt), 0);
	/* attach again = replace (VFIO), same HWPT fine */
	assert_int_equal(fx_attach_pasid(&e->f, 0, 255, &pt), 0);
	/* While a PASID is attached the RID cannot take a non-PASID HWPT. */
	pt = hn;
	assert_int_equal(fx_attach(&e->f, 0, &pt), -EINVAL);
	pt = hp;
	assert_int_equal(fx_attach(&e->f, 0, &pt), 0);
	assert_int_equal(fx_detach_pasid(&e->f, 0, 255), 0);
	/* Detaching an unattached PASID is fine. */
	assert_int_equal(fx_detach_pasid(&e->f, 0, 7), 0);
	/* RID on a non-PASID HWPT: no PASID attach. */
	pt = hn;
	assert_int_equal(fx_attach(&e->f, 0, &pt), 0);
	pt = hp;
	assert_int_equal(fx_attach_pasid(&e->f, 0, 3, &pt), -EINVAL);
	assert_int_equal(fx_detach(&e->f, 0), 0);
	/* A PASID HWPT serves the RID of a device without PASIDs. */
	e->f.dev[2] = ionest_machine_add_device(e->f.m, &nodev);
	assert_int_equal(e->f.dev[2], 3);
	e->f.ndev = 4;
	e->f.dev[3] = e->f.dev[2];
	e->f.cdev[3] = -1;
	assert_int_equal(fx_bind(&e->f, 3), 0);
	pt = hp;
	assert_int_equal(fx_attach(&e->f, 3, &pt), 0);
	/* ...but such a device cannot attach PASIDs. */
	assert_int_equal(fx_attach_pasid(&e->f, 3, 1, &pt), -EINVAL);
	assert_int_equal(fx_detach(&e->f, 3), 0);
	assert_int_equal(fx_destroy(e->f.fd, hp), 0);
	assert_int_equal(fx_destroy(e->f.fd, hn), 0);
}

static void test_pasid_replace_and_unbind(void **state)
{
	struct env *e = *state;
	uint32_t h1, h2, pt;

	assert_int_equal(fx_hwpt_alloc(e->f.fd, e->f.devid[0], e->ioas,
				       IOMMU_HWPT_ALLOC_PASID, &h1),
			 0);
	assert_int_equal(fx_hwpt_alloc(e->f.fd, e->f.devid[0], e->ioas,
				       IOMMU_HWPT_ALLOC_PASID, &h2),
			 0);
	for (uint32_t p = 1; p <= 6; p++) {
		pt = (p & 1) ? h1 : h2;
		assert_int_equal(fx_attach_pasid(&e->f, 0, p, &pt), 0);
	}
	assert_int_equal(fx_destroy(e->f.fd, h1), -EBUSY);
	/* Move every PASID to h2. */
	for (uint32_t p = 1; p <= 6; p += 2) {
		pt = h2;
		assert_int_equal(fx_attach_pasid(&e->f, 0, p, &pt), 0);
	}
	assert_int_equal(fx_destroy(e->f.fd, h1), 0);
	assert_int_equal(fx_destroy(e->f.fd, h2), -EBUSY);
	/* Closing the cdev detaches them all. */
	assert_int_equal(ionest_close(e->f.cdev[0]), 0);
	e->f.cdev[0] = -1;
	assert_int_equal(fx_destroy(e->f.fd, h2), 0);
}

/* ---- GET_HW_INFO ---- */

static long hw_info(struct env *e, struct iommu_hw_info *h)
{
	h->size = sizeof(*h);
	return fx_ioctl(e->f.fd, IOMMU_GET_HW_INFO, h);
}

static void test_hw_info(void **state)
{
	struct env *e = *state;
	uint8_t buf[16];
	struct iommu_hw_info h;

	memset(&h, 0, sizeof(h));
	h.dev_id = e->f.devid[0];
	h.flags = 2;
	assert_int_equal(hw_info(e, &h), -EOPNOTSUPP);
	h.flags = 0;
	h.__reserved[1] = 1;
	assert_int_equal(hw_info(e, &h), -EOPNOTSUPP);
	h.__reserved[1] = 0;
	h.dev_id = e->ioas;
	assert_int_equal(hw_info(e, &h), -ENOENT);
	/* Without INPUT_TYPE a garbage type is ignored. */
	h.dev_id = e->f.devid[0];
	h.in_data_type = 0x1234;
	memset(buf, 0xff, sizeof(buf));
	h.data_len = sizeof(buf);
	h.data_uptr = (uint64_t)(uintptr_t)buf;
	assert_int_equal(hw_info(e, &h), 0);
	assert_int_equal(h.out_data_type, IOMMU_HW_INFO_TYPE_NONE);
	assert_int_equal(h.data_len, 0);
	/* The caller's buffer is zero-filled beyond what the driver has. */
	for (size_t i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0);
	assert_int_equal(h.out_max_pasid_log2, 8);
	assert_int_equal(h.out_capabilities,
			 IOMMU_HW_CAP_DIRTY_TRACKING |
				 IOMMU_HW_CAP_PCI_PASID_EXEC);
	/* INPUT_TYPE: the mock knows only the default. */
	h.flags = IOMMU_HW_INFO_FLAG_INPUT_TYPE;
	h.in_data_type = IOMMU_HW_INFO_TYPE_INTEL_VTD;
	assert_int_equal(hw_info(e, &h), -EOPNOTSUPP);
	h.in_data_type = IOMMU_HW_INFO_TYPE_DEFAULT;
	h.data_len = 0;
	assert_int_equal(hw_info(e, &h), 0);
	/* data_len > 0 with a bad pointer: EFAULT. */
	h.data_len = 8;
	h.data_uptr = 8;
	assert_int_equal(hw_info(e, &h), -EFAULT);
	/* A device without PASID/ATS, on a mock without dirty tracking. */
	{
		struct ionest_mock_config cfg = { .dirty = IONEST_CFG(0) };
		struct ionest_device_config dc = { .iommu = "m2", .rid = 1 };
		struct fx *f = &e->f;

		assert_int_equal(
			ionest_machine_add_iommu(f->m, "m2",
						 ionest_mock_iommu_new(&cfg)),
			0);
		f->dev[3] = ionest_machine_add_device(f->m, &dc);
		f->cdev[3] = -1;
		f->ndev = 4;
		assert_int_equal(fx_bind(f, 3), 0);
		memset(&h, 0, sizeof(h));
		h.dev_id = f->devid[3];
		assert_int_equal(hw_info(e, &h), 0);
		assert_int_equal(h.out_max_pasid_log2, 0);
		assert_int_equal(h.out_capabilities,
				 IOMMU_HW_CAP_PCI_ATS_NOT_SUPPORTED);
	}
	/* The minimum size (32) works: out_capabilities just isn't seen. */
	{
		uint8_t raw[40];

		memset(raw, 0, sizeof(raw));
		memset(raw + 32, 0xcc, 8);
		((struct iommu_hw_info *)raw)->size = 32;
		((struct iommu_hw_info *)raw)->dev_id = e->f.devid[0];
		assert_int_equal(fx_ioctl(e->f.fd, IOMMU_GET_HW_INFO, raw), 0);
		assert_int_equal(
			((struct iommu_hw_info *)raw)->out_max_pasid_log2, 8);
		for (int i = 32; i < 40; i++)
			assert_int_equal(raw[i], 0xcc);
	}
}

/* ---- Dirty tracking ---- */

static long dirty_get(struct env *e, uint32_t hwpt, uint64_t iova, uint64_t len,
		      uint64_t ps, uint64_t *bm, uint32_t flags)
{
	struct iommu_hwpt_get_dirty_bitmap g = {
		.size = sizeof(g),
		.hwpt_id = hwpt,
		.flags = flags,
		.iova = iova,
		.length = len,
		.page_size = ps,
		.data = (uint64_t)(uintptr_t)bm,
	};

	return fx_ioctl(e->f.fd, IOMMU_HWPT_GET_DIRTY_BITMAP, &g);
}

static long dirty_set(struct env *e, uint32_t hwpt, uint32_t flags)
{
	struct iommu_hwpt_set_dirty_tracking s = {
		.size = sizeof(s),
		.flags = flags,
		.hwpt_id = hwpt,
	};

	return fx_ioctl(e->f.fd, IOMMU_HWPT_SET_DIRTY_TRACKING, &s);
}

static void test_dirty_tracking(void **state)
{
	struct env *e = *state;
	uint32_t h, pt;
	uint64_t bm[2];
	uint8_t b = 1;

	assert_int_equal(fx_huge_pages(e->f.fd, e->ioas, 0), 0);
	assert_int_equal(fx_map_fixed(e->f.fd, e->ioas, e->mem, 16 * FX_PAGE,
				      0x100000),
			 0);
	assert_int_equal(fx_hwpt_alloc(e->f.fd, e->f.devid[0], e->ioas,
				       IOMMU_HWPT_ALLOC_DIRTY_TRACKING, &h),
			 0);
	pt = h;
	assert_int_equal(fx_attach(&e->f, 0, &pt), 0);

	assert_int_equal(dirty_set(e, h, 2), -EOPNOTSUPP);
	assert_int_equal(dirty_set(e, 99, 1), -ENOENT);
	assert_int_equal(dirty_set(e, e->ioas, 1), -ENOENT);
	/* Writes before tracking is on are not reported. */
	assert_int_equal(
		fx_dma_write(&e->f, 0, IONEST_NO_PASID, 0x100000, &b, 1), 0);
	assert_int_equal(dirty_set(e, h, IOMMU_HWPT_DIRTY_TRACKING_ENABLE), 0);
	memset(bm, 0, sizeof(bm));
	assert_int_equal(
		dirty_get(e, h, 0x100000, 16 * FX_PAGE, FX_PAGE, bm, 0), 0);
	assert_int_equal(bm[0], 0);
	/* Device writes to pages 0, 5 and 15. */
	assert_int_equal(
		fx_dma_write(&e->f, 0, IONEST_NO_PASID, 0x100000, &b, 1), 0);
	assert_int_equal(fx_dma_write(&e->f, 0, IONEST_NO_PASID,
				      0x100000 + 5 * FX_PAGE + 9, &b, 1),
			 0);
	assert_int_equal(fx_dma_write(&e->f, 0, IONEST_NO_PASID,
				      0x100000 + 15 * FX_PAGE, &b, 1),
			 0);
	/* Reads do not dirty. */
	assert_int_equal(fx_dma_read(&e->f, 0, IONEST_NO_PASID,
				     0x100000 + 7 * FX_PAGE, &b, 1),
			 0);
	/* NO_CLEAR reads and keeps. */
	memset(bm, 0, sizeof(bm));
	assert_int_equal(dirty_get(e, h, 0x100000, 16 * FX_PAGE, FX_PAGE, bm,
				   IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR),
			 0);
	assert_int_equal(bm[0], (1ull << 0) | (1ull << 5) | (1ull << 15));
	/* Bits are only set: what the caller had stays. */
	bm[0] = 1ull << 40;
	assert_int_equal(
		dirty_get(e, h, 0x100000, 16 * FX_PAGE, FX_PAGE, bm, 0), 0);
	assert_int_equal(bm[0], (1ull << 0) | (1ull << 5) | (1ull << 15) |
					(1ull << 40));
	/* Read cleared them. */
	memset(bm, 0, sizeof(bm));
	assert_int_equal(
		dirty_get(e, h, 0x100000, 16 * FX_PAGE, FX_PAGE, bm, 0), 0);
	assert_int_equal(bm[0], 0);
	/* A page written again after the clear is dirty again: the clear
	 * reached the IOTLB too (no cached writable-dirty entry). */
	assert_int_equal(fx_dma_write(&e->f, 0, IONEST_NO_PASID,
				      0x100000 + 5 * FX_PAGE, &b, 1),
			 0);
	assert_int_equal(
		dirty_get(e, h, 0x100000, 16 * FX_PAGE, FX_PAGE, bm, 0), 0);
	assert_int_equal(bm[0], 1ull << 5);
	bm[0] = 0;
	/* 8K granules, sub-range starting at page 4. */
	assert_int_equal(fx_dma_write(&e->f, 0, IONEST_NO_PASID,
				      0x100000 + 7 * FX_PAGE, &b, 1),
			 0);
	assert_int_equal(dirty_get(e, h, 0x100000 + 4 * FX_PAGE, 8 * FX_PAGE,
				   2 * FX_PAGE, bm, 0),
			 0);
	assert_int_equal(bm[0], 1ull << 1);
	/* Errors. */
	assert_int_equal(dirty_get(e, h, 0x100000, FX_PAGE, FX_PAGE, bm, 2),
			 -EOPNOTSUPP);
	assert_int_equal(dirty_get(e, 99, 0x100000, FX_PAGE, FX_PAGE, bm, 0),
			 -ENOENT);
	assert_int_equal(dirty_get(e, h, UINT64_MAX - FX_PAGE, 2 * FX_PAGE,
				   FX_PAGE, bm, 0),
			 -EOVERFLOW);
	assert_int_equal(dirty_get(e, h, 0x100001, FX_PAGE, FX_PAGE, bm, 0),
			 -EINVAL);
	assert_int_equal(dirty_get(e, h, 0x100000, FX_PAGE, 0, bm, 0), -EINVAL);
	assert_int_equal(dirty_get(e, h, 0x100000 + FX_PAGE, 2 * FX_PAGE,
				   2 * FX_PAGE, bm, 0),
			 -EINVAL);
	/* Not fully covered by areas. */
	assert_int_equal(dirty_get(e, h, 0x100000, 32 * FX_PAGE, FX_PAGE, bm,
				   0),
			 -EINVAL);
	assert_int_equal(dirty_get(e, h, 0x100000, 16 * FX_PAGE, FX_PAGE,
				   (void *)8, 0),
			 0); /* nothing dirty: the bitmap is not touched */
	assert_int_equal(
		fx_dma_write(&e->f, 0, IONEST_NO_PASID, 0x100000, &b, 1), 0);
	assert_int_equal(dirty_get(e, h, 0x100000, 16 * FX_PAGE, FX_PAGE,
				   (void *)8, 0),
			 -EFAULT);
	{
		struct iommu_hwpt_get_dirty_bitmap g = {
			.size = sizeof(g),
			.hwpt_id = h,
			.__reserved = 1,
		};

		assert_int_equal(fx_ioctl(e->f.fd, IOMMU_HWPT_GET_DIRTY_BITMAP,
					  &g),
				 -EOPNOTSUPP);
	}
	/* Enabling again first clears stale bits. */
	assert_int_equal(fx_dma_write(&e->f, 0, IONEST_NO_PASID,
				      0x100000 + 3 * FX_PAGE, &b, 1),
			 0);
	assert_int_equal(dirty_set(e, h, 0), 0);
	assert_int_equal(dirty_set(e, h, IOMMU_HWPT_DIRTY_TRACKING_ENABLE), 0);
	memset(bm, 0, sizeof(bm));
	assert_int_equal(
		dirty_get(e, h, 0x100000, 16 * FX_PAGE, FX_PAGE, bm, 0), 0);
	assert_int_equal(bm[0], 0);
	assert_int_equal(fx_detach(&e->f, 0), 0);
	assert_int_equal(fx_destroy(e->f.fd, h), 0);
}

static void test_dirty_huge_leaf(void **state)
{
	struct env *e = *state;
	uint8_t *big = fx_alloc(2u << 20, 2u << 20);
	uint32_t h, pt;
	uint64_t bm[8];
	uint8_t b = 1;

	assert_int_equal(
		fx_map_fixed(e->f.fd, e->ioas, big, 2u << 20, 4u << 20), 0);
	assert_int_equal(fx_hwpt_alloc(e->f.fd, e->f.devid[0], e->ioas,
				       IOMMU_HWPT_ALLOC_DIRTY_TRACKING, &h),
			 0);
	pt = h;
	assert_int_equal(fx_attach(&e->f, 0, &pt), 0);
	assert_int_equal(dirty_set(e, h, IOMMU_HWPT_DIRTY_TRACKING_ENABLE), 0);
	assert_int_equal(fx_dma_write(&e->f, 0, IONEST_NO_PASID,
				      (4u << 20) + 100, &b, 1),
			 0);
	/* One dirty 2 MiB IOPTE sets every 4 KiB bit it covers... */
	memset(bm, 0, sizeof(bm));
	assert_int_equal(dirty_get(e, h, 4u << 20, 2u << 20, FX_PAGE, bm,
				   IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR),
			 0);
	for (int i = 0; i < 8; i++)
		assert_int_equal(bm[i], UINT64_MAX);
	/* ...and the one 2 MiB bit. */
	memset(bm, 0, sizeof(bm));
	assert_int_equal(dirty_get(e, h, 4u << 20, 2u << 20, 2u << 20, bm, 0),
			 0);
	assert_int_equal(bm[0], 1);
	assert_int_equal(bm[1], 0);
	assert_int_equal(fx_detach(&e->f, 0), 0);
	assert_int_equal(fx_destroy(e->f.fd, h), 0);
	fx_free(big, 2u << 20);
}

/* ---- HWPT_INVALIDATE (generic part) ---- */

static void test_invalidate(void **state)
{
	struct env *e = *state;
	uint32_t h;
	struct iommu_hwpt_invalidate inv = {
		.size = sizeof(inv),
		.entry_num = 3,
	};

	assert_int_equal(fx_hwpt_alloc(e->f.fd, e->f.devid[0], e->ioas, 0, &h),
			 0);
	inv.__reserved = 1;
	assert_int_equal(fx_ioctl(e->f.fd, IOMMU_HWPT_INVALIDATE, &inv),
			 -EOPNOTSUPP);
	assert_int_equal(inv.entry_num, 0); /* written back on error too */
	inv.__reserved = 0;
	inv.entry_num = 1;
	inv.hwpt_id = h;
	assert_int_equal(fx_ioctl(e->f.fd, IOMMU_HWPT_INVALIDATE, &inv),
			 -EINVAL); /* entries but no data pointer */
	inv.data_uptr = 8;
	inv.entry_len = 16;
	inv.entry_num = 0;
	inv.hwpt_id = 99;
	assert_int_equal(fx_ioctl(e->f.fd, IOMMU_HWPT_INVALIDATE, &inv),
			 -ENOENT);
	/* A paging HWPT takes no invalidations. */
	inv.hwpt_id = h;
	assert_int_equal(fx_ioctl(e->f.fd, IOMMU_HWPT_INVALIDATE, &inv),
			 -EINVAL);
	assert_int_equal(fx_destroy(e->f.fd, h), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, env_up, env_down)
		T(test_hwpt_alloc_errors),
		cmocka_unit_test(test_hwpt_alloc_dirty_unsupported),
		T(test_hwpt_mirrors_ioas),
		cmocka_unit_test(test_hwpt_aperture_conflict),
		cmocka_unit_test(test_hwpt_big_pages_rejected),
		T(test_auto_domains),
		T(test_ebusy_matrix),
		T(test_close_with_objects),
		T(test_replace),
		T(test_pasid_rules),
		T(test_pasid_replace_and_unbind),
		T(test_hw_info),
		T(test_dirty_tracking),
		T(test_dirty_huge_leaf),
		T(test_invalidate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
