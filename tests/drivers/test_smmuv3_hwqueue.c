// SPDX-License-Identifier: MIT
/*
 * The ionest command queue (IOMMU_HW_QUEUE_TYPE_IONEST_CMDQ) on an SMMUv3
 * vIOMMU: the guest's raw 16-byte commands in a ring in its RAM, consumed
 * on the doorbell through the same handler as IOMMU_HWPT_INVALIDATE, so a
 * command has the same effect (TLBI_NH_VA makes a stale nested translation
 * go), the same error (EIO for what a guest may not send) and reaches the
 * physical command queue made physical the same way (VMID and StreamIDs
 * substituted): sx_teardown checks that the SMMU's own queue never saw a
 * bad command, whatever the guest wrote.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <ionest/uapi/iommufd.h>

#include "core/nest_util.h"
#include "smmu_fixture.h"

#define PAGE FX_PAGE
#define IOVA 0x200000ull
#define VSID 0x42ull
#define GASID 7ull
#define CMD(op) ((uint64_t)(op))
#define CMDQ IOMMU_HW_QUEUE_TYPE_IONEST_CMDQ
#define NPAGES 8

struct env {
	struct sx x;
	struct guest g;
	struct pt s1; /* the guest's Arm stage 1 in its RAM (CD 0) */
	uint32_t ioas, parent, viommu, nested;
	uint64_t d1, d2; /* GPAs of two sets of NPAGES data pages */
	int fd;
};

/*
 * Device 0 on a nested HWPT of an SMMUv3 vIOMMU (vSID VSID): the guest's
 * CD 0 (ASID GASID) over a 4K stage 1 mapping IOVA page i to d1 page i,
 * each read once (in the TLB), then remapped to d2 page i without
 * invalidation: pages read 1 while stale, 2 once invalidated.
 */
static void env_setup(struct env *e)
{
	struct iommu_hwpt_arm_smmuv3 ste = { 0 };
	struct vm_cdtab cdtab;
	uint32_t pt;

	memset(e, 0, sizeof(*e));
	sx_setup(&e->x, NULL, 1);
	e->fd = e->x.f.fd;
	guest_init(&e->g, GUEST_GPA, GUEST_LEN);
	e->ioas = fx_ioas(e->fd);
	assert_int_equal(guest_map(&e->g, e->fd, e->ioas), 0);
	e->parent = sx_hwpt(&e->x, 0, e->ioas, IOMMU_HWPT_ALLOC_NEST_PARENT);
	assert_int_equal(nest_viommu_alloc(e->fd, e->x.f.devid[0], e->parent,
					   IOMMU_VIOMMU_TYPE_ARM_SMMUV3,
					   &e->viommu),
			 0);
	assert_int_equal(nest_vdevice_alloc(e->fd, e->viommu, e->x.f.devid[0],
					    VSID, NULL),
			 0);
	assert_int_equal(vm_s1_init(&e->s1, &e->g.vm, VM_S1_ARM64_4K), 0);
	assert_int_equal(vm_cdtab_init(&cdtab, &e->g.vm, 0), 0);
	assert_int_equal(vm_cd_write(&cdtab, 0, &e->s1, GASID), 0);
	vm_cdtab_ste(&cdtab, VM_S1DSS_SSID0, ste.ste);
	assert_int_equal(nest_hwpt_alloc(e->fd, e->x.f.devid[0], e->viommu, 0,
					 IOMMU_HWPT_DATA_ARM_SMMUV3, &ste,
					 sizeof(ste), 0, &e->nested),
			 0);
	pt = e->nested;
	sx_bind_attach(&e->x, 0, &pt);
	e->d1 = guest_alloc(&e->g, NPAGES * PAGE);
	e->d2 = guest_alloc(&e->g, NPAGES * PAGE);
	for (int i = 0; i < NPAGES; i++) {
		*(uint8_t *)guest_va(&e->g, e->d1 + i * PAGE) = 1;
		*(uint8_t *)guest_va(&e->g, e->d2 + i * PAGE) = 2;
	}
	assert_int_equal(vm_s1_map(&e->s1, IOVA, e->d1, NPAGES * PAGE,
				   PT_PROT_WRITE),
			 0);
	for (int i = 0; i < NPAGES; i++) {
		uint8_t b = 0;

		assert_int_equal(fx_dma_read(&e->x.f, 0, IONEST_NO_PASID,
					     IOVA + i * PAGE, &b, 1),
				 0);
		assert_int_equal(b, 1);
	}
	assert_int_equal(vm_s1_unmap(&e->s1, IOVA, NPAGES * PAGE), 0);
	assert_int_equal(vm_s1_map(&e->s1, IOVA, e->d2, NPAGES * PAGE,
				   PT_PROT_WRITE),
			 0);
}

