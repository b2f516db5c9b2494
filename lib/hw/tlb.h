/* SPDX-License-Identifier: MIT */
/*
 * A hardware-like translation cache shared by the models: set-associative,
 * 32-byte entries stored inline (two per cache line; a 3-way set and its
 * sequence word are one 128-byte aligned block), looked up by stream
 * (sid, ssid) and input address, tagged for invalidation by domain (VMID /
 * DID) and address space (ASID / PASID).
 *
 * Keying lookups by stream lets a hit cost one probe with no config-cache
 * access. It is safe because a model drops a stream's entries whenever that
 * stream's configuration is invalidated (CFGI_STE/CD, context/PASID-cache
 * invalidation): caches may always drop more than asked, never less.
 *
 * The same structure serves as a stage-2 walk cache (sid = HW_TLB_SID_S2WC,
 * va = IPA of a stage-1 table, pa = its host address).
 *
 * Concurrency: lookups are lock-free (per-set sequence counter); inserts and
 * invalidations take the set's sequence as a lock. Once an invalidation
 * returns, no later lookup returns a dropped entry.
 *
 * Invalidation is scoped by a directory, so that it costs what it can
 * drop, not the cache's size. The directory holds up to 63 tuples (stream
 * key, domain, ASID, S1/S2/GLOBAL class) that entries were inserted with;
 * a full directory sends further tuples to a catch-all slot 63 that every
 * invalidation includes. Each entry's set header records its tuple's slot,
 * and each slot has a bitmap of the sets that may hold its entries (one
 * bit a set; in caches of more than 4096 sets, one bit a group of sets).
 * An invalidation
 *  - picks the slots whose tuple can match (none: it returns at once - a
 *    whole-ASID or per-stream command for a tag with nothing cached);
 *  - with an address range of few blocks and no catch-all, probes exactly
 *    the sets those blocks live in, for each stream key of the slots and
 *    each block size present (hw_tlb_set_at), as a lookup would;
 *  - otherwise visits only the sets in the union of the slots' bitmaps,
 *    clearing bits of sets that hold no entry of a slot any more, and
 *    frees slots left with no set (a bit of a group of sets is never
 *    cleared, as no visit holds the whole group: in caches of more than
 *    4096 sets only a flush frees slots).
 * A fill takes its slot from a way of its set filled with the same tuple
 * (nothing more to touch), else from a lock-free search of the directory
 * (registering under the directory lock only a new tuple) and sets the
 * set's bit; lookups are unchanged. Correctness rests on ordering: a fill
 * registers its tuple, sets its bitmap bit and publishes its block size
 * before it checks the generation, and an invalidation bumps the
 * generation before it reads the directory, bitmaps and sizes, so a fill
 * the invalidation cannot see is refused; a slot is freed in two steps
 * around a generation bump (dir_free). A flush empties the directory before
 * it bumps the generation and kills entries after: an invalidation that
 * overlaps a flush waits for it to finish.
 */
#ifndef IONEST_HW_TLB_H
#define IONEST_HW_TLB_H

#include <stdbool.h>
#include <stdint.h>

#define HW_TLB_WAYS 3 /* a set with its header fills two cache lines */
#define HW_TLB_SSID_VALID 0x80000000u /* or-ed into ssid when present */
#define HW_TLB_SID_S2WC 0xffffffffu /* walk-cache entries */

/* flags: permissions granted (IONEST_ACCESS_* bits 0-3) and what the entry
 * was built from (for scoped invalidation). */
#define HW_TLB_S1 (1u << 4) /* covers a stage-1 translation */
#define HW_TLB_S2 (1u << 5) /* covers a stage-2 translation */
#define HW_TLB_GLOBAL (1u << 6) /* not ASID/PASID-tagged (nG=0 / G) */

