// SPDX-License-Identifier: MIT
/*
 * The seed topology, built as a VMM builds it: a machine, /dev/iommu and
 * the VFIO cdevs, IOASes holding the VMs' RAM, HWPTs, vIOMMUs, vDEVICEs,
 * vEVENTQs and fault queues by ioctl, guest stage-1 and CD tables written
 * in guest RAM. The mapping of the topology on each model is in seed.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <ionest/uapi/iommufd.h>
#include <ionest/uapi/vfio.h>

#include "scenario/seed.h"
#include "util/alloc.h"

struct build {
	struct seed *s;
	char *err;
	size_t errlen;
};

static int fail(struct build *b, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct build *b, int rc, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	if (!b->err || !b->errlen)
		return rc;
	va_start(ap, fmt);
	vsnprintf(b->err, b->errlen, fmt, ap);
	va_end(ap);
	n = strlen(b->err);
	snprintf(b->err + n, b->errlen - n, ": %s", strerror(-rc));
	return rc;
}

static void step(struct seed *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void step(struct seed *s, const char *fmt, ...)
{
	va_list ap;

	if (!s->opts.log)
		return;
	fputs("seed: ", s->opts.log);
	va_start(ap, fmt);
	vfprintf(s->opts.log, fmt, ap);
	va_end(ap);
	fputc('\n', s->opts.log);
}

/* ---- The ioctls, 0 or -errno ---- */

static int xioctl(int fd, unsigned long req, void *arg)
{
	return ionest_ioctl(fd, req, arg) < 0 ? -errno : 0;
}

static int ioas_alloc(struct seed *s, uint32_t *out)
{
	struct iommu_ioas_alloc a = { .size = sizeof(a) };
	int rc = xioctl(s->fd, IOMMU_IOAS_ALLOC, &a);

	*out = a.out_ioas_id;
	return rc;
}

static int hwpt_alloc(struct seed *s, uint32_t dev_id, uint32_t pt_id,
		      uint32_t flags, uint32_t type, const void *data,
		      uint32_t len, uint32_t fault_id, uint32_t *out)
{
	struct iommu_hwpt_alloc a = {
		.size = sizeof(a),
		.flags = flags | (fault_id ? IOMMU_HWPT_FAULT_ID_VALID : 0),
		.dev_id = dev_id,
		.pt_id = pt_id,
		.data_type = type,
		.data_len = len,
		.data_uptr = (uint64_t)(uintptr_t)data,
		.fault_id = fault_id,
	};
	int rc = xioctl(s->fd, IOMMU_HWPT_ALLOC, &a);

	*out = a.out_hwpt_id;
	return rc;
}

static int attach(struct seed *s, int device, uint32_t pasid, uint32_t pt_id)
{
	struct vfio_device_attach_iommufd_pt a = {
		.argsz = sizeof(a),
		.flags = pasid != IONEST_NO_PASID ? VFIO_DEVICE_ATTACH_PASID :
						    0,
		.pt_id = pt_id,
		.pasid = pasid != IONEST_NO_PASID ? pasid : 0,
	};

	return xioctl(s->devices[device].cdev, VFIO_DEVICE_ATTACH_IOMMUFD_PT,
		      &a);
}

/* ---- Records of what was built ---- */

static int add_domain(struct seed *s, enum seed_dom_kind kind, int owner,
		      int parent, uint32_t hwpt, const char *label,
		      const char *format)
{
	struct seed_domain *d = &s->domains[s->ndomains];
	int nested = 0, other = 0;

	for (int i = 0; i < s->ndomains; i++) {
		if (s->domains[i].kind == SEED_DOM_NESTED)
			nested++;
		else
			other++;
	}
	memset(d, 0, sizeof(*d));
	if (kind == SEED_DOM_NESTED)
		snprintf(d->name, sizeof(d->name), "nested%d", nested + 1);
	else
		snprintf(d->name, sizeof(d->name), "domain%d", other + 1);
	snprintf(d->label, sizeof(d->label), "%s", label);
	d->kind = kind;
	d->owner = owner;
	d->parent = parent;
	d->hwpt_id = hwpt;
	d->format = format;
	return s->ndomains++;
}

