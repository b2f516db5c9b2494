/* SPDX-License-Identifier: MIT */
/*
 * What every hardware model shares: the instance base (embedded first in
 * struct smmu / struct vtd), its bus, platform callbacks and counters.
 */
#ifndef IONEST_HW_INTERNAL_H
#define IONEST_HW_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <ionest/hw.h>

#include "hw/dma_rule.h"
#include "pt/pt.h"
#include "trace/counters.h"
#include "trace/trace.h"

struct hw_explain;

struct hw_ops {
	const char *model; /* "smmuv3", "vtd" */
	int (*mmio_read)(struct ionest_hw *hw, uint64_t off, unsigned size,
			 uint64_t *val);
	int (*mmio_write)(struct ionest_hw *hw, uint64_t off, unsigned size,
			  uint64_t val);
	int (*translate)(struct ionest_hw *hw,
			 const struct ionest_xlate_req *req,
			 struct ionest_xlate_res *res);
	void (*flush_caches)(struct ionest_hw *hw);
	/* Optional: re-derive translate's answer step by step without
	 * changing any state (hw/explain.h); 0 or -ENOMEM. */
	int (*explain)(struct ionest_hw *hw, const struct ionest_xlate_req *req,
		       struct hw_explain *x);
	bool (*can_nest)(const struct ionest_hw *hw);
	void (*free)(struct ionest_hw *hw);
};

/* Counters every model keeps (component = the instance name). */
#define HW_COUNTERS(X)      \
	X(hw, translate)    \
	X(hw, tlb_hit)      \
	X(hw, tlb_miss)     \
	X(hw, cfg_hit)      \
	X(hw, cfg_miss)     \
	X(hw, walk)         \
	X(hw, walk_read)    \
	X(hw, s2wc_hit)     \
	X(hw, s2wc_miss)    \
	X(hw, fault)        \
	X(hw, event)        \
	X(hw, event_lost)   \
	X(hw, page_request) \
	X(hw, command)      \
	X(hw, invalidation) \
	X(hw, atc_inv)      \
	X(hw, sync)         \
	X(hw, interrupt)
enum hw_counter { HW_COUNTERS(CTR_ENUM) HW_COUNTER_COUNT };

struct ionest_hw {
	const struct hw_ops *ops;
	unsigned id; /* unique per process, for traces */
	char name[32];

	const struct ionest_bus_ops *bus_ops; /* NULL: identity */
	void *bus_ctx;

	ionest_irq_fn irq_fn;
	void *irq_ctx;
	ionest_atc_inv_fn atc_inv_fn;
	void *atc_inv_ctx;
	ionest_page_resp_fn page_resp_fn;
	void *page_resp_ctx;
	ionest_resume_fn resume_fn;
	void *resume_ctx;

	struct ctr_block ctr;
	uint64_t ctr_val[HW_COUNTER_COUNT];

	struct hw_dma_rule dma; /* hw_dma_rule_set */
};

/* Set up the base: ops, a default name "<prefix><id>", counters. */
void hw_init(struct ionest_hw *hw, const struct hw_ops *ops,
	     const char *name_prefix);
/* Undo hw_init (unregister counters). */
void hw_fini(struct ionest_hw *hw);

static inline void hw_count(struct ionest_hw *hw, enum hw_counter c)
{
	ctr_inc(&hw->ctr_val[c]);
}

/*
 * Set the model's DMA hit rule (struct hw_dma_rule; @deny 0: nothing
 * denied). @serves is the predicate the model's translate applies to a TLB
 * entry's flags for a plain read or write, with or without a PASID: the
 * masks are checked against it for every flags byte, and a rule that
 * disagrees anywhere is not set (no fast path, never a wrong answer).
 * Returns whether it was set.
 */
bool hw_dma_rule_set(struct ionest_hw *hw, struct hw_tlb *tlb,
		     const uint32_t *on, uint32_t on_mask, uint32_t on_val,
		     uint8_t need_read, uint8_t need_write, uint8_t deny,
		     bool (*serves)(uint32_t flags, uint32_t access,
				    bool pasid));

/* The context of stream @sid (StreamID / source-id) on @hw (NULL, or a
 * model without a rule: sets NULL, no fast path). */
