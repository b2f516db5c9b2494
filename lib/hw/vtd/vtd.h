/* SPDX-License-Identifier: MIT */
/*
 * The Intel VT-d scalable-mode model: instance state shared by its files.
 *
 *   vtd.c       creation, capabilities, cache flush, teardown
 *   regs.c      MMIO register file, GCMD/GSTS commands, event interrupts
 *               (FECTL/IECTL/PECTL); legacy translation is refused there
 *   context.c   root and scalable-mode context entries
 *   pasid.c     PASID directory and PASID table entries
 *   cfgcache.c  the combined context/PASID cache
 *   walk.c      first-stage, second-stage and nested walks
 *   psc.c       paging-structure (PDE) cache; an IOTLB miss and its
 *               one-read path
 *   translate.c requests: the IOTLB hit path, walks, ATS, faults, page
 *               requests
 *   explain.c   one request re-derived step by step, changing nothing
 *   inval.c     invalidation queue, descriptors, register invalidation
 *   fault.c     fault recording registers (FRCD, FRI, PPF, PFO)
 *   prq.c       page request queue and page group responses
 *
 * Locking: @lock (recursive) serialises the register file, the queues and
 * the fault records. translate() takes it only to record a fault or a page
 * request; its walks and the IOTLB hit path take no lock. Caches are
 * filled with the generation read before the walk, so a fill that raced
 * with an invalidation is refused (tlb.h). Interrupts raised under the lock
 * are sent when its outermost holder releases it, on that thread: the
 * platform's handler (a driver taking its own locks, then programming us
 * again) never runs with the model's state locked, so the two lock orders
 * (driver lock -> register access, interrupt -> driver lock) cannot
 * deadlock.
 */
#ifndef IONEST_HW_VTD_H
#define IONEST_HW_VTD_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "hw/hw.h"
#include "hw/tlb.h"
#include "hw/vtd/vtd_format.h"
#include "hw/vtd/vtd_regs.h"

/* Where this model puts its variable-offset registers. */
#define VTD_IRO 0x20 /* IVA 0x200, IOTLB 0x208 */
#define VTD_FRO 0x22 /* FRCD from 0x220 */
#define VTD_VERSION 0x40 /* 4.0 */

/* The ssid passed to the ATC invalidation handler for a PASID-based
 * device-TLB invalidation with G=1: every PASID of the device. */
#define VTD_ATC_ALL_PASIDS 0xffffffffu

/* Translation mode latched by SRTP + TE (atomic, read by translate). */
enum vtd_mode {
	VTD_MODE_OFF, /* TE clear: requests are not remapped */
	VTD_MODE_ON, /* scalable-mode translation */
	VTD_MODE_BAD_ROOT, /* TE set with an unsupported TTM / root address */
};

/*
 * A decoded (context entry, PASID entry) pair for one request stream, as
 * the combined context/PASID cache holds it. 40 bytes, copied as words.
 */
#define VTD_CFG_FPD_CTX (1u << 0) /* context FPD */
#define VTD_CFG_FPD (1u << 1) /* context, directory or PASID FPD */
#define VTD_CFG_DTE (1u << 2)
#define VTD_CFG_PRE (1u << 3)
#define VTD_CFG_SRE (1u << 4)
#define VTD_CFG_ERE (1u << 5)
#define VTD_CFG_WPE (1u << 6)
#define VTD_CFG_EAFE (1u << 7)
#define VTD_CFG_SSADE (1u << 8)
#define VTD_CFG_SSEE (1u << 9)
#define VTD_CFG_PGSNP (1u << 10)
#define VTD_CFG_PWSNP (1u << 11)

struct vtd_cfg {
	uint32_t sid; /* source-id */
	uint32_t key; /* PASID | HW_TLB_SSID_VALID, or 0: without PASID */
	uint32_t pasid; /* effective PASID (RID_PASID without one) */
	uint32_t flags; /* VTD_CFG_* */
	uint16_t did;
	uint8_t pgtt;
	uint8_t fs_ias; /* 48 or 57 */
	uint8_t ss_ias; /* 39, 48 or 57 (0 when no second stage) */
	uint8_t pad[3];
	uint64_t fsptptr;
	uint64_t ssptptr;
};
_Static_assert(sizeof(struct vtd_cfg) == 40, "cfg is five words");

