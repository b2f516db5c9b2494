// SPDX-License-Identifier: MIT
/* VT-d model: single-stage walks. First stage (x86-64 4/5-level, U/S, R/W,
 * XD, SRE/WPE/ERE, A/D/EA, canonical addresses, superpages), second stage
 * (R/W/X, superpages, SSADE, widths), pass-through and translation off. */
#include <errno.h>
#include <string.h>

#include "hw/vtd/vtd.h"
#include "vtd_harness.h"

#define R IONEST_ACCESS_READ
#define W IONEST_ACCESS_WRITE
#define X IONEST_ACCESS_EXEC
#define P IONEST_ACCESS_PRIV
#define PR PT_PROT_READ
#define PW PT_PROT_WRITE
#define PX PT_PROT_EXEC
#define PP PT_PROT_PRIV
#define RW (PR | PW)
#define SID 0x0108
#define DATA 0x40000000ull /* output addresses are never touched */
#define SZ_2M (1ull << 21)
#define SZ_1G (1ull << 30)

static void map(struct pt *pt, uint64_t iova, uint64_t pa, uint64_t size,
		uint32_t prot)
{
	assert_int_equal(pt_map(pt, iova, pa, size, prot, 0), 0);
}

static uint64_t ctr(struct vtd_h *h, enum hw_counter c)
{
	return to_vtd(h->hw)->hw.ctr_val[c];
}

/* A first-stage PASID entry for RID_PASID 0 of SID over @fs. */
static void attach_fs(struct vtd_h *h, struct pt *fs, uint64_t q2)
{
	vtd_h_attach(h, SID, 0,
		     &(struct vtd_h_pe){ .pgtt = VTD_PGTT_FS,
					 .did = 1,
					 .fsptptr = fs->root,
					 .fs5 = fs->cfg.ias == 57,
					 .q2 = q2 });
}

static void test_fs_basic(void **state)
{
	struct vtd_h h;
	struct pt fs;
	struct ionest_xlate_res r;
	uint64_t *leaf, *top;
	uint64_t hits;

	vtd_h_init(&h, NULL);
	vtd_h_pt(&h, &fs, PT_FMT_X86_64, 48, 0, 0);
	attach_fs(&h, &fs, 0);
	map(&fs, 0x1000, DATA, 0x1000, RW);

	/* A read of a clean page: cached without W. */
	r = vtd_h_expect(&h, SID, false, 0, 0x1234, R, DATA + 0x234);
	assert_int_equal(r.size, 0x1000);
	assert_int_equal(r.perm, R);
	leaf = vtd_h_pte(&fs, 0x1000, 0);
	top = vtd_h_pte(&fs, 0x1000, 3);
	assert_true(*leaf & VTD_FS_A);
	assert_false(*leaf & VTD_FS_D);
	assert_true(*top & VTD_FS_A); /* A on every level walked */

	/* The write walks again and sets D; then hits carry W. */
	r = vtd_h_expect(&h, SID, false, 0, 0x1ff8, W, DATA + 0xff8);
	assert_int_equal(r.perm, R | W);
	assert_true(*leaf & VTD_FS_D);
	hits = ctr(&h, hw_tlb_hit);
	r = vtd_h_expect(&h, SID, false, 0, 0x1000, R | W, DATA);
	assert_int_equal(r.perm, R | W);
	assert_int_equal(ctr(&h, hw_tlb_hit), hits + 1);

	/* Not present. */
	vtd_h_expect_fault(&h, SID, false, 0, 0x3000, R, VTD_FR_FS_NP);
	vtd_h_fini(&h);
}

