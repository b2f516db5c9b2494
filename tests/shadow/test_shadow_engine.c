// SPDX-License-Identifier: MIT
/*
 * The shadow engine (lib/drivers/shadow.c) alone, against a reference
 * composition: after every step each shadow entry must be what walking
 * the guest's stage 1 through the parent's stage 2 gives now, and after a
 * sync every page that composes must be present. Covers the data-page
 * reverse map (parent unmaps of part of a run, of its middle, of guest
 * table pages, aliases, remaps, fragmentation, allocation failures) and
 * the sync's paths (ranges across leaf tables, 2M leaves, permissions
 * that change along a run, fills).
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "drivers/shadow.h"
#include "pt/pt.h"
#include "util/alloc.h"

#define PAGE 4096ull
#define MB (1ull << 20)
#define GRAM (32 * MB) /* guest RAM: data below 16M, tables above */
#define TBL (16 * MB)
#define RW (PT_PROT_READ | PT_PROT_WRITE)

struct fx {
	uint8_t *ram;
	uint64_t used;
	struct pt ss, fs;
	struct shadow sh;
};

static void *g_table(void *ctx, uint64_t gpa, size_t size, bool write)
{
	struct fx *f = ctx;

	(void)write;
	return gpa + size <= GRAM ? f->ram + gpa : NULL;
}

static int g_alloc(void *ctx, size_t size, uint64_t *gpa)
{
	struct fx *f = ctx;

	*gpa = TBL + f->used;
	f->used += size;
	return TBL + f->used <= GRAM ? 0 : -ENOMEM;
}

static void g_free(void *ctx, uint64_t gpa, size_t size)
{
	(void)ctx;
	(void)gpa;
	(void)size;
}

static const struct pt_mem_ops g_ops = { g_table, g_alloc, g_free };

static bool compose(const struct shadow *s, uint32_t s1, uint32_t s2,
		    uint32_t *prot)
{
	(void)s;
	if (!(s2 & PT_PERM_R))
		return false;
	*prot = PT_PROT_READ | ((s1 & s2 & PT_PERM_W) ? PT_PROT_WRITE : 0);
	return true;
}

static uint64_t hpa_of(const struct fx *f, uint64_t gpa)
{
	return (uint64_t)(uintptr_t)f->ram + gpa;
}

/* The parent maps guest RAM with leaves of @s2_leaf bytes. */
static struct fx *fx_new(uint64_t s2_leaf)
{
	struct pt_cfg fc = { .fmt = PT_FMT_X86_64,
			     .granule_shift = 12,
			     .ias = 48,
			     .oas = 48,
			     .start_level = -1 };
	struct pt_cfg sc = fc;
	struct shadow_cfg cfg;
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(posix_memalign((void **)&f->ram, 2 * MB, GRAM), 0);
	memset(f->ram, 0, GRAM);
	sc.fmt = PT_FMT_VTD_SS;
	assert_int_equal(pt_init(&f->ss, &sc, (struct pt_mem){ 0 }), 0);
	assert_int_equal(pt_map(&f->ss, 0, hpa_of(f, 0), GRAM, RW, s2_leaf), 0);
	assert_int_equal(pt_init(&f->fs, &fc, (struct pt_mem){ &g_ops, f }), 0);
	cfg = (struct shadow_cfg){
		.s1 = fc,
		.s1_root = f->fs.root,
		.sh = fc,
		.s2 = &f->ss,
		.s2_bits = 48,
		.compose = compose,
	};
	cfg.sh.pgsize_bitmap = PAGE | (2 * MB) | (1ull << 30);
	assert_int_equal(shadow_init(&f->sh, &cfg), 0);
	return f;
}

static void fx_free(struct fx *f)
{
	shadow_fini(&f->sh);
	pt_destroy(&f->fs);
	pt_destroy(&f->ss);
	free(f->ram);
	free(f);
}

static void gmap(struct fx *f, uint64_t iova, uint64_t gpa, uint64_t len,
		 uint32_t prot, uint64_t leaf)
{
	assert_int_equal(pt_map(&f->fs, iova, gpa, len, prot, leaf), 0);
}

static void gunmap(struct fx *f, uint64_t iova, uint64_t len)
{
	uint64_t n = 0;

	assert_int_equal(pt_unmap(&f->fs, iova, len, 0, NULL, &n), 0);
}

