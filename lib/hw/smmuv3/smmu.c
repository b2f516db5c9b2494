// SPDX-License-Identifier: MIT
/*
 * Arm SMMUv3 model: instance creation, ID registers and the register file
 * (spec/smmuv3.md §1-§2). Register writes take effect at once: CR0ACK and
 * IRQ_CTRLACK follow CR0 and IRQ_CTRL immediately, GBPA updates complete
 * before the write returns, and commands are consumed when CMDQ_PROD is
 * written.
 */
#include <errno.h>
#include <string.h>

#include "hw/smmuv3/smmu.h"
#include "util/alloc.h"

unsigned smmu_pa_bits(unsigned enc)
{
	static const uint8_t bits[8] = { 32, 36, 40, 42, 44, 48, 52, 0 };

	return enc < 8 ? bits[enc] : 0;
}

unsigned smmu_gran_ok(const struct smmu *s, unsigned shift)
{
	if ((shift == 12 && s->f.gran4k) || (shift == 14 && s->f.gran16k) ||
	    (shift == 16 && s->f.gran64k))
		return shift;
	return 0;
}

/* ---- interrupts and global errors ---- */

bool smmu_msi(struct smmu *s, uint64_t cfg0, uint32_t data)
{
	uint64_t addr = cfg0 & IRQ_CFG0_ADDR;

	/* An address of zero means the MSI form is not in use (§1). */
	if (!addr)
		return true;
	return hw_bus_write32(&s->hw, addr, data);
}

/* Error bits are active while GERROR and GERRORN differ; a new error
 * toggles its GERROR bit only when it is not already active. */
void smmu_gerror_raise(struct smmu *s, uint32_t bit)
{
	uint32_t old = smmu_ld32(&s->gerror), nv;

	do {
		if ((old ^ smmu_ld32(&s->gerrorn)) & bit)
			return;
		nv = old ^ bit;
	} while (!__atomic_compare_exchange_n(&s->gerror, &old, nv, false,
					      __ATOMIC_ACQ_REL,
					      __ATOMIC_ACQUIRE));
	if (!(smmu_ld32(&s->irq_ctrl) & IRQ_CTRL_GERROR))
		return;
	/* A failed GERROR MSI is itself recorded, but raises nothing more. */
	if (bit != GERROR_MSI_GERROR_ABT &&
	    !smmu_msi(s, smmu_ld64(&s->gerror_irq_cfg0),
		      smmu_ld32(&s->gerror_irq_cfg1)))
		smmu_gerror_raise(s, GERROR_MSI_GERROR_ABT);
	hw_irq(&s->hw, IONEST_IRQ_GERROR);
}

/* ---- register file ---- */

