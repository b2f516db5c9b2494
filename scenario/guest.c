// SPDX-License-Identifier: MIT
/*
 * A guest's RAM and what the guest writes in it: stage-1 tables (lib/pt
 * through an accessor on the RAM), SMMUv3 CD tables and STE words, VT-d
 * first-stage data. See guest.h.
 */
#include <errno.h>
#include <string.h>
#include <ionest/ionest.h>
#include <ionest/uapi/iommufd.h>

#include "scenario/guest.h"
#include "util/alloc.h"

#define PAGE_MASK (VM_PAGE - 1)

/* ---- RAM ---- */

int vm_init(struct vm *vm, const char *name, uint64_t gpa, size_t len)
{
	size_t align = len >= (2u << 20) ? (2u << 20) : VM_PAGE;

	memset(vm, 0, sizeof(*vm));
	if (!len || (len & PAGE_MASK) || (gpa & PAGE_MASK) ||
	    gpa + len - 1 < gpa)
		return -EINVAL;
	if (name && strlen(name) >= sizeof(vm->name))
		return -EINVAL;
	/* Large RAM 2M aligned, so a stage 2 may use blocks for it. */
	vm->mem = xaligned_zalloc(align, len);
	if (!vm->mem)
		return -ENOMEM;
	if (name)
		strcpy(vm->name, name);
	vm->gpa = gpa;
	vm->len = len;
	return 0;
}

int vm_view(struct vm *view, struct vm *vm, size_t off, size_t len)
{
	memset(view, 0, sizeof(*view));
	if (!len || (off & PAGE_MASK) || (len & PAGE_MASK) || off > vm->len ||
	    len > vm->len - off)
		return -EINVAL;
	memcpy(view->name, vm->name, sizeof(view->name));
	view->mem = vm->mem + off;
	view->gpa = vm->gpa + off;
	view->len = len;
	view->borrowed = true;
	return 0;
}

void vm_fini(struct vm *vm)
{
	if (!vm->borrowed)
		xfree(vm->mem);
	memset(vm, 0, sizeof(*vm));
}

int vm_alloc(struct vm *vm, size_t len, uint64_t *gpa)
{
	size_t off = vm->used;

	if (!len)
		return -EINVAL;
	if (len > vm->len || ((len + PAGE_MASK) & ~PAGE_MASK) > vm->len - off)
		return -ENOMEM;
	len = (len + PAGE_MASK) & ~PAGE_MASK;
	memset(vm->mem + off, 0, len);
	vm->used = off + len;
	*gpa = vm->gpa + off;
	return 0;
}

bool vm_contains(const struct vm *vm, uint64_t gpa, uint64_t len)
{
	return vm->mem && gpa >= vm->gpa && gpa - vm->gpa <= vm->len &&
	       len <= vm->len - (gpa - vm->gpa);
}

void *vm_ptr(const struct vm *vm, uint64_t gpa, size_t len)
{
	return vm_contains(vm, gpa, len) ? vm->mem + (gpa - vm->gpa) : NULL;
}

int vm_ioas_map(const struct vm *vm, int fd, uint32_t ioas)
{
	struct iommu_ioas_map m = {
		.size = sizeof(m),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = ioas,
		.user_va = (uint64_t)(uintptr_t)vm->mem,
		.length = vm->len,
		.iova = vm->gpa,
	};

	if (!vm->mem)
		return -EINVAL;
	return ionest_ioctl(fd, IOMMU_IOAS_MAP, &m) ? -errno : 0;
}

/* The RAM as table memory: a table address is a GPA. */
static void *ram_table(void *ctx, uint64_t pa, size_t size, bool write)
{
	(void)write;
	return vm_ptr(ctx, pa, size);
}

