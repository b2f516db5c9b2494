// SPDX-License-Identifier: MIT
/*
 * Software nesting on SMMUv3 (DESIGN.md, lib/drivers/shadow.h): a nested
 * domain of an instance in "shadow" mode is programmed as a single stage 1.
 *
 * The physical STE (smmuv3_shadow_ste): Config = stage-1 translate over a
 * host CD table (the master's, sized by the guest's S1CDMax) holding one
 * host CD per valid guest CD, with the guest's S1CDMax, S1DSS and CD fetch
 * attributes, so the model itself gives the configuration faults hardware
 * nesting gives (C_BAD_STE, C_BAD_SUBSTREAMID, F_STREAM_DISABLED). The
 * guest's STE is checked like the model would where a host STE cannot
 * carry the guest's value (an illegal S1Fmt or S1CDMax is copied so that
 * the model rejects it the same way).
 *
 * Host CDs (struct smmu_shcd, one per guest SubstreamID): the guest CD is
 * read through the parent's stage 2 and checked with the model's rules
 * (spec/smmuv3.md §5: V, AA64, ENDI, IPS, granules, TxSZ, TTB within IPS,
 * stall rules); an illegal one becomes an invalid host CD (the model then
 * records C_BAD_CD, which goes to the vEVENTQ as in hardware nesting). A
 * CD whose fetch (of the L1 descriptor or the CD, per 4K page as the model
 * reads them) faults in stage 2 becomes a CD that translates nothing (EPD0
 * = EPD1 = 1). Hardware caches no configuration it could not read, so the
 * fault path fetches such a CD again on every transaction that meets it:
 * still faulting, it reports the stage-2 fault of the fetch (S2, CLASS=CD,
 * the IPA); not valid or illegal now, C_BAD_CD; legal (the VMM mapped the
 * page), it builds the shadow CD, writes the host CD in place
 * (smmuv3_cd_arm: only DW0 of a CD with both halves disabled is read, so
 * no copy and no wait for DMA in flight, which a DMA thread cannot do),
 * CFGI_CD, and retries. A legal CD gets a host CD with the guest's
 * translation controls (T0SZ, TG0, walk attributes, TBI, WXN, AFFD, MAIR),
 * TTB0 = a shadow table (VMSAv8-64 stage 1, the guest's granule and input
 * size, host output) composed from the guest's TTB0 tree through the
 * parent, and an ASID of its own from the instance's allocator: guest
 * ASIDs are per VM, host ones never shared. R=0 and HA=HD=0: the shadow's
 * faults are not recorded, the driver reports what hardware nesting
 * reports. EPD1 is set: TTB1 regions are translated by the fault path (a
 * software nested walk, no shadow).
 *
 * Guest commands (smmuv3_shadow_cmd): CFGI_CD(_ALL) re-reads the CD(s)
 * and rewrites the host CD(s) on every attached master (CFGI_CD on the
 * physical StreamID); TLBI_NH_VA(A) resyncs the range on the shadows of
 * that guest ASID (every ASID of the vIOMMU for VAA), TLBI_NH_ASID and
 * TLBI_NH_ALL all of them; each followed by TLBI_NH_VA/ASID of the host
 * ASID and a CMD_SYNC. ATC_INV passes through as in hardware mode.
 *
 * Faults (smmuv3_shadow_translate): the request goes to the model without
 * PRI. A translation-class fault it did not record (R=0) comes from the
 * shadow and is classified by a software nested walk with the model's
 * rules (xlate.c: TTB0/TTB1 selection, TBI, EPD, access flag, permission
 * rules with WXN, stage-2 faults on table fetches with CLASS=TT and on the
 * output with CLASS=IN): a translation found is filled into the shadow
 * and the request retried (a guest mapping added without invalidation, a
 * first access with HA, a first write with HD); otherwise the fault is
 * reported as the model would: for a PRI device a stage-1 translation
 * fault replayed with PRI so the model queues the same page request;
 * else (§9) a stall where hardware nesting stalls (a stage-1
 * translation-class fault, not ATS, of a guest CD with S=1): the driver
 * holds it in a slot of its own (IDR5.STALL_MAX of them) under a tag
 * chosen as the SMMU chooses its own (smmu_stalls_hold), and the record
 * with Stall=1 and the tag is handled as a drained stall record (kept
 * by the host, reported to the core for the HWPT's fault queue, the
 * fault marked as the driver's); the answer (page_response) releases the
 * slot and tells the platform's resume handler, as CMD_RESUME does in
 * the SMMU, and changes nothing when the slot is no longer held (as the
 * SMMU ignores a RESUME naming nothing); it never goes to the SMMU, whose
 * stalls may carry the same tags; else an event
 * record made as the model makes it, handled by the driver like a
 * drained one (stage-1 faults to the vEVENTQ, stage-2 faults kept by the
 * host). A guest STE that bypasses stage 1 (Config=bypass on a part
 * without stage 2, S1DSS=bypass) leaves the model's answer a bypass,
 * which the hook translates with the parent's stage 2 in software.
 *
 * Parent unmaps (smmuv3_shadow_parent_begin/end): the engine drops what
 * was composed through the range before the parent's tables change; the
 * host ASIDs are invalidated and DMA in flight drained before the unmap
 * returns.
 *
 * Forced stalls (IDR0.STALL_MODEL=2): the SMMU stalls every miss of the
 * shadow itself, fills included. The drain leaves the record of a stall
 * of a stream on a shadow domain to the hook (smmuv3_shadow_stall_owned),
 * which releases it at once (CMD_RESUME abort) and handles the fault as
 * an unrecorded one: a fill, or the stall hardware nesting makes (forced
 * stalls stall stage-2 faults too), held by the driver as above.
 *
 * Not mirrored: guest TTB1 regions are never cached in the shadow; the
 * config cache: a guest CD that could be read is read at attach and at
 * CFGI_CD, as a correct guest expects; the driver's stall slots are not
 * the SMMU's (stalls of other streams do not count against them); with
 * forced stalls the platform's resume handler also sees the SMMU's own
 * stalls of shadow misses released.
 */
#include <errno.h>
#include <string.h>
#include <ionest/ionest.h>
#include <ionest/uapi/iommufd.h>

#include "drivers/inflight.h"
#include "drivers/shadow.h"
#include "drivers/smmuv3.h"
#include "hw/hw.h"
#include "util/alloc.h"

#define ACC_R IONEST_ACCESS_READ
#define ACC_W IONEST_ACCESS_WRITE
#define ACC_X IONEST_ACCESS_EXEC
#define ACC_P IONEST_ACCESS_PRIV

/* Guest CD0 fields a host CD keeps: T0SZ, TG0, IR0/OR0/SH0, TBI, WXN,
 * AFFD. */
#define CD0_KEEP                                                \
	(SMMU_MASK(5, 0) | SMMU_MASK(7, 6) | SMMU_MASK(13, 8) | \
	 SMMU_MASK(39, 38) | SMMU_MASK(36, 36) | SMMU_MASK(35, 35))
#define STE0_CTXPTR_MASK SMMU_MASK(51, 6)
#define STE1_EATS_MASK SMMU_MASK(29, 28)

