// SPDX-License-Identifier: MIT
/*
 * SMMUv3 driver: paging domains and attachments.
 *
 * A paging domain is a VMSAv8-64 stage-1 table tree (lib/pt, 48-bit input,
 * the smallest granule the SMMU offers) tagged with an ASID, installed in
 * a CD of each device (RID: CD 0, PASID n: CD n) that uses it; or, for a
 * NEST_PARENT domain (or an SMMU without stage 1), a stage-2 tree tagged
 * with a VMID and installed in the STE. Dirty tracking is stage 1 with
 * HTTU (CD.HA/HD) over writable-clean (DBM) entries.
 *
 * Every attach, replace and detach prepares what can fail (memory) first,
 * then switches the hardware with the update rules of smmuv3_ste.c and
 * smmuv3_cd.c, invalidates the function's ATC when ATS is on, and waits
 * for DMA in flight: once it returns, no DMA uses the old translation.
 *
 * Unmap, then iotlb_sync: TLBI by address (range form with IDR3.RIL) for
 * the domain's ASID (stage 1) or VMID (stage 2), ATC_INV for every
 * attached device with ATS, CMD_SYNC, wait for DMA in flight, then free
 * the tables the unmap emptied. If the unmap cannot get memory to gather
 * those tables, it unmaps chunk by chunk into a list reserved when the
 * domain was made, invalidating and freeing whenever that fills: unmap
 * never fails.
 */
#include <errno.h>
#include <string.h>
#include <ionest/ionest.h>

#include "drivers/inflight.h"
#include "drivers/smmuv3.h"
#include "hw/hw.h"
#include "util/alloc.h"

/* ---- ASID / VMID allocation (under inst->lock) ---- */

int smmuv3_id_alloc(struct smmu_drv *s, uint64_t *map, unsigned bits,
		    uint16_t *out)
{
	int rc = -ENOSPC;

	pthread_mutex_lock(&s->inst->lock);
	for (uint32_t w = 0; w < (1u << bits) / 64 && rc; w++) {
		uint64_t free = ~map[w];

		/* 0 is never handed out: VMID 0 tags stage-1-only STEs,
		 * ASID 0 stays unused as in Linux. */
		if (!w)
			free &= ~1ull;
		if (free) {
			unsigned b = (unsigned)__builtin_ctzll(free);

			map[w] |= 1ull << b;
			*out = (uint16_t)(w * 64 + b);
			rc = 0;
		}
	}
	pthread_mutex_unlock(&s->inst->lock);
	return rc;
}

void smmuv3_id_free(struct smmu_drv *s, uint64_t *map, uint16_t id)
{
	pthread_mutex_lock(&s->inst->lock);
	map[id / 64] &= ~(1ull << (id % 64));
	pthread_mutex_unlock(&s->inst->lock);
}

/* ---- attachment lists ---- */

static int att_reserve(struct smmu_domain *d)
{
	int rc = 0;

	/* A nested attachment is recorded on the parent too (whole). */
	if (d->nested) {
		rc = att_reserve(d->parent);
		if (rc)
			return rc;
	}

	pthread_mutex_lock(&d->lock);
	if (d->natt == d->att_cap) {
		unsigned cap = d->att_cap ? d->att_cap * 2 : 4;
		struct smmu_att *n = xrealloc(d->att, cap * sizeof(*n));

		if (n) {
			d->att = n;
			d->att_cap = cap;
		} else {
			rc = -ENOMEM;
		}
	}
	pthread_mutex_unlock(&d->lock);
	return rc;
}

static void att_add1(struct smmu_domain *d, struct smmu_master *m,
		     uint32_t ssid, bool whole)
{
	pthread_mutex_lock(&d->lock);
	d->att[d->natt++] = (struct smmu_att){ m, ssid, whole };
	pthread_mutex_unlock(&d->lock);
}

