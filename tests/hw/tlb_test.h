/* SPDX-License-Identifier: MIT */
/* What the shared TLB's suites share: an entry from its fields and an
 * insert that must succeed. */
#ifndef IONEST_TESTS_HW_TLB_TEST_H
#define IONEST_TESTS_HW_TLB_TEST_H

#include "test_util.h"
#include "hw/tlb.h"

static inline struct hw_tlb_entry tlb_mk(uint32_t sid, uint32_t ssid,
					 uint64_t va, uint64_t pa,
					 unsigned shift, uint16_t dom,
					 uint32_t asid, uint8_t flags)
{
	return (struct hw_tlb_entry){ .va = va,
				      .pa = pa,
				      .sid = sid,
				      .ssid = ssid,
				      .dom = dom,
				      .asid = asid,
				      .shift = (uint8_t)shift,
				      .flags = flags };
}

/* Insert @e at the current generation: nothing races it. */
static inline void tlb_insert(struct hw_tlb *t, struct hw_tlb_entry e)
{
	assert_true(hw_tlb_insert(t, &e, hw_tlb_gen(t)));
}

#endif
