/* SPDX-License-Identifier: MIT */
/*
 * A driver's-eye harness for the SMMUv3 model: an arena standing for the
 * machine's RAM, a stream table (linear or 2-level), command/event/PRI
 * queues, the CR0/CR0ACK handshake, STE and CD builders, and page tables
 * built with the pt engine either in host memory or in a guest RAM window
 * at IPAs (for nested configurations). Reusable by the host driver tests.
 */
#ifndef IONEST_TESTS_SMMU_HARNESS_H
#define IONEST_TESTS_SMMU_HARNESS_H

#include <stdbool.h>
#include <stdint.h>
#include <ionest/hw.h>

#include "pt/pt.h"
#include "test_util.h"

struct smmu_h_opts {
	const struct ionest_smmuv3_config *cfg; /* NULL: defaults */
	size_t mem_size; /* arena bytes (default 64 MiB) */
	unsigned sid_bits; /* stream table covers 2^sid_bits (default 8) */
	unsigned split; /* 0: linear table; else 2-level with this SPLIT */
	unsigned cmdq_log2, evtq_log2, priq_log2; /* default 8 each */
	bool bounded; /* bus limited to the arena */
	bool no_enable; /* leave CR0 alone (tests of the handshake) */
};

struct smmu_h_cb {
	uint32_t sid, ssid;
	bool ssv;
	uint64_t a, b; /* atc: addr, size; resp: prgi, code; resume: stag,
			* retry */
};

struct smmu_h {
	struct ionest_hw *hw;
	struct test_arena mem;
	unsigned sid_bits, split;
	uint64_t *strtab; /* linear table, or the L1 table */
	uint64_t *cmdq, *evtq, *priq;
	unsigned cmdq_log2, evtq_log2, priq_log2;
	unsigned irqs[4]; /* per enum ionest_hw_irq */
	/* Platform callbacks seen: counts, and the first 32 of each. */
	struct smmu_h_cb atc[32], resp[32], resume[32];
	unsigned natc, nresp, nresume;
};

void smmu_h_init(struct smmu_h *h, const struct smmu_h_opts *o);
void smmu_h_fini(struct smmu_h *h);

/* Registers. */
uint32_t smmu_h_rd32(struct smmu_h *h, uint64_t off);
uint64_t smmu_h_rd64(struct smmu_h *h, uint64_t off);
void smmu_h_wr32(struct smmu_h *h, uint64_t off, uint32_t v);
void smmu_h_wr64(struct smmu_h *h, uint64_t off, uint64_t v);
/* Write CR0 and check CR0ACK follows. */
void smmu_h_cr0(struct smmu_h *h, uint32_t cr0);

/* Memory. */
void *smmu_h_alloc(struct smmu_h *h, size_t size, size_t align);
static inline uint64_t smmu_h_pa(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

/* The STE of @sid (allocating its level-2 table when 2-level). */
uint64_t *smmu_h_ste(struct smmu_h *h, uint32_t sid);

/* STE builders: they fill DW0-DW3 (V set). */
void smmu_h_ste_abort(uint64_t *ste);
void smmu_h_ste_bypass(uint64_t *ste);
/* Stage 1: CD table at @cdptr (IPA if stage 2 is added later). */
void smmu_h_ste_s1(uint64_t *ste, uint64_t cdptr, unsigned s1fmt,
		   unsigned cdmax, unsigned s1dss);
/* Stage 2 (adds to Config): VMID, tables of @s2 (ARM S2 format). */
void smmu_h_ste_s2(uint64_t *ste, uint16_t vmid, const struct pt *s2);

/* CD for stage-1 tables @t0 (TTB0; NULL: EPD0) and @t1 (TTB1; NULL: EPD1),
 * with R=1, A=1, AA64=1, V=1, IPS = 48 bits. */
void smmu_h_cd(uint64_t *cd, const struct pt *t0, const struct pt *t1,
	       uint16_t asid);

/* Commands. */
void smmu_h_cmd(struct smmu_h *h, uint64_t dw0, uint64_t dw1);
/* Push a CMD_SYNC and check the queue drained without error. */
void smmu_h_sync(struct smmu_h *h);
/* Common invalidations followed by a sync. */
void smmu_h_cfgi_ste(struct smmu_h *h, uint32_t sid);
void smmu_h_cfgi_cd(struct smmu_h *h, uint32_t sid, uint32_t ssid);
void smmu_h_tlbi_nh_va(struct smmu_h *h, uint16_t vmid, uint16_t asid,
		       uint64_t va);

/* Output queues: pop the next entry; false when empty. */
bool smmu_h_event(struct smmu_h *h, uint64_t ev[4]);
bool smmu_h_pri(struct smmu_h *h, uint64_t e[2]);
/* Pop one event and check its type (and return it). */
void smmu_h_expect_event(struct smmu_h *h, unsigned type, uint64_t ev[4]);
void smmu_h_expect_no_event(struct smmu_h *h);

/* Translate; asserts the call itself succeeds. */
struct ionest_xlate_res smmu_h_xlate(struct smmu_h *h, uint32_t sid,
				     int64_t ssid, uint64_t iova,
				     uint32_t access);

/* ---- page tables ---- */
/* Tables in the arena, table address == host address. */
struct pt_mem smmu_h_host_mem(struct smmu_h *h);
/* S1/S2 table configuration helpers. */
struct pt_cfg smmu_h_s1_cfg(unsigned granule_shift, unsigned ias);
struct pt_cfg smmu_h_s2_cfg(unsigned granule_shift, unsigned ias);

/* A guest RAM window: IPA [ipa, ipa + size) backed by arena memory. */
struct smmu_h_guest {
	uint64_t ipa;
	uint8_t *host;
	size_t size, used;
};
void smmu_h_guest_init(struct smmu_h *h, struct smmu_h_guest *g, uint64_t ipa,
		       size_t size);
uint64_t smmu_h_guest_alloc(struct smmu_h_guest *g, size_t size, size_t align);
void *smmu_h_gva(struct smmu_h_guest *g, uint64_t ipa); /* host pointer */
/* Tables in guest RAM, table addresses are IPAs. */
struct pt_mem smmu_h_guest_mem(struct smmu_h_guest *g);
/* Map the whole window in stage 2 @s2 (IPA -> host) with @prot. */
void smmu_h_guest_map(struct smmu_h_guest *g, struct pt *s2, uint32_t prot);

#endif
