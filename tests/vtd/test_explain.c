// SPDX-License-Identifier: MIT
/*
 * VT-d explain (lib/hw/explain.h): the steps of first-stage, second-stage,
 * nested and pass-through translations, fault reasons with their stage and
 * level, caches probed without being filled or counted, A/D updates kept
 * out of memory, stale caches believed as the hardware believes them, and
 * random requests through explain and translate on the same state giving
 * the same answer.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hw/explain.h"
#include "hw/vtd/vtd.h"
#include "vtd_harness.h"

#define R IONEST_ACCESS_READ
#define W IONEST_ACCESS_WRITE
#define X IONEST_ACCESS_EXEC
#define P IONEST_ACCESS_PRIV
#define RW (PT_PROT_READ | PT_PROT_WRITE)
#define SZ_4K 0x1000ull
#define SZ_2M (1ull << 21)
#define GUEST (16ull << 20)
#define SID_NEST 0x0310
#define SID_FS 0x0320
#define SID_SS 0x0330
#define SID_PT 0x0340
#define SID_NONE 0x0350
#define SID_SSAD 0x0360
#define GPA_RO (GUEST - SZ_2M) /* the window's last 2M: read-only */

struct env {
	struct vtd_h h;
	struct vtd_h_guest g;
	struct pt ss, fs, hfs;
	uint64_t *pe;
	uint8_t *hdata; /* 2 MiB of host data */
	uint64_t data_gpa; /* 4 MiB of guest data */
};

/* PASID-entry bits of SID_FS's PASIDs. */
static uint64_t fs_q2(uint32_t pasid)
{
	if (pasid == 5)
		return VTD_PE_SRE | VTD_PE_ERE;
	if (pasid == 7)
		return VTD_PE_SRE | VTD_PE_ERE | VTD_PE_WPE | VTD_PE_EAFE;
	return 0;
}

/*
 * SID_NEST: nested, PASID 0 (RID_PASID), second stage mapping the guest
 * window in 4K leaves (the last 2M read-only), SRE and ERE; SID_FS: first
 * stage in host memory, PASIDs 0 to 7 (5: SRE, ERE; 7: SRE, ERE, WPE,
 * EAFE); SID_SS: second stage only (the same tables), SID_SSAD the same
 * with SSADE, SSEE, SRE and ERE; SID_PT: pass-through; SID_NONE: no
 * context entry.
 */
static void env_init(struct env *e)
{
	static const struct ionest_vtd_config cfg = { .ers = IONEST_CFG(1) };
	struct vtd_h_opts o = { .cfg = &cfg };

	vtd_h_init(&e->h, &o);
	vtd_h_guest_init(&e->h, &e->g, GUEST);
	vtd_h_pt(&e->h, &e->ss, PT_FMT_VTD_SS, 48, 0, 0);
	assert_int_equal(pt_map(&e->ss, 0, vtd_h_pa(e->g.host), GUEST - SZ_2M,
				RW, SZ_4K),
			 0);
	assert_int_equal(pt_map(&e->ss, GPA_RO, vtd_h_pa(e->g.host) + GPA_RO,
				SZ_2M, PT_PROT_READ, SZ_4K),
			 0);
	vtd_h_guest_pt(&e->g, &e->fs, PT_FMT_X86_64, 48, 0);
	e->data_gpa = 8u << 20;
	e->pe = vtd_h_attach(&e->h, SID_NEST, 0,
			     &(struct vtd_h_pe){ .pgtt = VTD_PGTT_NESTED,
						 .did = 5,
						 .fsptptr = e->fs.root,
						 .ssptptr = e->ss.root,
						 .aw = 2,
						 .q2 = VTD_PE_SRE |
						       VTD_PE_ERE });
	vtd_h_pt(&e->h, &e->hfs, PT_FMT_X86_64, 48, 0, 0);
	e->hdata = vtd_h_alloc(&e->h, SZ_2M, SZ_2M);
	for (uint32_t pasid = 0; pasid <= 7; pasid++)
		vtd_h_attach(&e->h, SID_FS, pasid,
			     &(struct vtd_h_pe){ .pgtt = VTD_PGTT_FS,
						 .did = 6,
						 .fsptptr = e->hfs.root,
						 .q2 = fs_q2(pasid) });
	vtd_h_attach(&e->h, SID_SS, 0,
		     &(struct vtd_h_pe){ .pgtt = VTD_PGTT_SS,
					 .did = 7,
					 .ssptptr = e->ss.root,
					 .aw = 2 });
	vtd_h_attach(&e->h, SID_SSAD, 0,
		     &(struct vtd_h_pe){ .pgtt = VTD_PGTT_SS,
					 .did = 9,
					 .ssptptr = e->ss.root,
					 .aw = 2,
					 .q0 = VTD_PE_SSADE | VTD_PE_SSEE,
					 .q2 = VTD_PE_SRE | VTD_PE_ERE });
	vtd_h_attach(&e->h, SID_PT, 0,
		     &(struct vtd_h_pe){ .pgtt = VTD_PGTT_PT, .did = 8 });
}

