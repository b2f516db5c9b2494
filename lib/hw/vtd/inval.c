// SPDX-License-Identifier: MIT
/*
 * Queued invalidation (vtd.md §8): descriptors of 128 bits (or 256 with
 * IQA.DW) between IQH and IQT, processed when software moves the tail. A
 * malformed descriptor sets FSTS.IQE with IQER.IQEI, raises the fault
 * event and stops the queue with IQH on it until software clears IQE.
 *
 * Scopes, as the architecture gives them:
 *   context-cache   global / domain / device (+ function mask)
 *   PASID-cache     all / domain / PASID within domain
 *   IOTLB           global / domain / page: SS-only entries of the DID in
 *                   range, and every FS and nested entry of the DID
 *   PASID IOTLB     FS and nested entries of (DID, PASID): all non-global /
 *                   page range (global entries too); never SS-only entries;
 *                   the PDE cache (psc.c) too unless page-selective with IH
 *   device-TLB      delivered to the endpoint's ATC invalidation handler
 * The IOTLB is keyed by request stream, so dropping configuration entries
 * also drops the IOTLB entries of the streams they served (tlb.h). The
 * stage-2 walk cache (tag DID) follows domain-wide changes.
 *
 * Caches are invalidated inner first: walk cache, configuration cache, PDE
 * cache, then IOTLB. A walk that used an inner entry before it was dropped
 * read the IOTLB generation even earlier, so its fill is refused by the
 * later IOTLB invalidation; the other order would let it fill the IOTLB
 * after the IOTLB was cleaned.
 */
#include "hw/vtd/vtd.h"

#define FAULT_STATUS                                                 \
	(VTD_FSTS_PFO | VTD_FSTS_PPF | VTD_FSTS_IQE | VTD_FSTS_ICE | \
	 VTD_FSTS_ITE)

static void tlb_drop(struct hw_tlb *t, uint32_t fields, uint32_t sid,
		     uint32_t ssid, uint16_t dom, uint32_t asid,
		     uint8_t flags_any, uint64_t start, uint64_t last)
{
	struct hw_tlb_match m = {
		.fields = fields,
		.sid = sid,
		.ssid = ssid,
		.dom = dom,
		.flags_any = flags_any,
		.asid = asid,
		.va_start = start,
		.va_last = last,
	};

	hw_tlb_invalidate(t, &m);
}

/* IOTLB entries and the PDE-cache entries of the same scope, the inner
 * cache first. */
static void xl_drop(struct vtd *v, uint32_t fields, uint32_t sid, uint32_t ssid,
		    uint16_t dom, uint32_t asid, uint8_t flags_any,
		    uint64_t start, uint64_t last)
{
	tlb_drop(&v->psc, fields, sid, ssid, dom, asid, flags_any, start, last);
	tlb_drop(&v->iotlb, fields, sid, ssid, dom, asid, flags_any, start,
		 last);
}

static void xl_flush(struct vtd *v)
{
	hw_tlb_flush(&v->psc);
	hw_tlb_flush(&v->iotlb);
}

/* IOTLB entries of the stream a dropped configuration served. */
static void drop_stream(const struct vtd_cfg *c, void *ctx)
{
	struct vtd *v = ctx;

	xl_drop(v, HW_TLB_M_SID | HW_TLB_M_SSID, c->sid, c->key, 0, 0, 0, 0, 0);
}

/* Walk-cache entries of a domain (stage 2 of DID @did). */
static void drop_s2wc(struct vtd *v, uint16_t did, bool range, uint64_t start,
		      uint64_t last)
{
	tlb_drop(&v->s2wc,
		 HW_TLB_M_SID | HW_TLB_M_SSID | (range ? HW_TLB_M_RANGE : 0),
		 HW_TLB_SID_S2WC, did, 0, 0, 0, start, last);
}

/* ---- context-cache ---- */

struct cc_dev {
	uint16_t sid, mask; /* SID bits that must match */
};

static bool match_dev(const struct vtd_cfg *c, const void *arg)
{
	const struct cc_dev *d = arg;

	return (c->sid & d->mask) == (d->sid & d->mask);
}

