/* SPDX-License-Identifier: MIT */
/*
 * The Arm SMMUv3 host driver: private state shared by its files.
 *   smmuv3.c         driver entry, probe of the ID registers, reset and
 *                    enable, devices (probe/release), hw_info
 *   smmuv3_cmdq.c    command queue: submission, CMD_SYNC, errors, and the
 *                    invalidation helpers built on it
 *   smmuv3_ste.c     stream table (linear / 2-level) and STE updates
 *   smmuv3_cd.c      CD tables (linear / 2-level) and CD updates
 *   smmuv3_domain.c  paging domains, attach / PASID / blocked, map, unmap,
 *                    invalidation, dirty tracking
 *   smmuv3_irq.c     event and PRI queues, GERROR, interrupts, ATC
 *                    invalidations towards devices, the stalls the
 *                    driver holds for software nesting
 *   smmuv3_nested.c  nesting: vIOMMU, vDEVICE, nested domains (the
 *                    guest's STE words), vIOMMU invalidation, vEVENTs
 *   smmuv3_shadow.c  software nesting: nested domains of a "shadow"-mode
 *                    instance as stage-1 STEs over host CDs and shadow
 *                    tables (lib/drivers/shadow.h)
 *
 * The driver programs the model only through its interface: MMIO
 * registers, structures in host memory (physical == virtual address) and
 * the command queue (spec/smmuv3.md).
 *
 * Locking:
 *   inst->lock   stream table level-2 tables, the SID -> master map and
 *                the ASID/VMID allocators.
 *   cmdq_lock    (recursive) the command queue and GERRORN; never held
 *                across inflight_wait(). Taken after inst->lock. The SMMU
 *                consumes commands inside our PROD write; an endpoint may
 *                react to one (a PRI response, a resume) by retrying at
 *                once, and the queue interrupts that raises on the thread
 *                holding cmdq_lock are served when it releases it
 *                (smmuv3_cmdq_unlock), never inside: their answers are
 *                commands.
 *   evtq_lock, priq_lock  draining of the output queues; never held while
 *                taking cmdq_lock.
 *   dom->lock    a domain's list of attachments.
 *   sh_lock      the shadow state of every nested domain (smmuv3_shadow.c)
 *                and the nest parents' lists of them; taken before
 *                cmdq_lock and a domain's lock; the DMA path only
 *                try-locks it (and then a domain's lock too).
 *   stalls.lock  the driver's stall slots; nothing is taken under it.
 *   Masters and domains are otherwise serialised by the core (one
 *   iommufd context per device/domain). DMA (the model's translate) runs
 *   concurrently with everything; the event interrupt handler runs on DMA
 *   threads, inside their in-flight section, so nothing waits for DMA
 *   while holding a lock that handler takes.
 */
#ifndef IONEST_DRIVERS_SMMUV3_H
#define IONEST_DRIVERS_SMMUV3_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "drivers/driver.h"
#include "hw/smmuv3/smmu_regs.h"
#include "hw/smmuv3/stall.h"
#include "pt/pt.h"
#include "trace/counters.h"

/* Statistics of one instance ("<model name>-drv" in the counter API, as
 * every driver's). */
#define SMMUV3_COUNTERS(X)     \
	X(drv, cmd)            \
	X(drv, sync)           \
	X(drv, cmdq_error)     \
	X(drv, cmdq_timeout)   \
	X(drv, ste_write)      \
	X(drv, cd_write)       \
	X(drv, tlbi)           \
	X(drv, atc_inv)        \
	X(drv, event)          \
	X(drv, evtq_overflow)  \
	X(drv, stall)          \
	X(drv, pri_request)    \
	X(drv, page_resp)      \
	X(drv, gerror)         \
	X(drv, unmap_fallback) \
	X(drv, shadow_sync)    \
	X(drv, shadow_miss)    \
	X(drv, shadow_fill)    \
	X(drv, shadow_fault)   \
	X(drv, shadow_drop)
enum smmuv3_counter { SMMUV3_COUNTERS(CTR_ENUM) SMMUV3_COUNTER_COUNT };

#define SMMUV3_EVRING 64 /* events kept for the vEVENTQ of nesting */

/* Queue sizes (log2 entries), capped by IDR1. */
#define SMMUV3_CMDQ_LOG2 8
#define SMMUV3_EVTQ_LOG2 7
#define SMMUV3_PRIQ_LOG2 7

/* The SW MSI window Linux reserves for SMMU-translated MSIs. */
#define SMMUV3_MSI_START 0x8000000ull
#define SMMUV3_MSI_LAST 0x80fffffull

