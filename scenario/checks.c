// SPDX-License-Identifier: MIT
/*
 * The checks of the seed topology (checks.h): DMA through the public API
 * (ionest_device_dma), guests changing their own tables in their RAM,
 * invalidations, fault queues and vEVENTQs through the Linux ABI, and the
 * RAM of every owner compared byte by byte against snapshots.
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <ionest/uapi/iommufd.h>

#include "scenario/checks.h"
#include "util/alloc.h"

#define PAGE VM_PAGE

/* SMMUv3 command and event fields (spec/smmuv3.md §8, §9). */
#define CMD_TLBI_NH_VA 0x12ull
#define CMD_ASID(a) ((uint64_t)(a) << 48)
#define EVT_F_TRANSLATION 0x10u
#define EVT0_SSV (1ull << 11)
#define EVT0_SSID(e) ((uint32_t)((e) >> 12) & 0xfffffu)
#define EVT0_SID(e) ((uint32_t)((e) >> 32))

/* The SW MSI window's doorbell (SMMUv3) and the VT-d interrupt range. */
#define SMMU_MSI_ADDR 0x8000040ull
#define VTD_MSI_ADDR 0xfee00000ull

static bool result(struct check_result *r, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static bool result(struct check_result *r, bool ok, const char *fmt, ...)
{
	va_list ap;

	r->ok = ok;
	va_start(ap, fmt);
	vsnprintf(r->detail, sizeof(r->detail), fmt, ap);
	va_end(ap);
	return ok;
}

static void named(struct check_result *r, const char *a, const char *b)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s%s%s", a, b ? "." : "",
		 b ? b : "");
}

static bool is_smmu(const struct seed *s)
{
	return !strcmp(s->model, "smmuv3");
}

static int dma(struct seed *s, const struct seed_path *p, uint64_t iova,
	       void *buf, size_t len, int dir)
{
	return ionest_device_dma(s->m, p->dev, p->pasid, iova, buf, len, dir);
}

static const char *dma_err(int rc)
{
	switch (rc) {
	case 0:
		return "ok";
	case -EFAULT:
		return "fault";
	case -EAGAIN:
		return "page request";
	default:
		return strerror(-rc);
	}
}

/* ---- Snapshots of every owner's RAM ---- */

struct snap {
	uint8_t *c[SEED_OWNERS];
};

static int snap_take(const struct seed *s, struct snap *sn)
{
	memset(sn, 0, sizeof(*sn));
	for (int o = 0; o < SEED_OWNERS; o++) {
		sn->c[o] = xmalloc(s->ram[o].len);
		if (!sn->c[o]) {
			for (int i = 0; i < o; i++)
				xfree(sn->c[i]);
			return -ENOMEM;
		}
		memcpy(sn->c[o], s->ram[o].mem, s->ram[o].len);
	}
	return 0;
}

static void snap_free(struct snap *sn)
{
	for (int o = 0; o < SEED_OWNERS; o++)
		xfree(sn->c[o]);
}

/* VT-d sets the accessed and dirty bits (x86 bits 5 and 6) of the
 * guest's first-stage entries it uses: the guest's tables changing under
 * DMA, as on the real part; not a byte of data. */
static bool ad_update(const struct seed *s, int o, size_t i, uint8_t old,
		      uint8_t cur)
{
	return o != SEED_HOST && strcmp(s->model, "smmuv3") &&
	       i < SEED_TABLES && !(i & 7) && !((old ^ cur) & ~0x60u);
}

/*
 * Bytes of owner @o's RAM that differ from the snapshot outside [gpa, gpa
 * + len) (len 0: anywhere); the first one's address in *where.
 */
static size_t snap_diff(const struct seed *s, const struct snap *sn, int o,
			uint64_t gpa, uint64_t len, uint64_t *where)
{
	const struct vm *v = &s->ram[o];
	size_t n = 0;

	for (size_t i = 0; i < v->len; i++) {
		uint64_t a = v->gpa + i;

		if (v->mem[i] == sn->c[o][i] || (a >= gpa && a - gpa < len) ||
		    ad_update(s, o, i, sn->c[o][i], v->mem[i]))
			continue;
		if (!n++ && where)
			*where = a;
	}
	return n;
}

