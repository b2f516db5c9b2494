// SPDX-License-Identifier: MIT
/*
 * VT-d model: requests to the interrupt range 0xFEE00000..0xFEEFFFFF
 * (VT-d spec 3.15). Without PASID they are not DMA: a write is an
 * interrupt request (IONEST_XLATE_INTERRUPT, untranslated) whatever the
 * PGTT, the tables (a large leaf around the range, a mapping inside it)
 * or whether translation is on; a read fails with nothing recorded. With
 * PASID they are translated like any request.
 */
#include <string.h>

#include "hw/vtd/vtd.h"
#include "vtd_harness.h"

#define R IONEST_ACCESS_READ
#define W IONEST_ACCESS_WRITE
#define RW (PT_PROT_READ | PT_PROT_WRITE)
#define SID_SS 0x0500
#define SID_FS 0x0508
#define SID_NEST 0x0510
#define SID_NONE 0x0518 /* no context entry */
#define PASID 3
#define MSI 0xfee01004ull /* destination 1 */
#define SZ_4K 0x1000ull
#define SZ_1G (1ull << 30)
#define DATA 0x300000000ull /* outputs, never touched */

static uint64_t ctr(struct vtd_h *h, enum hw_counter c)
{
	return to_vtd(h->hw)->hw.ctr_val[c];
}

static void expect_interrupt(struct vtd_h *h, uint16_t sid, uint64_t addr)
{
	struct ionest_xlate_res r = vtd_h_xlate(h, sid, false, 0, addr, W);

	assert_int_equal(r.status, IONEST_XLATE_INTERRUPT);
	assert_int_equal(r.addr, addr);
	assert_int_equal(r.perm, W);
	assert_false(r.recorded);
}

/* A read there: refused, no fault record, no fault counted. */
static void expect_refused(struct vtd_h *h, uint16_t sid, uint64_t addr)
{
	uint64_t faults = ctr(h, hw_fault);
	struct ionest_xlate_res r = vtd_h_xlate(h, sid, false, 0, addr, R);

	assert_int_equal(r.status, IONEST_XLATE_FAULT);
	assert_int_equal(r.fault, 0);
	assert_false(r.recorded);
	assert_int_equal(ctr(h, hw_fault), faults);
	assert_int_equal(vtd_h_clear_faults(h), 0);
}

struct env {
	struct vtd_h h;
	struct vtd_h_guest g;
	struct pt ss, fs, gfs;
};

/*
 * Three streams whose tables cover the range with a 1G leaf
 * (0xC0000000..0xFFFFFFFF): second stage only, first stage only, and
 * nested (the guest's first stage maps the range too, to GPAs the stage 2
 * maps), RID_PASID and PASID 3 alike.
 */
static void env_init(struct env *e, const struct vtd_h_opts *o)
{
	vtd_h_init(&e->h, o);
	vtd_h_pt(&e->h, &e->ss, PT_FMT_VTD_SS, 48, 0, 0);
	vtd_h_pt(&e->h, &e->fs, PT_FMT_X86_64, 48, 0, 0);
	assert_int_equal(pt_map(&e->ss, 3 * SZ_1G, DATA, SZ_1G, RW, SZ_1G), 0);
	assert_int_equal(pt_map(&e->fs, 3 * SZ_1G, DATA, SZ_1G, RW, SZ_1G), 0);
	vtd_h_guest_init(&e->h, &e->g, 4ull << 20);
	vtd_h_guest_map(&e->g, &e->ss, SZ_4K, RW);
	vtd_h_guest_pt(&e->g, &e->gfs, PT_FMT_X86_64, 48, 0);
	/* Guest: the 1G around the range -> GPA 3G (stage 2: DATA). */
	assert_int_equal(
		pt_map(&e->gfs, 3 * SZ_1G, 3 * SZ_1G, SZ_1G, RW, SZ_1G), 0);
	for (uint32_t pasid = 0; pasid <= PASID; pasid += PASID) {
		vtd_h_attach(&e->h, SID_SS, pasid,
			     &(struct vtd_h_pe){ .pgtt = VTD_PGTT_SS,
						 .did = 1,
						 .ssptptr = e->ss.root });
		vtd_h_attach(&e->h, SID_FS, pasid,
			     &(struct vtd_h_pe){ .pgtt = VTD_PGTT_FS,
						 .did = 2,
						 .fsptptr = e->fs.root });
		vtd_h_attach(&e->h, SID_NEST, pasid,
			     &(struct vtd_h_pe){ .pgtt = VTD_PGTT_NESTED,
						 .did = 3,
						 .fsptptr = e->gfs.root,
						 .ssptptr = e->ss.root });
	}
}