/* Input/output size of the driver's own tables: host VAs need 47 bits. */
#define SMMUV3_IAS 48

struct smmu_queue_mem {
	uint64_t *base;
	unsigned log2; /* entries */
	unsigned dwords; /* per entry */
};

struct smmu_drv {
	struct iommu_inst *inst;
	struct ionest_hw *hw;
	uint32_t idr[6], iidr, aidr;

	/* Features from the ID registers. */
	bool s1p, s2p, ats, pri, cd2l, ril, hd, hyp, asid16, vmid16;
	unsigned ssid_bits; /* usable SubstreamID bits (CD table limit) */
	unsigned oas_enc; /* IPS / S2PS encoding of the tables */
	unsigned gran; /* granule shift of the driver's tables */

	/* Stream table: linear, or 2-level with SPLIT = 8. */
	bool st_2lvl;
	unsigned sid_bits; /* StreamIDs covered */
	uint64_t *strtab; /* linear table or level-1 table */
	size_t strtab_bytes;
	uint64_t **l2; /* 2-level: host address of each level-2 table */
	unsigned nl1;
	/* SID -> master, two levels of 256 (both formats). */
	struct smmu_master ***masters;
	unsigned nmaps;

	/* Command queue. */
	pthread_mutex_t cmdq_lock;
	struct smmu_queue_mem cmdq;
	uint32_t cmdq_prod; /* index + wrap bit */
	/* The thread holding cmdq_lock (iommu_thread_token) and its depth;
	 * queues whose interrupt came on it meanwhile (SMMUV3_DRAIN_*), served
	 * when it lets go. */
	uintptr_t cmdq_owner;
	unsigned cmdq_depth;
	unsigned drain_later;

	/* Event and PRI queues. */
	pthread_mutex_t evtq_lock, priq_lock;
	struct smmu_queue_mem evtq, priq;
	/* The last SMMUV3_EVRING events drained (ring, oldest first). */
	uint64_t evring[SMMUV3_EVRING][4];
	unsigned ev_head, ev_count;

	/* Software nesting (smmuv3_shadow.c). */
	pthread_mutex_t sh_lock;
	/* Stalls the driver holds for shadow domains (smmuv3_irq.c): as
	 * many as IDR5.STALL_MAX, in the table the SMMU model keeps its own
	 * in (hw/smmuv3/stall.h), so tagged the same way. */
	struct smmu_stalls stalls;

	/* ASID / VMID allocators (bitmaps; 0 is never handed out). */
	uint64_t *asid_map, *vmid_map;
	unsigned asid_bits, vmid_bits;

	char ctr_name[48];
	struct ctr_block ctr;
	uint64_t ctr_val[SMMUV3_COUNTER_COUNT];
};

static inline void smmuv3_count(struct smmu_drv *s, enum smmuv3_counter c)
{
	ctr_inc(&s->ctr_val[c]);
}

/* ---- CD tables (smmuv3_cd.c) ---- */
#define SMMUV3_CD_L2_LOG2 10 /* 64 KiB leaves of 1024 CDs (S1Fmt 0b10) */

struct smmu_cdtab {
	unsigned cdmax; /* log2 CDs (0: one CD, no SubstreamIDs) */
	bool two_level;
	uint64_t *linear; /* linear: 2^cdmax CDs */
	uint64_t *l1; /* 2-level: level-1 descriptors */
	uint64_t **leaves; /* 2-level: host address of each leaf */
	unsigned nl1;
};

/* ---- Masters (one per probed device) ---- */
struct smmu_pasid_att {
	uint32_t pasid;
	struct smmu_domain *dom;
};

struct smmu_master {
	struct smmu_drv *s;
	struct iommu_dev *dev;
	uint32_t sid;
	uint64_t *ste;
	struct smmu_cdtab cdt; /* cdt.cdmax valid once cd_ready */
	bool cd_ready;
	bool ats; /* STE.EATS set and ATS enabled on the function */
	struct smmu_domain *rid_dom; /* NULL: blocked */
	struct smmu_pasid_att *pasids;
	unsigned npasids, pasid_cap;
};

/* ---- Domains ---- */
struct smmu_att {
	struct smmu_master *m;
	uint32_t ssid; /* IOMMU_NO_PASID for the RID */
	/* On a nest parent for a nested domain over it: the ATC holds guest
	 * IOVAs, so a stage-2 change invalidates all of it. */
	bool whole;
};

