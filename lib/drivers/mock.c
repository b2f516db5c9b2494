// SPDX-License-Identifier: MIT
/*
 * The mock IOMMU: a hardware model with no registers and its driver, in one
 * file because neither exists without the other. Domains are VT-d
 * second-stage format tables (lib/pt, with A/D bits when dirty tracking is
 * possible); a device's RID and PASIDs point at domains through tables the
 * DMA path reads without locks; translation is a pt_walk. Nesting (nested
 * domains, the vIOMMU, events, page requests) is in mock_nested.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <ionest/ionest.h>
#include <ionest/uapi/iommufd.h>

#include "drivers/driver.h"
#include "drivers/inflight.h"
#include "drivers/mock.h"
#include "hw/hw.h"
#include "hw/tlb.h"
#include "util/alloc.h"

#define MOCK_DEF_PGSIZES ((1ull << 12) | (1ull << 21) | (1ull << 30))
#define MOCK_DEF_MSI_START 0x8000000ull
#define MOCK_DEF_MSI_LAST 0x80fffffull

static struct mock_dev *sid_lookup(struct mock_hw *mh, uint32_t sid)
{
	struct mock_dev **l2;

	if (sid >> MOCK_SID_BITS)
		return NULL;
	l2 = __atomic_load_n(&mh->sid_l1[sid >> 8], __ATOMIC_ACQUIRE);
	if (!l2)
		return NULL;
	return __atomic_load_n(&l2[sid & 0xff], __ATOMIC_ACQUIRE);
}

static struct mock_domain *pasid_lookup(struct mock_dev *md, uint32_t pasid)
{
	struct mock_pasid_tab *t =
		__atomic_load_n(&md->pasids, __ATOMIC_ACQUIRE);
	unsigned lo = 0, hi;

	if (!t)
		return NULL;
	hi = t->n;
	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;

		if (t->e[mid].pasid == pasid)
			return __atomic_load_n(&t->e[mid].dom,
					       __ATOMIC_ACQUIRE);
		if (t->e[mid].pasid < pasid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* ---- The model ---- */

static int mock_mmio_read(struct ionest_hw *hw, uint64_t off, unsigned size,
			  uint64_t *val)
{
	*val = 0; /* no registers: RAZ/WI */
	return 0;
}

static int mock_mmio_write(struct ionest_hw *hw, uint64_t off, unsigned size,
			   uint64_t val)
{
	return 0;
}

void mock_fault(struct ionest_hw *hw, const struct ionest_xlate_req *req,
		struct ionest_xlate_res *res, uint32_t code)
{
	res->status = IONEST_XLATE_FAULT;
	res->fault = code;
	res->fault_addr = req->iova;
	hw_count(hw, hw_fault);
	trace_hw_translate_fault(hw->id, req->sid,
				 req->ssid_valid ? req->ssid : IONEST_NO_PASID,
				 req->iova, code);
}

void mock_hit(const struct ionest_xlate_req *req, struct ionest_xlate_res *res,
	      uint64_t pa_block, unsigned shift, uint32_t perm)
{
	uint64_t mask = (1ull << shift) - 1;

	res->status = IONEST_XLATE_OK;
	res->perm = perm | (req->access & IONEST_ACCESS_PRIV);
	res->addr = pa_block | (req->iova & mask);
	res->size = 1ull << shift;
}

/* The walk, on an IOTLB miss (kept out of line: the hit path stays
 * small). */
static __attribute__((noinline)) int
mock_translate_miss(struct mock_hw *mh, const struct ionest_xlate_req *req,
		    struct ionest_xlate_res *res, uint32_t need)
{
	struct ionest_hw *hw = &mh->base;
	struct mock_domain *dom;
	struct hw_tlb_entry te;
	struct mock_dev *md;
	struct pt_walk w;
	unsigned flags = 0;
	uint32_t got = 0;
	uint64_t gen;

	memset(res, 0, sizeof(*res));
	hw_count(hw, hw_tlb_miss);
	/* Before reading the attachment: a fill that raced with an
	 * invalidation is refused. */
	gen = hw_tlb_gen(&mh->tlb);

