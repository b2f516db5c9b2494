// SPDX-License-Identifier: MIT
/* VT-d model: invalidation. Every descriptor type and scope shown as stale
 * before and fresh after, wait descriptors (status, interrupt, masking),
 * device-TLB decoding, malformed descriptors and queue errors, register-
 * based invalidation. */
#include <errno.h>
#include <string.h>

#include "hw/vtd/vtd.h"
#include "vtd_harness.h"

#define R IONEST_ACCESS_READ
#define W IONEST_ACCESS_WRITE
#define RW (PT_PROT_READ | PT_PROT_WRITE)
#define OLD 0x40000000ull
#define NEW 0x50000000ull

static void map(struct pt *pt, uint64_t iova, uint64_t pa, uint64_t size,
		uint32_t prot)
{
	assert_int_equal(pt_map(pt, iova, pa, size, prot, 0), 0);
}

static void remap(struct pt *pt, uint64_t iova, uint64_t pa)
{
	uint64_t n = 0;

	assert_int_equal(pt_unmap(pt, iova, 0x1000, 0, NULL, &n), 0);
	assert_int_equal(n, 0x1000);
	map(pt, iova, pa, 0x1000, RW);
}

static void fs_pe(struct vtd_h *h, uint16_t sid, uint32_t pasid, uint16_t did,
		  const struct pt *fs)
{
	vtd_h_attach(h, sid, pasid,
		     &(struct vtd_h_pe){ .pgtt = VTD_PGTT_FS,
					 .did = did,
					 .fsptptr = fs->root });
}

static void ss_pe(struct vtd_h *h, uint16_t sid, uint32_t pasid, uint16_t did,
		  const struct pt *ss)
{
	vtd_h_attach(h, sid, pasid,
		     &(struct vtd_h_pe){ .pgtt = VTD_PGTT_SS,
					 .did = did,
					 .ssptptr = ss->root });
}

/* Translation of (sid, pasid) at @iova ends at @pa. */
static void at(struct vtd_h *h, uint16_t sid, uint32_t pasid, uint64_t iova,
	       uint64_t pa)
{
	vtd_h_expect(h, sid, true, pasid, iova, R, pa);
}

static unsigned fsts(struct vtd_h *h)
{
	return vtd_h_rd32(h, VTD_REG_FSTS);
}

/* ---- wait ---- */

static void test_wait(void **state)
{
	struct vtd_h h;
	uint32_t *doorbell;

	vtd_h_init(&h, NULL);
	/* SW: the status write. */
	assert_int_equal(vtd_h_sync(&h), 0);
	assert_int_equal(*h.status, 1);
	assert_int_equal(vtd_h_rd64(&h, VTD_REG_IQH), 32);
	assert_int_equal(h.irqs[IONEST_IRQ_CMD_SYNC], 0);

	/* IF: ICS.IWC and the completion interrupt, to a memory doorbell
	 * here (IEADDR outside the 0xFEExxxxx window). */
	doorbell = vtd_h_alloc(&h, 4, 4);
	vtd_h_wr32(&h, VTD_REG_IEDATA, 0x4455);
	vtd_h_wr32(&h, VTD_REG_IEADDR, (uint32_t)vtd_h_pa(doorbell));
	vtd_h_wr32(&h, VTD_REG_IEUADDR, (uint32_t)(vtd_h_pa(doorbell) >> 32));
	assert_int_equal(vtd_h_inv(&h, VTD_INV_WAIT | VTD_WAIT_IF, 0), 0);
	assert_int_equal(vtd_h_rd32(&h, VTD_REG_ICS), VTD_ICS_IWC);
	assert_int_equal(h.irqs[IONEST_IRQ_CMD_SYNC], 1);
	assert_int_equal(*doorbell, 0x4455);
	/* No second interrupt while IWC stays set. */
	assert_int_equal(vtd_h_inv(&h, VTD_INV_WAIT | VTD_WAIT_IF, 0), 0);
	assert_int_equal(h.irqs[IONEST_IRQ_CMD_SYNC], 1);
	vtd_h_wr32(&h, VTD_REG_ICS, VTD_ICS_IWC);
	assert_int_equal(vtd_h_rd32(&h, VTD_REG_ICS), 0);

	/* Masked: IP pends; unmasking delivers it. */
	vtd_h_wr32(&h, VTD_REG_IECTL, VTD_ECTL_IM);
	vtd_h_wr32(&h, VTD_REG_IEADDR, 0xfee00000);
	vtd_h_wr32(&h, VTD_REG_IEUADDR, 0);
	assert_int_equal(vtd_h_inv(&h, VTD_INV_WAIT | VTD_WAIT_IF, 0), 0);
	assert_int_equal(h.irqs[IONEST_IRQ_CMD_SYNC], 1);
	assert_int_equal(vtd_h_rd32(&h, VTD_REG_IECTL),
			 VTD_ECTL_IM | VTD_ECTL_IP);
	vtd_h_wr32(&h, VTD_REG_IECTL, 0);
	assert_int_equal(h.irqs[IONEST_IRQ_CMD_SYNC], 2);
	assert_int_equal(vtd_h_rd32(&h, VTD_REG_IECTL), 0);
	/* Masked then cleared: the pending interrupt is retired. */
	vtd_h_wr32(&h, VTD_REG_ICS, VTD_ICS_IWC);
	vtd_h_wr32(&h, VTD_REG_IECTL, VTD_ECTL_IM);
	assert_int_equal(vtd_h_inv(&h, VTD_INV_WAIT | VTD_WAIT_IF, 0), 0);
	vtd_h_wr32(&h, VTD_REG_ICS, VTD_ICS_IWC);
	vtd_h_wr32(&h, VTD_REG_IECTL, 0);
	assert_int_equal(h.irqs[IONEST_IRQ_CMD_SYNC], 2);
	/* Interrupt entry cache: nothing cached without IR, accepted. */
	assert_int_equal(vtd_h_inv(&h, VTD_INV_IEC | 1ull << 4, 0), 0);
	/* FN and PD are accepted (everything before is complete). */
	assert_int_equal(
		vtd_h_inv(&h, VTD_INV_WAIT | VTD_WAIT_FN | VTD_WAIT_PD, 0), 0);
	vtd_h_fini(&h);
}