static int ram_alloc(void *ctx, size_t size, uint64_t *pa)
{
	struct vm *vm = ctx;
	size_t off = (vm->used + size - 1) & ~(size - 1);

	/* Tables are naturally aligned (a 4K table on a 4K boundary). */
	if (size < VM_PAGE || (size & (size - 1)) || off > vm->len ||
	    size > vm->len - off)
		return -ENOMEM;
	memset(vm->mem + off, 0, size);
	vm->used = off + size;
	*pa = vm->gpa + off;
	return 0;
}

static void ram_free(void *ctx, uint64_t pa, size_t size)
{
	/* The bump allocator keeps it until vm_fini. */
	(void)ctx;
	(void)pa;
	(void)size;
}

static const struct pt_mem_ops ram_ops = {
	.table = ram_table,
	.alloc = ram_alloc,
	.free = ram_free,
};

struct pt_mem vm_pt_mem(struct vm *vm)
{
	return (struct pt_mem){ .ops = &ram_ops, .ctx = vm };
}

/* ---- Stage 1 ---- */

int vm_s1_init(struct pt *s1, struct vm *vm, enum vm_s1_format fmt)
{
	struct pt_cfg cfg = {
		.granule_shift = 12,
		.ias = 48,
		.oas = 48,
		.start_level = -1,
		.pgsize_bitmap = VM_PAGE,
	};

	memset(s1, 0, sizeof(*s1));
	switch (fmt) {
	case VM_S1_ARM64_4K:
		cfg.fmt = PT_FMT_ARM_S1;
		break;
	case VM_S1_X86_64_4L:
		cfg.fmt = PT_FMT_X86_64;
		break;
	default:
		return -EINVAL;
	}
	return pt_init(s1, &cfg, vm_pt_mem(vm));
}

void vm_s1_fini(struct pt *s1)
{
	pt_destroy(s1);
}

int vm_s1_map(struct pt *s1, uint64_t iova, uint64_t gpa, uint64_t len,
	      uint32_t prot)
{
	return pt_map(s1, iova, gpa, len, prot | PT_PROT_READ, VM_PAGE);
}

int vm_s1_unmap(struct pt *s1, uint64_t iova, uint64_t len)
{
	uint64_t unmapped = 0;
	int rc = pt_unmap(s1, iova, len, 0, NULL, &unmapped);

	if (rc)
		return rc;
	return unmapped ? 0 : -ENOENT;
}

int vm_s1_lookup(const struct pt *s1, uint64_t iova, uint64_t *gpa,
		 uint32_t *perm)
{
	struct pt_walk w = { 0 };

	if (pt_walk(s1, iova, 0, &w)) {
		if (w.fault == PT_FAULT_TRANSLATION)
			return -ENOENT;
		return -EFAULT;
	}
	if (gpa)
		*gpa = w.oa;
	if (perm)
		*perm = w.perm;
	return 0;
}

/* ---- SMMUv3 CD table (spec/smmuv3.md §4, §5) ---- */

#define CD_BYTES 64u
/* CD word 0 */
#define CD0_T0SZ(v) ((uint64_t)(v) << 0)
#define CD0_IR0_WBRA (1ull << 8)
#define CD0_OR0_WBRA (1ull << 10)
#define CD0_SH0_IS (3ull << 12)
#define CD0_EPD1 (1ull << 30)
#define CD0_V (1ull << 31)
#define CD0_IPS(v) ((uint64_t)(v) << 32)
#define CD0_AA64 (1ull << 41)
#define CD0_R (1ull << 45)
#define CD0_A (1ull << 46)
#define CD0_ASID(v) ((uint64_t)(v) << 48)
#define CD1_TTB0_MASK 0x000ffffffffffff0ull
#define IPS_48 5u
/* STE words 0-1 */
#define STE0_V (1ull << 0)
#define STE0_CFG_S1 (5ull << 1)
#define STE0_CTXPTR_MASK 0x000fffffffffffc0ull
#define STE0_S1CDMAX(v) ((uint64_t)(v) << 59)
#define STE1_S1DSS(v) ((uint64_t)(v)&3)
#define STE1_S1CIR_WBRA (1ull << 2)
#define STE1_S1COR_WBRA (1ull << 4)
#define STE1_S1CSH_IS (3ull << 6)

