/* SPDX-License-Identifier: MIT */
/*
 * ionest: a userspace /dev/iommu (iommufd) on software IOMMU models.
 *
 * The control API is the Linux ABI itself: open "/dev/iommu" or a device's
 * "/dev/vfio/devices/vfioN" of a machine with ionest_open(), then use
 * ionest_ioctl() with the structs and numbers of <ionest/uapi/iommufd.h> and
 * <ionest/uapi/vfio.h> (the same as Linux's), ionest_read()/ionest_write()
 * on fault and vEVENTQ fds, and ionest_close(). Errors are -1 with errno,
 * exactly as the kernel reports them.
 *
 * What Linux has no ABI for is here too: building a machine (IOMMU
 * instances and PCI functions behind them) and making its devices do DMA.
 *
 * Address model: host physical address == virtual address of this process.
 * Memory mapped into an IOAS with IOMMU_IOAS_MAP must stay mapped (and must
 * not be remapped) while it is mapped in the IOAS; IOMMU_IOAS_MAP_FILE
 * keeps its own mapping of the file.
 */
#ifndef IONEST_H
#define IONEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <ionest/export.h>
#include <ionest/hw.h>
#include <ionest/trace.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ionest_machine;

/* ---- Machines ---- */
IONEST_API struct ionest_machine *ionest_machine_new(void);
/* Frees the IOMMUs and devices. Every fd of the machine must be closed. */
IONEST_API void ionest_machine_free(struct ionest_machine *m);

/*
 * Add an IOMMU instance, bound to the built-in driver for
 * ionest_hw_model(hw). On success the machine owns @hw; on failure the
 * caller still does. -ENODEV: no driver for that model; -EEXIST: the name is
 * taken; -EINVAL: bad name (1..31 characters).
 */
IONEST_API int ionest_machine_add_iommu(struct ionest_machine *m,
					const char *name, struct ionest_hw *hw);

/* A PCI function behind one of the machine's IOMMUs. */
struct ionest_device_config {
	const char *name; /* optional; copied */
	const char *iommu; /* name given to ionest_machine_add_iommu() */
	uint32_t rid; /* bus << 8 | devfn: the SMMUv3 StreamID / VT-d
		       * source-id */
	uint8_t pasid_bits; /* PCI PASID capability width, 0 = none (<= 20) */
	bool ats; /* ATS capability */
	bool pri; /* PRI capability */
	bool pasid_exec; /* PASID capability: Execute Permission Supported */
	bool pasid_priv; /* PASID capability: Privileged Mode Supported */
};

/*
 * Returns N >= 0: the device is /dev/vfio/devices/vfioN of this machine.
 * -ENOENT: no such IOMMU; -EEXIST: that RID is taken on that IOMMU;
 * -EINVAL: bad config (the driver refused the RID, pasid_bits > 20).
 */
IONEST_API int
ionest_machine_add_device(struct ionest_machine *m,
			  const struct ionest_device_config *cfg);
/* The hardware model of IOMMU @name (owned by the machine), or NULL. */
IONEST_API struct ionest_hw *ionest_machine_iommu(struct ionest_machine *m,
						  const char *name);

/*
 * How the nested HWPTs of an IOMMU instance are realised (DESIGN.md,
 * "Hardware nesting and software nesting"): HW, the model walks the guest's
 * stage 1 through the parent's stage 2; SHADOW, the driver programs a
 * single-stage table composed from both and kept up to date on
 * invalidation; AUTO (the default), HW where the model can nest, else
 * SHADOW. The guest and the VMM see the same ABI either way.
 */
enum ionest_nesting {
	IONEST_NESTING_AUTO = 0,
	IONEST_NESTING_HW = 1,
	IONEST_NESTING_SHADOW = 2,
};
/*
 * Set the nesting mode of IOMMU @iommu. -ENOENT: no such IOMMU; -EINVAL:
 * not a mode; -EOPNOTSUPP: HW on a part that cannot nest; -EBUSY: the
 * instance has nested HWPTs (the mode is chosen before the first).
 */
