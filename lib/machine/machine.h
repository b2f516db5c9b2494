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
#include "hw/hw.h"
#include "hw/tlb.h"
#include "uapi/uapi.h"

#define MACHINE_DEV_CHUNK 256
#define MACHINE_DEV_CHUNKS 64 /* up to 16384 functions */

struct machine_iommu {
	char name[32];
	struct iommu_inst *inst;
};

/*
 * What every DMA of a device needs, fixed when the device is added
 * (machine_dma_init) and read-only afterwards. The first
 * MACHINE_DEV_CHUNK devices have theirs inside the machine, so from the
 * machine to the model is one load (machine_dma); the rest in their device.
 */
struct machine_dma {
	/* The model's DMA hit rule (lib/hw/hw.h) for the device's stream,
	 * for accesses the model translates itself; x.sets NULL (a driver
	 * hook, a model without a rule): every access takes the full
	 * translate. */
	struct hw_dma_ctx x;
	struct machine_device *dev; /* whose context this is */
	uint32_t pasid_limit; /* 1 << PASID width, 0 without PASID */
} __attribute__((aligned(64)));

struct machine_device {
	struct machine_dma dma; /* devices from MACHINE_DEV_CHUNK on */
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
	struct machine_dma dma0[MACHINE_DEV_CHUNK]; /* of the first devices */
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
	unsigned i = (unsigned)index; /* a negative index is out of range */

	if (!m || i >= (unsigned)__atomic_load_n(&m->ndevs, __ATOMIC_ACQUIRE))
		return NULL;
	return m->chunks[i / MACHINE_DEV_CHUNK][i % MACHINE_DEV_CHUNK];
}

/* DMA context of device @index or NULL; lock-free. */
static inline const struct machine_dma *machine_dma(struct ionest_machine *m,
						    int index)
{
	unsigned i = (unsigned)index;

	if (!m || i >= (unsigned)__atomic_load_n(&m->ndevs, __ATOMIC_ACQUIRE))
		return NULL;
	if (__builtin_expect(i < MACHINE_DEV_CHUNK, 1))
		return &m->dma0[i];
	return &m->chunks[i / MACHINE_DEV_CHUNK][i % MACHINE_DEV_CHUNK]->dma;
}

/* Fill the DMA context of the probed device @d (before it is published:
 * ndevs' release store orders it for machine_dma). */
static inline void machine_dma_init(struct ionest_machine *m,
				    struct machine_device *d)
{
	struct machine_dma *c = &d->dma;

	hw_dma_ctx_init(&c->x, d->dev.drv_translate ? NULL : d->dev.hw,
			d->dev.rid);
	c->dev = d;
	c->pasid_limit = d->dev.pasid_bits ? 1u << d->dev.pasid_bits : 0;
	if (d->index < MACHINE_DEV_CHUNK)
		m->dma0[d->index] = *c;
}

#endif
