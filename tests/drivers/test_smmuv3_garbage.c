// SPDX-License-Identifier: MIT
/*
 * SMMUv3 nesting against a guest that writes garbage (iommufd-uapi.md §8,
 * spec/smmuv3.md §10): random STE words for nested HWPTs, random CD table
 * contents and random stage-1 descriptors in guest memory (pointers inside
 * the guest's RAM, beyond it, into the stage-2 holes - the MSI window -,
 * into the tables themselves), random vIOMMU invalidation commands. Every
 * ioctl gives 0 or a documented errno; after each piece of garbage the
 * checks of garbage.h hold (DMA faults or stays in the guest's RAM, nothing
 * outside it written, the other device works); at the end the command queue
 * never failed and no event was lost. Now and then the guest's memory is
 * restored to a good state, so that garbage meets warm caches too.
 */
#include <errno.h>
#include <string.h>
#include <ionest/uapi/iommufd.h>

#include "core/nest_util.h"
#include "garbage.h"
#include "smmu_fixture.h"

#define PAGE FX_PAGE
#define RAM_GPA 0x40000000ull
#define RAM_LEN (1ull << 20)
#define IOVA 0x100000ull /* the guest's data pages */
#define NDATA 8
#define IOVA1 0x200000ull /* device 1's buffer, in its own IOAS */
#define VSID 0x42
#define GASID 5

struct env {
	struct sx x;
	struct garbage g;
	struct pt s1;
	struct vm_cdtab cdt;
	uint64_t data;
	uint32_t ioas, parent, viommu, vdev, nested;
	unsigned alloc_ok, alloc_err, inv_err;
};

static int inv(struct env *e, const uint64_t (*c)[2], uint32_t n,
	       uint32_t *done)
{
	*done = n;
	return nest_invalidate(e->x.f.fd, e->viommu,
			       IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3, c, 16,
			       done);
}

static void inv1(struct env *e, uint64_t c0)
{
	const uint64_t c[1][2] = { { c0, 0 } };
	uint32_t done;

	assert_int_equal(inv(e, c, 1, &done), 0);
	assert_int_equal(done, 1);
}

static int nested_alloc(struct env *e, const uint64_t ste[2], uint32_t *id)
{
	struct iommu_hwpt_arm_smmuv3 d = { .ste = { ste[0], ste[1] } };

	return nest_hwpt_alloc(e->x.f.fd, e->x.f.devid[0], e->viommu, 0,
			       IOMMU_HWPT_DATA_ARM_SMMUV3, &d, sizeof(d), 0,
			       id);
}

/* Device 0 to @id, the nested HWPT it leaves destroyed. */
static void attach_nested(struct env *e, uint32_t id)
{
	uint32_t pt = id;

	assert_int_equal(fx_attach(&e->x.f, 0, &pt), 0);
	if (e->nested)
		assert_int_equal(fx_destroy(e->x.f.fd, e->nested), 0);
	e->nested = id;
}

/* Back to the good guest: RAM as it was, the good STE, everything
 * invalidated. */
static void restore(struct env *e)
{
	uint64_t ste[2];
	uint32_t id;

	garbage_restore_ram(&e->g);
	vm_cdtab_ste(&e->cdt, VM_S1DSS_SSID0, ste);
	assert_int_equal(nested_alloc(e, ste, &id), 0);
	attach_nested(e, id);
	inv1(e, CMD_CFGI_CD_ALL | (uint64_t)VSID << 32);
	inv1(e, CMD_TLBI_NH_ALL);
}

