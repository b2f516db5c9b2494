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
 *                        blocked; nested is the nesting issue's)
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

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <ionest/hw.h>

#include "hw/hw.h"
#include "pt/pt.h"

struct iommu_inst;
struct iommu_dev;
struct iommu_domain;

/* PASID value meaning "the RID itself" (no PASID prefix). */
#define IOMMU_NO_PASID 0xffffffffu

/* ---- Instance ---- */
struct iommu_inst {
	const struct iommu_driver *drv;
	struct ionest_hw *hw; /* owned by the instance */
	char name[32]; /* the machine's name for it */
	pthread_mutex_t lock; /* for the driver's instance-wide state */
	void *priv; /* driver state */
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
	IOMMU_DOMAIN_NESTED, /* nesting issue */
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

struct iommu_domain {
	enum iommu_domain_type type;
	const struct iommu_domain_ops *ops;
	struct iommu_inst *inst;
	uint32_t flags; /* IOMMU_DOMAIN_F_* it was allocated with */
	uint64_t pgsize_bitmap; /* leaf sizes map() may use */
	uint64_t aperture_start, aperture_last; /* inclusive */
	bool has_dirty_ops; /* set_dirty_tracking / read_and_clear_dirty */
	bool enforce_cache_coherency;
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

	/* ---- Nesting issue placeholder: user-managed stage-1 caches ---- */
	int (*cache_invalidate_user)(struct iommu_domain *d, uint32_t type,
				     const void *entries, uint32_t entry_len,
				     uint32_t *entry_num);

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

/* User data passed to domain allocation (nesting issue). */
struct iommu_user_data {
	uint32_t type; /* enum iommu_hwpt_data_type */
	uint32_t len;
	const void *data; /* already copied in */
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

	/* ---- Nesting issue placeholders (NULL until then) ---- */
	/* A user-managed domain on top of a NEST_PARENT paging domain. */
	int (*domain_alloc_nested)(struct iommu_dev *dev,
				   struct iommu_domain *parent, uint32_t flags,
				   const struct iommu_user_data *data,
				   struct iommu_domain **out);
	/* vIOMMU objects: opaque to this interface for now. */
	int (*viommu_alloc)(struct iommu_dev *dev, struct iommu_domain *parent,
			    uint32_t type, void **out);
	void (*viommu_free)(void *viommu);
};

/* ---- Driver table ---- */
/* The driver for a hardware model name, NULL if none is built in. */
const struct iommu_driver *iommu_driver_find(const char *model);

/* Bind @hw to its driver: allocate and init an instance (which then owns
 * @hw; on failure the caller still does). -ENODEV: no driver. */
int iommu_inst_create(struct ionest_hw *hw, const char *name,
		      struct iommu_inst **out);
/* fini + free the instance and its hw. All devices must be released. */
void iommu_inst_destroy(struct iommu_inst *inst);

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
