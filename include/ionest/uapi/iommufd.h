/* SPDX-License-Identifier: MIT */
/*
 * The Linux iommufd (/dev/iommu) user ABI, written for ionest from the
 * documented ABI (see docs and the spec in iommufd-uapi.md): the same names,
 * numbers, layouts and rules, so programs written against Linux's
 * <linux/iommufd.h> compile unchanged against this file.
 *
 * Only <stdint.h> and <stddef.h> are needed. The include guard is the one
 * Linux's installed header uses, so a program that also includes the
 * kernel's header gets whichever comes first and no redefinitions.
 *
 * Every ioctl takes a pointer to a struct whose first u32 is the caller's
 * sizeof(struct). Errors (errno):
 *   ENOTTY     unknown ioctl number
 *   E2BIG      the struct is longer than known and the extra bytes are not 0
 *   EOPNOTSUPP a known field holds an unsupported value: unknown flag bits,
 *              unknown type, non-zero __reserved
 *   EINVAL     a known field holds a wrong value
 *   ENOENT     an ID (or IOVA) does not exist, or is of the wrong kind
 *   ENOMEM     out of memory
 *   EOVERFLOW  arithmetic overflow (iova + length, values >= ULONG_MAX)
 * and per-ioctl EBUSY, EEXIST, EADDRINUSE, ENOSPC, EMSGSIZE, EPERM, EFAULT.
 */
#ifndef _IOMMUFD_H
#define _IOMMUFD_H

#include "abi_check.h"

/* _IO(';', nr): no direction or size bits. */
#define IOMMUFD_TYPE (';')
#define IONEST_UAPI_IO(type, nr) ((unsigned long)(((type) << 8) | (nr)))

enum {
	IOMMUFD_CMD_BASE = 0x80,
	IOMMUFD_CMD_DESTROY = IOMMUFD_CMD_BASE,
	IOMMUFD_CMD_IOAS_ALLOC = 0x81,
	IOMMUFD_CMD_IOAS_ALLOW_IOVAS = 0x82,
	IOMMUFD_CMD_IOAS_COPY = 0x83,
	IOMMUFD_CMD_IOAS_IOVA_RANGES = 0x84,
	IOMMUFD_CMD_IOAS_MAP = 0x85,
	IOMMUFD_CMD_IOAS_UNMAP = 0x86,
	IOMMUFD_CMD_OPTION = 0x87,
	IOMMUFD_CMD_VFIO_IOAS = 0x88,
	IOMMUFD_CMD_HWPT_ALLOC = 0x89,
	IOMMUFD_CMD_GET_HW_INFO = 0x8a,
	IOMMUFD_CMD_HWPT_SET_DIRTY_TRACKING = 0x8b,
	IOMMUFD_CMD_HWPT_GET_DIRTY_BITMAP = 0x8c,
	IOMMUFD_CMD_HWPT_INVALIDATE = 0x8d,
	IOMMUFD_CMD_FAULT_QUEUE_ALLOC = 0x8e,
	IOMMUFD_CMD_IOAS_MAP_FILE = 0x8f,
	IOMMUFD_CMD_VIOMMU_ALLOC = 0x90,
	IOMMUFD_CMD_VDEVICE_ALLOC = 0x91,
	IOMMUFD_CMD_IOAS_CHANGE_PROCESS = 0x92,
	IOMMUFD_CMD_VEVENTQ_ALLOC = 0x93,
	IOMMUFD_CMD_HW_QUEUE_ALLOC = 0x94,
};

/* ---- IOMMU_DESTROY: destroy any object by ID ---- */
struct iommu_destroy {
	uint32_t size;
	uint32_t id;
};
#define IOMMU_DESTROY IONEST_UAPI_IO(IOMMUFD_TYPE, IOMMUFD_CMD_DESTROY)

/* ---- IOMMU_IOAS_ALLOC: a new I/O address space ---- */
struct iommu_ioas_alloc {
	uint32_t size;
	uint32_t flags; /* must be 0 */
	uint32_t out_ioas_id;
};
#define IOMMU_IOAS_ALLOC IONEST_UAPI_IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_ALLOC)

/* An inclusive IOVA range [start, last]. */
struct iommu_iova_range {
	IONEST_UAPI_U64 start;
	IONEST_UAPI_U64 last;
};

/* ---- IOMMU_IOAS_IOVA_RANGES: the usable IOVA ranges ----
 * Fills at most num_iovas ranges, always returns the total in num_iovas;
 * EMSGSIZE (struct still written back) if the array was too small. */
struct iommu_ioas_iova_ranges {
	uint32_t size;
	uint32_t ioas_id;
	uint32_t num_iovas;
	uint32_t __reserved;
	IONEST_UAPI_U64 allowed_iovas; /* struct iommu_iova_range * */
	IONEST_UAPI_U64 out_iova_alignment;
};
#define IOMMU_IOAS_IOVA_RANGES \
	IONEST_UAPI_IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_IOVA_RANGES)

