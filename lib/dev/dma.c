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
 * ATS): whatever dma_hit did not answer. 0 with *addr, *size the output and
 * the aligned block it holds for; a fault is recorded.
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

IONEST_API int ionest_device_dma(struct ionest_machine *m, int dev,
				 uint32_t pasid, uint64_t iova, void *buf,
				 size_t len, int dir)
{
	struct machine_device *d = machine_device(m, dev);
	bool ats = dir > 0 && (dir & IONEST_DMA_ATS);
	struct ionest_hw *hw;
	uint32_t access, sid, ssid_key = 0;
	uint8_t *p = buf;
	bool lean;
	int rc = 0;

	if (ats)
		dir &= ~IONEST_DMA_ATS;
	if (!d || (!buf && len) ||
	    (dir != IONEST_DMA_TO_MEM && dir != IONEST_DMA_FROM_MEM))
		return -EINVAL;
	if (ats && !(d->dev.atc_inv && d->dev.ats_usable))
		return -EINVAL;
	if (pasid != IONEST_NO_PASID) {
		/* pasid_bits <= 20 (PCIe): the key below is unambiguous. */
		if (!d->dev.pasid_bits || (pasid >> d->dev.pasid_bits))
			return -EINVAL;
		ssid_key = pasid | HW_TLB_SSID_VALID;
	}
	if (len && iova + (len - 1) < iova)
		return -EINVAL;
	access = dir == IONEST_DMA_TO_MEM ? IONEST_ACCESS_WRITE :
					    IONEST_ACCESS_READ;
	sid = d->dev.rid;
	hw = d->dev.hw;
	/* The model's TLB-hit shortcut applies to what the model translates
	 * itself: not ATS (the device TLB first), not a driver hook. */
	lean = !ats && !d->dev.drv_translate && hw && hw->ops->dma_hit;

	inflight_begin();
	while (len) {
		uint64_t addr, size, chunk;

		if (__builtin_expect(
			    !lean || !hw->ops->dma_hit(hw, sid, ssid_key, iova,
						       access, &addr, &size),
			    0)) {
			rc = translate_page(d, ats, pasid, iova, access, &addr,
					    &size);
			if (__builtin_expect(rc == DMA_RETRY, 0)) {
				/* Let the driver finish: step out of the
				 * in-flight section and try again. */
				inflight_end();
				sched_yield();
				inflight_begin();
				rc = 0;
				continue;
			}
			if (rc)
				break;
		}
		/* The translation holds for the aligned block of @size
		 * around iova: copy up to its end. */
		chunk = size - (iova & (size - 1));
		if (chunk > len)
			chunk = len;
		if (dir == IONEST_DMA_TO_MEM) {
			if (__builtin_expect(hw_is_msi_doorbell(addr), 0))
				dev_msi_write(d, pasid, iova, addr, p, chunk);
			else
				memcpy((void *)(uintptr_t)addr, p, chunk);
		} else
			memcpy(p, (void *)(uintptr_t)addr, chunk);
		p += chunk;
		iova += chunk;
		len -= chunk;
	}
	inflight_end();
	return rc;
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
