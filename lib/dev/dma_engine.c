// SPDX-License-Identifier: MIT
/*
 * The BAR0 DMA engine of the emulated function (docs/dma-engine.md): a
 * register page and a device-memory window. Ringing the doorbell runs the
 * programmed transfer right away, page by page, through the device's IOMMU
 * with ionest_device_dma(), so a translation fault or a page request
 * stops it where it happened (DONE counts the bytes moved) and is reported
 * by the IOMMU model its own way as well as in the engine's registers. A
 * stopped transfer continues with RESUME once the cause is fixed.
 */
#include <errno.h>
#include <string.h>

#include "dev/vfio_pci.h"
#include "machine/machine.h"
#include "trace/trace.h"

#define PAGE 4096u

void dma_engine_reset(struct dma_engine *e)
{
	/* STATUS may be read without the lock: only atomic stores to it. */
	memset((char *)e + sizeof(e->status), 0,
	       sizeof(*e) - sizeof(e->status));
	__atomic_store_n(&e->status, 0, __ATOMIC_RELEASE);
}

static uint32_t reg_read(struct dma_engine *e, uint32_t off)
{
	switch (off) {
	case IONEST_DMA_ID:
		return IONEST_DMA_ID_VALUE;
	case IONEST_DMA_VERSION:
		return 1;
	case IONEST_DMA_SRC:
		return (uint32_t)e->src;
	case IONEST_DMA_SRC + 4:
		return (uint32_t)(e->src >> 32);
	case IONEST_DMA_DST:
		return (uint32_t)e->dst;
	case IONEST_DMA_DST + 4:
		return (uint32_t)(e->dst >> 32);
	case IONEST_DMA_LEN:
		return e->len;
	case IONEST_DMA_DEV_OFF:
		return e->dev_off;
	case IONEST_DMA_PASID:
		return e->pasid;
	case IONEST_DMA_CTRL:
		return e->ctrl;
	case IONEST_DMA_STATUS:
		return __atomic_load_n(&e->status, __ATOMIC_ACQUIRE);
	case IONEST_DMA_FAULT_ADDR:
		return (uint32_t)e->fault_addr;
	case IONEST_DMA_FAULT_ADDR + 4:
		return (uint32_t)(e->fault_addr >> 32);
	case IONEST_DMA_FAULT_CODE:
		return e->fault_code;
	case IONEST_DMA_FAULT_INFO:
		return e->fault_info;
	case IONEST_DMA_DONE:
		return e->done;
	case IONEST_DMA_PRQ_STATUS:
		return e->prq_status;
	case IONEST_DMA_COMPLETED:
		return e->completed;
	case IONEST_DMA_FAULTS:
		return e->faults;
	default:
		return 0; /* DOORBELL and reserved space read as zero */
	}
}

static void set_status(struct dma_engine *e, uint32_t st)
{
	__atomic_store_n(&e->status, st, __ATOMIC_RELEASE);
}

static void stop_error(struct dma_engine *e, uint32_t code)
{
	e->stopped = false;
	set_status(e, IONEST_DMA_ST_ERROR | code << IONEST_DMA_ST_ERR_SHIFT);
}

/* The IOMMU stopped the access: FAULT, or PAGE_REQ for a page request
 * (or an SMMUv3 stall) the device waits on. */
static void stop_fault(struct vfio_pci *p, int rc)
{
	struct dma_engine *e = &p->eng;
	struct machine_device *d = p->d;
	struct ionest_dma_fault f;

	if (!ionest_device_last_fault(d->machine, d->index, &f)) {
		e->fault_addr = f.iova;
		e->fault_code = f.code;
		e->fault_info = (f.status & IONEST_DMA_FI_STATUS_MASK) |
				(f.access & IONEST_ACCESS_WRITE ?
					 IONEST_DMA_FI_WRITE :
					 0) |
				(f.stage2 ? IONEST_DMA_FI_STAGE2 : 0) |
				(f.recorded ? IONEST_DMA_FI_RECORDED : 0);
	}
	e->stopped = true;
	if (rc == -EAGAIN) {
		uint32_t n = (e->prq_status >> IONEST_DMA_PRQ_COUNT_SHIFT) + 1;

		e->prq_status = IONEST_DMA_PRQ_WAITING |
				n << IONEST_DMA_PRQ_COUNT_SHIFT;
		set_status(e, IONEST_DMA_ST_PAGE_REQ);
	} else {
		e->faults++;
		set_status(e, IONEST_DMA_ST_FAULT);
	}
}

