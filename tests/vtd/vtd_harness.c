// SPDX-License-Identifier: MIT
/* The VT-d test harness (see vtd_harness.h). */
#include <errno.h>
#include <string.h>

#include "vtd_harness.h"

/* ---- callbacks ---- */

static void h_irq(void *ctx, enum ionest_hw_irq line)
{
	struct vtd_h *h = ctx;

	if ((unsigned)line < 4)
		h->irqs[line]++;
}

static void h_atc(void *ctx, uint32_t sid, uint32_t ssid, bool ssv,
		  uint64_t addr, uint64_t size)
{
	struct vtd_h *h = ctx;

	if (h->natc < 32)
		h->atc[h->natc++] =
			(struct vtd_h_cb){ sid, ssid, ssv, addr, size };
}

static void h_resp(void *ctx, uint32_t sid, uint32_t ssid, bool ssv,
		   uint32_t prgi, uint32_t code)
{
	struct vtd_h *h = ctx;

	if (h->nresp < 32)
		h->resp[h->nresp++] =
			(struct vtd_h_cb){ sid, ssid, ssv, prgi, code };
}

/* A bus that reaches the arena only. */
static void *h_bus_map(void *ctx, uint64_t pa, uint64_t len, bool write)
{
	struct vtd_h *h = ctx;
	uint64_t base = vtd_h_pa(h->mem.base);

	if (pa < base || len > h->mem.size || pa - base > h->mem.size - len)
		return NULL;
	if (write && pa < h->ro_start + h->ro_len && pa + len > h->ro_start)
		return NULL;
	return (void *)(uintptr_t)pa;
}

static const struct ionest_bus_ops h_bus = { .map = h_bus_map };

/* ---- init ---- */

void vtd_h_init(struct vtd_h *h, const struct vtd_h_opts *o)
{
	static const struct vtd_h_opts none;

	if (!o)
		o = &none;
	memset(h, 0, sizeof(*h));
	test_arena_init(&h->mem, o->mem_size ? o->mem_size : 64u << 20);
	h->hw = ionest_vtd_new(o->cfg);
	assert_non_null(h->hw);
	ionest_hw_set_irq_handler(h->hw, h_irq, h);
	ionest_hw_set_atc_inv_handler(h->hw, h_atc, h);
	ionest_hw_set_page_resp_handler(h->hw, h_resp, h);
	if (o->bounded)
		ionest_hw_set_bus(h->hw, &h_bus, h);
	h->root = vtd_h_alloc(h, 4096, 4096);
	h->iq_bytes = 4096u << o->iq_qs;
	h->iq_dsz = o->iq_narrow ? 16 : 32;
	h->iq = vtd_h_alloc(h, h->iq_bytes, 4096);
	h->status = vtd_h_alloc(h, 64, 64);
	if (!o->no_prq) {
		h->prq_bytes = 4096u << o->prq_qs;
		h->prq = vtd_h_alloc(h, h->prq_bytes, 4096);
	}
	if (!o->no_enable)
		vtd_h_enable(h);
}

void vtd_h_fini(struct vtd_h *h)
{
	ionest_hw_free(h->hw);
	test_arena_fini(&h->mem);
}

/* ---- registers ---- */

uint32_t vtd_h_rd32(struct vtd_h *h, uint64_t off)
{
	uint64_t v = 0;

	assert_int_equal(ionest_hw_mmio_read(h->hw, off, 4, &v), 0);
	return (uint32_t)v;
}

uint64_t vtd_h_rd64(struct vtd_h *h, uint64_t off)
{
	uint64_t v = 0;

	assert_int_equal(ionest_hw_mmio_read(h->hw, off, 8, &v), 0);
	return v;
}

void vtd_h_wr32(struct vtd_h *h, uint64_t off, uint32_t v)
{
	assert_int_equal(ionest_hw_mmio_write(h->hw, off, 4, v), 0);
}

void vtd_h_wr64(struct vtd_h *h, uint64_t off, uint64_t v)
{
	assert_int_equal(ionest_hw_mmio_write(h->hw, off, 8, v), 0);
}

