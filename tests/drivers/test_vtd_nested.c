// SPDX-License-Identifier: MIT
/*
 * VT-d nesting end to end, as a VMM drives it: guest RAM mapped into the
 * parent IOAS, the guest's first stage built in it in the x86-64 format
 * (lib/pt with an accessor on guest RAM), a NEST_PARENT HWPT and a nested
 * HWPT with IOMMU_HWPT_DATA_VTD_S1 on it, attached by RID and by PASID.
 * Checks: the PGTT=011 PASID entries, DMA through both stages, guest
 * stage-1 changes visible only after HWPT_INVALIDATE, page requests
 * through a fault queue answered and retried, the errors of bad stage-1
 * data and bad invalidation entries, malformed guest tables giving faults,
 * and the host's other devices unaffected.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "pt/pt.h"
#include "util/alloc.h"
#include "vtd_fixture.h"

#define GPA 0x40000000ull /* guest RAM in the parent IOAS */
#define RAM_PAGES 64u
#define RAM (RAM_PAGES * FX_PAGE)
#define DATA0 (GPA + 32 * FX_PAGE) /* guest data pages from here */
#define IOVA 0x7f0000200000ull /* guest virtual (first-stage input) */

struct env {
	struct fx f;
	uint8_t *ram;
	unsigned next_table; /* bump allocator of guest table pages */
	struct pt s1; /* the guest's first stage, in guest RAM */
	uint32_t ioas, parent;
};

/* ---- guest RAM accessor for lib/pt ---- */

static void *g_table(void *ctx, uint64_t pa, size_t size, bool write)
{
	struct env *e = ctx;

	(void)write;
	if (pa < GPA || pa + size > GPA + RAM)
		return NULL;
	return e->ram + (pa - GPA);
}

static int g_alloc(void *ctx, size_t size, uint64_t *pa)
{
	struct env *e = ctx;

	if (size != FX_PAGE || e->next_table >= 32)
		return -ENOMEM;
	*pa = GPA + e->next_table++ * FX_PAGE;
	memset(e->ram + (*pa - GPA), 0, FX_PAGE);
	return 0;
}

static void g_free(void *ctx, uint64_t pa, size_t size)
{
	(void)ctx;
	(void)pa;
	(void)size;
}

static const struct pt_mem_ops g_ops = {
	.table = g_table,
	.alloc = g_alloc,
	.free = g_free,
};

static void s1_map(struct env *e, uint64_t iova, uint64_t gpa)
{
	assert_int_equal(pt_map(&e->s1, iova, gpa, FX_PAGE,
				PT_PROT_READ | PT_PROT_WRITE, FX_PAGE),
			 0);
}

static void s1_unmap(struct env *e, uint64_t iova)
{
	uint64_t unmapped = 0;

	assert_int_equal(pt_unmap(&e->s1, iova, FX_PAGE, 0, NULL, &unmapped),
			 0);
	assert_int_equal(unmapped, FX_PAGE);
}

static uint8_t *gva(struct env *e, uint64_t gpa)
{
	return e->ram + (gpa - GPA);
}

/* Device 0 (and others) bound; guest RAM in an IOAS; a NEST_PARENT HWPT
 * on it; an empty guest first stage. */
static void env_setup_cfg(struct env *e, const struct ionest_vtd_config *cfg,
			  int ndev, const struct vfx_dev *devs)
{
	struct pt_cfg pc = {
		.fmt = PT_FMT_X86_64,
		.granule_shift = 12,
		.ias = 48,
		.oas = 48,
		.start_level = -1,
	};

	memset(e, 0, sizeof(*e));
	e->ram = fx_alloc(RAM, FX_PAGE);
	memset(e->ram, 0, RAM);
	vfx_setup(&e->f, cfg, ndev, devs);
	e->ioas = vfx_ioas_map(&e->f, e->ram, RAM, GPA);
	for (int i = 0; i < ndev; i++)
		assert_int_equal(fx_bind(&e->f, i), 0);
	assert_int_equal(fx_hwpt_alloc(e->f.fd, e->f.devid[0], e->ioas,
				       IOMMU_HWPT_ALLOC_NEST_PARENT |
					       IOMMU_HWPT_ALLOC_PASID,
				       &e->parent),
			 0);
	assert_int_equal(pt_init(&e->s1, &pc,
				 (struct pt_mem){ .ops = &g_ops, .ctx = e }),
			 0);
}

static void env_setup(struct env *e, int ndev)
{
	env_setup_cfg(e, NULL, ndev, NULL);
}

static void env_teardown(struct env *e)
{
	pt_destroy(&e->s1);
	vfx_teardown(&e->f);
	fx_free(e->ram, RAM);
}

static int nested_alloc(struct env *e, uint32_t flags, uint32_t fault_id,
			const struct iommu_hwpt_vtd_s1 *s1, uint32_t len,
			uint32_t type, uint32_t *out)
{
	struct iommu_hwpt_alloc h = {
		.size = sizeof(h),
		.flags = flags,
		.dev_id = e->f.devid[0],
		.pt_id = e->parent,
		.data_type = type,
		.data_len = len,
		.data_uptr = (uint64_t)(uintptr_t)s1,
		.fault_id = fault_id,
	};
	long rc = fx_ioctl(e->f.fd, IOMMU_HWPT_ALLOC, &h);

	if (!rc)
		*out = h.out_hwpt_id;
	return (int)rc;
}

/* A nested HWPT over the guest's first stage (48-bit). */
static uint32_t nested(struct env *e, uint32_t flags)
{
	struct iommu_hwpt_vtd_s1 s1 = { .pgtbl_addr = e->s1.root,
					.addr_width = 48 };
	uint32_t id = 0;

	assert_int_equal(nested_alloc(e, flags, 0, &s1, sizeof(s1),
				      IOMMU_HWPT_DATA_VTD_S1, &id),
			 0);
	return id;
}

