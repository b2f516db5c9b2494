// SPDX-License-Identifier: MIT
/*
 * Nested HWPTs on the mock (iommufd-uapi.md §6): HWPT_ALLOC over a
 * NEST_PARENT HWPT with its errno rules and driver-data size rules, the
 * lifetime (EBUSY) rules, DMA through a guest stage 1 walked over the
 * parent end to end, IOTLB behaviour (stale until invalidated, dropped with
 * the parent's mappings), IOMMU_HWPT_INVALIDATE's rules, the SW MSI window
 * in the parent's IOAS, and dirty tracking seen through a nested HWPT.
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

	fx_setup(&e->f, NULL, 2);
	assert_int_equal(fx_bind(&e->f, 0), 0);
	assert_int_equal(fx_bind(&e->f, 1), 0);
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

	/* Closing tears everything down leaf-first (ASan: no leaks). */
	fx_teardown(&e->f);
	guest_fini(&e->g);
	free(e);
	return 0;
}

static int nested(struct env *e, uint64_t root, uint32_t *id)
{
	return nest_mock_nested(e->f.fd, e->f.devid[0], e->parent, 0, root, 0,
				0, id);
}

static struct ionest_dma_fault last_fault(struct env *e, int i)
{
	struct ionest_dma_fault lf;

	assert_int_equal(ionest_device_last_fault(e->f.m, e->f.dev[i], &lf), 0);
	return lf;
}

/* ---- The instance's nesting mode ---- */

static void test_nesting_mode(void **state)
{
	struct env *e = *state;
	struct ionest_machine *m = e->f.m;
	uint32_t id;

	/* AUTO on a part that nests is HW. */
	assert_int_equal(ionest_machine_nesting(m, "iommu0"),
			 IONEST_NESTING_HW);
	assert_int_equal(ionest_machine_nesting(m, "nope"), -ENOENT);
	assert_int_equal(ionest_machine_nesting(NULL, "iommu0"), -EINVAL);
	assert_int_equal(ionest_machine_set_nesting(m, "nope",
						    IONEST_NESTING_HW),
			 -ENOENT);
	assert_int_equal(ionest_machine_set_nesting(m, "iommu0",
						    (enum ionest_nesting)3),
			 -EINVAL);
	assert_int_equal(ionest_machine_set_nesting(m, "iommu0",
						    IONEST_NESTING_SHADOW),
			 0);
	assert_int_equal(ionest_machine_nesting(m, "iommu0"),
			 IONEST_NESTING_SHADOW);
	assert_int_equal(ionest_machine_set_nesting(m, "iommu0",
						    IONEST_NESTING_AUTO),
			 0);
	assert_int_equal(ionest_machine_nesting(m, "iommu0"),
			 IONEST_NESTING_HW);
	/* Fixed while a nested HWPT lives, free again once it is gone. */
	assert_int_equal(nested(e, GUEST_GPA, &id), 0);
	assert_int_equal(ionest_machine_set_nesting(m, "iommu0",
						    IONEST_NESTING_SHADOW),
			 -EBUSY);
	assert_int_equal(ionest_machine_nesting(m, "iommu0"),
			 IONEST_NESTING_HW);
	assert_int_equal(fx_destroy(e->f.fd, id), 0);
	assert_int_equal(
		ionest_machine_set_nesting(m, "iommu0", IONEST_NESTING_HW), 0);
}

/* A part without nesting: AUTO is SHADOW and HW is refused. */
static void test_nesting_mode_no_nest(void **state)
{
	struct ionest_vtd_config c = { .nest = IONEST_CFG(0) };
	struct ionest_machine *m = ionest_machine_new();
	struct ionest_hw *hw = ionest_vtd_new(&c);

	assert_non_null(hw);
	assert_false(ionest_hw_can_nest(hw));
	assert_int_equal(ionest_machine_add_iommu(m, "vtd", hw), 0);
	assert_int_equal(ionest_machine_nesting(m, "vtd"),
			 IONEST_NESTING_SHADOW);
	assert_int_equal(ionest_machine_set_nesting(m, "vtd",
						    IONEST_NESTING_HW),
			 -EOPNOTSUPP);
	assert_int_equal(
		ionest_machine_set_nesting(m, "vtd", IONEST_NESTING_AUTO), 0);
	assert_int_equal(ionest_machine_nesting(m, "vtd"),
			 IONEST_NESTING_SHADOW);
	ionest_machine_free(m);
}

/* ---- HWPT_ALLOC of nested HWPTs ---- */