static void att_del1(struct smmu_domain *d, struct smmu_master *m,
		     uint32_t ssid, bool whole)
{
	pthread_mutex_lock(&d->lock);
	for (unsigned i = 0; i < d->natt; i++) {
		if (d->att[i].m == m && d->att[i].ssid == ssid &&
		    d->att[i].whole == whole) {
			d->att[i] = d->att[--d->natt];
			break;
		}
	}
	pthread_mutex_unlock(&d->lock);
}

static void att_add(struct smmu_domain *d, struct smmu_master *m, uint32_t ssid)
{
	att_add1(d, m, ssid, false);
	if (d->nested)
		att_add1(d->parent, m, ssid, true);
}

static void att_del(struct smmu_domain *d, struct smmu_master *m, uint32_t ssid)
{
	att_del1(d, m, ssid, false);
	if (d->nested)
		att_del1(d->parent, m, ssid, true);
}

/* ATC_INV of [start, last] for every attachment with ATS. */
static void atc_inv_domain(struct smmu_domain *d, struct smmu_cmdbuf *b,
			   uint64_t start, uint64_t last)
{
	pthread_mutex_lock(&d->lock);
	for (unsigned i = 0; i < d->natt; i++) {
		struct smmu_master *m = d->att[i].m;

		if (m->ats)
			smmuv3_cmd_atc_inv(d->s, b, m->sid, d->att[i].ssid,
					   d->att[i].whole ? 0 : start,
					   d->att[i].whole ? UINT64_MAX : last);
	}
	pthread_mutex_unlock(&d->lock);
}

/* Invalidate [start, last] of @d everywhere it may be cached. */
static void inv_domain(struct smmu_domain *d, uint64_t start, uint64_t last,
		       bool all)
{
	struct smmu_cmdbuf b = { .n = 0 };

	smmuv3_tlbi_domain(d, &b, start, last, all);
	smmuv3_cmd_sync(d->s, &b);
	/* The ATC is invalidated after the TLB: a translation request in
	 * between would refill it from stale TLB entries. */
	atc_inv_domain(d, &b, start, last);
	if (b.n)
		smmuv3_cmd_sync(d->s, &b);
}

static void atc_inv_one(struct smmu_master *m, uint32_t ssid)
{
	struct smmu_cmdbuf b = { .n = 0 };

	if (!m->ats)
		return;
	smmuv3_cmd_atc_inv(m->s, &b, m->sid, ssid, 0, UINT64_MAX);
	smmuv3_cmd_sync(m->s, &b);
}

/* ---- attach / detach ---- */

static struct smmu_pasid_att *find_pasid(struct smmu_master *m, uint32_t pasid)
{
	for (unsigned i = 0; i < m->npasids; i++) {
		if (m->pasids[i].pasid == pasid)
			return &m->pasids[i];
	}
	return NULL;
}

static int check_dev(struct smmu_domain *d, struct iommu_dev *dev)
{
	if (d->base.inst != dev->inst || !dev->priv)
		return -EINVAL;
	if (d->dirty && !dev->dirty_capable)
		return -EINVAL;
	return 0;
}

/* Take the RID off its domain (STE abort: no PASIDs are left when this
 * is used) before a switch that cannot be made hitless. */
static void detach_rid(struct smmu_master *m)
{
	struct smmu_domain *old = m->rid_dom;

	__atomic_store_n(&m->rid_dom, NULL, __ATOMIC_RELEASE);
	smmuv3_master_update_ste(m);
	att_del(old, m, IOMMU_NO_PASID);
	atc_inv_one(m, IOMMU_NO_PASID);
	inflight_wait();
}

