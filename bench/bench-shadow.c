// SPDX-License-Identifier: MIT
/*
 * Software nesting (lib/drivers/shadow.c) against plain baselines in the
 * same run:
 *   - Shadow update of one invalidated page that changed (the guest
 *     unmapped or mapped it), tables hot (a 4-level x86
 *     guest stage 1 over a 4-level VT-d second stage, 4K leaves), against
 *     the naive 24-read 2-D walk. Target <= 1.5x. Beside it, without a
 *     target, a page synced again unchanged (nothing to write).
 *   - Shadow update of a range of N contiguous pages: the cost per page
 *     (slope between two range sizes) against one hash-lookup hit, and the
 *     fixed cost per range. Target <= 1x per page.
 *   - Memory: stage 2 + shadow + the reverse maps per mapped 4K page over
 *     1 GiB mapped contiguously, against the radix minimum of 8 bytes
 *     (target <= 2.05x, 16.4 B) and against two minimal 4-level trees of
 *     the same mappings; and the worst case, 64 MiB mapped with no two
 *     pages contiguous (one reverse-map run per page), without a target.
 *   - DMA with an IOTLB miss per page through a whole machine (VT-d,
 *     iommufd, a nested HWPT) in hw and shadow modes: ns per access and
 *     table reads per miss from the model's counters.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ionest/hw.h>
#include <ionest/ionest.h>
#include <ionest/uapi/iommufd.h>
#include <ionest/uapi/vfio.h>

#include "bench.h"
#include "drivers/shadow.h"
#include "pt/pt.h"

#define PAGE 4096ull
#define HOT 512u /* pages of the hot single-page updates */
#define UPD_PAGES 16384u /* pages mapped for the update measurements */
/*
 * The memory measurement maps 1 GiB: the upper levels of a 4-level tree
 * then cost 1/512 + 1/512^2 + ... of the leaf level (0.016 B per page),
 * so the result is the per-page cost. At 64 MiB they added 1.5 B per page
 * over the two trees (two 4K tables per 512 leaf tables and the roots).
 */
#define MEM_PAGES 262144u
#define FRAG_PAGES 16384u /* the fragmented worst case (64 MiB) */
/* Guest data pages are never read by the engine: the parent maps them to
 * host addresses nothing backs. Only the guest's tables are memory. */
#define DATA_HPA 0x100000000000ull

static void check(int rc, const char *what)
{
	if (rc) {
		fprintf(stderr, "bench-shadow: %s: %d\n", what, rc);
		exit(1);
	}
}

static void *zalloc(size_t align, size_t size)
{
	void *p = NULL;

	if (posix_memalign(&p, align, size))
		check(-ENOMEM, "posix_memalign");
	memset(p, 0, size);
	return p;
}

/* ---- the engine alone: a guest over a parent ---- */

/* Guest RAM: data pages [0, pages * 4K), the stage-1 tables after them
 * at tbl (backed by host memory). */
struct guest {
	uint8_t *host;
	uint64_t tbl, tsize, used;
};

static void *g_table(void *ctx, uint64_t gpa, size_t size, bool write)
{
	struct guest *g = ctx;

	(void)write;
	if (gpa < g->tbl || gpa - g->tbl + size > g->tsize)
		return NULL;
	return g->host + (gpa - g->tbl);
}

