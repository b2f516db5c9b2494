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
	t->shifts = 0;
	return 0;
}

void hw_tlb_fini(struct hw_tlb *t)
{
	xfree(t->sets);
	t->sets = NULL;
}

/* The set's sequence doubles as its writer lock: odd = held. */
static void set_lock(struct hw_tlb_set *s)
{
	for (;;) {
		uint32_t seq = __atomic_load_n(&s->seq, __ATOMIC_RELAXED);

		if (!(seq & 1) && __atomic_compare_exchange_n(
					  &s->seq, &seq, seq + 1, false,
					  __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			break;
		__builtin_ia32_pause();
	}
	/* Entry stores must not become visible before the odd sequence. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static void set_unlock(struct hw_tlb_set *s)
{
	/* Only the holder writes seq now, but lock-free readers load it
	 * concurrently, so the read must be atomic too. */
	__atomic_store_n(&s->seq,
			 __atomic_load_n(&s->seq, __ATOMIC_RELAXED) + 1,
			 __ATOMIC_RELEASE);
}

static void entry_store(struct hw_tlb_entry *d, const struct hw_tlb_entry *e)
{
	__atomic_store_n(&d->pa, e->pa, __ATOMIC_RELAXED);
	__atomic_store_n(&d->sid, e->sid, __ATOMIC_RELAXED);
	__atomic_store_n(&d->ssid, e->ssid, __ATOMIC_RELAXED);
	__atomic_store_n(&d->dom, e->dom, __ATOMIC_RELAXED);
	__atomic_store_n(&d->shift, e->shift, __ATOMIC_RELAXED);
	__atomic_store_n(&d->flags, e->flags, __ATOMIC_RELAXED);
	__atomic_store_n(&d->asid, e->asid, __ATOMIC_RELAXED);
	__atomic_store_n(&d->va, e->va | 1, __ATOMIC_RELAXED);
}

static void entry_kill(struct hw_tlb_entry *d)
{
	__atomic_store_n(&d->va, 0, __ATOMIC_RELAXED);
}

bool hw_tlb_insert(struct hw_tlb *t, const struct hw_tlb_entry *e, uint64_t gen)
{
	uint64_t base = e->va & ~1ull;
	struct hw_tlb_set *s =
		&t->sets[hw_tlb_hash(e->sid, e->ssid, base >> e->shift) &
			 t->mask];
	unsigned victim = HW_TLB_WAYS;

	/* Publish the size before the entry so a lookup racing with this
	 * insert either misses (and walks) or finds it; never a wrong hit. */
	if (!(__atomic_load_n(&t->shifts, __ATOMIC_RELAXED) &
	      (1ull << e->shift)))
		__atomic_fetch_or(&t->shifts, 1ull << e->shift,
				  __ATOMIC_RELAXED);

	set_lock(s);
	if (__atomic_load_n(&t->gen, __ATOMIC_SEQ_CST) != gen) {
		set_unlock(s);
		return false;
	}
	for (unsigned w = 0; w < HW_TLB_WAYS; w++) {
		const struct hw_tlb_entry *c = &s->e[w];

		if (c->va == (base | 1) && c->sid == e->sid &&
		    c->ssid == e->ssid && c->shift == e->shift) {
			victim = w;
			break;
		}
		if (!(c->va & 1) && victim == HW_TLB_WAYS)
			victim = w;
	}
	if (victim == HW_TLB_WAYS)
		victim = s->next++ % HW_TLB_WAYS;
	entry_store(&s->e[victim], e);
	set_unlock(s);
	return true;
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
