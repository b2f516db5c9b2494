// SPDX-License-Identifier: MIT
/*
 * SMMUv3 driver: what the SMMU reports (spec/smmuv3.md §1, §9).
 *
 * The event queue is drained on its interrupt (the wired line; no MSI), so
 * it never overflows while the driver runs: each record is counted, traced
 * and kept in a small ring for the vEVENTQ of nesting. A stalled
 * transaction (Stall=1 in the record) is terminated with CMD_RESUME, since
 * no I/O page fault handler serves it yet. Page requests on the PRI queue
 * are answered with a PRI_RESP "deny" for the same reason. Global errors
 * other than command queue errors (handled by the submitter) are counted
 * and acknowledged. ATC invalidations the SMMU sends towards a function
 * are forwarded to the function's device TLB.
 *
 * The handlers run on whatever thread made the SMMU report: often a DMA
 * thread inside its in-flight section. They take the queue locks and the
 * command queue lock, which nobody holds while waiting for DMA.
 */
#include <string.h>

#include "drivers/smmuv3.h"
#include "hw/hw.h"

#define RESP_BATCH 16

struct smmu_master *smmuv3_sid_master(struct smmu_drv *s, uint32_t sid)
{
	struct smmu_master **l;

	if ((uint64_t)sid >> s->sid_bits)
		return NULL;
	l = __atomic_load_n(&s->masters[sid >> 8], __ATOMIC_ACQUIRE);
	return l ? __atomic_load_n(&l[sid & 0xff], __ATOMIC_ACQUIRE) : NULL;
}

void smmuv3_atc_inv_handler(void *ctx, uint32_t sid, uint32_t ssid,
			    bool ssid_valid, uint64_t addr, uint64_t size)
{
	/* Runs while the command queue is consumed, under cmdq_lock: a
	 * master is unpublished before its last commands, so it is alive. */
	struct smmu_master *m = smmuv3_sid_master(ctx, sid);

	if (m && m->dev->atc_inv)
		m->dev->atc_inv(m->dev, ssid, ssid_valid, addr, size);
}

/* Output queue index: entries in use between CONS and PROD. */
static bool q_empty(uint32_t prod, uint32_t cons, unsigned log2)
{
	return !((prod ^ cons) & ((2u << log2) - 1));
}

static uint32_t q_inc(uint32_t v, unsigned log2)
{
	uint32_t m = (2u << log2) - 1;

	return (v & ~m) | ((v + 1) & m);
}

static void keep_event(struct smmu_drv *s, const uint64_t ev[4])
{
	unsigned i = (s->ev_head + s->ev_count) % SMMUV3_EVRING;

	if (s->ev_count == SMMUV3_EVRING)
		s->ev_head = (s->ev_head + 1) % SMMUV3_EVRING;
	else
		s->ev_count++;
	memcpy(s->evring[i], ev, sizeof(s->evring[i]));
	smmuv3_count(s, drv_event);
	trace_smmuv3_drv_event(s->hw->id, ev[0] & 0xff, ev[0] >> EVT0_SID_SHIFT,
			       (ev[0] & EVT0_SSV) ? SMMU_BITS(ev[0], 31, 12) :
						    IOMMU_NO_PASID,
			       ev[2]);
}

static void resume_terminate(struct smmu_drv *s, const uint64_t (*stall)[2],
			     unsigned n)
{
	struct smmu_cmdbuf b = { .n = 0 };

	if (!n)
		return;
	for (unsigned i = 0; i < n; i++) {
		smmuv3_count(s, drv_stall_term);
		smmuv3_cmd_add(s, &b,
			       smmuv3_cmd_sid(CMD_RESUME,
					      (uint32_t)stall[i][0]) |
				       (uint64_t)RESUME_TERMINATE << 12,
			       stall[i][1]);
	}
	smmuv3_cmd_sync(s, &b);
}