static uint64_t reg_read(struct smmu *s, uint64_t off)
{
	switch (off) {
	case SMMU_IDR0:
	case SMMU_IDR1:
	case SMMU_IDR2:
	case SMMU_IDR3:
	case SMMU_IDR4:
	case SMMU_IDR5:
		return s->idr[off / 4];
	case SMMU_IIDR:
		return s->iidr;
	case SMMU_AIDR:
		return s->aidr;
	case SMMU_CR0:
	case SMMU_CR0ACK:
		return smmu_ld32(&s->cr0);
	case SMMU_CR1:
		return smmu_ld32(&s->cr1);
	case SMMU_CR2:
		return smmu_ld32(&s->cr2);
	case SMMU_GBPA:
		return smmu_ld32(&s->gbpa);
	case SMMU_IRQ_CTRL:
	case SMMU_IRQ_CTRLACK:
		return smmu_ld32(&s->irq_ctrl);
	case SMMU_GERROR:
		return smmu_ld32(&s->gerror);
	case SMMU_GERRORN:
		return smmu_ld32(&s->gerrorn);
	case SMMU_GERROR_IRQ_CFG0:
		return smmu_ld64(&s->gerror_irq_cfg0);
	case SMMU_GERROR_IRQ_CFG1:
		return smmu_ld32(&s->gerror_irq_cfg1);
	case SMMU_GERROR_IRQ_CFG2:
		return smmu_ld32(&s->gerror_irq_cfg2);
	case SMMU_STRTAB_BASE:
		return smmu_ld64(&s->strtab_base);
	case SMMU_STRTAB_BASE_CFG:
		return smmu_ld32(&s->strtab_cfg);
	case SMMU_CMDQ_BASE:
		return smmu_ld64(&s->cmdq.base);
	case SMMU_CMDQ_PROD:
		return smmu_ld32(&s->cmdq.prod);
	case SMMU_CMDQ_CONS:
		return smmu_ld32(&s->cmdq.cons);
	case SMMU_EVTQ_BASE:
		return smmu_ld64(&s->evtq.base);
	case SMMU_EVTQ_PROD:
		return smmu_ld32(&s->evtq.prod);
	case SMMU_EVTQ_CONS:
		return smmu_ld32(&s->evtq.cons);
	case SMMU_EVTQ_IRQ_CFG0:
		return smmu_ld64(&s->evtq.irq_cfg0);
	case SMMU_EVTQ_IRQ_CFG1:
		return smmu_ld32(&s->evtq.irq_cfg1);
	case SMMU_EVTQ_IRQ_CFG2:
		return smmu_ld32(&s->evtq.irq_cfg2);
	case SMMU_PRIQ_BASE:
		return smmu_ld64(&s->priq.base);
	case SMMU_PRIQ_PROD:
		return smmu_ld32(&s->priq.prod);
	case SMMU_PRIQ_CONS:
		return smmu_ld32(&s->priq.cons);
	case SMMU_PRIQ_IRQ_CFG0:
		return smmu_ld64(&s->priq.irq_cfg0);
	case SMMU_PRIQ_IRQ_CFG1:
		return smmu_ld32(&s->priq.irq_cfg1);
	case SMMU_PRIQ_IRQ_CFG2:
		return smmu_ld32(&s->priq.irq_cfg2);
	default:
		return 0; /* reserved: RAZ */
	}
}

static bool is_reg64(uint64_t off)
{
	switch (off) {
	case SMMU_GERROR_IRQ_CFG0:
	case SMMU_STRTAB_BASE:
	case SMMU_CMDQ_BASE:
	case SMMU_EVTQ_BASE:
	case SMMU_EVTQ_IRQ_CFG0:
	case SMMU_PRIQ_BASE:
	case SMMU_PRIQ_IRQ_CFG0:
		return true;
	default:
		return false;
	}
}

static int smmu_mmio_read(struct ionest_hw *hw, uint64_t off, unsigned size,
			  uint64_t *val)
{
	struct smmu *s = to_smmu(hw);
	uint64_t base = off & ~7ull;

	/* 64-bit registers may be read whole or as two 32-bit halves. */
	if (is_reg64(base)) {
		uint64_t v = reg_read(s, base);

		*val = size == 8 ? v : (off & 4) ? v >> 32 : v & 0xffffffffu;
		return 0;
	}
	if (size == 8) {
		/* A 64-bit access to a pair of 32-bit registers. */
		*val = reg_read(s, off) | reg_read(s, off + 4) << 32;
		return 0;
	}
	*val = reg_read(s, off) & 0xffffffffu;
	return 0;
}

static bool q_enabled(const struct smmu *s, uint32_t en)
{
	return smmu_ld32(&s->cr0) & en;
}

/* Queue index registers hold index + wrap bit (+ flag bits). */
static uint32_t q_idx_mask(unsigned log2)
{
	return (2u << log2) - 1;
}

static void write_base(struct smmu *s, uint64_t *reg, uint64_t v, uint32_t en,
		       uint64_t mask)
{
	/* Bases are fixed while their queue/table is enabled (§1). */
	if (q_enabled(s, en))
		return;
	smmu_st64(reg, v & mask);
}

static void write_cr0(struct smmu *s, uint32_t v)
{
	uint32_t old = smmu_ld32(&s->cr0);

	v &= CR0_MASK;
	if (!s->f.pri)
		v &= ~CR0_PRIQEN;
	smmu_st32(&s->cr0, v);
	/* Enabling the command queue starts consumption of what is there. */
	if ((v & CR0_CMDQEN) && !(old & CR0_CMDQEN))
		smmu_cmdq_consume(s);
}

