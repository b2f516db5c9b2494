// SPDX-License-Identifier: MIT
/*
 * The mock IOMMU's nesting, the vendor-neutral core's test bed (the mock
 * ABI is in <ionest/ionest.h>):
 *   - nested domains: the guest's stage 1 (x86-64 4-level format) walked
 *     through the parent's tables, every table and output address a GPA
 *     (lib/hw/nest.h), results cached in the IOTLB until the guest
 *     invalidates them;
 *   - the mock vIOMMU: nested domains on it, invalidation by vDEVICE
 *     virt_id, faults of its nested domains reported as vEVENTs;
 *   - I/O page faults: a translation fault of a PRI device on a domain
 *     with a fault queue is a page request (iommu_report_fault), answered
 *     through the model's page-response output.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <ionest/ionest.h>

#include "drivers/driver.h"
#include "drivers/inflight.h"
#include "drivers/mock.h"
#include "hw/nest.h"
#include "util/alloc.h"

#define S1_IAS 48
#define S1_OAS 52
#define PAGE_MASK_4K 0xfffull

static const struct pt_cfg s1_cfg = {
	.fmt = PT_FMT_X86_64,
	.granule_shift = 12,
	.ias = S1_IAS,
	.oas = S1_OAS,
	.start_level = -1,
};

/* ---- Events and page requests (the DMA path) ---- */

/* A fault of a nested domain made on a vIOMMU: a vEVENT, if the device
 * has a vDEVICE there (the event names it by its virtual ID). */
static void report_vevent(struct mock_hw *mh, struct mock_dev *md,
			  struct mock_domain *dom,
			  const struct ionest_xlate_req *req,
			  struct ionest_xlate_res *res)
{
	struct ionest_mock_vevent ev;
	uint64_t vid;

	if (!dom->viommu ||
	    iommufd_viommu_get_vdev_id(&dom->viommu->base, md->dev, &vid))
		return;
	memset(&ev, 0, sizeof(ev));
	ev.virt_id = vid;
	ev.iova = req->iova;
	ev.fault_addr = res->fault_addr;
	ev.pasid = req->ssid_valid ? req->ssid : IONEST_NO_PASID;
	ev.code = res->fault;
	ev.flags = res->stage2 ? IONEST_MOCK_VEVENT_STAGE2 : 0;
	ev.access = req->access;
	if (iommufd_viommu_report_event(&dom->viommu->base, IONEST_MOCK_VEVENTQ,
					&ev, sizeof(ev))) {
		hw_count(&mh->base, hw_event_lost);
		return;
	}
	hw_count(&mh->base, hw_event);
	res->recorded = true;
}

bool mock_page_request(struct mock_hw *mh, struct mock_dev *md,
		       struct mock_domain *dom,
		       const struct ionest_xlate_req *req,
		       struct ionest_xlate_res *res)
{
	struct iommu_fault f;

	if (!req->pri || req->ats || !dom->base.iopf)
		return false;
	memset(&f, 0, sizeof(f));
	/* Every request of a DMA is a group of one. */
	f.flags = IOMMU_FAULT_F_LAST_PAGE;
	if (req->ssid_valid) {
		f.flags |= IOMMU_FAULT_F_PASID_VALID;
		f.pasid = req->ssid;
	}
	f.grpid = req->prgi;
	f.perm = ((req->access & IONEST_ACCESS_READ) ? IOMMU_FAULT_PERM_READ :
						       0) |
		 ((req->access & IONEST_ACCESS_WRITE) ? IOMMU_FAULT_PERM_WRITE :
							0) |
		 ((req->access & IONEST_ACCESS_EXEC) ? IOMMU_FAULT_PERM_EXEC :
						       0) |
		 ((req->access & IONEST_ACCESS_PRIV) ? IOMMU_FAULT_PERM_PRIV :
						       0);
	f.addr = req->iova & ~PAGE_MASK_4K;
	memset(res, 0, sizeof(*res));
	res->status = IONEST_XLATE_PAGE_REQUEST;
	res->fault_addr = req->iova;
	hw_count(&mh->base, hw_page_request);
	/* Answered later (or at once with INVALID if nobody takes it); the
	 * device retries after the answer either way. */
	iommu_report_fault(md->dev, &f);
	return true;
}

