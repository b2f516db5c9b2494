// SPDX-License-Identifier: MIT
/*
 * SMMUv3 driver: what the SMMU reports (spec/smmuv3.md §1, §9).
 *
 * The event queue is drained on its interrupt (the wired line; no MSI), so
 * it never overflows while the driver runs: each record is counted, traced
 * and kept in a small ring for the vEVENTQ of nesting. Recoverable faults
 * go to the iommufd core as I/O page faults (iommu_report_fault): a page
 * request on the PRI queue, or a stalled transaction (Stall=1 in its
 * record, the stall tag kept in the fault's priv). The core hands them to
 * the fault queue of the HWPT the device is attached to, or answers
 * INVALID at once when there is none; page_response() then sends
 * CMD_PRI_RESP or CMD_RESUME. The stalls of software nesting are held by
 * the driver (in a table of the SMMU's kind, hw/smmuv3/stall.h): their
 * records take the same way, their faults marked as the driver's, and
 * their answer releases the driver's slot and tells the platform instead
 * of sending a RESUME. Global errors other than command
 * queue errors (handled by the submitter) are counted and acknowledged.
 * ATC invalidations the SMMU sends towards a function are forwarded to the
 * function's device TLB.
 *
 * The handlers run on whatever thread made the SMMU report: often a DMA
 * thread inside its in-flight section. They take the queue locks and the
 * command queue lock, which nobody holds while waiting for DMA, and report
 * faults with neither queue lock held (the answer may come at once). On a
 * thread inside the command queue (an endpoint retrying from a PRI
 * response or a resume, while the SMMU consumes it) the drain waits until
 * that thread lets the queue go (smmuv3_cmdq_unlock): its answers are
 * commands, which cannot be issued from inside a PROD write.
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

static void count_event(struct smmu_drv *s, const uint64_t ev[4])
{
	smmuv3_count(s, drv_event);
	trace_smmuv3_drv_event(s->hw->id, ev[0] & 0xff, ev[0] >> EVT0_SID_SHIFT,
			       (ev[0] & EVT0_SSV) ? SMMU_BITS(ev[0], 31, 12) :
						    IOMMU_NO_PASID,
			       ev[2]);
}

static void keep_event(struct smmu_drv *s, const uint64_t ev[4])
{
	unsigned i = (s->ev_head + s->ev_count) % SMMUV3_EVRING;

	if (s->ev_count == SMMUV3_EVRING)
		s->ev_head = (s->ev_head + 1) % SMMUV3_EVRING;
	else
		s->ev_count++;
	memcpy(s->evring[i], ev, sizeof(s->evring[i]));
	count_event(s, ev);
}

/* fault.priv of a stall: the tag, marked as such (PRI uses no priv). */
#define FAULT_STALL (1ull << 63)
/* ... held by the driver (software nesting), not by the SMMU: its tag is
 * from the driver's table, which the SMMU's may hold too. */
#define FAULT_DSTALL (1ull << 62)

static uint32_t access_perm(bool read, bool write, bool exec, bool priv)
{
	return (read ? IOMMU_FAULT_PERM_READ : 0) |
	       (write ? IOMMU_FAULT_PERM_WRITE : 0) |
	       (exec ? IOMMU_FAULT_PERM_EXEC : 0) |
	       (priv ? IOMMU_FAULT_PERM_PRIV : 0);
}

/* Hand a recoverable fault of @sid to the core, or answer it ourselves
 * when no device has that StreamID. */
static void report(struct smmu_drv *s, uint32_t sid, struct iommu_fault *f)
{
	struct smmu_master *m = smmuv3_sid_master(s, sid);

	if (m) {
		iommu_report_fault(m->dev, f);
		return;
	}
	if (f->priv & FAULT_STALL)
		smmuv3_cmd1(s,
			    smmuv3_cmd_sid(CMD_RESUME, sid) |
				    (uint64_t)RESUME_ABORT << 12,
			    f->priv & 0xffff);
	else if (f->flags & IOMMU_FAULT_F_LAST_PAGE)
		smmuv3_cmd1(s,
			    smmuv3_cmd_sid(CMD_PRI_RESP, sid) |
				    ((f->flags & IOMMU_FAULT_F_PASID_VALID) ?
					     1ull << 11 | (uint64_t)f->pasid
								  << 12 :
					     0),
			    f->grpid | (uint64_t)PRI_RESP_DENY << 12);
}

