// SPDX-License-Identifier: MIT
/* SMMUv3 model: translations from several threads while commands change
 * and invalidate translations (including leaf-only invalidations, after
 * which misses are served from the walk caches). After a CMD_SYNC, no
 * translate started later may return an invalidated translation. */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "hw/smmuv3/smmu.h"
#include "smmu_harness.h"

#define THREADS 3
#define ROUNDS 3000
#define PAGES 8

struct shared {
	struct smmu_h h;
	struct pt pt;
	uint64_t *leaf[PAGES]; /* the stage-1 leaf descriptors */
	uint64_t data;
	uint32_t round; /* published after the round's sync */
	uint32_t stop;
	unsigned bad;
};

/* Round k maps page p to data + ((k + p) % 64) * 4K. */
static uint64_t target(const struct shared *s, uint32_t k, unsigned p)
{
	return s->data + (((uint64_t)k + p) % 64) * 0x1000;
}

static void *worker(void *arg)
{
	struct shared *s = arg;
	struct ionest_xlate_req q = { .sid = 1, .access = IONEST_ACCESS_READ };
	unsigned i = 0;

	while (!__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE)) {
		uint32_t k = __atomic_load_n(&s->round, __ATOMIC_ACQUIRE);
		unsigned p = i++ % PAGES;
		struct ionest_xlate_res r;
		bool ok = false;

		q.iova = 0x100000 + p * 0x1000;
		if (ionest_hw_translate(s->h.hw, &q, &r) ||
		    r.status != IONEST_XLATE_OK) {
			__atomic_add_fetch(&s->bad, 1, __ATOMIC_RELAXED);
			continue;
		}
		/* Round k or a later one (the tables may already hold the
		 * next round's mapping), never an earlier one. */
		for (uint32_t j = k, last = __atomic_load_n(&s->round,
							    __ATOMIC_ACQUIRE) +
					    1;
		     j <= last && !ok; j++)
			ok = r.addr == target(s, j, p);
		if (!ok)
			__atomic_add_fetch(&s->bad, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void set_round(struct shared *s, uint32_t k)
{
	for (unsigned p = 0; p < PAGES; p++) {
		uint64_t d = __atomic_load_n(s->leaf[p], __ATOMIC_RELAXED);

		/* nG=1: ASID-tagged, so TLBI_NH_ASID covers it. */
		d = (d & ~SMMU_MASK(47, 12)) | target(s, k, p) | 1ull << 11;
		__atomic_store_n(s->leaf[p], d, __ATOMIC_RELEASE);
	}
}

static void test_concurrent_invalidation(void **state)
{
	struct shared *s = calloc(1, sizeof(*s));
	struct pt_cfg c = smmu_h_s1_cfg(12, 48);
	pthread_t t[THREADS];
	uint64_t *cd;

	assert_non_null(s);
	smmu_h_init(&s->h, NULL);
	assert_int_equal(pt_init(&s->pt, &c, smmu_h_host_mem(&s->h)), 0);
	s->data = smmu_h_pa(smmu_h_alloc(&s->h, 64 * 0x1000, 0x1000));
	assert_int_equal(pt_map(&s->pt, 0x100000, s->data, PAGES * 0x1000,
				PT_PROT_READ | PT_PROT_WRITE, 0),
			 0);
	for (unsigned p = 0; p < PAGES; p++) {
		struct pt_walk_level rec[PT_MAX_LEVELS];
		struct pt_walk w = { .rec = rec };

		assert_int_equal(pt_walk(&s->pt, 0x100000 + p * 0x1000, 0, &w),
				 0);
		s->leaf[p] = (uint64_t *)(uintptr_t)rec[w.nrec - 1].table +
			     rec[w.nrec - 1].index;
	}
	set_round(s, 0);
	cd = smmu_h_alloc(&s->h, 64, 64);
	smmu_h_cd(cd, &s->pt, NULL, 3);
	smmu_h_ste_s1(smmu_h_ste(&s->h, 1), smmu_h_pa(cd), 0, 0, 0);
	for (unsigned i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, worker, s), 0);
	for (uint32_t k = 1; k <= ROUNDS; k++) {
		set_round(s, k);
		/* Alternate the kinds of invalidation that must cover it. */
		switch (k % 5) {
		case 4:
			/* Leaf=1, page by page: the walk caches stay, so
			 * the misses that follow are served from them. */
			for (unsigned p = 0; p < PAGES; p++)
				smmu_h_cmd(&s->h, CMD_TLBI_NH_VA | 3ull << 48,
					   (0x100000 + p * 0x1000) | 1);
			break;
		case 0:
			smmu_h_cmd(&s->h, CMD_TLBI_NH_ASID | 3ull << 48, 0);
			break;
		case 1:
			smmu_h_cmd(&s->h, CMD_TLBI_NH_VAA | 15 << 12,
				   0x100000 | 1 << 10);
			break;
		case 2:
			smmu_h_cmd(&s->h, CMD_CFGI_STE | 1ull << 32, 0);
			break;
		default:
			smmu_h_cmd(&s->h, CMD_TLBI_NSNH_ALL, 0);
			break;
		}
		smmu_h_sync(&s->h);
		__atomic_store_n(&s->round, k, __ATOMIC_RELEASE);
	}
	__atomic_store_n(&s->stop, 1, __ATOMIC_RELEASE);
	for (unsigned i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(s->bad, 0);
	pt_destroy(&s->pt);
	smmu_h_fini(&s->h);
	free(s);
}

/*
 * The order inside one invalidation: caches whose entries are built from
 * another cache's are dropped after it (walk caches before the TLB), so a
 * fill that read a walk-cache entry the command is about to drop is either
 * refused or dropped too. Made deterministic by holding one stage-1
 * walk-cache set, which parks the invalidation in the middle of its walk-
 * cache visit while a translation misses and fills. The invalidation
 * visits the sets holding the stream's entries in ascending order, so the
 * parking set holds an entry of the stream too, and comes before the set
 * of the entry the miss reads.
 */
struct cfgi_arg {
	struct smmu_h *h;
	uint64_t *cd;
};

static void *cfgi_wxn(void *arg)
{
	struct cfgi_arg *a = arg;

	a->cd[0] |= 1ull << 36; /* WXN */
	smmu_h_cfgi_ste(a->h, 1);
	return NULL;
}

static void test_invalidation_order(void **state)
{
	struct smmu_h h;
	struct smmu *s;
	struct pt pt;
	struct pt_cfg c = smmu_h_s1_cfg(12, 48);
	struct ionest_xlate_res r;
	struct hw_tlb_set *park, *ent;
	struct cfgi_arg a;
	uint64_t d, va = 0, pva, wgen;
	pthread_t t;

	smmu_h_init(&h, NULL);
	s = (struct smmu *)h.hw;
	assert_int_equal(pt_init(&pt, &c, smmu_h_host_mem(&h)), 0);
	d = smmu_h_pa(smmu_h_alloc(&h, 0x2000, 0x1000));
	a.h = &h;
	a.cd = smmu_h_alloc(&h, 64, 64);
	smmu_h_cd(a.cd, &pt, NULL, 3);
	smmu_h_ste_s1(smmu_h_ste(&h, 1), smmu_h_pa(a.cd), 0, 0, 0);
	/* Two 2M blocks in different walk-cache sets: the lower set parks
	 * the invalidation, the miss reads the other one's entry. */
	pva = 0x200000;
	park = hw_tlb_set_of(&s->s1wc, 1, 0, pva, 21);
	for (va = pva + 0x200000;; va += 0x200000) {
		ent = hw_tlb_set_of(&s->s1wc, 1, 0, va, 21);
		if (ent != park)
			break;
	}
	if (ent < park) {
		struct hw_tlb_set *x = ent;
		uint64_t y = va;

		ent = park;
		park = x;
		va = pva;
		pva = y;
	}
	assert_int_equal(pt_map(&pt, pva, d, 0x1000, PT_PROT_READ, 0), 0);
	assert_int_equal(pt_map(&pt, va, d, 0x1000, PT_PROT_READ, 0), 0);
	assert_int_equal(pt_map(&pt, va + 0x1000, d + 0x1000, 0x1000,
				PT_PROT_READ | PT_PROT_WRITE | PT_PROT_EXEC, 0),
			 0);
	assert_int_equal(
		smmu_h_xlate(&h, 1, -1, pva, IONEST_ACCESS_READ).status,
		IONEST_XLATE_OK);
	assert_int_equal(smmu_h_xlate(&h, 1, -1, va, IONEST_ACCESS_READ).status,
			 IONEST_XLATE_OK);
	assert_true(hw_tlb_count(&s->s1wc) == 2);

	/* Park the CFGI in its walk-cache scan (at the first set). */
	hw_tlb_set_lock(park);
	wgen = hw_tlb_gen(&s->s1wc);
	assert_int_equal(pthread_create(&t, NULL, cfgi_wxn, &a), 0);
	while (hw_tlb_gen(&s->s1wc) == wgen)
		sched_yield();
	/* A miss now may read the walk-cache entry the CFGI has not
	 * reached; whatever it fills must not outlive the CFGI. */
	r = smmu_h_xlate(&h, 1, -1, va + 0x1000,
			 IONEST_ACCESS_READ | IONEST_ACCESS_EXEC);
	assert_int_equal(r.status, IONEST_XLATE_OK);
	hw_tlb_set_unlock(park);
	pthread_join(t, NULL);
	/* After the CFGI and its sync: WXN, so no execute. */
	r = smmu_h_xlate(&h, 1, -1, va + 0x1000,
			 IONEST_ACCESS_READ | IONEST_ACCESS_EXEC);
	assert_int_equal(r.status, IONEST_XLATE_FAULT);
	assert_int_equal(r.fault, EVT_F_PERMISSION);
	smmu_h_expect_event(&h, EVT_F_PERMISSION, NULL);
	pt_destroy(&pt);
	smmu_h_fini(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_concurrent_invalidation),
		cmocka_unit_test(test_invalidation_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
