// SPDX-License-Identifier: MIT
/* VT-d model: the translate fast paths (translate.c, psc.c). What an IOTLB
 * hit may serve (malformed requests never hit, aliasing PASIDs, privilege
 * and execute), results at every block size in use, fills after a miss
 * that later requests find (single stage, second stage, nested), and the
 * counters (every translation is a hit or a miss). */
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
#define RW (PR | PW)
#define SID_FS 0x0210
#define SID_SS 0x0218
#define PASID 5
#define DATA 0x40000000ull /* output addresses are never touched */
#define SZ_4K 0x1000ull
#define SZ_2M (1ull << 21)
#define PAGES 0x100000ull /* IOVA of the 64 pages of test_fills_found */

static void map(struct pt *pt, uint64_t iova, uint64_t pa, uint64_t size,
		uint32_t prot, uint64_t leaf)
{
	assert_int_equal(pt_map(pt, iova, pa, size, prot, leaf), 0);
}

static uint64_t ctr(struct vtd_h *h, enum hw_counter c)
{
	return to_vtd(h->hw)->hw.ctr_val[c];
}

/* Counters that move on any translation. */
struct snap {
	uint64_t xl, hit, miss, reads;
};

static struct snap snap(struct vtd_h *h)
{
	return (struct snap){ ctr(h, hw_translate), ctr(h, hw_tlb_hit),
			      ctr(h, hw_tlb_miss), ctr(h, hw_walk_read) };
}

static void expect_same(struct vtd_h *h, struct snap s)
{
	struct snap n = snap(h);

	assert_int_equal(n.xl, s.xl);
	assert_int_equal(n.hit, s.hit);
	assert_int_equal(n.miss, s.miss);
	assert_int_equal(n.reads, s.reads);
}

/* A translation served by the IOTLB: one more hit, no table read. */
static struct ionest_xlate_res expect_hit(struct vtd_h *h, uint16_t sid,
					  bool pv, uint32_t pasid,
					  uint64_t iova, uint32_t access,
					  uint64_t pa)
{
	struct snap s = snap(h);
	struct ionest_xlate_res r;

	r = vtd_h_expect(h, sid, pv, pasid, iova, access, pa);
	assert_int_equal(ctr(h, hw_tlb_hit), s.hit + 1);
	assert_int_equal(ctr(h, hw_tlb_miss), s.miss);
	assert_int_equal(ctr(h, hw_walk_read), s.reads);
	assert_int_equal(ctr(h, hw_translate), s.xl + 1);
	return r;
}

static int raw(struct vtd_h *h, uint32_t sid, bool pv, uint32_t ssid,
	       uint32_t access, uint64_t iova)
{
	struct ionest_xlate_req q = { .sid = sid,
				      .ssid = ssid,
				      .ssid_valid = pv,
				      .access = access,
				      .iova = iova };
	struct ionest_xlate_res r;

	return ionest_hw_translate(h->hw, &q, &r);
}

/*
 * Streams with cached entries that would grant the access if the request
 * were well formed: a second-stage stream without PASID (its entries carry
 * R, W and X) and a first-stage PASID stream with SRE and ERE. Malformed
 * requests to the same blocks are refused with nothing counted; the
 * entries still serve well-formed requests afterwards.
 */