static void test_alloc_errors(void **state)
{
	struct env *e = *state;
	struct ionest_mock_hwpt_nested d = { .s1_root = GUEST_GPA };
	uint8_t big[32] = { 0 };
	uint32_t plain, auto_id = e->ioas, id, next;
	int fd = e->f.fd;
	uint32_t dev = e->f.devid[0];

	assert_int_equal(fx_hwpt_alloc(fd, dev, e->ioas, 0, &plain), 0);
	/* The parent must be a manual NEST_PARENT paging HWPT. */
	assert_int_equal(nest_mock_nested(fd, dev, plain, 0, GUEST_GPA, 0, 0,
					  NULL),
			 -EINVAL);
	assert_int_equal(fx_attach(&e->f, 1, &auto_id), 0);
	assert_int_equal(nest_mock_nested(fd, dev, auto_id, 0, GUEST_GPA, 0, 0,
					  NULL),
			 -EINVAL);
	/* Flags beyond FAULT_ID_VALID and ALLOC_PASID. */
	assert_int_equal(nest_mock_nested(fd, dev, e->parent,
					  IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
					  GUEST_GPA, 0, 0, NULL),
			 -EOPNOTSUPP);
	assert_int_equal(nest_mock_nested(fd, dev, e->parent,
					  IOMMU_HWPT_ALLOC_NEST_PARENT,
					  GUEST_GPA, 0, 0, NULL),
			 -EOPNOTSUPP);
	assert_int_equal(nest_mock_nested(fd, dev, e->parent, 1u << 7,
					  GUEST_GPA, 0, 0, NULL),
			 -EOPNOTSUPP);
	/* No data: a paging parent needs some for a nested HWPT. */
	assert_int_equal(nest_hwpt_alloc(fd, dev, e->parent, 0,
					 IOMMU_HWPT_DATA_NONE, NULL, 0, 0,
					 NULL),
			 -EOPNOTSUPP);
	/* Type/len consistency comes first. */
	assert_int_equal(nest_hwpt_alloc(fd, dev, e->parent, 0,
					 IONEST_MOCK_HWPT_DATA, &d, 0, 0, NULL),
			 -EINVAL);
	/* Another driver's data type. */
	assert_int_equal(nest_hwpt_alloc(fd, dev, e->parent, 0,
					 IOMMU_HWPT_DATA_VTD_S1, &d, sizeof(d),
					 0, NULL),
			 -EOPNOTSUPP);
	/* Size rules of driver data (Linux 7.3: shorter than the minimum
	 * and longer than the driver's struct are both EINVAL). */
	assert_int_equal(nest_hwpt_alloc(fd, dev, e->parent, 0,
					 IONEST_MOCK_HWPT_DATA, &d, 8, 0, NULL),
			 -EINVAL);
	memcpy(big, &d, sizeof(d));
	assert_int_equal(nest_hwpt_alloc(fd, dev, e->parent, 0,
					 IONEST_MOCK_HWPT_DATA, big,
					 sizeof(big), 0, NULL),
			 -EINVAL);
	assert_int_equal(nest_hwpt_alloc(fd, dev, e->parent, 0,
					 IONEST_MOCK_HWPT_DATA, (void *)8,
					 sizeof(d), 0, NULL),
			 -EFAULT);
	/* Fields of the mock's data. */
	d.__reserved = 1;
	assert_int_equal(nest_hwpt_alloc(fd, dev, e->parent, 0,
					 IONEST_MOCK_HWPT_DATA, &d, sizeof(d),
					 0, NULL),
			 -EOPNOTSUPP);
	assert_int_equal(nest_mock_nested(fd, dev, e->parent, 0, GUEST_GPA,
					  1u << 5, 0, NULL),
			 -EOPNOTSUPP);
	assert_int_equal(nest_mock_nested(fd, dev, e->parent, 0, GUEST_GPA + 8,
					  0, 0, NULL),
			 -EINVAL);
	assert_int_equal(nest_mock_nested(fd, dev, e->parent, 0, 1ull << 52, 0,
					  0, NULL),
			 -EINVAL);
	/* Bypass ignores the root. */
	assert_int_equal(nest_mock_nested(fd, dev, e->parent, 0, 8,
					  IONEST_MOCK_NESTED_BYPASS, 0, &id),
			 0);
	/* Nothing nests on a nested HWPT, a device or an unknown ID. */
	assert_int_equal(nest_mock_nested(fd, dev, id, 0, GUEST_GPA, 0, 0,
					  NULL),
			 -EINVAL);
	assert_int_equal(nest_mock_nested(fd, dev, e->f.devid[1], 0, GUEST_GPA,
					  0, 0, NULL),
			 -EINVAL);
	assert_int_equal(nest_mock_nested(fd, dev, 999, 0, GUEST_GPA, 0, 0,
					  NULL),
			 -EINVAL);
	assert_int_equal(nest_mock_nested(fd, 999, e->parent, 0, GUEST_GPA, 0,
					  0, NULL),
			 -ENOENT);
	/* FAULT_ID_VALID naming no fault queue: ENOENT and the HWPT made on
	 * the way is gone (its ID is the next one handed out). */
	next = fx_ioas(fd);
	assert_int_equal(fx_destroy(fd, next), 0);
	assert_int_equal(nest_mock_nested(fd, dev, e->parent,
					  IOMMU_HWPT_FAULT_ID_VALID, GUEST_GPA,
					  0, e->ioas, NULL),
			 -ENOENT);
	assert_int_equal(fx_ioas(fd), next);
	assert_int_equal(fx_destroy(fd, next), 0);
	/* The object is a HWPT_NESTED. */
	assert_non_null(nest_object(fd, id, IOMMUFD_OBJ_HWPT_NESTED));
	assert_int_equal(fx_destroy(fd, id), 0);
	assert_int_equal(fx_detach(&e->f, 1), 0);
	assert_int_equal(fx_destroy(fd, plain), 0);
}