static void env_setup(struct env *e, uint64_t seed)
{
	struct ionest_device_config dc[2] = {
		{ .rid = 0x100, .pasid_bits = 8, .ats = true },
		{ .rid = 0x101, .pasid_bits = 8, .ats = true },
	};
	uint32_t ioas1, pt;
	void *buf1;

	memset(e, 0, sizeof(*e));
	sx_setup_devs(&e->x, NULL, dc, 2);
	garbage_init(&e->g, &e->x.f, e->x.hw, seed, RAM_GPA, RAM_LEN,
		     FX_MSI_START);
	/* The VM: RAM in an IOAS, a nest parent, vIOMMU, vDEVICE. */
	e->ioas = fx_ioas(e->x.f.fd);
	assert_int_equal(vm_ioas_map(&e->g.vm, e->x.f.fd, e->ioas), 0);
	e->parent = sx_hwpt(&e->x, 0, e->ioas, IOMMU_HWPT_ALLOC_NEST_PARENT);
	assert_int_equal(
		nest_viommu_alloc(e->x.f.fd, e->x.f.devid[0], e->parent,
				  IOMMU_VIOMMU_TYPE_ARM_SMMUV3, &e->viommu),
		0);
	assert_int_equal(nest_vdevice_alloc(e->x.f.fd, e->viommu,
					    e->x.f.devid[0], VSID, &e->vdev),
			 0);
	/* The guest: 16 CDs (CD 0 good), a stage 1 with its data pages,
	 * tables first in RAM. */
	assert_int_equal(vm_cdtab_init(&e->cdt, &e->g.vm, 4), 0);
	assert_int_equal(vm_s1_init(&e->s1, &e->g.vm, VM_S1_ARM64_4K), 0);
	assert_int_equal(vm_alloc(&e->g.vm, 64 * PAGE, &e->data), 0);
	assert_int_equal(vm_s1_map(&e->s1, IOVA, e->data, NDATA * PAGE,
				   PT_PROT_WRITE),
			 0);
	assert_int_equal(vm_cd_write(&e->cdt, 0, &e->s1, GASID), 0);
	e->g.tables = (size_t)(e->data - RAM_GPA);
	e->g.dev = 0;
	e->g.sid = dc[0].rid;
	e->g.data_iova = IOVA;
	e->g.data_len = NDATA * PAGE;
	garbage_snapshot(&e->g);
	restore(e);
	/* Device 1 in a domain of its own. */
	buf1 = garbage_bystander(&e->g, 1, IOVA1);
	ioas1 = fx_ioas(e->x.f.fd);
	sx_map(&e->x, ioas1, buf1, PAGE, IOVA1);
	pt = ioas1;
	sx_bind_attach(&e->x, 1, &pt);
}

static void env_teardown(struct env *e)
{
	uint64_t ev[4];

	assert_int_equal(fx_detach(&e->x.f, 0), 0);
	assert_int_equal(fx_detach(&e->x.f, 1), 0);
	while (sx_event(&e->x, ev))
		;
	sx_teardown(&e->x);
	vm_s1_fini(&e->s1);
	garbage_fini(&e->g);
}

/* ---- Garbage ---- */

static void garbage_ste(struct env *e)
{
	struct garbage *g = &e->g;
	uint64_t ste[2];
	uint32_t id;
	int rc;

	vm_cdtab_ste(&e->cdt, (enum vm_s1dss)garbage_below(g, 3), ste);
	switch (garbage_below(g, 4)) {
	case 0: /* anything */
		ste[0] = garbage_rnd(g);
		ste[1] = garbage_rnd(g);
		break;
	case 1: /* a CD table somewhere */
		ste[0] = (ste[0] & ~STE0_CTXPTR) |
			 (garbage_gpa(g) & STE0_CTXPTR);
		break;
	case 2: /* other formats, sizes, configs */
		ste[0] ^= garbage_rnd(g) & 0xf80000000000003eull;
		break;
	default: /* a few bits anywhere */
		ste[garbage_below(g, 2)] ^= 1ull << garbage_below(g, 64);
		ste[garbage_below(g, 2)] ^= 1ull << garbage_below(g, 64);
		break;
	}
	rc = nested_alloc(e, ste, &id);
	garbage_check_errno(rc, "nested HWPT from guest STE");
	if (rc) {
		e->alloc_err++;
		return;
	}
	e->alloc_ok++;
	attach_nested(e, id);
}

static void garbage_cd(struct env *e)
{
	struct garbage *g = &e->g;
	uint64_t *cd = garbage_gva(
		g, vm_cd_gpa(&e->cdt, (uint32_t)garbage_below(g, 16)));

	switch (garbage_below(g, 3)) {
	case 0:
		for (unsigned i = 0; i < 8; i++)
			cd[i] = garbage_rnd(g);
		break;
	case 1: /* valid, a stage 1 somewhere */
		cd[1] = garbage_gpa(g) & ~0xfull;
		cd[0] |= 1ull << 31;
		break;
	default:
		cd[garbage_below(g, 8)] ^= 1ull << garbage_below(g, 64);
		break;
	}
	inv1(e, CMD_CFGI_CD_ALL | (uint64_t)VSID << 32);
}