void vtd_h_gcmd(struct vtd_h *h, uint32_t cmd, bool set)
{
	uint32_t sts = vtd_h_rd32(h, VTD_REG_GSTS);
	uint32_t keep = sts & (VTD_GSTS_TES | VTD_GSTS_QIES);

	vtd_h_wr32(h, VTD_REG_GCMD, set ? keep | cmd : keep & ~cmd);
	sts = vtd_h_rd32(h, VTD_REG_GSTS);
	if (cmd == VTD_GCMD_SRTP)
		assert_true(sts & VTD_GSTS_RTPS);
	else if (cmd == VTD_GCMD_WBF)
		assert_false(sts & VTD_GSTS_WBFS);
	else
		assert_int_equal(sts & cmd, set ? cmd : 0);
}

void vtd_h_enable(struct vtd_h *h)
{
	uint64_t ecap = vtd_h_rd64(h, VTD_REG_ECAP);
	unsigned qs = (unsigned)__builtin_ctz(h->iq_bytes >> 12);

	vtd_h_wr64(h, VTD_REG_RTADDR,
		   vtd_h_pa(h->root) | (uint64_t)VTD_TTM_SCALABLE
					       << VTD_RTADDR_TTM_SHIFT);
	vtd_h_gcmd(h, VTD_GCMD_SRTP, true);
	if (ecap & VTD_ECAP_QI) {
		vtd_h_wr64(h, VTD_REG_IQT, 0);
		vtd_h_wr64(h, VTD_REG_IQA,
			   vtd_h_pa(h->iq) |
				   (h->iq_dsz == 32 ? VTD_IQA_DW : 0) | qs);
		vtd_h_gcmd(h, VTD_GCMD_QIE, true);
		h->iq_tail = 0;
	}
	if ((ecap & VTD_ECAP_PRS) && h->prq) {
		vtd_h_wr64(h, VTD_REG_PQH, 0);
		vtd_h_wr64(h, VTD_REG_PQA,
			   vtd_h_pa(h->prq) |
				   (unsigned)__builtin_ctz(h->prq_bytes >> 12));
	}
	vtd_h_gcmd(h, VTD_GCMD_TE, true);
}

/* ---- memory ---- */

void *vtd_h_alloc(struct vtd_h *h, size_t size, size_t align)
{
	return test_arena_alloc(&h->mem, size, align);
}

static void *mem_table(void *ctx, uint64_t pa, size_t size, bool write)
{
	struct vtd_h *h = ctx;

	return h_bus_map(h, pa, size, write);
}

static int mem_alloc(void *ctx, size_t size, uint64_t *pa)
{
	*pa = vtd_h_pa(vtd_h_alloc(ctx, size, size));
	return 0;
}

static void mem_free(void *ctx, uint64_t pa, size_t size)
{
	/* The arena is released as a whole. */
}

static const struct pt_mem_ops h_mem_ops = {
	.table = mem_table,
	.alloc = mem_alloc,
	.free = mem_free,
};

struct pt_mem vtd_h_mem(struct vtd_h *h)
{
	return (struct pt_mem){ .ops = &h_mem_ops, .ctx = h };
}

/* ---- tables ---- */

uint64_t *vtd_h_ctx(struct vtd_h *h, uint16_t sid)
{
	unsigned bus = sid >> 8, devfn = sid & 0xff;
	uint64_t *re = &h->root[2 * bus + (devfn >= 128)];
	uint64_t *ct;

	if (!(*re & VTD_RE_LP)) {
		ct = vtd_h_alloc(h, 4096, 4096);
		*re = vtd_h_pa(ct) | VTD_RE_LP;
	}
	ct = (uint64_t *)(uintptr_t)(*re & VTD_RE_CTP_MASK);
	return &ct[4 * (devfn & 0x7f)];
}

void vtd_h_set_ctx(struct vtd_h *h, uint16_t sid, uint64_t flags, unsigned pdts,
		   uint32_t rid_pasid)
{
	uint64_t *ce = vtd_h_ctx(h, sid);
	uint64_t pdir = ce[0] & VTD_CE_PDIR_MASK;

	if (!pdir || VTD_CE_PDTS(ce[0]) < pdts)
		pdir = vtd_h_pa(vtd_h_alloc(h, 8u << (pdts + 7), 4096));
	ce[0] = 0;
	ce[1] = rid_pasid;
	ce[2] = ce[3] = 0;
	ce[0] = pdir | (uint64_t)pdts << VTD_CE_PDTS_SHIFT | flags | VTD_CE_P;
}

