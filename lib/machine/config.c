// SPDX-License-Identifier: MIT
/*
 * Machine files: building a machine from its parsed description, and the
 * public loaders ionest_machine_load() / ionest_machine_load_env().
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "machine/config.h"
#include "machine/machine.h"

int mcfg_error(char *err, size_t errlen, const char *file, int line, int rc,
	       const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!err || !errlen)
		return rc;
	if (line > 0)
		n = snprintf(err, errlen, "%s:%d: ", file, line);
	else
		n = snprintf(err, errlen, "%s: ", file);
	if (n < 0 || (size_t)n >= errlen)
		return rc;
	va_start(ap, fmt);
	vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return rc;
}

const struct mcfg_device *machine_config_vfio(const struct machine_config *c,
					      int n)
{
	for (unsigned i = 0; c && i < c->ndevices; i++) {
		if (c->devices[i].vfio == n)
			return &c->devices[i];
	}
	return NULL;
}

const struct mcfg_device *machine_config_device(const struct machine_config *c,
						const char *name)
{
	unsigned long n;
	char *end;

	if (!c || !name || !*name)
		return NULL;
	for (unsigned i = 0; i < c->ndevices; i++) {
		if (!strcmp(c->devices[i].name, name))
			return &c->devices[i];
	}
	if (strncmp(name, "vfio", 4) || name[4] < '0' || name[4] > '9')
		return NULL;
	n = strtoul(name + 4, &end, 10);
	if (*end || n >= c->ndevices)
		return NULL;
	return machine_config_vfio(c, (int)n);
}

static struct ionest_hw *new_hw(const struct mcfg_iommu *io)
{
	switch (io->model) {
	case MCFG_SMMUV3:
		return ionest_smmuv3_new(&io->cfg.smmuv3);
	case MCFG_VTD:
		return ionest_vtd_new(&io->cfg.vtd);
	default:
		return ionest_mock_iommu_new(&io->cfg.mock);
	}
}

static int add_iommu(const struct machine_config *c, unsigned i,
		     struct ionest_machine *m, char *err, size_t errlen)
{
	const struct mcfg_iommu *io = &c->iommus[i];
	const char *model = mcfg_model_name(io->model);
	struct ionest_hw *hw;
	int rc;

	/* The models answer NULL both for values they refuse and for want
	 * of memory: a value they refuse is refused again. */
	hw = new_hw(io);
	if (!hw)
		hw = new_hw(io);
	if (!hw) {
		return mcfg_error(
			err, errlen, c->file,
			io->nover ? io->config_line : io->line, -EINVAL,
			"iommus[%u].config: the %s model cannot be built with these values",
			i, model);
	}
	if (io->nesting == MCFG_NEST_HW && !ionest_hw_can_nest(hw)) {
		ionest_hw_free(hw);
		return mcfg_error(
			err, errlen, c->file, io->line, -EINVAL,
			"iommus[%u].nesting: hw nesting needs a part that walks both stages (this %s cannot)",
			i, model);
	}
	rc = ionest_hw_set_name(hw, io->name);
	if (!rc)
		rc = ionest_machine_add_iommu(m, io->name, hw);
	if (!rc) {
		/* The instance now owns @hw; a refused mode was caught above.
		 */
		rc = ionest_machine_set_nesting(
			m, io->name, (enum ionest_nesting)io->nesting);
		if (rc)
			return mcfg_error(err, errlen, c->file, io->line, rc,
					  "iommus[%u].nesting: refused (%s)", i,
					  strerror(-rc));
	}
	if (rc) {
		ionest_hw_free(hw);
		if (rc == -ENODEV)
			return mcfg_error(
				err, errlen, c->file, io->line, rc,
				"iommus[%u].model: this build has no %s driver",
				i, model);
		if (rc != -ENOMEM)
			return mcfg_error(err, errlen, c->file, io->line, rc,
					  "iommus[%u]: cannot add it (%s)", i,
					  strerror(-rc));
	}
	return rc;
}

static int add_device(const struct machine_config *c, int n,
		      struct ionest_machine *m, char *err, size_t errlen)
{
	const struct mcfg_device *d = machine_config_vfio(c, n);
	struct ionest_device_config dc = { 0 };
	unsigned i;
	int rc;

	if (!d)
		return -EINVAL; /* the parser makes them dense */
	i = (unsigned)(d - c->devices);
	dc.name = d->name[0] ? d->name : NULL;
	dc.iommu = d->iommu;
	dc.rid = d->rid;
	dc.pasid_bits = d->pasid_bits;
	dc.ats = d->ats;
	dc.pri = d->pri;
	dc.pasid_exec = d->pasid_exec;
	dc.pasid_priv = d->pasid_priv;
	rc = ionest_machine_add_device(m, &dc);
	if (rc == n)
		return 0;
	if (rc >= 0)
		return mcfg_error(err, errlen, c->file, d->line, -EIO,
				  "devices[%u]: became vfio%d, not vfio%d", i,
				  rc, n);
	if (rc == -ENOMEM)
		return rc;
	if (rc == -EINVAL)
		return mcfg_error(
			err, errlen, c->file, d->rid_line, rc,
			"devices[%u]: the %s driver refused RID 0x%04x (beyond what the IOMMU decodes?)",
			i, mcfg_model_name(c->iommus[d->iommu_index].model),
			d->rid);
	return mcfg_error(err, errlen, c->file, d->line, rc,
			  "devices[%u]: cannot add it (%s)", i, strerror(-rc));
}

int machine_config_build(const struct machine_config *c,
			 struct ionest_machine **out, char *err, size_t errlen)
{
	struct ionest_machine *m;
	int rc = 0;

	*out = NULL;
	if (err && errlen)
		err[0] = '\0';
	if (!c)
		return -EINVAL;
	m = ionest_machine_new();
	if (!m)
		return -ENOMEM;
	for (unsigned i = 0; i < c->niommus && !rc; i++)
		rc = add_iommu(c, i, m, err, errlen);
	for (unsigned n = 0; n < c->ndevices && !rc; n++)
		rc = add_device(c, (int)n, m, err, errlen);
	if (rc) {
		ionest_machine_free(m);
		if (rc == -ENOMEM)
			mcfg_error(err, errlen, c->file, 0, rc,
				   "out of memory building the machine");
		return rc;
	}
	*out = m;
	return 0;
}

IONEST_API struct ionest_machine *ionest_machine_load(const char *path,
						      char *err, size_t errlen)
{
	struct machine_config *c;
	struct ionest_machine *m;
	int rc;

	if (err && errlen)
		err[0] = '\0';
	if (!path) {
		errno = EINVAL;
		return NULL;
	}
	rc = machine_config_load(path, &c, err, errlen);
	if (!rc) {
		rc = machine_config_build(c, &m, err, errlen);
		machine_config_free(c);
	}
	if (rc) {
		if (rc == -ENOMEM && err && errlen && !err[0])
			mcfg_error(err, errlen, path, 0, rc, "out of memory");
		errno = -rc;
		return NULL;
	}
	return m;
}

IONEST_API struct ionest_machine *ionest_machine_load_env(char *err,
							  size_t errlen)
{
	const char *path = getenv("IONEST_CONFIG");

	if (!path || !*path) {
		if (err && errlen)
			snprintf(
				err, errlen,
				"IONEST_CONFIG is not set (it names the machine file)");
		errno = ENOENT;
		return NULL;
	}
	return ionest_machine_load(path, err, errlen);
}
