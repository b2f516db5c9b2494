/* SPDX-License-Identifier: MIT */
/* Shared helpers for the cmocka suites. */
#ifndef IONEST_TEST_UTIL_H
#define IONEST_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

/* Deterministic PRNG (xorshift64*) so failures reproduce; the seed is
 * printed by tests that use it. */
struct test_rng {
	uint64_t s;
};
void test_rng_seed(struct test_rng *r, uint64_t seed);
uint64_t test_rng_next(struct test_rng *r);
/* Uniform in [0, n), n > 0. */
uint64_t test_rng_below(struct test_rng *r, uint64_t n);

/*
 * A watchdog for tests that would hang on a regression (a deadlock): after
 * @seconds the process prints "@what: watchdog expired" and exits with
 * status 1, so the runner reports the suite's remaining cases as failed.
 * test_watchdog_stop() disarms it.
 */
void test_watchdog(unsigned seconds, const char *what);
void test_watchdog_stop(void);

/*
 * An arena of host memory standing for a machine's RAM: tests build tables,
 * queues and data in it. Aligned allocations, zeroed, freed all at once.
 */
struct test_arena {
	uint8_t *base;
	size_t size, used;
};
void test_arena_init(struct test_arena *a, size_t size);
void *test_arena_alloc(struct test_arena *a, size_t size, size_t align);
void test_arena_fini(struct test_arena *a);
/* Host address as the model's physical address. */
static inline uint64_t test_pa(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

#endif