static void test_lifetime(void **state)
{
	struct env *e = *state;
	uint32_t n1, n2, pt;

	assert_int_equal(nested(e, guest_s1_init(&e->g), &n1), 0);
	assert_int_equal(nested(e, e->g.s1.root, &n2), 0);
	/* The parent (and its IOAS) are busy while nested HWPTs exist. */
	assert_int_equal(fx_destroy(e->f.fd, e->parent), -EBUSY);
	assert_int_equal(fx_destroy(e->f.fd, e->ioas), -EBUSY);
	/* An attached nested HWPT is busy. */
	pt = n1;
	assert_int_equal(fx_attach(&e->f, 0, &pt), 0);
	assert_int_equal(pt, n1);
	assert_int_equal(fx_destroy(e->f.fd, n1), -EBUSY);
	/* Replace moves the reference. */
	pt = n2;
	assert_int_equal(fx_attach(&e->f, 0, &pt), 0);
	assert_int_equal(fx_destroy(e->f.fd, n1), 0);
	assert_int_equal(fx_destroy(e->f.fd, n1), -ENOENT);
	assert_int_equal(fx_destroy(e->f.fd, n2), -EBUSY);
	assert_int_equal(fx_detach(&e->f, 0), 0);
	assert_int_equal(fx_destroy(e->f.fd, n2), 0);
	assert_int_equal(fx_destroy(e->f.fd, e->parent), 0);
	e->parent = 0;
}

/* ---- DMA through a guest stage 1 ---- */

static void test_dma_end_to_end(void **state)
{
	struct env *e = *state;
	uint64_t data = guest_alloc(&e->g, 3 * FX_PAGE);
	uint8_t *host = guest_va(&e->g, data);
	uint32_t n, pt;
	char buf[16] = { 0 };
	struct ionest_dma_fault lf;

	guest_s1_init(&e->g);
	assert_int_equal(guest_s1_map(&e->g, IOVA, data, 2 * FX_PAGE, true), 0);
	assert_int_equal(guest_s1_map(&e->g, IOVA + 2 * FX_PAGE,
				      data + 2 * FX_PAGE, FX_PAGE, false),
			 0);
	/* A stage-1 page whose GPA the parent does not map. */
	assert_int_equal(guest_s1_map(&e->g, IOVA + 3 * FX_PAGE, 0x90000000,
				      FX_PAGE, true),
			 0);
	assert_int_equal(nested(e, e->g.s1.root, &n), 0);
	pt = n;
	assert_int_equal(fx_attach(&e->f, 0, &pt), 0);

	/* Write across the page boundary: IOVA -> GPA -> host. */
	assert_int_equal(fx_dma_write(&e->f, 0, IONEST_NO_PASID,
				      IOVA + FX_PAGE - 3, "nested!", 8),
			 0);
	assert_memory_equal(host + FX_PAGE - 3, "nested!", 8);
	assert_int_equal(fx_dma_read(&e->f, 0, IONEST_NO_PASID,
				     IOVA + FX_PAGE - 3, buf, 8),
			 0);
	assert_string_equal(buf, "nested!");
	/* The other device is not attached: blocked. */
	assert_int_equal(fx_dma_read(&e->f, 1, IONEST_NO_PASID, IOVA, buf, 1),
			 -EFAULT);

	/* Not mapped at stage 1. */
	assert_int_equal(fx_dma_read(&e->f, 0, IONEST_NO_PASID,
				     IOVA + 16 * FX_PAGE, buf, 1),
			 -EFAULT);
	lf = last_fault(e, 0);
	assert_int_equal(lf.code, IONEST_MOCK_FAULT_TRANSLATION);
	assert_false(lf.stage2);
	assert_int_equal(lf.fault_addr, IOVA + 16 * FX_PAGE);
	/* Read-only at stage 1. */
	assert_int_equal(fx_dma_read(&e->f, 0, IONEST_NO_PASID,
				     IOVA + 2 * FX_PAGE, buf, 1),
			 0);
	assert_int_equal(fx_dma_write(&e->f, 0, IONEST_NO_PASID,
				      IOVA + 2 * FX_PAGE, buf, 1),
			 -EFAULT);
	lf = last_fault(e, 0);
	assert_int_equal(lf.code, IONEST_MOCK_FAULT_PERMISSION);
	assert_false(lf.stage2);
	/* The GPA is outside what the parent maps: a stage-2 fault. */
	assert_int_equal(fx_dma_read(&e->f, 0, IONEST_NO_PASID,
				     IOVA + 3 * FX_PAGE + 5, buf, 1),
			 -EFAULT);
	lf = last_fault(e, 0);
	assert_true(lf.stage2);
	assert_int_equal(lf.code, IONEST_MOCK_FAULT_TRANSLATION);
	assert_int_equal(lf.fault_addr, 0x90000005ull);
	assert_int_equal(fx_detach(&e->f, 0), 0);
	assert_int_equal(fx_destroy(e->f.fd, n), 0);
}

