// SPDX-License-Identifier: MIT
/*
 * Page-table engine benchmark (performance.md T3, T3b, T3c, T4, T4b and the
 * hot-walk target): map and unmap 1 GiB, single-page map/unmap, hot and
 * cold walks, for the four formats with the 4K granule and 4 levels, each
 * against plain code measured in the same run. Tables come from the
 * pre-faulted pool, reserved before timing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "bench.h"
#include "pt/pt.h"

#define GIB (1ull << 30)
#define NPTE (GIB >> 12)

static const struct {
	const char *name;
	enum pt_format fmt;
} fmts[] = {
	{ "x86", PT_FMT_X86_64 },
	{ "arm-s1", PT_FMT_ARM_S1 },
	{ "arm-s2", PT_FMT_ARM_S2 },
	{ "vtd-ss", PT_FMT_VTD_SS },
};

static void mk(struct pt *pt, enum pt_format fmt)
{
	struct pt_cfg c = {
		.fmt = fmt,
		.granule_shift = 12,
		.ias = 48,
		.oas = 48,
		.start_level = -1,
	};

	if (pt_init(pt, &c, (struct pt_mem){ 0 })) {
		fprintf(stderr, "pt_init failed\n");
		exit(1);
	}
}

static void check(int ret, const char *what)
{
	if (ret) {
		fprintf(stderr, "%s failed: %d\n", what, ret);
		exit(1);
	}
}

/* Push page tables and everything else out of the caches. */
static uint8_t *evict_buf;
#define EVICT_BYTES (96u << 20)

