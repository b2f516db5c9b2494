// SPDX-License-Identifier: MIT
/*
 * Stalls and CD fetches of software nesting on SMMUv3, held against
 * hardware nesting (smmuv3_pair.h): a guest CD with S=1 stalls (the
 * record, the fault-queue record, RESUME retry and abort, unknown tags,
 * STALL_MAX, illegal S=1, PRI before stall, forced stalls, S1DSS
 * variants); a CD whose fetch faulted in stage 2 is fetched again once
 * the VMM maps its page (linear table, 2-level leaf and L1 table); and
 * both under DMA from several threads.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shadow/smmuv3_pair.h"

/* A one-byte read in both modes (pair_dma_rc): its result. */
static int pair_read1(struct pair *p, int dev, uint32_t pasid, uint64_t iova)
{
	return pair_dma_rc(p, dev, pasid, iova, 1, IONEST_DMA_FROM_MEM, 0);
}

/* A guest CD with S=1: a stage-1 translation fault stalls in both modes
 * (the same record, Stall=1 and the tag, kept by the host and not the
 * guest's vEVENT; the same fault-queue record); RESUME retry once the
 * guest mapped the page lets the access through, abort (or retry
 * without a mapping) leaves it stalling; the platform sees the same
 * resumes; a stage-2 fault never stalls. */
