// SPDX-License-Identifier: MIT
/* VT-d model: primary fault logging. Record contents, FPD suppression at
 * each level (and what it does not suppress), PPF, FRI, rotation, PFO on
 * overflow, clearing, and the fault event interrupt under FECTL. */
#include <stdio.h>
#include <string.h>

#include <ionest/trace.h>

#include "hw/vtd/vtd.h"
#include "vtd_harness.h"

#define R IONEST_ACCESS_READ
#define W IONEST_ACCESS_WRITE
#define X IONEST_ACCESS_EXEC
#define P IONEST_ACCESS_PRIV
#define SID 0x0a10

static unsigned fsts(struct vtd_h *h)
{
	return vtd_h_rd32(h, VTD_REG_FSTS);
}

/* An FS PASID entry over an empty table: every access faults 0x71. */
static void empty_fs(struct vtd_h *h, struct pt *fs, uint32_t pasid,
		     uint64_t q0, uint64_t q2)
{
	vtd_h_attach(h, SID, pasid,
		     &(struct vtd_h_pe){ .pgtt = VTD_PGTT_FS,
					 .did = 1,
					 .fsptptr = fs->root,
					 .q0 = q0,
					 .q2 = q2 });
}

static void test_record_fields(void **state)
{
	struct ionest_vtd_config cfg = { .ers = IONEST_CFG(1) };
	struct vtd_h h;
	struct pt fs;
	uint64_t lo, hi;
	uint32_t dw;

	vtd_h_init(&h, &(struct vtd_h_opts){ .cfg = &cfg });
	vtd_h_pt(&h, &fs, PT_FMT_X86_64, 48, 0, 0);
	empty_fs(&h, &fs, 0x12345, 0, VTD_PE_SRE | VTD_PE_ERE);
	empty_fs(&h, &fs, 0, 0, 0);

	/* Supervisor execute read with PASID. */
	vtd_h_expect_fault(&h, SID, true, 0x12345, 0x7654321, X | P,
			   VTD_FR_FS_NP);
	vtd_h_frcd(&h, 0, &lo, &hi);
	assert_int_equal(lo, 0x7654000);
	assert_int_equal(VTD_FRCD_HI_SID(hi), SID);
	assert_true(hi & VTD_FRCD_HI_PP);
	assert_int_equal(VTD_FRCD_HI_PV(hi), 0x12345);
	assert_true(hi & VTD_FRCD_HI_PRIV);
	assert_true(hi & VTD_FRCD_HI_EXE);
	assert_int_equal(VTD_FRCD_HI_FR(hi), VTD_FR_FS_NP);
	assert_true(hi & VTD_FRCD_HI_T); /* read */
	assert_int_equal(VTD_FRCD_HI_AT(hi), 0);
	assert_true(hi & VTD_FRCD_HI_F);
	/* The same through 32-bit reads, as Linux does. */
	dw = vtd_h_rd32(&h, 16ull * VTD_FRO + 12);
	assert_int_equal(dw & 0xff, VTD_FR_FS_NP);
	assert_true(dw & (1u << 31));
	assert_int_equal(vtd_h_rd32(&h, 16ull * VTD_FRO + 8) & 0xffff, SID);

	/* A write without PASID: T=0, no PASID fields. */
	vtd_h_expect_fault(&h, SID, false, 0, 0x2000, W, VTD_FR_FS_NP);
	vtd_h_frcd(&h, 1, &lo, &hi);
	assert_int_equal(lo, 0x2000);
	assert_false(hi & (VTD_FRCD_HI_PP | VTD_FRCD_HI_PRIV | VTD_FRCD_HI_EXE |
			   VTD_FRCD_HI_T));
	assert_int_equal(VTD_FRCD_HI_PV(hi), 0);
	assert_true(fsts(&h) & VTD_FSTS_PPF);
	assert_int_equal(VTD_FSTS_FRI(fsts(&h)), 0);
	vtd_h_fini(&h);
}

