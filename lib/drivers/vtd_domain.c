// SPDX-License-Identifier: MIT
/*
 * Paging domains: VT-d second-stage tables (vtd.md §6) built with lib/pt,
 * tagged with a domain ID, attached to a device's RID (PASID entry
 * RID_PASID) or to its PASIDs, with dirty tracking through SSADE.
 *
 * Table memory comes from the pre-faulted page-table pool (lib/pt), below
 * 2^HAW. A table an unmap empties stays readable until the IOTLB and the
 * paging- structure caches were invalidated and DMA in flight drained
 * (iotlb_sync): it goes on a list linked through its first word, a 4K-aligned
 * address, which the hardware reads as a not-present entry (R = W = X = 0). So
 * unmap allocates nothing and cannot fail for lack of memory.
 *
 * Invalidation after unmap (vtd.md §7-§8): second-stage entries are
 * tagged by DID, so IOTLB invalidation by DID, page-selective (IH when
 * only leaves changed) or domain-selective; then the device-TLB of every
 * ATS device attached, then a wait; then DMA in flight is waited for,
 * then the freed tables go.
 */
#include <errno.h>
#include <string.h>
#include <ionest/ionest.h>

#include "drivers/inflight.h"
#include "drivers/vtd.h"
#include "util/alloc.h"

static struct vtd_dom *to_dom(struct iommu_domain *d)
{
	return (struct vtd_dom *)d;
}

/* ---- domain IDs (CAP.ND: 2^(4 + 2 ND) of them; DID 0 is not used) ---- */

int vtd_did_init(struct vtd_inst *vi)
{
	vi->did_map = xcalloc((vi->ndoms + 63) / 64, sizeof(uint64_t));
	if (!vi->did_map)
		return -ENOMEM;
	vi->did_map[0] = 1;
	return 0;
}

void vtd_did_fini(struct vtd_inst *vi)
{
	xfree(vi->did_map);
	vi->did_map = NULL;
}

int vtd_did_alloc(struct vtd_inst *vi, uint16_t *did)
{
	for (unsigned w = 0; w < (vi->ndoms + 63) / 64; w++) {
		unsigned b;

		if (vi->did_map[w] == ~0ull)
			continue;
		b = (unsigned)__builtin_ctzll(~vi->did_map[w]);
		if (w * 64 + b >= vi->ndoms)
			break;
		vi->did_map[w] |= 1ull << b;
		*did = (uint16_t)(w * 64 + b);
		return 0;
	}
	return -ENOSPC;
}

void vtd_did_free(struct vtd_inst *vi, uint16_t did)
{
	vi->did_map[did / 64] &= ~(1ull << (did % 64));
}

/* ---- table memory ---- */

static void *dom_table(void *ctx, uint64_t pa, size_t size, bool write)
{
	(void)ctx;
	(void)size;
	(void)write;
	return (void *)(uintptr_t)pa;
}

static int dom_table_alloc(void *ctx, size_t size, uint64_t *pa)
{
	struct vtd_dom *dom = ctx;
	void *p = pt_pool_alloc(size);
	uint64_t last = (uint64_t)(uintptr_t)p + size - 1;

	if (!p)
		return -ENOMEM;
	/* Table pointers hold HAW bits. */
	if (dom->vi->haw < 64 && (last >> dom->vi->haw)) {
		pt_pool_free(p, size);
		return -ENOMEM;
	}
	*pa = (uint64_t)(uintptr_t)p;
	return 0;
}

static void dom_table_free(void *ctx, uint64_t pa, size_t size)
{
	struct vtd_dom *dom = ctx;
	uint64_t *t = (uint64_t *)(uintptr_t)pa;

	if (dom->destroying) {
		memset(t, 0, size);
		pt_pool_free(t, size);
		return;
	}
	/* Second-stage tables are all one page (vtd.md §6). The link is
	 * 4K-aligned: bits 2:0 (X, W, R) clear, so not present. */
	__atomic_store_n(&t[0], dom->deferred, __ATOMIC_RELEASE);
	dom->deferred = pa;
	dom->freed = true;
}

static const struct pt_mem_ops dom_mem_ops = {
	.table = dom_table,
	.alloc = dom_table_alloc,
	.free = dom_table_free,
};

