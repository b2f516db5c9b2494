// SPDX-License-Identifier: MIT
/* SMMUv3 model: the hot paths (fastpath.c). A TLB miss the walk caches
 * hold is served without the configuration cache, and gives what the full
 * path gives: permissions, the configuration bits the walk-cache entry
 * carries (IPS, WXN, EL2 without ASIDs, stage 2), TLB tags, block size. The
 * hit path's reduced request checks reject what the full checks reject. */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <ionest/trace.h>

#include "hw/smmuv3/smmu_regs.h"
#include "smmu_harness.h"

#define R IONEST_ACCESS_READ
#define W IONEST_ACCESS_WRITE
#define X IONEST_ACCESS_EXEC
#define P IONEST_ACCESS_PRIV
#define RW (PT_PROT_READ | PT_PROT_WRITE)
#define ASID 7
#define GIPA 0x40000000ull
#define GSIZE (16u << 20)
#define VMID 9

static uint64_t ctr(struct smmu_h *h, const char *name)
{
	uint64_t v = 0;

	assert_int_equal(ionest_counter_get(ionest_hw_name(h->hw), name, &v),
			 0);
	return v;
}

/* Counters of one translation. */
struct ctrs {
	uint64_t cfg_hit, cfg_miss, walk, walk_read, s2wc_hit, tlb_hit,
		tlb_miss;
};

static struct ctrs ctrs(struct smmu_h *h)
{
	return (struct ctrs){
		.cfg_hit = ctr(h, "cfg_hit"),
		.cfg_miss = ctr(h, "cfg_miss"),
		.walk = ctr(h, "walk"),
		.walk_read = ctr(h, "walk_read"),
		.s2wc_hit = ctr(h, "s2wc_hit"),
		.tlb_hit = ctr(h, "tlb_hit"),
		.tlb_miss = ctr(h, "tlb_miss"),
	};
}

static void map(struct pt *pt, uint64_t iova, uint64_t pa, uint64_t size,
		uint32_t prot)
{
	assert_int_equal(pt_map(pt, iova, pa, size, prot, 0), 0);
}

static void remap(struct pt *pt, uint64_t iova, uint64_t pa, uint64_t size,
		  uint32_t prot)
{
	uint64_t n = 0;

	assert_int_equal(pt_unmap(pt, iova, size, 0, NULL, &n), 0);
	assert_int_equal(n, size);
	map(pt, iova, pa, size, prot);
}

static uint64_t xaddr(struct smmu_h *h, uint32_t sid, uint64_t iova)
{
	struct ionest_xlate_res r = smmu_h_xlate(h, sid, -1, iova, R);

	assert_int_equal(r.status, IONEST_XLATE_OK);
	return r.addr;
}

/* Drop the TLB entry of @va but keep the walk caches (Leaf=1). */
static void tlbi_leaf(struct smmu_h *h, uint16_t vmid, uint64_t va)
{
	smmu_h_cmd(h,
		   CMD_TLBI_NH_VA | (uint64_t)vmid << 32 | (uint64_t)ASID << 48,
		   va | 1);
	smmu_h_sync(h);
}

/* ---- stage 1 only ---- */

struct env {
	struct smmu_h h;
	struct pt pt;
	uint64_t *cd;
	uint8_t *data; /* 2 MiB of data pages */
	uint64_t d;
};

static void env_init(struct env *e, const struct smmu_h_opts *o, unsigned g)
{
	struct pt_cfg c = smmu_h_s1_cfg(g, 48);

	smmu_h_init(&e->h, o);
	assert_int_equal(pt_init(&e->pt, &c, smmu_h_host_mem(&e->h)), 0);
	e->cd = smmu_h_alloc(&e->h, 64, 64);
	smmu_h_cd(e->cd, &e->pt, NULL, ASID);
	e->data = smmu_h_alloc(&e->h, 2u << 20, 2u << 20);
	e->d = smmu_h_pa(e->data);
	smmu_h_ste_s1(smmu_h_ste(&e->h, 1), smmu_h_pa(e->cd), 0, 0, 0);
}

