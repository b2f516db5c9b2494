// SPDX-License-Identifier: MIT
/*
 * Setting up a machine file's scenario through the iommufd ABI (file.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <ionest/uapi/iommufd.h>
#include <ionest/uapi/vfio.h>

#include "scenario/file.h"
#include "scenario/guest.h"
#include "util/alloc.h"

struct scen_file {
	int fd; /* the iommufd */
	unsigned ndevices;
	int *cdev; /* per machine device: its open cdev, or -1 */
	uint32_t *dev_id;
	struct vm *vm; /* per scenario domain (host domains: unused) */
	unsigned ndom;
	struct pt *s1; /* per scenario device entry (VMs) */
	bool *s1_live;
	unsigned ndev;
	void **buf; /* per scenario map (host domains) */
	unsigned nmap;
};

struct build {
	const struct machine_config *c;
	const struct mcfg_scenario *sc;
	struct ionest_machine *m;
	struct scen_file *s;
	char *err;
	size_t errlen;
};

static int xioctl(int fd, unsigned long req, void *arg)
{
	return ionest_ioctl(fd, req, arg) < 0 ? -errno : 0;
}

/* "FILE:LINE: @what: reason" for a failed step. */
static int fail(struct build *b, int line, int rc, const char *what,
		const char *why)
{
	return mcfg_error(b->err, b->errlen, b->c->file, line, rc, "%s: %s",
			  what, why ? why : strerror(-rc));
}

/* The same for a failed operation @op: "@what: @op: strerror". */
static int fail_op(struct build *b, int line, int rc, const char *what,
		   const char *op)
{
	return mcfg_error(b->err, b->errlen, b->c->file, line, rc, "%s: %s: %s",
			  what, op, strerror(-rc));
}

static bool is_model(const struct build *b, unsigned device, enum mcfg_model m)
{
	return b->c->iommus[b->c->devices[device].iommu_index].model == m;
}

/* Whether the scenario attaches PASIDs of @device: then every HWPT of it
 * must be PASID-compatible (IOMMU_HWPT_ALLOC_PASID), the RID's too. */
static bool uses_pasids(const struct build *b, unsigned device)
{
	for (unsigned i = 0; i < b->sc->ndev; i++)
		if (b->sc->dev[i].device == device &&
		    b->sc->dev[i].pasid != IONEST_NO_PASID)
			return true;
	return false;
}