static void test_fpd(void **state)
{
	struct ionest_xlate_res r;
	struct vtd_h h;
	struct pt fs;
	uint64_t *ce, *pdir;

	vtd_h_init(&h, NULL);
	vtd_h_pt(&h, &fs, PT_FMT_X86_64, 48, 0, 0);
	empty_fs(&h, &fs, 1, VTD_PE_FPD, 0);
	empty_fs(&h, &fs, 2, 0, 0);
	empty_fs(&h, &fs, 70, 0, 0);

	/* PASID-entry FPD: its translation faults are not recorded. */
	r = vtd_h_expect_fault(&h, SID, true, 1, 0x1000, R, VTD_FR_FS_NP);
	assert_false(r.recorded);
	r = vtd_h_expect_fault(&h, SID, true, 2, 0x1000, R, VTD_FR_FS_NP);
	assert_true(r.recorded);
	assert_int_equal(vtd_h_clear_faults(&h), 1);
	/* ... nor are 0x5A faults of a malformed entry: FPD applies only to
	 * an entry that decoded. */
	vtd_h_pe(&h, SID, 1)[3] = 1;
	assert_int_equal(vtd_h_flush_pe(&h, 1, 1), 0);
	r = vtd_h_expect_fault(&h, SID, true, 1, 0x1000, R, VTD_FR_PE_RSVD);
	assert_true(r.recorded);
	assert_int_equal(vtd_h_clear_faults(&h), 1);

	/* Directory-entry FPD: PASID 0-63 suppressed, 64-127 not. */
	ce = vtd_h_ctx(&h, SID);
	pdir = (uint64_t *)(uintptr_t)(ce[0] & VTD_CE_PDIR_MASK);
	pdir[0] |= VTD_PDE_FPD;
	vtd_h_pe(&h, SID, 2)[0] &= ~VTD_PE_P;
	vtd_h_pe(&h, SID, 70)[0] &= ~VTD_PE_P;
	assert_int_equal(vtd_h_inv(&h, vtd_h_d_pc(VTD_PC_G_ALL, 0, 0), 0), 0);
	r = vtd_h_expect_fault(&h, SID, true, 2, 0x1000, R, VTD_FR_PE_NP);
	assert_false(r.recorded);
	r = vtd_h_expect_fault(&h, SID, true, 70, 0x1000, R, VTD_FR_PE_NP);
	assert_true(r.recorded);
	assert_int_equal(vtd_h_clear_faults(&h), 1);
	pdir[0] &= ~VTD_PDE_FPD;

	/* Context FPD: everything after the context entry. */
	ce[0] |= VTD_CE_FPD;
	assert_int_equal(vtd_h_inv(&h, vtd_h_d_cc(VTD_CC_G_GLOBAL, 0, 0, 0), 0),
			 0);
	r = vtd_h_expect_fault(&h, SID, true, 70, 0x1000, R, VTD_FR_PE_NP);
	assert_false(r.recorded);
	r = vtd_h_expect_fault(&h, SID, true, 9000, 0x1000, R, VTD_FR_PDE_NP);
	assert_false(r.recorded);
	/* Root and context faults precede FPD: always recorded. */
	ce[0] &= ~VTD_CE_P;
	assert_int_equal(vtd_h_inv(&h, vtd_h_d_cc(VTD_CC_G_GLOBAL, 0, 0, 0), 0),
			 0);
	r = vtd_h_expect_fault(&h, SID, true, 70, 0x1000, R, VTD_FR_CTX_NP);
	assert_true(r.recorded);
	r = vtd_h_expect_fault(&h, 0x0f00, false, 0, 0x1000, R, VTD_FR_ROOT_NP);
	assert_true(r.recorded);
	assert_int_equal(vtd_h_clear_faults(&h), 2);
	vtd_h_fini(&h);
}

