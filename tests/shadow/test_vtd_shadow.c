// SPDX-License-Identifier: MIT
/*
 * Software nesting on VT-d, held against hardware nesting: two machines
 * built the same way, one whose VT-d instance nests in hardware and one in
 * "shadow" mode, driven with the same operations (guest stage-1 maps and
 * unmaps with mixed leaf sizes and permissions, their invalidations,
 * parent unmaps and remaps under live nested mappings, DMA by RID and by
 * PASID). After every correct invalidation every DMA must give the same
 * bytes, the same error and the same fault (reason, stage-2 flag, address,
 * recorded). Directed cases first, then a seeded random sequence.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ionest/ionest.h>

#include "../drivers/vtd_fixture.h"
#include "shadow/shadow_test.h"
#include "scenario/guest.h"

#define GPA 0x40000000ull
#define RAM (8ull << 20) /* tables in the first 2M, data above */
#define CHUNK (64ull << 10) /* parent IOAS areas of the table/low region */
#define DATA (GPA + (2ull << 20))
#define IOVA 0x7f0000000000ull
#define WIN (8ull << 20) /* guest IOVA window */
#define NS 2 /* guest address spaces (nested HWPTs) */
#define PASID 5u
#define SZ_2M (2ull << 20)

struct side {
	struct fx f;
	struct vm vm;
	uint8_t *mem;
	uint32_t ioas, parent, nested[NS];
	struct pt s1[NS];
	bool mapped[RAM / CHUNK]; /* parent areas present */
};

struct pair {
	struct side s[2]; /* [0] hardware nesting, [1] shadow */
	unsigned pri;
};

static const struct vfx_dev devs[2] = {
	{ .rid = 0x100, .pasid_bits = 8, .ats = false },
	{ .rid = 0x108, .pasid_bits = 8, .ats = false },
};

/* Parent areas: 64K chunks, but [4M, 6M) of RAM is one 2M area (so the
 * parent has 2M leaves there). */
static bool chunk_is_big(unsigned c)
{
	uint64_t off = (uint64_t)c * CHUNK;

	return off >= 2 * SZ_2M && off < 3 * SZ_2M;
}

static void side_map_chunk(struct side *s, unsigned c)
{
	uint64_t off = (uint64_t)c * CHUNK, len = CHUNK, iova;
	/* Every fifth data chunk is read-only in the parent: stage-2
	 * permissions under writable guest mappings. */
	bool ro = off >= DATA - GPA && !chunk_is_big(c) && c % 5 == 3;

	if (chunk_is_big(c)) {
		off = 2 * SZ_2M;
		len = SZ_2M;
	}
	iova = GPA + off;
	assert_int_equal(fx_map(s->f.fd, s->ioas, s->mem + off, len, &iova,
				IOMMU_IOAS_MAP_FIXED_IOVA |
					IOMMU_IOAS_MAP_READABLE |
					(ro ? 0 : IOMMU_IOAS_MAP_WRITEABLE)),
			 0);
	for (uint64_t o = off; o < off + len; o += CHUNK)
		s->mapped[o / CHUNK] = true;
}

static int side_unmap_chunk(struct side *s, unsigned c)
{
	uint64_t off = (uint64_t)c * CHUNK, len = CHUNK, unmapped = 0;
	int rc;

	if (chunk_is_big(c)) {
		off = 2 * SZ_2M;
		len = SZ_2M;
	}
	rc = fx_unmap(s->f.fd, s->ioas, GPA + off, len, &unmapped);
	if (!rc)
		for (uint64_t o = off; o < off + len; o += CHUNK)
			s->mapped[o / CHUNK] = false;
	return rc;
}

