// SPDX-License-Identifier: MIT
/*
 * The invalidation queue (vtd.md §8): a ring of 256-bit descriptors (IQA.DW,
 * needed for the PASID-based types) that the driver fills at its tail and
 * the hardware consumes from IQH once IQT moves. Every batch ends with an
 * invalidation-wait descriptor that writes a sequence number to a status
 * word, which the driver polls: the wait completes only after every
 * descriptor before it.
 *
 * A correct driver never sees FSTS.IQE (a rejected descriptor), ITE or
 * ICE (device-TLB invalidation time-out / completion error). Should one
 * appear, the batch fails with -EIO: the rejected descriptor is replaced by
 * a wait so that the queue restarts at IQH when IQE is cleared, as the
 * architecture lets software do, and the status still arrives.
 */
#include <errno.h>
#include <sched.h>
#include <string.h>

#include "drivers/vtd.h"
#include "util/alloc.h"

#define POLL_SPINS 64
#define POLL_LIMIT (1u << 22)
#define IQ_RECOVERIES 4

/* Descriptor type field: qw0[3:0] plus qw0[11:9] for types >= 16. */
#define DESC_TYPE(t) ((uint64_t)((t)&0xf) | (uint64_t)(((t) >> 4) & 7) << 9)
#define DESC_G(g) ((uint64_t)(g) << 4)
#define DESC_DID(d) ((uint64_t)(d) << 16)
#define DESC_PASID(p) ((uint64_t)((p)&0xfffff) << 32)
#define IOTLB_DW (1ull << 6)
#define IOTLB_DR (1ull << 7)
/* Device-TLB: PFSID[3:0] at 15:12, PFSID[15:4] at 63:52. */
#define DESC_PFSID(s) \
	((uint64_t)((s)&0xf) << 12 | (uint64_t)(((s) >> 4) & 0xfff) << 52)
/* An ATS invalidation of everything: S=1 and ADDR[62:12] all ones. */
#define ATS_ALL_ADDR 0x7ffffffffffff000ull

int vtd_qi_init(struct vtd_inst *vi)
{
	uint64_t bytes = 4096ull << VTD_IQ_QS;

	vi->iq = vtd_table_alloc(vi, bytes);
	vi->status = vtd_table_alloc(vi, 4096);
	if (!vi->iq || !vi->status)
		return -ENOMEM;
	vi->iq_slots = (unsigned)(bytes / VTD_IQ_DESC);
	vi->iq_tail = 0;
	vi->iq_queued = 0;
	/* The queue is fixed while enabled: program it first. */
	vtd_wr64(vi, VTD_REG_IQT, 0);
	vtd_wr64(vi, VTD_REG_IQA,
		 (uint64_t)(uintptr_t)vi->iq | VTD_IQA_DW | VTD_IQ_QS);
	/* Completion interrupts are not used: the driver polls. */
	vtd_wr32(vi, VTD_REG_IECTL, VTD_ECTL_IM);
	return 0;
}

void vtd_qi_fini(struct vtd_inst *vi)
{
	xfree(vi->iq);
	xfree(vi->status);
	vi->iq = NULL;
	vi->status = NULL;
}

static void put_slot(struct vtd_inst *vi, unsigned slot, const uint64_t *d)
{
	uint64_t *p = (uint64_t *)(vi->iq + (size_t)slot * VTD_IQ_DESC);

	for (unsigned i = 0; i < 4; i++)
		vtd_store(&p[i], d[i]);
}

static void put(struct vtd_inst *vi, uint64_t q0, uint64_t q1)
{
	const uint64_t d[4] = { q0, q1, 0, 0 };

	put_slot(vi, vi->iq_tail, d);
	vi->iq_tail = (vi->iq_tail + 1) % vi->iq_slots;
	vi->iq_queued++;
}

static void wait_desc(struct vtd_inst *vi, uint64_t *d, bool status)
{
	d[0] = DESC_TYPE(VTD_INV_WAIT) |
	       (status ? VTD_WAIT_SW | (uint64_t)vi->seq << 32 : 0);
	d[1] = status ? (uint64_t)(uintptr_t)vi->status : 0;
	d[2] = d[3] = 0;
}