/* Free the deferred tables: the caches were invalidated and DMA in
 * flight drained since they were unlinked. */
static void release_deferred(struct vtd_dom *dom)
{
	while (dom->deferred) {
		uint64_t *t = (uint64_t *)(uintptr_t)dom->deferred;

		dom->deferred = t[0];
		t[0] = 0; /* the pool takes zeroed tables */
		pt_pool_free(t, 4096);
	}
	dom->freed = false;
}

/* ---- attachments (inst->lock held) ---- */

static int att_reserve(struct vtd_dom *dom)
{
	struct vtd_att *n;
	unsigned cap;

	if (dom->natt < dom->att_cap)
		return 0;
	cap = dom->att_cap ? dom->att_cap * 2 : 4;
	n = xrealloc(dom->att, cap * sizeof(*n));
	if (!n)
		return -ENOMEM;
	dom->att = n;
	dom->att_cap = cap;
	return 0;
}

static void att_add(struct vtd_dom *dom, struct vtd_dev *vd, uint32_t pasid)
{
	dom->att[dom->natt++] = (struct vtd_att){ vd, pasid };
}

static void att_del(struct vtd_dom *dom, struct vtd_dev *vd, uint32_t pasid)
{
	for (unsigned i = 0; i < dom->natt; i++) {
		if (dom->att[i].vd == vd && dom->att[i].pasid == pasid) {
			dom->att[i] = dom->att[--dom->natt];
			return;
		}
	}
}

static int pas_find(const struct vtd_dev *vd, uint32_t pasid)
{
	for (unsigned i = 0; i < vd->npas; i++)
		if (vd->pas[i].pasid == pasid)
			return (int)i;
	return -1;
}

static int pas_reserve(struct vtd_dev *vd)
{
	struct vtd_pas *n;
	unsigned cap;

	if (vd->npas < vd->pas_cap)
		return 0;
	cap = vd->pas_cap ? vd->pas_cap * 2 : 4;
	n = xrealloc(vd->pas, cap * sizeof(*n));
	if (!n)
		return -ENOMEM;
	vd->pas = n;
	vd->pas_cap = cap;
	return 0;
}

/* ---- attach / detach ---- */

/* A shadow domain's misses go through the driver (vtd_shadow.c); the
 * hook stays for the device's life once set (it passes other requests
 * through). */
static void shadow_hook(struct vtd_dom *dom, struct iommu_dev *dev)
{
	if (dom->sh)
		__atomic_store_n(&dev->drv_translate, vtd_shadow_translate,
				 __ATOMIC_RELEASE);
}

static int attach_check(struct vtd_dom *dom, struct iommu_dev *dev)
{
	if (dom->base.inst != dev->inst || !dev->priv)
		return -EINVAL;
	/* Dirty tracking needs SSADS on the device's IOMMU. */
	if ((dom->base.flags & IOMMU_DOMAIN_F_DIRTY) && !dev->dirty_capable)
		return -EINVAL;
	return 0;
}

int vtd_dom_attach_dev(struct iommu_domain *d, struct iommu_dev *dev)
{
	struct vtd_dom *dom = to_dom(d);
	struct vtd_dev *vd = dev->priv;
	int rc = attach_check(dom, dev);

	if (rc)
		return rc;
	if (vd->rid_dom == dom)
		return 0;
	pthread_mutex_lock(&dev->inst->lock);
	rc = att_reserve(dom);
	if (!rc) {
		if (d->iopf)
			vtd_dev_enable_pri(vd);
		shadow_hook(dom, dev);
		vtd_pe_install(vd, VTD_RID_PASID, dom);
		if (vd->rid_dom)
			att_del(vd->rid_dom, vd, VTD_RID_PASID);
		att_add(dom, vd, VTD_RID_PASID);
		vd->rid_dom = dom;
	}
	pthread_mutex_unlock(&dev->inst->lock);
	return rc;
}