static void sync(struct fx *f, uint64_t start, uint64_t last)
{
	uint64_t is, il;

	assert_int_equal(shadow_sync(&f->sh, start, last, &is, &il), 0);
	/* Either the range is reported or (a one-page sync that found the
	 * page as it was) nothing changed. */
	if (is > il) {
		assert_int_equal(is, UINT64_MAX);
		assert_int_equal(il, 0);
	} else {
		assert_true(is <= start && (il >= last || last == UINT64_MAX));
		assert_int_equal(is % PAGE, 0);
		assert_int_equal((il + 1) % PAGE, 0);
	}
	shadow_free_tables(&f->sh, shadow_take_tables(&f->sh));
}

/* What a driver does around a parent unmap of [gpa, gpa + len). */
static void punmap(struct fx *f, uint64_t gpa, uint64_t len)
{
	uint64_t is = UINT64_MAX, il = 0, n = 0;

	shadow_drop_parent(&f->sh, gpa, gpa + len - 1, &is, &il);
	assert_int_equal(pt_unmap(&f->ss, gpa, len, PT_UNMAP_SPLIT, NULL, &n),
			 0);
	shadow_free_tables(&f->sh, shadow_take_tables(&f->sh));
}

/* Reference: the composed translation of @iova now (false: none). */
static bool ref(struct fx *f, uint64_t iova, uint64_t *hpa, uint32_t *prot)
{
	struct shadow_walk w;
	struct pt_walk a = { 0 }, b = { 0 };

	shadow_walk_init(&w, &f->sh, 0);
	if (pt_walk(&w.s1, iova, 0, &a))
		return false;
	if (pt_walk(&f->ss, a.oa, 0, &b))
		return false;
	if (!compose(&f->sh, a.perm, b.perm, prot))
		return false;
	*hpa = b.oa;
	return true;
}

static bool present(struct fx *f, uint64_t iova)
{
	struct pt_walk w = { 0 };

	return !pt_walk(&f->sh.sh, iova, 0, &w);
}

/*
 * Every shadow entry in [lo, hi) is the reference's; with @full every
 * page the reference composes is present. Returns the present pages.
 */
static uint64_t check(struct fx *f, uint64_t lo, uint64_t hi, bool full)
{
	uint64_t n = 0;

	for (uint64_t iova = lo; iova < hi; iova += PAGE) {
		struct pt_walk w = { 0 };
		uint64_t hpa;
		uint32_t prot;
		bool r = ref(f, iova, &hpa, &prot);

		if (pt_walk(&f->sh.sh, iova, 0, &w)) {
			if (full && r)
				fail_msg("iova %#llx missing",
					 (unsigned long long)iova);
			continue;
		}
		n++;
		if (!r)
			fail_msg("iova %#llx: stale shadow entry",
				 (unsigned long long)iova);
		assert_int_equal(w.oa, hpa);
		assert_int_equal(!!(w.perm & PT_PERM_W),
				 !!(prot & PT_PROT_WRITE));
	}
	return n;
}

static size_t runs(struct fx *f)
{
	return f->sh.runs.count;
}

/* A contiguous mapping is one run; resyncing pages keeps it one run. */
static void test_contiguous_one_run(void **state)
{
	struct fx *f = fx_new(PAGE);

	(void)state;
	gmap(f, 0, 0, 1024 * PAGE, RW, PAGE);
	sync(f, 0, UINT64_MAX);
	assert_int_equal(check(f, 0, 1100 * PAGE, true), 1024);
	assert_int_equal(runs(f), 1);
	for (uint64_t i = 0; i < 1024; i += 37)
		sync(f, i * PAGE, i * PAGE + PAGE - 1);
	sync(f, 100 * PAGE, 700 * PAGE - 1);
	assert_int_equal(runs(f), 1);
	assert_int_equal(check(f, 0, 1100 * PAGE, true), 1024);
	fx_free(f);
}

/* The guest moves one page to another GPA and back. */
static void test_remap(void **state)
{
	struct fx *f = fx_new(PAGE);

	(void)state;
	gmap(f, 0, 0, 64 * PAGE, RW, PAGE);
	sync(f, 0, UINT64_MAX);
	gunmap(f, 5 * PAGE, PAGE);
	gmap(f, 5 * PAGE, 200 * PAGE, PAGE, RW, PAGE);
	/* Bounds inside the page: the whole page is resynced. */
	sync(f, 5 * PAGE + 8, 5 * PAGE + 15);
	assert_int_equal(runs(f), 3);
	assert_int_equal(check(f, 0, 64 * PAGE, true), 64);
	/* The old GPA is no longer used: nothing to drop. */
	punmap(f, 5 * PAGE, PAGE);
	assert_int_equal(check(f, 0, 64 * PAGE, true), 64);
	/* The new one is. */
	punmap(f, 200 * PAGE, PAGE);
	assert_false(present(f, 5 * PAGE));
	assert_int_equal(check(f, 0, 64 * PAGE, true), 63);
	/* Back where it was (the parent maps it again). */
	assert_int_equal(pt_map(&f->ss, 5 * PAGE, hpa_of(f, 5 * PAGE), PAGE, RW,
				PAGE),
			 0);
	gunmap(f, 5 * PAGE, PAGE);
	gmap(f, 5 * PAGE, 5 * PAGE, PAGE, RW, PAGE);
	sync(f, 5 * PAGE, 6 * PAGE - 1);
	assert_int_equal(runs(f), 1);
	assert_int_equal(check(f, 0, 64 * PAGE, true), 64);
	fx_free(f);
}

