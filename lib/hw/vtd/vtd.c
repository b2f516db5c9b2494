// SPDX-License-Identifier: MIT
/* VT-d model instances: capabilities from the configuration, caches,
 * teardown. */
#include <errno.h>
#include <string.h>

#include "hw/vtd/vtd.h"
#include "util/alloc.h"

#define VTD_DEFAULT_TLB 4096
#define VTD_S2WC_ENTRIES 1024
#define VTD_CC_ENTRIES 1024
#define VTD_PSC_ENTRIES 1024

/* Configuration field: 0 = @def, else the value + 1. */
static unsigned cfgv(uint8_t field, unsigned def)
{
	return field ? (unsigned)field - 1 : def;
}

static bool cfg_bool(uint8_t field, unsigned def, bool *bad)
{
	unsigned v = cfgv(field, def);

	if (v > 1)
		*bad = true;
	return v != 0;
}

/*
 * CAP and ECAP from the configuration. Defaults: a nesting-capable
 * scalable-mode part (vtd.md §2); NULL configuration = all defaults.
 * Returns false for a configuration the model cannot be.
 */
static bool vtd_caps(struct vtd *v, const struct ionest_vtd_config *c)
{
	static const struct ionest_vtd_config defaults;
	bool bad = false;
	unsigned sagaw, mgaw, sslps, nd, nfr, mamv, pss;
	uint64_t cap = 0, ecap = 0;

	if (!c)
		c = &defaults;
	sagaw = cfgv(c->sagaw, VTD_SAGAW_48);
	mgaw = cfgv(c->mgaw, 47);
	sslps = cfgv(c->sslps, 3);
	nd = cfgv(c->nd, 6);
	nfr = cfgv(c->nfr, 7);
	mamv = cfgv(c->mamv, 18);
	pss = cfgv(c->pss, 19);

	/* Second-stage widths 39/48/57 only; MGAW covers them up to 57;
	 * 1G second-stage pages come with 2M ones. */
	if ((sagaw & ~(VTD_SAGAW_39 | VTD_SAGAW_48 | VTD_SAGAW_57)) ||
	    mgaw < 38 || mgaw > 56 || sslps > 3 || sslps == 2 || nd > 6 ||
	    nfr > 255 || mamv > 63 || pss > 19)
		return false;

	cap |= nd;
	if (cfg_bool(c->cm, 0, &bad))
		cap |= VTD_CAP_CM;
	cap |= (uint64_t)sagaw << VTD_CAP_SAGAW_SHIFT;
	cap |= (uint64_t)mgaw << VTD_CAP_MGAW_SHIFT;
	cap |= (uint64_t)VTD_FRO << VTD_CAP_FRO_SHIFT;
	cap |= (uint64_t)sslps << VTD_CAP_SSLPS_SHIFT;
	if (cfg_bool(c->psi, 1, &bad))
		cap |= VTD_CAP_PSI;
	cap |= (uint64_t)nfr << VTD_CAP_NFR_SHIFT;
	cap |= (uint64_t)mamv << VTD_CAP_MAMV_SHIFT;
	/* Draining is trivially complete: every request finishes before
	 * the descriptor that drains it is processed. */
	cap |= VTD_CAP_DWD | VTD_CAP_DRD;
	if (cfg_bool(c->fs1gp, 1, &bad))
		cap |= VTD_CAP_FS1GP;
	if (cfg_bool(c->fs5lp, 1, &bad))
		cap |= VTD_CAP_FS5LP;

	ecap |= VTD_ECAP_C | VTD_ECAP_SMPWCS;
	ecap |= (uint64_t)VTD_IRO << VTD_ECAP_IRO_SHIFT;
	ecap |= (uint64_t)pss << VTD_ECAP_PSS_SHIFT;
	if (cfg_bool(c->qi, 1, &bad))
		ecap |= VTD_ECAP_QI;
	if (cfg_bool(c->dt, 1, &bad))
		ecap |= VTD_ECAP_DT;
	if (cfg_bool(c->pt, 1, &bad))
		ecap |= VTD_ECAP_PT;
	if (cfg_bool(c->sc, 1, &bad))
		ecap |= VTD_ECAP_SC;
	if (cfg_bool(c->nest, 1, &bad))
		ecap |= VTD_ECAP_NEST;
	if (cfg_bool(c->prs, 1, &bad))
		ecap |= VTD_ECAP_PRS;
	if (cfg_bool(c->srs, 1, &bad))
		ecap |= VTD_ECAP_SRS;
	if (cfg_bool(c->ers, 0, &bad))
		ecap |= VTD_ECAP_ERS;
	if (cfg_bool(c->pasid, 1, &bad))
		ecap |= VTD_ECAP_PASID;
	if (cfg_bool(c->smts, 1, &bad))
		ecap |= VTD_ECAP_SMTS;
	if (cfg_bool(c->ssads, 1, &bad))
		ecap |= VTD_ECAP_SSADS;
	if (cfg_bool(c->ssts, 1, &bad))
		ecap |= VTD_ECAP_SSTS;
	if (cfg_bool(c->fsts, 1, &bad))
		ecap |= VTD_ECAP_FSTS;
	if (cfg_bool(c->eafs, 1, &bad))
		ecap |= VTD_ECAP_EAFS;
	if (bad)
		return false;

	/* The model implements scalable mode only (legacy mode is refused,
	 * see regs.c), and nesting needs both stages. A second stage needs
	 * at least one width. */
	if (!(ecap & VTD_ECAP_SMTS))
		return false;
	if ((ecap & VTD_ECAP_NEST) &&
	    (!(ecap & VTD_ECAP_FSTS) || !(ecap & VTD_ECAP_SSTS)))
		return false;
	if ((ecap & VTD_ECAP_SSTS) && !sagaw)
		return false;

	v->cap = cap;
	v->ecap = ecap;
	v->haw = mgaw + 1;
	v->oa_beyond = v->haw < 52 ?
			       0x000ffffffffff000ull & ~((1ull << v->haw) - 1) :
			       0;
	v->nfr = nfr + 1;
	v->pasid_bits = pss + 1;
	v->ndom_bits = 4 + 2 * nd;
	return true;
}