static int invalidate(struct env *e, uint32_t hwpt, uint32_t type,
		      const void *entries, uint32_t len, uint32_t *num)
{
	struct iommu_hwpt_invalidate c = {
		.size = sizeof(c),
		.hwpt_id = hwpt,
		.data_uptr = (uint64_t)(uintptr_t)entries,
		.data_type = type,
		.entry_len = len,
		.entry_num = *num,
	};
	long rc = fx_ioctl(e->f.fd, IOMMU_HWPT_INVALIDATE, &c);

	*num = c.entry_num;
	return (int)rc;
}

static int inv1(struct env *e, uint32_t hwpt, uint64_t addr, uint64_t npages,
		uint32_t flags)
{
	struct iommu_hwpt_vtd_s1_invalidate inv = { .addr = addr,
						    .npages = npages,
						    .flags = flags };
	uint32_t n = 1;

	return invalidate(e, hwpt, IOMMU_HWPT_INVALIDATE_DATA_VTD_S1, &inv,
			  sizeof(inv), &n);
}

static int wr(struct env *e, int dev, uint32_t pasid, uint64_t iova, uint8_t v)
{
	return vfx_dma(&e->f, dev, pasid, iova, &v, 1, IONEST_DMA_TO_MEM);
}

static int rd(struct env *e, int dev, uint32_t pasid, uint64_t iova, uint8_t *v)
{
	return vfx_dma(&e->f, dev, pasid, iova, v, 1, IONEST_DMA_FROM_MEM);
}

/* ---- tests ---- */

/* The RID's PASID entry is PGTT=011 with the guest root, the parent's
 * table and DID; DMA goes through both stages to the right byte. */
static void test_nested_attach_dma(void **state)
{
	struct env e;
	const uint64_t *pe;
	uint32_t hw = 0, pt = 0, did_parent;
	uint8_t v = 0;

	(void)state;
	env_setup(&e, 1);
	pt = e.parent;
	assert_int_equal(fx_attach(&e.f, 0, &pt), 0);
	pe = vfx_pe(&e.f, 0x100, 0);
	assert_int_equal(VTD_PE_PGTT(pe[0]), VTD_PGTT_SS);
	did_parent = VTD_PE_DID(pe[1]);

	s1_map(&e, IOVA, DATA0);
	gva(&e, DATA0)[7] = 0x5a;
	hw = nested(&e, 0);
	pt = hw;
	assert_int_equal(fx_attach(&e.f, 0, &pt), 0);
	pe = vfx_pe(&e.f, 0x100, 0);
	assert_true(pe[0] & VTD_PE_P);
	assert_int_equal(VTD_PE_PGTT(pe[0]), VTD_PGTT_NESTED);
	assert_int_equal(VTD_PE_DID(pe[1]), did_parent);
	assert_int_equal(pe[2] & VTD_PE_PTR_MASK, e.s1.root);
	assert_int_equal(VTD_PE_FSPM(pe[2]), 0);
	assert_false(pe[2] & (VTD_PE_SRE | VTD_PE_WPE | VTD_PE_EAFE));

	assert_int_equal(rd(&e, 0, IONEST_NO_PASID, IOVA + 7, &v), 0);
	assert_int_equal(v, 0x5a);
	assert_int_equal(wr(&e, 0, IONEST_NO_PASID, IOVA + 9, 0x99), 0);
	assert_int_equal(gva(&e, DATA0)[9], 0x99);
	/* The guest maps nothing at IOVA + 1 page: a first-stage fault,
	 * recorded by the hardware and consumed by the host driver. */
	assert_int_equal(wr(&e, 0, IONEST_NO_PASID, IOVA + FX_PAGE, 1),
			 -EFAULT);
	assert_int_equal(vfx_last_fault(&e.f, 0).code, VTD_FR_FS_NP);
	assert_true(vfx_drv_counter(&e.f, "fault_record") >= 1);

	/* Back to the parent: second stage only again, GPA = IOVA. */
	pt = e.parent;
	assert_int_equal(fx_attach(&e.f, 0, &pt), 0);
	pe = vfx_pe(&e.f, 0x100, 0);
	assert_int_equal(VTD_PE_PGTT(pe[0]), VTD_PGTT_SS);
	assert_int_equal(wr(&e, 0, IONEST_NO_PASID, DATA0 + 11, 0x11), 0);
	assert_int_equal(gva(&e, DATA0)[11], 0x11);
	assert_int_equal(fx_detach(&e.f, 0), 0);
	assert_int_equal(fx_destroy(e.f.fd, hw), 0);
	env_teardown(&e);
}