static void env_fini(struct env *e)
{
	pt_destroy(&e->pt);
	smmu_h_fini(&e->h);
}

/* A miss in a block whose last-level table is cached: one descriptor
 * read, no configuration lookup, no walk; the same result as the walk. */
static void test_miss_from_walk_cache(void **state)
{
	struct env e;
	struct ionest_xlate_res r;
	struct ctrs a, b;

	env_init(&e, NULL, 12);
	map(&e.pt, 0x200000, e.d, 0x3000, RW);
	a = ctrs(&e.h);
	r = smmu_h_xlate(&e.h, 1, -1, 0x200010, R); /* full walk */
	assert_int_equal(r.addr, e.d + 0x10);
	b = ctrs(&e.h);
	assert_int_equal(b.cfg_miss, a.cfg_miss + 1);
	assert_int_equal(b.walk, a.walk + 1);
	a = b;
	r = smmu_h_xlate(&e.h, 1, -1, 0x201ff8, R | W);
	b = ctrs(&e.h);
	assert_int_equal(r.status, IONEST_XLATE_OK);
	assert_int_equal(r.addr, e.d + 0x1ff8);
	assert_int_equal(r.size, 0x1000);
	assert_int_equal(r.perm, R | W);
	assert_int_equal(b.tlb_miss, a.tlb_miss + 1);
	assert_int_equal(b.walk_read, a.walk_read + 1);
	assert_int_equal(b.cfg_hit, a.cfg_hit);
	assert_int_equal(b.cfg_miss, a.cfg_miss);
	assert_int_equal(b.walk, a.walk);
	/* The fill is found: a hit next time. */
	a = b;
	assert_int_equal(xaddr(&e.h, 1, 0x201000), e.d + 0x1000);
	b = ctrs(&e.h);
	assert_int_equal(b.tlb_hit, a.tlb_hit + 1);
	assert_int_equal(b.tlb_miss, a.tlb_miss);
	smmu_h_expect_no_event(&e.h);
	env_fini(&e);
}

/* Permissions on the walk-cache path: the leaf's, less what the tables
 * above deny, then the VMSA rules and CD.WXN (carried by the entry). */
static void test_miss_permissions_wxn(void **state)
{
	struct env e;
	struct ionest_xlate_res r;

	env_init(&e, NULL, 12);
	map(&e.pt, 0x200000, e.d, 0x1000, RW);
	map(&e.pt, 0x201000, e.d, 0x1000, RW | PT_PROT_EXEC);
	map(&e.pt, 0x202000, e.d, 0x1000, PT_PROT_READ | PT_PROT_EXEC);
	map(&e.pt, 0x203000, e.d, 0x1000, RW | PT_PROT_EXEC | PT_PROT_PRIV);
	assert_int_equal(xaddr(&e.h, 1, 0x200000), e.d);
	/* Without WXN: writable and executable at EL0; never privileged-
	 * executable when EL0-writable. */
	r = smmu_h_xlate(&e.h, 1, -1, 0x201000, R | X);
	assert_int_equal(r.status, IONEST_XLATE_OK);
	assert_int_equal(r.perm, R | W | X);
	r = smmu_h_xlate(&e.h, 1, -1, 0x203000, R | X | P);
	assert_int_equal(r.status, IONEST_XLATE_OK);
	assert_int_equal(r.perm, R | W | X | P);
	tlbi_leaf(&e.h, 0, 0x201000);
	r = smmu_h_xlate(&e.h, 1, -1, 0x201000, R | X | P);
	assert_int_equal(r.fault, EVT_F_PERMISSION);
	smmu_h_expect_event(&e.h, EVT_F_PERMISSION, NULL);
	/* Privileged-only page, unprivileged access. */
	tlbi_leaf(&e.h, 0, 0x203000);
	r = smmu_h_xlate(&e.h, 1, -1, 0x203000, R);
	assert_int_equal(r.fault, EVT_F_PERMISSION);
	smmu_h_expect_event(&e.h, EVT_F_PERMISSION, NULL);

	/* WXN: writable means execute-never, read-only code still runs. */
	e.cd[0] |= 1ull << 36;
	smmu_h_cfgi_cd(&e.h, 1, 0);
	assert_int_equal(xaddr(&e.h, 1, 0x200000), e.d);
	r = smmu_h_xlate(&e.h, 1, -1, 0x201000, R | X);
	assert_int_equal(r.fault, EVT_F_PERMISSION);
	smmu_h_expect_event(&e.h, EVT_F_PERMISSION, NULL);
	r = smmu_h_xlate(&e.h, 1, -1, 0x201000, R | W);
	assert_int_equal(r.status, IONEST_XLATE_OK);
	assert_int_equal(r.perm, R | W);
	r = smmu_h_xlate(&e.h, 1, -1, 0x202000, R | X);
	assert_int_equal(r.status, IONEST_XLATE_OK);
	assert_int_equal(r.perm, R | X);
	smmu_h_expect_no_event(&e.h);
	env_fini(&e);
}

