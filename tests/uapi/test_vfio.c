// SPDX-License-Identifier: MIT
/*
 * VFIO (iommufd-uapi.md §9): the device cdev (bind, attach, detach, device
 * queries, close = unbind) and the type1 container ioctls on an iommufd,
 * including the retired TYPE1_NESTING type accepted as TYPE1v2.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "../core/fixture.h"

#define LEN (16 * FX_PAGE)

struct env {
	struct fx f;
	uint32_t ioas;
	uint8_t *mem;
};

static int env_up(void **state)
{
	struct env *e = calloc(1, sizeof(*e));

	fx_setup(&e->f, NULL, 2);
	e->ioas = fx_ioas(e->f.fd);
	e->mem = fx_alloc(LEN, FX_PAGE);
	*state = e;
	return 0;
}

static int env_down(void **state)
{
	struct env *e = *state;

	fx_teardown(&e->f);
	fx_free(e->mem, LEN);
	free(e);
	return 0;
}

static int open_cdev(struct env *e, int i)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/dev/vfio/devices/vfio%d", e->f.dev[i]);
	fd = ionest_open(e->f.m, path, O_RDWR);
	assert_true(fd >= 0);
	return fd;
}

/* ---- cdev ---- */

static void test_cdev_before_bind(void **state)
{
	struct env *e = *state;
	int fd = open_cdev(e, 0);
	struct vfio_device_info info = { .argsz = sizeof(info) };
	struct vfio_device_attach_iommufd_pt at = { .argsz = sizeof(at) };

	/* Nothing but bind works on an unbound cdev fd. */
	assert_int_equal(fx_ioctl(fd, VFIO_DEVICE_GET_INFO, &info), -EINVAL);
	assert_int_equal(fx_ioctl(fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at),
			 -EINVAL);
	assert_int_equal(fx_ioctl(fd, VFIO_DEVICE_RESET, NULL), -EINVAL);
	assert_int_equal(fx_ioctl(fd, 0x3bff, NULL), -EINVAL);
	assert_int_equal(ionest_close(fd), 0);
}

static void test_cdev_bind(void **state)
{
	struct env *e = *state;
	int fd = open_cdev(e, 0), fd2 = open_cdev(e, 0),
	    other = open_cdev(e, 1);
	struct vfio_device_bind_iommufd b = {
		.argsz = sizeof(b),
		.iommufd = e->f.fd,
	};
	struct vfio_device_bind_iommufd small = {
		.argsz = 15,
		.iommufd = e->f.fd,
	};

	assert_int_equal(fx_ioctl(fd, VFIO_DEVICE_BIND_IOMMUFD, &small),
			 -EINVAL);
	b.flags = VFIO_DEVICE_BIND_FLAG_TOKEN;
	assert_int_equal(fx_ioctl(fd, VFIO_DEVICE_BIND_IOMMUFD, &b), -EINVAL);
	b.flags = 2;
	assert_int_equal(fx_ioctl(fd, VFIO_DEVICE_BIND_IOMMUFD, &b), -EINVAL);
	b.flags = 0;
	b.iommufd = -1;
	assert_int_equal(fx_ioctl(fd, VFIO_DEVICE_BIND_IOMMUFD, &b), -EINVAL);
	b.iommufd = 12345;
	assert_int_equal(fx_ioctl(fd, VFIO_DEVICE_BIND_IOMMUFD, &b), -EBADF);
	/* An ionest fd that is not an iommufd. */
	b.iommufd = other;
	assert_int_equal(fx_ioctl(fd, VFIO_DEVICE_BIND_IOMMUFD, &b), -EBADFD);
	assert_int_equal(fx_ioctl(fd, VFIO_DEVICE_BIND_IOMMUFD, NULL), -EFAULT);
	b.iommufd = e->f.fd;
	assert_int_equal(fx_ioctl(fd, VFIO_DEVICE_BIND_IOMMUFD, &b), 0);
	assert_true(b.out_devid != 0);
	/* Once per fd and per device. */
	assert_int_equal(fx_ioctl(fd, VFIO_DEVICE_BIND_IOMMUFD, &b), -EINVAL);
	assert_int_equal(fx_ioctl(fd2, VFIO_DEVICE_BIND_IOMMUFD, &b), -EINVAL);
	/* The DEVICE object: destroy is EBUSY while bound. */
	assert_int_equal(fx_destroy(e->f.fd, b.out_devid), -EBUSY);
	/* Close unbinds; the other fd can bind now. */
	assert_int_equal(ionest_close(fd), 0);
	assert_int_equal(fx_destroy(e->f.fd, b.out_devid), -ENOENT);
	assert_int_equal(fx_ioctl(fd2, VFIO_DEVICE_BIND_IOMMUFD, &b), 0);
	assert_int_equal(ionest_close(fd2), 0);
	assert_int_equal(ionest_close(other), 0);
}

