// SPDX-License-Identifier: MIT
/*
 * SMMUv3 driver: the stream table and STEs (spec/smmuv3.md §3, §4).
 *
 * The table is 2-level with SPLIT = 8 (one level-2 table of 256 STEs per PCI
 * bus, allocated when a device on that bus is probed) when the SMMU has
 * ST_LEVEL and more than 8 StreamID bits, else linear. Every STE starts as
 * V=1, Config=abort.
 *
 * An STE in use is changed so that a transaction never sees a mix of two
 * configurations: the SMMU may read the qwords of an STE at any moment, in
 * any order, each one single-copy atomic. Bits the current configuration
 * does not use are written first; if the two configurations then differ in
 * the used bits of one qword only, that qword is written alone (a hitless
 * switch), else the STE goes through Config=abort (DMA is terminated for
 * the moment it takes). Every step is made visible with CFGI_STE + CMD_SYNC
 * before the next.
 */
#include <errno.h>
#include <string.h>

#include "drivers/inflight.h"
#include "drivers/smmuv3.h"
#include "hw/hw.h"
#include "util/alloc.h"

#define SPLIT 8
#define STE_DWORDS 8
#define STE_V 1ull

/* StreamIDs a table may cover: level-1 tables of at most 2^16 entries,
 * linear tables of at most 2^16 STEs (4 MiB). */
#define SID_BITS_2LVL 24
#define SID_BITS_LINEAR 16

int smmuv3_strtab_init(struct smmu_drv *s)
{
	unsigned sidsize = s->idr[1] & 0x3f;
	bool lvl = SMMU_BITS(s->idr[0], 28, 27) == 1;
	uint32_t cfg;

	s->sid_bits = sidsize;
	if (s->sid_bits > (lvl ? SID_BITS_2LVL : SID_BITS_LINEAR))
		s->sid_bits = lvl ? SID_BITS_2LVL : SID_BITS_LINEAR;
	s->st_2lvl = lvl && s->sid_bits > SPLIT;
	s->nmaps = s->sid_bits > SPLIT ? 1u << (s->sid_bits - SPLIT) : 1;
	s->masters = xcalloc(s->nmaps, sizeof(*s->masters));
	if (!s->masters)
		return -ENOMEM;
	if (s->st_2lvl) {
		s->nl1 = 1u << (s->sid_bits - SPLIT);
		s->strtab_bytes = (size_t)s->nl1 * 8;
		s->l2 = xcalloc(s->nl1, sizeof(*s->l2));
		if (!s->l2)
			return -ENOMEM;
		cfg = STRTAB_FMT_2LVL << 16 | SPLIT << 6 | s->sid_bits;
	} else {
		s->strtab_bytes = (size_t)STE_SIZE << s->sid_bits;
		cfg = STRTAB_FMT_LINEAR << 16 | s->sid_bits;
	}
	s->strtab = smmuv3_table_alloc(s->strtab_bytes);
	if (!s->strtab)
		return -ENOMEM;
	if (!s->st_2lvl) {
		for (size_t i = 0; i < (size_t)1 << s->sid_bits; i++)
			s->strtab[i * STE_DWORDS] = STE_V;
	}
	smmuv3_wr64(s, SMMU_STRTAB_BASE,
		    BASE_RA | ((uint64_t)(uintptr_t)s->strtab &
			       STRTAB_BASE_ADDR));
	smmuv3_wr32(s, SMMU_STRTAB_BASE_CFG, cfg);
	return 0;
}

void smmuv3_strtab_fini(struct smmu_drv *s)
{
	for (unsigned i = 0; s->l2 && i < s->nl1; i++)
		xfree(s->l2[i]);
	xfree(s->l2);
	xfree(s->strtab);
	for (unsigned i = 0; s->masters && i < s->nmaps; i++)
		xfree(s->masters[i]);
	xfree(s->masters);
	s->l2 = NULL;
	s->strtab = NULL;
	s->masters = NULL;
}