struct hw_tlb_entry {
	uint64_t va; /* input block base | 1 (valid) */
	uint64_t pa; /* output block base */
	uint32_t sid;
	uint32_t ssid; /* | HW_TLB_SSID_VALID */
	uint16_t dom; /* VMID / DID */
	uint8_t shift; /* log2 of the block size */
	uint8_t flags;
	uint32_t asid; /* ASID / PASID tag */
};
_Static_assert(sizeof(struct hw_tlb_entry) == 32, "two entries per line");

struct hw_tlb_set {
	uint32_t seq; /* odd while a writer holds the set */
	uint32_t next; /* round-robin victim */
	uint8_t dslot[HW_TLB_WAYS]; /* each way's directory slot */
	uint8_t pad[21];
	struct hw_tlb_entry e[HW_TLB_WAYS];
} __attribute__((aligned(128)));
_Static_assert(sizeof(struct hw_tlb_set) == 128, "two cache lines a set");

/* Directory slots: 63 tuples and the catch-all. */
#define HW_TLB_DIR_SLOTS 64
#define HW_TLB_DIR_OVF 63
/* A tuple's tag word: the attribute word with the shift and the
 * permission bits replaced by its state. */
#define HW_TLB_DIR_LIVE (1ull << 16) /* inserts use it */
#define HW_TLB_DIR_RETIRING (1ull << 17) /* being freed: inserts skip it */
#define HW_TLB_DIR_TOMB (1ull << 18) /* freed; probe chains go on */
#define HW_TLB_DIR_TAG_MASK 0xffffffff7000ffffull /* asid, class, dom */

struct hw_tlb_dir {
	uint32_t seq; /* odd while written: the writers' lock */
	uint32_t ovf; /* catch-all: 0 unused, 1 in use, 2 retiring */
	uint64_t used; /* slots holding a live or retiring tuple */
	struct {
		uint64_t tag, key; /* one line holds both */
	} s[HW_TLB_DIR_OVF];
};

/* Which way hw_tlb_invalidate went (for tests and statistics). */
enum {
	HW_TLB_INV_NONE, /* no tuple could match: nothing visited */
	HW_TLB_INV_PROBE, /* the sets of the range's blocks */
	HW_TLB_INV_VISIT, /* the sets of the matching slots' bitmaps */
	HW_TLB_INV_PATHS
};

struct hw_tlb {
	struct hw_tlb_set *sets;
	uint64_t gen; /* bumped by every invalidation */
	uint32_t mask; /* sets - 1 */
	uint32_t nsets;
	uint64_t shifts; /* bit s set: entries of size 1 << s may exist */
	uint64_t set_mask; /* mask << 7: byte offset of a set */
	uint64_t *bm; /* HW_TLB_DIR_SLOTS bitmaps of bm_words words */
	uint32_t bm_words;
	uint32_t bm_gshift; /* a bit covers 1 << bm_gshift sets */
	uint32_t flush_seq; /* odd while a flush runs: flushes' lock */
	uint64_t inv_paths[HW_TLB_INV_PATHS];
	struct hw_tlb_dir dir __attribute__((aligned(64)));
};

/* Capacity: at least @entries, in a power-of-two number of sets. */
int hw_tlb_init(struct hw_tlb *t, unsigned entries);
void hw_tlb_fini(struct hw_tlb *t);

/* A stream's key word, as entries store (sid, ssid). */
static inline uint64_t hw_tlb_key(uint32_t sid, uint32_t ssid)
{
	return (uint64_t)ssid << 32 | sid;
}

/* What a stream adds to the set index: a multiply that does not depend on
 * the address (so it is off the latency path of a lookup), computed once
 * per stream and lookup. */
static inline uint64_t hw_tlb_mix(uint64_t key)
{
	return (key * 0x9e3779b97f4a7c15ull) >> 33;
}

/*
 * The set of block @va >> @shift of the stream whose hw_tlb_mix is @mix,
 * for 7 <= @shift <= 63 (hw_tlb_insert refuses other sizes). The page
 * number's low bits pick the set, as in hardware TLBs: neighbouring pages
 * never collide, pages a multiple of (sets << shift) apart share a set
 * (three ways absorb a few), and the stream's mix moves each stream's sets
 * elsewhere. Computed directly as a byte offset (sets are 1 << 7 bytes):
 * from the address to the set it is a shift, an exclusive or, a mask and
 * an add - this is on the latency path of every translation.
 */