/* Any byte changed in any RAM outside [gpa, gpa + len) of owner @o? */
static bool snap_changed(const struct seed *s, const struct snap *sn, int o,
			 uint64_t gpa, uint64_t len, char *what, size_t wl)
{
	for (int i = 0; i < SEED_OWNERS; i++) {
		uint64_t where = 0;
		size_t n = snap_diff(s, sn, i, i == o ? gpa : 0,
				     i == o ? len : 0, &where);

		if (n) {
			snprintf(what, wl,
				 "%zu bytes of %s changed (first 0x%llx)", n,
				 seed_owner_name(i), (unsigned long long)where);
			return true;
		}
	}
	return false;
}

/* ---- Fault queues, vEVENTQs, invalidation ---- */

static int read_faults(struct seed *s, int o, struct iommu_hwpt_pgfault *rec,
		       int max)
{
	ssize_t n;

	if (s->fault_fd[o] < 0)
		return 0;
	n = ionest_read(s->fault_fd[o], rec, (size_t)max * sizeof(*rec));
	return n < 0 ? -errno : (int)(n / (ssize_t)sizeof(*rec));
}

static int respond(struct seed *s, int o, uint32_t cookie, uint32_t code)
{
	struct iommu_hwpt_page_response r = { .cookie = cookie, .code = code };
	ssize_t n = ionest_write(s->fault_fd[o], &r, sizeof(r));

	return n == (ssize_t)sizeof(r) ? 0 : n < 0 ? -errno : -EIO;
}

struct vrec {
	struct iommufd_vevent_header h;
	struct iommu_vevent_arm_smmuv3 ev;
};

/* Up to @max records of VM @o's vEVENTQ (0 without one). */
static int read_vevents(struct seed *s, int o, struct vrec *r, int max)
{
	ssize_t n;

	if (s->veventq_fd[o] < 0)
		return 0;
	n = ionest_read(s->veventq_fd[o], r, (size_t)max * sizeof(*r));
	return n < 0 ? -errno : (int)(n / (ssize_t)sizeof(*r));
}

int checks_drain(struct seed *s)
{
	int total = 0;

	for (int o = SEED_VM1; o < SEED_OWNERS; o++) {
		struct iommu_hwpt_pgfault rec[8];
		struct vrec ev[8];
		int n;

		while ((n = read_faults(s, o, rec, 8)) > 0) {
			for (int i = 0; i < n; i++)
				if (rec[i].flags &
				    IOMMU_PGFAULT_FLAGS_LAST_PAGE)
					respond(s, o, rec[i].cookie,
						IOMMUFD_PAGE_RESP_INVALID);
			total += n;
		}
		while ((n = read_vevents(s, o, ev, 8)) > 0)
			total += n;
	}
	return total;
}

/* The guest's invalidation of one page of its stage 1 on path @p. */
static int s1_invalidate(struct seed *s, const struct seed_path *p,
			 uint64_t iova, char *how, size_t hl)
{
	struct iommu_hwpt_invalidate c = {
		.size = sizeof(c),
		.entry_num = 1,
	};
	struct iommu_viommu_arm_smmuv3_invalidate cmd;
	struct iommu_hwpt_vtd_s1_invalidate inv;

	if (is_smmu(s)) {
		/* VMID 0: the host puts the vIOMMU's in. */
		cmd.cmd[0] = CMD_TLBI_NH_VA | CMD_ASID(p->asid);
		cmd.cmd[1] = iova & ~(PAGE - 1);
		c.hwpt_id = s->viommu[p->owner];
		c.data_type = IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3;
		c.data_uptr = (uint64_t)(uintptr_t)&cmd;
		c.entry_len = sizeof(cmd);
		snprintf(how, hl, "TLBI_NH_VA ASID %u VA 0x%llx via vIOMMU %u",
			 p->asid, (unsigned long long)cmd.cmd[1], c.hwpt_id);
	} else {
		inv = (struct iommu_hwpt_vtd_s1_invalidate){
			.addr = iova & ~(PAGE - 1),
			.npages = 1,
		};
		c.hwpt_id = p->nested_hwpt;
		c.data_type = IOMMU_HWPT_INVALIDATE_DATA_VTD_S1;
		c.data_uptr = (uint64_t)(uintptr_t)&inv;
		c.entry_len = sizeof(inv);
		snprintf(how, hl, "HWPT_INVALIDATE of HWPT %u, 0x%llx 1 page",
			 c.hwpt_id, (unsigned long long)inv.addr);
	}
	if (ionest_ioctl(s->fd, IOMMU_HWPT_INVALIDATE, &c))
		return -errno;
	return c.entry_num == 1 ? 0 : -EIO;
}

