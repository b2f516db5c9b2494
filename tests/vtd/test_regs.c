// SPDX-License-Identifier: MIT
/* VT-d model: capabilities and their configuration, the GCMD/GSTS
 * handshake, register access widths, reserved space, creation failures. */
#include <errno.h>
#include <string.h>

#include "hw/vtd/vtd.h"
#include "util/alloc.h"
#include "vtd_harness.h"

static void test_default_caps(void **state)
{
	struct vtd_h h;
	uint64_t cap, ecap;

	vtd_h_init(&h, &(struct vtd_h_opts){ .no_enable = true });
	cap = vtd_h_rd64(&h, VTD_REG_CAP);
	ecap = vtd_h_rd64(&h, VTD_REG_ECAP);
	assert_int_equal(vtd_h_rd32(&h, VTD_REG_VER), VTD_VERSION);
	assert_int_equal(VTD_CAP_ND(cap), 6);
	assert_int_equal(VTD_CAP_SAGAW(cap), VTD_SAGAW_48);
	assert_int_equal(VTD_CAP_MGAW(cap), 47);
	assert_int_equal(VTD_CAP_FRO(cap), VTD_FRO);
	assert_int_equal(VTD_CAP_SSLPS(cap), 3);
	assert_int_equal(VTD_CAP_NFR(cap), 7);
	assert_int_equal(VTD_CAP_MAMV(cap), 18);
	assert_true(cap & VTD_CAP_PSI);
	assert_true(cap & VTD_CAP_FS1GP);
	assert_true(cap & VTD_CAP_FS5LP);
	assert_false(cap & VTD_CAP_CM);
	assert_false(cap & (VTD_CAP_RWBF | VTD_CAP_PLMR | VTD_CAP_PHMR));
	assert_int_equal(VTD_ECAP_IRO(ecap), VTD_IRO);
	assert_int_equal(VTD_ECAP_PSS(ecap), 19);
	assert_true(ecap & VTD_ECAP_QI);
	assert_true(ecap & VTD_ECAP_DT);
	assert_true(ecap & VTD_ECAP_PT);
	assert_true(ecap & VTD_ECAP_SC);
	assert_true(ecap & VTD_ECAP_NEST);
	assert_true(ecap & VTD_ECAP_PRS);
	assert_true(ecap & VTD_ECAP_SRS);
	assert_true(ecap & VTD_ECAP_EAFS);
	assert_true(ecap & VTD_ECAP_PASID);
	assert_true(ecap & VTD_ECAP_SMTS);
	assert_true(ecap & VTD_ECAP_SSADS);
	assert_true(ecap & VTD_ECAP_SSTS);
	assert_true(ecap & VTD_ECAP_FSTS);
	assert_false(ecap & (VTD_ECAP_ERS | VTD_ECAP_IR));
	assert_string_equal(ionest_hw_model(h.hw), "vtd");
	assert_true(ionest_hw_can_nest(h.hw));
	assert_int_equal(strncmp(ionest_hw_name(h.hw), "vtd", 3), 0);
	/* Translation off after reset. */
	assert_int_equal(vtd_h_rd32(&h, VTD_REG_GSTS), 0);
	vtd_h_fini(&h);
}

static void test_config_overrides(void **state)
{
	struct ionest_vtd_config c = {
		.sagaw = IONEST_CFG(VTD_SAGAW_39 | VTD_SAGAW_57),
		.mgaw = IONEST_CFG(56),
		.sslps = IONEST_CFG(0),
		.fs1gp = IONEST_CFG(0),
		.fs5lp = IONEST_CFG(0),
		.nd = IONEST_CFG(2),
		.nfr = IONEST_CFG(0),
		.psi = IONEST_CFG(0),
		.mamv = IONEST_CFG(9),
		.cm = IONEST_CFG(1),
		.qi = IONEST_CFG(1),
		.dt = IONEST_CFG(0),
		.pt = IONEST_CFG(0),
		.sc = IONEST_CFG(0),
		.nest = IONEST_CFG(0),
		.prs = IONEST_CFG(0),
		.srs = IONEST_CFG(0),
		.ers = IONEST_CFG(1),
		.pss = IONEST_CFG(7),
		.pasid = IONEST_CFG(0),
		.ssads = IONEST_CFG(0),
		.eafs = IONEST_CFG(0),
		.tlb_entries = 64,
	};
	struct ionest_hw *hw = ionest_vtd_new(&c);
	uint64_t cap, ecap;

	assert_non_null(hw);
	assert_int_equal(ionest_hw_mmio_read(hw, VTD_REG_CAP, 8, &cap), 0);
	assert_int_equal(ionest_hw_mmio_read(hw, VTD_REG_ECAP, 8, &ecap), 0);
	assert_int_equal(VTD_CAP_SAGAW(cap), VTD_SAGAW_39 | VTD_SAGAW_57);
	assert_int_equal(VTD_CAP_MGAW(cap), 56);
	assert_int_equal(VTD_CAP_SSLPS(cap), 0);
	assert_int_equal(VTD_CAP_ND(cap), 2);
	assert_int_equal(VTD_CAP_NFR(cap), 0);
	assert_int_equal(VTD_CAP_MAMV(cap), 9);
	assert_int_equal(cap & (VTD_CAP_FS1GP | VTD_CAP_FS5LP | VTD_CAP_PSI),
			 0);
	assert_true(cap & VTD_CAP_CM);
	assert_int_equal(VTD_ECAP_PSS(ecap), 7);
	assert_true(ecap & VTD_ECAP_ERS);
	assert_int_equal(ecap & (VTD_ECAP_DT | VTD_ECAP_PT | VTD_ECAP_SC |
				 VTD_ECAP_NEST | VTD_ECAP_PRS | VTD_ECAP_SRS |
				 VTD_ECAP_PASID | VTD_ECAP_SSADS |
				 VTD_ECAP_EAFS),
			 0);
	assert_false(ionest_hw_can_nest(hw));
	assert_int_equal(hw_tlb_count(&to_vtd(hw)->iotlb), 0);
	assert_true(to_vtd(hw)->iotlb.nsets * HW_TLB_WAYS >= 64);
	assert_true(to_vtd(hw)->iotlb.nsets * HW_TLB_WAYS < 128);
	ionest_hw_free(hw);
}