/* ---- IOMMU_IOAS_ALLOW_IOVAS: restrict automatic IOVA allocation ---- */
struct iommu_ioas_allow_iovas {
	uint32_t size;
	uint32_t ioas_id;
	uint32_t num_iovas;
	uint32_t __reserved;
	IONEST_UAPI_U64 allowed_iovas; /* struct iommu_iova_range * */
};
#define IOMMU_IOAS_ALLOW_IOVAS \
	IONEST_UAPI_IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_ALLOW_IOVAS)

enum iommufd_ioas_map_flags {
	IOMMU_IOAS_MAP_FIXED_IOVA = 1 << 0,
	IOMMU_IOAS_MAP_WRITEABLE = 1 << 1,
	IOMMU_IOAS_MAP_READABLE = 1 << 2,
};

/* ---- IOMMU_IOAS_MAP: map user memory ---- */
struct iommu_ioas_map {
	uint32_t size;
	uint32_t flags;
	uint32_t ioas_id;
	uint32_t __reserved;
	IONEST_UAPI_U64 user_va;
	IONEST_UAPI_U64 length;
	IONEST_UAPI_U64 iova; /* in with FIXED_IOVA, else out */
};
#define IOMMU_IOAS_MAP IONEST_UAPI_IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_MAP)

/* ---- IOMMU_IOAS_MAP_FILE: map a memfd range ---- */
struct iommu_ioas_map_file {
	uint32_t size;
	uint32_t flags;
	uint32_t ioas_id;
	int32_t fd;
	IONEST_UAPI_U64 start; /* byte offset in the file */
	IONEST_UAPI_U64 length;
	IONEST_UAPI_U64 iova;
};
#define IOMMU_IOAS_MAP_FILE \
	IONEST_UAPI_IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_MAP_FILE)

/* ---- IOMMU_IOAS_COPY: map pages already in one IOAS into another ---- */
struct iommu_ioas_copy {
	uint32_t size;
	uint32_t flags;
	uint32_t dst_ioas_id;
	uint32_t src_ioas_id;
	IONEST_UAPI_U64 length;
	IONEST_UAPI_U64 dst_iova;
	IONEST_UAPI_U64 src_iova;
};
#define IOMMU_IOAS_COPY IONEST_UAPI_IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_COPY)

/* ---- IOMMU_IOAS_UNMAP: unmap whole areas ----
 * iova 0 and length UINT64_MAX unmap everything; length returns the bytes
 * unmapped. */
struct iommu_ioas_unmap {
	uint32_t size;
	uint32_t ioas_id;
	IONEST_UAPI_U64 iova;
	IONEST_UAPI_U64 length;
};
#define IOMMU_IOAS_UNMAP IONEST_UAPI_IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_UNMAP)

/* ---- IOMMU_OPTION ---- */
enum iommufd_option {
	IOMMU_OPTION_RLIMIT_MODE = 0,
	IOMMU_OPTION_HUGE_PAGES = 1,
};

enum iommufd_option_ops {
	IOMMU_OPTION_OP_SET = 0,
	IOMMU_OPTION_OP_GET = 1,
};

struct iommu_option {
	uint32_t size;
	uint32_t option_id;
	uint16_t op;
	uint16_t __reserved;
	uint32_t object_id;
	IONEST_UAPI_U64 val64;
};
#define IOMMU_OPTION IONEST_UAPI_IO(IOMMUFD_TYPE, IOMMUFD_CMD_OPTION)

/* ---- IOMMU_VFIO_IOAS: the IOAS the VFIO type1 compat ioctls use ---- */
enum iommufd_vfio_ioas_op {
	IOMMU_VFIO_IOAS_GET = 0,
	IOMMU_VFIO_IOAS_SET = 1,
	IOMMU_VFIO_IOAS_CLEAR = 2,
};

struct iommu_vfio_ioas {
	uint32_t size;
	uint32_t ioas_id;
	uint16_t op;
	uint16_t __reserved;
};
#define IOMMU_VFIO_IOAS IONEST_UAPI_IO(IOMMUFD_TYPE, IOMMUFD_CMD_VFIO_IOAS)

/* ---- IOMMU_HWPT_ALLOC ---- */
enum iommufd_hwpt_alloc_flags {
	IOMMU_HWPT_ALLOC_NEST_PARENT = 1 << 0,
	IOMMU_HWPT_ALLOC_DIRTY_TRACKING = 1 << 1,
	IOMMU_HWPT_FAULT_ID_VALID = 1 << 2,
	IOMMU_HWPT_ALLOC_PASID = 1 << 3,
};

enum iommu_hwpt_vtd_s1_flags {
	IOMMU_VTD_S1_SRE = 1 << 0,
	IOMMU_VTD_S1_EAFE = 1 << 1,
	IOMMU_VTD_S1_WPE = 1 << 2,
};

