// SPDX-License-Identifier: MIT
/*
 * The Arm SMMUv3 host driver (file map in smmuv3.h): probe of the ID
 * registers, reset and enable, devices, hw_info and reserved regions.
 *
 * Reset (spec/smmuv3.md §1): SMMUEN off, GBPA abort (so nothing bypasses
 * while the tables are set up), CR1 table/queue attributes, CR2, stream
 * table, command queue enabled, every cached configuration and TLB entry
 * invalidated, event and PRI queues enabled, their interrupts and GERROR's
 * enabled, then SMMUEN; each CR0 write waits for CR0ACK. fini disables
 * everything again and frees what init allocated.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <ionest/uapi/iommufd.h>

#include "drivers/inflight.h"
#include "drivers/smmuv3.h"
#include "hw/hw.h"
#include "util/alloc.h"

static const char *const smmuv3_counter_names[] = { SMMUV3_COUNTERS(CTR_NAME) };

/* ---- registers ---- */

uint32_t smmuv3_rd32(struct smmu_drv *s, uint64_t off)
{
	uint64_t v = 0;

	ionest_hw_mmio_read(s->hw, off, 4, &v);
	return (uint32_t)v;
}

void smmuv3_wr32(struct smmu_drv *s, uint64_t off, uint32_t v)
{
	ionest_hw_mmio_write(s->hw, off, 4, v);
}

void smmuv3_wr64(struct smmu_drv *s, uint64_t off, uint64_t v)
{
	ionest_hw_mmio_write(s->hw, off, 8, v);
}

void *smmuv3_table_alloc(size_t bytes)
{
	size_t align = 64;

	/* Tables and queues are aligned to their size (§1, §3). */
	while (align < bytes)
		align <<= 1;
	return xaligned_zalloc(align, bytes);
}

/* Write a register and wait until its acknowledge register follows. */
static int write_ack(struct smmu_drv *s, uint64_t reg, uint64_t ack, uint32_t v)
{
	smmuv3_wr32(s, reg, v);
	for (unsigned i = 0; i < 100000; i++) {
		if (smmuv3_rd32(s, ack) == v)
			return 0;
		if (i > 64)
			sched_yield();
	}
	return -ETIMEDOUT;
}

static int gbpa_abort(struct smmu_drv *s)
{
	smmuv3_wr32(s, SMMU_GBPA, GBPA_UPDATE | GBPA_ABORT);
	for (unsigned i = 0; i < 100000; i++) {
		if (!(smmuv3_rd32(s, SMMU_GBPA) & GBPA_UPDATE))
			return 0;
		if (i > 64)
			sched_yield();
	}
	return -ETIMEDOUT;
}

/* ---- probe of the ID registers (§2) ---- */

static int probe_idr(struct smmu_drv *s)
{
	uint32_t i0, i1, i5;
	unsigned oas_enc;

	for (unsigned i = 0; i < 6; i++)
		s->idr[i] = smmuv3_rd32(s, SMMU_IDR0 + 4 * i);
	s->iidr = smmuv3_rd32(s, SMMU_IIDR);
	s->aidr = smmuv3_rd32(s, SMMU_AIDR);
	i0 = s->idr[0];
	i1 = s->idr[1];
	i5 = s->idr[5];
	/* The driver needs AArch64 tables, coherent table walks (DMA is
	 * coherent in ionest) and at least one translation stage. */
	if (!(SMMU_BITS(i0, 3, 2) & 2) || !(i0 & IDR0_COHACC) ||
	    !(i0 & (IDR0_S1P | IDR0_S2P)))
		return -ENXIO;
	/* Little-endian tables (TTENDIAN mixed or LE). */
	if (SMMU_BITS(i0, 22, 21) == 3)
		return -ENXIO;
	/* Host memory is addressed with 47-bit VAs: 48-bit output. */
	oas_enc = i5 & 7;
	if (oas_enc < 5 || oas_enc == 7)
		return -ENXIO;
	s->oas_enc = 5;
	/* The smallest granule on offer, preferring the host page size. */
	if (i5 & IDR5_GRAN4K)
		s->gran = 12;
	else if (i5 & IDR5_GRAN16K)
		s->gran = 14;
	else if (i5 & IDR5_GRAN64K)
		s->gran = 16;
	else
		return -ENXIO;
	s->s1p = i0 & IDR0_S1P;
	s->s2p = i0 & IDR0_S2P;
	s->ats = i0 & IDR0_ATS;
	s->pri = i0 & IDR0_PRI;
	s->cd2l = i0 & IDR0_CD2L;
	s->hyp = i0 & IDR0_HYP;
	s->hd = SMMU_BITS(i0, 7, 6) == 2;
	s->asid16 = i0 & IDR0_ASID16;
	s->vmid16 = i0 & IDR0_VMID16;
	s->ril = s->idr[3] & IDR3_RIL;
	s->asid_bits = s->asid16 ? 16 : 8;
	s->vmid_bits = s->vmid16 ? 16 : 8;
	/* Linear CD tables hold at most 1024 CDs (as Linux). */
	s->ssid_bits = SMMU_BITS(i1, 10, 6);
	if (!s->cd2l && s->ssid_bits > SMMUV3_CD_L2_LOG2)
		s->ssid_bits = SMMUV3_CD_L2_LOG2;
	if (!s->s1p)
		s->ssid_bits = 0;
	return 0;
}