static void test_stall_resume(void **state)
{
	struct pair p;
	uint64_t ev[4];
	unsigned vev;

	(void)state;
	pair_setup_stall(&p, NULL, false, 7);
	vev = vevents_compared;
	assert_int_equal(pair_dma_rc(&p, 0, IONEST_NO_PASID, IOVA + 0x10, 8,
				     IONEST_DMA_TO_MEM, 1),
			 -EAGAIN);
	pair_last(&p, 0, IONEST_XLATE_STALLED, EVT_F_TRANSLATION);
	memcpy(ev, last_host_ev, sizeof(ev));
	assert_int_equal(ev[0] & 0xff, EVT_F_TRANSLATION);
	assert_int_equal(ev[0] >> 32, 0x100); /* the physical StreamID */
	assert_true(ev[1] & EVT1_STALL);
	assert_int_equal(ev[2], IOVA + 0x10);
	assert_int_equal(vevents_compared, vev);
	assert_int_equal(p.s[1].rs.n, 0);
	/* An answer to a stall of the SMMU's naming the same tag (the two
	 * tables tag alike) releases nothing the driver holds. */
	{
		struct iommu_fault f = {
			.flags = IOMMU_FAULT_F_LAST_PAGE,
			.priv = 1ull << 63 | (ev[1] & 0xffff),
		};

		smmuv3_page_response(sx_master(&p.s[1].x, 0)->dev, &f,
				     IOMMU_PAGE_RESP_SUCCESS);
	}
	assert_int_equal(p.s[1].rs.n, 0);
	/* The guest maps the page, the VMM answers: RESUME retry. */
	pair_s1_map(&p, 0, IOVA, data_gpa(50), PAGE,
		    PT_PROT_READ | PT_PROT_WRITE);
	pair_tlbi_va(&p, 0, IOVA, PAGE);
	assert_int_equal(pair_answer(&p, IOMMUFD_PAGE_RESP_SUCCESS, 8), 1);
	assert_int_equal(p.s[1].rs.n, 1);
	assert_int_equal(p.s[1].rs.retries, 1);
	assert_int_equal(p.s[1].rs.sid, 0x100);
	assert_int_equal(p.s[1].rs.stag, ev[1] & 0xffff);
	assert_int_equal(pair_dma_rc(&p, 0, IONEST_NO_PASID, IOVA + 0x10, 8,
				     IONEST_DMA_TO_MEM, 1),
			 0);
	assert_int_equal(p.s[1].mem[data_gpa(50) - GPA + 0x10], 1);
	/* PASID 5 (CD 5, S=1), not mapped: stalls; abort; stalls again
	 * under another tag. */
	assert_int_equal(pair_dma_rc(&p, 0, PASID, IOVA + PAGE, 4,
				     IONEST_DMA_FROM_MEM, 0),
			 -EAGAIN);
	assert_true(last_host_ev[0] & EVT0_SSV);
	assert_int_equal(pair_answer(&p, IOMMUFD_PAGE_RESP_INVALID, 8), 1);
	assert_int_equal(p.s[1].rs.n, 2);
	assert_int_equal(p.s[1].rs.retries, 1);
	assert_int_equal(pair_dma_rc(&p, 0, PASID, IOVA + PAGE, 4,
				     IONEST_DMA_FROM_MEM, 0),
			 -EAGAIN);
	assert_int_not_equal(last_host_ev[1] & 0xffff, p.s[1].rs.stag);
	/* Unknown cookies are refused alike. */
	for (int k = 0; k < 2; k++) {
		struct iommu_hwpt_page_response r = { .cookie = 999 };

		errno = 0;
		assert_int_equal(ionest_write(p.s[k].ffd, &r, sizeof(r)), -1);
		assert_int_equal(errno, EINVAL);
	}
	/* A resume naming a tag nobody holds changes nothing in either
	 * mode (the driver's answer path, as for a late answer). */
	for (int k = 0; k < 2; k++) {
		struct iommu_fault f = {
			.flags = IOMMU_FAULT_F_LAST_PAGE,
			.priv = 1ull << 63 | 0x7777, /* a stall, tag 0x7777 */
		};

		smmuv3_page_response(sx_master(&p.s[k].x, 0)->dev, &f,
				     IOMMU_PAGE_RESP_SUCCESS);
		sx_check_clean(&p.s[k].x);
	}
	pair_check_resumes(&p);
	assert_int_equal(p.s[1].rs.n, 2);
	/* Retry without a mapping: the access stalls again. */
	assert_int_equal(pair_answer(&p, IOMMUFD_PAGE_RESP_SUCCESS, 8), 1);
	assert_int_equal(pair_dma_rc(&p, 0, PASID, IOVA + PAGE, 4,
				     IONEST_DMA_FROM_MEM, 0),
			 -EAGAIN);
	assert_int_equal(pair_answer(&p, IOMMUFD_PAGE_RESP_INVALID, 8), 1);
	/* Device 1 has no fault queue: the core aborts each stall at once,
	 * so more of them than the SMMU holds come and go. */
	for (int i = 0; i < 70; i++)
		assert_int_equal(pair_read1(&p, 1, IONEST_NO_PASID,
					    IOVA + 3 * PAGE),
				 -EAGAIN);
	assert_int_equal(p.s[1].rs.n, 74);
	assert_int_equal(sx_ctr(&p.s[0].x, drv_stall),
			 sx_ctr(&p.s[1].x, drv_stall));
	/* Mapped by the guest, not by the parent: a stage-2 fault, which
	 * does not stall (the host's STE has no S2S). */
	pair_s1_map(&p, 0, IOVA + 4 * PAGE, data_gpa(120), PAGE,
		    PT_PROT_READ | PT_PROT_WRITE);
	pair_tlbi_va(&p, 0, IOVA + 4 * PAGE, PAGE);
	for (int k = 0; k < 2; k++)
		assert_int_equal(
			side_unmap_chunk(&p.s[k], chunk_of(data_gpa(120))), 0);
	assert_int_equal(pair_read1(&p, 0, IONEST_NO_PASID, IOVA + 4 * PAGE),
			 -EFAULT);
	assert_true(last_fault(&p.s[1], 0).stage2);
	pair_teardown(&p);
}

/* As many stalls as the SMMU holds (IDR5.STALL_MAX), unanswered: the
 * next fault terminates (its record the guest's, R=1) in both modes;
 * answers free them. */
static void test_stall_max(void **state)
{
	struct pair p;
	unsigned max, vev;

	(void)state;
	pair_setup_stall(&p, NULL, false, 1);
	max = (unsigned)SMMU_BITS(sx_rd32(&p.s[0].x, SMMU_IDR5), 31, 16);
	assert_true(max > 0 && max < 1024);
	for (unsigned i = 0; i < max; i++)
		assert_int_equal(pair_read1(&p, 0, IONEST_NO_PASID,
					    IOVA + i * PAGE),
				 -EAGAIN);
	vev = vevents_compared;
	assert_int_equal(pair_read1(&p, 0, IONEST_NO_PASID, IOVA + max * PAGE),
			 -EFAULT);
	pair_last(&p, 0, IONEST_XLATE_FAULT, EVT_F_TRANSLATION);
	assert_int_equal(vevents_compared, vev + 1);
	assert_int_equal(pair_answer(&p, IOMMUFD_PAGE_RESP_INVALID, max + 1),
			 max);
	assert_int_equal(pair_read1(&p, 0, IONEST_NO_PASID, IOVA + max * PAGE),
			 -EAGAIN);
	assert_int_equal(pair_answer(&p, IOMMUFD_PAGE_RESP_INVALID, 8), 1);
	pair_teardown(&p);
}

