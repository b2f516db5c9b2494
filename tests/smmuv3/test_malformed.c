// SPDX-License-Identifier: MIT
/* SMMUv3 model: malformed structures give the architectural error, and a
 * bus bounded to the test arena proves nothing is read outside it. */
#include <errno.h>
#include <string.h>

#include "hw/smmuv3/smmu_regs.h"
#include "smmu_harness.h"

#define R IONEST_ACCESS_READ
#define W IONEST_ACCESS_WRITE
#define RW (PT_PROT_READ | PT_PROT_WRITE)
#define OUTSIDE 0x10000000000ull /* not in any arena */

struct menv {
	struct smmu_h h;
	struct pt s1, s2;
	uint64_t *cd, *ste;
	uint8_t *data;
};

static void menv_init(struct menv *e, const struct ionest_smmuv3_config *cfg)
{
	struct pt_cfg c1 = smmu_h_s1_cfg(12, 48), c2 = smmu_h_s2_cfg(12, 40);

	smmu_h_init(&e->h,
		    &(struct smmu_h_opts){ .cfg = cfg, .bounded = true });
	assert_int_equal(pt_init(&e->s1, &c1, smmu_h_host_mem(&e->h)), 0);
	assert_int_equal(pt_init(&e->s2, &c2, smmu_h_host_mem(&e->h)), 0);
	e->data = smmu_h_alloc(&e->h, 0x10000, 0x1000);
	assert_int_equal(
		pt_map(&e->s1, 0x1000, smmu_h_pa(e->data), 0x1000, RW, 0), 0);
	assert_int_equal(
		pt_map(&e->s2, 0x1000, smmu_h_pa(e->data), 0x1000, RW, 0), 0);
	e->cd = smmu_h_alloc(&e->h, 64, 64);
	smmu_h_cd(e->cd, &e->s1, NULL, 1);
	e->ste = smmu_h_ste(&e->h, 1);
}

static void menv_fini(struct menv *e)
{
	pt_destroy(&e->s1);
	pt_destroy(&e->s2);
	smmu_h_fini(&e->h);
}

static void ste_s1(struct menv *e)
{
	smmu_h_ste_s1(e->ste, smmu_h_pa(e->cd), 0, 0, 0);
}

static void ste_s2(struct menv *e)
{
	smmu_h_ste_bypass(e->ste);
	smmu_h_ste_s2(e->ste, 1, &e->s2);
}

/* Translate and expect @type recorded (0: translation succeeds). */
static void expect(struct menv *e, unsigned type)
{
	struct ionest_xlate_res r;
	uint64_t ev[4];

	smmu_h_cfgi_ste(&e->h, 1);
	r = smmu_h_xlate(&e->h, 1, -1, 0x1000, R);
	if (!type) {
		assert_int_equal(r.status, IONEST_XLATE_OK);
		smmu_h_expect_no_event(&e->h);
		return;
	}
	assert_int_equal(r.status, IONEST_XLATE_FAULT);
	assert_int_equal(r.fault, type);
	smmu_h_expect_event(&e->h, type, ev);
	assert_int_equal(ev[0] >> 32, 1);
}

