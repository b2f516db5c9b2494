// SPDX-License-Identifier: MIT
/*
 * TLB invalidation cost (performance.md T4c): hw_tlb_invalidate on a full
 * cache of the SMMUv3 model's default size (4096 entries asked, 2048 sets
 * of 3 ways, every way valid), 8 streams each with its own ASID, 4K pages:
 *   - one 4K page by (VMID, ASID) + VA that is cached (one entry dropped),
 *     and one the ASID does not hold (nothing dropped);
 *   - a 16-page range by (VMID, ASID) + VA, every page cached;
 *   - a whole ASID (its 768 entries), per command and per entry dropped;
 *   - a whole ASID with nothing cached.
 * Against a hash-lookup hit (`HIT`, baselines.c) timed in the same run:
 * the target is 50 ns a command (about 10 x HIT), else 1 x HIT per entry
 * dropped. Each repetition refills, untimed, what the previous one
 * dropped, so every timed command meets a full cache.
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"
#include "hw/tlb.h"

#define STREAMS 8
#define ENTRIES 4096 /* ionest_smmuv3_new's default TLB */
#define VMID 1
#define ASID0 100

static struct hw_tlb tlb;
static unsigned per_stream; /* pages each stream fills */
static uint64_t *pages_of; /* stream s: pages_of[s * per_stream ...] */

static void put(uint32_t sid, uint64_t page)
{
	struct hw_tlb_entry e = {
		.va = page << 12,
		.pa = (page << 12) ^ 0x80000000ull,
		.sid = sid,
		.ssid = 0,
		.dom = VMID,
		.shift = 12,
		.flags = HW_TLB_S1 | HW_TLB_S2 | 3,
		.asid = ASID0 + sid,
	};

	if (!hw_tlb_insert(&tlb, &e, hw_tlb_gen(&tlb)))
		abort();
}

/*
 * Pages that fill every way exactly: a 4K page's set is its page number
 * xor the stream's mix (hw_tlb_set_at), so an aligned run of nsets/STREAMS
 * pages fills an aligned run of as many sets. Stream s takes the runs that
 * land on set runs s, s+1 and s+2: three streams a set run, one a way.
 */
static void layout(void)
{
	unsigned len = tlb.nsets / STREAMS;

	per_stream = HW_TLB_WAYS * len;
	pages_of = calloc((size_t)STREAMS * per_stream, sizeof(*pages_of));
	if (!pages_of)
		abort();
	for (uint32_t s = 0; s < STREAMS; s++) {
		uint64_t c = (hw_tlb_mix(hw_tlb_key(s, 0)) >> 7) & tlb.mask;

		for (unsigned k = 0; k < HW_TLB_WAYS; k++) {
			uint64_t first = ((s + k) % STREAMS) * len ^
					 (c & ~(uint64_t)(len - 1));

			for (unsigned i = 0; i < len; i++)
				pages_of[s * per_stream + k * len + i] =
					first + i;
		}
	}
}

static void fill(void)
{
	for (unsigned i = 0; i < per_stream; i++)
		for (uint32_t s = 0; s < STREAMS; s++)
			put(s, pages_of[s * per_stream + i]);
}

static struct hw_tlb_match by_asid(uint32_t sid, uint64_t first, uint64_t pages)
{
	return (struct hw_tlb_match){
		.fields = HW_TLB_M_DOM | HW_TLB_M_ASID |
			  (pages ? HW_TLB_M_RANGE : 0),
		.dom = VMID,
		.asid = ASID0 + sid,
		.va_start = first << 12,
		.va_last = ((first + pages) << 12) - 1,
	};
}

/*
 * @cmds invalidations: command i names @npages pages (0: the whole ASID)
 * of stream i % STREAMS from its page (i / STREAMS) * @stride, or as far
 * above them as the cache is large when not @present. The median over the
 * repetitions of the ns per command; *@dropped the entries one repetition
 * dropped.
 */
static double run(unsigned cmds, uint64_t npages, unsigned stride, bool present,
		  unsigned *dropped)
{
	double v[16];
	unsigned reps = bench_reps();

	for (unsigned r = 0; r < reps; r++) {
		double t0;

		fill();
		*dropped = 0;
		t0 = bench_now_ns();
		for (unsigned i = 0; i < cmds; i++) {
			uint32_t s = i % STREAMS;
			uint64_t p =
				pages_of[s * per_stream +
					 (i / STREAMS) * stride % per_stream];
			struct hw_tlb_match m = by_asid(
				s, present ? p : p + tlb.nsets * 16, npages);

			*dropped += hw_tlb_invalidate(&tlb, &m);
		}
		v[r] = (bench_now_ns() - t0) / cmds;
	}
	return bench_median(v, reps);
}

/* @iters whole-ASID invalidations of ASIDs past the streams' (never
 * cached: nothing may be dropped). */
static void inval_uncached(void *ctx, uint64_t iters)
{
	struct hw_tlb_match m = by_asid(0, 0, 0);

	(void)ctx;
	for (uint64_t i = 0; i < iters; i++) {
		m.asid = ASID0 + STREAMS + (uint32_t)(i & 63);
		if (hw_tlb_invalidate(&tlb, &m))
			abort();
	}
}

int main(int argc, char **argv)
{
	unsigned n, d, full;
	double hit, t;

	bench_init(argc, argv, "tlbinv");
	if (hw_tlb_init(&tlb, ENTRIES))
		return 1;
	layout();
	fill();
	full = hw_tlb_count(&tlb);
	if (full != tlb.nsets * HW_TLB_WAYS) {
		fprintf(stderr, "bench-tlbinv: cache not full (%u)\n", full);
		return 1;
	}
	hit = baseline_hash_hit_ns();

	n = per_stream * STREAMS / 4;
	t = run(n, 1, 4, true, &d);
	if (d != n)
		return 1;
	bench_report("1 page by ASID+VA, cached (full cache)", t, "ns", "HIT",
		     hit, 10, false);
	t = run(n, 1, 4, false, &d);
	if (d)
		return 1;
	bench_report("1 page by ASID+VA, not cached", t, "ns", "HIT", hit, 10,
		     false);
	n = per_stream * STREAMS / 16 / 2;
	t = run(n, 16, 32, true, &d);
	if (d != n * 16)
		return 1;
	bench_report("16-page range by ASID+VA, cached", t, "ns", "HIT", hit, 0,
		     false);
	bench_report("  per entry dropped", t / 16, "ns", "HIT", hit, 1, false);
	t = run(STREAMS, 0, 0, true, &d);
	if (d != full)
		return 1;
	bench_report("whole ASID (768 entries)", t, "ns", "HIT", hit, 0, false);
	bench_report("  per entry dropped", t * STREAMS / full, "ns", "HIT",
		     hit, 1, false);
	/* A full cache again; ASIDs past the streams' were never cached. */
	fill();
	t = bench_run(inval_uncached, NULL, 10000);
	bench_report("whole ASID, nothing cached", t, "ns", "HIT", hit, 10,
		     false);
	hw_tlb_fini(&tlb);
	free(pages_of);
	return bench_finish();
}