static void add_attach(struct seed *s, int device, uint32_t pasid, int domain,
		       int path, bool guest_cd)
{
	s->attach[s->nattach++] = (struct seed_attach){
		.device = device,
		.pasid = pasid,
		.domain = domain,
		.path = path,
		.guest_cd = guest_cd,
	};
}

/* A host attachment, recorded. */
static int do_attach(struct build *b, int device, uint32_t pasid, int domain,
		     int path)
{
	struct seed *s = b->s;
	int rc = attach(s, device, pasid, s->domains[domain].hwpt_id);

	if (rc) {
		if (pasid == IONEST_NO_PASID)
			return fail(b, rc, "attach %s to %s",
				    s->devices[device].name,
				    s->domains[domain].name);
		return fail(b, rc, "attach %s PASID %u to %s",
			    s->devices[device].name, pasid,
			    s->domains[domain].name);
	}
	if (pasid == IONEST_NO_PASID)
		step(s, "attached %s to %s (%s)", s->devices[device].name,
		     s->domains[domain].name, s->domains[domain].label);
	else
		step(s, "attached %s PASID %u to %s (%s)",
		     s->devices[device].name, pasid, s->domains[domain].name,
		     s->domains[domain].label);
	add_attach(s, device, pasid, domain, path, false);
	return 0;
}

/* A path with SEED_PAGES data pages of @owner's RAM at @iova (the GPA
 * itself when @iova is 0), plus spare pages for nested paths. */
static int add_path(struct build *b, const char *name, int owner, int device,
		    uint32_t pasid, uint64_t iova, bool nested)
{
	struct seed *s = b->s;
	struct seed_path *p = &s->paths[s->npaths];
	uint64_t len = SEED_PAGES * VM_PAGE, gpa;
	unsigned pages = SEED_PAGES + (nested ? SEED_SPARE : 0);
	int rc;

	memset(p, 0, sizeof(*p));
	rc = vm_alloc(&s->data[owner], pages * VM_PAGE, &gpa);
	if (rc)
		return fail(b, rc, "RAM for path %s", name);
	p->name = name;
	p->owner = owner;
	p->vm = &s->ram[owner];
	p->device = device;
	p->dev = s->devices[device].dev;
	p->rid = s->devices[device].rid;
	p->pasid = pasid;
	p->iommu = s->iommu;
	p->domain = -1;
	p->nested = nested;
	p->iova = iova ? iova : gpa;
	p->len = len;
	p->gpa = gpa;
	p->mem = vm_ptr(p->vm, gpa, len);
	if (nested) {
		p->spare_iova = p->iova + len;
		p->spare_gpa = gpa + len;
		p->spare_mem =
			vm_ptr(p->vm, p->spare_gpa, SEED_SPARE * VM_PAGE);
	}
	s->npaths++;
	return 0;
}

/* The process of path @p: its own stage 1 in its VM's table area, the
 * data pages mapped read/write. */
static int add_proc(struct build *b, struct seed_path *p)
{
	struct seed *s = b->s;
	struct pt *s1 = &s->s1[s->ns1];
	int rc;

	rc = vm_s1_init(s1, &s->tables[p->owner],
			strcmp(s->model, "vtd") ? VM_S1_ARM64_4K :
						  VM_S1_X86_64_4L);
	if (rc)
		return fail(b, rc, "stage 1 of %s", p->name);
	s->ns1++;
	rc = vm_s1_map(s1, p->iova, p->gpa, p->len, PT_PROT_WRITE);
	if (rc)
		return fail(b, rc, "stage-1 map of %s", p->name);
	p->s1 = s1;
	step(s, "%s: stage 1 at GPA 0x%llx maps 0x%llx -> GPA 0x%llx", p->name,
	     (unsigned long long)s1->root, (unsigned long long)p->iova,
	     (unsigned long long)p->gpa);
	return 0;
}

/* ---- Common part: machine, devices, RAM, IOASes, fault queues ---- */

struct dev_spec {
	const char *name;
	uint32_t rid;
	int owner;
	uint64_t vsid;
	bool pri;
};