static void side_setup(struct side *s, int mode,
		       const struct ionest_vtd_config *cfg, bool pri)
{
	struct vfx_dev d[2] = { devs[0], devs[1] };

	d[0].pri = pri;
	memset(s, 0, sizeof(*s));
	vfx_setup(&s->f, cfg, 2, d);
	assert_int_equal(ionest_machine_set_nesting(s->f.m, "iommu0", mode), 0);
	s->mem = fx_alloc(RAM, SZ_2M);
	memset(s->mem, 0, RAM);
	s->vm = (struct vm){
		.mem = s->mem, .gpa = GPA, .len = RAM, .borrowed = true
	};
	for (int i = 0; i < 2; i++)
		assert_int_equal(fx_bind(&s->f, i), 0);
	s->ioas = fx_ioas(s->f.fd);
	assert_int_equal(fx_hwpt_alloc(s->f.fd, s->f.devid[0], s->ioas,
				       IOMMU_HWPT_ALLOC_NEST_PARENT |
					       IOMMU_HWPT_ALLOC_PASID,
				       &s->parent),
			 0);
	for (unsigned c = 0; c < RAM / CHUNK; c++)
		if (!s->mapped[c])
			side_map_chunk(s, c);
	for (int i = 0; i < NS; i++) {
		assert_int_equal(vm_s1_init(&s->s1[i], &s->vm, VM_S1_X86_64_4L),
				 0);
		/* Mixed leaf sizes: 2M pages too. */
		s->s1[i].cfg.pgsize_bitmap |= SZ_2M;
	}
}

static uint32_t nested_alloc(struct side *s, int i, uint32_t fault_id)
{
	struct iommu_hwpt_vtd_s1 d;
	struct iommu_hwpt_alloc h = {
		.size = sizeof(h),
		.flags = IOMMU_HWPT_ALLOC_PASID |
			 (fault_id ? IOMMU_HWPT_FAULT_ID_VALID : 0),
		.dev_id = s->f.devid[0],
		.pt_id = s->parent,
		.data_type = IOMMU_HWPT_DATA_VTD_S1,
		.data_len = sizeof(d),
		.fault_id = fault_id,
	};

	assert_int_equal(vm_vtd_s1_data(&s->s1[i], &d), 0);
	d.flags = IOMMU_VTD_S1_SRE;
	h.data_uptr = (uint64_t)(uintptr_t)&d;
	assert_int_equal(fx_ioctl(s->f.fd, IOMMU_HWPT_ALLOC, &h), 0);
	return h.out_hwpt_id;
}

/* Device 0's RID on space 0, its PASID on space 1, device 1 on space 1. */
static void side_attach(struct side *s)
{
	for (int i = 0; i < NS; i++)
		s->nested[i] = nested_alloc(s, i, 0);
	assert_int_equal(fx_attach(&s->f, 0, &s->nested[0]), 0);
	assert_int_equal(fx_attach_pasid(&s->f, 0, PASID, &s->nested[1]), 0);
	assert_int_equal(fx_attach(&s->f, 1, &s->nested[1]), 0);
}

static void side_teardown(struct side *s)
{
	for (int i = 0; i < NS; i++)
		vm_s1_fini(&s->s1[i]);
	vfx_teardown(&s->f);
	fx_free(s->mem, RAM);
}

static void pair_setup(struct pair *p, const struct ionest_vtd_config *cfg)
{
	side_setup(&p->s[0], IONEST_NESTING_HW, cfg, false);
	side_setup(&p->s[1], IONEST_NESTING_SHADOW, cfg, false);
	for (int k = 0; k < 2; k++)
		side_attach(&p->s[k]);
}

static void pair_teardown(struct pair *p)
{
	for (int k = 0; k < 2; k++)
		side_teardown(&p->s[k]);
}

/* ---- operations, applied to both sides ---- */

static int inv(struct side *s, int i, uint64_t addr, uint64_t npages)
{
	struct iommu_hwpt_vtd_s1_invalidate e = { .addr = addr,
						  .npages = npages };
	struct iommu_hwpt_invalidate c = {
		.size = sizeof(c),
		.hwpt_id = s->nested[i],
		.data_uptr = (uint64_t)(uintptr_t)&e,
		.data_type = IOMMU_HWPT_INVALIDATE_DATA_VTD_S1,
		.entry_len = sizeof(e),
		.entry_num = 1,
	};

	return (int)fx_ioctl(s->f.fd, IOMMU_HWPT_INVALIDATE, &c);
}

