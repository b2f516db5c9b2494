/* SPDX-License-Identifier: MIT */
/*
 * Shared by the guest-garbage suites (test_smmuv3_garbage.c,
 * test_vtd_garbage.c): a guest whose RAM lies between guard regions, the
 * random choices garbage makes (a seeded PRNG; pointers into the RAM,
 * beyond it, into a stage-2 hole, anywhere), and the checks made after
 * each piece of garbage:
 *   - the nested device's DMA works, faults or asks for a page, and what
 *     the IOMMU translates its addresses to lies in the guest's RAM (or the
 *     MSI doorbell the host mapped in its stage 2);
 *   - nothing outside the RAM was written: guards, the doorbell, the
 *     buffer of a bystander device in a domain of its own;
 *   - the bystander's DMA still works.
 * IONEST_GARBAGE_ITER sets the iterations of a run, IONEST_GARBAGE_SEED
 * the seed (to replay a failure; the seed is printed).
 */
#ifndef IONEST_TESTS_GARBAGE_H
#define IONEST_TESTS_GARBAGE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/fixture.h"
#include "scenario/guest.h"

#define GARBAGE_GUARD (64ull << 10)

struct garbage {
	struct test_rng rng;
	struct fx *f;
	struct ionest_hw *hw;
	uint8_t *blob; /* guard | RAM | guard */
	uint8_t *ram;
	struct vm vm; /* the RAM as a VM (borrowed memory) */
	uint8_t *pristine; /* the RAM when all was good */
	size_t tables; /* bytes from the start of RAM holding tables */
	uint64_t hole; /* a stage-2 hole of meaning (MSI window, ...) */
	/* The nested device and its data pages' IOVAs. */
	int dev;
	uint32_t sid;
	uint64_t data_iova, data_len;
	/* The bystander: device @by_dev, buffer @by_buf at @by_iova. */
	int by_dev;
	uint64_t by_iova;
	uint8_t *by_buf;
	uint8_t by_expect[FX_PAGE];
	unsigned dma_ok, dma_fault, dma_pri;
};

/* RAM of @len bytes at @gpa between guards; @hole as rand_gpa uses it. */
void garbage_init(struct garbage *g, struct fx *f, struct ionest_hw *hw,
		  uint64_t seed, uint64_t gpa, size_t len, uint64_t hole);
void garbage_fini(struct garbage *g);
/* The bystander: @dev attached (by the caller) to an IOAS with a page of
 * fresh memory at @iova, which this returns. */
void *garbage_bystander(struct garbage *g, int dev, uint64_t iova);

/* The run's iterations and seed (the environment's, else these). */
unsigned garbage_iterations(unsigned dflt);
uint64_t garbage_seed(uint64_t dflt);

uint64_t garbage_rnd(struct garbage *g);
uint64_t garbage_below(struct garbage *g, uint64_t n);
/* A guest physical address as garbage points. */
uint64_t garbage_gpa(struct garbage *g);
void *garbage_gva(struct garbage *g, uint64_t gpa);

/* Keep the RAM as it is now / put it back. */
void garbage_snapshot(struct garbage *g);
void garbage_restore_ram(struct garbage *g);

/* @rc is 0 or EINVAL, EIO, EOPNOTSUPP. */
void garbage_check_errno(int rc, const char *what);
/* The checks after a piece of garbage (above). */
void garbage_check(struct garbage *g);

#endif