void mock_page_response(struct iommu_dev *dev, const struct iommu_fault *last,
			uint32_t code)
{
	struct ionest_hw *hw = dev->inst->hw;

	/* The PRG response towards the endpoint. */
	if (hw->page_resp_fn)
		hw->page_resp_fn(hw->page_resp_ctx, dev->rid, last->pasid,
				 last->flags & IOMMU_FAULT_F_PASID_VALID,
				 last->grpid, code);
}

/* ---- Translation through a nested domain ---- */

struct s2_walker {
	struct hw_nest n; /* first: hw_nest calls back with it */
	struct pt *s2;
};

/* Stage-2 translation of a stage-1 table address. */
static bool s2_table(struct hw_nest *n, uint64_t ipa, bool write, uint64_t *pa,
		     unsigned *shift)
{
	struct s2_walker *s = (struct s2_walker *)n;
	struct pt_walk w;

	w.rec = NULL;
	if (pt_walk(s->s2, ipa, 0, &w) || !(w.perm & PT_PERM_R) ||
	    (write && !(w.perm & PT_PERM_W)))
		return false;
	*pa = w.oa;
	*shift = w.leaf_shift;
	return true;
}

static uint32_t access_of(uint32_t perm)
{
	return ((perm & PT_PERM_R) ? IONEST_ACCESS_READ : 0) |
	       ((perm & PT_PERM_W) ? IONEST_ACCESS_WRITE : 0);
}

void mock_nested_translate(struct mock_hw *mh, struct mock_dev *md,
			   struct mock_domain *dom,
			   const struct ionest_xlate_req *req,
			   struct ionest_xlate_res *res, uint32_t need,
			   uint64_t gen)
{
	struct ionest_hw *hw = &mh->base;
	struct mock_domain *p = dom->parent;
	struct s2_walker s = {
		.n = { .hw = hw, .s2 = s2_table },
		.s2 = &p->pt,
	};
	uint32_t got, code, perm1 = PT_PERM_R | PT_PERM_W;
	uint64_t gpa = req->iova, fault_addr = req->iova, host, mask;
	unsigned shift, shift1 = 63, flags2 = 0;
	struct hw_tlb_entry te;
	struct pt_walk w1, w2;
	bool tracking, stage2 = false;

	hw_count(hw, hw_walk);
	w1.rec = NULL;
	w2.rec = NULL;
	if (!(dom->nflags & IONEST_MOCK_NESTED_BYPASS)) {
		struct pt s1;

		if (pt_attach(&s1, &s1_cfg, hw_nest_pt_mem(&s.n),
			      dom->s1_root)) {
			code = IONEST_MOCK_FAULT_TABLE;
			goto fault;
		}
		if (pt_walk(&s1, req->iova, 0, &w1)) {
			if (w1.fault == PT_FAULT_FETCH && s.n.faulted) {
				/* A stage-1 table the parent does not map. */
				code = IONEST_MOCK_FAULT_TRANSLATION;
				stage2 = true;
				fault_addr = s.n.fault_ipa;
			} else if (w1.fault == PT_FAULT_TRANSLATION) {
				if (mock_page_request(mh, md, dom, req, res))
					return;
				code = IONEST_MOCK_FAULT_TRANSLATION;
			} else {
				code = IONEST_MOCK_FAULT_TABLE;
			}
			goto fault;
		}
		gpa = w1.oa;
		perm1 = w1.perm;
		shift1 = w1.leaf_shift;
	}
	tracking = __atomic_load_n(&p->dirty_enabled, __ATOMIC_RELAXED);
	if ((req->access & IONEST_ACCESS_WRITE) && tracking &&
	    (perm1 & PT_PERM_W))
		flags2 = PT_WALK_SET_DIRTY | PT_WALK_SET_AF;
	if (pt_walk(&p->pt, gpa, flags2, &w2)) {
		code = w2.fault == PT_FAULT_TRANSLATION ?
			       IONEST_MOCK_FAULT_TRANSLATION :
			       IONEST_MOCK_FAULT_TABLE;
		stage2 = true;
		fault_addr = gpa;
		goto fault;
	}
	got = access_of(perm1) & access_of(w2.perm);
	if ((got & need) != need) {
		code = IONEST_MOCK_FAULT_PERMISSION;
		/* Stage 1 allowed it: stage 2 refused. */
		stage2 = (access_of(perm1) & need) == need;
		if (stage2)
			fault_addr = gpa;
		goto fault;
	}
	shift = shift1 < w2.leaf_shift ? shift1 : w2.leaf_shift;
	mask = (1ull << shift) - 1;
	host = w2.oa & ~mask;
	mock_hit(req, res, host, shift,
		 got | ((got & IONEST_ACCESS_READ) ? IONEST_ACCESS_EXEC : 0));
	te = (struct hw_tlb_entry){
		.va = req->iova & ~mask,
		.pa = host,
		.sid = req->sid,
		.ssid = mock_tlb_ssid(req),
		.dom = p->tag,
		.asid = dom->tag,
		.shift = (uint8_t)shift,
		.flags = (uint8_t)((res->perm & 7u) | HW_TLB_S1),
	};
	/* As for paging domains: a clean stage-2 page is cached read-only
	 * under dirty tracking, so the first write walks and sets D. */
	if (tracking && !(w2.perm & PT_PERM_DIRTY))
		te.flags &= (uint8_t)~IONEST_ACCESS_WRITE;
	hw_tlb_insert(&mh->tlb, &te, gen);
	return;
fault:
	mock_fault(hw, req, res, code);
	res->stage2 = stage2;
	res->fault_addr = fault_addr;
	report_vevent(mh, md, dom, req, res);
}