/* ---- queues ---- */

static int queue_alloc(struct smmu_queue_mem *q, unsigned want, unsigned max,
		       unsigned dwords)
{
	q->log2 = want < max ? want : max;
	q->dwords = dwords;
	q->base = smmuv3_table_alloc(((size_t)dwords * 8) << q->log2);
	return q->base ? 0 : -ENOMEM;
}

static uint64_t queue_base(const struct smmu_queue_mem *q)
{
	return BASE_RA | ((uint64_t)(uintptr_t)q->base & Q_BASE_ADDR) | q->log2;
}

static void smmuv3_free_state(struct smmu_drv *s)
{
	smmuv3_strtab_fini(s);
	xfree(s->cmdq.base);
	xfree(s->evtq.base);
	xfree(s->priq.base);
	xfree(s->asid_map);
	xfree(s->vmid_map);
	pthread_mutex_destroy(&s->cmdq_lock);
	pthread_mutex_destroy(&s->evtq_lock);
	pthread_mutex_destroy(&s->priq_lock);
	pthread_mutex_destroy(&s->sh_lock);
	smmu_stalls_fini(&s->stalls);
	xfree(s);
}

static int smmuv3_reset(struct smmu_drv *s)
{
	uint32_t irq = IRQ_CTRL_GERROR | IRQ_CTRL_EVTQ;
	uint32_t en;
	int rc;

	rc = write_ack(s, SMMU_CR0, SMMU_CR0ACK, 0);
	if (!rc)
		rc = gbpa_abort(s);
	if (!rc)
		rc = write_ack(s, SMMU_IRQ_CTRL, SMMU_IRQ_CTRLACK, 0);
	if (rc)
		return rc;
	/* Tables and queues: inner shareable, write-back cacheable. */
	smmuv3_wr32(s, SMMU_CR1,
		    3u << 10 | 1u << 8 | 1u << 6 | 3u << 4 | 1u << 2 | 1u);
	/* Record events for unknown StreamIDs; private TLB maintenance. */
	smmuv3_wr32(s, SMMU_CR2, CR2_RECINVSID | CR2_PTM);
	rc = smmuv3_strtab_init(s);
	if (rc)
		return rc;

	smmuv3_wr64(s, SMMU_CMDQ_BASE, queue_base(&s->cmdq));
	smmuv3_wr32(s, SMMU_CMDQ_PROD, 0);
	smmuv3_wr32(s, SMMU_CMDQ_CONS, 0);
	s->cmdq_prod = 0;
	en = CR0_CMDQEN;
	rc = write_ack(s, SMMU_CR0, SMMU_CR0ACK, en);
	if (rc)
		return rc;
	/* Nothing cached from before us survives. */
	{
		struct smmu_cmdbuf b = { .n = 0 };

		smmuv3_cmd_add(s, &b, CMD_CFGI_STE_RANGE, 31);
		if (s->hyp)
			smmuv3_cmd_add(s, &b, CMD_TLBI_EL2_ALL, 0);
		smmuv3_cmd_add(s, &b, CMD_TLBI_NSNH_ALL, 0);
		smmuv3_cmd_sync(s, &b);
	}

	smmuv3_wr64(s, SMMU_EVTQ_BASE, queue_base(&s->evtq));
	smmuv3_wr32(s, SMMU_EVTQ_PROD, 0);
	smmuv3_wr32(s, SMMU_EVTQ_CONS, 0);
	en |= CR0_EVTQEN;
	if (s->pri) {
		smmuv3_wr64(s, SMMU_PRIQ_BASE, queue_base(&s->priq));
		smmuv3_wr32(s, SMMU_PRIQ_PROD, 0);
		smmuv3_wr32(s, SMMU_PRIQ_CONS, 0);
		en |= CR0_PRIQEN;
		irq |= IRQ_CTRL_PRIQ;
	}
	rc = write_ack(s, SMMU_CR0, SMMU_CR0ACK, en);
	if (!rc)
		rc = write_ack(s, SMMU_IRQ_CTRL, SMMU_IRQ_CTRLACK, irq);
	if (!rc)
		rc = write_ack(s, SMMU_CR0, SMMU_CR0ACK, en | CR0_SMMUEN);
	return rc;
}

