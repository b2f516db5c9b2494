// SPDX-License-Identifier: MIT
/*
 * SMMUv3 explain (lib/hw/explain.h): the steps of single-stage and nested
 * translations, faults with their codes, stage and level, caches probed
 * without being filled or counted, descriptor updates kept out of memory,
 * stale caches believed as the hardware believes them, and random accesses
 * through explain and translate on the same state giving the same answer.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ionest/ionest.h>

#include "hw/explain.h"
#include "hw/smmuv3/smmu.h"
#include "smmu_harness.h"

#define R IONEST_ACCESS_READ
#define W IONEST_ACCESS_WRITE
#define X IONEST_ACCESS_EXEC
#define P IONEST_ACCESS_PRIV
#define RW (PT_PROT_READ | PT_PROT_WRITE)
#define GIPA 0x40000000ull
#define GSIZE (16u << 20)
#define VMID 9
#define ASID 4
#define CD0_HA_BIT (1ull << 43)

struct env {
	struct smmu_h h;
	struct smmu_h_guest g;
	struct pt s2, s1, hs1, s2only;
	uint64_t *cd, *hcd, *ste;
	uint64_t data_ipa; /* 4 MiB in the guest window */
	uint8_t *hdata; /* 2 MiB of host data */
};

/*
 * SID 1: nested (CD and stage 1 in guest RAM at IPAs; stage 2 maps the
 * first 12 MiB of the window read-write, the next 2 MiB read-only);
 * SID 2: stage 1 in host memory; SID 3: stage 2 only (the same stage 2);
 * SID 4: bypass; SID 5: abort; SID 6: an invalid STE.
 */
static void env_init(struct env *e)
{
	struct pt_cfg c2 = smmu_h_s2_cfg(12, 48), c1 = smmu_h_s1_cfg(12, 48);
	uint64_t cd_ipa;

	smmu_h_init(&e->h, NULL);
	smmu_h_guest_init(&e->h, &e->g, GIPA, GSIZE);
	assert_int_equal(pt_init(&e->s2, &c2, smmu_h_host_mem(&e->h)), 0);
	assert_int_equal(pt_map(&e->s2, GIPA, smmu_h_pa(e->g.host), 12u << 20,
				RW, 0),
			 0);
	assert_int_equal(pt_map(&e->s2, GIPA + (12u << 20),
				smmu_h_pa(e->g.host) + (12u << 20), 2u << 20,
				PT_PROT_READ, 0),
			 0);
	assert_int_equal(pt_init(&e->s1, &c1, smmu_h_guest_mem(&e->g)), 0);
	cd_ipa = smmu_h_guest_alloc(&e->g, 64, 64);
	e->cd = smmu_h_gva(&e->g, cd_ipa);
	smmu_h_cd(e->cd, &e->s1, NULL, ASID);
	e->cd[0] |= CD0_HA_BIT;
	e->data_ipa = smmu_h_guest_alloc(&e->g, 4u << 20, 2u << 20);
	e->ste = smmu_h_ste(&e->h, 1);
	smmu_h_ste_s1(e->ste, cd_ipa, 0, 0, 0);
	smmu_h_ste_s2(e->ste, VMID, &e->s2);

	assert_int_equal(pt_init(&e->hs1, &c1, smmu_h_host_mem(&e->h)), 0);
	e->hcd = smmu_h_alloc(&e->h, 64, 64);
	smmu_h_cd(e->hcd, &e->hs1, NULL, 7);
	e->hdata = smmu_h_alloc(&e->h, 2u << 20, 2u << 20);
	smmu_h_ste_s1(smmu_h_ste(&e->h, 2), smmu_h_pa(e->hcd), 0, 0, 0);
	smmu_h_ste_s2(smmu_h_ste(&e->h, 3), 11, &e->s2);
	smmu_h_ste_bypass(smmu_h_ste(&e->h, 4));
	smmu_h_ste_abort(smmu_h_ste(&e->h, 5));
	smmu_h_ste(&e->h, 6);
}