/* Open and bind machine device @device's cdev (once). */
static int bind(struct build *b, unsigned device, int line, const char *what)
{
	struct scen_file *s = b->s;
	const struct mcfg_device *d = &b->c->devices[device];
	struct vfio_device_bind_iommufd bd = { .argsz = sizeof(bd) };
	char path[48];
	int fd, rc;

	if (s->cdev[device] >= 0)
		return 0;
	snprintf(path, sizeof(path), "/dev/vfio/devices/vfio%d", d->vfio);
	fd = ionest_open(b->m, path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return fail(b, line, -errno, what, "cannot open the device");
	s->cdev[device] = fd;
	bd.iommufd = s->fd;
	rc = xioctl(fd, VFIO_DEVICE_BIND_IOMMUFD, &bd);
	if (rc)
		return fail_op(b, line, rc, what, "VFIO_DEVICE_BIND_IOMMUFD");
	s->dev_id[device] = bd.out_devid;
	return 0;
}

static int attach(struct build *b, unsigned device, uint32_t pasid,
		  uint32_t pt_id, int line, const char *what)
{
	struct vfio_device_attach_iommufd_pt at = {
		.argsz = sizeof(at),
		.flags = pasid != IONEST_NO_PASID ? VFIO_DEVICE_ATTACH_PASID :
						    0,
		.pt_id = pt_id,
		.pasid = pasid != IONEST_NO_PASID ? pasid : 0,
	};
	int rc = xioctl(b->s->cdev[device], VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at);

	return rc ? fail_op(b, line, rc, what,
			    "VFIO_DEVICE_ATTACH_IOMMUFD_PT") :
		    0;
}

static int ioas_alloc(struct build *b, uint32_t *id, int line, const char *what)
{
	struct iommu_ioas_alloc a = { .size = sizeof(a) };
	int rc = xioctl(b->s->fd, IOMMU_IOAS_ALLOC, &a);

	if (rc)
		return fail_op(b, line, rc, what, "IOMMU_IOAS_ALLOC");
	*id = a.out_ioas_id;
	return 0;
}

static int hwpt_alloc(struct build *b, uint32_t dev_id, uint32_t pt_id,
		      uint32_t flags, uint32_t type, const void *data,
		      uint32_t len, uint32_t *id, int line, const char *what)
{
	struct iommu_hwpt_alloc a = {
		.size = sizeof(a),
		.flags = flags,
		.dev_id = dev_id,
		.pt_id = pt_id,
		.data_type = type,
		.data_len = len,
		.data_uptr = (uint64_t)(uintptr_t)data,
	};
	int rc = xioctl(b->s->fd, IOMMU_HWPT_ALLOC, &a);

	if (rc)
		return fail_op(b, line, rc, what, "IOMMU_HWPT_ALLOC");
	*id = a.out_hwpt_id;
	return 0;
}

/* ---- host domains ---- */

static int build_host(struct build *b, unsigned di)
{
	const struct mcfg_sdomain *dom = &b->sc->dom[di];
	struct scen_file *s = b->s;
	char what[64];
	uint32_t ioas = 0;
	int rc;

	snprintf(what, sizeof(what), "host domain %s", dom->name);
	rc = ioas_alloc(b, &ioas, dom->line, what);
	if (rc)
		return rc;
	for (unsigned i = 0; i < dom->ndev; i++) {
		const struct mcfg_sdev *d = &b->sc->dev[dom->dev0 + i];

		uint32_t pt = ioas;

		rc = bind(b, d->device, d->line, what);
		/* The automatic domain is not PASID-compatible. */
		if (!rc && uses_pasids(b, d->device))
			rc = hwpt_alloc(b, s->dev_id[d->device], ioas,
					IOMMU_HWPT_ALLOC_PASID,
					IOMMU_HWPT_DATA_NONE, NULL, 0, &pt,
					d->line, what);
		if (!rc)
			rc = attach(b, d->device, IONEST_NO_PASID, pt, d->line,
				    what);
		if (rc)
			return rc;
	}
	for (unsigned i = 0; i < dom->nmap; i++) {
		unsigned mi = dom->map0 + i;
		const struct mcfg_smap *mp = &b->sc->map[mi];
		struct iommu_ioas_map map = {
			.size = sizeof(map),
			.flags = IOMMU_IOAS_MAP_FIXED_IOVA |
				 IOMMU_IOAS_MAP_READABLE |
				 ((mp->perm & MCFG_PERM_W) ?
					  IOMMU_IOAS_MAP_WRITEABLE :
					  0),
			.ioas_id = ioas,
			.length = mp->size,
			.iova = mp->iova,
		};

		s->buf[mi] = xaligned_zalloc(VM_PAGE, mp->size);
		if (!s->buf[mi])
			return -ENOMEM;
		map.user_va = (uint64_t)(uintptr_t)s->buf[mi];
		rc = xioctl(s->fd, IOMMU_IOAS_MAP, &map);
		if (rc)
			return fail_op(b, mp->line, rc, what, "IOMMU_IOAS_MAP");
	}
	return 0;
}

/* ---- VMs ---- */

static uint32_t pt_prot(uint32_t perm)
{
	return PT_PROT_READ | ((perm & MCFG_PERM_W) ? PT_PROT_WRITE : 0) |
	       ((perm & MCFG_PERM_X) ? PT_PROT_EXEC : 0) |
	       ((perm & MCFG_PERM_P) ? PT_PROT_PRIV : 0);
}

/* The guest stage 1 of VM device entry @k, in the VM's RAM. */
static int build_s1(struct build *b, unsigned di, unsigned k,
		    enum vm_s1_format fmt, bool *priv, const char *what)
{
	const struct mcfg_sdev *d = &b->sc->dev[k];
	struct scen_file *s = b->s;
	int rc = vm_s1_init(&s->s1[k], &s->vm[di], fmt);

	if (rc)
		return fail(b, d->line, rc, what,
			    rc == -ENOMEM ? "no RAM left for the guest tables" :
					    NULL);
	s->s1_live[k] = true;
	*priv = false;
	for (unsigned i = 0; i < d->nmap; i++) {
		const struct mcfg_smap *mp = &b->sc->map[d->map0 + i];

		*priv |= mp->perm & MCFG_PERM_P;
		rc = vm_s1_map(&s->s1[k], mp->iova, mp->gpa, mp->size,
			       pt_prot(mp->perm));
		if (rc)
			return fail(b, mp->line, rc, what,
				    rc == -ENOMEM ? "no RAM left for the guest "
						    "tables" :
						    NULL);
	}
	return 0;
}

/* SMMUv3: one nested HWPT per device, its CD table holding every stage 1
 * of the device. */
static int build_smmu_dev(struct build *b, unsigned di, uint32_t viommu,
			  unsigned device, const char *what)
{
	const struct mcfg_sdomain *dom = &b->sc->dom[di];
	struct scen_file *s = b->s;
	struct iommu_vdevice_alloc vd = {
		.size = sizeof(vd),
		.viommu_id = viommu,
		.dev_id = s->dev_id[device],
		.virt_id = b->c->devices[device].rid,
	};
	struct iommu_hwpt_arm_smmuv3 data;
	struct vm_cdtab cdt;
	uint32_t max = 0, hwpt = 0;
	unsigned bits = 0, n = 0;
	bool rid = false, priv;
	int rc, line = 0;

	for (unsigned i = 0; i < dom->ndev; i++) {
		const struct mcfg_sdev *d = &b->sc->dev[dom->dev0 + i];

		if (d->device != device)
			continue;
		if (!line)
			line = d->line;
		if (d->pasid == IONEST_NO_PASID)
			rid = true;
		else if (d->pasid > max)
			max = d->pasid;
	}
	for (unsigned i = 0; i < dom->ndev; i++) {
		const struct mcfg_sdev *d = &b->sc->dev[dom->dev0 + i];

		if (d->device == device && d->pasid == 0 && rid)
			return fail(b, d->line, -EINVAL, what,
				    "on SMMUv3 the RID's stage 1 is CD 0: "
				    "PASID 0 is not available beside it");
	}
	while ((1u << bits) <= max)
		bits++;
	if (bits > 10)
		return fail(b, line, -EINVAL, what,
			    "the guest CD table holds PASIDs below 1024");
	rc = xioctl(s->fd, IOMMU_VDEVICE_ALLOC, &vd);
	if (rc)
		return fail_op(b, line, rc, what, "IOMMU_VDEVICE_ALLOC");
	rc = vm_cdtab_init(&cdt, &s->vm[di], max ? bits : 0);
	if (rc)
		return fail_op(b, line, rc, what, "the guest CD table");
	for (unsigned i = 0; i < dom->ndev; i++) {
		unsigned k = dom->dev0 + i;
		const struct mcfg_sdev *d = &b->sc->dev[k];

		if (d->device != device)
			continue;
		rc = build_s1(b, di, k, VM_S1_ARM64_4K, &priv, what);
		if (rc)
			return rc;
		rc = vm_cd_write(&cdt,
				 d->pasid == IONEST_NO_PASID ? 0 : d->pasid,
				 &s->s1[k], (uint16_t)++n);
		if (rc)
			return fail_op(b, d->line, rc, what, "the guest CD");
	}
	vm_cdtab_ste(&cdt,
		     !max ? VM_S1DSS_TERMINATE :
		     rid  ? VM_S1DSS_SSID0 :
			    VM_S1DSS_TERMINATE,
		     data.ste);
	rc = hwpt_alloc(b, s->dev_id[device], viommu, 0,
			IOMMU_HWPT_DATA_ARM_SMMUV3, &data, sizeof(data), &hwpt,
			line, what);
	if (!rc)
		rc = attach(b, device, IONEST_NO_PASID, hwpt, line, what);
	return rc;
}

static int build_vtd_dev(struct build *b, unsigned di, unsigned k,
			 uint32_t parent, const char *what)
{
	const struct mcfg_sdev *d = &b->sc->dev[k];
	struct scen_file *s = b->s;
	struct iommu_hwpt_vtd_s1 data;
	uint32_t hwpt = 0;
	bool priv;
	int rc = build_s1(b, di, k, VM_S1_X86_64_4L, &priv, what);

	if (rc)
		return rc;
	rc = vm_vtd_s1_data(&s->s1[k], &data);
	if (rc)
		return fail_op(b, d->line, rc, what,
			       "the guest first-stage data");
	if (priv)
		data.flags |= IOMMU_VTD_S1_SRE;
	rc = hwpt_alloc(b, s->dev_id[d->device], parent,
			uses_pasids(b, d->device) ? IOMMU_HWPT_ALLOC_PASID : 0,
			IOMMU_HWPT_DATA_VTD_S1, &data, sizeof(data), &hwpt,
			d->line, what);
	if (!rc)
		rc = attach(b, d->device, d->pasid, hwpt, d->line, what);
	return rc;
}

static int build_vm(struct build *b, unsigned di)
{
	const struct mcfg_sdomain *dom = &b->sc->dom[di];
	const struct mcfg_sdev *first = &b->sc->dev[dom->dev0];
	struct scen_file *s = b->s;
	bool smmu, pasid = false;
	uint32_t ioas = 0, parent = 0, viommu = 0;
	char what[64];
	int rc;

	snprintf(what, sizeof(what), "VM %s", dom->name);
	if (!dom->ndev)
		return 0;
	smmu = is_model(b, first->device, MCFG_SMMUV3);
	for (unsigned i = 0; i < dom->ndev; i++) {
		const struct mcfg_sdev *d = &b->sc->dev[dom->dev0 + i];

		if (!is_model(b, d->device, MCFG_SMMUV3) &&
		    !is_model(b, d->device, MCFG_VTD))
			return fail(b, d->line, -EINVAL, what,
				    "a VM's devices need an smmuv3 or vtd "
				    "IOMMU");
		if (b->c->devices[d->device].iommu_index !=
		    b->c->devices[first->device].iommu_index)
			return fail(b, d->line, -EINVAL, what,
				    "a VM's devices are behind one IOMMU (its "
				    "stage 2 is one HWPT)");
		pasid |= d->pasid != IONEST_NO_PASID;
		rc = bind(b, d->device, d->line, what);
		if (rc)
			return rc;
	}
	rc = vm_init(&s->vm[di], dom->name, dom->gpa, dom->ram);
	if (rc)
		return fail_op(b, dom->line, rc, what, "the VM RAM");
	rc = ioas_alloc(b, &ioas, dom->line, what);
	if (rc)
		return rc;
	rc = vm_ioas_map(&s->vm[di], s->fd, ioas);
	if (rc)
		return fail_op(b, dom->line, rc, what,
			       "IOMMU_IOAS_MAP of the RAM");
	rc = hwpt_alloc(b, s->dev_id[first->device], ioas,
			IOMMU_HWPT_ALLOC_NEST_PARENT |
				(!smmu && pasid ? IOMMU_HWPT_ALLOC_PASID : 0),
			IOMMU_HWPT_DATA_NONE, NULL, 0, &parent, dom->line,
			what);
	if (rc)
		return rc;
	if (smmu) {
		struct iommu_viommu_alloc va = {
			.size = sizeof(va),
			.type = IOMMU_VIOMMU_TYPE_ARM_SMMUV3,
			.dev_id = s->dev_id[first->device],
			.hwpt_id = parent,
		};

		rc = xioctl(s->fd, IOMMU_VIOMMU_ALLOC, &va);
		if (rc)
			return fail_op(b, dom->line, rc, what,
				       "IOMMU_VIOMMU_ALLOC");
		viommu = va.out_viommu_id;
	}
	for (unsigned i = 0; i < dom->ndev; i++) {
		unsigned k = dom->dev0 + i;
		const struct mcfg_sdev *d = &b->sc->dev[k];
		bool seen = false;

		if (!smmu) {
			rc = build_vtd_dev(b, di, k, parent, what);
			if (rc)
				return rc;
			continue;
		}
		/* SMMUv3: once per device, with all its entries. */
		for (unsigned j = 0; j < i; j++)
			seen |= b->sc->dev[dom->dev0 + j].device == d->device;
		if (seen)
			continue;
		rc = build_smmu_dev(b, di, viommu, d->device, what);
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- the whole scenario ---- */

/* On SMMUv3 a device's RID and PASIDs share one STE (one stream): they
 * must be in one domain. */
static int check(struct build *b)
{
	const struct mcfg_scenario *sc = b->sc;

	for (unsigned di = 0; di < sc->ndom; di++) {
		const struct mcfg_sdomain *dom = &sc->dom[di];

		for (unsigned i = 0; i < dom->ndev; i++) {
			const struct mcfg_sdev *d = &sc->dev[dom->dev0 + i];

			for (unsigned k = 0; k < sc->ndev; k++) {
				const struct mcfg_sdev *e = &sc->dev[k];

				if (e->device != d->device ||
				    (k >= dom->dev0 &&
				     k < dom->dev0 + dom->ndev))
					continue;
				if (is_model(b, d->device, MCFG_SMMUV3))
					return fail(
						b, e->line, -EINVAL, "scenario",
						"on SMMUv3 a device's RID and "
						"PASIDs are in one domain (one "
						"STE per StreamID)");
			}
		}
	}
	return 0;
}

void scen_file_free(struct scen_file *s)
{
	if (!s)
		return;
	for (unsigned i = 0; s->cdev && i < s->ndevices; i++)
		if (s->cdev[i] >= 0)
			ionest_close(s->cdev[i]);
	if (s->fd >= 0)
		ionest_close(s->fd);
	for (unsigned i = 0; s->s1 && s->s1_live && i < s->ndev; i++)
		if (s->s1_live[i])
			vm_s1_fini(&s->s1[i]);
	for (unsigned i = 0; s->vm && i < s->ndom; i++)
		vm_fini(&s->vm[i]);
	for (unsigned i = 0; s->buf && i < s->nmap; i++)
		xfree(s->buf[i]);
	xfree(s->cdev);
	xfree(s->dev_id);
	xfree(s->vm);
	xfree(s->s1);
	xfree(s->s1_live);
	xfree(s->buf);
	xfree(s);
}

int scen_file_build(const struct machine_config *c, struct ionest_machine *m,
		    struct scen_file **out, char *err, size_t errlen)
{
	static const struct mcfg_scenario none;
	struct build b = {
		.c = c,
		.sc = c->scenario ? c->scenario : &none,
		.m = m,
		.err = err,
		.errlen = errlen,
	};
	struct scen_file *s;
	unsigned n;
	int rc;

	*out = NULL;
	if (err && errlen)
		err[0] = '\0';
	s = xzalloc(sizeof(*s));
	if (!s)
		return -ENOMEM;
	b.s = s;
	s->fd = -1;
	s->ndevices = c->ndevices;
	s->ndom = b.sc->ndom;
	s->ndev = b.sc->ndev;
	s->nmap = b.sc->nmap;
	n = c->ndevices ? c->ndevices : 1;
	s->cdev = xcalloc(n, sizeof(*s->cdev));
	for (unsigned i = 0; s->cdev && i < n; i++)
		s->cdev[i] = -1;
	s->dev_id = xcalloc(n, sizeof(*s->dev_id));
	s->vm = xcalloc(s->ndom ? s->ndom : 1, sizeof(*s->vm));
	s->s1 = xcalloc(s->ndev ? s->ndev : 1, sizeof(*s->s1));
	s->s1_live = xcalloc(s->ndev ? s->ndev : 1, sizeof(*s->s1_live));
	s->buf = xcalloc(s->nmap ? s->nmap : 1, sizeof(*s->buf));
	if (!s->cdev || !s->dev_id || !s->vm || !s->s1 || !s->s1_live ||
	    !s->buf) {
		rc = -ENOMEM;
		goto out;
	}
	rc = check(&b);
	if (rc)
		goto out;
	s->fd = ionest_open(m, "/dev/iommu", O_RDWR | O_CLOEXEC);
	if (s->fd < 0) {
		rc = fail(&b, b.sc->line, -errno, "scenario",
			  "cannot open /dev/iommu");
		goto out;
	}
	for (unsigned i = 0; !rc && i < b.sc->ndom; i++)
		rc = b.sc->dom[i].vm ? build_vm(&b, i) : build_host(&b, i);
out:
	if (rc) {
		if (rc == -ENOMEM && err && errlen && !err[0])
			mcfg_error(err, errlen, c->file, b.sc->line, rc,
				   "scenario: out of memory");
		scen_file_free(s);
		return rc;
	}
	*out = s;
	return 0;
}