/* ---- Nested domains ---- */

static int nested_check(struct iommu_domain *d, struct iommu_dev *dev)
{
	struct mock_domain *dom = to_mock_dom(d);
	uint64_t vid;

	if (d->inst != dev->inst)
		return -EINVAL;
	/* A vIOMMU's domain serves only devices it has a virtual ID for. */
	if (dom->viommu &&
	    iommufd_viommu_get_vdev_id(&dom->viommu->base, dev, &vid))
		return -ENOENT;
	return 0;
}

static int nested_attach_dev(struct iommu_domain *d, struct iommu_dev *dev)
{
	int rc = nested_check(d, dev);

	return rc ? rc : mock_attach_dev(d, dev);
}

static int nested_set_dev_pasid(struct iommu_domain *d, struct iommu_dev *dev,
				uint32_t pasid)
{
	int rc = nested_check(d, dev);

	return rc ? rc : mock_set_dev_pasid(d, dev, pasid);
}

/* Shared by both entry formats: the flags, reserved word and range. */
static int inv_check(uint32_t flags, uint32_t rsv, uint64_t iova,
		     uint64_t length)
{
	uint64_t end;

	if ((flags & ~IONEST_MOCK_INVALIDATE_ALL) || rsv)
		return -EOPNOTSUPP;
	if (flags & IONEST_MOCK_INVALIDATE_ALL)
		return 0;
	if (!length || ((iova | length) & PAGE_MASK_4K) ||
	    __builtin_add_overflow(iova, length - 1, &end))
		return -EINVAL;
	return 0;
}

static void inv_range(struct hw_tlb_match *m, uint32_t flags, uint64_t iova,
		      uint64_t length)
{
	if (flags & IONEST_MOCK_INVALIDATE_ALL)
		return;
	m->fields |= HW_TLB_M_RANGE;
	m->va_start = iova;
	m->va_last = iova + length - 1;
}

static int nested_cache_invalidate(struct iommu_domain *d,
				   struct iommu_user_data_array *a)
{
	struct mock_domain *dom = to_mock_dom(d);
	struct mock_hw *mh = d->inst->priv;
	struct ionest_mock_invalidate inv;
	uint32_t i;
	int rc = 0;