/* Parent unmaps of a run's start, middle and end. */
static void test_parent_unmap_parts(void **state)
{
	struct fx *f = fx_new(PAGE);

	(void)state;
	gmap(f, 1 * MB, 0, 256 * PAGE, RW, PAGE);
	sync(f, 0, UINT64_MAX);
	punmap(f, 0, 10 * PAGE);
	assert_int_equal(runs(f), 1);
	assert_false(present(f, 1 * MB + 9 * PAGE));
	assert_true(present(f, 1 * MB + 10 * PAGE));
	assert_int_equal(check(f, 1 * MB, 2 * MB, true), 246);
	punmap(f, 100 * PAGE, 10 * PAGE);
	assert_int_equal(runs(f), 2);
	assert_true(present(f, 1 * MB + 99 * PAGE));
	assert_false(present(f, 1 * MB + 100 * PAGE));
	assert_false(present(f, 1 * MB + 109 * PAGE));
	assert_true(present(f, 1 * MB + 110 * PAGE));
	assert_int_equal(check(f, 1 * MB, 2 * MB, true), 236);
	punmap(f, 250 * PAGE, 100 * PAGE);
	assert_int_equal(check(f, 1 * MB, 2 * MB, true), 230);
	/* A range beyond every run drops nothing. */
	punmap(f, 8 * MB, PAGE);
	assert_int_equal(check(f, 1 * MB, 2 * MB, true), 230);
	assert_int_equal(runs(f), 2);
	fx_free(f);
}

/* A parent unmap of a guest leaf table drops what was composed through
 * it, and nothing else. */
static void test_parent_unmap_table(void **state)
{
	struct fx *f = fx_new(PAGE);
	struct shadow_walk w;
	struct pt_walk_level rec[PT_MAX_LEVELS];
	struct pt_walk pw = { .rec = rec };

	(void)state;
	gmap(f, 0, 0, 1024 * PAGE, RW, PAGE);
	sync(f, 0, UINT64_MAX);
	shadow_walk_init(&w, &f->sh, 0);
	assert_int_equal(pt_walk(&w.s1, 600 * PAGE, 0, &pw), 0);
	assert_int_equal(pw.nrec, 4);
	punmap(f, rec[3].table, PAGE);
	/* What came before the table in the sync stays (what came after
	 * it may go too: the table's IOVA hull ends where the sync did). */
	assert_int_equal(check(f, 0, 1024 * PAGE, false), 512);
	assert_true(present(f, 511 * PAGE));
	assert_false(present(f, 512 * PAGE));
	assert_false(present(f, 1023 * PAGE));
	/* A resync of the guest's range composes nothing through it. */
	sync(f, 0, 1024 * PAGE - 1);
	assert_int_equal(check(f, 0, 1024 * PAGE, true), 512);
	/* The root table: everything. */
	punmap(f, f->fs.root, PAGE);
	assert_int_equal(check(f, 0, 1024 * PAGE, true), 0);
	fx_free(f);
}

/* No two pages contiguous: one run per page, each dropped alone. */
static void test_fragmented(void **state)
{
	struct fx *f = fx_new(PAGE);
	uint64_t n = 512;

	(void)state;
	for (uint64_t i = 0; i < n; i++)
		gmap(f, i * PAGE, (i * 37 % n) * PAGE, PAGE, RW, PAGE);
	sync(f, 0, UINT64_MAX);
	assert_int_equal(runs(f), n);
	assert_int_equal(check(f, 0, n * PAGE, true), n);
	/* GPA page 37 is IOVA page 1. */
	punmap(f, 37 * PAGE, PAGE);
	assert_false(present(f, PAGE));
	assert_int_equal(check(f, 0, n * PAGE, true), n - 1);
	assert_int_equal(runs(f), n - 1);
	/* Every other GPA page. */
	for (uint64_t g = 0; g < n; g += 2)
		punmap(f, g * PAGE, PAGE);
	assert_int_equal(check(f, 0, n * PAGE, true), n / 2 - 1);
	fx_free(f);
}