static void test_dma_stage1_tables_via_stage2(void **state)
{
	struct env *e = *state;
	uint32_t n, pt;
	uint8_t b = 0;
	struct ionest_dma_fault lf;

	/* A root the parent does not map: the walk's first fetch faults
	 * at stage 2, with the table's GPA. */
	assert_int_equal(nested(e, 0x80000000ull, &n), 0);
	pt = n;
	assert_int_equal(fx_attach(&e->f, 0, &pt), 0);
	assert_int_equal(fx_dma_read(&e->f, 0, IONEST_NO_PASID, IOVA, &b, 1),
			 -EFAULT);
	lf = last_fault(e, 0);
	assert_true(lf.stage2);
	assert_int_equal(lf.fault_addr & ~0xfffull, 0x80000000ull);
	assert_int_equal(fx_detach(&e->f, 0), 0);
	assert_int_equal(fx_destroy(e->f.fd, n), 0);

	/* Bypass: GPA == IOVA. */
	assert_int_equal(nest_mock_nested(e->f.fd, e->f.devid[0], e->parent, 0,
					  0, IONEST_MOCK_NESTED_BYPASS, 0, &n),
			 0);
	pt = n;
	assert_int_equal(fx_attach(&e->f, 0, &pt), 0);
	b = 0x5a;
	assert_int_equal(fx_dma_write(&e->f, 0, IONEST_NO_PASID, GUEST_GPA + 77,
				      &b, 1),
			 0);
	assert_int_equal(e->g.vm.mem[77], 0x5a);
	assert_int_equal(fx_detach(&e->f, 0), 0);
	assert_int_equal(fx_destroy(e->f.fd, n), 0);
}

static void test_large_stage1_pages(void **state)
{
	struct env *e = *state;
	/* A 2M stage-1 page over 4K-or-larger parent pages. */
	uint64_t gpa = GUEST_GPA + (2ull << 20);
	uint32_t n, pt;
	uint32_t v = 0xfeedf00d, r = 0;

	guest_s1_init(&e->g);
	assert_int_equal(
		guest_s1_map(&e->g, 0x40000000ull, gpa, 2ull << 20, true), 0);
	assert_int_equal(nested(e, e->g.s1.root, &n), 0);
	pt = n;
	assert_int_equal(fx_attach(&e->f, 0, &pt), 0);
	assert_int_equal(fx_dma_write(&e->f, 0, IONEST_NO_PASID,
				      0x40000000ull + 0x12344, &v, 4),
			 0);
	memcpy(&r, e->g.vm.mem + (2u << 20) + 0x12344, 4);
	assert_int_equal(r, v);
	assert_int_equal(fx_detach(&e->f, 0), 0);
	assert_int_equal(fx_destroy(e->f.fd, n), 0);
}

/* ---- Caches ---- */

static void test_stale_until_invalidated(void **state)
{
	struct env *e = *state;
	uint64_t d1 = guest_alloc(&e->g, FX_PAGE);
	uint64_t d2 = guest_alloc(&e->g, FX_PAGE);
	struct ionest_mock_invalidate inv = { 0 };
	uint32_t n, pt, num;
	uint8_t b;

	*(uint8_t *)guest_va(&e->g, d1) = 1;
	*(uint8_t *)guest_va(&e->g, d2) = 2;
	guest_s1_init(&e->g);
	assert_int_equal(guest_s1_map(&e->g, IOVA, d1, FX_PAGE, true), 0);
	assert_int_equal(nested(e, e->g.s1.root, &n), 0);
	pt = n;
	assert_int_equal(fx_attach(&e->f, 0, &pt), 0);
	assert_int_equal(fx_dma_read(&e->f, 0, IONEST_NO_PASID, IOVA, &b, 1),
			 0);
	assert_int_equal(b, 1);

	/* The guest retargets the page but does not invalidate: the IOTLB
	 * still has the old translation, as hardware would. */
	assert_int_equal(guest_s1_unmap(&e->g, IOVA, FX_PAGE), 0);
	assert_int_equal(guest_s1_map(&e->g, IOVA, d2, FX_PAGE, true), 0);
	assert_int_equal(fx_dma_read(&e->f, 0, IONEST_NO_PASID, IOVA, &b, 1),
			 0);
	assert_int_equal(b, 1);
	/* A range that does not cover it changes nothing. */
	inv.iova = IOVA + FX_PAGE;
	inv.length = FX_PAGE;
	num = 1;
	assert_int_equal(nest_invalidate(e->f.fd, n,
					 IONEST_MOCK_INVALIDATE_NESTED, &inv,
					 sizeof(inv), &num),
			 0);
	assert_int_equal(num, 1);
	assert_int_equal(fx_dma_read(&e->f, 0, IONEST_NO_PASID, IOVA, &b, 1),
			 0);
	assert_int_equal(b, 1);
	/* One that does. */
	inv.iova = IOVA;
	num = 1;
	assert_int_equal(nest_invalidate(e->f.fd, n,
					 IONEST_MOCK_INVALIDATE_NESTED, &inv,
					 sizeof(inv), &num),
			 0);
	assert_int_equal(fx_dma_read(&e->f, 0, IONEST_NO_PASID, IOVA, &b, 1),
			 0);
	assert_int_equal(b, 2);
	/* Unmap at stage 1 + invalidate all: faults. */
	assert_int_equal(guest_s1_unmap(&e->g, IOVA, FX_PAGE), 0);
	assert_int_equal(nest_inv_all(e->f.fd, n), 0);
	assert_int_equal(fx_dma_read(&e->f, 0, IONEST_NO_PASID, IOVA, &b, 1),
			 -EFAULT);
	assert_int_equal(fx_detach(&e->f, 0), 0);
	assert_int_equal(fx_destroy(e->f.fd, n), 0);
}