static void test_cdev_attach_detach_args(void **state)
{
	struct env *e = *state;
	struct vfio_device_attach_iommufd_pt at = {
		.argsz = sizeof(at),
		.pt_id = e->ioas,
	};
	struct vfio_device_detach_iommufd_pt dt = { .argsz = sizeof(dt) };
	int fd;

	assert_int_equal(fx_bind(&e->f, 0), 0);
	fd = e->f.cdev[0];
	at.argsz = 11;
	assert_int_equal(fx_ioctl(fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at),
			 -EINVAL);
	at.argsz = 12;
	at.flags = 2;
	assert_int_equal(fx_ioctl(fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at),
			 -EINVAL);
	/* The PASID flag needs the pasid field inside argsz. */
	at.flags = VFIO_DEVICE_ATTACH_PASID;
	at.pasid = 1;
	assert_int_equal(fx_ioctl(fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at),
			 -EINVAL);
	/* argsz 12 without the flag: enough. */
	at.flags = 0;
	assert_int_equal(fx_ioctl(fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at), 0);
	assert_true(at.pt_id != e->ioas); /* the HWPT attached */
	assert_int_equal(fx_ioctl(fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, NULL),
			 -EFAULT);
	dt.argsz = 7;
	assert_int_equal(fx_ioctl(fd, VFIO_DEVICE_DETACH_IOMMUFD_PT, &dt),
			 -EINVAL);
	dt.argsz = 8;
	dt.flags = 4;
	assert_int_equal(fx_ioctl(fd, VFIO_DEVICE_DETACH_IOMMUFD_PT, &dt),
			 -EINVAL);
	dt.flags = VFIO_DEVICE_DETACH_PASID;
	assert_int_equal(fx_ioctl(fd, VFIO_DEVICE_DETACH_IOMMUFD_PT, &dt),
			 -EINVAL);
	dt.flags = 0;
	assert_int_equal(fx_ioctl(fd, VFIO_DEVICE_DETACH_IOMMUFD_PT, &dt), 0);
	/* Detach when not attached: fine. */
	assert_int_equal(fx_ioctl(fd, VFIO_DEVICE_DETACH_IOMMUFD_PT, &dt), 0);
}

