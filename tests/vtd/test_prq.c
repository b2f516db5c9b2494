// SPDX-License-Identifier: MIT
/* VT-d model: page requests (descriptor contents, PQH/PQT, PRS, PECTL,
 * overflow, PRE, page group responses) and ATS translation requests. */
#include <string.h>

#include "hw/vtd/vtd.h"
#include "vtd_harness.h"

#define R IONEST_ACCESS_READ
#define W IONEST_ACCESS_WRITE
#define P IONEST_ACCESS_PRIV
#define PR PT_PROT_READ
#define RW (PT_PROT_READ | PT_PROT_WRITE)
#define SID 0x0c18
#define DATA 0x40000000ull

static struct ionest_xlate_res req(struct vtd_h *h, bool pv, uint32_t pasid,
				   uint64_t iova, uint32_t access, bool ats,
				   bool pri, uint16_t prgi)
{
	struct ionest_xlate_req q = {
		.sid = SID,
		.ssid = pasid,
		.ssid_valid = pv,
		.ats = ats,
		.pri = pri,
		.prgi = prgi,
		.access = access,
		.iova = iova,
	};
	struct ionest_xlate_res r;

	assert_int_equal(ionest_hw_translate(h->hw, &q, &r), 0);
	return r;
}

static void fs_pe(struct vtd_h *h, struct pt *fs, uint32_t pasid)
{
	vtd_h_attach(h, SID, pasid,
		     &(struct vtd_h_pe){ .pgtt = VTD_PGTT_FS,
					 .did = 3,
					 .fsptptr = fs->root,
					 .q2 = VTD_PE_SRE });
}

static unsigned prs(struct vtd_h *h)
{
	return vtd_h_rd32(h, VTD_REG_PRS);
}

static void respond(struct vtd_h *h, uint16_t rid, bool pp, uint32_t pasid,
		    unsigned prgi, unsigned rc)
{
	uint64_t q0 = VTD_INV_PGRP_RESP | (pp ? VTD_PGRP_PP : 0) |
		      (uint64_t)rc << 12 | (uint64_t)rid << 16 |
		      (uint64_t)pasid << 32;
	uint64_t q1 = VTD_PGRP_LPIG | (uint64_t)prgi << 3;

	assert_int_equal(vtd_h_inv(h, q0, q1), 0);
}

