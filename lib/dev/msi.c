// SPDX-License-Identifier: MIT
/*
 * The machine's interrupt controller: device writes that reach the MSI
 * doorbell (hw_msi_doorbell) are messages, counted per device and per
 * machine and handed to the machine's handler; nothing is stored. The
 * doorbell is reached through the IOMMU (SMMUv3: the software MSI window
 * the host maps in the paging domain) or by a VT-d interrupt request
 * (dma.c sends those to it).
 */
#include <errno.h>
#include <string.h>

#include "hw/hw.h"
#include "machine/machine.h"
#include "trace/trace.h"

void dev_msi_write(struct machine_device *d, uint32_t pasid, uint64_t iova,
		   uint64_t addr, const void *src, uint64_t len)
{
	struct ionest_machine *m = d->machine;
	uint64_t off = addr - (uint64_t)(uintptr_t)hw_msi_doorbell;
	struct ionest_msi msi;
	ionest_msi_fn fn;
	void *ctx;

	/* One aligned 32-bit word is a message; anything else written to
	 * the register page is ignored. */
	if (len != 4 || (off & 3))
		return;
	msi = (struct ionest_msi){
		.addr = iova,
		.offset = (uint32_t)off,
		.pasid = pasid,
		.dev = d->index,
	};
	memcpy(&msi.data, src, 4);
	trace_dev_msi((uint64_t)d->index, pasid, iova, msi.data);
	__atomic_fetch_add(&d->msi_count, 1, __ATOMIC_RELAXED);
	pthread_mutex_lock(&m->msi_lock);
	msi.count = m->msi_last.count + 1;
	m->msi_last = msi;
	fn = m->msi_fn;
	ctx = m->msi_ctx;
	pthread_mutex_unlock(&m->msi_lock);
	if (fn)
		fn(ctx, &msi);
}

IONEST_API int ionest_machine_set_msi_handler(struct ionest_machine *m,
					      ionest_msi_fn fn, void *ctx)
{
	if (!m)
		return -EINVAL;
	pthread_mutex_lock(&m->msi_lock);
	m->msi_fn = fn;
	m->msi_ctx = fn ? ctx : NULL;
	pthread_mutex_unlock(&m->msi_lock);
	return 0;
}

IONEST_API uint64_t ionest_machine_msi_count(struct ionest_machine *m, int dev)
{
	struct machine_device *d;
	uint64_t n;

	if (!m)
		return 0;
	if (dev != -1) {
		d = machine_device(m, dev);
		return d ? __atomic_load_n(&d->msi_count, __ATOMIC_RELAXED) : 0;
	}
	pthread_mutex_lock(&m->msi_lock);
	n = m->msi_last.count;
	pthread_mutex_unlock(&m->msi_lock);
	return n;
}

IONEST_API int ionest_machine_last_msi(struct ionest_machine *m,
				       struct ionest_msi *out)
{
	int rc = 0;

	if (!m || !out)
		return -EINVAL;
	pthread_mutex_lock(&m->msi_lock);
	if (!m->msi_last.count)
		rc = -ENOENT;
	else
		*out = m->msi_last;
	pthread_mutex_unlock(&m->msi_lock);
	return rc;
}