/* A stalled transaction's record as an I/O page fault (a group of one). */
static void stall_fault(const uint64_t ev[4], struct iommu_fault *f)
{
	memset(f, 0, sizeof(*f));
	f->flags = IOMMU_FAULT_F_LAST_PAGE;
	if (ev[0] & EVT0_SSV) {
		f->flags |= IOMMU_FAULT_F_PASID_VALID;
		f->pasid = (uint32_t)SMMU_BITS(ev[0], 31, 12);
	}
	f->perm = access_perm(ev[1] & EVT1_RNW, !(ev[1] & EVT1_RNW),
			      ev[1] & EVT1_IND, ev[1] & EVT1_PNU);
	f->addr = ev[2] & ~0xfffull;
	f->priv = FAULT_STALL | (ev[1] & 0xffff);
}

void smmuv3_drain_evtq(struct smmu_drv *s)
{
	unsigned log2 = s->evtq.log2;
	uint64_t stall[RESP_BATCH][4];
	bool more = true;

	if (smmuv3_drain_deferred(s, SMMUV3_DRAIN_EVTQ))
		return;
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
			if ((ev[1] & EVT1_STALL) &&
			    smmuv3_shadow_stall_owned(s, ev)) {
				/* The translate hook's (forced stalls). */
				cons = q_inc(cons, log2);
				continue;
			}
			if (ev[1] & EVT1_STALL) {
				if (n == RESP_BATCH) {
					more = true;
					break;
				}
				memcpy(stall[n++], ev, sizeof(ev));
				smmuv3_count(s, drv_stall);
			} else if (smmuv3_nested_event(s, ev)) {
				/* The guest's: counted and traced, not kept. */
				count_event(s, ev);
				cons = q_inc(cons, log2);
				continue;
			}
			keep_event(s, ev);
			cons = q_inc(cons, log2);
		}
		/* Consumed, and an overflow acknowledged (OVACKFLG). */
		smmuv3_wr32(s, SMMU_EVTQ_CONS,
			    (cons & ~Q_OVF) | (prod & Q_OVF));
		pthread_mutex_unlock(&s->evtq_lock);
		/* Outside evtq_lock: the answer (a command) may come at once.
		 */
		for (unsigned i = 0; i < n; i++) {
			struct iommu_fault f;

			stall_fault(stall[i], &f);
			report(s, (uint32_t)(stall[i][0] >> EVT0_SID_SHIFT),
			       &f);
		}
	}
}

/* ---- stalls held by the driver (software nesting) ---- */

int smmuv3_stall_init(struct smmu_drv *s)
{
	/* §3 IDR0.STALL_MODEL, IDR5.STALL_MAX: what the SMMU holds. */
	if (SMMU_BITS(s->idr[0], 25, 24) == SMMU_STALL_TERM_ONLY)
		return 0;
	return smmu_stalls_size(&s->stalls,
				(unsigned)SMMU_BITS(s->idr[5], 31, 16));
}

void smmuv3_stall_inject(struct smmu_drv *s, const uint64_t ev[4])
{
	struct iommu_fault f;

	pthread_mutex_lock(&s->evtq_lock);
	smmuv3_count(s, drv_stall);
	keep_event(s, ev);
	pthread_mutex_unlock(&s->evtq_lock);
	/* As a drained stall: reported with no queue lock held. */
	stall_fault(ev, &f);
	f.priv |= FAULT_DSTALL;
	report(s, (uint32_t)(ev[0] >> EVT0_SID_SHIFT), &f);
}

void smmuv3_event_inject(struct smmu_drv *s, const uint64_t ev[4])
{
	pthread_mutex_lock(&s->evtq_lock);
	if (smmuv3_nested_event(s, ev))
		count_event(s, ev);
	else
		keep_event(s, ev);
	pthread_mutex_unlock(&s->evtq_lock);
}