/* One GPA at two IOVAs: a parent unmap drops both. */
static void test_alias(void **state)
{
	struct fx *f = fx_new(PAGE);

	(void)state;
	gmap(f, 0, 0, 32 * PAGE, RW, PAGE);
	gmap(f, 1 * MB, 16 * PAGE, 32 * PAGE, PT_PROT_READ, PAGE);
	gmap(f, 2 * MB, 20 * PAGE, 4 * PAGE, RW, PAGE);
	sync(f, 0, UINT64_MAX);
	assert_int_equal(runs(f), 3);
	assert_int_equal(check(f, 0, 3 * MB, true), 68);
	punmap(f, 21 * PAGE, PAGE);
	assert_false(present(f, 21 * PAGE));
	assert_false(present(f, 1 * MB + 5 * PAGE));
	assert_false(present(f, 2 * MB + PAGE));
	assert_int_equal(check(f, 0, 3 * MB, true), 65);
	/* Resync of the aliased range: still found. */
	sync(f, 1 * MB, 1 * MB + 32 * PAGE - 1);
	punmap(f, 40 * PAGE, PAGE);
	assert_false(present(f, 1 * MB + 24 * PAGE));
	assert_int_equal(check(f, 0, 3 * MB, true), 64);
	fx_free(f);
}

/* A range across leaf tables, synced in pieces that end mid-table. */
static void test_range_across_tables(void **state)
{
	struct fx *f = fx_new(PAGE);

	(void)state;
	gmap(f, 0, 0, 2048 * PAGE, RW, PAGE);
	sync(f, 510 * PAGE, 1030 * PAGE - 1);
	assert_int_equal(check(f, 0, 2048 * PAGE, false), 520);
	assert_int_equal(check(f, 510 * PAGE, 1030 * PAGE, true), 520);
	sync(f, 0, 2048 * PAGE - 1);
	assert_int_equal(check(f, 0, 2048 * PAGE, true), 2048);
	assert_int_equal(runs(f), 1);
	/* The guest unmaps across a table boundary. */
	gunmap(f, 500 * PAGE, 100 * PAGE);
	sync(f, 500 * PAGE, 600 * PAGE - 1);
	assert_int_equal(runs(f), 2);
	assert_int_equal(check(f, 0, 2048 * PAGE, true), 1948);
	fx_free(f);
}

/* 2M leaves in both stages give 2M shadow leaves; a parent unmap of a
 * page inside drops the leaf, a resync composes the rest in 4K. */
static void test_2m_leaves(void **state)
{
	struct fx *f = fx_new(2 * MB);
	struct pt_walk w = { 0 };
	uint64_t same;

	(void)state;
	gmap(f, 4 * MB, 2 * MB, 4 * MB, RW, 2 * MB);
	sync(f, 0, UINT64_MAX);
	assert_int_equal(pt_walk(&f->sh.sh, 5 * MB, 0, &w), 0);
	assert_int_equal(w.leaf_shift, 21);
	assert_int_equal(check(f, 4 * MB, 8 * MB, true), 1024);
	punmap(f, 3 * MB, PAGE);
	assert_false(present(f, 4 * MB));
	assert_false(present(f, 6 * MB - PAGE));
	assert_true(present(f, 6 * MB));
	/* Leaf granularity: the rest of the leaf waits for a resync. */
	assert_int_equal(check(f, 4 * MB, 8 * MB, false), 512);
	sync(f, 4 * MB, 6 * MB - 1);
	assert_int_equal(check(f, 4 * MB, 8 * MB, true), 1023);
	assert_int_equal(runs(f), 2);
	/* A one-page sync inside a 2M shadow leaf resyncs the leaf. */
	same = f->sh.syncs_same;
	sync(f, 7 * MB, 7 * MB + PAGE - 1);
	assert_int_equal(f->sh.syncs_same, same);
	assert_int_equal(check(f, 4 * MB, 8 * MB, true), 1023);
	fx_free(f);
}

/* One-page sync of @iova: whether it found nothing changed (is > il). */
static bool sync_page_same(struct fx *f, uint64_t iova)
{
	uint64_t is, il, same = f->sh.syncs_same;

	assert_int_equal(shadow_sync(&f->sh, iova + 5, iova + 9, &is, &il), 0);
	shadow_free_tables(&f->sh, shadow_take_tables(&f->sh));
	if (f->sh.syncs_same != same) {
		assert_int_equal(f->sh.syncs_same, same + 1);
		assert_true(is > il);
		return true;
	}
	assert_true(is <= iova && il >= iova + PAGE - 1);
	return false;
}

