// SPDX-License-Identifier: MIT
/* Machines: IOMMUs, PCI functions, and the device paths of ionest_open. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dev/vfio_pci.h"
#include "machine/machine.h"
#include "util/alloc.h"

IONEST_API struct ionest_machine *ionest_machine_new(void)
{
	/* Aligned: the DMA contexts inside (machine_dma) are. */
	struct ionest_machine *m = xaligned_zalloc(64, sizeof(*m));

	if (m) {
		pthread_mutex_init(&m->lock, NULL);
		pthread_mutex_init(&m->msi_lock, NULL);
	}
	return m;
}

IONEST_API void ionest_machine_free(struct ionest_machine *m)
{
	if (!m)
		return;
	for (int i = 0; i < m->ndevs; i++) {
		struct machine_device *d = machine_device(m, i);

		iommu_dev_release(&d->dev);
		vfio_device_fini(&d->vdev);
		pthread_mutex_destroy(&d->fault_lock);
		dev_atc_fini(&d->atc);
		xfree(d);
	}
	for (unsigned i = 0; i < MACHINE_DEV_CHUNKS; i++)
		xfree(m->chunks[i]);
	for (unsigned i = 0; i < m->niommus; i++) {
		iommu_inst_destroy(m->iommus[i]->inst);
		xfree(m->iommus[i]);
	}
	xfree(m->iommus);
	pthread_mutex_destroy(&m->msi_lock);
	pthread_mutex_destroy(&m->lock);
	xfree(m);
}

static struct machine_iommu *find_iommu(struct ionest_machine *m,
					const char *name)
{
	for (unsigned i = 0; i < m->niommus; i++) {
		if (!strcmp(m->iommus[i]->name, name))
			return m->iommus[i];
	}
	return NULL;
}

IONEST_API int ionest_machine_add_iommu(struct ionest_machine *m,
					const char *name, struct ionest_hw *hw)
{
	struct machine_iommu *mi;
	int rc;

	if (!m || !hw || !name || !*name || strlen(name) >= sizeof(mi->name))
		return -EINVAL;
	pthread_mutex_lock(&m->lock);
	if (find_iommu(m, name)) {
		rc = -EEXIST;
		goto out;
	}
	if (m->niommus == m->iommu_cap) {
		unsigned ncap = m->iommu_cap ? m->iommu_cap * 2 : 4;
		struct machine_iommu **n =
			xrealloc(m->iommus, ncap * sizeof(*n));

		if (!n) {
			rc = -ENOMEM;
			goto out;
		}
		m->iommus = n;
		m->iommu_cap = ncap;
	}
	mi = xzalloc(sizeof(*mi));
	if (!mi) {
		rc = -ENOMEM;
		goto out;
	}
	snprintf(mi->name, sizeof(mi->name), "%s", name);
	rc = iommu_inst_create(hw, name, &mi->inst);
	if (rc) {
		xfree(mi);
		goto out;
	}
	m->iommus[m->niommus++] = mi;
out:
	pthread_mutex_unlock(&m->lock);
	return rc;
}

IONEST_API struct ionest_hw *ionest_machine_iommu(struct ionest_machine *m,
						  const char *name)
{
	struct machine_iommu *mi;

	if (!m || !name)
		return NULL;
	pthread_mutex_lock(&m->lock);
	mi = find_iommu(m, name);
	pthread_mutex_unlock(&m->lock);
	return mi ? mi->inst->hw : NULL;
}

IONEST_API int ionest_machine_set_nesting(struct ionest_machine *m,
					  const char *iommu,
					  enum ionest_nesting mode)
{
	struct machine_iommu *mi;
	int rc;

	if (!m || !iommu)
		return -EINVAL;
	pthread_mutex_lock(&m->lock);
	mi = find_iommu(m, iommu);
	rc = mi ? iommu_inst_set_nesting(mi->inst, (int)mode) : -ENOENT;
	pthread_mutex_unlock(&m->lock);
	return rc;
}

IONEST_API int ionest_machine_nesting(struct ionest_machine *m,
				      const char *iommu)
{
	struct machine_iommu *mi;
	int rc;

	if (!m || !iommu)
		return -EINVAL;
	pthread_mutex_lock(&m->lock);
	mi = find_iommu(m, iommu);
	rc = mi ? mi->inst->nesting : -ENOENT;
	pthread_mutex_unlock(&m->lock);
	return rc;
}