int smmuv3_attach_dev(struct iommu_domain *dom, struct iommu_dev *dev)
{
	struct smmu_domain *d = to_smmu_dom(dom), *old;
	struct smmu_master *m = dev->priv;
	uint64_t cd[4];
	int rc = check_dev(d, dev);

	if (rc)
		return rc;
	/* PASIDs need the STE in stage-1 (CD table) form. */
	if (d->s2 && m->npasids)
		return -EINVAL;
	/* A software-only stage 2 (software nesting on a part without
	 * stage 2) never goes in an STE. */
	if (d->nest_parent && !d->s->s2p)
		return -EINVAL;
	old = m->rid_dom;
	if (old == d)
		return 0;
	rc = att_reserve(d);
	if (rc)
		return rc;
	if (d->sh) {
		/* Software nesting: the master's CD table becomes one of
		 * host CDs sized by the guest's (smmuv3_shadow.c), switched
		 * in through an abort STE. */
		struct smmu_cdtab c;

		rc = smmuv3_shadow_cdtab(d, m, &c);
		if (rc)
			return rc;
		if (old)
			detach_rid(m);
		smmuv3_cdtab_free(m);
		m->cdt = c;
		m->cd_ready = true;
		__atomic_store_n(&dev->drv_translate, smmuv3_shadow_translate,
				 __ATOMIC_RELEASE);
		old = NULL;
	} else if (old && old->sh) {
		/* The CD table holds the shadow's CDs: it goes. */
		detach_rid(m);
		smmuv3_cdtab_free(m);
		old = NULL;
	}
	if (!d->s2) {
		rc = smmuv3_cdtab_alloc(m);
		if (rc)
			return rc;
		smmuv3_cd_build(d, cd);
		rc = smmuv3_cd_set(m, 0, cd);
		if (rc)
			return rc;
	}
	/* Read by the event drain (smmuv3_nested_event). */
	__atomic_store_n(&m->rid_dom, d, __ATOMIC_RELEASE);
	smmuv3_master_update_ste(m);
	/* CD 0 is no longer reachable through the STE. */
	if (d->s2 && !d->sh && m->cd_ready)
		smmuv3_cd_set(m, 0, NULL);
	if (old)
		att_del(old, m, IOMMU_NO_PASID);
	att_add(d, m, IOMMU_NO_PASID);
	/* Without PASID: drops what the function cached for its PASIDs too
	 * (PCIe), which is more than needed and harmless. */
	atc_inv_one(m, IOMMU_NO_PASID);
	inflight_wait();
	return 0;
}

int smmuv3_attach_blocked(struct iommu_dev *dev)
{
	struct smmu_master *m = dev->priv;
	struct smmu_domain *old = m->rid_dom;

	if (!old)
		return 0;
	__atomic_store_n(&m->rid_dom, NULL, __ATOMIC_RELEASE);
	/* PASIDs left: S1DSS terminate first (one qword), then CD 0 goes;
	 * else the STE aborts. */
	smmuv3_master_update_ste(m);
	if (!old->s2)
		smmuv3_cd_set(m, 0, NULL);
	att_del(old, m, IOMMU_NO_PASID);
	atc_inv_one(m, IOMMU_NO_PASID);
	inflight_wait();
	/* A shadow domain's host CDs. */
	if (old->sh)
		smmuv3_cdtab_free(m);
	return 0;
}

