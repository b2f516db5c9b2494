// SPDX-License-Identifier: MIT
/* SMMUv3 model: ID registers, register file, queues and commands. */
#include <errno.h>
#include <string.h>

#include "hw/smmuv3/smmu_regs.h"
#include "smmu_harness.h"
#include "util/alloc.h"

static void test_idregs_default(void **state)
{
	struct smmu_h h;
	uint32_t idr0, idr1, idr3, idr5;

	smmu_h_init(&h, NULL);
	idr0 = smmu_h_rd32(&h, SMMU_IDR0);
	idr1 = smmu_h_rd32(&h, SMMU_IDR1);
	idr3 = smmu_h_rd32(&h, SMMU_IDR3);
	idr5 = smmu_h_rd32(&h, SMMU_IDR5);
	assert_true(idr0 & IDR0_S1P);
	assert_true(idr0 & IDR0_S2P);
	assert_int_equal(SMMU_BITS(idr0, 3, 2), 2); /* AArch64 tables */
	assert_int_equal(SMMU_BITS(idr0, 7, 6), 2); /* HTTU A+D */
	assert_int_equal(SMMU_BITS(idr0, 28, 27), 1); /* 2-level ST */
	assert_int_equal(SMMU_BITS(idr0, 25, 24), 0); /* stall + term */
	assert_int_equal(SMMU_BITS(idr0, 22, 21), 2); /* LE */
	assert_true(idr0 & IDR0_CD2L && idr0 & IDR0_ATS && idr0 & IDR0_PRI);
	assert_true(idr0 & IDR0_ASID16 && idr0 & IDR0_VMID16);
	assert_true(idr0 & IDR0_MSI && idr0 & IDR0_SEV && idr0 & IDR0_COHACC);
	assert_true(idr0 & IDR0_TERM_MODEL);
	assert_false(idr0 & IDR0_HYP);
	assert_int_equal(SMMU_BITS(idr1, 5, 0), 16);
	assert_int_equal(SMMU_BITS(idr1, 10, 6), 20);
	assert_int_equal(SMMU_BITS(idr1, 15, 11), 19);
	assert_int_equal(SMMU_BITS(idr1, 20, 16), 19);
	assert_int_equal(SMMU_BITS(idr1, 25, 21), 19);
	assert_true(idr3 & IDR3_RIL && idr3 & IDR3_HAD);
	assert_int_equal(idr5 & 7, 5);
	assert_true(idr5 & IDR5_GRAN4K && idr5 & IDR5_GRAN16K &&
		    idr5 & IDR5_GRAN64K);
	assert_int_equal(SMMU_BITS(idr5, 31, 16), 64);
	assert_int_equal(smmu_h_rd32(&h, SMMU_AIDR), 2);
	assert_string_equal(ionest_hw_model(h.hw), "smmuv3");
	assert_true(ionest_hw_can_nest(h.hw));
	smmu_h_fini(&h);
}

static void test_idregs_config(void **state)
{
	struct ionest_smmuv3_config c = {
		.s2p = IONEST_CFG(0),
		.ssidsize = IONEST_CFG(0),
		.stall_model = IONEST_CFG(1),
		.ril = IONEST_CFG(0),
		.sidsize = IONEST_CFG(8),
		.oas = IONEST_CFG(4),
		.gran16k = IONEST_CFG(0),
		.hyp = IONEST_CFG(1),
	};
	struct ionest_hw *hw = ionest_smmuv3_new(&c);
	uint64_t v;

	assert_non_null(hw);
	assert_false(ionest_hw_can_nest(hw));
	ionest_hw_mmio_read(hw, SMMU_IDR0, 4, &v);
	assert_false(v & IDR0_S2P);
	assert_true(v & IDR0_HYP);
	assert_int_equal(SMMU_BITS(v, 25, 24), 1);
	ionest_hw_mmio_read(hw, SMMU_IDR1, 4, &v);
	assert_int_equal(SMMU_BITS(v, 5, 0), 8);
	assert_int_equal(SMMU_BITS(v, 10, 6), 0);
	ionest_hw_mmio_read(hw, SMMU_IDR3, 4, &v);
	assert_false(v & IDR3_RIL);
	ionest_hw_mmio_read(hw, SMMU_IDR5, 4, &v);
	assert_int_equal(v & 7, 4);
	assert_false(v & IDR5_GRAN16K);
	assert_int_equal(SMMU_BITS(v, 31, 16), 0); /* no stalls */
	ionest_hw_free(hw);

	/* Out-of-range values and reserved bytes are refused. */
	c = (struct ionest_smmuv3_config){ .sidsize = IONEST_CFG(33) };
	errno = 0;
	assert_null(ionest_smmuv3_new(&c));
	assert_int_equal(errno, EINVAL);
	c = (struct ionest_smmuv3_config){ .reserved[0] = 1 };
	assert_null(ionest_smmuv3_new(&c));
	c = (struct ionest_smmuv3_config){ .gran4k = IONEST_CFG(0),
					   .gran16k = IONEST_CFG(0),
					   .gran64k = IONEST_CFG(0) };
	assert_null(ionest_smmuv3_new(&c));
	c = (struct ionest_smmuv3_config){ .ats = IONEST_CFG(0) };
	assert_null(ionest_smmuv3_new(&c)); /* PRI without ATS */
	c = (struct ionest_smmuv3_config){ .s2wc_log2 = IONEST_CFG(30) };
	assert_null(ionest_smmuv3_new(&c));
}

