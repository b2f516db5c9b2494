// SPDX-License-Identifier: MIT
/*
 * Device DMA through the VT-d driver, end to end: RID attachment to IOAS
 * domains, faults the hardware records and the driver consumes, unmap
 * visible to the very next DMA (also under concurrency), page-selective
 * versus domain-selective IOTLB invalidation, replace (atomic for DMA),
 * detach, shared domains, superpages, caching mode, NEST_PARENT.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "pt/pt.h"
#include "vtd_fixture.h"

#define BASE 0x100000ull
#define MB2 (2ull << 20)

static void setup_attached(struct fx *f, const struct ionest_vtd_config *cfg,
			   uint8_t *mem, uint64_t len, uint64_t iova,
			   uint32_t *ioas)
{
	uint32_t pt;

	vfx_setup(f, cfg, 1, NULL);
	*ioas = vfx_ioas_map(f, mem, len, iova);
	assert_int_equal(fx_bind(f, 0), 0);
	pt = *ioas;
	assert_int_equal(fx_attach(f, 0, &pt), 0);
}

static void test_dma_lands(void **state)
{
	uint8_t *mem = fx_alloc(16 * FX_PAGE, FX_PAGE), buf[3 * 4096];
	const uint64_t *pe;
	uint32_t ioas;
	struct fx f;

	(void)state;
	setup_attached(&f, NULL, mem, 16 * FX_PAGE, BASE, &ioas);
	pe = vfx_pe(&f, 0x100, 0);
	assert_true(pe[0] & VTD_PE_P);
	assert_int_equal(VTD_PE_PGTT(pe[0]), VTD_PGTT_SS);
	assert_int_equal(VTD_PE_AW(pe[0]), 2);
	assert_true((pe[0] & VTD_PE_PTR_MASK) != 0);
	assert_false(pe[0] & VTD_PE_SSADE);
	assert_true(VTD_PE_DID(pe[1]) != 0);

	/* A write across three pages lands at the right bytes. */
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	assert_int_equal(vfx_dma(&f, 0, IONEST_NO_PASID, BASE + 5 * 4096 + 100,
				 buf, sizeof(buf), IONEST_DMA_TO_MEM),
			 0);
	assert_memory_equal(mem + 5 * 4096 + 100, buf, sizeof(buf));
	assert_int_equal(mem[5 * 4096 + 99], 0);
	assert_int_equal(mem[5 * 4096 + 100 + sizeof(buf)], 0);
	/* And reads back what the CPU wrote. */
	memset(mem + 15 * 4096, 0x5a, 4096);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(vfx_dma(&f, 0, IONEST_NO_PASID, BASE + 15 * 4096, buf,
				 4096, IONEST_DMA_FROM_MEM),
			 0);
	assert_int_equal(buf[0], 0x5a);
	assert_int_equal(buf[4095], 0x5a);
	vfx_teardown(&f);
	fx_free(mem, 16 * FX_PAGE);
}

static void assert_no_pending_records(struct fx *f)
{
	unsigned nfr = VTD_CAP_NFR(vfx_rd64(f, VTD_REG_CAP)) + 1;
	uint64_t fro = 16ull * VTD_CAP_FRO(vfx_rd64(f, VTD_REG_CAP));

	for (unsigned i = 0; i < nfr; i++)
		assert_false(vfx_rd64(f, fro + 16 * i + 8) & VTD_FRCD_HI_F);
	vfx_check_clean(f);
}