/* Point the guest's @iova at @gpa (no invalidation). */
static int s1_move(struct seed_path *p, uint64_t iova, uint64_t gpa)
{
	int rc = vm_s1_unmap(p->s1, iova, PAGE);

	if (rc && rc != -ENOENT)
		return rc;
	return vm_s1_map(p->s1, iova, gpa, PAGE, PT_PROT_WRITE);
}

/* "RID1 PASID 8" / "RID2". */
static const char *path_at(const struct seed *s, const struct seed_path *p,
			   char *buf, size_t len)
{
	if (p->pasid == IONEST_NO_PASID)
		snprintf(buf, len, "%s", s->devices[p->device].name);
	else
		snprintf(buf, len, "%s PASID %u", s->devices[p->device].name,
			 p->pasid);
	return buf;
}

/* ---- dma.<path> ---- */

bool check_dma(struct seed *s, const char *name, struct check_result *r)
{
	struct seed_path *p = seed_find_path(s, name);
	uint8_t w[300], rd[64], back[64];
	const uint64_t off = PAGE - 100; /* across pages 0 and 1 */
	char what[96], at[32];
	struct snap sn;
	int rc;

	named(r, "dma", name);
	if (!p)
		return result(r, false, "no path %s", name);
	for (size_t i = 0; i < sizeof(w); i++)
		w[i] = (uint8_t)(0x40 + p->dev * 31 + i * 7 +
				 (p->pasid & 0xff));
	if (snap_take(s, &sn))
		return result(r, false, "out of memory");
	rc = dma(s, p, p->iova + off, w, sizeof(w), IONEST_DMA_TO_MEM);
	if (rc) {
		snap_free(&sn);
		checks_drain(s);
		return result(r, false, "write at 0x%llx: %s",
			      (unsigned long long)(p->iova + off), dma_err(rc));
	}
	if (memcmp(p->mem + off, w, sizeof(w))) {
		snap_free(&sn);
		return result(r, false,
			      "write at 0x%llx did not land at %s 0x%llx",
			      (unsigned long long)(p->iova + off),
			      p->owner ? "GPA" : "host IOVA",
			      (unsigned long long)(p->gpa + off));
	}
	if (snap_changed(s, &sn, p->owner, p->gpa + off, sizeof(w), what,
			 sizeof(what))) {
		snap_free(&sn);
		return result(r, false, "write at 0x%llx: %s",
			      (unsigned long long)(p->iova + off), what);
	}
	snap_free(&sn);
	/* The memory's own bytes come back through the path. */
	for (size_t i = 0; i < sizeof(rd); i++)
		p->mem[3 * PAGE + 7 + i] = (uint8_t)(0xc0 ^ i ^ p->dev);
	memcpy(back, p->mem + 3 * PAGE + 7, sizeof(back));
	/* Twice: the second from the TLB, the same bytes. */
	for (int k = 0; k < 2; k++) {
		memset(rd, 0, sizeof(rd));
		rc = dma(s, p, p->iova + 3 * PAGE + 7, rd, sizeof(rd),
			 IONEST_DMA_FROM_MEM);
		if (rc || memcmp(rd, back, sizeof(rd)))
			return result(
				r, false, "read %d at 0x%llx: %s", k + 1,
				(unsigned long long)(p->iova + 3 * PAGE + 7),
				rc ? dma_err(rc) : "wrong bytes");
	}
	return result(r, true,
		      "%s: %zu B written at 0x%llx -> %s 0x%llx (%s), "
		      "nothing else changed; %zu B read back twice",
		      path_at(s, p, at, sizeof(at)), sizeof(w),
		      (unsigned long long)(p->iova + off),
		      p->owner ? "GPA" : "host IOVA",
		      (unsigned long long)(p->gpa + off),
		      seed_owner_name(p->owner), sizeof(rd));
}

/* ---- isolation.<vm> ---- */

struct iso {
	struct seed *s;
	int owner;
	unsigned tries, blocked;
	char breach[160];
};

/* One write and one read at @iova on @p: both must fail. */
static void iso_try(struct iso *x, struct seed_path *p, uint64_t iova,
		    const char *what)
{
	uint8_t w[64], rd[64];
	int rc;

	memset(w, 0xee, sizeof(w));
	memset(rd, 0, sizeof(rd));
	x->tries += 2;
	rc = dma(x->s, p, iova, w, sizeof(w), IONEST_DMA_TO_MEM);
	if (rc)
		x->blocked++;
	else if (!x->breach[0])
		snprintf(x->breach, sizeof(x->breach), "%s wrote %s at 0x%llx",
			 p->name, what, (unsigned long long)iova);
	checks_drain(x->s);
	rc = dma(x->s, p, iova, rd, sizeof(rd), IONEST_DMA_FROM_MEM);
	if (rc)
		x->blocked++;
	else if (!x->breach[0])
		snprintf(x->breach, sizeof(x->breach), "%s read %s at 0x%llx",
			 p->name, what, (unsigned long long)iova);
	checks_drain(x->s);
}