static void test_fs_5level_and_canonical(void **state)
{
	struct vtd_h h;
	struct pt fs4, fs5;
	uint64_t hi = 0x00f0000000001000ull, upper = 0xff00000000002000ull;

	vtd_h_init(&h, NULL);
	vtd_h_pt(&h, &fs5, PT_FMT_X86_64, 57, 0, 0);
	attach_fs(&h, &fs5, 0);
	map(&fs5, hi, DATA, 0x1000, RW);
	map(&fs5, upper & ((1ull << 57) - 1), DATA + 0x1000, 0x1000, RW);
	vtd_h_expect(&h, SID, false, 0, hi + 8, R, DATA + 8);
	/* Upper-half canonical addresses walk with their low 57 bits. */
	vtd_h_expect(&h, SID, false, 0, upper + 8, R, DATA + 0x1008);
	/* Bit 57 set, bit 56 clear: non-canonical. */
	vtd_h_expect_fault(&h, SID, false, 0, 0x0200000000000000ull, R,
			   VTD_FR_FS_NONCANON);

	/* 4-level: bits 63:48 must copy bit 47. */
	vtd_h_pt(&h, &fs4, PT_FMT_X86_64, 48, 0, 0);
	attach_fs(&h, &fs4, 0);
	assert_int_equal(vtd_h_flush_pe(&h, 1, 0), 0);
	map(&fs4, 0x800000001000ull, DATA, 0x1000, RW);
	vtd_h_expect(&h, SID, false, 0, 0xffff800000001010ull, R, DATA + 0x10);
	vtd_h_expect_fault(&h, SID, false, 0, 0x0000800000001000ull, R,
			   VTD_FR_FS_NONCANON);
	vtd_h_expect_fault(&h, SID, false, 0, hi, R, VTD_FR_FS_NONCANON);
	vtd_h_fini(&h);
}

static void test_fs_superpages(void **state)
{
	struct ionest_vtd_config cfg = { .fs1gp = IONEST_CFG(0) };
	struct ionest_xlate_res r;
	struct vtd_h h;
	struct pt fs;

	vtd_h_init(&h, NULL);
	vtd_h_pt(&h, &fs, PT_FMT_X86_64, 48, 0, 0);
	attach_fs(&h, &fs, 0);
	map(&fs, SZ_2M, 0x80000000, SZ_2M, RW);
	map(&fs, SZ_1G, 0x100000000ull, SZ_1G, RW);
	r = vtd_h_expect(&h, SID, false, 0, SZ_2M + 0x12345, R,
			 0x80000000 + 0x12345);
	assert_int_equal(r.size, SZ_2M);
	r = vtd_h_expect(&h, SID, false, 0, SZ_1G + 0x3456789, R,
			 0x100000000ull + 0x3456789);
	assert_int_equal(r.size, SZ_1G);
	vtd_h_fini(&h);

	/* Without FS1GP a 1G leaf (PS in the PDPTE) is reserved. */
	vtd_h_init(&h, &(struct vtd_h_opts){ .cfg = &cfg });
	assert_false(vtd_h_rd64(&h, VTD_REG_CAP) & VTD_CAP_FS1GP);
	vtd_h_pt(&h, &fs, PT_FMT_X86_64, 48,
		 (1ull << 12) | (1ull << 21) | (1ull << 30), 0);
	attach_fs(&h, &fs, 0);
	map(&fs, SZ_1G, 0x100000000ull, SZ_1G, RW);
	map(&fs, SZ_2M, 0x80000000, SZ_2M, RW);
	vtd_h_expect_fault(&h, SID, false, 0, SZ_1G, R, VTD_FR_FS_RSVD);
	vtd_h_expect(&h, SID, false, 0, SZ_2M, R, 0x80000000);
	vtd_h_fini(&h);
}