static void env_fini(struct env *e)
{
	pt_destroy(&e->hs1);
	pt_destroy(&e->s1);
	pt_destroy(&e->s2);
	smmu_h_fini(&e->h);
}

static struct ionest_xlate_req req(uint32_t sid, uint64_t iova, uint32_t access)
{
	return (struct ionest_xlate_req){ .sid = sid,
					  .iova = iova,
					  .access = access };
}

/* Everything explain must not touch: counters and the caches' contents. */
struct snap {
	uint64_t ctr[HW_COUNTER_COUNT];
	void *tlb, *wc, *s1wc;
	size_t tlb_len, wc_len, s1wc_len;
};

static void *copy(const void *p, size_t len)
{
	void *c = malloc(len);

	assert_non_null(c);
	memcpy(c, p, len);
	return c;
}

static void snap_take(struct smmu *s, struct snap *n)
{
	memcpy(n->ctr, s->hw.ctr_val, sizeof(n->ctr));
	n->tlb_len = (size_t)s->tlb.nsets * sizeof(struct hw_tlb_set);
	n->wc_len = (size_t)s->wc.nsets * sizeof(struct hw_tlb_set);
	n->s1wc_len = (size_t)s->s1wc.nsets * sizeof(struct hw_tlb_set);
	n->tlb = copy(s->tlb.sets, n->tlb_len);
	n->wc = copy(s->wc.sets, n->wc_len);
	n->s1wc = copy(s->s1wc.sets, n->s1wc_len);
}

static void snap_check(struct smmu *s, struct snap *n)
{
	assert_memory_equal(n->ctr, s->hw.ctr_val, sizeof(n->ctr));
	assert_memory_equal(n->tlb, s->tlb.sets, n->tlb_len);
	assert_memory_equal(n->wc, s->wc.sets, n->wc_len);
	assert_memory_equal(n->s1wc, s->s1wc.sets, n->s1wc_len);
	free(n->tlb);
	free(n->wc);
	free(n->s1wc);
}

/* Explain @r, checking that nothing changed. */
static void explain(struct env *e, const struct ionest_xlate_req *r,
		    struct hw_explain *x)
{
	struct snap n;

