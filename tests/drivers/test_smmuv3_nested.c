// SPDX-License-Identifier: MIT
/*
 * SMMUv3 nesting end to end, as a VMM drives it through the uAPI: a guest
 * whose RAM is mapped into an IOAS builds its CD table and stage-1 tables
 * (Arm VMSAv8-64, 4K) in that RAM; the VMM makes a NEST_PARENT HWPT, a
 * vIOMMU, a vDEVICE (vSID) and a nested HWPT from the guest's STE words,
 * forwards the guest's commands with HWPT_INVALIDATE and reads its events
 * from a vEVENTQ (spec/smmuv3.md §10).
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <ionest/uapi/iommufd.h>

#include "core/nest_util.h"
#include "dev/atc.h"
#include "machine/machine.h"
#include "smmu_fixture.h"
#include "util/alloc.h"

#define PAGE FX_PAGE
#define IOVA 0x200000ull
#define VSID 0x42ull
#define GASID 7ull

/* STE / CD / command fields the guest writes (spec/smmuv3.md §4, §5, §8). */
#define STE0_V_ 1ull
#define STE0_CFG(c) ((uint64_t)(c) << 1)
#define STE1_WALK_ATTR (1ull << 2 | 1ull << 4 | 3ull << 6)
#define CMD(op) ((uint64_t)(op))

struct env {
	struct sx x;
	struct guest g;
	struct pt s1; /* the guest's Arm stage 1, in guest RAM */
	bool s1_ready;
	uint32_t ioas, parent, viommu, vdev;
	uint64_t cd, data; /* GPAs of the CD table and the data pages */
};

/* The guest's CD 0: its stage 1, 48-bit IPA space, ASID GASID. */
static void guest_cd(struct env *e, uint64_t gpa, bool valid)
{
	uint64_t *cd = guest_va(&e->g, gpa);

	memset(cd, 0, 64);
	cd[0] = 16 /* T0SZ */ | 1ull << 8 | 1ull << 10 | 3ull << 12 |
		1ull << 30 /* EPD1 */ | (valid ? 1ull << 31 : 0) |
		5ull << 32 /* IPS 48 */ | 1ull << 41 /* AA64 */ | 1ull << 45 |
		1ull << 46 | GASID << 48;
	cd[1] = e->s1.root & 0xffffffffffff0ull;
	cd[3] = 0xff;
}

/* @dc NULL: sx_setup's default functions. */
static void env_setup_devs(struct env *e, struct ionest_device_config *dc,
			   int ndev)
{
	struct pt_cfg cfg = {
		.fmt = PT_FMT_ARM_S1,
		.granule_shift = 12,
		.ias = 48,
		.oas = 48,
		.start_level = -1,
	};

	memset(e, 0, sizeof(*e));
	if (dc)
		sx_setup_devs(&e->x, NULL, dc, ndev);
	else
		sx_setup(&e->x, NULL, ndev);
	guest_init(&e->g, GUEST_GPA, GUEST_LEN);
	e->ioas = fx_ioas(e->x.f.fd);
	assert_int_equal(guest_map(&e->g, e->x.f.fd, e->ioas), 0);
	e->parent = sx_hwpt(&e->x, 0, e->ioas, IOMMU_HWPT_ALLOC_NEST_PARENT);
	assert_int_equal(
		nest_viommu_alloc(e->x.f.fd, e->x.f.devid[0], e->parent,
				  IOMMU_VIOMMU_TYPE_ARM_SMMUV3, &e->viommu),
		0);
	assert_int_equal(nest_vdevice_alloc(e->x.f.fd, e->viommu,
					    e->x.f.devid[0], VSID, &e->vdev),
			 0);
	assert_int_equal(pt_init(&e->s1, &cfg, vm_pt_mem(&e->g.vm)), 0);
	e->s1_ready = true;
	e->cd = guest_alloc(&e->g, PAGE);
	guest_cd(e, e->cd, true);
	e->data = guest_alloc(&e->g, 4 * PAGE);
	assert_int_equal(pt_map(&e->s1, IOVA, e->data, 2 * PAGE,
				PT_PROT_READ | PT_PROT_WRITE, 0),
			 0);
}

static void env_setup(struct env *e, int ndev)
{
	env_setup_devs(e, NULL, ndev);
}

static void env_teardown(struct env *e)
{
	uint64_t ev[4];

	while (sx_event(&e->x, ev))
		;
	sx_teardown(&e->x);
	if (e->s1_ready)
		pt_destroy(&e->s1);
	guest_fini(&e->g);
}

/* The guest's STE for a linear CD table of one CD at @cd. */
static void ste_s1(uint64_t ste[2], uint64_t cd)
{
	ste[0] = STE0_V_ | STE0_CFG(5) | (cd & 0xffffffffffc0ull);
	ste[1] = STE1_WALK_ATTR;
}

static int nested(struct env *e, const uint64_t ste[2], uint32_t *out)
{
	struct iommu_hwpt_arm_smmuv3 d = { .ste = { ste[0], ste[1] } };

	return nest_hwpt_alloc(e->x.f.fd, e->x.f.devid[0], e->viommu, 0,
			       IOMMU_HWPT_DATA_ARM_SMMUV3, &d, sizeof(d), 0,
			       out);
}

static uint32_t nested_s1(struct env *e)
{
	uint64_t ste[2];
	uint32_t id;

	ste_s1(ste, e->cd);
	assert_int_equal(nested(e, ste, &id), 0);
	return id;
}

/* Raw guest commands through HWPT_INVALIDATE on the vIOMMU. */
static int inv(struct env *e, const uint64_t (*cmds)[2], uint32_t n,
	       uint32_t *done)
{
	*done = n;
	return nest_invalidate(e->x.f.fd, e->viommu,
			       IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3, cmds,
			       16, done);
}