static void test_faults_recorded_and_consumed(void **state)
{
	/* One fault recording register: every fault needs the previous
	 * one consumed to be recorded at all. */
	struct ionest_vtd_config cfg = { .nfr = IONEST_CFG(0) };
	uint8_t *mem = fx_alloc(4 * FX_PAGE, FX_PAGE), b = 1;
	struct ionest_dma_fault flt;
	uint64_t before;
	uint32_t ioas;
	struct fx f;

	(void)state;
	setup_attached(&f, &cfg, mem, 4 * FX_PAGE, BASE, &ioas);
	before = vfx_drv_counter(&f, "fault_record");
	for (int i = 0; i < 5; i++) {
		assert_int_equal(vfx_dma(&f, 0, IONEST_NO_PASID,
					 BASE + 4 * FX_PAGE + i * FX_PAGE, &b,
					 1, IONEST_DMA_TO_MEM),
				 -EFAULT);
		flt = vfx_last_fault(&f, 0);
		assert_int_equal(flt.status, IONEST_XLATE_FAULT);
		/* Not present in the second stage: an SS permission fault
		 * (vtd.md §6, no present bit). */
		assert_int_equal(flt.code, VTD_FR_SS_PERM);
		assert_true(flt.recorded);
		assert_int_equal(flt.iova, BASE + 4 * FX_PAGE + i * FX_PAGE);
		assert_int_equal(vfx_drv_counter(&f, "fault_record"),
				 before + (uint64_t)i + 1);
		assert_no_pending_records(&f);
	}
	/* Beyond the 48-bit input width. */
	assert_int_equal(vfx_dma(&f, 0, IONEST_NO_PASID, 1ull << 50, &b, 1,
				 IONEST_DMA_FROM_MEM),
			 -EFAULT);
	flt = vfx_last_fault(&f, 0);
	assert_int_equal(flt.code, VTD_FR_ADDR_BEYOND);
	assert_true(flt.recorded);
	assert_int_equal(vfx_drv_counter(&f, "fault_overflow"), 0);
	assert_no_pending_records(&f);
	vfx_teardown(&f);
	fx_free(mem, 4 * FX_PAGE);
}