static void env_fini(struct env *e)
{
	pt_destroy(&e->hfs);
	pt_destroy(&e->fs);
	pt_destroy(&e->ss);
	vtd_h_fini(&e->h);
}

static struct ionest_xlate_req req(uint32_t sid, int64_t pasid, uint64_t iova,
				   uint32_t access)
{
	return (struct ionest_xlate_req){ .sid = sid,
					  .ssid = pasid < 0 ? 0 :
							      (uint32_t)pasid,
					  .ssid_valid = pasid >= 0,
					  .iova = iova,
					  .access = access };
}

struct snap {
	uint64_t ctr[HW_COUNTER_COUNT];
	void *c[3];
	size_t len[3];
};

static struct hw_tlb *cache(struct vtd *v, int i)
{
	return i == 0 ? &v->iotlb : i == 1 ? &v->s2wc : &v->psc;
}

static void snap_take(struct vtd *v, struct snap *n)
{
	memcpy(n->ctr, v->hw.ctr_val, sizeof(n->ctr));
	for (int i = 0; i < 3; i++) {
		n->len[i] =
			(size_t)cache(v, i)->nsets * sizeof(struct hw_tlb_set);
		n->c[i] = malloc(n->len[i]);
		assert_non_null(n->c[i]);
		memcpy(n->c[i], cache(v, i)->sets, n->len[i]);
	}
}

static void snap_check(struct vtd *v, struct snap *n)
{
	assert_memory_equal(n->ctr, v->hw.ctr_val, sizeof(n->ctr));
	for (int i = 0; i < 3; i++) {
		assert_memory_equal(n->c[i], cache(v, i)->sets, n->len[i]);
		free(n->c[i]);
	}
}

static void explain(struct env *e, const struct ionest_xlate_req *r,
		    struct hw_explain *x)
{
	struct snap n;

	snap_take(to_vtd(e->h.hw), &n);
	assert_int_equal(hw_explain(e->h.hw, r, x), 0);
	snap_check(to_vtd(e->h.hw), &n);
	assert_true(x->nsteps > 0);
	assert_true(x->summary[0] != '\0');
	assert_string_equal(x->model, "vtd");
}

/* The step named @name (the @nth one), or NULL. */
static const struct hw_xstep *find_step(const struct hw_explain *x,
					const char *name, unsigned nth)
{
	for (unsigned i = 0; i < x->nsteps; i++)
		if (!strcmp(x->steps[i].name, name) && !nth--)
			return &x->steps[i];
	return NULL;
}

/* The same, which must exist. */
static const struct hw_xstep *step(const struct hw_explain *x, const char *name,
				   unsigned nth)
{
	const struct hw_xstep *s = find_step(x, name, nth);

	if (!s)
		fail_msg("no step '%s' #%u", name, nth);
	return s ? s : &x->steps[0];
}