/* A guest change is not seen until HWPT_INVALIDATE, then it is. */
static void test_nested_invalidate_visible(void **state)
{
	struct env e;
	uint32_t hw = 0, pt = 0;
	uint64_t before;

	(void)state;
	env_setup(&e, 1);
	s1_map(&e, IOVA, DATA0);
	hw = nested(&e, 0);
	pt = hw;
	assert_int_equal(fx_attach(&e.f, 0, &pt), 0);
	assert_int_equal(wr(&e, 0, IONEST_NO_PASID, IOVA + 1, 0x01), 0);
	assert_int_equal(gva(&e, DATA0)[1], 0x01);

	/* The guest moves IOVA to another page: the IOTLB still has the
	 * old translation. */
	s1_unmap(&e, IOVA);
	s1_map(&e, IOVA, DATA0 + FX_PAGE);
	assert_int_equal(wr(&e, 0, IONEST_NO_PASID, IOVA + 2, 0x02), 0);
	assert_int_equal(gva(&e, DATA0)[2], 0x02);
	assert_int_equal(gva(&e, DATA0 + FX_PAGE)[2], 0);

	before = vfx_drv_counter(&e.f, "s1_inv");
	assert_int_equal(inv1(&e, hw, IOVA, 1, IOMMU_VTD_INV_FLAGS_LEAF), 0);
	assert_true(vfx_drv_counter(&e.f, "s1_inv") > before);
	assert_int_equal(wr(&e, 0, IONEST_NO_PASID, IOVA + 3, 0x03), 0);
	assert_int_equal(gva(&e, DATA0 + FX_PAGE)[3], 0x03);
	assert_int_equal(gva(&e, DATA0)[3], 0);

	/* Again with "everything" (addr 0, U64_MAX pages). */
	s1_unmap(&e, IOVA);
	s1_map(&e, IOVA, DATA0 + 2 * FX_PAGE);
	assert_int_equal(wr(&e, 0, IONEST_NO_PASID, IOVA + 4, 0x04), 0);
	assert_int_equal(gva(&e, DATA0 + FX_PAGE)[4], 0x04);
	assert_int_equal(inv1(&e, hw, 0, UINT64_MAX, 0), 0);
	assert_int_equal(wr(&e, 0, IONEST_NO_PASID, IOVA + 5, 0x05), 0);
	assert_int_equal(gva(&e, DATA0 + 2 * FX_PAGE)[5], 0x05);

	/* The guest unmaps: after the invalidation the DMA faults. */
	s1_unmap(&e, IOVA);
	assert_int_equal(wr(&e, 0, IONEST_NO_PASID, IOVA + 6, 0x06), 0);
	assert_int_equal(inv1(&e, hw, IOVA, 1, 0), 0);
	assert_int_equal(wr(&e, 0, IONEST_NO_PASID, IOVA + 6, 0x06), -EFAULT);

	assert_int_equal(fx_detach(&e.f, 0), 0);
	assert_int_equal(fx_destroy(e.f.fd, hw), 0);
	env_teardown(&e);
}

/* A nested HWPT on a PASID: its own entry, DMA with the PASID through the
 * guest's stage 1, invalidation reaching the PASID (and the device TLB:
 * the function has ATS). */
static void test_nested_pasid(void **state)
{
	struct env e;
	const uint64_t *pe;
	uint32_t hw = 0, pt = 0;
	uint64_t atc;

	(void)state;
	env_setup(&e, 1);
	pt = e.parent;
	assert_int_equal(fx_attach(&e.f, 0, &pt), 0);
	s1_map(&e, IOVA, DATA0);
	hw = nested(&e, IOMMU_HWPT_ALLOC_PASID);
	pt = hw;
	assert_int_equal(fx_attach_pasid(&e.f, 0, 7, &pt), 0);
	pe = vfx_pe(&e.f, 0x100, 7);
	assert_non_null(pe);
	assert_int_equal(VTD_PE_PGTT(pe[0]), VTD_PGTT_NESTED);
	assert_int_equal(pe[2] & VTD_PE_PTR_MASK, e.s1.root);
	/* The RID keeps the parent. */
	assert_int_equal(VTD_PE_PGTT(vfx_pe(&e.f, 0x100, 0)[0]), VTD_PGTT_SS);

	assert_int_equal(wr(&e, 0, 7, IOVA + 1, 0x71), 0);
	assert_int_equal(gva(&e, DATA0)[1], 0x71);
	assert_int_equal(wr(&e, 0, IONEST_NO_PASID, DATA0 + 2, 0x72), 0);
	assert_int_equal(gva(&e, DATA0)[2], 0x72);

	s1_unmap(&e, IOVA);
	s1_map(&e, IOVA, DATA0 + FX_PAGE);
	atc = vfx_drv_counter(&e.f, "atc_inv");
	assert_int_equal(inv1(&e, hw, IOVA, 1, 0), 0);
	assert_true(vfx_drv_counter(&e.f, "atc_inv") > atc);
	assert_int_equal(wr(&e, 0, 7, IOVA + 3, 0x73), 0);
	assert_int_equal(gva(&e, DATA0 + FX_PAGE)[3], 0x73);

	assert_int_equal(fx_detach_pasid(&e.f, 0, 7), 0);
	assert_int_equal(wr(&e, 0, 7, IOVA + 3, 0x73), -EFAULT);
	assert_int_equal(vfx_last_fault(&e.f, 0).code, VTD_FR_PE_NP);
	assert_int_equal(fx_detach(&e.f, 0), 0);
	assert_int_equal(fx_destroy(e.f.fd, hw), 0);
	env_teardown(&e);
}

