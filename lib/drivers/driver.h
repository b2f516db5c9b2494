/* SPDX-License-Identifier: MIT */
/*
 * The host IOMMU driver interface: what the iommufd core (lib/core) asks of
 * the driver of one IOMMU instance, in the spirit of Linux's iommu_ops and
 * iommu_domain_ops. A driver programs its hardware model ONLY through the
 * model's own interface (registers, in-memory tables, queues); the core
 * never touches the hardware.
 *
 * Objects:
 *   struct iommu_driver  static: the model name it drives and its ops
 *   struct iommu_inst    one IOMMU instance (an ionest_hw) bound to a driver
 *   struct iommu_dev     one device (RID) behind an instance, after probe
 *   struct iommu_domain  an I/O page table the driver owns (paging,
 *                        blocked, nested: a user-owned stage 1 over a
 *                        NEST_PARENT paging domain)
 *   struct iommu_viommu  one physical IOMMU's slice for one VM: virtual
 *                        IDs, invalidation queue, events (optional)
 *   struct iommu_vdevice a device's virtual ID on a vIOMMU (vSID, vRID)
 *
 * Calling rules:
 *   - Every function returns 0 or a negative errno.
 *   - The core serialises calls per device and per domain (they belong to
 *     one iommufd context whose lock is held); calls for different contexts
 *     may reach one instance concurrently, so instance-wide state (command
 *     queues, stream tables) is protected by the driver, e.g. with
 *     inst->lock.
 *   - Unmap and iotlb_sync cannot fail: a driver reserves what they need
 *     at map time or has an allocation-free fallback (see mock.c).
 *   - Device DMA (the translate path) runs concurrently with everything.
 *     A driver never frees a table, a domain or a per-device attachment
 *     record that DMA may still be reading until inflight_wait() returned
 *     (lib/drivers/inflight.h): "once unmap or iotlb_sync returns, no DMA
 *     uses the old translation".
 */
#ifndef IONEST_DRIVERS_DRIVER_H
#define IONEST_DRIVERS_DRIVER_H

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <ionest/hw.h>

#include "hw/hw.h"
#include "pt/pt.h"

struct iommu_inst;
struct iommu_dev;
struct iommu_domain;
struct iommu_user_data_array;
struct iommufd_device;
struct iommufd_viommu;

/* PASID value meaning "the RID itself" (no PASID prefix). */
#define IOMMU_NO_PASID 0xffffffffu

/* ---- Instance ---- */
struct iommu_inst {
	const struct iommu_driver *drv;
	struct ionest_hw *hw; /* owned by the instance */
	char name[32]; /* the machine's name for it */
	pthread_mutex_t lock; /* for the driver's instance-wide state */
	void *priv; /* driver state */
	/* Set by init when the guest owns the PASID table in nested mode
	 * (SMMUv3: the CD table a nested STE points at): page requests with
	 * a PASID that has no attachment of its own go to the RID's nested
	 * domain (iommu_report_fault). */
	bool user_pasid_table;
	/* IONEST_NESTING_HW or _SHADOW (AUTO resolved when set); fixed
	 * while the instance has nested domains (atomic count). */
	uint8_t nesting;
	uint32_t nested_domains;
};