static void test_cdev_queries(void **state)
{
	struct env *e = *state;
	struct vfio_device_info info = { .argsz = 15 };
	struct vfio_region_info ri = { .argsz = sizeof(ri) };
	struct vfio_irq_info ii = { .argsz = sizeof(ii) };
	int fd;

	assert_int_equal(fx_bind(&e->f, 0), 0);
	fd = e->f.cdev[0];
	assert_int_equal(fx_ioctl(fd, VFIO_DEVICE_GET_INFO, &info), -EINVAL);
	info.argsz = 16;
	assert_int_equal(fx_ioctl(fd, VFIO_DEVICE_GET_INFO, &info), 0);
	assert_true(info.flags & VFIO_DEVICE_FLAGS_PCI);
	assert_true(info.flags & VFIO_DEVICE_FLAGS_RESET);
	assert_int_equal(info.num_regions, VFIO_PCI_NUM_REGIONS);
	assert_int_equal(info.num_irqs, VFIO_PCI_NUM_IRQS);
	ri.index = VFIO_PCI_NUM_REGIONS;
	assert_int_equal(fx_ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, &ri),
			 -EINVAL);
	ri.index = VFIO_PCI_CONFIG_REGION_INDEX;
	ri.argsz = 31;
	assert_int_equal(fx_ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, &ri),
			 -EINVAL);
	ri.argsz = sizeof(ri);
	assert_int_equal(fx_ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, &ri), 0);
	assert_int_equal(ri.offset,
			 (uint64_t)VFIO_PCI_CONFIG_REGION_INDEX << 40);
	ii.index = VFIO_PCI_NUM_IRQS;
	assert_int_equal(fx_ioctl(fd, VFIO_DEVICE_GET_IRQ_INFO, &ii), -EINVAL);
	ii.index = VFIO_PCI_MSIX_IRQ_INDEX;
	ii.argsz = 15;
	assert_int_equal(fx_ioctl(fd, VFIO_DEVICE_GET_IRQ_INFO, &ii), -EINVAL);
	ii.argsz = 16;
	assert_int_equal(fx_ioctl(fd, VFIO_DEVICE_GET_IRQ_INFO, &ii), 0);
	assert_true(ii.flags & VFIO_IRQ_INFO_EVENTFD);
	assert_int_equal(fx_ioctl(fd, VFIO_DEVICE_RESET, NULL), 0);
	assert_int_equal(fx_ioctl(fd, 0x3bff, NULL), -ENOTTY);
	/* iommufd ioctls on a device fd */
	assert_int_equal(fx_ioctl(fd, IOMMU_IOAS_ALLOC, &info), -ENOTTY);
}

/* ---- type1 compat ---- */

static void set_compat(struct env *e)
{
	struct iommu_vfio_ioas v = {
		.size = sizeof(v),
		.ioas_id = e->ioas,
		.op = IOMMU_VFIO_IOAS_SET,
	};

	assert_int_equal(fx_ioctl(e->f.fd, IOMMU_VFIO_IOAS, &v), 0);
}

#define ARG(v) ((void *)(uintptr_t)(v))

static void test_type1_extensions(void **state)
{
	struct env *e = *state;
	int fd = e->f.fd;

	assert_int_equal(fx_ioctl(fd, VFIO_GET_API_VERSION, NULL),
			 VFIO_API_VERSION);
	assert_int_equal(
		fx_ioctl(fd, VFIO_CHECK_EXTENSION, ARG(VFIO_TYPE1_IOMMU)), 1);
	assert_int_equal(
		fx_ioctl(fd, VFIO_CHECK_EXTENSION, ARG(VFIO_TYPE1v2_IOMMU)), 1);
	assert_int_equal(
		fx_ioctl(fd, VFIO_CHECK_EXTENSION, ARG(VFIO_UNMAP_ALL)), 1);
	/* Retired: never advertised. */
	assert_int_equal(fx_ioctl(fd, VFIO_CHECK_EXTENSION,
				  ARG(VFIO_TYPE1_NESTING_IOMMU)),
			 0);
	assert_int_equal(
		fx_ioctl(fd, VFIO_CHECK_EXTENSION, ARG(VFIO_NOIOMMU_IOMMU)), 0);
	assert_int_equal(
		fx_ioctl(fd, VFIO_CHECK_EXTENSION, ARG(VFIO_UPDATE_VADDR)), 0);
	assert_int_equal(fx_ioctl(fd, VFIO_CHECK_EXTENSION, ARG(1000)), 0);
	assert_int_equal(fx_ioctl(fd, VFIO_CHECK_EXTENSION,
				  ARG(VFIO_DMA_CC_IOMMU)),
			 -ENODEV);
	set_compat(e);
	assert_int_equal(
		fx_ioctl(fd, VFIO_CHECK_EXTENSION, ARG(VFIO_DMA_CC_IOMMU)), 1);
	assert_int_equal(fx_ioctl(fd, VFIO_IOMMU_DIRTY_PAGES, NULL), -ENOTTY);
	assert_int_equal(fx_ioctl(fd, VFIO_IOMMU_ENABLE, NULL), -ENOTTY);
}