/* Every allocation of ionest_smmuv3_new may fail: NULL + ENOMEM, no
 * leak (the suite runs under LeakSanitizer). */
static void test_new_alloc_failures(void **state)
{
	unsigned long n;
	struct ionest_hw *hw;

	fault_inject_nth(0);
	hw = ionest_smmuv3_new(NULL);
	n = fault_inject_nth(0);
	assert_non_null(hw);
	ionest_hw_free(hw);
	assert_true(n >= 4);
	for (unsigned long i = 1; i <= n; i++) {
		fault_inject_nth(i);
		errno = 0;
		hw = ionest_smmuv3_new(NULL);
		fault_inject_nth(0);
		assert_null(hw);
		assert_int_equal(errno, ENOMEM);
	}
}

static void test_mmio_args(void **state)
{
	struct smmu_h h;
	uint64_t v;

	smmu_h_init(&h, &(struct smmu_h_opts){ .no_enable = true });
	assert_int_equal(ionest_hw_mmio_read(h.hw, 0, 2, &v), -EINVAL);
	assert_int_equal(ionest_hw_mmio_read(h.hw, 2, 4, &v), -EINVAL);
	assert_int_equal(ionest_hw_mmio_write(h.hw, 4, 8, 0), -EINVAL);
	/* Reserved space: RAZ/WI, also far beyond page 1. */
	smmu_h_wr32(&h, 0x3c, 0xffffffff);
	assert_int_equal(smmu_h_rd32(&h, 0x3c), 0);
	assert_int_equal(smmu_h_rd32(&h, 0x40000), 0);
	/* IDRs are read-only. */
	smmu_h_wr32(&h, SMMU_IDR0, 0);
	assert_true(smmu_h_rd32(&h, SMMU_IDR0) & IDR0_S1P);
	/* 64-bit registers by halves. */
	smmu_h_wr32(&h, SMMU_GERROR_IRQ_CFG0, 0x12345678);
	smmu_h_wr32(&h, SMMU_GERROR_IRQ_CFG0 + 4, 0xabc);
	assert_int_equal(smmu_h_rd64(&h, SMMU_GERROR_IRQ_CFG0),
			 0xabc12345678ull);
	assert_int_equal(smmu_h_rd32(&h, SMMU_GERROR_IRQ_CFG0 + 4), 0xabc);
	/* Address fields are masked: bits [1:0] and above 51 drop. */
	smmu_h_wr64(&h, SMMU_GERROR_IRQ_CFG0, 0xfff0000000001003ull);
	assert_int_equal(smmu_h_rd64(&h, SMMU_GERROR_IRQ_CFG0), 0x1000);
	/* A 64-bit access to a pair of 32-bit registers. */
	smmu_h_wr64(&h, SMMU_CR0, CR0_EVTQEN);
	assert_int_equal(smmu_h_rd64(&h, SMMU_CR0),
			 (uint64_t)CR0_EVTQEN << 32 | CR0_EVTQEN);
	smmu_h_fini(&h);
}

