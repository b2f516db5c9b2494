// SPDX-License-Identifier: MIT
/* VT-d model: root, context, PASID directory and PASID table entries:
 * every fault reason their decoding produces, reserved bits (including
 * fields of features the part lacks), unreachable tables on a bounded bus. */
#include <string.h>

#include "hw/vtd/vtd.h"
#include "vtd_harness.h"

#define R IONEST_ACCESS_READ
#define RW (PT_PROT_READ | PT_PROT_WRITE)
#define SID 0x0508
#define DATA 0x40000000ull
#define OUTSIDE (1ull << 40) /* beyond the arena, below HAW */

struct env {
	struct vtd_h h;
	struct pt fs, ss;
	uint64_t *ce, *de, *pe;
};

/* A working FS setup for SID, PASID 1 and RID_PASID 0, on a bounded bus;
 * nothing translated yet (nothing cached). */
static void env_init(struct env *e, const struct ionest_vtd_config *cfg)
{
	uint64_t *pdir;

	vtd_h_init(&e->h, &(struct vtd_h_opts){ .cfg = cfg, .bounded = true });
	vtd_h_pt(&e->h, &e->fs, PT_FMT_X86_64, 48, 0, 0);
	vtd_h_pt(&e->h, &e->ss, PT_FMT_VTD_SS, 48, 0, 0);
	assert_int_equal(pt_map(&e->fs, 0x1000, DATA, 0x1000, RW, 0), 0);
	assert_int_equal(pt_map(&e->ss, 0x1000, DATA, 0x1000, RW, 0), 0);
	vtd_h_set_ctx(&e->h, SID, VTD_CE_PASIDE, 0, 0);
	e->ce = vtd_h_ctx(&e->h, SID);
	e->pe = vtd_h_pe(&e->h, SID, 1);
	vtd_h_write_pe(vtd_h_pe(&e->h, SID, 0),
		       &(struct vtd_h_pe){ .pgtt = VTD_PGTT_FS,
					   .did = 1,
					   .fsptptr = e->fs.root });
	vtd_h_write_pe(e->pe, &(struct vtd_h_pe){ .pgtt = VTD_PGTT_FS,
						  .did = 1,
						  .fsptptr = e->fs.root });
	pdir = (uint64_t *)(uintptr_t)(e->ce[0] & VTD_CE_PDIR_MASK);
	e->de = &pdir[0];
}

/* Expect @reason for PASID 1 and RID_PASID, recorded. */
static void expect(struct env *e, unsigned reason)
{
	struct ionest_xlate_res r;

	r = vtd_h_expect_fault(&e->h, SID, true, 1, 0x1000, R, reason);
	assert_true(r.recorded);
	assert_false(r.stage2);
	vtd_h_expect_fault(&e->h, SID, false, 0, 0x1000, R, reason);
	vtd_h_fini(&e->h);
}

static void test_ok(void **state)
{
	struct env e;

	env_init(&e, NULL);
	vtd_h_expect(&e.h, SID, true, 1, 0x1000, R, DATA);
	vtd_h_expect(&e.h, SID, false, 0, 0x1000, R, DATA);
	vtd_h_fini(&e.h);
}

/* ---- root ---- */

static void test_root(void **state)
{
	struct env e;

	env_init(&e, NULL);
	vtd_h_wr64(&e.h, VTD_REG_RTADDR,
		   OUTSIDE | (uint64_t)VTD_TTM_SCALABLE << 10);
	vtd_h_gcmd(&e.h, VTD_GCMD_SRTP, true);
	expect(&e, VTD_FR_ROOT_ACCESS);

	env_init(&e, NULL);
	e.h.root[2 * 5] = 0;
	expect(&e, VTD_FR_ROOT_NP);

	env_init(&e, NULL);
	e.h.root[2 * 5] |= 1ull << 3;
	expect(&e, VTD_FR_ROOT_RSVD);

	env_init(&e, NULL);
	e.h.root[2 * 5] = OUTSIDE | VTD_RE_LP;
	expect(&e, VTD_FR_CTX_ACCESS);
}

/* ---- context ---- */

