// SPDX-License-Identifier: MIT
/*
 * The translate entry point and its two hot paths (spec/performance.md T1,
 * T2):
 *  - a TLB hit: one probe keyed by stream, a permission check, the result;
 *  - a TLB miss the walk caches serve: the stage-1 walk cache names the
 *    last-level table and carries the configuration bits the leaf needs
 *    (walkc.c), one descriptor read gives the stage-1 output, the stage-2
 *    leaf cache its host address, and the result is filled into the TLB.
 * Anything else - a configuration to fetch, a walk, a fault, an ATS
 * request, translation off - takes the full path of xlate.c. The hot paths
 * only ever give the answer the full path would; where they are unsure
 * they step aside before changing anything.
 */
#include <errno.h>

#include "hw/smmuv3/walkc.h"

#define ACC_R IONEST_ACCESS_READ
#define ACC_W IONEST_ACCESS_WRITE
#define ACC_X IONEST_ACCESS_EXEC
#define ACC_P IONEST_ACCESS_PRIV

/*
 * Index: the request's IONEST_ACCESS_* bits; value: the SMMU_P_* bits it
 * needs. Instruction fetches are reads that also need the execute
 * permission of their privilege level; unprivileged accesses need AP[1]
 * (SMMU_P_U). Requests without R/W/X (0 and PRIV alone) are malformed:
 * they need a bit no entry has, so they never hit.
 */
#define NEED(a)                                                  \
	(!((a) & (ACC_R | ACC_W | ACC_X)) ?                      \
		 SMMU_P_NEVER :                                  \
		 ((((a) & (ACC_R | ACC_X)) ? SMMU_P_R : 0) |     \
		  (((a)&ACC_W) ? SMMU_P_W : 0) |                 \
		  (((a)&ACC_P) ? (((a)&ACC_X) ? SMMU_P_PX : 0) : \
				 (SMMU_P_U | (((a)&ACC_X) ? SMMU_P_UX : 0)))))
#define NEED4(a) NEED(a), NEED(a + 1), NEED(a + 2), NEED(a + 3)
const uint16_t smmu_perm_need[16] = { NEED4(0), NEED4(4), NEED4(8), NEED4(12) };

/*
 * Permissions as reported to the caller: PRIV is set when the block is
 * privileged-only. Index: a TLB entry's flags byte (SMMU_P_R, W, PX, U in
 * bits 0-3, UX in bit 7; bits 4-6 are ignored) with a privileged request in
 * bit 8. R/W/U/X of the request's privilege level: @pr/@pw the read and
 * write bits, @u AP[1], @x the execute bit of that level.
 */
#define RPV(pr, pw, u, x, priv)                             \
	((!(priv) && !(u)) ?                                \
		 0 :                                        \
		 (((pr) ? ACC_R : 0) | ((pw) ? ACC_W : 0) | \
		  (((pr) && (x)) ? ACC_X : 0) | ((u) ? 0 : ACC_P)))
#define RP(i) RPV((i)&1, (i)&2, (i)&8, ((i)&256) ? (i)&4 : (i)&128, (i)&256)
#define RP4(i) RP(i), RP(i + 1), RP(i + 2), RP(i + 3)
#define RP16(i) RP4(i), RP4(i + 4), RP4(i + 8), RP4(i + 12)
#define RP64(i) RP16(i), RP16(i + 16), RP16(i + 32), RP16(i + 48)
#define RP256(i) RP64(i), RP64(i + 64), RP64(i + 128), RP64(i + 192)
const uint8_t smmu_res_perm_tab[512] = { RP256(0), RP256(256) };

/* smmu_s1_rules_tab (smmu.h): WU applies "EL0-writable is never
 * privileged-executable", then bit 8 (WXN) makes writable execute-never. */
#define WU(p) (((p)&SMMU_P_W) && ((p)&SMMU_P_U) ? (p) & ~SMMU_P_PX : (p))
#define RULE(i)                                           \
	(((i)&256) && (WU((i)&255) & SMMU_P_W) ?          \
		 WU((i)&255) & ~(SMMU_P_PX | SMMU_P_UX) : \
		 WU((i)&255))
#define RULE4(i) RULE(i), RULE(i + 1), RULE(i + 2), RULE(i + 3)
#define RULE16(i) RULE4(i), RULE4(i + 4), RULE4(i + 8), RULE4(i + 12)
#define RULE64(i) RULE16(i), RULE16(i + 16), RULE16(i + 32), RULE16(i + 48)
#define RULE256(i) RULE64(i), RULE64(i + 64), RULE64(i + 128), RULE64(i + 192)
const uint8_t smmu_s1_rules_tab[512] = { RULE256(0), RULE256(256) };

/* ---- a TLB miss served by the walk caches ---- */

static bool canonical(uint64_t va)
{
	return (uint64_t)((int64_t)(va << 8) >> 8) == va;
}

/* Field by field: a compound literal here may become a rep stos, whose
 * start-up cost is a large part of a hit. */