static void test_fault_overflow_cleared(void **state)
{
	/* With the fault event masked (as if its interrupt was lost), two
	 * records fill up and the third fault overflows; unmasking delivers
	 * the event and the driver consumes both records and clears PFO. */
	struct ionest_vtd_config cfg = { .nfr = IONEST_CFG(1) };
	uint8_t *mem = fx_alloc(FX_PAGE, FX_PAGE), b = 0;
	uint64_t rec, ovf;
	uint32_t ioas;
	struct fx f;

	(void)state;
	setup_attached(&f, &cfg, mem, FX_PAGE, BASE, &ioas);
	rec = vfx_drv_counter(&f, "fault_record");
	ovf = vfx_drv_counter(&f, "fault_overflow");
	assert_int_equal(ionest_hw_mmio_write(vfx_hw(&f), VTD_REG_FECTL, 4,
					      VTD_ECTL_IM),
			 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(vfx_dma(&f, 0, IONEST_NO_PASID,
					 BASE + (uint64_t)(i + 1) * FX_PAGE, &b,
					 1, IONEST_DMA_FROM_MEM),
				 -EFAULT);
	assert_true(vfx_rd32(&f, VTD_REG_FSTS) & VTD_FSTS_PFO);
	assert_false(vfx_last_fault(&f, 0).recorded);
	assert_int_equal(vfx_drv_counter(&f, "fault_record"), rec);
	assert_int_equal(ionest_hw_mmio_write(vfx_hw(&f), VTD_REG_FECTL, 4, 0),
			 0);
	assert_int_equal(vfx_drv_counter(&f, "fault_record"), rec + 2);
	assert_int_equal(vfx_drv_counter(&f, "fault_overflow"), ovf + 1);
	assert_no_pending_records(&f);
	/* Recording works again. */
	assert_int_equal(vfx_dma(&f, 0, IONEST_NO_PASID, BASE + 8 * FX_PAGE, &b,
				 1, IONEST_DMA_FROM_MEM),
			 -EFAULT);
	assert_true(vfx_last_fault(&f, 0).recorded);
	assert_int_equal(vfx_drv_counter(&f, "fault_record"), rec + 3);
	vfx_teardown(&f);
	fx_free(mem, FX_PAGE);
}

static void test_blocked_device(void **state)
{
	uint8_t *mem = fx_alloc(FX_PAGE, FX_PAGE), b = 0;
	struct ionest_dma_fault flt;
	uint32_t ioas, pt;
	struct fx f;

	(void)state;
	vfx_setup(&f, NULL, 2, NULL);
	ioas = vfx_ioas_map(&f, mem, FX_PAGE, BASE);
	/* Probed, never bound: blocked. */
	assert_int_equal(vfx_dma(&f, 1, IONEST_NO_PASID, BASE, &b, 1,
				 IONEST_DMA_FROM_MEM),
			 -EFAULT);
	flt = vfx_last_fault(&f, 1);
	assert_int_equal(flt.code, VTD_FR_PE_NP);
	assert_true(flt.recorded);
	/* Bound, not attached: blocked. */
	assert_int_equal(fx_bind(&f, 0), 0);
	assert_int_equal(vfx_dma(&f, 0, IONEST_NO_PASID, BASE, &b, 1,
				 IONEST_DMA_FROM_MEM),
			 -EFAULT);
	/* Attached, then detached: blocked again, entry not present. */
	pt = ioas;
	assert_int_equal(fx_attach(&f, 0, &pt), 0);
	assert_int_equal(vfx_dma(&f, 0, IONEST_NO_PASID, BASE, &b, 1,
				 IONEST_DMA_FROM_MEM),
			 0);
	assert_int_equal(fx_detach(&f, 0), 0);
	assert_false(vfx_pe(&f, 0x100, 0)[0] & VTD_PE_P);
	assert_int_equal(vfx_pe(&f, 0x100, 0)[1], 0);
	assert_int_equal(vfx_dma(&f, 0, IONEST_NO_PASID, BASE, &b, 1,
				 IONEST_DMA_FROM_MEM),
			 -EFAULT);
	assert_int_equal(vfx_last_fault(&f, 0).code, VTD_FR_PE_NP);
	pt = ioas;
	assert_int_equal(fx_attach(&f, 0, &pt), 0);
	assert_int_equal(vfx_dma(&f, 0, IONEST_NO_PASID, BASE, &b, 1,
				 IONEST_DMA_FROM_MEM),
			 0);
	vfx_teardown(&f);
	fx_free(mem, FX_PAGE);
}

static void test_unmap_visible_to_next_dma(void **state)
{
	uint8_t *mem = fx_alloc(4 * MB2, MB2), b = 0;
	uint64_t hits;
	uint32_t ioas, pt;
	struct fx f;

	(void)state;
	vfx_setup(&f, NULL, 1, NULL);
	ioas = fx_ioas(f.fd);
	assert_int_equal(fx_bind(&f, 0), 0);
	pt = ioas;
	assert_int_equal(fx_attach(&f, 0, &pt), 0);
	for (int i = 0; i < 40; i++) {
		/* 4K pages, and a 2M superpage every other round. */
		uint64_t len = (i & 1) ? MB2 : 4 * FX_PAGE;
		uint64_t iova = (i & 1) ? 4 * MB2 : BASE + (uint64_t)i * len;

		assert_int_equal(fx_map_fixed(f.fd, ioas, mem, len, iova), 0);
		assert_int_equal(vfx_dma(&f, 0, IONEST_NO_PASID, iova + len - 1,
					 &b, 1, IONEST_DMA_FROM_MEM),
				 0);
		hits = vfx_hw_counter(&f, "tlb_hit");
		assert_int_equal(vfx_dma(&f, 0, IONEST_NO_PASID, iova + len - 1,
					 &b, 1, IONEST_DMA_TO_MEM),
				 0);
		/* The translation is cached: only invalidation can make the
		 * next DMA fail. */
		assert_int_equal(vfx_hw_counter(&f, "tlb_hit"), hits + 1);
		assert_int_equal(fx_unmap(f.fd, ioas, iova, len, NULL), 0);
		assert_int_equal(vfx_dma(&f, 0, IONEST_NO_PASID, iova + len - 1,
					 &b, 1, IONEST_DMA_FROM_MEM),
				 -EFAULT);
		assert_int_equal(vfx_dma(&f, 0, IONEST_NO_PASID, iova, &b, 1,
					 IONEST_DMA_TO_MEM),
				 -EFAULT);
	}
	vfx_teardown(&f);
	fx_free(mem, 4 * MB2);
}

/* Warm the IOTLB for A and B, unmap A: is B still cached? */
static bool b_survives_unmap(const struct ionest_vtd_config *cfg,
			     uint64_t a_len)
{
	uint8_t *mem = fx_alloc(16 * FX_PAGE, FX_PAGE), b = 0;
	uint64_t hits;
	uint32_t ioas;
	struct fx f;
	bool kept;

	setup_attached(&f, cfg, mem, a_len, BASE, &ioas);
	assert_int_equal(fx_map_fixed(f.fd, ioas, mem + 8 * FX_PAGE, FX_PAGE,
				      0x40000000),
			 0);
	assert_int_equal(vfx_dma(&f, 0, IONEST_NO_PASID, BASE, &b, 1,
				 IONEST_DMA_FROM_MEM),
			 0);
	assert_int_equal(vfx_dma(&f, 0, IONEST_NO_PASID, 0x40000000, &b, 1,
				 IONEST_DMA_FROM_MEM),
			 0);
	assert_int_equal(fx_unmap(f.fd, ioas, BASE, a_len, NULL), 0);
	hits = vfx_hw_counter(&f, "tlb_hit");
	assert_int_equal(vfx_dma(&f, 0, IONEST_NO_PASID, 0x40000000, &b, 1,
				 IONEST_DMA_FROM_MEM),
			 0);
	kept = vfx_hw_counter(&f, "tlb_hit") == hits + 1;
	assert_int_equal(vfx_dma(&f, 0, IONEST_NO_PASID, BASE, &b, 1,
				 IONEST_DMA_FROM_MEM),
			 -EFAULT);
	vfx_teardown(&f);
	fx_free(mem, 16 * FX_PAGE);
	return kept;
}

static void test_page_selective_invalidation(void **state)
{
	struct ionest_vtd_config no_psi = { .psi = IONEST_CFG(0) };
	struct ionest_vtd_config mamv0 = { .mamv = IONEST_CFG(0) };

	(void)state;
	/* PSI: the unmapped range only. */
	assert_true(b_survives_unmap(NULL, FX_PAGE));
	assert_true(b_survives_unmap(NULL, 8 * FX_PAGE));
	/* No PSI, or a range beyond MAMV: the whole domain. */
	assert_false(b_survives_unmap(&no_psi, FX_PAGE));
	assert_true(b_survives_unmap(&mamv0, FX_PAGE));
	assert_false(b_survives_unmap(&mamv0, 2 * FX_PAGE));
}

static void test_replace_rid(void **state)
{
	uint8_t *m1 = fx_alloc(FX_PAGE, FX_PAGE),
		*m2 = fx_alloc(FX_PAGE, FX_PAGE);
	uint8_t b = 0x11;
	uint32_t io1, io2, h1, h2, pt;
	uint16_t d1, d2;
	struct fx f;

	(void)state;
	vfx_setup(&f, NULL, 1, NULL);
	io1 = vfx_ioas_map(&f, m1, FX_PAGE, BASE);
	io2 = vfx_ioas_map(&f, m2, FX_PAGE, BASE);
	assert_int_equal(fx_bind(&f, 0), 0);
	assert_int_equal(fx_hwpt_alloc(f.fd, f.devid[0], io1, 0, &h1), 0);
	assert_int_equal(fx_hwpt_alloc(f.fd, f.devid[0], io2, 0, &h2), 0);
	pt = h1;
	assert_int_equal(fx_attach(&f, 0, &pt), 0);
	d1 = VTD_PE_DID(vfx_pe(&f, 0x100, 0)[1]);
	assert_int_equal(vfx_dma(&f, 0, IONEST_NO_PASID, BASE, &b, 1,
				 IONEST_DMA_TO_MEM),
			 0);
	assert_int_equal(m1[0], 0x11);
	/* Replace: the next DMA goes to the new domain (cached
	 * translations of the old one are gone). */
	pt = h2;
	assert_int_equal(fx_attach(&f, 0, &pt), 0);
	d2 = VTD_PE_DID(vfx_pe(&f, 0x100, 0)[1]);
	assert_true(d1 != d2);
	b = 0x22;
	assert_int_equal(vfx_dma(&f, 0, IONEST_NO_PASID, BASE, &b, 1,
				 IONEST_DMA_TO_MEM),
			 0);
	assert_int_equal(m2[0], 0x22);
	assert_int_equal(m1[0], 0x11);
	/* And back. */
	pt = h1;
	assert_int_equal(fx_attach(&f, 0, &pt), 0);
	b = 0x33;
	assert_int_equal(vfx_dma(&f, 0, IONEST_NO_PASID, BASE, &b, 1,
				 IONEST_DMA_TO_MEM),
			 0);
	assert_int_equal(m1[0], 0x33);
	assert_int_equal(m2[0], 0x22);
	/* The HWPT in use cannot go; the other can. */
	assert_int_equal(fx_destroy(f.fd, h1), -EBUSY);
	assert_int_equal(fx_destroy(f.fd, h2), 0);
	vfx_teardown(&f);
	fx_free(m1, FX_PAGE);
	fx_free(m2, FX_PAGE);
}

struct replace_race {
	struct fx *f;
	int stop;
	unsigned long dmas, faults, bad;
};

static void *replace_dma_thread(void *arg)
{
	struct replace_race *r = arg;
	uint8_t b;

	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		int rc = ionest_device_dma(r->f->m, r->f->dev[0],
					   IONEST_NO_PASID, BASE, &b, 1,
					   IONEST_DMA_FROM_MEM);

		r->dmas++;
		if (rc)
			r->faults++;
		else if (b != 0xa1 && b != 0xb2)
			r->bad++;
	}
	return NULL;
}