static void test_type1_set_iommu(void **state)
{
	struct env *e = *state;
	int fd = e->f.fd;
	struct iommu_option o = {
		.size = sizeof(o),
		.option_id = IOMMU_OPTION_HUGE_PAGES,
		.op = IOMMU_OPTION_OP_GET,
		.object_id = e->ioas,
	};

	assert_int_equal(fx_ioctl(fd, VFIO_SET_IOMMU, ARG(VFIO_TYPE1v2_IOMMU)),
			 -ENODEV);
	set_compat(e);
	assert_int_equal(fx_ioctl(fd, VFIO_SET_IOMMU,
				  ARG(VFIO_SPAPR_TCE_IOMMU)),
			 -EINVAL);
	assert_int_equal(fx_ioctl(fd, VFIO_SET_IOMMU, ARG(VFIO_NOIOMMU_IOMMU)),
			 -EINVAL);
	/* TYPE1_NESTING: accepted for old userspace, exactly TYPE1v2. */
	assert_int_equal(
		fx_ioctl(fd, VFIO_SET_IOMMU, ARG(VFIO_TYPE1_NESTING_IOMMU)), 0);
	assert_int_equal(fx_ioctl(fd, IOMMU_OPTION, &o), 0);
	assert_int_equal(o.val64, 1);
	assert_int_equal(fx_ioctl(fd, VFIO_SET_IOMMU, ARG(VFIO_TYPE1v2_IOMMU)),
			 0);
	assert_int_equal(fx_ioctl(fd, IOMMU_OPTION, &o), 0);
	assert_int_equal(o.val64, 1);
	/* TYPE1 (v1) turns large pages off. */
	assert_int_equal(fx_ioctl(fd, VFIO_SET_IOMMU, ARG(VFIO_TYPE1_IOMMU)),
			 0);
	assert_int_equal(fx_ioctl(fd, IOMMU_OPTION, &o), 0);
	assert_int_equal(o.val64, 0);
}

static long map_dma(struct env *e, void *va, uint64_t iova, uint64_t size,
		    uint32_t flags)
{
	struct vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m),
		.flags = flags,
		.vaddr = (uint64_t)(uintptr_t)va,
		.iova = iova,
		.size = size,
	};

	return fx_ioctl(e->f.fd, VFIO_IOMMU_MAP_DMA, &m);
}

static long unmap_dma(struct env *e, uint64_t iova, uint64_t *size,
		      uint32_t flags)
{
	struct vfio_iommu_type1_dma_unmap u = {
		.argsz = sizeof(u),
		.flags = flags,
		.iova = iova,
		.size = *size,
	};
	long rc = fx_ioctl(e->f.fd, VFIO_IOMMU_UNMAP_DMA, &u);

	*size = u.size;
	return rc;
}

#define RW (VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)

