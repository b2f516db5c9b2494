// SPDX-License-Identifier: MIT
/*
 * hello-iommufd: the iommufd calls a VMM makes to give a device DMA into
 * its memory, here on an emulated Arm SMMUv3 inside this process.
 *
 *   cc -o hello-iommufd hello-iommufd.c $(pkg-config --cflags --libs ionest)
 *   ./hello-iommufd
 *
 * 1. a machine: one SMMUv3, one PCI function (00:01.0) behind it;
 * 2. /dev/iommu and the device's VFIO cdev, the device bound to the
 *    iommufd (VFIO_DEVICE_BIND_IOMMUFD);
 * 3. an IOAS, a paging HWPT on it, the device attached to the HWPT;
 * 4. a buffer mapped at IOVA 0x100000 and the device writing into it;
 * 5. the buffer unmapped: the same DMA faults, and the SMMU records it
 *    in its event queue as the hardware would (F_TRANSLATION).
 * The ioctls, structs and errno values are those of Linux's iommufd.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ionest/ionest.h>
#include <ionest/uapi/iommufd.h>
#include <ionest/uapi/vfio.h>

#define IOVA 0x100000ull
#define LEN 4096

/* Library calls return a negative errno; ioctls -1 with errno set. */
static int fail(const char *what, int err)
{
	fprintf(stderr, "hello-iommufd: %s: %s\n", what, strerror(err));
	return 1;
}

int main(void)
{
	struct ionest_device_config dc = {
		.name = "nic0", .iommu = "smmu0", .rid = 0x0008, /* 00:01.0 */
	};
	static char buf[LEN] __attribute__((aligned(4096)));
	const char msg[] = "hello from the device";
	struct iommu_hw_info_arm_smmuv3 smmu = { 0 };
	struct ionest_dma_fault fault;
	struct ionest_machine *m;
	struct ionest_hw *hw;
	int iommufd, cdev, dev, rc;
	char path[64];

	/* 1. The machine. ionest_machine_load("m.yaml", ...) builds the
	 * same from a machine file. */
	m = ionest_machine_new();
	hw = ionest_smmuv3_new(NULL); /* NULL: a default SMMUv3 */
	rc = m && hw ? ionest_machine_add_iommu(m, "smmu0", hw) : -ENOMEM;
	if (rc)
		return fail("cannot build the machine", -rc);
	dev = ionest_machine_add_device(m, &dc);
	if (dev < 0)
		return fail("cannot add the device", -dev);

	/* 2. The iommufd and the device, bound together. */
	snprintf(path, sizeof(path), "/dev/vfio/devices/vfio%d", dev);
	iommufd = ionest_open(m, "/dev/iommu", O_RDWR);
	cdev = ionest_open(m, path, O_RDWR);
	if (iommufd < 0 || cdev < 0)
		return fail("open", errno);
	struct vfio_device_bind_iommufd bind = {
		.argsz = sizeof(bind),
		.iommufd = iommufd,
	};
	if (ionest_ioctl(cdev, VFIO_DEVICE_BIND_IOMMUFD, &bind))
		return fail("VFIO_DEVICE_BIND_IOMMUFD", errno);
	struct iommu_hw_info info = {
		.size = sizeof(info),
		.dev_id = bind.out_devid,
		.data_len = sizeof(smmu),
		.data_uptr = (uintptr_t)&smmu,
	};
	if (ionest_ioctl(iommufd, IOMMU_GET_HW_INFO, &info))
		return fail("IOMMU_GET_HW_INFO", errno);
	printf("device %s is dev_id %u behind an SMMUv3 (IDR0 %#x)\n", path,
	       bind.out_devid, smmu.idr[0]);

	/* 3. An IOAS, a paging HWPT on it, the device attached. */
	struct iommu_ioas_alloc ioas = { .size = sizeof(ioas) };
	if (ionest_ioctl(iommufd, IOMMU_IOAS_ALLOC, &ioas))
		return fail("IOMMU_IOAS_ALLOC", errno);
	struct iommu_hwpt_alloc hwpt = {
		.size = sizeof(hwpt),
		.dev_id = bind.out_devid,
		.pt_id = ioas.out_ioas_id,
	};
	if (ionest_ioctl(iommufd, IOMMU_HWPT_ALLOC, &hwpt))
		return fail("IOMMU_HWPT_ALLOC", errno);
	struct vfio_device_attach_iommufd_pt at = {
		.argsz = sizeof(at),
		.pt_id = hwpt.out_hwpt_id,
	};
	if (ionest_ioctl(cdev, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at))
		return fail("VFIO_DEVICE_ATTACH_IOMMUFD_PT", errno);

	/* 4. Map the buffer; the device writes into it through the SMMU. */
	struct iommu_ioas_map map = {
		.size = sizeof(map),
		.ioas_id = ioas.out_ioas_id,
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.user_va = (uintptr_t)buf,
		.length = LEN,
		.iova = IOVA,
	};
	if (ionest_ioctl(iommufd, IOMMU_IOAS_MAP, &map))
		return fail("IOMMU_IOAS_MAP", errno);
	rc = ionest_device_dma(m, dev, IONEST_NO_PASID, IOVA, (void *)msg,
			       sizeof(msg), IONEST_DMA_TO_MEM);
	if (rc)
		return fail("DMA", -rc);
	printf("DMA to IOVA %#llx: the buffer now says \"%s\"\n", IOVA, buf);

	/* 5. Unmapped, the same DMA faults. */
	struct iommu_ioas_unmap unmap = {
		.size = sizeof(unmap),
		.ioas_id = ioas.out_ioas_id,
		.iova = IOVA,
		.length = LEN,
	};
	if (ionest_ioctl(iommufd, IOMMU_IOAS_UNMAP, &unmap))
		return fail("IOMMU_IOAS_UNMAP", errno);
	rc = ionest_device_dma(m, dev, IONEST_NO_PASID, IOVA, (void *)msg,
			       sizeof(msg), IONEST_DMA_TO_MEM);
	if (rc != -EFAULT || ionest_device_last_fault(m, dev, &fault)) {
		fprintf(stderr, "hello-iommufd: the DMA did not fault (%d)\n",
			rc);
		return 1;
	}
	printf("after unmap: DMA faulted at IOVA %#llx, SMMUv3 event %#x%s\n",
	       (unsigned long long)fault.iova, fault.code,
	       fault.recorded ? " (in the event queue)" : "");

	/* Objects go with the fds; every fd before the machine. */
	ionest_close(cdev);
	ionest_close(iommufd);
	ionest_machine_free(m);
	return 0;
}