/* VT-d stage-1 (first-stage) table of a nested HWPT. */
struct iommu_hwpt_vtd_s1 {
	IONEST_UAPI_U64 flags;
	IONEST_UAPI_U64 pgtbl_addr; /* guest physical address of the root */
	uint32_t addr_width;
	uint32_t __reserved;
};

/* SMMUv3 nested HWPT: guest STE dwords 0 and 1 (little endian). */
struct iommu_hwpt_arm_smmuv3 {
	IONEST_UAPI_U64 ste[2];
};

/* AMD nested HWPT: guest device table entry (little endian). */
struct iommu_hwpt_amd_guest {
	IONEST_UAPI_U64 dte[4];
};

enum iommu_hwpt_data_type {
	IOMMU_HWPT_DATA_NONE = 0,
	IOMMU_HWPT_DATA_VTD_S1 = 1,
	IOMMU_HWPT_DATA_ARM_SMMUV3 = 2,
	IOMMU_HWPT_DATA_AMD_GUEST = 3,
};

struct iommu_hwpt_alloc {
	uint32_t size;
	uint32_t flags;
	uint32_t dev_id;
	uint32_t pt_id;
	uint32_t out_hwpt_id;
	uint32_t __reserved;
	uint32_t data_type;
	uint32_t data_len;
	IONEST_UAPI_U64 data_uptr;
	uint32_t fault_id;
	uint32_t __reserved2;
};
#define IOMMU_HWPT_ALLOC IONEST_UAPI_IO(IOMMUFD_TYPE, IOMMUFD_CMD_HWPT_ALLOC)

/* ---- IOMMU_GET_HW_INFO ---- */
enum iommu_hw_info_vtd_flags {
	IOMMU_HW_INFO_VTD_ERRATA_772415_SPR17 = 1 << 0,
};

struct iommu_hw_info_vtd {
	uint32_t flags;
	uint32_t __reserved;
	IONEST_UAPI_U64 cap_reg;
	IONEST_UAPI_U64 ecap_reg;
};

struct iommu_hw_info_arm_smmuv3 {
	uint32_t flags;
	uint32_t __reserved;
	uint32_t idr[6];
	uint32_t iidr;
	uint32_t aidr;
};

struct iommu_hw_info_tegra241_cmdqv {
	uint32_t flags;
	uint8_t version;
	uint8_t log2vcmdqs;
	uint8_t log2vsids;
	uint8_t __reserved;
};

struct iommu_hw_info_amd {
	IONEST_UAPI_U64 efr;
	IONEST_UAPI_U64 efr2;
};

enum iommu_hw_info_type {
	IOMMU_HW_INFO_TYPE_NONE = 0,
	IOMMU_HW_INFO_TYPE_DEFAULT = 0,
	IOMMU_HW_INFO_TYPE_INTEL_VTD = 1,
	IOMMU_HW_INFO_TYPE_ARM_SMMUV3 = 2,
	IOMMU_HW_INFO_TYPE_TEGRA241_CMDQV = 3,
	IOMMU_HW_INFO_TYPE_AMD = 4,
};

enum iommufd_hw_capabilities {
	IOMMU_HW_CAP_DIRTY_TRACKING = 1 << 0,
	IOMMU_HW_CAP_PCI_PASID_EXEC = 1 << 1,
	IOMMU_HW_CAP_PCI_PASID_PRIV = 1 << 2,
	IOMMU_HW_CAP_PCI_ATS_NOT_SUPPORTED = 1 << 3,
};

enum iommufd_hw_info_flags {
	IOMMU_HW_INFO_FLAG_INPUT_TYPE = 1 << 0,
};

struct iommu_hw_info {
	uint32_t size;
	uint32_t flags;
	uint32_t dev_id;
	uint32_t data_len;
	IONEST_UAPI_U64 data_uptr;
	union {
		uint32_t in_data_type;
		uint32_t out_data_type;
	};
	uint8_t out_max_pasid_log2;
	uint8_t __reserved[3];
	IONEST_UAPI_U64 out_capabilities;
};
#define IOMMU_GET_HW_INFO IONEST_UAPI_IO(IOMMUFD_TYPE, IOMMUFD_CMD_GET_HW_INFO)

/* ---- Dirty tracking ---- */
enum iommufd_hwpt_set_dirty_tracking_flags {
	IOMMU_HWPT_DIRTY_TRACKING_ENABLE = 1,
};

struct iommu_hwpt_set_dirty_tracking {
	uint32_t size;
	uint32_t flags;
	uint32_t hwpt_id;
	uint32_t __reserved;
};
#define IOMMU_HWPT_SET_DIRTY_TRACKING \
	IONEST_UAPI_IO(IOMMUFD_TYPE, IOMMUFD_CMD_HWPT_SET_DIRTY_TRACKING)

enum iommufd_hwpt_get_dirty_bitmap_flags {
	IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR = 1,
};