static void test_fs_user_supervisor(void **state)
{
	struct vtd_h h;
	struct pt fs;
	struct ionest_xlate_res r;

	vtd_h_init(&h, NULL);
	vtd_h_pt(&h, &fs, PT_FMT_X86_64, 48, 0, 0);
	vtd_h_attach(&h, SID, 5,
		     &(struct vtd_h_pe){ .pgtt = VTD_PGTT_FS,
					 .did = 1,
					 .fsptptr = fs.root });
	map(&fs, 0x1000, DATA, 0x1000, RW | PP); /* supervisor page */
	map(&fs, 0x2000, DATA + 0x1000, 0x1000, RW);

	/* User request, U/S=0 page: 0x81. */
	vtd_h_expect_fault(&h, SID, true, 5, 0x1000, R, VTD_FR_FS_US);
	vtd_h_expect(&h, SID, true, 5, 0x2000, R, DATA + 0x1000);
	/* Supervisor request with SRE=0: 0x5D. */
	vtd_h_expect_fault(&h, SID, true, 5, 0x1000, R | P, VTD_FR_PE_SRE);

	vtd_h_attach(&h, SID, 5,
		     &(struct vtd_h_pe){ .pgtt = VTD_PGTT_FS,
					 .did = 1,
					 .fsptptr = fs.root,
					 .q2 = VTD_PE_SRE });
	assert_int_equal(vtd_h_flush_pe(&h, 1, 5), 0);
	r = vtd_h_expect(&h, SID, true, 5, 0x1000, R | P, DATA);
	assert_int_equal(r.perm & P, P);
	/* Supervisors reach user pages too. */
	vtd_h_expect(&h, SID, true, 5, 0x2000, R | P, DATA + 0x1000);
	/* The cached supervisor entry does not serve a user request. */
	vtd_h_expect_fault(&h, SID, true, 5, 0x1000, R, VTD_FR_FS_US);

	/* PRIV and EXEC need a PASID prefix. */
	{
		struct ionest_xlate_req req = { .sid = SID,
						.access = R | P,
						.iova = 0x1000 };

		assert_int_equal(ionest_hw_translate(h.hw, &req, &r), -EINVAL);
		req.access = X;
		assert_int_equal(ionest_hw_translate(h.hw, &req, &r), -EINVAL);
		req.access = 0;
		req.ssid_valid = true;
		assert_int_equal(ionest_hw_translate(h.hw, &req, &r), -EINVAL);
		req.access = R | (1u << 7);
		assert_int_equal(ionest_hw_translate(h.hw, &req, &r), -EINVAL);
		req.access = R;
		req.ssid = 1u << 20;
		assert_int_equal(ionest_hw_translate(h.hw, &req, &r), -EINVAL);
		req.ssid = 0;
		req.sid = 0x10000;
		assert_int_equal(ionest_hw_translate(h.hw, &req, &r), -EINVAL);
	}
	vtd_h_fini(&h);
}

static void test_fs_write_protect(void **state)
{
	struct vtd_h h;
	struct pt fs;
	uint64_t *leaf;

	vtd_h_init(&h, NULL);
	vtd_h_pt(&h, &fs, PT_FMT_X86_64, 48, 0, 0);
	vtd_h_attach(&h, SID, 3,
		     &(struct vtd_h_pe){ .pgtt = VTD_PGTT_FS,
					 .did = 2,
					 .fsptptr = fs.root,
					 .q2 = VTD_PE_SRE });
	map(&fs, 0x1000, DATA, 0x1000, PR); /* read-only user page */
	leaf = vtd_h_pte(&fs, 0x1000, 0);

	vtd_h_expect_fault(&h, SID, true, 3, 0x1000, W, VTD_FR_WRITE);
	assert_false(*leaf & VTD_FS_D);
	/* WPE=0: supervisor writes ignore R/W, and set D. */
	vtd_h_expect(&h, SID, true, 3, 0x1000, W | P, DATA);
	assert_true(*leaf & VTD_FS_D);

	/* WPE=1: they don't. */
	*leaf &= ~VTD_FS_D;
	vtd_h_attach(&h, SID, 3,
		     &(struct vtd_h_pe){ .pgtt = VTD_PGTT_FS,
					 .did = 2,
					 .fsptptr = fs.root,
					 .q2 = VTD_PE_SRE | VTD_PE_WPE });
	assert_int_equal(vtd_h_flush_pe(&h, 2, 3), 0);
	vtd_h_expect_fault(&h, SID, true, 3, 0x1000, W | P, VTD_FR_WRITE);
	assert_false(*leaf & VTD_FS_D);
	vtd_h_expect(&h, SID, true, 3, 0x1000, R | P, DATA);
	vtd_h_fini(&h);
}