static void test_parent_unmap_drops_nested(void **state)
{
	struct env *e = *state;
	uint8_t *page = fx_alloc(FX_PAGE, FX_PAGE);
	uint32_t n, pt;
	uint8_t b = 0;
	struct ionest_dma_fault lf;

	page[0] = 0x77;
	/* A GPA page of its own area, so it can be unmapped alone. */
	assert_int_equal(
		fx_map_fixed(e->f.fd, e->ioas, page, FX_PAGE, 0x50000000), 0);
	guest_s1_init(&e->g);
	assert_int_equal(guest_s1_map(&e->g, IOVA, 0x50000000, FX_PAGE, true),
			 0);
	assert_int_equal(nested(e, e->g.s1.root, &n), 0);
	pt = n;
	assert_int_equal(fx_attach(&e->f, 0, &pt), 0);
	assert_int_equal(fx_dma_read(&e->f, 0, IONEST_NO_PASID, IOVA, &b, 1),
			 0);
	assert_int_equal(b, 0x77);
	/* The host unmaps the GPA: no guest invalidation is needed for the
	 * device to lose it (stage-2 changes drop nested entries). */
	assert_int_equal(fx_unmap(e->f.fd, e->ioas, 0x50000000, FX_PAGE, NULL),
			 0);
	assert_int_equal(fx_dma_read(&e->f, 0, IONEST_NO_PASID, IOVA, &b, 1),
			 -EFAULT);
	lf = last_fault(e, 0);
	assert_true(lf.stage2);
	assert_int_equal(lf.fault_addr, 0x50000000ull);
	assert_int_equal(fx_detach(&e->f, 0), 0);
	assert_int_equal(fx_destroy(e->f.fd, n), 0);
	fx_free(page, FX_PAGE);
}

/* ---- IOMMU_HWPT_INVALIDATE ---- */

