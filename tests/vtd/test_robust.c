// SPDX-License-Identifier: MIT
/* VT-d model under hostile and concurrent use: random tables, descriptors
 * and register writes on a bus bounded to the arena (no crash, no access
 * outside it, every result well formed), and translations racing with
 * remaps, invalidation waits and fault recording. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include "hw/vtd/vtd.h"
#include "vtd_harness.h"

#define R IONEST_ACCESS_READ
#define W IONEST_ACCESS_WRITE
#define X IONEST_ACCESS_EXEC
#define P IONEST_ACCESS_PRIV

/* ---- fuzzing ---- */

#define FUZZ_PAGES 64

struct fuzz {
	struct vtd_h h;
	uint8_t *pages; /* FUZZ_PAGES x 4 KB of tables */
	struct test_rng rng;
	unsigned outside; /* bus accesses refused (counted by the bus) */
};

/* A table word: mostly pointers into the fuzz pages with random low bits
 * (so walks go deep), sometimes outside the arena, sometimes junk. */
static uint64_t fuzz_word(struct fuzz *f)
{
	uint64_t r = test_rng_next(&f->rng);
	uint64_t page =
		vtd_h_pa(f->pages) + 4096 * test_rng_below(&f->rng, FUZZ_PAGES);

	switch (r & 7) {
	case 0:
		return 0;
	case 1:
		return test_rng_next(&f->rng);
	case 2:
		return (r & ~0xfffull & ((1ull << 48) - 1)) | (r & 0xfff);
	default:
		/* Present-ish pointer: P/R/W bits likely set. */
		return page | ((r >> 8) & 0xfff) | 0x7;
	}
}

static void fuzz_fill(struct fuzz *f, unsigned page)
{
	uint64_t *p = (uint64_t *)(f->pages + 4096ull * page);

	for (unsigned i = 0; i < 512; i++)
		p[i] = fuzz_word(f);
}

static void fuzz_request(struct fuzz *f)
{
	static const uint32_t accesses[] = {
		R, W, R | W, X, R | P, W | P, X | P
	};
	struct test_rng *g = &f->rng;
	uint64_t r = test_rng_next(g);
	struct ionest_xlate_req q = {
		.sid = (uint32_t)test_rng_below(g, 4) << 8 |
		       (uint32_t)test_rng_below(g, 256),
		.ssid = (uint32_t)test_rng_below(g, 1u << 20),
		.ssid_valid = r & 1,
		.ats = (r >> 1) & 1,
		.pri = (r >> 2) & 1,
		.prgi = (uint16_t)(r >> 16),
		.access = accesses[(r >> 8) % 7],
		.iova = test_rng_next(g),
	};
	struct ionest_xlate_res res;
	int ret;

	if ((r >> 3) & 1)
		q.iova &= (1ull << 39) - 1;
	if ((r >> 4) & 1)
		q.ssid &= 0x3f;
	ret = ionest_hw_translate(f->h.hw, &q, &res);
	if (!q.ssid_valid && (q.access & (X | P))) {
		assert_int_equal(ret, -EINVAL);
		return;
	}
	assert_int_equal(ret, 0);
	switch (res.status) {
	case IONEST_XLATE_OK:
		assert_true(res.size >= 4096);
		assert_true(res.perm & (R | W));
		break;
	case IONEST_XLATE_BYPASS:
		assert_int_equal(res.addr, q.iova);
		break;
	case IONEST_XLATE_FAULT:
		assert_true(res.fault >= 0x30 && res.fault <= 0x91);
		break;
	case IONEST_XLATE_PAGE_REQUEST:
		assert_true(q.pri);
		break;
	default:
		fail_msg("status %u", res.status);
	}
}

/* Random descriptors into the queue; recover from IQE like a driver that
 * drops the rest. */