	if (a->type != IONEST_MOCK_INVALIDATE_NESTED) {
		a->entry_num = 0;
		return -EINVAL;
	}
	for (i = 0; i < a->entry_num; i++) {
		struct hw_tlb_match m = {
			.fields = HW_TLB_M_DOM | HW_TLB_M_ASID,
			.dom = dom->parent->tag,
			.asid = dom->tag,
		};

		rc = iommu_user_array_get(
			a, IONEST_MOCK_INVALIDATE_NESTED, i, &inv, sizeof(inv),
			offsetof(struct ionest_mock_invalidate, __reserved));
		if (!rc)
			rc = inv_check(inv.flags, inv.__reserved, inv.iova,
				       inv.length);
		if (rc)
			break;
		inv_range(&m, inv.flags, inv.iova, inv.length);
		if (hw_tlb_invalidate(&mh->tlb, &m))
			hw_count(&mh->base, hw_invalidation);
	}
	/* The sync: no DMA uses a dropped translation after we return. */
	inflight_wait();
	a->entry_num = i;
	return rc;
}

static void nested_free(struct iommu_domain *d)
{
	struct mock_domain *dom = to_mock_dom(d);
	struct hw_tlb_match m = {
		.fields = HW_TLB_M_DOM | HW_TLB_M_ASID,
		.dom = dom->parent->tag,
		.asid = dom->tag,
	};

	mock_tlb_inv(d->inst->priv, &m);
	xfree(dom);
}

static const struct iommu_domain_ops mock_nested_ops = {
	.attach_dev = nested_attach_dev,
	.set_dev_pasid = nested_set_dev_pasid,
	.cache_invalidate_user = nested_cache_invalidate,
	.free = nested_free,
};

static int nested_alloc(struct iommu_dev *dev, struct mock_domain *parent,
			struct mock_viommu *v, uint32_t flags,
			const struct iommu_user_data *data,
			struct iommu_domain **out)
{
	struct ionest_mock_hwpt_nested cfg;
	struct mock_domain *dom;
	int rc;

	/* The mock nests its own way (a walk through the parent): a shadow
	 * mode would add nothing, so it has none. */
	if (dev->inst->nesting == IONEST_NESTING_SHADOW)
		return -EOPNOTSUPP;

	if (flags & ~(uint32_t)IOMMU_DOMAIN_F_PASID)
		return -EOPNOTSUPP;
	if (data->type != IONEST_MOCK_HWPT_DATA)
		return -EOPNOTSUPP;
	rc = iommu_user_data_get(data, IONEST_MOCK_HWPT_DATA, &cfg, sizeof(cfg),
				 sizeof(cfg));
	if (rc)
		return rc;
	if ((cfg.flags & ~(uint32_t)IONEST_MOCK_NESTED_BYPASS) ||
	    cfg.__reserved)
		return -EOPNOTSUPP;
	if (!(cfg.flags & IONEST_MOCK_NESTED_BYPASS) &&
	    ((cfg.s1_root & PAGE_MASK_4K) || (cfg.s1_root >> S1_OAS)))
		return -EINVAL;
	if (parent->base.inst != dev->inst ||
	    !(parent->base.flags & IOMMU_DOMAIN_F_NEST_PARENT))
		return -EINVAL;
	dom = xzalloc(sizeof(*dom));
	if (!dom)
		return -ENOMEM;
	dom->base.type = IOMMU_DOMAIN_NESTED;
	dom->base.ops = &mock_nested_ops;
	dom->base.inst = dev->inst;
	dom->base.flags = flags;
	dom->base.aperture_start = 0;
	dom->base.aperture_last = (1ull << S1_IAS) - 1;
	dom->base.enforce_cache_coherency = true;
	dom->parent = parent;
	dom->viommu = v;
	dom->s1_root = cfg.s1_root;
	dom->nflags = cfg.flags;
	dom->tag = mock_new_tag(dev->inst->priv);
	*out = &dom->base;
	return 0;
}

int mock_domain_alloc_nested(struct iommu_dev *dev, struct iommu_domain *parent,
			     uint32_t flags, const struct iommu_user_data *data,
			     struct iommu_domain **out)
{
	return nested_alloc(dev, to_mock_dom(parent), NULL, flags, data, out);
}

/* ---- The mock vIOMMU ---- */

static struct mock_viommu *to_mock_viommu(struct iommu_viommu *v)
{
	return (struct mock_viommu *)v;
}

static void viommu_destroy(struct iommu_viommu *v)
{
	/* Its nested domains are gone, and with them the event reports. */
	inflight_wait();
	xfree(to_mock_viommu(v));
}