int vtd_dom_set_dev_pasid(struct iommu_domain *d, struct iommu_dev *dev,
			  uint32_t pasid)
{
	struct vtd_dom *dom = to_dom(d);
	struct vtd_dev *vd = dev->priv;
	int rc = attach_check(dom, dev), i;

	if (rc)
		return rc;
	/* PASID 0 is the RID's entry (RID_PASID): not a PASID to attach. */
	if (pasid == VTD_RID_PASID || pasid >= dev->max_pasids)
		return -EINVAL;
	i = pas_find(vd, pasid);
	if (i >= 0 && vd->pas[i].dom == dom)
		return 0;
	pthread_mutex_lock(&dev->inst->lock);
	rc = att_reserve(dom);
	if (!rc && i < 0)
		rc = pas_reserve(vd);
	if (!rc)
		rc = vtd_pasid_table_get(vd, pasid);
	if (!rc) {
		if (d->iopf)
			vtd_dev_enable_pri(vd);
		shadow_hook(dom, dev);
		vtd_pe_install(vd, pasid, dom);
		if (i >= 0) {
			att_del(vd->pas[i].dom, vd, pasid);
			vd->pas[i].dom = dom;
		} else {
			vd->pas[vd->npas++] = (struct vtd_pas){ pasid, dom };
		}
		att_add(dom, vd, pasid);
	}
	pthread_mutex_unlock(&dev->inst->lock);
	return rc;
}

int vtd_attach_blocked(struct iommu_dev *dev)
{
	struct vtd_dev *vd = dev->priv;

	pthread_mutex_lock(&dev->inst->lock);
	vtd_pe_clear(vd, VTD_RID_PASID);
	if (vd->rid_dom)
		att_del(vd->rid_dom, vd, VTD_RID_PASID);
	vd->rid_dom = NULL;
	pthread_mutex_unlock(&dev->inst->lock);
	return 0;
}

void vtd_remove_dev_pasid(struct iommu_dev *dev, uint32_t pasid)
{
	struct vtd_dev *vd = dev->priv;
	int i = pas_find(vd, pasid);

	if (i < 0)
		return;
	pthread_mutex_lock(&dev->inst->lock);
	vtd_pe_clear(vd, pasid);
	att_del(vd->pas[i].dom, vd, pasid);
	vd->pas[i] = vd->pas[--vd->npas];
	pthread_mutex_unlock(&dev->inst->lock);
}

/* ---- map / unmap / sync ---- */

static uint32_t pt_prot(uint32_t prot)
{
	return ((prot & IOMMU_PROT_READ) ? PT_PROT_READ : 0) |
	       ((prot & IOMMU_PROT_WRITE) ? PT_PROT_WRITE : 0);
}

static int vtd_map(struct iommu_domain *d, uint64_t iova, uint64_t pa,
		   uint64_t size, uint32_t prot, uint64_t pgsize_bitmap)
{
	struct vtd_dom *dom = to_dom(d);
	uint64_t sizes = pt_leaf_sizes(&dom->pt) & d->pgsize_bitmap;
	int rc;

	if (pgsize_bitmap)
		sizes &= pgsize_bitmap;
	if (!sizes || !size || iova + (size - 1) < iova ||
	    iova < d->aperture_start || iova + (size - 1) > d->aperture_last)
		return -EINVAL;
	rc = pt_map(&dom->pt, iova, pa, size, pt_prot(prot), sizes);
	if (rc || !(dom->vi->cap & VTD_CAP_CM))
		return rc;
	/* Caching mode (CAP.CM): not-present entries may be cached too, so
	 * new mappings are invalidated like changed ones. */
	pthread_mutex_lock(&d->inst->lock);
	vtd_qi_iotlb_range(dom->vi, dom->did, iova, iova + size - 1, true);
	(void)vtd_qi_sync(dom->vi);
	pthread_mutex_unlock(&d->inst->lock);
	return 0;
}

static int vtd_unmap(struct iommu_domain *d, uint64_t iova, uint64_t size,
		     struct iommu_gather *g, uint64_t *unmapped)
{
	struct vtd_dom *dom = to_dom(d);
	int rc;

	/* Shadows of nested domains over this one first: nothing they
	 * composed from the range survives the unmap (vtd_shadow.c). */
	if (dom->children) {
		pthread_mutex_lock(&d->inst->lock);
		vtd_shadow_parent_begin(dom, iova, iova + (size - 1));
	}
	/* No gather: emptied tables are deferred by dom_table_free. */
	rc = pt_unmap(&dom->pt, iova, size, 0, NULL, unmapped);
	if (dom->children) {
		vtd_shadow_parent_end(dom);
		pthread_mutex_unlock(&d->inst->lock);
	}
	if (rc)
		return rc;
	iommu_gather_add_range(g, iova, size);
	return 0;
}