struct smmu_domain {
	struct iommu_domain base;
	struct smmu_drv *s;
	struct pt pt;
	bool s2; /* stage-2 tables (nest parent, or no stage 1) */
	bool dirty; /* HTTU dirty tracking: CD.HA/HD, DBM tables */
	bool nest_parent;
	uint16_t asid, vmid;
	pthread_mutex_t lock; /* att */
	struct smmu_att *att;
	unsigned natt, att_cap;
	/* Unmap without memory: tables freed chunk by chunk (see unmap). */
	struct pt_gather spare;
	uint64_t chunk; /* largest leaf: chunks never cut a leaf */
	unsigned chunk_tables; /* tables one chunk can empty */
	/* Nested domains (smmuv3_nested.c): s2 is also set, so the paging
	 * code treats the STE as one without a host CD table. */
	bool nested;
	bool nested_ats; /* guest S1 with EATS=1: ATS where usable */
	uint64_t gste[2]; /* the guest's STE DW0-1, validated */
	struct smmu_domain *parent;
	struct smmu_viommu *viommu;
	/* Software nesting (smmuv3_shadow.c, under sh_lock): the shadow
	 * state of a nested domain; on a nest parent, its shadow nested
	 * domains (linked through sh_sibling). */
	struct smmu_shnest *sh;
	struct smmu_domain *sh_children, *sh_sibling;
};

/* A vIOMMU: the parent's VMID, shared by its nested domains. */
struct smmu_viommu {
	struct iommu_viommu base;
	struct smmu_drv *s;
	struct smmu_domain *parent;
	uint16_t vmid;
};

static inline struct smmu_domain *to_smmu_dom(struct iommu_domain *d)
{
	return (struct smmu_domain *)d;
}

/* ---- smmuv3.c ---- */
extern const struct iommu_driver smmuv3_driver;
uint32_t smmuv3_rd32(struct smmu_drv *s, uint64_t off);
void smmuv3_wr32(struct smmu_drv *s, uint64_t off, uint32_t v);
void smmuv3_wr64(struct smmu_drv *s, uint64_t off, uint64_t v);
/* Memory the SMMU reads: zeroed, aligned to its size (at least 64). */
void *smmuv3_table_alloc(size_t bytes);

/* ---- smmuv3_cmdq.c ---- */
#define SMMUV3_BATCH 32

struct smmu_cmdbuf {
	uint64_t c[SMMUV3_BATCH][2];
	unsigned n;
};

/* Queue a command (submitting the batch without a sync when full). */
void smmuv3_cmd_add(struct smmu_drv *s, struct smmu_cmdbuf *b, uint64_t dw0,
		    uint64_t dw1);
/* Submit the batch followed by a CMD_SYNC and wait for it. */
void smmuv3_cmd_sync(struct smmu_drv *s, struct smmu_cmdbuf *b);
/* One command and a sync. */
void smmuv3_cmd1(struct smmu_drv *s, uint64_t dw0, uint64_t dw1);
/* Acknowledge the active GERROR bits in @bits (under cmdq_lock). */
void smmuv3_gerror_ack(struct smmu_drv *s, uint32_t bits);
/* cmdq_lock with its owner and depth; the outermost unlock drains the
 * queues whose interrupt arrived on the owner meanwhile. */
#define SMMUV3_DRAIN_EVTQ 1u
#define SMMUV3_DRAIN_PRIQ 2u
void smmuv3_cmdq_lock(struct smmu_drv *s);
void smmuv3_cmdq_unlock(struct smmu_drv *s);
/* True (and @queue noted) if this thread holds cmdq_lock: the drain of
 * @queue waits for smmuv3_cmdq_unlock. */
bool smmuv3_drain_deferred(struct smmu_drv *s, unsigned queue);
/* True if this thread holds cmdq_lock (the SMMU may be consuming commands
 * inside its PROD write): it must not issue commands now. */
bool smmuv3_cmdq_mine(struct smmu_drv *s);

/* Command encodings (spec/smmuv3.md §8). */
uint64_t smmuv3_cmd_sid(unsigned op, uint32_t sid);
void smmuv3_cmd_cfgi_ste(struct smmu_drv *s, struct smmu_cmdbuf *b,
			 uint32_t sid);
void smmuv3_cmd_cfgi_cd(struct smmu_drv *s, struct smmu_cmdbuf *b, uint32_t sid,
			uint32_t ssid);
/* ATC_INV of [start, last] (the smallest aligned power-of-two span that
 * holds it) for @sid, @ssid (IOMMU_NO_PASID: without PASID, which PCIe
 * applies to every PASID of the function). */
void smmuv3_cmd_atc_inv(struct smmu_drv *s, struct smmu_cmdbuf *b, uint32_t sid,
			uint32_t ssid, uint64_t start, uint64_t last);
/* TLB invalidation of a domain's [start, last]; @all: the whole ASID or
 * VMID (tables were freed, or the range is too large). */