static void test_rotation_and_overflow(void **state)
{
	struct ionest_vtd_config cfg = { .nfr = IONEST_CFG(3) };
	struct ionest_xlate_res r;
	struct vtd_h h;
	struct pt fs;
	uint64_t lo, hi;

	vtd_h_init(&h, &(struct vtd_h_opts){ .cfg = &cfg });
	assert_int_equal(vtd_h_nfr(&h), 4);
	vtd_h_pt(&h, &fs, PT_FMT_X86_64, 48, 0, 0);
	empty_fs(&h, &fs, 0, 0, 0);

	for (unsigned i = 0; i < 4; i++) {
		r = vtd_h_expect_fault(&h, SID, false, 0, 0x1000 * (i + 1), R,
				       VTD_FR_FS_NP);
		assert_true(r.recorded);
	}
	assert_int_equal(fsts(&h) & (VTD_FSTS_PPF | VTD_FSTS_PFO),
			 VTD_FSTS_PPF);
	assert_int_equal(VTD_FSTS_FRI(fsts(&h)), 0);
	/* Full: the next fault is lost and sets PFO. */
	r = vtd_h_expect_fault(&h, SID, false, 0, 0x9000, R, VTD_FR_FS_NP);
	assert_false(r.recorded);
	assert_true(fsts(&h) & VTD_FSTS_PFO);
	for (unsigned i = 0; i < 4; i++) {
		vtd_h_frcd(&h, i, &lo, &hi);
		assert_int_equal(lo, 0x1000 * (i + 1));
	}

	/* Freeing 0 and 1: the next goes to record 0 (the rotation), and
	 * FRI keeps naming the first pending one. */
	vtd_h_frcd_clear(&h, 0);
	vtd_h_frcd_clear(&h, 1);
	vtd_h_frcd(&h, 0, &lo, &hi);
	assert_false(hi & VTD_FRCD_HI_F);
	r = vtd_h_expect_fault(&h, SID, false, 0, 0xa000, R, VTD_FR_FS_NP);
	assert_true(r.recorded);
	vtd_h_frcd(&h, 0, &lo, &hi);
	assert_int_equal(lo, 0xa000);
	assert_int_equal(VTD_FSTS_FRI(fsts(&h)), 0);

	/* All cleared: PPF drops; PFO is cleared by software. */
	assert_int_equal(vtd_h_clear_faults(&h), 3);
	assert_int_equal(fsts(&h) & (VTD_FSTS_PPF | VTD_FSTS_PFO), 0);
	/* Next one lands in record 1 and FRI says so. */
	vtd_h_expect_fault(&h, SID, false, 0, 0xb000, R, VTD_FR_FS_NP);
	assert_int_equal(VTD_FSTS_FRI(fsts(&h)), 1);
	vtd_h_frcd(&h, 1, &lo, &hi);
	assert_int_equal(lo, 0xb000);
	/* Writes other than F=1 leave records alone. */
	vtd_h_wr64(&h, 16ull * VTD_FRO + 16, 0);
	vtd_h_wr32(&h, 16ull * VTD_FRO + 16 + 8, 0xffffffff);
	vtd_h_frcd(&h, 1, &lo, &hi);
	assert_int_equal(lo, 0xb000);
	assert_true(hi & VTD_FRCD_HI_F);
	vtd_h_fini(&h);
}