static bool match_did(const struct vtd_cfg *c, const void *arg)
{
	return c->did == *(const uint16_t *)arg;
}

struct sid_set {
	struct vtd *v;
	uint32_t sid[64];
	unsigned n;
	bool overflow;
};

static void collect_sid(const struct vtd_cfg *c, void *ctx)
{
	struct sid_set *s = ctx;

	drop_stream(c, s->v);
	for (unsigned i = 0; i < s->n; i++)
		if (s->sid[i] == c->sid)
			return;
	if (s->n < 64)
		s->sid[s->n++] = c->sid;
	else
		s->overflow = true;
}

static bool match_sids(const struct vtd_cfg *c, const void *arg)
{
	const struct sid_set *s = arg;

	for (unsigned i = 0; i < s->n; i++)
		if (s->sid[i] == c->sid)
			return true;
	return false;
}

void vtd_inv_context(struct vtd *v, unsigned g, uint16_t did, uint16_t sid,
		     unsigned fm)
{
	struct cc_dev dev;
	struct sid_set set = { .v = v };

	hw_count(&v->hw, hw_invalidation);
	switch (g) {
	case VTD_CC_G_DOMAIN:
		/* Scalable-mode context entries carry no DID: the devices of
		 * the domain are those whose cached PASID entries name it;
		 * everything cached for them goes, with their IOTLB entries
		 * and any IOTLB entry tagged with the DID. */
		vtd_cc_invalidate(&v->cc, match_did, &did, collect_sid, &set);
		if (set.overflow) {
			vtd_cc_flush(&v->cc);
			xl_flush(v);
			break;
		}
		vtd_cc_invalidate(&v->cc, match_sids, &set, drop_stream, v);
		for (unsigned i = 0; i < set.n; i++)
			xl_drop(v, HW_TLB_M_SID, set.sid[i], 0, 0, 0, 0, 0, 0);
		xl_drop(v, HW_TLB_M_DOM, 0, 0, did, 0, 0, 0, 0);
		break;
	case VTD_CC_G_DEVICE:
		/* FM masks 1, 2 or 3 low bits of the function number. */
		dev.sid = sid;
		dev.mask = (uint16_t) ~(((1u << fm) - 1) << (3 - fm));
		vtd_cc_invalidate(&v->cc, match_dev, &dev, drop_stream, v);
		for (unsigned f = 0; f < 8; f++) {
			uint16_t s = (uint16_t)((sid & ~7u) | f);

			if ((s & dev.mask) == (sid & dev.mask))
				xl_drop(v, HW_TLB_M_SID, s, 0, 0, 0, 0, 0, 0);
		}
		break;
	default:
		vtd_cc_flush(&v->cc);
		xl_flush(v);
		break;
	}
}

static int inv_cc(struct vtd *v, const uint64_t *d)
{
	unsigned g = VTD_INV_G(d[0]);

	if ((d[0] & VTD_CC_RSVD0) || d[1] || !g)
		return VTD_IQEI_RSVD;
	vtd_inv_context(v, g, VTD_INV_DID(d[0]), VTD_CC_SID(d[0]),
			VTD_CC_FM(d[0]));
	return 0;
}

/* ---- PASID-cache ---- */

struct pc_match {
	uint16_t did;
	uint32_t pasid;
};

static bool match_pasid(const struct vtd_cfg *c, const void *arg)
{
	const struct pc_match *m = arg;

	return c->did == m->did && c->pasid == m->pasid;
}

