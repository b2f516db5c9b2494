// SPDX-License-Identifier: MIT
/* SMMUv3 model: translations from several threads while commands change
 * and invalidate translations (including leaf-only invalidations, after
 * which misses are served from the walk caches). After a CMD_SYNC, no
 * translate started later may return an invalidated translation. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "hw/smmuv3/smmu_regs.h"
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_concurrent_invalidation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