/* Permissions as the model's (SMMU_P_*): the walk's answer. */
#define P_R (1u << 0)
#define P_W (1u << 1)
#define P_PX (1u << 2)
#define P_U (1u << 3)
#define P_UX (1u << 7)
#define P_ALL (P_R | P_W | P_PX | P_U | P_UX)

enum { SHCD_OK, SHCD_BAD, SHCD_FETCH };

/* A guest CD, decoded with the model's rules. */
struct gcd {
	uint64_t w[4];
	bool epd[2], had[2], r, wxn, affd, ha, hd, stall;
	uint8_t tbi, gran[2], ias[2], ips;
	uint64_t ttb[2];
	uint16_t asid;
};

/* One guest CD (SubstreamID) of a shadow nested domain. */
struct smmu_shcd {
	uint32_t ssid;
	uint8_t state;
	/* SHCD_FETCH: the stage-2 fault of the fetch. */
	uint8_t ftype;
	uint64_t fipa;
	struct gcd g;
	struct shadow *s; /* TTB0's shadow (NULL without TTB0) */
	uint16_t asid; /* host ASID (0: none) */
	uint64_t hcd[4]; /* the host CD (V=0: none) */
	uint64_t inv_s, inv_l; /* a parent unmap's range to invalidate */
};

struct smmu_shnest {
	struct smmu_domain *d;
	struct smmu_shcd **cds; /* sorted by SubstreamID */
	unsigned n, cap;
	bool built;
	bool ste_bad; /* the guest's STE fields are illegal: copied */
};

/* ---- the model's rules, mirrored ---- */

static unsigned pa_bits(unsigned enc)
{
	static const uint8_t bits[8] = { 32, 36, 40, 42, 44, 48, 52, 0 };

	return bits[enc & 7];
}

static unsigned gran_ok(const struct smmu_drv *s, unsigned shift)
{
	if ((shift == 12 && (s->idr[5] & IDR5_GRAN4K)) ||
	    (shift == 14 && (s->idr[5] & IDR5_GRAN16K)) ||
	    (shift == 16 && (s->idr[5] & IDR5_GRAN64K)))
		return shift;
	return 0;
}

static unsigned oas_bits(const struct smmu_drv *s)
{
	return pa_bits(s->idr[5] & 7);
}

static unsigned stall_model(const struct smmu_drv *s)
{
	return (unsigned)SMMU_BITS(s->idr[0], 25, 24);
}

static unsigned httu(const struct smmu_drv *s)
{
	return (unsigned)SMMU_BITS(s->idr[0], 7, 6);
}

/* What an access needs (smmu_perm_need). */
static uint32_t perm_need(uint32_t a)
{
	if (!(a & (ACC_R | ACC_W | ACC_X)))
		return 1u << 8;
	return ((a & (ACC_R | ACC_X)) ? P_R : 0) | ((a & ACC_W) ? P_W : 0) |
	       ((a & ACC_P) ? ((a & ACC_X) ? P_PX : 0) :
			      (P_U | ((a & ACC_X) ? P_UX : 0)));
}

static bool perm_ok(uint32_t p, uint32_t a)
{
	uint32_t need = perm_need(a);

	return (p & need) == need;
}

/* The permissions reported for an access (smmu_res_perm). */
static uint32_t res_perm(uint32_t p, uint32_t a)
{
	bool priv = a & ACC_P, u = p & P_U, r = p & P_R, w = p & P_W;
	bool x = priv ? (p & P_PX) : (p & P_UX);

	if (!priv && !u)
		return 0;
	return (r ? ACC_R : 0) | (w ? ACC_W : 0) | (r && x ? ACC_X : 0) |
	       (u ? 0 : ACC_P);
}

/* VMSA rules: EL0-writable is never privileged-executable; WXN makes
 * writable execute-never. */
static uint32_t s1_rules(uint32_t p, bool wxn)
{
	if ((p & P_W) && (p & P_U))
		p &= ~P_PX;
	if (wxn && (p & P_W))
		p &= ~(P_PX | P_UX);
	return p;
}

static uint32_t s1_perm(uint32_t pt)
{
	return ((pt & PT_PERM_R) ? P_R : 0) | ((pt & PT_PERM_W) ? P_W : 0) |
	       ((pt & PT_PERM_PX) ? P_PX : 0) | ((pt & PT_PERM_UX) ? P_UX : 0) |
	       ((pt & PT_PERM_U) ? P_U : 0);
}

static uint32_t s2_perm(uint32_t pt)
{
	return P_U | ((pt & PT_PERM_R) ? P_R : 0) |
	       ((pt & PT_PERM_W) ? P_W : 0) | ((pt & PT_PERM_PX) ? P_PX : 0) |
	       ((pt & PT_PERM_UX) ? P_UX : 0);
}

static bool xlate_fault(uint8_t t)
{
	return t >= EVT_F_TRANSLATION && t <= EVT_F_PERMISSION;
}

/* ---- stage 2 (the parent's tables, as the model walks them) ---- */

struct nres {
	uint8_t type; /* 0: translated */
	bool s2, ttrnw;
	uint8_t cls;
	uint64_t addr; /* IPA (S2) or fetch address */
	bool gate_s2; /* recorded under S2R although not S2 */
	/* translated: */
	uint64_t hpa;
	unsigned shift;
	uint32_t perm; /* P_* */
	uint32_t s1pt, s2pt; /* PT_PERM_* of the two leaves */
};

static int nfault(struct nres *o, uint8_t type, bool s2, uint8_t cls,
		  uint64_t addr)
{
	o->type = type;
	o->s2 = s2;
	o->cls = cls;
	o->addr = addr;
	return -EFAULT;
}

static uint8_t s2_fault_type(const struct pt_walk *w)
{
	switch (w->fault) {
	case PT_FAULT_ADDR_SIZE:
		return EVT_F_ADDR_SIZE;
	case PT_FAULT_FETCH:
	case PT_FAULT_UPDATE:
		return EVT_F_WALK_EABT;
	default:
		return EVT_F_TRANSLATION;
	}
}

/* The model's s2_walk (S2AFFD=0, no S2HA/HD, S2PTW over Normal memory). */
static int s2_walk(const struct smmu_domain *par, uint64_t ipa, uint32_t access,
		   uint8_t cls, struct nres *o, struct pt_walk *w)
{
	*w = (struct pt_walk){ 0 };
	if (pt_walk(&par->pt, ipa, 0, w)) {
		uint8_t t = s2_fault_type(w);

		return nfault(o, t, true, cls,
			      t == EVT_F_WALK_EABT ? w->fault_addr : ipa);
	}
	if (!(w->perm & PT_PERM_AF))
		return nfault(o, EVT_F_ACCESS, true, cls, ipa);
	if (!perm_ok(s2_perm(w->perm), access))
		return nfault(o, EVT_F_PERMISSION, true, cls, ipa);
	return 0;
}

/* Read @n words of guest memory at @ipa through stage 2 (a CD fetch), as
 * the model's hw_nest_read: one translation per 4K page touched, of the
 * page's address (which a fault reports). */
static int s2_read(const struct smmu_domain *par, uint64_t ipa, uint64_t *out,
		   unsigned n, struct nres *o)
{
	uint64_t page = 1, base = 0;
	struct pt_walk w;

	for (unsigned i = 0; i < n; i++) {
		uint64_t a = ipa + 8ull * i;

		if ((a >> 12) != page) {
			if (s2_walk(par, a & ~0xfffull, ACC_P | ACC_R,
				    EVT_CLASS_CD, o, &w))
				return -EFAULT;
			base = w.oa;
			page = a >> 12;
		}
		out[i] = hw_read64(
			(const void *)(uintptr_t)(base + (a & 0xfff)));
	}
	return 0;
}