static const struct dev_spec vtd_devs[] = {
	{ "RID1", 0x0100, SEED_HOST, 0, true },
	{ "RID2", 0x0200, SEED_VM2, 0, false },
};

static const struct dev_spec smmu_devs[] = {
	{ "RID1", 0x0100, SEED_HOST, 0, true },
	{ "RID1.1", 0x0101, SEED_VM1, 0x08, true },
	{ "RID1.2", 0x0102, SEED_VM2, 0x08, true },
	{ "RID2", 0x0200, SEED_VM2, 0x10, false },
};

static void page_resp(void *ctx, uint32_t sid, uint32_t ssid, bool ssid_valid,
		      uint32_t prgi, uint32_t code)
{
	struct seed_page_resps *r = ctx;

	r->last_sid = sid;
	r->last_ssid = ssid;
	r->last_ssid_valid = ssid_valid;
	r->last_prgi = prgi;
	r->last_code = code;
	__atomic_add_fetch(&r->n, 1, __ATOMIC_RELEASE);
}

static int build_machine(struct build *b, const struct dev_spec *devs, int ndev)
{
	struct seed *s = b->s;
	bool smmu = !strcmp(s->model, "smmuv3");
	struct ionest_hw *hw;
	int rc;

	s->m = ionest_machine_new();
	if (!s->m)
		return fail(b, -ENOMEM, "machine");
	hw = smmu ? ionest_smmuv3_new(NULL) : ionest_vtd_new(NULL);
	if (!hw)
		return fail(b, -ENOMEM, "%s model", s->model);
	snprintf(s->iommu, sizeof(s->iommu), "%s", smmu ? "smmu0" : "vtd0");
	rc = ionest_machine_add_iommu(s->m, s->iommu, hw);
	if (rc) {
		ionest_hw_free(hw);
		return fail(b, rc, "add IOMMU %s", s->iommu);
	}
	s->hw = hw;
	ionest_hw_set_page_resp_handler(hw, page_resp, &s->resps);
	if (s->opts.nesting != IONEST_NESTING_AUTO) {
		rc = ionest_machine_set_nesting(s->m, s->iommu,
						s->opts.nesting);
		if (rc)
			return fail(b, rc, "nesting mode %s",
				    seed_nesting_name(s->opts.nesting));
	}
	s->nesting = ionest_machine_nesting(s->m, s->iommu);
	step(s, "%s: %s model, nesting %s", s->iommu, s->model,
	     seed_nesting_name(s->nesting));
	for (int i = 0; i < ndev; i++) {
		struct seed_device *d = &s->devices[i];
		struct ionest_device_config dc = {
			.name = devs[i].name,
			.iommu = s->iommu,
			.rid = devs[i].rid,
			.pasid_bits = 8,
			.ats = true,
			.pri = devs[i].pri,
		};

		snprintf(d->name, sizeof(d->name), "%s", devs[i].name);
		d->rid = devs[i].rid;
		d->owner = devs[i].owner;
		d->vsid = devs[i].vsid;
		d->pri = devs[i].pri;
		d->cdev = -1;
		d->dev = ionest_machine_add_device(s->m, &dc);
		if (d->dev < 0)
			return fail(b, d->dev, "device %s", d->name);
		s->ndevices++;
	}
	s->fd = ionest_open(s->m, "/dev/iommu", O_RDWR | O_CLOEXEC);
	if (s->fd < 0)
		return fail(b, -errno, "open /dev/iommu");
	for (int i = 0; i < s->ndevices; i++) {
		struct seed_device *d = &s->devices[i];
		struct vfio_device_bind_iommufd bind = {
			.argsz = sizeof(bind),
			.iommufd = s->fd,
		};
		char path[48];

		snprintf(path, sizeof(path), "/dev/vfio/devices/vfio%d",
			 d->dev);
		d->cdev = ionest_open(s->m, path, O_RDWR | O_CLOEXEC);
		if (d->cdev < 0)
			return fail(b, -errno, "open %s", path);
		rc = xioctl(d->cdev, VFIO_DEVICE_BIND_IOMMUFD, &bind);
		if (rc)
			return fail(b, rc, "bind %s", d->name);
		d->dev_id = bind.out_devid;
		step(s, "%s (%02x:%02x.%x) is %s, iommufd device %u", d->name,
		     d->rid >> 8, (d->rid >> 3) & 0x1f, d->rid & 7, path,
		     d->dev_id);
	}
	return 0;
}