/* The steps, when something went wrong. */
static void dump(const struct hw_explain *x)
{
	for (unsigned i = 0; i < x->nsteps; i++) {
		const struct hw_xstep *s = &x->steps[i];
		print_message(
			"# %*s%-20s %s%s hit=%d addr=%llx host=%llx w0=%llx %s\n",
			s->depth * 4, "", s->name, hw_xs_kind_name(s->kind),
			s->skipped ? " (skipped)" : "", s->hit,
			(unsigned long long)s->addr,
			(unsigned long long)s->host,
			(unsigned long long)s->w[0], s->text);
	}
	print_message("# => %s\n", x->summary);
}

/* Outcomes seen by agree(): by status, and EINVAL in [7]. */
static unsigned seen[8];

static void agree(struct env *e, const struct ionest_xlate_req *r)
{
	struct ionest_xlate_res t = { 0 };
	struct hw_explain x;
	int ret;

	explain(e, r, &x);
	ret = ionest_hw_translate(e->h.hw, r, &t);
	if (ret != x.ret || (!ret && t.status != x.res.status) ||
	    (!ret && t.status == IONEST_XLATE_FAULT &&
	     (t.fault != x.res.fault || t.stage2 != x.res.stage2 ||
	      t.fault_addr != x.res.fault_addr)) ||
	    (!ret && t.status != IONEST_XLATE_FAULT &&
	     (t.addr != x.res.addr || t.size != x.res.size ||
	      t.perm != x.res.perm))) {
		dump(&x);
		fail_msg("sid 0x%x pasid %d/%u iova 0x%" PRIx64
			 " access %u: translate %d/%u addr 0x%" PRIx64
			 " perm %u fault 0x%x s2 %d, explain %d/%u addr "
			 "0x%" PRIx64 " perm %u fault 0x%x s2 %d (%s)",
			 r->sid, r->ssid_valid, r->ssid, r->iova, r->access,
			 ret, t.status, t.addr, t.perm, t.fault, t.stage2,
			 x.ret, x.res.status, x.res.addr, x.res.perm,
			 x.res.fault, x.res.stage2, x.summary);
	}
	seen[ret ? 7 : t.status & 7]++;
	hw_explain_fini(&x);
	vtd_h_clear_faults(&e->h);
}

static void test_nested_steps(void **state)
{
	struct env e;
	struct hw_explain x;
	struct ionest_xlate_req r = req(SID_NEST, -1, 0x1234, R);
	const struct hw_xstep *st;
	unsigned fs = 0;
	bool sub = false;

	env_init(&e);
	assert_int_equal(pt_map(&e.fs, 0x1000, e.data_gpa, SZ_4K, RW, 0), 0);
	explain(&e, &r, &x);
	assert_int_equal(x.res.status, IONEST_XLATE_OK);
	assert_int_equal(x.res.addr, vtd_h_pa(e.g.host) + e.data_gpa + 0x234);
	assert_int_equal(x.res.size, SZ_4K);
	assert_int_equal(x.res.perm, R); /* clean: W only after D is set */
	assert_int_equal(step(&x, "IOTLB", 0)->hit, 0);
	assert_int_equal(step(&x, "PDE cache", 0)->hit, 0);
	assert_int_equal(step(&x, "context/PASID cache", 0)->hit, 0);
	st = step(&x, "root entry", 0);
	assert_non_null(st);
	assert_int_equal(st->nwords, 2);
	st = step(&x, "context entry", 0);
	assert_non_null(st);
	assert_non_null(strstr(st->text, "RID_PASID=0"));
	assert_non_null(step(&x, "PASID dir entry", 0));
	st = step(&x, "PASID entry", 0);
	assert_int_equal(st->nwords, 8);
	assert_non_null(strstr(st->text, "PGTT=nested DID=5"));
	for (unsigned i = 0; i < x.nsteps; i++) {
		if (x.steps[i].kind == HW_XS_S1) {
			fs++;
			assert_true(sub);
			assert_true(x.steps[i].has_host);
			sub = false;
		} else if (x.steps[i].depth == 1) {
			sub = true;
		}
	}
	assert_int_equal(fs, 4);
	st = step(&x, "FS L4", 0);
	assert_non_null(st);
	assert_int_equal(st->level, 4);
	st = step(&x, "FS L1", 0);
	assert_non_null(strstr(st->text, "4K page"));
	/* A is set by the walk: an update step, not a write. */
	st = step(&x, "update", 0);
	assert_non_null(st);
	assert_non_null(strstr(st->text, "sets A"));
	assert_int_equal(*(uint64_t *)(uintptr_t)st->host, st->w[0]);
	hw_explain_fini(&x);
	agree(&e, &r);
	assert_int_equal(to_vtd(e.h.hw)->hw.ctr_val[hw_cfg_miss], 1);
	/* Now the IOTLB serves it. */
	explain(&e, &r, &x);
	assert_int_equal(step(&x, "IOTLB", 0)->hit, 1);
	assert_true(step(&x, "FS L1", 0)->skipped);
	assert_false(x.stale);
	hw_explain_fini(&x);
	env_fini(&e);
}