static void test_fault_event(void **state)
{
	struct vtd_h h;
	struct pt fs;
	uint32_t *doorbell;

	vtd_h_init(&h, NULL);
	vtd_h_pt(&h, &fs, PT_FMT_X86_64, 48, 0, 0);
	empty_fs(&h, &fs, 0, 0, 0);
	doorbell = vtd_h_alloc(&h, 4, 4);
	vtd_h_wr32(&h, VTD_REG_FEDATA, 0x77);
	vtd_h_wr64(&h, VTD_REG_FEADDR, vtd_h_pa(doorbell));

	/* Unmasked: the first fault interrupts (message + line). */
	vtd_h_expect_fault(&h, SID, false, 0, 0x1000, R, VTD_FR_FS_NP);
	assert_int_equal(h.irqs[IONEST_IRQ_EVENTQ], 1);
	assert_int_equal(*doorbell, 0x77);
	assert_int_equal(vtd_h_rd32(&h, VTD_REG_FECTL), 0);
	/* While one is pending, more faults do not. */
	vtd_h_expect_fault(&h, SID, false, 0, 0x2000, R, VTD_FR_FS_NP);
	assert_int_equal(h.irqs[IONEST_IRQ_EVENTQ], 1);
	vtd_h_clear_faults(&h);
	vtd_h_expect_fault(&h, SID, false, 0, 0x3000, R, VTD_FR_FS_NP);
	assert_int_equal(h.irqs[IONEST_IRQ_EVENTQ], 2);
	vtd_h_clear_faults(&h);

	/* Masked: IP; unmasking delivers. */
	vtd_h_wr32(&h, VTD_REG_FECTL, VTD_ECTL_IM);
	vtd_h_expect_fault(&h, SID, false, 0, 0x4000, R, VTD_FR_FS_NP);
	assert_int_equal(h.irqs[IONEST_IRQ_EVENTQ], 2);
	assert_int_equal(vtd_h_rd32(&h, VTD_REG_FECTL),
			 VTD_ECTL_IM | VTD_ECTL_IP);
	vtd_h_wr32(&h, VTD_REG_FECTL, 0);
	assert_int_equal(h.irqs[IONEST_IRQ_EVENTQ], 3);
	assert_int_equal(vtd_h_rd32(&h, VTD_REG_FECTL), 0);
	vtd_h_clear_faults(&h);
	/* Masked, then software handles it by polling: IP retired. */
	vtd_h_wr32(&h, VTD_REG_FECTL, VTD_ECTL_IM);
	vtd_h_expect_fault(&h, SID, false, 0, 0x5000, R, VTD_FR_FS_NP);
	vtd_h_clear_faults(&h);
	assert_int_equal(vtd_h_rd32(&h, VTD_REG_FECTL), VTD_ECTL_IM);
	vtd_h_wr32(&h, VTD_REG_FECTL, 0);
	assert_int_equal(h.irqs[IONEST_IRQ_EVENTQ], 3);

	/* An interrupt-window address is the line alone. */
	vtd_h_wr64(&h, VTD_REG_FEADDR, 0xfee00000);
	*doorbell = 0;
	vtd_h_expect_fault(&h, SID, false, 0, 0x6000, R, VTD_FR_FS_NP);
	assert_int_equal(h.irqs[IONEST_IRQ_EVENTQ], 4);
	assert_int_equal(*doorbell, 0);
	/* IQE while a fault is pending: no second interrupt. */
	vtd_h_queue(&h, 0, 0, 0, 0);
	vtd_h_kick(&h);
	assert_true(vtd_h_rd32(&h, VTD_REG_FSTS) & VTD_FSTS_IQE);
	assert_int_equal(h.irqs[IONEST_IRQ_EVENTQ], 4);
	vtd_h_fini(&h);
}

static void test_trace_points(void **state)
{
	struct vtd_h h;
	struct pt fs;
	FILE *f = tmpfile();
	char buf[4096];
	size_t n;

	vtd_h_init(&h, NULL);
	vtd_h_pt(&h, &fs, PT_FMT_X86_64, 48, 0, 0);
	empty_fs(&h, &fs, 0, 0, 0);
	ionest_trace_set_output(f, IONEST_TRACE_TEXT);
	assert_true(ionest_trace_enable("vtd_*,hw_translate_fault") >= 4);
	vtd_h_expect_fault(&h, SID, false, 0, 0x5000, R, VTD_FR_FS_NP);
	assert_int_equal(vtd_h_sync(&h), 0);
	ionest_trace_enable(NULL);
	ionest_trace_set_output(NULL, IONEST_TRACE_TEXT);
	rewind(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	fclose(f);
	assert_non_null(strstr(buf, "vtd_fault:"));
	assert_non_null(strstr(buf, "reason=0x71"));
	assert_non_null(strstr(buf, "hw_translate_fault:"));
	assert_non_null(strstr(buf, "vtd_inv_desc:"));
	vtd_h_fini(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record_fields),
		cmocka_unit_test(test_fpd),
		cmocka_unit_test(test_rotation_and_overflow),
		cmocka_unit_test(test_fault_event),
		cmocka_unit_test(test_trace_points),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