static void reg_write(struct smmu *s, uint64_t off, uint64_t v)
{
	switch (off) {
	case SMMU_CR0:
		write_cr0(s, (uint32_t)v);
		break;
	case SMMU_CR1:
		if (!q_enabled(s, CR0_SMMUEN | CR0_CMDQEN | CR0_EVTQEN |
					  CR0_PRIQEN))
			smmu_st32(&s->cr1, (uint32_t)v & 0xfffu);
		break;
	case SMMU_CR2:
		if (!q_enabled(s, CR0_SMMUEN))
			smmu_st32(&s->cr2,
				  (uint32_t)v & ((s->f.hyp ? CR2_E2H : 0) |
						 CR2_RECINVSID | CR2_PTM));
		break;
	case SMMU_GBPA:
		/* Only a write with UPDATE set changes the fields; the
		 * update completes at once so UPDATE reads back as 0. */
		if (v & GBPA_UPDATE)
			smmu_st32(&s->gbpa, (uint32_t)v & GBPA_MASK);
		break;
	case SMMU_IRQ_CTRL:
		smmu_st32(&s->irq_ctrl,
			  (uint32_t)v & (IRQ_CTRL_GERROR | IRQ_CTRL_EVTQ |
					 (s->f.pri ? IRQ_CTRL_PRIQ : 0)));
		break;
	case SMMU_GERRORN: {
		uint32_t was = smmu_ld32(&s->gerror) ^ smmu_ld32(&s->gerrorn);

		smmu_st32(&s->gerrorn, (uint32_t)v & GERROR_MASK);
		/* Acknowledging CMDQ_ERR resumes consumption from CONS. */
		if ((was & GERROR_CMDQ_ERR) &&
		    !((smmu_ld32(&s->gerror) ^ (uint32_t)v) & GERROR_CMDQ_ERR))
			smmu_cmdq_consume(s);
		break;
	}
	case SMMU_GERROR_IRQ_CFG0:
		smmu_st64(&s->gerror_irq_cfg0, v & IRQ_CFG0_ADDR);
		break;
	case SMMU_GERROR_IRQ_CFG1:
		smmu_st32(&s->gerror_irq_cfg1, (uint32_t)v);
		break;
	case SMMU_GERROR_IRQ_CFG2:
		smmu_st32(&s->gerror_irq_cfg2, (uint32_t)v & 0x3fu);
		break;
	case SMMU_STRTAB_BASE:
		write_base(s, &s->strtab_base, v, CR0_SMMUEN,
			   STRTAB_BASE_ADDR | BASE_RA);
		break;
	case SMMU_STRTAB_BASE_CFG:
		if (!q_enabled(s, CR0_SMMUEN))
			smmu_st32(&s->strtab_cfg,
				  (uint32_t)v &
					  (SMMU_MASK(17, 16) |
					   SMMU_MASK(10, 6) | SMMU_MASK(5, 0)));
		break;
	case SMMU_CMDQ_BASE:
		write_base(s, &s->cmdq.base, v, CR0_CMDQEN,
			   Q_BASE_ADDR | BASE_RA | Q_BASE_LOG2);
		break;
	case SMMU_CMDQ_PROD:
		smmu_st32(&s->cmdq.prod,
			  (uint32_t)v & q_idx_mask(smmu_q_log2(&s->cmdq,
							       s->f.cmdqs)));
		smmu_cmdq_consume(s);
		break;
	case SMMU_CMDQ_CONS:
		/* Software initialises CONS only while the queue is off. */
		if (!q_enabled(s, CR0_CMDQEN))
			smmu_st32(&s->cmdq.cons,
				  (uint32_t)v & q_idx_mask(smmu_q_log2(
							&s->cmdq, s->f.cmdqs)));
		break;
	case SMMU_EVTQ_BASE:
		write_base(s, &s->evtq.base, v, CR0_EVTQEN,
			   Q_BASE_ADDR | BASE_RA | Q_BASE_LOG2);
		break;
	case SMMU_EVTQ_PROD:
		/* Under the producer's lock: a record being written when
		 * the queue was disabled finishes first. */
		pthread_mutex_lock(&s->evtq_lock);
		if (!q_enabled(s, CR0_EVTQEN))
			smmu_st32(&s->evtq.prod,
				  (uint32_t)v &
					  (Q_OVF |
					   q_idx_mask(smmu_q_log2(
						   &s->evtq, s->f.eventqs))));
		pthread_mutex_unlock(&s->evtq_lock);
		break;
	case SMMU_EVTQ_CONS:
		pthread_mutex_lock(&s->evtq_lock);
		smmu_st32(&s->evtq.cons,
			  (uint32_t)v &
				  (Q_OVF | q_idx_mask(smmu_q_log2(
						   &s->evtq, s->f.eventqs))));
		pthread_mutex_unlock(&s->evtq_lock);
		break;
	case SMMU_EVTQ_IRQ_CFG0:
		smmu_st64(&s->evtq.irq_cfg0, v & IRQ_CFG0_ADDR);
		break;
	case SMMU_EVTQ_IRQ_CFG1:
		smmu_st32(&s->evtq.irq_cfg1, (uint32_t)v);
		break;
	case SMMU_EVTQ_IRQ_CFG2:
		smmu_st32(&s->evtq.irq_cfg2, (uint32_t)v & 0x3fu);
		break;
	case SMMU_PRIQ_BASE:
		if (s->f.pri)
			write_base(s, &s->priq.base, v, CR0_PRIQEN,
				   Q_BASE_ADDR | BASE_RA | Q_BASE_LOG2);
		break;
	case SMMU_PRIQ_PROD:
		pthread_mutex_lock(&s->priq_lock);
		if (s->f.pri && !q_enabled(s, CR0_PRIQEN))
			smmu_st32(&s->priq.prod,
				  (uint32_t)v & (Q_OVF | q_idx_mask(smmu_q_log2(
								 &s->priq,
								 s->f.priqs))));
		pthread_mutex_unlock(&s->priq_lock);
		break;
	case SMMU_PRIQ_CONS:
		if (!s->f.pri)
			break;
		pthread_mutex_lock(&s->priq_lock);
		smmu_st32(&s->priq.cons,
			  (uint32_t)v & (Q_OVF |
					 q_idx_mask(smmu_q_log2(&s->priq,
								s->f.priqs))));
		pthread_mutex_unlock(&s->priq_lock);
		break;
	case SMMU_PRIQ_IRQ_CFG0:
		if (s->f.pri)
			smmu_st64(&s->priq.irq_cfg0, v & IRQ_CFG0_ADDR);
		break;
	case SMMU_PRIQ_IRQ_CFG1:
		if (s->f.pri)
			smmu_st32(&s->priq.irq_cfg1, (uint32_t)v);
		break;
	case SMMU_PRIQ_IRQ_CFG2:
		if (s->f.pri)
			smmu_st32(&s->priq.irq_cfg2, (uint32_t)v & 0x3fu);
		break;
	default:
		break; /* read-only or reserved: WI */
	}
}

