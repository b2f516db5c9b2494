// SPDX-License-Identifier: MIT
/* Stage-1 table fetches through stage 2, with the stage-2 walk cache. */
#include "hw/nest.h"

/* Host address of stage-1 physical address @ipa, via the walk cache. */
static bool nest_translate(struct hw_nest *n, uint64_t ipa, bool write,
			   uint64_t *pa)
{
	struct hw_tlb_entry e;
	uint64_t gen = 0, out;
	unsigned shift;

	/* Cached stage-2 results are used for reads only: an A/D write-back
	 * needs the stage-2 write permission checked on the walk. */
	if (n->wc && !write) {
		if (hw_tlb_lookup(n->wc, HW_TLB_SID_S2WC, n->wc_tag, ipa, &e)) {
			hw_count(n->hw, hw_s2wc_hit);
			*pa = e.pa + (ipa & ((1ull << e.shift) - 1));
			return true;
		}
		hw_count(n->hw, hw_s2wc_miss);
		gen = hw_tlb_gen(n->wc);
	}
	/* The callback may also set faulted; a false return is a stage-2
	 * fault unless it says otherwise (a bus abort clears it). */
	n->faulted = true;
	if (!n->s2(n, ipa, write, &out, &shift)) {
		n->fault_ipa = ipa;
		return false;
	}
	n->faulted = false;
	if (n->wc && !write && shift >= 12 && shift < 64) {
		e = (struct hw_tlb_entry){
			.va = (ipa >> shift) << shift,
			.pa = (out >> shift) << shift,
			.sid = HW_TLB_SID_S2WC,
			.ssid = n->wc_tag,
			.dom = (uint16_t)n->wc_tag,
			.shift = (uint8_t)shift,
			.flags = HW_TLB_S2,
		};
		hw_tlb_insert(n->wc, &e, gen);
	}
	*pa = out;
	return true;
}

static void *nest_table(void *ctx, uint64_t ipa, size_t size, bool write)
{
	struct hw_nest *n = ctx;
	uint64_t pa;

	hw_count(n->hw, hw_walk_read);
	/* A fetch never crosses a stage-2 page: descriptors are 8 bytes
	 * and naturally aligned. */
	if (!nest_translate(n, ipa, write, &pa))
		return NULL;
	return hw_bus_map(n->hw, pa, size, write);
}

static const struct pt_mem_ops nest_mem_ops = {
	.table = nest_table,
};

struct pt_mem hw_nest_pt_mem(struct hw_nest *n)
{
	return (struct pt_mem){ .ops = &nest_mem_ops, .ctx = n };
}

bool hw_nest_read(struct hw_nest *n, uint64_t ipa, uint64_t *out,
		  unsigned count)
{
	uint64_t page = 1, base = 0;

	/* Structures (CDs, PASID entries) may span stage-2 pages; translate
	 * once per 4K page they touch. */
	for (unsigned i = 0; i < count; i++) {
		uint64_t a = ipa + 8ull * i;

		if (a < ipa || (a & 7))
			return false;
		if ((a >> 12) != page) {
			if (!nest_translate(n, a & ~0xfffull, false, &base))
				return false;
			page = a >> 12;
		}
		if (!hw_bus_read(n->hw, base + (a & 0xfff), &out[i], 1)) {
			n->faulted = false;
			return false;
		}
	}
	return true;
}