static void pair_inv(struct pair *p, int i, uint64_t addr, uint64_t npages)
{
	for (int k = 0; k < 2; k++)
		assert_int_equal(inv(&p->s[k], i, addr, npages), 0);
}

static int s1_map(struct side *s, int i, uint64_t iova, uint64_t gpa,
		  uint64_t size, uint32_t prot)
{
	return pt_map(&s->s1[i], iova, gpa, size, prot, size);
}

static void pair_s1_map(struct pair *p, int i, uint64_t iova, uint64_t gpa,
			uint64_t size, uint32_t prot)
{
	int rc0 = s1_map(&p->s[0], i, iova, gpa, size, prot);

	assert_int_equal(s1_map(&p->s[1], i, iova, gpa, size, prot), rc0);
}

static void pair_s1_unmap(struct pair *p, int i, uint64_t iova, uint64_t size)
{
	for (int k = 0; k < 2; k++) {
		uint64_t u = 0;

		(void)pt_unmap(&p->s[k].s1[i], iova, size, PT_UNMAP_SPLIT, NULL,
			       &u);
	}
}

/* Same outcome on both sides: rc, bytes, the device's last fault. */
static bool pair_dma(struct pair *p, int dev, uint32_t pasid, uint64_t iova,
		     size_t len, int dir, uint8_t fill)
{
	uint8_t buf[2][64];
	int rc[2];
	struct ionest_dma_fault f[2];
	int frc[2];

	assert_true(len <= sizeof(buf[0]));
	for (int k = 0; k < 2; k++) {
		memset(buf[k], fill, sizeof(buf[k]));
		rc[k] = vfx_dma(&p->s[k].f, dev, pasid, iova, buf[k], len, dir);
		frc[k] = ionest_device_last_fault(p->s[k].f.m,
						  p->s[k].f.dev[dev], &f[k]);
	}
	if (rc[0] != rc[1])
		fprintf(stderr,
			"dma dev %d pasid %#x iova %#" PRIx64
			" dir %d: hw %d shadow %d (codes %#x %#x)\n",
			dev, pasid, iova, dir, rc[0], rc[1], f[0].code,
			f[1].code);
	assert_int_equal(rc[0], rc[1]);
	assert_memory_equal(buf[0], buf[1], len);
	shadow_same_fault(frc, f, iova);
	return rc[0] == 0;
}

static void pair_rw(struct pair *p, int dev, uint32_t pasid, uint64_t iova)
{
	(void)pair_dma(p, dev, pasid, iova, 8, IONEST_DMA_TO_MEM, 0x5a);
	(void)pair_dma(p, dev, pasid, iova, 8, IONEST_DMA_FROM_MEM, 0);
}

static uint64_t drv_ctr(struct side *s, const char *name)
{
	return vfx_drv_counter(&s->f, name);
}

static uint64_t data_gpa(unsigned page)
{
	return DATA + (uint64_t)page * FX_PAGE;
}

/* ---- directed cases ---- */

/* The mode is honoured: the shadow side's PASID entries are first-stage
 * only (PGTT=001) over a table of the driver's, with their own DID and FPD;
 * the hardware side's are nested (PGTT=011). */
