// SPDX-License-Identifier: MIT
/*
 * Command queue: commands are consumed synchronously, in order, when
 * CMDQ_PROD is written (or the queue is enabled, or a command error is
 * acknowledged), so every invalidation is complete before the CMD_SYNC
 * behind it signals (spec/smmuv3.md §8). An illegal command stops the
 * queue at that command with CMDQ_CONS.ERR = CERROR_ILL and GERROR.CMDQ_ERR;
 * a command fetch that aborts gives CERROR_ABT.
 */
#include "hw/smmuv3/smmu.h"

/* Fields each command may use; any other bit set makes it illegal. */
#define F_SSV SMMU_MASK(11, 11)
#define F_SSID SMMU_MASK(31, 12)
#define F_SID SMMU_MASK(63, 32)
#define F_VMID SMMU_MASK(47, 32)
#define F_ASID SMMU_MASK(63, 48)
#define F_RANGE (SMMU_MASK(16, 12) | SMMU_MASK(24, 20)) /* NUM, SCALE */
#define F1_VA (SMMU_MASK(0, 0) | SMMU_MASK(9, 8) | SMMU_MASK(63, 12))
#define F1_IPA (SMMU_MASK(0, 0) | SMMU_MASK(9, 8) | SMMU_MASK(51, 12))
#define F1_TG SMMU_MASK(11, 10)

enum cmd_need {
	NEED_NONE,
	NEED_S1,
	NEED_S2,
	NEED_HYP,
	NEED_ATS,
	NEED_PRI,
	NEED_STALL,
	NEED_NEVER, /* Secure-only commands on the Non-secure queue */
};

struct cmd_desc {
	uint64_t dw0, dw1; /* allowed fields besides the opcode */
	uint8_t need;
	uint8_t range; /* takes NUM/SCALE/TG (range invalidation) */
};

static const struct cmd_desc cmd_table[256] = {
	[CMD_PREFETCH_CONFIG] = { F_SSV | F_SSID | F_SID, 0, NEED_NONE, 0 },
	[CMD_PREFETCH_ADDR] = { F_SSV | F_SSID | F_SID,
				SMMU_MASK(4, 0) | SMMU_MASK(63, 12), NEED_NONE,
				0 },
	[CMD_CFGI_STE] = { F_SID, SMMU_MASK(0, 0), NEED_NONE, 0 },
	[CMD_CFGI_STE_RANGE] = { F_SID, SMMU_MASK(4, 0), NEED_NONE, 0 },
	[CMD_CFGI_CD] = { F_SSID | F_SID, SMMU_MASK(0, 0), NEED_S1, 0 },
	[CMD_CFGI_CD_ALL] = { F_SID, 0, NEED_S1, 0 },
	[CMD_TLBI_NH_ALL] = { F_VMID, 0, NEED_S1, 0 },
	[CMD_TLBI_NH_ASID] = { F_VMID | F_ASID, 0, NEED_S1, 0 },
	[CMD_TLBI_NH_VA] = { F_VMID | F_ASID, F1_VA, NEED_S1, 1 },
	[CMD_TLBI_NH_VAA] = { F_VMID, F1_VA, NEED_S1, 1 },
	[CMD_TLBI_EL3_ALL] = { 0, 0, NEED_NEVER, 0 },
	[CMD_TLBI_EL3_VA] = { 0, 0, NEED_NEVER, 0 },
	[CMD_TLBI_EL2_ALL] = { 0, 0, NEED_HYP, 0 },
	[CMD_TLBI_EL2_ASID] = { F_ASID, 0, NEED_HYP, 0 },
	[CMD_TLBI_EL2_VA] = { F_ASID, F1_VA, NEED_HYP, 1 },
	[CMD_TLBI_EL2_VAA] = { 0, F1_VA, NEED_HYP, 1 },
	[CMD_TLBI_S12_VMALL] = { F_VMID, 0, NEED_S2, 0 },
	[CMD_TLBI_S2_IPA] = { F_VMID, F1_IPA, NEED_S2, 1 },
	[CMD_TLBI_NSNH_ALL] = { 0, 0, NEED_NONE, 0 },
	[CMD_ATC_INV] = { SMMU_MASK(9, 9) | F_SSV | F_SSID | F_SID,
			  SMMU_MASK(5, 0) | SMMU_MASK(63, 12), NEED_ATS, 0 },
	[CMD_PRI_RESP] = { F_SSV | F_SSID | F_SID,
			   SMMU_MASK(8, 0) | SMMU_MASK(13, 12), NEED_PRI, 0 },
	[CMD_RESUME] = { SMMU_MASK(13, 12) | F_SID, SMMU_MASK(15, 0),
			 NEED_STALL, 0 },
	[CMD_STALL_TERM] = { F_SID, 0, NEED_STALL, 0 },
	[CMD_SYNC] = { SMMU_MASK(13, 12) | SMMU_MASK(27, 22) |
			       SMMU_MASK(63, 32),
		       SMMU_MASK(51, 2), NEED_NONE, 0 },
};