#define VTD_CC_WORDS 5
struct vtd_cc_slot {
	uint32_t seq; /* odd while written */
	uint32_t valid;
	uint64_t w[VTD_CC_WORDS];
};

struct vtd_cfgcache {
	struct vtd_cc_slot *slots;
	uint32_t mask;
	uint64_t gen; /* bumped by every invalidation */
};

/* A fault as the walk found it, before recording. */
struct vtd_fault {
	uint8_t reason; /* enum vtd_fault_reason */
	bool fpd; /* recording suppressed (qualified fault, FPD set) */
	bool stage2; /* taken in the second stage */
	uint64_t fault_addr; /* GPA of a stage-2 fault, else the IOVA */
};

struct vtd {
	struct ionest_hw hw; /* first */

	uint64_t cap, ecap;
	unsigned haw; /* host address width: MGAW + 1 */
	uint64_t oa_beyond; /* entry address bits 51:12 at or above HAW */
	unsigned nfr; /* fault recording registers */
	unsigned pasid_bits; /* PSS + 1 */
	unsigned ndom_bits; /* 4 + 2 * ND */

	pthread_mutex_t lock; /* recursive: handlers may call back in */
	unsigned lock_depth; /* under lock: the owner's nesting */
	/* Interrupt messages issued under the lock and sent once it is free
	 * (vtd_unlock): a bit per enum vtd_event, with the address and data
	 * latched when issued. */
	uint32_t irq_pending;
	struct {
		uint64_t addr;
		uint32_t data;
	} irq_msg[3];

	/* ---- registers (under lock) ---- */
	uint32_t gsts;
	uint64_t rtaddr; /* as written */
	uint64_t rta; /* latched by SRTP (atomic) */
	uint32_t ttm; /* latched by SRTP */
	uint32_t mode; /* enum vtd_mode (atomic) */
	uint64_t ccmd;
	uint32_t fsts; /* PFO, IQE, ICE, ITE, FRI; PPF is computed */
	unsigned frcd_next; /* record the next fault goes to */
	uint32_t fectl, fedata, feaddr, feuaddr;
	uint64_t iqh, iqt, iqa, iqer;
	uint32_t ics, iectl, iedata, ieaddr, ieuaddr;
	uint64_t pqh, pqt, pqa;
	uint32_t prs, pectl, pedata, peaddr, peuaddr;
	uint64_t iva, iotlb_reg;
	uint64_t (*frcd)[2]; /* [nfr] {lo, hi} */
	bool iq_busy; /* queue being processed (re-entry guard) */

	/* ---- caches ---- */
	struct hw_tlb iotlb;
	struct hw_tlb s2wc; /* second-stage walk cache, tag = DID */
	struct hw_tlb psc; /* first-stage PDE cache (psc.c) */
	struct vtd_cfgcache cc;
};

static inline struct vtd *to_vtd(struct ionest_hw *hw)
{
	return (struct vtd *)hw;
}

static inline bool vtd_has(const struct vtd *v, uint64_t ecap_bit)
{
	return (v->ecap & ecap_bit) != 0;
}

static inline void vtd_lock(struct vtd *v)
{
	pthread_mutex_lock(&v->lock);
	v->lock_depth++;
}

/* Releases the lock and sends the interrupt messages issued under it. */
void vtd_unlock_deliver(struct vtd *v);

static inline void vtd_unlock(struct vtd *v)
{
	if (v->lock_depth == 1 && v->irq_pending) {
		vtd_unlock_deliver(v);
		return;
	}
	v->lock_depth--;
	pthread_mutex_unlock(&v->lock);
}

/* ---- regs.c ---- */
int vtd_mmio_read(struct ionest_hw *hw, uint64_t off, unsigned size,
		  uint64_t *val);
int vtd_mmio_write(struct ionest_hw *hw, uint64_t off, unsigned size,
		   uint64_t val);
