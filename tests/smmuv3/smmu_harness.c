// SPDX-License-Identifier: MIT
/* The SMMUv3 test harness: see smmu_harness.h. */
#include <string.h>

#include "hw/smmuv3/smmu_regs.h"
#include "smmu_harness.h"

/* ---- platform callbacks ---- */

static void h_irq(void *ctx, enum ionest_hw_irq line)
{
	struct smmu_h *h = ctx;

	assert_true((unsigned)line < 4);
	h->irqs[line]++;
}

static void h_atc(void *ctx, uint32_t sid, uint32_t ssid, bool ssv,
		  uint64_t addr, uint64_t size)
{
	struct smmu_h *h = ctx;

	if (h->natc < 32)
		h->atc[h->natc] =
			(struct smmu_h_cb){ sid, ssid, ssv, addr, size };
	h->natc++;
}

static void h_resp(void *ctx, uint32_t sid, uint32_t ssid, bool ssv,
		   uint32_t prgi, uint32_t code)
{
	struct smmu_h *h = ctx;

	if (h->nresp < 32)
		h->resp[h->nresp] =
			(struct smmu_h_cb){ sid, ssid, ssv, prgi, code };
	h->nresp++;
}

static void h_resume(void *ctx, uint32_t sid, uint16_t stag, bool retry)
{
	struct smmu_h *h = ctx;

	if (h->nresume < 32)
		h->resume[h->nresume] =
			(struct smmu_h_cb){ sid, 0, false, stag, retry };
	h->nresume++;
}

static void *h_bus_map(void *ctx, uint64_t pa, uint64_t len, bool write)
{
	struct smmu_h *h = ctx;
	uint64_t base = smmu_h_pa(h->mem.base);

	(void)write;
	if (pa < base || len > h->mem.size || pa - base > h->mem.size - len)
		return NULL;
	return (void *)(uintptr_t)pa;
}

static const struct ionest_bus_ops h_bus = { .map = h_bus_map };

/* ---- registers ---- */

uint32_t smmu_h_rd32(struct smmu_h *h, uint64_t off)
{
	uint64_t v = ~0ull;

	assert_int_equal(ionest_hw_mmio_read(h->hw, off, 4, &v), 0);
	return (uint32_t)v;
}

uint64_t smmu_h_rd64(struct smmu_h *h, uint64_t off)
{
	uint64_t v = ~0ull;

	assert_int_equal(ionest_hw_mmio_read(h->hw, off, 8, &v), 0);
	return v;
}

void smmu_h_wr32(struct smmu_h *h, uint64_t off, uint32_t v)
{
	assert_int_equal(ionest_hw_mmio_write(h->hw, off, 4, v), 0);
}

void smmu_h_wr64(struct smmu_h *h, uint64_t off, uint64_t v)
{
	assert_int_equal(ionest_hw_mmio_write(h->hw, off, 8, v), 0);
}

void smmu_h_cr0(struct smmu_h *h, uint32_t cr0)
{
	smmu_h_wr32(h, SMMU_CR0, cr0);
	/* A driver polls CR0ACK; the model acknowledges at once. */
	assert_int_equal(smmu_h_rd32(h, SMMU_CR0ACK), cr0);
}

void *smmu_h_alloc(struct smmu_h *h, size_t size, size_t align)
{
	return test_arena_alloc(&h->mem, size, align);
}

/* ---- setup ---- */

