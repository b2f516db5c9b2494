// SPDX-License-Identifier: MIT
/*
 * Software nesting on VT-d (DESIGN.md, lib/drivers/shadow.h): a nested
 * domain of an instance in "shadow" mode is programmed as a single stage.
 *
 * Choice of stage: first stage (PGTT=001) with a shadow table in the
 * x86-64 format, not second stage only. The guest's stage 1 is a first
 * stage, and with a first-stage shadow the model applies the guest's own
 * first-stage rules to every request (canonical addresses, U/S against
 * the request's privilege, SRE, XD/ERE, 4- or 5-level width) exactly as in
 * the nested walk; a second-stage table has no U/S and would turn those
 * faults into different ones. Needs ECAP.FSTS (-EOPNOTSUPP otherwise).
 *
 * The shadow PASID entry (vtd_shadow_pe): FSPTPTR = the shadow, FSPM and
 * SRE from the guest's data, WPE always (a supervisor write to a page the
 * shadow maps read-only, because stage 2 or a clean guest page says so,
 * must come to the driver), EAFE never (EA bits are the guest's: the fault
 * path sets them), FPD (the shadow's own faults are not what the guest's
 * hardware would record), and a DID of its own, so that its IOTLB entries
 * are invalidated apart from the parent's.
 *
 * Faults (vtd_shadow_translate, the device's translate hook while a shadow
 * domain is attached): the request goes to the model without PRI. A fault
 * the shadow's walk produced is classified by walking the guest's stage 1
 * through the parent's stage 2 in software, with the model's nested rules
 * (vtd.md §5-§7, the same pt walker): a translation found is filled into
 * the shadow (setting A/D/EA in the guest's tables and D in the parent's
 * as the hardware walk would) and the request retried once; otherwise the
 * result is the fault the nested walk gives (reason, stage-2 flag, GPA),
 * logged like a fault record, or for a PRI device and a first-stage
 * "not present"/write fault, the request is replayed with PRI so that the
 * model queues the page request it would have queued.
 */
#include <errno.h>
#include <ionest/ionest.h>
#include <ionest/uapi/iommufd.h>

#include "drivers/inflight.h"
#include "drivers/shadow.h"
#include "drivers/vtd.h"
#include "trace/trace.h"
#include "util/alloc.h"

#define ACCESS_RWX \
	(IONEST_ACCESS_READ | IONEST_ACCESS_WRITE | IONEST_ACCESS_EXEC)

struct vtd_shadow {
	struct shadow s;
	uint16_t did;
};

static struct vtd_shadow *to_vsh(struct shadow *s)
{
	return (struct vtd_shadow *)s;
}

uint16_t vtd_shadow_did(const struct vtd_dom *dom)
{
	return to_vsh(dom->sh)->did;
}

/* ---- composition ---- */

/* Stage 1 AND stage 2 as one x86 leaf: readable through stage 2 or none;
 * writable only if the guest leaf is writable and dirty and stage 2 lets
 * the write through without a dirty update; U/S and XD from the guest. */
static bool compose(const struct shadow *s, uint32_t s1, uint32_t s2,
		    uint32_t *prot)
{
	const struct vtd_dom *dom = s->priv;
	bool s2_dirty = !dom->parent->dirty || (s2 & PT_PERM_DIRTY);
	uint32_t p = PT_PROT_READ;

	/* A guest leaf without A, or EA to maintain: the hardware walk
	 * writes the guest's tables, so the fault path does. */
	if (!(s2 & PT_PERM_R) || !(s1 & PT_PERM_AF) ||
	    (dom->s1_q2 & VTD_PE_EAFE))
		return false;
	if ((s1 & PT_PERM_W) && (s1 & PT_PERM_DIRTY) && (s2 & PT_PERM_W) &&
	    s2_dirty)
		p |= PT_PROT_WRITE;
	if (!(s1 & PT_PERM_U))
		p |= PT_PROT_PRIV;
	if (s1 & PT_PERM_PX)
		p |= PT_PROT_EXEC;
	*prot = p;
	return true;
}

/* ---- the nested walk in software (mirrors the model's, vtd.md §5-§7) ---- */