/* The one-page resync of a page the guest did not change does nothing;
 * a change rewrites the page. */
static void test_one_page_same(void **state)
{
	struct fx *f = fx_new(PAGE);
	uint64_t n = 0;

	(void)state;
	gmap(f, 0, 0, 16 * PAGE, RW, PAGE);
	sync(f, 0, UINT64_MAX);
	/* Unchanged: nothing to do, the shadow is as it was. */
	assert_true(sync_page_same(f, 3 * PAGE));
	assert_true(sync_page_same(f, 3 * PAGE));
	assert_int_equal(check(f, 0, 16 * PAGE, true), 16);
	assert_int_equal(runs(f), 1);
	/* Another GPA. */
	gunmap(f, 3 * PAGE, PAGE);
	gmap(f, 3 * PAGE, 100 * PAGE, PAGE, RW, PAGE);
	assert_false(sync_page_same(f, 3 * PAGE));
	assert_int_equal(check(f, 0, 16 * PAGE, true), 16);
	assert_true(sync_page_same(f, 3 * PAGE));
	/* Other permissions (then a prot seen the first time is learned
	 * from the full sync's map). */
	gunmap(f, 4 * PAGE, PAGE);
	gmap(f, 4 * PAGE, 4 * PAGE, PAGE, PT_PROT_READ, PAGE);
	assert_false(sync_page_same(f, 4 * PAGE));
	assert_int_equal(check(f, 0, 16 * PAGE, true), 16);
	assert_true(sync_page_same(f, 4 * PAGE));
	gunmap(f, 4 * PAGE, PAGE);
	gmap(f, 4 * PAGE, 4 * PAGE, PAGE, RW, PAGE);
	assert_false(sync_page_same(f, 4 * PAGE));
	assert_int_equal(check(f, 0, 16 * PAGE, true), 16);
	/* Now unmapped by the guest. */
	gunmap(f, 5 * PAGE, PAGE);
	assert_false(sync_page_same(f, 5 * PAGE));
	assert_false(present(f, 5 * PAGE));
	assert_int_equal(check(f, 0, 16 * PAGE, true), 15);
	/* Unmapped in both: nothing to do. */
	assert_true(sync_page_same(f, 5 * PAGE));
	/* A parent mapping that aliases page 6's host page at another GPA:
	 * the guest moving page 6 there leaves the shadow leaf as it was,
	 * but the reverse map must follow the GPA. */
	assert_int_equal(
		pt_map(&f->ss, GRAM, hpa_of(f, 6 * PAGE), PAGE, RW, PAGE), 0);
	gunmap(f, 6 * PAGE, PAGE);
	gmap(f, 6 * PAGE, GRAM, PAGE, RW, PAGE);
	assert_false(sync_page_same(f, 6 * PAGE));
	assert_true(sync_page_same(f, 6 * PAGE));
	punmap(f, 6 * PAGE, PAGE);
	assert_true(present(f, 6 * PAGE));
	punmap(f, GRAM, PAGE);
	assert_false(present(f, 6 * PAGE));
	assert_int_equal(pt_unmap(&f->fs, 6 * PAGE, PAGE, 0, NULL, &n), 0);
	assert_int_equal(check(f, 0, 16 * PAGE, true), 14);
	fx_free(f);
}

/* The guest moves the leaf table of resynced pages: the one-page sync
 * (which reuses the last walk's path) reads and records the new one. */
static void test_one_page_table_moved(void **state)
{
	struct fx *f = fx_new(PAGE);
	struct pt_walk_level rec[PT_MAX_LEVELS];
	struct pt_walk w = { .rec = rec };
	const struct pt_walk_level *up;
	uint64_t old, nt, *pd;

	(void)state;
	gmap(f, 0, 0, 16 * PAGE, RW, PAGE);
	sync(f, 0, UINT64_MAX);
	assert_true(sync_page_same(f, 3 * PAGE));
	assert_true(sync_page_same(f, 4 * PAGE));
	/* A copy of the leaf table at another GPA, linked in its place. */
	assert_int_equal(pt_walk(&f->fs, 4 * PAGE, 0, &w), 0);
	assert_true(w.nrec >= 2);
	old = rec[w.nrec - 1].table;
	up = &rec[w.nrec - 2];
	nt = TBL + f->used;
	f->used += PAGE;
	memcpy(f->ram + nt, f->ram + old, PAGE);
	pd = (uint64_t *)(void *)(f->ram + up->table + 8ull * up->index);
	assert_int_equal(*pd, up->desc);
	*pd = up->desc - old + nt;
	/* Same translation: nothing to do, but the new table is recorded. */
	assert_true(sync_page_same(f, 5 * PAGE));
	punmap(f, nt, PAGE);
	assert_false(present(f, 5 * PAGE));
	fx_free(f);
}