/* The three interrupt sources and their control registers. */
enum vtd_event {
	VTD_EV_FAULT, /* FECTL: fault records, PFO, IQE/ICE/ITE */
	VTD_EV_INV, /* IECTL: invalidation wait with IF */
	VTD_EV_PRQ, /* PECTL: page requests */
};
/* A condition arose: set IP, or issue the interrupt (MSI + wired line,
 * sent at the outermost vtd_unlock) if unmasked (lock held). */
void vtd_event_raise(struct vtd *v, enum vtd_event ev);
/* Software changed the mask or the status: @pending whether the condition
 * still holds (lock held). */
void vtd_event_update(struct vtd *v, enum vtd_event ev, bool pending);
/* FSTS as software reads it (PPF computed from the records). */
uint32_t vtd_fsts(const struct vtd *v);

/* ---- context.c ---- */
struct vtd_ctx {
	uint64_t pdir; /* PASID directory */
	uint32_t rid_pasid;
	uint32_t max_pasid; /* PASIDs below this fit the directory */
	bool fpd, dte, paside, pre;
};
/* Fetch and check the root and context entries of @sid; 0 or the fault
 * (f->reason) with -EFAULT. */
int vtd_ctx_fetch(struct vtd *v, uint32_t sid, struct vtd_ctx *ctx,
		  struct vtd_fault *f);

/* ---- pasid.c ---- */
/* Fetch and check the PASID directory and table entries of @pasid under
 * @ctx and decode them into @cfg (sid/key are the caller's). */
int vtd_pasid_fetch(struct vtd *v, const struct vtd_ctx *ctx, uint32_t pasid,
		    struct vtd_cfg *cfg, struct vtd_fault *f);
/* Root to PASID entry for a request stream. */
int vtd_cfg_fetch(struct vtd *v, uint32_t sid, bool pasid_valid, uint32_t pasid,
		  struct vtd_cfg *cfg, struct vtd_fault *f);

/* ---- cfgcache.c ---- */
int vtd_cc_init(struct vtd_cfgcache *cc, unsigned entries);
void vtd_cc_fini(struct vtd_cfgcache *cc);
static inline uint64_t vtd_cc_gen(struct vtd_cfgcache *cc)
{
	return __atomic_load_n(&cc->gen, __ATOMIC_SEQ_CST);
}
bool vtd_cc_lookup(struct vtd_cfgcache *cc, uint32_t sid, uint32_t key,
		   struct vtd_cfg *out);
void vtd_cc_insert(struct vtd_cfgcache *cc, const struct vtd_cfg *cfg,
		   uint64_t gen);
/* Drop entries matching @match; @fn is called for each before it goes. */
typedef bool (*vtd_cc_match_fn)(const struct vtd_cfg *c, const void *arg);
unsigned vtd_cc_invalidate(struct vtd_cfgcache *cc, vtd_cc_match_fn match,
			   const void *arg,
			   void (*dropped)(const struct vtd_cfg *c, void *ctx),
			   void *ctx);
void vtd_cc_flush(struct vtd_cfgcache *cc);
unsigned vtd_cc_count(struct vtd_cfgcache *cc);

/* ---- walk.c ---- */
/* Outcome of a walk for one request. */
struct vtd_xl {
	uint64_t pa; /* output address of the input address */
	uint32_t perm; /* IONEST_ACCESS_* the entry may cache */
	uint8_t shift; /* log2 of the block the result holds for */
	uint8_t tlb_flags; /* HW_TLB_S1 / S2 / GLOBAL */
	bool page_req; /* first-stage fault a page request may resolve */
	uint8_t psc_flags; /* PDE-cache entry this walk can make (psc.c) */
	uint64_t psc_table; /* its last-level table address (host) */
	struct vtd_fault f; /* reason 0: success */
};
/* Walk @iova for @access (IONEST_ACCESS_*) under @cfg. @ats: a
 * translation request, which gets missing write/execute permission as a
 * narrower result instead of a fault. Returns 0 or -EFAULT (out->f). */
int vtd_walk(struct vtd *v, const struct vtd_cfg *cfg, uint64_t iova,
	     uint32_t access, bool ats, struct vtd_xl *out);