static void test_fs_execute(void **state)
{
	struct ionest_vtd_config cfg = { .ers = IONEST_CFG(1) };
	struct ionest_xlate_res r;
	struct vtd_h h;
	struct pt fs;

	/* Without ECAP.ERS an execute request is refused (ERE cannot be
	 * set: it is reserved). */
	vtd_h_init(&h, NULL);
	vtd_h_pt(&h, &fs, PT_FMT_X86_64, 48, 0, 0);
	vtd_h_attach(&h, SID, 1,
		     &(struct vtd_h_pe){ .pgtt = VTD_PGTT_FS,
					 .did = 1,
					 .fsptptr = fs.root });
	map(&fs, 0x1000, DATA, 0x1000, PR | PX);
	vtd_h_expect_fault(&h, SID, true, 1, 0x1000, X, VTD_FR_PE_ERE);
	vtd_h_fini(&h);

	vtd_h_init(&h, &(struct vtd_h_opts){ .cfg = &cfg });
	vtd_h_pt(&h, &fs, PT_FMT_X86_64, 48, 0, 0);
	vtd_h_attach(&h, SID, 1,
		     &(struct vtd_h_pe){ .pgtt = VTD_PGTT_FS,
					 .did = 1,
					 .fsptptr = fs.root,
					 .q2 = VTD_PE_ERE });
	map(&fs, 0x1000, DATA, 0x1000, PR | PX);
	map(&fs, 0x2000, DATA + 0x1000, 0x1000, PR); /* XD */
	r = vtd_h_expect(&h, SID, true, 1, 0x1000, X, DATA);
	assert_int_equal(r.perm, R | X);
	vtd_h_expect_fault(&h, SID, true, 1, 0x2000, X, VTD_FR_EXEC);
	/* An XD page still reads; the entry cached for it has no X. */
	r = vtd_h_expect(&h, SID, true, 1, 0x2000, R, DATA + 0x1000);
	assert_int_equal(r.perm, R);
	vtd_h_expect_fault(&h, SID, true, 1, 0x2000, X, VTD_FR_EXEC);
	vtd_h_fini(&h);
}

static void test_fs_extended_accessed(void **state)
{
	struct vtd_h h;
	struct pt fs;

	vtd_h_init(&h, NULL);
	vtd_h_pt(&h, &fs, PT_FMT_X86_64, 48, 0, 0);
	attach_fs(&h, &fs, VTD_PE_EAFE);
	map(&fs, 0x1000, DATA, 0x1000, RW);
	map(&fs, 0x2000, DATA, 0x1000, RW);
	vtd_h_expect(&h, SID, false, 0, 0x1000, R, DATA);
	for (unsigned l = 0; l < 4; l++)
		assert_true(*vtd_h_pte(&fs, 0x1000, l) & VTD_FS_EA);
	/* Not the neighbour's leaf. */
	assert_false(*vtd_h_pte(&fs, 0x2000, 0) & VTD_FS_EA);
	vtd_h_fini(&h);

	/* Without EAFE nothing sets EA. */
	vtd_h_init(&h, NULL);
	vtd_h_pt(&h, &fs, PT_FMT_X86_64, 48, 0, 0);
	attach_fs(&h, &fs, 0);
	map(&fs, 0x1000, DATA, 0x1000, RW);
	vtd_h_expect(&h, SID, false, 0, 0x1000, W, DATA);
	assert_false(*vtd_h_pte(&fs, 0x1000, 0) & VTD_FS_EA);
	vtd_h_fini(&h);
}

static void test_fs_entry_faults(void **state)
{
	struct vtd_h h;
	struct pt fs;
	uint64_t *e, save;
	uint64_t outside = 1ull << 40; /* not in the arena */

	vtd_h_init(&h, &(struct vtd_h_opts){ .bounded = true });
	vtd_h_pt(&h, &fs, PT_FMT_X86_64, 48, 0, 0);
	attach_fs(&h, &fs, 0);
	map(&fs, 0x1000, DATA, 0x1000, RW);

	/* Address bits beyond HAW in the leaf: reserved (0x72). */
	e = vtd_h_pte(&fs, 0x1000, 0);
	save = *e;
	*e |= 1ull << 50;
	vtd_h_expect_fault(&h, SID, false, 0, 0x1000, R, VTD_FR_FS_RSVD);
	*e = save;
	/* PS in the PML4 entry: reserved. */
	e = vtd_h_pte(&fs, 0x1000, 3);
	save = *e;
	*e |= 1ull << 7;
	vtd_h_expect_fault(&h, SID, false, 0, 0x1000, R, VTD_FR_FS_RSVD);
	/* A lower table the bus cannot reach: 0x70. */
	*e = outside | 7;
	vtd_h_expect_fault(&h, SID, false, 0, 0x1000, R, VTD_FR_FS_ACCESS);
	*e = save;
	vtd_h_expect(&h, SID, false, 0, 0x1000, R, DATA);

	/* FSPTPTR the bus cannot reach: 0x73. */
	vtd_h_attach(&h, SID, 0,
		     &(struct vtd_h_pe){ .pgtt = VTD_PGTT_FS,
					 .did = 1,
					 .fsptptr = outside });
	assert_int_equal(vtd_h_flush_pe(&h, 1, 0), 0);
	vtd_h_expect_fault(&h, SID, false, 0, 0x1000, R, VTD_FR_FS_ROOT_ACCESS);
	vtd_h_fini(&h);
}