/* ---- guest CDs ---- */

static unsigned tg0_shift(uint64_t tg)
{
	static const uint8_t sh[4] = { 12, 16, 14, 0 };

	return sh[tg & 3];
}

static unsigned tg1_shift(uint64_t tg)
{
	static const uint8_t sh[4] = { 0, 14, 12, 16 };

	return sh[tg & 3];
}

static uint64_t s1_root_size(unsigned ias, unsigned gran)
{
	unsigned stride = gran - 3;
	unsigned levels = (ias - gran + stride - 1) / stride;

	return 8ull << (ias - gran - (levels - 1) * stride);
}

/* §5: the model's cd_decode. */
static bool gcd_decode(const struct smmu_drv *s, bool s1stalld, struct gcd *g)
{
	uint64_t d0 = g->w[0];
	bool all64k = true;
	unsigned bits;

	if (!CD0_V(d0) || !CD0_AA64(d0) || CD0_ENDI(d0) || CD0_IPS(d0) > 6)
		return false;
	if (CD0_S(d0) && (stall_model(s) == SMMU_STALL_TERM_ONLY ||
			  (stall_model(s) == SMMU_STALL_BOTH && s1stalld)))
		return false;
	g->stall = CD0_S(d0) || stall_model(s) == SMMU_STALL_FORCED;
	g->asid = (uint16_t)(CD0_ASID(d0) & (s->asid16 ? 0xffff : 0xff));
	g->affd = CD0_AFFD(d0);
	g->r = CD0_R(d0);
	g->wxn = CD0_WXN(d0);
	g->tbi = (uint8_t)CD0_TBI(d0);
	g->ha = httu(s) >= 1 && CD0_HA(d0);
	g->hd = httu(s) >= 2 && CD0_HD(d0) && g->ha;
	g->epd[0] = CD0_EPD0(d0);
	g->epd[1] = CD0_EPD1(d0);
	for (unsigned i = 0; i < 2; i++) {
		unsigned tsz = (unsigned)(i ? CD0_T1SZ(d0) : CD0_T0SZ(d0));
		unsigned gran = gran_ok(s, i ? tg1_shift(CD0_TG1(d0)) :
					       tg0_shift(CD0_TG0(d0)));

		if (g->epd[i])
			continue;
		if (!gran || tsz < 16 || tsz > 39)
			return false;
		g->gran[i] = (uint8_t)gran;
		g->ias[i] = (uint8_t)(64 - tsz);
		g->had[i] = CD1_HAD(g->w[1 + i]);
		g->ttb[i] = g->w[1 + i] & CD_TTB;
		if (gran != 16)
			all64k = false;
	}
	bits = pa_bits((unsigned)CD0_IPS(d0));
	if (bits > oas_bits(s))
		bits = oas_bits(s);
	if (!all64k && bits > 48)
		bits = 48;
	g->ips = (uint8_t)bits;
	for (unsigned i = 0; i < 2; i++) {
		if (g->epd[i])
			continue;
		if (g->ttb[i] >> bits)
			return false;
		g->ttb[i] &= ~(s1_root_size(g->ias[i], g->gran[i]) - 1);
	}
	return true;
}

static uint8_t gste_cfg(const struct smmu_domain *d)
{
	if (!STE0_V(d->gste[0]))
		return STE_CFG_ABORT;
	return (uint8_t)STE0_CONFIG(d->gste[0]);
}

static unsigned gste_cdmax(const struct smmu_domain *d)
{
	return (unsigned)STE0_S1CDMAX(d->gste[0]);
}

/* Whether the model rejects the guest's stage-1 STE fields (ste_decode);
 * the host STE then carries them. */
static bool gste_bad(const struct smmu_drv *s, const struct smmu_domain *d)
{
	unsigned fmt = (unsigned)STE0_S1FMT(d->gste[0]);
	unsigned cdmax = gste_cdmax(d);
	unsigned ssidsize = (unsigned)SMMU_BITS(s->idr[1], 10, 6);

	if (!s->s1p)
		ssidsize = 0;
	return fmt == 3 || (fmt && !s->cd2l) || cdmax > ssidsize ||
	       (cdmax && STE1_S1DSS(d->gste[1]) == 3) ||
	       (STE1_S1STALLD(d->gste[1]) && stall_model(s) != SMMU_STALL_BOTH);
}

/* Fetch guest CD @ssid (§5 cd_fetch, the CD table at IPAs). 1: invalid
 * (a leaf descriptor or CD that is not valid), 0: read, <0: fetch fault. */
static int gcd_fetch(const struct smmu_domain *d, uint32_t ssid, uint64_t w[4],
		     struct nres *o)
{
	unsigned fmt = (unsigned)STE0_S1FMT(d->gste[0]);
	uint64_t ptr = d->gste[0] & STE0_CTXPTR_MASK, addr, l1;

	if (fmt == S1FMT_LINEAR) {
		addr = ptr + (uint64_t)ssid * CD_SIZE;
	} else {
		unsigned leaf = fmt == S1FMT_4K ? 6 : 10;

		if (s2_read(d->parent, ptr + (uint64_t)(ssid >> leaf) * 8, &l1,
			    1, o))
			return -EFAULT;
		if (!L1CD_V(l1))
			return 1;
		addr = (l1 & L1CD_L2PTR) +
		       (uint64_t)(ssid & ((1u << leaf) - 1)) * CD_SIZE;
	}
	if (s2_read(d->parent, addr, w, 4, o))
		return -EFAULT;
	return 0;
}

/* ---- composition ---- */

/* A shadow leaf giving exactly stage 1 (after the VMSA rules) AND stage 2,
 * or none (the fault path translates it): PXN and UXN must agree, and the
 * rules applied to the shadow leaf must give the same answer. */
static bool compose(const struct shadow *s, uint32_t s1, uint32_t s2,
		    uint32_t *prot)
{
	const struct smmu_shcd *c = s->priv;
	uint32_t e, leaf, p = PT_PROT_READ;

	if (!(s2 & PT_PERM_R) || !(s2 & PT_PERM_AF))
		return false;
	if (!(s1 & PT_PERM_AF) && !c->g.affd)
		return false;
	e = s1_rules(s1_perm(s1), c->g.wxn) & s2_perm(s2);
	if (!!(e & P_PX) != !!(e & P_UX))
		return false;
	leaf = P_R | (e & (P_W | P_U | P_PX | P_UX));
	if (s1_rules(leaf, c->g.wxn) != leaf)
		return false;
	if (e & P_W)
		p |= PT_PROT_WRITE;
	if (!(e & P_U))
		p |= PT_PROT_PRIV;
	if (e & P_PX)
		p |= PT_PROT_EXEC;
	*prot = p;
	return true;
}

/* ---- shadow CDs ---- */

static void shcd_free(struct smmu_drv *s, struct smmu_shcd *c)
{
	if (c->s) {
		shadow_fini(c->s);
		xfree(c->s);
	}
	if (c->asid)
		smmuv3_id_free(s, s->asid_map, c->asid);
	xfree(c);
}