static inline struct hw_tlb_set *
hw_tlb_set_at(const struct hw_tlb *t, uint64_t mix, uint64_t va, unsigned shift)
{
	uint64_t off = (va >> (shift - 7)) ^ mix;

	return (struct hw_tlb_set *)((char *)t->sets + (off & t->set_mask));
}
_Static_assert(sizeof(struct hw_tlb_set) == 1u << 7, "hw_tlb_set_at");

static inline struct hw_tlb_set *hw_tlb_set_of(const struct hw_tlb *t,
					       uint32_t sid, uint32_t ssid,
					       uint64_t va, unsigned shift)
{
	return hw_tlb_set_at(t, hw_tlb_mix(hw_tlb_key(sid, ssid)), va, shift);
}

/* One probe for blocks of size 1 << shift; false if absent. */
static inline bool hw_tlb_probe(struct hw_tlb *t, uint32_t sid, uint32_t ssid,
				uint64_t va, unsigned shift,
				struct hw_tlb_entry *out)
{
	uint64_t base = (va >> shift) << shift;
	struct hw_tlb_set *s = hw_tlb_set_of(t, sid, ssid, va, shift);
	uint32_t seq;
	bool hit;

	do {
		seq = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);
		hit = false;
		for (unsigned w = 0; w < HW_TLB_WAYS; w++) {
			const struct hw_tlb_entry *e = &s->e[w];

			if (__atomic_load_n(&e->va, __ATOMIC_RELAXED) ==
				    (base | 1) &&
			    __atomic_load_n(&e->sid, __ATOMIC_RELAXED) == sid &&
			    __atomic_load_n(&e->ssid, __ATOMIC_RELAXED) ==
				    ssid &&
			    __atomic_load_n(&e->shift, __ATOMIC_RELAXED) ==
				    shift) {
				out->va = base | 1;
				out->pa = __atomic_load_n(&e->pa,
							  __ATOMIC_RELAXED);
				out->sid = sid;
				out->ssid = ssid;
				out->dom = __atomic_load_n(&e->dom,
							   __ATOMIC_RELAXED);
				out->shift = (uint8_t)shift;
				out->flags = __atomic_load_n(&e->flags,
							     __ATOMIC_RELAXED);
				out->asid = __atomic_load_n(&e->asid,
							    __ATOMIC_RELAXED);
				hit = true;
				break;
			}
		}
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
	} while ((seq & 1) ||
		 seq != __atomic_load_n(&s->seq, __ATOMIC_RELAXED));
	return hit;
}

/*
 * The hot-path form of hw_tlb_probe: same protocol, but it compares the
 * tag word and (sid, ssid) as one 64-bit word and reads back only the
 * output and the attribute word (dom, shift, flags, asid). The layout it
 * relies on is pinned below.
 */
_Static_assert(__builtin_offsetof(struct hw_tlb_entry, pa) == 8 &&
		       __builtin_offsetof(struct hw_tlb_entry, sid) == 16 &&
		       __builtin_offsetof(struct hw_tlb_entry, ssid) == 20 &&
		       __builtin_offsetof(struct hw_tlb_entry, dom) == 24 &&
		       __builtin_offsetof(struct hw_tlb_entry, shift) == 26 &&
		       __builtin_offsetof(struct hw_tlb_entry, flags) == 27 &&
		       __builtin_offsetof(struct hw_tlb_entry, asid) == 28,
	       "hw_tlb_entry layout");

/* Fields of an entry's attribute word (its last 8 bytes). */
static inline uint16_t hw_tlb_attr_dom(uint64_t attr)
{
	return (uint16_t)attr;
}

static inline unsigned hw_tlb_attr_shift(uint64_t attr)
{
	return (unsigned)(attr >> 16) & 0xff;
}