static void test_replace_atomic_for_dma(void **state)
{
	uint8_t *m1 = fx_alloc(FX_PAGE, FX_PAGE),
		*m2 = fx_alloc(FX_PAGE, FX_PAGE);
	struct replace_race r = { 0 };
	uint32_t io1, io2, h1, h2, pt;
	pthread_t t;
	struct fx f;

	(void)state;
	memset(m1, 0xa1, FX_PAGE);
	memset(m2, 0xb2, FX_PAGE);
	vfx_setup(&f, NULL, 1, NULL);
	io1 = vfx_ioas_map(&f, m1, FX_PAGE, BASE);
	io2 = vfx_ioas_map(&f, m2, FX_PAGE, BASE);
	assert_int_equal(fx_bind(&f, 0), 0);
	assert_int_equal(fx_hwpt_alloc(f.fd, f.devid[0], io1, 0, &h1), 0);
	assert_int_equal(fx_hwpt_alloc(f.fd, f.devid[0], io2, 0, &h2), 0);
	pt = h1;
	assert_int_equal(fx_attach(&f, 0, &pt), 0);
	r.f = &f;
	assert_int_equal(pthread_create(&t, NULL, replace_dma_thread, &r), 0);
	for (int i = 0; i < 300; i++) {
		pt = (i & 1) ? h1 : h2;
		assert_int_equal(fx_attach(&f, 0, &pt), 0);
		if (!(i % 16))
			sched_yield();
	}
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	/* Every DMA saw one domain or the other, never a fault. */
	assert_true(r.dmas > 0);
	assert_int_equal(r.faults, 0);
	assert_int_equal(r.bad, 0);
	vfx_teardown(&f);
	fx_free(m1, FX_PAGE);
	fx_free(m2, FX_PAGE);
}

