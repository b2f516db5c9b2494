// SPDX-License-Identifier: MIT
/*
 * Device-initiated DMA: translate each page of the access through the
 * device's IOMMU (driver hook or hardware model), then copy; a write that
 * reaches the MSI doorbell is a message (msi.c). Lock-free: the
 * access runs inside an in-flight section, so an unmap that returns has
 * waited for it (lib/drivers/inflight.h).
 */
#include <errno.h>
#include <sched.h>
#include <string.h>

#include "drivers/inflight.h"
#include "hw/hw.h"
#include "hw/tlb.h"
#include "machine/machine.h"

static __attribute__((noinline, cold)) void
record_fault(struct machine_device *d, const struct ionest_xlate_req *req,
	     const struct ionest_xlate_res *res)
{
	pthread_mutex_lock(&d->fault_lock);
	d->fault.count++;
	d->fault.iova = req->iova;
	d->fault.fault_addr = res->fault_addr;
	d->fault.pasid = req->ssid_valid ? req->ssid : IONEST_NO_PASID;
	d->fault.access = req->access;
	d->fault.status = res->status;
	d->fault.code = res->fault;
	d->fault.recorded = res->recorded;
	d->fault.stage2 = res->stage2;
	pthread_mutex_unlock(&d->fault_lock);
}

/*
 * ATS: the device's TLB, else a translation request whose completion is
 * cached. The result is what an untranslated request would give: OK with
 * the translated address, or FAULT (the access is not allowed).
 */
static int ats_translate(struct machine_device *d,
			 const struct ionest_xlate_req *req,
			 struct ionest_xlate_res *res)
{
	struct ionest_xlate_req tr = *req;
	uint32_t need = req->access &
			(IONEST_ACCESS_READ | IONEST_ACCESS_WRITE);
	uint64_t gen, pa, size;
	int rc;

	if (dev_atc_lookup(&d->atc, req->ssid_valid, req->ssid, req->iova,
			   req->access, &pa, &size)) {
		*res = (struct ionest_xlate_res){
			.status = IONEST_XLATE_OK,
			.perm = req->access,
			.addr = pa + (req->iova & (size - 1)),
			.size = size,
		};
		return 0;
	}
	gen = dev_atc_gen(&d->atc);
	tr.ats = true;
	tr.pri = false;
	rc = iommu_translate(&d->dev, &tr, res);
	if (rc)
		return rc;
	if (res->status == IONEST_XLATE_BYPASS) {
		/* Untranslated is the translation: nothing to cache. */
		res->status = IONEST_XLATE_OK;
		res->addr = req->iova;
		res->size = 4096;
		return 0;
	}
	if (res->status != IONEST_XLATE_OK)
		return 0; /* a fault, or an interrupt request: not cached */
	if ((res->perm & need) != need) {
		/* A completion without the access's permission. */
		res->status = IONEST_XLATE_FAULT;
		res->fault_addr = req->iova;
		return 0;
	}
	dev_atc_fill(&d->atc, gen, req->ssid_valid, req->ssid, req->iova,
		     res->addr, res->size, res->perm);
	return 0;
}

/* Outcome of translate_page besides 0 and a negative errno: the driver is
 * rebuilding tables without DMA (leave the in-flight section and retry). */
#define DMA_RETRY 1

/*
 * One page of the access through the full translate (driver hook, model or
 * ATS): whatever the model's hit rule did not answer. 0 with *addr, *size the
 * output and the aligned block it holds for; a fault is recorded.
 */