/* An EL2 stream without E2H has no ASIDs: entries filled from the walk
 * cache are global too, so an ASID invalidation leaves them. */
static void test_miss_el2_global(void **state)
{
	struct ionest_smmuv3_config c = { .hyp = IONEST_CFG(1) };
	struct env e;

	env_init(&e, &(struct smmu_h_opts){ .cfg = &c }, 12);
	smmu_h_ste(&e.h, 1)[1] |= (uint64_t)STRW_EL2 << 30;
	smmu_h_cfgi_ste(&e.h, 1);
	map(&e.pt, 0x200000, e.d, 0x2000, RW); /* nG=1 leaves */
	assert_int_equal(xaddr(&e.h, 1, 0x200000), e.d);
	assert_int_equal(xaddr(&e.h, 1, 0x201000), e.d + 0x1000);
	remap(&e.pt, 0x201000, e.d + 0x8000, 0x1000, RW);
	smmu_h_cmd(&e.h, CMD_TLBI_EL2_ASID | (uint64_t)ASID << 48, 0);
	smmu_h_sync(&e.h);
	assert_int_equal(xaddr(&e.h, 1, 0x201000), e.d + 0x1000);
	smmu_h_cmd(&e.h, CMD_TLBI_EL2_VA | (uint64_t)ASID << 48, 0x201000);
	smmu_h_sync(&e.h);
	assert_int_equal(xaddr(&e.h, 1, 0x201000), e.d + 0x8000);
	env_fini(&e);
}

/* Low memory for tables below a 32-bit IPS. */
#define LOW_BASE 0x58000000ul
#define LOW_SIZE (1ul << 20)
static size_t low_used;

static int low_alloc(void *ctx, size_t size, uint64_t *pa)
{
	(void)ctx;
	low_used = (low_used + size - 1) & ~(size - 1);
	assert_true(low_used + size <= LOW_SIZE);
	*pa = LOW_BASE + low_used;
	memset((void *)(uintptr_t)*pa, 0, size);
	low_used += size;
	return 0;
}

static void *low_table(void *ctx, uint64_t pa, size_t size, bool write)
{
	(void)ctx;
	(void)size;
	(void)write;
	return (void *)(uintptr_t)pa;
}

static void low_free(void *ctx, uint64_t pa, size_t size)
{
	(void)ctx;
	(void)pa;
	(void)size;
}

static const struct pt_mem_ops low_ops = {
	.table = low_table,
	.alloc = low_alloc,
	.free = low_free,
};

/* The entry carries CD.IPS: an output beyond it in a cached block is an
 * address size fault, not a translation. */
