// SPDX-License-Identifier: MIT
/*
 * The VT-d register file (vtd.md §1): 32- and 64-bit registers, each
 * reachable with 4- or 8-byte accesses; GCMD/GSTS one-shot commands; the
 * event control registers; and the registers that start work (IQT, the
 * IOTLB and CCMD invalidation registers, FRCD F clearing).
 *
 * Legacy translation is not implemented. RTADDR keeps whatever TTM software
 * writes, and SRTP latches it; if translation is then enabled with a TTM
 * other than scalable (legacy 00, reserved 10, abort-DMA 11) or a root table
 * beyond the address width, every request is blocked with fault reason 0x30
 * (invalid root table address), recorded like any non-qualified fault. A
 * legacy driver thus sees its DMA fail loudly, never a half-working mode.
 */
#include <errno.h>

#include "hw/vtd/vtd.h"

#define LO32 0x00000000ffffffffull
#define HI32 0xffffffff00000000ull
#define FAULT_STATUS                                                 \
	(VTD_FSTS_PFO | VTD_FSTS_PPF | VTD_FSTS_IQE | VTD_FSTS_ICE | \
	 VTD_FSTS_ITE)

static uint64_t iro(const struct vtd *v)
{
	return 16ull * VTD_ECAP_IRO(v->ecap);
}

static uint64_t fro(const struct vtd *v)
{
	return 16ull * VTD_CAP_FRO(v->cap);
}

/* ---- events: fault (FECTL), invalidation completion (IECTL), page
 * request (PECTL) ---- */

static uint32_t *ev_ctl(struct vtd *v, enum vtd_event ev)
{
	switch (ev) {
	case VTD_EV_FAULT:
		return &v->fectl;
	case VTD_EV_INV:
		return &v->iectl;
	default:
		return &v->pectl;
	}
}

/* Issue the interrupt message of @ev: latched now, sent when the lock is
 * released (vtd_unlock_deliver). */
static void ev_deliver(struct vtd *v, enum vtd_event ev)
{
	uint32_t addr, uaddr, data;

	switch (ev) {
	case VTD_EV_FAULT:
		addr = v->feaddr, uaddr = v->feuaddr, data = v->fedata;
		break;
	case VTD_EV_INV:
		addr = v->ieaddr, uaddr = v->ieuaddr, data = v->iedata;
		break;
	default:
		addr = v->peaddr, uaddr = v->peuaddr, data = v->pedata;
		break;
	}
	v->irq_msg[ev].addr = (uint64_t)uaddr << 32 | addr;
	v->irq_msg[ev].data = data;
	v->irq_pending |= 1u << ev;
}

void vtd_unlock_deliver(struct vtd *v)
{
	static const enum ionest_hw_irq line[] = {
		[VTD_EV_FAULT] = IONEST_IRQ_EVENTQ,
		[VTD_EV_INV] = IONEST_IRQ_CMD_SYNC,
		[VTD_EV_PRQ] = IONEST_IRQ_PRIQ,
	};
	uint32_t pending = v->irq_pending;
	uint64_t addr[3];
	uint32_t data[3];

	for (unsigned ev = 0; ev < 3; ev++) {
		addr[ev] = v->irq_msg[ev].addr;
		data[ev] = v->irq_msg[ev].data;
	}
	v->irq_pending = 0;
	v->lock_depth--;
	pthread_mutex_unlock(&v->lock);
	for (unsigned ev = 0; ev < 3; ev++) {
		if (!(pending & (1u << ev)))
			continue;
		/* The x86 interrupt window 0xFEExxxxx is not memory: a
		 * message there is the wired line alone. Elsewhere (a memory
		 * doorbell) the data is written on the bus first. */
		if (addr[ev] && !hw_x86_intr_range(addr[ev]))
			hw_bus_write32(&v->hw, addr[ev], data[ev]);
		hw_irq(&v->hw, line[ev]);
	}
}