static void test_not_translated(void **state)
{
	static const uint16_t sids[] = { SID_SS, SID_FS, SID_NEST };
	struct env e;

	env_init(&e, NULL);
	for (unsigned i = 0; i < 3; i++) {
		uint16_t sid = sids[i];
		uint64_t miss;

		/* The leaf around the range is cached first (and the PDE
		 * cache has nothing to say for a 1G leaf). */
		vtd_h_expect(&e.h, sid, false, 0, 0xfec00000ull, R,
			     DATA + 0x3ec00000ull);
		vtd_h_expect(&e.h, sid, false, 0, 0xfec00000ull, R,
			     DATA + 0x3ec00000ull);
		miss = ctr(&e.h, hw_tlb_miss);
		expect_interrupt(&e.h, sid, MSI);
		expect_interrupt(&e.h, sid, 0xfee00000ull);
		expect_interrupt(&e.h, sid, 0xfeeffffcull);
		expect_refused(&e.h, sid, MSI);
		/* No DMA translation was looked up for them. */
		assert_int_equal(ctr(&e.h, hw_tlb_miss), miss);
		/* Just outside: DMA through the 1G leaf. */
		vtd_h_expect(&e.h, sid, false, 0, 0xfedffffcull, W,
			     DATA + 0x3edffffcull);
		vtd_h_expect(&e.h, sid, false, 0, 0xfef00000ull, W,
			     DATA + 0x3ef00000ull);
		/* With PASID the range is DMA like any other. */
		vtd_h_expect(&e.h, sid, true, PASID, MSI, W, DATA + 0x3ee01004);
		vtd_h_expect(&e.h, sid, true, PASID, MSI, R, DATA + 0x3ee01004);
	}
	assert_int_equal(ctr(&e.h, hw_interrupt), 9);
	vtd_h_fini(&e.h);
}

/* Even from a function the tables do not know, and with translation
 * off; and translation requests get "untranslated only" for a write. */
static void test_any_state(void **state)
{
	struct ionest_xlate_req q = {
		.sid = SID_SS, .ats = true, .access = W, .iova = MSI
	};
	struct ionest_xlate_res r;
	struct env e;

	env_init(&e, NULL);
	expect_interrupt(&e.h, SID_NONE, MSI);
	expect_refused(&e.h, SID_NONE, MSI);
	assert_int_equal(ionest_hw_translate(e.h.hw, &q, &r), 0);
	assert_int_equal(r.status, IONEST_XLATE_INTERRUPT);
	q.access = R;
	assert_int_equal(ionest_hw_translate(e.h.hw, &q, &r), 0);
	assert_int_equal(r.status, IONEST_XLATE_FAULT);
	assert_false(r.recorded);
	/* Elsewhere the unknown function faults (context not present). */
	vtd_h_expect_fault(&e.h, SID_NONE, false, 0, 0x1000, W, VTD_FR_CTX_NP);
	vtd_h_clear_faults(&e.h);
	vtd_h_gcmd(&e.h, VTD_GCMD_TE, false);
	expect_interrupt(&e.h, SID_SS, MSI);
	expect_refused(&e.h, SID_SS, MSI);
	vtd_h_fini(&e.h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_not_translated),
		cmocka_unit_test(test_any_state),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