static void test_cr0_handshake(void **state)
{
	struct smmu_h h;

	smmu_h_init(&h, &(struct smmu_h_opts){ .no_enable = true });
	assert_int_equal(smmu_h_rd32(&h, SMMU_CR0ACK), 0);
	smmu_h_cr0(&h, CR0_EVTQEN | CR0_CMDQEN);
	/* Reserved bits never show in CR0ACK. */
	smmu_h_wr32(&h, SMMU_CR0, 0xffffff00u | CR0_SMMUEN);
	assert_int_equal(smmu_h_rd32(&h, SMMU_CR0ACK), CR0_SMMUEN);
	/* STRTAB_BASE is fixed while SMMUEN=1. */
	smmu_h_wr64(&h, SMMU_STRTAB_BASE, 0x40);
	assert_int_equal(smmu_h_rd64(&h, SMMU_STRTAB_BASE),
			 smmu_h_pa(h.strtab));
	smmu_h_cr0(&h, 0);
	smmu_h_wr64(&h, SMMU_STRTAB_BASE, 0x40 | BASE_RA);
	assert_int_equal(smmu_h_rd64(&h, SMMU_STRTAB_BASE), 0x40 | BASE_RA);
	/* IRQ_CTRL / ACK. */
	smmu_h_wr32(&h, SMMU_IRQ_CTRL, 0xff);
	assert_int_equal(smmu_h_rd32(&h, SMMU_IRQ_CTRLACK), 7);
	smmu_h_fini(&h);
}

static void test_gbpa(void **state)
{
	struct smmu_h h;
	struct ionest_xlate_res r;

	smmu_h_init(&h, &(struct smmu_h_opts){ .no_enable = true });
	smmu_h_cr0(&h, CR0_EVTQEN);
	/* SMMUEN=0, GBPA.ABORT=0: bypass. */
	r = smmu_h_xlate(&h, 3, -1, 0x1234, IONEST_ACCESS_READ);
	assert_int_equal(r.status, IONEST_XLATE_BYPASS);
	assert_int_equal(r.addr, 0x1234);
	/* Without UPDATE the write is ignored. */
	smmu_h_wr32(&h, SMMU_GBPA, GBPA_ABORT);
	assert_int_equal(smmu_h_rd32(&h, SMMU_GBPA), 0);
	r = smmu_h_xlate(&h, 3, -1, 0x1234, IONEST_ACCESS_READ);
	assert_int_equal(r.status, IONEST_XLATE_BYPASS);
	smmu_h_wr32(&h, SMMU_GBPA, GBPA_UPDATE | GBPA_ABORT);
	/* The update completes at once: UPDATE reads back as 0. */
	assert_int_equal(smmu_h_rd32(&h, SMMU_GBPA), GBPA_ABORT);
	r = smmu_h_xlate(&h, 3, -1, 0x1234, IONEST_ACCESS_WRITE);
	assert_int_equal(r.status, IONEST_XLATE_FAULT);
	assert_false(r.recorded);
	smmu_h_expect_no_event(&h);
	smmu_h_fini(&h);
}

static void test_page1(void **state)
{
	struct smmu_h h;

	smmu_h_init(&h, &(struct smmu_h_opts){ .no_enable = true });
	/* EVTQ/PRIQ PROD and CONS live in page 1 only. */
	smmu_h_wr32(&h, SMMU_EVTQ_PROD, 3);
	assert_int_equal(smmu_h_rd32(&h, SMMU_EVTQ_PROD), 3);
	assert_int_equal(smmu_h_rd32(&h, 0xa8), 0);
	smmu_h_wr32(&h, 0xac, 5);
	assert_int_equal(smmu_h_rd32(&h, SMMU_EVTQ_CONS), 0);
	smmu_h_wr32(&h, SMMU_PRIQ_CONS, 2);
	assert_int_equal(smmu_h_rd32(&h, SMMU_PRIQ_CONS), 2);
	assert_int_equal(smmu_h_rd32(&h, 0xcc), 0);
	/* Indexes keep log2size + 1 bits (+ OVFLG). */
	smmu_h_wr32(&h, SMMU_EVTQ_PROD, 0x80000fffu);
	assert_int_equal(smmu_h_rd32(&h, SMMU_EVTQ_PROD), 0x800001ffu);
	/* Page 1 has nothing else. */
	assert_int_equal(smmu_h_rd32(&h, SMMU_PAGE1 + SMMU_IDR0), 0);
	smmu_h_fini(&h);
}

/* ---- commands ---- */