static void test_miss_ips(void **state)
{
	struct env e;
	struct ionest_xlate_res r;
	struct pt lo;
	struct pt_cfg c = smmu_h_s1_cfg(12, 32);
	void *m = mmap((void *)LOW_BASE, LOW_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1,
		       0);

	if (m != (void *)LOW_BASE) {
		if (m != MAP_FAILED)
			munmap(m, LOW_SIZE);
		skip();
	}
	low_used = 0;
	env_init(&e, NULL, 12);
	assert_true(e.d >> 32);
	assert_int_equal(pt_init(&lo, &c, (struct pt_mem){ .ops = &low_ops }),
			 0);
	map(&lo, 0x200000, LOW_BASE + LOW_SIZE - 0x1000, 0x1000, RW);
	map(&lo, 0x201000, e.d, 0x1000, RW);
	smmu_h_cd(e.cd, &lo, NULL, ASID);
	e.cd[0] &= ~(7ull << 32); /* IPS: 32 bits */
	smmu_h_cfgi_cd(&e.h, 1, 0);
	assert_int_equal(xaddr(&e.h, 1, 0x200000),
			 LOW_BASE + LOW_SIZE - 0x1000);
	r = smmu_h_xlate(&e.h, 1, -1, 0x201000, R);
	assert_int_equal(r.fault, EVT_F_ADDR_SIZE);
	assert_false(r.stage2);
	smmu_h_expect_event(&e.h, EVT_F_ADDR_SIZE, NULL);
	pt_destroy(&lo);
	env_fini(&e);
	munmap(m, LOW_SIZE);
}

/* 64K granule, 52-bit IPS: OA[51:48] sits in descriptor bits [15:12];
 * such leaves are always decoded by the full walk. */
static void test_miss_oa52(void **state)
{
	struct ionest_smmuv3_config c = { .oas = IONEST_CFG(6) };
	struct smmu_h h;
	struct pt pt;
	struct pt_cfg pc = smmu_h_s1_cfg(16, 48);
	uint64_t *cd, hi = 1ull << 48 | 0x30000;
	struct ionest_xlate_res r;
	uint8_t *data;

	smmu_h_init(&h, &(struct smmu_h_opts){ .cfg = &c });
	pc.oas = 52;
	assert_int_equal(pt_init(&pt, &pc, smmu_h_host_mem(&h)), 0);
	data = smmu_h_alloc(&h, 0x10000, 0x10000);
	map(&pt, 0x20000000, smmu_h_pa(data), 0x10000, RW);
	map(&pt, 0x20010000, hi, 0x10000, RW);
	cd = smmu_h_alloc(&h, 64, 64);
	smmu_h_cd(cd, &pt, NULL, ASID);
	cd[0] |= 7ull << 32;
	cd[0] &= ~(1ull << 32); /* IPS 0b110: 52 bits */
	smmu_h_ste_s1(smmu_h_ste(&h, 1), smmu_h_pa(cd), 0, 0, 0);
	assert_int_equal(xaddr(&h, 1, 0x20000040), smmu_h_pa(data) + 0x40);
	r = smmu_h_xlate(&h, 1, -1, 0x20010040, R);
	assert_int_equal(r.status, IONEST_XLATE_OK);
	assert_int_equal(r.addr, hi + 0x40);
	assert_int_equal(r.size, 0x10000);
	pt_destroy(&pt);
	smmu_h_fini(&h);
}

/* The hit path's checks: an entry for the address does not make a
 * malformed request succeed. */