/* Round @i of the race maps [race_iova(i), + race_len(i)): a fresh
 * range every round, so a range once unmapped is never mapped again. */
static uint64_t race_len(unsigned i)
{
	return (i & 1) ? 64 * FX_PAGE : FX_PAGE;
}

static uint64_t race_iova(unsigned i)
{
	/* Odd rounds straddle a last-level table boundary, so unmap frees
	 * tables. */
	return (1ull << 32) + (uint64_t)i * 4 * MB2 +
	       ((i & 1) ? MB2 - 32 * FX_PAGE : 0);
}

struct unmap_race {
	struct fx *f;
	unsigned state; /* 2 * round, + 1 once its unmap returned */
	int stop;
	unsigned long late_ok; /* DMA started after it and succeeded */
	unsigned long dmas;
};

static void *unmap_dma_thread(void *arg)
{
	struct unmap_race *r = arg;
	uint8_t b = 0;

	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		unsigned s = __atomic_load_n(&r->state, __ATOMIC_ACQUIRE);
		unsigned i = s / 2;
		int rc = ionest_device_dma(r->f->m, r->f->dev[0],
					   IONEST_NO_PASID,
					   race_iova(i) + race_len(i) / 2, &b,
					   1, IONEST_DMA_TO_MEM);

		r->dmas++;
		if ((s & 1) && !rc)
			r->late_ok++;
	}
	return NULL;
}