	md = sid_lookup(mh, req->sid);
	if (!md) {
		mock_fault(hw, req, res, IONEST_MOCK_FAULT_NO_DEVICE);
		return 0;
	}
	if (req->ssid_valid) {
		if (req->ssid >= md->dev->max_pasids) {
			mock_fault(hw, req, res, IONEST_MOCK_FAULT_BAD_PASID);
			return 0;
		}
		dom = pasid_lookup(md, req->ssid);
		/* A guest-owned PASID table: the PASID is the nested
		 * domain's business (its stage 1 serves every PASID). */
		if (!dom && mh->cfg.user_pasid_table) {
			dom = __atomic_load_n(&md->rid_dom, __ATOMIC_ACQUIRE);
			if (dom && dom->base.type != IOMMU_DOMAIN_NESTED)
				dom = NULL;
		}
	} else {
		dom = __atomic_load_n(&md->rid_dom, __ATOMIC_ACQUIRE);
	}
	if (!dom) {
		mock_fault(hw, req, res, IONEST_MOCK_FAULT_BLOCKED);
		return 0;
	}
	/* Pairs with the store + inflight_wait in mock_unmap: either we see
	 * it, or the unmap waits for us to leave. The caller retries. */
	if (__builtin_expect(__atomic_load_n(&dom->draining, __ATOMIC_ACQUIRE),
			     0))
		return -EAGAIN;
	if (dom->base.type == IOMMU_DOMAIN_NESTED) {
		/* Stage 2 is the parent's tables: the same rule. */
		if (__atomic_load_n(&dom->parent->draining, __ATOMIC_ACQUIRE))
			return -EAGAIN;
		mock_nested_translate(mh, md, dom, req, res, need, gen);
		return 0;
	}
	if (req->iova < dom->base.aperture_start ||
	    req->iova > dom->base.aperture_last) {
		mock_fault(hw, req, res, IONEST_MOCK_FAULT_TRANSLATION);
		return 0;
	}
	bool tracking = __atomic_load_n(&dom->dirty_enabled, __ATOMIC_RELAXED);

	if ((req->access & IONEST_ACCESS_WRITE) && tracking)
		flags = PT_WALK_SET_DIRTY | PT_WALK_SET_AF;
	w.rec = NULL;
	hw_count(hw, hw_walk);
	if (pt_walk(&dom->pt, req->iova, flags, &w)) {
		/* Not present: a page request for a PRI device whose domain
		 * takes I/O page faults. */
		if (w.fault == PT_FAULT_TRANSLATION &&
		    mock_page_request(mh, md, dom, req, res))
			return 0;
		mock_fault(hw, req, res,
			   w.fault == PT_FAULT_TRANSLATION ?
				   IONEST_MOCK_FAULT_TRANSLATION :
				   IONEST_MOCK_FAULT_TABLE);
		return 0;
	}
	if (w.perm & PT_PERM_R)
		got |= IONEST_ACCESS_READ;
	if (w.perm & PT_PERM_W)
		got |= IONEST_ACCESS_WRITE;
	if ((got & need) != need) {
		mock_fault(hw, req, res, IONEST_MOCK_FAULT_PERMISSION);
		return 0;
	}
	mock_hit(req, res, w.oa & ~((1ull << w.leaf_shift) - 1), w.leaf_shift,
		 got | ((got & IONEST_ACCESS_READ) ? IONEST_ACCESS_EXEC : 0));
	/* Cache it; under dirty tracking a clean page is cached without
	 * write, so the first write walks and sets D, as hardware does. */
	te = (struct hw_tlb_entry){
		.va = req->iova & ~((1ull << w.leaf_shift) - 1),
		.pa = w.oa & ~((1ull << w.leaf_shift) - 1),
		.sid = req->sid,
		.ssid = mock_tlb_ssid(req),
		.dom = dom->tag,
		.shift = w.leaf_shift,
		.flags = (uint8_t)res->perm & 7u,
	};
	if (tracking && !(w.perm & PT_PERM_DIRTY))
		te.flags &= (uint8_t)~IONEST_ACCESS_WRITE;
	hw_tlb_insert(&mh->tlb, &te, gen);
	return 0;
}

