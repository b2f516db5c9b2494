// SPDX-License-Identifier: MIT
/* The shared translation cache: fills, scoped invalidation, flush. */
#include <errno.h>
#include <string.h>

#include "hw/tlb.h"
#include "util/alloc.h"

int hw_tlb_init(struct hw_tlb *t, unsigned entries)
{
	unsigned nsets = 1;

	while (nsets * HW_TLB_WAYS < entries && nsets < (1u << 24))
		nsets <<= 1;
	t->sets = xaligned_zalloc(128, sizeof(*t->sets) * nsets);
	if (!t->sets)
		return -ENOMEM;
	t->nsets = nsets;
	t->mask = nsets - 1;
	t->set_mask = (uint64_t)t->mask << 7;
	t->shifts = 0;
	return 0;
}

void hw_tlb_fini(struct hw_tlb *t)
{
	xfree(t->sets);
	t->sets = NULL;
}

bool hw_tlb_find_sizes(struct hw_tlb *t, uint32_t sid, uint32_t ssid,
		       uint64_t va, uint64_t shifts, uint64_t *pa,
		       uint64_t *attr)
{
	while (shifts) {
		unsigned sh = (unsigned)__builtin_ctzll(shifts);

		if (hw_tlb_probe_attr(t, sid, ssid, va, sh, pa, attr))
			return true;
		shifts &= shifts - 1;
	}
	return false;
}

#define set_lock hw_tlb_set_lock
#define set_unlock hw_tlb_set_unlock

static void entry_kill(struct hw_tlb_entry *d)
{
	__atomic_store_n(&d->va, 0, __ATOMIC_RELAXED);
}

bool hw_tlb_insert_attr(struct hw_tlb *t, uint64_t va, uint64_t pa,
			uint32_t sid, uint32_t ssid, uint64_t attr,
			uint64_t gen)
{
	const unsigned shift = hw_tlb_attr_shift(attr);

	/* hw_tlb_set_at needs 7 <= shift, the shifts mask shift < 64; the
	 * formats' blocks are 4K to 4T. */
	if (shift < 7 || shift > 63)
		return false;
	return hw_tlb_insert_set(t, hw_tlb_set_of(t, sid, ssid, va, shift), va,
				 pa, hw_tlb_key(sid, ssid), attr, gen);
}

bool hw_tlb_insert(struct hw_tlb *t, const struct hw_tlb_entry *e, uint64_t gen)
{
	return hw_tlb_insert_attr(
		t, e->va, e->pa, e->sid, e->ssid,
		hw_tlb_attr(e->dom, e->shift, e->flags, e->asid), gen);
}

static bool entry_matches(const struct hw_tlb_entry *e,
			  const struct hw_tlb_match *m)
{
	uint32_t f = m->fields;

	if (!(e->va & 1))
		return false;
	if ((f & HW_TLB_M_SID) && e->sid != m->sid)
		return false;
	if ((f & HW_TLB_M_SSID) && e->ssid != m->ssid)
		return false;
	if ((f & HW_TLB_M_DOM) && e->dom != m->dom)
		return false;
	if ((f & HW_TLB_M_ASID) &&
	    ((e->flags & HW_TLB_GLOBAL) || e->asid != m->asid))
		return false;
	if ((f & HW_TLB_M_FLAGS) && !(e->flags & m->flags_any))
		return false;
	if (f & HW_TLB_M_RANGE) {
		uint64_t start = e->va & ~1ull;
		uint64_t last = start + ((1ull << e->shift) - 1);

		if (last < m->va_start || start > m->va_last)
			return false;
	}
	return true;
}

unsigned hw_tlb_invalidate(struct hw_tlb *t, const struct hw_tlb_match *m)
{
	unsigned dropped = 0;

	/* From here on, fills that walked before this call are refused. */
	__atomic_add_fetch(&t->gen, 1, __ATOMIC_SEQ_CST);
	for (uint32_t i = 0; i < t->nsets; i++) {
		struct hw_tlb_set *s = &t->sets[i];
		bool any = __atomic_load_n(&s->seq, __ATOMIC_SEQ_CST) & 1;

		/* Unlocked pre-check keeps whole-cache scans cheap. A set
		 * being written is always visited; a fill that takes the lock
		 * after this read sees the new generation and gives up. */
		for (unsigned w = 0; w < HW_TLB_WAYS && !any; w++)
			any = __atomic_load_n(&s->e[w].va, __ATOMIC_RELAXED) &
			      1;
		if (!any)
			continue;
		set_lock(s);
		for (unsigned w = 0; w < HW_TLB_WAYS; w++) {
			if (entry_matches(&s->e[w], m)) {
				entry_kill(&s->e[w]);
				dropped++;
			}
		}
		set_unlock(s);
	}
	return dropped;
}

void hw_tlb_flush(struct hw_tlb *t)
{
	__atomic_add_fetch(&t->gen, 1, __ATOMIC_SEQ_CST);
	for (uint32_t i = 0; i < t->nsets; i++) {
		struct hw_tlb_set *s = &t->sets[i];

		set_lock(s);
		for (unsigned w = 0; w < HW_TLB_WAYS; w++)
			entry_kill(&s->e[w]);
		set_unlock(s);
	}
	__atomic_store_n(&t->shifts, 0, __ATOMIC_RELAXED);
}

unsigned hw_tlb_count(struct hw_tlb *t)
{
	unsigned n = 0;

	for (uint32_t i = 0; i < t->nsets; i++)
		for (unsigned w = 0; w < HW_TLB_WAYS; w++)
			n += __atomic_load_n(&t->sets[i].e[w].va,
					     __ATOMIC_RELAXED) &
			     1;
	return n;
}
