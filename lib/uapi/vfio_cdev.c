// SPDX-License-Identifier: MIT
/*
 * VFIO device cdev fds (/dev/vfio/devices/vfioN, iommufd-uapi.md §9.1):
 * BIND_IOMMUFD first, then ATTACH/DETACH_IOMMUFD_PT (RID or PASID; a second
 * attach replaces) and the basic device queries. Closing the fd unbinds.
 * VFIO conventions: argsz, unknown flags EINVAL, nothing before bind.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <ionest/uapi/vfio.h>

#include "uapi/uapi.h"
#include "util/alloc.h"

#define OFFSETOFEND(s, f) (offsetof(struct s, f) + sizeof(((struct s *)0)->f))

/* vfio-pci puts region N at file offset N << 40. */
#define VFIO_PCI_OFFSET_SHIFT 40
#define VFIO_PCI_OFFSET_MASK ((1ull << VFIO_PCI_OFFSET_SHIFT) - 1)

struct vfio_file {
	struct vfio_device *vdev;
	struct iommufd_device *idev; /* bound */
	uint32_t devid;
	bool access_granted;
	uint64_t pos; /* file position of read/write (atomic) */
};

void vfio_device_init(struct vfio_device *vdev, struct iommu_dev *dev)
{
	vdev->dev = dev;
	pthread_mutex_init(&vdev->lock, NULL);
	vdev->bound = 0;
}

void vfio_device_fini(struct vfio_device *vdev)
{
	if (vdev->region_ops && vdev->region_ops->release)
		vdev->region_ops->release(vdev);
	pthread_mutex_destroy(&vdev->lock);
}

/* VFIO PASID values: 0 is the RID itself in Linux, not a PASID. */
static bool pasid_ok(uint32_t pasid)
{
	return pasid != 0 && pasid != IOMMU_NO_PASID;
}

static long bind_iommufd(struct vfio_file *vf, uint64_t arg)
{
	size_t minsz = OFFSETOFEND(vfio_device_bind_iommufd, out_devid);
	struct vfio_device *vdev = vf->vdev;
	struct vfio_device_bind_iommufd bind;
	struct ionest_file *ifile;
	struct iommufd_ctx *ctx;
	int rc;

	rc = copy_from_user(&bind, arg, minsz);
	if (rc)
		return rc;
	if (bind.argsz < minsz || bind.iommufd < 0)
		return -EINVAL;
	/* Our functions are not SR-IOV VFs: there is no token to check. */
	if (bind.flags)
		return -EINVAL;
	pthread_mutex_lock(&vdev->lock);
	/* One binding per device, and per fd. */
	if (vf->access_granted || vdev->bound) {
		rc = -EINVAL;
		goto out;
	}
	ifile = file_get(bind.iommufd);
	if (!ifile) {
		rc = -EBADF;
		goto out;
	}
	ctx = uapi_iommufd_ctx(ifile);
	if (!ctx) {
		file_put(ifile);
		rc = -EBADFD;
		goto out;
	}
	rc = iommufd_device_bind(ctx, vdev->dev, &vf->idev, &vf->devid);
	file_put(ifile);
	if (rc)
		goto out;
	rc = copy_to_user(arg + offsetof(struct vfio_device_bind_iommufd,
					 out_devid),
			  &vf->devid, sizeof(vf->devid));
	if (rc) {
		iommufd_device_unbind(vf->idev);
		vf->idev = NULL;
		goto out;
	}
	vdev->bound = 1;
	vf->access_granted = true;
out:
	pthread_mutex_unlock(&vdev->lock);
	return rc;
}

static long attach_pt(struct vfio_file *vf, uint64_t arg)
{
	size_t minsz = OFFSETOFEND(vfio_device_attach_iommufd_pt, pt_id);
	size_t xend = OFFSETOFEND(vfio_device_attach_iommufd_pt, pasid);
	struct vfio_device_attach_iommufd_pt attach;
	uint32_t pasid = IOMMU_NO_PASID;
	int rc;

	rc = copy_from_user(&attach, arg, minsz);
	if (rc)
		return rc;
	if (attach.argsz < minsz)
		return -EINVAL;
	if (attach.flags & ~(uint32_t)VFIO_DEVICE_ATTACH_PASID)
		return -EINVAL;
	if (attach.flags & VFIO_DEVICE_ATTACH_PASID) {
		if (attach.argsz < xend)
			return -EINVAL;
		rc = copy_from_user(&attach.pasid, arg + minsz, xend - minsz);
		if (rc)
			return rc;
		if (!pasid_ok(attach.pasid))
			return -EINVAL;
		pasid = attach.pasid;
	}
	pthread_mutex_lock(&vf->vdev->lock);
	/* A second attach without detach replaces (VFIO rule). */
	if (iommufd_device_pasid_attached(vf->idev, pasid))
		rc = iommufd_device_replace(vf->idev, pasid, &attach.pt_id);
	else
		rc = iommufd_device_attach(vf->idev, pasid, &attach.pt_id);
	if (!rc) {
		rc = copy_to_user(
			arg + offsetof(struct vfio_device_attach_iommufd_pt,
				       pt_id),
			&attach.pt_id, sizeof(attach.pt_id));
		if (rc)
			iommufd_device_detach(vf->idev, pasid);
	}
	pthread_mutex_unlock(&vf->vdev->lock);
	return rc;
}