static int inv1(struct env *e, uint64_t c0, uint64_t c1)
{
	const uint64_t c[1][2] = { { c0, c1 } };
	uint32_t done;
	int rc = inv(e, c, 1, &done);

	assert_int_equal(done, rc ? 0 : 1);
	return rc;
}

static int dma_rd(struct env *e, int i, uint64_t iova, uint8_t *b)
{
	return fx_dma_read(&e->x.f, i, IONEST_NO_PASID, iova, b, 1);
}

/* ---- DMA ---- */

static void test_dma_lands(void **state)
{
	struct env e;
	uint8_t buf[64], *host;
	uint32_t n;

	env_setup(&e, 1);
	n = nested_s1(&e);
	sx_bind_attach(&e.x, 0, &n);
	/* The STE is nested (Config 7) over the parent's stage 2. */
	assert_int_equal(STE0_CONFIG(sx_master(&e.x, 0)->ste[0]),
			 STE_CFG_NESTED);
	host = guest_va(&e.g, e.data);
	for (unsigned i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + 1);
	assert_int_equal(fx_dma_write(&e.x.f, 0, IONEST_NO_PASID,
				      IOVA + PAGE + 100, buf, sizeof(buf)),
			 0);
	assert_memory_equal(host + PAGE + 100, buf, sizeof(buf));
	assert_int_equal(host[PAGE + 99], 0);
	assert_int_equal(host[PAGE + 164], 0);
	host[5] = 0x5a;
	assert_int_equal(dma_rd(&e, 0, IOVA + 5, buf), 0);
	assert_int_equal(buf[0], 0x5a);
	/* Not in the guest's stage 1: a fault. */
	assert_int_not_equal(dma_rd(&e, 0, IOVA + 2 * PAGE, buf), 0);
	env_teardown(&e);
}

/* ---- Invalidation ---- */

/* Retarget IOVA to data page 2 (no invalidation yet). */
static void retarget(struct env *e)
{
	uint64_t unmapped;
	uint8_t *host = guest_va(&e->g, e->data);

	host[0] = 1;
	host[2 * PAGE] = 2;
	assert_int_equal(pt_unmap(&e->s1, IOVA, PAGE, 0, NULL, &unmapped), 0);
	assert_int_equal(pt_map(&e->s1, IOVA, e->data + 2 * PAGE, PAGE,
				PT_PROT_READ | PT_PROT_WRITE, 0),
			 0);
}

static void check_inv(uint64_t c0, uint64_t c1)
{
	struct env e;
	uint32_t n;
	uint8_t b;

	env_setup(&e, 1);
	n = nested_s1(&e);
	sx_bind_attach(&e.x, 0, &n);
	((uint8_t *)guest_va(&e.g, e.data))[0] = 1;
	assert_int_equal(dma_rd(&e, 0, IOVA, &b), 0);
	assert_int_equal(b, 1);
	retarget(&e);
	/* Cached: the change is invisible until the guest invalidates. */
	assert_int_equal(dma_rd(&e, 0, IOVA, &b), 0);
	assert_int_equal(b, 1);
	assert_int_equal(inv1(&e, c0, c1), 0);
	assert_int_equal(dma_rd(&e, 0, IOVA, &b), 0);
	assert_int_equal(b, 2);
	env_teardown(&e);
}

static void test_inv_nh_va(void **state)
{
	/* The guest's VMID field (0) is replaced by the vIOMMU's. */
	check_inv(CMD(CMD_TLBI_NH_VA) | GASID << 48, IOVA);
}

static void test_inv_nh_vaa(void **state)
{
	check_inv(CMD(CMD_TLBI_NH_VAA), IOVA);
}

static void test_inv_nh_asid(void **state)
{
	check_inv(CMD(CMD_TLBI_NH_ASID) | GASID << 48, 0);
}

static void test_inv_nh_all(void **state)
{
	check_inv(CMD(CMD_TLBI_NH_ALL), 0);
}

static void test_inv_nsnh_all(void **state)
{
	check_inv(CMD(CMD_TLBI_NSNH_ALL), 0);
}

static void test_inv_other_asid_keeps(void **state)
{
	struct env e;
	uint32_t n;
	uint8_t b;

	env_setup(&e, 1);
	n = nested_s1(&e);
	sx_bind_attach(&e.x, 0, &n);
	assert_int_equal(dma_rd(&e, 0, IOVA, &b), 0);
	retarget(&e);
	/* Another ASID's invalidation does not touch this one. */
	assert_int_equal(inv1(&e, CMD(CMD_TLBI_NH_ASID) | (GASID + 1) << 48, 0),
			 0);
	assert_int_equal(dma_rd(&e, 0, IOVA, &b), 0);
	assert_int_equal(b, 1);
	env_teardown(&e);
}

static void test_inv_cfgi_cd(void **state)
{
	struct env e;
	uint32_t n;
	uint8_t b;
	uint64_t ev[4];

	env_setup(&e, 1);
	n = nested_s1(&e);
	sx_bind_attach(&e.x, 0, &n);
	assert_int_equal(dma_rd(&e, 0, IOVA, &b), 0);
	/* The guest invalidates its CD: CFGI_CD by vSID, then the TLB. */
	guest_cd(&e, e.cd, false);
	assert_int_equal(inv1(&e, CMD(CMD_CFGI_CD) | VSID << 32, 0), 0);
	assert_int_equal(inv1(&e, CMD(CMD_TLBI_NH_ASID) | GASID << 48, 0), 0);
	assert_int_not_equal(dma_rd(&e, 0, IOVA, &b), 0);
	/* CFGI_CD_ALL with the CD valid again. */
	guest_cd(&e, e.cd, true);
	assert_int_equal(inv1(&e, CMD(CMD_CFGI_CD_ALL) | VSID << 32, 0), 0);
	assert_int_equal(dma_rd(&e, 0, IOVA, &b), 0);
	while (sx_event(&e.x, ev))
		;
	env_teardown(&e);
}

