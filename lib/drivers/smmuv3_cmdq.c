// SPDX-License-Identifier: MIT
/*
 * SMMUv3 driver: the command queue. Commands are written to queue memory,
 * CMDQ_PROD is bumped once per batch and every submission that needs
 * completion ends with a CMD_SYNC whose consumption is awaited by polling
 * CMDQ_CONS (spec/smmuv3.md §8). A command the SMMU refuses (CERROR in
 * CMDQ_CONS.ERR, GERROR.CMDQ_ERR) is counted and replaced by a CMD_SYNC,
 * then the error is acknowledged so the queue moves on; a correct driver
 * never sees one (the tests check). Also the invalidation helpers.
 */
#include <sched.h>

#include "drivers/smmuv3.h"
#include "hw/hw.h"

#define POLL_LIMIT (1u << 22)

static unsigned q_size(const struct smmu_drv *s)
{
	return 1u << s->cmdq.log2;
}

/* Index + wrap bit. */
static uint32_t q_idx_mask(const struct smmu_drv *s)
{
	return (2u << s->cmdq.log2) - 1;
}

static uint32_t q_used(const struct smmu_drv *s, uint32_t prod, uint32_t cons)
{
	uint32_t mask = q_size(s) - 1, wrap = q_size(s);

	if ((prod ^ cons) & wrap)
		return (prod & mask) + wrap - (cons & mask);
	return (prod & mask) - (cons & mask);
}

void smmuv3_cmdq_lock(struct smmu_drv *s)
{
	pthread_mutex_lock(&s->cmdq_lock);
	if (!s->cmdq_depth++)
		__atomic_store_n(&s->cmdq_owner, iommu_thread_token(),
				 __ATOMIC_RELAXED);
}

void smmuv3_cmdq_unlock(struct smmu_drv *s)
{
	unsigned later = 0;

	if (!--s->cmdq_depth) {
		__atomic_store_n(&s->cmdq_owner, 0, __ATOMIC_RELAXED);
		later = __atomic_exchange_n(&s->drain_later, 0,
					    __ATOMIC_RELAXED);
	}
	pthread_mutex_unlock(&s->cmdq_lock);
	if (later & SMMUV3_DRAIN_EVTQ)
		smmuv3_drain_evtq(s);
	if (later & SMMUV3_DRAIN_PRIQ)
		smmuv3_drain_priq(s);
}

bool smmuv3_cmdq_mine(struct smmu_drv *s)
{
	/* Only the owner itself can see its token here. */
	return __atomic_load_n(&s->cmdq_owner, __ATOMIC_RELAXED) ==
	       iommu_thread_token();
}

bool smmuv3_drain_deferred(struct smmu_drv *s, unsigned queue)
{
	if (!smmuv3_cmdq_mine(s))
		return false;
	__atomic_or_fetch(&s->drain_later, queue, __ATOMIC_RELAXED);
	return true;
}

void smmuv3_gerror_ack(struct smmu_drv *s, uint32_t bits)
{
	uint32_t g, gn;

	smmuv3_cmdq_lock(s);
	g = smmuv3_rd32(s, SMMU_GERROR);
	gn = smmuv3_rd32(s, SMMU_GERRORN);
	/* An error is active while the two differ: acknowledging toggles
	 * GERRORN to match (§1). */
	bits &= g ^ gn;
	if (bits)
		smmuv3_wr32(s, SMMU_GERRORN, gn ^ bits);
	smmuv3_cmdq_unlock(s);
}

/* A refused command: skip it (the queue stopped on it). True if there was
 * one. Under cmdq_lock. */
static bool cmdq_error(struct smmu_drv *s)
{
	uint32_t active = smmuv3_rd32(s, SMMU_GERROR) ^
			  smmuv3_rd32(s, SMMU_GERRORN);
	uint32_t cons, idx;
	uint64_t *slot;

	if (!(active & GERROR_CMDQ_ERR))
		return false;
	cons = smmuv3_rd32(s, SMMU_CMDQ_CONS);
	idx = cons & (q_size(s) - 1);
	slot = s->cmdq.base + (size_t)idx * 2;
	smmuv3_count(s, drv_cmdq_error);
	trace_smmuv3_cmdq_error(s->hw->id, (cons >> CMDQ_CONS_ERR_SHIFT) & 0x7f,
				hw_read64(&slot[0]), hw_read64(&slot[1]));
	/* A CMD_SYNC is legal everywhere: consumption resumes from it. */
	hw_write64(&slot[0], CMD_SYNC);
	hw_write64(&slot[1], 0);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	smmuv3_gerror_ack(s, GERROR_CMDQ_ERR);
	return true;
}

