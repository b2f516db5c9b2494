// SPDX-License-Identifier: MIT
/*
 * SMMUv3 driver: nesting for a VMM (spec/smmuv3.md §10, iommufd-uapi.md §6,
 * §8).
 *
 *   - vIOMMU (type ARM_SMMUV3) over a NEST_PARENT stage-2 domain: it uses
 *     the parent's VMID, so the guest's stage-1 TLB entries are tagged with
 *     it and its invalidations can be confined to it.
 *   - vDEVICE: the core keeps the vSID -> device table; the driver looks it
 *     up (iommufd_viommu_find_dev / iommufd_viommu_get_vdev_id).
 *   - Nested domains: the guest's STE DW0-1, checked against the fields a
 *     guest may own. The physical STE is the parent's stage-2 STE with
 *     Config = nested, the guest's stage-1 fields (its CD table pointer is
 *     an IPA the SMMU translates through stage 2) and MEV set; it is
 *     written by the STE writer of smmuv3_ste.c (hitless where possible).
 *   - Invalidation: raw guest commands, checked, their VMID replaced by the
 *     vIOMMU's and their vSIDs by physical StreamIDs, then issued with a
 *     CMD_SYNC.
 *   - Events: stage-1 faults of a nested STE go to the vIOMMU's vEVENTQ
 *     with the StreamID replaced by the vSID; stage-2 faults stay with the
 *     host.
 */
#include <errno.h>
#include <string.h>
#include <ionest/ionest.h>
#include <ionest/uapi/iommufd.h>

#include "drivers/inflight.h"
#include "drivers/smmuv3.h"
#include "util/alloc.h"

/* §10.5: the guest STE fields a nested HWPT may carry. */
#define GSTE0_ALLOWED 0xf80fffffffffffffull /* V|Config|S1Fmt|CtxPtr|CDMax */
#define GSTE1_ALLOWED 0x380000ffull /* S1DSS|CIR|COR|CSH|S1STALLD|EATS */
#define STE0_CONFIG_MASK SMMU_MASK(3, 1)
#define STE1_EATS_MASK SMMU_MASK(29, 28)
#define STE1_MEV (1ull << 19)

static struct smmu_viommu *to_sv(struct iommu_viommu *v)
{
	return (struct smmu_viommu *)v;
}

static unsigned gste_config(const struct smmu_domain *d)
{
	if (!STE0_V(d->gste[0]))
		return STE_CFG_ABORT;
	return (unsigned)STE0_CONFIG(d->gste[0]);
}

/* ---- The physical STE ---- */

void smmuv3_nested_ste(const struct smmu_master *m, const struct smmu_domain *d,
		       uint64_t t[4])
{
	unsigned cfg = gste_config(d);

	if (d->sh) {
		smmuv3_shadow_ste(m, d, t);
		return;
	}
	memset(t, 0, 4 * sizeof(t[0]));
	if (cfg == STE_CFG_ABORT) {
		t[0] = 1ull; /* V=1, Config = abort */
		return;
	}
	/* Bypass translates with the parent's stage 2 alone. */
	t[0] = 1ull | (uint64_t)STE_CFG_S2 << 1;
	t[2] = smmuv3_ste_s2_words(d->parent, &t[3]);
	if (cfg == STE_CFG_BYPASS)
		return;
	/* §10.5: guest DW0 (without Config) and DW1 over the host's stage 2,
	 * Config = nested, MEV forced; EATS re-derived: translated requests
	 * only if the guest asked and the function may use ATS (the parent's
	 * invalidations reach its ATC through the parent's attachment list,
	 * smmuv3_domain.c). */
	t[0] = (d->gste[0] & ~STE0_CONFIG_MASK) | (uint64_t)STE_CFG_NESTED << 1;
	t[1] = (d->gste[1] & ~STE1_EATS_MASK) | STE1_MEV;
	if (d->nested_ats && m->dev->ats_usable)
		t[1] |= (uint64_t)EATS_TRANS << 28;
}

/* ---- Nested domains ---- */

static int nested_attach_dev(struct iommu_domain *dom, struct iommu_dev *dev)
{
	struct smmu_domain *d = to_smmu_dom(dom);
	struct smmu_master *m = dev->priv;
	uint64_t vsid;

	if (dom->inst != dev->inst || !m)
		return -EINVAL;
	/* §10.4: a translating vSTE needs the vSID (CFGI/ATC conversion and
	 * events); abort and bypass do not. */
	if (gste_config(d) == STE_CFG_S1 &&
	    iommufd_viommu_get_vdev_id(&d->viommu->base, dev, &vsid))
		return -ENOENT;
	/* The guest owns the CD table: no host PASID may be in it. */
	if (m->npasids)
		return -EBUSY;
	return smmuv3_attach_dev(dom, dev);
}