static void test_bad_ste(void **state)
{
	struct menv e;

	menv_init(&e, NULL);
	ste_s1(&e);
	expect(&e, 0);
	ste_s2(&e);
	expect(&e, 0);

	/* Config and pointer checks (stage 1). */
	static const struct {
		unsigned dw, lo;
		uint64_t val, mask;
	} s1bad[] = {
		{ 0, 0, 0, 1 }, /* V=0 */
		{ 0, 1, 1, 7 }, /* Config 0b001..0b011 reserved */
		{ 0, 1, 2, 7 },	   { 0, 1, 3, 7 },
		{ 0, 4, 3, 3 }, /* S1Fmt reserved */
		{ 0, 59, 21, 31 }, /* S1CDMax > SSIDSIZE */
		{ 1, 28, 3, 3 }, /* EATS reserved */
		{ 1, 28, 2, 3 }, /* EATS split-stage: NS1ATS=1 */
		{ 1, 30, 1, 3 }, /* STRW reserved */
		{ 1, 30, 3, 3 },   { 1, 30, 2, 3 }, /* STRW EL2 without HYP */
		{ 0, 50, 1, 1 }, /* S1ContextPtr beyond the OAS */
	};
	for (unsigned i = 0; i < sizeof(s1bad) / sizeof(s1bad[0]); i++) {
		ste_s1(&e);
		e.ste[s1bad[i].dw] &= ~(s1bad[i].mask << s1bad[i].lo);
		e.ste[s1bad[i].dw] |= s1bad[i].val << s1bad[i].lo;
		expect(&e, EVT_C_BAD_STE);
	}
	/* S1DSS reserved, with substreams. */
	ste_s1(&e);
	e.ste[0] |= 2ull << 59;
	e.ste[1] |= 3;
	expect(&e, EVT_C_BAD_STE);

	/* Stage-2 fields. */
	static const struct {
		unsigned lo;
		uint64_t val, mask;
	} s2bad[] = {
		{ 51, 0, 1 }, /* S2AA64=0 */
		{ 52, 1, 1 }, /* S2ENDI: little-endian only */
		{ 46, 3, 3 }, /* S2TG reserved */
		{ 48, 7, 7 }, /* S2PS reserved */
		{ 38, 3, 3 }, /* S2SL0=3 */
		{ 32, 40, 63 }, /* S2T0SZ > 39 */
		{ 32, 15, 63 }, /* IPA 49 bits > IAS */
		{ 32, 34, 63 }, /* 30-bit IPA cannot start at level 1 */
		{ 32, 16, 63 }, /* 48-bit IPA from level 1: 512 tables */
	};
	for (unsigned i = 0; i < sizeof(s2bad) / sizeof(s2bad[0]); i++) {
		ste_s2(&e);
		e.ste[2] &= ~(s2bad[i].mask << s2bad[i].lo);
		e.ste[2] |= s2bad[i].val << s2bad[i].lo;
		expect(&e, EVT_C_BAD_STE);
	}
	/* S2TTB beyond the effective PS. */
	ste_s2(&e);
	e.ste[2] = (e.ste[2] & ~(7ull << 48)) | 2ull << 48; /* 40 bits */
	e.ste[3] = 1ull << 44;
	expect(&e, EVT_C_BAD_STE);
	menv_fini(&e);
}

static void test_bad_ste_features(void **state)
{
	struct ionest_smmuv3_config c = {
		.s2p = IONEST_CFG(0),
		.ssidsize = IONEST_CFG(0),
		.stall_model = IONEST_CFG(1),
		.cd2l = IONEST_CFG(0),
		.ats = IONEST_CFG(0),
		.pri = IONEST_CFG(0),
	};
	struct menv e;

	menv_init(&e, &c);
	ste_s1(&e);
	expect(&e, 0);
	ste_s2(&e); /* stage 2 not implemented */
	expect(&e, EVT_C_BAD_STE);
	ste_s1(&e);
	e.ste[0] |= 1ull << 4; /* 2-level CD table without CD2L */
	expect(&e, EVT_C_BAD_STE);
	ste_s1(&e);
	e.ste[0] |= 1ull << 59; /* substreams without SSIDSIZE */
	expect(&e, EVT_C_BAD_STE);
	ste_s1(&e);
	e.ste[1] |= 1ull << 27; /* S1STALLD on a terminate-only part */
	expect(&e, EVT_C_BAD_STE);
	ste_s1(&e);
	e.ste[1] |= 1ull << 28; /* EATS without ATS */
	expect(&e, EVT_C_BAD_STE);
	/* CD.S=1 on a terminate-only part. */
	ste_s1(&e);
	e.cd[0] |= 1ull << 44;
	expect(&e, EVT_C_BAD_CD);
	menv_fini(&e);

	c = (struct ionest_smmuv3_config){ .s1p = IONEST_CFG(0),
					   .gran16k = IONEST_CFG(0) };
	menv_init(&e, &c);
	ste_s1(&e); /* stage 1 not implemented */
	expect(&e, EVT_C_BAD_STE);
	ste_s2(&e);
	expect(&e, 0);
	e.ste[2] = (e.ste[2] & ~(3ull << 46)) | 2ull << 46; /* 16K absent */
	expect(&e, EVT_C_BAD_STE);
	ste_s2(&e);
	e.ste[2] |= 1ull << 57; /* S2S: stalls are supported */
	expect(&e, 0);
	menv_fini(&e);

	/* Stall model 0: S1STALLD forbids CD.S=1. */
	menv_init(&e, NULL);
	ste_s1(&e);
	e.ste[1] |= 1ull << 27;
	expect(&e, 0);
	e.cd[0] |= 1ull << 44;
	expect(&e, EVT_C_BAD_CD);
	menv_fini(&e);
}