static int smmuv3_set_dev_pasid(struct iommu_domain *dom, struct iommu_dev *dev,
				uint32_t pasid)
{
	struct smmu_domain *d = to_smmu_dom(dom), *old = NULL;
	struct smmu_master *m = dev->priv;
	struct smmu_pasid_att *pa;
	uint64_t cd[4];
	int rc = check_dev(d, dev);

	if (rc)
		return rc;
	/* Only stage-1 domains go on a PASID; PASID 0 is CD 0, the RID's
	 * (S1DSS=0b10); the RID must not use a stage-2 STE. */
	if (d->s2 || !pasid || pasid >= dev->max_pasids ||
	    (m->rid_dom && m->rid_dom->s2))
		return -EINVAL;
	pa = find_pasid(m, pasid);
	if (pa && pa->dom == d)
		return 0;
	rc = att_reserve(d);
	if (rc)
		return rc;
	if (!pa && m->npasids == m->pasid_cap) {
		unsigned cap = m->pasid_cap ? m->pasid_cap * 2 : 4;
		struct smmu_pasid_att *n =
			xrealloc(m->pasids, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		m->pasids = n;
		m->pasid_cap = cap;
	}
	rc = smmuv3_cdtab_alloc(m);
	if (rc)
		return rc;
	smmuv3_cd_build(d, cd);
	rc = smmuv3_cd_set(m, pasid, cd);
	if (rc)
		return rc;
	if (pa) {
		old = pa->dom;
		att_del(old, m, pasid);
		pa->dom = d;
	} else {
		m->pasids[m->npasids++] = (struct smmu_pasid_att){ pasid, d };
		/* The first PASID of a blocked RID: abort -> CD table. */
		if (m->npasids == 1 && !m->rid_dom)
			smmuv3_master_update_ste(m);
	}
	att_add(d, m, pasid);
	if (old) {
		atc_inv_one(m, pasid);
		inflight_wait();
	}
	return 0;
}

void smmuv3_remove_dev_pasid(struct iommu_dev *dev, uint32_t pasid)
{
	struct smmu_master *m = dev->priv;
	struct smmu_pasid_att *pa = find_pasid(m, pasid);
	struct smmu_domain *old;

	if (!pa)
		return;
	old = pa->dom;
	smmuv3_cd_set(m, pasid, NULL);
	*pa = m->pasids[--m->npasids];
	att_del(old, m, pasid);
	if (!m->npasids && !m->rid_dom)
		smmuv3_master_update_ste(m);
	atc_inv_one(m, pasid);
	inflight_wait();
}

void smmuv3_master_detach_all(struct smmu_master *m)
{
	while (m->npasids)
		smmuv3_remove_dev_pasid(m->dev,
					m->pasids[m->npasids - 1].pasid);
	smmuv3_attach_blocked(m->dev);
}

/* ---- map / unmap ---- */

static int smmuv3_map(struct iommu_domain *dom, uint64_t iova, uint64_t pa,
		      uint64_t size, uint32_t prot, uint64_t pgsize_bitmap)
{
	struct smmu_domain *d = to_smmu_dom(dom);
	uint64_t sizes = pt_leaf_sizes(&d->pt) & dom->pgsize_bitmap;
	uint32_t p = 0;

	if (pgsize_bitmap)
		sizes &= pgsize_bitmap;
	if (!sizes || !size || iova + (size - 1) < iova ||
	    iova < dom->aperture_start ||
	    iova + (size - 1) > dom->aperture_last)
		return -EINVAL;
	/* Stage 1 is always readable; Linux leaves DMA executable unless
	 * IOMMU_NOEXEC, which this interface has no flag for. */
	if (prot & IOMMU_PROT_READ)
		p |= PT_PROT_READ | PT_PROT_EXEC;
	if (prot & IOMMU_PROT_WRITE)
		p |= PT_PROT_WRITE;
	return pt_map(&d->pt, iova, pa, size, p, sizes);
}

/* Free the tables of the spare list: invalidate the whole domain, wait
 * for DMA in flight, then return them to the pool, keeping the list (so
 * this needs no memory). */
static void spare_flush(struct smmu_domain *d)
{
	if (!d->spare.count)
		return;
	inv_domain(d, 0, UINT64_MAX, true);
	inflight_wait();
	/* pt_gather_release would free the list itself: return the tables
	 * one by one (the domain's tables come from the pool; emptied
	 * tables are zero, as the pool wants). */
	for (unsigned i = 0; i < d->spare.count; i++) {
		trace_pt_table_free(d->spare.pa[i], d->spare.size[i]);
		pt_pool_free((void *)(uintptr_t)d->spare.pa[i],
			     d->spare.size[i]);
	}
	d->spare.count = 0;
}

static int unmap_fallback(struct smmu_domain *d, uint64_t iova, uint64_t size,
			  uint64_t *unmapped)
{
	uint64_t last = iova + (size - 1), a = iova, total = 0;
	int rc = 0;

	smmuv3_count(d->s, drv_unmap_fallback);
	while (!rc) {
		uint64_t end = a | (d->chunk - 1), u = 0;

		if (end > last)
			end = last;
		if (d->spare.count + d->chunk_tables > d->spare.cap)
			spare_flush(d);
		rc = pt_unmap(&d->pt, a, end - a + 1, 0, &d->spare, &u);
		total += u;
		if (end == last)
			break;
		a = end + 1;
	}
	spare_flush(d);
	*unmapped = total;
	return rc;
}

static int smmuv3_unmap(struct iommu_domain *dom, uint64_t iova, uint64_t size,
			struct iommu_gather *g, uint64_t *unmapped)
{
	struct smmu_domain *d = to_smmu_dom(dom);
	int rc;

	if (!size || iova + (size - 1) < iova)
		return -EINVAL;
	/* Shadows of nested domains over this one first: nothing composed
	 * from the range survives the unmap (smmuv3_shadow.c). */
	if (d->nest_parent) {
		pthread_mutex_lock(&d->s->sh_lock);
		smmuv3_shadow_parent_begin(d, iova, iova + (size - 1));
	}
	rc = pt_unmap(&d->pt, iova, size, 0, &g->pt, unmapped);
	if (rc == -ENOMEM)
		rc = unmap_fallback(d, iova, size, unmapped);
	if (d->nest_parent) {
		smmuv3_shadow_parent_end(d);
		pthread_mutex_unlock(&d->s->sh_lock);
	}
	if (rc)
		return rc;
	iommu_gather_add_range(g, iova, size);
	return 0;
}

static void smmuv3_iotlb_sync(struct iommu_domain *dom, struct iommu_gather *g)
{
	struct smmu_domain *d = to_smmu_dom(dom);

	/* Freed tables may sit in walk caches for any address they
	 * covered: then the whole ASID / VMID goes. */
	if (g->pending)
		inv_domain(d, g->start, g->last, g->pt.count > 0);
	if (g->pending || g->pt.count)
		inflight_wait();
	pt_gather_release(&d->pt, &g->pt);
	g->pending = false;
}

/* ---- dirty tracking ---- */

static int smmuv3_set_dirty_tracking(struct iommu_domain *dom, bool enable)
{
	/* HTTU marks writes whenever the CD has HD: the core reads and
	 * clears the state when tracking starts, so nothing to switch. */
	return 0;
}

static int smmuv3_read_and_clear_dirty(struct iommu_domain *dom, uint64_t iova,
				       uint64_t size, uint64_t *bitmap,
				       bool no_clear)
{
	/* The core follows a clearing read with iotlb_sync of the range:
	 * TLB entries that still allow writes go, so the next write marks
	 * the entry again. */
	return pt_read_and_clear_dirty(&to_smmu_dom(dom)->pt, iova, size, 4096,
				       bitmap, no_clear);
}

/* ---- domain lifetime ---- */

static void smmuv3_domain_free(struct iommu_domain *dom)
{
	struct smmu_domain *d = to_smmu_dom(dom);
	struct smmu_drv *s = d->s;

	inv_domain(d, 0, UINT64_MAX, true);
	inflight_wait();
	pt_destroy(&d->pt);
	if (d->s2 && d->vmid)
		smmuv3_id_free(s, s->vmid_map, d->vmid);
	else if (!d->s2)
		smmuv3_id_free(s, s->asid_map, d->asid);
	pt_gather_release(&d->pt, &d->spare);
	pthread_mutex_destroy(&d->lock);
	xfree(d->att);
	xfree(d);
}

static const struct iommu_domain_ops smmuv3_paging_ops = {
	.attach_dev = smmuv3_attach_dev,
	.set_dev_pasid = smmuv3_set_dev_pasid,
	.map = smmuv3_map,
	.unmap = smmuv3_unmap,
	.iotlb_sync = smmuv3_iotlb_sync,
	.set_dirty_tracking = smmuv3_set_dirty_tracking,
	.read_and_clear_dirty = smmuv3_read_and_clear_dirty,
	.free = smmuv3_domain_free,
};

/* Chunking of the allocation-free unmap: the largest leaf, and the most
 * tables (below the root) that unmapping one such chunk can empty. */
static void chunk_setup(struct smmu_domain *d)
{
	uint64_t leaves = pt_leaf_sizes(&d->pt);
	unsigned g = d->pt.cfg.granule_shift, stride = g - 3;

	d->chunk = 1ull << (63 - __builtin_clzll(leaves));
	d->chunk_tables = 0;
	for (unsigned l = 0; l < d->pt.start_level; l++) {
		/* A level-l table spans 2^(g + (l + 1) * stride) bytes. */
		unsigned span = g + (l + 1) * stride;
		uint64_t chunk_log2 =
			(uint64_t)(63 - __builtin_clzll(d->chunk));

		d->chunk_tables +=
			chunk_log2 > span ?
				(unsigned)(1ull << (chunk_log2 - span)) :
				1;
	}
}

int smmuv3_domain_alloc_paging(struct iommu_dev *dev, uint32_t flags,
			       struct iommu_domain **out)
{
	struct smmu_drv *s = dev->inst->priv;
	struct smmu_domain *d;
	struct pt_cfg cfg = {
		.granule_shift = (uint8_t)s->gran,
		.ias = SMMUV3_IAS,
		.oas = SMMUV3_IAS,
		.start_level = -1,
	};
	bool s2, dirty = false;
	int rc;

	/* As Linux: plain paging is stage 1 (stage 2 if that is all the
	 * SMMU has), DIRTY_TRACKING stage 1 with HTTU, NEST_PARENT stage 2
	 * on a nesting-capable SMMU; other combinations are refused. */
	switch (flags & ~(uint32_t)IOMMU_DOMAIN_F_PASID) {
	case 0:
		s2 = !s->s1p;
		break;
	case IOMMU_DOMAIN_F_DIRTY:
		if (!s->s1p || !s->hd)
			return -EOPNOTSUPP;
		s2 = false;
		dirty = true;
		break;
	case IOMMU_DOMAIN_F_NEST_PARENT:
		/* Without stage 2, only for software nesting: a stage 2
		 * the driver alone reads (smmuv3_shadow.c). */
		if (!s->s1p ||
		    (!s->s2p && dev->inst->nesting != IONEST_NESTING_SHADOW))
			return -EOPNOTSUPP;
		s2 = true;
		break;
	default:
		return -EOPNOTSUPP;
	}
	d = xzalloc(sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->s = s;
	d->s2 = s2;
	d->dirty = dirty;
	d->nest_parent = flags & IOMMU_DOMAIN_F_NEST_PARENT;
	cfg.fmt = s2 ? PT_FMT_ARM_S2 : PT_FMT_ARM_S1;
	if (dirty)
		cfg.flags |= PT_CFG_DIRTY;
	rc = pt_init(&d->pt, &cfg, (struct pt_mem){ 0 });
	if (rc)
		goto free_d;
	chunk_setup(d);
	/* The allocation-free unmap's list: room for two chunks. */
	d->spare.cap = 2 * d->chunk_tables;
	d->spare.pa = xmalloc(d->spare.cap * sizeof(*d->spare.pa));
	d->spare.size = xmalloc(d->spare.cap * sizeof(*d->spare.size));
	if (!d->spare.pa || !d->spare.size) {
		rc = -ENOMEM;
		goto free_pt;
	}
	rc = !s2    ? smmuv3_id_alloc(s, s->asid_map, s->asid_bits, &d->asid) :
	     s->s2p ? smmuv3_id_alloc(s, s->vmid_map, s->vmid_bits, &d->vmid) :
		      0;
	if (rc)
		goto free_pt;
	pthread_mutex_init(&d->lock, NULL);
	d->base.type = IOMMU_DOMAIN_PAGING;
	d->base.ops = &smmuv3_paging_ops;
	d->base.inst = dev->inst;
	d->base.flags = flags;
	d->base.pgsize_bitmap = pt_leaf_sizes(&d->pt);
	d->base.aperture_start = 0;
	d->base.aperture_last = pt_input_size(&d->pt) - 1;
	d->base.has_dirty_ops = dirty;
	d->base.enforce_cache_coherency = true; /* IDR0.COHACC */
	*out = &d->base;
	return 0;

free_pt:
	xfree(d->spare.pa);
	xfree(d->spare.size);
	pt_destroy(&d->pt);
free_d:
	xfree(d);
	return rc;
}
