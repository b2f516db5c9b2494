// SPDX-License-Identifier: MIT
/*
 * Output queues: the event queue (32-byte records) and the PRI queue
 * (16-byte page requests) in memory, with PROD/CONS wrap bits, overflow
 * flags and their interrupts (spec/smmuv3.md §1, §9).
 */
#include "hw/smmuv3/smmu.h"

/* Outcome of one attempt to append to an output queue. */
enum q_put { Q_PUT_OK, Q_PUT_OVERFLOW, Q_PUT_ABORT };

/*
 * Append @n words at PROD. A full queue loses the entry and toggles
 * PROD.OVFLG, unless an overflow is already pending (OVFLG differs from
 * CONS.OVACKFLG until software acknowledges it).
 */
static enum q_put q_put(struct smmu *s, struct smmu_queue *q, unsigned max,
			const uint64_t *w, unsigned n)
{
	unsigned log2 = smmu_q_log2(q, max);
	uint32_t mask = (1u << log2) - 1, wrap = 1u << log2;
	uint32_t prod = smmu_ld32(&q->prod), cons = smmu_ld32(&q->cons);
	uint64_t addr;

	if ((prod & mask) == (cons & mask) && ((prod ^ cons) & wrap)) {
		if (!((prod ^ cons) & Q_OVF))
			smmu_st32(&q->prod, prod ^ Q_OVF);
		return Q_PUT_OVERFLOW;
	}
	addr = (smmu_ld64(&q->base) & Q_BASE_ADDR) +
	       (uint64_t)(prod & mask) * n * 8;
	if (!hw_bus_write(&s->hw, addr, w, n))
		return Q_PUT_ABORT;
	/* Entry visible before PROD moves past it. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	smmu_st32(&q->prod, (prod & Q_OVF) | (((prod & (mask | wrap)) + 1) &
					      (mask | wrap)));
	return Q_PUT_OK;
}

static void q_irq(struct smmu *s, struct smmu_queue *q, uint32_t en,
		  uint32_t msi_abt, enum ionest_hw_irq line)
{
	if (!(smmu_ld32(&s->irq_ctrl) & en))
		return;
	if (!smmu_msi(s, smmu_ld64(&q->irq_cfg0), smmu_ld32(&q->irq_cfg1)))
		smmu_gerror_raise(s, msi_abt);
	hw_irq(&s->hw, line);
}

static bool gerror_active(struct smmu *s, uint32_t bit)
{
	return (smmu_ld32(&s->gerror) ^ smmu_ld32(&s->gerrorn)) & bit;
}

bool smmu_evtq_record(struct smmu *s, const uint64_t ev[4])
{
	enum q_put r = Q_PUT_ABORT;
	bool on;

	trace_smmu_event(s->hw.id, ev[0] & 0xff, ev[0] >> 32, ev[2]);
	pthread_mutex_lock(&s->evtq_lock);
	/* Events are discarded while the queue is off or after a write to
	 * it aborted, until software acknowledges EVTQ_ABT_ERR. */
	on = (smmu_ld32(&s->cr0) & CR0_EVTQEN) &&
	     !gerror_active(s, GERROR_EVTQ_ABT);
	if (on)
		r = q_put(s, &s->evtq, s->f.eventqs, ev, 4);
	pthread_mutex_unlock(&s->evtq_lock);
	if (!on || r != Q_PUT_OK) {
		hw_count(&s->hw, hw_event_lost);
		if (on && r == Q_PUT_ABORT)
			smmu_gerror_raise(s, GERROR_EVTQ_ABT);
		return false;
	}
	hw_count(&s->hw, hw_event);
	q_irq(s, &s->evtq, IRQ_CTRL_EVTQ, GERROR_MSI_EVTQ_ABT,
	      IONEST_IRQ_EVENTQ);
	return true;
}

bool smmu_priq_record(struct smmu *s, const uint64_t ent[2])
{
	enum q_put r = Q_PUT_ABORT;
	bool on;

	pthread_mutex_lock(&s->priq_lock);
	on = (smmu_ld32(&s->cr0) & CR0_PRIQEN) &&
	     !gerror_active(s, GERROR_PRIQ_ABT);
	if (on)
		r = q_put(s, &s->priq, s->f.priqs, ent, 2);
	pthread_mutex_unlock(&s->priq_lock);
	if (!on || r != Q_PUT_OK) {
		if (on && r == Q_PUT_ABORT)
			smmu_gerror_raise(s, GERROR_PRIQ_ABT);
		return false;
	}
	hw_count(&s->hw, hw_page_request);
	q_irq(s, &s->priq, IRQ_CTRL_PRIQ, GERROR_MSI_PRIQ_ABT, IONEST_IRQ_PRIQ);
	return true;
}