/* The host CD of a legal guest CD over its shadow. */
static void host_cd(const struct smmu_drv *s, struct smmu_shcd *c)
{
	const struct gcd *g = &c->g;

	c->hcd[0] = (g->w[0] & CD0_KEEP) | CD_EPD1 | CD_V |
		    (uint64_t)s->oas_enc << 32 | CD_AA64 | CD_A |
		    (uint64_t)c->asid << 48;
	c->hcd[1] = 0;
	if (c->s)
		c->hcd[1] = c->s->sh.root & CD_TTB;
	else
		c->hcd[0] |= CD_EPD0;
	c->hcd[2] = 0;
	c->hcd[3] = g->w[3];
}

/* Read and decode guest CD @ssid: SHCD_OK (*g), SHCD_BAD (a CD or L1
 * descriptor not valid, or an illegal CD), SHCD_FETCH (*o the stage-2
 * fault of the fetch). */
static int gcd_read(const struct smmu_domain *d, uint32_t ssid, struct gcd *g,
		    struct nres *o)
{
	int rc;

	*g = (struct gcd){ 0 };
	rc = gcd_fetch(d, ssid, g->w, o);
	if (rc < 0)
		return SHCD_FETCH;
	if (rc > 0 || !gcd_decode(d->s, STE1_S1STALLD(d->gste[1]), g))
		return SHCD_BAD;
	return SHCD_OK;
}

/* The shadow CD of guest CD @ssid as gcd_read found it (@state, @g, @o);
 * NULL for SHCD_BAD (no host CD: the model reports C_BAD_CD). */
static int shcd_build(struct smmu_domain *d, uint32_t ssid, int state,
		      const struct gcd *g, const struct nres *o,
		      struct smmu_shcd **out)
{
	struct smmu_drv *s = d->s;
	struct smmu_shcd *c;
	int rc;

	*out = NULL;
	if (state == SHCD_BAD)
		return 0;
	c = xzalloc(sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->ssid = ssid;
	c->state = (uint8_t)state;
	if (state == SHCD_FETCH) {
		/* Translates nothing; the fault path reports the fetch. */
		c->ftype = o->type;
		c->fipa = o->addr;
		c->hcd[0] = CD_EPD0 | CD_EPD1 | CD_V | CD_AA64 | CD_A |
			    (uint64_t)s->oas_enc << 32;
		*out = c;
		return 0;
	}
	c->g = *g;
	rc = smmuv3_id_alloc(s, s->asid_map, s->asid_bits, &c->asid);
	if (rc)
		goto fail;
	if (!c->g.epd[0]) {
		struct shadow_cfg cfg = {
			.s1 = { .fmt = PT_FMT_ARM_S1,
				.granule_shift = c->g.gran[0],
				.ias = c->g.ias[0],
				.oas = c->g.ips,
				.start_level = -1,
				.flags = c->g.had[0] ? PT_CFG_HAD : 0 },
			.s1_root = c->g.ttb[0],
			.sh = { .fmt = PT_FMT_ARM_S1,
				.granule_shift = c->g.gran[0],
				.ias = c->g.ias[0],
				.oas = SMMUV3_IAS,
				.start_level = -1 },
			.s2 = &d->parent->pt,
			.s2_bits = 64,
			.compose = compose,
			.priv = c,
		};
		uint64_t is, il;

		rc = -ENOMEM;
		c->s = xzalloc(sizeof(*c->s));
		if (!c->s)
			goto fail;
		rc = shadow_init(c->s, &cfg);
		if (rc) {
			xfree(c->s);
			c->s = NULL;
			goto fail;
		}
		/* Composed from what the guest has now, as a fresh
		 * configuration fetch would walk it. */
		pthread_mutex_lock(&c->s->lock);
		(void)shadow_sync(c->s, 0, UINT64_MAX, &is, &il);
		pthread_mutex_unlock(&c->s->lock);
		smmuv3_count(s, drv_shadow_sync);
	}
	host_cd(s, c);
	*out = c;
	return 0;
fail:
	shcd_free(s, c);
	return rc == -ENOMEM ? rc : -ENOSPC;
}

/* Read guest CD @ssid and make its shadow CD (shcd_build). */
static int shcd_make(struct smmu_domain *d, uint32_t ssid,
		     struct smmu_shcd **out)
{
	struct nres o = { 0 };
	struct gcd g;
	int state = gcd_read(d, ssid, &g, &o);

	return shcd_build(d, ssid, state, &g, &o, out);
}

static unsigned shcd_index(const struct smmu_shnest *n, uint32_t ssid)
{
	unsigned a = 0, b = n->n;

	while (a < b) {
		unsigned m = a + (b - a) / 2;

		if (n->cds[m]->ssid < ssid)
			a = m + 1;
		else
			b = m;
	}
	return a;
}

static struct smmu_shcd *shcd_find(const struct smmu_shnest *n, uint32_t ssid)
{
	unsigned i = shcd_index(n, ssid);

	return i < n->n && n->cds[i]->ssid == ssid ? n->cds[i] : NULL;
}

/* Put @c (or nothing) at @ssid; returns what was there. */
static int shcd_set(struct smmu_shnest *n, uint32_t ssid, struct smmu_shcd *c,
		    struct smmu_shcd **old)
{
	unsigned i = shcd_index(n, ssid);
	bool present = i < n->n && n->cds[i]->ssid == ssid;

