// SPDX-License-Identifier: MIT
/*
 * Nesting on VT-d (vtd.md §7, §11): a nested domain is the guest's first
 * stage (a root GPA and its paging mode) over a NEST_PARENT second-stage
 * domain. There is no vIOMMU object: the VMM allocates it on the parent
 * HWPT with IOMMU_HWPT_DATA_VTD_S1. Attaching it to a RID or a PASID
 * writes a PGTT=011 PASID entry (vtd_pe_install) with the parent's table,
 * AW and DID, so that the parent's DID-tagged invalidations also reach the
 * nested translations (§7).
 *
 * Guest stage-1 changes are announced with HWPT_INVALIDATE entries, which
 * become PASID-based IOTLB invalidations (page-selective with AM, or all
 * of the PASID) for every (device, PASID) the domain is attached to, plus
 * PASID-based device-TLB invalidations for ATS devices (§8).
 *
 * Page requests (§10): PRE is set in the context entry of a PRI device
 * once a domain with a fault queue is attached to it; the page request
 * queue is drained into iommu_report_fault() and the answer goes back as
 * a page group response descriptor.
 */
#include <errno.h>
#include <stddef.h>
#include <ionest/uapi/iommufd.h>

#include <ionest/ionest.h>

#include "drivers/inflight.h"
#include "drivers/vtd.h"
#include "util/alloc.h"

#define VTD_S1_FLAGS (IOMMU_VTD_S1_SRE | IOMMU_VTD_S1_EAFE | IOMMU_VTD_S1_WPE)
#define PAGE_SHIFT 12
/* Descriptor fields (vtd.md §8). */
#define D_G(g) ((uint64_t)(g) << 4)
#define D_DID(d) ((uint64_t)(d) << 16)
#define D_PASID(p) ((uint64_t)((p)&0xfffff) << 32)
#define PGRP_RC_SHIFT 12
#define PGRP_RID_SHIFT 16
#define PGRP_PRGI_SHIFT 3

static struct vtd_dom *to_dom(struct iommu_domain *d)
{
	return (struct vtd_dom *)d;
}

/* ---- stage-1 invalidation ---- */

/* P_IOTLB for [start, last] of (@did, @pasid): page-selective for the
 * smallest aligned block with AM <= MAMV, else all of the PASID. */
static void piotlb(struct vtd_inst *vi, uint16_t did, uint32_t pasid,
		   uint64_t start, uint64_t last, bool all, bool leaf)
{
	unsigned k = PAGE_SHIFT;

	while (!all && k < 64 && (start >> k) != (last >> k))
		k++;
	vtd_count(vi, vtdd_s1_inv);
	if (all || !(vi->cap & VTD_CAP_PSI) || k >= 64 ||
	    k - PAGE_SHIFT > VTD_CAP_MAMV(vi->cap)) {
		vtd_qi_desc(vi,
			    VTD_INV_PIOTLB | D_G(VTD_PIOTLB_G_PASID) |
				    D_DID(did) | D_PASID(pasid),
			    0);
		return;
	}
	vtd_qi_desc(vi,
		    VTD_INV_PIOTLB | D_G(VTD_PIOTLB_G_PAGE) | D_DID(did) |
			    D_PASID(pasid),
		    (start & ~((1ull << k) - 1)) | (leaf ? VTD_INV_IH : 0) |
			    (k - PAGE_SHIFT));
}

void vtd_nested_flush(struct vtd_dom *dom, uint64_t start, uint64_t last,
		      bool all, bool leaf)
{
	struct vtd_inst *vi = dom->vi;
	uint16_t did = dom->sh ? vtd_shadow_did(dom) : dom->parent->did;

	for (unsigned i = 0; i < dom->natt; i++) {
		struct vtd_att *a = &dom->att[i];

		piotlb(vi, did, a->pasid, start, last, all, leaf);
		if (a->vd->dev->ats_usable)
			vtd_qi_devtlb(vi, (uint16_t)a->vd->dev->rid,
				      a->pasid != VTD_RID_PASID, a->pasid,
				      start, last, all);
	}
}

/* iommufd-uapi.md §6 and vtd.md §11: flags other than LEAF or a reserved
 * field -EOPNOTSUPP; an address not 4K aligned, or U64_MAX pages not
 * starting at 0, -EINVAL. */
static int vtd_nested_invalidate(struct iommu_domain *d,
				 struct iommu_user_data_array *a)
{
	struct vtd_dom *dom = to_dom(d);
	struct vtd_inst *vi = dom->vi;
	uint32_t n = a->entry_num, done = 0;
	uint64_t tables = 0;
	int rc = 0, qrc;

