/* SPDX-License-Identifier: MIT */
/*
 * The SMMUv3 model's private state, shared by its files:
 *   smmu.c    instance, ID registers, register file, GERROR and interrupts
 *   queue.c   event and PRI queue production, MSI writes
 *   cmdq.c    command queue consumption
 *   config.c  stream table / STE and CD table / CD fetch and decode
 *   cfgc.c    the configuration cache
 *   fastpath.c translate(): TLB hits, misses the walk caches serve
 *   xlate.c   the full path: config, stage-1/stage-2/nested walks, faults
 *   walkc.c   the stage-1 walk cache
 *   stall.c   stalled transactions (stall model), the table of held
 *             stalls (stall.h, also the driver's)
 *   explain.c one transaction re-derived step by step, changing nothing
 *
 * Locking: registers are single words read lock-free by the translate path;
 * register writes and command consumption hold @lock (recursive: platform
 * callbacks made from a command may write registers again). Event and PRI
 * queue production each have their own lock; the configuration cache fills
 * and invalidations hold @cfg_lock. The TLB and walk cache are lock-free to
 * look up (lib/hw/tlb.h).
 */
#ifndef IONEST_HW_SMMU_H
#define IONEST_HW_SMMU_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "hw/hw.h"
#include "hw/nest.h"
#include "hw/smmuv3/smmu_regs.h"
#include "hw/smmuv3/stall.h"
#include "hw/tlb.h"

/* Features, fixed at creation from struct ionest_smmuv3_config. */
struct smmu_feat {
	uint8_t s1p, s2p, sidsize, ssidsize, oas_enc, oas_bits;
	uint8_t gran4k, gran16k, gran64k, ats, pri, st_level, cd2l, ril;
	uint8_t asid16, vmid16, httu, stall_model, hyp;
	uint8_t cmdqs, eventqs, priqs;
	uint16_t stall_max;
	uint64_t sid_bad, ssid_bad; /* request bits beyond SIDSIZE/SSIDSIZE */
};

struct smmu_queue {
	uint64_t base; /* *_BASE register */
	uint32_t prod, cons; /* index registers */
	uint64_t irq_cfg0; /* EVTQ/PRIQ only */
	uint32_t irq_cfg1, irq_cfg2;
};

/*
 * Permissions kept in TLB entries (bits 0-3 and 7 of hw_tlb_entry.flags;
 * bits 4-6 are HW_TLB_S1/S2/GLOBAL). Instruction fetches also need R.
 */
#define SMMU_P_R (1u << 0) /* data read */
#define SMMU_P_W (1u << 1) /* data write */
#define SMMU_P_PX (1u << 2) /* privileged instruction fetch */
#define SMMU_P_U (1u << 3) /* unprivileged access */
#define SMMU_P_UX (1u << 7) /* unprivileged instruction fetch */
#define SMMU_P_ALL (SMMU_P_R | SMMU_P_W | SMMU_P_PX | SMMU_P_U | SMMU_P_UX)
#define SMMU_P_NEVER \
	(1u << 8) /* needed by malformed requests: no entry has it */

/* fastpath.c: index: the request's IONEST_ACCESS_* bits; value: the
 * SMMU_P_* bits it needs. */
extern const uint16_t smmu_perm_need[16];
/* Index: SMMU_P_* bits (a TLB entry's flags byte) | a privileged request
 * in bit 8; value: the IONEST_ACCESS_* permissions reported. */
extern const uint8_t smmu_res_perm_tab[512];

static inline bool smmu_perm_ok(uint32_t p, uint32_t access)
{
	uint32_t need = smmu_perm_need[access & 15];

	return (p & need) == need;
}

static inline uint32_t smmu_res_perm(uint32_t p, uint32_t access)
{
	return smmu_res_perm_tab[(p & 0xff) |
				 ((access & IONEST_ACCESS_PRIV) ? 256 : 0)];
}

/* Index: SMMU_P_* bits | CD.WXN in bit 8; value: the permissions after
 * the VMSA rules: memory writable at EL0 is never privileged-executable,
 * WXN makes every writable location execute-never. */
extern const uint8_t smmu_s1_rules_tab[512];

static inline uint32_t smmu_s1_perm_rules(uint32_t p, bool wxn)
{
	return smmu_s1_rules_tab[(p & 0xff) | (wxn ? 256 : 0)];
}

/* ASID tags beyond the architectural 16 bits. */
#define SMMU_ASID_S2ONLY 0xffffffffu /* stage-2-only entries */
#define SMMU_ASID_EL2 0x10000u /* EL2 StreamWorld entries */
/* Walk-cache "stream" holding stage-2 translations of output IPAs. */
#define SMMU_WC_SID_LEAF 0xfffffffeu

/* Decoded STE (+ CD) for one (StreamID, SubstreamID). Plain words only:
 * the configuration cache copies it with single-copy-atomic loads. */
