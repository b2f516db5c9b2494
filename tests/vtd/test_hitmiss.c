// SPDX-License-Identifier: MIT
/*
 * VT-d model: a cached translation gives exactly the answer the walk
 * gives. For every translation type (first stage, second stage only,
 * nested), PASID-entry permission bits (SRE, ERE, WPE, SSEE), page
 * permissions (user/supervisor, read-only, XD / no X) and request kinds
 * (read, write, execute, each user and supervisor, with and without
 * PASID), a request answered after another one warmed the IOTLB and the
 * PDE cache must equal the same request with every cache empty: status,
 * output, block size, permissions, fault reason and record (vtd.md §4-§7:
 * SRE gates supervisor requests (0x5D) and ERE execute requests (0x5C)
 * whatever the PGTT).
 */
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
#define PASID 5
#define SZ_4K 0x1000ull
#define SZ_2M (1ull << 21)
#define GUEST (8ull << 20)
#define DATA_GPA 0x40000000ull /* nested: data GPAs */
#define DATA 0x200000000ull /* output addresses (never touched) */
#define NPAGES 5 /* IOVA page 1..5; page 5 is not mapped */

/* Page i (1-based) of every table: what it allows. */
static const uint32_t fs_prot[NPAGES] = { RW | PX, RW, PR | PX, RW | PX | PP,
					  0 };
static const uint32_t ss_prot[NPAGES] = { RW | PX, RW, PR | PX, RW, 0 };

static const uint32_t reqs[] = { R, W, X, R | P, W | P, X | P };

struct stream {
	uint16_t sid;
	unsigned pgtt;
	uint64_t q0, q2;
};

static void map_pages(struct pt *pt, const uint32_t *prot, uint64_t out)
{
	for (unsigned i = 0; i < NPAGES; i++)
		if (prot[i])
			assert_int_equal(pt_map(pt, SZ_4K * (i + 1),
						out + SZ_4K * i, SZ_4K, prot[i],
						0),
					 0);
}

static void attach(struct vtd_h *h, const struct stream *s, struct pt *fs,
		   struct pt *ss)
{
	struct vtd_h_pe pe = {
		.pgtt = s->pgtt,
		.did = (uint16_t)(s->sid & 0xff),
		.fsptptr = s->pgtt != VTD_PGTT_SS ? fs->root : 0,
		.ssptptr = s->pgtt != VTD_PGTT_FS ? ss->root : 0,
		.q0 = s->q0,
		.q2 = s->q2,
	};

	/* RID_PASID (requests without PASID) and PASID 5: one tree. */
	vtd_h_attach(h, s->sid, 0, &pe);
	vtd_h_attach(h, s->sid, PASID, &pe);
}

/* @pmask: the permission bits that must agree. */
static void check_same(const struct ionest_xlate_res *a,
		       const struct ionest_xlate_res *b, uint32_t pmask,
		       const char *what)
{
	if (a->status != b->status || a->fault != b->fault ||
	    a->recorded != b->recorded || a->stage2 != b->stage2 ||
	    (a->status == IONEST_XLATE_OK &&
	     (a->addr != b->addr || a->size != b->size ||
	      ((a->perm ^ b->perm) & pmask))))
		fail_msg("%s: cached status %u fault %#x addr %#llx size %#llx "
			 "perm %#x; cold status %u fault %#x addr %#llx "
			 "size %#llx perm %#x",
			 what, a->status, a->fault, (unsigned long long)a->addr,
			 (unsigned long long)a->size, a->perm, b->status,
			 b->fault, (unsigned long long)b->addr,
			 (unsigned long long)b->size, b->perm);
}

static struct ionest_xlate_res xl(struct vtd_h *h, uint16_t sid, bool pv,
				  uint64_t iova, uint32_t access)
{
	return vtd_h_xlate(h, sid, pv, pv ? PASID : 0, iova, access);
}

/*
 * Every warm request (page, kind) followed by every probe, against the
 * probe alone with the caches empty. Nested results served through the
 * stage-2 walk cache (which holds what reads proved) may report fewer
 * permissions than the request did not ask for (a later write walks):
 * there only the requested ones and the privilege must agree.
 */
