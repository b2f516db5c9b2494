/* SPDX-License-Identifier: MIT */
/*
 * A guest (VM) as a VMM builds it for a scenario: guest RAM, and the
 * structures the guest writes in that RAM in the hardware's own format,
 * for the host to walk through stage 2.
 *
 * RAM is host memory standing for [gpa, gpa + len) of guest physical
 * space. The VMM makes it the guest's by IOMMU_IOAS_MAP-ing it at its GPA
 * in the VM's IOAS (vm_ioas_map); a nest-parent HWPT on that IOAS is then
 * the VM's stage 2 (GPA -> host address). A bump allocator hands out
 * zeroed, 4K-aligned GPAs from the bottom of RAM, for tables and data
 * alike; nothing is given back before vm_fini.
 *
 * Guest stage-1 tables are ordinary lib/pt tables whose memory accessor is
 * the VM's RAM (table addresses are GPAs):
 *   VM_S1_ARM64_4K   VMSAv8-64 stage 1, 4K granule, 48-bit input and
 *                    output: what an SMMUv3 CD's TTB0 points to
 *   VM_S1_X86_64_4L  x86-64 4-level paging, 48-bit: what a VT-d
 *                    first-stage pointer (iommu_hwpt_vtd_s1.pgtbl_addr)
 *                    points to
 * Stage-1 changes are plain table writes: the guest (the caller) issues
 * the invalidation, as a real guest driver must.
 *
 * SMMUv3 (spec/smmuv3.md §4, §5, §10): the guest owns a linear CD table in
 * its RAM (vm_cdtab_*); each CD (one per SubstreamID) holds TTB0 = a guest
 * stage-1 root and the guest's ASID. vm_cdtab_ste() gives the guest STE
 * words that IOMMU_HWPT_ALLOC takes as struct iommu_hwpt_arm_smmuv3.
 *
 * VT-d (spec/vtd.md §11): the guest's PASID table is not shown to the host;
 * a nested HWPT carries the first-stage root in struct iommu_hwpt_vtd_s1
 * (vm_vtd_s1_data), one HWPT per guest address space.
 *
 * Functions return 0 or a negative errno. Not thread-safe: one VM is built
 * by one thread (DMA may run concurrently against what is already built).
 */
#ifndef IONEST_SCENARIO_GUEST_H
#define IONEST_SCENARIO_GUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pt/pt.h"

struct iommu_hwpt_vtd_s1;

#define VM_PAGE 4096ull

/* ---- RAM ---- */
struct vm {
	char name[16];
	uint8_t *mem; /* host memory of the RAM (mem[0] is GPA @gpa) */
	uint64_t gpa; /* guest physical base, 4K aligned */
	size_t len; /* bytes of RAM, a multiple of 4K */
	size_t used; /* the bump allocator's high-water mark */
	bool borrowed; /* a view of another VM's RAM (vm_view) */
};

/*
 * @len bytes (a multiple of 4K, > 0) of zeroed RAM at guest physical
 * @gpa (4K aligned; gpa + len must not wrap). -EINVAL for a bad size or
 * address or a name longer than 15 characters, -ENOMEM. @name may be NULL.
 */
int vm_init(struct vm *vm, const char *name, uint64_t gpa, size_t len);
/*
 * [off, off + len) of @vm's RAM as a VM of its own, sharing the memory
 * (for a second, independent allocator over part of it). The view must
 * not outlive @vm; vm_fini on it frees nothing. -EINVAL if out of range
 * or not 4K aligned.
 */
int vm_view(struct vm *view, struct vm *vm, size_t off, size_t len);
/* Free the RAM (not a view's). Harmless on a zeroed struct, and twice. */
void vm_fini(struct vm *vm);

/* @len bytes (rounded up to 4K) of zeroed RAM: their GPA in *gpa.
 * -EINVAL for len 0, -ENOMEM when RAM is exhausted. */
int vm_alloc(struct vm *vm, size_t len, uint64_t *gpa);
/* Host pointer to [gpa, gpa + len) if it lies in the RAM, else NULL. */
void *vm_ptr(const struct vm *vm, uint64_t gpa, size_t len);
bool vm_contains(const struct vm *vm, uint64_t gpa, uint64_t len);

