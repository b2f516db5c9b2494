// SPDX-License-Identifier: MIT
/*
 * PASID attachments with nesting (iommufd-uapi.md §6 PASID): the
 * ALLOC_PASID rules for nested HWPTs in both directions (PASID on a
 * non-PASID HWPT, RID on a non-PASID HWPT while PASIDs are attached), the
 * core's attach/replace/detach rules behind the VFIO calls, and one device
 * serving several address spaces at once: its RID on a paging HWPT and
 * PASIDs on nested HWPTs (one made on a vIOMMU) and on another IOAS.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "nest_util.h"

#define IOVA 0x100000ull

struct env {
	struct fx f;
	struct guest g;
	uint32_t ioas, parent;
};

static int env_up(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	struct ionest_device_config plain = {
		.iommu = "iommu0",
		.rid = 0x180,
	};
	struct ionest_device_config other = {
		.iommu = "iommu1",
		.rid = 0x100,
		.pasid_bits = 8,
	};

	fx_setup(&e->f, NULL, 2);
	/* 2: no PASID capability; 3: behind another IOMMU. */
	e->f.dev[2] = ionest_machine_add_device(e->f.m, &plain);
	assert_int_equal(ionest_machine_add_iommu(e->f.m, "iommu1",
						  ionest_mock_iommu_new(NULL)),
			 0);
	e->f.dev[3] = ionest_machine_add_device(e->f.m, &other);
	e->f.cdev[2] = e->f.cdev[3] = -1;
	e->f.ndev = 4;
	for (int i = 0; i < 4; i++)
		assert_int_equal(fx_bind(&e->f, i), 0);
	e->ioas = fx_ioas(e->f.fd);
	guest_init(&e->g, GUEST_GPA, GUEST_LEN);
	assert_int_equal(guest_map(&e->g, e->f.fd, e->ioas), 0);
	assert_int_equal(fx_hwpt_alloc(e->f.fd, e->f.devid[0], e->ioas,
				       IOMMU_HWPT_ALLOC_NEST_PARENT,
				       &e->parent),
			 0);
	*state = e;
	return 0;
}

static int env_down(void **state)
{
	struct env *e = *state;

	fx_teardown(&e->f);
	guest_fini(&e->g);
	free(e);
	return 0;
}

static uint32_t nested(struct env *e, uint32_t flags, uint64_t root)
{
	uint32_t id;

	assert_int_equal(nest_mock_nested(e->f.fd, e->f.devid[0], e->parent,
					  flags, root, 0, 0, &id),
			 0);
	return id;
}

static struct iommufd_device *idev_of(struct env *e, int i)
{
	return nest_object(e->f.fd, e->f.devid[i], IOMMUFD_OBJ_DEVICE);
}

static void test_nested_pasid_rules(void **state)
{
	struct env *e = *state;
	uint64_t root = guest_s1_init(&e->g);
	uint32_t np = nested(e, IOMMU_HWPT_ALLOC_PASID, root);
	uint32_t nn = nested(e, 0, root), pt;

	/* A nested HWPT without ALLOC_PASID serves no PASID. */
	pt = nn;
	assert_int_equal(fx_attach_pasid(&e->f, 0, 1, &pt), -EINVAL);
	pt = np;
	assert_int_equal(fx_attach_pasid(&e->f, 0, 1, &pt), 0);
	assert_int_equal(pt, np);
	/* While a PASID is attached the RID takes PASID HWPTs only. */
	pt = nn;
	assert_int_equal(fx_attach(&e->f, 0, &pt), -EINVAL);
	pt = np;
	assert_int_equal(fx_attach(&e->f, 0, &pt), 0);
	pt = nn;
	assert_int_equal(fx_attach(&e->f, 0, &pt), -EINVAL); /* replace */
	assert_int_equal(fx_detach_pasid(&e->f, 0, 1), 0);
	/* No PASID left: now it can. */
	assert_int_equal(fx_attach(&e->f, 0, &pt), 0);
	/* And with the RID on a non-PASID HWPT no PASID attaches. */
	pt = np;
	assert_int_equal(fx_attach_pasid(&e->f, 0, 2, &pt), -EINVAL);
	assert_int_equal(fx_detach(&e->f, 0), 0);
	/* PASID-flagged HWPTs serve a PASID-less device's RID ... */
	pt = np;
	assert_int_equal(fx_attach(&e->f, 2, &pt), 0);
	/* ... but such a device has no PASIDs. */
	assert_int_equal(fx_attach_pasid(&e->f, 2, 1, &pt), -EINVAL);
	assert_int_equal(fx_detach(&e->f, 2), 0);
	/* PASIDs: 0 is the RID, beyond the width is EINVAL, IOAS IDs are
	 * not allowed. */
	assert_int_equal(fx_attach_pasid(&e->f, 0, 0, &pt), -EINVAL);
	assert_int_equal(fx_attach_pasid(&e->f, 0, 256, &pt), -EINVAL);
	pt = e->ioas;
	assert_int_equal(fx_attach_pasid(&e->f, 0, 1, &pt), -EINVAL);
	/* Another IOMMU's device: the driver refuses. */
	pt = np;
	assert_int_equal(fx_attach(&e->f, 3, &pt), -EINVAL);
	assert_int_equal(fx_attach_pasid(&e->f, 3, 1, &pt), -EINVAL);
	assert_int_equal(fx_destroy(e->f.fd, np), 0);
	assert_int_equal(fx_destroy(e->f.fd, nn), 0);
}

