// SPDX-License-Identifier: MIT
/*
 * Page requests (vtd.md §10): a ring of 32-byte page request descriptors at
 * PQA (2^PQS 4 KB pages) that the model fills at PQT and software drains
 * from PQH. PRS.PPR marks pending requests, PRS.PRO an overflow; each
 * raises the page request event. Software answers with page group response
 * descriptors in the invalidation queue, which go to the endpoint.
 */
#include "hw/vtd/vtd.h"

#define PRS_PENDING (VTD_PRS_PPR | VTD_PRS_PRO)

static uint64_t prq_desc0(const struct ionest_xlate_req *req, uint32_t access)
{
	uint64_t q = VTD_PRQ_TYPE | (uint64_t)(req->sid & 0xffff)
					    << VTD_PRQ_RID_SHIFT;

	if (req->ssid_valid) {
		q |= VTD_PRQ_PP | (uint64_t)(req->ssid & 0xfffff)
					  << VTD_PRQ_PASID_SHIFT;
		if (access & IONEST_ACCESS_EXEC)
			q |= VTD_PRQ_EXR;
		if (access & IONEST_ACCESS_PRIV)
			q |= VTD_PRQ_PMR;
	}
	return q;
}

static uint64_t prq_desc1(const struct ionest_xlate_req *req, uint32_t access)
{
	/* Every request is a group of one page: LPIG set. */
	uint64_t q = VTD_PRQ_LPIG |
		     (uint64_t)(req->prgi & 0x1ff) << VTD_PRQ_PRGI_SHIFT |
		     (req->iova & VTD_PRQ_ADDR_MASK);

	if (access & IONEST_ACCESS_READ)
		q |= VTD_PRQ_RDR;
	if (access & IONEST_ACCESS_WRITE)
		q |= VTD_PRQ_WRR;
	return q;
}

bool vtd_prq_request(struct vtd *v, const struct ionest_xlate_req *req,
		     uint32_t access)
{
	uint64_t d[4] = { prq_desc0(req, access), prq_desc1(req, access), 0,
			  0 };
	uint64_t size, base, tail, next;
	uint32_t old;
	bool overflow = false;

	vtd_lock(v);
	/* A queue software never set up cannot take requests: the fault is
	 * recorded as a plain fault instead. */
	if (!v->pqa) {
		vtd_unlock(v);
		return false;
	}
	size = 4096ull << VTD_PQA_PQS(v->pqa);
	base = v->pqa & VTD_RTADDR_RTA_MASK;
	tail = v->pqt % size;
	next = (tail + VTD_PRQ_DESC_SIZE) % size;
	old = v->prs;
	if (next == v->pqh % size) {
		/* Full: PRO, and the group is answered "success" by the
		 * hardware so the device retries later. */
		v->prs |= VTD_PRS_PRO;
		overflow = true;
		hw_count(&v->hw, hw_event_lost);
	} else if (!hw_bus_write(&v->hw, base + tail, d, 4)) {
		vtd_unlock(v);
		return false;
	} else {
		v->pqt = next;
		v->prs |= VTD_PRS_PPR;
		hw_count(&v->hw, hw_page_request);
		trace_vtd_prq(v->hw.id, req->sid,
			      req->ssid_valid ? req->ssid : 0, req->iova,
			      req->prgi & 0x1ff);
	}
	if ((v->prs & ~old) & PRS_PENDING)
		vtd_event_raise(v, VTD_EV_PRQ);
	vtd_unlock(v);
	if (overflow && v->hw.page_resp_fn)
		v->hw.page_resp_fn(v->hw.page_resp_ctx, req->sid & 0xffff,
				   req->ssid_valid ? req->ssid : 0,
				   req->ssid_valid, req->prgi & 0x1ff, 0);
	return true;
}

int vtd_prq_response(struct vtd *v, const uint64_t *d)
{
	bool pp = d[0] & VTD_PGRP_PP;
	unsigned rc = VTD_PGRP_RC(d[0]), code;

	if (!vtd_has(v, VTD_ECAP_PRS))
		return VTD_IQEI_TYPE;
	if ((d[0] & VTD_PGRP_RSVD0) || (d[1] & VTD_PGRP_RSVD1))
		return VTD_IQEI_RSVD;
	/* PCIe PRG response codes: success, invalid request, failure. */
	if (rc == VTD_PGRP_RC_SUCCESS)
		code = 0;
	else if (rc == VTD_PGRP_RC_INVALID)
		code = 1;
	else if (rc == VTD_PGRP_RC_FAILURE)
		code = 2;
	else
		return VTD_IQEI_RSVD;
	if (v->hw.page_resp_fn)
		v->hw.page_resp_fn(v->hw.page_resp_ctx, VTD_PGRP_RID(d[0]),
				   pp ? VTD_INV_PASID(d[0]) : 0, pp,
				   VTD_PGRP_PRGI(d[1]), code);
	return 0;
}