static void test_invalidate_rules(void **state)
{
	struct env *e = *state;
	struct ionest_mock_invalidate inv[3] = {
		{ .flags = IONEST_MOCK_INVALIDATE_ALL },
		{ .flags = IONEST_MOCK_INVALIDATE_ALL },
		{ .flags = IONEST_MOCK_INVALIDATE_ALL },
	};
	struct iommu_hwpt_invalidate c;
	uint8_t big[32] = { 0 };
	int fd = e->f.fd;
	uint32_t n, num;

	assert_int_equal(nested(e, guest_s1_init(&e->g), &n), 0);
	/* entry_num 0 probes the data type. */
	num = 0;
	assert_int_equal(nest_invalidate(fd, n, IONEST_MOCK_INVALIDATE_NESTED,
					 NULL, 0, &num),
			 0);
	assert_int_equal(nest_invalidate(fd, n, IONEST_MOCK_INVALIDATE_VIOMMU,
					 NULL, 0, &num),
			 -EINVAL);
	assert_int_equal(nest_invalidate(fd, n,
					 IOMMU_HWPT_INVALIDATE_DATA_VTD_S1, inv,
					 sizeof(inv[0]), &num),
			 -EINVAL);
	/* Targets: nested HWPT or vIOMMU only. */
	assert_int_equal(nest_invalidate(fd, e->parent,
					 IONEST_MOCK_INVALIDATE_NESTED, NULL, 0,
					 &num),
			 -EINVAL);
	assert_int_equal(nest_invalidate(fd, e->ioas,
					 IONEST_MOCK_INVALIDATE_NESTED, NULL, 0,
					 &num),
			 -EINVAL);
	assert_int_equal(nest_invalidate(fd, 999, IONEST_MOCK_INVALIDATE_NESTED,
					 NULL, 0, &num),
			 -ENOENT);
	memset(&c, 0, sizeof(c));
	c.size = sizeof(c);
	c.hwpt_id = n;
	c.data_type = IONEST_MOCK_INVALIDATE_NESTED;
	c.__reserved = 1;
	assert_int_equal(fx_ioctl(fd, IOMMU_HWPT_INVALIDATE, &c), -EOPNOTSUPP);
	/* Array bounds (Linux 7.3), entry_num written back as 0. */
	num = 1;
	assert_int_equal(nest_invalidate(fd, n, IONEST_MOCK_INVALIDATE_NESTED,
					 NULL, sizeof(inv[0]), &num),
			 -EINVAL);
	assert_int_equal(num, 0);
	num = 1;
	assert_int_equal(nest_invalidate(fd, n, IONEST_MOCK_INVALIDATE_NESTED,
					 inv, 0, &num),
			 -EINVAL);
	num = 1;
	assert_int_equal(nest_invalidate(fd, n, IONEST_MOCK_INVALIDATE_NESTED,
					 inv, 4097, &num),
			 -EINVAL);
	num = (1u << 19) + 1;
	assert_int_equal(nest_invalidate(fd, n, IONEST_MOCK_INVALIDATE_NESTED,
					 inv, sizeof(inv[0]), &num),
			 -EINVAL);
	assert_int_equal(num, 0);
	/* Entry size rules: the minimum (20) and exact size work, shorter
	 * and longer (even with a zero tail, Linux 7.3) do not. */
	num = 1;
	assert_int_equal(nest_invalidate(fd, n, IONEST_MOCK_INVALIDATE_NESTED,
					 inv, 20, &num),
			 0);
	assert_int_equal(num, 1);
	num = 1;
	assert_int_equal(nest_invalidate(fd, n, IONEST_MOCK_INVALIDATE_NESTED,
					 inv, 19, &num),
			 -EINVAL);
	assert_int_equal(num, 0);
	memcpy(big, &inv[0], sizeof(inv[0]));
	num = 1;
	assert_int_equal(nest_invalidate(fd, n, IONEST_MOCK_INVALIDATE_NESTED,
					 big, sizeof(big), &num),
			 -EINVAL);
	/* The array is read where it is: an unmapped one is EFAULT. */
	num = 2;
	assert_int_equal(nest_invalidate(fd, n, IONEST_MOCK_INVALIDATE_NESTED,
					 (void *)16, sizeof(inv[0]), &num),
			 -EFAULT);
	assert_int_equal(num, 0);
	/* A bad entry stops the array; entry_num says how many were done. */
	inv[1].flags = 1u << 4;
	num = 3;
	assert_int_equal(nest_invalidate(fd, n, IONEST_MOCK_INVALIDATE_NESTED,
					 inv, sizeof(inv[0]), &num),
			 -EOPNOTSUPP);
	assert_int_equal(num, 1);
	inv[1].flags = IONEST_MOCK_INVALIDATE_ALL;
	inv[1].__reserved = 1;
	num = 3;
	assert_int_equal(nest_invalidate(fd, n, IONEST_MOCK_INVALIDATE_NESTED,
					 inv, sizeof(inv[0]), &num),
			 -EOPNOTSUPP);
	assert_int_equal(num, 1);
	inv[1] = (struct ionest_mock_invalidate){ .iova = 0x1000, .length = 0 };
	num = 3;
	assert_int_equal(nest_invalidate(fd, n, IONEST_MOCK_INVALIDATE_NESTED,
					 inv, sizeof(inv[0]), &num),
			 -EINVAL);
	assert_int_equal(num, 1);
	inv[1].length = 0x800; /* not 4K aligned */
	num = 3;
	assert_int_equal(nest_invalidate(fd, n, IONEST_MOCK_INVALIDATE_NESTED,
					 inv, sizeof(inv[0]), &num),
			 -EINVAL);
	inv[1] = (struct ionest_mock_invalidate){ .iova = ~0xfffull,
						  .length = 0x2000 };
	num = 3;
	assert_int_equal(nest_invalidate(fd, n, IONEST_MOCK_INVALIDATE_NESTED,
					 inv, sizeof(inv[0]), &num),
			 -EINVAL);
	inv[1] = (struct ionest_mock_invalidate){ .iova = 0x1000,
						  .length = 0x1000 };
	num = 3;
	assert_int_equal(nest_invalidate(fd, n, IONEST_MOCK_INVALIDATE_NESTED,
					 inv, sizeof(inv[0]), &num),
			 0);
	assert_int_equal(num, 3);
	assert_int_equal(fx_destroy(fd, n), 0);
}