/* S=1 where it is illegal is C_BAD_CD in both modes (a terminate-only
 * part; STE.S1STALLD on a part with both models). A PRI function's
 * "not present" fault is a page request, not a stall, in both. */
static void test_stall_rules(void **state)
{
	struct ionest_smmuv3_config term = { .stall_model = IONEST_CFG(1) };
	struct pair p;

	(void)state;
	pair_setup_stall(&p, &term, false, 1);
	assert_int_equal(pair_read1(&p, 0, IONEST_NO_PASID, IOVA), -EFAULT);
	pair_last(&p, 0, IONEST_XLATE_FAULT, EVT_C_BAD_CD);
	pair_teardown(&p);
	ste1_extra = STE1_S1STALLD_BIT;
	pair_setup_stall(&p, NULL, false, 1);
	ste1_extra = 0;
	assert_int_equal(pair_read1(&p, 0, IONEST_NO_PASID, IOVA), -EFAULT);
	pair_last(&p, 0, IONEST_XLATE_FAULT, EVT_C_BAD_CD);
	/* CD 5 has S=0: legal under S1STALLD, and terminates. */
	assert_int_equal(pair_read1(&p, 0, PASID, IOVA), -EFAULT);
	pair_last(&p, 0, IONEST_XLATE_FAULT, EVT_F_TRANSLATION);
	pair_teardown(&p);
	pair_setup_stall(&p, NULL, true, 1);
	assert_int_equal(pair_read1(&p, 0, IONEST_NO_PASID, IOVA), -EAGAIN);
	for (int k = 0; k < 2; k++)
		assert_int_equal(last_fault(&p.s[k], 0).status,
				 IONEST_XLATE_PAGE_REQUEST);
	assert_int_equal(pair_answer(&p, IOMMUFD_PAGE_RESP_INVALID, 8), 1);
	assert_int_equal(p.s[1].rs.n, 0);
	assert_int_equal(sx_ctr(&p.s[1].x, drv_stall), 0);
	pair_teardown(&p);
}

/* S1DSS variants of device 0 (with SubstreamIDs): bypass (traffic without
 * PASID translated by stage 2 alone, its faults the host's; PASID 5 by
 * its CD, stalling with S=1) and terminate (F_STREAM_DISABLED). */
static void test_s1dss(void **state)
{
	struct pair p;

	(void)state;
	dev0_s1dss = VM_S1DSS_BYPASS;
	pair_setup_stall(&p, NULL, false, 3);
	dev0_s1dss = VM_S1DSS_SSID0;
	pair_s1_map(&p, 1, IOVA, data_gpa(90), PAGE,
		    PT_PROT_READ | PT_PROT_WRITE);
	pair_tlbi_asid(&p, 1);
	/* Without PASID the IOVA is a GPA. */
	assert_int_equal(pair_dma_rc(&p, 0, IONEST_NO_PASID, data_gpa(91), 8,
				     IONEST_DMA_TO_MEM, 6),
			 0);
	assert_int_equal(p.s[1].mem[data_gpa(91) - GPA], 6);
	pair_rw(&p, 0, PASID, IOVA);
	assert_int_equal(p.s[1].mem[data_gpa(90) - GPA], 0x5a);
	/* Outside the parent's map: its stage-2 fault, no stall. */
	assert_int_equal(pair_read1(&p, 0, IONEST_NO_PASID, GPA + RAM),
			 -EFAULT);
	assert_true(last_fault(&p.s[1], 0).stage2);
	assert_int_equal(pair_read1(&p, 0, PASID, IOVA + PAGE), -EAGAIN);
	assert_int_equal(pair_answer(&p, IOMMUFD_PAGE_RESP_INVALID, 8), 1);
	pair_teardown(&p);
	dev0_s1dss = VM_S1DSS_TERMINATE;
	pair_setup_stall(&p, NULL, false, 3);
	dev0_s1dss = VM_S1DSS_SSID0;
	assert_int_equal(pair_read1(&p, 0, IONEST_NO_PASID, IOVA), -EFAULT);
	pair_last(&p, 0, IONEST_XLATE_FAULT, EVT_F_STREAM_DISABLED);
	pair_teardown(&p);
}