/* ---- psc.c ---- */
#define VTD_PSC_WFORCE 0x80 /* FS entry: supervisor write, WPE=0 */
#define VTD_PSC_SSADE 0x80 /* SS-only entry: A/D bits in use */
/* From a first-stage walk's records: the PDE-cache flags for a 4K leaf
 * reached by a request of @access (0: none). */
void vtd_psc_prepare(const struct vtd_cfg *cfg, const struct pt_walk_level *rec,
		     unsigned nrec, uint32_t access, struct vtd_xl *o);
/* The same for a second-stage-only walk. */
void vtd_psc_prepare_ss(const struct vtd_cfg *cfg,
			const struct pt_walk_level *rec, unsigned nrec,
			struct vtd_xl *o);
void vtd_psc_fill(struct vtd *v, const struct ionest_xlate_req *req,
		  uint32_t key, const struct vtd_cfg *cfg,
		  const struct vtd_xl *xl, uint64_t gen);
/* An IOTLB miss of a well-formed request (@access with READ added to
 * EXEC), translation on: counted, then finished from the PDE cache when it
 * can (the IOTLB filled), else by vtd_translate_walk. @tset: the IOTLB set
 * of the request's 4 KB block if the caller probed it, else NULL. */
int vtd_tlb_miss(struct vtd *v, const struct ionest_xlate_req *req,
		 uint32_t access, struct hw_tlb_set *tset,
		 struct ionest_xlate_res *res);

/* ---- translate.c ---- */
int vtd_translate(struct ionest_hw *hw, const struct ionest_xlate_req *req,
		  struct ionest_xlate_res *res);
/* The configuration, request checks and walk of an IOTLB miss (counted
 * by the caller), with @tgen the IOTLB generation read before any cache
 * was consulted: the result, fault record or page request, and the fills. */
int vtd_translate_walk(struct vtd *v, const struct ionest_xlate_req *req,
		       uint32_t access, uint64_t tgen,
		       struct ionest_xlate_res *res);
/* Set the DMA hit rule (lib/hw/hw.h). */
void vtd_dma_rule(struct vtd *v);

/* ---- explain.c ---- */
/* The hw_ops explain (hw/explain.h). */
int vtd_explain(struct ionest_hw *hw, const struct ionest_xlate_req *req,
		struct hw_explain *x);

/* ---- inval.c ---- */
/* Run the invalidation queue from IQH to IQT (lock held). */
void vtd_iq_run(struct vtd *v);
/* IOTLB invalidation (descriptor type 2 or the IOTLB register):
 * @g 1 global, 2 domain, 3 page-selective. */
void vtd_inv_iotlb(struct vtd *v, unsigned g, uint16_t did, uint64_t addr,
		   unsigned am, bool ih);
/* Context-cache invalidation (descriptor type 1 or CCMD). */
void vtd_inv_context(struct vtd *v, unsigned g, uint16_t did, uint16_t sid,
		     unsigned fm);

/* ---- fault.c ---- */
/* Record @f for a request (takes the lock). Returns whether a fault record
 * was written. */
bool vtd_fault_record(struct vtd *v, const struct ionest_xlate_req *req,
		      uint32_t access, const struct vtd_fault *f);
/* A fault-event condition was set (PFO, IQE, ICE, ITE) with @old_fsts the
 * status before: interrupt if none was pending (lock held). */
void vtd_fault_status_set(struct vtd *v, uint32_t old_fsts);
/* PPF: any record with F set. */
bool vtd_fault_pending(const struct vtd *v);

/* ---- prq.c ---- */
/* Queue a page request for @req (takes the lock). Returns true when the
 * request went to the queue (or was answered by the overflow rule). */
bool vtd_prq_request(struct vtd *v, const struct ionest_xlate_req *req,
		     uint32_t access);
/* Page group response descriptor (lock held); 0 or an IQEI code. */
int vtd_prq_response(struct vtd *v, const uint64_t *d);

/* ---- vtd.c ---- */
void vtd_flush_all(struct vtd *v);

#endif