static void test_page_request(void **state)
{
	struct ionest_xlate_res r;
	struct vtd_h h;
	struct pt fs;
	uint64_t d[4];

	vtd_h_init(&h, NULL);
	vtd_h_pt(&h, &fs, PT_FMT_X86_64, 48, 0, 0);
	fs_pe(&h, &fs, 7);
	fs_pe(&h, &fs, 0);

	r = req(&h, true, 7, 0x12345678, W | P, false, true, 0x1ab);
	assert_int_equal(r.status, IONEST_XLATE_PAGE_REQUEST);
	assert_int_equal(r.fault, VTD_FR_FS_NP);
	assert_false(r.recorded);
	assert_false(vtd_h_rd32(&h, VTD_REG_FSTS) & VTD_FSTS_PPF);
	assert_int_equal(vtd_h_rd64(&h, VTD_REG_PQT), 32);
	assert_int_equal(prs(&h), VTD_PRS_PPR);
	assert_int_equal(h.irqs[IONEST_IRQ_PRIQ], 1);
	assert_true(vtd_h_prq_pop(&h, d));
	assert_int_equal(d[0] & 3, 1);
	assert_true(d[0] & VTD_PRQ_PP);
	assert_false(d[0] & VTD_PRQ_PDP);
	assert_int_equal((d[0] >> 16) & 0xffff, SID);
	assert_int_equal((d[0] >> 32) & 0xfffff, 7);
	assert_true(d[0] & VTD_PRQ_PMR);
	assert_false(d[0] & VTD_PRQ_EXR);
	assert_int_equal(d[1] & VTD_PRQ_ADDR_MASK, 0x12345000);
	assert_true(d[1] & VTD_PRQ_WRR);
	assert_false(d[1] & VTD_PRQ_RDR);
	assert_true(d[1] & VTD_PRQ_LPIG);
	assert_int_equal((d[1] >> 3) & 0x1ff, 0x1ab);
	assert_int_equal(d[2] | d[3], 0);

	/* No second interrupt while PPR is set. */
	r = req(&h, false, 0, 0x5000, R, false, true, 2);
	assert_int_equal(r.status, IONEST_XLATE_PAGE_REQUEST);
	assert_int_equal(h.irqs[IONEST_IRQ_PRIQ], 1);
	assert_true(vtd_h_prq_pop(&h, d));
	assert_false(d[0] & VTD_PRQ_PP); /* no PASID */
	assert_true(d[1] & VTD_PRQ_RDR);
	vtd_h_wr32(&h, VTD_REG_PRS, VTD_PRS_PPR);
	assert_int_equal(prs(&h), 0);

	/* Software maps the page and answers; the device retries. */
	assert_int_equal(pt_map(&fs, 0x12345000, DATA, 0x1000, RW, 0), 0);
	respond(&h, SID, true, 7, 0x1ab, VTD_PGRP_RC_SUCCESS);
	assert_int_equal(h.nresp, 1);
	assert_int_equal(h.resp[0].sid, SID);
	assert_true(h.resp[0].ssv);
	assert_int_equal(h.resp[0].ssid, 7);
	assert_int_equal(h.resp[0].a, 0x1ab);
	assert_int_equal(h.resp[0].b, 0);
	r = req(&h, true, 7, 0x12345678, W | P, false, true, 0x1ab);
	assert_int_equal(r.status, IONEST_XLATE_OK);
	assert_int_equal(r.addr, DATA + 0x678);

	/* Response codes: invalid request 1, failure 2; no PASID. */
	respond(&h, SID, false, 0, 2, VTD_PGRP_RC_INVALID);
	respond(&h, SID, false, 0, 3, VTD_PGRP_RC_FAILURE);
	assert_int_equal(h.nresp, 3);
	assert_false(h.resp[1].ssv);
	assert_int_equal(h.resp[1].b, 1);
	assert_int_equal(h.resp[2].b, 2);
	assert_int_equal(h.resp[2].a, 3);

	/* A write to a read-only page also becomes a page request. */
	assert_int_equal(pt_map(&fs, 0x20000, DATA, 0x1000, PR, 0), 0);
	r = req(&h, true, 7, 0x20000, W, false, true, 4);
	assert_int_equal(r.status, IONEST_XLATE_PAGE_REQUEST);
	assert_int_equal(r.fault, VTD_FR_WRITE);
	/* Without PRI it is a recorded fault. */
	r = req(&h, true, 7, 0x20000, W, false, false, 0);
	assert_int_equal(r.status, IONEST_XLATE_FAULT);
	assert_true(r.recorded);
	vtd_h_fini(&h);
}

static void test_page_request_execute(void **state)
{
	struct ionest_vtd_config cfg = { .ers = IONEST_CFG(1) };
	struct ionest_xlate_res r;
	struct vtd_h h;
	struct pt fs;
	uint64_t d[4];

	vtd_h_init(&h, &(struct vtd_h_opts){ .cfg = &cfg });
	vtd_h_pt(&h, &fs, PT_FMT_X86_64, 48, 0, 0);
	vtd_h_attach(&h, SID, 9,
		     &(struct vtd_h_pe){ .pgtt = VTD_PGTT_FS,
					 .did = 3,
					 .fsptptr = fs.root,
					 .q2 = VTD_PE_ERE });
	r = req(&h, true, 9, 0x40000, IONEST_ACCESS_EXEC, false, true, 5);
	assert_int_equal(r.status, IONEST_XLATE_PAGE_REQUEST);
	assert_true(vtd_h_prq_pop(&h, d));
	assert_true(d[0] & VTD_PRQ_EXR);
	assert_false(d[0] & VTD_PRQ_PMR);
	assert_true(d[1] & VTD_PRQ_RDR); /* an execute request reads */
	assert_int_equal((d[1] >> 3) & 0x1ff, 5);
	vtd_h_fini(&h);
}

static void test_page_request_refused(void **state)
{
	struct ionest_xlate_res r;
	struct vtd_h h;
	struct pt fs;
	uint64_t lo, hi;

	/* PRE=0 in the context: the page request faults (0x47). */
	vtd_h_init(&h, NULL);
	vtd_h_pt(&h, &fs, PT_FMT_X86_64, 48, 0, 0);
	fs_pe(&h, &fs, 7);
	vtd_h_ctx(&h, SID)[0] &= ~VTD_CE_PRE;
	r = req(&h, true, 7, 0x1000, R, false, true, 1);
	assert_int_equal(r.status, IONEST_XLATE_FAULT);
	assert_int_equal(r.fault, VTD_FR_CTX_PRE);
	assert_true(r.recorded);
	vtd_h_frcd(&h, 0, &lo, &hi);
	assert_int_equal(VTD_FRCD_HI_FR(hi), VTD_FR_CTX_PRE);
	assert_int_equal(vtd_h_prq_pending(&h), 0);
	vtd_h_fini(&h);

	/* No page request queue programmed: a plain fault record. */
	vtd_h_init(&h, &(struct vtd_h_opts){ .no_prq = true });
	vtd_h_pt(&h, &fs, PT_FMT_X86_64, 48, 0, 0);
	fs_pe(&h, &fs, 7);
	r = req(&h, true, 7, 0x1000, R, false, true, 1);
	assert_int_equal(r.status, IONEST_XLATE_FAULT);
	assert_int_equal(r.fault, VTD_FR_FS_NP);
	assert_true(r.recorded);
	vtd_h_fini(&h);
}