static uint32_t page_left(uint64_t a)
{
	return PAGE - (uint32_t)(a & (PAGE - 1));
}

/* One page-bounded piece of the transfer at byte @done. */
static int step(struct vfio_pci *p, uint32_t mode, uint32_t pasid, int flags,
		uint32_t *chunk)
{
	struct dma_engine *e = &p->eng;
	struct machine_device *d = p->d;
	uint64_t src = e->src + e->done, dst = e->dst + e->done;
	uint32_t n = e->len - e->done;
	uint8_t bounce[PAGE], *dev;
	int rc;

	if (mode != IONEST_DMA_MODE_FROM_DEV && n > page_left(src))
		n = page_left(src);
	if (mode != IONEST_DMA_MODE_TO_DEV && n > page_left(dst))
		n = page_left(dst);
	*chunk = n;
	/* run() checked DEV_OFF + LEN against the device memory. */
	dev = e->mem +
	      (mode == IONEST_DMA_MODE_COPY ? 0 : e->dev_off + e->done);
	switch (mode) {
	case IONEST_DMA_MODE_TO_DEV:
		return ionest_device_dma(d->machine, d->index, pasid, src, dev,
					 n, IONEST_DMA_FROM_MEM | flags);
	case IONEST_DMA_MODE_FROM_DEV:
		return ionest_device_dma(d->machine, d->index, pasid, dst, dev,
					 n, IONEST_DMA_TO_MEM | flags);
	default:
		rc = ionest_device_dma(d->machine, d->index, pasid, src, bounce,
				       n, IONEST_DMA_FROM_MEM | flags);
		if (rc)
			return rc;
		return ionest_device_dma(d->machine, d->index, pasid, dst,
					 bounce, n, IONEST_DMA_TO_MEM | flags);
	}
}

/* Why the transfer cannot start, or 0. */
static uint32_t check(struct vfio_pci *p, uint32_t mode, uint32_t *pasid)
{
	struct dma_engine *e = &p->eng;

	if (mode > IONEST_DMA_MODE_FROM_DEV)
		return IONEST_DMA_ERR_MODE;
	if (!e->len || e->len > IONEST_DMA_MAX_LEN ||
	    (mode != IONEST_DMA_MODE_COPY &&
	     (uint64_t)e->dev_off + e->len > IONEST_DEVMEM_SIZE))
		return IONEST_DMA_ERR_LEN;
	if (!pci_config_bus_master(&p->cfg))
		return IONEST_DMA_ERR_BME;
	if (e->pasid & IONEST_DMA_PASID_VALID) {
		*pasid = e->pasid & ~IONEST_DMA_PASID_VALID;
		/* A PASID TLP prefix needs the capability enabled, and the
		 * value must fit the width it advertises. */
		if (!pci_config_pasid_enabled(&p->cfg) ||
		    (*pasid >> p->d->cfg.pasid_bits))
			return IONEST_DMA_ERR_PASID;
	}
	return 0;
}

static void run(struct vfio_pci *p, uint32_t bell)
{
	struct dma_engine *e = &p->eng;
	uint32_t mode = e->ctrl & IONEST_DMA_MODE_MASK;
	uint32_t pasid = IONEST_NO_PASID, err;
	int flags = 0, rc = 0;

	if (bell != IONEST_DMA_START && bell != IONEST_DMA_RESUME) {
		stop_error(e, IONEST_DMA_ERR_DOORBELL);
		return;
	}
	if (bell == IONEST_DMA_RESUME && !e->stopped) {
		stop_error(e, IONEST_DMA_ERR_RESUME);
		return;
	}
	if (bell == IONEST_DMA_START)
		e->done = 0;
	e->stopped = false;
	e->prq_status &= ~IONEST_DMA_PRQ_WAITING;
	err = check(p, mode, &pasid);
	if (err) {
		stop_error(e, err);
		return;
	}
	if (pci_config_ats_enabled(&p->cfg))
		flags = IONEST_DMA_ATS;
	set_status(e, IONEST_DMA_ST_BUSY);
	while (e->done < e->len) {
		uint32_t chunk;

		rc = step(p, mode, pasid, flags, &chunk);
		if (rc)
			break;
		e->done += chunk;
	}
	if (!rc) {
		e->completed++;
		set_status(e, IONEST_DMA_ST_DONE);
	} else if (rc == -EFAULT || rc == -EAGAIN) {
		stop_fault(p, rc);
	} else if (rc == -EINVAL && flags) {
		stop_error(e, IONEST_DMA_ERR_ATS);
	} else {
		stop_error(e, IONEST_DMA_ERR_INTERNAL);
	}
	trace_dev_dma_engine((uint64_t)p->d->index, mode, pasid, e->len,
			     e->done, e->status);
}