/* Forced stalls (STALL_MODEL=2): a miss the guest maps without
 * invalidation is translated in both modes (the SMMU of the shadow side
 * stalls it itself, the driver releases that and fills); stage-1 and
 * stage-2 faults stall alike, with the same records and tags. */
static void test_stall_forced(void **state)
{
	struct ionest_smmuv3_config forced = { .stall_model = IONEST_CFG(2) };
	struct pair p;

	(void)state;
	pair_setup_stall(&p, &forced, false, 0);
	pair_s1_map(&p, 0, IOVA, data_gpa(130), PAGE,
		    PT_PROT_READ | PT_PROT_WRITE);
	assert_int_equal(pair_dma_rc(&p, 0, IONEST_NO_PASID, IOVA, 8,
				     IONEST_DMA_TO_MEM, 7),
			 0);
	assert_int_equal(p.s[1].mem[data_gpa(130) - GPA], 7);
	assert_int_equal(pair_dma_rc(&p, 0, IONEST_NO_PASID, IOVA + PAGE, 8,
				     IONEST_DMA_TO_MEM, 7),
			 -EAGAIN);
	pair_last(&p, 0, IONEST_XLATE_STALLED, EVT_F_TRANSLATION);
	assert_true(last_host_ev[1] & EVT1_STALL);
	assert_int_equal(pair_answer(&p, IOMMUFD_PAGE_RESP_INVALID, 8), 1);
	for (int k = 0; k < 2; k++)
		assert_int_equal(
			side_unmap_chunk(&p.s[k], chunk_of(data_gpa(130))), 0);
	assert_int_equal(pair_dma_rc(&p, 0, IONEST_NO_PASID, IOVA, 8,
				     IONEST_DMA_FROM_MEM, 0),
			 -EAGAIN);
	assert_true(last_host_ev[1] & EVT1_S2);
	assert_true(last_host_ev[1] & EVT1_STALL);
	assert_int_equal(pair_answer(&p, IOMMUFD_PAGE_RESP_SUCCESS, 8), 1);
	/* Device 1: answered at once by the core, over and over. */
	for (int i = 0; i < 70; i++)
		assert_int_equal(pair_read1(&p, 1, IONEST_NO_PASID, IOVA),
				 -EAGAIN);
	pair_teardown(&p);
}

/* The guest's CD table unmapped in the parent when the guest invalidates
 * its CDs: the fetch faults in stage 2 (CLASS=CD, the host's event) in
 * both modes; once the VMM maps the page again the next DMA fetches the
 * CD and translates, with no guest command. */