static void test_faults(void **state)
{
	struct env e;
	struct hw_explain x;
	struct ionest_xlate_req r;

	env_init(&e);
	assert_int_equal(
		pt_map(&e.fs, 0x1000, e.data_gpa, SZ_4K, PT_PROT_READ, 0), 0);
	assert_int_equal(pt_map(&e.fs, 0x2000, 0x7000000000ull, SZ_4K, RW, 0),
			 0);
	assert_int_equal(pt_map(&e.fs, 0x3000, GPA_RO, SZ_4K, RW, 0), 0);

	r = req(SID_NEST, -1, 0x900000, R);
	explain(&e, &r, &x);
	assert_int_equal(x.res.fault, VTD_FR_FS_NP);
	assert_string_equal(x.fault_name, "FS_NOT_PRESENT");
	assert_true(x.fault_level >= 1 && x.fault_level <= 4);
	assert_true(x.would_record);
	assert_non_null(strstr(x.summary, "first stage"));
	hw_explain_fini(&x);
	agree(&e, &r);

	r = req(SID_NEST, -1, 0x1000, W);
	explain(&e, &r, &x);
	assert_int_equal(x.res.fault, VTD_FR_WRITE);
	assert_int_equal(x.fault_level, 1);
	hw_explain_fini(&x);
	agree(&e, &r);

	/* An output GPA the second stage does not map. */
	r = req(SID_NEST, -1, 0x2010, R);
	explain(&e, &r, &x);
	assert_int_equal(x.res.fault, VTD_FR_SS_PERM);
	assert_true(x.res.stage2);
	assert_int_equal(x.res.fault_addr, 0x7000000010ull);
	hw_explain_fini(&x);
	agree(&e, &r);

	/* A write to a page whose GPA stage 2 maps read-only. */
	r = req(SID_NEST, -1, 0x3000, W);
	explain(&e, &r, &x);
	assert_int_equal(x.res.fault, VTD_FR_SS_PERM);
	assert_true(x.res.stage2);
	assert_int_equal(x.res.fault_addr, GPA_RO);
	assert_non_null(strstr(x.summary, "second stage"));
	hw_explain_fini(&x);
	agree(&e, &r);

	r = req(SID_NONE, -1, 0x1000, R);
	explain(&e, &r, &x);
	assert_string_equal(x.fault_name, "CTX_NOT_PRESENT");
	assert_int_equal(x.fault_level, -1);
	assert_non_null(step(&x, "root entry", 0));
	hw_explain_fini(&x);
	agree(&e, &r);

	r = req(SID_FS, 0, 0x1000, R | P);
	explain(&e, &r, &x);
	assert_int_equal(x.res.fault, VTD_FR_PE_SRE);
	hw_explain_fini(&x);
	agree(&e, &r);

	r = req(SID_PT, -1, 0x123456, W);
	explain(&e, &r, &x);
	assert_int_equal(x.res.status, IONEST_XLATE_BYPASS);
	assert_int_equal(x.res.addr, 0x123456);
	hw_explain_fini(&x);
	agree(&e, &r);

	r = req(SID_FS, -1, 0x1000, X);
	explain(&e, &r, &x);
	assert_int_equal(x.ret, -EINVAL);
	hw_explain_fini(&x);
	agree(&e, &r);
	env_fini(&e);
}

