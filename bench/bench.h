/* SPDX-License-Identifier: MIT */
/*
 * Benchmark harness shared by bench/bench-*.c. Every benchmark measures its
 * plain-code baseline in the same run (the machine is a shared VM and
 * drifts) and reports our value as a ratio to it (performance.md §3-4).
 */
#ifndef IONEST_BENCH_H
#define IONEST_BENCH_H

#include <stdbool.h>
#include <stdint.h>

/* Parse --json, --quick, --help (prints usage and exits). */
void bench_init(int argc, char **argv, const char *suite);
bool bench_quick(void);

/* Run fn(ctx, iters) 7 times (3 with --quick) and return the median ns per
 * iteration. */
double bench_run(void (*fn)(void *ctx, uint64_t iters), void *ctx,
		 uint64_t iters);

/*
 * Like bench_run for two functions, alternating them repetition by
 * repetition so both see the same machine load (use it for a metric and
 * its baseline). Returns fn_a's median ns per iteration, *b_ns fn_b's.
 */
double bench_run2(void (*fn_a)(void *ctx, uint64_t iters), void *ctx_a,
		  void (*fn_b)(void *ctx, uint64_t iters), void *ctx_b,
		  uint64_t iters, double *b_ns);

/* Median of @n samples (reorders @v). */
double bench_median(double *v, unsigned n);
/* Repetitions bench_run uses: 7, or 3 with --quick. */
unsigned bench_reps(void);

/*
 * Record one metric: our value, the baseline measured in the same run, the
 * target ratio (0 = none). ratio = value / baseline; lower is better and
 * target is a maximum, unless @higher_is_better (throughput), where target
 * is a minimum.
 */
void bench_report(const char *name, double value, const char *unit,
		  const char *baseline_name, double baseline, double target,
		  bool higher_is_better);

/* Print the table (or, with --json, one JSON array of objects: suite,
 * name, value, unit, baseline, baseline_value, ratio, target, met).
 * Returns 0. */
int bench_finish(void);

double bench_now_ns(void); /* CLOCK_MONOTONIC_RAW */

/* Keep @v alive / make memory writes visible to the optimiser. */
static inline void bench_keep(uint64_t v)
{
	__asm__ volatile("" : : "r"(v) : "memory");
}

static inline void bench_clobber(void)
{
	__asm__ volatile("" : : : "memory");
}

/* ---- baselines.c: plain code measured in the same process ---- */
/* 262144 consecutive 8-byte stores into a pre-faulted cache-cold pool */
double baseline_store_cold_ns_per_pte(void);
/* test-present-and-zero of 262144 PTEs (just written, so warm) */
double baseline_clear_ns_per_pte(void);
/* plain 4-level radix walk, 9 bits/level, 512 hot pages, dependent */
double baseline_radix_walk_hot_ns(void);
/* open addressing, linear probe, load 0.5, 4096 entries, 16 B slots,
 * dependent */
double baseline_hash_hit_ns(void);
/* glibc memcpy of 4 KiB, src+dst hot */
double baseline_memcpy4k_hot_ns(void);
/* naive 2-D walk: 4-level S1 whose table pointers are GPAs, each through a
 * 4-level S2: 24 reads, hot, dependent */
double baseline_nested_walk_hot_ns(void);

/* The same baselines as bench_run functions (ctx unused), for bench_run2
 * or for interleaving with the code under test. */
void baseline_store_cold_fn(void *ctx, uint64_t iters); /* iters passes */
void baseline_radix_walk_hot_fn(void *ctx, uint64_t iters); /* walks */
void baseline_hash_hit_fn(void *ctx, uint64_t iters); /* lookups */
void baseline_nested_walk_hot_fn(void *ctx, uint64_t iters); /* walks */
/* One fill (untimed) and clear (timed) pass: ns per PTE. */
double baseline_clear_once_ns_per_pte(void);

#endif