static void test_config_invalid(void **state)
{
	static const struct ionest_vtd_config bad[] = {
		{ .mgaw = IONEST_CFG(30) },
		{ .mgaw = IONEST_CFG(57) },
		{ .sagaw = IONEST_CFG(1) }, /* 2-level: no such width */
		{ .sagaw = IONEST_CFG(0) }, /* SS without any width */
		{ .sslps = IONEST_CFG(2) }, /* 1G without 2M */
		{ .nd = IONEST_CFG(7) },
		{ .pss = IONEST_CFG(20) },
		{ .fsts = IONEST_CFG(0) }, /* NEST without FS */
		{ .smts = IONEST_CFG(0) }, /* legacy-only part */
		{ .qi = 3 }, /* a boolean set to 2 */
		{ .tlb_entries = (1u << 24) + 1 },
	};

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_null(ionest_vtd_new(&bad[i]));
	/* Allocation failures at every step: NULL, nothing leaked. */
	for (unsigned long n = 1;; n++) {
		struct ionest_hw *hw;

		fault_inject_nth(n);
		hw = ionest_vtd_new(NULL);
		fault_inject_nth(0);
		if (hw) {
			assert_true(n > 3);
			ionest_hw_free(hw);
			break;
		}
	}
}

static void test_gcmd_handshake(void **state)
{
	struct ionest_vtd_config noqi = { .qi = IONEST_CFG(0) };
	struct vtd_h h;

	vtd_h_init(&h, &(struct vtd_h_opts){ .no_enable = true });
	vtd_h_wr64(&h, VTD_REG_RTADDR, vtd_h_pa(h.root) | 0x7ff);
	/* Bits 9:0 are reserved; TTM reads back. */
	assert_int_equal(vtd_h_rd64(&h, VTD_REG_RTADDR),
			 vtd_h_pa(h.root) | 0x400);
	vtd_h_gcmd(&h, VTD_GCMD_SRTP, true);
	assert_int_equal(vtd_h_rd32(&h, VTD_REG_GSTS), VTD_GSTS_RTPS);
	vtd_h_gcmd(&h, VTD_GCMD_WBF, true);
	vtd_h_wr64(&h, VTD_REG_IQA, vtd_h_pa(h.iq) | VTD_IQA_DW);
	vtd_h_gcmd(&h, VTD_GCMD_QIE, true);
	vtd_h_gcmd(&h, VTD_GCMD_TE, true);
	assert_int_equal(vtd_h_rd32(&h, VTD_REG_GSTS) &
				 (VTD_GSTS_TES | VTD_GSTS_QIES),
			 VTD_GSTS_TES | VTD_GSTS_QIES);
	/* GCMD is write-only. */
	assert_int_equal(vtd_h_rd32(&h, VTD_REG_GCMD), 0);
	/* IQA is fixed while the queue is on. */
	vtd_h_wr64(&h, VTD_REG_IQA, 0x1000);
	assert_int_equal(vtd_h_rd64(&h, VTD_REG_IQA),
			 vtd_h_pa(h.iq) | VTD_IQA_DW);
	assert_int_equal(vtd_h_sync(&h), 0);
	vtd_h_gcmd(&h, VTD_GCMD_TE, false);
	vtd_h_gcmd(&h, VTD_GCMD_QIE, false);
	assert_int_equal(vtd_h_rd32(&h, VTD_REG_GSTS), VTD_GSTS_RTPS);
	vtd_h_fini(&h);

	/* No QI: QIE does not stick; the queue registers are RAZ/WI. */
	vtd_h_init(&h, &(struct vtd_h_opts){ .cfg = &noqi, .no_enable = true });
	vtd_h_wr32(&h, VTD_REG_GCMD, VTD_GCMD_QIE);
	assert_int_equal(vtd_h_rd32(&h, VTD_REG_GSTS), 0);
	vtd_h_wr64(&h, VTD_REG_IQA, vtd_h_pa(h.iq));
	assert_int_equal(vtd_h_rd64(&h, VTD_REG_IQA), 0);
	vtd_h_fini(&h);
}