/* ---- Device ---- */
struct iommu_dev {
	struct iommu_inst *inst;
	/* From the machine (the PCI function's capabilities). */
	uint32_t rid; /* SMMUv3 StreamID / VT-d source-id (bus << 8 | devfn) */
	uint8_t pasid_bits; /* PCI PASID capability width, 0 = none */
	bool ats, pri, pasid_exec, pasid_priv;
	/* Filled in by probe_device. */
	uint32_t max_pasids; /* PASIDs usable (device and IOMMU), 0 = none */
	bool ats_usable; /* ATS can be enabled for this device */
	bool dirty_capable; /* IOMMU_CAP_DIRTY_TRACKING */
	bool coherent; /* IOMMU_CAP_CACHE_COHERENCY (required to bind) */
	void *priv; /* driver state */
	/* Set by iommu_dev_probe: the DMA path's translate without the
	 * pointer chase through inst -> drv / hw -> ops. */
	int (*drv_translate)(struct iommu_dev *dev,
			     const struct ionest_xlate_req *req,
			     struct ionest_xlate_res *res);
	int (*hw_translate)(struct ionest_hw *hw,
			    const struct ionest_xlate_req *req,
			    struct ionest_xlate_res *res);
	struct ionest_hw *hw;
	/* Set by the machine for a device with ATS (NULL otherwise): hand
	 * a device-TLB invalidation to the device's ATC (lib/dev/atc.h).
	 * @ssid_valid false: the request without PASID; @ssid 0xffffffff
	 * with it: every PASID. @size 0: the whole address space. Drivers
	 * call it from their model's ATC invalidation handler. */
	void (*atc_inv)(struct iommu_dev *dev, uint32_t ssid, bool ssid_valid,
			uint64_t addr, uint64_t size);
	/* The iommufd core's: the DEVICE bound to this function, for routing
	 * I/O page faults (iommu_report_fault). Drivers never touch it. */
	struct iommufd_device *iommufd;
};

/* Reserved IOVA regions a device imposes on every address space it is
 * attached to (Linux iommu_resv_region types). */
enum iommu_resv_type {
	IOMMU_RESV_DIRECT, /* must be identity-mapped (RMRR) */
	IOMMU_RESV_DIRECT_RELAXABLE, /* may be ignored by iommufd */
	IOMMU_RESV_RESERVED, /* never mapped */
	IOMMU_RESV_MSI, /* hardware MSI window (x86 0xfee00000) */
	IOMMU_RESV_SW_MSI, /* software-managed MSI window (SMMU) */
};

struct iommu_resv_region {
	uint64_t start, last; /* inclusive */
	uint32_t type; /* enum iommu_resv_type */
};

#define IOMMU_MAX_RESV_REGIONS 8

/* ---- Domains ---- */
enum iommu_domain_type {
	IOMMU_DOMAIN_BLOCKED,
	IOMMU_DOMAIN_PAGING,
	IOMMU_DOMAIN_NESTED, /* user-owned stage 1 over a nest parent */
};

/* domain_alloc_paging() flags (the HWPT_ALLOC flags the driver sees). */
#define IOMMU_DOMAIN_F_NEST_PARENT (1u << 0)
#define IOMMU_DOMAIN_F_DIRTY (1u << 1)
#define IOMMU_DOMAIN_F_PASID (1u << 2)

/* map() protection (Linux IOMMU_READ/WRITE/CACHE). */
#define IOMMU_PROT_READ (1u << 0)
#define IOMMU_PROT_WRITE (1u << 1)
#define IOMMU_PROT_CACHE (1u << 2) /* always set: coherent DMA only */

/* Tables freed by unmap, and the IOVA range to invalidate, until
 * iotlb_sync(). Zero-initialise before the first unmap. */
struct iommu_gather {
	struct pt_gather pt;
	uint64_t start, last; /* range unmapped so far, if any */
	bool pending;
};

/* Widen @g's pending range to cover [iova, iova + size). */
static inline void iommu_gather_add_range(struct iommu_gather *g, uint64_t iova,
					  uint64_t size)
{
	uint64_t last = iova + size - 1;

	if (!g->pending) {
		g->start = iova;
		g->last = last;
		g->pending = true;
		return;
	}
	if (iova < g->start)
		g->start = iova;
	if (last > g->last)
		g->last = last;
}