/* Bad stage-1 data: the documented errnos, nothing allocated. */
static void test_nested_alloc_errors(void **state)
{
	struct env e;
	struct iommu_hwpt_vtd_s1 s1;
	uint32_t id = 0, plain;
	const struct {
		uint64_t flags, addr;
		uint32_t aw, rsvd;
		int err;
	} bad[] = {
		{ 1u << 3, 0, 48, 0, -EOPNOTSUPP }, /* unknown flag */
		{ 0, 0, 48, 1, -EOPNOTSUPP }, /* reserved */
		{ 0, 0, 39, 0, -EINVAL }, /* width */
		{ 0, 0, 0, 0, -EINVAL },
		{ 0, 0x123, 48, 0, -EINVAL }, /* misaligned root */
		{ 0, 1ull << 62, 48, 0, -EINVAL }, /* beyond HAW */
	};

	(void)state;
	env_setup(&e, 1);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		s1 = (struct iommu_hwpt_vtd_s1){
			.flags = bad[i].flags,
			.pgtbl_addr = e.s1.root + bad[i].addr,
			.addr_width = bad[i].aw,
			.__reserved = bad[i].rsvd,
		};
		assert_int_equal(nested_alloc(&e, 0, 0, &s1, sizeof(s1),
					      IOMMU_HWPT_DATA_VTD_S1, &id),
				 bad[i].err);
	}
	s1 = (struct iommu_hwpt_vtd_s1){ .pgtbl_addr = e.s1.root,
					 .addr_width = 48 };
	/* Another vendor's data type, a short struct, a long one. */
	assert_int_equal(nested_alloc(&e, 0, 0, &s1, sizeof(s1),
				      IOMMU_HWPT_DATA_ARM_SMMUV3, &id),
			 -EOPNOTSUPP);
	assert_int_equal(nested_alloc(&e, 0, 0, &s1, 16, IOMMU_HWPT_DATA_VTD_S1,
				      &id),
			 -EINVAL);
	/* Not a nest parent: refused. */
	assert_int_equal(fx_hwpt_alloc(e.f.fd, e.f.devid[0], e.ioas, 0, &plain),
			 0);
	{
		uint32_t save = e.parent;

		e.parent = plain;
		assert_int_not_equal(nested_alloc(&e, 0, 0, &s1, sizeof(s1),
						  IOMMU_HWPT_DATA_VTD_S1, &id),
				     0);
		e.parent = save;
	}
	assert_int_equal(fx_destroy(e.f.fd, plain), 0);
	/* The good one, with the flags the default model supports. */
	s1.flags = IOMMU_VTD_S1_SRE | IOMMU_VTD_S1_WPE | IOMMU_VTD_S1_EAFE;
	s1.addr_width = 57;
	assert_int_equal(nested_alloc(&e, 0, 0, &s1, sizeof(s1),
				      IOMMU_HWPT_DATA_VTD_S1, &id),
			 0);
	{
		uint32_t pt = id;
		const uint64_t *pe;

		assert_int_equal(fx_attach(&e.f, 0, &pt), 0);
		pe = vfx_pe(&e.f, 0x100, 0);
		assert_int_equal(VTD_PE_FSPM(pe[2]), 1);
		assert_true(pe[2] & VTD_PE_SRE);
		assert_true(pe[2] & VTD_PE_WPE);
		assert_true(pe[2] & VTD_PE_EAFE);
		assert_int_equal(fx_detach(&e.f, 0), 0);
	}
	assert_int_equal(fx_destroy(e.f.fd, id), 0);
	env_teardown(&e);
}

/* Capabilities the hardware lacks: 5-level first stage, SRE, EAFE. */
static void test_nested_alloc_caps(void **state)
{
	struct ionest_vtd_config cfg = { .fs5lp = IONEST_CFG(0),
					 .srs = IONEST_CFG(0),
					 .eafs = IONEST_CFG(0) };
	struct env e;
	struct iommu_hwpt_vtd_s1 s1;
	uint32_t id = 0;

	(void)state;
	env_setup_cfg(&e, &cfg, 1, NULL);
	s1 = (struct iommu_hwpt_vtd_s1){ .pgtbl_addr = e.s1.root,
					 .addr_width = 57 };
	assert_int_equal(nested_alloc(&e, 0, 0, &s1, sizeof(s1),
				      IOMMU_HWPT_DATA_VTD_S1, &id),
			 -EINVAL);
	s1.addr_width = 48;
	s1.flags = IOMMU_VTD_S1_SRE;
	assert_int_equal(nested_alloc(&e, 0, 0, &s1, sizeof(s1),
				      IOMMU_HWPT_DATA_VTD_S1, &id),
			 -EINVAL);
	s1.flags = IOMMU_VTD_S1_EAFE;
	assert_int_equal(nested_alloc(&e, 0, 0, &s1, sizeof(s1),
				      IOMMU_HWPT_DATA_VTD_S1, &id),
			 -EINVAL);
	/* WPE alone is accepted and dropped (only meaningful with SRE). */
	s1.flags = IOMMU_VTD_S1_WPE;
	assert_int_equal(nested_alloc(&e, 0, 0, &s1, sizeof(s1),
				      IOMMU_HWPT_DATA_VTD_S1, &id),
			 0);
	{
		uint32_t pt = id;

		assert_int_equal(fx_attach(&e.f, 0, &pt), 0);
		assert_false(vfx_pe(&e.f, 0x100, 0)[2] & VTD_PE_WPE);
		assert_int_equal(fx_detach(&e.f, 0), 0);
	}
	assert_int_equal(fx_destroy(e.f.fd, id), 0);
	env_teardown(&e);
}

/* Bad invalidation entries: errnos per the ABI, entry_num = the number
 * handled before the bad one. */
