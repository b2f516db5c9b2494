// SPDX-License-Identifier: MIT
/*
 * The two machines of the SMMUv3 software-nesting suites and the helpers
 * that drive and compare them (smmuv3_pair.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "shadow/shadow_test.h"
#include "shadow/smmuv3_pair.h"

/* Guest ASIDs (well above what the host hands out first). */
const uint16_t gasid[NS] = { 0x71, 0x72 };

static bool chunk_is_big(unsigned c)
{
	uint64_t off = (uint64_t)c * CHUNK;

	return off >= 2 * SZ_2M && off < 3 * SZ_2M;
}

void side_map_chunk(struct side *s, unsigned c)
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

int side_unmap_chunk(struct side *s, unsigned c)
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
uint64_t ste1_extra;
enum vm_s1dss dev0_s1dss = VM_S1DSS_SSID0;

uint32_t nested_alloc(struct side *s, int dev, uint32_t fault_id)
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

void side_setup(struct side *s, int mode,
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

void side_attach(struct side *s)
{
	for (int i = 0; i < 2; i++) {
		s->nested[i] = nested_alloc(s, i, 0);
		assert_int_equal(fx_attach(&s->x.f, i, &s->nested[i]), 0);
	}
}

void side_teardown(struct side *s)
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

void pair_setup(struct pair *p, const struct ionest_smmuv3_config *cfg)
{
	side_setup(&p->s[0], IONEST_NESTING_HW, cfg, false);
	side_setup(&p->s[1], IONEST_NESTING_SHADOW, cfg, false);
	for (int k = 0; k < 2; k++)
		side_attach(&p->s[k]);
}

void pair_teardown(struct pair *p)
{
	for (int k = 0; k < 2; k++)
		side_teardown(&p->s[k]);
}

/* ---- guest commands ---- */

int side_cmd(struct side *s, uint64_t c0, uint64_t c1)
{
	const uint64_t c[1][2] = { { c0, c1 } };
	uint32_t n = 1;

	return nest_invalidate(s->x.f.fd, s->viommu,
			       IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3, c, 16,
			       &n);
}

void pair_cmd(struct pair *p, uint64_t c0, uint64_t c1)
{
	for (int k = 0; k < 2; k++)
		assert_int_equal(side_cmd(&p->s[k], c0, c1), 0);
}

/* TLBI by VA of [iova, iova + size): one page, or a range (RIL). */
void pair_tlbi_va(struct pair *p, int sp, uint64_t iova, uint64_t size)
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

void pair_tlbi_asid(struct pair *p, int sp)
{
	pair_cmd(p, CMD_TLBI_NH_ASID | (uint64_t)gasid[sp] << 48, 0);
}

void pair_s1_map(struct pair *p, int i, uint64_t iova, uint64_t gpa,
		 uint64_t size, uint32_t prot)
{
	int rc0 = pt_map(&p->s[0].s1[i], iova, gpa, size, prot, size);

	assert_int_equal(pt_map(&p->s[1].s1[i], iova, gpa, size, prot, size),
			 rc0);
}

void pair_s1_unmap(struct pair *p, int i, uint64_t iova, uint64_t size)
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
unsigned events_compared, vevents_compared;
uint64_t last_host_ev[4];

/* The vEVENTQ records and the host's kept events of both sides. */
unsigned pair_events(struct pair *p)
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

/* The DMA in both modes, everything compared; its result. */
int pair_dma_rc(struct pair *p, int dev, uint32_t pasid, uint64_t iova,
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
	shadow_same_fault(frc, f, iova);
	(void)pair_events(p);
	return rc[0];
}

bool pair_dma(struct pair *p, int dev, uint32_t pasid, uint64_t iova,
	      size_t len, int dir, uint8_t fill)
{
	return pair_dma_rc(p, dev, pasid, iova, len, dir, fill) == 0;
}

void pair_rw(struct pair *p, int dev, uint32_t pasid, uint64_t iova)
{
	(void)pair_dma(p, dev, pasid, iova, 8, IONEST_DMA_TO_MEM, 0x5a);
	(void)pair_dma(p, dev, pasid, iova, 8, IONEST_DMA_FROM_MEM, 0);
}

uint64_t data_gpa(unsigned page)
{
	return DATA + (uint64_t)page * PAGE;
}

struct ionest_dma_fault last_fault(struct side *s, int dev)
{
	struct ionest_dma_fault f = { 0 };

	assert_int_equal(
		ionest_device_last_fault(s->x.f.m, s->x.f.dev[dev], &f), 0);
	return f;
}

/* ---- stalls ---- */

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
void side_cd_stall(struct side *s, int dev, uint32_t ssid, bool on)
{
	uint64_t *cd = vm_ptr(&s->vm, vm_cd_gpa(&s->cdt[dev], ssid), 64);
	uint64_t d0 = __atomic_load_n(&cd[0], __ATOMIC_RELAXED);

	__atomic_store_n(&cd[0], on ? d0 | CD0_S_BIT : d0 & ~CD0_S_BIT,
			 __ATOMIC_RELEASE);
}

void pair_cfgi_all(struct pair *p)
{
	for (uint64_t v = 0; v < 2; v++)
		pair_cmd(p, CMD_CFGI_CD_ALL | (VSID0 + v) << 32, 0);
}

/* Both modes with a fault queue on device 0's nested HWPT (device 1's
 * has none: the core answers its stalls at once) and the platform's
 * resumes logged; guest CDs with S=1 as @stall says (bit 0: device 0's
 * CD 0, bit 1: its CD 5, bit 2: device 1's CD 0). */
void pair_setup_stall(struct pair *p, const struct ionest_smmuv3_config *cfg,
		      bool pri, unsigned stall)
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

void pair_check_resumes(struct pair *p)
{
	assert_int_equal(p->s[0].rs.n, p->s[1].rs.n);
	assert_int_equal(p->s[0].rs.retries, p->s[1].rs.retries);
	assert_int_equal(p->s[0].rs.sid, p->s[1].rs.sid);
	assert_int_equal(p->s[0].rs.stag, p->s[1].rs.stag);
}

/* Up to @max pending fault records of device 0, read in both modes (they
 * must be alike) and answered with @code (IOMMUFD_PAGE_RESP_*); the
 * platform must see the same resumes. Returns how many. */
unsigned pair_answer(struct pair *p, uint32_t code, unsigned max)
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
void pair_last(struct pair *p, int dev, uint32_t status, uint32_t code)
{
	for (int k = 0; k < 2; k++) {
		struct ionest_dma_fault f = last_fault(&p->s[k], dev);

		assert_int_equal(f.status, status);
		assert_int_equal(f.code, code);
		assert_true(f.recorded);
	}
}

unsigned chunk_of(uint64_t gpa)
{
	return (unsigned)((gpa - GPA) / CHUNK);
}
