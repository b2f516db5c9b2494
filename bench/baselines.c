// SPDX-License-Identifier: MIT
/*
 * Plain-code limits measured in the same process as the code under test
 * (performance.md §3). Each is written the obvious way; dependent chains
 * and compiler barriers keep the optimiser from removing the work.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "bench.h"

#define NPTE 262144u /* 1 GiB of 4K pages */
#define SLICE (NPTE * sizeof(uint64_t)) /* 2 MiB */
#define NSLICE 64 /* 128 MiB: far more than the L3 */

static uint64_t *region(size_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		abort();
	/* Same kind of memory as the page-table pool. */
	madvise(p, bytes, MADV_HUGEPAGE);
	memset(p, 0, bytes); /* pre-fault */
	return p;
}

static void *xalloc_aligned(size_t align, size_t size)
{
	void *p = aligned_alloc(align, size);

	if (!p)
		abort();
	memset(p, 0, size);
	return p;
}

/* ---- PTE stores and clears over rotating cold slices ---- */

static uint64_t *cold;
static unsigned cold_next;

static uint64_t *next_slice(void)
{
	if (!cold)
		cold = region((size_t)SLICE * NSLICE);
	return cold + (size_t)(cold_next++ % NSLICE) * NPTE;
}

static void store_pass(void *ctx, uint64_t iters)
{
	while (iters--) {
		volatile uint64_t *p = next_slice();
		uint64_t v = 0x1000 | 3;
		unsigned i;

		/* one 8-byte store per PTE, no vector fill */
		for (i = 0; i < NPTE; i++, v += 0x1000)
			p[i] = v;
	}
}

void baseline_store_cold_fn(void *ctx, uint64_t iters)
{
	store_pass(ctx, iters);
}

double baseline_store_cold_ns_per_pte(void)
{
	return bench_run(store_pass, NULL, 2) / NPTE;
}

static __attribute__((noinline)) void clear_ptes(uint64_t *p, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		if (p[i] & 1)
			p[i] = 0;
	bench_clobber();
}

double baseline_clear_once_ns_per_pte(void)
{
	uint64_t *p = next_slice();
	unsigned i;
	double t0;

	for (i = 0; i < NPTE; i++)
		p[i] = ((uint64_t)i << 12) | 3;
	bench_clobber();
	t0 = bench_now_ns();
	clear_ptes(p, NPTE);
	return (bench_now_ns() - t0) / NPTE;
}

double baseline_clear_ns_per_pte(void)
{
	double t[7];
	unsigned r, reps = bench_reps();

	for (r = 0; r < reps; r++)
		t[r] = baseline_clear_once_ns_per_pte();
	return bench_median(t, reps);
}

/* ---- 4-level radix walk, 9 bits per level ---- */

/* Sattolo: a single cycle through 0..n-1. */
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

static inline uint64_t radix_walk(const uint64_t *root, uint64_t va)
{
	const uint64_t *t = root;
	uint64_t e;
	int l;

	for (l = 3; l > 0; l--) {
		e = t[(va >> (12 + 9 * l)) & 511];
		if (!(e & 1))
			return 0;
		t = (const uint64_t *)(uintptr_t)(e & ~0xfffull);
	}
	e = t[(va >> 12) & 511];
	if (!(e & 1))
		return 0;
	return (e & ~0xfffull) | (va & 0xfff);
}

/* Tables mapping 512 pages at VA 0: page i -> "PA" of the next page in a
 * random cycle, so each walk depends on the one before. */
static uint64_t *radix_root;

static void radix_build(void)
{
	uint64_t *t[4];
	unsigned next[512], i;

	for (i = 0; i < 4; i++)
		t[i] = xalloc_aligned(4096, 4096);
	for (i = 0; i < 3; i++)
		t[i][0] = (uint64_t)(uintptr_t)t[i + 1] | 3;
	cycle(next, 512, 1);
	for (i = 0; i < 512; i++)
		t[3][i] = ((uint64_t)next[i] << 12) | 3;
	radix_root = t[0];
}

static void radix_pass(void *ctx, uint64_t iters)
{
	uint64_t va = 0;

	while (iters--)
		va = radix_walk(radix_root, va) & ~0xfffull;
	bench_keep(va);
}

void baseline_radix_walk_hot_fn(void *ctx, uint64_t iters)
{
	if (!radix_root)
		radix_build();
	radix_pass(ctx, iters);
}

double baseline_radix_walk_hot_ns(void)
{
	if (!radix_root)
		radix_build();
	radix_pass(NULL, 100000); /* warm */
	return bench_run(radix_pass, NULL, bench_quick() ? 200000 : 1000000);
}

/* ---- open-addressing hash, dependent hits ---- */

struct slot {
	uint64_t key, val;
};

#define HBITS 13 /* 8192 slots, 4096 keys: load 0.5 */
static struct slot *htab;
static uint64_t hkey0;

static inline uint64_t hash_get(const struct slot *t, uint64_t key)
{
	size_t h = (size_t)((key * 0x9e3779b97f4a7c15ull) >> (64 - HBITS));

	while (t[h].key != key)
		h = (h + 1) & ((1u << HBITS) - 1);
	return t[h].val;
}