	if (a->type != IOMMU_HWPT_INVALIDATE_DATA_VTD_S1) {
		a->entry_num = 0;
		return -EINVAL;
	}
	if (!n)
		return 0;
	pthread_mutex_lock(&d->inst->lock);
	for (; done < n; done++) {
		struct iommu_hwpt_vtd_s1_invalidate e;
		uint64_t last;
		bool all;

		rc = iommu_user_array_get(
			a, IOMMU_HWPT_INVALIDATE_DATA_VTD_S1, done, &e,
			sizeof(e),
			offsetof(struct iommu_hwpt_vtd_s1_invalidate,
				 __reserved) +
				sizeof(e.__reserved));
		if (rc)
			break;
		if ((e.flags & ~(uint32_t)IOMMU_VTD_INV_FLAGS_LEAF) ||
		    e.__reserved) {
			rc = -EOPNOTSUPP;
			break;
		}
		if ((e.addr & ((1ull << PAGE_SHIFT) - 1)) ||
		    (e.npages == UINT64_MAX && e.addr)) {
			rc = -EINVAL;
			break;
		}
		if (!e.npages)
			continue;
		/* Beyond the top of the address space: everything. */
		all = e.npages > (~e.addr >> PAGE_SHIFT);
		last = all ? UINT64_MAX : e.addr + (e.npages << PAGE_SHIFT) - 1;
		if (dom->sh)
			/* Software nesting: recompose the range. */
			vtd_shadow_invalidate(dom, e.addr, last);
		else
			vtd_nested_flush(dom, e.addr, last, all,
					 e.flags & IOMMU_VTD_INV_FLAGS_LEAF);
	}
	if (dom->sh)
		tables = vtd_shadow_take(dom);
	/* What was queued completes before the call returns. */
	qrc = vtd_qi_sync(vi);
	pthread_mutex_unlock(&d->inst->lock);
	if (tables) {
		inflight_wait();
		vtd_shadow_free(dom, tables);
	}
	a->entry_num = done;
	return rc ? rc : qrc;
}

/* ---- lifetime ---- */

static void vtd_nested_free(struct iommu_domain *d)
{
	struct vtd_dom *dom = to_dom(d);
	struct vtd_dom **pp;

	/* Nothing is attached: detaching invalidated its PASID entries. */
	pthread_mutex_lock(&d->inst->lock);
	for (pp = &dom->parent->children; *pp; pp = &(*pp)->sibling) {
		if (*pp == dom) {
			*pp = dom->sibling;
			break;
		}
	}
	pthread_mutex_unlock(&d->inst->lock);
	vtd_shadow_destroy(dom);
	xfree(dom->att);
	xfree(dom);
}

static const struct iommu_domain_ops vtd_nested_ops = {
	.attach_dev = vtd_dom_attach_dev,
	.set_dev_pasid = vtd_dom_set_dev_pasid,
	.cache_invalidate_user = vtd_nested_invalidate,
	.free = vtd_nested_free,
};

/* vtd.md §4 (kernel nested checks) and §11: PASID-entry word 2. */
static int s1_word(struct vtd_inst *vi, const struct iommu_hwpt_vtd_s1 *s1,
		   uint64_t *q2)
{
	if ((s1->flags & ~(uint64_t)VTD_S1_FLAGS) || s1->__reserved)
		return -EOPNOTSUPP;
	if (s1->addr_width != 48 && s1->addr_width != 57)
		return -EINVAL;
	if (s1->addr_width == 57 && !(vi->cap & VTD_CAP_FS5LP))
		return -EINVAL;
	if ((s1->flags & IOMMU_VTD_S1_SRE) && !(vi->ecap & VTD_ECAP_SRS))
		return -EINVAL;
	if ((s1->flags & IOMMU_VTD_S1_EAFE) && !(vi->ecap & VTD_ECAP_EAFS))
		return -EINVAL;
	/* FSPTPTR holds a 4K-aligned address below 2^HAW. */
	if ((s1->pgtbl_addr & 0xfff) ||
	    (vi->haw < 64 && (s1->pgtbl_addr >> vi->haw)))
		return -EINVAL;
	*q2 = s1->pgtbl_addr |
	      (s1->addr_width == 57 ? 1ull << VTD_PE_FSPM_SHIFT : 0) |
	      ((s1->flags & IOMMU_VTD_S1_SRE) ? VTD_PE_SRE : 0) |
	      /* WPE only matters, and is only set, with SRE. */
	      ((s1->flags & IOMMU_VTD_S1_SRE) &&
			       (s1->flags & IOMMU_VTD_S1_WPE) ?
		       VTD_PE_WPE :
		       0) |
	      ((s1->flags & IOMMU_VTD_S1_EAFE) ? VTD_PE_EAFE : 0);
	return 0;
}