uint64_t *vtd_h_pe(struct vtd_h *h, uint16_t sid, uint32_t pasid)
{
	uint64_t *ce = vtd_h_ctx(h, sid);
	uint64_t *pdir = (uint64_t *)(uintptr_t)(ce[0] & VTD_CE_PDIR_MASK);
	uint64_t *de, *pt;

	assert_non_null(pdir);
	de = &pdir[pasid >> 6];
	if (!(*de & VTD_PDE_P)) {
		pt = vtd_h_alloc(h, 4096, 4096);
		*de = vtd_h_pa(pt) | VTD_PDE_P;
	}
	pt = (uint64_t *)(uintptr_t)(*de & VTD_PDE_PTP_MASK);
	return &pt[8 * (pasid & 63)];
}

void vtd_h_write_pe(uint64_t *pe, const struct vtd_h_pe *p)
{
	unsigned aw = p->aw ? p->aw : 2;

	pe[0] = 0;
	pe[1] = p->did | p->q1;
	pe[2] = p->fsptptr | (p->fs5 ? 1ull << VTD_PE_FSPM_SHIFT : 0) | p->q2;
	for (unsigned i = 3; i < 8; i++)
		pe[i] = 0;
	pe[0] = p->ssptptr | (uint64_t)aw << VTD_PE_AW_SHIFT |
		(uint64_t)p->pgtt << VTD_PE_PGTT_SHIFT | p->q0 | VTD_PE_P;
}

uint64_t *vtd_h_attach(struct vtd_h *h, uint16_t sid, uint32_t pasid,
		       const struct vtd_h_pe *p)
{
	uint64_t ecap = vtd_h_rd64(h, VTD_REG_ECAP);
	uint64_t *ce = vtd_h_ctx(h, sid), *pe;

	if (!(ce[0] & VTD_CE_P))
		vtd_h_set_ctx(h, sid,
			      ((ecap & VTD_ECAP_PASID) ? VTD_CE_PASIDE : 0) |
				      ((ecap & VTD_ECAP_DT) ? VTD_CE_DTE : 0) |
				      ((ecap & VTD_ECAP_PRS) ? VTD_CE_PRE : 0),
			      7, 0);
	pe = vtd_h_pe(h, sid, pasid);
	vtd_h_write_pe(pe, p);
	return pe;
}

/* ---- page tables ---- */

void vtd_h_pt(struct vtd_h *h, struct pt *pt, enum pt_format fmt, unsigned ias,
	      uint64_t pgsizes, uint32_t flags)
{
	struct pt_cfg c = {
		.fmt = fmt,
		.granule_shift = 12,
		.ias = (uint8_t)ias,
		.oas = 48,
		.start_level = -1,
		.pgsize_bitmap = pgsizes,
		.flags = flags,
	};

	assert_int_equal(pt_init(pt, &c, vtd_h_mem(h)), 0);
}

static void *guest_table(void *ctx, uint64_t gpa, size_t size, bool write)
{
	struct vtd_h_guest *g = ctx;

	if (gpa > g->size || size > g->size - gpa)
		return NULL;
	return g->host + gpa;
}

static int guest_alloc(void *ctx, size_t size, uint64_t *gpa)
{
	struct vtd_h_guest *g = ctx;
	uint64_t at = (g->used + size - 1) & ~(uint64_t)(size - 1);

	assert_true(at + size <= g->size);
	memset(g->host + at, 0, size);
	g->used = at + size;
	*gpa = at;
	return 0;
}

static const struct pt_mem_ops guest_mem_ops = {
	.table = guest_table,
	.alloc = guest_alloc,
	.free = mem_free,
};

void vtd_h_guest_init(struct vtd_h *h, struct vtd_h_guest *g, uint64_t size)
{
	g->h = h;
	g->size = size;
	g->host = vtd_h_alloc(h, size, 2u << 20);
	/* GPA 0 stays unused so that no table sits at address 0. */
	g->used = 4096;
}