static int nested_set_dev_pasid(struct iommu_domain *dom, struct iommu_dev *dev,
				uint32_t pasid)
{
	/* PASIDs of a nested RID are the guest's (its CD table). */
	return -EOPNOTSUPP;
}

static void nested_free(struct iommu_domain *dom)
{
	struct smmu_domain *d = to_smmu_dom(dom);
	struct smmu_drv *s = d->s;

	/* Nothing is attached any more: no DMA walks it after this, and an
	 * event drain that found it (under evtq_lock) has finished. */
	inflight_wait();
	pthread_mutex_lock(&s->evtq_lock);
	pthread_mutex_unlock(&s->evtq_lock);
	smmuv3_shadow_fini(d);
	pthread_mutex_destroy(&d->lock);
	xfree(d->att);
	xfree(d);
}

static const struct iommu_domain_ops smmuv3_nested_ops = {
	.attach_dev = nested_attach_dev,
	.set_dev_pasid = nested_set_dev_pasid,
	.free = nested_free,
};

/* §10.5: the checks of the guest's STE words. V=0 is an abort STE. */
static int gste_check(uint64_t ste[2])
{
	unsigned cfg, eats;

	if (!STE0_V(ste[0])) {
		ste[0] = ste[1] = 0;
		return 0;
	}
	if ((ste[0] & ~GSTE0_ALLOWED) || (ste[1] & ~GSTE1_ALLOWED))
		return -EIO;
	cfg = (unsigned)STE0_CONFIG(ste[0]);
	if (cfg != STE_CFG_ABORT && cfg != STE_CFG_BYPASS && cfg != STE_CFG_S1)
		return -EIO;
	eats = (unsigned)STE1_EATS(ste[1]);
	if (eats != EATS_ABORT && eats != EATS_TRANS)
		return -EIO;
	return 0;
}

static int viommu_alloc_domain_nested(struct iommu_viommu *v,
				      struct iommu_dev *dev, uint32_t flags,
				      const struct iommu_user_data *data,
				      struct iommu_domain **out)
{
	struct smmu_viommu *sv = to_sv(v);
	struct iommu_hwpt_arm_smmuv3 arg;
	struct smmu_domain *d;
	int rc;

