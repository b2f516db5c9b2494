// SPDX-License-Identifier: MIT
/* The shared translation cache: fills, the invalidation directory, scoped
 * invalidation, flush (the design is in tlb.h's header comment). */
#include <errno.h>
#include <string.h>

#include "hw/tlb.h"
#include "util/alloc.h"

/* Bits of a slot's bitmap at most: larger caches group sets per bit. */
#define BM_BITS_MAX 4096u

int hw_tlb_init(struct hw_tlb *t, unsigned entries)
{
	unsigned nsets = 1, nbits;

	while (nsets * HW_TLB_WAYS < entries && nsets < (1u << 24))
		nsets <<= 1;
	nbits = nsets < BM_BITS_MAX ? nsets : BM_BITS_MAX;
	memset(t, 0, sizeof(*t));
	t->bm_words = (nbits + 63) / 64;
	t->bm_gshift = (uint32_t)__builtin_ctz(nsets / nbits);
	t->sets = xaligned_zalloc(128, sizeof(*t->sets) * nsets);
	t->bm = xaligned_zalloc(64, sizeof(*t->bm) * t->bm_words *
					    HW_TLB_DIR_SLOTS);
	if (!t->sets || !t->bm) {
		hw_tlb_fini(t);
		return -ENOMEM;
	}
	t->nsets = nsets;
	t->mask = nsets - 1;
	t->set_mask = (uint64_t)t->mask << 7;
	return 0;
}