void smmu_h_init(struct smmu_h *h, const struct smmu_h_opts *o)
{
	static const struct smmu_h_opts none;
	uint32_t idr0, cr0;
	size_t st_bytes;

	if (!o)
		o = &none;
	memset(h, 0, sizeof(*h));
	h->hw = ionest_smmuv3_new(o->cfg);
	assert_non_null(h->hw);
	test_arena_init(&h->mem, o->mem_size ? o->mem_size : 64u << 20);
	h->sid_bits = o->sid_bits ? o->sid_bits : 8;
	h->split = o->split;
	h->cmdq_log2 = o->cmdq_log2 ? o->cmdq_log2 : 8;
	h->evtq_log2 = o->evtq_log2 ? o->evtq_log2 : 8;
	h->priq_log2 = o->priq_log2 ? o->priq_log2 : 8;
	ionest_hw_set_irq_handler(h->hw, h_irq, h);
	ionest_hw_set_atc_inv_handler(h->hw, h_atc, h);
	ionest_hw_set_page_resp_handler(h->hw, h_resp, h);
	ionest_hw_set_resume_handler(h->hw, h_resume, h);
	if (o->bounded)
		ionest_hw_set_bus(h->hw, &h_bus, h);

	/* Stream table. */
	st_bytes = h->split ? 8ull << (h->sid_bits - h->split) :
			      64ull << h->sid_bits;
	h->strtab = smmu_h_alloc(h, st_bytes, st_bytes < 64 ? 64 : st_bytes);
	smmu_h_wr64(h, SMMU_STRTAB_BASE, smmu_h_pa(h->strtab));
	smmu_h_wr32(h, SMMU_STRTAB_BASE_CFG,
		    (h->split ? 1u << 16 | h->split << 6 : 0) | h->sid_bits);

	/* Queues. */
	h->cmdq = smmu_h_alloc(h, 16ull << h->cmdq_log2, 16ull << h->cmdq_log2);
	h->evtq = smmu_h_alloc(h, 32ull << h->evtq_log2, 32ull << h->evtq_log2);
	h->priq = smmu_h_alloc(h, 16ull << h->priq_log2, 16ull << h->priq_log2);
	smmu_h_wr64(h, SMMU_CMDQ_BASE, smmu_h_pa(h->cmdq) | h->cmdq_log2);
	smmu_h_wr64(h, SMMU_EVTQ_BASE, smmu_h_pa(h->evtq) | h->evtq_log2);
	smmu_h_wr64(h, SMMU_PRIQ_BASE, smmu_h_pa(h->priq) | h->priq_log2);
	smmu_h_wr32(h, SMMU_CMDQ_PROD, 0);
	smmu_h_wr32(h, SMMU_CMDQ_CONS, 0);
	smmu_h_wr32(h, SMMU_EVTQ_PROD, 0);
	smmu_h_wr32(h, SMMU_EVTQ_CONS, 0);
	smmu_h_wr32(h, SMMU_PRIQ_PROD, 0);
	smmu_h_wr32(h, SMMU_PRIQ_CONS, 0);
	smmu_h_wr32(h, SMMU_CR2, CR2_RECINVSID);
	smmu_h_wr32(h, SMMU_IRQ_CTRL,
		    IRQ_CTRL_GERROR | IRQ_CTRL_EVTQ | IRQ_CTRL_PRIQ);
	if (o->no_enable)
		return;
	idr0 = smmu_h_rd32(h, SMMU_IDR0);
	cr0 = CR0_CMDQEN | CR0_EVTQEN | ((idr0 & IDR0_PRI) ? CR0_PRIQEN : 0);
	smmu_h_cr0(h, cr0);
	/* As drivers do: invalidate everything before enabling. */
	smmu_h_cmd(h, CMD_CFGI_STE_RANGE, 31);
	smmu_h_cmd(h, CMD_TLBI_NSNH_ALL, 0);
	smmu_h_sync(h);
	smmu_h_cr0(h, cr0 | CR0_SMMUEN);
}

void smmu_h_fini(struct smmu_h *h)
{
	ionest_hw_free(h->hw);
	test_arena_fini(&h->mem);
}

/* ---- stream table ---- */

uint64_t *smmu_h_ste(struct smmu_h *h, uint32_t sid)
{
	uint64_t *l1, *l2;

	assert_true(sid < (1u << h->sid_bits));
	if (!h->split)
		return h->strtab + (size_t)sid * 8;
	l1 = &h->strtab[sid >> h->split];
	if (!(*l1 & 0x1f)) {
		size_t bytes = 64ull << h->split;

		l2 = smmu_h_alloc(h, bytes, bytes);
		*l1 = smmu_h_pa(l2) | (h->split + 1);
	}
	l2 = (uint64_t *)(uintptr_t)(*l1 & L1STD_L2PTR);
	return l2 + (size_t)(sid & ((1u << h->split) - 1)) * 8;
}

void smmu_h_ste_abort(uint64_t *ste)
{
	memset(ste, 0, 64);
	ste[0] = 1 | STE_CFG_ABORT << 1;
}

void smmu_h_ste_bypass(uint64_t *ste)
{
	memset(ste, 0, 64);
	ste[0] = 1 | STE_CFG_BYPASS << 1;
}

void smmu_h_ste_s1(uint64_t *ste, uint64_t cdptr, unsigned s1fmt,
		   unsigned cdmax, unsigned s1dss)
{
	memset(ste, 0, 64);
	ste[0] = 1 | STE_CFG_S1 << 1 | (uint64_t)s1fmt << 4 |
		 (cdptr & STE0_CTXPTR) | (uint64_t)cdmax << 59;
	ste[1] = s1dss;
}

static unsigned pa_enc(unsigned bits)
{
	static const uint8_t b[7] = { 32, 36, 40, 42, 44, 48, 52 };

	for (unsigned i = 0; i < 7; i++)
		if (b[i] == bits)
			return i;
	fail_msg("bad PA size %u", bits);
	return 0;
}

static unsigned tg0_enc(unsigned shift)
{
	return shift == 12 ? 0 : shift == 16 ? 1 : 2;
}