static void test_page_request_second_stage(void **state)
{
	struct ionest_xlate_res r;
	struct vtd_h h;
	struct pt ss;

	/* Second-stage faults are not page-requested. */
	vtd_h_init(&h, NULL);
	vtd_h_pt(&h, &ss, PT_FMT_VTD_SS, 48, 0, 0);
	vtd_h_attach(&h, SID, 0,
		     &(struct vtd_h_pe){ .pgtt = VTD_PGTT_SS,
					 .did = 3,
					 .ssptptr = ss.root });
	r = req(&h, false, 0, 0x1000, R, false, true, 1);
	assert_int_equal(r.status, IONEST_XLATE_FAULT);
	assert_int_equal(r.fault, VTD_FR_SS_PERM);
	assert_int_equal(vtd_h_prq_pending(&h), 0);
	vtd_h_fini(&h);
}

static void test_page_request_overflow(void **state)
{
	struct ionest_xlate_res r;
	struct vtd_h h;
	struct pt fs;

	vtd_h_init(&h, NULL);
	vtd_h_pt(&h, &fs, PT_FMT_X86_64, 48, 0, 0);
	fs_pe(&h, &fs, 1);
	/* 4 KB: 128 slots, one kept free. */
	for (unsigned i = 0; i < 127; i++) {
		r = req(&h, true, 1, 0x1000ull * i, R, false, true,
			(uint16_t)i);
		assert_int_equal(r.status, IONEST_XLATE_PAGE_REQUEST);
	}
	assert_int_equal(vtd_h_prq_pending(&h), 127);
	assert_int_equal(prs(&h), VTD_PRS_PPR);
	assert_int_equal(h.nresp, 0);
	/* Full: PRO, and the group is answered "success" at once. */
	r = req(&h, true, 1, 0x999000, R, false, true, 0x55);
	assert_int_equal(r.status, IONEST_XLATE_PAGE_REQUEST);
	assert_int_equal(prs(&h), VTD_PRS_PPR | VTD_PRS_PRO);
	assert_int_equal(vtd_h_prq_pending(&h), 127);
	assert_int_equal(h.nresp, 1);
	assert_int_equal(h.resp[0].a, 0x55);
	assert_int_equal(h.resp[0].b, 0);
	assert_int_equal(h.irqs[IONEST_IRQ_PRIQ], 2); /* PPR, then PRO */

	/* Drained and cleared: requests flow again, wrapping the ring. */
	while (vtd_h_prq_pending(&h)) {
		uint64_t d[4];

		assert_true(vtd_h_prq_pop(&h, d));
	}
	vtd_h_wr32(&h, VTD_REG_PRS, VTD_PRS_PPR | VTD_PRS_PRO);
	r = req(&h, true, 1, 0x1000, R, false, true, 9);
	assert_int_equal(r.status, IONEST_XLATE_PAGE_REQUEST);
	assert_int_equal(vtd_h_rd64(&h, VTD_REG_PQT), 0);
	assert_int_equal(h.irqs[IONEST_IRQ_PRIQ], 3);

	/* Masked: IP pends, unmasking delivers. */
	vtd_h_wr32(&h, VTD_REG_PRS, VTD_PRS_PPR);
	vtd_h_wr32(&h, VTD_REG_PECTL, VTD_ECTL_IM);
	req(&h, true, 1, 0x2000, R, false, true, 10);
	assert_int_equal(h.irqs[IONEST_IRQ_PRIQ], 3);
	assert_int_equal(vtd_h_rd32(&h, VTD_REG_PECTL),
			 VTD_ECTL_IM | VTD_ECTL_IP);
	vtd_h_wr32(&h, VTD_REG_PECTL, 0);
	assert_int_equal(h.irqs[IONEST_IRQ_PRIQ], 4);
	vtd_h_fini(&h);
}

/* ---- ATS ---- */