/* Every input address of the others: GPAs, process IOVAs, host IOVAs. */
static void iso_inputs(struct iso *x, struct seed_path *p)
{
	struct seed *s = x->s;

	for (int i = 0; i < s->npaths; i++) {
		struct seed_path *q = &s->paths[i];

		if (q->owner == x->owner)
			continue;
		iso_try(x, p, q->iova, q->name);
		iso_try(x, p, q->iova + q->len - 64, q->name);
		if (q->gpa != q->iova)
			iso_try(x, p, q->gpa, q->name);
	}
	/* The other RAM's first and last bytes (its tables). */
	for (int o = SEED_VM1; o < SEED_OWNERS; o++) {
		if (o == x->owner)
			continue;
		iso_try(x, p, s->ram[o].gpa, "the other VM's RAM");
		iso_try(x, p, s->ram[o].gpa + s->ram[o].len - 64,
			"the other VM's RAM");
	}
}

/* A malicious guest: its stage 1 maps a spare IOVA to GPAs it does not
 * own; stage 2 must stop every access. */
static void iso_rogue(struct iso *x, struct seed_path *p)
{
	struct seed *s = x->s;
	const uint64_t iova = p->spare_iova + (SEED_SPARE - 1) * PAGE;
	const int other = x->owner == SEED_VM1 ? SEED_VM2 : SEED_VM1;
	const uint64_t targets[] = {
		s->ram[other].gpa + SEED_TABLES, /* the other VM's data */
		s->ram[other].gpa, /* and its tables */
		SEED_HOST_IOVA, /* the host's buffer, as a GPA */
		s->ram[x->owner].gpa + s->ram[x->owner].len, /* past RAM */
	};
	char how[96];

	for (unsigned i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		if (s1_move(p, iova, targets[i])) {
			snprintf(x->breach, sizeof(x->breach),
				 "%s: guest stage-1 map failed", p->name);
			return;
		}
		/* A new mapping needs no invalidation; the old one does. */
		if (s1_invalidate(s, p, iova, how, sizeof(how))) {
			snprintf(x->breach, sizeof(x->breach),
				 "%s: invalidation failed", p->name);
			return;
		}
		iso_try(x, p, iova + 8, "a rogue stage-1 mapping");
	}
	vm_s1_unmap(p->s1, iova, PAGE);
	s1_invalidate(s, p, iova, how, sizeof(how));
}

bool check_isolation(struct seed *s, int owner, struct check_result *r)
{
	struct iso x = { .s = s, .owner = owner };
	char what[96];
	struct snap sn;
	unsigned npaths = 0;
	bool changed;

	named(r, "isolation", seed_owner_name(owner));
	if (owner != SEED_VM1 && owner != SEED_VM2)
		return result(r, false, "not a VM");
	checks_drain(s);
	if (snap_take(s, &sn))
		return result(r, false, "out of memory");
	for (int i = 0; i < s->npaths; i++) {
		struct seed_path *p = &s->paths[i];

		if (p->owner != owner)
			continue;
		npaths++;
		iso_inputs(&x, p);
		if (p->nested)
			iso_rogue(&x, p);
	}
	/* Only the guest's own tables may have changed (the rogue maps). */
	changed = snap_changed(s, &sn, owner, s->ram[owner].gpa, SEED_TABLES,
			       what, sizeof(what));
	snap_free(&sn);
	if (x.breach[0])
		return result(r, false, "%s", x.breach);
	if (changed)
		return result(r, false, "%s", what);
	if (!x.tries || x.blocked != x.tries)
		return result(r, false, "%u of %u accesses blocked", x.blocked,
			      x.tries);
	return result(r, true,
		      "%u paths, %u accesses to the other VM's and the host's "
		      "addresses and rogue stage-1 maps: all faulted, no byte "
		      "of any RAM changed",
		      npaths, x.tries);
}

/* ---- stage1.<path> ---- */