static int inv_pc(struct vtd *v, const uint64_t *d, bool wide)
{
	struct pc_match m = { VTD_INV_DID(d[0]), VTD_INV_PASID(d[0]) };
	unsigned g = VTD_INV_G(d[0]);

	if (!wide)
		return VTD_IQEI_WIDTH;
	if ((d[0] & VTD_PC_RSVD0) || d[1] || g == 2)
		return VTD_IQEI_RSVD;
	hw_count(&v->hw, hw_invalidation);
	switch (g) {
	case VTD_PC_G_DOMAIN:
		drop_s2wc(v, m.did, false, 0, 0);
		vtd_cc_invalidate(&v->cc, match_did, &m.did, drop_stream, v);
		xl_drop(v, HW_TLB_M_DOM, 0, 0, m.did, 0, 0, 0, 0);
		break;
	case VTD_PC_G_PASID:
		/* The entry may have changed its second stage too. */
		drop_s2wc(v, m.did, false, 0, 0);
		vtd_cc_invalidate(&v->cc, match_pasid, &m, drop_stream, v);
		xl_drop(v, HW_TLB_M_DOM | HW_TLB_M_ASID, 0, 0, m.did, m.pasid,
			0, 0, 0);
		/* Global entries carry no PASID match: those of the DID go
		 * too (the streams found above are already done). */
		xl_drop(v, HW_TLB_M_DOM | HW_TLB_M_FLAGS, 0, 0, m.did, 0,
			HW_TLB_GLOBAL, 0, 0);
		break;
	default:
		vtd_flush_all(v);
		break;
	}
	return 0;
}

/* ---- IOTLB ---- */

static bool range_ok(const struct vtd *v, uint64_t addr, unsigned am)
{
	return am <= VTD_CAP_MAMV(v->cap) && !(addr & ((4096ull << am) - 1));
}

void vtd_inv_iotlb(struct vtd *v, unsigned g, uint16_t did, uint64_t addr,
		   unsigned am, bool ih)
{
	uint64_t last = addr + (4096ull << am) - 1;

	hw_count(&v->hw, hw_invalidation);
	/* Without PSI a page-selective request is done domain-wide. IH
	 * (leaf-only change) would let paging-structure caches stay; this
	 * model drops its PDE cache entries of the scope anyway (a cache may
	 * always drop more), and the walk cache holds leaf translations of
	 * stage 2, which go regardless. */
	(void)ih;
	if (g == VTD_IOTLB_G_PAGE && !(v->cap & VTD_CAP_PSI))
		g = VTD_IOTLB_G_DOMAIN;
	switch (g) {
	case VTD_IOTLB_G_DOMAIN:
		drop_s2wc(v, did, false, 0, 0);
		xl_drop(v, HW_TLB_M_DOM, 0, 0, did, 0, 0, 0, 0);
		break;
	case VTD_IOTLB_G_PAGE:
		/* vtd.md §7: the range applies to second-stage-only and
		 * pass-through entries; FS and nested entries of the DID go
		 * regardless of address. */
		drop_s2wc(v, did, true, addr, last);
		xl_drop(v, HW_TLB_M_DOM | HW_TLB_M_RANGE, 0, 0, did, 0, 0, addr,
			last);
		xl_drop(v, HW_TLB_M_DOM | HW_TLB_M_FLAGS, 0, 0, did, 0,
			HW_TLB_S1, 0, 0);
		break;
	default:
		hw_tlb_flush(&v->s2wc);
		xl_flush(v);
		break;
	}
}

static int inv_iotlb(struct vtd *v, const uint64_t *d)
{
	unsigned g = VTD_INV_G(d[0]), am = VTD_INV_AM(d[1]);
	uint64_t addr = d[1] & VTD_INV_ADDR_MASK;

	if ((d[0] & VTD_IOTLB_RSVD0) || (d[1] & VTD_INV_ADDR_RSVD1) || !g)
		return VTD_IQEI_RSVD;
	if (g == VTD_IOTLB_G_PAGE && !range_ok(v, addr, am))
		return VTD_IQEI_RSVD;
	vtd_inv_iotlb(v, g, VTD_INV_DID(d[0]), addr, am, d[1] & VTD_INV_IH);
	return 0;
}