/*
 * A rejected descriptor stopped the queue at IQH: put a wait there (one
 * with the status write the first times, without it if the wait itself is
 * what the hardware refuses), clear IQE, and the queue goes on.
 */
static void iq_recover(struct vtd_inst *vi, unsigned attempt)
{
	unsigned slot =
		(unsigned)(vtd_rd64(vi, VTD_REG_IQH) & VTD_IQ_OFF_MASK) /
		VTD_IQ_DESC;
	uint64_t d[4];

	vtd_count(vi, vtdd_iq_error);
	wait_desc(vi, d, attempt < IQ_RECOVERIES / 2);
	if (slot < vi->iq_slots)
		put_slot(vi, slot, d);
	vtd_wr32(vi, VTD_REG_FSTS, VTD_FSTS_IQE);
	/* Fault events were held back while IQE was pending. */
	vtd_fault_event(vi);
}

static int iq_poll(struct vtd_inst *vi)
{
	unsigned recoveries = 0;
	int err = 0;

	for (unsigned i = 0;; i++) {
		uint32_t fsts;

		if (__atomic_load_n(vi->status, __ATOMIC_ACQUIRE) == vi->seq)
			return err;
		fsts = vtd_rd32(vi, VTD_REG_FSTS);
		if (fsts & VTD_FSTS_IQE) {
			err = -EIO;
			if (recoveries++ == IQ_RECOVERIES)
				return err;
			iq_recover(vi, recoveries);
			continue;
		}
		if (fsts & (VTD_FSTS_ITE | VTD_FSTS_ICE)) {
			vtd_count(vi, vtdd_iq_error);
			vtd_wr32(vi, VTD_REG_FSTS,
				 fsts & (VTD_FSTS_ITE | VTD_FSTS_ICE));
			err = -EIO;
			continue;
		}
		/* Drained without the status: it will not come. */
		if ((vtd_rd64(vi, VTD_REG_IQH) & VTD_IQ_OFF_MASK) ==
			    (uint64_t)vi->iq_tail * VTD_IQ_DESC &&
		    __atomic_load_n(vi->status, __ATOMIC_ACQUIRE) != vi->seq)
			return err ? err : -EIO;
		if (i == POLL_LIMIT)
			return -ETIMEDOUT;
		if (i >= POLL_SPINS)
			sched_yield();
	}
}

int vtd_qi_sync(struct vtd_inst *vi)
{
	uint64_t d[4];
	int err;

	vi->seq++;
	__atomic_store_n(vi->status, 0, __ATOMIC_RELAXED);
	wait_desc(vi, d, true);
	put(vi, d[0], d[1]);
	vtd_count(vi, vtdd_inv_wait);
	vtd_wr64(vi, VTD_REG_IQT, (uint64_t)vi->iq_tail * VTD_IQ_DESC);
	err = iq_poll(vi);
	vi->iq_queued = 0;
	if (!err)
		err = vi->qi_err;
	vi->qi_err = 0;
	return err;
}

void vtd_qi_desc(struct vtd_inst *vi, uint64_t q0, uint64_t q1)
{
	/* Room for this one and the closing wait; a long batch is synced
	 * part way (the queue is empty after every sync). */
	if (vi->iq_queued + 2 >= vi->iq_slots) {
		int err = vtd_qi_sync(vi);

		if (err)
			vi->qi_err = err;
	}
	put(vi, q0, q1);
	vtd_count(vi, vtdd_inv_desc);
}

/* ---- descriptors ---- */

void vtd_qi_cc_global(struct vtd_inst *vi)
{
	vtd_qi_desc(vi, DESC_TYPE(VTD_INV_CC) | DESC_G(VTD_CC_G_GLOBAL), 0);
}

void vtd_qi_cc_dev(struct vtd_inst *vi, uint16_t sid)
{
	vtd_qi_desc(vi,
		    DESC_TYPE(VTD_INV_CC) | DESC_G(VTD_CC_G_DEVICE) |
			    (uint64_t)sid << 32,
		    0);
}