static void test_inv_errors(void **state)
{
	struct env e;
	uint32_t n, done;
	uint64_t c[3][2] = {
		{ CMD(CMD_TLBI_NH_ALL), 0 },
		{ CMD(CMD_TLBI_NH_ASID) | GASID << 48, 0 },
		{ CMD(CMD_CFGI_STE) | VSID << 32, 1 },
	};
	uint64_t bad[][2] = {
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

	env_setup(&e, 1);
	n = nested_s1(&e);
	sx_bind_attach(&e.x, 0, &n);
	/* Stops at the bad entry: two handled. */
	assert_int_equal(inv(&e, c, 3, &done), -EIO);
	assert_int_equal(done, 2);
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(inv(&e, &bad[i], 1, &done), -EIO);
		assert_int_equal(done, 0);
	}
	/* A long array (several command batches) is handled whole. */
	{
		static uint64_t many[100][2];

		for (unsigned i = 0; i < 100; i++) {
			many[i][0] = CMD(CMD_TLBI_NH_VA) | GASID << 48;
			many[i][1] = IOVA + i * PAGE;
		}
		uint64_t t0 = sx_ctr(&e.x, drv_tlbi);

		assert_int_equal(inv(&e, many, 100, &done), 0);
		assert_int_equal(done, 100);
		assert_int_equal(sx_ctr(&e.x, drv_tlbi), t0 + 100);
	}
	/* entry_num 0 probes the type. */
	assert_int_equal(inv(&e, c, 0, &done), 0);
	assert_int_equal(done, 0);
	done = 1;
	assert_int_equal(nest_invalidate(e.x.f.fd, e.viommu,
					 IOMMU_HWPT_INVALIDATE_DATA_VTD_S1, c,
					 16, &done),
			 -EINVAL);
	assert_int_equal(done, 0);
	/* A short entry. */
	done = 1;
	assert_int_equal(
		nest_invalidate(e.x.f.fd, e.viommu,
				IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3, c, 8,
				&done),
		-EINVAL);
	assert_int_equal(done, 0);
	/* The queue stayed clean (sx_teardown checks): DMA still works. */
	assert_int_equal(dma_rd(&e, 0, IOVA, (uint8_t *)&done), 0);
	env_teardown(&e);
}

/* ---- Guest STE words ---- */

static void test_ste_checks(void **state)
{
	struct env e;
	uint64_t ste[2];
	uint32_t id;
	struct iommu_hwpt_arm_smmuv3 d = { .ste = { 0, 0 } };

	env_setup(&e, 1);
	ste_s1(ste, e.cd);
	/* Fields the guest may not own. */
	ste[0] |= 1ull << 53;
	assert_int_equal(nested(&e, ste, &id), -EIO);
	ste_s1(ste, e.cd);
	ste[1] |= 1ull << 8;
	assert_int_equal(nested(&e, ste, &id), -EIO);
	ste_s1(ste, e.cd);
	ste[1] |= 1ull << 19; /* MEV is the host's */
	assert_int_equal(nested(&e, ste, &id), -EIO);
	/* Config stage 2 or nested, EATS split: not for a guest. */
	for (unsigned c = 6; c <= 7; c++) {
		ste_s1(ste, e.cd);
		ste[0] = (ste[0] & ~STE0_CFG(7)) | STE0_CFG(c);
		assert_int_equal(nested(&e, ste, &id), -EIO);
	}
	ste_s1(ste, e.cd);
	ste[1] |= 2ull << 28;
	assert_int_equal(nested(&e, ste, &id), -EIO);
	/* V=0: anything else is ignored (an abort STE). */
	ste[0] = 1ull << 53 | STE0_CFG(6);
	ste[1] = ~0ull;
	assert_int_equal(nested(&e, ste, &id), 0);
	assert_int_equal(fx_destroy(e.x.f.fd, id), 0);
	/* SMMUv3 nests only through a vIOMMU (as Linux). */
	ste_s1(ste, e.cd);
	d = (struct iommu_hwpt_arm_smmuv3){ .ste = { ste[0], ste[1] } };
	assert_int_equal(nest_hwpt_alloc(e.x.f.fd, e.x.f.devid[0], e.parent, 0,
					 IOMMU_HWPT_DATA_ARM_SMMUV3, &d,
					 sizeof(d), 0, &id),
			 -EOPNOTSUPP);
	memset(&d, 0, sizeof(d));
	/* Data of another type, or of the wrong size. */
	assert_int_equal(nest_hwpt_alloc(e.x.f.fd, e.x.f.devid[0], e.viommu, 0,
					 IOMMU_HWPT_DATA_VTD_S1, &d, sizeof(d),
					 0, &id),
			 -EOPNOTSUPP);
	assert_int_equal(nest_hwpt_alloc(e.x.f.fd, e.x.f.devid[0], e.viommu, 0,
					 IOMMU_HWPT_DATA_ARM_SMMUV3, &d, 8, 0,
					 &id),
			 -EINVAL);
	env_teardown(&e);
}