void vtd_event_raise(struct vtd *v, enum vtd_event ev)
{
	uint32_t *ctl = ev_ctl(v, ev);

	/* One interrupt per pending condition: IP holds it while masked. */
	if (*ctl & VTD_ECTL_IP)
		return;
	*ctl |= VTD_ECTL_IP;
	if (!(*ctl & VTD_ECTL_IM)) {
		ev_deliver(v, ev);
		*ctl &= ~VTD_ECTL_IP;
	}
}

void vtd_event_update(struct vtd *v, enum vtd_event ev, bool pending)
{
	uint32_t *ctl = ev_ctl(v, ev);

	/* Clearing the status retires a masked pending interrupt; unmasking
	 * with one pending delivers it. */
	if (!pending) {
		*ctl &= ~VTD_ECTL_IP;
	} else if ((*ctl & VTD_ECTL_IP) && !(*ctl & VTD_ECTL_IM)) {
		ev_deliver(v, ev);
		*ctl &= ~VTD_ECTL_IP;
	}
}

uint32_t vtd_fsts(const struct vtd *v)
{
	return v->fsts | (vtd_fault_pending(v) ? VTD_FSTS_PPF : 0);
}

static void fault_status_changed(struct vtd *v)
{
	vtd_event_update(v, VTD_EV_FAULT, vtd_fsts(v) & FAULT_STATUS);
}

/* ---- GCMD ---- */

static void mode_update(struct vtd *v)
{
	uint32_t mode;

	if (!(v->gsts & VTD_GSTS_TES))
		mode = VTD_MODE_OFF;
	else if (v->ttm != VTD_TTM_SCALABLE ||
		 (v->haw < 64 && (v->rta >> v->haw)))
		mode = VTD_MODE_BAD_ROOT;
	else
		mode = VTD_MODE_ON;
	__atomic_store_n(&v->mode, mode, __ATOMIC_RELEASE);
}

static void gcmd_write(struct vtd *v, uint32_t val)
{
	/* One-shot commands act when written as 1; TE and QIE are levels
	 * that GSTS follows. Completion is immediate, so software polling
	 * GSTS sees the status on its first read. */
	if (val & VTD_GCMD_SRTP) {
		__atomic_store_n(&v->rta, v->rtaddr & VTD_RTADDR_RTA_MASK,
				 __ATOMIC_RELEASE);
		v->ttm = VTD_RTADDR_TTM(v->rtaddr);
		v->gsts |= VTD_GSTS_RTPS;
	}
	/* WBF: there is no write buffer; WBFS reads 0 at once. */
	if ((val & VTD_GCMD_QIE) && vtd_has(v, VTD_ECAP_QI) &&
	    !(v->gsts & VTD_GSTS_QIES)) {
		v->iqh = 0;
		v->gsts |= VTD_GSTS_QIES;
		vtd_iq_run(v);
	} else if (!(val & VTD_GCMD_QIE) && (v->gsts & VTD_GSTS_QIES)) {
		v->gsts &= ~VTD_GSTS_QIES;
		v->iqh = 0;
	}
	if (val & VTD_GCMD_TE)
		v->gsts |= VTD_GSTS_TES;
	else
		v->gsts &= ~VTD_GSTS_TES;
	mode_update(v);
}

/* ---- register-based invalidation ---- */

static void ccmd_write(struct vtd *v)
{
	unsigned g = (unsigned)(v->ccmd >> VTD_CCMD_CIRG_SHIFT) & 3;

	if (!(v->ccmd & VTD_CCMD_ICC))
		return;
	if (g)
		vtd_inv_context(v, g, (uint16_t)v->ccmd,
				(uint16_t)(v->ccmd >> VTD_CCMD_SID_SHIFT),
				(unsigned)(v->ccmd >> VTD_CCMD_FM_SHIFT) & 3);
	/* Done: ICC clear, CAIG = the granularity performed (0: refused). */
	v->ccmd &= ~(VTD_CCMD_ICC | 3ull << VTD_CCMD_CAIG_SHIFT);
	v->ccmd |= (uint64_t)g << VTD_CCMD_CAIG_SHIFT;
}