static int build_memory(struct build *b)
{
	static const char *const names[] = { "host", "vm1", "vm2" };
	static const uint64_t base[] = { SEED_HOST_IOVA, SEED_VM1_GPA,
					 SEED_VM2_GPA };
	struct seed *s = b->s;
	int rc;

	for (int o = 0; o < SEED_OWNERS; o++) {
		/* The host buffer: the data pages of the host path. */
		size_t len = o == SEED_HOST ? SEED_PAGES * VM_PAGE : SEED_RAM;

		rc = vm_init(&s->ram[o], names[o], base[o], len);
		if (rc)
			return fail(b, rc, "RAM of %s", names[o]);
		if (o == SEED_HOST) {
			rc = vm_view(&s->data[o], &s->ram[o], 0, len);
		} else {
			rc = vm_view(&s->tables[o], &s->ram[o], 0, SEED_TABLES);
			if (!rc)
				rc = vm_view(&s->data[o], &s->ram[o],
					     SEED_TABLES, len - SEED_TABLES);
		}
		if (rc)
			return fail(b, rc, "RAM views of %s", names[o]);
		rc = ioas_alloc(s, &s->ioas[o]);
		if (rc)
			return fail(b, rc, "IOAS of %s", names[o]);
		rc = vm_ioas_map(&s->ram[o], s->fd, s->ioas[o]);
		if (rc)
			return fail(b, rc, "IOAS_MAP of %s's memory", names[o]);
		step(s, "%s: %zu KiB at %s 0x%llx in IOAS %u", names[o],
		     len >> 10, o == SEED_HOST ? "IOVA" : "GPA",
		     (unsigned long long)base[o], s->ioas[o]);
		if (o == SEED_HOST)
			continue;
		{
			struct iommu_fault_alloc fa = { .size = sizeof(fa) };

			rc = xioctl(s->fd, IOMMU_FAULT_QUEUE_ALLOC, &fa);
			if (rc)
				return fail(b, rc, "fault queue of %s",
					    names[o]);
			s->fault_id[o] = fa.out_fault_id;
			s->fault_fd[o] = (int)fa.out_fault_fd;
		}
	}
	return 0;
}

/* RID1's paths on both models: host IOVA on the RID, the VMs' GPA spaces
 * on PASIDs x and y (paths 0-2). */
static int rid1_paths(struct build *b, int host, int vm1, int vm2)
{
	int rc = add_path(b, "host", SEED_HOST, 0, IONEST_NO_PASID,
			  SEED_HOST_IOVA, false);

	if (!rc)
		rc = do_attach(b, 0, IONEST_NO_PASID, host, 0);
	if (!rc)
		rc = add_path(b, "vm1", SEED_VM1, 0, SEED_PASID_X, 0, false);
	if (!rc)
		rc = do_attach(b, 0, SEED_PASID_X, vm1, 1);
	if (!rc)
		rc = add_path(b, "vm2", SEED_VM2, 0, SEED_PASID_Y, 0, false);
	if (!rc)
		rc = do_attach(b, 0, SEED_PASID_Y, vm2, 2);
	return rc;
}

/* ---- VT-d: every PASID entry its own (seed.h) ---- */