IONEST_API int ionest_machine_set_nesting(struct ionest_machine *m,
					  const char *iommu,
					  enum ionest_nesting mode);
/* The mode in effect (AUTO resolved: HW or SHADOW), or -ENOENT. */
IONEST_API int ionest_machine_nesting(struct ionest_machine *m,
				      const char *iommu);

/*
 * Build a machine from a machine file (YAML; docs/machine-files.md): its
 * IOMMUs in file order and its devices so that device N is
 * /dev/vfio/devices/vfioN. Returns NULL with errno EINVAL (the file is
 * wrong), ENODEV (no driver for a model in this build), ENOMEM, or the
 * error of opening the file; if @err is not NULL it receives "FILE:LINE:
 * FIELD: what went wrong" (at most @errlen bytes, NUL-terminated).
 */
IONEST_API struct ionest_machine *ionest_machine_load(const char *path,
						      char *err, size_t errlen);
/* The same with the file named by $IONEST_CONFIG (ENOENT when unset). */
IONEST_API struct ionest_machine *ionest_machine_load_env(char *err,
							  size_t errlen);

/* ---- Syscall-shaped entry points; fds are real file descriptors ---- */
/*
 * Open "/dev/iommu" (an iommufd), "/dev/vfio/vfio" (the same, with VFIO
 * compatible page accounting) or "/dev/vfio/devices/vfioN" (a device cdev)
 * of machine @m. @flags: O_CLOEXEC and O_NONBLOCK are honoured, the access
 * mode is ignored. The fd is a real descriptor (an eventfd), so poll(2),
 * dup(2) and exec(2) rules apply to it; close it with ionest_close().
 * Returns -1 with errno ENOENT (no such path) or ENOMEM/EMFILE.
 */
IONEST_API int ionest_open(struct ionest_machine *m, const char *path,
			   int flags);
/* -1/EBADF if @fd is not an open ionest fd. */
IONEST_API int ionest_close(int fd);
/*
 * As ioctl(2) on the fd: returns >= 0, or -1 with errno. An fd that is not
 * an ionest fd gives EBADF (ionest never forwards to the real ioctl).
 * Integer arguments (VFIO_CHECK_EXTENSION, VFIO_SET_IOMMU) are passed as
 * (void *)(uintptr_t)value, as with the real syscall.
 */
IONEST_API int ionest_ioctl(int fd, unsigned long request, void *arg);
/* Fault and vEVENTQ fds; EINVAL on fds that are not readable/writable. */
IONEST_API ssize_t ionest_read(int fd, void *buf, size_t count);
IONEST_API ssize_t ionest_write(int fd, const void *buf, size_t count);
/*
 * pread(2)/pwrite(2)/lseek(2) on a VFIO device fd: region access at the
 * region offsets VFIO_DEVICE_GET_REGION_INFO reports (index << 40), as
 * vfio-pci; read/write use and advance the file position, shared by dup'd
 * fds. ESPIPE on fds without a position (iommufd, fault, vEVENTQ).
 */
IONEST_API ssize_t ionest_pread(int fd, void *buf, size_t count, off_t offset);
IONEST_API ssize_t ionest_pwrite(int fd, const void *buf, size_t count,
				 off_t offset);
IONEST_API off_t ionest_lseek(int fd, off_t offset, int whence);

/* ---- Device DMA ---- */
#define IONEST_NO_PASID 0xffffffffu
#define IONEST_DMA_TO_MEM 1 /* the device writes memory (from @buf) */
#define IONEST_DMA_FROM_MEM 2 /* the device reads memory (into @buf) */
/* OR into @dir: the device uses ATS. Each page is looked up in the
 * device's TLB (ATC); a miss sends an ATS translation request to the
 * IOMMU and caches the completion, and the access then uses the
 * translated address without the IOMMU. The IOMMU driver's device-TLB
 * invalidations (on unmap, detach, replace) empty the ATC. A device
 * without ATS, or whose IOMMU cannot serve ATS, gets -EINVAL. A
 * translation completion without the access's permission fails the
 * access with -EFAULT (fault code 0 unless the IOMMU recorded one). */
