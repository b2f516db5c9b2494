// SPDX-License-Identifier: MIT
/*
 * SMMUv3 model benchmark (performance.md T1, T2, T2c):
 *  - TLB-hit translate, dependent chain, against baseline_hash_hit_ns();
 *  - nested miss with hot tables (4-level stage 1, 4K, over 4-level stage
 *    2, 4K): a cycle over 512 pages (as many as the baseline's) with a
 *    64-entry TLB, so every translate misses the TLB while the tables and
 *    the walk caches stay warm; time per miss, against
 *    baseline_nested_walk_hot_ns(); plus table reads per miss.
 * Both chains are built like the baselines' and bench-vtd's: the pages are
 * mapped in one random cycle, so the next IOVA is the last output's offset
 * from the data (the baseline's "next key = the value found"), and the
 * sequence does not depend on where the data lies.
 * The model is programmed as a driver would (stream table, STE, CD);
 * page tables are built with the pt engine in host memory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "hw/hw.h"
#include "hw/smmuv3/smmu_regs.h"
#include "pt/pt.h"

#define MISS_PAGES 512u
#define HIT_PAGES 64u
#define GIPA 0x40000000ull

static void die(const char *what)
{
	fprintf(stderr, "bench-smmuv3: %s failed\n", what);
	exit(1);
}

static void *zalloc(size_t size, size_t align)
{
	void *p = aligned_alloc(align, (size + align - 1) & ~(align - 1));

	if (!p)
		die("alloc");
	memset(p, 0, size);
	return p;
}

static void wr(struct ionest_hw *hw, uint64_t off, uint64_t v, unsigned sz)
{
	if (ionest_hw_mmio_write(hw, off, sz, v))
		die("mmio");
}

static struct pt mkpt(enum pt_format fmt)
{
	struct pt_cfg c = { .fmt = fmt,
			    .granule_shift = 12,
			    .ias = 48,
			    .oas = 48,
			    .start_level = -1 };
	struct pt pt;

	if (pt_init(&pt, &c, (struct pt_mem){ 0 }))
		die("pt_init");
	return pt;
}

/* A model with a linear stream table of 16 STEs, enabled. */
static struct ionest_hw *mksmmu(uint32_t tlb_entries, uint64_t **strtab)
{
	struct ionest_smmuv3_config c = { .tlb_entries = tlb_entries };
	struct ionest_hw *hw = ionest_smmuv3_new(&c);

	if (!hw)
		die("ionest_smmuv3_new");
	*strtab = zalloc(16 * 64, 1024);
	wr(hw, SMMU_STRTAB_BASE, (uint64_t)(uintptr_t)*strtab, 8);
	wr(hw, SMMU_STRTAB_BASE_CFG, 4, 4);
	wr(hw, SMMU_CR0, CR0_SMMUEN, 4);
	return hw;
}

static void cd_fill(uint64_t *cd, uint64_t ttb0)
{
	cd[0] = 16 /* T0SZ: 48 bits */ | 1ull << 14 * 0 | 1ull << 30 |
		1ull << 31 | 5ull << 32 | 1ull << 41 | 1ull << 45 | 1ull << 46 |
		1ull << 48;
	cd[1] = ttb0;
}

struct ctx {
	struct ionest_hw *hw;
	uint64_t base; /* IOVA of page 0 */
	uint64_t out; /* output address of page 0 */
};

/* Sattolo: one cycle through 0..n-1. */
static void cycle(unsigned *next, unsigned n, uint64_t seed)
{
	unsigned *perm = malloc(n * sizeof(*perm));

	if (!perm)
		die("alloc");
	for (unsigned i = 0; i < n; i++)
		perm[i] = i;
	for (unsigned i = n - 1; i > 0; i--) {
		unsigned j, x;

		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		j = (unsigned)((seed >> 33) % i);
		x = perm[i];
		perm[i] = perm[j];
		perm[j] = x;
	}
	for (unsigned i = 0; i < n; i++)
		next[perm[i]] = perm[(i + 1) % n];
	free(perm);
}

/* Dependent chain: page i maps to the data page of the next page in the
 * cycle, so the next IOVA follows from the last output. */
static void xlate_pass(void *p, uint64_t iters)
{
	const struct ctx *c = p;
	const uint64_t base = c->base, out = c->out;
	struct ionest_xlate_req q = { .sid = 1, .access = IONEST_ACCESS_READ };
	struct ionest_xlate_res r = { .addr = out };

	while (iters--) {
		q.iova = base + (r.addr - out);
		ionest_hw_translate(c->hw, &q, &r);
	}
	bench_keep(r.addr);
}

static double hit_ns; /* measured by bench_hit, used to subtract hits */

static void bench_hit(void)
{
	uint64_t *st, *cd = zalloc(64, 64);
	struct pt s1 = mkpt(PT_FMT_ARM_S1);
	uint8_t *data = zalloc(HIT_PAGES << 12, 4096);
	struct ionest_hw *hw = mksmmu(0, &st);
	struct ctx c = { hw, 0x10000000, (uint64_t)(uintptr_t)data };
	unsigned next[HIT_PAGES];
	double ours, base;

	cycle(next, HIT_PAGES, 11);
	for (unsigned i = 0; i < HIT_PAGES; i++)
		if (pt_map(&s1, c.base + ((uint64_t)i << 12),
			   c.out + ((uint64_t)next[i] << 12), 1u << 12,
			   PT_PROT_READ | PT_PROT_WRITE, 1u << 12))
			die("pt_map");
	cd_fill(cd, s1.root);
	st[8] = 1 | STE_CFG_S1 << 1 | ((uint64_t)(uintptr_t)cd & STE0_CTXPTR);
	xlate_pass(&c, 100000);
	baseline_hash_hit_fn(NULL, 100000);
	/* Alternating with the baseline: both see the same machine load. */
	ours = bench_run2(xlate_pass, &c, baseline_hash_hit_fn, NULL,
			  bench_quick() ? 200000 : 1000000, &base);
	hit_ns = ours;
	if (hw->ctr_val[hw_tlb_miss] > HIT_PAGES * 2 || hw->ctr_val[hw_fault])
		die("hit bench missed the TLB");
	bench_report("translate TLB hit (dep)", ours, "ns", "hash hit", base,
		     1.6, false);
	ionest_hw_free(hw);
	pt_destroy(&s1);
	free(data);
	free(cd);
	free(st);
}