static void test_hit_rejects_malformed(void **state)
{
	struct env e;
	struct ionest_xlate_req q = { .sid = 1, .iova = 0x1000 };
	struct ionest_xlate_res r;
	uint64_t *cds;

	env_init(&e, NULL, 12);
	map(&e.pt, 0x1000, e.d, 0x1000, RW);
	cds = smmu_h_alloc(&e.h, 4 * 64, 64);
	smmu_h_cd(cds, &e.pt, NULL, ASID);
	smmu_h_cd(cds + 16, &e.pt, NULL, ASID);
	smmu_h_ste_s1(smmu_h_ste(&e.h, 2), smmu_h_pa(cds), 0, 2, 0);
	assert_int_equal(xaddr(&e.h, 1, 0x1000), e.d);
	assert_int_equal(smmu_h_xlate(&e.h, 2, 2, 0x1000, R).addr, e.d);
	for (unsigned a = 0; a < 16; a++) {
		q.access = a;
		assert_int_equal(ionest_hw_translate(e.h.hw, &q, &r),
				 (a & (R | W | X)) ? 0 : -EINVAL);
	}
	q.access = 0x10 | R;
	assert_int_equal(ionest_hw_translate(e.h.hw, &q, &r), -EINVAL);
	q.access = R;
	q.sid = 1 | 1u << 16; /* beyond SIDSIZE */
	assert_int_equal(ionest_hw_translate(e.h.hw, &q, &r), -EINVAL);
	/* SubstreamID 2 is cached; with bit 31 set it is malformed. */
	q.sid = 2;
	q.ssid_valid = true;
	q.ssid = 2;
	assert_int_equal(ionest_hw_translate(e.h.hw, &q, &r), 0);
	assert_int_equal(r.addr, e.d);
	q.ssid = 0x80000002;
	assert_int_equal(ionest_hw_translate(e.h.hw, &q, &r), -EINVAL);
	q.ssid = 1u << 20 | 2;
	assert_int_equal(ionest_hw_translate(e.h.hw, &q, &r), -EINVAL);
	/* A cached translation with translation off: GBPA decides. */
	smmu_h_cr0(&e.h, smmu_h_rd32(&e.h, SMMU_CR0) & ~CR0_SMMUEN);
	r = smmu_h_xlate(&e.h, 1, -1, 0x1000, R);
	assert_int_equal(r.status, IONEST_XLATE_BYPASS);
	assert_int_equal(r.addr, 0x1000);
	env_fini(&e);
}

/* ---- nested ---- */

struct nenv {
	struct smmu_h h;
	struct smmu_h_guest g;
	struct pt s2, s1;
	uint64_t cd_ipa, data_ipa;
	uint64_t *cd, *ste;
};

static void nenv_init(struct nenv *e, unsigned g1, unsigned g2)
{
	struct pt_cfg c2 = smmu_h_s2_cfg(g2, 48), c1 = smmu_h_s1_cfg(g1, 48);

	smmu_h_init(&e->h, NULL);
	smmu_h_guest_init(&e->h, &e->g, GIPA, GSIZE);
	assert_int_equal(pt_init(&e->s2, &c2, smmu_h_host_mem(&e->h)), 0);
	assert_int_equal(pt_map(&e->s2, GIPA, smmu_h_pa(e->g.host), GSIZE, RW,
				1ull << g2),
			 0);
	assert_int_equal(pt_init(&e->s1, &c1, smmu_h_guest_mem(&e->g)), 0);
	e->cd_ipa = smmu_h_guest_alloc(&e->g, 64, 64);
	e->cd = smmu_h_gva(&e->g, e->cd_ipa);
	smmu_h_cd(e->cd, &e->s1, NULL, ASID);
	e->data_ipa = smmu_h_guest_alloc(&e->g, 4u << 20, 2u << 20);
	e->ste = smmu_h_ste(&e->h, 1);
	smmu_h_ste_s1(e->ste, e->cd_ipa, 0, 0, 0);
	smmu_h_ste_s2(e->ste, VMID, &e->s2);
}

static void nenv_fini(struct nenv *e)
{
	pt_destroy(&e->s1);
	pt_destroy(&e->s2);
	smmu_h_fini(&e->h);
}

static uint64_t host_of(struct nenv *e, uint64_t ipa)
{
	return smmu_h_pa(smmu_h_gva(&e->g, ipa));
}

/* Nested: the stage-1 leaf from the walk cache, stage 2 of the output
 * from the leaf cache - one read, no configuration, no walk. */