static int smmu_mmio_write(struct ionest_hw *hw, uint64_t off, unsigned size,
			   uint64_t val)
{
	struct smmu *s = to_smmu(hw);
	uint64_t base = off & ~7ull;

	pthread_mutex_lock(&s->lock);
	if (is_reg64(base)) {
		uint64_t v = val;

		if (size == 4) {
			/* Write one half, keep the other. */
			uint64_t cur = reg_read(s, base);

			v = (off & 4) ? (cur & 0xffffffffu) | val << 32 :
					(cur & ~0xffffffffull) | val;
		}
		reg_write(s, base, v);
	} else if (size == 8) {
		reg_write(s, off, val & 0xffffffffu);
		reg_write(s, off + 4, val >> 32);
	} else {
		reg_write(s, off, val);
	}
	pthread_mutex_unlock(&s->lock);
	return 0;
}

/* ---- caches ---- */

static void smmu_flush_caches(struct ionest_hw *hw)
{
	struct smmu *s = to_smmu(hw);

	/* Sources before what is built from them (cmdq.c, cfgi_sids). */
	smmu_cfgc_invalidate(s, 0, UINT32_MAX, SMMU_CFGC_ANY);
	hw_tlb_flush(&s->wc);
	hw_tlb_flush(&s->s1wc);
	hw_tlb_flush(&s->tlb);
}

static bool smmu_can_nest(const struct ionest_hw *hw)
{
	const struct smmu *s = (const struct smmu *)hw;

	return s->f.s1p && s->f.s2p;
}