static long detach_pt(struct vfio_file *vf, uint64_t arg)
{
	size_t minsz = OFFSETOFEND(vfio_device_detach_iommufd_pt, flags);
	size_t xend = OFFSETOFEND(vfio_device_detach_iommufd_pt, pasid);
	struct vfio_device_detach_iommufd_pt detach;
	uint32_t pasid = IOMMU_NO_PASID;
	int rc;

	rc = copy_from_user(&detach, arg, minsz);
	if (rc)
		return rc;
	if (detach.argsz < minsz)
		return -EINVAL;
	if (detach.flags & ~(uint32_t)VFIO_DEVICE_DETACH_PASID)
		return -EINVAL;
	if (detach.flags & VFIO_DEVICE_DETACH_PASID) {
		if (detach.argsz < xend)
			return -EINVAL;
		rc = copy_from_user(&detach.pasid, arg + minsz, xend - minsz);
		if (rc)
			return rc;
		if (!pasid_ok(detach.pasid))
			return -EINVAL;
		pasid = detach.pasid;
	}
	pthread_mutex_lock(&vf->vdev->lock);
	iommufd_device_detach(vf->idev, pasid);
	pthread_mutex_unlock(&vf->vdev->lock);
	return 0;
}

static long get_info(struct vfio_file *vf, uint64_t arg)
{
	size_t minsz = OFFSETOFEND(vfio_device_info, num_irqs);
	struct vfio_device_info info;
	int rc = copy_from_user(&info, arg, minsz);

	if (rc)
		return rc;
	if (info.argsz < minsz)
		return -EINVAL;
	info.flags = VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET;
	info.num_regions = VFIO_PCI_NUM_REGIONS;
	info.num_irqs = VFIO_PCI_NUM_IRQS;
	return copy_to_user(arg, &info, minsz);
}

static long get_region_info(struct vfio_file *vf, uint64_t arg)
{
	size_t minsz = OFFSETOFEND(vfio_region_info, offset);
	struct vfio_region_info info;
	int rc = copy_from_user(&info, arg, minsz);

	if (rc)
		return rc;
	if (info.argsz < minsz || info.index >= VFIO_PCI_NUM_REGIONS)
		return -EINVAL;
	info.offset = (uint64_t)info.index << VFIO_PCI_OFFSET_SHIFT;
	info.size = 0;
	info.flags = 0;
	info.cap_offset = 0;
	/* No region is mmap-able: the emulation sees every access. */
	if (vf->vdev->region_ops)
		vf->vdev->region_ops->info(vf->vdev, info.index, &info.size,
					   &info.flags);
	return copy_to_user(arg, &info, minsz);
}

static long get_irq_info(struct vfio_file *vf, uint64_t arg)
{
	size_t minsz = OFFSETOFEND(vfio_irq_info, count);
	struct vfio_irq_info info;
	int rc = copy_from_user(&info, arg, minsz);

	if (rc)
		return rc;
	if (info.argsz < minsz || info.index >= VFIO_PCI_NUM_IRQS)
		return -EINVAL;
	info.flags = VFIO_IRQ_INFO_EVENTFD;
	if (info.index == VFIO_PCI_INTX_IRQ_INDEX)
		info.flags |= VFIO_IRQ_INFO_MASKABLE | VFIO_IRQ_INFO_AUTOMASKED;
	else
		info.flags |= VFIO_IRQ_INFO_NORESIZE;
	info.count = 0; /* no interrupts wired yet */
	return copy_to_user(arg, &info, minsz);
}

static long vfio_ioctl(struct ionest_file *f, unsigned long cmd, void *uarg)
{
	struct vfio_file *vf = f->priv;
	uint64_t arg = (uint64_t)(uintptr_t)uarg;

	if (cmd == VFIO_DEVICE_BIND_IOMMUFD)
		return bind_iommufd(vf, arg);
	/* Nothing but bind before the device is bound. */
	if (!vf->access_granted)
		return -EINVAL;
	switch (cmd) {
	case VFIO_DEVICE_ATTACH_IOMMUFD_PT:
		return attach_pt(vf, arg);
	case VFIO_DEVICE_DETACH_IOMMUFD_PT:
		return detach_pt(vf, arg);
	case VFIO_DEVICE_GET_INFO:
		return get_info(vf, arg);
	case VFIO_DEVICE_GET_REGION_INFO:
		return get_region_info(vf, arg);
	case VFIO_DEVICE_GET_IRQ_INFO:
		return get_irq_info(vf, arg);
	case VFIO_DEVICE_RESET:
		if (vf->vdev->region_ops)
			return vf->vdev->region_ops->reset(vf->vdev);
		return 0;
	default:
		return -ENOTTY;
	}
}