static void test_nested_invalidate_errors(void **state)
{
	struct env e;
	struct iommu_hwpt_vtd_s1_invalidate inv[3] = {
		{ .addr = IOVA, .npages = 1 },
		{ .addr = IOVA, .npages = 1 },
		{ .addr = IOVA, .npages = 1 },
	};
	uint32_t hw = 0, pt = 0, n;

	(void)state;
	env_setup(&e, 1);
	s1_map(&e, IOVA, DATA0);
	hw = nested(&e, 0);
	pt = hw;
	assert_int_equal(fx_attach(&e.f, 0, &pt), 0);

	n = 3;
	assert_int_equal(invalidate(&e, hw, IOMMU_HWPT_INVALIDATE_DATA_VTD_S1,
				    inv, sizeof(inv[0]), &n),
			 0);
	assert_int_equal(n, 3);
	/* Probe: no entries. */
	n = 0;
	assert_int_equal(invalidate(&e, hw, IOMMU_HWPT_INVALIDATE_DATA_VTD_S1,
				    inv, sizeof(inv[0]), &n),
			 0);
	n = 0;
	assert_int_equal(invalidate(&e, hw,
				    IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3,
				    inv, sizeof(inv[0]), &n),
			 -EINVAL);
	assert_int_equal(n, 0);

	inv[1].flags = 2; /* unknown flag */
	n = 3;
	assert_int_equal(invalidate(&e, hw, IOMMU_HWPT_INVALIDATE_DATA_VTD_S1,
				    inv, sizeof(inv[0]), &n),
			 -EOPNOTSUPP);
	assert_int_equal(n, 1);
	inv[1].flags = 0;
	inv[1].__reserved = 1;
	n = 3;
	assert_int_equal(invalidate(&e, hw, IOMMU_HWPT_INVALIDATE_DATA_VTD_S1,
				    inv, sizeof(inv[0]), &n),
			 -EOPNOTSUPP);
	assert_int_equal(n, 1);
	inv[1].__reserved = 0;
	inv[2].addr = IOVA + 8; /* misaligned */
	n = 3;
	assert_int_equal(invalidate(&e, hw, IOMMU_HWPT_INVALIDATE_DATA_VTD_S1,
				    inv, sizeof(inv[0]), &n),
			 -EINVAL);
	assert_int_equal(n, 2);
	inv[2].addr = IOVA;
	inv[0].npages = UINT64_MAX; /* "everything" must start at 0 */
	n = 3;
	assert_int_equal(invalidate(&e, hw, IOMMU_HWPT_INVALIDATE_DATA_VTD_S1,
				    inv, sizeof(inv[0]), &n),
			 -EINVAL);
	assert_int_equal(n, 0);
	inv[0].npages = 1;
	/* Entries shorter than the struct. */
	n = 3;
	assert_int_equal(invalidate(&e, hw, IOMMU_HWPT_INVALIDATE_DATA_VTD_S1,
				    inv, 16, &n),
			 -EINVAL);
	assert_int_equal(n, 0);
	/* A huge range past the top: everything, accepted. */
	inv[0].npages = UINT64_MAX - 1;
	n = 1;
	assert_int_equal(invalidate(&e, hw, IOMMU_HWPT_INVALIDATE_DATA_VTD_S1,
				    inv, sizeof(inv[0]), &n),
			 0);
	assert_int_equal(n, 1);
	/* The paging parent takes no stage-1 invalidation. */
	n = 1;
	assert_int_not_equal(invalidate(&e, e.parent,
					IOMMU_HWPT_INVALIDATE_DATA_VTD_S1, inv,
					sizeof(inv[0]), &n),
			     0);

	/* The device still works. */
	assert_int_equal(wr(&e, 0, IONEST_NO_PASID, IOVA, 0x42), 0);
	assert_int_equal(gva(&e, DATA0)[0], 0x42);
	assert_int_equal(fx_detach(&e.f, 0), 0);
	assert_int_equal(fx_destroy(e.f.fd, hw), 0);
	env_teardown(&e);
}

/* Malformed guest tables: a root outside guest RAM, a table pointer to a
 * GPA the parent does not map. Faults are recorded (the host consumes
 * them), the host's other device keeps working. */
static void test_nested_malformed_guest(void **state)
{
	struct env e;
	struct iommu_hwpt_vtd_s1 s1 = { .pgtbl_addr = 0x80000000ull,
					.addr_width = 48 };
	uint64_t *root, saved[512];
	uint32_t hw = 0, hw2 = 0, pt = 0, plain = 0;
	uint64_t faults;
	uint8_t *other = fx_alloc(FX_PAGE, FX_PAGE);

	(void)state;
	env_setup(&e, 2);
	/* Root GPA not mapped by the parent. */
	assert_int_equal(nested_alloc(&e, 0, 0, &s1, sizeof(s1),
				      IOMMU_HWPT_DATA_VTD_S1, &hw),
			 0);
	pt = hw;
	assert_int_equal(fx_attach(&e.f, 0, &pt), 0);
	faults = vfx_drv_counter(&e.f, "fault_record");
	assert_int_equal(wr(&e, 0, IONEST_NO_PASID, IOVA, 1), -EFAULT);
	assert_true(vfx_last_fault(&e.f, 0).recorded);
	assert_true(vfx_drv_counter(&e.f, "fault_record") > faults);

	/* A guest root whose entry points outside guest RAM. */
	s1_map(&e, IOVA, DATA0);
	hw2 = nested(&e, 0);
	root = (uint64_t *)(void *)gva(&e, e.s1.root);
	memcpy(saved, root, sizeof(saved));
	for (unsigned i = 0; i < 512; i++)
		if (root[i] & 1)
			root[i] = (root[i] & 0xfffull) | 0x90000000ull;
	pt = hw2;
	assert_int_equal(fx_attach(&e.f, 0, &pt), 0);
	assert_int_equal(wr(&e, 0, IONEST_NO_PASID, IOVA, 2), -EFAULT);
	assert_true(vfx_last_fault(&e.f, 0).recorded);
	/* Reserved bits in a guest entry. */
	for (unsigned i = 0; i < 512; i++)
		if (root[i] & 1)
			root[i] |= 1ull << 7; /* PS at PML4: reserved */
	assert_int_equal(inv1(&e, hw2, 0, UINT64_MAX, 0), 0);
	assert_int_equal(wr(&e, 0, IONEST_NO_PASID, IOVA, 3), -EFAULT);

	/* Device 1 on a plain domain is unaffected. */
	{
		uint32_t io = vfx_ioas_map(&e.f, other, FX_PAGE, 0x1000);

		assert_int_equal(
			fx_hwpt_alloc(e.f.fd, e.f.devid[1], io, 0, &plain), 0);
		pt = plain;
		assert_int_equal(fx_attach(&e.f, 1, &pt), 0);
		assert_int_equal(wr(&e, 1, IONEST_NO_PASID, 0x1000 + 4, 0x44),
				 0);
		assert_int_equal(other[4], 0x44);
		assert_int_equal(fx_detach(&e.f, 1), 0);
		assert_int_equal(fx_destroy(e.f.fd, plain), 0);
	}
	assert_int_equal(fx_detach(&e.f, 0), 0);
	assert_int_equal(fx_destroy(e.f.fd, hw), 0);
	assert_int_equal(fx_destroy(e.f.fd, hw2), 0);
	memcpy(root, saved, sizeof(saved)); /* for pt_destroy */
	env_teardown(&e);
	fx_free(other, FX_PAGE);
}