struct nres {
	uint8_t reason; /* 0: translated */
	bool stage2, page_req;
	uint64_t fault_addr;
	uint64_t hpa;
	unsigned shift;
	uint32_t perm; /* IONEST_ACCESS_* the translation grants */
	uint32_t prot; /* PT_PROT_* of the shadow leaf for it */
};

static int nfault(struct nres *o, uint8_t reason, bool stage2, uint64_t addr)
{
	o->reason = reason;
	o->stage2 = stage2;
	o->fault_addr = addr;
	return -EFAULT;
}

/* The fault of a first-stage table access that failed in stage 2. */
static int table_fault(const struct shadow_walk *w, bool root, bool ad,
		       struct nres *o)
{
	uint8_t r = vtd_fr_ss_walk(&w->s2w, w->s->s2->start_level);

	if (w->beyond)
		return nfault(o, VTD_FR_NEST_FS_ADDR, false, w->fault_gpa);
	if (!r || r == VTD_FR_SS_PERM) {
		if (w->write)
			r = VTD_FR_NEST_FS_WR;
		else if (ad)
			r = VTD_FR_NEST_FS_RD;
		else
			r = root ? VTD_FR_NEST_FS_ROOT_RD : VTD_FR_NEST_FS_RD;
	}
	return nfault(o, r, true, w->fault_gpa);
}

/* Set @bits in the guest entry @r names, through stage 2 (a write). */
static int guest_set_bits(struct shadow_walk *w, const struct pt_walk_level *r,
			  uint64_t bits)
{
	uint64_t addr = r->table + 8ull * r->index, cur;
	uint64_t *p = w->s1.mem.ops->table(w->s1.mem.ctx, addr, 8, true);

	if (!p)
		return -EFAULT;
	cur = __atomic_load_n(p, __ATOMIC_RELAXED);
	for (;;) {
		if ((cur & ~(VTD_FS_A | VTD_FS_D | VTD_FS_EA)) !=
		    (r->desc & ~(VTD_FS_A | VTD_FS_D | VTD_FS_EA)))
			return -EAGAIN;
		if ((cur & bits) == bits)
			return 0;
		if (__atomic_compare_exchange_n(p, &cur, cur | bits, false,
						__ATOMIC_RELAXED,
						__ATOMIC_RELAXED))
			return 0;
	}
}

/* Final stage 2 of the output GPA (nest_output / ss_perm). */
static int nest_output(struct vtd_dom *dom, uint64_t gpa, uint32_t access,
		       bool ats, struct nres *o, uint32_t *perm, bool *wr)
{
	struct vtd_dom *par = dom->parent;
	bool write = access & IONEST_ACCESS_WRITE;
	unsigned fl = par->dirty ?
			      PT_WALK_SET_AF | (write ? PT_WALK_SET_DIRTY : 0) :
			      0;
	struct pt_walk w = { 0 };
	bool r, clean;

	if (pt_walk(&par->pt, gpa, fl, &w))
		return nfault(o, vtd_fr_ss_walk(&w, par->pt.start_level), true,
			      gpa);
	r = w.perm & PT_PERM_R;
	*wr = w.perm & PT_PERM_W;
	clean = par->dirty && !(w.perm & PT_PERM_DIRTY);
	if (ats ? !r :
		  (((access & IONEST_ACCESS_READ) && !r) || (write && !*wr)))
		return nfault(o, VTD_FR_SS_PERM, true, gpa);
	*perm = (r ? IONEST_ACCESS_READ : 0) |
		(*wr && !clean ? IONEST_ACCESS_WRITE : 0) | IONEST_ACCESS_EXEC;
	*wr = *wr && !clean;
	if (w.leaf_shift < o->shift)
		o->shift = w.leaf_shift;
	o->hpa = w.oa;
	return 0;
}

