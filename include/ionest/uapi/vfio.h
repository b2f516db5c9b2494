/* SPDX-License-Identifier: MIT */
/*
 * The part of the Linux VFIO user ABI that ionest implements, written from
 * the documented ABI with Linux's names and numbers: the device cdev
 * (/dev/vfio/devices/vfioN) ioctls that bind a device to an iommufd and
 * attach it, the basic device queries, and the type1 container ioctls that
 * iommufd serves on its own fd for old userspace.
 *
 * VFIO ioctls use "argsz" as their first u32. Unlike iommufd, unknown flag
 * bits give EINVAL. Only <stdint.h> and <stddef.h> are needed; the include
 * guard is that of Linux's installed header.
 */
#ifndef VFIO_H
#define VFIO_H

#include "abi_check.h"

#define VFIO_API_VERSION 0

/* Extensions (VFIO_CHECK_EXTENSION, VFIO_SET_IOMMU). */
#define VFIO_TYPE1_IOMMU 1
#define VFIO_SPAPR_TCE_IOMMU 2
#define VFIO_TYPE1v2_IOMMU 3
#define VFIO_DMA_CC_IOMMU 4
#define VFIO_EEH 5
/* Retired in Linux 6.13; requesting it is accepted and acts as TYPE1v2. */
#define __VFIO_RESERVED_TYPE1_NESTING_IOMMU 6
#define VFIO_TYPE1_NESTING_IOMMU __VFIO_RESERVED_TYPE1_NESTING_IOMMU
#define VFIO_SPAPR_TCE_v2_IOMMU 7
#define VFIO_NOIOMMU_IOMMU 8
#define VFIO_UNMAP_ALL 9
#define VFIO_UPDATE_VADDR 10

#define VFIO_TYPE (';')
#define VFIO_BASE 100
#define IONEST_VFIO_IO(nr) ((unsigned long)((VFIO_TYPE << 8) | (nr)))

/* Capability chain entry: next is an offset from the start of the info
 * struct, 0 ends the chain. */
struct vfio_info_cap_header {
	uint16_t id;
	uint16_t version;
	uint32_t next;
};

/* ---- Container (type1) ioctls, served by iommufd on its own fd ---- */
#define VFIO_GET_API_VERSION IONEST_VFIO_IO(VFIO_BASE + 0)
#define VFIO_CHECK_EXTENSION IONEST_VFIO_IO(VFIO_BASE + 1)
#define VFIO_SET_IOMMU IONEST_VFIO_IO(VFIO_BASE + 2)

struct vfio_iommu_type1_info {
	uint32_t argsz;
	uint32_t flags;
#define VFIO_IOMMU_INFO_PGSIZES (1 << 0)
#define VFIO_IOMMU_INFO_CAPS (1 << 1)
	IONEST_UAPI_U64 iova_pgsizes;
	uint32_t cap_offset;
	uint32_t pad;
};

struct vfio_iova_range {
	IONEST_UAPI_U64 start;
	IONEST_UAPI_U64 end; /* inclusive */
};

#define VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE 1
struct vfio_iommu_type1_info_cap_iova_range {
	struct vfio_info_cap_header header;
	uint32_t nr_iovas;
	uint32_t reserved;
	struct vfio_iova_range iova_ranges[];
};

#define VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION 2
struct vfio_iommu_type1_info_cap_migration {
	struct vfio_info_cap_header header;
	uint32_t flags;
	IONEST_UAPI_U64 pgsize_bitmap;
	IONEST_UAPI_U64 max_dirty_bitmap_size;
};

#define VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL 3
struct vfio_iommu_type1_info_dma_avail {
	struct vfio_info_cap_header header;
	uint32_t avail;
};

#define VFIO_IOMMU_GET_INFO IONEST_VFIO_IO(VFIO_BASE + 12)

struct vfio_iommu_type1_dma_map {
	uint32_t argsz;
	uint32_t flags;
#define VFIO_DMA_MAP_FLAG_READ (1 << 0)
#define VFIO_DMA_MAP_FLAG_WRITE (1 << 1)
#define VFIO_DMA_MAP_FLAG_VADDR (1 << 2)
	IONEST_UAPI_U64 vaddr;
	IONEST_UAPI_U64 iova;
	IONEST_UAPI_U64 size;
};
#define VFIO_IOMMU_MAP_DMA IONEST_VFIO_IO(VFIO_BASE + 13)

struct vfio_bitmap {
	IONEST_UAPI_U64 pgsize;
	IONEST_UAPI_U64 size;
	uint64_t *data;
};

struct vfio_iommu_type1_dma_unmap {
	uint32_t argsz;
	uint32_t flags;
#define VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP (1 << 0)
#define VFIO_DMA_UNMAP_FLAG_ALL (1 << 1)
#define VFIO_DMA_UNMAP_FLAG_VADDR (1 << 2)
	IONEST_UAPI_U64 iova;
	IONEST_UAPI_U64 size;
	uint8_t data[];
};
#define VFIO_IOMMU_UNMAP_DMA IONEST_VFIO_IO(VFIO_BASE + 14)
#define VFIO_IOMMU_ENABLE IONEST_VFIO_IO(VFIO_BASE + 15)
#define VFIO_IOMMU_DISABLE IONEST_VFIO_IO(VFIO_BASE + 16)
#define VFIO_IOMMU_DIRTY_PAGES IONEST_VFIO_IO(VFIO_BASE + 17)