	snap_take(to_smmu(e->h.hw), &n);
	assert_int_equal(hw_explain(e->h.hw, r, x), 0);
	snap_check(to_smmu(e->h.hw), &n);
	assert_true(x->nsteps > 0);
	assert_true(x->summary[0] != '\0');
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

static unsigned count_kind(const struct hw_explain *x, enum hw_xs_kind k,
			   unsigned depth)
{
	unsigned n = 0;

	for (unsigned i = 0; i < x->nsteps; i++)
		n += x->steps[i].kind == k && x->steps[i].depth == depth;
	return n;
}

/* Outcomes seen by agree(): by status, and EINVAL in [7]. */
static unsigned seen[8];

/* Explain and translate must agree. */
static void agree(struct env *e, const struct ionest_xlate_req *r)
{
	struct hw_explain x;
	struct ionest_xlate_res t = { 0 };
	int ret;

	explain(e, r, &x);
	ret = ionest_hw_translate(e->h.hw, r, &t);
	if (ret != x.ret || (!ret && t.status != x.res.status) ||
	    (!ret && t.status == IONEST_XLATE_FAULT &&
	     (t.fault != x.res.fault || t.stage2 != x.res.stage2 ||
	      t.fault_addr != x.res.fault_addr)) ||
	    (!ret && t.status != IONEST_XLATE_FAULT &&
	     (t.addr != x.res.addr || t.size != x.res.size ||
	      t.perm != x.res.perm)))
		fail_msg("sid %u iova 0x%" PRIx64 " access %u: translate "
			 "%d/%u addr 0x%" PRIx64 " perm %u fault 0x%x s2 %d, "
			 "explain %d/%u addr 0x%" PRIx64
			 " perm %u fault 0x%x s2 %d (%s)",
			 r->sid, r->iova, r->access, ret, t.status, t.addr,
			 t.perm, t.fault, t.stage2, x.ret, x.res.status,
			 x.res.addr, x.res.perm, x.res.fault, x.res.stage2,
			 x.summary);
	seen[ret ? 7 : t.status & 7]++;
	hw_explain_fini(&x);
	while (smmu_h_event(&e->h, (uint64_t[4]){ 0 }))
		;
}

static void test_stage1_steps(void **state)
{
	struct env e;
	struct hw_explain x;
	struct ionest_xlate_req r = req(2, 0x40000123, R);
	const struct hw_xstep *st;
	uint64_t d;

	env_init(&e);
	d = smmu_h_pa(e.hdata);
	assert_int_equal(pt_map(&e.hs1, 0x40000000, d, 0x1000, RW, 0), 0);
	explain(&e, &r, &x);
	assert_int_equal(x.ret, 0);
	assert_int_equal(x.res.status, IONEST_XLATE_OK);
	assert_int_equal(x.res.addr, d + 0x123);
	assert_int_equal(x.res.size, 0x1000);
	assert_int_equal(x.res.perm, R | W);
	assert_null(x.fault_name);
	st = step(&x, "TLB", 0);
	assert_non_null(st);
	assert_int_equal(st->hit, 0);
	assert_non_null(step(&x, "config cache", 0));
	st = step(&x, "STE", 0);
	assert_non_null(st);
	assert_int_equal(st->nwords, 4);
	assert_non_null(strstr(st->text, "Config=stage 1"));
	st = step(&x, "CD", 0);
	assert_non_null(st);
	assert_non_null(strstr(st->text, "ASID=7"));
	/* Four levels, 0 to 3, the last a page. */
	for (int l = 0; l < 4; l++) {
		char name[8];

		snprintf(name, sizeof(name), "S1 L%d", l);
		st = step(&x, name, 0);
		assert_non_null(st);
		assert_int_equal(st->kind, HW_XS_S1);
		assert_int_equal(st->level, l);
		assert_int_equal(st->depth, 0);
		assert_non_null(strstr(st->text, l < 3 ? "table" : "page"));
	}
	assert_int_equal(count_kind(&x, HW_XS_S2, 0), 0);
	hw_explain_fini(&x);

	/* Nothing was filled: the real access misses everything. */
	agree(&e, &r);
	assert_int_equal(to_smmu(e.h.hw)->hw.ctr_val[hw_cfg_miss], 1);
	assert_int_equal(to_smmu(e.h.hw)->hw.ctr_val[hw_tlb_miss], 1);
	/* Now the TLB serves it; the walk is shown but skipped. */
	explain(&e, &r, &x);
	st = step(&x, "TLB", 0);
	assert_int_equal(st->hit, 1);
	st = step(&x, "S1 L3", 0);
	assert_true(st->skipped);
	assert_false(x.stale);
	assert_int_equal(x.res.addr, d + 0x123);
	hw_explain_fini(&x);
	env_fini(&e);
}

static void test_nested_steps(void **state)
{
	struct env e;
	struct hw_explain x;
	struct ionest_xlate_req r = req(1, 0x10008, W);
	const struct hw_xstep *st;
	unsigned s1_levels = 0;
	bool sub_before = false;

	env_init(&e);
	assert_int_equal(pt_map(&e.s1, 0x10000, e.data_ipa, 0x1000, RW, 0), 0);
	explain(&e, &r, &x);
	assert_int_equal(x.res.status, IONEST_XLATE_OK);
	assert_int_equal(x.res.addr,
			 smmu_h_pa(smmu_h_gva(&e.g, e.data_ipa)) + 8);
	/* The CD is read through stage 2 (a depth-1 walk before it). */
	st = step(&x, "CD", 0);
	assert_non_null(st);
	assert_true(st->has_host);
	assert_int_equal(st->host, smmu_h_pa(e.cd));
	/* Each stage-1 level is preceded by the stage-2 translation of its
	 * table address. */
	for (unsigned i = 0; i < x.nsteps; i++) {
		if (x.steps[i].kind == HW_XS_S1) {
			s1_levels++;
			assert_true(sub_before);
			assert_true(x.steps[i].has_host);
			sub_before = false;
		} else if (x.steps[i].depth == 1) {
			sub_before = true;
		}
	}
	assert_int_equal(s1_levels, 4);
	assert_true(count_kind(&x, HW_XS_S2, 1) > 0);
	/* Later fetches hit what earlier ones would have filled. */
	assert_non_null(strstr(x.steps[0].text, "SMMUEN=1"));
	/* The output's stage 2 at depth 0. */
	assert_true(count_kind(&x, HW_XS_S2, 0) > 0);
	assert_non_null(step(&x, "S2 leaf cache", 0));
	hw_explain_fini(&x);
	agree(&e, &r);
	env_fini(&e);
}

static void test_faults(void **state)
{
	struct env e;
	struct hw_explain x;
	struct ionest_xlate_req r;

	env_init(&e);
	assert_int_equal(
		pt_map(&e.s1, 0x10000, e.data_ipa, 0x1000, PT_PROT_READ, 0), 0);
	/* IPA the stage 2 does not map. */
	assert_int_equal(pt_map(&e.s1, 0x11000, 0x7000000, 0x1000, RW, 0), 0);

	r = req(1, 0x900000, R);
	explain(&e, &r, &x);
	assert_int_equal(x.res.status, IONEST_XLATE_FAULT);
	assert_int_equal(x.res.fault, EVT_F_TRANSLATION);
	assert_string_equal(x.fault_name, "F_TRANSLATION");
	assert_false(x.res.stage2);
	assert_true(x.would_record);
	assert_true(x.fault_level >= 0 && x.fault_level <= 3);
	assert_non_null(strstr(x.summary, "stage 1"));
	hw_explain_fini(&x);
	agree(&e, &r);

	r = req(1, 0x10000, W);
	explain(&e, &r, &x);
	assert_int_equal(x.res.fault, EVT_F_PERMISSION);
	assert_int_equal(x.fault_level, 3);
	hw_explain_fini(&x);
	agree(&e, &r);

	r = req(1, 0x11010, R);
	explain(&e, &r, &x);
	assert_int_equal(x.res.fault, EVT_F_TRANSLATION);
	assert_true(x.res.stage2);
	assert_int_equal(x.res.fault_addr, 0x7000010);
	assert_non_null(strstr(x.summary, "stage 2"));
	assert_non_null(strstr(x.summary, "class IN"));
	hw_explain_fini(&x);
	agree(&e, &r);

	/* Stage 2 of a stage-1 table: class TT. */
	e.cd[1] = 0x8000000;
	smmu_h_cfgi_cd(&e.h, 1, 0);
	r = req(1, 0x10000, R);
	explain(&e, &r, &x);
	assert_int_equal(x.res.fault, EVT_F_TRANSLATION);
	assert_true(x.res.stage2);
	assert_non_null(strstr(x.summary, "class TT"));
	hw_explain_fini(&x);
	agree(&e, &r);

	/* Configuration faults, abort, bypass, a bad StreamID. */
	r = req(6, 0x1000, R);
	explain(&e, &r, &x);
	assert_string_equal(x.fault_name, "C_BAD_STE");
	assert_int_equal(x.fault_level, -1);
	hw_explain_fini(&x);
	agree(&e, &r);
	r = req(5, 0x1000, R);
	explain(&e, &r, &x);
	assert_int_equal(x.res.status, IONEST_XLATE_FAULT);
	assert_int_equal(x.res.fault, 0);
	hw_explain_fini(&x);
	agree(&e, &r);
	r = req(4, 0x1234, W);
	explain(&e, &r, &x);
	assert_int_equal(x.res.status, IONEST_XLATE_BYPASS);
	assert_int_equal(x.res.addr, 0x1234);
	hw_explain_fini(&x);
	agree(&e, &r);
	r = req(300, 0x1000, R);
	explain(&e, &r, &x);
	assert_string_equal(x.fault_name, "C_BAD_STREAMID");
	hw_explain_fini(&x);
	agree(&e, &r);
	/* Malformed: what translate refuses with EINVAL. */
	r = req(1, 0x1000, P);
	explain(&e, &r, &x);
	assert_int_equal(x.ret, -EINVAL);
	hw_explain_fini(&x);
	agree(&e, &r);
	r = req(1u << 20, 0x1000, R);
	explain(&e, &r, &x);
	assert_int_equal(x.ret, -EINVAL);
	hw_explain_fini(&x);
	env_fini(&e);
}

/* HA: the walk would set AF. Explain says so and leaves memory alone. */
static void test_af_update_not_written(void **state)
{
	struct env e;
	struct hw_explain x;
	struct ionest_xlate_req r = req(1, 0x20000, R);
	const struct hw_xstep *st;
	struct pt_walk w = { 0 };
	uint64_t *pte;

	env_init(&e);
	assert_int_equal(pt_map(&e.s1, 0x20000, e.data_ipa, 0x1000,
				RW | PT_PROT_NOAF, 0),
			 0);
	assert_int_equal(pt_walk(&e.s1, 0x20000, 0, &w), 0);
	assert_false(w.perm & PT_PERM_AF);
	explain(&e, &r, &x);
	assert_int_equal(x.res.status, IONEST_XLATE_OK);
	st = step(&x, "update", 0);
	assert_non_null(st);
	assert_non_null(strstr(st->text, "AF"));
	assert_int_equal(st->w[0] | (1ull << 10), st->w[1]);
	pte = (uint64_t *)(uintptr_t)st->host;
	assert_int_equal(*pte, st->w[0]);
	hw_explain_fini(&x);
	assert_int_equal(pt_walk(&e.s1, 0x20000, 0, &w), 0);
	assert_false(w.perm & PT_PERM_AF);
	/* The real access sets it. */
	agree(&e, &r);
	assert_int_equal(pt_walk(&e.s1, 0x20000, 0, &w), 0);
	assert_true(w.perm & PT_PERM_AF);
	/* Without HA (and AFFD) the same page is an access fault. */
	assert_int_equal(pt_map(&e.s1, 0x21000, e.data_ipa, 0x1000,
				RW | PT_PROT_NOAF, 0),
			 0);
	e.cd[0] &= ~CD0_HA_BIT;
	smmu_h_cfgi_cd(&e.h, 1, 0);
	r = req(1, 0x21000, R);
	explain(&e, &r, &x);
	assert_string_equal(x.fault_name, "F_ACCESS");
	hw_explain_fini(&x);
	agree(&e, &r);
	env_fini(&e);
}

/* Tables changed without invalidation: the caches still serve the old
 * translation, and explain says what the access gets and that it is
 * stale. */
static void test_stale_caches(void **state)
{
	struct env e;
	struct hw_explain x;
	struct ionest_xlate_req r = req(2, 0x40000010, R);
	uint64_t d, n = 0;

	env_init(&e);
	d = smmu_h_pa(e.hdata);
	assert_int_equal(pt_map(&e.hs1, 0x40000000, d, 0x1000, RW, 0), 0);
	agree(&e, &r);
	assert_int_equal(pt_unmap(&e.hs1, 0x40000000, 0x1000, 0, NULL, &n), 0);
	explain(&e, &r, &x);
	assert_int_equal(x.res.status, IONEST_XLATE_OK);
	assert_int_equal(x.res.addr, d + 0x10);
	assert_true(x.stale);
	assert_int_equal(step(&x, "TLB", 0)->hit, 1);
	hw_explain_fini(&x);
	agree(&e, &r);

	/* A configuration changed without CFGI: the cached one is used. */
	r = req(2, 0x40000010, W);
	smmu_h_tlbi_nh_va(&e.h, 0, 7, 0x40000000);
	assert_int_equal(pt_map(&e.hs1, 0x40000000, d, 0x1000, RW, 0), 0);
	agree(&e, &r);
	smmu_h_ste_abort(smmu_h_ste(&e.h, 2));
	smmu_h_tlbi_nh_va(&e.h, 0, 7, 0x40000000);
	explain(&e, &r, &x);
	assert_int_equal(step(&x, "config cache", 0)->hit, 1);
	assert_true(x.stale);
	assert_int_equal(x.res.status, IONEST_XLATE_OK);
	hw_explain_fini(&x);
	agree(&e, &r);
	smmu_h_cfgi_ste(&e.h, 2);
	explain(&e, &r, &x);
	assert_false(x.stale);
	assert_int_equal(x.res.status, IONEST_XLATE_FAULT);
	hw_explain_fini(&x);
	agree(&e, &r);
	env_fini(&e);
}

static void test_random_agree(void **state)
{
	static const uint32_t accesses[] = { R,	    W,	   R | W, X, R | X,
					     P | R, P | W, P | X, 0, 16 };
	struct test_rng rng;
	struct env e;
	uint64_t seed = 0x5eed0001;

	env_init(&e);
	memset(seen, 0, sizeof(seen));
	test_rng_seed(&rng, seed);
	print_message("# seed 0x%" PRIx64 "\n", seed);
	/* Stage 1 of SID 1 over 64 pages: some read-only, some executable,
	 * some into the read-only or the unmapped part of stage 2, some
	 * without AF (HA sets it), the rest unmapped; 2M blocks too. */
	for (unsigned i = 0; i < 64; i++) {
		uint64_t va = 0x100000 + i * 0x1000, ipa;
		uint32_t prot = PT_PROT_READ;

		switch (test_rng_below(&rng, 6)) {
		case 0:
			continue;
		case 1:
			ipa = GIPA + (12u << 20) + i * 0x1000;
			break;
		case 2:
			ipa = GIPA + (15u << 20) + i * 0x1000;
			break;
		default:
			ipa = e.data_ipa + i * 0x1000;
			break;
		}
		if (test_rng_below(&rng, 2))
			prot |= PT_PROT_WRITE;
		if (test_rng_below(&rng, 3) == 0)
			prot |= PT_PROT_EXEC;
		if (test_rng_below(&rng, 4) == 0)
			prot |= PT_PROT_NOAF;
		if (test_rng_below(&rng, 4) == 0)
			prot |= PT_PROT_PRIV;
		assert_int_equal(pt_map(&e.s1, va, ipa, 0x1000, prot, 0), 0);
	}
	assert_int_equal(pt_map(&e.s1, 0x40000000, e.data_ipa, 2u << 20,
				RW | PT_PROT_EXEC, 0),
			 0);
	assert_int_equal(
		pt_map(&e.hs1, 0x100000, smmu_h_pa(e.hdata), 0x8000, RW, 0), 0);
	for (unsigned i = 0; i < 3000; i++) {
		const uint32_t sids[10] = { 1, 1, 1, 1, 1,
					    2, 2, 3, 4, 5 + (i & 1) };
		uint32_t sid = sids[test_rng_below(&rng, 10)];
		uint64_t va;
		struct ionest_xlate_req r;

		/* Few pages, so that the caches serve many accesses. */
		switch (test_rng_below(&rng, 4)) {
		case 0:
			va = 0x40000000 + test_rng_below(&rng, 48) * 0x1000;
			break;
		case 1:
			va = GIPA + test_rng_below(&rng, 17) * 0x100000;
			break;
		default:
			va = 0x100000 + test_rng_below(&rng, 72) * 0x1000;
			break;
		}
		va += test_rng_below(&rng, 0x1000);
		r = req(sid, va,
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
	/* Every kind of outcome was compared many times. */
	assert_true(seen[IONEST_XLATE_OK] > 300);
	assert_true(seen[IONEST_XLATE_FAULT] > 300);
	assert_true(seen[IONEST_XLATE_BYPASS] > 100);
	assert_true(seen[7] > 100);
	assert_true(seen[IONEST_XLATE_PAGE_REQUEST] > 10);
	assert_true(to_smmu(e.h.hw)->hw.ctr_val[hw_tlb_hit] > 100);
	env_fini(&e);
}

/* Stall model forced: a stage-1 translation fault stalls (a stall tag
 * free and event queue room here); a translation request never does. */
static void test_stall(void **state)
{
	static const struct ionest_smmuv3_config cfg = {
		.stall_model = IONEST_CFG(SMMU_STALL_FORCED),
	};
	struct smmu_h_opts o = { .cfg = &cfg };
	struct pt_cfg c1 = smmu_h_s1_cfg(12, 48);
	struct ionest_xlate_req r = req(1, 0x5000, R);
	struct ionest_xlate_res t;
	struct hw_explain x;
	struct smmu_h h;
	uint64_t *cd;
	struct pt s1;

	smmu_h_init(&h, &o);
	assert_int_equal(pt_init(&s1, &c1, smmu_h_host_mem(&h)), 0);
	cd = smmu_h_alloc(&h, 64, 64);
	smmu_h_cd(cd, &s1, NULL, 3);
	smmu_h_ste_s1(smmu_h_ste(&h, 1), smmu_h_pa(cd), 0, 0, 0);
	assert_int_equal(hw_explain(h.hw, &r, &x), 0);
	assert_int_equal(x.res.status, IONEST_XLATE_STALLED);
	assert_int_equal(x.res.fault, EVT_F_TRANSLATION);
	hw_explain_fini(&x);
	assert_int_equal(ionest_hw_translate(h.hw, &r, &t), 0);
	assert_int_equal(t.status, IONEST_XLATE_STALLED);
	/* With STE.EATS=0 the request is refused by the configuration
	 * (recorded); with EATS=1 its translation fault is answered
	 * without access (not recorded, not stalled). */
	r.ats = true;
	for (int eats = 0; eats < 2; eats++) {
		uint64_t *ste = smmu_h_ste(&h, 1);

		ste[1] = (ste[1] & ~(3ull << 28)) | (uint64_t)eats << 28;
		smmu_h_cfgi_ste(&h, 1);
		assert_int_equal(hw_explain(h.hw, &r, &x), 0);
		assert_int_equal(x.res.status, IONEST_XLATE_FAULT);
		assert_int_equal(x.res.fault,
				 eats ? EVT_F_TRANSLATION : EVT_F_BAD_ATS_TREQ);
		assert_int_equal(x.would_record, !eats);
		hw_explain_fini(&x);
		assert_int_equal(ionest_hw_translate(h.hw, &r, &t), 0);
		assert_int_equal(t.status, IONEST_XLATE_FAULT);
		assert_int_equal(t.fault, x.res.fault);
		assert_int_equal(t.recorded, !eats);
	}
	pt_destroy(&s1);
	smmu_h_fini(&h);
}

static void test_mock_not_supported(void **state)
{
	struct ionest_hw *hw = ionest_mock_iommu_new(NULL);
	struct ionest_xlate_req r = req(0, 0, R);
	struct hw_explain x;

	assert_non_null(hw);
	assert_int_equal(hw_explain(hw, &r, &x), -EOPNOTSUPP);
	hw_explain_fini(&x);
	assert_int_equal(hw_explain(NULL, &r, &x), -EINVAL);
	hw_explain_fini(&x);
	ionest_hw_free(hw);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stage1_steps),
		cmocka_unit_test(test_nested_steps),
		cmocka_unit_test(test_faults),
		cmocka_unit_test(test_af_update_not_written),
		cmocka_unit_test(test_stale_caches),
		cmocka_unit_test(test_random_agree),
		cmocka_unit_test(test_stall),
		cmocka_unit_test(test_mock_not_supported),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