static void smmuv3_disable(struct smmu_drv *s)
{
	write_ack(s, SMMU_CR0, SMMU_CR0ACK, 0);
	write_ack(s, SMMU_IRQ_CTRL, SMMU_IRQ_CTRLACK, 0);
	gbpa_abort(s);
}

static int smmuv3_init(struct iommu_inst *inst)
{
	struct smmu_drv *s = xzalloc(sizeof(*s));
	pthread_mutexattr_t a;
	int rc;

	if (!s)
		return -ENOMEM;
	s->inst = inst;
	s->hw = inst->hw;
	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&s->cmdq_lock, &a);
	pthread_mutexattr_destroy(&a);
	pthread_mutex_init(&s->evtq_lock, NULL);
	pthread_mutex_init(&s->priq_lock, NULL);
	pthread_mutex_init(&s->sh_lock, NULL);
	smmu_stalls_init(&s->stalls);
	rc = probe_idr(s);
	if (rc)
		goto fail;
	rc = smmuv3_stall_init(s);
	if (rc)
		goto fail;
	if (rc)
		goto fail;
	rc = -ENOMEM;
	s->asid_map = xcalloc((1u << s->asid_bits) / 64, sizeof(uint64_t));
	s->vmid_map = xcalloc((1u << s->vmid_bits) / 64, sizeof(uint64_t));
	if (!s->asid_map || !s->vmid_map)
		goto fail;
	if (queue_alloc(&s->cmdq, SMMUV3_CMDQ_LOG2,
			SMMU_BITS(s->idr[1], 25, 21), 2) ||
	    queue_alloc(&s->evtq, SMMUV3_EVTQ_LOG2,
			SMMU_BITS(s->idr[1], 20, 16), 4) ||
	    (s->pri && queue_alloc(&s->priq, SMMUV3_PRIQ_LOG2,
				   SMMU_BITS(s->idr[1], 15, 11), 2)))
		goto fail;
	ionest_hw_set_irq_handler(s->hw, smmuv3_irq, s);
	if (s->ats)
		ionest_hw_set_atc_inv_handler(s->hw, smmuv3_atc_inv_handler, s);
	rc = smmuv3_reset(s);
	if (rc) {
		smmuv3_disable(s);
		ionest_hw_set_irq_handler(s->hw, NULL, NULL);
		ionest_hw_set_atc_inv_handler(s->hw, NULL, NULL);
		goto fail;
	}
	snprintf(s->ctr_name, sizeof(s->ctr_name), "%s-drv",
		 ionest_hw_name(s->hw));
	ctr_register(&s->ctr, s->ctr_name, smmuv3_counter_names, s->ctr_val,
		     SMMUV3_COUNTER_COUNT);
	inst->priv = s;
	/* A nested STE points at the guest's CD table (smmuv3.md §10). */
	inst->user_pasid_table = s->s1p && s->s2p;
	return 0;
fail:
	smmuv3_free_state(s);
	return rc;
}

static void smmuv3_fini(struct iommu_inst *inst)
{
	struct smmu_drv *s = inst->priv;

	smmuv3_disable(s);
	ionest_hw_set_irq_handler(s->hw, NULL, NULL);
	ionest_hw_set_atc_inv_handler(s->hw, NULL, NULL);
	/* A handler may still be running on a DMA thread. */
	inflight_wait();
	ctr_unregister(&s->ctr);
	smmuv3_free_state(s);
	inst->priv = NULL;
}

struct smmu_drv *smmuv3_of(struct iommu_inst *inst)
{
	return inst && inst->drv == &smmuv3_driver ? inst->priv : NULL;
}

/* ---- devices ---- */