static void test_queue_wraps(void **state)
{
	struct vtd_h h;

	/* 4 KB of 256-bit descriptors: 128 slots, wrapped several times. */
	vtd_h_init(&h, NULL);
	for (unsigned i = 0; i < 300; i++)
		assert_int_equal(vtd_h_sync(&h), 0);
	assert_int_equal(*h.status, 300);
	assert_int_equal(vtd_h_rd64(&h, VTD_REG_IQH), (300 * 32) % 4096);
	/* Disabling QI resets the head. */
	vtd_h_gcmd(&h, VTD_GCMD_QIE, false);
	assert_int_equal(vtd_h_rd64(&h, VTD_REG_IQH), 0);
	vtd_h_fini(&h);

	/* 128-bit descriptors, 2 pages. */
	vtd_h_init(&h, &(struct vtd_h_opts){ .iq_narrow = true, .iq_qs = 1 });
	for (unsigned i = 0; i < 600; i++)
		assert_int_equal(vtd_h_sync(&h), 0);
	assert_int_equal(vtd_h_rd64(&h, VTD_REG_IQH), (600 * 16) % 8192);
	vtd_h_fini(&h);
}

/* ---- context-cache ---- */

static void test_context_cache(void **state)
{
	struct vtd_h h;
	struct pt a, b;
	const uint16_t s0 = 0x0100, s1 = 0x0101, s4 = 0x0104, t = 0x0200;
	const uint16_t sids[] = { s0, s1, s4, t };

	vtd_h_init(&h, NULL);
	vtd_h_pt(&h, &a, PT_FMT_X86_64, 48, 0, 0);
	vtd_h_pt(&h, &b, PT_FMT_X86_64, 48, 0, 0);
	map(&a, 0x1000, OLD, 0x2000, RW);
	map(&b, 0x1000, NEW, 0x2000, RW);
	for (unsigned i = 0; i < 4; i++) {
		fs_pe(&h, sids[i], 1, sids[i] == t ? 2 : 1, &a);
		at(&h, sids[i], 1, 0x1000, OLD);
	}
	/* New context entries (fresh PASID directories over table b). */
	for (unsigned i = 0; i < 4; i++) {
		vtd_h_ctx(&h, sids[i])[0] = 0;
		fs_pe(&h, sids[i], 1, sids[i] == t ? 2 : 1, &b);
	}
	/* Stale: the IOTLB and the cached context/PASID entries. */
	for (unsigned i = 0; i < 4; i++) {
		at(&h, sids[i], 1, 0x1000, OLD);
		at(&h, sids[i], 1, 0x2000, OLD + 0x1000);
	}

	/* Device-selective, FM=1 (function bit 2 masked): 0x0100 and
	 * 0x0104, not 0x0101. */
	assert_int_equal(
		vtd_h_inv(&h, vtd_h_d_cc(VTD_CC_G_DEVICE, 0, s0, 1), 0), 0);
	at(&h, s0, 1, 0x1000, NEW);
	at(&h, s4, 1, 0x2000, NEW + 0x1000);
	at(&h, s1, 1, 0x1000, OLD);
	at(&h, t, 1, 0x1000, OLD);

	/* Domain-selective: the devices whose entries name DID 1. */
	assert_int_equal(vtd_h_inv(&h, vtd_h_d_cc(VTD_CC_G_DOMAIN, 1, 0, 0), 0),
			 0);
	at(&h, s1, 1, 0x1000, NEW);
	at(&h, t, 1, 0x1000, OLD);
	at(&h, t, 1, 0x2000, OLD + 0x1000);

	/* Global. */
	assert_int_equal(vtd_h_inv(&h, vtd_h_d_cc(VTD_CC_G_GLOBAL, 0, 0, 0), 0),
			 0);
	at(&h, t, 1, 0x2000, NEW + 0x1000);

	/* A context entry made not present faults once invalidated. */
	vtd_h_ctx(&h, t)[0] = 0;
	at(&h, t, 1, 0x1000, NEW);
	assert_int_equal(vtd_h_inv(&h, vtd_h_d_cc(VTD_CC_G_DEVICE, 0, t, 0), 0),
			 0);
	vtd_h_expect_fault(&h, t, true, 1, 0x1000, R, VTD_FR_CTX_NP);
	vtd_h_fini(&h);
}