static void set64(uint64_t *r, bool hi, uint32_t v)
{
	if (hi)
		*r = (*r & 0xffffffffull) | (uint64_t)v << 32;
	else
		*r = (*r & ~0xffffffffull) | v;
}

/* A write of the bytes in @mask of the register at @off. */
static void reg_write(struct vfio_pci *p, uint32_t off, uint32_t val,
		      uint32_t mask)
{
	struct dma_engine *e = &p->eng;
	uint32_t v = (reg_read(e, off) & ~mask) | (val & mask);

	switch (off) {
	case IONEST_DMA_SRC:
	case IONEST_DMA_SRC + 4:
		set64(&e->src, off & 4, v);
		break;
	case IONEST_DMA_DST:
	case IONEST_DMA_DST + 4:
		set64(&e->dst, off & 4, v);
		break;
	case IONEST_DMA_LEN:
		e->len = v;
		break;
	case IONEST_DMA_DEV_OFF:
		e->dev_off = v;
		break;
	case IONEST_DMA_PASID:
		e->pasid = v & (IONEST_DMA_PASID_VALID | IONEST_DMA_PASID_MASK);
		break;
	case IONEST_DMA_CTRL:
		e->ctrl = v & IONEST_DMA_MODE_MASK;
		break;
	case IONEST_DMA_DOORBELL:
		run(p, val & mask);
		break;
	case IONEST_DMA_STATUS: {
		uint32_t clr = val & mask &
			       (IONEST_DMA_ST_DONE | IONEST_DMA_ST_FAULT |
				IONEST_DMA_ST_PAGE_REQ | IONEST_DMA_ST_ERROR);
		uint32_t st = e->status & ~clr;

		if (clr & IONEST_DMA_ST_ERROR)
			st &= ~IONEST_DMA_ST_ERR_MASK;
		set_status(e, st);
		break;
	}
	default:
		break; /* read-only or reserved: ignored */
	}
}

size_t dma_engine_rw(struct vfio_pci *p, uint64_t off, void *buf, size_t n,
		     bool write)
{
	uint8_t *b = buf;
	size_t done = 0;

	if (off >= IONEST_DEVMEM_OFFSET) {
		uint8_t *mem = p->eng.mem + (off - IONEST_DEVMEM_OFFSET);

		if (write)
			memcpy(mem, b, n);
		else
			memcpy(b, mem, n);
		return n;
	}
	/* Registers: dword by dword, with byte enables. */
	while (done < n && off + done < IONEST_DEVMEM_OFFSET) {
		uint32_t dw = (uint32_t)((off + done) & ~3ull);
		uint32_t first = (uint32_t)(off + done) - dw;
		uint32_t cnt = 4 - first, val = 0, mask = 0;

		if (cnt > n - done)
			cnt = (uint32_t)(n - done);
		if (write) {
			for (uint32_t i = 0; i < cnt; i++) {
				val |= (uint32_t)b[done + i]
				       << (8 * (first + i));
				mask |= 0xffu << (8 * (first + i));
			}
			reg_write(p, dw, val, mask);
		} else {
			val = reg_read(&p->eng, dw);
			for (uint32_t i = 0; i < cnt; i++)
				b[done + i] =
					(uint8_t)(val >> (8 * (first + i)));
		}
		done += cnt;
	}
	return done;
}