struct smmu_cfg {
	uint64_t s1ctxptr, s2ttb, ttb[2];
	uint16_t vmid, asid;
	uint8_t config; /* STE_CFG_ABORT / BYPASS / S1 / S2 / NESTED */
	uint8_t s1; /* stage 1 translates (not bypassed by S1DSS) */
	uint8_t s2;
	uint8_t s1fmt, s1cdmax, s1dss, eats, el2;
	uint8_t s1stalld, s2affd, s2r, s2s, s2ha, s2hd, s2ptw;
	uint8_t s2gran, s2ias, s2oas, s2sl; /* s2sl: engine level */
	uint8_t epd[2], gran[2], ias[2], had[2];
	uint8_t ips, affd, r, stall, ha, hd, tbi, wxn;
	uint8_t pad[2];
};
#define SMMU_CFG_WORDS (sizeof(struct smmu_cfg) / 8)
_Static_assert(sizeof(struct smmu_cfg) % 8 == 0, "copied by words");

/* A fault, as the event record will describe it. */
struct smmu_fault {
	uint8_t type; /* EVT_* */
	uint8_t s2, class, ttrnw;
	uint8_t gate; /* which R bit records it: SMMU_GATE_* */
	uint64_t addr; /* IPA (S2 faults) or fetch address */
};
#define SMMU_GATE_ALWAYS 0
#define SMMU_GATE_S1 1 /* CD.R */
#define SMMU_GATE_S2 2 /* STE.S2R */
#define SMMU_GATE_RECINVSID 3 /* CR2.RECINVSID (C_BAD_STREAMID) */
#define SMMU_GATE_NEVER 4 /* terminate silently (STE abort) */

/* One stage's result. */
struct smmu_stage {
	uint64_t oa;
	uint32_t perm; /* SMMU_P_* */
	uint8_t shift;
	bool global;
};

/* One translation in progress. */
struct smmu_xctx {
	struct hw_nest nest; /* first: the stage-2 callback receives it */
	struct smmu *s;
	const struct ionest_xlate_req *req;
	struct smmu_cfg cfg;
	struct smmu_fault f; /* the fault to report */
	struct smmu_fault s2f; /* stage-2 fault of a nested table fetch */
	uint8_t s2class; /* EVT_CLASS_* of nested fetches under way */
};

struct smmu_cfgc_entry;
struct smmu_cfgc {
	struct smmu_cfgc_entry *e;
	uint32_t mask;
	uint64_t gen; /* bumped by every invalidation */
};

struct smmu {
	struct ionest_hw hw; /* first */
	struct smmu_feat f;
	uint32_t idr[6], iidr, aidr;

	/* Register file; written under @lock, read with atomics. */
	uint32_t cr0, cr1, cr2, gbpa, irq_ctrl, gerror, gerrorn;
	uint64_t gerror_irq_cfg0;
	uint32_t gerror_irq_cfg1, gerror_irq_cfg2;
	uint64_t strtab_base;
	uint32_t strtab_cfg;
	struct smmu_queue cmdq, evtq, priq;

	pthread_mutex_t lock; /* registers, command consumption */
	pthread_mutex_t evtq_lock, priq_lock, cfg_lock;
	bool consuming;

	struct hw_tlb tlb; /* stream-keyed translations */
	struct hw_tlb wc; /* stage-2 walk cache + output-IPA entries */
	struct hw_tlb s1wc; /* stage-1 walk cache (walkc.c) */
	struct smmu_cfgc cfgc;

	struct smmu_stalls stalls; /* stall.c */
};

static inline struct smmu *to_smmu(struct ionest_hw *hw)
{
	return (struct smmu *)hw;
}