bool check_stage1(struct seed *s, const char *name, struct check_result *r)
{
	struct seed_path *p = seed_find_path(s, name);
	uint64_t iova, old_gpa, new_gpa;
	uint8_t *old_mem, *new_mem, b = 0;
	char how[96];
	int rc;

	named(r, "stage1", name);
	if (!p || !p->nested)
		return result(r, false, "no nested path %s", name);
	iova = p->iova + 2 * PAGE;
	old_gpa = p->gpa + 2 * PAGE;
	new_gpa = p->spare_gpa;
	old_mem = p->mem + 2 * PAGE;
	new_mem = p->spare_mem;
	old_mem[0x10] = 0xa1;
	new_mem[0x10] = 0xb2;
	/* Cached by a first access. */
	rc = dma(s, p, iova + 0x10, &b, 1, IONEST_DMA_FROM_MEM);
	if (rc || b != 0xa1)
		return result(r, false, "first read: %s, 0x%02x", dma_err(rc),
			      b);
	if (s1_move(p, iova, new_gpa))
		return result(r, false, "guest stage-1 change failed");
	rc = dma(s, p, iova + 0x10, &b, 1, IONEST_DMA_FROM_MEM);
	if (rc || b != 0xa1) {
		s1_move(p, iova, old_gpa);
		s1_invalidate(s, p, iova, how, sizeof(how));
		return result(r, false,
			      "before invalidation: %s, 0x%02x (the change "
			      "was visible)",
			      dma_err(rc), b);
	}
	rc = s1_invalidate(s, p, iova, how, sizeof(how));
	if (rc)
		return result(r, false, "%s: %s", how, strerror(-rc));
	rc = dma(s, p, iova + 0x10, &b, 1, IONEST_DMA_FROM_MEM);
	if (rc || b != 0xb2)
		return result(r, false, "after %s: %s, 0x%02x", how,
			      dma_err(rc), b);
	/* Back as it was: the data page, visible again after invalidation. */
	if (s1_move(p, iova, old_gpa) ||
	    s1_invalidate(s, p, iova, how, sizeof(how)))
		return result(r, false, "restoring the mapping failed");
	rc = dma(s, p, iova + 0x10, &b, 1, IONEST_DMA_FROM_MEM);
	if (rc || b != 0xa1)
		return result(r, false, "after restoring: %s, 0x%02x",
			      dma_err(rc), b);
	return result(r, true,
		      "0x%llx moved from GPA 0x%llx to 0x%llx: still the old "
		      "page before invalidation, the new one after %s",
		      (unsigned long long)iova, (unsigned long long)old_gpa,
		      (unsigned long long)new_gpa, how);
}

/* ---- fault ---- */

static bool fault_smmu(struct seed *s, struct check_result *r)
{
	struct seed_path *p = seed_find_path(s, "vm2.proc2");
	const struct seed_device *d = &s->devices[p->device];
	const uint64_t iova = p->spare_iova + 8;
	struct vrec ev[4];
	uint8_t w = 0x66;
	int rc, n;

	checks_drain(s);
	rc = dma(s, p, iova, &w, 1, IONEST_DMA_TO_MEM);
	if (rc != -EFAULT)
		return result(r, false, "unmapped write on %s: %s", p->name,
			      dma_err(rc));
	if (read_vevents(s, SEED_VM1, ev, 4) != 0)
		return result(r, false, "an event reached vm1's vEVENTQ");
	n = read_vevents(s, SEED_VM2, ev, 4);
	if (n != 1)
		return result(r, false, "vm2's vEVENTQ: %d records", n);
	if ((ev[0].ev.evt[0] & 0xff) != EVT_F_TRANSLATION ||
	    EVT0_SID(ev[0].ev.evt[0]) != d->vsid ||
	    !(ev[0].ev.evt[0] & EVT0_SSV) ||
	    EVT0_SSID(ev[0].ev.evt[0]) != p->pasid || ev[0].ev.evt[2] != iova)
		return result(r, false,
			      "record type 0x%02x StreamID 0x%x SSV %d SSID %u "
			      "address 0x%llx",
			      (unsigned)(ev[0].ev.evt[0] & 0xff),
			      EVT0_SID(ev[0].ev.evt[0]),
			      !!(ev[0].ev.evt[0] & EVT0_SSV),
			      EVT0_SSID(ev[0].ev.evt[0]),
			      (unsigned long long)ev[0].ev.evt[2]);
	return result(r, true,
		      "%s: F_TRANSLATION in vm2's vEVENTQ, StreamID 0x%llx "
		      "(vSID of %s, physical 0x%x), SSID %u, address 0x%llx",
		      p->name, (unsigned long long)d->vsid, d->name, d->rid,
		      p->pasid, (unsigned long long)iova);
}