static void test_cd_fetch_mapped_later(void **state)
{
	struct pair p;
	uint64_t before;

	(void)state;
	pair_setup(&p, NULL);
	pair_s1_map(&p, 0, IOVA, data_gpa(70), PAGE,
		    PT_PROT_READ | PT_PROT_WRITE);
	pair_s1_map(&p, 1, IOVA, data_gpa(71), PAGE,
		    PT_PROT_READ | PT_PROT_WRITE);
	pair_tlbi_asid(&p, 0);
	pair_tlbi_asid(&p, 1);
	pair_rw(&p, 0, IONEST_NO_PASID, IOVA);
	for (int k = 0; k < 2; k++)
		assert_int_equal(side_unmap_chunk(&p.s[k], 0), 0);
	pair_cfgi_all(&p);
	assert_int_equal(pair_dma_rc(&p, 0, IONEST_NO_PASID, IOVA, 8,
				     IONEST_DMA_TO_MEM, 2),
			 -EFAULT);
	for (int k = 0; k < 2; k++) {
		struct ionest_dma_fault f = last_fault(&p.s[k], 0);

		assert_true(f.stage2);
		assert_int_equal(f.code, EVT_F_TRANSLATION);
		assert_int_equal(f.fault_addr, vm_cd_gpa(&p.s[k].cdt[0], 0));
	}
	assert_true(last_host_ev[1] & EVT1_S2);
	assert_int_equal(SMMU_BITS(last_host_ev[1], 41, 40), EVT_CLASS_CD);
	assert_int_equal(pair_read1(&p, 0, PASID, IOVA), -EFAULT);
	assert_int_equal(pair_read1(&p, 1, IONEST_NO_PASID, IOVA), -EFAULT);
	/* Mapped again: no guest command needed. */
	for (int k = 0; k < 2; k++)
		side_map_chunk(&p.s[k], 0);
	assert_int_equal(pair_dma_rc(&p, 0, IONEST_NO_PASID, IOVA, 8,
				     IONEST_DMA_TO_MEM, 3),
			 0);
	assert_int_equal(p.s[1].mem[data_gpa(70) - GPA], 3);
	pair_rw(&p, 0, PASID, IOVA);
	pair_rw(&p, 1, IONEST_NO_PASID, IOVA);
	assert_int_equal(p.s[1].mem[data_gpa(71) - GPA], 0x5a);
	/* From then on the shadow serves it: no miss. */
	before = sx_ctr(&p.s[1].x, drv_shadow_miss);
	pair_rw(&p, 0, IONEST_NO_PASID, IOVA);
	assert_int_equal(sx_ctr(&p.s[1].x, drv_shadow_miss), before);
	pair_teardown(&p);
}

/* The CD table mapped again and the guest's CFGI_CD_ALL before any DMA:
 * the host CDs that translated nothing are replaced in place (no copy of
 * the table: the STE still points at it) and translate in both modes. */
static void test_cd_fetch_mapped_cfgi(void **state)
{
	struct smmu_master *m;
	struct pair p;
	uint64_t ctx;

	(void)state;
	pair_setup(&p, NULL);
	pair_s1_map(&p, 0, IOVA, data_gpa(72), PAGE,
		    PT_PROT_READ | PT_PROT_WRITE);
	pair_tlbi_asid(&p, 0);
	for (int k = 0; k < 2; k++)
		assert_int_equal(side_unmap_chunk(&p.s[k], 0), 0);
	pair_cfgi_all(&p);
	assert_int_equal(pair_read1(&p, 0, IONEST_NO_PASID, IOVA), -EFAULT);
	m = sx_master(&p.s[1].x, 0);
	ctx = m->ste[0] & STE0_CTXPTR;
	for (int k = 0; k < 2; k++)
		side_map_chunk(&p.s[k], 0);
	pair_cfgi_all(&p);
	assert_int_equal(m->ste[0] & STE0_CTXPTR, ctx);
	assert_int_equal(pair_dma_rc(&p, 0, IONEST_NO_PASID, IOVA, 8,
				     IONEST_DMA_TO_MEM, 4),
			 0);
	assert_int_equal(p.s[1].mem[data_gpa(72) - GPA], 4);
	pair_teardown(&p);
}

/* The same with a 2-level guest CD table (S1Fmt = 4K leaves): a leaf
 * and then the level-1 table unmapped in the parent, each fetch
 * faulting at its own IPA until the VMM maps it again. */