struct iommu_domain {
	enum iommu_domain_type type;
	const struct iommu_domain_ops *ops;
	struct iommu_inst *inst;
	uint32_t flags; /* IOMMU_DOMAIN_F_* it was allocated with */
	uint64_t pgsize_bitmap; /* leaf sizes map() may use */
	uint64_t aperture_start, aperture_last; /* inclusive */
	bool has_dirty_ops; /* set_dirty_tracking / read_and_clear_dirty */
	bool enforce_cache_coherency;
	/* Set by the core before the first attach when the domain's HWPT has
	 * a fault queue (IOMMU_HWPT_FAULT_ID_VALID): a recoverable fault of
	 * an attached device (a PRI page request, an SMMUv3 stall) goes to
	 * iommu_report_fault() and waits for page_response(). */
	bool iopf;
};

struct iommu_domain_ops {
	/* Make @d the RID's translation, replacing whatever was attached
	 * (atomically: a failed call leaves the old attachment). -EINVAL when
	 * @d cannot serve @dev (another instance, missing capability). */
	int (*attach_dev)(struct iommu_domain *d, struct iommu_dev *dev);
	/* Same for one PASID of @dev (attach or replace). */
	int (*set_dev_pasid)(struct iommu_domain *d, struct iommu_dev *dev,
			     uint32_t pasid);

	/* Paging domains. map: [iova, iova + size) -> [pa, pa + size) with
	 * IOMMU_PROT_*, leaves restricted to @pgsize_bitmap (0 = the domain's
	 * bitmap); all or nothing. */
	int (*map)(struct iommu_domain *d, uint64_t iova, uint64_t pa,
		   uint64_t size, uint32_t prot, uint64_t pgsize_bitmap);
	/* Clear [iova, iova + size) (whole earlier maps only); *unmapped =
	 * bytes that were mapped. Freed tables and the range go to @g. */
	int (*unmap)(struct iommu_domain *d, uint64_t iova, uint64_t size,
		     struct iommu_gather *g, uint64_t *unmapped);
	/* Invalidate what @g covers (CMD_SYNC / wait descriptor), wait for
	 * DMA in flight, then free the gathered tables. Cannot fail. */
	void (*iotlb_sync)(struct iommu_domain *d, struct iommu_gather *g);

	/* Dirty tracking (has_dirty_ops). */
	int (*set_dirty_tracking)(struct iommu_domain *d, bool enable);
	/* OR the dirty state of [iova, iova + size) into @bitmap, one bit per
	 * 4 KiB from bit 0 for @iova, clearing it unless @no_clear. */
	int (*read_and_clear_dirty)(struct iommu_domain *d, uint64_t iova,
				    uint64_t size, uint64_t *bitmap,
				    bool no_clear);

	/* Nested domains allocated without a vIOMMU: IOMMU_HWPT_INVALIDATE
	 * on the HWPT. Handle @a's entries in order, stop at the first bad
	 * one; set a->entry_num to the number fully handled (also on error).
	 * a->entry_num == 0 probes the type: 0 if @a->type is the driver's,
	 * else -EINVAL (as for any entry of another type). Entries are read
	 * with iommu_user_array_get(); a bad field is -EINVAL, an unknown
	 * flag or non-zero reserved field -EOPNOTSUPP (iommufd-uapi.md §6).
	 * Returns after the invalidation completed (CMD_SYNC / wait
	 * descriptor). */
	int (*cache_invalidate_user)(struct iommu_domain *d,
				     struct iommu_user_data_array *a);

	/* Called once nothing is attached; waits for DMA in flight. */
	void (*free)(struct iommu_domain *d);
};

/* IOMMU_GET_HW_INFO output of a driver. */
#define IOMMU_HW_INFO_MAX_LEN 64
struct iommu_hw_info_out {
	uint32_t type; /* enum iommu_hw_info_type */
	uint32_t len; /* bytes of data */
	uint8_t data[IOMMU_HW_INFO_MAX_LEN];
};