static void garbage_s1(struct env *e)
{
	struct garbage *g = &e->g;
	uint64_t *d = garbage_gva(
		g,
		RAM_GPA + PAGE + (garbage_below(g, g->tables - PAGE) & ~7ull));

	switch (garbage_below(g, 4)) {
	case 0:
		*d = garbage_rnd(g);
		break;
	case 1: /* a table or page descriptor to somewhere, AF set */
		*d = (garbage_gpa(g) & 0xfffffffff000ull) | 3 | (1ull << 10);
		break;
	case 2: /* a block */
		*d = (garbage_gpa(g) & 0xffffffe00000ull) | 1 | (1ull << 10);
		break;
	default:
		*d ^= 1ull << garbage_below(g, 64);
		break;
	}
	inv1(e, CMD_TLBI_NH_ALL);
}

static void garbage_cmds(struct env *e)
{
	static const uint8_t ops[] = {
		CMD_PREFETCH_CONFIG,
		CMD_PREFETCH_ADDR,
		CMD_CFGI_STE,
		CMD_CFGI_STE_RANGE,
		CMD_CFGI_CD,
		CMD_CFGI_CD_ALL,
		CMD_TLBI_NH_ALL,
		CMD_TLBI_NH_ASID,
		CMD_TLBI_NH_VA,
		CMD_TLBI_NH_VAA,
		CMD_TLBI_EL2_ALL,
		CMD_TLBI_S12_VMALL,
		CMD_TLBI_S2_IPA,
		CMD_TLBI_NSNH_ALL,
		CMD_ATC_INV,
		CMD_PRI_RESP,
		CMD_RESUME,
		CMD_STALL_TERM,
		CMD_SYNC,
	};
	struct garbage *g = &e->g;
	uint64_t c[8][2];
	uint32_t n = 1 + (uint32_t)garbage_below(g, 8), done;
	int rc;

	for (uint32_t i = 0; i < n; i++) {
		c[i][0] = garbage_rnd(g);
		c[i][1] = garbage_rnd(g);
		if (!garbage_below(g, 4))
			continue; /* anything */
		c[i][0] = (c[i][0] & ~0xffull) |
			  ops[garbage_below(g, sizeof(ops))];
		if (garbage_below(g, 2)) /* the vSID, other fields random */
			c[i][0] = (c[i][0] & 0xffffffffull) | (uint64_t)VSID
								      << 32;
		if (garbage_below(g, 2))
			c[i][0] &= 0xffff0000ffff0fffull;
	}
	rc = inv(e, (const uint64_t(*)[2])c, n, &done);
	garbage_check_errno(rc, "vIOMMU invalidation");
	assert_true(done <= n);
	assert_true(rc || done == n);
	e->inv_err += rc != 0;
}

static void run(uint64_t seed)
{
	struct env e;
	uint64_t ev[4];
	unsigned n = garbage_iterations(400);

	env_setup(&e, garbage_seed(seed));
	/* The good guest works. */
	assert_int_equal(
		fx_dma_write(&e.x.f, 0, IONEST_NO_PASID, IOVA, "ok", 2), 0);
	assert_memory_equal(garbage_gva(&e.g, e.data), "ok", 2);
	for (unsigned it = 0; it < n; it++) {
		switch (garbage_below(&e.g, 9)) {
		case 0:
			restore(&e);
			break;
		case 1:
		case 2:
			garbage_ste(&e);
			break;
		case 3:
		case 4:
			garbage_cd(&e);
			break;
		case 5:
		case 6:
			garbage_s1(&e);
			break;
		default:
			garbage_cmds(&e);
			break;
		}
		garbage_check(&e.g);
		while (sx_event(&e.x, ev))
			;
	}
	/* Restored, the guest works again. */
	restore(&e);
	assert_int_equal(fx_dma_write(&e.x.f, 0, IONEST_NO_PASID, IOVA + 8,
				      "again", 5),
			 0);
	assert_memory_equal((uint8_t *)garbage_gva(&e.g, e.data) + 8, "again",
			    5);
	print_message("dma ok %u fault %u pri %u; nested alloc ok %u "
		      "refused %u; invalidations refused %u\n",
		      e.g.dma_ok, e.g.dma_fault, e.g.dma_pri, e.alloc_ok,
		      e.alloc_err, e.inv_err);
	/* Each kind happened. */
	assert_true(e.g.dma_ok && e.g.dma_fault && e.alloc_ok && e.alloc_err &&
		    e.inv_err);
	env_teardown(&e);
}

static void test_garbage_seed1(void **state)
{
	run(0x5eed0001);
}

static void test_garbage_seed2(void **state)
{
	run(0x5eed0002);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_garbage_seed1),
		cmocka_unit_test(test_garbage_seed2),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
