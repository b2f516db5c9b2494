// SPDX-License-Identifier: MIT
/* The VT-d driver test fixture (see vtd_fixture.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <ionest/ionest.h>

#include "vtd_fixture.h"

void vfx_setup(struct fx *f, const struct ionest_vtd_config *cfg, int ndev,
	       const struct vfx_dev *devs)
{
	struct ionest_hw *hw;

	assert_true(ndev <= FX_MAX_DEV);
	memset(f, 0, sizeof(*f));
	f->m = ionest_machine_new();
	assert_non_null(f->m);
	hw = ionest_vtd_new(cfg);
	assert_non_null(hw);
	assert_int_equal(ionest_machine_add_iommu(f->m, "iommu0", hw), 0);
	for (int i = 0; i < ndev; i++) {
		struct ionest_device_config dc = {
			.name = "fn",
			.iommu = "iommu0",
			.rid = devs ? devs[i].rid : 0x100 + (uint32_t)i,
			.pasid_bits = devs ? devs[i].pasid_bits : 8,
			.ats = devs ? devs[i].ats : true,
			.pri = devs ? devs[i].pri : false,
			.pasid_exec = true,
		};

		f->dev[i] = ionest_machine_add_device(f->m, &dc);
		assert_int_equal(f->dev[i], i);
		f->cdev[i] = -1;
	}
	f->ndev = ndev;
	f->fd = ionest_open(f->m, "/dev/iommu", O_RDWR | O_CLOEXEC);
	assert_true(f->fd >= 0);
}

struct ionest_hw *vfx_hw(struct fx *f)
{
	struct ionest_hw *hw = ionest_machine_iommu(f->m, "iommu0");

	assert_non_null(hw);
	return hw;
}

uint32_t vfx_rd32(struct fx *f, uint64_t off)
{
	uint64_t v = 0;

	assert_int_equal(ionest_hw_mmio_read(vfx_hw(f), off, 4, &v), 0);
	return (uint32_t)v;
}

uint64_t vfx_rd64(struct fx *f, uint64_t off)
{
	uint64_t v = 0;

	assert_int_equal(ionest_hw_mmio_read(vfx_hw(f), off, 8, &v), 0);
	return v;
}

uint64_t vfx_drv_counter(struct fx *f, const char *name)
{
	char comp[64];
	uint64_t v = 0;

	snprintf(comp, sizeof(comp), "%s-drv", ionest_hw_name(vfx_hw(f)));
	assert_int_equal(ionest_counter_get(comp, name, &v), 0);
	return v;
}

uint64_t vfx_hw_counter(struct fx *f, const char *name)
{
	uint64_t v = 0;

	assert_int_equal(
		ionest_counter_get(ionest_hw_name(vfx_hw(f)), name, &v), 0);
	return v;
}

void vfx_check_clean(struct fx *f)
{
	uint32_t fsts = vfx_rd32(f, VTD_REG_FSTS);

	assert_int_equal(fsts & (VTD_FSTS_IQE | VTD_FSTS_ITE | VTD_FSTS_ICE |
				 VTD_FSTS_PFO | VTD_FSTS_PPF),
			 0);
	assert_int_equal(vfx_drv_counter(f, "iq_error"), 0);
}

void vfx_teardown(struct fx *f)
{
	vfx_check_clean(f);
	fx_teardown(f);
}

const uint64_t *vfx_ce(struct fx *f, uint32_t rid)
{
	uint64_t rta = vfx_rd64(f, VTD_REG_RTADDR) & VTD_RTADDR_RTA_MASK;
	const uint64_t *root = (const uint64_t *)(uintptr_t)rta;
	unsigned bus = rid >> 8, devfn = rid & 0xff;
	uint64_t re = root[2 * bus + (devfn >= 128)];

	if (!(re & VTD_RE_LP))
		return NULL;
	return (const uint64_t *)(uintptr_t)(re & VTD_RE_CTP_MASK) +
	       4 * (devfn & 0x7f);
}

const uint64_t *vfx_pe(struct fx *f, uint32_t rid, uint32_t pasid)
{
	const uint64_t *ce = vfx_ce(f, rid), *pdir;
	uint64_t de;

	if (!ce || !(ce[0] & VTD_CE_P))
		return NULL;
	pdir = (const uint64_t *)(uintptr_t)(ce[0] & VTD_CE_PDIR_MASK);
	de = pdir[pasid >> 6];
	if (!(de & VTD_PDE_P))
		return NULL;
	return (const uint64_t *)(uintptr_t)(de & VTD_PDE_PTP_MASK) +
	       8 * (pasid & 63);
}

uint32_t vfx_ioas_map(struct fx *f, void *mem, uint64_t len, uint64_t iova)
{
	uint32_t ioas = fx_ioas(f->fd);

	assert_int_equal(fx_map_fixed(f->fd, ioas, mem, len, iova), 0);
	return ioas;
}

int vfx_dma(struct fx *f, int i, uint32_t pasid, uint64_t iova, void *buf,
	    size_t len, int dir)
{
	return ionest_device_dma(f->m, f->dev[i], pasid, iova, buf, len, dir);
}

struct ionest_dma_fault vfx_last_fault(struct fx *f, int i)
{
	struct ionest_dma_fault flt;

	assert_int_equal(ionest_device_last_fault(f->m, f->dev[i], &flt), 0);
	return flt;
}
