// SPDX-License-Identifier: MIT
/*
 * Software nesting (lib/drivers/shadow.c) against plain baselines in the
 * same run:
 *   - Shadow update of one invalidated page that changed (the guest
 *     unmapped or mapped it), tables hot (a 4-level x86
 *     guest stage 1 over a 4-level VT-d second stage, 4K leaves), against
 *     the naive 24-read 2-D walk. Target <= 1.5x. Beside it, without a
 *     target, a page synced again unchanged (nothing to write) and a
 *     page mapped again from another GPA (its reverse-map claim moves).
 *   - Shadow update of a range of N contiguous pages: the cost per page
 *     (slope between two range sizes) against one hash-lookup hit, and the
 *     fixed cost per range. Target <= 1x per page.
 *   - Memory: stage 2 + shadow + the reverse maps per mapped 4K page over
 *     1 GiB mapped contiguously, against the radix minimum of 8 bytes
 *     (target <= 2.05x, 16.4 B) and against two minimal 4-level trees of
 *     the same mappings; and the worst case, 64 MiB mapped with no two
 *     pages contiguous (one reverse-map run per page), without a target.
 *   - DMA with an IOTLB miss per page through a whole machine (iommufd,
 *     a nested HWPT over a stage-2 parent) on VT-d and on SMMUv3 (guest
 *     STE and CD table), in hw and shadow modes timed alternately: ns per
 *     access (shadow against hw nesting) and table reads per miss from
 *     the model's counters, walk caches warm and every cache flushed.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
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
#include "hw/smmuv3/smmu_regs.h"
#include "pt/pt.h"
#include "scenario/guest.h"

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
	uint64_t moved; /* GPA offset of the moved pages */
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

/* Each iteration: @change stores the new guest leaf of hot page i (one
 * write, as the guest's own store), then the page is synced and what the
 * sync emptied freed, as the driver does after its invalidation. */
static void page_changes(struct upd *u, uint64_t iters,
			 uint64_t (*change)(struct upd *u, unsigned i))
{
	uint64_t s, l;

	for (uint64_t n = 0; n < iters; n++) {
		unsigned i = u->i++ % HOT;
		uint64_t iova = (uint64_t)i * PAGE;

		__atomic_store_n(u->pte[i], change(u, i), __ATOMIC_RELAXED);
		shadow_sync(&u->e->sh, iova, iova + PAGE - 1, &s, &l);
		shadow_free_tables(&u->e->sh, shadow_take_tables(&u->e->sh));
	}
	bench_keep(s + l);
}

/*
 * What a guest's invalidation of one page usually follows: the page
 * changed. Each visit of a hot page unmaps it (clears its leaf) or maps it
 * again (restores it): every sync removes or composes a shadow entry.
 */
static uint64_t unmap_or_restore(struct upd *u, unsigned i)
{
	if (!*u->pte[i])
		return u->saved[i];
	u->saved[i] = *u->pte[i];
	return 0;
}

static void one_page_changed_pass(void *ctx, uint64_t iters)
{
	page_changes(ctx, iters, unmap_or_restore);
}

/*
 * A page the guest maps again from another GPA (a new buffer at a reused
 * IOVA): each visit moves a hot page to a GPA beyond the mapped ones (the
 * parent maps HOT more pages there), or back, so that every sync also
 * moves the page's reverse-map claim.
 */
static uint64_t move_or_restore(struct upd *u, unsigned i)
{
	return *u->pte[i] == u->saved[i] ? u->saved[i] + u->moved : u->saved[i];
}

static void one_page_moved_pass(void *ctx, uint64_t iters)
{
	page_changes(ctx, iters, move_or_restore);
}

/* Time @pass from the first hot page on, after a warm-up, against the
 * naive 2-D walk in the same run, as the row @name. */
