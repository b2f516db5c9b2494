/* SPDX-License-Identifier: MIT */
/*
 * The DMA path's TLB hit, as data: a model states the hit branch of its
 * translate for a device's plain read or write as a rule (struct
 * hw_dma_rule, set with hw_dma_rule_set in hw.h), and lib/dev/dma.c
 * applies it inline from a per-device copy (struct hw_dma_ctx) with no
 * call into the model. Counting and the out-of-line forms are in hw.h.
 */
#ifndef IONEST_HW_DMA_RULE_H
#define IONEST_HW_DMA_RULE_H

#include <stdbool.h>
#include <stdint.h>

#include "hw/tlb.h"

/*
 * A model's TLB hit for a device's plain DMA, as data rather than code, so
 * that the device DMA path applies it inline (hw_dma_lookup) with no call
 * into the model. For an untranslated access (no ATS, no PRIV or EXEC) of
 * exactly IONEST_ACCESS_READ or IONEST_ACCESS_WRITE, the PASID (if any)
 * at most 20 bits, it is a hit when
 *   - translation is on: (*on & on_mask) == on_val,
 *   - @tlb holds an entry for the stream and the address at the smallest
 *     block size present,
 *   - the entry's flags f serve the access: (f & need[access - 1]) ==
 *     need[access - 1] and (f & deny) != deny,
 * and a hit counts what translate counts for it (translate, tlb_hit).
 * This must be exactly the hit branch of the model's translate; every
 * other case is left to translate, which gives the full answer.
 */
struct hw_dma_rule {
	struct hw_tlb *tlb; /* NULL: the model has no DMA fast path */
	const uint32_t *on;
	uint32_t on_mask, on_val;
	uint8_t need[2]; /* [access - 1] */
	uint16_t deny; /* 0x100 (no flag byte has it): nothing denied */
};

/*
 * A stream's view of its model's rule, as the DMA path keeps it per
 * device (hw_dma_ctx_init): the TLB's geometry is fixed from hw_tlb_init
 * on, so it is copied here and the set of an address is one load from the
 * context, not three. One cache line.
 */
struct hw_dma_ctx {
	struct hw_tlb_set *sets; /* NULL: no fast path */
	uint32_t set_mask; /* hw_tlb.set_mask (< 2^31: sets <= 2^24) */
	uint32_t mix; /* hw_tlb_mix(key) */
	uint64_t key; /* the stream without a PASID */
	const uint64_t *shifts; /* the TLB's block sizes present */
	const uint32_t *on;
	uint32_t on_mask, on_val;
	uint64_t *ctr; /* the model's ctr_val */
	uint8_t need[2];
	uint16_t deny;
} __attribute__((aligned(64)));
_Static_assert(sizeof(struct hw_dma_ctx) == 64, "one cache line");

/* Entry flags @fl serve @access (IONEST_ACCESS_READ or _WRITE). */
static inline bool hw_dma_serves(const struct hw_dma_ctx *c, uint32_t fl,
				 uint32_t access)
{
	uint32_t need = c->need[access - 1];

	return (fl & need) == need && (fl & c->deny) != c->deny;
}

/* The answer of a DMA hit: two words, so it comes back in registers. */
struct hw_dma_hit {
	uint64_t host; /* output address of the access */
	uint64_t size; /* the entry's block size; 0: no hit */
};

/* The rule at block size 1 << @sh (7 <= @sh <= 63), for hw_dma_lookup:
 * the set's address from the copied geometry, as hw_tlb_set_at. */
static inline __attribute__((always_inline)) struct hw_dma_hit
hw_dma_at(const struct hw_dma_ctx *c, uint64_t key, uint64_t mix, uint64_t iova,
	  uint32_t access, unsigned sh)
{
	const struct hw_tlb_set *set =
		(const struct hw_tlb_set *)((const char *)c->sets +
					    (((iova >> (sh - 7)) ^ mix) &
					     c->set_mask));
	uint64_t pa, attr;

	if (__builtin_expect(
		    hw_tlb_probe_set(set, key, iova, sh, &pa, &attr) <= 0, 0) ||
	    __builtin_expect(!hw_dma_serves(c, hw_tlb_attr_flags(attr), access),
			     0))
		return (struct hw_dma_hit){ 0, 0 };
	/* The probe matched size @sh. */
	return (struct hw_dma_hit){
		.host = pa + (iova & ((1ull << sh) - 1)),
		.size = 1ull << sh,
	};
}

/*
 * The rule applied to stream @key (c->key, or with a PASID c->key | (PASID |
 * HW_TLB_SSID_VALID) << 32; @mix its hw_tlb_mix) and @access
 * (IONEST_ACCESS_READ or _WRITE), without counting: the output address of
 * @iova and the entry's block size, or size 0. A hit must then be counted
 * (hw_dma_count) before it is used; a miss changed nothing. The probe is
 * at the smallest block size present.
 */
static inline __attribute__((always_inline)) struct hw_dma_hit
hw_dma_lookup(const struct hw_dma_ctx *c, uint64_t key, uint64_t mix,
	      uint64_t iova, uint32_t access)
{
	const uint64_t shifts = __atomic_load_n(c->shifts, __ATOMIC_RELAXED);

	if (__builtin_expect(!shifts ||
				     (__atomic_load_n(c->on, __ATOMIC_ACQUIRE) &
				      c->on_mask) != c->on_val,
			     0))
		return (struct hw_dma_hit){ 0, 0 };
	return hw_dma_at(c, key, mix, iova, access,
			 (unsigned)__builtin_ctzll(shifts));
}

/*
 * hw_dma_lookup where the smallest block size present is 4K, the common
 * case; size 0 (as a miss) otherwise. The size is a constant, so the set's
 * address does not wait for the load of the sizes present: this is the
 * DMA fast path's.
 */
static inline __attribute__((always_inline)) struct hw_dma_hit
hw_dma_lookup_4k(const struct hw_dma_ctx *c, uint64_t key, uint64_t mix,
		 uint64_t iova, uint32_t access)
{
	const uint64_t shifts = __atomic_load_n(c->shifts, __ATOMIC_RELAXED);

	if (__builtin_expect((shifts & ((2ull << 12) - 1)) != 1ull << 12 ||
				     (__atomic_load_n(c->on, __ATOMIC_ACQUIRE) &
				      c->on_mask) != c->on_val,
			     0))
		return (struct hw_dma_hit){ 0, 0 };
	return hw_dma_at(c, key, mix, iova, access, 12);
}

#endif