/* ---- Device ioctls ---- */
struct vfio_device_info {
	uint32_t argsz;
	uint32_t flags;
#define VFIO_DEVICE_FLAGS_RESET (1 << 0)
#define VFIO_DEVICE_FLAGS_PCI (1 << 1)
#define VFIO_DEVICE_FLAGS_PLATFORM (1 << 2)
#define VFIO_DEVICE_FLAGS_AMBA (1 << 3)
#define VFIO_DEVICE_FLAGS_CCW (1 << 4)
#define VFIO_DEVICE_FLAGS_AP (1 << 5)
#define VFIO_DEVICE_FLAGS_FSL_MC (1 << 6)
#define VFIO_DEVICE_FLAGS_CAPS (1 << 7)
#define VFIO_DEVICE_FLAGS_CDX (1 << 8)
	uint32_t num_regions;
	uint32_t num_irqs;
	uint32_t cap_offset;
	uint32_t pad;
};
#define VFIO_DEVICE_GET_INFO IONEST_VFIO_IO(VFIO_BASE + 7)

struct vfio_region_info {
	uint32_t argsz;
	uint32_t flags;
#define VFIO_REGION_INFO_FLAG_READ (1 << 0)
#define VFIO_REGION_INFO_FLAG_WRITE (1 << 1)
#define VFIO_REGION_INFO_FLAG_MMAP (1 << 2)
#define VFIO_REGION_INFO_FLAG_CAPS (1 << 3)
	uint32_t index;
	uint32_t cap_offset;
	IONEST_UAPI_U64 size;
	IONEST_UAPI_U64 offset;
};
#define VFIO_DEVICE_GET_REGION_INFO IONEST_VFIO_IO(VFIO_BASE + 8)

struct vfio_irq_info {
	uint32_t argsz;
	uint32_t flags;
#define VFIO_IRQ_INFO_EVENTFD (1 << 0)
#define VFIO_IRQ_INFO_MASKABLE (1 << 1)
#define VFIO_IRQ_INFO_AUTOMASKED (1 << 2)
#define VFIO_IRQ_INFO_NORESIZE (1 << 3)
	uint32_t index;
	uint32_t count;
};
#define VFIO_DEVICE_GET_IRQ_INFO IONEST_VFIO_IO(VFIO_BASE + 9)
#define VFIO_DEVICE_RESET IONEST_VFIO_IO(VFIO_BASE + 11)

/* vfio-pci region and IRQ indexes. */
enum {
	VFIO_PCI_BAR0_REGION_INDEX,
	VFIO_PCI_BAR1_REGION_INDEX,
	VFIO_PCI_BAR2_REGION_INDEX,
	VFIO_PCI_BAR3_REGION_INDEX,
	VFIO_PCI_BAR4_REGION_INDEX,
	VFIO_PCI_BAR5_REGION_INDEX,
	VFIO_PCI_ROM_REGION_INDEX,
	VFIO_PCI_CONFIG_REGION_INDEX,
	VFIO_PCI_VGA_REGION_INDEX,
	VFIO_PCI_NUM_REGIONS = 9
};

enum {
	VFIO_PCI_INTX_IRQ_INDEX,
	VFIO_PCI_MSI_IRQ_INDEX,
	VFIO_PCI_MSIX_IRQ_INDEX,
	VFIO_PCI_ERR_IRQ_INDEX,
	VFIO_PCI_REQ_IRQ_INDEX,
	VFIO_PCI_NUM_IRQS
};

/* ---- Device cdev <-> iommufd ---- */
struct vfio_device_bind_iommufd {
	uint32_t argsz;
	uint32_t flags;
#define VFIO_DEVICE_BIND_FLAG_TOKEN (1 << 0)
	int32_t iommufd;
	uint32_t out_devid;
	IONEST_UAPI_U64 token_uuid_ptr;
};
#define VFIO_DEVICE_BIND_IOMMUFD IONEST_VFIO_IO(VFIO_BASE + 18)

struct vfio_device_attach_iommufd_pt {
	uint32_t argsz;
	uint32_t flags;
#define VFIO_DEVICE_ATTACH_PASID (1 << 0)
	uint32_t pt_id;
	uint32_t pasid;
};
#define VFIO_DEVICE_ATTACH_IOMMUFD_PT IONEST_VFIO_IO(VFIO_BASE + 19)

struct vfio_device_detach_iommufd_pt {
	uint32_t argsz;
	uint32_t flags;
#define VFIO_DEVICE_DETACH_PASID (1 << 0)
	uint32_t pasid;
};
#define VFIO_DEVICE_DETACH_IOMMUFD_PT IONEST_VFIO_IO(VFIO_BASE + 20)

