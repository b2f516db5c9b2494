/* SPDX-License-Identifier: MIT */
/*
 * The emulated PCI function behind every /dev/vfio/devices/vfioN of an
 * ionest machine: its IDs and the register map of its BAR0 DMA engine
 * (docs/dma-engine.md). A program drives it through the VFIO regions
 * (pread/pwrite at the offsets VFIO_DEVICE_GET_REGION_INFO reports), as a
 * guest driver would drive a real device; every DMA goes through the
 * device's IOMMU. Little-endian registers; only <stdint.h> is needed.
 */
#ifndef IONEST_UAPI_DMA_ENGINE_H
#define IONEST_UAPI_DMA_ENGINE_H

/* ---- PCI identity (config space) ---- */
#define IONEST_PCI_VENDOR_ID 0xf1e5 /* not a PCI-SIG assigned vendor */
#define IONEST_PCI_DEVICE_ID 0x0001
#define IONEST_PCI_REVISION 0x01
#define IONEST_PCI_CLASS 0x088000 /* system peripheral, other */
#define IONEST_PCI_PCIE_CAP 0x40 /* PCI Express capability offset */
#define IONEST_PCI_EXT_CAP 0x100 /* first extended capability */

/* ---- BAR0 ---- */
#define IONEST_BAR0_SIZE 0x20000 /* 128 KiB, 32-bit non-prefetchable */
#define IONEST_DEVMEM_OFFSET 0x10000 /* device memory window ... */
#define IONEST_DEVMEM_SIZE 0x10000 /* ... of 64 KiB */
#define IONEST_DMA_MAX_LEN (16u << 20) /* longest transfer */

/* Registers: offset, width, access. */
#define IONEST_DMA_ID 0x00 /* 32 RO: IONEST_DMA_ID_VALUE */
#define IONEST_DMA_VERSION 0x04 /* 32 RO: 1 */
#define IONEST_DMA_SRC 0x08 /* 64 RW: source IOVA */
#define IONEST_DMA_DST 0x10 /* 64 RW: destination IOVA */
#define IONEST_DMA_LEN 0x18 /* 32 RW: bytes */
#define IONEST_DMA_DEV_OFF 0x1c /* 32 RW: offset in device memory */
#define IONEST_DMA_PASID 0x20 /* 32 RW: [19:0] PASID, [31] valid */
#define IONEST_DMA_CTRL 0x24 /* 32 RW: [1:0] mode */
#define IONEST_DMA_DOORBELL 0x28 /* 32 WO: START or RESUME; reads 0 */
#define IONEST_DMA_STATUS 0x2c /* 32 RW1C */
#define IONEST_DMA_FAULT_ADDR 0x30 /* 64 RO: IOVA that faulted */
#define IONEST_DMA_FAULT_CODE 0x38 /* 32 RO: the IOMMU model's code */
#define IONEST_DMA_FAULT_INFO 0x3c /* 32 RO: see below */
#define IONEST_DMA_DONE 0x40 /* 32 RO: bytes of this transfer done */
#define IONEST_DMA_PRQ_STATUS 0x44 /* 32 RO: page-request status */
#define IONEST_DMA_COMPLETED 0x48 /* 32 RO: transfers completed */
#define IONEST_DMA_FAULTS 0x4c /* 32 RO: transfers stopped by a fault */

#define IONEST_DMA_ID_VALUE 0x494f4e01u

#define IONEST_DMA_PASID_VALID (1u << 31)
#define IONEST_DMA_PASID_MASK 0xfffffu

/* CTRL[1:0]: what the transfer moves. */
#define IONEST_DMA_MODE_COPY 0 /* memory SRC -> memory DST */
#define IONEST_DMA_MODE_TO_DEV 1 /* memory SRC -> device memory DEV_OFF */
#define IONEST_DMA_MODE_FROM_DEV 2 /* device memory DEV_OFF -> memory DST */
#define IONEST_DMA_MODE_MASK 3u

#define IONEST_DMA_START 1 /* DOORBELL: a new transfer (DONE = 0) */
#define IONEST_DMA_RESUME 2 /* DOORBELL: continue a stopped one */

/* STATUS: BUSY while the transfer runs; one of DONE, FAULT, PAGE_REQ,
 * ERROR when it stopped (write 1s to clear them). */
#define IONEST_DMA_ST_BUSY (1u << 0)
#define IONEST_DMA_ST_DONE (1u << 1)
#define IONEST_DMA_ST_FAULT (1u << 2)
#define IONEST_DMA_ST_PAGE_REQ (1u << 3) /* waiting for a page response */
#define IONEST_DMA_ST_ERROR (1u << 4)
#define IONEST_DMA_ST_ERR_SHIFT 8 /* [15:8]: IONEST_DMA_ERR_* */
#define IONEST_DMA_ST_ERR_MASK (0xffu << IONEST_DMA_ST_ERR_SHIFT)

#define IONEST_DMA_ERR_MODE 1 /* reserved CTRL mode */
#define IONEST_DMA_ERR_LEN 2 /* 0, too long, or beyond device memory */
#define IONEST_DMA_ERR_PASID 3 /* PASID not enabled or too wide */
#define IONEST_DMA_ERR_BME 4 /* Bus Master Enable is clear */
#define IONEST_DMA_ERR_INTERNAL 5 /* the emulation failed (ENOMEM) */
#define IONEST_DMA_ERR_RESUME 6 /* RESUME with nothing stopped */
#define IONEST_DMA_ERR_DOORBELL 7 /* unknown doorbell value */
#define IONEST_DMA_ERR_ATS 8 /* ATS enabled but the IOMMU cannot serve */

/* FAULT_INFO */
#define IONEST_DMA_FI_STATUS_MASK 0xffu /* enum ionest_xlate_status */
#define IONEST_DMA_FI_WRITE (1u << 8) /* the access was a write */
#define IONEST_DMA_FI_STAGE2 (1u << 9) /* taken at stage 2 */
#define IONEST_DMA_FI_RECORDED (1u << 10) /* the IOMMU wrote a record */

/* PRQ_STATUS */
#define IONEST_DMA_PRQ_WAITING (1u << 0) /* stopped on a page request */
#define IONEST_DMA_PRQ_COUNT_SHIFT 16 /* [31:16] requests so far */

#endif