static void env_teardown(struct env *e)
{
	uint64_t ev[4];

	while (sx_event(&e->x, ev))
		;
	sx_teardown(&e->x);
	vm_s1_fini(&e->s1);
	guest_fini(&e->g);
}

/* Pages [0, NPAGES) device 0 sees invalidated (reading 2), as a mask. */
static unsigned fresh(struct env *e)
{
	unsigned m = 0;

	for (int i = 0; i < NPAGES; i++) {
		uint8_t b = 0;

		assert_int_equal(fx_dma_read(&e->x.f, 0, IONEST_NO_PASID,
					     IOVA + i * PAGE, &b, 1),
				 0);
		assert_true(b == 1 || b == 2);
		if (b == 2)
			m |= 1u << i;
	}
	return m;
}

static void tlbi_va(uint64_t c[2], int page)
{
	c[0] = CMD(CMD_TLBI_NH_VA) | GASID << 48;
	c[1] = IOVA + page * PAGE;
}

/* A ring of @n 16-byte commands in guest RAM; its host view in *ring. */
static uint32_t ring_alloc(struct env *e, unsigned n, uint64_t (**ring)[2])
{
	uint64_t gpa = guest_alloc(&e->g, n * 16 > PAGE ? n * 16 : PAGE);
	uint32_t q;

	assert_int_equal(nest_hw_queue_alloc(e->fd, e->viommu, CMDQ, 0, gpa,
					     n * 16, &q),
			 0);
	*ring = guest_va(&e->g, gpa);
	return q;
}

static void test_alloc_rules(void **state)
{
	struct env e;
	uint64_t gpa;
	uint32_t q, q1;

	env_setup(&e);
	gpa = guest_alloc(&e.g, PAGE);
	/* Only our type; entries of 16 bytes: one is the smallest ring. */
	assert_int_equal(nest_hw_queue_alloc(e.fd, e.viommu,
					     IOMMU_HW_QUEUE_TYPE_TEGRA241_CMDQV,
					     0, gpa, PAGE, NULL),
			 -EOPNOTSUPP);
	assert_int_equal(nest_hw_queue_alloc(e.fd, e.viommu, CMDQ, 0, gpa, 8,
					     NULL),
			 -EINVAL);
	assert_int_equal(nest_hw_queue_alloc(e.fd, e.viommu, CMDQ, 0, gpa + 16,
					     16, &q),
			 0);
	assert_int_equal(nest_regs(e.fd, q).log2_entries, 0);
	assert_int_equal(nest_hw_queue_alloc(e.fd, e.viommu, CMDQ, 1, gpa, PAGE,
					     &q1),
			 0);
	assert_int_equal(nest_regs(e.fd, q1).log2_entries, 8);
	assert_int_equal(fx_destroy(e.fd, q), -EBUSY);
	assert_int_equal(fx_destroy(e.fd, e.viommu), -EBUSY);
	assert_int_equal(fx_unmap(e.fd, e.ioas, GUEST_GPA, GUEST_LEN, NULL),
			 -EBUSY);
	assert_int_equal(fx_destroy(e.fd, q1), 0);
	assert_int_equal(fx_destroy(e.fd, q), 0);
	env_teardown(&e);
}

/* TLBI_NH_VA through the queue does what it does through
 * HWPT_INVALIDATE: the stale translation goes, the others stay. */