static void test_unmap_races_dma(void **state)
{
	uint8_t *mem = fx_alloc(64 * FX_PAGE, FX_PAGE);
	struct unmap_race r = { .state = 1 };
	uint32_t ioas, pt;
	pthread_t t;
	struct fx f;

	(void)state;
	vfx_setup(&f, NULL, 1, NULL);
	ioas = fx_ioas(f.fd);
	assert_int_equal(fx_bind(&f, 0), 0);
	pt = ioas;
	assert_int_equal(fx_attach(&f, 0, &pt), 0);
	r.f = &f;
	assert_int_equal(pthread_create(&t, NULL, unmap_dma_thread, &r), 0);
	for (unsigned i = 1; i < 200; i++) {
		assert_int_equal(fx_map_fixed(f.fd, ioas, mem, race_len(i),
					      race_iova(i)),
				 0);
		__atomic_store_n(&r.state, 2 * i, __ATOMIC_RELEASE);
		sched_yield();
		assert_int_equal(fx_unmap(f.fd, ioas, race_iova(i), race_len(i),
					  NULL),
				 0);
		__atomic_store_n(&r.state, 2 * i + 1, __ATOMIC_RELEASE);
		sched_yield();
	}
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	assert_true(r.dmas > 0);
	assert_int_equal(r.late_ok, 0);
	vfx_teardown(&f);
	fx_free(mem, 64 * FX_PAGE);
}