	*old = present ? n->cds[i] : NULL;
	if (present) {
		if (c) {
			n->cds[i] = c;
		} else {
			memmove(&n->cds[i], &n->cds[i + 1],
				(n->n - i - 1) * sizeof(*n->cds));
			n->n--;
		}
		return 0;
	}
	if (!c)
		return 0;
	if (n->n == n->cap) {
		unsigned cap = n->cap ? n->cap * 2 : 8;
		struct smmu_shcd **m = xrealloc(n->cds, cap * sizeof(*m));

		if (!m)
			return -ENOMEM;
		n->cds = m;
		n->cap = cap;
	}
	memmove(&n->cds[i + 1], &n->cds[i], (n->n - i) * sizeof(*n->cds));
	n->cds[i] = c;
	n->n++;
	return 0;
}

/* SubstreamIDs the guest's CD table holds (0 alone without SSIDs). */
static uint32_t ncds(const struct smmu_domain *d)
{
	return 1u << gste_cdmax(d);
}

/* Write @c's host CD (or none) at @ssid in every attached master. @dma:
 * from a DMA thread, which must not wait (for DMA in flight, or for an
 * attachment, whose change waits for it): the domain's lock is only
 * tried (-EAGAIN) and only a host CD that translates nothing is
 * replaced (smmuv3_cd_arm). */
static int publish(struct smmu_domain *d, uint32_t ssid,
		   const struct smmu_shcd *c, bool dma)
{
	if (!dma)
		pthread_mutex_lock(&d->lock);
	else if (pthread_mutex_trylock(&d->lock))
		return -EAGAIN;
	for (unsigned i = 0; i < d->natt; i++) {
		struct smmu_master *m = d->att[i].m;

		if (d->att[i].ssid != IOMMU_NO_PASID || !m->cd_ready)
			continue;
		/* Out of memory for a 2-level leaf: the CD stays invalid
		 * there (C_BAD_CD), as after a failed update; on a DMA
		 * thread, the host CD that translates nothing stays, whose
		 * faults the fault path serves. */
		if (dma)
			(void)smmuv3_cd_arm(m, ssid, c->hcd);
		else
			(void)smmuv3_cd_set(m, ssid, c ? c->hcd : NULL);
	}
	pthread_mutex_unlock(&d->lock);
	return 0;
}

/* The old shadow CD is unreachable: its host ASID goes from the TLB. */
static void retire(struct smmu_drv *s, struct smmu_shcd *c)
{
	if (!c)
		return;
	if (c->asid) {
		struct smmu_cmdbuf b = { .n = 0 };

		smmuv3_tlbi_asid(s, &b, c->asid, 0, UINT64_MAX, true);
		smmuv3_cmd_sync(s, &b);
	}
	inflight_wait();
	shcd_free(s, c);
}

/* Re-read guest CD @ssid (CFGI_CD); sh_lock held. */
static void shcd_refresh(struct smmu_domain *d, uint32_t ssid)
{
	struct smmu_shnest *n = d->sh;
	struct smmu_shcd *c, *old = shcd_find(n, ssid);

	if (shcd_make(d, ssid, &c))
		c = NULL; /* no memory or ASID: invalid (C_BAD_CD) */
	if (c && old && old->state == c->state && c->state == SHCD_OK &&
	    !memcmp(old->g.w, c->g.w, sizeof(c->g.w))) {
		/* Unchanged: the shadow stays (with its TLB entries, as
		 * hardware keeps them across CFGI_CD). */
		shcd_free(d->s, c);
		return;
	}
	if (shcd_set(n, ssid, c, &old)) {
		shcd_free(d->s, c);
		c = NULL;
		(void)shcd_set(n, ssid, NULL, &old);
	}
	(void)publish(d, ssid, c, false);
	retire(d->s, old);
}

/* Read every guest CD (first attach, CFGI_CD_ALL); sh_lock held. */
static void shnest_build(struct smmu_domain *d)
{
	struct smmu_shnest *n = d->sh;

	n->built = true;
	n->ste_bad = gste_bad(d->s, d);
	if (gste_cfg(d) != STE_CFG_S1 || n->ste_bad)
		return;
	for (uint32_t ssid = 0; ssid < ncds(d); ssid++)
		shcd_refresh(d, ssid);
}

/* ---- the nested domain ---- */

int smmuv3_shadow_init(struct smmu_domain *d)
{
	struct smmu_drv *s = d->s;
	struct smmu_shnest *n = xzalloc(sizeof(*n));

	if (!n)
		return -ENOMEM;
	n->d = d;
	d->sh = n;
	pthread_mutex_lock(&s->sh_lock);
	d->sh_sibling = d->parent->sh_children;
	d->parent->sh_children = d;
	pthread_mutex_unlock(&s->sh_lock);
	return 0;
}

void smmuv3_shadow_fini(struct smmu_domain *d)
{
	struct smmu_drv *s = d->s;
	struct smmu_shnest *n = d->sh;
	struct smmu_domain **pp;

	if (!n)
		return;
	pthread_mutex_lock(&s->sh_lock);
	for (pp = &d->parent->sh_children; *pp; pp = &(*pp)->sh_sibling) {
		if (*pp == d) {
			*pp = d->sh_sibling;
			break;
		}
	}
	pthread_mutex_unlock(&s->sh_lock);
	/* Nothing is attached: no DMA reaches the shadows. */
	for (unsigned i = 0; i < n->n; i++)
		retire(s, n->cds[i]);
	xfree(n->cds);
	xfree(n);
	d->sh = NULL;
}

int smmuv3_shadow_cdtab(struct smmu_domain *d, struct smmu_master *m,
			struct smmu_cdtab *out)
{
	struct smmu_drv *s = d->s;
	struct smmu_shnest *n = d->sh;
	unsigned cdmax = gste_cdmax(d);
	int rc;