static int nested_walk(struct vtd_dom *dom, const struct ionest_xlate_req *req,
		       uint32_t access, struct nres *o)
{
	struct vtd_inst *vi = dom->vi;
	uint64_t q2 = dom->s1_q2, iova = req->iova;
	bool priv = access & IONEST_ACCESS_PRIV, ats = req->ats;
	bool wpe = q2 & VTD_PE_WPE, eafe = q2 & VTD_PE_EAFE;
	unsigned ias = VTD_PE_FSPM(q2) ? 57 : 48, sh = 64 - ias;
	struct pt_walk_level rec[PT_MAX_LEVELS];
	struct shadow_walk w;
	struct pt_walk pw;
	uint64_t gpa, s2bits;
	uint32_t s2perm;
	bool s2wr;

	/* Request checks against the (guest's) PASID entry; ERE is never
	 * set in nested entries. */
	if (priv && !(q2 & VTD_PE_SRE))
		return nfault(o, VTD_FR_PE_SRE, false, iova);
	if (access & IONEST_ACCESS_EXEC)
		return nfault(o, VTD_FR_PE_ERE, false, iova);
	if ((uint64_t)((int64_t)(iova << sh) >> sh) != iova)
		return nfault(o, VTD_FR_FS_NONCANON, false, iova);
	shadow_walk_init(
		&w, dom->sh,
		dom->parent->dirty ? PT_WALK_SET_AF | PT_WALK_SET_DIRTY : 0);
	for (unsigned tries = 0;; tries++) {
		bool w_ok, dirty;
		int ret = 0;

		if (tries == 4)
			return nfault(o, VTD_FR_FS_AD_UPDATE, false, iova);
		pw = (struct pt_walk){ .rec = rec };
		if (pt_walk(&w.s1, iova & ((1ull << ias) - 1), PT_WALK_SET_AF,
			    &pw)) {
			switch (pw.fault) {
			case PT_FAULT_TRANSLATION:
				o->page_req = true;
				return nfault(o, VTD_FR_FS_NP, false, iova);
			case PT_FAULT_RESERVED:
				return nfault(o, VTD_FR_FS_RSVD, false, iova);
			case PT_FAULT_ADDR_SIZE:
				return nfault(o, VTD_FR_NEST_FS_ADDR, false,
					      iova);
			default:
				break;
			}
			if (w.faulted)
				return table_fault(&w,
						   pw.level == w.s1.start_level,
						   false, o);
			return nfault(o,
				      pw.level == w.s1.start_level ?
					      VTD_FR_FS_ROOT_ACCESS :
					      VTD_FR_FS_ACCESS,
				      false, iova);
		}
		if (!priv && !(pw.perm & PT_PERM_U))
			return nfault(o, VTD_FR_FS_US, false, iova);
		w_ok = (priv && !wpe) || (pw.perm & PT_PERM_W);
		if ((access & IONEST_ACCESS_WRITE) && !w_ok && !ats) {
			o->page_req = true;
			return nfault(o, VTD_FR_WRITE, false, iova);
		}
		dirty = pw.perm & PT_PERM_DIRTY;
		if ((access & IONEST_ACCESS_WRITE) && w_ok && !dirty &&
		    pw.nrec) {
			ret = guest_set_bits(&w, &rec[pw.nrec - 1], VTD_FS_D);
			dirty = !ret;
		}
		for (unsigned i = 0; !ret && eafe && i < pw.nrec; i++)
			if (!(rec[i].desc & VTD_FS_EA))
				ret = guest_set_bits(&w, &rec[i], VTD_FS_EA);
		if (ret == -EAGAIN)
			continue;
		if (ret) {
			if (w.faulted)
				return table_fault(&w, false, true, o);
			return nfault(o, VTD_FR_FS_AD_UPDATE, false, iova);
		}
		o->perm = IONEST_ACCESS_READ |
			  (w_ok && dirty ? IONEST_ACCESS_WRITE : 0);
		o->prot = PT_PROT_READ |
			  ((pw.perm & PT_PERM_W) && dirty ? PT_PROT_WRITE : 0) |
			  (pw.perm & PT_PERM_U ? 0 : PT_PROT_PRIV) |
			  (pw.perm & PT_PERM_PX ? PT_PROT_EXEC : 0);
		o->shift = pw.leaf_shift;
		break;
	}
	gpa = pw.oa;
	s2bits = vi->agaw_bits < vi->haw ? vi->agaw_bits : vi->haw;
	if (gpa >> s2bits)
		return nfault(o, VTD_FR_NEST_FS_ADDR, false, iova);
	if (nest_output(dom, gpa, access, ats, o, &s2perm, &s2wr))
		return -EFAULT;
	o->perm &= s2perm;
	o->perm |= access & IONEST_ACCESS_PRIV;
	if (!s2wr)
		o->prot &= ~(uint32_t)PT_PROT_WRITE;
	/* With EAFE the guest's EA bits are kept by this path: the shadow
	 * entry serves one request (the next comes back here). */
	return 0;
}