static bool cmd_need_ok(const struct smmu *s, unsigned need)
{
	switch (need) {
	case NEED_S1:
		return s->f.s1p;
	case NEED_S2:
		return s->f.s2p;
	case NEED_HYP:
		return s->f.hyp;
	case NEED_ATS:
		return s->f.ats;
	case NEED_PRI:
		return s->f.pri;
	case NEED_STALL:
		return s->f.stall_model != SMMU_STALL_TERM_ONLY;
	case NEED_NONE:
		return true;
	default:
		return false;
	}
}

/* Granule of a range TLBI's TG field (0: not a range). */
static unsigned tg_shift(uint64_t tg)
{
	return tg == 1 ? 12 : tg == 2 ? 14 : tg == 3 ? 16 : 0;
}

static bool cmd_legal(const struct smmu *s, const uint64_t *cmd)
{
	unsigned op = (unsigned)CMD_OP(cmd[0]);
	const struct cmd_desc *d = &cmd_table[op];
	uint64_t dw0 = d->dw0, dw1 = d->dw1;

	if (!d->dw0 && !d->dw1 && op != CMD_TLBI_NSNH_ALL &&
	    op != CMD_TLBI_EL2_ALL)
		return false; /* unknown opcode */
	if (!cmd_need_ok(s, d->need))
		return false;
	if (d->range && s->f.ril) {
		unsigned tg = (unsigned)CMD1_TG(cmd[1]);

		dw0 |= F_RANGE;
		dw1 |= F1_TG;
		/* TG selects a supported granule; without it (a single
		 * address) NUM, SCALE and TTL must be zero. */
		if (tg ? !smmu_gran_ok(s, tg_shift(tg)) :
			 (CMD_NUM(cmd[0]) || CMD_SCALE(cmd[0]) ||
			  CMD1_TTL(cmd[1])))
			return false;
	} else if (d->range && CMD1_TTL(cmd[1])) {
		return false;
	}
	if ((cmd[0] & ~(dw0 | 0xffull)) || (cmd[1] & ~dw1))
		return false;
	if ((dw0 & F_SSV) && CMD_SSV(cmd[0]) && !s->f.ssidsize)
		return false;
	switch (op) {
	case CMD_PRI_RESP:
		return CMD1_PRI_RESP(cmd[1]) != 3;
	case CMD_RESUME:
		return CMD_RESUME_ACTION(cmd[0]) != 3;
	case CMD_SYNC:
		return CMD_SYNC_CS(cmd[0]) != 3;
	default:
		return true;
	}
}

/* ---- invalidations ---- */

static void cache_inv(struct hw_tlb *t, uint32_t fields, uint32_t sid,
		      uint32_t ssid, uint16_t dom, uint32_t asid, uint8_t flags,
		      uint64_t start, uint64_t last)
{
	struct hw_tlb_match m = {
		.fields = fields,
		.sid = sid,
		.ssid = ssid,
		.dom = dom,
		.asid = asid,
		.flags_any = flags,
		.va_start = start,
		.va_last = last,
	};

	hw_tlb_invalidate(t, &m);
}