void smmuv3_drain_evtq(struct smmu_drv *s)
{
	unsigned log2 = s->evtq.log2;
	uint64_t stall[RESP_BATCH][2];
	bool more = true;

	while (more) {
		unsigned n = 0;
		uint32_t prod, cons;

		more = false;
		pthread_mutex_lock(&s->evtq_lock);
		prod = smmuv3_rd32(s, SMMU_EVTQ_PROD);
		cons = smmuv3_rd32(s, SMMU_EVTQ_CONS);
		/* Records before PROD are complete. */
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if ((prod ^ cons) & Q_OVF)
			smmuv3_count(s, drv_evtq_overflow);
		while (!q_empty(prod, cons, log2)) {
			const uint64_t *e =
				s->evtq.base +
				(size_t)(cons & ((1u << log2) - 1)) * 4;
			uint64_t ev[4];

			for (unsigned i = 0; i < 4; i++)
				ev[i] = hw_read64(&e[i]);
			if (ev[1] & EVT1_STALL) {
				if (n == RESP_BATCH) {
					more = true;
					break;
				}
				stall[n][0] = ev[0] >> EVT0_SID_SHIFT;
				stall[n][1] = ev[1] & 0xffff;
				n++;
			}
			keep_event(s, ev);
			cons = q_inc(cons, log2);
		}
		/* Consumed, and an overflow acknowledged (OVACKFLG). */
		smmuv3_wr32(s, SMMU_EVTQ_CONS,
			    (cons & ~Q_OVF) | (prod & Q_OVF));
		pthread_mutex_unlock(&s->evtq_lock);
		/* Outside evtq_lock: cmdq_lock is never taken under it. */
		if (s->stall)
			resume_terminate(s, (const uint64_t(*)[2])stall, n);
	}
}

void smmuv3_drain_priq(struct smmu_drv *s)
{
	unsigned log2 = s->priq.log2;
	uint64_t resp[RESP_BATCH][2];
	bool more = true;

	while (more) {
		struct smmu_cmdbuf b = { .n = 0 };
		unsigned n = 0;
		uint32_t prod, cons;

		more = false;
		pthread_mutex_lock(&s->priq_lock);
		prod = smmuv3_rd32(s, SMMU_PRIQ_PROD);
		cons = smmuv3_rd32(s, SMMU_PRIQ_CONS);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		while (!q_empty(prod, cons, log2)) {
			const uint64_t *e =
				s->priq.base +
				(size_t)(cons & ((1u << log2) - 1)) * 2;
			uint64_t e0 = hw_read64(&e[0]), e1 = hw_read64(&e[1]);

			if (e0 & PRI0_LAST) {
				if (n == RESP_BATCH) {
					more = true;
					break;
				}
				/* PRI_RESP echoes StreamID, SSV/SSID, PRGI. */
				resp[n][0] =
					smmuv3_cmd_sid(CMD_PRI_RESP,
						       (uint32_t)e0) |
					((e0 & PRI0_SSV) ? 1ull << 11 : 0) |
					SMMU_BITS(e0, 51, 32) << 12;
				resp[n][1] = (e1 & 0x1ff) |
					     (uint64_t)PRI_RESP_DENY << 12;
				n++;
			}
			smmuv3_count(s, drv_pri_request);
			cons = q_inc(cons, log2);
		}
		smmuv3_wr32(s, SMMU_PRIQ_CONS,
			    (cons & ~Q_OVF) | (prod & Q_OVF));
		pthread_mutex_unlock(&s->priq_lock);
		for (unsigned i = 0; i < n; i++)
			smmuv3_cmd_add(s, &b, resp[i][0], resp[i][1]);
		if (n)
			smmuv3_cmd_sync(s, &b);
	}
}

static void gerror(struct smmu_drv *s)
{
	uint32_t active = smmuv3_rd32(s, SMMU_GERROR) ^
			  smmuv3_rd32(s, SMMU_GERRORN);

	/* CMDQ_ERR belongs to whoever is submitting (smmuv3_cmdq.c). */
	active &= ~(uint32_t)GERROR_CMDQ_ERR;
	if (!active)
		return;
	smmuv3_count(s, drv_gerror);
	trace_smmuv3_gerror(s->hw->id, active);
	smmuv3_gerror_ack(s, active);
}

void smmuv3_irq(void *ctx, enum ionest_hw_irq line)
{
	struct smmu_drv *s = ctx;

	switch (line) {
	case IONEST_IRQ_EVENTQ:
		smmuv3_drain_evtq(s);
		break;
	case IONEST_IRQ_PRIQ:
		smmuv3_drain_priq(s);
		break;
	case IONEST_IRQ_GERROR:
		gerror(s);
		break;
	default:
		break;
	}
}

unsigned smmuv3_pop_events(struct iommu_inst *inst, uint64_t (*out)[4],
			   unsigned max)
{
	struct smmu_drv *s = smmuv3_of(inst);
	unsigned n = 0;

	if (!s)
		return 0;
	pthread_mutex_lock(&s->evtq_lock);
	while (n < max && s->ev_count) {
		memcpy(out[n++], s->evring[s->ev_head], sizeof(out[0]));
		s->ev_head = (s->ev_head + 1) % SMMUV3_EVRING;
		s->ev_count--;
	}
	pthread_mutex_unlock(&s->evtq_lock);
	return n;
}
