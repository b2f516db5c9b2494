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

IONEST_API int ionest_device_dma(struct ionest_machine *m, int dev,
				 uint32_t pasid, uint64_t iova, void *buf,
				 size_t len, int dir)
{
	struct machine_device *d = machine_device(m, dev);
	struct ionest_xlate_req req = { 0 };
	struct ionest_xlate_res res;
	uint8_t *p = buf;
	int rc = 0;

	if (!d || (!buf && len) ||
	    (dir != IONEST_DMA_TO_MEM && dir != IONEST_DMA_FROM_MEM))
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
