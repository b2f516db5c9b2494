/* SPDX-License-Identifier: MIT */
/*
 * IOMMU hardware models. A model knows nothing of iommufd: software (the
 * host drivers in lib/drivers, tests, or a VMM handing it to a guest as its
 * virtual IOMMU) programs it exactly as it would program the real part,
 * through MMIO registers and in-memory tables and queues, and devices
 * translate through it.
 *
 * Every address a model reads or writes (tables, queues, MSI targets) is a
 * physical address on the model's bus. By default the bus is this process:
 * physical == virtual address, and the caller must only point the model at
 * memory it owns. ionest_hw_set_bus() installs a bounded bus instead, so a
 * wild pointer becomes the architecture's external abort (F_*_FETCH, a
 * fault record, a queue error), never an access outside the given memory.
 */
#ifndef IONEST_HW_H
#define IONEST_HW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <ionest/export.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ionest_hw; /* one IOMMU instance, any model */

/* ---- Access attributes of a request, and permissions of a result ---- */
#define IONEST_ACCESS_READ (1u << 0)
#define IONEST_ACCESS_WRITE (1u << 1)
#define IONEST_ACCESS_EXEC (1u << 2)
#define IONEST_ACCESS_PRIV (1u << 3)

struct ionest_xlate_req {
	uint32_t sid; /* SMMUv3 StreamID; VT-d source-id (bus << 8 | devfn) */
	uint32_t ssid; /* SubstreamID / PASID, if ssid_valid */
	bool ssid_valid;
	bool ats; /* ATS translation request (PCIe TR), not a DMA */
	/* The device uses PRI: a stage-1 "not present" fault becomes a page
	 * request (group index @prgi, last in group) in the model's page
	 * request queue instead of a fault record, and the result is
	 * IONEST_XLATE_PAGE_REQUEST; the device retries after the response. */
	bool pri;
	uint8_t reserved0;
	uint16_t prgi;
	uint16_t reserved1;
	uint32_t access; /* IONEST_ACCESS_* */
	uint64_t iova;
};

enum ionest_xlate_status {
	IONEST_XLATE_OK = 0,
	IONEST_XLATE_FAULT, /* terminated: see fault / event */
	IONEST_XLATE_PAGE_REQUEST, /* a PRI page request was queued: retry
				    * after the response */
	IONEST_XLATE_BYPASS, /* untranslated (bypass): addr == iova */
	IONEST_XLATE_STALLED, /* SMMUv3 stall model: held until RESUME */
	IONEST_XLATE_INTERRUPT, /* VT-d: a write without PASID to the
				 * interrupt range 0xFEExxxxx, an interrupt
				 * request for the platform (untranslated:
				 * addr == iova) */
};

struct ionest_xlate_res {
	uint32_t status; /* enum ionest_xlate_status */
	uint32_t perm; /* IONEST_ACCESS_* granted (R/W/X/PRIV) */
	uint64_t addr; /* output address of iova */
	uint64_t size; /* the translation holds for the naturally
			* aligned block of this size around iova */
	/* On a fault: the model's own code (SMMUv3 event type, VT-d
	 * scalable-mode fault reason), and what the hardware did with it. */
	uint32_t fault;
	bool recorded; /* an event / fault record was written */
	bool stage2; /* the fault was taken at stage 2 */
	uint16_t stag; /* STALLED: the stall tag RESUME names */
	uint64_t fault_addr; /* IPA / GPA of a stage-2 fault, else iova */
};

/*
 * Translate one access. Returns 0 with res->status OK/BYPASS/FAULT/
 * PAGE_REQUEST filled in, or -EINVAL for a malformed request (SID beyond
 * what the model has, bad access bits). A fault is not an error of the call.
 */
IONEST_API int ionest_hw_translate(struct ionest_hw *hw,
				   const struct ionest_xlate_req *req,
				   struct ionest_xlate_res *res);

/* Register access: @size 4 or 8, @offset naturally aligned. -EINVAL for a
 * misaligned or unsupported width; unknown offsets read as zero and ignore
 * writes (RAZ/WI), as the architectures specify for reserved space. */