void smmu_h_ste_s2(uint64_t *ste, uint16_t vmid, const struct pt *s2)
{
	unsigned g = s2->cfg.granule_shift;
	unsigned arm_level = 3 - s2->start_level;
	unsigned sl0 = g == 12 ? 2 - arm_level : 3 - arm_level;

	if (!(ste[0] & 1))
		ste[0] = 1 | STE_CFG_BYPASS << 1;
	ste[0] |= (uint64_t)STE_CFG_S2 << 1; /* adds the S2 bit */
	ste[2] = vmid | (uint64_t)(64 - s2->cfg.ias) << 32 |
		 (uint64_t)sl0 << 38 | (uint64_t)tg0_enc(g) << 46 |
		 (uint64_t)pa_enc(s2->cfg.oas) << 48 | 1ull << 51 /* AA64 */ |
		 1ull << 58 /* S2R */;
	ste[3] = s2->root & STE3_S2TTB;
}

void smmu_h_cd(uint64_t *cd, const struct pt *t0, const struct pt *t1,
	       uint16_t asid)
{
	static const uint8_t tg1[17] = { [12] = 2, [14] = 1, [16] = 3 };

	memset(cd, 0, 64);
	cd[0] = 1ull << 31 /* V */ | 5ull << 32 /* IPS 48 */ |
		1ull << 41 /* AA64 */ | 1ull << 45 /* R */ |
		1ull << 46 /* A */ | (uint64_t)asid << 48;
	if (t0) {
		cd[0] |= (uint64_t)(64 - t0->cfg.ias) |
			 (uint64_t)tg0_enc(t0->cfg.granule_shift) << 6;
		cd[1] = t0->root & CD_TTB;
	} else {
		cd[0] |= 1ull << 14;
	}
	if (t1) {
		cd[0] |= (uint64_t)(64 - t1->cfg.ias) << 16 |
			 (uint64_t)tg1[t1->cfg.granule_shift] << 22;
		cd[2] = t1->root & CD_TTB;
	} else {
		cd[0] |= 1ull << 30;
	}
}

/* ---- commands ---- */

void smmu_h_cmd(struct smmu_h *h, uint64_t dw0, uint64_t dw1)
{
	uint32_t prod = smmu_h_rd32(h, SMMU_CMDQ_PROD);
	uint32_t mask = (1u << h->cmdq_log2) - 1;
	uint64_t *e = h->cmdq + (size_t)(prod & mask) * 2;

	e[0] = dw0;
	e[1] = dw1;
	smmu_h_wr32(h, SMMU_CMDQ_PROD, (prod + 1) & ((2u << h->cmdq_log2) - 1));
}

void smmu_h_sync(struct smmu_h *h)
{
	smmu_h_cmd(h, CMD_SYNC, 0);
	assert_int_equal(smmu_h_rd32(h, SMMU_CMDQ_CONS),
			 smmu_h_rd32(h, SMMU_CMDQ_PROD));
	assert_int_equal(smmu_h_rd32(h, SMMU_GERROR) & GERROR_CMDQ_ERR,
			 smmu_h_rd32(h, SMMU_GERRORN) & GERROR_CMDQ_ERR);
}

void smmu_h_cfgi_ste(struct smmu_h *h, uint32_t sid)
{
	smmu_h_cmd(h, CMD_CFGI_STE | (uint64_t)sid << 32, 1);
	smmu_h_sync(h);
}

void smmu_h_cfgi_cd(struct smmu_h *h, uint32_t sid, uint32_t ssid)
{
	smmu_h_cmd(h, CMD_CFGI_CD | (uint64_t)ssid << 12 | (uint64_t)sid << 32,
		   1);
	smmu_h_sync(h);
}

void smmu_h_tlbi_nh_va(struct smmu_h *h, uint16_t vmid, uint16_t asid,
		       uint64_t va)
{
	smmu_h_cmd(h,
		   CMD_TLBI_NH_VA | (uint64_t)vmid << 32 | (uint64_t)asid << 48,
		   va & CMD1_ADDR);
	smmu_h_sync(h);
}

/* ---- output queues ---- */

static bool q_pop(struct smmu_h *h, uint64_t prod_off, uint64_t cons_off,
		  unsigned log2, const uint64_t *base, unsigned words,
		  uint64_t *out)
{
	uint32_t prod = smmu_h_rd32(h, prod_off);
	uint32_t cons = smmu_h_rd32(h, cons_off);
	uint32_t idx = (2u << log2) - 1, mask = (1u << log2) - 1;

	if ((prod & idx) == (cons & idx))
		return false;
	memcpy(out, base + (size_t)(cons & mask) * words, words * 8);
	smmu_h_wr32(h, cons_off, (cons & Q_OVF) | (((cons & idx) + 1) & idx));
	return true;
}