/* ---- Sizes and offsets, pinned to the ABI ---- */
IONEST_UAPI_SIZE(vfio_info_cap_header, 8);
IONEST_UAPI_OFF(vfio_info_cap_header, version, 2);
IONEST_UAPI_OFF(vfio_info_cap_header, next, 4);
IONEST_UAPI_SIZE(vfio_iommu_type1_info, 24);
IONEST_UAPI_OFF(vfio_iommu_type1_info, flags, 4);
IONEST_UAPI_OFF(vfio_iommu_type1_info, iova_pgsizes, 8);
IONEST_UAPI_OFF(vfio_iommu_type1_info, cap_offset, 16);
IONEST_UAPI_OFF(vfio_iommu_type1_info, pad, 20);
IONEST_UAPI_SIZE(vfio_iova_range, 16);
IONEST_UAPI_OFF(vfio_iova_range, end, 8);
IONEST_UAPI_SIZE(vfio_iommu_type1_info_cap_iova_range, 16);
IONEST_UAPI_OFF(vfio_iommu_type1_info_cap_iova_range, nr_iovas, 8);
IONEST_UAPI_OFF(vfio_iommu_type1_info_cap_iova_range, reserved, 12);
IONEST_UAPI_OFF(vfio_iommu_type1_info_cap_iova_range, iova_ranges, 16);
IONEST_UAPI_SIZE(vfio_iommu_type1_info_cap_migration, 32);
IONEST_UAPI_OFF(vfio_iommu_type1_info_cap_migration, flags, 8);
IONEST_UAPI_OFF(vfio_iommu_type1_info_cap_migration, pgsize_bitmap, 16);
IONEST_UAPI_OFF(vfio_iommu_type1_info_cap_migration, max_dirty_bitmap_size, 24);
IONEST_UAPI_SIZE(vfio_iommu_type1_info_dma_avail, 12);
IONEST_UAPI_OFF(vfio_iommu_type1_info_dma_avail, avail, 8);
IONEST_UAPI_SIZE(vfio_iommu_type1_dma_map, 32);
IONEST_UAPI_OFF(vfio_iommu_type1_dma_map, flags, 4);
IONEST_UAPI_OFF(vfio_iommu_type1_dma_map, vaddr, 8);
IONEST_UAPI_OFF(vfio_iommu_type1_dma_map, iova, 16);
IONEST_UAPI_OFF(vfio_iommu_type1_dma_map, size, 24);
IONEST_UAPI_SIZE(vfio_iommu_type1_dma_unmap, 24);
IONEST_UAPI_OFF(vfio_iommu_type1_dma_unmap, flags, 4);
IONEST_UAPI_OFF(vfio_iommu_type1_dma_unmap, iova, 8);
IONEST_UAPI_OFF(vfio_iommu_type1_dma_unmap, size, 16);
IONEST_UAPI_OFF(vfio_iommu_type1_dma_unmap, data, 24);
IONEST_UAPI_SIZE(vfio_device_info, 24);
IONEST_UAPI_OFF(vfio_device_info, flags, 4);
IONEST_UAPI_OFF(vfio_device_info, num_regions, 8);
IONEST_UAPI_OFF(vfio_device_info, num_irqs, 12);
IONEST_UAPI_OFF(vfio_device_info, cap_offset, 16);
IONEST_UAPI_OFF(vfio_device_info, pad, 20);
IONEST_UAPI_SIZE(vfio_region_info, 32);
IONEST_UAPI_OFF(vfio_region_info, flags, 4);
IONEST_UAPI_OFF(vfio_region_info, index, 8);
IONEST_UAPI_OFF(vfio_region_info, cap_offset, 12);
IONEST_UAPI_OFF(vfio_region_info, size, 16);
IONEST_UAPI_OFF(vfio_region_info, offset, 24);
IONEST_UAPI_SIZE(vfio_irq_info, 16);
IONEST_UAPI_OFF(vfio_irq_info, flags, 4);
IONEST_UAPI_OFF(vfio_irq_info, index, 8);
IONEST_UAPI_OFF(vfio_irq_info, count, 12);
IONEST_UAPI_SIZE(vfio_device_bind_iommufd, 24);
IONEST_UAPI_OFF(vfio_device_bind_iommufd, flags, 4);
IONEST_UAPI_OFF(vfio_device_bind_iommufd, iommufd, 8);
IONEST_UAPI_OFF(vfio_device_bind_iommufd, out_devid, 12);
IONEST_UAPI_OFF(vfio_device_bind_iommufd, token_uuid_ptr, 16);
IONEST_UAPI_SIZE(vfio_device_attach_iommufd_pt, 16);
IONEST_UAPI_OFF(vfio_device_attach_iommufd_pt, flags, 4);
IONEST_UAPI_OFF(vfio_device_attach_iommufd_pt, pt_id, 8);
IONEST_UAPI_OFF(vfio_device_attach_iommufd_pt, pasid, 12);
IONEST_UAPI_SIZE(vfio_device_detach_iommufd_pt, 12);
IONEST_UAPI_OFF(vfio_device_detach_iommufd_pt, flags, 4);
IONEST_UAPI_OFF(vfio_device_detach_iommufd_pt, pasid, 8);

#endif