static void test_invalidate_long_array(void **state)
{
	struct env *e = *state;
	/* Longer than one batch of the core's copy (64 KiB). */
	const uint32_t total = 6000;
	struct ionest_mock_invalidate *inv = calloc(total, sizeof(*inv));
	uint32_t n, num;

	assert_non_null(inv);
	for (uint32_t i = 0; i < total; i++) {
		inv[i].iova = (uint64_t)i << 12;
		inv[i].length = 4096;
	}
	assert_int_equal(nested(e, guest_s1_init(&e->g), &n), 0);
	num = total;
	assert_int_equal(nest_invalidate(e->f.fd, n,
					 IONEST_MOCK_INVALIDATE_NESTED, inv,
					 sizeof(*inv), &num),
			 0);
	assert_int_equal(num, total);
	/* A bad entry in the second batch: the count crosses batches. */
	inv[4000].length = 0;
	num = total;
	assert_int_equal(nest_invalidate(e->f.fd, n,
					 IONEST_MOCK_INVALIDATE_NESTED, inv,
					 sizeof(*inv), &num),
			 -EINVAL);
	assert_int_equal(num, 4000);
	assert_int_equal(fx_destroy(e->f.fd, n), 0);
	free(inv);
}

/* ---- The parent's IOAS: SW MSI window, dirty tracking ---- */

static int iova_ranges(struct env *e, struct iommu_iova_range *r, unsigned n)
{
	struct iommu_ioas_iova_ranges q = {
		.size = sizeof(q),
		.ioas_id = e->ioas,
		.num_iovas = n,
		.allowed_iovas = (uint64_t)(uintptr_t)r,
	};

	assert_int_equal(fx_ioctl(e->f.fd, IOMMU_IOAS_IOVA_RANGES, &q), 0);
	return (int)q.num_iovas;
}

static void test_sw_msi_in_parent(void **state)
{
	struct env *e = *state;
	struct iommu_iova_range r[4];
	uint8_t *page = fx_alloc(FX_PAGE, FX_PAGE);
	uint32_t n, pt, v = 0x12345678;

	guest_s1_init(&e->g);
	/* The guest points an IOVA at the MSI window's GPA. */
	assert_int_equal(guest_s1_map(&e->g, IOVA, FX_MSI_START, FX_PAGE, true),
			 0);
	assert_int_equal(nested(e, e->g.s1.root, &n), 0);
	assert_int_equal(iova_ranges(e, r, 4), 1);
	pt = n;
	assert_int_equal(fx_attach(&e->f, 0, &pt), 0);
	/* Attached to a nested HWPT: the window is reserved in the
	 * parent's IOAS ... */
	assert_int_equal(iova_ranges(e, r, 4), 2);
	assert_int_equal(r[0].last, FX_MSI_START - 1);
	assert_int_equal(r[1].start, FX_MSI_LAST + 1);
	assert_int_equal(fx_map_fixed(e->f.fd, e->ioas, page, FX_PAGE,
				      FX_MSI_START),
			 -EINVAL);
	/* ... and the host mapped its doorbell there: the MSI write goes
	 * IOVA -> GPA (stage 1) -> doorbell (stage 2). */
	assert_int_equal(fx_dma_write(&e->f, 0, IONEST_NO_PASID, IOVA, &v, 4),
			 0);
	/* Detached: both gone, the GPA can be mapped again. */
	assert_int_equal(fx_detach(&e->f, 0), 0);
	assert_int_equal(iova_ranges(e, r, 4), 1);
	assert_int_equal(
		fx_map_fixed(e->f.fd, e->ioas, page, FX_PAGE, FX_MSI_START), 0);
	/* Now the window is taken in the IOAS: attach is refused. */
	pt = n;
	assert_int_equal(fx_attach(&e->f, 0, &pt), -EADDRINUSE);
	assert_int_equal(
		fx_unmap(e->f.fd, e->ioas, FX_MSI_START, FX_PAGE, NULL), 0);
	assert_int_equal(fx_destroy(e->f.fd, n), 0);
	fx_free(page, FX_PAGE);
}

static void test_sw_msi_shared_doorbell(void **state)
{
	struct env *e = *state;
	uint32_t n, pt, v = 1;

	/* Two devices, one paging HWPT (directly and via nested): one
	 * doorbell mapping, gone only with the last user. */
	guest_s1_init(&e->g);
	assert_int_equal(guest_s1_map(&e->g, IOVA, FX_MSI_START, FX_PAGE, true),
			 0);
	assert_int_equal(nested(e, e->g.s1.root, &n), 0);
	pt = n;
	assert_int_equal(fx_attach(&e->f, 0, &pt), 0);
	pt = e->parent;
	assert_int_equal(fx_attach(&e->f, 1, &pt), 0);
	assert_int_equal(fx_dma_write(&e->f, 1, IONEST_NO_PASID, FX_MSI_START,
				      &v, 4),
			 0);
	assert_int_equal(fx_detach(&e->f, 0), 0);
	assert_int_equal(fx_dma_write(&e->f, 1, IONEST_NO_PASID, FX_MSI_START,
				      &v, 4),
			 0);
	assert_int_equal(fx_detach(&e->f, 1), 0);
	assert_int_equal(fx_destroy(e->f.fd, n), 0);
}