static void test_abort_and_bypass(void **state)
{
	struct env e;
	uint64_t ste[2] = { 0, 0 };
	uint32_t ab, by, s1;
	uint8_t b;
	uint8_t *host;

	env_setup(&e, 1);
	host = guest_va(&e.g, e.data);
	host[0] = 0x77;
	/* Without a vDEVICE: abort and bypass attach, stage 1 does not. */
	assert_int_equal(fx_destroy(e.x.f.fd, e.vdev), 0);
	assert_int_equal(nested(&e, ste, &ab), 0);
	ste[0] = STE0_V_ | STE0_CFG(4);
	assert_int_equal(nested(&e, ste, &by), 0);
	s1 = nested_s1(&e);
	assert_int_equal(fx_attach(&e.x.f, 0, &s1), -ENOENT);
	assert_int_equal(fx_attach(&e.x.f, 0, &ab), 0);
	assert_int_equal(STE0_CONFIG(sx_master(&e.x, 0)->ste[0]),
			 STE_CFG_ABORT);
	assert_int_not_equal(dma_rd(&e, 0, e.data, &b), 0);
	/* Bypass: the GPA through the parent alone. */
	assert_int_equal(fx_attach(&e.x.f, 0, &by), 0);
	assert_int_equal(dma_rd(&e, 0, e.data, &b), 0);
	assert_int_equal(b, 0x77);
	assert_int_equal(fx_detach(&e.x.f, 0), 0);
	env_teardown(&e);
}

/* ---- Events ---- */

static int veventq_of(struct env *e, uint32_t *id)
{
	int qfd = -1;

	assert_int_equal(nest_veventq_alloc(e->x.f.fd, e->viommu,
					    IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, 8,
					    id, &qfd),
			 0);
	return qfd;
}

struct vrec {
	struct iommufd_vevent_header h;
	struct iommu_vevent_arm_smmuv3 ev;
};

static void test_vevent_s1_fault(void **state)
{
	struct env e;
	uint32_t n, q;
	struct vrec r[2];
	uint64_t ev[4], cnt;
	uint8_t b;
	int qfd;

	env_setup(&e, 1);
	qfd = veventq_of(&e, &q);
	n = nested_s1(&e);
	sx_bind_attach(&e.x, 0, &n);
	cnt = sx_ctr(&e.x, drv_event);
	assert_int_not_equal(dma_rd(&e, 0, IOVA + 3 * PAGE, &b), 0);
	/* Counted by the host, delivered to the guest. */
	assert_int_equal(sx_ctr(&e.x, drv_event), cnt + 1);
	assert_int_equal(ionest_read(qfd, r, sizeof(r)), sizeof(r[0]));
	assert_int_equal(r[0].h.flags, 0);
	assert_int_equal(r[0].ev.evt[0] & 0xff, EVT_F_TRANSLATION);
	assert_int_equal(r[0].ev.evt[0] >> 32, VSID);
	assert_false(r[0].ev.evt[1] & EVT1_S2);
	assert_int_equal(r[0].ev.evt[2], IOVA + 3 * PAGE);
	/* The guest's, not the host's. */
	assert_false(sx_event(&e.x, ev));
	/* A bad CD is the guest's too. */
	guest_cd(&e, e.cd, false);
	assert_int_equal(inv1(&e, CMD(CMD_CFGI_CD_ALL) | VSID << 32, 0), 0);
	assert_int_equal(inv1(&e, CMD(CMD_TLBI_NSNH_ALL), 0), 0);
	assert_int_not_equal(dma_rd(&e, 0, IOVA, &b), 0);
	assert_int_equal(ionest_read(qfd, r, sizeof(r)), sizeof(r[0]));
	assert_int_equal(r[0].ev.evt[0] & 0xff, EVT_C_BAD_CD);
	assert_int_equal(r[0].ev.evt[0] >> 32, VSID);
	assert_int_equal(fx_detach(&e.x.f, 0), 0);
	assert_int_equal(ionest_close(qfd), 0);
	env_teardown(&e);
}

static void test_malformed_guest_tables(void **state)
{
	struct env e;
	uint32_t n, q, bad;
	struct vrec r[2];
	uint64_t ste[2], ev[4], *pte;
	uint8_t b;
	int qfd;
	bool host_ev = false;

	env_setup(&e, 1);
	qfd = veventq_of(&e, &q);
	/* A CD table outside guest RAM: the fetch faults at stage 2, which
	 * the host keeps; nothing reaches host memory. */
	ste_s1(ste, 0x7000000000ull);
	assert_int_equal(nested(&e, ste, &bad), 0);
	sx_bind_attach(&e.x, 0, &bad);
	assert_int_not_equal(dma_rd(&e, 0, IOVA, &b), 0);
	while (sx_event(&e.x, ev)) {
		if ((ev[0] >> 32) == sx_master(&e.x, 0)->sid &&
		    (ev[1] & EVT1_S2))
			host_ev = true;
	}
	assert_true(host_ev);
	/* An empty vEVENTQ reads 0. */
	assert_int_equal(ionest_read(qfd, r, sizeof(r)), 0);
	/* A reserved S1Fmt: the STE is the guest's fault (C_BAD_STE). */
	ste_s1(ste, e.cd);
	ste[0] |= 3ull << 4;
	assert_int_equal(nested(&e, ste, &n), 0);
	assert_int_equal(fx_detach(&e.x.f, 0), 0);
	assert_int_equal(fx_attach(&e.x.f, 0, &n), 0);
	assert_int_not_equal(dma_rd(&e, 0, IOVA, &b), 0);
	assert_int_equal(ionest_read(qfd, r, sizeof(r)), sizeof(r[0]));
	assert_int_equal(r[0].ev.evt[0] & 0xff, EVT_C_BAD_STE);
	assert_int_equal(r[0].ev.evt[0] >> 32, VSID);
	/* A stage-1 table entry pointing outside guest RAM. */
	n = nested_s1(&e);
	assert_int_equal(fx_detach(&e.x.f, 0), 0);
	assert_int_equal(fx_attach(&e.x.f, 0, &n), 0);
	pte = vm_ptr(&e.g.vm, e.s1.root, 8);
	assert_non_null(pte);
	*pte = 0x7000000000ull | 3;
	assert_int_equal(inv1(&e, CMD(CMD_TLBI_NSNH_ALL), 0), 0);
	assert_int_not_equal(dma_rd(&e, 0, IOVA, &b), 0);
	host_ev = false;
	while (sx_event(&e.x, ev))
		host_ev |= (ev[1] & EVT1_S2) != 0;
	assert_true(host_ev);
	assert_int_equal(fx_detach(&e.x.f, 0), 0);
	assert_int_equal(ionest_close(qfd), 0);
	*pte = 0; /* pt_destroy walks the guest tables */
	e.s1_ready = false;
	env_teardown(&e);
}