/* A changed page is rewritten in place: its shadow table stays, an
 * unmapped page keeps its claim, a new GPA takes the claim over. */
static void test_one_page_in_place(void **state)
{
	struct fx *f = fx_new(PAGE);
	size_t tb;

	(void)state;
	gmap(f, 0, 0, 16 * PAGE, RW, PAGE);
	sync(f, 0, UINT64_MAX);
	tb = shadow_table_bytes(&f->sh);
	gunmap(f, 3 * PAGE, PAGE);
	assert_false(sync_page_same(f, 3 * PAGE));
	assert_false(present(f, 3 * PAGE));
	assert_int_equal(shadow_table_bytes(&f->sh), tb);
	assert_int_equal(runs(f), 1);
	assert_int_equal(check(f, 0, 16 * PAGE, true), 15);
	/* Mapped again from the same GPA, then read-only. */
	gmap(f, 3 * PAGE, 3 * PAGE, PAGE, RW, PAGE);
	assert_false(sync_page_same(f, 3 * PAGE));
	assert_int_equal(check(f, 0, 16 * PAGE, true), 16);
	gunmap(f, 3 * PAGE, PAGE);
	gmap(f, 3 * PAGE, 3 * PAGE, PAGE, PT_PROT_READ, PAGE);
	assert_false(sync_page_same(f, 3 * PAGE));
	assert_int_equal(check(f, 0, 16 * PAGE, true), 16);
	assert_int_equal(runs(f), 1);
	/* Another GPA: the claim moves with the page. */
	gunmap(f, 3 * PAGE, PAGE);
	gmap(f, 3 * PAGE, 100 * PAGE, PAGE, RW, PAGE);
	assert_false(sync_page_same(f, 3 * PAGE));
	assert_int_equal(runs(f), 3);
	punmap(f, 3 * PAGE, PAGE);
	assert_true(present(f, 3 * PAGE));
	punmap(f, 100 * PAGE, PAGE);
	assert_false(present(f, 3 * PAGE));
	assert_int_equal(check(f, 0, 16 * PAGE, true), 15);
	/* Every page unmapped one at a time: the table stays until a
	 * range sync covers it. */
	gunmap(f, 0, 16 * PAGE);
	for (uint64_t i = 0; i < 16; i++)
		sync(f, i * PAGE, i * PAGE + PAGE - 1);
	assert_int_equal(check(f, 0, 16 * PAGE, false), 0);
	assert_int_equal(shadow_table_bytes(&f->sh), tb);
	sync(f, 0, 2 * MB - 1);
	assert_true(shadow_table_bytes(&f->sh) < tb);
	/* A page where the shadow has no table yet. */
	gmap(f, 1ull << 30, 5 * PAGE, PAGE, RW, PAGE);
	assert_false(sync_page_same(f, 1ull << 30));
	assert_true(present(f, 1ull << 30));
	assert_int_equal(check(f, 1ull << 30, (1ull << 30) + PAGE, true), 1);
	fx_free(f);
}

/* A fill (the guest mapped without invalidating) of a page whose entry a
 * one-page sync removed takes over the claim that sync left. */
static void test_fill_after_page_unmap(void **state)
{
	struct fx *f = fx_new(PAGE);

	(void)state;
	gmap(f, 0, 0, 16 * PAGE, RW, PAGE);
	sync(f, 0, UINT64_MAX);
	gunmap(f, 3 * PAGE, PAGE);
	assert_false(sync_page_same(f, 3 * PAGE));
	gmap(f, 3 * PAGE, 200 * PAGE, PAGE, RW, PAGE);
	assert_int_equal(shadow_fill(&f->sh, 3 * PAGE, hpa_of(f, 200 * PAGE),
				     12, RW),
			 0);
	assert_int_equal(check(f, 0, 16 * PAGE, true), 16);
	/* The claim is the new GPA's. */
	punmap(f, 3 * PAGE, PAGE);
	assert_true(present(f, 3 * PAGE));
	punmap(f, 200 * PAGE, PAGE);
	assert_false(present(f, 3 * PAGE));
	/* A page with an entry from another GPA still waits for the
	 * guest's invalidation. */
	gunmap(f, 4 * PAGE, PAGE);
	gmap(f, 4 * PAGE, 300 * PAGE, PAGE, RW, PAGE);
	assert_int_equal(shadow_fill(&f->sh, 4 * PAGE, hpa_of(f, 300 * PAGE),
				     12, RW),
			 -EAGAIN);
	fx_free(f);
}