	(void)m;
	pthread_mutex_lock(&s->sh_lock);
	if (!n->built)
		shnest_build(d);
	/* An STE the model rejects reads no CD. */
	if (gste_cfg(d) != STE_CFG_S1 || n->ste_bad)
		cdmax = 0;
	rc = smmuv3_cdtab_init(s, out, cdmax);
	for (unsigned i = 0; !rc && i < n->n; i++)
		rc = smmuv3_cdtab_put(out, n->cds[i]->ssid, n->cds[i]->hcd);
	pthread_mutex_unlock(&s->sh_lock);
	if (rc)
		smmuv3_cdtab_fini(out);
	return rc;
}

void smmuv3_shadow_ste(const struct smmu_master *m, const struct smmu_domain *d,
		       uint64_t t[4])
{
	const struct smmu_drv *s = d->s;
	unsigned cfg = gste_cfg(d), fmt;
	uint64_t ptr;

	memset(t, 0, 4 * sizeof(t[0]));
	if (cfg == STE_CFG_ABORT) {
		t[0] = 1ull;
		return;
	}
	if (cfg == STE_CFG_BYPASS) {
		/* Stage 2 alone: in hardware where the part has it, else a
		 * bypass the translate hook turns into the parent's stage 2. */
		if (s->s2p) {
			t[0] = 1ull | (uint64_t)STE_CFG_S2 << 1;
			t[2] = smmuv3_ste_s2_words(d->parent, &t[3]);
		} else {
			t[0] = 1ull | (uint64_t)STE_CFG_BYPASS << 1;
		}
		return;
	}
	ptr = smmuv3_cdtab_ptr(m, &fmt);
	if (d->sh && d->sh->ste_bad) {
		/* The guest's illegal S1Fmt/S1CDMax/S1DSS/S1STALLD: the
		 * model rejects it (C_BAD_STE) as in hardware nesting. */
		t[0] = (d->gste[0] & ~STE0_CTXPTR_MASK) | (ptr & STE0_CTXPTR);
		t[1] = d->gste[1] & ~STE1_EATS_MASK;
		return;
	}
	/* §4: the guest's S1CDMax and S1DSS over the host CD table, the
	 * guest's CD fetch attributes and S1STALLD; EATS re-derived. */
	t[0] = 1ull | (uint64_t)STE_CFG_S1 << 1 | (uint64_t)fmt << 4 |
	       (ptr & STE0_CTXPTR) | (uint64_t)gste_cdmax(d) << 59;
	t[1] = d->gste[1] & ~STE1_EATS_MASK;
	if (d->nested_ats && m->dev->ats_usable)
		t[1] |= (uint64_t)EATS_TRANS << 28;
}

/* ---- invalidation ---- */

/* Resync [start, last] of @c's shadow and invalidate the host ASID. */
static void shcd_sync(struct smmu_drv *s, struct smmu_shcd *c, uint64_t start,
		      uint64_t last)
{
	struct smmu_cmdbuf b = { .n = 0 };
	uint64_t is, il, list;

	if (!c->s)
		return;
	pthread_mutex_lock(&c->s->lock);
	(void)shadow_sync(c->s, start, last, &is, &il);
	list = shadow_take_tables(c->s);
	pthread_mutex_unlock(&c->s->lock);
	smmuv3_count(s, drv_shadow_sync);
	if (is > il && !list)
		return;
	smmuv3_tlbi_asid(s, &b, c->asid, is, il, list != 0);
	smmuv3_cmd_sync(s, &b);
	if (list) {
		inflight_wait();
		shadow_free_tables(c->s, list);
	}
}

/* The IOVA range of a TLBI_NH_VA/VAA (§8: TG, SCALE, NUM; a single
 * address without TG). */
static void tlbi_range(const uint64_t c[2], uint64_t *start, uint64_t *last)
{
	static const uint8_t g[4] = { 0, 12, 14, 16 };
	unsigned tg = (unsigned)SMMU_BITS(c[1], 11, 10);
	uint64_t va = c[1] & CMD1_ADDR, len;
	unsigned num = (unsigned)SMMU_BITS(c[0], 16, 12);
	unsigned scale = (unsigned)SMMU_BITS(c[0], 24, 20);

	*start = va;
	if (!tg) {
		*last = va;
		return;
	}
	len = ((uint64_t)num + 1) << (5 * scale + 1 + g[tg]);
	*last = va + len - 1 < va ? UINT64_MAX : va + len - 1;
}

void smmuv3_shadow_cmd(struct smmu_viommu *sv, const uint64_t c[2])
{
	struct smmu_drv *s = sv->s;
	unsigned op = (unsigned)CMD_OP(c[0]);
	uint16_t asid = (uint16_t)(c[0] >> 48);
	uint64_t start = 0, last = UINT64_MAX;
	bool by_asid = op == CMD_TLBI_NH_ASID || op == CMD_TLBI_NH_VA;

	pthread_mutex_lock(&s->sh_lock);
	if (op == CMD_CFGI_CD || op == CMD_CFGI_CD_ALL) {
		struct smmu_master *m =
			smmuv3_sid_master(s, (uint32_t)(c[0] >> 32));
		struct smmu_domain *d = m ? m->rid_dom : NULL;

		if (d && d->sh && d->viommu == sv &&
		    gste_cfg(d) == STE_CFG_S1 && !d->sh->ste_bad) {
			if (op == CMD_CFGI_CD_ALL)
				shnest_build(d);
			else if (SMMU_BITS(c[0], 31, 12) < ncds(d))
				shcd_refresh(d,
					     (uint32_t)SMMU_BITS(c[0], 31, 12));
		}
		pthread_mutex_unlock(&s->sh_lock);
		return;
	}
	if (op == CMD_TLBI_NH_VA || op == CMD_TLBI_NH_VAA)
		tlbi_range(c, &start, &last);
	for (struct smmu_domain *d = sv->parent->sh_children; d;
	     d = d->sh_sibling) {
		if (d->viommu != sv)
			continue;
		for (unsigned i = 0; i < d->sh->n; i++) {
			struct smmu_shcd *cd = d->sh->cds[i];

			if (cd->state != SHCD_OK ||
			    (by_asid && cd->g.asid != asid))
				continue;
			shcd_sync(s, cd, start, last);
		}
	}
	pthread_mutex_unlock(&s->sh_lock);
}

/* ---- parent unmaps ---- */

void smmuv3_shadow_parent_begin(struct smmu_domain *par, uint64_t start,
				uint64_t last)
{
	for (struct smmu_domain *d = par->sh_children; d; d = d->sh_sibling) {
		for (unsigned i = 0; i < d->sh->n; i++) {
			struct smmu_shcd *c = d->sh->cds[i];

			if (!c->s)
				continue;
			c->inv_s = UINT64_MAX;
			c->inv_l = 0;
			pthread_mutex_lock(&c->s->lock);
			shadow_drop_parent(c->s, start, last, &c->inv_s,
					   &c->inv_l);
		}
	}
}

void smmuv3_shadow_parent_end(struct smmu_domain *par)
{
	struct smmu_drv *s = par->s;
	bool wait = false;

	for (struct smmu_domain *d = par->sh_children; d; d = d->sh_sibling) {
		for (unsigned i = 0; i < d->sh->n; i++) {
			struct smmu_shcd *c = d->sh->cds[i];
			struct smmu_cmdbuf b = { .n = 0 };
			uint64_t list;

			if (!c->s)
				continue;
			list = shadow_take_tables(c->s);
			pthread_mutex_unlock(&c->s->lock);
			if (c->inv_s > c->inv_l && !list)
				continue;
			smmuv3_count(s, drv_shadow_drop);
			smmuv3_tlbi_asid(s, &b, c->asid, c->inv_s, c->inv_l,
					 list != 0);
			smmuv3_cmd_sync(s, &b);
			/* Kept until DMA in flight is done (below). */
			c->inv_s = list;
			wait = wait || list;
		}
	}
	if (!wait)
		return;
	inflight_wait();
	for (struct smmu_domain *d = par->sh_children; d; d = d->sh_sibling) {
		for (unsigned i = 0; i < d->sh->n; i++) {
			struct smmu_shcd *c = d->sh->cds[i];

			if (c->s && c->inv_s != UINT64_MAX && c->inv_s) {
				shadow_free_tables(c->s, c->inv_s);
				c->inv_s = 0;
			}
		}
	}
}

/* ---- the fault path ---- */

/* The model's s1_walk + s1_full_walk + s2_output over the guest's tables
 * through the parent's stage 2 (setting AF/dirty in the guest's tables
 * where the hardware walk would). */
static int nested_walk(const struct smmu_domain *d, const struct smmu_shcd *c,
		       const struct ionest_xlate_req *req, struct nres *o)
{
	const struct gcd *g = &c->g;
	uint64_t va = req->iova, hi;
	unsigned half = (unsigned)SMMU_BIT(va, 55);
	unsigned top = ((g->tbi >> half) & 1) ? 55 : 63;
	unsigned ias = g->ias[half];
	uint32_t access = req->access, p;
	struct pt_walk_level rec[PT_MAX_LEVELS];
	struct pt_walk pw = { .rec = rec }, w2;
	struct shadow stub = { .s2 = &d->parent->pt, .s2_bits = 64 };
	struct shadow_walk w;
	struct pt_cfg pc;

	if (g->epd[half])
		return nfault(o, EVT_F_TRANSLATION, false, EVT_CLASS_IN, 0);
	hi = SMMU_BITS(va, top, ias);
	if (hi != (half ? SMMU_BITS(~0ull, top, ias) : 0))
		return nfault(o, EVT_F_TRANSLATION, false, EVT_CLASS_IN, 0);
	pc = (struct pt_cfg){
		.fmt = PT_FMT_ARM_S1,
		.granule_shift = g->gran[half],
		.ias = (uint8_t)ias,
		.oas = g->ips,
		.start_level = -1,
		.flags = g->had[half] ? PT_CFG_HAD : 0,
	};
	shadow_walk_init(&w, c->s ? c->s : &stub, 0);
	if (pt_attach(&w.s1, &pc, w.s1.mem, g->ttb[half]))
		return nfault(o, EVT_F_TRANSLATION, false, EVT_CLASS_IN, 0);
	if (pt_walk(&w.s1, va & ((1ull << ias) - 1),
		    (g->ha ? PT_WALK_SET_AF : 0) |
			    ((g->hd && (access & ACC_W)) ? PT_WALK_SET_DIRTY :
							   0),
		    &pw)) {
		switch (pw.fault) {
		case PT_FAULT_ADDR_SIZE:
			return nfault(o, EVT_F_ADDR_SIZE, false, EVT_CLASS_IN,
				      0);
		case PT_FAULT_FETCH:
		case PT_FAULT_UPDATE:
			if (w.faulted) {
				uint8_t t = w.s2w.fault != PT_FAULT_NONE ?
						    s2_fault_type(&w.s2w) :
						    EVT_F_PERMISSION;

				o->ttrnw = !w.write;
				return nfault(o, t, true, EVT_CLASS_TT,
					      t == EVT_F_WALK_EABT ?
						      w.s2w.fault_addr :
						      w.fault_gpa);
			}
			o->ttrnw = pw.fault == PT_FAULT_FETCH;
			return nfault(o, EVT_F_WALK_EABT, false, EVT_CLASS_TT,
				      pw.fault_addr);
		default:
			return nfault(o, EVT_F_TRANSLATION, false, EVT_CLASS_IN,
				      0);
		}
	}
	if (!(pw.perm & PT_PERM_AF) && !g->affd)
		return nfault(o, EVT_F_ACCESS, false, EVT_CLASS_IN, 0);
	p = s1_rules(s1_perm(pw.perm), g->wxn);
	if (!perm_ok(p, access))
		return nfault(o, EVT_F_PERMISSION, false, EVT_CLASS_IN, 0);
	if (s2_walk(d->parent, pw.oa, access, EVT_CLASS_IN, o, &w2))
		return -EFAULT;
	o->perm = p & s2_perm(w2.perm);
	o->hpa = w2.oa;
	o->shift = pw.leaf_shift < w2.leaf_shift ? pw.leaf_shift :
						   w2.leaf_shift;
	o->s1pt = pw.perm;
	o->s2pt = w2.perm;
	return 0;
}

/* Stage 2 alone (stage 1 bypassed by the guest's STE). */
static int s2_only(const struct smmu_domain *d,
		   const struct ionest_xlate_req *req, struct nres *o)
{
	const struct smmu_drv *s = d->s;
	unsigned bits = oas_bits(s) > 48 ? 48 : oas_bits(s);
	struct pt_walk w;

	if (req->iova >> bits) {
		o->gate_s2 = true;
		return nfault(o, EVT_F_ADDR_SIZE, false, EVT_CLASS_IN, 0);
	}
	if (s2_walk(d->parent, req->iova, req->access, EVT_CLASS_IN, o, &w))
		return -EFAULT;
	o->perm = P_ALL & s2_perm(w.perm);
	o->hpa = w.oa;
	o->shift = w.leaf_shift;
	return 0;
}

/* The model's smmu_event_build. */
static void event_build(uint64_t ev[4], const struct nres *o,
			const struct ionest_xlate_req *req)
{
	uint64_t attrs = ((req->access & ACC_P) ? EVT1_PNU : 0) |
			 ((req->access & ACC_X) ? EVT1_IND : 0) |
			 ((req->access & ACC_W) ? 0 : EVT1_RNW);

	ev[0] = o->type | (uint64_t)req->sid << EVT0_SID_SHIFT;
	if (req->ssid_valid)
		ev[0] |= EVT0_SSV | (uint64_t)req->ssid << EVT0_SSID_SHIFT;
	if (o->type == EVT_C_BAD_CD) {
		/* Identification only. */
		ev[1] = ev[2] = ev[3] = 0;
		return;
	}
	ev[1] = attrs | (o->s2 ? EVT1_S2 : 0) |
		(uint64_t)o->cls << EVT1_CLASS_SHIFT |
		((o->cls == EVT_CLASS_TT && o->ttrnw) ? EVT1_TTRNW : 0);
	ev[2] = req->iova;
	ev[3] = 0;
	if (o->type == EVT_F_WALK_EABT)
		ev[3] = o->addr & EVT3_FETCH;
	else if (o->s2)
		ev[3] = o->addr & EVT3_IPA;
}

static void ok_result(const struct nres *o, const struct ionest_xlate_req *req,
		      struct ionest_xlate_res *res)
{
	*res = (struct ionest_xlate_res){
		.status = IONEST_XLATE_OK,
		.perm = res_perm(o->perm, req->access),
		.addr = o->hpa,
		.size = 1ull << o->shift,
	};
}

/* §9 stall model: the fault stalls where hardware nesting stalls it (a
 * translation-class fault of a non-ATS transaction whose stage has
 * stalls on: stage 1 with the guest CD's S or forced stalls; stage 2 with
 * forced stalls only, the host's STE has no S2S), held by the driver in a
 * slot of its own under a fresh tag, its record written whatever R
 * says. */
static bool stall(struct smmu_drv *s, bool s1_stall, const struct nres *o,
		  const struct ionest_xlate_req *req,
		  struct ionest_xlate_res *res)
{
	bool forced = stall_model(s) == SMMU_STALL_FORCED;
	uint64_t ev[4];
	uint16_t stag;