/*
 * Driver-specific data from the caller (HWPT_ALLOC data_type/len/uptr,
 * VIOMMU_ALLOC type/data_len/data_uptr), copied in by the core. A driver
 * reads it only through iommu_user_data_get(), which applies the size
 * rules of Linux 7.3 (__iommu_copy_struct_from_user) in its order: another
 * type, shorter than the driver's minimum or LONGER than the driver's
 * struct -EINVAL (the kernel does not accept a zero tail here, unlike the
 * ioctl structs: checked with linux-ref), then an unreadable buffer
 * -EFAULT; a shorter struct is zero-extended.
 */
#define IOMMU_USER_DATA_MAX 4096 /* bytes copied at most */
struct iommu_user_data {
	uint32_t type; /* enum iommu_hwpt_data_type / iommu_viommu_type */
	uint32_t len; /* the caller's length */
	void *data; /* min(len, IOMMU_USER_DATA_MAX) bytes */
	int err; /* -EFAULT if the copy faulted, or 0 */
	/* vIOMMU data is in/out: the driver writes its output fields into
	 * @data and sets out_len; the core copies min(out_len, len) leading
	 * bytes back to the caller. */
	uint32_t out_len;
};

static inline int iommu_user_data_get(const struct iommu_user_data *u,
				      uint32_t type, void *dst, size_t dst_size,
				      size_t min_size)
{
	if (u->type != type || u->len < min_size || u->len > dst_size ||
	    dst_size > IOMMU_USER_DATA_MAX)
		return -EINVAL;
	if (u->err)
		return u->err;
	memset(dst, 0, dst_size);
	if (u->len)
		memcpy(dst, u->data, u->len);
	return 0;
}

/*
 * An array of invalidation entries (IOMMU_HWPT_INVALIDATE), copied in by
 * the core, which hands a long array over in several calls. entry_len is
 * 1..4096 when entry_num > 0.
 */
struct iommu_user_data_array {
	uint32_t type; /* enum iommu_hwpt_invalidate_data_type */
	uint32_t entry_len; /* the caller's stride */
	uint32_t entry_num; /* in: entries at @entries; out: handled */
	const void *entries;
};

/* Entry @i of @a into the driver's struct @dst with the size rules of
 * iommu_user_data_get() (Linux 7.3 iommu_copy_struct_from_user_array):
 * another type, entry_len below @min_size or above @dst_size -EINVAL. */
static inline int iommu_user_array_get(const struct iommu_user_data_array *a,
				       uint32_t type, uint32_t i, void *dst,
				       size_t dst_size, size_t min_size)
{
	if (a->type != type || a->entry_len < min_size ||
	    a->entry_len > dst_size || i >= a->entry_num)
		return -EINVAL;
	memset(dst, 0, dst_size);
	memcpy(dst, (const uint8_t *)a->entries + (size_t)i * a->entry_len,
	       a->entry_len);
	return 0;
}

/* ---- vIOMMU and vDEVICE ---- */
struct iommu_viommu;
struct iommu_vdevice;

struct iommu_viommu_ops {
	/* Release the vIOMMU. Once it returns the driver no longer calls
	 * iommufd_viommu_report_event() for it. Nothing uses it any more
	 * (no nested domain, vDEVICE or event queue is left). */
	void (*destroy)(struct iommu_viommu *v);
	/* HWPT_ALLOC with pt_id = this vIOMMU: a NESTED domain over
	 * v->parent for @dev (behind v->inst). @flags IOMMU_DOMAIN_F_PASID.
	 * Unknown data type -EOPNOTSUPP; bad data per the ABI. NULL: the
	 * vIOMMU cannot make nested domains (-EOPNOTSUPP). */
	int (*alloc_domain_nested)(struct iommu_viommu *v,
				   struct iommu_dev *dev, uint32_t flags,
				   const struct iommu_user_data *data,
				   struct iommu_domain **out);
	/* IOMMU_HWPT_INVALIDATE on the vIOMMU (e.g. raw SMMUv3 commands
	 * whose StreamIDs are virtual IDs: iommufd_viommu_find_dev()); the
	 * same contract as cache_invalidate_user. NULL: -EOPNOTSUPP. */
	int (*cache_invalidate)(struct iommu_viommu *v,
				struct iommu_user_data_array *a);
	/* The entry cache_invalidate takes whole from a HW queue's ring in
	 * guest memory (lib/core/hw_queue.c): its data type and its size, a
	 * power of two. 0: no HW queues on this vIOMMU. */
	uint32_t hw_queue_data_type;
	uint32_t hw_queue_entry_len;
	/* VDEVICE_ALLOC: accept @vd (vd->dev behind v->inst, vd->virt_id
	 * unique on @v), e.g. record the vSID -> SID mapping; may set
	 * vd->priv. NULL: nothing to do. */
	int (*vdevice_init)(struct iommu_vdevice *vd);
	/* Undo vdevice_init (vDEVICE destroyed, or its device unbound). */
	void (*vdevice_destroy)(struct iommu_vdevice *vd);
};

