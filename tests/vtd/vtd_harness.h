/* SPDX-License-Identifier: MIT */
/*
 * A driver's-eye harness for the VT-d model: an arena standing for the
 * machine's RAM, a scalable-mode root table, context and PASID tables
 * allocated on demand, the invalidation queue (256-bit descriptors by
 * default) with wait-descriptor synchronisation, the page request queue,
 * the GCMD/GSTS handshake, PASID-entry builders, and page tables built with
 * the pt engine either in host memory or in a guest RAM window at GPAs (for
 * nested configurations). Reusable by the host driver tests.
 */
#ifndef IONEST_TESTS_VTD_HARNESS_H
#define IONEST_TESTS_VTD_HARNESS_H

#include <stdbool.h>
#include <stdint.h>
#include <ionest/hw.h>

#include "hw/vtd/vtd_format.h"
#include "hw/vtd/vtd_regs.h"
#include "pt/pt.h"
#include "test_util.h"

struct vtd_h_opts {
	const struct ionest_vtd_config *cfg; /* NULL: defaults */
	size_t mem_size; /* arena bytes (default 64 MiB) */
	unsigned iq_qs; /* IQA.QS (default 0: one 4K page) */
	bool iq_narrow; /* 128-bit descriptors (default 256-bit) */
	unsigned prq_qs; /* PQA.PQS (default 0) */
	bool no_prq; /* leave the page request queue unset */
	bool bounded; /* bus limited to the arena */
	bool no_enable; /* leave GCMD alone (tests of the handshake) */
};

struct vtd_h_cb {
	uint32_t sid, ssid;
	bool ssv;
	uint64_t a, b; /* atc: addr, size; resp: prgi, code */
};

struct vtd_h {
	struct ionest_hw *hw;
	struct test_arena mem;
	uint64_t *root; /* 256 x 128-bit root entries */
	uint8_t *iq; /* invalidation queue */
	unsigned iq_bytes, iq_dsz, iq_tail;
	uint8_t *prq; /* page request queue */
	unsigned prq_bytes;
	volatile uint32_t *status; /* wait-descriptor status word */
	uint32_t status_seq;
	unsigned irqs[4]; /* per enum ionest_hw_irq */
	struct vtd_h_cb atc[32], resp[32];
	unsigned natc, nresp;
	/* Bounded bus only: writes into [ro_start, ro_start + ro_len) are
	 * refused (read-only memory), for A/D update failures. */
	uint64_t ro_start, ro_len;
};

void vtd_h_init(struct vtd_h *h, const struct vtd_h_opts *o);
void vtd_h_fini(struct vtd_h *h);

/* ---- Registers ---- */
uint32_t vtd_h_rd32(struct vtd_h *h, uint64_t off);
uint64_t vtd_h_rd64(struct vtd_h *h, uint64_t off);
void vtd_h_wr32(struct vtd_h *h, uint64_t off, uint32_t v);
void vtd_h_wr64(struct vtd_h *h, uint64_t off, uint64_t v);
/* GCMD with the persistent bits kept (TE, QIE) plus @cmd set or cleared,
 * then check GSTS followed (the status bit of the command). */
void vtd_h_gcmd(struct vtd_h *h, uint32_t cmd, bool set);
/* RTADDR = root | TTM scalable; SRTP; QI on; PRQ; TE. */
void vtd_h_enable(struct vtd_h *h);

/* ---- Memory ---- */
void *vtd_h_alloc(struct vtd_h *h, size_t size, size_t align);
static inline uint64_t vtd_h_pa(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}
/* Accessor for page tables in the arena (host physical). */
struct pt_mem vtd_h_mem(struct vtd_h *h);

/* ---- Root / context / PASID tables ---- */
/* The 256-bit context entry of @sid (allocating the context table). */
uint64_t *vtd_h_ctx(struct vtd_h *h, uint16_t sid);
/* A present context entry: @flags from VTD_CE_* (DTE, PASIDE, PRE, FPD),
 * PASID directory of 2^(pdts+7) entries allocated, RID_PASID. */
void vtd_h_set_ctx(struct vtd_h *h, uint16_t sid, uint64_t flags, unsigned pdts,
		   uint32_t rid_pasid);
/* The 512-bit PASID entry of (@sid, @pasid): allocates the PASID table
 * and a present directory entry. */
uint64_t *vtd_h_pe(struct vtd_h *h, uint16_t sid, uint32_t pasid);

/* PASID-entry contents; written with P last. */
struct vtd_h_pe {
	unsigned pgtt; /* VTD_PGTT_* */
	uint16_t did;
	uint64_t fsptptr; /* FS root (GPA when nested) */
	bool fs5; /* FSPM 5-level */
	uint64_t ssptptr; /* SS root */
	unsigned aw; /* 1 39-bit, 2 48-bit, 3 57-bit (default 2) */
	uint64_t q0, q1, q2; /* extra bits (SSADE, FPD, SRE, WPE, ...) */
};
void vtd_h_write_pe(uint64_t *pe, const struct vtd_h_pe *p);
/* Context (PASIDE, DTE, PRE when supported) + PASID entry in one go. */
uint64_t *vtd_h_attach(struct vtd_h *h, uint16_t sid, uint32_t pasid,
		       const struct vtd_h_pe *p);