/* ---- PASID-cache ---- */

static void test_pasid_cache(void **state)
{
	struct vtd_h h;
	struct pt a, b;
	const uint16_t sid = 0x0300;

	vtd_h_init(&h, NULL);
	vtd_h_pt(&h, &a, PT_FMT_X86_64, 48, 0, 0);
	vtd_h_pt(&h, &b, PT_FMT_X86_64, 48, 0, 0);
	map(&a, 0x1000, OLD, 0x2000, RW);
	map(&b, 0x1000, NEW, 0x2000, RW);
	fs_pe(&h, sid, 1, 1, &a);
	fs_pe(&h, sid, 2, 1, &a);
	fs_pe(&h, sid, 3, 2, &a);
	for (unsigned p = 1; p <= 3; p++)
		at(&h, sid, p, 0x1000, OLD);
	for (unsigned p = 1; p <= 3; p++)
		fs_pe(&h, sid, p, p == 3 ? 2 : 1, &b);
	for (unsigned p = 1; p <= 3; p++) {
		at(&h, sid, p, 0x1000, OLD);
		at(&h, sid, p, 0x2000, OLD + 0x1000);
	}

	/* PASID-selective (DID 1, PASID 1). */
	assert_int_equal(vtd_h_inv(&h, vtd_h_d_pc(VTD_PC_G_PASID, 1, 1), 0), 0);
	at(&h, sid, 1, 0x1000, NEW);
	at(&h, sid, 2, 0x1000, OLD);
	/* The DID must match too. */
	assert_int_equal(vtd_h_inv(&h, vtd_h_d_pc(VTD_PC_G_PASID, 1, 3), 0), 0);
	at(&h, sid, 3, 0x1000, OLD);
	/* Domain-selective (DID 1). */
	assert_int_equal(vtd_h_inv(&h, vtd_h_d_pc(VTD_PC_G_DOMAIN, 1, 0), 0),
			 0);
	at(&h, sid, 2, 0x2000, NEW + 0x1000);
	at(&h, sid, 3, 0x2000, OLD + 0x1000);
	/* All. */
	assert_int_equal(vtd_h_inv(&h, vtd_h_d_pc(VTD_PC_G_ALL, 0, 0), 0), 0);
	at(&h, sid, 3, 0x1000, NEW);

	/* A global page of a PASID whose entry changed: the PASID-cache
	 * invalidation drops it even if the configuration was evicted. */
	*vtd_h_pte(&a, 0x1000, 0) |= VTD_FS_G;
	*vtd_h_pte(&b, 0x1000, 0) |= VTD_FS_G;
	fs_pe(&h, sid, 3, 2, &a);
	assert_int_equal(vtd_h_inv(&h, vtd_h_d_pc(VTD_PC_G_PASID, 2, 3), 0), 0);
	at(&h, sid, 3, 0x1000, OLD);
	fs_pe(&h, sid, 3, 2, &b);
	vtd_cc_flush(&to_vtd(h.hw)->cc); /* as if evicted */
	at(&h, sid, 3, 0x1000, OLD);
	assert_int_equal(vtd_h_inv(&h, vtd_h_d_pc(VTD_PC_G_PASID, 2, 3), 0), 0);
	at(&h, sid, 3, 0x1000, NEW);

	/* A PASID entry made not present. */
	at(&h, sid, 2, 0x1000, NEW);
	vtd_h_pe(&h, sid, 2)[0] = 0;
	at(&h, sid, 2, 0x1000, NEW);
	assert_int_equal(vtd_h_flush_pe(&h, 1, 2), 0);
	vtd_h_expect_fault(&h, sid, true, 2, 0x1000, R, VTD_FR_PE_NP);
	vtd_h_fini(&h);
}

/* ---- IOTLB ---- */