static void test_ad_update_failures(void **state)
{
	struct vtd_h h;
	struct pt fs, ss;
	uint64_t *leaf;

	/* The bus refuses writes to the last-level table: the A/D updates
	 * the access needs fail. */
	vtd_h_init(&h, &(struct vtd_h_opts){ .bounded = true });
	vtd_h_pt(&h, &fs, PT_FMT_X86_64, 48, 0, 0);
	attach_fs(&h, &fs, 0);
	map(&fs, 0x1000, DATA, 0x1000, RW);
	map(&fs, 0x2000, DATA, 0x1000, RW);
	vtd_h_expect(&h, SID, false, 0, 0x2000, R, DATA); /* tables' A */
	leaf = vtd_h_pte(&fs, 0x1000, 0);
	*leaf &= ~VTD_FS_A;
	h.ro_start = vtd_h_pa(leaf) & ~0xfffull;
	h.ro_len = 0x1000;
	vtd_h_expect_fault(&h, SID, false, 0, 0x1000, R, VTD_FR_FS_AD_UPDATE);
	*leaf |= VTD_FS_A;
	vtd_h_expect(&h, SID, false, 0, 0x1000, R, DATA);
	vtd_h_expect_fault(&h, SID, false, 0, 0x1000, W, VTD_FR_FS_AD_UPDATE);
	assert_false(*leaf & VTD_FS_D);
	h.ro_len = 0;
	vtd_h_expect(&h, SID, false, 0, 0x1000, W, DATA);
	assert_true(*leaf & VTD_FS_D);

	/* Second stage with SSADE: the same failure is an SS entry access
	 * error. */
	vtd_h_pt(&h, &ss, PT_FMT_VTD_SS, 48, 0, PT_CFG_AD);
	vtd_h_attach(&h, 0x0109, 0,
		     &(struct vtd_h_pe){ .pgtt = VTD_PGTT_SS,
					 .did = 2,
					 .ssptptr = ss.root,
					 .q0 = VTD_PE_SSADE });
	map(&ss, 0x1000, DATA, 0x1000, RW);
	map(&ss, 0x2000, DATA, 0x1000, RW);
	vtd_h_expect(&h, 0x0109, false, 0, 0x2000, R, DATA);
	h.ro_start = vtd_h_pa(vtd_h_pte(&ss, 0x1000, 0)) & ~0xfffull;
	h.ro_len = 0x1000;
	vtd_h_expect_fault(&h, 0x0109, false, 0, 0x1000, W, VTD_FR_SS_ACCESS);
	vtd_h_fini(&h);
}

/* ---- second stage ---- */

static void attach_ss(struct vtd_h *h, uint16_t sid, struct pt *ss,
		      uint16_t did, uint64_t q0)
{
	vtd_h_attach(h, sid, 0,
		     &(struct vtd_h_pe){ .pgtt = VTD_PGTT_SS,
					 .did = did,
					 .ssptptr = ss->root,
					 .aw = ss->cfg.ias == 39 ? 1 :
					       ss->cfg.ias == 48 ? 2 :
								   3,
					 .q0 = q0 });
}