static void test_type1_map_unmap(void **state)
{
	struct env *e = *state;
	struct vfio_iommu_type1_dma_map m = { .argsz = 31 };
	uint64_t sz;
	uint32_t pt;
	uint8_t b = 0x61;

	assert_int_equal(map_dma(e, e->mem, 0x100000, FX_PAGE, RW), -ENODEV);
	sz = FX_PAGE;
	assert_int_equal(unmap_dma(e, 0x100000, &sz, 0), -ENODEV);
	set_compat(e);
	assert_int_equal(fx_ioctl(e->f.fd, VFIO_IOMMU_MAP_DMA, &m), -EINVAL);
	assert_int_equal(map_dma(e, e->mem, 0x100000, FX_PAGE,
				 VFIO_DMA_MAP_FLAG_VADDR),
			 -EINVAL);
	assert_int_equal(fx_ioctl(e->f.fd, VFIO_IOMMU_MAP_DMA, NULL), -EFAULT);
	assert_int_equal(map_dma(e, e->mem, 0x100000, 8 * FX_PAGE, RW), 0);
	/* Always fixed: the same IOVA again is EEXIST. */
	assert_int_equal(map_dma(e, e->mem, 0x100000, FX_PAGE, RW), -EEXIST);
	assert_int_equal(map_dma(e, e->mem, 0x200000, 2 * FX_PAGE,
				 VFIO_DMA_MAP_FLAG_READ),
			 0);
	/* Per process accounting for the compat path. */
	{
		uint64_t mm0, mm;

		assert_int_equal(fx_bind(&e->f, 0), 0);
		ionest_pinned_pages(NULL, &mm0);
		pt = e->ioas;
		assert_int_equal(fx_attach(&e->f, 0, &pt), 0);
		ionest_pinned_pages(NULL, &mm);
		assert_int_equal(mm, mm0 + 10);
	}
	/* A device attached to the compat IOAS sees the maps. */
	assert_int_equal(fx_dma_write(&e->f, 0, IONEST_NO_PASID,
				      0x100000 + 7 * FX_PAGE, &b, 1),
			 0);
	assert_int_equal(e->mem[7 * FX_PAGE], 0x61);
	assert_int_equal(fx_dma_write(&e->f, 0, IONEST_NO_PASID, 0x200000, &b,
				      1),
			 -EFAULT); /* read-only map */
	/* UNMAP_DMA rules. */
	sz = FX_PAGE;
	assert_int_equal(unmap_dma(e, 0x100000, &sz, 1), -EINVAL);
	assert_int_equal(unmap_dma(e, 0x100000, &sz, VFIO_DMA_UNMAP_FLAG_ALL),
			 -EINVAL);
	/* v2: a range cutting a mapping is ENOENT... */
	sz = FX_PAGE;
	assert_int_equal(unmap_dma(e, 0x100000, &sz, 0), -ENOENT);
	/* ...an empty range unmaps nothing, successfully. */
	sz = FX_PAGE;
	assert_int_equal(unmap_dma(e, 0x900000, &sz, 0), 0);
	assert_int_equal(sz, 0);
	sz = 0;
	assert_int_equal(unmap_dma(e, 0x900000, &sz, 0), -EINVAL);
	sz = 0x100000;
	assert_int_equal(unmap_dma(e, 0x100000, &sz, 0), 0);
	assert_int_equal(sz, 8 * FX_PAGE);
	assert_int_equal(fx_dma_write(&e->f, 0, IONEST_NO_PASID,
				      0x100000 + 7 * FX_PAGE, &b, 1),
			 -EFAULT);
	sz = 0;
	assert_int_equal(unmap_dma(e, 0, &sz, VFIO_DMA_UNMAP_FLAG_ALL), 0);
	assert_int_equal(sz, 2 * FX_PAGE);
}

static void test_type1_v1_partial_unmap(void **state)
{
	struct env *e = *state;
	uint64_t sz;
	uint32_t pt = e->ioas;
	uint8_t b = 1;

	set_compat(e);
	assert_int_equal(
		fx_ioctl(e->f.fd, VFIO_SET_IOMMU, ARG(VFIO_TYPE1_IOMMU)), 0);
	assert_int_equal(fx_bind(&e->f, 0), 0);
	assert_int_equal(fx_attach(&e->f, 0, &pt), 0);
	assert_int_equal(map_dma(e, e->mem, 0x100000, 8 * FX_PAGE, RW), 0);
	/* v1: unmapping inside a mapping cuts it. */
	sz = 2 * FX_PAGE;
	assert_int_equal(unmap_dma(e, 0x100000 + 3 * FX_PAGE, &sz, 0), 0);
	assert_int_equal(sz, 2 * FX_PAGE);
	for (int p = 0; p < 8; p++) {
		int want = (p == 3 || p == 4) ? -EFAULT : 0;

		assert_int_equal(fx_dma_write(&e->f, 0, IONEST_NO_PASID,
					      0x100000 + p * FX_PAGE, &b, 1),
				 want);
	}
	/* The halves are areas of their own now. */
	sz = 3 * FX_PAGE;
	assert_int_equal(unmap_dma(e, 0x100000, &sz, 0), 0);
	assert_int_equal(sz, 3 * FX_PAGE);
	/* A cut at an unaligned IOVA is refused. */
	sz = 100;
	assert_int_equal(unmap_dma(e, 0x100000 + 5 * FX_PAGE, &sz, 0), -EINVAL);
	sz = 0;
	assert_int_equal(unmap_dma(e, 0, &sz, VFIO_DMA_UNMAP_FLAG_ALL), 0);
	assert_int_equal(sz, 3 * FX_PAGE);
}

