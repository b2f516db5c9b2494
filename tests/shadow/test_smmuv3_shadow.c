// SPDX-License-Identifier: MIT
/*
 * Software nesting on SMMUv3, held against hardware nesting: two machines
 * built the same way, one whose SMMUv3 nests in hardware and one in
 * "shadow" mode, driven with the same operations through the uAPI (guest
 * CD tables with two SubstreamIDs and S1DSS, stage-1 maps and unmaps with
 * 4K and 2M leaves, read-only, writable and privileged pages, TLBI_NH_*,
 * CFGI_CD after CD changes, parent unmaps and remaps of data and table
 * pages under live nested mappings). After every correct invalidation
 * every DMA must give the same bytes, error and last fault, and the
 * vEVENTQ records and the host's kept events must be identical.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ionest/ionest.h>
#include <ionest/uapi/iommufd.h>

#include "../drivers/smmu_fixture.h"
#include "core/nest_util.h"
#include "scenario/guest.h"

#define GPA 0x40000000ull
#define RAM (8ull << 20) /* tables in the first 2M, data above */
#define CHUNK (64ull << 10) /* parent IOAS areas */
#define DATA (GPA + (2ull << 20))
#define IOVA 0x7f0000000000ull
#define WIN (8ull << 20) /* guest IOVA window */
#define NS 2 /* guest address spaces */
#define PASID 5u
#define SZ_2M (2ull << 20)
#define PAGE 4096ull
#define VSID0 0x42ull

/* The platform's view of CMD_RESUME (ionest_hw_set_resume_handler). */
struct resumes {
	unsigned n, retries;
	uint32_t sid;
	uint16_t stag;
};

struct side {
	struct sx x;
	struct vm vm;
	uint8_t *mem;
	uint32_t ioas, parent, viommu, vdev[2], nested[2], qid;
	int qfd;
	uint32_t fid; /* device 0's fault queue (stall sides), or 0 */
	int ffd;
	struct resumes rs;
	struct pt s1[NS];
	struct vm_cdtab cdt[2]; /* device 0: 8 CDs, device 1: one */
	bool mapped[RAM / CHUNK];
};

struct pair {
	struct side s[2]; /* [0] hardware nesting, [1] shadow */
};

/* Guest ASIDs (well above what the host hands out first). */
static const uint16_t gasid[NS] = { 0x71, 0x72 };

static bool chunk_is_big(unsigned c)
{
	uint64_t off = (uint64_t)c * CHUNK;

	return off >= 2 * SZ_2M && off < 3 * SZ_2M;
}

static void side_map_chunk(struct side *s, unsigned c)
{
	uint64_t off = (uint64_t)c * CHUNK, len = CHUNK, iova;
	bool ro = off >= DATA - GPA && !chunk_is_big(c) && c % 5 == 3;

	if (chunk_is_big(c)) {
		off = 2 * SZ_2M;
		len = SZ_2M;
	}
	iova = GPA + off;
	assert_int_equal(fx_map(s->x.f.fd, s->ioas, s->mem + off, len, &iova,
				IOMMU_IOAS_MAP_FIXED_IOVA |
					IOMMU_IOAS_MAP_READABLE |
					(ro ? 0 : IOMMU_IOAS_MAP_WRITEABLE)),
			 0);
	for (uint64_t o = off; o < off + len; o += CHUNK)
		s->mapped[o / CHUNK] = true;
}

static int side_unmap_chunk(struct side *s, unsigned c)
{
	uint64_t off = (uint64_t)c * CHUNK, len = CHUNK, unmapped = 0;
	int rc;

	if (chunk_is_big(c)) {
		off = 2 * SZ_2M;
		len = SZ_2M;
	}
	rc = fx_unmap(s->x.f.fd, s->ioas, GPA + off, len, &unmapped);
	if (!rc)
		for (uint64_t o = off; o < off + len; o += CHUNK)
			s->mapped[o / CHUNK] = false;
	return rc;
}

/* STE DW1 bits the next nested HWPTs carry besides the table's; device
 * 0's S1DSS. */
static uint64_t ste1_extra;
static enum vm_s1dss dev0_s1dss = VM_S1DSS_SSID0;

static uint32_t nested_alloc(struct side *s, int dev, uint32_t fault_id)
{
	struct iommu_hwpt_arm_smmuv3 d;
	uint32_t id;

	vm_cdtab_ste(&s->cdt[dev], dev ? VM_S1DSS_TERMINATE : dev0_s1dss,
		     d.ste);
	d.ste[1] |= ste1_extra;
	assert_int_equal(
		nest_hwpt_alloc(s->x.f.fd, s->x.f.devid[dev], s->viommu,
				fault_id ? IOMMU_HWPT_FAULT_ID_VALID : 0,
				IOMMU_HWPT_DATA_ARM_SMMUV3, &d, sizeof(d),
				fault_id, &id),
		0);
	return id;
}