#define IONEST_DMA_ATS 0x100

/*
 * Device @dev does DMA of @len bytes at @iova (with @pasid, or
 * IONEST_NO_PASID) through its IOMMU, copying from/to @buf. Each page is
 * translated once. Returns 0, or:
 *   -EFAULT  the IOMMU faulted an access (nothing beyond it was copied;
 *            what came before may have been): ionest_device_last_fault()
 *            has it, and the hardware reported it its own way (event
 *            record, fault record, counters)
 *   -EAGAIN  a PRI page request was queued or the access stalled: retry
 *            after the response
 *   -EINVAL  bad arguments (unknown device, @buf NULL with @len, bad @dir,
 *            @pasid beyond the device's PASID width)
 */
IONEST_API int ionest_device_dma(struct ionest_machine *m, int dev,
				 uint32_t pasid, uint64_t iova, void *buf,
				 size_t len, int dir);

struct ionest_dma_fault {
	uint64_t count; /* faults of this device so far */
	uint64_t iova; /* the access that faulted */
	uint64_t fault_addr; /* IPA/GPA of a stage-2 fault, else iova */
	uint32_t pasid; /* or IONEST_NO_PASID */
	uint32_t access; /* IONEST_ACCESS_* */
	uint32_t status; /* enum ionest_xlate_status */
	uint32_t code; /* the model's code: SMMUv3 event type, VT-d fault
			* reason, IONEST_MOCK_FAULT_* */
	bool recorded; /* the hardware wrote an event/fault record */
	bool stage2;
};
/* The last fault of device @dev; -ENOENT if it never faulted. */
IONEST_API int ionest_device_last_fault(struct ionest_machine *m, int dev,
					struct ionest_dma_fault *out);

/* ---- MSIs: the machine's interrupt controller ---- */
/*
 * A device signals an MSI by a DMA write (IONEST_DMA_TO_MEM) of one
 * aligned 32-bit word that reaches the platform's interrupt controller
 * instead of memory:
 *  - behind SMMUv3, through the IOMMU like any write: to the doorbell page
 *    the host maps at the start of the software MSI window
 *    (IOMMU_RESV_SW_MSI, 0x8000000), in the paging domain behind the
 *    device, so a device on a nested HWPT reaches it through its stage 1
 *    (the guest maps its MSI address to that GPA) and stage 2;
 *  - behind VT-d, untranslated: a write without PASID to the interrupt
 *    range 0xFEE00000..0xFEEFFFFF (IOMMU_RESV_MSI) is an interrupt request
 *    whatever the translation mode (nested too).
 * Such a write is delivered here and stores nothing; a write of another
 * size or alignment there is dropped (a register ignores it). A read
 * without PASID of the VT-d interrupt range fails (-EFAULT, not recorded
 * by the IOMMU: the platform refuses it).
 */
struct ionest_msi {
	uint64_t count; /* MSIs of the machine so far, this one included */
	uint64_t addr; /* the address the device wrote (its MSI address) */
	uint32_t offset; /* in the doorbell page (VT-d: addr & 0xfff; the
			  * destination is in addr) */
	uint32_t data; /* the message data */
	uint32_t pasid; /* of the write, or IONEST_NO_PASID */
	int dev; /* the writer: N of /dev/vfio/devices/vfioN */
};
/* Called in the thread of the DMA, after the MSI is counted, with no
 * ionest lock held (it may call ionest functions, DMA included). */
typedef void (*ionest_msi_fn)(void *ctx, const struct ionest_msi *msi);
/* Install the machine's MSI handler (NULL: none). -EINVAL: @m is NULL. */
IONEST_API int ionest_machine_set_msi_handler(struct ionest_machine *m,
					      ionest_msi_fn fn, void *ctx);