static void test_core_attach_rules(void **state)
{
	struct env *e = *state;
	uint32_t np = nested(e, IOMMU_HWPT_ALLOC_PASID, guest_s1_init(&e->g));
	struct iommufd_device *idev = idev_of(e, 0);
	uint32_t pt;

	/* Behind VFIO's attach-or-replace: the core's own rules. */
	pt = np;
	assert_int_equal(iommufd_device_replace(idev, 4, &pt), -EINVAL);
	assert_int_equal(iommufd_device_attach(idev, 4, &pt), 0);
	assert_true(iommufd_device_pasid_attached(idev, 4));
	pt = np;
	assert_int_equal(iommufd_device_attach(idev, 4, &pt), -EBUSY);
	assert_int_equal(iommufd_device_replace(idev, 4, &pt), 0);
	assert_int_equal(fx_destroy(e->f.fd, np), -EBUSY);
	iommufd_device_detach(idev, 4);
	iommufd_device_detach(idev, 4); /* unattached: fine */
	assert_false(iommufd_device_pasid_attached(idev, 4));
	assert_int_equal(fx_destroy(e->f.fd, np), 0);
}

static void test_many_address_spaces(void **state)
{
	struct env *e = *state;
	uint64_t d1 = guest_alloc(&e->g, FX_PAGE), d2 = guest_alloc(&e->g, 1);
	uint8_t *rid_mem = fx_alloc(FX_PAGE, FX_PAGE);
	uint8_t *b_mem = fx_alloc(FX_PAGE, FX_PAGE);
	struct guest g2;
	uint32_t rid_h, n1, n2, ioas_b, hb, pt;
	uint8_t b;

	rid_mem[0] = 'R';
	b_mem[0] = 'B';
	*(uint8_t *)guest_va(&e->g, d1) = '1';
	*(uint8_t *)guest_va(&e->g, d2) = '2';
	/* Two guest stage 1s over the one parent: IOVA -> d1 / d2. */
	guest_s1_init(&e->g);
	assert_int_equal(guest_s1_map(&e->g, IOVA, d1, FX_PAGE, true), 0);
	n1 = nested(e, IOMMU_HWPT_ALLOC_PASID, e->g.s1.root);
	/* A second table tree in the upper half of guest RAM. */
	guest_view(&g2, &e->g, 2u << 20, 1u << 20);
	guest_s1_init(&g2);
	assert_int_equal(guest_s1_map(&g2, IOVA, d2, FX_PAGE, true), 0);
	n2 = nested(e, IOMMU_HWPT_ALLOC_PASID, g2.s1.root);
	/* The RID on a paging HWPT of the main IOAS; PASID 3 on another
	 * IOAS. */
	assert_int_equal(fx_map_fixed(e->f.fd, e->ioas, rid_mem, FX_PAGE, IOVA),
			 0);
	assert_int_equal(fx_hwpt_alloc(e->f.fd, e->f.devid[0], e->ioas,
				       IOMMU_HWPT_ALLOC_PASID, &rid_h),
			 0);
	ioas_b = fx_ioas(e->f.fd);
	assert_int_equal(fx_map_fixed(e->f.fd, ioas_b, b_mem, FX_PAGE, IOVA),
			 0);
	assert_int_equal(fx_hwpt_alloc(e->f.fd, e->f.devid[0], ioas_b,
				       IOMMU_HWPT_ALLOC_PASID, &hb),
			 0);
	pt = rid_h;
	assert_int_equal(fx_attach(&e->f, 0, &pt), 0);
	pt = n1;
	assert_int_equal(fx_attach_pasid(&e->f, 0, 1, &pt), 0);
	pt = n2;
	assert_int_equal(fx_attach_pasid(&e->f, 0, 2, &pt), 0);
	pt = hb;
	assert_int_equal(fx_attach_pasid(&e->f, 0, 3, &pt), 0);

	/* One IOVA, four address spaces. */
#define AT(pasid, want)                                                     \
	do {                                                                \
		b = 0;                                                      \
		assert_int_equal(fx_dma_read(&e->f, 0, pasid, IOVA, &b, 1), \
				 0);                                        \
		assert_int_equal(b, want);                                  \
	} while (0)
	AT(IONEST_NO_PASID, 'R');
	AT(1, '1');
	AT(2, '2');
	AT(3, 'B');
	/* An unattached PASID is blocked. */
	assert_int_equal(fx_dma_read(&e->f, 0, 4, IOVA, &b, 1), -EFAULT);
	/* Replace PASID 1 with the other nested HWPT. */
	pt = n2;
	assert_int_equal(fx_attach_pasid(&e->f, 0, 1, &pt), 0);
	AT(1, '2');
	/* Detach PASID 2: only it is blocked. */
	assert_int_equal(fx_detach_pasid(&e->f, 0, 2), 0);
	assert_int_equal(fx_dma_read(&e->f, 0, 2, IOVA, &b, 1), -EFAULT);
	AT(IONEST_NO_PASID, 'R');
	AT(1, '2');
	AT(3, 'B');
	/* The RID moves to a nested HWPT too (PASID-capable). */
	pt = n1;
	assert_int_equal(fx_attach(&e->f, 0, &pt), 0);
	AT(IONEST_NO_PASID, '1');
	AT(3, 'B');
#undef AT
	/* Everything attached is busy; unbinding detaches it all. */
	assert_int_equal(fx_destroy(e->f.fd, n1), -EBUSY);
	assert_int_equal(fx_destroy(e->f.fd, n2), -EBUSY);
	assert_int_equal(fx_destroy(e->f.fd, hb), -EBUSY);
	assert_int_equal(ionest_close(e->f.cdev[0]), 0);
	e->f.cdev[0] = -1;
	assert_int_equal(fx_destroy(e->f.fd, n1), 0);
	assert_int_equal(fx_destroy(e->f.fd, n2), 0);
	assert_int_equal(fx_destroy(e->f.fd, hb), 0);
	assert_int_equal(fx_destroy(e->f.fd, rid_h), 0);
	assert_int_equal(fx_destroy(e->f.fd, ioas_b), 0);
	guest_fini(&g2);
	fx_free(rid_mem, FX_PAGE);
	fx_free(b_mem, FX_PAGE);
}