	if (req->ats || !xlate_fault(o->type) || !(o->s2 ? forced : s1_stall) ||
	    !smmu_stalls_hold(&s->stalls, req->sid, &stag))
		return false;
	event_build(ev, o, req);
	ev[1] |= EVT1_STALL | stag;
	res->status = IONEST_XLATE_STALLED;
	res->stag = stag;
	res->recorded = true;
	smmuv3_count(s, drv_shadow_fault);
	/* The answer may come at once (no fault queue): the result is
	 * complete before. */
	smmuv3_stall_inject(s, ev);
	return true;
}

/* Forced stalls (STALL_MODEL=2): the SMMU stalls every fault of the
 * shadow, misses that hardware nesting would translate included. Such a
 * stall (its record dropped by the drain, smmuv3_shadow_stall_owned) is
 * released at once and taken for the unrecorded fault it stands for;
 * what hardware nesting does is decided as for any shadow fault. From
 * inside the command queue no RESUME can be sent: the slot stays held,
 * and once all are the SMMU terminates the faults itself, unrecorded. */
static void unstall(struct smmu_drv *s, const struct ionest_xlate_req *req,
		    struct ionest_xlate_res *res)
{
	if (res->status != IONEST_XLATE_STALLED)
		return;
	if (!smmuv3_cmdq_mine(s))
		smmuv3_cmd1(s,
			    smmuv3_cmd_sid(CMD_RESUME, req->sid) |
				    (uint64_t)RESUME_ABORT << 12,
			    res->stag);
	res->status = IONEST_XLATE_FAULT;
	res->recorded = false;
	res->stag = 0;
}

bool smmuv3_shadow_stall_owned(struct smmu_drv *s, const uint64_t ev[4])
{
	struct smmu_master *m =
		smmuv3_sid_master(s, (uint32_t)(ev[0] >> EVT0_SID_SHIFT));
	/* Alive under evtq_lock (nested_free takes it). */
	const struct smmu_domain *d =
		m ? __atomic_load_n(&m->rid_dom, __ATOMIC_ACQUIRE) : NULL;

	return d && d->sh;
}

/* The model's report(): the fault hardware nesting gives. */
static int report(struct iommu_dev *dev, struct smmu_drv *s, bool gate_r,
		  bool s1_stall, const struct nres *o,
		  const struct ionest_xlate_req *req,
		  struct ionest_xlate_res *res)
{
	uint64_t ev[4];
	bool gate;
	int rc;

