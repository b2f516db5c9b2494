// SPDX-License-Identifier: MIT
/*
 * The VT-d driver: probe and teardown of an instance, the scalable-mode
 * root and context tables, devices, IOMMU_GET_HW_INFO data and reserved
 * regions (see vtd.h for the other files).
 *
 * Probe (vtd.md §1-§3), as a scalable-mode driver brings a unit up:
 * VER/CAP/ECAP; require scalable mode (SMTS), queued invalidation (QI) and
 * second-stage translation (SSTS); choose the second-stage width (AGAW)
 * from SAGAW within MGAW; fault event and page request queue; root table
 * with RTADDR.TTM = scalable and the SRTP handshake; the invalidation
 * queue with 256-bit descriptors and QIE; global context-cache, PASID-
 * cache and IOTLB invalidations; then TE. GCMD commands are acknowledged
 * in GSTS, which is polled; TE and QIE are levels, so every GCMD write
 * carries the ones already set.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <ionest/ionest.h>
#include <ionest/uapi/iommufd.h>

#include "drivers/inflight.h"
#include "drivers/vtd.h"
#include "util/alloc.h"

#define GSTS_POLL_LIMIT (1u << 20)

static const char *const vtdd_counter_names[] = { VTD_DRV_COUNTERS(CTR_NAME) };

/* ---- registers and memory ---- */

uint32_t vtd_rd32(struct vtd_inst *vi, uint64_t off)
{
	uint64_t v = 0;

	ionest_hw_mmio_read(vi->hw, off, 4, &v);
	return (uint32_t)v;
}

uint64_t vtd_rd64(struct vtd_inst *vi, uint64_t off)
{
	uint64_t v = 0;

	ionest_hw_mmio_read(vi->hw, off, 8, &v);
	return v;
}

void vtd_wr32(struct vtd_inst *vi, uint64_t off, uint32_t val)
{
	ionest_hw_mmio_write(vi->hw, off, 4, val);
}

void vtd_wr64(struct vtd_inst *vi, uint64_t off, uint64_t val)
{
	ionest_hw_mmio_write(vi->hw, off, 8, val);
}

void *vtd_table_alloc(struct vtd_inst *vi, size_t size)
{
	void *p = xaligned_zalloc(4096, size);
	uint64_t last = (uint64_t)(uintptr_t)p + size - 1;

	/* Pointers in tables and registers hold HAW bits. */
	if (p && vi->haw < 64 && (last >> vi->haw)) {
		xfree(p);
		return NULL;
	}
	return p;
}

/* GCMD: set/clear a level bit (TE, QIE) or issue a one-shot command
 * (SRTP), then wait for GSTS to show it. */
static int gcmd(struct vtd_inst *vi, uint32_t bit, bool on)
{
	bool oneshot = bit == VTD_GCMD_SRTP;
	uint32_t want;

	if (!oneshot)
		vi->gcmd = on ? vi->gcmd | bit : vi->gcmd & ~bit;
	vtd_wr32(vi, VTD_REG_GCMD, vi->gcmd | (oneshot ? bit : 0));
	want = on || oneshot ? bit : 0;
	for (unsigned i = 0; i < GSTS_POLL_LIMIT; i++) {
		if ((vtd_rd32(vi, VTD_REG_GSTS) & bit) == want)
			return 0;
		sched_yield();
	}
	return -ETIMEDOUT;
}

/* ---- device table (RID -> device) ---- */

static struct vtd_dev *dev_lookup(struct vtd_inst *vi, uint32_t rid)
{
	struct vtd_dev **l2;

	if (rid > 0xffff)
		return NULL;
	l2 = __atomic_load_n(&vi->dev_l1[rid >> 8], __ATOMIC_ACQUIRE);
	return l2 ? __atomic_load_n(&l2[rid & 0xff], __ATOMIC_ACQUIRE) : NULL;
}

struct vtd_dev *vtd_dev_find(struct vtd_inst *vi, uint32_t rid)
{
	return dev_lookup(vi, rid);
}

/* The model's device-TLB invalidations, forwarded to the endpoint. They
 * come from the driver's own queue, on the thread that holds inst->lock,
 * so the table is stable. */
static void vtd_atc_inv(void *ctx, uint32_t sid, uint32_t ssid, bool ssid_valid,
			uint64_t addr, uint64_t size)
{
	struct vtd_dev *vd = dev_lookup(ctx, sid);

	if (vd && vd->dev->atc_inv)
		vd->dev->atc_inv(vd->dev, ssid, ssid_valid, addr, size);
}

/* ---- instance ---- */

