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

/* One VFIO device: the machine embeds it in its PCI function. */
struct vfio_device {
	struct iommu_dev *dev;
	pthread_mutex_t lock;
	unsigned bound; /* cdev files bound to an iommufd (0 or 1) */
};

void vfio_device_init(struct vfio_device *vdev, struct iommu_dev *dev);
void vfio_device_fini(struct vfio_device *vdev);
/* Open /dev/vfio/devices/vfioN of @vdev. Returns the fd or -errno. */
int uapi_vfio_open(struct vfio_device *vdev, int flags);

#endif