static void test_ss_basic(void **state)
{
	struct ionest_xlate_res r;
	struct vtd_h h;
	struct pt ss;

	vtd_h_init(&h, NULL);
	vtd_h_pt(&h, &ss, PT_FMT_VTD_SS, 48, 0, 0);
	attach_ss(&h, SID, &ss, 4, 0);
	map(&ss, 0x1000, DATA, 0x1000, RW);
	map(&ss, 0x2000, DATA + 0x1000, 0x1000, PR);
	map(&ss, 0x3000, DATA + 0x2000, 0x1000, PW);
	map(&ss, SZ_2M, 0x80000000, SZ_2M, RW);
	map(&ss, SZ_1G, 0x100000000ull, SZ_1G, RW);

	r = vtd_h_expect(&h, SID, false, 0, 0x1008, R | W, DATA + 8);
	/* SSEE=0: X is not checked in the entries, but without ERE execute
	 * requests fault (0x5C): not granted. */
	assert_int_equal(r.perm, R | W);
	r = vtd_h_expect(&h, SID, false, 0, 0x2000, R, DATA + 0x1000);
	assert_int_equal(r.perm & (R | W), R);
	vtd_h_expect_fault(&h, SID, false, 0, 0x2000, W, VTD_FR_SS_PERM);
	vtd_h_expect(&h, SID, false, 0, 0x3000, W, DATA + 0x2000);
	r = vtd_h_expect_fault(&h, SID, false, 0, 0x3000, R, VTD_FR_SS_PERM);
	assert_true(r.stage2);
	/* No present bit: R=W=X=0 is not present, a permission error. */
	vtd_h_expect_fault(&h, SID, false, 0, 0x5000, R, VTD_FR_SS_PERM);
	r = vtd_h_expect(&h, SID, false, 0, SZ_2M + 0x1234, R,
			 0x80000000 + 0x1234);
	assert_int_equal(r.size, SZ_2M);
	r = vtd_h_expect(&h, SID, false, 0, SZ_1G + 0x1234, W,
			 0x100000000ull + 0x1234);
	assert_int_equal(r.size, SZ_1G);
	/* Beyond the 48-bit width: 0x83. */
	vtd_h_expect_fault(&h, SID, false, 0, 1ull << 48, R,
			   VTD_FR_ADDR_BEYOND);
	vtd_h_fini(&h);
}

static void test_ss_widths(void **state)
{
	struct ionest_vtd_config cfg = {
		.sagaw = IONEST_CFG(VTD_SAGAW_39 | VTD_SAGAW_48 | VTD_SAGAW_57),
		.mgaw = IONEST_CFG(56),
		.sslps = IONEST_CFG(1), /* 2M only */
	};
	struct vtd_h h;
	struct pt ss3, ss5;

	vtd_h_init(&h, &(struct vtd_h_opts){ .cfg = &cfg });
	vtd_h_pt(&h, &ss3, PT_FMT_VTD_SS, 39, 0, 0);
	attach_ss(&h, 0x0200, &ss3, 1, 0);
	map(&ss3, 0x7f00000000ull, DATA, 0x1000, RW);
	vtd_h_expect(&h, 0x0200, false, 0, 0x7f00000010ull, R, DATA + 0x10);
	vtd_h_expect_fault(&h, 0x0200, false, 0, 1ull << 39, R,
			   VTD_FR_ADDR_BEYOND);

	vtd_h_pt(&h, &ss5, PT_FMT_VTD_SS, 57, (1ull << 12) | (1ull << 21), 0);
	attach_ss(&h, 0x0300, &ss5, 2, 0);
	map(&ss5, 0x00f0000000000000ull, DATA, SZ_2M, RW);
	vtd_h_expect(&h, 0x0300, false, 0, 0x00f0000000000010ull, R,
		     DATA + 0x10);
	vtd_h_fini(&h);

	/* Without 1G second-stage pages, a 1G leaf is reserved (0x7A). */
	vtd_h_init(&h, &(struct vtd_h_opts){ .cfg = &cfg });
	vtd_h_pt(&h, &ss5, PT_FMT_VTD_SS, 48,
		 (1ull << 12) | (1ull << 21) | (1ull << 30), 0);
	attach_ss(&h, SID, &ss5, 1, 0);
	map(&ss5, SZ_1G, DATA, SZ_1G, RW);
	vtd_h_expect_fault(&h, SID, false, 0, SZ_1G, R, VTD_FR_SS_RSVD);
	vtd_h_fini(&h);
}