/* Bit n of the little-endian u64 array at data covers
 * [iova + n * page_size, + page_size); bits are only set, never cleared. */
struct iommu_hwpt_get_dirty_bitmap {
	uint32_t size;
	uint32_t hwpt_id;
	uint32_t flags;
	uint32_t __reserved;
	IONEST_UAPI_U64 iova;
	IONEST_UAPI_U64 length;
	IONEST_UAPI_U64 page_size;
	IONEST_UAPI_U64 data;
};
#define IOMMU_HWPT_GET_DIRTY_BITMAP \
	IONEST_UAPI_IO(IOMMUFD_TYPE, IOMMUFD_CMD_HWPT_GET_DIRTY_BITMAP)

/* ---- IOMMU_HWPT_INVALIDATE ---- */
enum iommu_hwpt_invalidate_data_type {
	IOMMU_HWPT_INVALIDATE_DATA_VTD_S1 = 0,
	IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3 = 1,
};

enum iommu_hwpt_vtd_s1_invalidate_flags {
	IOMMU_VTD_INV_FLAGS_LEAF = 1 << 0,
};

struct iommu_hwpt_vtd_s1_invalidate {
	IONEST_UAPI_U64 addr;
	IONEST_UAPI_U64 npages;
	uint32_t flags;
	uint32_t __reserved;
};

/* A raw SMMUv3 command-queue entry (little endian). */
struct iommu_viommu_arm_smmuv3_invalidate {
	IONEST_UAPI_U64 cmd[2];
};

struct iommu_hwpt_invalidate {
	uint32_t size;
	uint32_t hwpt_id;
	IONEST_UAPI_U64 data_uptr;
	uint32_t data_type;
	uint32_t entry_len;
	uint32_t entry_num;
	uint32_t __reserved;
};
#define IOMMU_HWPT_INVALIDATE \
	IONEST_UAPI_IO(IOMMUFD_TYPE, IOMMUFD_CMD_HWPT_INVALIDATE)

/* ---- Fault queue (I/O page faults) ---- */
enum iommu_hwpt_pgfault_flags {
	IOMMU_PGFAULT_FLAGS_PASID_VALID = 1 << 0,
	IOMMU_PGFAULT_FLAGS_LAST_PAGE = 1 << 1,
};

enum iommu_hwpt_pgfault_perm {
	IOMMU_PGFAULT_PERM_READ = 1 << 0,
	IOMMU_PGFAULT_PERM_WRITE = 1 << 1,
	IOMMU_PGFAULT_PERM_EXEC = 1 << 2,
	IOMMU_PGFAULT_PERM_PRIV = 1 << 3,
};

/* Read from a fault fd. */
struct iommu_hwpt_pgfault {
	uint32_t flags;
	uint32_t dev_id;
	uint32_t pasid;
	uint32_t grpid;
	uint32_t perm;
	uint32_t __reserved;
	IONEST_UAPI_U64 addr;
	uint32_t length;
	uint32_t cookie;
};

enum iommufd_page_response_code {
	IOMMUFD_PAGE_RESP_SUCCESS = 0,
	IOMMUFD_PAGE_RESP_INVALID = 1,
};

/* Written to a fault fd. */
struct iommu_hwpt_page_response {
	uint32_t cookie;
	uint32_t code;
};

struct iommu_fault_alloc {
	uint32_t size;
	uint32_t flags;
	uint32_t out_fault_id;
	uint32_t out_fault_fd;
};
#define IOMMU_FAULT_QUEUE_ALLOC \
	IONEST_UAPI_IO(IOMMUFD_TYPE, IOMMUFD_CMD_FAULT_QUEUE_ALLOC)

/* ---- vIOMMU, vDEVICE ---- */
enum iommu_viommu_type {
	IOMMU_VIOMMU_TYPE_DEFAULT = 0,
	IOMMU_VIOMMU_TYPE_ARM_SMMUV3 = 1,
	IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV = 2,
};

struct iommu_viommu_tegra241_cmdqv {
	IONEST_UAPI_U64 out_vintf_mmap_offset;
	IONEST_UAPI_U64 out_vintf_mmap_length;
};

struct iommu_viommu_alloc {
	uint32_t size;
	uint32_t flags;
	uint32_t type;
	uint32_t dev_id;
	uint32_t hwpt_id;
	uint32_t out_viommu_id;
	uint32_t data_len;
	uint32_t __reserved;
	IONEST_UAPI_U64 data_uptr;
};
#define IOMMU_VIOMMU_ALLOC \
	IONEST_UAPI_IO(IOMMUFD_TYPE, IOMMUFD_CMD_VIOMMU_ALLOC)

struct iommu_vdevice_alloc {
	uint32_t size;
	uint32_t viommu_id;
	uint32_t dev_id;
	uint32_t out_vdevice_id;
	IONEST_UAPI_U64 virt_id;
};
#define IOMMU_VDEVICE_ALLOC \
	IONEST_UAPI_IO(IOMMUFD_TYPE, IOMMUFD_CMD_VDEVICE_ALLOC)