static void test_type1_get_info(void **state)
{
	struct env *e = *state;
	uint8_t buf[256];
	struct vfio_iommu_type1_info *info = (void *)buf;
	uint32_t pt = e->ioas;

	memset(buf, 0, sizeof(buf));
	info->argsz = 15;
	assert_int_equal(fx_ioctl(e->f.fd, VFIO_IOMMU_GET_INFO, info), -EINVAL);
	info->argsz = 16;
	assert_int_equal(fx_ioctl(e->f.fd, VFIO_IOMMU_GET_INFO, info), -ENODEV);
	set_compat(e);
	assert_int_equal(fx_bind(&e->f, 0), 0);
	assert_int_equal(fx_attach(&e->f, 0, &pt), 0);
	/* Too small for the caps: argsz says what is needed, no cap_offset,
	 * nothing written past argsz. */
	memset(buf, 0xee, sizeof(buf));
	info->argsz = 24;
	assert_int_equal(fx_ioctl(e->f.fd, VFIO_IOMMU_GET_INFO, info), 0);
	assert_int_equal(info->flags,
			 VFIO_IOMMU_INFO_PGSIZES | VFIO_IOMMU_INFO_CAPS);
	/* 4K | 2M | 1G from the mock domain */
	assert_int_equal(info->iova_pgsizes,
			 (1ull << 12) | (1ull << 21) | (1ull << 30));
	assert_int_equal(info->cap_offset, 0);
	/* dma_avail (12 -> 16) + iova range cap with two ranges (48) */
	assert_int_equal(info->argsz, 24 + 16 + 16 + 2 * 16);
	for (size_t i = 24; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0xee);
	/* minsz 16: pad and cap_offset are not written. */
	memset(buf, 0xee, sizeof(buf));
	info->argsz = 16;
	assert_int_equal(fx_ioctl(e->f.fd, VFIO_IOMMU_GET_INFO, info), 0);
	assert_int_equal(info->argsz, 88);
	for (size_t i = 16; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0xee);
	/* Enough room: the whole chain. */
	memset(buf, 0, sizeof(buf));
	info->argsz = sizeof(buf);
	assert_int_equal(fx_ioctl(e->f.fd, VFIO_IOMMU_GET_INFO, info), 0);
	assert_int_equal(info->argsz, 88);
	assert_int_equal(info->cap_offset, 24);
	{
		struct vfio_iommu_type1_info_dma_avail *da = (void *)(buf + 24);
		struct vfio_iommu_type1_info_cap_iova_range *ir;

		assert_int_equal(da->header.id,
				 VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL);
		assert_int_equal(da->header.version, 1);
		assert_int_equal(da->avail, UINT32_MAX);
		assert_int_equal(da->header.next, 40);
		ir = (void *)(buf + 40);
		assert_int_equal(ir->header.id,
				 VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE);
		assert_int_equal(ir->header.next, 0);
		assert_int_equal(ir->nr_iovas, 2);
		assert_int_equal(ir->iova_ranges[0].start, 0);
		assert_int_equal(ir->iova_ranges[0].end, FX_MSI_START - 1);
		assert_int_equal(ir->iova_ranges[1].start, FX_MSI_LAST + 1);
		assert_int_equal(ir->iova_ranges[1].end, (1ull << 48) - 1);
	}
	/* Room for the first cap only: it is chained, the second is not
	 * written. */
	memset(buf, 0xee, sizeof(buf));
	memset(buf, 0, 44);
	info->argsz = 44;
	assert_int_equal(fx_ioctl(e->f.fd, VFIO_IOMMU_GET_INFO, info), 0);
	assert_int_equal(info->cap_offset, 0);
	assert_int_equal(((struct vfio_info_cap_header *)(buf + 24))->id,
			 VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL);
	for (size_t i = 44; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0xee);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, env_up, env_down)
		T(test_cdev_before_bind),	 T(test_cdev_bind),
		T(test_cdev_attach_detach_args), T(test_cdev_queries),
		T(test_type1_extensions),	 T(test_type1_set_iommu),
		T(test_type1_map_unmap),	 T(test_type1_v1_partial_unmap),
		T(test_type1_get_info),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