/* Random one-page changes (guest maps, unmaps, moves, permission
 * changes; parent unmaps and maps back), each followed by the one-page
 * sync the guest's invalidation makes: the shadow always matches. */
static void test_one_page_random(void **state)
{
	struct fx *f = fx_new(PAGE);
	unsigned seed = 12345;

	(void)state;
	gmap(f, 0, 0, 1024 * PAGE, RW, PAGE);
	sync(f, 0, UINT64_MAX);
	for (unsigned n = 0; n < 4000; n++) {
		uint64_t iova = (uint64_t)(rand_r(&seed) % 1024) * PAGE;
		uint64_t gpa = (uint64_t)(rand_r(&seed) % 2048) * PAGE;
		struct pt_walk w = { 0 };
		unsigned op = (unsigned)rand_r(&seed) % 8;

		if (op == 7) {
			/* The parent takes a page away, then maps it back. */
			punmap(f, gpa, PAGE);
			check(f, 0, 1024 * PAGE, false);
			assert_int_equal(pt_map(&f->ss, gpa, hpa_of(f, gpa),
						PAGE, RW, PAGE),
					 0);
			continue;
		}
		if (!pt_walk(&f->fs, iova, 0, &w))
			gunmap(f, iova, PAGE);
		if (op < 5)
			gmap(f, iova, gpa, PAGE, op < 3 ? RW : PT_PROT_READ,
			     PAGE);
		sync(f, iova, iova + PAGE - 1);
		/* The page synced is complete, the rest never stale. */
		check(f, iova, iova + PAGE, true);
		check(f, 0, 1024 * PAGE, false);
	}
	sync(f, 0, UINT64_MAX);
	check(f, 0, 1024 * PAGE, true);
	/* Everything the parent maps goes: nothing may stay. */
	punmap(f, 0, 16 * MB);
	assert_int_equal(check(f, 0, 1024 * PAGE, false), 0);
	fx_free(f);
}

/* Permissions that change along a contiguous run: several composed
 * runs, one reverse-map run. */
static void test_mixed_perms(void **state)
{
	struct fx *f = fx_new(PAGE);

	(void)state;
	for (uint64_t i = 0; i < 64; i++)
		gmap(f, i * PAGE, i * PAGE, PAGE,
		     (i / 3) % 2 ? PT_PROT_READ : RW, PAGE);
	sync(f, 0, UINT64_MAX);
	assert_int_equal(check(f, 0, 64 * PAGE, true), 64);
	assert_int_equal(runs(f), 1);
	/* The parent makes some pages read-only, others unreadable. */
	punmap(f, 10 * PAGE, 4 * PAGE);
	assert_int_equal(pt_map(&f->ss, 10 * PAGE, hpa_of(f, 10 * PAGE),
				2 * PAGE, PT_PROT_READ, PAGE),
			 0);
	assert_int_equal(pt_map(&f->ss, 12 * PAGE, hpa_of(f, 12 * PAGE),
				2 * PAGE, PT_PROT_WRITE, PAGE),
			 0);
	sync(f, 0, 64 * PAGE - 1);
	assert_int_equal(check(f, 0, 64 * PAGE, true), 62);
	assert_int_equal(runs(f), 2);
	fx_free(f);
}

/* Fills: recorded (a parent unmap finds them), refused when the guest's
 * tables no longer lead to the given address. */
