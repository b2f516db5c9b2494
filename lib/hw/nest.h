/* SPDX-License-Identifier: MIT */
/*
 * Walk composition for nested translation, shared by the models: a pt_mem
 * accessor through which a stage-1 walk (or a CD / PASID-table fetch) reads
 * its tables at stage-1 "physical" addresses (IPA / GPA), each translated by
 * the model's stage 2, with a stage-2 walk cache in front.
 *
 * Walk-cache entries live in a struct hw_tlb under sid = HW_TLB_SID_S2WC,
 * ssid = the stage-2 tag (VMID / DID), va = IPA block, pa = host block;
 * invalidate them with HW_TLB_M_SID|HW_TLB_M_SSID (+ RANGE) on stage-2
 * invalidations (TLBI_S2_IPA, TLBI_S12_VMALL, domain-selective IOTLB ...).
 */
#ifndef IONEST_HW_NEST_H
#define IONEST_HW_NEST_H

#include <stdbool.h>
#include <stdint.h>

#include "hw/hw.h"
#include "hw/tlb.h"
#include "pt/pt.h"

struct hw_nest;

/*
 * The model's stage-2 translation of @ipa for a table access (@write for
 * A/D updates). On success: *pa = host address of @ipa, *shift = log2 of the
 * stage-2 block it came from (what the walk cache may hold), true. On a
 * fault: record it wherever the model wants (usually in the struct that
 * embeds the hw_nest) and return false.
 */
typedef bool (*hw_s2_table_fn)(struct hw_nest *n, uint64_t ipa, bool write,
			       uint64_t *pa, unsigned *shift);

struct hw_nest {
	struct ionest_hw *hw;
	struct hw_tlb *wc; /* stage-2 walk cache; NULL = none */
	uint32_t wc_tag; /* VMID / DID */
	hw_s2_table_fn s2;
	uint64_t fault_ipa; /* last IPA whose translation failed */
	bool faulted;
};

/* Accessor for pt_walk / descriptor fetches through stage 2. */
struct pt_mem hw_nest_pt_mem(struct hw_nest *n);

/* Fetch @n 64-bit words at stage-1 physical address @ipa (CD, L1CD, PASID
 * directory / table entries) through stage 2; false on a stage-2 fault
 * (n->faulted, n->fault_ipa) or bus abort (n->faulted false). */
bool hw_nest_read(struct hw_nest *n, uint64_t ipa, uint64_t *out,
		  unsigned count);

#endif