	if (flags & ~(uint32_t)IOMMU_DOMAIN_F_PASID)
		return -EOPNOTSUPP;
	if (data->type != IOMMU_HWPT_DATA_ARM_SMMUV3)
		return -EOPNOTSUPP;
	rc = iommu_user_data_get(data, IOMMU_HWPT_DATA_ARM_SMMUV3, &arg,
				 sizeof(arg), sizeof(arg));
	if (rc)
		return rc;
	if (dev->inst != v->inst)
		return -EINVAL;
	rc = gste_check(arg.ste);
	if (rc)
		return rc;
	d = xzalloc(sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->s = sv->s;
	d->s2 = true;
	d->nested = true;
	d->gste[0] = arg.ste[0];
	d->gste[1] = arg.ste[1];
	d->nested_ats = gste_config(d) == STE_CFG_S1 &&
			STE1_EATS(arg.ste[1]) == EATS_TRANS;
	d->parent = sv->parent;
	d->viommu = sv;
	d->vmid = sv->vmid;
	pthread_mutex_init(&d->lock, NULL);
	d->base.type = IOMMU_DOMAIN_NESTED;
	d->base.ops = &smmuv3_nested_ops;
	d->base.inst = v->inst;
	d->base.flags = flags;
	d->base.aperture_start = 0;
	d->base.aperture_last = UINT64_MAX;
	d->base.enforce_cache_coherency = true;
	/* Software nesting: the guest's stage 1 is shadowed. */
	if (dev->inst->nesting == IONEST_NESTING_SHADOW) {
		rc = smmuv3_shadow_init(d);
		if (rc) {
			pthread_mutex_destroy(&d->lock);
			xfree(d);
			return rc;
		}
	}
	*out = &d->base;
	return 0;
}

/* ---- vIOMMU invalidation ---- */

/* Fields of the commands a guest may send, besides the opcode (the
 * architecture's layouts, spec/smmuv3.md §8). */
#define F_SSID SMMU_MASK(31, 12)
#define F_SID SMMU_MASK(63, 32)
#define F_VMID SMMU_MASK(47, 32)
#define F_ASID SMMU_MASK(63, 48)
#define F_RANGE (SMMU_MASK(16, 12) | SMMU_MASK(24, 20)) /* NUM, SCALE */
#define F1_VA (SMMU_MASK(0, 0) | SMMU_MASK(9, 8) | SMMU_MASK(63, 12))
#define F1_TG SMMU_MASK(11, 10)
#define F1_TTL SMMU_MASK(9, 8)

/* Range fields of TLBI_NH_VA/VAA: TG a granule the SMMU has (with RIL),
 * or no TG and then no NUM, SCALE or TTL. */
static bool range_ok(const struct smmu_drv *s, const uint64_t c[2])
{
	unsigned tg = (unsigned)SMMU_BITS(c[1], 11, 10);
	static const uint32_t gran[4] = { 0, IDR5_GRAN4K, IDR5_GRAN16K,
					  IDR5_GRAN64K };

	if (!s->ril)
		return !(c[0] & F_RANGE) && !(c[1] & (F1_TG | F1_TTL));
	if (tg)
		return s->idr[5] & gran[tg];
	return !(c[0] & F_RANGE) && !(c[1] & F1_TTL);
}

/* One guest command made physical in @c; -EIO if the guest may not send
 * it or it names a vSID without a vDEVICE. */
static int guest_cmd(struct smmu_viommu *sv, uint64_t c[2])
{
	struct smmu_drv *s = sv->s;
	unsigned op = (unsigned)CMD_OP(c[0]);
	uint64_t dw0 = 0, dw1 = 0;
	struct iommu_dev *dev;
	bool by_sid = false;

	switch (op) {
	case CMD_TLBI_NSNH_ALL:
		/* The guest's "everything" is everything of its VMID. */
		c[0] = CMD_TLBI_NH_ALL;
		c[1] = 0;
		break;
	case CMD_TLBI_NH_ALL:
		dw0 = F_VMID;
		break;
	case CMD_TLBI_NH_ASID:
		dw0 = F_VMID | F_ASID;
		break;
	case CMD_TLBI_NH_VA:
		dw0 = F_VMID | F_ASID | F_RANGE;
		dw1 = F1_VA | F1_TG;
		break;
	case CMD_TLBI_NH_VAA:
		dw0 = F_VMID | F_RANGE;
		dw1 = F1_VA | F1_TG;
		break;
	case CMD_ATC_INV:
		if (!s->ats)
			return -EIO;
		dw0 = SMMU_MASK(9, 9) | SMMU_MASK(11, 11) | F_SSID | F_SID;
		dw1 = SMMU_MASK(5, 0) | SMMU_MASK(63, 12);
		by_sid = true;
		break;
	case CMD_CFGI_CD:
		dw0 = F_SSID | F_SID;
		dw1 = SMMU_MASK(0, 0);
		by_sid = true;
		break;
	case CMD_CFGI_CD_ALL:
		dw0 = F_SID;
		by_sid = true;
		break;
	default:
		return -EIO;
	}
	if ((c[0] & ~(dw0 | 0xffull)) || (c[1] & ~dw1))
		return -EIO;
	if ((op == CMD_TLBI_NH_VA || op == CMD_TLBI_NH_VAA) && !range_ok(s, c))
		return -EIO;
	if (op == CMD_ATC_INV && (c[0] & SMMU_MASK(11, 11)) && !s->ssid_bits)
		return -EIO;
	if (by_sid) {
		dev = iommufd_viommu_find_dev(&sv->base, c[0] >> 32);
		if (!dev || !dev->priv)
			return -EIO;
		c[0] = (c[0] & ~F_SID) | (uint64_t)dev->rid << 32;
	} else {
		c[0] = (c[0] & ~F_VMID) | (uint64_t)sv->vmid << 32;
	}
	return 0;
}

static int viommu_cache_invalidate(struct iommu_viommu *v,
				   struct iommu_user_data_array *a)
{
	struct smmu_viommu *sv = to_sv(v);
	struct smmu_cmdbuf b = { .n = 0 };
	struct iommu_viommu_arm_smmuv3_invalidate inv;
	uint32_t i;
	int rc = 0;