/* ---- ATS ---- */

static int ats_rd(struct env *e, uint64_t iova, uint8_t *b)
{
	return ionest_device_dma(e->x.f.m, e->x.f.dev[0], IONEST_NO_PASID, iova,
				 b, 1, IONEST_DMA_FROM_MEM | IONEST_DMA_ATS);
}

/* EATS=1 from the guest enables ATS; the guest's ATC_INV (by vSID) and
 * the host's stage-2 unmap both reach the function's ATC. */
static void test_nested_ats(void **state)
{
	const uint64_t xgpa = 0x80000000ull, xiova = IOVA + 8 * PAGE;
	struct env e;
	struct dev_atc *atc;
	uint8_t *xp = fx_alloc(PAGE, PAGE), b;
	uint64_t ste[2], fills;
	uint32_t n, plain;

	env_setup(&e, 1);
	atc = &machine_device(e.x.f.m, e.x.f.dev[0])->atc;
	xp[0] = 0x81;
	sx_map(&e.x, e.ioas, xp, PAGE, xgpa);
	assert_int_equal(pt_map(&e.s1, xiova, xgpa, PAGE,
				PT_PROT_READ | PT_PROT_WRITE, 0),
			 0);
	/* Without EATS from the guest: no ATS. */
	n = nested_s1(&e);
	sx_bind_attach(&e.x, 0, &n);
	assert_false(sx_master(&e.x, 0)->ats);
	assert_int_not_equal(ats_rd(&e, IOVA, &b), 0);
	ste_s1(ste, e.cd);
	ste[1] |= (uint64_t)EATS_TRANS << 28;
	assert_int_equal(nested(&e, ste, &n), 0);
	assert_int_equal(fx_detach(&e.x.f, 0), 0);
	assert_int_equal(fx_attach(&e.x.f, 0, &n), 0);
	assert_int_equal(STE1_EATS(sx_master(&e.x, 0)->ste[1]), EATS_TRANS);
	assert_true(sx_master(&e.x, 0)->ats);
	((uint8_t *)guest_va(&e.g, e.data))[0] = 1;
	assert_int_equal(ats_rd(&e, IOVA, &b), 0);
	assert_int_equal(b, 1);
	fills = atc->fills;
	/* The guest retargets IOVA and invalidates its TLB only: the ATC
	 * still answers; its ATC_INV (vSID) drops it. */
	retarget(&e);
	assert_int_equal(inv1(&e, CMD(CMD_TLBI_NH_ALL), 0), 0);
	assert_int_equal(ats_rd(&e, IOVA, &b), 0);
	assert_int_equal(b, 1);
	assert_int_equal(atc->fills, fills);
	assert_int_equal(inv1(&e, CMD(CMD_ATC_INV) | VSID << 32, 52), 0);
	assert_int_equal(ats_rd(&e, IOVA, &b), 0);
	assert_int_equal(b, 2);
	/* The host unmaps a GPA the guest maps: the ATC (guest IOVAs) is
	 * invalidated whole before the unmap returns. */
	assert_int_equal(ats_rd(&e, xiova, &b), 0);
	assert_int_equal(b, 0x81);
	assert_int_equal(fx_unmap(e.x.f.fd, e.ioas, xgpa, PAGE, NULL), 0);
	assert_int_not_equal(ats_rd(&e, xiova, &b), 0);
	/* Back on a plain stage-2 domain: ATS as for any paging domain. */
	plain = e.parent;
	assert_int_equal(fx_detach(&e.x.f, 0), 0);
	assert_int_equal(fx_attach(&e.x.f, 0, &plain), 0);
	assert_int_equal(fx_detach(&e.x.f, 0), 0);
	assert_false(sx_master(&e.x, 0)->ats);
	env_teardown(&e);
	fx_free(xp, PAGE);
}

/* ---- I/O page faults ---- */

/* A PRI function on a nested HWPT with a fault queue: page requests of
 * the guest's stage 1, for the RID and for a PASID the guest's CD table
 * holds (no host attachment of its own), reach the VMM; its answer goes
 * back as PRI_RESP and the retried DMA goes through. */