/* ---- Page tables ---- */
/* Tables in host memory: x86-64 (@ias 48/57) or VT-d SS (@ias 39/48/57),
 * all leaf sizes the model supports unless @pgsizes. */
void vtd_h_pt(struct vtd_h *h, struct pt *pt, enum pt_format fmt, unsigned ias,
	      uint64_t pgsizes, uint32_t flags);

/* A guest RAM window: GPA [0, size) backed by arena memory at host, 2M
 * aligned, with its own table allocator (tables at GPAs). */
struct vtd_h_guest {
	struct vtd_h *h;
	uint8_t *host;
	uint64_t size, used;
};
void vtd_h_guest_init(struct vtd_h *h, struct vtd_h_guest *g, uint64_t size);
void *vtd_h_gva(struct vtd_h_guest *g, uint64_t gpa);
/* Tables at GPAs inside the window. */
void vtd_h_guest_pt(struct vtd_h_guest *g, struct pt *pt, enum pt_format fmt,
		    unsigned ias, uint64_t pgsizes);
/* Map the whole window (GPA -> host) into second-stage @s2 with leaves of
 * @leaf bytes and @prot. */
void vtd_h_guest_map(struct vtd_h_guest *g, struct pt *s2, uint64_t leaf,
		     uint32_t prot);

/* The descriptor a walk of @iova reads at @level (our numbering: 0 is the
 * last-level table); NULL if the walk stops above it. */
uint64_t *vtd_h_pte(const struct pt *pt, uint64_t iova, unsigned level);

/* ---- Invalidation queue ---- */
/* Append a descriptor (2 or 4 words) without moving IQT. */
void vtd_h_queue(struct vtd_h *h, uint64_t q0, uint64_t q1, uint64_t q2,
		 uint64_t q3);
/* Publish IQT. */
void vtd_h_kick(struct vtd_h *h);
/* Append a wait (status write), kick, and return 0 if the status arrived,
 * -EIO if the queue stopped with IQE. */
int vtd_h_sync(struct vtd_h *h);
/* Queue one descriptor and sync. */
int vtd_h_inv(struct vtd_h *h, uint64_t q0, uint64_t q1);

/* Descriptor builders. */
uint64_t vtd_h_d_cc(unsigned g, uint16_t did, uint16_t sid, unsigned fm);
uint64_t vtd_h_d_iotlb(unsigned g, uint16_t did);
uint64_t vtd_h_d_piotlb(unsigned g, uint16_t did, uint32_t pasid);
uint64_t vtd_h_d_pc(unsigned g, uint16_t did, uint32_t pasid);
static inline uint64_t vtd_h_d_addr(uint64_t addr, unsigned am, bool ih)
{
	return addr | (ih ? VTD_INV_IH : 0) | am;
}
/* What a driver does after changing a PASID entry: PASID-cache
 * PASID-selective and P_IOTLB all-in-PASID. */
int vtd_h_flush_pe(struct vtd_h *h, uint16_t did, uint32_t pasid);

/* ---- Requests ---- */
struct ionest_xlate_res vtd_h_xlate(struct vtd_h *h, uint16_t sid, bool pv,
				    uint32_t pasid, uint64_t iova,
				    uint32_t access);
/* Translate and require OK at @pa (returns the result). */
struct ionest_xlate_res vtd_h_expect(struct vtd_h *h, uint16_t sid, bool pv,
				     uint32_t pasid, uint64_t iova,
				     uint32_t access, uint64_t pa);
/* Translate and require a fault with @reason (returns the result). */
struct ionest_xlate_res vtd_h_expect_fault(struct vtd_h *h, uint16_t sid,
					   bool pv, uint32_t pasid,
					   uint64_t iova, uint32_t access,
					   unsigned reason);

/* ---- Fault records ---- */
unsigned vtd_h_nfr(struct vtd_h *h);
void vtd_h_frcd(struct vtd_h *h, unsigned i, uint64_t *lo, uint64_t *hi);
void vtd_h_frcd_clear(struct vtd_h *h, unsigned i);
/* Clear every record and PFO/IQE; returns how many records were set. */
unsigned vtd_h_clear_faults(struct vtd_h *h);

/* ---- Page request queue ---- */
/* Number of descriptors between PQH and PQT. */
unsigned vtd_h_prq_pending(struct vtd_h *h);
/* Pop the descriptor at PQH (4 words); false if empty. */
bool vtd_h_prq_pop(struct vtd_h *h, uint64_t *d);

#endif
