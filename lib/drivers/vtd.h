/* SPDX-License-Identifier: MIT */
/*
 * The Intel VT-d host driver (scalable mode), in the manner of Linux's
 * intel-iommu: it programs the model only through its registers, the
 * in-memory tables it allocates (host memory: physical == virtual address)
 * and the invalidation queue.
 *
 *   vtd.c         probe (CAP/ECAP, root table, GCMD handshakes), root and
 *                 context entries, devices, hw_info, reserved regions
 *   vtd_qi.c      invalidation queue: descriptors, wait, error recovery
 *   vtd_fault.c   fault event: fault records, overflow; page request queue
 *   vtd_pasid.c   PASID directories and tables, PASID entry updates and
 *                 the invalidations each one needs
 *   vtd_domain.c  paging domains (second stage), DIDs, map/unmap/sync,
 *                 dirty tracking, attach/detach of RIDs and PASIDs
 *   vtd_nested.c  nested domains (PGTT=011: a guest first stage over a
 *                 NEST_PARENT domain), their invalidation, page requests
 *   vtd_shadow.c  nested domains in shadow mode (software nesting: a
 *                 PGTT=001 entry over a composed first-stage table), the
 *                 fault path that classifies their misses
 *
 * Every paging domain is a second-stage (PGTT=010) table in the VT-d SS
 * format, NEST_PARENT ones included (nested domains use PGTT=011 entries
 * over their parent's table and DID); Linux uses first-stage tables for plain
 * paging domains on parts that have them, which this driver does not
 * (yet).
 *
 * Locking: inst->lock serialises the invalidation queue, the root,
 * context and PASID tables, the DID allocator and the device table. The
 * model's callbacks (ATC invalidation, interrupts) run inside its register
 * accesses, possibly on a thread that holds inst->lock, so they never take
 * it: the ATC handler reads the device table lock-free, the fault handler
 * has its own try-lock. The page request handler answers requests, which
 * takes inst->lock: the model sends its interrupts with none of its own
 * locks held, so a DMA thread doing so holds nothing (order: prq_lock ->
 * inst->lock -> the model's); the one interrupt that can arrive on a
 * thread holding inst->lock - a retry the endpoint made from inside our
 * page group response - is left to that sender, which serves it once it
 * has released the lock (resp_owner).
 */
#ifndef IONEST_DRIVERS_VTD_H
#define IONEST_DRIVERS_VTD_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "drivers/driver.h"
#include "hw/vtd/vtd_format.h"
#include "hw/vtd/vtd_regs.h"
#include "trace/counters.h"

/* Requests without PASID use PASID entry 0 (context RID_PASID). */
#define VTD_RID_PASID 0u
/* The x86 interrupt address window: never DMA-mapped (IOMMU_RESV_MSI). */
#define VTD_MSI_START 0xfee00000ull
#define VTD_MSI_LAST 0xfeefffffull
/* Invalidation queue: 2^1 pages of 256-bit descriptors (256 slots). */
#define VTD_IQ_QS 1
#define VTD_IQ_DESC 32u
/* Page request queue: one page of 32-byte descriptors. */
#define VTD_PRQ_QS 0

/* Driver statistics, component "<hw name>-drv". */
#define VTD_DRV_COUNTERS(X)     \
	X(vtdd, fault_record)   \
	X(vtdd, fault_overflow) \
	X(vtdd, inv_desc)       \
	X(vtdd, inv_wait)       \
	X(vtdd, iq_error)       \
	X(vtdd, atc_inv)        \
	X(vtdd, page_request)   \
	X(vtdd, page_resp)      \
	X(vtdd, s1_inv)         \
	X(vtdd, shadow_sync)    \
	X(vtdd, shadow_miss)    \
	X(vtdd, shadow_fill)    \
	X(vtdd, shadow_fault)   \
	X(vtdd, shadow_drop)
enum vtdd_counter { VTD_DRV_COUNTERS(CTR_ENUM) VTDD_COUNTER_COUNT };

struct vtd_dev;
struct vtd_dom;
struct shadow;