int smmuv3_strtab_ste(struct smmu_drv *s, uint32_t sid, uint64_t **ste)
{
	unsigned i = sid >> SPLIT;
	uint64_t *l2;

	if ((uint64_t)sid >> s->sid_bits)
		return -EINVAL;
	if (!s->st_2lvl) {
		*ste = s->strtab + (size_t)sid * STE_DWORDS;
		return 0;
	}
	l2 = s->l2[i];
	if (!l2) {
		l2 = smmuv3_table_alloc((size_t)STE_SIZE << SPLIT);
		if (!l2)
			return -ENOMEM;
		for (unsigned j = 0; j < 1u << SPLIT; j++)
			l2[j * STE_DWORDS] = STE_V;
		s->l2[i] = l2;
		/* Span = SPLIT + 1: 2^SPLIT STEs; published once complete.
		 * The descriptor was invalid, so nothing has it cached. */
		__atomic_store_n(&s->strtab[i],
				 (uint64_t)(SPLIT + 1) |
					 ((uint64_t)(uintptr_t)l2 &
					  L1STD_L2PTR),
				 __ATOMIC_RELEASE);
	}
	*ste = l2 + (size_t)(sid & ((1u << SPLIT) - 1)) * STE_DWORDS;
	return 0;
}

/* ---- STE contents ---- */

void smmuv3_ste_used(const struct smmu_drv *s, const uint64_t e[4],
		     uint64_t used[4])
{
	unsigned cfg = (unsigned)STE0_CONFIG(e[0]);

	memset(used, 0, 4 * sizeof(used[0]));
	used[0] = STE_V;
	if (!STE0_V(e[0]))
		return;
	used[0] |= SMMU_MASK(3, 1);
	if (!(cfg & 4))
		return; /* abort: nothing else is read */
	if (cfg == STE_CFG_BYPASS) {
		used[1] |= SMMU_MASK(45, 44); /* SHCFG */
		return;
	}
	used[1] |= SMMU_MASK(29, 28); /* EATS */
	if (cfg & 1) {
		used[0] |= SMMU_MASK(5, 4) | STE0_CTXPTR | SMMU_MASK(63, 59);
		/* S1DSS, S1CIR/COR/CSH, S1STALLD, STRW */
		used[1] |= SMMU_MASK(7, 0) | SMMU_MASK(27, 27) |
			   SMMU_MASK(31, 30);
		/* MEV (event merging), which nested STEs set. */
		used[1] |= SMMU_MASK(19, 19);
		/* §4: the VMID tags stage-1 entries whenever stage 2 is
		 * implemented. */
		if (s->s2p)
			used[2] |= SMMU_MASK(15, 0);
	}
	if (cfg & 2) {
		used[2] = ~0ull;
		used[3] |= STE3_S2TTB;
	}
}

uint64_t smmuv3_ste_s2_words(const struct smmu_domain *d, uint64_t *dw3)
{
	const struct smmu_drv *s = d->s;
	unsigned arm_level = 3 - d->pt.start_level;
	/* §6.5: S2SL0 names the start level per granule. */
	unsigned sl0 = s->gran == 12 ? 2 - arm_level : 3 - arm_level;
	unsigned tg = s->gran == 12 ? 0 : s->gran == 16 ? 1 : 2;

	*dw3 = d->pt.root & STE3_S2TTB;
	return d->vmid | (uint64_t)(64 - d->pt.cfg.ias) << 32 |
	       (uint64_t)sl0 << 38 | 1ull << 40 /* S2IR0 WBRA */ |
	       1ull << 42 /* S2OR0 WBRA */ | 3ull << 44 /* S2SH0 ISH */ |
	       (uint64_t)tg << 46 | (uint64_t)s->oas_enc << 48 |
	       1ull << 51 /* S2AA64 */ | 1ull << 54 /* S2PTW */ |
	       1ull << 58 /* S2R: record faults */;
}