static void test_iotlb(void **state)
{
	struct vtd_h h;
	struct pt ss1, ss2, fs;
	const uint16_t a = 0x0400, b = 0x0401, c = 0x0402;

	vtd_h_init(&h, NULL);
	vtd_h_pt(&h, &ss1, PT_FMT_VTD_SS, 48, 0, 0);
	vtd_h_pt(&h, &ss2, PT_FMT_VTD_SS, 48, 0, 0);
	vtd_h_pt(&h, &fs, PT_FMT_X86_64, 48, 0, 0);
	ss_pe(&h, a, 0, 1, &ss1); /* SS-only, DID 1 */
	fs_pe(&h, b, 0, 1, &fs); /* FS, DID 1 */
	ss_pe(&h, c, 0, 2, &ss2); /* SS-only, DID 2 */
	for (uint64_t va = 0x1000; va < 0x10000; va += 0x1000) {
		map(&ss1, va, OLD + va, 0x1000, RW);
		map(&ss2, va, OLD + va, 0x1000, RW);
		map(&fs, va, OLD + va, 0x1000, RW);
	}
	for (uint64_t va = 0x1000; va < 0x10000; va += 0x1000) {
		at(&h, a, 0, va, OLD + va);
		at(&h, b, 0, va, OLD + va);
		at(&h, c, 0, va, OLD + va);
		remap(&ss1, va, NEW + va);
		remap(&ss2, va, NEW + va);
		remap(&fs, va, NEW + va);
		at(&h, a, 0, va, OLD + va);
		at(&h, b, 0, va, OLD + va);
		at(&h, c, 0, va, OLD + va);
	}

	/* Page-selective DID 1 at 0x1000: the SS entry in range; every FS
	 * entry of DID 1; nothing of DID 2. IH is accepted. */
	vtd_h_queue(&h, vtd_h_d_iotlb(VTD_IOTLB_G_PAGE, 1),
		    vtd_h_d_addr(0x1000, 0, true), 0, 0);
	assert_int_equal(vtd_h_sync(&h), 0);
	at(&h, a, 0, 0x1000, NEW + 0x1000);
	at(&h, a, 0, 0x2000, OLD + 0x2000);
	at(&h, b, 0, 0x7000, NEW + 0x7000);
	at(&h, c, 0, 0x1000, OLD + 0x1000);
	/* AM 2: 0x4000-0x7fff. */
	vtd_h_queue(&h, vtd_h_d_iotlb(VTD_IOTLB_G_PAGE, 1),
		    vtd_h_d_addr(0x4000, 2, false), 0, 0);
	assert_int_equal(vtd_h_sync(&h), 0);
	at(&h, a, 0, 0x3000, OLD + 0x3000);
	at(&h, a, 0, 0x4000, NEW + 0x4000);
	at(&h, a, 0, 0x7000, NEW + 0x7000);
	at(&h, a, 0, 0x8000, OLD + 0x8000);
	/* Domain-selective DID 2. */
	assert_int_equal(vtd_h_inv(&h, vtd_h_d_iotlb(VTD_IOTLB_G_DOMAIN, 2), 0),
			 0);
	at(&h, c, 0, 0x1000, NEW + 0x1000);
	at(&h, a, 0, 0x2000, OLD + 0x2000);
	/* Global. */
	assert_int_equal(vtd_h_inv(&h, vtd_h_d_iotlb(VTD_IOTLB_G_GLOBAL, 0), 0),
			 0);
	at(&h, a, 0, 0x2000, NEW + 0x2000);
	assert_int_equal(hw_tlb_count(&to_vtd(h.hw)->iotlb), 1);
	vtd_h_fini(&h);
}

static void test_iotlb_without_psi(void **state)
{
	struct ionest_vtd_config cfg = { .psi = IONEST_CFG(0) };
	struct vtd_h h;
	struct pt ss;

	/* Without CAP.PSI a page-selective request is done domain-wide. */
	vtd_h_init(&h, &(struct vtd_h_opts){ .cfg = &cfg });
	vtd_h_pt(&h, &ss, PT_FMT_VTD_SS, 48, 0, 0);
	ss_pe(&h, 0x0100, 0, 1, &ss);
	map(&ss, 0x1000, OLD, 0x2000, RW);
	at(&h, 0x0100, 0, 0x2000, OLD + 0x1000);
	remap(&ss, 0x2000, NEW);
	vtd_h_queue(&h, vtd_h_d_iotlb(VTD_IOTLB_G_PAGE, 1),
		    vtd_h_d_addr(0x1000, 0, false), 0, 0);
	assert_int_equal(vtd_h_sync(&h), 0);
	at(&h, 0x0100, 0, 0x2000, NEW);
	vtd_h_fini(&h);
}

/* ---- PASID-based IOTLB ---- */