static void fuzz_queue(struct fuzz *f)
{
	unsigned n = 1 + (unsigned)test_rng_below(&f->rng, 8);

	for (unsigned i = 0; i < n; i++) {
		uint64_t q0 = fuzz_word(f), q1 = fuzz_word(f);

		/* Steer half of them to real types. */
		if (q0 & 1)
			q0 = (q0 & ~0xe0full) |
			     (1 + test_rng_below(&f->rng, 9));
		vtd_h_queue(&f->h, q0, q1, test_rng_below(&f->rng, 4) ? 0 : q1,
			    0);
	}
	vtd_h_kick(&f->h);
	if (vtd_h_rd32(&f->h, VTD_REG_FSTS) & VTD_FSTS_IQE) {
		vtd_h_wr64(&f->h, VTD_REG_IQT, vtd_h_rd64(&f->h, VTD_REG_IQH));
		f->h.iq_tail = (unsigned)vtd_h_rd64(&f->h, VTD_REG_IQH);
		vtd_h_wr32(&f->h, VTD_REG_FSTS, VTD_FSTS_IQE);
	}
}

/* Random register writes, sparing the queue setup most of the time. */
static void fuzz_register(struct fuzz *f)
{
	static const uint64_t regs[] = {
		VTD_REG_FSTS,	VTD_REG_FECTL,	VTD_REG_FEADDR, VTD_REG_ICS,
		VTD_REG_IECTL,	VTD_REG_IEADDR, VTD_REG_PQH,	VTD_REG_PQA,
		VTD_REG_PRS,	VTD_REG_PECTL,	VTD_REG_CCMD,	0x200,
		0x208,		0x220,		0x228,		0x230,
		VTD_REG_RTADDR, VTD_REG_GCMD,	0x1000,		VTD_REG_IQA,
	};
	uint64_t r = test_rng_next(&f->rng);
	unsigned i = (unsigned)(r % (sizeof(regs) / sizeof(regs[0])));
	uint64_t val = fuzz_word(f);
	bool narrow = ((r >> 40) & 1) || (regs[i] & 4);

	if (regs[i] == VTD_REG_GCMD)
		val |= VTD_GCMD_TE | VTD_GCMD_QIE;
	if (regs[i] == VTD_REG_RTADDR)
		val = (val & ~0xc00ull) | 1ull << 10;
	assert_int_equal(ionest_hw_mmio_write(f->h.hw, regs[i], narrow ? 4 : 8,
					      narrow ? val & 0xffffffffull :
						       val),
			 0);
}

static void test_fuzz(void **state)
{
	struct fuzz f;
	uint64_t seed = 0x5eed1234abcdull;

	memset(&f, 0, sizeof(f));
	test_rng_seed(&f.rng, seed);
	print_message("seed %#llx\n", (unsigned long long)seed);
	vtd_h_init(&f.h, &(struct vtd_h_opts){ .bounded = true,
					       .mem_size = 8u << 20 });
	f.pages = vtd_h_alloc(&f.h, FUZZ_PAGES * 4096, 4096);
	for (unsigned p = 0; p < FUZZ_PAGES; p++)
		fuzz_fill(&f, p);
	/* Root entries point into the fuzz pages. */
	for (unsigned i = 0; i < 512; i++)
		f.h.root[i] = fuzz_word(&f);

	for (unsigned round = 0; round < 40; round++) {
		for (unsigned i = 0; i < 500; i++)
			fuzz_request(&f);
		fuzz_fill(&f, (unsigned)test_rng_below(&f.rng, FUZZ_PAGES));
		fuzz_queue(&f);
		for (unsigned i = 0; i < 4; i++)
			fuzz_register(&f);
		if (!(round % 8)) {
			vtd_h_clear_faults(&f.h);
			ionest_hw_flush_caches(f.h.hw);
		}
	}
	/* The model still works after all that. */
	vtd_h_gcmd(&f.h, VTD_GCMD_QIE, false);
	vtd_h_enable(&f.h);
	assert_int_equal(vtd_h_sync(&f.h), 0);
	vtd_h_fini(&f.h);
}

/* ---- concurrency ---- */

#define PAGES 16
#define GENS 150
#define GEN_PA(g, i) ((((uint64_t)(g) + 1) << 32) + 0x1000ull * (i))