/* ---- the translate hook ---- */

/* Fault reasons the walk of a shadow PASID entry produces (FPD: not
 * recorded by the model). */
static bool shadow_reason(uint32_t r)
{
	switch (r) {
	case VTD_FR_PE_ERE:
	case VTD_FR_PE_SRE:
	case VTD_FR_FS_ACCESS:
	case VTD_FR_FS_NP:
	case VTD_FR_FS_RSVD:
	case VTD_FR_FS_ROOT_ACCESS:
	case VTD_FR_FS_NONCANON:
	case VTD_FR_FS_US:
	case VTD_FR_EXEC:
	case VTD_FR_WRITE:
	case VTD_FR_READ:
	case VTD_FR_FS_AD_UPDATE:
		return true;
	default:
		return false;
	}
}

/* The nested domain (RID or PASID) of a request; inst->lock held. */
static struct vtd_dom *req_dom(struct vtd_dev *vd,
			       const struct ionest_xlate_req *req)
{
	if (!req->ssid_valid)
		return vd->rid_dom;
	for (unsigned i = 0; i < vd->npas; i++)
		if (vd->pas[i].pasid == req->ssid)
			return vd->pas[i].dom;
	return NULL;
}

static void log_fault(struct vtd_inst *vi, const struct ionest_xlate_req *req,
		      uint8_t reason, uint64_t addr)
{
	/* As the fault handler logs a record it consumed (vtd_fault.c). */
	vtd_count(vi, vtdd_fault_record);
	vtd_count(vi, vtdd_shadow_fault);
	trace_vtd_drv_fault(vi->hw->id, req->sid,
			    req->ssid_valid ? req->ssid : IOMMU_NO_PASID,
			    addr & ~0xfffull, reason);
}

int vtd_shadow_translate(struct iommu_dev *dev,
			 const struct ionest_xlate_req *req,
			 struct ionest_xlate_res *res)
{
	struct vtd_inst *vi = to_vi(dev->inst);
	struct ionest_xlate_req r = *req;
	struct vtd_dom *dom;
	struct nres o = { 0 };
	uint32_t access = req->access;
	int rc;

	r.pri = false;
	rc = dev->hw_translate(dev->hw, &r, res);
	if (rc || res->status != IONEST_XLATE_FAULT || res->recorded ||
	    !shadow_reason(res->fault))
		return rc;
	if (pthread_mutex_trylock(&dev->inst->lock))
		return -EAGAIN;
	dom = req_dom(dev->priv, req);
	if (!dom || !dom->sh) {
		pthread_mutex_unlock(&dev->inst->lock);
		return rc;
	}
	if (pthread_mutex_trylock(&dom->sh->lock)) {
		pthread_mutex_unlock(&dev->inst->lock);
		return -EAGAIN;
	}
	/* The domain stays while its shadow lock is held: freeing it
	 * detaches first, which takes inst->lock. */
	pthread_mutex_unlock(&dev->inst->lock);
	if (access & IONEST_ACCESS_EXEC)
		access |= IONEST_ACCESS_READ;
	vtd_count(vi, vtdd_shadow_miss);
	if (!nested_walk(dom, req, access, &o)) {
		if (!shadow_fill(dom->sh, req->iova, o.hpa, o.shift, o.prot))
			vtd_count(vi, vtdd_shadow_fill);
		pthread_mutex_unlock(&dom->sh->lock);
		rc = dev->hw_translate(dev->hw, &r, res);
		if (!rc && res->status == IONEST_XLATE_OK)
			return 0;
		/* Not expressible as a shadow leaf (a supervisor write the
		 * guest allows without WPE on a read-only page): the walk's
		 * answer. */
		memset(res, 0, sizeof(*res));
		res->status = IONEST_XLATE_OK;
		res->addr = o.hpa; /* of the request's address */
		res->size = 1ull << o.shift;
		res->perm = o.perm;
		return 0;
	}
	pthread_mutex_unlock(&dom->sh->lock);
	if (o.page_req && req->pri && !req->ats) {
		/* The model queues the page request (or, without PRE in the
		 * context entry, records that fault) from the shadow, which
		 * lacks the page or its write permission as the guest does;
		 * the request is the same either way, the reason the one the
		 * nested walk found (the shadow may lack a read-only page
		 * the guest mapped without invalidating). */
		rc = dev->hw_translate(dev->hw, req, res);
		if (!rc && res->status == IONEST_XLATE_PAGE_REQUEST)
			res->fault = o.reason;
		return rc;
	}
	memset(res, 0, sizeof(*res));
	res->status = IONEST_XLATE_FAULT;
	res->fault = o.reason;
	res->stage2 = o.stage2;
	res->fault_addr = o.fault_addr;
	if (!(req->ats && vtd_fr_ats_no_access(o.reason))) {
		res->recorded = true;
		log_fault(vi, req, o.reason, o.fault_addr);
	}
	return 0;
}