static uint32_t cons_err(struct smmu_h *h)
{
	return (smmu_h_rd32(h, SMMU_CMDQ_CONS) >> 24) & 0x7f;
}

static bool cmdq_err_active(struct smmu_h *h)
{
	return (smmu_h_rd32(h, SMMU_GERROR) ^ smmu_h_rd32(h, SMMU_GERRORN)) &
	       GERROR_CMDQ_ERR;
}

/* Push one command and report whether it was refused as illegal; leaves
 * the queue clean again. */
static bool cmd_illegal(struct smmu_h *h, uint64_t dw0, uint64_t dw1)
{
	uint32_t prod = smmu_h_rd32(h, SMMU_CMDQ_PROD);
	bool ill;

	smmu_h_cmd(h, dw0, dw1);
	ill = cmdq_err_active(h);
	if (ill) {
		uint32_t mask = (1u << h->cmdq_log2) - 1;

		assert_int_equal(cons_err(h), CERROR_ILL);
		assert_int_equal(smmu_h_rd32(h, SMMU_CMDQ_CONS) & 0xffffff,
				 prod);
		/* Fix it up as a driver does: make it a SYNC, then ack. */
		h->cmdq[(prod & mask) * 2] = CMD_SYNC;
		h->cmdq[(prod & mask) * 2 + 1] = 0;
		smmu_h_wr32(h, SMMU_GERRORN, smmu_h_rd32(h, SMMU_GERROR));
		assert_false(cmdq_err_active(h));
	}
	assert_int_equal(smmu_h_rd32(h, SMMU_CMDQ_CONS),
			 smmu_h_rd32(h, SMMU_CMDQ_PROD));
	return ill;
}

static void test_cmd_illegal(void **state)
{
	struct smmu_h h;
	unsigned gerr_irqs;

	smmu_h_init(&h, NULL);
	gerr_irqs = h.irqs[IONEST_IRQ_GERROR];
	assert_true(cmd_illegal(&h, 0x7f, 0)); /* unknown opcode */
	assert_int_equal(h.irqs[IONEST_IRQ_GERROR], gerr_irqs + 1);
	assert_true(cmd_illegal(&h, 0, 0));
	assert_true(cmd_illegal(&h, CMD_TLBI_EL3_ALL, 0));
	assert_true(cmd_illegal(&h, CMD_TLBI_EL2_ALL, 0)); /* no HYP */
	assert_true(cmd_illegal(&h, CMD_SYNC | 3 << 12, 0)); /* CS */
	assert_true(cmd_illegal(&h, CMD_SYNC | CMD_SSEC, 0)); /* SSec */
	assert_true(cmd_illegal(&h, CMD_CFGI_STE | 5 << 12, 0)); /* SSID */
	assert_true(cmd_illegal(&h, CMD_CFGI_STE, 2)); /* DW1 reserved */
	assert_true(cmd_illegal(&h, CMD_PRI_RESP, 3 << 12)); /* Resp */
	assert_true(cmd_illegal(&h, CMD_RESUME | 3 << 12, 0)); /* Action */
	/* Range TLBI: NUM/SCALE/TTL need a TG. */
	assert_true(cmd_illegal(&h, CMD_TLBI_NH_VA | 1 << 12, 0x1000));
	assert_true(cmd_illegal(&h, CMD_TLBI_NH_VA, 0x1000 | 1 << 8));
	assert_false(cmd_illegal(&h, CMD_TLBI_NH_VA | 1 << 12,
				 0x1000 | 1 << 10 | 1 << 8));
	/* S2_IPA addresses stop at bit 51. */
	assert_true(cmd_illegal(&h, CMD_TLBI_S2_IPA, 1ull << 60));
	/* The legal forms of every command. */
	assert_false(cmd_illegal(&h, CMD_PREFETCH_CONFIG | 1ull << 32, 0));
	assert_false(cmd_illegal(&h, CMD_PREFETCH_ADDR, 0x5000 | 3));
	assert_false(cmd_illegal(&h, CMD_CFGI_STE | 1ull << 32, 1));
	assert_false(cmd_illegal(&h, CMD_CFGI_STE_RANGE, 31));
	assert_false(cmd_illegal(&h, CMD_CFGI_CD | 7 << 12, 1));
	assert_false(cmd_illegal(&h, CMD_CFGI_CD_ALL, 0));
	assert_false(cmd_illegal(&h, CMD_TLBI_NH_ALL | 1ull << 32, 0));
	assert_false(cmd_illegal(&h, CMD_TLBI_NH_ASID | 1ull << 48, 0));
	assert_false(cmd_illegal(&h, CMD_TLBI_NH_VAA, 0x2000));
	assert_false(cmd_illegal(&h, CMD_TLBI_S12_VMALL, 0));
	assert_false(cmd_illegal(&h, CMD_TLBI_S2_IPA, 0x3000));
	assert_false(cmd_illegal(&h, CMD_TLBI_NSNH_ALL, 0));
	assert_false(cmd_illegal(&h, CMD_STALL_TERM, 0));
	assert_false(cmd_illegal(&h, CMD_RESUME | 1 << 12, 7));
	smmu_h_fini(&h);
}