static void test_nested_miss_from_walk_caches(void **state)
{
	struct nenv e;
	struct ionest_xlate_res r;
	struct ctrs a, b;

	nenv_init(&e, 12, 12);
	assert_int_equal(pt_map(&e.s1, 0x200000, e.data_ipa, 0x4000, RW, 0), 0);
	assert_int_equal(xaddr(&e.h, 1, 0x201000),
			 host_of(&e, e.data_ipa) + 0x1000);
	/* Output IPA of 0x202000 into the leaf cache, then its TLB entry
	 * out (Leaf=1 keeps the walk caches). */
	assert_int_equal(xaddr(&e.h, 1, 0x202000),
			 host_of(&e, e.data_ipa) + 0x2000);
	tlbi_leaf(&e.h, VMID, 0x202000);
	a = ctrs(&e.h);
	r = smmu_h_xlate(&e.h, 1, -1, 0x202abc, W);
	b = ctrs(&e.h);
	assert_int_equal(r.status, IONEST_XLATE_OK);
	assert_int_equal(r.addr, host_of(&e, e.data_ipa) + 0x2abc);
	assert_int_equal(r.perm, R | W);
	assert_int_equal(r.size, 0x1000);
	assert_int_equal(b.walk_read, a.walk_read + 1);
	assert_int_equal(b.s2wc_hit, a.s2wc_hit + 1);
	assert_int_equal(b.cfg_hit, a.cfg_hit);
	assert_int_equal(b.walk, a.walk);
	smmu_h_expect_no_event(&e.h);
	nenv_fini(&e);
}

/* Stage-2 permissions of the cached output still apply. */
static void test_nested_miss_s2_permission(void **state)
{
	struct nenv e;
	struct ionest_xlate_res r;
	uint64_t ro;

	nenv_init(&e, 12, 12);
	ro = e.data_ipa + 0x3000;
	assert_int_equal(pt_unmap(&e.s2, ro, 0x1000, 0, NULL, NULL), 0);
	assert_int_equal(
		pt_map(&e.s2, ro, host_of(&e, ro), 0x1000, PT_PROT_READ, 0), 0);
	assert_int_equal(pt_map(&e.s1, 0x200000, e.data_ipa, 0x4000, RW, 0), 0);
	assert_int_equal(xaddr(&e.h, 1, 0x203000), host_of(&e, ro));
	tlbi_leaf(&e.h, VMID, 0x203000);
	r = smmu_h_xlate(&e.h, 1, -1, 0x203000, W);
	assert_int_equal(r.fault, EVT_F_PERMISSION);
	assert_true(r.stage2);
	assert_int_equal(r.fault_addr, ro);
	smmu_h_expect_event(&e.h, EVT_F_PERMISSION, NULL);
	r = smmu_h_xlate(&e.h, 1, -1, 0x203000, R);
	assert_int_equal(r.status, IONEST_XLATE_OK);
	assert_int_equal(r.perm, R);
	nenv_fini(&e);
}

/* Entries filled from the walk caches carry the VMID and ASID: scoped
 * invalidations find exactly them. */