	if (o->type == EVT_F_TRANSLATION && !o->s2 && o->cls == EVT_CLASS_IN &&
	    req->pri) {
		/* The shadow lacks the page as the guest does: the model
		 * queues the page request hardware nesting would. */
		rc = dev->hw_translate(dev->hw, req, res);
		if (rc || res->status == IONEST_XLATE_PAGE_REQUEST ||
		    res->status == IONEST_XLATE_OK)
			return rc;
		unstall(s, req, res);
	}
	*res = (struct ionest_xlate_res){
		.status = IONEST_XLATE_FAULT,
		.fault = o->type,
		.stage2 = o->s2,
		.fault_addr = o->s2 && o->type != EVT_F_WALK_EABT ? o->addr :
								    req->iova,
	};
	if (req->ats && xlate_fault(o->type))
		return 0;
	if (stall(s, s1_stall, o, req, res))
		return 0;
	gate = o->type == EVT_F_WALK_EABT || o->s2 || o->gate_s2 ? true :
								   gate_r;
	if (!gate)
		return 0;
	smmuv3_count(s, drv_shadow_fault);
	event_build(ev, o, req);
	smmuv3_event_inject(s, ev);
	res->recorded = true;
	return 0;
}

/* Whether the model's bypass answer is the guest's "stage 2 only". */
static bool s1_bypassed(const struct smmu_domain *d,
			const struct ionest_xlate_req *req)
{
	unsigned cfg = gste_cfg(d);

	if (cfg == STE_CFG_BYPASS)
		return true;
	return cfg == STE_CFG_S1 && gste_cdmax(d) && !req->ssid_valid &&
	       STE1_S1DSS(d->gste[1]) == S1DSS_BYPASS;
}

/* The stage-2 fault of @c's last fetch. */
static void fetch_fault(const struct smmu_shcd *c, struct nres *o)
{
	*o = (struct nres){
		.type = c->ftype,
		.s2 = true,
		.cls = EVT_CLASS_CD,
		.addr = c->fipa,
	};
}

/*
 * A guest CD whose fetch faulted is not cached, as hardware caches no
 * configuration it could not read: each transaction that meets its host
 * CD (one that translates nothing) fetches it again, as the next
 * transaction does in hardware nesting once the parent maps the page.
 * Only a CD that can be read now costs more than the fetch. 0: legal
 * now, its host CD installed in place (publish on the DMA path) and @c
 * freed: the caller retries; -EAGAIN: an attachment is changing; 1: *o
 * is the fault of this fetch (its stage-2 fault, or C_BAD_CD for a CD or
 * L1 descriptor that is not valid or legal). sh_lock held.
 */
static int shcd_refetch(struct smmu_domain *d, struct smmu_shcd *c,
			struct nres *o)
{
	struct smmu_drv *s = d->s;
	struct smmu_shcd *nc, *old;
	struct gcd g;
	int state = gcd_read(d, c->ssid, &g, o);

	if (state == SHCD_FETCH) {
		c->ftype = o->type;
		c->fipa = o->addr;
	}
	if (state == SHCD_OK && smmuv3_cmdq_mine(s)) {
		/* An endpoint retrying from inside the command queue (a
		 * response): no CFGI can be issued here; this transaction
		 * gets the last fetch's fault, the next one outside the
		 * queue fetches the CD again. */
		state = SHCD_FETCH;
	}
	if (state == SHCD_FETCH) {
		fetch_fault(c, o);
		return 1;
	}
	if (shcd_build(d, c->ssid, state, &g, o, &nc) || !nc) {
		/* As shcd_refresh: no memory or ASID is an invalid CD. */
		*o = (struct nres){ .type = EVT_C_BAD_CD, .gate_s2 = true };
		return 1;
	}
	if (publish(d, c->ssid, nc, true)) {
		/* Never published: nothing cached or walked it. */
		shcd_free(s, nc);
		return -EAGAIN;
	}
	(void)shcd_set(d->sh, c->ssid, nc, &old); /* replaces: no memory */
	/* No ASID and no shadow: nothing of it is cached or walked. */
	shcd_free(s, old);
	return 0;
}

int smmuv3_shadow_translate(struct iommu_dev *dev,
			    const struct ionest_xlate_req *req,
			    struct ionest_xlate_res *res)
{
	struct smmu_master *m = dev->priv;
	struct smmu_domain *d = __atomic_load_n(&m->rid_dom, __ATOMIC_ACQUIRE);
	struct smmu_drv *s = m->s;
	struct ionest_xlate_req r = *req;
	struct smmu_shcd *c;
	struct nres o = { 0 };
	uint32_t prot;
	bool gate_r, s1_stall;
	int rc;

	if (!d || !d->sh)
		return dev->hw_translate(dev->hw, req, res);
	r.pri = false;
again:
	o = (struct nres){ 0 };
	rc = dev->hw_translate(dev->hw, &r, res);
	if (rc)
		return rc;
	unstall(s, &r, res);
	if (res->status == IONEST_XLATE_BYPASS && s1_bypassed(d, req)) {
		/* Alive while in flight: the parent goes after its nested
		 * domains, which wait for DMA in flight. */
		if (!s2_only(d, req, &o)) {
			ok_result(&o, req, res);
			return 0;
		}
		return report(dev, s, true, false, &o, &r, res);
	}
	if (res->status != IONEST_XLATE_FAULT || res->recorded ||
	    !xlate_fault(res->fault))
		return 0;
	if (pthread_mutex_trylock(&s->sh_lock))
		return -EAGAIN;
	c = shcd_find(d->sh, req->ssid_valid ? req->ssid : 0);
	if (!c || c->state == SHCD_BAD) {
		pthread_mutex_unlock(&s->sh_lock);
		return 0;
	}
	smmuv3_count(s, drv_shadow_miss);
	if (c->state == SHCD_FETCH) {
		rc = shcd_refetch(d, c, &o);
		pthread_mutex_unlock(&s->sh_lock);
		if (rc < 0)
			return rc;
		if (!rc)
			goto again; /* as the SMMU reads the CD now */
		return report(dev, s, true, false, &o, req, res);
	}
	gate_r = c->g.r;
	s1_stall = c->g.stall;
	if (c->s && pthread_mutex_trylock(&c->s->lock)) {
		pthread_mutex_unlock(&s->sh_lock);
		return -EAGAIN;
	}
	rc = nested_walk(d, c, req, &o);
	if (!rc && c->s && !SMMU_BIT(req->iova, 55) &&
	    compose(c->s, o.s1pt, o.s2pt, &prot) &&
	    !shadow_fill(c->s, req->iova & ((1ull << c->g.ias[0]) - 1), o.hpa,
			 o.shift, prot))
		smmuv3_count(s, drv_shadow_fill);
	if (c->s)
		pthread_mutex_unlock(&c->s->lock);
	pthread_mutex_unlock(&s->sh_lock);
	if (rc)
		return report(dev, s, gate_r, s1_stall, &o, req, res);
	rc = dev->hw_translate(dev->hw, &r, res);
	if (!rc && res->status == IONEST_XLATE_OK)
		return 0;
	if (!rc)
		unstall(s, &r, res);
	/* Not expressible as a shadow leaf (TTB1, PXN != UXN): the walk's
	 * answer. */
	ok_result(&o, req, res);
	return 0;
}