bool smmu_h_event(struct smmu_h *h, uint64_t ev[4])
{
	return q_pop(h, SMMU_EVTQ_PROD, SMMU_EVTQ_CONS, h->evtq_log2, h->evtq,
		     4, ev);
}

bool smmu_h_pri(struct smmu_h *h, uint64_t e[2])
{
	return q_pop(h, SMMU_PRIQ_PROD, SMMU_PRIQ_CONS, h->priq_log2, h->priq,
		     2, e);
}

void smmu_h_expect_event(struct smmu_h *h, unsigned type, uint64_t ev[4])
{
	uint64_t tmp[4];

	if (!ev)
		ev = tmp;
	assert_true(smmu_h_event(h, ev));
	assert_int_equal(ev[0] & 0xff, type);
}

void smmu_h_expect_no_event(struct smmu_h *h)
{
	uint64_t ev[4];

	assert_false(smmu_h_event(h, ev));
}

struct ionest_xlate_res smmu_h_xlate(struct smmu_h *h, uint32_t sid,
				     int64_t ssid, uint64_t iova,
				     uint32_t access)
{
	struct ionest_xlate_req r = {
		.sid = sid,
		.ssid = ssid >= 0 ? (uint32_t)ssid : 0,
		.ssid_valid = ssid >= 0,
		.access = access,
		.iova = iova,
	};
	struct ionest_xlate_res res;

	assert_int_equal(ionest_hw_translate(h->hw, &r, &res), 0);
	return res;
}

/* ---- page tables ---- */

static void *host_table(void *ctx, uint64_t pa, size_t size, bool write)
{
	(void)ctx;
	(void)size;
	(void)write;
	return (void *)(uintptr_t)pa;
}

static int host_alloc(void *ctx, size_t size, uint64_t *pa)
{
	*pa = smmu_h_pa(smmu_h_alloc(ctx, size, size));
	return 0;
}

static void no_free(void *ctx, uint64_t pa, size_t size)
{
	(void)ctx;
	(void)pa;
	(void)size;
}

static const struct pt_mem_ops host_ops = {
	.table = host_table,
	.alloc = host_alloc,
	.free = no_free,
};

struct pt_mem smmu_h_host_mem(struct smmu_h *h)
{
	return (struct pt_mem){ .ops = &host_ops, .ctx = h };
}

struct pt_cfg smmu_h_s1_cfg(unsigned granule_shift, unsigned ias)
{
	return (struct pt_cfg){ .fmt = PT_FMT_ARM_S1,
				.granule_shift = (uint8_t)granule_shift,
				.ias = (uint8_t)ias,
				.oas = 48,
				.start_level = -1 };
}

struct pt_cfg smmu_h_s2_cfg(unsigned granule_shift, unsigned ias)
{
	return (struct pt_cfg){ .fmt = PT_FMT_ARM_S2,
				.granule_shift = (uint8_t)granule_shift,
				.ias = (uint8_t)ias,
				.oas = 48,
				.start_level = -1 };
}

void smmu_h_guest_init(struct smmu_h *h, struct smmu_h_guest *g, uint64_t ipa,
		       size_t size)
{
	g->ipa = ipa;
	g->size = size;
	g->used = 0;
	/* 2M-aligned so stage 2 may use blocks. */
	g->host = smmu_h_alloc(h, size, 2u << 20);
}

uint64_t smmu_h_guest_alloc(struct smmu_h_guest *g, size_t size, size_t align)
{
	size_t off = (g->used + align - 1) & ~(align - 1);

	assert_true(off + size <= g->size);
	g->used = off + size;
	memset(g->host + off, 0, size);
	return g->ipa + off;
}

void *smmu_h_gva(struct smmu_h_guest *g, uint64_t ipa)
{
	assert_true(ipa >= g->ipa && ipa - g->ipa < g->size);
	return g->host + (ipa - g->ipa);
}

static void *guest_table(void *ctx, uint64_t pa, size_t size, bool write)
{
	struct smmu_h_guest *g = ctx;

	(void)write;
	if (pa < g->ipa || pa - g->ipa + size > g->size)
		return NULL;
	return g->host + (pa - g->ipa);
}

static int guest_alloc(void *ctx, size_t size, uint64_t *pa)
{
	*pa = smmu_h_guest_alloc(ctx, size, size);
	return 0;
}

static const struct pt_mem_ops guest_ops = {
	.table = guest_table,
	.alloc = guest_alloc,
	.free = no_free,
};

struct pt_mem smmu_h_guest_mem(struct smmu_h_guest *g)
{
	return (struct pt_mem){ .ops = &guest_ops, .ctx = g };
}

void smmu_h_guest_map(struct smmu_h_guest *g, struct pt *s2, uint32_t prot)
{
	assert_int_equal(
		pt_map(s2, g->ipa, smmu_h_pa(g->host), g->size, prot, 0), 0);
}