static bool fault_vtd(struct seed *s, struct check_result *r)
{
	struct seed_path *p = seed_find_path(s, "vm2.proc1");
	const struct seed_device *d = &s->devices[p->device];
	const uint64_t iova = p->spare_iova + 8;
	struct iommu_hwpt_pgfault rec[4];
	uint8_t w = 0x66;
	int rc, n;

	checks_drain(s);
	rc = dma(s, p, iova, &w, 1, IONEST_DMA_TO_MEM);
	if (rc != -EAGAIN)
		return result(r, false, "unmapped write on %s: %s", p->name,
			      dma_err(rc));
	if (read_faults(s, SEED_VM1, rec, 4) != 0)
		return result(r, false, "a fault reached vm1's fault queue");
	n = read_faults(s, SEED_VM2, rec, 4);
	if (n != 1)
		return result(r, false, "vm2's fault queue: %d records", n);
	respond(s, SEED_VM2, rec[0].cookie, IOMMUFD_PAGE_RESP_INVALID);
	if (rec[0].dev_id != d->dev_id ||
	    !(rec[0].flags & IOMMU_PGFAULT_FLAGS_PASID_VALID) ||
	    rec[0].pasid != p->pasid || rec[0].addr != (iova & ~(PAGE - 1)) ||
	    !(rec[0].perm & IOMMU_PGFAULT_PERM_WRITE))
		return result(r, false,
			      "record dev_id %u flags 0x%x PASID %u address "
			      "0x%llx perm 0x%x",
			      rec[0].dev_id, rec[0].flags, rec[0].pasid,
			      (unsigned long long)rec[0].addr, rec[0].perm);
	return result(r, true,
		      "%s: translation fault in vm2's fault queue, dev_id %u "
		      "(%s), PASID %u, address 0x%llx, write (VT-d has no "
		      "vEVENTQ: nested faults reach userspace as page "
		      "requests)",
		      p->name, d->dev_id, d->name, p->pasid,
		      (unsigned long long)rec[0].addr);
}

bool check_fault(struct seed *s, struct check_result *r)
{
	named(r, "fault", NULL);
	return is_smmu(s) ? fault_smmu(s, r) : fault_vtd(s, r);
}

/* ---- page-request ---- */

/* A write at an unmapped page of @p: the page request in the VM's fault
 * queue, checked; its record in *rec. */
static bool pr_request(struct seed *s, struct seed_path *p, uint64_t iova,
		       struct iommu_hwpt_pgfault *rec, struct check_result *r)
{
	const struct seed_device *d = &s->devices[p->device];
	struct iommu_hwpt_pgfault recs[4];
	uint8_t w[32];
	int rc, n;

	memset(w, 0x77, sizeof(w));
	checks_drain(s);
	rc = dma(s, p, iova, w, sizeof(w), IONEST_DMA_TO_MEM);
	if (rc != -EAGAIN)
		return result(r, false, "write at unmapped 0x%llx: %s",
			      (unsigned long long)iova, dma_err(rc));
	n = read_faults(s, p->owner, recs, 4);
	if (n != 1)
		return result(r, false, "%s's fault queue: %d records",
			      seed_owner_name(p->owner), n);
	*rec = recs[0];
	if (rec->dev_id != d->dev_id ||
	    !(rec->flags & IOMMU_PGFAULT_FLAGS_PASID_VALID) ||
	    !(rec->flags & IOMMU_PGFAULT_FLAGS_LAST_PAGE) ||
	    rec->pasid != p->pasid || rec->addr != (iova & ~(PAGE - 1)) ||
	    !(rec->perm & IOMMU_PGFAULT_PERM_WRITE)) {
		respond(s, p->owner, rec->cookie, IOMMUFD_PAGE_RESP_INVALID);
		return result(r, false,
			      "record dev_id %u flags 0x%x PASID %u address "
			      "0x%llx perm 0x%x",
			      rec->dev_id, rec->flags, rec->pasid,
			      (unsigned long long)rec->addr, rec->perm);
	}
	return true;
}

