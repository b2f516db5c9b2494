// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "fixture.h"

long fx_ioctl(int fd, unsigned long req, void *arg)
{
	int rc = ionest_ioctl(fd, req, arg);

	return rc < 0 ? -errno : rc;
}

void fx_setup(struct fx *f, const struct ionest_mock_config *cfg, int ndev)
{
	struct ionest_hw *hw;

	memset(f, 0, sizeof(*f));
	f->m = ionest_machine_new();
	assert_non_null(f->m);
	hw = ionest_mock_iommu_new(cfg);
	assert_non_null(hw);
	assert_int_equal(ionest_machine_add_iommu(f->m, "iommu0", hw), 0);
	for (int i = 0; i < ndev; i++) {
		struct ionest_device_config dc = {
			.name = "fn",
			.iommu = "iommu0",
			.rid = 0x100 + (uint32_t)i,
			.pasid_bits = 8,
			.ats = true,
			.pasid_exec = true,
		};

		f->dev[i] = ionest_machine_add_device(f->m, &dc);
		assert_int_equal(f->dev[i], i);
		f->cdev[i] = -1;
	}
	f->ndev = ndev;
	f->fd = ionest_open(f->m, "/dev/iommu", O_RDWR | O_CLOEXEC);
	assert_true(f->fd >= 0);
}

void fx_teardown(struct fx *f)
{
	for (int i = 0; i < f->ndev; i++) {
		if (f->cdev[i] >= 0)
			assert_int_equal(ionest_close(f->cdev[i]), 0);
		f->cdev[i] = -1;
	}
	if (f->fd >= 0)
		assert_int_equal(ionest_close(f->fd), 0);
	f->fd = -1;
	ionest_machine_free(f->m);
	f->m = NULL;
}

int fx_bind(struct fx *f, int i)
{
	char path[64];
	struct vfio_device_bind_iommufd b = {
		.argsz = sizeof(b),
		.iommufd = f->fd,
	};
	long rc;

	if (f->cdev[i] < 0) {
		snprintf(path, sizeof(path), "/dev/vfio/devices/vfio%d",
			 f->dev[i]);
		f->cdev[i] = ionest_open(f->m, path, O_RDWR);
		if (f->cdev[i] < 0)
			return -errno;
	}
	rc = fx_ioctl(f->cdev[i], VFIO_DEVICE_BIND_IOMMUFD, &b);
	if (rc)
		return (int)rc;
	f->devid[i] = b.out_devid;
	return 0;
}

int fx_attach(struct fx *f, int i, uint32_t *pt_id)
{
	struct vfio_device_attach_iommufd_pt a = {
		.argsz = sizeof(a),
		.pt_id = *pt_id,
	};
	long rc = fx_ioctl(f->cdev[i], VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a);

	if (!rc)
		*pt_id = a.pt_id;
	return (int)rc;
}

int fx_attach_pasid(struct fx *f, int i, uint32_t pasid, uint32_t *pt_id)
{
	struct vfio_device_attach_iommufd_pt a = {
		.argsz = sizeof(a),
		.flags = VFIO_DEVICE_ATTACH_PASID,
		.pt_id = *pt_id,
		.pasid = pasid,
	};
	long rc = fx_ioctl(f->cdev[i], VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a);

	if (!rc)
		*pt_id = a.pt_id;
	return (int)rc;
}

int fx_detach(struct fx *f, int i)
{
	struct vfio_device_detach_iommufd_pt d = { .argsz = sizeof(d) };

	return (int)fx_ioctl(f->cdev[i], VFIO_DEVICE_DETACH_IOMMUFD_PT, &d);
}

int fx_detach_pasid(struct fx *f, int i, uint32_t pasid)
{
	struct vfio_device_detach_iommufd_pt d = {
		.argsz = sizeof(d),
		.flags = VFIO_DEVICE_DETACH_PASID,
		.pasid = pasid,
	};

	return (int)fx_ioctl(f->cdev[i], VFIO_DEVICE_DETACH_IOMMUFD_PT, &d);
}

