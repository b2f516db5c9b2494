/* SPDX-License-Identifier: MIT */
/*
 * A machine (internal): IOMMU instances, each bound to its driver, and the
 * PCI functions behind them with their RID and PASID/ATS/PRI capabilities.
 * Device lookups by index are lock-free (the DMA path uses them).
 */
#ifndef IONEST_MACHINE_H
#define IONEST_MACHINE_H

#include <pthread.h>
#include <ionest/ionest.h>

#include "dev/atc.h"
#include "drivers/driver.h"
#include "uapi/uapi.h"

#define MACHINE_DEV_CHUNK 256
#define MACHINE_DEV_CHUNKS 64 /* up to 16384 functions */

struct machine_iommu {
	char name[32];
	struct iommu_inst *inst;
};

struct machine_device {
	int index;
	struct ionest_machine *machine; /* back pointer (BAR0 DMA engine) */
	char name[64];
	struct ionest_device_config cfg; /* cfg.name/iommu point into us */
	struct machine_iommu *iommu;
	struct iommu_dev dev; /* the driver's view */
	struct vfio_device vdev; /* the VFIO cdev's view */
	/* The last DMA fault (slow path: a mutex is fine). */
	pthread_mutex_t fault_lock;
	struct ionest_dma_fault fault;
	/* The device TLB, used by ATS DMA (IONEST_DMA_ATS). */
	struct dev_atc atc;
	uint64_t msi_count; /* MSIs it sent (lib/dev/msi.c) */
};

struct ionest_machine {
	pthread_mutex_t lock; /* topology changes */
	struct machine_iommu **iommus;
	unsigned niommus, iommu_cap;
	struct machine_device **chunks[MACHINE_DEV_CHUNKS];
	int ndevs; /* published with release ordering */
	/* The interrupt controller (lib/dev/msi.c). */
	pthread_mutex_t msi_lock;
	ionest_msi_fn msi_fn;
	void *msi_ctx;
	struct ionest_msi msi_last; /* count 0: none yet */
};

/* A device write that translated into the MSI doorbell (@addr, @len
 * within it): the MSI it carries, if it is one. Cold: the DMA loop's only
 * cost is the address test. */
void dev_msi_write(struct machine_device *d, uint32_t pasid, uint64_t iova,
		   uint64_t addr, const void *src, uint64_t len);

/* Device @index or NULL; lock-free. */
static inline struct machine_device *machine_device(struct ionest_machine *m,
						    int index)
{
	struct machine_device **chunk;

	if (!m || index < 0 ||
	    index >= __atomic_load_n(&m->ndevs, __ATOMIC_ACQUIRE))
		return NULL;
	chunk = m->chunks[index / MACHINE_DEV_CHUNK];
	return chunk[index % MACHINE_DEV_CHUNK];
}

#endif