/* ---- lifetime ---- */

int vtd_shadow_create(struct vtd_dom *dom)
{
	struct vtd_inst *vi = dom->vi;
	struct vtd_dom *par = dom->parent;
	unsigned ias = VTD_PE_FSPM(dom->s1_q2) ? 57 : 48;
	struct shadow_cfg cfg = {
		.s1 = { .fmt = PT_FMT_X86_64,
			.granule_shift = 12,
			.ias = (uint8_t)ias,
			.oas = (uint8_t)(vi->haw > 52 ? 52 : vi->haw),
			.start_level = -1 },
		.s1_root = dom->s1_q2 & VTD_PE_PTR_MASK,
		.sh = { .fmt = PT_FMT_X86_64,
			.granule_shift = 12,
			.ias = (uint8_t)ias,
			.oas = (uint8_t)(vi->haw > 52 ? 52 : vi->haw),
			.start_level = -1,
			.pgsize_bitmap =
				(1ull << 12) | (1ull << 21) |
				((vi->cap & VTD_CAP_FS1GP) ? 1ull << 30 : 0) },
		.s2 = &par->pt,
		.s2_bits = (uint8_t)(vi->agaw_bits < vi->haw ? vi->agaw_bits :
							       vi->haw),
		.compose = compose,
		.priv = dom,
	};
	struct vtd_shadow *vs;
	uint64_t s, l;
	int rc;

	/* A first-stage shadow at host addresses (47 bits). */
	if (!(vi->ecap & VTD_ECAP_FSTS) || vi->haw < 48)
		return -EOPNOTSUPP;
	vs = xzalloc(sizeof(*vs));
	if (!vs)
		return -ENOMEM;
	rc = shadow_init(&vs->s, &cfg);
	if (rc) {
		xfree(vs);
		return rc == -ENOMEM ? rc : -EINVAL;
	}
	pthread_mutex_lock(&vi->inst->lock);
	rc = vtd_did_alloc(vi, &vs->did);
	pthread_mutex_unlock(&vi->inst->lock);
	if (rc) {
		shadow_fini(&vs->s);
		xfree(vs);
		return rc;
	}
	dom->sh = &vs->s;
	dom->sh_inv_start = UINT64_MAX;
	dom->sh_inv_last = 0;
	/* Composed from what the guest has now: attaching needs no
	 * invalidation from the guest first, as with hardware nesting. */
	pthread_mutex_lock(&vs->s.lock);
	(void)shadow_sync(&vs->s, 0, UINT64_MAX, &s, &l);
	pthread_mutex_unlock(&vs->s.lock);
	return 0;
}

void vtd_shadow_destroy(struct vtd_dom *dom)
{
	struct vtd_shadow *vs;
	struct vtd_inst *vi = dom->vi;

	if (!dom->sh)
		return;
	vs = to_vsh(dom->sh);
	/* Nothing is attached; the DID's entries go before it is reused,
	 * and DMA in flight (the translate hook) finishes. */
	pthread_mutex_lock(&vi->inst->lock);
	vtd_qi_iotlb_dom(vi, vs->did);
	(void)vtd_qi_sync(vi);
	vtd_did_free(vi, vs->did);
	pthread_mutex_unlock(&vi->inst->lock);
	inflight_wait();
	shadow_fini(&vs->s);
	xfree(vs);
	dom->sh = NULL;
}

/* inst->lock held: the IOTLB and device-TLBs of every attachment of @dom
 * for [start, last] (all of it when that is the whole input space). */