/* A write sets D (and the walk A): explain reports both, memory keeps
 * neither until the real access. */
static void test_ad_updates(void **state)
{
	struct env e;
	struct hw_explain x;
	struct ionest_xlate_req r = req(SID_FS, -1, 0x5000, W);
	uint64_t *leaf;
	unsigned n = 0;

	env_init(&e);
	assert_int_equal(
		pt_map(&e.hfs, 0x5000, vtd_h_pa(e.hdata), SZ_4K, RW, 0), 0);
	leaf = vtd_h_pte(&e.hfs, 0x5000, 0);
	assert_false(*leaf & VTD_FS_D);
	explain(&e, &r, &x);
	assert_int_equal(x.res.status, IONEST_XLATE_OK);
	assert_int_equal(x.res.perm, R | W);
	for (unsigned i = 0; i < x.nsteps; i++) {
		if (x.steps[i].kind != HW_XS_UPDATE)
			continue;
		if (x.steps[i].host == vtd_h_pa(leaf) &&
		    strstr(x.steps[i].text, "sets D"))
			n++;
	}
	assert_int_equal(n, 1);
	assert_false(*leaf & VTD_FS_D);
	hw_explain_fini(&x);
	agree(&e, &r);
	assert_true(*leaf & VTD_FS_D);
	env_fini(&e);
}

/* WPE makes read-only pages read-only for supervisor writes too; EAFE
 * sets EA on every level; SSADE keeps a clean second-stage page without W
 * in the result. */
static void test_entry_controls(void **state)
{
	struct env e;
	struct hw_explain x;
	struct ionest_xlate_req r = req(SID_FS, 5, 0x6000, W | P);
	unsigned ea = 0;

	env_init(&e);
	assert_int_equal(pt_map(&e.hfs, 0x6000, vtd_h_pa(e.hdata), SZ_4K,
				PT_PROT_READ | PT_PROT_PRIV, 0),
			 0);
	explain(&e, &r, &x);
	assert_int_equal(x.res.status, IONEST_XLATE_OK);
	assert_int_equal(x.res.perm, R | W | P);
	hw_explain_fini(&x);
	agree(&e, &r);
	r = req(SID_FS, 7, 0x6000, W | P);
	explain(&e, &r, &x);
	assert_int_equal(x.res.fault, VTD_FR_WRITE);
	hw_explain_fini(&x);
	agree(&e, &r);
	r = req(SID_FS, 7, 0x6000, R | P);
	explain(&e, &r, &x);
	assert_int_equal(x.res.status, IONEST_XLATE_OK);
	for (unsigned i = 0; i < x.nsteps; i++)
		ea += x.steps[i].kind == HW_XS_UPDATE &&
		      strstr(x.steps[i].text, "sets EA");
	assert_int_equal(ea, 4);
	hw_explain_fini(&x);
	agree(&e, &r);

	/* Clean (no W), SSEE without X on the leaf (no X), SRE: the
	 * result serves supervisor requests too. */
	r = req(SID_SSAD, -1, 0x100000, R);
	explain(&e, &r, &x);
	assert_int_equal(x.res.perm, R | P);
	assert_non_null(step(&x, "update", 0));
	hw_explain_fini(&x);
	agree(&e, &r);
	/* No SSADE: no update, W at once; no ERE: no X. */
	r = req(SID_SS, -1, 0x100000, R);
	explain(&e, &r, &x);
	assert_int_equal(x.res.perm, R | W);
	assert_null(find_step(&x, "update", 0));
	hw_explain_fini(&x);
	agree(&e, &r);
	env_fini(&e);
}