static void test_nested_iopf(void **state)
{
	struct ionest_device_config dc = {
		.rid = 0x100, .pasid_bits = 8, .ats = true, .pri = true
	};
	struct iommu_fault_alloc fa = { .size = sizeof(fa) };
	struct iommu_hwpt_arm_smmuv3 d;
	struct iommu_hwpt_pgfault rec;
	struct iommu_hwpt_page_response r;
	struct env e;
	uint64_t ste[2], *cd1;
	uint8_t *host, b = 0x5c;
	uint32_t n;

	env_setup_devs(&e, &dc, 1);
	assert_int_equal(fx_ioctl(e.x.f.fd, IOMMU_FAULT_QUEUE_ALLOC, &fa), 0);
	/* Two CDs: CD 0 for the RID (S1DSS=0b10), CD 1 for PASID 1 with
	 * another ASID over the same tables. */
	guest_cd(&e, e.cd + 64, true);
	cd1 = guest_va(&e.g, e.cd + 64);
	cd1[0] = (cd1[0] & ~(0xffffull << 48)) | (GASID + 1) << 48;
	ste_s1(ste, e.cd);
	ste[0] |= 1ull << 59; /* S1CDMax: 2 CDs */
	ste[1] |= 2; /* S1DSS: SubstreamID 0 */
	d = (struct iommu_hwpt_arm_smmuv3){ .ste = { ste[0], ste[1] } };
	assert_int_equal(nest_hwpt_alloc(e.x.f.fd, e.x.f.devid[0], e.viommu,
					 IOMMU_HWPT_FAULT_ID_VALID,
					 IOMMU_HWPT_DATA_ARM_SMMUV3, &d,
					 sizeof(d), fa.out_fault_id, &n),
			 0);
	assert_int_equal(fx_attach(&e.x.f, 0, &n), 0);
	host = guest_va(&e.g, e.data);
	for (uint32_t pasid = 0; pasid < 2; pasid++) {
		uint32_t p = pasid ? pasid : IONEST_NO_PASID;
		uint64_t iova = IOVA + (2 + pasid) * PAGE;

		assert_int_equal(fx_dma_write(&e.x.f, 0, p, iova + 9, &b, 1),
				 -EAGAIN);
		assert_int_equal(ionest_read((int)fa.out_fault_fd, &rec,
					     sizeof(rec)),
				 sizeof(rec));
		assert_int_equal(rec.dev_id, e.x.f.devid[0]);
		assert_int_equal(rec.addr, iova);
		assert_int_equal(rec.perm, IOMMU_PGFAULT_PERM_WRITE);
		assert_int_equal(!!(rec.flags &
				    IOMMU_PGFAULT_FLAGS_PASID_VALID),
				 pasid != 0);
		if (pasid)
			assert_int_equal(rec.pasid, pasid);
		/* The guest maps the page, the VMM answers. */
		assert_int_equal(pt_map(&e.s1, iova,
					e.data + (2 + pasid) * PAGE, PAGE,
					PT_PROT_READ | PT_PROT_WRITE, 0),
				 0);
		r = (struct iommu_hwpt_page_response){
			.cookie = rec.cookie, .code = IOMMUFD_PAGE_RESP_SUCCESS
		};
		assert_int_equal(ionest_write((int)fa.out_fault_fd, &r,
					      sizeof(r)),
				 sizeof(r));
		assert_int_equal(fx_dma_write(&e.x.f, 0, p, iova + 9, &b, 1),
				 0);
		assert_int_equal(host[(2 + pasid) * PAGE + 9], 0x5c);
	}
	assert_int_equal(sx_ctr(&e.x, drv_page_resp), 2);
	assert_int_equal(fx_detach(&e.x.f, 0), 0);
	assert_int_equal(ionest_close((int)fa.out_fault_fd), 0);
	env_teardown(&e);
}

/* ---- The host keeps working ---- */

static void test_other_device(void **state)
{
	struct env e;
	uint32_t n, ioas2, h2;
	uint8_t *mem, b;

	env_setup(&e, 2);
	n = nested_s1(&e);
	sx_bind_attach(&e.x, 0, &n);
	ioas2 = fx_ioas(e.x.f.fd);
	mem = fx_alloc(PAGE, PAGE);
	mem[3] = 0x33;
	sx_map(&e.x, ioas2, mem, PAGE, IOVA);
	h2 = sx_hwpt(&e.x, 1, ioas2, 0);
	sx_bind_attach(&e.x, 1, &h2);
	((uint8_t *)guest_va(&e.g, e.data))[3] = 0x44;
	assert_int_equal(dma_rd(&e, 1, IOVA + 3, &b), 0);
	assert_int_equal(b, 0x33);
	assert_int_equal(dma_rd(&e, 0, IOVA + 3, &b), 0);
	assert_int_equal(b, 0x44);
	/* The guest invalidating everything leaves device 1 alone. */
	assert_int_equal(inv1(&e, CMD(CMD_TLBI_NSNH_ALL), 0), 0);
	assert_int_equal(dma_rd(&e, 1, IOVA + 3, &b), 0);
	assert_int_equal(b, 0x33);
	/* Device 1 has no vDEVICE: its SID is not the guest's to name. */
	assert_int_equal(inv1(&e,
			      CMD(CMD_CFGI_CD_ALL) |
				      (uint64_t)sx_master(&e.x, 1)->sid << 32,
			      0),
			 -EIO);
	env_teardown(&e);
	fx_free(mem, PAGE);
}

static void test_viommu_alloc_rules(void **state)
{
	struct env e;
	uint32_t id, plain;

	env_setup(&e, 1);
	plain = sx_hwpt(&e.x, 0, e.ioas, 0);
	assert_int_equal(nest_viommu_alloc(e.x.f.fd, e.x.f.devid[0], plain,
					   IOMMU_VIOMMU_TYPE_ARM_SMMUV3, &id),
			 -EINVAL);
	assert_int_equal(nest_viommu_alloc(e.x.f.fd, e.x.f.devid[0], e.parent,
					   IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV,
					   &id),
			 -EOPNOTSUPP);
	/* vSIDs are 32-bit StreamIDs. */
	assert_int_equal(fx_destroy(e.x.f.fd, e.vdev), 0);
	assert_int_equal(nest_vdevice_alloc(e.x.f.fd, e.viommu, e.x.f.devid[0],
					    1ull << 32, &id),
			 -EINVAL);
	env_teardown(&e);
}

/* ---- Attachment rules ---- */