static void test_cmd_feature_dependent(void **state)
{
	struct ionest_smmuv3_config c = {
		.s2p = IONEST_CFG(0),
		.ril = IONEST_CFG(0),
		.stall_model = IONEST_CFG(1),
		.pri = IONEST_CFG(0),
		.ats = IONEST_CFG(0),
		.ssidsize = IONEST_CFG(0),
		.hyp = IONEST_CFG(1),
	};
	struct smmu_h h;

	smmu_h_init(&h, &(struct smmu_h_opts){ .cfg = &c });
	assert_true(cmd_illegal(&h, CMD_TLBI_S12_VMALL, 0));
	assert_true(cmd_illegal(&h, CMD_TLBI_S2_IPA, 0));
	assert_true(cmd_illegal(&h, CMD_TLBI_NH_VA, 0x1000 | 1 << 10));
	assert_true(cmd_illegal(&h, CMD_RESUME, 0));
	assert_true(cmd_illegal(&h, CMD_STALL_TERM, 0));
	assert_true(cmd_illegal(&h, CMD_ATC_INV, 0));
	assert_true(cmd_illegal(&h, CMD_PRI_RESP, 0));
	assert_true(cmd_illegal(&h, CMD_PREFETCH_CONFIG | 1 << 11, 0));
	assert_false(cmd_illegal(&h, CMD_TLBI_EL2_ALL, 0));
	assert_false(cmd_illegal(&h, CMD_TLBI_EL2_ASID | 1ull << 48, 0));
	assert_false(cmd_illegal(&h, CMD_TLBI_EL2_VA, 0x1000));
	assert_false(cmd_illegal(&h, CMD_TLBI_EL2_VAA, 0x1000));
	smmu_h_fini(&h);
}

static void test_cmd_error_stops_queue(void **state)
{
	struct smmu_h h;
	uint32_t prod;

	smmu_h_init(&h, NULL);
	prod = smmu_h_rd32(&h, SMMU_CMDQ_PROD);
	smmu_h_cmd(&h, 0x7f, 0);
	smmu_h_cmd(&h, CMD_ATC_INV | 1ull << 32, 0);
	/* Consumption stopped at the bad command; ATC_INV not issued. */
	assert_int_equal(smmu_h_rd32(&h, SMMU_CMDQ_CONS) & 0xffffff, prod);
	assert_int_equal(h.natc, 0);
	smmu_h_cmd(&h, CMD_ATC_INV | 2ull << 32, 0);
	assert_int_equal(h.natc, 0);
	/* Fixing the command and acknowledging resumes from CONS. */
	h.cmdq[(prod & 0xff) * 2] = CMD_PREFETCH_CONFIG;
	smmu_h_wr32(&h, SMMU_GERRORN, smmu_h_rd32(&h, SMMU_GERROR));
	assert_int_equal(h.natc, 2);
	assert_int_equal(h.atc[0].sid, 1);
	assert_int_equal(h.atc[1].sid, 2);
	assert_int_equal(smmu_h_rd32(&h, SMMU_CMDQ_CONS),
			 smmu_h_rd32(&h, SMMU_CMDQ_PROD));
	smmu_h_fini(&h);
}