static int mock_translate(struct ionest_hw *hw,
			  const struct ionest_xlate_req *req,
			  struct ionest_xlate_res *res)
{
	struct mock_hw *mh = to_mock_hw(hw);
	uint32_t need =
		req->access &
		(IONEST_ACCESS_READ | IONEST_ACCESS_WRITE | IONEST_ACCESS_EXEC);
	uint64_t pa;
	unsigned shift;
	uint32_t fl;

	if (__builtin_expect(
		    (req->access &
		     ~(uint32_t)(IONEST_ACCESS_READ | IONEST_ACCESS_WRITE |
				 IONEST_ACCESS_EXEC | IONEST_ACCESS_PRIV)) ||
			    (req->sid >> MOCK_SID_BITS),
		    0))
		return -EINVAL;
	hw_count(hw, hw_translate);
	/* An instruction fetch is a read of the page for this model. */
	if (need & IONEST_ACCESS_EXEC)
		need = (need & ~(uint32_t)IONEST_ACCESS_EXEC) |
		       IONEST_ACCESS_READ;

	/* IOTLB: entries only exist for valid (RID, PASID, domain) triples;
	 * one lacking a permission (e.g. write to a clean page under dirty
	 * tracking) falls back to the walk. */
	if (__builtin_expect(hw_tlb_find(&mh->tlb, req->sid, mock_tlb_ssid(req),
					 req->iova, &pa, &shift, &fl),
			     1) &&
	    (fl & need) == need) {
		hw_count(hw, hw_tlb_hit);
		res->fault = 0;
		res->recorded = false;
		res->stage2 = false;
		res->stag = 0;
		res->fault_addr = 0;
		mock_hit(req, res, pa, shift, fl & 7u);
		return 0;
	}
	return mock_translate_miss(mh, req, res, need);
}

/*
 * The DMA hit rule (struct hw_dma_rule): mock_translate's hit branch for a
 * plain read or write. Translation is always on; a TLB entry exists only
 * for a (SID, PASID) mock_translate accepted and the probe compares the
 * whole key, so a hit vouches for the stream.
 */
static const uint32_t mock_always_on = 1;

static bool mock_dma_serves(uint32_t flags, uint32_t access, bool pasid)
{
	return (flags & access) == access;
}

/* Drop cached translations, then wait out DMA that may still use them. */
void mock_tlb_inv(struct mock_hw *mh, const struct hw_tlb_match *m)
{
	if (hw_tlb_invalidate(&mh->tlb, m))
		hw_count(&mh->base, hw_invalidation);
	inflight_wait();
}

static void tlb_inv_dom(struct mock_hw *mh, uint16_t tag, uint64_t start,
			uint64_t last, bool range)
{
	struct hw_tlb_match m = {
		.fields = HW_TLB_M_DOM | (range ? HW_TLB_M_RANGE : 0),
		.dom = tag,
		.va_start = start,
		.va_last = last,
	};

	mock_tlb_inv(mh, &m);
}

static void tlb_inv_stream(struct mock_hw *mh, uint32_t sid, uint32_t ssid,
			   bool all_ssids)
{
	struct hw_tlb_match m = {
		.fields = HW_TLB_M_SID | (all_ssids ? 0 : HW_TLB_M_SSID),
		.sid = sid,
		.ssid = ssid,
	};

	mock_tlb_inv(mh, &m);
}

static void mock_flush_caches(struct ionest_hw *hw)
{
	hw_tlb_flush(&to_mock_hw(hw)->tlb);
}

/* Nested domains walk their stage 1 through the parent (mock_nested.c). */
static bool mock_can_nest(const struct ionest_hw *hw)
{
	return true;
}

