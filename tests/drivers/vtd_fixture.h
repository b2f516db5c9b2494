/* SPDX-License-Identifier: MIT */
/*
 * Shared set-up of the VT-d driver suites: a machine with one VT-d model
 * "iommu0" bound to the VT-d driver, PCI functions behind it and an open
 * iommufd, driven through the public API and the ioctls (the fx_* helpers
 * of tests/core/fixture.h work on it). Read-only views of what the driver
 * programmed (registers, root/context/PASID entries as the hardware finds
 * them from RTADDR) and of its counters, for white-box checks.
 */
#ifndef IONEST_TESTS_VTD_FIXTURE_H
#define IONEST_TESTS_VTD_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>
#include <ionest/hw.h>

#include "../core/fixture.h"
#include "hw/vtd/vtd_format.h"
#include "hw/vtd/vtd_regs.h"

struct vfx_dev {
	uint32_t rid;
	uint8_t pasid_bits;
	bool ats;
	bool pri;
};

/* @cfg NULL: model defaults. @devs NULL: RID 0x100 + i, 8 PASID bits,
 * ATS. */
void vfx_setup(struct fx *f, const struct ionest_vtd_config *cfg, int ndev,
	       const struct vfx_dev *devs);
/* Checks the queue never failed (FSTS IQE/ITE/ICE clear, no queue error
 * counted) and no fault record is left unconsumed, then tears down. */
void vfx_teardown(struct fx *f);

struct ionest_hw *vfx_hw(struct fx *f);
uint32_t vfx_rd32(struct fx *f, uint64_t off);
uint64_t vfx_rd64(struct fx *f, uint64_t off);
/* A counter of the driver ("<hw>-drv") or of the model. */
uint64_t vfx_drv_counter(struct fx *f, const char *name);
uint64_t vfx_hw_counter(struct fx *f, const char *name);
/* FSTS has none of IQE, ITE, ICE, PFO, PPF. */
void vfx_check_clean(struct fx *f);

/* The context entry (4 words) of @rid, NULL if not present in the root
 * table. */
const uint64_t *vfx_ce(struct fx *f, uint32_t rid);
/* The PASID entry (8 words) of (@rid, @pasid), NULL if the directory
 * entry is not present. */
const uint64_t *vfx_pe(struct fx *f, uint32_t rid, uint32_t pasid);

/* An IOAS with @len bytes of fresh memory mapped at @iova (RW). */
uint32_t vfx_ioas_map(struct fx *f, void *mem, uint64_t len, uint64_t iova);
int vfx_dma(struct fx *f, int i, uint32_t pasid, uint64_t iova, void *buf,
	    size_t len, int dir);
/* The device's last fault (asserts there is one). */
struct ionest_dma_fault vfx_last_fault(struct fx *f, int i);

#endif