struct iommu_viommu {
	const struct iommu_viommu_ops *ops; /* set by the driver */
	struct iommu_inst *inst; /* set by the driver */
	struct iommu_domain *parent; /* the nest parent (stage 2) */
	uint32_t type; /* enum iommu_viommu_type */
	/* The core's vIOMMU object (vDEVICEs, event queues); set by the
	 * core right after viommu_alloc. Drivers never touch it. */
	struct iommufd_viommu *iommufd;
};

struct iommu_vdevice {
	struct iommu_viommu *viommu;
	struct iommu_dev *dev;
	uint64_t virt_id; /* vSID (SMMUv3) / vRID (VT-d) / vDeviceID */
	void *priv; /* the driver's */
};

/* ---- I/O page faults (PCIe PRI page requests, SMMUv3 stalls) ---- */
/* flags and perm use the values of struct iommu_hwpt_pgfault. */
#define IOMMU_FAULT_F_PASID_VALID (1u << 0)
#define IOMMU_FAULT_F_LAST_PAGE (1u << 1)
#define IOMMU_FAULT_PERM_READ (1u << 0)
#define IOMMU_FAULT_PERM_WRITE (1u << 1)
#define IOMMU_FAULT_PERM_EXEC (1u << 2)
#define IOMMU_FAULT_PERM_PRIV (1u << 3)

/* page_response() codes: the PCIe PRG response codes. */
#define IOMMU_PAGE_RESP_SUCCESS 0
#define IOMMU_PAGE_RESP_INVALID 1 /* the request was not satisfied */
#define IOMMU_PAGE_RESP_FAILURE 2 /* PRI to be disabled (core aborts) */

/* One page request of a device, as its IOMMU reported it. */
struct iommu_fault {
	uint32_t flags; /* IOMMU_FAULT_F_* */
	uint32_t pasid; /* if IOMMU_FAULT_F_PASID_VALID */
	uint32_t grpid; /* page request group index (PRGI) */
	uint32_t perm; /* IOMMU_FAULT_PERM_* requested */
	uint64_t addr; /* page address */
	uint64_t priv; /* the driver's (e.g. a stall tag); the core hands it
			* back in page_response() */
};

struct iommu_driver {
	const char *model; /* matches ionest_hw_model() */

	/* Probe the hardware (ID registers), set up tables and queues. */
	int (*init)(struct iommu_inst *inst);
	void (*fini)(struct iommu_inst *inst);

	/* A device behind the instance: fill max_pasids, ats_usable,
	 * dirty_capable, coherent, priv. The device starts blocked. */
	int (*probe_device)(struct iommu_inst *inst, struct iommu_dev *dev);
	void (*release_device)(struct iommu_dev *dev);

	/* IOMMU_GET_HW_INFO: @req_type IOMMU_HW_INFO_TYPE_DEFAULT (0) or a
	 * type the caller asked for (-EOPNOTSUPP if the driver has none). */
	int (*hw_info)(struct iommu_dev *dev, uint32_t req_type,
		       struct iommu_hw_info_out *out);

