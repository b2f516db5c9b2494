/* SPDX-License-Identifier: MIT */
/*
 * What the pair harnesses of the shadow suites (VT-d in test_vtd_shadow.c,
 * SMMUv3 in smmuv3_pair.c) share: both hold a machine nesting in hardware
 * (side 0) against one in shadow mode (side 1) and compare them.
 */
#ifndef IONEST_TESTS_SHADOW_TEST_H
#define IONEST_TESTS_SHADOW_TEST_H

#include <stdint.h>
#include <ionest/ionest.h>

/* The two sides' last faults (ionest_device_last_fault: @frc its results,
 * @f what it filled) agree: both none, or the same in every field. */
void shadow_same_fault(const int frc[2], const struct ionest_dma_fault f[2],
		       uint64_t iova);

#endif