static void test_viommu_nested_on_pasid(void **state)
{
	struct env *e = *state;
	uint64_t d = guest_alloc(&e->g, FX_PAGE);
	uint32_t v, n, pt, vd;
	uint8_t b = 0;

	*(uint8_t *)guest_va(&e->g, d) = 'v';
	guest_s1_init(&e->g);
	assert_int_equal(guest_s1_map(&e->g, IOVA, d, FX_PAGE, true), 0);
	assert_int_equal(nest_viommu_alloc(e->f.fd, e->f.devid[0], e->parent,
					   IONEST_MOCK_VIOMMU, &v),
			 0);
	assert_int_equal(nest_mock_nested(e->f.fd, e->f.devid[0], v,
					  IOMMU_HWPT_ALLOC_PASID, e->g.s1.root,
					  0, 0, &n),
			 0);
	/* The vIOMMU's domains need the device's vDEVICE, for PASIDs too. */
	pt = n;
	assert_int_equal(fx_attach_pasid(&e->f, 0, 7, &pt), -ENOENT);
	assert_int_equal(nest_vdevice_alloc(e->f.fd, v, e->f.devid[0], 9, &vd),
			 0);
	assert_int_equal(fx_attach_pasid(&e->f, 0, 7, &pt), 0);
	assert_int_equal(fx_dma_read(&e->f, 0, 7, IOVA, &b, 1), 0);
	assert_int_equal(b, 'v');
	assert_int_equal(fx_detach_pasid(&e->f, 0, 7), 0);
	assert_int_equal(fx_destroy(e->f.fd, n), 0);
	assert_int_equal(fx_destroy(e->f.fd, vd), 0);
	assert_int_equal(fx_destroy(e->f.fd, v), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, env_up, env_down)
		T(test_nested_pasid_rules),
		T(test_core_attach_rules),
		T(test_many_address_spaces),
		T(test_viommu_nested_on_pasid),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