static int inv_piotlb(struct vtd *v, const uint64_t *d, bool wide)
{
	unsigned g = VTD_INV_G(d[0]), am = VTD_INV_AM(d[1]);
	uint64_t addr = d[1] & VTD_INV_ADDR_MASK, last;
	uint16_t did = VTD_INV_DID(d[0]);
	uint32_t pasid = VTD_INV_PASID(d[0]);
	uint32_t f = HW_TLB_M_DOM | HW_TLB_M_FLAGS;

	if (!wide)
		return VTD_IQEI_WIDTH;
	if ((d[0] & VTD_PIOTLB_RSVD0) || (d[1] & VTD_INV_ADDR_RSVD1) ||
	    g < VTD_PIOTLB_G_PASID)
		return VTD_IQEI_RSVD;
	if (g == VTD_PIOTLB_G_PAGE && !range_ok(v, addr, am))
		return VTD_IQEI_RSVD;
	hw_count(&v->hw, hw_invalidation);
	if (g == VTD_PIOTLB_G_PASID) {
		/* Non-global entries of the PASID (M_ASID skips globals). */
		xl_drop(v, f | HW_TLB_M_ASID, 0, 0, did, pasid, HW_TLB_S1, 0,
			0);
		return 0;
	}
	/* IH: only leaves changed, the PDE cache may stay. */
	last = addr + (4096ull << am) - 1;
	if (!(d[1] & VTD_INV_IH))
		tlb_drop(&v->psc, f | HW_TLB_M_ASID | HW_TLB_M_RANGE, 0, 0, did,
			 pasid, HW_TLB_S1, addr, last);
	tlb_drop(&v->iotlb, f | HW_TLB_M_ASID | HW_TLB_M_RANGE, 0, 0, did,
		 pasid, HW_TLB_S1, addr, last);
	tlb_drop(&v->iotlb, f | HW_TLB_M_RANGE, 0, 0, did, 0, HW_TLB_GLOBAL,
		 addr, last);
	return 0;
}

/* ---- device-TLB ---- */

/* PCIe ATS invalidation size encoding: S=0 one 4 KB page; S=1 the number
 * of trailing ones in ADDR[63:12] gives 8 KB << n. Everything: size 0. */
static void atc_range(bool s, uint64_t addr, uint64_t *start, uint64_t *size)
{
	unsigned ones;

	addr &= VTD_INV_ADDR_MASK;
	if (!s) {
		*start = addr;
		*size = 4096;
		return;
	}
	ones = (unsigned)__builtin_ctzll(~(addr >> 12) | (1ull << 52));
	if (ones >= 51) {
		*start = 0;
		*size = 0;
		return;
	}
	*size = 8192ull << ones;
	*start = addr & ~(*size - 1);
}

static void atc_inv(struct vtd *v, uint32_t sid, uint32_t ssid, bool valid,
		    uint64_t start, uint64_t size)
{
	hw_count(&v->hw, hw_atc_inv);
	if (v->hw.atc_inv_fn)
		v->hw.atc_inv_fn(v->hw.atc_inv_ctx, sid, ssid, valid, start,
				 size);
}

static int inv_devtlb(struct vtd *v, const uint64_t *d)
{
	uint64_t start, size;

	if (!vtd_has(v, VTD_ECAP_DT))
		return VTD_IQEI_TYPE;
	if ((d[0] & VTD_DEVTLB_RSVD0) || (d[1] & VTD_DEVTLB_RSVD1))
		return VTD_IQEI_RSVD;
	atc_range(d[1] & VTD_DEVTLB_S, d[1], &start, &size);
	atc_inv(v, VTD_DEVTLB_SID(d[0]), 0, false, start, size);
	return 0;
}

static int inv_pdevtlb(struct vtd *v, const uint64_t *d, bool wide)
{
	uint64_t start, size;

	if (!vtd_has(v, VTD_ECAP_DT))
		return VTD_IQEI_TYPE;
	if (!wide)
		return VTD_IQEI_WIDTH;
	if (d[1] & VTD_PDEVTLB_RSVD1)
		return VTD_IQEI_RSVD;
	atc_range(d[1] & VTD_PDEVTLB_S, d[1], &start, &size);
	/* G: every PASID of the device, passed as VTD_ATC_ALL_PASIDS. */
	atc_inv(v, VTD_PDEVTLB_SID(d[0]),
		(d[1] & VTD_PDEVTLB_G) ? VTD_ATC_ALL_PASIDS :
					 VTD_INV_PASID(d[0]),
		true, start, size);
	return 0;
}