static void test_mode_entries(void **state)
{
	struct pair p;
	const uint64_t *pe0, *pe1;

	(void)state;
	pair_setup(&p, NULL);
	assert_int_equal(ionest_machine_nesting(p.s[1].f.m, "iommu0"),
			 IONEST_NESTING_SHADOW);
	pe0 = vfx_pe(&p.s[0].f, devs[0].rid, 0);
	pe1 = vfx_pe(&p.s[1].f, devs[0].rid, 0);
	assert_non_null(pe0);
	assert_non_null(pe1);
	assert_int_equal(VTD_PE_PGTT(pe0[0]), VTD_PGTT_NESTED);
	assert_int_equal(VTD_PE_PGTT(pe1[0]), VTD_PGTT_FS);
	assert_true(pe1[0] & VTD_PE_FPD);
	assert_true(pe1[2] & VTD_PE_WPE);
	/* The guest's root is a GPA; the shadow's is the driver's. */
	assert_int_equal(pe0[2] & VTD_PE_PTR_MASK, p.s[0].s1[0].root);
	assert_int_not_equal(pe1[2] & VTD_PE_PTR_MASK, p.s[1].s1[0].root);
	assert_int_not_equal(VTD_PE_DID(pe1[1]), VTD_PE_DID(pe0[1]));
	/* Mode is fixed while nested HWPTs exist. */
	assert_int_equal(ionest_machine_set_nesting(p.s[1].f.m, "iommu0",
						    IONEST_NESTING_HW),
			 -EBUSY);
	pair_teardown(&p);
}

/* Map, invalidate, DMA by RID and by PASID; unmap, invalidate, fault. */
static void test_map_dma_unmap(void **state)
{
	struct pair p;
	uint64_t before;

	(void)state;
	pair_setup(&p, NULL);
	pair_s1_map(&p, 0, IOVA, data_gpa(1), FX_PAGE,
		    PT_PROT_READ | PT_PROT_WRITE);
	pair_s1_map(&p, 1, IOVA + FX_PAGE, data_gpa(2), FX_PAGE,
		    PT_PROT_READ | PT_PROT_WRITE);
	before = drv_ctr(&p.s[1], "shadow_sync");
	pair_inv(&p, 0, IOVA, 1);
	pair_inv(&p, 1, IOVA + FX_PAGE, 1);
	assert_int_equal(drv_ctr(&p.s[1], "shadow_sync"), before + 2);
	pair_rw(&p, 0, IONEST_NO_PASID, IOVA);
	pair_rw(&p, 0, PASID, IOVA + FX_PAGE);
	pair_rw(&p, 1, IONEST_NO_PASID, IOVA + FX_PAGE);
	/* The shadow side wrote the guest's page too. */
	assert_int_equal(p.s[1].mem[data_gpa(1) - GPA], 0x5a);
	/* Not mapped in that space: first-stage not present. */
	pair_rw(&p, 0, IONEST_NO_PASID, IOVA + FX_PAGE);
	assert_int_equal(vfx_last_fault(&p.s[1].f, 0).code, VTD_FR_FS_NP);
	pair_s1_unmap(&p, 0, IOVA, FX_PAGE);
	pair_inv(&p, 0, IOVA, 1);
	pair_rw(&p, 0, IONEST_NO_PASID, IOVA);
	assert_int_equal(vfx_last_fault(&p.s[1].f, 0).code, VTD_FR_FS_NP);
	assert_true(drv_ctr(&p.s[1], "shadow_fault") > 0);
	pair_teardown(&p);
}

/* A write to a clean page: the guest's D bit set on both sides, as the
 * hardware walk does it. A read-only page refuses writes. */
static void test_dirty_and_readonly(void **state)
{
	struct pair p;
	uint32_t perm[2];

	(void)state;
	pair_setup(&p, NULL);
	pair_s1_map(&p, 0, IOVA, data_gpa(3), FX_PAGE,
		    PT_PROT_READ | PT_PROT_WRITE);
	pair_s1_map(&p, 0, IOVA + FX_PAGE, data_gpa(4), FX_PAGE, PT_PROT_READ);
	pair_inv(&p, 0, 0, UINT64_MAX);
	(void)pair_dma(&p, 0, IONEST_NO_PASID, IOVA, 4, IONEST_DMA_FROM_MEM, 0);
	(void)pair_dma(&p, 0, IONEST_NO_PASID, IOVA, 4, IONEST_DMA_TO_MEM, 1);
	for (int k = 0; k < 2; k++)
		assert_int_equal(
			vm_s1_lookup(&p.s[k].s1[0], IOVA, NULL, &perm[k]), 0);
	assert_true(perm[0] & PT_PERM_DIRTY);
	assert_int_equal(perm[0], perm[1]);
	assert_true(drv_ctr(&p.s[1], "shadow_fill") > 0);
	(void)pair_dma(&p, 0, IONEST_NO_PASID, IOVA + FX_PAGE, 4,
		       IONEST_DMA_FROM_MEM, 0);
	(void)pair_dma(&p, 0, IONEST_NO_PASID, IOVA + FX_PAGE, 4,
		       IONEST_DMA_TO_MEM, 1);
	assert_int_equal(vfx_last_fault(&p.s[1].f, 0).code, VTD_FR_WRITE);
	pair_teardown(&p);
}