struct vtd_inst {
	struct iommu_inst *inst;
	struct ionest_hw *hw;
	uint64_t cap, ecap;
	unsigned haw; /* MGAW + 1 */
	unsigned agaw_bits; /* second-stage input width: 39, 48 or 57 */
	unsigned aw; /* PASID-entry AW for it */
	unsigned pasid_bits; /* ECAP.PSS + 1 (0 without ECAP.PASID) */
	unsigned ndoms; /* 2^(4 + 2 * ND) */
	unsigned nfr; /* fault recording registers */
	uint64_t fro, iro; /* their register offsets */
	uint32_t gcmd; /* level bits of GCMD kept set (TE, QIE) */

	uint64_t *root; /* 256 x 128-bit scalable-mode root entries */
	uint64_t *ctx[256][2]; /* context tables: devfn 0-127, 128-255 */

	/* Invalidation queue (inst->lock). */
	uint8_t *iq;
	unsigned iq_slots, iq_tail, iq_queued;
	uint32_t *status; /* wait-descriptor status word */
	uint32_t seq;
	int qi_err; /* sticky error of the batch being built */

	uint8_t *prq; /* page request queue (ECAP.PRS) */
	pthread_mutex_t prq_lock; /* its consumer (try-lock, like faults) */
	bool prq_again;
	/* The thread sending a page group response (iommu_thread_token),
	 * else 0: the endpoint may retry at once from inside that send, and
	 * the page request interrupt of the retry must not be served there
	 * (its answer would need inst->lock again). */
	uintptr_t resp_owner;

	uint64_t *did_map; /* allocated domain IDs (bitmap) */

	/* RID -> device, two levels of 256; the ATC handler reads it
	 * without the lock. */
	struct vtd_dev **dev_l1[256];

	/* Fault event handling (never under inst->lock). */
	pthread_mutex_t fault_lock;
	bool fault_again;

	struct ctr_block ctr;
	uint64_t ctr_val[VTDD_COUNTER_COUNT];
	char ctr_name[40];
};

/* A PASID of a device (VTD_RID_PASID for the RID) attached to a domain. */
struct vtd_att {
	struct vtd_dev *vd;
	uint32_t pasid;
};

/* A PASID of a device and its domain. */
struct vtd_pas {
	uint32_t pasid;
	struct vtd_dom *dom;
};

struct vtd_dev {
	struct iommu_dev *dev;
	struct vtd_inst *vi;
	uint64_t *ce; /* its context entry (4 words) */
	uint64_t *pdir; /* PASID directory */
	unsigned pdir_entries;
	struct vtd_dom *rid_dom; /* NULL: blocked */
	struct vtd_pas *pas; /* attached PASIDs */
	unsigned npas, pas_cap;
};

struct vtd_dom {
	struct iommu_domain base;
	struct vtd_inst *vi;
	struct pt pt;
	uint16_t did;
	bool dirty; /* SSADE in its PASID entries */
	bool destroying; /* pt_destroy: free tables at once */
	bool freed; /* tables freed since the last sync (no IH) */
	uint64_t deferred; /* freed tables, linked through word 0 */
	struct vtd_att *att; /* where it is attached */
	unsigned natt, att_cap;
	/* Nested (IOMMU_DOMAIN_NESTED): its parent, whose table, AW and DID
	 * the PASID entries use, and PASID-entry word 2 (FSPTPTR, FSPM,
	 * SRE/WPE/EAFE). A parent lists its nested domains (inst->lock). */
	struct vtd_dom *parent;
	uint64_t s1_q2;
	struct vtd_dom *children, *sibling;
	/* Software nesting (vtd_shadow.c): the shadow of a nested domain
	 * of an instance in shadow mode (NULL: hardware nesting); IOVAs a
	 * parent unmap dropped and tables it emptied, until the parent's
	 * iotlb_sync invalidates and frees them. */
	struct shadow *sh;
	uint64_t sh_inv_start, sh_inv_last, sh_tables;
};

static inline struct vtd_inst *to_vi(struct iommu_inst *inst)
{
	return inst->priv;
}

static inline void vtd_count(struct vtd_inst *vi, enum vtdd_counter c)
{
	ctr_inc(&vi->ctr_val[c]);
}

