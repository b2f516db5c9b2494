/* SPDX-License-Identifier: MIT */
/*
 * Helpers for the page-table suites: a guest-RAM accessor over a test arena
 * (table addresses are guest physical, offset from the host mapping), the
 * list of configurations every suite runs through, and table dumps for
 * "nothing changed" checks.
 */
#ifndef IONEST_TESTS_PT_TEST_H
#define IONEST_TESTS_PT_TEST_H

#include <stdbool.h>
#include <stdint.h>

#include "pt/pt.h"
#include "test_util.h"

/* Guest RAM at guest-physical GUEST_BASE; tables allocated in it. */
#define GUEST_BASE 0x40000000ull

#define GUEST_MAX_FREE 1024

struct guest {
	struct test_arena arena;
	uint64_t free_pa[GUEST_MAX_FREE]; /* freed tables, for reuse */
	size_t free_size[GUEST_MAX_FREE];
	unsigned nfree;
	uint64_t deny_pa; /* table() returns NULL for this 8-byte slot */
	bool deny_write; /* ... only when write is asked */
	unsigned long allocs, frees, table_calls;
	bool fail_alloc;
};

void guest_init(struct guest *g, size_t size);
void guest_fini(struct guest *g);
struct pt_mem guest_mem(struct guest *g);
void *guest_ptr(struct guest *g, uint64_t gpa);

/* One table configuration under test. */
struct pt_case {
	const char *name;
	struct pt_cfg cfg;
};
extern const struct pt_case pt_cases[];
extern const unsigned pt_ncases;

struct pt_cfg pt_cfg_make(enum pt_format fmt, unsigned g, unsigned ias,
			  unsigned oas, int start_level, uint32_t flags);

/* Every leaf (iova, pa, size, perm) in order, for before/after compares. */
struct pt_dump {
	uint64_t (*e)[4];
	unsigned n, cap;
};
void pt_dump_take(const struct pt *pt, struct pt_dump *d);
bool pt_dump_equal(const struct pt_dump *a, const struct pt_dump *b);
void pt_dump_free(struct pt_dump *d);

/* Pool bytes in use (to check that tables are not leaked). */
size_t pool_in_use(void);

#endif