/* A mapping the guest adds without invalidating is used at once
 * (hardware does not cache not-present entries): the shadow's fault path
 * fills it. */
static void test_fill_without_invalidation(void **state)
{
	struct pair p;

	(void)state;
	pair_setup(&p, NULL);
	pair_s1_map(&p, 0, IOVA + 5 * FX_PAGE, data_gpa(5), FX_PAGE,
		    PT_PROT_READ | PT_PROT_WRITE);
	pair_rw(&p, 0, IONEST_NO_PASID, IOVA + 5 * FX_PAGE);
	assert_true(drv_ctr(&p.s[1], "shadow_fill") > 0);
	pair_teardown(&p);
}

/* Parent unmaps under live nested mappings: of a data page (stage-2
 * fault at its GPA), of the guest's leaf table page (a nested table-read
 * fault), then remapped: the translations come back. */
static void test_parent_unmap(void **state)
{
	struct pair p;
	struct pt_walk_level rec[PT_MAX_LEVELS];
	struct pt_walk w = { .rec = rec };
	unsigned dchunk = (unsigned)((data_gpa(16) - GPA) / CHUNK), tchunk;

	(void)state;
	pair_setup(&p, NULL);
	pair_s1_map(&p, 0, IOVA, data_gpa(16), FX_PAGE,
		    PT_PROT_READ | PT_PROT_WRITE);
	pair_inv(&p, 0, IOVA, 1);
	pair_rw(&p, 0, IONEST_NO_PASID, IOVA);
	for (int k = 0; k < 2; k++)
		assert_int_equal(side_unmap_chunk(&p.s[k], dchunk), 0);
	pair_rw(&p, 0, IONEST_NO_PASID, IOVA);
	assert_int_equal(vfx_last_fault(&p.s[1].f, 0).code, VTD_FR_SS_PERM);
	assert_true(vfx_last_fault(&p.s[1].f, 0).stage2);
	assert_int_equal(vfx_last_fault(&p.s[1].f, 0).fault_addr, data_gpa(16));
	assert_true(drv_ctr(&p.s[1], "shadow_drop") > 0);
	for (int k = 0; k < 2; k++)
		side_map_chunk(&p.s[k], dchunk);
	pair_rw(&p, 0, IONEST_NO_PASID, IOVA);

	/* The guest's last-level table page goes from the parent. */
	assert_int_equal(pt_walk(&p.s[1].s1[0], IOVA, 0, &w), 0);
	tchunk = (unsigned)((rec[w.nrec - 1].table - GPA) / CHUNK);
	for (int k = 0; k < 2; k++)
		assert_int_equal(side_unmap_chunk(&p.s[k], tchunk), 0);
	pair_rw(&p, 0, IONEST_NO_PASID, IOVA);
	assert_true(vfx_last_fault(&p.s[1].f, 0).stage2);
	for (int k = 0; k < 2; k++)
		side_map_chunk(&p.s[k], tchunk);
	pair_rw(&p, 0, IONEST_NO_PASID, IOVA);
	pair_teardown(&p);
}