static void test_cmd_fetch_abort(void **state)
{
	struct smmu_h h;

	smmu_h_init(&h, &(struct smmu_h_opts){ .bounded = true,
					       .no_enable = true });
	/* Queue base outside anything the bus has. */
	smmu_h_wr64(&h, SMMU_CMDQ_BASE, 0x1000 | 4);
	smmu_h_cr0(&h, CR0_CMDQEN);
	smmu_h_wr32(&h, SMMU_CMDQ_PROD, 1);
	assert_int_equal(cons_err(&h), CERROR_ABT);
	assert_true(cmdq_err_active(&h));
	assert_int_equal(smmu_h_rd32(&h, SMMU_CMDQ_CONS) & 0xffffff, 0);
	smmu_h_fini(&h);
}

static void test_cmdq_wrap(void **state)
{
	struct smmu_h h;

	smmu_h_init(&h, &(struct smmu_h_opts){ .cmdq_log2 = 2 });
	for (unsigned i = 0; i < 11; i++) {
		smmu_h_cmd(&h, CMD_ATC_INV | (uint64_t)i << 32, 0);
		/* index (2 bits) + wrap bit */
		assert_int_equal(smmu_h_rd32(&h, SMMU_CMDQ_CONS),
				 (i + 4) & 7); /* 3 setup commands first */
	}
	assert_int_equal(h.natc, 11);
	assert_int_equal(h.atc[10].sid, 10);
	smmu_h_fini(&h);
}

static void test_cmdq_disabled(void **state)
{
	struct smmu_h h;

	smmu_h_init(&h, &(struct smmu_h_opts){ .no_enable = true });
	smmu_h_cmd(&h, CMD_ATC_INV, 0);
	assert_int_equal(h.natc, 0);
	assert_int_equal(smmu_h_rd32(&h, SMMU_CMDQ_CONS), 0);
	/* Enabling the queue consumes what is waiting. */
	smmu_h_cr0(&h, CR0_CMDQEN);
	assert_int_equal(h.natc, 1);
	assert_int_equal(smmu_h_rd32(&h, SMMU_CMDQ_CONS), 1);
	/* CONS is software-writable only while the queue is off. */
	smmu_h_wr32(&h, SMMU_CMDQ_CONS, 0);
	assert_int_equal(smmu_h_rd32(&h, SMMU_CMDQ_CONS), 1);
	smmu_h_fini(&h);
}

static void test_sync_msi(void **state)
{
	struct smmu_h h;
	uint32_t *msi;
	unsigned n;

	smmu_h_init(&h, &(struct smmu_h_opts){ .bounded = true });
	msi = smmu_h_alloc(&h, 4, 4);
	n = h.irqs[IONEST_IRQ_CMD_SYNC];
	smmu_h_cmd(&h, CMD_SYNC | 1 << 12 | 0xfeedull << 32, smmu_h_pa(msi));
	assert_int_equal(*msi, 0xfeed);
	assert_int_equal(h.irqs[IONEST_IRQ_CMD_SYNC], n + 1);
	/* CS=none: no MSI, no interrupt. */
	*msi = 0;
	smmu_h_cmd(&h, CMD_SYNC | 0x1234ull << 32, smmu_h_pa(msi));
	assert_int_equal(*msi, 0);
	assert_int_equal(h.irqs[IONEST_IRQ_CMD_SYNC], n + 1);
	/* CS=SEV completes too. */
	smmu_h_cmd(&h, CMD_SYNC | 2 << 12, 0);
	assert_int_equal(smmu_h_rd32(&h, SMMU_CMDQ_CONS),
			 smmu_h_rd32(&h, SMMU_CMDQ_PROD));
	/* An MSI that aborts: GERROR.MSI_CMDQ_ABT_ERR, command completes. */
	smmu_h_cmd(&h, CMD_SYNC | 1 << 12, 0x4000);
	assert_true(
		(smmu_h_rd32(&h, SMMU_GERROR) ^ smmu_h_rd32(&h, SMMU_GERRORN)) &
		GERROR_MSI_CMDQ_ABT);
	assert_false(cmdq_err_active(&h));
	assert_int_equal(smmu_h_rd32(&h, SMMU_CMDQ_CONS),
			 smmu_h_rd32(&h, SMMU_CMDQ_PROD));
	smmu_h_fini(&h);
}