static inline uint32_t hw_tlb_attr_flags(uint64_t attr)
{
	return (uint32_t)(attr >> 24) & 0xff;
}

static inline uint32_t hw_tlb_attr_asid(uint64_t attr)
{
	return (uint32_t)(attr >> 32);
}

/* Does way @e hold the block @tag (base | 1) of stream @key (ssid << 32 |
 * sid) at size 1 << @shift? Tag first: it rejects almost every miss. */
static inline __attribute__((always_inline)) bool
hw_tlb_way_is(const struct hw_tlb_entry *e, uint64_t tag, uint64_t key,
	      unsigned shift)
{
	const uint64_t *q = (const uint64_t *)e;

	return __atomic_load_n(&q[0], __ATOMIC_RELAXED) == tag &&
	       __atomic_load_n(&q[2], __ATOMIC_RELAXED) == key &&
	       __atomic_load_n(&e->shift, __ATOMIC_RELAXED) == shift;
}

/* One attempt at a probe of set @s (hw_tlb_set_at of the block) for the
 * block of @va of size 1 << @shift, stream @key: 1 hit (*pa = the output
 * block, *attr = the attribute word), 0 miss, -1 the set was being written
 * (try again). */
static inline __attribute__((always_inline)) int
hw_tlb_probe_set(const struct hw_tlb_set *s, uint64_t key, uint64_t va,
		 unsigned shift, uint64_t *pa, uint64_t *attr)
{
	const uint64_t tag = ((va >> shift) << shift) | 1;
	const struct hw_tlb_entry *m;
	uint32_t seq = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);

	/* The ways unrolled: a hit costs one tag compare per way before
	 * it, no loop bookkeeping. */
	if (hw_tlb_way_is(&s->e[0], tag, key, shift))
		m = &s->e[0];
	else if (hw_tlb_way_is(&s->e[1], tag, key, shift))
		m = &s->e[1];
	else if (hw_tlb_way_is(&s->e[2], tag, key, shift))
		m = &s->e[2];
	else
		m = NULL;
	if (m) {
		const uint64_t *q = (const uint64_t *)m;

		*pa = __atomic_load_n(&q[1], __ATOMIC_RELAXED);
		*attr = __atomic_load_n(&q[3], __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__builtin_expect(
			    (seq & 1) ||
				    seq != __atomic_load_n(&s->seq,
							   __ATOMIC_RELAXED),
			    0))
			return -1;
		return 1;
	}
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if ((seq & 1) || seq != __atomic_load_n(&s->seq, __ATOMIC_RELAXED))
		return -1;
	return 0;
}
_Static_assert(HW_TLB_WAYS == 3, "hw_tlb_probe_set checks three ways");

/* hw_tlb_probe_set of the set the block of stream @key belongs to. */
static inline __attribute__((always_inline)) int
hw_tlb_probe_key(struct hw_tlb *t, uint64_t key, uint64_t va, unsigned shift,
		 uint64_t *pa, uint64_t *attr)
{
	return hw_tlb_probe_set(hw_tlb_set_at(t, hw_tlb_mix(key), va, shift),
				key, va, shift, pa, attr);
}

/* The same for stream (sid, ssid). */
static inline __attribute__((always_inline)) int
hw_tlb_probe_once(struct hw_tlb *t, uint32_t sid, uint32_t ssid, uint64_t va,
		  unsigned shift, uint64_t *pa, uint64_t *attr)
{
	return hw_tlb_probe_key(t, hw_tlb_key(sid, ssid), va, shift, pa, attr);
}

/* hw_tlb_probe_once until the set is stable. */
static inline __attribute__((always_inline)) bool
hw_tlb_probe_attr(struct hw_tlb *t, uint32_t sid, uint32_t ssid, uint64_t va,
		  unsigned shift, uint64_t *pa, uint64_t *attr)
{
	int r;

	while ((r = hw_tlb_probe_once(t, sid, ssid, va, shift, pa, attr)) < 0)
		;
	return r;
}