IONEST_API int ionest_hw_mmio_read(struct ionest_hw *hw, uint64_t offset,
				   unsigned size, uint64_t *val);
IONEST_API int ionest_hw_mmio_write(struct ionest_hw *hw, uint64_t offset,
				    unsigned size, uint64_t val);

IONEST_API void ionest_hw_free(struct ionest_hw *hw);

/* "smmuv3" or "vtd". */
IONEST_API const char *ionest_hw_model(const struct ionest_hw *hw);
/* Whether the part can walk two stages itself (SMMUv3 S1P && S2P; VT-d
 * ECAP.NEST). */
IONEST_API bool ionest_hw_can_nest(const struct ionest_hw *hw);
/* Name used for this instance's counters ("smmu0", "vtd1", ...). */
IONEST_API const char *ionest_hw_name(const struct ionest_hw *hw);
IONEST_API int ionest_hw_set_name(struct ionest_hw *hw, const char *name);

/* ---- The bus ---- */
struct ionest_bus_ops {
	/* Host pointer for [pa, pa + len), or NULL if nothing is there. */
	void *(*map)(void *ctx, uint64_t pa, uint64_t len, bool write);
};
/* NULL ops restores the default identity bus. */
IONEST_API void ionest_hw_set_bus(struct ionest_hw *hw,
				  const struct ionest_bus_ops *ops, void *ctx);

/* ---- Outputs towards the platform ---- */
/* Wired interrupt lines (also signalled when the MSI form is configured,
 * after the MSI write). The handler runs on the thread whose access or
 * request raised the interrupt, once the model's state is consistent and
 * with none of the model's locks held: it may access the model again. */
enum ionest_hw_irq {
	IONEST_IRQ_EVENTQ, /* SMMUv3 EVTQ; VT-d fault event */
	IONEST_IRQ_PRIQ, /* SMMUv3 PRIQ; VT-d page request event */
	IONEST_IRQ_GERROR, /* SMMUv3 GERROR */
	IONEST_IRQ_CMD_SYNC, /* SMMUv3 CMD_SYNC CS=IRQ; VT-d inv. wait IF */
};
typedef void (*ionest_irq_fn)(void *ctx, enum ionest_hw_irq line);
IONEST_API void ionest_hw_set_irq_handler(struct ionest_hw *hw,
					  ionest_irq_fn fn, void *ctx);

/* Device-TLB (ATC) invalidation towards endpoints: SMMUv3 CMD_ATC_INV,
 * VT-d (PASID-based) device-TLB invalidation. The range is [addr, addr +
 * size); size == 0 means everything for that (sid, ssid). */
typedef void (*ionest_atc_inv_fn)(void *ctx, uint32_t sid, uint32_t ssid,
				  bool ssid_valid, uint64_t addr,
				  uint64_t size);
IONEST_API void ionest_hw_set_atc_inv_handler(struct ionest_hw *hw,
					      ionest_atc_inv_fn fn, void *ctx);

/* Page responses towards endpoints: SMMUv3 PRI_RESP, VT-d page group
 * response. @code: 0 success, 1 invalid request, 2 response failure
 * (PCIe PRG response codes). Called while the model consumes the command
 * (inside the software's queue access); the endpoint may retry its DMA
 * from here: the page request that raises is served after the software
 * finished sending the answer. */
typedef void (*ionest_page_resp_fn)(void *ctx, uint32_t sid, uint32_t ssid,
				    bool ssid_valid, uint32_t prgi,
				    uint32_t code);
IONEST_API void ionest_hw_set_page_resp_handler(struct ionest_hw *hw,
						ionest_page_resp_fn fn,
						void *ctx);

/* SMMUv3 CMD_RESUME / CMD_STALL_TERM for a stalled transaction: @retry
 * true to retry it, false to terminate (abort) it. */
typedef void (*ionest_resume_fn)(void *ctx, uint32_t sid, uint16_t stag,
				 bool retry);