static void hash_build(void)
{
	uint64_t keys[4096], seed = 7;
	unsigned next[4096], i;

	htab = xalloc_aligned(64, sizeof(*htab) << HBITS);
	for (i = 0; i < 4096; i++) {
		uint64_t k;
		size_t h;

		do {
			seed = seed * 6364136223846793005ull +
			       1442695040888963407ull;
			k = (seed >> 20) & ((1ull << 37) - 1);
			h = (size_t)((k * 0x9e3779b97f4a7c15ull) >>
				     (64 - HBITS));
			while (htab[h].key && htab[h].key != k)
				h = (h + 1) & ((1u << HBITS) - 1);
		} while (!k || htab[h].key == k);
		htab[h].key = k;
		keys[i] = k;
	}
	cycle(next, 4096, 3);
	for (i = 0; i < 4096; i++) {
		size_t h = (size_t)((keys[i] * 0x9e3779b97f4a7c15ull) >>
				    (64 - HBITS));

		while (htab[h].key != keys[i])
			h = (h + 1) & ((1u << HBITS) - 1);
		htab[h].val = keys[next[i]];
	}
	hkey0 = keys[0];
}

static void hash_pass(void *ctx, uint64_t iters)
{
	uint64_t k = hkey0;

	while (iters--)
		k = hash_get(htab, k);
	bench_keep(k);
}

void baseline_hash_hit_fn(void *ctx, uint64_t iters)
{
	if (!htab)
		hash_build();
	hash_pass(ctx, iters);
}

double baseline_hash_hit_ns(void)
{
	if (!htab)
		hash_build();
	hash_pass(NULL, 100000);
	return bench_run(hash_pass, NULL, bench_quick() ? 200000 : 1000000);
}

/* ---- memcpy 4 KiB, hot ---- */

static void *(*volatile memcpy_fn)(void *, const void *, size_t) = memcpy;
static uint8_t *cpy_src, *cpy_dst;

static void memcpy_pass(void *ctx, uint64_t iters)
{
	while (iters--) {
		memcpy_fn(cpy_dst, cpy_src, 4096);
		bench_clobber();
	}
}

double baseline_memcpy4k_hot_ns(void)
{
	if (!cpy_src) {
		cpy_src = xalloc_aligned(4096, 4096);
		cpy_dst = xalloc_aligned(4096, 4096);
		memset(cpy_src, 0x5a, 4096);
	}
	memcpy_pass(NULL, 10000);
	return bench_run(memcpy_pass, NULL, bench_quick() ? 20000 : 100000);
}

/* ---- naive nested walk: every S1 table pointer is a GPA ---- */

#define GRAM (8u << 20) /* guest RAM, mapped by S2 page by page */
static uint8_t *gram;
static uint64_t *s2_root;
static uint64_t s1_root_gpa;

static inline uint64_t s2_translate(uint64_t gpa)
{
	return radix_walk(s2_root, gpa);
}

static inline uint64_t nested_walk(uint64_t va)
{
	uint64_t tgpa = s1_root_gpa, e;
	int l;

	for (l = 3; l >= 0; l--) {
		const uint64_t *t =
			(const uint64_t *)(uintptr_t)s2_translate(tgpa);

		e = t[(va >> (12 + 9 * l)) & 511];
		if (!(e & 1))
			return 0;
		tgpa = e & ~0xfffull;
	}
	return s2_translate(tgpa | (va & 0xfff));
}

static void nested_build(void)
{
	uint64_t *s2[3], *s2leaf, gpa;
	unsigned next[512], i;

	gram = xalloc_aligned(1 << 21, GRAM);
	for (i = 0; i < 3; i++)
		s2[i] = xalloc_aligned(4096, 4096);
	s2leaf = xalloc_aligned(4096, 4096 * (GRAM >> 21));
	s2[0][0] = (uint64_t)(uintptr_t)s2[1] | 3;
	s2[1][0] = (uint64_t)(uintptr_t)s2[2] | 3;
	for (i = 0; i < (GRAM >> 21); i++)
		s2[2][i] = (uint64_t)(uintptr_t)(s2leaf + 512 * i) | 3;
	for (gpa = 0; gpa < GRAM; gpa += 4096)
		s2leaf[gpa >> 12] = ((uint64_t)(uintptr_t)gram + gpa) | 3;
	s2_root = s2[0];
	/* S1 tables at GPAs 4M.. in guest RAM; 512 pages at VA 0 whose
	 * outputs (GPAs) chain like the radix walk's. */
	s1_root_gpa = 4u << 20;
	for (i = 0; i < 3; i++)
		((uint64_t *)(gram + s1_root_gpa + i * 4096))[0] =
			(s1_root_gpa + (i + 1) * 4096) | 3;
	cycle(next, 512, 5);
	for (i = 0; i < 512; i++)
		((uint64_t *)(gram + s1_root_gpa + 3 * 4096))[i] =
			((uint64_t)next[i] << 12) | 3;
}

static void nested_pass(void *ctx, uint64_t iters)
{
	uint64_t va = 0;

	while (iters--)
		va = (nested_walk(va) - (uint64_t)(uintptr_t)gram) & ~0xfffull;
	bench_keep(va);
}

void baseline_nested_walk_hot_fn(void *ctx, uint64_t iters)
{
	if (!gram)
		nested_build();
	nested_pass(ctx, iters);
}

double baseline_nested_walk_hot_ns(void)
{
	if (!gram)
		nested_build();
	nested_pass(NULL, 20000);
	return bench_run(nested_pass, NULL, bench_quick() ? 50000 : 300000);
}