static void test_nested_miss_tags(void **state)
{
	struct nenv e;
	uint64_t va = 0x201000, d0, d1;

	nenv_init(&e, 12, 12);
	d0 = e.data_ipa;
	d1 = e.data_ipa + 0x10000;
	assert_int_equal(pt_map(&e.s1, 0x200000, d0, 0x2000, RW, 0), 0);
	assert_int_equal(xaddr(&e.h, 1, 0x200000), host_of(&e, d0));
	assert_int_equal(xaddr(&e.h, 1, va), host_of(&e, d0 + 0x1000));
	/* Refilled from the walk caches. */
	tlbi_leaf(&e.h, VMID, va);
	assert_int_equal(xaddr(&e.h, 1, va), host_of(&e, d0 + 0x1000));
	assert_int_equal(pt_unmap(&e.s1, va, 0x1000, 0, NULL, NULL), 0);
	assert_int_equal(pt_map(&e.s1, va, d1, 0x1000, RW, 0), 0);
	/* Another ASID, another VMID: the entry stays. */
	smmu_h_cmd(&e.h, CMD_TLBI_NH_ASID | (uint64_t)VMID << 32 | 8ull << 48,
		   0);
	smmu_h_cmd(&e.h,
		   CMD_TLBI_NH_ASID | (uint64_t)(VMID + 1) << 32 |
			   (uint64_t)ASID << 48,
		   0);
	smmu_h_sync(&e.h);
	assert_int_equal(xaddr(&e.h, 1, va), host_of(&e, d0 + 0x1000));
	/* Its ASID and VMID: gone. */
	smmu_h_cmd(&e.h,
		   CMD_TLBI_NH_ASID | (uint64_t)VMID << 32 |
			   (uint64_t)ASID << 48,
		   0);
	smmu_h_sync(&e.h);
	assert_int_equal(xaddr(&e.h, 1, va), host_of(&e, d1));
	/* A stage-1+2 entry: NH_ALL of another VMID leaves it, of its VMID
	 * drops it. */
	tlbi_leaf(&e.h, VMID, va);
	assert_int_equal(xaddr(&e.h, 1, va), host_of(&e, d1));
	assert_int_equal(pt_unmap(&e.s1, va, 0x1000, 0, NULL, NULL), 0);
	assert_int_equal(pt_map(&e.s1, va, d0, 0x1000, RW, 0), 0);
	smmu_h_cmd(&e.h, CMD_TLBI_NH_ALL | (uint64_t)(VMID + 1) << 32, 0);
	smmu_h_sync(&e.h);
	assert_int_equal(xaddr(&e.h, 1, va), host_of(&e, d1));
	smmu_h_cmd(&e.h, CMD_TLBI_NH_ALL | (uint64_t)VMID << 32, 0);
	smmu_h_sync(&e.h);
	assert_int_equal(xaddr(&e.h, 1, va), host_of(&e, d0));
	nenv_fini(&e);
}

/* Fills from the walk caches are found by the next lookup, whatever
 * their size: 4K (16K stage 1 over 4K stage 2) and 16K (over 16K). */
static void fills_found(unsigned g2, uint64_t size)
{
	struct nenv e;
	struct ctrs a, b;
	uint64_t d;

	nenv_init(&e, 14, g2);
	d = host_of(&e, e.data_ipa);
	assert_int_equal(pt_map(&e.s1, 0x2000000, e.data_ipa, 0x10000, RW, 0),
			 0);
	assert_int_equal(xaddr(&e.h, 1, 0x2000000), d);
	/* Stage 2 of the output pages into the leaf cache; their TLB
	 * entries out. */
	for (uint64_t o = 0x4000; o < 0x10000; o += size)
		assert_int_equal(xaddr(&e.h, 1, 0x2000000 + o), d + o);
	for (uint64_t o = 0x4000; o < 0x10000; o += size)
		tlbi_leaf(&e.h, VMID, 0x2000000 + o);
	a = ctrs(&e.h);
	for (uint64_t o = 0x4000; o < 0x10000; o += size)
		assert_int_equal(xaddr(&e.h, 1, 0x2000000 + o + 0x10),
				 d + o + 0x10);
	b = ctrs(&e.h);
	assert_int_equal(b.walk, a.walk);
	assert_int_equal(b.tlb_miss - a.tlb_miss, 0xc000 / size);
	for (uint64_t o = 0x4000; o < 0x10000; o += size)
		assert_int_equal(
			smmu_h_xlate(&e.h, 1, -1, 0x2000000 + o, R).size, size);
	a = ctrs(&e.h);
	assert_int_equal(a.tlb_hit - b.tlb_hit, 0xc000 / size);
	assert_int_equal(a.tlb_miss, b.tlb_miss);
	nenv_fini(&e);
}

static void test_nested_miss_fill_sizes(void **state)
{
	fills_found(12, 0x1000);
	fills_found(14, 0x4000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_miss_from_walk_cache),
		cmocka_unit_test(test_miss_permissions_wxn),
		cmocka_unit_test(test_miss_el2_global),
		cmocka_unit_test(test_miss_ips),
		cmocka_unit_test(test_miss_oa52),
		cmocka_unit_test(test_hit_rejects_malformed),
		cmocka_unit_test(test_nested_miss_from_walk_caches),
		cmocka_unit_test(test_nested_miss_s2_permission),
		cmocka_unit_test(test_nested_miss_tags),
		cmocka_unit_test(test_nested_miss_fill_sizes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