static void vtd_iotlb_sync(struct iommu_domain *d, struct iommu_gather *g)
{
	struct vtd_dom *dom = to_dom(d);
	struct vtd_inst *vi = dom->vi;

	if (g->pending || dom->deferred) {
		pthread_mutex_lock(&d->inst->lock);
		vtd_shadow_parent_sync(dom);
		if (g->pending)
			vtd_qi_iotlb_range(vi, dom->did, g->start, g->last,
					   !dom->freed);
		else
			vtd_qi_iotlb_dom(vi, dom->did);
		/* The DID-tagged invalidation also drops what nested
		 * domains over this one cached (same DID, vtd.md §7); their
		 * devices' TLBs hold guest addresses: all of them goes. */
		for (struct vtd_dom *n = dom; n;
		     n = n == dom ? dom->children : n->sibling) {
			for (unsigned i = 0; i < n->natt; i++) {
				struct vtd_att *a = &n->att[i];

				if (!a->vd->dev->ats_usable)
					continue;
				vtd_qi_devtlb(vi, (uint16_t)a->vd->dev->rid,
					      a->pasid != VTD_RID_PASID,
					      a->pasid, g->start, g->last,
					      n != dom || !g->pending);
			}
		}
		(void)vtd_qi_sync(vi);
		pthread_mutex_unlock(&d->inst->lock);
	}
	/* The wait descriptor completed: no new walk uses the old entries.
	 * Walks and data copies already under way finish first. */
	inflight_wait();
	vtd_shadow_parent_free(dom);
	release_deferred(dom);
	pt_gather_release(&dom->pt, &g->pt);
	g->pending = false;
}

/* ---- dirty tracking ---- */

static int vtd_set_dirty_tracking(struct iommu_domain *d, bool enable)
{
	struct vtd_dom *dom = to_dom(d);
	struct vtd_inst *vi = dom->vi;

	if (dom->dirty == enable)
		return 0;
	pthread_mutex_lock(&d->inst->lock);
	/* PASID entries attached from now on get the new SSADE too. */
	dom->dirty = enable;
	for (struct vtd_dom *n = dom; n;
	     n = n == dom ? dom->children : n->sibling)
		for (unsigned i = 0; !n->sh && i < n->natt; i++)
			vtd_pe_set_ssade(n->att[i].vd, n->att[i].pasid, enable);
	/* Shadows: writable entries now need the parent's D set first. */
	vtd_shadow_parent_resync(dom);
	(void)vtd_qi_sync(vi);
	pthread_mutex_unlock(&d->inst->lock);
	return 0;
}

static int vtd_read_and_clear_dirty(struct iommu_domain *d, uint64_t iova,
				    uint64_t size, uint64_t *bitmap,
				    bool no_clear)
{
	struct vtd_dom *dom = to_dom(d);
	int rc;

	/* The caller syncs the IOTLB afterwards: cached writable entries
	 * would skip setting D again. Writable shadow entries too: they
	 * go, and a write comes back through the fault path to set D. */
	if (!no_clear && dom->children) {
		pthread_mutex_lock(&d->inst->lock);
		vtd_shadow_parent_begin(dom, iova, iova + (size - 1));
	}
	rc = pt_read_and_clear_dirty(&dom->pt, iova, size, 4096, bitmap,
				     no_clear);
	if (!no_clear && dom->children) {
		vtd_shadow_parent_end(dom);
		pthread_mutex_unlock(&d->inst->lock);
	}
	return rc;
}

/* ---- lifetime ---- */

static void dom_destroy_tables(struct vtd_dom *dom)
{
	release_deferred(dom);
	dom->destroying = true;
	pt_destroy(&dom->pt);
}