static void mock_hw_free(struct ionest_hw *hw)
{
	struct mock_hw *mh = to_mock_hw(hw);

	for (unsigned i = 0; i < (1u << (MOCK_SID_BITS - 8)); i++)
		xfree(mh->sid_l1[i]);
	hw_tlb_fini(&mh->tlb);
	hw_fini(hw);
	xfree(mh);
}

static const struct hw_ops mock_hw_ops = {
	.model = "mock",
	.mmio_read = mock_mmio_read,
	.mmio_write = mock_mmio_write,
	.translate = mock_translate,
	.flush_caches = mock_flush_caches,
	.can_nest = mock_can_nest,
	.free = mock_hw_free,
};

static uint8_t cfg_val(uint8_t field, uint8_t def)
{
	return field ? (uint8_t)(field - 1) : def;
}

IONEST_API struct ionest_hw *
ionest_mock_iommu_new(const struct ionest_mock_config *cfg)
{
	struct ionest_mock_config c = { 0 };
	struct mock_hw *mh;

	if (cfg)
		c = *cfg;
	if (!c.aperture_start && !c.aperture_last)
		c.aperture_last = (1ull << MOCK_IAS) - 1;
	if (c.aperture_start > c.aperture_last)
		return NULL;
	if (!c.pgsize_bitmap)
		c.pgsize_bitmap = MOCK_DEF_PGSIZES;
	if (!c.msi_start && !c.msi_last) {
		c.msi_start = MOCK_DEF_MSI_START;
		c.msi_last = MOCK_DEF_MSI_LAST;
	}
	if (!c.no_msi && c.msi_start > c.msi_last)
		return NULL;
	mh = xzalloc(sizeof(*mh));
	if (!mh)
		return NULL;
	mh->cfg = c;
	if (hw_tlb_init(&mh->tlb, 4096)) {
		xfree(mh);
		return NULL;
	}
	mh->pasid_bits = cfg_val(c.pasid_bits, 20);
	if (mh->pasid_bits > 20)
		mh->pasid_bits = 20;
	mh->dirty = cfg_val(c.dirty, 1);
	mh->ats = cfg_val(c.ats, 1);
	hw_init(&mh->base, &mock_hw_ops, "mock");
	/* The entry's flags are the permissions granted. */
	hw_dma_rule_set(&mh->base, &mh->tlb, &mock_always_on, 1, 1,
			IONEST_ACCESS_READ, IONEST_ACCESS_WRITE, 0,
			mock_dma_serves);
	return &mh->base;
}

/* ---- The driver ---- */

static int mock_init(struct iommu_inst *inst)
{
	inst->priv = to_mock_hw(inst->hw);
	inst->user_pasid_table = to_mock_hw(inst->hw)->cfg.user_pasid_table;
	return 0;
}

static void mock_fini(struct iommu_inst *inst)
{
	inst->priv = NULL;
}

static int mock_probe_device(struct iommu_inst *inst, struct iommu_dev *dev)
{
	struct mock_hw *mh = inst->priv;
	struct mock_dev **l2, *md;
	int rc = 0;

	if (dev->rid >> MOCK_SID_BITS)
		return -EINVAL;
	md = xzalloc(sizeof(*md));
	if (!md)
		return -ENOMEM;
	md->dev = dev;
	pthread_mutex_lock(&inst->lock);
	l2 = mh->sid_l1[dev->rid >> 8];
	if (!l2) {
		l2 = xcalloc(256, sizeof(*l2));
		if (!l2) {
			rc = -ENOMEM;
			goto out;
		}
		__atomic_store_n(&mh->sid_l1[dev->rid >> 8], l2,
				 __ATOMIC_RELEASE);
	}
	if (l2[dev->rid & 0xff]) {
		rc = -EEXIST;
		goto out;
	}
	if (dev->pasid_bits && mh->pasid_bits) {
		unsigned bits = dev->pasid_bits < mh->pasid_bits ?
					dev->pasid_bits :
					mh->pasid_bits;

		dev->max_pasids = 1u << bits;
	}
	dev->ats_usable = dev->ats && mh->ats;
	dev->dirty_capable = mh->dirty;
	dev->coherent = true;
	dev->priv = md;
	__atomic_store_n(&l2[dev->rid & 0xff], md, __ATOMIC_RELEASE);
out:
	pthread_mutex_unlock(&inst->lock);
	if (rc)
		xfree(md);
	return rc;
}