static void test_ss_ad_and_faults(void **state)
{
	struct ionest_xlate_res r;
	struct vtd_h h;
	struct pt ss;
	uint64_t *leaf, *top, save;

	vtd_h_init(&h, &(struct vtd_h_opts){ .bounded = true });
	vtd_h_pt(&h, &ss, PT_FMT_VTD_SS, 48, 0, PT_CFG_AD);
	attach_ss(&h, SID, &ss, 1, VTD_PE_SSADE);
	map(&ss, 0x1000, DATA, 0x1000, RW);
	leaf = vtd_h_pte(&ss, 0x1000, 0);
	top = vtd_h_pte(&ss, 0x1000, 3);

	/* SSADE: A on the walk, D on writes; clean pages cached without
	 * W. */
	r = vtd_h_expect(&h, SID, false, 0, 0x1000, R, DATA);
	assert_int_equal(r.perm & W, 0);
	assert_true(*leaf & (1ull << 8));
	assert_false(*leaf & (1ull << 9));
	assert_true(*top & (1ull << 8));
	r = vtd_h_expect(&h, SID, false, 0, 0x1000, W, DATA);
	assert_int_equal(r.perm & W, W);
	assert_true(*leaf & (1ull << 9));

	/* Reserved: address bits beyond HAW. */
	save = *leaf;
	*leaf |= 1ull << 50;
	assert_int_equal(vtd_h_inv(&h, vtd_h_d_iotlb(VTD_IOTLB_G_DOMAIN, 1), 0),
			 0);
	vtd_h_expect_fault(&h, SID, false, 0, 0x1000, R, VTD_FR_SS_RSVD);
	*leaf = save;
	/* A lower table outside the bus: 0x78; the root: 0x7B. */
	save = *top;
	*top = (1ull << 40) | 3;
	vtd_h_expect_fault(&h, SID, false, 0, 0x1000, R, VTD_FR_SS_ACCESS);
	*top = save;
	attach_ss(&h, 0x0109, &ss, 1, 0);
	vtd_h_pe(&h, 0x0109, 0)[0] = (vtd_h_pe(&h, 0x0109, 0)[0] & 0xfff) |
				     (1ull << 40);
	vtd_h_expect_fault(&h, 0x0109, false, 0, 0x1000, R, VTD_FR_SS_ROOT_INV);
	vtd_h_fini(&h);

	/* Without SSADE A/D stay untouched and writes cache W at once. */
	vtd_h_init(&h, NULL);
	vtd_h_pt(&h, &ss, PT_FMT_VTD_SS, 48, 0, 0);
	attach_ss(&h, SID, &ss, 1, 0);
	map(&ss, 0x1000, DATA, 0x1000, RW);
	leaf = vtd_h_pte(&ss, 0x1000, 0);
	r = vtd_h_expect(&h, SID, false, 0, 0x1000, W, DATA);
	assert_false(*leaf & (3ull << 8));
	vtd_h_fini(&h);
}

static void test_ss_execute(void **state)
{
	struct ionest_vtd_config cfg = { .ers = IONEST_CFG(1) };
	struct vtd_h h;
	struct pt ss;

	vtd_h_init(&h, &(struct vtd_h_opts){ .cfg = &cfg });
	vtd_h_pt(&h, &ss, PT_FMT_VTD_SS, 48, 0, 0);
	vtd_h_attach(&h, SID, 2,
		     &(struct vtd_h_pe){ .pgtt = VTD_PGTT_SS,
					 .did = 1,
					 .ssptptr = ss.root,
					 .q0 = VTD_PE_SSEE,
					 .q2 = VTD_PE_ERE });
	map(&ss, 0x1000, DATA, 0x1000, PR | PX);
	map(&ss, 0x2000, DATA, 0x1000, PR);
	vtd_h_expect(&h, SID, true, 2, 0x1000, X, DATA);
	/* SSEE: the second-stage X bit is checked. */
	vtd_h_expect_fault(&h, SID, true, 2, 0x2000, X, VTD_FR_SS_PERM);
	vtd_h_fini(&h);
}