int vtd_domain_alloc_nested(struct iommu_dev *dev, struct iommu_domain *parent,
			    uint32_t flags, const struct iommu_user_data *data,
			    struct iommu_domain **out)
{
	struct vtd_inst *vi = to_vi(dev->inst);
	/* The instance's mode (shadow: software nesting, vtd_shadow.c). */
	bool shadow = dev->inst->nesting == IONEST_NESTING_SHADOW;
	struct iommu_hwpt_vtd_s1 s1;
	struct vtd_dom *dom;
	uint64_t q2;
	int rc;

	if ((!shadow && !(vi->ecap & VTD_ECAP_NEST)) ||
	    (flags & ~IOMMU_DOMAIN_F_PASID))
		return -EOPNOTSUPP;
	if (data->type != IOMMU_HWPT_DATA_VTD_S1)
		return -EOPNOTSUPP;
	if (!vtd_is_paging(parent) || parent->inst != dev->inst ||
	    !(parent->flags & IOMMU_DOMAIN_F_NEST_PARENT))
		return -EINVAL;
	rc = iommu_user_data_get(data, IOMMU_HWPT_DATA_VTD_S1, &s1, sizeof(s1),
				 sizeof(s1));
	if (rc)
		return rc;
	rc = s1_word(vi, &s1, &q2);
	if (rc)
		return rc;
	dom = xzalloc(sizeof(*dom));
	if (!dom)
		return -ENOMEM;
	dom->vi = vi;
	dom->parent = to_dom(parent);
	dom->s1_q2 = q2;
	dom->base.type = IOMMU_DOMAIN_NESTED;
	dom->base.ops = &vtd_nested_ops;
	dom->base.inst = dev->inst;
	dom->base.flags = flags;
	dom->base.enforce_cache_coherency = true;
	if (shadow) {
		rc = vtd_shadow_create(dom);
		if (rc) {
			xfree(dom);
			return rc;
		}
	}
	pthread_mutex_lock(&dev->inst->lock);
	dom->sibling = dom->parent->children;
	dom->parent->children = dom;
	pthread_mutex_unlock(&dev->inst->lock);
	*out = &dom->base;
	return 0;
}

/* ---- page requests ---- */

void vtd_dev_enable_pri(struct vtd_dev *vd)
{
	struct vtd_inst *vi = vd->vi;
	uint64_t ce0 = vtd_load(&vd->ce[0]);

	if (!vd->dev->pri || !vi->prq || (ce0 & VTD_CE_PRE))
		return;
	/* vtd.md §3, §8: a context entry change, then the context cache of
	 * the device. Kept until the device is released. */
	vtd_store(&vd->ce[0], ce0 | VTD_CE_PRE);
	vtd_qi_cc_dev(vi, (uint16_t)vd->dev->rid);
	(void)vtd_qi_sync(vi);
}

/*
 * Send one page group response (vtd.md §8, type 0x9) and wait for it.
 * Takes inst->lock: never called with it held, nor with any lock of the
 * model's (its interrupts come without). The model hands the response to
 * the endpoint while we wait; a retry from there may raise the page request
 * interrupt on this thread, which vtd_prq_event leaves to us: served here
 * once the lock is released.
 */
static void pgrp_resp(struct vtd_inst *vi, uint16_t rid, bool pp,
		      uint32_t pasid, uint32_t prgi, unsigned rc)
{
	pthread_mutex_lock(&vi->inst->lock);
	vtd_count(vi, vtdd_page_resp);
	__atomic_store_n(&vi->resp_owner, iommu_thread_token(),
			 __ATOMIC_RELAXED);
	vtd_qi_desc(vi,
		    VTD_INV_PGRP_RESP | (pp ? VTD_PGRP_PP : 0) |
			    (uint64_t)rc << PGRP_RC_SHIFT |
			    (uint64_t)rid << PGRP_RID_SHIFT |
			    (pp ? D_PASID(pasid) : 0),
		    VTD_PGRP_LPIG | (uint64_t)(prgi & 0x1ff)
					    << PGRP_PRGI_SHIFT);
	(void)vtd_qi_sync(vi);
	__atomic_store_n(&vi->resp_owner, 0, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&vi->inst->lock);
	if (__atomic_load_n(&vi->prq_again, __ATOMIC_SEQ_CST))
		vtd_prq_event(vi);
}