/* The same, returning the entry's flags. */
static inline __attribute__((always_inline)) bool
hw_tlb_probe_fast(struct hw_tlb *t, uint32_t sid, uint32_t ssid, uint64_t va,
		  unsigned shift, uint64_t *pa, uint32_t *flags)
{
	uint64_t attr;

	if (!hw_tlb_probe_attr(t, sid, ssid, va, shift, pa, &attr))
		return false;
	*flags = hw_tlb_attr_flags(attr);
	return true;
}

/* Look up @va at every block size in @shifts (retrying sets being
 * written): the out-of-line rest of hw_tlb_find_attr. */
bool hw_tlb_find_sizes(struct hw_tlb *t, uint32_t sid, uint32_t ssid,
		       uint64_t va, uint64_t shifts, uint64_t *pa,
		       uint64_t *attr);

/* Hot-path lookup at every block size present: *pa = the output block
 * base, *attr = the attribute word. The smallest size is tried inline
 * once; anything else (more sizes, a set being written) goes out of
 * line. */
static inline __attribute__((always_inline)) bool
hw_tlb_find_attr(struct hw_tlb *t, uint32_t sid, uint32_t ssid, uint64_t va,
		 uint64_t *pa, uint64_t *attr)
{
	uint64_t shifts = __atomic_load_n(&t->shifts, __ATOMIC_RELAXED);
	int r;

	if (!shifts)
		return false;
	r = hw_tlb_probe_once(t, sid, ssid, va,
			      (unsigned)__builtin_ctzll(shifts), pa, attr);
	if (__builtin_expect(r > 0, 1))
		return true;
	if (r == 0) {
		shifts &= shifts - 1;
		if (!shifts)
			return false;
	}
	return hw_tlb_find_sizes(t, sid, ssid, va, shifts, pa, attr);
}

/* The same, returning the block's size and the entry's flags. */
static inline __attribute__((always_inline)) bool
hw_tlb_find(struct hw_tlb *t, uint32_t sid, uint32_t ssid, uint64_t va,
	    uint64_t *pa, unsigned *shift, uint32_t *flags)
{
	uint64_t attr;

	if (!hw_tlb_find_attr(t, sid, ssid, va, pa, &attr))
		return false;
	*shift = hw_tlb_attr_shift(attr);
	*flags = hw_tlb_attr_flags(attr);
	return true;
}

/* Look up @va for stream (sid, ssid) at every block size present. */
static inline bool hw_tlb_lookup(struct hw_tlb *t, uint32_t sid, uint32_t ssid,
				 uint64_t va, struct hw_tlb_entry *out)
{
	uint64_t shifts = __atomic_load_n(&t->shifts, __ATOMIC_RELAXED);

	while (shifts) {
		unsigned shift = (unsigned)__builtin_ctzll(shifts);

		if (hw_tlb_probe(t, sid, ssid, va, shift, out))
			return true;
		shifts &= shifts - 1;
	}
	return false;
}

/*
 * Fills race with invalidations: a walk that read the old tables must not
 * insert its result after an invalidation of them has returned. So a walker
 * takes the generation before it walks and passes it to the insert, which
 * drops the fill if any invalidation started in between (the next access
 * walks again and sees the new tables).
 */
static inline uint64_t hw_tlb_gen(struct hw_tlb *t)
{
	return __atomic_load_n(&t->gen, __ATOMIC_SEQ_CST);
}

/* Insert (or replace the same key) unless an invalidation started since
 * @gen was read. e->va must be aligned to 1 << e->shift, 7 <= e->shift <=
 * 63; the valid bit is set by the insert. Returns whether it was
 * inserted. */
bool hw_tlb_insert(struct hw_tlb *t, const struct hw_tlb_entry *e,
		   uint64_t gen);

/* The attribute word of an entry (see hw_tlb_attr_*). */
static inline uint64_t hw_tlb_attr(uint16_t dom, unsigned shift, uint32_t flags,
				   uint32_t asid)
{
	return dom | (uint64_t)(shift & 0xff) << 16 |
	       (uint64_t)(flags & 0xff) << 24 | (uint64_t)asid << 32;
}