/* A part without nesting: AUTO is shadow, HW refused, nesting works. */
static void test_part_without_nest(void **state)
{
	struct ionest_vtd_config cfg = { .nest = IONEST_CFG(0) };
	struct side s;

	(void)state;
	side_setup(&s, IONEST_NESTING_AUTO, &cfg, false);
	assert_int_equal(ionest_machine_nesting(s.f.m, "iommu0"),
			 IONEST_NESTING_SHADOW);
	assert_int_equal(ionest_machine_set_nesting(s.f.m, "iommu0",
						    IONEST_NESTING_HW),
			 -EOPNOTSUPP);
	side_attach(&s);
	assert_int_equal(s1_map(&s, 0, IOVA, data_gpa(7), FX_PAGE,
				PT_PROT_READ | PT_PROT_WRITE),
			 0);
	assert_int_equal(inv(&s, 0, IOVA, 1), 0);
	{
		uint8_t v = 0x77, r = 0;

		assert_int_equal(vfx_dma(&s.f, 0, IONEST_NO_PASID, IOVA, &v, 1,
					 IONEST_DMA_TO_MEM),
				 0);
		assert_int_equal(vfx_dma(&s.f, 0, IONEST_NO_PASID, IOVA, &r, 1,
					 IONEST_DMA_FROM_MEM),
				 0);
		assert_int_equal(r, 0x77);
	}
	side_teardown(&s);
}

/* Page requests of a PRI device: a first-stage "not present" or write
 * fault becomes the same page request in both modes (the shadow replays
 * it to the model); a stage-2 fault stays a fault. */
static void test_page_requests(void **state)
{
	struct iommu_fault_alloc fa[2];
	struct iommu_hwpt_pgfault rec[2];
	uint64_t before[2];
	unsigned dchunk = (unsigned)((data_gpa(40) - GPA) / CHUNK);
	struct side *sd[2];
	struct pair p;

	(void)state;
	side_setup(&p.s[0], IONEST_NESTING_HW, NULL, true);
	side_setup(&p.s[1], IONEST_NESTING_SHADOW, NULL, true);
	for (int k = 0; k < 2; k++) {
		sd[k] = &p.s[k];
		fa[k] = (struct iommu_fault_alloc){ .size = sizeof(fa[k]) };
		assert_int_equal(fx_ioctl(sd[k]->f.fd, IOMMU_FAULT_QUEUE_ALLOC,
					  &fa[k]),
				 0);
		sd[k]->nested[0] = nested_alloc(sd[k], 0, fa[k].out_fault_id);
		sd[k]->nested[1] = nested_alloc(sd[k], 1, 0);
		assert_int_equal(fx_attach(&sd[k]->f, 0, &sd[k]->nested[0]), 0);
	}
	/* Nothing mapped: a page request, the same on both sides. */
	(void)pair_dma(&p, 0, IONEST_NO_PASID, IOVA + 9, 1, IONEST_DMA_TO_MEM,
		       1);
	for (int k = 0; k < 2; k++) {
		assert_int_equal(ionest_read((int)fa[k].out_fault_fd, &rec[k],
					     sizeof(rec[k])),
				 sizeof(rec[k]));
		assert_int_equal(vfx_last_fault(&sd[k]->f, 0).status,
				 IONEST_XLATE_PAGE_REQUEST);
	}
	assert_int_equal(rec[0].addr, rec[1].addr);
	assert_int_equal(rec[0].perm, rec[1].perm);
	assert_int_equal(rec[0].flags, rec[1].flags);
	/* The guest maps it read-only, the VMM answers: the retry is a
	 * write fault, again a page request. */
	pair_s1_map(&p, 0, IOVA, data_gpa(41), FX_PAGE, PT_PROT_READ);
	for (int k = 0; k < 2; k++) {
		struct iommu_hwpt_page_response r = {
			.cookie = rec[k].cookie,
			.code = IOMMUFD_PAGE_RESP_SUCCESS,
		};

		assert_int_equal(ionest_write((int)fa[k].out_fault_fd, &r,
					      sizeof(r)),
				 sizeof(r));
	}
	(void)pair_dma(&p, 0, IONEST_NO_PASID, IOVA + 9, 1, IONEST_DMA_TO_MEM,
		       2);
	for (int k = 0; k < 2; k++) {
		struct iommu_hwpt_page_response r;

		assert_int_equal(ionest_read((int)fa[k].out_fault_fd, &rec[k],
					     sizeof(rec[k])),
				 sizeof(rec[k]));
		assert_int_equal(rec[k].perm, IOMMU_PGFAULT_PERM_WRITE);
		r = (struct iommu_hwpt_page_response){
			.cookie = rec[k].cookie,
			.code = IOMMUFD_PAGE_RESP_INVALID,
		};
		assert_int_equal(ionest_write((int)fa[k].out_fault_fd, &r,
					      sizeof(r)),
				 sizeof(r));
	}
	(void)pair_dma(&p, 0, IONEST_NO_PASID, IOVA + 9, 1, IONEST_DMA_FROM_MEM,
		       0);
	/* Mapped by the guest, not by the parent: a stage-2 fault, no
	 * page request on either side. */
	pair_s1_map(&p, 0, IOVA + FX_PAGE, data_gpa(40), FX_PAGE,
		    PT_PROT_READ | PT_PROT_WRITE);
	pair_inv(&p, 0, IOVA + FX_PAGE, 1);
	for (int k = 0; k < 2; k++) {
		assert_int_equal(side_unmap_chunk(sd[k], dchunk), 0);
		before[k] = drv_ctr(sd[k], "page_request");
	}
	(void)pair_dma(&p, 0, IONEST_NO_PASID, IOVA + FX_PAGE, 1,
		       IONEST_DMA_TO_MEM, 3);
	for (int k = 0; k < 2; k++) {
		assert_int_equal(drv_ctr(sd[k], "page_request"), before[k]);
		assert_int_equal(vfx_last_fault(&sd[k]->f, 0).code,
				 VTD_FR_SS_PERM);
		assert_int_equal(fx_detach(&sd[k]->f, 0), 0);
		assert_int_equal(ionest_close((int)fa[k].out_fault_fd), 0);
	}
	pair_teardown(&p);
}