void hw_tlb_fini(struct hw_tlb *t)
{
	xfree(t->sets);
	xfree(t->bm);
	t->sets = NULL;
	t->bm = NULL;
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

/* entry_matches on a copy read without the set's lock (a pre-check: the
 * set is locked and checked again before anything is dropped). */
static bool entry_matches_unlocked(const struct hw_tlb_entry *e,
				   const struct hw_tlb_match *m)
{
	const uint64_t *q = (const uint64_t *)e;
	uint64_t key = __atomic_load_n(&q[2], __ATOMIC_RELAXED);
	uint64_t attr = __atomic_load_n(&q[3], __ATOMIC_RELAXED);
	struct hw_tlb_entry c = {
		.va = __atomic_load_n(&q[0], __ATOMIC_RELAXED),
		.sid = (uint32_t)key,
		.ssid = (uint32_t)(key >> 32),
		.dom = hw_tlb_attr_dom(attr),
		.shift = (uint8_t)hw_tlb_attr_shift(attr),
		.flags = (uint8_t)hw_tlb_attr_flags(attr),
		.asid = hw_tlb_attr_asid(attr),
	};

	return c.shift < 64 && entry_matches(&c, m);
}

/* ---- the directory ---- */

/* Directory writers hold its sequence as a lock (hw_tlb_seq_lock). The
 * release at the end is sequentially consistent: a fill that registers a
 * tuple reads the generation after it (see hw_tlb_insert_set). */
static void dir_write_begin(struct hw_tlb_dir *d)
{
	hw_tlb_seq_lock(&d->seq);
}

static void dir_write_end(struct hw_tlb_dir *d)
{
	__atomic_store_n(&d->seq, d->seq + 1, __ATOMIC_SEQ_CST);
}

static void dir_set_tag(struct hw_tlb_dir *d, unsigned i, uint64_t tag)
{
	__atomic_store_n(&d->s[i].tag, tag, __ATOMIC_RELAXED);
}

static bool tag_in_use(uint64_t tag)
{
	return tag & (HW_TLB_DIR_LIVE | HW_TLB_DIR_RETIRING);
}

/* Where a tuple's probe chain starts, in [0, HW_TLB_DIR_OVF): a fold of
 * SID, SSID, domain and ASID, a few cycles (collisions only lengthen a
 * chain). */
static unsigned dir_home(uint64_t key, uint64_t tag)
{
	uint64_t h = key ^ (key >> 29) ^ tag ^ (tag >> 26);
	unsigned i;

	h ^= h >> 12;
	i = (unsigned)(h ^ (h >> 6)) & 63;
	return i == HW_TLB_DIR_OVF ? 0 : i;
}

/*
 * The live slot of tuple (@key, @tag), searched lock-free under the
 * directory's sequence, HW_TLB_DIR_SLOTS if not found or the directory
 * was written meanwhile. A tuple seen in use before the fill checks the
 * generation is seen by every invalidation that check does not refuse.
 */
static unsigned dir_find(const struct hw_tlb_dir *d, uint64_t key, uint64_t tag)
{
	uint32_t seq = __atomic_load_n(&d->seq, __ATOMIC_SEQ_CST);
	unsigned i = dir_home(key, tag), n, slot = HW_TLB_DIR_SLOTS;

	for (n = 0; n < HW_TLB_DIR_OVF; n++) {
		uint64_t tg = __atomic_load_n(&d->s[i].tag, __ATOMIC_RELAXED);

		if (tg == tag &&
		    __atomic_load_n(&d->s[i].key, __ATOMIC_RELAXED) == key) {
			slot = i;
			break;
		}
		if (!tg)
			break; /* never used: the chain ends */
		i = i + 1 < HW_TLB_DIR_OVF ? i + 1 : 0;
	}
	/* Every slot taken by other tuples: the catch-all, once in use. */
	if (n == HW_TLB_DIR_OVF &&
	    __atomic_load_n(&d->ovf, __ATOMIC_RELAXED) == 1)
		slot = HW_TLB_DIR_OVF;
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if ((seq & 1) || seq != __atomic_load_n(&d->seq, __ATOMIC_RELAXED))
		return HW_TLB_DIR_SLOTS;
	return slot;
}

static unsigned dir_register(struct hw_tlb *t, uint64_t key, uint64_t tag)
{
	struct hw_tlb_dir *d = &t->dir;
	unsigned i = dir_home(key, tag);
	unsigned slot = HW_TLB_DIR_SLOTS, spare = HW_TLB_DIR_SLOTS;

	dir_write_begin(d);
	for (unsigned n = 0; n < HW_TLB_DIR_OVF; n++) {
		uint64_t tg = d->s[i].tag;

		if (tag_in_use(tg) &&
		    (tg & HW_TLB_DIR_TAG_MASK) == (tag & HW_TLB_DIR_TAG_MASK) &&
		    d->s[i].key == key) {
			/* Another fill registered it, or an invalidation is
			 * freeing it: it stays (see dir_free). */
			slot = i;
			dir_set_tag(d, i, tag);
			break;
		}
		if (!tag_in_use(tg) && spare == HW_TLB_DIR_SLOTS)
			spare = i;
		if (!tg)
			break;
		i = i + 1 < HW_TLB_DIR_OVF ? i + 1 : 0;
	}
	if (slot == HW_TLB_DIR_SLOTS && spare < HW_TLB_DIR_SLOTS) {
		slot = spare;
		__atomic_store_n(&d->s[slot].key, key, __ATOMIC_RELAXED);
		dir_set_tag(d, slot, tag);
		__atomic_store_n(&d->used, d->used | 1ull << slot,
				 __ATOMIC_RELAXED);
	} else if (slot == HW_TLB_DIR_SLOTS) {
		slot = HW_TLB_DIR_OVF;
		__atomic_store_n(&d->ovf, 1, __ATOMIC_RELAXED);
	}
	dir_write_end(d);
	return slot;
}

/* Set @s's bitmap bit: which bit and the word of @slot's bitmap that
 * holds it. */
static uint64_t bm_bit(const struct hw_tlb *t, const struct hw_tlb_set *s)
{
	return (uint64_t)(s - t->sets) >> t->bm_gshift;
}

static uint64_t *bm_word(const struct hw_tlb *t, unsigned slot, uint64_t bit)
{
	return &t->bm[slot * t->bm_words + (bit >> 6)];
}

unsigned hw_tlb_dir_enter(struct hw_tlb *t, struct hw_tlb_set *s, uint64_t key,
			  uint64_t attr)
{
	const uint64_t tag = (attr & HW_TLB_DIR_TAG_MASK) | HW_TLB_DIR_LIVE;
	unsigned slot = dir_find(&t->dir, key, tag);
	uint64_t bit = bm_bit(t, s), *bw;

	if (slot == HW_TLB_DIR_SLOTS)
		slot = dir_register(t, key, tag);
	/* Only invalidations holding the set clear the bit. Sequentially
	 * consistent, as the registration: an invalidation the fill's
	 * generation check lets through sees both. */
	bw = bm_word(t, slot, bit);
	if (!(__atomic_load_n(bw, __ATOMIC_SEQ_CST) & (1ull << (bit & 63))))
		__atomic_fetch_or(bw, 1ull << (bit & 63), __ATOMIC_SEQ_CST);
	return slot;
}

/* Can entries of the tuple (@key, @tag) match @m? (The range is not
 * known per tuple; permission bits in flags_any are not recorded.) */
static bool tuple_may_match(uint64_t key, uint64_t tag,
			    const struct hw_tlb_match *m)
{
	uint32_t f = m->fields, flags = hw_tlb_attr_flags(tag);

	if ((f & HW_TLB_M_SID) && (uint32_t)key != m->sid)
		return false;
	if ((f & HW_TLB_M_SSID) && (uint32_t)(key >> 32) != m->ssid)
		return false;
	if ((f & HW_TLB_M_DOM) && hw_tlb_attr_dom(tag) != m->dom)
		return false;
	if ((f & HW_TLB_M_ASID) &&
	    ((flags & HW_TLB_GLOBAL) || hw_tlb_attr_asid(tag) != m->asid))
		return false;
	if ((f & HW_TLB_M_FLAGS) && !(flags & m->flags_any) &&
	    !(m->flags_any & ~(HW_TLB_S1 | HW_TLB_S2 | HW_TLB_GLOBAL)))
		return false;
	return true;
}

/* What an invalidation may drop: the slots whose tuples can match and
 * their distinct stream keys. */
struct scope {
	uint64_t slots;
	unsigned nkeys;
	uint64_t keys[HW_TLB_DIR_OVF];
};

static void dir_scope(struct hw_tlb *t, const struct hw_tlb_match *m,
		      struct scope *sc)
{
	const struct hw_tlb_dir *d = &t->dir;
	uint32_t seq;

	for (;;) {
		uint64_t used;

		seq = __atomic_load_n(&d->seq, __ATOMIC_SEQ_CST);
		if (seq & 1) {
			__builtin_ia32_pause();
			continue;
		}
		sc->slots = 0;
		sc->nkeys = 0;
		used = __atomic_load_n(&d->used, __ATOMIC_RELAXED);
		while (used) {
			unsigned i = (unsigned)__builtin_ctzll(used);
			uint64_t tag =
				__atomic_load_n(&d->s[i].tag, __ATOMIC_RELAXED);
			uint64_t key =
				__atomic_load_n(&d->s[i].key, __ATOMIC_RELAXED);
			unsigned k = 0;

			used &= used - 1;
			if (!tag_in_use(tag) || !tuple_may_match(key, tag, m))
				continue;
			sc->slots |= 1ull << i;
			while (k < sc->nkeys && sc->keys[k] != key)
				k++;
			if (k == sc->nkeys && k < HW_TLB_DIR_OVF)
				sc->keys[sc->nkeys++] = key;
		}
		if (__atomic_load_n(&d->ovf, __ATOMIC_RELAXED))
			sc->slots |= 1ull << HW_TLB_DIR_OVF;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (seq == __atomic_load_n(&d->seq, __ATOMIC_RELAXED))
			return;
	}
}

static bool bitmap_empty(const struct hw_tlb *t, unsigned slot)
{
	const uint64_t *w = &t->bm[slot * t->bm_words];

	for (uint32_t i = 0; i < t->bm_words; i++)
		if (__atomic_load_n(&w[i], __ATOMIC_SEQ_CST))
			return false;
	return true;
}

/*
 * Free the slots of @cand whose bitmaps are empty. Two steps, because a
 * fill may have found the tuple before this and not yet set its bit: mark
 * them retiring (fills stop using them), bump the generation (a fill that
 * found them before is refused unless its bit was already set), then free
 * those still empty; the rest are live again. Safe whichever slots are
 * candidates, and against other invalidations freeing the same ones.
 */
static void dir_free(struct hw_tlb *t, uint64_t cand)
{
	struct hw_tlb_dir *d = &t->dir;
	uint64_t c;

	for (c = cand; c; c &= c - 1) {
		unsigned i = (unsigned)__builtin_ctzll(c);

		if (!bitmap_empty(t, i))
			cand &= ~(1ull << i);
	}
	if (!cand)
		return;
	dir_write_begin(d);
	for (c = cand; c; c &= c - 1) {
		unsigned i = (unsigned)__builtin_ctzll(c);

		if (i == HW_TLB_DIR_OVF)
			__atomic_store_n(&d->ovf, d->ovf ? 2 : 0,
					 __ATOMIC_RELAXED);
		else if (d->s[i].tag & HW_TLB_DIR_LIVE)
			dir_set_tag(d, i,
				    (d->s[i].tag & ~HW_TLB_DIR_LIVE) |
					    HW_TLB_DIR_RETIRING);
	}
	dir_write_end(d);
	__atomic_add_fetch(&t->gen, 1, __ATOMIC_SEQ_CST);
	dir_write_begin(d);
	for (c = cand; c; c &= c - 1) {
		unsigned i = (unsigned)__builtin_ctzll(c);
		bool empty = bitmap_empty(t, i);

		if (i == HW_TLB_DIR_OVF) {
			if (d->ovf == 2)
				__atomic_store_n(&d->ovf, empty ? 0 : 1,
						 __ATOMIC_RELAXED);
		} else if (d->s[i].tag & HW_TLB_DIR_RETIRING) {
			if (empty) {
				dir_set_tag(d, i, HW_TLB_DIR_TOMB);
				__atomic_store_n(&d->used,
						 d->used & ~(1ull << i),
						 __ATOMIC_RELAXED);
			} else {
				dir_set_tag(d, i,
					    (d->s[i].tag &
					     ~HW_TLB_DIR_RETIRING) |
						    HW_TLB_DIR_LIVE);
			}
		}
	}
	dir_write_end(d);
}

/* ---- dropping ---- */

/*
 * Drop @m's entries from set @s if an unlocked look says it may hold one.
 * @stale: slots (of the invalidation's) whose bitmaps have @s's bit; those
 * the set no longer holds an entry of get the bit cleared, under the set's
 * lock (fills set it under the lock too). 0 when bits cover groups.
 */
static unsigned set_drop(struct hw_tlb *t, struct hw_tlb_set *s,
			 const struct hw_tlb_match *m, uint64_t stale)
{
	/* Without a range, a set the bitmaps name almost always holds a
	 * match or a stale bit: no unlocked look first. */
	bool any = (stale && !(m->fields & HW_TLB_M_RANGE)) ||
		   (__atomic_load_n(&s->seq, __ATOMIC_SEQ_CST) & 1);
	uint64_t live = 0, bit;
	unsigned dropped = 0;

	/* A set being written is always visited; a fill that takes the
	 * lock after this read sees the new generation and gives up. */
	for (unsigned w = 0; w < HW_TLB_WAYS && !any; w++) {
		if (__atomic_load_n(&s->e[w].va, __ATOMIC_RELAXED) & 1)
			live |= 1ull << (__atomic_load_n(&s->dslot[w],
							 __ATOMIC_RELAXED) &
					 63);
		any = entry_matches_unlocked(&s->e[w], m);
	}
	if (!any && !(stale & ~live))
		return 0;
	live = 0;
	set_lock(s);
	for (unsigned w = 0; w < HW_TLB_WAYS; w++) {
		if (entry_matches(&s->e[w], m)) {
			entry_kill(&s->e[w]);
			dropped++;
		} else if (s->e[w].va & 1) {
			live |= 1ull << (s->dslot[w] & 63);
		}
	}
	stale &= ~live;
	bit = bm_bit(t, s);
	while (stale) {
		unsigned i = (unsigned)__builtin_ctzll(stale);

		stale &= stale - 1;
		__atomic_fetch_and(bm_word(t, i, bit), ~(1ull << (bit & 63)),
				   __ATOMIC_SEQ_CST);
	}
	set_unlock(s);
	return dropped;
}

/* Both lines of a set, for writing (it is locked if it holds a match). */
static void prefetch_set(const struct hw_tlb_set *s)
{
	__builtin_prefetch(s, 1);
	__builtin_prefetch((const char *)s + 64, 1);
}

/* Probe the range's blocks at each size present for each stream key:
 * false (nothing done) if there are more than HW_TLB_PROBE_MAX. */
static bool probe_range(struct hw_tlb *t, const struct hw_tlb_match *m,
			const struct scope *sc, unsigned *dropped)
{
	uint64_t shifts = __atomic_load_n(&t->shifts, __ATOMIC_SEQ_CST);
	struct hw_tlb_set *set[HW_TLB_PROBE_MAX];
	uint64_t n = 0;

	for (uint64_t sh = shifts; sh; sh &= sh - 1) {
		unsigned s = (unsigned)__builtin_ctzll(sh);
		/* (An inverted range wraps here and is visited.) */
		uint64_t blocks = (m->va_last >> s) - (m->va_start >> s);

		if (blocks >= HW_TLB_PROBE_MAX)
			return false;
		n += (blocks + 1) * sc->nkeys;
		if (n > HW_TLB_PROBE_MAX)
			return false;
	}
	/* All the sets first, fetched in parallel, then their entries. */
	n = 0;
	for (unsigned k = 0; k < sc->nkeys; k++) {
		uint64_t mix = hw_tlb_mix(sc->keys[k]);

		for (uint64_t sh = shifts; sh; sh &= sh - 1) {
			unsigned s = (unsigned)__builtin_ctzll(sh);
			uint64_t last = m->va_last >> s;

			for (uint64_t b = m->va_start >> s; b <= last; b++) {
				set[n] = hw_tlb_set_at(t, mix, b << s, s);
				prefetch_set(set[n++]);
			}
		}
	}
	for (uint64_t i = 0; i < n; i++)
		*dropped += set_drop(t, set[i], m, 0);
	return true;
}

#define PREFETCH_AHEAD 4

/* Prefetch the first set of the lowest bit of *@ahead (bits of bitmap
 * word @wi) and take the bit off. */
static void prefetch_next(const struct hw_tlb *t, uint32_t wi, uint64_t *ahead)
{
	prefetch_set(&t->sets[(wi * 64 + (uint32_t)__builtin_ctzll(*ahead))
			      << t->bm_gshift]);
	*ahead &= *ahead - 1;
}

/* Visit the sets in the union of the bitmaps of @sc's slots. */
static unsigned visit_sets(struct hw_tlb *t, const struct hw_tlb_match *m,
			   const struct scope *sc)
{
	unsigned idx[HW_TLB_DIR_SLOTS], n = 0, dropped = 0;
	uint64_t word[HW_TLB_DIR_SLOTS];
	const uint32_t group = 1u << t->bm_gshift;

	for (uint64_t c = sc->slots; c; c &= c - 1)
		idx[n++] = (unsigned)__builtin_ctzll(c);
	for (uint32_t wi = 0; wi < t->bm_words; wi++) {
		uint64_t bits = 0;

		for (unsigned k = 0; k < n; k++) {
			word[k] = __atomic_load_n(
				&t->bm[idx[k] * t->bm_words + wi],
				__ATOMIC_SEQ_CST);
			bits |= word[k];
		}
		uint64_t ahead = bits;

		/* Keep a few sets in flight ahead of the one visited. */
		for (unsigned k = 0; k < PREFETCH_AHEAD && ahead; k++)
			prefetch_next(t, wi, &ahead);
		while (bits) {
			unsigned b = (unsigned)__builtin_ctzll(bits);
			uint32_t first = (wi * 64 + b) << t->bm_gshift;
			uint64_t stale = 0;

			bits &= bits - 1;
			if (ahead)
				prefetch_next(t, wi, &ahead);
			/* Grouped bits stay: a group is not visited under
			 * one lock. */
			for (unsigned k = 0; k < n && group == 1; k++)
				if (word[k] >> b & 1)
					stale |= 1ull << idx[k];
			for (uint32_t j = first; j < first + group; j++)
				dropped += set_drop(t, &t->sets[j], m, stale);
		}
	}
	return dropped;
}

unsigned hw_tlb_invalidate(struct hw_tlb *t, const struct hw_tlb_match *m)
{
	uint32_t fs = __atomic_load_n(&t->flush_seq, __ATOMIC_SEQ_CST);
	unsigned dropped = 0, path;
	struct scope sc;

	/* From here on, fills that walked before this call are refused; the
	 * directory, bitmaps and sizes read below include every other. */
	__atomic_add_fetch(&t->gen, 1, __ATOMIC_SEQ_CST);
	dir_scope(t, m, &sc);
	if (!sc.slots) {
		path = HW_TLB_INV_NONE;
	} else if ((m->fields & HW_TLB_M_RANGE) &&
		   !(sc.slots >> HW_TLB_DIR_OVF) &&
		   probe_range(t, m, &sc, &dropped)) {
		path = HW_TLB_INV_PROBE;
	} else {
		path = HW_TLB_INV_VISIT;
		dropped = visit_sets(t, m, &sc);
		if (!t->bm_gshift)
			dir_free(t, sc.slots);
	}
	/* Statistics: a lost count under concurrent invalidations is
	 * fine. */
	__atomic_store_n(
		&t->inv_paths[path],
		__atomic_load_n(&t->inv_paths[path], __ATOMIC_RELAXED) + 1,
		__ATOMIC_RELAXED);
	/* A flush that overlapped this call emptied the directory while
	 * old entries remained: they are gone once it finishes. */
	if (__builtin_expect((fs & 1) ||
				     fs != __atomic_load_n(&t->flush_seq,
							   __ATOMIC_SEQ_CST),
			     0))
		while (__atomic_load_n(&t->flush_seq, __ATOMIC_SEQ_CST) & 1)
			__builtin_ia32_pause();
	return dropped;
}

void hw_tlb_flush(struct hw_tlb *t)
{
	struct hw_tlb_dir *d = &t->dir;

	/* Odd while the directory may be empty with entries left (see
	 * hw_tlb_invalidate). */
	hw_tlb_seq_lock(&t->flush_seq);
	/* Empty the directory, bitmaps and sizes before the generation
	 * moves: fills that walk after it register again, earlier ones are
	 * refused or dropped below. */
	dir_write_begin(d);
	for (unsigned i = 0; i < HW_TLB_DIR_OVF; i++) {
		__atomic_store_n(&d->s[i].key, 0, __ATOMIC_RELAXED);
		dir_set_tag(d, i, 0);
	}
	__atomic_store_n(&d->used, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&d->ovf, 0, __ATOMIC_RELAXED);
	dir_write_end(d);
	for (uint32_t i = 0; i < t->bm_words * HW_TLB_DIR_SLOTS; i++)
		__atomic_store_n(&t->bm[i], 0, __ATOMIC_RELAXED);
	__atomic_store_n(&t->shifts, 0, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&t->gen, 1, __ATOMIC_SEQ_CST);
	for (uint32_t i = 0; i < t->nsets; i++) {
		struct hw_tlb_set *s = &t->sets[i];

		set_lock(s);
		for (unsigned w = 0; w < HW_TLB_WAYS; w++)
			entry_kill(&s->e[w]);
		set_unlock(s);
	}
	hw_tlb_seq_unlock(&t->flush_seq);
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