/* Without PASID the interrupt range is not DMA: a write is an interrupt
 * request, a read fails unrecorded; with a PASID it is translated. */
static void test_interrupt_range(void **state)
{
	struct env e;
	struct hw_explain x;
	struct ionest_xlate_req r = req(SID_FS, -1, 0xfee00040, W);

	env_init(&e);
	assert_int_equal(
		pt_map(&e.hfs, 0xfee00000, vtd_h_pa(e.hdata), SZ_4K, RW, 0), 0);
	explain(&e, &r, &x);
	assert_int_equal(x.res.status, IONEST_XLATE_INTERRUPT);
	assert_int_equal(x.res.addr, 0xfee00040);
	hw_explain_fini(&x);
	agree(&e, &r);
	r = req(SID_FS, -1, 0xfee00040, R);
	explain(&e, &r, &x);
	assert_int_equal(x.res.status, IONEST_XLATE_FAULT);
	assert_false(x.would_record);
	hw_explain_fini(&x);
	agree(&e, &r);
	r = req(SID_FS, 0, 0xfee00040, W);
	explain(&e, &r, &x);
	assert_int_equal(x.res.status, IONEST_XLATE_OK);
	assert_int_equal(x.res.addr, vtd_h_pa(e.hdata) + 0x40);
	hw_explain_fini(&x);
	agree(&e, &r);
	env_fini(&e);
}

static void test_stale_caches(void **state)
{
	struct env e;
	struct hw_explain x;
	struct ionest_xlate_req r = req(SID_FS, -1, 0x5010, R);
	uint64_t d, n = 0;

	env_init(&e);
	d = vtd_h_pa(e.hdata);
	assert_int_equal(pt_map(&e.hfs, 0x5000, d, SZ_4K, RW, 0), 0);
	agree(&e, &r);
	assert_int_equal(pt_unmap(&e.hfs, 0x5000, SZ_4K, 0, NULL, &n), 0);
	explain(&e, &r, &x);
	assert_int_equal(x.res.status, IONEST_XLATE_OK);
	assert_int_equal(x.res.addr, d + 0x10);
	assert_true(x.stale);
	hw_explain_fini(&x);
	agree(&e, &r);
	/* After the invalidation: a fault. */
	assert_int_equal(vtd_h_inv(&e.h, vtd_h_d_piotlb(2, 6, 0), 0), 0);
	explain(&e, &r, &x);
	assert_false(x.stale);
	assert_int_equal(x.res.fault, VTD_FR_FS_NP);
	hw_explain_fini(&x);
	agree(&e, &r);
	env_fini(&e);
}