struct iommu_ioas_change_process {
	uint32_t size;
	uint32_t __reserved;
};
#define IOMMU_IOAS_CHANGE_PROCESS \
	IONEST_UAPI_IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_CHANGE_PROCESS)

/* ---- vEVENTQ ---- */
enum iommu_veventq_flag {
	IOMMU_VEVENTQ_FLAG_LOST_EVENTS = (1U << 0),
};

struct iommufd_vevent_header {
	uint32_t flags;
	uint32_t sequence;
};

enum iommu_veventq_type {
	IOMMU_VEVENTQ_TYPE_DEFAULT = 0,
	IOMMU_VEVENTQ_TYPE_ARM_SMMUV3 = 1,
	IOMMU_VEVENTQ_TYPE_TEGRA241_CMDQV = 2,
};

/* A raw SMMUv3 event record; its StreamID field holds the vSID. */
struct iommu_vevent_arm_smmuv3 {
	IONEST_UAPI_U64 evt[4];
};

struct iommu_vevent_tegra241_cmdqv {
	IONEST_UAPI_U64 lvcmdq_err_map[2];
};

struct iommu_veventq_alloc {
	uint32_t size;
	uint32_t flags;
	uint32_t viommu_id;
	uint32_t type;
	uint32_t veventq_depth;
	uint32_t out_veventq_id;
	uint32_t out_veventq_fd;
	uint32_t __reserved;
};
#define IOMMU_VEVENTQ_ALLOC \
	IONEST_UAPI_IO(IOMMUFD_TYPE, IOMMUFD_CMD_VEVENTQ_ALLOC)

/* ---- HW queue ---- */
enum iommu_hw_queue_type {
	IOMMU_HW_QUEUE_TYPE_DEFAULT = 0,
	IOMMU_HW_QUEUE_TYPE_TEGRA241_CMDQV = 1,
};

/*
 * ionest extension, not in Linux: a command queue in guest memory that the
 * host consumes on a doorbell (ionest_hw_queue_doorbell() in
 * <ionest/ionest.h>), without one IOMMU_HWPT_INVALIDATE per command. The
 * number is far from Linux's types so that it never collides with one.
 *
 * Entries have the format of the vIOMMU's invalidation entries and go to the
 * same driver handler, so the command set and the error of each command are
 * those of IOMMU_HWPT_INVALIDATE on the vIOMMU: 16-byte struct
 * iommu_viommu_arm_smmuv3_invalidate on an ARM_SMMUV3 vIOMMU, 32-byte struct
 * ionest_mock_viommu_invalidate on a mock one (other vIOMMUs: EOPNOTSUPP).
 * The doorbell returns once the consumed commands completed, so a ring
 * needs no CMD_SYNC (refused with EIO, as in IOMMU_HWPT_INVALIDATE).
 *
 * [nesting_parent_iova, + length) is the ring, a guest physical range of
 * the vIOMMU's nest parent IOAS: length is a power of two, a whole number of
 * entries and at most 2^19 of them; nesting_parent_iova is aligned to
 * length (EINVAL otherwise). index counts from 0 up to 7 per vIOMMU (above:
 * EINVAL); queues are allocated in ascending order (EIO if index - 1 does
 * not exist, EEXIST if index does) and destroyed in descending order
 * (EBUSY). As for every HW queue, the range must be mapped (ENOENT), readable
 * (EPERM) and contiguous in host memory (EFAULT), and IOMMU_IOAS_UNMAP of
 * any area under it fails with EBUSY until the queue is destroyed.
 */
#define IOMMU_HW_QUEUE_TYPE_IONEST_CMDQ 0x10000u

struct iommu_hw_queue_alloc {
	uint32_t size;
	uint32_t flags;
	uint32_t viommu_id;
	uint32_t type;
	uint32_t index;
	uint32_t out_hw_queue_id;
	IONEST_UAPI_U64 nesting_parent_iova;
	IONEST_UAPI_U64 length;
};
#define IOMMU_HW_QUEUE_ALLOC \
	IONEST_UAPI_IO(IOMMUFD_TYPE, IOMMUFD_CMD_HW_QUEUE_ALLOC)