static void shadow_flush(struct vtd_dom *dom, uint64_t start, uint64_t last)
{
	bool all = !start && last >= pt_input_size(&dom->sh->sh) - 1;

	/* Tables may have been freed: not leaf-only. */
	vtd_nested_flush(dom, start, last, all, false);
}

void vtd_shadow_pe(const struct vtd_dom *dom, uint64_t *q0, uint64_t *q1,
		   uint64_t *q2)
{
	const struct vtd_inst *vi = dom->vi;
	const struct vtd_shadow *vs = (const struct vtd_shadow *)dom->sh;

	*q0 = VTD_PE_P | VTD_PE_FPD |
	      (uint64_t)VTD_PGTT_FS << VTD_PE_PGTT_SHIFT |
	      (uint64_t)vi->aw << VTD_PE_AW_SHIFT;
	*q1 = vs->did | ((vi->ecap & VTD_ECAP_SMPWCS) ? VTD_PE_PWSNP : 0);
	*q2 = vs->s.sh.root |
	      (dom->s1_q2 & ((3ull << VTD_PE_FSPM_SHIFT) | VTD_PE_SRE)) |
	      VTD_PE_WPE;
}

void vtd_shadow_invalidate(struct vtd_dom *dom, uint64_t start, uint64_t last)
{
	struct shadow *s = dom->sh;
	uint64_t is, il;

	pthread_mutex_lock(&s->lock);
	(void)shadow_sync(s, start, last, &is, &il);
	pthread_mutex_unlock(&s->lock);
	vtd_count(dom->vi, vtdd_shadow_sync);
	if (is <= il)
		shadow_flush(dom, is, il);
}

uint64_t vtd_shadow_take(struct vtd_dom *dom)
{
	struct shadow *s = dom->sh;
	uint64_t list;

	pthread_mutex_lock(&s->lock);
	list = shadow_take_tables(s);
	pthread_mutex_unlock(&s->lock);
	/* Emptied tables may sit in paging-structure caches anywhere the
	 * fault path replaced a leaf: drop all of the shadow's. */
	if (list)
		shadow_flush(dom, 0, UINT64_MAX);
	return list;
}

void vtd_shadow_free(struct vtd_dom *dom, uint64_t list)
{
	if (list)
		shadow_free_tables(dom->sh, list);
}

void vtd_shadow_parent_begin(struct vtd_dom *par, uint64_t start, uint64_t last)
{
	for (struct vtd_dom *n = par->children; n; n = n->sibling) {
		uint64_t was_s, was_l;

		if (!n->sh)
			continue;
		pthread_mutex_lock(&n->sh->lock);
		was_s = n->sh_inv_start;
		was_l = n->sh_inv_last;
		shadow_drop_parent(n->sh, start, last, &n->sh_inv_start,
				   &n->sh_inv_last);
		if (n->sh_inv_start != was_s || n->sh_inv_last != was_l)
			vtd_count(par->vi, vtdd_shadow_drop);
	}
}

void vtd_shadow_parent_end(struct vtd_dom *par)
{
	for (struct vtd_dom *n = par->children; n; n = n->sibling)
		if (n->sh)
			pthread_mutex_unlock(&n->sh->lock);
}

void vtd_shadow_parent_sync(struct vtd_dom *par)
{
	for (struct vtd_dom *n = par->children; n; n = n->sibling) {
		if (!n->sh)
			continue;
		if (n->sh_inv_start <= n->sh_inv_last)
			shadow_flush(n, n->sh_inv_start, n->sh_inv_last);
		n->sh_inv_start = UINT64_MAX;
		n->sh_inv_last = 0;
		n->sh_tables = vtd_shadow_take(n);
	}
}

void vtd_shadow_parent_free(struct vtd_dom *par)
{
	for (struct vtd_dom *n = par->children; n; n = n->sibling) {
		if (!n->sh || !n->sh_tables)
			continue;
		vtd_shadow_free(n, n->sh_tables);
		n->sh_tables = 0;
	}
}

void vtd_shadow_parent_resync(struct vtd_dom *par)
{
	for (struct vtd_dom *n = par->children; n; n = n->sibling)
		if (n->sh)
			vtd_shadow_invalidate(n, 0, UINT64_MAX);
}