/* A page request on the guest's stage 1 reaches the fault queue of the
 * nested HWPT; the VMM maps the page in the guest and answers; the retry
 * goes through. */
static void test_nested_page_request(void **state)
{
	const struct vfx_dev devs[] = {
		{ .rid = 0x100, .pasid_bits = 8, .ats = true, .pri = true },
	};
	struct iommu_fault_alloc fa = { .size = sizeof(fa) };
	struct iommu_hwpt_vtd_s1 s1;
	struct iommu_hwpt_pgfault rec;
	struct iommu_hwpt_page_response r;
	struct env e;
	uint32_t hw = 0, pt = 0;

	(void)state;
	env_setup_cfg(&e, NULL, 1, devs);
	s1 = (struct iommu_hwpt_vtd_s1){ .pgtbl_addr = e.s1.root,
					 .addr_width = 48 };
	assert_int_equal(fx_ioctl(e.f.fd, IOMMU_FAULT_QUEUE_ALLOC, &fa), 0);
	assert_int_equal(nested_alloc(&e,
				      IOMMU_HWPT_FAULT_ID_VALID |
					      IOMMU_HWPT_ALLOC_PASID,
				      fa.out_fault_id, &s1, sizeof(s1),
				      IOMMU_HWPT_DATA_VTD_S1, &hw),
			 0);
	assert_false(vfx_ce(&e.f, 0x100)[0] & VTD_CE_PRE);
	pt = hw;
	assert_int_equal(fx_attach(&e.f, 0, &pt), 0);
	assert_true(vfx_ce(&e.f, 0x100)[0] & VTD_CE_PRE);

	/* Nothing mapped by the guest: a page request. */
	assert_int_equal(wr(&e, 0, IONEST_NO_PASID, IOVA + 9, 0x99), -EAGAIN);
	assert_int_equal(vfx_drv_counter(&e.f, "page_request"), 1);
	assert_int_equal(vfx_drv_counter(&e.f, "page_resp"), 0);
	assert_int_equal(ionest_read((int)fa.out_fault_fd, &rec, sizeof(rec)),
			 sizeof(rec));
	assert_int_equal(rec.dev_id, e.f.devid[0]);
	assert_int_equal(rec.addr, IOVA);
	assert_true(rec.flags & IOMMU_PGFAULT_FLAGS_LAST_PAGE);
	assert_false(rec.flags & IOMMU_PGFAULT_FLAGS_PASID_VALID);
	assert_int_equal(rec.perm, IOMMU_PGFAULT_PERM_WRITE);
	/* The guest maps it; the VMM answers. */
	s1_map(&e, IOVA, DATA0);
	r = (struct iommu_hwpt_page_response){
		.cookie = rec.cookie, .code = IOMMUFD_PAGE_RESP_SUCCESS
	};
	assert_int_equal(ionest_write((int)fa.out_fault_fd, &r, sizeof(r)),
			 sizeof(r));
	assert_int_equal(vfx_drv_counter(&e.f, "page_resp"), 1);
	assert_int_equal(wr(&e, 0, IONEST_NO_PASID, IOVA + 9, 0x99), 0);
	assert_int_equal(gva(&e, DATA0)[9], 0x99);
	/* Queue drained and acknowledged. */
	assert_int_equal(vfx_rd64(&e.f, VTD_REG_PQH),
			 vfx_rd64(&e.f, VTD_REG_PQT));
	assert_int_equal(vfx_rd32(&e.f, VTD_REG_PRS) & VTD_PRS_PPR, 0);

	/* An INVALID answer: the retry asks again. */
	assert_int_equal(wr(&e, 0, IONEST_NO_PASID, IOVA + FX_PAGE, 1),
			 -EAGAIN);
	assert_int_equal(ionest_read((int)fa.out_fault_fd, &rec, sizeof(rec)),
			 sizeof(rec));
	assert_int_equal(rec.addr, IOVA + FX_PAGE);
	r = (struct iommu_hwpt_page_response){
		.cookie = rec.cookie, .code = IOMMUFD_PAGE_RESP_INVALID
	};
	assert_int_equal(ionest_write((int)fa.out_fault_fd, &r, sizeof(r)),
			 sizeof(r));
	assert_int_equal(vfx_drv_counter(&e.f, "page_resp"), 2);

	assert_int_equal(fx_detach(&e.f, 0), 0);
	assert_int_equal(ionest_close((int)fa.out_fault_fd), 0);
	assert_int_equal(fx_destroy(e.f.fd, hw), 0);
	env_teardown(&e);
}

/* Without a fault queue, PRE stays clear: a guest stage-1 fault of a PRI
 * device is an ordinary recorded fault kept by the host. */