static void test_passthrough_and_off(void **state)
{
	struct ionest_xlate_res r;
	struct vtd_h h;

	vtd_h_init(&h, &(struct vtd_h_opts){ .no_enable = true });
	/* Translation off: untranslated. */
	r = vtd_h_xlate(&h, SID, false, 0, 0x12345678, R | W);
	assert_int_equal(r.status, IONEST_XLATE_BYPASS);
	assert_int_equal(r.addr, 0x12345678);
	vtd_h_enable(&h);

	vtd_h_attach(&h, SID, 0,
		     &(struct vtd_h_pe){ .pgtt = VTD_PGTT_PT, .did = 9 });
	r = vtd_h_xlate(&h, SID, false, 0, 0x12345678, W);
	assert_int_equal(r.status, IONEST_XLATE_BYPASS);
	assert_int_equal(r.addr, 0x12345678);
	assert_int_equal(r.perm & (R | W), R | W);
	/* Beyond the host address width. */
	vtd_h_expect_fault(&h, SID, false, 0, 1ull << 48, R,
			   VTD_FR_ADDR_BEYOND);
	assert_int_equal(hw_tlb_count(&to_vtd(h.hw)->iotlb), 0);
	vtd_h_fini(&h);
}

static void test_rid_pasid(void **state)
{
	struct vtd_h h;
	struct pt a, b;

	vtd_h_init(&h, NULL);
	vtd_h_pt(&h, &a, PT_FMT_X86_64, 48, 0, 0);
	vtd_h_pt(&h, &b, PT_FMT_X86_64, 48, 0, 0);
	map(&a, 0x1000, DATA, 0x1000, RW);
	map(&b, 0x1000, DATA + 0x5000, 0x1000, RW);
	vtd_h_set_ctx(&h, SID, VTD_CE_PASIDE, 7, 77);
	vtd_h_write_pe(vtd_h_pe(&h, SID, 77),
		       &(struct vtd_h_pe){ .pgtt = VTD_PGTT_FS,
					   .did = 1,
					   .fsptptr = a.root });
	vtd_h_write_pe(vtd_h_pe(&h, SID, 78),
		       &(struct vtd_h_pe){ .pgtt = VTD_PGTT_FS,
					   .did = 2,
					   .fsptptr = b.root });
	/* Without PASID: RID_PASID 77; with: the named one. */
	vtd_h_expect(&h, SID, false, 0, 0x1000, R, DATA);
	vtd_h_expect(&h, SID, true, 78, 0x1000, R, DATA + 0x5000);
	vtd_h_expect(&h, SID, true, 77, 0x1000, R, DATA);
	vtd_h_fini(&h);
}

static void test_upper_devfn(void **state)
{
	struct vtd_h h;
	struct pt fs;

	vtd_h_init(&h, NULL);
	vtd_h_pt(&h, &fs, PT_FMT_X86_64, 48, 0, 0);
	map(&fs, 0x1000, DATA, 0x1000, RW);
	/* devfn 0x85: the root entry's upper half. */
	vtd_h_attach(&h, 0x0285, 0,
		     &(struct vtd_h_pe){ .pgtt = VTD_PGTT_FS,
					 .did = 1,
					 .fsptptr = fs.root });
	assert_true(h.root[2 * 2 + 1] & VTD_RE_UP);
	assert_false(h.root[2 * 2] & VTD_RE_LP);
	vtd_h_expect(&h, 0x0285, false, 0, 0x1000, R, DATA);
	vtd_h_expect_fault(&h, 0x0205, false, 0, 0x1000, R, VTD_FR_ROOT_NP);
	vtd_h_fini(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fs_basic),
		cmocka_unit_test(test_fs_5level_and_canonical),
		cmocka_unit_test(test_fs_superpages),
		cmocka_unit_test(test_fs_user_supervisor),
		cmocka_unit_test(test_fs_write_protect),
		cmocka_unit_test(test_fs_execute),
		cmocka_unit_test(test_fs_extended_accessed),
		cmocka_unit_test(test_fs_entry_faults),
		cmocka_unit_test(test_ad_update_failures),
		cmocka_unit_test(test_ss_basic),
		cmocka_unit_test(test_ss_widths),
		cmocka_unit_test(test_ss_ad_and_faults),
		cmocka_unit_test(test_ss_execute),
		cmocka_unit_test(test_passthrough_and_off),
		cmocka_unit_test(test_rid_pasid),
		cmocka_unit_test(test_upper_devfn),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