static void test_context(void **state)
{
	static const struct ionest_vtd_config nodt = { .dt = IONEST_CFG(0) },
					      noprs = { .prs = IONEST_CFG(0) },
					      nopasid = { .pasid = IONEST_CFG(
								  0) };
	struct env e;

	env_init(&e, NULL);
	e.ce[0] &= ~VTD_CE_P;
	expect(&e, VTD_FR_CTX_NP);
	/* Reserved: bits 8:5, RID_PRIV and above, the upper 128 bits, a
	 * directory beyond HAW. */
	env_init(&e, NULL);
	e.ce[0] |= 1ull << 6;
	expect(&e, VTD_FR_CTX_RSVD);
	env_init(&e, NULL);
	e.ce[1] |= VTD_CE_RID_PRIV;
	expect(&e, VTD_FR_CTX_RSVD);
	env_init(&e, NULL);
	e.ce[3] = 1;
	expect(&e, VTD_FR_CTX_RSVD);
	env_init(&e, NULL);
	e.ce[0] |= 1ull << 50;
	expect(&e, VTD_FR_CTX_RSVD);
	/* Fields of absent features are reserved. */
	env_init(&e, &nodt);
	e.ce[0] |= VTD_CE_DTE;
	expect(&e, VTD_FR_CTX_RSVD);
	env_init(&e, &noprs);
	e.ce[0] |= VTD_CE_PRE;
	expect(&e, VTD_FR_CTX_RSVD);
	env_init(&e, &nopasid);
	expect(&e, VTD_FR_CTX_RSVD); /* PASIDE set by env_init */
}

static void test_context_pasid_checks(void **state)
{
	struct env e;

	/* PASIDE=0: requests with PASID refused, RID_PASID still works. */
	env_init(&e, NULL);
	e.ce[0] &= ~VTD_CE_PASIDE;
	vtd_h_expect_fault(&e.h, SID, true, 1, 0x1000, R, VTD_FR_CTX_PASIDE);
	vtd_h_expect(&e.h, SID, false, 0, 0x1000, R, DATA);
	vtd_h_fini(&e.h);

	/* PDTS 0: 128 directory entries = PASIDs 0..8191. */
	env_init(&e, NULL);
	vtd_h_expect_fault(&e.h, SID, true, 8192, 0x1000, R,
			   VTD_FR_CTX_PASID_MAX);
	vtd_h_expect_fault(&e.h, SID, true, 8191, 0x1000, R, VTD_FR_PDE_NP);
	/* RID_PASID beyond the directory. */
	e.ce[1] = 9000;
	vtd_h_expect_fault(&e.h, SID, false, 0, 0x1000, R,
			   VTD_FR_CTX_RID_PASID);
	vtd_h_fini(&e.h);

	/* The part's PASID width caps the directory too (PSS 9: 1024). */
	{
		struct ionest_vtd_config c = { .pss = IONEST_CFG(9) };

		env_init(&e, &c);
		vtd_h_expect_fault(&e.h, SID, true, 1024, 0x1000, R,
				   VTD_FR_CTX_PASID_MAX);
		vtd_h_fini(&e.h);
	}
}

/* ---- PASID directory ---- */

static void test_pasid_dir(void **state)
{
	struct env e;

	env_init(&e, NULL);
	e.ce[0] = (e.ce[0] & 0xfff) | OUTSIDE;
	expect(&e, VTD_FR_PDE_ACCESS);

	env_init(&e, NULL);
	*e.de &= ~VTD_PDE_P;
	expect(&e, VTD_FR_PDE_NP);

	env_init(&e, NULL);
	*e.de |= 1ull << 2;
	expect(&e, VTD_FR_PDE_RSVD);

	env_init(&e, NULL);
	*e.de = OUTSIDE | VTD_PDE_P;
	expect(&e, VTD_FR_PE_ACCESS);
}

/* ---- PASID entry ---- */

/* Both PASID entries get the same change. */
static void both(struct env *e, unsigned word, uint64_t set, uint64_t clear)
{
	uint64_t *pe0 = vtd_h_pe(&e->h, SID, 0);

	e->pe[word] = (e->pe[word] & ~clear) | set;
	pe0[word] = (pe0[word] & ~clear) | set;
}

static void pe_case(const struct ionest_vtd_config *cfg, unsigned word,
		    uint64_t set, uint64_t clear, unsigned reason)
{
	struct env e;

	env_init(&e, cfg);
	both(&e, word, set, clear);
	expect(&e, reason);
}

