// SPDX-License-Identifier: MIT
/*
 * The combined context/PASID cache: decoded (context entry, PASID entry)
 * pairs per request stream (source-id, PASID or none). Direct-mapped slots
 * with a sequence counter each: lookups are lock-free, fills and
 * invalidations take the slot's sequence as a lock. Like the IOTLB, a fill
 * carries the generation read before the tables were fetched and is refused
 * if an invalidation started since.
 */
#include <errno.h>
#include <string.h>

#include "hw/vtd/vtd.h"
#include "util/alloc.h"

int vtd_cc_init(struct vtd_cfgcache *cc, unsigned entries)
{
	unsigned n = 1;

	while (n < entries)
		n <<= 1;
	cc->slots = xaligned_zalloc(64, sizeof(*cc->slots) * n);
	if (!cc->slots)
		return -ENOMEM;
	cc->mask = n - 1;
	cc->gen = 0;
	return 0;
}

void vtd_cc_fini(struct vtd_cfgcache *cc)
{
	xfree(cc->slots);
	cc->slots = NULL;
}

static struct vtd_cc_slot *cc_slot(struct vtd_cfgcache *cc, uint32_t sid,
				   uint32_t key)
{
	uint64_t h = ((uint64_t)sid << 32 | key) * 0x9e3779b97f4a7c15ull;

	return &cc->slots[(h >> 40) & cc->mask];
}

static void slot_lock(struct vtd_cc_slot *s)
{
	for (;;) {
		uint32_t seq = __atomic_load_n(&s->seq, __ATOMIC_RELAXED);

		if (!(seq & 1) && __atomic_compare_exchange_n(
					  &s->seq, &seq, seq + 1, false,
					  __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			break;
		__builtin_ia32_pause();
	}
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static void slot_unlock(struct vtd_cc_slot *s)
{
	__atomic_store_n(&s->seq,
			 __atomic_load_n(&s->seq, __ATOMIC_RELAXED) + 1,
			 __ATOMIC_RELEASE);
}

static void slot_read(const struct vtd_cc_slot *s, struct vtd_cfg *out)
{
	uint64_t w[VTD_CC_WORDS];

	for (unsigned i = 0; i < VTD_CC_WORDS; i++)
		w[i] = __atomic_load_n(&s->w[i], __ATOMIC_RELAXED);
	memcpy(out, w, sizeof(*out));
}

bool vtd_cc_lookup(struct vtd_cfgcache *cc, uint32_t sid, uint32_t key,
		   struct vtd_cfg *out)
{
	struct vtd_cc_slot *s = cc_slot(cc, sid, key);
	uint32_t seq;
	bool hit;

	do {
		seq = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);
		hit = false;
		if (__atomic_load_n(&s->valid, __ATOMIC_RELAXED)) {
			slot_read(s, out);
			hit = out->sid == sid && out->key == key;
		}
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
	} while ((seq & 1) ||
		 seq != __atomic_load_n(&s->seq, __ATOMIC_RELAXED));
	return hit;
}

void vtd_cc_insert(struct vtd_cfgcache *cc, const struct vtd_cfg *cfg,
		   uint64_t gen)
{
	struct vtd_cc_slot *s = cc_slot(cc, cfg->sid, cfg->key);
	uint64_t w[VTD_CC_WORDS];

	memcpy(w, cfg, sizeof(w));
	slot_lock(s);
	if (__atomic_load_n(&cc->gen, __ATOMIC_SEQ_CST) == gen) {
		for (unsigned i = 0; i < VTD_CC_WORDS; i++)
			__atomic_store_n(&s->w[i], w[i], __ATOMIC_RELAXED);
		__atomic_store_n(&s->valid, 1, __ATOMIC_RELAXED);
	}
	slot_unlock(s);
}

unsigned vtd_cc_invalidate(struct vtd_cfgcache *cc, vtd_cc_match_fn match,
			   const void *arg,
			   void (*dropped)(const struct vtd_cfg *c, void *ctx),
			   void *ctx)
{
	unsigned n = 0;

	/* Fills that fetched before this point are refused from now on. */
	__atomic_add_fetch(&cc->gen, 1, __ATOMIC_SEQ_CST);
	for (uint32_t i = 0; i <= cc->mask; i++) {
		struct vtd_cc_slot *s = &cc->slots[i];
		struct vtd_cfg c;

		if (!__atomic_load_n(&s->valid, __ATOMIC_RELAXED) &&
		    !(__atomic_load_n(&s->seq, __ATOMIC_SEQ_CST) & 1))
			continue;
		slot_lock(s);
		if (__atomic_load_n(&s->valid, __ATOMIC_RELAXED)) {
			slot_read(s, &c);
			if (!match || match(&c, arg)) {
				__atomic_store_n(&s->valid, 0,
						 __ATOMIC_RELAXED);
				n++;
				if (dropped)
					dropped(&c, ctx);
			}
		}
		slot_unlock(s);
	}
	return n;
}

void vtd_cc_flush(struct vtd_cfgcache *cc)
{
	vtd_cc_invalidate(cc, NULL, NULL, NULL, NULL);
}

unsigned vtd_cc_count(struct vtd_cfgcache *cc)
{
	unsigned n = 0;

	for (uint32_t i = 0; i <= cc->mask; i++)
		n += __atomic_load_n(&cc->slots[i].valid, __ATOMIC_RELAXED);
	return n;
}