void vtd_flush_all(struct vtd *v)
{
	/* Inner caches first (inval.c). */
	hw_tlb_flush(&v->s2wc);
	vtd_cc_flush(&v->cc);
	hw_tlb_flush(&v->psc);
	hw_tlb_flush(&v->iotlb);
}

static void vtd_flush_caches(struct ionest_hw *hw)
{
	vtd_flush_all(to_vtd(hw));
}

static bool vtd_can_nest(const struct ionest_hw *hw)
{
	const struct vtd *v = (const struct vtd *)hw;

	return vtd_has(v, VTD_ECAP_NEST);
}

static void vtd_free(struct ionest_hw *hw)
{
	struct vtd *v = to_vtd(hw);

	hw_fini(&v->hw);
	hw_tlb_fini(&v->iotlb);
	hw_tlb_fini(&v->s2wc);
	hw_tlb_fini(&v->psc);
	vtd_cc_fini(&v->cc);
	pthread_mutex_destroy(&v->lock);
	xfree(v->frcd);
	xfree(v);
}

static const struct hw_ops vtd_ops = {
	.model = "vtd",
	.mmio_read = vtd_mmio_read,
	.mmio_write = vtd_mmio_write,
	.translate = vtd_translate,
	.flush_caches = vtd_flush_caches,
	.explain = vtd_explain,
	.can_nest = vtd_can_nest,
	.free = vtd_free,
};

static int vtd_lock_init(struct vtd *v)
{
	pthread_mutexattr_t a;
	int ret;

	if (pthread_mutexattr_init(&a))
		return -ENOMEM;
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
	ret = pthread_mutex_init(&v->lock, &a);
	pthread_mutexattr_destroy(&a);
	return ret ? -ENOMEM : 0;
}

IONEST_API struct ionest_hw *ionest_vtd_new(const struct ionest_vtd_config *cfg)
{
	unsigned tlb_entries = cfg && cfg->tlb_entries ? cfg->tlb_entries :
							 VTD_DEFAULT_TLB;
	struct vtd *v;

	if (tlb_entries > (1u << 24))
		return NULL;
	v = xzalloc(sizeof(*v));
	if (!v)
		return NULL;
	if (!vtd_caps(v, cfg))
		goto err_free;
	v->frcd = xcalloc(v->nfr, sizeof(*v->frcd));
	if (!v->frcd)
		goto err_free;
	if (hw_tlb_init(&v->iotlb, tlb_entries))
		goto err_frcd;
	if (hw_tlb_init(&v->s2wc, VTD_S2WC_ENTRIES))
		goto err_tlb;
	if (hw_tlb_init(&v->psc, VTD_PSC_ENTRIES))
		goto err_wc;
	if (vtd_cc_init(&v->cc, VTD_CC_ENTRIES))
		goto err_psc;
	if (vtd_lock_init(v))
		goto err_cc;
	v->mode = VTD_MODE_OFF;
	hw_init(&v->hw, &vtd_ops, "vtd");
	vtd_dma_rule(v);
	return &v->hw;

err_cc:
	vtd_cc_fini(&v->cc);
err_psc:
	hw_tlb_fini(&v->psc);
err_wc:
	hw_tlb_fini(&v->s2wc);
err_tlb:
	hw_tlb_fini(&v->iotlb);
err_frcd:
	xfree(v->frcd);
err_free:
	xfree(v);
	return NULL;
}