static void test_malformed_never_hit(void **state)
{
	struct ionest_vtd_config cfg = { .ers = IONEST_CFG(1) };
	static const uint32_t bad_nopasid[] = {
		0,
		P,
		R | P,
		X,
		R | X,
		W | X,
		R | (1u << 4),
		R | (1u << 7),
		R | (1u << 31),
	};
	static const uint32_t bad_pasid[] = { 0, P, R | (1u << 4),
					      R | (1u << 31) };
	struct vtd_h h;
	struct pt ss, fs;
	struct snap s;

	vtd_h_init(&h, &(struct vtd_h_opts){ .cfg = &cfg });
	vtd_h_pt(&h, &ss, PT_FMT_VTD_SS, 48, 0, 0);
	vtd_h_pt(&h, &fs, PT_FMT_X86_64, 48, 0, 0);
	vtd_h_attach(&h, SID_SS, 0,
		     &(struct vtd_h_pe){ .pgtt = VTD_PGTT_SS,
					 .did = 2,
					 .ssptptr = ss.root });
	vtd_h_attach(&h, SID_FS, PASID,
		     &(struct vtd_h_pe){ .pgtt = VTD_PGTT_FS,
					 .did = 3,
					 .fsptptr = fs.root,
					 .q2 = VTD_PE_SRE | VTD_PE_ERE });
	map(&ss, 0x1000, DATA, SZ_4K, RW | PX, 0);
	map(&fs, 0x1000, DATA, SZ_4K, RW | PX, 0);

	vtd_h_expect(&h, SID_SS, false, 0, 0x1000, R | W, DATA);
	/* A user entry, replaced by a supervisor one (same block). */
	vtd_h_expect(&h, SID_FS, true, PASID, 0x1000, R, DATA);
	vtd_h_expect(&h, SID_FS, true, PASID, 0x1000, R | P, DATA);
	s = snap(&h);
	for (unsigned i = 0; i < sizeof(bad_nopasid) / sizeof(*bad_nopasid);
	     i++)
		assert_int_equal(raw(&h, SID_SS, false, 0, bad_nopasid[i],
				     0x1000),
				 -EINVAL);
	for (unsigned i = 0; i < sizeof(bad_pasid) / sizeof(*bad_pasid); i++)
		assert_int_equal(raw(&h, SID_FS, true, PASID, bad_pasid[i],
				     0x1000),
				 -EINVAL);
	/* PASIDs that would alias the key of PASID 5 (bit 31 is its valid
	 * flag) or exceed 20 bits. */
	assert_int_equal(raw(&h, SID_FS, true, PASID | (1u << 31), R | P,
			     0x1000),
			 -EINVAL);
	assert_int_equal(raw(&h, SID_FS, true, PASID | (1u << 20), R | P,
			     0x1000),
			 -EINVAL);
	/* A source-id beyond 16 bits whose low bits name the stream. */
	assert_int_equal(raw(&h, SID_SS | 0x10000, false, 0, R, 0x1000),
			 -EINVAL);
	expect_same(&h, s);

	expect_hit(&h, SID_SS, false, 0, 0x1000, R | W, DATA);
	expect_hit(&h, SID_FS, true, PASID, 0x1000, R | P, DATA);
	vtd_h_fini(&h);
}

/* First-stage entries serve only the privilege they were filled for;
 * execute requests need X in the entry, and are reads too. */
static void test_privilege_and_execute(void **state)
{
	struct ionest_vtd_config cfg = { .ers = IONEST_CFG(1) };
	struct ionest_xlate_res r;
	struct vtd_h h;
	struct pt fs;
	uint64_t miss;

	vtd_h_init(&h, &(struct vtd_h_opts){ .cfg = &cfg });
	vtd_h_pt(&h, &fs, PT_FMT_X86_64, 48, 0, 0);
	vtd_h_attach(&h, SID_FS, PASID,
		     &(struct vtd_h_pe){ .pgtt = VTD_PGTT_FS,
					 .did = 3,
					 .fsptptr = fs.root,
					 .q2 = VTD_PE_SRE | VTD_PE_ERE });
	map(&fs, 0x1000, DATA, SZ_4K, RW | PX, 0);
	map(&fs, 0x2000, DATA + SZ_4K, SZ_4K, RW, 0); /* XD */

	r = vtd_h_expect(&h, SID_FS, true, PASID, 0x1000, R, DATA);
	assert_int_equal(r.perm, R | X);
	r = expect_hit(&h, SID_FS, true, PASID, 0x1080, X, DATA + 0x80);
	assert_int_equal(r.perm, R | X);
	/* The user entry does not serve a supervisor read: it walks and
	 * replaces it; then the user read walks again. */
	miss = ctr(&h, hw_tlb_miss);
	r = vtd_h_expect(&h, SID_FS, true, PASID, 0x1000, R | P, DATA);
	assert_int_equal(r.perm & P, P);
	assert_int_equal(ctr(&h, hw_tlb_miss), miss + 1);
	expect_hit(&h, SID_FS, true, PASID, 0x1000, R | P | X, DATA);
	vtd_h_expect(&h, SID_FS, true, PASID, 0x1000, R, DATA);
	assert_int_equal(ctr(&h, hw_tlb_miss), miss + 2);

	/* An entry without X does not serve an execute request. */
	r = vtd_h_expect(&h, SID_FS, true, PASID, 0x2000, R, DATA + SZ_4K);
	assert_int_equal(r.perm, R);
	miss = ctr(&h, hw_tlb_miss);
	vtd_h_expect_fault(&h, SID_FS, true, PASID, 0x2000, X, VTD_FR_EXEC);
	assert_int_equal(ctr(&h, hw_tlb_miss), miss + 1);
	/* A clean entry does not serve a write (D gets set by the walk),
	 * the dirty one then does. */
	vtd_h_expect(&h, SID_FS, true, PASID, 0x2000, W, DATA + SZ_4K);
	assert_int_equal(ctr(&h, hw_tlb_miss), miss + 2);
	expect_hit(&h, SID_FS, true, PASID, 0x2ff8, R | W, DATA + 0x1ff8);
	vtd_h_fini(&h);
}