/* MSIs delivered so far by device @dev, or by every device for @dev -1;
 * 0 for a device that does not exist. */
IONEST_API uint64_t ionest_machine_msi_count(struct ionest_machine *m, int dev);
/* The machine's last MSI; -ENOENT if there was none, -EINVAL: NULL. */
IONEST_API int ionest_machine_last_msi(struct ionest_machine *m,
				       struct ionest_msi *out);

/* ---- Command queues in guest memory (an ionest extension) ---- */
/*
 * IOMMU_HW_QUEUE_ALLOC of type IOMMU_HW_QUEUE_TYPE_IONEST_CMDQ (rules in
 * <ionest/uapi/iommufd.h>) makes a ring of 2^N entries in guest memory
 * that the host consumes when the guest rings a doorbell, the way an SMMUv3
 * consumes its command queue: no ioctl per command. The entries are the
 * vIOMMU's invalidation entries (IOMMU_HWPT_INVALIDATE on the vIOMMU) with
 * the same effects and errors. The registers are those of an SMMUv3 queue:
 * PROD, written by the guest, and CONS, advanced by the host, each an entry
 * index in bits [N-1:0] and a wrap flag in bit N that flips each time the
 * index passes the end of the ring. Empty: PROD == CONS; full: only the
 * wrap flags differ. Both start at 0.
 *
 * These calls stand for the guest's register accesses. They take the
 * iommufd and the HW queue's ID; -1 with errno EBADF if @fd is not an
 * ionest iommufd, ENOENT if @hw_queue_id is not a HW queue of it.
 */
#ifndef IOMMU_HW_QUEUE_TYPE_IONEST_CMDQ
#define IOMMU_HW_QUEUE_TYPE_IONEST_CMDQ 0x10000u /* as in uapi/iommufd.h */
#endif

struct ionest_hw_queue_regs {
	uint32_t prod; /* PROD: index | wrap << log2_entries */
	uint32_t cons; /* CONS: index | wrap << log2_entries */
	/* 0, or the (positive) errno of the entry at CONS, which halted the
	 * queue: what IOMMU_HWPT_INVALIDATE gives for that entry. */
	uint32_t err;
	uint32_t log2_entries; /* N */
};

/*
 * The guest has written the entries from CONS up to (not including) @prod
 * and writes @prod to PROD. The host consumes them in order, in batches,
 * and returns when the queue is idle: 0 if CONS reached PROD; -1 with errno
 * EIO if the queue halted at an entry that failed (ERR holds its error,
 * CONS points at it, the entries before it took effect, those after it were
 * not looked at). A halted queue consumes nothing until
 * ionest_hw_queue_ack(); a doorbell then only moves PROD (EIO again).
 * EINVAL: @prod has bits above the wrap flag, or is more than a ring ahead
 * of CONS; the write is ignored.
 */
IONEST_API int ionest_hw_queue_doorbell(int fd, uint32_t hw_queue_id,
					uint32_t prod);
/* Read the registers into @regs (EINVAL if NULL). */
IONEST_API int ionest_hw_queue_read_regs(int fd, uint32_t hw_queue_id,
					 struct ionest_hw_queue_regs *regs);

/* Step CONS over the entry that failed (as if it had been made a no-op). */
#define IONEST_HW_QUEUE_ACK_SKIP (1u << 0)
/*
 * Acknowledge the error of a halted queue (as an SMMUv3 driver acknowledges
 * CMDQ_ERR through GERRORN): ERR is cleared and the queue resumes at CONS,
 * so the guest rewrites the bad entry first, or passes
 * IONEST_HW_QUEUE_ACK_SKIP to resume after it. Then the entries up to PROD
 * are consumed and the return is the doorbell's. EINVAL: the queue is not
 * halted; EOPNOTSUPP: unknown @flags.
 */