void smmuv3_drain_priq(struct smmu_drv *s)
{
	unsigned log2 = s->priq.log2;
	uint64_t req[RESP_BATCH][2];
	bool more = true;

	if (smmuv3_drain_deferred(s, SMMUV3_DRAIN_PRIQ))
		return;
	while (more) {
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

			if (n == RESP_BATCH) {
				more = true;
				break;
			}
			req[n][0] = hw_read64(&e[0]);
			req[n][1] = hw_read64(&e[1]);
			n++;
			smmuv3_count(s, drv_pri_request);
			cons = q_inc(cons, log2);
		}
		smmuv3_wr32(s, SMMU_PRIQ_CONS,
			    (cons & ~Q_OVF) | (prod & Q_OVF));
		pthread_mutex_unlock(&s->priq_lock);
		for (unsigned i = 0; i < n; i++) {
			uint64_t e0 = req[i][0], e1 = req[i][1];
			struct iommu_fault f = {
				.flags = (e0 & PRI0_LAST) ?
						 IOMMU_FAULT_F_LAST_PAGE :
						 0,
				.grpid = (uint32_t)(e1 & 0x1ff),
				.perm = access_perm(
					e0 & PRI0_READ, e0 & PRI0_WRITE,
					e0 & PRI0_EXEC, e0 & PRI0_PRIV),
				.addr = e1 & ~0xfffull,
			};

			if (e0 & PRI0_SSV) {
				f.flags |= IOMMU_FAULT_F_PASID_VALID;
				f.pasid = (uint32_t)SMMU_BITS(e0, 51, 32);
			}
			report(s, (uint32_t)e0, &f);
		}
	}
}

void smmuv3_page_response(struct iommu_dev *dev, const struct iommu_fault *last,
			  uint32_t code)
{
	struct smmu_master *m = dev->priv;
	struct smmu_drv *s = m->s;

	smmuv3_count(s, drv_page_resp);
	if (last->priv & FAULT_STALL) {
		/* §8 RESUME: retry once the page is there, else abort
		 * (INVALID) or terminate (FAILURE). */
		unsigned action =
			code == IOMMU_PAGE_RESP_SUCCESS ? RESUME_RETRY :
			code == IOMMU_PAGE_RESP_INVALID ? RESUME_ABORT :
							  RESUME_TERMINATE;
		uint16_t stag = (uint16_t)(last->priv & 0xffff);

		if (last->priv & FAULT_DSTALL) {
			/* A stall of software nesting: released as the
			 * SMMU releases its own on CMD_RESUME (a tag not
			 * held, nothing), the platform told as the SMMU
			 * tells it, inside the command queue. */
			if (!smmu_stalls_take(&s->stalls, m->sid, stag))
				return;
			smmuv3_cmdq_lock(s);
			if (s->hw->resume_fn)
				s->hw->resume_fn(s->hw->resume_ctx, m->sid,
						 stag, action == RESUME_RETRY);
			smmuv3_cmdq_unlock(s);
			return;
		}
		smmuv3_cmd1(s,
			    smmuv3_cmd_sid(CMD_RESUME, m->sid) |
				    (uint64_t)action << 12,
			    last->priv & 0xffff);
		return;
	}
	/* §8 PRI_RESP: echoes SubstreamID and PRG index. */
	smmuv3_cmd1(s,
		    smmuv3_cmd_sid(CMD_PRI_RESP, m->sid) |
			    ((last->flags & IOMMU_FAULT_F_PASID_VALID) ?
				     1ull << 11 | (uint64_t)last->pasid << 12 :
				     0),
		    (last->grpid & 0x1ff) |
			    (uint64_t)(code == IOMMU_PAGE_RESP_SUCCESS ?
					       PRI_RESP_SUCCESS :
				       code == IOMMU_PAGE_RESP_INVALID ?
					       PRI_RESP_DENY :
					       PRI_RESP_FAIL)
				    << 12);
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