#define tlb_inv(s, ...) cache_inv(&(s)->tlb, __VA_ARGS__)
/* Stage-1 walk cache entries (walkc.c): tagged like stage-1 TLB entries,
 * never global. */
#define s1wc_inv(s, ...) cache_inv(&(s)->s1wc, __VA_ARGS__)

/* Address range of a TLBI by address: TG=0 names one address (every
 * entry covering it); otherwise (NUM+1) << SCALE pages of the granule. */
static void tlbi_range(const uint64_t *cmd, bool ipa, uint64_t *start,
		       uint64_t *last)
{
	uint64_t addr = cmd[1] & (ipa ? CMD1_IPA : CMD1_ADDR);
	unsigned g = tg_shift(CMD1_TG(cmd[1]));
	uint64_t pages, span;

	/* VAs are compared in canonical form (tag byte = sign of bit 55). */
	if (!ipa)
		addr = (uint64_t)((int64_t)(addr << 8) >> 8);
	if (!g) {
		*start = *last = addr;
		return;
	}
	addr &= ~((1ull << g) - 1);
	pages = (CMD_NUM(cmd[0]) + 1) << CMD_SCALE(cmd[0]);
	span = pages << g;
	*start = addr;
	*last = addr + span - 1 < addr ? UINT64_MAX : addr + span - 1;
}

/*
 * Within one invalidation the caches go in the order their entries are
 * built from each other: the stage-2 walk cache, then the stage-1 walk
 * cache (whose nested entries hold addresses found through stage 2), then
 * the TLB (filled from both, and - on the walk-cache path - without the
 * configuration cache). A fill that read an entry the command is about to
 * drop took the TLB generation before the TLB's turn, so it is refused or
 * dropped with the rest: after the sync nothing built from the old entry
 * remains.
 */
static void cfgi_sids(struct smmu *s, uint32_t first, uint32_t last)
{
	smmu_cfgc_invalidate(s, first, last, SMMU_CFGC_ANY);
	/* The TLB is keyed by stream: drop the streams' entries too. */
	if (last - first >= 16) {
		hw_tlb_flush(&s->s1wc);
		hw_tlb_flush(&s->tlb);
		return;
	}
	for (uint64_t sid = first; sid <= last; sid++) {
		s1wc_inv(s, HW_TLB_M_SID, (uint32_t)sid, 0, 0, 0, 0, 0, 0);
		tlb_inv(s, HW_TLB_M_SID, (uint32_t)sid, 0, 0, 0, 0, 0, 0);
	}
}

static void cfgi_cd(struct smmu *s, uint32_t sid, uint32_t ssid)
{
	uint32_t key = ssid | HW_TLB_SSID_VALID;

	smmu_cfgc_invalidate(s, sid, sid, key);
	s1wc_inv(s, HW_TLB_M_SID | HW_TLB_M_SSID, sid, key, 0, 0, 0, 0, 0);
	tlb_inv(s, HW_TLB_M_SID | HW_TLB_M_SSID, sid, key, 0, 0, 0, 0, 0);
	/* CD 0 also serves transactions without a SubstreamID. */
	if (!ssid) {
		smmu_cfgc_invalidate(s, sid, sid, 0);
		s1wc_inv(s, HW_TLB_M_SID | HW_TLB_M_SSID, sid, 0, 0, 0, 0, 0,
			 0);
		tlb_inv(s, HW_TLB_M_SID | HW_TLB_M_SSID, sid, 0, 0, 0, 0, 0, 0);
	}
}