	/* A new empty paging domain suitable for @dev, IOMMU_DOMAIN_F_*.
	 * -EOPNOTSUPP for flags the hardware cannot honour. */
	int (*domain_alloc_paging)(struct iommu_dev *dev, uint32_t flags,
				   struct iommu_domain **out);

	/* Block all DMA of the RID (detach; bound but unattached). */
	int (*attach_blocked)(struct iommu_dev *dev);
	/* Block one PASID again (detach of a PASID). */
	void (*remove_dev_pasid)(struct iommu_dev *dev, uint32_t pasid);

	/* Reserved regions of @dev (MSI window ...); returns how many were
	 * written to @out (at most IOMMU_MAX_RESV_REGIONS). */
	int (*get_resv_regions)(struct iommu_dev *dev,
				struct iommu_resv_region *out);

	/* Device DMA: translate one access of @dev. NULL means the model
	 * does it: ionest_hw_translate(inst->hw, req, res). Lock-free. May
	 * return -EAGAIN while the driver briefly keeps DMA out (the caller
	 * leaves its in-flight section and retries). */
	int (*translate)(struct iommu_dev *dev,
			 const struct ionest_xlate_req *req,
			 struct ionest_xlate_res *res);

	/* ---- Nesting (NULL: not supported) ---- */
	/* HWPT_ALLOC with pt_id = a NEST_PARENT paging HWPT: a domain of
	 * type IOMMU_DOMAIN_NESTED whose stage 1 is described by @data (the
	 * guest's STE words, stage-1 pointer...), translating through
	 * @parent (one of this driver's domains with
	 * IOMMU_DOMAIN_F_NEST_PARENT). @flags: IOMMU_DOMAIN_F_PASID. An
	 * unknown data type is -EOPNOTSUPP, data the hardware would reject
	 * -EINVAL (SMMUv3: -EIO for illegal STE bits, as Linux). Nested
	 * domains have no map/unmap/iotlb_sync/dirty ops; attach_dev and
	 * set_dev_pasid install them, free releases them. */
	int (*domain_alloc_nested)(struct iommu_dev *dev,
				   struct iommu_domain *parent, uint32_t flags,
				   const struct iommu_user_data *data,
				   struct iommu_domain **out);
	/* Whether the driver has vIOMMUs of @type (VIOMMU_ALLOC answers
	 * EOPNOTSUPP before looking at the HWPT if not). NULL: any type
	 * gets as far as viommu_alloc. */
	bool (*viommu_supported)(struct iommu_dev *dev, uint32_t type);
	/* VIOMMU_ALLOC: a vIOMMU of @type over the nest parent @parent on
	 * @dev's instance; fill (*out)->ops, inst, parent, type. @data is
	 * NULL when the caller gave none. -EOPNOTSUPP for a type the driver
	 * does not have. */
	int (*viommu_alloc)(struct iommu_dev *dev, struct iommu_domain *parent,
			    uint32_t type, struct iommu_user_data *data,
			    struct iommu_viommu **out);
	/* Answer a page request group the driver reported with
	 * iommu_report_fault(): @last is the group's last fault (pasid,
	 * grpid, priv), @code IOMMU_PAGE_RESP_*. Called once per group, from
	 * any thread, never under the core's fault locks (it may even come
	 * from inside iommu_report_fault()). */
	void (*page_response)(struct iommu_dev *dev,
			      const struct iommu_fault *last, uint32_t code);
};

/* A value unique to the calling thread, never 0: a driver marks the
 * sections in which the model may call it back on the same thread (command
 * or invalidation queue submission) to recognise that re-entry. */
uintptr_t iommu_thread_token(void);