static void test_dirty_through_nested(void **state)
{
	struct env *e = *state;
	uint64_t data = guest_alloc(&e->g, FX_PAGE);
	struct iommu_hwpt_set_dirty_tracking s = {
		.size = sizeof(s),
		.flags = IOMMU_HWPT_DIRTY_TRACKING_ENABLE,
		.hwpt_id = e->parent,
	};
	uint64_t bm[GUEST_LEN / FX_PAGE / 64] = { 0 };
	struct iommu_hwpt_get_dirty_bitmap g = {
		.size = sizeof(g),
		.hwpt_id = e->parent,
		.iova = GUEST_GPA,
		.length = GUEST_LEN,
		.page_size = FX_PAGE,
		.data = (uint64_t)(uintptr_t)bm,
	};
	uint32_t n, pt, page = (uint32_t)((data - GUEST_GPA) / FX_PAGE);
	uint8_t b = 3;

	guest_s1_init(&e->g);
	assert_int_equal(guest_s1_map(&e->g, IOVA, data, FX_PAGE, true), 0);
	assert_int_equal(nested(e, e->g.s1.root, &n), 0);
	pt = n;
	assert_int_equal(fx_attach(&e->f, 0, &pt), 0);
	assert_int_equal(fx_ioctl(e->f.fd, IOMMU_HWPT_SET_DIRTY_TRACKING, &s),
			 0);
	/* A read dirties nothing; a write through stage 1 dirties the GPA
	 * page in the parent. */
	assert_int_equal(fx_dma_read(&e->f, 0, IONEST_NO_PASID, IOVA, &b, 1),
			 0);
	assert_int_equal(fx_ioctl(e->f.fd, IOMMU_HWPT_GET_DIRTY_BITMAP, &g), 0);
	for (unsigned i = 0; i < sizeof(bm) / sizeof(bm[0]); i++)
		assert_int_equal(bm[i], 0);
	assert_int_equal(fx_dma_write(&e->f, 0, IONEST_NO_PASID, IOVA, &b, 1),
			 0);
	assert_int_equal(fx_ioctl(e->f.fd, IOMMU_HWPT_GET_DIRTY_BITMAP, &g), 0);
	/* The parent maps guest RAM with 2M leaves: the whole 2M block of
	 * the page reads dirty, nothing else. */
	for (unsigned i = 0; i < sizeof(bm) / sizeof(bm[0]); i++)
		assert_int_equal(bm[i], i / 8 == page / 512 ? ~0ull : 0);
	assert_int_equal(fx_detach(&e->f, 0), 0);
	assert_int_equal(fx_destroy(e->f.fd, n), 0);
}

static void test_replace_paging_nested(void **state)
{
	struct env *e = *state;
	uint64_t data = guest_alloc(&e->g, FX_PAGE);
	uint32_t n, pt;
	uint8_t b = 0;

	*(uint8_t *)guest_va(&e->g, data) = 0x42;
	guest_s1_init(&e->g);
	assert_int_equal(guest_s1_map(&e->g, IOVA, data, FX_PAGE, true), 0);
	assert_int_equal(nested(e, e->g.s1.root, &n), 0);
	/* The parent alone: GPA == IOVA. */
	pt = e->parent;
	assert_int_equal(fx_attach(&e->f, 0, &pt), 0);
	assert_int_equal(fx_dma_read(&e->f, 0, IONEST_NO_PASID, data, &b, 1),
			 0);
	assert_int_equal(b, 0x42);
	assert_int_equal(fx_dma_read(&e->f, 0, IONEST_NO_PASID, IOVA, &b, 1),
			 -EFAULT);
	/* Replace with the nested HWPT (the VFIO attach of an attached
	 * device): stage 1 applies. */
	pt = n;
	assert_int_equal(fx_attach(&e->f, 0, &pt), 0);
	b = 0;
	assert_int_equal(fx_dma_read(&e->f, 0, IONEST_NO_PASID, IOVA, &b, 1),
			 0);
	assert_int_equal(b, 0x42);
	assert_int_equal(fx_dma_read(&e->f, 0, IONEST_NO_PASID, data, &b, 1),
			 -EFAULT);
	/* And back. */
	pt = e->parent;
	assert_int_equal(fx_attach(&e->f, 0, &pt), 0);
	assert_int_equal(fx_dma_read(&e->f, 0, IONEST_NO_PASID, data, &b, 1),
			 0);
	assert_int_equal(fx_destroy(e->f.fd, n), 0);
	assert_int_equal(fx_detach(&e->f, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_nesting_mode, env_up,
						env_down),
		cmocka_unit_test(test_nesting_mode_no_nest),
#define T(fn) cmocka_unit_test_setup_teardown(fn, env_up, env_down)
		T(test_alloc_errors),
		T(test_lifetime),
		T(test_dma_end_to_end),
		T(test_dma_stage1_tables_via_stage2),
		T(test_large_stage1_pages),
		T(test_stale_until_invalidated),
		T(test_parent_unmap_drops_nested),
		T(test_invalidate_rules),
		T(test_invalidate_long_array),
		T(test_sw_msi_in_parent),
		T(test_sw_msi_shared_doorbell),
		T(test_dirty_through_nested),
		T(test_replace_paging_nested),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