static void test_nested_no_fault_queue(void **state)
{
	const struct vfx_dev devs[] = {
		{ .rid = 0x100, .pasid_bits = 8, .ats = true, .pri = true },
	};
	struct env e;
	uint32_t hw = 0, pt = 0;

	(void)state;
	env_setup_cfg(&e, NULL, 1, devs);
	hw = nested(&e, 0);
	pt = hw;
	assert_int_equal(fx_attach(&e.f, 0, &pt), 0);
	assert_false(vfx_ce(&e.f, 0x100)[0] & VTD_CE_PRE);
	assert_int_equal(wr(&e, 0, IONEST_NO_PASID, IOVA, 1), -EFAULT);
	assert_int_equal(vfx_last_fault(&e.f, 0).code, VTD_FR_CTX_PRE);
	assert_int_equal(vfx_drv_counter(&e.f, "page_request"), 0);
	assert_int_equal(fx_detach(&e.f, 0), 0);
	assert_int_equal(fx_destroy(e.f.fd, hw), 0);
	env_teardown(&e);
}

/* The parent's unmap reaches nested translations (same DID). */
static void test_nested_parent_unmap(void **state)
{
	const uint64_t extra = 0x50000000ull;
	uint8_t *page = fx_alloc(FX_PAGE, FX_PAGE);
	struct env e;
	uint32_t hw = 0, pt = 0;
	uint64_t unmapped = 0;

	(void)state;
	memset(page, 0, FX_PAGE);
	env_setup(&e, 1);
	assert_int_equal(fx_map_fixed(e.f.fd, e.ioas, page, FX_PAGE, extra), 0);
	s1_map(&e, IOVA, extra);
	hw = nested(&e, 0);
	pt = hw;
	assert_int_equal(fx_attach(&e.f, 0, &pt), 0);
	assert_int_equal(wr(&e, 0, IONEST_NO_PASID, IOVA + 1, 1), 0);
	assert_int_equal(page[1], 1);
	/* The VMM takes the page away from the guest. */
	assert_int_equal(fx_unmap(e.f.fd, e.ioas, extra, FX_PAGE, &unmapped),
			 0);
	assert_int_equal(unmapped, FX_PAGE);
	assert_int_equal(wr(&e, 0, IONEST_NO_PASID, IOVA + 1, 2), -EFAULT);
	assert_true(vfx_last_fault(&e.f, 0).stage2);
	assert_int_equal(page[1], 1);
	assert_int_equal(fx_detach(&e.f, 0), 0);
	assert_int_equal(fx_destroy(e.f.fd, hw), 0);
	env_teardown(&e);
	fx_free(page, FX_PAGE);
}

/* A page request with a PASID: PASID_VALID and the PASID in the record,
 * the answer echoes it (the retry goes through). */
static void test_nested_page_request_pasid(void **state)
{
	const struct vfx_dev devs[] = {
		{ .rid = 0x100, .pasid_bits = 8, .ats = true, .pri = true },
	};
	struct iommu_fault_alloc fa = { .size = sizeof(fa) };
	struct iommu_hwpt_vtd_s1 s1;
	struct iommu_hwpt_pgfault rec;
	struct iommu_hwpt_page_response r;
	struct env e;
	uint32_t hw = 0, pt = 0;
	uint8_t v = 0;

	(void)state;
	env_setup_cfg(&e, NULL, 1, devs);
	pt = e.parent;
	assert_int_equal(fx_attach(&e.f, 0, &pt), 0);
	assert_false(vfx_ce(&e.f, 0x100)[0] & VTD_CE_PRE);
	s1 = (struct iommu_hwpt_vtd_s1){ .pgtbl_addr = e.s1.root,
					 .addr_width = 48 };
	assert_int_equal(fx_ioctl(e.f.fd, IOMMU_FAULT_QUEUE_ALLOC, &fa), 0);
	assert_int_equal(nested_alloc(&e,
				      IOMMU_HWPT_FAULT_ID_VALID |
					      IOMMU_HWPT_ALLOC_PASID,
				      fa.out_fault_id, &s1, sizeof(s1),
				      IOMMU_HWPT_DATA_VTD_S1, &hw),
			 0);
	pt = hw;
	assert_int_equal(fx_attach_pasid(&e.f, 0, 9, &pt), 0);
	assert_true(vfx_ce(&e.f, 0x100)[0] & VTD_CE_PRE);
	assert_int_equal(rd(&e, 0, 9, IOVA + 2 * FX_PAGE, &v), -EAGAIN);
	assert_int_equal(ionest_read((int)fa.out_fault_fd, &rec, sizeof(rec)),
			 sizeof(rec));
	assert_true(rec.flags & IOMMU_PGFAULT_FLAGS_PASID_VALID);
	assert_int_equal(rec.pasid, 9);
	assert_int_equal(rec.addr, IOVA + 2 * FX_PAGE);
	assert_int_equal(rec.perm, IOMMU_PGFAULT_PERM_READ);
	s1_map(&e, IOVA + 2 * FX_PAGE, DATA0);
	gva(&e, DATA0)[1] = 0x31;
	r = (struct iommu_hwpt_page_response){
		.cookie = rec.cookie, .code = IOMMUFD_PAGE_RESP_SUCCESS
	};
	assert_int_equal(ionest_write((int)fa.out_fault_fd, &r, sizeof(r)),
			 sizeof(r));
	assert_int_equal(vfx_drv_counter(&e.f, "page_resp"), 1);
	assert_int_equal(rd(&e, 0, 9, IOVA + 2 * FX_PAGE + 1, &v), 0);
	assert_int_equal(v, 0x31);
	/* The RID (on the parent, no fault queue) faults as before. */
	assert_int_equal(wr(&e, 0, IONEST_NO_PASID, 0x10, 1), -EFAULT);
	assert_int_equal(fx_detach_pasid(&e.f, 0, 9), 0);
	assert_int_equal(fx_detach(&e.f, 0), 0);
	assert_int_equal(ionest_close((int)fa.out_fault_fd), 0);
	assert_int_equal(fx_destroy(e.f.fd, hw), 0);
	env_teardown(&e);
}

