// SPDX-License-Identifier: MIT
/*
 * SMMUv3 driver: context descriptor tables (spec/smmuv3.md §5).
 *
 * One table per master, allocated at its first stage-1 attachment and
 * sized by its PASIDs: 2^S1CDMax CDs, linear up to 1024 CDs (or without
 * CD2L), else 2-level with 64 KiB leaves of 1024 CDs (S1Fmt = 0b10)
 * allocated on demand. CD 0 serves the RID (STE.S1DSS = 0b10 when the
 * master has PASIDs), CD n PASID n.
 *
 * A CD the SMMU may be using is never rewritten in place: it changes in
 * two qwords (ASID in DW0, TTB0 in DW1), so a fetch could mix two
 * domains. The leaf holding it (or the whole linear table) is copied with
 * the new CD and switched in with one 64-bit store (the level-1
 * descriptor, or STE.S1ContextPtr), then CFGI + CMD_SYNC; the old copy is
 * freed once no DMA in flight can read it. A CD becoming valid or invalid
 * changes only DW0's V bit as far as the SMMU is concerned, and is written
 * in place; so is one replacing a CD that translates nothing (EPD0 = EPD1
 * = 1, of which the SMMU reads DW0 alone).
 */
#include <errno.h>
#include <string.h>

#include "drivers/inflight.h"
#include "drivers/smmuv3.h"
#include "hw/hw.h"
#include "util/alloc.h"

#define CD_DWORDS 8
#define L2_CDS (1u << SMMUV3_CD_L2_LOG2)
#define L2_BYTES ((size_t)L2_CDS * CD_SIZE)