struct race {
	struct vtd_h h;
	struct pt fs, ss;
	bool nested;
	unsigned epoch; /* generation every later translate must see */
	bool done, failed;
	unsigned long checked, progress;
	const char *what; /* first failure seen by a translator */
	uint64_t a, b;
};

static void race_fail(struct race *r, const char *what, uint64_t a, uint64_t b)
{
	if (!__atomic_exchange_n(&r->failed, true, __ATOMIC_ACQ_REL)) {
		r->what = what;
		r->a = a;
		r->b = b;
	}
	__atomic_store_n(&r->done, true, __ATOMIC_RELEASE);
}

struct worker {
	struct race *r;
	uint64_t seed;
};

static void *translator(void *arg)
{
	struct worker *wk = arg;
	struct race *r = wk->r;
	struct test_rng rng;
	unsigned long n = 0;

	test_rng_seed(&rng, wk->seed);
	while (!__atomic_load_n(&r->done, __ATOMIC_ACQUIRE)) {
		unsigned e = __atomic_load_n(&r->epoch, __ATOMIC_ACQUIRE);
		unsigned i = (unsigned)test_rng_below(&rng, PAGES);
		struct ionest_xlate_req q = {
			.sid = 0x0100,
			.ssid = 1,
			.ssid_valid = true,
			.access = (rng.s & 1) ? W : R,
			.iova = 0x100000 + 0x1000ull * i,
		};
		struct ionest_xlate_res res;

		/* Now and then a request that faults and is recorded. */
		if (!(rng.s & 0xf0))
			q.ssid = 2;
		if (ionest_hw_translate(r->h.hw, &q, &res)) {
			race_fail(r, "translate error", 0, 0);
			break;
		}
		if (res.status == IONEST_XLATE_OK) {
			uint64_t g = (res.addr >> 32) - 1;

			/* A translation started after the sync of epoch e
			 * never uses an older mapping. */
			if (g < e || res.addr - GEN_PA(g, 0) != 0x1000ull * i) {
				race_fail(r, "stale", res.addr, e);
				break;
			}
			n++;
		} else if (res.status != IONEST_XLATE_FAULT) {
			race_fail(r, "status", res.status, res.fault);
			break;
		}
		__atomic_add_fetch(&r->progress, 1, __ATOMIC_RELAXED);
		test_rng_next(&rng);
	}
	__atomic_add_fetch(&r->checked, n, __ATOMIC_RELAXED);
	return NULL;
}