static void vtd_domain_free(struct iommu_domain *d)
{
	struct vtd_dom *dom = to_dom(d);
	struct vtd_inst *vi = dom->vi;

	/* Nothing is attached: drop what the IOTLB holds for the DID
	 * before it is reused, and let DMA in flight finish. */
	pthread_mutex_lock(&d->inst->lock);
	vtd_qi_iotlb_dom(vi, dom->did);
	(void)vtd_qi_sync(vi);
	vtd_did_free(vi, dom->did);
	pthread_mutex_unlock(&d->inst->lock);
	inflight_wait();
	dom_destroy_tables(dom);
	xfree(dom->att);
	xfree(dom);
}

static const struct iommu_domain_ops vtd_paging_ops = {
	.attach_dev = vtd_dom_attach_dev,
	.set_dev_pasid = vtd_dom_set_dev_pasid,
	.map = vtd_map,
	.unmap = vtd_unmap,
	.iotlb_sync = vtd_iotlb_sync,
	.set_dirty_tracking = vtd_set_dirty_tracking,
	.read_and_clear_dirty = vtd_read_and_clear_dirty,
	.free = vtd_domain_free,
};

bool vtd_is_paging(const struct iommu_domain *d)
{
	return d->ops == &vtd_paging_ops;
}

static uint64_t ss_pgsizes(const struct vtd_inst *vi)
{
	unsigned sslps = VTD_CAP_SSLPS(vi->cap);

	/* CAP.SSLPS: bit 0 2M, bit 1 1G second-stage pages. */
	return (1ull << 12) | ((sslps & 1) ? 1ull << 21 : 0) |
	       ((sslps & 2) ? 1ull << 30 : 0);
}

int vtd_domain_alloc_paging(struct iommu_dev *dev, uint32_t flags,
			    struct iommu_domain **out)
{
	struct vtd_inst *vi = to_vi(dev->inst);
	unsigned width = vi->agaw_bits < vi->haw ? vi->agaw_bits : vi->haw;
	struct pt_cfg cfg = {
		.fmt = PT_FMT_VTD_SS,
		.granule_shift = 12,
		.ias = (uint8_t)vi->agaw_bits,
		.oas = (uint8_t)(vi->haw > 52 ? 52 : vi->haw),
		.start_level = -1,
		.pgsize_bitmap = ss_pgsizes(vi),
	};
	struct vtd_dom *dom;
	int rc;

	if (flags & ~(uint32_t)(IOMMU_DOMAIN_F_NEST_PARENT |
				IOMMU_DOMAIN_F_DIRTY | IOMMU_DOMAIN_F_PASID))
		return -EOPNOTSUPP;
	if ((flags & IOMMU_DOMAIN_F_DIRTY) && !(vi->ecap & VTD_ECAP_SSADS))
		return -EOPNOTSUPP;
	/* A nest parent is only useful on a part that nests, or under
	 * software nesting (which needs the first stage). */
	if ((flags & IOMMU_DOMAIN_F_NEST_PARENT) &&
	    !(vi->ecap & VTD_ECAP_NEST) &&
	    !(dev->inst->nesting == IONEST_NESTING_SHADOW &&
	      (vi->ecap & VTD_ECAP_FSTS)))
		return -EOPNOTSUPP;
	if (flags & IOMMU_DOMAIN_F_DIRTY)
		cfg.flags |= PT_CFG_AD;
	dom = xzalloc(sizeof(*dom));
	if (!dom)
		return -ENOMEM;
	dom->vi = vi;
	rc = pt_init(&dom->pt, &cfg,
		     (struct pt_mem){ .ops = &dom_mem_ops, .ctx = dom });
	if (rc)
		goto err;
	pthread_mutex_lock(&dev->inst->lock);
	rc = vtd_did_alloc(vi, &dom->did);
	pthread_mutex_unlock(&dev->inst->lock);
	if (rc)
		goto err;
	dom->base.type = IOMMU_DOMAIN_PAGING;
	dom->base.ops = &vtd_paging_ops;
	dom->base.inst = dev->inst;
	dom->base.flags = flags;
	dom->base.pgsize_bitmap = cfg.pgsize_bitmap;
	dom->base.aperture_start = 0;
	dom->base.aperture_last = (1ull << width) - 1;
	dom->base.has_dirty_ops = flags & IOMMU_DOMAIN_F_DIRTY;
	dom->base.enforce_cache_coherency = true;
	*out = &dom->base;
	return 0;
err:
	dom_destroy_tables(dom);
	xfree(dom);
	return rc;
}