static void vfio_release(struct ionest_file *f)
{
	struct vfio_file *vf = f->priv;

	/* Closing the cdev unbinds: detach all, destroy the DEVICE. */
	if (vf->access_granted) {
		pthread_mutex_lock(&vf->vdev->lock);
		iommufd_device_unbind(vf->idev);
		vf->vdev->bound = 0;
		pthread_mutex_unlock(&vf->vdev->lock);
	}
	xfree(vf);
}

/*
 * Region access (vfio-pci): file offset = index << 40 | offset in the
 * region. Reads and writes stop at the region's end (short count); an
 * offset outside every region is EINVAL, as is any access before bind.
 * @buf is the caller's memory: bad pointers give EFAULT.
 */
ssize_t uapi_vfio_rw(struct ionest_file *f, void *buf, size_t n, uint64_t off,
		     bool write)
{
	uint64_t roff = off & VFIO_PCI_OFFSET_MASK, size = 0;
	uint32_t index = (uint32_t)(off >> VFIO_PCI_OFFSET_SHIFT);
	struct vfio_file *vf = f->priv;
	struct vfio_device *vdev;
	uint32_t flags = 0;
	uint8_t bounce[512];
	size_t done = 0;

	if (f->ops->ioctl != vfio_ioctl)
		return -ESPIPE;
	vdev = vf->vdev;
	if (!__atomic_load_n(&vf->access_granted, __ATOMIC_ACQUIRE))
		return -EINVAL;
	if (index >= VFIO_PCI_NUM_REGIONS || !vdev->region_ops)
		return -EINVAL;
	vdev->region_ops->info(vdev, index, &size, &flags);
	if (roff >= size)
		return -EINVAL;
	if (!(flags & (write ? VFIO_REGION_INFO_FLAG_WRITE :
			       VFIO_REGION_INFO_FLAG_READ)))
		return -EINVAL;
	if (!n)
		return 0;
	if (n > size - roff)
		n = (size_t)(size - roff);
	while (done < n) {
		uint64_t ubuf = (uint64_t)(uintptr_t)buf + done;
		size_t c = n - done < sizeof(bounce) ? n - done :
						       sizeof(bounce);
		ssize_t r;
		int rc;

		if (write) {
			rc = copy_from_user(bounce, ubuf, c);
			if (rc)
				return done ? (ssize_t)done : rc;
		}
		r = vdev->region_ops->rw(vdev, index, roff + done, bounce, c,
					 write);
		if (r <= 0)
			return done ? (ssize_t)done : (r ? r : -EIO);
		if (!write) {
			rc = copy_to_user(ubuf, bounce, (size_t)r);
			if (rc)
				return done ? (ssize_t)done : rc;
		}
		done += (size_t)r;
		if ((size_t)r < c)
			break;
	}
	return (ssize_t)done;
}

int64_t uapi_vfio_llseek(struct ionest_file *f, int64_t off, int whence)
{
	struct vfio_file *vf = f->priv;
	int64_t base;

	if (f->ops->ioctl != vfio_ioctl)
		return -ESPIPE;
	if (whence == SEEK_SET)
		base = 0;
	else if (whence == SEEK_CUR)
		base = (int64_t)__atomic_load_n(&vf->pos, __ATOMIC_RELAXED);
	else
		return -EINVAL; /* regions have no common end */
	if ((off > 0 && base > INT64_MAX - off) || base + off < 0)
		return -EINVAL;
	__atomic_store_n(&vf->pos, (uint64_t)(base + off), __ATOMIC_RELAXED);
	return base + off;
}

struct vfio_device *uapi_vfio_device(struct ionest_file *f)
{
	return f->ops->ioctl == vfio_ioctl ?
		       ((struct vfio_file *)f->priv)->vdev :
		       NULL;
}

/* read(2)/write(2): at the file position, which advances. */
static ssize_t vfio_pos_rw(struct ionest_file *f, void *buf, size_t n,
			   bool write)
{
	struct vfio_file *vf = f->priv;
	uint64_t pos = __atomic_load_n(&vf->pos, __ATOMIC_RELAXED);
	ssize_t r = uapi_vfio_rw(f, buf, n, pos, write);

	if (r > 0)
		__atomic_store_n(&vf->pos, pos + (uint64_t)r, __ATOMIC_RELAXED);
	return r;
}

static ssize_t vfio_read(struct ionest_file *f, void *buf, size_t n)
{
	return vfio_pos_rw(f, buf, n, false);
}

static ssize_t vfio_write(struct ionest_file *f, const void *buf, size_t n)
{
	return vfio_pos_rw(f, (void *)buf, n, true);
}

static const struct ionest_file_ops vfio_fops = {
	.name = "vfio-device",
	.ioctl = vfio_ioctl,
	.read = vfio_read,
	.write = vfio_write,
	.release = vfio_release,
};

int uapi_vfio_open(struct vfio_device *vdev, int flags)
{
	struct vfio_file *vf = xzalloc(sizeof(*vf));
	struct ionest_file *f;
	int fd;

	if (!vf)
		return -ENOMEM;
	vf->vdev = vdev;
	f = file_new(&vfio_fops, vf);
	if (!f) {
		xfree(vf);
		return -ENOMEM;
	}
	fd = file_install(f, flags);
	if (fd < 0)
		file_put(f);
	return fd;
}
