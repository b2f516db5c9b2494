/* SPDX-License-Identifier: MIT */
/*
 * The Linux ABI front end (internal): /dev/iommu fds with the iommufd ioctl
 * table and the VFIO type1 compat ioctls, and VFIO device cdev fds.
 */
#ifndef IONEST_UAPI_H
#define IONEST_UAPI_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/core.h"
#include "uapi/fdtable.h"

/* Open an iommufd (@vfio_container: opened as /dev/vfio/vfio). Returns the
 * fd or -errno. */
int uapi_iommufd_open(bool vfio_container, int flags);
/* The context of an iommufd file, NULL for any other kind of file. */
struct iommufd_ctx *uapi_iommufd_ctx(struct ionest_file *f);

/* VFIO type1 container ioctls on an iommufd (ctx->lock held). */
long iommufd_vfio_compat_ioctl(struct iommufd_ctx *ctx, unsigned long cmd,
			       void *arg);

struct vfio_device;

/*
 * The regions of a VFIO device (vfio-pci layout: BARs, ROM, config space),
 * supplied by the device emulation above this layer (lib/dev/vfio_pci.c).
 * Called without vfio_device.lock; the emulation locks itself.
 */
struct vfio_region_ops {
	/* Size and VFIO_REGION_INFO_FLAG_* of region @index (0 = absent). */
	void (*info)(struct vfio_device *vdev, uint32_t index, uint64_t *size,
		     uint32_t *flags);
	/* Access [off, off + n) of region @index from/to @buf (our memory).
	 * Returns the bytes done (> 0) or -errno. */
	ssize_t (*rw)(struct vfio_device *vdev, uint32_t index, uint64_t off,
		      void *buf, size_t n, bool write);
	/* VFIO_DEVICE_RESET: back to power-on state. */
	int (*reset)(struct vfio_device *vdev);
	/* vfio_device_fini(): free what the emulation attached. */
	void (*release)(struct vfio_device *vdev);
};

/* One VFIO device: the machine embeds it in its PCI function. */
struct vfio_device {
	struct iommu_dev *dev;
	pthread_mutex_t lock;
	unsigned bound; /* cdev files bound to an iommufd (0 or 1) */
	const struct vfio_region_ops *region_ops; /* NULL: no regions */
	void *region_priv; /* the emulation's state */
};

void vfio_device_init(struct vfio_device *vdev, struct iommu_dev *dev);
void vfio_device_fini(struct vfio_device *vdev);
/* Open /dev/vfio/devices/vfioN of @vdev. Returns the fd or -errno. */
int uapi_vfio_open(struct vfio_device *vdev, int flags);
/* Region access on an open VFIO device file (ionest_pread/pwrite). */
ssize_t uapi_vfio_rw(struct ionest_file *f, void *buf, size_t n, uint64_t off,
		     bool write);
/* lseek on it; -ESPIPE for files that are not VFIO devices. */
int64_t uapi_vfio_llseek(struct ionest_file *f, int64_t off, int whence);
/* The device behind a VFIO device file, NULL for other files. */
struct vfio_device *uapi_vfio_device(struct ionest_file *f);

#endif