bool check_page_request(struct seed *s, struct check_result *r)
{
	struct seed_path *p = seed_find_path(s, "vm1.proc1");
	const uint64_t iova = p->spare_iova + PAGE, gpa = p->spare_gpa + PAGE;
	uint8_t *mem = p->spare_mem + PAGE, w[32];
	struct iommu_hwpt_pgfault rec;
	uint64_t resps;
	char how[96];
	int rc;

	named(r, "page-request", NULL);
	if (!pr_request(s, p, iova + 0x40, &rec, r))
		return false;
	/* The guest's fault handler maps the page; the VMM answers. */
	if (vm_s1_map(p->s1, iova, gpa, PAGE, PT_PROT_WRITE)) {
		respond(s, p->owner, rec.cookie, IOMMUFD_PAGE_RESP_INVALID);
		return result(r, false, "guest stage-1 map failed");
	}
	resps = __atomic_load_n(&s->resps.n, __ATOMIC_ACQUIRE);
	rc = respond(s, p->owner, rec.cookie, IOMMUFD_PAGE_RESP_SUCCESS);
	if (rc)
		return result(r, false, "page response: %s", strerror(-rc));
	if (__atomic_load_n(&s->resps.n, __ATOMIC_ACQUIRE) != resps + 1 ||
	    s->resps.last_code != 0 || !s->resps.last_ssid_valid ||
	    s->resps.last_ssid != p->pasid)
		return result(r, false,
			      "the endpoint got %llu responses, last code %u "
			      "SSID %u",
			      (unsigned long long)(s->resps.n - resps),
			      s->resps.last_code, s->resps.last_ssid);
	memset(w, 0x77, sizeof(w));
	rc = dma(s, p, iova + 0x40, w, sizeof(w), IONEST_DMA_TO_MEM);
	if (rc || memcmp(mem + 0x40, w, sizeof(w)))
		return result(r, false, "retry: %s",
			      rc ? dma_err(rc) : "bytes not there");
	/* Leave the page unmapped again for the next run. */
	vm_s1_unmap(p->s1, iova, PAGE);
	s1_invalidate(s, p, iova, how, sizeof(how));
	memset(mem, 0, PAGE);
	return result(r, true,
		      "%s: request for 0x%llx in vm1's fault queue (dev_id %u, "
		      "PASID %u, write), guest mapped it, SUCCESS reached the "
		      "endpoint, the retry landed at GPA 0x%llx",
		      p->name, (unsigned long long)rec.addr, rec.dev_id,
		      rec.pasid, (unsigned long long)(gpa + 0x40));
}

bool check_page_request_invalid(struct seed *s, struct check_result *r)
{
	struct seed_path *p = seed_find_path(s, "vm2.proc1");
	const uint64_t iova = p->spare_iova + 2 * PAGE;
	struct iommu_hwpt_pgfault rec, more[2];
	uint64_t resps;
	uint8_t b;
	int rc;

	named(r, "page-request.invalid", NULL);
	if (!pr_request(s, p, iova + 0x40, &rec, r))
		return false;
	resps = __atomic_load_n(&s->resps.n, __ATOMIC_ACQUIRE);
	rc = respond(s, p->owner, rec.cookie, IOMMUFD_PAGE_RESP_INVALID);
	if (rc)
		return result(r, false, "page response: %s", strerror(-rc));
	if (__atomic_load_n(&s->resps.n, __ATOMIC_ACQUIRE) != resps + 1 ||
	    s->resps.last_code != 1 || s->resps.last_ssid != p->pasid)
		return result(r, false,
			      "the endpoint got %llu responses, last code %u",
			      (unsigned long long)(s->resps.n - resps),
			      s->resps.last_code);
	/* The answer is final: the cookie is spent, nothing else pending. */
	if (respond(s, p->owner, rec.cookie, IOMMUFD_PAGE_RESP_SUCCESS) !=
	    -EINVAL)
		return result(r, false, "the cookie could be answered twice");
	if (read_faults(s, p->owner, more, 2) != 0)
		return result(r, false, "records left in the fault queue");
	for (unsigned i = 0; i < PAGE; i++)
		if (p->spare_mem[2 * PAGE + i])
			return result(r, false, "bytes written to GPA 0x%llx",
				      (unsigned long long)(p->spare_gpa +
							   2 * PAGE + i));
	/* The path is not wedged. */
	rc = dma(s, p, p->iova, &b, 1, IONEST_DMA_FROM_MEM);
	if (rc)
		return result(r, false, "the path failed afterwards: %s",
			      dma_err(rc));
	return result(r, true,
		      "%s: request for 0x%llx answered INVALID, the endpoint "
		      "got Invalid Request, nothing written, the cookie spent, "
		      "the path still translates",
		      p->name, (unsigned long long)rec.addr);
}