static uint64_t pa_of(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

int smmuv3_cdtab_init(struct smmu_drv *s, struct smmu_cdtab *c, unsigned cdmax)
{
	memset(c, 0, sizeof(*c));
	c->cdmax = cdmax;
	if (s->cd2l && cdmax > SMMUV3_CD_L2_LOG2) {
		c->two_level = true;
		c->nl1 = 1u << (cdmax - SMMUV3_CD_L2_LOG2);
		c->leaves = xcalloc(c->nl1, sizeof(*c->leaves));
		if (!c->leaves)
			return -ENOMEM;
		c->l1 = smmuv3_table_alloc((size_t)c->nl1 * 8);
		if (!c->l1) {
			xfree(c->leaves);
			c->leaves = NULL;
			return -ENOMEM;
		}
	} else {
		c->linear = smmuv3_table_alloc((size_t)CD_SIZE << cdmax);
		if (!c->linear)
			return -ENOMEM;
	}
	return 0;
}

void smmuv3_cdtab_fini(struct smmu_cdtab *c)
{
	for (unsigned i = 0; c->leaves && i < c->nl1; i++)
		xfree(c->leaves[i]);
	xfree(c->leaves);
	xfree(c->l1);
	xfree(c->linear);
	memset(c, 0, sizeof(*c));
}

int smmuv3_cdtab_alloc(struct smmu_master *m)
{
	unsigned cdmax = 0;
	int rc;

	if (m->cd_ready)
		return 0;
	if (m->dev->max_pasids)
		cdmax = 31 - (unsigned)__builtin_clz(m->dev->max_pasids);
	rc = smmuv3_cdtab_init(m->s, &m->cdt, cdmax);
	if (!rc)
		m->cd_ready = true;
	return rc;
}

void smmuv3_cdtab_free(struct smmu_master *m)
{
	if (!m->cd_ready)
		return;
	smmuv3_cdtab_fini(&m->cdt);
	m->cd_ready = false;
}

uint64_t smmuv3_cdtab_ptr(const struct smmu_master *m, unsigned *s1fmt)
{
	const struct smmu_cdtab *c = &m->cdt;

	*s1fmt = c->two_level ? S1FMT_64K : S1FMT_LINEAR;
	return pa_of(c->two_level ? (void *)c->l1 : (void *)c->linear);
}

void smmuv3_cd_build(const struct smmu_domain *d, uint64_t cd[4])
{
	const struct smmu_drv *s = d->s;
	unsigned tg = s->gran == 12 ? 0 : s->gran == 16 ? 1 : 2;

	/* §5: TTB0 only (EPD1), 4K/16K/64K granule, write-back inner
	 * shareable walks, AArch64, record (R) and abort (A) faults. */
	cd[0] = (uint64_t)(64 - d->pt.cfg.ias) | (uint64_t)tg << 6 | 1ull << 8 |
		1ull << 10 | 3ull << 12 | 1ull << 30 | CD_V |
		(uint64_t)s->oas_enc << 32 | 1ull << 41 | 1ull << 45 |
		1ull << 46 | (uint64_t)d->asid << 48;
	/* Dirty tracking: hardware access flag and dirty state (HTTU); the
	 * tables map writable pages writable-clean (DBM). */
	if (d->dirty)
		cd[0] |= 1ull << 42 | 1ull << 43;
	cd[1] = d->pt.root & CD_TTB;
	cd[2] = 0;
	cd[3] = 0xff; /* MAIR: AttrIndx 0 = Normal write-back */
}

/* The CD of @ssid, NULL when its leaf does not exist. */
static uint64_t *cd_slot(const struct smmu_cdtab *c, uint32_t ssid)
{
	if (!c->two_level)
		return c->linear + (size_t)ssid * CD_DWORDS;
	if (!c->leaves[ssid >> SMMUV3_CD_L2_LOG2])
		return NULL;
	return c->leaves[ssid >> SMMUV3_CD_L2_LOG2] +
	       (size_t)(ssid & (L2_CDS - 1)) * CD_DWORDS;
}

bool smmuv3_cd_valid(const struct smmu_master *m, uint32_t ssid)
{
	const uint64_t *cd;

	if (!m->cd_ready || (uint64_t)ssid >> m->cdt.cdmax)
		return false;
	cd = cd_slot(&m->cdt, ssid);
	return cd && (hw_read64(cd) & CD_V);
}

/* §5: a CD that is not valid, or that translates nothing (EPD0 = EPD1 =
 * 1: the SMMU reads no word of it but DW0), is replaced in place, DW0
 * last, with no copy and no wait for DMA in flight. */
static bool cd_inert(const uint64_t *slot)
{
	uint64_t d0 = hw_read64(slot);

	return !(d0 & CD_V) ||
	       (d0 & (CD_EPD0 | CD_EPD1)) == (CD_EPD0 | CD_EPD1);
}

static void cd_store(uint64_t *slot, const uint64_t cd[4])
{
	/* DW0 (with V) last: the SMMU ignores the rest while V=0. */
	for (unsigned i = 1; i < 4; i++)
		hw_write64(&slot[i], cd[i]);
	__atomic_store_n(&slot[0], cd[0], __ATOMIC_RELEASE);
}

int smmuv3_cdtab_put(struct smmu_cdtab *c, uint32_t ssid, const uint64_t cd[4])
{
	uint64_t *slot;

	if ((uint64_t)ssid >> c->cdmax)
		return -EINVAL;
	slot = cd_slot(c, ssid);
	if (!slot) {
		unsigned i = ssid >> SMMUV3_CD_L2_LOG2;
		uint64_t *leaf = smmuv3_table_alloc(L2_BYTES);

		if (!leaf)
			return -ENOMEM;
		c->leaves[i] = leaf;
		c->l1[i] = pa_of(leaf) | 1;
		slot = cd_slot(c, ssid);
	}
	cd_store(slot, cd);
	return 0;
}

static void cfgi_cd(struct smmu_master *m, uint32_t ssid)
{
	struct smmu_cmdbuf b = { .n = 0 };

	smmuv3_count(m->s, drv_cd_write);
	smmuv3_cmd_cfgi_cd(m->s, &b, m->sid, ssid);
	smmuv3_cmd_sync(m->s, &b);
}

/* The STE reads this master's CD table at @table right now. */
static bool ste_uses(const struct smmu_master *m, const void *table)
{
	uint64_t d0 = hw_read64(&m->ste[0]);

	return STE0_V(d0) && (STE0_CONFIG(d0) & 5) == 5 &&
	       (d0 & STE0_CTXPTR) == (pa_of(table) & STE0_CTXPTR);
}

/* Replace a valid CD: copy its block, switch it in, free the old one. */
static int cd_replace(struct smmu_master *m, uint32_t ssid,
		      const uint64_t cd[4])
{
	struct smmu_cdtab *c = &m->cdt;
	uint64_t *old, *nt;

	if (c->two_level) {
		unsigned i = ssid >> SMMUV3_CD_L2_LOG2;

		nt = smmuv3_table_alloc(L2_BYTES);
		if (!nt)
			return -ENOMEM;
		old = c->leaves[i];
		memcpy(nt, old, L2_BYTES);
		cd_store(nt + (size_t)(ssid & (L2_CDS - 1)) * CD_DWORDS, cd);
		c->leaves[i] = nt;
		__atomic_store_n(&c->l1[i], pa_of(nt) | 1, __ATOMIC_RELEASE);
		cfgi_cd(m, ssid);
	} else {
		size_t bytes = (size_t)CD_SIZE << c->cdmax;
		bool live;

		nt = smmuv3_table_alloc(bytes);
		if (!nt)
			return -ENOMEM;
		old = c->linear;
		live = ste_uses(m, old);
		memcpy(nt, old, bytes);
		cd_store(nt + (size_t)ssid * CD_DWORDS, cd);
		c->linear = nt;
		/* One qword of the STE (S1ContextPtr) moves. */
		if (live)
			smmuv3_master_update_ste(m);
		cfgi_cd(m, ssid);
	}
	/* No DMA that fetched from the old copy is still in flight. */
	inflight_wait();
	xfree(old);
	return 0;
}

int smmuv3_cd_set(struct smmu_master *m, uint32_t ssid, const uint64_t *cd)
{
	struct smmu_cdtab *c = &m->cdt;
	uint64_t *slot;

	if (!m->cd_ready || (uint64_t)ssid >> c->cdmax)
		return -EINVAL;
	slot = cd_slot(c, ssid);
	if (!cd) {
		if (!slot || !(hw_read64(slot) & CD_V))
			return 0;
		__atomic_store_n(&slot[0], 0, __ATOMIC_RELEASE);
		cfgi_cd(m, ssid);
		for (unsigned i = 1; i < CD_DWORDS; i++)
			hw_write64(&slot[i], 0);
		return 0;
	}
	if (slot && (hw_read64(slot) & CD_V)) {
		bool same = true;

		for (unsigned i = 0; i < 4 && same; i++)
			same = hw_read64(&slot[i]) == cd[i];
		if (same)
			return 0;
		if (!cd_inert(slot))
			return cd_replace(m, ssid, cd);
	}
	if (!slot) {
		/* A new leaf, complete before its descriptor is valid. */
		unsigned i = ssid >> SMMUV3_CD_L2_LOG2;
		uint64_t *leaf = smmuv3_table_alloc(L2_BYTES);

		if (!leaf)
			return -ENOMEM;
		cd_store(leaf + (size_t)(ssid & (L2_CDS - 1)) * CD_DWORDS, cd);
		c->leaves[i] = leaf;
		__atomic_store_n(&c->l1[i], pa_of(leaf) | 1, __ATOMIC_RELEASE);
	} else {
		cd_store(slot, cd);
	}
	cfgi_cd(m, ssid);
	return 0;
}

int smmuv3_cd_arm(struct smmu_master *m, uint32_t ssid, const uint64_t cd[4])
{
	const uint64_t *slot;

	if (!m->cd_ready || (uint64_t)ssid >> m->cdt.cdmax)
		return -EINVAL;
	slot = cd_slot(&m->cdt, ssid);
	if (slot && !cd_inert(slot))
		return -EBUSY;
	/* Never the copy of cd_replace, which waits. */
	return smmuv3_cd_set(m, ssid, cd);
}