static void cmd_tlbi(struct smmu *s, const uint64_t *cmd, unsigned op)
{
	/* Without stage 2 there are no VMIDs: the VMID field is ignored. */
	uint32_t dom = s->f.s2p ? HW_TLB_M_DOM : 0;
	uint16_t vmid =
		(uint16_t)(CMD_VMID(cmd[0]) & (s->f.vmid16 ? 0xffff : 0xff));
	uint32_t asid =
		(uint32_t)(CMD_ASID(cmd[0]) & (s->f.asid16 ? 0xffff : 0xff));
	uint32_t el2 = SMMU_ASID_EL2 | asid;
	/* Leaf=1: only last-level entries changed, walk entries stay. */
	bool walk = !CMD1_LEAF(cmd[1]);
	uint64_t a = 0, b = 0;

	if (op == CMD_TLBI_NH_VA || op == CMD_TLBI_NH_VAA ||
	    op == CMD_TLBI_EL2_VA || op == CMD_TLBI_EL2_VAA)
		tlbi_range(cmd, false, &a, &b);
	/* Walk caches first, then the TLB (see cfgi_sids). */
	switch (op) {
	case CMD_TLBI_NH_ALL:
		s1wc_inv(s, dom, 0, 0, vmid, 0, 0, 0, 0);
		tlb_inv(s, dom | HW_TLB_M_FLAGS, 0, 0, vmid, 0, HW_TLB_S1, 0,
			0);
		break;
	case CMD_TLBI_NH_ASID:
		s1wc_inv(s, dom | HW_TLB_M_ASID, 0, 0, vmid, asid, 0, 0, 0);
		tlb_inv(s, dom | HW_TLB_M_ASID, 0, 0, vmid, asid, 0, 0, 0);
		break;
	case CMD_TLBI_NH_VA:
		if (walk)
			s1wc_inv(s, dom | HW_TLB_M_ASID | HW_TLB_M_RANGE, 0, 0,
				 vmid, asid, 0, a, b);
		/* By ASID, and the global entries of the range. */
		tlb_inv(s, dom | HW_TLB_M_ASID | HW_TLB_M_RANGE, 0, 0, vmid,
			asid, 0, a, b);
		tlb_inv(s, dom | HW_TLB_M_FLAGS | HW_TLB_M_RANGE, 0, 0, vmid, 0,
			HW_TLB_GLOBAL, a, b);
		break;
	case CMD_TLBI_NH_VAA:
		if (walk)
			s1wc_inv(s, dom | HW_TLB_M_RANGE, 0, 0, vmid, 0, 0, a,
				 b);
		tlb_inv(s, dom | HW_TLB_M_FLAGS | HW_TLB_M_RANGE, 0, 0, vmid, 0,
			HW_TLB_S1, a, b);
		break;
	case CMD_TLBI_EL2_ALL:
		s1wc_inv(s, HW_TLB_M_DOM, 0, 0, 0, 0, 0, 0, 0);
		tlb_inv(s, HW_TLB_M_DOM | HW_TLB_M_FLAGS, 0, 0, 0, 0, HW_TLB_S1,
			0, 0);
		break;
	case CMD_TLBI_EL2_ASID:
		s1wc_inv(s, HW_TLB_M_ASID, 0, 0, 0, el2, 0, 0, 0);
		tlb_inv(s, HW_TLB_M_ASID, 0, 0, 0, el2, 0, 0, 0);
		break;
	case CMD_TLBI_EL2_VA:
		if (walk)
			s1wc_inv(s, HW_TLB_M_ASID | HW_TLB_M_RANGE, 0, 0, 0,
				 el2, 0, a, b);
		tlb_inv(s, HW_TLB_M_ASID | HW_TLB_M_RANGE, 0, 0, 0, el2, 0, a,
			b);
		tlb_inv(s, HW_TLB_M_DOM | HW_TLB_M_FLAGS | HW_TLB_M_RANGE, 0, 0,
			0, 0, HW_TLB_GLOBAL, a, b);
		break;
	case CMD_TLBI_EL2_VAA:
		if (walk)
			s1wc_inv(s, HW_TLB_M_DOM | HW_TLB_M_RANGE, 0, 0, 0, 0,
				 0, a, b);
		tlb_inv(s, HW_TLB_M_DOM | HW_TLB_M_FLAGS | HW_TLB_M_RANGE, 0, 0,
			0, 0, HW_TLB_S1, a, b);
		break;
	case CMD_TLBI_S12_VMALL:
		cache_inv(&s->wc, HW_TLB_M_DOM, 0, 0, vmid, 0, 0, 0, 0);
		s1wc_inv(s, HW_TLB_M_DOM, 0, 0, vmid, 0, 0, 0, 0);
		tlb_inv(s, HW_TLB_M_DOM, 0, 0, vmid, 0, 0, 0, 0);
		break;
	case CMD_TLBI_S2_IPA:
		/* Stage-2-only entries and cached stage-2 translations of
		 * the range; combined stage-1+2 entries may stay (software
		 * follows with S12_VMALL or NH_ALL). */
		tlbi_range(cmd, true, &a, &b);
		cache_inv(&s->wc, HW_TLB_M_DOM | HW_TLB_M_RANGE, 0, 0, vmid, 0,
			  0, a, b);
		/* Nested walk entries hold host addresses of stage-1
		 * tables found through stage 2: drop the VMID's. */
		s1wc_inv(s, HW_TLB_M_DOM, 0, 0, vmid, 0, 0, 0, 0);
		tlb_inv(s, HW_TLB_M_DOM | HW_TLB_M_ASID | HW_TLB_M_RANGE, 0, 0,
			vmid, SMMU_ASID_S2ONLY, 0, a, b);
		break;
	case CMD_TLBI_NSNH_ALL:
		hw_tlb_flush(&s->wc);
		hw_tlb_flush(&s->s1wc);
		hw_tlb_flush(&s->tlb);
		break;
	default:
		break;
	}
}