void smmuv3_ste_target(struct smmu_master *m, uint64_t t[4])
{
	const struct smmu_domain *d = m->rid_dom;

	memset(t, 0, 4 * sizeof(t[0]));
	if (d && d->nested) {
		smmuv3_nested_ste(m, d, t);
		return;
	}
	if (d && d->s2) {
		t[0] = STE_V | STE_CFG_S2 << 1;
		t[2] = smmuv3_ste_s2_words(d, &t[3]);
	} else if (d || m->npasids) {
		unsigned fmt;
		uint64_t ptr = smmuv3_cdtab_ptr(m, &fmt);
		unsigned cdmax = m->cdt.cdmax;

		t[0] = STE_V | STE_CFG_S1 << 1 | (uint64_t)fmt << 4 |
		       (ptr & STE0_CTXPTR) | (uint64_t)cdmax << 59;
		/* §4 S1DSS: traffic without PASID uses CD 0 (SubstreamID 0
		 * is then reserved), or is terminated while only PASIDs are
		 * attached. Table walks are write-back, inner shareable. */
		t[1] = 1ull << 2 | 1ull << 4 | 3ull << 6;
		if (cdmax)
			t[1] |= d ? S1DSS_SSID0 : S1DSS_TERMINATE;
	} else {
		t[0] = STE_V; /* Config = abort */
		return;
	}
	if (m->dev->ats_usable)
		t[1] |= (uint64_t)EATS_TRANS << 28;
}

/* Write qwords [first, first + n) of @v that differ; CFGI_STE + SYNC if
 * anything changed. */
static void ste_set(struct smmu_master *m, const uint64_t *v, unsigned first,
		    unsigned n)
{
	struct smmu_drv *s = m->s;
	struct smmu_cmdbuf b = { .n = 0 };
	bool changed = false;

	for (unsigned i = first; i < first + n; i++) {
		if (hw_read64(&m->ste[i]) == v[i])
			continue;
		__atomic_store_n(&m->ste[i], v[i], __ATOMIC_RELEASE);
		changed = true;
	}
	if (!changed)
		return;
	smmuv3_count(s, drv_ste_write);
	smmuv3_cmd_cfgi_ste(s, &b, m->sid);
	smmuv3_cmd_sync(s, &b);
}

void smmuv3_ste_write(struct smmu_master *m, const uint64_t t[4])
{
	uint64_t cur[4], cu[4], tu[4], step[4];
	unsigned diff = 0;

	for (unsigned i = 0; i < 4; i++)
		cur[i] = hw_read64(&m->ste[i]);
	smmuv3_ste_used(m->s, cur, cu);
	smmuv3_ste_used(m->s, t, tu);
	for (unsigned i = 0; i < 4; i++) {
		/* What may change now without the SMMU noticing. */
		step[i] = (cur[i] & cu[i]) | (t[i] & ~cu[i]);
		if ((step[i] & tu[i]) != t[i])
			diff |= 1u << i;
	}
	if (__builtin_popcount(diff) == 1) {
		unsigned crit = (unsigned)__builtin_ctz(diff);

		step[crit] = cur[crit];
		ste_set(m, step, 0, 4);
		ste_set(m, t, crit, 1);
		ste_set(m, t, 0, 4); /* clear what the target ignores */
	} else if (diff) {
		/* Break: abort (only V and Config are read), rewrite the
		 * rest, then the new DW0. */
		step[0] = STE_V;
		ste_set(m, step, 0, 1);
		ste_set(m, t, 1, 3);
		ste_set(m, t, 0, 1);
	} else {
		ste_set(m, t, 0, 4);
	}
}

void smmuv3_master_update_ste(struct smmu_master *m)
{
	struct smmu_drv *s = m->s;
	uint64_t t[4];
	bool ats;

	smmuv3_ste_target(m, t);
	ats = STE1_EATS(t[1]) != EATS_ABORT;
	smmuv3_ste_write(m, t);
	/* ATS turned off: nothing the function cached may be used again. */
	if (m->ats && !ats) {
		struct smmu_cmdbuf b = { .n = 0 };

		smmuv3_cmd_atc_inv(s, &b, m->sid, IOMMU_NO_PASID, 0,
				   UINT64_MAX);
		smmuv3_cmd_sync(s, &b);
	}
	m->ats = ats;
}