static int smmuv3_probe_device(struct iommu_inst *inst, struct iommu_dev *dev)
{
	struct smmu_drv *s = inst->priv;
	struct smmu_master *m, **map;
	uint64_t *ste;
	int rc = 0;

	if ((uint64_t)dev->rid >> s->sid_bits)
		return -EINVAL;
	m = xzalloc(sizeof(*m));
	if (!m)
		return -ENOMEM;
	pthread_mutex_lock(&inst->lock);
	map = s->masters[dev->rid >> 8];
	if (!map) {
		map = xcalloc(256, sizeof(*map));
		if (!map) {
			rc = -ENOMEM;
			goto out;
		}
		__atomic_store_n(&s->masters[dev->rid >> 8], map,
				 __ATOMIC_RELEASE);
	}
	if (map[dev->rid & 0xff]) {
		rc = -EEXIST;
		goto out;
	}
	rc = smmuv3_strtab_ste(s, dev->rid, &ste);
	if (rc)
		goto out;
	m->s = s;
	m->dev = dev;
	m->sid = dev->rid;
	m->ste = ste;
	__atomic_store_n(&map[dev->rid & 0xff], m, __ATOMIC_RELEASE);
out:
	pthread_mutex_unlock(&inst->lock);
	if (rc) {
		xfree(m);
		return rc;
	}
	if (dev->pasid_bits && s->ssid_bits) {
		unsigned bits = dev->pasid_bits < s->ssid_bits ?
					dev->pasid_bits :
					s->ssid_bits;

		dev->max_pasids = 1u << bits;
	}
	dev->ats_usable = dev->ats && s->ats;
	dev->dirty_capable = s->s1p && s->hd;
	dev->coherent = true; /* IDR0.COHACC */
	dev->priv = m;
	/* Blocked until attached (a StreamID used before may be stale). */
	smmuv3_master_update_ste(m);
	return 0;
}

static void smmuv3_release_device(struct iommu_dev *dev)
{
	struct smmu_master *m = dev->priv;
	struct smmu_drv *s;

	if (!m)
		return;
	s = m->s;
	smmuv3_master_detach_all(m);
	/* Unpublish, then a command round trip: an ATC handler that found
	 * the master has finished (it runs under cmdq_lock). */
	pthread_mutex_lock(&s->inst->lock);
	__atomic_store_n(&s->masters[m->sid >> 8][m->sid & 0xff], NULL,
			 __ATOMIC_RELEASE);
	pthread_mutex_unlock(&s->inst->lock);
	pthread_mutex_lock(&s->cmdq_lock);
	pthread_mutex_unlock(&s->cmdq_lock);
	inflight_wait();
	smmuv3_cdtab_free(m);
	xfree(m->pasids);
	xfree(m);
	dev->priv = NULL;
}

static int smmuv3_hw_info(struct iommu_dev *dev, uint32_t req_type,
			  struct iommu_hw_info_out *out)
{
	struct smmu_drv *s = dev->inst->priv;
	struct iommu_hw_info_arm_smmuv3 info = { 0 };

	if (req_type != IOMMU_HW_INFO_TYPE_DEFAULT &&
	    req_type != IOMMU_HW_INFO_TYPE_ARM_SMMUV3)
		return -EOPNOTSUPP;
	/* Raw copies of the ID registers, as Linux reports them. */
	for (unsigned i = 0; i < 6; i++)
		info.idr[i] = smmuv3_rd32(s, SMMU_IDR0 + 4 * i);
	info.iidr = smmuv3_rd32(s, SMMU_IIDR);
	info.aidr = smmuv3_rd32(s, SMMU_AIDR);
	_Static_assert(sizeof(info) <= IOMMU_HW_INFO_MAX_LEN, "hw_info size");
	out->type = IOMMU_HW_INFO_TYPE_ARM_SMMUV3;
	out->len = sizeof(info);
	memcpy(out->data, &info, sizeof(info));
	return 0;
}

static int smmuv3_get_resv_regions(struct iommu_dev *dev,
				   struct iommu_resv_region *out)
{
	/* MSIs are translated like DMA: a software-managed window. */
	out[0] = (struct iommu_resv_region){
		.start = SMMUV3_MSI_START,
		.last = SMMUV3_MSI_LAST,
		.type = IOMMU_RESV_SW_MSI,
	};
	return 1;
}

const struct iommu_driver smmuv3_driver = {
	.model = "smmuv3",
	.init = smmuv3_init,
	.fini = smmuv3_fini,
	.probe_device = smmuv3_probe_device,
	.release_device = smmuv3_release_device,
	.hw_info = smmuv3_hw_info,
	.domain_alloc_paging = smmuv3_domain_alloc_paging,
	.attach_blocked = smmuv3_attach_blocked,
	.remove_dev_pasid = smmuv3_remove_dev_pasid,
	.get_resv_regions = smmuv3_get_resv_regions,
	.page_response = smmuv3_page_response,
	.viommu_supported = smmuv3_viommu_supported,
	.viommu_alloc = smmuv3_viommu_alloc,
};