/* 4K and 2M entries side by side (the hit path probes the smallest size
 * first): each hit gives the right offset and block size. */
static void test_block_sizes(void **state)
{
	struct ionest_xlate_res r;
	struct vtd_h h;
	struct pt fs, ss;

	vtd_h_init(&h, NULL);
	vtd_h_pt(&h, &fs, PT_FMT_X86_64, 48, 0, 0);
	vtd_h_pt(&h, &ss, PT_FMT_VTD_SS, 48, 0, 0);
	vtd_h_attach(&h, SID_FS, 0,
		     &(struct vtd_h_pe){ .pgtt = VTD_PGTT_FS,
					 .did = 1,
					 .fsptptr = fs.root });
	vtd_h_attach(&h, SID_SS, 0,
		     &(struct vtd_h_pe){ .pgtt = VTD_PGTT_SS,
					 .did = 2,
					 .ssptptr = ss.root });
	for (unsigned i = 0; i < 2; i++) {
		struct pt *pt = i ? &ss : &fs;
		uint16_t sid = i ? SID_SS : SID_FS;

		map(pt, 0x1000, DATA, SZ_4K, RW, 0);
		map(pt, SZ_2M, DATA + 4 * SZ_2M, SZ_2M, RW, 0);
		/* 2M first (on the first pass the IOTLB then holds only 2M
		 * blocks), then 4K. */
		r = vtd_h_expect(&h, sid, false, 0, SZ_2M + 0x12345, R,
				 DATA + 4 * SZ_2M + 0x12345);
		assert_int_equal(r.size, SZ_2M);
		r = expect_hit(&h, sid, false, 0, SZ_2M + 0x1fffff, R,
			       DATA + 4 * SZ_2M + 0x1fffff);
		assert_int_equal(r.size, SZ_2M);
		r = vtd_h_expect(&h, sid, false, 0, 0x1abc, R, DATA + 0xabc);
		assert_int_equal(r.size, SZ_4K);
		r = expect_hit(&h, sid, false, 0, 0x1fff, R, DATA + 0xfff);
		assert_int_equal(r.size, SZ_4K);
		r = expect_hit(&h, sid, false, 0, SZ_2M + 0x100000, R,
			       DATA + 4 * SZ_2M + 0x100000);
		assert_int_equal(r.size, SZ_2M);
	}
	vtd_h_fini(&h);
}

/*
 * Misses the PDE cache serves fill the IOTLB where later lookups find
 * them: 64 pages of one 2M region (leaves accessed, PDE cache warm, IOTLB
 * emptied; not at IOVA 0, where the 4K and 2M sets coincide) miss once each,
 * reading one entry, then all hit. @big: a 2M block is cached first, so the
 * IOTLB holds no 4K block and the hit path probes the 2M set before the first
 * 4K fill.
 */
static void fills_found(struct vtd_h *h, uint16_t sid, bool big)
{
	struct vtd *v = to_vtd(h->hw);
	uint64_t reads;

	/* Set A in every leaf (the PDE cache serves accessed leaves). */
	for (unsigned i = 0; i < 64; i++)
		vtd_h_expect(h, sid, false, 0, PAGES + SZ_4K * i, R,
			     DATA + SZ_4K * (63 - i));
	hw_tlb_flush(&v->iotlb);
	assert_int_equal(hw_tlb_count(&v->psc), 1);
	if (big)
		vtd_h_expect(h, sid, false, 0, 4 * SZ_2M, R, DATA + 8 * SZ_2M);
	reads = ctr(h, hw_walk_read);
	for (unsigned i = 0; i < 64; i++)
		vtd_h_expect(h, sid, false, 0, PAGES + SZ_4K * i + 8 * i, R,
			     DATA + SZ_4K * (63 - i) + 8 * i);
	assert_int_equal(ctr(h, hw_walk_read), reads + 64);
	for (unsigned i = 0; i < 64; i++)
		expect_hit(h, sid, false, 0, PAGES + SZ_4K * i + 0x10, R,
			   DATA + SZ_4K * (63 - i) + 0x10);
	ionest_hw_flush_caches(h->hw);
}

static void map64(struct pt *pt)
{
	for (unsigned i = 0; i < 64; i++)
		map(pt, PAGES + SZ_4K * i, DATA + SZ_4K * (63 - i), SZ_4K, RW,
		    0);
	map(pt, 4 * SZ_2M, DATA + 8 * SZ_2M, SZ_2M, RW, 0);
}