void *vtd_h_gva(struct vtd_h_guest *g, uint64_t gpa)
{
	assert_true(gpa < g->size);
	return g->host + gpa;
}

void vtd_h_guest_pt(struct vtd_h_guest *g, struct pt *pt, enum pt_format fmt,
		    unsigned ias, uint64_t pgsizes)
{
	struct pt_cfg c = {
		.fmt = fmt,
		.granule_shift = 12,
		.ias = (uint8_t)ias,
		.oas = 48,
		.start_level = -1,
		.pgsize_bitmap = pgsizes,
	};

	assert_int_equal(
		pt_init(pt, &c,
			(struct pt_mem){ .ops = &guest_mem_ops, .ctx = g }),
		0);
}

void vtd_h_guest_map(struct vtd_h_guest *g, struct pt *s2, uint64_t leaf,
		     uint32_t prot)
{
	assert_int_equal(pt_map(s2, 0, vtd_h_pa(g->host), g->size, prot, leaf),
			 0);
}

uint64_t *vtd_h_pte(const struct pt *pt, uint64_t iova, unsigned level)
{
	struct pt_walk_level rec[PT_MAX_LEVELS];
	struct pt_walk w = { .rec = rec };

	pt_walk(pt, iova, 0, &w);
	for (unsigned i = 0; i < w.nrec; i++)
		if (rec[i].level == level)
			return pt->mem.ops->table(
				pt->mem.ctx, rec[i].table + 8ull * rec[i].index,
				8, true);
	return NULL;
}

/* ---- invalidation queue ---- */

void vtd_h_queue(struct vtd_h *h, uint64_t q0, uint64_t q1, uint64_t q2,
		 uint64_t q3)
{
	uint64_t *d = (uint64_t *)(h->iq + h->iq_tail);

	d[0] = q0;
	d[1] = q1;
	if (h->iq_dsz == 32) {
		d[2] = q2;
		d[3] = q3;
	}
	h->iq_tail = (h->iq_tail + h->iq_dsz) % h->iq_bytes;
}

void vtd_h_kick(struct vtd_h *h)
{
	vtd_h_wr64(h, VTD_REG_IQT, h->iq_tail);
}

int vtd_h_sync(struct vtd_h *h)
{
	uint32_t seq = ++h->status_seq;

	vtd_h_queue(h, VTD_INV_WAIT | VTD_WAIT_SW | (uint64_t)seq << 32,
		    vtd_h_pa((const void *)h->status), 0, 0);
	vtd_h_kick(h);
	if (vtd_h_rd32(h, VTD_REG_FSTS) & VTD_FSTS_IQE)
		return -EIO;
	return *h->status == seq ? 0 : -ETIMEDOUT;
}

int vtd_h_inv(struct vtd_h *h, uint64_t q0, uint64_t q1)
{
	vtd_h_queue(h, q0, q1, 0, 0);
	return vtd_h_sync(h);
}

uint64_t vtd_h_d_cc(unsigned g, uint16_t did, uint16_t sid, unsigned fm)
{
	return VTD_INV_CC | (uint64_t)g << 4 | (uint64_t)did << 16 |
	       (uint64_t)sid << 32 | (uint64_t)fm << 48;
}

uint64_t vtd_h_d_iotlb(unsigned g, uint16_t did)
{
	return VTD_INV_IOTLB | (uint64_t)g << 4 | (uint64_t)did << 16;
}

uint64_t vtd_h_d_piotlb(unsigned g, uint16_t did, uint32_t pasid)
{
	return VTD_INV_PIOTLB | (uint64_t)g << 4 | (uint64_t)did << 16 |
	       (uint64_t)pasid << 32;
}

uint64_t vtd_h_d_pc(unsigned g, uint16_t did, uint32_t pasid)
{
	return VTD_INV_PC | (uint64_t)g << 4 | (uint64_t)did << 16 |
	       (uint64_t)pasid << 32;
}

int vtd_h_flush_pe(struct vtd_h *h, uint16_t did, uint32_t pasid)
{
	vtd_h_queue(h, vtd_h_d_pc(VTD_PC_G_PASID, did, pasid), 0, 0, 0);
	vtd_h_queue(h, vtd_h_d_piotlb(VTD_PIOTLB_G_PASID, did, pasid), 0, 0, 0);
	return vtd_h_sync(h);
}