static void relax(unsigned spins)
{
	if (spins > 64)
		sched_yield();
}

/* Wait until at most @used entries are outstanding; false if the SMMU
 * stopped consuming (never hang). Under cmdq_lock. */
static bool cmdq_wait(struct smmu_drv *s, uint32_t used)
{
	for (unsigned spins = 0;; spins++) {
		uint32_t cons = smmuv3_rd32(s, SMMU_CMDQ_CONS) & q_idx_mask(s);

		if (q_used(s, s->cmdq_prod, cons) <= used)
			return true;
		if (cmdq_error(s))
			continue;
		if (spins > POLL_LIMIT) {
			smmuv3_count(s, drv_cmdq_timeout);
			return false;
		}
		relax(spins);
	}
}

/* Write @n commands and publish them. Under cmdq_lock. */
static void cmdq_write(struct smmu_drv *s, const uint64_t (*c)[2], unsigned n)
{
	unsigned i = 0;

	while (i < n) {
		uint32_t cons = smmuv3_rd32(s, SMMU_CMDQ_CONS) & q_idx_mask(s);
		uint32_t room = q_size(s) - q_used(s, s->cmdq_prod, cons);
		unsigned k;

		if (!room) {
			if (!cmdq_wait(s, q_size(s) - 1))
				return;
			continue;
		}
		k = n - i < room ? n - i : room;
		for (unsigned j = 0; j < k; j++) {
			uint64_t *slot =
				s->cmdq.base +
				(size_t)(s->cmdq_prod & (q_size(s) - 1)) * 2;

			hw_write64(&slot[0], c[i + j][0]);
			hw_write64(&slot[1], c[i + j][1]);
			s->cmdq_prod = (s->cmdq_prod + 1) & q_idx_mask(s);
		}
		/* Commands visible before PROD moves past them. */
		__atomic_thread_fence(__ATOMIC_RELEASE);
		smmuv3_wr32(s, SMMU_CMDQ_PROD, s->cmdq_prod);
		i += k;
		smmuv3_count(s, drv_cmd);
		if (k > 1)
			ctr_add(&s->ctr_val[drv_cmd], k - 1);
	}
}

static void batch_flush(struct smmu_drv *s, struct smmu_cmdbuf *b, bool sync)
{
	unsigned n = b->n;

	/* Emptied first: a drain at the unlock may issue commands. */
	b->n = 0;
	smmuv3_cmdq_lock(s);
	cmdq_write(s, (const uint64_t(*)[2])b->c, n);
	if (sync)
		cmdq_wait(s, 0);
	smmuv3_cmdq_unlock(s);
}

void smmuv3_cmd_add(struct smmu_drv *s, struct smmu_cmdbuf *b, uint64_t dw0,
		    uint64_t dw1)
{
	if (b->n == SMMUV3_BATCH)
		batch_flush(s, b, false);
	b->c[b->n][0] = dw0;
	b->c[b->n][1] = dw1;
	b->n++;
}

void smmuv3_cmd_sync(struct smmu_drv *s, struct smmu_cmdbuf *b)
{
	/* CS=0: completion is observed through CMDQ_CONS. */
	smmuv3_cmd_add(s, b, CMD_SYNC, 0);
	smmuv3_count(s, drv_sync);
	batch_flush(s, b, true);
}

void smmuv3_cmd1(struct smmu_drv *s, uint64_t dw0, uint64_t dw1)
{
	struct smmu_cmdbuf b = { .n = 0 };

	smmuv3_cmd_add(s, &b, dw0, dw1);
	smmuv3_cmd_sync(s, &b);
}

/* ---- encodings ---- */

uint64_t smmuv3_cmd_sid(unsigned op, uint32_t sid)
{
	return op | (uint64_t)sid << 32;
}

void smmuv3_cmd_cfgi_ste(struct smmu_drv *s, struct smmu_cmdbuf *b,
			 uint32_t sid)
{
	/* Leaf=1: only the STE changed, not a level-1 descriptor. */
	smmuv3_cmd_add(s, b, smmuv3_cmd_sid(CMD_CFGI_STE, sid), 1);
}