static void report_changes(struct upd *u, void (*pass)(void *, uint64_t),
			   const char *name, double target)
{
	double t, w2d;

	u->i = 0;
	pass(u, 4 * HOT);
	u->i = 0;
	t = bench_run2(pass, u, baseline_nested_walk_hot_fn, NULL,
		       bench_quick() ? 20 * HOT : 100 * HOT, &w2d);
	bench_report(name, t, "ns", "naive 2-D walk", w2d, target, false);
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
	/* The target applies to a page that changed. */
	find_hot_ptes(&u);
	report_changes(&u, one_page_changed_pass,
		       "shadow update, 1 page changed, tables hot", 1.5);
	for (unsigned i = 0; i < HOT; i++) {
		if (!*u.pte[i])
			*u.pte[i] = u.saved[i];
	}
	shadow_sync(&e.sh, 0, HOT * PAGE - 1, &s1, &l1);
	shadow_free_tables(&e.sh, shadow_take_tables(&e.sh));
	/* Without a target: a change that also moves the claim. */
	u.moved = 2 * e.pages * PAGE; /* past the guest's tables */
	check(pt_map(&e.ss, u.moved, DATA_HPA + u.moved, HOT * PAGE,
		     PT_PROT_READ | PT_PROT_WRITE, PAGE),
	      "map ss moved");
	report_changes(&u, one_page_moved_pass,
		       "shadow update, 1 page moved to another GPA", 0);
	for (unsigned i = 0; i < HOT; i++)
		*u.pte[i] = u.saved[i];
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

/* ---- DMA through a whole machine, hw vs shadow, on each model ---- */

#define DPAGES 512u
#define DGPA 0x40000000ull
#define DIOVA 0x10000000ull
#define DRAM (DPAGES * PAGE + (1u << 20)) /* data, then the guest's tables */
#define DTLB 96u /* IOTLB entries: far fewer than DPAGES */
#define DCOLD 64u /* accesses measured with every cache flushed */
#define GASID 0x71u /* the SMMUv3 guest's ASID */
#define VSID 0x42u /* and its virtual StreamID */

/* One machine: an IOMMU in one nesting mode, a device attached to a
 * nested HWPT (the guest's stage 1 over a stage-2 parent). */
struct dma_env {
	struct ionest_machine *m;
	struct ionest_hw *hw;
	int dev, fd, cdev;
	unsigned i; /* the page last accessed */
	struct vm vm; /* guest RAM: the data pages, then the tables */
	struct pt s1; /* the guest's stage 1, in guest RAM */
	uint32_t devid, parent, viommu;
};

/* What differs between the models: the part, the guest's stage-1 format,
 * and how the VMM makes the nested HWPT and the guest invalidates. */
struct dma_model {
	const char *name; /* the metrics' prefix */
	const char *tlb; /* what the model calls its TLB */
	enum vm_s1_format s1fmt;
	struct ionest_hw *(*hw_new)(void);
	uint32_t (*nested)(struct dma_env *d); /* the nested HWPT's id */
	void (*inv_all)(struct dma_env *d, uint32_t nested);
};

static int ioc(int fd, unsigned long req, void *arg)
{
	return ionest_ioctl(fd, req, arg) < 0 ? -errno : 0;
}

static uint32_t hwpt_alloc(struct dma_env *d, uint32_t pt_id, uint32_t type,
			   const void *data, uint32_t len)
{
	struct iommu_hwpt_alloc ha = {
		.size = sizeof(ha),
		.dev_id = d->devid,
		.pt_id = pt_id,
		.data_type = type,
		.data_len = len,
		.data_uptr = (uint64_t)(uintptr_t)data,
	};

	check(ioc(d->fd, IOMMU_HWPT_ALLOC, &ha), "nested hwpt");
	return ha.out_hwpt_id;
}

static struct ionest_hw *vtd_new(void)
{
	struct ionest_vtd_config c = { .tlb_entries = DTLB };

	return ionest_vtd_new(&c);
}

/* VT-d: the first-stage root in the HWPT's data, over the parent. */
static uint32_t vtd_nested(struct dma_env *d)
{
	struct iommu_hwpt_vtd_s1 s1;

	check(vm_vtd_s1_data(&d->s1, &s1), "vtd s1 data");
	return hwpt_alloc(d, d->parent, IOMMU_HWPT_DATA_VTD_S1, &s1,
			  sizeof(s1));
}

static void vtd_inv_all(struct dma_env *d, uint32_t nested)
{
	struct iommu_hwpt_vtd_s1_invalidate inv = { .npages = UINT64_MAX };
	struct iommu_hwpt_invalidate hi = {
		.size = sizeof(hi),
		.hwpt_id = nested,
		.data_type = IOMMU_HWPT_INVALIDATE_DATA_VTD_S1,
		.data_uptr = (uint64_t)(uintptr_t)&inv,
		.entry_len = sizeof(inv),
		.entry_num = 1,
	};

	check(ioc(d->fd, IOMMU_HWPT_INVALIDATE, &hi), "vtd invalidate");
}

static struct ionest_hw *smmuv3_new(void)
{
	struct ionest_smmuv3_config c = { .tlb_entries = DTLB };

	return ionest_smmuv3_new(&c);
}

/* SMMUv3: a vIOMMU over the parent, the device's vSID, and a guest STE
 * pointing at the guest's one-CD table (CD 0: TTB0 = the stage 1). */
static uint32_t smmuv3_nested(struct dma_env *d)
{
	struct iommu_viommu_alloc va = {
		.size = sizeof(va),
		.type = IOMMU_VIOMMU_TYPE_ARM_SMMUV3,
		.dev_id = d->devid,
		.hwpt_id = d->parent,
	};
	struct iommu_vdevice_alloc vd = {
		.size = sizeof(vd),
		.dev_id = d->devid,
		.virt_id = VSID,
	};
	struct iommu_hwpt_arm_smmuv3 ste;
	struct vm_cdtab cdt;

	check(ioc(d->fd, IOMMU_VIOMMU_ALLOC, &va), "viommu");
	d->viommu = va.out_viommu_id;
	vd.viommu_id = d->viommu;
	check(ioc(d->fd, IOMMU_VDEVICE_ALLOC, &vd), "vdevice");
	check(vm_cdtab_init(&cdt, &d->vm, 0), "cd table");
	check(vm_cd_write(&cdt, 0, &d->s1, GASID), "cd");
	vm_cdtab_ste(&cdt, VM_S1DSS_TERMINATE, ste.ste);
	return hwpt_alloc(d, d->viommu, IOMMU_HWPT_DATA_ARM_SMMUV3, &ste,
			  sizeof(ste));
}

static void smmuv3_inv_all(struct dma_env *d, uint32_t nested)
{
	const uint64_t cmd[2] = { CMD_TLBI_NH_ASID | (uint64_t)GASID << 48, 0 };
	struct iommu_hwpt_invalidate hi = {
		.size = sizeof(hi),
		.hwpt_id = d->viommu,
		.data_type = IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3,
		.data_uptr = (uint64_t)(uintptr_t)cmd,
		.entry_len = sizeof(cmd),
		.entry_num = 1,
	};

	(void)nested;
	check(ioc(d->fd, IOMMU_HWPT_INVALIDATE, &hi), "smmuv3 invalidate");
}

static const struct dma_model dma_models[] = {
	{ "VT-d", "IOTLB", VM_S1_X86_64_4L, vtd_new, vtd_nested, vtd_inv_all },
	{ "SMMUv3", "TLB", VM_S1_ARM64_4K, smmuv3_new, smmuv3_nested,
	  smmuv3_inv_all },
};

static uint64_t hwctr(struct dma_env *d, const char *name)
{
	uint64_t v = 0;

	check(ionest_counter_get(ionest_hw_name(d->hw), name, &v), name);
	return v;
}

/* A machine as a VMM builds it: guest RAM in an IOAS, a nest parent on
 * it (4K leaves), the guest's stage 1 (DIOVA + i -> data page i, 4K
 * leaves) in RAM,
 * the device attached to the nested HWPT, then the guest's invalidation. */
static void dma_setup(struct dma_env *d, const struct dma_model *mo, int mode)
{
	struct ionest_device_config dc = {
		.name = "fn",
		.iommu = "iommu0",
		.rid = 0x100,
		.pasid_bits = 8,
	};
	struct vfio_device_bind_iommufd b = { .argsz = sizeof(b) };
	struct iommu_ioas_alloc ia = { .size = sizeof(ia) };
	struct iommu_hwpt_alloc ha = { .size = sizeof(ha) };
	struct vfio_device_attach_iommufd_pt at = { .argsz = sizeof(at) };
	struct iommu_option opt = { .size = sizeof(opt),
				    .option_id = IOMMU_OPTION_HUGE_PAGES,
				    .op = IOMMU_OPTION_OP_SET };
	uint64_t data;

	memset(d, 0, sizeof(*d));
	d->m = ionest_machine_new();
	d->hw = mo->hw_new();
	check(!d->m || !d->hw, "machine");
	check(ionest_machine_add_iommu(d->m, "iommu0", d->hw), "add iommu");
	d->dev = ionest_machine_add_device(d->m, &dc);
	check(d->dev < 0, "add device");
	check(ionest_machine_set_nesting(d->m, "iommu0", mode), "nesting");
	d->fd = ionest_open(d->m, "/dev/iommu", O_RDWR);
	d->cdev = ionest_open(d->m, "/dev/vfio/devices/vfio0", O_RDWR);
	check(d->fd < 0 || d->cdev < 0, "open");
	b.iommufd = d->fd;
	check(ioc(d->cdev, VFIO_DEVICE_BIND_IOMMUFD, &b), "bind");
	d->devid = b.out_devid;
	check(ioc(d->fd, IOMMU_IOAS_ALLOC, &ia), "ioas");
	/* Stage 2 in 4K leaves, as the guest's stage 1: the full 4x4 walk
	 * (the RAM is 2M aligned; blocks would shorten every stage-2 walk). */
	opt.object_id = ia.out_ioas_id;
	check(ioc(d->fd, IOMMU_OPTION, &opt), "huge pages off");
	check(vm_init(&d->vm, "guest", DGPA, DRAM), "guest ram");
	check(vm_ioas_map(&d->vm, d->fd, ia.out_ioas_id), "map");
	ha.dev_id = d->devid;
	ha.pt_id = ia.out_ioas_id;
	ha.flags = IOMMU_HWPT_ALLOC_NEST_PARENT;
	check(ioc(d->fd, IOMMU_HWPT_ALLOC, &ha), "parent");
	d->parent = ha.out_hwpt_id;
	check(vm_alloc(&d->vm, DPAGES * PAGE, &data), "data");
	check(vm_s1_init(&d->s1, &d->vm, mo->s1fmt), "s1");
	check(vm_s1_map(&d->s1, DIOVA, data, DPAGES * PAGE, PT_PROT_WRITE),
	      "s1 map");
	at.pt_id = mo->nested(d);
	check(ioc(d->cdev, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at), "attach");
	mo->inv_all(d, at.pt_id);
}

static void dma_teardown(struct dma_env *d)
{
	ionest_machine_free(d->m);
	vm_s1_fini(&d->s1);
	vm_fini(&d->vm);
}

/* Page i, then i + 97 (mod 512): consecutive accesses land in different
 * IOTLB sets and each page is evicted before it comes back. */
static void dma_pass(void *ctx, uint64_t iters)
{
	struct dma_env *d = ctx;
	struct ionest_machine *m = d->m;
	const int dev = d->dev;
	unsigned i = d->i;
	uint8_t v = 0;

	for (uint64_t n = 0; n < iters; n++) {
		i = (i + 97) % DPAGES;
		if (ionest_device_dma(m, dev, IONEST_NO_PASID, DIOVA + i * PAGE,
				      &v, 1, IONEST_DMA_FROM_MEM))
			check(-EFAULT, "dma");
	}
	d->i = i;
	bench_keep(v);
}

/* The same page every time: a TLB hit per access after the first. */
static void dma_hit_pass(void *ctx, uint64_t iters)
{
	struct dma_env *d = ctx;
	struct ionest_machine *m = d->m;
	const int dev = d->dev;
	const uint64_t iova = DIOVA + d->i * PAGE;
	uint8_t v = 0;

	for (uint64_t n = 0; n < iters; n++) {
		if (ionest_device_dma(m, dev, IONEST_NO_PASID, iova, &v, 1,
				      IONEST_DMA_FROM_MEM))
			check(-EFAULT, "dma");
	}
	bench_keep(v);
}

/* The model's table reads per access with every cache flushed first:
 * the whole walk, configuration structures included. */
static double dma_cold_reads(struct dma_env *d)
{
	uint64_t reads = 0;

	for (unsigned j = 0; j < DCOLD; j++) {
		uint64_t w0;

		ionest_hw_flush_caches(d->hw);
		w0 = hwctr(d, "walk_read");
		dma_pass(d, 1);
		reads += hwctr(d, "walk_read") - w0;
	}
	return (double)reads / DCOLD;
}

/*
 * The misses in both modes and the hit, alternated repetition by
 * repetition so that all three see the same load (bench_run2 for three):
 * median ns per access into t[0] (hw miss), t[1] (shadow miss), t[2]
 * (hw hit).
 */
static void dma_time(struct dma_env d[2], uint64_t iters, double t[3])
{
	void (*const fn[3])(void *, uint64_t) = { dma_pass, dma_pass,
						  dma_hit_pass };
	void *const ctx[3] = { &d[0], &d[1], &d[0] };
	double v[3][7];
	unsigned reps = bench_reps();

	for (unsigned r = 0; r < reps; r++) {
		for (int j = 0; j < 3; j++) {
			double t0 = bench_now_ns();

			fn[j](ctx[j], iters);
			bench_clobber();
			v[j][r] = (bench_now_ns() - t0) / (double)iters;
		}
	}
	for (int j = 0; j < 3; j++)
		t[j] = bench_median(v[j], reps);
}

/* "<model>: <what>, <mode>", shadow against hw nesting. */
static void dma_metric(const struct dma_model *mo, const char *what,
		       const char *mode, double v, const char *unit,
		       const char *base_name, double base)
{
	char n[64];

	snprintf(n, sizeof(n), "%s: %s, %s", mo->name, what, mode);
	bench_report(n, v, unit, base_name, base, 0, false);
}

/*
 * One model: a machine per mode, run alternately (both see the same load)
 * with an IOTLB miss per access and the walk caches warm; then each
 * with every cache flushed before each access. Shadow is reported
 * against hw nesting; hw nesting's reads against the 2-D walk's 24.
 */
static void bench_dma_model(const struct dma_model *mo)
{
	static const char *const mode[] = { "hw nesting", "shadow" };
	struct dma_env d[2];
	const uint64_t iters = bench_quick() ? 20000 : 100000;
	const uint64_t n = iters * bench_reps(); /* miss accesses, each */
	uint64_t r0[2], m0[2];
	double t[3], reads[2], cold[2];
	char what[32], base[32];

	dma_setup(&d[0], mo, IONEST_NESTING_HW);
	dma_setup(&d[1], mo, IONEST_NESTING_SHADOW);
	for (int k = 0; k < 2; k++) {
		dma_pass(&d[k], 4 * DPAGES); /* warm tables and walk caches */
		r0[k] = hwctr(&d[k], "walk_read");
		m0[k] = hwctr(&d[k], "tlb_miss");
	}
	dma_time(d, iters, t);
	for (int k = 0; k < 2; k++) {
		uint64_t miss = hwctr(&d[k], "tlb_miss") - m0[k];

		/* Every miss access missed; the hit accesses (hw) did not. */
		if (miss < n * 9 / 10 || miss > n + bench_reps())
			fprintf(stderr,
				"bench-shadow: %s %s: %" PRIu64 " misses in "
				"%" PRIu64 " miss accesses\n",
				mo->name, mode[k], miss, n);
		reads[k] = (double)(hwctr(&d[k], "walk_read") - r0[k]) /
			   (double)(miss ? miss : 1);
		cold[k] = dma_cold_reads(&d[k]);
	}
	snprintf(base, sizeof(base), "DMA, %s hit", mo->tlb);
	snprintf(what, sizeof(what), "DMA, %s miss per page", mo->tlb);
	dma_metric(mo, what, mode[0], t[0], "ns", base, t[2]);
	dma_metric(mo, what, mode[1], t[1], "ns", mode[0], t[0]);
	dma_metric(mo, "table reads per miss", mode[0], reads[0], "reads",
		   "2-D walk (24)", 24);
	dma_metric(mo, "table reads per miss", mode[1], reads[1], "reads",
		   mode[0], reads[0]);
	dma_metric(mo, "table reads, caches cold", mode[0], cold[0], "reads",
		   "2-D walk (24)", 24);
	dma_metric(mo, "table reads, caches cold", mode[1], cold[1], "reads",
		   mode[0], cold[0]);
	for (int k = 0; k < 2; k++)
		dma_teardown(&d[k]);
}

static void bench_dma(void)
{
	for (size_t i = 0; i < sizeof(dma_models) / sizeof(dma_models[0]); i++)
		bench_dma_model(&dma_models[i]);
}

int main(int argc, char **argv)
{
	bench_init(argc, argv, "shadow");
	bench_engine();
	bench_dma();
	return bench_finish();
}
