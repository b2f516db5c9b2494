// SPDX-License-Identifier: MIT
/*
 * The emulated PCI function as VFIO regions (vfio-pci layout): BAR0 is
 * the DMA engine, the config region is the function's config space; the
 * other BARs, the ROM and VGA are absent (size 0). The function's state is
 * allocated at the first access and lives as long as the machine device.
 * Memory-space decoding follows the Command register: with Memory Space
 * Enable clear BAR0 accesses fail with EIO, as vfio-pci does.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "dev/vfio_pci.h"
#include "machine/machine.h"
#include "util/alloc.h"

static struct machine_device *to_mdev(struct vfio_device *vdev)
{
	return (struct machine_device *)((char *)vdev -
					 offsetof(struct machine_device, vdev));
}

/* The function's state, created on first use (NULL: out of memory). */
static struct vfio_pci *get(struct vfio_device *vdev)
{
	struct vfio_pci *p = __atomic_load_n(
		(struct vfio_pci **)&vdev->region_priv, __ATOMIC_ACQUIRE);

	if (p)
		return p;
	pthread_mutex_lock(&vdev->lock);
	p = vdev->region_priv;
	if (!p) {
		p = xzalloc(sizeof(*p));
		if (p) {
			pthread_mutex_init(&p->lock, NULL);
			p->d = to_mdev(vdev);
			pci_config_init(&p->cfg, &p->d->cfg);
			dma_engine_reset(&p->eng);
			__atomic_store_n((struct vfio_pci **)&vdev->region_priv,
					 p, __ATOMIC_RELEASE);
		}
	}
	pthread_mutex_unlock(&vdev->lock);
	return p;
}

static void region_info(struct vfio_device *vdev, uint32_t index,
			uint64_t *size, uint32_t *flags)
{
	*size = 0;
	*flags = 0;
	if (index == VFIO_PCI_BAR0_REGION_INDEX)
		*size = IONEST_BAR0_SIZE;
	else if (index == VFIO_PCI_CONFIG_REGION_INDEX)
		*size = PCI_CFG_SIZE;
	if (*size)
		*flags = VFIO_REGION_INFO_FLAG_READ |
			 VFIO_REGION_INFO_FLAG_WRITE;
}

static void sync_mem_on(struct vfio_pci *p)
{
	__atomic_store_n(&p->mem_on, pci_config_mem_enabled(&p->cfg),
			 __ATOMIC_RELEASE);
}

/* Function-level reset: config space, registers, device memory. */
static void flr(struct vfio_pci *p)
{
	pci_config_init(&p->cfg, &p->d->cfg);
	dma_engine_reset(&p->eng);
	sync_mem_on(p);
}

static ssize_t region_rw(struct vfio_device *vdev, uint32_t index, uint64_t off,
			 void *buf, size_t n, bool write)
{
	struct vfio_pci *p = get(vdev);
	ssize_t rc;

	if (!p)
		return -ENOMEM;
	/* STATUS alone is read without waiting, so a running transfer
	 * shows BUSY. */
	if (index == VFIO_PCI_BAR0_REGION_INDEX && !write && n == 4 &&
	    off == IONEST_DMA_STATUS) {
		uint32_t st = __atomic_load_n(&p->eng.status, __ATOMIC_ACQUIRE);

		if (!__atomic_load_n(&p->mem_on, __ATOMIC_ACQUIRE))
			return -EIO;
		memcpy(buf, &st, 4);
		return 4;
	}
	pthread_mutex_lock(&p->lock);
	if (index == VFIO_PCI_CONFIG_REGION_INDEX) {
		if (write) {
			unsigned ev = pci_config_write(&p->cfg, (uint32_t)off,
						       buf, (uint32_t)n);

			if (ev & PCI_CFG_EV_FLR)
				flr(p);
			sync_mem_on(p);
		} else {
			pci_config_read(&p->cfg, (uint32_t)off, buf,
					(uint32_t)n);
		}
		rc = (ssize_t)n;
	} else if (index == VFIO_PCI_BAR0_REGION_INDEX) {
		if (!pci_config_mem_enabled(&p->cfg))
			rc = -EIO;
		else
			rc = (ssize_t)dma_engine_rw(p, off, buf, n, write);
	} else {
		rc = -EINVAL;
	}
	pthread_mutex_unlock(&p->lock);
	return rc;
}

static int region_reset(struct vfio_device *vdev)
{
	struct vfio_pci *p = get(vdev);

	if (!p)
		return -ENOMEM;
	pthread_mutex_lock(&p->lock);
	flr(p);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

static void region_release(struct vfio_device *vdev)
{
	struct vfio_pci *p = vdev->region_priv;

	if (!p)
		return;
	pthread_mutex_destroy(&p->lock);
	xfree(p);
	vdev->region_priv = NULL;
}

const struct vfio_region_ops vfio_pci_region_ops = {
	.info = region_info,
	.rw = region_rw,
	.reset = region_reset,
	.release = region_release,
};