static int viommu_alloc_domain_nested(struct iommu_viommu *v,
				      struct iommu_dev *dev, uint32_t flags,
				      const struct iommu_user_data *data,
				      struct iommu_domain **out)
{
	return nested_alloc(dev, to_mock_viommu(v)->parent, to_mock_viommu(v),
			    flags, data, out);
}

static int viommu_cache_invalidate(struct iommu_viommu *v,
				   struct iommu_user_data_array *a)
{
	struct mock_viommu *mv = to_mock_viommu(v);
	struct mock_hw *mh = v->inst->priv;
	struct ionest_mock_viommu_invalidate inv;
	uint32_t i;
	int rc = 0;

	if (a->type != IONEST_MOCK_INVALIDATE_VIOMMU) {
		a->entry_num = 0;
		return -EINVAL;
	}
	for (i = 0; i < a->entry_num; i++) {
		struct hw_tlb_match m = {
			.fields = HW_TLB_M_SID | HW_TLB_M_DOM | HW_TLB_M_FLAGS,
			.dom = mv->parent->tag,
			.flags_any = HW_TLB_S1,
		};
		struct iommu_dev *dev;

		rc = iommu_user_array_get(
			a, IONEST_MOCK_INVALIDATE_VIOMMU, i, &inv, sizeof(inv),
			offsetof(struct ionest_mock_viommu_invalidate,
				 __reserved));
		if (!rc)
			rc = inv_check(inv.flags, inv.__reserved, inv.iova,
				       inv.length);
		if (rc)
			break;
		/* The guest names the device by its virtual ID. */
		dev = iommufd_viommu_find_dev(v, inv.virt_id);
		if (!dev) {
			rc = -EINVAL;
			break;
		}
		m.sid = dev->rid;
		inv_range(&m, inv.flags, inv.iova, inv.length);
		if (hw_tlb_invalidate(&mh->tlb, &m))
			hw_count(&mh->base, hw_invalidation);
	}
	inflight_wait();
	a->entry_num = i;
	return rc;
}

static int viommu_vdevice_init(struct iommu_vdevice *vd)
{
	/* Mock virtual IDs are 32-bit, like a vSID. */
	return vd->virt_id > UINT32_MAX ? -EINVAL : 0;
}

static const struct iommu_viommu_ops mock_viommu_ops = {
	.destroy = viommu_destroy,
	.alloc_domain_nested = viommu_alloc_domain_nested,
	.cache_invalidate = viommu_cache_invalidate,
	.hw_queue_data_type = IONEST_MOCK_INVALIDATE_VIOMMU,
	.hw_queue_entry_len = sizeof(struct ionest_mock_viommu_invalidate),
	.vdevice_init = viommu_vdevice_init,
};

bool mock_viommu_supported(struct iommu_dev *dev, uint32_t type)
{
	return type == IONEST_MOCK_VIOMMU;
}

int mock_viommu_alloc(struct iommu_dev *dev, struct iommu_domain *parent,
		      uint32_t type, struct iommu_user_data *data,
		      struct iommu_viommu **out)
{
	struct ionest_mock_viommu_data vd = { 0 };
	struct mock_viommu *v;
	int rc;

	if (type != IONEST_MOCK_VIOMMU)
		return -EOPNOTSUPP;
	if (parent->inst != dev->inst ||
	    !(parent->flags & IOMMU_DOMAIN_F_NEST_PARENT))
		return -EINVAL;
	if (data) {
		rc = iommu_user_data_get(data, IONEST_MOCK_VIOMMU, &vd,
					 sizeof(vd), sizeof(vd.flags));
		if (rc)
			return rc;
		if (vd.flags)
			return -EOPNOTSUPP;
	}
	v = xzalloc(sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->base.ops = &mock_viommu_ops;
	v->base.inst = dev->inst;
	v->base.parent = parent;
	v->base.type = type;
	v->parent = to_mock_dom(parent);
	if (data) {
		size_t n = data->len < sizeof(vd) ? data->len : sizeof(vd);

		vd.out_vmid = v->parent->tag;
		memcpy(data->data, &vd, n);
		data->out_len = (uint32_t)n;
	}
	*out = &v->base;
	return 0;
}
