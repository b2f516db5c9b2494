// SPDX-License-Identifier: MIT
/*
 * Device-initiated DMA: translate each page of the access through the
 * device's IOMMU (driver hook or hardware model), then copy. Lock-free: the
 * access runs inside an in-flight section, so an unmap that returns has
 * waited for it (lib/drivers/inflight.h).
 */
#include <errno.h>
#include <sched.h>
#include <string.h>

#include "drivers/inflight.h"
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
		return 0;
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

IONEST_API int ionest_device_dma(struct ionest_machine *m, int dev,
				 uint32_t pasid, uint64_t iova, void *buf,
				 size_t len, int dir)
{
	struct machine_device *d = machine_device(m, dev);
	struct ionest_xlate_req req = { 0 };
	struct ionest_xlate_res res;
	bool ats = dir > 0 && (dir & IONEST_DMA_ATS);
	uint8_t *p = buf;
	int rc = 0;

	if (ats)
		dir &= ~IONEST_DMA_ATS;
	if (!d || (!buf && len) ||
	    (dir != IONEST_DMA_TO_MEM && dir != IONEST_DMA_FROM_MEM))
		return -EINVAL;
	if (ats && !(d->dev.atc_inv && d->dev.ats_usable))
		return -EINVAL;
	if (pasid != IONEST_NO_PASID) {
		if (!d->dev.pasid_bits || (pasid >> d->dev.pasid_bits))
			return -EINVAL;
		req.ssid = pasid;
		req.ssid_valid = true;
	}
	if (len && iova + (len - 1) < iova)
		return -EINVAL;
	req.sid = d->dev.rid;
	req.pri = d->dev.pri;
	req.access = dir == IONEST_DMA_TO_MEM ? IONEST_ACCESS_WRITE :
						IONEST_ACCESS_READ;

	inflight_begin();
	while (len) {
		uint64_t off, chunk;
		void *host;

		req.iova = iova;
		if (__builtin_expect(ats, 0))
			rc = ats_translate(d, &req, &res);
		else
			rc = iommu_translate(&d->dev, &req, &res);
		if (__builtin_expect(rc == -EAGAIN, 0)) {
			/* The driver is rebuilding tables without DMA: step
			 * out of the in-flight section and try again. */
			inflight_end();
			sched_yield();
			inflight_begin();
			continue;
		}
		if (rc)
			break;
		if (res.status == IONEST_XLATE_BYPASS) {
			res.addr = iova;
			res.size = 1ull << 12;
		} else if (res.status != IONEST_XLATE_OK) {
			record_fault(d, &req, &res);
			rc = res.status == IONEST_XLATE_FAULT ? -EFAULT :
								-EAGAIN;
			break;
		}
		/* The translation holds for the aligned block of res.size
		 * around iova: copy up to its end. */
		if (!res.size || (res.size & (res.size - 1)))
			res.size = 4096; /* a model bug: stay page-sized */
		off = iova & (res.size - 1);
		chunk = res.size - off;
		if (chunk > len)
			chunk = len;
		host = (void *)(uintptr_t)res.addr;
		if (dir == IONEST_DMA_TO_MEM)
			memcpy(host, p, chunk);
		else
			memcpy(p, host, chunk);
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