static void side_setup(struct side *s, int mode,
		       const struct ionest_smmuv3_config *cfg, bool pri)
{
	struct ionest_device_config dc[2];

	memset(s, 0, sizeof(*s));
	memset(dc, 0, sizeof(dc));
	for (int i = 0; i < 2; i++) {
		dc[i].rid = 0x100 + (uint32_t)i;
		dc[i].pasid_bits = 8;
	}
	dc[0].pri = pri;
	dc[0].ats = pri; /* PRI goes with ATS */
	sx_setup_devs(&s->x, cfg, dc, 2);
	assert_int_equal(ionest_machine_set_nesting(s->x.f.m, "smmu0", mode),
			 0);
	s->mem = fx_alloc(RAM, SZ_2M);
	memset(s->mem, 0, RAM);
	s->vm = (struct vm){
		.mem = s->mem, .gpa = GPA, .len = RAM, .borrowed = true
	};
	for (int i = 0; i < 2; i++)
		assert_int_equal(fx_bind(&s->x.f, i), 0);
	s->ioas = fx_ioas(s->x.f.fd);
	assert_int_equal(fx_hwpt_alloc(s->x.f.fd, s->x.f.devid[0], s->ioas,
				       IOMMU_HWPT_ALLOC_NEST_PARENT,
				       &s->parent),
			 0);
	for (unsigned c = 0; c < RAM / CHUNK; c++)
		if (!s->mapped[c])
			side_map_chunk(s, c);
	assert_int_equal(
		nest_viommu_alloc(s->x.f.fd, s->x.f.devid[0], s->parent,
				  IOMMU_VIOMMU_TYPE_ARM_SMMUV3, &s->viommu),
		0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(nest_vdevice_alloc(s->x.f.fd, s->viommu,
						    s->x.f.devid[i], VSID0 + i,
						    &s->vdev[i]),
				 0);
	assert_int_equal(nest_veventq_alloc(s->x.f.fd, s->viommu,
					    IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, 64,
					    &s->qid, &s->qfd),
			 0);
	/* The CD tables first: chunk 0, never unmapped. */
	assert_int_equal(vm_cdtab_init(&s->cdt[0], &s->vm, 3), 0);
	assert_int_equal(vm_cdtab_init(&s->cdt[1], &s->vm, 0), 0);
	{
		uint64_t pad;

		assert_int_equal(vm_alloc(&s->vm, CHUNK - s->vm.used, &pad), 0);
	}
	for (int i = 0; i < NS; i++) {
		assert_int_equal(vm_s1_init(&s->s1[i], &s->vm, VM_S1_ARM64_4K),
				 0);
		s->s1[i].cfg.pgsize_bitmap |= SZ_2M;
	}
	/* Device 0: CD 0 (no PASID) space 0, CD 5 space 1; device 1: its
	 * only CD on space 1 (the same guest ASID). */
	assert_int_equal(vm_cd_write(&s->cdt[0], 0, &s->s1[0], gasid[0]), 0);
	assert_int_equal(vm_cd_write(&s->cdt[0], PASID, &s->s1[1], gasid[1]),
			 0);
	assert_int_equal(vm_cd_write(&s->cdt[1], 0, &s->s1[1], gasid[1]), 0);
}

static void side_attach(struct side *s)
{
	for (int i = 0; i < 2; i++) {
		s->nested[i] = nested_alloc(s, i, 0);
		assert_int_equal(fx_attach(&s->x.f, i, &s->nested[i]), 0);
	}
}

static void side_teardown(struct side *s)
{
	uint64_t ev[4];

	for (int i = 0; i < 2; i++)
		(void)fx_detach(&s->x.f, i);
	while (sx_event(&s->x, ev))
		;
	assert_int_equal(ionest_close(s->qfd), 0);
	if (s->fid)
		assert_int_equal(ionest_close(s->ffd), 0);
	for (int i = 0; i < NS; i++)
		vm_s1_fini(&s->s1[i]);
	sx_teardown(&s->x);
	fx_free(s->mem, RAM);
}

static void pair_setup(struct pair *p, const struct ionest_smmuv3_config *cfg)
{
	side_setup(&p->s[0], IONEST_NESTING_HW, cfg, false);
	side_setup(&p->s[1], IONEST_NESTING_SHADOW, cfg, false);
	for (int k = 0; k < 2; k++)
		side_attach(&p->s[k]);
}

static void pair_teardown(struct pair *p)
{
	for (int k = 0; k < 2; k++)
		side_teardown(&p->s[k]);
}

/* ---- guest commands ---- */

static int cmd(struct side *s, uint64_t c0, uint64_t c1)
{
	const uint64_t c[1][2] = { { c0, c1 } };
	uint32_t n = 1;

	return nest_invalidate(s->x.f.fd, s->viommu,
			       IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3, c, 16,
			       &n);
}

static void pair_cmd(struct pair *p, uint64_t c0, uint64_t c1)
{
	for (int k = 0; k < 2; k++)
		assert_int_equal(cmd(&p->s[k], c0, c1), 0);
}

/* TLBI by VA of [iova, iova + size): one page, or a range (RIL). */
static void pair_tlbi_va(struct pair *p, int sp, uint64_t iova, uint64_t size)
{
	uint64_t c0 = CMD_TLBI_NH_VA | (uint64_t)gasid[sp] << 48;

	if (size == PAGE) {
		pair_cmd(p, c0, iova);
		return;
	}
	/* NUM = 15, SCALE = 4: 16 * 2^21 bytes of 4K pages from iova,
	 * more than asked, as a guest may. */
	pair_cmd(p, c0 | 15ull << 12 | 4ull << 20, iova | 1ull << 10);
}

static void pair_tlbi_asid(struct pair *p, int sp)
{
	pair_cmd(p, CMD_TLBI_NH_ASID | (uint64_t)gasid[sp] << 48, 0);
}

static void pair_s1_map(struct pair *p, int i, uint64_t iova, uint64_t gpa,
			uint64_t size, uint32_t prot)
{
	int rc0 = pt_map(&p->s[0].s1[i], iova, gpa, size, prot, size);

	assert_int_equal(pt_map(&p->s[1].s1[i], iova, gpa, size, prot, size),
			 rc0);
}

static void pair_s1_unmap(struct pair *p, int i, uint64_t iova, uint64_t size)
{
	for (int k = 0; k < 2; k++) {
		uint64_t u = 0;

		(void)pt_unmap(&p->s[k].s1[i], iova, size, PT_UNMAP_SPLIT, NULL,
			       &u);
	}
}

/* ---- comparisons ---- */

struct vrec {
	struct iommufd_vevent_header h;
	struct iommu_vevent_arm_smmuv3 ev;
};

/* Records compared so far; vEVENTQ records among them; the last host
 * event compared. */
static unsigned events_compared, vevents_compared;
static uint64_t last_host_ev[4];

/* The vEVENTQ records and the host's kept events of both sides. */
static unsigned pair_events(struct pair *p)
{
	struct vrec r[2][16];
	uint64_t ev[2][4];
	ssize_t n[2];
	unsigned total = 0;
	bool more[2];

	for (;;) {
		for (int k = 0; k < 2; k++)
			n[k] = ionest_read(p->s[k].qfd, r[k], sizeof(r[k]));
		assert_int_equal(n[0], n[1]);
		if (n[0] <= 0)
			break;
		for (size_t i = 0; i < (size_t)n[0] / sizeof(r[0][0]); i++) {
			assert_int_equal(r[0][i].h.flags, r[1][i].h.flags);
			if (memcmp(r[0][i].ev.evt, r[1][i].ev.evt,
				   sizeof(r[0][i].ev.evt)))
				fprintf(stderr,
					"vevent hw %#" PRIx64 " %#" PRIx64
					" %#" PRIx64 " %#" PRIx64
					" shadow %#" PRIx64 " %#" PRIx64
					" %#" PRIx64 " %#" PRIx64 "\n",
					(uint64_t)r[0][i].ev.evt[0],
					(uint64_t)r[0][i].ev.evt[1],
					(uint64_t)r[0][i].ev.evt[2],
					(uint64_t)r[0][i].ev.evt[3],
					(uint64_t)r[1][i].ev.evt[0],
					(uint64_t)r[1][i].ev.evt[1],
					(uint64_t)r[1][i].ev.evt[2],
					(uint64_t)r[1][i].ev.evt[3]);
			assert_memory_equal(r[0][i].ev.evt, r[1][i].ev.evt,
					    sizeof(r[0][i].ev.evt));
			total++;
			vevents_compared++;
		}
	}
	for (;;) {
		for (int k = 0; k < 2; k++)
			more[k] = sx_event(&p->s[k].x, ev[k]);
		assert_int_equal(more[0], more[1]);
		if (!more[0])
			break;
		if (memcmp(ev[0], ev[1], sizeof(ev[0])))
			fprintf(stderr,
				"host event hw %#" PRIx64 " %#" PRIx64
				" %#" PRIx64 " %#" PRIx64 " shadow %#" PRIx64
				" %#" PRIx64 " %#" PRIx64 " %#" PRIx64 "\n",
				ev[0][0], ev[0][1], ev[0][2], ev[0][3],
				ev[1][0], ev[1][1], ev[1][2], ev[1][3]);
		assert_memory_equal(ev[0], ev[1], sizeof(ev[0]));
		memcpy(last_host_ev, ev[0], sizeof(last_host_ev));
		total++;
	}
	events_compared += total;
	return total;
}

static void pair_check_resumes(struct pair *p);

/* The DMA in both modes, everything compared; its result. */
static int pair_dma_rc(struct pair *p, int dev, uint32_t pasid, uint64_t iova,
		       size_t len, int dir, uint8_t fill)
{
	uint8_t buf[2][64];
	struct ionest_dma_fault f[2];
	int rc[2], frc[2];

	assert_true(len <= sizeof(buf[0]));
	for (int k = 0; k < 2; k++) {
		memset(buf[k], fill, sizeof(buf[k]));
		rc[k] = ionest_device_dma(p->s[k].x.f.m, p->s[k].x.f.dev[dev],
					  pasid, iova, buf[k], len, dir);
		frc[k] = ionest_device_last_fault(p->s[k].x.f.m,
						  p->s[k].x.f.dev[dev], &f[k]);
	}
	if (rc[0] != rc[1] || (!frc[0] && f[0].code != f[1].code))
		fprintf(stderr,
			"dma dev %d pasid %#x iova %#" PRIx64
			" dir %d: hw %d shadow %d (codes %#x %#x, s2 %d %d)\n",
			dev, pasid, iova, dir, rc[0], rc[1], f[0].code,
			f[1].code, f[0].stage2, f[1].stage2);
	assert_int_equal(rc[0], rc[1]);
	assert_memory_equal(buf[0], buf[1], len);
	pair_check_resumes(p);
	assert_int_equal(frc[0], frc[1]);
	if (!frc[0]) {
		assert_int_equal(f[0].count, f[1].count);
		assert_int_equal(f[0].iova, f[1].iova);
		assert_int_equal(f[0].fault_addr, f[1].fault_addr);
		assert_int_equal(f[0].pasid, f[1].pasid);
		assert_int_equal(f[0].access, f[1].access);
		assert_int_equal(f[0].status, f[1].status);
		assert_int_equal(f[0].code, f[1].code);
		assert_int_equal(f[0].recorded, f[1].recorded);
		assert_int_equal(f[0].stage2, f[1].stage2);
	}
	(void)pair_events(p);
	return rc[0];
}

static bool pair_dma(struct pair *p, int dev, uint32_t pasid, uint64_t iova,
		     size_t len, int dir, uint8_t fill)
{
	return pair_dma_rc(p, dev, pasid, iova, len, dir, fill) == 0;
}

static void pair_rw(struct pair *p, int dev, uint32_t pasid, uint64_t iova)
{
	(void)pair_dma(p, dev, pasid, iova, 8, IONEST_DMA_TO_MEM, 0x5a);
	(void)pair_dma(p, dev, pasid, iova, 8, IONEST_DMA_FROM_MEM, 0);
}

static uint64_t data_gpa(unsigned page)
{
	return DATA + (uint64_t)page * PAGE;
}

static struct ionest_dma_fault last_fault(struct side *s, int dev)
{
	struct ionest_dma_fault f = { 0 };

	assert_int_equal(
		ionest_device_last_fault(s->x.f.m, s->x.f.dev[dev], &f), 0);
	return f;
}

/* ---- stalls ---- */

#define CD0_S_BIT (1ull << 44)
#define STE1_S1STALLD_BIT (1ull << 27)

static void on_resume(void *ctx, uint32_t sid, uint16_t stag, bool retry)
{
	struct resumes *r = ctx;

	r->n++;
	r->retries += retry;
	r->sid = sid;
	r->stag = stag;
}

/* Guest CD @ssid of device @dev with S set or clear (the guest's CFGI
 * follows, or the CD was never fetched). */
static void side_cd_stall(struct side *s, int dev, uint32_t ssid, bool on)
{
	uint64_t *cd = vm_ptr(&s->vm, vm_cd_gpa(&s->cdt[dev], ssid), 64);
	uint64_t d0 = __atomic_load_n(&cd[0], __ATOMIC_RELAXED);

	__atomic_store_n(&cd[0], on ? d0 | CD0_S_BIT : d0 & ~CD0_S_BIT,
			 __ATOMIC_RELEASE);
}

static void pair_cfgi_all(struct pair *p)
{
	for (uint64_t v = 0; v < 2; v++)
		pair_cmd(p, CMD_CFGI_CD_ALL | (VSID0 + v) << 32, 0);
}

/* Both modes with a fault queue on device 0's nested HWPT (device 1's
 * has none: the core answers its stalls at once) and the platform's
 * resumes logged; guest CDs with S=1 as @stall says (bit 0: device 0's
 * CD 0, bit 1: its CD 5, bit 2: device 1's CD 0). */
static void pair_setup_stall(struct pair *p,
			     const struct ionest_smmuv3_config *cfg, bool pri,
			     unsigned stall)
{
	for (int k = 0; k < 2; k++) {
		struct side *sd = &p->s[k];

		side_setup(sd, k ? IONEST_NESTING_SHADOW : IONEST_NESTING_HW,
			   cfg, pri);
		/* With forced stalls the SMMU of the shadow side also stalls
		 * (and at once resumes) misses hardware nesting translates:
		 * its platform sees more resumes. */
		if (!cfg || cfg->stall_model != IONEST_CFG(2))
			ionest_hw_set_resume_handler(sd->x.hw, on_resume,
						     &sd->rs);
		side_cd_stall(sd, 0, 0, stall & 1);
		side_cd_stall(sd, 0, PASID, stall & 2);
		side_cd_stall(sd, 1, 0, stall & 4);
		assert_int_equal(
			nest_fault_alloc(sd->x.f.fd, &sd->fid, &sd->ffd), 0);
		sd->nested[0] = nested_alloc(sd, 0, sd->fid);
		sd->nested[1] = nested_alloc(sd, 1, 0);
		for (int i = 0; i < 2; i++)
			assert_int_equal(fx_attach(&sd->x.f, i, &sd->nested[i]),
					 0);
	}
}

static void pair_check_resumes(struct pair *p)
{
	assert_int_equal(p->s[0].rs.n, p->s[1].rs.n);
	assert_int_equal(p->s[0].rs.retries, p->s[1].rs.retries);
	assert_int_equal(p->s[0].rs.sid, p->s[1].rs.sid);
	assert_int_equal(p->s[0].rs.stag, p->s[1].rs.stag);
}

/* Up to @max pending fault records of device 0, read in both modes (they
 * must be alike) and answered with @code (IOMMUFD_PAGE_RESP_*); the
 * platform must see the same resumes. Returns how many. */
static unsigned pair_answer(struct pair *p, uint32_t code, unsigned max)
{
	unsigned n = 0;

	while (n < max) {
		struct iommu_hwpt_pgfault rec[2];
		ssize_t got[2];

		for (int k = 0; k < 2; k++)
			got[k] = ionest_read(p->s[k].ffd, &rec[k],
					     sizeof(rec[k]));
		assert_int_equal(got[0], got[1]);
		if (got[0] <= 0)
			break;
		assert_int_equal(got[0], sizeof(rec[0]));
		assert_int_equal(rec[0].flags, rec[1].flags);
		assert_int_equal(rec[0].dev_id, rec[1].dev_id);
		assert_int_equal(rec[0].pasid, rec[1].pasid);
		assert_int_equal(rec[0].grpid, rec[1].grpid);
		assert_int_equal(rec[0].perm, rec[1].perm);
		assert_int_equal(rec[0].addr, rec[1].addr);
		assert_int_equal(rec[0].length, rec[1].length);
		assert_int_equal(rec[0].cookie, rec[1].cookie);
		for (int k = 0; k < 2; k++) {
			struct iommu_hwpt_page_response r = {
				.cookie = rec[k].cookie,
				.code = code,
			};

			assert_int_equal(ionest_write(p->s[k].ffd, &r,
						      sizeof(r)),
					 sizeof(r));
		}
		pair_check_resumes(p);
		n++;
	}
	return n;
}

/* The last fault of device @dev in both modes: @status, @code. */
static void pair_last(struct pair *p, int dev, uint32_t status, uint32_t code)
{
	for (int k = 0; k < 2; k++) {
		struct ionest_dma_fault f = last_fault(&p->s[k], dev);

		assert_int_equal(f.status, status);
		assert_int_equal(f.code, code);
		assert_true(f.recorded);
	}
}

/* ---- directed cases ---- */

/* The shadow side's STE is stage-1 only over host CDs with ASIDs of the
 * driver's; the hardware side's is nested over the guest's CD table. */
static void test_mode_ste_cd(void **state)
{
	struct pair p;
	struct smmu_master *m0, *m1;
	const uint64_t *cd;

	(void)state;
	pair_setup(&p, NULL);
	assert_int_equal(ionest_machine_nesting(p.s[1].x.f.m, "smmu0"),
			 IONEST_NESTING_SHADOW);
	m0 = sx_master(&p.s[0].x, 0);
	m1 = sx_master(&p.s[1].x, 0);
	assert_int_equal(STE0_CONFIG(m0->ste[0]), STE_CFG_NESTED);
	assert_int_equal(STE0_CONFIG(m1->ste[0]), STE_CFG_S1);
	/* The guest's S1CDMax and S1DSS, the host's table. */
	assert_int_equal(STE0_S1CDMAX(m1->ste[0]), 3);
	assert_int_equal(STE1_S1DSS(m1->ste[1]), S1DSS_SSID0);
	assert_int_equal(m0->ste[0] & STE0_CTXPTR, p.s[0].cdt[0].gpa);
	assert_int_not_equal(m1->ste[0] & STE0_CTXPTR, p.s[1].cdt[0].gpa);
	assert_int_equal(m1->cdt.cdmax, 3);
	/* Host CD 5: valid, not the guest's TTB0 nor its ASID, R=0. */
	cd = m1->cdt.linear + PASID * 8;
	assert_true(CD0_V(cd[0]));
	assert_false(CD0_R(cd[0]));
	assert_int_not_equal(cd[1] & CD_TTB, p.s[1].s1[1].root);
	assert_int_not_equal(CD0_ASID(cd[0]), gasid[1]);
	assert_false(CD0_V(m1->cdt.linear[1 * 8]));
	/* Mode is fixed while nested HWPTs exist. */
	assert_int_equal(ionest_machine_set_nesting(p.s[1].x.f.m, "smmu0",
						    IONEST_NESTING_HW),
			 -EBUSY);
	pair_teardown(&p);
}

/* Map, invalidate, DMA by RID and SubstreamID; unmap, invalidate, fault
 * (the same vEVENTQ records). */
static void test_map_dma_unmap(void **state)
{
	struct pair p;
	uint64_t before;

	(void)state;
	pair_setup(&p, NULL);
	pair_s1_map(&p, 0, IOVA, data_gpa(1), PAGE,
		    PT_PROT_READ | PT_PROT_WRITE);
	pair_s1_map(&p, 1, IOVA + PAGE, data_gpa(2), PAGE,
		    PT_PROT_READ | PT_PROT_WRITE);
	before = sx_ctr(&p.s[1].x, drv_shadow_sync);
	pair_tlbi_va(&p, 0, IOVA, PAGE);
	pair_tlbi_va(&p, 1, IOVA + PAGE, PAGE);
	/* One shadow of ASID 1, two of ASID 2 (device 1 shares it). */
	assert_int_equal(sx_ctr(&p.s[1].x, drv_shadow_sync), before + 3);
	pair_rw(&p, 0, IONEST_NO_PASID, IOVA);
	pair_rw(&p, 0, PASID, IOVA + PAGE);
	pair_rw(&p, 1, IONEST_NO_PASID, IOVA + PAGE);
	assert_int_equal(p.s[1].mem[data_gpa(1) - GPA], 0x5a);
	/* Not mapped in that space: a stage-1 translation fault, the
	 * guest's. */
	pair_rw(&p, 0, IONEST_NO_PASID, IOVA + PAGE);
	assert_int_equal(last_fault(&p.s[1], 0).code, EVT_F_TRANSLATION);
	assert_true(last_fault(&p.s[1], 0).recorded);
	pair_s1_unmap(&p, 0, IOVA, PAGE);
	pair_tlbi_va(&p, 0, IOVA, PAGE);
	pair_rw(&p, 0, IONEST_NO_PASID, IOVA);
	assert_int_equal(last_fault(&p.s[1], 0).code, EVT_F_TRANSLATION);
	assert_true(sx_ctr(&p.s[1].x, drv_shadow_fault) > 0);
	/* A SubstreamID without a CD: C_BAD_CD from the model, both. */
	(void)pair_dma(&p, 0, 3, IOVA, 4, IONEST_DMA_FROM_MEM, 0);
	assert_int_equal(last_fault(&p.s[1], 0).code, EVT_C_BAD_CD);
	pair_teardown(&p);
}

/* Read-only and privileged pages; a mapping added without invalidation
 * is used at once (filled by the fault path). */
static void test_perms_and_fill(void **state)
{
	struct pair p;

	(void)state;
	pair_setup(&p, NULL);
	pair_s1_map(&p, 0, IOVA, data_gpa(3), PAGE, PT_PROT_READ);
	pair_s1_map(&p, 0, IOVA + PAGE, data_gpa(4), PAGE,
		    PT_PROT_READ | PT_PROT_WRITE | PT_PROT_PRIV);
	pair_tlbi_asid(&p, 0);
	pair_rw(&p, 0, IONEST_NO_PASID, IOVA);
	assert_int_equal(last_fault(&p.s[1], 0).code, EVT_F_PERMISSION);
	pair_rw(&p, 0, IONEST_NO_PASID, IOVA + PAGE);
	assert_int_equal(last_fault(&p.s[1], 0).code, EVT_F_PERMISSION);
	pair_s1_map(&p, 0, IOVA + 5 * PAGE, data_gpa(5), PAGE,
		    PT_PROT_READ | PT_PROT_WRITE);
	pair_rw(&p, 0, IONEST_NO_PASID, IOVA + 5 * PAGE);
	assert_true(sx_ctr(&p.s[1].x, drv_shadow_fill) > 0);
	/* A 2M leaf over a parent 2M area. */
	pair_s1_map(&p, 1, IOVA + SZ_2M, DATA + SZ_2M, SZ_2M,
		    PT_PROT_READ | PT_PROT_WRITE);
	pair_tlbi_va(&p, 1, IOVA + SZ_2M, SZ_2M);
	pair_rw(&p, 1, IONEST_NO_PASID, IOVA + SZ_2M + 0x12345);
	pair_rw(&p, 0, PASID, IOVA + SZ_2M + 0x1f0000);
	pair_teardown(&p);
}

/* Parent unmaps under live nested mappings: a data page (stage-2 fault,
 * the host's event), the guest's leaf table (a stage-2 fault on the
 * table walk), then remapped. */
static void test_parent_unmap(void **state)
{
	struct pair p;
	struct pt_walk_level rec[PT_MAX_LEVELS];
	struct pt_walk w = { .rec = rec };
	unsigned dchunk = (unsigned)((data_gpa(16) - GPA) / CHUNK), tchunk;

	(void)state;
	pair_setup(&p, NULL);
	pair_s1_map(&p, 0, IOVA, data_gpa(16), PAGE,
		    PT_PROT_READ | PT_PROT_WRITE);
	pair_tlbi_va(&p, 0, IOVA, PAGE);
	pair_rw(&p, 0, IONEST_NO_PASID, IOVA);
	for (int k = 0; k < 2; k++)
		assert_int_equal(side_unmap_chunk(&p.s[k], dchunk), 0);
	pair_rw(&p, 0, IONEST_NO_PASID, IOVA);
	assert_int_equal(last_fault(&p.s[1], 0).code, EVT_F_TRANSLATION);
	assert_true(last_fault(&p.s[1], 0).stage2);
	assert_int_equal(last_fault(&p.s[1], 0).fault_addr, data_gpa(16));
	assert_true(sx_ctr(&p.s[1].x, drv_shadow_drop) > 0);
	for (int k = 0; k < 2; k++)
		side_map_chunk(&p.s[k], dchunk);
	pair_rw(&p, 0, IONEST_NO_PASID, IOVA);
	assert_int_equal(pt_walk(&p.s[1].s1[0], IOVA, 0, &w), 0);
	tchunk = (unsigned)((rec[w.nrec - 1].table - GPA) / CHUNK);
	assert_int_not_equal(tchunk, 0);
	for (int k = 0; k < 2; k++)
		assert_int_equal(side_unmap_chunk(&p.s[k], tchunk), 0);
	pair_rw(&p, 0, IONEST_NO_PASID, IOVA);
	assert_true(last_fault(&p.s[1], 0).stage2);
	for (int k = 0; k < 2; k++)
		side_map_chunk(&p.s[k], tchunk);
	pair_rw(&p, 0, IONEST_NO_PASID, IOVA);
	pair_teardown(&p);
}

/* A guest CD changed, then CFGI_CD: the new tree; an illegal CD is
 * C_BAD_CD in both modes (the guest's event). */
static void test_cfgi_cd_and_bad_cd(void **state)
{
	struct pair p;
	uint64_t *cd;

	(void)state;
	pair_setup(&p, NULL);
	pair_s1_map(&p, 0, IOVA, data_gpa(36), PAGE,
		    PT_PROT_READ | PT_PROT_WRITE);
	pair_s1_map(&p, 1, IOVA, data_gpa(37), PAGE, PT_PROT_READ);
	pair_tlbi_asid(&p, 0);
	pair_tlbi_asid(&p, 1);
	pair_rw(&p, 0, PASID, IOVA);
	/* CD 5 moves to space 0. */
	for (int k = 0; k < 2; k++)
		assert_int_equal(vm_cd_write(&p.s[k].cdt[0], PASID,
					     &p.s[k].s1[0], 0x73),
				 0);
	pair_cmd(&p, CMD_CFGI_CD | VSID0 << 32 | (uint64_t)PASID << 12, 0);
	pair_cmd(&p, CMD_TLBI_NH_ALL, 0);
	pair_rw(&p, 0, PASID, IOVA);
	assert_int_equal(p.s[1].mem[data_gpa(36) - GPA], 0x5a);
	/* An illegal CD (T0SZ 10). */
	for (int k = 0; k < 2; k++) {
		cd = vm_ptr(&p.s[k].vm, vm_cd_gpa(&p.s[k].cdt[0], PASID), 64);
		cd[0] = (cd[0] & ~0x3full) | 10;
	}
	pair_cmd(&p, CMD_CFGI_CD_ALL | VSID0 << 32, 0);
	pair_rw(&p, 0, PASID, IOVA);
	assert_int_equal(last_fault(&p.s[1], 0).code, EVT_C_BAD_CD);
	pair_rw(&p, 0, IONEST_NO_PASID, IOVA);
	pair_teardown(&p);
}

/* Two VMs (vIOMMUs) with the same guest ASID get different host ASIDs:
 * one's invalidation never reaches the other's translations. */
static void test_asid_isolation(void **state)
{
	struct side a;
	struct smmu_master *m0, *m1;
	uint32_t par2, vi2, vd2, n2;
	struct iommu_hwpt_arm_smmuv3 d;
	uint8_t b = 0;

	(void)state;
	side_setup(&a, IONEST_NESTING_SHADOW, NULL, false);
	a.nested[0] = nested_alloc(&a, 0, 0);
	assert_int_equal(fx_attach(&a.x.f, 0, &a.nested[0]), 0);
	/* A second VM on the same RAM (its own parent and vIOMMU), device
	 * 1 with a CD of the same guest ASID as device 0's CD 0. */
	assert_int_equal(fx_destroy(a.x.f.fd, a.vdev[1]), 0);
	assert_int_equal(fx_hwpt_alloc(a.x.f.fd, a.x.f.devid[1], a.ioas,
				       IOMMU_HWPT_ALLOC_NEST_PARENT, &par2),
			 0);
	assert_int_equal(nest_viommu_alloc(a.x.f.fd, a.x.f.devid[1], par2,
					   IOMMU_VIOMMU_TYPE_ARM_SMMUV3, &vi2),
			 0);
	assert_int_equal(nest_vdevice_alloc(a.x.f.fd, vi2, a.x.f.devid[1],
					    VSID0, &vd2),
			 0);
	assert_int_equal(vm_cd_write(&a.cdt[1], 0, &a.s1[1], gasid[0]), 0);
	vm_cdtab_ste(&a.cdt[1], VM_S1DSS_TERMINATE, d.ste);
	assert_int_equal(nest_hwpt_alloc(a.x.f.fd, a.x.f.devid[1], vi2, 0,
					 IOMMU_HWPT_DATA_ARM_SMMUV3, &d,
					 sizeof(d), 0, &n2),
			 0);
	assert_int_equal(fx_attach(&a.x.f, 1, &n2), 0);
	m0 = sx_master(&a.x, 0);
	m1 = sx_master(&a.x, 1);
	assert_int_not_equal(CD0_ASID(m0->cdt.linear[0]),
			     CD0_ASID(m1->cdt.linear[0]));
	/* Both VMs map IOVA, to different pages. */
	assert_int_equal(pt_map(&a.s1[0], IOVA, data_gpa(30), PAGE,
				PT_PROT_READ | PT_PROT_WRITE, PAGE),
			 0);
	assert_int_equal(pt_map(&a.s1[1], IOVA, data_gpa(31), PAGE,
				PT_PROT_READ | PT_PROT_WRITE, PAGE),
			 0);
	a.mem[data_gpa(30) - GPA] = 0x30;
	a.mem[data_gpa(31) - GPA] = 0x31;
	assert_int_equal(
		cmd(&a, CMD_TLBI_NH_ASID | (uint64_t)gasid[0] << 48, 0), 0);
	assert_int_equal(fx_dma_read(&a.x.f, 0, IONEST_NO_PASID, IOVA, &b, 1),
			 0);
	assert_int_equal(b, 0x30);
	/* VM 2 never invalidated: its mapping is filled on the miss. */
	assert_int_equal(fx_dma_read(&a.x.f, 1, IONEST_NO_PASID, IOVA, &b, 1),
			 0);
	assert_int_equal(b, 0x31);
	/* VM 1 retargets and invalidates its ASID: VM 2 is untouched. */
	{
		uint64_t u = 0;

		assert_int_equal(pt_unmap(&a.s1[0], IOVA, PAGE, 0, NULL, &u),
				 0);
	}
	assert_int_equal(
		cmd(&a, CMD_TLBI_NH_ASID | (uint64_t)gasid[0] << 48, 0), 0);
	assert_int_not_equal(
		fx_dma_read(&a.x.f, 0, IONEST_NO_PASID, IOVA, &b, 1), 0);
	assert_int_equal(fx_dma_read(&a.x.f, 1, IONEST_NO_PASID, IOVA, &b, 1),
			 0);
	assert_int_equal(b, 0x31);
	assert_int_equal(fx_detach(&a.x.f, 1), 0);
	assert_int_equal(fx_destroy(a.x.f.fd, n2), 0);
	assert_int_equal(fx_destroy(a.x.f.fd, vd2), 0);
	assert_int_equal(fx_destroy(a.x.f.fd, vi2), 0);
	assert_int_equal(fx_destroy(a.x.f.fd, par2), 0);
	side_teardown(&a);
}

/* A part with stage 1 only: AUTO is shadow, HW refused, nesting works
 * over a software-only parent. */
static void test_s1_only_part(void **state)
{
	struct ionest_smmuv3_config cfg = { .s2p = IONEST_CFG(0) };
	struct side s;
	uint8_t v = 0x77, r = 0;

	(void)state;
	side_setup(&s, IONEST_NESTING_AUTO, &cfg, false);
	assert_int_equal(ionest_machine_nesting(s.x.f.m, "smmu0"),
			 IONEST_NESTING_SHADOW);
	assert_int_equal(ionest_machine_set_nesting(s.x.f.m, "smmu0",
						    IONEST_NESTING_HW),
			 -EOPNOTSUPP);
	side_attach(&s);
	assert_int_equal(pt_map(&s.s1[0], IOVA, data_gpa(7), PAGE,
				PT_PROT_READ | PT_PROT_WRITE, PAGE),
			 0);
	assert_int_equal(cmd(&s, CMD_TLBI_NH_ALL, 0), 0);
	assert_int_equal(fx_dma_write(&s.x.f, 0, IONEST_NO_PASID, IOVA, &v, 1),
			 0);
	assert_int_equal(fx_dma_read(&s.x.f, 0, IONEST_NO_PASID, IOVA, &r, 1),
			 0);
	assert_int_equal(r, 0x77);
	assert_int_equal(s.mem[data_gpa(7) - GPA], 0x77);
	/* Unmapped in the parent: the stage-2 fault, the host's event. */
	assert_int_equal(
		side_unmap_chunk(&s, (unsigned)((data_gpa(7) - GPA) / CHUNK)),
		0);
	assert_int_not_equal(
		fx_dma_read(&s.x.f, 0, IONEST_NO_PASID, IOVA, &r, 1), 0);
	assert_true(last_fault(&s, 0).stage2);
	assert_int_equal(last_fault(&s, 0).fault_addr, data_gpa(7));
	side_teardown(&s);
}

/* Page requests of a PRI device: a stage-1 translation fault becomes the
 * same page request in both modes (the shadow side replays it with PRI);
 * a stage-2 fault stays a fault. */
static void test_page_requests(void **state)
{
	struct iommu_hwpt_pgfault rec[2];
	uint32_t fid[2];
	int ffd[2];
	unsigned dchunk = (unsigned)((data_gpa(40) - GPA) / CHUNK);
	struct pair p;

	(void)state;
	side_setup(&p.s[0], IONEST_NESTING_HW, NULL, true);
	side_setup(&p.s[1], IONEST_NESTING_SHADOW, NULL, true);
	for (int k = 0; k < 2; k++) {
		struct side *sd = &p.s[k];

		assert_int_equal(nest_fault_alloc(sd->x.f.fd, &fid[k], &ffd[k]),
				 0);
		sd->nested[0] = nested_alloc(sd, 0, fid[k]);
		assert_int_equal(fx_attach(&sd->x.f, 0, &sd->nested[0]), 0);
		sd->nested[1] = nested_alloc(sd, 1, 0);
		assert_int_equal(fx_attach(&sd->x.f, 1, &sd->nested[1]), 0);
	}
	(void)pair_dma(&p, 0, IONEST_NO_PASID, IOVA + 9, 1, IONEST_DMA_TO_MEM,
		       1);
	for (int k = 0; k < 2; k++) {
		struct iommu_hwpt_page_response r;

		assert_int_equal(ionest_read(ffd[k], &rec[k], sizeof(rec[k])),
				 sizeof(rec[k]));
		assert_int_equal(last_fault(&p.s[k], 0).status,
				 IONEST_XLATE_PAGE_REQUEST);
		r = (struct iommu_hwpt_page_response){
			.cookie = rec[k].cookie,
			.code = IOMMUFD_PAGE_RESP_INVALID,
		};
		assert_int_equal(ionest_write(ffd[k], &r, sizeof(r)),
				 sizeof(r));
	}
	assert_int_equal(rec[0].addr, rec[1].addr);
	assert_int_equal(rec[0].perm, rec[1].perm);
	assert_int_equal(rec[0].flags, rec[1].flags);
	/* Mapped by the guest, not by the parent: a stage-2 fault. */
	pair_s1_map(&p, 0, IOVA + PAGE, data_gpa(40), PAGE,
		    PT_PROT_READ | PT_PROT_WRITE);
	pair_tlbi_va(&p, 0, IOVA + PAGE, PAGE);
	for (int k = 0; k < 2; k++)
		assert_int_equal(side_unmap_chunk(&p.s[k], dchunk), 0);
	(void)pair_dma(&p, 0, IONEST_NO_PASID, IOVA + PAGE, 1,
		       IONEST_DMA_TO_MEM, 3);
	assert_true(last_fault(&p.s[1], 0).stage2);
	for (int k = 0; k < 2; k++) {
		for (int i = 0; i < 2; i++)
			assert_int_equal(fx_detach(&p.s[k].x.f, i), 0);
		assert_int_equal(ionest_close(ffd[k]), 0);
	}
	pair_teardown(&p);
}

static unsigned chunk_of(uint64_t gpa)
{
	return (unsigned)((gpa - GPA) / CHUNK);
}

/* A guest CD with S=1: a stage-1 translation fault stalls in both modes
 * (the same record, Stall=1 and the tag, kept by the host and not the
 * guest's vEVENT; the same fault-queue record); RESUME retry once the
 * guest mapped the page lets the access through, abort (or retry
 * without a mapping) leaves it stalling; the platform sees the same
 * resumes; a stage-2 fault never stalls. */
static void test_stall_resume(void **state)
{
	struct pair p;
	uint64_t ev[4];
	unsigned vev;

	(void)state;
	pair_setup_stall(&p, NULL, false, 7);
	vev = vevents_compared;
	assert_int_equal(pair_dma_rc(&p, 0, IONEST_NO_PASID, IOVA + 0x10, 8,
				     IONEST_DMA_TO_MEM, 1),
			 -EAGAIN);
	pair_last(&p, 0, IONEST_XLATE_STALLED, EVT_F_TRANSLATION);
	memcpy(ev, last_host_ev, sizeof(ev));
	assert_int_equal(ev[0] & 0xff, EVT_F_TRANSLATION);
	assert_int_equal(ev[0] >> 32, 0x100); /* the physical StreamID */
	assert_true(ev[1] & EVT1_STALL);
	assert_int_equal(ev[2], IOVA + 0x10);
	assert_int_equal(vevents_compared, vev);
	assert_int_equal(p.s[1].rs.n, 0);
	/* The guest maps the page, the VMM answers: RESUME retry. */
	pair_s1_map(&p, 0, IOVA, data_gpa(50), PAGE,
		    PT_PROT_READ | PT_PROT_WRITE);
	pair_tlbi_va(&p, 0, IOVA, PAGE);
	assert_int_equal(pair_answer(&p, IOMMUFD_PAGE_RESP_SUCCESS, 8), 1);
	assert_int_equal(p.s[1].rs.n, 1);
	assert_int_equal(p.s[1].rs.retries, 1);
	assert_int_equal(p.s[1].rs.sid, 0x100);
	assert_int_equal(p.s[1].rs.stag, ev[1] & 0xffff);
	assert_int_equal(pair_dma_rc(&p, 0, IONEST_NO_PASID, IOVA + 0x10, 8,
				     IONEST_DMA_TO_MEM, 1),
			 0);
	assert_int_equal(p.s[1].mem[data_gpa(50) - GPA + 0x10], 1);
	/* PASID 5 (CD 5, S=1), not mapped: stalls; abort; stalls again
	 * under another tag. */
	assert_int_equal(pair_dma_rc(&p, 0, PASID, IOVA + PAGE, 4,
				     IONEST_DMA_FROM_MEM, 0),
			 -EAGAIN);
	assert_true(last_host_ev[0] & EVT0_SSV);
	assert_int_equal(pair_answer(&p, IOMMUFD_PAGE_RESP_INVALID, 8), 1);
	assert_int_equal(p.s[1].rs.n, 2);
	assert_int_equal(p.s[1].rs.retries, 1);
	assert_int_equal(pair_dma_rc(&p, 0, PASID, IOVA + PAGE, 4,
				     IONEST_DMA_FROM_MEM, 0),
			 -EAGAIN);
	assert_int_not_equal(last_host_ev[1] & 0xffff, p.s[1].rs.stag);
	/* Unknown cookies are refused alike. */
	for (int k = 0; k < 2; k++) {
		struct iommu_hwpt_page_response r = { .cookie = 999 };

		errno = 0;
		assert_int_equal(ionest_write(p.s[k].ffd, &r, sizeof(r)), -1);
		assert_int_equal(errno, EINVAL);
	}
	/* A resume naming a tag nobody holds changes nothing in either
	 * mode (the driver's answer path, as for a late answer). */
	for (int k = 0; k < 2; k++) {
		struct iommu_fault f = {
			.flags = IOMMU_FAULT_F_LAST_PAGE,
			.priv = 1ull << 63 | 0x7777, /* a stall, tag 0x7777 */
		};

		smmuv3_page_response(sx_master(&p.s[k].x, 0)->dev, &f,
				     IOMMU_PAGE_RESP_SUCCESS);
		sx_check_clean(&p.s[k].x);
	}
	pair_check_resumes(&p);
	assert_int_equal(p.s[1].rs.n, 2);
	/* Retry without a mapping: the access stalls again. */
	assert_int_equal(pair_answer(&p, IOMMUFD_PAGE_RESP_SUCCESS, 8), 1);
	assert_int_equal(pair_dma_rc(&p, 0, PASID, IOVA + PAGE, 4,
				     IONEST_DMA_FROM_MEM, 0),
			 -EAGAIN);
	assert_int_equal(pair_answer(&p, IOMMUFD_PAGE_RESP_INVALID, 8), 1);
	/* Device 1 has no fault queue: the core aborts each stall at once,
	 * so more of them than the SMMU holds come and go. */
	for (int i = 0; i < 70; i++)
		assert_int_equal(pair_dma_rc(&p, 1, IONEST_NO_PASID,
					     IOVA + 3 * PAGE, 1,
					     IONEST_DMA_FROM_MEM, 0),
				 -EAGAIN);
	assert_int_equal(p.s[1].rs.n, 74);
	assert_int_equal(sx_ctr(&p.s[0].x, drv_stall),
			 sx_ctr(&p.s[1].x, drv_stall));
	/* Mapped by the guest, not by the parent: a stage-2 fault, which
	 * does not stall (the host's STE has no S2S). */
	pair_s1_map(&p, 0, IOVA + 4 * PAGE, data_gpa(120), PAGE,
		    PT_PROT_READ | PT_PROT_WRITE);
	pair_tlbi_va(&p, 0, IOVA + 4 * PAGE, PAGE);
	for (int k = 0; k < 2; k++)
		assert_int_equal(
			side_unmap_chunk(&p.s[k], chunk_of(data_gpa(120))), 0);
	assert_int_equal(pair_dma_rc(&p, 0, IONEST_NO_PASID, IOVA + 4 * PAGE, 1,
				     IONEST_DMA_FROM_MEM, 0),
			 -EFAULT);
	assert_true(last_fault(&p.s[1], 0).stage2);
	pair_teardown(&p);
}

/* As many stalls as the SMMU holds (IDR5.STALL_MAX), unanswered: the
 * next fault terminates (its record the guest's, R=1) in both modes;
 * answers free them. */
static void test_stall_max(void **state)
{
	struct pair p;
	unsigned max, vev;

	(void)state;
	pair_setup_stall(&p, NULL, false, 1);
	max = (unsigned)SMMU_BITS(sx_rd32(&p.s[0].x, SMMU_IDR5), 31, 16);
	assert_true(max > 0 && max < 1024);
	for (unsigned i = 0; i < max; i++)
		assert_int_equal(pair_dma_rc(&p, 0, IONEST_NO_PASID,
					     IOVA + i * PAGE, 1,
					     IONEST_DMA_FROM_MEM, 0),
				 -EAGAIN);
	vev = vevents_compared;
	assert_int_equal(pair_dma_rc(&p, 0, IONEST_NO_PASID, IOVA + max * PAGE,
				     1, IONEST_DMA_FROM_MEM, 0),
			 -EFAULT);
	pair_last(&p, 0, IONEST_XLATE_FAULT, EVT_F_TRANSLATION);
	assert_int_equal(vevents_compared, vev + 1);
	assert_int_equal(pair_answer(&p, IOMMUFD_PAGE_RESP_INVALID, max + 1),
			 max);
	assert_int_equal(pair_dma_rc(&p, 0, IONEST_NO_PASID, IOVA + max * PAGE,
				     1, IONEST_DMA_FROM_MEM, 0),
			 -EAGAIN);
	assert_int_equal(pair_answer(&p, IOMMUFD_PAGE_RESP_INVALID, 8), 1);
	pair_teardown(&p);
}

/* S=1 where it is illegal is C_BAD_CD in both modes (a terminate-only
 * part; STE.S1STALLD on a part with both models). A PRI function's
 * "not present" fault is a page request, not a stall, in both. */
static void test_stall_rules(void **state)
{
	struct ionest_smmuv3_config term = { .stall_model = IONEST_CFG(1) };
	struct pair p;

	(void)state;
	pair_setup_stall(&p, &term, false, 1);
	assert_int_equal(pair_dma_rc(&p, 0, IONEST_NO_PASID, IOVA, 1,
				     IONEST_DMA_FROM_MEM, 0),
			 -EFAULT);
	pair_last(&p, 0, IONEST_XLATE_FAULT, EVT_C_BAD_CD);
	pair_teardown(&p);
	ste1_extra = STE1_S1STALLD_BIT;
	pair_setup_stall(&p, NULL, false, 1);
	ste1_extra = 0;
	assert_int_equal(pair_dma_rc(&p, 0, IONEST_NO_PASID, IOVA, 1,
				     IONEST_DMA_FROM_MEM, 0),
			 -EFAULT);
	pair_last(&p, 0, IONEST_XLATE_FAULT, EVT_C_BAD_CD);
	/* CD 5 has S=0: legal under S1STALLD, and terminates. */
	assert_int_equal(pair_dma_rc(&p, 0, PASID, IOVA, 1, IONEST_DMA_FROM_MEM,
				     0),
			 -EFAULT);
	pair_last(&p, 0, IONEST_XLATE_FAULT, EVT_F_TRANSLATION);
	pair_teardown(&p);
	pair_setup_stall(&p, NULL, true, 1);
	assert_int_equal(pair_dma_rc(&p, 0, IONEST_NO_PASID, IOVA, 1,
				     IONEST_DMA_FROM_MEM, 0),
			 -EAGAIN);
	for (int k = 0; k < 2; k++)
		assert_int_equal(last_fault(&p.s[k], 0).status,
				 IONEST_XLATE_PAGE_REQUEST);
	assert_int_equal(pair_answer(&p, IOMMUFD_PAGE_RESP_INVALID, 8), 1);
	assert_int_equal(p.s[1].rs.n, 0);
	assert_int_equal(sx_ctr(&p.s[1].x, drv_stall), 0);
	pair_teardown(&p);
}

/* S1DSS variants of device 0 (with SubstreamIDs): bypass (traffic without
 * PASID translated by stage 2 alone, its faults the host's; PASID 5 by
 * its CD, stalling with S=1) and terminate (F_STREAM_DISABLED). */
static void test_s1dss(void **state)
{
	struct pair p;

	(void)state;
	dev0_s1dss = VM_S1DSS_BYPASS;
	pair_setup_stall(&p, NULL, false, 3);
	dev0_s1dss = VM_S1DSS_SSID0;
	pair_s1_map(&p, 1, IOVA, data_gpa(90), PAGE,
		    PT_PROT_READ | PT_PROT_WRITE);
	pair_tlbi_asid(&p, 1);
	/* Without PASID the IOVA is a GPA. */
	assert_int_equal(pair_dma_rc(&p, 0, IONEST_NO_PASID, data_gpa(91), 8,
				     IONEST_DMA_TO_MEM, 6),
			 0);
	assert_int_equal(p.s[1].mem[data_gpa(91) - GPA], 6);
	pair_rw(&p, 0, PASID, IOVA);
	assert_int_equal(p.s[1].mem[data_gpa(90) - GPA], 0x5a);
	/* Outside the parent's map: its stage-2 fault, no stall. */
	assert_int_equal(pair_dma_rc(&p, 0, IONEST_NO_PASID, GPA + RAM, 1,
				     IONEST_DMA_FROM_MEM, 0),
			 -EFAULT);
	assert_true(last_fault(&p.s[1], 0).stage2);
	assert_int_equal(pair_dma_rc(&p, 0, PASID, IOVA + PAGE, 1,
				     IONEST_DMA_FROM_MEM, 0),
			 -EAGAIN);
	assert_int_equal(pair_answer(&p, IOMMUFD_PAGE_RESP_INVALID, 8), 1);
	pair_teardown(&p);
	dev0_s1dss = VM_S1DSS_TERMINATE;
	pair_setup_stall(&p, NULL, false, 3);
	dev0_s1dss = VM_S1DSS_SSID0;
	assert_int_equal(pair_dma_rc(&p, 0, IONEST_NO_PASID, IOVA, 1,
				     IONEST_DMA_FROM_MEM, 0),
			 -EFAULT);
	pair_last(&p, 0, IONEST_XLATE_FAULT, EVT_F_STREAM_DISABLED);
	pair_teardown(&p);
}

/* Forced stalls (STALL_MODEL=2): a miss the guest maps without
 * invalidation is translated in both modes (the SMMU of the shadow side
 * stalls it itself, the driver releases that and fills); stage-1 and
 * stage-2 faults stall alike, with the same records and tags. */
static void test_stall_forced(void **state)
{
	struct ionest_smmuv3_config forced = { .stall_model = IONEST_CFG(2) };
	struct pair p;

	(void)state;
	pair_setup_stall(&p, &forced, false, 0);
	pair_s1_map(&p, 0, IOVA, data_gpa(130), PAGE,
		    PT_PROT_READ | PT_PROT_WRITE);
	assert_int_equal(pair_dma_rc(&p, 0, IONEST_NO_PASID, IOVA, 8,
				     IONEST_DMA_TO_MEM, 7),
			 0);
	assert_int_equal(p.s[1].mem[data_gpa(130) - GPA], 7);
	assert_int_equal(pair_dma_rc(&p, 0, IONEST_NO_PASID, IOVA + PAGE, 8,
				     IONEST_DMA_TO_MEM, 7),
			 -EAGAIN);
	pair_last(&p, 0, IONEST_XLATE_STALLED, EVT_F_TRANSLATION);
	assert_true(last_host_ev[1] & EVT1_STALL);
	assert_int_equal(pair_answer(&p, IOMMUFD_PAGE_RESP_INVALID, 8), 1);
	for (int k = 0; k < 2; k++)
		assert_int_equal(
			side_unmap_chunk(&p.s[k], chunk_of(data_gpa(130))), 0);
	assert_int_equal(pair_dma_rc(&p, 0, IONEST_NO_PASID, IOVA, 8,
				     IONEST_DMA_FROM_MEM, 0),
			 -EAGAIN);
	assert_true(last_host_ev[1] & EVT1_S2);
	assert_true(last_host_ev[1] & EVT1_STALL);
	assert_int_equal(pair_answer(&p, IOMMUFD_PAGE_RESP_SUCCESS, 8), 1);
	/* Device 1: answered at once by the core, over and over. */
	for (int i = 0; i < 70; i++)
		assert_int_equal(pair_dma_rc(&p, 1, IONEST_NO_PASID, IOVA, 1,
					     IONEST_DMA_FROM_MEM, 0),
				 -EAGAIN);
	pair_teardown(&p);
}

/* The guest's CD table unmapped in the parent when the guest invalidates
 * its CDs: the fetch faults in stage 2 (CLASS=CD, the host's event) in
 * both modes; once the VMM maps the page again the next DMA fetches the
 * CD and translates, with no guest command. */
static void test_cd_fetch_mapped_later(void **state)
{
	struct pair p;
	uint64_t before;

	(void)state;
	pair_setup(&p, NULL);
	pair_s1_map(&p, 0, IOVA, data_gpa(70), PAGE,
		    PT_PROT_READ | PT_PROT_WRITE);
	pair_s1_map(&p, 1, IOVA, data_gpa(71), PAGE,
		    PT_PROT_READ | PT_PROT_WRITE);
	pair_tlbi_asid(&p, 0);
	pair_tlbi_asid(&p, 1);
	pair_rw(&p, 0, IONEST_NO_PASID, IOVA);
	for (int k = 0; k < 2; k++)
		assert_int_equal(side_unmap_chunk(&p.s[k], 0), 0);
	pair_cfgi_all(&p);
	assert_int_equal(pair_dma_rc(&p, 0, IONEST_NO_PASID, IOVA, 8,
				     IONEST_DMA_TO_MEM, 2),
			 -EFAULT);
	for (int k = 0; k < 2; k++) {
		struct ionest_dma_fault f = last_fault(&p.s[k], 0);

		assert_true(f.stage2);
		assert_int_equal(f.code, EVT_F_TRANSLATION);
		assert_int_equal(f.fault_addr, vm_cd_gpa(&p.s[k].cdt[0], 0));
	}
	assert_true(last_host_ev[1] & EVT1_S2);
	assert_int_equal(SMMU_BITS(last_host_ev[1], 41, 40), EVT_CLASS_CD);
	assert_int_equal(pair_dma_rc(&p, 0, PASID, IOVA, 1, IONEST_DMA_FROM_MEM,
				     0),
			 -EFAULT);
	assert_int_equal(pair_dma_rc(&p, 1, IONEST_NO_PASID, IOVA, 1,
				     IONEST_DMA_FROM_MEM, 0),
			 -EFAULT);
	/* Mapped again: no guest command needed. */
	for (int k = 0; k < 2; k++)
		side_map_chunk(&p.s[k], 0);
	assert_int_equal(pair_dma_rc(&p, 0, IONEST_NO_PASID, IOVA, 8,
				     IONEST_DMA_TO_MEM, 3),
			 0);
	assert_int_equal(p.s[1].mem[data_gpa(70) - GPA], 3);
	pair_rw(&p, 0, PASID, IOVA);
	pair_rw(&p, 1, IONEST_NO_PASID, IOVA);
	assert_int_equal(p.s[1].mem[data_gpa(71) - GPA], 0x5a);
	/* From then on the shadow serves it: no miss. */
	before = sx_ctr(&p.s[1].x, drv_shadow_miss);
	pair_rw(&p, 0, IONEST_NO_PASID, IOVA);
	assert_int_equal(sx_ctr(&p.s[1].x, drv_shadow_miss), before);
	pair_teardown(&p);
}

/* The same with a 2-level guest CD table (S1Fmt = 4K leaves): a leaf
 * and then the level-1 table unmapped in the parent, each fetch
 * faulting at its own IPA until the VMM maps it again. */
static void test_cd_fetch_2level(void **state)
{
	const uint64_t l1 = data_gpa(200), leaf = data_gpa(300);
	struct pair p;

	(void)state;
	for (int k = 0; k < 2; k++) {
		struct side *sd = &p.s[k];
		struct vm_cdtab t = { .vm = NULL, .gpa = leaf, .s1cdmax = 6 };
		struct iommu_hwpt_arm_smmuv3 d;
		uint64_t *l1p;

		side_setup(sd, k ? IONEST_NESTING_SHADOW : IONEST_NESTING_HW,
			   NULL, false);
		t.vm = &sd->vm;
		l1p = vm_ptr(&sd->vm, l1, 16);
		__atomic_store_n(&l1p[0], leaf | 1, __ATOMIC_RELEASE);
		__atomic_store_n(&l1p[1], 0, __ATOMIC_RELEASE);
		assert_int_equal(vm_cd_write(&t, 0, &sd->s1[0], gasid[0]), 0);
		assert_int_equal(vm_cd_write(&t, PASID, &sd->s1[1], gasid[1]),
				 0);
		t.gpa = l1;
		t.s1cdmax = 7;
		vm_cdtab_ste(&t, VM_S1DSS_SSID0, d.ste);
		d.ste[0] |= (uint64_t)S1FMT_4K << 4;
		assert_int_equal(side_unmap_chunk(sd, chunk_of(leaf)), 0);
		assert_int_equal(nest_hwpt_alloc(sd->x.f.fd, sd->x.f.devid[0],
						 sd->viommu, 0,
						 IOMMU_HWPT_DATA_ARM_SMMUV3, &d,
						 sizeof(d), 0, &sd->nested[0]),
				 0);
		assert_int_equal(fx_attach(&sd->x.f, 0, &sd->nested[0]), 0);
	}
	pair_s1_map(&p, 0, IOVA, data_gpa(80), PAGE,
		    PT_PROT_READ | PT_PROT_WRITE);
	pair_s1_map(&p, 1, IOVA, data_gpa(81), PAGE,
		    PT_PROT_READ | PT_PROT_WRITE);
	assert_int_equal(pair_dma_rc(&p, 0, IONEST_NO_PASID, IOVA, 1,
				     IONEST_DMA_TO_MEM, 4),
			 -EFAULT);
	assert_true(last_fault(&p.s[1], 0).stage2);
	assert_int_equal(last_fault(&p.s[1], 0).fault_addr, leaf);
	for (int k = 0; k < 2; k++)
		side_map_chunk(&p.s[k], chunk_of(leaf));
	assert_int_equal(pair_dma_rc(&p, 0, IONEST_NO_PASID, IOVA, 1,
				     IONEST_DMA_TO_MEM, 4),
			 0);
	assert_int_equal(p.s[1].mem[data_gpa(80) - GPA], 4);
	pair_rw(&p, 0, PASID, IOVA);
	/* SubstreamID 70: level-1 descriptor 1 is not valid. */
	assert_int_equal(pair_dma_rc(&p, 0, 70, IOVA, 1, IONEST_DMA_FROM_MEM,
				     0),
			 -EFAULT);
	pair_last(&p, 0, IONEST_XLATE_FAULT, EVT_C_BAD_CD);
	/* The level-1 table unmapped, the guest invalidates its CDs. */
	for (int k = 0; k < 2; k++)
		assert_int_equal(side_unmap_chunk(&p.s[k], chunk_of(l1)), 0);
	pair_cmd(&p, CMD_CFGI_CD_ALL | VSID0 << 32, 0);
	assert_int_equal(pair_dma_rc(&p, 0, PASID, IOVA, 1, IONEST_DMA_FROM_MEM,
				     0),
			 -EFAULT);
	assert_true(last_fault(&p.s[1], 0).stage2);
	assert_int_equal(last_fault(&p.s[1], 0).fault_addr, l1);
	for (int k = 0; k < 2; k++)
		side_map_chunk(&p.s[k], chunk_of(l1));
	pair_rw(&p, 0, PASID, IOVA);
	pair_rw(&p, 0, IONEST_NO_PASID, IOVA);
	assert_int_equal(p.s[1].mem[data_gpa(81) - GPA], 0x5a);
	pair_teardown(&p);
}

/* ---- concurrency ---- */

struct dma_thr {
	struct side *s;
	int dev;
	uint32_t pasid;
	bool stop;
	unsigned n, ok, bad;
};

static void *dma_loop(void *arg)
{
	struct dma_thr *t = arg;

	while (!__atomic_load_n(&t->stop, __ATOMIC_ACQUIRE)) {
		uint8_t b[8] = { 0 };
		int rc = ionest_device_dma(
			t->s->x.f.m, t->s->x.f.dev[t->dev], t->pasid,
			IOVA + (t->n % 4) * PAGE, b, sizeof(b),
			t->n % 2 ? IONEST_DMA_TO_MEM : IONEST_DMA_FROM_MEM);

		t->n++;
		t->ok += rc == 0;
		t->bad += rc && rc != -EFAULT && rc != -EAGAIN;
	}
	return NULL;
}

/* Shadow mode under DMA from three threads (stalls answered by the VMM
 * or at once by the core, the guest mapping and unmapping): the CD
 * tables' area unmapped and remapped in the parent with the guest's
 * CFGI_CD_ALL, so fetch-faulted CDs are fetched again by whichever DMA
 * meets them first. Every DMA ends in success, a fault or a stall; no
 * crash, leak or hang; afterwards everything translates. */
static void test_concurrent_refetch_stall(void **state)
{
	struct pair p;
	struct side *sd;
	struct dma_thr t[3];
	pthread_t th[3];
	unsigned total = 0;

	(void)state;
	test_watchdog(120, "shadow refetch/stall threads");
	pair_setup_stall(&p, NULL, false, 7);
	sd = &p.s[1];
	for (int i = 0; i < 3; i++) {
		t[i] = (struct dma_thr){ .s = sd,
					 .dev = i == 2,
					 .pasid = i == 1 ? PASID :
							   IONEST_NO_PASID };
		assert_int_equal(pthread_create(&th[i], NULL, dma_loop, &t[i]),
				 0);
	}
	for (unsigned it = 0; it < 200; it++) {
		uint64_t u = 0;
		struct iommu_hwpt_pgfault rec;

		if (it % 4 == 0) {
			if (sd->mapped[0]) {
				assert_int_equal(side_unmap_chunk(sd, 0), 0);
				for (uint64_t v = 0; v < 2; v++)
					assert_int_equal(
						cmd(sd,
						    CMD_CFGI_CD_ALL |
							    (VSID0 + v) << 32,
						    0),
						0);
			} else {
				side_map_chunk(sd, 0);
			}
		}
		if (it % 3 == 0) {
			for (int sp = 0; sp < NS; sp++)
				(void)pt_map(&sd->s1[sp],
					     IOVA + (it % 4) * PAGE,
					     data_gpa(140 + it % 4), PAGE,
					     PT_PROT_READ | PT_PROT_WRITE,
					     PAGE);
		} else if (it % 3 == 1) {
			for (int sp = 0; sp < NS; sp++)
				(void)pt_unmap(&sd->s1[sp],
					       IOVA + (it % 4) * PAGE, PAGE, 0,
					       NULL, &u);
		}
		assert_int_equal(cmd(sd, CMD_TLBI_NH_ALL, 0), 0);
		while (ionest_read(sd->ffd, &rec, sizeof(rec)) == sizeof(rec)) {
			struct iommu_hwpt_page_response r = {
				.cookie = rec.cookie,
				.code = it % 2 ? IOMMUFD_PAGE_RESP_SUCCESS :
						 IOMMUFD_PAGE_RESP_INVALID,
			};

			assert_int_equal(ionest_write(sd->ffd, &r, sizeof(r)),
					 sizeof(r));
		}
	}
	for (int i = 0; i < 3; i++) {
		__atomic_store_n(&t[i].stop, true, __ATOMIC_RELEASE);
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(t[i].bad, 0);
		assert_true(t[i].n > 0);
		total += t[i].n;
	}
	if (!sd->mapped[0])
		side_map_chunk(sd, 0);
	for (int sp = 0; sp < NS; sp++)
		(void)pt_map(&sd->s1[sp], IOVA + 7 * PAGE, data_gpa(150), PAGE,
			     PT_PROT_READ | PT_PROT_WRITE, PAGE);
	assert_int_equal(cmd(sd, CMD_TLBI_NH_ALL, 0), 0);
	for (int i = 0; i < 3; i++) {
		uint8_t b = 0;

		assert_int_equal(ionest_device_dma(sd->x.f.m,
						   sd->x.f.dev[t[i].dev],
						   t[i].pasid, IOVA + 7 * PAGE,
						   &b, 1, IONEST_DMA_FROM_MEM),
				 0);
	}
	fprintf(stderr, "# %u DMAs from 3 threads (%u, %u, %u succeeded)\n",
		total, t[0].ok, t[1].ok, t[2].ok);
	test_watchdog_stop();
	pair_teardown(&p);
}

/* ---- the random differential run ---- */

struct leaf {
	uint64_t iova, size;
	bool used;
};

#define NLEAF 48

static void random_run(const struct ionest_smmuv3_config *cfg, unsigned ops)
{
	struct test_rng rng;
	uint64_t seed = 0x5eed5eedull;
	const char *env = getenv("IONEST_SHADOW_SEED");
	struct leaf leaves[NS][NLEAF];
	unsigned dmas = 0, ok = 0, evs, stalls = 0, cdfetch = 0;
	bool forced = cfg && cfg->stall_model == IONEST_CFG(2);
	struct pair p;

	if (env)
		seed = strtoull(env, NULL, 0);
	fprintf(stderr, "# smmuv3 shadow differential seed %#" PRIx64 "\n",
		seed);
	test_rng_seed(&rng, seed);
	memset(leaves, 0, sizeof(leaves));
	events_compared = 0;
	/* Guest CDs with S=1 at random; device 0's stalls go to a fault
	 * queue answered at random, device 1's are aborted by the core. */
	pair_setup_stall(&p, cfg, false, (unsigned)test_rng_below(&rng, 8));
	for (unsigned op = 0; op < ops; op++) {
		unsigned kind = (unsigned)test_rng_below(&rng, 100);
		int sp = (int)test_rng_below(&rng, NS);
		struct leaf *l = &leaves[sp][test_rng_below(&rng, NLEAF)];

		if (kind < 25 && !l->used) {
			bool big = test_rng_below(&rng, 8) == 0;
			uint64_t size = big ? SZ_2M : PAGE;
			uint64_t iova =
				IOVA + test_rng_below(&rng, WIN / size) * size;
			uint64_t gpa =
				big ? DATA + test_rng_below(&rng, 3) * SZ_2M :
				      DATA + test_rng_below(&rng, 1536) * PAGE;
			uint32_t prot = PT_PROT_READ;
			int rc;

			if (test_rng_below(&rng, 4))
				prot |= PT_PROT_WRITE;
			if (!test_rng_below(&rng, 6))
				prot |= PT_PROT_PRIV;
			rc = pt_map(&p.s[0].s1[sp], iova, gpa, size, prot,
				    size);
			assert_int_equal(pt_map(&p.s[1].s1[sp], iova, gpa, size,
						prot, size),
					 rc);
			if (!rc) {
				l->used = true;
				l->iova = iova;
				l->size = size;
			}
			pair_tlbi_va(&p, sp, iova, size);
		} else if (kind < 25) {
			continue;
		} else if (kind < 38) {
			if (!l->used)
				continue;
			pair_s1_unmap(&p, sp, l->iova, l->size);
			l->used = false;
			switch (test_rng_below(&rng, 3)) {
			case 0:
				pair_tlbi_va(&p, sp, l->iova, l->size);
				break;
			case 1:
				pair_tlbi_asid(&p, sp);
				break;
			default:
				pair_cmd(&p, CMD_TLBI_NSNH_ALL, 0);
				break;
			}
		} else if (kind < 40) {
			/* CD 5 of device 0 moves between the spaces. */
			int to = (int)test_rng_below(&rng, NS);

			bool st = test_rng_below(&rng, 2);

			for (int k = 0; k < 2; k++) {
				assert_int_equal(
					vm_cd_write(&p.s[k].cdt[0], PASID,
						    &p.s[k].s1[to], gasid[to]),
					0);
				side_cd_stall(&p.s[k], 0, PASID, st);
			}
			pair_cmd(&p,
				 CMD_CFGI_CD | VSID0 << 32 |
					 (uint64_t)PASID << 12,
				 0);
			pair_cmd(&p, CMD_TLBI_NH_ALL, 0);
		} else if (kind == 45 ||
			   (kind >= 40 && kind < 45 && !p.s[0].mapped[0])) {
			/* The CD tables' area: unmapped in the parent and
			 * the CDs invalidated by the guest (fetches fault),
			 * or mapped again, more often (the next DMA fetches
			 * them). */
			bool unmap = p.s[0].mapped[0];

			for (int k = 0; k < 2; k++) {
				if (unmap)
					assert_int_equal(
						side_unmap_chunk(&p.s[k], 0),
						0);
				else
					side_map_chunk(&p.s[k], 0);
			}
			if (unmap)
				pair_cfgi_all(&p);
			cdfetch++;
		} else if (kind < 45) {
			/* Parent unmap of an area (data, or the guest's
			 * stage-1 tables; chunk 0 holds the CD tables), or
			 * a remap. */
			unsigned c = 1 + (unsigned)test_rng_below(
						 &rng, RAM / CHUNK - 1);
			bool remap = kind >= 42;

			for (unsigned j = 0;
			     j < RAM / CHUNK && p.s[0].mapped[c] == remap; j++)
				c = 1 + c % (unsigned)(RAM / CHUNK - 1);
			if (p.s[0].mapped[c] == remap)
				continue;
			for (int k = 0; k < 2; k++) {
				if (remap)
					side_map_chunk(&p.s[k], c);
				else
					assert_int_equal(
						side_unmap_chunk(&p.s[k], c),
						0);
			}
		} else {
			uint64_t iova;
			int rc, dev = (int)test_rng_below(&rng, 2);
			uint32_t pasid = IONEST_NO_PASID;
			size_t len = 1 + test_rng_below(&rng, 16);

			if (dev == 0 && test_rng_below(&rng, 2))
				pasid = PASID;
			sp = (dev == 0 && pasid == IONEST_NO_PASID) ? 0 : 1;
			l = &leaves[sp][test_rng_below(&rng, NLEAF)];
			for (unsigned j = 0; j < NLEAF && !l->used; j++)
				l = &leaves[sp][(l - leaves[sp] + 1) % NLEAF];
			if (l->used && test_rng_below(&rng, 4))
				iova = l->iova + test_rng_below(&rng, l->size);
			else
				iova = IOVA + test_rng_below(&rng, WIN);
			rc = pair_dma_rc(&p, dev, pasid, iova, len,
					 test_rng_below(&rng, 2) ?
						 IONEST_DMA_TO_MEM :
						 IONEST_DMA_FROM_MEM,
					 (uint8_t)op);
			ok += rc == 0;
			stalls += rc == -EAGAIN;
			dmas++;
			/* The VMM answers what is pending, now or later. */
			if (test_rng_below(&rng, 2))
				(void)pair_answer(
					&p,
					test_rng_below(&rng, 2) ?
						IOMMUFD_PAGE_RESP_SUCCESS :
						IOMMUFD_PAGE_RESP_INVALID,
					UINT32_MAX);
		}
		(void)pair_events(&p);
	}
	(void)pair_answer(&p, IOMMUFD_PAGE_RESP_INVALID, UINT32_MAX);
	evs = events_compared;
	assert_memory_equal(p.s[0].mem + (DATA - GPA),
			    p.s[1].mem + (DATA - GPA), RAM - (DATA - GPA));
	fprintf(stderr,
		"# %u operations, %u DMAs compared (%u succeeded, %u stalled), "
		"%u events, %u CD table unmaps/remaps, %u resumes; "
		"shadow: %" PRIu64 " syncs, %" PRIu64 " misses, %" PRIu64
		" fills, %" PRIu64 " faults, %" PRIu64 " drops\n",
		ops, dmas, ok, stalls, evs, cdfetch, p.s[1].rs.n,
		sx_ctr(&p.s[1].x, drv_shadow_sync),
		sx_ctr(&p.s[1].x, drv_shadow_miss),
		sx_ctr(&p.s[1].x, drv_shadow_fill),
		sx_ctr(&p.s[1].x, drv_shadow_fault),
		sx_ctr(&p.s[1].x, drv_shadow_drop));
	/* (Forced stalls leave few misses to fill: not every seed has.) */
	assert_true(forced || sx_ctr(&p.s[1].x, drv_shadow_fill) > 0);
	assert_true(sx_ctr(&p.s[1].x, drv_shadow_fault) > 0);
	assert_true(sx_ctr(&p.s[1].x, drv_shadow_drop) > 0);
	assert_true(evs > 0);
	assert_true(stalls > 0 && cdfetch > 0);
	assert_true(forced || p.s[1].rs.retries > 0);
	assert_int_equal(sx_ctr(&p.s[0].x, drv_stall),
			 sx_ctr(&p.s[1].x, drv_stall));
	pair_teardown(&p);
}

static void test_random(void **state)
{
	(void)state;
	random_run(NULL, 3000);
}

/* Forced stalls (STALL_MODEL=2): every translation-class fault stalls,
 * at either stage, in both modes. */
static void test_random_forced(void **state)
{
	struct ionest_smmuv3_config forced = { .stall_model = IONEST_CFG(2) };

	(void)state;
	random_run(&forced, 1500);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mode_ste_cd),
		cmocka_unit_test(test_map_dma_unmap),
		cmocka_unit_test(test_perms_and_fill),
		cmocka_unit_test(test_parent_unmap),
		cmocka_unit_test(test_cfgi_cd_and_bad_cd),
		cmocka_unit_test(test_asid_isolation),
		cmocka_unit_test(test_s1_only_part),
		cmocka_unit_test(test_page_requests),
		cmocka_unit_test(test_stall_resume),
		cmocka_unit_test(test_stall_max),
		cmocka_unit_test(test_stall_rules),
		cmocka_unit_test(test_s1dss),
		cmocka_unit_test(test_stall_forced),
		cmocka_unit_test(test_cd_fetch_mapped_later),
		cmocka_unit_test(test_cd_fetch_2level),
		cmocka_unit_test(test_concurrent_refetch_stall),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_random_forced),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
