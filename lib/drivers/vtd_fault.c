// SPDX-License-Identifier: MIT
/*
 * Fault reporting (vtd.md §9): the fault event (FECTL/FEDATA/FEADDR) and its
 * handler, which consumes the fault recording registers and clears them (F
 * is write-1-to-clear) and clears PFO, so that the next fault is recorded
 * and interrupts again; and the page request queue (vtd.md §10).
 *
 * The hardware raises one fault event per transition from "nothing
 * pending" (PFO, PPF, IQE, ICE, ITE clear); the handler therefore loops
 * until FSTS shows nothing it owns. It runs on whichever thread made the
 * hardware record the fault (a DMA, or the driver itself), possibly inside
 * the model's register lock, so it takes no driver lock but its own, with
 * a try-lock: a second caller leaves its work to the one inside.
 *
 * The records are counted and traced here: non-recoverable faults stay
 * with the host (vtd.md §11). Page requests, which arrive once a context
 * entry sets PRE, are consumed by vtd_nested.c (vtd_prq_event).
 */
#include <errno.h>

#include "drivers/vtd.h"
#include "trace/trace.h"
#include "util/alloc.h"

#define FAULT_ROUNDS 8
/* The fault event message goes to the x86 interrupt window (an interrupt,
 * not a memory write); the vector is arbitrary. */
#define FAULT_VECTOR 0x31
#define PRQ_VECTOR 0x32

static uint64_t frcd_off(const struct vtd_inst *vi, unsigned i)
{
	return vi->fro + (uint64_t)VTD_FRCD_SIZE * i;
}

/* One record, as software logs it. */
static void fault_log(struct vtd_inst *vi, uint64_t lo, uint64_t hi)
{
	uint32_t pasid = (hi & VTD_FRCD_HI_PP) ? VTD_FRCD_HI_PV(hi) :
						 IOMMU_NO_PASID;

	vtd_count(vi, vtdd_fault_record);
	trace_vtd_drv_fault(vi->hw->id, VTD_FRCD_HI_SID(hi), pasid,
			    lo & ~0xfffull, VTD_FRCD_HI_FR(hi));
}

/* Consume pending records from FRI on, then PFO; true if FSTS still shows
 * something when done. */
static bool fault_drain(struct vtd_inst *vi)
{
	uint32_t fsts = vtd_rd32(vi, VTD_REG_FSTS);
	unsigned start = VTD_FSTS_FRI(fsts);

	if (fsts & VTD_FSTS_PPF) {
		for (unsigned n = 0; n < vi->nfr; n++) {
			unsigned i = (start + n) % vi->nfr;
			uint64_t hi = vtd_rd64(vi, frcd_off(vi, i) + 8);

			if (!(hi & VTD_FRCD_HI_F))
				continue;
			fault_log(vi, vtd_rd64(vi, frcd_off(vi, i)), hi);
			/* F is write-1-to-clear (bit 127: bit 31 of the
			 * record's last dword). */
			vtd_wr32(vi, frcd_off(vi, i) + 12,
				 (uint32_t)(VTD_FRCD_HI_F >> 32));
		}
	}
	if (fsts & VTD_FSTS_PFO) {
		vtd_count(vi, vtdd_fault_overflow);
		vtd_wr32(vi, VTD_REG_FSTS, VTD_FSTS_PFO);
	}
	return vtd_rd32(vi, VTD_REG_FSTS) & (VTD_FSTS_PPF | VTD_FSTS_PFO);
}

void vtd_fault_event(struct vtd_inst *vi)
{
	__atomic_store_n(&vi->fault_again, true, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&vi->fault_again, __ATOMIC_SEQ_CST) &&
	       !pthread_mutex_trylock(&vi->fault_lock)) {
		while (__atomic_exchange_n(&vi->fault_again, false,
					   __ATOMIC_SEQ_CST)) {
			for (unsigned r = 0; r < FAULT_ROUNDS; r++)
				if (!fault_drain(vi))
					break;
		}
		pthread_mutex_unlock(&vi->fault_lock);
	}
}

void vtd_irq(void *ctx, enum ionest_hw_irq line)
{
	struct vtd_inst *vi = ctx;

	switch (line) {
	case IONEST_IRQ_EVENTQ:
		vtd_fault_event(vi);
		break;
	case IONEST_IRQ_PRIQ:
		vtd_prq_event(vi);
		break;
	default:
		break; /* invalidation completion: the driver polls */
	}
}

int vtd_fault_init(struct vtd_inst *vi)
{
	uint32_t fsts;

	if (pthread_mutex_init(&vi->fault_lock, NULL))
		return -ENOMEM;
	if (pthread_mutex_init(&vi->prq_lock, NULL)) {
		pthread_mutex_destroy(&vi->fault_lock);
		return -ENOMEM;
	}
	ionest_hw_set_irq_handler(vi->hw, vtd_irq, vi);
	/* Masked while set up; stale records and status from before are
	 * dropped, then the event is unmasked. */
	vtd_wr32(vi, VTD_REG_FECTL, VTD_ECTL_IM);
	vtd_wr32(vi, VTD_REG_FEDATA, FAULT_VECTOR);
	vtd_wr32(vi, VTD_REG_FEADDR, (uint32_t)VTD_MSI_START);
	vtd_wr32(vi, VTD_REG_FEUADDR, 0);
	for (unsigned i = 0; i < vi->nfr; i++)
		vtd_wr32(vi, frcd_off(vi, i) + 12,
			 (uint32_t)(VTD_FRCD_HI_F >> 32));
	fsts = vtd_rd32(vi, VTD_REG_FSTS);
	vtd_wr32(vi, VTD_REG_FSTS,
		 fsts & (VTD_FSTS_PFO | VTD_FSTS_IQE | VTD_FSTS_ICE |
			 VTD_FSTS_ITE));
	vtd_wr32(vi, VTD_REG_FECTL, 0);

	if (vi->ecap & VTD_ECAP_PRS) {
		vi->prq = vtd_table_alloc(vi, 4096ull << VTD_PRQ_QS);
		if (!vi->prq) {
			vtd_fault_fini(vi);
			return -ENOMEM;
		}
		vtd_wr32(vi, VTD_REG_PECTL, VTD_ECTL_IM);
		vtd_wr64(vi, VTD_REG_PQH, 0);
		vtd_wr64(vi, VTD_REG_PQA,
			 (uint64_t)(uintptr_t)vi->prq | VTD_PRQ_QS);
		vtd_wr32(vi, VTD_REG_PEDATA, PRQ_VECTOR);
		vtd_wr32(vi, VTD_REG_PEADDR, (uint32_t)VTD_MSI_START);
		vtd_wr32(vi, VTD_REG_PEUADDR, 0);
		vtd_wr32(vi, VTD_REG_PRS, VTD_PRS_PPR | VTD_PRS_PRO);
		vtd_wr32(vi, VTD_REG_PECTL, 0);
	}
	return 0;
}

void vtd_fault_fini(struct vtd_inst *vi)
{
	vtd_wr32(vi, VTD_REG_FECTL, VTD_ECTL_IM);
	ionest_hw_set_irq_handler(vi->hw, NULL, NULL);
	if (vi->prq) {
		vtd_wr32(vi, VTD_REG_PECTL, VTD_ECTL_IM);
		vtd_wr64(vi, VTD_REG_PQA, 0);
		xfree(vi->prq);
		vi->prq = NULL;
	}
	pthread_mutex_destroy(&vi->prq_lock);
	pthread_mutex_destroy(&vi->fault_lock);
}
