// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "shim_util.h"

long xioctl(int fd, unsigned long req, void *arg)
{
	int rc = ioctl(fd, req, arg);

	return rc < 0 ? -errno : rc;
}

int xopen(const char *path, int flags)
{
	int fd = open(path, flags);

	return fd < 0 ? -errno : fd;
}

int iommufd_open(void)
{
	int fd = open("/dev/iommu", O_RDWR | O_CLOEXEC);

	assert_true(fd >= 0);
	return fd;
}

uint32_t ioas_alloc(int fd)
{
	struct iommu_ioas_alloc a = { .size = sizeof(a) };

	assert_int_equal(xioctl(fd, IOMMU_IOAS_ALLOC, &a), 0);
	assert_true(a.out_ioas_id != 0);
	return a.out_ioas_id;
}

int ioas_map(int fd, uint32_t ioas, void *va, uint64_t len, uint64_t iova)
{
	struct iommu_ioas_map m = {
		.size = sizeof(m),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = ioas,
		.user_va = (uint64_t)(uintptr_t)va,
		.length = len,
		.iova = iova,
	};

	return (int)xioctl(fd, IOMMU_IOAS_MAP, &m);
}

int ioas_unmap(int fd, uint32_t ioas, uint64_t iova, uint64_t len)
{
	struct iommu_ioas_unmap u = {
		.size = sizeof(u),
		.ioas_id = ioas,
		.iova = iova,
		.length = len,
	};

	return (int)xioctl(fd, IOMMU_IOAS_UNMAP, &u);
}

int device_open(int n, int iommufd, uint32_t pt, uint32_t *devid)
{
	struct vfio_device_bind_iommufd b = { .argsz = sizeof(b),
					      .iommufd = iommufd };
	struct vfio_device_attach_iommufd_pt at = { .argsz = sizeof(at),
						    .pt_id = pt };
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/dev/vfio/devices/vfio%d", n);
	fd = open(path, O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(xioctl(fd, VFIO_DEVICE_BIND_IOMMUFD, &b), 0);
	if (devid)
		*devid = b.out_devid;
	if (pt)
		assert_int_equal(xioctl(fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at),
				 0);
	/* Memory Space and Bus Master Enable. */
	cfg_w16(fd, 4, 0x6);
	return fd;
}

void cfg_w16(int fd, uint32_t off, uint16_t v)
{
	assert_int_equal(pwrite(fd, &v, 2, (off_t)CFG_OFF(off)), 2);
}

uint32_t bar_r32(int fd, uint32_t off)
{
	uint32_t v = 0;

	assert_int_equal(pread(fd, &v, 4, off), 4);
	return v;
}

void bar_w32(int fd, uint32_t off, uint32_t v)
{
	assert_int_equal(pwrite(fd, &v, 4, off), 4);
}

void bar_w64(int fd, uint32_t off, uint64_t v)
{
	assert_int_equal(pwrite(fd, &v, 8, off), 8);
}

uint32_t dma_copy(int fd, uint64_t src, uint64_t dst, uint32_t len)
{
	uint32_t st = 0, mode = IONEST_DMA_MODE_COPY, bell = IONEST_DMA_START;

	/* No cmocka checks: threads and forked children call this. */
	if (pwrite(fd, &src, 8, IONEST_DMA_SRC) != 8 ||
	    pwrite(fd, &dst, 8, IONEST_DMA_DST) != 8 ||
	    pwrite(fd, &len, 4, IONEST_DMA_LEN) != 4 ||
	    pwrite(fd, &mode, 4, IONEST_DMA_CTRL) != 4 ||
	    pwrite(fd, &bell, 4, IONEST_DMA_DOORBELL) != 4 ||
	    pread(fd, &st, 4, IONEST_DMA_STATUS) != 4)
		return 0;
	return st;
}

void *page_alloc(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	assert_true(p != MAP_FAILED);
	return p;
}

void page_free(void *p, size_t len)
{
	munmap(p, len);
}