/* ---- msi ---- */

bool check_msi(struct seed *s, struct check_result *r)
{
	struct seed_path *p = seed_find_path(s, "vm2.dev2");
	const uint64_t addr = is_smmu(s) ? SMMU_MSI_ADDR : VTD_MSI_ADDR;
	uint32_t data = 0x5eed0000u | (uint32_t)p->dev;
	uint64_t before = ionest_machine_msi_count(s->m, p->dev);
	struct ionest_msi msi;
	char what[96];
	struct snap sn;
	bool changed;
	int rc;

	named(r, "msi", NULL);
	if (snap_take(s, &sn))
		return result(r, false, "out of memory");
	rc = dma(s, p, addr, &data, 4, IONEST_DMA_TO_MEM);
	changed = snap_changed(s, &sn, -1, 0, 0, what, sizeof(what));
	snap_free(&sn);
	if (rc)
		return result(r, false, "%s MSI write at 0x%llx: %s", p->name,
			      (unsigned long long)addr, dma_err(rc));
	if (ionest_machine_msi_count(s->m, p->dev) != before + 1 ||
	    ionest_machine_last_msi(s->m, &msi) || msi.dev != p->dev ||
	    msi.data != data || msi.addr != addr)
		return result(r, false, "the doorbell did not get it");
	if (changed)
		return result(r, false, "the MSI write changed memory: %s",
			      what);
	if (is_smmu(s))
		return result(
			r, true,
			"%s (%s) wrote 0x%08x at 0x%llx through its nested "
			"STE's stage 2 (S1DSS bypass) to the SW_MSI "
			"window: doorbell "
			"offset 0x%x, no memory written",
			s->devices[p->device].name, p->name, data,
			(unsigned long long)addr, msi.offset);
	return result(r, true,
		      "%s (%s) wrote 0x%08x at 0x%llx: an interrupt request "
		      "(never translated, nested or not) reached the doorbell, "
		      "no memory written",
		      s->devices[p->device].name, p->name, data,
		      (unsigned long long)addr);
}

/* ---- All of them, and the counters ---- */

int checks_run_all(struct seed *s, struct check_result *out, int max)
{
	int n = 0;

#define ADD(call)             \
	do {                  \
		if (n < max)  \
			call; \
		n += n < max; \
	} while (0)
	for (int i = 0; i < s->npaths; i++)
		ADD(check_dma(s, s->paths[i].name, &out[n]));
	ADD(check_isolation(s, SEED_VM1, &out[n]));
	ADD(check_isolation(s, SEED_VM2, &out[n]));
	ADD(check_stage1(s, "vm1.proc1", &out[n]));
	ADD(check_stage1(s, "vm2.proc2", &out[n]));
	ADD(check_fault(s, &out[n]));
	ADD(check_page_request(s, &out[n]));
	ADD(check_page_request_invalid(s, &out[n]));
	ADD(check_msi(s, &out[n]));
#undef ADD
	checks_drain(s);
	return n;
}

int seed_counters(const struct seed *s, struct seed_counters *c)
{
	char drv[64];
	const char *hw = ionest_hw_name(s->hw);
	/* The model's counters, then its driver's ("<model>-drv"). */
	const struct {
		const char *comp, *name;
		uint64_t *v;
	} f[] = {
		{ hw, "translate", &c->translate },
		{ hw, "tlb_hit", &c->tlb_hit },
		{ hw, "tlb_miss", &c->tlb_miss },
		{ hw, "walk", &c->walk },
		{ hw, "walk_read", &c->walk_read },
		{ hw, "fault", &c->fault },
		{ hw, "event", &c->event },
		{ hw, "page_request", &c->page_request },
		{ hw, "invalidation", &c->invalidation },
		{ drv, "shadow_sync", &c->shadow_sync },
		{ drv, "shadow_miss", &c->shadow_miss },
		{ drv, "shadow_fill", &c->shadow_fill },
		{ drv, "shadow_fault", &c->shadow_fault },
		{ drv, "shadow_drop", &c->shadow_drop },
	};
	int rc = 0;

	snprintf(drv, sizeof(drv), "%s-drv", hw);
	memset(c, 0, sizeof(*c));
	for (unsigned i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		int e = ionest_counter_get(f[i].comp, f[i].name, f[i].v);

		if (e && !rc)
			rc = e;
	}
	return rc;
}