static void test_shared_domain(void **state)
{
	uint8_t *mem = fx_alloc(2 * FX_PAGE, FX_PAGE), b = 7;
	uint32_t ioas, p0, p1;
	struct fx f;

	(void)state;
	vfx_setup(&f, NULL, 2, NULL);
	ioas = vfx_ioas_map(&f, mem, 2 * FX_PAGE, BASE);
	assert_int_equal(fx_bind(&f, 0), 0);
	assert_int_equal(fx_bind(&f, 1), 0);
	p0 = p1 = ioas;
	assert_int_equal(fx_attach(&f, 0, &p0), 0);
	assert_int_equal(fx_attach(&f, 1, &p1), 0);
	/* One automatic domain, one DID for both RIDs. */
	assert_int_equal(p0, p1);
	assert_int_equal(VTD_PE_DID(vfx_pe(&f, 0x100, 0)[1]),
			 VTD_PE_DID(vfx_pe(&f, 0x101, 0)[1]));
	for (int i = 0; i < 2; i++)
		assert_int_equal(vfx_dma(&f, i, IONEST_NO_PASID,
					 BASE + (uint64_t)i * FX_PAGE, &b, 1,
					 IONEST_DMA_TO_MEM),
				 0);
	assert_int_equal(mem[0], 7);
	assert_int_equal(mem[FX_PAGE], 7);
	assert_int_equal(fx_unmap(f.fd, ioas, BASE, 2 * FX_PAGE, NULL), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(vfx_dma(&f, i, IONEST_NO_PASID,
					 BASE + (uint64_t)i * FX_PAGE, &b, 1,
					 IONEST_DMA_FROM_MEM),
				 -EFAULT);
	/* One leaves: the other keeps working. */
	assert_int_equal(fx_map_fixed(f.fd, ioas, mem, FX_PAGE, BASE), 0);
	assert_int_equal(fx_detach(&f, 0), 0);
	assert_int_equal(vfx_dma(&f, 1, IONEST_NO_PASID, BASE, &b, 1,
				 IONEST_DMA_FROM_MEM),
			 0);
	assert_int_equal(vfx_dma(&f, 0, IONEST_NO_PASID, BASE, &b, 1,
				 IONEST_DMA_FROM_MEM),
			 -EFAULT);
	vfx_teardown(&f);
	fx_free(mem, 2 * FX_PAGE);
}

/* Leaf size the driver's table uses for @iova, read as the hardware
 * does from the PASID entry. */
static unsigned leaf_shift(struct fx *f, uint64_t iova)
{
	const uint64_t *pe = vfx_pe(f, 0x100, 0);
	struct pt_cfg cfg = {
		.fmt = PT_FMT_VTD_SS,
		.granule_shift = 12,
		.ias = (uint8_t)(30 + 9 * VTD_PE_AW(pe[0])),
		.oas = 48,
		.start_level = -1,
	};
	struct pt pt;
	struct pt_walk w = { 0 };

	assert_int_equal(pt_attach(&pt, &cfg, (struct pt_mem){ 0 },
				   pe[0] & VTD_PE_PTR_MASK),
			 0);
	assert_int_equal(pt_walk(&pt, iova, 0, &w), 0);
	return w.leaf_shift;
}

static void test_superpages(void **state)
{
	struct ionest_vtd_config no_lp = { .sslps = IONEST_CFG(0) };
	uint8_t *mem = fx_alloc(2 * MB2, MB2), b = 0x44;
	uint32_t ioas;
	struct fx f;

	(void)state;
	setup_attached(&f, NULL, mem, 2 * MB2, 8 * MB2, &ioas);
	assert_int_equal(leaf_shift(&f, 8 * MB2 + 12345), 21);
	assert_int_equal(vfx_dma(&f, 0, IONEST_NO_PASID, 9 * MB2 + 77, &b, 1,
				 IONEST_DMA_TO_MEM),
			 0);
	assert_int_equal(mem[MB2 + 77], 0x44);
	vfx_teardown(&f);

	/* Without SSLPS only 4K leaves. */
	setup_attached(&f, &no_lp, mem, 2 * MB2, 8 * MB2, &ioas);
	assert_int_equal(leaf_shift(&f, 8 * MB2 + 12345), 12);
	assert_int_equal(vfx_dma(&f, 0, IONEST_NO_PASID, 8 * MB2 + 5, &b, 1,
				 IONEST_DMA_TO_MEM),
			 0);
	assert_int_equal(mem[5], 0x44);
	vfx_teardown(&f);
	fx_free(mem, 2 * MB2);
}

static void test_caching_mode(void **state)
{
	/* CAP.CM: new mappings are invalidated too. */
	struct ionest_vtd_config cm = { .cm = IONEST_CFG(1) };
	uint8_t *mem = fx_alloc(2 * FX_PAGE, FX_PAGE), b = 9;
	uint64_t descs;
	uint32_t ioas;
	struct fx f;

	(void)state;
	for (int with_cm = 0; with_cm < 2; with_cm++) {
		setup_attached(&f, with_cm ? &cm : NULL, mem, FX_PAGE, BASE,
			       &ioas);
		descs = vfx_drv_counter(&f, "inv_desc");
		assert_int_equal(fx_map_fixed(f.fd, ioas, mem + FX_PAGE,
					      FX_PAGE, BASE + FX_PAGE),
				 0);
		if (with_cm)
			assert_true(vfx_drv_counter(&f, "inv_desc") > descs);
		else
			assert_int_equal(vfx_drv_counter(&f, "inv_desc"),
					 descs);
		assert_int_equal(vfx_dma(&f, 0, IONEST_NO_PASID, BASE + FX_PAGE,
					 &b, 1, IONEST_DMA_TO_MEM),
				 0);
		assert_int_equal(mem[FX_PAGE], 9);
		mem[FX_PAGE] = 0;
		vfx_teardown(&f);
	}
	fx_free(mem, 2 * FX_PAGE);
}

static void test_nest_parent(void **state)
{
	uint8_t *mem = fx_alloc(FX_PAGE, FX_PAGE), b = 0x66;
	uint32_t ioas, hwpt, pt;
	struct fx f;

	(void)state;
	vfx_setup(&f, NULL, 1, NULL);
	ioas = vfx_ioas_map(&f, mem, FX_PAGE, BASE);
	assert_int_equal(fx_bind(&f, 0), 0);
	assert_int_equal(fx_hwpt_alloc(f.fd, f.devid[0], ioas,
				       IOMMU_HWPT_ALLOC_NEST_PARENT, &hwpt),
			 0);
	pt = hwpt;
	assert_int_equal(fx_attach(&f, 0, &pt), 0);
	/* A nest parent is a second-stage table like any other. */
	assert_int_equal(VTD_PE_PGTT(vfx_pe(&f, 0x100, 0)[0]), VTD_PGTT_SS);
	assert_int_equal(vfx_dma(&f, 0, IONEST_NO_PASID, BASE + 3, &b, 1,
				 IONEST_DMA_TO_MEM),
			 0);
	assert_int_equal(mem[3], 0x66);
	assert_int_equal(fx_unmap(f.fd, ioas, BASE, FX_PAGE, NULL), 0);
	assert_int_equal(vfx_dma(&f, 0, IONEST_NO_PASID, BASE + 3, &b, 1,
				 IONEST_DMA_TO_MEM),
			 -EFAULT);
	vfx_teardown(&f);
	fx_free(mem, FX_PAGE);
}

static void test_two_units_one_ioas(void **state)
{
	/* Two VT-d units: a domain of one cannot serve a device of the
	 * other, so attaching both to one IOAS makes two domains, and an
	 * unmap reaches both. */
	uint8_t *mem = fx_alloc(FX_PAGE, FX_PAGE), b = 0x21;
	struct ionest_device_config dc = { .iommu = "iommu1", .rid = 0x100 };
	uint32_t ioas, hwpt, pt;
	struct fx f;

	(void)state;
	vfx_setup(&f, NULL, 1, NULL);
	assert_int_equal(ionest_machine_add_iommu(f.m, "iommu1",
						  ionest_vtd_new(NULL)),
			 0);
	/* The same RID on the other unit is another function. */
	f.dev[1] = ionest_machine_add_device(f.m, &dc);
	assert_int_equal(f.dev[1], 1);
	f.cdev[1] = -1;
	f.ndev = 2;
	ioas = vfx_ioas_map(&f, mem, FX_PAGE, BASE);
	assert_int_equal(fx_bind(&f, 0), 0);
	assert_int_equal(fx_bind(&f, 1), 0);
	assert_int_equal(fx_hwpt_alloc(f.fd, f.devid[0], ioas, 0, &hwpt), 0);
	pt = hwpt;
	assert_int_equal(fx_attach(&f, 1, &pt), -EINVAL);
	pt = hwpt;
	assert_int_equal(fx_attach(&f, 0, &pt), 0);
	pt = ioas;
	assert_int_equal(fx_attach(&f, 1, &pt), 0);
	assert_int_not_equal(pt, hwpt);
	for (int i = 0; i < 2; i++)
		assert_int_equal(vfx_dma(&f, i, IONEST_NO_PASID, BASE + 1 + i,
					 &b, 1, IONEST_DMA_TO_MEM),
				 0);
	assert_int_equal(mem[1], 0x21);
	assert_int_equal(mem[2], 0x21);
	assert_int_equal(fx_unmap(f.fd, ioas, BASE, FX_PAGE, NULL), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(vfx_dma(&f, i, IONEST_NO_PASID, BASE, &b, 1,
					 IONEST_DMA_TO_MEM),
				 -EFAULT);
	vfx_teardown(&f);
	fx_free(mem, FX_PAGE);
}

static void test_five_level(void **state)
{
	/* 57-bit second stage (AW 3, five levels) on a 57-bit part. */
	struct ionest_vtd_config cfg = { .sagaw = IONEST_CFG(VTD_SAGAW_48 |
							     VTD_SAGAW_57),
					 .mgaw = IONEST_CFG(56) };
	uint8_t *mem = fx_alloc(FX_PAGE, FX_PAGE), b = 0x57;
	uint64_t iova = 1ull << 55;
	uint32_t ioas;
	struct fx f;

	(void)state;
	setup_attached(&f, &cfg, mem, FX_PAGE, iova, &ioas);
	assert_int_equal(VTD_PE_AW(vfx_pe(&f, 0x100, 0)[0]), 3);
	assert_int_equal(vfx_dma(&f, 0, IONEST_NO_PASID, iova + 9, &b, 1,
				 IONEST_DMA_TO_MEM),
			 0);
	assert_int_equal(mem[9], 0x57);
	assert_int_equal(fx_unmap(f.fd, ioas, iova, FX_PAGE, NULL), 0);
	assert_int_equal(vfx_dma(&f, 0, IONEST_NO_PASID, iova + 9, &b, 1,
				 IONEST_DMA_TO_MEM),
			 -EFAULT);
	vfx_teardown(&f);
	fx_free(mem, FX_PAGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dma_lands),
		cmocka_unit_test(test_faults_recorded_and_consumed),
		cmocka_unit_test(test_fault_overflow_cleared),
		cmocka_unit_test(test_blocked_device),
		cmocka_unit_test(test_unmap_visible_to_next_dma),
		cmocka_unit_test(test_page_selective_invalidation),
		cmocka_unit_test(test_replace_rid),
		cmocka_unit_test(test_replace_atomic_for_dma),
		cmocka_unit_test(test_unmap_races_dma),
		cmocka_unit_test(test_shared_domain),
		cmocka_unit_test(test_superpages),
		cmocka_unit_test(test_caching_mode),
		cmocka_unit_test(test_nest_parent),
		cmocka_unit_test(test_two_units_one_ioas),
		cmocka_unit_test(test_five_level),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