IONEST_API void ionest_hw_set_resume_handler(struct ionest_hw *hw,
					     ionest_resume_fn fn, void *ctx);

/* Flush every cache of the model (TLB, config, walk caches): what a reset
 * of the caches would do. For tests and benchmarks. */
IONEST_API void ionest_hw_flush_caches(struct ionest_hw *hw);

/* ---- Arm SMMUv3 ---- */
struct ionest_smmuv3_config {
	/* Each field: 0 = the default, else the value + 1 ("set to v"),
	 * so a zeroed config is all defaults and 0 can still be chosen. */
	uint8_t s1p, s2p; /* IDR0.S1P / S2P */
	uint8_t sidsize; /* IDR1.SIDSIZE (default 16) */
	uint8_t ssidsize; /* IDR1.SSIDSIZE (default 20) */
	uint8_t oas; /* IDR5.OAS encoding (default 5 = 48 bits) */
	uint8_t gran4k, gran16k, gran64k; /* IDR5.GRAN* (default all 1) */
	uint8_t ats, pri; /* IDR0.ATS / PRI (default 1) */
	uint8_t st_level; /* IDR0.ST_LEVEL (default 1: 2-level) */
	uint8_t cd2l; /* IDR0.CD2L (default 1) */
	uint8_t ril; /* IDR3.RIL (default 1) */
	uint8_t asid16, vmid16; /* IDR0.ASID16 / VMID16 (default 1) */
	uint8_t httu; /* IDR0.HTTU (default 2: access + dirty) */
	uint8_t stall_model; /* IDR0.STALL_MODEL (default 0) */
	uint8_t hyp; /* IDR0.HYP (default 0) */
	uint8_t cmdqs, eventqs, priqs; /* IDR1 log2 queue size limits
					* (default 19, 19, 19) */
	uint8_t s2wc_log2; /* log2 of the stage-2 walk cache entries
			    * (default 12; 2..24) */
	uint8_t reserved[7]; /* must be zero */
	uint32_t tlb_entries; /* TLB capacity (0: default 4096) */
};
#define IONEST_CFG(v) ((uint8_t)((v) + 1))

IONEST_API struct ionest_hw *
ionest_smmuv3_new(const struct ionest_smmuv3_config *cfg); /* NULL = defaults */

/* ---- Intel VT-d (scalable mode) ---- */
/*
 * Each field is the raw CAP/ECAP field (sagaw: SAGAW bits, mgaw: width - 1,
 * sslps: SSLPS bits, nd: ND, nfr: records - 1, mamv: MAMV, pss: PASID bits
 * - 1) or a 0/1 capability bit. Defaults: a nesting-capable part, SAGAW
 * 4-level, MGAW 48, 2M/1G, 64K domains, 8 fault records, MAMV 18, 20-bit
 * PASIDs, every feature bit set but CM and ERS. ionest_vtd_new() returns
 * NULL for a part it cannot model (legacy only, NEST without both stages,
 * widths outside 39..57, 1G without 2M second-stage pages, ...).
 * VT-d specifics of the generic calls: an ATS translation request for a
 * page that is not present or not allowed returns IONEST_XLATE_FAULT with
 * recorded == false (no access); a PASID-based device-TLB invalidation of
 * all PASIDs reaches the ATC handler with ssid == 0xffffffff.
 */
struct ionest_vtd_config {
	/* Same convention: 0 = default, else IONEST_CFG(value). */
	uint8_t sagaw, mgaw, sslps, fs1gp, fs5lp, nd, nfr, psi, mamv, cm;
	uint8_t qi, dt, pt, sc, nest, prs, srs, ers, pss, pasid, smts;
	uint8_t ssads, ssts, fsts, eafs;
	uint8_t reserved[7];
	uint32_t tlb_entries; /* IOTLB capacity (0: default 4096) */
};

IONEST_API struct ionest_hw *
ionest_vtd_new(const struct ionest_vtd_config *cfg); /* NULL = defaults */

#ifdef __cplusplus
}
#endif
#endif