static void test_gerror_msi(void **state)
{
	struct smmu_h h;
	uint32_t *msi;
	unsigned n;

	smmu_h_init(&h, &(struct smmu_h_opts){ .bounded = true });
	msi = smmu_h_alloc(&h, 4, 4);
	smmu_h_wr64(&h, SMMU_GERROR_IRQ_CFG0, smmu_h_pa(msi));
	smmu_h_wr32(&h, SMMU_GERROR_IRQ_CFG1, 0x77);
	n = h.irqs[IONEST_IRQ_GERROR];
	smmu_h_cmd(&h, 0x7f, 0);
	assert_int_equal(*msi, 0x77);
	assert_int_equal(h.irqs[IONEST_IRQ_GERROR], n + 1);
	/* While active, a second error of the same kind raises nothing. */
	smmu_h_cmd(&h, 0x7e, 0);
	assert_int_equal(h.irqs[IONEST_IRQ_GERROR], n + 1);
	/* GERROR IRQ disabled: the bit still toggles, no interrupt. */
	h.cmdq[(smmu_h_rd32(&h, SMMU_CMDQ_CONS) & 0xff) * 2] = CMD_SYNC;
	smmu_h_wr32(&h, SMMU_IRQ_CTRL, IRQ_CTRL_EVTQ);
	/* The ack resumes the queue, which meets the next bad command. */
	smmu_h_wr32(&h, SMMU_GERRORN, smmu_h_rd32(&h, SMMU_GERROR));
	assert_true(cmdq_err_active(&h));
	assert_int_equal(h.irqs[IONEST_IRQ_GERROR], n + 1);
	smmu_h_fini(&h);
}

static void test_atc_inv(void **state)
{
	struct smmu_h h;

	smmu_h_init(&h, NULL);
	/* Size 2: 16K span, address aligned down to it. */
	smmu_h_cmd(&h, CMD_ATC_INV | 1 << 11 | 5 << 12 | 9ull << 32,
		   0x12345000 | 2);
	assert_int_equal(h.natc, 1);
	assert_int_equal(h.atc[0].sid, 9);
	assert_int_equal(h.atc[0].ssid, 5);
	assert_true(h.atc[0].ssv);
	assert_int_equal(h.atc[0].a, 0x12344000);
	assert_int_equal(h.atc[0].b, 0x4000);
	/* Size 52: everything. */
	smmu_h_cmd(&h, CMD_ATC_INV | 3ull << 32, 0xfff000 | 52);
	assert_int_equal(h.natc, 2);
	assert_false(h.atc[1].ssv);
	assert_int_equal(h.atc[1].a, 0);
	assert_int_equal(h.atc[1].b, 0);
	smmu_h_fini(&h);
}

static void test_pri_resp(void **state)
{
	struct smmu_h h;

	smmu_h_init(&h, NULL);
	smmu_h_cmd(&h, CMD_PRI_RESP | 1 << 11 | 4 << 12 | 6ull << 32,
		   0x1ab | 2 << 12);
	smmu_h_cmd(&h, CMD_PRI_RESP | 6ull << 32, 3 | 0 << 12);
	smmu_h_cmd(&h, CMD_PRI_RESP | 6ull << 32, 3 | 1 << 12);
	assert_int_equal(h.nresp, 3);
	assert_int_equal(h.resp[0].sid, 6);
	assert_int_equal(h.resp[0].ssid, 4);
	assert_true(h.resp[0].ssv);
	assert_int_equal(h.resp[0].a, 0x1ab);
	assert_int_equal(h.resp[0].b, 0); /* success */
	assert_int_equal(h.resp[1].b, 1); /* deny -> invalid request */
	assert_int_equal(h.resp[2].b, 2); /* fail -> response failure */
	smmu_h_fini(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_idregs_default),
		cmocka_unit_test(test_idregs_config),
		cmocka_unit_test(test_new_alloc_failures),
		cmocka_unit_test(test_mmio_args),
		cmocka_unit_test(test_cr0_handshake),
		cmocka_unit_test(test_gbpa),
		cmocka_unit_test(test_page1),
		cmocka_unit_test(test_cmd_illegal),
		cmocka_unit_test(test_cmd_feature_dependent),
		cmocka_unit_test(test_cmd_error_stops_queue),
		cmocka_unit_test(test_cmd_fetch_abort),
		cmocka_unit_test(test_cmdq_wrap),
		cmocka_unit_test(test_cmdq_disabled),
		cmocka_unit_test(test_sync_msi),
		cmocka_unit_test(test_gerror_msi),
		cmocka_unit_test(test_atc_inv),
		cmocka_unit_test(test_pri_resp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