static void test_replace_and_pasids(void **state)
{
	struct env e;
	uint64_t ste[2], cd2;
	uint32_t n1, n2, h, ioas2;
	uint64_t ev[4];
	uint8_t *host, b;

	env_setup(&e, 1);
	host = guest_va(&e.g, e.data);
	host[0] = 1;
	host[2 * PAGE] = 2;
	n1 = nested_s1(&e);
	sx_bind_attach(&e.x, 0, &n1);
	assert_int_equal(dma_rd(&e, 0, IOVA, &b), 0);
	assert_int_equal(b, 1);
	/* The guest's CFGI_STE: the VMM replaces the nested HWPT by one
	 * whose CD has another stage 1 (IOVA -> data page 2). */
	{
		struct pt s1b;
		struct pt_cfg cfg = e.s1.cfg;
		uint64_t *cd;

		assert_int_equal(pt_init(&s1b, &cfg, vm_pt_mem(&e.g.vm)), 0);
		assert_int_equal(pt_map(&s1b, IOVA, e.data + 2 * PAGE, PAGE,
					PT_PROT_READ, 0),
				 0);
		cd2 = guest_alloc(&e.g, PAGE);
		guest_cd(&e, cd2, true);
		cd = guest_va(&e.g, cd2);
		cd[1] = s1b.root;
		cd[0] = (cd[0] & ~(0xffffull << 48)) | (GASID + 3) << 48;
		pt_destroy(&s1b); /* a bump allocator: the tables stay */
	}
	ste_s1(ste, cd2);
	assert_int_equal(nested(&e, ste, &n2), 0);
	assert_int_equal(fx_attach(&e.x.f, 0, &n2), 0);
	assert_int_equal(dma_rd(&e, 0, IOVA, &b), 0);
	assert_int_equal(b, 2);
	/* A HWPT in use cannot go; the old one can. */
	assert_int_equal(fx_destroy(e.x.f.fd, n2), -EBUSY);
	assert_int_equal(fx_destroy(e.x.f.fd, n1), 0);
	/* The guest owns the PASIDs of a nested RID: no host PASID. */
	ioas2 = fx_ioas(e.x.f.fd);
	h = sx_hwpt(&e.x, 0, ioas2, IOMMU_HWPT_ALLOC_PASID);
	assert_int_not_equal(fx_attach_pasid(&e.x.f, 0, 3, &h), 0);
	/* And a nested RID attach with host PASIDs in the CD table. */
	assert_int_equal(fx_detach(&e.x.f, 0), 0);
	assert_int_equal(fx_attach_pasid(&e.x.f, 0, 3, &h), 0);
	assert_int_not_equal(fx_attach(&e.x.f, 0, &n2), 0);
	assert_int_equal(fx_detach_pasid(&e.x.f, 0, 3), 0);
	assert_int_equal(fx_attach(&e.x.f, 0, &n2), 0);
	assert_int_equal(dma_rd(&e, 0, IOVA, &b), 0);
	assert_int_equal(b, 2);
	/* No vEVENTQ: a stage-1 fault stays with the host. */
	assert_int_not_equal(dma_rd(&e, 0, IOVA + PAGE, &b), 0);
	assert_true(sx_event(&e.x, ev));
	assert_int_equal(ev[0] & 0xff, EVT_F_TRANSLATION);
	assert_int_equal(ev[0] >> 32, sx_master(&e.x, 0)->sid);
	env_teardown(&e);
}

/* The device goes away with everything attached: the core tombstones its
 * vDEVICE; the rest is destroyed afterwards without leaks. */
static void test_unbind_while_nested(void **state)
{
	struct env e;
	uint32_t n, q;
	uint8_t b;
	int qfd;

	env_setup(&e, 1);
	qfd = veventq_of(&e, &q);
	n = nested_s1(&e);
	sx_bind_attach(&e.x, 0, &n);
	assert_int_equal(dma_rd(&e, 0, IOVA, &b), 0);
	assert_int_equal(ionest_close(e.x.f.cdev[0]), 0);
	e.x.f.cdev[0] = -1;
	assert_int_equal(STE0_CONFIG(sx_master(&e.x, 0)->ste[0]),
			 STE_CFG_ABORT);
	assert_int_not_equal(dma_rd(&e, 0, IOVA, &b), 0);
	/* The vSID names nothing any more. */
	assert_int_equal(inv1(&e, CMD(CMD_CFGI_CD_ALL) | VSID << 32, 0), -EIO);
	assert_int_equal(inv1(&e, CMD(CMD_TLBI_NSNH_ALL), 0), 0);
	/* The rest goes with the iommufd (leak-free under ASan). */
	assert_int_equal(ionest_close(qfd), 0);
	env_teardown(&e);
}

/* Faulting DMA (vEVENTs) on one thread while another replaces and frees
 * nested HWPTs: no event names a freed domain (ASan). */
struct faulter {
	struct env *e;
	int stop;
	unsigned n;
};