static void mock_release_device(struct iommu_dev *dev)
{
	struct mock_hw *mh = dev->inst->priv;
	struct mock_dev *md = dev->priv;

	if (!md)
		return;
	pthread_mutex_lock(&dev->inst->lock);
	__atomic_store_n(&mh->sid_l1[dev->rid >> 8][dev->rid & 0xff], NULL,
			 __ATOMIC_RELEASE);
	pthread_mutex_unlock(&dev->inst->lock);
	tlb_inv_stream(mh, dev->rid, 0, true);
	xfree(md->pasids);
	xfree(md);
	dev->priv = NULL;
}

static int mock_hw_info(struct iommu_dev *dev, uint32_t req_type,
			struct iommu_hw_info_out *out)
{
	/* No vendor data: the mock reports IOMMU_HW_INFO_TYPE_NONE and knows
	 * no other type to be asked for. */
	if (req_type != IOMMU_HW_INFO_TYPE_DEFAULT)
		return -EOPNOTSUPP;
	out->type = IOMMU_HW_INFO_TYPE_NONE;
	out->len = 0;
	return 0;
}

static void mock_set_rid(struct iommu_dev *dev, struct mock_domain *d)
{
	struct mock_dev *md = dev->priv;

	__atomic_store_n(&md->rid_dom, d, __ATOMIC_RELEASE);
	/* Nothing cached or in flight uses the old attachment after this. */
	tlb_inv_stream(dev->inst->priv, dev->rid, 0, false);
}

int mock_attach_dev(struct iommu_domain *d, struct iommu_dev *dev)
{
	if (d->inst != dev->inst)
		return -EINVAL;
	if ((d->flags & IOMMU_DOMAIN_F_DIRTY) && !dev->dirty_capable)
		return -EINVAL;
	mock_set_rid(dev, to_mock_dom(d));
	return 0;
}

int mock_set_dev_pasid(struct iommu_domain *d, struct iommu_dev *dev,
		       uint32_t pasid)
{
	struct mock_dev *md = dev->priv;
	struct mock_pasid_tab *old = md->pasids, *t;
	unsigned n = 0, i, j;

	if (d->inst != dev->inst || pasid >= dev->max_pasids)
		return -EINVAL;
	if ((d->flags & IOMMU_DOMAIN_F_DIRTY) && !dev->dirty_capable)
		return -EINVAL;
	/* Replace in place when the PASID already has a slot. */
	for (i = 0; old && i < old->n; i++) {
		if (old->e[i].pasid == pasid) {
			__atomic_store_n(&old->e[i].dom, to_mock_dom(d),
					 __ATOMIC_RELEASE);
			tlb_inv_stream(dev->inst->priv, dev->rid,
				       pasid | HW_TLB_SSID_VALID, false);
			return 0;
		}
		if (old->e[i].dom)
			n++;
	}
	/* Build a new table without removed slots, plus this PASID. */
	t = xmalloc(sizeof(*t) + (n + 1) * sizeof(t->e[0]));
	if (!t)
		return -ENOMEM;
	for (i = 0, j = 0; old && i < old->n; i++) {
		if (old->e[i].dom)
			t->e[j++] = old->e[i];
	}
	/* insert sorted */
	for (i = j; i > 0 && t->e[i - 1].pasid > pasid; i--)
		t->e[i] = t->e[i - 1];
	t->e[i].pasid = pasid;
	t->e[i].dom = to_mock_dom(d);
	t->n = j + 1;
	__atomic_store_n(&md->pasids, t, __ATOMIC_RELEASE);
	tlb_inv_stream(dev->inst->priv, dev->rid, pasid | HW_TLB_SSID_VALID,
		       false);
	xfree(old);
	return 0;
}

static int mock_attach_blocked(struct iommu_dev *dev)
{
	mock_set_rid(dev, NULL);
	return 0;
}

