/* SPDX-License-Identifier: MIT */
/* Config-space and BAR0 access through the VFIO region API, for the
 * emulated PCI function's suites. Each helper asserts the access worked. */
#ifndef IONEST_TEST_PCI_UTIL_H
#define IONEST_TEST_PCI_UTIL_H

#include <stdint.h>
#include <ionest/uapi/dma_engine.h>
#include <ionest/uapi/vfio.h>

#define REGION(i) ((uint64_t)(i) << 40)
#define CFG_OFF(o) (REGION(VFIO_PCI_CONFIG_REGION_INDEX) + (o))

uint32_t cfg_read(int fd, uint32_t off, unsigned size);
void cfg_write(int fd, uint32_t off, unsigned size, uint32_t v);
uint32_t bar_r32(int fd, uint32_t off);
uint64_t bar_r64(int fd, uint32_t off);
void bar_w32(int fd, uint32_t off, uint32_t v);
void bar_w64(int fd, uint32_t off, uint64_t v);
/* Memory Space and Bus Master Enable on. */
void pci_enable(int fd);

#endif