static void test_bad_cd(void **state)
{
	static const struct {
		unsigned lo;
		uint64_t val, mask;
	} bad[] = {
		{ 31, 0, 1 }, /* V=0 */
		{ 41, 0, 1 }, /* AA64=0 */
		{ 15, 1, 1 }, /* ENDI */
		{ 32, 7, 7 }, /* IPS reserved */
		{ 6, 3, 3 }, /* TG0 reserved */
		{ 0, 15, 63 }, /* T0SZ < 16 */
		{ 0, 40, 63 }, /* T0SZ > 39 */
		{ 30, 0, 1 }, /* TTB1 enabled with TG1=0 (reserved) */
	};
	struct menv e;

	menv_init(&e, NULL);
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		smmu_h_cd(e.cd, &e.s1, NULL, 1);
		e.cd[0] &= ~(bad[i].mask << bad[i].lo);
		e.cd[0] |= bad[i].val << bad[i].lo;
		ste_s1(&e);
		expect(&e, EVT_C_BAD_CD);
	}
	/* TTB0 beyond the IPS (32 bits). */
	smmu_h_cd(e.cd, &e.s1, NULL, 1);
	e.cd[0] &= ~(7ull << 32);
	e.cd[1] = 1ull << 40;
	expect(&e, EVT_C_BAD_CD);
	/* EPD0 with a garbage TG0/T0SZ is fine (not used). */
	smmu_h_cd(e.cd, &e.s1, NULL, 1);
	e.cd[0] |= 1ull << 14 | 3ull << 6 | 63;
	smmu_h_cfgi_ste(&e.h, 1);
	assert_int_equal(smmu_h_xlate(&e.h, 1, -1, 0x1000, R).fault,
			 EVT_F_TRANSLATION);
	menv_fini(&e);
}

static void test_fetch_aborts(void **state)
{
	struct menv e;
	struct ionest_xlate_res r;
	uint64_t ev[4], *l1;

	menv_init(&e, NULL);
	/* CD table pointer outside the bus. */
	smmu_h_ste_s1(e.ste, OUTSIDE, 0, 0, 0);
	expect(&e, EVT_F_CD_FETCH);
	r = smmu_h_xlate(&e.h, 1, -1, 0x1000, R);
	smmu_h_expect_event(&e.h, EVT_F_CD_FETCH, ev);
	assert_int_equal(ev[3], OUTSIDE);
	/* Level-2 CD table pointer outside the bus. */
	l1 = smmu_h_alloc(&e.h, 64, 64);
	l1[0] = OUTSIDE | 1;
	smmu_h_ste_s1(e.ste, smmu_h_pa(l1), S1FMT_4K, 4, 0);
	smmu_h_cfgi_ste(&e.h, 1);
	r = smmu_h_xlate(&e.h, 1, 3, 0x1000, R);
	assert_int_equal(r.fault, EVT_F_CD_FETCH);
	smmu_h_expect_event(&e.h, EVT_F_CD_FETCH, ev);
	assert_int_equal(ev[3], OUTSIDE + 3 * 64);
	/* Stage-1 tables outside the bus: F_WALK_EABT, CLASS=TT, address
	 * of the descriptor. */
	ste_s1(&e);
	e.cd[1] = OUTSIDE;
	expect(&e, EVT_F_WALK_EABT);
	r = smmu_h_xlate(&e.h, 1, -1, 0x1000, R);
	smmu_h_expect_event(&e.h, EVT_F_WALK_EABT, ev);
	assert_int_equal(ev[1],
			 EVT1_RNW | (uint64_t)EVT_CLASS_TT << 40 | EVT1_TTRNW);
	assert_int_equal(ev[2], 0x1000);
	assert_int_equal(ev[3], OUTSIDE);
	/* Stage-2 tables outside the bus: F_WALK_EABT with S2=1. */
	ste_s2(&e);
	e.ste[3] = OUTSIDE >> 8;
	expect(&e, EVT_F_WALK_EABT);
	r = smmu_h_xlate(&e.h, 1, -1, 0x1000, R);
	assert_true(r.stage2);
	smmu_h_expect_event(&e.h, EVT_F_WALK_EABT, ev);
	assert_true(ev[1] & EVT1_S2);
	/* A descriptor pointing outside. */
	ste_s1(&e);
	smmu_h_cd(e.cd, &e.s1, NULL, 1);
	{
		struct pt_walk_level rec[PT_MAX_LEVELS];
		struct pt_walk w = { .rec = rec };
		uint64_t *t, old;

		assert_int_equal(pt_walk(&e.s1, 0x1000, 0, &w), 0);
		t = (uint64_t *)(uintptr_t)rec[1].table;
		old = t[rec[1].index];
		t[rec[1].index] = (OUTSIDE >> 4) | 3; /* next table */
		expect(&e, EVT_F_WALK_EABT);
		t[rec[1].index] = old; /* for pt_destroy */
	}
	menv_fini(&e);

	/* The stream table itself outside the bus. */
	menv_init(&e, NULL);
	smmu_h_cr0(&e.h, smmu_h_rd32(&e.h, SMMU_CR0) & ~CR0_SMMUEN);
	smmu_h_wr64(&e.h, SMMU_STRTAB_BASE, OUTSIDE);
	smmu_h_cr0(&e.h, smmu_h_rd32(&e.h, SMMU_CR0) | CR0_SMMUEN);
	expect(&e, EVT_F_STE_FETCH);
	r = smmu_h_xlate(&e.h, 1, -1, 0x1000, R);
	smmu_h_expect_event(&e.h, EVT_F_STE_FETCH, ev);
	assert_int_equal(ev[3], OUTSIDE + 64);
	/* Two-level: the L1 table outside. */
	smmu_h_cr0(&e.h, smmu_h_rd32(&e.h, SMMU_CR0) & ~CR0_SMMUEN);
	smmu_h_wr32(&e.h, SMMU_STRTAB_BASE_CFG, 1u << 16 | 6u << 6 | 8);
	smmu_h_cr0(&e.h, smmu_h_rd32(&e.h, SMMU_CR0) | CR0_SMMUEN);
	r = smmu_h_xlate(&e.h, 65, -1, 0x1000, R);
	assert_int_equal(r.fault, EVT_F_STE_FETCH);
	smmu_h_expect_event(&e.h, EVT_F_STE_FETCH, ev);
	assert_int_equal(ev[3], OUTSIDE + 8);
	/* Reserved SPLIT: no valid StreamID. */
	smmu_h_cr0(&e.h, smmu_h_rd32(&e.h, SMMU_CR0) & ~CR0_SMMUEN);
	smmu_h_wr32(&e.h, SMMU_STRTAB_BASE_CFG, 1u << 16 | 7u << 6 | 8);
	smmu_h_cr0(&e.h, smmu_h_rd32(&e.h, SMMU_CR0) | CR0_SMMUEN);
	r = smmu_h_xlate(&e.h, 1, -1, 0x1000, R);
	assert_int_equal(r.fault, EVT_C_BAD_STREAMID);
	menv_fini(&e);
}