static void *fault_loop(void *arg)
{
	struct faulter *fl = arg;
	uint8_t b;

	while (!__atomic_load_n(&fl->stop, __ATOMIC_ACQUIRE)) {
		fx_dma_read(&fl->e->x.f, 0, IONEST_NO_PASID, IOVA + 5 * PAGE,
			    &b, 1);
		__atomic_add_fetch(&fl->n, 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

static void test_events_vs_replace(void **state)
{
	struct env e;
	struct faulter fl = { .e = &e };
	uint32_t n, old, q;
	pthread_t t;
	uint8_t buf[4096];
	int qfd;

	env_setup(&e, 1);
	qfd = veventq_of(&e, &q);
	n = nested_s1(&e);
	sx_bind_attach(&e.x, 0, &n);
	assert_int_equal(pthread_create(&t, NULL, fault_loop, &fl), 0);
	/* The faulter is running before the first replace. */
	while (!__atomic_load_n(&fl.n, __ATOMIC_ACQUIRE))
		sched_yield();
	for (int i = 0; i < 50; i++) {
		old = n;
		n = nested_s1(&e);
		assert_int_equal(fx_attach(&e.x.f, 0, &n), 0);
		assert_int_equal(fx_destroy(e.x.f.fd, old), 0);
		assert_true(ionest_read(qfd, buf, sizeof(buf)) >= 0);
		sched_yield();
	}
	__atomic_store_n(&fl.stop, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	assert_int_equal(fx_detach(&e.x.f, 0), 0);
	assert_int_equal(ionest_close(qfd), 0);
	env_teardown(&e);
}

/* ---- Allocation failures ---- */

/* The nesting flow in steps, each 0 or -errno; a step that fails must
 * work when repeated without injection. */
struct nflow {
	struct env *e;
	uint32_t viommu, vdev, q, n;
	int qfd;
};

static int nf_viommu(struct nflow *f)
{
	return nest_viommu_alloc(f->e->x.f.fd, f->e->x.f.devid[0], f->e->parent,
				 IOMMU_VIOMMU_TYPE_ARM_SMMUV3, &f->viommu);
}

static int nf_vdev(struct nflow *f)
{
	return nest_vdevice_alloc(f->e->x.f.fd, f->viommu, f->e->x.f.devid[0],
				  VSID, &f->vdev);
}

static int nf_veventq(struct nflow *f)
{
	return nest_veventq_alloc(f->e->x.f.fd, f->viommu,
				  IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, 4, &f->q,
				  &f->qfd);
}

static int nf_nested(struct nflow *f)
{
	uint64_t ste[2];
	struct iommu_hwpt_arm_smmuv3 d;

	ste_s1(ste, f->e->cd);
	d = (struct iommu_hwpt_arm_smmuv3){ .ste = { ste[0], ste[1] } };
	return nest_hwpt_alloc(f->e->x.f.fd, f->e->x.f.devid[0], f->viommu, 0,
			       IOMMU_HWPT_DATA_ARM_SMMUV3, &d, sizeof(d), 0,
			       &f->n);
}

static int nf_attach(struct nflow *f)
{
	return fx_attach(&f->e->x.f, 0, &f->n);
}

static int nf_dma(struct nflow *f)
{
	uint8_t b = 0;
	int rc = fx_dma_read(&f->e->x.f, 0, IONEST_NO_PASID, IOVA + 1, &b, 1);

	if (rc)
		return rc;
	return b == 0x31 ? 0 : -EIO;
}

static int nf_inv(struct nflow *f)
{
	const uint64_t c[2][2] = { { CMD(CMD_TLBI_NSNH_ALL), 0 },
				   { CMD(CMD_CFGI_CD_ALL) | VSID << 32, 0 } };
	uint32_t done = 2;

	return nest_invalidate(f->e->x.f.fd, f->viommu,
			       IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3, c, 16,
			       &done);
}

/* A stage-1 fault: the vEVENT (or, without memory, a LOST_EVENTS mark)
 * is queued; the DMA fails either way. */
static int nf_fault(struct nflow *f)
{
	uint8_t b;

	return fx_dma_read(&f->e->x.f, 0, IONEST_NO_PASID, IOVA + 3 * PAGE, &b,
			   1) ?
		       0 :
		       -EIO;
}

static int (*const nf_steps[])(struct nflow *) = {
	nf_viommu, nf_vdev, nf_veventq, nf_nested,
	nf_attach, nf_dma,  nf_inv,	nf_fault,
};
#define NF_STEPS (sizeof(nf_steps) / sizeof(nf_steps[0]))

static void nf_cleanup(struct nflow *f)
{
	int fd = f->e->x.f.fd;
	uint8_t buf[256];

	assert_int_equal(fx_detach(&f->e->x.f, 0), 0);
	assert_true(ionest_read(f->qfd, buf, sizeof(buf)) >= 0);
	assert_int_equal(ionest_close(f->qfd), 0);
	assert_int_equal(fx_destroy(fd, f->n), 0);
	assert_int_equal(fx_destroy(fd, f->q), 0);
	assert_int_equal(fx_destroy(fd, f->vdev), 0);
	assert_int_equal(fx_destroy(fd, f->viommu), 0);
}

static void test_alloc_failures(void **state)
{
	struct env e;
	unsigned long nth;
	unsigned failed = 0;
	uint64_t ev[4];

	env_setup(&e, 1);
	/* The env's own vIOMMU goes: the flow makes its own. */
	assert_int_equal(fx_destroy(e.x.f.fd, e.vdev), 0);
	assert_int_equal(fx_destroy(e.x.f.fd, e.viommu), 0);
	((uint8_t *)guest_va(&e.g, e.data))[1] = 0x31;
	for (nth = 1; nth < 10000; nth++) {
		struct nflow f = { .e = &e, .qfd = -1 };
		bool armed = true;

		fault_inject_nth(nth);
		for (unsigned s = 0; s < NF_STEPS; s++) {
			int rc = nf_steps[s](&f);

			if (rc && armed) {
				assert_true(fault_inject_nth(0) >= nth);
				armed = false;
				failed++;
				rc = nf_steps[s](&f);
			}
			assert_int_equal(rc, 0);
		}
		if (armed && fault_inject_nth(0) < nth) {
			nf_cleanup(&f);
			break;
		}
		fault_inject_nth(0);
		nf_cleanup(&f);
		while (sx_event(&e.x, ev))
			;
	}
	print_message("# %lu allocations swept, %u failed a step\n", nth,
		      failed);
	assert_true(nth > 3);
	assert_true(failed > 0);
	env_teardown(&e);
}

int main(void)
{
#define T(f) cmocka_unit_test(f)
	const struct CMUnitTest tests[] = {
		T(test_dma_lands),
		T(test_inv_nh_va),
		T(test_inv_nh_vaa),
		T(test_inv_nh_asid),
		T(test_inv_nh_all),
		T(test_inv_nsnh_all),
		T(test_inv_other_asid_keeps),
		T(test_inv_cfgi_cd),
		T(test_inv_errors),
		T(test_ste_checks),
		T(test_abort_and_bypass),
		T(test_vevent_s1_fault),
		T(test_malformed_guest_tables),
		T(test_nested_ats),
		T(test_nested_iopf),
		T(test_other_device),
		T(test_viommu_alloc_rules),
		T(test_replace_and_pasids),
		T(test_unbind_while_nested),
		T(test_events_vs_replace),
		T(test_alloc_failures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