static void test_piotlb(void **state)
{
	struct vtd_h h;
	struct pt fs, ss;
	const uint16_t sid = 0x0500, sid2 = 0x0501;

	vtd_h_init(&h, NULL);
	vtd_h_pt(&h, &fs, PT_FMT_X86_64, 48, 0, 0);
	vtd_h_pt(&h, &ss, PT_FMT_VTD_SS, 48, 0, 0);
	fs_pe(&h, sid, 1, 1, &fs);
	fs_pe(&h, sid, 2, 1, &fs);
	ss_pe(&h, sid2, 1, 1, &ss);
	for (uint64_t va = 0x1000; va < 0x6000; va += 0x1000) {
		map(&fs, va, OLD + va, 0x1000, RW);
		map(&ss, va, OLD + va, 0x1000, RW);
	}
	/* 0x5000 is a global page. */
	*vtd_h_pte(&fs, 0x5000, 0) |= VTD_FS_G;
	for (uint64_t va = 0x1000; va < 0x6000; va += 0x1000) {
		at(&h, sid, 1, va, OLD + va);
		at(&h, sid, 2, va, OLD + va);
		at(&h, sid2, 1, va, OLD + va);
		remap(&fs, va, NEW + va);
		remap(&ss, va, NEW + va);
	}
	*vtd_h_pte(&fs, 0x5000, 0) |= VTD_FS_G;

	/* Page-selective in (DID 1, PASID 1). */
	vtd_h_queue(&h, vtd_h_d_piotlb(VTD_PIOTLB_G_PAGE, 1, 1),
		    vtd_h_d_addr(0x1000, 0, false), 0, 0);
	assert_int_equal(vtd_h_sync(&h), 0);
	at(&h, sid, 1, 0x1000, NEW + 0x1000);
	at(&h, sid, 1, 0x2000, OLD + 0x2000);
	at(&h, sid, 2, 0x1000, OLD + 0x1000);
	/* Never second-stage-only entries, even of that DID and PASID. */
	at(&h, sid2, 1, 0x1000, OLD + 0x1000);

	/* All non-global of the PASID: the global page stays. */
	assert_int_equal(
		vtd_h_inv(&h, vtd_h_d_piotlb(VTD_PIOTLB_G_PASID, 1, 1), 0), 0);
	at(&h, sid, 1, 0x2000, NEW + 0x2000);
	at(&h, sid, 1, 0x5000, OLD + 0x5000);
	at(&h, sid, 2, 0x2000, OLD + 0x2000);
	at(&h, sid2, 1, 0x2000, OLD + 0x2000);
	/* Page-selective reaches global pages. */
	vtd_h_queue(&h, vtd_h_d_piotlb(VTD_PIOTLB_G_PAGE, 1, 1),
		    vtd_h_d_addr(0x4000, 1, false), 0, 0);
	assert_int_equal(vtd_h_sync(&h), 0);
	at(&h, sid, 1, 0x5000, NEW + 0x5000);
	/* Another DID: nothing. */
	assert_int_equal(
		vtd_h_inv(&h, vtd_h_d_piotlb(VTD_PIOTLB_G_PASID, 7, 2), 0), 0);
	at(&h, sid, 2, 0x3000, OLD + 0x3000);
	vtd_h_fini(&h);
}

/* ---- device-TLB ---- */

static void test_devtlb(void **state)
{
	struct ionest_vtd_config nodt = { .dt = IONEST_CFG(0) };
	struct vtd_h h;

	vtd_h_init(&h, NULL);
	/* Device-TLB, one page. */
	assert_int_equal(
		vtd_h_inv(&h, VTD_INV_DEVTLB | 0x0612ull << 32, 0x123000), 0);
	/* S=1: three trailing ones above bit 12 -> 64 KB. */
	assert_int_equal(vtd_h_inv(&h, VTD_INV_DEVTLB | 0x0612ull << 32,
				   0x1237000 | VTD_DEVTLB_S),
			 0);
	/* S=1, all ones: everything. */
	assert_int_equal(vtd_h_inv(&h, VTD_INV_DEVTLB | 0x0612ull << 32,
				   VTD_INV_ADDR_MASK | VTD_DEVTLB_S),
			 0);
	/* PASID-based: PASID 9, S=1 bit 12 clear -> 8 KB; then G. */
	assert_int_equal(
		vtd_h_inv(&h, VTD_INV_PDEVTLB | 0x0612ull << 16 | 9ull << 32,
			  0x8000 | VTD_PDEVTLB_S),
		0);
	assert_int_equal(
		vtd_h_inv(&h, VTD_INV_PDEVTLB | 0x0612ull << 16 | 9ull << 32,
			  0x8000 | VTD_PDEVTLB_G),
		0);
	assert_int_equal(h.natc, 5);
	assert_int_equal(h.atc[0].sid, 0x0612);
	assert_false(h.atc[0].ssv);
	assert_int_equal(h.atc[0].a, 0x123000);
	assert_int_equal(h.atc[0].b, 0x1000);
	assert_int_equal(h.atc[1].a, 0x1230000);
	assert_int_equal(h.atc[1].b, 0x10000);
	assert_int_equal(h.atc[2].b, 0);
	assert_true(h.atc[3].ssv);
	assert_int_equal(h.atc[3].ssid, 9);
	assert_int_equal(h.atc[3].a, 0x8000);
	assert_int_equal(h.atc[3].b, 0x2000);
	assert_int_equal(h.atc[4].ssid, VTD_ATC_ALL_PASIDS);
	assert_int_equal(h.atc[4].b, 0x1000);
	vtd_h_fini(&h);

	/* Without ECAP.DT the types are unknown. */
	vtd_h_init(&h, &(struct vtd_h_opts){ .cfg = &nodt });
	assert_int_equal(vtd_h_inv(&h, VTD_INV_DEVTLB, 0), -EIO);
	assert_int_equal(VTD_IQER_IQEI(vtd_h_rd64(&h, VTD_REG_IQER)),
			 VTD_IQEI_TYPE);
	assert_int_equal(h.natc, 0);
	vtd_h_fini(&h);
}