/* Dirty tracking on the parent reaches the nested PASID entries (SSADE)
 * and the guest's writes are seen as dirty GPAs. */
static void test_nested_parent_dirty(void **state)
{
	struct iommu_hwpt_set_dirty_tracking dt = { .size = sizeof(dt) };
	struct env e;
	uint32_t parent = 0, hw = 0, pt = 0;

	(void)state;
	env_setup(&e, 1);
	assert_int_equal(fx_hwpt_alloc(e.f.fd, e.f.devid[0], e.ioas,
				       IOMMU_HWPT_ALLOC_NEST_PARENT |
					       IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
				       &parent),
			 0);
	e.parent = parent;
	s1_map(&e, IOVA, DATA0);
	hw = nested(&e, 0);
	pt = hw;
	assert_int_equal(fx_attach(&e.f, 0, &pt), 0);
	assert_false(vfx_pe(&e.f, 0x100, 0)[0] & VTD_PE_SSADE);
	dt.hwpt_id = parent;
	dt.flags = IOMMU_HWPT_DIRTY_TRACKING_ENABLE;
	assert_int_equal(fx_ioctl(e.f.fd, IOMMU_HWPT_SET_DIRTY_TRACKING, &dt),
			 0);
	assert_true(vfx_pe(&e.f, 0x100, 0)[0] & VTD_PE_SSADE);
	assert_int_equal(VTD_PE_PGTT(vfx_pe(&e.f, 0x100, 0)[0]),
			 VTD_PGTT_NESTED);
	assert_int_equal(wr(&e, 0, IONEST_NO_PASID, IOVA + 1, 1), 0);
	assert_int_equal(gva(&e, DATA0)[1], 1);
	dt.flags = 0;
	assert_int_equal(fx_ioctl(e.f.fd, IOMMU_HWPT_SET_DIRTY_TRACKING, &dt),
			 0);
	assert_false(vfx_pe(&e.f, 0x100, 0)[0] & VTD_PE_SSADE);
	assert_int_equal(fx_detach(&e.f, 0), 0);
	assert_int_equal(fx_destroy(e.f.fd, hw), 0);
	assert_int_equal(fx_destroy(e.f.fd, parent), 0);
	env_teardown(&e);
}

/* Every allocation of nested alloc, then of a PASID attach, failing in
 * turn: -ENOMEM and nothing half done (the next try works, ASan sees no
 * leak). */
static void test_nested_alloc_failures(void **state)
{
	struct iommu_hwpt_vtd_s1 s1;
	struct env e;
	unsigned long nth, seen;
	uint32_t hw = 0, pt;
	int rc;

	(void)state;
	env_setup(&e, 1);
	s1_map(&e, IOVA, DATA0);
	s1 = (struct iommu_hwpt_vtd_s1){ .pgtbl_addr = e.s1.root,
					 .addr_width = 48 };
	for (nth = 1; nth < 200; nth++) {
		fault_inject_nth(nth);
		rc = nested_alloc(&e, IOMMU_HWPT_ALLOC_PASID, 0, &s1,
				  sizeof(s1), IOMMU_HWPT_DATA_VTD_S1, &hw);
		seen = fault_inject_nth(0);
		if (rc) {
			assert_int_equal(rc, -ENOMEM);
			continue;
		}
		assert_int_equal(fx_destroy(e.f.fd, hw), 0);
		if (seen < nth)
			break;
	}
	assert_true(nth > 1 && nth < 200);
	hw = nested(&e, IOMMU_HWPT_ALLOC_PASID);
	for (nth = 1; nth < 200; nth++) {
		pt = hw;
		fault_inject_nth(nth);
		rc = fx_attach_pasid(&e.f, 0, 3, &pt);
		seen = fault_inject_nth(0);
		if (rc) {
			assert_int_equal(rc, -ENOMEM);
			assert_int_equal(wr(&e, 0, 3, IOVA + 1, 1), -EFAULT);
			continue;
		}
		assert_int_equal(wr(&e, 0, 3, IOVA + 1, (uint8_t)nth), 0);
		assert_int_equal(gva(&e, DATA0)[1], (uint8_t)nth);
		assert_int_equal(fx_detach_pasid(&e.f, 0, 3), 0);
		if (seen < nth)
			break;
	}
	assert_true(nth > 1 && nth < 200);
	assert_int_equal(fx_destroy(e.f.fd, hw), 0);
	env_teardown(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nested_attach_dma),
		cmocka_unit_test(test_nested_invalidate_visible),
		cmocka_unit_test(test_nested_pasid),
		cmocka_unit_test(test_nested_alloc_errors),
		cmocka_unit_test(test_nested_alloc_caps),
		cmocka_unit_test(test_nested_invalidate_errors),
		cmocka_unit_test(test_nested_malformed_guest),
		cmocka_unit_test(test_nested_page_request),
		cmocka_unit_test(test_nested_no_fault_queue),
		cmocka_unit_test(test_nested_parent_unmap),
		cmocka_unit_test(test_nested_page_request_pasid),
		cmocka_unit_test(test_nested_parent_dirty),
		cmocka_unit_test(test_nested_alloc_failures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