static void test_cd_fetch_2level(void **state)
{
	const uint64_t l1 = data_gpa(200), leaf = data_gpa(300);
	struct pair p;

	(void)state;
	for (int k = 0; k < 2; k++) {
		struct side *sd = &p.s[k];
		struct vm_cdtab t = { .vm = NULL, .gpa = leaf, .s1cdmax = 6 };
		struct iommu_hwpt_arm_smmuv3 d;
		uint64_t *l1p;

		side_setup(sd, k ? IONEST_NESTING_SHADOW : IONEST_NESTING_HW,
			   NULL, false);
		t.vm = &sd->vm;
		l1p = vm_ptr(&sd->vm, l1, 16);
		__atomic_store_n(&l1p[0], leaf | 1, __ATOMIC_RELEASE);
		__atomic_store_n(&l1p[1], 0, __ATOMIC_RELEASE);
		assert_int_equal(vm_cd_write(&t, 0, &sd->s1[0], gasid[0]), 0);
		assert_int_equal(vm_cd_write(&t, PASID, &sd->s1[1], gasid[1]),
				 0);
		t.gpa = l1;
		t.s1cdmax = 7;
		vm_cdtab_ste(&t, VM_S1DSS_SSID0, d.ste);
		d.ste[0] |= (uint64_t)S1FMT_4K << 4;
		assert_int_equal(side_unmap_chunk(sd, chunk_of(leaf)), 0);
		assert_int_equal(nest_hwpt_alloc(sd->x.f.fd, sd->x.f.devid[0],
						 sd->viommu, 0,
						 IOMMU_HWPT_DATA_ARM_SMMUV3, &d,
						 sizeof(d), 0, &sd->nested[0]),
				 0);
		assert_int_equal(fx_attach(&sd->x.f, 0, &sd->nested[0]), 0);
	}
	pair_s1_map(&p, 0, IOVA, data_gpa(80), PAGE,
		    PT_PROT_READ | PT_PROT_WRITE);
	pair_s1_map(&p, 1, IOVA, data_gpa(81), PAGE,
		    PT_PROT_READ | PT_PROT_WRITE);
	assert_int_equal(pair_dma_rc(&p, 0, IONEST_NO_PASID, IOVA, 1,
				     IONEST_DMA_TO_MEM, 4),
			 -EFAULT);
	assert_true(last_fault(&p.s[1], 0).stage2);
	assert_int_equal(last_fault(&p.s[1], 0).fault_addr, leaf);
	for (int k = 0; k < 2; k++)
		side_map_chunk(&p.s[k], chunk_of(leaf));
	assert_int_equal(pair_dma_rc(&p, 0, IONEST_NO_PASID, IOVA, 1,
				     IONEST_DMA_TO_MEM, 4),
			 0);
	assert_int_equal(p.s[1].mem[data_gpa(80) - GPA], 4);
	pair_rw(&p, 0, PASID, IOVA);
	/* SubstreamID 70: level-1 descriptor 1 is not valid. */
	assert_int_equal(pair_read1(&p, 0, 70, IOVA), -EFAULT);
	pair_last(&p, 0, IONEST_XLATE_FAULT, EVT_C_BAD_CD);
	/* The level-1 table unmapped, the guest invalidates its CDs. */
	for (int k = 0; k < 2; k++)
		assert_int_equal(side_unmap_chunk(&p.s[k], chunk_of(l1)), 0);
	pair_cmd(&p, CMD_CFGI_CD_ALL | VSID0 << 32, 0);
	assert_int_equal(pair_read1(&p, 0, PASID, IOVA), -EFAULT);
	assert_true(last_fault(&p.s[1], 0).stage2);
	assert_int_equal(last_fault(&p.s[1], 0).fault_addr, l1);
	for (int k = 0; k < 2; k++)
		side_map_chunk(&p.s[k], chunk_of(l1));
	pair_rw(&p, 0, PASID, IOVA);
	pair_rw(&p, 0, IONEST_NO_PASID, IOVA);
	assert_int_equal(p.s[1].mem[data_gpa(81) - GPA], 0x5a);
	pair_teardown(&p);
}

/* ---- concurrency ---- */

struct dma_thr {
	struct side *s;
	int dev;
	uint32_t pasid;
	bool stop;
	unsigned n, ok, bad;
};

static void *dma_loop(void *arg)
{
	struct dma_thr *t = arg;

	while (!__atomic_load_n(&t->stop, __ATOMIC_ACQUIRE)) {
		uint8_t b[8] = { 0 };
		int rc = ionest_device_dma(
			t->s->x.f.m, t->s->x.f.dev[t->dev], t->pasid,
			IOVA + (t->n % 4) * PAGE, b, sizeof(b),
			t->n % 2 ? IONEST_DMA_TO_MEM : IONEST_DMA_FROM_MEM);

		t->n++;
		t->ok += rc == 0;
		t->bad += rc && rc != -EFAULT && rc != -EAGAIN;
	}
	return NULL;
}

/* Shadow mode under DMA from three threads (stalls answered by the VMM
 * or at once by the core, the guest mapping and unmapping): the CD
 * tables' area unmapped and remapped in the parent with the guest's
 * CFGI_CD_ALL, so fetch-faulted CDs are fetched again by whichever DMA
 * meets them first. Every DMA ends in success, a fault or a stall; no
 * crash, leak or hang; afterwards everything translates. */