IONEST_API int ionest_hw_queue_ack(int fd, uint32_t hw_queue_id,
				   uint32_t flags);

/* ---- Page pinning accounting ---- */
/*
 * Pages mapped into an IOAS that has a domain are accounted (pinned) as
 * Linux does, per user or per process (IOMMU_OPTION_RLIMIT_MODE). The limit
 * is RLIMIT_MEMLOCK unless the process has CAP_IPC_LOCK, as in Linux.
 * ionest_set_pin_limit() overrides it: a number of bytes, UINT64_MAX for no
 * limit, 0 to return to the Linux rule.
 */
IONEST_API void ionest_set_pin_limit(uint64_t bytes);
/* Pages currently accounted: per user and per process. */
IONEST_API void ionest_pinned_pages(uint64_t *user, uint64_t *mm);

/* ---- The mock IOMMU ---- */
/*
 * A model with no registers whose driver manages VT-d second-stage format
 * tables and translates DMA by walking them, with an IOTLB in front (4096
 * entries, counters "translate", "tlb_hit", "tlb_miss", "walk", "fault"
 * under its ionest_hw_name()): exercises the whole iommufd core without a
 * real hardware model. It has no fault queue of its own: faults are
 * counted, traced (hw_translate_fault) and returned; those of a nested
 * domain made on a mock vIOMMU also go to its vEVENTQ, and a translation
 * fault of a PRI device on a HWPT with a fault queue becomes a page request
 * ("page_request" counter; the answer reaches the handler of
 * ionest_hw_set_page_resp_handler() with PRG index 0). Fields use the
 * IONEST_CFG() convention of <ionest/hw.h> where noted (0 = default).
 */
struct ionest_mock_config {
	uint64_t aperture_start, aperture_last; /* both 0: [0, 2^48 - 1] */
	uint64_t pgsize_bitmap; /* 0: 4K | 2M | 1G */
	uint64_t msi_start, msi_last; /* SW MSI window, both 0: the SMMU
				       * default [0x8000000, 0x80fffff] */
	uint8_t no_msi; /* non-zero: no MSI window */
	uint8_t pasid_bits; /* IONEST_CFG(v); default 20 */
	uint8_t dirty; /* IONEST_CFG(0/1): dirty tracking, default 1 */
	uint8_t ats; /* IONEST_CFG(0/1): ATS, default 1 */
	/* Non-zero: the guest owns the PASID table in nested mode (as with
	 * SMMUv3 CD tables): a PASID without an attachment of its own
	 * translates, and page-faults, through the RID's nested HWPT. */
	uint8_t user_pasid_table;
	uint8_t reserved[3];
};
IONEST_API struct ionest_hw *
ionest_mock_iommu_new(const struct ionest_mock_config *cfg);

/* Fault codes of the mock (ionest_xlate_res.fault). */
enum ionest_mock_fault {
	IONEST_MOCK_FAULT_NONE = 0,
	IONEST_MOCK_FAULT_NO_DEVICE = 1, /* no device with that RID */
	IONEST_MOCK_FAULT_BLOCKED = 2, /* RID/PASID attached to nothing */
	IONEST_MOCK_FAULT_BAD_PASID = 3, /* PASID beyond the device's */
	IONEST_MOCK_FAULT_TRANSLATION = 4, /* not mapped / outside aperture */
	IONEST_MOCK_FAULT_PERMISSION = 5, /* mapped without that access */
	IONEST_MOCK_FAULT_TABLE = 6, /* malformed table */
};