/* The second-stage width: the largest SAGAW width that MGAW covers
 * (rounded up to a whole level, as Linux does); false if none. */
static bool pick_agaw(struct vtd_inst *vi)
{
	unsigned sagaw = VTD_CAP_SAGAW(vi->cap);
	unsigned max_aw = (vi->haw - 30 + 8) / 9;

	for (unsigned aw = 3; aw >= 1; aw--) {
		if (aw <= max_aw && (sagaw & (1u << aw))) {
			vi->aw = aw;
			vi->agaw_bits = 30 + 9 * aw;
			return true;
		}
	}
	return false;
}

static int read_caps(struct vtd_inst *vi)
{
	uint64_t need = VTD_ECAP_SMTS | VTD_ECAP_QI | VTD_ECAP_SSTS;

	vi->cap = vtd_rd64(vi, VTD_REG_CAP);
	vi->ecap = vtd_rd64(vi, VTD_REG_ECAP);
	if ((vi->ecap & need) != need || !vtd_rd32(vi, VTD_REG_VER))
		return -ENODEV;
	vi->haw = VTD_CAP_MGAW(vi->cap) + 1;
	/* Host memory is the bus (physical == virtual): tables and pages
	 * are user addresses, which need 47 bits. */
	if (vi->haw < 48 || !pick_agaw(vi))
		return -ENODEV;
	vi->pasid_bits =
		(vi->ecap & VTD_ECAP_PASID) ? VTD_ECAP_PSS(vi->ecap) + 1 : 0;
	vi->ndoms = 1u << (4 + 2 * VTD_CAP_ND(vi->cap));
	vi->nfr = VTD_CAP_NFR(vi->cap) + 1;
	vi->fro = 16ull * VTD_CAP_FRO(vi->cap);
	vi->iro = 16ull * VTD_ECAP_IRO(vi->ecap);
	return 0;
}

static void free_tables(struct vtd_inst *vi)
{
	for (unsigned b = 0; b < 256; b++) {
		xfree(vi->ctx[b][0]);
		xfree(vi->ctx[b][1]);
		xfree(vi->dev_l1[b]);
	}
	xfree(vi->root);
	vtd_qi_fini(vi);
	vtd_did_fini(vi);
}

static int hw_enable(struct vtd_inst *vi)
{
	int rc;

	/* A unit left enabled is turned off first. */
	vi->gcmd = 0;
	if (vtd_rd32(vi, VTD_REG_GSTS) & (VTD_GSTS_TES | VTD_GSTS_QIES)) {
		rc = gcmd(vi, VTD_GCMD_TE | VTD_GCMD_QIE, false);
		if (rc)
			return rc;
	}
	vtd_wr64(vi, VTD_REG_RTADDR,
		 (uint64_t)(uintptr_t)vi->root |
			 (uint64_t)VTD_TTM_SCALABLE << VTD_RTADDR_TTM_SHIFT);
	rc = gcmd(vi, VTD_GCMD_SRTP, true);
	if (!rc)
		rc = vtd_qi_init(vi);
	if (!rc)
		rc = gcmd(vi, VTD_GCMD_QIE, true);
	if (rc)
		return rc;
	/* Nothing cached from before this root table may be used. */
	pthread_mutex_lock(&vi->inst->lock);
	vtd_qi_cc_global(vi);
	vtd_qi_pc_global(vi);
	vtd_qi_iotlb_global(vi);
	rc = vtd_qi_sync(vi);
	pthread_mutex_unlock(&vi->inst->lock);
	if (!rc)
		rc = gcmd(vi, VTD_GCMD_TE, true);
	return rc;
}

/* Translation and the queue off, and no pointer to the driver's memory
 * left latched in the unit (the root table through SRTP, the queue). */
static void hw_disable(struct vtd_inst *vi)
{
	if (vi->gcmd & VTD_GCMD_TE)
		gcmd(vi, VTD_GCMD_TE, false);
	if (vi->gcmd & VTD_GCMD_QIE)
		gcmd(vi, VTD_GCMD_QIE, false);
	vtd_wr64(vi, VTD_REG_RTADDR, 0);
	gcmd(vi, VTD_GCMD_SRTP, true);
	vtd_wr64(vi, VTD_REG_IQA, 0);
	vtd_wr64(vi, VTD_REG_IQT, 0);
}