void vtd_qi_pc_global(struct vtd_inst *vi)
{
	vtd_qi_desc(vi, DESC_TYPE(VTD_INV_PC) | DESC_G(VTD_PC_G_ALL), 0);
}

void vtd_qi_pc_pasid(struct vtd_inst *vi, uint16_t did, uint32_t pasid)
{
	vtd_qi_desc(vi,
		    DESC_TYPE(VTD_INV_PC) | DESC_G(VTD_PC_G_PASID) |
			    DESC_DID(did) | DESC_PASID(pasid),
		    0);
}

/* Drain reads and writes with IOTLB invalidations where the part can. */
static uint64_t iotlb_drain(const struct vtd_inst *vi)
{
	return ((vi->cap & VTD_CAP_DWD) ? IOTLB_DW : 0) |
	       ((vi->cap & VTD_CAP_DRD) ? IOTLB_DR : 0);
}

void vtd_qi_iotlb_global(struct vtd_inst *vi)
{
	vtd_qi_desc(vi,
		    DESC_TYPE(VTD_INV_IOTLB) | DESC_G(VTD_IOTLB_G_GLOBAL) |
			    iotlb_drain(vi),
		    0);
}

void vtd_qi_iotlb_dom(struct vtd_inst *vi, uint16_t did)
{
	vtd_qi_desc(vi,
		    DESC_TYPE(VTD_INV_IOTLB) | DESC_G(VTD_IOTLB_G_DOMAIN) |
			    DESC_DID(did) | iotlb_drain(vi),
		    0);
}

/* log2 of the smallest naturally aligned block holding [start, last]. */
static unsigned cover_shift(uint64_t start, uint64_t last)
{
	unsigned k = 12;

	while (k < 64 && (start >> k) != (last >> k))
		k++;
	return k;
}

void vtd_qi_iotlb_range(struct vtd_inst *vi, uint16_t did, uint64_t start,
			uint64_t last, bool leaf_only)
{
	unsigned k = cover_shift(start, last), am = k - 12;

	/* vtd.md §8: 2^AM pages at an address aligned to them, AM <= MAMV;
	 * without PSI, or beyond MAMV, the whole domain. */
	if (!(vi->cap & VTD_CAP_PSI) || k >= 64 || am > VTD_CAP_MAMV(vi->cap)) {
		vtd_qi_iotlb_dom(vi, did);
		return;
	}
	vtd_qi_desc(vi,
		    DESC_TYPE(VTD_INV_IOTLB) | DESC_G(VTD_IOTLB_G_PAGE) |
			    DESC_DID(did) | iotlb_drain(vi),
		    (start & ~((1ull << k) - 1)) |
			    (leaf_only ? VTD_INV_IH : 0) | am);
}

void vtd_qi_devtlb(struct vtd_inst *vi, uint16_t sid, bool pv, uint32_t pasid,
		   uint64_t start, uint64_t last, bool all)
{
	unsigned k = all ? 64 : cover_shift(start, last);
	uint64_t addr, s;

	/* PCIe ATS size encoding (vtd.md §8): S=0 one page; S=1 and n
	 * trailing ones in ADDR[63:12] give 8K << n. */
	if (k == 12) {
		addr = start & ~0xfffull;
		s = 0;
	} else if (k >= 63) {
		addr = ATS_ALL_ADDR;
		s = 1;
	} else {
		addr = (start & ~((1ull << k) - 1)) |
		       (((1ull << (k - 1)) - 1) & ~0xfffull);
		s = 1;
	}
	vtd_count(vi, vtdd_atc_inv);
	if (!pv) {
		vtd_qi_desc(vi,
			    DESC_TYPE(VTD_INV_DEVTLB) | (uint64_t)sid << 32 |
				    DESC_PFSID(sid),
			    addr | (s ? VTD_DEVTLB_S : 0));
		return;
	}
	vtd_qi_desc(vi,
		    DESC_TYPE(VTD_INV_PDEVTLB) | (uint64_t)sid << 16 |
			    DESC_PASID(pasid) | DESC_PFSID(sid),
		    addr | (s ? VTD_PDEVTLB_S : 0));
}