/*
 * Nesting on the mock: its vendor data types, in the role of Linux's
 * selftest types (values outside every real driver's).
 *
 * IOMMU_HWPT_ALLOC with pt_id = a NEST_PARENT HWPT or a mock vIOMMU,
 * data_type IONEST_MOCK_HWPT_DATA: the guest's stage 1 is an x86-64
 * 4-level table (48-bit input, 4K/2M/1G leaves, P/RW bits) rooted at the
 * guest physical address s1_root. Every table and every output address is
 * a GPA translated by the parent (stage 2); a GPA the parent does not map
 * is a fault "at stage 2" (ionest_dma_fault.stage2, fault_addr = the GPA).
 * Unknown flags or non-zero __reserved: EOPNOTSUPP; s1_root not 4K
 * aligned or beyond 52 bits: EINVAL. A nested HWPT made on a vIOMMU can
 * only be attached to a device with a vDEVICE there (ENOENT otherwise).
 */
#define IONEST_MOCK_HWPT_DATA 0x6d6b0001u /* iommu_hwpt_data_type */
#define IONEST_MOCK_NESTED_BYPASS (1u << 0) /* no stage 1: GPA = IOVA */
struct ionest_mock_hwpt_nested {
	uint64_t s1_root;
	uint32_t flags; /* IONEST_MOCK_NESTED_* */
	uint32_t __reserved;
};

/*
 * Translations through a nested HWPT stay in the IOTLB until invalidated
 * (a stage-2 change, i.e. a parent unmap, drops them too).
 * IOMMU_HWPT_INVALIDATE on the nested HWPT, data_type
 * IONEST_MOCK_INVALIDATE_NESTED, entries of at least 20 bytes: [iova,
 * iova + length) (4K aligned, length > 0), or everything with
 * IONEST_MOCK_INVALIDATE_ALL. Unknown flags, non-zero __reserved:
 * EOPNOTSUPP; a bad range: EINVAL.
 */
#define IONEST_MOCK_INVALIDATE_NESTED 0x6d6b0002u
#define IONEST_MOCK_INVALIDATE_ALL (1u << 0)
struct ionest_mock_invalidate {
	uint64_t iova;
	uint64_t length;
	uint32_t flags; /* IONEST_MOCK_INVALIDATE_ALL */
	uint32_t __reserved;
};

/*
 * IOMMU_VIOMMU_ALLOC type IONEST_MOCK_VIOMMU; optional data: flags (must be
 * 0, else EOPNOTSUPP) in, out_vmid out (the stage-2 tag, shared by every
 * vIOMMU and nested HWPT of one parent). vDEVICE virt_ids are 32-bit
 * (EINVAL beyond). IOMMU_HWPT_INVALIDATE on the vIOMMU, data_type
 * IONEST_MOCK_INVALIDATE_VIOMMU, entries of at least 28 bytes: the stage-1
 * translations of the device with vDEVICE virt_id (EINVAL if none), range
 * and flags as above. Faults through its nested HWPTs of a device with a
 * vDEVICE are reported to its vEVENTQ of type IONEST_MOCK_VEVENTQ.
 */
#define IONEST_MOCK_VIOMMU 0x6d6b0003u /* iommu_viommu_type */
struct ionest_mock_viommu_data {
	uint32_t flags;
	uint32_t out_vmid;
};

#define IONEST_MOCK_INVALIDATE_VIOMMU 0x6d6b0004u
struct ionest_mock_viommu_invalidate {
	uint64_t virt_id;
	uint64_t iova;
	uint64_t length;
	uint32_t flags; /* IONEST_MOCK_INVALIDATE_ALL */
	uint32_t __reserved;
};

#define IONEST_MOCK_VEVENTQ 0x6d6b0005u /* iommu_veventq_type */
#define IONEST_MOCK_VEVENT_STAGE2 (1u << 0)
struct ionest_mock_vevent {
	uint64_t virt_id; /* the device's vDEVICE */
	uint64_t iova;
	uint64_t fault_addr; /* the GPA of a stage-2 fault, else iova */
	uint32_t pasid; /* or IONEST_NO_PASID */
	uint32_t code; /* IONEST_MOCK_FAULT_* */
	uint32_t flags; /* IONEST_MOCK_VEVENT_* */
	uint32_t access; /* IONEST_ACCESS_* */
};

#ifdef __cplusplus
}
#endif
#endif