static __attribute__((noinline)) int
translate_page(struct machine_device *d, bool ats, uint32_t pasid,
	       uint64_t iova, uint32_t access, uint64_t *addr, uint64_t *size)
{
	struct ionest_xlate_req req = {
		.iova = iova,
		.sid = d->dev.rid,
		.ssid = pasid != IONEST_NO_PASID ? pasid : 0,
		.ssid_valid = pasid != IONEST_NO_PASID,
		.access = access,
		.pri = d->dev.pri,
	};
	struct ionest_xlate_res res;
	int rc;

	if (ats)
		rc = ats_translate(d, &req, &res);
	else
		rc = iommu_translate(&d->dev, &req, &res);
	if (rc == -EAGAIN)
		return DMA_RETRY;
	if (rc)
		return rc;
	if (res.status == IONEST_XLATE_BYPASS) {
		res.addr = iova;
		res.size = 1ull << 12;
	} else if (res.status == IONEST_XLATE_INTERRUPT) {
		/* A VT-d interrupt request: to the interrupt controller. */
		res.addr =
			(uint64_t)(uintptr_t)hw_msi_doorbell + (iova & 0xfff);
		res.size = HW_MSI_DOORBELL_SIZE;
	} else if (res.status != IONEST_XLATE_OK) {
		record_fault(d, &req, &res);
		return res.status == IONEST_XLATE_FAULT ? -EFAULT : -EAGAIN;
	}
	if (!res.size || (res.size & (res.size - 1)))
		res.size = 4096; /* a model bug: stay page-sized */
	*addr = res.addr;
	*size = res.size;
	return 0;
}

/* Copy @len bytes between the device's buffer @p and host address @host
 * (one call site: the direction picks the operands). */
static inline __attribute__((always_inline)) void
dma_copy(int dir, uint64_t host, uint8_t *p, size_t len)
{
	void *mem = (void *)(uintptr_t)host;

	memcpy(dir == IONEST_DMA_TO_MEM ? mem : p,
	       dir == IONEST_DMA_TO_MEM ? p : mem, len);
}

/*
 * The access [iova, iova + len) page by page, inside the caller's
 * in-flight section; arguments already checked. Each page tries the
 * model's hit rule (where it applies) and then the full translate.
 */
static __attribute__((noinline)) int dma_pages(struct machine_device *d,
					       bool ats, uint32_t pasid,
					       uint64_t key, uint64_t iova,
					       uint8_t *p, size_t len, int dir)
{
	/* The rule covers what the model translates itself (no driver
	 * hook: d->dma.x.sets is NULL then), not ATS (the device TLB
	 * first). */
	const bool lean = !ats && d->dma.x.sets;
	const uint32_t access = dir == IONEST_DMA_TO_MEM ? IONEST_ACCESS_WRITE :
							   IONEST_ACCESS_READ;
	while (len) {
		struct hw_dma_hit h = { 0, 0 };
		uint64_t chunk;

		if (lean)
			h = hw_dma_probe(&d->dma.x, key, iova, access);
		if (!h.size) {
			int rc = translate_page(d, ats, pasid, iova, access,
						&h.host, &h.size);

			if (__builtin_expect(rc == DMA_RETRY, 0)) {
				/* Let the driver finish: step out of the
				 * in-flight section and try again. */
				inflight_end();
				sched_yield();
				inflight_begin();
				continue;
			}
			if (rc)
				return rc;
		}
		/* The translation holds for the aligned block of h.size
		 * around iova: copy up to its end. */
		chunk = h.size - (iova & (h.size - 1));
		if (chunk > len)
			chunk = len;
		if (__builtin_expect(dir == IONEST_DMA_TO_MEM &&
					     hw_is_msi_doorbell(h.host),
				     0))
			dev_msi_write(d, pasid, iova, h.host, p, chunk);
		else
			dma_copy(dir, h.host, p, chunk);
		p += chunk;
		iova += chunk;
		len -= chunk;
	}
	return 0;
}

/* Every access the fast path does not take: check everything, then page
 * by page in a section of its own. */
static __attribute__((noinline)) int dma_checked(struct ionest_machine *m,
						 int dev, uint32_t pasid,
						 uint64_t iova, void *buf,
						 size_t len, int dir)
{
	struct machine_device *d = machine_device(m, dev);
	bool ats = dir > 0 && (dir & IONEST_DMA_ATS);
	uint64_t key;
	int rc;

	if (ats)
		dir &= ~IONEST_DMA_ATS;
	if (!d || (!buf && len) ||
	    (dir != IONEST_DMA_TO_MEM && dir != IONEST_DMA_FROM_MEM))
		return -EINVAL;
	if (ats && !(d->dev.atc_inv && d->dev.ats_usable))
		return -EINVAL;
	key = d->dma.x.key;
	if (pasid != IONEST_NO_PASID) {
		/* pasid_bits <= 20 (PCIe): the key is unambiguous. */
		if (pasid >= d->dma.pasid_limit)
			return -EINVAL;
		key |= (uint64_t)(pasid | HW_TLB_SSID_VALID) << 32;
	}
	if (!len)
		return 0;
	if (iova + (len - 1) < iova)
		return -EINVAL;
	inflight_begin();
	rc = dma_pages(d, ats, pasid, key, iova, buf, len, dir);
	inflight_end();
	return rc;
}