static void test_fill(void **state)
{
	struct fx *f = fx_new(PAGE);

	(void)state;
	gmap(f, 0, 0, 16 * PAGE, RW, PAGE);
	sync(f, 0, UINT64_MAX);
	/* Mapped without invalidation: the fault path fills it. */
	gmap(f, 1 * MB, 100 * PAGE, PAGE, RW, PAGE);
	assert_false(present(f, 1 * MB));
	assert_int_equal(shadow_fill(&f->sh, 1 * MB + 8,
				     hpa_of(f, 100 * PAGE) + 8, 12, RW),
			 0);
	assert_int_equal(check(f, 0, 2 * MB, true), 17);
	assert_int_equal(shadow_fill(&f->sh, 2 * MB, hpa_of(f, 0), 12, RW),
			 -EAGAIN);
	assert_int_equal(shadow_fill(&f->sh, 1 * MB, hpa_of(f, 101 * PAGE), 12,
				     RW),
			 -EAGAIN);
	/* Refilling an existing entry replaces it. */
	assert_int_equal(
		shadow_fill(&f->sh, 3 * PAGE, hpa_of(f, 3 * PAGE), 12, RW), 0);
	assert_int_equal(check(f, 0, 16 * PAGE, false), 16);
	/* The guest moves a page without invalidating: the old entry stays
	 * (it may be cached) until the sync the guest owes. */
	gunmap(f, 4 * PAGE, PAGE);
	gmap(f, 4 * PAGE, 150 * PAGE, PAGE, RW, PAGE);
	assert_int_equal(shadow_fill(&f->sh, 4 * PAGE, hpa_of(f, 150 * PAGE),
				     12, RW),
			 -EAGAIN);
	assert_true(present(f, 4 * PAGE));
	punmap(f, 4 * PAGE, PAGE);
	assert_false(present(f, 4 * PAGE));
	assert_int_equal(pt_map(&f->ss, 4 * PAGE, hpa_of(f, 4 * PAGE), PAGE, RW,
				PAGE),
			 0);
	sync(f, 4 * PAGE, 5 * PAGE - 1);
	assert_true(present(f, 4 * PAGE));
	punmap(f, 100 * PAGE, PAGE);
	assert_false(present(f, 1 * MB));
	punmap(f, 3 * PAGE, PAGE);
	assert_false(present(f, 3 * PAGE));
	assert_int_equal(check(f, 0, 2 * MB, true), 15);
	/* A fill through a table page the parent then unmaps. */
	gmap(f, 8 * MB, 200 * PAGE, PAGE, RW, PAGE);
	assert_int_equal(
		shadow_fill(&f->sh, 8 * MB, hpa_of(f, 200 * PAGE), 12, RW), 0);
	{
		struct shadow_walk w;
		struct pt_walk_level rec[PT_MAX_LEVELS];
		struct pt_walk pw = { .rec = rec };

		shadow_walk_init(&w, &f->sh, 0);
		assert_int_equal(pt_walk(&w.s1, 8 * MB, 0, &pw), 0);
		punmap(f, rec[3].table, PAGE);
	}
	assert_false(present(f, 8 * MB));
	check(f, 0, 16 * MB, false);
	fx_free(f);
}

/* Every allocation failing in turn: the shadow never holds an entry the
 * reverse maps do not know (checked by dropping all of the parent). */
static void test_alloc_failures(void **state)
{
	(void)state;
	for (unsigned long nth = 1;; nth++) {
		struct fx *f = fx_new(PAGE);
		unsigned long seen;

		gmap(f, 0, 0, 64 * PAGE, RW, PAGE);
		gmap(f, 1 * MB, 200 * PAGE, 64 * PAGE, RW, PAGE);
		sync(f, 0, UINT64_MAX);
		gunmap(f, 5 * PAGE, PAGE);
		gmap(f, 5 * PAGE, 300 * PAGE, PAGE, RW, PAGE);
		fault_inject_nth(nth);
		sync(f, 5 * PAGE, 6 * PAGE - 1);
		sync(f, 1 * MB + 7 * PAGE, 1 * MB + 8 * PAGE - 1);
		(void)shadow_fill(&f->sh, 1 * MB + 9 * PAGE,
				  hpa_of(f, 209 * PAGE), 12, RW);
		punmap(f, 30 * PAGE, PAGE);
		seen = fault_inject_nth(0);
		check(f, 0, 2 * MB, false);
		punmap(f, 0, 8 * MB);
		assert_int_equal(check(f, 0, 2 * MB, false), 0);
		fx_free(f);
		if (seen < nth)
			break;
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_contiguous_one_run),
		cmocka_unit_test(test_remap),
		cmocka_unit_test(test_parent_unmap_parts),
		cmocka_unit_test(test_parent_unmap_table),
		cmocka_unit_test(test_fragmented),
		cmocka_unit_test(test_alias),
		cmocka_unit_test(test_range_across_tables),
		cmocka_unit_test(test_2m_leaves),
		cmocka_unit_test(test_one_page_same),
		cmocka_unit_test(test_one_page_table_moved),
		cmocka_unit_test(test_one_page_in_place),
		cmocka_unit_test(test_fill_after_page_unmap),
		cmocka_unit_test(test_one_page_random),
		cmocka_unit_test(test_mixed_perms),
		cmocka_unit_test(test_fill),
		cmocka_unit_test(test_alloc_failures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