/* ---- Services of the iommufd core for drivers (lib/core) ---- */
/*
 * Report one page request of @dev. Not the last of its group: kept until
 * the group's last arrives (a group is every request with the same grpid
 * up to and including the one with IOMMU_FAULT_F_LAST_PAGE). The group
 * goes to the fault queue of the HWPT attached to the PASID (or RID), where
 * the VMM answers it; page_response() follows exactly once. Nobody to
 * handle it (device not bound, nothing attached, HWPT without a fault
 * queue): page_response(INVALID) at once and -EINVAL, as Linux. No memory:
 * -ENOMEM (a group then gets FAILURE). Any thread, any time; takes no lock
 * a thread waiting for DMA in flight holds.
 */
int iommu_report_fault(struct iommu_dev *dev, const struct iommu_fault *f);

/* Queue a vEVENT of @type (@len bytes, e.g. a raw SMMUv3 event record with
 * the vSID in it) on @v's vEVENTQ of that type. -EOPNOTSUPP if there is no
 * such queue, -ENOMEM (a LOST_EVENTS mark is queued instead). A full queue
 * drops it and queues one LOST_EVENTS mark (returns 0). Any thread. */
int iommufd_viommu_report_event(struct iommu_viommu *v, uint32_t type,
				const void *data, size_t len);
/* The virtual ID of @dev on @v: 0, or -ENOENT without a vDEVICE. */
int iommufd_viommu_get_vdev_id(struct iommu_viommu *v, struct iommu_dev *dev,
			       uint64_t *virt_id);
/* The device whose vDEVICE on @v has @virt_id, NULL if none. For
 * cache_invalidate (the vDEVICE set cannot change during the call). */
struct iommu_dev *iommufd_viommu_find_dev(struct iommu_viommu *v,
					  uint64_t virt_id);

/* ---- Driver table ---- */
/* The driver for a hardware model name, NULL if none is built in. */
const struct iommu_driver *iommu_driver_find(const char *model);

/* Bind @hw to its driver: allocate and init an instance (which then owns
 * @hw; on failure the caller still does). -ENODEV: no driver. */
int iommu_inst_create(struct ionest_hw *hw, const char *name,
		      struct iommu_inst **out);
/* fini + free the instance and its hw. All devices must be released. */
void iommu_inst_destroy(struct iommu_inst *inst);

/* Set @inst's nesting mode (enum ionest_nesting; AUTO resolves to HW when
 * the model can nest, else SHADOW). -EINVAL: not a mode; -EOPNOTSUPP: HW on
 * a part that cannot nest; -EBUSY: nested domains exist. */
int iommu_inst_set_nesting(struct iommu_inst *inst, int mode);
/* The core counts the nested domains of an instance (a mode change waits
 * for none to be left). */
static inline void iommu_inst_nested_get(struct iommu_inst *inst)
{
	__atomic_add_fetch(&inst->nested_domains, 1, __ATOMIC_ACQ_REL);
}

static inline void iommu_inst_nested_put(struct iommu_inst *inst)
{
	__atomic_sub_fetch(&inst->nested_domains, 1, __ATOMIC_ACQ_REL);
}

/* Probe/release a device on an instance (fills @dev's driver fields). */
int iommu_dev_probe(struct iommu_inst *inst, struct iommu_dev *dev);
void iommu_dev_release(struct iommu_dev *dev);

/* Translate one access of @dev (driver hook or the model). */
static inline int iommu_translate(struct iommu_dev *dev,
				  const struct ionest_xlate_req *req,
				  struct ionest_xlate_res *res)
{
	if (dev->drv_translate)
		return dev->drv_translate(dev, req, res);
	/* ionest_hw_translate() without its argument checks: hot path. */
	return dev->hw_translate(dev->hw, req, res);
}

/* Smallest page of a bitmap (0 if empty). */
static inline uint64_t iommu_min_pgsize(uint64_t bitmap)
{
	return bitmap & (~bitmap + 1);
}

#endif