/* ---- other commands ---- */

static void cmd_atc_inv(struct smmu *s, const uint64_t *cmd)
{
	unsigned size = (unsigned)CMD1_ATC_SIZE(cmd[1]);
	uint64_t addr = cmd[1] & CMD1_ADDR, span = 0;

	/* 2^Size 4K pages, naturally aligned; Size >= 52 means all. */
	if (size < 52) {
		span = 4096ull << size;
		addr &= ~(span - 1);
	} else {
		addr = 0;
	}
	hw_count(&s->hw, hw_atc_inv);
	if (s->hw.atc_inv_fn)
		s->hw.atc_inv_fn(s->hw.atc_inv_ctx, (uint32_t)CMD_SID(cmd[0]),
				 (uint32_t)CMD_SSID(cmd[0]), CMD_SSV(cmd[0]),
				 addr, span);
}

static void cmd_pri_resp(struct smmu *s, const uint64_t *cmd)
{
	/* Command Resp: 0 deny, 1 fail, 2 success -> PCIe PRG response
	 * codes 1 (invalid request), 2 (response failure), 0 (success). */
	static const uint32_t code[3] = { 1, 2, 0 };

	if (s->hw.page_resp_fn)
		s->hw.page_resp_fn(s->hw.page_resp_ctx,
				   (uint32_t)CMD_SID(cmd[0]),
				   (uint32_t)CMD_SSID(cmd[0]), CMD_SSV(cmd[0]),
				   (uint32_t)CMD1_PRGI(cmd[1]),
				   code[CMD1_PRI_RESP(cmd[1])]);
}

static void cmd_resume(struct smmu *s, const uint64_t *cmd)
{
	uint32_t sid = (uint32_t)CMD_SID(cmd[0]);
	uint16_t stag = (uint16_t)CMD1_STAG(cmd[1]);

	/* A RESUME naming no stalled transaction has no effect. */
	if (smmu_stalls_take(&s->stalls, sid, stag) && s->hw.resume_fn)
		s->hw.resume_fn(s->hw.resume_ctx, sid, stag,
				CMD_RESUME_ACTION(cmd[0]) == RESUME_RETRY);
}

static void cmd_sync(struct smmu *s, const uint64_t *cmd)
{
	/* Everything before it is complete: invalidations took effect as
	 * they were consumed. CS=IRQ: MSI (if an address is given) and the
	 * wired line; CS=SEV: an event to waiting PEs, nothing to model. */
	hw_count(&s->hw, hw_sync);
	if (CMD_SYNC_CS(cmd[0]) != SYNC_CS_IRQ)
		return;
	if ((cmd[1] & CMD1_SYNC_ADDR) &&
	    !hw_bus_write32(&s->hw, cmd[1] & CMD1_SYNC_ADDR,
			    (uint32_t)CMD_SYNC_DATA(cmd[0])))
		smmu_gerror_raise(s, GERROR_MSI_CMDQ_ABT);
	hw_irq(&s->hw, IONEST_IRQ_CMD_SYNC);
}