static void iotlb_write(struct vtd *v)
{
	unsigned g = (unsigned)(v->iotlb_reg >> VTD_IOTLB_IIRG_SHIFT) & 3;
	unsigned am = VTD_IVA_AM(v->iva);
	uint64_t addr = v->iva & VTD_INV_ADDR_MASK;

	if (!(v->iotlb_reg & VTD_IOTLB_IVT))
		return;
	/* A page-selective request that cannot be honoured (AM beyond
	 * MAMV, unaligned address) is refused: IAIG 0. */
	if (g == VTD_IOTLB_G_PAGE &&
	    (am > VTD_CAP_MAMV(v->cap) || (addr & ((4096ull << am) - 1))))
		g = 0;
	if (g) {
		vtd_inv_iotlb(v, g, (uint16_t)(v->iotlb_reg >> 32), addr, am,
			      v->iva & VTD_IVA_IH);
		if (g == VTD_IOTLB_G_PAGE && !(v->cap & VTD_CAP_PSI))
			g = VTD_IOTLB_G_DOMAIN;
	}
	v->iotlb_reg &= ~(VTD_IOTLB_IVT | 3ull << VTD_IOTLB_IAIG_SHIFT);
	v->iotlb_reg |= (uint64_t)g << VTD_IOTLB_IAIG_SHIFT;
}

static void frcd_clear(struct vtd *v, unsigned i)
{
	v->frcd[i][1] &= ~VTD_FRCD_HI_F;
	fault_status_changed(v);
}

/* ---- read ---- */

static bool has_qi(const struct vtd *v)
{
	return vtd_has(v, VTD_ECAP_QI);
}

static bool has_prq(const struct vtd *v)
{
	return vtd_has(v, VTD_ECAP_PRS);
}

static uint64_t pair(uint32_t lo, uint32_t hi)
{
	return (uint64_t)hi << 32 | lo;
}

/* The 64 bits at 8-aligned offset @q (two 32-bit registers or one 64-bit
 * register); reserved space reads as zero. */
static uint64_t read_qword(struct vtd *v, uint64_t q)
{
	if (q >= iro(v) && q < iro(v) + 16)
		return q == iro(v) ? v->iva : v->iotlb_reg;
	if (q >= fro(v) && q < fro(v) + 16ull * v->nfr)
		return v->frcd[(q - fro(v)) / 16][(q & 8) ? 1 : 0];
	switch (q) {
	case VTD_REG_VER:
		return VTD_VERSION;
	case VTD_REG_CAP:
		return v->cap;
	case VTD_REG_ECAP:
		return v->ecap;
	case VTD_REG_GCMD: /* GCMD reads 0, GSTS above it */
		return pair(0, v->gsts);
	case VTD_REG_RTADDR:
		return v->rtaddr;
	case VTD_REG_CCMD:
		return v->ccmd;
	case VTD_REG_FSTS & ~7ull:
		return pair(0, vtd_fsts(v));
	case VTD_REG_FECTL:
		return pair(v->fectl, v->fedata);
	case VTD_REG_FEADDR:
		return pair(v->feaddr, v->feuaddr);
	default:
		break;
	}
	if (has_qi(v)) {
		switch (q) {
		case VTD_REG_IQH:
			return v->iqh;
		case VTD_REG_IQT:
			return v->iqt;
		case VTD_REG_IQA:
			return v->iqa;
		case VTD_REG_ICS & ~7ull:
			return pair(0, v->ics);
		case VTD_REG_IECTL:
			return pair(v->iectl, v->iedata);
		case VTD_REG_IEADDR:
			return pair(v->ieaddr, v->ieuaddr);
		case VTD_REG_IQER:
			return v->iqer;
		default:
			break;
		}
	}
	if (has_prq(v)) {
		switch (q) {
		case VTD_REG_PQH:
			return v->pqh;
		case VTD_REG_PQT:
			return v->pqt;
		case VTD_REG_PQA:
			return v->pqa;
		case VTD_REG_PRS & ~7ull:
			return pair(0, v->prs);
		case VTD_REG_PECTL:
			return pair(v->pectl, v->pedata);
		case VTD_REG_PEADDR:
			return pair(v->peaddr, v->peuaddr);
		default:
			break;
		}
	}
	return 0;
}