static int vtd_init(struct iommu_inst *inst)
{
	struct vtd_inst *vi = xzalloc(sizeof(*vi));
	int rc;

	if (!vi)
		return -ENOMEM;
	vi->inst = inst;
	vi->hw = inst->hw;
	rc = read_caps(vi);
	if (rc) {
		xfree(vi);
		return rc;
	}
	vi->root = vtd_table_alloc(vi, 4096);
	if (!vi->root || vtd_did_init(vi)) {
		free_tables(vi);
		xfree(vi);
		return -ENOMEM;
	}
	inst->priv = vi;
	rc = vtd_fault_init(vi);
	if (rc) {
		free_tables(vi);
		xfree(vi);
		inst->priv = NULL;
		return rc;
	}
	rc = hw_enable(vi);
	if (rc) {
		hw_disable(vi);
		vtd_fault_fini(vi);
		free_tables(vi);
		xfree(vi);
		inst->priv = NULL;
		return rc;
	}
	ionest_hw_set_atc_inv_handler(vi->hw, vtd_atc_inv, vi);
	snprintf(vi->ctr_name, sizeof(vi->ctr_name), "%s-drv",
		 ionest_hw_name(vi->hw));
	ctr_register(&vi->ctr, vi->ctr_name, vtdd_counter_names, vi->ctr_val,
		     VTDD_COUNTER_COUNT);
	return 0;
}

static void vtd_fini(struct iommu_inst *inst)
{
	struct vtd_inst *vi = to_vi(inst);

	if (!vi)
		return;
	ctr_unregister(&vi->ctr);
	ionest_hw_set_atc_inv_handler(vi->hw, NULL, NULL);
	hw_disable(vi);
	vtd_fault_fini(vi);
	/* Translation is off: nothing reads the tables any more, but DMA
	 * that started before may still be finishing. */
	inflight_wait();
	free_tables(vi);
	xfree(vi);
	inst->priv = NULL;
}

/* ---- devices ---- */

/* The context entry of @rid, its context table allocated on first use
 * (inst->lock held). */
static uint64_t *ctx_entry(struct vtd_inst *vi, uint32_t rid)
{
	unsigned bus = rid >> 8, devfn = rid & 0xff, half = devfn >= 128;
	uint64_t *ct = vi->ctx[bus][half];

	if (!ct) {
		ct = vtd_table_alloc(vi, 4096);
		if (!ct)
			return NULL;
		vi->ctx[bus][half] = ct;
		/* vtd.md §3: LP at bit 0 / UP at bit 64, pointer bits 63:12
		 * of each half. The table is zero (not present) when
		 * linked. */
		vtd_store(&vi->root[2 * bus + half],
			  (uint64_t)(uintptr_t)ct | VTD_RE_LP);
	}
	return ct + 4 * (devfn & 0x7f);
}

static int dev_slot(struct vtd_inst *vi, uint32_t rid, struct vtd_dev ***slot)
{
	struct vtd_dev **l2 = vi->dev_l1[rid >> 8];

	if (!l2) {
		l2 = xcalloc(256, sizeof(*l2));
		if (!l2)
			return -ENOMEM;
		__atomic_store_n(&vi->dev_l1[rid >> 8], l2, __ATOMIC_RELEASE);
	}
	*slot = &l2[rid & 0xff];
	return 0;
}

static int vtd_probe_device(struct iommu_inst *inst, struct iommu_dev *dev)
{
	struct vtd_inst *vi = to_vi(inst);
	struct vtd_dev *vd, **slot;
	unsigned bits = 0;
	uint64_t ce0;
	int rc;

	if (dev->rid > 0xffff)
		return -EINVAL;
	vd = xzalloc(sizeof(*vd));
	if (!vd)
		return -ENOMEM;
	vd->dev = dev;
	vd->vi = vi;
	/* PASIDs both ends support (ECAP.PSS, the PCI PASID width). */
	if (dev->pasid_bits && vi->pasid_bits)
		bits = dev->pasid_bits < vi->pasid_bits ? dev->pasid_bits :
							  vi->pasid_bits;
	pthread_mutex_lock(&inst->lock);
	rc = dev_slot(vi, dev->rid, &slot);
	if (!rc && *slot)
		rc = -EEXIST;
	if (!rc) {
		vd->ce = ctx_entry(vi, dev->rid);
		rc = vd->ce ? 0 : -ENOMEM;
	}
	if (!rc)
		rc = vtd_pasid_dir_alloc(vd, bits);
	if (rc) {
		pthread_mutex_unlock(&inst->lock);
		xfree(vd);
		return rc;
	}
	dev->max_pasids = bits ? 1u << bits : 0;
	dev->ats_usable = dev->ats && (vi->ecap & VTD_ECAP_DT);
	dev->dirty_capable = vi->ecap & VTD_ECAP_SSADS;
	dev->coherent = true;
	dev->priv = vd;

	/* vtd.md §3: RID_PASID 0, the PASID directory and its size, DTE for
	 * ATS, PASIDE for requests with PASID; P last. PRE stays clear until a
	 * domain with a fault queue is attached (vtd_dev_enable_pri). The
	 * RID_PASID entry is not present: the device starts blocked. */
	ce0 = (uint64_t)(uintptr_t)vd->pdir |
	      (uint64_t)vtd_pasid_pdts(vd) << VTD_CE_PDTS_SHIFT | VTD_CE_P |
	      (dev->ats_usable ? VTD_CE_DTE : 0) |
	      (dev->max_pasids ? VTD_CE_PASIDE : 0);
	vtd_store(&vd->ce[1], VTD_RID_PASID);
	vtd_store(&vd->ce[2], 0);
	vtd_store(&vd->ce[3], 0);
	vtd_store(&vd->ce[0], ce0);
	if (vi->cap & VTD_CAP_CM) {
		vtd_qi_cc_dev(vi, (uint16_t)dev->rid);
		(void)vtd_qi_sync(vi);
	}
	__atomic_store_n(slot, vd, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&inst->lock);
	return 0;
}