static int build_vtd(struct build *b)
{
	struct seed *s = b->s;
	const uint32_t rid1 = s->devices[0].dev_id, rid2 = s->devices[1].dev_id;
	static const struct {
		const char *name;
		int owner, device;
		uint32_t pasid;
	} procs[] = {
		{ "vm1.proc1", SEED_VM1, 0, SEED_PASID_A },
		{ "vm1.proc2", SEED_VM1, 0, SEED_PASID_B },
		{ "vm2.proc1", SEED_VM2, 0, SEED_PASID_C },
		{ "vm2.proc2", SEED_VM2, 1, SEED_PASID_A },
	};
	int dom[SEED_OWNERS];
	uint32_t id;
	int rc;

	rc = hwpt_alloc(s, rid1, s->ioas[SEED_HOST], IOMMU_HWPT_ALLOC_PASID,
			IOMMU_HWPT_DATA_NONE, NULL, 0, 0, &id);
	if (rc)
		return fail(b, rc, "host domain");
	dom[SEED_HOST] = add_domain(s, SEED_DOM_PAGING, SEED_HOST, -1, id,
				    "host, IOVA", "second stage");
	for (int o = SEED_VM1; o <= SEED_VM2; o++) {
		rc = hwpt_alloc(s, rid1, s->ioas[o],
				IOMMU_HWPT_ALLOC_NEST_PARENT |
					IOMMU_HWPT_ALLOC_PASID,
				IOMMU_HWPT_DATA_NONE, NULL, 0, 0, &id);
		if (rc)
			return fail(b, rc, "%s's GPA domain",
				    seed_owner_name(o));
		dom[o] = add_domain(s, SEED_DOM_PARENT, o, -1, id,
				    o == SEED_VM1 ? "vm1, GPA" : "vm2, GPA",
				    "second stage, nest parent");
	}

	rc = rid1_paths(b, dom[SEED_HOST], dom[SEED_VM1], dom[SEED_VM2]);
	/* RID2 whole in VM2's GPA space. */
	if (!rc)
		rc = add_path(b, "vm2.dev2", SEED_VM2, 1, IONEST_NO_PASID, 0,
			      false);
	if (!rc)
		rc = do_attach(b, 1, IONEST_NO_PASID, dom[SEED_VM2], 3);
	if (rc)
		return rc;
	for (int i = 0; i < 4; i++)
		s->paths[i].domain = dom[s->paths[i].owner];

	/* Guest SVA: one nested HWPT per process, per PASID. */
	for (unsigned i = 0; i < sizeof(procs) / sizeof(procs[0]); i++) {
		struct iommu_hwpt_vtd_s1 data;
		struct seed_path *p;
		int pi = s->npaths, d;
		uint32_t dev_id = procs[i].device ? rid2 : rid1;

		rc = add_path(b, procs[i].name, procs[i].owner, procs[i].device,
			      procs[i].pasid, SEED_PROC_IOVA(i + 1), true);
		if (rc)
			return rc;
		p = &s->paths[pi];
		rc = add_proc(b, p);
		if (rc)
			return rc;
		rc = vm_vtd_s1_data(p->s1, &data);
		if (!rc)
			rc = hwpt_alloc(s, dev_id,
					s->domains[dom[p->owner]].hwpt_id,
					IOMMU_HWPT_ALLOC_PASID,
					IOMMU_HWPT_DATA_VTD_S1, &data,
					sizeof(data), s->fault_id[p->owner],
					&id);
		if (rc)
			return fail(b, rc, "nested HWPT of %s (nesting %s)",
				    p->name, seed_nesting_name(s->nesting));
		d = add_domain(s, SEED_DOM_NESTED, p->owner, dom[p->owner], id,
			       p->name, "guest first stage + second stage");
		p->domain = d;
		p->nested_hwpt = id;
		rc = do_attach(b, p->device, p->pasid, d, pi);
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- SMMUv3: the VMs' SVA on functions of their own (seed.h) ---- */

static int smmu_viommu(struct build *b, int o, int device, uint32_t parent)
{
	struct seed *s = b->s;
	struct iommu_viommu_alloc va = {
		.size = sizeof(va),
		.type = IOMMU_VIOMMU_TYPE_ARM_SMMUV3,
		.dev_id = s->devices[device].dev_id,
		.hwpt_id = parent,
	};
	struct iommu_veventq_alloc qa = {
		.size = sizeof(qa),
		.type = IOMMU_VEVENTQ_TYPE_ARM_SMMUV3,
		.veventq_depth = 64,
	};
	int rc = xioctl(s->fd, IOMMU_VIOMMU_ALLOC, &va);

	if (rc)
		return fail(b, rc, "vIOMMU of %s", seed_owner_name(o));
	s->viommu[o] = va.out_viommu_id;
	qa.viommu_id = s->viommu[o];
	rc = xioctl(s->fd, IOMMU_VEVENTQ_ALLOC, &qa);
	if (rc)
		return fail(b, rc, "vEVENTQ of %s", seed_owner_name(o));
	s->veventq_id[o] = qa.out_veventq_id;
	s->veventq_fd[o] = (int)qa.out_veventq_fd;
	step(s, "%s: vIOMMU %u over its stage 2, vEVENTQ %u",
	     seed_owner_name(o), s->viommu[o], s->veventq_id[o]);
	for (int i = 0; i < s->ndevices; i++) {
		struct seed_device *d = &s->devices[i];
		struct iommu_vdevice_alloc vd = {
			.size = sizeof(vd),
			.viommu_id = s->viommu[o],
			.dev_id = d->dev_id,
			.virt_id = d->vsid,
		};

		if (d->owner != o)
			continue;
		rc = xioctl(s->fd, IOMMU_VDEVICE_ALLOC, &vd);
		if (rc)
			return fail(b, rc, "vDEVICE of %s", d->name);
		step(s, "%s: %s is vSID 0x%llx", seed_owner_name(o), d->name,
		     (unsigned long long)d->vsid);
	}
	return 0;
}

/* The guest's CD table of @device with one CD per process path, its STE
 * as a nested HWPT through the VM's vIOMMU, attached to the RID. */
static int smmu_nested(struct build *b, int device, const int *paths, int n,
		       enum vm_s1dss s1dss, int gpa_path)
{
	struct seed *s = b->s;
	struct seed_device *dv = &s->devices[device];
	struct vm_cdtab *t = &s->cdtab[device];
	int o = dv->owner, d;
	struct iommu_hwpt_arm_smmuv3 data;
	uint64_t ste[2];
	uint32_t id;
	int rc;

	rc = vm_cdtab_init(t, &s->tables[o], 2);
	if (rc)
		return fail(b, rc, "CD table of %s", dv->name);
	for (int i = 0; i < n; i++) {
		struct seed_path *p = &s->paths[paths[i]];

		rc = vm_cd_write(t, p->pasid, p->s1, p->asid);
		if (rc)
			return fail(b, rc, "CD %u of %s", p->pasid, dv->name);
	}
	vm_cdtab_ste(t, s1dss, ste);
	data.ste[0] = ste[0];
	data.ste[1] = ste[1];
	rc = hwpt_alloc(s, dv->dev_id, s->viommu[o], 0,
			IOMMU_HWPT_DATA_ARM_SMMUV3, &data, sizeof(data),
			s->fault_id[o], &id);
	if (rc)
		return fail(b, rc, "nested HWPT of %s (nesting %s)", dv->name,
			    seed_nesting_name(s->nesting));
	{
		char label[32];
		int parent = -1;

		for (int i = 0; i < s->ndomains; i++)
			if (s->domains[i].kind == SEED_DOM_PARENT &&
			    s->domains[i].owner == o)
				parent = i;
		snprintf(label, sizeof(label), "%s STE of %s",
			 seed_owner_name(o), dv->name);
		d = add_domain(s, SEED_DOM_NESTED, o, parent, id, label,
			       "guest CD table, stage 1 + stage 2");
	}
	rc = do_attach(b, device, IONEST_NO_PASID, d, gpa_path);
	if (rc)
		return rc;
	if (gpa_path >= 0)
		s->paths[gpa_path].domain = d;
	for (int i = 0; i < n; i++) {
		struct seed_path *p = &s->paths[paths[i]];

		p->domain = d;
		add_attach(s, device, p->pasid, d, paths[i], true);
		step(s, "%s: guest CD %u of %s (ASID %u) is %s",
		     seed_owner_name(o), p->pasid, dv->name, p->asid, p->name);
	}
	return 0;
}

static int build_smmu(struct build *b)
{
	struct seed *s = b->s;
	const uint32_t rid1 = s->devices[0].dev_id;
	int dom_host, dom_gpa[SEED_OWNERS];
	int p_proc[4];
	uint32_t id;
	int rc;

	/* RID1: the host's stage-1 domains in its own CD table. */
	rc = hwpt_alloc(s, rid1, s->ioas[SEED_HOST], IOMMU_HWPT_ALLOC_PASID,
			IOMMU_HWPT_DATA_NONE, NULL, 0, 0, &id);
	if (rc)
		return fail(b, rc, "host domain");
	dom_host = add_domain(s, SEED_DOM_PAGING, SEED_HOST, -1, id,
			      "host, IOVA", "stage 1");
	for (int o = SEED_VM1; o <= SEED_VM2; o++) {
		int dev = o == SEED_VM1 ? 1 : 2;

		rc = hwpt_alloc(s, rid1, s->ioas[o], IOMMU_HWPT_ALLOC_PASID,
				IOMMU_HWPT_DATA_NONE, NULL, 0, 0, &id);
		if (rc)
			return fail(b, rc, "%s's GPA domain for a PASID",
				    seed_owner_name(o));
		dom_gpa[o] = add_domain(s, SEED_DOM_PAGING, o, -1, id,
					o == SEED_VM1 ? "vm1, GPA" : "vm2, GPA",
					"stage 1 (GPA -> host)");
		rc = hwpt_alloc(s, s->devices[dev].dev_id, s->ioas[o],
				IOMMU_HWPT_ALLOC_NEST_PARENT,
				IOMMU_HWPT_DATA_NONE, NULL, 0, 0, &id);
		if (rc)
			return fail(b, rc, "%s's stage 2", seed_owner_name(o));
		add_domain(s, SEED_DOM_PARENT, o, -1, id,
			   o == SEED_VM1 ? "vm1, GPA" : "vm2, GPA",
			   "stage 2, nest parent");
		rc = smmu_viommu(b, o, dev, id);
		if (rc)
			return rc;
	}
	rc = rid1_paths(b, dom_host, dom_gpa[SEED_VM1], dom_gpa[SEED_VM2]);
	if (!rc)
		rc = add_path(b, "vm2.dev2", SEED_VM2, 3, IONEST_NO_PASID, 0,
			      false);
	if (rc)
		return rc;
	s->paths[0].domain = dom_host;
	s->paths[1].domain = dom_gpa[SEED_VM1];
	s->paths[2].domain = dom_gpa[SEED_VM2];

	/* The processes: stage 1s in guest RAM. */
	{
		static const struct {
			const char *name;
			int owner, device;
			uint32_t pasid;
			uint16_t asid; /* per VM: VMIDs tell VMs apart */
		} procs[] = {
			{ "vm1.proc1", SEED_VM1, 1, SEED_PASID_A, 1 },
			{ "vm1.proc2", SEED_VM1, 1, SEED_PASID_B, 2 },
			{ "vm2.proc1", SEED_VM2, 2, SEED_PASID_C, 1 },
			{ "vm2.proc2", SEED_VM2, 3, SEED_PASID_A, 2 },
		};

		for (int i = 0; i < 4; i++) {
			p_proc[i] = s->npaths;
			rc = add_path(b, procs[i].name, procs[i].owner,
				      procs[i].device, procs[i].pasid,
				      SEED_PROC_IOVA(i + 1), true);
			if (!rc)
				rc = add_proc(b, &s->paths[p_proc[i]]);
			if (rc)
				return rc;
			s->paths[p_proc[i]].asid = procs[i].asid;
		}
	}
	/* Each VM function's STE: the guest's CD table. */
	rc = smmu_nested(b, 1, &p_proc[0], 2, VM_S1DSS_TERMINATE, -1);
	if (!rc)
		rc = smmu_nested(b, 2, &p_proc[2], 1, VM_S1DSS_TERMINATE, -1);
	if (!rc)
		rc = smmu_nested(b, 3, &p_proc[3], 1, VM_S1DSS_BYPASS, 3);
	return rc;
}

/* ---- Public ---- */

int seed_new(const struct seed_opts *opts, struct seed **out, char *err,
	     size_t errlen)
{
	static const struct seed_opts defaults;
	struct build b = { .err = err, .errlen = errlen };
	struct seed *s;
	const char *model;
	int rc;

	*out = NULL;
	if (err && errlen)
		err[0] = 0;
	if (!opts)
		opts = &defaults;
	model = opts->iommu ? opts->iommu : "smmuv3";
	if (strcmp(model, "smmuv3") && strcmp(model, "vtd"))
		return fail(&b, -EINVAL, "IOMMU model '%s'", model);
	if (opts->nesting != IONEST_NESTING_AUTO &&
	    opts->nesting != IONEST_NESTING_HW &&
	    opts->nesting != IONEST_NESTING_SHADOW)
		return fail(&b, -EINVAL, "nesting mode %d", opts->nesting);
	s = xzalloc(sizeof(*s));
	if (!s)
		return fail(&b, -ENOMEM, "seed");
	b.s = s;
	s->opts = *opts;
	snprintf(s->model, sizeof(s->model), "%s", model);
	s->fd = -1;
	for (int o = 0; o < SEED_OWNERS; o++)
		s->fault_fd[o] = s->veventq_fd[o] = -1;
	if (!strcmp(model, "vtd"))
		rc = build_machine(&b, vtd_devs, 2);
	else
		rc = build_machine(&b, smmu_devs, 4);
	if (!rc)
		rc = build_memory(&b);
	if (!rc)
		rc = !strcmp(model, "vtd") ? build_vtd(&b) : build_smmu(&b);
	if (rc) {
		seed_free(s);
		return rc;
	}
	step(s, "built: %d devices, %d domains, %d paths", s->ndevices,
	     s->ndomains, s->npaths);
	*out = s;
	return 0;
}

void seed_free(struct seed *s)
{
	if (!s)
		return;
	/* Devices first (unbind), then the iommufd's own fds and itself:
	 * closing the iommufd destroys every object leaf first. */
	for (int i = 0; i < s->ndevices; i++)
		if (s->devices[i].cdev >= 0)
			ionest_close(s->devices[i].cdev);
	for (int o = 0; o < SEED_OWNERS; o++) {
		if (s->fault_fd[o] >= 0)
			ionest_close(s->fault_fd[o]);
		if (s->veventq_fd[o] >= 0)
			ionest_close(s->veventq_fd[o]);
	}
	if (s->fd >= 0)
		ionest_close(s->fd);
	if (s->hw)
		ionest_hw_set_page_resp_handler(s->hw, NULL, NULL);
	ionest_machine_free(s->m);
	for (int i = 0; i < s->ns1; i++)
		vm_s1_fini(&s->s1[i]);
	for (int o = 0; o < SEED_OWNERS; o++)
		vm_fini(&s->ram[o]);
	xfree(s);
}

struct seed_path *seed_find_path(struct seed *s, const char *name)
{
	for (int i = 0; name && i < s->npaths; i++)
		if (!strcmp(s->paths[i].name, name))
			return &s->paths[i];
	return NULL;
}

int seed_path(struct seed *s, const char *name, struct seed_path *out)
{
	struct seed_path *p = seed_find_path(s, name);

	if (!p)
		return -ENOENT;
	*out = *p;
	return 0;
}

struct ionest_machine *seed_machine(const struct seed *s)
{
	return s->m;
}

int seed_iommufd(const struct seed *s)
{
	return s->fd;
}

int seed_fault_fd(const struct seed *s, int owner)
{
	return owner > SEED_HOST && owner < SEED_OWNERS ? s->fault_fd[owner] :
							  -1;
}

int seed_veventq_fd(const struct seed *s, int owner)
{
	return owner > SEED_HOST && owner < SEED_OWNERS ? s->veventq_fd[owner] :
							  -1;
}

const char *seed_owner_name(int owner)
{
	switch (owner) {
	case SEED_HOST:
		return "host";
	case SEED_VM1:
		return "vm1";
	case SEED_VM2:
		return "vm2";
	default:
		return "?";
	}
}

const char *seed_nesting_name(int mode)
{
	switch (mode) {
	case IONEST_NESTING_HW:
		return "hw";
	case IONEST_NESTING_SHADOW:
		return "shadow";
	case IONEST_NESTING_AUTO:
		return "auto";
	default:
		return "?";
	}
}