static void smmu_free(struct ionest_hw *hw)
{
	struct smmu *s = to_smmu(hw);

	hw_fini(&s->hw);
	hw_tlb_fini(&s->tlb);
	hw_tlb_fini(&s->wc);
	hw_tlb_fini(&s->s1wc);
	smmu_cfgc_fini(&s->cfgc);
	smmu_stall_fini(s);
	pthread_mutex_destroy(&s->lock);
	pthread_mutex_destroy(&s->evtq_lock);
	pthread_mutex_destroy(&s->priq_lock);
	pthread_mutex_destroy(&s->cfg_lock);
	xfree(s);
}

static const struct hw_ops smmu_ops = {
	.model = "smmuv3",
	.mmio_read = smmu_mmio_read,
	.mmio_write = smmu_mmio_write,
	.translate = smmu_translate,
	.flush_caches = smmu_flush_caches,
	.explain = smmu_explain,
	.can_nest = smmu_can_nest,
	.free = smmu_free,
};

/* ---- creation ---- */

/* IONEST_CFG convention: 0 = default, else value + 1. */
static uint8_t cfgv(uint8_t field, uint8_t def)
{
	return field ? (uint8_t)(field - 1) : def;
}

static int smmu_features(struct smmu_feat *f,
			 const struct ionest_smmuv3_config *c)
{
	static const struct ionest_smmuv3_config zero;

	if (!c)
		c = &zero;
	for (unsigned i = 0; i < sizeof(c->reserved); i++)
		if (c->reserved[i])
			return -EINVAL;
	f->s1p = cfgv(c->s1p, 1);
	f->s2p = cfgv(c->s2p, 1);
	f->sidsize = cfgv(c->sidsize, 16);
	f->ssidsize = cfgv(c->ssidsize, 20);
	f->oas_enc = cfgv(c->oas, 5);
	f->gran4k = cfgv(c->gran4k, 1);
	f->gran16k = cfgv(c->gran16k, 1);
	f->gran64k = cfgv(c->gran64k, 1);
	f->ats = cfgv(c->ats, 1);
	f->pri = cfgv(c->pri, 1);
	f->st_level = cfgv(c->st_level, 1);
	f->cd2l = cfgv(c->cd2l, 1);
	f->ril = cfgv(c->ril, 1);
	f->asid16 = cfgv(c->asid16, 1);
	f->vmid16 = cfgv(c->vmid16, 1);
	f->httu = cfgv(c->httu, 2);
	f->stall_model = cfgv(c->stall_model, 0);
	f->hyp = cfgv(c->hyp, 0);
	f->cmdqs = cfgv(c->cmdqs, 19);
	f->eventqs = cfgv(c->eventqs, 19);
	f->priqs = cfgv(c->priqs, 19);
	if (f->s1p > 1 || f->s2p > 1 || f->sidsize > 32 || f->ssidsize > 20 ||
	    f->oas_enc > 6 || f->gran4k > 1 || f->gran16k > 1 ||
	    f->gran64k > 1 || !(f->gran4k | f->gran16k | f->gran64k) ||
	    f->ats > 1 || f->pri > 1 || f->st_level > 1 || f->cd2l > 1 ||
	    f->ril > 1 || f->asid16 > 1 || f->vmid16 > 1 || f->httu > 2 ||
	    f->stall_model > 2 || f->hyp > 1 || f->cmdqs > 19 ||
	    f->eventqs > 19 || f->priqs > 19)
		return -EINVAL;
	/* PRI page requests arrive only from ATS-capable functions. */
	if (f->pri && !f->ats)
		return -EINVAL;
	f->oas_bits = (uint8_t)smmu_pa_bits(f->oas_enc);
	f->stall_max = f->stall_model == SMMU_STALL_TERM_ONLY ? 0 : 64;
	f->sid_bad = ~0ull << f->sidsize;
	/* Without SSIDSIZE every SubstreamID is out of range. */
	f->ssid_bad = f->ssidsize ? ~0ull << f->ssidsize : ~0ull;
	return 0;
}