/* IOMMU_IOAS_MAP of the whole RAM at its GPA in @ioas of iommufd @fd
 * (fixed IOVA, readable and writeable), through ionest_ioctl. */
int vm_ioas_map(const struct vm *vm, int fd, uint32_t ioas);

/* The memory accessor of page tables that live in the RAM. */
struct pt_mem vm_pt_mem(struct vm *vm);

/* ---- Guest stage-1 tables ---- */
enum vm_s1_format {
	VM_S1_ARM64_4K,
	VM_S1_X86_64_4L,
};

/* An empty stage 1 of @fmt in @vm's RAM; its root GPA is s1->root. The
 * tables stay valid until vm_s1_fini (which returns nothing to the bump
 * allocator) or until the RAM goes. */
int vm_s1_init(struct pt *s1, struct vm *vm, enum vm_s1_format fmt);
void vm_s1_fini(struct pt *s1);
/*
 * Map [iova, iova + len) to [gpa, gpa + len) with @prot (PT_PROT_READ is
 * implied; PT_PROT_WRITE, PT_PROT_EXEC, PT_PROT_PRIV as wanted), using 4K
 * pages. All aligned to 4K; -EEXIST if anything is mapped there already.
 */
int vm_s1_map(struct pt *s1, uint64_t iova, uint64_t gpa, uint64_t len,
	      uint32_t prot);
/* Unmap [iova, iova + len); -ENOENT if nothing was mapped there. */
int vm_s1_unmap(struct pt *s1, uint64_t iova, uint64_t len);
/* The GPA @iova maps to and its PT_PERM_* (either may be NULL);
 * -ENOENT if not mapped, -EFAULT if the tables are broken. */
int vm_s1_lookup(const struct pt *s1, uint64_t iova, uint64_t *gpa,
		 uint32_t *perm);

/* ---- SMMUv3: the guest's CD table ---- */
/* STE.S1DSS: what traffic without a SubstreamID does (spec §4). */
enum vm_s1dss {
	VM_S1DSS_TERMINATE = 0,
	VM_S1DSS_BYPASS = 1, /* stage 2 only: the VM's GPA space */
	VM_S1DSS_SSID0 = 2, /* uses CD 0 */
};

struct vm_cdtab {
	struct vm *vm;
	uint64_t gpa; /* the table's base */
	unsigned s1cdmax; /* log2 of the CDs it holds (STE.S1CDMax) */
};

/* A linear table of 2^@s1cdmax CDs (all invalid) in @vm's RAM;
 * s1cdmax <= 10 (a 64K table), else -EINVAL. */
int vm_cdtab_init(struct vm_cdtab *t, struct vm *vm, unsigned s1cdmax);
/*
 * CD @ssid: valid, AArch64, 4K granule, 48-bit input (T0SZ 16) and
 * output (IPS), TTB0 = @s1's root, TTB1 walks disabled, faults recorded
 * and aborting, ASID @asid. Written as a guest does: the other words
 * first, the word holding V last. -EINVAL for an SSID beyond the table
 * or a stage 1 that is not VM_S1_ARM64_4K.
 */
int vm_cd_write(struct vm_cdtab *t, uint32_t ssid, const struct pt *s1,
		uint16_t asid);
/* Make CD @ssid invalid (V=0); -EINVAL beyond the table. */
int vm_cd_clear(struct vm_cdtab *t, uint32_t ssid);
/* GPA of CD @ssid (for a guest's own bookkeeping), 0 beyond the table. */
uint64_t vm_cd_gpa(const struct vm_cdtab *t, uint32_t ssid);
/*
 * The guest's STE words 0-1 for this CD table: V, Config = stage-1
 * translate, S1Fmt linear, S1ContextPtr, S1CDMax, @s1dss, and the
 * write-back cacheable, inner shareable CD fetch attributes. What a VMM
 * passes in struct iommu_hwpt_arm_smmuv3.
 */
void vm_cdtab_ste(const struct vm_cdtab *t, enum vm_s1dss s1dss,
		  uint64_t ste[2]);

/* ---- VT-d: the stage-1 data of a nested HWPT ---- */
/* pgtbl_addr = @s1's root, addr_width 48, no flags. @s1 must be
 * VM_S1_X86_64_4L (else -EINVAL). */
int vm_vtd_s1_data(const struct pt *s1, struct iommu_hwpt_vtd_s1 *out);

#endif