IONEST_API int ionest_machine_add_device(struct ionest_machine *m,
					 const struct ionest_device_config *cfg)
{
	struct machine_device *d;
	struct machine_iommu *mi;
	int rc, idx;

	if (!m || !cfg || !cfg->iommu || cfg->pasid_bits > 20)
		return -EINVAL;
	pthread_mutex_lock(&m->lock);
	mi = find_iommu(m, cfg->iommu);
	if (!mi) {
		rc = -ENOENT;
		goto out;
	}
	idx = m->ndevs;
	if (idx >= MACHINE_DEV_CHUNKS * MACHINE_DEV_CHUNK) {
		rc = -ENOSPC;
		goto out;
	}
	if (!m->chunks[idx / MACHINE_DEV_CHUNK]) {
		m->chunks[idx / MACHINE_DEV_CHUNK] =
			xcalloc(MACHINE_DEV_CHUNK, sizeof(void *));
		if (!m->chunks[idx / MACHINE_DEV_CHUNK]) {
			rc = -ENOMEM;
			goto out;
		}
	}
	/* Aligned: its DMA context (machine_dma) is. */
	d = xaligned_zalloc(64, sizeof(*d));
	if (!d) {
		rc = -ENOMEM;
		goto out;
	}
	d->index = idx;
	d->machine = m;
	d->cfg = *cfg;
	snprintf(d->name, sizeof(d->name), "%s", cfg->name ? cfg->name : "");
	d->cfg.name = d->name;
	d->cfg.iommu = mi->name;
	d->iommu = mi;
	d->dev.rid = cfg->rid;
	d->dev.pasid_bits = cfg->pasid_bits;
	d->dev.ats = cfg->ats;
	d->dev.pri = cfg->pri;
	d->dev.pasid_exec = cfg->pasid_exec;
	d->dev.pasid_priv = cfg->pasid_priv;
	dev_atc_init(&d->atc);
	if (cfg->ats)
		d->dev.atc_inv = dev_atc_iommu_inv;
	rc = iommu_dev_probe(mi->inst, &d->dev);
	if (rc) {
		dev_atc_fini(&d->atc);
		xfree(d);
		goto out;
	}
	machine_dma_init(m, d);
	pthread_mutex_init(&d->fault_lock, NULL);
	d->fault.pasid = IONEST_NO_PASID;
	vfio_device_init(&d->vdev, &d->dev);
	d->vdev.region_ops = &vfio_pci_region_ops;
	m->chunks[idx / MACHINE_DEV_CHUNK][idx % MACHINE_DEV_CHUNK] = d;
	__atomic_store_n(&m->ndevs, idx + 1, __ATOMIC_RELEASE);
	rc = idx;
out:
	pthread_mutex_unlock(&m->lock);
	return rc;
}

/* "/dev/vfio/devices/vfioN": N in decimal, nothing after it. */
static int parse_vfio_index(const char *path)
{
	static const char prefix[] = "/dev/vfio/devices/vfio";
	const char *p = path + sizeof(prefix) - 1;
	long v = 0;

	if (strncmp(path, prefix, sizeof(prefix) - 1) || !*p)
		return -1;
	if (*p == '0' && p[1])
		return -1;
	for (; *p; p++) {
		if (*p < '0' || *p > '9' || v > 1000000)
			return -1;
		v = v * 10 + (*p - '0');
	}
	return (int)v;
}

IONEST_API int ionest_open(struct ionest_machine *m, const char *path,
			   int flags)
{
	struct machine_device *d;
	int rc;

	if (!path) {
		errno = EFAULT;
		return -1;
	}
	if (!strcmp(path, "/dev/iommu"))
		rc = uapi_iommufd_open(false, flags);
	else if (!strcmp(path, "/dev/vfio/vfio"))
		rc = uapi_iommufd_open(true, flags);
	else if ((d = machine_device(m, parse_vfio_index(path))))
		rc = uapi_vfio_open(&d->vdev, flags);
	else
		rc = -ENOENT;
	if (rc < 0) {
		errno = -rc;
		return -1;
	}
	return rc;
}