/* What the fast path did not finish (a miss, nothing to copy, a hit whose
 * block ends before the access), inside its section and before anything
 * was counted or copied: the rest of the checks, page by page from the
 * start, then leave the section. */
static __attribute__((noinline)) int dma_more(const struct machine_dma *c,
					      uint64_t key, uint64_t iova,
					      uint8_t *p, size_t len, int dir)
{
	uint32_t pasid = key >> 32 ?
				 (uint32_t)(key >> 32) & ~HW_TLB_SSID_VALID :
				 IONEST_NO_PASID;
	int rc = 0;

	if (len && iova + (len - 1) < iova)
		rc = -EINVAL;
	else if (len)
		rc = dma_pages(c->dev, false, pasid, key, iova, p, len, dir);
	inflight_end();
	return rc;
}

/*
 * The fast path: a plain read or write whose first page hits the model's
 * TLB (its struct hw_dma_rule, applied inline), ends inside the block that
 * entry covers and is not at the MSI doorbell - a TLB probe, two counters,
 * one copy, and nothing live across the copy (no call before it: no
 * register to save). Anything else is checked in full (dma_checked) or
 * goes page by page from the start (dma_more; the lookup here counted
 * nothing), so every page is translated and counted once, as the full path
 * does.
 */
IONEST_API int ionest_device_dma(struct ionest_machine *m, int dev,
				 uint32_t pasid, uint64_t iova, void *buf,
				 size_t len, int dir)
{
	const struct machine_dma *c = machine_dma(m, dev);
	struct inflight_slot *s = inflight_slot_fast();
	struct hw_dma_hit h;
	uint64_t key, mix;

	/* Unknown device, no rule, ATS or a bad direction, no buffer, the
	 * thread's first DMA (no in-flight slot yet) or no membarrier(2)
	 * (sections need a fence): the full checks. The length is checked
	 * against the entry's block below. */
	if (__builtin_expect(!c || !c->x.sets || (unsigned)dir - 1u > 1u ||
				     !buf || !s,
			     0))
		return dma_checked(m, dev, pasid, iova, buf, len, dir);
	key = c->x.key;
	mix = c->x.mix;
	if (pasid != IONEST_NO_PASID) {
		if (pasid >= c->pasid_limit)
			return -EINVAL;
		key |= (uint64_t)(pasid | HW_TLB_SSID_VALID) << 32;
		mix = hw_tlb_mix(key);
	}
	_Static_assert(IONEST_DMA_TO_MEM == 1 && IONEST_DMA_FROM_MEM == 2 &&
			       IONEST_ACCESS_READ == 1 &&
			       IONEST_ACCESS_WRITE == 2,
		       "access = 3 - dir");
	inflight_enter_fast(s);
	h = hw_dma_lookup_4k(&c->x, key, mix, iova, 3u - (unsigned)dir);
	/* A miss (or blocks smaller or larger than 4K in the TLB), nothing
	 * to copy or an access beyond the entry's block (len - 1 wraps for
	 * 0; an access that fits cannot wrap), the MSI doorbell (a write
	 * there is a message): dma_more. */
	if (__builtin_expect(
		    !h.size || len - 1 >= h.size - (iova & (h.size - 1)) ||
			    hw_is_msi_doorbell(h.host),
		    0))
		return dma_more(c, key, iova, buf, len, dir);
	hw_dma_count(&c->x);
	dma_copy(dir, h.host, buf, len);
	inflight_end();
	return 0;
}

IONEST_API int ionest_device_last_fault(struct ionest_machine *m, int dev,
					struct ionest_dma_fault *out)
{
	struct machine_device *d = machine_device(m, dev);
	int rc = 0;

	if (!d || !out)
		return -EINVAL;
	pthread_mutex_lock(&d->fault_lock);
	if (!d->fault.count)
		rc = -ENOENT;
	else
		*out = d->fault;
	pthread_mutex_unlock(&d->fault_lock);
	return rc;
}