static void mock_remove_dev_pasid(struct iommu_dev *dev, uint32_t pasid)
{
	struct mock_dev *md = dev->priv;
	struct mock_pasid_tab *t = md->pasids;

	for (unsigned i = 0; t && i < t->n; i++) {
		if (t->e[i].pasid == pasid) {
			__atomic_store_n(&t->e[i].dom, NULL, __ATOMIC_RELEASE);
			tlb_inv_stream(dev->inst->priv, dev->rid,
				       pasid | HW_TLB_SSID_VALID, false);
			return;
		}
	}
}

static int mock_get_resv_regions(struct iommu_dev *dev,
				 struct iommu_resv_region *out)
{
	struct mock_hw *mh = dev->inst->priv;

	if (mh->cfg.no_msi)
		return 0;
	out[0].start = mh->cfg.msi_start;
	out[0].last = mh->cfg.msi_last;
	out[0].type = IOMMU_RESV_SW_MSI;
	return 1;
}

static uint32_t mock_pt_prot(uint32_t prot)
{
	return ((prot & IOMMU_PROT_READ) ? PT_PROT_READ : 0) |
	       ((prot & IOMMU_PROT_WRITE) ? PT_PROT_WRITE : 0);
}

static int mock_map(struct iommu_domain *d, uint64_t iova, uint64_t pa,
		    uint64_t size, uint32_t prot, uint64_t pgsize_bitmap)
{
	struct mock_domain *md = to_mock_dom(d);
	uint64_t sizes = pt_leaf_sizes(&md->pt) & d->pgsize_bitmap;

	if (pgsize_bitmap)
		sizes &= pgsize_bitmap;
	if (!sizes)
		return -EINVAL;
	if (iova < d->aperture_start || iova + (size - 1) > d->aperture_last ||
	    iova + (size - 1) < iova)
		return -EINVAL;
	return pt_map(&md->pt, iova, pa, size, mock_pt_prot(prot), sizes);
}

static int mock_unmap(struct iommu_domain *d, uint64_t iova, uint64_t size,
		      struct iommu_gather *g, uint64_t *unmapped)
{
	struct mock_domain *md = to_mock_dom(d);
	int rc = pt_unmap(&md->pt, iova, size, 0, &g->pt, unmapped);

	if (rc == -ENOMEM) {
		/*
		 * No memory to defer freeing the emptied tables until
		 * iotlb_sync. An unmap must not fail, so free them now, with
		 * DMA kept out of this domain meanwhile: translations retry
		 * (-EAGAIN) until the tables are consistent again.
		 */
		__atomic_store_n(&md->draining, true, __ATOMIC_SEQ_CST);
		inflight_wait();
		rc = pt_unmap(&md->pt, iova, size, 0, NULL, unmapped);
		__atomic_store_n(&md->draining, false, __ATOMIC_RELEASE);
	}
	if (rc)
		return rc;
	iommu_gather_add_range(g, iova, size);
	return 0;
}

static void mock_iotlb_sync(struct iommu_domain *d, struct iommu_gather *g)
{
	struct mock_domain *md = to_mock_dom(d);

	/* Drop the IOTLB entries, wait for DMA in flight, then the old
	 * tables can go (the CMD_SYNC / wait descriptor of real parts). */
	if (g->pending) {
		tlb_inv_dom(d->inst->priv, md->tag, g->start, g->last, true);
		/* Nested entries are keyed by stage-1 address: a stage-2
		 * change drops them all (as a VMID-wide S2 invalidation). */
		if (d->flags & IOMMU_DOMAIN_F_NEST_PARENT) {
			struct hw_tlb_match m = {
				.fields = HW_TLB_M_DOM | HW_TLB_M_FLAGS,
				.dom = md->tag,
				.flags_any = HW_TLB_S1,
			};

			mock_tlb_inv(d->inst->priv, &m);
		}
	} else {
		inflight_wait();
	}
	pt_gather_release(&md->pt, &g->pt);
	g->pending = false;
}