static void test_concurrent_refetch_stall(void **state)
{
	struct pair p;
	struct side *sd;
	struct dma_thr t[3];
	pthread_t th[3];
	unsigned total = 0;

	(void)state;
	test_watchdog(120, "shadow refetch/stall threads");
	pair_setup_stall(&p, NULL, false, 7);
	sd = &p.s[1];
	for (int i = 0; i < 3; i++) {
		t[i] = (struct dma_thr){ .s = sd,
					 .dev = i == 2,
					 .pasid = i == 1 ? PASID :
							   IONEST_NO_PASID };
		assert_int_equal(pthread_create(&th[i], NULL, dma_loop, &t[i]),
				 0);
	}
	for (unsigned it = 0; it < 200; it++) {
		uint64_t u = 0;
		struct iommu_hwpt_pgfault rec;

		if (it % 4 == 0) {
			if (sd->mapped[0]) {
				assert_int_equal(side_unmap_chunk(sd, 0), 0);
				for (uint64_t v = 0; v < 2; v++)
					assert_int_equal(
						side_cmd(sd,
							 CMD_CFGI_CD_ALL |
								 (VSID0 + v)
									 << 32,
							 0),
						0);
			} else {
				side_map_chunk(sd, 0);
			}
		}
		if (it % 3 == 0) {
			for (int sp = 0; sp < NS; sp++)
				(void)pt_map(&sd->s1[sp],
					     IOVA + (it % 4) * PAGE,
					     data_gpa(140 + it % 4), PAGE,
					     PT_PROT_READ | PT_PROT_WRITE,
					     PAGE);
		} else if (it % 3 == 1) {
			for (int sp = 0; sp < NS; sp++)
				(void)pt_unmap(&sd->s1[sp],
					       IOVA + (it % 4) * PAGE, PAGE, 0,
					       NULL, &u);
		}
		assert_int_equal(side_cmd(sd, CMD_TLBI_NH_ALL, 0), 0);
		while (ionest_read(sd->ffd, &rec, sizeof(rec)) == sizeof(rec)) {
			struct iommu_hwpt_page_response r = {
				.cookie = rec.cookie,
				.code = it % 2 ? IOMMUFD_PAGE_RESP_SUCCESS :
						 IOMMUFD_PAGE_RESP_INVALID,
			};

			assert_int_equal(ionest_write(sd->ffd, &r, sizeof(r)),
					 sizeof(r));
		}
	}
	for (int i = 0; i < 3; i++) {
		__atomic_store_n(&t[i].stop, true, __ATOMIC_RELEASE);
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(t[i].bad, 0);
		assert_true(t[i].n > 0);
		total += t[i].n;
	}
	if (!sd->mapped[0])
		side_map_chunk(sd, 0);
	for (int sp = 0; sp < NS; sp++)
		(void)pt_map(&sd->s1[sp], IOVA + 7 * PAGE, data_gpa(150), PAGE,
			     PT_PROT_READ | PT_PROT_WRITE, PAGE);
	assert_int_equal(side_cmd(sd, CMD_TLBI_NH_ALL, 0), 0);
	for (int i = 0; i < 3; i++) {
		uint8_t b = 0;

		assert_int_equal(ionest_device_dma(sd->x.f.m,
						   sd->x.f.dev[t[i].dev],
						   t[i].pasid, IOVA + 7 * PAGE,
						   &b, 1, IONEST_DMA_FROM_MEM),
				 0);
	}
	fprintf(stderr, "# %u DMAs from 3 threads (%u, %u, %u succeeded)\n",
		total, t[0].ok, t[1].ok, t[2].ok);
	test_watchdog_stop();
	pair_teardown(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stall_resume),
		cmocka_unit_test(test_stall_max),
		cmocka_unit_test(test_stall_rules),
		cmocka_unit_test(test_s1dss),
		cmocka_unit_test(test_stall_forced),
		cmocka_unit_test(test_cd_fetch_mapped_later),
		cmocka_unit_test(test_cd_fetch_mapped_cfgi),
		cmocka_unit_test(test_cd_fetch_2level),
		cmocka_unit_test(test_concurrent_refetch_stall),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