static void test_pasid_entry(void **state)
{
	static const struct ionest_vtd_config
		nossads = { .ssads = IONEST_CFG(0) },
		nosrs = { .srs = IONEST_CFG(0) },
		noeafs = { .eafs = IONEST_CFG(0) },
		nosc = { .sc = IONEST_CFG(0) }, nd0 = { .nd = IONEST_CFG(0) },
		nofsts = { .fsts = IONEST_CFG(0), .nest = IONEST_CFG(0) },
		nossts = { .ssts = IONEST_CFG(0), .nest = IONEST_CFG(0) },
		nopt = { .pt = IONEST_CFG(0) },
		nofs5 = { .fs5lp = IONEST_CFG(0) };
	const uint64_t pgtt = 7ull << VTD_PE_PGTT_SHIFT;

	pe_case(NULL, 0, 0, VTD_PE_P, VTD_FR_PE_NP);
	/* Reserved fields. */
	pe_case(NULL, 0, 1ull << 10, 0, VTD_FR_PE_RSVD);
	pe_case(NULL, 1, 1ull << 20, 0, VTD_FR_PE_RSVD);
	pe_case(NULL, 1, 1ull << 40, 0, VTD_FR_PE_RSVD);
	pe_case(NULL, 2, 1ull << 5, 0, VTD_FR_PE_RSVD);
	pe_case(NULL, 2, 1ull << 9, 0, VTD_FR_PE_RSVD);
	pe_case(NULL, 3, 1, 0, VTD_FR_PE_RSVD);
	pe_case(NULL, 7, 1ull << 63, 0, VTD_FR_PE_RSVD);
	pe_case(NULL, 2, 1ull << 50, 0, VTD_FR_PE_RSVD); /* FSPTPTR > HAW */
	/* SSEE needs ECAP.ERS (off by default). */
	pe_case(NULL, 0, VTD_PE_SSEE, 0, VTD_FR_PE_RSVD);
	pe_case(&nossads, 0, VTD_PE_SSADE, 0, VTD_FR_PE_RSVD);
	pe_case(&nosrs, 2, VTD_PE_SRE, 0, VTD_FR_PE_RSVD);
	pe_case(NULL, 2, VTD_PE_ERE, 0, VTD_FR_PE_RSVD);
	pe_case(&noeafs, 2, VTD_PE_EAFE, 0, VTD_FR_PE_RSVD);
	pe_case(&nosc, 1, VTD_PE_PGSNP, 0, VTD_FR_PE_RSVD);
	/* ND 0: 16 domains. */
	pe_case(&nd0, 1, 16, 0, VTD_FR_PE_RSVD);

	/* Invalid programming: PGTT values. */
	pe_case(NULL, 0, 0, pgtt, VTD_FR_PE_INV);
	pe_case(NULL, 0, 5ull << VTD_PE_PGTT_SHIFT, pgtt, VTD_FR_PE_INV);
	pe_case(NULL, 0, 7ull << VTD_PE_PGTT_SHIFT, pgtt, VTD_FR_PE_INV);
	pe_case(&nofsts, 0, 0, 0, VTD_FR_PE_INV);
	pe_case(&nopt, 0, (uint64_t)VTD_PGTT_PT << VTD_PE_PGTT_SHIFT, pgtt,
		VTD_FR_PE_INV);
	/* First-stage paging mode. */
	pe_case(NULL, 2, 2ull << VTD_PE_FSPM_SHIFT, 0, VTD_FR_PE_INV);
	pe_case(&nofs5, 2, 1ull << VTD_PE_FSPM_SHIFT, 0, VTD_FR_PE_INV);
	/* PGTT SS without SSTS. */
	{
		struct env e;

		env_init(&e, &nossts);
		vtd_h_write_pe(e.pe,
			       &(struct vtd_h_pe){ .pgtt = VTD_PGTT_SS,
						   .did = 1,
						   .ssptptr = e.ss.root });
		vtd_h_write_pe(vtd_h_pe(&e.h, SID, 0),
			       &(struct vtd_h_pe){ .pgtt = VTD_PGTT_SS,
						   .did = 1,
						   .ssptptr = e.ss.root });
		expect(&e, VTD_FR_PE_INV);
	}
}