void smmuv3_tlbi_domain(struct smmu_domain *d, struct smmu_cmdbuf *b,
			uint64_t start, uint64_t last, bool all);
/* The same for stage-1 entries of @asid (VMID 0). */
void smmuv3_tlbi_asid(struct smmu_drv *s, struct smmu_cmdbuf *b, uint16_t asid,
		      uint64_t start, uint64_t last, bool all);

/* ---- smmuv3_ste.c ---- */
int smmuv3_strtab_init(struct smmu_drv *s);
void smmuv3_strtab_fini(struct smmu_drv *s);
/* The STE of @sid, allocating its level-2 table (under inst->lock). */
int smmuv3_strtab_ste(struct smmu_drv *s, uint32_t sid, uint64_t **ste);
/* Build the STE the master's state calls for. */
void smmuv3_ste_target(struct smmu_master *m, uint64_t t[4]);
/* Make the master's STE @t with the architecture's update ordering:
 * hitless when only one used qword changes, else through an abort STE;
 * each step is followed by CFGI_STE and CMD_SYNC. */
void smmuv3_ste_write(struct smmu_master *m, const uint64_t t[4]);
/* Recompute and write the master's STE, enabling or disabling ATS on the
 * function around the change. */
void smmuv3_master_update_ste(struct smmu_master *m);
/* Which bits of each qword the SMMU uses for this STE (exported for
 * tests of the update ordering). */
void smmuv3_ste_used(const struct smmu_drv *s, const uint64_t e[4],
		     uint64_t used[4]);

/* ---- smmuv3_cd.c ---- */
/* Allocate the master's CD table (sized by its PASIDs) if it has none. */
int smmuv3_cdtab_alloc(struct smmu_master *m);
/* A CD table of 2^@cdmax CDs, not yet in use (linear up to 1024 CDs or
 * without CD2L, else 2-level); smmuv3_cdtab_put fills it before use. */
int smmuv3_cdtab_init(struct smmu_drv *s, struct smmu_cdtab *c, unsigned cdmax);
void smmuv3_cdtab_fini(struct smmu_cdtab *c);
int smmuv3_cdtab_put(struct smmu_cdtab *c, uint32_t ssid, const uint64_t cd[4]);
void smmuv3_cdtab_free(struct smmu_master *m);
/* Bus address of the table the STE points at, and its S1Fmt. */
uint64_t smmuv3_cdtab_ptr(const struct smmu_master *m, unsigned *s1fmt);
/* The CD of a stage-1 domain. */
void smmuv3_cd_build(const struct smmu_domain *d, uint64_t cd[4]);
/* Install @cd (NULL: clear) at @ssid of the master's table. A valid CD is
 * replaced without a window: the leaf (or the linear table) is copied,
 * changed and switched in with one 64-bit store. -ENOMEM leaves
 * everything as it was. */
int smmuv3_cd_set(struct smmu_master *m, uint32_t ssid, const uint64_t *cd);
/* The CD at @ssid is valid. */
bool smmuv3_cd_valid(const struct smmu_master *m, uint32_t ssid);
/* smmuv3_cd_set where the CD there translates nothing (V=0, or EPD0 =
 * EPD1 = 1: the SMMU reads no other word of it), which it writes in place
 * without waiting for DMA in flight (usable on a DMA thread): words 1-3,
 * then word 0, CFGI_CD + CMD_SYNC. -EBUSY if the CD there translates. */
int smmuv3_cd_arm(struct smmu_master *m, uint32_t ssid, const uint64_t cd[4]);

/* ---- smmuv3_domain.c ---- */
int smmuv3_domain_alloc_paging(struct iommu_dev *dev, uint32_t flags,
			       struct iommu_domain **out);
int smmuv3_attach_blocked(struct iommu_dev *dev);
void smmuv3_remove_dev_pasid(struct iommu_dev *dev, uint32_t pasid);
/* Detach everything from a master being released. */
void smmuv3_master_detach_all(struct smmu_master *m);
int smmuv3_id_alloc(struct smmu_drv *s, uint64_t *map, unsigned bits,
		    uint16_t *out);
void smmuv3_id_free(struct smmu_drv *s, uint64_t *map, uint16_t id);

/* ---- smmuv3_irq.c ---- */
void smmuv3_irq(void *ctx, enum ionest_hw_irq line);
void smmuv3_atc_inv_handler(void *ctx, uint32_t sid, uint32_t ssid,
			    bool ssid_valid, uint64_t addr, uint64_t size);