int vm_cdtab_init(struct vm_cdtab *t, struct vm *vm, unsigned s1cdmax)
{
	memset(t, 0, sizeof(*t));
	if (s1cdmax > 10)
		return -EINVAL;
	t->vm = vm;
	t->s1cdmax = s1cdmax;
	return vm_alloc(vm, (size_t)CD_BYTES << s1cdmax, &t->gpa);
}

uint64_t vm_cd_gpa(const struct vm_cdtab *t, uint32_t ssid)
{
	if (!t->vm || ssid >> t->s1cdmax)
		return 0;
	return t->gpa + (uint64_t)ssid * CD_BYTES;
}

static uint64_t *cd_ptr(const struct vm_cdtab *t, uint32_t ssid)
{
	uint64_t gpa = vm_cd_gpa(t, ssid);

	return gpa ? vm_ptr(t->vm, gpa, CD_BYTES) : NULL;
}

int vm_cd_write(struct vm_cdtab *t, uint32_t ssid, const struct pt *s1,
		uint16_t asid)
{
	uint64_t *cd = cd_ptr(t, ssid);

	if (!cd || s1->cfg.fmt != PT_FMT_ARM_S1 ||
	    s1->cfg.granule_shift != 12 || s1->cfg.ias != 48)
		return -EINVAL;
	/* Invalid first, the rest, then V: the SMMU never sees half a CD. */
	__atomic_store_n(&cd[0], 0, __ATOMIC_RELEASE);
	__atomic_store_n(&cd[1], s1->root & CD1_TTB0_MASK, __ATOMIC_RELAXED);
	__atomic_store_n(&cd[2], 0, __ATOMIC_RELAXED);
	__atomic_store_n(&cd[3], 0xff, __ATOMIC_RELAXED); /* MAIR: WB */
	for (unsigned i = 4; i < CD_BYTES / 8; i++)
		__atomic_store_n(&cd[i], 0, __ATOMIC_RELAXED);
	__atomic_store_n(&cd[0],
			 CD0_T0SZ(64 - 48) | CD0_IR0_WBRA | CD0_OR0_WBRA |
				 CD0_SH0_IS | CD0_EPD1 | CD0_V |
				 CD0_IPS(IPS_48) | CD0_AA64 | CD0_R | CD0_A |
				 CD0_ASID(asid),
			 __ATOMIC_RELEASE);
	return 0;
}

int vm_cd_clear(struct vm_cdtab *t, uint32_t ssid)
{
	uint64_t *cd = cd_ptr(t, ssid);

	if (!cd)
		return -EINVAL;
	__atomic_store_n(&cd[0],
			 __atomic_load_n(&cd[0], __ATOMIC_RELAXED) & ~CD0_V,
			 __ATOMIC_RELEASE);
	return 0;
}

void vm_cdtab_ste(const struct vm_cdtab *t, enum vm_s1dss s1dss,
		  uint64_t ste[2])
{
	ste[0] = STE0_V | STE0_CFG_S1 | (t->gpa & STE0_CTXPTR_MASK) |
		 STE0_S1CDMAX(t->s1cdmax);
	ste[1] = STE1_S1DSS(s1dss) | STE1_S1CIR_WBRA | STE1_S1COR_WBRA |
		 STE1_S1CSH_IS;
}

/* ---- VT-d (spec/vtd.md §11) ---- */

int vm_vtd_s1_data(const struct pt *s1, struct iommu_hwpt_vtd_s1 *out)
{
	if (s1->cfg.fmt != PT_FMT_X86_64 || s1->cfg.ias != 48)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->pgtbl_addr = s1->root;
	out->addr_width = 48;
	return 0;
}