static void test_access_widths(void **state)
{
	struct ionest_vtd_config noprs = { .prs = IONEST_CFG(0) };
	struct vtd_h h;
	uint64_t v;

	vtd_h_init(&h, &(struct vtd_h_opts){ .no_enable = true });
	/* A 64-bit register in two 32-bit halves. */
	vtd_h_wr32(&h, VTD_REG_RTADDR, 0x12345400);
	vtd_h_wr32(&h, VTD_REG_RTADDR + 4, 0x7f);
	assert_int_equal(vtd_h_rd64(&h, VTD_REG_RTADDR), 0x7f12345400ull);
	assert_int_equal(vtd_h_rd32(&h, VTD_REG_RTADDR + 4), 0x7f);
	/* Two 32-bit registers in one 64-bit access. */
	vtd_h_wr64(&h, VTD_REG_FECTL, 0x1234ull << 32 | VTD_ECTL_IM);
	assert_int_equal(vtd_h_rd32(&h, VTD_REG_FECTL), VTD_ECTL_IM);
	assert_int_equal(vtd_h_rd32(&h, VTD_REG_FEDATA), 0x1234);
	assert_int_equal(vtd_h_rd64(&h, VTD_REG_FECTL),
			 0x1234ull << 32 | VTD_ECTL_IM);
	/* CAP/ECAP are read-only. */
	v = vtd_h_rd64(&h, VTD_REG_CAP);
	vtd_h_wr64(&h, VTD_REG_CAP, 0);
	assert_int_equal(vtd_h_rd64(&h, VTD_REG_CAP), v);
	/* IVA keeps ADDR, IH, AM. */
	vtd_h_wr64(&h, 16 * VTD_IRO, 0xabcde000 | 0xfff);
	assert_int_equal(vtd_h_rd64(&h, 16 * VTD_IRO), 0xabcde000 | 0x7f);
	/* Reserved space: RAZ/WI. */
	vtd_h_wr64(&h, 0x1f00, ~0ull);
	assert_int_equal(vtd_h_rd64(&h, 0x1f00), 0);
	assert_int_equal(vtd_h_rd64(&h, VTD_REG_AFLOG), 0);
	assert_int_equal(vtd_h_rd64(&h, VTD_REG_IRTA), 0);
	/* Bad widths and alignment. */
	assert_int_equal(ionest_hw_mmio_read(h.hw, VTD_REG_CAP, 2, &v),
			 -EINVAL);
	assert_int_equal(ionest_hw_mmio_read(h.hw, VTD_REG_CAP + 4, 8, &v),
			 -EINVAL);
	assert_int_equal(ionest_hw_mmio_write(h.hw, VTD_REG_GCMD + 1, 4, 0),
			 -EINVAL);
	vtd_h_fini(&h);

	/* Without PRS the page request registers are RAZ/WI. */
	vtd_h_init(&h, &(struct vtd_h_opts){ .cfg = &noprs, .no_enable = 1 });
	vtd_h_wr64(&h, VTD_REG_PQA, vtd_h_pa(h.prq));
	assert_int_equal(vtd_h_rd64(&h, VTD_REG_PQA), 0);
	vtd_h_fini(&h);
}

static void test_flush_caches(void **state)
{
	struct vtd_h h;
	struct pt fs;
	struct vtd *v;

	vtd_h_init(&h, NULL);
	v = to_vtd(h.hw);
	vtd_h_pt(&h, &fs, PT_FMT_X86_64, 48, 0, 0);
	vtd_h_attach(&h, 0x0100, 0,
		     &(struct vtd_h_pe){ .pgtt = VTD_PGTT_FS,
					 .did = 1,
					 .fsptptr = fs.root });
	assert_int_equal(
		pt_map(&fs, 0x1000, 0x40000000, 0x1000, PT_PROT_READ, 0), 0);
	vtd_h_expect(&h, 0x0100, false, 0, 0x1000, IONEST_ACCESS_READ,
		     0x40000000);
	assert_int_equal(hw_tlb_count(&v->iotlb), 1);
	assert_int_equal(vtd_cc_count(&v->cc), 1);
	ionest_hw_flush_caches(h.hw);
	assert_int_equal(hw_tlb_count(&v->iotlb), 0);
	assert_int_equal(vtd_cc_count(&v->cc), 0);
	vtd_h_fini(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_caps),
		cmocka_unit_test(test_config_overrides),
		cmocka_unit_test(test_config_invalid),
		cmocka_unit_test(test_gcmd_handshake),
		cmocka_unit_test(test_access_widths),
		cmocka_unit_test(test_flush_caches),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