int vtd_mmio_read(struct ionest_hw *hw, uint64_t off, unsigned size,
		  uint64_t *val)
{
	struct vtd *v = to_vtd(hw);
	uint64_t q;

	vtd_lock(v);
	q = read_qword(v, off & ~7ull);
	vtd_unlock(v);
	if (size == 4)
		q = (off & 4) ? q >> 32 : q & LO32;
	*val = q;
	return 0;
}

/* ---- write ---- */

static uint64_t merge(uint64_t old, uint64_t val, uint64_t mask)
{
	return (old & ~mask) | (val & mask);
}

static void write_fault_regs(struct vtd *v, uint64_t q, uint64_t val,
			     uint64_t mask)
{
	uint32_t lo = (uint32_t)val, hi = (uint32_t)(val >> 32);

	switch (q) {
	case VTD_REG_GCMD:
		if (mask & LO32)
			gcmd_write(v, lo);
		break;
	case VTD_REG_FSTS & ~7ull:
		if (!(mask & HI32))
			break;
		/* PFO, IQE, ICE, ITE are write-1-to-clear; PPF and FRI
		 * follow the records. Clearing IQE restarts the queue at
		 * IQH, which software has fixed up. */
		v->fsts &= ~(hi & (VTD_FSTS_PFO | VTD_FSTS_IQE | VTD_FSTS_ICE |
				   VTD_FSTS_ITE));
		fault_status_changed(v);
		if (hi & VTD_FSTS_IQE)
			vtd_iq_run(v);
		break;
	case VTD_REG_FECTL:
		if (mask & HI32)
			v->fedata = hi;
		if (mask & LO32) {
			v->fectl = (v->fectl & ~VTD_ECTL_IM) |
				   (lo & VTD_ECTL_IM);
			fault_status_changed(v);
		}
		break;
	case VTD_REG_FEADDR:
		if (mask & LO32)
			v->feaddr = lo & ~3u;
		if (mask & HI32)
			v->feuaddr = hi;
		break;
	default:
		break;
	}
}

static void write_qi_regs(struct vtd *v, uint64_t q, uint64_t val,
			  uint64_t mask)
{
	uint32_t lo = (uint32_t)val, hi = (uint32_t)(val >> 32);
	uint64_t iqa_mask;

	switch (q) {
	case VTD_REG_IQT:
		v->iqt = merge(v->iqt, val, mask) & VTD_IQ_OFF_MASK;
		if (mask & LO32)
			vtd_iq_run(v);
		break;
	case VTD_REG_IQA:
		/* Fixed while the queue is enabled. DW needs scalable-mode
		 * support (always here). */
		if (v->gsts & VTD_GSTS_QIES)
			break;
		iqa_mask = VTD_RTADDR_RTA_MASK | VTD_IQA_DW | 7;
		v->iqa = merge(v->iqa, val, mask) & iqa_mask;
		break;
	case VTD_REG_ICS & ~7ull:
		if (mask & HI32) {
			v->ics &= ~(hi & VTD_ICS_IWC);
			vtd_event_update(v, VTD_EV_INV, v->ics & VTD_ICS_IWC);
		}
		break;
	case VTD_REG_IECTL:
		if (mask & HI32)
			v->iedata = hi;
		if (mask & LO32) {
			v->iectl = (v->iectl & ~VTD_ECTL_IM) |
				   (lo & VTD_ECTL_IM);
			vtd_event_update(v, VTD_EV_INV, v->ics & VTD_ICS_IWC);
		}
		break;
	case VTD_REG_IEADDR:
		if (mask & LO32)
			v->ieaddr = lo & ~3u;
		if (mask & HI32)
			v->ieuaddr = hi;
		break;
	default:
		break;
	}
}