/* ---- Sizes and offsets, pinned to the ABI ---- */
IONEST_UAPI_SIZE(iommu_destroy, 8);
IONEST_UAPI_OFF(iommu_destroy, id, 4);
IONEST_UAPI_SIZE(iommu_ioas_alloc, 12);
IONEST_UAPI_OFF(iommu_ioas_alloc, flags, 4);
IONEST_UAPI_OFF(iommu_ioas_alloc, out_ioas_id, 8);
IONEST_UAPI_SIZE(iommu_iova_range, 16);
IONEST_UAPI_OFF(iommu_iova_range, last, 8);
IONEST_UAPI_SIZE(iommu_ioas_iova_ranges, 32);
IONEST_UAPI_OFF(iommu_ioas_iova_ranges, ioas_id, 4);
IONEST_UAPI_OFF(iommu_ioas_iova_ranges, num_iovas, 8);
IONEST_UAPI_OFF(iommu_ioas_iova_ranges, __reserved, 12);
IONEST_UAPI_OFF(iommu_ioas_iova_ranges, allowed_iovas, 16);
IONEST_UAPI_OFF(iommu_ioas_iova_ranges, out_iova_alignment, 24);
IONEST_UAPI_SIZE(iommu_ioas_allow_iovas, 24);
IONEST_UAPI_OFF(iommu_ioas_allow_iovas, ioas_id, 4);
IONEST_UAPI_OFF(iommu_ioas_allow_iovas, num_iovas, 8);
IONEST_UAPI_OFF(iommu_ioas_allow_iovas, __reserved, 12);
IONEST_UAPI_OFF(iommu_ioas_allow_iovas, allowed_iovas, 16);
IONEST_UAPI_SIZE(iommu_ioas_map, 40);
IONEST_UAPI_OFF(iommu_ioas_map, flags, 4);
IONEST_UAPI_OFF(iommu_ioas_map, ioas_id, 8);
IONEST_UAPI_OFF(iommu_ioas_map, __reserved, 12);
IONEST_UAPI_OFF(iommu_ioas_map, user_va, 16);
IONEST_UAPI_OFF(iommu_ioas_map, length, 24);
IONEST_UAPI_OFF(iommu_ioas_map, iova, 32);
IONEST_UAPI_SIZE(iommu_ioas_map_file, 40);
IONEST_UAPI_OFF(iommu_ioas_map_file, flags, 4);
IONEST_UAPI_OFF(iommu_ioas_map_file, ioas_id, 8);
IONEST_UAPI_OFF(iommu_ioas_map_file, fd, 12);
IONEST_UAPI_OFF(iommu_ioas_map_file, start, 16);
IONEST_UAPI_OFF(iommu_ioas_map_file, length, 24);
IONEST_UAPI_OFF(iommu_ioas_map_file, iova, 32);
IONEST_UAPI_SIZE(iommu_ioas_copy, 40);
IONEST_UAPI_OFF(iommu_ioas_copy, flags, 4);
IONEST_UAPI_OFF(iommu_ioas_copy, dst_ioas_id, 8);
IONEST_UAPI_OFF(iommu_ioas_copy, src_ioas_id, 12);
IONEST_UAPI_OFF(iommu_ioas_copy, length, 16);
IONEST_UAPI_OFF(iommu_ioas_copy, dst_iova, 24);
IONEST_UAPI_OFF(iommu_ioas_copy, src_iova, 32);
IONEST_UAPI_SIZE(iommu_ioas_unmap, 24);
IONEST_UAPI_OFF(iommu_ioas_unmap, ioas_id, 4);
IONEST_UAPI_OFF(iommu_ioas_unmap, iova, 8);
IONEST_UAPI_OFF(iommu_ioas_unmap, length, 16);
IONEST_UAPI_SIZE(iommu_option, 24);
IONEST_UAPI_OFF(iommu_option, option_id, 4);
IONEST_UAPI_OFF(iommu_option, op, 8);
IONEST_UAPI_OFF(iommu_option, __reserved, 10);
IONEST_UAPI_OFF(iommu_option, object_id, 12);
IONEST_UAPI_OFF(iommu_option, val64, 16);
IONEST_UAPI_SIZE(iommu_vfio_ioas, 12);
IONEST_UAPI_OFF(iommu_vfio_ioas, ioas_id, 4);
IONEST_UAPI_OFF(iommu_vfio_ioas, op, 8);
IONEST_UAPI_OFF(iommu_vfio_ioas, __reserved, 10);
IONEST_UAPI_SIZE(iommu_hwpt_alloc, 48);
IONEST_UAPI_OFF(iommu_hwpt_alloc, flags, 4);
IONEST_UAPI_OFF(iommu_hwpt_alloc, dev_id, 8);
IONEST_UAPI_OFF(iommu_hwpt_alloc, pt_id, 12);
IONEST_UAPI_OFF(iommu_hwpt_alloc, out_hwpt_id, 16);
IONEST_UAPI_OFF(iommu_hwpt_alloc, __reserved, 20);
IONEST_UAPI_OFF(iommu_hwpt_alloc, data_type, 24);
IONEST_UAPI_OFF(iommu_hwpt_alloc, data_len, 28);
IONEST_UAPI_OFF(iommu_hwpt_alloc, data_uptr, 32);
IONEST_UAPI_OFF(iommu_hwpt_alloc, fault_id, 40);
IONEST_UAPI_OFF(iommu_hwpt_alloc, __reserved2, 44);
IONEST_UAPI_SIZE(iommu_hwpt_vtd_s1, 24);
IONEST_UAPI_OFF(iommu_hwpt_vtd_s1, pgtbl_addr, 8);
IONEST_UAPI_OFF(iommu_hwpt_vtd_s1, addr_width, 16);
IONEST_UAPI_OFF(iommu_hwpt_vtd_s1, __reserved, 20);
IONEST_UAPI_SIZE(iommu_hwpt_arm_smmuv3, 16);
IONEST_UAPI_SIZE(iommu_hwpt_amd_guest, 32);
IONEST_UAPI_SIZE(iommu_hw_info_vtd, 24);
IONEST_UAPI_OFF(iommu_hw_info_vtd, __reserved, 4);
IONEST_UAPI_OFF(iommu_hw_info_vtd, cap_reg, 8);
IONEST_UAPI_OFF(iommu_hw_info_vtd, ecap_reg, 16);
IONEST_UAPI_SIZE(iommu_hw_info_arm_smmuv3, 40);
IONEST_UAPI_OFF(iommu_hw_info_arm_smmuv3, __reserved, 4);
IONEST_UAPI_OFF(iommu_hw_info_arm_smmuv3, idr, 8);
IONEST_UAPI_OFF(iommu_hw_info_arm_smmuv3, iidr, 32);
IONEST_UAPI_OFF(iommu_hw_info_arm_smmuv3, aidr, 36);
IONEST_UAPI_SIZE(iommu_hw_info_tegra241_cmdqv, 8);
IONEST_UAPI_OFF(iommu_hw_info_tegra241_cmdqv, version, 4);
IONEST_UAPI_OFF(iommu_hw_info_tegra241_cmdqv, log2vcmdqs, 5);
IONEST_UAPI_OFF(iommu_hw_info_tegra241_cmdqv, log2vsids, 6);
IONEST_UAPI_OFF(iommu_hw_info_tegra241_cmdqv, __reserved, 7);
IONEST_UAPI_SIZE(iommu_hw_info_amd, 16);
IONEST_UAPI_OFF(iommu_hw_info_amd, efr2, 8);
IONEST_UAPI_SIZE(iommu_hw_info, 40);
IONEST_UAPI_OFF(iommu_hw_info, flags, 4);
IONEST_UAPI_OFF(iommu_hw_info, dev_id, 8);
IONEST_UAPI_OFF(iommu_hw_info, data_len, 12);
IONEST_UAPI_OFF(iommu_hw_info, data_uptr, 16);
IONEST_UAPI_OFF(iommu_hw_info, in_data_type, 24);
IONEST_UAPI_OFF(iommu_hw_info, out_data_type, 24);
IONEST_UAPI_OFF(iommu_hw_info, out_max_pasid_log2, 28);
IONEST_UAPI_OFF(iommu_hw_info, __reserved, 29);
IONEST_UAPI_OFF(iommu_hw_info, out_capabilities, 32);
IONEST_UAPI_SIZE(iommu_hwpt_set_dirty_tracking, 16);
IONEST_UAPI_OFF(iommu_hwpt_set_dirty_tracking, flags, 4);
IONEST_UAPI_OFF(iommu_hwpt_set_dirty_tracking, hwpt_id, 8);
IONEST_UAPI_OFF(iommu_hwpt_set_dirty_tracking, __reserved, 12);
IONEST_UAPI_SIZE(iommu_hwpt_get_dirty_bitmap, 48);
IONEST_UAPI_OFF(iommu_hwpt_get_dirty_bitmap, hwpt_id, 4);
IONEST_UAPI_OFF(iommu_hwpt_get_dirty_bitmap, flags, 8);
IONEST_UAPI_OFF(iommu_hwpt_get_dirty_bitmap, __reserved, 12);
IONEST_UAPI_OFF(iommu_hwpt_get_dirty_bitmap, iova, 16);
IONEST_UAPI_OFF(iommu_hwpt_get_dirty_bitmap, length, 24);
IONEST_UAPI_OFF(iommu_hwpt_get_dirty_bitmap, page_size, 32);
IONEST_UAPI_OFF(iommu_hwpt_get_dirty_bitmap, data, 40);
IONEST_UAPI_SIZE(iommu_hwpt_vtd_s1_invalidate, 24);
IONEST_UAPI_OFF(iommu_hwpt_vtd_s1_invalidate, npages, 8);
IONEST_UAPI_OFF(iommu_hwpt_vtd_s1_invalidate, flags, 16);
IONEST_UAPI_OFF(iommu_hwpt_vtd_s1_invalidate, __reserved, 20);
IONEST_UAPI_SIZE(iommu_viommu_arm_smmuv3_invalidate, 16);
IONEST_UAPI_SIZE(iommu_hwpt_invalidate, 32);
IONEST_UAPI_OFF(iommu_hwpt_invalidate, hwpt_id, 4);
IONEST_UAPI_OFF(iommu_hwpt_invalidate, data_uptr, 8);
IONEST_UAPI_OFF(iommu_hwpt_invalidate, data_type, 16);
IONEST_UAPI_OFF(iommu_hwpt_invalidate, entry_len, 20);
IONEST_UAPI_OFF(iommu_hwpt_invalidate, entry_num, 24);
IONEST_UAPI_OFF(iommu_hwpt_invalidate, __reserved, 28);
IONEST_UAPI_SIZE(iommu_hwpt_pgfault, 40);
IONEST_UAPI_OFF(iommu_hwpt_pgfault, dev_id, 4);
IONEST_UAPI_OFF(iommu_hwpt_pgfault, pasid, 8);
IONEST_UAPI_OFF(iommu_hwpt_pgfault, grpid, 12);
IONEST_UAPI_OFF(iommu_hwpt_pgfault, perm, 16);
IONEST_UAPI_OFF(iommu_hwpt_pgfault, __reserved, 20);
IONEST_UAPI_OFF(iommu_hwpt_pgfault, addr, 24);
IONEST_UAPI_OFF(iommu_hwpt_pgfault, length, 32);
IONEST_UAPI_OFF(iommu_hwpt_pgfault, cookie, 36);
IONEST_UAPI_SIZE(iommu_hwpt_page_response, 8);
IONEST_UAPI_OFF(iommu_hwpt_page_response, code, 4);
IONEST_UAPI_SIZE(iommu_fault_alloc, 16);
IONEST_UAPI_OFF(iommu_fault_alloc, flags, 4);
IONEST_UAPI_OFF(iommu_fault_alloc, out_fault_id, 8);
IONEST_UAPI_OFF(iommu_fault_alloc, out_fault_fd, 12);
IONEST_UAPI_SIZE(iommu_viommu_tegra241_cmdqv, 16);
IONEST_UAPI_SIZE(iommu_viommu_alloc, 40);
IONEST_UAPI_OFF(iommu_viommu_alloc, flags, 4);
IONEST_UAPI_OFF(iommu_viommu_alloc, type, 8);
IONEST_UAPI_OFF(iommu_viommu_alloc, dev_id, 12);
IONEST_UAPI_OFF(iommu_viommu_alloc, hwpt_id, 16);
IONEST_UAPI_OFF(iommu_viommu_alloc, out_viommu_id, 20);
IONEST_UAPI_OFF(iommu_viommu_alloc, data_len, 24);
IONEST_UAPI_OFF(iommu_viommu_alloc, __reserved, 28);
IONEST_UAPI_OFF(iommu_viommu_alloc, data_uptr, 32);
IONEST_UAPI_SIZE(iommu_vdevice_alloc, 24);
IONEST_UAPI_OFF(iommu_vdevice_alloc, viommu_id, 4);
IONEST_UAPI_OFF(iommu_vdevice_alloc, dev_id, 8);
IONEST_UAPI_OFF(iommu_vdevice_alloc, out_vdevice_id, 12);
IONEST_UAPI_OFF(iommu_vdevice_alloc, virt_id, 16);
IONEST_UAPI_SIZE(iommu_ioas_change_process, 8);
IONEST_UAPI_OFF(iommu_ioas_change_process, __reserved, 4);
IONEST_UAPI_SIZE(iommufd_vevent_header, 8);
IONEST_UAPI_OFF(iommufd_vevent_header, sequence, 4);
IONEST_UAPI_SIZE(iommu_vevent_arm_smmuv3, 32);
IONEST_UAPI_SIZE(iommu_vevent_tegra241_cmdqv, 16);
IONEST_UAPI_SIZE(iommu_veventq_alloc, 32);
IONEST_UAPI_OFF(iommu_veventq_alloc, flags, 4);
IONEST_UAPI_OFF(iommu_veventq_alloc, viommu_id, 8);
IONEST_UAPI_OFF(iommu_veventq_alloc, type, 12);
IONEST_UAPI_OFF(iommu_veventq_alloc, veventq_depth, 16);
IONEST_UAPI_OFF(iommu_veventq_alloc, out_veventq_id, 20);
IONEST_UAPI_OFF(iommu_veventq_alloc, out_veventq_fd, 24);
IONEST_UAPI_OFF(iommu_veventq_alloc, __reserved, 28);
IONEST_UAPI_SIZE(iommu_hw_queue_alloc, 40);
IONEST_UAPI_OFF(iommu_hw_queue_alloc, flags, 4);
IONEST_UAPI_OFF(iommu_hw_queue_alloc, viommu_id, 8);
IONEST_UAPI_OFF(iommu_hw_queue_alloc, type, 12);
IONEST_UAPI_OFF(iommu_hw_queue_alloc, index, 16);
IONEST_UAPI_OFF(iommu_hw_queue_alloc, out_hw_queue_id, 20);
IONEST_UAPI_OFF(iommu_hw_queue_alloc, nesting_parent_iova, 24);
IONEST_UAPI_OFF(iommu_hw_queue_alloc, length, 32);

#endif