static void test_random_agree(void **state)
{
	static const uint32_t accesses[] = { R,	    W,	   R | W, X, R | X,
					     P | R, P | W, P | X, 0, 16 };
	static const uint32_t sids[11] = { SID_NEST, SID_NEST, SID_NEST,
					   SID_NEST, SID_FS,   SID_FS,
					   SID_FS,   SID_SS,   SID_SSAD,
					   SID_PT,   SID_NONE };
	static const int64_t fs_pasids[4] = { -1, 0, 5, 7 };
	struct test_rng rng;
	struct env e;
	uint64_t seed = 0x5eed0002;

	env_init(&e);
	memset(seen, 0, sizeof(seen));
	test_rng_seed(&rng, seed);
	print_message("# seed 0x%" PRIx64 "\n", seed);
	for (unsigned i = 0; i < 64; i++) {
		uint64_t va = 0x100000 + i * SZ_4K, gpa;
		uint32_t prot = PT_PROT_READ;

		switch (test_rng_below(&rng, 6)) {
		case 0:
			continue;
		case 1:
			gpa = GPA_RO + i * SZ_4K;
			break;
		default:
			gpa = e.data_gpa + i * SZ_4K;
			break;
		}
		if (test_rng_below(&rng, 2))
			prot |= PT_PROT_WRITE;
		if (test_rng_below(&rng, 3) == 0)
			prot |= PT_PROT_EXEC;
		if (test_rng_below(&rng, 4) == 0)
			prot |= PT_PROT_PRIV;
		assert_int_equal(pt_map(&e.fs, va, gpa, SZ_4K, prot, 0), 0);
		if (test_rng_below(&rng, 2))
			assert_int_equal(pt_map(&e.hfs, va,
						vtd_h_pa(e.hdata) + i * SZ_4K,
						SZ_4K, prot, 0),
					 0);
	}
	assert_int_equal(pt_map(&e.fs, 0x40000000, e.data_gpa, SZ_2M,
				RW | PT_PROT_EXEC, 0),
			 0);
	for (unsigned i = 0; i < 5000; i++) {
		uint32_t sid = sids[test_rng_below(&rng, 11)];
		int64_t pasid = -1;
		uint64_t va;
		struct ionest_xlate_req r;

		if (sid == SID_FS)
			pasid = fs_pasids[test_rng_below(&rng, 4)];
		else if (test_rng_below(&rng, 4))
			pasid = 0;
		/* Few pages, so that the caches serve many accesses; the
		 * interrupt range now and then. */
		switch (test_rng_below(&rng, 5)) {
		case 4:
			va = 0xfee00000 + test_rng_below(&rng, 4) * SZ_4K;
			break;
		case 0:
			va = 0x40000000 + test_rng_below(&rng, 16) * SZ_4K;
			break;
		case 1:
			va = test_rng_below(&rng, (GUEST + SZ_2M) / SZ_2M) *
			     SZ_2M;
			break;
		default:
			va = 0x100000 + test_rng_below(&rng, 24) * SZ_4K;
			break;
		}
		va += test_rng_below(&rng, SZ_4K);
		r = req(sid, pasid, va,
			accesses[test_rng_below(
				&rng, sizeof(accesses) / sizeof(accesses[0]))]);
		/* Now and then a translation request, or a device that
		 * uses PRI. */
		r.ats = test_rng_below(&rng, 8) == 0;
		r.pri = test_rng_below(&rng, 8) == 0;
		agree(&e, &r);
		if (test_rng_below(&rng, 500) == 0)
			ionest_hw_flush_caches(e.h.hw);
	}
	print_message("# ok %u fault %u bypass %u page request %u einval %u\n",
		      seen[IONEST_XLATE_OK], seen[IONEST_XLATE_FAULT],
		      seen[IONEST_XLATE_BYPASS],
		      seen[IONEST_XLATE_PAGE_REQUEST], seen[7]);
	assert_true(seen[IONEST_XLATE_OK] > 300);
	assert_true(seen[IONEST_XLATE_FAULT] > 300);
	assert_true(seen[IONEST_XLATE_BYPASS] > 100);
	assert_true(seen[7] > 100);
	assert_true(seen[IONEST_XLATE_PAGE_REQUEST] > 10);
	print_message(
		"# tlb hit %llu miss %llu\n",
		(unsigned long long)to_vtd(e.h.hw)->hw.ctr_val[hw_tlb_hit],
		(unsigned long long)to_vtd(e.h.hw)->hw.ctr_val[hw_tlb_miss]);
	assert_true(to_vtd(e.h.hw)->hw.ctr_val[hw_tlb_hit] > 100);
	env_fini(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nested_steps),
		cmocka_unit_test(test_faults),
		cmocka_unit_test(test_ad_updates),
		cmocka_unit_test(test_entry_controls),
		cmocka_unit_test(test_interrupt_range),
		cmocka_unit_test(test_stale_caches),
		cmocka_unit_test(test_random_agree),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
