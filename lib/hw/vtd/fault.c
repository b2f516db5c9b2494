// SPDX-License-Identifier: MIT
/*
 * Primary fault logging (vtd.md §9): NFR+1 128-bit fault recording
 * registers filled in rotation. FSTS.FRI names the record the first pending
 * fault went to when PPF was set; a fault that finds the next record still
 * full (F=1) is dropped and sets PFO. One fault event interrupt is raised
 * when a condition appears while none was pending (PFO, PPF, IQE, ICE, ITE
 * all clear); software clears them to re-arm it.
 */
#include "hw/vtd/vtd.h"

#define FAULT_STATUS                                                 \
	(VTD_FSTS_PFO | VTD_FSTS_PPF | VTD_FSTS_IQE | VTD_FSTS_ICE | \
	 VTD_FSTS_ITE)

bool vtd_fault_pending(const struct vtd *v)
{
	for (unsigned i = 0; i < v->nfr; i++)
		if (v->frcd[i][1] & VTD_FRCD_HI_F)
			return true;
	return false;
}

void vtd_fault_status_set(struct vtd *v, uint32_t old_fsts)
{
	if (!(old_fsts & FAULT_STATUS))
		vtd_event_raise(v, VTD_EV_FAULT);
}

static uint64_t frcd_hi(const struct ionest_xlate_req *req, uint32_t access,
			uint8_t reason)
{
	uint64_t hi = VTD_FRCD_HI_F | (uint64_t)reason << 32 |
		      (req->sid & 0xffff);

	/* PASID, privilege and execute exist only in a PASID prefix;
	 * requests without one used RID_PASID but report no PASID. */
	if (req->ssid_valid) {
		hi |= VTD_FRCD_HI_PP | (uint64_t)(req->ssid & 0xfffff) << 40;
		if (access & IONEST_ACCESS_PRIV)
			hi |= VTD_FRCD_HI_PRIV;
		if (access & IONEST_ACCESS_EXEC)
			hi |= VTD_FRCD_HI_EXE;
	}
	/* AT: 01 for a translation request, 00 untranslated. */
	if (req->ats)
		hi |= 1ull << 60;
	/* T: 1 read, 0 write (a read-write request reports the write). */
	if (!(access & IONEST_ACCESS_WRITE))
		hi |= VTD_FRCD_HI_T;
	return hi;
}

bool vtd_fault_record(struct vtd *v, const struct ionest_xlate_req *req,
		      uint32_t access, const struct vtd_fault *f)
{
	uint32_t pasid = req->ssid_valid ? req->ssid : 0;
	uint32_t old;
	unsigned i;

	/* Qualified faults under FPD are not recorded. */
	if (f->fpd)
		return false;
	vtd_lock(v);
	old = vtd_fsts(v);
	i = v->frcd_next;
	if (v->frcd[i][1] & VTD_FRCD_HI_F) {
		v->fsts |= VTD_FSTS_PFO;
		hw_count(&v->hw, hw_event_lost);
		vtd_fault_status_set(v, old);
		vtd_unlock(v);
		return false;
	}
	/* FI: the page of the request's input address (the IOVA, also for
	 * faults taken in the second stage of a nested walk). */
	v->frcd[i][0] = req->iova & ~0xfffull;
	v->frcd[i][1] = frcd_hi(req, access, f->reason);
	if (!(old & VTD_FSTS_PPF))
		v->fsts = (v->fsts & ~(0xffu << VTD_FSTS_FRI_SHIFT)) |
			  i << VTD_FSTS_FRI_SHIFT;
	v->frcd_next = (i + 1) % v->nfr;
	hw_count(&v->hw, hw_event);
	trace_vtd_fault(v->hw.id, req->sid, pasid, req->iova, f->reason);
	vtd_fault_status_set(v, old);
	vtd_unlock(v);
	return true;
}