/* hw_tlb_insert of the entry (@va, @pa, @sid, @ssid, @attr): the same
 * rules, its fields passed in registers. */
bool hw_tlb_insert_attr(struct hw_tlb *t, uint64_t va, uint64_t pa,
			uint32_t sid, uint32_t ssid, uint64_t attr,
			uint64_t gen);
/* A sequence word that doubles as its writer lock: odd = held. Lock-free
 * readers retry while it is odd or has moved. Sets, the directory and
 * flushes use it. */
static inline void hw_tlb_seq_lock(uint32_t *seq)
{
	for (;;) {
		uint32_t v = __atomic_load_n(seq, __ATOMIC_RELAXED);

		if (!(v & 1) && __atomic_compare_exchange_n(
					seq, &v, v + 1, false, __ATOMIC_ACQUIRE,
					__ATOMIC_RELAXED))
			break;
		__builtin_ia32_pause();
	}
	/* Stores under the lock must not become visible before the odd
	 * sequence. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static inline void hw_tlb_seq_unlock(uint32_t *seq)
{
	/* Only the holder writes seq now, but lock-free readers load it
	 * concurrently, so the read must be atomic too. */
	__atomic_store_n(seq, __atomic_load_n(seq, __ATOMIC_RELAXED) + 1,
			 __ATOMIC_RELEASE);
}

static inline void hw_tlb_set_lock(struct hw_tlb_set *s)
{
	hw_tlb_seq_lock(&s->seq);
}

static inline void hw_tlb_set_unlock(struct hw_tlb_set *s)
{
	hw_tlb_seq_unlock(&s->seq);
}

/* Under @s's lock: the directory slot of a valid way of @s filled with
 * the tuple of (@key, @attr), HW_TLB_DIR_SLOTS if none. Such a way keeps
 * its slot in use and the set's bit in the slot's bitmap set. */
static inline __attribute__((always_inline)) unsigned
hw_tlb_set_slot(const struct hw_tlb_set *s, uint64_t key, uint64_t attr)
{
	for (unsigned w = 0; w < HW_TLB_WAYS; w++) {
		const uint64_t *q = (const uint64_t *)&s->e[w];

		if ((__atomic_load_n(&q[0], __ATOMIC_RELAXED) & 1) &&
		    __atomic_load_n(&q[2], __ATOMIC_RELAXED) == key &&
		    !((__atomic_load_n(&q[3], __ATOMIC_RELAXED) ^ attr) &
		      HW_TLB_DIR_TAG_MASK))
			return __atomic_load_n(&s->dslot[w], __ATOMIC_RELAXED);
	}
	return HW_TLB_DIR_SLOTS;
}

/* Under @s's lock, when no way of @s holds the tuple of (@key, @attr):
 * its directory slot (found lock-free, else registered, else the
 * catch-all), with @s's bit set in the slot's bitmap. Out of line: most
 * fills take their slot from a way (hw_tlb_set_slot). */
unsigned hw_tlb_dir_enter(struct hw_tlb *t, struct hw_tlb_set *s, uint64_t key,
			  uint64_t attr);

/*
 * hw_tlb_insert_attr into set @s, which must be the entry's (hw_tlb_set_at
 * of @key's mix, @va and the attribute's shift): for a fill right after a
 * probe of that set. Inline: it is part of every miss.
 */