static void sweep(struct vtd_h *h, uint16_t sid, bool pv, bool nested)
{
	char what[128];

	for (unsigned wp = 1; wp <= NPAGES; wp++)
		for (unsigned wi = 0; wi < sizeof(reqs) / sizeof(*reqs); wi++)
			for (unsigned pp = 1; pp <= NPAGES; pp++)
				for (unsigned pi = 0;
				     pi < sizeof(reqs) / sizeof(*reqs); pi++) {
					uint32_t wa = reqs[wi], pa = reqs[pi];
					struct ionest_xlate_res hot, cold;

					/* Privilege and execute need the
					 * PASID prefix. */
					if (!pv && ((wa | pa) & (P | X)))
						continue;
					ionest_hw_flush_caches(h->hw);
					vtd_h_clear_faults(h);
					xl(h, sid, pv, SZ_4K * wp + 8, wa);
					hot = xl(h, sid, pv, SZ_4K * pp + 0x10,
						 pa);
					ionest_hw_flush_caches(h->hw);
					vtd_h_clear_faults(h);
					cold = xl(h, sid, pv, SZ_4K * pp + 0x10,
						  pa);
					snprintf(what, sizeof(what),
						 "sid %#x pasid %d: page %u "
						 "access %#x after page %u "
						 "access %#x",
						 sid, pv, pp, pa, wp, wa);
					check_same(&hot, &cold,
						   nested ? pa | R | P : ~0u,
						   what);
				}
	ionest_hw_flush_caches(h->hw);
	vtd_h_clear_faults(h);
}

/* Dirty and accessed everywhere first, so that state does not change
 * between the cached and the cold answer. */
static void settle(struct vtd_h *h, uint16_t sid)
{
	for (unsigned i = 1; i <= NPAGES; i++)
		for (unsigned r = 0; r < sizeof(reqs) / sizeof(*reqs); r++)
			xl(h, sid, true, SZ_4K * i, reqs[r]);
	ionest_hw_flush_caches(h->hw);
	vtd_h_clear_faults(h);
}

static void run(unsigned pgtt)
{
	static const uint64_t q2s[] = {
		0,
		VTD_PE_SRE,
		VTD_PE_ERE,
		VTD_PE_SRE | VTD_PE_ERE,
		VTD_PE_SRE | VTD_PE_WPE,
	};
	struct ionest_vtd_config cfg = { .ers = IONEST_CFG(1) };
	struct vtd_h h;
	struct vtd_h_guest g;
	struct pt fs, ss;
	uint16_t sid = 0x400;

	vtd_h_init(&h, &(struct vtd_h_opts){ .cfg = &cfg });
	vtd_h_pt(&h, &ss, PT_FMT_VTD_SS, 48, 0, 0);
	if (pgtt == VTD_PGTT_NESTED) {
		/* Guest tables at GPAs; data GPAs to DATA in 2M leaves. */
		vtd_h_guest_init(&h, &g, GUEST);
		vtd_h_guest_map(&g, &ss, SZ_4K, RW);
		assert_int_equal(
			pt_map(&ss, DATA_GPA, DATA, SZ_2M, RW | PX, SZ_2M), 0);
		vtd_h_guest_pt(&g, &fs, PT_FMT_X86_64, 48, 0);
		map_pages(&fs, fs_prot, DATA_GPA);
	} else {
		vtd_h_pt(&h, &fs, PT_FMT_X86_64, 48, 0, 0);
		map_pages(&fs, fs_prot, DATA);
		map_pages(&ss, ss_prot, DATA);
	}
	for (unsigned q = 0; q < sizeof(q2s) / sizeof(*q2s); q++) {
		for (unsigned ssee = 0; ssee < 2; ssee++) {
			struct stream s = {
				.sid = sid++,
				.pgtt = pgtt,
				.q0 = ssee ? VTD_PE_SSEE : 0,
				.q2 = q2s[q],
			};

			if (ssee && pgtt == VTD_PGTT_FS)
				continue;
			attach(&h, &s, &fs, &ss);
			settle(&h, s.sid);
			sweep(&h, s.sid, true, pgtt == VTD_PGTT_NESTED);
			sweep(&h, s.sid, false, pgtt == VTD_PGTT_NESTED);
		}
	}
	vtd_h_fini(&h);
}

static void test_first_stage(void **state)
{
	run(VTD_PGTT_FS);
}

static void test_second_stage(void **state)
{
	run(VTD_PGTT_SS);
}

static void test_nested(void **state)
{
	run(VTD_PGTT_NESTED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_stage),
		cmocka_unit_test(test_second_stage),
		cmocka_unit_test(test_nested),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