static void vtd_release_device(struct iommu_dev *dev)
{
	struct vtd_dev *vd = dev->priv;
	struct vtd_inst *vi;

	if (!vd)
		return;
	vi = vd->vi;
	/* The core detached everything; block whatever is left anyway. */
	while (vd->npas)
		vtd_remove_dev_pasid(dev, vd->pas[vd->npas - 1].pasid);
	vtd_attach_blocked(dev);

	pthread_mutex_lock(&dev->inst->lock);
	/* Context entry not present, then the caches of the device: the
	 * context and PASID entries cached for its source-id, and its
	 * device-TLB. */
	vtd_store(&vd->ce[0], 0);
	vtd_qi_cc_dev(vi, (uint16_t)dev->rid);
	if (dev->ats_usable)
		vtd_qi_devtlb(vi, (uint16_t)dev->rid, false, 0, 0, 0, true);
	(void)vtd_qi_sync(vi);
	vtd_store(&vd->ce[1], 0);
	__atomic_store_n(&vi->dev_l1[dev->rid >> 8][dev->rid & 0xff], NULL,
			 __ATOMIC_RELEASE);
	pthread_mutex_unlock(&dev->inst->lock);

	inflight_wait();
	vtd_pasid_dir_free(vd);
	xfree(vd->pas);
	xfree(vd);
	dev->priv = NULL;
}

/* ---- GET_HW_INFO, reserved regions ---- */

static int vtd_hw_info(struct iommu_dev *dev, uint32_t req_type,
		       struct iommu_hw_info_out *out)
{
	struct vtd_inst *vi = to_vi(dev->inst);
	struct iommu_hw_info_vtd info = { 0 };

	if (req_type != IOMMU_HW_INFO_TYPE_DEFAULT &&
	    req_type != IOMMU_HW_INFO_TYPE_INTEL_VTD)
		return -EOPNOTSUPP;
	/* vtd.md §11: the raw CAP and ECAP registers. No erratum flag: the
	 * model has none. */
	info.cap_reg = vtd_rd64(vi, VTD_REG_CAP);
	info.ecap_reg = vtd_rd64(vi, VTD_REG_ECAP);
	_Static_assert(sizeof(info) <= IOMMU_HW_INFO_MAX_LEN, "fits");
	memcpy(out->data, &info, sizeof(info));
	out->len = sizeof(info);
	out->type = IOMMU_HW_INFO_TYPE_INTEL_VTD;
	return 0;
}

static int vtd_get_resv_regions(struct iommu_dev *dev,
				struct iommu_resv_region *out)
{
	(void)dev;
	/* Requests to 0xFEExxxxx are interrupts, never translated. */
	out[0] = (struct iommu_resv_region){
		.start = VTD_MSI_START,
		.last = VTD_MSI_LAST,
		.type = IOMMU_RESV_MSI,
	};
	return 1;
}

const struct iommu_driver vtd_driver = {
	.model = "vtd",
	.init = vtd_init,
	.fini = vtd_fini,
	.probe_device = vtd_probe_device,
	.release_device = vtd_release_device,
	.hw_info = vtd_hw_info,
	.domain_alloc_paging = vtd_domain_alloc_paging,
	.attach_blocked = vtd_attach_blocked,
	.remove_dev_pasid = vtd_remove_dev_pasid,
	.get_resv_regions = vtd_get_resv_regions,
	.domain_alloc_nested = vtd_domain_alloc_nested,
	.page_response = vtd_page_response,
};