static inline void result_ok(struct ionest_xlate_res *res, uint64_t iova,
			     uint64_t pa, unsigned shift, uint32_t flags,
			     uint32_t access)
{
	res->status = IONEST_XLATE_OK;
	res->perm = smmu_res_perm(flags, access);
	res->addr = pa + (iova & ((1ull << shift) - 1));
	res->size = 1ull << shift;
	res->fault = 0;
	res->recorded = false;
	res->stage2 = false;
	res->stag = 0;
	res->fault_addr = 0;
}

/*
 * The steady-state miss of a stage-1 or nested stream: true with *res
 * filled and the TLB filled when the walk caches hold everything it needs;
 * false, with nothing changed but counters, when the full path must run
 * (it then reports any fault). @key: the stream's TLB key; @tgen: the TLB
 * generation read before the walk caches, so a fill racing with an
 * invalidation is refused; @tset: the TLB set probed for the block at size
 * 1 << @tshift (NULL: none), where the fill goes if it has that size.
 */
static bool miss_cached(struct smmu *s, const struct ionest_xlate_req *r,
			uint64_t key, uint64_t tgen, struct hw_tlb_set *tset,
			unsigned tshift, struct ionest_xlate_res *res)
{
	const uint64_t va = r->iova, mix = hw_tlb_mix(key);
	const uint32_t access = r->access;
	uint64_t shifts = __atomic_load_n(&s->s1wc.shifts, __ATOMIC_RELAXED);
	uint64_t tbl, attr, oa, out;
	struct smmu_s1leaf l;
	unsigned span, shift;
	uint32_t p, flags;

	/* One stage-1 block size in use (one granule): the common case.
	 * Mixed granules take the full path, which knows the stream's. */
	if (!shifts || (shifts & (shifts - 1)) || !canonical(va))
		return false;
	span = (unsigned)__builtin_ctzll(shifts);
	if (hw_tlb_probe_set(hw_tlb_set_at(&s->s1wc, mix, va, span), key, va,
			     span, &tbl, &attr) <= 0 ||
	    !smmu_s1wc_read_leaf(s, tbl, hw_tlb_attr_flags(attr), va, span, &l))
		return false;
	p = smmu_s1_perm_rules(l.st.perm, l.cfg & SMMU_WC_WXN);
	if (!smmu_perm_ok(p, access))
		return false;
	oa = l.st.oa;
	shift = l.st.shift;
	flags = HW_TLB_S1 | (l.st.global ? HW_TLB_GLOBAL : 0);
	if (l.cfg & SMMU_WC_S2) {
		/* Stage 2 of the output IPA from the leaf cache; the VMID is
		 * the entry's domain (nested streams have no EL2 world). */
		uint64_t a2;
		uint32_t p2;
		unsigned sh2;

		if (!hw_tlb_find_attr(&s->wc, SMMU_WC_SID_LEAF,
				      hw_tlb_attr_dom(attr), oa, &out, &a2))
			return false;
		p2 = hw_tlb_attr_flags(a2) & SMMU_P_ALL;
		if (!smmu_perm_ok(p2, access))
			return false;
		sh2 = hw_tlb_attr_shift(a2);
		oa = out + (oa & ((1ull << sh2) - 1));
		p &= p2;
		if (sh2 < shift)
			shift = sh2;
		flags |= HW_TLB_S2;
		hw_count(&s->hw, hw_s2wc_hit);
	}
	out = (oa >> shift) << shift;
	if (!tset || shift != tshift)
		tset = hw_tlb_set_at(&s->tlb, mix, va, shift);
	hw_tlb_insert_set(&s->tlb, tset, va, out, key,
			  hw_tlb_attr(hw_tlb_attr_dom(attr), shift, p | flags,
				      hw_tlb_attr_asid(attr)),
			  tgen);
	result_ok(res, va, out, shift, p, access);
	return true;
}

/* ---- translate ---- */

/* The request checks a TLB hit vouches for: the StreamID and SubstreamID
 * within their sizes, known access bits, one of R/W/X. */
static inline bool request_ok(const struct smmu *s,
			      const struct ionest_xlate_req *r, uint32_t ssid)
{
	return !((r->sid & s->f.sid_bad) | (ssid & s->f.ssid_bad) |
		 (r->access & ~0xfu)) &&
	       (r->access & (ACC_R | ACC_W | ACC_X));
}

/* SMMUEN=0: GBPA decides, nothing is recorded. */
static int disabled(struct smmu *s, const struct ionest_xlate_req *r,
		    struct ionest_xlate_res *res)
{
	if (smmu_ld32(&s->gbpa) & GBPA_ABORT) {
		*res = (struct ionest_xlate_res){ .status =
							  IONEST_XLATE_FAULT };
		return 0;
	}
	return smmu_bypass(r, res);
}

/*
 * A well-formed request (already counted), translation on, that no TLB
 * entry serves: the walk caches, else the full path. @key, @tset, @tshift
 * as for miss_cached.
 */
static __attribute__((noinline)) int
translate_miss(struct smmu *s, const struct ionest_xlate_req *r,
	       struct ionest_xlate_res *res, uint64_t key,
	       struct hw_tlb_set *tset, unsigned tshift)
{
	uint64_t tgen;