static void test_ats(void **state)
{
	struct ionest_xlate_res r;
	struct vtd_h h;
	struct pt fs;
	uint64_t lo, hi;

	vtd_h_init(&h, NULL);
	vtd_h_pt(&h, &fs, PT_FMT_X86_64, 48, 0, 0);
	fs_pe(&h, &fs, 0);
	assert_int_equal(pt_map(&fs, 0x1000, DATA, 0x1000, RW, 0), 0);
	assert_int_equal(pt_map(&fs, 0x2000, DATA + 0x1000, 0x1000, PR, 0), 0);
	assert_int_equal(pt_map(&fs, 0x200000, 0x80000000, 0x200000, RW, 0), 0);

	/* Address, permissions, size. */
	r = req(&h, false, 0, 0x1000, R, true, false, 0);
	assert_int_equal(r.status, IONEST_XLATE_OK);
	assert_int_equal(r.addr, DATA);
	assert_int_equal(r.size, 0x1000);
	assert_int_equal(r.perm, R);
	r = req(&h, false, 0, 0x1000, R | W, true, false, 0);
	assert_int_equal(r.perm, R | W);
	assert_true(*vtd_h_pte(&fs, 0x1000, 0) & VTD_FS_D);
	r = req(&h, false, 0, 0x212345, R, true, false, 0);
	assert_int_equal(r.addr, 0x80012345);
	assert_int_equal(r.size, 0x200000);
	/* Asking for write on a read-only page: R only, not a fault. */
	r = req(&h, false, 0, 0x2000, R | W, true, false, 0);
	assert_int_equal(r.status, IONEST_XLATE_OK);
	assert_int_equal(r.perm, R);
	/* Not present: no access, nothing recorded. */
	r = req(&h, false, 0, 0x9000, R, true, false, 0);
	assert_int_equal(r.status, IONEST_XLATE_FAULT);
	assert_int_equal(r.fault, VTD_FR_FS_NP);
	assert_false(r.recorded);
	assert_int_equal(r.perm, 0);
	assert_false(vtd_h_rd32(&h, VTD_REG_FSTS) & VTD_FSTS_PPF);
	/* ... unless the device uses PRI. */
	r = req(&h, false, 0, 0x9000, R, true, true, 3);
	assert_int_equal(r.status, IONEST_XLATE_PAGE_REQUEST);

	/* Configuration errors are recorded, with AT = translation. */
	*vtd_h_pte(&fs, 0x1000, 3) |= 1ull << 7;
	assert_int_equal(vtd_h_flush_pe(&h, 3, 0), 0);
	r = req(&h, false, 0, 0x1000, R, true, false, 0);
	assert_int_equal(r.fault, VTD_FR_FS_RSVD);
	assert_true(r.recorded);
	vtd_h_frcd(&h, 0, &lo, &hi);
	assert_int_equal(VTD_FRCD_HI_AT(hi), 1);

	/* DTE=0: translation requests refused (0x44), DMA still works. */
	*vtd_h_pte(&fs, 0x1000, 3) &= ~(1ull << 7);
	vtd_h_ctx(&h, SID)[0] &= ~VTD_CE_DTE;
	assert_int_equal(
		vtd_h_inv(&h, vtd_h_d_cc(VTD_CC_G_DEVICE, 0, SID, 0), 0), 0);
	r = req(&h, false, 0, 0x1000, R, true, false, 0);
	assert_int_equal(r.fault, VTD_FR_CTX_DTE);
	assert_true(r.recorded);
	r = req(&h, false, 0, 0x1000, R, false, false, 0);
	assert_int_equal(r.status, IONEST_XLATE_OK);
	vtd_h_fini(&h);
}

static void test_ats_passthrough(void **state)
{
	struct ionest_xlate_res r;
	struct vtd_h h;

	vtd_h_init(&h, NULL);
	vtd_h_attach(&h, SID, 0,
		     &(struct vtd_h_pe){ .pgtt = VTD_PGTT_PT, .did = 3 });
	r = req(&h, false, 0, 0x123456, R | W, true, false, 0);
	assert_int_equal(r.status, IONEST_XLATE_BYPASS);
	assert_int_equal(r.addr, 0x123456);
	assert_int_equal(r.perm & (R | W), R | W);
	vtd_h_fini(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_page_request),
		cmocka_unit_test(test_page_request_execute),
		cmocka_unit_test(test_page_request_refused),
		cmocka_unit_test(test_page_request_second_stage),
		cmocka_unit_test(test_page_request_overflow),
		cmocka_unit_test(test_ats),
		cmocka_unit_test(test_ats_passthrough),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