void smmuv3_drain_evtq(struct smmu_drv *s);
void smmuv3_drain_priq(struct smmu_drv *s);
/* iommu_driver.page_response: PRI_RESP for a page request, RESUME for a
 * stall. */
void smmuv3_page_response(struct iommu_dev *dev, const struct iommu_fault *last,
			  uint32_t code);
/* The master of @sid, or NULL. */
struct smmu_master *smmuv3_sid_master(struct smmu_drv *s, uint32_t sid);

/* ---- nesting hooks ---- */
/* smmuv3_domain.c: the attach of paging domains, shared by nested ones. */
int smmuv3_attach_dev(struct iommu_domain *dom, struct iommu_dev *dev);
/* smmuv3_ste.c: the stage-2 words (DW2, *dw3) of a nest parent. */
uint64_t smmuv3_ste_s2_words(const struct smmu_domain *d, uint64_t *dw3);
/* smmuv3_nested.c */
bool smmuv3_viommu_supported(struct iommu_dev *dev, uint32_t type);
int smmuv3_viommu_alloc(struct iommu_dev *dev, struct iommu_domain *parent,
			uint32_t type, struct iommu_user_data *data,
			struct iommu_viommu **out);
/* The physical STE of a master whose RID is on a nested domain. */
void smmuv3_nested_ste(const struct smmu_master *m, const struct smmu_domain *d,
		       uint64_t t[4]);
/* An event record drained from the event queue (under evtq_lock): a
 * stage-1 fault of a nested domain goes to its vIOMMU as a vEVENT.
 * Returns true if it went there. */
bool smmuv3_nested_event(struct smmu_drv *s, const uint64_t ev[4]);

/* smmuv3_irq.c: an event record the driver made (software nesting), handled
 * as if drained from the event queue. */
void smmuv3_event_inject(struct smmu_drv *s, const uint64_t ev[4]);
/* Stalls of software nesting, held by the driver where the SMMU would
 * hold them in hardware nesting, in s->stalls (smmu_stalls_hold takes a
 * slot and a fresh tag; false: none free, the transaction terminates):
 * smmuv3_stall_init sizes the (initialised, empty) table from IDR0/IDR5;
 * smmuv3_stall_inject handles the record (Stall=1,
 * the tag) as a drained stall record: kept, counted and reported to the
 * core, whose answer (page_response) frees the slot as CMD_RESUME frees
 * the SMMU's. Not under any driver lock. */
int smmuv3_stall_init(struct smmu_drv *s);
void smmuv3_stall_inject(struct smmu_drv *s, const uint64_t ev[4]);

/* smmuv3_shadow.c (software nesting) */
struct smmu_viommu;
/* A nested domain of a shadow-mode instance: its shadow state. */
int smmuv3_shadow_init(struct smmu_domain *d);
void smmuv3_shadow_fini(struct smmu_domain *d);
/* Prepare @m's CD table for @d (the host CDs of every guest CD); the
 * caller installs it. */
int smmuv3_shadow_cdtab(struct smmu_domain *d, struct smmu_master *m,
			struct smmu_cdtab *out);
/* The physical STE of a master on a shadow nested domain. */
void smmuv3_shadow_ste(const struct smmu_master *m, const struct smmu_domain *d,
		       uint64_t t[4]);
/* A checked guest command (made physical) of a vIOMMU in shadow mode. */
void smmuv3_shadow_cmd(struct smmu_viommu *sv, const uint64_t c[2]);
/* A nest parent's unmap of [start, last]: begin before its tables
 * change, end after (sh_lock held in between by the caller). */
void smmuv3_shadow_parent_begin(struct smmu_domain *par, uint64_t start,
				uint64_t last);
void smmuv3_shadow_parent_end(struct smmu_domain *par);
/* A stall record drained from the event queue (under evtq_lock) of a
 * stream on a shadow nested domain: the SMMU stalled a shadow miss itself
 * (forced stalls); the translate hook, which got the stall as its result,
 * handles it. True if so: the drain drops the record. */
bool smmuv3_shadow_stall_owned(struct smmu_drv *s, const uint64_t ev[4]);
/* The device's translate hook while on a shadow nested domain. */
int smmuv3_shadow_translate(struct iommu_dev *dev,
			    const struct ionest_xlate_req *req,
			    struct ionest_xlate_res *res);

/* ---- for tests and the nesting issue ---- */
/* Move up to @max of the events drained so far (oldest first) to @out;
 * returns how many. */
unsigned smmuv3_pop_events(struct iommu_inst *inst, uint64_t (*out)[4],
			   unsigned max);
/* The driver state of an SMMUv3 instance (NULL for other drivers). */
struct smmu_drv *smmuv3_of(struct iommu_inst *inst);

#endif