static void write_prq_regs(struct vtd *v, uint64_t q, uint64_t val,
			   uint64_t mask)
{
	uint32_t lo = (uint32_t)val, hi = (uint32_t)(val >> 32);
	uint32_t pend = VTD_PRS_PPR | VTD_PRS_PRO;

	switch (q) {
	case VTD_REG_PQH:
		v->pqh = merge(v->pqh, val, mask) & VTD_PQ_OFF_MASK;
		break;
	case VTD_REG_PQA:
		v->pqa = merge(v->pqa, val, mask) & (VTD_RTADDR_RTA_MASK | 7);
		break;
	case VTD_REG_PRS & ~7ull:
		if (mask & HI32) {
			v->prs &= ~(hi & pend);
			vtd_event_update(v, VTD_EV_PRQ, v->prs & pend);
		}
		break;
	case VTD_REG_PECTL:
		if (mask & HI32)
			v->pedata = hi;
		if (mask & LO32) {
			v->pectl = (v->pectl & ~VTD_ECTL_IM) |
				   (lo & VTD_ECTL_IM);
			vtd_event_update(v, VTD_EV_PRQ, v->prs & pend);
		}
		break;
	case VTD_REG_PEADDR:
		if (mask & LO32)
			v->peaddr = lo & ~3u;
		if (mask & HI32)
			v->peuaddr = hi;
		break;
	default:
		break;
	}
}

/* Write the dwords of @mask at 8-aligned offset @q. */
static void write_qword(struct vtd *v, uint64_t q, uint64_t val, uint64_t mask)
{
	if (q == iro(v)) {
		v->iva = merge(v->iva, val, mask) &
			 (VTD_INV_ADDR_MASK | VTD_IVA_IH | 0x3f);
		return;
	}
	if (q == iro(v) + 8) {
		v->iotlb_reg = merge(v->iotlb_reg, val, mask);
		if (mask & HI32)
			iotlb_write(v);
		return;
	}
	if (q >= fro(v) && q < fro(v) + 16ull * v->nfr) {
		/* Records are read-only but for F, write-1-to-clear. */
		if ((q & 8) && (mask & HI32) && (val & VTD_FRCD_HI_F))
			frcd_clear(v, (unsigned)((q - fro(v)) / 16));
		return;
	}
	switch (q) {
	case VTD_REG_RTADDR:
		/* Bits 9:0 are reserved. */
		v->rtaddr = merge(v->rtaddr, val, mask) & ~0x3ffull;
		return;
	case VTD_REG_CCMD:
		v->ccmd = merge(v->ccmd, val, mask);
		if (mask & HI32)
			ccmd_write(v);
		return;
	default:
		break;
	}
	write_fault_regs(v, q, val, mask);
	if (has_qi(v))
		write_qi_regs(v, q, val, mask);
	if (has_prq(v))
		write_prq_regs(v, q, val, mask);
}

int vtd_mmio_write(struct ionest_hw *hw, uint64_t off, unsigned size,
		   uint64_t val)
{
	struct vtd *v = to_vtd(hw);
	uint64_t q = off & ~7ull;

	vtd_lock(v);
	if (size == 8)
		write_qword(v, q, val, ~0ull);
	else if (off & 4)
		write_qword(v, q, val << 32, HI32);
	else
		write_qword(v, q, val, LO32);
	vtd_unlock(v);
	return 0;
}