/* ---- malformed descriptors ---- */

/* Queue @q0/@q1(/@q2) then a wait: the queue must stop at the first with
 * IQE and @code, the wait not done; then recover like a driver. */
static void bad_desc(struct vtd_h *h, uint64_t q0, uint64_t q1, uint64_t q2,
		     unsigned code)
{
	uint64_t head = vtd_h_rd64(h, VTD_REG_IQH);
	uint32_t before = *h->status;
	uint64_t *d;

	vtd_h_queue(h, q0, q1, q2, 0);
	if (vtd_h_sync(h) != -EIO)
		fail_msg("descriptor %#llx %#llx accepted",
			 (unsigned long long)q0, (unsigned long long)q1);
	assert_int_equal(VTD_IQER_IQEI(vtd_h_rd64(h, VTD_REG_IQER)), code);
	assert_int_equal(vtd_h_rd64(h, VTD_REG_IQH), head);
	assert_int_equal(*h->status, before);
	/* Stays stopped until IQE is cleared. */
	vtd_h_kick(h);
	assert_int_equal(*h->status, before);
	/* Replace the bad one with a harmless wait and clear IQE: the queue
	 * resumes, the pending wait completes. */
	d = (uint64_t *)(h->iq + head);
	memset(d, 0, h->iq_dsz);
	d[0] = VTD_INV_WAIT;
	vtd_h_wr32(h, VTD_REG_FSTS, VTD_FSTS_IQE);
	assert_int_equal(*h->status, h->status_seq);
	assert_false(fsts(h) & VTD_FSTS_IQE);
}

