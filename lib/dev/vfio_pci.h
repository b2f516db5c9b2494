/* SPDX-License-Identifier: MIT */
/*
 * The emulated PCI function of every machine device (internal): a PCIe
 * type 0 config space with the PCI Express capability and the ATS, PRI
 * and PASID extended capabilities the machine gives the device, and a
 * BAR0 holding a small DMA engine whose transfers go through the device's
 * IOMMU (docs/dma-engine.md, <ionest/uapi/dma_engine.h>). The machine
 * wires it into the VFIO cdev as the device's regions.
 */
#ifndef IONEST_DEV_VFIO_PCI_H
#define IONEST_DEV_VFIO_PCI_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <ionest/ionest.h>
#include <ionest/uapi/dma_engine.h>
#include <ionest/uapi/vfio.h>

#include "uapi/uapi.h"

#define PCI_CFG_SIZE 4096

/* ---- Config space (pci_config.c) ---- */
struct pci_config {
	uint8_t v[PCI_CFG_SIZE]; /* current values */
	uint8_t wmask[PCI_CFG_SIZE]; /* bits software may write */
	uint8_t w1c[PCI_CFG_SIZE]; /* bits a 1 clears */
	/* Offsets of the extended capabilities, 0 = absent. */
	uint16_t ats, pri, pasid;
};

/* Things a config write asks the function to do. */
#define PCI_CFG_EV_FLR (1u << 0) /* Device Control: Initiate FLR */

/* Power-on state for a function with @dc's capabilities. */
void pci_config_init(struct pci_config *c,
		     const struct ionest_device_config *dc);
void pci_config_read(const struct pci_config *c, uint32_t off, uint8_t *buf,
		     uint32_t n);
/* Returns PCI_CFG_EV_* the write triggered. */
unsigned pci_config_write(struct pci_config *c, uint32_t off,
			  const uint8_t *buf, uint32_t n);
uint16_t pci_config_get16(const struct pci_config *c, uint32_t off);
uint32_t pci_config_get32(const struct pci_config *c, uint32_t off);

bool pci_config_mem_enabled(const struct pci_config *c);
bool pci_config_bus_master(const struct pci_config *c);
bool pci_config_pasid_enabled(const struct pci_config *c);
bool pci_config_ats_enabled(const struct pci_config *c);

/* ---- BAR0 DMA engine (dma_engine.c) ---- */
struct dma_engine {
	uint32_t status; /* atomic: BUSY is visible during a transfer */
	uint64_t src, dst;
	uint32_t len, dev_off, pasid, ctrl;
	uint64_t fault_addr;
	uint32_t fault_code, fault_info;
	uint32_t done, prq_status, completed, faults;
	bool stopped; /* FAULT or PAGE_REQ with bytes left: RESUME-able */
	uint8_t mem[IONEST_DEVMEM_SIZE];
};

struct vfio_pci;
void dma_engine_reset(struct dma_engine *e);
/* BAR0 access inside [0, IONEST_BAR0_SIZE); returns @n. */
size_t dma_engine_rw(struct vfio_pci *p, uint64_t off, void *buf, size_t n,
		     bool write);

/* ---- The function ---- */
struct vfio_pci {
	pthread_mutex_t lock; /* config, registers and transfers */
	struct machine_device *d;
	struct pci_config cfg;
	uint8_t mem_on; /* atomic copy of Memory Space Enable */
	struct dma_engine eng;
};

extern const struct vfio_region_ops vfio_pci_region_ops;

#endif