/* Host memory the hardware reads: stores are whole 64-bit words. */
static inline void vtd_store(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static inline uint64_t vtd_load(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

/* ---- vtd.c ---- */
uint32_t vtd_rd32(struct vtd_inst *vi, uint64_t off);
uint64_t vtd_rd64(struct vtd_inst *vi, uint64_t off);
void vtd_wr32(struct vtd_inst *vi, uint64_t off, uint32_t val);
void vtd_wr64(struct vtd_inst *vi, uint64_t off, uint64_t val);
/* Zeroed, 4K-aligned table memory the hardware can address (below
 * 2^HAW); NULL on failure. Free with xfree(). */
void *vtd_table_alloc(struct vtd_inst *vi, size_t size);

/* ---- vtd_qi.c (inst->lock held unless noted) ---- */
int vtd_qi_init(struct vtd_inst *vi); /* allocate + enable (init) */
void vtd_qi_fini(struct vtd_inst *vi);
/* Queue one descriptor (the batch ends with vtd_qi_sync). */
void vtd_qi_desc(struct vtd_inst *vi, uint64_t q0, uint64_t q1);
/* Wait descriptor, tail bump, poll its status; 0 or the batch's error
 * (-EIO queue error, -ETIMEDOUT). */
int vtd_qi_sync(struct vtd_inst *vi);
void vtd_qi_cc_global(struct vtd_inst *vi);
void vtd_qi_cc_dev(struct vtd_inst *vi, uint16_t sid);
void vtd_qi_pc_global(struct vtd_inst *vi);
void vtd_qi_pc_pasid(struct vtd_inst *vi, uint16_t did, uint32_t pasid);
void vtd_qi_iotlb_global(struct vtd_inst *vi);
void vtd_qi_iotlb_dom(struct vtd_inst *vi, uint16_t did);
/* Page-selective for the smallest aligned power of two covering
 * [start, last] (AM <= MAMV), else domain-selective. */
void vtd_qi_iotlb_range(struct vtd_inst *vi, uint16_t did, uint64_t start,
			uint64_t last, bool leaf_only);
/* Device-TLB of @sid: the RID's (pasid VTD_RID_PASID with !pv) or a
 * PASID's; [start, last], or everything when @all. */
void vtd_qi_devtlb(struct vtd_inst *vi, uint16_t sid, bool pv, uint32_t pasid,
		   uint64_t start, uint64_t last, bool all);

/* ---- vtd_fault.c ---- */
int vtd_fault_init(struct vtd_inst *vi); /* fault event, PRQ */
void vtd_fault_fini(struct vtd_inst *vi);
/* The model's interrupt lines. */
void vtd_irq(void *ctx, enum ionest_hw_irq line);
/* Consume every pending fault record and clear overflow (any thread, no
 * lock held or inst->lock held). */
void vtd_fault_event(struct vtd_inst *vi);

/* ---- vtd_pasid.c (inst->lock held) ---- */
/* PASID directory for 2^@bits PASIDs (at least one directory page) and
 * the table of PASIDs 0-63. */
int vtd_pasid_dir_alloc(struct vtd_dev *vd, unsigned bits);
void vtd_pasid_dir_free(struct vtd_dev *vd);
/* The directory's PDTS field. */
unsigned vtd_pasid_pdts(const struct vtd_dev *vd);
/* Make sure the table holding @pasid exists (-ENOMEM). */
int vtd_pasid_table_get(struct vtd_dev *vd, uint32_t pasid);
/* Point @pasid at @dom (second stage, or PGTT=011 over the parent of a
 * nested @dom), replacing what is there as the
 * architecture allows for a present entry; invalidates and waits. */
void vtd_pe_install(struct vtd_dev *vd, uint32_t pasid, struct vtd_dom *dom);
/* Make @pasid not present (blocked); invalidates and waits. */
void vtd_pe_clear(struct vtd_dev *vd, uint32_t pasid);
/* Set or clear SSADE of @pasid's present entry; invalidates (no wait:
 * the caller syncs). */
void vtd_pe_set_ssade(struct vtd_dev *vd, uint32_t pasid, bool on);

/* ---- vtd_domain.c ---- */
int vtd_did_init(struct vtd_inst *vi);
void vtd_did_fini(struct vtd_inst *vi);
/* inst->lock held: a free DID (-ENOSPC), and its release. */
int vtd_did_alloc(struct vtd_inst *vi, uint16_t *did);
void vtd_did_free(struct vtd_inst *vi, uint16_t did);
int vtd_domain_alloc_paging(struct iommu_dev *dev, uint32_t flags,
			    struct iommu_domain **out);
int vtd_attach_blocked(struct iommu_dev *dev);
void vtd_remove_dev_pasid(struct iommu_dev *dev, uint32_t pasid);
/* attach_dev / set_dev_pasid of every VT-d domain (paging or nested). */
int vtd_dom_attach_dev(struct iommu_domain *d, struct iommu_dev *dev);
int vtd_dom_set_dev_pasid(struct iommu_domain *d, struct iommu_dev *dev,
			  uint32_t pasid);
bool vtd_is_paging(const struct iommu_domain *d);

/* ---- vtd.c ---- */
/* The device of @rid, NULL if none (lock-free). */
struct vtd_dev *vtd_dev_find(struct vtd_inst *vi, uint32_t rid);

/* ---- vtd_nested.c ---- */
int vtd_domain_alloc_nested(struct iommu_dev *dev, struct iommu_domain *parent,
			    uint32_t flags, const struct iommu_user_data *data,
			    struct iommu_domain **out);
/* Set PRE in @vd's context entry (a domain with a fault queue is being
 * attached to a PRI device); inst->lock held. */
void vtd_dev_enable_pri(struct vtd_dev *vd);
/* Consume the page request queue (the page request event; any thread,
 * no driver lock held or inst->lock held). */
void vtd_prq_event(struct vtd_inst *vi);
void vtd_page_response(struct iommu_dev *dev, const struct iommu_fault *last,
		       uint32_t code);
/* inst->lock held: PASID-based IOTLB (and device-TLB) invalidation of
 * [start, last] (or all) for every attachment of nested @dom, under the
 * DID its entries use (the parent's, or its shadow's). Queued only. */
void vtd_nested_flush(struct vtd_dom *dom, uint64_t start, uint64_t last,
		      bool all, bool leaf);

/* ---- vtd_shadow.c ---- */
/* Give nested @dom (parent, s1_q2 set) its shadow: -EOPNOTSUPP without
 * first-stage support. */
int vtd_shadow_create(struct vtd_dom *dom);
/* Nothing attached: free the shadow after DMA in flight. */
void vtd_shadow_destroy(struct vtd_dom *dom);
/* The DID of a shadow domain's entries. */
uint16_t vtd_shadow_did(const struct vtd_dom *dom);
/* The PASID entry of a shadow domain (PGTT=001 over the shadow). */
void vtd_shadow_pe(const struct vtd_dom *dom, uint64_t *q0, uint64_t *q1,
		   uint64_t *q2);
/* inst->lock held: recompose [start, last] and queue its invalidation. */
void vtd_shadow_invalidate(struct vtd_dom *dom, uint64_t start, uint64_t last);
/* inst->lock held: take the tables the updates emptied (queueing an
 * invalidation of all of the shadow when there are some); free them
 * with vtd_shadow_free() after the wait descriptor and inflight_wait(). */
uint64_t vtd_shadow_take(struct vtd_dom *dom);
void vtd_shadow_free(struct vtd_dom *dom, uint64_t list);
/* A parent unmap (or dirty harvest) of GPAs [start, last], inst->lock
 * held: _begin drops the shadow entries of every nested child that came
 * through the range and keeps their shadows locked until _end, so no
 * fault path composes from the parent's old entries in between. */
void vtd_shadow_parent_begin(struct vtd_dom *par, uint64_t start,
			     uint64_t last);
void vtd_shadow_parent_end(struct vtd_dom *par);
/* inst->lock held, in the parent's iotlb_sync before its wait: queue the
 * children's invalidations; vtd_shadow_parent_free() after inflight_wait. */
void vtd_shadow_parent_sync(struct vtd_dom *par);
void vtd_shadow_parent_free(struct vtd_dom *par);
/* Parent dirty tracking switched: every child shadow recomposed. */
void vtd_shadow_parent_resync(struct vtd_dom *par);
/* The translate hook of a device with a shadow domain attached. */
int vtd_shadow_translate(struct iommu_dev *dev,
			 const struct ionest_xlate_req *req,
			 struct ionest_xlate_res *res);

#endif