static void test_malformed(void **state)
{
	struct vtd_h h;
	const uint64_t psi = vtd_h_d_iotlb(VTD_IOTLB_G_PAGE, 1);
	const uint64_t ppsi = vtd_h_d_piotlb(VTD_PIOTLB_G_PAGE, 1, 1);

	vtd_h_init(&h, NULL);
	/* Unknown types. */
	bad_desc(&h, 0, 0, 0, VTD_IQEI_TYPE);
	bad_desc(&h, 0xa, 0, 0, VTD_IQEI_TYPE);
	bad_desc(&h, 0xf, 0, 0, VTD_IQEI_TYPE);
	bad_desc(&h, VTD_INV_WAIT | 1u << 9, 0, 0, VTD_IQEI_TYPE);
	/* Reserved fields, per type. */
	bad_desc(&h, vtd_h_d_cc(0, 0, 0, 0), 0, 0, VTD_IQEI_RSVD);
	bad_desc(&h, vtd_h_d_cc(1, 0, 0, 0) | 1ull << 50, 0, 0, VTD_IQEI_RSVD);
	bad_desc(&h, vtd_h_d_cc(1, 0, 0, 0), 1, 0, VTD_IQEI_RSVD);
	bad_desc(&h, vtd_h_d_iotlb(0, 1), 0, 0, VTD_IQEI_RSVD);
	bad_desc(&h, vtd_h_d_iotlb(1, 1) | 1ull << 40, 0, 0, VTD_IQEI_RSVD);
	bad_desc(&h, vtd_h_d_iotlb(1, 1) | 1ull << 8, 0, 0, VTD_IQEI_RSVD);
	bad_desc(&h, psi, 1ull << 7, 0, VTD_IQEI_RSVD);
	bad_desc(&h, psi, 0x1000 | 1, 0, VTD_IQEI_RSVD); /* unaligned */
	bad_desc(&h, psi, 19, 0, VTD_IQEI_RSVD); /* AM > MAMV (18) */
	bad_desc(&h, VTD_INV_DEVTLB | 1ull << 21, 0, 0, VTD_IQEI_RSVD);
	bad_desc(&h, VTD_INV_DEVTLB, 2, 0, VTD_IQEI_RSVD);
	bad_desc(&h, VTD_INV_IEC | 1ull << 5, 0, 0, VTD_IQEI_RSVD);
	bad_desc(&h, VTD_INV_WAIT | 1ull << 8, 0, 0, VTD_IQEI_RSVD);
	bad_desc(&h, VTD_INV_WAIT, 1, 0, VTD_IQEI_RSVD);
	bad_desc(&h, vtd_h_d_piotlb(1, 1, 1), 0, 0, VTD_IQEI_RSVD);
	bad_desc(&h, ppsi | 1ull << 60, 0, 0, VTD_IQEI_RSVD);
	bad_desc(&h, ppsi, 0x3000 | 1, 0, VTD_IQEI_RSVD);
	bad_desc(&h, vtd_h_d_pc(2, 1, 1), 0, 0, VTD_IQEI_RSVD);
	bad_desc(&h, vtd_h_d_pc(1, 1, 1) | 1ull << 7, 0, 0, VTD_IQEI_RSVD);
	bad_desc(&h, vtd_h_d_pc(1, 1, 1), 1, 0, VTD_IQEI_RSVD);
	bad_desc(&h, VTD_INV_PDEVTLB, 1ull << 5, 0, VTD_IQEI_RSVD);
	bad_desc(&h, VTD_INV_PGRP_RESP | 0x5ull << 12, 0, 0, VTD_IQEI_RSVD);
	bad_desc(&h, VTD_INV_PGRP_RESP, 1ull << 20, 0, VTD_IQEI_RSVD);
	/* The upper half of a 256-bit descriptor is reserved. */
	bad_desc(&h, VTD_INV_WAIT, 0, 1, VTD_IQEI_RSVD);
	/* Each error raised the fault event once (cleared in between). */
	assert_int_equal(h.irqs[IONEST_IRQ_EVENTQ], 28);
	/* Valid ones around them still work. */
	assert_int_equal(vtd_h_inv(&h, vtd_h_d_cc(3, 0, 0x0100, 0), 0), 0);
	vtd_h_fini(&h);

	/* 128-bit queue: PASID-based types need 256-bit descriptors. */
	vtd_h_init(&h, &(struct vtd_h_opts){ .iq_narrow = true });
	bad_desc(&h, ppsi, 0, 0, VTD_IQEI_WIDTH);
	bad_desc(&h, vtd_h_d_pc(1, 1, 1), 0, 0, VTD_IQEI_WIDTH);
	bad_desc(&h, VTD_INV_PDEVTLB, 0, 0, VTD_IQEI_WIDTH);
	bad_desc(&h, VTD_INV_PGRP_RESP, 0, 0, VTD_IQEI_WIDTH);
	assert_int_equal(vtd_h_inv(&h, vtd_h_d_iotlb(1, 0), 0), 0);
	vtd_h_fini(&h);
}

static void test_queue_errors(void **state)
{
	struct vtd_h h;
	uint64_t outside = 1ull << 40;

	/* IQT with bit 4 set in a 256-bit queue; IQT beyond the queue. */
	vtd_h_init(&h, NULL);
	vtd_h_wr64(&h, VTD_REG_IQT, 0x10);
	assert_true(fsts(&h) & VTD_FSTS_IQE);
	assert_int_equal(VTD_IQER_IQEI(vtd_h_rd64(&h, VTD_REG_IQER)),
			 VTD_IQEI_TAIL);
	assert_int_equal(h.irqs[IONEST_IRQ_EVENTQ], 1);
	vtd_h_wr64(&h, VTD_REG_IQT, 0);
	vtd_h_wr32(&h, VTD_REG_FSTS, VTD_FSTS_IQE);
	vtd_h_wr64(&h, VTD_REG_IQT, 0x2000);
	assert_true(fsts(&h) & VTD_FSTS_IQE);
	vtd_h_wr64(&h, VTD_REG_IQT, 0);
	vtd_h_wr32(&h, VTD_REG_FSTS, VTD_FSTS_IQE);
	assert_int_equal(vtd_h_sync(&h), 0);
	vtd_h_fini(&h);

	/* Bounded bus: the status write aborts; the queue itself is not
	 * reachable. */
	vtd_h_init(&h, &(struct vtd_h_opts){ .bounded = true });
	vtd_h_queue(&h, VTD_INV_WAIT | VTD_WAIT_SW, outside, 0, 0);
	vtd_h_kick(&h);
	assert_true(fsts(&h) & VTD_FSTS_IQE);
	assert_int_equal(VTD_IQER_IQEI(vtd_h_rd64(&h, VTD_REG_IQER)),
			 VTD_IQEI_ABORT);
	assert_int_equal(vtd_h_rd64(&h, VTD_REG_IQH), 0);
	vtd_h_gcmd(&h, VTD_GCMD_QIE, false);
	vtd_h_wr32(&h, VTD_REG_FSTS, VTD_FSTS_IQE);
	vtd_h_wr64(&h, VTD_REG_IQT, 0);
	vtd_h_wr64(&h, VTD_REG_IQA, outside | VTD_IQA_DW);
	vtd_h_gcmd(&h, VTD_GCMD_QIE, true);
	vtd_h_wr64(&h, VTD_REG_IQT, 0x20);
	assert_true(fsts(&h) & VTD_FSTS_IQE);
	assert_int_equal(VTD_IQER_IQEI(vtd_h_rd64(&h, VTD_REG_IQER)),
			 VTD_IQEI_ABORT);
	vtd_h_fini(&h);
}