static void test_tlbi_nh_va(void **state)
{
	struct env e;
	uint64_t(*ring)[2];
	uint64_t t0;
	uint32_t q;

	env_setup(&e);
	q = ring_alloc(&e, 4, &ring);
	assert_int_equal(fresh(&e), 0);
	t0 = sx_ctr(&e.x, drv_tlbi);
	tlbi_va(ring[0], 3);
	assert_int_equal(nest_doorbell(e.fd, q, 1), 0);
	assert_int_equal(fresh(&e), 1u << 3);
	assert_int_equal(sx_ctr(&e.x, drv_tlbi), t0 + 1);
	/* Another ASID: nothing; then the guest's whole ASID. */
	ring[1][0] = CMD(CMD_TLBI_NH_ASID) | (GASID + 1) << 48;
	ring[1][1] = 0;
	assert_int_equal(nest_doorbell(e.fd, q, 2), 0);
	assert_int_equal(fresh(&e), 1u << 3);
	ring[2][0] = CMD(CMD_TLBI_NH_ASID) | GASID << 48;
	ring[2][1] = 0;
	assert_int_equal(nest_doorbell(e.fd, q, 3), 0);
	assert_int_equal(fresh(&e), (1u << NPAGES) - 1);
	env_teardown(&e);
}

/* Many commands in doorbells of every size, the ring wrapping: each one
 * reaches the physical queue once. */
static void test_wrap_many(void **state)
{
	struct env e;
	uint64_t(*ring)[2];
	uint32_t q, prod = 0, sent = 0;
	uint64_t t0;

	env_setup(&e);
	q = ring_alloc(&e, 16, &ring);
	t0 = sx_ctr(&e.x, drv_tlbi);
	for (unsigned k = 0; sent < 300; k = (k + 1) % 17) {
		for (unsigned i = 0; i < k; i++)
			tlbi_va(ring[(prod + i) & 15], (int)((sent + i) % 7));
		prod = (prod + k) & 31;
		sent += k;
		assert_int_equal(nest_doorbell(e.fd, q, prod), 0);
		assert_int_equal(nest_regs(e.fd, q).cons, prod);
	}
	assert_int_equal(sx_ctr(&e.x, drv_tlbi), t0 + sent);
	/* Page 7 was never named. */
	assert_int_equal(fresh(&e), 0x7f);
	env_teardown(&e);
}

/* Every command a guest may not send halts the queue with the errno
 * HWPT_INVALIDATE gives it; the one before it reached the SMMU, the one
 * after it only once the guest skipped the bad one. */
static void test_bad_commands(void **state)
{
	struct env e;
	const uint64_t bad[][2] = {
		{ CMD(CMD_CFGI_STE) | VSID << 32, 1 },
		{ CMD(CMD_SYNC), 0 },
		{ CMD(CMD_TLBI_S12_VMALL), 0 },
		{ CMD(CMD_TLBI_S2_IPA), 0 },
		{ CMD(CMD_PRI_RESP) | VSID << 32, 0 },
		{ 0xff, 0 },
		{ CMD(CMD_CFGI_CD) | (VSID + 1) << 32, 0 }, /* no vDEVICE */
		{ CMD(CMD_ATC_INV) | (VSID + 1) << 32, 0 },
		{ CMD(CMD_TLBI_NH_ALL) | 1ull << 8, 0 }, /* reserved bit */
		{ CMD(CMD_TLBI_NH_ASID), 1 }, /* DW1 must be 0 */
		{ CMD(CMD_TLBI_NH_VA) | 1ull << 12, IOVA }, /* NUM, no TG */
	};
	uint64_t(*ring)[2];
	struct ionest_hw_queue_regs r;
	uint32_t q, prod = 0;

	env_setup(&e);
	q = ring_alloc(&e, 8, &ring);
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint32_t done = 1;
		int rc = nest_invalidate(
			e.fd, e.viommu, IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3,
			bad[i], 16, &done);
		uint64_t t0 = sx_ctr(&e.x, drv_tlbi);

		assert_int_equal(rc, -EIO);
		assert_int_equal(done, 0);
		/* A good one, the bad one, a good one. */
		tlbi_va(ring[prod & 7], 0);
		memcpy(ring[(prod + 1) & 7], bad[i], 16);
		tlbi_va(ring[(prod + 2) & 7], 1);
		assert_int_equal(nest_doorbell(e.fd, q, (prod + 3) & 15), -EIO);
		r = nest_regs(e.fd, q);
		assert_int_equal(r.prod, (prod + 3) & 15);
		assert_int_equal(r.cons, (prod + 1) & 15);
		assert_int_equal(r.err, -rc);
		assert_int_equal(sx_ctr(&e.x, drv_tlbi), t0 + 1);
		assert_int_equal(nest_ack(e.fd, q, IONEST_HW_QUEUE_ACK_SKIP),
				 0);
		assert_int_equal(nest_regs(e.fd, q).cons, (prod + 3) & 15);
		assert_int_equal(sx_ctr(&e.x, drv_tlbi), t0 + 2);
		prod = (prod + 3) & 15;
	}
	/* The pages those named are fresh, the others stale. */
	assert_int_equal(fresh(&e), 0x3);
	env_teardown(&e);
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* A command of an opcode the guest may send with random fields (a vSID
 * that exists half the time), one random bit flipped now and then, or
 * random words. */