static void test_fills_found(void **state)
{
	for (unsigned big = 0; big < 2; big++) {
		struct vtd_h h;
		struct pt fs, ss;

		vtd_h_init(&h, NULL);
		vtd_h_pt(&h, &fs, PT_FMT_X86_64, 48, 0, 0);
		vtd_h_pt(&h, &ss, PT_FMT_VTD_SS, 48, 0, 0);
		vtd_h_attach(&h, SID_FS, 0,
			     &(struct vtd_h_pe){ .pgtt = VTD_PGTT_FS,
						 .did = 1,
						 .fsptptr = fs.root });
		vtd_h_attach(&h, SID_SS, 0,
			     &(struct vtd_h_pe){ .pgtt = VTD_PGTT_SS,
						 .did = 2,
						 .ssptptr = ss.root });
		map64(&fs);
		map64(&ss);
		fills_found(&h, SID_FS, big);
		fills_found(&h, SID_SS, big);
		vtd_h_fini(&h);
	}
}

/* Nested: the PDE cache names the FS last-level table (host address), the
 * output GPA goes through the stage-2 walk cache, whose 2M leaves give the
 * offset; the IOTLB fill is then found. */
static void test_nested_fills_found(void **state)
{
	const uint64_t gpa = 0x40000000ull, hpa = 0x200000000ull;
	struct vtd_h_guest g;
	struct vtd_h h;
	struct pt ss, fs;
	uint64_t reads;

	vtd_h_init(&h, NULL);
	vtd_h_guest_init(&h, &g, 16ull << 20);
	vtd_h_pt(&h, &ss, PT_FMT_VTD_SS, 48, 0, 0);
	vtd_h_guest_map(&g, &ss, SZ_4K, RW);
	map(&ss, gpa, hpa, 8 * SZ_2M, RW, SZ_2M);
	vtd_h_guest_pt(&g, &fs, PT_FMT_X86_64, 48, 0);
	vtd_h_attach(&h, SID_FS, 0,
		     &(struct vtd_h_pe){ .pgtt = VTD_PGTT_NESTED,
					 .did = 9,
					 .fsptptr = fs.root,
					 .ssptptr = ss.root });
	/* Page i -> GPA page 97 * i (mod 2048) in 2M S2 leaves. */
	for (unsigned i = 0; i < 64; i++)
		map(&fs, SZ_4K * i, gpa + SZ_4K * ((97 * i) % 2048), SZ_4K, RW,
		    0);
	/* Warm the walk caches: every output's 2M S2 leaf. */
	for (unsigned i = 0; i < 64; i++)
		vtd_h_expect(&h, SID_FS, false, 0, SZ_4K * i, R,
			     hpa + SZ_4K * ((97 * i) % 2048));
	/* Leaf-only invalidation (IH=1) of the 64 pages: the IOTLB entries
	 * go, the PDE cache and the walk cache stay. */
	assert_int_equal(vtd_h_inv(&h, vtd_h_d_piotlb(VTD_PIOTLB_G_PAGE, 9, 0),
				   vtd_h_d_addr(0, 6, true)),
			 0);
	assert_int_equal(hw_tlb_count(&to_vtd(h.hw)->iotlb), 0);
	assert_int_equal(hw_tlb_count(&to_vtd(h.hw)->psc), 1);
	reads = ctr(&h, hw_walk_read);
	for (unsigned i = 0; i < 64; i++)
		vtd_h_expect(&h, SID_FS, false, 0, SZ_4K * i + 0x44, R,
			     hpa + SZ_4K * ((97 * i) % 2048) + 0x44);
	assert_int_equal(ctr(&h, hw_walk_read), reads + 64);
	for (unsigned i = 0; i < 64; i++)
		expect_hit(&h, SID_FS, false, 0, SZ_4K * i + 0x88, R,
			   hpa + SZ_4K * ((97 * i) % 2048) + 0x88);
	vtd_h_fini(&h);
}

/* A leaf whose output is beyond HAW, in a 2M region the PDE cache holds:
 * the one-read path must leave it to the walk, which faults. The same
 * answer as with every cache empty. */