/* ---- register-based invalidation ---- */

static void test_register_invalidation(void **state)
{
	struct vtd_h h;
	struct pt ss;
	uint64_t iva = 16ull * VTD_IRO, iotlb = iva + 8, v;

	vtd_h_init(&h, NULL);
	vtd_h_pt(&h, &ss, PT_FMT_VTD_SS, 48, 0, 0);
	ss_pe(&h, 0x0100, 0, 3, &ss);
	map(&ss, 0x1000, OLD, 0x2000, RW);
	at(&h, 0x0100, 0, 0x1000, OLD);
	at(&h, 0x0100, 0, 0x2000, OLD + 0x1000);
	remap(&ss, 0x1000, NEW);
	remap(&ss, 0x2000, NEW + 0x1000);

	/* PSI at 0x1000. */
	vtd_h_wr64(&h, iva, 0x1000);
	vtd_h_wr64(&h, iotlb,
		   VTD_IOTLB_IVT | 3ull << VTD_IOTLB_IIRG_SHIFT | 3ull << 32);
	v = vtd_h_rd64(&h, iotlb);
	assert_false(v & VTD_IOTLB_IVT);
	assert_int_equal((v >> VTD_IOTLB_IAIG_SHIFT) & 3, 3);
	at(&h, 0x0100, 0, 0x1000, NEW);
	at(&h, 0x0100, 0, 0x2000, OLD + 0x1000);
	/* A PSI with AM beyond MAMV is refused: IAIG 0. */
	vtd_h_wr64(&h, iva, 0x2000 | 40);
	vtd_h_wr64(&h, iotlb,
		   VTD_IOTLB_IVT | 3ull << VTD_IOTLB_IIRG_SHIFT | 3ull << 32);
	assert_int_equal((vtd_h_rd64(&h, iotlb) >> VTD_IOTLB_IAIG_SHIFT) & 3,
			 0);
	at(&h, 0x0100, 0, 0x2000, OLD + 0x1000);
	/* DSI, written as two 32-bit halves like some drivers do. */
	vtd_h_wr32(&h, iotlb, 0);
	vtd_h_wr32(&h, iotlb + 4,
		   (uint32_t)((VTD_IOTLB_IVT | 2ull << VTD_IOTLB_IIRG_SHIFT |
			       3ull << 32) >>
			      32));
	assert_int_equal((vtd_h_rd64(&h, iotlb) >> VTD_IOTLB_IAIG_SHIFT) & 3,
			 2);
	at(&h, 0x0100, 0, 0x2000, NEW + 0x1000);

	/* CCMD: device-selective context-cache invalidation. */
	vtd_h_ctx(&h, 0x0100)[0] = 0;
	at(&h, 0x0100, 0, 0x2000, NEW + 0x1000);
	vtd_h_wr64(&h, VTD_REG_CCMD,
		   VTD_CCMD_ICC | 3ull << VTD_CCMD_CIRG_SHIFT |
			   0x0100ull << VTD_CCMD_SID_SHIFT);
	v = vtd_h_rd64(&h, VTD_REG_CCMD);
	assert_false(v & VTD_CCMD_ICC);
	assert_int_equal((v >> VTD_CCMD_CAIG_SHIFT) & 3, 3);
	vtd_h_expect_fault(&h, 0x0100, false, 0, 0x2000, R, VTD_FR_CTX_NP);
	vtd_h_fini(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wait),
		cmocka_unit_test(test_queue_wraps),
		cmocka_unit_test(test_context_cache),
		cmocka_unit_test(test_pasid_cache),
		cmocka_unit_test(test_iotlb),
		cmocka_unit_test(test_iotlb_without_psi),
		cmocka_unit_test(test_piotlb),
		cmocka_unit_test(test_devtlb),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_queue_errors),
		cmocka_unit_test(test_register_invalidation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