static int g_alloc(void *ctx, size_t size, uint64_t *gpa)
{
	struct guest *g = ctx;

	*gpa = g->tbl + g->used;
	g->used += size;
	return g->used <= g->tsize ? 0 : -ENOMEM;
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

struct env {
	struct guest g;
	struct pt ss, fs;
	struct shadow sh;
	uint64_t pages;
	size_t ss_bytes; /* the parent's tables for the data pages */
};

/* @frag: IOVA page i -> GPA page i * 7919 mod pages, no two neighbours
 * contiguous (else i -> i). */
static void env_init(struct env *e, uint64_t pages, bool frag)
{
	struct pt_cfg fc = { .fmt = PT_FMT_X86_64,
			     .granule_shift = 12,
			     .ias = 48,
			     .oas = 48,
			     .start_level = -1 };
	struct pt_cfg sc = fc;
	struct shadow_cfg cfg;
	size_t before, after, total;
	uint64_t i;

	memset(e, 0, sizeof(*e));
	e->pages = pages;
	e->g.tbl = (pages * PAGE + (2ull << 20) - 1) & ~((2ull << 20) - 1);
	e->g.tsize = (pages / 512 + 16) * PAGE;
	e->g.host = zalloc(PAGE, e->g.tsize);
	sc.fmt = PT_FMT_VTD_SS;
	pt_pool_usage(&before, &total);
	check(pt_init(&e->ss, &sc, (struct pt_mem){ 0 }), "pt_init ss");
	/* The parent maps guest RAM with 4K leaves. */
	check(pt_map(&e->ss, 0, DATA_HPA, pages * PAGE,
		     PT_PROT_READ | PT_PROT_WRITE, PAGE),
	      "map ss");
	pt_pool_usage(&after, &total);
	e->ss_bytes = after - before;
	check(pt_map(&e->ss, e->g.tbl, (uint64_t)(uintptr_t)e->g.host,
		     e->g.tsize, PT_PROT_READ | PT_PROT_WRITE, PAGE),
	      "map ss tables");
	check(pt_init(&e->fs, &fc, (struct pt_mem){ &g_ops, &e->g }),
	      "pt_init fs");
	if (!frag)
		check(pt_map(&e->fs, 0, 0, pages * PAGE,
			     PT_PROT_READ | PT_PROT_WRITE, PAGE),
		      "map fs");
	for (i = 0; frag && i < pages; i++)
		check(pt_map(&e->fs, i * PAGE, (i * 7919 % pages) * PAGE, PAGE,
			     PT_PROT_READ | PT_PROT_WRITE, PAGE),
		      "map fs");
	cfg = (struct shadow_cfg){
		.s1 = fc,
		.s1_root = e->fs.root,
		.sh = fc,
		.s2 = &e->ss,
		.s2_bits = 48,
		.compose = compose,
	};
	cfg.sh.pgsize_bitmap = PAGE | (1ull << 21) | (1ull << 30);
	check(shadow_init(&e->sh, &cfg), "shadow_init");
}

static void env_fini(struct env *e)
{
	shadow_fini(&e->sh);
	pt_destroy(&e->fs);
	pt_destroy(&e->ss);
	free(e->g.host);
}

/* Bytes of a minimal 4-level tree of 4K leaves mapping @pages pages. */
static double tree_bytes(uint64_t pages)
{
	uint64_t t = 0, n = pages;

	for (int l = 0; l < 4; l++) {
		n = (n + 511) / 512;
		t += n;
	}
	return (double)t * PAGE;
}

/* Everything composed: stage 2 + shadow + reverse map bytes per page. */
static double env_bytes_per_page(struct env *e, double *sh, double *rmap)
{
	uint64_t s, l;

	shadow_sync(&e->sh, 0, UINT64_MAX, &s, &l);
	shadow_free_tables(&e->sh, shadow_take_tables(&e->sh));
	bench_keep(s + l);
	*sh = (double)shadow_table_bytes(&e->sh) / (double)e->pages;
	*rmap = (double)shadow_rmap_bytes(&e->sh) / (double)e->pages;
	return (double)e->ss_bytes / (double)e->pages + *sh + *rmap;
}

struct upd {
	struct env *e;
	unsigned i;
	uint64_t npages;
	uint64_t *pte[HOT]; /* the hot pages' guest leaf entries */
	uint64_t saved[HOT]; /* their mapped value while cleared */
};

/* Where the guest's leaf entry of each hot page lives (host address). */
static void find_hot_ptes(struct upd *u)
{
	for (unsigned i = 0; i < HOT; i++) {
		struct pt_walk_level rec[PT_MAX_LEVELS];
		struct pt_walk w = { .rec = rec };
		uint64_t *pte = NULL;

		for (unsigned k = 0; k < PT_MAX_LEVELS; k++)
			rec[k].level = 0xff;
		check(pt_walk(&u->e->fs, (uint64_t)i * PAGE, 0, &w), "walk fs");
		for (unsigned k = 0; k < PT_MAX_LEVELS; k++) {
			if (rec[k].level == w.level)
				pte = g_table(&u->e->g,
					      rec[k].table + rec[k].index * 8u,
					      8, true);
		}
		if (!pte)
			check(-EFAULT, "hot leaf entry");
		u->pte[i] = pte;
	}
}

static void one_page_pass(void *ctx, uint64_t iters)
{
	struct upd *u = ctx;
	uint64_t s, l;

	for (uint64_t n = 0; n < iters; n++) {
		uint64_t iova = (uint64_t)(u->i++ % HOT) * PAGE;

		shadow_sync(&u->e->sh, iova, iova + PAGE - 1, &s, &l);
		/* What the driver does after its invalidation and wait. */
		shadow_free_tables(&u->e->sh, shadow_take_tables(&u->e->sh));
	}
	bench_keep(s + l);
}

/*
 * What a guest's invalidation of one page usually follows: the page
 * changed. Each visit of a hot page unmaps it (clears its leaf) or maps it
 * again (restores it), then syncs it: every sync removes or composes a
 * shadow entry. The guest's own store is one write per iteration.
 */
static void one_page_changed_pass(void *ctx, uint64_t iters)
{
	struct upd *u = ctx;
	uint64_t s, l;

	for (uint64_t n = 0; n < iters; n++) {
		unsigned i = u->i++ % HOT;
		uint64_t iova = (uint64_t)i * PAGE;

		if (*u->pte[i]) {
			u->saved[i] = *u->pte[i];
			__atomic_store_n(u->pte[i], 0, __ATOMIC_RELAXED);
		} else {
			__atomic_store_n(u->pte[i], u->saved[i],
					 __ATOMIC_RELAXED);
		}
		shadow_sync(&u->e->sh, iova, iova + PAGE - 1, &s, &l);
		shadow_free_tables(&u->e->sh, shadow_take_tables(&u->e->sh));
	}
	bench_keep(s + l);
}

static void range_pass(void *ctx, uint64_t iters)
{
	struct upd *u = ctx;
	uint64_t s, l;

	for (uint64_t n = 0; n < iters; n++) {
		shadow_sync(&u->e->sh, 0, u->npages * PAGE - 1, &s, &l);
		shadow_free_tables(&u->e->sh, shadow_take_tables(&u->e->sh));
	}
	bench_keep(s + l);
}

/* As many hash-lookup hits as a range pass has pages. */
static void hash_pages_pass(void *ctx, uint64_t iters)
{
	const struct upd *u = ctx;

	baseline_hash_hit_fn(NULL, iters * u->npages);
}

static void bench_engine(void)
{
	struct env e;
	struct upd u;
	uint64_t n1 = 64, n2 = 4096;
	double t1, w2d, r1, r2, h1, h2, hash, slope, fixed, per_page;
	double sh_pp, rmap_pp;
	uint64_t s1, l1;

	env_init(&e, UPD_PAGES, false);
	u = (struct upd){ .e = &e };
	one_page_pass(&u, 4 * HOT); /* warm */
	t1 = bench_run2(one_page_pass, &u, baseline_nested_walk_hot_fn, NULL,
			bench_quick() ? 20000 : 100000, &w2d);
	bench_report("shadow update, 1 page unchanged (re-invalidated)", t1,
		     "ns", "naive 2-D walk", w2d, 0, false);
	/* The target applies to a page that changed: an even number of
	 * passes leaves every hot page mapped again. */
	find_hot_ptes(&u);
	u.i = 0;
	one_page_changed_pass(&u, 4 * HOT);
	u.i = 0;
	t1 = bench_run2(one_page_changed_pass, &u, baseline_nested_walk_hot_fn,
			NULL, bench_quick() ? 20 * HOT : 100 * HOT, &w2d);
	bench_report("shadow update, 1 page changed, tables hot", t1, "ns",
		     "naive 2-D walk", w2d, 1.5, false);
	for (unsigned i = 0; i < HOT; i++) {
		if (!*u.pte[i])
			*u.pte[i] = u.saved[i];
	}
	shadow_sync(&e.sh, 0, HOT * PAGE - 1, &s1, &l1);
	shadow_free_tables(&e.sh, shadow_take_tables(&e.sh));

	/* Each range size interleaved with as many hash hits as it has
	 * pages, so both see the same load. */
	u.npages = n1;
	range_pass(&u, 4);
	r1 = bench_run2(range_pass, &u, hash_pages_pass, &u,
			bench_quick() ? 200 : 2000, &h1);
	u.npages = n2;
	range_pass(&u, 2);
	r2 = bench_run2(range_pass, &u, hash_pages_pass, &u,
			bench_quick() ? 10 : 50, &h2);
	hash = (h1 + h2) / (double)(n1 + n2);
	slope = (r2 - r1) / (double)(n2 - n1);
	fixed = r1 - slope * (double)n1;
	bench_report("shadow update, range: per page", slope, "ns",
		     "hash-lookup hit", hash, 1.0, false);
	bench_report("shadow update, range: fixed per range", fixed, "ns",
		     "naive 2-D walk", w2d, 0, false);

	env_fini(&e);

	/* Memory per mapped 4K page, contiguous: one run. */
	env_init(&e, MEM_PAGES, false);
	per_page = env_bytes_per_page(&e, &sh_pp, &rmap_pp);
	bench_report("stage 2 + shadow + rmap per 4K page (1 GiB)", per_page,
		     "B", "radix minimum (8 B)", 8.0, 2.05, false);
	/* The same against two minimal 4-level radix trees of exactly
	 * these mappings (upper levels included). */
	bench_report("stage 2 + shadow + rmap vs 2 minimal trees", per_page,
		     "B", "2 radix trees, same maps",
		     2 * tree_bytes(MEM_PAGES) / MEM_PAGES, 1.05, false);
	bench_report("  of which stage 2 per 4K page",
		     (double)e.ss_bytes / MEM_PAGES, "B", "radix minimum (8 B)",
		     8.0, 0, false);
	bench_report("  of which shadow per 4K page", sh_pp, "B",
		     "radix minimum (8 B)", 8.0, 0, false);
	bench_report("  of which reverse map per 4K page", rmap_pp, "B",
		     "radix minimum (8 B)", 8.0, 0, false);
	env_fini(&e);

	/* The worst case: no two pages contiguous, one run per page. */
	env_init(&e, FRAG_PAGES, true);
	per_page = env_bytes_per_page(&e, &sh_pp, &rmap_pp);
	bench_report("fragmented: stage 2 + shadow + rmap per page", per_page,
		     "B", "radix minimum (8 B)", 8.0, 0, false);
	bench_report("fragmented: reverse map per 4K page", rmap_pp, "B",
		     "radix minimum (8 B)", 8.0, 0, false);
	env_fini(&e);
}

/* ---- DMA through a whole machine, hw vs shadow ---- */

#define DPAGES 512u
#define DGPA 0x40000000ull
#define DIOVA 0x10000000ull

struct dma_env {
	struct ionest_machine *m;
	int dev;
	uint8_t *ram;
	size_t ramlen;
	uint64_t base_reads, base_miss, base_xl;
};

static int ioc(int fd, unsigned long req, void *arg)
{
	return ionest_ioctl(fd, req, arg) < 0 ? -errno : 0;
}

static void *g2_table(void *ctx, uint64_t gpa, size_t size, bool write)
{
	struct dma_env *d = ctx;

	(void)write;
	if (gpa < DGPA || gpa - DGPA + size > d->ramlen)
		return NULL;
	return d->ram + (gpa - DGPA);
}

static uint64_t g2_next;
static int g2_alloc(void *ctx, size_t size, uint64_t *gpa)
{
	struct dma_env *d = ctx;

	*gpa = DGPA + g2_next;
	g2_next += size;
	return g2_next <= d->ramlen ? 0 : -ENOMEM;
}

static const struct pt_mem_ops g2_ops = { g2_table, g2_alloc, g_free };

static uint64_t hwctr(struct dma_env *d, const char *name)
{
	uint64_t v = 0;

	check(ionest_counter_get(
		      ionest_hw_name(ionest_machine_iommu(d->m, "iommu0")),
		      name, &v),
	      name);
	return v;
}

static void dma_setup(struct dma_env *d, int mode)
{
	struct ionest_vtd_config vc = { .tlb_entries = 96 };
	struct ionest_device_config dc = {
		.name = "fn",
		.iommu = "iommu0",
		.rid = 0x100,
		.pasid_bits = 8,
	};
	struct pt_cfg fc = { .fmt = PT_FMT_X86_64,
			     .granule_shift = 12,
			     .ias = 48,
			     .oas = 48,
			     .start_level = -1 };
	struct vfio_device_bind_iommufd b = { .argsz = sizeof(b) };
	struct iommu_ioas_alloc ia = { .size = sizeof(ia) };
	struct iommu_hwpt_alloc ha = { .size = sizeof(ha) };
	struct iommu_hwpt_vtd_s1 s1 = { .addr_width = 48 };
	struct iommu_hwpt_vtd_s1_invalidate inv = { .addr = 0,
						    .npages = UINT64_MAX };
	struct iommu_hwpt_invalidate hi = { .size = sizeof(hi) };
	struct vfio_device_attach_iommufd_pt at = { .argsz = sizeof(at) };
	struct iommu_ioas_map mp = { .size = sizeof(mp) };
	struct pt fs;
	int fd, cdev;

	memset(d, 0, sizeof(*d));
	g2_next = DPAGES * PAGE;
	d->ramlen = DPAGES * PAGE + (1u << 20);
	d->ram = zalloc(PAGE, d->ramlen);
	d->m = ionest_machine_new();
	check(ionest_machine_add_iommu(d->m, "iommu0", ionest_vtd_new(&vc)),
	      "add iommu");
	d->dev = ionest_machine_add_device(d->m, &dc);
	check(d->dev < 0, "add device");
	check(ionest_machine_set_nesting(d->m, "iommu0", mode), "nesting");
	fd = ionest_open(d->m, "/dev/iommu", O_RDWR);
	cdev = ionest_open(d->m, "/dev/vfio/devices/vfio0", O_RDWR);
	check(fd < 0 || cdev < 0, "open");
	b.iommufd = fd;
	check(ioc(cdev, VFIO_DEVICE_BIND_IOMMUFD, &b), "bind");
	check(ioc(fd, IOMMU_IOAS_ALLOC, &ia), "ioas");
	mp.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
		   IOMMU_IOAS_MAP_WRITEABLE;
	mp.ioas_id = ia.out_ioas_id;
	mp.user_va = (uint64_t)(uintptr_t)d->ram;
	mp.length = d->ramlen;
	mp.iova = DGPA;
	check(ioc(fd, IOMMU_IOAS_MAP, &mp), "map");
	ha.dev_id = b.out_devid;
	ha.pt_id = ia.out_ioas_id;
	ha.flags = IOMMU_HWPT_ALLOC_NEST_PARENT;
	check(ioc(fd, IOMMU_HWPT_ALLOC, &ha), "parent");
	check(pt_init(&fs, &fc, (struct pt_mem){ &g2_ops, d }), "s1");
	for (unsigned i = 0; i < DPAGES; i++)
		check(pt_map(&fs, DIOVA + i * PAGE, DGPA + i * PAGE, PAGE,
			     PT_PROT_READ | PT_PROT_WRITE, PAGE),
		      "s1 map");
	s1.pgtbl_addr = fs.root;
	ha.pt_id = ha.out_hwpt_id;
	ha.flags = 0;
	ha.data_type = IOMMU_HWPT_DATA_VTD_S1;
	ha.data_len = sizeof(s1);
	ha.data_uptr = (uint64_t)(uintptr_t)&s1;
	check(ioc(fd, IOMMU_HWPT_ALLOC, &ha), "nested");
	at.pt_id = ha.out_hwpt_id;
	check(ioc(cdev, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at), "attach");
	hi.hwpt_id = ha.out_hwpt_id;
	hi.data_type = IOMMU_HWPT_INVALIDATE_DATA_VTD_S1;
	hi.data_uptr = (uint64_t)(uintptr_t)&inv;
	hi.entry_len = sizeof(inv);
	hi.entry_num = 1;
	check(ioc(fd, IOMMU_HWPT_INVALIDATE, &hi), "invalidate");
	/* The guest's tables stay in guest RAM; fs is only the builder. */
}

/* Page i, then i + 97 (mod 512): consecutive accesses land in different
 * IOTLB sets and each page is evicted before it comes back. */
static void dma_pass(void *ctx, uint64_t iters)
{
	struct dma_env *d = ctx;
	static unsigned i;
	uint8_t v;

	for (uint64_t n = 0; n < iters; n++) {
		i = (i + 97) % DPAGES;
		if (ionest_device_dma(d->m, d->dev, IONEST_NO_PASID,
				      DIOVA + i * PAGE, &v, 1,
				      IONEST_DMA_FROM_MEM))
			check(-EFAULT, "dma");
	}
	bench_keep(v);
}

static void bench_dma(void)
{
	static const char *names[] = { "hw", "shadow" };
	double t[2], reads[2];

	for (int k = 0; k < 2; k++) {
		struct dma_env d;
		uint64_t r0, m0, x0, iters = bench_quick() ? 20000 : 100000;
		char n[96];

		dma_setup(&d, k ? IONEST_NESTING_SHADOW : IONEST_NESTING_HW);
		dma_pass(&d, 4 * DPAGES);
		r0 = hwctr(&d, "walk_read");
		m0 = hwctr(&d, "tlb_miss");
		x0 = hwctr(&d, "translate");
		t[k] = bench_run(dma_pass, &d, iters);
		if (hwctr(&d, "tlb_miss") - m0 <
		    (hwctr(&d, "translate") - x0) * 9 / 10)
			fprintf(stderr, "warning: %s: not a miss per access\n",
				names[k]);
		reads[k] = (double)(hwctr(&d, "walk_read") - r0) /
			   (double)(hwctr(&d, "tlb_miss") - m0);
		snprintf(n, sizeof(n), "DMA, IOTLB miss per page: %s",
			 names[k]);
		bench_report(n, t[k], "ns", "hw nesting", t[0], 0, false);
		snprintf(n, sizeof(n), "DMA miss: table reads per miss, %s",
			 names[k]);
		bench_report(n, reads[k], "reads", "architectural max (24)", 24,
			     0, false);
		/* Every cache flushed before each access: the full walk. */
		r0 = 0;
		for (unsigned j = 0; j < 64; j++) {
			uint64_t w0;

			ionest_hw_flush_caches(
				ionest_machine_iommu(d.m, "iommu0"));
			w0 = hwctr(&d, "walk_read");
			dma_pass(&d, 1);
			r0 += hwctr(&d, "walk_read") - w0;
		}
		snprintf(n, sizeof(n), "DMA miss, caches cold: reads, %s",
			 names[k]);
		bench_report(n, (double)r0 / 64, "reads",
			     "architectural max (24)", 24, 0, false);
		ionest_machine_free(d.m);
		free(d.ram);
	}
}

int main(int argc, char **argv)
{
	bench_init(argc, argv, "shadow");
	bench_engine();
	bench_dma();
	return bench_finish();
}