/* ---- wait ---- */

static int inv_wait(struct vtd *v, const uint64_t *d)
{
	if ((d[0] & VTD_WAIT_RSVD0) || (d[1] & VTD_WAIT_RSVD1))
		return VTD_IQEI_RSVD;
	hw_count(&v->hw, hw_sync);
	/* Everything before this descriptor is complete (processing is in
	 * order and synchronous), which also covers FN and PD. */
	if ((d[0] & VTD_WAIT_SW) &&
	    !hw_bus_write32(&v->hw, d[1] & ~3ull, VTD_WAIT_SDATA(d[0])))
		return VTD_IQEI_ABORT;
	if ((d[0] & VTD_WAIT_IF) && !(v->ics & VTD_ICS_IWC)) {
		v->ics |= VTD_ICS_IWC;
		vtd_event_raise(v, VTD_EV_INV);
	}
	return 0;
}

/* One descriptor; 0 or an IQEI code. */
static int inv_desc(struct vtd *v, const uint64_t *d, bool wide)
{
	unsigned type = VTD_INV_TYPE(d[0]);

	trace_vtd_inv_desc(v->hw.id, type, d[0], d[1]);
	hw_count(&v->hw, hw_command);
	/* The upper half of 256-bit descriptors is reserved but for page
	 * group responses (private data). */
	if (wide && type != VTD_INV_PGRP_RESP && (d[2] || d[3]))
		return VTD_IQEI_RSVD;
	switch (type) {
	case VTD_INV_CC:
		return inv_cc(v, d);
	case VTD_INV_IOTLB:
		return inv_iotlb(v, d);
	case VTD_INV_DEVTLB:
		return inv_devtlb(v, d);
	case VTD_INV_IEC:
		/* No interrupt remapping: nothing is cached. */
		return (d[0] & VTD_IEC_RSVD0) || d[1] ? VTD_IQEI_RSVD : 0;
	case VTD_INV_WAIT:
		return inv_wait(v, d);
	case VTD_INV_PIOTLB:
		return inv_piotlb(v, d, wide);
	case VTD_INV_PC:
		return inv_pc(v, d, wide);
	case VTD_INV_PDEVTLB:
		return inv_pdevtlb(v, d, wide);
	case VTD_INV_PGRP_RESP:
		if (!wide && vtd_has(v, VTD_ECAP_PRS))
			return VTD_IQEI_WIDTH;
		return vtd_prq_response(v, d);
	default:
		return VTD_IQEI_TYPE;
	}
}

static void iq_error(struct vtd *v, unsigned code)
{
	uint32_t old = vtd_fsts(v);

	v->fsts |= VTD_FSTS_IQE;
	v->iqer = code & 0xf;
	vtd_fault_status_set(v, old);
}

void vtd_iq_run(struct vtd *v)
{
	/* A handler called from a descriptor may move the tail again; the
	 * outer loop picks that up. */
	if (v->iq_busy)
		return;
	v->iq_busy = true;
	while ((v->gsts & VTD_GSTS_QIES) && !(v->fsts & VTD_FSTS_IQE)) {
		bool wide = v->iqa & VTD_IQA_DW;
		unsigned dsz = wide ? 32 : 16;
		uint64_t size = 4096ull << VTD_IQA_QS(v->iqa);
		uint64_t base = v->iqa & VTD_RTADDR_RTA_MASK;
		uint64_t head = v->iqh, tail = v->iqt;
		uint64_t d[4] = { 0 };
		int code;

		if (tail >= size || (wide && (tail & 0x10))) {
			iq_error(v, VTD_IQEI_TAIL);
			break;
		}
		if (head == tail)
			break;
		if (!hw_bus_read(&v->hw, base + head, d, dsz / 8)) {
			iq_error(v, VTD_IQEI_ABORT);
			break;
		}
		code = inv_desc(v, d, wide);
		if (code) {
			iq_error(v, (unsigned)code);
			break;
		}
		v->iqh = (head + dsz) % size;
	}
	v->iq_busy = false;
}