static void cmd_exec(struct smmu *s, const uint64_t *cmd)
{
	unsigned op = (unsigned)CMD_OP(cmd[0]);
	uint32_t sid = (uint32_t)CMD_SID(cmd[0]);

	switch (op) {
	case CMD_PREFETCH_CONFIG:
	case CMD_PREFETCH_ADDR:
		break; /* hints */
	case CMD_CFGI_STE:
		hw_count(&s->hw, hw_invalidation);
		cfgi_sids(s, sid, sid);
		break;
	case CMD_CFGI_STE_RANGE: {
		unsigned r = (unsigned)CMD1_RANGE(cmd[1]);
		uint64_t n = 2ull << r;
		uint64_t first = sid & ~(n - 1);

		/* Range 31 covers every StreamID (CFGI_ALL). */
		hw_count(&s->hw, hw_invalidation);
		cfgi_sids(s, (uint32_t)first, (uint32_t)(first + n - 1));
		break;
	}
	case CMD_CFGI_CD:
		hw_count(&s->hw, hw_invalidation);
		cfgi_cd(s, sid, (uint32_t)CMD_SSID(cmd[0]));
		break;
	case CMD_CFGI_CD_ALL:
		hw_count(&s->hw, hw_invalidation);
		cfgi_sids(s, sid, sid);
		break;
	case CMD_ATC_INV:
		cmd_atc_inv(s, cmd);
		break;
	case CMD_PRI_RESP:
		cmd_pri_resp(s, cmd);
		break;
	case CMD_RESUME:
		cmd_resume(s, cmd);
		break;
	case CMD_STALL_TERM:
		smmu_stall_term(s, sid);
		break;
	case CMD_SYNC:
		cmd_sync(s, cmd);
		break;
	default:
		hw_count(&s->hw, hw_invalidation);
		cmd_tlbi(s, cmd, op);
		break;
	}
}

static void cmdq_error(struct smmu *s, uint32_t cons, uint32_t code)
{
	smmu_st32(&s->cmdq.cons, cons | code << CMDQ_CONS_ERR_SHIFT);
	smmu_gerror_raise(s, GERROR_CMDQ_ERR);
}

void smmu_cmdq_consume(struct smmu *s)
{
	/* A platform callback made by a command may write CMDQ_PROD again:
	 * the loop already running picks the new commands up. */
	if (s->consuming)
		return;
	s->consuming = true;
	for (;;) {
		unsigned log2 = smmu_q_log2(&s->cmdq, s->f.cmdqs);
		uint32_t idx = (2u << log2) - 1, mask = (1u << log2) - 1;
		uint32_t prod = smmu_ld32(&s->cmdq.prod) & idx;
		uint32_t cons = smmu_ld32(&s->cmdq.cons) & idx;
		uint64_t cmd[2];

		if (!(smmu_ld32(&s->cr0) & CR0_CMDQEN) ||
		    ((smmu_ld32(&s->gerror) ^ smmu_ld32(&s->gerrorn)) &
		     GERROR_CMDQ_ERR) ||
		    prod == cons)
			break;
		if (!hw_bus_read(&s->hw,
				 (smmu_ld64(&s->cmdq.base) & Q_BASE_ADDR) +
					 (uint64_t)(cons & mask) * 16,
				 cmd, 2)) {
			cmdq_error(s, cons, CERROR_ABT);
			break;
		}
		hw_count(&s->hw, hw_command);
		trace_smmu_cmd(s->hw.id, CMD_OP(cmd[0]), cmd[0], cmd[1]);
		if (!cmd_legal(s, cmd)) {
			cmdq_error(s, cons, CERROR_ILL);
			break;
		}
		cmd_exec(s, cmd);
		smmu_st32(&s->cmdq.cons, (cons + 1) & idx);
	}
	s->consuming = false;
}