/* ---- the random differential run ---- */

struct leaf {
	uint64_t iova, size;
	bool used;
};

#define NLEAF 64

static void test_random(void **state)
{
	struct test_rng rng;
	uint64_t seed = 0x5eed5eedull;
	const char *env = getenv("IONEST_SHADOW_SEED");
	struct leaf leaves[NS][NLEAF];
	unsigned ops = 6000, dmas = 0, ok = 0;
	struct pair p;

	(void)state;
	if (env)
		seed = strtoull(env, NULL, 0);
	fprintf(stderr, "# shadow differential seed %#" PRIx64 "\n", seed);
	test_rng_seed(&rng, seed);
	memset(leaves, 0, sizeof(leaves));
	pair_setup(&p, NULL);
	for (unsigned op = 0; op < ops; op++) {
		unsigned kind = (unsigned)test_rng_below(&rng, 100);
		int sp = (int)test_rng_below(&rng, NS);
		struct leaf *l = &leaves[sp][test_rng_below(&rng, NLEAF)];

		if (kind < 25 && !l->used) {
			/* Map a leaf (4K, or 2M on a 2M-aligned slot) with
			 * random permissions, then invalidate it. */
			bool big = test_rng_below(&rng, 8) == 0;
			uint64_t size = big ? SZ_2M : FX_PAGE;
			uint64_t slots = WIN / size;
			uint64_t iova =
				IOVA + test_rng_below(&rng, slots) * size;
			uint64_t gpa =
				big ? DATA + test_rng_below(&rng, 3) * SZ_2M :
				      DATA + test_rng_below(&rng, 1536) *
							FX_PAGE;
			uint32_t prot = PT_PROT_READ;

			if (test_rng_below(&rng, 4))
				prot |= PT_PROT_WRITE;
			if (!test_rng_below(&rng, 4))
				prot |= PT_PROT_PRIV;
			int rc = s1_map(&p.s[0], sp, iova, gpa, size, prot);

			assert_int_equal(
				s1_map(&p.s[1], sp, iova, gpa, size, prot), rc);
			if (!rc) {
				l->used = true;
				l->iova = iova;
				l->size = size;
			}
			pair_inv(&p, sp, iova, size / FX_PAGE);
		} else if (kind < 25) {
			continue; /* that slot is in use */
		} else if (kind < 40) {
			if (!l->used)
				continue;
			pair_s1_unmap(&p, sp, l->iova, l->size);
			l->used = false;
			if (test_rng_below(&rng, 2))
				pair_inv(&p, sp, l->iova, l->size / FX_PAGE);
			else
				pair_inv(&p, sp, 0, UINT64_MAX);
		} else if (kind < 46) {
			/* Parent unmap of an area (data, or the guest's
			 * tables) under live nested mappings, or a remap of
			 * one (twice as likely, so most stay mapped). */
			unsigned c =
				(unsigned)test_rng_below(&rng, RAM / CHUNK);
			bool remap = kind >= 42;

			for (unsigned j = 0;
			     j < RAM / CHUNK && p.s[0].mapped[c] == remap; j++)
				c = (c + 1) % (unsigned)(RAM / CHUNK);
			if (p.s[0].mapped[c] == remap)
				continue;
			for (int k = 0; k < 2; k++) {
				if (remap)
					side_map_chunk(&p.s[k], c);
				else
					assert_int_equal(
						side_unmap_chunk(&p.s[k], c),
						0);
			}
		} else {
			/* DMA somewhere in the window, mostly at mapped
			 * leaves. */
			uint64_t iova;
			int dev = (int)test_rng_below(&rng, 2);
			uint32_t pasid = IONEST_NO_PASID;
			size_t len = 1 + test_rng_below(&rng, 16);

			if (dev == 0 && test_rng_below(&rng, 2))
				pasid = PASID;
			sp = (dev == 0 && pasid == IONEST_NO_PASID) ? 0 : 1;
			/* A mapped leaf of that space, three times in four. */
			l = &leaves[sp][test_rng_below(&rng, NLEAF)];
			for (unsigned j = 0; j < NLEAF && !l->used; j++)
				l = &leaves[sp][(l - leaves[sp] + 1) % NLEAF];
			if (l->used && test_rng_below(&rng, 4))
				iova = l->iova + test_rng_below(&rng, l->size);
			else
				iova = IOVA + test_rng_below(&rng, WIN);
			ok += pair_dma(&p, dev, pasid, iova, len,
				       test_rng_below(&rng, 2) ?
					       IONEST_DMA_TO_MEM :
					       IONEST_DMA_FROM_MEM,
				       (uint8_t)op);
			dmas++;
		}
	}
	/* Guest data identical (tables hold A/D bits the two modes set at
	 * different times). */
	assert_memory_equal(p.s[0].mem + (DATA - GPA),
			    p.s[1].mem + (DATA - GPA), RAM - (DATA - GPA));
	fprintf(stderr,
		"# %u operations, %u DMAs compared (%u succeeded); shadow: %" PRIu64
		" syncs, %" PRIu64 " misses, %" PRIu64 " fills, %" PRIu64
		" faults, %" PRIu64 " drops\n",
		ops, dmas, ok, drv_ctr(&p.s[1], "shadow_sync"),
		drv_ctr(&p.s[1], "shadow_miss"),
		drv_ctr(&p.s[1], "shadow_fill"),
		drv_ctr(&p.s[1], "shadow_fault"),
		drv_ctr(&p.s[1], "shadow_drop"));
	/* The run reached every path. */
	assert_true(drv_ctr(&p.s[1], "shadow_fill") > 0);
	assert_true(drv_ctr(&p.s[1], "shadow_fault") > 0);
	assert_true(drv_ctr(&p.s[1], "shadow_drop") > 0);
	pair_teardown(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mode_entries),
		cmocka_unit_test(test_map_dma_unmap),
		cmocka_unit_test(test_dirty_and_readonly),
		cmocka_unit_test(test_fill_without_invalidation),
		cmocka_unit_test(test_parent_unmap),
		cmocka_unit_test(test_part_without_nest),
		cmocka_unit_test(test_page_requests),
		cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
