/* SPDX-License-Identifier: MIT */
/*
 * Shared set-up of the SMMUv3 driver suites: a machine with one SMMUv3
 * model "smmu0" bound to the driver, PCI functions behind it and an
 * iommufd, on the core suites' fixture (tests/core/fixture.h) for the
 * ioctl helpers. Every test ends with sx_teardown(), which checks that the
 * command queue never reported an error (GERROR clean, CMDQ_CONS.ERR 0)
 * and that the event queue was drained.
 */
#ifndef IONEST_TESTS_SMMU_FIXTURE_H
#define IONEST_TESTS_SMMU_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>
#include <ionest/hw.h>

#include "core/fixture.h"
#include "drivers/smmuv3.h"

struct sx {
	struct fx f; /* machine, devices, cdevs, iommufd */
	struct ionest_hw *hw; /* the model (owned by the machine) */
	struct smmu_drv *drv; /* the driver's state (white-box checks) */
};

/* Default functions: RID 0x100 + i, 8 PASID bits, ATS, PASID exec. */
void sx_setup(struct sx *x, const struct ionest_smmuv3_config *cfg, int ndev);
/* Functions as given (name/iommu filled in). */
void sx_setup_devs(struct sx *x, const struct ionest_smmuv3_config *cfg,
		   struct ionest_device_config *dc, int ndev);
/* Checks the SMMU is clean (sx_check_clean), then frees everything. */
void sx_teardown(struct sx *x);
/* No command error ever, no global error active, event queue drained. */
void sx_check_clean(struct sx *x);

uint32_t sx_rd32(struct sx *x, uint64_t off);
/* A driver counter (enum smmuv3_counter) / a model counter. */
uint64_t sx_ctr(struct sx *x, enum smmuv3_counter c);
uint64_t sx_hw_ctr(struct sx *x, const char *name);
/* The driver's record of device @i and the STE it wrote. */
struct smmu_master *sx_master(struct sx *x, int i);

/* Map @len bytes of @va at @iova in @ioas (read + write), asserting. */
void sx_map(struct sx *x, uint32_t ioas, void *va, uint64_t len, uint64_t iova);
/* Bind device @i and attach its RID to *pt, asserting. */
void sx_bind_attach(struct sx *x, int i, uint32_t *pt);
/* HWPT of @flags for device @i on @ioas, asserting. */
uint32_t sx_hwpt(struct sx *x, int i, uint32_t ioas, uint32_t flags);
/* Pop the next event the driver kept; false if none. */
bool sx_event(struct sx *x, uint64_t ev[4]);

#endif