/* ---- requests ---- */

struct ionest_xlate_res vtd_h_xlate(struct vtd_h *h, uint16_t sid, bool pv,
				    uint32_t pasid, uint64_t iova,
				    uint32_t access)
{
	struct ionest_xlate_req req = {
		.sid = sid,
		.ssid = pasid,
		.ssid_valid = pv,
		.access = access,
		.iova = iova,
	};
	struct ionest_xlate_res res;

	assert_int_equal(ionest_hw_translate(h->hw, &req, &res), 0);
	return res;
}

struct ionest_xlate_res vtd_h_expect(struct vtd_h *h, uint16_t sid, bool pv,
				     uint32_t pasid, uint64_t iova,
				     uint32_t access, uint64_t pa)
{
	struct ionest_xlate_res r =
		vtd_h_xlate(h, sid, pv, pasid, iova, access);

	if (r.status != IONEST_XLATE_OK)
		fail_msg("iova %#llx: status %u fault %#x, expected OK",
			 (unsigned long long)iova, r.status, r.fault);
	assert_int_equal(r.addr, pa);
	return r;
}

struct ionest_xlate_res vtd_h_expect_fault(struct vtd_h *h, uint16_t sid,
					   bool pv, uint32_t pasid,
					   uint64_t iova, uint32_t access,
					   unsigned reason)
{
	struct ionest_xlate_res r =
		vtd_h_xlate(h, sid, pv, pasid, iova, access);

	if (r.status != IONEST_XLATE_FAULT || r.fault != reason)
		fail_msg("iova %#llx: status %u fault %#x, expected fault %#x",
			 (unsigned long long)iova, r.status, r.fault, reason);
	return r;
}

/* ---- fault records ---- */

unsigned vtd_h_nfr(struct vtd_h *h)
{
	return VTD_CAP_NFR(vtd_h_rd64(h, VTD_REG_CAP)) + 1;
}

static uint64_t frcd_off(struct vtd_h *h, unsigned i)
{
	return 16ull * VTD_CAP_FRO(vtd_h_rd64(h, VTD_REG_CAP)) + 16ull * i;
}

void vtd_h_frcd(struct vtd_h *h, unsigned i, uint64_t *lo, uint64_t *hi)
{
	*lo = vtd_h_rd64(h, frcd_off(h, i));
	*hi = vtd_h_rd64(h, frcd_off(h, i) + 8);
}

void vtd_h_frcd_clear(struct vtd_h *h, unsigned i)
{
	vtd_h_wr32(h, frcd_off(h, i) + 12, 1u << 31);
}

unsigned vtd_h_clear_faults(struct vtd_h *h)
{
	unsigned n = 0, nfr = vtd_h_nfr(h);
	uint64_t lo, hi;

	for (unsigned i = 0; i < nfr; i++) {
		vtd_h_frcd(h, i, &lo, &hi);
		if (hi & VTD_FRCD_HI_F) {
			vtd_h_frcd_clear(h, i);
			n++;
		}
	}
	vtd_h_wr32(h, VTD_REG_FSTS,
		   VTD_FSTS_PFO | VTD_FSTS_IQE | VTD_FSTS_ICE | VTD_FSTS_ITE);
	return n;
}

/* ---- page request queue ---- */

unsigned vtd_h_prq_pending(struct vtd_h *h)
{
	uint64_t head = vtd_h_rd64(h, VTD_REG_PQH);
	uint64_t tail = vtd_h_rd64(h, VTD_REG_PQT);

	return (unsigned)(((tail + h->prq_bytes - head) % h->prq_bytes) / 32);
}

bool vtd_h_prq_pop(struct vtd_h *h, uint64_t *d)
{
	uint64_t head = vtd_h_rd64(h, VTD_REG_PQH);
	uint64_t tail = vtd_h_rd64(h, VTD_REG_PQT);

	if (head == tail)
		return false;
	memcpy(d, h->prq + head, 32);
	vtd_h_wr64(h, VTD_REG_PQH, (head + 32) % h->prq_bytes);
	return true;
}