static void test_psc_beyond_haw(void **state)
{
	struct ionest_vtd_config cfg = { .mgaw = IONEST_CFG(46) };
	const uint64_t far = 1ull << 47; /* HAW is 47 */
	struct ionest_xlate_res r, again;
	struct vtd_h h;
	struct pt fs, ss;

	vtd_h_init(&h, &(struct vtd_h_opts){ .cfg = &cfg });
	vtd_h_pt(&h, &fs, PT_FMT_X86_64, 48, 0, 0);
	vtd_h_pt(&h, &ss, PT_FMT_VTD_SS, 48, 0, 0);
	vtd_h_attach(&h, SID_FS, 0,
		     &(struct vtd_h_pe){ .pgtt = VTD_PGTT_FS,
					 .did = 1,
					 .fsptptr = fs.root });
	vtd_h_attach(&h, SID_SS, 0,
		     &(struct vtd_h_pe){ .pgtt = VTD_PGTT_SS,
					 .did = 2,
					 .ssptptr = ss.root });
	for (unsigned i = 0; i < 2; i++) {
		struct pt *pt = i ? &ss : &fs;
		uint16_t sid = i ? SID_SS : SID_FS;

		map(pt, 0x1000, DATA, SZ_4K, RW, 0);
		map(pt, 0x2000, far, SZ_4K, RW, 0);
		if (!i) /* accessed, as the one-read path wants */
			*vtd_h_pte(pt, 0x2000, 0) |= VTD_FS_A;
		vtd_h_expect(&h, sid, false, 0, 0x1000, R, DATA);
		assert_int_equal(hw_tlb_count(&to_vtd(h.hw)->psc), 1);
		r = vtd_h_xlate(&h, sid, false, 0, 0x2000, R);
		assert_int_equal(r.status, IONEST_XLATE_FAULT);
		assert_int_not_equal(r.fault, 0);
		vtd_h_clear_faults(&h);
		ionest_hw_flush_caches(h.hw);
		again = vtd_h_xlate(&h, sid, false, 0, 0x2000, R);
		assert_int_equal(again.status, IONEST_XLATE_FAULT);
		assert_int_equal(again.fault, r.fault);
		vtd_h_clear_faults(&h);
	}
	vtd_h_fini(&h);
}

/* With translation on, every well-formed request is one translation and
 * exactly one IOTLB hit or miss, whichever path serves it (hit path,
 * another block size, PDE cache, walk, fault, ATS). */
static void test_counts(void **state)
{
	struct vtd_h h;
	struct pt fs;
	struct snap s;

	vtd_h_init(&h, NULL);
	vtd_h_pt(&h, &fs, PT_FMT_X86_64, 48, 0, 0);
	vtd_h_attach(&h, SID_FS, 0,
		     &(struct vtd_h_pe){ .pgtt = VTD_PGTT_FS,
					 .did = 1,
					 .fsptptr = fs.root });
	map(&fs, 0x1000, DATA, SZ_4K, RW, 0);
	map(&fs, 0x2000, DATA + SZ_4K, SZ_4K, RW, 0);
	map(&fs, SZ_2M, DATA + SZ_2M, SZ_2M, RW, 0);
	s = snap(&h);
	vtd_h_expect(&h, SID_FS, false, 0, 0x1000, R, DATA); /* walk */
	vtd_h_expect(&h, SID_FS, false, 0, 0x1000, R, DATA); /* hit */
	vtd_h_expect(&h, SID_FS, false, 0, 0x2000, R, DATA + SZ_4K); /* PSC */
	vtd_h_expect(&h, SID_FS, false, 0, SZ_2M, R, DATA + SZ_2M); /* walk */
	vtd_h_expect(&h, SID_FS, false, 0, SZ_2M + 8, R, DATA + SZ_2M + 8);
	vtd_h_expect(&h, SID_FS, false, 0, 0x1000, W, DATA); /* sets D */
	vtd_h_expect_fault(&h, SID_FS, false, 0, 0x5000, R, VTD_FR_FS_NP);
	{
		struct ionest_xlate_req q = {
			.sid = SID_FS, .ats = true, .access = R, .iova = 0x1000
		};
		struct ionest_xlate_res r;

		assert_int_equal(ionest_hw_translate(h.hw, &q, &r), 0);
		assert_int_equal(r.status, IONEST_XLATE_OK);
	}
	assert_int_equal(ctr(&h, hw_translate) - s.xl, 8);
	assert_int_equal(ctr(&h, hw_tlb_hit) - s.hit, 2);
	assert_int_equal(ctr(&h, hw_tlb_miss) - s.miss, 6);
	vtd_h_fini(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_malformed_never_hit),
		cmocka_unit_test(test_privilege_and_execute),
		cmocka_unit_test(test_block_sizes),
		cmocka_unit_test(test_fills_found),
		cmocka_unit_test(test_nested_fills_found),
		cmocka_unit_test(test_psc_beyond_haw),
		cmocka_unit_test(test_counts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