void smmuv3_cmd_cfgi_cd(struct smmu_drv *s, struct smmu_cmdbuf *b, uint32_t sid,
			uint32_t ssid)
{
	/* Leaf=0: a level-1 CD descriptor may have changed too. */
	smmuv3_cmd_add(s, b,
		       smmuv3_cmd_sid(CMD_CFGI_CD, sid) | (uint64_t)ssid << 12,
		       0);
}

void smmuv3_cmd_atc_inv(struct smmu_drv *s, struct smmu_cmdbuf *b, uint32_t sid,
			uint32_t ssid, uint64_t start, uint64_t last)
{
	uint64_t ps = start >> 12, pe = last >> 12, dw0;
	unsigned span = ps == pe ? 0 : 64 - (unsigned)__builtin_clzll(ps ^ pe);

	/* Size: 2^Size pages, naturally aligned; 52 means everything. */
	if (span >= 52) {
		span = 52;
		ps = 0;
	} else {
		ps &= ~((1ull << span) - 1);
	}
	dw0 = smmuv3_cmd_sid(CMD_ATC_INV, sid);
	if (ssid != IOMMU_NO_PASID)
		dw0 |= 1ull << 11 | (uint64_t)ssid << 12;
	smmuv3_count(s, drv_atc_inv);
	smmuv3_cmd_add(s, b, dw0, span | ps << 12);
}

/* Range invalidations by address (§8): with RIL, (NUM+1) << SCALE
 * granules per command; without it one granule per command. Returns false
 * when the range is better invalidated whole. */
static bool tlbi_range(struct smmu_drv *s, struct smmu_cmdbuf *b, uint64_t dw0,
		       uint64_t start, uint64_t last, uint64_t addr_mask)
{
	unsigned g = s->gran;
	uint64_t first = start >> g, pages = (last >> g) - first + 1;
	uint64_t addr = first << g;

	if (!pages || pages > (s->ril ? (1ull << 20) : 16))
		return false;
	if (!s->ril) {
		for (uint64_t i = 0; i < pages; i++)
			smmuv3_cmd_add(s, b, dw0,
				       1 | ((addr + (i << g)) & addr_mask));
		return true;
	}
	while (pages) {
		unsigned scale = (unsigned)__builtin_ctzll(pages);
		uint64_t num = (pages >> scale) & 31;
		unsigned tg = g == 12 ? 1 : g == 14 ? 2 : 3;

		smmuv3_cmd_add(s, b,
			       dw0 | (num - 1) << 12 | (uint64_t)scale << 20,
			       1 | (uint64_t)tg << 10 | (addr & addr_mask));
		addr += num << (scale + g);
		pages -= num << scale;
	}
	return true;
}

void smmuv3_tlbi_asid(struct smmu_drv *s, struct smmu_cmdbuf *b, uint16_t asid,
		      uint64_t start, uint64_t last, bool all)
{
	/* Stage 1: tagged (VMID 0, ASID). */
	uint64_t dw0 = (uint64_t)asid << 48;

	smmuv3_count(s, drv_tlbi);
	if (all ||
	    !tlbi_range(s, b, CMD_TLBI_NH_VA | dw0, start, last, CMD1_ADDR))
		smmuv3_cmd_add(s, b, CMD_TLBI_NH_ASID | dw0, 0);
}

void smmuv3_tlbi_domain(struct smmu_domain *d, struct smmu_cmdbuf *b,
			uint64_t start, uint64_t last, bool all)
{
	struct smmu_drv *s = d->s;

	if (!d->s2) {
		smmuv3_tlbi_asid(s, b, d->asid, start, last, all);
		return;
	}
	/* A software-only nest parent (a part without stage 2, software
	 * nesting): no SMMU ever walked it. */
	if (!s->s2p)
		return;
	smmuv3_count(s, drv_tlbi);
	if (all || !tlbi_range(s, b, CMD_TLBI_S2_IPA | (uint64_t)d->vmid << 32,
			       start, last, CMD1_IPA)) {
		/* Every entry of the VMID, combined ones included. */
		smmuv3_cmd_add(s, b,
			       CMD_TLBI_S12_VMALL | (uint64_t)d->vmid << 32, 0);
		return;
	}
	/* §8: S2_IPA may leave combined stage-1+2 entries of a nest
	 * parent's nested domains: drop the VMID's stage-1 entries too. */
	if (d->nest_parent && s->s1p)
		smmuv3_cmd_add(s, b, CMD_TLBI_NH_ALL | (uint64_t)d->vmid << 32,
			       0);
}