static inline __attribute__((always_inline)) bool
hw_tlb_insert_set(struct hw_tlb *t, struct hw_tlb_set *s, uint64_t va,
		  uint64_t pa, uint64_t key, uint64_t attr, uint64_t gen)
{
	const unsigned shift = hw_tlb_attr_shift(attr);
	const uint64_t tag = ((va >> shift) << shift) | 1;
	struct hw_tlb_entry *d;
	unsigned slot;
	uint64_t *q;

	/* Publish the size before the entry so a lookup racing with this
	 * insert either misses (and walks) or finds it; never a wrong hit.
	 * Sequentially consistent, as the directory and bitmap updates
	 * below: an invalidation that the generation check lets this fill
	 * through must see all three. */
	if (__builtin_expect(!(__atomic_load_n(&t->shifts, __ATOMIC_SEQ_CST) &
			       (1ull << shift)),
			     0))
		__atomic_fetch_or(&t->shifts, 1ull << shift, __ATOMIC_SEQ_CST);

	hw_tlb_set_lock(s);
	/* A way of the same tuple: its slot, whose bit this set has. Else
	 * the directory's slot and the bit. */
	slot = hw_tlb_set_slot(s, key, attr);
	if (__builtin_expect(slot == HW_TLB_DIR_SLOTS, 0))
		slot = hw_tlb_dir_enter(t, s, key, attr);
	if (__atomic_load_n(&t->gen, __ATOMIC_SEQ_CST) != gen) {
		hw_tlb_set_unlock(s);
		return false;
	}
	/* The same key, else a free way, else round robin. Writers hold
	 * the set, so its ways can be read plainly. */
	if (hw_tlb_way_is(&s->e[0], tag, key, shift))
		d = &s->e[0];
	else if (hw_tlb_way_is(&s->e[1], tag, key, shift))
		d = &s->e[1];
	else if (hw_tlb_way_is(&s->e[2], tag, key, shift))
		d = &s->e[2];
	else if (!(s->e[0].va & 1))
		d = &s->e[0];
	else if (!(s->e[1].va & 1))
		d = &s->e[1];
	else if (!(s->e[2].va & 1))
		d = &s->e[2];
	else {
		uint32_t v = s->next;

		d = &s->e[v];
		s->next = v + 1 < HW_TLB_WAYS ? v + 1 : 0;
	}
	/* Whole words: lookups compare the tag and the key as words. */
	q = (uint64_t *)d;
	__atomic_store_n(&q[1], pa, __ATOMIC_RELAXED);
	__atomic_store_n(&q[2], key, __ATOMIC_RELAXED);
	__atomic_store_n(&q[3], attr, __ATOMIC_RELAXED);
	__atomic_store_n(&q[0], tag, __ATOMIC_RELAXED);
	__atomic_store_n(&s->dslot[d - s->e], (uint8_t)slot, __ATOMIC_RELAXED);
	hw_tlb_set_unlock(s);
	return true;
}

/* What an invalidation matches: every field whose HW_TLB_M_* bit is set in
 * @fields must match; the address range matches entries overlapping
 * [va_start, va_last]; flags_any matches entries with any of those flags. */
#define HW_TLB_M_SID (1u << 0)
#define HW_TLB_M_SSID (1u << 1)
#define HW_TLB_M_DOM (1u << 2)
#define HW_TLB_M_ASID (1u << 3) /* global entries never match an ASID */
#define HW_TLB_M_RANGE (1u << 4)
#define HW_TLB_M_FLAGS (1u << 5)
struct hw_tlb_match {
	uint32_t fields;
	uint32_t sid, ssid;
	uint16_t dom;
	uint8_t flags_any;
	uint8_t pad;
	uint32_t asid;
	uint64_t va_start, va_last;
};

/* Drop matching entries (and possibly others); returns how many were
 * dropped. Once it returns, no lookup finds them and no fill that walked
 * before it is inserted. Cost: nothing when no directory tuple can match;
 * a probe of each block of a range of at most HW_TLB_PROBE_MAX (stream
 * key, block size, block) triples; else the sets the matching tuples'
 * bitmaps name. */
#define HW_TLB_PROBE_MAX 64
unsigned hw_tlb_invalidate(struct hw_tlb *t, const struct hw_tlb_match *m);
void hw_tlb_flush(struct hw_tlb *t);
/* Valid entries (for tests and statistics). */
unsigned hw_tlb_count(struct hw_tlb *t);

#endif