	if (a->type != IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3) {
		a->entry_num = 0;
		return -EINVAL;
	}
	for (i = 0; i < a->entry_num; i++) {
		uint64_t c[2];

		rc = iommu_user_array_get(
			a, IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3, i, &inv,
			sizeof(inv), sizeof(inv));
		if (rc)
			break;
		c[0] = inv.cmd[0];
		c[1] = inv.cmd[1];
		rc = guest_cmd(sv, c);
		if (rc)
			break;
		/* Software nesting: the shadows follow the guest's
		 * configuration and TLB invalidations. */
		if (v->inst->nesting == IONEST_NESTING_SHADOW &&
		    CMD_OP(c[0]) != CMD_ATC_INV) {
			smmuv3_shadow_cmd(sv, c);
			continue;
		}
		smmuv3_count(sv->s, CMD_OP(c[0]) == CMD_ATC_INV ? drv_atc_inv :
				    CMD_OP(c[0]) >= CMD_TLBI_NH_ALL ? drv_tlbi :
								      drv_cmd);
		smmuv3_cmd_add(sv->s, &b, c[0], c[1]);
	}
	/* What was handled is complete when we return, also on error. */
	if (i)
		smmuv3_cmd_sync(sv->s, &b);
	inflight_wait();
	a->entry_num = i;
	return rc;
}

/* ---- vIOMMU ---- */

static void viommu_destroy(struct iommu_viommu *v)
{
	/* Its nested domains are freed, so no event names it any more. */
	xfree(to_sv(v));
}

static int viommu_vdevice_init(struct iommu_vdevice *vd)
{
	/* A vSID is a StreamID: 32 bits. */
	return vd->virt_id > UINT32_MAX ? -EINVAL : 0;
}

static const struct iommu_viommu_ops smmuv3_viommu_ops = {
	.destroy = viommu_destroy,
	.alloc_domain_nested = viommu_alloc_domain_nested,
	.cache_invalidate = viommu_cache_invalidate,
	.hw_queue_data_type = IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3,
	.hw_queue_entry_len = sizeof(struct iommu_viommu_arm_smmuv3_invalidate),
	.vdevice_init = viommu_vdevice_init,
};

bool smmuv3_viommu_supported(struct iommu_dev *dev, uint32_t type)
{
	struct smmu_drv *s = dev->inst->priv;

	/* Without stage 2 through software nesting only. */
	return type == IOMMU_VIOMMU_TYPE_ARM_SMMUV3 && s->s1p &&
	       (s->s2p || dev->inst->nesting == IONEST_NESTING_SHADOW);
}

int smmuv3_viommu_alloc(struct iommu_dev *dev, struct iommu_domain *parent,
			uint32_t type, struct iommu_user_data *data,
			struct iommu_viommu **out)
{
	struct smmu_drv *s = dev->inst->priv;
	struct smmu_domain *p = to_smmu_dom(parent);
	struct smmu_viommu *sv;
	uint8_t none;
	int rc;

	if (!smmuv3_viommu_supported(dev, type))
		return -EOPNOTSUPP;
	if (parent->inst != dev->inst || parent->type != IOMMU_DOMAIN_PAGING ||
	    !p->nest_parent)
		return -EINVAL;
	/* The type has no data: any byte of it is too long. */
	if (data && data->len) {
		rc = iommu_user_data_get(data, type, &none, 0, 0);
		return rc ? rc : -EINVAL;
	}
	sv = xzalloc(sizeof(*sv));
	if (!sv)
		return -ENOMEM;
	sv->base.ops = &smmuv3_viommu_ops;
	sv->base.inst = dev->inst;
	sv->base.parent = parent;
	sv->base.type = type;
	sv->s = s;
	sv->parent = p;
	sv->vmid = p->vmid;
	if (data)
		data->out_len = 0;
	*out = &sv->base;
	return 0;
}

/* ---- Events ---- */

/* §10.8: the records a guest gets; translation-class faults only when
 * stage 1 made them. */
static bool guest_event(const uint64_t ev[4])
{
	switch (ev[0] & 0xff) {
	case EVT_C_BAD_STE:
	case EVT_F_STREAM_DISABLED:
	case EVT_C_BAD_SUBSTREAMID:
	case EVT_C_BAD_CD:
		return true;
	case EVT_F_TRANSLATION:
	case EVT_F_ADDR_SIZE:
	case EVT_F_ACCESS:
	case EVT_F_PERMISSION:
		return !(ev[1] & EVT1_S2);
	default:
		return false;
	}
}

bool smmuv3_nested_event(struct smmu_drv *s, const uint64_t ev[4])
{
	uint32_t sid = (uint32_t)(ev[0] >> EVT0_SID_SHIFT);
	struct smmu_master *m;
	struct smmu_domain *d;
	struct iommu_vevent_arm_smmuv3 out;
	uint64_t vsid;

	if (!guest_event(ev))
		return false;
	m = smmuv3_sid_master(s, sid);
	if (!m)
		return false;
	/* Alive while we hold evtq_lock (nested_free takes it). */
	d = __atomic_load_n(&m->rid_dom, __ATOMIC_ACQUIRE);
	if (!d || !d->nested ||
	    iommufd_viommu_get_vdev_id(&d->viommu->base, m->dev, &vsid))
		return false;
	memcpy(out.evt, ev, sizeof(out.evt));
	out.evt[0] = (out.evt[0] & ~SMMU_MASK(63, 32)) | vsid << 32;
	/* No queue, or no memory (a LOST_EVENTS mark then): the host keeps
	 * the record. */
	return iommufd_viommu_report_event(&d->viommu->base,
					   IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, &out,
					   sizeof(out)) == 0;
}