uint32_t fx_ioas(int fd)
{
	struct iommu_ioas_alloc a = { .size = sizeof(a) };

	assert_int_equal(fx_ioctl(fd, IOMMU_IOAS_ALLOC, &a), 0);
	assert_true(a.out_ioas_id != 0);
	return a.out_ioas_id;
}

int fx_destroy(int fd, uint32_t id)
{
	struct iommu_destroy d = { .size = sizeof(d), .id = id };

	return (int)fx_ioctl(fd, IOMMU_DESTROY, &d);
}

int fx_map(int fd, uint32_t ioas, void *va, uint64_t len, uint64_t *iova,
	   uint32_t flags)
{
	struct iommu_ioas_map m = {
		.size = sizeof(m),
		.flags = flags,
		.ioas_id = ioas,
		.user_va = (uint64_t)(uintptr_t)va,
		.length = len,
		.iova = iova ? *iova : 0,
	};
	long rc = fx_ioctl(fd, IOMMU_IOAS_MAP, &m);

	if (!rc && iova)
		*iova = m.iova;
	return (int)rc;
}

int fx_map_fixed(int fd, uint32_t ioas, void *va, uint64_t len, uint64_t iova)
{
	return fx_map(fd, ioas, va, len, &iova,
		      IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			      IOMMU_IOAS_MAP_WRITEABLE);
}

int fx_unmap(int fd, uint32_t ioas, uint64_t iova, uint64_t len,
	     uint64_t *unmapped)
{
	struct iommu_ioas_unmap u = {
		.size = sizeof(u),
		.ioas_id = ioas,
		.iova = iova,
		.length = len,
	};
	long rc = fx_ioctl(fd, IOMMU_IOAS_UNMAP, &u);

	if (unmapped)
		*unmapped = u.length;
	return (int)rc;
}

int fx_hwpt_alloc(int fd, uint32_t dev_id, uint32_t pt_id, uint32_t flags,
		  uint32_t *out)
{
	struct iommu_hwpt_alloc h = {
		.size = sizeof(h),
		.flags = flags,
		.dev_id = dev_id,
		.pt_id = pt_id,
	};
	long rc = fx_ioctl(fd, IOMMU_HWPT_ALLOC, &h);

	if (!rc && out)
		*out = h.out_hwpt_id;
	return (int)rc;
}

int fx_huge_pages(int fd, uint32_t ioas, uint64_t val)
{
	struct iommu_option o = {
		.size = sizeof(o),
		.option_id = IOMMU_OPTION_HUGE_PAGES,
		.op = IOMMU_OPTION_OP_SET,
		.object_id = ioas,
		.val64 = val,
	};

	return (int)fx_ioctl(fd, IOMMU_OPTION, &o);
}

void *fx_alloc(size_t len, size_t align)
{
	size_t total = len + align;
	uint8_t *p = mmap(NULL, total, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint8_t *a;

	assert_true(p != MAP_FAILED);
	a = (uint8_t *)(((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1));
	/* Trim so that fx_free(a, len) releases everything. */
	if (a > p)
		munmap(p, (size_t)(a - p));
	if (p + total > a + len)
		munmap(a + len, (size_t)(p + total - (a + len)));
	return a;
}

void fx_free(void *p, size_t len)
{
	munmap(p, len);
}

int fx_dma_write(struct fx *f, int i, uint32_t pasid, uint64_t iova,
		 const void *buf, size_t len)
{
	return ionest_device_dma(f->m, f->dev[i], pasid, iova, (void *)buf, len,
				 IONEST_DMA_TO_MEM);
}

int fx_dma_read(struct fx *f, int i, uint32_t pasid, uint64_t iova, void *buf,
		size_t len)
{
	return ionest_device_dma(f->m, f->dev[i], pasid, iova, buf, len,
				 IONEST_DMA_FROM_MEM);
}