static void rnd_cmd(uint64_t *s, uint64_t c[2])
{
	static const uint8_t ops[] = {
		CMD_TLBI_NH_ALL, CMD_TLBI_NH_ASID,  CMD_TLBI_NH_VA,
		CMD_TLBI_NH_VAA, CMD_TLBI_NSNH_ALL, CMD_CFGI_CD,
		CMD_CFGI_CD_ALL, CMD_ATC_INV,
	};
	uint64_t v = rnd(s);
	unsigned op = ops[(v >> 8) % sizeof(ops)];

	if (!(v & 3)) {
		c[0] = rnd(s);
		c[1] = rnd(s);
		return;
	}
	c[1] = 0;
	if (op == CMD_CFGI_CD || op == CMD_CFGI_CD_ALL || op == CMD_ATC_INV) {
		c[0] = op | (v & 4 ? VSID : rnd(s) & 0xff) << 32;
		if (op != CMD_CFGI_CD_ALL)
			c[0] |= (rnd(s) & 0xff) << 12; /* SSID */
		if (op == CMD_ATC_INV)
			c[1] = rnd(s) & ~0xfc0ull; /* address, size */
	} else {
		c[0] = op | (rnd(s) & 0xffff) << 32 |
		       (v & 16 ? GASID : 9) << 48;
		if (op == CMD_TLBI_NH_VA || op == CMD_TLBI_NH_VAA)
			c[1] = IOVA + (rnd(s) % NPAGES) * PAGE;
	}
	if (v & 32)
		c[(v >> 6) & 1] ^= 1ull << ((v >> 7) & 63);
}

/* Random commands: each is refused (EIO), or made physical and handed
 * to the SMMU, whose own queue never reports an error (sx_teardown). */
static void test_garbage(void **state)
{
	struct env e;
	uint64_t(*ring)[2];
	uint64_t seed = 0x243f6a8885a308d3ull, issued;
	unsigned halts = 0;
	uint32_t q;

	env_setup(&e);
	q = ring_alloc(&e, 256, &ring);
	issued = sx_ctr(&e.x, drv_tlbi) + sx_ctr(&e.x, drv_atc_inv) +
		 sx_ctr(&e.x, drv_cmd);
	for (int it = 0; it < 2000; it++) {
		struct ionest_hw_queue_regs r = nest_regs(e.fd, q);
		unsigned k = (unsigned)(rnd(&seed) % 6);
		int rc;

		for (unsigned i = 0; i < k; i++)
			rnd_cmd(&seed, ring[(r.prod + i) & 255]);
		rc = nest_doorbell(e.fd, q, (r.prod + k) & 511);
		while (rc == -EIO) {
			halts++;
			assert_int_equal(nest_regs(e.fd, q).err, EIO);
			rc = nest_ack(e.fd, q, IONEST_HW_QUEUE_ACK_SKIP);
		}
		assert_int_equal(rc, 0);
	}
	issued = sx_ctr(&e.x, drv_tlbi) + sx_ctr(&e.x, drv_atc_inv) +
		 sx_ctr(&e.x, drv_cmd) - issued;
	print_message("# %u refused, %" PRIu64 " issued\n", halts, issued);
	assert_true(halts > 500);
	assert_true(issued > 500);
	/* The queue and the nested translation still work. */
	{
		struct ionest_hw_queue_regs r = nest_regs(e.fd, q);

		ring[r.prod & 255][0] = CMD(CMD_TLBI_NH_ALL);
		ring[r.prod & 255][1] = 0;
		assert_int_equal(nest_doorbell(e.fd, q, (r.prod + 1) & 511), 0);
	}
	assert_int_equal(fresh(&e), (1u << NPAGES) - 1);
	env_teardown(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alloc_rules),
		cmocka_unit_test(test_tlbi_nh_va),
		cmocka_unit_test(test_wrap_many),
		cmocka_unit_test(test_bad_commands),
		cmocka_unit_test(test_garbage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