	hw_count(&s->hw, hw_tlb_miss);
	tgen = hw_tlb_gen(&s->tlb);
	/* Translation requests check EATS in the configuration. */
	if (!r->ats && miss_cached(s, r, key, tgen, tset, tshift, res))
		return 0;
	return smmu_xlate_full(s, r, res, tgen);
}

/*
 * Everything the hit path does not settle: request checks, translation
 * off, ATS, the block sizes not yet probed (@todo), misses.
 */
static __attribute__((noinline)) int
translate_other(struct smmu *s, const struct ionest_xlate_req *r,
		struct ionest_xlate_res *res, uint64_t todo)
{
	const uint32_t ssid = r->ssid_valid ? r->ssid : 0;
	const uint64_t key = hw_tlb_key(
		r->sid, r->ssid_valid ? ssid | HW_TLB_SSID_VALID : 0);
	uint64_t pa, attr;

	if (!request_ok(s, r, ssid))
		return -EINVAL;
	hw_count(&s->hw, hw_translate);
	if (!(smmu_ld32(&s->cr0) & CR0_SMMUEN))
		return disabled(s, r, res);
	if (!r->ats && todo &&
	    hw_tlb_find_sizes(&s->tlb, r->sid, (uint32_t)(key >> 32), r->iova,
			      todo, &pa, &attr) &&
	    smmu_perm_ok(hw_tlb_attr_flags(attr), r->access)) {
		hw_count(&s->hw, hw_tlb_hit);
		result_ok(res, r->iova, pa, hw_tlb_attr_shift(attr),
			  hw_tlb_attr_flags(attr), r->access);
		return 0;
	}
	return translate_miss(s, r, res, key, NULL, 0);
}

/*
 * The hit path. It checks only what a hit depends on: a TLB entry exists
 * only for a stream the full checks accepted, so a hit vouches for the
 * StreamID and SubstreamID (a SubstreamID with bit 31 set could alias the
 * valid flag of the key and is left to the full checks); access values
 * without R/W/X need SMMU_P_NEVER and never hit. A miss at the only block
 * size in use goes straight to translate_miss with the set it probed.
 */
int smmu_translate(struct ionest_hw *hw, const struct ionest_xlate_req *r,
		   struct ionest_xlate_res *res)
{
	struct smmu *s = to_smmu(hw);
	const uint32_t access = r->access;
	const uint32_t ssid = r->ssid_valid ? r->ssid : 0;
	uint64_t todo = __atomic_load_n(&s->tlb.shifts, __ATOMIC_RELAXED);
	uint64_t pa, attr;

	if (__builtin_expect((smmu_ld32(&s->cr0) & CR0_SMMUEN) && !r->ats &&
				     access < 16 && !(ssid >> 31) && todo,
			     1)) {
		const uint64_t key = hw_tlb_key(
			r->sid, ssid | (r->ssid_valid ? HW_TLB_SSID_VALID : 0));
		const unsigned sh = (unsigned)__builtin_ctzll(todo);
		struct hw_tlb_set *set =
			hw_tlb_set_at(&s->tlb, hw_tlb_mix(key), r->iova, sh);
		int hit = hw_tlb_probe_set(set, key, r->iova, sh, &pa, &attr);

		if (__builtin_expect(hit > 0, 1)) {
			uint32_t need = smmu_perm_need[access];
			uint32_t fl = hw_tlb_attr_flags(attr);

			if (__builtin_expect((fl & need) == need, 1)) {
				hw_count(hw, hw_translate);
				hw_count(hw, hw_tlb_hit);
				result_ok(res, r->iova, pa,
					  hw_tlb_attr_shift(attr), fl, access);
				return 0;
			}
			todo = 0; /* a hit that does not serve: a miss */
		} else if (hit == 0) {
			todo &= todo - 1;
			if (!todo) {
				/* Missed at the only size: well-formed? */
				if (!request_ok(s, r, ssid))
					return -EINVAL;
				hw_count(hw, hw_translate);
				return translate_miss(s, r, res, key, set, sh);
			}
		}
	}
	return translate_other(s, r, res, todo);
}

/*
 * The DMA hit rule (struct hw_dma_rule): the first branch of
 * smmu_translate's hit path for a plain read or write without ATS - the
 * model enabled (CR0.SMMUEN), an entry at the smallest block size, its
 * permissions as smmu_perm_ok decides (the masks are smmu_perm_need's;
 * hw_dma_rule_set checks them against smmu_perm_ok). Everything else, including
 * a hit at a larger block size, is left to smmu_translate.
 */
static bool dma_serves(uint32_t flags, uint32_t access, bool pasid)
{
	return smmu_perm_ok(flags, access);
}

void smmu_dma_rule(struct smmu *s)
{
	hw_dma_rule_set(&s->hw, &s->tlb, &s->cr0, CR0_SMMUEN, CR0_SMMUEN,
			(uint8_t)smmu_perm_need[IONEST_ACCESS_READ],
			(uint8_t)smmu_perm_need[IONEST_ACCESS_WRITE], 0,
			dma_serves);
}