static void evict(void)
{
	size_t i;

	if (!evict_buf) {
		evict_buf = mmap(NULL, EVICT_BYTES, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (evict_buf == MAP_FAILED)
			abort();
		memset(evict_buf, 1, EVICT_BYTES);
	}
	for (i = 0; i < EVICT_BYTES; i += 64)
		evict_buf[i]++;
	bench_clobber();
}

/*
 * ---- T3 / T4: 1 GiB in one call, tables cold ----
 * Each repetition measures the baselines right before our calls, so both
 * see the same load on this shared machine.
 */
static void bench_gib(const char *fname, enum pt_format fmt)
{
	double tmap[7], tunmap[7], tblk[7], tstore[7], tclear[7];
	unsigned r, reps = bench_reps();
	uint64_t iova = 1ull << 39, pa = 1ull << 32, done;
	struct pt pt;
	char n[64];
	size_t u0, u1 = 0;

	mk(&pt, fmt);
	pt_pool_usage(&u0, NULL);
	for (r = 0; r < reps; r++) {
		double t0;

		/* the store baseline and our map start from the same
		 * (evicted) cache state */
		evict();
		t0 = bench_now_ns();
		baseline_store_cold_fn(NULL, 1);
		tstore[r] = (bench_now_ns() - t0) / NPTE;
		evict();
		t0 = bench_now_ns();
		check(pt_map(&pt, iova, pa, GIB, PT_PROT_READ | PT_PROT_WRITE,
			     0x1000),
		      "map 1G/4K");
		tmap[r] = bench_now_ns() - t0;
		pt_pool_usage(&u1, NULL);
		tclear[r] = baseline_clear_once_ns_per_pte();
		t0 = bench_now_ns();
		check(pt_unmap(&pt, iova, GIB, 0, NULL, &done), "unmap 1G");
		tunmap[r] = bench_now_ns() - t0;
		if (done != GIB) {
			fprintf(stderr, "%s: unmapped %#llx\n", fname,
				(unsigned long long)done);
			exit(1);
		}
		/* T3b: 512 block descriptors (no 1G leaf), caches as a
		 * map loop leaves them */
		t0 = bench_now_ns();
		check(pt_map(&pt, iova, pa, GIB, PT_PROT_READ | PT_PROT_WRITE,
			     0x201000),
		      "map 1G/2M");
		tblk[r] = bench_now_ns() - t0;
		check(pt_unmap(&pt, iova, GIB, 0, NULL, &done), "unmap 1G/2M");
	}
	pt_destroy(&pt);
	/* T7: table bytes per mapped 4K page against the radix minimum
	 * 8 + 8/512 + 8/512^2 */
	snprintf(n, sizeof(n), "%s table bytes/page", fname);
	bench_report(n, (double)(u1 - u0) / NPTE, "B", "radix minimum",
		     8.0 + 8.0 / 512 + 8.0 / (512 * 512), 1.02, false);
	snprintf(n, sizeof(n), "%s map 1G 4K", fname);
	bench_report(n, bench_median(tmap, reps) / NPTE, "ns/PTE", "store cold",
		     bench_median(tstore, reps), 3.5, false);
	snprintf(n, sizeof(n), "%s unmap 1G 4K", fname);
	bench_report(n, bench_median(tunmap, reps) / NPTE, "ns/PTE", "clear",
		     bench_median(tclear, reps), 6.0, false);
	/* T3b has an absolute budget: 1 us for the whole call */
	snprintf(n, sizeof(n), "%s map 1G 2M (total)", fname);
	bench_report(n, bench_median(tblk, reps), "ns", "T3b budget 1us", 1000,
		     1.0, false);
}

/* ---- T3c / T4b: one page per call, tables present and hot ---- */
struct single {
	struct pt pt;
	uint64_t base;
};

static void single_map(void *ctx, uint64_t iters)
{
	struct single *s = ctx;
	uint64_t i;

	for (i = 0; i < iters; i++)
		pt_map(&s->pt, s->base + ((i % 511) << 12), i << 12, 4096,
		       PT_PROT_READ, 0);
}

static void single_unmap(void *ctx, uint64_t iters)
{
	struct single *s = ctx;
	uint64_t i, done;

	for (i = 0; i < iters; i++)
		pt_unmap(&s->pt, s->base + ((i % 511) << 12), 4096, 0, NULL,
			 &done);
}

static void bench_single(const char *fname, enum pt_format fmt)
{
	struct single s = { .base = 1ull << 40 };
	double tm[7], tu[7], tw[7], walk;
	unsigned r, reps = bench_reps();
	uint64_t done;
	char n[64];

	mk(&s.pt, fmt);
	/* keep the leaf table alive across the passes: pages 0..510 come
	 * and go, page 511 stays */
	check(pt_map(&s.pt, s.base + (511 << 12), 0, 4096, PT_PROT_READ, 0),
	      "anchor");
	baseline_radix_walk_hot_fn(NULL, 100000);
	for (r = 0; r < reps; r++) {
		double t0 = bench_now_ns();

		baseline_radix_walk_hot_fn(NULL, 20000);
		tw[r] = (bench_now_ns() - t0) / 20000;
		t0 = bench_now_ns();
		single_map(&s, 511);
		tm[r] = (bench_now_ns() - t0) / 511;
		t0 = bench_now_ns();
		single_unmap(&s, 511);
		tu[r] = (bench_now_ns() - t0) / 511;
	}
	pt_unmap(&s.pt, s.base + (511 << 12), 4096, 0, NULL, &done);
	pt_destroy(&s.pt);
	walk = bench_median(tw, reps);
	snprintf(n, sizeof(n), "%s map 4K single", fname);
	bench_report(n, bench_median(tm, reps), "ns", "radix walk hot", walk,
		     5.5, false);
	snprintf(n, sizeof(n), "%s unmap 4K single", fname);
	bench_report(n, bench_median(tu, reps), "ns", "radix walk hot", walk,
		     6.0, false);
}

/* ---- walks ---- */

/* The same random cycle over 512 pages as the radix-walk baseline. */
static void cycle(unsigned *next, unsigned n, uint64_t seed)
{
	unsigned *perm = malloc(n * sizeof(*perm)), i;

	if (!perm)
		abort();
	for (i = 0; i < n; i++)
		perm[i] = i;
	for (i = n - 1; i > 0; i--) {
		unsigned j, x;

		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		j = (unsigned)((seed >> 33) % i);
		x = perm[i];
		perm[i] = perm[j];
		perm[j] = x;
	}
	for (i = 0; i < n; i++)
		next[perm[i]] = perm[(i + 1) % n];
	free(perm);
}

static void walk_pass(void *ctx, uint64_t iters)
{
	const struct pt *pt = ctx;
	struct pt_walk w = { 0 };
	uint64_t va = 0;

	while (iters--) {
		pt_walk(pt, va, 0, &w);
		va = w.oa & ~0xfffull;
	}
	bench_keep(va);
}

static void bench_walk_hot(const char *fname, enum pt_format fmt)
{
	unsigned next[512], i;
	struct pt pt;
	char n[64];
	double t, walk;

	mk(&pt, fmt);
	cycle(next, 512, 1);
	for (i = 0; i < 512; i++)
		check(pt_map(&pt, (uint64_t)i << 12, (uint64_t)next[i] << 12,
			     4096, PT_PROT_READ | PT_PROT_WRITE, 0),
		      "map");
	walk_pass(&pt, 100000);
	baseline_radix_walk_hot_fn(NULL, 100000);
	t = bench_run2(walk_pass, &pt, baseline_radix_walk_hot_fn, NULL,
		       bench_quick() ? 100000 : 300000, &walk);
	pt_destroy(&pt);
	snprintf(n, sizeof(n), "%s walk hot", fname);
	bench_report(n, t, "ns", "radix walk hot", walk, 1.5, false);
}

/* Cold: random dependent walks over 16 GiB of 4K pages (32 MiB of leaf
 * tables), against a plain walk of the very same x86 tables. */
#define COLD_SPAN (16 * GIB)

/* Next address: depends on the last output; the counter keeps the chain
 * from falling into a short cycle. */
static inline uint64_t cold_next(uint64_t oa, uint64_t i)
{
	return (((oa >> 12) ^ i) * 0x9e3779b97f4a7c15ull >> 20) &
	       (COLD_SPAN - 1) & ~0xfffull;
}

static void cold_pass(void *ctx, uint64_t iters)
{
	const struct pt *pt = ctx;
	struct pt_walk w = { 0 };
	uint64_t va = 0;

	while (iters--) {
		pt_walk(pt, va, 0, &w);
		va = cold_next(w.oa, iters);
	}
	bench_keep(va);
}

static void plain_cold_pass(void *ctx, uint64_t iters)
{
	const struct pt *pt = ctx;
	uint64_t va = 0;

	while (iters--) {
		const uint64_t *t = (const uint64_t *)(uintptr_t)pt->root;
		uint64_t e = 0;
		int l;

		for (l = 3; l >= 0; l--) {
			e = t[(va >> (12 + 9 * l)) & 511];
			if (!(e & 1))
				break;
			t = (const uint64_t *)(uintptr_t)(e &
							  0xffffffffff000ull);
		}
		va = cold_next((e & 0xffffffffff000ull) | (va & 0xfff), iters);
	}
	bench_keep(va);
}

static void bench_walk_cold(void)
{
	struct pt pt;
	uint64_t iters = bench_quick() ? 20000 : 100000;
	double ours, plain;

	mk(&pt, PT_FMT_X86_64);
	check(pt_pool_reserve((COLD_SPAN >> 21) * 4096 + (4 << 20)), "reserve");
	check(pt_map(&pt, 0, 0, COLD_SPAN, PT_PROT_READ, 0x1000), "map 16G");
	cold_pass(&pt, iters / 4);
	plain = bench_run(plain_cold_pass, &pt, iters);
	ours = bench_run(cold_pass, &pt, iters);
	pt_destroy(&pt);
	bench_report("x86 walk cold 16G", ours, "ns", "plain walk same tables",
		     plain, 0, false);
}

int main(int argc, char **argv)
{
	unsigned i;

	bench_init(argc, argv, "pt");
	/* 1 GiB of 4K leaves is 514 tables; leave room for the rest. */
	check(pt_pool_reserve(16u << 20), "reserve");
	for (i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++)
		bench_gib(fmts[i].name, fmts[i].fmt);
	for (i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++)
		bench_single(fmts[i].name, fmts[i].fmt);
	for (i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++)
		bench_walk_hot(fmts[i].name, fmts[i].fmt);
	bench_walk_cold();
	return bench_finish();
}