static void smmu_idregs(struct smmu *s)
{
	const struct smmu_feat *f = &s->f;

	/* NS1ATS=1: split-stage (stage-1-only) ATS is not offered, so
	 * STE.EATS=0b10 is illegal. TERM_MODEL=1: terminated transactions
	 * always abort, CD.A is not consulted. Little-endian tables only. */
	s->idr[0] =
		(f->s2p ? IDR0_S2P : 0) | (f->s1p ? IDR0_S1P : 0) |
		IDR0_TTF_AA64 | IDR0_COHACC |
		(uint32_t)f->httu << IDR0_HTTU_SHIFT | (f->hyp ? IDR0_HYP : 0) |
		(f->ats ? IDR0_ATS : 0) | IDR0_NS1ATS |
		(f->asid16 ? IDR0_ASID16 : 0) | IDR0_MSI | IDR0_SEV |
		(f->pri ? IDR0_PRI : 0) | (f->vmid16 ? IDR0_VMID16 : 0) |
		(f->cd2l ? IDR0_CD2L : 0) | IDR0_TTENDIAN_LE |
		(uint32_t)f->stall_model << IDR0_STALL_SHIFT | IDR0_TERM_MODEL |
		(uint32_t)f->st_level << IDR0_ST_LEVEL_SHIFT;
	s->idr[1] = f->sidsize | (uint32_t)f->ssidsize << 6 |
		    (uint32_t)(f->pri ? f->priqs : 0) << 11 |
		    (uint32_t)f->eventqs << 16 | (uint32_t)f->cmdqs << 21;
	s->idr[2] = 0;
	s->idr[3] = IDR3_HAD | (f->ril ? IDR3_RIL : 0);
	s->idr[4] = 0;
	s->idr[5] = f->oas_enc | (f->gran4k ? IDR5_GRAN4K : 0) |
		    (f->gran16k ? IDR5_GRAN16K : 0) |
		    (f->gran64k ? IDR5_GRAN64K : 0) |
		    (uint32_t)f->stall_max << IDR5_STALL_MAX_SHIFT;
	/* ProductID 0x5a1 (not a real part), variant/revision 0,
	 * implementer code 0x43b; AIDR: SMMUv3.2. */
	s->iidr = 0x5a1u << 20 | 0x43bu;
	s->aidr = 0x02;
}

static int mutexes_init(struct smmu *s)
{
	pthread_mutexattr_t a;

	if (pthread_mutexattr_init(&a))
		return -ENOMEM;
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&s->lock, &a);
	pthread_mutexattr_destroy(&a);
	pthread_mutex_init(&s->evtq_lock, NULL);
	pthread_mutex_init(&s->priq_lock, NULL);
	pthread_mutex_init(&s->cfg_lock, NULL);
	return 0;
}

IONEST_API struct ionest_hw *
ionest_smmuv3_new(const struct ionest_smmuv3_config *cfg)
{
	struct smmu_feat f;
	struct smmu *s;
	unsigned entries = cfg && cfg->tlb_entries ? cfg->tlb_entries : 4096;
	unsigned wc_log2 = cfg ? cfgv(cfg->s2wc_log2, 12) : 12;

	if (smmu_features(&f, cfg) || entries > (1u << 24) || wc_log2 < 2 ||
	    wc_log2 > 24) {
		errno = EINVAL;
		return NULL;
	}
	s = xzalloc(sizeof(*s));
	if (!s)
		goto nomem;
	s->f = f;
	if (hw_tlb_init(&s->tlb, entries))
		goto free_s;
	if (hw_tlb_init(&s->wc, 1u << wc_log2))
		goto free_tlb;
	if (hw_tlb_init(&s->s1wc, 1024))
		goto free_wc;
	if (smmu_cfgc_init(&s->cfgc, 1024))
		goto free_s1wc;
	if (smmu_stall_init(s))
		goto free_stall;
	if (mutexes_init(s))
		goto free_stall;
	smmu_idregs(s);
	hw_init(&s->hw, &smmu_ops, "smmu");
	smmu_dma_rule(s);
	return &s->hw;

free_stall:
	smmu_stall_fini(s);
	smmu_cfgc_fini(&s->cfgc);
free_s1wc:
	hw_tlb_fini(&s->s1wc);
free_wc:
	hw_tlb_fini(&s->wc);
free_tlb:
	hw_tlb_fini(&s->tlb);
free_s:
	xfree(s);
nomem:
	errno = ENOMEM;
	return NULL;
}