static void bench_nested_miss(void)
{
	uint64_t *st, *cd = zalloc(64, 64);
	struct pt s1 = mkpt(PT_FMT_ARM_S1), s2 = mkpt(PT_FMT_ARM_S2);
	/* Guest RAM = the data range; IPA == GIPA + offset. Stage-1
	 * tables live in host memory and are reached at IPAs through an
	 * identity stage-2 window over them below. */
	uint8_t *data = zalloc((size_t)MISS_PAGES << 12, 2u << 20);
	struct ionest_hw *hw = mksmmu(64, &st);
	struct ctx c = { hw, 0x7f0000000000ull, (uint64_t)(uintptr_t)data };
	unsigned *next = malloc(MISS_PAGES * sizeof(*next));
	uint64_t misses, reads, xl;
	double ours, base;
	size_t in_use, total;

	/* Stage 1 maps VA -> IPA (4K pages, in a cycle); stage 2 maps the
	 * data IPAs and the stage-1 tables (identity IPA == host address of
	 * the pool), all with 4K pages: a full 4x4 two-dimensional walk. */
	if (!next)
		die("alloc");
	cycle(next, MISS_PAGES, 5);
	for (unsigned i = 0; i < MISS_PAGES; i++)
		if (pt_map(&s1, c.base + ((uint64_t)i << 12),
			   GIPA + ((uint64_t)next[i] << 12), 1u << 12,
			   PT_PROT_READ | PT_PROT_WRITE, 1u << 12))
			die("pt_map s1");
	free(next);
	if (pt_map(&s2, GIPA, (uint64_t)(uintptr_t)data,
		   (uint64_t)MISS_PAGES << 12, PT_PROT_READ | PT_PROT_WRITE,
		   1u << 12))
		die("pt_map s2 data");
	{
		struct pt_walk_level rec[PT_MAX_LEVELS];

		/* Identity-map every stage-1 table page in stage 2. */
		for (uint64_t i = 0; i < MISS_PAGES; i += 512) {
			struct pt_walk w = { .rec = rec };

			if (pt_walk(&s1, c.base + (i << 12), 0, &w))
				die("pt_walk");
			for (unsigned l = 0; l < w.nrec; l++) {
				uint64_t t = rec[l].table & ~0xfffull;
				struct pt_walk w2 = { 0 };

				if (pt_walk(&s2, t, 0, &w2) &&
				    pt_map(&s2, t, t, 4096, PT_PROT_READ, 0))
					die("pt_map s2 tables");
			}
		}
	}
	pt_pool_usage(&in_use, &total);
	cd_fill(cd, s1.root);
	/* CD at an IPA too: identity-map its page. */
	{
		struct pt_walk w2 = { 0 };
		uint64_t p = (uint64_t)(uintptr_t)cd & ~0xfffull;

		if (pt_walk(&s2, p, 0, &w2) &&
		    pt_map(&s2, p, p, 4096, PT_PROT_READ, 0))
			die("pt_map s2 cd");
	}
	st[8] = 1 | STE_CFG_NESTED << 1 |
		((uint64_t)(uintptr_t)cd & STE0_CTXPTR);
	/* VMID 1, T0SZ 16, SL0=2 (level 0), 4K, PS 48, AA64. */
	st[8 + 2] = 1 | 16ull << 32 | 2ull << 38 | 5ull << 48 | 1ull << 51;
	st[8 + 3] = s2.root;
	xlate_pass(&c, 200000); /* warm tables and the walk cache */
	misses = hw->ctr_val[hw_tlb_miss];
	reads = hw->ctr_val[hw_walk_read];
	xl = hw->ctr_val[hw_translate];
	baseline_nested_walk_hot_fn(NULL, 20000);
	ours = bench_run2(xlate_pass, &c, baseline_nested_walk_hot_fn, NULL,
			  bench_quick() ? 100000 : 300000, &base);
	misses = hw->ctr_val[hw_tlb_miss] - misses;
	reads = hw->ctr_val[hw_walk_read] - reads;
	xl = hw->ctr_val[hw_translate] - xl;
	if (hw->ctr_val[hw_fault])
		die("nested bench faulted");
	/* Time per miss: the run's time less its few TLB hits. */
	bench_report("nested miss hot (4x4, 4K)",
		     (ours * xl - hit_ns * (xl - misses)) / misses, "ns",
		     "naive 2-D walk hot", base, 0.75, false);
	bench_report("nested miss table reads", (double)reads / misses, "reads",
		     "-", 0, 0, false);
	bench_report("nested TLB miss ratio", (double)misses / xl, "ratio", "-",
		     0, 0, false);
	ionest_hw_free(hw);
	pt_destroy(&s1);
	pt_destroy(&s2);
	free(data);
	free(cd);
	free(st);
}

int main(int argc, char **argv)
{
	bench_init(argc, argv, "smmuv3");
	bench_hit();
	bench_nested_miss();
	return bench_finish();
}