static inline uint32_t smmu_ld32(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline void smmu_st32(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static inline uint64_t smmu_ld64(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline void smmu_st64(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

/* Granule shift for a supported granule, 0 if not advertised. */
unsigned smmu_gran_ok(const struct smmu *s, unsigned shift);
/* OAS encoding -> bits (0 for reserved encodings). */
unsigned smmu_pa_bits(unsigned enc);

/* smmu.c: raise a global error (no-op if already active), with IRQ. */
void smmu_gerror_raise(struct smmu *s, uint32_t bit);
/* MSI write of @data to the address in @cfg0 (0 = none); false on abort. */
bool smmu_msi(struct smmu *s, uint64_t cfg0, uint32_t data);

/* queue.c */
/* Record an event; true if written to the event queue. */
bool smmu_evtq_record(struct smmu *s, const uint64_t ev[4]);
/* Queue a page request; false if lost (queue off, full or aborted). */
bool smmu_priq_record(struct smmu *s, const uint64_t ent[2]);
/* Queue geometry helpers shared with the command queue. */
static inline unsigned smmu_q_log2(const struct smmu_queue *q, unsigned max)
{
	unsigned l = (unsigned)(q->base & Q_BASE_LOG2);

	return l > max ? max : l;
}

/* cmdq.c: consume commands while possible (call with @lock held). */
void smmu_cmdq_consume(struct smmu *s);

/* config.c: fetch and decode the configuration of transaction x->req.
 * Returns true with x->cfg, or false with x->f describing the fault. */
bool smmu_config_fetch(struct smmu_xctx *x);
/* Its pieces, for explain.c (same returns; faults in x->f). */
struct smmu_l1std {
	uint64_t pa, desc; /* the level-1 descriptor read, if @read */
	bool read;
};
/* Bus address of the STE; @l1 (may be NULL) gets the L1STD of a 2-level
 * table. */
bool smmu_ste_locate(struct smmu_xctx *x, uint64_t *pa, struct smmu_l1std *l1);
/* Decode the STE words into x->cfg (zeroed by the caller). */
bool smmu_ste_decode(struct smmu_xctx *x, const uint64_t *ste);
/* Which CD serves x->req: 1 with *idx, 0 none (S1DSS bypasses stage 1:
 * x->cfg.s1 cleared), -1 a fault. */
int smmu_cd_select(struct smmu_xctx *x, uint64_t *idx);
bool smmu_cd_decode(struct smmu_xctx *x, const uint64_t *cd);
/* Index bits of a level-2 CD table for STE.S1Fmt 2-level formats. */
static inline unsigned smmu_cd_leaf_bits(unsigned s1fmt)
{
	return s1fmt == S1FMT_4K ? 6 : 10;
}

/* cfgc.c */
int smmu_cfgc_init(struct smmu_cfgc *c, unsigned entries);
void smmu_cfgc_fini(struct smmu_cfgc *c);
static inline uint64_t smmu_cfgc_gen(struct smmu_cfgc *c)
{
	return __atomic_load_n(&c->gen, __ATOMIC_SEQ_CST);
}
bool smmu_cfgc_lookup(struct smmu_cfgc *c, uint32_t sid, uint32_t ssid_key,
		      struct smmu_cfg *out);
void smmu_cfgc_insert(struct smmu *s, uint32_t sid, uint32_t ssid_key,
		      const struct smmu_cfg *cfg, uint64_t gen);
/* Drop entries of SIDs [first, last]; with @ssid_key >= 0 only that
 * substream (SMMU_CFGC_ANY for all). */
#define SMMU_CFGC_ANY (-1ll)
void smmu_cfgc_invalidate(struct smmu *s, uint32_t first, uint32_t last,
			  int64_t ssid_key);

/* fastpath.c: the hw_ops translate entry point. */
int smmu_translate(struct ionest_hw *hw, const struct ionest_xlate_req *req,
		   struct ionest_xlate_res *res);
/* fastpath.c: set the DMA hit rule (lib/hw/hw.h). */
void smmu_dma_rule(struct smmu *s);

/* explain.c: the hw_ops explain (hw/explain.h). */
int smmu_explain(struct ionest_hw *hw, const struct ionest_xlate_req *req,
		 struct hw_explain *x);

/* xlate.c */
/* Point x->nest at the stage 2 of x->cfg (for nested fetches). */
void smmu_nest_setup(struct smmu_xctx *x);
/* The full path of a well-formed request with translation on that the
 * TLB did not serve: configuration, walks, faults, TLB fill. @tgen: the
 * TLB generation, read before any configuration, walk-cache or table
 * read (a fill after an invalidation that started since is refused). */
int smmu_xlate_full(struct smmu *s, const struct ionest_xlate_req *req,
		    struct ionest_xlate_res *res, uint64_t tgen);
/* Result of an untranslated (bypassed) access. */
int smmu_bypass(const struct ionest_xlate_req *req,
		struct ionest_xlate_res *res);
/* Fill the four words of an event for a fault of transaction @req. */
void smmu_event_build(uint64_t ev[4], const struct smmu_fault *f,
		      const struct ionest_xlate_req *req);

/* walkc.c: the stage-1 walk cache (entry format: walkc.h). */
/* A stage-1 leaf read through the walk cache: the stage-1 result (its
 * permissions after the table descriptors' denials, before
 * smmu_s1_perm_rules) and the SMMU_WC_* bits of the entry. */
struct smmu_s1leaf {
	struct smmu_stage st;
	uint64_t desc; /* the page descriptor */
	uint32_t cfg;
};
/* The leaf of @va for transaction x->req under x->cfg: *o = the stage-1
 * result; false: walk in full. */
bool smmu_s1wc_lookup(struct smmu_xctx *x, uint64_t va, unsigned half,
		      struct smmu_stage *o);
/* Remember the last-level table of a successful full walk (@w with
 * records) if it ended on a page; @gen from before the walk. */
void smmu_s1wc_fill(struct smmu_xctx *x, uint64_t va, unsigned half,
		    const struct pt_walk *w, uint64_t gen);

/* stall.c: held stalls are in @stalls (smmu_stalls_hold/take, stall.h).
 * smmu_stall_init leaves @stalls fini-able even when it fails. */
int smmu_stall_init(struct smmu *s);
void smmu_stall_fini(struct smmu *s);
/* CMD_STALL_TERM: release every stall of @sid, telling the platform. */
void smmu_stall_term(struct smmu *s, uint32_t sid);

#endif