static void test_pasid_entry_ss(void **state)
{
	const uint64_t aw = 7ull << VTD_PE_AW_SHIFT;
	struct env e;

	/* Second-stage widths not in SAGAW (default: 48-bit only). */
	for (unsigned w = 0; w < 8; w++) {
		if (w == 2)
			continue;
		env_init(&e, NULL);
		vtd_h_write_pe(e.pe,
			       &(struct vtd_h_pe){ .pgtt = VTD_PGTT_SS,
						   .did = 1,
						   .ssptptr = e.ss.root });
		vtd_h_write_pe(vtd_h_pe(&e.h, SID, 0),
			       &(struct vtd_h_pe){ .pgtt = VTD_PGTT_SS,
						   .did = 1,
						   .ssptptr = e.ss.root });
		both(&e, 0, (uint64_t)w << VTD_PE_AW_SHIFT, aw);
		expect(&e, VTD_FR_PE_INV);
	}
	/* SSPTPTR beyond HAW is reserved. */
	env_init(&e, NULL);
	vtd_h_write_pe(e.pe, &(struct vtd_h_pe){ .pgtt = VTD_PGTT_SS,
						 .did = 1,
						 .ssptptr = 1ull << 50 });
	vtd_h_write_pe(vtd_h_pe(&e.h, SID, 0),
		       &(struct vtd_h_pe){ .pgtt = VTD_PGTT_SS,
					   .did = 1,
					   .ssptptr = 1ull << 50 });
	expect(&e, VTD_FR_PE_RSVD);
	/* ... but not looked at for first-stage only entries. */
	env_init(&e, NULL);
	both(&e, 0, 1ull << 50, 0);
	vtd_h_expect(&e.h, SID, true, 1, 0x1000, R, DATA);
	vtd_h_fini(&e.h);
}

static void test_legacy_ttm_refused(void **state)
{
	struct ionest_xlate_res r;
	struct env e;
	uint64_t lo, hi;

	/* Legacy TTM latched and translation enabled: every request is
	 * blocked with 0x30, recorded, whatever the tables say. */
	env_init(&e, NULL);
	vtd_h_wr64(&e.h, VTD_REG_RTADDR, vtd_h_pa(e.h.root));
	vtd_h_gcmd(&e.h, VTD_GCMD_SRTP, true);
	r = vtd_h_expect_fault(&e.h, SID, false, 0, 0x1000, R,
			       VTD_FR_ROOT_TABLE_INV);
	assert_true(r.recorded);
	vtd_h_frcd(&e.h, 0, &lo, &hi);
	assert_int_equal(VTD_FRCD_HI_FR(hi), VTD_FR_ROOT_TABLE_INV);
	/* Reads back as written. */
	assert_int_equal(vtd_h_rd64(&e.h, VTD_REG_RTADDR), vtd_h_pa(e.h.root));
	/* Abort-DMA mode (TTM 11) is not supported either. */
	vtd_h_wr64(&e.h, VTD_REG_RTADDR,
		   vtd_h_pa(e.h.root) | 3ull << VTD_RTADDR_TTM_SHIFT);
	vtd_h_gcmd(&e.h, VTD_GCMD_SRTP, true);
	vtd_h_expect_fault(&e.h, SID, false, 0, 0x1000, R,
			   VTD_FR_ROOT_TABLE_INV);
	/* Scalable again: works (the pointer is latched only by SRTP). */
	vtd_h_wr64(&e.h, VTD_REG_RTADDR,
		   vtd_h_pa(e.h.root) | 1ull << VTD_RTADDR_TTM_SHIFT);
	vtd_h_expect_fault(&e.h, SID, false, 0, 0x1000, R,
			   VTD_FR_ROOT_TABLE_INV);
	vtd_h_gcmd(&e.h, VTD_GCMD_SRTP, true);
	vtd_h_expect(&e.h, SID, false, 0, 0x1000, R, DATA);
	/* A root table beyond HAW: 0x30 too. */
	vtd_h_wr64(&e.h, VTD_REG_RTADDR,
		   1ull << 50 | 1ull << VTD_RTADDR_TTM_SHIFT);
	vtd_h_gcmd(&e.h, VTD_GCMD_SRTP, true);
	vtd_h_expect_fault(&e.h, SID, false, 0, 0x1000, R,
			   VTD_FR_ROOT_TABLE_INV);
	vtd_h_fini(&e.h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ok),
		cmocka_unit_test(test_root),
		cmocka_unit_test(test_context),
		cmocka_unit_test(test_context_pasid_checks),
		cmocka_unit_test(test_pasid_dir),
		cmocka_unit_test(test_pasid_entry),
		cmocka_unit_test(test_pasid_entry_ss),
		cmocka_unit_test(test_legacy_ttm_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