void vtd_page_response(struct iommu_dev *dev, const struct iommu_fault *last,
		       uint32_t code)
{
	struct vtd_inst *vi = to_vi(dev->inst);
	bool pp = last->flags & IOMMU_FAULT_F_PASID_VALID;
	unsigned rc = code == IOMMU_PAGE_RESP_SUCCESS ? VTD_PGRP_RC_SUCCESS :
		      code == IOMMU_PAGE_RESP_INVALID ? VTD_PGRP_RC_INVALID :
							VTD_PGRP_RC_FAILURE;

	pgrp_resp(vi, (uint16_t)dev->rid, pp, last->pasid, last->grpid, rc);
}

/* One page request descriptor to the core (or answered here when no
 * device has its RID). */
static void prq_one(struct vtd_inst *vi, uint64_t q0, uint64_t q1)
{
	uint32_t rid = (uint32_t)(q0 >> VTD_PRQ_RID_SHIFT) & 0xffff;
	struct vtd_dev *vd = vtd_dev_find(vi, rid);
	struct iommu_fault f = {
		.grpid = (uint32_t)(q1 >> VTD_PRQ_PRGI_SHIFT) & 0x1ff,
		.addr = q1 & VTD_PRQ_ADDR_MASK,
		.perm = ((q1 & VTD_PRQ_RDR) ? IOMMU_FAULT_PERM_READ : 0) |
			((q1 & VTD_PRQ_WRR) ? IOMMU_FAULT_PERM_WRITE : 0),
	};

	vtd_count(vi, vtdd_page_request);
	if (q1 & VTD_PRQ_LPIG)
		f.flags |= IOMMU_FAULT_F_LAST_PAGE;
	if (q0 & VTD_PRQ_PP) {
		f.flags |= IOMMU_FAULT_F_PASID_VALID;
		f.pasid = (uint32_t)(q0 >> VTD_PRQ_PASID_SHIFT) & 0xfffff;
		f.perm |= ((q0 & VTD_PRQ_EXR) ? IOMMU_FAULT_PERM_EXEC : 0) |
			  ((q0 & VTD_PRQ_PMR) ? IOMMU_FAULT_PERM_PRIV : 0);
	}
	if (vd) {
		/* Nobody to take it: the core answers INVALID itself. */
		(void)iommu_report_fault(vd->dev, &f);
		return;
	}
	if (f.flags & IOMMU_FAULT_F_LAST_PAGE)
		pgrp_resp(vi, (uint16_t)rid,
			  f.flags & IOMMU_FAULT_F_PASID_VALID, f.pasid, f.grpid,
			  VTD_PGRP_RC_INVALID);
}

/* Consume from PQH to PQT, then clear PPR/PRO; true if more came. */
static bool prq_drain(struct vtd_inst *vi)
{
	uint64_t size = 4096ull << VTD_PRQ_QS;
	uint64_t h = vtd_rd64(vi, VTD_REG_PQH) % size;
	uint64_t t = vtd_rd64(vi, VTD_REG_PQT) % size;
	uint32_t prs;

	while (h != t) {
		const uint64_t *d = (const uint64_t *)(vi->prq + h);
		uint64_t q0 = vtd_load(&d[0]), q1 = vtd_load(&d[1]);

		h = (h + VTD_PRQ_DESC_SIZE) % size;
		/* The slot is the hardware's again before the report: the
		 * answer may come at once, and a retry queue a request. */
		vtd_wr64(vi, VTD_REG_PQH, h);
		prq_one(vi, q0, q1);
		t = vtd_rd64(vi, VTD_REG_PQT) % size;
	}
	prs = vtd_rd32(vi, VTD_REG_PRS);
	if (prs & VTD_PRS_PRO)
		vtd_count(vi, vtdd_fault_overflow);
	vtd_wr32(vi, VTD_REG_PRS, prs & (VTD_PRS_PPR | VTD_PRS_PRO));
	return (vtd_rd64(vi, VTD_REG_PQT) % size) != h;
}

void vtd_prq_event(struct vtd_inst *vi)
{
	if (!vi->prq)
		return;
	__atomic_store_n(&vi->prq_again, true, __ATOMIC_SEQ_CST);
	/* Inside our own page group response (inst->lock held): its
	 * sender serves the queue when done (pgrp_resp). */
	if (__atomic_load_n(&vi->resp_owner, __ATOMIC_RELAXED) ==
	    iommu_thread_token())
		return;
	while (__atomic_load_n(&vi->prq_again, __ATOMIC_SEQ_CST) &&
	       !pthread_mutex_trylock(&vi->prq_lock)) {
		while (__atomic_exchange_n(&vi->prq_again, false,
					   __ATOMIC_SEQ_CST))
			while (prq_drain(vi))
				;
		pthread_mutex_unlock(&vi->prq_lock);
	}
}