static void race_run(bool nested)
{
	struct race r = { .nested = nested };
	struct vtd_h_guest g;
	struct worker wk[3];
	pthread_t th[3];
	struct pt *leafpt;

	vtd_h_init(&r.h, NULL);
	if (nested) {
		vtd_h_guest_init(&r.h, &g, 4u << 20);
		vtd_h_pt(&r.h, &r.ss, PT_FMT_VTD_SS, 48, 0, 0);
		vtd_h_guest_map(&g, &r.ss, 1ull << 12,
				PT_PROT_READ | PT_PROT_WRITE);
		vtd_h_guest_pt(&g, &r.fs, PT_FMT_X86_64, 48, 0);
		/* FS maps IOVA -> GPA (identity into high GPAs); SS maps
		 * those GPAs to the generation's addresses. */
		for (unsigned i = 0; i < PAGES; i++)
			assert_int_equal(
				pt_map(&r.fs, 0x100000 + 0x1000ull * i,
				       0x8000000000ull + 0x1000ull * i, 0x1000,
				       PT_PROT_READ | PT_PROT_WRITE, 0),
				0);
		leafpt = &r.ss;
	} else {
		vtd_h_pt(&r.h, &r.fs, PT_FMT_X86_64, 48, 0, 0);
		leafpt = &r.fs;
	}
	for (unsigned i = 0; i < PAGES; i++)
		assert_int_equal(pt_map(leafpt,
					(nested ? 0x8000000000ull : 0x100000) +
						0x1000ull * i,
					GEN_PA(0, i), 0x1000,
					PT_PROT_READ | PT_PROT_WRITE, 0),
				 0);
	vtd_h_attach(&r.h, 0x0100, 1,
		     &(struct vtd_h_pe){ .pgtt = nested ? VTD_PGTT_NESTED :
							  VTD_PGTT_FS,
					 .did = 4,
					 .fsptptr = r.fs.root,
					 .ssptptr = nested ? r.ss.root : 0,
					 .q0 = VTD_PE_FPD });
	vtd_h_attach(&r.h, 0x0100, 2,
		     &(struct vtd_h_pe){ .pgtt = VTD_PGTT_FS,
					 .did = 5,
					 .fsptptr = vtd_h_pa(vtd_h_alloc(
						 &r.h, 4096, 4096)) });

	for (unsigned t = 0; t < 3; t++) {
		wk[t] = (struct worker){ &r, 0x1234 + t };
		assert_int_equal(
			pthread_create(&th[t], NULL, translator, &wk[t]), 0);
	}
	for (unsigned gen = 1; gen <= GENS; gen++) {
		unsigned long seen =
			__atomic_load_n(&r.progress, __ATOMIC_RELAXED);

		/* Let the translators run between generations. */
		while (__atomic_load_n(&r.progress, __ATOMIC_RELAXED) <
			       seen + 64 &&
		       !__atomic_load_n(&r.failed, __ATOMIC_ACQUIRE))
			sched_yield();
		if (__atomic_load_n(&r.failed, __ATOMIC_ACQUIRE))
			break;
		for (unsigned i = 0; i < PAGES; i++) {
			uint64_t va = (nested ? 0x8000000000ull : 0x100000) +
				      0x1000ull * i;
			uint64_t n = 0;

			assert_int_equal(
				pt_unmap(leafpt, va, 0x1000, 0, NULL, &n), 0);
			assert_int_equal(
				pt_map(leafpt, va, GEN_PA(gen, i), 0x1000,
				       PT_PROT_READ | PT_PROT_WRITE, 0),
				0);
		}
		if (nested)
			vtd_h_queue(&r.h, vtd_h_d_iotlb(VTD_IOTLB_G_DOMAIN, 4),
				    0, 0, 0);
		else
			vtd_h_queue(&r.h,
				    vtd_h_d_piotlb(VTD_PIOTLB_G_PASID, 4, 1), 0,
				    0, 0);
		assert_int_equal(vtd_h_sync(&r.h), 0);
		__atomic_store_n(&r.epoch, gen, __ATOMIC_RELEASE);
		if (!(gen % 16))
			vtd_h_clear_faults(&r.h);
	}
	__atomic_store_n(&r.done, true, __ATOMIC_RELEASE);
	for (unsigned t = 0; t < 3; t++)
		pthread_join(th[t], NULL);
	if (r.failed)
		fail_msg("%s: %#llx %#llx", r.what, (unsigned long long)r.a,
			 (unsigned long long)r.b);
	assert_true(r.checked > 0);
	vtd_h_fini(&r.h);
}

static void test_race_first_stage(void **state)
{
	race_run(false);
}

static void test_race_nested(void **state)
{
	race_run(true);
}

static void test_set_bus_flushes(void **state)
{
	struct vtd_h h;
	struct pt fs;

	vtd_h_init(&h, NULL);
	vtd_h_pt(&h, &fs, PT_FMT_X86_64, 48, 0, 0);
	vtd_h_attach(&h, 0x0100, 0,
		     &(struct vtd_h_pe){ .pgtt = VTD_PGTT_FS,
					 .did = 1,
					 .fsptptr = fs.root });
	assert_int_equal(
		pt_map(&fs, 0x1000, 0x40000000, 0x1000, PT_PROT_READ, 0), 0);
	vtd_h_expect(&h, 0x0100, false, 0, 0x1000, R, 0x40000000);
	ionest_hw_set_bus(h.hw, NULL, NULL);
	assert_int_equal(hw_tlb_count(&to_vtd(h.hw)->iotlb), 0);
	vtd_h_fini(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fuzz),
		cmocka_unit_test(test_race_first_stage),
		cmocka_unit_test(test_race_nested),
		cmocka_unit_test(test_set_bus_flushes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