static int mock_set_dirty_tracking(struct iommu_domain *d, bool enable)
{
	__atomic_store_n(&to_mock_dom(d)->dirty_enabled, enable,
			 __ATOMIC_RELAXED);
	/* Cached writable entries would skip the dirty update. */
	tlb_inv_dom(d->inst->priv, to_mock_dom(d)->tag, 0, 0, false);
	return 0;
}

static int mock_read_and_clear_dirty(struct iommu_domain *d, uint64_t iova,
				     uint64_t size, uint64_t *bitmap,
				     bool no_clear)
{
	return pt_read_and_clear_dirty(&to_mock_dom(d)->pt, iova, size, 4096,
				       bitmap, no_clear);
}

static void mock_domain_free(struct iommu_domain *d)
{
	struct mock_domain *md = to_mock_dom(d);

	tlb_inv_dom(d->inst->priv, md->tag, 0, 0, false);
	pt_destroy(&md->pt);
	xfree(md);
}

static const struct iommu_domain_ops mock_paging_ops = {
	.attach_dev = mock_attach_dev,
	.set_dev_pasid = mock_set_dev_pasid,
	.map = mock_map,
	.unmap = mock_unmap,
	.iotlb_sync = mock_iotlb_sync,
	.set_dirty_tracking = mock_set_dirty_tracking,
	.read_and_clear_dirty = mock_read_and_clear_dirty,
	.free = mock_domain_free,
};

static int mock_domain_alloc_paging(struct iommu_dev *dev, uint32_t flags,
				    struct iommu_domain **out)
{
	struct mock_hw *mh = dev->inst->priv;
	struct mock_domain *md;
	struct pt_cfg cfg = {
		.fmt = PT_FMT_VTD_SS,
		.granule_shift = 12,
		.ias = MOCK_IAS,
		.oas = MOCK_OAS,
		.start_level = -1,
		.pgsize_bitmap = MOCK_DEF_PGSIZES,
	};
	int rc;

	if (flags & ~(uint32_t)(IOMMU_DOMAIN_F_NEST_PARENT |
				IOMMU_DOMAIN_F_DIRTY | IOMMU_DOMAIN_F_PASID))
		return -EOPNOTSUPP;
	if ((flags & IOMMU_DOMAIN_F_DIRTY) && !mh->dirty)
		return -EOPNOTSUPP;
	md = xzalloc(sizeof(*md));
	if (!md)
		return -ENOMEM;
	if (mh->dirty)
		cfg.flags |= PT_CFG_AD;
	rc = pt_init(&md->pt, &cfg, (struct pt_mem){ 0 });
	if (rc) {
		xfree(md);
		return rc;
	}
	md->tag = mock_new_tag(mh);
	md->base.type = IOMMU_DOMAIN_PAGING;
	md->base.ops = &mock_paging_ops;
	md->base.inst = dev->inst;
	md->base.flags = flags;
	md->base.pgsize_bitmap = mh->cfg.pgsize_bitmap;
	md->base.aperture_start = mh->cfg.aperture_start;
	md->base.aperture_last = mh->cfg.aperture_last;
	if (md->base.aperture_last > (1ull << MOCK_IAS) - 1)
		md->base.aperture_last = (1ull << MOCK_IAS) - 1;
	md->base.has_dirty_ops = mh->dirty;
	md->base.enforce_cache_coherency = true;
	*out = &md->base;
	return 0;
}

const struct iommu_driver mock_driver = {
	.model = "mock",
	.init = mock_init,
	.fini = mock_fini,
	.probe_device = mock_probe_device,
	.release_device = mock_release_device,
	.hw_info = mock_hw_info,
	.domain_alloc_paging = mock_domain_alloc_paging,
	.attach_blocked = mock_attach_blocked,
	.remove_dev_pasid = mock_remove_dev_pasid,
	.get_resv_regions = mock_get_resv_regions,
	.domain_alloc_nested = mock_domain_alloc_nested,
	.viommu_supported = mock_viommu_supported,
	.viommu_alloc = mock_viommu_alloc,
	.page_response = mock_page_response,
};
