// SPDX-License-Identifier: MIT
/*
 * VT-d nesting against a guest that writes garbage (iommufd-uapi.md §8,
 * spec/vtd.md §7, §11): random first-stage data for nested HWPTs (flags,
 * root pointer, width, reserved field), random first-stage descriptors in
 * guest memory (pointers inside the guest's RAM, beyond it, into stage-2
 * holes and the interrupt range, into the tables themselves, large pages,
 * reserved bits), random invalidation entries. Every ioctl gives 0 or a
 * documented errno; after each piece of garbage the checks of garbage.h
 * hold (DMA faults or stays in the guest's RAM, writes to the interrupt
 * range are interrupt requests, nothing outside the RAM written, the other
 * device works); at the end the invalidation queue never failed and every
 * fault record was consumed. Now and then the guest's memory is restored.
 */
#include <errno.h>
#include <string.h>
#include <ionest/uapi/iommufd.h>

#include "core/nest_util.h"
#include "garbage.h"
#include "vtd_fixture.h"

#define PAGE FX_PAGE
#define RAM_GPA 0x40000000ull
#define RAM_LEN (1ull << 20)
#define IOVA 0x100000ull
#define NDATA 8
#define IOVA1 0x200000ull
#define INTR 0xfee00000ull

struct env {
	struct fx f;
	struct garbage g;
	struct pt s1;
	uint64_t data;
	uint32_t ioas, parent, nested;
	unsigned alloc_ok, alloc_err, inv_err;
};

static int nested_alloc(struct env *e, const struct iommu_hwpt_vtd_s1 *s1,
			uint32_t *id)
{
	return nest_hwpt_alloc(e->f.fd, e->f.devid[0], e->parent, 0,
			       IOMMU_HWPT_DATA_VTD_S1, s1, sizeof(*s1), 0, id);
}

static void attach_nested(struct env *e, uint32_t id)
{
	uint32_t pt = id;

	assert_int_equal(fx_attach(&e->f, 0, &pt), 0);
	if (e->nested)
		assert_int_equal(fx_destroy(e->f.fd, e->nested), 0);
	e->nested = id;
}

static int inv(struct env *e, const struct iommu_hwpt_vtd_s1_invalidate *v,
	       uint32_t n, uint32_t *done)
{
	*done = n;
	return nest_invalidate(e->f.fd, e->nested,
			       IOMMU_HWPT_INVALIDATE_DATA_VTD_S1, v, sizeof(*v),
			       done);
}

static void inv_all(struct env *e)
{
	struct iommu_hwpt_vtd_s1_invalidate v = { .addr = 0,
						  .npages = UINT64_MAX };
	uint32_t done;

	assert_int_equal(inv(e, &v, 1, &done), 0);
	assert_int_equal(done, 1);
}

static void restore(struct env *e)
{
	struct iommu_hwpt_vtd_s1 s1;
	uint32_t id;

	garbage_restore_ram(&e->g);
	assert_int_equal(vm_vtd_s1_data(&e->s1, &s1), 0);
	assert_int_equal(nested_alloc(e, &s1, &id), 0);
	attach_nested(e, id);
	inv_all(e);
}

static void env_setup(struct env *e, uint64_t seed)
{
	const struct vfx_dev devs[] = {
		{ .rid = 0x100, .pasid_bits = 8, .ats = true },
		{ .rid = 0x101, .pasid_bits = 8, .ats = true },
	};
	uint32_t pt;
	void *buf1;

	memset(e, 0, sizeof(*e));
	vfx_setup(&e->f, NULL, 2, devs);
	garbage_init(&e->g, &e->f, vfx_hw(&e->f), seed, RAM_GPA, RAM_LEN, INTR);
	e->ioas = fx_ioas(e->f.fd);
	assert_int_equal(vm_ioas_map(&e->g.vm, e->f.fd, e->ioas), 0);
	assert_int_equal(fx_bind(&e->f, 0), 0);
	assert_int_equal(fx_bind(&e->f, 1), 0);
	assert_int_equal(fx_hwpt_alloc(e->f.fd, e->f.devid[0], e->ioas,
				       IOMMU_HWPT_ALLOC_NEST_PARENT,
				       &e->parent),
			 0);
	assert_int_equal(vm_s1_init(&e->s1, &e->g.vm, VM_S1_X86_64_4L), 0);
	assert_int_equal(vm_alloc(&e->g.vm, 64 * PAGE, &e->data), 0);
	assert_int_equal(vm_s1_map(&e->s1, IOVA, e->data, NDATA * PAGE,
				   PT_PROT_WRITE),
			 0);
	e->g.tables = (size_t)(e->data - RAM_GPA);
	e->g.dev = 0;
	e->g.sid = devs[0].rid;
	e->g.data_iova = IOVA;
	e->g.data_len = NDATA * PAGE;
	garbage_snapshot(&e->g);
	restore(e);
	buf1 = garbage_bystander(&e->g, 1, IOVA1);
	pt = vfx_ioas_map(&e->f, buf1, PAGE, IOVA1);
	assert_int_equal(fx_attach(&e->f, 1, &pt), 0);
}

static void env_teardown(struct env *e)
{
	assert_int_equal(fx_detach(&e->f, 0), 0);
	assert_int_equal(fx_detach(&e->f, 1), 0);
	vfx_teardown(&e->f);
	vm_s1_fini(&e->s1);
	garbage_fini(&e->g);
}

