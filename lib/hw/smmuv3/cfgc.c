// SPDX-License-Identifier: MIT
/*
 * Configuration cache: decoded STE + CD per (StreamID, SubstreamID), as a
 * 2-way hashed array of inline entries. Lookups are lock-free (per-entry
 * sequence count, copied word by word); fills and invalidations hold
 * cfg_lock. A fill carries the generation read before the STE was fetched
 * and is dropped if an invalidation ran since, so a configuration read
 * before a CFGI_* never survives it.
 */
#include <errno.h>

#include "hw/smmuv3/smmu.h"
#include "util/alloc.h"

struct smmu_cfgc_entry {
	uint32_t seq; /* odd while written */
	uint32_t valid;
	uint32_t sid, ssid;
	uint64_t w[SMMU_CFG_WORDS];
};

int smmu_cfgc_init(struct smmu_cfgc *c, unsigned entries)
{
	c->e = xcalloc(entries, sizeof(*c->e));
	if (!c->e)
		return -ENOMEM;
	c->mask = entries - 1;
	c->gen = 0;
	return 0;
}

void smmu_cfgc_fini(struct smmu_cfgc *c)
{
	xfree(c->e);
	c->e = NULL;
}

static uint32_t cfgc_hash(uint32_t sid, uint32_t ssid)
{
	uint64_t h = ((uint64_t)sid << 32 | ssid) * 0x9e3779b97f4a7c15ull;

	return (uint32_t)(h >> 40);
}

bool smmu_cfgc_lookup(struct smmu_cfgc *c, uint32_t sid, uint32_t ssid_key,
		      struct smmu_cfg *out)
{
	uint32_t h = cfgc_hash(sid, ssid_key);
	uint64_t *o = (uint64_t *)out;

	for (uint32_t way = 0; way < 2; way++) {
		struct smmu_cfgc_entry *e = &c->e[(h ^ way) & c->mask];
		uint32_t seq;
		bool hit;

		do {
			seq = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);
			hit = __atomic_load_n(&e->valid, __ATOMIC_RELAXED) &&
			      __atomic_load_n(&e->sid, __ATOMIC_RELAXED) ==
				      sid &&
			      __atomic_load_n(&e->ssid, __ATOMIC_RELAXED) ==
				      ssid_key;
			if (hit)
				for (unsigned i = 0; i < SMMU_CFG_WORDS; i++)
					o[i] = __atomic_load_n(
						&e->w[i], __ATOMIC_RELAXED);
			__atomic_thread_fence(__ATOMIC_ACQUIRE);
		} while ((seq & 1) ||
			 seq != __atomic_load_n(&e->seq, __ATOMIC_RELAXED));
		if (hit)
			return true;
	}
	return false;
}

static void entry_begin(struct smmu_cfgc_entry *e)
{
	__atomic_store_n(&e->seq, e->seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static void entry_end(struct smmu_cfgc_entry *e)
{
	__atomic_store_n(&e->seq, e->seq + 1, __ATOMIC_RELEASE);
}

void smmu_cfgc_insert(struct smmu *s, uint32_t sid, uint32_t ssid_key,
		      const struct smmu_cfg *cfg, uint64_t gen)
{
	struct smmu_cfgc *c = &s->cfgc;
	uint32_t h = cfgc_hash(sid, ssid_key);
	const uint64_t *w = (const uint64_t *)cfg;
	struct smmu_cfgc_entry *e = NULL;

	pthread_mutex_lock(&s->cfg_lock);
	if (__atomic_load_n(&c->gen, __ATOMIC_RELAXED) != gen)
		goto out;
	/* Same key, else a free way, else the second way (the first holds
	 * the most recently placed of the pair). */
	for (uint32_t way = 0; way < 2 && !e; way++) {
		struct smmu_cfgc_entry *x = &c->e[(h ^ way) & c->mask];

		if (x->valid && x->sid == sid && x->ssid == ssid_key)
			e = x;
	}
	for (uint32_t way = 0; way < 2 && !e; way++) {
		struct smmu_cfgc_entry *x = &c->e[(h ^ way) & c->mask];

		if (!x->valid)
			e = x;
	}
	if (!e)
		e = &c->e[(h ^ 1) & c->mask];
	entry_begin(e);
	__atomic_store_n(&e->sid, sid, __ATOMIC_RELAXED);
	__atomic_store_n(&e->ssid, ssid_key, __ATOMIC_RELAXED);
	for (unsigned i = 0; i < SMMU_CFG_WORDS; i++)
		__atomic_store_n(&e->w[i], w[i], __ATOMIC_RELAXED);
	__atomic_store_n(&e->valid, 1, __ATOMIC_RELAXED);
	entry_end(e);
out:
	pthread_mutex_unlock(&s->cfg_lock);
}

void smmu_cfgc_invalidate(struct smmu *s, uint32_t first, uint32_t last,
			  int64_t ssid_key)
{
	struct smmu_cfgc *c = &s->cfgc;

	pthread_mutex_lock(&s->cfg_lock);
	__atomic_add_fetch(&c->gen, 1, __ATOMIC_SEQ_CST);
	for (uint32_t i = 0; i <= c->mask; i++) {
		struct smmu_cfgc_entry *e = &c->e[i];

		if (!e->valid || e->sid < first || e->sid > last ||
		    (ssid_key != SMMU_CFGC_ANY &&
		     e->ssid != (uint32_t)ssid_key))
			continue;
		entry_begin(e);
		__atomic_store_n(&e->valid, 0, __ATOMIC_RELAXED);
		entry_end(e);
	}
	pthread_mutex_unlock(&s->cfg_lock);
}
