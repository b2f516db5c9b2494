/* SPDX-License-Identifier: MIT */
/*
 * A device's address translation cache (PCIe ATS "device TLB", ATC): the
 * translations a PCI function obtained with ATS translation requests and
 * reuses for DMA with translated addresses, without asking the IOMMU again,
 * until the IOMMU driver invalidates them (SMMUv3 CMD_ATC_INV, VT-d
 * (PASID-based) device-TLB invalidation). The hardware model hands those to
 * its driver's ATC handler, which forwards them to the device through
 * iommu_dev.atc_inv (set by the machine for devices with ATS).
 *
 * Small and fully associative with round-robin replacement, under one
 * lock: ATS DMA is not the fast path. A fill carries the invalidation
 * generation read before its translation request, so a translation that
 * raced with an invalidation is never cached (PCIe orders an invalidation
 * completion after the translation completions before it).
 *
 * Invalidation scope: a request without PASID drops matching translations
 * of every PASID and of none (PCIe ATS; over-invalidating is always
 * allowed), DEV_ATC_ALL_PASIDS with a PASID those of every PASID, else
 * the PASID's only. Size 0 means the whole address space.
 */
#ifndef IONEST_DEV_ATC_H
#define IONEST_DEV_ATC_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "drivers/driver.h"

#define DEV_ATC_ENTRIES 32
#define DEV_ATC_ALL_PASIDS 0xffffffffu

struct dev_atc_entry {
	uint64_t va, pa; /* aligned to 1 << shift */
	uint32_t pasid;
	uint8_t shift;
	uint8_t perm; /* IONEST_ACCESS_READ / WRITE */
	bool pv; /* filled by a request with PASID */
	bool valid;
};

struct dev_atc {
	pthread_mutex_t lock;
	uint64_t gen; /* bumped by every invalidation */
	unsigned next; /* replacement cursor */
	uint64_t hits, fills, invalidations; /* statistics */
	struct dev_atc_entry e[DEV_ATC_ENTRIES];
};

void dev_atc_init(struct dev_atc *a);
void dev_atc_fini(struct dev_atc *a);

/* The generation to pass to dev_atc_fill(), read before the translation
 * request. */
uint64_t dev_atc_gen(struct dev_atc *a);
/* A cached translation of @iova granting @access: *pa, *size (the aligned
 * block it holds for). */
bool dev_atc_lookup(struct dev_atc *a, bool pv, uint32_t pasid, uint64_t iova,
		    uint32_t access, uint64_t *pa, uint64_t *size);
/* Cache a translation completion: [iova & ~(size - 1), + size) ->
 * pa & ~(size - 1) with @perm; dropped if an invalidation came after
 * @gen. */
void dev_atc_fill(struct dev_atc *a, uint64_t gen, bool pv, uint32_t pasid,
		  uint64_t iova, uint64_t pa, uint64_t size, uint32_t perm);
/* An invalidation request (see the scope rules above). */
void dev_atc_invalidate(struct dev_atc *a, bool pv, uint32_t pasid,
			uint64_t addr, uint64_t size);

/* iommu_dev.atc_inv of a machine device: forwards to its ATC. */
void dev_atc_iommu_inv(struct iommu_dev *dev, uint32_t ssid, bool ssid_valid,
		       uint64_t addr, uint64_t size);

#endif