/* Random structures everywhere: the model must answer every request with
 * an architectural outcome, and the bounded bus keeps it inside. */
static void test_fuzz(void **state)
{
	struct test_rng rng;
	struct menv e;
	uint64_t *pool, *tables;
	unsigned n_tables = 16;

	test_rng_seed(&rng, 0x5eed5eedull);
	menv_init(&e, NULL);
	pool = smmu_h_alloc(&e.h, 64 * 64, 4096);
	tables = smmu_h_alloc(&e.h, (size_t)n_tables * 4096, 4096);
	for (unsigned round = 0; round < 400; round++) {
		uint64_t ev[4];

		/* Descriptors that mostly point back into the pool. */
		for (unsigned i = 0; i < n_tables * 512; i++) {
			uint64_t v = test_rng_next(&rng);

			/* Mostly valid, pointing back into the pool. */
			if (test_rng_below(&rng, 8))
				v = (v & (0xffcull | 0xfffull << 52)) | 3 |
				    (smmu_h_pa(tables) +
				     (test_rng_below(&rng, n_tables) << 12));
			tables[i] = v;
		}
		/* STEs and CDs: valid templates with a few bits flipped. */
		for (unsigned i = 0; i < 64; i++) {
			uint64_t *cd = pool + i * 8;
			uint64_t ttb = smmu_h_pa(tables) +
				       (test_rng_below(&rng, n_tables) << 12);

			cd[0] = 16 | 1ull << 30 | 1ull << 31 | 5ull << 32 |
				1ull << 41 | 1ull << 45 | 1ull << 46 |
				(test_rng_next(&rng) &
				 (1ull << 35 | 1ull << 38 | 1ull << 42 |
				  1ull << 43 | 1ull << 44));
			cd[1] = ttb;
			for (unsigned k = test_rng_below(&rng, 3); k; k--)
				cd[test_rng_below(&rng, 3)] ^=
					1ull << test_rng_below(&rng, 64);
		}
		for (uint32_t sid = 0; sid < 16; sid++) {
			uint64_t *ste = smmu_h_ste(&e.h, sid);
			uint64_t cdp =
				smmu_h_pa(pool) + test_rng_below(&rng, 64) * 64;

			memset(ste, 0, 64);
			ste[0] = 1 | (4 + test_rng_below(&rng, 4)) << 1 | cdp |
				 test_rng_below(&rng, 3) << 59;
			ste[1] = test_rng_below(&rng, 3) |
				 test_rng_below(&rng, 2) << 28;
			/* 40-bit IPA, level-1 start, 4K, 48-bit PS, S2R. */
			ste[2] = 24ull << 32 | 1ull << 38 | 5ull << 48 |
				 1ull << 51 | 1ull << 58 |
				 (test_rng_next(&rng) &
				  (1ull << 53 | 1ull << 54 | 1ull << 55 |
				   1ull << 56 | 1ull << 57));
			ste[3] = smmu_h_pa(tables) +
				 (test_rng_below(&rng, n_tables) << 12);
			for (unsigned k = test_rng_below(&rng, 3); k; k--)
				ste[test_rng_below(&rng, 4)] ^=
					1ull << test_rng_below(&rng, 64);
		}
		smmu_h_cmd(&e.h, CMD_CFGI_STE_RANGE, 31);
		smmu_h_cmd(&e.h, CMD_TLBI_NSNH_ALL, 0);
		smmu_h_sync(&e.h);
		for (unsigned i = 0; i < 64; i++) {
			struct ionest_xlate_req q = {
				.sid = (uint32_t)test_rng_below(&rng, 18),
				.ssid = (uint32_t)test_rng_below(&rng, 64),
				.ssid_valid = test_rng_below(&rng, 2),
				.ats = test_rng_below(&rng, 8) == 0,
				.pri = test_rng_below(&rng, 8) == 0,
				.access =
					1 + (uint32_t)test_rng_below(&rng, 15),
				.iova = test_rng_below(&rng, 4) ?
						test_rng_next(&rng) >> 24 :
						test_rng_next(&rng),
			};
			struct ionest_xlate_res r;
			int ret = ionest_hw_translate(e.h.hw, &q, &r);

			assert_true(ret == 0 || ret == -EINVAL);
			if (ret == 0 && r.status == IONEST_XLATE_OK) {
				/* Outputs are addresses, not reads. */
				assert_true(r.size >= 4096);
			}
			if (ret == 0 && r.status == IONEST_XLATE_STALLED)
				smmu_h_cmd(&e.h,
					   CMD_RESUME | (uint64_t)q.sid << 32,
					   r.stag);
		}
		while (smmu_h_event(&e.h, ev))
			assert_true((ev[0] & 0xff) <= EVT_F_PERMISSION);
		while (smmu_h_pri(&e.h, ev))
			;
		/* Random commands: legal ones run, the rest are refused. */
		for (unsigned i = 0; i < 8; i++) {
			uint64_t c0 = test_rng_next(&rng), c1;

			c0 = (c0 & ~0xffull) | test_rng_below(&rng, 0x48);
			c0 &= ~CMD_SSEC;
			c1 = test_rng_next(&rng) & SMMU_MASK(51, 12);
			smmu_h_cmd(&e.h, c0, c1);
			if ((smmu_h_rd32(&e.h, SMMU_GERROR) ^
			     smmu_h_rd32(&e.h, SMMU_GERRORN)) &
			    GERROR_CMDQ_ERR) {
				uint32_t cons =
					smmu_h_rd32(&e.h, SMMU_CMDQ_CONS);

				e.h.cmdq[(cons & 0xff) * 2] = CMD_SYNC;
				e.h.cmdq[(cons & 0xff) * 2 + 1] = 0;
				smmu_h_wr32(&e.h, SMMU_GERRORN,
					    smmu_h_rd32(&e.h, SMMU_GERROR));
			}
		}
		/* Events about random SMMU-level errors are fine; drain. */
		while (smmu_h_event(&e.h, ev))
			;
		smmu_h_wr32(&e.h, SMMU_GERRORN, smmu_h_rd32(&e.h, SMMU_GERROR));
	}
	menv_fini(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_ste),
		cmocka_unit_test(test_bad_ste_features),
		cmocka_unit_test(test_bad_cd),
		cmocka_unit_test(test_fetch_aborts),
		cmocka_unit_test(test_fuzz),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