/* ---- Garbage ---- */

static void garbage_s1_data(struct env *e)
{
	static const uint32_t widths[] = { 48, 57, 39, 0, 64, 52 };
	struct garbage *g = &e->g;
	struct iommu_hwpt_vtd_s1 s1;
	uint32_t id;
	int rc;

	assert_int_equal(vm_vtd_s1_data(&e->s1, &s1), 0);
	switch (garbage_below(g, 4)) {
	case 0:
		s1.flags = garbage_rnd(g) & (garbage_below(g, 2) ? 7 : ~0ull);
		break;
	case 1:
		s1.pgtbl_addr = garbage_gpa(g);
		break;
	case 2:
		s1.addr_width = widths[garbage_below(g, 6)];
		break;
	default:
		s1.flags = garbage_below(g, 8);
		s1.pgtbl_addr = garbage_gpa(g) & ~0xfffull;
		s1.__reserved = garbage_below(g, 2) ? 0 :
						      (uint32_t)garbage_rnd(g);
		break;
	}
	rc = nested_alloc(e, &s1, &id);
	garbage_check_errno(rc, "nested HWPT from guest first-stage data");
	if (rc) {
		e->alloc_err++;
		return;
	}
	e->alloc_ok++;
	attach_nested(e, id);
}

static void garbage_s1(struct env *e)
{
	struct garbage *g = &e->g;
	uint64_t *d =
		garbage_gva(g, RAM_GPA + (garbage_below(g, g->tables) & ~7ull));

	switch (garbage_below(g, 5)) {
	case 0:
		*d = garbage_rnd(g);
		break;
	case 1: /* present, user, writable, accessed: to somewhere */
		*d = (garbage_gpa(g) & 0x000ffffffffff000ull) | 0x27;
		break;
	case 2: /* a large page */
		*d = (garbage_gpa(g) & 0x000fffffffe00000ull) | 0xa7;
		break;
	case 3: /* reserved bits */
		*d |= 1ull << (52 + garbage_below(g, 11));
		break;
	default:
		*d ^= 1ull << garbage_below(g, 64);
		break;
	}
	inv_all(e);
}

static void garbage_inv(struct env *e)
{
	struct garbage *g = &e->g;
	struct iommu_hwpt_vtd_s1_invalidate v[8];
	uint32_t n = 1 + (uint32_t)garbage_below(g, 8), done;
	int rc;

	for (uint32_t i = 0; i < n; i++) {
		v[i].addr = garbage_rnd(g) &
			    (garbage_below(g, 2) ? ~0ull : ~0xfffull);
		switch (garbage_below(g, 4)) {
		case 0:
			v[i].npages = 0;
			break;
		case 1:
			v[i].npages = UINT64_MAX;
			break;
		case 2:
			v[i].npages = garbage_below(g, 1024);
			break;
		default:
			v[i].npages = garbage_rnd(g);
			break;
		}
		v[i].flags = (uint32_t)(garbage_below(g, 2) ?
						garbage_below(g, 2) :
						garbage_rnd(g));
		v[i].__reserved =
			garbage_below(g, 4) ? 0 : (uint32_t)garbage_rnd(g);
	}
	rc = inv(e, v, n, &done);
	garbage_check_errno(rc, "nested invalidation");
	assert_true(done <= n);
	assert_true(rc || done == n);
	e->inv_err += rc != 0;
}

static void run(uint64_t seed)
{
	struct env e;
	unsigned n = garbage_iterations(400);

	env_setup(&e, garbage_seed(seed));
	assert_int_equal(vfx_dma(&e.f, 0, IONEST_NO_PASID, IOVA, "ok", 2,
				 IONEST_DMA_TO_MEM),
			 0);
	assert_memory_equal(garbage_gva(&e.g, e.data), "ok", 2);
	for (unsigned it = 0; it < n; it++) {
		switch (garbage_below(&e.g, 8)) {
		case 0:
			restore(&e);
			break;
		case 1:
		case 2:
			garbage_s1_data(&e);
			break;
		case 3:
		case 4:
		case 5:
			garbage_s1(&e);
			break;
		default:
			garbage_inv(&e);
			break;
		}
		garbage_check(&e.g);
	}
	restore(&e);
	assert_int_equal(vfx_dma(&e.f, 0, IONEST_NO_PASID, IOVA + 8, "again", 5,
				 IONEST_DMA_TO_MEM),
			 0);
	assert_memory_equal((uint8_t *)garbage_gva(&e.g, e.data) + 8, "again",
			    5);
	print_message("dma ok %u fault %u; nested alloc ok %u refused %u; "
		      "invalidations refused %u\n",
		      e.g.dma_ok, e.g.dma_fault, e.alloc_ok, e.alloc_err,
		      e.inv_err);
	assert_true(e.g.dma_ok && e.g.dma_fault && e.alloc_ok && e.alloc_err &&
		    e.inv_err);
	env_teardown(&e);
}

static void test_garbage_seed1(void **state)
{
	run(0x7d0001);
}

static void test_garbage_seed2(void **state)
{
	run(0x7d0002);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_garbage_seed1),
		cmocka_unit_test(test_garbage_seed2),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