void hw_dma_ctx_init(struct hw_dma_ctx *c, struct ionest_hw *hw, uint32_t sid);

/* Count a hit of hw_dma_lookup as translate counts it. */
static inline void hw_dma_count(const struct hw_dma_ctx *c)
{
	uint64_t *ctr = c->ctr;

	ctr_inc(&ctr[hw_translate]);
	ctr_inc(&ctr[hw_tlb_hit]);
}

/* hw_dma_lookup and, on a hit, hw_dma_count. */
static inline __attribute__((always_inline)) struct hw_dma_hit
hw_dma_probe(const struct hw_dma_ctx *c, uint64_t key, uint64_t iova,
	     uint32_t access)
{
	struct hw_dma_hit h =
		hw_dma_lookup(c, key, hw_tlb_mix(key), iova, access);

	if (h.size)
		hw_dma_count(c);
	return h;
}

/* hw_dma_probe of the model's rule, out of line (size 0 without a rule). */
struct hw_dma_hit hw_dma_hit(struct ionest_hw *hw, uint64_t key, uint64_t iova,
			     uint32_t access);

/* Host pointer for [pa, pa + len) on the model's bus, NULL if nothing is
 * there (the model then raises its external-abort fault). */
static inline void *hw_bus_map(struct ionest_hw *hw, uint64_t pa, uint64_t len,
			       bool write)
{
	if (__builtin_expect(!hw->bus_ops, 1)) {
		if (pa + len < pa || !pa)
			return NULL;
		return (void *)(uintptr_t)pa;
	}
	return hw->bus_ops->map(hw->bus_ctx, pa, len, write);
}

/* 64-bit single-copy-atomic reads and writes of table/queue memory that
 * software may be changing concurrently. */
static inline uint64_t hw_read64(const void *p)
{
	return __atomic_load_n((const uint64_t *)p, __ATOMIC_RELAXED);
}

static inline void hw_write64(void *p, uint64_t v)
{
	__atomic_store_n((uint64_t *)p, v, __ATOMIC_RELAXED);
}

/* Read @n 64-bit words at bus address @pa into @out; false on abort. */
bool hw_bus_read(struct ionest_hw *hw, uint64_t pa, uint64_t *out, unsigned n);
/* Write @n 64-bit words; false on abort. */
bool hw_bus_write(struct ionest_hw *hw, uint64_t pa, const uint64_t *in,
		  unsigned n);
/* 32-bit write (MSI data, VT-d wait status); false on abort. */
bool hw_bus_write32(struct ionest_hw *hw, uint64_t pa, uint32_t val);

/* A pt_mem that reaches tables through this model's bus (identity bus:
 * {NULL}). The table() hook counts walk_read per table visited. */
struct pt_mem hw_bus_pt_mem(struct ionest_hw *hw);

/*
 * The platform's MSI doorbell: one page of the interrupt controller (the
 * part a GIC ITS's translation register plays). The host maps it in the
 * software MSI window (IOMMU_RESV_SW_MSI); VT-d interrupt requests are
 * sent to it. A device write that lands in it is an MSI (lib/dev/msi.c),
 * never stored.
 */
#define HW_MSI_DOORBELL_SIZE 4096u
extern uint8_t hw_msi_doorbell[HW_MSI_DOORBELL_SIZE];

static inline bool hw_is_msi_doorbell(uint64_t pa)
{
	return pa - (uint64_t)(uintptr_t)hw_msi_doorbell < HW_MSI_DOORBELL_SIZE;
}

/* The x86 interrupt address range (VT-d spec 3.15): requests without a
 * PASID there are interrupt requests, not DMA. */
#define HW_X86_INTR_START 0xfee00000ull
#define HW_X86_INTR_LAST 0xfeefffffull

static inline bool hw_x86_intr_range(uint64_t addr)
{
	return (addr >> 20) == (HW_X86_INTR_START >> 20);
}

static inline void hw_irq(struct ionest_hw *hw, enum ionest_hw_irq line)
{
	if (hw->irq_fn)
		hw->irq_fn(hw->irq_ctx, line);
}

#endif
